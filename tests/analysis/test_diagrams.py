"""``analysis.diagrams`` and ``topo graph``: journeys as Mermaid flowcharts and Graphviz dot graphs.

Snapshots: ``tests/snapshots/graph/NAME.mmd`` and ``NAME.dot`` are the expected drawings of
``small.yaml`` beside them and of ``journeys/knowledge-club.yaml``. Run with
``TOPO_UPDATE_GOLDEN=1`` to rewrite them after a deliberate change, then review the diff.

The behaviour tests read the output back with the small parsers below, which accept only the
lines the renderers are meant to write, so a label that could break Mermaid's or Graphviz's
parser fails here too. With Graphviz installed, ``dot`` itself reads every dot drawing.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import JOURNEY_FILES, ROOT, TESTS, dedent
from topo import Journey, UsageError, load_journey
from topo.analysis.diagrams import (
    dot,
    dot_quote,
    mermaid,
    mermaid_id,
    mermaid_text,
    reminder_edges,
    reminder_lines,
    render,
)
from topo.cli.commands import main
from topo.journey.model import SLUG_PATTERN, Reminder

SNAPSHOTS = TESTS / "snapshots" / "graph"
SMALL = SNAPSHOTS / "small.yaml"
KNOWLEDGE_CLUB = ROOT / "journeys" / "knowledge-club.yaml"
SHIPPED = JOURNEY_FILES
SUFFIXES = {"mermaid": "mmd", "dot": "dot"}

TRICKY = dedent(
    r"""
    topo: 1
    journey: tricky
    version: 1
    title: 'A "tricky" journey \ with | # and <b>html</b>'
    owners:
      vip-desk: {title: VIP desk}
    events:
      purchase:
        fields:
          amount: {type: float, min: 0}
          note: {type: str, required: false}
      quit: {}
    metrics:
      spend: {sum: purchase.amount}
    nodes:
      start: {kind: start, owner: vip-desk}
      high-value: {kind: checkpoint, owner: vip-desk}
      high_value: {kind: checkpoint, owner: vip-desk}
      a--b: {kind: peak, owner: vip-desk}
      end: {kind: exit, owner: vip-desk}
    moves:
      - from: start
        to: high-value
        on: purchase
        when: |-
          event.note in ["say \"hi\"", 'a|b', '#quot; #35;', '<br/>', '[x]{y}(z)', 'c:d;']
          and event.note not in ['`e`', '&amp;', 'back\\slash', 'style:#1;', '%%']
      - {from: high-value, to: high_value, on: purchase, when: "spend >= 10"}
      - {from: high_value, to: a--b, on: purchase, when: "spend >= 100"}
      - {id: review, from: a--b, to: high_value, after: 2w, since: purchase}
      - {from: [start, high-value, high_value, a--b], to: end, on: quit}
    """
)
"""Node ids that are Mermaid keywords or look like arrows, and a guard full of characters that
mean something to Mermaid, HTML or dot; written over two lines."""

TRICKY_GUARD = (
    "when event.note in [\"say \\\"hi\\\"\", 'a|b', '#quot; #35;', '<br/>', '[x]{y}(z)', 'c:d;']",
    "and event.note not in ['`e`', '&amp;', 'back\\\\slash', 'style:#1;', '%%']",
)


@pytest.fixture
def tricky(tmp_path: Path) -> Journey:
    """The TRICKY journey, loaded."""
    path = tmp_path / "tricky.yaml"
    path.write_text(TRICKY, encoding="utf-8")
    return load_journey(path)


@pytest.fixture
def small() -> Journey:
    """The snapshot journey ``small.yaml``, loaded."""
    return load_journey(SMALL)


def expected_edges(journey: Journey) -> list[tuple[str, str]]:
    """(source, target) of every move edge a drawing must have: one per move and source node."""
    return [(source, move.to) for move in journey.moves for source in move.from_]


def expected_reminders(journey: Journey) -> list[tuple[str, str]]:
    """(node, target) of every reminder edge: one per reminder and node it is at, toward its
    ``toward`` or, ahead of a timer move, that move's target."""
    targets = {move.id: move.to for move in journey.moves}
    return [
        (node, reminder.toward or targets[reminder.ahead_of])
        for reminder in journey.reminders
        for node in reminder.at
    ]


def node_label(journey: Journey, node_id: str) -> str:
    """What a node's label must say: its id, its owner, and what entering it grants."""
    node = journey.nodes[node_id]
    grants = f"\n+ {', '.join(node.on_enter)}" if node.on_enter else ""
    return f"{node_id}\n({node.owner}){grants}"


# -- Reading Mermaid back --------------------------------------------------------------------

MERMAID_ID = r"n_[A-Za-z0-9_]+"
MERMAID_LABEL = r'"((?:[^"#|<>&`:\n]|#\w+;|<br/>)*)"'
MERMAID_SHAPES = {"([": "])", "(": ")", "{{": "}}", "[": "]"}
MERMAID_NODE = re.compile(
    rf"^  ({MERMAID_ID})(\(\[|\(|\{{\{{|\[){MERMAID_LABEL}(\]\)|\)|\}}\}}|\])$"
)
MERMAID_EDGE = re.compile(
    rf"^  ({MERMAID_ID}) (-->|-\.->|-\.-o)\|{MERMAID_LABEL}\| ({MERMAID_ID})$"
)
MERMAID_CLASS_DEF = re.compile(r"^  classDef (\w+) [\w#:,. -]+$")
MERMAID_LINK_STYLE = re.compile(r"^  linkStyle (\d+(?:,\d+)*) ([\w#:,. -]+)$")
REMINDER = "-.-o"
"""The Mermaid arrow of a reminder: dotted, with a round head."""
MERMAID_CLASS = re.compile(rf"^  class ({MERMAID_ID}(?:,{MERMAID_ID})*) (\w+)$")


@dataclass
class Flowchart:
    """What a Mermaid drawing says: nodes (shape, label), edges, class of each node."""

    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)
    link_styles: dict[int, str] = field(default_factory=dict)

    def moves(self) -> list[tuple[str, str, str, str]]:
        return [edge for edge in self.edges if edge[1] != REMINDER]

    def reminders(self) -> list[tuple[str, str, str, str]]:
        return [edge for edge in self.edges if edge[1] == REMINDER]


def decode_mermaid(label: str) -> str:
    """The text a Mermaid label shows: entities decoded, ``<br/>`` as a line break."""
    text = re.sub(r"#(\d+);", r"&#\1;", label.replace("<br/>", "\n"))
    return html.unescape(re.sub(r"#([A-Za-z]\w*);", r"&\1;", text))


def parse_mermaid(text: str) -> Flowchart:
    """The flowchart, or an AssertionError naming the first line the renderer should not write."""
    lines = text.split("\n")
    assert lines[0] == "flowchart LR" and lines[-1] == "", "a flowchart LR ending with a newline"
    chart = Flowchart()
    for line in lines[1:-1]:
        if node := MERMAID_NODE.match(line):
            name, opening, label, closing = node.groups()
            assert MERMAID_SHAPES[opening] == closing, line
            assert name not in chart.nodes, f"{name} defined twice"
            chart.nodes[name] = (opening, decode_mermaid(label))
        elif edge := MERMAID_EDGE.match(line):
            source, arrow, label, target = edge.groups()
            chart.edges.append((source, arrow, decode_mermaid(label), target))
        elif css := MERMAID_CLASS.match(line):
            chart.classes.update(dict.fromkeys(css.group(1).split(","), css.group(2)))
        elif styled := MERMAID_LINK_STYLE.match(line):
            numbers = [int(n) for n in styled.group(1).split(",")]
            assert all(n < len(chart.edges) for n in numbers), f"no such edge: {line}"
            chart.link_styles.update(dict.fromkeys(numbers, styled.group(2)))
        else:
            assert MERMAID_CLASS_DEF.match(line) or line.startswith("  %% "), line
    assert {s for s, *_ in chart.edges} | {t for *_, t in chart.edges} <= set(chart.nodes)
    return chart


# -- Reading dot back ------------------------------------------------------------------------

DOT_STRING = r'"((?:[^"\\\n]|\\.)*)"'
DOT_ATTRIBUTES = rf"\[((?:\w+={DOT_STRING}(?:, )?)*)\];"
DOT_NODE = re.compile(rf"^  {DOT_STRING} {DOT_ATTRIBUTES}$")
DOT_EDGE = re.compile(rf"^  {DOT_STRING} -> {DOT_STRING} {DOT_ATTRIBUTES}$")
DOT_DEFAULTS = re.compile(rf"^  (?:graph|node|edge) {DOT_ATTRIBUTES}$")


@dataclass
class Digraph:
    """What a dot drawing says: nodes and edges with their attributes, decoded."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def moves(self) -> list[tuple[str, str, dict[str, str]]]:
        return [edge for edge in self.edges if edge[2].get("style") != "dotted"]

    def reminders(self) -> list[tuple[str, str, dict[str, str]]]:
        return [edge for edge in self.edges if edge[2].get("style") == "dotted"]


def decode_dot(text: str) -> str:
    r"""A quoted dot string's text, with ``\n`` as a line break."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def dot_attributes(text: str) -> dict[str, str]:
    return {m[1]: decode_dot(m[2]) for m in re.finditer(rf"(\w+)={DOT_STRING}", text)}


def parse_dot(text: str) -> Digraph:
    """The digraph, or an AssertionError naming the first line the renderer should not write."""
    lines = text.split("\n")
    assert re.fullmatch(rf"digraph {DOT_STRING} \{{", lines[0]), lines[0]
    assert lines[-2:] == ["}", ""], "a closing brace and a newline"
    graph = Digraph()
    for line in lines[1:-2]:
        if node := DOT_NODE.match(line):
            graph.nodes[decode_dot(node[1])] = dot_attributes(node[2])
        elif edge := DOT_EDGE.match(line):
            graph.edges.append((decode_dot(edge[1]), decode_dot(edge[2]), dot_attributes(edge[3])))
        else:
            assert DOT_DEFAULTS.match(line), line
    return graph


def graphviz_json(source: str) -> dict[str, object]:
    """Graphviz's own reading of a dot drawing (``dot -Tjson``); fails on any complaint."""
    done = subprocess.run(
        ["dot", "-Tjson"], input=source, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    document: dict[str, object] = json.loads(done.stdout)
    return document


needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


# -- Tests -----------------------------------------------------------------------------------


class TestRender:
    """``render`` picks the drawing by format name."""

    def test_mermaid(self, small: Journey) -> None:
        """``"mermaid"`` is the Mermaid flowchart."""
        assert render(small, "mermaid") == mermaid(small)

    def test_dot(self, small: Journey) -> None:
        """``"dot"`` is the Graphviz digraph."""
        assert render(small, "dot") == dot(small)

    def test_unknown_format(self, small: Journey) -> None:
        """Another name is a usage error that lists the formats."""
        with pytest.raises(UsageError, match="'svg'; choose one of dot, mermaid"):
            render(small, "svg")

    @pytest.mark.parametrize("fmt", SUFFIXES)
    def test_deterministic(self, fmt: str) -> None:
        """Two loads of one file draw the same text, byte for byte."""
        assert render(load_journey(SMALL), fmt) == render(load_journey(SMALL), fmt)


class TestSnapshots:
    """The drawings of the snapshot journeys are exactly the stored ones."""

    @pytest.mark.parametrize("fmt", SUFFIXES)
    @pytest.mark.parametrize("source", [SMALL, KNOWLEDGE_CLUB], ids=["small", "knowledge-club"])
    def test_snapshot(self, source: Path, fmt: str) -> None:
        """The drawing equals ``snapshots/graph/NAME.mmd`` or ``NAME.dot``."""
        snapshot = SNAPSHOTS / f"{source.stem}.{SUFFIXES[fmt]}"
        actual = render(load_journey(source), fmt)
        if os.environ.get("TOPO_UPDATE_GOLDEN"):
            snapshot.write_text(actual, encoding="utf-8")
        assert snapshot.exists(), f"{snapshot.name} is missing; run with TOPO_UPDATE_GOLDEN=1"
        assert actual == snapshot.read_text(encoding="utf-8")


class TestMermaid:
    """The Mermaid drawing: a ``flowchart LR`` with every node and move, safely written."""

    def test_every_node_with_its_owner(self, small: Journey) -> None:
        """Each node is drawn once, labelled with its id, its owner and its ``on_enter``."""
        chart = parse_mermaid(mermaid(small))
        labels = {label for _, label in chart.nodes.values()}
        assert labels == {node_label(small, n) for n in small.nodes}
        assert chart.nodes[mermaid_id("vip")][1] == "vip\n(vip-desk)\n+ gift"

    def test_every_move_per_source(self, small: Journey) -> None:
        """Each move is an edge from each of its sources, in file order."""
        chart = parse_mermaid(mermaid(small))
        drawn = [(source, target) for source, _, _, target in chart.moves()]
        assert drawn == [(mermaid_id(s), mermaid_id(t)) for s, t in expected_edges(small)]
        assert chart.edges[: len(drawn)] == chart.moves()  # moves first, then reminders

    def test_reminders_are_thin_dotted_edges(self, small: Journey) -> None:
        """A reminder is a grey dotted edge with a round head from each node it is at, toward
        its node or ahead of a timer move (to that move's target), with guard and incentive."""
        chart = parse_mermaid(mermaid(small))
        assert [(s, label, t) for s, _, label, t in chart.reminders()] == [
            (mermaid_id("first-buyer"), "reminder\nwhen spend >= 50\n+ points", mermaid_id("vip")),
            (mermaid_id("lapsed"), "reminder\nwhen spend >= 50\n+ points", mermaid_id("vip")),
            (mermaid_id("vip"), "reminder 14d before requalify\n+ coupon",
             mermaid_id("first-buyer")),
        ]  # fmt: skip
        styled = [n for n, (_, arrow, _, _) in enumerate(chart.edges) if arrow == REMINDER]
        assert sorted(chart.link_styles) == styled
        assert set(chart.link_styles.values()) == {"stroke:#9e9e9e,stroke-width:1px,color:#616161"}

    def test_no_link_style_without_reminders(self, tricky: Journey) -> None:
        """A journey without reminders has no reminder edge and no ``linkStyle`` line."""
        text = mermaid(tricky)
        assert "linkStyle" not in text and parse_mermaid(text).reminders() == []

    def test_kinds_have_their_own_shapes_and_classes(self, small: Journey) -> None:
        """Start, checkpoint, peak and exit differ in shape and in class."""
        chart = parse_mermaid(mermaid(small))
        shapes = {small.nodes[n].kind: chart.nodes[mermaid_id(n)][0] for n in small.nodes}
        classes = {small.nodes[n].kind: chart.classes[mermaid_id(n)] for n in small.nodes}
        assert shapes == {"start": "([", "checkpoint": "(", "peak": "{{", "exit": "["}
        assert len(set(classes.values())) == 4

    def test_event_moves_are_labelled(self, small: Journey) -> None:
        """An event move shows its event types, guard and incentives."""
        labels = [label for _, _, label, _ in parse_mermaid(mermaid(small)).moves()]
        assert labels[0] == "purchase or attend\n+ coupon, points"
        assert labels[1] == (
            "purchase\nwhen spend >= 100 and event.plan in ['yearly', \"monthly\"]"
        )

    def test_timer_moves_are_dashed(self, small: Journey) -> None:
        """A timer move is a dotted arrow labelled ``after``, ``since`` and its guard."""
        edges = parse_mermaid(mermaid(small)).moves()
        timers = [(arrow, label) for _, arrow, label, _ in edges if label.startswith("after")]
        assert timers == [
            ("-.->", "after 365d\nwhen spend < 100"),
            ("-.->", "after 90d since activity"),
        ]
        assert all(arrow == "-->" for _, arrow, label, _ in edges if not label.startswith("after"))

    def test_tricky_ids_are_safe_and_distinct(self, tricky: Journey) -> None:
        """``end``, ``high-value``, ``high_value`` and ``a--b`` get distinct safe ids."""
        chart = parse_mermaid(mermaid(tricky))
        assert len(chart.nodes) == len(tricky.nodes) == 5
        assert [label.split("\n")[0] for _, label in chart.nodes.values()] == list(tricky.nodes)

    def test_tricky_labels_read_back_exactly(self, tricky: Journey) -> None:
        """Quotes, brackets, ``|``, ``#``, ``:``, HTML and line breaks come back as written."""
        first = parse_mermaid(mermaid(tricky)).edges[0]
        assert first[2].split("\n") == ["purchase", *TRICKY_GUARD]

    def test_tricky_edges_per_source(self, tricky: Journey) -> None:
        """Every edge of the tricky journey is there, timer dashed."""
        chart = parse_mermaid(mermaid(tricky))
        assert [(s, t) for s, _, _, t in chart.edges] == [
            (mermaid_id(s), mermaid_id(t)) for s, t in expected_edges(tricky)
        ]
        assert chart.edges[3][1:3] == ("-.->", "after 14d since purchase")


class TestReminderLines:
    """``reminder_lines`` and ``reminder_edges``: what a reminder's edge says, and where it goes."""

    def test_guard_over_several_lines(self) -> None:
        """A guard written over several lines keeps its lines; the incentive comes last."""
        reminder = Reminder.model_validate(
            {"at": "a", "toward": "b", "when": "x >= 1\nand y", "incentive": "nudge"}
        )
        assert reminder_lines(reminder) == ["reminder", "when x >= 1", "and y", "+ nudge"]

    def test_ahead_of_a_timer_move(self, small: Journey) -> None:
        """A reminder ahead of a timer move goes to the move's target, and says how long
        before it, in the largest unit that divides the time (2w is 14d)."""
        *_, (node, target, reminder) = reminder_edges(small)
        assert (node, target) == ("vip", "first-buyer")
        assert reminder_lines(reminder)[0] == "reminder 14d before requalify"


class TestMermaidId:
    """``mermaid_id``: node ids as identifiers Mermaid cannot misread."""

    def test_hyphen(self) -> None:
        """``vip-desk`` is ``n_vip_H_desk``."""
        assert mermaid_id("vip-desk") == "n_vip_H_desk"

    def test_keyword(self) -> None:
        """``end`` is prefixed, so it is no longer Mermaid's keyword."""
        assert mermaid_id("end") == "n_end"

    @given(st.lists(st.from_regex(SLUG_PATTERN, fullmatch=True), unique=True, max_size=20))
    def test_safe_and_distinct(self, slugs: list[str]) -> None:
        """Any slugs give identifiers, distinct for distinct slugs."""
        ids = [mermaid_id(slug) for slug in slugs]
        assert all(re.fullmatch(MERMAID_ID, i) for i in ids)
        assert len(set(ids)) == len(slugs)


class TestMermaidText:
    """``mermaid_text``: any text as the inside of a quoted Mermaid label."""

    def test_quote(self) -> None:
        """``"`` is ``#quot;``."""
        assert mermaid_text(['say "hi"']) == "say #quot;hi#quot;"

    def test_lines(self) -> None:
        """Lines, and line breaks inside them, are joined by ``<br/>``."""
        assert mermaid_text(["a", "b\nc"]) == "a<br/>b<br/>c"

    @given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"]))))
    def test_safe_and_exact(self, lines: list[str]) -> None:
        """Any text is written with safe characters only and reads back as written."""
        written = mermaid_text(lines)
        assert re.fullmatch(MERMAID_LABEL, f'"{written}"')
        shown = "\n".join(part for line in lines for part in line.splitlines() or [""])
        assert decode_mermaid(written) == shown


class TestDot:
    """The dot drawing: a ``digraph`` with every node and move, every id and label quoted."""

    def test_every_node_with_its_owner(self, small: Journey) -> None:
        """Each node is drawn once, by its own id, labelled with its id, its owner and its
        ``on_enter``."""
        graph = parse_dot(dot(small))
        assert list(graph.nodes) == list(small.nodes)
        assert all(graph.nodes[n]["label"] == node_label(small, n) for n in small.nodes)
        assert graph.nodes["vip"]["label"] == "vip\n(vip-desk)\n+ gift"

    def test_every_move_per_source(self, small: Journey) -> None:
        """Each move is an edge from each of its sources, in file order."""
        graph = parse_dot(dot(small))
        assert [(s, t) for s, t, _ in graph.moves()] == expected_edges(small)
        assert graph.edges[: len(graph.moves())] == graph.moves()  # moves first

    def test_reminders_are_thin_dotted_edges(self, small: Journey) -> None:
        """A reminder is a grey dotted edge with a round head that does not move the nodes
        about, from each node it is at, labelled with its guard and incentive."""
        reminders = parse_dot(dot(small)).reminders()
        assert [(s, t, a["label"]) for s, t, a in reminders] == [
            ("first-buyer", "vip", "reminder\nwhen spend >= 50\n+ points"),
            ("lapsed", "vip", "reminder\nwhen spend >= 50\n+ points"),
            ("vip", "first-buyer", "reminder 14d before requalify\n+ coupon"),
        ]
        looks = {(a["arrowhead"], a["color"], a["constraint"]) for _, _, a in reminders}
        assert looks == {("odot", "#9e9e9e", "false")}

    def test_kinds_have_their_own_shapes(self, small: Journey) -> None:
        """Start, checkpoint, peak and exit differ in shape or style."""
        graph = parse_dot(dot(small))
        looks = {(a["shape"], a["style"]) for a in graph.nodes.values()}
        assert len(looks) == 4

    def test_timer_moves_are_dashed(self, small: Journey) -> None:
        """A timer move is dashed and labelled ``after``; event moves are not dashed."""
        graph = parse_dot(dot(small))
        dashed = [a["label"] for _, _, a in graph.edges if a.get("style") == "dashed"]
        assert dashed == ["after 365d\nwhen spend < 100", "after 90d since activity"]
        undashed = [a["label"] for _, _, a in graph.edges if "style" not in a]
        assert len(dashed) + len(undashed) == len(graph.moves())
        assert not any(label.startswith("after") for label in undashed)

    def test_tricky_ids_and_labels_read_back_exactly(self, tricky: Journey) -> None:
        """Ids with '-', quotes, backslashes and line breaks come back as written."""
        graph = parse_dot(dot(tricky))
        assert list(graph.nodes) == list(tricky.nodes)
        assert graph.edges[0][2]["label"].split("\n") == ["purchase", *TRICKY_GUARD]

    @needs_graphviz
    @pytest.mark.parametrize("source", [SMALL, KNOWLEDGE_CLUB], ids=["small", "knowledge-club"])
    def test_graphviz_reads_it(self, source: Path) -> None:
        """``dot`` reads the drawing without a complaint and sees every node and edge."""
        journey = load_journey(source)
        document = graphviz_json(dot(journey))
        objects = document["objects"]
        assert isinstance(objects, list)
        assert [o["name"] for o in objects] == list(journey.nodes)
        drawn = len(expected_edges(journey)) + len(expected_reminders(journey))
        assert len(document["edges"]) == drawn  # type: ignore[arg-type]

    @needs_graphviz
    def test_graphviz_reads_tricky_labels(self, tricky: Journey) -> None:
        """``dot`` reads the tricky ids and labels as they were written."""
        document = graphviz_json(dot(tricky))
        objects = document["objects"]
        assert isinstance(objects, list)
        assert [o["name"] for o in objects] == list(tricky.nodes)
        assert document["name"] == "tricky"
        edges = document["edges"]
        assert isinstance(edges, list)
        assert decode_dot(edges[0]["label"]).split("\n") == ["purchase", *TRICKY_GUARD]


class TestDotQuote:
    """``dot_quote``: any text as a quoted dot string."""

    def test_quote_and_backslash(self) -> None:
        """``"`` and ``\\`` are escaped with a backslash."""
        assert dot_quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'

    def test_lines(self) -> None:
        """A line break is ``\\n``."""
        assert dot_quote("a\nb") == '"a\\nb"'

    @given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
    def test_safe_and_exact(self, text: str) -> None:
        """Any text is one well-formed quoted string that reads back as written."""
        written = dot_quote(text)
        match = re.fullmatch(DOT_STRING, written)
        assert match is not None
        assert decode_dot(match[1]) == "\n".join(text.splitlines())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
class TestShippedJourneys:
    """Every journey under journeys/ is drawn in both formats."""

    def test_mermaid(self, path: Path) -> None:
        """The flowchart parses and has every node with its on_enter, every move and every
        reminder."""
        journey = load_journey(path)
        chart = parse_mermaid(mermaid(journey))
        assert set(chart.nodes) == {mermaid_id(n) for n in journey.nodes}
        assert {label for _, label in chart.nodes.values()} == {
            node_label(journey, n) for n in journey.nodes
        }
        assert len(chart.moves()) == len(expected_edges(journey))
        assert [(s, t) for s, _, _, t in chart.reminders()] == [
            (mermaid_id(s), mermaid_id(t)) for s, t in expected_reminders(journey)
        ]

    def test_dot(self, path: Path) -> None:
        """The digraph parses and has every node with its on_enter, every move and every
        reminder."""
        journey = load_journey(path)
        graph = parse_dot(dot(journey))
        assert list(graph.nodes) == list(journey.nodes)
        assert all(graph.nodes[n]["label"] == node_label(journey, n) for n in journey.nodes)
        assert [(s, t) for s, t, _ in graph.moves()] == expected_edges(journey)
        assert [(s, t) for s, t, _ in graph.reminders()] == expected_reminders(journey)

    def test_every_grant_is_drawn(self, path: Path) -> None:
        """Every incentive the journey can grant (on a move, on entering a node, by a
        reminder) is named in the drawing."""
        journey = load_journey(path)
        granted = {i for m in journey.moves for i in m.incentives}
        granted |= {i for node in journey.nodes.values() for i in node.on_enter}
        granted |= {r.incentive for r in journey.reminders}
        for text in (mermaid(journey), dot(journey)):
            assert {i for i in granted if re.search(rf"\b{i}\b", text) is None} == set()


class TestGraphCommand:
    """``topo graph JOURNEY --format mermaid|dot``."""

    @pytest.mark.parametrize("fmt", SUFFIXES)
    def test_draws(self, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
        """The drawing goes to stdout, nothing to stderr, exit 0."""
        code = main(["graph", str(SMALL), "--format", fmt])
        out, err = capsys.readouterr()
        assert (code, out, err) == (0, render(load_journey(SMALL), fmt), "")

    def test_mermaid_by_default(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without ``--format`` the drawing is Mermaid."""
        assert main(["graph", str(SMALL)]) == 0
        assert capsys.readouterr().out.startswith("flowchart LR\n")

    def test_invalid_journey(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A journey with errors draws nothing: its diagnostics on stderr, exit 1."""
        bad = tmp_path / "bad.yaml"
        text = SMALL.read_text(encoding="utf-8")
        bad.write_text(text.replace("    to: vip\n", "    to: vipp\n"), encoding="utf-8")
        code = main(["graph", str(bad), "--format", "dot"])
        out, err = capsys.readouterr()
        assert (code, out) == (1, "")
        assert re.match(rf"{re.escape(str(bad))}:\d+:\d+: error T403 unknown node 'vipp'", err)

    def test_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file that is not there: one line on stderr, exit 2."""
        missing = tmp_path / "missing.yaml"
        code = main(["graph", str(missing), "--format", "dot"])
        out, err = capsys.readouterr()
        assert (code, out) == (2, "")
        assert err == f"topo: error: {missing}: no such file\n"


class TestGraphDocs:
    """docs/graph.md shows what ``topo graph`` really draws."""

    def test_example_is_current(self) -> None:
        """The page's Mermaid block is the drawing of journeys/knowledge-club.yaml."""
        page = (ROOT / "docs" / "graph.md").read_text(encoding="utf-8")
        block = re.search(r"^```mermaid\n(.*?)^```$", page, re.MULTILINE | re.DOTALL)
        assert block is not None
        assert block[1] == mermaid(load_journey(KNOWLEDGE_CLUB))

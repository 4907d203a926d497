"""Journeys as diagrams: a Mermaid flowchart or a Graphviz dot graph (``topo graph``).

Why not transitions' diagrams: ``transitions.extensions.diagrams_mermaid`` draws a *machine*,
not a journey. Using it means building a ``GraphMachine`` (and a model object) per journey only
to read the drawing back, and the drawing cannot say what a journey diagram must say: it writes
a ``stateDiagram-v2`` (no node shapes, so start, checkpoint, peak and exit look alike; no dashed
edges, so timer moves look like event moves), node names go out unmapped (a node called
``end`` or ``a--b`` breaks the diagram) and labels unescaped (a guard with ``"`` or ``#``
breaks it), guards show only as condition names, owners and incentives have no place, and moves
on several events must be folded into one made-up trigger name. Its dot backend needs the
``graphviz`` Python package besides. The project also keeps transitions behind one wall (only
the reference state machine imports it). So this module writes both formats itself, from the
model, in a few small functions.

What the drawing shows, in both formats:

- a node per journey node, in file order, labelled with its id, below it its owner in
  parentheses, and ``+ incentive, ...`` for its ``on_enter``; its kind is its shape and colour
  (start: stadium, green; checkpoint: rounded box; peak: hexagon, gold; exit: dashed grey box);
- an edge per move and source node (a move ``from: [a, b]`` is two edges), in file order,
  labelled with its event types (``purchase or attend``) or, for a timer move, ``after 365d``
  (and ``since activity``) on a dashed edge; then ``when GUARD`` and ``+ incentive, ...``;
- after the moves, a thin grey dotted edge with a round head per reminder and node it is at,
  toward the node it is about (for ``ahead_of``, the timer move's target), labelled
  ``reminder`` (or ``reminder 30d before vip_requalify``), ``when GUARD`` and ``+ incentive``.
  In dot, reminders do not decide the nodes' ranks (``constraint=false``): the moves do.

Owners are in the node labels, not Mermaid subgraphs or dot clusters: a box per owner would
pull one owner's nodes together and break the left-to-right order of the path, which is what
the diagram is for.

Mermaid node ids are ``n_`` and the node id with each ``-`` written ``_H_``: never a Mermaid
keyword, never confused with an arrow, and distinct for distinct nodes (slugs have no capital
letters). Dot ids are the node ids, quoted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from topo.errors import UsageError
from topo.journey.durations import format_duration
from topo.journey.model import Journey, Move, Reminder

__all__ = [
    "FORMATS",
    "dot",
    "dot_quote",
    "edges",
    "mermaid",
    "mermaid_id",
    "mermaid_text",
    "move_lines",
    "node_lines",
    "reminder_edges",
    "reminder_lines",
    "render",
]


def render(journey: Journey, fmt: str) -> str:
    """The journey drawn in ``fmt`` (``"mermaid"`` or ``"dot"``), ending with a newline."""
    draw = FORMATS.get(fmt)
    if draw is None:
        known = ", ".join(sorted(FORMATS))
        raise UsageError(f"there is no diagram format {fmt!r}; choose one of {known}")
    return draw(journey)


# -- What is drawn, whatever the format --------------------------------------------------------


def node_lines(journey: Journey, node_id: str) -> list[str]:
    """The lines of a node's label: its id, its owner in parentheses, then what entering it
    grants (``on_enter``) when it grants anything."""
    node = journey.nodes[node_id]
    grants = ["+ " + ", ".join(node.on_enter)] if node.on_enter else []
    return [node_id, f"({node.owner})", *grants]


def move_lines(move: Move) -> list[str]:
    """The lines of a move's label: trigger, then guard and incentives when there are any."""
    lines = [_trigger(move)]
    if move.when is not None:
        # An expression written over several lines keeps its lines.
        lines.extend(f"when {move.when.strip()}".splitlines())
    if move.incentives:
        lines.append("+ " + ", ".join(move.incentives))
    return lines


def reminder_lines(reminder: Reminder) -> list[str]:
    """The lines of a reminder's label: ``reminder`` (and how long before which timer move),
    then its guard when it has one, and its incentive."""
    lines = ["reminder"]
    if reminder.ahead_of is not None and reminder.by is not None:
        lines = [f"reminder {format_duration(reminder.by)} before {reminder.ahead_of}"]
    if reminder.when is not None:
        lines.extend(f"when {reminder.when.strip()}".splitlines())
    return [*lines, f"+ {reminder.incentive}"]


def _trigger(move: Move) -> str:
    if move.after is None:
        return " or ".join(move.on or [])
    since = f" since {move.since}" if move.since is not None else ""
    return f"after {format_duration(move.after)}{since}"


def edges(journey: Journey) -> Iterator[tuple[str, str, Move]]:
    """``(source, target, move)`` for each move and each of its source nodes, in file order."""
    for move in journey.moves:
        for source in move.from_:
            yield source, move.to, move


def reminder_edges(journey: Journey) -> Iterator[tuple[str, str, Reminder]]:
    """``(node, target, reminder)`` for each reminder and each node it is at, in file order:
    the target is ``toward``, or for ``ahead_of`` the timer move's target."""
    targets = {move.id: move.to for move in journey.moves if move.id is not None}
    for reminder in journey.reminders:
        target = reminder.toward if reminder.ahead_of is None else targets.get(reminder.ahead_of)
        if target is not None:
            for node in reminder.at:
                yield node, target, reminder


# -- Mermaid -------------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "start": ('(["', '"])'),
    "checkpoint": ('("', '")'),
    "peak": ('{{"', '"}}'),
    "exit": ('["', '"]'),
}
_MERMAID_CLASSES = {
    "start": "fill:#e3f4e4,stroke:#2e7d32,color:#000",
    "checkpoint": "fill:#ffffff,stroke:#546e7a,color:#000",
    "peak": "fill:#fff3c4,stroke:#b8860b,stroke-width:2px,color:#000",
    "exit": "fill:#eeeeee,stroke:#757575,stroke-dasharray:5 3,color:#000",
}
_MERMAID_REMINDER = "stroke:#9e9e9e,stroke-width:1px,color:#616161"
# Mermaid decodes #name; and #123; entities in labels. '#' itself is escaped so that text such
# as '#quot;' stays text; '<' '>' '&' because labels are HTML; '|' ends an edge label; '`' opens
# a Markdown label; ':' because Mermaid rewrites lines matching 'style.*:\S*#.*;' before parsing.
_MERMAID_ESCAPES = str.maketrans(
    {
        "#": "#35;",
        '"': "#quot;",
        "&": "#amp;",
        "<": "#lt;",
        ">": "#gt;",
        "|": "#124;",
        "`": "#96;",
        ":": "#58;",
    }
)


def mermaid_id(node_id: str) -> str:
    """A node id as a safe Mermaid id: ``vip-desk`` is ``n_vip_H_desk``."""
    return "n_" + node_id.replace("-", "_H_")


def mermaid_text(lines: list[str]) -> str:
    """Label lines as the inside of a quoted Mermaid label, lines joined by ``<br/>``."""
    return "<br/>".join(
        part.translate(_MERMAID_ESCAPES) for line in lines for part in line.splitlines() or [""]
    )


def mermaid(journey: Journey) -> str:
    """The journey as a Mermaid ``flowchart LR``, as GitHub renders it."""
    lines = ["flowchart LR", f"  %% {journey.journey}, version {journey.version}"]
    for node_id, node in journey.nodes.items():
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = mermaid_text(node_lines(journey, node_id))
        lines.append(f"  {mermaid_id(node_id)}{opening}{label}{closing}")
    moves = [
        (source, "-->" if move.after is None else "-.->", move_lines(move), target)
        for source, target, move in edges(journey)
    ]
    reminders = [
        (source, "-.-o", reminder_lines(reminder), target)
        for source, target, reminder in reminder_edges(journey)
    ]
    for source, arrow, said, target in [*moves, *reminders]:
        text = mermaid_text(said)
        lines.append(f'  {mermaid_id(source)} {arrow}|"{text}"| {mermaid_id(target)}')
    if reminders:  # Mermaid numbers edges from 0, in the order they are written
        numbers = ",".join(str(n) for n in range(len(moves), len(moves) + len(reminders)))
        lines.append(f"  linkStyle {numbers} {_MERMAID_REMINDER}")
    lines.extend(_mermaid_classes(journey))
    return "\n".join(lines) + "\n"


def _mermaid_classes(journey: Journey) -> Iterator[str]:
    for kind, style in _MERMAID_CLASSES.items():
        yield f"  classDef {kind}_node {style}"
    for kind in _MERMAID_CLASSES:
        members = [mermaid_id(n) for n, node in journey.nodes.items() if node.kind == kind]
        if members:
            yield f"  class {','.join(members)} {kind}_node"


# -- Graphviz dot --------------------------------------------------------------------------------

_DOT_NODES = {
    "start": {"shape": "oval", "style": "filled", "fillcolor": "#e3f4e4"},
    "checkpoint": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    "peak": {"shape": "hexagon", "style": "filled,bold", "fillcolor": "#fff3c4"},
    "exit": {"shape": "box", "style": "dashed,filled", "fillcolor": "#eeeeee"},
}


_DOT_REMINDER = {
    "style": "dotted",
    "arrowhead": "odot",
    "color": "#9e9e9e",
    "fontcolor": "#616161",
    "constraint": "false",  # the moves alone place the nodes
}


def dot_quote(text: str) -> str:
    """Text as a quoted dot string: ``\\`` and ``"`` escaped, each line break as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\n".join(escaped.splitlines() or [""]) + '"'


def _attributes(attributes: dict[str, str]) -> str:
    return ", ".join(f"{name}={dot_quote(value)}" for name, value in attributes.items())


def dot(journey: Journey) -> str:
    """The journey as a Graphviz ``digraph``, for ``dot -Tsvg``."""
    title = journey.title or journey.journey
    lines = [
        f"digraph {dot_quote(journey.journey)} {{",
        f"  graph [{_attributes({'label': title, 'labelloc': 't', 'rankdir': 'LR'})}, "
        'fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize="11"];',
        '  edge [fontname="Helvetica", fontsize="9"];',
    ]
    for node_id, node in journey.nodes.items():
        attributes = {"label": "\n".join(node_lines(journey, node_id)), **_DOT_NODES[node.kind]}
        lines.append(f"  {dot_quote(node_id)} [{_attributes(attributes)}];")
    for source, target, move in edges(journey):
        attributes = {"label": "\n".join(move_lines(move))}
        if move.after is not None:
            attributes["style"] = "dashed"
        lines.append(f"  {dot_quote(source)} -> {dot_quote(target)} [{_attributes(attributes)}];")
    for source, target, reminder in reminder_edges(journey):
        attributes = {"label": "\n".join(reminder_lines(reminder)), **_DOT_REMINDER}
        lines.append(f"  {dot_quote(source)} -> {dot_quote(target)} [{_attributes(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Journey], str]] = {"mermaid": mermaid, "dot": dot}
"""The diagram formats by name, as ``topo graph --format`` offers them."""

"""The load stage: YAML into data with the span of every key and value, safely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import TESTS
from topo.journey.loader import MAX_ALIAS_NODES, MAX_BYTES, MAX_DEPTH, load_file, load_text
from topo.journey.source import Span


def codes(text: str) -> list[str]:
    return [d.code for d in load_text(text, "j.yaml").diagnostics]


class TestPositions:
    """Every key and value keeps its 1-based line and column, start and end."""

    def test_block_mapping_keys_and_values(self) -> None:
        """A key and its value each have their own span."""
        doc = load_text("a: 1\nnested:\n  key: value\n").document
        assert doc is not None
        assert doc.source.keys[("nested", "key")] == Span(3, 3, 3, 6)
        assert doc.source.values[("nested", "key")] == Span(3, 8, 3, 13)

    def test_flow_mapping_inside_block(self) -> None:
        """Keys and values inside ``{...}`` point at themselves, not at the line start."""
        doc = load_text("nodes:\n  vip: {kind: peak, owner: crm}\n").document
        assert doc is not None
        assert doc.source.keys[("nodes", "vip", "owner")] == Span(2, 21, 2, 26)
        assert doc.source.values[("nodes", "vip", "owner")] == Span(2, 28, 2, 31)

    def test_list_items(self) -> None:
        """Items of block and flow lists have their own spans."""
        doc = load_text("moves:\n  - from: [a, bb]\n    to: c\n").document
        assert doc is not None
        assert doc.source.values[("moves", 0, "from", 1)] == Span(2, 15, 2, 17)
        assert doc.source.values[("moves", 0, "to")] == Span(3, 9, 3, 10)

    def test_missing_path_falls_back_to_nearest_ancestor(self) -> None:
        """A path that has no span of its own points at its nearest ancestor."""
        doc = load_text("a:\n  b: 1\n").document
        assert doc is not None
        assert doc.source.value(("a", "b", "c", 3)) == doc.source.values[("a", "b")]

    def test_unicode_columns_count_characters(self) -> None:
        """Columns count characters, not bytes, after non-ASCII text."""
        doc = load_text("title: 知識俱樂部\nx: 1\nt: {é: 1, k: v}\n").document
        assert doc is not None
        assert doc.source.keys[("t", "k")] == Span(3, 11, 3, 12)


class TestTruthyRule:
    """Only true and false are booleans; YAML 1.1's other truthy words stay strings."""

    @pytest.mark.parametrize(
        "word", ["on", "off", "yes", "no", "y", "n", "On", "OFF", "Yes", "NO", "Y", "N"]
    )
    def test_words_stay_strings_as_keys_and_values(self, word: str) -> None:
        """``on: off`` is the string key 'on' with the string value 'off'."""
        doc = load_text(f"{word}: {word}\nlist: [{word}]\n").document
        assert doc is not None
        assert doc.data == {word: word, "list": [word]}

    @pytest.mark.parametrize(
        "word,value",
        [("true", True), ("false", False), ("True", True), ("FALSE", False), ("tRuE", True)],
    )
    def test_true_and_false_in_any_case_are_booleans(self, word: str, value: bool) -> None:
        """``true``/``false`` are booleans whatever their case."""
        doc = load_text(f"x: {word}\n").document
        assert doc is not None
        assert doc.data == {"x": value}

    def test_quoted_true_is_a_string(self) -> None:
        """Quoting keeps a boolean word a string."""
        doc = load_text("x: 'true'\n").document
        assert doc is not None and doc.data == {"x": "true"}

    def test_dates_stay_strings(self) -> None:
        """A date-like value stays text (journeys have no dates in YAML)."""
        doc = load_text("x: 2026-03-01\n").document
        assert doc is not None and doc.data == {"x": "2026-03-01"}

    def test_numbers_and_null(self) -> None:
        """Integers, floats and null keep their YAML types."""
        doc = load_text("a: 3\nb: 2.5\nc: null\nd: ~\n").document
        assert doc is not None and doc.data == {"a": 3, "b": 2.5, "c": None, "d": None}


class TestDuplicateKeys:
    """A mapping with the same key twice is an error at the second key."""

    def test_duplicate_top_level_key(self) -> None:
        """The second ``nodes:`` is reported, with the line of the first."""
        loaded = load_text("nodes: {}\nx: 1\nnodes: {}\n", "j.yaml")
        [d] = loaded.diagnostics
        assert (d.code, d.line, d.column) == ("T102", 3, 1)
        assert "first at line 1" in d.message

    def test_duplicate_in_flow_mapping(self) -> None:
        """Duplicates inside ``{...}`` point at the second key."""
        [d] = load_text("n: {kind: a, kind: b}\n").diagnostics
        assert (d.code, d.line, d.column) == ("T102", 1, 14)

    def test_every_duplicate_is_reported(self) -> None:
        """Two duplicates in different mappings are two diagnostics."""
        assert codes("a: 1\na: 2\nb: {c: 1, c: 2}\n") == ["T102", "T102"]

    def test_first_value_is_kept(self) -> None:
        """The data keeps the first value, so positions stay consistent."""
        doc = load_text("a: 1\na: 2\n").document
        assert doc is not None and doc.data == {"a": 1}

    def test_merge_keys_are_not_duplicates(self) -> None:
        """``<<: *base`` merges; explicit keys override merged ones without a diagnostic."""
        loaded = load_text("base: &b {kind: checkpoint, owner: crm}\nn: {<<: *b, owner: sales}\n")
        assert loaded.diagnostics == ()
        assert loaded.document is not None
        assert loaded.document.data["n"] == {"kind": "checkpoint", "owner": "sales"}


class TestHostileFiles:
    """Files built to exhaust memory or time fail fast with a clear error."""

    def test_billion_laughs_fails_fast(self) -> None:
        """Nine levels of nine aliases (10^9 strings) stop at the alias budget."""
        lines = ['a0: &a0 "lol"']
        for level in range(1, 10):
            refs = ", ".join([f"*a{level - 1}"] * 9)
            lines.append(f"a{level}: &a{level} [{refs}]")
        started = time.perf_counter()
        loaded = load_text("\n".join(lines) + "\n", "bomb.yaml")
        elapsed = time.perf_counter() - started
        assert [d.code for d in loaded.diagnostics] == ["T104"]
        assert "billion laughs" in loaded.diagnostics[0].message
        assert loaded.document is None
        assert elapsed < 5  # generous: the point is that it ends at all

    def test_moderate_alias_use_is_fine(self) -> None:
        """Reusing a few anchors, as people do, stays well under the budget."""
        text = "owner: &o crm\n" + "".join(f"n{i}: {{owner: *o}}\n" for i in range(200))
        assert codes(text) == []

    def test_alias_budget_is_counted_in_values(self) -> None:
        """Just over the budget of repeated values is refused."""
        items = ", ".join(["*x"] * (MAX_ALIAS_NODES + 1))
        assert codes(f"x: &x 1\ny: [{items}]\n") == ["T104"]

    def test_recursive_alias_is_refused(self) -> None:
        """An alias inside its own anchor never ends expanding; it is refused."""
        assert codes("a: &a [1, *a]\n") == ["T104"]

    def test_deep_nesting_is_refused_with_position(self) -> None:
        """Nesting deeper than the limit is an error where the limit is crossed."""
        depth = MAX_DEPTH + 10
        loaded = load_text("x: " + "[" * depth + "]" * depth + "\n")
        [d] = loaded.diagnostics
        assert d.code == "T107"
        assert d.line == 1 and d.column > MAX_DEPTH - 5

    def test_very_deep_nesting_does_not_overflow_the_stack(self) -> None:
        """Ten thousand levels give the same clear error, not a RecursionError."""
        assert codes("[" * 10_000 + "]" * 10_000) == ["T107"]

    def test_file_over_the_size_limit(self, tmp_path: Path) -> None:
        """A file over 1 MiB is refused before it is parsed."""
        big = tmp_path / "big.yaml"
        big.write_text("# " + "x" * MAX_BYTES + "\n", encoding="utf-8")
        [d] = load_file(big).diagnostics
        assert d.code == "T103" and "1,048,576" in d.message

    def test_size_limit_is_configurable(self, tmp_path: Path) -> None:
        """The limit can be raised or lowered by the caller."""
        small = tmp_path / "j.yaml"
        small.write_text("a: 1\n", encoding="utf-8")
        assert [d.code for d in load_file(small, max_bytes=3).diagnostics] == ["T103"]

    def test_python_tags_are_not_constructed(self) -> None:
        """``!!python/object`` and other tags are reported, never constructed."""
        assert codes("x: !!python/object/apply:os.system ['true']\n") == ["T108"]

    @pytest.mark.parametrize(
        "text", ["x: !!binary aGVsbG8=\n", "x: !custom 3\n", "x: !!timestamp 2026-01-01\n"]
    )
    def test_other_tags_are_reported(self, text: str) -> None:
        """Tags journeys do not use are reported at the value."""
        assert codes(text) == ["T108"]

    @pytest.mark.parametrize(
        "text,value",
        [("x: !custom 3\n", 3), ("x: !!set {a: 1}\n", {"a": 1}), ("x: !!omap [1, 2]\n", [1, 2])],
    )
    def test_tagged_content_is_read_as_plain(self, text: str, value: object) -> None:
        """After the tag is reported, the content is read as if untagged (no second report)."""
        loaded = load_text(text)
        assert loaded.document is not None and loaded.document.data == {"x": value}

    def test_complex_key_is_reported(self) -> None:
        """A list used as a key is reported."""
        assert codes("? [a, b]\n: 1\n") == ["T108"]


class TestUnreadableText:
    """Text that is not a YAML mapping gives one clear diagnostic."""

    def test_unclosed_list_points_at_its_opening(self) -> None:
        """An unclosed ``[`` is reported where it opens, in plain words."""
        [d] = load_text("a: 1\nb: [1, 2\nc: 3\n").diagnostics
        assert (d.code, d.line, d.column) == ("T101", 2, 4)
        assert d.message == "a '[' opened here is never closed with ']'"

    @pytest.mark.parametrize(
        "text,line,column,words",
        [
            ('a: "abc\nb: 1\n', 1, 4, "quoted text starts here and is never closed"),
            ("a: b: c\n", 1, 5, "quote a value that holds ': '"),
            ("a:\n  - b\n  c: 1\n", 3, 3, "indentation does not line up"),
            ("a: *nope\n", 1, 4, "the alias *nope has no anchor &nope"),
            ("a: @x\n", 1, 4, "the character '@' cannot start a value; put the value in quotes"),
            (
                "a:\n  message: {offering} VIP: 10% off\n  b: 1\n",
                2,
                12,
                "read as a mapping; put the whole text in quotes",
            ),
        ],
    )
    def test_syntax_messages_in_plain_words(
        self, text: str, line: int, column: int, words: str
    ) -> None:
        """Common YAML mistakes are explained without parser jargon, at their cause."""
        [d] = load_text(text).diagnostics
        assert (d.code, d.line, d.column) == ("T101", line, column)
        assert words in d.message

    def test_tab_indentation(self) -> None:
        """A tab where YAML expects spaces is a syntax error with its position."""
        [d] = load_text("a:\n\tb: 1\n").diagnostics
        assert (d.code, d.line, d.column) == ("T101", 2, 1)

    def test_two_documents(self) -> None:
        """A file is one document."""
        assert codes("a: 1\n---\nb: 2\n") == ["T101"]

    @pytest.mark.parametrize(
        "text,what",
        [
            ("", "empty"),
            ("# only a comment\n", "empty"),
            ("- a\n- b\n", "list"),
            ("hello\n", "text"),
        ],
    )
    def test_not_a_mapping(self, text: str, what: str) -> None:
        """An empty file, a list or a plain value is not a journey."""
        [d] = load_text(text).diagnostics
        assert d.code == "T105" and what in d.message

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A Latin-1 byte is reported at its line and column."""
        path = tmp_path / "latin1.yaml"
        path.write_bytes(b"title: ok\nname: caf\xe9\n")
        [d] = load_file(path).diagnostics
        assert (d.code, d.line, d.column) == ("T106", 2, 10)

    def test_utf8_bom_is_accepted(self, tmp_path: Path) -> None:
        """A UTF-8 byte order mark is not part of the first key."""
        path = tmp_path / "bom.yaml"
        path.write_bytes("\ufeffa: 1\n".encode())
        loaded = load_file(path)
        assert loaded.document is not None and loaded.document.data == {"a": 1}

    def test_control_character(self) -> None:
        """A character YAML forbids is a syntax error with its position."""
        [d] = load_text("a: 1\nb: x\x07y\n").diagnostics
        assert (d.code, d.line, d.column) == ("T101", 2, 5)


class TestAgreesWithPyYAML:
    """For plain data, the loader builds what PyYAML's safe loader builds."""

    @given(
        st.recursive(
            st.none()
            | st.integers(-(10**6), 10**6)
            | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), inner, max_size=4
                )
            ),
            max_leaves=20,
        ).map(lambda value: {"root": value})
    )
    def test_round_trip(self, data: dict[str, object]) -> None:
        """Dumping data and loading it back gives the same data."""
        text = yaml.safe_dump(data, allow_unicode=True)
        loaded = load_text(text)
        assert loaded.diagnostics == ()
        assert loaded.document is not None
        assert loaded.document.data == yaml.safe_load(text)


class TestPositionsOfRefusals:
    """Refusals point at what causes them."""

    def test_billion_laughs_points_at_an_alias(self) -> None:
        """The refusal points at an alias written in the file, not at the anchored text."""
        lines = ['a0: &a0 "lol"']
        for level in range(1, 10):
            lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]")
        text = "\n".join(lines) + "\n"
        [d] = load_text(text).diagnostics
        written = text.splitlines()[d.line - 1][d.column - 1 : d.end_column - 1]
        assert written.startswith("*a")

    def test_recursive_alias_points_at_the_alias(self) -> None:
        """The alias inside its own anchor is pointed at."""
        [d] = load_text("a: &a [1, *a]\n").diagnostics
        assert (d.line, d.column) == (1, 11)

    def test_depth_counts_only_mappings_and_lists(self) -> None:
        """A plain value at the bottom of the deepest allowed nesting is fine."""
        assert codes("x: " + "[" * (MAX_DEPTH - 1) + "v" + "]" * (MAX_DEPTH - 1) + "\n") == []
        assert codes("x: " + "[" * MAX_DEPTH + "v" + "]" * MAX_DEPTH + "\n") == ["T107"]

    def test_not_utf8_column_counts_characters(self, tmp_path: Path) -> None:
        """After multi-byte characters, the column counts characters, not bytes."""
        path = tmp_path / "j.yaml"
        path.write_bytes(b'title: "\xc3\xa9t\xe9"\n')
        [d] = load_file(path).diagnostics
        assert (d.code, d.line, d.column) == ("T106", 1, 11)

    def test_aliased_value_points_at_the_alias(self) -> None:
        """A value written as an alias has the alias's span (where it is written)."""
        doc = load_text("owner: &o crm\nnode: {owner: *o}\n").document
        assert doc is not None
        assert doc.source.values[("node", "owner")] == Span(2, 15, 2, 17)

    def test_merge_keeps_the_mapping_span(self) -> None:
        """A mapping with a merge key keeps its own span."""
        doc = load_text("base: &b {x: 1}\nn: {<<: *b, y: 2}\n").document
        assert doc is not None
        assert doc.source.values[("n",)].line == 2


class TestBothParsers:
    """libyaml and PyYAML's own parser give the same data and positions."""

    @pytest.mark.parametrize(
        "case",
        sorted((TESTS / "fixtures" / "invalid").glob("*.yaml")),
        ids=lambda p: p.stem,
    )
    def test_same_diagnostics(self, case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every fixture gives the same codes and positions with either parser.

        Syntax errors (T101) are worded by each parser in its own way; only their code is
        compared.
        """
        import topo
        import topo.journey.document_builder as builder

        def found() -> list[tuple[str, int, int, str]]:
            return [
                (d.code, d.line, d.column, "" if d.code == "T101" else d.message)
                for d in topo.validate(case)
            ]

        fast = found()
        monkeypatch.setattr(builder, "_PARSER", yaml.SafeLoader)
        slow = found()
        assert [f[0] for f in fast] == [s[0] for s in slow]
        assert [f for f in fast if f[0] != "T101"] == [s for s in slow if s[0] != "T101"]


def _parser_with_limit(levels: int) -> type[yaml.SafeLoader]:
    """PyYAML's own parser, made to refuse flow lists deeper than ``levels`` as libyaml does."""

    class Limited(yaml.SafeLoader):
        def fetch_flow_collection_start(self, TokenClass: type) -> None:
            if self.flow_level >= levels:
                mark = self.get_mark()
                raise yaml.scanner.ScannerError(
                    "while increasing flow level", mark, "exceeded maximum nesting depth", mark
                )
            super().fetch_flow_collection_start(TokenClass)

    return Limited


class TestNestingWhateverTheParser:
    """T107 is reported whichever parser reads the file, and whatever limit that parser has."""

    @pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "pure-python"])
    def test_ten_thousand_levels_point_at_level_65(
        self, fast: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """libyaml scans a line ahead and stops at 1,000 levels; topo still says T107 at 65.

        The mapping ``x:`` is the first level, so the 64th ``[`` is the 65th level.
        """
        import topo.journey.document_builder as builder

        if not fast:
            monkeypatch.setattr(builder, "_PARSER", yaml.SafeLoader)
        [d] = load_text("x: " + "[" * 10_000 + "]" * 10_000 + "\n").diagnostics
        assert (d.code, d.line, d.column) == ("T107", 1, 3 + MAX_DEPTH)
        assert f"more than {MAX_DEPTH} levels" in d.message

    def test_a_parser_that_stops_ahead_of_topo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A parser that refuses at its own limit before topo counts level 65: still T107 at 65."""
        import topo.journey.document_builder as builder

        monkeypatch.setattr(builder, "_PARSER", _parser_with_limit(MAX_DEPTH + 30))
        [d] = load_text("[" * (MAX_DEPTH + 40)).diagnostics
        assert (d.code, d.column) == ("T107", MAX_DEPTH + 1)

    def test_a_parser_with_a_lower_limit_than_topo(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A parser that refuses below topo's limit: T107 where the parser stopped."""
        import topo.journey.document_builder as builder

        monkeypatch.setattr(builder, "_PARSER", _parser_with_limit(10))
        [d] = load_text("x: " + "[" * 20 + "]" * 20 + "\n").diagnostics
        assert (d.code, d.line, d.column) == ("T107", 1, 14)
        assert "deeper than the YAML parser reads" in d.message

    def test_other_parser_errors_stay_syntax_errors(self) -> None:
        """Only the parser's refusal to nest deeper is taken for T107."""
        assert codes("x: [a, b\ny: 1\n") == ["T101"]


_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # an unbounded read fails fast
import topo
found = topo.validate(sys.argv[1])
try:
    topo.load_journey(sys.argv[1])
except topo.InvalidJourney as exc:
    found += exc.diagnostics
print(json.dumps([[d.file, d.code, d.message] for d in found]))
"""


def _validate_elsewhere(path: Path) -> list[list[str]]:
    """``topo.validate`` and ``topo.load_journey`` of ``path`` in a child process, under a timeout
    and a memory limit, so that a hang or an unbounded read fails the test, not the test run."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: list[list[str]] = json.loads(done.stdout)
    return found


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
class TestOnlyRegularFiles:
    """Only regular files are read; the size limit holds while reading."""

    def test_a_named_pipe_is_refused_without_waiting(self, tmp_path: Path) -> None:
        """A FIFO named like a journey is T100 at once; nothing waits for a writer."""
        fifo = tmp_path / "journey.yaml"
        os.mkfifo(fifo)
        found = _validate_elsewhere(fifo)
        assert [code for _, code, _ in found] == ["T100", "T100"]
        assert all("named pipe" in message for _, _, message in found)

    def test_a_folder_holding_a_named_pipe(self, tmp_path: Path) -> None:
        """Validating a folder reports its FIFO as T100 and still checks the other files."""
        os.mkfifo(tmp_path / "a.yaml")
        (tmp_path / "b.yaml").write_text("topo: 1\n", encoding="utf-8")
        found = _validate_elsewhere(tmp_path)
        files = [(Path(file).name, code) for file, code, _ in found]
        assert ("a.yaml", "T100") in files and ("b.yaml", "T202") in files

    @pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
    def test_a_link_to_an_endless_device_is_refused(self, tmp_path: Path) -> None:
        """A link to /dev/zero (size 0, endless) is T100, not a read until memory runs out."""
        link = tmp_path / "journey.yaml"
        link.symlink_to("/dev/zero")
        found = _validate_elsewhere(link)
        assert [code for _, code, _ in found] == ["T100", "T100"]
        assert "character device" in found[0][2]

    @pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
    def test_limit_holds_when_the_size_is_unknown(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A file that says it has 0 bytes (/proc) but holds more is read only to the limit."""
        assert os.stat("/proc/self/status").st_size == 0
        read: list[int] = []
        original = os.read

        def counted(descriptor: int, size: int) -> bytes:
            chunk = original(descriptor, size)
            read.append(len(chunk))
            return chunk

        monkeypatch.setattr(os, "read", counted)
        [d] = load_file("/proc/self/status", max_bytes=10).diagnostics
        assert d.code == "T103" and d.message.startswith("the file is larger than the limit of 10")
        assert sum(read) == 11

    def test_a_folder_given_as_a_file(self, tmp_path: Path) -> None:
        """A folder handed to load_file is refused as not a regular file."""
        [d] = load_file(tmp_path).diagnostics
        assert d.code == "T100" and "a folder" in d.message

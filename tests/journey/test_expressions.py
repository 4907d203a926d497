"""The expression language: what is allowed, what is rejected, and where."""

from __future__ import annotations

import ast
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MINIMAL, dedent, validate_rules
from topo.engine.evaluation import compile_expression
from topo.journey.expressions import Problem, Scope, check, parse

SCOPE = Scope(
    metrics=frozenset({"spend", "purchases", "last_purchase"}),
    attributes=frozenset({"region", "phone"}),
    event_fields={"purchase": frozenset({"amount", "offering"}), "attend": frozenset({"offering"})},
)


def problems(text: str, scope: Scope = SCOPE) -> list[tuple[str, str]]:
    """(diagnostic name, offending text) of each problem."""
    return [(p.name, text[p.start : p.end]) for p in check(text, scope)]


class TestAllowed:
    """Everything the format lists passes."""

    @pytest.mark.parametrize(
        "text",
        [
            "spend >= 100",
            "purchases >= 3 and spend > 3000 or not purchases",
            "0 < spend <= 100 < 200",
            "member.region in ['north', 'south'] and member.region not in []",
            "event.offering == 'talks'",
            'event.offering != "x"',
            "last_purchase == null and last_purchase != None",
            "true or false or True or False",
            "-spend + 1 - 2 * 3 / 4 % 5 > 0",
            "days_since(last_purchase) > 30",
            "days_between(entered_at, now) < 7",
            "min(spend, 1, 2) < max(spend, 3)",
            "abs(spend) > round(2.5)",
            "node == 'vip'",
            "member.phone != null",
            "spend >= 1e3",
            "spend > -9223372036854775808 and spend < 9223372036854775807",
            "spend > 1e-400",
        ],
    )
    def test_passes(self, text: str) -> None:
        """A valid expression has no problems."""
        assert problems(text) == []

    def test_multi_line_text(self) -> None:
        """Line breaks from YAML block scalars count as spaces."""
        assert problems("spend > 1 and\n  purchases < 3\n") == []


class TestRejected:
    """Everything else is rejected, pointing at the offending part."""

    @pytest.mark.parametrize(
        "text,name,offending",
        [
            ("spend >", "expression-syntax", ">"),
            ("spend > > 3", "expression-syntax", ">"),
            ("", "expression-syntax", ""),
            ("spend = 3", "expression-syntax", "="),
            ("spend => 3", "expression-syntax", "=>"),
            ("spend =< 3", "expression-syntax", "=<"),
            ("spend > 1 && spend < 3", "expression-syntax", "&&"),
            ("spend > 1 || spend < 3", "expression-syntax", "||"),
            ("spend === 3", "expression-syntax", "==="),
            ("x[0] > 1", "forbidden-construct", "x[0]"),
            ("spend if spend else 0", "forbidden-construct", "spend if spend else 0"),
            ("(lambda: 1)() > 0", "forbidden-construct", "lambda: 1"),
            ("[x for x in []]", "forbidden-construct", "[x for x in []]"),
            ("{'a': 1} == spend", "forbidden-construct", "{'a': 1}"),
            ("{1, 2} == spend", "forbidden-construct", "{1, 2}"),
            ("(1, 2) == spend", "forbidden-construct", "(1, 2)"),
            ("f'{spend}' == 'x'", "forbidden-construct", "f'{spend}'"),
            ("(y := 3) > 1", "forbidden-construct", "y := 3"),
            ("spend ** 2 > 1", "forbidden-construct", "**"),
            ("spend // 2 > 1", "forbidden-construct", "//"),
            ("spend | 1", "forbidden-construct", "|"),
            ("spend & 1", "forbidden-construct", "&"),
            ("spend ^ 1", "forbidden-construct", "^"),
            ("spend << 1", "forbidden-construct", "<<"),
            ("~spend", "forbidden-construct", "~"),
            ("+spend", "forbidden-construct", "+"),
            ("spend is None", "forbidden-construct", "is"),
            ("spend is not None", "forbidden-construct", "is not"),
            ("b'x' == spend", "forbidden-construct", "b'x'"),
            ("1j == spend", "forbidden-construct", "1j"),
            ("... == spend", "forbidden-construct", "..."),
            ("__import__('os')", "unknown-function", "__import__"),
            ("__class__ == 1", "forbidden-construct", "__class__"),
            ("event.__class__", "forbidden-construct", "event.__class__"),
            ("member.region.upper() == 'X'", "forbidden-construct", "member.region.upper"),
            ("spend.real > 1", "forbidden-construct", "spend.real"),
            ("member == 1", "forbidden-construct", "member"),
            ("event == 1", "forbidden-construct", "event"),
            ("min > 1", "forbidden-construct", "min"),
            ("max(*[1, 2]) > 1", "forbidden-construct", "*[1, 2]"),
            ("round(spend, ndigits=1) > 1", "forbidden-construct", "ndigits=1"),
            ("open('x')", "unknown-function", "open"),
            ("len(spend) > 1", "unknown-function", "len"),
            ("days_since() > 1", "wrong-arity", "days_since()"),
            ("days_between(now) > 1", "wrong-arity", "days_between(now)"),
            ("abs(1, 2) > 1", "wrong-arity", "abs(1, 2)"),
            ("round(spend, 2) > 1", "wrong-arity", "round(spend, 2)"),
            ("min(spend) > 1", "wrong-arity", "min(spend)"),
            ("abs(spend)(1) > 0", "forbidden-construct", "abs(spend)"),
            ("-1() > 0", "forbidden-construct", "1"),
            ("''() > 0", "forbidden-construct", "''"),
            ("(spend)(1) > 0", "unknown-function", "spend"),
            ("spend > 9223372036854775808", "forbidden-construct", "9223372036854775808"),
            ("spend > -9223372036854775809", "forbidden-construct", "-9223372036854775809"),
            ("spend > 1e400", "forbidden-construct", "1e400"),
            ("spend > 9.3e18", "forbidden-construct", "9.3e18"),
            ("spend in [1, " + "9" * 400 + "]", "forbidden-construct", "9" * 400),
            ("spnd > 1", "unknown-name", "spnd"),
            ("member.regoin == 'x'", "unknown-attribute", "member.regoin"),
            ("event.amout > 1", "unknown-event-field", "event.amout"),
            ("event.amount > 1", "unknown-event-field", "event.amount"),
        ],
    )
    def test_rejected(self, text: str, name: str, offending: str) -> None:
        """The first problem has the expected name and points at the offending text."""
        found = problems(text)
        assert found, f"{text!r} passed"
        assert found[0][0] == name
        if offending:
            assert found[0][1] == offending

    def test_call_of_a_value_says_what_can_be_called(self) -> None:
        """Calling anything but a built-in function by name says which functions there are."""
        [problem] = check("abs(spend)(1) > 0", SCOPE)
        assert "abs(spend) cannot be called" in problem.message and "days_since" in problem.message

    def test_number_out_of_range_says_the_range(self) -> None:
        """A literal beyond a 64-bit integer says the range, and shows the literal as written."""
        [problem] = check("spend > 1e400", SCOPE)
        assert problem.message.startswith("the number 1e400 is out of range")
        assert "9,223,372,036,854,775,807" in problem.message

    def test_python_warnings_are_not_raised(self) -> None:
        """An escape Python warns about (``'\\d'``) is checked alike under ``-W error``."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert problems("member.region == '\\d'") == []

    def test_thousands_separator_hint(self) -> None:
        """``1,500`` says to write numbers without thousands separators."""
        [problem] = check("spend >= 1,500", SCOPE)
        assert "write 1500, not 1,500" in problem.message

    def test_duration_in_expression_hint(self) -> None:
        """``<= 14d`` says durations are not values, pointing at the duration."""
        text = "days_since(last_purchase) <= 14d"
        [problem] = check(text, SCOPE)
        assert text[problem.start : problem.end] == "14d"
        assert "is a duration, not a value" in problem.message

    def test_other_language_operator_hint(self) -> None:
        """``=>`` says to write ``>=``; a lone ``=`` says to compare with ``==``."""
        [arrow] = check("spend => 500", SCOPE)
        assert arrow.message == "invalid expression: '=>' is not an operator here; write '>='"
        [single] = check("spend = 500", SCOPE)
        assert single.message == "invalid expression: '=' is not a comparison; write '=='"

    def test_suggestion_for_a_misspelt_metric(self) -> None:
        """An unknown name suggests the nearest metric."""
        [problem] = check("purchses > 1", SCOPE)
        assert "did you mean 'purchases'?" in problem.message

    def test_field_missing_from_one_of_several_types_names_it(self) -> None:
        """A field declared by only some ``on`` types names the type that lacks it."""
        [problem] = check("event.amount > 1", SCOPE)
        assert "'attend' does not" in problem.message

    def test_event_not_available(self) -> None:
        """``event.X`` where there is no event says where it may be used."""
        scope = Scope(SCOPE.metrics, SCOPE.attributes, event_context="a timer move has no event")
        [problem] = check("event.amount > 1", scope)
        assert (problem.name, problem.message) == (
            "name-out-of-context",
            "event.amount: a timer move has no event",
        )

    def test_position_names_out_of_context(self) -> None:
        """``node`` and ``entered_at`` can be refused (in a metric's where)."""
        scope = Scope(
            SCOPE.metrics, SCOPE.attributes, position=False, position_context="is not here"
        )
        assert [p.name for p in check("node == 'x' and entered_at == now", scope)] == [
            "name-out-of-context"
        ] * 2

    def test_every_problem_is_reported(self) -> None:
        """Several problems in one expression are all reported, in order."""
        assert [name for name, _ in problems("spnd > 1 and member.x == 1 and foo(2)")] == [
            "unknown-name",
            "unknown-attribute",
            "unknown-function",
        ]

    def test_non_ascii_offsets_are_characters(self) -> None:
        """Offsets after non-ASCII text are in characters, not UTF-8 bytes."""
        assert problems("'知識' == spnd") == [("unknown-name", "spnd")]


class TestNeverEvaluated:
    """Checking an expression never runs it."""

    def test_side_effects_do_not_happen(self, tmp_path: object) -> None:
        """A call that would have an effect is only reported."""
        assert problems("__import__('os').system('exit 1')")[0][0] == "forbidden-construct"


NAMES = st.sampled_from(
    [
        "spend",
        "purchases",
        "member.region",
        "event.amount",
        "node",
        "now",
        "entered_at",
        "null",
        "true",
    ]
)
LITERALS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(0, 1e6, allow_nan=False).map(repr),
    st.sampled_from(["'a'", '"b c"']),
)
ATOMS = NAMES | LITERALS


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        inner,
        st.sampled_from(
            ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in"]
        ),
        inner,
    )
    calls = st.one_of(
        inner.map(lambda a: f"days_since({a})"),
        st.tuples(inner, inner).map(lambda ab: f"days_between({ab[0]}, {ab[1]})"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: f"min({', '.join(xs)})"),
        inner.map(lambda a: f"abs({a})"),
        inner.map(lambda a: f"round({a})"),
    )
    return st.one_of(
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda a: f"(not {a})"),
        inner.map(lambda a: f"(-{a})"),
        st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        calls,
    )


EXPRESSIONS = st.recursive(ATOMS, _combine, max_leaves=12)
SCOPE_PURCHASE = Scope(
    SCOPE.metrics, SCOPE.attributes, event_fields={"purchase": frozenset({"amount"})}
)


class TestProperties:
    """Properties over generated expressions."""

    @given(EXPRESSIONS)
    def test_grammar_expressions_pass(self, text: str) -> None:
        """Any expression built from the language's grammar has no problems."""
        assert list(check(text, SCOPE_PURCHASE)) == []

    @given(st.text(max_size=40))
    def test_any_text_gives_problems_not_exceptions(self, text: str) -> None:
        """Arbitrary text never makes the checker raise; problems stay inside the text."""
        for problem in check(text, SCOPE):
            assert isinstance(problem, Problem)
            assert 0 <= problem.start <= max(len(text), 1)

    @given(EXPRESSIONS)
    def test_parse_keeps_offsets_within_text(self, text: str) -> None:
        """Node offsets are inside the text they came from."""
        tree = parse(text)
        assert not isinstance(tree, Problem)


class TestInJourney:
    """Expression problems point inside the journey file."""

    def test_unknown_metric_in_when(self) -> None:
        """The column is that of the unknown name inside the ``when`` string."""
        text = MINIMAL.replace('when: "spend >= 100"', 'when: "spend >= 100 and visits > 2"')
        [d] = validate_rules(text, "j.yaml")
        line = text.splitlines()[d.line - 1]
        assert d.code == "T303"
        assert line[d.column - 1 : d.end_column - 1] == "visits"

    def test_problem_on_second_line_of_block_scalar(self) -> None:
        """A problem on the second line of a ``when: |`` block is on that line in the file."""
        text = MINIMAL.replace(
            '  - {from: visitor, to: vip, on: purchase, when: "spend >= 100"}\n',
            dedent(
                """
                  - from: visitor
                    to: vip
                    on: purchase
                    when: |
                      spend >= 100 and
                      event.amont > 5
                """
            ),
        )
        [d] = validate_rules(text, "j.yaml")
        line = text.splitlines()[d.line - 1]
        assert d.code == "T305"
        assert line[d.column - 1 : d.end_column - 1] == "event.amont"
        assert "did you mean 'amount'?" in d.message

    def test_where_cannot_use_metrics(self) -> None:
        """A metric's ``where`` sees one event, not other metrics."""
        text = MINIMAL.replace(
            "spend: {sum: purchase.amount}", "spend: {sum: purchase.amount, where: 'spend > 1'}"
        )
        [d] = validate_rules(text, "j.yaml")
        assert d.code == "T306" and "where" in d.message

    def test_where_can_use_event_member_and_now(self) -> None:
        """A metric's ``where`` may use its event's fields, attributes and now."""
        text = (
            MINIMAL.replace(
                "spend: {sum: purchase.amount}",
                "spend: {sum: purchase.amount, where: "
                "'event.amount > 1 and member.region != null and now != null'}",
            )
            + "attributes:\n  region: {type: str}\n"
        )
        assert validate_rules(text, "j.yaml") == []

    def test_timer_move_cannot_use_event(self) -> None:
        """A timer move has no event to look at."""
        text = MINIMAL + "  - {from: vip, to: visitor2, after: 30d, when: 'event.amount > 1'}\n"
        text = text.replace(
            "  vip: {kind: peak, owner: crm}\n",
            "  vip: {kind: peak, owner: crm}\n  visitor2: {kind: checkpoint, owner: crm}\n",
        )
        codes = [d.code for d in validate_rules(text, "j.yaml")]
        assert codes == ["T504", "T306"]  # visitor2 is a dead end: the graph reads no guard

    def test_reminder_cannot_use_event(self) -> None:
        """A reminder's ``when`` has no event."""
        text = MINIMAL + dedent(
            """
            incentives:
              nudge: {kind: content, channel: email}
            reminders:
              - {at: visitor, toward: vip, incentive: nudge, when: "event.amount > 1"}
            """
        )
        assert [d.code for d in validate_rules(text, "j.yaml")] == ["T306"]


class TestParseIsSafe:
    """Callers may change the tree ``parse`` gives them without harming later readers."""

    def test_changing_a_parsed_tree_does_not_leak(self) -> None:
        """A tree changed by one caller does not change what checks see next."""
        text = "spend > 100"
        tree = parse(text)
        assert not isinstance(tree, Problem)
        tree.body = ast.Name(id="nonsense", ctx=ast.Load())
        assert list(check(text, SCOPE)) == []
        assert ast.unparse(parse(text)) == "spend > 100"


CALLEES = st.sampled_from(
    ["days_since", "days_between", "min", "max", "abs", "round", "len", "spend", "member.region"]
)
ODD_ATOMS = ATOMS | st.sampled_from(
    ["''", "...", "1j", "b'x'", "None", "x", "__x__", "member", "event", "min", "1e400", "-1"]
)


def _odd(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """The grammar's combinations, and the constructs a checker could let through by mistake."""
    args = st.lists(inner, max_size=3).map(", ".join)
    operators = ["**", "//", "@", "|", "&", "^", "<<", ">>", "is", "is not"]
    return st.one_of(
        _combine(inner),
        st.tuples(CALLEES, args).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, args).map(lambda t: f"({t[0]})({t[1]})"),
        st.tuples(inner, args).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(CALLEES, inner).map(lambda t: f"{t[0]}(*{t[1]})"),
        st.tuples(CALLEES, inner).map(lambda t: f"{t[0]}(x={t[1]})"),
        st.tuples(inner, st.sampled_from(["real", "amount", "region"])).map(
            lambda t: f"({t[0]}).{t[1]}"
        ),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, st.sampled_from(operators), inner).map(lambda t: f"({' '.join(t)})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}, {t[1]})"),
        inner.map(lambda a: f"(+{a})"),
        inner.map(lambda a: f"(~{a})"),
        inner.map(lambda a: f"(lambda: {a})"),
        inner.map(lambda a: f"[x for x in {a}]"),
    )


ODD_EXPRESSIONS = st.recursive(ODD_ATOMS, _odd, max_leaves=8)


class TestAgreesWithTheCompiler:
    """What the checker accepts, the evaluator compiles: no guard passes validation and then
    fails when an engine is made."""

    @given(ODD_EXPRESSIONS)
    def test_accepted_means_compiled(self, text: str) -> None:
        """An expression without problems compiles, by name and on a metric layout."""
        if list(check(text, SCOPE_PURCHASE)):
            return
        compile_expression(text)
        compile_expression(text, {"spend": (0, None), "purchases": (1, None)})

    @pytest.mark.parametrize("text", ["abs(spend)(1) > 0", "-1() > 0", "''() > 0"])
    def test_calls_the_compiler_refuses_are_refused(self, text: str) -> None:
        """The calls found by review: the compiler refuses them, and so does the checker."""
        with pytest.raises(ValueError, match="only the built-in functions"):
            compile_expression(text)
        assert [name for name, _ in problems(text)] == ["forbidden-construct"]

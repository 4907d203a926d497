"""Reference and structure checks: ids exist, and the graph is well formed."""

from __future__ import annotations

import pytest

from conftest import dedent, validate_rules

BASE = dedent(
    """
    topo: 1
    journey: demo
    version: 2
    owners:
      crm: {title: CRM}
    offerings:
      magazine: {kind: product}
    attributes:
      region: {type: str}
      phone: {type: str, pii: true}
    events:
      purchase:
        fields:
          amount: {type: float, min: 0}
          offering: {type: str, one_of: [magazine]}
      unsubscribe: {}
    metrics:
      spend: {sum: purchase.amount, window: 365d}
      purchases: {count: purchase}
      last_seen: {last_at: any}
    nodes:
      visitor: {kind: start, owner: crm}
      buyer: {kind: checkpoint, owner: crm, on_enter: [welcome]}
      vip: {kind: peak, owner: crm}
      gone: {kind: exit, owner: crm}
    moves:
      - {from: visitor, to: buyer, on: purchase}
      - {from: buyer, to: vip, on: purchase, when: "spend >= 100 and purchases >= 2"}
      - {id: requalify, from: vip, to: buyer, after: 365d, since: purchase,
         when: "last_seen == null"}
      - {from: [visitor, buyer, vip], to: gone, on: unsubscribe}
    incentives:
      welcome: {kind: coupon, offering: magazine, channel: sms, message: "Hi, {node} {spend}"}
      keep: {kind: gift, channel: email}
    reminders:
      - {at: vip, ahead_of: requalify, by: 30d, incentive: keep, when: "spend < 100"}
      - {at: buyer, toward: vip, incentive: keep, cooldown: 30d}
    migrations:
      - {from_version: 1, nodes: {regular: buyer}}
    """
)


def codes(text: str) -> list[str]:
    return [d.code for d in validate_rules(text, "j.yaml")]


def test_base_journey_is_clean() -> None:
    """The base journey of these tests has no problems (every case below breaks one thing)."""
    assert [d.render() for d in validate_rules(BASE, "j.yaml")] == []


CASES = [
    ("unknown owner", "vip: {kind: peak, owner: crm}", "vip: {kind: peak, owner: crn}", "T401"),
    ("unknown offering", "offering: magazine, channel", "offering: magazin, channel", "T402"),
    ("unknown node in from", "{from: visitor, to: buyer,", "{from: visitr, to: buyer,", "T403"),
    ("unknown node in to", "to: vip, on: purchase,", "to: vipp, on: purchase,", "T403"),
    ("unknown node in reminder", "{at: buyer, toward: vip,", "{at: buyer, toward: vvip,", "T403"),
    ("unknown migration target", "{regular: buyer}", "{regular: loyal}", "T403"),
    ("unknown event in on", "to: gone, on: unsubscribe}", "to: gone, on: unsubscribed}", "T404"),
    (
        "unknown event in metric",
        "purchases: {count: purchase}",
        "purchases: {count: purchse}",
        "T404",
    ),
    ("unknown since", "since: purchase,", "since: entry,", "T404"),
    ("unknown incentive in on_enter", "on_enter: [welcome]", "on_enter: [welcom]", "T405"),
    (
        "unknown incentive in reminder",
        "incentive: keep, cooldown",
        "incentive: kept, cooldown",
        "T405",
    ),
    ("unknown field", "sum: purchase.amount", "sum: purchase.amout", "T406"),
    ("unknown ahead_of", "ahead_of: requalify", "ahead_of: requalfy", "T407"),
    (
        "two starts",
        "  gone: {kind: exit",
        "  lead: {kind: start, owner: crm}\n  gone: {kind: exit",
        "T408",
    ),
    ("no start", "visitor: {kind: start", "visitor: {kind: checkpoint", "T408"),
    ("no peak", "vip: {kind: peak", "vip: {kind: checkpoint", "T409"),
    (
        "move from exit",
        "{from: [visitor, buyer, vip], to: gone",
        "{from: [visitor, gone, buyer, vip], to: gone",
        "T412",
    ),
    (
        "move into start",
        "{from: visitor, to: buyer, on: purchase}",
        "{from: buyer, to: visitor, on: purchase}",
        "T411",
    ),
    (
        "self move",
        "{from: visitor, to: buyer, on: purchase}",
        "{from: [visitor, buyer], to: buyer, on: purchase}",
        "T412",
    ),
    ("on and after", "to: buyer, after: 365d", "to: buyer, on: purchase, after: 365d", "T413"),
    (
        "neither on nor after",
        "{from: visitor, to: buyer, on: purchase}",
        "{from: visitor, to: buyer}",
        "T413",
    ),
    (
        "since on event move",
        "{from: visitor, to: buyer, on: purchase}",
        "{from: visitor, to: buyer, on: purchase, since: entered}",
        "T414",
    ),
    ("sum of text", "spend: {sum: purchase.amount", "spend: {sum: purchase.offering", "T415"),
    ("sum of any", "spend: {sum: purchase.amount", "spend: {sum: any.amount", "T416"),
    (
        "exit on_enter",
        "gone: {kind: exit, owner: crm}",
        "gone: {kind: exit, owner: crm, on_enter: [keep]}",
        "T417",
    ),
    (
        "incentive into exit",
        "to: gone, on: unsubscribe}",
        "to: gone, on: unsubscribe, incentives: [keep]}",
        "T417",
    ),
    ("reminder at exit", "{at: buyer, toward: vip,", "{at: [buyer, gone], toward: vip,", "T417"),
    (
        "duplicate move id",
        "{from: visitor, to: buyer, on: purchase}",
        "{id: requalify, from: visitor, to: buyer, on: purchase}",
        "T418",
    ),
    (
        "reminder without target",
        "{at: buyer, toward: vip, incentive",
        "{at: buyer, incentive",
        "T419",
    ),
    (
        "reminder with both",
        "{at: buyer, toward: vip,",
        "{at: buyer, toward: vip, ahead_of: requalify, by: 3d,",
        "T419",
    ),
    ("ahead_of without by", "ahead_of: requalify, by: 30d,", "ahead_of: requalify,", "T419"),
    ("by without ahead_of", "{at: buyer, toward: vip,", "{at: buyer, toward: vip, by: 3d,", "T419"),
    ("migration from the future", "from_version: 1", "from_version: 2", "T420"),
    ("metric without field", "spend: {sum: purchase.amount", "spend: {sum: purchase", "T421"),
    (
        "count with field",
        "purchases: {count: purchase}",
        "purchases: {count: purchase.amount}",
        "T421",
    ),
    (
        "min on text",
        "offering: {type: str, one_of: [magazine]}",
        "offering: {type: str, min: 1}",
        "T210",
    ),
    (
        "min above max",
        "amount: {type: float, min: 0}",
        "amount: {type: float, min: 5, max: 1}",
        "T210",
    ),
    ("one_of wrong type", "one_of: [magazine]", "one_of: [magazine, 3]", "T210"),
    (
        "metric with two kinds",
        "purchases: {count: purchase}",
        "purchases: {count: purchase, last_at: purchase}",
        "T211",
    ),
    ("event named profile", "  unsubscribe: {}", "  unsubscribe: {}\n  profile: {}", "T206"),
    ("metric named now", "  purchases: {count: purchase}", "  now: {count: purchase}", "T206"),
    ("event named entered", "  unsubscribe: {}", "  unsubscribe: {}\n  entered: {}", "T206"),
    ("field named at", "offering: {type: str, one_of", "at: {type: str, one_of", "T206"),
    ("attribute named type", "region: {type: str}", "type: {type: str}", "T206"),
    (
        "metric and attribute share a name",
        "  last_seen: {last_at: any}",
        "  last_seen: {last_at: any}\n  region: {count: purchase}",
        "T422",
    ),
    (
        "metric named offering",
        "  last_seen: {last_at: any}",
        "  last_seen: {last_at: any}\n  offering: {count: purchase}",
        "T422",
    ),
]


class TestEachRule:
    """Each rule, broken once, yields exactly its code."""

    @pytest.mark.parametrize("old,new,code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
    def test_rule(self, old: str, new: str, code: str) -> None:
        """Breaking the rule in the clean base journey yields that code alone."""
        assert old in BASE
        broken = BASE.replace(old, new, 1)
        result = codes(broken)
        if code == "T206" and "now:" in new:
            result = [c for c in result if c != "T303"]  # the metric's old name is now unknown
        assert result == [code]


class TestDetails:
    """What the messages say, and the positions they point at."""

    def test_suggestion_for_unknown_node(self) -> None:
        """An unknown node suggests the nearest declared node."""
        [d] = validate_rules(
            BASE.replace("to: vip, on: purchase,", "to: vipp, on: purchase,"), "j.yaml"
        )
        assert d.message == "unknown node 'vipp'; did you mean 'vip'?"

    def test_unknown_node_in_from_list_points_at_the_item(self) -> None:
        """In ``from: [a, b]`` the unknown item is pointed at, not the list."""
        text = BASE.replace(
            "{from: [visitor, buyer, vip], to: gone", "{from: [visitor, byer, vip], to: gone"
        )
        [d] = validate_rules(text, "j.yaml")
        assert text.splitlines()[d.line - 1][d.column - 1 : d.end_column - 1] == "byer"

    def test_profile_is_an_event_type_for_moves_and_metrics(self) -> None:
        """The built-in ``profile`` event can be used in ``on`` and in metrics."""
        text = BASE.replace(
            "purchases: {count: purchase}",
            "purchases: {count: purchase}\n  last_region: {last: profile.region}",
        )
        text = text.replace(
            "{from: visitor, to: buyer, on: purchase}",
            "{from: visitor, to: buyer, on: [purchase, profile]}",
        )
        text = text.replace("{node} {spend}", "{node} {spend} {last_region}")
        assert codes(text) == []

    def test_any_in_where_needs_a_field_every_type_has(self) -> None:
        """With ``any``, ``event.X`` must be a field that every event type declares."""
        text = BASE.replace(
            "last_seen: {last_at: any}", "last_seen: {last_at: any, where: 'event.amount > 1'}"
        )
        assert codes(text) == ["T305"]

    def test_message_placeholder_problems(self) -> None:
        """A pii attribute, an unknown name, a conversion, a format other than ``.Nf`` and
        ``.Nf`` on what is never a number are each reported; ``.Nf`` on a number is fine."""
        for placeholder, code in [
            ("{phone}", "T311"),
            ("{nobody}", "T310"),
            ("{spend!r}", "T309"),
            ("{region}", None),
            ("{spend:.2f} {purchases:.0f}", None),
            ("{spend:.2e}", "T312"),
            ("{region:.2f}", "T313"),
            ("{node:.2f}", "T313"),
            ("{offering:.1f}", "T313"),
            ("{incentive:.0f}", "T313"),
            ("{last_seen:.2f}", "T313"),
            ("{phone:.2f}", "T311"),
        ]:
            text = BASE.replace('message: "Hi, {node} {spend}"', f'message: "Hi {placeholder}"')
            assert codes(text) == ([code] if code else [])

    @pytest.mark.parametrize(
        "message,code,at",
        [
            ('"{node:.2f}"', "T313", "{node:.2f}"),
            ('"spent {spend:.2e} so far"', "T312", ".2e"),
            ("'Hi {spend:.2}'", "T312", ".2"),
            ('"a\\n{spend:}"', "T312", ":"),
        ],
    )
    def test_a_refused_format_is_pointed_at(self, message: str, code: str, at: str) -> None:
        """T312 points at the format after the colon, T313 at the whole placeholder: line and
        column in the file, inside the message."""
        text = BASE.replace('message: "Hi, {node} {spend}"', f"message: {message}")
        [d] = validate_rules(text, "j.yaml")
        assert d.code == code
        line = text.splitlines()[d.line - 1]
        assert line[d.column - 1 : d.end_column - 1] == at
        assert d.end_line == d.line

    @pytest.mark.parametrize(
        "declared,placeholder,code",
        [
            ("score: {type: int}", "{score:.1f}", None),
            ("score: {type: float}", "{score:.1f}", None),
            ("score: {type: bool}", "{score:.1f}", "T313"),
            ("score: {type: date}", "{score:.1f}", "T313"),
            ("score: {type: datetime}", "{score:.1f}", "T313"),
        ],
    )
    def test_a_number_format_on_an_attribute(
        self, declared: str, placeholder: str, code: str | None
    ) -> None:
        """``.Nf`` reads int and float attributes; bool, date and datetime are never numbers."""
        text = BASE.replace("  region: {type: str}", f"  region: {{type: str}}\n  {declared}")
        text = text.replace('message: "Hi, {node} {spend}"', f'message: "Hi {placeholder}"')
        assert codes(text) == ([code] if code else [])

    @pytest.mark.parametrize(
        "metric,code",
        [
            ("max: purchase.amount", None),
            ("min: purchase.amount", None),
            ("last: purchase.amount", None),
            ("last: purchase.offering", "T313"),
            ("last: profile.region", "T313"),
            ("first_at: purchase", "T313"),
            ("distinct: purchase.offering", None),
        ],
    )
    def test_a_number_format_on_a_metric(self, metric: str, code: str | None) -> None:
        """``.Nf`` reads counts, sums and the min, max or last of a number field; a time or the
        last of a text field is never a number."""
        text = BASE.replace(PURCHASES, f"{PURCHASES}\n  value: {{{metric}}}")
        text = text.replace(
            "{from: visitor, to: buyer, on: purchase}",
            "{from: visitor, to: buyer, on: [purchase, profile]}",
        )
        text = text.replace('message: "Hi, {node} {spend}"', 'message: "Hi {value:.2f}"')
        assert codes(text) == ([code] if code else [])


PURCHASES = "  purchases: {count: purchase}"


class TestPiiMetrics:
    """A metric may not carry a pii attribute's value out of the member's state."""

    @pytest.mark.parametrize(
        "metric,attribute",
        [
            ("last: profile.phone", "phone"),
            ("last: profile.income", "income"),
            ("sum: profile.income", "income"),
            ("min: profile.income", "income"),
            ("max: profile.income", "income"),
        ],
    )
    def test_a_metric_that_carries_the_value(self, metric: str, attribute: str) -> None:
        """last, sum, min and max of a pii attribute: T423 at the metric, naming the attribute."""
        text = BASE.replace(
            "  phone: {type: str, pii: true}",
            "  phone: {type: str, pii: true}\n  income: {type: float, pii: true}",
        ).replace(PURCHASES, f"{PURCHASES}\n  copy: {{{metric}}}")
        [d] = [d for d in validate_rules(text, "j.yaml") if d.severity == "error"]
        assert d.code == "T423" and f"the pii attribute {attribute!r}" in d.message
        assert text.splitlines()[d.line - 1][d.column - 1 :].startswith(metric.split(": ")[1])

    @pytest.mark.parametrize(
        "metric",
        ["count: profile, where: 'event.phone != null'", "distinct: profile.phone",
         "last: profile.region"],
    )  # fmt: skip
    def test_numbers_that_do_not_show_it(self, metric: str) -> None:
        """count and distinct of a pii attribute, and any metric of a non-pii one, are fine."""
        text = BASE.replace(PURCHASES, f"{PURCHASES}\n  copy: {{{metric}}}")
        assert "T423" not in codes(text)

    def test_a_field_named_like_a_pii_attribute(self) -> None:
        """An event field named like a pii attribute holds its value (rejects mask it in every
        event type): a metric that carries it is T423 too (a review found it in messages)."""
        text = BASE.replace(
            "  unsubscribe: {}", "  unsubscribe: {}\n  call: {fields: {phone: {type: str}}}"
        ).replace(PURCHASES, f"{PURCHASES}\n  last_call: {{last: call.phone}}")
        [d] = [d for d in validate_rules(text, "j.yaml") if d.severity == "error"]
        assert d.code == "T423" and "a field named like the pii attribute 'phone'" in d.message

"""The report as one self-contained HTML file, for the people who run the programme.

Plain headings, a chart per figure with a sentence under it saying what it shows, and the
numbers beside it in a table, so that they can be quoted. plotly draws the charts; plotly.js is
written into the page once, inline, so the file opens without a network (no CDN, no fonts, no
links out). A summary of several runs (:func:`topo.report.aggregate.combine`) draws the means
and shows the 90% interval in the tables. The same summary always gives the same file.
"""

from __future__ import annotations

import json
import warnings
from html import escape
from pathlib import Path
from typing import Any

from topo.errors import UsageError

__all__ = ["write_report", "write_summary"]

_CONFIG = {"displaylogo": False, "responsive": True}
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.7em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
p.what { color: #444; font-style: italic; } .meta td { text-align: left; }
"""


def write_summary(summary: dict[str, Any], path: str | Path) -> None:
    """Write the summary as JSON: sorted keys, two-space indent, UTF-8, one final newline."""
    text = json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def write_report(summary: dict[str, Any], path: str | Path, *, title: str | None = None) -> None:
    """Write the report of ``summary`` (from :func:`topo.report.summary.summarise`, or several
    runs combined) to ``path`` as one HTML file. Raises :class:`topo.errors.UsageError` when
    plotly, the ``report`` extra, is not installed.

    The caller's :func:`warnings.formatwarning` is kept: plotly 5 replaces it with its own when
    ``plotly.tools`` is first imported, which changed how every later warning of the process
    (pytest's summary included) was written."""
    formatwarning = warnings.formatwarning
    try:
        _write_report(summary, path, title)
    finally:
        warnings.formatwarning = formatwarning


def plotly_figures() -> Any:
    """``plotly.graph_objects``; without plotly, a :class:`UsageError` naming the extra (the
    command line asks before a run, not after it)."""
    try:
        import plotly.graph_objects as go  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise UsageError(
            "the report needs plotly, topo's report extra: pip install plotly "
            "(or '.[report]' in topo's folder)"
        ) from None
    return go


def _write_report(summary: dict[str, Any], path: str | Path, title: str | None) -> None:
    page = _Page(plotly_figures())
    header = summary["header"]
    heading = title or f"{header.get('title') or header['journey']}: {header['source']} report"
    _header_section(page, summary)
    _funnel(page, summary)
    _moves(page, summary)
    _time(page, summary)
    _stuck(page, summary)
    _incentives(page, summary)
    _pressure(page, summary)
    _control_groups(page, summary)
    _owners(page, summary)
    Path(path).write_text(page.render(heading), encoding="utf-8")


class _Page:
    """The parts of the page in order; the first chart carries plotly.js."""

    def __init__(self, go: Any) -> None:
        self.go = go
        self.parts: list[str] = []
        self.charts = 0

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{escape(text)}</h2>")

    def say(self, text: str) -> None:
        self.parts.append(f'<p class="what">{escape(text)}</p>')

    def chart(self, figure: Any, name: str, height: int = 420) -> None:
        figure.update_layout(template="plotly_white", height=height, margin={"t": 40})
        self.parts.append(
            figure.to_html(
                full_html=False,
                include_plotlyjs=self.charts == 0,
                div_id=f"chart-{name}",
                config=_CONFIG,
            )
        )
        self.charts += 1

    def table(self, head: list[str], rows: list[list[Any]]) -> None:
        cells = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
        )
        self.parts.append(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")

    def render(self, title: str) -> str:
        body = "\n".join(self.parts)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
        )


# -- numbers as a person reads them ---------------------------------------------------------


def _mean(value: Any) -> float | None:
    """The number to draw: the value, or the mean of a combined figure."""
    if isinstance(value, dict):
        return float(value["mean"])
    return None if value is None else float(value)


def _text(value: Any, kind: str = "count") -> str:
    """A figure as text; a combined one as ``mean (low to high)``."""
    if isinstance(value, dict):
        low, high = _text(value["low"], kind), _text(value["high"], kind)
        return f"{_text(value['mean'], kind)} ({low} to {high})"
    if value is None:
        return "n/a"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "points":
        return f"{100 * value:+.1f} pp"
    if kind == "days":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "p":
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


# -- sections -------------------------------------------------------------------------------


def _header_section(page: _Page, summary: dict[str, Any]) -> None:
    h = summary["header"]
    runs = h.get("runs", 1)
    rows = [
        ["journey", f"{h['journey']} (version {h['version']})"],
        [
            "source",
            h["source"] + (f", {runs} runs (90% intervals in brackets)" if runs > 1 else ""),
        ],
        ["from", h["start"] or "n/a"],
        ["to", h["end"]],
        ["members", _text(h["members"])],
        ["topo", h["topo"]],
    ]
    page.parts.append(
        '<table class="meta"><tbody>'
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
        + "</tbody></table>"
    )


def _funnel(page: _Page, summary: dict[str, Any]) -> None:
    go, funnel = page.go, summary["funnel"]
    nodes = funnel["nodes"]
    page.heading("Funnel: how far members got")
    names = [n["node"] for n in nodes]
    figure = go.Figure(
        [
            go.Bar(name="ever reached", x=names, y=[_mean(n["reached"]) for n in nodes]),
            go.Bar(name="there at the end", x=names, y=[_mean(n["at_end"]) for n in nodes]),
        ]
    )
    figure.update_layout(barmode="group", yaxis_title="members")
    page.chart(figure, "funnel")
    page.say(
        f"Of {_text(funnel['joined'])} members who joined, how many ever reached each stage "
        "(left bar) and how many were at it when the period ended (right bar)."
    )
    page.table(
        ["stage", "kind", "owner", "ever reached", "share of joined", "there at the end"],
        [
            [
                n["node"],
                n["kind"],
                n["owner"],
                _text(n["reached"]),
                _text(n["share"], "share"),
                _text(n["at_end"]),
            ]
            for n in nodes
        ],
    )


def _moves(page: _Page, summary: dict[str, Any]) -> None:
    go, moves = page.go, summary["moves"]
    edges = [e for e in moves["edges"] if (_mean(e["moves"]) or 0) > 0]
    page.heading("Moves: where members went")
    if not edges:
        page.say("No member moved in this period.")
        return
    names = list(dict.fromkeys([n["node"] for n in summary["funnel"]["nodes"]]))
    for e in edges:
        names += [x for x in (e["from"], e["to"]) if x not in names]
    link = {
        "source": [names.index(e["from"]) for e in edges],
        "target": [names.index(e["to"]) for e in edges],
        "value": [_mean(e["moves"]) for e in edges],
    }
    figure = go.Figure(go.Sankey(node={"label": names, "pad": 20}, link=link))
    page.chart(figure, "moves", 460)
    page.say(
        "Each band is a move between two stages; its width is the number of moves made. "
        "A member who went back and forth is counted each time."
    )
    page.table(
        ["from", "to", "moves", "members who moved"],
        [[e["from"], e["to"], _text(e["moves"]), _text(e["members"])] for e in moves["edges"]],
    )


def _time(page: _Page, summary: dict[str, Any]) -> None:
    go, time = page.go, summary["time"]
    rows = time["to_node"]
    page.heading("Time: how long members take")
    figure = go.Figure()
    drawn = [r for r in rows if _mean(r["median"]) is not None]
    if drawn:
        medians = [_mean(r["median"]) or 0.0 for r in drawn]
        figure.add_bar(
            x=[r["node"] for r in drawn],
            y=medians,
            name="median",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [_gap(r["q3"], m) for r, m in zip(drawn, medians, strict=True)],
                "arrayminus": [_gap(m, r["q1"]) for r, m in zip(drawn, medians, strict=True)],
            },
        )
        figure.update_layout(yaxis_title="days from joining")
        page.chart(figure, "time")
    page.say(
        "Days from joining to first reaching each stage: the bar is the median member, the "
        "whisker runs from the first to the third quartile. Members still on the way count up "
        "to the end of the period (Kaplan-Meier), so n/a means fewer than that share got there."
    )
    open_ended = [r["node"] for r in drawn if _mean(r["q3"]) is None]
    undrawn = [r["node"] for r in rows if _mean(r["median"]) is None]
    if open_ended:
        page.say(
            f"No upper whisker for {', '.join(open_ended)}: fewer than three members in four "
            "got there by the end, so the third quartile is not known."
        )
    if undrawn:
        page.say(
            f"Not drawn: {', '.join(undrawn)}, which fewer than half of the members reached by "
            "the end (no median); the table gives what is known."
        )
    page.table(
        ["stage", "reached", "still on the way", "25% by day", "median day", "75% by day"],
        [[r["node"], *_quartile_cells(r)] for r in rows],
    )
    page.say(
        "Between stages: days from entering a stage to taking the move to the next one. A stay "
        "that ended with another move, or was still going at the end, counts up to then."
    )
    page.table(
        ["from", "to", "took the move", "did not (yet)", "25% by day", "median day", "75% by day"],
        [[r["from"], r["to"], *_quartile_cells(r)] for r in time["edges"]],
    )


def _gap(high: Any, low: Any) -> float:
    a, b = _mean(high), _mean(low)
    return 0.0 if a is None or b is None else max(a - b, 0.0)


def _quartile_cells(row: dict[str, Any]) -> list[str]:
    return [
        _text(row["arrived"]),
        _text(row["censored"]),
        *(_text(row[k], "days") for k in ("q1", "median", "q3")),
    ]


def _stuck(page: _Page, summary: dict[str, Any]) -> None:
    go, rows = page.go, summary["stuck"]
    page.heading("Stuck: who is waiting at a stage")
    figure = go.Figure(
        go.Bar(
            x=[r["node"] for r in rows],
            y=[_mean(r["members"]) for r in rows],
            customdata=[[_mean(r["median"])] for r in rows],
            hovertemplate="%{x}: %{y} members, median %{customdata[0]:.1f} days<extra></extra>",
        )
    )
    figure.update_layout(yaxis_title="members there at the end")
    page.chart(figure, "stuck")
    page.say(
        "Members at the start and at each checkpoint when the period ended, and how many days "
        "they had been there: a long wait at one stage is a step that may be too hard to take."
    )
    page.table(
        ["stage", "members", "25% (days)", "median (days)", "75% (days)", "longest (days)"],
        [
            [
                r["node"],
                _text(r["members"]),
                *(_text(r[k], "days") for k in ("q1", "median", "q3", "max")),
            ]
            for r in rows
        ],
    )


def _incentives(page: _Page, summary: dict[str, Any]) -> None:
    go, inc = page.go, summary["incentives"]
    page.heading("Incentives: what was granted and what it cost")
    page.say(
        f"{_text(inc['grants'])} grants cost {_text(inc['total_cost'], 'money')} in total, "
        f"{_text(inc['cost_per_member'], 'money')} per member who joined."
    )
    page.table(
        ["incentive", "kind", "channel", "cost each", "grants", "members", "cost", "withheld"],
        [
            [
                r["incentive"],
                r["kind"],
                r["channel"],
                _text(r["cost_each"], "money"),
                _text(r["grants"]),
                _text(r["members"]),
                _text(r["cost"], "money"),
                _text(r["withheld"]),
            ]
            for r in inc["by_incentive"]
        ],
    )
    page.table(
        ["channel", "grants", "cost"],
        [[r["channel"], _text(r["grants"]), _text(r["cost"], "money")] for r in inc["by_channel"]],
    )
    page.table(
        ["incentive", "owner", "grants", "cost"],
        [
            [r["incentive"], r["owner"], _text(r["grants"]), _text(r["cost"], "money")]
            for r in inc["by_incentive_owner"]
        ],
    )
    weeks = inc["weeks"]
    if weeks:
        figure = go.Figure(
            go.Scatter(
                x=[w["week"] for w in weeks], y=[_mean(w["cost"]) for w in weeks], mode="lines"
            )
        )
        figure.update_layout(xaxis_title="week starting (Monday, UTC)", yaxis_title="cost")
        page.chart(figure, "cost-per-week")
        page.say(
            "What the incentives granted each week cost (the cost of each grant as the "
            "journey states it)."
        )
        page.table(
            ["week starting", "grants", "cost"],
            [[w["week"], _text(w["grants"]), _text(w["cost"], "money")] for w in weeks],
        )
    page.heading("Withheld grants: what the caps held back")
    reasons = inc["withheld_by_reason"]
    if not reasons:
        page.say("No grant was withheld.")
        return
    figure = go.Figure(
        go.Bar(x=[r["reason"] for r in reasons], y=[_mean(r["withheld"]) for r in reasons])
    )
    figure.update_layout(yaxis_title="grants withheld")
    page.chart(figure, "withheld")
    page.say(
        "Grants the journey would have made but a cap held back, by the cap: once, cooldown, a "
        "reminder's own cooldown or once per stay, holdout (the control group), pressure."
    )
    page.table(
        ["incentive", "reason", "withheld"],
        [[r["incentive"], r["reason"], _text(r["withheld"])] for r in inc["withheld"]],
    )


def _pressure(page: _Page, summary: dict[str, Any]) -> None:
    go, p = page.go, summary["pressure"]
    per = _text(p["per_days"], "days")
    page.heading("Pressure: how many grants a member got at once")
    rows = p["histogram"]
    figure = go.Figure(
        go.Bar(x=[r["grants_in_window"] for r in rows], y=[_mean(r["members"]) for r in rows])
    )
    figure.update_layout(
        xaxis_title=f"most grants in any {per} days", yaxis_title="members", xaxis_dtick=1
    )
    page.chart(figure, "pressure")
    limit = "no limit is set" if p["limit"] is None else f"the journey allows {p['limit']}"
    page.say(
        f"For each member, the most grants received within any {per} days; the highest was "
        f"{_text(p['maximum'])} ({limit})."
    )
    page.table(
        [f"grants in {per} days", "members"],
        [[r["grants_in_window"], _text(r["members"])] for r in rows],
    )


def _control_groups(page: _Page, summary: dict[str, Any]) -> None:
    go, rows = page.go, summary["control_groups"]
    window = _text(summary["header"]["window_days"], "days")
    page.heading("Control groups: does the incentive make a difference?")
    if not rows:
        page.say("No incentive has a holdout, so there is no control group to compare with.")
        return
    drawn = [r for r in rows if _mean(r["difference"]) is not None]
    if drawn:
        diffs = [100 * (_mean(r["difference"]) or 0.0) for r in drawn]
        figure = go.Figure(
            go.Scatter(
                x=[r["incentive"] for r in drawn],
                y=diffs,
                mode="markers",
                marker={"size": 12},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [100 * _gap(r["high"], r["difference"]) for r in drawn],
                    "arrayminus": [100 * _gap(r["difference"], r["low"]) for r in drawn],
                },
            )
        )
        figure.add_hline(y=0, line_dash="dot")
        figure.update_layout(yaxis_title="granted minus held out (percentage points)")
        page.chart(figure, "control-groups")
    page.say(
        f"For each incentive with a holdout: the share of members who reached the incentive's "
        f"goal within {window} days, granted against held out. The dot is the difference, the "
        "bar its 95% interval; an interval that crosses zero shows no clear effect. The last "
        "column is the smallest difference these group sizes could detect (80% power)."
    )
    page.table(
        [
            "incentive",
            "granted",
            "reached",
            "held out",
            "reached",
            "difference",
            "95% interval",
            "p-value",
            "detectable",
        ],
        [
            [
                r["incentive"],
                _text(r["granted"]["members"]),
                _text(r["granted"]["share"], "share"),
                _text(r["held_out"]["members"]),
                _text(r["held_out"]["share"], "share"),
                _text(r["difference"], "points"),
                f"{_text(r['low'], 'points')} to {_text(r['high'], 'points')}",
                _text(r["p_value"], "p"),
                _text(r["detectable"], "points"),
            ]
            for r in rows
        ],
    )


def _owners(page: _Page, summary: dict[str, Any]) -> None:
    page.heading("Owners: who has the members, who spends")
    page.say(
        "Per department: the members at the stages it owns when the period ended, and the "
        "grants made while a member was at one of its stages (right after the grant), with "
        "their cost."
    )
    page.table(
        ["owner", "stages", "members at the end", "grants", "cost"],
        [
            [
                r["title"] or r["owner"],
                ", ".join(r["nodes"]),
                _text(r["members"]),
                _text(r["grants"]),
                _text(r["cost"], "money"),
            ]
            for r in summary["owners"]
        ],
    )

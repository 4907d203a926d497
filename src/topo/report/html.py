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
from topo.report.calibration_section import calibration_section
from topo.report.page import Page, mean, text

__all__ = ["write_report", "write_summary"]


def write_summary(summary: dict[str, Any], path: str | Path) -> None:
    """Write the summary as JSON: sorted keys, two-space indent, UTF-8, one final newline."""
    written = json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    Path(path).write_text(written, encoding="utf-8")


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
    page = Page(plotly_figures())
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
    if summary.get("calibration"):
        calibration_section(page, summary["calibration"])
    Path(path).write_text(page.render(heading), encoding="utf-8")


# -- sections -------------------------------------------------------------------------------


def _header_section(page: Page, summary: dict[str, Any]) -> None:
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
        ["members", text(h["members"])],
        ["topo", h["topo"]],
    ]
    page.parts.append(
        '<table class="meta"><tbody>'
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
        + "</tbody></table>"
    )


def _funnel(page: Page, summary: dict[str, Any]) -> None:
    go, funnel = page.go, summary["funnel"]
    nodes = funnel["nodes"]
    page.heading("Funnel: how far members got")
    names = [n["node"] for n in nodes]
    figure = go.Figure(
        [
            go.Bar(name="ever reached", x=names, y=[mean(n["reached"]) for n in nodes]),
            go.Bar(name="there at the end", x=names, y=[mean(n["at_end"]) for n in nodes]),
        ]
    )
    figure.update_layout(barmode="group", yaxis_title="members")
    page.chart(figure, "funnel")
    page.say(
        f"Of {text(funnel['joined'])} members who joined, how many ever reached each stage "
        "(left bar) and how many were at it when the period ended (right bar)."
    )
    page.table(
        ["stage", "kind", "owner", "ever reached", "share of joined", "there at the end"],
        [
            [
                n["node"],
                n["kind"],
                n["owner"],
                text(n["reached"]),
                text(n["share"], "share"),
                text(n["at_end"]),
            ]
            for n in nodes
        ],
    )


def _moves(page: Page, summary: dict[str, Any]) -> None:
    go, moves = page.go, summary["moves"]
    edges = [e for e in moves["edges"] if (mean(e["moves"]) or 0) > 0]
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
        "value": [mean(e["moves"]) for e in edges],
    }
    figure = go.Figure(go.Sankey(node={"label": names, "pad": 20}, link=link))
    page.chart(figure, "moves", 460)
    page.say(
        "Each band is a move between two stages; its width is the number of moves made. "
        "A member who went back and forth is counted each time."
    )
    page.table(
        ["from", "to", "moves", "members who moved"],
        [[e["from"], e["to"], text(e["moves"]), text(e["members"])] for e in moves["edges"]],
    )


def _time(page: Page, summary: dict[str, Any]) -> None:
    go, time = page.go, summary["time"]
    rows = time["to_node"]
    page.heading("Time: how long members take")
    figure = go.Figure()
    drawn = [r for r in rows if mean(r["median"]) is not None]
    if drawn:
        medians = [mean(r["median"]) or 0.0 for r in drawn]
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
    open_ended = [r["node"] for r in drawn if mean(r["q3"]) is None]
    undrawn = [r["node"] for r in rows if mean(r["median"]) is None]
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
    a, b = mean(high), mean(low)
    return 0.0 if a is None or b is None else max(a - b, 0.0)


def _quartile_cells(row: dict[str, Any]) -> list[str]:
    return [
        text(row["arrived"]),
        text(row["censored"]),
        *(text(row[k], "days") for k in ("q1", "median", "q3")),
    ]


def _stuck(page: Page, summary: dict[str, Any]) -> None:
    go, rows = page.go, summary["stuck"]
    page.heading("Stuck: who is waiting at a stage")
    figure = go.Figure(
        go.Bar(
            x=[r["node"] for r in rows],
            y=[mean(r["members"]) for r in rows],
            customdata=[[mean(r["median"])] for r in rows],
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
                text(r["members"]),
                *(text(r[k], "days") for k in ("q1", "median", "q3", "max")),
            ]
            for r in rows
        ],
    )


def _incentives(page: Page, summary: dict[str, Any]) -> None:
    go, inc = page.go, summary["incentives"]
    page.heading("Incentives: what was granted and what it cost")
    page.say(
        f"{text(inc['grants'])} grants cost {text(inc['total_cost'], 'money')} in total, "
        f"{text(inc['cost_per_member'], 'money')} per member who joined."
    )
    page.table(
        ["incentive", "kind", "channel", "cost each", "grants", "members", "cost", "withheld"],
        [
            [
                r["incentive"],
                r["kind"],
                r["channel"],
                text(r["cost_each"], "money"),
                text(r["grants"]),
                text(r["members"]),
                text(r["cost"], "money"),
                text(r["withheld"]),
            ]
            for r in inc["by_incentive"]
        ],
    )
    page.table(
        ["channel", "grants", "cost"],
        [[r["channel"], text(r["grants"]), text(r["cost"], "money")] for r in inc["by_channel"]],
    )
    page.table(
        ["incentive", "owner", "grants", "cost"],
        [
            [r["incentive"], r["owner"], text(r["grants"]), text(r["cost"], "money")]
            for r in inc["by_incentive_owner"]
        ],
    )
    weeks = inc["weeks"]
    if weeks:
        figure = go.Figure(
            go.Scatter(
                x=[w["week"] for w in weeks], y=[mean(w["cost"]) for w in weeks], mode="lines"
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
            [[w["week"], text(w["grants"]), text(w["cost"], "money")] for w in weeks],
        )
    page.heading("Withheld grants: what the caps held back")
    reasons = inc["withheld_by_reason"]
    if not reasons:
        page.say("No grant was withheld.")
        return
    figure = go.Figure(
        go.Bar(x=[r["reason"] for r in reasons], y=[mean(r["withheld"]) for r in reasons])
    )
    figure.update_layout(yaxis_title="grants withheld")
    page.chart(figure, "withheld")
    page.say(
        "Grants the journey would have made but a cap held back, by the cap: once, cooldown, a "
        "reminder's own cooldown or once per stay, holdout (the control group), pressure."
    )
    page.table(
        ["incentive", "reason", "withheld"],
        [[r["incentive"], r["reason"], text(r["withheld"])] for r in inc["withheld"]],
    )


def _pressure(page: Page, summary: dict[str, Any]) -> None:
    go, p = page.go, summary["pressure"]
    per = text(p["per_days"], "days")
    page.heading("Pressure: how many grants a member got at once")
    rows = p["histogram"]
    figure = go.Figure(
        go.Bar(x=[r["grants_in_window"] for r in rows], y=[mean(r["members"]) for r in rows])
    )
    figure.update_layout(
        xaxis_title=f"most grants in any {per} days", yaxis_title="members", xaxis_dtick=1
    )
    page.chart(figure, "pressure")
    limit = "no limit is set" if p["limit"] is None else f"the journey allows {p['limit']}"
    page.say(
        f"For each member, the most grants received within any {per} days; the highest was "
        f"{text(p['maximum'])} ({limit})."
    )
    page.table(
        [f"grants in {per} days", "members"],
        [[r["grants_in_window"], text(r["members"])] for r in rows],
    )


def _control_groups(page: Page, summary: dict[str, Any]) -> None:
    go, rows = page.go, summary["control_groups"]
    window = text(summary["header"]["window_days"], "days")
    page.heading("Control groups: does the incentive make a difference?")
    if not rows:
        page.say("No incentive has a holdout, so there is no control group to compare with.")
        return
    drawn = [r for r in rows if mean(r["difference"]) is not None]
    if drawn:
        diffs = [100 * (mean(r["difference"]) or 0.0) for r in drawn]
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
                text(r["granted"]["members"]),
                text(r["granted"]["share"], "share"),
                text(r["held_out"]["members"]),
                text(r["held_out"]["share"], "share"),
                text(r["difference"], "points"),
                f"{text(r['low'], 'points')} to {text(r['high'], 'points')}",
                text(r["p_value"], "p"),
                text(r["detectable"], "points"),
            ]
            for r in rows
        ],
    )


def _owners(page: Page, summary: dict[str, Any]) -> None:
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
                text(r["members"]),
                text(r["grants"]),
                text(r["cost"], "money"),
            ]
            for r in summary["owners"]
        ],
    )

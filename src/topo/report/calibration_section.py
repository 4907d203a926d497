"""The report's calibration section: what ``topo calibrate`` fitted, and how its prediction of
the hold-out compares with what happened (section 9 of the report)."""

from __future__ import annotations

from typing import Any

from topo.report.page import Page, text

__all__ = ["calibration_section"]


def calibration_section(page: Page, calibration: dict[str, Any]) -> None:
    go = page.go
    page.heading("Calibration: personas fitted to the history")
    page.say(
        f"Fitted on {text(calibration['members'])} members' events from "
        f"{calibration['start'][:10]} to {calibration['last_day']}, joining over "
        f"{text(calibration['join_spread_days'])} days. Each row is one event type: how many "
        "members sent it, and the model that now makes it in the simulation."
    )
    page.table(
        ["event type", "members", "share", "model", "log-likelihood", "chi-square", "p-value"],
        [
            [
                f["type"],
                text(f["members"]),
                text(f["share"], "share"),
                f["model"],
                "" if not f["bgnbd"] else f"{f['bgnbd']['log_likelihood']:,.1f}",
                "" if not f["bgnbd"] else f"{f['bgnbd']['chi_square']:.1f}",
                "" if not f["bgnbd"] else text(f["bgnbd"]["p_value"], "p"),
            ]
            for f in calibration["fits"]
        ],
    )
    for fit in calibration["fits"]:
        model = fit["bgnbd"]
        if not model:
            continue
        classes = [h["class"] for h in model["histogram"]]
        figure = go.Figure([
            go.Bar(name="members", x=classes, y=[h["observed"] for h in model["histogram"]]),
            go.Bar(name="the model expects", x=classes,
                   y=[h["expected"] for h in model["histogram"]]),
        ])  # fmt: skip
        figure.update_layout(barmode="group", xaxis_title=f"repeat days of {fit['type']}",
                             yaxis_title="members")  # fmt: skip
        page.chart(figure, f"calibration-{fit['type']}")
        page.say(
            f"BG/NBD for {fit['type']}: r {model['r']:.4f}, alpha {model['alpha']:.4f}, "
            f"a {model['a']:.4f}, b {model['b']:.4f} (weeks). Members by how many days they "
            "sent it again, and what the fitted model expects: bars far apart, or a small "
            "p-value, say the model misses the shape of the history."
        )
    holdout = calibration["holdout"]
    if holdout:
        _holdout(page, holdout)


def _holdout(page: Page, holdout: dict[str, Any]) -> None:
    go = page.go
    page.heading("Hold-out: the prediction against what happened")
    nodes = holdout["nodes"]
    names = [n["node"] for n in nodes]
    figure = go.Figure([
        go.Bar(name="predicted", x=names, y=[n["predicted"] for n in nodes]),
        go.Bar(name="actual", x=names, y=[n["actual"] for n in nodes]),
    ])  # fmt: skip
    figure.update_layout(barmode="group", yaxis_title="share of members", yaxis_tickformat=".0%")
    page.chart(figure, "holdout-nodes")
    page.say(
        f"The {text(holdout['members'])} members who joined before {holdout['start'][:10]}, "
        f"continued from there by the fitted model (predicted) and as they really went on "
        f"(actual): the share at each stage on {holdout['end'][:10]}."
    )
    page.table(
        ["stage", "predicted", "actual", "difference"],
        [[n["node"], text(n["predicted"], "share"), text(n["actual"], "share"),
          text(n["predicted"] - n["actual"], "points")] for n in nodes],
    )  # fmt: skip
    page.table(
        ["event type", "predicted customer-days", "actual", "difference"],
        [[d["type"], text(d["predicted"]), text(d["actual"]),
          "" if not d["actual"] else f"{(d['predicted'] - d['actual']) / d['actual']:+.1%}"]
         for d in holdout["days"]],
    )  # fmt: skip
    frequency = holdout["frequency"]
    if frequency:
        classes = [f["class"] for f in frequency]
        figure = go.Figure([
            go.Scatter(name="predicted", x=classes, y=[f["predicted"] for f in frequency]),
            go.Scatter(name="actual", x=classes, y=[f["actual"] for f in frequency]),
        ])  # fmt: skip
        figure.update_layout(xaxis_title="repeat days before the hold-out",
                             yaxis_title="mean customer-days in it")  # fmt: skip
        page.chart(figure, "holdout-frequency")
        page.say(
            "Members grouped by how often they came back before the hold-out, and how often "
            "they came back in it, on average: predicted and actual. Where the lines part, the "
            "model misjudges members like these."
        )

"""The report of a calibration: the usual figures of the members it predicts, and what it
adds (the ``calibration`` key of ``schema/summary-1.schema.json``): its fits and, with a
hold-out, the predicted-against-actual tables.

No value of an event is written: a categorical field's fit says how many values it has, not
which (a field's values are the brand's data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from topo.calibration import spend
from topo.calibration.calibrate import Calibration, TypeFit
from topo.journey.model import Journey
from topo.report.summary import summarise

__all__ = ["calibration_summary", "report_summary"]


def calibration_summary(calibration: Calibration) -> dict[str, Any]:
    holdout = calibration.holdout
    return {
        "start": calibration.first.isoformat(),
        "last_day": calibration.end.isoformat(),
        "members": calibration.members,
        "join_spread_days": max(segment.spread_days for segment in calibration.segments),
        "fits": [
            {"persona": segment.id, **_type(fit)}
            for segment in calibration.segments
            for fit in segment.types.values()
        ],
        "holdout": None if holdout is None else _holdout(holdout),
    }


def _type(fit: TypeFit) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": fit.name,
        "members": fit.members,
        "share": fit.share,
        "mean_delay_days": fit.delay_days,
        "model": "bgnbd" if fit.bgnbd else "poisson" if fit.every_days else "once",
        "bgnbd": None,
        "every_days": fit.every_days,
        "fields": [_field(name, fitted) for name, fitted in fit.fields.items()],
    }
    b = fit.bgnbd
    if b is not None:
        top = len(b.observed) - 1
        out["bgnbd"] = {
            "r": b.r, "alpha": b.alpha, "a": b.a, "b": b.b, "unit_days": 7,
            "log_likelihood": b.log_likelihood, "members": b.members,
            "chi_square": b.chi_square, "degrees": b.degrees, "p_value": b.p_value,
            "histogram": [
                {"class": f"{k}+" if k == top else str(k), "observed": o, "expected": e}
                for k, (o, e) in enumerate(zip(b.observed, b.expected, strict=True))
            ],
        }  # fmt: skip
    return out


def _field(name: str, fitted: Any) -> dict[str, Any]:
    if isinstance(fitted, spend.GammaGammaFit):
        parameters = {"p": fitted.p, "q": fitted.q, "gamma": fitted.gamma}
        return {"field": name, "model": "gamma_gamma", "parameters": parameters,
                "log_likelihood": fitted.log_likelihood, "count": fitted.members}  # fmt: skip
    if isinstance(fitted, spend.LogNormalFit):
        parameters = {"median": fitted.median, "sigma": fitted.sigma}
        return {"field": name, "model": "lognormal", "parameters": parameters,
                "log_likelihood": fitted.log_likelihood, "count": fitted.values}  # fmt: skip
    if isinstance(fitted, tuple):
        parameters = {"mean": fitted[1], "sd": fitted[2]}
        return {"field": name, "model": "normal", "parameters": parameters,
                "log_likelihood": None, "count": None}  # fmt: skip
    return {"field": name, "model": "shares", "parameters": {"values": len(fitted)},
            "log_likelihood": None, "count": None}  # fmt: skip


def _holdout(holdout: Any) -> dict[str, Any]:
    return {
        "start": holdout.start.isoformat(),
        "end": holdout.end.isoformat(),
        "members": holdout.members,
        "nodes": [
            {"node": node, "predicted": p, "actual": a} for node, (p, a) in holdout.nodes.items()
        ],
        "days": [
            {"type": kind, "predicted": p, "actual": a} for kind, (p, a) in holdout.days.items()
        ],
        "frequency": [
            {"class": label, "members": m, "predicted": p, "actual": a}
            for label, (m, p, a) in holdout.frequency.items()
        ],
    }


def report_summary(calibration: Calibration, journey: Journey, *, seed: int = 0) -> dict[str, Any]:
    """The report's summary of a calibration: with a hold-out, of the members continued from
    its start (predicted, as of its end); without one, of a simulation of the fitted personas
    over the history's span, as many members as it had; with the ``calibration`` key."""
    holdout = calibration.holdout
    if holdout is not None and holdout.predicted is not None:
        store = holdout.predicted.store
        states = [s for s in (store.get(m) for m in sorted(store.members())) if s is not None]
        summary = summarise(journey, states, end=holdout.end, source="calibrate")
    else:
        from topo.simulation.simulation import simulate

        first = calibration.first
        start = datetime.combine(first.date(), datetime.min.time(), first.tzinfo)
        days = (calibration.end - first.date()).days + 1
        run = simulate(journey, calibration.personas, members=calibration.members, days=days,
                       start=start, seed=seed, keep_events=False)  # fmt: skip
        summary = run.summary
        summary["header"]["source"] = "calibrate"
    summary["calibration"] = calibration_summary(calibration)
    return summary

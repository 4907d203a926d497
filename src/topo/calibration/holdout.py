"""Proving calibrated personas on a period the fit never saw.

The events before ``T`` are replayed through the journey to ``T``; the same members then go on
to the end of the log with the behaviour their own history implies (BG/NBD's posterior: alive
with P(alive | x, t_x, T), rate lambda ~ Gamma(r + x, alpha + T), drop-out chance
p ~ Beta(a, b + x); each amount of a spend field Gamma(p, ...) around the member's Gamma-Gamma
posterior mean; other fields from the calibrated persona), their events made and processed in
time order with the engine ticked at each midnight. A replay of all the real events to the end
is the truth to compare with:

- per node, the share of those members there at the end, predicted and actual;
- per repeat event type, its customer-days after ``T``, predicted and actual;
- per calibration frequency (0, 1, ..., 6, 7 or more repeat days before ``T``), the mean number
  of customer-days after ``T`` (Fader, Hardie & Lee's conditional-expectation table).

What is left out, and said so in docs/calibrate.md: members who join after ``T`` (the
comparison is about the same members), and ``once`` events not sent by ``T`` (not sent after
it). Calibrated personas have no responses, so the continuation needs no closed loop.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from scipy import special

from topo.calibration.calibrate import Calibration
from topo.calibration.spend import GammaGammaFit
from topo.engine.engine import Engine
from topo.errors import InvalidEvent
from topo.journey.model import Journey
from topo.replay.runner import replay
from topo.simulation.plans import DROP, DROPS, RATE, WAITS, plan
from topo.simulation.sampling import exponential_variates, uniform

__all__ = ["Holdout", "prove"]

_DAY = 86_400
_WEEK = 7 * _DAY
_TOP = 7


@dataclass
class Holdout:
    """The hold-out comparison: from ``start`` (T) to ``end``, for the ``members`` who joined
    before T. ``nodes``: node -> (predicted share, actual share) at the end; ``days``: repeat
    type -> (predicted, actual) customer-days after T; ``frequency``: per calibration frequency
    class ("0" ... "7+"), (members, predicted mean, actual mean) customer-days after T of the
    first repeat type."""

    start: datetime
    end: datetime
    members: int
    nodes: dict[str, tuple[float, float]]
    days: dict[str, tuple[int, int]]
    frequency: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    predicted: Engine | None = None  # the members continued from T, for the report

    def lines(self) -> list[str]:
        """The comparison as plain lines for a terminal."""
        out = [f"Hold-out {self.start.date()} to {self.end.date()}, {self.members:,} members "
               "who joined before it: predicted against actual"]  # fmt: skip
        out.append("  members at each node at the end:")
        for node, (predicted, actual) in self.nodes.items():
            out.append(f"    {node:<20} {predicted:6.1%} {actual:6.1%}  "
                       f"{(predicted - actual) * 100:+5.1f} pts")  # fmt: skip
        out.append("  customer-days after the start of the hold-out:")
        for kind, (predicted, actual) in self.days.items():
            out.append(f"    {kind:<20} {predicted:>8,} {actual:>8,}  "
                       f"{_percent(predicted, actual)}")  # fmt: skip
        if self.frequency:
            out.append("  mean customer-days after it, by repeat days before it:")
            for label, (members, predicted, actual) in self.frequency.items():
                who = f"{label} ({members:,} members)"
                out.append(f"    {who:<20} {predicted:6.2f} {actual:6.2f}")
        return out


def _percent(predicted: float, actual: float) -> str:
    return f"{(predicted - actual) / actual:+.1%}" if actual else ""


Timed = tuple[datetime, Mapping[str, Any]]
"""An event with its time, read once."""


def prove(
    events: Sequence[Timed],
    journey: Journey,
    calibration: Calibration,
    start: datetime,
    end: datetime,
    *,
    seed: int = 0,
) -> Holdout:
    """The hold-out comparison of ``calibration`` (fitted on ``events`` before ``start``) on
    ``events`` (each with its time) from ``start`` to ``end`` (see the module)."""
    events = [(at, e) for at, e in events if at < end]  # the truth as of the end, no later
    actual = Engine(journey, explain=False)
    replay(actual, enumerate(e for _, e in events), until=end)
    predicted = Engine(journey, explain=False)
    replay(predicted, enumerate(e for at, e in events if at < start), until=start)
    made = _continued(calibration, journey, start, end, seed)
    _run(predicted, made, start, end)
    members = sorted(calibration.histories.members)
    nodes = _shares(predicted, members, end), _shares(actual, members, end)
    names = list(dict.fromkeys([*nodes[1], *nodes[0]]))
    repeat = list(dict.fromkeys(
        name for segment in calibration.segments for name, fit in segment.types.items()
        if fit.repeat
    ))  # fmt: skip
    calendar = calibration.histories.calendar
    real_days = _days_after(events, start, calendar)
    made_days = _days_after(made, start, calendar)
    days = {
        kind: (sum(k == kind for _, k, _ in made_days), sum(k == kind for _, k, _ in real_days))
        for kind in repeat
    }
    holdout = Holdout(
        start,
        end,
        len(members),
        {n: (nodes[0].get(n, 0.0), nodes[1].get(n, 0.0)) for n in names},
        days,
        predicted=predicted,
    )
    if repeat:
        holdout.frequency = _frequency(calibration, repeat[0], made_days, real_days)
    return holdout


def _continued(
    calibration: Calibration, journey: Journey, start: datetime, end: datetime, seed: int
) -> list[Timed]:
    """The events the calibrated members make from ``start`` to ``end``, in time order, each
    with its time."""
    histories = calibration.histories.members
    key_of = {member: _key(seed, member) for member in histories}
    span = (end - start).total_seconds()
    last_day = calibration.end
    out: list[tuple[float, str, Timed]] = []
    for number, segment in enumerate(calibration.segments):
        drawn = plan(number, calibration.personas.population[number], journey)
        mine = sorted(segment.members)
        for kind in drawn.types:
            fit = segment.types.get(kind.name)
            if fit is not None and fit.repeat:
                out += _continue_type(kind, fit, mine, key_of, histories, start, span, last_day)
    out.sort(key=lambda item: (item[0], item[1]))
    return [timed for _, _, timed in out]


def _continue_type(
    kind: Any,
    fit: Any,
    members: list[str],
    key_of: dict[str, int],
    histories: Mapping[str, Any],
    start: datetime,
    span: float,
    last_day: date,
) -> list[tuple[float, str, Timed]]:
    """One repeat type's events of ``members`` after ``start``: from their BG/NBD posteriors,
    or at the fitted Poisson rate."""
    out: list[tuple[float, str, Timed]] = []
    b = fit.bgnbd
    spend = {name: f for name, f in fit.fields.items() if isinstance(f, GammaGammaFit)}
    declared = dict(zip(kind.names, kind.values, strict=True))
    for member in members:
        key = key_of[member]
        days = histories[member].days.get(kind.name)
        if not days:
            continue
        first = min(days)
        x = len(days) - 1
        t_x = (max(days) - first).days / 7
        big_t = (last_day - first).days / 7
        if b is None:  # Poisson: the same rate for every member, no drop-out
            rate, drop = 1.0 / (fit.every_days * _DAY), 0.0
        else:
            alive = _p_alive(b.r, b.alpha, b.a, b.b, x, t_x, big_t)
            if uniform(key, kind.stream + DROP, 1) >= alive:
                continue
            rate = special.gammaincinv(b.r + x, uniform(key, kind.stream + RATE, 1))
            rate /= (b.alpha + big_t) * _WEEK  # per second
            drop = float(special.betaincinv(b.a, b.b + x, uniform(key, kind.stream + DROP, 2)))
        means = {
            name: _posterior_mean(f, days, first, name, key, kind.stream)
            for name, f in spend.items()
        }
        now, n = 0.0, 0
        while rate > 0:
            now += float(exponential_variates(uniform(key, kind.stream + WAITS, n))) / rate
            if now >= span:
                break
            at = start + timedelta(seconds=int(now))
            event: dict[str, Any] = {"id": f"{member}-holdout-{kind.name}-{n}",
                                     "member": member, "type": kind.name,
                                     "at": at.isoformat()}  # fmt: skip
            for f, (name, values) in enumerate(zip(kind.names, kind.values, strict=True)):
                stream = kind.field_streams[f]
                if name in means:  # Gamma(p) around the member's posterior mean, as drawn
                    p = spend[name].p
                    drawn = means[name] / p * float(special.gammaincinv(p, uniform(key, stream, n)))
                    event[name] = declared[name].clip(drawn)
                else:
                    event[name] = values.one(key, n, stream)
            out.append((now, member, (at, event)))
            n += 1
            if uniform(key, kind.stream + DROPS, n) < drop:
                break
    return out


def _p_alive(r: float, alpha: float, a: float, b: float, x: int, t_x: float, t: float) -> float:
    if x == 0:
        return 1.0
    log_odds = math.log(a / (b + x - 1)) + (r + x) * (math.log(alpha + t) - math.log(alpha + t_x))
    return float(special.expit(-log_odds))  # 1 / (1 + odds), without overflow


def _key(seed: int, member: str) -> int:
    """A member's generator in the hold-out: from the seed and its id, so no other member
    changes it."""
    digest = hashlib.sha256(f"topo-holdout:{seed}:{member}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _posterior_mean(
    fit: GammaGammaFit, days: Mapping[date, Any], first: date, name: str, key: int, stream: int
) -> float:
    """The member's mean spend given its repeat days: Gamma-Gamma's posterior mean, or, where
    that has none (p x + q <= 1: no repeat day and q <= 1), p / nu with nu drawn from its
    posterior Gamma(p x + q, gamma + m x)."""
    totals = [sum(day.values.get(name, ())) for d, day in days.items() if d != first]
    x = len(totals)
    m = float(np.mean(totals)) if totals else 0.0
    if fit.p * x + fit.q > 1:
        return float(fit.posterior_mean(np.array([x]), np.array([m]))[0])
    u = uniform(key, stream + 1, 0)
    nu = float(special.gammaincinv(fit.p * x + fit.q, u)) / (fit.gamma + m * x)
    return fit.p / nu


def _run(engine: Engine, made: list[Timed], start: datetime, end: datetime) -> None:
    """``made`` through ``engine`` with a tick at each midnight from ``start``, then to ``end``."""
    midnight = start + timedelta(days=1)
    for at, event in made:
        while midnight <= at and midnight <= end:
            engine.tick(midnight)
            midnight += timedelta(days=1)
        try:
            engine.process(event)
        except InvalidEvent:  # a drawn value the journey refuses: as a real event would be
            continue
    while midnight <= end:
        engine.tick(midnight)
        midnight += timedelta(days=1)
    engine.tick(end)


def _shares(engine: Engine, members: list[str], end: datetime) -> dict[str, float]:
    nodes: Counter[str] = Counter()
    for member in members:
        state = engine.state(member, as_of=end)
        if state is not None:
            nodes[str(state["node"])] += 1
    return {node: count / len(members) for node, count in nodes.most_common()}


def _days_after(
    events: Sequence[Timed], start: datetime, calendar: Any
) -> set[tuple[str, str, date]]:
    """The (member, type, date) customer-days of ``events`` from ``start`` on, dated in the
    calibration's ``calendar`` (the events are before the end already)."""
    return {
        (str(event["member"]), str(event["type"]), at.astimezone(calendar).date())
        for at, event in events
        if at >= start
    }


def _frequency(
    calibration: Calibration,
    kind: str,
    made: set[tuple[str, str, date]],
    real: set[tuple[str, str, date]],
) -> dict[str, tuple[int, float, float]]:
    predicted = Counter(m for m, k, _ in made if k == kind)
    actual = Counter(m for m, k, _ in real if k == kind)
    classes: dict[str, list[str]] = {}
    for member, history in calibration.histories.members.items():
        x = len(history.days.get(kind, ())) - 1
        if x < 0:
            continue
        label = f"{_TOP}+" if x >= _TOP else str(x)
        classes.setdefault(label, []).append(member)
    order = [str(i) for i in range(_TOP)] + [f"{_TOP}+"]
    return {
        label: (
            len(classes[label]),
            sum(predicted[m] for m in classes[label]) / len(classes[label]),
            sum(actual[m] for m in classes[label]) / len(classes[label]),
        )
        for label in order
        if label in classes
    }

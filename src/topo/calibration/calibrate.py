"""Personas fitted to a real history: what :func:`calibrate` fits, and the file it writes.

One persona, ``calibrated``, for all members, or with ``segments`` N, one per group of members
by how often they came back (``frequency-1`` the least often), each fitted on its own members
as below (see docs/calibrate.md):

- joining: members join at their first event, uniformly over the span of first events;
- an event type no member sends on two days is ``once``: the share of members who send it,
  and an exponential delay from joining with the observed mean (none when it is always at
  joining);
- an event type some member sends on two days or more is ``repeat``: its first event as a
  ``once`` above, then BG/NBD fitted on customer-days with time in weeks (or, when fewer than
  :data:`FEWEST` members send it on two days or more, or the fit runs off, Poisson at the
  observed rate of repeat days);
- fields: Gamma-Gamma for a number field a ``sum`` metric reads (a day's total, on the members'
  repeat days), lognormal for other positive numbers (normal when some are not), observed
  shares for text and true/false; attributes alike, from the members' ``profile`` events,
  never a pii one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from topo.calibration import bgnbd, spend
from topo.calibration.histories import Day, Histories, read_histories
from topo.engine.events import pii_names
from topo.errors import InvalidPersonas, UsageError
from topo.journey.model import Journey
from topo.simulation.model import Personas
from topo.simulation.personas import check_personas

__all__ = ["FEWEST", "Calibration", "Segment", "TypeFit", "calibrate"]

FEWEST = 10
"""Members who must send a repeat event type on two days or more for a BG/NBD fit of it."""

_SANE = (1e-6, 1e6)
"""BG/NBD parameters outside these bounds, or a mean drop-out chance a / (a + b) of 99% or
more, mean the search ran off (a flat likelihood): the type is then fitted as Poisson."""

_WEEK = 7.0  # BG/NBD time unit, in days


@dataclass
class TypeFit:
    """What was fitted for one event type: how many members sent it, the share and mean delay
    of its (first) event, and, for a repeat type, its BG/NBD (or the Poisson rate)."""

    name: str
    members: int
    share: float
    delay_days: float
    repeat: bool
    bgnbd: bgnbd.BgNbdFit | None = None
    every_days: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Segment:
    """One persona: its id, the members it was fitted on, how long they took to join, and
    what was fitted per event type."""

    id: str
    members: list[str]
    spread_days: int
    types: dict[str, TypeFit]


@dataclass
class Calibration:
    """The fitted personas (one per segment) and what they were fitted on."""

    personas: Personas
    written: dict[str, Any]  # the personas file as data, as it is written
    members: int
    first: datetime
    last: datetime
    end: date
    segments: list[Segment]
    histories: Histories
    journey: Journey
    holdout: Any = None  # a topo.calibration.holdout.Holdout, with --holdout-from

    @property
    def summary(self) -> dict[str, Any]:
        """The report's figures (see docs/report.md): of the members the calibration predicts,
        with its fits and hold-out."""
        from topo.calibration.summary import report_summary

        return report_summary(self, self.journey)

    def write_report(self, path: str | Path, *, title: str | None = None) -> None:
        """The report as one HTML file (needs plotly, topo's ``report`` extra)."""
        from topo.report.html import write_report

        write_report(self.summary, path, title=title)

    @property
    def types(self) -> dict[str, TypeFit]:
        """The first (with one segment, the only) persona's fits per event type."""
        return self.segments[0].types

    def text(self, journey_name: str) -> str:
        """The personas file, with a comment block saying what was fitted on what."""
        span = (
            f"# {self.first.date().isoformat()} to {self.end.isoformat()}: {self.members:,} members"
        )
        several = len(self.segments) > 1
        lines = [
            f"# Personas calibrated by topo calibrate on {journey_name}'s events from",
            f"{span}, in {len(self.segments)} personas by how often they came back."
            if several
            else f"{span}, joining over {self.segments[0].spread_days} days.",
        ]
        for segment in self.segments:
            if several:
                lines.append(f"# {segment.id}: {len(segment.members):,} members, joining over "
                             f"{segment.spread_days} days")  # fmt: skip
            lines += _described(segment)
        lines.append("# A low chi-square p-value says the model misses the shape of the history")
        lines.append("# (see docs/calibrate.md).")
        if self.holdout is not None:
            lines += [f"# {line}" for line in self.holdout.lines()]
        body = yaml.safe_dump(self.written, sort_keys=False, allow_unicode=True, width=100)
        return "\n".join(lines) + "\n" + body


def _described(segment: Segment) -> list[str]:
    """The comment lines of one persona's fits."""
    lines = []
    for fit in segment.types.values():
        lines.append(f"# {fit.name}: sent by {fit.members:,} members ({fit.share:.1%}),"
                     f" first after {fit.delay_days:.1f} days on average")  # fmt: skip
        if fit.bgnbd is not None:
            b = fit.bgnbd
            lines.append(
                f"#   BG/NBD on customer-days, weeks: r={b.r:.4f} alpha={b.alpha:.4f} "
                f"a={b.a:.4f} b={b.b:.4f}, log-likelihood {b.log_likelihood:.1f} on "
                f"{b.members:,} members; histogram chi-square {b.chi_square:.1f} "
                f"({b.degrees} degrees of freedom, p = {b.p_value:.3f})"
            )
        elif fit.every_days is not None:
            lines.append(f"#   Poisson: a repeat day every {fit.every_days:.1f} days")
        for name, fitted in fit.fields.items():
            lines.append(f"#   {name}: {_describe(fitted)}")
    return lines


def _describe(fitted: Any) -> str:
    if isinstance(fitted, spend.GammaGammaFit):
        return (
            f"Gamma-Gamma p={fitted.p:.4f} q={fitted.q:.4f} gamma={fitted.gamma:.4f}, "
            f"log-likelihood {fitted.log_likelihood:.1f} on {fitted.members:,} repeat buyers"
        )
    if isinstance(fitted, spend.LogNormalFit):
        return (f"lognormal median {fitted.median:.4g} sigma {fitted.sigma:.4f} on "
                f"{fitted.values:,} values")  # fmt: skip
    if isinstance(fitted, tuple):
        return f"normal mean {fitted[1]:.4g} sd {fitted[2]:.4g} (some values are 0 or below)"
    return "observed shares"


def calibrate(
    source: str | Path | Iterable[Mapping[str, Any]],
    journey: Journey | str | Path,
    *,
    until: datetime | str | None = None,
    holdout_from: datetime | str | None = None,
    seed: int = 0,
    segments: int = 1,
) -> Calibration:
    """Personas fitted to the events of ``source`` before ``until`` (see the module). With
    ``holdout_from``, fitted on the events before it only, and proven on the rest (see
    :mod:`topo.calibration.holdout`): the result's ``holdout``. ``journey`` is a model or a
    journey file; ``until`` and ``holdout_from`` aware datetimes or RFC 3339 text.
    ``segments`` > 1 fits that many personas, on groups of members by how often
    they came back."""
    if type(segments) is not int or segments < 1:
        raise UsageError(f"--segments is a whole number from 1, not {segments!r}")
    if not isinstance(journey, Journey):
        from topo.validation import load_journey

        journey = load_journey(journey)
    until = _moment(until, "--until")
    holdout_from = _moment(holdout_from, "--holdout-from")
    if holdout_from is None:
        return _fitted(source, journey, until, segments)
    from topo.calibration.holdout import prove
    from topo.replay.readers import read_events

    items = (
        (item for _, item in read_events(source, journey))
        if isinstance(source, str | Path)
        else source
    )
    raw = list(items)
    timed = _valid(raw, journey, until)
    if not timed:  # said as without a hold-out: what was refused, unreadable, later
        raise UsageError(_nothing(read_histories(raw, journey, until=until), until))
    first, last = min(at for at, _ in timed), max(at for at, _ in timed)
    end = until or _next_midnight(last)
    if not first < holdout_from < end:
        raise UsageError(
            f"--holdout-from {holdout_from.isoformat()} is outside the events' span "
            f"({first.isoformat()} to {end.isoformat()}): the fit needs events before "
            "it and the hold-out events after it"
        )
    fitted = _fitted([e for _, e in timed], journey, holdout_from, segments)
    fitted.holdout = prove(timed, journey, fitted, holdout_from, end, seed=seed)
    return fitted


def _moment(value: datetime | str | None, option: str) -> datetime | None:
    """A time given as an aware datetime or RFC 3339 text; a sentence for anything else."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise UsageError(f"{option} needs an offset, as in 1997-10-01T00:00:00+00:00")
    from topo.engine.field_values import Refusal, timestamp

    try:
        return timestamp(value, option, False)
    except Refusal as refusal:
        raise UsageError(refusal.reason) from None


def _valid(
    items: Iterable[Any], journey: Journey, until: datetime | None
) -> list[tuple[datetime, Any]]:
    """The events of ``items`` the journey accepts, before ``until``, as they came, each with
    its time (read once)."""
    from topo.engine.events import EventReader
    from topo.errors import InvalidEvent
    from topo.replay.readers import Unreadable

    reader = EventReader(journey)
    kept = []
    for item in items:
        if isinstance(item, Unreadable):
            continue
        try:
            at = reader.read(item).at
        except InvalidEvent:
            continue
        if until is None or at < until:
            kept.append((at, item))
    return kept


def _next_midnight(at: datetime) -> datetime:
    """The start of the day after ``at``'s, in its offset."""
    return datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), at.tzinfo)


def _fitted(
    source: str | Path | Iterable[Mapping[str, Any]],
    journey: Journey,
    until: datetime | None,
    segments: int = 1,
) -> Calibration:
    histories = read_histories(source, journey, until=until)
    members = histories.members
    if histories.first is None or histories.last is None:
        raise UsageError(_nothing(histories, until))
    if len(members) < 2:
        raise UsageError(
            f"the events hold {len(members)} member; calibration fits a population, and needs "
            "the histories of at least 2 members"
        )
    last = (until - timedelta(microseconds=1)) if until else histories.last
    end = last.astimezone(histories.calendar).date()
    groups = _frequency_groups(histories, segments)
    shares = _percentages({k: len(group) / len(members) for k, group in enumerate(groups)})
    fitted: list[Segment] = []
    population = []
    for k, group in enumerate(groups):
        name = "calibrated" if len(groups) == 1 else f"frequency-{k + 1}"
        part = Histories({m: members[m] for m in group}, histories.first, histories.last)
        persona, types, spread = _persona(part, journey, end)
        population.append({"id": name, "share": shares[k], **persona})
        fitted.append(Segment(name, group, spread, types))
    written = {"personas": 1, "population": population}
    try:
        personas = check_personas(Personas.model_validate(written), journey)
    except InvalidPersonas as error:  # something the fits cannot draw yet (a date field)
        said = error.diagnostics[0].message if error.diagnostics else str(error)
        raise UsageError(f"the fitted personas do not fit {journey.journey}: {said}") from None
    return Calibration(personas, written, len(members), histories.first, histories.last, end,
                       fitted, histories, journey)  # fmt: skip


def _frequency_groups(histories: Histories, segments: int) -> list[list[str]]:
    """The members in ``segments`` groups of about equal size by their repeat days (a
    member's days of each event type after its first, summed): members with the same count
    are never split, so there may be fewer groups."""
    counts = {m: sum(len(days) - 1 for days in h.days.values())
              for m, h in histories.members.items()}  # fmt: skip
    ordered = sorted(counts, key=lambda m: (counts[m], m))
    groups: list[list[str]] = []
    start = 0
    for k in range(1, segments + 1):
        cut = round(k * len(ordered) / segments)
        while 0 < cut < len(ordered) and counts[ordered[cut]] == counts[ordered[cut - 1]]:
            cut += 1
        if cut > start:
            groups.append(ordered[start:cut])
            start = cut
    least = math.ceil(len(ordered) / 20_000)  # a group's share written as at least 0.01%
    for k in range(len(groups) - 1, 0, -1):
        if len(groups[k]) < least:
            groups[k - 1] += groups.pop(k)
    if len(groups) > 1 and len(groups[0]) < least:
        groups[1] = groups.pop(0) + groups[0]
    return groups


def _persona(
    histories: Histories, journey: Journey, end: date
) -> tuple[dict[str, Any], dict[str, TypeFit], int]:
    """One persona fitted to ``histories``: its file entry (without id and share), its fits
    per event type, and the days its members took to join."""
    members = histories.members
    joined = sorted(h.joined for h in members.values())
    spread = max(1, math.ceil((joined[-1] - joined[0]).total_seconds() / 86_400))
    types: dict[str, TypeFit] = {}
    events: dict[str, Any] = {}
    for name in journey.events:
        fit = _fit_type(name, histories, end, journey)
        if fit is None:
            continue
        types[name] = fit
        events[name] = _behaviour(fit)
    persona: dict[str, Any] = {}
    persona["join"] = {"spread": f"{spread}d"} if len(set(joined)) > 1 else {"at": "start"}
    attributes = _attributes(histories, journey)
    if attributes:
        persona["attributes"] = attributes
    persona["events"] = events
    return persona, types, spread


def _nothing(histories: Histories, until: datetime | None) -> str:
    said = []
    if histories.refused:
        total = sum(histories.refused.values())
        top = sorted(histories.refused.items(), key=lambda kv: -kv[1])[:3]
        which = ", ".join(f"{where}: {count:,}" for where, count in top)
        said.append(f"{total:,} refused by the journey ({which}; topo replay with --rejects "
                    "says why)")  # fmt: skip
    if histories.unreadable:
        said.append(f"{histories.unreadable:,} lines that are not events")
    if histories.later:
        said.append(f"{histories.later:,} at or after {until.isoformat() if until else ''}")
    found = "; ".join(said) if said else "the log is empty"
    return f"no event to fit: {found}"


def _fit_type(name: str, histories: Histories, end: date, journey: Journey) -> TypeFit | None:
    members = histories.members
    senders = [(h, h.days[name]) for h in members.values() if name in h.days]
    if not senders:
        return None
    delays = [(days[min(days)].first - h.joined).total_seconds() for h, days in senders]
    repeat = any(len(days) > 1 for _, days in senders)
    fit = TypeFit(name, len(senders), len(senders) / len(members),
                  float(np.mean(delays)) / 86_400, repeat)  # fmt: skip
    firsts = [min(days) for _, days in senders]
    if repeat:
        x = np.array([len(days) - 1 for _, days in senders], dtype=float)
        t_x = np.array([(max(d) - f).days for (_, d), f in zip(senders, firsts, strict=True)])
        T = np.array([(end - f).days for f in firsts], dtype=float)
        if (x > 0).sum() >= FEWEST:
            model = bgnbd.fit(x, t_x / _WEEK, T / _WEEK)
            sane = all(_SANE[0] < v < _SANE[1] for v in (model.r, model.alpha, model.a, model.b))
            if sane and model.a / (model.a + model.b) < 0.99:  # not "all drop out at once"
                fit.bgnbd = model
        if fit.bgnbd is None:  # too few repeaters, or a fit that did not settle: Poisson
            fit.every_days = float(T.sum() / x.sum()) if x.sum() > 0 else None
            fit.repeat = fit.every_days is not None
    declared = journey.events[name].fields
    spends = _spend_fields(name, journey)
    secret = pii_names(journey)
    for field_name, declared_field in declared.items():
        if field_name in secret:
            continue  # never fitted: its values would be written into the file
        kind = declared_field.type
        day_lists = [(f, days) for (_, days), f in zip(senders, firsts, strict=True)]
        if kind == "float" and field_name in spends and fit.repeat:  # money, not a count
            fitted = _gamma_gamma(field_name, day_lists)
            if fitted is not None:
                fit.fields[field_name] = fitted
                continue
        values = [v for _, days in senders for day in days.values()
                  for v in day.values.get(field_name, ())]  # fmt: skip
        fitted = _values_fit(values, kind)
        if fitted is not None:
            fit.fields[field_name] = fitted
    return fit


def _spend_fields(name: str, journey: Journey) -> set[str]:
    """Fields of event type ``name`` that a ``sum`` metric reads: a float one is spend."""
    found = set()
    for metric in journey.metrics.values():
        source = getattr(metric, "sum", None)
        if isinstance(source, str) and "." in source:
            kind, _, field_name = source.partition(".")
            if kind == name:
                found.add(field_name)
    return found


def _gamma_gamma(
    field_name: str, day_lists: list[tuple[date, dict[date, Day]]]
) -> spend.GammaGammaFit | None:
    """Gamma-Gamma on each member's repeat days' totals of ``field_name``."""
    x, m = [], []
    for first, days in day_lists:
        totals = [sum(day.values.get(field_name, ())) for d, day in days.items() if d != first]
        if totals:
            x.append(len(totals))
            m.append(float(np.mean(totals)))
    return spend.fit_gamma_gamma(np.array(x, dtype=float), np.array(m))


def _values_fit(values: list[Any], kind: str) -> Any:
    if not values:
        return None
    if kind in ("str", "bool"):
        return spend.shares(values)
    if kind in ("int", "float"):
        numbers = [float(v) for v in values]
        if min(numbers) > 0:
            return spend.fit_lognormal(numbers)
        return ("normal", float(np.mean(numbers)), float(np.std(numbers)))
    return None  # dates and timestamps are not drawn


def _distribution(fitted: Any) -> dict[str, Any] | None:
    if isinstance(fitted, spend.GammaGammaFit):
        return {"gamma_gamma": {"p": _round(fitted.p), "q": _round(fitted.q),
                                "gamma": _round(fitted.gamma)}}  # fmt: skip
    if isinstance(fitted, spend.LogNormalFit):
        return {"lognormal": {"median": _round(fitted.median), "sigma": _round(fitted.sigma)}}
    if isinstance(fitted, tuple):
        return {"normal": {"mean": _round(fitted[1]), "sd": _round(fitted[2])}}
    if isinstance(fitted, dict):
        return {"choice": _percentages(fitted)}
    return None


def _behaviour(fit: TypeFit) -> dict[str, Any]:
    first: dict[str, Any] = {"probability": _percent(fit.share)}
    if fit.delay_days > 0:
        first["after"] = {"exponential": _duration(fit.delay_days * 86_400)}
    behaviour: dict[str, Any]
    if fit.repeat and fit.bgnbd is not None:
        b = fit.bgnbd
        model = {"r": _round(b.r), "alpha": _round(b.alpha), "a": _round(b.a),
                 "b": _round(b.b), "unit": "7d"}  # fmt: skip
        behaviour = {"repeat": {"bgnbd": model, "first": first}}
    elif fit.repeat and fit.every_days is not None:
        every = _duration(fit.every_days * 86_400)
        behaviour = {"repeat": {"poisson": {"every": every}, "first": first}}
    else:
        behaviour = {"once": first}
    fields = {name: _distribution(f) for name, f in fit.fields.items()}
    fields = {name: d for name, d in fields.items() if d is not None}
    if fields:
        behaviour["fields"] = fields
    return behaviour


def _attributes(histories: Histories, journey: Journey) -> dict[str, Any]:
    out: dict[str, Any] = {}
    secret = pii_names(journey)
    for name, attribute in journey.attributes.items():
        if name in secret:
            continue  # never fitted: the simulator makes synthetic values
        values = [h.attributes[name] for h in histories.members.values()
                  if h.attributes.get(name) is not None]  # fmt: skip
        distribution = _distribution(_values_fit(values, attribute.type))
        if distribution is not None:
            out[name] = distribution
    return out


def _percentages(shares: dict[Any, float]) -> dict[Any, str]:
    """Shares as percentages with two decimals that add up to exactly 100% (the largest
    remainders rounded up), as a personas file's ``choice`` must."""
    exact = {value: share * 10_000 for value, share in shares.items()}
    basis = {value: math.floor(v) for value, v in exact.items()}
    short = 10_000 - sum(basis.values())
    for value in sorted(exact, key=lambda v: basis[v] - exact[v])[:short]:
        basis[value] += 1
    return {value: f"{points / 100:g}%" for value, points in basis.items() if points}


def _percent(share: float) -> str:
    """A share as a percentage a personas file reads: fixed point, no exponent."""
    text = f"{share * 100:.6f}".rstrip("0").rstrip(".")
    return f"{text if text != '0' else '0.000001'}%"


def _round(value: float) -> float:
    """Six significant digits: enough for any figure a person reads, and stable in a diff."""
    return float(f"{value:.6g}")


def _duration(seconds: float) -> str:
    """A whole number of the largest unit that keeps the duration within a second."""
    whole = max(1, round(seconds))
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"

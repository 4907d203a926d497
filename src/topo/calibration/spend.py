"""Fits of an event's field values: Gamma-Gamma for spend, lognormal for other numbers, and
observed shares for categories.

Gamma-Gamma (Fader & Hardie, "The Gamma-Gamma model of monetary value", 2013): a member's
amounts are Gamma(p, rate nu) around its own mean p / nu, and nu ~ Gamma(q, rate gamma) across
members. It is fitted on the members with at least one repeat event, from ``x`` (their repeat
events) and ``m`` (the mean amount of those), maximising the likelihood of the means.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from topo.calibration.likelihood import maximise
from topo.simulation.sampling import Array

__all__ = ["GammaGammaFit", "LogNormalFit", "fit_gamma_gamma", "fit_lognormal", "shares"]


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    members: int

    def posterior_mean(self, x: Array, m: Array) -> Array:
        """Each member's expected amount given ``x`` repeat events averaging ``m`` (the
        population mean for a member with none)."""
        x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
        return self.p * (self.gamma + m * x) / (self.p * x + self.q - 1)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LogNormalFit:
    median: float
    sigma: float
    log_likelihood: float
    values: int


def _gamma_gamma_log_likelihoods(params: Array, x: Array, m: Array) -> Array:
    p, q, gamma = params
    px = p * x
    return (  # type: ignore[no-any-return]
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
        + q * np.log(gamma) + (px - 1) * np.log(m) + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )  # fmt: skip


def fit_gamma_gamma(x: Array, m: Array) -> GammaGammaFit | None:
    """The maximum-likelihood Gamma-Gamma of members with ``x`` > 0 repeat events averaging
    ``m`` > 0; None when fewer than three such members are given."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) < 3:
        return None

    start = (1.0, 1.0, max(float(np.mean(m)), 1e-6))
    (p, q, gamma), best = maximise(lambda params: _gamma_gamma_log_likelihoods(params, x, m), start)
    return GammaGammaFit(p, q, gamma, best, len(x))


def fit_lognormal(values: Iterable[float]) -> LogNormalFit | None:
    """The maximum-likelihood lognormal of the positive ``values``; None without two."""
    logs = np.log([v for v in values if v > 0])
    if len(logs) < 2:
        return None
    mu, sigma = float(logs.mean()), float(logs.std())
    if sigma == 0:
        return LogNormalFit(math.exp(mu), 0.0, 0.0, len(logs))
    ll = float(
        (
            -logs
            - math.log(sigma)
            - 0.5 * math.log(2 * math.pi)
            - (logs - mu) ** 2 / (2 * sigma**2)
        ).sum()
    )
    return LogNormalFit(math.exp(mu), sigma, ll, len(logs))


def shares(values: Iterable[Any]) -> dict[Any, float]:
    """Each value's share of ``values``, the most common first (ties in order of value)."""
    counts = Counter(values)
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return {value: count / total for value, count in ordered}

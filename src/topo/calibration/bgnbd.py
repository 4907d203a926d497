"""BG/NBD (Fader, Hardie & Lee 2005): how often members buy again, and when they stop.

While alive, a member makes repeat events as a Poisson process of rate lambda; after each
repeat event it drops out for good with probability p. Across members, lambda ~ Gamma(r, rate
alpha) and p ~ Beta(a, b). A member's calibration history is summed up by ``x`` (repeat events),
``t_x`` (the time of its last one, from its first event) and ``T`` (the time from its first
event to the end of calibration), all in the fit's time unit.

:func:`fit` maximises the likelihood (equation 6 of the paper) with scipy: four positive
parameters, fitted as their logarithms, from a start that does not depend on the data. The
other functions are the paper's: the chance a member is still alive (equation 11), the posterior
of its rate and drop-out chance, and the expected number of repeat events (equation 7) of a new
member in a time ``t``, for the calibration histogram and its chi-square.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from topo.calibration.likelihood import maximise
from topo.simulation.sampling import Array

__all__ = ["BgNbdFit", "fit", "histogram", "log_likelihoods", "p_alive"]

_START = (1.0, 1.0, 1.0, 1.0)  # r, alpha, a, b


@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD, and how well it fits: its log-likelihood on the ``members`` it was
    fitted on, and the chi-square of the calibration histogram (members with 0, 1, ...,
    ``top - 1`` and ``top`` or more repeat events, observed against expected) with its
    degrees of freedom and p-value."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    members: int
    chi_square: float
    degrees: int
    p_value: float
    observed: tuple[float, ...] = ()  # the histogram's classes, 0 ... top - 1 and top or more
    expected: tuple[float, ...] = ()


def log_likelihoods(params: Array, x: Array, t_x: Array, T: Array) -> Array:
    """Each member's log-likelihood under ``params`` = (r, alpha, a, b)."""
    r, alpha, a, b = params
    ln_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    ln_a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    ln_a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    ln_a4 = np.full(len(x), -np.inf)
    xr = x[repeat]
    ln_a4[repeat] = math.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return ln_a1 + ln_a2 + np.logaddexp(ln_a3, ln_a4)  # type: ignore[no-any-return]


def fit(x: Array, t_x: Array, T: Array, *, top: int = 7) -> BgNbdFit:
    """The maximum-likelihood BG/NBD of these histories (see the module)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))

    found, best = maximise(lambda params: log_likelihoods(params, x, t_x, T), _START)
    r, alpha, a, b = found
    observed, expected = histogram((r, alpha, a, b), x, T, top=top)
    chi, degrees, p_value = _chi_square(observed, expected, fitted=4)
    return BgNbdFit(r, alpha, a, b, best, len(x), chi, degrees, p_value,
                    tuple(observed.tolist()), tuple(expected.tolist()))  # fmt: skip


def p_alive(params: tuple[float, float, float, float], x: Array, t_x: Array, T: Array) -> Array:
    """The chance each member is still alive at ``T`` (the paper's equation 11)."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    odds = np.zeros(len(x))
    repeat = x > 0
    xr = x[repeat]
    odds[repeat] = (a / (b + xr - 1)) * np.exp(
        (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat]))
    )
    return 1.0 / (1.0 + odds)


def histogram(
    params: tuple[float, float, float, float], x: Array, T: Array, *, top: int = 7
) -> tuple[Array, Array]:
    """Members with 0, 1, ..., ``top - 1`` and ``top`` or more repeat events: observed, and
    expected under ``params`` for each member's own ``T`` (P(X(T) = x), the paper's
    equation 8, summed over members)."""
    x = np.asarray(x, dtype=float)
    counts = np.minimum(x, top).astype(int)
    observed = np.bincount(counts, minlength=top + 1).astype(float)
    expected = np.zeros(top + 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a fit run off
        for k in range(top):
            expected[k] = _p_count(params, k, np.asarray(T, dtype=float)).sum()
    expected[top] = len(x) - expected[:top].sum()
    return observed, expected


def _p_count(params: tuple[float, float, float, float], k: int, T: Array) -> Array:
    """P(X(T) = k) for a new member watched for ``T`` (equation 8; a member watched for no
    time has made no repeat event)."""
    r, alpha, a, b = params
    stays = np.log(alpha / (alpha + T))  # ln of the NBD's chance of nothing, per unit of r
    moves = T / (alpha + T)

    def nbd(j: int) -> Array:  # P(j events by T) for a member who never drops out
        return np.exp(  # type: ignore[no-any-return]
            special.gammaln(r + j) - special.gammaln(r) - special.gammaln(j + 1)
            + r * stays + special.xlogy(j, moves)
        )  # fmt: skip

    first = math.exp(special.betaln(a, b + k) - special.betaln(a, b)) * nbd(k)
    if k == 0:
        return first
    tail = 1.0 - sum(nbd(j) for j in range(k))
    return first + math.exp(special.betaln(a + 1, b + k - 1) - special.betaln(a, b)) * tail


def _chi_square(observed: Array, expected: Array, *, fitted: int) -> tuple[float, int, float]:
    """Pearson's chi-square of a histogram, its degrees of freedom (classes less one, less
    the ``fitted`` parameters; at least one) and p-value."""
    keep = expected > 0
    chi = float((((observed - expected) ** 2)[keep] / expected[keep]).sum())
    degrees = max(1, int(keep.sum()) - 1 - fitted)
    return chi, degrees, float(stats.chi2.sf(chi, degrees))

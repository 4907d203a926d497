"""Maximum likelihood for models with positive parameters, with scipy.

Each fit gives the sum of its members' log-likelihoods; the parameters are searched as their
logarithms (so they stay positive), by Nelder-Mead from a start that does not depend on the
data, then polished with L-BFGS-B. A parameter set where the likelihood is not a finite number
counts as impossible, never as a result (a parameter that underflows to 0 included: the
log-likelihoods take numpy's logarithm, which gives -inf there rather than an error).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize

from topo.simulation.sampling import Array

__all__ = ["maximise"]


def maximise(
    log_likelihoods: Callable[[Array], Array], start: Sequence[float]
) -> tuple[list[float], float]:
    """The parameters (each > 0) that maximise the sum of ``log_likelihoods(parameters)``,
    searched from ``start``, and that maximum."""

    def minus(logs: Array) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = -float(np.sum(log_likelihoods(np.exp(logs))))
        return value if math.isfinite(value) else math.inf

    options = {"xatol": 1e-9, "fatol": 1e-9, "maxiter": 20_000}
    with warnings.catch_warnings():  # differences of impossible (infinite) points: expected
        warnings.simplefilter("ignore", RuntimeWarning)
        found = optimize.minimize(minus, np.log(start), method="Nelder-Mead", options=options)
        found = optimize.minimize(minus, found.x, method="L-BFGS-B")
    return [float(v) for v in np.exp(found.x)], -float(found.fun)

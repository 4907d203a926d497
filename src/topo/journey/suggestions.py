""" "Did you mean" suggestions for misspelt keys, ids and names.

Finding the nearest word compares the misspelling with every known word, which costs tens of
microseconds a comparison when the words look alike. A file with thousands of unknown names
and thousands of metrics would spend hours on hints, so a check of one document runs under a
budget (:func:`suggestion_budget`): once it is spent, problems are still reported, without a
hint.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "SUGGESTION_BUDGET",
    "did_you_mean",
    "number_text_hint",
    "suggestion_budget",
]

SUGGESTION_BUDGET = 20_000
"""How many known words the suggestions for one document may compare in all: under a second
when every comparison is of look-alike words, and 400 hints for a journey of 50 names."""

_LEFT: ContextVar[list[int] | None] = ContextVar("topo_suggestions_left", default=None)


@contextmanager
def suggestion_budget(comparisons: int = SUGGESTION_BUDGET) -> Iterator[None]:
    """Let the suggestions made inside compare at most ``comparisons`` known words in all."""
    token = _LEFT.set([comparisons])
    try:
        yield
    finally:
        _LEFT.reset(token)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the nearest known word, or ``""`` when none is near.

    ``known`` is read only when the budget (if any) is not spent, so a caller may pass a lazy
    iterable of many words at no cost.
    """
    left = _LEFT.get()
    if left is not None and left[0] <= 0:
        return ""
    candidates = sorted(set(known))
    if left is not None:
        left[0] -= len(candidates)
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


_EXPONENT = re.compile(r"[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+")


def number_text_hint(value: object) -> str:
    """For text YAML read from a number in exponent form (``1e3``: YAML 1.1 wants a dot and a
    sign), how to write it so that it is a number; empty otherwise."""
    if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
        mantissa, _, exponent = value.strip().lower().partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[:1] not in "+-":
            exponent = "+" + exponent
        return f" (YAML reads {value.strip()} as text; write {mantissa}e{exponent})"
    return ""

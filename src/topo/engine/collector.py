"""Pausing Python's cyclic garbage collector during bulk work.

The engine makes no reference cycles: what an event leaves behind is freed by reference
counting. But each member's state is a handful of containers the cyclic collector tracks, and
over a bulk load of millions of events its collections walk every member again and again
(about a fifth of the time of a million-event replay). :func:`paused` stops it for the length
of a bulk call and restores it as it was, so nothing is lost: any cycle the caller's own code
makes meanwhile is collected afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block; on again after it if it was on."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()

"""Pausing Python's cyclic garbage collector during bulk work.

The engine makes no reference cycles: what an event leaves behind is freed by reference
counting. But each member's state is a handful of containers the cyclic collector tracks, and
over a bulk load of millions of events its collections walk every member again and again
(about a fifth of the time of a million-event replay). :func:`paused` stops it for the length
of a bulk call and restores it as it was, so nothing is lost: any cycle the caller's own code
makes meanwhile is collected afterwards.

What the bulk work made and kept (member states, a simulation's members) is handed to the
collector's oldest generation as the pause ends, where it would have been moved anyway had it
survived two collections: left young, the first collection after the pause would walk all of
it at once (a tenth of a simulation's time), only to move it there. The collector walks it at
its next full collection, as any long-lived object. This is skipped when the program has
frozen objects of its own (``gc.freeze``, as pre-forking servers do), whose freeze it would
undo.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The cyclic garbage collector off inside the block; on again after it if it was on,
    with what the block made in the oldest generation."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if not gc.get_freeze_count():
                gc.freeze()  # every tracked object to the permanent generation, and
                gc.unfreeze()  # back into the oldest one
            gc.enable()

"""A progress line for long work on a terminal: a bar when the size of the input is known.

:class:`ProgressBar` is told the number of items done so far; it redraws one line on its
stream at most ``every`` seconds, with how much of the input was read (when known), the count,
the rate and the time left::

    [##########··········]  50%   1,234,567 events   85,432/s   0:14 left

Work that stops at a limit or sooner (a search within its budget) shows the share of the
limit used, the count and what it has found so far::

    [######··············]  31%   6,200 situations   5 of 7 nodes and 8 of 10 moves

The command line shows it only when stderr is a terminal, so logs and CI output stay clean. A
line never runs past the terminal's width: a wrapped line could not be redrawn in place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar"]

_WIDTH = 20
_STEADY = 1.0
"""Seconds of a stage before its rate is shown."""


class ProgressBar:
    """One line of progress, redrawn in place (``\\r``) on ``stream``.

    ``done`` gives the fraction of the input read so far (0 to 1), or None when it cannot be
    known (a pipe). ``limit`` is the most items there can be, for work that may stop sooner (a
    search's budget): the bar shows the share of it used, and the line has no rate nor time
    left, which would promise too much. ``clock`` is for tests.
    """

    def __init__(
        self,
        stream: TextIO,
        done: Callable[[], float | None] = lambda: None,
        *,
        noun: str = "events",
        limit: int | None = None,
        every: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.done, self.noun, self.every, self.clock = stream, done, noun, every, clock
        self.limit = limit
        self.started = clock()
        self.counted = 0  # items done before the stage was watched (see restart)
        self.shown = float("-inf")
        self.width = 0  # of the line last drawn, to clear it

    def __call__(self, count: int, status: Callable[[], str] | None = None) -> None:
        """``count`` items are done; redraw if the last drawing is old enough, ending with
        ``status()`` (what the work has found so far) when it is given."""
        now = self.clock()
        if now - self.shown < self.every:
            return
        self.shown = now
        self._draw(self.line(count, now - self.started, status() if status else ""))

    def line(self, count: int, elapsed: float, status: str = "") -> str:
        """The progress line for ``count`` items done in ``elapsed`` seconds."""
        parts = [f"{count:,} {self.noun}"]
        fraction = self.done()
        if self.limit is not None:
            fraction = count / self.limit if self.limit > 0 else 1.0
        elif elapsed >= _STEADY:  # a rate over a blink of time says nothing
            parts.append(f"{(count - self.counted) / elapsed:,.0f}/s")
        if fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            filled = round(fraction * _WIDTH)
            parts.insert(0, "[" + "#" * filled + "·" * (_WIDTH - filled) + f"] {fraction:>4.0%}")
            if 0 < fraction < 1 and elapsed > 0 and self.limit is None:
                parts.append(f"{_clock_time(elapsed * (1 - fraction) / fraction)} left")
        return "   ".join([*parts, status] if status else parts)

    def restart(self, done: Callable[[], float | None], noun: str, *, counted: int = 0) -> None:
        """Go on with the next stage of the work on the same line: its own fraction, count,
        rate and time left; ``counted`` items of it were done before it is watched."""
        self.done, self.noun, self.counted = done, noun, counted
        self.started, self.shown = self.clock(), float("-inf")

    def clear(self) -> None:
        """Take the line away (before the summary is printed)."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def _draw(self, line: str) -> None:
        line = line[: _columns(self.stream) - 1]  # a wrapped line could not be redrawn in place
        padding = " " * max(0, self.width - len(line))  # a shorter line clears the longer one
        self.stream.write("\r" + line + padding)
        self.stream.flush()
        self.width = len(line)


def _clock_time(seconds: float) -> str:
    """``0:14``, ``12:03``, ``1:02:03``."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to (a large number when it has none)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 1_000
    except (AttributeError, OSError, ValueError):  # not a file, or not a terminal
        return 1_000

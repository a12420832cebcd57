"""Progress of a long sweep: a redrawn bar with rate and ETA on a terminal, sparse plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def format_duration(seconds: float) -> str:
    """``3725`` -> ``'1h02m'``, ``125`` -> ``'2m05s'``, ``9.4`` -> ``'9s'``.

    >>> format_duration(3725), format_duration(125), format_duration(9.4)
    ('1h02m', '2m05s', '9s')
    """
    s = int(round(max(seconds, 0.0)))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def format_rate(per_s: float) -> str:
    """Points per second: whole numbers from 10 up, two significant digits below (a cycle-engine sweep of
    big blocks runs under one point a second).

    >>> format_rate(56213.4), format_rate(8.93), format_rate(0.444)
    ('56,213', '8.9', '0.44')
    """
    return f"{per_s:,.0f}" if per_s >= 10 else f"{per_s:.2g}"


class Progress:
    """Counts points done out of ``total`` (``done`` of them already on disk at the start).

    On a terminal the bar is redrawn in place at most every ``redraw_s``; elsewhere (a log file, CI) one
    plain line is written every ``line_every_s`` and at the end. Rate counts only this run's points.
    """

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None, enabled: bool = True,
                 tty: bool | None = None, line_every_s: float = 10.0, redraw_s: float = 0.1,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.done, self.start_done = total, done, done
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = redraw_s if self.tty else line_every_s
        self.clock = clock
        self.t0 = self.last = clock()

    @property
    def rate(self) -> float:
        """Points per second in this run."""
        dt = self.clock() - self.t0
        return (self.done - self.start_done) / dt if dt > 0 else 0.0

    def text(self) -> str:
        rate = self.rate
        left = self.total - self.done
        eta = format_duration(left / rate) if rate > 0 else "?"
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return f"{self.done:,}/{self.total:,} points ({pct:.1f}%), {format_rate(rate)} points/s, ETA {eta}"

    def update(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            self._emit()

    def _emit(self, final: bool = False) -> None:
        if self.tty:
            width = 30
            filled = int(width * self.done / self.total) if self.total else width
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.text()}\x1b[K"
                              + ("\n" if final else ""))
        else:
            self.stream.write(f"sweep: {self.text()}\n")
        self.stream.flush()

    def close(self) -> None:
        """Final line (always written when enabled)."""
        if self.enabled:
            self._emit(final=True)

"""How far a long command has got: a bar on a terminal, a line every few seconds in a log, and
a summary at the end (issue 15.12).

Services take an optional ``Tracker`` (``start(total)``, then ``advance()`` per item done or
failed) and know nothing of terminals; a command makes a ``Progress`` and passes it::

    with Progress(label="备份媒体文件", stream=sys.stderr) as progress:
        report = backup(..., progress=progress)

On a terminal the bar is one line redrawn in place (``\\r``), at most ten times a second; in a
log (systemd's journal, cron's mail, a pipe) it is a line every ``interval`` seconds
(``已处理 1200/5000（24%），失败 0，已用 35 秒``). The summary line always ends it:
``备份媒体文件：完成 5000，失败 0，用时 143.2 秒``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol, TextIO


class Tracker(Protocol):
    """What a service reports its progress to."""

    def start(self, total: int | None) -> None:
        """How many items there are to do (None: not known)."""

    def advance(self, done: int = 1, failed: int = 0) -> None:
        """``done`` more items done, ``failed`` more that failed."""


class Silent:
    """A tracker that reports nothing (a service called without one)."""

    def start(self, total: int | None) -> None:
        return None

    def advance(self, done: int = 1, failed: int = 0) -> None:
        return None


def tracker(progress: Tracker | None) -> Tracker:
    return Silent() if progress is None else progress


class Progress:
    """A ``Tracker`` that shows itself on ``stream``; a context manager that ends with the
    summary (also when the block raises: what was done until then)."""

    BAR_WIDTH = 30
    TTY_REDRAW = 0.1

    def __init__(self, total: int | None = None, label: str = "", stream: TextIO | None = None,
                 *, interval: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 tty: bool | None = None) -> None:
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.done = 0
        self.failed = 0
        self.started = clock()
        self._shown = self.started
        self._drawn = False

    # --- Tracker ----------------------------------------------------------------------------
    def start(self, total: int | None) -> None:
        self.total = total
        if self.tty:
            self._draw()

    def advance(self, done: int = 1, failed: int = 0) -> None:
        self.done += done
        self.failed += failed
        now = self.clock()
        if self.tty:
            if now - self._shown >= self.TTY_REDRAW or self._finished():
                self._shown = now
                self._draw()
        elif now - self._shown >= self.interval:
            self._shown = now
            self._write(self.line() + "\n")

    # --- what is shown ----------------------------------------------------------------------
    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def seconds(self) -> float:
        return self.clock() - self.started

    def line(self) -> str:
        """The log line: ``已处理 1200/5000（24%），失败 0，已用 35 秒``."""
        of = f"/{self.total}" if self.total is not None else ""
        share = (f"（{self.processed * 100 // self.total}%）" if self.total else "")
        prefix = f"{self.label}：" if self.label else ""
        return (f"{prefix}已处理 {self.processed}{of}{share}，失败 {self.failed}，"
                f"已用 {self.seconds:.0f} 秒")

    def summary(self) -> str:
        prefix = f"{self.label}：" if self.label else ""
        return f"{prefix}完成 {self.done}，失败 {self.failed}，用时 {self.seconds:.1f} 秒"

    def bar(self) -> str:
        if self.total:
            filled = min(self.BAR_WIDTH, self.processed * self.BAR_WIDTH // self.total)
            drawn = "#" * filled + "-" * (self.BAR_WIDTH - filled)
            count = f"{self.processed}/{self.total} {self.processed * 100 // self.total:3d}%"
        else:
            drawn, count = "", str(self.processed)
        failed = f" 失败 {self.failed}" if self.failed else ""
        label = f"{self.label} " if self.label else ""
        return f"{label}[{drawn}] {count}{failed} {self.seconds:.0f}s"

    def _finished(self) -> bool:
        return self.total is not None and self.processed >= self.total

    def _draw(self) -> None:
        self._drawn = True
        self._write("\r" + self.bar() + "\033[K")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    # --- context manager --------------------------------------------------------------------
    def __enter__(self) -> Progress:
        self.started = self._shown = self.clock()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.tty and self._drawn:
            self._draw()
            self._write("\n")
        self._write(self.summary() + "\n")

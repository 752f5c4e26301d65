"""A one-line progress bar on stderr, shown only where stderr is a terminal: the work done
(examples, submissions) and, for work that runs as tasks on an executor, the tasks running
and failed."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from gradcheck.runs.executors import Tasks

__all__ = ["Progress"]


class Progress:
    def __init__(
        self,
        total: int,
        *,
        label: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
        of_tasks: bool = False,
    ) -> None:
        self.total, self.label, self.width, self.done = max(total, 1), label, width, 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.perf_counter()
        self.tasks: Tasks | None = None
        self.of_tasks = of_tasks  # the bar counts the tasks themselves (one per submission)
        self._shown = False

    def update(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        self._draw()

    def on_tasks(self, tasks: Tasks) -> None:
        """How the tasks stand: shown after the work done, or as it (``of_tasks``)."""
        self.tasks = tasks
        if self.of_tasks:
            self.done, self.total = tasks.done, max(tasks.total, 1)
        self._draw()

    def say(self, line: str) -> None:
        """Print ``line`` on stderr above the bar (on a line of its own either way)."""
        if self.enabled and self._shown:
            self.stream.write("\r\033[K")
        self.stream.write(line + "\n")
        self.stream.flush()
        self._draw()

    def line(self) -> str:
        filled = self.width * self.done // self.total
        rate = self.done / max(time.perf_counter() - self.start, 1e-9)
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"{self.label} [{bar}] {self.done}/{self.total}"
        t = self.tasks
        if t is not None and self.of_tasks:
            text += f" done, {t.running} running, {t.failed} failed"
        elif t is not None:
            text += f"; tasks {t.done}/{t.total} done, {t.running} running, {t.failed} failed"
        return f"{text} ({rate:.1f}/s)"

    def _draw(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line())
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()

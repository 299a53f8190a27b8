"""Progress of long work, shown one way everywhere: a live bar on a terminal, a few plain lines elsewhere.

Work that ends within about a second (:data:`DELAY`) shows nothing at all. On a terminal the
bar is rich's; in a log or CI (stderr not a terminal) a line is printed after each tenth of the
work (after each item when there are at most 20), so a log of hundreds of files stays short.
The library reports counts (``progress(done, total, detail)``); this module alone decides
what the user sees.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

#: Work that is over within this many seconds shows no progress.
DELAY = 1.0


class Ticker:
    """A ``progress(done, total, detail)`` callback for one piece of counted work.

    Parameters
    ----------
    label : str
        What the work is, e.g. ``"read"``: lines read ``read 3/40 files: DETAIL``.
    unit : str, default="files"
    say : callable, default=None
        Where plain lines go (default: stderr).
    live : bool, default=None
        A live bar (True) or plain lines (False); None asks whether stderr is a terminal.
    delay : float, default=DELAY
    clock : callable, default=time.perf_counter
    tenths : bool, default=False
        Plain lines after each tenth of the work even when there are at most 20 items (fits
        of a leaderboard, where a line per item would be most of the output).

    Examples
    --------
    >>> now = [0.0]
    >>> lines = []
    >>> tick = Ticker("read", say=lines.append, live=False, clock=lambda: now[0])
    >>> tick(1, 40, "a.csv")  # within the first second: nothing
    >>> now[0] = 2.0
    >>> for done in range(2, 41):
    ...     tick(done, 40, f"m{done}.csv")
    >>> lines[0], lines[-1], len(lines)
    ('read 4/40 files: m4.csv', 'read 40/40 files: m40.csv', 10)
    """

    def __init__(
        self,
        label: str,
        *,
        unit: str = "files",
        say: Callable[[str], None] | None = None,
        live: bool | None = None,
        delay: float = DELAY,
        clock: Callable[[], float] = time.perf_counter,
        tenths: bool = False,
    ) -> None:
        self.label, self.unit, self.delay, self.clock, self.tenths = label, unit, delay, clock, tenths
        self.say = say or (lambda line: print(line, file=sys.stderr))
        self.live = sys.stderr.isatty() if live is None else live
        self.started = clock()
        self.shown = False  # once something is shown, later rounds (OOF files after test files) show too
        self._bar: tuple[Progress, TaskID] | None = None  # the live bar and its task, while it runs

    def __call__(self, done: int, total: int, detail: str = "") -> None:
        if not self.shown and self.clock() - self.started < self.delay:
            return
        self.shown = True
        if self.live:
            self._advance_bar(done, total, detail)
        elif done == total or done in _steps(total, tenths=self.tenths):
            self.say(f"{self.label} {done}/{total} {self.unit}" + (f": {detail}" if detail else ""))

    def _advance_bar(self, done: int, total: int, detail: str) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            from rich.table import Column

            # The detail (the file read, or the fit and the time left of a budget) follows the counts and takes
            # what width is left, cut short rather than squeezing the counts on a narrow terminal.
            detail_column = TextColumn(
                "{task.fields[detail]}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")
            )
            bar = Progress(
                TextColumn(f"{self.label} {{task.description}}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                detail_column,
                console=Console(stderr=True),
                transient=False,
                expand=True,
            )
            self._bar = bar, bar.add_task(self.unit, total=total, detail=detail)
            bar.start()
        bar, task = self._bar
        bar.update(task, completed=done, total=total, description=self.unit, detail=detail)
        if done >= total:
            bar.stop()
            self._bar = None


def _steps(total: int, *, tenths: bool = False) -> set[int]:
    """After which items a plain line is printed: each up to 20 (unless ``tenths``), else each tenth and the last."""
    if total <= 20 and not tenths:
        return set(range(1, total + 1))
    return {max(1, round(total * step / 10)) for step in range(1, 11)}

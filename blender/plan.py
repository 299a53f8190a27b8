"""A time budget for ``blend auto`` and ``blend score``: time each entry on one fold, keep what fits, say what is out.

``--time-budget 5m`` is planned from fits timed on this machine just before the run, as
``make oof --time-budget`` plans the models (:mod:`models.budget`): a machine can be several
times slower than another, so no cost fixed in advance would hold.

1. **Timing.** Every file is scored once on all OOF rows (the leaderboard needs it anyway),
   and every blend method is fitted on the training rows of the leaderboard's first fold,
   applied and scored on its held-out rows, cheapest first (registry order). That fold's score
   is kept and becomes the method's first fold on the leaderboard, so timing costs nothing
   for what is kept. Once timing the methods has used :data:`TIMING_SHARE` of the budget, the
   methods not yet timed are left out untimed.
2. **Projection.** A method's cost grows with the rows it is fitted on: its timed fold gives
   seconds per training row, multiplied by the training rows of every fold of the leaderboard
   (folds x repeats) and of every inner fold of the nested estimate (outer folds x inner folds
   x repeats, each on an outer fold's training rows), plus the pick fitted in each outer fold
   and on every row at the end (the two costliest methods kept, as a top-K mean of strong
   entries usually holds them).
3. **The plan** keeps :data:`SAFETY` of the time left free. If everything does not fit, it
   lowers the repeats, then the nested estimate's inner folds (down to :data:`MIN_INNER_FOLDS`),
   then leaves out the costliest methods one at a time; the simple means (complexity 1) cost
   next to nothing and are never left out. If not even they fit, ``auto`` writes the best
   single file and ``score`` scores the files only, and both say so.
4. **The guard.** During the run the leaderboard's scorer (:class:`FoldScorer`) compares the
   clock with the plan's projection of the work left before each method; when the run is
   late it leaves the method out whole (and says so), so every entry of the leaderboard is
   scored on every fold and the pick is always one of them.

Whatever the budget, the leaderboard and the nested estimate report their progress as counts of
fits (entries x folds) with the time left, through :class:`blender.progress.Ticker`: a live bar
on a terminal, a few plain lines elsewhere.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics
from blender.evaluation import fold_assignment, fold_count, fold_scores, repeated_folds
from blender.methods import Method, methods_for
from blender.progress import Ticker
from blender.timing import format_duration

if TYPE_CHECKING:
    from blender.evaluation import Leaderboard
    from blender.io.predictions import Predictions
    from blender.picking import AutoResult

#: One split of the rows: (training rows, held-out rows).
Split = tuple[NDArray[np.int64], NDArray[np.int64]]

#: Share of the time left that the plan keeps free: timings are noisy, and a shared machine's load changes.
SAFETY = 0.15
#: Methods are timed (cheapest first) until timing has used this share of the budget; the rest are left out.
TIMING_SHARE = 0.3
#: The nested estimate's inner leaderboards keep at least this many folds (fewer if the shared folds are fewer).
MIN_INNER_FOLDS = 3
#: Each method is first fitted twice on this many of the fold's training rows: once because its first call imports
#: its modules (scikit-learn for the stackers: over a second), which would make it look costly on small files;
#: once timed, which orders the methods' real timing cheapest first.
WARM_UP_ROWS = 300
#: A fit timed under this many seconds is timed again and the faster time kept (what is left of the warm-up).
RETIME_UNDER = 0.5


@dataclass(frozen=True, eq=False)
class Timing:
    """One method timed on the leaderboard's first fold.

    Attributes
    ----------
    name : str
    seconds : float
        Fitting on the fold's training rows, applying and scoring the held-out rows.
    train_rows : int
        The rows it was fitted on.
    scores : ndarray of shape (1,)
        Its score on that fold: the leaderboard's first fold for this method.
    """

    name: str
    seconds: float
    train_rows: int
    scores: NDArray[np.float64]

    @property
    def per_row(self) -> float:
        """Seconds per training row: what the projection multiplies the rows of every other fit by."""
        return self.seconds / max(self.train_rows, 1)


@dataclass(frozen=True)
class Work:
    """The shape of a run, in rows: what the measured rates are multiplied by.

    Attributes
    ----------
    n_rows : int
        OOF rows.
    split_rows : tuple of int, shape (folds * repeats,)
        Training rows of each fold of the leaderboard at the asked repeats, in the order it scores them.
    folds, repeats : int
        The leaderboard's folds and the asked repeats (1 with a folds file).
    outer_rows : tuple of int, shape (n_outer_folds,)
        Training rows of each outer fold of the nested estimate; empty for ``blend score``.
    inner_folds : int
        The nested estimate's inner folds when nothing needs to shrink (as many as the shared folds).
    files_seconds : float
        Seconds to score every file once on all OOF rows.
    fits_step : bool
        The metric fits a decision step, which the files' fold scores fit on each fold's training rows.
    blends : bool
        Every method is also fitted on all rows for its own test blend (``blend auto --blends-dir``).
    """

    n_rows: int
    split_rows: tuple[int, ...]
    folds: int
    repeats: int
    outer_rows: tuple[int, ...] = ()
    inner_folds: int = 0
    files_seconds: float = 0.0
    fits_step: bool = False
    blends: bool = False

    @property
    def nested(self) -> bool:
        return bool(self.outer_rows)

    def leaderboard_rows(self, repeats: int) -> int:
        """Training rows of every fit of one method on the leaderboard at ``repeats``."""
        return int(sum(self.split_rows[: self.folds * repeats]))

    def nested_rows(self, repeats: int, inner_folds: int) -> int:
        """Training rows of every fit of one method in the nested estimate's inner leaderboards.

        Each outer fold's inner leaderboard fits ``inner_folds * repeats`` times, each on
        ``(inner_folds - 1) / inner_folds`` of the outer fold's training rows.
        """
        return int(repeats * (inner_folds - 1) * sum(self.outer_rows))


def leaderboard_seconds(timing: Timing, work: Work, repeats: int) -> float:
    """A method's projected seconds on the whole leaderboard (its timed fold included).

    >>> work = Work(1000, (800,) * 5, 5, 1)
    >>> leaderboard_seconds(Timing("caruana", 2.0, 800, np.zeros(1)), work, 1)
    10.0
    """
    return timing.per_row * work.leaderboard_rows(repeats)


def nested_seconds(timing: Timing, work: Work, repeats: int, inner_folds: int) -> float:
    """A method's projected seconds in the nested estimate's inner leaderboards.

    Five outer folds (four of 600 training rows and the slice's of 800), five inner folds:

    >>> work = Work(1000, (800,) * 5, 5, 1, outer_rows=(600, 600, 600, 600, 800), inner_folds=5)
    >>> nested_seconds(Timing("caruana", 2.0, 800, np.zeros(1)), work, 1, 5), nested_seconds(
    ...     Timing("caruana", 2.0, 800, np.zeros(1)), work, 1, 3)
    (32.0, 16.0)
    """
    return timing.per_row * work.nested_rows(repeats, inner_folds) if work.nested else 0.0


def projected_seconds(timings: list[Timing], work: Work, *, repeats: int, inner_folds: int) -> dict[str, float]:
    """Projected seconds of a run with these methods after their timing, by part: ``leaderboard`` (the
    timed folds are reused), ``nested``, ``picks`` (the pick fitted in each outer fold and on every row,
    and every test blend with ``blends``) and ``total``.

    >>> work = Work(1000, (800,) * 5, 5, 1, outer_rows=(600, 600, 600, 600, 800), inner_folds=5)
    >>> parts = projected_seconds([Timing("caruana", 2.0, 800, np.zeros(1))], work, repeats=1, inner_folds=5)
    >>> {part: round(seconds, 2) for part, seconds in parts.items()}
    {'leaderboard': 8.0, 'nested': 32.0, 'picks': 10.5, 'total': 50.5}
    """
    # The files' fold scores: every held-out row once per repeat, and each fold's training rows
    # again where a decision step is fitted on them.
    files_board = work.files_seconds * repeats * (work.folds if work.fits_step else 1)
    leaderboard = files_board + sum(leaderboard_seconds(timing, work, repeats) - timing.seconds for timing in timings)
    nested = picks = 0.0
    if work.nested:
        nested = files_board * sum(work.outer_rows) / work.n_rows + work.files_seconds * len(work.outer_rows)
        nested += sum(nested_seconds(timing, work, repeats, inner_folds) for timing in timings)
        pick_rate = sum(sorted((timing.per_row for timing in timings), reverse=True)[:2])
        picks = pick_rate * (sum(work.outer_rows) + work.n_rows)
        if work.blends:
            picks += sum(timing.per_row for timing in timings) * work.n_rows
    return {"leaderboard": leaderboard, "nested": nested, "picks": picks, "total": leaderboard + nested + picks}


@dataclass(frozen=True, eq=False)
class BudgetPlan:
    """What a budgeted run will do, about how long it will take, and what it leaves out.

    Attributes
    ----------
    budget : float
        The budget, in seconds.
    methods : list of Method
        The methods kept, in registry order.
    left_out : list of (str, str)
        Each method left out, and why.
    repeats : int
        Repeats of the leaderboard (and of the nested estimate's inner leaderboards).
    inner_folds : int or None
        The nested estimate's inner folds (None for ``blend score``).
    estimate : float
        Projected seconds of the run after the timing.
    available : float
        Seconds left of the budget after the timing.
    timing_seconds : float
        Seconds the timing took.
    timings : dict of str to Timing
        Every timed method's first fold, kept or not.
    parts : dict of str to float
        ``estimate`` by part (:func:`projected_seconds`).
    fits : bool
        False when not even the simple means fit: ``auto`` writes the best single file, ``score`` scores the files only.
    notes : list of str
        What was shrunk before anything was left out (repeats, inner folds).
    """

    budget: float
    methods: list[Method]
    left_out: list[tuple[str, str]]
    repeats: int
    inner_folds: int | None
    estimate: float
    available: float
    timing_seconds: float
    timings: dict[str, Timing]
    parts: dict[str, float] = field(default_factory=dict)
    fits: bool = True
    notes: list[str] = field(default_factory=list)

    def shortfall(self) -> str:
        """Why not even the cheapest blend fits (for ``fits=False``)."""
        left = format_duration(max(self.available, 0))
        if not self.timings and not any(why.startswith("about") for _, why in self.left_out):
            return (
                f"no blend method could be timed within {TIMING_SHARE:.0%} of the {format_duration(self.budget)} "
                f"budget (timing took {self.timing_seconds:.1f} s), and {left} are left"
            )
        return (
            f"not even the cheapest blends fit the {left} left: the simple means need about "
            f"{format_duration(self.parts.get('total', 0.0))} with the files"
        )

    def lines(self, *, n_files: int, folds: int, command: str = "auto") -> list[str]:
        """The lines printed before the run: what was timed, what will run and for about how long, what is left out."""
        budget = format_duration(self.budget)
        lines = []
        if self.timings or self.left_out:
            timed = sorted(self.timings.values(), key=lambda timing: timing.seconds)
            spread = (
                f": {timed[0].seconds:.1f} s ({timed[0].name}) to {timed[-1].seconds:.1f} s ({timed[-1].name}) a fold"
                if timed
                else ""
            )
            lines.append(
                f"time budget {budget}: scored the files and timed {len(self.timings)} blend methods on one "
                f"fold in {self.timing_seconds:.1f} s{spread}"
            )
        else:
            lines.append(f"time budget {budget}")
        if not self.fits:
            action = (
                "writing the best single file, chosen on the folds, and the nested estimate of choosing it"
                if command == "auto"
                else "scoring the files only"
            )
            lines.append(f"plan: {self.shortfall()}; {action}")
        else:
            cv = f"{self.repeats}x{folds}-fold CV" if self.repeats else "the folds"
            steps = [
                f"{n_files} files and {len(self.methods)} blend methods on {cv} "
                f"(about {format_duration(self.parts['leaderboard'])})"
            ]
            if self.inner_folds is not None:
                steps.append(
                    f"the nested estimate with {self.inner_folds} inner folds "
                    f"(about {format_duration(self.parts['nested'])})"
                )
                steps.append(f"fitting the picks (about {format_duration(self.parts['picks'])})")
            lines.append(
                f"plan: {', then '.join(steps)}: about {format_duration(self.estimate)} of the "
                f"{format_duration(max(self.available, 0))} left"
            )
        lines.extend(f"plan: {note}" for note in self.notes)
        # Methods left out for the same reason (not timed) share one line.
        reasons: dict[str, list[str]] = {}
        for name, why in self.left_out:
            reasons.setdefault(why, []).append(name)
        lines.extend(f"left out: {', '.join(names)}: {why}" for why, names in reasons.items())
        return lines


def plan_budget(
    timings: list[Timing],
    methods: list[Method],
    work: Work,
    *,
    budget: float,
    available: float,
    untimed: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    timing_seconds: float = 0.0,
    safety: float = SAFETY,
) -> BudgetPlan:
    """The largest run that fits ``available`` seconds: fewer repeats, then fewer inner folds, then fewer methods.

    Parameters
    ----------
    timings : list of Timing
        The methods timed on one fold, in the order of ``methods``.
    methods : list of Method
        The registry entries timed (``timings[i]`` is ``methods[i]``'s).
    work : Work
        The run's shape; ``work.nested`` for ``blend auto``.
    budget : float
        The whole budget, in seconds (for the messages).
    available : float
        Seconds left after the timing.
    untimed : list of (str, str), default=()
        Methods left out before they were timed, and why.
    timing_seconds : float, default=0.0
    safety : float, default=SAFETY
        Share of ``available`` kept free.

    Returns
    -------
    BudgetPlan

    Examples
    --------
    Two methods on 1,000 rows and 5 folds, one costing a thousand times the other; 40 s left:

    >>> from blender.methods import BY_NAME
    >>> work = Work(1000, (800,) * 5, 5, 1, outer_rows=(600, 600, 600, 600, 800), inner_folds=5)
    >>> timings = [Timing("average", 0.001, 800, np.zeros(1)), Timing("caruana", 1.0, 800, np.zeros(1))]
    >>> budget_plan = plan_budget(timings, [BY_NAME["average"], BY_NAME["caruana"]], work, budget=40.0, available=40.0)
    >>> [method.name for method in budget_plan.methods], budget_plan.inner_folds, budget_plan.left_out
    (['average', 'caruana'], 5, [])
    >>> budget_plan = plan_budget(timings, [BY_NAME["average"], BY_NAME["caruana"]], work, budget=25.0, available=25.0)
    >>> [method.name for method in budget_plan.methods], budget_plan.inner_folds, budget_plan.notes
    (['average', 'caruana'], 3, ["the nested estimate's inner leaderboards on 3 folds instead of 5, to fit the budget"])
    >>> budget_plan = plan_budget(timings, [BY_NAME["average"], BY_NAME["caruana"]], work, budget=12.0, available=12.0)
    >>> [method.name for method in budget_plan.methods], budget_plan.left_out[0][0]
    (['average'], 'caruana')
    """
    usable = available * (1 - safety)
    by_name = {timing.name: timing for timing in timings}
    kept = list(methods)
    repeats = work.repeats
    inner = work.inner_folds if work.nested else None
    notes, left_out = [], list(untimed)

    def parts(chosen: list[Method], at_repeats: int, at_inner: int | None) -> dict[str, float]:
        return projected_seconds(
            [by_name[method.name] for method in chosen], work, repeats=at_repeats, inner_folds=at_inner or 0
        )

    def fits(chosen: list[Method], at_repeats: int, at_inner: int | None) -> bool:
        return parts(chosen, at_repeats, at_inner)["total"] <= usable

    # Fewer repeats first: they only narrow the standard errors, and every entry keeps its place.
    while not fits(kept, repeats, inner) and repeats > 1:
        repeats -= 1
    # Then smaller inner leaderboards in the nested estimate: it estimates the same choice, a little more coarsely.
    smallest = min(MIN_INNER_FOLDS, work.inner_folds)
    while inner is not None and not fits(kept, repeats, inner) and inner > smallest:
        inner -= 1
    # Then the costliest methods, one at a time; the simple means cost next to nothing and stay.
    while not fits(kept, repeats, inner):
        droppable = [method for method in kept if method.complexity > 1]
        if not droppable:
            break

        def cost(method: Method) -> float:
            timing = by_name[method.name]
            return leaderboard_seconds(timing, work, repeats) + nested_seconds(timing, work, repeats, inner or 0)

        costliest = max(droppable, key=cost)
        kept.remove(costliest)
        timing = by_name[costliest.name]
        with_it = parts(kept + [costliest], repeats, inner)["total"]
        nested = (
            f" and {format_duration(nested_seconds(timing, work, repeats, inner or 0))} in the nested estimate"
            if work.nested
            else ""
        )
        left_out.append(
            (
                costliest.name,
                f"about {_seconds(leaderboard_seconds(timing, work, repeats))} per leaderboard"
                f"{nested} ({timing.seconds:.1f} s a fold); with it the run would need about "
                f"{format_duration(with_it)}, more than the {format_duration(usable)} the "
                f"plan can use of the {format_duration(max(available, 0))} left of the "
                f"{format_duration(budget)} budget",
            )
        )
    # What the methods left out free is given back to the nested estimate, then to the repeats.
    if left_out:
        while inner is not None and inner < work.inner_folds and fits(kept, repeats, inner + 1):
            inner += 1
        while repeats < work.repeats and fits(kept, repeats + 1, inner):
            repeats += 1
    if repeats != work.repeats:
        notes.append(
            f"{repeats} repeat{'s' if repeats > 1 else ''} of the folds instead of {work.repeats}, to fit the budget"
        )
    if inner is not None and inner != work.inner_folds:
        notes.append(
            f"the nested estimate's inner leaderboards on {inner} folds instead of {work.inner_folds}, to fit "
            "the budget"
        )
    # The left-out list reads in the order the user would add them back: cheapest first.
    order = {method.name: index for index, method in enumerate(methods)}
    left_out.sort(key=lambda item: (item[0] not in by_name, order.get(item[0], 0)))
    chosen = parts(kept, repeats, inner)
    return BudgetPlan(
        budget,
        kept,
        left_out,
        repeats,
        inner,
        chosen["total"],
        available,
        timing_seconds,
        dict(by_name),
        chosen,
        bool(kept) and fits(kept, repeats, inner),
        notes,
    )


def _seconds(seconds: float) -> str:
    """Tenths of a second under ten seconds, else :func:`format_duration`."""
    return f"{seconds:.1f} s" if seconds < 10 else format_duration(seconds)


def time_methods(
    methods: list[Method],
    values: NDArray,
    y: NDArray,
    split: Split,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    random_state: int | None,
    reference: NDArray,
    clock: Callable[[], float] = time.perf_counter,
    give_up_at: float = np.inf,
) -> tuple[list[Timing], list[Method], list[tuple[str, str]]]:
    """Time each method on one split, as the leaderboard scores it, cheapest first.

    Every method is first run twice on a few of the split's rows (:data:`WARM_UP_ROWS`): once
    for its imports, once timed, which orders the real timing cheapest first, so that the
    share of the budget for timing goes to the cheap methods (registry order breaks ties).

    Returns the timings and the methods timed (both in the order of ``methods``), and the
    methods left out untimed (once ``clock()`` passes ``give_up_at``) with why.
    """
    options = {"kind": kind, "metric": metric, "random_state": random_state, "reference": reference}
    probes = {method.name: _warm_up(method, values, y, split, clock=clock, **options) for method in methods}
    timings, untimed = {}, []
    train_rows = int(len(split[0]))
    for method in sorted(methods, key=lambda method: probes[method.name]):
        if clock() >= give_up_at:
            untimed.append(
                (
                    method.name,
                    f"not timed: timing the cheaper methods used the budget's share for timing ({TIMING_SHARE:.0%})",
                )
            )
            continue
        seconds = np.inf
        for _ in range(2):  # twice when quick (see RETIME_UNDER)
            started = clock()
            scores = fold_scores(
                method, values, y, [split], kind=kind, metric=metric, random_state=random_state, reference=reference
            )
            seconds = min(seconds, clock() - started)
            if seconds >= RETIME_UNDER:
                break
        timings[method.name] = Timing(method.name, seconds, train_rows, scores)
    timed = [method for method in methods if method.name in timings]
    return [timings[method.name] for method in timed], timed, untimed


def _warm_up(
    method: Method, values: NDArray, y: NDArray, split: Split, *, clock: Callable[[], float], **options: Any
) -> float:
    """Fit and score ``method`` twice on a few of the split's rows (:data:`WARM_UP_ROWS`): seconds of the second run.

    The first run pays for the method's imports; a method that fails on so few rows gets ``inf``
    (it is timed last), and a real failure shows in its timed fit.
    """
    train_rows, held_out = split
    few = (train_rows[:WARM_UP_ROWS], held_out[: max(1, WARM_UP_ROWS // 4)])
    try:
        fold_scores(method, values, y, [few], **options)
        started = clock()
        fold_scores(method, values, y, [few], **options)
        return clock() - started
    except Exception:  # noqa: BLE001 - only an order is asked of a run on so few rows
        return float("inf")


# ---------------------------------------------------------------------------- during the run


class FoldScorer:
    """The leaderboard's ``scorer``: counts fits for the progress bars and, under a budget, guards the deadline.

    Called as :func:`blender.evaluation.fold_scores` is. It scores one split at a time and
    reports ``(fits done, fits in all, detail)`` to one :class:`~blender.progress.Ticker` for
    the leaderboard (the call on all ``n_rows`` rows) and another for the nested estimate (its
    inner leaderboards, on fewer rows). Under a budget it reuses each method's timed first fold
    on the leaderboard, and before a method whose complexity is above 1 it compares
    ``clock() + remaining`` (the plan's projection of the work left, this method included) with
    ``deadline``: when late, it leaves the method out whole (returns None) and says so.

    Parameters
    ----------
    n_rows : int
        Rows of the leaderboard; an inner leaderboard has fewer.
    board_fits, nested_fits : int
        Fits (entries x folds) of the leaderboard and of the nested estimate.
    say : callable
        Where the lines about late methods go.
    plan : BudgetPlan, default=None
    work : Work, default=None
    deadline : float, default=None
    clock : callable, default=time.perf_counter
    live : bool, default=None
        Passed to the tickers (None: a live bar on a terminal).
    """

    def __init__(
        self,
        *,
        n_rows: int,
        board_fits: int,
        nested_fits: int,
        say: Callable[[str], None],
        plan: BudgetPlan | None = None,
        work: Work | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
        live: bool | None = None,
    ):
        self.n_rows, self.say, self.plan, self.work = n_rows, say, plan, work
        self.deadline, self.clock = deadline, clock
        kept = {method.name: plan.timings[method.name] for method in plan.methods} if plan is not None else {}
        self.first = {name: timing.scores for name, timing in kept.items()}
        self.rates = {name: timing.per_row for name, timing in kept.items()}
        self.remaining = plan.estimate if plan is not None else 0.0
        self.totals = {"board": board_fits, "nested": nested_fits}
        self.done = {"board": len(self.first), "nested": 0}
        self.tickers = {
            "board": Ticker("leaderboard", unit="fits", say=say, live=live, clock=clock, tenths=True),
            "nested": Ticker("nested estimate", unit="fits", say=say, live=live, clock=clock, tenths=True),
        }
        self.late: list[tuple[str, str]] = []
        self._last_y: NDArray | None = None
        self.outer_fold = 0
        self._fixed_per_outer = 0.0
        if plan is not None and work is not None:
            timings = [plan.timings[method.name] for method in plan.methods]
            # The files' part of the leaderboard is done before the scorer is first called.
            self.remaining -= plan.parts.get("leaderboard", 0.0) - sum(
                leaderboard_seconds(timing, work, plan.repeats) - timing.seconds for timing in timings
            )
            if work.nested:
                # The nested estimate's files and picks, spread over its outer folds (the final fit stays counted).
                files = plan.parts.get("nested", 0.0) - sum(
                    nested_seconds(timing, work, plan.repeats, plan.inner_folds or 0) for timing in timings
                )
                picks = plan.parts.get("picks", 0.0) * sum(work.outer_rows) / (sum(work.outer_rows) + work.n_rows)
                self._fixed_per_outer = (files + picks) / len(work.outer_rows)

    def _cost(self, name: str, splits: list[Split]) -> float:
        return self.rates.get(name, 0.0) * sum(len(train) for train, _ in splits)

    def _time_left(self) -> str:
        """``'3 min 10 s of the budget left; '``, first so that a narrow terminal's bar cuts the fit's name instead."""
        if self.deadline is None:
            return ""
        return f"{format_duration(max(0.0, self.deadline - self.clock()))} of the budget left; "

    def __call__(
        self,
        method: Method,
        values: NDArray,
        y: NDArray,
        splits: list[Split],
        *,
        reference: NDArray | None = None,
        **options: Any,
    ) -> NDArray[np.float64] | None:
        main = len(y) == self.n_rows
        stage = "board" if main else "nested"
        if not main and y is not self._last_y:
            self.outer_fold += 1
            self.remaining -= self._fixed_per_outer
        self._last_y = y
        first = self.first.get(method.name) if main else None
        todo = list(splits[1:]) if first is not None else list(splits)
        costs = [self._cost(method.name, [split]) for split in todo]
        scores: list[NDArray[np.float64]] = [] if first is None else [np.asarray(first, dtype=np.float64)]
        slower = 1.0  # how much slower than timed this method's folds have run here
        for index, split in enumerate(todo):
            # Before each fold, the guard: the plan's projection of the work left (this method's folds at the
            # speed they run now), against the deadline. The simple means cost next to nothing and always run.
            if self.deadline is not None and method.complexity > 1:
                ahead = self.remaining + (slower - 1.0) * sum(costs[index:])
                if self.clock() + ahead > self.deadline:
                    self._leave_out(
                        method,
                        stage,
                        main,
                        costs[index:],
                        len(splits),
                        len(scores),
                        self.clock() + ahead - self.deadline,
                    )
                    return None
            before = self.clock()
            scores.append(fold_scores(method, values, y, [split], reference=reference, **options))
            if costs[index] > 0:
                slower = max(1.0, (self.clock() - before) / costs[index])
            self.remaining -= costs[index]
            self.done[stage] += 1
            where = "" if main else f"outer fold {self.outer_fold}, "
            self.tickers[stage](
                self.done[stage],
                self.totals[stage],
                f"{self._time_left()}{where}{method.name} fold {len(scores)}/{len(splits)}",
            )
        return np.concatenate(scores)

    def _leave_out(
        self, method: Method, stage: str, main: bool, costs: list[float], n_splits: int, scored: int, behind: float
    ) -> None:
        """Leave a late method out whole (its folds scored so far are dropped), and say so."""
        self.remaining -= sum(costs)
        if main:
            # Left off the leaderboard, it is not run in the nested estimate either.
            if self.work is not None and self.plan is not None and self.work.nested:
                self.remaining -= self.rates.get(method.name, 0.0) * self.work.nested_rows(
                    self.plan.repeats, self.plan.inner_folds or 0
                )
            self.totals["nested"] -= self._nested_fits_each()
            where = "the leaderboard"
        else:
            where = f"outer fold {self.outer_fold}'s inner leaderboard"
        self.totals[stage] -= n_splits
        self.done[stage] -= scored
        after = f" after {scored} of its {n_splits} folds" if scored else ""
        self.late.append((method.name, where))
        self.say(
            f"running late ({_seconds(behind)} behind the plan): leaving {method.name} out of {where}{after}, "
            "so that the run ends within the budget"
        )
        self.tickers[stage](self.done[stage], max(self.totals[stage], self.done[stage]))

    def _nested_fits_each(self) -> int:
        if self.work is None or self.plan is None or not self.work.nested:
            return 0
        return len(self.work.outer_rows) * (self.plan.inner_folds or 0) * self.plan.repeats


# ---------------------------------------------------------------------------- the commands' entry points


def describe_work(
    train: Predictions,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    folds: Any,
    repeats: int,
    random_state: int | None,
    nested: bool,
    blends: bool = False,
    files_seconds: float = 0.0,
) -> tuple[Work, list]:
    """The run's :class:`Work` and the leaderboard's splits at ``repeats``."""
    from blender.evaluation import level_splits

    splits = repeated_folds(y, kind=kind, folds=folds, repeats=repeats, random_state=random_state)
    outer: tuple[int, ...] = ()
    if nested:
        outer_splits, _ = level_splits(fold_assignment(y, kind=kind, folds=folds, random_state=random_state))
        outer = tuple(int(len(train_rows)) for train_rows, _ in outer_splits)
    metric = metrics.for_truth(metric, kind, y)
    work = Work(
        int(np.asarray(y).shape[0]),
        tuple(int(len(train_rows)) for train_rows, _ in splits),
        fold_count(folds),
        repeats,
        outer,
        fold_count(folds),
        files_seconds,
        bool(metric.fits_step),
        blends,
    )
    return work, splits


def plan_run(
    train: Predictions,
    y: NDArray,
    *,
    metric: metrics.Metric,
    folds: Any,
    repeats: int,
    random_state: int | None,
    methods: list[Method],
    budget: float,
    started: float,
    nested: bool,
    blends: bool = False,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[BudgetPlan, Work]:
    """Time the files and every method on the leaderboard's first fold, then plan the run for the budget left.

    ``started`` is when the budget began (on ``clock``): after reading the files.
    """
    values, y = np.asarray(train.values), np.asarray(y)
    kind = train.kind
    metric = metrics.for_truth(metric, kind, y)
    timing_started = clock()
    files_seconds = np.inf
    for _ in range(2):  # twice when quick: the first call pays for imports (see RETIME_UNDER)
        before = clock()
        overall = layout.model_scores(values, y, metric=metric, kind=kind)
        files_seconds = min(files_seconds, clock() - before)
        if files_seconds >= RETIME_UNDER:
            break
    reference = values[layout.best_model(overall, metric)]
    work, splits = describe_work(
        train,
        y,
        kind=kind,
        metric=metric,
        folds=folds,
        repeats=repeats,
        random_state=random_state,
        nested=nested,
        blends=blends,
        files_seconds=files_seconds,
    )
    timings, timed, untimed = time_methods(
        methods,
        values,
        y,
        splits[0],
        kind=kind,
        metric=metric,
        random_state=random_state,
        reference=reference,
        clock=clock,
        give_up_at=clock() + TIMING_SHARE * budget,
    )
    timing_seconds = clock() - timing_started
    plan = plan_budget(
        timings,
        timed,
        work,
        budget=budget,
        available=started + budget - clock(),
        untimed=untimed,
        timing_seconds=timing_seconds,
    )
    return plan, work


def run_auto_within(
    train: Predictions,
    y: NDArray,
    test: Predictions,
    *,
    metric: metrics.Metric,
    folds: Any = 5,
    repeats: int | None = None,
    random_state: int | None = 0,
    threshold: float | None = None,
    blends: bool = False,
    max_level: int = 2,
    budget: float | None = None,
    started: float | None = None,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    live: bool | None = None,
    methods: list[Method] | None = None,
) -> tuple[AutoResult, BudgetPlan | None, FoldScorer]:
    """``blend auto`` with progress, and within ``budget`` seconds (from ``started``) when one is given.

    Without a budget it runs exactly :func:`blender.picking.run_auto` (same entries, scores and
    pick), with the fits counted on two progress bars. With one it times, plans
    (:func:`plan_budget`), prints the plan and runs it with :class:`FoldScorer` as the guard.
    If not even the simple means fit, the leaderboard and the nested estimate hold the files
    alone, and the best single file is written; the pick's reason says why. ``methods``
    (default: every registry entry that suits the files, up to ``max_level``) are the candidates.

    Returns
    -------
    (AutoResult, BudgetPlan or None, FoldScorer)
    """
    from blender.picking import THRESHOLD, default_repeats, run_auto

    say = progress or (lambda line: None)
    threshold = THRESHOLD if threshold is None else threshold
    if repeats is None:
        repeats = default_repeats(train.n_samples) if np.ndim(folds) == 0 else 1
    methods = methods_for(train.kind, metric, max_level=max_level) if methods is None else methods
    plan, work = None, None
    inner_folds = None
    if budget is not None:
        started = clock() if started is None else started
        plan, work = plan_run(
            train,
            y,
            metric=metric,
            folds=folds,
            repeats=repeats,
            random_state=random_state,
            methods=methods,
            budget=budget,
            started=started,
            nested=True,
            blends=blends,
            clock=clock,
        )
        for line in plan.lines(n_files=train.n_models, folds=fold_count(folds)):
            say(line)
        methods = plan.methods if plan.fits else []
        repeats, inner_folds = plan.repeats, plan.inner_folds
    else:
        work, _ = describe_work(
            train,
            y,
            kind=train.kind,
            metric=metric,
            folds=folds,
            repeats=repeats,
            random_state=random_state,
            nested=True,
        )
    scorer = FoldScorer(
        n_rows=train.n_samples,
        board_fits=len(methods) * work.folds * repeats,
        nested_fits=len(methods) * len(work.outer_rows) * (inner_folds or work.inner_folds) * repeats,
        say=say,
        plan=plan if plan is not None and plan.fits else None,
        work=work,
        deadline=None if budget is None or started is None else started + budget,
        clock=clock,
        live=live,
    )
    result = run_auto(
        train,
        y,
        test,
        metric=metric,
        folds=folds,
        repeats=repeats,
        random_state=random_state,
        threshold=threshold,
        blends=blends,
        max_level=max_level,
        progress=progress,
        methods=methods,
        inner_folds=inner_folds,
        scorer=scorer,
    )
    if plan is not None and not plan.fits:
        reason = (
            f"the {format_duration(budget or 0.0)} time budget is too small to score any blend honestly "
            f"({plan.shortfall()}), so the best single file by OOF score, {result.board.best_single}, is "
            "written (raise --time-budget to score the blends)"
        )
        result = replace(result, pick=replace(result.pick, reason=reason))
    return result, plan, scorer


def score_within(
    train: Predictions,
    y: NDArray,
    *,
    metric: metrics.Metric,
    folds: Any = 5,
    repeats: int = 1,
    random_state: int | None = 0,
    methods: list[Method],
    budget: float | None = None,
    started: float | None = None,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    live: bool | None = None,
) -> tuple[Leaderboard, BudgetPlan | None, FoldScorer]:
    """``blend score``'s leaderboard with progress, and within ``budget`` seconds (from ``started``) when one is given.

    Returns
    -------
    (Leaderboard, BudgetPlan or None, FoldScorer)
    """
    from blender.evaluation import leaderboard

    say = progress or (lambda line: None)
    plan, work = None, None
    if budget is not None and methods:
        started = clock() if started is None else started
        plan, work = plan_run(
            train,
            y,
            metric=metric,
            folds=folds,
            repeats=repeats,
            random_state=random_state,
            methods=methods,
            budget=budget,
            started=started,
            nested=False,
            clock=clock,
        )
        for line in plan.lines(n_files=train.n_models, folds=fold_count(folds), command="score"):
            say(line)
        methods = plan.methods if plan.fits else []
        repeats = plan.repeats
    scorer = FoldScorer(
        n_rows=train.n_samples,
        board_fits=len(methods) * fold_count(folds) * repeats,
        nested_fits=0,
        say=say,
        plan=plan if plan is not None and plan.fits else None,
        work=work,
        deadline=None if budget is None or started is None else started + budget,
        clock=clock,
        live=live,
    )
    board = leaderboard(
        train.values,
        y,
        kind=train.kind,
        metric=metric,
        names=train.names,
        folds=folds,
        repeats=repeats,
        random_state=random_state,
        methods=methods,
        progress=progress,
        scorer=scorer,
    )
    return board, plan, scorer


def budget_line(budget: float, seconds: float) -> str:
    """The last word on the budget: how long the run took against it.

    >>> budget_line(300.0, 251.2)
    'time budget 5 min 0 s: the run took 4 min 11 s after reading, within it'
    >>> budget_line(60.0, 75.0)
    'time budget 1 min 0 s: the run took 1 min 15 s after reading, 15 s over it'
    """
    within = "within it" if seconds <= budget else f"{format_duration(seconds - budget)} over it"
    return f"time budget {format_duration(budget)}: the run took {format_duration(seconds)} after reading, {within}"


# ---------------------------------------------------------------------------- passes over the OOF data

#: Loss evaluations of one file's temperature search (``calibrate.fit_temperatures``: a bounded Brent search, xatol 1e-4
#: over [log 1/50, log 50]); measured about 14 on OOF files, at most this many.
TEMPERATURE_EVALUATIONS = 30
#: Loss and slope evaluations of one Newton search along a hill-climbing step (log loss), measured about 6.
NEWTON_EVALUATIONS = 7


@dataclass(frozen=True)
class Passes:
    """How many passes over the OOF values (every file, a fit's training rows) one leaderboard entry makes.

    ``folds x repeats x fits x iterations``: ``fits`` per fold (the level-2 pipeline fits its members on inner
    folds), ``iterations`` passes per fit (a Caruana round, a hill-climbing step's grid or Newton search, an
    optimiser's iteration). ``bound`` marks a count that is an upper bound: early stops (hill climbing's
    tolerance, an optimiser's convergence) and pruning (Caruana with log loss or AUC scores only the candidates
    that can win) make fewer. ``how`` words the iterations.
    """

    name: str
    folds: int
    repeats: int
    fits: float
    iterations: float
    how: str
    bound: bool = False

    @property
    def total(self) -> float:
        return self.folds * self.repeats * self.fits * self.iterations

    def line(self) -> str:
        fits = "" if self.fits == 1 else f" x {self.fits:g} fits"
        return (
            f"  {self.name:<26} {self.folds} folds x {self.repeats} repeat(s){fits} x {self.iterations:g} "
            f"({self.how}) = {'at most ' if self.bound else ''}{self.total:,.0f} passes"
        )


def fit_passes(method: Method, metric: str, *, options: dict | None = None) -> tuple[float, float, str, bool]:
    """``(fits, iterations, how, bound)`` of one fold's work for ``method`` with ``metric`` (see :class:`Passes`).

    >>> from blender.methods import BY_NAME
    >>> fit_passes(BY_NAME["caruana"], "logloss")
    (1, 102, '1 to score the files + 2 starts x 50 rounds + 1 to apply', True)
    >>> fit_passes(BY_NAME["hill-climb"], "auc")[1:3]
    (5001, '1 + 100 steps x 50 grid weights')
    """
    settings = {option.name: option.default for option in method.params} | method.options | (options or {})
    name = str(method.name)
    if not method.learns:
        return 1, 1, "apply", False
    if name == "select":
        return 1, 3, "score the files, their correlations, apply", False
    if name in ("caruana", "caruana+cal"):
        init, iters, bags = int(settings["init"]), int(settings["iters"]), int(settings["bags"])
        starts = 2 if init > 0 and iters > 0 else 1
        share = 1.0 if bags == 1 else bags * float(settings["bag_fraction"])
        rounds = starts * iters if bags == 1 else starts * iters * share
        how = f"1 to score the files + {starts} starts x {iters} rounds" + (f" x {share:g} bags" if bags > 1 else "")
        iterations = 1 + rounds + 1
        if name == "caruana+cal":
            iterations += TEMPERATURE_EVALUATIONS + 1
            how += f" + at most {TEMPERATURE_EVALUATIONS} temperature evaluations + scaling"
        return 1, iterations, how + " + 1 to apply", metric in ("logloss", "auc") or name == "caruana+cal"
    if name == "hill-climb":
        steps = int(settings["max_iters"])
        if metric == "rmse":
            return 1, 1 + steps, f"1 + {steps} steps x 1 (the quadratic's vertex)", True
        if metric == "logloss" and not settings.get("negative_weights"):
            how = f"1 + {steps} steps x {NEWTON_EVALUATIONS} Newton evaluations"
            return 1, 1 + steps * NEWTON_EVALUATIONS, how, True
        from blender.hillclimb import default_grid

        grid = len(default_grid(bool(settings.get("negative_weights"))))
        return 1, 1 + steps * grid, f"1 + {steps} steps x {grid} grid weights", True
    if name == "weights":
        return 1, 2 * 500 + 1, "SLSQP: loss and gradient, at most 500 iterations", True
    if name.startswith("stack-"):
        if settings.get("meta") == "ridge" and metric == "rmse":
            return 1, 2, "the normal equations, apply", False
        return 1, 1001, "L-BFGS (classification) at most 1,000 iterations, or the normal equations", True
    if name == "level2-hill-climb":
        from blender.levels import INNER_FOLDS, LEVEL2_MEMBERS
        from blender.methods import BY_NAME

        # Each learning member cross-fitted on the inner folds; its fit on all the fold's rows is the leaderboard's
        # own (shared), and hill climbing over the few level-2 columns reads a sliver of the files' values.
        members = [BY_NAME[member] for member in LEVEL2_MEMBERS]
        learners = [member for member in members if member.learns]
        inner = max(fit_passes(member, metric)[1] for member in learners) if learners else 1
        return INNER_FOLDS * len(learners), inner, f"{len(learners)} stackers x {INNER_FOLDS} inner folds", True
    return 1, 1, "one fit (a plug-in entry: its own iterations not counted)", True


def passes(
    methods: list[Method], metric: str, *, folds: int, repeats: int, outer_folds: int = 0, levels: int = 1
) -> list[Passes]:
    """Each entry's passes on the leaderboard, then (``outer_folds``) in the nested estimate's inner leaderboards.

    The nested estimate scores the whole leaderboard again on each outer fold's training rows, for each number of
    levels it tries: its folds are ``outer_folds x folds x levels``.
    """
    rows = []
    for method in methods:
        fits, iterations, how, bound = fit_passes(method, str(metric))
        rows.append(Passes(method.name, folds, repeats, fits, iterations, how, bound))
        if outer_folds:
            nested = f"{method.name} (nested)"
            rows.append(Passes(nested, outer_folds * folds * levels, repeats, fits, iterations, how, bound))
    return rows


def passes_lines(rows: list[Passes]) -> list[str]:
    """The ``--verbose`` lines: one per entry, then the sum."""
    total = sum(row.total for row in rows)
    return (
        ["passes over the OOF values (every file, a fit's training rows), per entry:"]
        + [row.line() for row in rows]
        + [f"  in all: {'at most ' if any(row.bound for row in rows) else ''}{total:,.0f} passes"]
    )


def board_passes_lines(board: Leaderboard, *, outer_folds: int = 0, levels: int = 1) -> list[str]:
    """The ``--verbose`` lines of a leaderboard's blend entries (and of the nested estimate's, with ``outer_folds``)."""
    from blender.methods import BY_NAME

    methods = [BY_NAME[entry.name] for entry in board.entries if entry.type == "blend" and entry.name in BY_NAME]
    order = {method.name: position for position, method in enumerate(BY_NAME.values())}
    methods.sort(key=lambda method: order[method.name])
    rows = passes(
        methods, str(board.metric), folds=board.folds, repeats=board.repeats, outer_folds=outer_folds, levels=levels
    )
    return passes_lines(rows)

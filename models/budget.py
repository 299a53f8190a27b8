"""Fit the learners' plans to a time budget, from fits timed live on this machine.

``python -m models oof --time-budget 10m`` runs the tabular learners first and the CNNs
after them. Each phase is planned just before it runs, from fits timed in every parallel
job at once (so the cores are as busy as they will be). The same kind of machine can be
two or three times slower than another, and other work on it slows it further: a plan
fixed in advance cannot know that, a plan measured a few seconds before training can.

- **The tabular learners** get at most ``1 - CNN_SHARE`` of the time left when CNNs follow
  them (all of it otherwise). Each is timed on one fold at ``CALIBRATION_SHARE`` of its
  boosting rounds (or forest trees), and all of them train the largest share of their
  rounds and trees that fits (:func:`plan_tabular`); below ``MIN_ROUNDS_SHARE`` the
  slowest learners are left out instead.
- **The CNNs** then get what is really left: every CNN trains two short epochs, and the
  widest plan with the most epochs that fits is chosen (:func:`plan_for_budget`); if not
  all of them can train ``MIN_USEFUL_EPOCHS``, the slowest are left out.

A fit costs ``setup + epochs * epoch`` seconds (a CNN: ``setup`` is what the first epoch
takes beyond the others, building the graph) or ``fixed + share * scaled`` (a tabular
learner at ``share`` of its rounds). The fits run ``jobs`` at a time, so a phase lasts
about their total divided by ``jobs``, plus the part of the last fit that runs while the
other jobs are idle.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from blender import timing
from blender.errors import BlendInputError
from models.problem import ModelsError

#: Fewer epochs than this do not train a useful CNN on MNIST (OOF accuracy falls fast below it).
MIN_USEFUL_EPOCHS = 4
#: Share of the time left that the plan leaves unused: on a shared machine the load
#: changes while the CNNs train (a first 3-minute run, load average 3 to 4.6 on 2 cores,
#: took 17% longer than its plan).
LOAD_MARGIN = 0.15
#: Share of the time left that the CNNs keep while the tabular learners run first. On
#: images they are the learners a blend needs most (OOF log loss about 0.1 against 0.2 for
#: the best booster on MNIST), and timing them takes a good part of their share on a loaded
#: machine (2 min 19 s of 6 min 13 s at load average 7 to 8 on 2 cores, when they had half).
#: Before the tabular learners had a share, at load average 10 to 12 they alone took 18 min
#: and left the CNNs no time at all.
CNN_SHARE = 0.6
#: The tabular learners are timed on one fold at this share of their rounds and trees.
CALIBRATION_SHARE = 0.1
#: Fewer rounds than this share of the plan's do not make a useful booster (XGBoost at a
#: fifth of its 300 rounds: fold log loss 0.265 against 0.189 for all 300); the slowest
#: learners are left out instead.
MIN_ROUNDS_SHARE = 0.2
#: The share of rounds is rounded down to a multiple of this, so that the noise of a
#: timing rarely changes the plan (and the files) from one run to the next.
ROUNDS_SHARE_STEP = 0.05
#: A narrower net is timed again only if the time left is more than this many times
#: what the last timing took; otherwise its times are scaled from the wider one's.
MEASURE_FACTOR = 4
#: A time budget leaves CNNs out at a wider width, down to this many, before it narrows them
#: all: on one MNIST fold, 16 channels and 6 epochs gave cnn_bn a log loss of 0.187, 8 channels
#: and 9 epochs 0.338, in about the same time (cnn_separable: 0.302 and 0.381).
KEEP_BEFORE_NARROWING = 2


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``10m``, ``90s``, ``1h30m`` or ``2.5m`` (:func:`blender.timing.parse_duration`).

    The one parser ``blend auto --time-budget`` uses too; here its error is a :class:`ModelsError`,
    which the ``models`` command line prints as one line.

    Raises
    ------
    ModelsError
        For text that is not a positive duration with units.

    Examples
    --------
    >>> parse_duration("10m"), parse_duration("1h30m"), parse_duration("45s"), parse_duration("2.5m")
    (600.0, 5400.0, 45.0, 150.0)
    """
    try:
        return timing.parse_duration(text)
    except BlendInputError as error:
        raise ModelsError(str(error)) from None


format_duration = timing.format_duration


@dataclass(frozen=True)
class EpochTiming:
    """What one CNN fit costs on this machine, as measured.

    Attributes
    ----------
    name : str
        The learner.
    setup : float
        Seconds the first epoch took beyond a later one (building the graph).
    epoch : float
        Seconds of one later epoch over a fold's training rows.
    """

    name: str
    setup: float
    epoch: float


def time_two_epochs(
    run_epochs: Callable[[Callable[[], float]], list[float]], *, clock: Callable[[], float] = time.perf_counter
):
    """``(setup, epoch)`` from two timed epochs: ``run_epochs(clock)`` returns the clock at each epoch's start and end.

    Parameters
    ----------
    run_epochs : callable
        Trains two epochs, reading ``clock`` at the start and end of each (Keras' callbacks
        do this in :func:`models.cnn.calibrate`); returns the four readings.
    clock : callable, default=time.perf_counter
        The clock, replaced by a fake one in tests.

    Examples
    --------
    >>> readings = iter([0.0, 5.0, 5.0, 7.0])
    >>> time_two_epochs(lambda clock: [clock() for _ in range(4)], clock=lambda: next(readings))
    (3.0, 2.0)
    """
    start_1, end_1, start_2, end_2 = run_epochs(clock)
    epoch = end_2 - start_2
    return max(0.0, (end_1 - start_1) - epoch), epoch


@dataclass(frozen=True)
class BudgetPlan:
    """The CNNs' width and epochs for the time left, and why.

    Attributes
    ----------
    width : int or None
        Channels of the first stage; None keeps the device plan's width.
    epochs : int
        0 when not one epoch fits: the CNNs are left out.
    estimate : float
        Seconds the CNN phase should take with this plan (an upper bound: early
        stopping may end fits sooner).
    available : float
        Seconds that were left for the CNNs.
    reason : str
        One line for the log: what was measured and what fits.
    warning : str or None
        Set when the budget is too small for a useful CNN, or some CNNs are left out.
    left_out : tuple of str, default=()
        CNNs left out so that the others train ``min_epochs`` (``leave_out=True``).
    """

    width: int | None
    epochs: int
    estimate: float
    available: float
    reason: str
    warning: str | None = None
    left_out: tuple[str, ...] = ()


def parallel_seconds(fit_seconds: list[float], *, fits_each: int, jobs: int) -> float:
    """Seconds ``fits_each`` fits of each learner take on ``jobs`` parallel jobs: the total divided by ``jobs``,
    plus the last fit's tail.

    Four fits of 12 s on two jobs: 24 s, and a quarter of a fit for the tail.

    >>> parallel_seconds([12.0], fits_each=4, jobs=2)
    27.0
    """
    jobs = max(1, min(jobs, fits_each * len(fit_seconds)))
    # While the last fit runs, the other jobs may have nothing left: count half of it again.
    return fits_each * sum(fit_seconds) / jobs + (jobs - 1) / jobs * max(fit_seconds) / 2


def phase_seconds(timings: list[EpochTiming], epochs: int, *, fits_per_cnn: int, jobs: int) -> float:
    """Seconds the CNN fits take on ``jobs`` parallel jobs (:func:`parallel_seconds` of ``setup + epochs * epoch``).

    >>> phase_seconds([EpochTiming("a", 2.0, 1.0)], 10, fits_per_cnn=4, jobs=2)
    27.0
    """
    fits = [timing.setup + epochs * timing.epoch for timing in timings]
    return parallel_seconds(fits, fits_each=fits_per_cnn, jobs=jobs)


def plan_for_budget(
    deadline: float,
    measure: Callable[[int | None], list[EpochTiming]],
    *,
    widths: list[int | None],
    max_epochs: int,
    fits_per_cnn: int,
    jobs: int,
    clock: Callable[[], float] = time.perf_counter,
    min_epochs: int = MIN_USEFUL_EPOCHS,
    margin: float = 0.0,
    leave_out: bool = False,
) -> BudgetPlan:
    """The widest CNN plan with the most epochs (up to ``max_epochs``) that ends before ``deadline``.

    Parameters
    ----------
    deadline : float
        The time (on ``clock``) by which the CNN phase must end.
    measure : callable
        ``measure(width)`` times every CNN at that width on this machine (see
        :func:`models.cnn.calibrate`); called for the widest width first and for a
        narrower one only when the wider does not fit and the time left is more than
        ``MEASURE_FACTOR`` times what the last call took (else its epochs are scaled by
        the width ratio, and the reason says so). Its own time counts.
    widths : list of int or None
        Widths to try, widest first; ``[None]`` keeps the device plan's width.
    max_epochs : int
        The device plan's epochs (or ``--epochs``): the plan never trains longer.
    fits_per_cnn : int
        Fits of each CNN: folds times seeds.
    jobs : int
        Parallel jobs.
    clock : callable, default=time.perf_counter
    min_epochs : int, default=MIN_USEFUL_EPOCHS
        Fewer epochs than this are not a useful CNN: a narrower width is tried first,
        and if none fits, the plan warns and trains the narrowest for what fits; 0
        epochs (not one fits) means the CNNs are left out.
    margin : float, default=0.0
        Share of the time left that the plan keeps free (``LOAD_MARGIN`` from the command line).
    leave_out : bool, default=False
        Leave the slowest CNNs out, one at a time, until the others train
        ``min_epochs``: a few useful CNNs rather than many that barely trained. A wider
        width keeps at least ``KEEP_BEFORE_NARROWING`` CNNs before every CNN is narrowed;
        the narrowest keeps at least one.

    Returns
    -------
    BudgetPlan
    """
    min_epochs = min(min_epochs, max_epochs)
    timings, estimated, measuring = None, False, 0.0
    for index, width in enumerate(widths):
        before = clock()
        if timings is None or before + MEASURE_FACTOR * measuring > deadline:
            # Measuring a narrower net again would eat the time it could train in:
            # scale the last measurement by the width instead (an optimistic guess, said so).
            if timings is None:
                timings, measuring = measure(width), clock() - before
            else:
                ratio = width / widths[index - 1]
                timings = [EpochTiming(timing.name, timing.setup, timing.epoch * ratio) for timing in timings]
                estimated = True
        else:
            timings, measuring = measure(width), clock() - before
        available = deadline - clock()
        usable = available * (1 - margin)
        epochs = _epochs_that_fit(timings, usable, max_epochs=max_epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
        last = index == len(widths) - 1
        kept, left_out = timings, []
        # Fewer CNNs at this width before all of them narrower (a narrow CNN needs many more
        # epochs to be as good), but at least KEEP_BEFORE_NARROWING of them; at the narrowest, one.
        fewest = 1 if last else KEEP_BEFORE_NARROWING
        while leave_out and epochs < min_epochs and len(kept) > fewest:
            # The slowest CNN costs the most epochs of the others: leave it out first.
            slowest = max(kept, key=lambda timing: timing.setup + min_epochs * timing.epoch)
            kept = [timing for timing in kept if timing is not slowest]
            left_out.append(slowest.name)
            epochs = _epochs_that_fit(kept, usable, max_epochs=max_epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
        if epochs < min_epochs and not last:
            continue
        all_timings, timings = timings, kept
        estimate = phase_seconds(timings, epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
        slowest = max(all_timings, key=lambda timing: timing.epoch)
        fastest = min(all_timings, key=lambda timing: timing.epoch)
        shown = "the plan's width" if width is None else f"{width} channels"
        reason = (
            ("(estimated from the wider net's times, no time to measure again) " if estimated else "")
            + f"one epoch took {fastest.epoch:.1f} s ({fastest.name}) to {slowest.epoch:.1f} s ({slowest.name}) "
            f"at {shown} on this machine now; {fits_per_cnn * len(timings)} fits on {jobs} job(s) "
            f"for {format_duration(max(available, 0))} left: "
            + (
                f"all {max_epochs} epochs fit"
                if epochs == max_epochs
                else f"{epochs} of the plan's {max_epochs} epochs fit"
            )
            + f" (about {format_duration(estimate)})"
        )
        warning = None
        if epochs < min_epochs:
            needed = phase_seconds(timings, min_epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
            action = f"training {epochs} anyway" if epochs else "leaving the CNNs out, since not one epoch fits"
            warning = (
                f"the time budget is too small for a useful CNN: {format_duration(max(available, 0))} "
                "are left for the CNNs and "
                f"{min_epochs} epochs at {shown} need about {format_duration(needed)}; {action} "
                f"(raise --time-budget, or leave the CNNs out with --models classic)"
            )
        elif left_out:
            needed = phase_seconds(all_timings, min_epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
            warning = (
                f"leaving out {', '.join(left_out)} (the slowest CNNs): all {len(all_timings)} need about "
                f"{format_duration(needed)} for {min_epochs} epochs at {shown}, "
                f"and {format_duration(max(available, 0))} "
                f"are left; the other {len(timings)} train {epochs} (raise --time-budget to train them all)"
            )
        return BudgetPlan(width, epochs, estimate, available, reason, warning, tuple(left_out))
    raise ValueError("plan_for_budget needs at least one width")


def _epochs_that_fit(
    timings: list[EpochTiming], usable: float, *, max_epochs: int, fits_per_cnn: int, jobs: int
) -> int:
    """The most epochs (0 to ``max_epochs``) whose CNN phase fits in ``usable`` seconds."""
    # The phase is linear in the epochs: fixed + per_epoch * epochs.
    fixed = phase_seconds(timings, 0, fits_per_cnn=fits_per_cnn, jobs=jobs)
    per_epoch = phase_seconds(timings, 1, fits_per_cnn=fits_per_cnn, jobs=jobs) - fixed
    fitting = math.floor((usable - fixed) / per_epoch) if per_epoch > 0 else max_epochs
    return max(0, min(max_epochs, fitting))


@dataclass(frozen=True)
class FitTiming:
    """What one fold's fit of a tabular learner costs on this machine, as measured.

    A fit at ``share`` of the plan's boosting rounds (or forest trees) costs
    ``fixed + share * scaled`` seconds.

    Attributes
    ----------
    name : str
        The learner.
    fixed : float
        Seconds that do not shrink with fewer rounds (the whole fit of a learner without rounds).
    scaled : float
        Seconds of the plan's rounds, all of them.
    """

    name: str
    fixed: float
    scaled: float

    def seconds(self, share: float) -> float:
        """Seconds of one fit at ``share`` of the plan's rounds."""
        return self.fixed + share * self.scaled


def fit_timing(name: str, seconds: float, *, share: float, has_rounds: bool) -> FitTiming:
    """A learner's :class:`FitTiming` from one fold's fit at ``share`` of its rounds that took ``seconds``.

    The whole fit is taken to grow with the rounds, set-up included: an overestimate
    (by the set-up, and because later rounds are cheaper as the trees stop splitting:
    on MNIST's folds, a tenth of the rounds times ten was 2.5 times XGBoost's and
    LightGBM's whole fit, 1.4 times CatBoost's, and right for the forests). It costs
    the boosters rounds only where the budget binds, and the CNNs, planned on the
    time really left, get what it leaves.

    >>> fit_timing("xgb", 3.0, share=0.1, has_rounds=True)
    FitTiming(name='xgb', fixed=0.0, scaled=30.0)
    >>> fit_timing("knn_5", 0.2, share=0.1, has_rounds=False)
    FitTiming(name='knn_5', fixed=0.2, scaled=0.0)
    """
    if has_rounds:
        return FitTiming(name, 0.0, seconds / share)
    return FitTiming(name, seconds, 0.0)


@dataclass(frozen=True)
class TabularPlan:
    """The tabular learners' share of their rounds for the time they have, and why.

    Attributes
    ----------
    share : float
        Share of the plan's boosting rounds and forest trees every kept learner trains
        (1.0: the whole plan), a multiple of ``ROUNDS_SHARE_STEP``.
    kept : tuple of str
        The learners that train, in the order measured.
    left_out : tuple of str
        The learners left out, slowest first.
    estimate : float
        Seconds the phase should take with this plan (an upper bound, see :func:`fit_timing`).
    available : float
        Seconds that were left for the tabular learners after timing them.
    reason : str
        One line for the log: what was measured and what fits.
    warning : str or None
        Set when learners are left out.
    """

    share: float
    kept: tuple[str, ...]
    left_out: tuple[str, ...]
    estimate: float
    available: float
    reason: str
    warning: str | None = None

    def describe(self) -> str:
        """``the whole plan`` or ``45% of the plan's boosting rounds and forest trees``, and who is left out."""
        shown = (
            "the whole plan"
            if self.share == 1.0
            else f"{self.share:.0%} of the plan's boosting rounds and forest trees"
        )
        return shown + (f", without {', '.join(self.left_out)}" if self.left_out else "")


def plan_tabular(
    deadline: float,
    measure: Callable[[], list[FitTiming]],
    *,
    fits_per_learner: int,
    jobs: int,
    clock: Callable[[], float] = time.perf_counter,
    min_share: float = MIN_ROUNDS_SHARE,
    margin: float = 0.0,
) -> TabularPlan:
    """The largest share of their rounds that lets the tabular learners end before ``deadline``.

    Parameters
    ----------
    deadline : float
        The time (on ``clock``) by which the tabular phase must end.
    measure : callable
        ``measure()`` times one fold's fit of every learner on this machine (see
        :func:`models.oof.time_tabular`); its own time counts.
    fits_per_learner : int
        Fits of each learner: folds times seeds (and a refit).
    jobs : int
        Parallel jobs.
    clock : callable, default=time.perf_counter
    min_share : float, default=MIN_ROUNDS_SHARE
        Fewer rounds than this share do not make a useful booster: the slowest
        learner is left out instead, one at a time, until the others fit with at least
        this share. If not even one fits, the fastest trains anyway (at ``min_share``),
        so that the command still writes files.
    margin : float, default=0.0
        Share of the time left that the plan keeps free (``LOAD_MARGIN`` from the command line).

    Returns
    -------
    TabularPlan

    Examples
    --------
    Two boosters of 30 s a fold and a 1 s learner without rounds, 5 folds on 2 jobs, 100 s left:

    >>> timings = [FitTiming("xgb", 0, 30.0), FitTiming("lgbm", 0, 30.0), FitTiming("knn", 1.0, 0)]
    >>> plan = plan_tabular(100.0, lambda: timings, fits_per_learner=5, jobs=2, clock=lambda: 0.0)
    >>> plan.share, plan.kept, round(plan.estimate)
    (0.6, ('xgb', 'lgbm', 'knn'), 97)
    """
    before = clock()
    timings = measure()
    available = deadline - clock()
    usable = available * (1 - margin)
    kept, left_out = list(timings), []
    share = _share_that_fits(kept, usable, fits_per_learner=fits_per_learner, jobs=jobs)
    while share < min_share and len(kept) > 1:
        slowest = max(kept, key=lambda timing: timing.seconds(min_share))
        kept.remove(slowest)
        left_out.append(slowest.name)
        share = _share_that_fits(kept, usable, fits_per_learner=fits_per_learner, jobs=jobs)
    share = max(share, min_share)

    def phase(learners, at):
        return parallel_seconds([timing.seconds(at) for timing in learners], fits_each=fits_per_learner, jobs=jobs)

    estimate = phase(kept, share)
    slowest = max(timings, key=lambda timing: timing.seconds(1.0))
    fastest = min(timings, key=lambda timing: timing.seconds(1.0))
    reason = (
        f"one fold's fit would take {fastest.seconds(1.0):.1f} s ({fastest.name}) to {slowest.seconds(1.0):.1f} s "
        f"({slowest.name}) with the whole plan on this machine now (timed at {CALIBRATION_SHARE:.0%} of the rounds "
        f"and trees, learners without rounds whole, in {format_duration(max(0.0, clock() - before))}); "
        f"{fits_per_learner * len(kept)} fits on {jobs} job(s) "
        f"for {format_duration(max(available, 0))}: "
        + ("the whole plan fits" if share == 1.0 else f"{share:.0%} of the rounds and trees fit")
        + f" (about {format_duration(estimate)})"
    )
    warning = None
    if left_out:
        fits = (
            "not one fits"
            if _share_that_fits(kept, usable, fits_per_learner=fits_per_learner, jobs=jobs) < min_share
            else "the others fit"
        )
        warning = (
            f"leaving out {', '.join(left_out)} (the slowest tabular learners): all {len(timings)} need about "
            f"{format_duration(phase(timings, min_share))} with {min_share:.0%} of their rounds and trees, and "
            f"{format_duration(max(available, 0))} are theirs; {fits}"
            + (f", so {kept[0].name} trains anyway" if fits == "not one fits" else "")
            + " (raise --time-budget, or name fewer learners with --models)"
        )
    return TabularPlan(
        share, tuple(timing.name for timing in kept), tuple(left_out), estimate, available, reason, warning
    )


def _share_that_fits(timings: list[FitTiming], usable: float, *, fits_per_learner: int, jobs: int) -> float:
    """The largest share of the rounds (a multiple of ``ROUNDS_SHARE_STEP``, at most 1) whose phase fits
    in ``usable`` seconds; below 0 if none.
    """
    # The phase is linear in the share, as the CNNs' is in the epochs: fixed + per_share * share.
    fixed = parallel_seconds([timing.fixed for timing in timings], fits_each=fits_per_learner, jobs=jobs)
    per_share = (
        parallel_seconds([timing.seconds(1.0) for timing in timings], fits_each=fits_per_learner, jobs=jobs) - fixed
    )
    if usable < fixed:
        return -1.0
    if per_share <= 0:
        return 1.0
    steps = math.floor((usable - fixed) / per_share / ROUNDS_SHARE_STEP + 1e-9)
    return min(1.0, round(steps * ROUNDS_SHARE_STEP, 10))

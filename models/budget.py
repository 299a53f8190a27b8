"""Fit the CNNs' plan to a time budget, from epochs timed live on this machine.

``python -m models oof --time-budget 10m`` runs the other learners first, then times a
short calibration of every CNN in every parallel job at once (so the cores are as busy as
they will be), and only then picks the CNNs' width and epochs so that the rest of the job
fits what is left. The same kind of machine can be two or three times slower than another,
and other work on it slows it further: a plan fixed in advance cannot know that, a plan
measured a few seconds before training can.

A fit costs ``setup + epochs * epoch`` seconds: ``setup`` is what the first epoch takes
beyond the others (building the graph), ``epoch`` what each later one takes. The fits
run ``jobs`` at a time, so the CNN phase lasts about their total divided by ``jobs``, plus
the part of the last fit that runs while the other jobs are idle.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from models.registry import ModelsError

#: Fewer epochs than this do not train a useful CNN on MNIST (OOF accuracy falls fast below it).
MIN_USEFUL_EPOCHS = 4
#: Share of the time left that the plan leaves unused: on a shared machine the load
#: changes while the CNNs train (a first 3-minute run, load average 3 to 4.6 on 2 cores,
#: took 17% longer than its plan).
LOAD_MARGIN = 0.15
#: A narrower net is timed again only if the time left is more than this many times
#: what the last timing took; otherwise its times are scaled from the wider one's.
MEASURE_FACTOR = 4

_DURATION = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?:in)?)?(?:(?P<s>\d+(?:\.\d+)?)s)?")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``10m``, ``90s``, ``1h30m`` or ``2.5m``.

    Raises
    ------
    ModelsError
        For text that is not a positive duration with units.

    Examples
    --------
    >>> parse_duration("10m"), parse_duration("1h30m"), parse_duration("45s"), parse_duration("2.5m")
    (600.0, 5400.0, 45.0, 150.0)
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise ModelsError(f"--time-budget {text}: give a duration with units, such as 10m, 90s or 1h30m.")
    seconds = sum(float(match[unit] or 0) * factor for unit, factor in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds <= 0:
        raise ModelsError(f"--time-budget {text}: the budget must be more than 0 seconds.")
    return seconds


def format_duration(seconds: float) -> str:
    """``615`` -> ``'10 min 15 s'``; under a minute, ``'42 s'``.

    >>> format_duration(615), format_duration(42.4)
    ('10 min 15 s', '42 s')
    """
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


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


def time_two_epochs(run_epochs: Callable[[Callable[[], float]], list[float]], *, clock: Callable[[], float] = time.perf_counter):
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
        Set when the budget is too small for a useful CNN.
    """

    width: int | None
    epochs: int
    estimate: float
    available: float
    reason: str
    warning: str | None = None


def phase_seconds(timings: list[EpochTiming], epochs: int, *, fits_per_cnn: int, jobs: int) -> float:
    """Seconds the CNN fits take on ``jobs`` parallel jobs: the total divided by ``jobs``, plus the last fit's tail.

    Four fits of 2 + 10 x 1 s on two jobs: 24 s, and a quarter of a fit for the tail.

    >>> phase_seconds([EpochTiming("a", 2.0, 1.0)], 10, fits_per_cnn=4, jobs=2)
    27.0
    """
    fits = [timing.setup + epochs * timing.epoch for timing in timings]
    jobs = max(1, min(jobs, fits_per_cnn * len(timings)))
    # While the last fit runs, the other jobs may have nothing left: count half of it again.
    return fits_per_cnn * sum(fits) / jobs + (jobs - 1) / jobs * max(fits) / 2


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

    Returns
    -------
    BudgetPlan
    """
    min_epochs = min(min_epochs, max_epochs)
    timings, estimated = None, False
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
        # The phase is linear in the epochs: fixed + per_epoch * epochs.
        fixed = phase_seconds(timings, 0, fits_per_cnn=fits_per_cnn, jobs=jobs)
        per_epoch = phase_seconds(timings, 1, fits_per_cnn=fits_per_cnn, jobs=jobs) - fixed
        usable = available * (1 - margin)
        fitting = math.floor((usable - fixed) / per_epoch) if per_epoch > 0 else max_epochs
        epochs = max(0, min(max_epochs, fitting))
        last = index == len(widths) - 1
        if epochs < min_epochs and not last:
            continue
        estimate = phase_seconds(timings, epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
        slowest = max(timings, key=lambda timing: timing.epoch)
        fastest = min(timings, key=lambda timing: timing.epoch)
        shown = "the plan's width" if width is None else f"{width} channels"
        reason = (
            ("(estimated from the wider net's times, no time to measure again) " if estimated else "")
            + f"one epoch took {fastest.epoch:.1f} s ({fastest.name}) to {slowest.epoch:.1f} s ({slowest.name}) at {shown} "
            f"on this machine now; {fits_per_cnn * len(timings)} fits on {jobs} job(s) for {format_duration(max(available, 0))} left: "
            + (f"all {max_epochs} epochs fit" if epochs == max_epochs else f"{epochs} of the plan's {max_epochs} epochs fit")
            + f" (about {format_duration(estimate)})"
        )
        warning = None
        if epochs < min_epochs:
            needed = phase_seconds(timings, min_epochs, fits_per_cnn=fits_per_cnn, jobs=jobs)
            action = f"training {epochs} anyway" if epochs else "leaving the CNNs out, since not one epoch fits"
            warning = (
                f"the time budget is too small for a useful CNN: {format_duration(max(available, 0))} are left for the CNNs and "
                f"{min_epochs} epochs at {shown} need about {format_duration(needed)}; {action} "
                f"(raise --time-budget, or leave the CNNs out with --models classic)"
            )
        return BudgetPlan(width, epochs, estimate, available, reason, warning)
    raise ValueError("plan_for_budget needs at least one width")

"""``blend auto``: which blend to submit, and an honest estimate of how well it will do.

The rule (:func:`choose`), measured on real data in ``benchmarks/bench_real_data.py``:

1. Score every file and every blend method on the same repeated folds
   (:func:`blender.evaluation.leaderboard`).
2. The gate: some blend must beat the best single file (the file with the best OOF score)
   by more than ``threshold`` standard errors of its per-fold gain. Otherwise blending is
   not shown to help, and the best single file is submitted as it is.
3. Past the gate, submit the **mean of the entries the top entry cannot be told apart from**.
   For each other entry (files and blends alike), the top entry's lead over it is the mean
   of their paired per-fold differences (all entries share the same splits), with the same
   corrected standard error as the gate and the same noise floor; the entry is *level* with
   the top when that lead is at most ``level`` (:data:`LEVEL`, 1.5) standard errors. The
   pick is the mean of the top entry and every entry level with it (``top-K average``),
   or the top entry alone when none is level: a blend that clearly wins keeps its whole
   gain, and where the order at the top is noise, several near-equal entries are averaged,
   which is never far from the best of them.

   ``LEVEL`` was measured, not assumed (README, "How the pick rule was chosen"): replayed
   on the benchmark's recorded leaderboards (13 sets of 133 to 1,500 OOF rows and 4 of
   4,000 to 6,000, 5 split seeds each), 1, 1.5 and 2 standard errors do about equally well
   and all lose to the best file in no dataset beyond its noise; 1.5 kept the most of the
   oracle's gain on the large sets (0.99 on average, against 0.88 for the earlier mean of
   the top five) and as much as the top five on the small ones (0.33 against 0.28). The
   top entry alone (0) and a wide band (3) both lost beyond noise on a small set.

Choosing the best of many entries on the same rows flatters the winner, so the score
``auto`` reports is **nested** (:func:`nested_estimate`): the whole procedure, leaderboard
and rule, is run again inside each of K outer folds on the outer training rows only, and
its pick is scored on the outer held-out rows, which it never saw. The outer folds are the
shared folds with the slice kept aside (:func:`blender.evaluation.level_splits`), so the outer
predictions are also ``auto``'s own OOF predictions (``--oof-out``), the input of a next level.

**Levels.** Among the entries is ``level2-hill-climb``, a whole second level (stackers
cross-fitted on the rows, then hill climbing over them). The nested estimate runs the choice
twice in each outer fold, from the same inner leaderboard: with the level-1 entries only, and
with the second level too. The second level is kept only when its nested estimate beats the
level-1 one by more than ``threshold`` standard errors of their paired per-fold difference, as
AutoGluon's dynamic stacking decides its number of levels on a holdout; otherwise ``auto`` says
by how much it fell short and picks among the level-1 entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics
from blender.evaluation import Entry, Leaderboard, beyond_noise_floor, corrected_se, leaderboard
from blender.methods import BY_NAME, Method, fit
from blender.report import finite_or_none, leaderboard_document

# A blend must beat the best single file by this many standard errors of the gain: half of one,
# measured on the real-data benchmark (benchmarks/bench_real_data.py; see the README).
THRESHOLD = 0.5
# Past the gate, an entry is level with the top entry when the top leads it by at most this many
# standard errors of the paired per-fold lead; the pick is the mean of the top and those level with it.
LEVEL = 1.5

if TYPE_CHECKING:
    from blender.evaluation import SliceScore
    from blender.io.predictions import Predictions
    from blender.methods import Fitted
    from blender.steps import Step


@dataclass(frozen=True)
class Pick:
    """What :func:`choose` picked and why: one file, or the mean of ``members`` (files and blends)."""

    name: str
    type: str  # "model" or "blend"
    reason: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Estimate:
    """The nested estimate of the pick-a-blend procedure, and of picking the best file alone.

    Attributes
    ----------
    scores, best_single_scores : ndarray of shape (n_outer_folds,)
        Each outer fold's score of the procedure's pick, and of the file with the best OOF
        score on that fold's training rows.
    picks : list of str
        What the procedure picked in each outer fold.
    oof : ndarray of shape (n_rows, n_cols)
        Each row predicted by the pick of the outer fold that held it out: the procedure's own
        cross-fitted OOF predictions.
    """

    scores: NDArray[np.float64]
    best_single_scores: NDArray[np.float64]
    picks: list[str]
    folds: int
    oof: NDArray[np.float64] | None = None

    @property
    def mean(self) -> float:
        return float(self.scores.mean())

    @property
    def se(self) -> float:
        return corrected_se(self.scores, self.folds)

    @property
    def best_single_mean(self) -> float:
        return float(self.best_single_scores.mean())


def choose(board: Leaderboard, *, threshold: float = THRESHOLD, level: float = LEVEL) -> Pick:
    """Pick what to submit from an honest leaderboard (the rule in the module docstring).

    Parameters
    ----------
    board : Leaderboard
        Every entry scored on the same folds (:func:`blender.evaluation.leaderboard`).
    threshold : float, default=THRESHOLD
        The gate: some blend must beat the best single file by more than this many corrected
        standard errors of its per-fold gain.
    level : float, default=LEVEL
        Past the gate, an entry is level with the top entry when the top's mean per-fold lead
        over it is at most this many corrected standard errors of that lead; the pick is the
        mean of the top entry and the entries level with it.

    Returns
    -------
    Pick
        The best single file (``type="model"``), the top entry alone, or the mean of
        ``members`` (``name="top-K average"``).

    Examples
    --------
    >>> from blender.evaluation import Entry, Leaderboard
    >>> def entry(name, type_, folds, gain, gain_se):
    ...     folds = np.array(folds)
    ...     return Entry(name, type_, folds, folds.mean(), 0.0, gain, gain_se, 0, 1)
    >>> board = Leaderboard([entry("caruana", "blend", [0.19, 0.21, 0.20, 0.22, 0.18], 0.010, 0.002),
    ...                      entry("average", "blend", [0.20, 0.20, 0.21, 0.21, 0.19], 0.009, 0.002),
    ...                      entry("lr", "model", [0.22, 0.23, 0.22, 0.23, 0.21], 0.0, 0.0)],
    ...                     "logloss", 5, 1, "lr", 0.22)
    >>> pick = choose(board)
    >>> pick.name, pick.members
    ('top-2 average', ('caruana', 'average'))
    >>> board = Leaderboard([entry("caruana", "blend", [0.215] * 5, 0.001, 0.004),
    ...                      entry("lr", "model", [0.22] * 5, 0.0, 0.0)], "logloss", 5, 1, "lr", 0.22)
    >>> choose(board).name
    'lr'
    """
    blends = [entry for entry in board.entries if entry.type == "blend"]
    beating = beating_blends(board, threshold=threshold)
    unit = f"{board.metric} per fold"
    if not beating:
        closest = max(blends, key=lambda entry: entry.gain, default=None)
        detail = (
            f"; the closest, {closest.name}, gains {closest.gain:+.4g} ± {closest.gain_se:.2g} {unit}"
            if closest is not None
            else ""
        )
        return Pick(
            board.best_single,
            "model",
            f"no blend beats the best single file {board.best_single} by more than "
            f"{threshold:g} standard error{'' if threshold == 1 else 's'}{detail}",
        )
    strongest = max(beating, key=lambda entry: entry.gain / entry.gain_se if entry.gain_se > 0 else np.inf)
    gate = (
        f"{strongest.name} beats the best single file {board.best_single} by {strongest.gain:+.4g} "
        f"± {strongest.gain_se:.2g} {unit} (in {strongest.wins} of {strongest.n_folds} folds), so blending "
        f"helps here"
    )
    top, others = board.entries[0], board.entries[1:]
    leads = [(entry, *lead_over(top, entry, metric=board.metric, folds=board.folds)) for entry in others]
    level_with = [(entry, lead, se) for entry, lead, se in leads if _level(lead, se, level)]
    behind = [(entry, lead, se) for entry, lead, se in leads if not _level(lead, se, level)]

    def listed(rows: list[tuple[Entry, float, float]]) -> str:
        return ", ".join(f"{entry.name} {lead:+.3g} ± {se:.2g}" for entry, lead, se in rows)

    bound = f"{level:g} standard error{'' if level == 1 else 's'}"
    if not level_with:
        reason = (
            f"{gate}; {top.name}, the top entry, leads every other entry by more than {bound} of its "
            f"per-fold lead ({listed(behind[:3])}{', ...' if len(behind) > 3 else ''}), so it is submitted alone"
        )
        return Pick(top.name, top.type, reason)
    members = (top.name, *(entry.name for entry, _, _ in level_with))
    reason = (
        f"{gate}; the top entry {top.name} cannot be told apart from {len(level_with)} other"
        f"{'' if len(level_with) == 1 else 's'} (its lead within {bound}: {listed(level_with)}), so their "
        f"mean is submitted: {', '.join(members)}"
    )
    if behind:
        reason += f"; the others trail it by more than {bound} ({listed(behind)})"
    return Pick(f"top-{len(members)} average", "blend", reason, members)


def lead_over(top: Entry, entry: Entry, *, metric: str, folds: int) -> tuple[float, float]:
    """How far ``top`` is ahead of ``entry``: the mean paired per-fold difference (positive: top is better)
    and its corrected standard error, rounding-level differences counted as 0 as in the gate.

    >>> from blender.evaluation import Entry
    >>> a = Entry("a", "blend", np.array([0.20, 0.21, 0.19, 0.20, 0.20]), 0.2, 0.0, 0.0, 0.0, 0, 1)
    >>> b = Entry("b", "blend", np.array([0.21, 0.22, 0.20, 0.21, 0.22]), 0.212, 0.0, 0.0, 0.0, 0, 1)
    >>> lead, se = lead_over(a, b, metric="logloss", folds=5)
    >>> round(lead, 4), round(se, 4)
    (0.012, 0.003)
    """
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    difference = sign * (top.fold_scores - entry.fold_scores)
    scale = np.maximum(np.abs(top.fold_scores), np.abs(entry.fold_scores))
    difference = np.where(beyond_noise_floor(difference, scale), difference, 0.0)
    return float(difference.mean()), corrected_se(difference, folds)


def _level(lead: float, se: float, level: float) -> bool:
    """The top entry cannot be told apart from one it leads by ``lead`` ± ``se``."""
    noise = se if np.isfinite(se) else 0.0
    return lead <= level * noise


def beating_blends(board: Leaderboard, *, threshold: float = THRESHOLD) -> list[Entry]:
    """The gate: the blends that beat the best single file by more than ``threshold`` standard errors."""
    return [entry for entry in board.entries if entry.type == "blend" and _beats(entry, threshold)]


def _beats(entry: Entry, threshold: float) -> bool:
    noise = entry.gain_se if np.isfinite(entry.gain_se) else 0.0
    return entry.gain > threshold * noise and entry.gain > 0


@dataclass(frozen=True, eq=False)
class _MeanOf:
    """The mean of several fitted blends (files are blends with one weight)."""

    fitted: tuple

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        blends = [member.apply(values) for member in self.fitted]
        return np.mean(blends, axis=0)


def fit_pick(
    pick: Pick,
    values: NDArray,
    y: NDArray,
    *,
    names: list[str],
    kind: metrics.Kind,
    metric: metrics.Metric,
    random_state: int | None = None,
    methods: list[Method] | None = None,
) -> Fitted:
    """The pick fitted on these rows: an object whose ``apply(values)`` gives the blend.

    Blends are looked up in ``methods`` (the entries the leaderboard ran), else in the registry.
    """
    from blender.methods import Weighted

    def fit_one(name: str) -> Fitted:
        if name in names:
            weights = np.zeros(layout.n_models(values))
            weights[names.index(name)] = 1.0
            return Weighted(weights, kind)
        entry = next((method for method in methods or [] if method.name == name), None) or BY_NAME[name]
        return fit(entry, values, y, kind=kind, metric=metric, random_state=random_state)

    if pick.members:
        return _MeanOf(tuple(fit_one(name) for name in pick.members))
    return fit_one(pick.name)


def nested_estimate(
    values: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    names: list[str],
    folds: Any = 5,
    repeats: int = 1,
    random_state: int | None = 0,
    methods: list[Method] | None = None,
    threshold: float = THRESHOLD,
    level: float = LEVEL,
    levels: tuple[int, ...] = (1,),
    progress: Callable[[str], None] | None = None,
    inner_folds: int | None = None,
    scorer: Callable | None = None,
) -> dict[int, Estimate]:
    """Score the whole choose-a-blend procedure on rows it never saw, for each number of ``levels``.

    The outer folds are the shared folds (``folds``: K seeded folds, or each row's fold from a
    folds file) with the slice kept aside (:func:`blender.evaluation.level_splits`). In each, the
    leaderboard runs on the outer training rows alone (with ``fold_count(folds)`` seeded inner
    folds, ``repeats`` times) and, for each L in ``levels``, :func:`choose` picks among the
    entries of at most L levels; that pick is fitted on those rows and scored on the outer
    held-out rows. The file with the best score on the outer training rows is scored on the
    same held-out rows, for a fair comparison.

    ``inner_folds`` (default: as many as the shared folds) makes the inner leaderboards smaller
    where a time budget needs it; ``scorer`` is passed to each (:func:`blender.evaluation.leaderboard`).
    """
    from blender.evaluation import fold_assignment, fold_count, level_splits

    values = np.asarray(values)
    y = np.asarray(y)
    metric = metrics.for_truth(metric, kind, y)
    methods = methods if methods is not None else []
    assignment = fold_assignment(y, kind=kind, folds=folds, random_state=random_state)
    outer, _ = level_splits(assignment)
    inner_folds = inner_folds or fold_count(folds)
    scores: dict[int, list[float]] = {L: [] for L in levels}
    picks: dict[int, list[str]] = {L: [] for L in levels}
    oof: dict[int, NDArray[np.float64] | None] = {L: None for L in levels}
    single_scores = []
    for k, (train_rows, held_out) in enumerate(outer):
        train_values, train_y = layout.take_rows(values, train_rows), y[train_rows]
        held_values = layout.take_rows(values, held_out)
        board = leaderboard(
            train_values,
            train_y,
            kind=kind,
            metric=metric,
            names=names,
            folds=inner_folds,
            repeats=repeats,
            random_state=random_state,
            methods=methods,
            scorer=scorer,
        )
        fitted_picks = {}
        for L in levels:
            pick = choose(up_to_level(board, methods, L), threshold=threshold, level=level)
            if pick not in fitted_picks:
                fitted = fit_pick(
                    pick,
                    train_values,
                    train_y,
                    names=names,
                    kind=kind,
                    metric=metric,
                    random_state=random_state,
                    methods=methods,
                )
                # The pick's decision step (threshold, cut-points) is fitted on the outer training rows.
                fitted_picks[pick] = (
                    fitted.apply(held_values),
                    fitted.apply(train_values) if metric.fits_step else None,
                )
            blended, train_blend = fitted_picks[pick]
            level_oof = oof[L]
            if level_oof is None:
                level_oof = oof[L] = np.full((y.shape[0], blended.shape[1]), np.nan)
            level_oof[held_out] = blended
            scores[L].append(_outer_score(metric, train_y, train_blend, y[held_out], blended, kind))
            picks[L].append(pick.name)
        best = names.index(board.best_single)
        single_scores.append(
            _outer_score(
                metric, train_y, train_values[best] if metric.fits_step else None, y[held_out], held_values[best], kind
            )
        )
        if progress is not None:
            chosen = "; ".join(
                f"{L} level{'s' if L > 1 else ''}: {picks[L][-1]}, {metric} {scores[L][-1]:.6f}" for L in levels
            )
            progress(
                f"  outer fold {k + 1}/{len(outer)}: {chosen} (best file {board.best_single}: {single_scores[-1]:.6f})"
            )
    return {L: Estimate(np.array(scores[L]), np.array(single_scores), picks[L], len(outer), oof[L]) for L in levels}


def _outer_score(
    metric: metrics.Metric,
    train_y: NDArray,
    train_blend: NDArray | None,
    held_y: NDArray,
    blended: NDArray,
    kind: metrics.Kind,
) -> float:
    """An outer fold's score; a decision step is fitted on the outer training rows' blend."""
    if train_blend is None:
        return layout.plain_score(held_y, blended, metric=metric, kind=kind)
    return layout.held_out_score(train_y, train_blend, held_y, blended, metric=metric, kind=kind)


def up_to_level(board: Leaderboard, methods: list[Method], max_level: int) -> Leaderboard:
    """The leaderboard without the entries of more than ``max_level`` levels."""
    from dataclasses import replace

    deeper = {method.name for method in methods if method.level > max_level}
    return replace(board, entries=[entry for entry in board.entries if entry.name not in deeper])


def level_verdict(estimates: dict[int, Estimate], *, metric: str, threshold: float = THRESHOLD) -> tuple[int, str]:
    """How many levels to keep, and why: a second level only if its nested estimate beats the first's
    by more than ``threshold`` corrected standard errors of their paired per-fold difference."""
    if 2 not in estimates:
        return 1, "no second level suits these files"
    one, two = estimates[1], estimates[2]
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    difference = sign * (two.scores - one.scores)
    difference = np.where(
        beyond_noise_floor(difference, np.maximum(np.abs(one.scores), np.abs(two.scores))), difference, 0.0
    )
    gain, se = float(difference.mean()), corrected_se(difference, one.folds)
    numbers = (
        f"nested {metric} with a second level {two.mean:.6f} ± {two.se:.6f}, with one {one.mean:.6f} ± "
        f"{one.se:.6f}: the second level gains {gain:+.4g} ± {se:.2g} per fold"
    )
    if gain > 0 and gain > threshold * (se if np.isfinite(se) else 0.0):
        return 2, f"a second level pays: {numbers}"
    return 1, (
        f"a second level does not pay: {numbers}, not more than {threshold:g} standard errors, so the pick "
        "is made among the level-1 entries"
    )


def procedure_caution(estimate: Estimate, *, metric: str, pick_type: str, threshold: float = 1.0) -> str | None:
    """A warning when the nested estimate says the procedure does worse than picking the best
    single file the same way, by more than ``threshold`` corrected standard errors of their paired
    per-fold difference: then the pick's lead on the leaderboard is likely selection noise."""
    if pick_type == "model":
        return None
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    loss = sign * (estimate.best_single_scores - estimate.scores)
    mean, se = float(loss.mean()), corrected_se(loss, estimate.folds)
    if not (mean > 0 and mean > threshold * (se if np.isfinite(se) else 0.0)):
        return None
    worse = int((loss > 0).sum())
    return (
        "caution: on the nested estimate, picking the best single file would score better "
        f"({estimate.best_single_mean:.6f} against {estimate.mean:.6f}, by {mean:.4g} ± {se:.2g} per fold, in {worse} "
        f"of {len(loss)} outer folds): the pick's lead on the leaderboard may be selection noise; submitting the best "
        "file is the safer choice (blend auto --threshold with a larger gate makes it)"
    )


@dataclass(frozen=True, eq=False)
class AutoResult:
    """What ``blend auto`` found: the leaderboard, the pick, its nested estimate and its test blend.

    ``estimates`` holds the nested estimate for each number of levels tried, ``level`` the one
    kept and ``level_reason`` why; ``step`` is the metric's decision step fitted on the pick's OOF
    blend (None for a metric of scores), ``in_sample`` and ``plain_in_sample`` the pick's OOF score
    with it and with the plain step; ``estimate`` is the kept one, whose outer predictions are
    ``auto``'s OOF predictions. ``blends`` holds every entry's test blend (files and methods)
    when asked for, else nothing.
    """

    board: Leaderboard
    pick: Pick
    estimates: dict
    level: int
    level_reason: str
    test_blend: NDArray[np.float64]
    blends: dict
    slice: SliceScore | None = None
    step: Step | None = None
    in_sample: float = float("nan")
    plain_in_sample: float = float("nan")

    @property
    def estimate(self) -> Estimate:
        return self.estimates[self.level]

    @property
    def picked(self) -> tuple[str, ...]:
        return self.pick.members or (self.pick.name,)


def default_repeats(n_rows: int) -> int:
    """Repeats of the leaderboard's CV: 3 up to 5,000 OOF rows (where fold noise dominates), else 1."""
    return 3 if n_rows <= 5000 else 1


def run_auto(
    train: Predictions,
    y: NDArray,
    test: Predictions,
    *,
    metric: metrics.Metric,
    folds: Any = 5,
    repeats: int | None = None,
    random_state: int | None = 0,
    threshold: float = THRESHOLD,
    blends: bool = False,
    max_level: int = 2,
    progress: Callable[[str], None] | None = None,
    methods: list[Method] | None = None,
    inner_folds: int | None = None,
    scorer: Callable | None = None,
) -> AutoResult:
    """The whole of ``blend auto`` on OOF predictions ``train`` (truth ``y``) and test predictions ``test``.

    Every registry entry of at most ``max_level`` levels that suits the kind and metric is
    scored on the same folds (:func:`blender.evaluation.leaderboard`; ``folds`` is K seeded
    folds, repeated, or each row's fold from a folds file), :func:`nested_estimate` scores the
    procedure on rows it never saw with and without the second level, :func:`level_verdict`
    keeps the second level only if it pays, :func:`choose` picks, and the pick is fitted on
    every OOF row and applied to ``test``. With ``blends``, every entry's test blend is kept too.

    A time budget (:func:`blender.plan.run_auto_within`) passes the ``methods`` that fit it (None:
    every suitable entry), the nested estimate's ``inner_folds`` and a ``scorer`` that counts the
    folds and leaves a method off the leaderboard when the run is late; the nested estimate then
    runs only the methods the leaderboard scored on every fold.
    """
    from blender.methods import methods_for

    say = progress or (lambda line: None)
    if repeats is None:
        repeats = default_repeats(train.n_samples) if np.ndim(folds) == 0 else 1
    methods = methods_for(train.kind, metric, max_level=max_level) if methods is None else methods
    plan = f"{repeats}x{folds}-fold CV" if np.ndim(folds) == 0 else "the folds file's folds"
    say(f"1/3 leaderboard: {train.n_models} files and {len(methods)} blend methods on {plan} ...")
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
    scored = {entry.name for entry in board.entries}
    methods = [method for method in methods if method.name in scored]
    levels = tuple(sorted({method.level for method in methods} | {1}))
    say(
        f"2/3 nested estimate: the whole choice again inside the outer folds"
        f"{', with and without a second level' if len(levels) > 1 else ''} ..."
    )
    estimates = nested_estimate(
        train.values,
        y,
        kind=train.kind,
        metric=metric,
        names=train.names,
        folds=folds,
        repeats=repeats,
        random_state=random_state,
        methods=methods,
        threshold=threshold,
        levels=levels,
        progress=progress,
        inner_folds=inner_folds,
        scorer=scorer,
    )
    kept, reason = level_verdict(estimates, metric=metric, threshold=threshold)
    held = _slice(estimates[kept], train, y, folds=folds, metric=metric, random_state=random_state)
    pick = choose(up_to_level(board, methods, kept), threshold=threshold)
    say(f"3/3 fitting {pick.name} on all {train.n_samples:,} OOF rows and applying it to the test files")
    fitted = fit_pick(
        pick,
        train.values,
        y,
        names=train.names,
        kind=train.kind,
        metric=metric,
        random_state=random_state,
        methods=methods,
    )
    metric = metrics.for_truth(metric, train.kind, y)
    train_blend = fitted.apply(train.values)
    # The pick's decision step (threshold, cut-points), fitted on the OOF rows' blend as each fold's was.
    step = metric.fit_step(y, layout.for_metric(train_blend, train.kind))
    in_sample = layout.score(y, train_blend, metric=metric, kind=train.kind)
    plain_in_sample = layout.plain_score(y, train_blend, metric=metric, kind=train.kind)
    every = {}
    if blends:
        every = {name: test.values[index] for index, name in enumerate(train.names)}
        every.update(
            {
                method.name: fit(
                    method, train.values, y, kind=train.kind, metric=metric, random_state=random_state
                ).apply(test.values)
                for method in methods
            }
        )
    return AutoResult(
        board, pick, estimates, kept, reason, fitted.apply(test.values), every, held, step, in_sample, plain_in_sample
    )


def _slice(
    estimate: Estimate,
    train: Predictions,
    y: NDArray,
    *,
    folds: Any,
    metric: metrics.Metric,
    random_state: int | None,
) -> SliceScore | None:
    """The nested procedure's OOF predictions scored on the slice (None with fewer than 3 folds)."""
    from blender.evaluation import fold_assignment, level_splits, slice_estimate

    assignment = fold_assignment(y, kind=train.kind, folds=folds, random_state=random_state)
    _, slice_fold = level_splits(assignment)
    if slice_fold is None or estimate.oof is None:
        return None
    return slice_estimate(
        y,
        estimate.oof,
        train.values,
        train.names,
        assignment,
        slice_fold,
        metric=metric,
        kind=train.kind,
        random_state=random_state,
    )


def report_document(result: AutoResult, *, metric: str) -> dict:
    """The ``--report`` JSON of ``blend auto``: the pick and why, the estimate, the leaderboard (NaN as null)."""
    board, pick, estimate = result.board, result.pick, result.estimate
    document = {
        "metric": metric,
        "pick": {"name": pick.name, "type": pick.type, "members": list(pick.members)},
        "reason": pick.reason,
        "estimate": {
            "mean": estimate.mean,
            "se": estimate.se,
            "folds": estimate.scores.tolist(),
            "picks": estimate.picks,
            "best_single_mean": estimate.best_single_mean,
        },
        "levels": {
            "kept": result.level,
            "reason": result.level_reason,
            "estimates": {
                str(L): {"mean": e.mean, "se": e.se, "folds": e.scores.tolist(), "picks": e.picks}
                for L, e in result.estimates.items()
            },
        },
        "best_single": {"name": board.best_single, "oof": board.best_single_oof},
        "step": step_document(result.step, result.in_sample, result.plain_in_sample),
        "leaderboard": leaderboard_document(board),
    }
    return finite_or_none(document)


def step_document(step: Step | None, in_sample: float, plain_in_sample: float) -> dict | None:
    """The pick's decision step as JSON: what it is, its fitted numbers, and the OOF score with and without it."""
    if step is None:
        return None
    document = {
        "step": type(step).__name__.lower(),
        "description": step.describe(),
        "fitted": bool(step.fitted),
        "oof_with_step": in_sample,
        "oof_plain_step": plain_in_sample,
    }
    for field in ("threshold", "cuts", "k", "low"):
        if hasattr(step, field):
            value = getattr(step, field)
            document[field] = list(value) if isinstance(value, tuple) else value
    return document

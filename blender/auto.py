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
   pick is the mean of the top entry and every entry level with it (``level-K average``),
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
its pick is scored on the outer held-out rows, which it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics
from blender.evaluation import Entry, Leaderboard, beyond_noise_floor, corrected_se, leaderboard
from blender.methods import BY_NAME, Method, fit

# A blend must beat the best single file by this many standard errors of the gain: half of one,
# measured on the real-data benchmark (benchmarks/bench_real_data.py; see the README).
THRESHOLD = 0.5
# Past the gate, an entry is level with the top entry when the top leads it by at most this many
# standard errors of the paired per-fold lead; the pick is the mean of the top and those level with it.
LEVEL = 1.5
# The outer folds of the nested estimate use seeds from here on, apart from the inner ones.
_OUTER_SEED_OFFSET = 1000


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
    """

    scores: NDArray[np.float64]
    best_single_scores: NDArray[np.float64]
    picks: list[str]
    folds: int

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
        ``members`` (``name="level-K average"``).

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
    ('level-2 average', ('caruana', 'average'))
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
        detail = (f"; the closest, {closest.name}, gains {closest.gain:+.4g} ± {closest.gain_se:.2g} {unit}"
                  if closest is not None else "")
        return Pick(board.best_single, "model",
                    f"no blend beats the best single file {board.best_single} by more than "
                    f"{threshold:g} standard error{'' if threshold == 1 else 's'}{detail}")
    strongest = max(beating, key=lambda entry: entry.gain / entry.gain_se if entry.gain_se > 0 else np.inf)
    gate = (f"{strongest.name} beats the best single file {board.best_single} by {strongest.gain:+.4g} "
            f"± {strongest.gain_se:.2g} {unit} (in {strongest.wins} of {strongest.n_folds} folds), so blending "
            f"helps here")
    top, others = board.entries[0], board.entries[1:]
    leads = [(entry, *lead_over(top, entry, metric=board.metric, folds=board.folds)) for entry in others]
    level_with = [(entry, lead, se) for entry, lead, se in leads if _level(lead, se, level)]
    behind = [(entry, lead, se) for entry, lead, se in leads if not _level(lead, se, level)]

    def listed(rows) -> str:
        return ", ".join(f"{entry.name} {lead:+.3g} ± {se:.2g}" for entry, lead, se in rows)

    bound = f"{level:g} standard error{'' if level == 1 else 's'}"
    if not level_with:
        reason = (f"{gate}; {top.name}, the top entry, leads every other entry by more than {bound} of its "
                  f"per-fold lead ({listed(behind[:3])}{', ...' if len(behind) > 3 else ''}), so it is submitted alone")
        return Pick(top.name, top.type, reason)
    members = (top.name, *(entry.name for entry, _, _ in level_with))
    reason = (f"{gate}; the top entry {top.name} cannot be told apart from {len(level_with)} other"
              f"{'' if len(level_with) == 1 else 's'} (its lead within {bound}: {listed(level_with)}), so their "
              f"mean is submitted: {', '.join(members)}")
    if behind:
        reason += f"; the others trail it by more than {bound} ({listed(behind)})"
    return Pick(f"level-{len(members)} average", "blend", reason, members)


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


def fit_pick(pick: Pick, values: NDArray, y: NDArray, *, names: list[str], kind: str, metric: str,
             random_state: int | None = None, methods: list[Method] | None = None):
    """The pick fitted on these rows: an object whose ``apply(values)`` gives the blend.

    Blends are looked up in ``methods`` (the entries the leaderboard ran), else in the registry.
    """
    from blender.methods import Weighted

    def fit_one(name: str):
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
    folds: int = 5,
    repeats: int = 1,
    random_state: int | None = 0,
    methods: list[Method] | None = None,
    threshold: float = THRESHOLD,
    level: float = LEVEL,
    progress: Callable[[str], None] | None = None,
) -> Estimate:
    """Score the whole choose-a-blend procedure on rows it never saw.

    For each of ``folds`` outer folds, the leaderboard and :func:`choose` run on the outer
    training rows alone (with their own inner folds), the pick is fitted on those rows and
    scored on the outer held-out rows. The file with the best score on the outer training
    rows is scored on the same held-out rows, for a fair comparison.
    """
    values = np.asarray(values)
    y = np.asarray(y)
    base = 0 if random_state is None else random_state
    outer = layout.cv_folds(y, kind=kind, folds=folds, random_state=base + _OUTER_SEED_OFFSET)
    scores, single_scores, picks = [], [], []
    for k, (train_rows, held_out) in enumerate(outer):
        train_values, train_y = layout.take_rows(values, train_rows), y[train_rows]
        board = leaderboard(train_values, train_y, kind=kind, metric=metric, names=names, folds=folds,
                            repeats=repeats, random_state=random_state, methods=methods)
        pick = choose(board, threshold=threshold, level=level)
        fitted = fit_pick(pick, train_values, train_y, names=names, kind=kind, metric=metric, random_state=random_state,
                          methods=methods)
        held_values = layout.take_rows(values, held_out)
        scores.append(layout.score(y[held_out], fitted.apply(held_values), metric=metric, kind=kind))
        best = names.index(board.best_single)
        single_scores.append(layout.score(y[held_out], held_values[best], metric=metric, kind=kind))
        picks.append(pick.name)
        if progress is not None:
            progress(f"  outer fold {k + 1}/{folds}: picked {pick.name}, {metric} {scores[-1]:.6f} "
                     f"(best file {board.best_single}: {single_scores[-1]:.6f})")
    return Estimate(np.array(scores), np.array(single_scores), picks, folds)


@dataclass(frozen=True, eq=False)
class AutoResult:
    """What ``blend auto`` found: the leaderboard, the pick, its nested estimate and its test blend.

    ``blends`` holds every entry's test blend (files and methods) when asked for, else nothing.
    """

    board: Leaderboard
    pick: Pick
    estimate: Estimate
    test_blend: NDArray[np.float64]
    blends: dict

    @property
    def picked(self) -> tuple[str, ...]:
        return self.pick.members or (self.pick.name,)


def default_repeats(n_rows: int) -> int:
    """Repeats of the leaderboard's CV: 3 up to 5,000 OOF rows (where fold noise dominates), else 1."""
    return 3 if n_rows <= 5000 else 1


def run_auto(train, y: NDArray, test, *, metric: str, folds: int = 5, repeats: int | None = None,
             random_state: int | None = 0, threshold: float = THRESHOLD, blends: bool = False,
             progress: Callable[[str], None] | None = None) -> AutoResult:
    """The whole of ``blend auto`` on OOF predictions ``train`` (truth ``y``) and test predictions ``test``.

    Every registry entry that suits the kind and metric is scored on the same repeated folds
    (:func:`blender.evaluation.leaderboard`), :func:`choose` picks, :func:`nested_estimate`
    scores the procedure on rows it never saw, and the pick is fitted on every OOF row and
    applied to ``test``. With ``blends``, every entry's test blend is kept too (``--blends-dir``).
    """
    from blender.methods import methods_for

    say = progress or (lambda line: None)
    repeats = default_repeats(train.n_samples) if repeats is None else repeats
    methods = methods_for(train.kind, metric)
    say(f"1/3 leaderboard: {train.n_models} files and {len(methods)} blend methods on {repeats}x{folds}-fold CV ...")
    board = leaderboard(train.values, y, kind=train.kind, metric=metric, names=train.names, folds=folds,
                        repeats=repeats, random_state=random_state, methods=methods, progress=progress)
    pick = choose(board, threshold=threshold)
    say(f"2/3 nested estimate: the whole choice again inside {folds} outer folds ...")
    estimate = nested_estimate(train.values, y, kind=train.kind, metric=metric, names=train.names, folds=folds,
                               repeats=repeats, random_state=random_state, methods=methods, threshold=threshold,
                               progress=progress)
    say(f"3/3 fitting {pick.name} on all {train.n_samples:,} OOF rows and applying it to the test files")
    fitted = fit_pick(pick, train.values, y, names=train.names, kind=train.kind, metric=metric,
                      random_state=random_state, methods=methods)
    every = {}
    if blends:
        every = {name: test.values[index] for index, name in enumerate(train.names)}
        every.update({method.name: fit(method, train.values, y, kind=train.kind, metric=metric,
                                       random_state=random_state).apply(test.values) for method in methods})
    return AutoResult(board, pick, estimate, fitted.apply(test.values), every)


def report_document(result: AutoResult, *, metric: str) -> dict:
    """The ``--report`` JSON of ``blend auto``: the pick and why, the estimate, the leaderboard (NaN as null)."""
    board, pick, estimate = result.board, result.pick, result.estimate
    document = {
        "metric": metric,
        "pick": {"name": pick.name, "type": pick.type, "members": list(pick.members)},
        "reason": pick.reason,
        "estimate": {"mean": estimate.mean, "se": estimate.se, "folds": estimate.scores.tolist(),
                     "picks": estimate.picks, "best_single_mean": estimate.best_single_mean},
        "best_single": {"name": board.best_single, "oof": board.best_single_oof},
        "leaderboard": [{"name": e.name, "type": e.type, "mean": e.mean, "se": e.se, "gain": e.gain,
                         "gain_se": e.gain_se, "wins": e.wins, "folds": e.n_folds,
                         "fold_scores": e.fold_scores.tolist()} for e in board.entries],
    }
    return _finite_or_none(document)


def _finite_or_none(value):
    """JSON has no NaN: an undefined standard error is written as null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(item) for item in value]
    return value

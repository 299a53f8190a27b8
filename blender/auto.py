"""``blend auto``: which blend to submit, and an honest estimate of how well it will do.

The rule (:func:`choose`), measured on real data in ``benchmarks/bench_real_data.py``:

1. Score every file and every blend method on the same repeated folds
   (:func:`blender.evaluation.leaderboard`).
2. The gate: some blend must beat the best single file (the file with the best OOF score)
   by more than ``threshold`` standard errors of its per-fold gain. Otherwise blending is
   not shown to help, and the best single file is submitted as it is.
3. Past the gate, submit the **average of the top entries** (the ``TOP`` best by CV mean,
   files and blends alike), not the top entry alone. On small data the order at the top of
   the leaderboard is mostly noise, and the mean of a few near-equal entries is never far
   from the best of them: on the benchmark's 13 datasets the top entry alone beat the best
   single file in 9, its average with the next four in all 13.

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
from blender.evaluation import Entry, Leaderboard, corrected_se, leaderboard
from blender.methods import BY_NAME, Method, fit

# A blend must beat the best single file by this many standard errors of the gain: half of one,
# measured on the real-data benchmark (benchmarks/bench_real_data.py; see the README).
THRESHOLD = 0.5
# Past the gate, the pick is the mean of this many entries from the top of the leaderboard.
TOP = 5
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


def choose(board: Leaderboard, *, threshold: float = THRESHOLD, top: int = TOP) -> Pick:
    """Pick what to submit from an honest leaderboard (the rule in the module docstring).

    Examples
    --------
    >>> from blender.evaluation import Entry, Leaderboard
    >>> def entry(name, type_, mean, gain, gain_se):
    ...     return Entry(name, type_, np.zeros(5), mean, 0.0, gain, gain_se, 0, 1)
    >>> board = Leaderboard([entry("caruana", "blend", 0.20, 0.010, 0.002), entry("average", "blend", 0.21, 0.009, 0.002),
    ...                      entry("lr", "model", 0.22, 0.0, 0.0), entry("rf", "model", 0.25, -0.03, 0.01)],
    ...                     "logloss", 5, 1, "lr", 0.22)
    >>> pick = choose(board, top=3)
    >>> pick.name, pick.members
    ('top-3 average', ('caruana', 'average', 'lr'))
    >>> board = Leaderboard([entry("caruana", "blend", 0.215, 0.001, 0.004), entry("lr", "model", 0.22, 0.0, 0.0)],
    ...                     "logloss", 5, 1, "lr", 0.22)
    >>> choose(board).name
    'lr'
    """
    blends = [entry for entry in board.entries if entry.type == "blend"]
    beating = [entry for entry in blends if _beats(entry, threshold)]
    unit = f"{board.metric} per fold"
    if not beating:
        closest = max(blends, key=lambda entry: entry.gain, default=None)
        detail = (f"; the closest, {closest.name}, gains {closest.gain:+.4g} ± {closest.gain_se:.2g} {unit}"
                  if closest is not None else "")
        return Pick(board.best_single, "model",
                    f"no blend beats the best single file {board.best_single} by more than "
                    f"{threshold:g} standard error{'' if threshold == 1 else 's'}{detail}")
    strongest = max(beating, key=lambda entry: entry.gain / entry.gain_se if entry.gain_se > 0 else np.inf)
    members = tuple(entry.name for entry in board.entries[:top])
    reason = (f"{strongest.name} beats the best single file {board.best_single} by {strongest.gain:+.4g} "
              f"± {strongest.gain_se:.2g} {unit} (in {strongest.wins} of {strongest.n_folds} folds), so blending "
              f"helps here; the order of the top entries is within noise, so their mean is submitted: "
              f"{', '.join(members)}")
    return Pick(f"top-{len(members)} average", "blend", reason, members)


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
        pick = choose(board, threshold=threshold)
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

"""Levels: blends of blends on the folds every level shares, with an estimate no blend level has seen.

A blend's own out-of-fold (OOF) predictions make it an input of the next level, as a model's
OOF file does. They are cross-fitted on the shared folds (``data/folds.csv``) with one fold
kept aside, the **slice** (the last fold):

- a row of another fold g is predicted by the blend fitted on the folds other than g and the slice;
- a row of the slice is predicted by the blend fitted on every other fold.

So no blend written this way has seen the slice's truth, at any level: a level-3 blend fitted
on level-2 OOF files of non-slice rows learns nothing of the slice, and its predictions of the
slice's rows come from blends fitted without them. Its score there (:func:`slice_estimate`)
is an honest estimate at every level, where the same-fold CV score is flattered from level 2
on: a level-2 file's OOF prediction of a row of fold g came from a blend fitted on the other
folds' truth, which the next level's CV then scores against. Level-1 files are fitted as their
makers chose (``make oof``: on the other folds, slice included), which is the usual stacking
of level-1 OOF files, the same at every level.

:func:`fit_level2` is a whole second level as one registry entry (``level2-hill-climb``):
stackers cross-fitted on the rows it is given, then hill climbing over their OOF predictions.
``blend auto`` scores it beside the level-1 entries and, by its nested estimate, decides
whether a second level pays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics

# Bootstrap resamples of the slice's rows for the standard error of its score.
_BOOTSTRAPS = 200
# Level 2 of ``level2-hill-climb``: cheap linear stackers and the plain mean, each cross-fitted on
# these many inner folds of the rows it is fitted on. (A logistic regression on log-odds was
# dropped: on MNIST-5k's 11 files it took 3.5x the plain one's time and scored 0.33 against 0.14.)
# Three inner folds: inside auto's nested estimate this pipeline is fitted about 30 times.
LEVEL2_MEMBERS = ("stack-logreg", "stack-ridge", "average")
INNER_FOLDS = 3


def level_splits(assignment: NDArray) -> tuple[list[tuple[NDArray[np.int64], NDArray[np.int64]]], int | None]:
    """The splits that cross-fit a blend's OOF predictions, and the slice's fold number.

    With fewer than 3 folds there is no room for a slice: every fold is predicted from the
    others, and the slice is None.

    >>> splits, slice_fold = level_splits(np.array([0, 0, 1, 1, 2, 2]))
    >>> slice_fold, [(train.tolist(), held.tolist()) for train, held in splits]
    (2, [([2, 3], [0, 1]), ([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])])
    """
    assignment = np.asarray(assignment)
    folds = np.unique(assignment)
    if folds.shape[0] < 3:
        return [(np.flatnonzero(assignment != f), np.flatnonzero(assignment == f)) for f in folds], None
    slice_fold = int(folds[-1])
    splits = [(np.flatnonzero((assignment != f) & (assignment != slice_fold)), np.flatnonzero(assignment == f))
              for f in folds[:-1]]
    splits.append((np.flatnonzero(assignment != slice_fold), np.flatnonzero(assignment == slice_fold)))
    return splits, slice_fold


@dataclass(frozen=True)
class SliceScore:
    """A blend's score on the slice rows, with a bootstrap standard error, beside the best file's.

    ``best_single`` is the file with the best score on the rows outside the slice (the one a
    user who never saw the slice would submit), scored on the slice.
    """

    fold: int
    rows: int
    mean: float
    se: float
    best_single: str
    best_single_mean: float


def slice_estimate(y: NDArray, oof: NDArray, values: NDArray, names: list[str], assignment: NDArray, slice_fold: int,
                   *, metric: str, kind: str, random_state: int | None = 0) -> SliceScore:
    """Score the cross-fitted ``oof`` blend (n_rows, n_cols) and the best file on the slice's rows.

    The standard error is the spread of the score over bootstrap resamples of the slice's rows.
    """
    y, values = np.asarray(y), np.asarray(values)
    metric = metrics.for_truth(metric, kind, y)
    rows = np.flatnonzero(np.asarray(assignment) == slice_fold)
    rest = np.flatnonzero(np.asarray(assignment) != slice_fold)
    best = layout.best_model(layout.model_scores(layout.take_rows(values, rest), y[rest], metric=metric, kind=kind), metric)
    # A decision step (threshold, cut-points) is fitted on the rows outside the slice, as the blend was.
    step = metric.fit_step(y[rest], layout.for_metric(oof[rest], kind))
    blend = layout.for_metric(oof, kind)
    score = metric.score_with(step, y[rows], blend[rows])
    generator = np.random.default_rng(random_state)
    resampled = []
    for _ in range(_BOOTSTRAPS):
        pick = rows[generator.integers(0, rows.shape[0], rows.shape[0])]
        try:
            resampled.append(metric.score_with(step, y[pick], blend[pick]))
        except ValueError:  # a resample with one class has no AUC
            continue
    resampled = [value for value in resampled if np.isfinite(value)]
    se = float(np.std(resampled, ddof=1)) if len(resampled) > 1 else float("nan")
    best_values = values[best]
    best_score = layout.held_out_score(y[rest], best_values[rest], y[rows], best_values[rows], metric=metric, kind=kind)
    return SliceScore(int(slice_fold), int(rows.shape[0]), float(score), se, names[best], float(best_score))


@dataclass(frozen=True, eq=False)
class LevelTwo:
    """Level-2 blends fitted on every row, and the level-3 blend fitted on their cross-fitted OOF predictions."""

    members: tuple
    names: tuple[str, ...]
    combiner: object

    @property
    def details(self) -> dict:
        return {"members": self.names, "weights": getattr(self.combiner, "weights", None)}

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return self.combiner.apply(np.stack([member.apply(values) for member in self.members]))


@dataclass(frozen=True, eq=False)
class EqualMean:
    """The plain mean of the level-2 blends, where too few rows leave none to learn weights from."""

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return np.mean(values, axis=0)


def fit_level2(values: NDArray, y: NDArray, members: dict, combine, *, kind: metrics.Kind,
               random_state: int | None = None) -> LevelTwo:
    """Two levels fitted on these rows: ``members`` cross-fitted on inner folds, then ``combine`` over their OOF.

    ``members`` maps each level-2 blend's name to its fit, ``fit(values, y) -> fitted blend``
    (the registry entries of :data:`LEVEL2_MEMBERS`, bound by ``blender.methods``), and
    ``combine`` is the level-3 fit. The inner folds split only the rows given, so inside an
    outer CV fold or a cross-fit the whole pipeline stays on that fold's training rows.
    """
    y = np.asarray(y)
    # Fewer inner folds where the rows are few (a fold needs rows of the largest class); with
    # fewer than 2, the stackers have no OOF predictions to learn from, and are averaged.
    folds = min(INNER_FOLDS, y.shape[0] if kind == "regression" else int(np.unique(y, return_counts=True)[1].max()))
    if folds < 2:
        top = EqualMean()
    else:
        splits = layout.cv_folds(y, kind=kind, folds=folds, random_state=random_state, option=None)
        top = combine(np.stack([_cross_fitted(fit, values, y, splits) for fit in members.values()]), y)
    return LevelTwo(tuple(fit(values, y) for fit in members.values()), tuple(members), top)


def _cross_fitted(fit, values: NDArray, y: NDArray, splits) -> NDArray[np.float64]:
    """Each row predicted by ``fit`` on its split's training rows (the splits hold every row out once)."""
    oof = None
    for train_rows, held_out in splits:
        blended = fit(layout.take_rows(values, train_rows), y[train_rows]).apply(layout.take_rows(values, held_out))
        oof = np.empty((y.shape[0], blended.shape[1])) if oof is None else oof
        oof[held_out] = blended
    return oof

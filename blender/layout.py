"""The one array layout every blend method works on, and the helpers that depend only on it.

Predictions of every kind are a float array ``values`` of shape ``(n_models, n_rows, n_cols)``:

- binary probabilities and regression values: ``n_cols == 1``;
- class probabilities: one column per class, in the first file's column order;
- labels: one-hot votes over the sorted class labels (``n_cols == n_classes``).

A blend of them is ``(n_rows, n_cols)``. The truth ``y`` is ``(n_rows,)``: 0/1 for binary,
the class index for class probabilities and labels, floats for regression. This module is a
leaf: it imports only ``metrics`` and ``errors``, so ``evaluation`` and every method can use it.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from blender import arrays, metrics
from blender.errors import BlendInputError

# Probabilities blended with negative weights are clipped into [0, 1] by this margin.
_PROBABILITY_FLOOR = 1e-15


def n_models(values: NDArray) -> int:
    """Number of models in ``values`` of shape (n_models, n_rows, n_cols)."""
    return int(np.shape(values)[0])


def n_rows(values: NDArray) -> int:
    """Number of rows in ``values`` of shape (n_models, n_rows, n_cols)."""
    return int(np.shape(values)[1])


def take_rows(values: NDArray, rows: NDArray) -> NDArray:
    """The given rows of every model: shape (n_models, len(rows), n_cols)."""
    return np.asarray(values)[:, rows]


def for_metric(blended: NDArray, kind: metrics.Kind) -> NDArray:
    """One blend, shape (n_rows, n_cols), as :func:`blender.metrics.score` takes it.

    Binary and regression blends lose their single column; class probabilities and label
    votes stay (n_rows, n_classes).

    >>> for_metric(np.array([[0.2], [0.9]]), "binary")
    array([0.2, 0.9])
    """
    blended = np.asarray(blended)
    if kind in ("binary", "regression"):
        return blended[:, 0]
    return blended


def score(
    y: NDArray, blended: NDArray, *, metric: metrics.Metric, kind: metrics.Kind, xp: ModuleType | None = None
) -> float:
    """Score one blend of shape (n_rows, n_cols) against ``y``, the metric's step fitted on these rows.

    For a metric of decisions (F1 at a threshold, qwk after cut-points) this is the best the
    step can do on these rows: optimistic, what the searches and the pick of the best file
    compare. :func:`held_out_score` is the honest one. The score is computed in ``xp`` (default: the
    run's namespace, :mod:`blender.arrays`) where the metric has an array-API form; so are the others here.

    >>> score(np.array([0, 1]), np.array([[0.2], [0.9]]), metric="accuracy", kind="binary")
    1.0
    """
    return metrics.resolve(metric, kind).fitted(np.asarray(y), for_metric(blended, kind), xp=xp)


def held_out_score(
    y_fit: NDArray,
    blended_fit: NDArray,
    y: NDArray,
    blended: NDArray,
    *,
    metric: metrics.Metric,
    kind: metrics.Kind,
    xp: ModuleType | None = None,
) -> float:
    """Score ``blended`` against ``y`` with the metric's step fitted on ``(y_fit, blended_fit)`` only.

    >>> held_out_score(np.array([0, 1]), np.array([[0.2], [0.4]]), np.array([0, 1]), np.array([[0.25], [0.35]]),
    ...                metric="accuracy", kind="binary")
    1.0
    """
    resolved = metrics.resolve(metric, kind)
    return resolved.held_out(
        np.asarray(y_fit), for_metric(blended_fit, kind), np.asarray(y), for_metric(blended, kind), xp=xp
    )


def plain_score(
    y: NDArray, blended: NDArray, *, metric: metrics.Metric, kind: metrics.Kind, xp: ModuleType | None = None
) -> float:
    """Score one blend as it stands: the metric's plain step (0.5, the argmax, the nearest class)."""
    return metrics.resolve(metric, kind).score(np.asarray(y), for_metric(blended, kind), xp=xp)


def in_numpy(xp: ModuleType | None) -> bool:
    """Whether the scores are computed in NumPy: ``xp``, or the run's namespace where it is None."""
    return arrays.is_numpy(arrays.namespace(xp))


# The models scored at once by plain_scores: a block of at most this many float64 values.
_BLOCK_VALUES = 1 << 23


def plain_scores(
    values: NDArray,
    y: NDArray,
    *,
    metric: metrics.Metric,
    kind: metrics.Kind,
    rows: NDArray | None = None,
    xp: ModuleType | None = None,
) -> NDArray[np.float64]:
    """Each model's score as it stands (:func:`plain_score`) on ``rows`` (default: all), shape (n_models,).

    A block of models at a time is one :meth:`blender.metrics.Metric.batch` call, in ``xp`` (default: the
    run's namespace): the leaderboard's fold scores of the files.
    """
    metric = metrics.resolve(metric, kind)
    values = np.asarray(values)
    y = np.asarray(y) if rows is None else np.asarray(y)[rows]
    per_model = max(1, y.shape[0] * values.shape[2])
    step = max(1, _BLOCK_VALUES // per_model)
    scores = []
    for start in range(0, values.shape[0], step):
        block = values[start : start + step] if rows is None else values[start : start + step, rows]
        candidates = block[..., 0] if kind in ("binary", "regression") else block
        scores.append(metric.score_all(y, candidates, xp=xp))
    return np.concatenate(scores) if scores else np.empty(0)


def model_scores(
    values: NDArray, y: NDArray, *, metric: metrics.Metric, kind: metrics.Kind, xp: ModuleType | None = None
) -> NDArray[np.float64]:
    """Each model's score on all the rows (its step fitted on them), shape (n_models,).

    In NumPy one model at a time, as :func:`score` scores one blend, so that a file and a blend equal to it
    get the same float (a block's SIMD lanes can round a log 1 ulp apart); elsewhere a block at a time.
    """
    metric = metrics.resolve(metric, kind)
    if not metric.fits_step and not in_numpy(xp):  # the plain step is the fitted one: a block of models at once
        return plain_scores(values, y, metric=metric, kind=kind, xp=xp)
    return np.array([score(y, model, metric=metric, kind=kind, xp=xp) for model in np.asarray(values)])


def best_model(scores: NDArray[np.float64], metric: metrics.Metric) -> int:
    """Index of the best score; the first on a tie.

    >>> best_model(np.array([0.3, 0.1, 0.1]), "logloss"), best_model(np.array([0.7, 0.9]), "auc")
    (1, 1)
    """
    scores = np.asarray(scores, dtype=np.float64)
    return int(np.argmax(scores) if metrics.greater_is_better(metric) else np.argmin(scores))


def weighted_sum(values: NDArray, weights: NDArray) -> NDArray[np.float64]:
    """``sum_m weights[m] * values[m]``, shape (n_rows, n_cols), the same bits for a row wherever it sits.

    A BLAS product (``tensordot``) sums in an order that depends on a row's position in
    memory, so a file whose rows come in another order would blend 1 ulp differently; one
    model at a time, every row is summed in model order.

    >>> weighted_sum(np.array([[[1.0], [2.0]], [[3.0], [4.0]]]), np.array([0.5, 0.5]))[:, 0]
    array([2., 3.])
    """
    values = np.asarray(values)
    weights = np.asarray(weights, dtype=np.float64)
    total = np.zeros(values.shape[1:])
    for model in range(values.shape[0]):
        if weights[model] != 0:
            total += weights[model] * values[model]
    return total


def normalise_weights(weights: NDArray) -> NDArray[np.float64]:
    """Weights divided by their sum, without overflow (1e308 + 1e308 is inf; 1 + 1 is not).

    >>> normalise_weights(np.array([1e308, 1e308]))
    array([0.5, 0.5])
    """
    weights = np.asarray(weights, dtype=np.float64)
    weights = weights / np.abs(weights).max()
    return weights / weights.sum()


def weighted_blend(values: NDArray, weights: NDArray, *, kind: metrics.Kind) -> NDArray[np.float64]:
    """The weighted mean of the models, shape (n_rows, n_cols).

    Weights are divided by their sum, so only ratios matter. With a negative weight (hill
    climbing may ask for one) probabilities can leave [0, 1]: they are clipped back, and class
    probabilities renormalised so that each row sums to 1. Label votes become vote shares.

    >>> values = np.array([[[0.2], [0.6]], [[0.8], [0.4]]])
    >>> weighted_blend(values, np.array([3.0, 1.0]), kind="binary")
    array([[0.35],
           [0.55]])
    """
    weights = normalise_weights(weights)
    blended = weighted_sum(values, weights)
    if kind in ("binary", "multiclass") and (weights < 0).any():
        np.clip(blended, _PROBABILITY_FLOOR, 1.0 - _PROBABILITY_FLOOR, out=blended)
        if kind == "multiclass":
            blended /= blended.sum(axis=1, keepdims=True)
    return blended


def cv_folds(
    y: NDArray,
    *,
    kind: metrics.Kind,
    folds: int = 5,
    random_state: int | None = None,
    rows: str = "OOF rows",
    option: str | None = "--cv",
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Shuffled (train rows, held-out rows) splits: stratified for classes, plain K-fold for regression.

    The same ``y``, ``folds`` and ``random_state`` always give the same splits, so every
    leaderboard entry is scored on the same folds.

    ``rows`` and ``option`` name the rows and the option that sets the folds in messages
    (``option=None``: the folds are fixed, so the fix is more rows).

    Raises
    ------
    BlendInputError
        When the rows (or, for classes, the rows of every class) are fewer than the folds.

    Examples
    --------
    >>> splits = cv_folds(np.array([0, 1, 0, 1, 0, 1]), kind="binary", folds=3, random_state=0)
    >>> sorted(np.concatenate([held_out for _, held_out in splits]).tolist())
    [0, 1, 2, 3, 4, 5]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    metrics.check_kind(kind)
    y = np.asarray(y)

    def fix(at_most: int) -> str:
        return f"lower {option} to at most {at_most}" if option else f"give more {rows} (at least {folds} per class)"

    if folds < 2:
        raise BlendInputError(f"{option or 'folds'} {folds}: cross-validation needs at least 2 folds.")
    if folds > y.shape[0]:
        raise BlendInputError(f"cannot split {y.shape[0]} {rows} into {folds} folds; {fix(y.shape[0])}.")
    if kind == "regression":
        splitter = KFold(folds, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros((y.shape[0], 1))))
    counts = np.unique(y, return_counts=True)[1]
    if counts.max() < folds:
        raise BlendInputError(
            f"every class has fewer {rows} than the {folds} folds (the largest has {counts.max()}); "
            f"{fix(counts.max())}."
        )
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        # A class rarer than the folds is left out of some folds; the split is still valid.
        warnings.simplefilter("ignore", UserWarning)
        return list(splitter.split(np.zeros((y.shape[0], 1)), y))

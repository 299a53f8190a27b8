"""Honest scores for blend methods: cross-validation over the out-of-fold rows.

A blend that learns (selection, Caruana, weights, stacking) scores better on the rows
it learned from than on new ones. :func:`cross_val_blend_score` splits the OOF rows
into folds, fits the method on all folds but one, predicts the held-out fold, and
scores the pooled predictions once (the "OOF of the OOF"): every row is predicted by a
blend that never saw it, and the score is on the same rows and scale as a single
model's OOF score, so :func:`leaderboard` can rank models and blends together.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import NDArray

from blender import metrics

# method(oof_train, y_train, oof_apply) -> predictions for the oof_apply rows.
Method = Callable[[NDArray, NDArray, NDArray], NDArray]


class LeaderboardRow(NamedTuple):
    """One line of :func:`leaderboard`."""

    name: str
    type: str  # "model" or "blend"
    score: float


def cv_folds(
    y: NDArray, *, kind: metrics.Kind, folds: int = 5, random_state: int | None = None
) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Shuffled (train rows, held-out rows) splits: stratified for classes, plain K-fold for regression.

    Examples
    --------
    >>> splits = cv_folds(np.array([0, 1, 0, 1, 0, 1]), kind="binary", folds=3, random_state=0)
    >>> sorted(np.concatenate([held_out for _, held_out in splits]).tolist())
    [0, 1, 2, 3, 4, 5]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    metrics.check_kind(kind)
    y = np.asarray(y)
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if folds > y.shape[0]:
        raise ValueError(f"cannot split {y.shape[0]} rows into {folds} folds")
    if kind == "regression":
        splitter = KFold(folds, shuffle=True, random_state=random_state)
    else:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros((y.shape[0], 1)), y))


def take_rows(predictions: NDArray, rows: NDArray, *, kind: metrics.Kind) -> NDArray:
    """The given rows of several models' predictions, keeping the layout."""
    predictions = np.asarray(predictions)
    return predictions[:, rows] if kind == "multiclass" else predictions[rows]


def _n_rows(predictions: NDArray, kind: str) -> int:
    return np.asarray(predictions).shape[1 if kind == "multiclass" else 0]


def _n_models(predictions: NDArray, kind: str) -> int:
    return np.asarray(predictions).shape[0 if kind == "multiclass" else 1]


def single_model(predictions: NDArray, index: int, *, kind: metrics.Kind) -> NDArray:
    """One model's prediction out of several: (n_samples,) or (n_samples, n_classes)."""
    predictions = np.asarray(predictions)
    return predictions[index] if kind == "multiclass" else predictions[:, index]


def model_scores(oof: NDArray, y: NDArray, *, kind: metrics.Kind, metric: metrics.Metric) -> NDArray[np.float64]:
    """Each model's score on all the rows, shape (n_models,)."""
    return np.array(
        [metrics.score(y, single_model(oof, j, kind=kind), metric=metric, kind=kind) for j in range(_n_models(oof, kind))]
    )


def cross_val_blend_score(
    method: Method,
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    cv: int = 5,
    random_state: int | None = None,
) -> float:
    """Cross-validated score of a blend method over the OOF rows.

    For each of ``cv`` folds (stratified for classes, seeded by ``random_state``) the
    method is fitted on the other folds' rows and predicts the held-out fold; the
    predictions of all folds are pooled and scored once with the metric.

    Parameters
    ----------
    method : callable
        ``method(oof_train, y_train, oof_apply)`` returns one prediction for the
        ``oof_apply`` rows, shape (n_apply,) or (n_apply, n_classes). Methods that do not
        learn (an average) ignore the first two arguments.
    oof : ndarray of shape (n_samples, n_models), or (n_models, n_samples, n_classes)
    y : ndarray of shape (n_samples,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
    cv : int, default=5
    random_state : int, default=None

    Returns
    -------
    float

    Examples
    --------
    The mean of two regression models, which learns nothing, scores as on all rows:

    >>> oof = np.array([[1.0, 3.0], [2.0, 2.0], [4.0, 2.0], [3.0, 5.0]])
    >>> mean = lambda train, y_train, apply: apply.mean(axis=1)
    >>> cross_val_blend_score(mean, oof, np.array([2.0, 2.0, 3.0, 4.0]), kind="regression",
    ...                       metric="mae", cv=2, random_state=0)
    0.0
    """
    metric = metrics.check_metric(metric, kind)
    pooled = cross_val_blend_predict(method, oof, y, kind=kind, cv=cv, random_state=random_state)
    return metrics.score(y, pooled, metric=metric, kind=kind)


def cross_val_blend_predict(
    method: Method,
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    cv: int = 5,
    random_state: int | None = None,
) -> NDArray:
    """The pooled held-out predictions that :func:`cross_val_blend_score` scores.

    Returns an array of shape (n_samples,) or (n_samples, n_classes): row i is predicted
    by the method fitted on the folds that do not hold row i.
    """
    y = np.asarray(y)
    if _n_rows(oof, kind) != y.shape[0]:
        raise ValueError(f"the OOF predictions have {_n_rows(oof, kind)} rows but y has {y.shape[0]}")
    pooled = None
    for train_rows, held_out in cv_folds(y, kind=kind, folds=cv, random_state=random_state):
        predicted = np.asarray(method(take_rows(oof, train_rows, kind=kind), y[train_rows], take_rows(oof, held_out, kind=kind)))
        if predicted.shape[0] != held_out.shape[0]:
            raise ValueError(f"the blend method returned {predicted.shape[0]} rows for {held_out.shape[0]}")
        if pooled is None:
            pooled = np.empty((y.shape[0],) + predicted.shape[1:], dtype=predicted.dtype)
        pooled[held_out] = predicted
    return pooled


def blend_methods(
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    *,
    max_corr: float = 0.95,
    caruana_init: int = 5,
    caruana_iters: int = 50,
    random_state: int | None = None,
) -> dict[str, Method]:
    """The blend methods that suit ``kind`` and ``metric``, by name, ready for cross-validation.

    ``best`` (the best single model on the training rows), ``average`` and ``geometric``
    (probabilities and values; geometric for probabilities only), ``rank-average``
    (only when the metric is AUC, the one metric that ranks measure), ``vote`` (labels),
    ``select`` (:func:`blender.selection.select_uncorrelated`, then the average or vote
    of the chosen), ``caruana``, ``weights`` (SLSQP), and ``stack-logreg`` and
    ``stack-ridge``.

    Examples
    --------
    >>> list(blend_methods("labels"))
    ['best', 'vote', 'select', 'caruana', 'weights', 'stack-logreg', 'stack-ridge']
    """
    metric = metrics.check_metric(metric, kind)
    better = metrics.greater_is_better(metric)

    def best(train, y_train, apply):
        scores = model_scores(train, y_train, kind=kind, metric=metric)
        return single_model(apply, int(np.argmax(scores) if better else np.argmin(scores)), kind=kind)

    def average(train, y_train, apply):
        from blender.averaging import average as mean

        return mean(apply, kind="arithmetic")

    def geometric(train, y_train, apply):
        from blender.averaging import average as mean

        return mean(apply, kind="geometric")

    def rank_average(train, y_train, apply):
        from blender.rank import rank_average as ranks

        return ranks(apply)

    def vote(train, y_train, apply):
        from blender.voting import vote as majority

        return majority(apply)

    def select(train, y_train, apply):
        from blender.correlation import correlation_matrix, label_agreement
        from blender.selection import select_uncorrelated
        from blender.weights import apply_weights

        corr = label_agreement(train) if kind == "labels" else correlation_matrix(train)
        chosen = select_uncorrelated(
            model_scores(train, y_train, kind=kind, metric=metric), corr, greater_is_better=better, max_corr=max_corr
        )
        weights = np.zeros(_n_models(train, kind))
        weights[chosen] = 1.0
        return apply_weights(apply, weights, kind=kind)

    def caruana(train, y_train, apply):
        from blender.caruana import caruana_select
        from blender.weights import apply_weights

        result = caruana_select(train, y_train, kind=kind, metric=metric, init=caruana_init, iters=caruana_iters,
                                random_state=random_state)
        return apply_weights(apply, result.weights, kind=kind)

    def weights(train, y_train, apply):
        from blender.weights import apply_weights, optimize_weights

        return apply_weights(apply, optimize_weights(train, y_train, kind=kind, metric=metric), kind=kind)

    def stacker(meta):
        def stacked(train, y_train, apply):
            from blender.stacking import fit_apply

            return fit_apply(train, y_train, apply, kind=kind, meta=meta, random_state=random_state)

        return stacked

    methods: dict[str, Method] = {"best": best}
    if kind != "labels":
        methods["average"] = average
    if kind in ("binary", "multiclass"):
        methods["geometric"] = geometric
    if metric == "auc":
        methods["rank-average"] = rank_average
    if kind == "labels":
        methods["vote"] = vote
    methods.update(select=select, caruana=caruana, weights=weights)
    methods["stack-logreg"] = stacker("logreg")
    methods["stack-ridge"] = stacker("ridge")
    return methods


def leaderboard(
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    names: list[str],
    cv: int = 5,
    random_state: int | None = None,
    methods: dict[str, Method] | None = None,
) -> list[LeaderboardRow]:
    """Every model's OOF score and every blend method's cross-validated score, best first.

    Models are scored on all OOF rows (nothing is fitted); blends by
    :func:`cross_val_blend_score`. Ties keep the models first, in file order, then the
    methods in order.

    Parameters
    ----------
    oof : ndarray of shape (n_samples, n_models), or (n_models, n_samples, n_classes)
    y : ndarray of shape (n_samples,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
    names : list of str
        One name per model, in the order of ``oof``.
    cv : int, default=5
    random_state : int, default=None
    methods : dict of str to callable, default=None
        None means :func:`blend_methods` for the kind and metric.

    Returns
    -------
    list of LeaderboardRow
        ``(name, type, score)`` with type ``"model"`` or ``"blend"``.

    Examples
    --------
    >>> oof = np.array([[1.0, 3.0], [2.0, 2.0], [4.0, 2.0], [3.0, 5.0]])
    >>> mean = lambda train, y_train, apply: apply.mean(axis=1)
    >>> leaderboard(oof, np.array([2.0, 2.0, 3.0, 4.0]), kind="regression", metric="mae",
    ...             names=["a", "b"], cv=2, random_state=0, methods={"mean": mean})
    [LeaderboardRow(name='mean', type='blend', score=0.0), LeaderboardRow(name='a', type='model', score=0.75), LeaderboardRow(name='b', type='model', score=0.75)]
    """
    metric = metrics.check_metric(metric, kind)
    if len(names) != _n_models(oof, kind):
        raise ValueError(f"got {len(names)} names for {_n_models(oof, kind)} models")
    if methods is None:
        methods = blend_methods(kind, metric, random_state=random_state)
    rows = [
        LeaderboardRow(name, "model", float(value))
        for name, value in zip(names, model_scores(oof, y, kind=kind, metric=metric))
    ]
    for name, method in methods.items():
        rows.append(LeaderboardRow(name, "blend", cross_val_blend_score(
            method, oof, y, kind=kind, metric=metric, cv=cv, random_state=random_state)))
    sign = -1.0 if metrics.greater_is_better(metric) else 1.0
    return sorted(rows, key=lambda row: sign * row.score)

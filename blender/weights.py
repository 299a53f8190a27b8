"""Weights on the simplex that optimise a metric on out-of-fold predictions.

:func:`optimize_weights` learns the weights; :func:`apply_weights` blends any set of
predictions with them (a weighted mean of probabilities or values, a weighted vote
of labels), so the same weights carry over from the OOF rows to the test rows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from blender import metrics

# SLSQP follows gradients; on a step function (accuracy, AUC) every numerical gradient
# is zero and it would stop at the start, so those metrics go to Nelder-Mead.
SMOOTH_METRICS = ("logloss", "rmse", "mae")
OPTIMIZERS = ("slsqp", "nelder-mead")


def normalise_weights(weights: NDArray | None, n_models: int) -> NDArray[np.float64]:
    """Return weights normalised to sum to 1 (uniform if None), or raise ValueError.

    Examples
    --------
    >>> normalise_weights(np.array([3, 1]), 2)
    array([0.75, 0.25])
    >>> normalise_weights(np.array([1, 1]), 3)
    Traceback (most recent call last):
    ...
    ValueError: got 2 weights for 3 models; give one weight per model
    """
    if weights is None:
        return np.full(n_models, 1.0 / n_models)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or weights.shape[0] != n_models:
        raise ValueError(f"got {weights.size} weights for {n_models} models; give one weight per model")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weights must be finite numbers")
    if np.any(weights < 0):
        raise ValueError(f"weights must not be negative, got {weights.min():g}")
    total = weights.sum()
    if total <= 0:
        raise ValueError("weights are all zero; give at least one positive weight")
    return weights / total


def apply_weights(predictions: NDArray, weights: NDArray | None, *, kind: metrics.Kind) -> NDArray:
    """Blend several models' predictions with weights.

    Parameters
    ----------
    predictions : ndarray of shape (n_samples, n_models), or (n_models, n_samples, n_classes)
        for multiclass.
    weights : ndarray of shape (n_models,), default=None
        Non-negative; normalised to sum to 1. None means uniform.
    kind : {"binary", "multiclass", "regression", "labels"}
        Labels get a weighted vote (:func:`blender.voting.vote`: a tie goes to the
        tied label of the first model that voted for one).

    Returns
    -------
    ndarray of shape (n_samples,), or (n_samples, n_classes) for multiclass

    Examples
    --------
    >>> apply_weights(np.array([[0.2, 0.6], [0.8, 0.4]]), np.array([3, 1]), kind="binary")
    array([0.3, 0.7])
    >>> apply_weights(np.array([["cat", "dog", "dog"]]), np.array([3, 1, 1]), kind="labels")
    array(['cat'], dtype='<U3')
    """
    metrics.check_kind(kind)
    predictions = np.asarray(predictions)
    n_models = predictions.shape[0] if kind == "multiclass" else predictions.shape[1]
    weights = normalise_weights(weights, n_models)
    if kind == "multiclass":
        return np.tensordot(weights, predictions.astype(np.float64, copy=False), axes=1)
    if kind == "labels":
        from blender.voting import vote

        return vote(predictions, weights=weights)
    return predictions.astype(np.float64, copy=False) @ weights


def one_hot(labels: NDArray, classes: NDArray | None = None) -> tuple[NDArray, NDArray[np.float64]]:
    """One-hot encode a (n_samples, n_models) label array as a (n_models, n_samples, n_classes) cube.

    ``classes`` defaults to the sorted distinct labels; labels not in ``classes`` get an
    all-zero row.
    """
    labels = np.asarray(labels)
    if classes is None:
        classes = np.unique(labels)
    encoded = np.stack([labels.T == label for label in classes], axis=-1)
    return np.asarray(classes), encoded.astype(np.float64)


def optimize_weights(
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    method: Literal["slsqp", "nelder-mead"] = "slsqp",
    random_state: int | None = None,
) -> NDArray[np.float64]:
    """Non-negative weights summing to 1 that optimise the metric on the OOF rows.

    Both optimisers start from uniform weights. ``"slsqp"`` searches the simplex
    directly (bounds [0, 1] and the constraint sum = 1); ``"nelder-mead"`` searches an
    unconstrained vector ``x`` mapped to the simplex as ``|x| / sum(|x|)``. Accuracy and
    AUC are step functions whose numerical gradient is zero, so SLSQP hands them to
    Nelder-Mead (see :data:`SMOOTH_METRICS`). RMSE is optimised as the MSE, which has
    the same optimum and a gradient at a perfect fit. If the optimiser ends worse than
    the uniform start, the uniform weights are returned.

    Parameters
    ----------
    oof : ndarray of shape (n_samples, n_models), or (n_models, n_samples, n_classes)
        Out-of-fold predictions, rows aligned with ``y``.
    y : ndarray of shape (n_samples,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        None means :func:`blender.metrics.default_metric` of the kind.
    method : {"slsqp", "nelder-mead"}, default="slsqp"
    random_state : int, default=None
        Accepted for symmetry with the other learners; both optimisers are deterministic.

    Returns
    -------
    ndarray of shape (n_models,)
        Non-negative, summing to 1.

    Raises
    ------
    ValueError
        For an unknown method, or a metric that does not suit the kind.

    See Also
    --------
    apply_weights : blend the test predictions with the weights.

    Examples
    --------
    >>> a = np.array([1.0, 2.0, 3.0, 4.0])
    >>> b = np.array([2.0, 0.0, 1.0, 3.0])
    >>> weights = optimize_weights(np.column_stack([a, b]), 0.3 * a + 0.7 * b,
    ...                            kind="regression", metric="rmse")
    >>> np.round(weights, 4)
    array([0.3, 0.7])
    """
    if method not in OPTIMIZERS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(OPTIMIZERS)}")
    metric = metrics.check_metric(metric, kind)
    loss, n_models = _objective(oof, y, kind=kind, metric=metric)
    uniform = np.full(n_models, 1.0 / n_models)
    if n_models == 1:
        return uniform

    from scipy.optimize import minimize

    if method == "slsqp" and metric in SMOOTH_METRICS:
        result = minimize(
            loss,
            uniform,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * n_models,
            constraints=[{"type": "eq", "fun": lambda weights: weights.sum() - 1.0}],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        weights = _to_simplex(result.x)
    else:
        result = minimize(
            lambda x: loss(_to_simplex(x)),
            uniform,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 400 * n_models, "adaptive": n_models > 3},
        )
        weights = _to_simplex(result.x)
    return weights if loss(weights) <= loss(uniform) else uniform


def _to_simplex(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map any vector to non-negative weights summing to 1 (uniform if it is all zero)."""
    magnitude = np.abs(x)
    total = magnitude.sum()
    if not np.isfinite(total) or total == 0:
        return np.full(x.shape[0], 1.0 / x.shape[0])
    return magnitude / total


def _objective(oof: NDArray, y: NDArray, *, kind: str, metric: str):
    """A loss of the weights (smaller is better), and the number of models."""
    oof = np.asarray(oof)
    y = np.asarray(y)
    if kind == "labels":
        classes, cube = one_hot(oof, np.unique(np.concatenate([np.unique(y), np.unique(oof)])))
        oof, y, kind = cube, np.searchsorted(classes, y), "multiclass"
    oof = oof.astype(np.float64, copy=False)
    n_models = oof.shape[0] if kind == "multiclass" else oof.shape[1]
    if metric == "logloss":
        # Only the probability of the true class matters, and it blends linearly.
        truth = metrics.true_class_probability(y, oof, kind=kind)

        def loss(weights):
            return -np.mean(np.log(np.clip(truth @ weights, metrics.EPSILON, 1 - metrics.EPSILON)))

    elif metric == "rmse":

        def loss(weights):
            return np.mean((oof @ weights - y) ** 2)

    else:
        sign = -1.0 if metrics.greater_is_better(metric) else 1.0

        def loss(weights):
            blended = np.tensordot(weights, oof, axes=1) if kind == "multiclass" else oof @ weights
            return sign * metrics.score(y, blended, metric=metric, kind=kind)

    return loss, n_models

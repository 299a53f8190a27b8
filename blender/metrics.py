"""Scores of one prediction against the truth: accuracy, log loss, AUC, RMSE, MAE.

Every metric is written with numpy alone and agrees with its scikit-learn namesake
(``accuracy_score``, ``log_loss``, ``roc_auc_score``, ``root_mean_squared_error``,
``mean_absolute_error``) to 1e-9; ``tests/test_metrics.py`` pins that. The AUC helper
:func:`auc_rows` scores many candidate columns with one sort, which is what makes
Caruana selection fast.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

METRICS = ("accuracy", "logloss", "auc", "rmse", "mae")
KINDS = ("binary", "multiclass", "regression", "labels")

Metric = Literal["accuracy", "logloss", "auc", "rmse", "mae"]
Kind = Literal["binary", "multiclass", "regression", "labels"]

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, so that one
# confident mistake costs about 34.5 nats instead of infinity.
EPSILON = 1e-15

# Which metric suits which kind of prediction, and why the others do not.
_SUITS = {
    "accuracy": ("binary", "multiclass", "labels"),
    "logloss": ("binary", "multiclass"),
    "auc": ("binary", "multiclass"),
    "rmse": ("regression", "binary"),
    "mae": ("regression", "binary"),
}
_WHY_NOT = {
    ("accuracy", "regression"): "accuracy needs classes; use rmse or mae for regression",
    ("logloss", "labels"): "logloss needs probabilities; labels only support accuracy",
    ("logloss", "regression"): "logloss needs probabilities; use rmse or mae for regression",
    ("auc", "labels"): "auc needs probabilities; labels only support accuracy",
    ("auc", "regression"): "auc needs probabilities; use rmse or mae for regression",
    ("rmse", "labels"): "rmse needs numbers; labels only support accuracy",
    ("mae", "labels"): "mae needs numbers; labels only support accuracy",
    ("rmse", "multiclass"): "rmse is not defined for class probabilities; use logloss, accuracy or auc",
    ("mae", "multiclass"): "mae is not defined for class probabilities; use logloss, accuracy or auc",
}


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is one of :data:`KINDS`, else raise ValueError."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def default_metric(kind: Kind) -> str:
    """The metric used when none is given.

    Log loss for probabilities (binary and multiclass), accuracy for labels, RMSE for
    regression.

    Examples
    --------
    >>> default_metric("binary"), default_metric("labels"), default_metric("regression")
    ('logloss', 'accuracy', 'rmse')
    """
    check_kind(kind)
    return {"binary": "logloss", "multiclass": "logloss", "labels": "accuracy", "regression": "rmse"}[kind]


def check_metric(metric: str | None, kind: Kind) -> str:
    """Return the metric to use for ``kind``: ``metric`` if it suits, the default if None.

    Raises
    ------
    ValueError
        If the metric is unknown or does not suit the kind (log loss on labels, say).

    Examples
    --------
    >>> check_metric(None, "multiclass")
    'logloss'
    >>> check_metric("logloss", "labels")
    Traceback (most recent call last):
    ...
    ValueError: logloss needs probabilities; labels only support accuracy
    """
    check_kind(kind)
    if metric is None:
        return default_metric(kind)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if kind not in _SUITS[metric]:
        raise ValueError(_WHY_NOT[(metric, kind)])
    return metric


def greater_is_better(metric: Metric) -> bool:
    """True for accuracy and AUC, False for the losses (logloss, rmse, mae).

    Examples
    --------
    >>> greater_is_better("auc"), greater_is_better("logloss")
    (True, False)
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric in ("accuracy", "auc")


def score(y_true: NDArray, y_pred: NDArray, *, metric: Metric, kind: Kind) -> float:
    """Score one model's predictions against the truth.

    Binary probabilities are P(class 1) and count as class 1 above 0.5 (exactly 0.5 is
    class 0, as ``argmax`` of ``[1 - p, p]`` gives); class probabilities count as their
    argmax (the first class on a tie). Log loss clips probabilities to
    ``[1e-15, 1 - 1e-15]``. AUC on class probabilities is the one-vs-rest macro average.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        0/1 for binary, class indices for multiclass, labels for labels, floats for
        regression.
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        One model's prediction; (n_samples, n_classes) for multiclass only.
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}
    kind : {"binary", "multiclass", "regression", "labels"}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the metric is unknown or does not suit the kind, or the shapes disagree.

    See Also
    --------
    greater_is_better : which direction is better.

    Examples
    --------
    >>> y = np.array([0, 1, 1, 0])
    >>> p = np.array([0.2, 0.6, 0.4, 0.1])
    >>> score(y, p, metric="accuracy", kind="binary")
    0.75
    >>> score(y, p, metric="auc", kind="binary")
    1.0
    >>> round(score(y, p, metric="logloss", kind="binary"), 4)
    0.4389
    """
    metric = check_metric(metric, kind)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    _check_shapes(y_true, y_pred, kind)
    if kind == "labels":
        # Votes (n_samples, n_classes) count as their argmax: the first class on a tie.
        predicted = np.argmax(y_pred, axis=1) if y_pred.ndim == 2 else y_pred
        return float(np.mean(y_true == predicted))
    y_pred = y_pred.astype(np.float64, copy=False)
    if metric == "rmse":
        return float(np.sqrt(np.mean((y_pred - y_true) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(y_pred - y_true)))
    if metric == "accuracy":
        predicted = y_pred > 0.5 if kind == "binary" else np.argmax(y_pred, axis=1)
        return float(np.mean(predicted == y_true))
    if metric == "logloss":
        return float(-np.mean(np.log(np.clip(true_class_probability(y_true, y_pred, kind=kind), EPSILON, 1 - EPSILON))))
    # AUC.
    if kind == "binary":
        return float(auc_rows(y_true == 1, y_pred[None, :])[0])
    return float(np.mean([auc_rows(y_true == c, y_pred[None, :, c])[0] for c in range(y_pred.shape[1])]))


def true_class_probability(y_true: NDArray, y_pred: NDArray, *, kind: Kind) -> NDArray[np.float64]:
    """The probability each prediction gives to the true class.

    Log loss depends on nothing else, and this is linear in the prediction, so the mean
    of the members' true-class probabilities is the ensemble's true-class probability.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_models) for binary, or
        (n_samples, n_classes) or (n_models, n_samples, n_classes) for multiclass.

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_models)

    Examples
    --------
    >>> true_class_probability(np.array([0, 1]), np.array([0.2, 0.7]), kind="binary")
    array([0.8, 0.7])
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if kind == "binary":
        positive = (y_true == 1).reshape((-1,) + (1,) * (y_pred.ndim - 1))
        return np.where(positive, y_pred, 1.0 - y_pred)
    if kind == "multiclass":
        rows = np.arange(y_true.shape[0])
        if y_pred.ndim == 2:
            return y_pred[rows, y_true]
        return y_pred[:, rows, y_true].T
    raise ValueError(f"true-class probabilities need binary or multiclass predictions, not {kind}")


def _check_shapes(y_true: NDArray, y_pred: NDArray, kind: str) -> None:
    """Raise ValueError unless one prediction of ``kind`` matches the truth."""
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got shape {y_true.shape}")
    expected_ndim = 2 if kind == "multiclass" else 1
    if y_pred.ndim != expected_ndim and not (kind == "labels" and y_pred.ndim == 2):
        raise ValueError(
            f"a {kind} prediction must have {expected_ndim} dimension(s), got shape {y_pred.shape}"
        )
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} rows but the prediction has {y_pred.shape[0]}")
    if y_true.shape[0] == 0:
        raise ValueError("cannot score zero rows")
    if kind == "multiclass":
        n_classes = y_pred.shape[1]
        if np.any((y_true < 0) | (y_true >= n_classes)):
            raise ValueError(f"multiclass y_true must hold class indices 0..{n_classes - 1}")


# Rows at least this long are sorted by _sort_keys_by_bucket, shorter ones by np.sort.
_BUCKET_SORT_MIN = 4096


def _sort_keys_by_bucket(values: NDArray[np.float64], negative: NDArray[np.bool_]) -> None:
    """Turn one row of values in [0, 2) into sorted keys ``bits << 1 | negative``, in place.

    The same result as ``np.sort`` of the keys, about three times faster on large rows: a radix
    sort (NumPy's stable sort of 16-bit integers) by 65,536 equal-width buckets of the value,
    then a stable sort (timsort) of keys that are already sorted but for a few within each
    bucket, which it finishes in nearly one pass.
    """
    low, high = float(values.min()), float(values.max())
    scale = 65535.0 / (high - low) if high > low else 0.0
    buckets = ((values - low) * scale).astype(np.uint16)
    keys = values.view(np.int64)
    keys <<= 1
    keys |= negative
    keys[:] = np.sort(keys[np.argsort(buckets, kind="stable")], kind="stable")


def auc_rows(
    positive: NDArray[np.bool_],
    values: NDArray[np.float64],
    *,
    overwrite: bool = False,
    scratch: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """ROC AUC of every row of ``values`` (shape (n_candidates, n_samples)) at once.

    Mann-Whitney: AUC = (rank sum of the positives - n_pos (n_pos + 1) / 2) / (n_pos n_neg),
    with tied values sharing their average rank, which is what the trapezoids of
    ``roc_auc_score`` give. For values in [0, 2) (all probabilities and their means) the
    float's bits sort like the float, so one integer sort per row of (bits << 1 | label)
    orders the values and carries the labels along: no argsort, no gather.

    ``overwrite=True`` lets the function sort in the memory of ``values`` (a C-contiguous
    float64 array), and ``scratch``, a float64 array of the same shape, saves another
    allocation; Caruana selection passes both on every iteration.
    """
    positive = np.asarray(positive, dtype=bool)
    if not (overwrite and values.dtype == np.float64 and values.flags.c_contiguous):
        values = np.array(values, dtype=np.float64, order="C")
    n_samples = positive.shape[0]
    n_pos = int(positive.sum())
    n_neg = n_samples - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("auc is undefined when y_true holds only one class")
    keys = values.view(np.int64)
    if values.size and keys.min() >= 0 and keys.max() < (1 << 62):
        if n_samples < _BUCKET_SORT_MIN:
            keys <<= 1
            keys |= ~positive  # negatives get the low bit, so positives sort first on a tie
            keys.sort(axis=1)
        else:
            for row in range(keys.shape[0]):
                _sort_keys_by_bucket(values[row], ~positive)
        if scratch is None:
            scratch = np.empty(keys.shape)
        negative_sorted = np.bitwise_and(keys, 1, out=scratch, casting="unsafe")
        positions = np.arange(1, n_samples + 1, dtype=np.float64)
        # einsum, not @: a matrix-vector product would start BLAS threads for a one-pass sum.
        rank_sum = positions.sum() - np.einsum("ij,j->i", negative_sorted, positions)
        # Equal values differ at most in the label bit.
        tied = np.bitwise_xor(keys[:, 1:], keys[:, :-1]) < 2
        tied_rows = np.flatnonzero(tied.any(axis=1))
        if tied_rows.size:
            # Each position's average rank is the middle of its run of equal values.
            tied = tied[tied_rows]
            index = np.arange(n_samples)
            starts = np.ones((tied_rows.size, n_samples), dtype=bool)
            starts[:, 1:] = ~tied
            first = np.maximum.accumulate(np.where(starts, index, 0), axis=1)
            ends = np.ones((tied_rows.size, n_samples), dtype=bool)
            ends[:, :-1] = ~tied
            last = np.minimum.accumulate(np.where(ends, index, n_samples)[:, ::-1], axis=1)[:, ::-1]
            average_rank = (first + last) / 2.0 + 1.0
            rank_sum[tied_rows] = ((1 - negative_sorted[tied_rows]) * average_rank).sum(axis=1)
    else:
        from scipy.stats import rankdata

        rank_sum = rankdata(values, axis=1)[:, positive].sum(axis=1)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)

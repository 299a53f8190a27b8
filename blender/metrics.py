"""The metric registry: every metric defined once, with its direction, the kinds it suits and its decision step.

A competition scores either the predictions themselves (log loss, AUC, RMSE) or the decisions
made from them (F1 at a threshold, quadratic weighted kappa after cut-points, the top three
labels for MAP@3). Each :class:`Entry` of :data:`REGISTRY` says which, and :class:`Metric`, the
metric resolved for one kind of prediction (``resolve``), carries the step that turns scores into
decisions (:mod:`blender.steps`). Three scores follow from one definition:

- :meth:`Metric.score`: the predictions as they stand, through the *plain* step (0.5, the
  argmax, rounding to the nearest class): what scikit-learn gives for them;
- :meth:`Metric.fitted`: the step fitted on the same rows first (a threshold, cut-points):
  optimistic, what Caruana selection, hill climbing and the pick of the best file compare;
- :meth:`Metric.held_out`: the step fitted on some rows, the score on others: what every
  printed CV score uses (:mod:`blender.evaluation`), so that no step flatters it.

Every built-in equals its scikit-learn counterpart to 1e-9 (``tests/test_metrics.py`` pins it);
map@K and smape, which scikit-learn lacks, follow the definitions in their docstrings. A resolved
metric is a ``str``, its name, so that it prints, compares and is logged as the name wherever it
travels, with its entry and options attached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender import arrays, steps
from blender.arrays import Array

KINDS = ("binary", "multiclass", "regression", "labels")
Kind = Literal["binary", "multiclass", "regression", "labels"]

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, so that one
# confident mistake costs about 34.5 nats instead of infinity.
EPSILON = 1e-15
# The largest K of map@K.
MAX_K = 10

_PROBABILITIES = ("binary", "multiclass")
_CLASSES = ("binary", "multiclass", "labels")


# ---------------------------------------------------------------------------- the definitions
#
# Each takes the truth ``y`` (0/1 for binary, the class index or place for classes, floats for
# regression) and ``pred`` with the rows on the last axis (binary, regression, decisions) or the
# second to last (class probabilities); leading axes are candidate blends, scored at once.
#
# Those marked ``array_api`` in the registry also take ``xp``, the array namespace ``y`` and ``pred``
# live in (NumPy, CuPy, array-api-strict), and use only the Python array API standard (2023.12) with
# it: they are the definitions on every device. A NumPy fast path (AUC's bit sort, balanced log
# loss's grouped logs, the confusion matrix by bincount) computes the same numbers where xp is NumPy;
# tests/test_array_api.py checks each definition through array-api-strict against NumPy's.


def _true_class(xp: ModuleType, y: Array, pred: Array, kind: str) -> Array:
    """The probability each prediction gives to the true class, rows last: shape ``pred.shape[:-1]`` for
    class probabilities (..., n_rows, n_classes), ``pred.shape`` for binary ones (..., n_rows)."""
    if kind == "binary":
        return xp.where(y == 1, pred, 1.0 - pred)
    if kind == "multiclass":
        if arrays.is_numpy(xp):
            return pred[..., np.arange(y.shape[0]), y]
        n_rows, n_classes = pred.shape[-2], pred.shape[-1]
        flat = xp.reshape(pred, pred.shape[:-2] + (n_rows * n_classes,))
        places = xp.arange(n_rows, dtype=xp.int64) * n_classes + xp.astype(y, xp.int64)
        return xp.take(flat, places, axis=-1)
    raise ValueError(f"true-class probabilities need binary or multiclass predictions, not {kind}")


def _logloss(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    probability = _true_class(xp, y, arrays.as_float64(xp, pred), kind)
    return -xp.mean(xp.log(xp.clip(probability, EPSILON, 1 - EPSILON)), axis=-1)


def _balanced_logloss(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Each class's mean log loss, averaged over the classes present (Kaggle's balanced log loss)."""
    if arrays.is_numpy(xp):
        return _balanced_logloss_numpy(y, pred, kind)
    logs = xp.log(xp.clip(_true_class(xp, y, arrays.as_float64(xp, pred), kind), EPSILON, 1 - EPSILON))
    zero = xp.zeros_like(logs)
    means = []
    # The classes present: a few numbers the loop runs over, on the host.
    for c in np.unique(arrays.to_numpy(y)).tolist():
        chosen = y == c
        means.append(xp.sum(xp.where(chosen, logs, zero), axis=-1) / -float(arrays.count(xp, chosen)))
    return xp.mean(xp.stack(means), axis=0)


def _balanced_logloss_numpy(y: NDArray, pred: NDArray, kind: str) -> NDArray[np.float64]:
    """:func:`_balanced_logloss` in NumPy, one gather and one sum of logs per class."""
    from blender.kernels import sum_logs

    y = np.asarray(y)
    pred = np.asarray(pred, dtype=np.float64)
    present, counts = np.unique(y, return_counts=True)
    # The true-class probabilities grouped by class (one gather), clipped, and each class's logs
    # summed at once (sum_logs: one log per 16 probabilities, within 2e-15 of each).
    order = np.argsort(y, kind="stable")
    if kind == "binary":
        shape = pred.shape[:-1]
        grouped = pred.reshape(-1, pred.shape[-1])[:, order]
    else:
        # true_class_probability's pred[..., rows, y], the rows taken in class order.
        grouped = pred[..., order, y[order]]
        shape = grouped.shape[:-1]
        grouped = grouped.reshape(-1, grouped.shape[-1])
    ends = np.cumsum(counts)
    means = []
    for c, end, count in zip(present, ends, counts):
        values = grouped[:, end - count : end]
        if kind == "binary" and c != 1:
            np.subtract(1.0, values, out=values)
        np.clip(values, EPSILON, 1 - EPSILON, out=values)
        means.append(sum_logs(values) / -float(count))
    return np.asarray(np.mean(means, axis=0).reshape(shape)[()])


def _auc(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    pred = arrays.as_float64(xp, pred)
    if kind == "binary":
        rows = xp.reshape(pred, (-1, pred.shape[-1]))
        return xp.reshape(_auc_rows(xp, y == 1, rows), pred.shape[:-1])
    return _auc_ovr(y, pred, kind, xp=xp)


def _auc_ovr(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    pred = arrays.as_float64(xp, pred)
    n_rows, n_classes = pred.shape[-2], pred.shape[-1]
    rows = xp.reshape(pred, (-1, n_rows, n_classes))
    scores = xp.mean(xp.stack([_auc_rows(xp, y == c, rows[:, :, c]) for c in range(n_classes)]), axis=0)
    return xp.reshape(scores, pred.shape[:-2])


def _gini(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    return 2.0 * _auc(y, pred, kind, xp=xp) - 1.0


def _brier(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    return xp.mean((arrays.as_float64(xp, pred) - arrays.as_float64(xp, y)) ** 2, axis=-1)


def _average_precision(y: NDArray, pred: NDArray, kind: str) -> NDArray[np.float64]:
    """scikit-learn's average precision: sum over the distinct thresholds of (R_n - R_{n-1}) P_n."""
    pred = np.asarray(pred, dtype=np.float64)
    positive = np.asarray(y) == 1
    n_pos = int(positive.sum())
    rows = pred.reshape(-1, pred.shape[-1])
    result = np.empty(rows.shape[0])
    keys = rows.view(np.int64)
    if n_pos and rows.size and keys.min() >= 0 and keys.max() < (1 << 62):
        # Values in [0, 2): their bits sort like them, and (bits << 1 | hit) sorts the rows and carries
        # their labels in one integer sort. Each positive adds precision at the end of its run of
        # equal values (the run's hits are the recall step there): sum(hit * precision) / n_pos.
        keys = keys << 1
        keys |= positive
        np.invert(keys, out=keys)  # an increasing sort of ~key is a decreasing sort of the values
        keys.sort(axis=1)
        hits = 1.0 - (keys & 1)
        precision = np.cumsum(hits, axis=1)
        precision /= np.arange(1.0, rows.shape[1] + 1.0)
        ties = np.bitwise_xor(keys[:, 1:], keys[:, :-1]) < 2  # equal values differ at most in the label bit
        for row in np.flatnonzero(ties.any(axis=1)):
            # The precision at the last row of each run of equal values, for every row of the run.
            ends = np.ones(rows.shape[1], dtype=bool)
            ends[:-1] = ~ties[row]
            last = np.minimum.accumulate(np.where(ends, np.arange(rows.shape[1]), rows.shape[1])[::-1])[::-1]
            precision[row] = precision[row][last]
        return np.asarray((np.einsum("ij,ij->i", hits, precision) / n_pos).reshape(pred.shape[:-1]))
    for index, candidate in enumerate(rows):
        order = np.argsort(-candidate, kind="stable")
        ordered, hits = candidate[order], positive[order]
        last = np.r_[ordered[1:] != ordered[:-1], True]  # the last row of each run of equal values
        tp = np.cumsum(hits)[last].astype(np.float64)
        called = np.flatnonzero(last) + 1.0
        if n_pos == 0:
            result[index] = 0.0
            continue
        precision, recall = tp / called, tp / n_pos
        result[index] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return result.reshape(pred.shape[:-1])


def _binary_decisions(name: str) -> Callable[..., Array]:
    def score(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
        return steps.from_counts(name, *steps.binary_counts(y, decided))

    return score


def _confusions(xp: ModuleType, y: Array, decided: Array) -> Array:
    """Confusion matrices (..., n_classes, n_classes) over the classes 0..max seen, truth on the rows."""
    n_classes = 1 + max(int(xp.max(y)) if y.shape[0] else 0, int(xp.max(decided)) if decided.shape[-1] else 0, 0)
    if arrays.is_numpy(xp):
        # One bincount over (candidate, truth, decision) codes.
        y, decided = np.asarray(y, dtype=np.int64), np.asarray(decided, dtype=np.int64)
        flat = decided.reshape(-1, decided.shape[-1])
        offsets = np.arange(flat.shape[0])[:, None] * n_classes * n_classes
        codes = (offsets + y * n_classes + flat).ravel()
        counts = np.bincount(codes, minlength=flat.shape[0] * n_classes * n_classes)
        return counts.reshape(decided.shape[:-1] + (n_classes, n_classes)).astype(np.float64)
    # One-hot truth (n_rows, n_classes) against one-hot decisions (..., n_rows, n_classes): whole counts, exact.
    classes = xp.arange(n_classes, dtype=xp.int64)
    truth = xp.astype(xp.reshape(xp.astype(y, xp.int64), (-1, 1)) == classes, xp.float64)
    chosen = xp.astype(xp.astype(decided, xp.int64)[..., None] == classes, xp.float64)
    return xp.matmul(xp.matrix_transpose(truth), chosen)


def _accuracy(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
    return xp.mean(xp.astype(decided == y, xp.float64), axis=-1)


def _per_class(xp: ModuleType, confusion: Array) -> tuple[Array, Array, Array, Array]:
    """True positives, predicted and true counts per class, and which classes appear at all."""
    tp = xp.sum(confusion * xp.eye(confusion.shape[-1], dtype=xp.float64), axis=-1)
    predicted, true = xp.sum(confusion, axis=-2), xp.sum(confusion, axis=-1)
    return tp, predicted, true, (predicted + true) > 0


def _balanced_accuracy(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """The mean recall over the classes present in the truth (scikit-learn's ``balanced_accuracy_score``)."""
    tp, _, true, _ = _per_class(xp, _confusions(xp, y, decided))
    present = xp.astype(true > 0, xp.float64)
    return xp.sum(arrays.divide(xp, tp, true), axis=-1) / xp.sum(present, axis=-1)


def _f1_per_class(xp: ModuleType, y: Array, decided: Array) -> tuple[Array, Array, Array]:
    tp, predicted, true, present = _per_class(xp, _confusions(xp, y, decided))
    return arrays.divide(xp, 2 * tp, predicted + true), true, xp.astype(present, xp.float64)


def _f1_macro(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """The mean F1 over the classes in the truth or the predictions (scikit-learn's ``average="macro"``)."""
    f1, _, present = _f1_per_class(xp, y, decided)
    return xp.sum(f1 * present, axis=-1) / xp.sum(present, axis=-1)


def _f1_weighted(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Each class's F1 weighted by its count in the truth (scikit-learn's ``average="weighted"``)."""
    f1, true, _ = _f1_per_class(xp, y, decided)
    return xp.sum(f1 * true, axis=-1) / xp.sum(true, axis=-1)


def _mcc(y: Array, decided: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Matthews correlation from the confusion matrix, 0 where it is undefined (scikit-learn's formula)."""
    confusion = _confusions(xp, y, decided)
    tp, predicted, true, _ = _per_class(xp, confusion)
    n = xp.sum(confusion, axis=(-2, -1))
    correct = xp.sum(tp, axis=-1)
    cov_true_pred = correct * n - xp.sum(true * predicted, axis=-1)
    cov_pred = n * n - xp.sum(predicted * predicted, axis=-1)
    cov_true = n * n - xp.sum(true * true, axis=-1)
    return arrays.divide(xp, cov_true_pred, xp.sqrt(cov_pred * cov_true))


def _qwk(y: NDArray, decided: NDArray, kind: str) -> NDArray[np.float64]:
    """Quadratic weighted kappa as scikit-learn's ``cohen_kappa_score(weights="quadratic")``.

    The classes are those in the truth or the decisions, in order, and the weight of a pair is
    the squared distance of their places among them: ``1 - sum(W * O) / sum(W * E)``, with O the
    confusion counts and E the counts expected from the two margins alone. NaN where the truth
    and the decisions are one and the same class (scikit-learn's 0 / 0).
    """
    confusion = _confusions(np, np.asarray(y), np.asarray(decided))
    present = (confusion.sum(axis=-1) + confusion.sum(axis=-2)) > 0
    places = np.cumsum(present, axis=-1) - 1
    weights = (places[..., :, None] - places[..., None, :]) ** 2.0
    n = confusion.sum(axis=(-2, -1))
    expected = confusion.sum(axis=-1)[..., :, None] * confusion.sum(axis=-2)[..., None, :] / n[..., None, None]
    observed_sum = np.sum(weights * confusion, axis=(-2, -1))
    expected_sum = np.sum(weights * expected, axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1.0 - observed_sum / expected_sum)


def _map_at(k: int) -> Callable[..., NDArray[np.float64]]:
    def score(y: NDArray, pred: NDArray, kind: str) -> NDArray[np.float64]:
        """Mean average precision at k with one true label: 1 / (its rank) within the first k, else 0.

        The rank counts the classes more probable than the true one, and those as probable that
        come before it in the class order (ties go to the class order, as a stable sort gives).
        """
        pred = np.asarray(pred, dtype=np.float64)
        y = np.asarray(y)
        if pred.shape[-1] < k:
            raise ValueError(f"map@{k} needs at least {k} classes, the predictions have {pred.shape[-1]}")
        rows = np.arange(y.shape[0])
        true = pred[..., rows, y][..., None]
        before = np.arange(pred.shape[-1]) < y[:, None]
        rank = np.sum(pred > true, axis=-1) + np.sum((pred == true) & before, axis=-1)
        return np.asarray(np.mean(np.where(rank < k, 1.0 / (rank + 1.0), 0.0), axis=-1))

    return score


def _rmse(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    return xp.sqrt(xp.mean((arrays.as_float64(xp, pred) - arrays.as_float64(xp, y)) ** 2, axis=-1))


def _mae(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    return xp.mean(xp.abs(arrays.as_float64(xp, pred) - arrays.as_float64(xp, y)), axis=-1)


def _rmsle(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Root mean squared log error, ``sqrt(mean((log1p(pred) - log1p(y))**2))``, predictions clipped at 0."""
    y = arrays.as_float64(xp, y)
    if bool(xp.any(y < 0)):
        raise ValueError("rmsle needs a truth of 0 or more")
    pred = xp.clip(arrays.as_float64(xp, pred), min=0.0)
    return xp.sqrt(xp.mean((xp.log1p(pred) - xp.log1p(y)) ** 2, axis=-1))


def _mape(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Mean absolute percentage error as a fraction, ``|y - pred| / max(|y|, eps)`` (scikit-learn's)."""
    y = arrays.as_float64(xp, y)
    floor = xp.clip(xp.abs(y), min=float(np.finfo(np.float64).eps))
    return xp.mean(xp.abs(arrays.as_float64(xp, pred) - y) / floor, axis=-1)


def _smape(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Symmetric MAPE as a fraction in [0, 2]: ``2 |pred - y| / (|y| + |pred|)``, 0 where both are 0."""
    y, pred = arrays.as_float64(xp, y), arrays.as_float64(xp, pred)
    denominator = xp.abs(y) + xp.abs(pred)
    # Where it is 0 so is the numerator: dividing by 1 there gives the 0, with one pass fewer than divide().
    denominator = xp.where(denominator > 0, denominator, xp.ones_like(denominator))
    return xp.mean(2.0 * xp.abs(pred - y) / denominator, axis=-1)


def _r2(y: Array, pred: Array, kind: str, *, xp: ModuleType = np) -> Array:
    """Coefficient of determination as scikit-learn's ``r2_score``: 1 for a perfect fit of a constant truth, else 0
    there."""
    y = arrays.as_float64(xp, y)
    residual = xp.mean((arrays.as_float64(xp, pred) - y) ** 2, axis=-1)
    total = float(xp.mean((y - xp.mean(y)) ** 2))
    if total == 0:
        return xp.astype(residual == 0, xp.float64)
    return 1.0 - residual / total


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Entry:
    """One metric, defined once.

    ``needs`` is ``"scores"`` for a metric of the predictions themselves and ``"decisions"``
    for one of the decisions made from them. ``surrogate`` names the smooth metric the weight
    optimiser fits instead of one whose steps are flat (it is then judged by this one).
    ``summary`` is the line ``--help`` and the README show. ``array_api``: ``function`` takes ``xp=``,
    the namespace its arrays live in, and uses only the array API standard with it (any device);
    otherwise it takes NumPy arrays.
    """

    name: str
    kinds: tuple[str, ...]
    greater_is_better: bool
    function: Callable[..., Any] | None
    needs: str
    summary: str
    surrogate: str | None = None
    array_api: bool = False


_ENTRIES = (
    Entry(
        "logloss",
        _PROBABILITIES,
        False,
        _logloss,
        "scores",
        "log loss, probabilities clipped to [1e-15, 1 - 1e-15]",
        array_api=True,
    ),
    Entry(
        "balanced_logloss",
        _PROBABILITIES,
        False,
        _balanced_logloss,
        "scores",
        "each class's mean log loss, averaged over the classes",
        array_api=True,
    ),
    Entry(
        "auc", _PROBABILITIES, True, _auc, "scores", "ROC AUC (class probabilities: one-vs-rest macro)", array_api=True
    ),
    Entry("auc_ovr", ("multiclass",), True, _auc_ovr, "scores", "one-vs-rest ROC AUC, macro average", array_api=True),
    Entry("gini", ("binary",), True, _gini, "scores", "2 AUC - 1", array_api=True),
    Entry(
        "average_precision", ("binary",), True, _average_precision, "scores", "area under the precision-recall steps"
    ),
    Entry("brier", ("binary",), False, _brier, "scores", "mean squared error of the probability", array_api=True),
    Entry(
        "accuracy", _CLASSES, True, _accuracy, "decisions", "share of rows right", surrogate="logloss", array_api=True
    ),
    Entry(
        "balanced_accuracy",
        _CLASSES,
        True,
        _balanced_accuracy,
        "decisions",
        "mean recall over the classes",
        surrogate="balanced_logloss",
        array_api=True,
    ),
    Entry(
        "f1",
        ("binary",),
        True,
        _binary_decisions("f1"),
        "decisions",
        "F1 of the positive class",
        surrogate="logloss",
        array_api=True,
    ),
    Entry(
        "f1_macro",
        ("multiclass", "labels"),
        True,
        _f1_macro,
        "decisions",
        "mean F1 over the classes",
        surrogate="logloss",
        array_api=True,
    ),
    Entry(
        "f1_weighted",
        ("multiclass", "labels"),
        True,
        _f1_weighted,
        "decisions",
        "F1 per class weighted by its count",
        surrogate="logloss",
        array_api=True,
    ),
    Entry(
        "mcc",
        _CLASSES,
        True,
        _mcc,
        "decisions",
        "Matthews correlation coefficient",
        surrogate="logloss",
        array_api=True,
    ),
    Entry(
        "qwk",
        ("multiclass", "regression", "labels"),
        True,
        _qwk,
        "decisions",
        "quadratic weighted kappa over the ordered classes",
        surrogate="rmse",
    ),
    Entry(
        "map@K",
        ("multiclass",),
        True,
        None,
        "scores",
        "mean average precision of the top K classes (K = 1..10)",
        surrogate="logloss",
    ),
    Entry("rmse", ("regression", "binary"), False, _rmse, "scores", "root mean squared error", array_api=True),
    Entry("mae", ("regression", "binary"), False, _mae, "scores", "mean absolute error", array_api=True),
    Entry(
        "rmsle",
        ("regression",),
        False,
        _rmsle,
        "scores",
        "root mean squared log error, predictions clipped at 0",
        array_api=True,
    ),
    Entry(
        "mape", ("regression",), False, _mape, "scores", "mean absolute percentage error, as a fraction", array_api=True
    ),
    Entry("smape", ("regression",), False, _smape, "scores", "symmetric MAPE, as a fraction in [0, 2]", array_api=True),
    Entry("r2", ("regression",), True, _r2, "scores", "coefficient of determination", surrogate="rmse", array_api=True),
)
REGISTRY: dict[str, Entry] = {entry.name: entry for entry in _ENTRIES}
#: Every built-in's name, map@K standing for map@1 .. map@10.
METRICS = tuple(REGISTRY)

_KIND_WORDS = {
    "binary": "binary probabilities",
    "multiclass": "class probabilities",
    "regression": "regression values",
    "labels": "labels",
}
# What to use instead, where a metric does not suit a kind.
_INSTEAD = {
    "labels": "labels support accuracy, balanced_accuracy, f1_macro, f1_weighted, mcc and qwk",
    "regression": "for regression use rmse, mae, rmsle, mape, smape, r2 or qwk",
    "multiclass": "for class probabilities use logloss, balanced_logloss, accuracy, balanced_accuracy, f1_macro, "
    "f1_weighted, mcc, auc_ovr, map@K or qwk",
    "binary": "for binary probabilities use auc, gini, logloss, balanced_logloss, brier, average_precision, accuracy, "
    "balanced_accuracy, f1 or mcc",
}


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is one of :data:`KINDS`, else raise ValueError."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def default_metric(kind: str) -> str:
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


def names() -> str:
    """The built-in names, for messages."""
    return ", ".join(METRICS)


# ---------------------------------------------------------------------------- resolved metrics


class Metric(str):
    """A metric resolved for one kind of prediction: its name (a ``str``) with its entry and options.

    Attributes
    ----------
    entry : Entry
    kind : str
    k : int or None
        K of map@K.
    rank : tuple of int or None
        Class probabilities and labels under qwk: each column's place in the class order
        (None: the column order).
    values : ndarray or None
        Regression under qwk: the sorted class values (None: those of the truth at hand).
    labels : list or None
        What a decision writes for each class (the truth's labels), set by :meth:`with_labels`.
    """

    entry: Entry
    kind: str
    k: int | None
    rank: tuple[int, ...] | None
    values: NDArray | None
    labels: list | None

    def __new__(
        cls,
        name: str,
        entry: Entry,
        kind: str,
        *,
        k: int | None = None,
        rank: Sequence[int] | None = None,
        values: ArrayLike | None = None,
        labels: list | None = None,
    ) -> Metric:
        metric = super().__new__(cls, name)
        metric.entry, metric.kind, metric.k = entry, kind, k
        metric.rank = None if rank is None else tuple(int(place) for place in rank)
        metric.values = None if values is None else np.asarray(values, dtype=np.float64)
        metric.labels = labels
        return metric

    def __reduce__(self) -> tuple[Callable[..., Metric], tuple[Any, ...]]:
        # A built-in is rebuilt from its name (map@K's scorer is made per K); a plug-in keeps its entry.
        entry = None if str(self) in REGISTRY or self.k is not None else self.entry
        return (_rebuild, (str(self), self.kind, self.rank, self.values, self.labels, entry))

    def _derive(self, **changes: Any) -> Metric:
        options = {"k": self.k, "rank": self.rank, "values": self.values, "labels": self.labels, **changes}
        kind = options.pop("kind", self.kind)
        return Metric(str(self), self.entry, kind, **options)

    def with_labels(self, labels: Iterable[object]) -> Metric:
        """The same metric, writing ``labels[d]`` for decision ``d``."""
        return self._derive(labels=list(labels))

    @property
    def greater_is_better(self) -> bool:
        return self.entry.greater_is_better

    @property
    def sign(self) -> float:
        """+1 where greater is better, -1 for a loss: ``sign * score`` is always to be maximised."""
        return 1.0 if self.entry.greater_is_better else -1.0

    @property
    def decides(self) -> bool:
        """Whether the written submission holds decisions (labels, cut classes, top-K), not scores."""
        return (self.entry.needs == "decisions" and self.kind != "labels") or self.k is not None

    @property
    def post_processes(self) -> bool:
        """Whether the written submission goes through the step: decisions, or rmsle's clip at 0."""
        return self.decides or self == "rmsle"

    @property
    def fits_step(self) -> bool:
        """Whether the step learns from the rows (a threshold, cut-points), so that it is cross-fitted."""
        return self.entry.needs == "decisions" and (
            self.kind == "binary" or (self == "qwk" and self.kind in ("multiclass", "regression"))
        )

    # -------------------------------------------------------------- truth and steps

    def truth(self, y: Array) -> Array:
        """``y`` as the metric compares it: the class place for qwk (in NumPy), else as it is."""
        if self != "qwk":
            return y
        y = arrays.to_numpy(y)
        if self.kind == "regression":
            values = self.class_values(y)
            places = np.searchsorted(values, y)
            if (places >= len(values)).any() or not np.array_equal(values[np.minimum(places, len(values) - 1)], y):
                raise ValueError("qwk on regression needs every truth value among the class values")
            return places
        return np.asarray(self._ranks(None))[y] if self.rank is not None else y

    def class_values(self, y: NDArray) -> NDArray[np.float64]:
        """The sorted class values of qwk on regression: given, or the truth's own."""
        return self.values if self.values is not None else np.unique(np.asarray(y, dtype=np.float64))

    def _ranks(self, n_columns: int | None) -> tuple[int, ...]:
        if self.rank is not None:
            return self.rank
        return tuple(range(n_columns or 0))

    def plain_step(self, y: Array, scores: Array) -> steps.Step | None:
        """The step with nothing learnt: 0.5, the argmax, rounding to the nearest class, the top K, the clip at 0."""
        if self.k is not None:
            return steps.TopK(self.k)
        if self == "rmsle":
            return steps.Clip(0.0)
        if self.entry.needs != "decisions":
            return None
        if self.kind == "binary":
            return steps.Threshold(0.5, fitted=False)
        if self == "qwk":
            if self.kind == "regression":
                return steps.CutPoints(steps.rounding_cuts(self.class_values(y)), fitted=False)
            return steps.Argmax(self._ranks(np.shape(scores)[-1]))
        return steps.Argmax()

    def fit_step(self, y: NDArray, scores: NDArray) -> steps.Step | None:
        """The step fitted on these rows (the plain step where nothing is learnt)."""
        if not self.fits_step:
            return self.plain_step(y, scores)
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "binary":
            return steps.best_threshold(y, scores, self.entry.name)[0]
        if self.kind == "regression":
            values = self.class_values(y)
            return steps.CutPoints(steps.fit_cut_points(self.truth(y), scores, len(values)))
        rank = self._ranks(scores.shape[-1])
        numbers = scores @ np.asarray(rank, dtype=np.float64)
        cut = steps.CutPoints(steps.fit_cut_points(self.truth(y), numbers, len(rank)), rank=rank)
        # Cut-points on the expected class cannot always reproduce the argmax (peaked probabilities): the step is
        # whichever of the two scores better on these rows, so that fitting never does worse than not fitting.
        plain = steps.Argmax(rank, fitted=True)
        truth = self.truth(y)
        return (
            cut
            if self.value(truth, cut.apply(scores), xp=np) >= self.value(truth, plain.apply(scores), xp=np)
            else plain
        )

    def value(self, y: Array, decided: Array, *, xp: ModuleType | None = None) -> Array:
        """The metric of what the step gave (decisions or scores), in the metric's truth space.

        Computed in ``xp`` (default: the run's namespace, :func:`blender.arrays.namespace`) where the
        metric has an array-API form; qwk, map@K, average precision and plug-ins have none and score
        NumPy arrays (their inputs are copied to the host).
        """
        function = self.entry.function
        assert function is not None  # only the map@K family's registry line has none; resolve() gives it one
        if self.entry.array_api:
            xp = arrays.namespace(xp)
            return function(xp.asarray(y), xp.asarray(decided), self.kind, xp=xp)
        return function(arrays.to_numpy(y), arrays.to_numpy(decided), self.kind)

    def _through(self, step: steps.Step | None, y: Array, scores: Array, xp: ModuleType | None) -> Array:
        decided = scores if step is None else step.apply(scores)
        return self.value(self.truth(y), decided, xp=xp)

    def score_with(self, step: steps.Step | None, y: Array, scores: Array, *, xp: ModuleType | None = None) -> float:
        """The score of ``scores`` through a step fitted elsewhere (:meth:`fit_step`)."""
        return float(self._through(step, y, scores, xp))

    # -------------------------------------------------------------- the three scores
    #
    # Each scores in ``xp`` (default: the run's namespace) where the metric has an array-API form; a step that
    # learns (a threshold, cut-points) is fitted in NumPy on a copy of the rows, then applied in ``xp``.

    def score(self, y: Array, scores: Array, *, xp: ModuleType | None = None) -> float:
        """The predictions as they stand, through the plain step."""
        return float(self._through(self.plain_step(y, scores), y, scores, xp))

    def fitted(self, y: Array, scores: Array, *, xp: ModuleType | None = None) -> float:
        """The score with the step fitted on the same rows (optimistic where the step learns)."""
        if not self.fits_step:
            return self.score(y, scores, xp=xp)
        y_host, scores_host = arrays.to_numpy(y), arrays.to_numpy(scores)
        if self.kind == "binary":
            return steps.best_threshold(y_host, scores_host, self.entry.name)[1]
        return float(self._through(self.fit_step(y_host, scores_host), y, scores, xp))

    def held_out(
        self, y_fit: Array, scores_fit: Array, y: Array, scores: Array, *, xp: ModuleType | None = None
    ) -> float:
        """The step fitted on ``(y_fit, scores_fit)``, the score on ``(y, scores)``."""
        if not self.fits_step:
            return self.score(y, scores, xp=xp)
        step = self.fit_step(arrays.to_numpy(y_fit), arrays.to_numpy(scores_fit))
        return float(self._through(step, y, scores, xp))

    def batch(self, y: Array, candidates: Array, *, xp: ModuleType | None = None) -> NDArray[np.float64]:
        """:meth:`fitted` of many candidate blends at once: ``candidates`` has a leading candidate axis.

        Computed in ``xp`` (default: the run's namespace) where the metric has an array-API form (binary
        decisions each at its best threshold, by one sort per candidate); NumPy takes its fast paths, and
        qwk's cut-point search, map@K, average precision and plug-ins score NumPy copies. The scores come
        back as NumPy float64, shape (n_candidates,).
        """
        xp = arrays.namespace(xp)
        if arrays.is_numpy(xp) or not self.entry.array_api or (self.fits_step and self.kind != "binary"):
            return self._batch_numpy(arrays.to_numpy(y), arrays.to_numpy(candidates))
        y, candidates = xp.asarray(y), xp.asarray(candidates)
        if self.fits_step:
            rows = arrays.as_float64(xp, xp.reshape(candidates, (candidates.shape[0], -1)))
            scores = steps.best_threshold_scores(y, rows, self.entry.name)
        else:
            scores = self._plain_batch(xp, y, candidates)
        return np.asarray(arrays.to_numpy(scores), dtype=np.float64)

    def score_all(self, y: Array, candidates: Array, *, xp: ModuleType | None = None) -> NDArray[np.float64]:
        """:meth:`score` of many candidates at once, each through the plain step: NumPy float64 (n_candidates,).

        In ``xp`` (default: the run's namespace) where the metric has an array-API form, else in NumPy.
        """
        if self.entry.array_api:
            xp = arrays.namespace(xp)
            y, candidates = xp.asarray(y), xp.asarray(candidates)
        else:
            xp, y, candidates = np, arrays.to_numpy(y), arrays.to_numpy(candidates)
        return np.asarray(arrays.to_numpy(self._plain_batch(xp, y, candidates)), dtype=np.float64)

    def _plain_batch(self, xp: ModuleType, y: Array, candidates: Array) -> Array:
        """:meth:`score` of every candidate, through the plain step, in ``xp``."""
        step = self.plain_step(y, candidates[0, ...])
        decided = candidates if step is None else step.apply(candidates)
        return xp.reshape(self.value(self.truth(y), decided, xp=xp), (candidates.shape[0],))

    def _batch_numpy(self, y: NDArray, candidates: NDArray) -> NDArray[np.float64]:
        """:meth:`batch` in NumPy, with its fast paths."""
        candidates = np.asarray(candidates)
        if self.fits_step and self.kind == "binary":
            name = self.entry.name
            truth = np.asarray(y).astype(bool)
            n, n_pos = truth.shape[0], int(truth.sum())
            rows = np.asarray(candidates, dtype=np.float64)
            low = rows.min(axis=-1) if rows.ndim == 2 and rows.size else None
            high = None if low is None else rows.max(axis=-1)
            n_buckets = int(min(1 << 12, max(256, 1 << int(n // 16).bit_length())))
            if low is not None:
                span = high - low
                scale = np.where(span > 0, (n_buckets - 1) / np.where(span > 0, span, 1.0), 0.0)
            if not (
                low is not None
                and high is not None
                and n >= 4096
                and 0 < n_pos < n
                and np.isfinite(low).all()
                and np.isfinite(high).all()
                and (np.maximum(-low, high) * scale).max() < 2.0**40
            ):
                _, values, valid = steps.threshold_scores(y, candidates, name)
                return np.where(valid, values, -np.inf).max(axis=-1)
            # The same maximum without sorting every row: a histogram of each row over equal-width
            # buckets gives the exact score of every cut between two buckets (a lower bound of the
            # best), and a bound of the cuts inside each bucket; only the values in the buckets whose
            # bound beats that lower bound are sorted. The counts are those of threshold_scores, so
            # the scores are the same floats.
            n_rows = rows.shape[0]
            stride = n_buckets + 1  # trunc(value * scale) - trunc(low * scale) lies in 0..n_buckets
            positives, negatives = float(n_pos), float(n - n_pos)
            # Each row's bucket, trunc(value * scale), never decreases as the value grows; offset by
            # the row, then by the label: keys unique over the rows, negatives after all the positives.
            keys = np.empty(rows.shape, dtype=np.intp)
            np.multiply(rows, scale[:, None], out=keys, casting="unsafe")
            keys += (np.arange(n_rows) * stride - (low * scale).astype(np.intp))[:, None]
            keys += (~truth).astype(np.intp) * (n_rows * stride)
            counts = np.bincount(keys.ravel(), minlength=2 * n_rows * stride).astype(np.float64)
            counts = counts.reshape(2, n_rows, stride)
            # above_*[:, b]: the positives and negatives in buckets b and higher (b = 0..stride).
            above_pos = np.zeros((n_rows, stride + 1))
            above_neg = np.zeros((n_rows, stride + 1))
            np.cumsum(counts[0, :, ::-1], axis=1, out=above_pos[:, -2::-1])
            np.cumsum(counts[1, :, ::-1], axis=1, out=above_neg[:, -2::-1])
            with np.errstate(divide="ignore", invalid="ignore"):
                between = steps.from_counts(name, above_pos, above_neg, positives - above_pos, negatives - above_neg)
                best = between.max(axis=1)
                # A cut inside bucket b: tp in [above_pos[b+1], above_pos[b]], fp in [above_neg[b+1], above_neg[b]].
                tp_high, fp_low = above_pos[:, :-1], above_neg[:, 1:]
                if name == "mcc":
                    # mcc = (tp N - fp P) / sqrt(P N k (n - k)), k = tp + fp called positive, 0 < k < n inside a bucket.
                    k_low, k_high = above_pos[:, 1:] + fp_low + 1.0, tp_high + above_neg[:, :-1] - 1.0
                    spread = np.minimum(k_low * (n - k_low), k_high * (n - k_high))
                    numerator = tp_high * negatives - fp_low * positives
                    bound = np.where(
                        numerator > 0, numerator / np.sqrt(positives * negatives * np.maximum(spread, 1.0)), 0.0
                    )
                else:
                    # accuracy, f1, balanced_accuracy never fall as tp rises or fp falls (their floats neither).
                    bound = steps.from_counts(name, tp_high, fp_low, positives - tp_high, negatives - fp_low)
            bound += 1e-9 * np.abs(bound) + 1e-12
            open_buckets = (counts[0] + counts[1] >= 2) & (bound > best[:, None])
            if not open_buckets.any():
                return best
            chosen = np.flatnonzero(np.tile(open_buckets.ravel(), 2)[keys.ravel()])
            values, places = rows.ravel()[chosen], keys.ravel()[chosen] % (n_rows * stride)
            hits = truth[chosen % n]
            # By bucket (row first), the values of each in decreasing order, as threshold_scores orders them.
            order = np.lexsort((-values, -places))
            values, places, hits = values[order], places[order], hits[order]
            index = np.arange(values.shape[0])
            starts = np.ones(values.shape[0], dtype=bool)
            starts[1:] = places[1:] != places[:-1]
            first = np.maximum.accumulate(np.where(starts, index, 0))
            hits_so_far = np.cumsum(hits)
            tp_inside = hits_so_far - np.maximum.accumulate(np.where(starts, hits_so_far - hits, 0))
            inside = np.zeros(values.shape[0], dtype=bool)
            inside[:-1] = (places[1:] == places[:-1]) & (values[1:] != values[:-1])
            if inside.any():
                places, tp_inside, first, index = places[inside], tp_inside[inside], first[inside], index[inside]
                row = places // stride
                above = row * (stride + 1) + (places - row * stride) + 1
                tp = above_pos.ravel()[above] + tp_inside
                fp = above_neg.ravel()[above] + ((index - first + 1) - tp_inside)
                with np.errstate(divide="ignore", invalid="ignore"):
                    scored = steps.from_counts(name, tp, fp, positives - tp, negatives - fp)
                np.maximum.at(best, row, scored)
            return best
        if self.fits_step and self == "qwk" and self.kind in ("regression", "multiclass"):
            # fitted() of each candidate, with the truth's places and the class order found once.
            truth = self.truth(y)
            if self.kind == "regression":
                n_classes, rank = len(self.class_values(y)), None
            else:
                places = np.asarray(self._ranks(candidates.shape[-1]))
                n_classes, rank = len(places), places.astype(np.float64)
            result = np.empty(candidates.shape[0])
            for position, candidate in enumerate(candidates):
                scores = numbers = np.asarray(candidate, dtype=np.float64)
                if rank is not None:
                    numbers = scores @ rank
                cuts = steps.fit_cut_points(truth, numbers, n_classes)
                score = self.value(truth, np.searchsorted(np.asarray(cuts), numbers, side="left"), xp=np)
                if rank is not None:
                    # fit_step keeps the argmax where it scores higher than the cut-points.
                    plain = self.value(truth, places[np.argmax(scores, axis=-1)], xp=np)
                    score = score if score >= plain else plain
                result[position] = float(score)
            return result
        if self.fits_step:
            return np.array([self.fitted(y, candidate, xp=np) for candidate in candidates])
        return np.asarray(self._plain_batch(np, y, candidates), dtype=np.float64)


def _rebuild(
    name: str,
    kind: str,
    rank: tuple[int, ...] | None,
    values: NDArray | None,
    labels: list | None,
    entry: Entry | None,
) -> Metric:
    base = resolve(name, kind) if entry is None else Metric(name, entry, kind)
    return base._derive(rank=rank, values=values, labels=labels)


def resolve(metric: str | None, kind: str, *, greater_is_better: bool | None = None) -> Metric:
    """The metric ``metric`` (a name, ``FILE.py:FUNCTION``, ``module:function``, or None for the
    kind's default) resolved for ``kind``.

    Raises
    ------
    ValueError
        For an unknown name (listing the names), a metric that does not suit the kind (saying
        which kinds it suits), map@K with K outside 1..10, or a plug-in that cannot be loaded.

    Examples
    --------
    >>> resolve("map@3", "multiclass").k
    3
    >>> resolve("f1", "regression")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: f1 suits binary probabilities, not regression values; for regression use rmse, mae, rmsle, mape,
    smape, r2 or qwk
    """
    check_kind(kind)
    if isinstance(metric, Metric):
        if metric.kind == kind:
            return metric
        _check_suits(metric.entry, kind, str(metric))
        return metric._derive(kind=kind)
    if metric is None:
        metric = default_metric(kind)
    metric = str(metric).strip()
    if ":" in metric:
        from blender.plugin import load_metric

        entry = load_metric(metric, greater_is_better=greater_is_better)
        _check_suits(entry, kind, metric)
        return Metric(metric, entry, kind)
    name, k = metric.lower(), None
    family = re.fullmatch(r"map@(\d+)", name)
    if family:
        k = int(family.group(1))
        if not 1 <= k <= MAX_K:
            raise ValueError(f"map@{k}: K must be 1 to {MAX_K}")
        entry = REGISTRY["map@K"]
        entry = Entry(name, entry.kinds, True, _map_at(k), "scores", entry.summary, entry.surrogate)
    elif name in REGISTRY and name != "map@K":
        entry = REGISTRY[name]
    else:
        raise ValueError(
            f"unknown metric {metric!r}; expected one of {names()} (map@K as map@1 .. map@{MAX_K}), "
            "or FILE.py:FUNCTION for your own"
        )
    _check_suits(entry, kind, name)
    return Metric(name, entry, kind, k=k)


def _check_suits(entry: Entry, kind: str, name: str) -> None:
    if kind in entry.kinds:
        return
    hints = {
        ("logloss", "labels"): "logloss needs probabilities",
        ("auc", "labels"): "auc needs probabilities",
        ("auc", "regression"): "auc needs probabilities",
        ("logloss", "regression"): "logloss needs probabilities",
        ("accuracy", "regression"): "accuracy needs classes",
        ("rmse", "labels"): "rmse needs numbers",
        ("mae", "labels"): "mae needs numbers",
        ("rmse", "multiclass"): "rmse is not defined for class probabilities",
        ("mae", "multiclass"): "mae is not defined for class probabilities",
    }
    suits = " and ".join(_KIND_WORDS[suited] for suited in entry.kinds)
    lead = hints.get((entry.name, kind), f"{name} suits {suits}, not {_KIND_WORDS[kind]}")
    raise ValueError(f"{lead}; {_INSTEAD[kind]}")


def for_truth(metric: str | None, kind: str, y: NDArray) -> Metric:
    """``metric`` resolved for ``kind`` and bound to the whole truth ``y``: qwk on regression takes its
    class values from it, so that a fold without one of them still knows every class.

    >>> for_truth("qwk", "regression", np.array([3.0, 1.0, 2.0, 1.0])).values.tolist()
    [1.0, 2.0, 3.0]
    """
    resolved = resolve(metric, kind)
    if resolved == "qwk" and kind == "regression" and resolved.values is None:
        y = np.asarray(y, dtype=np.float64)
        if not np.array_equal(y, np.round(y)):
            raise ValueError("qwk on regression needs whole-number targets (ratings, grades)")
        resolved = resolved._derive(values=np.unique(y))
    return resolved


def ordered(labels: Iterable[object]) -> list[str]:
    """Class labels in order: numbers as numbers (9 before 10), False before True, other text as text.

    >>> ordered(["10", "9", "1"]), ordered(["b", "a"])
    (['1', '9', '10'], ['a', 'b'])
    """
    texts = [str(label) for label in labels]
    try:
        return sorted(texts, key=float)
    except ValueError:
        pass
    if {text.lower() for text in texts} <= {"true", "false"}:
        return sorted(texts, key=lambda text: text.lower() == "true")
    return sorted(texts)


def for_files(
    metric: str | None,
    kind: str,
    y: NDArray,
    *,
    names: list[str] | None = None,
    binary_labels: tuple[str, str] | None = None,
    classes: list[str] | None = None,
    greater_is_better: bool | None = None,
) -> Metric:
    """``metric`` resolved for a set of files and their truth, with what its decisions write.

    Parameters
    ----------
    y : ndarray of shape (n_rows,)
        The truth as the layout holds it (0/1, class indices, floats).
    names : list of str
        The class names: the probability columns (multiclass) or the sorted labels (labels).
    binary_labels : (negative, positive)
        The truth's two labels, which a threshold's decisions write.
    classes : list of str, default=None
        ``--classes``: the order of the classes for qwk (default: ``ordered`` names, or the
        truth's values for regression). It must list exactly the truth's classes.

    Raises
    ------
    ValueError
        With the reason in words (the command names the option): see :func:`resolve`, and map@K
        above the number of classes or over class names with a space, ``classes`` that are not
        exactly the truth's, rmsle with a negative truth, qwk on a truth of fractions.

    Examples
    --------
    >>> m = for_files("qwk", "multiclass", np.array([0, 1, 2]), names=["10", "9", "1"])
    >>> m.rank, m.labels
    ((2, 1, 0), ['1', '9', '10'])
    """
    resolved = resolve(metric, kind, greater_is_better=greater_is_better)
    y = np.asarray(y)
    if classes is not None and resolved != "qwk":
        raise ValueError(f"--classes orders the classes of qwk; {resolved} does not use an order, so drop it")
    if resolved == "rmsle" and (y < 0).any():
        raise ValueError(
            f"rmsle takes log(1 + y), and the truth holds {int((y < 0).sum()):,} negative values "
            f"(e.g. {float(y[y < 0][0]):g}); use rmse, or shift the target"
        )
    if kind == "binary":
        return resolved.with_labels(binary_labels or ("0", "1"))
    if kind == "regression":
        if resolved != "qwk":
            return resolved
        resolved = for_truth(resolved, kind, y)
        values = resolved.values
        assert values is not None  # for_truth binds the truth's values
        if classes is not None:
            try:
                given = np.array([float(label) for label in classes])
            except ValueError:
                raise ValueError(
                    f"qwk on regression values needs numbers in --classes, got {','.join(classes)}"
                ) from None
            if set(given.tolist()) != set(values.tolist()):
                raise ValueError(
                    f"--classes {','.join(classes)} must list exactly the truth's values "
                    f"({', '.join(f'{v:g}' for v in values)})"
                )
            values = np.array(sorted(given))
        return resolved._derive(values=values, labels=[int(v) if float(v).is_integer() else float(v) for v in values])
    names = list(names or [])
    if resolved.k is not None:
        if resolved.k > len(names):
            raise ValueError(
                f"{resolved} ranks {resolved.k} classes, and the files have {len(names)} "
                f"({', '.join(names)}); use map@{len(names)} at most"
            )
        spaced = [name for name in names if " " in name]
        if spaced:
            raise ValueError(
                f"{resolved} writes the classes space-separated, and class '{spaced[0]}' holds a space; "
                "rename the class columns"
            )
    if resolved != "qwk":
        return resolved.with_labels(names)
    order = ordered(names) if classes is None else [str(label) for label in classes]
    if sorted(order) != sorted(names) or len(set(order)) != len(order):
        raise ValueError(
            f"--classes {','.join(order)} must list each of the truth's classes once "
            f"({', '.join(ordered(names))}), in their order"
        )
    return resolved._derive(rank=[order.index(name) for name in names], labels=order)


def check_metric(metric: str | None, kind: Kind) -> Metric:
    """Return the metric to use for ``kind``: ``metric`` resolved if it suits, the default if None.

    Raises
    ------
    ValueError
        If the metric is unknown or does not suit the kind (log loss on labels, say).

    Examples
    --------
    >>> check_metric(None, "multiclass")
    'logloss'
    >>> check_metric("logloss", "labels")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: logloss needs probabilities; labels support accuracy, balanced_accuracy, f1_macro, f1_weighted,
    mcc and qwk
    """
    return resolve(metric, kind)


def greater_is_better(metric: str) -> bool:
    """True for the scores (accuracy, AUC, F1, kappa, ...), False for the losses (logloss, rmse, ...).

    Examples
    --------
    >>> greater_is_better("auc"), greater_is_better("logloss"), greater_is_better("map@3")
    (True, False, True)
    """
    if isinstance(metric, Metric):
        return metric.greater_is_better
    name = str(metric).lower()
    if re.fullmatch(r"map@(\d+|k)", name):
        return True
    if name not in REGISTRY:
        raise ValueError(f"unknown metric {metric!r}; expected one of {names()}")
    return REGISTRY[name].greater_is_better


def score(y_true: NDArray, y_pred: NDArray, *, metric: str, kind: Kind) -> float:
    """Score one model's predictions against the truth, as they stand (the plain step).

    Binary probabilities count as class 1 above 0.5 (exactly 0.5 is class 0, as ``argmax``
    of ``[1 - p, p]`` gives) for the decision metrics; class probabilities count as their
    argmax (the first class on a tie). Log loss clips probabilities to ``[1e-15, 1 - 1e-15]``.
    AUC on class probabilities is the one-vs-rest macro average.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        0/1 for binary, class indices for multiclass, labels for labels, floats for
        regression.
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        One model's prediction; (n_samples, n_classes) for multiclass and label votes.
    metric : str
        A name of :data:`REGISTRY` (or map@K), or a resolved :class:`Metric`.
    kind : {"binary", "multiclass", "regression", "labels"}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the metric is unknown or does not suit the kind, or the shapes disagree.

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
    metric = resolve(metric, kind)
    y_true, y_pred = _checked(y_true, y_pred, kind)
    return metric.score(y_true, y_pred)


def fitted_score(y_true: NDArray, y_pred: NDArray, *, metric: str, kind: Kind) -> float:
    """Like :func:`score`, with the metric's step (a threshold, cut-points) fitted on these rows first.

    >>> fitted_score(np.array([0, 1, 1, 0]), np.array([0.2, 0.6, 0.4, 0.1]), metric="accuracy", kind="binary")
    1.0
    """
    metric = resolve(metric, kind)
    y_true, y_pred = _checked(y_true, y_pred, kind)
    return metric.fitted(y_true, y_pred)


def _checked(y_true: NDArray, y_pred: NDArray, kind: str) -> tuple[NDArray, NDArray]:
    """The truth and one prediction as the definitions take them, or ValueError."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    _check_shapes(y_true, y_pred, kind)
    if kind == "labels" and y_pred.ndim == 1:
        # Labels given as numbers or text on both sides: their indices in the sorted union, numbers as numbers
        # (9 before 10, and 1 the same label as 1.0), as scikit-learn compares them.
        both = np.concatenate([y_true.astype(object), y_pred.astype(object)])
        try:
            both = both.astype(np.float64)
        except (TypeError, ValueError):
            both = both.astype(str)
        classes, codes = np.unique(both, return_inverse=True)
        y_true, y_pred = codes[: y_true.shape[0]], np.eye(len(classes))[codes[y_true.shape[0] :]]
    if kind != "labels" and y_pred.dtype.kind not in "fiub":
        raise ValueError(f"a {kind} prediction must be numeric")
    return y_true, (y_pred if kind == "labels" else y_pred.astype(np.float64, copy=False))


def true_class_probability(
    y_true: NDArray, y_pred: NDArray, *, kind: Kind, rows_last: bool = False
) -> NDArray[np.float64]:
    """The probability each prediction gives to the true class.

    Log loss depends on nothing else, and this is linear in the prediction, so the mean
    of the members' true-class probabilities is the ensemble's true-class probability.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
    y_pred : ndarray of shape (n_samples,) or (n_samples, n_models) for binary, or
        (n_samples, n_classes) or (n_models, n_samples, n_classes) for multiclass.
    rows_last : bool, default=False
        Binary predictions with the rows on the last axis, (..., n_samples), and the result
        (..., n_samples) for either kind.

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
        if rows_last:
            return np.where(y_true == 1, y_pred, 1.0 - y_pred)
        positive = (y_true == 1).reshape((-1,) + (1,) * (y_pred.ndim - 1))
        return np.where(positive, y_pred, 1.0 - y_pred)
    if kind == "multiclass":
        rows = np.arange(y_true.shape[0])
        if y_pred.ndim == 2:
            return y_pred[rows, y_true]
        taken = y_pred[..., rows, y_true]
        return taken if rows_last else taken.T
    raise ValueError(f"true-class probabilities need binary or multiclass predictions, not {kind}")


def _check_shapes(y_true: NDArray, y_pred: NDArray, kind: str) -> None:
    """Raise ValueError unless one prediction of ``kind`` matches the truth."""
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be one-dimensional, got shape {y_true.shape}")
    expected_ndim = 2 if kind == "multiclass" else 1
    if y_pred.ndim != expected_ndim and not (kind == "labels" and y_pred.ndim == 2):
        raise ValueError(f"a {kind} prediction must have {expected_ndim} dimension(s), got shape {y_pred.shape}")
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} rows but the prediction has {y_pred.shape[0]}")
    if y_true.shape[0] == 0:
        raise ValueError("cannot score zero rows")
    if kind == "multiclass":
        n_classes = y_pred.shape[1]
        if np.any((y_true < 0) | (y_true >= n_classes)):
            raise ValueError(f"multiclass y_true must hold class indices 0..{n_classes - 1}")


# ---------------------------------------------------------------------------- AUC of many rows at once


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
    xp: ModuleType | None = None,
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

    In ``xp`` (default: the run's namespace) other than NumPy, the ranks come from the standard's
    ``sort`` and ``searchsorted`` (:func:`_auc_rows`); the scores come back as NumPy float64.
    """
    xp = arrays.namespace(xp)
    if not arrays.is_numpy(xp):
        return np.asarray(arrays.to_numpy(_auc_rows(xp, xp.asarray(positive), xp.asarray(values))), dtype=np.float64)
    return _auc_rows_numpy(np.asarray(positive), values, overwrite=overwrite, scratch=scratch)


def _auc_rows(xp: ModuleType, positive: Array, values: Array) -> Array:
    """:func:`auc_rows` in ``xp``, with the array API standard only: each value's average rank is the
    middle of its run of equal values in its sorted row, ``(below + at_or_below + 1) / 2``."""
    if arrays.is_numpy(xp):
        return _auc_rows_numpy(np.asarray(positive), values)
    n_samples = positive.shape[0]
    n_pos = int(arrays.count(xp, positive))
    n_neg = n_samples - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("auc is undefined when y_true holds only one class")
    values = arrays.as_float64(xp, values)
    ordered = xp.sort(values, axis=-1)
    labels = xp.astype(positive, xp.float64)
    rank_sums = []
    for row in range(values.shape[0]):  # searchsorted takes one sorted row at a time
        below = xp.searchsorted(ordered[row, :], values[row, :], side="left")
        at_or_below = xp.searchsorted(ordered[row, :], values[row, :], side="right")
        average_rank = xp.astype(below + at_or_below + 1, xp.float64) / 2.0
        rank_sums.append(xp.sum(average_rank * labels))
    rank_sum = xp.stack(rank_sums) if rank_sums else xp.zeros((0,), dtype=xp.float64)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def _auc_rows_numpy(
    positive: NDArray[np.bool_],
    values: NDArray[np.float64],
    *,
    overwrite: bool = False,
    scratch: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """:func:`auc_rows` in NumPy: one integer sort per row of (bits << 1 | label), else scipy's ranks."""
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

"""Decision steps: what turns a blend's scores into what a competition scores, fitted on OOF rows.

A metric that scores decisions rather than scores (F1 on a binary target, quadratic weighted
kappa on an ordered one) needs a last step after the blend:

- :class:`Threshold`: a binary probability above ``threshold`` is the positive class;
- :class:`CutPoints`: a number (a regression output, or the expected class of class
  probabilities) falls into the class of the cut-points it passes;
- :class:`Argmax`: class probabilities or votes become their most probable class;
- :class:`TopK`: class probabilities become their K most probable classes (map@K);
- :class:`Clip`: predictions below 0 become 0 (rmsle).

Each step has ``apply(scores)`` (what the metric scores) and ``write(scores, labels)`` (what the
submission holds). :func:`best_threshold` and :func:`fit_cut_points` fit the two steps that learn,
on the rows they are given: a threshold by one sort, cut-points by exact coordinate ascent from the
cut-points that reproduce the truth's class counts. Nothing here knows which rows are held out:
:mod:`blender.evaluation` fits a step on a fold's training rows and scores its held-out rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from blender import arrays
from blender.arrays import Array

# Two scores closer than this (relative) are a tie when choosing a threshold or a cut.
_TIE = 1e-12


# ---------------------------------------------------------------------------- binary counts


def binary_counts(y: Array, decisions: Array) -> tuple[Array, Array, Array, Array]:
    """True positives, false positives, false negatives and true negatives over the last axis.

    In the namespace of ``decisions`` (the array API standard only); ``y`` is 0/1 or bool.
    """
    xp = arrays.namespace_of(decisions)
    y, decisions = xp.asarray(y), xp.asarray(decisions)
    y = y if y.dtype == xp.bool else y != 0
    decisions = decisions if decisions.dtype == xp.bool else decisions != 0
    tp = arrays.count(xp, decisions & y, axis=-1)
    fp = arrays.count(xp, decisions & ~y, axis=-1)
    positives, n = int(arrays.count(xp, y)), y.shape[-1]
    return tp, fp, positives - tp, (n - positives) - fp


def from_counts(name: str, tp: Array, fp: Array, fn: Array, tn: Array) -> Array:
    """A binary decision metric from its confusion counts (arrays of any shape), as scikit-learn defines it.

    ``accuracy``; ``f1`` (0 where nothing is predicted or true positive); ``mcc`` (0 where a
    margin is empty); ``balanced_accuracy``: the mean recall over the classes present in the truth.
    In the namespace of the counts (the array API standard only); NumPy for Python numbers.

    >>> float(from_counts("f1", 2, 1, 1, 4)), float(from_counts("balanced_accuracy", 2, 1, 1, 4))
    (0.6666666666666666, 0.7333333333333334)
    """
    xp = arrays.namespace_of(next((count for count in (tp, fp, fn, tn) if hasattr(count, "dtype")), tp))
    tp, fp, fn, tn = (arrays.as_float64(xp, count) for count in (tp, fp, fn, tn))
    if name == "accuracy":
        return (tp + tn) / (tp + fp + fn + tn)
    if name == "f1":
        return arrays.divide(xp, 2 * tp, 2 * tp + fp + fn)
    if name == "mcc":
        return arrays.divide(xp, tp * tn - fp * fn, xp.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    if name == "balanced_accuracy":
        positives, negatives = tp + fn, tn + fp
        present = xp.astype(positives > 0, xp.float64) + xp.astype(negatives > 0, xp.float64)
        return (arrays.divide(xp, tp, positives) + arrays.divide(xp, tn, negatives)) / present
    raise ValueError(f"no binary counts formula for {name!r}")


def best_threshold_scores(y: Array, scores: Array, name: str) -> Array:
    """The best score of the binary decision metric ``name`` over every threshold, for each row of ``scores``.

    :func:`threshold_scores`'s maximum over the cuts between different values, in the namespace of
    ``scores`` (n_candidates, n_rows) with the array API standard only: one sort per row, the labels
    gathered in its order (:func:`blender.arrays.take_last`), the confusion counts by a running sum.
    """
    xp = arrays.namespace_of(scores)
    n = scores.shape[-1]
    hits = xp.astype(xp.asarray(y) != 0, xp.float64)
    order = xp.argsort(-scores, axis=-1, stable=True)
    ordered = arrays.take_last(xp, scores, order)
    tp = xp.cumulative_sum(arrays.take_last(xp, xp.reshape(hits, (1, n)), order), axis=-1, include_initial=True)
    fp = xp.arange(n + 1, dtype=xp.float64) - tp
    positives = float(xp.sum(hits))
    values = from_counts(name, tp, fp, positives - tp, (n - positives) - fp)
    ends = xp.ones(scores.shape[:-1] + (1,), dtype=xp.bool)
    valid = xp.concat([ends, ordered[..., :-1] != ordered[..., 1:], ends], axis=-1)
    return xp.max(xp.where(valid, values, xp.full_like(values, -xp.inf)), axis=-1)


# ---------------------------------------------------------------------------- the steps


class Step(Protocol):
    """A decision step: ``apply`` gives what the metric scores, ``write`` what the submission holds."""

    @property
    def fitted(self) -> bool: ...

    def apply(self, scores: Array) -> Array: ...

    def write(self, scores: NDArray, labels: Sequence[object]) -> NDArray: ...

    def describe(self) -> str: ...


class _Classes:
    """A step whose decisions are class indices: the submission writes each one's label."""

    def apply(self, scores: NDArray) -> NDArray[np.int64]:
        raise NotImplementedError

    def write(self, scores: NDArray, labels: Sequence[object]) -> NDArray:
        return np.asarray(labels, dtype=object)[self.apply(scores)]


@dataclass(frozen=True)
class Threshold(_Classes):
    """Binary probabilities above ``threshold`` are the positive class (1)."""

    threshold: float
    fitted: bool = True

    def apply(self, scores: Array) -> Array:
        xp = arrays.namespace_of(scores)
        return xp.astype(xp.asarray(scores) > self.threshold, xp.int64)

    def describe(self) -> str:
        return f"threshold {self.threshold:.6g} (a probability above it is the positive class)"


@dataclass(frozen=True)
class Argmax(_Classes):
    """Class probabilities or votes become their most probable class (the first column on a tie): its column
    index, or with ``rank`` (qwk) its place in the class order."""

    rank: tuple[int, ...] | None = None
    fitted: bool = False

    def apply(self, scores: Array) -> Array:
        xp = arrays.namespace_of(scores)
        columns = xp.argmax(xp.asarray(scores), axis=-1)
        # With a rank (qwk, scored in NumPy): the class places.
        return columns if self.rank is None else np.asarray(self.rank)[arrays.to_numpy(columns)]

    def describe(self) -> str:
        return "the most probable class"


@dataclass(frozen=True)
class CutPoints(_Classes):
    """A number falls into class ``k``, the number of cut-points below it.

    ``rank`` (class probabilities only): each column's place in the class order; the number
    cut is then the expected place, ``sum_c rank[c] * p[c]``.
    """

    cuts: tuple[float, ...]
    rank: tuple[int, ...] | None = None
    fitted: bool = True

    def numbers(self, scores: NDArray) -> NDArray[np.float64]:
        scores = np.asarray(scores, dtype=np.float64)
        return scores if self.rank is None else scores @ np.asarray(self.rank, dtype=np.float64)

    def apply(self, scores: NDArray) -> NDArray[np.int64]:
        return np.searchsorted(np.asarray(self.cuts), self.numbers(scores), side="left")

    def describe(self) -> str:
        on = "the value" if self.rank is None else "the expected class"
        return f"cut-points {', '.join(f'{cut:.6g}' for cut in self.cuts)} on {on}"


@dataclass(frozen=True)
class TopK:
    """Class probabilities become their ``k`` most probable classes, best first (ties: the class order)."""

    k: int
    fitted: bool = False

    def apply(self, scores: NDArray) -> NDArray:
        return scores  # map@K scores the probabilities' ranking itself

    def write(self, scores: NDArray, labels: Sequence[object]) -> NDArray:
        order = np.argsort(-np.asarray(scores, dtype=np.float64), axis=1, kind="stable")[:, : self.k]
        names = np.asarray(labels, dtype=object)[order]
        return np.array([" ".join(row) for row in names], dtype=object)

    def describe(self) -> str:
        return f"the top {self.k} classes of each row, space-separated"


@dataclass(frozen=True)
class Clip:
    """Predictions below ``low`` are raised to it (rmsle: no log of a negative prediction)."""

    low: float = 0.0
    fitted: bool = False

    def apply(self, scores: Array) -> Array:
        xp = arrays.namespace_of(scores)
        scores = xp.asarray(scores)
        return xp.clip(scores if scores.dtype == xp.float64 else xp.astype(scores, xp.float64), min=self.low)

    def write(self, scores: NDArray, labels: Sequence[object] | None = None) -> NDArray[np.float64]:
        return self.apply(scores)

    def describe(self) -> str:
        return f"predictions clipped at {self.low:g}"


# ---------------------------------------------------------------------------- fitting a threshold


def threshold_scores(y: NDArray, scores: NDArray, name: str) -> tuple[NDArray, NDArray, NDArray]:
    """Every distinct threshold's score on these rows, in one sort.

    Returns ``(values, cut_scores, valid)`` for cuts m = 0..n over the scores sorted in
    decreasing order: cut m calls the m highest rows positive. ``valid`` marks cuts between two
    different values (ties stay together). Leading axes of ``scores`` are candidates.
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    order = np.argsort(-scores, axis=-1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=-1)
    hits = np.broadcast_to(y, scores.shape)
    hits = np.take_along_axis(hits, order, axis=-1)
    n = scores.shape[-1]
    shape = scores.shape[:-1] + (n + 1,)
    tp = np.zeros(shape)
    np.cumsum(hits, axis=-1, out=tp[..., 1:])
    fp = np.arange(n + 1) - tp
    positives = float(y.sum())
    values = from_counts(name, tp, fp, positives - tp, (n - positives) - fp)
    valid = np.ones(shape, dtype=bool)
    valid[..., 1:-1] = ordered[..., :-1] != ordered[..., 1:]
    return ordered, values, valid


def best_threshold(y: NDArray, scores: NDArray, name: str) -> tuple[Threshold, float]:
    """The threshold that maximises the binary decision metric ``name`` on these rows, and its score.

    One sort of the scores gives the confusion counts at every distinct cut. Among cuts that
    score the same (to rounding), the threshold nearest 0.5 wins, so that a flat metric keeps
    the plain step. The threshold lies between the last value called positive and the first
    called negative (their midpoint where it falls strictly between them).

    >>> step, best = best_threshold(np.array([0, 1, 1, 0]), np.array([0.2, 0.6, 0.4, 0.1]), "accuracy")
    >>> step.threshold, best
    (0.30000000000000004, 1.0)
    """
    ordered, values, valid = threshold_scores(y, scores, name)
    top = float(values[valid].max())
    near = np.flatnonzero(valid & (values >= top - _TIE * max(1.0, abs(top))))
    cuts = np.array([_threshold_at(ordered, int(m)) for m in near])
    m = int(near[np.argmin(np.abs(cuts - 0.5))])
    return Threshold(float(_threshold_at(ordered, m))), float(values[m])


def _threshold_at(ordered: NDArray[np.float64], m: int) -> float:
    """A threshold that calls the first ``m`` of the decreasing ``ordered`` values positive, the rest negative."""
    n = ordered.shape[0]
    if m == 0:
        return float(ordered[0])
    if m == n:
        return float(np.nextafter(ordered[-1], -np.inf))
    high, low = float(ordered[m - 1]), float(ordered[m])
    middle = (high + low) / 2
    return middle if low <= middle < high else low


# ---------------------------------------------------------------------------- fitting cut-points


def quadratic_disagreement(truth_rank: NDArray, decided: NDArray, n_classes: int) -> tuple[float, float]:
    """(observed, expected) quadratic disagreement over a fixed set of ``n_classes`` ordered classes."""
    confusion = (
        np.bincount(truth_rank * n_classes + decided, minlength=n_classes * n_classes)
        .reshape(n_classes, n_classes)
        .astype(np.float64)
    )
    weights = np.subtract.outer(np.arange(n_classes), np.arange(n_classes)) ** 2.0
    n = confusion.sum()
    expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / n
    return float((weights * confusion).sum()), float((weights * expected).sum())


def fit_cut_points(truth_rank: NDArray, numbers: NDArray, n_classes: int, *, sweeps: int = 20) -> tuple[float, ...]:
    """Cut-points on ``numbers`` that maximise quadratic weighted kappa against ``truth_rank`` on these rows.

    Start from the cut-points that give each class as many rows as the truth has (the rows
    sorted by number), then move one cut-point at a time to its best place between its
    neighbours, until no move helps (at most ``sweeps`` rounds). With the rows sorted once,
    kappa at every place of one cut-point comes from running sums: moving the cut between
    classes j-1 and j changes the observed disagreement by ``2 (t - j) + 1`` per row of truth
    ``t`` it passes, and the expected disagreement linearly in the number of rows it passes.
    Each move is the exact best place, so kappa never decreases and the search ends.

    Parameters
    ----------
    truth_rank : ndarray of int, shape (n_rows,)
        Each row's class as its place 0..n_classes-1 in the class order.
    numbers : ndarray of shape (n_rows,)
        What is cut: a regression output, or the expected place of class probabilities.
    n_classes : int

    Returns
    -------
    tuple of n_classes - 1 floats, non-decreasing

    Examples
    --------
    >>> fit_cut_points(np.array([0, 0, 1, 1, 2, 2]), np.array([0.1, 0.2, 0.45, 0.5, 0.9, 1.1]), 3)
    (0.325, 0.7)
    """
    truth_rank = np.asarray(truth_rank, dtype=np.int64)
    numbers = np.asarray(numbers, dtype=np.float64)
    n = numbers.shape[0]
    # Any order of equal numbers will do: every score below is taken at a valid place (between two
    # different numbers), which depends only on which rows lie before it.
    order = np.argsort(numbers)
    ordered, ranks = numbers[order], truth_rank[order]
    valid = np.ones(n + 1, dtype=bool)
    valid[1:-1] = ordered[:-1] != ordered[1:]
    valid_positions = np.flatnonzero(valid)
    counts = np.bincount(truth_rank, minlength=n_classes).astype(np.float64)
    # Histogram matching: cut j after as many rows as the truth has of classes below j.
    wanted = np.cumsum(counts)[:-1]
    places = valid_positions[np.clip(np.searchsorted(valid_positions, wanted), 0, len(valid_positions) - 1)]
    positions = np.maximum.accumulate(places).astype(np.int64)
    classes = np.arange(n_classes)
    # g[c]: the expected disagreement one row predicted c adds, times n.
    squares = np.subtract.outer(classes, classes) ** 2.0
    g = (squares * counts[:, None]).sum(axis=0) / max(n, 1)
    # runs[c, p]: the rows of truth c predicted p (kept up to date as the cut-points move); the
    # rows predicted p disagree by sum_c (c - p)^2 runs[c, p]. Every disagreement is a whole number,
    # exact in any order of the sums, so the scores below are the same floats however they are summed.
    predicted = np.repeat(classes, np.diff(np.concatenate(([0], positions, [n]))))
    runs = (
        np.bincount(ranks * n_classes + predicted, minlength=n_classes * n_classes)
        .reshape(n_classes, n_classes)
        .astype(np.float64)
    )
    # Moving the cut between classes j-1 and j past a row of truth t adds 2 (t - j) + 1 to the
    # observed disagreement: over rows [low, low + m), passed[low + m] - passed[low] - 2 j m.
    passed = np.zeros(n + 1)
    np.cumsum(2.0 * ranks + 1.0, out=passed[1:])
    up = np.arange(n + 1, dtype=np.float64)
    down = up[::-1]
    invalid = np.flatnonzero(~valid)
    for _ in range(sweeps):
        moved = False
        for j in range(1, n_classes):
            low = positions[j - 2] if j >= 2 else 0
            high = positions[j] if j < n_classes - 1 else n
            # The rows outside [low, high) keep their classes: p for the rows [bounds[p], bounds[p + 1]).
            bounds = np.concatenate(([0], positions, [n]))
            rest = np.ones(n_classes, dtype=bool)
            rest[j - 1 : j + 1] = False
            observed_rest = float((squares[:, rest] * runs[:, rest]).sum())
            counts_pred = np.where(rest, np.diff(bounds), 0).astype(np.float64)
            expected_rest = float(g @ counts_pred)
            # Rows [low, m) predicted j-1, rows [m, high) predicted j: all predicted j first.
            base = float(squares[:, j] @ (runs[:, j - 1] + runs[:, j]))
            m = up[: high - low + 1]
            kappa = np.multiply(m, -2.0 * j)
            kappa += passed[low : high + 1]
            kappa += observed_rest + base - passed[low]
            expected = np.multiply(m, g[j - 1])
            expected += expected_rest
            expected += down[n - (high - low) :] * g[j]
            if expected_rest > 0:
                kappa /= expected
                np.subtract(1.0, kappa, out=kappa)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    kappa = np.where(expected > 0, 1.0 - kappa / expected, -np.inf)
            kappa[invalid[np.searchsorted(invalid, low) : np.searchsorted(invalid, high, side="right")] - low] = -np.inf
            current = positions[j - 1] - low
            best = int(np.argmax(kappa))
            if kappa[best] > kappa[current] + _TIE * max(1.0, abs(kappa[current])):
                start, end = sorted((low + current, low + best))
                passing = np.bincount(ranks[start:end], minlength=n_classes)
                # Rows [start, end) go from class j to j-1 (the cut moves up) or back.
                sign = 1.0 if best > current else -1.0
                runs[:, j - 1] += sign * passing
                runs[:, j] -= sign * passing
                positions[j - 1] = low + best
                moved = True
        if not moved:
            break
    return tuple(_cut_at(ordered, int(m)) for m in positions)


def _cut_at(ordered: NDArray[np.float64], m: int) -> float:
    """A cut-point that leaves the first ``m`` of the increasing ``ordered`` values at or below it."""
    n = ordered.shape[0]
    if m == 0:
        return float(np.nextafter(ordered[0], -np.inf))
    if m == n:
        return float(ordered[-1])
    low, high = float(ordered[m - 1]), float(ordered[m])
    middle = (low + high) / 2
    return middle if low <= middle < high else low


def rounding_cuts(values: NDArray) -> tuple[float, ...]:
    """The plain cut-points of integer classes ``values`` (sorted): halfway between neighbours, so a
    prediction goes to its nearest class.

    >>> rounding_cuts(np.array([1.0, 2.0, 4.0]))
    (1.5, 3.0)
    """
    values = np.asarray(values, dtype=np.float64)
    return tuple(float(cut) for cut in (values[:-1] + values[1:]) / 2)

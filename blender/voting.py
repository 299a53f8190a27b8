"""Majority and weighted voting over one-hot votes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from blender.layout import normalise_weights, weighted_sum
from blender.validate import check_weights

# Tallies within this relative distance of the top one tie (in memory and out of core): sums of
# float weights in another order differ in the last bits.
TIE_TOLERANCE = 1e-12


def vote(votes: NDArray, *, weights: NDArray[np.float64] | None = None) -> NDArray[np.int64]:
    """Majority (or weighted) vote of the models, row by row.

    Each model gives its weight to the class it votes for; the class with the most weight
    wins. A tie goes to the tied class of the first model (in the order given) that voted
    for one, so with two models the first one decides every disagreement, and the result
    never depends on how the classes sort.

    Parameters
    ----------
    votes : ndarray of shape (n_models, n_rows, n_classes)
        One-hot votes (labels as :mod:`blender.io` reads them, or
        :func:`probabilities_to_votes` of probabilities), rows aligned by id.
    weights : ndarray of shape (n_models,), default=None
        Non-negative votes per model; None gives every model one vote.

    Returns
    -------
    ndarray of shape (n_rows,)
        The winning class's column of each row.

    See Also
    --------
    probabilities_to_votes : turn probabilities into votes first.

    Examples
    --------
    Three models, classes (bird, cat, dog), three rows:

    >>> import numpy as np
    >>> votes = np.eye(3)[np.array([[1, 1, 0], [2, 1, 1], [2, 2, 2]])]  # models x rows x classes
    >>> vote(votes)
    array([2, 1, 0])
    >>> vote(votes, weights=np.array([3.0, 1.0, 1.0]))
    array([1, 1, 0])
    """
    votes = np.asarray(votes)
    n_models, n_rows, _ = votes.shape
    weights = normalise_weights(check_weights(weights, n_models))
    tally = weighted_sum(votes, weights)
    chosen = votes.argmax(axis=2)  # each model's class per row, (n_models, n_rows)
    # Among the classes with the top tally, pick the one voted for by the earliest model.
    best = tally.max(axis=1, keepdims=True)
    is_top = np.isclose(tally, best, rtol=TIE_TOLERANCE, atol=0.0) & (tally > 0)
    rows = np.arange(n_rows)
    voted_top = is_top[rows, chosen] & (weights > 0)[:, None]
    first_model = voted_top.argmax(axis=0)
    return chosen[first_model, rows]


def probabilities_to_votes(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Turn probabilities into one-hot votes: 0.5 for one column, argmax for class probabilities.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
        Binary probabilities (P of class 1, ``n_cols == 1``) or class probabilities.

    Returns
    -------
    ndarray of bool, shape (n_models, n_rows, n_classes)
        Two columns (class 0, class 1) for binary: a probability of exactly 0.5 counts as
        class 0, as the argmax of ``[1 - p, p]`` does. Ties between class probabilities go to
        the first column (the metrics agree).

    Examples
    --------
    >>> probabilities_to_votes(np.array([[[0.2], [0.7]], [[0.5], [0.4]]]))[:, :, 1]
    array([[False,  True],
           [False, False]])
    """
    values = np.asarray(values)
    # Booleans: an eighth of the memory of floats for a million rows by ten files.
    if values.shape[2] == 1:
        positive = values[:, :, 0] > 0.5
        return np.stack([~positive, positive], axis=2)
    return np.eye(values.shape[2], dtype=bool)[values.argmax(axis=2)]


def votes_as_output(
    winners: NDArray[np.int64],
    *,
    kind: str,
    classes: list[str] | None,
    n_cols: int,
    binary_labels: list[str] | None = None,
) -> NDArray:
    """What ``blend vote`` writes: label text, the 0/1 class for binary, or one-hot class columns.

    ``binary_labels`` (negative, positive), from a truth with two text labels, turn binary votes
    into those labels instead of 0/1.

    >>> votes_as_output(np.array([1, 0]), kind="labels", classes=["cat", "dog"], n_cols=2)
    array(['dog', 'cat'], dtype=object)
    >>> votes_as_output(np.array([1, 0]), kind="binary", classes=None, n_cols=1, binary_labels=["No", "Yes"])
    array(['Yes', 'No'], dtype=object)
    >>> votes_as_output(np.array([1, 0]), kind="multiclass", classes=None, n_cols=3)
    array([[0, 1, 0],
           [1, 0, 0]])
    """
    if kind == "labels":
        return np.asarray(classes, dtype=object)[winners]
    if kind == "binary":
        if binary_labels is not None:
            return np.asarray(binary_labels, dtype=object)[winners]
        return winners.astype(np.int64)
    return np.eye(n_cols, dtype=np.int64)[winners]

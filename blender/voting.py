"""Majority and weighted voting over class labels."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender.validate import check_weights


def vote(labels: ArrayLike, *, weights: NDArray[np.float64] | None = None) -> NDArray:
    """Majority (or weighted) vote of the models' labels, row by row.

    Each model gives its weight to the label it predicts; the label with the most weight wins.
    A tie goes to the tied label of the first model (in the order given) that voted for one,
    so with two models the first one decides every disagreement, and the result never depends
    on how the labels sort.

    Parameters
    ----------
    labels : array-like of shape (n_samples, n_models)
        One column of class labels (strings or integers) per model, rows aligned by id.
    weights : ndarray of shape (n_models,), default=None
        Non-negative votes per model; None gives every model one vote.

    Returns
    -------
    ndarray of shape (n_samples,)
        The winning label of each row, with the dtype of ``labels``.

    See Also
    --------
    probabilities_to_labels : turn probabilities into labels before voting.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([["cat", "dog", "dog"], ["cat", "cat", "dog"], ["bird", "cat", "dog"]])
    >>> vote(labels)
    array(['dog', 'cat', 'bird'], dtype='<U4')
    >>> vote(labels, weights=np.array([3.0, 1.0, 1.0]))
    array(['cat', 'cat', 'bird'], dtype='<U4')
    """
    labels = np.asarray(labels)
    n_samples, n_models = labels.shape
    weights = check_weights(weights, n_models)
    codes, n_classes = _encode(labels)

    # Weighted counts per (row, class), one model at a time: each model adds to one class per
    # row, so the fancy-index += never hits a cell twice, and no (n_samples, n_models) temporaries.
    tally = np.zeros((n_samples, n_classes))
    rows = np.arange(n_samples)
    for model in range(n_models):
        if weights[model] > 0:
            tally[rows, codes[:, model]] += weights[model]

    # Among the labels with the top tally, pick the one voted by the earliest model.
    best = tally.max(axis=1, keepdims=True)
    is_top = np.isclose(tally, best, rtol=1e-12, atol=0.0) & (tally > 0)
    voted_top = np.take_along_axis(is_top, codes, axis=1) & (weights > 0)
    first_model = voted_top.argmax(axis=1)
    return labels[np.arange(n_samples), first_model]


def _encode(labels: NDArray) -> tuple[NDArray[np.integer], int]:
    """Class codes 0..n_classes-1 for every label; small non-negative integers are their own codes."""
    if np.issubdtype(labels.dtype, np.integer) and labels.size and labels.min() >= 0 and labels.max() < 4096:
        # Used as they are (int8 from probabilities_to_labels): no (n_samples, n_models) int64 copy.
        return labels, int(labels.max()) + 1
    classes, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(labels.shape), len(classes)


def probabilities_to_labels(scores: NDArray[np.float64], classes: ArrayLike | None = None) -> NDArray:
    """Turn probabilities into labels: 0.5 for binary columns, argmax for class probabilities.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_models) or (n_models, n_samples, n_classes)
        Binary probabilities (P of class 1), or class probabilities.
    classes : array-like of shape (n_classes,), default=None
        The class names, in column order; None gives class indices (0 and 1 for binary).

    Returns
    -------
    ndarray of shape (n_samples, n_models)
        A probability of exactly 0.5 counts as class 0, as the argmax of ``[1 - p, p]`` does;
        ties between class probabilities go to the first column (the metrics agree). Binary
        class indices are int8 (an eighth of the memory of int64 for a million rows by ten files).

    Examples
    --------
    >>> import numpy as np
    >>> probabilities_to_labels(np.array([[0.2, 0.5], [0.7, 0.4]]))
    array([[0, 0],
           [1, 0]], dtype=int8)
    >>> probabilities_to_labels(np.array([[[0.1, 0.9]], [[0.6, 0.4]]]), ["no", "yes"])
    array([['yes', 'no']], dtype='<U3')
    """
    if scores.ndim == 3:
        indices = scores.argmax(axis=2).T
    else:
        indices = (scores > 0.5).view(np.int8)
    if classes is None:
        return indices
    return np.asarray(classes)[indices]

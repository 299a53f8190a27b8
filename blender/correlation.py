"""Correlation between models' predictions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

CorrelationMethod = Literal["pearson", "spearman", "kendall"]
CORRELATION_METHODS = ("pearson", "spearman", "kendall")


def correlation_matrix(values: NDArray[np.float64], *, method: CorrelationMethod = "pearson") -> NDArray[np.float64]:
    """Correlation of every pair of models' predictions.

    Pearson correlates the values, Spearman their ranks (ties averaged), Kendall the
    concordance of pairs (tau-b, via scipy). Class probabilities are correlated over all
    their cells, each model's (n_samples, n_classes) slice flattened. A constant column has
    no correlation with anything: its row and column are NaN, with 1 on the diagonal.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
    method : {"pearson", "spearman", "kendall"}, default="pearson"

    Returns
    -------
    ndarray of shape (n_models, n_models)
        Symmetric, with ones on the diagonal.

    See Also
    --------
    label_agreement : the share of rows on which two label files agree.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[0.1, 0.4, 0.8], [0.2, 0.3, 0.9], [0.9, 0.5, 0.1]])[:, :, None]
    >>> correlation_matrix(values, method="spearman")
    array([[ 1.,  1., -1.],
           [ 1.,  1., -1.],
           [-1., -1.,  1.]])
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(f"unknown correlation method {method!r}; choose one of {', '.join(CORRELATION_METHODS)}.")
    values = np.asarray(values, dtype=np.float64)
    columns = values.reshape(values.shape[0], -1).T
    if method == "kendall":
        return _kendall(columns)
    if method == "spearman":
        from blender.rank import average_ranks

        columns = np.column_stack([average_ranks(columns[:, j]) for j in range(columns.shape[1])])
    return _pearson(columns)


def most_alike(matrix: NDArray[np.float64]) -> tuple[int, int] | None:
    """The pair of different files with the highest defined correlation, or None if there is none.

    >>> most_alike(np.array([[1.0, 0.2, 0.9], [0.2, 1.0, np.nan], [0.9, np.nan, 1.0]]))
    (0, 2)
    """
    masked = np.where(np.eye(len(matrix), dtype=bool) | np.isnan(matrix), -np.inf, matrix)
    if not np.isfinite(masked).any():
        return None
    i, j = np.unravel_index(np.argmax(masked), masked.shape)
    return int(i), int(j)


def label_agreement(votes: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of rows on which each pair of models votes for the same class.

    Parameters
    ----------
    votes : ndarray of shape (n_models, n_rows, n_classes)
        One-hot votes (labels as :mod:`blender.io` reads them).

    Returns
    -------
    ndarray of shape (n_models, n_models)

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.eye(3)[np.array([[0, 1, 2, 0], [0, 0, 2, 0]])]  # classes a, b, c
    >>> label_agreement(votes)
    array([[1.  , 0.75],
           [0.75, 1.  ]])
    """
    chosen = np.asarray(votes).argmax(axis=2)
    n_models = chosen.shape[0]
    agreement = np.ones((n_models, n_models))
    for i in range(n_models):
        for j in range(i + 1, n_models):
            agreement[i, j] = agreement[j, i] = np.mean(chosen[i] == chosen[j])
    return agreement


def _pearson(columns: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson correlation of the columns, by BLAS over blocks of rows; constant columns give NaN."""
    # Centre a block of rows at a time: no second (n_rows, n_models) array, same numbers.
    mean = columns.mean(axis=0)
    n_models = columns.shape[1]
    covariance = np.zeros((n_models, n_models))
    block = max(1, 2**20 // max(n_models, 1))
    for start in range(0, len(columns), block):
        centred = columns[start : start + block] - mean
        covariance += centred.T @ centred
    spread = np.sqrt(np.diag(covariance))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = covariance / np.outer(spread, spread)
    np.clip(corr, -1.0, 1.0, out=corr)
    np.fill_diagonal(corr, 1.0)
    return corr


def _kendall(columns: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.stats import kendalltau

    n_models = columns.shape[1]
    corr = np.eye(n_models)
    for i in range(n_models):
        for j in range(i + 1, n_models):
            corr[i, j] = corr[j, i] = kendalltau(columns[:, i], columns[:, j]).statistic
    return corr

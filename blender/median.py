"""The median of the files, cell by cell: a mean that one wild file cannot drag.

Kaggle users reach for it when a few submissions in a blend are far off on some rows (a model
that diverged, a teammate's file on another scale): the median ignores them where the mean
would not. For class probabilities the medians are renormalised so each row sums to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def median(values: NDArray[np.float64], *, kind: str = "regression") -> NDArray[np.float64]:
    """The median over the models of each cell.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
    kind : {"binary", "multiclass", "regression"}, default="regression"
        For "multiclass", each row of medians is divided by its sum.

    Returns
    -------
    ndarray of shape (n_rows, n_cols)

    Examples
    --------
    >>> values = np.array([[0.1, 0.8], [0.2, 0.7], [0.9, 0.75]])[:, :, None]  # three models, two rows
    >>> median(values, kind="binary")[:, 0].tolist()
    [0.2, 0.75]
    >>> median(np.array([[[0.2, 0.8]], [[0.6, 0.4]], [[0.5, 0.5]]]), kind="multiclass").round(4).tolist()
    [[0.5, 0.5]]
    """
    blended = np.median(np.asarray(values, dtype=np.float64), axis=0)
    if kind == "multiclass":
        blended /= blended.sum(axis=1, keepdims=True)
    return blended


@dataclass(frozen=True, eq=False)
class Median:
    """The fitted median (nothing to learn)."""

    kind: str

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return median(values, kind=self.kind)


def fit_median(
    values: NDArray, y: NDArray | None, *, kind: str, metric: object, random_state: int | None = None
) -> Median:
    """The registry's fit for ``median``: it learns nothing from the OOF rows."""
    return Median(kind)

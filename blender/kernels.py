"""Small numeric kernels shared by the greedy searches (Caruana selection, hill climbing).

How close two gains must be to count as a tie, which of several near-equal gains wins, and
the sum of many logs taken with one log per product of 16 values.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from blender import arrays

# Scores closer than this (relative) are a tie: the mean of three copies of a model is
# not bit-for-bit the model, and rounding noise must not pick the members.
TOLERANCE = 1e-12
# Log loss takes one log of the product of this many probabilities (see sum_logs).
LOG_GROUP = 16


def first_best(gains: NDArray[np.float64]) -> int:
    """Index of the first gain within rounding noise of the largest (NaN never wins)."""
    gains = np.nan_to_num(gains, nan=-np.inf)
    top = gains.max()
    return int(np.flatnonzero(gains >= top - TOLERANCE * max(1.0, abs(top)))[0])


def improves(gain: float, best: float) -> bool:
    """Whether ``gain`` beats ``best`` by more than rounding noise."""
    return gain > best + TOLERANCE * max(1.0, abs(best))


def sum_logs(values: NDArray[np.float64], xp: ModuleType | None = None) -> NDArray[np.float64]:
    """``np.log(values).sum(axis=1)`` with one log per 16 values, for values in [EPSILON, 1e18].

    A log costs many multiplications, so the row is halved four times (first half times second
    half, in place) and the log taken of products of 16 values. Each product is exact to 15
    roundings (a relative 2e-15), far below the tie tolerance; its factors keep it a normal
    float (EPSILON ** 16 = 1e-240, 1e18 ** 16 = 1e288). Overwrites float64 ``values``; float32 ones are read only,
    their products taken in float64 (the same bits as converting them first).

    ``xp`` (default: the run's namespace, :mod:`blender.arrays`): outside NumPy, ``values`` are an
    ``xp`` array and the sums ``xp.sum(xp.log(values), axis=1)``, by the Python array API alone.
    """
    namespace = arrays.namespace(xp)
    if namespace is not np and not isinstance(values, np.ndarray):
        return namespace.sum(namespace.log(values), axis=1)
    n_rows = values.shape[1]
    grouped = n_rows - n_rows % LOG_GROUP
    width = grouped
    products = values
    if values.dtype != np.float64:
        # float32 (or narrower) values: the first halving's products are taken in float64, into a new array
        # of half the width (no float64 copy of the values; the same bits as converting them first), and
        # the values are left as they are.
        width //= 2
        products = np.multiply(values[:, :width], values[:, width : 2 * width], dtype=np.float64)
    while width > grouped // LOG_GROUP:
        width //= 2
        np.multiply(products[:, :width], products[:, width : 2 * width], out=products[:, :width])
    sums = np.log(products[:, :width], out=products[:, :width]).sum(axis=1)
    if grouped < n_rows:
        sums += np.log(values[:, grouped:].astype(np.float64)).sum(axis=1)
    return sums

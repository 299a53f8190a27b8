"""Arithmetic, geometric, harmonic and power means of aligned predictions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.validate import check_weights

MeanKind = Literal["arithmetic", "geometric", "harmonic", "power"]
MEAN_KINDS = ("arithmetic", "geometric", "harmonic", "power")


def average(
    scores: NDArray[np.float64],
    *,
    kind: MeanKind = "arithmetic",
    power: float | None = None,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Average the models' predictions, column by column.

    The weighted power mean ``(sum_j w_j x_j**p / sum_j w_j) ** (1/p)`` with p = 1 (arithmetic),
    p -> 0 (geometric), p = -1 (harmonic) or any ``power``. For class probabilities every mean
    but the arithmetic one is renormalised so that each row sums to 1 again.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_models) or (n_models, n_samples, n_classes)
        One column per model (binary probabilities or regression values), or one
        (n_samples, n_classes) slice per model of class probabilities; rows aligned by id.
    kind : {"arithmetic", "geometric", "harmonic", "power"}, default="arithmetic"
    power : float, default=None
        The exponent for ``kind="power"`` (required then, ignored otherwise). 0 is the
        geometric mean and 1 the arithmetic one.
    weights : ndarray of shape (n_models,), default=None
        Non-negative model weights; None weighs every model the same. Only ratios matter.

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_classes)

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    BlendInputError
        For a missing ``power``, bad weights, or non-positive values where a geometric,
        harmonic or negative-power mean needs positive ones (a user can fix these).

    See Also
    --------
    rank_average : average ranks instead of values.

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.array([[0.1, 0.2, 0.4], [0.9, 0.8, 0.7]])
    >>> average(scores)
    array([0.23333333, 0.8       ])
    >>> average(scores, weights=np.array([2.0, 1.0, 1.0]))
    array([0.2  , 0.825])
    >>> average(scores, kind="geometric")
    array([0.2       , 0.79581144])
    """
    if kind not in MEAN_KINDS:
        raise ValueError(f"unknown mean {kind!r}; choose one of {', '.join(MEAN_KINDS)}.")
    if kind == "power" and power is None:
        raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
    exponent = {"arithmetic": 1.0, "geometric": 0.0, "harmonic": -1.0}.get(kind, power)
    model_axis = 0 if scores.ndim == 3 else 1
    n_models = scores.shape[model_axis]
    weights = check_weights(weights, n_models)
    weights = weights / weights.sum()
    original = scores
    if exponent <= 0 and np.any(scores <= 0):
        # log(0) and 1/0 are -inf and inf; clip probabilities rather than return nonsense.
        if scores.ndim == 3 or (np.all(scores >= 0) and np.all(scores <= 1)):
            scores = np.clip(scores, 1e-15, None)
        else:
            raise BlendInputError(f"the {kind} mean needs positive values; use the arithmetic or rank average.")
    blended = _weighted_power_mean(scores, weights, exponent, model_axis)
    if scores.ndim == 3 and exponent != 1.0:
        blended /= blended.sum(axis=1, keepdims=True)
    _keep_agreed_rows(blended, original, weights > 0)
    return blended


def _keep_agreed_rows(blended, scores, voting) -> None:
    """Where every weighted model gives the same row, the mean is that row, bit for bit.

    Floating point alone gets it 1 ulp off (x/3 + x/3 + x/3, exp(log x), renormalising),
    and averaging a file with itself should give the file back.
    """
    if scores.ndim == 3:
        used = scores if voting.all() else scores[voting]
        agreed = (used == used[:1]).all(axis=(0, 2))
        blended[agreed] = used[0][agreed]
    else:
        used = scores if voting.all() else scores[:, voting]
        agreed = (used == used[:, :1]).all(axis=1)
        blended[agreed] = used[agreed, 0]


def _weighted_power_mean(scores, weights, exponent, model_axis):
    """The weighted power mean along the model axis; exponent 0 is the geometric mean."""
    if exponent == 1.0:
        transformed = scores
    elif exponent == 0.0:
        transformed = np.log(scores)
    else:
        transformed = np.power(scores, exponent)
    if model_axis == 0:
        mean = np.tensordot(weights, transformed, axes=1)
    else:
        mean = transformed @ weights
    if exponent == 1.0:
        return mean
    if exponent == 0.0:
        return np.exp(mean)
    return np.power(mean, 1.0 / exponent)

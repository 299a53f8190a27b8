"""Arithmetic, geometric, harmonic, power and logit means of aligned predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.layout import normalise_weights, weighted_sum
from blender.validate import check_weights, non_positive_error

if TYPE_CHECKING:
    from blender.io.predictions import Predictions

MeanKind = Literal["arithmetic", "geometric", "harmonic", "power", "logit"]
MEAN_KINDS = ("arithmetic", "geometric", "harmonic", "power", "logit")

# Probabilities are clipped to [CLIP, 1 - CLIP] before a log or a reciprocal (in memory and out of core).
CLIP = 1e-15


def exponent(kind: str, power: float | None = None) -> float | None:
    """The power-mean exponent of a mean: 1 arithmetic, 0 geometric, -1 harmonic, else ``power``.

    >>> exponent("geometric"), exponent("power", 2.0)
    (0.0, 2.0)
    """
    return {"arithmetic": 1.0, "geometric": 0.0, "harmonic": -1.0}.get(kind, power)


def average(
    values: NDArray[np.float64],
    *,
    kind: MeanKind = "arithmetic",
    power: float | None = None,
    weights: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Average the models' predictions, column by column.

    The weighted power mean ``(sum_j w_j x_j**p / sum_j w_j) ** (1/p)`` with p = 1 (arithmetic),
    p -> 0 (geometric), p = -1 (harmonic) or any ``power``. ``"logit"`` averages the log-odds
    of probabilities: the sigmoid of the mean logit for one probability column, the softmax
    of the mean log-probability for class probabilities (there it equals the renormalised
    geometric mean). For class probabilities (several columns) every mean but the arithmetic
    one is renormalised so that each row sums to 1 again.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
        The models' predictions in :mod:`blender.layout`'s layout, rows aligned by id.
    kind : {"arithmetic", "geometric", "harmonic", "power", "logit"}, default="arithmetic"
    power : float, default=None
        The exponent for ``kind="power"`` (required then, ignored otherwise). 0 is the
        geometric mean and 1 the arithmetic one.
    weights : ndarray of shape (n_models,), default=None
        Non-negative model weights; None weighs every model the same. Only ratios matter.

    Returns
    -------
    ndarray of shape (n_rows, n_cols)

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    BlendInputError
        For a missing ``power``, bad weights, non-positive values where a geometric,
        harmonic or negative-power mean needs positive ones, or values outside [0, 1] for
        the logit mean (a user can fix these).

    See Also
    --------
    rank_average : average ranks instead of values.

    Examples
    --------
    >>> import numpy as np
    >>> values = np.array([[[0.1], [0.9]], [[0.2], [0.8]], [[0.4], [0.7]]])
    >>> average(values)[:, 0]
    array([0.23333333, 0.8       ])
    >>> average(values, weights=np.array([2.0, 1.0, 1.0]))[:, 0]
    array([0.2  , 0.825])
    >>> average(values, kind="geometric")[:, 0]
    array([0.2       , 0.79581144])
    >>> average(np.array([[[0.5]], [[0.9]]]), kind="logit")[:, 0]
    array([0.75])
    """
    if kind not in MEAN_KINDS:
        raise ValueError(f"unknown mean {kind!r}; choose one of {', '.join(MEAN_KINDS)}.")
    if kind == "power" and power is None:
        raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
    values = np.asarray(values, dtype=np.float64)
    weights = normalise_weights(check_weights(weights, values.shape[0]))
    several_columns = values.shape[2] > 1
    probabilities = several_columns or bool(np.all(values >= 0) and np.all(values <= 1))
    original = values
    if kind == "logit":
        if not probabilities:
            raise BlendInputError("the logit mean needs probabilities in [0, 1]; use the arithmetic or rank average.")
        clipped = np.clip(values, CLIP, 1.0 - CLIP)
        if several_columns:
            blended = _softmax(weighted_sum(np.log(clipped), weights))
        else:
            log_odds = weighted_sum(np.log(clipped) - np.log1p(-clipped), weights)
            blended = 1.0 / (1.0 + np.exp(-log_odds))
        _keep_agreed_rows(blended, original, weights > 0)
        return blended
    exponent_value = exponent(kind, power)
    assert exponent_value is not None  # the power mean's exponent was checked above
    if exponent_value <= 0 and np.any(values <= 0):
        # log(0) and 1/0 are -inf and inf; clip probabilities rather than return nonsense.
        if not probabilities:
            raise BlendInputError(f"the {kind} mean needs positive values; use the arithmetic or rank average.")
        values = np.clip(values, CLIP, None)
    blended = _weighted_power_mean(values, weights, exponent_value)
    if several_columns and exponent_value != 1.0:
        blended /= blended.sum(axis=1, keepdims=True)
    _keep_agreed_rows(blended, original, weights > 0)
    return blended


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _keep_agreed_rows(blended: NDArray, values: NDArray, voting: NDArray) -> None:
    """Where every weighted model gives the same row, the mean is that row, bit for bit.

    Floating point alone gets it 1 ulp off (x/3 + x/3 + x/3, exp(log x), renormalising),
    and averaging a file with itself should give the file back.
    """
    used = values if voting.all() else values[voting]
    agreed = (used == used[:1]).all(axis=(0, 2))
    blended[agreed] = used[0][agreed]


def _weighted_power_mean(values: NDArray, weights: NDArray, exponent: float) -> NDArray[np.float64]:
    """The weighted power mean along the model axis; exponent 0 is the geometric mean."""
    if exponent == 1.0:
        transformed = values
    elif exponent == 0.0:
        transformed = np.log(values)
    else:
        transformed = np.power(values, exponent)
    mean = weighted_sum(transformed, weights)
    if exponent == 1.0:
        return mean
    if exponent == 0.0:
        return np.exp(mean)
    return np.power(mean, 1.0 / exponent)


def check_mean_inputs(predictions: Predictions, *, mean: str, power: float | None) -> None:
    """Refuse regression values that a power mean cannot take, naming the file and row: values of 0 or less for an
    exponent of 0 or less, negative values for any other exponent but 1 (``(-2) ** 0.5`` is not a real number).

    Probabilities are clipped away from 0 by :func:`average` instead.
    """
    if mean == "logit":
        return  # log-odds: probabilities only, and they are clipped
    power_exponent = exponent(mean, power)
    if predictions.kind != "regression" or power_exponent is None or power_exponent == 1:
        return
    zero_ok = power_exponent > 0
    bad = predictions.values < 0 if zero_ok else predictions.values <= 0
    if not bad.any():
        return
    model, row, column = (int(index[0]) for index in np.nonzero(bad))
    label = f"power (p={power_exponent:g})" if mean == "power" else mean
    raise non_positive_error(
        predictions.paths[model],
        float(predictions.values[model, row, column]),
        str(cast("Sequence[object]", predictions.ids)[row]),
        predictions.columns[column],
        label,
        zero_ok=zero_ok,
    )

"""Per-file temperature scaling: each model's probabilities sharpened or softened before blending.

A model whose probabilities are too unsure (forests often are) or too sure (a CNN trained
to zero loss) drags a blend's log loss. Temperature scaling (Guo et al. 2017) divides each
model's logits by one number T fitted to minimise that model's log loss on the OOF rows:
``sigmoid(logit(p) / T)`` for one probability column, ``softmax(log(p) / T)`` for class
probabilities. T > 1 softens, T < 1 sharpens, and the argmax (so accuracy) never changes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from blender import metrics

# Probabilities are clipped to [_EPSILON, 1 - _EPSILON] before the log.
_EPSILON = 1e-12
# Temperatures are searched in [1/50, 50], on a log scale.
_LOG_BOUND = np.log(50.0)


def fit_temperatures(values: NDArray[np.float64], y: NDArray[np.int64], *, kind: metrics.Kind) -> NDArray[np.float64]:
    """One temperature per model that minimises its log loss on these rows.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
        Binary or class probabilities.
    y : ndarray of shape (n_rows,)
        0/1 for binary, class indices for class probabilities.
    kind : {"binary", "multiclass"}

    Returns
    -------
    ndarray of shape (n_models,)

    Examples
    --------
    A model that says 0.6 when it is always right is too unsure: T < 1 sharpens it.

    >>> values = np.array([[[0.6], [0.4], [0.6], [0.4]]])
    >>> bool(fit_temperatures(values, np.array([1, 0, 1, 0]), kind="binary")[0] < 0.1)
    True
    """
    from scipy.optimize import minimize_scalar

    _check_kind(kind)
    values = np.asarray(values, dtype=np.float64)
    temperatures = np.ones(values.shape[0])
    for model in range(values.shape[0]):
        # The logits once per file, not once per try of T: the same bits as apply_temperatures computes.
        logits = _logits(values[model : model + 1], kind)

        def loss(log_temperature: float) -> float:
            scaled = _scaled(logits, np.array([np.exp(log_temperature)]), kind)[0]
            return _log_loss(y, scaled, kind)

        found = minimize_scalar(loss, bounds=(-_LOG_BOUND, _LOG_BOUND), method="bounded", options={"xatol": 1e-4})
        # Keep T = 1 unless scaling really helps: a flat loss must not move the file.
        if found.fun < loss(0.0) - 1e-12:
            temperatures[model] = float(np.exp(found.x))
    return temperatures


def apply_temperatures(
    values: NDArray[np.float64], temperatures: NDArray[np.float64], *, kind: metrics.Kind
) -> NDArray[np.float64]:
    """Scale each model's probabilities by its temperature; shape as ``values``.

    >>> apply_temperatures(np.array([[[0.5], [0.9]]]), np.array([2.0]), kind="binary")[0, :, 0].round(4)
    array([0.5 , 0.75])
    """
    _check_kind(kind)
    return _scaled(_logits(values, kind), temperatures, kind)


def _logits(values: NDArray, kind: str) -> NDArray[np.float64]:
    """The log-odds (binary) or log-probabilities (classes) of the clipped values: what a temperature divides."""
    values = np.clip(np.asarray(values, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    if kind == "binary":
        return np.log(values) - np.log1p(-values)
    return np.log(values)


def _scaled(logits: NDArray[np.float64], temperatures: NDArray, kind: str) -> NDArray[np.float64]:
    """Probabilities from ``logits`` divided by each model's temperature."""
    temperatures = np.asarray(temperatures, dtype=np.float64)[:, None, None]
    if kind == "binary":
        return 1.0 / (1.0 + np.exp(-(logits / temperatures)))
    scaled_logits = logits / temperatures
    scaled_logits -= scaled_logits.max(axis=2, keepdims=True)
    scaled = np.exp(scaled_logits)
    return scaled / scaled.sum(axis=2, keepdims=True)


def _log_loss(y: NDArray[np.int64], probabilities: NDArray[np.float64], kind: metrics.Kind) -> float:
    column = probabilities[:, 0] if kind == "binary" else probabilities
    return metrics.score(y, column, metric="logloss", kind=kind)


def _check_kind(kind: str) -> None:
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"temperature scaling needs probabilities, not {kind} predictions")

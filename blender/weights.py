"""Weights on the simplex that optimise a metric on out-of-fold predictions.

:func:`optimize_weights` learns the weights; :func:`blender.layout.weighted_blend` blends
any set of predictions with them (a weighted mean of probabilities, values or label votes),
so the same weights carry over from the OOF rows to the test rows.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics

# SLSQP follows gradients; on a step function (accuracy, AUC) every numerical gradient
# is zero and it would stop at the start, so those metrics go to Nelder-Mead.
SMOOTH_METRICS = ("logloss", "rmse", "mae")
OPTIMIZERS = ("slsqp", "nelder-mead")


#: The scipy.optimize methods ``optimize_weights`` takes.
METHODS = ("slsqp", "nelder-mead")


def optimize_weights(
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    method: Literal["slsqp", "nelder-mead"] = "slsqp",
) -> NDArray[np.float64]:
    """Non-negative weights summing to 1 that optimise the metric on the OOF rows.

    Both optimisers start from uniform weights. ``"slsqp"`` searches the simplex
    directly (bounds [0, 1] and the constraint sum = 1); ``"nelder-mead"`` searches an
    unconstrained vector ``x`` mapped to the simplex as ``|x| / sum(|x|)``. Accuracy and
    AUC are step functions whose numerical gradient is zero, so SLSQP hands them to
    Nelder-Mead (see :data:`SMOOTH_METRICS`). RMSE is optimised as the MSE, which has
    the same optimum and a gradient at a perfect fit. If the optimiser ends worse than
    the uniform start, the uniform weights are returned.

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_rows, n_cols)
        Out-of-fold predictions, rows aligned with ``y``.
    y : ndarray of shape (n_rows,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        None means :func:`blender.metrics.default_metric` of the kind.
    method : {"slsqp", "nelder-mead"}, default="slsqp"

    Returns
    -------
    ndarray of shape (n_models,)
        Non-negative, summing to 1.

    Raises
    ------
    ValueError
        For an unknown method, or a metric that does not suit the kind.

    See Also
    --------
    blender.layout.weighted_blend : blend the test predictions with the weights.

    Examples
    --------
    >>> a = np.array([1.0, 2.0, 3.0, 4.0])
    >>> b = np.array([2.0, 0.0, 1.0, 3.0])
    >>> weights = optimize_weights(np.stack([a, b])[:, :, None], 0.3 * a + 0.7 * b,
    ...                            kind="regression", metric="rmse")
    >>> np.round(weights, 4)
    array([0.3, 0.7])
    """
    if method not in OPTIMIZERS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(OPTIMIZERS)}")
    metric = metrics.for_truth(metric, kind, y)
    stand_in = surrogate(metric, kind)
    if stand_in is not None:
        # The metric's steps are flat (F1, qwk, map@K): fit the smooth stand-in, and let the metric
        # itself judge the result against the uniform start.
        weights = optimize_weights(oof, y, kind=kind, metric=stand_in, method=method)
        judge, _, _ = weight_objective(oof, y, kind=kind, metric=metric)
        uniform = np.full(weights.shape[0], 1.0 / weights.shape[0])
        return weights if judge(weights) <= judge(uniform) else uniform
    loss, n_models, gradient = weight_objective(oof, y, kind=kind, metric=metric)
    uniform = np.full(n_models, 1.0 / n_models)
    if n_models == 1:
        return uniform

    from scipy.optimize import minimize

    if method == "slsqp" and metric in SMOOTH_METRICS:
        from threadpoolctl import threadpool_limits

        # The exact gradient (log loss, MSE): with hundreds of files, finite differences would
        # cost one loss per file at every step. One BLAS thread: SLSQP's own linear algebra is
        # on (n_models, n_models) matrices, too small to share, and with 500 files on a busy
        # 2-core machine its threads made it five times slower.
        with threadpool_limits(limits=1, user_api="blas"):
            result = minimize(
                loss,
                uniform,
                jac=gradient,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * n_models,
                constraints=[
                    {"type": "eq", "fun": lambda weights: weights.sum() - 1.0, "jac": lambda weights: np.ones(n_models)}
                ],
                options={"ftol": 1e-12, "maxiter": 500},
            )
        weights = _to_simplex(result.x)
    else:
        result = minimize(
            lambda x: loss(_to_simplex(x)),
            uniform,
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 400 * n_models, "adaptive": n_models > 3},
        )
        weights = _to_simplex(result.x)
    return weights if loss(weights) <= loss(uniform) else uniform


def surrogate(metric: metrics.Metric, kind: str) -> metrics.Metric | None:
    """The smooth metric the weights are fitted on instead of ``metric``, or None to fit ``metric`` itself.

    A metric of decisions has flat steps no optimiser can follow: its entry names a stand-in
    (log loss for class decisions, RMSE for qwk on numbers), used where it suits the kind.
    Label votes have no smooth stand-in.

    >>> surrogate(metrics.resolve("f1", "binary"), "binary"), surrogate(metrics.resolve("logloss", "binary"), "binary")
    ('logloss', None)
    """
    name = metric.entry.surrogate
    if name is None or metric.entry.name == name:
        return None
    for candidate in (name, "logloss"):
        try:
            return metrics.resolve(candidate, kind)
        except ValueError:
            continue
    return None


def _to_simplex(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map any vector to non-negative weights summing to 1 (uniform if it is all zero)."""
    magnitude = np.abs(x)
    total = magnitude.sum()
    if not np.isfinite(total) or total == 0:
        return np.full(x.shape[0], 1.0 / x.shape[0])
    return magnitude / total


Loss = Callable[[NDArray[np.float64]], float]
Gradient = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def weight_objective(
    oof: NDArray, y: NDArray, *, kind: metrics.Kind, metric: metrics.Metric
) -> tuple[Loss, int, Gradient | None]:
    """A loss of the weights (smaller is better), the number of models, and the loss's gradient (or None)."""
    oof = np.asarray(oof, dtype=np.float64)
    y = np.asarray(y)
    n_models = oof.shape[0]
    if metric == "logloss":
        # Only the probability of the true class matters, and it blends linearly.
        truth = _true_class(oof, y, kind)

        last: dict[bytes, NDArray[np.float64]] = {}

        def blend(weights: NDArray[np.float64]) -> NDArray[np.float64]:
            # SLSQP asks for the loss and the gradient at the same weights: blend once for both.
            key = weights.tobytes()
            if key not in last:
                last.clear()
                last[key] = truth @ weights
            return last[key]

        def log_loss(weights: NDArray[np.float64]) -> float:
            return -float(np.mean(np.log(np.clip(blend(weights), metrics.EPSILON, 1 - metrics.EPSILON))))

        def log_loss_gradient(weights: NDArray[np.float64]) -> NDArray[np.float64]:
            blended = blend(weights)
            inside = (blended > metrics.EPSILON) & (blended < 1 - metrics.EPSILON)
            # A clipped row's loss does not move with the weights: it adds nothing to the gradient.
            factor = np.divide(1.0, blended, out=np.zeros_like(blended), where=inside)
            return -(factor @ truth) / truth.shape[0]

        return log_loss, n_models, log_loss_gradient
    if metric == "rmse":
        columns = oof[:, :, 0].T

        def squared_error(weights: NDArray[np.float64]) -> float:
            return float(np.mean((columns @ weights - y) ** 2))

        def squared_error_gradient(weights: NDArray[np.float64]) -> NDArray[np.float64]:
            return 2.0 * columns.T @ (columns @ weights - y) / columns.shape[0]

        return squared_error, n_models, squared_error_gradient
    sign = -1.0 if metrics.greater_is_better(metric) else 1.0

    def loss(weights: NDArray[np.float64]) -> float:
        return sign * layout.score(y, layout.weighted_sum(oof, weights), metric=metric, kind=kind)

    return loss, n_models, None


def _true_class(oof: NDArray[np.float64], y: NDArray, kind: str) -> NDArray[np.float64]:
    """Each model's probability of the true class, shape (n_rows, n_models)."""
    if kind == "binary":
        return metrics.true_class_probability(y, oof[:, :, 0].T, kind="binary")
    return metrics.true_class_probability(y, oof, kind="multiclass")

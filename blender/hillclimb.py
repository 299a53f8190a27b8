"""Hill climbing: blend weights found by greedy steps of ``(1 - w) * blend + w * model``.

The climb starts from the best single model by OOF score. At every step it tries every
model (a model may be added again) with every weight ``w`` of a grid, takes the best
(model, w), and stops when the best step gains less than a tolerance. With
``negative_weights=True`` the grid also holds negative ``w``, which subtracts a model:
useful when a model's errors run with the blend's.

Every weight of the grid is scored in one vectorised step per candidate (in chunks that
fit in cache): the candidate blends ``blend + w * (model - blend)`` are one array, and the
metrics score all of its rows at once. Log loss multiplies the true-class probabilities
sixteen at a time and takes one log per product; AUC orders each blend by a 16-bit radix
pass before an adaptive sort, about three times faster than one plain sort.
``benchmarks/bench_hillclimb.py`` times this against a straightforward loop.

With log loss or RMSE and no negative weight, a step first bounds every model's best gain
(one matrix-vector product: the tangent of the convex log loss, the exact least value of the
quadratic MSE) and scores models best bound first, skipping those whose bound shows they
cannot be the step taken. The climb is the same, step for step and bit for bit; with 500
files a step scores a few dozen of them instead of all 500.

With the default grid, RMSE and log loss take their steps without it (``line_search``): the best
``w`` of the grid's range is the clipped vertex of a quadratic for RMSE (one pass over each model,
where the grid took 50) and a few safeguarded Newton steps for log loss, convex along a step (about
six passes over the models the bounds leave, instead of 50). Each such step scores at least as well
as every weight of the grid. AUC, accuracy, plug-in metrics, an explicit grid and clipped blends
(negative weights on probabilities) keep the grid.

Probabilities blended with a negative weight are clipped and class rows renormalised,
exactly as :func:`blender.layout.weighted_blend` does, and every step the climb takes is
scored again through ``weighted_blend``: the reported scores are what
``layout.score(y, layout.weighted_blend(values, weights, kind=kind), ...)`` gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from blender import arrays, layout, metrics
from blender.kernels import TOLERANCE, first_best, sum_logs

# An array of a kernel's array-API namespace (NumPy, CuPy, array-api-strict): typed loosely, as the standard is.
XArray = Any

# Candidate blends are built in chunks of at most this many float64 values (4 MB), as in
# Caruana selection: a chunk stays in cache through the several passes of a score.
_CHUNK_VALUES = 1 << 19

# The default grid: a step adds between 1 % and 50 % of a model. Above one half the newcomer
# would outweigh everything chosen so far; with replacement two steps of 0.5 reach 75 %
# anyway. Steps of 0.01 are fine enough that the grid rarely limits the score, and 50
# weights per candidate keep an iteration cheap.
_STEP = 0.01
_LARGEST = 0.5

# Step scores skip a model whose bound on its best gain shows it cannot be the next step
# (``GridScorer.step_scores``); False scores every model, as before (the tests compare both).
_PRUNE = True
# The bounds are raised by this share of the magnitudes they are computed from: far above
# the rounding of a sum of float64 terms (about 1e-13 of them), so rounding never prunes.
_BOUND_MARGIN = 1e-9
# The most Newton steps a log-loss line search takes on one range (it usually needs four to six).
_NEWTON_STEPS = 40


@dataclass(frozen=True, eq=False)
class HillClimbResult:
    """What :func:`hill_climb` found.

    Attributes
    ----------
    weights : ndarray of shape (n_models,)
        Summing to 1; negative only with ``negative_weights=True``.
    score : float
        The OOF score of ``weights``: equal to
        ``layout.score(y, layout.weighted_blend(values, weights, kind=kind), ...)``.
    start_model : int
        The best single model, where the climb started.
    trajectory : list of (iteration, model, w, score)
        Iteration 0 is the start ``(0, start_model, 1.0, its score)``; then one entry per
        step taken: the model added, its grid weight ``w`` and the blend's score after it.
    model_scores : ndarray of shape (n_models,)
        Each single model's OOF score.
    grid : ndarray of shape (n_grid,)
        The weights ``w`` tried at every step.
    metric : str
    kind : str
    """

    weights: NDArray[np.float64]
    score: float
    start_model: int
    trajectory: list[tuple[int, int, float, float]]
    model_scores: NDArray[np.float64]
    grid: NDArray[np.float64]
    metric: str
    kind: metrics.Kind

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        """Blend another prediction set of the same models with the found weights, shape (n_rows, n_cols)."""
        return layout.weighted_blend(values, self.weights, kind=self.kind)


def default_grid(negative_weights: bool = False) -> NDArray[np.float64]:
    """The weights ``w`` a step tries: 0.01, 0.02, ..., 0.5, and -0.5, ..., -0.01 if asked.

    Examples
    --------
    >>> grid = default_grid()
    >>> len(grid), float(grid[0]), float(grid[-1])
    (50, 0.01, 0.5)
    >>> both = default_grid(negative_weights=True)
    >>> len(both), float(both[0]), float(both[49]), float(both[50])
    (100, -0.5, -0.01, 0.01)
    """
    positive = np.round(np.arange(1, round(_LARGEST / _STEP) + 1) * _STEP, 10)
    if negative_weights:
        return np.concatenate([-positive[::-1], positive])
    return positive


def hill_climb(
    values: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    negative_weights: bool = False,
    grid: NDArray | None = None,
    tolerance: float = 1e-6,
    max_iters: int = 100,
    random_state: int | None = None,
    line_search: bool = True,
    xp: ModuleType | None = None,
) -> HillClimbResult:
    """Blend weights by hill climbing from the best single model.

    Each step replaces the blend by ``(1 - w) * blend + w * values[j]`` for the model ``j``
    and grid weight ``w`` that score best, with replacement (a model may come back). The
    climb stops when the best step gains less than ``tolerance`` (relative), or after
    ``max_iters`` steps. It never ends worse than the best single model: a step is taken
    only if it improves the score.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
        OOF predictions in the layout of :mod:`blender.layout`, rows aligned with ``y``.
    y : ndarray of shape (n_rows,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        None means the kind's default metric.
    negative_weights : bool, default=False
        Also try negative ``w`` (the default grid then adds -0.5, ..., -0.01). Without it,
        every weight stays non-negative.
    grid : ndarray of shape (n_grid,), default=None
        The weights ``w`` to try, each nonzero and below 1; None means
        :func:`default_grid`. Negative entries need ``negative_weights=True``.
    tolerance : float, default=1e-6
        Stop when the best step improves the score by less than ``tolerance * |score|``.
    max_iters : int, default=100
        The most steps to take.
    random_state : int, default=None
        Not used: the climb is deterministic. Among steps that score the same, the
        smallest ``|w|`` wins (positive before negative), then the lowest model index.
    line_search : bool, default=True
        With the default grid and a metric whose best step has a known form, each model's
        step weight is the best ``w`` in the grid's range, found without the grid: the least
        of the quadratic for RMSE, a few safeguarded Newton steps for log loss (convex along
        a step). Its score is at least as good as every grid weight's. RMSE on probabilities
        with negative weights (clipped), log loss with negative weights, an explicit ``grid``
        and every other metric keep the grid. See :meth:`GridScorer.line_steps`.
    xp : array namespace, default=None
        Where the steps are scored (:mod:`blender.arrays`): None is the run's namespace, NumPy unless
        ``--device gpu``. Outside NumPy, binary and regression values with log loss, RMSE, MAE or AUC
        and no negative weight are scored by the Python array API alone, without the CPU's pruning;
        the climb is the same. Each step taken is scored again in NumPy (``weighted_blend``).

    Returns
    -------
    HillClimbResult

    Raises
    ------
    ValueError
        For a metric that does not suit the kind, values and ``y`` of different lengths,
        a bad grid, negative ``tolerance`` or ``max_iters``.

    Examples
    --------
    Two models err in opposite directions; half of each is exact:

    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> errors = np.array([0.5, -0.5, 0.5, -0.5])
    >>> values = np.stack([y + errors, y - errors, y + 1])[:, :, None]
    >>> result = hill_climb(values, y, kind="regression", metric="rmse")
    >>> result.weights, result.score
    (array([0.5, 0.5, 0. ]), 0.0)
    >>> result.trajectory
    [(0, 0, 1.0, 0.5), (1, 1, 0.5, 0.0)]
    """
    del random_state  # accepted so that every registry method takes the same arguments
    metric = metrics.check_metric(metric, kind)
    values = _as_floats(values)
    y = np.asarray(y)
    _check_values(values, y)
    explicit_grid = grid
    grid = _check_grid(default_grid(negative_weights) if grid is None else grid, negative_weights)
    if tolerance < 0 or max_iters < 0:
        raise ValueError(f"tolerance and max_iters must not be negative, got {tolerance} and {max_iters}")

    model_scores = layout.model_scores(values, y, metric=metric, kind=kind)
    start = layout.best_model(model_scores, metric)
    n_models = values.shape[0]
    weights = np.zeros(n_models)
    weights[start] = 1.0
    score = float(model_scores[start])
    trajectory = [(0, start, 1.0, score)]
    # Ties go to the smallest |w|, positive first, then to the lowest model index.
    preference = np.lexsort((grid < 0, np.abs(grid)))
    scorer = GridScorer(values, y, kind=kind, metric=metric, xp=np if negative_weights else xp)
    intervals = scorer.line_intervals(grid) if line_search and explicit_grid is None else None
    # One BLAS thread: the bounds' matrix-vector products are memory-bound, and threads only contend.
    with threadpool_limits(limits=1, user_api="blas"):
        trajectory, weights, score = _climb(
            scorer,
            values,
            y,
            weights,
            score,
            trajectory,
            kind=kind,
            metric=metric,
            grid=grid,
            intervals=intervals,
            preference=preference,
            tolerance=tolerance,
            max_iters=max_iters,
        )
    return HillClimbResult(
        weights=weights,
        score=score,
        start_model=start,
        trajectory=trajectory,
        model_scores=model_scores,
        grid=grid,
        metric=metric,
        kind=kind,
    )


def _climb(
    scorer: GridScorer,
    values: NDArray,
    y: NDArray,
    weights: NDArray[np.float64],
    score: float,
    trajectory: list[tuple[int, int, float, float]],
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    grid: NDArray[np.float64],
    intervals: list[tuple[float, float]] | None,
    preference: NDArray[np.intp],
    tolerance: float,
    max_iters: int,
) -> tuple[list[tuple[int, int, float, float]], NDArray[np.float64], float]:
    """The steps of :func:`hill_climb` from ``weights``: the trajectory, the weights and the score at the end."""
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    n_models = values.shape[0]
    for iteration in range(1, max_iters + 1):
        if intervals is not None:
            ws, scores = scorer.line_steps(weights, intervals, score, tolerance=tolerance)
            line_gains = sign * (scores - score)
            model = first_best(line_gains)
            w = float(ws[model])
            if not line_gains[model] > tolerance * abs(score):
                break
        else:
            scores = scorer.step_scores(weights, grid, score, tolerance=tolerance)
            gains = sign * (scores[:, preference] - score)
            pick = first_best(gains.T.ravel())
            step, model = divmod(pick, n_models)
            w = float(grid[preference[step]])
            if not gains[model, step] > tolerance * abs(score):
                break
        new_weights = (1.0 - w) * weights
        new_weights[model] += w
        new_weights /= new_weights.sum()
        # Scored again as weighted_blend blends, so that the reported score is reproducible.
        new_score = layout.score(y, layout.weighted_blend(values, new_weights, kind=kind), metric=metric, kind=kind)
        if not sign * (new_score - score) > tolerance * abs(score):
            break  # only rounding made the step look better
        weights, score = new_weights, new_score
        trajectory.append((iteration, model, w, score))
    return trajectory, weights, score


def grid_scores(
    values: NDArray,
    weights: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    grid: NDArray | None = None,
    candidates: NDArray | None = None,
) -> NDArray[np.float64]:
    """Scores of every candidate step from a blend, shape (n_candidates, n_grid).

    Entry ``[i, k]`` scores the blend of the weights ``(1 - grid[k]) * weights + grid[k] *
    e_j`` for ``j = candidates[i]``, blended as :func:`blender.layout.weighted_blend`
    blends them (probabilities clipped and class rows renormalised when a weight is
    negative). All the grid weights of a candidate are scored in one vectorised step.
    The blends are computed as ``blend + w * (values[j] - blend)``, so they agree with
    ``weighted_blend`` to rounding: label votes that tie exactly in real arithmetic may be
    broken the other way (:func:`hill_climb` scores every step it takes again with
    ``weighted_blend``).

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
    weights : ndarray of shape (n_models,)
        The current blend's weights, summing to 1.
    y : ndarray of shape (n_rows,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
    grid : ndarray of shape (n_grid,), default=None
        The step weights; None means :func:`default_grid` with negative weights.
    candidates : ndarray of shape (n_candidates,), default=None
        Model indices; None means every model.

    Returns
    -------
    ndarray of shape (n_candidates, n_grid)

    Examples
    --------
    From the first model alone, step towards the second by a quarter and by a half:

    >>> y = np.array([0.0, 0.0])
    >>> values = np.array([[[1.0], [1.0]], [[-1.0], [1.0]]])
    >>> grid_scores(values, np.array([1.0, 0.0]), y, kind="regression", metric="mae", grid=np.array([0.25, 0.5]))
    array([[1.  , 1.  ],
           [0.75, 0.5 ]])
    """
    metric = metrics.check_metric(metric, kind)
    values = np.asarray(values, dtype=np.float64)
    y = np.asarray(y)
    _check_values(values, y)
    grid = np.asarray(default_grid(True) if grid is None else grid, dtype=np.float64)
    candidates = np.arange(values.shape[0]) if candidates is None else np.asarray(candidates)
    scorer = GridScorer(values, y, kind=kind, metric=metric)
    return scorer.scores(np.asarray(weights, dtype=np.float64), grid, candidates)


def _as_floats(values: NDArray) -> NDArray:
    """``values`` as float32 where they come in float32 (half the memory and its traffic), else float64.

    Every blend, difference and sum the scorer takes of them is float64, so float32 inputs move a score
    only by their own rounding (the tests pin it within 1e-6 of the float64 path)."""
    values = np.asarray(values)
    return values.astype(np.float32 if values.dtype == np.float32 else np.float64, copy=False)


def _dot_rows(members: NDArray, vector: NDArray | None) -> NDArray[np.float64]:
    """``members @ vector`` (or each row's sum of squares where ``vector`` is None), summed in float64.

    float32 members are taken a chunk of rows at a time, so that no float64 copy of all of them is made."""
    if members.dtype == np.float64:
        return members @ vector if vector is not None else np.einsum("ij,ij->i", members, members)
    out = np.empty(members.shape[0])
    step = max(1, _CHUNK_VALUES // members.shape[1])
    for start in range(0, members.shape[0], step):
        chunk = members[start : start + step].astype(np.float64)
        out[start : start + step] = chunk @ vector if vector is not None else np.einsum("ij,ij->i", chunk, chunk)
    return out


def _check_values(values: NDArray, y: NDArray) -> None:
    """Raise ValueError unless ``values`` is (n_models, n_rows, n_cols) with ``y``'s rows."""
    if values.ndim != 3 or values.shape[0] == 0:
        raise ValueError(f"values must have shape (n_models, n_rows, n_cols) with n_models >= 1, got {values.shape}")
    if y.ndim != 1 or y.shape[0] != values.shape[1]:
        raise ValueError(f"y has shape {y.shape} but values have {values.shape[1]} rows")


def _check_grid(grid: NDArray, negative_weights: bool) -> NDArray[np.float64]:
    """The grid as floats, or ValueError for an empty grid, a zero, w >= 1 or an unasked negative."""
    grid = np.asarray(grid, dtype=np.float64).ravel()
    if grid.size == 0 or not np.isfinite(grid).all() or (grid == 0).any() or (grid >= 1).any():
        raise ValueError(f"grid weights must be finite, nonzero and below 1, got {grid.tolist()}")
    if not negative_weights and (grid < 0).any():
        negatives = grid[grid < 0].tolist()
        raise ValueError(f"grid holds negative weights {negatives}; pass negative_weights=True to allow them")
    return grid


class GridScorer:
    """Scores ``blend + w * (model - blend)`` for every grid weight of many candidates.

    Binary and regression values are kept as (n_models, n_rows), class probabilities and
    votes as (n_models, n_rows, n_classes). Multiclass log loss without clipping needs only
    the true-class probabilities, kept apart as (n_models, n_rows).
    """

    def __init__(self, values: NDArray, y: NDArray, *, kind: str, metric: str, xp: ModuleType | None = None):
        metric = metrics.resolve(metric, kind)
        # Gini is 2 AUC - 1: the blends are scored by the AUC kernel and the scores mapped back.
        self._gini = metric == "gini"
        if self._gini:
            metric = metrics.resolve("auc", kind)
        self.kind, self.metric, self.y = kind, metric, y
        self.n_rows = values.shape[1]
        self.members = np.ascontiguousarray(values[:, :, 0] if kind in ("binary", "regression") else values)
        self.rows = np.arange(self.n_rows)
        if metric == "logloss" and kind == "multiclass":
            self.true_members = np.ascontiguousarray(values[:, self.rows, y])
        if kind == "binary":
            # |p - (1 - y)| is p where y is 1 and 1 - p where y is 0, bit for bit.
            self.not_y = (y != 1).astype(np.float64)
        if metric == "auc":
            self.positives = [y == 1] if kind == "binary" else [y == c for c in range(values.shape[2])]
            for positive in self.positives:
                if positive.all() or not positive.any():
                    raise ValueError("auc is undefined when a class is absent from y (or is all of it)")
            self.aucs = [RowAuc(positive) for positive in self.positives]
        self._buffer: NDArray[np.float64] | None = None
        self._inside: NDArray[np.bool_] | None = None
        self._squares: NDArray[np.float64] | None = None
        namespace = arrays.namespace(xp)
        generic = namespace is not np and kind in ("binary", "regression")
        generic = generic and metric in ("logloss", "rmse", "mae", "auc")
        self._generic = _GenericSteps(self, namespace) if generic else None

    def scores(self, weights: NDArray, grid: NDArray, candidates: NDArray) -> NDArray[np.float64]:
        """Scores of shape (len(candidates), len(grid)); see :func:`grid_scores`."""
        blend = self._blend(weights)
        scores = np.empty((len(candidates), len(grid)))
        for i, model in enumerate(candidates):
            scores[i] = self._model_scores(blend, weights, model, grid)
        return scores

    def step_scores(self, weights: NDArray, grid: NDArray, score: float, *, tolerance: float) -> NDArray[np.float64]:
        if self._generic is not None and (np.asarray(grid) > 0).all() and (np.asarray(weights) >= 0).all():
            return self._mapped(self._generic.step_scores(weights, np.asarray(grid, dtype=np.float64)))
        return self._step_scores(weights, grid, score, tolerance=tolerance)

    def _mapped(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scores in the metric's units: AUC becomes Gini (2 AUC - 1) where the metric is Gini."""
        return 2.0 * scores - 1.0 if self._gini else scores

    def _step_scores(self, weights: NDArray, grid: NDArray, score: float, *, tolerance: float) -> NDArray[np.float64]:
        """Scores of every model's steps, shape (n_models, len(grid)), for one step of :func:`hill_climb`.

        Each row is what :meth:`scores` gives, bit for bit, or, for a model that cannot be the step
        the climb takes, the worst score (inf for a loss, -inf otherwise). Such a model is found
        without scoring its steps: an upper bound of its best gain (:meth:`gain_bounds`) is below
        the best gain already scored by more than ``first_best``'s rounding allowance, or every
        gain left is too small to pass the tolerance. Models are scored best bound first; with 500
        files a step usually scores a few dozen. ``score`` is the current blend's score.
        """
        n_models = self.members.shape[0]
        bounds = self.gain_bounds(weights, grid, score) if _PRUNE else None
        if bounds is None:
            return self.scores(weights, grid, np.arange(n_models))
        sign = 1.0 if metrics.greater_is_better(self.metric) else -1.0
        scores = np.full((n_models, len(grid)), -sign * np.inf)
        blend = self._blend(weights)
        best = -np.inf
        for model in np.argsort(-bounds, kind="stable"):
            bound = bounds[model]
            if best > -np.inf and (
                bound < best - TOLERANCE * max(1.0, abs(best)) or max(bound, best) <= tolerance * abs(score)
            ):
                break  # every model left has a bound at most this one's
            scores[model] = self._model_scores(blend, weights, model, grid)
            best = max(best, float(np.max(sign * (scores[model] - score))))
        return scores

    def line_intervals(self, grid: NDArray) -> list[tuple[float, float]] | None:
        """The ranges of ``w`` a line search covers in place of ``grid``, or None where the grid must stay.

        RMSE (binary or regression values) and log loss (probabilities inside the clipping bounds) have a
        best step of known form as long as nothing is clipped: no negative weight on probabilities. Each
        sign of the grid gives one range, from its smallest to its largest ``|w|``.
        """
        grid = np.asarray(grid, dtype=np.float64)
        negative = bool((grid < 0).any())
        if self.metric == "rmse" and self.members.ndim == 2:
            if negative and self.kind != "regression":
                return None
        elif self.metric != "logloss" or negative:
            return None
        intervals = []
        for part in (grid[grid > 0], grid[grid < 0]):
            if part.size:
                intervals.append((float(part.min()), float(part.max())))
        return intervals

    def line_steps(
        self, weights: NDArray, intervals: list[tuple[float, float]], score: float, *, tolerance: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each model's best step weight within ``intervals`` and the score it gives: two arrays of shape (n_models,).

        - RMSE: the mean squared error of ``blend + w d`` (``d = model - blend``) is the quadratic
          ``a + 2 w b + w**2 c``, with ``b = mean(residual * d)`` and ``c = mean(d * d)``; its least value
          on a range is at the clipped vertex ``-b / c``: one pass over each model, for every model;
        - log loss: along the step the loss is convex (every true-class probability stays inside the
          clipping bounds), so a safeguarded Newton search on its derivative finds the best ``w`` in a
          few passes over the model. Models are searched best tangent bound first (:meth:`gain_bounds`)
          and a model whose bound shows it cannot be the step is skipped (its score is the worst, as in
          :meth:`step_scores`). A model with a value outside the clipping bounds is scored on the
          default grid instead.
        """
        if self._generic is not None:
            return self._generic.line_steps(weights, intervals)
        n_models = self.members.shape[0]
        blend = self._blend(weights)
        if self.metric == "rmse":
            return self._rmse_steps(blend, intervals)
        sign = -1.0  # a loss
        ws = np.full(n_models, np.nan)
        scores = np.full(n_models, np.inf)
        if self.kind == "binary":
            truth = np.abs(blend - self.not_y)
        else:
            truth = blend[self.rows, self.y]
        inside = bool(truth.min() >= metrics.EPSILON and truth.max() <= 1 - metrics.EPSILON)
        low = min(lo for lo, _ in intervals)
        high = max(hi for _, hi in intervals)
        bounds = self.gain_bounds(weights, np.array([low, high]), score) if _PRUNE and inside else None
        order = np.argsort(-bounds, kind="stable") if bounds is not None else np.arange(n_models)
        fallback = default_grid()
        fallback = fallback[(fallback >= low) & (fallback <= high)]
        best = -np.inf
        for model in order:
            if bounds is not None and best > -np.inf:
                bound = bounds[model]
                if bound < best - TOLERANCE * max(1.0, abs(best)) or max(bound, best) <= tolerance * abs(score):
                    break
            if inside and self._in_bounds()[model]:
                member = np.abs(self.members[model] - self.not_y) if self.kind == "binary" else self.true_members[model]
                ws[model], scores[model] = _newton_log_loss(truth, member - truth, intervals)
            else:
                grid_scores_ = self._model_scores(blend, weights, model, fallback)
                pick = first_best(-grid_scores_)
                ws[model], scores[model] = float(fallback[pick]), float(grid_scores_[pick])
            best = max(best, sign * (scores[model] - score))
        return ws, scores

    def _rmse_steps(
        self, blend: NDArray, intervals: list[tuple[float, float]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each model's best RMSE step within ``intervals`` (see :meth:`line_steps`)."""
        n_models, n = self.members.shape
        residual = blend - self.y
        a = float(residual @ residual) / n
        b = np.empty(n_models)
        c = np.empty(n_models)
        step = max(1, _CHUNK_VALUES // n)
        for start in range(0, n_models, step):
            d = self.members[start : start + step] - blend
            b[start : start + step] = (d @ residual) / n
            c[start : start + step] = np.einsum("ij,ij->i", d, d) / n
        return _quadratic_steps(a, b, c, intervals)

    def gain_bounds(self, weights: NDArray, grid: NDArray, score: float) -> NDArray[np.float64] | None:
        """An upper bound of each model's best gain over ``score`` on the grid, or None where none is known.

        Bounds exist for log loss and RMSE when no weight is negative (nothing is clipped), and
        hold with a margin far above rounding (``_BOUND_MARGIN``):

        - log loss: along ``p(w) = t + w (m - t)`` (true-class probabilities of the blend and the
          model) the loss is convex when every ``t`` and ``m`` lies within the clipping bounds, so
          it stays above its tangent at ``w = 0``: the gain at ``w`` is at most ``w * (mean(m / t)
          - 1)``. One matrix-vector product gives that slope for every model. A model with a
          value outside the clipping bounds gets no bound (inf);
        - RMSE: the mean squared error of the step is the quadratic ``A + 2 w B + w**2 C``, whose
          least value over the grid's range is exact; two matrix-vector products give ``B`` and
          ``C`` for every model.
        """
        grid = np.asarray(grid)
        if self.metric not in ("logloss", "rmse") or (grid <= 0).any() or (weights < 0).any():
            return None
        low, high = float(grid.min()), float(grid.max())
        blend = self._blend(weights)
        n = self.n_rows
        if self.metric == "logloss":
            truth = np.abs(blend - self.not_y) if self.kind == "binary" else blend[self.rows, self.y]
            if not (truth.min() >= metrics.EPSILON and truth.max() <= 1 - metrics.EPSILON):
                return None
            inverse = 1.0 / truth
            if self.kind == "binary":
                # The true-class probability is m where y is 1 and 1 - m where y is 0.
                signed = np.where(self.not_y == 0, inverse, -inverse)
                ratio = (_dot_rows(self.members, signed) + inverse[self.not_y == 1].sum()) / n
            else:
                ratio = _dot_rows(self.true_members, inverse) / n
            slope = ratio - 1.0
            bounds = np.where(slope > 0, high * slope, low * slope)
            margin = _BOUND_MARGIN * (1.0 + abs(score) + inverse.mean())
            return np.where(self._in_bounds(), bounds + margin, np.inf)
        # RMSE on (n_models, n_rows) members: binary or regression.
        residual = blend - self.y
        a = float(np.mean(residual * residual))
        b = _dot_rows(self.members, residual) / n - np.mean(residual * blend)
        if self._squares is None:
            self._squares = _dot_rows(self.members, None) / n
        blend_square = float(np.mean(blend * blend))
        c = np.maximum(self._squares - 2.0 * _dot_rows(self.members, blend) / n + blend_square, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vertex = np.clip(np.where(c > 0, -b / c, low), low, high)
        least = np.minimum.reduce([a + 2 * w * b + w * w * c for w in (low, high, vertex)])
        margin = _BOUND_MARGIN * (a + self._squares + blend_square)
        lowest_rmse = np.sqrt(np.maximum(least - margin, 0.0))
        return score - lowest_rmse + _BOUND_MARGIN * (1.0 + abs(score))

    def _in_bounds(self) -> NDArray[np.bool_]:
        """Whether each model's true-class probabilities all lie within the log loss's clipping bounds."""
        if self._inside is None:
            members = self.members if self.kind == "binary" else self.true_members
            inside: NDArray[np.bool_] = np.all((members >= metrics.EPSILON) & (members <= 1 - metrics.EPSILON), axis=1)
            self._inside = inside
        return self._inside

    def _blend(self, weights: NDArray) -> NDArray[np.float64]:
        """The current blend, linear (never clipped): (n_rows,) or (n_rows, n_classes)."""
        values = self.members if self.members.ndim == 3 else self.members[:, :, None]
        blend = layout.weighted_blend(values, weights, kind="regression")
        return blend[:, 0] if self.members.ndim == 2 else blend

    def _model_scores(self, blend: NDArray, weights: NDArray, model: int, grid: NDArray) -> NDArray[np.float64]:
        """Scores of one model's steps from ``blend`` (the blend of ``weights``): shape (len(grid),)."""
        negative = weights < 0
        # weighted_blend clips when any new weight is negative: another model's, or this one's.
        others_negative = bool(negative.sum() - negative[model])
        clip = (self.kind in ("binary", "multiclass")) & (others_negative | ((1.0 - grid) * weights[model] + grid < 0))
        scores = np.empty(len(grid))
        for clipped in (False, True):
            chosen = np.flatnonzero(clip == clipped)
            if chosen.size:
                scores[chosen] = self._score_candidate(blend, model, grid[chosen], clipped)
        return scores

    def _score_candidate(self, blend: NDArray, model: int, ws: NDArray, clipped: bool) -> NDArray[np.float64]:
        """Scores of ``blend + w * (members[model] - blend)`` for each w in ``ws``."""
        true_class = self.metric == "logloss" and self.kind == "multiclass" and not clipped
        if true_class:
            blend, member = blend[self.rows, self.y], self.true_members[model]
        else:
            member = self.members[model]
        diff = member - blend
        # AUC sorts one blend at a time: a blend built just before its sort is still in cache.
        step = 1 if self.metric == "auc" else max(1, _CHUNK_VALUES // diff.size)
        if self._buffer is None or self._buffer.size < min(step, len(ws)) * diff.size:
            self._buffer = np.empty(min(step, len(ws)) * diff.size)  # reused: fresh pages cost faults
        scores = np.empty(len(ws))
        shape = (1,) * diff.ndim
        for start in range(0, len(ws), step):
            chunk = ws[start : start + step]
            blends = self._buffer[: len(chunk) * diff.size].reshape((len(chunk),) + diff.shape)
            np.multiply(chunk.reshape((-1,) + shape), diff, out=blends)
            blends += blend
            scores[start : start + step] = self._score_blends(blends, clipped, true_class)
        return scores

    def _score_blends(self, blends: NDArray, clipped: bool, true_class: bool) -> NDArray[np.float64]:
        """Scores of the blends along the first axis (which it overwrites), in the metric's units."""
        scores = self._score_blends_as(blends, clipped, true_class)
        return 2.0 * scores - 1.0 if self._gini else scores

    def _score_blends_as(self, blends: NDArray, clipped: bool, true_class: bool) -> NDArray[np.float64]:
        """Scores of the blends by ``self.metric`` (AUC standing in for Gini)."""
        kind, metric, y = self.kind, self.metric, self.y
        if clipped:
            np.clip(blends, layout._PROBABILITY_FLOOR, 1.0 - layout._PROBABILITY_FLOOR, out=blends)
            if kind == "multiclass":
                blends /= blends.sum(axis=2, keepdims=True)
        if metric == "logloss":
            if kind == "binary":
                probabilities = np.abs(np.subtract(blends, self.not_y, out=blends), out=blends)
            elif true_class:
                probabilities = blends
            else:
                probabilities = np.ascontiguousarray(blends[:, self.rows, y])
            np.clip(probabilities, metrics.EPSILON, 1 - metrics.EPSILON, out=probabilities)
            return -sum_logs(probabilities) / self.n_rows
        if metric in ("rmse", "mae"):
            blends -= y
            if metric == "mae":
                return np.mean(np.abs(blends, out=blends), axis=1)
            return np.sqrt(np.mean(np.square(blends, out=blends), axis=1))
        if metric == "accuracy" and kind != "binary":
            return np.mean(np.argmax(blends, axis=2) == y, axis=1)
        if metric == "auc":
            if kind == "binary":
                return self.aucs[0](blends)
            return np.mean([auc(blends[:, :, c]) for c, auc in enumerate(self.aucs)], axis=0)
        # Every other metric, each candidate with its own fitted step (a threshold, cut-points).
        return metric.batch(y, blends)


def _newton_log_loss(truth: NDArray, direction: NDArray, intervals: list[tuple[float, float]]) -> tuple[float, float]:
    """The ``w`` within ``intervals`` that minimises ``-mean(log(truth + w * direction))``, and that loss.

    The loss is convex in ``w`` (``truth + w * direction`` stays positive over the ranges), so on each range
    its least value is where the derivative ``-mean(r)``, ``r = direction / (truth + w * direction)``, changes
    sign, or at an end. Newton steps (second derivative ``mean(r**2)``) inside a shrinking bracket find it
    (:func:`_newton_root`), in about six passes. Sums accumulate in float64.
    """
    n = truth.shape[0]

    def slopes(w: float) -> tuple[float, float]:
        r = direction / (truth + w * direction)
        # einsum, not @: a dot product would start BLAS threads for a one-pass sum.
        return -float(r.sum()) / n, float(np.einsum("i,i->", r, r)) / n

    best_w, best_loss = np.nan, np.inf
    for low, high in intervals:
        w = _newton_root(slopes, low, high)
        point = (truth + w * direction)[None]
        np.clip(point, metrics.EPSILON, 1 - metrics.EPSILON, out=point)
        loss = float(-sum_logs(point)[0] / n)
        if loss < best_loss:
            best_w, best_loss = float(w), loss
    return best_w, best_loss


def _newton_root(slopes: Callable[[float], tuple[float, float]], low: float, high: float) -> float:
    """Where a convex function of ``w`` is least on ``[low, high]``, given its first and second derivatives.

    Newton's steps from ``low`` (where the slope is negative, else ``low`` is the answer), inside a bracket
    that shrinks with every slope seen; a step that leaves the bracket takes the secant between its ends.
    The end ``high`` is looked at only when a step reaches it.
    """
    w = low
    g, h = slopes(w)
    if g >= 0:
        return low
    g_low, g_high = g, None  # the slopes at the bracket's ends; None: not looked at yet
    for _ in range(_NEWTON_STEPS):
        proposed = w - g / h if h > 0 else high
        if proposed >= high and g_high is None:
            g_high, _ = slopes(high)
            if g_high <= 0:
                return high
        if abs(proposed - w) <= 1e-10 * max(1.0, abs(w)):
            return min(max(proposed, low), high)
        if not low < proposed < high:
            # The secant between the bracket's ends, inside it (or its middle, before ``high`` is looked at).
            proposed = 0.5 * (low + high) if g_high is None else low - g_low * (high - low) / (g_high - g_low)
        w = proposed
        g, h = slopes(w)
        if g < 0:
            low, g_low = w, g
        else:
            high, g_high = w, g
        if high - low <= 1e-10 * max(1.0, abs(w)):
            return w
    return w


class RowAuc:
    """ROC AUC of rows of values against one class: :func:`blender.metrics.auc_rows`, faster.

    The keys are those of ``metrics.auc_rows``: for values in [0, 2) the float's bits,
    shifted, with the label in the low bit, so that their integer order is the values'
    order with positives first on a tie. A plain sort of 50,000 keys is the bottleneck;
    here a stable argsort of a 16-bit bin of each value (a radix sort in numpy) leaves each
    key within a few places of its rank, and a stable sort (timsort, adaptive to nearly
    sorted input) finishes: together two to three times faster. The bins only speed the
    sort up; the final sort alone decides the order. They are linear in the square root
    of the value, which spreads the crowded small probabilities of rare classes. Rows go
    one at a time through buffers made once, so that they stay in cache. A row whose
    positives and negatives share a value, or with values outside [0, 2), goes to
    ``metrics.auc_rows``.
    """

    def __init__(self, positive: NDArray[np.bool_]):
        n_samples = positive.shape[0]
        self.positive = positive
        self.negative = (~positive).astype(np.int64)
        n_pos = int(positive.sum())
        self.offset = n_pos * (n_pos + 1) / 2.0
        self.pairs = float(n_pos * (n_samples - n_pos))
        self.positions = np.arange(1, n_samples + 1, dtype=np.float64)
        self.position_sum = self.positions.sum()
        self.keys = np.empty(n_samples, dtype=np.int64)
        self.ranked = np.empty(n_samples, dtype=np.int64)
        self.bins = np.empty(n_samples)
        self.small_bins = np.empty(n_samples, dtype=np.uint16)
        self.labels = np.empty(n_samples)
        self.adjacent = np.empty(max(0, n_samples - 1), dtype=np.int64)

    def __call__(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """AUC of each row of ``values`` (n_rows, n_samples)."""
        return np.array([self._row(np.ascontiguousarray(value, dtype=np.float64)) for value in values])

    def _row(self, value: NDArray[np.float64]) -> float:
        lowest, highest = value.min(), value.max()
        # -0.0 passes and keys like 0.0; a negative or NaN value does not.
        if not (0.0 <= lowest < highest < 2.0):
            return float(metrics.auc_rows(self.positive, value[None])[0])
        np.sqrt(value, out=self.bins)
        root = np.sqrt(lowest)
        self.bins -= root
        np.multiply(self.bins, 65535.5 / (np.sqrt(highest) - root), out=self.small_bins, casting="unsafe")
        order = np.argsort(self.small_bins, kind="stable")
        np.left_shift(value.view(np.int64), 1, out=self.keys)
        self.keys |= self.negative
        ranked = np.take(self.keys, order, out=self.ranked)
        ranked.sort(kind="stable")
        # A positive and a negative of equal value are neighbours whose keys differ in the label bit only.
        adjacent = np.bitwise_xor(ranked[1:], ranked[:-1], out=self.adjacent)
        if adjacent.size and adjacent.min() <= 1 and (adjacent == 1).any():
            return float(metrics.auc_rows(self.positive, value[None])[0])
        np.bitwise_and(ranked, 1, out=self.labels, casting="unsafe")
        # einsum, not @: a dot product would start BLAS threads for a one-pass sum.
        rank_sum = self.position_sum - np.einsum("i,i->", self.labels, self.positions)
        return float((rank_sum - self.offset) / self.pairs)


class _GenericSteps:
    """The step scoring of :class:`GridScorer` in any array-API namespace ``xp`` (CuPy on a GPU).

    Only the Python array API standard (2023.12) is used: the members (binary or regression values) live in
    ``xp``; each model's grid steps are built at once (a broadcast) and scored there, as are the line
    searches' sums; only the scores (and the searched weights) come back, as NumPy. Log loss, RMSE, MAE and
    binary AUC, no negative weight (nothing is clipped). There is no pruning: every model is scored.
    """

    def __init__(self, scorer: GridScorer, xp: ModuleType):
        self.scorer, self.xp = scorer, xp
        dtype = xp.float32 if scorer.members.dtype == np.float32 else xp.float64
        self.members = xp.asarray(scorer.members, dtype=dtype)
        self.y = xp.asarray(np.asarray(scorer.y, dtype=np.float64))
        self.not_y = xp.asarray(scorer.not_y) if scorer.kind == "binary" else None
        self.n = scorer.n_rows
        if scorer.metric == "auc":
            positive = np.asarray(scorer.y) == 1
            self.positive = xp.asarray(positive)
            self.n_pos, self.n_neg = int(positive.sum()), int(positive.size - positive.sum())

    def member(self, model: int) -> XArray:
        return self.xp.astype(self.members[model, ...], self.xp.float64)

    def blend(self, weights: NDArray) -> XArray:
        weights = layout.normalise_weights(weights)
        total = self.xp.zeros((self.n,), dtype=self.xp.float64)
        for model in np.flatnonzero(weights):
            total = total + float(weights[model]) * self.member(int(model))
        return total

    def step_scores(self, weights: NDArray, grid: NDArray[np.float64]) -> NDArray[np.float64]:
        xp = self.xp
        blend = self.blend(weights)
        ws = xp.expand_dims(xp.asarray(grid), axis=1)
        scores = np.empty((self.members.shape[0], len(grid)))
        for model in range(self.members.shape[0]):
            scores[model] = self.score_rows(blend + ws * (self.member(model) - blend))
        return scores

    def truth(self, values: XArray) -> XArray:
        """The true-class probabilities of binary predictions (log loss)."""
        return self.xp.abs(values - self.not_y)

    def score_rows(self, rows: XArray) -> NDArray[np.float64]:
        """Scores of each row of ``rows`` (an ``xp`` array of predictions), as NumPy."""
        xp, metric = self.xp, self.scorer.metric
        if metric == "logloss":
            clipped = xp.clip(self.truth(rows), metrics.EPSILON, 1 - metrics.EPSILON)
            scores = -sum_logs(clipped, xp=xp) / self.n
        elif metric == "rmse":
            scores = xp.sqrt(xp.mean((rows - self.y) ** 2, axis=1))
        elif metric == "mae":
            scores = xp.mean(xp.abs(rows - self.y), axis=1)
        else:
            return np.array([self._auc(rows[row, ...]) for row in range(rows.shape[0])])
        return np.asarray(arrays.to_numpy(scores), dtype=np.float64)

    def _auc(self, values: XArray) -> float:
        """Binary ROC AUC of one row (ties count a half), from average ranks: a sort and two binary searches."""
        xp = self.xp
        ordered = xp.sort(values)
        low = xp.searchsorted(ordered, values, side="left")
        high = xp.searchsorted(ordered, values, side="right")
        ranks = xp.astype(low + high + 1, xp.float64) / 2.0
        rank_sum = float(xp.sum(xp.where(self.positive, ranks, xp.zeros_like(ranks))))
        return (rank_sum - self.n_pos * (self.n_pos + 1) / 2.0) / (self.n_pos * self.n_neg)

    def line_steps(
        self, weights: NDArray, intervals: list[tuple[float, float]]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each model's best step within ``intervals`` and its score (see :meth:`GridScorer.line_steps`)."""
        xp = self.xp
        blend = self.blend(weights)
        n_models = self.members.shape[0]
        if self.scorer.metric == "rmse":
            residual = blend - self.y
            a = float(xp.sum(residual * residual)) / self.n
            b, c = np.empty(n_models), np.empty(n_models)
            for model in range(n_models):
                d = self.member(model) - blend
                b[model] = float(xp.sum(d * residual)) / self.n
                c[model] = float(xp.sum(d * d)) / self.n
            return _quadratic_steps(a, b, c, intervals)
        truth = self.truth(blend)
        ws, scores = np.empty(n_models), np.empty(n_models)
        for model in range(n_models):
            direction = self.truth(self.member(model)) - truth

            def slopes(w: float, direction: XArray = direction) -> tuple[float, float]:
                r = direction / (truth + w * direction)
                return -float(xp.sum(r)) / self.n, float(xp.sum(r * r)) / self.n

            best_w, best_loss = np.nan, np.inf
            for low, high in intervals:
                w = _newton_root(slopes, low, high)
                point = xp.clip(truth + w * direction, metrics.EPSILON, 1 - metrics.EPSILON)
                loss = -float(xp.sum(xp.log(point))) / self.n
                if loss < best_loss:
                    best_w, best_loss = w, loss
            ws[model], scores[model] = best_w, best_loss
        return ws, scores


def _quadratic_steps(
    a: float, b: NDArray[np.float64], c: NDArray[np.float64], intervals: list[tuple[float, float]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Where ``a + 2 w b + w**2 c`` (a step's mean squared error) is least within ``intervals``, and its root."""
    best_w = np.full(len(b), np.nan)
    best_mse = np.full(len(b), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(c > 0, -b / c, 0.0)
    for lo, hi in intervals:
        w = np.clip(vertex, lo, hi)
        mse = np.maximum(a + w * (2.0 * b + w * c), 0.0)
        better = mse < best_mse
        best_w[better], best_mse[better] = w[better], mse[better]
    return best_w, np.sqrt(best_mse)

"""Ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes, ICML 2004).

Greedy forward selection on out-of-fold predictions: start from the ``init`` best
models, then repeatedly add the model (a repeat is allowed with replacement) whose
addition gives the best ensemble score; keep the ensemble at the best score seen.
Bagging runs the selection on random subsets of the models and averages the weights.

Every iteration scores all candidates at once: the members' predictions are kept as a
running sum, and the candidate ensembles ``(running_sum + candidate) / (k + 1)`` are one
array operation (log loss needs only the true-class probabilities and one log per 16 of
them; AUC one integer sort per candidate, see :func:`blender.metrics.auc_rows`). On large
inputs only the candidates that can win are scored exactly: binary AUC bounds every candidate
from a histogram, log loss carries an interval for every candidate from one iteration to
the next. ``benchmarks/bench_caruana.py`` times this against AutoGluon's loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from blender import arrays, layout, metrics
from blender.kernels import TOLERANCE, first_best, improves, sum_logs

# An array of a kernel's array-API namespace (NumPy, CuPy, array-api-strict): typed loosely, as the standard is.
XArray = Any

# Candidate ensembles are built in chunks of at most this many float64 values (4 MB):
# small enough to stay in cache through the several passes of a score, which is
# faster than one pass over all candidates at once.
_CHUNK_VALUES = 1 << 19

# Binary AUC selection bounds every candidate from a histogram of this many buckets and sorts
# only the candidates that can be the best (see CandidateScorer.score), once the candidates
# hold at least _BOUND_MIN_VALUES values; below that every candidate is sorted.
_AUC_BUCKETS = 1 << 14
_BOUND_MIN_VALUES = 1 << 20
# float32 members' tangent dot products are summed in float32 within blocks of this many rows.
_DOT_BLOCK = 256
# Log-loss tangent bounds are carried forward from this many of the last steps (see _LogSumBounds.join).
_TANGENTS_KEPT = 2


@dataclass(frozen=True, eq=False)
class CaruanaResult:
    """What :func:`caruana_select` found.

    Attributes
    ----------
    weights : ndarray of shape (n_models,)
        Non-negative, summing to 1: each bag's member counts at its best iteration,
        normalised, averaged over the bags.
    counts : ndarray of shape (n_models,)
        How often each model is in the bags' best ensembles, summed over bags.
    trajectory : list of (iteration, score)
        The first bag's ensemble score after each iteration, from the start it kept;
        iteration 0 is the sorted initialisation (absent for the empty start).
    selection : list of int
        The first bag's models in the order they were added, the initialisation first,
        through the last iteration (not only up to the best one).
    best_iteration : int
        The first bag's iteration with the best score (the earliest on a tie).
    best_score : float
        The first bag's best score.
    score : float
        The OOF score of the final weights (equal to ``best_score`` with one bag).
    model_scores : ndarray of shape (n_models,)
        Each single model's OOF score.
    metric : str
    bag_models : list of ndarray
        The models each bag could choose from.
    start : str
        Where the first bag's kept selection started: ``"sorted"`` (the ``init`` best
        models) or ``"empty"``. Both are run and the better end point is kept.
    fell_back : bool
        True when the blend of the bags scored worse than the best single model on the
        OOF rows, so the weights are that model's alone.
    """

    weights: NDArray[np.float64]
    counts: NDArray[np.int64]
    trajectory: list[tuple[int, float]]
    selection: list[int]
    best_iteration: int
    best_score: float
    score: float
    model_scores: NDArray[np.float64]
    metric: str
    bag_models: list[NDArray[np.int64]]
    start: str = "sorted"
    fell_back: bool = False


def caruana_select(
    oof: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    init: int = 5,
    iters: int = 50,
    bags: int = 1,
    bag_fraction: float = 0.5,
    replacement: bool = True,
    random_state: int | None = None,
    xp: ModuleType | None = None,
) -> CaruanaResult:
    """Greedy forward ensemble selection with sorted initialisation and bagging.

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_rows, n_cols)
        Out-of-fold predictions, rows aligned with ``y``. Labels are one-hot votes, so
        their ensemble is a weighted vote (a tie goes to the label that sorts first).
    y : ndarray of shape (n_rows,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        None means the kind's default metric.
    init : int, default=5
        Start from this many best single models (each once); 0 starts empty. With
        ``init > 0`` the empty start is run as well and the better end point kept, and
        the result never scores worse on the OOF rows than the best single model.
    iters : int, default=50
        Forward-selection steps after the initialisation.
    bags : int, default=1
        Number of bags. With one bag, every model is a candidate and ``bag_fraction``
        is not used.
    bag_fraction : float, default=0.5
        With several bags, each bag draws this share of the models (at least one)
        without replacement.
    replacement : bool, default=True
        Whether a model may be added again; without, selection stops when every model
        of the bag is in.
    random_state : int, default=None
        Seeds the bags' draws. Selection itself is deterministic: a tie between
        candidates goes to the lowest model index.
    xp : array namespace, default=None
        Where the candidates are scored (:mod:`blender.arrays`): None is the run's namespace, NumPy
        unless ``--device gpu``. Outside NumPy the candidates are scored by the Python array API
        alone (:class:`CandidateScorer`), without the CPU's pruning; the selection is the same.

    Returns
    -------
    CaruanaResult

    Raises
    ------
    ValueError
        For a metric that does not suit the kind, negative ``init`` or ``iters``, both
        zero, ``bags < 1`` or ``bag_fraction`` outside (0, 1].

    Examples
    --------
    Two models err in opposite directions, a third is off by one everywhere:

    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> oof = np.stack([y + [0.5, -0.5, 0.5, -0.5], y - [0.5, -0.5, 0.5, -0.5], y + 1])[:, :, None]
    >>> result = caruana_select(oof, y, kind="regression", metric="rmse", init=0, iters=3)
    >>> [(iteration, round(score, 4)) for iteration, score in result.trajectory]
    [(1, 0.5), (2, 0.0), (3, 0.1667)]
    >>> result.weights, result.best_iteration
    (array([0.5, 0.5, 0. ]), 2)
    """
    metric = metrics.check_metric(metric, kind)
    if init < 0 or iters < 0:
        raise ValueError(f"init and iters must not be negative, got init={init}, iters={iters}")
    if init == 0 and iters == 0:
        raise ValueError("init=0 and iters=0 select nothing; give at least one of them")
    if bags < 1:
        raise ValueError(f"bags must be at least 1, got {bags}")
    if not 0 < bag_fraction <= 1:
        raise ValueError(f"bag_fraction must be in (0, 1], got {bag_fraction}")

    scorer = CandidateScorer(oof, y, kind=kind, metric=metric, xp=xp)
    n_models = scorer.n_models
    all_models = np.arange(n_models)
    model_scores = scorer.score(scorer.empty(), 0, all_models)
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    rng = np.random.default_rng(random_state)
    bag_size = max(1, int(round(bag_fraction * n_models)))

    weights = np.zeros(n_models)
    counts = np.zeros(n_models, dtype=np.int64)
    bag_models = []
    first: dict | None = None
    # One BLAS thread: the log-loss bounds' dot products are too short for threads to pay.
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(bags):
            subset = all_models if bags == 1 else np.sort(rng.choice(n_models, size=bag_size, replace=False))
            bag = _select(scorer, subset, model_scores, sign=sign, init=init, iters=iters, replacement=replacement)
            if init > 0 and iters > 0:
                # Sorted initialisation can lock in a blend worse than the best model; the
                # empty start's first step is the best model, so its best point never is.
                empty = _select(scorer, subset, model_scores, sign=sign, init=0, iters=iters, replacement=replacement)
                if improves(sign * empty["best_score"], sign * bag["best_score"]):
                    bag = empty
            bag_models.append(subset)
            weights += bag["counts"] / bag["counts"].sum()
            counts += bag["counts"]
            first = first or bag
    weights /= bags
    final_score = scorer.score_weights(weights)
    best = layout.best_model(model_scores, metric)
    fell_back = improves(sign * model_scores[best], sign * final_score)
    if fell_back:
        weights = np.zeros(n_models)
        weights[best] = 1.0
        final_score = float(model_scores[best])
    assert first is not None  # bags >= 1
    return CaruanaResult(
        weights=weights,
        counts=counts,
        trajectory=first["trajectory"],
        selection=first["selection"],
        best_iteration=first["best_iteration"],
        best_score=first["best_score"],
        score=final_score,
        model_scores=model_scores,
        metric=metric,
        bag_models=bag_models,
        start=first["start"],
        fell_back=fell_back,
    )


def _select(
    scorer: CandidateScorer,
    subset: NDArray[np.int64],
    model_scores: NDArray[np.float64],
    *,
    sign: float,
    init: int,
    iters: int,
    replacement: bool,
) -> dict:
    """One bag's forward selection among ``subset`` (sorted model indices)."""
    counts = np.zeros(scorer.n_models, dtype=np.int64)
    total = scorer.empty()
    bounds = scorer.log_sum_bounds()
    trajectory = []
    selection: list[int] = []
    # Best first; the stable sort keeps the lower index first on a tie.
    ranked = subset[np.argsort(-sign * model_scores[subset], kind="stable")]
    for model in ranked[:init]:
        selection.append(int(model))
        counts[model] += 1
        total = scorer.join(total, int(model), bounds)
    size = int(counts.sum())
    best_score, best_iteration, best_counts = -np.inf, -1, counts.copy()
    if size:
        best_score = scorer.score_total(total, size)
        best_iteration = 0
        trajectory.append((0, best_score))
    for iteration in range(1, iters + 1):
        candidates = subset if replacement else subset[counts[subset] == 0]
        if candidates.size == 0:
            break
        candidate_scores = scorer.score(total, size, candidates, bounds=bounds)
        # Candidates are sorted, so the first best is the lowest index.
        pick = first_best(sign * candidate_scores)
        model = candidates[pick]
        selection.append(int(model))
        counts[model] += 1
        total = scorer.join(total, int(model), bounds)
        size += 1
        trajectory.append((iteration, float(candidate_scores[pick])))
        if best_iteration < 0 or improves(sign * candidate_scores[pick], sign * best_score):
            best_score, best_iteration, best_counts = float(candidate_scores[pick]), iteration, counts.copy()
    return {
        "counts": best_counts,
        "trajectory": trajectory,
        "selection": selection,
        "best_iteration": best_iteration,
        "best_score": best_score,
        "start": "sorted" if init > 0 else "empty",
    }


def _true_class_members(
    oof: NDArray, y: NDArray, *, kind: str, copy: bool = True
) -> tuple[NDArray, tuple[NDArray, NDArray] | None, NDArray[np.float64], float, NDArray[np.float64]]:
    """Each model's true-class probabilities, model first, with what log loss needs of them.

    Returns ``(members, flip, row_min, largest, log_sums)``: the probabilities (what
    ``metrics.true_class_probability`` gives, transposed), each row's smallest of them, the
    largest of all, and each model's ``sum(log(members[j]))`` (its log loss, unclipped, times
    -n_rows). Built a few models at a time, so that all of it is taken while they are in cache.
    For binary, ``1 - p`` is computed as ``-p + 1`` (the same bits) with two products instead
    of a broadcast ``np.where``.

    Binary without ``copy``: ``members`` are the values themselves (a view, no copy: a fresh array of
    them costs a page fault per 4 KiB, many passes' worth of time) and ``flip`` the row's ``(sign,
    offset)``, so that ``p * sign + offset`` (in the members' type) is the true-class probability
    (see :meth:`CandidateScorer.member`); else ``flip`` is None.
    """
    n_models, n_rows = oof.shape[:2]
    binary_view = kind == "binary" and not copy
    members = np.ascontiguousarray(oof[:, :, 0]) if binary_view else np.empty((n_models, n_rows), dtype=oof.dtype)
    row_min, largest = np.full(n_rows, np.inf, dtype=oof.dtype), -np.inf  # in the values' type: exact
    log_sums = np.empty(n_models)
    flip = None
    if kind == "binary":
        positive = y == 1
        # In the members' own type: -p + 1 of a float32 p is exact in float64, so float32 arithmetic rounds it alike.
        sign = np.where(positive, 1.0, -1.0).astype(oof.dtype)
        offset = np.where(positive, 0.0, 1.0).astype(oof.dtype)
        flip = (sign, offset)
    rows = np.arange(n_rows)
    step = max(1, _CHUNK_VALUES // n_rows)
    scratch = np.empty((min(step, n_models), n_rows), dtype=oof.dtype) if binary_view else None
    for start in range(0, n_models, step):
        chunk = members[start : start + step]
        if kind == "binary":
            values = oof[start : start + step, :, 0]
            if scratch is not None:
                chunk = scratch[: values.shape[0]]
            np.multiply(values, sign, out=chunk)
            chunk += offset
        else:
            chunk[:] = oof[start : start + step, rows, y]
        for row in chunk:
            np.minimum(row_min, row, out=row_min)
        largest = max(largest, float(chunk.max()))
        with np.errstate(divide="ignore", invalid="ignore"):  # zeros and negatives: used only inside the clip range
            # sum_logs takes float32 as it is (its products in float64), and leaves it as it is.
            log_sums[start : start + step] = sum_logs(chunk if chunk.dtype == np.float32 else chunk.copy())
    return members, flip if binary_view else None, row_min.astype(np.float64), largest, log_sums


def _dot_weights(weights: NDArray[np.float64]) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """``weights`` as :func:`_blocked_dot` takes them: float32 in blocks of ``_DOT_BLOCK`` rows, the rest float64."""
    whole = weights.shape[0] - weights.shape[0] % _DOT_BLOCK
    return weights[:whole].astype(np.float32).reshape(-1, _DOT_BLOCK), weights[whole:]


def _blocked_dot(member: NDArray[np.float32], weights: tuple[NDArray[np.float32], NDArray[np.float64]]) -> float:
    """``member @ weights`` summed in float32 within blocks of ``_DOT_BLOCK`` rows, the blocks in float64
    (``weights`` from :func:`_dot_weights`, made once for all candidates)."""
    blocks, tail = weights
    whole = blocks.size
    product = float(np.einsum("ij,ij->i", member[:whole].reshape(blocks.shape), blocks).sum(dtype=np.float64))
    if tail.size:
        product += float(np.dot(member[whole:].astype(np.float64), tail))
    return product


class _LogSumBounds:
    """Upper bounds on every candidate's ``S_j = sum(log(total + members[j]))`` as members join.

    Log loss of a candidate ensemble is ``log(size + 1) - S_j / n_rows``, so the best candidate
    has the largest ``S_j``. When a member ``m`` joins ``total``, each ``S_j`` grows by
    ``sum(log1p(m / (total + members[j])))``, which is at most the same sum with
    ``members[j]`` replaced by the row's smallest member value over all models. So a candidate
    scored exactly once keeps an upper bound without being read again, and a candidate whose
    bound is below the best exact sum by more than the tie tolerance cannot be picked: only the
    others are scored (highest bound first).

    A candidate's tangent bound (:meth:`tangent`) is carried as well (``linear``): a tangent of log is a
    bound everywhere, so the one taken at a step stays a bound as members join, grown by ``m @ weights``
    of that step, the same for every candidate (:meth:`join`); the last ``_TANGENTS_KEPT`` steps' are kept.
    It grows by the mean's reciprocal where the other grows by the row's smallest value's, so it often
    rules a candidate out the next step without reading it.
    """

    def __init__(
        self,
        n_models: int,
        row_min: NDArray[np.float64],
        *,
        float32: bool = False,
        flip: tuple[NDArray, NDArray] | None = None,
    ):
        self.high = np.full(n_models, np.inf)
        self.row_min = row_min
        self.n_rows = row_min.shape[0]
        self.float32 = float32
        self.flip = flip
        # Tangent bounds carried forward: each candidate's last one (inf if none), the step it was taken at,
        # and the kept steps' row weights (see join).
        self.linear = np.full(n_models, np.inf)
        self.linear_step = np.full(n_models, -1, dtype=np.int64)
        self.kept: dict[int, NDArray[np.float64]] = {}
        self.step = 0
        self._wide: NDArray[np.float64] | None = None

    def know(self, models: NDArray, sums: NDArray[np.float64]) -> None:
        """Record exact sums."""
        self.high[models] = sums

    def join(self, total: NDArray[np.float64], member: NDArray[np.float64]) -> None:
        """Move the bounds as ``member`` joins the running sum ``total``."""
        # log1p(m / (t + x)) = log(t + x + m) - log(t + x), summed by sum_logs (no log1p per value).
        sums = np.empty((2, self.n_rows))
        np.add(total, self.row_min, out=sums[1])
        np.add(sums[1], member, out=sums[0])
        logs = sum_logs(sums)
        self.high += logs[0] - logs[1]
        if self.kept:
            # A tangent of log at c is a bound everywhere: the tangent bound taken at step k for ensembles
            # around total_k, evaluated at total + m instead of total, grows by m @ weights_k, the same for
            # every candidate (a dot product of positive terms: within n * 2**-52 of its value, relatively).
            if self._wide is None:
                self._wide = np.empty(self.n_rows)
            np.copyto(self._wide, member)
            for step, weights in self.kept.items():
                grown = float(np.dot(self._wide, weights))
                self.linear[self.linear_step == step] += grown * (1.0 + self.n_rows * 2.3e-16)

    def tangent(self, total: NDArray[np.float64], size: int) -> tuple:
        """The constant and row weights of this step's tangent bound, ``S_j <= constant + members[j] @ weights``.

        log is concave, so ``log(t + x) <= log(t + c) + (x - c) / (t + c)`` for any ``c``; with
        ``c = t / size``, the ensemble's own mean, which most candidates lie near, the sum is
        ``sum(log(t)) + n log((size + 1) / size) - n / (size + 1) + x @ (size / ((size + 1) t))``.
        The weights come in float32 too (else None) for float32 members (see :meth:`tangent_rules_out`).

        With a ``flip`` (the members are the values ``p``, the true-class probabilities ``p * sign + offset``),
        ``x @ weights = offset @ weights + p @ (sign * weights)``: the first term joins the constant, the
        signed weights are the row weights, and their plain sum ``W`` comes along for the rounding allowance.
        """
        weights = size / ((size + 1.0) * total)
        constant = sum_logs(total[None].copy())[0] + self.n_rows * (np.log((size + 1.0) / size) - 1.0 / (size + 1.0))
        self.step += 1
        self.kept[self.step] = weights
        if len(self.kept) > _TANGENTS_KEPT:
            dropped = min(self.kept)
            del self.kept[dropped]
            self.linear[self.linear_step == dropped] = np.inf
        plain = None
        if self.flip is not None:
            sign, offset = self.flip
            constant += float(np.dot(offset.astype(np.float64), weights))
            plain = float(weights.sum())
            weights = weights * sign
        single = _dot_weights(weights) if self.float32 else None
        return float(constant), weights, single, plain

    def tangent_rules_out(self, model: int, member: NDArray, tangent: tuple, cutoff: float) -> bool:
        """Whether the tangent bound of ``model`` is below ``cutoff`` (then it becomes its bound).

        For float32 members the dot product is taken in float32 by blocks of ``_DOT_BLOCK`` rows (no float64
        copy of the member), the blocks' sums added in float64, and the bound raised by what that rounding
        can cost: each term and each of a block's sums rounds once (relatively ``2**-24``), as does each
        weight, so the product is within ``(_DOT_BLOCK + 2) * 2**-24`` of its value, relatively (every
        term is positive).

        With a flip (see :meth:`tangent`) the terms have either sign, so the allowance is relative to the
        sum of their magnitudes, at most ``W = sum(weights)`` (``0 <= p <= 1``); one more ``2**-24 W`` covers
        the float32 rounding of ``-p + 1`` in the true-class probabilities, and ``n * 2**-52 W`` each the
        float64 sums of ``offset @ weights`` and of the blocks.
        """
        constant, weights, single, plain = tangent
        if single is not None and member.dtype == np.float32:
            product = _blocked_dot(member, single)
            if plain is None:
                slack = ((_DOT_BLOCK + 2) * 2.0**-24 + self.n_rows * 2.3e-16) * product
            else:
                slack = ((_DOT_BLOCK + 4) * 2.0**-24 + 2 * self.n_rows * 2.3e-16) * plain
        else:
            product = float(np.dot(member, weights))
            # A dot product of n positive terms is within n * 2**-52 of its value, relatively.
            slack = self.n_rows * 2.3e-16 * (product if plain is None else 3 * plain)
        high = constant + product + slack
        self.linear[model] = high
        self.linear_step[model] = self.step
        if high >= cutoff:
            return False
        self.high[model] = min(self.high[model], high)
        return True

    def margin(self, best: float) -> float:
        """How far below the best sum a bound must be to rule its candidate out.

        The selection's tie tolerance (relative, on the loss, itself at most about 35 for clipped
        probabilities) plus a rounding allowance for sums accumulated over many joins.
        """
        return self.n_rows * (4 * TOLERANCE * max(1.0, abs(best) / self.n_rows + 40.0) + 1e-9)


class CandidateScorer:
    """Scores the mean of (chosen members + one candidate) for many candidates at once.

    ``members`` holds each model's prediction in the form the metric needs, model
    first: (n_models, n_samples) true-class probabilities for log loss, the values for
    binary and regression metrics, (n_models, n_samples, n_classes) probabilities for
    multiclass accuracy and AUC (labels become one-hot votes); binary log loss on NumPy keeps the values
    themselves (no copy) and makes a model's true-class probabilities when it reads them (:meth:`member`,
    ``_flip``). They are float32 where the
    values come in float32 (else float64); the running sums and the candidate ensembles are
    float64 either way, so only the inputs' own rounding moves a score.
    """

    def __init__(self, oof: NDArray, y: NDArray, *, kind: str, metric: str, xp: ModuleType | None = None):
        self.xp = arrays.namespace(xp)
        oof = np.asarray(oof)
        # float32 values stay float32 (half the memory and its traffic); every sum is float64.
        oof = oof.astype(np.float32 if oof.dtype == np.float32 else np.float64, copy=False)
        y = np.asarray(y)
        metric = metrics.resolve(metric, kind)
        # Gini is 2 AUC - 1: the candidates are scored as AUC (with its pruning) and the scores mapped back.
        self._gini = metric == "gini"
        if self._gini:
            metric = metrics.resolve("auc", kind)
        if kind == "labels":
            # One-hot votes: their mean is a vote share, scored like class probabilities.
            kind = "multiclass"
        self._singles: NDArray[np.float64] | None = None
        self._inside_clip = False
        self._flip: tuple[NDArray, NDArray] | None = None
        self._member_buffer: NDArray | None = None
        if metric == "logloss":
            # Binary on NumPy: the members are the values themselves and their flip (see _true_class_members).
            self.members, self._flip, self._row_min, largest, log_sums = _true_class_members(
                oof, y, kind=kind, copy=self.xp is not np
            )
            # Inside the clip range, no ensemble needs clipping (see _score_means).
            self._inside_clip = bool(self._row_min.min() >= metrics.EPSILON and largest <= 1 - metrics.EPSILON)
            if self._inside_clip:
                self._singles = -log_sums / self.members.shape[1]
        elif kind == "multiclass":
            self.members = np.ascontiguousarray(oof)
        else:
            self.members = np.ascontiguousarray(oof[:, :, 0])
        self.kind, self.metric, self.y = kind, metric, y
        self._generic = None if self.xp is np else _Generic(self, self.xp)
        self.n_models = self.members.shape[0]
        self._buffer: NDArray[np.float64] | None = None
        self._scratch: NDArray[np.float64] | None = None
        self._codes: NDArray[np.intp] | None = None
        if metric == "auc":
            if kind == "binary":
                self.positives = [y == 1]
            else:
                self.positives = [y == c for c in range(self.members.shape[2])]
            for positive in self.positives:
                if positive.all() or not positive.any():
                    raise ValueError("auc is undefined when a class is absent from y (or is all of it)")

    def empty(self) -> NDArray[np.float64]:
        """A zero running sum (in the scorer's namespace)."""
        if self._generic is not None:
            return self._generic.empty()
        return np.zeros(self.members.shape[1:])

    def add(self, total: NDArray, model: int) -> NDArray:
        """The running sum with ``model`` joined (in place where the namespace is NumPy)."""
        if self._generic is not None:
            return self._generic.add(total, model)
        total += self._member(model)
        return total

    def join(self, total: NDArray, model: int, bounds: _LogSumBounds | None = None) -> NDArray:
        """:meth:`add`, the bounds (if any) moved first (see :meth:`_LogSumBounds.join`)."""
        if bounds is None:
            return self.add(total, model)
        member = self._member(model)
        bounds.join(total, member)
        total += member
        return total

    def member(self, model: int, out: NDArray | None = None) -> NDArray:
        """``model``'s values in the form the metric needs: ``members[model]``, but for binary log loss on NumPy,
        where the members are the values and their true-class probabilities ``p * sign + offset`` are made here
        (into ``out``, else a new array)."""
        if self._flip is None:
            return self.members[model]
        sign, offset = self._flip
        out = np.multiply(self.members[model], sign, out=out)
        out += offset
        return out

    def _member(self, model: int) -> NDArray:
        """:meth:`member` in a buffer reused from call to call (valid until the next call)."""
        if self._flip is None:
            return self.members[model]
        if self._member_buffer is None:
            self._member_buffer = np.empty(self.members.shape[1], dtype=self.members.dtype)
        return self.member(model, out=self._member_buffer)

    def log_sum_bounds(self) -> _LogSumBounds | None:
        """Fresh bounds for one selection run when log loss can prune candidates (see :class:`_LogSumBounds`)."""
        if (
            self._generic is not None
            or self.metric != "logloss"
            or self.members.size < _BOUND_MIN_VALUES
            or not self._inside_clip
        ):
            return None
        return _LogSumBounds(self.n_models, self._row_min, float32=self.members.dtype == np.float32, flip=self._flip)

    def score(
        self, total: NDArray, size: int, candidates: NDArray, *, bounds: _LogSumBounds | None = None
    ) -> NDArray[np.float64]:
        """Score of ``(total + members[j]) / (size + 1)`` for every j in ``candidates``.

        With ``bounds`` (log loss), only the candidates that can be the best are scored exactly,
        best bound first; the others get a lower bound of their loss that is worse than the
        best score by more than the selection's tie tolerance (see :class:`_LogSumBounds`).

        Binary AUC on large inputs (at least ``_BOUND_MIN_VALUES`` candidate values, ``size``
        at least 1) scores in two passes: a histogram of every candidate's ensemble over
        ``_AUC_BUCKETS`` buckets bounds its AUC (pairs in different buckets are ordered by their
        buckets; only pairs sharing one are unknown), and only the candidates whose upper
        bound reaches the best lower bound are scored exactly. The others get their upper
        bound, which is below the best score by more than the selection's tie tolerance, so
        the selection is the exact one at a fraction of the sorts.
        """
        candidates = np.asarray(candidates)
        if self._generic is not None:
            return self._mapped(self._generic.score(total, size, candidates))
        if size == 0 and not total.any():
            # Single models: scored once (caruana_select's model scores, then the first step).
            if self._singles is None:
                self._singles = self._score_all(total, 0, np.arange(self.n_models))
            if bounds is not None:
                # Log loss of a single model is -sum(log(member)) / n_rows.
                bounds.know(candidates, -self._singles[candidates] * self.members.shape[1])
            return self._mapped(self._singles[candidates].copy())
        if bounds is not None:
            return self._score_bounded(total, size, candidates, bounds)
        return self._mapped(self._score_all(total, size, candidates))

    def _mapped(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scores in the metric's units: AUC becomes Gini (2 AUC - 1) where the metric is Gini."""
        return 2.0 * scores - 1.0 if self._gini else scores

    def _score_bounded(
        self, total: NDArray, size: int, candidates: NDArray, bounds: _LogSumBounds
    ) -> NDArray[np.float64]:
        """Log loss of the candidates that can win, exactly; a lower bound for the rest.

        Candidates are taken in order of their carried bound. Once one is scored, each next one
        is first checked against its tangent bound (one dot product, a quarter of the cost of
        scoring it) and scored only if that bound too reaches the best sum so far.
        """
        n_rows = self.members.shape[1]
        self._reserve_buffer(1)
        # Highest bound first (the stable sort keeps the lower index first on a tie).
        order = candidates[np.argsort(-bounds.high[candidates], kind="stable")]
        tangent = bounds.tangent(total, size)
        best = -np.inf
        scored: list[int] = []
        for position, model in enumerate(order):
            cutoff = best - bounds.margin(best)
            if bounds.high[model] < cutoff:
                break  # in order of the bound: no later candidate can win either
            if bounds.linear[model] < cutoff:
                # Ruled out by a tangent bound carried forward (see _LogSumBounds.join), now its bound.
                bounds.high[model] = min(bounds.high[model], bounds.linear[model])
                continue
            if best > -np.inf and bounds.tangent_rules_out(model, self.members[model], tangent, cutoff):
                continue
            exact = sum_logs(self._candidate_means(total, size, order[position : position + 1], divide=False))[0]
            bounds.know(model, exact)
            scored.append(model)
            best = max(best, exact)
        # Exact where just scored, else an upper bound of the sum: a lower bound of the loss.
        sums = np.minimum(bounds.high, bounds.linear)
        sums[scored] = bounds.high[scored]
        return np.log(size + 1.0) - sums[candidates] / n_rows

    def _score_all(self, total: NDArray, size: int, candidates: NDArray) -> NDArray[np.float64]:
        per_model = int(np.prod(self.members.shape[1:]))
        step = max(1, _CHUNK_VALUES // per_model)
        self._reserve_buffer(min(step, len(candidates)))
        bounded = (
            self.metric == "auc"
            and self.kind == "binary"
            and size > 0
            and len(candidates) > 1
            and len(candidates) * per_model >= _BOUND_MIN_VALUES
        )
        # Log loss of (t + m) / (k + 1) is log(k + 1) - mean(log(t + m)): no division, and no clip
        # when every member already lies inside the clip range.
        log_size = np.log(size + 1.0) if self.metric == "logloss" and self._inside_clip else None
        scores = np.empty(len(candidates))
        lower = np.empty(len(candidates) if bounded else 0)
        for start in range(0, len(candidates), step):
            chunk = candidates[start : start + step]
            means = self._candidate_means(total, size, chunk, divide=log_size is None)
            if bounded:
                lower[start : start + step], scores[start : start + step] = self._auc_bounds(means)
            else:
                scores[start : start + step] = self._score_means(means, self._scratch, log_size=log_size)
        if bounded:
            # Exact scores for every candidate that could be within the tie tolerance of the best.
            contenders = np.flatnonzero(scores >= lower.max() - 4 * TOLERANCE)
            for start in range(0, len(contenders), step):
                chunk = contenders[start : start + step]
                means = self._candidate_means(total, size, candidates[chunk])
                scores[chunk] = self._score_means(means, self._scratch)
        return scores

    def _reserve_buffer(self, count: int) -> None:
        """Make the reused buffer of candidate ensembles hold at least ``count`` of them (one chunk at most)."""
        if self._buffer is None or self._buffer.shape[0] < count:
            # Reused across iterations: fresh multi-megabyte arrays cost page faults.
            step = max(1, _CHUNK_VALUES // int(np.prod(self.members.shape[1:])))
            self._buffer = np.empty((min(step, self.n_models),) + self.members.shape[1:])
            self._scratch = np.empty_like(self._buffer) if self.metric == "auc" else None

    def _candidate_means(
        self, total: NDArray, size: int, chunk: NDArray, *, divide: bool = True
    ) -> NDArray[np.float64]:
        """``(total + members[j]) / (size + 1)`` for j in ``chunk`` (undivided if not ``divide``), in the reused
        buffer."""
        assert self._buffer is not None  # _reserve_buffer made it
        means = self._buffer[: len(chunk)]
        if self._flip is not None:
            # The true-class probabilities made one model at a time (in cache), then added.
            for row, model in enumerate(chunk):
                np.add(self._member(int(model)), total, out=means[row])
        elif len(chunk) > 1 and chunk[-1] - chunk[0] == len(chunk) - 1 and np.all(np.diff(chunk) == 1):
            # Consecutive models (every model is a candidate): one pass, no gather.
            np.add(self.members[chunk[0] : chunk[-1] + 1], total, out=means)
        else:
            # One pass per model: a gather then an add would read and write every value twice.
            for row, model in enumerate(chunk):
                np.add(self.members[model], total, out=means[row])
        if divide:
            means /= size + 1
        return means

    def _auc_bounds(self, means: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lower and upper bounds of each row's binary AUC from a histogram of its values.

        ``floor(value * scale)`` never decreases as the value grows, so a positive in a higher
        bucket than a negative is ranked above it: those pairs are counted exactly, and the
        pairs that share a bucket (ties included) lie between none and all of them counted.
        """
        buckets = _AUC_BUCKETS
        if self._codes is None or self._codes.shape[0] < means.shape[0]:
            self._codes = np.empty(means.shape, dtype=np.intp)
            self._negative = (~self.positives[0]).astype(np.intp)
        top = float(means.max())
        scale = (buckets - 1) / top if top > 0 else 0.0
        codes = self._codes[: means.shape[0]]
        np.multiply(means, scale, out=codes, casting="unsafe")  # truncation is the floor: means >= 0
        codes <<= 1
        codes |= self._negative  # bucket * 2 + (1 for a negative)
        n_pos = int(self.positives[0].sum())
        n_neg = self.positives[0].size - n_pos
        lower = np.empty(means.shape[0])
        upper = np.empty(means.shape[0])
        for row in range(means.shape[0]):
            counts = np.bincount(codes[row], minlength=2 * buckets).reshape(buckets, 2)
            positives, negatives = counts[:, 0], counts[:, 1]
            below = np.cumsum(negatives)
            below -= negatives
            sure = int(positives @ below)
            unsure = int(positives @ negatives)
            lower[row] = sure / (n_pos * n_neg)
            upper[row] = (sure + unsure) / (n_pos * n_neg)
        return lower, upper

    def score_total(self, total: NDArray, size: int) -> float:
        """Score of the ensemble whose members sum to ``total``."""
        if self._generic is not None:
            return float(self._mapped(self._generic.score_means(self._generic.expand(total / size)))[0])
        return float(self._mapped(self._score_means((total / size)[None]))[0])

    def score_weights(self, weights: NDArray) -> float:
        """Score of the weighted mean of all members."""
        # A sum over the few members with weight: no pass over all of them.
        if self._generic is not None:
            return float(
                self._mapped(self._generic.score_means(self._generic.expand(self._generic.weighted(weights))))[0]
            )
        if self._flip is not None:
            # layout.weighted_sum's sum, model by model, of the true-class probabilities.
            weights = np.asarray(weights, dtype=np.float64)
            total = np.zeros(self.members.shape[1])
            for model in np.flatnonzero(weights != 0):
                total += weights[model] * self._member(int(model))
            return float(self._mapped(self._score_means(total[None]))[0])
        return float(self._mapped(self._score_means(layout.weighted_sum(self.members, weights)[None]))[0])

    def _score_means(
        self, means: NDArray[np.float64], scratch: NDArray | None = None, *, log_size: float | None = None
    ) -> NDArray[np.float64]:
        """Scores of candidate ensembles, one per row of ``means`` (which it overwrites).

        With ``log_size`` (log loss only), ``means`` hold the undivided sums of members that need
        no clipping, and the score is ``log_size - mean(log(sums))``.
        """
        metric = self.metric
        if metric == "logloss":
            n_rows = means.shape[1]
            if log_size is not None:
                return log_size - sum_logs(means) / n_rows
            np.clip(means, metrics.EPSILON, 1 - metrics.EPSILON, out=means)
            return -sum_logs(means) / n_rows
        if metric == "rmse":
            means -= self.y
            return np.sqrt(np.mean(np.square(means, out=means), axis=1))
        if metric == "mae":
            means -= self.y
            return np.mean(np.abs(means, out=means), axis=1)
        if metric == "accuracy" and self.kind != "binary":
            return np.mean(np.argmax(means, axis=2) == self.y, axis=1)
        if metric == "auc":
            if self.kind == "binary":
                scratch = None if scratch is None else scratch[: means.shape[0]]
                return metrics.auc_rows(self.positives[0], means, overwrite=True, scratch=scratch)
            return np.mean(
                [metrics.auc_rows(positive, means[:, :, c]) for c, positive in enumerate(self.positives)], axis=0
            )
        # Every other metric, each candidate with its own fitted step (a threshold, cut-points).
        return metric.batch(self.y, means)


class _Generic:
    """The candidate scoring of :class:`CandidateScorer` in any array-API namespace ``xp`` (CuPy on a GPU).

    Only the Python array API standard (2023.12) is used: the members and the running sums live in ``xp``, the
    candidate ensembles are built a chunk at a time (``take`` and a broadcast add) and scored there; only the
    scores (one float per candidate) come back, as NumPy. Log loss, RMSE, MAE and binary AUC are scored in
    ``xp``; any other metric gets the ensembles as NumPy and scores them as the NumPy path does. There is no
    pruning: every candidate is scored, exactly, so the selection is the NumPy path's.
    """

    def __init__(self, scorer: CandidateScorer, xp: ModuleType):
        self.scorer, self.xp = scorer, xp
        members = scorer.members
        self.numpy_members = members
        dtype = xp.float32 if members.dtype == np.float32 else xp.float64
        scorer.members = xp.asarray(members, dtype=dtype)
        self.shape = tuple(members.shape[1:])
        self.y = xp.asarray(scorer.y.astype(np.float64)) if scorer.metric in ("rmse", "mae") else None
        if scorer.metric == "auc" and scorer.kind == "binary":
            positive = scorer.y == 1
            self.positive = xp.asarray(positive)
            self.n_pos = int(positive.sum())
            self.n_neg = int(positive.size - self.n_pos)

    def empty(self) -> XArray:
        return self.xp.zeros(self.shape, dtype=self.xp.float64)

    def add(self, total: XArray, model: int) -> XArray:
        return total + self.xp.astype(self.scorer.members[model, ...], self.xp.float64)

    def expand(self, values: XArray) -> XArray:
        return self.xp.expand_dims(values, axis=0)

    def weighted(self, weights: NDArray) -> XArray:
        xp = self.xp
        total = self.empty()
        for model in np.flatnonzero(weights):
            total = total + float(weights[model]) * xp.astype(self.scorer.members[int(model), ...], xp.float64)
        return total

    def score(self, total: XArray, size: int, candidates: NDArray) -> NDArray[np.float64]:
        xp = self.xp
        per_model = int(np.prod(self.shape))
        step = max(1, _CHUNK_VALUES // per_model)
        scores = np.empty(len(candidates))
        for start in range(0, len(candidates), step):
            chunk = xp.asarray(np.asarray(candidates[start : start + step], dtype=np.int64))
            means = (xp.astype(xp.take(self.scorer.members, chunk, axis=0), xp.float64) + total) / (size + 1)
            scores[start : start + step] = self.score_means(means)
        return scores

    def score_means(self, means: XArray) -> NDArray[np.float64]:
        """Scores of the ensembles, one per row of ``means`` (an ``xp`` array), as NumPy."""
        xp, metric = self.xp, self.scorer.metric
        if metric == "logloss" and means.ndim == 2:
            clipped = xp.clip(means, metrics.EPSILON, 1 - metrics.EPSILON)
            return arrays.to_numpy(-sum_logs(clipped, xp=xp) / clipped.shape[1]).astype(np.float64)
        if metric in ("rmse", "mae"):
            errors = means - self.y
            if metric == "mae":
                return arrays.to_numpy(xp.mean(xp.abs(errors), axis=1)).astype(np.float64)
            return arrays.to_numpy(xp.sqrt(xp.mean(errors * errors, axis=1))).astype(np.float64)
        if metric == "auc" and self.scorer.kind == "binary":
            return np.array([self._auc(means[row, ...]) for row in range(means.shape[0])])
        # Every other metric: the ensembles come back to NumPy, scored as the NumPy path scores them.
        return self.scorer._score_means(np.array(arrays.to_numpy(means), dtype=np.float64))

    def _auc(self, values: XArray) -> float:
        """Binary ROC AUC of one row (ties count a half), from average ranks: a sort and two binary searches."""
        xp = self.xp
        ordered = xp.sort(values)
        low = xp.searchsorted(ordered, values, side="left")
        high = xp.searchsorted(ordered, values, side="right")
        ranks = xp.astype(low + high + 1, xp.float64) / 2.0
        rank_sum = float(xp.sum(xp.where(self.positive, ranks, xp.zeros_like(ranks))))
        return (rank_sum - self.n_pos * (self.n_pos + 1) / 2.0) / (self.n_pos * self.n_neg)

"""Honest scores that compare blends and single files alike: cross-validation over the OOF rows.

A blend that learns (selection, Caruana, weights, stacking) scores better on the rows it
learned from than on new ones. Here every leaderboard entry, single files included, is
scored the same way:

- the OOF rows are split into K folds, one seeded assignment shared by every entry, and
  repeated ``repeats`` times with other seeds;
- a blend method is fitted on K-1 folds and scores the held-out fold; a single file just
  scores it; so no row is ever scored by a blend fitted on it;
- each fold is scored on its own and the fold scores are averaged (a rank metric such as
  AUC over pooled folds would mix fold blends of different scales);
- the noise of that mean is the standard error of the fold scores with Nadeau and Bengio's
  (2003) correction for the overlap of training sets across folds:
  ``sd * sqrt(1 / n_scores + 1 / (K - 1))``; the same formula on the per-fold differences
  from the best single file says whether an entry beats it by more than noise;
- the best single file is the one with the best score on all OOF rows, the one a user would
  submit. Its fold scores are a little flattered by that choice, which makes the comparison
  cautious. Choosing it inside each fold instead was tried and rejected: on files of pure
  noise, a file chosen on a fold's training rows scores *below* chance on its held-out rows
  (the two parts of a fixed set of rows pull in opposite directions), so every blend seemed to
  beat it (README, "How the pick rule was chosen");
- a per-fold difference within floating-point noise of zero (:data:`NOISE_FLOOR`,
  :func:`beyond_noise_floor`) is a tie, exactly 0: so is a fold in which a blend's held-out
  predictions equal the best single file's to that tolerance (``weights`` that put
  everything on one file). Rounding then never reads as a win.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from blender import arrays, layout, metrics
from blender.methods import Fitted, Method, fit, methods_for

#: One fold: (training rows, held-out rows).
Split = tuple[NDArray[np.int64], NDArray[np.int64]]

# Relative tolerance under which two scores (or two predictions) are the same number, give or
# take rounding: float64 sums of a few thousand terms carry relative errors near 1e-13, and no
# real difference between two blends is a billionth of their score.
NOISE_FLOOR = 1e-9
# The absolute fallback of the floor's scale, for scores at or next to 0 (an rmse of 0): the
# smallest normal float, so a difference of exactly 0 is a tie and any other one is not; a
# floor in absolute units would erase real differences of a target measured in tiny units.
_TINY = float(np.finfo(np.float64).tiny)


def beyond_noise_floor(difference: NDArray[np.float64], scale: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Where a difference is more than floating-point noise: ``|difference| > NOISE_FLOOR * max(|scale|, tiny)``.

    Elementwise, with numpy broadcasting. ``scale`` is the size of the two numbers compared
    (the leaderboard passes the larger magnitude of the two fold scores, or of the two
    predictions): the floor is relative, so it means the same for a log loss of 0.3 and an
    rmse of 30,000. ``tiny`` is the smallest normal float64, an absolute fallback for scales at
    0 (an rmse of 0): there only an exact 0 is a tie.

    Parameters
    ----------
    difference : ndarray
        Differences between two scores (or predictions).
    scale : ndarray or float
        The magnitude the difference is relative to, broadcastable against ``difference``.

    Returns
    -------
    ndarray of bool, the broadcast shape of the inputs

    Examples
    --------
    >>> beyond_noise_floor(np.array([2.776e-18, -2e-10, 1e-6, 0.0]), 0.3).tolist()
    [False, False, True, False]
    >>> beyond_noise_floor(np.array([3e-6, 3e-4]), np.array([30000.0, 30000.0])).tolist()  # rmse in dollars
    [False, True]
    >>> beyond_noise_floor(np.array([0.0, 1e-300]), 0.0).tolist()  # an rmse of 0: only 0 is a tie
    [False, True]
    """
    difference = np.asarray(difference, dtype=np.float64)
    scale = np.maximum(np.abs(np.asarray(scale, dtype=np.float64)), _TINY)
    return np.abs(difference) > NOISE_FLOOR * scale


def _within_noise_floor(a: NDArray, b: NDArray) -> bool:
    """Whether two arrays of predictions are equal to the noise floor, element by element."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and not beyond_noise_floor(a - b, np.maximum(np.abs(a), np.abs(b))).any()


@dataclass(frozen=True, eq=False)
class Entry:
    """One leaderboard line: a single file (``type == "model"``) or a blend method (``"blend"``).

    Attributes
    ----------
    fold_scores : ndarray of shape (n_repeats * n_folds,)
    mean, se : float
        The mean fold score and its corrected standard error.
    gain, gain_se : float
        The mean per-fold improvement over the best single file (positive is better, in the
        metric's units) and its corrected standard error. A fold's difference within the
        noise floor (:func:`beyond_noise_floor`) counts as exactly 0.
    wins : int
        Folds in which the entry beats the best single file beyond the noise floor.
    complexity : int
        0 for a single file; the registry's complexity for a blend.
    oof : float
        A file's score on all its OOF rows at once (NaN for a blend, which has no such score).
    """

    name: str
    type: str
    fold_scores: NDArray[np.float64]
    mean: float
    se: float
    gain: float
    gain_se: float
    wins: int
    complexity: int
    oof: float = float("nan")

    @property
    def n_folds(self) -> int:
        return int(self.fold_scores.shape[0])


@dataclass(frozen=True, eq=False)
class Leaderboard:
    """Entries best first, and how they were scored."""

    entries: list[Entry]
    metric: str
    folds: int
    repeats: int
    best_single: str
    best_single_oof: float
    seconds: dict[str, float] = field(default_factory=dict)

    def entry(self, name: str) -> Entry:
        return next(entry for entry in self.entries if entry.name == name)


def fold_count(folds: int | NDArray) -> int:
    """How many folds ``folds`` makes: K itself, or the distinct fold numbers of an assignment.

    >>> fold_count(5), fold_count(np.array([0, 1, 2, 0, 1, 2]))
    (5, 3)
    """
    return int(folds) if np.ndim(folds) == 0 else int(np.unique(folds).shape[0])


def assignment_splits(assignment: NDArray) -> list[Split]:
    """(train rows, held-out rows) for each fold number of ``assignment``, in increasing order.

    >>> [held.tolist() for _, held in assignment_splits(np.array([1, 0, 1, 0]))]
    [[1, 3], [0, 2]]
    """
    assignment = np.asarray(assignment)
    return [(np.flatnonzero(assignment != fold), np.flatnonzero(assignment == fold)) for fold in np.unique(assignment)]


def fold_assignment(
    y: NDArray, *, kind: metrics.Kind, folds: int | NDArray, random_state: int | None = 0
) -> NDArray[np.int64]:
    """Each row's fold number: the assignment itself, or that of the first seeded repeat of K folds.

    >>> fold_assignment(np.array([0, 1] * 3), kind="binary", folds=3, random_state=0).tolist()
    [2, 2, 1, 0, 0, 1]
    """
    if np.ndim(folds) != 0:
        return np.asarray(folds, dtype=np.int64)
    assignment = np.empty(np.asarray(y).shape[0], dtype=np.int64)
    for fold, (_, held_out) in enumerate(layout.cv_folds(y, kind=kind, folds=int(folds), random_state=random_state)):
        assignment[held_out] = fold
    return assignment


def repeated_folds(
    y: NDArray, *, kind: metrics.Kind, folds: int | NDArray = 5, repeats: int = 1, random_state: int | None = 0
) -> list[Split]:
    """``repeats`` seeded K-fold splits of the rows, one after the other (repeat r uses seed + r);
    or, for an assignment of rows to folds (a folds file), its folds, once.

    >>> splits = repeated_folds(np.array([0, 1] * 5), kind="binary", folds=5, repeats=2, random_state=0)
    >>> len(splits), sorted(np.concatenate([held for _, held in splits[:5]]).tolist()) == list(range(10))
    (10, True)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if np.ndim(folds) != 0:
        if repeats != 1:
            raise ValueError("a folds file gives one split; repeats must be 1")
        return assignment_splits(np.asarray(folds))
    count = cast(int, folds)  # a scalar: the number of folds, passed on as given
    base = 0 if random_state is None else random_state
    return [
        split for r in range(repeats) for split in layout.cv_folds(y, kind=kind, folds=count, random_state=base + r)
    ]


def held_out_blends(
    method: Method,
    values: NDArray,
    y: NDArray,
    splits: Sequence[Split],
    *,
    kind: metrics.Kind,
    metric: str | None,
    random_state: int | None = None,
    options: dict[str, Any] | None = None,
    features: NDArray | None = None,
    training_blends: bool = False,
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64] | None]]:
    """For each split, the method fitted on its training rows and applied to its held-out rows:
    yields (held-out rows, blend of shape (len(held_out), n_cols), training rows, their blend or None).

    ``training_blends``: also apply the fitted blend to its own training rows, on which a metric's
    decision step (a threshold, cut-points) is then fitted."""
    for train_rows, held_out in splits:
        extra = {} if features is None else {"features": features[train_rows]}
        fold = _FoldKey(values, train_rows) if features is None and not options else None
        token = _FOLD.set(fold)
        try:
            fitted = fit(
                method,
                layout.take_rows(values, train_rows),
                y[train_rows],
                kind=kind,
                metric=metric,
                random_state=random_state,
                **(options or {}),
                **extra,
            )
        finally:
            _FOLD.reset(token)
        if fold is not None:
            _FOLD_FITS.remember(fold, method, kind, metric, random_state, fitted)

        def apply(rows: NDArray[np.int64]) -> NDArray[np.float64]:
            rows_values = layout.take_rows(values, rows)
            if features is None:
                return fitted.apply(rows_values)
            # A stacker given original features (fit(..., features=...)) takes them beside the predictions.
            return cast(_FittedWithFeatures, fitted).apply(rows_values, features[rows])

        yield held_out, apply(held_out), train_rows, apply(train_rows) if training_blends else None


class _FittedWithFeatures(Protocol):
    """A blend fitted with original features (a stacker's ``features``): it takes the rows' features beside them."""

    def apply(self, values: NDArray, features: NDArray) -> NDArray[np.float64]: ...


# ---------------------------------------------------------------------------- fold work shared between entries
#
# The level-2 pipeline (``level2-hill-climb``, :mod:`blender.levels`) fits its level-2 members (the linear
# stackers) on every row it is given, after cross-fitting them; on a leaderboard fold those rows are the fold's
# training rows, on which the leaderboard has just fitted the same entries. :func:`held_out_blends` says which
# fold a fit is on (``_FOLD``) and remembers the fits of the entries that the level-2 pipeline reuses
# (``_FOLD_FITS``); :func:`shared_fit` hands one back instead of fitting it again.


class _FoldKey:
    """Which rows of which values a fit is on: the values by identity (a weak reference), the rows by digest."""

    def __init__(self, values: NDArray, rows: NDArray):
        import hashlib
        import weakref

        self._values = weakref.ref(values) if isinstance(values, np.ndarray) else None
        self.shape = (values.shape[0], len(rows), *values.shape[2:])
        self.digest = hashlib.blake2b(np.ascontiguousarray(rows).tobytes(), digest_size=16).digest()

    def same(self, other: _FoldKey) -> bool:
        values = self._values() if self._values is not None else None
        return (
            values is not None
            and other._values is not None
            and values is other._values()
            and (self.digest == other.digest)
        )


class _FoldFits:
    """The last few fits of the shared entries, each with its fold, entry and arguments."""

    # Folds x repeats x the shared entries of one leaderboard, with room for the inner folds' fits.
    SIZE = 64

    def __init__(self) -> None:
        self.fits: list[tuple[_FoldKey, str, metrics.Kind, str | None, int | None, Fitted]] = []
        self.hits = 0

    def remember(
        self,
        fold: _FoldKey,
        method: Method,
        kind: metrics.Kind,
        metric: str | None,
        random_state: int | None,
        fitted: Fitted,
    ) -> None:
        from blender.levels import LEVEL2_MEMBERS

        if method.name in LEVEL2_MEMBERS and method.learns:
            self.fits.append((fold, method.name, kind, metric, random_state, fitted))
            del self.fits[: max(0, len(self.fits) - self.SIZE)]

    def find(
        self, fold: _FoldKey, method: Method, kind: metrics.Kind, metric: str | None, random_state: int | None
    ) -> Fitted | None:
        for known, name, known_kind, known_metric, known_state, fitted in reversed(self.fits):
            if (
                name == method.name
                and known_kind == kind
                and known_metric == metric
                and known_state == random_state
                and known.same(fold)
            ):
                self.hits += 1
                return fitted
        return None


_FOLD: ContextVar[_FoldKey | None] = ContextVar("leaderboard_fold", default=None)
_FOLD_FITS = _FoldFits()


def shared_fit(
    entry: Method,
    values: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: str | None,
    random_state: int | None = None,
) -> Fitted:
    """``fit(entry, values, y, ...)``, or the same fit made already on the same fold's rows by the leaderboard.

    ``values`` must be all the rows of the fold being fitted (as the level-2 pipeline's members are): the fit
    is reused only when the call runs inside a fold fit of :func:`held_out_blends` whose rows are these.
    """
    fold = _FOLD.get()
    if fold is not None and fold.shape == np.shape(values):
        fitted = _FOLD_FITS.find(fold, entry, kind, metric, random_state)
        if fitted is not None:
            return fitted
    return fit(entry, values, y, kind=kind, metric=metric, random_state=random_state)


def cross_fit(
    method: Method,
    values: NDArray,
    y: NDArray,
    splits: Sequence[Split],
    *,
    kind: metrics.Kind,
    metric: str | None,
    random_state: int | None = None,
    features: NDArray | None = None,
) -> NDArray[np.float64]:
    """Out-of-fold predictions of a blend method: each row from the method fitted on its split's
    training rows only (``splits`` must hold every row out once), shape (n_rows, n_cols).

    >>> from blender.methods import BY_NAME
    >>> values = np.array([[0.0, 1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0]])[:, :, None]
    >>> cross_fit(BY_NAME["average"], values, np.zeros(4), assignment_splits(np.array([0, 0, 1, 1])),
    ...           kind="regression", metric="rmse")[:, 0].tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    oof: NDArray[np.float64] | None = None
    seen = np.zeros(np.asarray(y).shape[0], dtype=bool)
    for held_out, blended, _, _ in held_out_blends(
        method, values, y, splits, kind=kind, metric=metric, random_state=random_state, features=features
    ):
        if oof is None:
            oof = np.full((seen.shape[0], blended.shape[1]), np.nan)
        if seen[held_out].any():
            raise ValueError("cross_fit needs splits that hold each row out once")
        oof[held_out], seen[held_out] = blended, True
    if not seen.all():
        raise ValueError("cross_fit needs splits that hold every row out")
    if oof is None:  # no rows and no splits: not even the blend's columns are known
        raise ValueError("cross_fit needs at least one split")
    return oof


def fold_scores(
    method: Method,
    values: NDArray,
    y: NDArray,
    splits: list[tuple[NDArray, NDArray]],
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    random_state: int | None = None,
    options: dict | None = None,
    reference: NDArray | None = None,
    features: NDArray | None = None,
    xp: ModuleType | None = None,
) -> NDArray[np.float64]:
    """The method fitted on each split's training rows, scored on its held-out rows: (n_splits,).

    ``reference`` (n_rows, n_cols), default None: one file's predictions (the leaderboard passes
    the best single file's). In a fold where the blend's held-out predictions equal the
    reference's to the noise floor, the blend *is* that file there, and the fold gets the file's
    own score, so its difference to the file is exactly 0 rather than rounding.

    ``features`` (n_rows, n_features), default None: original features of the rows, for a
    stacker that takes them (``fit(..., features=...)``, ``apply(values, features)``), split
    with the rows.

    ``xp``, default None (the run's namespace, :mod:`blender.arrays`): where the fold scores are
    computed; the method fits in NumPy.
    """
    metric = metrics.resolve(metric, kind)
    scores = np.empty(len(splits))
    blends = held_out_blends(
        method,
        values,
        y,
        splits,
        kind=kind,
        metric=metric,
        random_state=random_state,
        options=options,
        features=features,
        training_blends=metric.fits_step,
    )
    for k, (held_out, blended, train_rows, fit_blend) in enumerate(blends):
        if (
            reference is not None
            and _within_noise_floor(blended, reference[held_out])
            and (fit_blend is None or _within_noise_floor(fit_blend, reference[train_rows]))
        ):
            # Scored exactly as model_fold_scores scores the file.
            blended = reference[held_out]
            fit_blend = None if fit_blend is None else reference[train_rows]
        scores[k] = _fold_score(metric, y, train_rows, fit_blend, held_out, blended, kind, xp)
    return scores


def _fold_score(
    metric: metrics.Metric,
    y: NDArray,
    train_rows: NDArray[np.int64],
    fit_blend: NDArray | None,
    held_out: NDArray[np.int64],
    blended: NDArray,
    kind: metrics.Kind,
    xp: ModuleType | None = None,
) -> float:
    """A held-out fold's score; with a decision step, the step fitted on the fold's training rows."""
    if fit_blend is None:
        return layout.plain_score(y[held_out], blended, metric=metric, kind=kind, xp=xp)
    return layout.held_out_score(y[train_rows], fit_blend, y[held_out], blended, metric=metric, kind=kind, xp=xp)


def model_fold_scores(
    values: NDArray,
    y: NDArray,
    splits: Sequence[Split],
    *,
    kind: metrics.Kind,
    metric: metrics.Metric,
    xp: ModuleType | None = None,
) -> NDArray[np.float64]:
    """Each file's score on each held-out fold, its step fitted on the other folds: shape (n_models, n_splits).

    Computed in ``xp`` (default: the run's namespace). Outside NumPy, without a step to fit, each fold
    scores a block of files at once (:func:`blender.layout.plain_scores`); in NumPy one file at a time,
    as :func:`fold_scores` scores a blend, so that a blend equal to a file scores the same float.
    """
    metric = metrics.resolve(metric, kind)
    if not metric.fits_step and not layout.in_numpy(xp):
        if not splits:
            return np.empty((layout.n_models(values), 0))
        return np.stack(
            [layout.plain_scores(values, y, metric=metric, kind=kind, rows=held_out, xp=xp) for _, held_out in splits],
            axis=1,
        )
    return np.array(
        [
            [
                _fold_score(
                    metric,
                    y,
                    train_rows,
                    model[train_rows] if metric.fits_step else None,
                    held_out,
                    model[held_out],
                    kind,
                    xp,
                )
                for train_rows, held_out in splits
            ]
            for model in np.asarray(values)
        ]
    )


def corrected_se(scores: NDArray[np.float64], folds: int) -> float:
    """Standard error of the mean of CV fold scores, corrected for overlapping training sets.

    Nadeau and Bengio (2003): ``sd * sqrt(1/n + n_test/n_train)``, with n_test/n_train = 1/(K-1).

    >>> round(corrected_se(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 5), 4)
    1.0607
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[0] < 2:
        return float("nan")
    return float(np.std(scores, ddof=1) * np.sqrt(1.0 / scores.shape[0] + 1.0 / (folds - 1)))


def bootstrap_interval(
    differences: NDArray, *, seed: int | None = 0, resamples: int = 2000, coverage: float = 0.95
) -> tuple[float, float, float]:
    """The mean of per-row differences and its percentile bootstrap interval, resampling rows.

    >>> bootstrap_interval(np.full(50, -0.1))
    (-0.1, -0.1, -0.1)
    """
    differences = np.asarray(differences, dtype=np.float64)
    generator = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 250):  # 250 resamples at a time bounds the index block's memory
        rows = generator.integers(0, len(differences), size=(min(250, resamples - start), len(differences)))
        means[start : start + len(rows)] = differences[rows].mean(axis=1)
    tail = (1 - coverage) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return round(float(differences.mean()), 12), round(float(low), 12), round(float(high), 12)


def leaderboard(
    values: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    metric: metrics.Metric | None = None,
    names: list[str],
    folds: int | NDArray = 5,
    repeats: int = 1,
    random_state: int | None = 0,
    methods: list[Method] | None = None,
    progress: Callable[[str], None] | None = None,
    features: NDArray | None = None,
    scorer: Callable[..., NDArray[np.float64] | None] | None = None,
    xp: ModuleType | None = None,
) -> Leaderboard:
    """Every file and every blend method scored on the same folds, best mean first.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
        OOF predictions.
    y : ndarray of shape (n_rows,)
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
    names : list of str
        One name per model.
    folds : int or ndarray of shape (n_rows,), default=5
        K seeded folds over the OOF rows, or each row's fold number (a folds file's, shared by
        every level; then ``repeats`` must be 1).
    repeats : int, default=1
        Seeded K-fold CV is repeated with seeds ``random_state + r``.
    random_state : int, default=0
        Seeds the folds and every method.
    methods : list of Method, default=None
        None means every registry entry that suits the kind and metric.
    progress : callable, default=None
        Called with a line as each entry is scored.
    features : ndarray of shape (n_rows, n_features), default=None
        Original features of the rows, for methods that take them (``blend stack --features``).
    scorer : callable, default=None
        Scores one method on the splits, called as :func:`fold_scores` is (None means
        :func:`fold_scores`); it may return None to leave the method off the board whole, so
        every entry on it is scored on every fold. A time budget (:mod:`blender.plan`) passes
        one that counts the folds done and stops adding methods when the run is late.
    xp : array namespace, default=None
        Where the fold scores are computed (:mod:`blender.arrays`): None is the run's namespace
        (NumPy unless ``--device gpu``). The methods fit in NumPy.

    Returns
    -------
    Leaderboard
        Ties keep the files first, in file order, then the methods in registry order.

    Examples
    --------
    >>> from blender.methods import BY_NAME
    >>> values = np.array([[1.0, 2.0, 4.0, 3.0, 2.0, 5.0], [3.0, 2.0, 2.0, 5.0, 4.0, 3.0]])[:, :, None]
    >>> board = leaderboard(values, np.array([2.0, 2.0, 3.0, 4.0, 3.0, 4.0]), kind="regression", metric="mae",
    ...                     names=["a", "b"], folds=3, methods=[BY_NAME["average"]])
    >>> [(entry.name, round(entry.mean, 3)) for entry in board.entries]
    [('average', 0.0), ('a', 0.833), ('b', 0.833)]
    """
    with arrays.using(arrays.namespace(xp)):
        return _leaderboard(
            values, y, kind, metric, names, folds, repeats, random_state, methods, progress, features, scorer
        )


def _leaderboard(
    values: NDArray,
    y: NDArray,
    kind: metrics.Kind,
    metric: metrics.Metric | None,
    names: list[str],
    folds: int | NDArray,
    repeats: int,
    random_state: int | None,
    methods: list[Method] | None,
    progress: Callable[[str], None] | None,
    features: NDArray | None,
    scorer: Callable[..., NDArray[np.float64] | None] | None,
) -> Leaderboard:
    import time

    values = np.asarray(values)
    y = np.asarray(y)
    metric = metrics.for_truth(metric, kind, y)
    if len(names) != layout.n_models(values):
        raise ValueError(f"got {len(names)} names for {layout.n_models(values)} models")
    if methods is None:
        methods = methods_for(kind, metric)
    splits = repeated_folds(y, kind=kind, folds=folds, repeats=repeats, random_state=random_state)
    k = fold_count(folds)
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0

    per_model = model_fold_scores(values, y, splits, kind=kind, metric=metric)
    overall = layout.model_scores(values, y, metric=metric, kind=kind)
    best = layout.best_model(overall, metric)
    baseline = per_model[best]

    def entry(name: str, type_: str, scores: NDArray[np.float64], complexity: int, oof: float = float("nan")) -> Entry:
        difference = sign * (scores - baseline)
        # Rounding is a tie, not a win (or a loss): see beyond_noise_floor.
        difference[~beyond_noise_floor(difference, np.maximum(np.abs(scores), np.abs(baseline)))] = 0.0
        return Entry(
            name,
            type_,
            scores,
            float(scores.mean()),
            corrected_se(scores, k),
            float(difference.mean()),
            corrected_se(difference, k),
            int((difference > 0).sum()),
            complexity,
            float(oof),
        )

    entries = [entry(name, "model", scores, 0, oof) for name, scores, oof in zip(names, per_model, overall)]
    seconds: dict[str, float] = {}
    for method in methods:
        started = time.perf_counter()
        scores = (scorer or fold_scores)(
            method,
            values,
            y,
            splits,
            kind=kind,
            metric=metric,
            random_state=random_state,
            reference=values[best],
            features=features,
        )
        if scores is None:
            continue
        seconds[method.name] = time.perf_counter() - started
        entries.append(entry(method.name, "blend", scores, method.complexity))
        if progress is not None:
            progress(
                f"  {method.name:<14} {metric} {scores.mean():.6f} over {len(splits)} folds "
                f"({seconds[method.name]:.1f} s)"
            )
    entries.sort(key=lambda e: -sign * e.mean)
    return Leaderboard(entries, metric, k, repeats, names[best], float(overall[best]), seconds)


# ---------------------------------------------------------------------------- the slice
#
# A blend's own OOF predictions, the next level's input, are cross-fitted on the shared folds with one
# fold kept aside, the slice (the last fold): a row of another fold g is predicted by the blend fitted on
# the folds other than g and the slice, a row of the slice by the blend fitted on every other fold. So no
# blend written this way has seen the slice's truth, at any level, and its score there is honest at every
# level, where the same-fold CV score is flattered from level 2 on (a level-2 file's OOF prediction of a
# row of fold g came from a blend fitted on the other folds' truth, which the next level's CV then scores).

# Bootstrap resamples of the slice's rows for the standard error of its score.
_BOOTSTRAPS = 200


def level_splits(assignment: NDArray) -> tuple[list[Split], int | None]:
    """The splits that cross-fit a blend's OOF predictions, and the slice's fold number.

    With fewer than 3 folds there is no room for a slice: every fold is predicted from the
    others, and the slice is None.

    >>> splits, slice_fold = level_splits(np.array([0, 0, 1, 1, 2, 2]))
    >>> slice_fold, [(train.tolist(), held.tolist()) for train, held in splits]
    (2, [([2, 3], [0, 1]), ([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])])
    """
    assignment = np.asarray(assignment)
    folds = np.unique(assignment)
    if folds.shape[0] < 3:
        return [(np.flatnonzero(assignment != f), np.flatnonzero(assignment == f)) for f in folds], None
    slice_fold = int(folds[-1])
    splits = [
        (np.flatnonzero((assignment != f) & (assignment != slice_fold)), np.flatnonzero(assignment == f))
        for f in folds[:-1]
    ]
    splits.append((np.flatnonzero(assignment != slice_fold), np.flatnonzero(assignment == slice_fold)))
    return splits, slice_fold


@dataclass(frozen=True)
class SliceScore:
    """A blend's score on the slice rows, with a bootstrap standard error, beside the best file's.

    ``best_single`` is the file with the best score on the rows outside the slice (the one a
    user who never saw the slice would submit), scored on the slice.
    """

    fold: int
    rows: int
    mean: float
    se: float
    best_single: str
    best_single_mean: float


def slice_estimate(
    y: NDArray,
    oof: NDArray,
    values: NDArray,
    names: list[str],
    assignment: NDArray,
    slice_fold: int,
    *,
    metric: str,
    kind: metrics.Kind,
    random_state: int | None = 0,
) -> SliceScore:
    """Score the cross-fitted ``oof`` blend (n_rows, n_cols) and the best file on the slice's rows.

    The standard error is the spread of the score over bootstrap resamples of the slice's rows.
    """
    y, values = np.asarray(y), np.asarray(values)
    metric = metrics.for_truth(metric, kind, y)
    rows = np.flatnonzero(np.asarray(assignment) == slice_fold)
    rest = np.flatnonzero(np.asarray(assignment) != slice_fold)
    best = layout.best_model(
        layout.model_scores(layout.take_rows(values, rest), y[rest], metric=metric, kind=kind), metric
    )
    # A decision step (threshold, cut-points) is fitted on the rows outside the slice, as the blend was.
    step = metric.fit_step(y[rest], layout.for_metric(oof[rest], kind))
    blend = layout.for_metric(oof, kind)
    score = metric.score_with(step, y[rows], blend[rows])
    generator = np.random.default_rng(random_state)
    resampled = []
    for _ in range(_BOOTSTRAPS):
        pick = rows[generator.integers(0, rows.shape[0], rows.shape[0])]
        try:
            resampled.append(metric.score_with(step, y[pick], blend[pick]))
        except ValueError:  # a resample with one class has no AUC
            continue
    resampled = [value for value in resampled if np.isfinite(value)]
    se = float(np.std(resampled, ddof=1)) if len(resampled) > 1 else float("nan")
    best_values = values[best]
    best_score = layout.held_out_score(y[rest], best_values[rest], y[rows], best_values[rows], metric=metric, kind=kind)
    return SliceScore(int(slice_fold), int(rows.shape[0]), float(score), se, names[best], float(best_score))

"""One route from a command to its registry entry: fit on the OOF rows, apply to the test rows, score honestly.

Every learning command, ``blend score``, ``blend auto`` and the benchmark reach a blend
method the same way:

- :func:`configured` takes a registry entry with the user's options (and, for ``--calibrate``,
  temperature scaling first);
- :func:`run_entry` fits it on every OOF row, applies it to the test rows, and scores it on
  the leaderboard's folds beside every file (:func:`blender.evaluation.leaderboard`), so a
  method has one honest score wherever it is shown: fitted on K-1 folds, scored on the
  held-out one, against the best single file by OOF on the same folds. It also cross-fits the
  method's own OOF predictions on the same folds with the slice kept aside
  (:mod:`blender.levels`), the input of a next level, and scores them on the slice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics
from blender.evaluation import (
    Entry,
    Leaderboard,
    SliceScore,
    cross_fit,
    fold_assignment,
    leaderboard,
    level_splits,
    slice_estimate,
)
from blender.methods import BY_NAME, Calibrated, Fitted, Method, calibrated, fit

if TYPE_CHECKING:
    from blender.io.predictions import LearningSet, Predictions
    from blender.steps import Step
    from blender.validate import BinaryTarget


@dataclass(frozen=True, eq=False)
class Run:
    """One registry entry fitted on every OOF row, its test blend, and its honest scores.

    Attributes
    ----------
    method : Method
        The entry as run, options included.
    fitted : object
        The fitted blend (``apply(values)``).
    test_blend : ndarray of shape (n_test_rows, n_cols)
    board : Leaderboard
        The entry beside every file, on the same folds.
    in_sample : float
        Its score on the OOF rows it was fitted on (optimistic).
    seconds : float
        Time to fit it on every OOF row.
    oof : ndarray of shape (n_oof_rows, n_cols)
        Its own OOF predictions, cross-fitted on the folds with the slice kept aside
        (:func:`blender.evaluation.level_splits`): a row's prediction never saw its truth.
    slice : SliceScore or None
        The OOF predictions scored on the slice, which no blend level was fitted on (None with
        fewer than 3 folds).
    step : object or None
        The metric's decision step fitted on the OOF rows' blend (:mod:`blender.steps`), which
        turns the test blend into the submission's decisions; None for a metric of scores.
    plain_in_sample : float
        The score on the OOF rows through the plain step (0.5, the argmax): beside ``in_sample``,
        what the fitted step adds.
    """

    method: Method
    fitted: Fitted
    test_blend: NDArray[np.float64]
    board: Leaderboard
    in_sample: float
    seconds: float
    oof: NDArray[np.float64]
    slice: SliceScore | None
    step: Step | None = None
    plain_in_sample: float = float("nan")

    @property
    def honest(self) -> Entry:
        return self.board.entry(self.method.name)

    @property
    def best_single(self) -> Entry:
        return self.board.entry(self.board.best_single)

    @property
    def weights(self) -> NDArray[np.float64] | None:
        return getattr(self.fitted, "weights", None)

    @property
    def temperatures(self) -> NDArray[np.float64] | None:
        return self.fitted.temperatures if isinstance(self.fitted, Calibrated) else None

    @property
    def details(self) -> dict:
        """What the method reports beyond its weights: the Caruana or hill-climbing result, the chosen files."""
        inner = self.fitted.inner if isinstance(self.fitted, Calibrated) else self.fitted
        return getattr(inner, "details", {})


def bind_metric(
    metric: str | None,
    learning: LearningSet,
    *,
    greater_is_better: bool | None = None,
    classes: str | None = None,
    option: str = "--metric",
) -> metrics.Metric:
    """``metric`` resolved for a learning set's files and truth (:func:`blender.metrics.for_files`), or one
    ``BlendInputError`` line naming ``option``; a plug-in is called once on a few OOF rows before any long work.

    ``classes`` is the order of qwk's classes, comma-separated (``--classes``).
    """
    from blender import plugin
    from blender.errors import BlendInputError

    train = learning.train
    target = cast("BinaryTarget | None", learning.target)
    names = train.columns if train.kind == "multiclass" else train.classes
    binary = None if target is None else (target.negative if target.negative is not None else "0", target.positive)
    order = None if classes is None else [part.strip() for part in classes.split(",") if part.strip()]
    named = f"{option} {metric}" if metric is not None else option
    try:
        chosen = metrics.for_files(
            metric,
            train.kind,
            learning.y,
            names=names,
            binary_labels=binary,
            classes=order,
            greater_is_better=greater_is_better,
        )
    except BlendInputError:
        raise  # already one line naming the option (a plug-in's own messages)
    except ValueError as error:
        raise BlendInputError(f"{named}: {error}.") from None
    if greater_is_better is not None and str(chosen) in metrics.REGISTRY:
        raise BlendInputError(
            f"--{'greater' if greater_is_better else 'smaller'}-is-better: {chosen} has its own "
            "direction; the option is for your own --metric FILE.py:FUNCTION."
        )
    plugin.try_metric(chosen, learning.y, layout.for_metric(train.values[0], train.kind))
    return chosen


def configured(name: str, *, calibrate: bool = False, as_name: str | None = None, **options: object) -> Method:
    """The registry entry ``name`` with ``options`` over its defaults (None keeps a default).

    With ``calibrate``, each file is temperature-scaled on the rows the entry is fitted on first.
    ``as_name`` names the result (``stack-xgb``: the stacking entry with another meta-learner).

    >>> configured("caruana", iters=10).options
    {'iters': 10}
    >>> configured("weights", calibrate=True).name
    'weights+cal'
    """
    base = BY_NAME[name]
    chosen = {key: value for key, value in options.items() if value is not None}
    method = replace(base, options={**base.options, **chosen})
    if calibrate:
        method = replace(method, name=f"{name}+cal", fit=calibrated(base.fit))
    return replace(method, name=as_name) if as_name is not None else method


def run_entry(
    method: Method,
    train: Predictions,
    y: NDArray,
    test: Predictions,
    *,
    metric: str,
    folds: int | NDArray = 5,
    repeats: int = 1,
    random_state: int | None = 0,
    features: tuple[NDArray, NDArray] | None = None,
) -> Run:
    """Fit ``method`` on the OOF predictions ``train``, apply it to ``test``, and score it honestly.

    Parameters
    ----------
    method : Method
        A registry entry, e.g. from :func:`configured`.
    train, test : Predictions
        The same models' OOF and test predictions (``values`` of shape (n_models, n_rows, n_cols)).
    y : ndarray of shape (train.n_rows,)
    metric : str
    folds : int or ndarray of shape (train.n_rows,)
        K seeded folds over the OOF rows, or each row's fold (a folds file's): the leaderboard's
        folds, and those the OOF predictions are cross-fitted on.
    repeats, random_state : int
        Repeats of seeded folds; the folds' and every method's seed.
    features : (ndarray, ndarray), default=None
        Original features of the OOF rows and of the test rows, for a stacker that takes them.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> values = np.array([[1.0, 2.0, 4.0, 3.0, 2.0, 5.0], [3.0, 2.0, 2.0, 5.0, 4.0, 3.0]])[:, :, None]
    >>> train = SimpleNamespace(values=values, kind="regression", names=["a", "b"])
    >>> run = run_entry(configured("average"), train, np.array([2.0, 2.0, 3.0, 4.0, 3.0, 4.0]), train,
    ...                 metric="mae", folds=3)
    >>> run.in_sample, run.honest.mean, run.best_single.name, run.honest.wins, run.oof[:, 0].tolist()
    (0.0, 0.0, 'a', 3, [2.0, 2.0, 3.0, 4.0, 3.0, 4.0])
    """
    train_features, test_features = features if features is not None else (None, None)
    extra = {} if train_features is None else {"features": train_features}
    started = time.perf_counter()
    fitted = fit(method, train.values, y, kind=train.kind, metric=metric, random_state=random_state, **extra)
    seconds = time.perf_counter() - started

    def apply(values: NDArray, rows_features: NDArray | None) -> NDArray[np.float64]:
        # A stacker with original features takes them beside the predictions.
        return fitted.apply(values) if rows_features is None else cast(Any, fitted).apply(values, rows_features)

    metric = metrics.for_truth(metric, train.kind, y)
    train_blend = apply(train.values, train_features)
    in_sample = layout.score(y, train_blend, metric=metric, kind=train.kind)
    plain_in_sample = layout.plain_score(y, train_blend, metric=metric, kind=train.kind)
    # The decision step (a threshold, cut-points) that the written submission goes through, fitted on the OOF rows.
    step = metric.fit_step(y, layout.for_metric(train_blend, train.kind))
    board = leaderboard(
        train.values,
        y,
        kind=train.kind,
        metric=metric,
        names=train.names,
        folds=folds,
        repeats=repeats,
        random_state=random_state,
        methods=[method],
        features=train_features,
    )
    assignment = fold_assignment(y, kind=train.kind, folds=folds, random_state=random_state)
    splits, slice_fold = level_splits(assignment)
    oof = cross_fit(
        method,
        train.values,
        y,
        splits,
        kind=train.kind,
        metric=metric,
        random_state=random_state,
        features=train_features,
    )
    held = (
        None
        if slice_fold is None
        else slice_estimate(
            y,
            oof,
            train.values,
            train.names,
            assignment,
            slice_fold,
            metric=metric,
            kind=train.kind,
            random_state=random_state,
        )
    )
    return Run(
        method,
        fitted,
        apply(test.values, test_features),
        board,
        float(in_sample),
        seconds,
        oof,
        held,
        step,
        float(plain_in_sample),
    )

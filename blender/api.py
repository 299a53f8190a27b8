"""The Python face: ``blender.blend(...)`` and ``blender.auto(...)`` on DataFrames, for a notebook.

The command line and this module call the same functions: the frames become a learning set
through the file reader (:func:`blender.io.frames.learning_set`), the metric is bound as
``--metric`` binds it (:func:`blender.entries.bind_metric`), a method runs through
:func:`blender.entries.run_entry` (fitted on the OOF rows, applied to the test rows, scored
honestly on the folds) and ``auto`` through :func:`blender.picking.run_auto`. A result holds
the test blend and the OOF blend as pandas objects indexed by the ids, the weights, the honest
score with its standard error, the best single file, and the metric's decisions where it makes
them; ``to_dict()`` is the JSON object ``blend ... --json`` prints.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import blender
>>> rng = np.random.default_rng(0)
>>> y = pd.Series(rng.integers(0, 2, 200), index=[f"r{i}" for i in range(200)], name="target")
>>> def model(noise, rows):
...     return np.clip(0.5 + (y.to_numpy()[:rows] - 0.5) * 0.6 + rng.normal(0, noise, rows), 0, 1)
>>> oof = pd.DataFrame({"lr": model(0.3, 200), "rf": model(0.4, 200)}, index=y.index)
>>> test = pd.DataFrame({"lr": model(0.3, 50), "rf": model(0.4, 50)}, index=[f"t{i}" for i in range(50)])
>>> result = blender.blend("caruana", oof, test, y, metric="f1", iters=10)
>>> result.test_blend.shape, bool(result.decisions.isin([0, 1]).all()), sorted(result.weights.index)
((50,), True, ['lr', 'rf'])
>>> bool(result.score.mean > 0.5), result.best_single.name in ("lr", "rf")
(True, True)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender import arrays, layout
from blender.errors import BlendInputError

if TYPE_CHECKING:
    import pandas as pd

    from blender.entries import Run
    from blender.io.predictions import Kind, LearningSet, Predictions
    from blender.metrics import Metric
    from blender.picking import AutoResult
    from blender.steps import Step


@dataclass(frozen=True)
class Score:
    """An honest score: the mean over held-out folds (or the nested estimate) and its standard error."""

    mean: float
    se: float
    name: str | None = None


@dataclass(frozen=True, eq=False)
class Result:
    """What ``blend`` or ``auto`` found.

    Attributes
    ----------
    method : str
        The registry entry, or ``auto``'s pick.
    metric : str
    test_blend : Series or DataFrame
        The blend of the test predictions, indexed by the test ids (one column per class for class
        probabilities, the labels for label files).
    oof_blend : Series or DataFrame
        The blend's own OOF predictions, cross-fitted on the folds (the next level's input).
    weights : Series or None
        Each file's weight, for the blends that weigh files.
    score : Score
        The honest score: the mean over the held-out folds (``auto``: the nested estimate).
    best_single : Score
        The file with the best OOF score, scored on the same folds.
    decisions : Series or None
        What the competition scores, where the metric scores decisions (the threshold's labels,
        qwk's classes, map@K's top K): the test blend through the step fitted on the OOF rows.
    step : str or None
        The step, in words (``threshold 0.43 ...``).
    details : dict
        The rest, for ``to_dict``: the leaderboard, the pick and why, the slice estimate, warnings.
    """

    method: str
    metric: str
    test_blend: object
    oof_blend: object
    weights: pd.Series | None
    score: Score
    best_single: Score
    decisions: object = None
    step: str | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON object of the result (``--json``): NaN as null, pandas objects as lists."""
        from blender.report import finite_or_none

        document = {
            "method": self.method,
            "metric": str(self.metric),
            "score": {"mean": self.score.mean, "se": self.score.se},
            "best_single": {"name": self.best_single.name, "mean": self.best_single.mean, "se": self.best_single.se},
            "weights": None if self.weights is None else {str(k): float(v) for k, v in self.weights.items()},
            "step": self.step,
            **self.details,
        }
        return finite_or_none(document)


def _index(ids: Any) -> pd.Index:
    """The ids (a pyarrow string array) as a pandas index named ``id``."""
    import pandas as pd

    return pd.Index(np.asarray(ids.to_pylist() if hasattr(ids, "to_pylist") else ids, dtype=object), name="id")


def _metric(learning: LearningSet) -> Metric:
    """The learning set's bound metric (:func:`blender.entries.bind_metric` sets it)."""
    from blender.metrics import Metric

    if not isinstance(learning.metric, Metric):
        raise TypeError("the learning set's metric is not bound; call blender.entries.bind_metric first")
    return learning.metric


def _series(values: NDArray, ids: Any, predictions: Predictions, name: str) -> pd.Series | pd.DataFrame:
    """A blend (n_rows, n_cols) as pandas, indexed by ``ids``: one Series, or one column per class."""
    import pandas as pd

    index = _index(ids)
    values = np.asarray(values)
    if predictions.kind == "labels":
        return pd.Series(
            np.asarray(predictions.classes, dtype=object)[np.argmax(values, axis=1)], index=index, name=name
        )
    if predictions.kind == "multiclass":
        return pd.DataFrame(values, index=index, columns=predictions.columns)
    return pd.Series(values[:, 0], index=index, name=name)


def _decisions(learning: LearningSet, step: Step | None, test_blend: NDArray, name: str) -> pd.Series | None:
    import pandas as pd

    metric = _metric(learning)
    if step is None or not metric.post_processes:
        return None
    written = step.write(layout.for_metric(test_blend, learning.test.kind), metric.labels or ())
    decisions = pd.Series(written, index=_index(learning.test.ids), name=name)
    try:
        return pd.to_numeric(decisions)  # labels that are numbers (0/1, grades) come back as numbers
    except (TypeError, ValueError):
        return decisions


def _check_options(name: str, options: dict) -> None:
    """Refuse an option the registry entry ``name`` does not take, listing those it does."""
    from blender.methods import BY_NAME, check_options

    if name not in BY_NAME:
        raise BlendInputError(f"unknown method {name!r}; expected one of {', '.join(BY_NAME)}.")
    if BY_NAME[name].params:
        check_options(BY_NAME[name], options)  # the entry declares its options and their rules
        return
    parameters = inspect.signature(BY_NAME[name].fit).parameters
    if any(parameter.kind == parameter.VAR_KEYWORD for parameter in parameters.values()):
        return
    taken = [key for key in parameters if key not in ("values", "y", "kind", "metric", "random_state")]
    unknown = [key for key in options if key not in taken]
    if unknown:
        raise BlendInputError(f"{name} has no option {unknown[0]!r}; its options: {', '.join(taken) or 'none'}.")


def _prepared(
    oof: object,
    test: object,
    y: object,
    metric: str | None,
    folds: ArrayLike | None,
    task: Kind | None,
    positive: str | None,
    classes: str | None,
    greater_is_better: bool | None,
) -> tuple[LearningSet, int | NDArray]:
    """The frames as a learning set with its metric bound (as ``--metric`` binds it), and the folds."""
    from blender.entries import bind_metric
    from blender.io.frames import learning_set

    learning, plan = learning_set(oof, test, y, task=task, positive=positive, folds=folds)
    chosen = bind_metric(metric, learning, greater_is_better=greater_is_better, classes=classes, option="metric")
    return replace(learning, metric=chosen), cast("int | NDArray", plan)


def blend(
    method: str,
    oof: object,
    test: object,
    y: object,
    *,
    metric: str | None = None,
    folds: ArrayLike | None = None,
    seed: int = 0,
    task: Kind | None = None,
    positive: str | None = None,
    classes: str | None = None,
    greater_is_better: bool | None = None,
    device: str = "cpu",
    **options: Any,
) -> Result:
    """Fit the registry entry ``method`` on OOF predictions, apply it to the test predictions, score it honestly.

    Parameters
    ----------
    method : str
        A registry entry: ``average``, ``caruana``, ``hill-climb``, ``weights``, ``stack-logreg``, ...
    oof, test : DataFrame, dict of DataFrame, or ndarray
        One column per model (ids as the index), or for class probabilities one DataFrame per model
        (see :mod:`blender.io.frames`).
    y : Series or ndarray
        The truth of the OOF rows.
    metric : str, default=None
        Any name ``--metric`` takes, or ``FILE.py:FUNCTION``; None: the kind's default.
    folds : int, Series or ndarray, default=None
        K seeded folds or each OOF row's fold; None: 5 seeded folds.
    device : {"cpu", "gpu"}, default="cpu"
        Where the fold scores are computed (``--device``): gpu needs CuPy and a visible GPU, else
        BlendInputError before any work.
    **options
        The entry's own options (``iters=20`` for caruana, ``meta="ridge"`` for stacking, ...).

    Returns
    -------
    Result
    """
    from blender.entries import configured, run_entry

    _check_options(method, options)
    with arrays.on_device(device):
        learning, plan = _prepared(oof, test, y, metric, folds, task, positive, classes, greater_is_better)
        run = run_entry(
            configured(method, **options),
            learning.train,
            learning.y,
            learning.test,
            metric=_metric(learning),
            folds=plan,
            random_state=seed,
        )
        return from_run(learning, run)


def from_run(learning: LearningSet, run: Run) -> Result:
    """The result of one registry entry run on a learning set (:func:`blender.entries.run_entry`)."""
    import pandas as pd

    weights = None if run.weights is None else pd.Series(run.weights, index=learning.train.names, name="weight")
    honest, single = run.honest, run.best_single
    details = {
        "inputs": list(learning.train.names),
        "step": _step_document(learning, run.step, run.in_sample, run.plain_in_sample),
        "in_sample": run.in_sample,
        "cv_folds": honest.n_folds,
        "wins": honest.wins,
        "slice": None
        if run.slice is None
        else {
            "mean": run.slice.mean,
            "se": run.slice.se,
            "best_single": run.slice.best_single,
            "best_single_mean": run.slice.best_single_mean,
        },
    }
    return _result(
        learning,
        run.method.name,
        run.test_blend,
        run.oof,
        run.step,
        weights,
        Score(honest.mean, honest.se, run.method.name),
        Score(single.mean, single.se, single.name),
        details,
    )


def _step_document(learning: LearningSet, step: Step | None, in_sample: float, plain_in_sample: float) -> dict | None:
    """The decision step of a blend as ``to_dict`` writes it (:func:`blender.picking.step_document`); None where the
    metric scores the blend itself."""
    from blender.picking import step_document

    if step is None or not _metric(learning).post_processes:
        return None
    return step_document(step, in_sample, plain_in_sample)


def _result(
    learning: LearningSet,
    method: str,
    test_blend: NDArray,
    oof_blend: NDArray,
    step: Step | None,
    weights: pd.Series | None,
    score: Score,
    best_single: Score,
    details: dict,
) -> Result:
    """A :class:`Result` of blends in the layout: pandas objects by id, the decisions through ``step``."""
    name = learning.target_column or "target"
    metric = _metric(learning)
    return Result(
        method=method,
        metric=metric,
        test_blend=_series(test_blend, learning.test.ids, learning.test, name),
        oof_blend=_series(oof_blend, learning.train.ids, learning.train, name),
        weights=weights,
        score=score,
        best_single=best_single,
        decisions=_decisions(learning, step, test_blend, name),
        step=None if step is None or not metric.post_processes else step.describe(),
        details=details,
    )


def auto(
    oof: object,
    test: object,
    y: object,
    *,
    metric: str | None = None,
    folds: ArrayLike | None = None,
    seed: int = 0,
    task: Kind | None = None,
    positive: str | None = None,
    classes: str | None = None,
    greater_is_better: bool | None = None,
    repeats: int | None = None,
    max_level: int = 2,
    device: str = "cpu",
) -> Result:
    """``blend auto`` on DataFrames: score every entry honestly, pick, and estimate the pick by nested CV.

    The arguments are :func:`blend`'s (``device`` too). ``score`` is the nested estimate of the whole procedure;
    ``details`` holds the pick and why, and the leaderboard.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> y = pd.Series(rng.normal(size=120))
    >>> oof = pd.DataFrame({"a": y + rng.normal(0, 0.5, 120), "b": y + rng.normal(0, 0.5, 120)})
    >>> test = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    >>> result = auto(oof, test, y, metric="rmse", repeats=1, max_level=1)
    >>> (isinstance(result.details["pick"]["name"], str),
    ...  len(result.details["estimate"]["folds"]))  # one score per outer fold
    (True, 5)
    >>> result.test_blend.shape, bool(result.score.mean < result.best_single.mean + 0.2)
    ((30,), True)
    """
    from blender.picking import run_auto

    with arrays.on_device(device):
        learning, plan = _prepared(oof, test, y, metric, folds, task, positive, classes, greater_is_better)
        result = run_auto(
            learning.train,
            learning.y,
            learning.test,
            metric=_metric(learning),
            folds=plan,
            repeats=repeats,
            random_state=seed,
            max_level=max_level,
        )
        return from_auto(learning, result)


def from_auto(learning: LearningSet, result: AutoResult) -> Result:
    """The result of ``blend auto`` on a learning set (:func:`blender.picking.run_auto`)."""
    from blender.picking import procedure_caution, report_document

    chosen = _metric(learning)
    estimate, board = result.estimate, result.board
    assert estimate.oof is not None  # run_auto keeps the outer folds' predictions
    single = board.entry(board.best_single)
    document = report_document(result, metric=chosen)
    caution = procedure_caution(estimate, metric=chosen, pick_type=result.pick.type)
    details = {
        "inputs": list(learning.train.names),
        "step": _step_document(learning, result.step, result.in_sample, result.plain_in_sample),
        **{key: document[key] for key in ("pick", "reason", "estimate", "levels", "leaderboard")},
        # auto also gives the best single file's score on all OOF rows, as its --report always did
        "best_single": {"name": single.name, "mean": single.mean, "se": single.se, "oof": board.best_single_oof},
        "warnings": [] if caution is None else [caution],
    }
    return _result(
        learning,
        result.pick.name,
        result.test_blend,
        estimate.oof,
        result.step,
        None,
        Score(estimate.mean, estimate.se, result.pick.name),
        Score(single.mean, single.se, single.name),
        details,
    )

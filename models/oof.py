"""The one fold loop every learner runs through, and the holdout fit.

One fold assignment (stratified for classes, seeded) is made once and shared by all
learners, so their out-of-fold (OOF) columns are comparable and a blender can learn
from them. Each (learner, fold) pair is an independent task run by joblib: a fresh
model is built for it, fitted on the other folds, and predicts the held-out fold and
the test rows. The test predictions of the K fold models are averaged.

Nothing here reads or writes files; :mod:`models.output` does.
"""

from __future__ import annotations

import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import joblib
import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from blender import metrics
from blender.evaluation import fold_assignment
from models.data import Dataset
from models.problem import Problem, Task
from models.registry import Learner, ModelsError

#: The fold number of a refit on all training rows (``refit=True``).
REFIT = -1


@dataclass
class LearnerResult:
    """What the fold loop produced for one learner.

    Attributes
    ----------
    name : str
    oof : ndarray of shape (n_train, n_classes) or (n_train,)
        Out-of-fold predictions: class probabilities (rows sum to 1) or values.
    test : ndarray of shape (n_test, n_classes) or (n_test,)
        The mean of the fold models' test predictions.
    folds : ndarray of shape (n_train,)
        The fold that held out each training row; the same for every learner.
    fold_scores : list of float
        Accuracy (classes) or RMSE (regression) on each held-out fold, of the
        seed-averaged predictions.
    seconds : float
        Training and prediction time summed over the folds.
    fold_average_test : ndarray or None, default=None
        With ``refit``: the fold models' mean test predictions, which ``test``
        (the refitted model's) replaced; kept to compare the two.
    """

    name: str
    oof: NDArray
    test: NDArray
    folds: NDArray
    fold_scores: list[float]
    seconds: float
    fold_average_test: NDArray | None = None


def assign_folds(y: NDArray, task: Task, *, n_folds: int = 5, seed: int = 0) -> NDArray[np.int64]:
    """Give each training row a fold number, once, for every learner.

    Parameters
    ----------
    y : ndarray of shape (n_train,)
        Class codes or values.
    task : {"binary", "multiclass", "regression"}
        Classes get stratified folds, so each fold keeps the class shares.
    n_folds : int, default=5
    seed : int, default=0
        Seeds the shuffle, so the same seed gives the same folds.

    Returns
    -------
    ndarray of shape (n_train,)
        Fold numbers ``0 .. n_folds - 1``.

    Examples
    --------
    >>> assign_folds(np.array([0, 0, 0, 1, 1, 1]), "binary", n_folds=3, seed=0).tolist()
    [2, 1, 0, 2, 0, 1]
    """
    if not 2 <= n_folds <= len(y):
        raise ModelsError(f"--folds {n_folds}: need between 2 and {len(y)} folds (the number of training rows).")
    if task != "regression":
        smallest = int(np.bincount(y).min())
        if smallest < n_folds:
            raise ModelsError(
                f"--folds {n_folds}: the rarest class has only {smallest} rows; use at most {smallest} folds."
            )
    # The blender's own fold assigner, so one serves both halves.
    return fold_assignment(y, kind="binary" if task != "regression" else "regression", folds=n_folds, random_state=seed)


def split_holdout(y: NDArray, task: Task, *, fraction: float = 0.2, seed: int = 0) -> tuple[NDArray, NDArray]:
    """Split the training rows into rows to fit on and a holdout slice (stratified for classes).

    Returns
    -------
    fit_rows, holdout_rows : ndarray of int
        Row positions, each sorted.
    """
    if not 0 < fraction < 1:
        raise ModelsError(f"--holdout-fraction {fraction}: must be between 0 and 1.")
    stratify = None if task == "regression" else y
    fit_rows, holdout_rows = train_test_split(
        np.arange(len(y)), test_size=fraction, stratify=stratify, random_state=seed
    )
    return np.sort(fit_rows), np.sort(holdout_rows)


def score(y: NDArray, predictions: NDArray, task: Task) -> dict[str, float]:
    """Accuracy and log loss for class probabilities, RMSE for values (by :mod:`blender.metrics`).

    Examples
    --------
    >>> score(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), "binary")
    {'accuracy': 1.0, 'logloss': 0.164252033486018}
    """
    if task == "regression":
        return {"rmse": metrics.score(y, predictions, metric="rmse", kind="regression")}
    # Binary files hold P(second class); blender.metrics takes that one column.
    kind, predictions = ("binary", predictions[:, 1]) if task == "binary" else ("multiclass", predictions)
    return {metric: metrics.score(y, predictions, metric=metric, kind=kind) for metric in ("accuracy", "logloss")}


def learner_seed(name: str, seed: int, replica: int = 0) -> int:
    """A seed per learner (and per seed-averaging replica), so that learners of one family differ but runs repeat.

    Replica ``r`` of a fold uses the fold's seed plus ``r``: ``--seeds 1`` trains
    exactly the models of a run without the option.

    >>> learner_seed("rf_gini", 0, 1) - learner_seed("rf_gini", 0)
    1
    """
    return (seed * 1_000_003 + zlib.crc32(name.encode()) + replica) % 2**31


@dataclass(frozen=True)
class _Task:
    """One (learner, fold, replica) fit: which rows it fits on and which inputs it reads."""

    learner: Learner
    problem: Problem
    fold: int
    replica: int
    train_rows: NDArray
    valid_rows: NDArray
    inputs: str  # "features", "images" or "native": the names of the arrays in _arrays()
    predict_test: bool


def run_oof(
    learners: list[Learner],
    data: Dataset,
    *,
    n_folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    epochs: int | None = None,
    augment: bool = False,
    seeds: int = 1,
    gpu: bool = False,
    scheduler: str | None = None,
    log: Callable[[str], None] | None = None,
    width: int | None = None,
    tta: int = 0,
    snapshots: int = 0,
    refit: bool = False,
    rounds_share: float = 1.0,
) -> dict[str, LearnerResult]:
    """Run every learner over the same K folds: OOF predictions and averaged test predictions.

    Parameters
    ----------
    learners : list of Learner
    data : Dataset
    n_folds : int, default=5
    seed : int, default=0
        Seeds the folds and every model.
    n_jobs : int, default=1
        Parallel (learner, fold) tasks, run by joblib; -1 uses every core. Ignored
        with a ``scheduler``, whose workers decide.
    epochs : int, default=None
        Most epochs for the CNNs; None keeps their plan's.
    augment : bool, default=False
        Light augmentation (random shifts) for the CNNs.
    seeds : int, default=1
        Models per fold, each with its own seed (replica ``r`` uses the fold's seed
        plus ``r``); their OOF and test predictions are averaged.
    gpu : bool, default=False
        Whether the CNNs follow the GPU plan (wider, longer; :func:`models.cnn.training_plan`).
        Local runs pass what Keras' backend sees; on a cluster, whether it has GPU workers
        decides, and this is ignored.
    scheduler : str, default=None
        A Dask scheduler address (``tcp://host:8786``): run the tasks on that cluster.
    log : callable, default=None
        Called with one progress line per finished task; default prints to stderr.
    width : int, default=None
        Channels of the CNNs' first stage (a time budget's choice); None keeps their plan's.
    tta : int, default=0
        With 2 or more, each CNN also gives ``NAME_tta``: its predictions averaged over
        that many views (the image and one-pixel shifts; :func:`models.cnn.tta_shifts`).
    snapshots : int, default=0
        With 2 or more, each CNN trains that many cosine cycles with warm restarts and
        also gives ``NAME_snap1`` ... (the earlier cycles' snapshots) and ``NAME_snapmean``
        (their mean with the last); ``NAME`` is the last snapshot.
    refit : bool, default=False
        Fit each learner once more on all training rows (boosting rounds scaled by
        K/(K-1)) and give its test predictions instead of the fold models' mean. The
        OOF predictions are unchanged.
    rounds_share : float, default=1.0
        Share of the plan's boosting rounds and forest trees, for the learners that
        have them (a time budget's choice, :func:`models.budget.plan_tabular`).

    Returns
    -------
    dict of str to LearnerResult
        In the order of ``learners``, each learner's extra files (TTA, snapshots) after it.
    """
    log = log or _print_to_stderr
    _check_seeds(seeds)
    folds = assign_folds(data.y_train, data.task, n_folds=n_folds, seed=seed)
    threads = 1 if scheduler else _threads_per_job(n_jobs, len(learners) * n_folds * seeds)
    tasks = []
    for learner in learners:
        _check_inputs(learner, data)
        for fold in range(n_folds):
            train_rows, valid_rows = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            for replica in range(seeds):
                problem = problem_of(
                    learner,
                    data,
                    seed + fold,
                    epochs,
                    threads,
                    augment,
                    gpu,
                    replica,
                    width,
                    tta,
                    snapshots,
                    rounds_share,
                )
                tasks.append(_Task(learner, problem, fold, replica, train_rows, valid_rows, learner.inputs, True))
        if refit:
            # Once more on every row, with its own seed; K/(K-1) times the rows, so as many more rounds.
            for replica in range(seeds):
                problem = problem_of(
                    learner,
                    data,
                    seed + n_folds,
                    epochs,
                    threads,
                    augment,
                    gpu,
                    replica,
                    width,
                    tta,
                    snapshots,
                    rounds_share,
                )
                problem = replace(problem, rounds_scale=n_folds / (n_folds - 1))
                tasks.append(
                    _Task(learner, problem, REFIT, replica, np.arange(len(folds)), np.arange(0), learner.inputs, True)
                )

    outputs = {}
    label = "rmse" if data.task == "regression" else "acc"
    for task, valid_predictions, test_predictions, seconds in _execute(
        tasks, data, n_jobs=n_jobs, scheduler=scheduler, log=log
    ):
        outputs[task.learner.name, task.fold, task.replica] = (valid_predictions, test_predictions, seconds)
        replica = f" seed {task.replica + 1}/{seeds}" if seeds > 1 else ""
        if task.fold == REFIT:
            log(f"[{task.learner.name}] refit on all {len(task.train_rows)} rows{replica}  ({seconds:.1f} s)")
            continue
        fold_score = next(iter(score(data.y_train[task.valid_rows], valid_predictions[""], data.task).values()))
        log(
            f"[{task.learner.name}] fold {task.fold + 1}/{n_folds}{replica}  "
            f"{label} {fold_score:.3f}  ({seconds:.1f} s)"
        )

    # Gather in a fixed order (fold, then replica): floating-point sums then do not
    # depend on which task finished first.
    shape = (len(data.y_train),) if data.task == "regression" else (len(data.y_train), data.n_classes)
    results = {}
    for learner in learners:
        for variant in outputs[learner.name, 0, 0][0]:
            oof = np.full(shape, np.nan)
            test = np.zeros((len(data.ids_test), *shape[1:]))
            fold_scores, seconds = [], 0.0
            for fold in range(n_folds):
                parts = [outputs[learner.name, fold, replica] for replica in range(seeds)]
                valid_rows = np.flatnonzero(folds == fold)
                oof[valid_rows] = _mean([valid[variant] for valid, _, _ in parts])
                test += _mean([test_part[variant] for _, test_part, _ in parts]) / n_folds
                seconds += sum(part_seconds for _, _, part_seconds in parts)
                fold_scores.append(next(iter(score(data.y_train[valid_rows], oof[valid_rows], data.task).values())))
            fold_average = None
            if refit:
                refits = [outputs[learner.name, REFIT, replica] for replica in range(seeds)]
                fold_average, test = test, _mean([test_part[variant] for _, test_part, _ in refits])
                seconds += sum(part_seconds for _, _, part_seconds in refits)
            name = learner.name + variant
            results[name] = LearnerResult(name, oof, test, folds, fold_scores, seconds, fold_average)
    return results


def run_holdout(
    learners: list[Learner],
    data: Dataset,
    *,
    fraction: float = 0.2,
    seed: int = 0,
    n_jobs: int = 1,
    epochs: int | None = None,
    augment: bool = False,
    seeds: int = 1,
    gpu: bool = False,
    scheduler: str | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[NDArray, dict[str, NDArray]]:
    """Fit each learner once without a holdout slice of the training rows; predict that slice.

    Parameters
    ----------
    learners : list of Learner
    data : Dataset
    fraction : float, default=0.2
        Share of the training rows held out (stratified for classes).
    seed, n_jobs, epochs, augment, seeds, gpu, scheduler, log
        As in :func:`run_oof`.

    Returns
    -------
    holdout_rows : ndarray of int
        Positions of the holdout rows among the training rows.
    predictions : dict of str to ndarray of shape (n_holdout, n_classes) or (n_holdout,)
        Each learner's predictions for the holdout rows, in the order of ``learners``.
    """
    log = log or _print_to_stderr
    _check_seeds(seeds)
    fit_rows, holdout_rows = split_holdout(data.y_train, data.task, fraction=fraction, seed=seed)
    threads = 1 if scheduler else _threads_per_job(n_jobs, len(learners) * seeds)
    tasks = []
    for learner in learners:
        _check_inputs(learner, data)
        for replica in range(seeds):
            problem = problem_of(learner, data, seed, epochs, threads, augment, gpu, replica)
            tasks.append(_Task(learner, problem, 0, replica, fit_rows, holdout_rows, learner.inputs, False))
    outputs = {}
    for task, holdout_predictions, _, seconds in _execute(tasks, data, n_jobs=n_jobs, scheduler=scheduler, log=log):
        holdout_predictions = holdout_predictions[""]
        outputs[task.learner.name, task.replica] = holdout_predictions
        holdout_score = score(data.y_train[holdout_rows], holdout_predictions, data.task)
        scores = "  ".join(f"{metric} {value:.3f}" for metric, value in holdout_score.items())
        replica = f" seed {task.replica + 1}/{seeds}" if seeds > 1 else ""
        log(f"[{task.learner.name}]{replica} holdout of {len(holdout_rows)} rows  {scores}  ({seconds:.1f} s)")
    predictions = {
        learner.name: _mean([outputs[learner.name, replica] for replica in range(seeds)]) for learner in learners
    }
    return holdout_rows, predictions


def format_scores(results: dict[str, LearnerResult], y: NDArray, task: Task, *, metric=None) -> str:
    """A table of each learner's OOF scores and time, best first (through ``blender.report.format_table``).

    With ``metric`` (``--metric``), a column of that metric too, its decision step (a threshold,
    cut-points) fitted on the OOF rows as ``blend`` fits it when it picks the best file, and the
    table is sorted by it.
    """
    from blender.report import format_table

    rows = [(name, score(y, result.oof, task), result.seconds) for name, result in results.items()]
    if metric is not None:
        for (name, scores, _), result in zip(rows, results.values()):
            scores[str(metric)] = metric_score(y, result.oof, task, metric)
    metric_names = list(rows[0][1]) if rows else []
    if metric is not None:
        sign = 1.0 if metrics.greater_is_better(metric) else -1.0
        rows.sort(key=lambda row: -sign * row[1][str(metric)])
    else:
        # Best first: highest accuracy, or lowest RMSE.
        rows.sort(key=lambda row: -row[1]["accuracy"] if task != "regression" else row[1]["rmse"])
    return format_table(
        ["model", *metric_names, "seconds"],
        [[name, *(scores[metric] for metric in metric_names), f"{seconds:.1f}"] for name, scores, seconds in rows],
    )


def metric_score(y: NDArray, predictions: NDArray, task: Task, metric) -> float:
    """One learner's OOF score by the competition's ``metric``, its step fitted on these rows.

    >>> metric_score(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]]), "binary", "f1")
    1.0
    """
    if task == "regression":
        return metrics.fitted_score(y, predictions, metric=metric, kind="regression")
    kind, predictions = ("binary", predictions[:, 1]) if task == "binary" else ("multiclass", predictions)
    return metrics.fitted_score(y, predictions, metric=metric, kind=kind)


def _execute(tasks: list[_Task], data: Dataset, *, n_jobs: int, scheduler: str | None, log):
    """Run the tasks; yield ``(task, valid_predictions, test_predictions, seconds)`` as each finishes."""
    arrays = _arrays(data)
    if scheduler is not None:
        from models import cluster

        yield from cluster.execute(tasks, arrays, scheduler, log=log, fit_predict=fit_predict, task_arrays=task_arrays)
        return
    calls = (joblib.delayed(fit_predict)(task, *task_arrays(task, arrays)) for task in tasks)
    yield from joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(calls)


def _arrays(data: Dataset) -> dict[str, NDArray | None]:
    """The arrays every task reads, by name: sent to a cluster's workers once."""
    return {
        "y": data.y_train,
        "features": data.X_train,
        "features_test": data.X_test,
        "images": data.images_train,
        "images_test": data.images_test,
        # None without a native view (images, .npz): those learners then read the features
        # (see task_arrays), and a cluster is not sent the same arrays twice.
        "native": data.native_train,
        "native_test": data.native_test,
    }


def task_arrays(task: _Task, arrays: dict) -> tuple:
    """The (X, y, X_test) a task reads from ``arrays`` (arrays, or their futures on a cluster)."""
    inputs = task.inputs if arrays[task.inputs] is not None else "features"
    return arrays[inputs], arrays["y"], arrays[f"{inputs}_test"] if task.predict_test else None


def fit_predict(task: _Task, X: NDArray, y: NDArray, X_test: NDArray | None):
    """One task: build a fresh model, fit it on the task's training rows, predict its held-out rows and the test rows.

    Native thread pools (OpenMP in histogram boosting, BLAS) are held to the task's
    share of the cores, so parallel tasks do not oversubscribe them.
    """
    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=task.problem.threads):
        model = task.learner.build(task.problem)
        model.fit(_take(X, task.train_rows), y[task.train_rows])
        # A refit has no held-out rows: it predicts the test rows only.
        valid_predictions = (
            _predict_variants(model, _take(X, task.valid_rows), task.problem) if len(task.valid_rows) else {}
        )
        test_predictions = None if X_test is None else _predict_variants(model, X_test, task.problem)
    return task, valid_predictions, test_predictions, time.perf_counter() - start


def _predict_variants(model, X, problem: Problem) -> dict[str, NDArray]:
    """The model's predictions by file-name suffix: ``""`` for the plain ones, and any the model adds
    (TTA, snapshots).
    """
    if hasattr(model, "predict_variants"):
        return {suffix: _normalise(raw, model, len(X), problem) for suffix, raw in model.predict_variants(X).items()}
    return {"": _predict(model, X, problem)}


def _take(X, rows: NDArray):
    """Rows of an array, or of a data frame (the ``native`` view), by position."""
    return X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else X[rows]


def _mean(parts: list[NDArray]) -> NDArray:
    """The mean of the replicas' predictions, summed in replica order (one replica: itself, exactly)."""
    if len(parts) == 1:
        return parts[0]
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total / len(parts)


def _check_seeds(seeds: int) -> None:
    if seeds < 1:
        raise ModelsError(f"--seeds {seeds}: give at least 1 model per fold.")


def _predict(model, X, problem: Problem) -> NDArray:
    """Values for regression; for classes, probabilities over every class, rows summing to 1."""
    raw = model.predict(X) if problem.task == "regression" else model.predict_proba(X)
    return _normalise(raw, model, len(X), problem)


def _normalise(raw, model, n_rows: int, problem: Problem) -> NDArray:
    """``predict`` or ``predict_proba`` output as the files hold it: values, or probabilities over every class."""
    if problem.task == "regression":
        return np.asarray(raw, dtype=np.float64).reshape(-1)
    probabilities = np.asarray(raw, dtype=np.float64)
    # A scikit-learn model lists only the classes its training rows held; put its
    # columns where they belong among all classes.
    seen = getattr(model, "classes_", None)
    if seen is not None and len(seen) != problem.n_classes:
        full = np.zeros((n_rows, problem.n_classes))
        full[:, np.asarray(seen, dtype=np.int64)] = probabilities
        probabilities = full
    # Float32 softmax outputs are off by ~1e-7; renormalise so each row sums to 1.
    probabilities = np.clip(probabilities, 0.0, 1.0)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def _check_inputs(learner: Learner, data: Dataset) -> None:
    if learner.inputs == "images" and not data.has_images:
        raise ModelsError(f"{learner.name} needs images, and {data.name} has none.")


def problem_of(
    learner, data, seed, epochs, threads, augment, gpu, replica=0, width=None, tta=0, snapshots=0, rounds_share=1.0
) -> Problem:
    input_shape = data.images_train.shape[1:] if learner.inputs == "images" else data.X_train.shape[1:]
    if learner.inputs == "native" and data.native_train is not None:
        input_shape = data.native_train.shape[1:]
    return Problem(
        task=data.task,
        n_classes=data.n_classes,
        input_shape=tuple(input_shape),
        seed=learner_seed(learner.name, seed, replica),
        epochs=epochs,
        threads=threads,
        augment=augment,
        gpu=gpu,
        width=width if learner.inputs == "images" else None,
        tta=tta if learner.inputs == "images" else 0,
        snapshots=snapshots if learner.inputs == "images" else 0,
        rounds_share=rounds_share if learner.has_rounds else 1.0,
    )


def time_cnns(
    learners: list[Learner],
    data: Dataset,
    *,
    width: int | None,
    n_folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    augment: bool = False,
    gpu: bool = False,
    views: int = 1,
):
    """Time every CNN of ``learners`` at ``width`` on this machine, the parallel jobs sharing them out.

    The jobs run at once, each timing as many CNNs (:func:`calibration_order`), so each
    measurement is taken while the other jobs are busy too, as in the fold loop
    (:func:`models.cnn.calibrate`). ``views`` counts the
    predictions each row gets (TTA views) in the set-up time.

    Returns
    -------
    list of models.budget.EpochTiming
        One per CNN, in the order of ``learners``.
    """
    from models import budget

    jobs = joblib.cpu_count() if n_jobs < 0 else max(1, n_jobs)
    jobs = min(jobs, len(learners) * n_folds)
    threads = _threads_per_job(n_jobs, len(learners) * n_folds)
    problems = [problem_of(learner, data, seed, None, threads, augment, gpu, 0, width) for learner in learners]
    fit_rows = round(len(data.y_train) * (n_folds - 1) / n_folds)
    predict_rows = (len(data.y_train) - fit_rows + len(data.ids_test)) * views
    calls = []
    for order in calibration_order(len(learners), jobs):
        chosen = [learners[index] for index in order]
        calls.append(joblib.delayed(_time_each)(chosen, [problems[index] for index in order], data.images_train,
                                                data.y_train, fit_rows, predict_rows))  # fmt: skip
    timings: dict[str, list] = {}
    for part in joblib.Parallel(n_jobs=n_jobs)(calls):
        for timing in part:
            timings.setdefault(timing.name, []).append(timing)
    # A CNN timed twice (the wrap-around) gets the mean of its two timings.
    return [budget.EpochTiming(learner.name, float(np.mean([t.setup for t in timings[learner.name]])),
                               float(np.mean([t.epoch for t in timings[learner.name]])))
            for learner in learners]  # fmt: skip


def calibration_order(n_learners: int, jobs: int) -> list[list[int]]:
    """Which CNNs each parallel job times: round robin, and as many in every job, wrapping around to the first.

    The fold loop keeps every job busy, so a CNN timed while another job sits idle
    would look faster than it trains (on one core, twice as fast): the jobs with fewer
    CNNs time the first ones again.

    >>> calibration_order(5, 2), calibration_order(1, 2), calibration_order(4, 2)
    ([[0, 2, 4], [1, 3, 0]], [[0], [0]], [[0, 2], [1, 3]])
    """
    per_job = -(-n_learners // jobs)
    order = [index % n_learners for index in range(per_job * jobs)]
    return [order[job::jobs] for job in range(jobs)]


def _time_each(learners, problems, X, y, fit_rows, predict_rows):
    """One job's calibration of every CNN, on the task's share of the cores."""
    from threadpoolctl import threadpool_limits

    from models import cnn

    with threadpool_limits(limits=problems[0].threads):
        return [
            cnn.calibrate(
                learner.name,
                learner.build(problem).make_model,
                problem,
                X,
                y,
                fit_rows=fit_rows,
                predict_rows=predict_rows,
            )
            for learner, problem in zip(learners, problems)
        ]


def time_tabular(
    learners: list[Learner],
    data: Dataset,
    *,
    share: float,
    n_folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
):
    """Time one fold's fit of every tabular learner, at ``share`` of its rounds and trees, the parallel jobs
    sharing them out.

    Each fit is the first fold's task as the fold loop runs it (the same rows, threads
    and predictions), so the jobs are as busy as in training. The builder runs once
    before the clock starts, so a library's import is not taken for a round's time.

    Returns
    -------
    list of models.budget.FitTiming
        One per learner, in the order of ``learners`` (:func:`models.budget.fit_timing`).
    """
    from models import budget

    folds = assign_folds(data.y_train, data.task, n_folds=n_folds, seed=seed)
    train_rows, valid_rows = np.flatnonzero(folds != 0), np.flatnonzero(folds == 0)
    threads = _threads_per_job(n_jobs, len(learners) * n_folds)
    arrays = _arrays(data)
    tasks = []
    for learner in learners:
        _check_inputs(learner, data)
        problem = problem_of(learner, data, seed, None, threads, False, False, rounds_share=share)
        tasks.append(_Task(learner, problem, 0, 0, train_rows, valid_rows, learner.inputs, True))
    calls = (joblib.delayed(_time_fit)(task, *task_arrays(task, arrays)) for task in tasks)
    seconds = dict(joblib.Parallel(n_jobs=n_jobs)(calls))
    return [
        budget.fit_timing(learner.name, seconds[learner.name], share=share, has_rounds=learner.has_rounds)
        for learner in learners
    ]


def _time_fit(task: _Task, X, y, X_test) -> tuple[str, float]:
    """``(name, seconds)`` of one task's fit and predictions, its library already imported."""
    task.learner.build(task.problem)
    _, _, _, seconds = fit_predict(task, X, y, X_test)
    return task.learner.name, seconds


def _threads_per_job(n_jobs: int, n_tasks: int) -> int:
    """Cores per parallel job, so that jobs times threads does not exceed the cores."""
    cores = joblib.cpu_count()
    jobs = cores if n_jobs < 0 else max(1, n_jobs)
    return max(1, cores // min(jobs, max(1, n_tasks)))


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)

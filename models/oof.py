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
from dataclasses import dataclass

import joblib
import numpy as np
from numpy.typing import NDArray
from sklearn import metrics
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from models.data import Dataset
from models.problem import Problem, Task
from models.registry import Learner, ModelsError

#: Probabilities are clipped to [EPSILON, 1 - EPSILON] for the log loss only.
EPSILON = 1e-15


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
        Accuracy (classes) or RMSE (regression) on each held-out fold.
    seconds : float
        Training and prediction time summed over the folds.
    """

    name: str
    oof: NDArray
    test: NDArray
    folds: NDArray
    fold_scores: list[float]
    seconds: float


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
    if task == "regression":
        splitter = KFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        smallest = int(np.bincount(y).min())
        if smallest < n_folds:
            raise ModelsError(f"--folds {n_folds}: the rarest class has only {smallest} rows; use at most {smallest} folds.")
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = np.empty(len(y), dtype=np.int64)
    for fold, (_, valid_rows) in enumerate(splitter.split(np.zeros(len(y)), y)):
        folds[valid_rows] = fold
    return folds


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
    """Accuracy and log loss for class probabilities, RMSE for values.

    Examples
    --------
    >>> score(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), "binary")
    {'accuracy': 1.0, 'logloss': 0.164252033486018}
    """
    if task == "regression":
        return {"rmse": float(np.sqrt(np.mean((y - predictions) ** 2)))}
    clipped = np.clip(predictions, EPSILON, 1 - EPSILON)
    logloss = -np.mean(np.log(clipped[np.arange(len(y)), y]))
    accuracy = metrics.accuracy_score(y, predictions.argmax(axis=1))
    return {"accuracy": float(accuracy), "logloss": float(logloss)}


def learner_seed(name: str, seed: int) -> int:
    """A seed per learner, so that learners of one family differ but runs repeat."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def run_oof(
    learners: list[Learner],
    data: Dataset,
    *,
    n_folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    epochs: int | None = None,
    augment: bool = False,
    log: Callable[[str], None] | None = None,
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
        Parallel (learner, fold) tasks, run by joblib; -1 uses every core.
    epochs : int, default=None
        Most epochs for the CNNs; None keeps their default.
    augment : bool, default=False
        Light augmentation (random shifts) for the CNNs.
    log : callable, default=None
        Called with one progress line per finished fold; default prints to stderr.

    Returns
    -------
    dict of str to LearnerResult
        In the order of ``learners``.
    """
    log = log or _print_to_stderr
    folds = assign_folds(data.y_train, data.task, n_folds=n_folds, seed=seed)
    threads = _threads_per_job(n_jobs, len(learners) * n_folds)
    tasks = []
    for learner in learners:
        X_train, X_test = _inputs(learner, data)
        for fold in range(n_folds):
            problem = _problem(learner, data, seed + fold, epochs, threads, augment)
            train_rows, valid_rows = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            tasks.append(joblib.delayed(_fit_predict)(learner, problem, fold, X_train, data.y_train, train_rows, valid_rows, X_test))

    shape = (len(data.y_train),) if data.task == "regression" else (len(data.y_train), data.n_classes)
    test_shape = (len(data.ids_test), *shape[1:])
    results = {
        learner.name: LearnerResult(learner.name, np.full(shape, np.nan), np.zeros(test_shape), folds, [np.nan] * n_folds, 0.0)
        for learner in learners
    }
    for name, fold, valid_rows, valid_predictions, test_predictions, seconds in joblib.Parallel(
        n_jobs=n_jobs, return_as="generator_unordered"
    )(tasks):
        result = results[name]
        result.oof[valid_rows] = valid_predictions
        result.test += test_predictions / n_folds
        result.seconds += seconds
        fold_score = score(data.y_train[valid_rows], valid_predictions, data.task)
        result.fold_scores[fold] = next(iter(fold_score.values()))
        label = "rmse" if data.task == "regression" else "acc"
        log(f"[{name}] fold {fold + 1}/{n_folds}  {label} {result.fold_scores[fold]:.3f}  ({seconds:.1f} s)")
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
    log: Callable[[str], None] | None = None,
) -> tuple[NDArray, dict[str, NDArray]]:
    """Fit each learner once without a holdout slice of the training rows; predict that slice.

    Parameters
    ----------
    learners : list of Learner
    data : Dataset
    fraction : float, default=0.2
        Share of the training rows held out (stratified for classes).
    seed, n_jobs, epochs, augment, log
        As in :func:`run_oof`.

    Returns
    -------
    holdout_rows : ndarray of int
        Positions of the holdout rows among the training rows.
    predictions : dict of str to ndarray of shape (n_holdout, n_classes) or (n_holdout,)
        Each learner's predictions for the holdout rows, in the order of ``learners``.
    """
    log = log or _print_to_stderr
    fit_rows, holdout_rows = split_holdout(data.y_train, data.task, fraction=fraction, seed=seed)
    threads = _threads_per_job(n_jobs, len(learners))
    tasks = []
    for learner in learners:
        X_train, _ = _inputs(learner, data)
        problem = _problem(learner, data, seed, epochs, threads, augment)
        tasks.append(joblib.delayed(_fit_predict)(learner, problem, 0, X_train, data.y_train, fit_rows, holdout_rows, None))
    predictions = {}
    for name, _, _, holdout_predictions, _, seconds in joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(tasks):
        predictions[name] = holdout_predictions
        holdout_score = score(data.y_train[holdout_rows], holdout_predictions, data.task)
        scores = "  ".join(f"{metric} {value:.3f}" for metric, value in holdout_score.items())
        log(f"[{name}] holdout of {len(holdout_rows)} rows  {scores}  ({seconds:.1f} s)")
    return holdout_rows, {learner.name: predictions[learner.name] for learner in learners}


def format_scores(results: dict[str, LearnerResult], y: NDArray, task: Task) -> str:
    """An aligned table of each learner's OOF scores and time, best first."""
    rows = [(name, score(y, result.oof, task), result.seconds) for name, result in results.items()]
    metric_names = list(rows[0][1]) if rows else []
    # Best first: highest accuracy, or lowest RMSE.
    rows.sort(key=lambda row: -row[1]["accuracy"] if task != "regression" else row[1]["rmse"])
    width = max([len("model"), *(len(name) for name, _, _ in rows)])
    lines = [f"{'model':<{width}}  " + "  ".join(f"{metric:>8}" for metric in metric_names) + f"  {'seconds':>8}"]
    for name, scores, seconds in rows:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{scores[metric]:8.4f}" for metric in metric_names) + f"  {seconds:8.1f}")
    return "\n".join(lines)


def _fit_predict(learner, problem, fold, X, y, train_rows, valid_rows, X_test):
    """One task: build a fresh model, fit it on ``train_rows``, predict ``valid_rows`` and the test rows."""
    start = time.perf_counter()
    model = learner.build(problem)
    model.fit(X[train_rows], y[train_rows])
    valid_predictions = _predict(model, X[valid_rows], problem)
    test_predictions = None if X_test is None else _predict(model, X_test, problem)
    return learner.name, fold, valid_rows, valid_predictions, test_predictions, time.perf_counter() - start


def _predict(model, X, problem: Problem) -> NDArray:
    """Values for regression; for classes, probabilities over every class, rows summing to 1."""
    if problem.task == "regression":
        return np.asarray(model.predict(X), dtype=np.float64).reshape(-1)
    probabilities = np.asarray(model.predict_proba(X), dtype=np.float64)
    # A scikit-learn model lists only the classes its training rows held; put its
    # columns where they belong among all classes.
    seen = getattr(model, "classes_", None)
    if seen is not None and len(seen) != problem.n_classes:
        full = np.zeros((len(X), problem.n_classes))
        full[:, np.asarray(seen, dtype=np.int64)] = probabilities
        probabilities = full
    # Float32 softmax outputs are off by ~1e-7; renormalise so each row sums to 1.
    probabilities = np.clip(probabilities, 0.0, 1.0)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def _inputs(learner: Learner, data: Dataset) -> tuple[NDArray, NDArray]:
    if learner.inputs == "images":
        if not data.has_images:
            raise ModelsError(f"{learner.name} needs images, and {data.name} has none.")
        return data.images_train, data.images_test
    return data.X_train, data.X_test


def _problem(learner, data, seed, epochs, threads, augment) -> Problem:
    input_shape = data.images_train.shape[1:] if learner.inputs == "images" else data.X_train.shape[1:]
    return Problem(
        task=data.task,
        n_classes=data.n_classes,
        input_shape=tuple(input_shape),
        seed=learner_seed(learner.name, seed),
        epochs=epochs,
        threads=threads,
        augment=augment,
    )


def _threads_per_job(n_jobs: int, n_tasks: int) -> int:
    """Cores per parallel job, so that jobs times threads does not exceed the cores."""
    cores = joblib.cpu_count()
    jobs = cores if n_jobs < 0 else max(1, n_jobs)
    return max(1, cores // min(jobs, max(1, n_tasks)))


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)

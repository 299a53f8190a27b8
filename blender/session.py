"""What every ``blend`` command does around its method, with no command line: read the files (saying
what was read), choose the folds, run a registry entry, report it, and write its outputs as one unit
(logged in :mod:`blender.journal`, collected for ``--json`` in :mod:`blender.results`).

Lines for a person go to stderr through :func:`say`; the blend goes to its file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from blender import journal, metrics, results
from blender.errors import BlendInputError
from blender.progress import Ticker

if TYPE_CHECKING:
    from blender.entries import Run
    from blender.evaluation import SliceScore
    from blender.io import OutputGroup, Sample
    from blender.io.predictions import Kind, LearningSet, Predictions
    from blender.metrics import Metric
    from blender.steps import Step
    from blender.validate import BinaryTarget

DEFAULT_GLOB = "submissions/*.csv"
DEFAULT_OOF, DEFAULT_TRUTH = Path("submissions/oof"), Path("data/train_labels.csv")


def say(message: str) -> None:
    """One line for a person, on stderr."""
    print(message, file=sys.stderr)


def task_name(task: object) -> Kind | None:
    """``--task`` as the readers take it (a choice's value, a name, or None)."""
    return None if task is None else cast("Kind", str(getattr(task, "value", task)))


@dataclass(frozen=True)
class Shared:
    """The options every learning command shares, for one run."""

    metric: str | None = None
    greater_is_better: bool | None = None
    classes: str | None = None
    no_post: bool = False
    oof_dir: Path = DEFAULT_OOF
    truth: Path = DEFAULT_TRUTH
    positive: str | None = None
    cv: int | None = None
    folds: str | None = None
    seed: int = 0
    sample: Path | None = None
    out: Path | None = None
    oof_out: Path | None = None
    no_oof_out: bool = False
    id_column: str | None = None
    task: object = None

    def outputs(self, command_name: str, **others: Path | None) -> tuple[Path, Path | None]:
        """The blend's path and its OOF predictions' path (None with --no-oof-out), checked before any work."""
        out = output_path(self.out, command_name, **others)
        return out, oof_path(self.oof_out, self.no_oof_out, out)


def output_path(out: Path | None, command_name: str, **others: Path | None) -> Path:
    """The blend's path (default ``blends/COMMAND.csv``); it and ``others`` are refused before any work if unusable."""
    path = out if out is not None else Path("blends") / f"{command_name}.csv"
    check_outputs(out=path, **others)
    return path


def check_outputs(**paths: Path | None) -> None:
    from blender import io

    for option, path in paths.items():
        if path is not None:
            io.check_output_path(path, option="--" + option.replace("_", "-"), figure=option == "plot")


def read(files: list[str] | None, id_column: str | None, task: object) -> Predictions:
    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    predictions = io.read_predictions(
        paths, id_column=id_column, task=task_name(task), progress=Ticker("read", say=say)
    )
    say(
        f"read {predictions.n_models} files, {predictions.n_samples:,} rows each, "
        f"{describe_kind(predictions)} ({time.perf_counter() - started:.1f} s)"
    )
    return predictions


def read_learning(
    files: list[str] | None,
    train_dir: Path,
    truth: Path,
    id_column: str | None,
    task: object,
    metric: str | None,
    *,
    command_name: str,
    positive: str | None = None,
    role: str = "OOF",
    make_target: str = "make oof",
    dir_option: str = "--oof-dir",
    greater_is_better: bool | None = None,
    classes: str | None = None,
    post: bool = True,
) -> LearningSet:
    """The test files, their OOF (or holdout) twins and the truth, with the metric chosen (``learning.metric``)."""
    from dataclasses import replace

    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    learning = io.read_learning(
        paths,
        train_dir=train_dir,
        truth=truth,
        id_column=id_column,
        task=task_name(task),
        role=role,
        command_name=command_name,
        make_target=make_target,
        dir_option=dir_option,
        positive=positive,
        progress=Ticker("read", say=say),
    )
    test = learning.test
    from blender.entries import bind_metric

    chosen = bind_metric(metric, learning, greater_is_better=greater_is_better, classes=classes)
    say(
        f"read {test.n_models} files, {test.n_samples:,} test rows each, {describe_kind(test)} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    say(
        f"{role}: {learning.train.n_samples:,} rows in {train_dir}/, truth {truth}, metric {chosen}"
        + (
            ""
            if chosen.greater_is_better is None
            else f" ({'greater' if chosen.greater_is_better else 'smaller'} is better)"
        )
    )
    target = cast("BinaryTarget | None", learning.target)
    if target is not None:
        say(
            f"positive class: {target.positive} ({target.reason}); the column '{test.columns[0]}' is the probability "
            f"of {target.positive}" + (f", 1 - it of {target.negative}" if target.negative is not None else "")
        )
    labels = chosen.labels or []
    if chosen == "qwk" and test.kind != "regression":
        say(
            f"qwk class order: {', '.join(labels)}"
            + (" (--classes)" if classes else " (sorted; --classes A,B,C gives another)")
        )
    elif chosen == "qwk":
        say(f"qwk classes: {', '.join(str(label) for label in labels)}")
    return replace(learning, metric=chosen, post=post)


def metric_of(learning: LearningSet) -> Metric:
    """The metric a learning command chose for its files (:func:`read_learning` sets it)."""
    assert learning.metric is not None
    return cast("Metric", learning.metric)


def read_sample(
    path: Path | None, predictions: Predictions, id_column: str | None, learning: LearningSet | None = None
) -> Sample | None:
    """The ``--sample`` file matched to the predictions (None without it), checked before any work.

    With ``learning`` whose metric writes decisions (one column of labels), a sample with more
    than one column is refused: the decisions cannot take its layout.
    """
    from blender import io

    if path is None:
        return None
    sample = io.read_sample(path, like=predictions, id_column=id_column)
    if learning is not None and writes_decisions(learning) and len(sample.columns) != 1:
        raise BlendInputError(
            f"--sample {path}: {len(sample.columns)} columns ({','.join(sample.columns[:4])}"
            f"{',...' if len(sample.columns) > 4 else ''}), and {learning.metric} writes one column of decisions; "
            "pass --no-post to write the scores in the sample's layout, or give the competition's own sample."
        )
    say(
        f"sample {path}: {len(cast('Sized', sample.ids)):,} ids, header {sample.id_column},{','.join(sample.columns)}"
        + ("; ids matched as numbers, written as the sample writes them" if sample.by_number else "")
        + (
            f"; one label column for {len(sample.labels)} class probabilities: each row is written as its most "
            f"probable class ({_shorten(sample.labels)})"
            if sample.labels and not (learning is not None and writes_decisions(learning))
            else ""
        )
    )
    return sample


def writes_decisions(learning: LearningSet) -> bool:
    """Whether the submission holds the metric's decisions (or its clipped values) rather than the blend's scores."""
    metric = getattr(learning, "metric", None)
    return bool(learning.post and isinstance(metric, metrics.Metric) and metric.post_processes)


def describe_kind(predictions: Predictions) -> str:
    if predictions.kind == "multiclass":
        return f"class probabilities ({len(predictions.columns)} classes: {_shorten(predictions.columns)})"
    if predictions.kind == "labels":
        classes = predictions.classes or []
        return f"labels ({len(classes)} classes: {_shorten(classes)})"
    if predictions.kind == "binary":
        return f"binary probabilities ('{predictions.columns[0]}')"
    return f"regression values ('{predictions.columns[0]}')"


def _shorten(items: list[str], limit: int = 6) -> str:
    return ", ".join(items) if len(items) <= limit else ", ".join(items[: limit - 1]) + f", ..., {items[-1]}"


def write_submission(
    outputs: OutputGroup,
    learning: LearningSet,
    blended: NDArray,
    out: Path,
    sample: Sample | None = None,
    step: Step | None = None,
) -> None:
    """Write the test blend: the metric's decisions through ``step`` (fitted on the OOF rows) where it makes
    them (one column of labels, top-K labels or clipped values), else the scores as :func:`write_blend`."""
    from blender import layout

    test = learning.test
    if step is None or not writes_decisions(learning):
        return write_blend(outputs, test, blended, out, sample)
    metric = cast("Metric", learning.metric)  # writes_decisions: a metric that makes decisions
    decisions = step.write(layout.for_metric(blended, test.kind), cast("Sequence[object]", metric.labels))
    column = test.columns[0] if test.kind in ("binary", "regression") else (learning.target_column or "target")
    if sample is None:
        outputs.predictions(out, test.ids, decisions, columns=[column], id_column=test.id_column)
    else:
        outputs.predictions(out, sample.ids, decisions[sample.rows], columns=sample.columns, id_column=sample.id_column)


def write_blend(
    outputs: OutputGroup, predictions: Predictions, blended: NDArray, out: Path, sample: Sample | None = None
) -> None:
    """Write a blend (label text for labels) in the first file's order and header, or in the sample's."""
    import numpy as np

    values = (
        np.asarray(predictions.classes, dtype=object)[np.argmax(blended, axis=1)]
        if predictions.kind == "labels"
        else blended
    )
    if sample is None:
        outputs.predictions(out, predictions.ids, values, columns=predictions.columns, id_column=predictions.id_column)
    else:
        outputs.predictions(out, sample.ids, sample.arrange(values), columns=sample.columns, id_column=sample.id_column)


def weights_line(names: Sequence[str], weights: Iterable[float]) -> str:
    return ", ".join(f"{name}={weight:g}" for name, weight in zip(names, weights))


def weight_option(text: str | None, n_models: int) -> NDArray[np.float64]:
    from blender.validate import check_weights, parse_weights

    return check_weights(parse_weights(text), n_models)


def refuse_kind(predictions: Predictions, kinds: tuple[str, ...], message: str) -> None:
    """One line naming the first file when its kind is one of ``kinds``."""
    if predictions.kind in kinds:
        raise BlendInputError(f"{predictions.paths[0]}: {message}")


def report_run(run: Run, label: str, names: list[str], metric: object, *, show_weights: bool = True) -> None:
    """The weights (or temperatures), the optimistic in-sample score, and the honest CV line against the best file."""
    from blender import report

    if run.temperatures is not None:
        say("temperatures: " + weights_line(names, run.temperatures))
    if show_weights and run.weights is not None:
        say(report.weights_table(names, run.weights))
    say(f"{label} OOF {metric} on the rows it was fitted on: {run.in_sample:.6f} (optimistic)")
    step_line(run.step, run.in_sample, run.plain_in_sample, label, metric)
    honest, single = run.honest, run.best_single
    say(
        f"{label} {run.board.folds}-fold CV {metric}: {honest.mean:.6f} ± {honest.se:.6f}   "
        f"best single file {single.name}: {single.mean:.6f} ± {single.se:.6f}   "
        f"(blend better in {honest.wins} of {honest.n_folds} folds)"
    )


def step_line(step: Step | None, in_sample: float, plain_in_sample: float, label: str, metric: object) -> None:
    """The blend's decision step and what it adds, in one line (nothing for a metric of scores)."""
    if step is None or not getattr(metric, "post_processes", False):
        return
    if step.fitted:
        say(
            f"{label} step: {step.describe()}, fitted on the OOF rows; OOF {metric} {in_sample:.6f} with it, "
            f"{plain_in_sample:.6f} with the plain step (the CV line fits it inside each fold)"
        )
    else:
        say(f"{label} step: {step.describe()}")


def resolve_folds(
    folds: str | None,
    cv: int | None,
    learning: LearningSet,
    *,
    truth: Path,
    seed: int,
    repeats: int = 1,
    default_file: bool = True,
) -> int | NDArray:
    """The folds of a learning command (:func:`blender.io.fold_plan`), its choice said in one line."""
    from blender import io

    plan, line = io.fold_plan(
        folds, cv, learning.train.ids, truth=truth, seed=seed, repeats=repeats, default_file=default_file
    )
    say(line)
    return cast("int | NDArray", plan)


def oof_path(oof_out: Path | None, no_oof_out: bool, out: Path) -> Path | None:
    """Where the blend's OOF predictions go: --oof-out, else ``oof/NAME`` beside the blend; None with --no-oof-out."""
    if no_oof_out:
        if oof_out is not None:
            raise BlendInputError(f"--oof-out {oof_out} --no-oof-out: give one.")
        return None
    path = oof_out if oof_out is not None else out.parent / "oof" / out.name
    check_outputs(oof_out=path)
    if path.resolve() == Path(out).resolve():
        raise BlendInputError(f"--oof-out {path}: is the blend itself; name another file.")
    return path


def report_slice(held: SliceScore | None, label: str, metric: object) -> None:
    """The slice estimate beside the same-fold CV line: what no blend level was fitted on."""
    if held is None:
        say("no holdout slice with 2 folds: the CV score above is the only estimate (give 3 or more folds)")
        return
    say(
        f"{label} {metric} on the holdout slice (fold {held.fold}, {held.rows:,} rows, which no blend level was fitted "
        f"on): {held.mean:.6f} ± {held.se:.6f}   best single file {held.best_single}: {held.best_single_mean:.6f}   "
        "(honest at every level; the CV score above is flattered when the files are blends' own OOF files)"
    )


def write_run(
    learning: LearningSet,
    run: Run,
    out: Path,
    sample: Sample | None,
    *,
    oof: Path | None = None,
    weights_out: Path | None = None,
    plot: Path | None = None,
    chart: Callable[[], Any] | None = None,
) -> None:
    """Write the test blend, its OOF predictions, the weights JSON and the chart as one unit, and log them."""
    from blender import io

    journal.note_run(learning, run)
    with io.OutputGroup(log=journal.log_entry(out)) as outputs:
        if weights_out is not None:
            outputs.weights(weights_out, learning.train.names, run.weights, metric=str(learning.metric))
        if plot is not None and chart is not None:
            outputs.figure(plot, chart())
        write_submission(outputs, learning, run.test_blend, out, sample, run.step)
        if oof is not None:
            write_blend(outputs, learning.train, run.oof, oof)
    from blender.api import from_run

    results.emit(**from_run(learning, run).to_dict())
    for path in (weights_out, plot, out, oof):
        if path is not None:
            say(f"wrote {path}")
            results.add_output(path)


def write_one(
    predictions: Predictions,
    blended: NDArray,
    out: Path,
    sample: Sample | None,
    *,
    method: str,
    weights: NDArray[np.float64] | None = None,
) -> None:
    """Write a blend of the files alone (no learning), and log it."""
    from blender import io

    journal.note(
        method=method,
        members=predictions.names,
        weights=None if weights is None else dict(zip(predictions.names, map(float, weights))),
    )
    with io.OutputGroup(log=journal.log_entry(out)) as outputs:
        write_blend(outputs, predictions, blended, out, sample)
    say(f"wrote {out}")
    results.emit(
        method=method,
        inputs=list(predictions.names),
        weights=None if weights is None else dict(zip(predictions.names, map(float, weights))),
    )
    results.add_output(out)

"""The ``blend`` app, its shared options (declared once), and the reading, writing and reporting every command uses."""

from __future__ import annotations

import functools
import os
import time
import typing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender import averaging, correlation, metrics, stacking
from blender import weights as weights_module
from blender.cli import journal, output
from blender.errors import BlendInputError
from blender.progress import Ticker

app = typer.Typer(
    help="Blend Kaggle submissions: vote, average, rank-average, correlate, select, Caruana, hill-climb, "
    "optimise weights, stack, and pick the blend to submit (auto).",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DEFAULT_GLOB = "submissions/*.csv"


def _choices(name: str, values) -> type[Enum]:
    """An option's choices, from the library's own list of them."""
    return Enum(name, {value: value for value in values}, type=str)


Task = _choices("Task", metrics.KINDS)
Mean = _choices("Mean", typing.get_args(averaging.MeanKind))
CorrMethod = _choices("CorrMethod", correlation.CORRELATION_METHODS)
Meta = _choices("Meta", stacking.META_LEARNERS)
WeightMethod = _choices("WeightMethod", weights_module.METHODS)
Device = _choices("Device", ("cpu", "gpu"))

# Options shared by the commands, declared once.
Files = Annotated[
    Optional[list[str]],
    typer.Argument(
        help=f"Prediction files (.csv, .csv.gz or .parquet); a quoted glob is expanded. [default: {DEFAULT_GLOB}]",
        show_default=False,
    ),
]
OutPath = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Blend to write (.csv, .csv.gz or .parquet). [default: blends/COMMAND.csv]",
        show_default=False,
    ),
]
IdColumn = Annotated[
    Optional[str], typer.Option("--id", help="Name of the id column. [default: the first column]", show_default=False)
]
TaskOption = Annotated[
    Optional[Task],
    typer.Option("--task", help="What the columns hold; inferred from the files unless given.", show_default=False),
]
WeightsOption = Annotated[
    Optional[str],
    typer.Option("--weights", "-w", help="One non-negative weight per file, comma-separated, e.g. 3,1,1."),
]
OofDir = Annotated[
    Path, typer.Option("--oof-dir", help="Folder of the out-of-fold files, one NAME.csv per submission.")
]
TruthPath = Annotated[Path, typer.Option("--truth", help="id,<target> for the training rows.")]
MetricOption = Annotated[
    Optional[str],
    typer.Option(
        "--metric",
        help=f"The competition's metric, optimised and reported: {metrics.names()} (map@K for "
        "K = 1..10), or FILE.py:FUNCTION for your own. [default: logloss for probabilities, accuracy for "
        "labels, rmse for regression]",
        show_default=False,
    ),
]
DirectionOption = Annotated[
    Optional[bool],
    typer.Option(
        "--greater-is-better/--smaller-is-better",
        help="The direction of your own --metric FILE.py:FUNCTION (unless the function carries greater_is_better).",
        show_default=False,
    ),
]
ClassesOption = Annotated[
    Optional[str],
    typer.Option(
        "--classes",
        help="A,B,C: the order of the classes for qwk. [default: sorted, numbers as numbers]",
        show_default=False,
    ),
]
NoPostOption = Annotated[
    bool,
    typer.Option(
        "--no-post",
        help="Write the blend's scores, not the metric's decisions (threshold labels, qwk classes, top-K labels).",
    ),
]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed for the folds of the cross-validated scores, bags and meta-learners.")
]
CvOption = Annotated[
    Optional[int],
    typer.Option(
        "--cv",
        help="K seeded folds over the OOF rows for the honest scores, "
        "instead of the folds file. [default: the folds file, else 5]",
        show_default=False,
    ),
]
FoldsOption = Annotated[
    Optional[str],
    typer.Option(
        "--folds",
        help="The folds of the honest scores and of --oof-out: a folds file (id,fold), shared by "
        "every level, or a number K of seeded folds. [default: folds.csv beside --truth (data/folds.csv) "
        "where it exists, else 5 seeded folds]",
        show_default=False,
    ),
]
OofOutOption = Annotated[
    Optional[Path],
    typer.Option(
        "--oof-out",
        help="Where to write the blend's own OOF predictions, cross-fitted on the folds, for a "
        "next level. [default: oof/NAME.csv beside the blend, e.g. blends/oof/caruana.csv]",
        show_default=False,
    ),
]
NoOofOption = Annotated[bool, typer.Option("--no-oof-out", help="Write no OOF predictions.")]
CalibrateOption = Annotated[
    bool,
    typer.Option(
        "--calibrate", help="Temperature-scale each file's probabilities first (fitted on the OOF rows only)."
    ),
]
PlotOption = Annotated[Optional[Path], typer.Option("--plot", help="Also draw a chart (PNG, PDF or SVG).")]
MemoryOption = Annotated[
    Optional[str],
    typer.Option(
        "--memory",
        help="Memory budget, e.g. 2GB: files that would not fit are blended out of core on DuckDB. "
        "[default: out of core only when the files would need over half of this machine's memory]",
        show_default=False,
    ),
]
WeightsOut = Annotated[Optional[Path], typer.Option("--weights-out", help="Save the weights as JSON.")]
PositiveOption = Annotated[
    Optional[str],
    typer.Option(
        "--positive",
        help="The truth's label that a binary probability column predicts. "
        "[default: the label the column is named after, else the second in sorted order]",
        show_default=False,
    ),
]
SampleOption = Annotated[
    Optional[Path],
    typer.Option(
        "--sample",
        help="The competition's sample_submission.csv: the blend takes its id order, id text and "
        "header, and ids or columns that disagree with it are refused before anything is written.",
    ),
]
MetaOption = Annotated[Meta, typer.Option("--meta", help="The meta-learner.")]
FwlsOption = Annotated[bool, typer.Option("--fwls", help="Feature-weighted linear stacking (Sill et al. 2009).")]
QuadraticOption = Annotated[bool, typer.Option("--quadratic", help="Add pairwise products of the models' predictions.")]
LogitOption = Annotated[bool, typer.Option("--logit", help="Feed probabilities to the meta-learner as logits.")]
FeaturesOption = Annotated[
    Optional[str],
    typer.Option(
        "--features", help="TRAIN.csv,TEST.csv: original features (id first) to add to the meta-learner's inputs."
    ),
]
DEFAULT_OOF, DEFAULT_TRUTH = Path("submissions/oof"), Path("data/train_labels.csv")


#: The options of every command that learns from OOF rows, in the order ``--help`` lists them:
#: (parameter, option, default). :func:`learning_options` gives them to a command as one :class:`Shared`.
LEARNING_OPTIONS = (
    ("metric", MetricOption, None),
    ("greater_is_better", DirectionOption, None),
    ("classes", ClassesOption, None),
    ("no_post", NoPostOption, False),
    ("oof_dir", OofDir, DEFAULT_OOF),
    ("truth", TruthPath, DEFAULT_TRUTH),
    ("positive", PositiveOption, None),
    ("cv", CvOption, None),
    ("folds", FoldsOption, None),
    ("seed", SeedOption, 0),
    ("sample", SampleOption, None),
    ("out", OutPath, None),
    ("oof_out", OofOutOption, None),
    ("no_oof_out", NoOofOption, False),
    ("id_column", IdColumn, None),
    ("task", TaskOption, None),
)


@dataclass(frozen=True)
class Shared:
    """The shared learning options of one command run (see :data:`LEARNING_OPTIONS`)."""

    metric: str | None
    greater_is_better: bool | None
    classes: str | None
    no_post: bool
    oof_dir: Path
    truth: Path
    positive: str | None
    cv: int | None
    folds: str | None
    seed: int
    sample: Path | None
    out: Path | None
    oof_out: Path | None
    no_oof_out: bool
    id_column: str | None
    task: object

    def outputs(self, command_name: str, **others: Path | None) -> tuple[Path, Path | None]:
        """The blend's path and its OOF predictions' path (None with --no-oof-out), checked before any work."""
        out = output_path(self.out, command_name, **others)
        return out, oof_path(self.oof_out, self.no_oof_out, out)


DeviceOption = Annotated[
    Device,
    typer.Option(
        "--device",
        help="Where the fold scores are computed: gpu needs CuPy and a visible GPU (pip install cupy-cuda12x).",
    ),
]


def device_option(function):
    """Give a command ``--device cpu|gpu``: the command runs in that array namespace (:mod:`blender.arrays`),
    resolved before any work, so ``gpu`` without CuPy or a GPU is one ``Error:`` line."""
    import inspect

    from blender import arrays

    signature = inspect.signature(function, eval_str=True)
    parameters = list(signature.parameters.values())
    added = inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default="cpu", annotation=DeviceOption)
    at = next((i for i, p in enumerate(parameters) if p.kind == p.VAR_KEYWORD), len(parameters))

    @functools.wraps(function)
    def run(*args, **kwargs):
        device = kwargs.pop("device", "cpu")
        with arrays.on_device(getattr(device, "value", device)):
            return function(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=[*parameters[:at], added, *parameters[at:]])
    return run


def learning_options(function=None, *, without: tuple[str, ...] = ()):
    """Give a command the shared learning options (all but ``without``), passed to it as ``shared``.

    The command declares its own options and a keyword ``shared: Shared``; its ``--help``
    lists its own options, then the shared ones.
    """
    import inspect

    def decorate(function):
        signature = inspect.signature(function, eval_str=True)
        # A **options catch-all takes a generated command's own options, which its signature lists instead.
        own = [
            parameter
            for name, parameter in signature.parameters.items()
            if name != "shared" and parameter.kind != parameter.VAR_KEYWORD
        ]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option)
            for name, option, default in LEARNING_OPTIONS
            if name not in without
        ]

        @functools.wraps(function)
        def run(*args, **kwargs):
            shared = Shared(**{name: kwargs.pop(name, default) for name, _, default in LEARNING_OPTIONS})
            return function(*args, shared=shared, **kwargs)

        run.__signature__ = signature.replace(parameters=[*own, *added])
        return device_option(run)

    return decorate(function) if function is not None else decorate


def command(name: str, *, logs: bool = True):
    """Register a command whose bad-input errors become one ``Error:`` line and exit status 1.

    A command that ``logs`` (every command that writes a file) also takes ``--log PATH`` and
    ``--no-log``, and runs with its record being kept (:mod:`blender.cli.journal`).
    """

    def decorate(function):
        import inspect

        own_json = "as_json" in inspect.signature(function).parameters  # blend log prints its own JSON lines

        @functools.wraps(function)
        def run(*args, **kwargs):
            as_json = False if own_json else kwargs.pop("json_output", False)
            with output.collecting(name, as_json) as document:
                try:
                    if not logs:
                        function(*args, **kwargs)
                    else:
                        with journal.recording(kwargs.pop("log", None), kwargs.pop("no_log", False)):
                            function(*args, **kwargs)
                except BlendInputError as error:
                    if os.environ.get("BLEND_DEBUG"):
                        raise
                    typer.echo(f"Error: {error}", err=True)
                    if as_json:
                        typer.echo(output.dumps(output.error_document(str(error))))
                    raise typer.Exit(1) from None
                except KeyboardInterrupt:
                    typer.echo("Interrupted; no output written.", err=True)
                    raise typer.Exit(130) from None
                except typer.Exit as done:
                    if as_json and done.exit_code in (0, 3, 4):
                        typer.echo(output.dumps({**document, "exit_status": done.exit_code}))
                    raise
                if as_json:
                    typer.echo(output.dumps(document))

        signature = journal.with_log_options(function) if logs else inspect.signature(function, eval_str=True)
        if not own_json:
            signature = signature.replace(
                parameters=[
                    *signature.parameters.values(),
                    inspect.Parameter(
                        "json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=output.JsonOption
                    ),
                ]
            )
        run.__signature__ = signature
        return app.command(name, cls=journal.LoggedCommand)(run)

    return decorate


def say(message: str) -> None:
    typer.echo(message, err=True)


# ---------------------------------------------------------------------------- reading, writing, reporting


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


def read(files: list[str] | None, id_column: str | None, task):
    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    predictions = io.read_predictions(
        paths, id_column=id_column, task=task.value if task else None, progress=Ticker("read", say=say)
    )
    say(
        f"read {predictions.n_models} files, {predictions.n_samples:,} rows each, "
        f"{describe_kind(predictions)} ({time.perf_counter() - started:.1f} s)"
    )
    return predictions


def read_learning(
    files,
    train_dir: Path,
    truth: Path,
    id_column,
    task,
    metric,
    *,
    command_name: str,
    positive: str | None = None,
    role: str = "OOF",
    make_target: str = "make oof",
    dir_option: str = "--oof-dir",
    greater_is_better: bool | None = None,
    classes: str | None = None,
    post: bool = True,
):
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
        task=task.value if task else None,
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
    target = learning.target
    if target is not None:
        say(
            f"positive class: {target.positive} ({target.reason}); the column '{test.columns[0]}' is the probability "
            f"of {target.positive}" + (f", 1 - it of {target.negative}" if target.negative is not None else "")
        )
    if chosen == "qwk" and test.kind != "regression":
        say(
            f"qwk class order: {', '.join(chosen.labels)}"
            + (" (--classes)" if classes else " (sorted; --classes A,B,C gives another)")
        )
    elif chosen == "qwk":
        say(f"qwk classes: {', '.join(str(label) for label in chosen.labels)}")
    return replace(learning, metric=chosen, post=post)


def read_sample(path: Path | None, predictions, id_column, learning=None):
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
        f"sample {path}: {len(sample.ids):,} ids, header {sample.id_column},{','.join(sample.columns)}"
        + ("; ids matched as numbers, written as the sample writes them" if sample.by_number else "")
        + (
            f"; one label column for {len(sample.labels)} class probabilities: each row is written as its most "
            f"probable class ({_shorten(sample.labels)})"
            if sample.labels and not (learning is not None and writes_decisions(learning))
            else ""
        )
    )
    return sample


def writes_decisions(learning) -> bool:
    """Whether the submission holds the metric's decisions (or its clipped values) rather than the blend's scores."""
    metric = getattr(learning, "metric", None)
    return bool(learning.post and isinstance(metric, metrics.Metric) and metric.post_processes)


def describe_kind(predictions) -> str:
    if predictions.kind == "multiclass":
        return f"class probabilities ({len(predictions.columns)} classes: {_shorten(predictions.columns)})"
    if predictions.kind == "labels":
        return f"labels ({len(predictions.classes)} classes: {_shorten(predictions.classes)})"
    if predictions.kind == "binary":
        return f"binary probabilities ('{predictions.columns[0]}')"
    return f"regression values ('{predictions.columns[0]}')"


def _shorten(items: list[str], limit: int = 6) -> str:
    return ", ".join(items) if len(items) <= limit else ", ".join(items[: limit - 1]) + f", ..., {items[-1]}"


def write_submission(outputs, learning, blended, out: Path, sample=None, step=None) -> None:
    """Write the test blend: the metric's decisions through ``step`` (fitted on the OOF rows) where it makes
    them (one column of labels, top-K labels or clipped values), else the scores as :func:`write_blend`."""
    from blender import layout

    test = learning.test
    if step is None or not writes_decisions(learning):
        return write_blend(outputs, test, blended, out, sample)
    decisions = step.write(layout.for_metric(blended, test.kind), learning.metric.labels)
    column = test.columns[0] if test.kind in ("binary", "regression") else (learning.target_column or "target")
    if sample is None:
        outputs.predictions(out, test.ids, decisions, columns=[column], id_column=test.id_column)
    else:
        outputs.predictions(out, sample.ids, decisions[sample.rows], columns=sample.columns, id_column=sample.id_column)


def write_blend(outputs, predictions, blended, out: Path, sample=None) -> None:
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


def weights_line(names, weights) -> str:
    return ", ".join(f"{name}={weight:g}" for name, weight in zip(names, weights))


def weight_option(text: str | None, n_models: int):
    from blender.validate import check_weights, parse_weights

    return check_weights(parse_weights(text), n_models)


def refuse_kind(predictions, kinds: tuple[str, ...], message: str) -> None:
    """One line naming the first file when its kind is one of ``kinds``."""
    if predictions.kind in kinds:
        raise BlendInputError(f"{predictions.paths[0]}: {message}")


def report_run(run, label: str, names: list[str], metric: str, *, show_weights: bool = True) -> None:
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


def step_line(step, in_sample: float, plain_in_sample: float, label: str, metric) -> None:
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
    folds: str | None, cv: int | None, learning, *, truth: Path, seed: int, repeats: int = 1, default_file: bool = True
):
    """The folds of a learning command (:func:`blender.io.fold_plan`), its choice said in one line."""
    from blender import io

    plan, line = io.fold_plan(
        folds, cv, learning.train.ids, truth=truth, seed=seed, repeats=repeats, default_file=default_file
    )
    say(line)
    return plan


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


def report_slice(held, label: str, metric: str) -> None:
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
    learning,
    run,
    out: Path,
    sample,
    *,
    oof: Path | None = None,
    weights_out: Path | None = None,
    plot: Path | None = None,
    chart=None,
) -> None:
    """Write the test blend, its OOF predictions, the weights JSON and the chart as one unit, and log them."""
    from blender import io

    journal.note_run(learning, run)
    with io.OutputGroup(log=journal.log_entry(out)) as outputs:
        if weights_out is not None:
            outputs.weights(weights_out, learning.train.names, run.weights, metric=learning.metric)
        if plot is not None:
            outputs.figure(plot, chart())
        write_submission(outputs, learning, run.test_blend, out, sample, run.step)
        if oof is not None:
            write_blend(outputs, learning.train, run.oof, oof)
    from blender.api import from_run

    output.emit(**from_run(learning, run).to_dict())
    for path in (weights_out, plot, out, oof):
        if path is not None:
            say(f"wrote {path}")
            output.add_output(path)


def write_one(predictions, blended, out: Path, sample, *, method: str, weights=None) -> None:
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
    output.emit(
        method=method,
        inputs=list(predictions.names),
        weights=None if weights is None else dict(zip(predictions.names, map(float, weights))),
    )
    output.add_output(out)

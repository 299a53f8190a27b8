"""The ``blend`` command: parse, read with ``blender.io``, run one registry entry, write, report on stderr.

Every command is read, one call, write. The learning commands reach their method through
:func:`blender.entries.run_entry`, as ``blend score``, ``blend auto`` and the benchmark do, so
a method has one honest score wherever it is shown. A registry entry without a command of its
own here gets a generated one (:func:`_generated_commands`). Heavy libraries (pandas, pyarrow,
scipy, scikit-learn, matplotlib) are imported inside the commands, so ``blend --help`` starts
quickly. A user's mistake (a ``BlendInputError``) becomes one ``Error:`` line and exit status 1;
anything else is our bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import time
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender import averaging, correlation, metrics, stacking, weights as weights_module
from blender.auto import THRESHOLD
from blender.errors import BlendInputError
from blender.methods import METHODS
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
Metric = _choices("Metric", metrics.METRICS)
Mean = _choices("Mean", typing.get_args(averaging.MeanKind))
CorrMethod = _choices("CorrMethod", correlation.CORRELATION_METHODS)
Meta = _choices("Meta", stacking.META_LEARNERS)
WeightMethod = _choices("WeightMethod", weights_module.METHODS)

# Options shared by the commands, declared once.
Files = Annotated[
    Optional[list[str]],
    typer.Argument(help=f"Prediction files (.csv, .csv.gz or .parquet); a quoted glob is expanded. [default: {DEFAULT_GLOB}]",
                   show_default=False),
]
OutPath = Annotated[Optional[Path], typer.Option("--out", "-o", help="Blend to write (.csv, .csv.gz or .parquet). [default: blends/COMMAND.csv]", show_default=False)]
IdColumn = Annotated[Optional[str], typer.Option("--id", help="Name of the id column. [default: the first column]", show_default=False)]
TaskOption = Annotated[Optional[Task], typer.Option("--task", help="What the columns hold; inferred from the files unless given.", show_default=False)]
WeightsOption = Annotated[Optional[str], typer.Option("--weights", "-w", help="One non-negative weight per file, comma-separated, e.g. 3,1,1.")]
OofDir = Annotated[Path, typer.Option("--oof-dir", help="Folder of the out-of-fold files, one NAME.csv per submission.")]
TruthPath = Annotated[Path, typer.Option("--truth", help="id,<target> for the training rows.")]
MetricOption = Annotated[
    Optional[Metric],
    typer.Option("--metric", help="What to optimise and report. [default: logloss for probabilities, accuracy for labels, rmse for regression]", show_default=False),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for the folds of the cross-validated scores, bags and meta-learners.")]
CvOption = Annotated[int, typer.Option("--cv", help="Folds over the OOF rows for the honest (cross-validated) scores.")]
CalibrateOption = Annotated[bool, typer.Option("--calibrate", help="Temperature-scale each file's probabilities first (fitted on the OOF rows only).")]
PlotOption = Annotated[Optional[Path], typer.Option("--plot", help="Also draw a chart (PNG, PDF or SVG).")]
MemoryOption = Annotated[
    Optional[str],
    typer.Option("--memory", help="Memory budget, e.g. 2GB: files that would not fit are blended out of core on DuckDB. "
                 "[default: out of core only when the files would need over half of this machine's memory]",
                 show_default=False),
]
WeightsOut = Annotated[Optional[Path], typer.Option("--weights-out", help="Save the weights as JSON.")]
PositiveOption = Annotated[
    Optional[str],
    typer.Option("--positive", help="The truth's label that a binary probability column predicts. "
                 "[default: the label the column is named after, else the second in sorted order]", show_default=False),
]
SampleOption = Annotated[
    Optional[Path],
    typer.Option("--sample", help="The competition's sample_submission.csv: the blend takes its id order, id text and "
                 "header, and ids or columns that disagree with it are refused before anything is written."),
]
MetaOption = Annotated[Meta, typer.Option("--meta", help="The meta-learner.")]
FwlsOption = Annotated[bool, typer.Option("--fwls", help="Feature-weighted linear stacking (Sill et al. 2009).")]
QuadraticOption = Annotated[bool, typer.Option("--quadratic", help="Add pairwise products of the models' predictions.")]
LogitOption = Annotated[bool, typer.Option("--logit", help="Feed probabilities to the meta-learner as logits.")]
FeaturesOption = Annotated[
    Optional[str],
    typer.Option("--features", help="TRAIN.csv,TEST.csv: original features (id first) to add to the meta-learner's inputs."),
]
DEFAULT_OOF, DEFAULT_TRUTH = Path("submissions/oof"), Path("data/train_labels.csv")


def command(name: str):
    """Register a command whose bad-input errors become one ``Error:`` line and exit status 1."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except BlendInputError as error:
                if os.environ.get("BLEND_DEBUG"):
                    raise
                typer.echo(f"Error: {error}", err=True)
                raise typer.Exit(1) from None
            except KeyboardInterrupt:
                typer.echo("Interrupted; no output written.", err=True)
                raise typer.Exit(130) from None

        return app.command(name)(run)

    return decorate


def say(message: str) -> None:
    typer.echo(message, err=True)


# ---------------------------------------------------------------------------- reading, writing, reporting


def output_path(out: Path | None, command_name: str, **others: Path | None) -> Path:
    """The blend's path (default ``blends/COMMAND.csv``); it and ``others`` are refused before any work if unusable."""
    from blender import io

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
    predictions = io.read_predictions(paths, id_column=id_column, task=task.value if task else None,
                                      progress=Ticker("read", say=say))
    say(f"read {predictions.n_models} files, {predictions.n_samples:,} rows each, "
        f"{describe_kind(predictions)} ({time.perf_counter() - started:.1f} s)")
    return predictions


def read_learning(files, train_dir: Path, truth: Path, id_column, task, metric, *, command_name: str,
                  positive: str | None = None, role: str = "OOF", make_target: str = "make oof",
                  dir_option: str = "--oof-dir"):
    """The test files, their OOF (or holdout) twins and the truth, with the metric chosen (``learning.metric``)."""
    from dataclasses import replace

    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    learning = io.read_learning(
        paths, train_dir=train_dir, truth=truth, id_column=id_column, task=task.value if task else None, role=role,
        command_name=command_name, make_target=make_target, dir_option=dir_option, positive=positive,
        progress=Ticker("read", say=say),
    )
    test = learning.test
    try:
        chosen = metrics.check_metric(metric.value if metric else None, test.kind)
    except ValueError as error:
        raise BlendInputError(f"--metric {metric.value if metric else ''}: {error}.") from None
    say(f"read {test.n_models} files, {test.n_samples:,} test rows each, {describe_kind(test)} "
        f"({time.perf_counter() - started:.1f} s)")
    say(f"{role}: {learning.train.n_samples:,} rows in {train_dir}/, truth {truth}, metric {chosen}")
    target = learning.target
    if target is not None:
        say(f"positive class: {target.positive} ({target.reason}); the column '{test.columns[0]}' is the probability "
            f"of {target.positive}" + (f", 1 - it of {target.negative}" if target.negative is not None else ""))
    return replace(learning, metric=chosen)


def read_sample(path: Path | None, predictions, id_column):
    """The ``--sample`` file matched to the predictions (None without it), checked before any work."""
    from blender import io

    if path is None:
        return None
    sample = io.read_sample(path, like=predictions, id_column=id_column)
    say(f"sample {path}: {len(sample.ids):,} ids, header {sample.id_column},{','.join(sample.columns)}"
        + ("; ids matched as numbers, written as the sample writes them" if sample.by_number else ""))
    return sample


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


def write_blend(outputs, predictions, blended, out: Path, sample=None) -> None:
    """Write a blend (label text for labels) in the first file's order and header, or in the sample's."""
    import numpy as np

    values = np.asarray(predictions.classes, dtype=object)[np.argmax(blended, axis=1)] if predictions.kind == "labels" else blended
    if sample is None:
        outputs.predictions(out, predictions.ids, values, columns=predictions.columns, id_column=predictions.id_column)
    else:
        outputs.predictions(out, sample.ids, sample.arrange(values), columns=sample.columns, id_column=sample.id_column)


def weights_line(names, weights) -> str:
    return ", ".join(f"{name}={weight:g}" for name, weight in zip(names, weights))


def _weights(text: str | None, n_models: int):
    from blender.validate import check_weights, parse_weights

    return check_weights(parse_weights(text), n_models)


def _refuse(predictions, kinds: tuple[str, ...], message: str) -> None:
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
    honest, single = run.honest, run.best_single
    say(f"{label} {run.board.folds}-fold CV {metric}: {honest.mean:.6f} ± {honest.se:.6f}   "
        f"best single file {single.name}: {single.mean:.6f} ± {single.se:.6f}   "
        f"(blend better in {honest.wins} of {honest.n_folds} folds)")


def _check_cv(cv: int, repeats: int = 1, option: str = "--cv") -> None:
    if cv < 2:
        raise BlendInputError(f"{option} {cv}: cross-validation needs at least 2 folds.")
    if repeats < 1:
        raise BlendInputError(f"--repeats {repeats}: give 1 or more.")


# ---------------------------------------------------------------------------- commands on files alone


def _out_of_core(files, memory: str | None, sample: Path | None):
    """The paths and memory budget when the files should be blended out of core, else None."""
    from blender import io
    from blender.outofcore import needs_out_of_core, parse_memory

    if sample is not None:
        if memory is not None:
            raise BlendInputError("--sample orders the blend in memory; drop --memory, or drop --sample and sort the output.")
        return None
    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    if memory is not None:
        try:
            budget = parse_memory(memory)
        except ValueError:
            raise BlendInputError(f"--memory {memory}: give a size such as 2GB, 512MB or 8GiB.") from None
    else:
        budget = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    return (paths, budget) if needs_out_of_core(paths, budget) else None


def _blend_out_of_core(plan, out: Path, *, method: str, task, id_column, weights: str | None, **options) -> None:
    from blender.outofcore import blend_out_of_core

    paths, budget = plan
    weight_values = None if weights is None else _weights(weights, len(paths))
    say(f"the {len(paths)} files would not fit a {budget / 2**20:,.0f} MiB memory budget: blending them out of core on DuckDB")
    started = time.perf_counter()
    result = blend_out_of_core(paths, out, method=method, kind=task.value if task else None, weights=weight_values,
                               id_column=id_column, memory_limit=budget, progress=say, **options)
    say(f"{method} of {len(paths)} files, {result.n_rows:,} rows, out of core ({time.perf_counter() - started:.1f} s)")


def _write_one(predictions, blended, out: Path, sample) -> None:
    from blender import io

    with io.OutputGroup() as outputs:
        write_blend(outputs, predictions, blended, out, sample)
    say(f"wrote {out}")


@command("vote")
def vote_command(
    files: Files = None,
    weights: WeightsOption = None,
    truth: Annotated[Optional[Path], typer.Option("--truth", help="id,<target>: for binary probability files, votes "
                     "are written as its two labels (e.g. No/Yes). [default: data/train_labels.csv where it exists]",
                     show_default=False)] = None,
    positive: PositiveOption = None,
    memory: MemoryOption = None,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Majority vote, or weighted vote, of labels (probabilities become labels: argmax, or 0.5 for binary).

    A tie goes to the tied label of the first file (in the order listed) that voted for one.
    Probability files give a file of the same columns holding the winning class as 0/1; binary
    files whose truth holds two labels (No/Yes) get those labels.

    Example:

        blend vote submissions/*.csv -o blends/vote.csv

        blend vote cnn.csv rf.csv knn.csv lr.csv xgb.csv --weights 3,1,1,1,1
    """
    import numpy as np

    from blender import io
    from blender.methods import Voted
    from blender.voting import votes_as_output

    out = output_path(out, "vote")
    plan = _out_of_core(files, memory, sample)
    if plan is not None:
        return _blend_out_of_core(plan, out, method="vote", task=task, id_column=id_column, weights=weights)
    predictions = read(files, id_column, task)
    _refuse(predictions, ("regression",), "vote needs class labels or probabilities, and these look like regression "
                                          "values; use blend average (or --task binary if they are probabilities).")
    labels = _binary_vote_labels(predictions, truth, positive, id_column)
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = _weights(weights, predictions.n_models)
    say("votes: " + weights_line(predictions.names, weight_values))
    winners = np.argmax(Voted(weight_values, predictions.kind).apply(predictions.values), axis=1)
    result = votes_as_output(winners, kind=predictions.kind, classes=predictions.classes, n_cols=len(predictions.columns),
                             binary_labels=labels)
    with io.OutputGroup() as outputs:
        if sample_set is None:
            outputs.predictions(out, predictions.ids, result, columns=predictions.columns, id_column=predictions.id_column)
        else:
            outputs.predictions(out, sample_set.ids, sample_set.arrange(result), columns=sample_set.columns,
                                id_column=sample_set.id_column)
    say(f"wrote {out}")


def _binary_vote_labels(predictions, truth: Path | None, positive: str | None, id_column) -> list[str] | None:
    """The (negative, positive) labels binary votes are written as, from the truth; None keeps 0/1."""
    from blender import io
    from blender.validate import binary_target

    if predictions.kind != "binary":
        if positive is not None:
            raise BlendInputError(f"--positive {positive}: only binary probability files have a positive class; drop it.")
        return None
    path = truth if truth is not None else (DEFAULT_TRUTH if DEFAULT_TRUTH.is_file() else None)
    if path is None:
        if positive is not None:
            raise BlendInputError(f"--positive {positive} needs the truth's labels: pass --truth data/train_labels.csv.")
        return None
    try:
        target = binary_target(io.read_target(path, id_column=id_column), column=predictions.columns[0],
                               positive=positive, truth_path=path, reference_path=predictions.paths[0])
    except BlendInputError:
        if truth is not None or positive is not None:
            raise
        say(f"{path} does not hold a binary target for these files: votes are written as 0/1")
        return None
    if target.labels() == ["0", "1"]:
        return None
    say(f"votes written as {target.negative}/{target.positive} (from {path}; positive class {target.positive}: {target.reason})")
    return target.labels()


@command("average")
def average_command(
    files: Files = None,
    kind: Annotated[Mean, typer.Option("--kind", "-k", help="Which mean (logit: the mean of the log-odds).")] = "arithmetic",
    power: Annotated[Optional[float], typer.Option("--power", "-p", help="Exponent for --kind power (2 squares, 0.5 roots).")] = None,
    weights: WeightsOption = None,
    calibrate: CalibrateOption = False,
    memory: MemoryOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """The mean of the predictions, column by column: arithmetic, geometric, harmonic, power or logit.

    For class probabilities every mean but the arithmetic one is renormalised so rows sum to 1.
    With --calibrate, each file is first temperature-scaled on its OOF rows (--oof-dir, --truth).

    Example:

        blend average submissions/*.csv --kind geometric -o blends/geo.csv

        blend average submissions/*.csv --kind logit --calibrate

        blend average huge/*.parquet --memory 2GB -o blends/average.parquet
    """
    from blender.entries import configured, run_entry
    from blender.methods import fit
    from blender.validate import check_mean_inputs

    kind = Mean(kind)
    out = output_path(out, "average")
    if kind.value != "power" and power is not None:
        raise BlendInputError(f"--power applies to --kind power only (got --kind {kind.value}); drop one of them.")
    if kind.value == "power" and power is None:
        raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
    plan = None if calibrate else _out_of_core(files, memory, sample)
    if plan is not None:
        if kind.value == "logit":
            raise BlendInputError("--kind logit is not available out of core; use --kind geometric, or a larger --memory.")
        return _blend_out_of_core(plan, out, method="average", task=task, id_column=id_column, weights=weights,
                                  mean=kind.value, power=power)
    if calibrate:
        learning = read_learning(files, oof_dir, truth, id_column, task, None, command_name="average --calibrate",
                                 positive=positive)
        predictions = learning.test
        _refuse(predictions, ("labels", "regression"), f"--calibrate scales probabilities, and these files hold "
                                                       f"{predictions.kind}; drop --calibrate.")
    else:
        predictions = read(files, id_column, task)
    _refuse(predictions, ("labels",), "average needs probabilities or regression values, and this file holds class "
                                      "labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities).")
    check_mean_inputs(predictions, mean=kind.value, power=power)
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = _weights(weights, predictions.n_models)
    method = configured("average", calibrate=calibrate, mean=kind.value, power=power, weights=weight_values)
    label = f"power mean (p={power:g})" if kind.value == "power" else f"{kind.value} mean"
    say(f"{label} of {predictions.n_models} files, weights " + weights_line(predictions.names, weight_values))
    if calibrate:
        run = run_entry(method, learning.train, learning.y, predictions, metric=learning.metric)
        report_run(run, label, predictions.names, learning.metric, show_weights=False)
        blended = run.test_blend
    else:
        blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    _write_one(predictions, blended, out, sample_set)


@command("rank-average")
def rank_average_command(
    files: Files = None,
    weights: WeightsOption = None,
    history: Annotated[
        Optional[Path],
        typer.Option("--history", help="Earlier predictions to rank against (historical rank): one file used for every "
                     "file, or a folder holding NAME.csv for each file NAME."),
    ] = None,
    memory: MemoryOption = None,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Each column ranked (ties share the average rank), ranks averaged, scaled to [0, 1].

    With --history, each new value takes the scaled rank of the nearest value in the earlier
    predictions, so a handful of new rows land on the same scale as the full earlier set.

    Example:

        blend rank-average submissions/*.csv -o blends/rank.csv

        blend rank-average new/*.csv --history submissions/ -o blends/rank_new.csv
    """
    from blender import io
    from blender.methods import Ranked
    from blender.rank import historical_rank_average

    out = output_path(out, "rank-average")
    plan = None if history is not None else _out_of_core(files, memory, sample)
    if plan is not None:
        return _blend_out_of_core(plan, out, method="rank-average", task=task, id_column=id_column, weights=weights)
    predictions = read(files, id_column, task)
    _refuse(predictions, ("labels",), "rank-average needs probabilities or regression values, and this file holds class "
                                      "labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities).")
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = _weights(weights, predictions.n_models)
    if history is None:
        result = Ranked(weight_values).apply(predictions.values)
        say("rank average, weights " + weights_line(predictions.names, weight_values))
    else:
        earlier = io.read_history(history, like=predictions, id_column=id_column)
        result = historical_rank_average(predictions.values, earlier, weights=weight_values)
        say(f"historical rank average against {history} ({earlier.shape[1]:,} earlier rows)")
    _write_one(predictions, result, out, sample_set)


@command("corr")
def corr_command(
    files: Files = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation of values, ranks or pair concordance.")] = "pearson",
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Also draw the matrix as a heatmap (PNG, PDF or SVG).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the matrix as CSV.")] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """The correlation matrix of the files, as a table on stdout (and a heatmap with --plot).

    Class probabilities are correlated over all their cells; label files show the share of rows
    on which two files agree.

    Example:

        blend corr submissions/*.csv --method spearman --plot blends/corr.png
    """
    from blender import io, report
    from blender.correlation import correlation_matrix, label_agreement, most_alike

    check_outputs(out=out, plot=plot)
    predictions = read(files, id_column, task)
    if predictions.kind == "labels":
        matrix, title = label_agreement(predictions.values), "share of rows with the same label"
    else:
        matrix = correlation_matrix(predictions.values, method=CorrMethod(method).value)
        title = f"{CorrMethod(method).value} correlation"
    names = predictions.names
    rows = [[name, *map(float, row)] for name, row in zip(names, matrix)]
    typer.echo(report.format_table(["", *names], rows))
    pair = most_alike(matrix)
    if pair is not None:
        say(f"{title}; most alike: {names[pair[0]]} and {names[pair[1]]} ({matrix[pair]:.4f})")
    elif len(names) > 1:
        say(f"{title}; no pair has a defined correlation (is a file constant?)")
    with io.OutputGroup() as outputs:
        if out is not None:
            outputs.table(out, ["model", *names], rows)
        if plot is not None:
            outputs.figure(plot, report.heatmap(matrix, names, title))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")


@command("check")
def check_command(
    sample: Annotated[Path, typer.Argument(help="The competition's sample_submission.csv.", show_default=False)],
    file: Annotated[Path, typer.Argument(help="The submission to check (.csv, .csv.gz or .parquet).", show_default=False)],
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Check a submission against the competition's sample file before uploading it: the same
    ids, written the same way (0007 is not 7), the same header, and every cell valid for its kind.

    Example:

        blend check data/sample_submission.csv blends/auto.csv
    """
    from blender.validate import check_against_sample

    predictions = read([str(file)], id_column, task)
    notes = check_against_sample(read_sample(sample, predictions, id_column), predictions)
    say(f"{file} matches {sample}: {predictions.n_samples:,} ids, header {predictions.id_column},"
        f"{','.join(predictions.columns)}" + "".join(f"; {note}" for note in notes))


# ---------------------------------------------------------------------------- learning from OOF rows


def _learn(name: str, files, *, oof_dir, truth, positive, metric, cv, seed, sample, id_column, task,
           calibrate: bool = False, refuse_labels: bool = False, features: str | None = None, label: str | None = None,
           role: str = "OOF", entry_name: str | None = None, show_weights: bool = True, **options):
    """Read, run the registry entry ``name`` with ``options``, report it; return (learning, run, sample)."""
    from blender.entries import configured, run_entry

    holdout = role == "holdout"
    command_name = "holdout" if holdout else "stack" if name.startswith("stack-") else name
    _check_cv(cv, option="--folds" if command_name in ("stack", "holdout") else "--cv")
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name=command_name,
                             positive=positive, role=role, make_target="make holdout" if holdout else "make oof",
                             dir_option="--holdout-dir" if holdout else "--oof-dir")
    if refuse_labels:
        _refuse(learning.test, ("labels",), f"{command_name} weighs probabilities or values, and these files hold "
                                            "labels; use blend vote, blend select or blend stack for label files.")
    if calibrate:
        _refuse(learning.test, ("labels", "regression"), f"--calibrate scales probabilities, and these files hold "
                                                         f"{learning.test.kind}; drop --calibrate.")
    if options.get("logit") and learning.train.kind not in ("binary", "multiclass"):
        raise BlendInputError(f"--logit needs probabilities, and these files hold {learning.train.kind}; drop --logit.")
    sample_set = read_sample(sample, learning.test, id_column)
    method = configured(name, calibrate=calibrate, as_name=entry_name, **options)
    train_features = test_features = None
    if features is not None:
        train_features, test_features = _features(learning, features, id_column)
    run = run_entry(method, learning.train, learning.y, learning.test, metric=learning.metric, folds=cv,
                    random_state=seed, features=(train_features, test_features) if features is not None else None)
    report_run(run, label or method.name, learning.train.names, learning.metric, show_weights=show_weights)
    return learning, run, sample_set


def _features(learning, features: str, id_column):
    from blender import io

    parts = [part for part in features.split(",") if part]
    if len(parts) != 2:
        raise BlendInputError(f"--features {features}: give two files, TRAIN.csv,TEST.csv, for the OOF and the test rows.")
    train_features, test_features, names = io.read_features(
        Path(parts[0]), Path(parts[1]), learning.train.ids, learning.test.ids, id_column=id_column)
    say(f"features: {len(names)} columns from {parts[0]} and {parts[1]}")
    return train_features, test_features


def _write_run(learning, run, out: Path, sample, *, weights_out: Path | None = None, plot: Path | None = None,
               chart=None) -> None:
    """Write the test blend, the weights JSON and the chart as one unit."""
    from blender import io

    with io.OutputGroup() as outputs:
        if weights_out is not None:
            outputs.weights(weights_out, learning.train.names, run.weights, metric=learning.metric)
        if plot is not None:
            outputs.figure(plot, chart())
        write_blend(outputs, learning.test, run.test_blend, out, sample)
    for path in (weights_out, plot, out):
        if path is not None:
            say(f"wrote {path}")


@command("score")
def score_command(
    files: Files = None,
    metric: MetricOption = None,
    cv: CvOption = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeat the CV with other fold seeds; shows mean ± standard error.")] = 1,
    models_only: Annotated[bool, typer.Option("--models-only", help="Score the files only, not the blend methods.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the leaderboard as a bar chart (PNG).")] = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the leaderboard as CSV.")] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """A leaderboard of every file and every blend method, scored honestly, best first.

    Every entry is scored on the same folds of the OOF rows: a blend method is fitted on K-1
    folds and scores the held-out one; a file just scores it. Fold scores are averaged
    (--repeats R repeats with other seeds) and shown with their standard error, the gain over
    the best single file, and the folds in which the entry beats it.

    Example:

        blend score submissions/*.csv --metric logloss --repeats 3 --plot blends/leaderboard.png
    """
    from blender import io, report
    from blender.evaluation import leaderboard
    from blender.methods import methods_for

    check_outputs(out=out, plot=plot)
    _check_cv(cv, repeats)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="score", positive=positive)
    started = time.perf_counter()
    train = learning.train
    methods = [] if models_only else methods_for(train.kind, learning.metric)
    say(f"scoring {train.n_models} files and {len(methods)} blend methods on {repeats}x{cv}-fold CV over the OOF rows ...")
    board = leaderboard(train.values, learning.y, kind=train.kind, metric=learning.metric, names=train.names,
                        folds=cv, repeats=repeats, random_state=seed, methods=methods, progress=say)
    typer.echo(report.format_table(*report.leaderboard_rows(board)))
    say(f"scored in {time.perf_counter() - started:.1f} s; every entry on the same {repeats}x{cv} folds, "
        f"blends fitted without the fold they score; ± is the standard error (Nadeau-Bengio corrected)")
    with io.OutputGroup() as outputs:
        if out is not None:
            outputs.leaderboard(out, board.entries)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")


@command("select")
def select_command(
    files: Files = None,
    max_corr: Annotated[float, typer.Option("--max-corr", help="Add a file only if its correlation with every chosen file is below this.")] = 0.95,
    top: Annotated[Optional[int], typer.Option("--top", help="Choose at most K files.")] = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation used for the bound.")] = "pearson",
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    cv: CvOption = 5,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Correlation-aware selection: the best OOF file first, then each next-best file whose
    correlation with all chosen stays under --max-corr; writes the average of the chosen
    (their vote, for label files) and prints its cross-validated score (--seed seeds the folds).

    Example:

        blend select submissions/*.csv --max-corr 0.95 --top 5 -o blends/select.csv
    """
    from blender import report

    out = output_path(out, "select")
    if top is not None and top < 1:
        raise BlendInputError(f"--top {top}: choose at least one file.")
    learning, run, sample_set = _learn(
        "select", files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric, cv=cv, seed=seed,
        sample=sample, id_column=id_column, task=task, max_corr=max_corr, top=top,
        method=CorrMethod(method).value, label="average of the chosen", show_weights=False)
    chosen, scores, corr = (run.details[key] for key in ("chosen", "scores", "corr"))
    names = learning.train.names
    rows = [[names[j], float(scores[j]), float(max((corr[j, k] for k in chosen[:position]), default=float("nan")))]
            for position, j in enumerate(chosen)]
    say(report.format_table(["chosen", f"OOF {learning.metric}", "max corr with earlier"], rows))
    left_out = [name for j, name in enumerate(names) if j not in chosen]
    if left_out:
        say("left out: " + ", ".join(left_out))
    _write_run(learning, run, out, sample_set)


@command("caruana")
def caruana_command(
    files: Files = None,
    init: Annotated[int, typer.Option("--init", help="Start from the N best files (sorted initialisation); 0 starts empty.")] = 5,
    iters: Annotated[int, typer.Option("--iters", help="Forward-selection steps.")] = 50,
    bags: Annotated[int, typer.Option("--bags", help="Bagged selection: run on B random subsets of the files and average the weights.")] = 1,
    bag_fraction: Annotated[float, typer.Option("--bag-fraction", help="Share of the files each bag may choose from.")] = 0.5,
    no_replacement: Annotated[bool, typer.Option("--no-replacement", help="Never add the same file twice.")] = False,
    calibrate: CalibrateOption = False,
    weights_out: WeightsOut = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the OOF score along the selection (PNG).")] = None,
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    cv: CvOption = 5,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Greedy ensemble selection (Caruana et al. 2004) on the OOF rows, with replacement,
    sorted initialisation and bagging; writes the weighted blend of the test files.

    The selection also runs from an empty start and keeps the better end point, and never
    writes a blend whose OOF score is worse than the best single file's.

    Example:

        blend caruana submissions/*.csv --init 3 --iters 100 --bags 20 --metric logloss
    """
    from blender import layout, report

    out = output_path(out, "caruana", weights_out=weights_out, plot=plot)
    if not 0.0 < bag_fraction <= 1.0:
        raise BlendInputError(f"--bag-fraction {bag_fraction:g}: give a share in (0, 1], e.g. 0.5.")
    if init < 0 or iters < 0:
        raise BlendInputError(f"--init {init} --iters {iters}: give numbers of 0 or more.")
    if iters < 1 and init < 1:
        raise BlendInputError("--iters 0 with --init 0 selects nothing; give --iters 1 or more.")
    if bags < 1:
        raise BlendInputError(f"--bags {bags}: give 1 or more.")
    learning, run, sample_set = _learn(
        "caruana", files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric, cv=cv, seed=seed,
        sample=sample, id_column=id_column, task=task, calibrate=calibrate, refuse_labels=True, init=init,
        iters=iters, bags=bags, bag_fraction=bag_fraction, replacement=not no_replacement, label="caruana blend")
    result = run.details["result"]
    say(f"caruana: init {init}, {iters} iterations, {bags} bag(s), {'without' if no_replacement else 'with'} replacement, "
        f"kept the {result.start} start ({run.seconds:.1f} s)")
    if result.fell_back:
        say("the bagged blend scored worse than the best single file on the OOF rows, so the best file alone is kept")

    def chart():
        best = float(result.model_scores[layout.best_model(result.model_scores, learning.metric)])
        return report.trajectory_chart(result.trajectory, metric=learning.metric, best_single_score=best,
                                       kept=result.best_iteration)

    _write_run(learning, run, out, sample_set, weights_out=weights_out, plot=plot, chart=chart)


@command("hill-climb")
def hill_climb_command(
    files: Files = None,
    negative_weights: Annotated[bool, typer.Option("--negative-weights", help="Also try negative weights (w < 0 subtracts a file).")] = False,
    tolerance: Annotated[Optional[float], typer.Option("--tolerance", help="Stop when a step gains less than this share of the score. [default: 1e-6]", show_default=False)] = None,
    max_iters: Annotated[int, typer.Option("--iters", help="At most this many steps.")] = 100,
    calibrate: CalibrateOption = False,
    weights_out: WeightsOut = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the OOF score along the climb (PNG).")] = None,
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    cv: CvOption = 5,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Kaggle-style hill climbing: start from the best OOF file, then repeatedly add
    (1-w)·blend + w·file for the best file and w of a grid, with replacement, until the gain
    falls below --tolerance; writes the blend and prints the weights.

    Example:

        blend hill-climb submissions/*.csv --metric auc

        blend hill-climb submissions/*.csv --negative-weights --weights-out blends/hill.json
    """
    from blender import report

    out = output_path(out, "hill-climb", weights_out=weights_out, plot=plot)
    if max_iters < 1:
        raise BlendInputError(f"--iters {max_iters}: give 1 or more.")
    if tolerance is not None and not tolerance >= 0:
        raise BlendInputError(f"--tolerance {tolerance:g}: give 0 or a positive number.")
    learning, run, sample_set = _learn(
        "hill-climb", files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric, cv=cv, seed=seed,
        sample=sample, id_column=id_column, task=task, calibrate=calibrate, negative_weights=negative_weights,
        max_iters=max_iters, tolerance=tolerance, label="hill-climb blend")
    result = run.details["result"]
    say(f"hill climbing from {learning.train.names[result.start_model]}: {len(result.trajectory) - 1} step(s)"
        f"{' with negative weights allowed' if negative_weights else ''} ({run.seconds:.1f} s)")

    def chart():
        trajectory = [(step[0], float(step[3])) for step in result.trajectory]
        return report.trajectory_chart(trajectory, metric=learning.metric, best_single_score=float(result.trajectory[0][3]),
                                       title="hill climbing")

    _write_run(learning, run, out, sample_set, weights_out=weights_out, plot=plot, chart=chart)


@command("weights")
def weights_command(
    files: Files = None,
    method: Annotated[WeightMethod, typer.Option("--method", help="scipy.optimize method.")] = "slsqp",
    calibrate: CalibrateOption = False,
    weights_out: WeightsOut = None,
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    cv: CvOption = 5,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Weights on the simplex (non-negative, summing to 1) that optimise the metric on the
    OOF rows; writes the weighted average of the test files and prints its cross-validated
    score (--seed seeds the folds).

    Example:

        blend weights submissions/*.csv --method nelder-mead --metric logloss
    """
    out = output_path(out, "weights", weights_out=weights_out)
    method = WeightMethod(method).value
    learning, run, sample_set = _learn(
        "weights", files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric, cv=cv, seed=seed,
        sample=sample, id_column=id_column, task=task, calibrate=calibrate, refuse_labels=True, method=method,
        label="weights blend")
    say(f"{method} weights ({run.seconds:.1f} s)")
    _write_run(learning, run, out, sample_set, weights_out=weights_out)


@command("stack")
def stack_command(
    files: Files = None,
    meta: MetaOption = "logreg",
    folds: Annotated[int, typer.Option("--folds", help="Folds over the OOF rows for the meta-learner's honest CV score.")] = 5,
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Stacking: a meta-learner fitted on the OOF predictions (optionally with the original
    features, FWLS or pairwise products) predicts the test rows; prints its honest CV score
    (the stack-* entries of blend score), with every transform fitted inside each fold.

    Example:

        blend stack submissions/*.csv --meta logreg --folds 5

        blend stack submissions/*.csv --meta xgb --features data/train.csv,data/test.csv
    """
    out = output_path(out, "stack")
    learning, run, sample_set = _stack(files, meta, folds, features, fwls, quadratic, logit, metric, oof_dir, truth,
                                       positive, seed, sample, out, id_column, task, role="OOF")
    _write_run(learning, run, out, sample_set)


def _stack(files, meta, folds, features, fwls, quadratic, logit, metric, train_dir, truth, positive, seed, sample, out,
           id_column, task, *, role: str):
    meta = Meta(meta).value
    extras = [label for label, on in (("features", features), ("fwls", fwls), ("quadratic", quadratic), ("logit", logit)) if on]
    learning, run, sample_set = _learn(
        "stack-logreg", files, entry_name=f"stack-{meta}", show_weights=False, oof_dir=train_dir, truth=truth, positive=positive, metric=metric, cv=folds, seed=seed,
        sample=sample, id_column=id_column, task=task, features=features, role=role, meta=meta, fwls=fwls,
        quadratic=quadratic, logit=logit, label=f"stack {meta}" + (" + " + ", ".join(extras) if extras else ""))
    say(f"meta {meta} fitted on {learning.train.n_samples:,} {role} rows ({run.seconds:.1f} s)")
    return learning, run, sample_set


@command("holdout")
def holdout_command(
    files: Files = None,
    meta: MetaOption = "logreg",
    holdout_dir: Annotated[Path, typer.Option("--holdout-dir", help="Folder of the holdout predictions, one NAME.csv per submission.")] = Path("submissions/holdout"),
    folds: Annotated[int, typer.Option("--folds", help="Folds over the holdout rows for the meta-learner's CV score.")] = 5,
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Blending: the meta-learner is fitted on the holdout predictions (made by models that
    never saw those rows) and the truth of those rows, then predicts the test rows.

    Example:

        blend holdout submissions/*.csv --meta logreg --holdout-dir submissions/holdout
    """
    out = output_path(out, "holdout")
    learning, run, sample_set = _stack(files, meta, folds, features, fwls, quadratic, logit, metric, holdout_dir, truth,
                                       positive, seed, sample, out, id_column, task, role="holdout")
    _write_run(learning, run, out, sample_set)


@command("auto")
def auto_command(
    files: Files = None,
    metric: MetricOption = None,
    cv: CvOption = 5,
    repeats: Annotated[Optional[int], typer.Option("--repeats", help="Repeat the CV with other fold seeds. [default: 3 up to 5,000 OOF rows, else 1]", show_default=False)] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the leaderboard with the pick marked (PNG).")] = None,
    report_path: Annotated[Optional[Path], typer.Option("--report", help="Also write the leaderboard, the pick and the estimate as JSON.")] = None,
    blends_dir: Annotated[Optional[Path], typer.Option("--blends-dir", help="Also write every entry's test blend there, as ENTRY.csv.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", help="How many standard errors a blend must gain over the best single file to be picked.")] = THRESHOLD,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Pick the blend to submit: score every file and blend method honestly (same folds, repeated),
    pick a blend only if it beats the best single file by more than the noise, then submit the
    top entry with every entry it cannot be told apart from (their mean), write the pick's test
    blend, and estimate its score with nested CV.

    The estimate repeats the whole choice inside outer folds, so it is not flattered by picking
    the best of many entries on the same rows. When no blend beats the best single file beyond
    noise, that file is written and the output says so.

    Example:

        blend auto submissions/*.csv --plot blends/auto.png

        blend auto submissions/*.csv --metric auc --repeats 5 --report blends/auto.json
    """
    import json

    from blender import auto, io, report

    out = output_path(out, "auto", plot=plot, report=report_path)
    if blends_dir is not None and blends_dir.exists() and not blends_dir.is_dir():
        raise BlendInputError(f"--blends-dir {blends_dir} is a file; name a folder.")
    _check_cv(cv, repeats or 1)
    if not threshold >= 0:
        raise BlendInputError(f"--threshold {threshold:g}: give 0 or more standard errors.")
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="auto", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    started = time.perf_counter()
    result = auto.run_auto(learning.train, learning.y, learning.test, metric=learning.metric, folds=cv, repeats=repeats,
                           random_state=seed, threshold=threshold, blends=blends_dir is not None, progress=say)
    board, pick, estimate = result.board, result.pick, result.estimate
    typer.echo(report.format_table(*report.leaderboard_rows(board, pick=result.picked)))
    say(f"pick: {pick.name} ({pick.type}) because {pick.reason}")
    say(f"estimated {learning.metric} of the pick (nested {cv}-fold CV, never scored on rows used to choose it): "
        f"{estimate.mean:.6f} ± {estimate.se:.6f}; picking the best single file the same way: "
        f"{estimate.best_single_mean:.6f}; best single file {board.best_single} on all OOF rows: {board.best_single_oof:.6f}")
    say(f"outer folds picked: {', '.join(estimate.picks)} ({time.perf_counter() - started:.1f} s in all)")
    if pick.type == "model":
        say(f"no blend beats {pick.name} beyond noise: writing {pick.name}'s own test predictions")
    with io.OutputGroup() as outputs:
        write_blend(outputs, learning.test, result.test_blend, out, sample_set)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board, pick=result.picked, estimate=estimate))
        if report_path is not None:
            outputs.text(report_path, json.dumps(auto.report_document(result, metric=learning.metric), indent=2) + "\n")
        for name, blend in result.blends.items():
            write_blend(outputs, learning.test, blend, blends_dir / f"{name}.csv", sample_set)
    say(f"wrote {out}" + "".join(f", {path}" for path in (plot, report_path, blends_dir) if path is not None))


# ---------------------------------------------------------------------------- generated commands


def _generated_commands() -> None:
    """A command for each registry entry that has none above: ``blend NAME FILES...``, fitted on
    the OOF rows when the entry learns, with the options every command shares."""
    import inspect

    taken = {info.name for info in app.registered_commands}
    for method in METHODS:
        if method.name in taken or method.command is not None:
            continue
        generic = _learned_command if method.learns else _plain_command
        run = functools.partial(generic, method.name)
        run.__name__ = method.name.replace("-", "_") + "_command"
        run.__doc__ = (f"{method.summary[0].upper()}{method.summary[1:]}: the registry's '{method.name}' entry"
                       f"{', fitted on the OOF rows' if method.learns else ''}, applied to the test files.\n\n"
                       f"Example:\n\n    blend {method.name} submissions/*.csv -o blends/{method.name}.csv")
        hints = typing.get_type_hints(generic, include_extras=True)
        parameters = [parameter.replace(annotation=hints[parameter.name])
                      for parameter in list(inspect.signature(generic).parameters.values())[1:]]
        run.__signature__ = inspect.Signature(parameters)
        run.__module__ = __name__
        command(method.name)(run)


def _plain_command(name: str, files: Files = None, sample: SampleOption = None, out: OutPath = None,
                   id_column: IdColumn = None, task: TaskOption = None) -> None:
    from blender.entries import configured
    from blender.methods import fit

    out = output_path(out, name)
    predictions = read(files, id_column, task)
    method = configured(name)
    if predictions.kind not in method.kinds:
        raise BlendInputError(f"{predictions.paths[0]}: {name} takes {', '.join(method.kinds)} files, and these hold "
                              f"{predictions.kind}.")
    sample_set = read_sample(sample, predictions, id_column)
    say(f"{method.summary} of {predictions.n_models} files")
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    _write_one(predictions, blended, out, sample_set)


def _learned_command(name: str, files: Files = None, metric: MetricOption = None, oof_dir: OofDir = DEFAULT_OOF,
                     truth: TruthPath = DEFAULT_TRUTH, positive: PositiveOption = None, cv: CvOption = 5,
                     seed: SeedOption = 0, sample: SampleOption = None, out: OutPath = None,
                     id_column: IdColumn = None, task: TaskOption = None) -> None:
    out = output_path(out, name)
    learning, run, sample_set = _learn(name, files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric,
                                       cv=cv, seed=seed, sample=sample, id_column=id_column, task=task)
    _write_run(learning, run, out, sample_set)


_generated_commands()


def main() -> None:
    """Entry point of the ``blend`` console script."""
    app(prog_name="blend")


if __name__ == "__main__":
    main()

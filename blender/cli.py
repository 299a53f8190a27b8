"""The ``blend`` command: parse, read with ``blender.io``, call one registry entry, write, report on stderr.

Heavy libraries (pandas, pyarrow, scipy, scikit-learn, matplotlib) are imported inside the
commands, so ``blend --help`` starts quickly. A user's mistake (a ``BlendInputError``) becomes
one ``Error:`` line and exit status 1; anything else is our bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.errors import BlendInputError

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
# blend auto's default: a blend must gain this many standard errors (kept in sync with blender.auto).
THRESHOLD = 0.5


class Task(str, Enum):
    labels = "labels"
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"


class Mean(str, Enum):
    arithmetic = "arithmetic"
    geometric = "geometric"
    harmonic = "harmonic"
    power = "power"
    logit = "logit"


class CorrMethod(str, Enum):
    pearson = "pearson"
    spearman = "spearman"
    kendall = "kendall"


class Metric(str, Enum):
    accuracy = "accuracy"
    logloss = "logloss"
    auc = "auc"
    rmse = "rmse"
    mae = "mae"


class Meta(str, Enum):
    logreg = "logreg"
    ridge = "ridge"
    xgb = "xgb"
    et = "et"
    rf = "rf"
    knn = "knn"


class WeightMethod(str, Enum):
    nelder_mead = "nelder-mead"
    slsqp = "slsqp"


# Options shared by every command, defined once.
Files = Annotated[
    Optional[list[str]],
    typer.Argument(help=f"Prediction files (.csv, .csv.gz or .parquet); a quoted glob is expanded. [default: {DEFAULT_GLOB}]",
                   show_default=False),
]
OutPath = Annotated[Optional[Path], typer.Option("--out", "-o", help="Blend to write (.csv, .csv.gz or .parquet). [default: blends/COMMAND.csv]", show_default=False)]
IdColumn = Annotated[Optional[str], typer.Option("--id", help="Name of the id column. [default: the first column]", show_default=False)]
TaskOption = Annotated[
    Optional[Task],
    typer.Option("--task", help="What the columns hold; inferred from the files unless given.", show_default=False),
]
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


def output_path(out: Path | None, command_name: str) -> Path:
    from blender import io

    path = out if out is not None else Path("blends") / f"{command_name}.csv"
    io.check_output_path(path, option="--out")
    return path


def check_outputs(**paths: Path | None) -> None:
    """Refuse an unusable output path before any work is done (a folder, a bad suffix)."""
    from blender import io

    for option, path in paths.items():
        if path is not None:
            io.check_output_path(path, option="--" + option.replace("_", "-"), figure=option == "plot")


def read(files: list[str] | None, id_column: str | None, task: Task | None):
    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    predictions = io.read_predictions(paths, id_column=id_column, task=task.value if task else None,
                                      progress=_reading_progress(len(paths)))
    say(f"read {predictions.n_models} files, {predictions.n_samples:,} rows each, "
        f"{describe_kind(predictions)} ({time.perf_counter() - started:.1f} s)")
    return predictions


def _reading_progress(n_files: int):
    """Progress lines while reading: every file for a few, every tenth of them for hundreds."""
    if n_files < 20:
        return None
    step = max(1, n_files // 10)
    started = time.perf_counter()

    def report(line: str, _count=[0]) -> None:
        _count[0] += 1
        if _count[0] % step == 0 or _count[0] == n_files:
            say(f"  read {_count[0]}/{n_files} files ({time.perf_counter() - started:.1f} s)")

    return report


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


def blended_output(predictions, blended):
    """A blend (n_rows, n_cols) as the file writes it: label text for labels, the columns otherwise."""
    import numpy as np

    if predictions.kind == "labels":
        return np.asarray(predictions.classes, dtype=object)[np.argmax(blended, axis=1)]
    return blended


def write_blend(outputs, predictions, blended, out: Path, sample=None) -> None:
    """Write a blend in the first file's order and header, or in the sample's (``--sample``)."""
    values = blended_output(predictions, blended)
    if sample is None:
        outputs.predictions(out, predictions.ids, values, columns=predictions.columns, id_column=predictions.id_column)
    else:
        outputs.predictions(out, sample.ids, sample.arrange(values), columns=sample.columns, id_column=sample.id_column)


def read_sample(path: Path | None, predictions, id_column):
    """The ``--sample`` file matched to the predictions (None without it), checked before any work."""
    from blender import io

    if path is None:
        return None
    sample = io.read_sample(path, like=predictions, id_column=id_column)
    say(f"sample {path}: {len(sample.ids):,} ids, header {sample.id_column},{','.join(sample.columns)}"
        + ("; ids matched as numbers, written as the sample writes them" if sample.by_number else ""))
    return sample


def weights_line(names, weights) -> str:
    return ", ".join(f"{name}={weight:g}" for name, weight in zip(names, weights))


def _weights(text: str | None, n_models: int):
    from blender.validate import check_weights, parse_weights

    return check_weights(parse_weights(text), n_models)


def _refuse_labels(predictions, command_name: str) -> None:
    if predictions.kind == "labels":
        raise BlendInputError(
            f"{predictions.paths[0]}: {command_name} needs probabilities or regression values, and this file holds "
            "class labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities)."
        )


# ---------------------------------------------------------------------------- commands on files alone


def _out_of_core(files: list[str] | None, memory: str | None, sample: Path | None = None):
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
    if predictions.kind == "regression":
        raise BlendInputError(
            f"{predictions.paths[0]}: vote needs class labels or probabilities, and these look like regression values; "
            "use blend average (or --task binary if they are probabilities)."
        )
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

    default = Path("data/train_labels.csv")
    if predictions.kind != "binary":
        if positive is not None:
            raise BlendInputError(f"--positive {positive}: only binary probability files have a positive class; drop it.")
        return None
    path = truth if truth is not None else (default if default.is_file() else None)
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
    kind: Annotated[Mean, typer.Option("--kind", "-k", help="Which mean (logit: the mean of the log-odds).")] = Mean.arithmetic,
    power: Annotated[Optional[float], typer.Option("--power", "-p", help="Exponent for --kind power (2 squares, 0.5 roots).")] = None,
    weights: WeightsOption = None,
    calibrate: CalibrateOption = False,
    memory: MemoryOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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
    from blender import io
    from blender.methods import calibrated, fit_mean
    from blender.validate import check_mean_inputs

    out = output_path(out, "average")
    if kind is not Mean.power and power is not None:
        raise BlendInputError(f"--power applies to --kind power only (got --kind {kind.value}); drop one of them.")
    if kind is Mean.power and power is None:
        raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
    plan = None if calibrate else _out_of_core(files, memory, sample)
    if plan is not None:
        if kind is Mean.logit:
            raise BlendInputError("--kind logit is not available out of core; use --kind geometric, or a larger --memory.")
        return _blend_out_of_core(plan, out, method="average", task=task, id_column=id_column, weights=weights,
                                  mean=kind.value, power=power)
    if calibrate:
        learning = read_learning(files, oof_dir, truth, id_column, task, None, command_name="average --calibrate", positive=positive)
        _refuse_uncalibratable(learning.test)
        predictions = learning.test
    else:
        predictions = read(files, id_column, task)
    _refuse_labels(predictions, "average")
    check_mean_inputs(predictions, mean=kind.value, power=power)
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = _weights(weights, predictions.n_models)
    options = dict(mean=kind.value, power=power, weights=weight_values)
    if calibrate:
        fitted = calibrated(fit_mean)(learning.train.values, learning.y, kind=predictions.kind, metric=learning.metric,
                                      **options)
        say("temperatures: " + weights_line(predictions.names, fitted.temperatures))
    else:
        fitted = fit_mean(predictions.values, None, kind=predictions.kind, metric=None, **options)
    label = f"power mean (p={power:g})" if kind is Mean.power else f"{kind.value} mean"
    say(f"{label} of {predictions.n_models} files, weights " + weights_line(predictions.names, weight_values))
    with io.OutputGroup() as outputs:
        write_blend(outputs, predictions, fitted.apply(predictions.values), out, sample_set)
    say(f"wrote {out}")


@command("rank-average")
def rank_average_command(
    files: Files = None,
    weights: WeightsOption = None,
    history: Annotated[
        Optional[Path],
        typer.Option(
            "--history",
            help="Earlier predictions to rank against (historical rank): one file used for every file, "
            "or a folder holding NAME.csv for each file NAME.",
        ),
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
    _refuse_labels(predictions, "rank-average")
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = _weights(weights, predictions.n_models)
    if history is None:
        result = Ranked(weight_values).apply(predictions.values)
        say("rank average, weights " + weights_line(predictions.names, weight_values))
    else:
        earlier = io.read_history(history, like=predictions, id_column=id_column)
        result = historical_rank_average(predictions.values, earlier, weights=weight_values)
        say(f"historical rank average against {history} ({earlier.shape[1]:,} earlier rows)")
    with io.OutputGroup() as outputs:
        write_blend(outputs, predictions, result, out, sample_set)
    say(f"wrote {out}")


@command("corr")
def corr_command(
    files: Files = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation of values, ranks or pair concordance.")] = CorrMethod.pearson,
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
    import numpy as np

    from blender import io, report
    from blender.correlation import correlation_matrix, label_agreement

    check_outputs(out=out, plot=plot)
    predictions = read(files, id_column, task)
    if predictions.kind == "labels":
        matrix = label_agreement(predictions.values)
        title = "share of rows with the same label"
    else:
        matrix = correlation_matrix(predictions.values, method=method.value)
        title = f"{method.value} correlation"
    names = predictions.names
    typer.echo(report.format_table(["", *names], [[name, *map(float, row)] for name, row in zip(names, matrix)]))
    masked = np.where(np.eye(len(names), dtype=bool) | np.isnan(matrix), -np.inf, matrix)
    if np.isfinite(masked).any():
        i, j = np.unravel_index(np.argmax(masked), matrix.shape)
        say(f"{title}; most alike: {names[i]} and {names[j]} ({matrix[i, j]:.4f})")
    elif len(names) > 1:
        say(f"{title}; no pair has a defined correlation (is a file constant?)")
    with io.OutputGroup() as outputs:
        if out is not None:
            outputs.table(out, ["model", *names], [[name, *map(float, row)] for name, row in zip(names, matrix)])
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
    import numpy as np

    predictions = read([str(file)], id_column, task)
    sample_set = read_sample(sample, predictions, id_column)
    if sample_set.by_number:
        raise BlendInputError(
            f"{file}: ids are written otherwise than in {sample} (e.g. {predictions.ids[int(sample_set.rows[0])]} for "
            f"{sample_set.ids[0]}); write them as the sample does (blend COMMAND --sample {sample} does)."
        )
    if sample_set.id_column != predictions.id_column:
        raise BlendInputError(
            f"{file}: the id column is '{predictions.id_column}', the sample's is '{sample_set.id_column}'; rename it."
        )
    notes = []
    if not np.array_equal(sample_set.rows, np.arange(len(sample_set.rows))):
        notes.append("rows in another order than the sample's (matched by id)")
    if sample_set.column_order != list(range(len(sample_set.columns))):
        notes.append("columns in another order than the sample's (matched by name)")
    say(f"{file} matches {sample}: {predictions.n_samples:,} ids, header {predictions.id_column},"
        f"{','.join(predictions.columns)}" + "".join(f"; {note}" for note in notes))


# ---------------------------------------------------------------------------- learning from OOF rows


@dataclass(frozen=True)
class Learning:
    """Test predictions, the matching OOF (or holdout) predictions, their truth and the metric."""

    test: object
    train: object
    y: object
    metric: str
    truth_path: Path


def read_learning(
    files, train_dir: Path, truth: Path, id_column, task, metric, *, command_name: str, role: str = "OOF",
    make_target: str = "make oof", dir_option: str = "--oof-dir", positive: str | None = None,
) -> Learning:
    """Read the test files, their OOF (or holdout) twins and the truth; choose the metric."""
    from blender import io

    paths = io.resolve_paths(files, default=DEFAULT_GLOB)
    started = time.perf_counter()
    learning_set = io.read_learning(
        paths, train_dir=train_dir, truth=truth, id_column=id_column, task=task.value if task else None, role=role,
        command_name=command_name, make_target=make_target, dir_option=dir_option, positive=positive,
        progress=_reading_progress(2 * len(paths)),
    )
    test = learning_set.test
    chosen_metric = check_metric_option(metric, test.kind)
    say(f"read {test.n_models} files, {test.n_samples:,} test rows each, {describe_kind(test)} "
        f"({time.perf_counter() - started:.1f} s)")
    say(f"{role}: {learning_set.train.n_samples:,} rows in {train_dir}/, truth {truth}, metric {chosen_metric}")
    target = learning_set.target
    if target is not None:
        say(f"positive class: {target.positive} ({target.reason}); the column '{test.columns[0]}' is the probability "
            f"of {target.positive}" + (f", 1 - it of {target.negative}" if target.negative is not None else ""))
    return Learning(test=test, train=learning_set.train, y=learning_set.y, metric=chosen_metric, truth_path=truth)


def check_metric_option(metric: Metric | None, kind: str) -> str:
    from blender.metrics import check_metric

    try:
        return check_metric(metric.value if metric else None, kind)
    except ValueError as error:
        raise BlendInputError(f"--metric {metric.value if metric else ''}: {error}.") from None


def _refuse_uncalibratable(predictions) -> None:
    if predictions.kind not in ("binary", "multiclass"):
        raise BlendInputError(
            f"{predictions.paths[0]}: --calibrate scales probabilities, and these files hold {predictions.kind}; "
            "drop --calibrate."
        )


def _refuse_labels_learning(learning: Learning, command_name: str) -> None:
    if learning.test.kind == "labels":
        raise BlendInputError(
            f"{learning.test.paths[0]}: {command_name} weighs probabilities or values, and these files hold labels; "
            "use blend vote, blend select or blend stack for label files."
        )


def honest_report(learning: Learning, method, label: str, *, cv: int, seed: int, options: dict | None = None,
                  in_sample=None) -> None:
    """Print the method's score on the OOF rows it learned from, and its cross-validated score
    against the best single file on the same folds (the honest comparison)."""
    from blender import layout
    from blender.evaluation import corrected_se, fold_scores, model_fold_scores, repeated_folds

    values, y, kind, metric = learning.train.values, learning.y, learning.train.kind, learning.metric
    splits = repeated_folds(y, kind=kind, folds=cv, random_state=seed)
    scores = fold_scores(method, values, y, splits, kind=kind, metric=metric, random_state=seed, options=options)
    overall = layout.model_scores(values, y, metric=metric, kind=kind)
    best = layout.best_model(overall, metric)
    single = model_fold_scores(values[best : best + 1], y, splits, kind=kind, metric=metric)[0]
    if in_sample is not None:
        say(f"{label} OOF {metric} on the rows it was fitted on: {layout.score(y, in_sample, metric=metric, kind=kind):.6f} "
            f"(optimistic)")
    sign = 1.0 if metric in ("accuracy", "auc") else -1.0
    wins = int((sign * (scores - single) > 0).sum())
    say(f"{label} {cv}-fold CV {metric}: {scores.mean():.6f} ± {corrected_se(scores, cv):.6f}   "
        f"best single file {learning.train.names[best]}: {single.mean():.6f} ± {corrected_se(single, cv):.6f}   "
        f"(blend better in {wins} of {cv} folds)")


def fit_weighted_blend(learning: Learning, name: str, *, calibrate: bool, cv: int, seed: int, options: dict):
    """Fit a registry entry that learns weights (optionally after temperature scaling), print its
    weights and honest scores; return the fitted blend, the inner result and the seconds taken."""
    from blender import report
    from blender.methods import BY_NAME, Method, calibrated

    if calibrate:
        _refuse_uncalibratable(learning.test)
    base = BY_NAME[name]
    fit_function = calibrated(base.fit) if calibrate else base.fit
    started = time.perf_counter()
    fitted = fit_function(learning.train.values, learning.y, kind=learning.train.kind, metric=learning.metric,
                          random_state=seed, **options)
    seconds = time.perf_counter() - started
    if calibrate:
        say("temperatures: " + weights_line(learning.train.names, fitted.temperatures))
    say(report.weights_table(learning.train.names, fitted.weights))
    entry = Method(name, fit_function, base.kinds, True, base.complexity, base.summary)
    honest_report(learning, entry, f"{name} blend", cv=cv, seed=seed, options=options,
                  in_sample=fitted.apply(learning.train.values))
    inner = fitted.inner if calibrate else fitted
    return fitted, getattr(inner, "details", {}).get("result"), seconds


def write_weighted_blend(learning: Learning, fitted, *, out: Path, weights_out: Path | None, plot: Path | None,
                         chart=None, sample=None) -> None:
    """Write the test blend, the weights JSON and the chart as one unit."""
    from blender import io

    with io.OutputGroup() as outputs:
        if weights_out is not None:
            outputs.weights(weights_out, learning.train.names, fitted.weights, metric=learning.metric)
        if plot is not None:
            outputs.figure(plot, chart())
        write_blend(outputs, learning.test, fitted.apply(learning.test.values), out, sample)
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
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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
    header, rows = report.leaderboard_rows(board)
    typer.echo(report.format_table(header, rows))
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


def _check_cv(cv: int, repeats: int = 1) -> None:
    if cv < 2:
        raise BlendInputError(f"--cv {cv}: cross-validation needs at least 2 folds.")
    if repeats < 1:
        raise BlendInputError(f"--repeats {repeats}: give 1 or more.")


@command("select")
def select_command(
    files: Files = None,
    max_corr: Annotated[float, typer.Option("--max-corr", help="Add a file only if its correlation with every chosen file is below this.")] = 0.95,
    top: Annotated[Optional[int], typer.Option("--top", help="Choose at most K files.")] = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation used for the bound.")] = CorrMethod.pearson,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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
    from blender import io, report
    from blender.methods import BY_NAME, fit

    out = output_path(out, "select")
    if top is not None and top < 1:
        raise BlendInputError(f"--top {top}: choose at least one file.")
    _check_cv(cv)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="select", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    options = dict(max_corr=max_corr, top=top, method=method.value)
    entry = BY_NAME["select"]
    fitted = fit(entry, learning.train.values, learning.y, kind=learning.train.kind, metric=learning.metric,
                 random_state=seed, **options)
    chosen, scores, corr = (fitted.details[key] for key in ("chosen", "scores", "corr"))
    rows = []
    for position, j in enumerate(chosen):
        highest = max((corr[j, k] for k in chosen[:position]), default=float("nan"))
        rows.append([learning.train.names[j], float(scores[j]), float(highest)])
    say(report.format_table(["chosen", f"OOF {learning.metric}", "max corr with earlier"], rows))
    left_out = [name for j, name in enumerate(learning.train.names) if j not in chosen]
    if left_out:
        say("left out: " + ", ".join(left_out))
    honest_report(learning, entry, f"average of {len(chosen)} chosen", cv=cv, seed=seed, options=options)
    with io.OutputGroup() as outputs:
        write_blend(outputs, learning.test, fitted.apply(learning.test.values), out, sample_set)
    say(f"wrote {out}")


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
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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

    out = output_path(out, "caruana")
    check_outputs(weights_out=weights_out, plot=plot)
    if not 0.0 < bag_fraction <= 1.0:
        raise BlendInputError(f"--bag-fraction {bag_fraction:g}: give a share in (0, 1], e.g. 0.5.")
    if init < 0 or iters < 0:
        raise BlendInputError(f"--init {init} --iters {iters}: give numbers of 0 or more.")
    if iters < 1 and init < 1:
        raise BlendInputError("--iters 0 with --init 0 selects nothing; give --iters 1 or more.")
    if bags < 1:
        raise BlendInputError(f"--bags {bags}: give 1 or more.")
    _check_cv(cv)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="caruana", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    _refuse_labels_learning(learning, "caruana")
    options = dict(init=init, iters=iters, bags=bags, bag_fraction=bag_fraction, replacement=not no_replacement)
    fitted, result, seconds = fit_weighted_blend(learning, "caruana", calibrate=calibrate, cv=cv, seed=seed,
                                                 options=options)
    say(f"caruana: init {init}, {iters} iterations, {bags} bag(s), {'without' if no_replacement else 'with'} replacement, "
        f"kept the {result.start} start ({seconds:.1f} s)")
    if result.fell_back:
        say("the bagged blend scored worse than the best single file on the OOF rows, so the best file alone is kept")

    def chart():
        from blender import layout, report

        best = float(result.model_scores[layout.best_model(result.model_scores, learning.metric)])
        return report.trajectory_chart(result.trajectory, metric=learning.metric, best_single_score=best,
                                       kept=result.best_iteration)

    write_weighted_blend(learning, fitted, out=out, weights_out=weights_out, plot=plot, chart=chart, sample=sample_set)


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
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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

    out = output_path(out, "hill-climb")
    check_outputs(weights_out=weights_out, plot=plot)
    if max_iters < 1:
        raise BlendInputError(f"--iters {max_iters}: give 1 or more.")
    if tolerance is not None and not tolerance >= 0:
        raise BlendInputError(f"--tolerance {tolerance:g}: give 0 or a positive number.")
    _check_cv(cv)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="hill-climb", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    options = dict(negative_weights=negative_weights, max_iters=max_iters)
    if tolerance is not None:
        options["tolerance"] = tolerance
    fitted, result, seconds = fit_weighted_blend(learning, "hill-climb", calibrate=calibrate, cv=cv, seed=seed,
                                                 options=options)
    say(f"hill climbing from {learning.train.names[result.start_model]}: {len(result.trajectory) - 1} step(s)"
        f"{' with negative weights allowed' if negative_weights else ''} ({seconds:.1f} s)")

    def chart():
        from blender import report

        trajectory = [(step[0], float(step[3])) for step in result.trajectory]
        return report.trajectory_chart(trajectory, metric=learning.metric, best_single_score=float(result.trajectory[0][3]),
                                       title="hill climbing")

    write_weighted_blend(learning, fitted, out=out, weights_out=weights_out, plot=plot, chart=chart, sample=sample_set)


@command("weights")
def weights_command(
    files: Files = None,
    method: Annotated[WeightMethod, typer.Option("--method", help="scipy.optimize method.")] = WeightMethod.slsqp,
    calibrate: CalibrateOption = False,
    weights_out: WeightsOut = None,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
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

    out = output_path(out, "weights")
    check_outputs(weights_out=weights_out)
    _check_cv(cv)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="weights", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    _refuse_labels_learning(learning, "weights")
    fitted, _, seconds = fit_weighted_blend(learning, "weights", calibrate=calibrate, cv=cv, seed=seed,
                                            options={"method": method.value})
    say(f"{method.value} weights ({seconds:.1f} s)")
    write_weighted_blend(learning, fitted, out=out, weights_out=weights_out, plot=None, sample=sample_set)


MetaOption = Annotated[Meta, typer.Option("--meta", help="The meta-learner.")]
FwlsOption = Annotated[bool, typer.Option("--fwls", help="Feature-weighted linear stacking (Sill et al. 2009).")]
QuadraticOption = Annotated[bool, typer.Option("--quadratic", help="Add pairwise products of the models' predictions.")]
LogitOption = Annotated[bool, typer.Option("--logit", help="Feed probabilities to the meta-learner as logits.")]
FeaturesOption = Annotated[
    Optional[str],
    typer.Option("--features", help="TRAIN.csv,TEST.csv: original features (id first) to add to the meta-learner's inputs."),
]


def _features(learning: Learning, features: str | None, id_column):
    from blender import io

    if features is None:
        return None, None
    parts = [part for part in features.split(",") if part]
    if len(parts) != 2:
        raise BlendInputError(f"--features {features}: give two files, TRAIN.csv,TEST.csv, for the OOF and the test rows.")
    train_features, test_features, names = io.read_features(
        Path(parts[0]), Path(parts[1]), learning.train.ids, learning.test.ids, id_column=id_column
    )
    say(f"features: {len(names)} columns from {parts[0]} and {parts[1]}")
    return train_features, test_features


def _check_meta(learning: Learning, logit: bool) -> None:
    if logit and learning.train.kind not in ("binary", "multiclass"):
        raise BlendInputError(f"--logit needs probabilities, and these files hold {learning.train.kind}; drop --logit.")


@command("stack")
def stack_command(
    files: Files = None,
    meta: MetaOption = Meta.logreg,
    folds: Annotated[int, typer.Option("--folds", help="Folds for the meta-learner's own CV score.")] = 5,
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Stacking: a meta-learner fitted on the OOF predictions (optionally with the original
    features, FWLS or pairwise products) predicts the test rows; prints its own CV score,
    with every transform (feature scaling included) fitted inside each fold.

    Example:

        blend stack submissions/*.csv --meta logreg --folds 5

        blend stack submissions/*.csv --meta xgb --features data/train.csv,data/test.csv
    """
    from blender import io, layout
    from blender.stacking import stack

    out = output_path(out, "stack")
    if folds < 2:
        raise BlendInputError(f"--folds {folds}: the meta-learner's CV needs at least 2 folds.")
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="stack", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    _check_meta(learning, logit)
    train_features, test_features = _features(learning, features, id_column)
    started = time.perf_counter()
    result = stack(
        learning.train.values, learning.y, learning.test.values, kind=learning.train.kind, meta=meta.value,
        folds=folds, train_features=train_features, test_features=test_features, fwls=fwls, quadratic=quadratic,
        logit=logit, metric=learning.metric, random_state=seed,
    )
    extras = [label for label, on in (("features", features), ("fwls", fwls), ("quadratic", quadratic), ("logit", logit)) if on]
    say(f"stack: meta {meta.value}{' + ' + ', '.join(extras) if extras else ''}, fitted on {learning.train.n_samples:,} OOF rows "
        f"({time.perf_counter() - started:.1f} s)")
    scores = layout.model_scores(learning.train.values, learning.y, metric=learning.metric, kind=learning.train.kind)
    best = layout.best_model(scores, learning.metric)
    say(f"meta-learner {folds}-fold CV {learning.metric}: {result.cv_score:.6f}   "
        f"(best single: {learning.train.names[best]} {scores[best]:.6f})")
    with io.OutputGroup() as outputs:
        write_blend(outputs, learning.test, result.test_predictions, out, sample_set)
    say(f"wrote {out}")


@command("holdout")
def holdout_command(
    files: Files = None,
    meta: MetaOption = Meta.logreg,
    holdout_dir: Annotated[Path, typer.Option("--holdout-dir", help="Folder of the holdout predictions, one NAME.csv per submission.")] = Path("submissions/holdout"),
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    truth: TruthPath = Path("data/train_labels.csv"),
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
    from blender import io, layout
    from blender.holdout import holdout_blend

    out = output_path(out, "holdout")
    learning = read_learning(
        files, holdout_dir, truth, id_column, task, metric, command_name="holdout", role="holdout",
        make_target="make holdout", dir_option="--holdout-dir", positive=positive,
    )
    sample_set = read_sample(sample, learning.test, id_column)
    _check_meta(learning, logit)
    train_features, test_features = _features(learning, features, id_column)
    result = holdout_blend(
        learning.train.values, learning.y, learning.test.values, kind=learning.train.kind, meta=meta.value,
        train_features=train_features, test_features=test_features, fwls=fwls, quadratic=quadratic, logit=logit,
        metric=learning.metric, random_state=seed,
    )
    scores = layout.model_scores(learning.train.values, learning.y, metric=learning.metric, kind=learning.train.kind)
    best = layout.best_model(scores, learning.metric)
    say(f"holdout blend: meta {meta.value} fitted on {learning.train.n_samples:,} holdout rows; "
        f"its CV {learning.metric} on them: {result.cv_score:.6f} "
        f"(best single on the holdout: {learning.train.names[best]} {scores[best]:.6f})")
    with io.OutputGroup() as outputs:
        write_blend(outputs, learning.test, result.test_predictions, out, sample_set)
    say(f"wrote {out}")


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
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Pick the blend to submit: score every file and blend method honestly (same folds, repeated),
    pick a blend only if it beats the best single file by more than the noise (the simpler of two
    it cannot tell apart), write the pick's test blend, and estimate its score with nested CV.

    The estimate repeats the whole choice inside outer folds, so it is not flattered by picking
    the best of many entries on the same rows. When no blend beats the best single file beyond
    noise, that file is written and the output says so.

    Example:

        blend auto submissions/*.csv --plot blends/auto.png

        blend auto submissions/*.csv --metric auc --repeats 5 --report blends/auto.json
    """
    import json

    from blender import io, report
    from blender.auto import choose, fit_pick, nested_estimate
    from blender.evaluation import leaderboard
    from blender.methods import BY_NAME, methods_for

    out = output_path(out, "auto")
    check_outputs(plot=plot, report=report_path)
    if blends_dir is not None and blends_dir.exists() and not blends_dir.is_dir():
        raise BlendInputError(f"--blends-dir {blends_dir} is a file; name a folder.")
    _check_cv(cv, repeats or 1)
    if not threshold >= 0:
        raise BlendInputError(f"--threshold {threshold:g}: give 0 or more standard errors.")
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="auto", positive=positive)
    sample_set = read_sample(sample, learning.test, id_column)
    train, test, y, chosen_metric = learning.train, learning.test, learning.y, learning.metric
    if repeats is None:
        repeats = 3 if train.n_samples <= 5000 else 1
    methods = methods_for(train.kind, chosen_metric)
    started = time.perf_counter()
    say(f"1/3 leaderboard: {train.n_models} files and {len(methods)} blend methods on {repeats}x{cv}-fold CV ...")
    board = leaderboard(train.values, y, kind=train.kind, metric=chosen_metric, names=train.names, folds=cv,
                        repeats=repeats, random_state=seed, methods=methods, progress=say)
    pick = choose(board, threshold=threshold)
    say(f"2/3 nested estimate: the whole choice again inside {cv} outer folds ...")
    estimate = nested_estimate(train.values, y, kind=train.kind, metric=chosen_metric, names=train.names, folds=cv,
                               repeats=repeats, random_state=seed, methods=methods, threshold=threshold,
                               progress=say)
    say(f"3/3 fitting {pick.name} on all {train.n_samples:,} OOF rows and applying it to the test files")
    fitted = fit_pick(pick, train.values, y, names=train.names, kind=train.kind, metric=chosen_metric, random_state=seed)

    picked = pick.members or (pick.name,)
    header, rows = report.leaderboard_rows(board, pick=picked)
    typer.echo(report.format_table(header, rows))
    say(f"pick: {pick.name} ({pick.type}) because {pick.reason}")
    say(f"estimated {chosen_metric} of the pick (nested {cv}-fold CV, never scored on rows used to choose it): "
        f"{estimate.mean:.6f} ± {estimate.se:.6f}; picking the best single file the same way: "
        f"{estimate.best_single_mean:.6f}; best single file {board.best_single} on all OOF rows: {board.best_single_oof:.6f}")
    say(f"outer folds picked: {', '.join(estimate.picks)} ({time.perf_counter() - started:.1f} s in all)")
    if pick.type == "model":
        say(f"no blend beats {pick.name} beyond noise: writing {pick.name}'s own test predictions")

    with io.OutputGroup() as outputs:
        write_blend(outputs, test, fitted.apply(test.values), out, sample_set)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board, pick=picked, estimate=estimate))
        if report_path is not None:
            payload = {
                "metric": chosen_metric,
                "pick": {"name": pick.name, "type": pick.type, "members": list(pick.members)},
                "reason": pick.reason,
                "estimate": {"mean": estimate.mean, "se": estimate.se, "folds": estimate.scores.tolist(),
                             "picks": estimate.picks, "best_single_mean": estimate.best_single_mean},
                "best_single": {"name": board.best_single, "oof": board.best_single_oof},
                "leaderboard": [{"name": e.name, "type": e.type, "mean": e.mean, "se": e.se, "gain": e.gain,
                                 "gain_se": e.gain_se, "wins": e.wins, "folds": e.n_folds} for e in board.entries],
            }
            outputs.text(report_path, json.dumps(_finite_or_none(payload), indent=2) + "\n")
        if blends_dir is not None:
            for index, name in enumerate(train.names):
                write_blend(outputs, test, test.values[index], blends_dir / f"{name}.csv", sample_set)
            for method in methods:
                entry_fit = BY_NAME[method.name].fit
                blend = entry_fit(train.values, y, kind=train.kind, metric=chosen_metric, random_state=seed,
                                  **method.options).apply(test.values)
                write_blend(outputs, test, blend, blends_dir / f"{method.name}.csv", sample_set)
    say(f"wrote {out}" + "".join(f", {path}" for path in (plot, report_path, blends_dir) if path is not None))


def _finite_or_none(value):
    """JSON has no NaN: an undefined standard error is written as null."""
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(item) for item in value]
    return value


def main() -> None:
    """Entry point of the ``blend`` console script."""
    app(prog_name="blend")


if __name__ == "__main__":
    main()

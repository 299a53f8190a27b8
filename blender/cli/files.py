"""blend vote, average, rank-average, corr and check: the commands on prediction files alone
(and average --calibrate)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli import output
from blender.cli.common import (
    DEFAULT_GLOB,
    DEFAULT_OOF,
    DEFAULT_TRUTH,
    CalibrateOption,
    CorrMethod,
    Files,
    FoldsOption,
    IdColumn,
    Mean,
    MemoryOption,
    NoOofOption,
    OofDir,
    OofOutOption,
    OutPath,
    PositiveOption,
    SampleOption,
    SeedOption,
    TaskOption,
    TruthPath,
    WeightsOption,
    check_outputs,
    command,
    oof_path,
    output_path,
    read,
    read_learning,
    read_sample,
    refuse_kind,
    report_run,
    report_slice,
    resolve_folds,
    say,
    weight_option,
    weights_line,
    write_one,
    write_run,
)
from blender.cli.journal import log_entry, logged_write, note
from blender.errors import BlendInputError

# ---------------------------------------------------------------------------- commands on files alone


def _out_of_core(files, memory: str | None, sample: Path | None):
    """The paths and memory budget when the files should be blended out of core (the library decides), else None."""
    from blender import io
    from blender.outofcore import out_of_core_plan

    paths = io.resolve_paths(files, default=DEFAULT_GLOB) if sample is None else []
    budget = out_of_core_plan(paths, memory, sample=sample is not None)
    return None if budget is None else (paths, budget)


def _blend_out_of_core(plan, out: Path, *, method: str, task, id_column, weights: str | None, **options) -> None:
    from blender import io
    from blender.outofcore import blend_out_of_core

    paths, budget = plan
    weight_values = None if weights is None else weight_option(weights, len(paths))
    say(
        f"the {len(paths)} files would not fit a {budget / 2**20:,.0f} MiB memory budget: blending them out of core on "
        "DuckDB"
    )
    started = time.perf_counter()
    note(
        method=method,
        members=[io.model_name(path) for path in paths],
        weights=None if weight_values is None else dict(zip(map(io.model_name, paths), map(float, weight_values))),
    )
    with logged_write(out):
        result = blend_out_of_core(
            paths,
            out,
            method=method,
            kind=task.value if task else None,
            weights=weight_values,
            id_column=id_column,
            memory_limit=budget,
            progress=say,
            **options,
        )
    say(f"{method} of {len(paths)} files, {result.n_rows:,} rows, out of core ({time.perf_counter() - started:.1f} s)")
    output.emit(
        method=method,
        inputs=[io.model_name(path) for path in paths],
        out_of_core=True,
        weights=None if weight_values is None else dict(zip(map(io.model_name, paths), map(float, weight_values))),
    )
    output.add_output(out)


@command("vote")
def vote_command(
    files: Files = None,
    weights: WeightsOption = None,
    truth: Annotated[
        Optional[Path],
        typer.Option(
            "--truth",
            help="id,<target>: for binary probability files, votes "
            "are written as its two labels (e.g. No/Yes). [default: data/train_labels.csv where it exists]",
            show_default=False,
        ),
    ] = None,
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
    refuse_kind(
        predictions,
        ("regression",),
        "vote needs class labels or probabilities, and these look like regression "
        "values; use blend average (or --task binary if they are probabilities).",
    )
    labels = _binary_vote_labels(predictions, truth, positive, id_column)
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = weight_option(weights, predictions.n_models)
    say("votes: " + weights_line(predictions.names, weight_values))
    winners = np.argmax(Voted(weight_values, predictions.kind).apply(predictions.values), axis=1)
    result = votes_as_output(
        winners,
        kind=predictions.kind,
        classes=predictions.classes,
        n_cols=len(predictions.columns),
        binary_labels=labels,
    )
    note(method="vote", members=predictions.names, weights=dict(zip(predictions.names, map(float, weight_values))))
    with io.OutputGroup(log=log_entry(out)) as outputs:
        if sample_set is None:
            outputs.predictions(
                out, predictions.ids, result, columns=predictions.columns, id_column=predictions.id_column
            )
        else:
            outputs.predictions(
                out,
                sample_set.ids,
                sample_set.arrange(result),
                columns=sample_set.columns,
                id_column=sample_set.id_column,
            )
    say(f"wrote {out}")
    output.emit(
        method="vote", inputs=list(predictions.names), weights=dict(zip(predictions.names, map(float, weight_values)))
    )
    output.add_output(out)


def _binary_vote_labels(predictions, truth: Path | None, positive: str | None, id_column) -> list[str] | None:
    """The (negative, positive) labels binary votes are written as, from the truth; None keeps 0/1."""
    from blender import io
    from blender.validate import binary_target

    if predictions.kind != "binary":
        if positive is not None:
            raise BlendInputError(
                f"--positive {positive}: only binary probability files have a positive class; drop it."
            )
        return None
    path = truth if truth is not None else (DEFAULT_TRUTH if DEFAULT_TRUTH.is_file() else None)
    if path is None:
        if positive is not None:
            raise BlendInputError(
                f"--positive {positive} needs the truth's labels: pass --truth data/train_labels.csv."
            )
        return None
    try:
        target = binary_target(
            io.read_target(path, id_column=id_column),
            column=predictions.columns[0],
            positive=positive,
            truth_path=path,
            reference_path=predictions.paths[0],
        )
    except BlendInputError:
        if truth is not None or positive is not None:
            raise
        say(f"{path} does not hold a binary target for these files: votes are written as 0/1")
        return None
    if target.labels() == ["0", "1"]:
        return None
    say(
        f"votes written as {target.negative}/{target.positive} (from {path}; positive class {target.positive}: "
        f"{target.reason})"
    )
    return target.labels()


@command("average")
def average_command(
    files: Files = None,
    kind: Annotated[
        Mean, typer.Option("--kind", "-k", help="Which mean (logit: the mean of the log-odds).")
    ] = "arithmetic",
    power: Annotated[
        Optional[float], typer.Option("--power", "-p", help="Exponent for --kind power (2 squares, 0.5 roots).")
    ] = None,
    weights: WeightsOption = None,
    calibrate: CalibrateOption = False,
    memory: MemoryOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    folds: FoldsOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    oof_out: OofOutOption = None,
    no_oof_out: NoOofOption = False,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """The mean of the predictions, column by column: arithmetic, geometric, harmonic, power or logit.

    For class probabilities every mean but the arithmetic one is renormalised so rows sum to 1.
    With --calibrate, each file is first temperature-scaled on its OOF rows (--oof-dir, --truth),
    and the blend's own OOF predictions are written for a next level (--oof-out, cross-fitted on
    --folds).

    Example:

        blend average submissions/*.csv --kind geometric -o blends/geo.csv

        blend average submissions/*.csv --kind logit --calibrate

        blend average huge/*.parquet --memory 2GB -o blends/average.parquet
    """
    from blender.averaging import check_mean_inputs
    from blender.entries import configured, run_entry
    from blender.methods import fit

    kind = Mean(kind)
    out = output_path(out, "average")
    if kind.value != "power" and power is not None:
        raise BlendInputError(f"--power applies to --kind power only (got --kind {kind.value}); drop one of them.")
    if kind.value == "power" and power is None:
        raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
    if not calibrate and (folds is not None or oof_out is not None):
        raise BlendInputError(
            "--folds and --oof-out apply to average --calibrate, which learns from the OOF rows; "
            "add --calibrate or drop them."
        )
    oof = oof_path(oof_out, no_oof_out, out) if calibrate else None
    plan = None if calibrate else _out_of_core(files, memory, sample)
    if plan is not None:
        if kind.value == "logit":
            raise BlendInputError(
                "--kind logit is not available out of core; use --kind geometric, or a larger --memory."
            )
        return _blend_out_of_core(
            plan, out, method="average", task=task, id_column=id_column, weights=weights, mean=kind.value, power=power
        )
    if calibrate:
        learning = read_learning(
            files, oof_dir, truth, id_column, task, None, command_name="average --calibrate", positive=positive
        )
        predictions = learning.test
        refuse_kind(
            predictions,
            ("labels", "regression"),
            f"--calibrate scales probabilities, and these files hold {predictions.kind}; drop --calibrate.",
        )
    else:
        predictions = read(files, id_column, task)
    refuse_kind(
        predictions,
        ("labels",),
        "average needs probabilities or regression values, and this file holds class "
        "labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities).",
    )
    check_mean_inputs(predictions, mean=kind.value, power=power)
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = weight_option(weights, predictions.n_models)
    method = configured("average", calibrate=calibrate, mean=kind.value, power=power, weights=weight_values)
    label = f"power mean (p={power:g})" if kind.value == "power" else f"{kind.value} mean"
    say(f"{label} of {predictions.n_models} files, weights " + weights_line(predictions.names, weight_values))
    if calibrate:
        fold_plan = resolve_folds(folds, None, learning, truth=truth, seed=seed)
        run = run_entry(
            method, learning.train, learning.y, predictions, metric=learning.metric, folds=fold_plan, random_state=seed
        )
        report_run(run, label, predictions.names, learning.metric, show_weights=False)
        report_slice(run.slice, label, learning.metric)
        write_run(learning, run, out, sample_set, oof=oof)
        return
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    write_one(predictions, blended, out, sample_set, method=method.name, weights=weight_values)


@command("rank-average")
def rank_average_command(
    files: Files = None,
    weights: WeightsOption = None,
    history: Annotated[
        Optional[Path],
        typer.Option(
            "--history",
            help="Earlier predictions to rank against (historical rank): one file used for every "
            "file, or a folder holding NAME.csv for each file NAME.",
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
    refuse_kind(
        predictions,
        ("labels",),
        "rank-average needs probabilities or regression values, and this file holds class "
        "labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities).",
    )
    sample_set = read_sample(sample, predictions, id_column)
    weight_values = weight_option(weights, predictions.n_models)
    if history is None:
        result = Ranked(weight_values).apply(predictions.values)
        say("rank average, weights " + weights_line(predictions.names, weight_values))
    else:
        earlier = io.read_history(history, like=predictions, id_column=id_column)
        result = historical_rank_average(predictions.values, earlier, weights=weight_values)
        say(f"historical rank average against {history} ({earlier.shape[1]:,} earlier rows)")
    write_one(predictions, result, out, sample_set, method="rank-average", weights=weight_values)


@command("corr")
def corr_command(
    files: Files = None,
    method: Annotated[
        CorrMethod, typer.Option("--method", "-m", help="Correlation of values, ranks or pair concordance.")
    ] = "pearson",
    plot: Annotated[
        Optional[Path], typer.Option("--plot", help="Also draw the matrix as a heatmap (PNG, PDF or SVG).")
    ] = None,
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
    report.show_table(["", *names], rows, stream=output.table_stream())
    output.emit(
        method=CorrMethod(method).value if predictions.kind != "labels" else "agreement",
        inputs=list(names),
        matrix=[[float(value) for value in row] for row in matrix],
    )
    pair = most_alike(matrix)
    if pair is not None:
        say(f"{title}; most alike: {names[pair[0]]} and {names[pair[1]]} ({matrix[pair]:.4f})")
    elif len(names) > 1:
        say(f"{title}; no pair has a defined correlation (is a file constant?)")
    note(method="corr", members=names)
    with io.OutputGroup(log=log_entry(out or plot)) as outputs:
        if out is not None:
            outputs.table(out, ["model", *names], rows)
        if plot is not None:
            outputs.figure(plot, report.heatmap(matrix, names, title))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")
            output.add_output(path)


@command("check", logs=False)
def check_command(
    sample: Annotated[Path, typer.Argument(help="The competition's sample_submission.csv.", show_default=False)],
    file: Annotated[
        Path, typer.Argument(help="The submission to check (.csv, .csv.gz or .parquet).", show_default=False)
    ],
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
    output.emit(file=str(file), sample=str(sample), rows=predictions.n_samples, matches=True, notes=notes)
    say(
        f"{file} matches {sample}: {predictions.n_samples:,} ids, header {predictions.id_column},"
        f"{','.join(predictions.columns)}" + "".join(f"; {note}" for note in notes)
    )

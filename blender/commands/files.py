"""The commands on prediction files alone: vote, average (and ``average --calibrate``), rank-average, corr and
check, out of core where the files would not fit in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from blender import journal, results
from blender.errors import BlendInputError
from blender.session import (
    DEFAULT_GLOB,
    DEFAULT_TRUTH,
    Shared,
    check_outputs,
    metric_of,
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
    task_name,
    weight_option,
    weights_line,
    write_one,
    write_run,
)

if TYPE_CHECKING:
    from blender.correlation import CorrelationMethod
    from blender.io.predictions import Predictions


def out_of_core_paths(
    files: list[str] | None, memory: str | None, sample: Path | None
) -> tuple[list[Path], int] | None:
    """The paths and memory budget when the files should be blended out of core (the library decides), else None."""
    from blender import io
    from blender.outofcore import out_of_core_plan

    paths = io.resolve_paths(files, default=DEFAULT_GLOB) if sample is None else []
    budget = out_of_core_plan(paths, memory, sample=sample is not None)
    return None if budget is None else (paths, budget)


def blend_out_of_core(
    plan: tuple[list[Path], int],
    out: Path,
    *,
    method: str,
    task: object,
    id_column: str | None,
    weights: str | None,
    **options: Any,
) -> None:
    from blender import io
    from blender.outofcore import blend_out_of_core as run_out_of_core

    paths, budget = plan
    weight_values = None if weights is None else weight_option(weights, len(paths))
    say(
        f"the {len(paths)} files would not fit a {budget / 2**20:,.0f} MiB memory budget: blending them out of core on "
        "DuckDB"
    )
    started = time.perf_counter()
    journal.note(
        method=method,
        members=[io.model_name(path) for path in paths],
        weights=None if weight_values is None else dict(zip(map(io.model_name, paths), map(float, weight_values))),
    )
    with journal.logged_write(out):
        result = run_out_of_core(
            paths,
            out,
            method=method,
            kind=task_name(task),
            weights=None if weight_values is None else [float(w) for w in weight_values],
            id_column=id_column,
            memory_limit=budget,
            progress=say,
            **options,
        )
    say(f"{method} of {len(paths)} files, {result.n_rows:,} rows, out of core ({time.perf_counter() - started:.1f} s)")
    results.emit(
        method=method,
        inputs=[io.model_name(path) for path in paths],
        out_of_core=True,
        weights=None if weight_values is None else dict(zip(map(io.model_name, paths), map(float, weight_values))),
    )
    results.add_output(out)


def vote(
    files: list[str] | None,
    *,
    weights: str | None = None,
    truth: Path | None = None,
    positive: str | None = None,
    memory: str | None = None,
    sample: Path | None = None,
    out: Path | None = None,
    id_column: str | None = None,
    task: object = None,
) -> None:
    """``blend vote``: the (weighted) majority vote of the files, probabilities voting by argmax / 0.5."""
    import numpy as np

    from blender import io
    from blender.methods import Voted
    from blender.voting import votes_as_output

    out = output_path(out, "vote")
    plan = out_of_core_paths(files, memory, sample)
    if plan is not None:
        return blend_out_of_core(plan, out, method="vote", task=task, id_column=id_column, weights=weights)
    predictions = read(files, id_column, task)
    refuse_kind(
        predictions,
        ("regression",),
        "vote needs class labels or probabilities, and these look like regression "
        "values; use blend average (or --task binary if they are probabilities).",
    )
    labels = binary_vote_labels(predictions, truth, positive, id_column)
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
    journal.note(
        method="vote", members=predictions.names, weights=dict(zip(predictions.names, map(float, weight_values)))
    )
    with io.OutputGroup(log=journal.log_entry(out)) as outputs:
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
    results.emit(
        method="vote", inputs=list(predictions.names), weights=dict(zip(predictions.names, map(float, weight_values)))
    )
    results.add_output(out)


def binary_vote_labels(
    predictions: Predictions, truth: Path | None, positive: str | None, id_column: str | None
) -> list[str] | None:
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


def average(
    files: list[str] | None,
    *,
    mean: str = "arithmetic",
    power: float | None = None,
    weights: str | None = None,
    calibrate: bool = False,
    memory: str | None = None,
    shared: Shared = Shared(),
) -> None:
    """``blend average``: a mean of the files, or with ``calibrate`` of the files temperature-scaled on their OOF
    rows (a learning run, reading ``shared.oof_dir`` and ``shared.truth``)."""
    from blender.averaging import check_mean_inputs
    from blender.entries import configured, run_entry
    from blender.methods import fit

    out = output_path(shared.out, "average")
    if not calibrate and (shared.folds is not None or shared.oof_out is not None):
        raise BlendInputError(
            "--folds and --oof-out apply to average --calibrate, which learns from the OOF rows; "
            "add --calibrate or drop them."
        )
    oof = oof_path(shared.oof_out, shared.no_oof_out, out) if calibrate else None
    plan = None if calibrate else out_of_core_paths(files, memory, shared.sample)
    if plan is not None:
        if mean == "logit":
            raise BlendInputError(
                "--kind logit is not available out of core; use --kind geometric, or a larger --memory."
            )
        return blend_out_of_core(
            plan,
            out,
            method="average",
            task=shared.task,
            id_column=shared.id_column,
            weights=weights,
            mean=mean,
            power=power,
        )
    if calibrate:
        learning = read_learning(
            files,
            shared.oof_dir,
            shared.truth,
            shared.id_column,
            shared.task,
            None,
            command_name="average --calibrate",
            positive=shared.positive,
        )
        predictions = learning.test
        refuse_kind(
            predictions,
            ("labels", "regression"),
            f"--calibrate scales probabilities, and these files hold {predictions.kind}; drop --calibrate.",
        )
    else:
        predictions = read(files, shared.id_column, shared.task)
    refuse_kind(
        predictions,
        ("labels",),
        "average needs probabilities or regression values, and this file holds class "
        "labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities).",
    )
    check_mean_inputs(predictions, mean=mean, power=power)
    sample_set = read_sample(shared.sample, predictions, shared.id_column)
    weight_values = weight_option(weights, predictions.n_models)
    method = configured("average", calibrate=calibrate, mean=mean, power=power, weights=weight_values)
    label = f"power mean (p={power:g})" if mean == "power" else f"{mean} mean"
    say(f"{label} of {predictions.n_models} files, weights " + weights_line(predictions.names, weight_values))
    if calibrate:
        fold_plan = resolve_folds(shared.folds, None, learning, truth=shared.truth, seed=shared.seed)
        run = run_entry(
            method,
            learning.train,
            learning.y,
            predictions,
            metric=metric_of(learning),
            folds=fold_plan,
            random_state=shared.seed,
        )
        report_run(run, label, predictions.names, learning.metric, show_weights=False)
        report_slice(run.slice, label, learning.metric)
        write_run(learning, run, out, sample_set, oof=oof)
        return None
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    write_one(predictions, blended, out, sample_set, method=method.name, weights=weight_values)
    return None


def rank_average(
    files: list[str] | None,
    *,
    weights: str | None = None,
    history: Path | None = None,
    memory: str | None = None,
    sample: Path | None = None,
    out: Path | None = None,
    id_column: str | None = None,
    task: object = None,
) -> None:
    """``blend rank-average``: the (weighted) rank average, or the historical one against ``history``."""
    from blender import io
    from blender.methods import Ranked
    from blender.rank import historical_rank_average

    out = output_path(out, "rank-average")
    plan = None if history is not None else out_of_core_paths(files, memory, sample)
    if plan is not None:
        return blend_out_of_core(plan, out, method="rank-average", task=task, id_column=id_column, weights=weights)
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


def corr(
    files: list[str] | None,
    *,
    method: str = "pearson",
    plot: Path | None = None,
    out: Path | None = None,
    id_column: str | None = None,
    task: object = None,
) -> None:
    """``blend corr``: the correlation matrix of the files as a table, its most alike pair, the CSV and heatmap."""
    from blender import io, report
    from blender.correlation import correlation_matrix, label_agreement, most_alike

    check_outputs(out=out, plot=plot)
    predictions = read(files, id_column, task)
    if predictions.kind == "labels":
        matrix, title = label_agreement(predictions.values), "share of rows with the same label"
    else:
        matrix = correlation_matrix(predictions.values, method=cast("CorrelationMethod", method))
        title = f"{method} correlation"
    names = predictions.names
    rows = [[name, *map(float, row)] for name, row in zip(names, matrix)]
    report.show_table(["", *names], rows, stream=results.table_stream())
    results.emit(
        method=method if predictions.kind != "labels" else "agreement",
        inputs=list(names),
        matrix=[[float(value) for value in row] for row in matrix],
    )
    pair = most_alike(matrix)
    if pair is not None:
        say(f"{title}; most alike: {names[pair[0]]} and {names[pair[1]]} ({matrix[pair]:.4f})")
    elif len(names) > 1:
        say(f"{title}; no pair has a defined correlation (is a file constant?)")
    journal.note(method="corr", members=names)
    with io.OutputGroup(log=journal.log_entry(out or plot)) as outputs:
        if out is not None:
            outputs.table(out, ["model", *names], rows)
        if plot is not None:
            outputs.figure(plot, report.heatmap(matrix, names, title))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")
            results.add_output(path)


def check(sample: Path, file: Path, *, id_column: str | None = None, task: object = None) -> None:
    """``blend check``: a submission against the competition's sample file, in one line."""
    from blender.validate import check_against_sample

    predictions = read([str(file)], id_column, task)
    expected = read_sample(sample, predictions, id_column)
    assert expected is not None  # read_sample gives None only for no path
    notes = check_against_sample(expected, predictions)
    results.emit(file=str(file), sample=str(sample), rows=predictions.n_samples, matches=True, notes=notes)
    say(
        f"{file} matches {sample}: {predictions.n_samples:,} ids, header {predictions.id_column},"
        f"{','.join(predictions.columns)}" + "".join(f"; {note}" for note in notes)
    )


def plain(
    name: str,
    files: list[str] | None,
    *,
    sample: Path | None = None,
    out: Path | None = None,
    id_column: str | None = None,
    task: object = None,
) -> None:
    """A registry entry that does not learn, applied to the files."""
    from blender.entries import configured
    from blender.methods import fit

    out = output_path(out, name)
    predictions = read(files, id_column, task)
    method = configured(name)
    if predictions.kind not in method.command_kinds:
        raise BlendInputError(
            f"{predictions.paths[0]}: {name} takes {', '.join(method.command_kinds)} files, and these hold "
            f"{predictions.kind}."
        )
    sample_set = read_sample(sample, predictions, id_column)
    say(f"{method.summary} of {predictions.n_models} files")
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    write_one(predictions, blended, out, sample_set, method=name)


#: The commands of the registry's entries that do not learn, by name; any other such entry runs as :func:`plain`.
RUNS: dict[str, Callable[..., None]] = {"vote": vote, "average": average, "rank-average": rank_average}

"""The commands that learn from OOF rows: every learning registry entry (select, caruana, hill-climb, weights, a
method of one's own), stack and holdout, and score and auto.

Each reads the learning set, runs its registry entry through :func:`blender.entries.run_entry`
(or ``blend auto``'s :func:`blender.picking.run_auto`), reports it and writes its outputs as one unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blender import journal, results
from blender.errors import BlendInputError
from blender.picking import THRESHOLD
from blender.session import (
    Shared,
    check_outputs,
    metric_of,
    read_learning,
    read_sample,
    refuse_kind,
    report_run,
    report_slice,
    resolve_folds,
    say,
    step_line,
    write_blend,
    write_run,
    write_submission,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from blender.entries import Run
    from blender.io.predictions import LearningSet
    from blender.picking import AutoResult


def learn(
    name: str | Callable[[str], str],
    files: list[str] | None,
    shared: Shared,
    *,
    command_name: str | None = None,
    calibrate: bool = False,
    features: str | None = None,
    label: str | None = None,
    role: str = "OOF",
    entry_name: str | None = None,
    show_weights: bool = True,
    **options: Any,
) -> tuple[Any, Run, Any]:
    """Read, run the registry entry ``name`` with ``options`` on the folds, report it; return (learning, run, sample).

    ``name`` may be a function of the files' kind (the stacking entry named after what it fits on that kind).

    ``shared.cv`` (``--cv K``) and ``shared.folds`` (``--folds FILE|K``) choose the folds
    (:func:`blender.session.resolve_folds`); a holdout set (``role="holdout"``, read from
    ``shared.oof_dir``) never takes the training rows' folds file by default.
    """
    from blender.entries import configured, run_entry
    from blender.methods import BY_NAME

    holdout = role == "holdout"
    command_name = command_name or str(name)
    learning = read_learning(
        files,
        shared.oof_dir,
        shared.truth,
        shared.id_column,
        shared.task,
        shared.metric,
        command_name=command_name,
        positive=shared.positive,
        role=role,
        make_target="make holdout" if holdout else "make oof",
        dir_option="--holdout-dir" if holdout else "--oof-dir",
        greater_is_better=shared.greater_is_better,
        classes=shared.classes,
        post=not shared.no_post,
    )
    if callable(name):
        name = name(learning.test.kind)
    entry = BY_NAME[name]
    if learning.test.kind not in entry.kinds:
        # The registry says which kinds an entry takes: the command refuses exactly those it does not.
        refuse_kind(
            learning.test,
            (learning.test.kind,),
            f"{command_name} takes {' or '.join(entry.kinds)} files, and these hold {learning.test.kind}.",
        )
    if calibrate:
        refuse_kind(
            learning.test,
            ("labels", "regression"),
            f"--calibrate scales probabilities, and these files hold {learning.test.kind}; drop --calibrate.",
        )
    if options.get("logit") and learning.train.kind not in ("binary", "multiclass"):
        raise BlendInputError(f"--logit needs probabilities, and these files hold {learning.train.kind}; drop --logit.")
    sample_set = read_sample(shared.sample, learning.test, shared.id_column, learning)
    fold_plan = resolve_folds(
        shared.folds, shared.cv, learning, truth=shared.truth, seed=shared.seed, default_file=not holdout
    )
    say_plugin_calls(learning, [name], fold_plan, options)
    method = configured(name, calibrate=calibrate, as_name=entry_name, **options)
    run = run_entry(
        method,
        learning.train,
        learning.y,
        learning.test,
        metric=metric_of(learning),
        folds=fold_plan,
        random_state=shared.seed,
        features=None if features is None else read_features(learning, features, shared.id_column),
    )
    report_run(run, label or method.name, learning.train.names, learning.metric, show_weights=show_weights)
    report_slice(run.slice, label or method.name, learning.metric)
    return learning, run, sample_set


def say_plugin_calls(
    learning: LearningSet,
    method_names: list[str] | None,
    folds: int | NDArray,
    options: dict,
    *,
    repeats: int = 1,
    nested: bool = False,
) -> None:
    """For the user's own metric, about how many times the command will call it (a built-in says nothing)."""
    from blender import plugin
    from blender.evaluation import fold_count

    if not plugin.is_plugin(learning.metric):
        return
    counts = [
        plugin.call_estimate(
            method_names or [],
            n_models=learning.train.n_models,
            folds=fold_count(folds),
            repeats=repeats,
            nested=nested,
            options=options,
            fewest=fewest,
        )
        for fewest in (True, False)
    ]
    span = f"{counts[0]:,}" if counts[0] == counts[1] else f"{counts[0]:,} to {counts[1]:,}"
    say(
        f"--metric {learning.metric}: your function will be called about {span} times"
        f"{' (the leaderboard, the nested estimate and the final fit)' if nested else ''}; a built-in metric is "
        "scored many candidates at a time and is much faster"
    )


def read_features(learning: LearningSet, features: str, id_column: str | None) -> tuple[NDArray, NDArray]:
    from blender import io

    parts = [part for part in features.split(",") if part]
    if len(parts) != 2:
        raise BlendInputError(
            f"--features {features}: give two files, TRAIN.csv,TEST.csv, for the OOF and the test rows."
        )
    train_features, test_features, names = io.read_features(
        Path(parts[0]), Path(parts[1]), learning.train.ids, learning.test.ids, id_column=id_column
    )
    say(f"features: {len(names)} columns from {parts[0]} and {parts[1]}")
    return train_features, test_features


def budget_seconds(time_budget: str | None) -> float | None:
    """The budget in seconds, or None; a bad duration is one ``Error:`` line before anything is read."""
    from blender.timing import parse_duration

    return None if time_budget is None else parse_duration(time_budget)


def score(
    files: list[str] | None,
    *,
    repeats: int = 1,
    models_only: bool = False,
    plot: Path | None = None,
    time_budget: str | None = None,
    verbose: bool = False,
    shared: Shared = Shared(),
) -> None:
    """``blend score``: every file and every blend method scored honestly on the same folds, as a leaderboard."""
    from blender import io, plan, report
    from blender.methods import methods_for

    metric, greater_is_better, classes = shared.metric, shared.greater_is_better, shared.classes
    cv, folds, oof_dir, truth, positive = shared.cv, shared.folds, shared.oof_dir, shared.truth, shared.positive
    seed, out, id_column, task = shared.seed, shared.out, shared.id_column, shared.task

    check_outputs(out=out, plot=plot)
    budget = budget_seconds(time_budget)
    if repeats < 1:
        raise BlendInputError(f"--repeats {repeats}: give 1 or more.")
    learning = read_learning(
        files,
        oof_dir,
        truth,
        id_column,
        task,
        metric,
        command_name="score",
        positive=positive,
        greater_is_better=greater_is_better,
        classes=classes,
    )
    fold_plan = resolve_folds(folds, cv, learning, truth=truth, seed=seed, repeats=repeats)
    say_plugin_calls(
        learning,
        None if models_only else [m.name for m in methods_for(learning.train.kind, metric_of(learning))],
        fold_plan,
        {},
        repeats=repeats,
    )
    started = time.perf_counter()
    train = learning.train
    methods = [] if models_only else methods_for(train.kind, metric_of(learning))
    if budget is None:  # under a budget, the plan says what it will score
        say(f"scoring {train.n_models} files and {len(methods)} blend methods on the folds over the OOF rows ...")
    board, _, _ = plan.score_within(
        train,
        learning.y,
        metric=metric_of(learning),
        folds=fold_plan,
        repeats=repeats,
        random_state=seed,
        methods=methods,
        budget=budget,
        started=started,
        progress=say,
    )
    report.show_table(*report.leaderboard_rows(board), stream=results.table_stream())
    for line in plan.board_passes_lines(board) if verbose else []:
        say(line)
    single = board.entry(board.best_single)
    results.emit(
        metric=str(learning.metric),
        inputs=list(train.names),
        best_single={"name": single.name, "mean": single.mean, "se": single.se},
        folds=board.folds,
        repeats=board.repeats,
        leaderboard=report.leaderboard_document(board),
    )
    say(
        f"scored in {time.perf_counter() - started:.1f} s; every entry on the same {board.repeats}x{board.folds} "
        "folds, blends fitted without the fold they score; ± is the standard error (Nadeau-Bengio corrected)"
    )
    journal.note(method="score", members=train.names, metric=learning.metric)
    with io.OutputGroup(log=journal.log_entry(out or plot)) as outputs:
        if out is not None:
            outputs.leaderboard(out, board.entries)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")
            results.add_output(path)
    if budget is not None:
        say(plan.budget_line(budget, time.perf_counter() - started))


def stack(
    files: list[str] | None,
    *,
    meta: str = "logreg",
    features: str | None = None,
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    role: str = "OOF",
    shared: Shared = Shared(),
) -> Run:
    """``blend stack`` (``role="OOF"``) and ``blend holdout`` (``role="holdout"``, fitted on the holdout rows):
    the stacking entry named after what ``meta`` fits on the files' kind, run like every entry."""
    from blender.stacking import stack_entry

    command_name = "holdout" if role == "holdout" else "stack"
    out, oof = shared.outputs(command_name)
    extras = [
        label
        for label, on in (("features", features), ("fwls", fwls), ("quadratic", quadratic), ("logit", logit))
        if on
    ]
    learning, run, sample_set = learn(
        lambda kind: stack_entry("logreg", kind),  # --meta logreg's entry; another meta-learner runs under its name
        files,
        shared,
        command_name=command_name,
        entry_name=None if meta == "logreg" else stack_entry(meta, "any"),
        show_weights=False,
        features=features,
        role=role,
        meta=meta,
        fwls=fwls,
        quadratic=quadratic,
        logit=logit,
        label=f"stack {meta}" + (" + " + ", ".join(extras) if extras else ""),
    )
    say(f"meta {meta} fitted on {learning.train.n_samples:,} {role} rows ({run.seconds:.1f} s)")
    write_run(learning, run, out, sample_set, oof=oof)
    return run


def auto(
    files: list[str] | None,
    *,
    repeats: int | None = None,
    max_level: int = 2,
    plot: Path | None = None,
    report_path: Path | None = None,
    blends_dir: Path | None = None,
    threshold: float = THRESHOLD,
    time_budget: str | None = None,
    verbose: bool = False,
    shared: Shared = Shared(),
) -> AutoResult:
    """``blend auto``: the honest leaderboard, the pick, its nested estimate, and the pick's test blend written."""
    import json

    from blender import io, picking, plan, report
    from blender.report import finite_or_none

    out, oof = shared.outputs("auto", plot=plot, report=report_path)
    budget = budget_seconds(time_budget)
    if blends_dir is not None and blends_dir.exists() and not blends_dir.is_dir():
        raise BlendInputError(f"--blends-dir {blends_dir} is a file; name a folder.")
    if repeats is not None and repeats < 1:
        raise BlendInputError(f"--repeats {repeats}: give 1 or more.")
    if max_level not in (1, 2):
        raise BlendInputError(f"--max-level {max_level}: give 1 or 2.")
    if not threshold >= 0:
        raise BlendInputError(f"--threshold {threshold:g}: give 0 or more standard errors.")
    seed = shared.seed
    learning = read_learning(
        files,
        shared.oof_dir,
        shared.truth,
        shared.id_column,
        shared.task,
        shared.metric,
        command_name="auto",
        positive=shared.positive,
        greater_is_better=shared.greater_is_better,
        classes=shared.classes,
        post=not shared.no_post,
    )
    sample_set = read_sample(shared.sample, learning.test, shared.id_column, learning)
    fold_plan = resolve_folds(shared.folds, shared.cv, learning, truth=shared.truth, seed=seed, repeats=repeats or 1)
    from blender.methods import methods_for

    say_plugin_calls(
        learning,
        [m.name for m in methods_for(learning.train.kind, metric_of(learning), max_level=max_level)],
        fold_plan,
        {},
        repeats=repeats or 1,
        nested=True,
    )
    started = time.perf_counter()
    result, budget_plan, _ = plan.run_auto_within(
        learning.train,
        learning.y,
        learning.test,
        metric=metric_of(learning),
        folds=fold_plan,
        repeats=repeats,
        random_state=seed,
        threshold=threshold,
        blends=blends_dir is not None,
        max_level=max_level,
        budget=budget,
        started=started,
        progress=say,
    )
    board, pick, estimate = result.board, result.pick, result.estimate
    report.show_table(*report.leaderboard_rows(board, pick=result.picked), stream=results.table_stream())
    say(f"pick: {pick.name} ({pick.type}) because {pick.reason}")
    step_line(result.step, result.in_sample, result.plain_in_sample, "the pick's", learning.metric)
    say(f"levels: {result.level_reason}")
    passes = plan.board_passes_lines(board, outer_folds=len(estimate.picks), levels=len(result.estimates))
    for line in passes if verbose else []:
        say(line)
    say(
        f"estimated {learning.metric} of the pick (nested CV over {estimate.folds} outer folds, never scored on rows "
        f"used to choose it): {estimate.mean:.6f} ± {estimate.se:.6f}; picking the best single file the same way: "
        f"{estimate.best_single_mean:.6f}; best single file {board.best_single} on all OOF rows: "
        f"{board.best_single_oof:.6f}"
    )
    caution = picking.procedure_caution(estimate, metric=metric_of(learning), pick_type=pick.type)
    if caution is not None:
        say(caution)
    report_slice(result.slice, "auto", learning.metric)
    say(f"outer folds picked: {', '.join(estimate.picks)} ({time.perf_counter() - started:.1f} s in all)")
    if budget_plan is not None and not budget_plan.fits:
        say(f"the time budget is too small to score any blend: writing {pick.name}'s own test predictions")
    elif pick.type == "model":
        say(f"no blend beats {pick.name} beyond noise: writing {pick.name}'s own test predictions")
    journal.note_auto(learning, result)
    from blender.api import from_auto

    written = [str(path) for path in (out, oof, plot, report_path, blends_dir) if path is not None]
    # --report holds what --json prints (one schema for every command's result), less the paths it was written to.
    document = {"command": "auto", **from_auto(learning, result).to_dict()}
    with io.OutputGroup(log=journal.log_entry(out)) as outputs:
        write_submission(outputs, learning, result.test_blend, out, sample_set, result.step)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board, pick=result.picked, estimate=estimate))
        if report_path is not None:
            outputs.text(report_path, json.dumps(finite_or_none(document), indent=2, default=str) + "\n")
        for name, blend in result.blends.items():
            write_blend(outputs, learning.test, blend, Path(str(blends_dir)) / f"{name}.csv", sample_set)
        if oof is not None:
            assert estimate.oof is not None  # the nested estimate keeps its outer predictions
            write_blend(outputs, learning.train, estimate.oof, oof)
    say(f"wrote {out}" + "".join(f", {path}" for path in (oof, plot, report_path, blends_dir) if path is not None))
    if budget is not None:
        say(plan.budget_line(budget, time.perf_counter() - started))
    results.emit(**{key: value for key, value in document.items() if key != "command"})
    for path in written:
        results.add_output(path)
    return result


def learned(
    name: str,
    files: list[str] | None,
    *,
    calibrate: bool = False,
    weights_out: Path | None = None,
    plot: Path | None = None,
    shared: Shared = Shared(),
    **options: Any,
) -> Run:
    """A registry entry fitted on the OOF rows with its ``options``, applied to the test rows, reported and written."""
    from blender.methods import BY_NAME, check_options

    entry = BY_NAME[name]
    check_options(entry, options)
    out, oof = shared.outputs(name, weights_out=weights_out, plot=plot)
    learning, run, sample_set = learn(
        name,
        files,
        shared,
        calibrate=calibrate,
        label=entry.label,
        show_weights=entry.weighs or entry.lines is None,
        **options,
    )
    for line in entry.lines(run, learning.train.names, learning.metric) if entry.lines is not None else ():
        say(line)
    draw = entry.chart
    chart = None if draw is None else (lambda: draw(run, learning.metric))
    write_run(learning, run, out, sample_set, oof=oof, weights_out=weights_out, plot=plot, chart=chart)
    return run

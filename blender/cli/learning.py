"""The commands that learn from OOF rows: score, select, caruana, hill-climb, weights, stack, holdout and auto.

Each reads the learning set, runs its registry entry through :func:`blender.entries.run_entry`
(or ``blend auto``'s :func:`blender.picking.run_auto`), reports it and writes its outputs as one unit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli import output
from blender.cli.common import (
    DEFAULT_OOF,
    DEFAULT_TRUTH,
    ClassesOption,
    CvOption,
    DirectionOption,
    FeaturesOption,
    Files,
    FoldsOption,
    FwlsOption,
    IdColumn,
    LogitOption,
    Meta,
    MetaOption,
    MetricOption,
    NoPostOption,
    OofDir,
    OutPath,
    PositiveOption,
    QuadraticOption,
    SampleOption,
    SeedOption,
    Shared,
    TaskOption,
    TruthPath,
    check_outputs,
    command,
    learning_options,
    output_path,
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
from blender.cli.journal import log_entry, note, note_auto
from blender.errors import BlendInputError
from blender.picking import THRESHOLD

# ---------------------------------------------------------------------------- learning from OOF rows


def learn(
    name: str,
    files,
    shared: Shared,
    *,
    calibrate: bool = False,
    features: str | None = None,
    label: str | None = None,
    role: str = "OOF",
    entry_name: str | None = None,
    show_weights: bool = True,
    **options,
):
    """Read, run the registry entry ``name`` with ``options`` on the folds, report it; return (learning, run, sample).

    ``shared.cv`` (``--cv K``) and ``shared.folds`` (``--folds FILE|K``) choose the folds
    (:func:`blender.cli.common.resolve_folds`); a holdout set (``role="holdout"``, read from
    ``shared.oof_dir``) never takes the training rows' folds file by default.
    """
    from blender.entries import configured, run_entry
    from blender.methods import BY_NAME

    holdout = role == "holdout"
    command_name = "holdout" if holdout else "stack" if name.startswith("stack-") else name
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
        metric=learning.metric,
        folds=fold_plan,
        random_state=shared.seed,
        features=None if features is None else _features(learning, features, shared.id_column),
    )
    report_run(run, label or method.name, learning.train.names, learning.metric, show_weights=show_weights)
    report_slice(run.slice, label or method.name, learning.metric)
    return learning, run, sample_set


def say_plugin_calls(learning, method_names, folds, options: dict, *, repeats: int = 1, nested: bool = False) -> None:
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


def _features(learning, features: str, id_column):
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


#: ``--time-budget`` of ``blend score`` and ``blend auto`` (:mod:`blender.plan`).
TimeBudgetOption = Annotated[
    Optional[str],
    typer.Option(
        "--time-budget",
        metavar="DURATION",
        help="Fit the run to this much time after reading, e.g. 5m, "
        "90s or 1h30m: every blend method is timed on one fold first, and those that would overrun are left "
        "out (the output says which and why). [default: no limit]",
        show_default=False,
    ),
]


def _budget(time_budget: str | None) -> float | None:
    """The budget in seconds, or None; a bad duration is one ``Error:`` line before anything is read."""
    from blender.timing import parse_duration

    return None if time_budget is None else parse_duration(time_budget)


@command("score")
def score_command(
    files: Files = None,
    metric: MetricOption = None,
    greater_is_better: DirectionOption = None,
    classes: ClassesOption = None,
    cv: CvOption = None,
    folds: FoldsOption = None,
    repeats: Annotated[
        int, typer.Option("--repeats", help="Repeat seeded CV with other fold seeds; shows mean ± standard error.")
    ] = 1,
    models_only: Annotated[
        bool, typer.Option("--models-only", help="Score the files only, not the blend methods.")
    ] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the leaderboard as a bar chart (PNG).")] = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the leaderboard as CSV.")] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
    time_budget: TimeBudgetOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print each entry's passes over the OOF values.")
    ] = False,
) -> None:
    """A leaderboard of every file and every blend method, scored honestly, best first.

    Every entry is scored on the same folds of the OOF rows: a blend method is fitted on K-1
    folds and scores the held-out one; a file just scores it. Fold scores are averaged
    (--repeats R repeats with other seeds) and shown with their standard error, the gain over
    the best single file, and the folds in which the entry beats it.

    Example:

        blend score submissions/*.csv --metric logloss --repeats 3 --plot blends/leaderboard.png

        blend score submissions/*.csv --time-budget 2m
    """
    from blender import io, plan, report
    from blender.methods import methods_for

    check_outputs(out=out, plot=plot)
    budget = _budget(time_budget)
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
        None if models_only else [m.name for m in methods_for(learning.train.kind, learning.metric)],
        fold_plan,
        {},
        repeats=repeats,
    )
    started = time.perf_counter()
    train = learning.train
    methods = [] if models_only else methods_for(train.kind, learning.metric)
    if budget is None:  # under a budget, the plan says what it will score
        say(f"scoring {train.n_models} files and {len(methods)} blend methods on the folds over the OOF rows ...")
    board, _, _ = plan.score_within(
        train,
        learning.y,
        metric=learning.metric,
        folds=fold_plan,
        repeats=repeats,
        random_state=seed,
        methods=methods,
        budget=budget,
        started=started,
        progress=say,
    )
    report.show_table(*report.leaderboard_rows(board), stream=output.table_stream())
    for line in plan.board_passes_lines(board) if verbose else []:
        say(line)
    single = board.entry(board.best_single)
    output.emit(
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
    note(method="score", members=train.names, metric=learning.metric)
    with io.OutputGroup(log=log_entry(out or plot)) as outputs:
        if out is not None:
            outputs.leaderboard(out, board.entries)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board))
    for path in (out, plot):
        if path is not None:
            say(f"wrote {path}")
            output.add_output(path)
    if budget is not None:
        say(plan.budget_line(budget, time.perf_counter() - started))


@command("stack")
@learning_options(without=("cv",))
def stack_command(
    files: Files = None,
    meta: MetaOption = "logreg",
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    *,
    shared: Shared,
) -> None:
    """Stacking: a meta-learner fitted on the OOF predictions (optionally with the original
    features, FWLS or pairwise products) predicts the test rows; prints its honest CV score
    (the stack-* entries of blend score), with every transform fitted inside each fold.

    Example:

        blend stack submissions/*.csv --meta logreg --folds 5

        blend stack submissions/*.csv --meta xgb --features data/train.csv,data/test.csv
    """
    out, oof = shared.outputs("stack")
    learning, run, sample_set = _stack(files, shared, meta, features, fwls, quadratic, logit, role="OOF")
    write_run(learning, run, out, sample_set, oof=oof)


def _stack(files, shared: Shared, meta, features, fwls, quadratic, logit, *, role: str):
    meta = Meta(meta).value
    extras = [
        label
        for label, on in (("features", features), ("fwls", fwls), ("quadratic", quadratic), ("logit", logit))
        if on
    ]
    learning, run, sample_set = learn(
        "stack-logreg",
        files,
        shared,
        entry_name=f"stack-{meta}",
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
    return learning, run, sample_set


@command("holdout")
def holdout_command(
    files: Files = None,
    meta: MetaOption = "logreg",
    holdout_dir: Annotated[
        Path, typer.Option("--holdout-dir", help="Folder of the holdout predictions, one NAME.csv per submission.")
    ] = Path("submissions/holdout"),
    folds: Annotated[
        Optional[str],
        typer.Option(
            "--folds",
            help="Folds over the holdout rows for the meta-learner's CV score and --oof-out: a number K of seeded "
            "folds, or a folds file (id,fold) of the holdout rows. [default: 5]",
            show_default=False,
        ),
    ] = None,
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    greater_is_better: DirectionOption = None,
    classes: ClassesOption = None,
    no_post: NoPostOption = False,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    sample: SampleOption = None,
    out: OutPath = None,
    oof_out: Annotated[
        Optional[Path],
        typer.Option(
            "--oof-out",
            help="Also write the blend's OOF predictions of the holdout rows, cross-fitted on --folds. [default: none]",
            show_default=False,
        ),
    ] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Blending: the meta-learner is fitted on the holdout predictions (made by models that
    never saw those rows) and the truth of those rows, then predicts the test rows.

    Example:

        blend holdout submissions/*.csv --meta logreg --holdout-dir submissions/holdout
    """
    out = output_path(out, "holdout")
    if oof_out is not None:
        check_outputs(oof_out=oof_out)
    shared = Shared(
        metric=metric,
        greater_is_better=greater_is_better,
        classes=classes,
        no_post=no_post,
        oof_dir=holdout_dir,
        truth=truth,
        positive=positive,
        cv=None,
        folds=folds,
        seed=seed,
        sample=sample,
        out=out,
        oof_out=oof_out,
        no_oof_out=oof_out is None,
        id_column=id_column,
        task=task,
    )
    learning, run, sample_set = _stack(files, shared, meta, features, fwls, quadratic, logit, role="holdout")
    write_run(learning, run, out, sample_set, oof=oof_out)


@command("auto")
@learning_options
def auto_command(
    files: Files = None,
    repeats: Annotated[
        Optional[int],
        typer.Option(
            "--repeats",
            help="Repeat seeded CV with other fold seeds. [default: 3 up to 5,000 OOF rows, else 1; 1 with a folds "
            "file]",
            show_default=False,
        ),
    ] = None,
    max_level: Annotated[
        int,
        typer.Option(
            "--max-level",
            help="1: level-1 entries only; 2: also a second level (hill climbing over stackers), kept only if its "
            "nested estimate says it pays.",
        ),
    ] = 2,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", help="Draw the leaderboard with the pick marked (PNG).")
    ] = None,
    report_path: Annotated[
        Optional[Path], typer.Option("--report", help="Also write the leaderboard, the pick and the estimate as JSON.")
    ] = None,
    blends_dir: Annotated[
        Optional[Path], typer.Option("--blends-dir", help="Also write every entry's test blend there, as ENTRY.csv.")
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="How many standard errors a blend must gain over the best single file to be picked."
        ),
    ] = THRESHOLD,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit with status 3 when no blend beats the best single file (its predictions are still written).",
        ),
    ] = False,
    time_budget: TimeBudgetOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print each entry's passes over the OOF values.")
    ] = False,
    *,
    shared: Shared,
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

        blend auto submissions/*.csv --time-budget 5m
    """
    import json

    from blender import io, picking, plan, report

    out, oof = shared.outputs("auto", plot=plot, report=report_path)
    budget = _budget(time_budget)
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
        [m.name for m in methods_for(learning.train.kind, learning.metric, max_level=max_level)],
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
        metric=learning.metric,
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
    report.show_table(*report.leaderboard_rows(board, pick=result.picked), stream=output.table_stream())
    say(f"pick: {pick.name} ({pick.type}) because {pick.reason}")
    step_line(result.step, result.in_sample, result.plain_in_sample, "the pick's", learning.metric)
    say(f"levels: {result.level_reason}")
    for line in (
        plan.board_passes_lines(board, outer_folds=len(estimate.picks), levels=len(result.estimates)) if verbose else []
    ):
        say(line)
    say(
        f"estimated {learning.metric} of the pick (nested CV over {estimate.folds} outer folds, never scored on rows "
        f"used to choose it): {estimate.mean:.6f} ± {estimate.se:.6f}; picking the best single file the same way: "
        f"{estimate.best_single_mean:.6f}; best single file {board.best_single} on all OOF rows: "
        f"{board.best_single_oof:.6f}"
    )
    caution = picking.procedure_caution(estimate, metric=learning.metric, pick_type=pick.type)
    if caution is not None:
        say(caution)
    report_slice(result.slice, "auto", learning.metric)
    say(f"outer folds picked: {', '.join(estimate.picks)} ({time.perf_counter() - started:.1f} s in all)")
    if budget_plan is not None and not budget_plan.fits:
        say(f"the time budget is too small to score any blend: writing {pick.name}'s own test predictions")
    elif pick.type == "model":
        say(f"no blend beats {pick.name} beyond noise: writing {pick.name}'s own test predictions")
    note_auto(learning, result)
    with io.OutputGroup(log=log_entry(out)) as outputs:
        write_submission(outputs, learning, result.test_blend, out, sample_set, result.step)
        if plot is not None:
            outputs.figure(plot, report.leaderboard_chart(board, pick=result.picked, estimate=estimate))
        if report_path is not None:
            outputs.text(
                report_path, json.dumps(picking.report_document(result, metric=learning.metric), indent=2) + "\n"
            )
        for name, blend in result.blends.items():
            write_blend(outputs, learning.test, blend, blends_dir / f"{name}.csv", sample_set)
        if oof is not None:
            write_blend(outputs, learning.train, estimate.oof, oof)
    say(f"wrote {out}" + "".join(f", {path}" for path in (oof, plot, report_path, blends_dir) if path is not None))
    if budget is not None:
        say(plan.budget_line(budget, time.perf_counter() - started))
    from blender.api import from_auto

    output.emit(**from_auto(learning, result).to_dict())
    for path in (out, oof, plot, report_path, blends_dir):
        output.add_output(path)
    if strict and pick.type == "model":
        say(f"--strict: no blend beats the best single file {pick.name}; exit status 3")
        raise typer.Exit(3)

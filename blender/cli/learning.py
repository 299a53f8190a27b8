"""blend score and auto: the hand-written commands that learn from OOF rows (the method commands are generated,
:mod:`blender.cli.generated`); :mod:`blender.commands.learning` does the work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli.common import (
    ClassesOption,
    CvOption,
    DirectionOption,
    Files,
    FoldsOption,
    IdColumn,
    MetricOption,
    OofDir,
    PositiveOption,
    SeedOption,
    TaskOption,
    TruthPath,
    command,
    device_option,
    learning_options,
)
from blender.picking import THRESHOLD
from blender.session import DEFAULT_OOF, DEFAULT_TRUTH, Shared, say

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


VerboseOption = Annotated[bool, typer.Option("--verbose", help="Also print each entry's passes over the OOF values.")]


@command("score")
@device_option
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
    verbose: VerboseOption = False,
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
    from blender.commands.learning import score

    shared = Shared(
        metric=metric,
        greater_is_better=greater_is_better,
        classes=classes,
        oof_dir=oof_dir,
        truth=truth,
        positive=positive,
        cv=cv,
        folds=folds,
        seed=seed,
        out=out,
        id_column=id_column,
        task=task,
    )
    score(
        files,
        repeats=repeats,
        models_only=models_only,
        plot=plot,
        time_budget=time_budget,
        verbose=verbose,
        shared=shared,
    )


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
    verbose: VerboseOption = False,
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
    from blender.commands.learning import auto

    result = auto(
        files,
        repeats=repeats,
        max_level=max_level,
        plot=plot,
        report_path=report_path,
        blends_dir=blends_dir,
        threshold=threshold,
        time_budget=time_budget,
        verbose=verbose,
        shared=shared,
    )
    if strict and result.pick.type == "model":
        say(f"--strict: no blend beats the best single file {result.pick.name}; exit status 3")
        raise typer.Exit(3)

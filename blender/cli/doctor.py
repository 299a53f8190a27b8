"""blend doctor: what is wrong with these files before they are blended (:mod:`blender.doctor`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli.common import (
    Files,
    IdColumn,
    MetricOption,
    OofDir,
    PositiveOption,
    SeedOption,
    TaskOption,
    TruthPath,
    command,
)
from blender.session import DEFAULT_OOF, DEFAULT_TRUTH, Shared

#: ``--strict`` exits with this status when a finding other than advice (calibration, near-duplicates) is printed.
STRICT_EXIT = 4


@command("doctor")
def doctor_command(
    files: Files = None,
    folds: Annotated[
        Optional[Path],
        typer.Option(
            "--folds",
            help="The shared folds file (id,fold) every file's OOF predictions should be made on. "
            "[default: folds.csv beside --truth (data/folds.csv) where it exists]",
            show_default=False,
        ),
    ] = None,
    folds_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--folds-dir",
            help="Folder of per-file folds files, NAME.csv (id,fold), for files cross-validated on their "
            "own folds. [default: folds/ beside the first file (submissions/folds)]",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help=f"Exit with status {STRICT_EXIT} when a finding other than calibration: or near-duplicate: "
            "is printed (for scripts and CI).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each file's numbers as a table.")
    ] = False,
    plot: Annotated[
        Optional[Path],
        typer.Option("--plot", help="Draw every file's drift and disagreement in one picture (PNG, PDF or SVG)."),
    ] = None,
    metric: MetricOption = None,
    oof_dir: OofDir = DEFAULT_OOF,
    truth: TruthPath = DEFAULT_TRUTH,
    positive: PositiveOption = None,
    seed: SeedOption = 0,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Check the files before they are blended: one line per finding on stderr, most serious first.

    Reads each test file, its OOF file, the truth and the folds, and looks for a test file whose
    predictions drift from its own OOF predictions (drift:), a file whose agreement with the
    others differs between OOF and test rows (disagreement:), the same values under two names
    (duplicate:), an OOF score that looks like a leak or per-fold scores unlike the others'
    (suspicious-oof:), a per-file folds file that differs from the shared one (folds:), files
    nearly the same (near-duplicate:) and badly calibrated probabilities (calibration:).
    Correlations and the drift statistic use at most 20,000 seeded rows of each side (--seed).

    Example:

        blend doctor submissions/*.csv --strict --plot blends/doctor.png
    """
    from blender.commands.doctor import doctor

    shared = Shared(
        metric=metric, oof_dir=oof_dir, truth=truth, positive=positive, seed=seed, id_column=id_column, task=task
    )
    faults = doctor(files, folds=folds, folds_dir=folds_dir, verbose=verbose, plot=plot, options=shared)
    if strict and faults:
        raise typer.Exit(STRICT_EXIT)

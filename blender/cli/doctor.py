"""blend doctor: what is wrong with these files before they are blended (:mod:`blender.doctor`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli import output
from blender.cli.common import (
    DEFAULT_OOF,
    DEFAULT_TRUTH,
    Files,
    IdColumn,
    MetricOption,
    OofDir,
    PositiveOption,
    SeedOption,
    TaskOption,
    TruthPath,
    check_outputs,
    command,
    read_learning,
    say,
)
from blender.errors import BlendInputError

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
    from blender import doctor, io, report

    check_outputs(plot=plot)
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="doctor", positive=positive)
    train, test = learning.train, learning.test
    shared_path = folds if folds is not None else truth.parent / "folds.csv"
    shared = None
    if folds is not None and not folds.is_file():
        raise BlendInputError(f"--folds {folds}: no such file; give the shared folds file (id,fold).")
    if shared_path.is_file():
        shared = io.read_folds(shared_path, train.ids, id_column=id_column)
    own_dir = folds_dir if folds_dir is not None else Path(test.paths[0]).parent / "folds"
    if folds_dir is not None and not folds_dir.is_dir():
        raise BlendInputError(f"--folds-dir {folds_dir}: no such folder; give the folder of NAME.csv folds files.")
    file_folds = {}
    for name in test.names:
        own = own_dir / f"{name}.csv"
        if own.is_file():
            file_folds[str(own)] = io.read_folds(own, train.ids, id_column=id_column)
    if file_folds:
        say(f"per-file folds: {', '.join(file_folds)}")
    started = time.perf_counter()
    diagnosis = doctor.diagnose(
        train.values,
        test.values,
        learning.y,
        names=[str(path) for path in test.paths],
        kind=test.kind,
        metric=learning.metric,
        folds=shared,
        file_folds=file_folds,
        shared_folds_name=str(shared_path),
        random_state=seed,
    )
    seconds = time.perf_counter() - started
    if verbose:
        header = ["file", *diagnosis.table]
        rows = [[name, *(float(column[k]) for column in diagnosis.table.values())] for k, name in enumerate(test.names)]
        report.show_table(header, rows, stream=output.table_stream())
    for finding in diagnosis.findings:
        say(finding.message)
    for check, why in diagnosis.skipped.items():
        say(f"skipped {check}: {why}")
    faults = [finding for finding in diagnosis.findings if not finding.advice]
    named = {name for finding in diagnosis.findings for name in finding.files}
    output.emit(
        metric=str(learning.metric),
        inputs=list(test.names),
        findings=[
            {
                "check": finding.check,
                "files": list(finding.files),
                "severity": finding.severity,
                "advice": finding.advice,
                "message": finding.message,
            }
            for finding in diagnosis.findings
        ],
        skipped=dict(diagnosis.skipped),
        to_fix=len(faults),
    )
    say(
        f"doctor: {len(diagnosis.findings)} finding{'s' if len(diagnosis.findings) != 1 else ''} "
        f"({len(faults)} to fix, {len(diagnosis.findings) - len(faults)} advice) naming {len(named)} of "
        f"{test.n_models} files, checked in {seconds:.1f} s"
    )
    if plot is not None:
        from blender.cli.journal import log_entry, note

        note(method="doctor", members=test.names, metric=learning.metric)
        with io.OutputGroup(log=log_entry(plot)) as outputs:
            outputs.figure(plot, doctor_chart(diagnosis, test.names))
        say(f"wrote {plot}")
        output.add_output(plot)
    if strict and faults:
        raise typer.Exit(STRICT_EXIT)


def doctor_chart(diagnosis, names: list[str]):
    """Each file's drift (KS statistic) against its disagreement (noise units), the flagged files in red."""
    import numpy as np

    from blender import report

    plt = report._pyplot()
    drift = np.nan_to_num(diagnosis.table["drift KS"])
    disagreement = np.nan_to_num(diagnosis.table["disagreement"])
    flagged = {
        name for finding in diagnosis.findings if finding.check in ("drift", "disagreement") for name in finding.files
    }
    colours = ["tab:red" if path in flagged else "tab:blue" for path in diagnosis.names]
    figure, axes = plt.subplots(figsize=(7, 5))
    axes.scatter(drift, disagreement, c=colours)
    for x, y, name in zip(drift, disagreement, names):
        axes.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.axvline(float(np.median(drift)), color="gray", linestyle=":", linewidth=1)
    axes.axhline(float(np.median(disagreement)), color="gray", linestyle=":", linewidth=1)
    axes.set_xlabel("drift: KS statistic between the file's OOF and test predictions")
    axes.set_ylabel("disagreement: change of its correlations, OOF to test (noise units)")
    axes.set_title("blend doctor (red: flagged; dotted: the files' medians)")
    figure.tight_layout()
    return figure

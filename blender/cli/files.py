"""blend corr and check: the hand-written commands on prediction files alone (the method commands are generated,
:mod:`blender.cli.generated`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli.common import CorrMethod, Files, IdColumn, TaskOption, command


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
    from blender.commands.files import corr

    corr(files, method=getattr(method, "value", method), plot=plot, out=out, id_column=id_column, task=task)


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
    from blender.commands.files import check

    check(sample, file, id_column=id_column, task=task)

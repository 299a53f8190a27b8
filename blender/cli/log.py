"""blend log: what every output was made of, the public scores it got, and a guard against chasing them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli.common import command
from blender.journal import LOG_NAME

DEFAULT_LOG = Path("blends") / LOG_NAME


@command("log", logs=False)
def log_command(
    file: Annotated[
        Optional[Path],
        typer.Argument(
            help="A file to look up: the record that wrote these bytes, found by content hash (so after a rename too), "
            "and whether its inputs changed on disk since.",
            show_default=False,
        ),
    ] = None,
    lb: Annotated[
        Optional[tuple[str, str]],
        typer.Option(
            "--lb",
            metavar="FILE SCORE",
            help="Record the public leaderboard score a submitted file got.",
            show_default=False,
        ),
    ] = None,
    public_rows: Annotated[
        Optional[int],
        typer.Option(
            "--public-rows",
            help="Rows in the competition's public split: the noise each public gain is judged by. "
            "[default: the last --public-rows recorded with --lb]",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        Optional[str],
        typer.Option(
            "--since",
            help="Only records from then on: a date or time (2024-05-01, 2024-05-01T12:00, UTC) or an age "
            "(30m, 12h, 7d, 2w).",
            show_default=False,
        ),
    ] = None,
    grep: Annotated[
        Optional[str],
        typer.Option(
            "--grep",
            help="Only records whose command line, method, or an input's or output's path matches this "
            "regular expression (case-insensitive).",
            show_default=False,
        ),
    ] = None,
    final: Annotated[
        Optional[int],
        typer.Option(
            "--final",
            metavar="N",
            help="Propose the N submissions to select at the deadline: the best by honest CV "
            "(nested or slice estimate), then the best that hedges it (test predictions "
            "correlated below 0.98 with it).",
            show_default=False,
        ),
    ] = None,
    log: Annotated[Path, typer.Option("--log", help="The log to read (and to add --lb scores to).")] = DEFAULT_LOG,
) -> None:
    """The log of every blend written: a table, newest first, with each blend's CV score beside the
    public score it got.

    Each command that writes a file appends one record to log.jsonl beside its output: the
    command line, every input file with its rows and content hash, the method, its options and
    seed, the weights, the honest CV score (and nested estimate), the outputs and their hashes.
    blend log FILE finds the record that wrote FILE from its hash and flags inputs that have
    changed since. With --lb FILE SCORE, the public score of a submission is recorded; then each
    public gain is checked against the noise of a score on --public-rows rows, and a run of
    public gains the CV score does not share is flagged. From 5 submissions with both scores on,
    a Theil-Sen line of public against CV gives the public score to expect for a CV score, and
    flags submissions outside its band (the residuals' spread and the public noise). --final 2
    proposes the two submissions to select at the deadline.

    Example:

        blend log --since 7d --grep caruana

        blend log blends/submitted_v3.csv

        blend log --lb blends/caruana.csv 0.2871 --public-rows 5000

        blend log --final 2
    """
    from blender.logbook import show

    show(log, file=file, lb=lb, public_rows=public_rows, since=since, grep=grep, final=final)

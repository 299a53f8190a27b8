"""Vote, average and rank-average of prediction files larger than memory, on DuckDB.

:func:`blend_out_of_core` gives the same blend as the in-memory path
(:func:`blender.io.read_predictions` followed by :func:`blender.averaging.average`,
:func:`blender.voting.vote` or :func:`blender.rank.rank_average`) for files whose data do not
fit a memory budget; :func:`needs_out_of_core` estimates, from the file sizes alone, whether
they would.

Why DuckDB rather than Polars' streaming engine
-----------------------------------------------
Aligning files by id is a join or a group-by on a text key over every file's rows, and the
blend wants the first file's row order back, which is a sort. DuckDB's hash aggregate, hash
join and sort all spill to ``temp_directory`` when they outgrow ``SET memory_limit``, so one
budget caps the whole query. Polars' streaming engine runs a join or a group-by out of core
only for some plans and falls back to in-memory execution for others (a sort on a key that
spans the whole input, window functions such as ``rank``), with no hard memory limit to set.
DuckDB also reads CSV, gzip-compressed CSV and Parquet natively, writes the three formats,
and is a single pinned wheel (``duckdb==2.0.0``) with no further dependencies.

How it runs
-----------
:mod:`~blender.outofcore.files` loads and checks the files, :mod:`~blender.outofcore.queries`
blends them. Each CSV file is read once into a table of a temporary DuckDB database (Parquet files are
scanned in place), with its row number (``rn``) and its id as text (``007`` stays ``007``).
Every file is checked with :mod:`blender.io`'s checks and messages (:mod:`blender.io.checks`,
:func:`blender.io.tables.checked_header`; a file DuckDB cannot parse is handed to pyarrow's
streaming reader for io's wording), so the same bad input gives the same line in and out of
core. Up to 64 files are LEFT JOINed to the first file's rows by id; more, and every vote, are
stacked and grouped by id. The ids are checked on that result, and when they fail the file at
fault is looked for file by file. The output follows the first file's rows and is written as
io writes (:func:`blender.io.writing.replaced_on_success`, the format by the name).

The means, the clipping to 1e-15 before a log or a negative power, the renormalisation of class
probabilities, the vote's tie rule (the tied label first voted for, within a relative 1e-12)
and the rank average's scaling are those of :mod:`blender.averaging`, :mod:`blender.voting` and
:mod:`blender.rank`, written in SQL. Sums run in another order than numpy's, so values may
differ in the last bits (``tests/test_outofcore.py`` checks 1e-12).
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from blender import averaging, io
from blender.errors import BlendInputError
from blender.io import checks, tables
from blender.io.logfile import note_input
from blender.io.paths import check_distinct_names
from blender.io.predictions import Kind
from blender.outofcore.files import File, check_cells, check_ids, check_method, infer_kind, literal, load, non_positive
from blender.outofcore.queries import aggregate, average_select, average_term, join, rank, rank_select, vote, write
from blender.validate import check_weights

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

METHODS = ("average", "vote", "rank-average")
MEANS = ("arithmetic", "geometric", "harmonic", "power")
KINDS = ("binary", "multiclass", "regression", "labels")

# Resident bytes of the in-memory path per byte of file, from bench_io (parsed table, ids,
# the float array and the alignment index): CSV text parses to about its own size, gzip
# hides about three times more text, Parquet about four times (compressed floats and ids).
_EXPANSION = {".csv": 1.5, ".gz": 4.5, ".parquet": 4.0}
# DuckDB gets this share of the budget; the rest is the interpreter, numpy and DuckDB's own
# allocations outside its buffer manager.
_DUCKDB_SHARE = 0.75
# Averages of up to this many files join them to the first by id; more are grouped by id.
MOST_JOINED = 64


@dataclass(frozen=True)
class OutOfCoreBlend:
    """What :func:`blend_out_of_core` wrote.

    Attributes
    ----------
    out : Path
    kind : {"binary", "multiclass", "regression", "labels"}
    id_column : str
    columns : list of str
        The output columns after the id (the first file's).
    n_rows : int
    names : list of str
        Model names (file names without the suffix).
    """

    out: Path
    kind: Kind
    id_column: str
    columns: list[str]
    n_rows: int
    names: list[str]


def parse_memory(limit: str | int | float) -> int:
    """Bytes in a memory budget: ``"2GB"``, ``"512MB"``, ``"1.5GiB"`` or a number of bytes.

    >>> parse_memory("2GB"), parse_memory("512MiB"), parse_memory(1000)
    (2000000000, 536870912, 1000)
    """
    if isinstance(limit, (int, float)) and not isinstance(limit, bool):
        if limit <= 0:
            raise BlendInputError(f"--memory {limit}: give a positive size, e.g. 2GB.")
        return int(limit)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*", str(limit), flags=re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise BlendInputError(f"--memory {limit}: give a size such as 2GB, 512MB or 1.5GiB.")
    unit = (match.group(2) or "b").lower()
    base = 1024 if "i" in unit else 1000
    power = "bkmgt".index(unit[0])
    return int(float(match.group(1)) * base**power)


def estimated_bytes(paths: Sequence[Path]) -> int:
    """Estimated peak memory of the in-memory path on these files, from their sizes alone."""
    total = 0.0
    for path in map(Path, paths):
        suffix = ".parquet" if path.suffix == ".parquet" else ".gz" if path.suffix == ".gz" else ".csv"
        try:
            total += path.stat().st_size * _EXPANSION[suffix]
        except OSError:
            continue  # a missing file is reported by whichever path reads it
    return int(total)


def needs_out_of_core(paths: Sequence[Path], memory_limit: str | int = "2GB") -> bool:
    """Whether the in-memory path would likely outgrow ``memory_limit`` on these files.

    An estimate from the file sizes (about 1.5 bytes of memory per byte of CSV, 4.5 per byte
    of gzip-compressed CSV and 4 per byte of Parquet), so that the decision costs no read.

    >>> needs_out_of_core([], "2GB")
    False
    """
    return estimated_bytes(paths) > parse_memory(memory_limit)


def out_of_core_plan(paths: Sequence[Path], memory: str | None, *, sample: bool = False) -> int | None:
    """The memory budget to blend ``paths`` out of core within, or None to blend them in memory.

    ``memory`` is ``--memory`` (None: half of this machine's memory). With a sample submission
    the blend is ordered in memory, so ``--memory`` with ``--sample`` is refused.
    """
    import os

    if sample:
        if memory is not None:
            raise BlendInputError(
                "--sample orders the blend in memory; drop --memory, or drop --sample and sort the output."
            )
        return None
    if memory is not None:
        try:
            budget = parse_memory(memory)
        except ValueError:
            raise BlendInputError(f"--memory {memory}: give a size such as 2GB, 512MB or 8GiB.") from None
    else:
        budget = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    return budget if needs_out_of_core(paths, budget) else None


def blend_out_of_core(
    paths: Sequence[Path],
    out: Path,
    *,
    method: str,
    kind: Kind | None = None,
    weights: Sequence[float] | None = None,
    mean: str = "arithmetic",
    power: float | None = None,
    id_column: str | None = None,
    memory_limit: str | int = "2GB",
    temp_directory: Path | None = None,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> OutOfCoreBlend:
    """Blend prediction files under a memory budget and write the result to ``out``.

    Parameters
    ----------
    paths : sequence of Path
        ``.csv``, ``.csv.gz`` or ``.parquet`` files ``id,<columns>``; the first sets the ids,
        their order and the columns (class columns of the others are matched by name).
    out : Path
        ``.csv``, ``.csv.gz`` or ``.parquet``; written to a temporary file beside it, then
        renamed.
    method : {"average", "vote", "rank-average"}
    kind : {"binary", "multiclass", "regression", "labels"}, default=None
        None infers it from the first file as :mod:`blender.io` does (text or integers are
        labels, several numeric columns class probabilities, one column in [0, 1] binary,
        else regression), from DuckDB's sniffed column types.
    weights : sequence of float, default=None
        One non-negative weight per file; None weighs them the same.
    mean : {"arithmetic", "geometric", "harmonic", "power"}, default="arithmetic"
        The mean of ``method="average"``.
    power : float, default=None
        The exponent of ``mean="power"``.
    id_column : str, default=None
        None takes each file's first column.
    memory_limit : str or int, default="2GB"
        The budget for the whole process; DuckDB's ``memory_limit`` is set to 3/4 of it.
    temp_directory : Path, default=None
        Where DuckDB's database and spill files go (removed afterwards); None is the
        system's temporary folder.
    threads : int, default=None
        DuckDB threads; None lets DuckDB use every core.
    progress : callable, default=None
        Called with a short line per stage.

    Returns
    -------
    OutOfCoreBlend

    Raises
    ------
    BlendInputError
        For bad input: missing or unreadable files, differing columns, missing, extra or
        repeated ids, NaN, empty, infinite or non-numeric cells, probabilities outside [0, 1],
        bad weights, a method that does not suit the kind.
    """
    import duckdb

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if mean not in MEANS:
        raise ValueError(f"unknown mean {mean!r}; choose one of {', '.join(MEANS)}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    paths = [Path(p) for p in paths]
    out = Path(out)
    if not paths:
        raise BlendInputError("no prediction files given; name them, e.g. blend average submissions/*.csv.")
    check_distinct_names(paths)
    io.check_output_path(out)
    budget = parse_memory(memory_limit)
    shares = check_weights(None if weights is None else np.asarray(weights, dtype=float), len(paths))
    shares = shares / shares.sum()
    say = progress or (lambda line: None)

    with tempfile.TemporaryDirectory(prefix="blend-ooc-", dir=temp_directory) as scratch:
        con = duckdb.connect(str(Path(scratch) / "blend.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{max(64, int(budget * _DUCKDB_SHARE) // 2**20)}MiB'")
            con.execute(f"SET temp_directory = {literal(scratch)}")
            con.execute("SET preserve_insertion_order = true")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            blended = _blend(
                con,
                paths,
                out,
                method=method,
                kind=kind,
                weights=shares,
                mean=mean,
                power=power,
                id_column=id_column,
                say=say,
            )
        except duckdb.OutOfMemoryException:
            raise BlendInputError(
                f"--memory {memory_limit} is too small for these files (DuckDB ran out of its {_DUCKDB_SHARE:.0%} "
                f"share even with spilling to disk); give more, e.g. --memory {2 * budget / 1e9:.3g}GB."
            ) from None
        finally:
            con.close()
    for path in paths:
        note_input(path, blended.n_rows)
    return blended


def _blend(
    con: DuckDBPyConnection,
    paths: list[Path],
    out: Path,
    *,
    method: str,
    kind: Kind | None,
    weights: NDArray[np.float64],
    mean: str,
    power: float | None,
    id_column: str | None,
    say: Callable[[str], None],
) -> OutOfCoreBlend:
    first_header, first_id = tables.checked_header(paths[0], id_column)
    columns = [c for c in first_header if c != first_id]
    if not columns:
        raise checks.only_ids_error(paths[0])
    if kind is None:
        kind = infer_kind(con, paths[0], first_id, columns)
    check_method(method, kind, paths[0])
    io.check_column_count(paths[0], kind, columns)  # the in-memory reader's message
    files: list[File] = []
    lows: list[float] = []  # each file's smallest value, to name the first file a mean cannot take
    high = -math.inf
    for position, path in enumerate(paths):
        header, name = (
            (first_header, first_id)
            if position == 0
            else tables.checked_header(path, first_id if id_column is None else id_column)
        )
        found = [c for c in header if c != name]
        if not found:
            raise checks.only_ids_error(path)
        if position > 0:
            checks.check_same_columns(paths, position, name, columns, found, tables.prediction_columns)
        file = File(path, f"f{position}", name, found, header)
        load(con, file, columns, kind)
        file_low, file_high = check_cells(con, file, columns, kind)
        lows.append(file_low)
        high = max(high, file_high)
        files.append(file)
        say(f"read {path} ({file.n_rows:,} rows)")

    # Row numbers are taken: from here every order is an explicit ORDER BY, and DuckDB needs less
    # memory (and may spill more) when it need not keep the insertion order.
    con.execute("SET preserve_insertion_order = false")
    if method == "average":
        exponent = averaging.exponent(mean, power)
        if exponent is None:
            raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
        clip = False
        label = f"power (p={exponent:g})" if mean == "power" else mean
        low = min(lows)
        if exponent <= 0 and low <= 0:
            if kind == "multiclass" or (low >= 0 and high <= 1):
                clip = True
            else:
                first = next(file for file, file_low in zip(files, lows) if file_low <= 0)
                raise non_positive(con, first, columns, label)
        elif exponent != 1 and low < 0:
            # A power or root of a negative value is not real: the same refusal as in memory.
            first = next(file for file, file_low in zip(files, lows) if file_low < 0)
            raise non_positive(con, first, columns, label, zero_ok=True)
        term = average_term(float(exponent), clip)
        if len(files) <= MOST_JOINED:
            join(con, files, columns, weights, term, keep_range=True)
        else:
            aggregate(con, files, columns, weights, [f"sum(w * {term})"] * len(columns), keep_range=True)
        select = average_select(columns, float(exponent), kind)
    elif method == "rank-average":
        for file in files:
            rank(con, file, columns)
        ranks = {c: f'"r_{c}"' for c in columns}
        if len(files) <= MOST_JOINED:
            join(con, files, columns, weights, "{v}", keep_range=False, value_columns=ranks)
        else:
            aggregate(
                con, files, columns, weights, ["sum(w * {v})"] * len(columns), keep_range=False, value_columns=ranks
            )
        select = rank_select(con, columns)
    else:
        aggregate(con, files, columns, weights, [], keep_range=False)
        select = vote(con, files, columns, weights, kind)
    check_ids(con, files, joined=method != "vote" and len(files) <= MOST_JOINED)
    say(f"blended {len(files)} files ({files[0].n_rows:,} rows) with {method}")

    write(con, select, out, first_id, columns)
    say(f"wrote {out}")
    return OutOfCoreBlend(
        out=out,
        kind=kind,
        id_column=first_id,
        columns=columns,
        n_rows=files[0].n_rows,
        names=[io.model_name(p) for p in paths],
    )

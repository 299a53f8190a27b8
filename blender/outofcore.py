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
Each CSV file is read once into a table of a temporary DuckDB database (Parquet files are
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

import numpy as np

from blender import io
from blender.io import checks, tables, writing
from blender.io.paths import check_distinct_names
from blender.errors import BlendInputError
from blender.validate import check_weights

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
_MOST_JOINED = 64


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
    kind: str
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


def blend_out_of_core(
    paths: Sequence[Path],
    out: Path,
    *,
    method: str,
    kind: str | None = None,
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
    weights = check_weights(None if weights is None else np.asarray(weights, dtype=float), len(paths))
    weights = weights / weights.sum()
    say = progress or (lambda line: None)

    with tempfile.TemporaryDirectory(prefix="blend-ooc-", dir=temp_directory) as scratch:
        con = duckdb.connect(str(Path(scratch) / "blend.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{max(64, int(budget * _DUCKDB_SHARE) // 2**20)}MiB'")
            con.execute(f"SET temp_directory = {_literal(scratch)}")
            con.execute("SET preserve_insertion_order = true")
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            return _blend(con, paths, out, method=method, kind=kind, weights=weights, mean=mean, power=power,
                          id_column=id_column, say=say)
        except duckdb.OutOfMemoryException:
            raise BlendInputError(
                f"--memory {memory_limit} is too small for these files (DuckDB ran out of its "
                f"{_DUCKDB_SHARE:.0%} share even with spilling to disk); give more, e.g. --memory {2 * budget / 1e9:.3g}GB."
            ) from None
        finally:
            con.close()


# ---------------------------------------------------------------------------- the blend


def _non_positive(con, file, columns, mean) -> BlendInputError:
    """The in-memory reader's message for the first value <= 0 of ``file``."""
    from blender.validate import non_positive_error

    for column in columns:
        row = con.execute(
            f"SELECT id, {_ident(column)} FROM {file.table} WHERE {_ident(column)} <= 0 ORDER BY rn LIMIT 1"
        ).fetchone()
        if row is not None:
            return non_positive_error(file.path, float(row[1]), str(row[0]), column, mean)
    raise AssertionError("no value <= 0 in a file whose minimum is <= 0")


@dataclass
class _File:
    path: Path
    table: str
    id_column: str
    columns: list[str]  # prediction columns, in this file's order
    header: list[str]
    n_rows: int = 0
    source: str = ""  # what the blend reads: the table, or its ranks


def _blend(con, paths, out, *, method, kind, weights, mean, power, id_column, say) -> OutOfCoreBlend:
    first_header, first_id = tables.checked_header(paths[0], id_column)
    columns = [c for c in first_header if c != first_id]
    if not columns:
        raise checks.only_ids_error(paths[0])
    if kind is None:
        kind = _infer_kind(con, paths[0], first_id, columns)
    _check_method(method, kind, paths[0])
    io.check_column_count(paths[0], kind, columns)  # the in-memory reader's message
    files: list[_File] = []
    low, high = math.inf, -math.inf
    first_non_positive = None  # the first file holding a value <= 0, for the power mean's message
    for position, path in enumerate(paths):
        header, name = (first_header, first_id) if position == 0 else tables.checked_header(
            path, first_id if id_column is None else id_column)
        found = [c for c in header if c != name]
        if not found:
            raise checks.only_ids_error(path)
        if position > 0 and sorted(found) != sorted(columns):
            raise io.columns_differ(path, name, columns, found, paths[0])
        file = _File(path, f"f{position}", name, found, header)
        _load(con, file, columns, kind)
        file_low, file_high = _check_cells(con, file, columns, kind)
        low, high = min(low, file_low), max(high, file_high)
        if file_low <= 0 and first_non_positive is None:
            first_non_positive = file
        files.append(file)
        say(f"read {path} ({file.n_rows:,} rows)")

    # Row numbers are taken: from here every order is an explicit ORDER BY, and DuckDB needs less
    # memory (and may spill more) when it need not keep the insertion order.
    con.execute("SET preserve_insertion_order = false")
    if method == "average":
        exponent = {"arithmetic": 1.0, "geometric": 0.0, "harmonic": -1.0}.get(mean, power)
        if exponent is None:
            raise BlendInputError("the power mean needs an exponent: pass --power P (e.g. 2 or 0.5).")
        clip = False
        if exponent <= 0 and low <= 0:
            if kind == "multiclass" or (low >= 0 and high <= 1):
                clip = True
            else:
                raise _non_positive(con, first_non_positive, columns, f"power (p={exponent:g})" if mean == "power" else mean)
        term = _average_term(float(exponent), clip)
        if len(files) <= _MOST_JOINED:
            _join(con, files, columns, weights, term, keep_range=True)
        else:
            _aggregate(con, files, columns, weights, [f"sum(w * {term})"] * len(columns), keep_range=True)
        select = _average_select(columns, float(exponent), kind)
    elif method == "rank-average":
        for file in files:
            _rank(con, file, columns)
        ranks = {c: f'"r_{c}"' for c in columns}
        if len(files) <= _MOST_JOINED:
            _join(con, files, columns, weights, "{v}", keep_range=False, value_columns=ranks)
        else:
            _aggregate(con, files, columns, weights, ["sum(w * {v})"] * len(columns), keep_range=False, value_columns=ranks)
        select = _rank_select(con, columns)
    else:
        _aggregate(con, files, columns, weights, [], keep_range=False)
        select = _vote(con, files, columns, weights, kind)
    _check_ids(con, files, joined=method != "vote" and len(files) <= _MOST_JOINED)
    say(f"blended {len(files)} files ({files[0].n_rows:,} rows) with {method}")

    _write(con, select, out, first_id, columns)
    say(f"wrote {out}")
    return OutOfCoreBlend(out=out, kind=kind, id_column=first_id, columns=columns, n_rows=files[0].n_rows,
                          names=[io.model_name(p) for p in paths])


def _load(con, file: _File, columns: list[str], kind: str) -> None:
    """A table (CSV) or view (Parquet) ``rn, id, <columns in the first file's order>``."""
    import duckdb

    as_text = kind == "labels"
    path = file.path
    value_type = "VARCHAR" if as_text else "DOUBLE"
    chosen = ", ".join(f"{_ident(c)}" for c in columns)
    if path.suffix == ".parquet":
        casts = ", ".join(f"CAST({_ident(c)} AS {value_type}) AS {_ident(c)}" for c in columns)
        query = (f"CREATE VIEW {file.table} AS SELECT file_row_number + 1 AS rn, CAST({_ident(file.id_column)} AS VARCHAR) "
                 f"AS id, {casts} FROM read_parquet({_literal(path)}, file_row_number = true)")
        con.execute(query)
        try:
            row = con.execute(f"SELECT count(*), count(*) FILTER (WHERE id IS NULL OR id = '') FROM {file.table}").fetchone()
        except duckdb.ConversionException:
            _non_numeric(con, file, columns, kind, parquet=True)
            raise
    else:
        types = {file.id_column: "VARCHAR", **{c: value_type for c in file.columns}}
        source = _csv_source(path, file.header, types)
        query = (f"CREATE TABLE {file.table} AS SELECT row_number() OVER () AS rn, {_ident(file.id_column)} AS id, "
                 f"{chosen} FROM {source}")
        try:
            con.execute(query)
        except duckdb.ConversionException:
            _non_numeric(con, file, columns, kind, parquet=False)
            raise
        except (duckdb.InvalidInputException, duckdb.IOException) as error:
            raise _unreadable(file, error) from None
        row = con.execute(f"SELECT count(*), count(*) FILTER (WHERE id IS NULL OR id = '') FROM {file.table}").fetchone()
    file.n_rows, empty_ids = row
    if file.n_rows == 0:
        raise checks.no_rows_error(path)
    if empty_ids:
        (first,) = con.execute(f"SELECT min(rn) FROM {file.table} WHERE id IS NULL OR id = ''").fetchone()
        raise checks.empty_id_error(path, first)
    # io refuses a text cell holding a line break (an unterminated quote, most likely).
    for column, sql in [(file.id_column, "id"), *((c, _ident(c)) for c in (columns if as_text else []))]:
        broken = con.execute(
            f"SELECT rn, id FROM {file.table} WHERE contains({sql}, chr(10)) OR contains({sql}, chr(13)) ORDER BY rn LIMIT 1"
        ).fetchone()
        if broken is not None:
            if path.suffix != ".parquet":
                _raise_arrow_error(path)
            raise checks.line_break_error(path, column, row=broken[0] if sql == "id" else None, row_id=broken[1])


def _raise_arrow_error(path: Path) -> None:
    """Raise io's message for a CSV file pyarrow cannot parse (read block by block, in little memory), if it cannot."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
                                convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True))
        for _ in reader:
            pass
    except (pa.ArrowException, OSError, UnicodeDecodeError, *tables.GZIP_ERRORS) as error:
        raise tables.unreadable_error(path, error) from None


def _unreadable(file: _File, error: BaseException) -> BlendInputError:
    """io's message for a CSV file DuckDB cannot read: pyarrow's, where pyarrow cannot read it either."""
    _raise_arrow_error(file.path)
    return tables.unreadable_error(file.path, error)


def _csv_source(path: Path, header: list[str], types: dict[str, str]) -> str:
    spec = ", ".join(f"{_literal(c)}: '{types.get(c, 'VARCHAR')}'" for c in header)
    compression = "gzip" if path.suffix == ".gz" else "none"
    return (f"read_csv({_literal(path)}, header = true, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', nullstr = '', compression = '{compression}', columns = {{{spec}}})")


def _non_numeric(con, file: _File, columns: list[str], kind: str, *, parquet: bool) -> None:
    """Raise the io wording for the first cell that is not a number."""
    if parquet:
        source = f"(SELECT file_row_number + 1 AS rn, * FROM read_parquet({_literal(file.path)}, file_row_number = true))"
    else:
        source = f"(SELECT row_number() OVER () AS rn, * FROM {_csv_source(file.path, file.header, {})})"
    for column in columns:
        row = con.execute(
            f"SELECT CAST({_ident(column)} AS VARCHAR), CAST({_ident(file.id_column)} AS VARCHAR) FROM {source} "
            f"WHERE {_ident(column)} IS NOT NULL AND TRY_CAST(CAST({_ident(column)} AS VARCHAR) AS DOUBLE) IS NULL "
            "ORDER BY rn LIMIT 1"
        ).fetchone()
        if row:
            raise checks.non_numeric_error(file.path, row[0], column, row[1], kind)


def _check_cells(con, file: _File, columns: list[str], kind: str) -> tuple[float, float]:
    """Empty, NaN and infinite cells, and probabilities outside [0, 1]; returns the min and max value."""
    if kind == "labels":
        for column in columns:
            (empty,) = con.execute(
                f"SELECT count(*) FROM {file.table} WHERE {_ident(column)} IS NULL OR {_ident(column)} = ''"
            ).fetchone()
            if empty:
                raise _cell_error(con, file, column, f"{_ident(column)} IS NULL OR {_ident(column)} = ''", empty,
                                  "empty cells", "every row needs a label")
        return 0.0, 0.0
    parts = []
    for column in columns:
        c = _ident(column)
        parts += [f"count(*) FILTER (WHERE {c} IS NULL)", f"count(*) FILTER (WHERE isnan({c}))",
                  f"count(*) FILTER (WHERE isinf({c}))", f"min({c}) FILTER (WHERE isfinite({c}))",
                  f"max({c}) FILTER (WHERE isfinite({c}))"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {file.table}").fetchone()
    low, high = math.inf, -math.inf
    for k, column in enumerate(columns):
        c = _ident(column)
        empty, nan, inf, column_low, column_high = row[5 * k : 5 * k + 5]
        # io counts the empty cells first, then (when there are none) the NaN cells.
        if empty or nan:
            where = f"{c} IS NULL" if empty else f"isnan({c})"
            raise _cell_error(con, file, column, where, empty or nan, "NaN or empty cells", "re-run the model or leave it out")
        if inf:
            raise _cell_error(con, file, column, f"isinf({c})", inf, "inf cells", "re-run the model or leave it out")
        if kind in ("binary", "multiclass") and (column_low < 0 or column_high > 1):
            value, at = con.execute(
                f"SELECT {c}, id FROM {file.table} WHERE {c} < 0 OR {c} > 1 ORDER BY rn LIMIT 1"
            ).fetchone()
            raise checks.outside_unit_error(file.path, value, at, column)
        low, high = min(low, column_low), max(high, column_high)
    return low, high


def _cell_error(con, file: _File, column: str, where: str, count: int, what: str, fix: str) -> BlendInputError:
    (at,) = con.execute(f"SELECT id FROM {file.table} WHERE {where} ORDER BY rn LIMIT 1").fetchone()
    return checks.cells_error(file.path, column, count, at, what, fix)


def _long(files: list[_File], weights, select: Callable[[_File], str]) -> str:
    """Every file's rows stacked: ``f, w, rn (first file only), id`` and ``select(file)``."""
    parts = []
    for position, (file, weight) in enumerate(zip(files, weights)):
        rn = "rn" if position == 0 else "NULL::BIGINT"
        parts.append(
            f"SELECT {position} AS f, {float(weight)!r}::DOUBLE AS w, {rn} AS rn, id, {select(file)} FROM {file.source or file.table}"
        )
    return "\nUNION ALL\n".join(parts)


def _aggregate(con, files, columns, weights, aggregates, *, keep_range, value_columns=None) -> None:
    """``CREATE TABLE blend``: per id, its row count, the files it came from, the first file's row
    number and ``aggregates`` (``a0, a1, ...``); with ``keep_range`` also each column's min and max
    over the positively weighted files (to keep rows on which they all agree)."""
    n = len(files)
    value_columns = value_columns or {c: _ident(c) for c in columns}
    chosen = ", ".join(f"{value_columns[c]} AS v{k}" for k, c in enumerate(columns))
    # Which files an id came from: a 64-bit mask (fixed-size state, cheap to spill) up to 63 files.
    files_seen = (
        "bit_count(bit_or(CAST(1 AS BIGINT) << f))" if n <= 63 else f"bit_count(bitstring_agg(f, 0, {max(n - 1, 1)}))"
    )
    parts = ["count(*) AS n", f"{files_seen} AS n_files", "max(rn) AS rn"]
    for k, aggregate in enumerate(aggregates):
        parts.append(f"{aggregate.format(v=f'v{k}')} AS a{k}")
    if keep_range:
        for k in range(len(columns)):
            parts += [f"min(v{k}) FILTER (WHERE w > 0) AS lo{k}", f"max(v{k}) FILTER (WHERE w > 0) AS hi{k}"]
    long = _long(files, weights, lambda file: chosen)
    con.execute(f"CREATE TABLE blend AS SELECT id, {', '.join(parts)} FROM ({long}) GROUP BY id")


def _average_term(exponent: float, clip: bool) -> str:
    """The power-mean transform of one value ``{v}``: itself, its log, or its power."""
    value = "greatest({v}, 1e-15)" if clip else "{v}"
    if exponent == 1.0:
        return "{v}"
    if exponent == 0.0:
        return f"ln({value})"
    return f"pow({value}, {exponent!r})"


def _join(con, files, columns, weights, term, *, keep_range, value_columns=None) -> None:
    """``CREATE TABLE blend`` like :func:`_aggregate`, from the first file's rows LEFT JOINed by id
    to each other file (a hash join per file: faster than grouping every row by id). An id the
    first file lacks is left out and one another file lacks gives a NULL, which
    :func:`_check_ids` finds by the counts (``joined=True``)."""
    n = len(files)
    value_columns = value_columns or {c: _ident(c) for c in columns}
    positive = [i for i in range(n) if weights[i] > 0]
    parts = [f"{n} AS n", "1 + " + " + ".join(
        [f"CAST(t{i}.{value_columns[columns[0]]} IS NOT NULL AS INTEGER)" for i in range(1, n)] or ["0"]
    ) + " AS n_files", "t0.rn AS rn"]
    for k, column in enumerate(columns):
        values = [f"t{i}.{value_columns[column]}" for i in range(n)]
        parts.append(" + ".join(f"{float(weights[i])!r} * {term.format(v=values[i])}" for i in positive) + f" AS a{k}")
        if keep_range:
            chosen = ", ".join(values[i] for i in positive)
            parts += [f"least({chosen}) AS lo{k}", f"greatest({chosen}) AS hi{k}"]
    joins = " ".join(
        f"LEFT JOIN {file.source or file.table} t{i} ON t0.id = t{i}.id" for i, file in enumerate(files) if i > 0
    )
    con.execute(f"CREATE TABLE blend AS SELECT t0.id AS id, {', '.join(parts)} FROM {files[0].source or files[0].table} t0 {joins}")


def _average_select(columns: list[str], exponent: float, kind: str) -> str:
    means = []
    for k in range(len(columns)):
        if exponent == 1.0:
            means.append(f"a{k}")
        elif exponent == 0.0:
            means.append(f"exp(a{k})")
        else:
            means.append(f"pow(a{k}, {1.0 / exponent!r})")
    if kind == "multiclass" and exponent != 1.0:
        total = " + ".join(f"({m})" for m in means)
        means = [f"({m}) / ({total})" for m in means]
    agreed = " AND ".join(f"lo{k} = hi{k}" for k in range(len(columns)))
    outputs = [f"CASE WHEN {agreed} THEN lo{k} ELSE {m} END" for k, m in enumerate(means)]
    return f"SELECT id, {', '.join(outputs)} FROM blend ORDER BY rn"


def _rank(con, file: _File, columns: list[str]) -> None:
    """A table of the file's average ranks, ties sharing theirs, column by column."""
    ranks = ", ".join(
        f"rank() OVER (ORDER BY {_ident(c)}) + (count(*) OVER (PARTITION BY {_ident(c)}) - 1) / 2.0 AS \"r_{c}\""
        for c in columns
    )
    con.execute(f"CREATE TABLE {file.table}_rank AS SELECT rn, id, {ranks} FROM {file.table}")
    file.source = f"{file.table}_rank"


def _rank_select(con, columns: list[str]) -> str:
    bounds = con.execute(
        "SELECT " + ", ".join(f"min(a{k}), max(a{k})" for k in range(len(columns))) + " FROM blend"
    ).fetchone()
    scaled = []
    for k in range(len(columns)):
        low, high = bounds[2 * k], bounds[2 * k + 1]
        scaled.append("0.5::DOUBLE" if high == low else f"(a{k} - {low!r}) / ({high!r} - {low!r})")
    if len(columns) == 1:
        return f"SELECT id, {scaled[0]} FROM blend ORDER BY rn"
    total = " + ".join(f"s{k}" for k in range(len(columns)))
    share = 1.0 / len(columns)
    outputs = [f"CASE WHEN ({total}) > 0 THEN s{k} / ({total}) ELSE {share!r} END" for k in range(len(columns))]
    inner = ", ".join(f"{s} AS s{k}" for k, s in enumerate(scaled))
    return f"SELECT id, {', '.join(outputs)} FROM (SELECT id, rn, {inner} FROM blend) ORDER BY rn"


def _vote(con, files, columns, weights, kind) -> str:
    """Tally each label's weight per id; the winner is the tied-top label first voted for."""
    if kind == "labels":
        label = lambda file: f"{_ident(columns[0])} AS label"  # noqa: E731
    elif kind == "binary":
        label = lambda file: f"CAST({_ident(columns[0])} > 0.5 AS INTEGER) AS label"  # noqa: E731
    else:
        top = f"greatest({', '.join(_ident(c) for c in columns)})"
        cases = " ".join(f"WHEN {_ident(c)} = {top} THEN {k}" for k, c in enumerate(columns))
        label = lambda file: f"CASE {cases} END AS label"  # noqa: E731
    for file in files:
        file.source = file.table
    long = _long(files, weights, label)
    con.execute(
        f"CREATE TABLE tally AS SELECT id, label, sum(w) AS tally, min(f) AS first FROM ({long}) WHERE w > 0 "
        "GROUP BY id, label"
    )
    con.execute(
        "CREATE TABLE winner AS SELECT id, arg_min(label, first) AS label FROM "
        "(SELECT *, max(tally) OVER (PARTITION BY id) AS best FROM tally) WHERE best - tally <= 1e-12 * best GROUP BY id"
    )
    if kind == "multiclass":
        outputs = ", ".join(f"CAST(w.label = {k} AS INTEGER)" for k in range(len(columns)))
    else:
        outputs = "w.label"
    return f"SELECT b.id, {outputs} FROM blend b JOIN winner w ON b.id = w.id ORDER BY b.rn"


def _check_ids(con, files: list[_File], *, joined: bool = False) -> None:
    """Every id in every file once; else the io wording for the first file at fault.

    Grouped by id, each id must come from every file once. Joined to the first file's rows,
    each of them must find every file (``n_files``), there must be as many as it has (a
    repeated id in another file adds rows) and its ids must be distinct; with every file as
    long as the first, no file can then hold an id the first lacks.
    """
    n = len(files)
    (bad,) = con.execute(f"SELECT count(*) FROM blend WHERE n <> {n} OR n_files <> {n} OR rn IS NULL").fetchone()
    if not bad and joined:
        first = files[0]
        (rows,) = con.execute("SELECT count(*) FROM blend").fetchone()
        bad = rows != first.n_rows or any(file.n_rows != first.n_rows for file in files)
        if not bad:
            (distinct,) = con.execute(f"SELECT count(DISTINCT id) FROM {first.table}").fetchone()
            bad = distinct != first.n_rows
    if not bad:
        return
    first = files[0]
    for position, file in enumerate(files):
        _check_unique_ids(con, file)
        if position == 0:
            continue
        count, shown = _ids_not_in(con, file.table, first.table)
        if count:
            raise checks.extra_ids_error(file.path, shown, first.path, count=count)
        count, shown = _ids_not_in(con, first.table, file.table)
        if count:
            raise checks.missing_ids_error(file.path, shown, first.path, count=count)
    raise AssertionError("the id counts disagree but no file has a missing, extra or repeated id")


def _ids_not_in(con, table: str, other: str):
    """How many ids of ``table`` ``other`` lacks, and the first few of them (a pyarrow array)."""
    import pyarrow as pa

    query = f"FROM {table} WHERE id NOT IN (SELECT id FROM {other})"
    (count,) = con.execute(f"SELECT count(*) {query}").fetchone()
    first = con.execute(f"SELECT id {query} ORDER BY rn LIMIT 4").fetchall()
    return count, pa.array([row[0] for row in first], type=pa.string())


def _check_unique_ids(con, file: _File) -> None:
    rows = con.execute(
        f"SELECT id, list(rn ORDER BY rn)[1:2], count(*) FROM {file.table} GROUP BY id HAVING count(*) > 1 "
        "ORDER BY min(rn)"
    ).fetchall()
    if not rows:
        return
    first_id, (row_a, row_b), _ = rows[0]
    raise checks.duplicate_id_error(file.path, first_id, row_a, row_b, sum(r[2] - 1 for r in rows))


def _write(con, select: str, out: Path, id_column: str, columns: list[str]) -> None:
    """COPY the ordered blend to a temporary file beside ``out``, then rename it (io's format rule and atomic write)."""
    names = ", ".join(_ident(name) for name in [id_column, *columns])
    query = f"SELECT * FROM ({select}) AS result({names})"
    form = writing.output_format(out)
    options = "FORMAT parquet" if form == "parquet" else (
        f"FORMAT csv, HEADER true, COMPRESSION '{'gzip' if form == 'csv.gz' else 'none'}'")
    with writing.replaced_on_success(out) as temporary:
        con.execute(f"COPY ({query}) TO {_literal(temporary)} ({options})")


# ---------------------------------------------------------------------------- files and names


def _infer_kind(con, path: Path, id_column: str, columns: list[str]) -> str:
    """io's rule on DuckDB's sniffed types: text or integers are labels, several columns multiclass,
    one column in [0, 1] binary, else regression."""
    if path.suffix == ".parquet":
        source = f"read_parquet({_literal(path)})"
    else:
        source = f"read_csv({_literal(path)}, header = true, types = {{{_literal(id_column)}: 'VARCHAR'}})"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall())
    numeric = [types[c] in ("DOUBLE", "FLOAT", "DECIMAL") or types[c].startswith("DECIMAL") for c in columns]
    integer = [types[c] in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT")
               for c in columns]
    if len(columns) > 1:
        return "multiclass"
    if integer[0] or not numeric[0]:
        return "labels"
    low, high = con.execute(f"SELECT min({_ident(columns[0])}), max({_ident(columns[0])}) FROM {source}").fetchone()
    return "binary" if low is not None and 0.0 <= low and high <= 1.0 else "regression"


def _check_method(method: str, kind: str, path: Path) -> None:
    if method == "vote" and kind == "regression":
        raise BlendInputError(
            f"{path}: vote needs class labels or probabilities, and these look like regression values; "
            "use blend average (or --task binary if they are probabilities)."
        )
    if method != "vote" and kind == "labels":
        raise BlendInputError(
            f"{path}: {method} needs probabilities or regression values, and this file holds class labels; use blend "
            "vote (or pass --task binary if the column holds 0/1 probabilities)."
        )


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"

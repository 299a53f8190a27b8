"""Prediction files loaded into DuckDB tables, and checked there with :mod:`blender.io`'s checks and messages.

Each check runs as a query (a file is never read into memory); what it finds is worded by
:mod:`blender.io.checks` and :mod:`blender.io.tables`, so the same bad input gives the same line
in and out of core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blender.errors import BlendInputError
from blender.io import checks, tables
from blender.io.predictions import Kind

if TYPE_CHECKING:
    import pyarrow as pa
    from duckdb import DuckDBPyConnection


def one_row(con: DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The row of a query that gives exactly one: an aggregate, or a row known to be there."""
    row = con.execute(query).fetchone()
    if row is None:
        raise AssertionError(f"no row from {query}")
    return row


def non_positive(
    con: DuckDBPyConnection, file: File, columns: list[str], mean: str, *, zero_ok: bool = False
) -> BlendInputError:
    """The in-memory reader's message for the first value <= 0 (with ``zero_ok``: < 0) of ``file``."""
    from blender.validate import non_positive_error

    below = "<" if zero_ok else "<="
    for column in columns:
        row = con.execute(
            f"SELECT id, {ident(column)} FROM {file.table} WHERE {ident(column)} {below} 0 ORDER BY rn LIMIT 1"
        ).fetchone()
        if row is not None:
            return non_positive_error(file.path, float(row[1]), str(row[0]), column, mean, zero_ok=zero_ok)
    raise AssertionError(f"no value {below} 0 in a file whose minimum is {below} 0")


@dataclass
class File:
    """One prediction file: its path, its DuckDB table and its columns."""

    path: Path
    table: str
    id_column: str
    columns: list[str]  # prediction columns, in this file's order
    header: list[str]
    n_rows: int = 0
    source: str = ""  # what the blend reads: the table, or its ranks


def load(con: DuckDBPyConnection, file: File, columns: list[str], kind: Kind) -> None:
    """A table (CSV) or view (Parquet) ``rn, id, <columns in the first file's order>``."""
    import duckdb

    as_text = kind == "labels"
    path = file.path
    value_type = "VARCHAR" if as_text else "DOUBLE"
    chosen = ", ".join(f"{ident(c)}" for c in columns)
    if path.suffix == ".parquet":
        casts = ", ".join(f"CAST({ident(c)} AS {value_type}) AS {ident(c)}" for c in columns)
        query = (
            f"CREATE VIEW {file.table} AS SELECT file_row_number + 1 AS rn, CAST({ident(file.id_column)} AS VARCHAR) "
            f"AS id, {casts} FROM read_parquet({literal(path)}, file_row_number = true)"
        )
        con.execute(query)
        try:
            row = one_row(con, f"SELECT count(*), count(*) FILTER (WHERE id IS NULL OR id = '') FROM {file.table}")
        except duckdb.ConversionException:
            _non_numeric(con, file, columns, kind, parquet=True)
            raise
    else:
        types = {file.id_column: "VARCHAR", **{c: value_type for c in file.columns}}
        source = _csv_source(path, file.header, types)
        query = (
            f"CREATE TABLE {file.table} AS SELECT row_number() OVER () AS rn, {ident(file.id_column)} AS id, "
            f"{chosen} FROM {source}"
        )
        try:
            con.execute(query)
        except duckdb.ConversionException:
            _non_numeric(con, file, columns, kind, parquet=False)
            raise
        except (duckdb.InvalidInputException, duckdb.IOException) as error:
            raise _unreadable(file, error) from None
        row = one_row(con, f"SELECT count(*), count(*) FILTER (WHERE id IS NULL OR id = '') FROM {file.table}")
    file.n_rows, empty_ids = row
    if file.n_rows == 0:
        raise checks.no_rows_error(path)
    if empty_ids:
        (first,) = one_row(con, f"SELECT min(rn) FROM {file.table} WHERE id IS NULL OR id = ''")
        raise checks.empty_id_error(path, first)
    # io refuses a text cell holding a line break (an unterminated quote, most likely).
    for column, sql in [(file.id_column, "id"), *((c, ident(c)) for c in (columns if as_text else []))]:
        broken = con.execute(
            f"SELECT rn, id FROM {file.table} WHERE contains({sql}, chr(10)) OR contains({sql}, chr(13)) ORDER BY rn "
            "LIMIT 1"
        ).fetchone()
        if broken is not None:
            if path.suffix != ".parquet":
                _raise_arrow_error(file)
            raise checks.line_break_error(path, column, row=broken[0] if sql == "id" else None, row_id=broken[1])


def _raise_arrow_error(file: File) -> None:
    """Raise io's message for a CSV file pyarrow cannot parse (read block by block, as text), if it cannot."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    as_text = pacsv.ConvertOptions(column_types={column: pa.string() for column in file.header})
    try:
        for _ in pacsv.open_csv(
            file.path, read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24), convert_options=as_text
        ):
            pass
    except (pa.ArrowException, OSError, UnicodeDecodeError, *tables.GZIP_ERRORS) as error:
        raise tables.unreadable_error(file.path, error) from None


def _unreadable(file: File, error: BaseException) -> BlendInputError:
    """io's message for a CSV file DuckDB cannot read: pyarrow's, where pyarrow cannot read it either."""
    _raise_arrow_error(file)
    return tables.unreadable_error(file.path, error)


def _csv_source(path: Path, header: list[str], types: dict[str, str]) -> str:
    spec = ", ".join(f"{literal(c)}: '{types.get(c, 'VARCHAR')}'" for c in header)
    compression = "gzip" if path.suffix == ".gz" else "none"
    return (
        f"read_csv({literal(path)}, header = true, auto_detect = false, delim = ',', quote = '\"', "
        f"escape = '\"', nullstr = '', compression = '{compression}', columns = {{{spec}}})"
    )


def _non_numeric(con: DuckDBPyConnection, file: File, columns: list[str], kind: Kind, *, parquet: bool) -> None:
    """Raise the io wording for the first cell that is not a number."""
    if parquet:
        source = (
            f"(SELECT file_row_number + 1 AS rn, * FROM read_parquet({literal(file.path)}, file_row_number = true))"
        )
    else:
        source = f"(SELECT row_number() OVER () AS rn, * FROM {_csv_source(file.path, file.header, {})})"
    for column in columns:
        row = con.execute(
            f"SELECT CAST({ident(column)} AS VARCHAR), CAST({ident(file.id_column)} AS VARCHAR) FROM {source} "
            f"WHERE {ident(column)} IS NOT NULL AND TRY_CAST(CAST({ident(column)} AS VARCHAR) AS DOUBLE) IS NULL "
            "ORDER BY rn LIMIT 1"
        ).fetchone()
        if row:
            raise checks.non_numeric_error(file.path, row[0], column, row[1], kind)


def check_cells(con: DuckDBPyConnection, file: File, columns: list[str], kind: Kind) -> tuple[float, float]:
    """Empty, NaN and infinite cells, and probabilities outside [0, 1]; returns the min and max value."""
    if kind == "labels":
        for column in columns:
            (empty,) = one_row(
                con, f"SELECT count(*) FROM {file.table} WHERE {ident(column)} IS NULL OR {ident(column)} = ''"
            )
            if empty:
                raise _cell_error(
                    con,
                    file,
                    column,
                    f"{ident(column)} IS NULL OR {ident(column)} = ''",
                    empty,
                    "empty cells",
                    "every row needs a label",
                )
        return 0.0, 0.0
    parts = []
    for column in columns:
        c = ident(column)
        parts += [
            f"count(*) FILTER (WHERE {c} IS NULL)",
            f"count(*) FILTER (WHERE isnan({c}))",
            f"count(*) FILTER (WHERE isinf({c}))",
            f"min({c}) FILTER (WHERE isfinite({c}))",
            f"max({c}) FILTER (WHERE isfinite({c}))",
        ]
    row = one_row(con, f"SELECT {', '.join(parts)} FROM {file.table}")
    low, high = math.inf, -math.inf
    for k, column in enumerate(columns):
        c = ident(column)
        empty, nan, inf, column_low, column_high = row[5 * k : 5 * k + 5]
        # io counts the empty cells first, then (when there are none) the NaN cells.
        if empty or nan:
            where = f"{c} IS NULL" if empty else f"isnan({c})"
            raise _cell_error(
                con, file, column, where, empty or nan, "NaN or empty cells", "re-run the model or leave it out"
            )
        if inf:
            raise _cell_error(con, file, column, f"isinf({c})", inf, "inf cells", "re-run the model or leave it out")
        if kind in ("binary", "multiclass") and (column_low < 0 or column_high > 1):
            value, at = one_row(con, f"SELECT {c}, id FROM {file.table} WHERE {c} < 0 OR {c} > 1 ORDER BY rn LIMIT 1")
            raise checks.outside_unit_error(file.path, value, at, column)
        low, high = min(low, column_low), max(high, column_high)
    return low, high


def _cell_error(
    con: DuckDBPyConnection, file: File, column: str, where: str, count: int, what: str, fix: str
) -> BlendInputError:
    (at,) = one_row(con, f"SELECT id FROM {file.table} WHERE {where} ORDER BY rn LIMIT 1")
    return checks.cells_error(file.path, column, count, at, what, fix)


def check_ids(con: DuckDBPyConnection, files: list[File], *, joined: bool = False) -> None:
    """Every id in every file once; else the io wording for the first file at fault.

    Grouped by id, each id must come from every file once. Joined to the first file's rows,
    each of them must find every file (``n_files``), there must be as many as it has (a
    repeated id in another file adds rows) and its ids must be distinct; with every file as
    long as the first, no file can then hold an id the first lacks.
    """
    n = len(files)
    (bad,) = one_row(con, f"SELECT count(*) FROM blend WHERE n <> {n} OR n_files <> {n} OR rn IS NULL")
    if not bad and joined:
        first = files[0]
        (rows,) = one_row(con, "SELECT count(*) FROM blend")
        bad = rows != first.n_rows or any(file.n_rows != first.n_rows for file in files)
        if not bad:
            (distinct,) = one_row(con, f"SELECT count(DISTINCT id) FROM {first.table}")
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


def _ids_not_in(con: DuckDBPyConnection, table: str, other: str) -> tuple[int, pa.Array]:
    """How many ids of ``table`` ``other`` lacks, and the first few of them (a pyarrow array)."""
    import pyarrow as pa

    query = f"FROM {table} WHERE id NOT IN (SELECT id FROM {other})"
    (count,) = one_row(con, f"SELECT count(*) {query}")
    first = con.execute(f"SELECT id {query} ORDER BY rn LIMIT 4").fetchall()
    return count, pa.array([row[0] for row in first], type=pa.string())


def _check_unique_ids(con: DuckDBPyConnection, file: File) -> None:
    rows = con.execute(
        f"SELECT id, list(rn ORDER BY rn)[1:2], count(*) FROM {file.table} GROUP BY id HAVING count(*) > 1 "
        "ORDER BY min(rn)"
    ).fetchall()
    if not rows:
        return
    first_id, (row_a, row_b), _ = rows[0]
    raise checks.duplicate_id_error(file.path, first_id, row_a, row_b, sum(r[2] - 1 for r in rows))


def infer_kind(con: DuckDBPyConnection, path: Path, id_column: str, columns: list[str]) -> Kind:
    """io's rule on DuckDB's sniffed types: text or integers are labels, several columns multiclass,
    one column in [0, 1] binary, else regression."""
    if path.suffix == ".parquet":
        source = f"read_parquet({literal(path)})"
    else:
        source = f"read_csv({literal(path)}, header = true, types = {{{literal(id_column)}: 'VARCHAR'}})"
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").fetchall())
    numeric = [types[c] in ("DOUBLE", "FLOAT", "DECIMAL") or types[c].startswith("DECIMAL") for c in columns]
    integer = [
        types[c]
        in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT")
        for c in columns
    ]
    if len(columns) > 1:
        return "multiclass"
    if integer[0] or not numeric[0]:
        return "labels"
    low, high = one_row(con, f"SELECT min({ident(columns[0])}), max({ident(columns[0])}) FROM {source}")
    return "binary" if low is not None and 0.0 <= low and high <= 1.0 else "regression"


def check_method(method: str, kind: Kind, path: Path) -> None:
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


def ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"

"""The blends in SQL: the means, the rank average and the vote over the loaded files, and the write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from blender import averaging, voting
from blender.io import writing
from blender.io.predictions import Kind
from blender.outofcore.files import File, ident, literal, one_row

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


def _long(files: list[File], weights: NDArray[np.float64], select: Callable[[File], str]) -> str:
    """Every file's rows stacked: ``f, w, rn (first file only), id`` and ``select(file)``."""
    parts = []
    for position, (file, weight) in enumerate(zip(files, weights)):
        rn = "rn" if position == 0 else "NULL::BIGINT"
        parts.append(
            f"SELECT {position} AS f, {float(weight)!r}::DOUBLE AS w, {rn} AS rn, id, {select(file)} FROM "
            f"{file.source or file.table}"
        )
    return "\nUNION ALL\n".join(parts)


def aggregate(
    con: DuckDBPyConnection,
    files: list[File],
    columns: list[str],
    weights: NDArray[np.float64],
    aggregates: list[str],
    *,
    keep_range: bool,
    value_columns: dict[str, str] | None = None,
) -> None:
    """``CREATE TABLE blend``: per id, its row count, the files it came from, the first file's row
    number and ``aggregates`` (``a0, a1, ...``); with ``keep_range`` also each column's min and max
    over the positively weighted files (to keep rows on which they all agree)."""
    n = len(files)
    value_columns = value_columns or {c: ident(c) for c in columns}
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


def average_term(exponent: float, clip: bool) -> str:
    """The power-mean transform of one value ``{v}``: itself, its log, or its power."""
    value = f"greatest({{v}}, {averaging.CLIP!r})" if clip else "{v}"
    if exponent == 1.0:
        return "{v}"
    if exponent == 0.0:
        return f"ln({value})"
    return f"pow({value}, {exponent!r})"


def join(
    con: DuckDBPyConnection,
    files: list[File],
    columns: list[str],
    weights: NDArray[np.float64],
    term: str,
    *,
    keep_range: bool,
    value_columns: dict[str, str] | None = None,
) -> None:
    """``CREATE TABLE blend`` like :func:`aggregate`, from the first file's rows LEFT JOINed by id
    to each other file (a hash join per file: faster than grouping every row by id). An id the
    first file lacks is left out and one another file lacks gives a NULL, which
    :func:`check_ids` finds by the counts (``joined=True``)."""
    n = len(files)
    value_columns = value_columns or {c: ident(c) for c in columns}
    positive = [i for i in range(n) if weights[i] > 0]
    parts = [
        f"{n} AS n",
        "1 + "
        + " + ".join([f"CAST(t{i}.{value_columns[columns[0]]} IS NOT NULL AS INTEGER)" for i in range(1, n)] or ["0"])
        + " AS n_files",
        "t0.rn AS rn",
    ]
    for k, column in enumerate(columns):
        values = [f"t{i}.{value_columns[column]}" for i in range(n)]
        parts.append(" + ".join(f"{float(weights[i])!r} * {term.format(v=values[i])}" for i in positive) + f" AS a{k}")
        if keep_range:
            chosen = ", ".join(values[i] for i in positive)
            parts += [f"least({chosen}) AS lo{k}", f"greatest({chosen}) AS hi{k}"]
    joins = " ".join(
        f"LEFT JOIN {file.source or file.table} t{i} ON t0.id = t{i}.id" for i, file in enumerate(files) if i > 0
    )
    con.execute(
        f"CREATE TABLE blend AS SELECT t0.id AS id, {', '.join(parts)} FROM {files[0].source or files[0].table} t0 "
        f"{joins}"
    )


def average_select(columns: list[str], exponent: float, kind: Kind) -> str:
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


def rank(con: DuckDBPyConnection, file: File, columns: list[str]) -> None:
    """A table of the file's average ranks, ties sharing theirs, column by column."""
    ranks = ", ".join(
        f'rank() OVER (ORDER BY {ident(c)}) + (count(*) OVER (PARTITION BY {ident(c)}) - 1) / 2.0 AS "r_{c}"'
        for c in columns
    )
    con.execute(f"CREATE TABLE {file.table}rank AS SELECT rn, id, {ranks} FROM {file.table}")
    file.source = f"{file.table}rank"


def rank_select(con: DuckDBPyConnection, columns: list[str]) -> str:
    bounds = one_row(con, "SELECT " + ", ".join(f"min(a{k}), max(a{k})" for k in range(len(columns))) + " FROM blend")
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


def vote(
    con: DuckDBPyConnection, files: list[File], columns: list[str], weights: NDArray[np.float64], kind: Kind
) -> str:
    """Tally each label's weight per id; the winner is the tied-top label first voted for."""
    if kind == "labels":
        label = lambda file: f"{ident(columns[0])} AS label"  # noqa: E731
    elif kind == "binary":
        label = lambda file: f"CAST({ident(columns[0])} > 0.5 AS INTEGER) AS label"  # noqa: E731
    else:
        top = f"greatest({', '.join(ident(c) for c in columns)})"
        cases = " ".join(f"WHEN {ident(c)} = {top} THEN {k}" for k, c in enumerate(columns))
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
        "(SELECT *, max(tally) OVER (PARTITION BY id) AS best FROM tally) WHERE best - tally <= "
        f"{voting.TIE_TOLERANCE!r} * best GROUP BY id"
    )
    if kind == "multiclass":
        outputs = ", ".join(f"CAST(w.label = {k} AS INTEGER)" for k in range(len(columns)))
    else:
        outputs = "w.label"
    return f"SELECT b.id, {outputs} FROM blend b JOIN winner w ON b.id = w.id ORDER BY b.rn"


def write(con: DuckDBPyConnection, select: str, out: Path, id_column: str, columns: list[str]) -> None:
    """COPY the ordered blend to a temporary file beside ``out``, then rename it (io's format rule and atomic write)."""
    names = ", ".join(ident(name) for name in [id_column, *columns])
    query = f"SELECT * FROM ({select}) AS result({names})"
    form = writing.output_format(out)
    options = (
        "FORMAT parquet"
        if form == "parquet"
        else (f"FORMAT csv, HEADER true, COMPRESSION '{'gzip' if form == 'csv.gz' else 'none'}'")
    )
    with writing.replaced_on_success(out) as temporary:
        con.execute(f"COPY ({query}) TO {literal(temporary)} ({options})")

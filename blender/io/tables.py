"""One file read as a :class:`~blender.io.predictions.Table`: its header checked, CSV (pyarrow) or
Parquet, with file-level problems (missing, empty, unreadable, a broken gzip stream, an
unterminated quote) as one-line errors, the same for both formats.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from blender.errors import BlendInputError
from blender.io.checks import (
    empty_id_error,
    first_line,
    is_text,
    line_break_error,
    no_rows_error,
    only_ids_error,
    short_columns,
    show,
)
from blender.io.predictions import Table

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow reads CSV in blocks; a row longer than a block is refused, so retry with larger blocks.
_BLOCK_SIZES = (None, 1 << 24, 1 << 28, (1 << 31) - 1)

GZIP_ERRORS = (EOFError, zlib.error)


def read_table(path: Path, id_column: str | None, *, as_text: bool = False, threads: bool = True) -> Table:
    """Read one CSV or Parquet file with ids (and with ``as_text`` every column) as text; file-level problems
    become one-line errors, the same for both formats. ``threads=False`` parses a CSV file on one thread."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    header, name = checked_header(path, id_column)
    parquet = is_parquet(path)
    text_columns = header if as_text else [name]
    table = _read_parquet(path, header) if parquet else _read_csv(path, text_columns, threads=threads)
    if table.num_rows == 0:
        raise no_rows_error(path)
    columns = {}
    for column in header:
        array = table.column(column).combine_chunks()
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if column in text_columns or pa.types.is_large_string(array.type):
            array = array.cast(pa.string())
        columns[column] = array
    ids = columns.pop(name)
    if ids.null_count:
        row = ids.is_null().to_numpy(zero_copy_only=False).argmax() + 1
        raise empty_id_error(path, row)
    for column, array in [(name, ids), *columns.items()]:
        if not is_text(array):
            continue
        broken = pc.or_(pc.match_substring(array, "\n"), pc.match_substring(array, "\r")).fill_null(False)
        if pc.any(broken).as_py():
            index = int(broken.to_numpy(zero_copy_only=False).argmax())
            raise line_break_error(path, column, row=index + 1 if column == name else None, row_id=ids[index].as_py())
    if not columns:
        raise only_ids_error(path)
    return Table(path=path, id_column=name, ids=ids, columns=columns)


def is_parquet(path: Path) -> bool:
    return path.name.endswith(".parquet")


def checked_header(path: Path, id_column: str | None) -> tuple[list[str], str]:
    """A file's column names and its id column's name, after the file-level checks (missing, folder,
    empty, no id column, a repeated column name)."""
    if not path.exists():
        raise BlendInputError(f"{path} not found; check the path (and --oof-dir / --truth).")
    if path.is_dir():
        raise BlendInputError(f"{path} is a folder; name the CSV files in it, e.g. {path}/*.csv.")
    parquet = is_parquet(path)
    header = _parquet_schema(path).names if parquet else read_header(path)
    if parquet:
        # pandas stores a non-default index as an extra column; it is not a prediction.
        header = [name for name in header if not re.fullmatch(r"__index_level_\d+__", name)]
    if not header or all(not cell.strip() for cell in header):
        raise BlendInputError(f"{path} is empty; expected a header line (id,...) and one row per id.")
    if id_column is None and header[0] == "" and len(header) > 1:
        raise BlendInputError(
            f"{path}: the first column has no name (pandas' index, from to_csv without index=False); write the file "
            f"with index=False, or pass --id with the id column's name."
        )
    name = header[0] if id_column is None else id_column
    if name not in header:
        raise BlendInputError(
            f"{path}: no id column {show(name)} (columns: {short_columns(header)}); pass --id with the id column's "
            "name."
        )
    if len(set(header)) != len(header):
        repeated = next(c for c in header if header.count(c) > 1)
        raise BlendInputError(f"{path}: column {show(repeated)} appears twice in the header; rename one of them.")
    return header, name


def prediction_columns(path: Path, id_column: str) -> list[str]:
    """A file's column names other than its id, from its header alone."""
    header, name = checked_header(path, id_column)
    return [column for column in header if column != name]


def _read_csv(path: Path, text_columns: list[str], *, threads: bool = True) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Only an empty cell is missing: pyarrow's default null markers would turn an id or a label
    # such as NA, null or None into an empty cell. "nan" still parses as a float NaN.
    convert = pacsv.ConvertOptions(
        column_types={column: pa.string() for column in text_columns},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    for block_size in _BLOCK_SIZES:
        try:
            read_options = pacsv.ReadOptions(use_threads=threads)
            if block_size is not None:
                read_options.block_size = block_size
            return pacsv.read_csv(path, read_options=read_options, convert_options=convert)
        except pa.ArrowInvalid as error:
            if "straddling" in str(error) and block_size != _BLOCK_SIZES[-1]:
                continue  # one row longer than a block: read again in larger blocks
            raise unreadable_error(path, error) from None
        except (pa.ArrowNotImplementedError, OSError, UnicodeDecodeError, *GZIP_ERRORS) as error:
            raise unreadable_error(path, error) from None
    raise AssertionError("unreachable")


def unreadable_error(path: Path, error: BaseException) -> BlendInputError:
    # pyarrow's one-thread reader names the row ("Row #3: "), its threaded reader cannot: the
    # message is the same however the file was read.
    reason = re.sub(r"(^CSV parse error: |^In CSV column #\d+: )Row #\d+: ", r"\1", first_line(error))
    if isinstance(error, (EOFError, zlib.error)) or "compressed" in reason.lower() or "inflate" in reason.lower():
        return BlendInputError(f"{path}: not a readable gzip file ({reason}); is it truncated? Write it again.")
    row = reason.split(": ", 2)[-1] if reason.startswith("CSV parse error: Expected") else ""
    if row.count('"') % 2:
        return BlendInputError(
            f"{path}: not a readable CSV (a row has an unterminated quote: {show(row)}); close the quote."
        )
    return BlendInputError(f"{path}: not a readable CSV ({reason}); every row needs the header's columns.")


def _parquet_schema(path: Path) -> pa.Schema:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = first_line(error)
        raise BlendInputError(f"{path}: not a readable Parquet file ({reason}); write it again.") from None


def _read_parquet(path: Path, header: list[str]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=header)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = first_line(error)
        raise BlendInputError(f"{path}: not a readable Parquet file ({reason}); write it again.") from None


def read_header(path: Path) -> list[str]:
    """The first CSV record: a quoted column name may hold a line break (``"two\\nlines"``)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            cells = next(csv.reader(handle, strict=True), [])
    except (OSError, UnicodeDecodeError, *GZIP_ERRORS) as error:
        if isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
            raise unreadable_error(path, error) from None
        raise BlendInputError(f"{path}: cannot read it ({first_line(error)}); is it a CSV file?") from None
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise BlendInputError(
                f"{path}: the header has an unterminated quote; close the quote in the first line."
            ) from None
        raise BlendInputError(f"{path}: not a readable CSV header ({first_line(error)}); is it a CSV file?") from None
    return cells

"""The checks of one file's ids and cells, and the wording of their messages.

Every message of the contract's "Bad input" list about ids, columns and cells is written here, once:
:mod:`blender.io.reading` and :mod:`blender.outofcore` both raise these, so the same bad input
gives the same line in memory and out of core.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.io.predictions import Kind, Predictions, Table

if TYPE_CHECKING:
    import pyarrow as pa

_EXAMPLES = 3

# A number as pyarrow's CSV reader parses one; anything else in a numeric column is a bad cell.
# (Python's float() is laxer: it takes "0_5" and " 2", which pyarrow leaves as text.)
_FLOAT = r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[Nn][Aa][Nn]|[Ii][Nn][Ff]([Ii][Nn][Ii][Tt][Yy])?)$"

#: Commands that learn refuse OOF values and targets beyond this size: a sum of a billion squares
#: of them stays finite (1e100 squared is 1e200), so every metric and meta-learner sees finite
#: numbers. Commands on files alone (vote, average, rank-average) take any finite number.
LARGEST_VALUE = 1e100


def is_text(array: pa.Array) -> bool:
    import pyarrow as pa

    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def first_line(error: BaseException) -> str:
    """The first line of an exception's text, cut short, unprintable characters escaped."""
    return show((str(error).strip().splitlines() or [type(error).__name__])[0], limit=200)[1:-1]


def check_unique_ids(table: Table) -> None:
    import pyarrow.compute as pc

    # unique() hashes about three times faster than count_distinct on a million string ids.
    if len(pc.unique(table.ids)) == len(table.ids):
        return
    refuse_duplicates(table)


def refuse_duplicates(table: Table) -> None:
    import pandas as pd

    ids = pd.Series(table.ids.to_pandas())
    duplicated = ids[ids.duplicated(keep=False)]
    first_id = duplicated.iloc[0]
    rows = (duplicated.index[duplicated == first_id][:2] + 1).tolist()
    count = int(ids.duplicated().sum())
    raise duplicate_id_error(table.path, first_id, rows[0], rows[1], count)


def duplicate_id_error(path: Path, row_id: str, row_a: int, row_b: int, count: int) -> BlendInputError:
    """The one message for a repeated id: the first one, its first two rows (from 1), how many repeat in all."""
    more = f" ({count:,} repeated ids in all)" if count > 1 else ""
    return BlendInputError(
        f"{path}: id {show_id(row_id)} appears twice (rows {row_a:,} and {row_b:,}){more}; keep one row per id."
    )


def extra_ids_error(path: Path, extra: pa.Array, reference: Path, *, count: int | None = None) -> BlendInputError:
    """``extra``: the ids (a pyarrow array, or its first few) of ``path`` that ``reference`` lacks; ``count`` of
    them."""
    return BlendInputError(
        f"{path}: {len(extra) if count is None else count:,} ids are not in {reference} (e.g. {examples(extra)}); "
        f"every file needs the same ids{float_id_hint(extra)}."
    )


def float_id_hint(ids: pa.Array) -> str:
    """A hint when the ids look like integers written as floats (``478.0``, from a float column in pandas)."""
    import re

    shown = [str(value) for value in ids[:_EXAMPLES].to_pylist()]
    if shown and all(re.fullmatch(r"[+-]?[0-9]+\.0*", value) for value in shown):
        return f" (ids are compared as text, and {shown[0]} is not {shown[0].split('.')[0]}: write them as integers)"
    return ""


def missing_ids_error(path: Path, missing: pa.Array, reference: Path, *, count: int | None = None) -> BlendInputError:
    """``missing``: the ids (a pyarrow array, or its first few) of ``reference`` that ``path`` lacks; ``count`` of
    them."""
    return BlendInputError(
        f"{path}: {len(missing) if count is None else count:,} ids of {reference} are missing (e.g. "
        f"{examples(missing)}); every file needs the same ids."
    )


def check_columns(table: Table, expected: list[str], reference: Path) -> None:
    found = list(table.columns)
    if sorted(found) != sorted(expected):
        raise columns_differ(table.path, table.id_column, expected, found, reference)


def check_same_columns(
    paths: list[Path],
    position: int,
    id_column: str,
    expected: list[str],
    found: list[str],
    columns_of: Callable[[Path, str], list[str]],
) -> None:
    """Refuse file ``position`` when its columns (``found``) are not the first file's (``expected``).

    When the second file differs and the third agrees with it, the first file is the odd one, and
    the message names it. ``columns_of(path, id_column)`` gives a file's prediction columns.
    """
    if sorted(found) == sorted(expected):
        return
    if position == 1 and len(paths) > 2 and sorted(columns_of(paths[2], id_column)) == sorted(found):
        raise columns_differ(paths[0], id_column, found, expected, f"{paths[1]} and {paths[2]}")
    raise columns_differ(paths[position], id_column, expected, found, paths[0])


def columns_differ(
    path: Path, id_column: str, expected: list[str], found: list[str], reference: Path | str
) -> BlendInputError:
    """The one message for a file whose columns are not the first file's (shared with :mod:`blender.outofcore`)."""
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(map(show, missing))}" if missing else "",
            f"extra {', '.join(map(show, extra))}" if extra else "",
        )
        if part
    )
    index = "; an unnamed column is pandas' index: write the file with index=False" if "" in extra else ""
    return BlendInputError(
        f"{path}: columns differ from {reference}: expected {id_column},{short_columns(expected)}, "
        f"found {id_column},{short_columns(found)} ({detail}{index})."
    )


def infer_kind(table: Table) -> Kind:
    """labels for text or integers, multiclass for several columns, binary for [0, 1], else regression."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = list(table.columns.values())
    if len(arrays) > 1:
        return "multiclass"
    (array,) = arrays
    if not pa.types.is_floating(array.type):
        return "labels"
    low, high = pc.min_max(array).values()
    low, high = low.as_py(), high.as_py()
    if low is not None and 0.0 <= low and high <= 1.0:
        return "binary"
    return "regression"


def refuse_text_among_numbers(first: Table, column: str, other: Table) -> None:
    """The kind comes from the first file: text in it reads every file as labels. When the next file
    holds numbers, a cell that is not a number in the first is a bad cell, not a sign of labels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not all(pa.types.is_floating(array.type) for array in other.columns.values()):
        return
    text = first.columns[column]
    bad = pc.invert(pc.match_substring_regex(text, _FLOAT)).fill_null(False)
    if not pc.any(bad).as_py():
        return
    index = int(bad.to_numpy(zero_copy_only=False).argmax())
    raise BlendInputError(
        f"{first.path}: non-numeric text {show(text[index].as_py())} in column {show(column)} at id "
        f"{show_id(first.ids[index].as_py())} while {other.path} holds numbers; fix that cell, or pass --task labels "
        "if these are class labels."
    )


def check_first_is_not_a_broken_probability(first: Table, column: str, values: NDArray[np.float64]) -> None:
    """The kind comes from the first file; when every other file holds probabilities, its values
    outside [0, 1] are an error in it, not a sign of regression (the files' order must not matter)."""
    others = values[1:]
    if others.min() >= 0.0 and others.max() <= 1.0:
        own = values[0, :, 0]
        index = int(((own < 0.0) | (own > 1.0)).argmax())
        raise BlendInputError(
            f"{first.path}: {own[index]:g} at id {show_id(first.ids[index].as_py())} (column {show(column)}) is "
            "outside [0, 1] while the other files hold probabilities; pass --task regression if these are not "
            "probabilities."
        )


def numeric_column(table: Table, column: str, kind: Kind) -> NDArray[np.float64]:
    """One column as float64, refusing text, empty cells, NaN, inf and (for probabilities) values outside [0, 1]."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = table.columns[column]
    if pa.types.is_boolean(array.type) or not (
        pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or pa.types.is_null(array.type)
    ):
        text = array.cast(pa.string())
        bad = pc.invert(pc.match_substring_regex(text, _FLOAT)).fill_null(False)
        if pc.any(bad).as_py():
            index = int(bad.to_numpy(zero_copy_only=False).argmax())
            raise non_numeric_error(table.path, text[index].as_py(), column, table.ids[index].as_py(), kind)
        # Every cell is a number written as text (e.g. read with every column as text): parse it.
        array = pc.cast(text, pa.float64())
    if array.null_count:
        raise cell_error(table, column, array.is_null(), "NaN or empty cells", "re-run the model or leave it out")
    values = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        nan = np.isnan(values)
        what, bad = ("NaN or empty cells", nan) if nan.any() else ("inf cells", ~finite)
        raise cell_error(table, column, pa.array(bad), what, "re-run the model or leave it out")
    if kind in ("binary", "multiclass"):
        outside = (values < 0.0) | (values > 1.0)
        if outside.any():
            index = int(outside.argmax())
            raise outside_unit_error(table.path, values[index], table.ids[index].as_py(), column)
    return values


def refuse_huge(predictions: Predictions) -> None:
    """Refuse OOF values so large that the squares and sums of the metrics and meta-learners would overflow."""
    huge = np.abs(predictions.values) > LARGEST_VALUE
    if huge.any():
        model, row, column = (int(index[0]) for index in np.nonzero(huge))
        raise BlendInputError(
            f"{predictions.paths[model]}: {predictions.values[model, row, column]:g} at id "
            f"{show_id(predictions.ids[row])} (column {show(predictions.columns[column])}) is beyond "
            f"±{LARGEST_VALUE:g}, where squared errors overflow; rescale the target and the predictions (e.g. log or "
            "divide by a constant)."
        )


def label_codes(table: Table, column: str) -> tuple[list[str], NDArray[np.int32]]:
    """One file's labels: its own distinct labels, and each row's code into them (file row order)."""
    import pyarrow as pa

    array = table.columns[column]
    if array.null_count:
        raise cell_error(table, column, array.is_null(), "empty cells", "every row needs a label")
    encoded = array.cast(pa.string()).dictionary_encode()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def cell_error(table: Table, column: str, mask: pa.Array, what: str, fix: str) -> BlendInputError:
    flags = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    index = int(flags.argmax())
    return cells_error(table.path, column, int(flags.sum()), table.ids[index].as_py(), what, fix)


def cells_error(path: Path, column: str, count: int, first_id: str, what: str, fix: str) -> BlendInputError:
    """The one message for ``count`` bad cells (``what``: "NaN or empty cells", "inf cells", ...) of a column."""
    return BlendInputError(
        f"{path}: {count:,} {what} in column {show(column)} (first at id {show_id(first_id)}); {fix}."
    )


def non_numeric_error(path: Path, cell: str, column: str, row_id: str, kind: Kind) -> BlendInputError:
    """The one message for text in a numeric column."""
    hint = "pass --task labels if these are class labels" if kind != "regression" else "predictions must be numbers"
    return BlendInputError(
        f"{path}: non-numeric text {show(cell)} in column {show(column)} at id {show_id(row_id)}; {hint}."
    )


def outside_unit_error(path: Path, value: float, row_id: str, column: str) -> BlendInputError:
    """The one message for a probability outside [0, 1]."""
    return BlendInputError(
        f"{path}: {value:g} at id {show_id(row_id)} (column {show(column)}) is outside "
        "[0, 1]; pass --task regression if these are not probabilities."
    )


def no_rows_error(path: Path) -> BlendInputError:
    return BlendInputError(f"{path} is empty: a header but no rows; re-run the model that wrote it.")


def empty_id_error(path: Path, row: int) -> BlendInputError:
    return BlendInputError(f"{path}: empty id in row {row:,}; every row needs an id.")


def only_ids_error(path: Path) -> BlendInputError:
    return BlendInputError(f"{path}: only an id column; expected predictions after it (id,target or id,label).")


def line_break_error(path: Path, column: str, *, row: int | None, row_id: str) -> BlendInputError:
    """A text cell holding a line break: in the id column (``row`` from 1), else in a column at ``row_id``."""
    where = f"in row {row:,}" if row is not None else f"at id {show_id(row_id)}"
    return BlendInputError(
        f"{path}: a cell in column {show(column)} {where} runs over a line break (an unterminated quote?); "
        "close the quote, or remove line breaks inside cells."
    )


def show(text: object, limit: int = 40) -> str:
    """A cell or column name for a one-line message: quoted, cut short, line breaks and NUL bytes escaped.

    >>> show("abc"), show("0.5\\x00"), show("x" * 50)[-5:]
    ("'abc'", "'0.5\\\\x00'", "...'")
    """
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return f"'{text}'"


def show_id(value: object) -> str:
    """An id for a message: as it is, unless it is long or holds unprintable characters."""
    return show(value)[1:-1]


def examples(ids: pa.Array) -> str:
    shown = ", ".join(show_id(v) for v in ids[:_EXAMPLES].to_pylist())
    return shown + (", ..." if len(ids) > _EXAMPLES else "")


def check_column_count(path: Path, kind: Kind, columns: list[str]) -> None:
    """Refuse a file whose prediction columns do not suit ``kind`` (one column, or one per class)."""
    if kind != "multiclass" and len(columns) != 1:
        raise BlendInputError(
            f"{path}: {kind} predictions have one column after the id, found {len(columns)} "
            f"({short_columns(columns)}); class probabilities have one column per class (--task multiclass)."
        )
    if kind == "multiclass" and len(columns) < 2:
        raise BlendInputError(
            f"{path}: class probabilities need one column per class, found only {show(columns[0])}; "
            "pass --task binary for one probability column."
        )


def short_columns(columns: list[str]) -> str:
    columns = [show(c)[1:-1] for c in columns]
    if len(columns) <= 4:
        return ",".join(columns)
    return f"{columns[0]},{columns[1]},...,{columns[-1]}"

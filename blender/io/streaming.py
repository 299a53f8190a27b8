"""The streaming reader for large files: a later CSV file read block by block straight into its rows of
``values``, so that a command's peak memory stays near the bytes of ``values``.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from blender.io.ids import RowIndex
from blender.io.predictions import Kind
from blender.io.tables import checked_header, is_parquet

if TYPE_CHECKING:
    import pyarrow as pa

# Blocks of the streaming reader: small, so that the few blocks it reads ahead stay a few MB.
STREAM_BLOCK = 128 << 10


def stream_into(
    path: Path, id_column: str, columns: list[str], kind: Kind, row_index: RowIndex, out: NDArray[np.float64]
) -> bool:
    """Read a later CSV file block by block, one thread, straight into ``out`` (n_rows, n_cols): rows by id,
    columns by name.

    The whole file is never held: pyarrow's threaded reader and the allocator's cache would hold
    several times its float bytes. True when the file passes every check of the full path (same
    columns, finite numbers, [0, 1] for probabilities, exactly the first file's ids); False at the
    first thing this does not handle (a bad input, ids :meth:`RowIndex.batch_rows` cannot look
    up, a row longer than a block, a -0, Parquet): the caller then reads the file in full, which
    fills ``out`` again or raises the message for what is wrong.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if is_parquet(path):
        return False
    header, name = checked_header(path, id_column)
    if sorted(column for column in header if column != name) != sorted(columns):
        return False
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string(), **{column: pa.float64() for column in columns}},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    unreadable = (pa.ArrowException, OSError, EOFError, zlib.error, UnicodeDecodeError)
    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(use_threads=False, block_size=STREAM_BLOCK), convert_options=convert
        )
    except unreadable:
        return False
    if reader.schema.names != header:  # e.g. a header pyarrow splits otherwise than Python's csv module
        return False
    probabilities = kind in ("binary", "multiclass")
    n_rows = out.shape[0]
    seen = np.zeros(n_rows, dtype=bool)
    start = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except unreadable:
            return False
        if batch.num_rows == 0:
            continue
        ids = batch.column(name)
        if ids.null_count or start + batch.num_rows > n_rows:
            return False
        rows = row_index.batch_rows(ids, start)
        if rows is None:
            return False
        arrays = [batch.column(column) for column in columns]
        if any(array.null_count for array in arrays):
            return False
        # The block's cells as (rows, n_cols), checked and placed at once (one numpy call each, not one per column).
        cells = arrays[0].to_numpy()[:, None] if len(arrays) == 1 else np.column_stack([a.to_numpy() for a in arrays])
        if not np.isfinite(cells).all() or (probabilities and (cells.min() < 0.0 or cells.max() > 1.0)):
            return False
        # The full reader reads a column of whole numbers as integers, where -0 is 0: only it
        # knows whether the whole column is, so let it read a file holding a -0.
        if np.signbit(cells).any() and (np.signbit(cells) & (cells == 0.0)).any():
            return False
        out[rows] = cells
        seen[rows] = True
        start += batch.num_rows
    # n_rows ids, each a row of the first file, that hit every row: the same ids, none twice.
    return start == n_rows and bool(seen.all())


def release_memory() -> None:
    """Give the pages Arrow's allocator keeps for reuse (mimalloc, jemalloc) back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def empty_like(array: pa.Array) -> pa.Array:
    """A zero-length array of the same type that does not keep ``array``'s buffers alive."""
    import pyarrow as pa

    return pa.array([], type=array.type)

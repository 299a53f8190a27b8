"""Matching a later file's rows to the first file's by id: :class:`RowIndex` looks ids up as
integers where they are plain integers, else as text (hashed keys, checked against the ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from blender.io.checks import check_unique_ids, extra_ids_error, missing_ids_error, refuse_duplicates
from blender.io.predictions import Table

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Row numbers: int32 where the rows fit, to halve the memory of a lookup.
Rows = NDArray[np.signedinteger[Any]]


class RowIndex:
    """Where each id of the first file is, built once and asked once per later file.

    Ids are text, but most are plain integers (``0``, ``-12``, ``100345``; no leading zeros),
    and hashing those as int64 is about ten times faster than hashing strings. Integer ids in
    a dense range (most competitions number their rows) are looked up in a plain array;
    other integers in a pandas int64 index; any other ids with pyarrow's string hash
    (``index_in``).
    """

    _DENSE = 4  # a lookup array up to this many slots per id

    def __init__(self, first: Table) -> None:
        self.first = first
        self.integers = integer_ids(first.ids)
        self.offset = 0
        self.slots: Rows | None = None
        self.index: pd.Index[int] | None = None
        self.text: _SortedText | None = None
        if self.integers is None:
            check_unique_ids(first)
            return
        n_rows = len(self.integers)
        low, high = int(self.integers.min()), int(self.integers.max())
        if high - low < self._DENSE * n_rows + 1024:
            self.offset = low
            self.slots = np.full(high - low + 1, -1, dtype=np.int32 if n_rows < 2**31 else np.int64)
            self.slots[self.integers - low] = np.arange(n_rows)
            if n_rows and np.count_nonzero(self.slots >= 0) != n_rows:
                refuse_duplicates(first)
            self.integers = np.empty(0, dtype=np.int64)  # not a slice, which would keep the ids alive
        else:
            import pandas as pd

            self.index = pd.Index(self.integers)
            if not self.index.is_unique:
                refuse_duplicates(first)
            self.integers = np.empty(0, dtype=np.int64)

    def batch_rows(self, ids: pa.Array, start: int) -> Rows | slice | None:
        """The first file's rows for one block of a later file's ids (starting at row ``start`` of that file).

        An int array, a slice when text ids follow the first file's order, or None when an id
        is not in the first file or cannot be looked up block by block (``007`` among plain
        integers, text ids that are not ASCII): the caller then reads the whole file and
        :meth:`rows` says what is wrong, if anything. Repeated ids are the caller's to find
        (every row of the first file hit once).
        """
        if self.integers is None:
            stop = start + len(ids)
            if stop <= len(self.first.ids) and ids.equals(self.first.ids.slice(start, len(ids))):
                return slice(start, stop)
            if self.text is None:  # built once, at the first block in another order
                self.text = _SortedText(self.first.ids)
            return self.text.rows(ids)
        integers = integer_ids(ids)
        if integers is None:
            return None
        if self.slots is not None:
            shifted = integers - self.offset
            if shifted.min() < 0 or shifted.max() >= len(self.slots):
                return None
            rows = self.slots[shifted]
        else:
            assert self.index is not None  # integer ids have slots or an index
            rows = self.index.get_indexer(_as_index(integers))
        return None if rows.min() < 0 else rows

    def rows(self, table: Table) -> NDArray[np.int64]:
        """The row of the first file for each row of ``table``; errors name missing, extra or repeated ids."""
        import pyarrow as pa
        import pyarrow.compute as pc

        first = self.first
        integers = None if self.integers is None else integer_ids(table.ids)
        if integers is not None and self.slots is not None:
            shifted = integers - self.offset
            inside = (shifted >= 0) & (shifted < len(self.slots))
            if inside.all():
                rows = self.slots[shifted].astype(np.int64, copy=False)
            else:
                rows = np.full(len(integers), -1, dtype=np.int64)
                rows[inside] = self.slots[shifted[inside]]
            del shifted, inside
        elif integers is not None:
            assert self.index is not None
            rows = self.index.get_indexer(_as_index(integers)).astype(np.int64, copy=False)
        else:
            # Some ids are not plain integers (007 is not 7): compare them as text.
            position = pc.index_in(table.ids, value_set=first.ids)
            rows = position.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        unknown = rows < 0
        if unknown.any():
            check_unique_ids(table)
            extra = pc.filter(table.ids, pa.array(unknown))
            raise extra_ids_error(table.path, extra, first.path)
        # Every id is known: the file holds the same set iff each row of the first file is hit once.
        seen = np.zeros(len(first.ids), dtype=bool)
        seen[rows] = True
        if len(rows) != len(seen) or not seen.all():
            check_unique_ids(table)
            missing = pc.filter(first.ids, pa.array(np.logical_not(seen)))
            raise missing_ids_error(table.path, missing, first.path)
        return rows


def _as_index(integers: NDArray[np.int64]) -> pd.Index[int]:
    """The ids as a pandas index without a copy (what ``get_indexer`` makes of an array itself)."""
    import pandas as pd

    return pd.Index(integers, copy=False)


class _SortedText:
    """Text ids of the first file, hashed to 64-bit keys and sorted once, so that a later file's
    blocks are looked up by binary search on numbers (numpy's ``searchsorted``) and checked
    against the ids themselves: 12 bytes per id beyond the ids, where hashing a whole later
    file (``index_in``) holds several times its size at once.

    Only for ASCII ids without NUL bytes, at most ``_WIDEST`` bytes (they are hashed as bytes of
    one width, padded with NULs); otherwise :meth:`rows` is always None.
    """

    _WIDEST = 64

    def __init__(self, ids: pa.Array) -> None:
        self.keys: NDArray[np.uint64] | None = None
        fixed = _fixed_width(ids, widest=self._WIDEST)
        if fixed is None:
            return
        keys = hash_keys(fixed)
        order = np.argsort(keys)
        keys = keys[order]
        if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
            return  # two ids of the first file share a key (about 1 in 10**7 for a million ids)
        self.ids, self.keys, self.width = ids, keys, fixed.dtype.itemsize
        self.order = order.astype(np.int32) if len(order) < 2**31 else order

    def rows(self, ids: pa.Array) -> Rows | None:
        """The first file's row of each id, or None when some id is not there (or cannot be looked up)."""
        if self.keys is None:
            return None
        fixed = _fixed_width(ids, width=self.width)
        if fixed is None:
            return None
        keys = hash_keys(fixed)
        position = np.searchsorted(self.keys, keys)
        np.minimum(position, len(self.keys) - 1, out=position)
        if not (self.keys[position] == keys).all():
            return None
        rows = self.order[position]
        # The same key, the same id? (A different id sharing a key is not in the first file.)
        return rows if self.ids.take(rows).equals(ids) else None


def hash_keys(fixed: NDArray[np.bytes_]) -> NDArray[np.uint64]:
    """A 64-bit key for each fixed-width byte string: its 8-byte words mixed by multiplication."""
    n_rows, width = len(fixed), fixed.dtype.itemsize
    padded = np.zeros((n_rows, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = fixed.view(np.uint8).reshape(n_rows, width)
    words = padded.view(np.uint64)
    keys = np.zeros(n_rows, dtype=np.uint64)
    for k in range(words.shape[1]):
        keys ^= words[:, k]
        keys *= np.uint64(0x9E3779B97F4A7C15)
        keys ^= keys >> np.uint64(29)
    return keys


def _fixed_width(ids: pa.Array, *, width: int | None = None, widest: int = 64) -> NDArray[np.bytes_] | None:
    """Text ids as numpy bytes of one width, padded with NULs: ``width``, or the longest id's (up to
    ``widest``); None when an id is not ASCII, holds a NUL or is longer than that."""
    import pyarrow.compute as pc

    if len(ids) == 0 or not pc.all(pc.string_is_ascii(ids)).as_py() or pc.any(pc.match_substring(ids, "\x00")).as_py():
        return None
    longest = pc.max(pc.binary_length(ids)).as_py()
    if not 1 <= longest <= (widest if width is None else width):
        return None
    padded = pc.utf8_rpad(ids, width=longest, padding="\x00")
    offsets = np.frombuffer(padded.buffers()[1], dtype=np.int32)[padded.offset : padded.offset + len(ids) + 1]
    fixed = np.frombuffer(padded.buffers()[2], dtype=f"S{longest}", count=len(ids), offset=int(offsets[0]))
    if width is not None and width != longest:
        fixed = fixed.astype(f"S{width}")
    return fixed


def integer_ids(ids: pa.Array) -> NDArray[np.int64] | None:
    """The ids as int64 when every one is a plain integer written one way only (``7``, not ``007`` or ``+7``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) == 0 or not pc.all(pc.match_substring_regex(ids, r"^(0|-?[1-9][0-9]{0,17})$")).as_py():
        return None
    return pc.cast(ids, pa.int64()).to_numpy(zero_copy_only=False)

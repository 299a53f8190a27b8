"""Reading several prediction files into one :class:`~blender.io.predictions.Predictions`:
aligned by id, columns matched by name, many small files read a few at a time in threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.io import streaming
from blender.io.checks import (
    check_column_count,
    check_columns,
    check_first_is_not_a_broken_probability,
    check_same_columns,
    infer_kind,
    is_text,
    label_codes,
    numeric_column,
    refuse_text_among_numbers,
)
from blender.io.ids import RowIndex
from blender.io.logfile import note_input
from blender.io.paths import check_distinct_names, model_name
from blender.io.predictions import Kind, Predictions, Table
from blender.io.streaming import empty_like, release_memory
from blender.io.tables import prediction_columns, read_table


def read_predictions(
    paths: Sequence[Path],
    *,
    id_column: str | None = None,
    task: Kind | None = None,
    like: Predictions | None = None,
    classes: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Predictions:
    """Read prediction files, check them against the contract, align their rows by id and their columns by name.

    Parameters
    ----------
    paths : sequence of Path
        At least one ``.csv``, ``.csv.gz`` or ``.parquet`` file; the first sets the ids, their
        order and (without ``like``) the column order.
    id_column : str, default=None
        The id column's name; None takes the first file's first column.
    task : {"labels", "binary", "multiclass", "regression"}, default=None
        Overrides the kind inferred from the first file.
    like : Predictions, default=None
        Predictions these must match in kind and columns (OOF files matched to test files): the
        columns are matched by name and put in ``like``'s order; for labels, ``like.classes``
        join the class list. The ids are this set's own.
    classes : iterable of str, default=None
        Labels only: more labels for the class list (e.g. the truth's), which is the sorted
        union of these and every label in the files. Ignored for the other kinds.
    progress : callable, default=None
        Called as ``progress(done, total, detail)`` after each file; :class:`blender.progress.Ticker`
        decides what the user sees.

    Returns
    -------
    Predictions
        ``values`` of shape (n_models, n_rows, n_cols), float64.

    Raises
    ------
    BlendInputError
        For every item of the contract's "Bad input" list.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("id,B,A\\n1,0.25,0.75\\n2,0.5,0.5\\n")
    >>> _ = (folder / "b.csv").write_text("id,A,B\\n2,0.1,0.9\\n1,1,0\\n")
    >>> p = read_predictions([folder / "a.csv", folder / "b.csv"])
    >>> p.kind, p.columns, p.values.shape
    ('multiclass', ['B', 'A'], (2, 2, 2))
    >>> p.values[1].tolist()    # b.csv's rows and columns in a.csv's order
    [[0.0, 1.0], [0.9, 0.1]]
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise BlendInputError("no prediction files given; name them, e.g. blend average submissions/*.csv.")
    check_distinct_names(paths)
    n_models = len(paths)
    # One file at a time (large files), pyarrow parses on one thread: its threads' allocator
    # caches would otherwise keep tens of MB after each file (measured: 30 MB for 1M rows).
    one_by_one = not _reads_ahead(paths[1:])
    first = read_table(paths[0], id_column, threads=not one_by_one)
    row_index = RowIndex(first)  # also refuses a repeated id in the first file
    id_name = first.id_column
    reference = paths[0] if like is None else like.paths[0]
    if like is not None:
        check_columns(first, like.columns, like.paths[0])
        task = like.kind
        columns = list(like.columns)
    else:
        columns = list(first.columns)
    kind = task or infer_kind(first)
    if task is None and kind == "labels" and n_models > 1 and is_text(first.columns[columns[0]]):
        refuse_text_among_numbers(first, columns[0], read_table(paths[1], id_name))
    as_text = kind == "labels"
    if as_text and not all(is_text(array) for array in first.columns.values()):
        # Labels are text: read again so that 007 stays 007 rather than the integer 7.
        first = read_table(paths[0], id_column, as_text=True, threads=not one_by_one)
    check_column_count(paths[0], kind, columns)

    n_rows = len(first.ids)
    # Labels get their values once every file's labels are known (no columns until then).
    values = np.empty((n_models, n_rows, 0 if kind == "labels" else len(columns)))
    label_sets: list[tuple[list[str], NDArray[np.int32], NDArray[np.int64] | None]] = []
    later_id = id_name if id_column is None else id_column

    def read_later(path: Path) -> Table:
        return read_table(path, later_id, as_text=as_text, threads=not one_by_one)

    # Large files are read one at a time; each later one is streamed straight into its rows of
    # ``values`` (see stream_into), so that the peak stays near the bytes of ``values`` itself.
    stream = kind != "labels" and one_by_one
    others = iter(()) if stream else _read_ahead(paths[1:], read_later)
    if stream:
        release_memory()
    for position, path in enumerate(paths):
        if (
            position > 0
            and stream
            and streaming.stream_into(path, later_id, columns, kind, row_index, values[position])
        ):
            release_memory()
            if progress is not None:
                progress(position + 1, n_models, f"{path} ({n_rows:,} rows)")
            continue
        table = first if position == 0 else read_later(path) if stream else next(others)
        if position > 0 and like is None:
            check_same_columns(paths, position, id_name, columns, list(table.columns), prediction_columns)
        elif position > 0:
            check_columns(table, columns, reference)
        # Files usually list the ids in the same order; only reorder when they do not.
        rows = None if position == 0 or table.ids.equals(first.ids) else row_index.rows(table)
        if kind == "labels":
            label_sets.append((*label_codes(table, columns[0]), rows))
        else:
            for k, column in enumerate(columns):
                converted = numeric_column(table, column, kind)
                if rows is None:
                    values[position, :, k] = converted
                else:
                    values[position, rows, k] = converted
                del converted  # a view of the table's column: let it go with the table
        del table, rows
        if position == 0 and kind != "labels":
            # Keep the first file's ids and path only: its columns are in ``values`` now. (A slice
            # [:0] would keep each column's buffer alive.)
            first = replace(first, columns={name: empty_like(first.columns[name]) for name in first.columns})
            row_index.first = first
        if stream:
            release_memory()
        if progress is not None:
            progress(position + 1, n_models, f"{path} ({n_rows:,} rows)")

    if task is None and kind == "regression" and n_models > 1:
        check_first_is_not_a_broken_probability(first, columns[0], values)

    out_classes: list[str] | None
    if kind == "labels":
        every = set(classes or ()) | set(like.classes if like is not None and like.classes else ())
        for local, _, _ in label_sets:
            every.update(local)
        out_classes = sorted(every)
        index = {label: k for k, label in enumerate(out_classes)}
        values = np.zeros((n_models, n_rows, len(out_classes)))
        for position, (local, codes, rows) in enumerate(label_sets):
            mapped = np.array([index[label] for label in local], dtype=np.int64)[codes]
            values[position, np.arange(n_rows) if rows is None else rows, mapped] = 1.0
    else:
        out_classes = columns if kind == "multiclass" else None
    for path in paths:
        note_input(path, n_rows)
    return Predictions(
        paths=paths,
        names=[model_name(p) for p in paths],
        id_column=id_name,
        ids=first.ids,
        columns=columns,
        kind=kind,
        values=values,
        classes=out_classes,
    )


# Files smaller than this are read a few at a time in threads (pyarrow releases the GIL), which
# pays off for hundreds of OOF files; larger ones are read one by one to keep the memory peak low.
READ_AHEAD_BYTES = 8 << 20

_READ_AHEAD = 4


def _reads_ahead(paths: list[Path]) -> bool:
    """Whether :func:`_read_ahead` reads these files a few at a time in threads (many small files)."""
    try:
        small = bool(paths) and paths[0].stat().st_size < READ_AHEAD_BYTES
    except OSError:
        small = False
    return len(paths) >= 3 and small


def _read_ahead(paths: list[Path], read: Callable[[Path], Table]) -> Iterator[Table]:
    """Yield ``read(path)`` for each path in order, reading up to a few small files ahead in threads.

    An error is raised when its file's turn comes, so the first bad file in the given order is
    the one reported.
    """
    if not _reads_ahead(paths):
        for path in paths:
            yield read(path)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=_READ_AHEAD) as pool:
        waiting = iter(paths)
        # range first: zip stops there before taking a path it would drop.
        pending = deque(pool.submit(read, path) for _, path in zip(range(_READ_AHEAD), waiting))
        try:
            while pending:
                table = pending.popleft().result()
                following = next(waiting, None)
                if following is not None:
                    pending.append(pool.submit(read, following))
                yield table
        finally:
            for future in pending:
                future.cancel()


def read_history(history: Path, *, like: Predictions, id_column: str | None = None) -> NDArray[np.float64]:
    """Earlier predictions for ``blend rank-average --history``, one set per file of ``like``.

    ``history`` is one earlier file used for every file, or a folder holding a file of the same
    name for each file. Returns (n_models, n_history, n_cols), columns matched by name.
    """
    history = Path(history)
    if history.is_dir():
        paths = [history / path.name for path in like.paths]
        missing = [path for path in paths if not path.exists()]
        if missing:
            raise BlendInputError(
                f"{missing[0]} not found: --history {history} needs NAME.csv for each file "
                f"({len(missing)} missing); or pass one file to rank every file against."
            )
        return read_predictions(paths, id_column=id_column, like=like).values
    single = read_predictions([history], id_column=id_column, like=like).values
    return np.repeat(single, like.n_models, axis=0)

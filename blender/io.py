"""Reading, aligning, validating and writing prediction files: the only module that touches files.

Files are CSV (``.csv``, ``.csv.gz``, read with pyarrow's CSV reader) or Parquet (``.parquet``),
chosen by the file name. Large prediction files are read one at a time, and every CSV file
after the first is streamed block by block straight into its rows of ``values``, so that a
command's peak memory stays near the bytes of ``values``; many small files are read a few at a
time in threads. Ids are read as text, so ``007`` stays ``007``; rows
are matched by id and class columns by name, never by position. Every check of the contract's
"Bad input" list lives here and raises :class:`BlendInputError` with one line that names the
file, the id or column, and the fix; Parquet files get the same checks and the same messages
as CSV files. Outputs are written to a temporary file beside the target and renamed, so a
failed run never leaves a half-written file; :class:`OutputGroup` renames several outputs of
one command only when all of them were written.

Every prediction set is one float64 array ``values`` of shape ``(n_models, n_rows, n_cols)``
(see :mod:`blender.layout`): one column for binary probabilities and regression, one per
class (in the first file's column order) for class probabilities, and one-hot votes over the
sorted class labels for labels.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io as _stdio
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError

Kind = Literal["labels", "binary", "multiclass", "regression"]
KINDS = ("labels", "binary", "multiclass", "regression")
SUFFIXES = (".csv.gz", ".csv", ".parquet")
DEFAULT_GLOB = "submissions/*.csv"
_EXAMPLES = 3
# A number as pyarrow's CSV reader parses one; anything else in a numeric column is a bad cell.
# (Python's float() is laxer: it takes "0_5" and " 2", which pyarrow leaves as text.)
_FLOAT = r"^[+-]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[Nn][Aa][Nn]|[Ii][Nn][Ff]([Ii][Nn][Ii][Tt][Yy])?)$"
# pyarrow reads CSV in blocks; a row longer than a block is refused, so retry with larger blocks.
_BLOCK_SIZES = (None, 1 << 24, 1 << 28, (1 << 31) - 1)
_GZIP_ERRORS = (EOFError, zlib.error)


@dataclass(frozen=True)
class Predictions:
    """Several models' predictions for the same rows, aligned by id to the first file.

    Attributes
    ----------
    paths : list of Path
        The files, in the order given.
    names : list of str
        Model names: each file's name without ``.csv``, ``.csv.gz`` or ``.parquet``.
    id_column : str
        Name of the id column (written back unchanged).
    ids : pyarrow.Array of str
        The ids in the first file's order (kept in Arrow: millions of Python strings are slow).
    columns : list of str
        The prediction columns after the id, in the first file's order (for a set read with
        ``like=``, in that set's order).
    kind : {"labels", "binary", "multiclass", "regression"}
    values : ndarray of shape (n_models, n_rows, n_cols), float64
        ``n_cols == 1`` for binary and regression; one column per class for class
        probabilities (ordered as ``columns``); for labels, one-hot 0/1 over ``classes``.
    classes : list of str or None
        The sorted label strings (labels), the class columns (multiclass), else None.
    """

    paths: list[Path]
    names: list[str]
    id_column: str
    ids: object
    columns: list[str]
    kind: Kind
    values: NDArray[np.float64]
    classes: list[str] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    @property
    def n_samples(self) -> int:
        """Same as ``n_rows`` (the older name)."""
        return len(self.ids)

    @property
    def n_models(self) -> int:
        return len(self.paths)

    @property
    def n_cols(self) -> int:
        return int(self.values.shape[2])

    def id_array(self) -> NDArray:
        """The ids as a numpy array of str (slow for millions of rows; for messages and tests)."""
        return np.asarray(self.ids.to_pylist(), dtype=object)

    def label_strings(self, votes: NDArray) -> NDArray:
        """Map votes over ``classes`` back to label strings: the argmax of each row, the first class on a tie.

        Parameters
        ----------
        votes : ndarray of shape (n_rows, n_classes) or (n_models, n_rows, n_classes)
            One-hot rows (``values[m]``), vote counts or vote shares (a blend), over ``classes``.

        Returns
        -------
        ndarray of str (object) of shape (n_rows,) or (n_models, n_rows)

        Examples
        --------
        >>> import pyarrow as pa
        >>> votes = np.array([[[0, 1.0], [1, 0]], [[0, 1], [0, 1]]])
        >>> p = Predictions([Path("a.csv"), Path("b.csv")], ["a", "b"], "id", pa.array(["1", "2"]), ["label"],
        ...                 "labels", votes, ["cat", "dog"])
        >>> p.label_strings(p.values.sum(axis=0)).tolist()   # a tie on row 2 goes to the first class
        ['dog', 'cat']
        """
        if self.classes is None:
            raise ValueError("label_strings needs class labels or class columns; these predictions have none")
        return np.asarray(self.classes, dtype=object)[np.argmax(np.asarray(votes), axis=-1)]

    def with_classes(self, classes: Sequence[str]) -> Predictions:
        """The same labels one-hot over a larger sorted class list (labels only).

        >>> import pyarrow as pa
        >>> p = Predictions([Path("a.csv")], ["a"], "id", pa.array(["1"]), ["label"], "labels",
        ...                 np.array([[[0.0, 1.0]]]), ["cat", "dog"])
        >>> p.with_classes(["ant", "cat", "dog"]).values.tolist()
        [[[0.0, 0.0, 1.0]]]
        """
        if self.kind != "labels":
            raise ValueError(f"with_classes is for labels, not {self.kind}")
        classes = list(classes)
        if classes == self.classes:
            return self
        index = {label: k for k, label in enumerate(classes)}
        missing = [label for label in self.classes if label not in index]
        if missing:
            raise ValueError(f"the new classes lack {missing[:3]}")
        values = np.zeros((self.n_models, self.n_rows, len(classes)))
        values[:, :, [index[label] for label in self.classes]] = self.values
        return replace(self, values=values, classes=classes)


@dataclass(frozen=True)
class LearningSet:
    """Test predictions, the matching OOF (or holdout) predictions, and the truth for the latter.

    Attributes
    ----------
    test : Predictions
        The submissions, ids in the first test file's order.
    train : Predictions
        The same models' OOF (or holdout) predictions: same names, kind and columns (in the
        test files' column order); ids in the first OOF file's order. For labels, ``test``
        and ``train`` share one sorted ``classes`` list that also holds every truth label.
    y : ndarray of shape (train.n_rows,)
        The truth in ``train``'s row order: int 0/1 (binary), int index into the class
        columns (multiclass) or into ``classes`` (labels), float64 (regression).
    truth_path : Path
    target : BinaryTarget or None
        For binary files: the truth's two labels and which is positive (see
        :func:`blender.validate.binary_target`).
    """

    test: Predictions
    train: Predictions
    y: NDArray
    truth_path: Path
    target: object = None
    metric: str | None = None  # the metric a command chose for these files


@dataclass(frozen=True)
class _Table:
    """One file as read: its ids and its prediction columns, not yet checked against others."""

    path: Path
    id_column: str
    ids: object  # pyarrow string array
    columns: dict[str, object]  # name -> pyarrow array


def model_name(path: Path) -> str:
    """``submissions/oof/knn_5.csv.gz`` -> ``knn_5``; ``nn.parquet`` -> ``nn``.

    >>> model_name(Path("submissions/oof/knn_5.csv.gz")), model_name(Path("nn.parquet"))
    ('knn_5', 'nn')
    """
    name = Path(path).name
    for suffix in (*SUFFIXES, ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def resolve_paths(patterns: Sequence[str] | None, *, default: str = DEFAULT_GLOB) -> list[Path]:
    """Turn the command line's FILES into paths: an existing path is a file name, anything else with
    ``*``, ``?`` or ``[`` a glob (sorted); ``default`` when none are given.

    A glob that matches nothing is a :class:`BlendInputError`; a plain name that does not exist
    is kept, so that the reader says which file is missing.

    >>> resolve_paths(["b.csv", "a.csv"])
    [PosixPath('b.csv'), PosixPath('a.csv')]
    """
    paths: list[Path] = []
    for pattern in patterns or [default]:
        pattern = str(pattern)
        if os.path.lexists(pattern) or not glob.has_magic(pattern):
            paths.append(Path(pattern))
            continue
        matched = sorted(glob.glob(pattern))
        if not matched:
            hint = "run make oof, or name the files" if pattern == default else "check the pattern"
            raise BlendInputError(f"no files match {pattern}; {hint}.")
        paths.extend(Path(p) for p in matched)
    return paths


# ---------------------------------------------------------------------------- reading


def read_predictions(
    paths: Sequence[Path],
    *,
    id_column: str | None = None,
    task: Kind | None = None,
    like: Predictions | None = None,
    classes: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
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
    _check_distinct_names(paths)
    n_models = len(paths)
    # One file at a time (large files), pyarrow parses on one thread: its threads' allocator
    # caches would otherwise keep tens of MB after each file (measured: 30 MB for 1M rows).
    one_by_one = not _reads_ahead(paths[1:])
    first = _read_table(paths[0], id_column, threads=not one_by_one)
    row_index = _RowIndex(first)  # also refuses a repeated id in the first file
    id_name = first.id_column
    reference = paths[0] if like is None else like.paths[0]
    if like is not None:
        _check_columns(first, like.columns, like.paths[0])
        task = like.kind
        columns = list(like.columns)
    else:
        columns = list(first.columns)
    kind = task or _infer_kind(first)
    if task is None and kind == "labels" and n_models > 1 and _is_text(first.columns[columns[0]]):
        _refuse_text_among_numbers(first, columns[0], _read_table(paths[1], id_name))
    as_text = kind == "labels"
    if as_text and not all(_is_text(array) for array in first.columns.values()):
        # Labels are text: read again so that 007 stays 007 rather than the integer 7.
        first = _read_table(paths[0], id_column, as_text=True, threads=not one_by_one)
    check_column_count(paths[0], kind, columns)

    n_rows = len(first.ids)
    values = None if kind == "labels" else np.empty((n_models, n_rows, len(columns)))
    label_sets: list[tuple[list[str], NDArray, NDArray | None]] = []
    later_id = id_name if id_column is None else id_column

    def read_later(path: Path) -> _Table:
        return _read_table(path, later_id, as_text=as_text, threads=not one_by_one)

    # Large files are read one at a time; each later one is streamed straight into its rows of
    # ``values`` (see _stream_into), so that the peak stays near the bytes of ``values`` itself.
    stream = kind != "labels" and one_by_one
    others = iter(()) if stream else _read_ahead(paths[1:], read_later)
    if stream:
        _release_memory()
    for position, path in enumerate(paths):
        if position > 0 and stream and _stream_into(path, later_id, columns, kind, row_index, values[position]):
            _release_memory()
            if progress is not None:
                progress(position + 1, n_models, f"{path} ({n_rows:,} rows)")
            continue
        table = first if position == 0 else read_later(path) if stream else next(others)
        if position > 0:
            _check_columns(table, columns, reference)
        # Files usually list the ids in the same order; only reorder when they do not.
        rows = None if position == 0 or table.ids.equals(first.ids) else row_index.rows(table)
        if kind == "labels":
            label_sets.append((*_label_codes(table, columns[0]), rows))
        else:
            for k, column in enumerate(columns):
                converted = _numeric(table, column, kind)
                if rows is None:
                    values[position, :, k] = converted
                else:
                    values[position, rows, k] = converted
                del converted  # a view of the table's column: let it go with the table
        del table, rows
        if position == 0 and kind != "labels":
            # Keep the first file's ids and path only: its columns are in ``values`` now. (A slice
            # [:0] would keep each column's buffer alive.)
            first = replace(first, columns={name: _empty_like(first.columns[name]) for name in first.columns})
            row_index.first = first
        if stream:
            _release_memory()
        if progress is not None:
            progress(position + 1, n_models, f"{path} ({n_rows:,} rows)")

    if task is None and kind == "regression" and n_models > 1:
        _check_first_is_not_a_broken_probability(first, columns[0], values)

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
_READ_AHEAD_BYTES = 8 << 20
_READ_AHEAD = 4


def _reads_ahead(paths: list[Path]) -> bool:
    """Whether :func:`_read_ahead` reads these files a few at a time in threads (many small files)."""
    try:
        small = bool(paths) and paths[0].stat().st_size < _READ_AHEAD_BYTES
    except OSError:
        small = False
    return len(paths) >= 3 and small


def _read_ahead(paths: list[Path], read: Callable[[Path], _Table]):
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


# Blocks of the streaming reader: small, so that the few blocks it reads ahead stay a few MB.
_STREAM_BLOCK = 128 << 10


def _stream_into(path: Path, id_column: str, columns: list[str], kind: Kind, row_index: _RowIndex,
                 out: NDArray[np.float64]) -> bool:
    """Read a later CSV file block by block, one thread, straight into ``out`` (n_rows, n_cols): rows by id, columns by name.

    The whole file is never held: pyarrow's threaded reader and the allocator's cache would hold
    several times its float bytes. True when the file passes every check of the full path (same
    columns, finite numbers, [0, 1] for probabilities, exactly the first file's ids); False at the
    first thing this does not handle (a bad input, ids :meth:`_RowIndex.batch_rows` cannot look
    up, a row longer than a block, a -0, Parquet): the caller then reads the file in full, which
    fills ``out`` again or raises the message for what is wrong.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if _is_parquet(path):
        return False
    header, name = _checked_header(path, id_column)
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
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(use_threads=False, block_size=_STREAM_BLOCK),
                                convert_options=convert)
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


def _release_memory() -> None:
    """Give the pages Arrow's allocator keeps for reuse (mimalloc, jemalloc) back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _empty_like(array):
    """A zero-length array of the same type that does not keep ``array``'s buffers alive."""
    import pyarrow as pa

    return pa.array([], type=array.type)


def read_learning(
    test_paths: Sequence[Path],
    *,
    train_dir: Path,
    truth: Path,
    id_column: str | None = None,
    task: Kind | None = None,
    role: str = "OOF",
    command_name: str,
    make_target: str = "make oof",
    dir_option: str = "--oof-dir",
    positive: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> LearningSet:
    """Read the test files, the same models' OOF (or holdout) files and the truth for the latter.

    Each test file ``NAME.csv`` (``.csv.gz``, ``.parquet``) is paired with
    ``train_dir/NAME.csv``, the same file name. The OOF files must match the test files in
    kind and columns (matched by name); their rows are matched with the truth by id. For
    labels, the truth is read as text as the predictions are (``007`` stays ``007``), and the
    test set, the OOF set and ``y`` share one sorted class list: every label in any of them.

    Parameters
    ----------
    test_paths : sequence of Path
    train_dir : Path
        The folder of the OOF (or holdout) files.
    truth : Path
        ``id,<target>`` covering every OOF id.
    role, command_name, make_target, dir_option : str
        Words for the message when an OOF file is missing:
        ``PATH not found: COMMAND learns from ROLE predictions (run MAKE_TARGET, or pass DIR_OPTION).``
    positive : str, default=None
        The positive class of a binary truth with two labels (``--positive``); by default the
        class the column is named after, else the second label in sorted order.

    Returns
    -------
    LearningSet

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "oof").mkdir(), (folder / "nn.csv").write_text("id,label\\n9,007\\n")
    >>> _ = (folder / "oof" / "nn.csv").write_text("id,label\\n1,007\\n2,7\\n")
    >>> _ = (folder / "truth.csv").write_text("id,label\\n2,7\\n1,08\\n")
    >>> learning = read_learning([folder / "nn.csv"], train_dir=folder / "oof", truth=folder / "truth.csv",
    ...                          command_name="stack")
    >>> learning.train.classes, learning.y.tolist()
    (['007', '08', '7'], [1, 2])
    """
    test = read_predictions(test_paths, id_column=id_column, task=task, progress=progress)
    train_paths = [Path(train_dir) / path.name for path in test.paths]
    for path in train_paths:
        if not path.exists():
            raise BlendInputError(
                f"{path} not found: {command_name} learns from {role} predictions (run {make_target}, or pass {dir_option})."
            )
    train = _sorted_by_id(read_predictions(train_paths, id_column=id_column, like=test, progress=progress))
    if train.kind == "regression":
        _refuse_huge(train)
    raw = read_truth(
        truth, train.ids, id_column=id_column, source=train.paths[0], as_text=test.kind != "regression"
    )
    from blender.validate import binary_target, encode_truth

    if positive is not None and test.kind != "binary":
        raise BlendInputError(
            f"--positive {positive}: only a binary target has a positive class, and {test.paths[0]} holds "
            f"{_KIND_WORDS[test.kind]}; drop --positive."
        )
    if test.kind == "binary":
        target = binary_target(raw, column=test.columns[0], positive=positive, truth_path=truth,
                               reference_path=test.paths[0])
        return LearningSet(test=test, train=train, y=target.encode(raw), truth_path=Path(truth), target=target)
    classes = None
    if test.kind == "labels":
        classes = sorted(set(train.classes) | set(test.classes) | set(np.unique(raw.astype(str)).tolist()))
        test, train = test.with_classes(classes), train.with_classes(classes)
    y = encode_truth(raw, kind=test.kind, columns=test.columns, classes=classes, truth_path=truth, reference_path=test.paths[0])
    return LearningSet(test=test, train=train, y=y, truth_path=Path(truth))


#: Commands that learn refuse OOF values and targets beyond this size: a sum of a billion squares
#: of them stays finite (1e100 squared is 1e200), so every metric and meta-learner sees finite
#: numbers. Commands on files alone (vote, average, rank-average) take any finite number.
LARGEST_VALUE = 1e100

_KIND_WORDS = {"labels": "class labels", "multiclass": "class probabilities", "regression": "regression values",
               "binary": "binary probabilities"}


def _sorted_by_id(predictions: Predictions) -> Predictions:
    """The rows in the order of their ids (as text).

    Folds are assigned by row position, so learning rows in a canonical order makes every
    learned blend independent of the order in which the OOF files list their ids.
    """
    import pyarrow.compute as pc

    order = pc.sort_indices(predictions.ids).to_numpy()
    if np.array_equal(order, np.arange(order.shape[0])):
        return predictions
    return replace(predictions, ids=predictions.ids.take(order), values=np.ascontiguousarray(predictions.values[:, order]))


def read_truth(
    path: Path, ids: object, *, id_column: str | None = None, source: Path | None = None, as_text: bool = False
) -> NDArray:
    """Read ``id,<target>`` and return the targets in the order of ``ids``.

    The truth may hold more rows than ``ids`` (e.g. all training rows for a holdout slice) but
    must cover every one of them.

    Parameters
    ----------
    as_text : bool, default=False
        Read the target as text, as labels are read (``007`` stays ``007``).

    Returns
    -------
    ndarray of shape (n_samples,)
        Text as str (object); otherwise numbers as int64 or float64, or text if not numbers.
    """
    import pyarrow.compute as pc

    table = _read_table(Path(path), id_column, as_text=as_text)
    _check_unique_ids(table)
    if len(table.columns) != 1:
        raise BlendInputError(
            f"{path}: the truth has one column after the id, found {len(table.columns)} "
            f"({_short(list(table.columns))}); keep only id and the target."
        )
    (target_name, target), = table.columns.items()
    if target.null_count:
        raise _cell_error(table, target_name, target.is_null(), "NaN or empty cells", "fill in every target")
    position = pc.index_in(ids, value_set=table.ids)
    if position.null_count:
        missing = pc.filter(ids, position.is_null())
        raise BlendInputError(
            f"{path}: {len(missing):,} ids of {source or 'the predictions'} have no truth "
            f"(e.g. {_examples(missing)}); the truth must cover every row it scores."
        )
    taken = target.take(position)
    values = taken.to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        if np.isnan(values).any():
            raise _cell_error(table, target_name, pc.is_nan(target), "NaN or empty cells", "fill in every target")
        raise _cell_error(table, target_name, pc.invert(pc.is_finite(target)), "inf cells", "fill in every target")
    if values.dtype.kind in "iuf" and values.size and np.abs(values).max() > LARGEST_VALUE:
        index = int((np.abs(values) > LARGEST_VALUE).argmax())
        raise BlendInputError(
            f"{path}: {values[index]:g} at id {_id(ids[index].as_py())} (column {_show(target_name)}) is beyond "
            f"±{LARGEST_VALUE:g}, where squared errors overflow; rescale the target and the predictions."
        )
    if values.dtype.kind in "OUSb":
        values = values.astype(str).astype(object)
    return values


def read_target(path: Path, *, id_column: str | None = None) -> NDArray:
    """Every target of a truth file as text (``id,<target>``), in its row order: its labels, for ``blend vote``."""
    table = _read_table(Path(path), id_column, as_text=True)
    if len(table.columns) != 1:
        raise BlendInputError(
            f"{path}: the truth has one column after the id, found {len(table.columns)} "
            f"({_short(list(table.columns))}); keep only id and the target."
        )
    (target_name, target), = table.columns.items()
    if target.null_count:
        raise _cell_error(table, target_name, target.is_null(), "NaN or empty cells", "fill in every target")
    return target.to_numpy(zero_copy_only=False).astype(object)


def read_features(
    train_path: Path, test_path: Path, train_ids: object, test_ids: object, *, id_column: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Read original features for the OOF rows and the test rows, aligned by id.

    Numeric columns are kept; text columns are one-hot encoded with the categories seen in
    either file; columns named like the target are not allowed to sneak in (drop them first).
    Either file may be CSV or Parquet.

    Returns
    -------
    train : ndarray of shape (n_train, n_features)
    test : ndarray of shape (n_test, n_features)
    names : list of str
    """
    import pandas as pd
    import pyarrow.compute as pc

    frames = []
    for path, ids in ((Path(train_path), train_ids), (Path(test_path), test_ids)):
        table = _read_table(path, id_column)
        _check_unique_ids(table)
        position = pc.index_in(ids, value_set=table.ids)
        if position.null_count:
            missing = pc.filter(ids, position.is_null())
            raise BlendInputError(
                f"{path}: {len(missing):,} ids of the predictions have no features (e.g. {_examples(missing)}); "
                "the features file must cover every prediction row."
            )
        frame = pd.DataFrame({name: array.take(position).to_pandas() for name, array in table.columns.items()})
        frames.append(frame)
    train, test = frames
    if list(train.columns) != list(test.columns):
        raise BlendInputError(
            f"{test_path}: columns differ from {train_path}: expected {_short(list(train.columns))}, "
            f"found {_short(list(test.columns))}."
        )
    both = pd.get_dummies(pd.concat([train, test], ignore_index=True), dummy_na=False, dtype=float)
    both = both.astype(float)
    if both.isna().any().any():
        column = both.columns[both.isna().any()][0]
        raise BlendInputError(
            f"{train_path if both[column][: len(train)].isna().any() else test_path}: NaN or empty cells in "
            f"feature column {_show(column)}; impute them before stacking."
        )
    values = both.to_numpy()
    return values[: len(train)], values[len(train) :], [str(c) for c in both.columns]


@dataclass(frozen=True, eq=False)
class Sample:
    """A competition's ``sample_submission.csv``, matched to a set of predictions.

    Attributes
    ----------
    path : Path
    id_column : str
        The sample's id header, which the output takes.
    columns : list of str
        The sample's prediction headers, in its order.
    ids : pyarrow string array
        The sample's ids as it writes them (``0007`` stays ``0007``), in its order.
    rows : ndarray of shape (n_rows,)
        For each sample row, the matching row of the predictions.
    column_order : list of int
        For each sample column, the matching column of the predictions.
    by_number : bool
        True when the ids matched only as numbers (the sample writes ``0007``, the files ``7``).
    """

    path: Path
    id_column: str
    columns: list[str]
    ids: object
    rows: NDArray[np.int64]
    column_order: list[int]
    by_number: bool = False

    def arrange(self, values: NDArray) -> NDArray:
        """A blend's rows (and class columns) in the sample's order."""
        values = np.asarray(values)[self.rows]
        return values[:, self.column_order] if values.ndim == 2 else values


def read_sample(path: Path, *, like: Predictions, id_column: str | None = None) -> Sample:
    """Read ``sample_submission.csv`` and match it to ``like``: the same ids, the same column names.

    Ids are matched as text; where some differ only in how a number is written (``0007`` and
    ``7``), they are matched as numbers, and the output takes the sample's text. Class columns
    are matched by name. Missing or extra ids, a column name the predictions do not have, or
    another number of columns are refused with one line.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.csv").write_text("id,target\\n7,0.9\\n8,0.1\\n")
    >>> _ = (folder / "sample.csv").write_text("Id,target\\n0008,0.5\\n0007,0.5\\n")
    >>> sample = read_sample(folder / "sample.csv", like=read_predictions([folder / "a.csv"]))
    >>> sample.ids.to_pylist(), sample.rows.tolist(), sample.by_number
    (['0008', '0007'], [1, 0], True)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    if not path.is_file():
        raise BlendInputError(f"--sample {path} not found; name the competition's sample_submission.csv.")
    header = _header(path) if not _is_parquet(path) else None
    name = id_column if id_column is not None and header is not None and id_column in header else None
    table = _read_table(path, name, as_text=True)
    _check_unique_ids(table)
    columns = list(table.columns)
    expected = list(like.columns)
    if len(columns) != len(expected):
        raise BlendInputError(
            f"{path}: {len(columns)} column{'s' if len(columns) != 1 else ''} after the id ({_short(columns)}), and the "
            f"blend has {len(expected)} ({_short(expected)}); is this the sample of the same competition?"
        )
    unknown = [column for column in columns if column not in expected]
    if unknown:
        raise BlendInputError(
            f"{path}: column {_show(unknown[0])} is not a column of {like.paths[0]} (columns {_short(expected)}); "
            "name the prediction columns as the sample does."
        )
    sample_ids = table.ids
    ours = like.ids.cast(pa.string())
    position = pc.index_in(sample_ids, value_set=ours)
    by_number = False
    if position.null_count:
        sample_numbers, our_numbers = _whole_number_ids(sample_ids), _whole_number_ids(ours)
        if sample_numbers is not None and our_numbers is not None and len(pc.unique(our_numbers)) == len(our_numbers):
            by_number = True
            position = pc.index_in(sample_numbers, value_set=our_numbers)
    if position.null_count:
        missing = pc.filter(sample_ids, position.is_null())
        raise BlendInputError(
            f"{path}: {len(missing):,} ids of the sample are not in {like.paths[0]} (e.g. {_examples(missing)}); "
            "the predictions must hold every id of the sample."
        )
    if len(sample_ids) != len(ours):
        found = np.zeros(len(ours), dtype=bool)
        found[position.to_numpy(zero_copy_only=False)] = True
        extra = pc.filter(ours, pa.array(~found))
        raise BlendInputError(
            f"{path}: {len(extra):,} ids of {like.paths[0]} are not in the sample (e.g. {_examples(extra)}); "
            "the predictions must hold exactly the sample's ids."
        )
    return Sample(path, table.id_column, columns, sample_ids, position.to_numpy(zero_copy_only=False).astype(np.int64),
                  [expected.index(column) for column in columns], by_number)


def _whole_number_ids(ids):
    """Ids as int64 when every one is an integer, however written (``0007``, ``+7``), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) == 0 or not pc.all(pc.match_substring_regex(ids, r"^[+-]?[0-9]{1,18}$")).as_py():
        return None
    return pc.cast(ids, pa.int64())


# ---------------------------------------------------------------------------- writing


def write_predictions(
    path: Path,
    ids: object,
    values: NDArray,
    *,
    columns: Sequence[str],
    id_column: str = "id",
) -> None:
    """Write ``id,<columns>`` atomically: to a temporary file beside ``path``, then renamed.

    The format follows the name: ``.parquet`` is Parquet, ``.gz`` gzip-compressed CSV, anything
    else CSV. CSV floats are written with the shortest text that reads back to the same
    number; the header and any text cell holding a comma or a quote are quoted.

    Parameters
    ----------
    ids : pyarrow.Array or array-like of str, shape (n_rows,)
    values : ndarray of shape (n_rows,) or (n_rows, n_columns)
        Floats, integers or labels (str, object).
    columns : sequence of str
        One name per column of ``values``.
    """
    _write_predictions_to(Path(path), ids, values, columns=columns, id_column=id_column, target=Path(path))


def check_output_path(path: Path, *, option: str = "--out", figure: bool = False) -> Path:
    """Refuse an output path that cannot be written before any work is done.

    A folder, a path under an existing file, or (``figure=True``) a suffix matplotlib cannot
    write is a :class:`BlendInputError` naming ``option``.

    >>> check_output_path(Path("blends/vote.csv"))
    PosixPath('blends/vote.csv')
    >>> check_output_path(Path("."), option="-o")
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: -o .: is a folder; name the file to write, e.g. -o ./blend.csv.
    """
    path = Path(path)
    if path.is_dir():
        example = "plot.png" if figure else "blend.csv"
        raise BlendInputError(f"{option} {path}: is a folder; name the file to write, e.g. {option} {path}/{example}.")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise BlendInputError(f"{option} {path}: {parent} is a file, not a folder; choose another path.")
    if figure:
        formats = _figure_formats()
        suffix = path.suffix.lstrip(".").lower()
        if suffix not in formats:
            raise BlendInputError(
                f"{option} {path}: cannot draw a figure as '{path.suffix or '(no suffix)'}'; "
                f"end the name with one of {', '.join('.' + f for f in sorted(formats))}."
            )
    return path


class OutputGroup:
    """All-or-nothing outputs of one command.

    Each output is checked when it is added (:func:`check_output_path`), then written to a
    temporary file beside its path at once. When the ``with`` block ends without an error,
    every temporary file is renamed over its path; when it ends with an error, they are all
    deleted and no output is touched.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with OutputGroup() as outputs:
    ...     outputs.text(folder / "weights.json", "{}\\n")
    ...     outputs.table(folder / "corr.csv", ["name", "lr_a=0.1,b=2"], [["lr", 1.0]])
    >>> (folder / "corr.csv").read_text()
    'name,"lr_a=0.1,b=2"\\nlr,1.0\\n'
    >>> with OutputGroup() as outputs:
    ...     outputs.text(folder / "report.json", "{}")
    ...     outputs.figure(folder / "plot.txt", None)
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: --plot ...plot.txt: cannot draw a figure as '.txt'; end the name with one of ...
    >>> (folder / "report.json").exists()
    False
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, final)

    def __enter__(self) -> OutputGroup:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            while self._pending:
                temporary, final = self._pending[0]
                os.replace(temporary, final)
                self._pending.pop(0)
        finally:
            self._discard()

    def predictions(self, path: Path, ids: object, values: NDArray, *, columns: Sequence[str], id_column: str = "id",
                    option: str = "--out") -> None:
        """Add a predictions file (as :func:`write_predictions`: CSV, CSV.gz or Parquet by suffix)."""
        final = self._check(path, option)
        self._add(final, lambda temporary: _write_predictions_to(temporary, ids, values, columns=columns,
                                                                 id_column=id_column, target=final))

    def text(self, path: Path, text: str, *, option: str = "--report") -> None:
        """Add a small text file (JSON, a report)."""
        final = self._check(path, option)
        self._add(final, lambda temporary: temporary.write_bytes(text.encode()))

    def table(self, path: Path, header: Sequence[str], rows: Iterable[Sequence], *, option: str = "--out") -> None:
        """Add a CSV table (a correlation matrix, a leaderboard), every cell quoted where CSV needs it."""
        final = self._check(path, option)
        self._add(final, lambda temporary: temporary.write_bytes(csv_text([header, *rows]).encode()))

    def figure(self, path: Path, figure, *, option: str = "--plot") -> None:
        """Add a matplotlib figure; the format follows the suffix (png, pdf, svg, ...)."""
        final = self._check(path, option, figure=True)
        fmt = final.suffix.lstrip(".").lower()
        self._add(final, lambda temporary: figure.savefig(temporary, format=fmt, dpi=120, bbox_inches="tight"))

    def weights(self, path: Path, names: Sequence[str], weights, *, metric: str, option: str = "--weights-out") -> None:
        """Add the weights JSON: ``{"metric": ..., "weights": {name: weight}}``, in file order."""
        import json

        document = {"metric": metric, "weights": {name: float(w) for name, w in zip(names, weights)}}
        self.text(path, json.dumps(document, indent=2) + "\n", option=option)

    def leaderboard(self, path: Path, entries, *, option: str = "--out") -> None:
        """Add the leaderboard CSV: one row per entry (evaluation.Entry), best first.

        ``score`` is the mean fold score (the honest comparison); ``oof`` a file's score on all
        its OOF rows at once (empty for blends).
        """
        header = ["rank", "name", "type", "score", "se", "gain", "gain_se", "wins", "folds", "oof"]
        rows = [[rank, e.name, e.type, e.mean, e.se, e.gain, e.gain_se, e.wins, e.n_folds, e.oof]
                for rank, e in enumerate(entries, start=1)]
        self.table(path, header, rows, option=option)

    def _check(self, path: Path, option: str, *, figure: bool = False) -> Path:
        path = check_output_path(Path(path), option=option, figure=figure)
        if any(os.path.abspath(final) == os.path.abspath(path) for _, final in self._pending):
            raise BlendInputError(f"{option} {path}: another output of this command is written there; choose another name.")
        return path

    def _add(self, final: Path, write: Callable[[Path], object]) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        os.close(handle)
        temporary = Path(name)
        self._pending.append((temporary, final))
        write(temporary)
        os.chmod(temporary, 0o644)

    def _discard(self) -> None:
        for temporary, _ in self._pending:
            temporary.unlink(missing_ok=True)
        self._pending.clear()


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows as CSV text through the one quoting writer (``\\n`` line ends; floats as repr).

    >>> csv_text([["id", "a,b", 'a"b'], [1, 0.1, None]])
    'id,"a,b","a""b"\\n1,0.1,\\n'
    """
    buffer = _stdio.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([repr(float(cell)) if isinstance(cell, (float, np.floating)) else cell for cell in row])
    return buffer.getvalue()


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Write one CSV table atomically (see :meth:`OutputGroup.table`)."""
    with OutputGroup() as outputs:
        outputs.table(path, header, rows)


def atomic_write(path: Path, write: Callable, *, compress: bool = False) -> None:
    """Call ``write(binary_stream)`` on a temporary file beside ``path``, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            if compress:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                    write(stream)
            else:
                write(raw)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_predictions_to(path: Path, ids, values, *, columns, id_column, target: Path) -> None:
    """Write predictions to ``path`` (atomically, via a temporary file), in the format ``target``'s name asks for."""
    import pyarrow as pa

    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    columns = list(columns)
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(f"write_predictions: values of shape {values.shape} for {len(columns)} columns")
    arrays = [ids if isinstance(ids, pa.Array) else pa.array(np.asarray(ids).astype(str))]
    for k in range(values.shape[1]):
        column = values[:, k]
        arrays.append(pa.array(column.astype(str) if column.dtype.kind in "OUS" else column))
    table = pa.table(arrays, names=[id_column, *columns])
    name = Path(target).name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        atomic_write(path, lambda stream: pq.write_table(table, stream))
        return
    header = csv_text([[id_column, *columns]]).encode()
    # Text cells are written bare unless one holds a comma, a quote or a line break: then every
    # text cell is quoted, as CSV requires (pyarrow's "needed" style quotes all text).
    quoting = "needed" if any(_needs_quotes(array) for array in arrays) else "none"

    def write(stream):
        import pyarrow.csv as pacsv

        stream.write(header)
        stream.flush()
        # Straight into the file, a batch of rows at a time: no copy of the whole text in memory.
        pacsv.write_csv(table, stream, pacsv.WriteOptions(include_header=False, quoting_style=quoting))

    atomic_write(path, write, compress=name.endswith(".gz"))


def _needs_quotes(array) -> bool:
    """Whether a column holds text that CSV must quote (pyarrow refuses it unquoted)."""
    import pyarrow.compute as pc

    return _is_text(array) and bool(pc.any(pc.match_substring_regex(array, '[,"\r\n]')).as_py())


def _figure_formats() -> set[str]:
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes())


# ---------------------------------------------------------------------------- checks


def _is_text(array) -> bool:
    import pyarrow as pa

    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _read_table(path: Path, id_column: str | None, *, as_text: bool = False, threads: bool = True) -> _Table:
    """Read one CSV or Parquet file with ids (and with ``as_text`` every column) as text; file-level problems
    become one-line errors, the same for both formats. ``threads=False`` parses a CSV file on one thread."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    header, name = _checked_header(path, id_column)
    parquet = _is_parquet(path)
    text_columns = header if as_text else [name]
    table = _read_parquet(path, header) if parquet else _read_csv(path, text_columns, threads=threads)
    if table.num_rows == 0:
        raise BlendInputError(f"{path} is empty: a header but no rows; re-run the model that wrote it.")
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
        raise BlendInputError(f"{path}: empty id in row {row:,}; every row needs an id.")
    for column, array in [(name, ids), *columns.items()]:
        if not _is_text(array):
            continue
        broken = pc.or_(pc.match_substring(array, "\n"), pc.match_substring(array, "\r")).fill_null(False)
        if pc.any(broken).as_py():
            index = int(broken.to_numpy(zero_copy_only=False).argmax())
            where = f"in row {index + 1:,}" if column == name else f"at id {_id(ids[index].as_py())}"
            raise BlendInputError(
                f"{path}: a cell in column {_show(column)} {where} runs over a line break (an unterminated quote?); "
                "close the quote, or remove line breaks inside cells."
            )
    if not columns:
        raise BlendInputError(f"{path}: only an id column; expected predictions after it (id,target or id,label).")
    return _Table(path=path, id_column=name, ids=ids, columns=columns)


def _is_parquet(path: Path) -> bool:
    return path.name.endswith(".parquet")


def _checked_header(path: Path, id_column: str | None) -> tuple[list[str], str]:
    """A file's column names and its id column's name, after the file-level checks (missing, folder,
    empty, no id column, a repeated column name)."""
    if not path.exists():
        raise BlendInputError(f"{path} not found; check the path (and --oof-dir / --truth).")
    if path.is_dir():
        raise BlendInputError(f"{path} is a folder; name the CSV files in it, e.g. {path}/*.csv.")
    parquet = _is_parquet(path)
    header = _parquet_schema(path).names if parquet else _header(path)
    if parquet:
        # pandas stores a non-default index as an extra column; it is not a prediction.
        header = [name for name in header if not re.fullmatch(r"__index_level_\d+__", name)]
    if not header or all(not cell.strip() for cell in header):
        raise BlendInputError(f"{path} is empty; expected a header line (id,...) and one row per id.")
    name = header[0] if id_column is None else id_column
    if name not in header:
        raise BlendInputError(
            f"{path}: no id column {_show(name)} (columns: {_short(header)}); pass --id with the id column's name."
        )
    if len(set(header)) != len(header):
        repeated = next(c for c in header if header.count(c) > 1)
        raise BlendInputError(f"{path}: column {_show(repeated)} appears twice in the header; rename one of them.")
    return header, name


def _read_csv(path: Path, text_columns: list[str], *, threads: bool = True):
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
            raise _unreadable(path, error) from None
        except (pa.ArrowNotImplementedError, OSError, UnicodeDecodeError, *_GZIP_ERRORS) as error:
            raise _unreadable(path, error) from None
    raise AssertionError("unreachable")


def _unreadable(path: Path, error: BaseException) -> BlendInputError:
    # pyarrow's one-thread reader names the row ("Row #3: "), its threaded reader cannot: the
    # message is the same however the file was read.
    reason = re.sub(r"(^CSV parse error: |^In CSV column #\d+: )Row #\d+: ", r"\1", _first_line(error))
    if isinstance(error, (EOFError, zlib.error)) or "compressed" in reason.lower() or "inflate" in reason.lower():
        return BlendInputError(f"{path}: not a readable gzip file ({reason}); is it truncated? Write it again.")
    row = reason.split(": ", 2)[-1] if reason.startswith("CSV parse error: Expected") else ""
    if row.count('"') % 2:
        return BlendInputError(
            f"{path}: not a readable CSV (a row has an unterminated quote: {_show(row)}); close the quote."
        )
    return BlendInputError(f"{path}: not a readable CSV ({reason}); every row needs the header's columns.")


def _parquet_schema(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = _first_line(error)
        raise BlendInputError(f"{path}: not a readable Parquet file ({reason}); write it again.") from None


def _read_parquet(path: Path, header: list[str]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=header)
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = _first_line(error)
        raise BlendInputError(f"{path}: not a readable Parquet file ({reason}); write it again.") from None


def _header(path: Path) -> list[str]:
    """The first CSV record: a quoted column name may hold a line break (``"two\\nlines"``)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            cells = next(csv.reader(handle, strict=True), [])
    except (OSError, UnicodeDecodeError, *_GZIP_ERRORS) as error:
        if isinstance(error, (EOFError, zlib.error, gzip.BadGzipFile)):
            raise _unreadable(path, error) from None
        raise BlendInputError(f"{path}: cannot read it ({_first_line(error)}); is it a CSV file?") from None
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise BlendInputError(f"{path}: the header has an unterminated quote; close the quote in the first line.") from None
        raise BlendInputError(f"{path}: not a readable CSV header ({_first_line(error)}); is it a CSV file?") from None
    return cells


def _first_line(error: BaseException) -> str:
    """The first line of an exception's text, cut short, unprintable characters escaped."""
    return _show((str(error).strip().splitlines() or [type(error).__name__])[0], limit=200)[1:-1]


def _check_distinct_names(paths: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in paths:
        name = model_name(path)
        if name in seen:
            raise BlendInputError(
                f"{path}: the model name '{name}' is also {seen[name]}; each file needs its own name (or is it listed twice?)."
            )
        seen[name] = path


def _check_unique_ids(table: _Table) -> None:
    import pyarrow.compute as pc

    # unique() hashes about three times faster than count_distinct on a million string ids.
    if len(pc.unique(table.ids)) == len(table.ids):
        return
    _refuse_duplicates(table)


def _refuse_duplicates(table: _Table) -> None:
    import pandas as pd

    ids = pd.Series(table.ids.to_pandas())
    duplicated = ids[ids.duplicated(keep=False)]
    first_id = duplicated.iloc[0]
    rows = (duplicated.index[duplicated == first_id][:2] + 1).tolist()
    count = int(ids.duplicated().sum())
    more = f" ({count:,} repeated ids in all)" if count > 1 else ""
    raise BlendInputError(
        f"{table.path}: id {_id(first_id)} appears twice (rows {rows[0]:,} and {rows[1]:,}){more}; keep one row per id."
    )


def _check_columns(table: _Table, expected: list[str], reference: Path) -> None:
    found = list(table.columns)
    if sorted(found) != sorted(expected):
        raise columns_differ(table.path, table.id_column, expected, found, reference)


def columns_differ(path: Path, id_column: str, expected: list[str], found: list[str], reference: Path) -> BlendInputError:
    """The one message for a file whose columns are not the first file's (shared with :mod:`blender.outofcore`)."""
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(map(_show, missing))}" if missing else "",
            f"extra {', '.join(map(_show, extra))}" if extra else "",
        )
        if part
    )
    return BlendInputError(
        f"{path}: columns differ from {reference}: expected {id_column},{_short(expected)}, "
        f"found {id_column},{_short(found)} ({detail})."
    )


class _RowIndex:
    """Where each id of the first file is, built once and asked once per later file.

    Ids are text, but most are plain integers (``0``, ``-12``, ``100345``; no leading zeros),
    and hashing those as int64 is about ten times faster than hashing strings. Integer ids in
    a dense range (most competitions number their rows) are looked up in a plain array;
    other integers in a pandas int64 index; any other ids with pyarrow's string hash
    (``index_in``).
    """

    _DENSE = 4  # a lookup array up to this many slots per id

    def __init__(self, first: _Table) -> None:
        self.first = first
        self.integers = _integer_ids(first.ids)
        self.offset = 0
        self.slots = None
        self.index = None
        self.text = None
        if self.integers is None:
            _check_unique_ids(first)
            return
        n_rows = len(self.integers)
        low, high = int(self.integers.min()), int(self.integers.max())
        if high - low < self._DENSE * n_rows + 1024:
            self.offset = low
            self.slots = np.full(high - low + 1, -1, dtype=np.int32 if n_rows < 2**31 else np.int64)
            self.slots[self.integers - low] = np.arange(n_rows)
            if n_rows and np.count_nonzero(self.slots >= 0) != n_rows:
                _refuse_duplicates(first)
            self.integers = np.empty(0, dtype=np.int64)  # not a slice, which would keep the ids alive
        else:
            import pandas as pd

            self.index = pd.Index(self.integers)
            if not self.index.is_unique:
                _refuse_duplicates(first)
            self.integers = np.empty(0, dtype=np.int64)

    def batch_rows(self, ids, start: int) -> NDArray | slice | None:
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
        integers = _integer_ids(ids)
        if integers is None:
            return None
        if self.slots is not None:
            shifted = integers - self.offset
            if shifted.min() < 0 or shifted.max() >= len(self.slots):
                return None
            rows = self.slots[shifted]
        else:
            rows = self.index.get_indexer(integers)
        return None if rows.min() < 0 else rows

    def rows(self, table: _Table) -> NDArray[np.int64]:
        """The row of the first file for each row of ``table``; errors name missing, extra or repeated ids."""
        import pyarrow as pa
        import pyarrow.compute as pc

        first = self.first
        integers = None if self.integers is None else _integer_ids(table.ids)
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
            rows = self.index.get_indexer(integers).astype(np.int64, copy=False)
        else:
            # Some ids are not plain integers (007 is not 7): compare them as text.
            position = pc.index_in(table.ids, value_set=first.ids)
            rows = position.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        unknown = rows < 0
        if unknown.any():
            _check_unique_ids(table)
            extra = pc.filter(table.ids, pa.array(unknown))
            raise BlendInputError(
                f"{table.path}: {len(extra):,} ids are not in {first.path} (e.g. {_examples(extra)}); "
                "every file needs the same ids."
            )
        # Every id is known: the file holds the same set iff each row of the first file is hit once.
        seen = np.zeros(len(first.ids), dtype=bool)
        seen[rows] = True
        if len(rows) != len(seen) or not seen.all():
            _check_unique_ids(table)
            missing = pc.filter(first.ids, pa.array(np.logical_not(seen)))
            raise BlendInputError(
                f"{table.path}: {len(missing):,} ids of {first.path} are missing (e.g. {_examples(missing)}); "
                "every file needs the same ids."
            )
        return rows


class _SortedText:
    """Text ids of the first file, hashed to 64-bit keys and sorted once, so that a later file's
    blocks are looked up by binary search on numbers (numpy's ``searchsorted``) and checked
    against the ids themselves: 12 bytes per id beyond the ids, where hashing a whole later
    file (``index_in``) holds several times its size at once.

    Only for ASCII ids without NUL bytes, at most ``_WIDEST`` bytes (they are hashed as bytes of
    one width, padded with NULs); otherwise :meth:`rows` is always None.
    """

    _WIDEST = 64

    def __init__(self, ids) -> None:
        self.keys = None
        fixed = _fixed_width(ids, widest=self._WIDEST)
        if fixed is None:
            return
        keys = _hash_keys(fixed)
        order = np.argsort(keys)
        keys = keys[order]
        if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
            return  # two ids of the first file share a key (about 1 in 10**7 for a million ids)
        self.ids, self.keys, self.width = ids, keys, fixed.dtype.itemsize
        self.order = order.astype(np.int32) if len(order) < 2**31 else order

    def rows(self, ids) -> NDArray | None:
        """The first file's row of each id, or None when some id is not there (or cannot be looked up)."""
        if self.keys is None:
            return None
        fixed = _fixed_width(ids, width=self.width)
        if fixed is None:
            return None
        keys = _hash_keys(fixed)
        position = np.searchsorted(self.keys, keys)
        np.minimum(position, len(self.keys) - 1, out=position)
        if not (self.keys[position] == keys).all():
            return None
        rows = self.order[position]
        # The same key, the same id? (A different id sharing a key is not in the first file.)
        return rows if self.ids.take(rows).equals(ids) else None


def _hash_keys(fixed: NDArray) -> NDArray[np.uint64]:
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


def _fixed_width(ids, *, width: int | None = None, widest: int = 64) -> NDArray | None:
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


def _integer_ids(ids) -> NDArray[np.int64] | None:
    """The ids as int64 when every one is a plain integer written one way only (``7``, not ``007`` or ``+7``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) == 0 or not pc.all(pc.match_substring_regex(ids, r"^(0|-?[1-9][0-9]{0,17})$")).as_py():
        return None
    return pc.cast(ids, pa.int64()).to_numpy(zero_copy_only=False)


def _infer_kind(table: _Table) -> Kind:
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


def _refuse_text_among_numbers(first: _Table, column: str, other: _Table) -> None:
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
        f"{first.path}: non-numeric text {_show(text[index].as_py())} in column {_show(column)} at id "
        f"{_id(first.ids[index].as_py())} while {other.path} holds numbers; fix that cell, or pass --task labels "
        "if these are class labels."
    )


def _check_first_is_not_a_broken_probability(first: _Table, column: str, values: NDArray[np.float64]) -> None:
    """The kind comes from the first file; when every other file holds probabilities, its values
    outside [0, 1] are an error in it, not a sign of regression (the files' order must not matter)."""
    others = values[1:]
    if others.min() >= 0.0 and others.max() <= 1.0:
        own = values[0, :, 0]
        index = int(((own < 0.0) | (own > 1.0)).argmax())
        raise BlendInputError(
            f"{first.path}: {own[index]:g} at id {_id(first.ids[index].as_py())} (column {_show(column)}) "
            "is outside [0, 1] while the other files hold probabilities; pass --task regression if these are not probabilities."
        )


def _numeric(table: _Table, column: str, kind: Kind) -> NDArray[np.float64]:
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
            hint = "pass --task labels if these are class labels" if kind != "regression" else "predictions must be numbers"
            raise BlendInputError(
                f"{table.path}: non-numeric text {_show(text[index].as_py())} in column {_show(column)} at id "
                f"{_id(table.ids[index].as_py())}; {hint}."
            )
        # Every cell is a number written as text (e.g. read with every column as text): parse it.
        array = pc.cast(text, pa.float64())
    if array.null_count:
        raise _cell_error(table, column, array.is_null(), "NaN or empty cells", "re-run the model or leave it out")
    values = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        nan = np.isnan(values)
        what, bad = ("NaN or empty cells", nan) if nan.any() else ("inf cells", ~finite)
        raise _cell_error(table, column, pa.array(bad), what, "re-run the model or leave it out")
    if kind in ("binary", "multiclass"):
        outside = (values < 0.0) | (values > 1.0)
        if outside.any():
            index = int(outside.argmax())
            raise BlendInputError(
                f"{table.path}: {values[index]:g} at id {_id(table.ids[index].as_py())} (column {_show(column)}) is outside "
                "[0, 1]; pass --task regression if these are not probabilities."
            )
    return values


def _refuse_huge(predictions: Predictions) -> None:
    """Refuse OOF values so large that the squares and sums of the metrics and meta-learners would overflow."""
    huge = np.abs(predictions.values) > LARGEST_VALUE
    if huge.any():
        model, row, column = (int(index[0]) for index in np.nonzero(huge))
        raise BlendInputError(
            f"{predictions.paths[model]}: {predictions.values[model, row, column]:g} at id {_id(predictions.ids[row])} "
            f"(column {_show(predictions.columns[column])}) is beyond ±{LARGEST_VALUE:g}, where squared errors overflow; "
            "rescale the target and the predictions (e.g. log or divide by a constant)."
        )


def _label_codes(table: _Table, column: str) -> tuple[list[str], NDArray[np.int32]]:
    """One file's labels: its own distinct labels, and each row's code into them (file row order)."""
    import pyarrow as pa

    array = table.columns[column]
    if array.null_count:
        raise _cell_error(table, column, array.is_null(), "empty cells", "every row needs a label")
    encoded = array.cast(pa.string()).dictionary_encode()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def _cell_error(table: _Table, column: str, mask, what: str, fix: str) -> BlendInputError:
    flags = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    index = int(flags.argmax())
    return BlendInputError(
        f"{table.path}: {int(flags.sum()):,} {what} in column {_show(column)} (first at id {_id(table.ids[index].as_py())}); {fix}."
    )


def _show(text, limit: int = 40) -> str:
    """A cell or column name for a one-line message: quoted, cut short, line breaks and NUL bytes escaped.

    >>> _show("abc"), _show("0.5\\x00"), _show("x" * 50)[-5:]
    ("'abc'", "'0.5\\\\x00'", "...'")
    """
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return f"'{text}'"


def _id(value) -> str:
    """An id for a message: as it is, unless it is long or holds unprintable characters."""
    return _show(value)[1:-1]


def _examples(ids) -> str:
    shown = ", ".join(_id(v) for v in ids[:_EXAMPLES].to_pylist())
    return shown + (", ..." if len(ids) > _EXAMPLES else "")


def check_column_count(path: Path, kind: Kind, columns: list[str]) -> None:
    """Refuse a file whose prediction columns do not suit ``kind`` (one column, or one per class)."""
    if kind != "multiclass" and len(columns) != 1:
        raise BlendInputError(
            f"{path}: {kind} predictions have one column after the id, found {len(columns)} "
            f"({_short(columns)}); class probabilities have one column per class (--task multiclass)."
        )
    if kind == "multiclass" and len(columns) < 2:
        raise BlendInputError(
            f"{path}: class probabilities need one column per class, found only {_show(columns[0])}; "
            "pass --task binary for one probability column."
        )


def _short(columns: list[str]) -> str:
    columns = [_show(c)[1:-1] for c in columns]
    if len(columns) <= 4:
        return ",".join(columns)
    return f"{columns[0]},{columns[1]},...,{columns[-1]}"


# ---------------------------------------------------------------------------- historical ranks


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

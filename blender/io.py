"""Reading, aligning, validating and writing prediction files: the only module that touches files.

Files are read with pyarrow's multi-threaded CSV reader (``.csv`` or ``.csv.gz``); ids are read
as text, so ``007`` stays ``007``, and rows are matched by id, never by position. Every check of
the contract's "Bad input" list lives here and raises :class:`BlendInputError` with one line
that names the file, the id or column, and the fix. Outputs are written to a temporary file
beside the target and renamed, so a failed run never leaves a half-written file.
"""

from __future__ import annotations

import csv
import gzip
import io as _stdio
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError

Kind = Literal["labels", "binary", "multiclass", "regression"]
KINDS = ("labels", "binary", "multiclass", "regression")
_EXAMPLES = 3


@dataclass(frozen=True)
class Predictions:
    """Several models' predictions for the same rows, aligned by id to the first file.

    Attributes
    ----------
    paths : list of Path
        The files, in the order given.
    names : list of str
        Model names: each file's name without ``.csv`` / ``.csv.gz``.
    id_column : str
        Name of the id column (written back unchanged).
    ids : pyarrow.Array of str
        The ids in the first file's order (kept in Arrow: millions of Python strings are slow).
    columns : list of str
        The prediction columns after the id, in the first file's order.
    kind : {"labels", "binary", "multiclass", "regression"}
    values : ndarray
        ``(n_samples, n_models)`` floats for binary and regression, int codes into ``classes``
        for labels; ``(n_models, n_samples, n_classes)`` floats for class probabilities.
    classes : list of str or None
        Label names for the codes (labels), the class columns (multiclass), else None.
    """

    paths: list[Path]
    names: list[str]
    id_column: str
    ids: object
    columns: list[str]
    kind: Kind
    values: NDArray
    classes: list[str] | None = None

    @property
    def n_samples(self) -> int:
        return len(self.ids)

    @property
    def n_models(self) -> int:
        return len(self.paths)

    @property
    def labels(self) -> NDArray:
        """The label strings, shape (n_samples, n_models) (labels kind only)."""
        return np.asarray(self.classes, dtype=object)[self.values]

    def id_array(self) -> NDArray:
        """The ids as a numpy array of str (slow for millions of rows; for messages and tests)."""
        return np.asarray(self.ids.to_pylist(), dtype=object)


@dataclass(frozen=True)
class _Table:
    """One file as read: its ids and its prediction columns, not yet checked against others."""

    path: Path
    id_column: str
    ids: object  # pyarrow string array
    columns: dict[str, object]  # name -> pyarrow array


def model_name(path: Path) -> str:
    """``submissions/oof/knn_5.csv.gz`` -> ``knn_5``."""
    name = Path(path).name
    for suffix in (".csv.gz", ".csv", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def read_predictions(
    paths: Sequence[Path],
    *,
    id_column: str | None = None,
    task: Kind | None = None,
    like: Predictions | None = None,
    progress: Callable[[str], None] | None = None,
) -> Predictions:
    """Read prediction files, check them against the contract and align their rows by id.

    Parameters
    ----------
    paths : sequence of Path
        At least one file; the first sets the ids, their order and the columns.
    id_column : str, default=None
        The id column's name; None takes each file's first column.
    task : {"labels", "binary", "multiclass", "regression"}, default=None
        Overrides the kind inferred from the first file.
    like : Predictions, default=None
        Predictions these must match in kind and columns (OOF files matched to test files);
        the ids are then this set's own.
    progress : callable, default=None
        Called with a short line per file read.

    Returns
    -------
    Predictions

    Raises
    ------
    BlendInputError
        For every item of the contract's "Bad input" list.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise BlendInputError("no prediction files given; name them, e.g. blend average submissions/*.csv.")
    _check_distinct_names(paths)
    first = _read_table(paths[0], id_column)
    _check_unique_ids(first)
    if like is not None:
        _check_columns(first, like.columns, like.paths[0])
        task = like.kind
    kind = task or _infer_kind(first)
    as_text = kind == "labels"
    if as_text and not all(_is_text(array) for array in first.columns.values()):
        # Labels are text: read again so that 007 stays 007 rather than the integer 7.
        first = _read_table(paths[0], id_column, as_text=True)
    columns = list(first.columns)
    if kind != "multiclass" and len(columns) != 1:
        raise BlendInputError(
            f"{paths[0]}: {kind} predictions have one column after the id, found {len(columns)} "
            f"({', '.join(columns)}); class probabilities have one column per class (--task multiclass)."
        )
    if kind == "multiclass" and len(columns) < 2:
        raise BlendInputError(
            f"{paths[0]}: class probabilities need one column per class, found only '{columns[0]}'; "
            "pass --task binary for one probability column."
        )

    n_samples, n_models = len(first.ids), len(paths)
    if kind == "multiclass":
        values = np.empty((n_models, n_samples, len(columns)))
    elif kind == "labels":
        values = np.empty((n_samples, n_models), dtype=np.int64)
    else:
        values = np.empty((n_samples, n_models))
    label_codes: dict[str, int] = {}

    for position, path in enumerate(paths):
        table = first if position == 0 else _read_table(path, first.id_column if id_column is None else id_column, as_text=as_text)
        if position > 0:
            _check_columns(table, columns, paths[0] if like is None else like.paths[0])
        # Files usually list the ids in the same order; only reorder when they do not.
        order = None
        if position > 0 and not table.ids.equals(first.ids):
            order = _align(table, first)
        for k, column in enumerate(columns):
            if kind == "labels":
                converted = _label_codes(table, column, label_codes)
            else:
                converted = _numeric(table, column, kind)
            if order is not None:
                aligned = np.empty_like(converted)
                aligned[order] = converted
                converted = aligned
            if kind == "multiclass":
                values[position, :, k] = converted
            else:
                values[:, position] = converted
        if progress is not None:
            progress(f"read {path} ({n_samples:,} rows)")

    if task is None and kind == "regression" and n_models > 1:
        _check_first_is_not_a_broken_probability(first, values)

    classes = None
    if kind == "labels":
        classes = sorted(label_codes, key=label_codes.get)
    elif kind == "multiclass":
        classes = columns
    return Predictions(
        paths=paths,
        names=[model_name(p) for p in paths],
        id_column=first.id_column,
        ids=first.ids,
        columns=columns,
        kind=kind,
        values=values,
        classes=classes,
    )


def read_truth(path: Path, ids: object, *, id_column: str | None = None, source: Path | None = None) -> NDArray:
    """Read ``id,<target>`` and return the targets in the order of ``ids``.

    The truth may hold more rows than ``ids`` (e.g. all training rows for a holdout slice) but
    must cover every one of them.

    Returns
    -------
    ndarray of shape (n_samples,)
        Numbers as int64 or float64, anything else as str (object).
    """
    import pyarrow.compute as pc

    table = _read_table(Path(path), id_column)
    _check_unique_ids(table)
    if len(table.columns) != 1:
        raise BlendInputError(
            f"{path}: the truth has one column after the id, found {len(table.columns)} "
            f"({', '.join(table.columns)}); keep only id and the target."
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
    if values.dtype.kind in "OU":
        values = values.astype(object)
    return values


def read_features(
    train_path: Path, test_path: Path, train_ids: object, test_ids: object, *, id_column: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Read original features for the OOF rows and the test rows, aligned by id.

    Numeric columns are kept; text columns are one-hot encoded with the categories seen in
    either file; columns named like the target are not allowed to sneak in (drop them first).

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
            f"{test_path}: columns differ from {train_path}: expected {','.join(train.columns)}, "
            f"found {','.join(test.columns)}."
        )
    both = pd.get_dummies(pd.concat([train, test], ignore_index=True), dummy_na=False, dtype=float)
    both = both.astype(float)
    if both.isna().any().any():
        column = both.columns[both.isna().any()][0]
        raise BlendInputError(
            f"{train_path if both[column][: len(train)].isna().any() else test_path}: NaN or empty cells in "
            f"feature column '{column}'; impute them before stacking."
        )
    values = both.to_numpy()
    return values[: len(train)], values[len(train) :], [str(c) for c in both.columns]


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

    Floats are written with the shortest text that reads back to the same number; a path
    ending in ``.gz`` is gzip-compressed.

    Parameters
    ----------
    values : ndarray of shape (n_samples,) or (n_samples, n_columns)
        Floats, integers or labels.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    arrays = [ids if isinstance(ids, pa.Array) else pa.array(np.asarray(ids).astype(str))]
    for k in range(values.shape[1]):
        column = values[:, k]
        arrays.append(pa.array(column.astype(str) if column.dtype == object else column))
    table = pa.table(arrays, names=[id_column, *columns])
    header = _stdio.StringIO()
    csv.writer(header, lineterminator="\n").writerow([id_column, *columns])

    def write(stream):
        stream.write(header.getvalue().encode())
        buffer = pa.BufferOutputStream()
        try:
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:
            # Some id or label holds a comma or quote: quote text cells, as CSV requires.
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        # The Arrow buffer supports the buffer protocol: write it without a bytes copy.
        stream.write(memoryview(buffer.getvalue()))

    atomic_write(Path(path), write, compress=str(path).endswith(".gz"))


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


def write_text(path: Path, text: str) -> None:
    """Write a small text file (JSON weights, a report) atomically."""
    atomic_write(Path(path), lambda stream: stream.write(text.encode()))


def save_figure(figure, path: Path) -> None:
    """Save a matplotlib figure atomically; the format follows the suffix (png, pdf, svg)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    atomic_write(path, lambda stream: figure.savefig(stream, format=fmt, dpi=120, bbox_inches="tight"))


# ---------------------------------------------------------------------------- checks


def _is_text(array) -> bool:
    import pyarrow as pa

    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _read_table(path: Path, id_column: str | None, *, as_text: bool = False) -> _Table:
    """Read one CSV with ids (and with ``as_text`` every column) as text; file-level problems become one-line errors."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.exists():
        raise BlendInputError(f"{path} not found; check the path (and --oof-dir / --truth).")
    if path.is_dir():
        raise BlendInputError(f"{path} is a folder; name the CSV files in it, e.g. {path}/*.csv.")
    header = _header(path)
    if not header or all(not cell.strip() for cell in header):
        raise BlendInputError(f"{path} is empty; expected a header line (id,...) and one row per id.")
    name = header[0] if id_column is None else id_column
    if name not in header:
        raise BlendInputError(
            f"{path}: no id column '{name}' (columns: {','.join(header)}); pass --id with the id column's name."
        )
    if len(set(header)) != len(header):
        repeated = next(c for c in header if header.count(c) > 1)
        raise BlendInputError(f"{path}: column '{repeated}' appears twice in the header; rename one of them.")
    try:
        table = pacsv.read_csv(
            path,
            # Only an empty cell is missing: pyarrow's default null markers would turn an id or a
            # label such as NA, null or None into an empty cell. "nan" still parses as a float NaN.
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in (header if as_text else [name])},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise BlendInputError(f"{path}: not a readable CSV ({reason}); every row needs the header's columns.") from None
    if table.num_rows == 0:
        raise BlendInputError(f"{path} is empty: a header but no rows; re-run the model that wrote it.")
    ids = table.column(name).combine_chunks()
    if ids.null_count:
        row = ids.is_null().to_numpy(zero_copy_only=False).argmax() + 1
        raise BlendInputError(f"{path}: empty id in row {row:,}; every row needs an id.")
    columns = {c: table.column(c).combine_chunks() for c in table.column_names if c != name}
    if not columns:
        raise BlendInputError(f"{path}: only an id column; expected predictions after it (id,target or id,label).")
    return _Table(path=path, id_column=name, ids=ids, columns=columns)


def _header(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            line = handle.readline()
    except (OSError, UnicodeDecodeError) as error:
        raise BlendInputError(f"{path}: cannot read it ({error}); is it a CSV file?") from None
    return next(csv.reader([line]), [])


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
    import pandas as pd

    ids = pd.Series(table.ids.to_pandas())
    duplicated = ids[ids.duplicated(keep=False)]
    first_id = duplicated.iloc[0]
    rows = (duplicated.index[duplicated == first_id][:2] + 1).tolist()
    count = int(ids.duplicated().sum())
    more = f" ({count:,} repeated ids in all)" if count > 1 else ""
    raise BlendInputError(
        f"{table.path}: id {first_id} appears twice (rows {rows[0]:,} and {rows[1]:,}){more}; keep one row per id."
    )


def _check_columns(table: _Table, expected: list[str], reference: Path) -> None:
    found = list(table.columns)
    if sorted(found) != sorted(expected):
        missing = [c for c in expected if c not in found]
        extra = [c for c in found if c not in expected]
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(map(repr, missing))}" if missing else "",
                f"extra {', '.join(map(repr, extra))}" if extra else "",
            )
            if part
        )
        raise BlendInputError(
            f"{table.path}: columns differ from {reference}: expected {table.id_column},{_short(expected)}, "
            f"found {table.id_column},{_short(found)} ({detail})."
        )


def _align(table: _Table, first: _Table) -> NDArray[np.int64]:
    """Positions in the first file of each row of ``table``; errors name missing or extra ids."""
    import pyarrow.compute as pc

    _check_unique_ids(table)
    position = pc.index_in(table.ids, value_set=first.ids)
    if position.null_count:
        extra = pc.filter(table.ids, position.is_null())
        raise BlendInputError(
            f"{table.path}: {len(extra):,} ids are not in {first.path} (e.g. {_examples(extra)}); "
            "every file needs the same ids."
        )
    if len(table.ids) < len(first.ids):
        missing = pc.filter(first.ids, pc.invert(pc.is_in(first.ids, value_set=table.ids)))
        raise BlendInputError(
            f"{table.path}: {len(missing):,} ids of {first.path} are missing (e.g. {_examples(missing)}); "
            "every file needs the same ids."
        )
    return position.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _infer_kind(table: _Table) -> Kind:
    """labels for text or integers, multiclass for several numeric columns, binary for [0, 1], else regression."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = list(table.columns.values())
    numeric = [pa.types.is_floating(a.type) or pa.types.is_integer(a.type) for a in arrays]
    if len(arrays) > 1:
        return "multiclass"
    (array,) = arrays
    if not numeric[0]:
        return "labels"
    if pa.types.is_integer(array.type):
        return "labels"
    low, high = pc.min_max(array).values()
    low, high = low.as_py(), high.as_py()
    if low is not None and 0.0 <= low and high <= 1.0:
        return "binary"
    return "regression"


def _check_first_is_not_a_broken_probability(first: _Table, values: NDArray[np.float64]) -> None:
    """The kind comes from the first file; when every other file holds probabilities, its values
    outside [0, 1] are an error in it, not a sign of regression (the files' order must not matter)."""
    others = values[:, 1:]
    if others.min() >= 0.0 and others.max() <= 1.0:
        column = values[:, 0]
        index = int(((column < 0.0) | (column > 1.0)).argmax())
        raise BlendInputError(
            f"{first.path}: {column[index]:g} at id {first.ids[index].as_py()} (column '{next(iter(first.columns))}') "
            "is outside [0, 1] while the other files hold probabilities; pass --task regression if these are not probabilities."
        )


def _numeric(table: _Table, column: str, kind: Kind) -> NDArray[np.float64]:
    """One column as float64, refusing text, empty cells, NaN, inf and (for probabilities) values outside [0, 1]."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = table.columns[column]
    if not (pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or pa.types.is_null(array.type)):
        text = array.cast(pa.string())
        parsed = _try_parse_floats(text)
        bad = pc.and_(parsed.is_null(), text.is_valid())
        index = bad.to_numpy(zero_copy_only=False).argmax()
        hint = "pass --task labels if these are class labels" if kind != "regression" else "predictions must be numbers"
        raise BlendInputError(
            f"{table.path}: non-numeric text '{text[index].as_py()}' in column '{column}' at id "
            f"{table.ids[index].as_py()}; {hint}."
        )
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
                f"{table.path}: {values[index]:g} at id {table.ids[index].as_py()} (column '{column}') is outside "
                "[0, 1]; pass --task regression if these are not probabilities."
            )
    return values


def _try_parse_floats(text):
    import pyarrow as pa
    import pyarrow.compute as pc

    values = []
    for cell in text.to_pylist():
        try:
            values.append(None if cell is None else float(cell))
        except ValueError:
            values.append(None)
    return pc.cast(pa.array(values, type=pa.float64()), pa.float64())


def _label_codes(table: _Table, column: str, codes: dict[str, int]) -> NDArray[np.int64]:
    """Class labels as int codes shared across files (new labels get the next code)."""
    import pyarrow as pa

    array = table.columns[column]
    if array.null_count:
        raise _cell_error(table, column, array.is_null(), "empty cells", "every row needs a label")
    encoded = array.cast(pa.string()).dictionary_encode()
    local = encoded.dictionary.to_pylist()
    mapping = np.array([codes.setdefault(label, len(codes)) for label in local], dtype=np.int64)
    return mapping[encoded.indices.to_numpy(zero_copy_only=False)]


def _cell_error(table: _Table, column: str, mask, what: str, fix: str) -> BlendInputError:
    flags = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    index = int(flags.argmax())
    return BlendInputError(
        f"{table.path}: {int(flags.sum()):,} {what} in column '{column}' (first at id {table.ids[index].as_py()}); {fix}."
    )


def _examples(ids) -> str:
    shown = ", ".join(str(v) for v in ids[:_EXAMPLES].to_pylist())
    return shown + (", ..." if len(ids) > _EXAMPLES else "")


def _short(columns: list[str]) -> str:
    if len(columns) <= 4:
        return ",".join(columns)
    return f"{columns[0]},{columns[1]},...,{columns[-1]}"

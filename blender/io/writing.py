"""Writing outputs atomically: to a temporary file beside the target, then renamed;
:class:`OutputGroup` renames several outputs of one command only when all of them were written,
and then appends the command's record to the submission log.
"""

from __future__ import annotations

import csv
import gzip
import io as _stdio
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.io.checks import is_text
from blender.io.logfile import LogEntry, append_record, sha256_file


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
    write_predictions_to(Path(path), ids, values, columns=columns, id_column=id_column, target=Path(path))


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
    """All-or-nothing outputs of one command, and its record in the submission log.

    Each output is checked when it is added (:func:`check_output_path`), then written to a
    temporary file beside its path at once. When the ``with`` block ends without an error,
    every temporary file is renamed over its path; when it ends with an error, they are all
    deleted and no output is touched.

    With ``log`` (a :class:`~blender.io.logfile.LogEntry`), the record is made from the
    outputs' paths and content hashes before anything is renamed, and appended to the log
    after the last rename: a group that fails appends nothing.

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

    def __init__(self, *, log: LogEntry | None = None) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, final)
        self._log = log

    def __enter__(self) -> OutputGroup:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            record = self._record()
            while self._pending:
                temporary, final = self._pending[0]
                os.replace(temporary, final)
                self._pending.pop(0)
            if record is not None and self._log is not None:
                append_record(self._log.path, record)
        finally:
            self._discard()

    def _record(self) -> dict | None:
        """The log record of these outputs (hashed from their temporary files), or None without a log."""
        if self._log is None or not self._pending:
            return None
        check_output_path(self._log.path, option="--log")
        written = [{"path": str(final), "sha256": sha256_file(temporary)} for temporary, final in self._pending]
        return self._log.record(written)

    def predictions(
        self,
        path: Path,
        ids: object,
        values: NDArray,
        *,
        columns: Sequence[str],
        id_column: str = "id",
        option: str = "--out",
    ) -> None:
        """Add a predictions file (as :func:`write_predictions`: CSV, CSV.gz or Parquet by suffix)."""
        final = self._check(path, option)
        self._add(
            final,
            lambda temporary: write_predictions_to(
                temporary, ids, values, columns=columns, id_column=id_column, target=final
            ),
        )

    def text(self, path: Path, text: str, *, option: str = "--report") -> None:
        """Add a small text file (JSON, a report)."""
        final = self._check(path, option)
        self._add(final, lambda temporary: temporary.write_bytes(text.encode()))

    def table(self, path: Path, header: Sequence[str], rows: Iterable[Sequence], *, option: str = "--out") -> None:
        """Add a CSV table (a correlation matrix, a leaderboard), every cell quoted where CSV needs it."""
        final = self._check(path, option)
        self._add(final, lambda temporary: temporary.write_bytes(csv_text([header, *rows]).encode()))

    def figure(self, path: Path, figure: Any, *, option: str = "--plot") -> None:
        """Add a matplotlib figure; the format follows the suffix (png, pdf, svg, ...)."""
        final = self._check(path, option, figure=True)
        fmt = final.suffix.lstrip(".").lower()
        self._add(final, lambda temporary: figure.savefig(temporary, format=fmt, dpi=120, bbox_inches="tight"))

    def weights(
        self, path: Path, names: Sequence[str], weights: Any, *, metric: str, option: str = "--weights-out"
    ) -> None:
        """Add the weights JSON: ``{"metric": ..., "weights": {name: weight}}``, in file order."""
        import json

        document = {"metric": metric, "weights": {name: float(w) for name, w in zip(names, weights)}}
        self.text(path, json.dumps(document, indent=2) + "\n", option=option)

    def leaderboard(self, path: Path, entries: Sequence[Any], *, option: str = "--out") -> None:
        """Add the leaderboard CSV: one row per entry (evaluation.Entry), best first.

        ``score`` is the mean fold score (the honest comparison); ``oof`` a file's score on all
        its OOF rows at once (empty for blends).
        """
        header = ["rank", "name", "type", "score", "se", "gain", "gain_se", "wins", "folds", "oof"]
        rows = [
            [rank, e.name, e.type, e.mean, e.se, e.gain, e.gain_se, e.wins, e.n_folds, e.oof]
            for rank, e in enumerate(entries, start=1)
        ]
        self.table(path, header, rows, option=option)

    def _check(self, path: Path, option: str, *, figure: bool = False) -> Path:
        path = check_output_path(Path(path), option=option, figure=figure)
        if any(os.path.abspath(final) == os.path.abspath(path) for _, final in self._pending):
            raise BlendInputError(
                f"{option} {path}: another output of this command is written there; choose another name."
            )
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
    with replaced_on_success(path) as temporary, open(temporary, "wb") as raw:
        if compress:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                write(stream)
        else:
            write(raw)


@contextmanager
def replaced_on_success(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for the ``with`` block to write: renamed over ``path`` when the
    block ends without an error, deleted when it raises (``path`` is then left as it was)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def output_format(path: Path) -> str:
    """The format an output's name asks for: ``"parquet"``, ``"csv.gz"`` (a name ending in .gz) or ``"csv"``.

    >>> output_format(Path("a.parquet")), output_format(Path("a.csv.gz")), output_format(Path("a.txt"))
    ('parquet', 'csv.gz', 'csv')
    """
    name = Path(path).name
    return "parquet" if name.endswith(".parquet") else "csv.gz" if name.endswith(".gz") else "csv"


def write_predictions_to(
    path: Path, ids: Any, values: Any, *, columns: Sequence[str], id_column: str, target: Path
) -> None:
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
    form = output_format(target)
    if form == "parquet":
        import pyarrow.parquet as pq

        atomic_write(path, lambda stream: pq.write_table(table, stream))
        return
    header = csv_text([[id_column, *columns]]).encode()
    # Text cells are written bare unless one holds a comma, a quote or a line break: then every
    # text cell is quoted, as CSV requires (pyarrow's "needed" style quotes all text).
    quoting = "needed" if any(_needs_quotes(array) for array in arrays) else "none"

    def write(stream: Any) -> None:
        import pyarrow.csv as pacsv

        stream.write(header)
        stream.flush()
        # Straight into the file, a batch of rows at a time: no copy of the whole text in memory.
        pacsv.write_csv(table, stream, pacsv.WriteOptions(include_header=False, quoting_style=quoting))

    atomic_write(path, write, compress=form == "csv.gz")


def _needs_quotes(array: Any) -> bool:
    """Whether a column holds text that CSV must quote (pyarrow refuses it unquoted)."""
    import pyarrow.compute as pc

    return is_text(array) and bool(pc.any(pc.match_substring_regex(array, '[,"\r\n]')).as_py())


def _figure_formats() -> set[str]:
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes())

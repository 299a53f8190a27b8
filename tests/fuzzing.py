"""Generators shared by the property test, the fuzz test and ``benchmarks/fuzz.py``.

A *competition* is what ``make oof`` leaves behind, in small: test files, OOF files and holdout
files for a few models, and the truth for the training rows, of one kind (binary, multiclass,
labels, regression). Files are kept as :class:`Table` (a header and rows of text cells) so that
they can be permuted and mutated cell by cell, and rendered to bytes in several encodings (BOM,
CRLF, quoted cells, gzip, Parquet).

The fuzz part mutates one file of a set and says what the contract expects of the result:

- ``BENIGN``: the same predictions; reading must give the same ids, columns and values
  (rows or class columns in another order, BOM, CRLF, quoted cells, gzip, no final newline);
- ``VALID``: a valid file with other values; it must be accepted (and pass the sanity checks);
- ``BAD``: an item of the contract's "Bad input" list; it must be refused with a
  :class:`~blender.errors.BlendInputError`;
- ``ANY``: either, but nothing else (no other exception, no traceback).

Everything is driven by a ``numpy.random.Generator``, so a seed reproduces a case.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io as _stdio
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

KINDS = ("binary", "multiclass", "labels", "regression")
MODEL_NAMES = ("lr", "rf", "knn", "xgb", "nn_2", "et")
# Class names that catch sorting by text or number, and labels that must stay text ("007").
CLASS_NAMES = ("Class_1", "Class_2", "Class_10", "dog", "cat", "b")
LABELS = ("007", "cat", "dog", "10", "9", "7", "bird")

BENIGN, VALID, BAD, ANY = "benign", "valid", "bad", "any"

# Text that is no number, in a numeric column: issue 10, item 2.
NOT_NUMBERS = ("abc", "#N/A", "--0.5", "0\x005", "0_5x", "1,5", "NA", "null", "0.5.1", " ")
MISSING_NUMBERS = ("nan", "NaN", "inf", "-inf", "Infinity", "")
HUGE = 200_000  # characters: past the csv module's 131,072 field limit


@dataclass
class Table:
    """One CSV file as text cells: ``header`` (id first) and ``rows``."""

    header: list[str]
    rows: list[list[str]]

    def copy(self) -> Table:
        return Table(list(self.header), [list(row) for row in self.rows])

    @property
    def ids(self) -> list[str]:
        return [row[0] for row in self.rows]


@dataclass
class FileSpec:
    """A file to write: a table and how to encode it, or raw bytes (after a byte-level mutation)."""

    table: Table | None
    suffix: str = ".csv"  # .csv, .csv.gz or .parquet
    bom: bool = False
    crlf: bool = False
    quote_all: bool = False
    final_newline: bool = True
    raw: bytes | None = None
    text: bool = False  # Parquet: every column as text (labels such as 007 stay text)

    def render(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.suffix == ".parquet":
            return _parquet_bytes(self.table, text=self.text)
        text = render_csv(self.table, crlf=self.crlf, quote_all=self.quote_all, final_newline=self.final_newline)
        data = (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8", "surrogateescape")
        if self.suffix == ".csv.gz":
            data = gzip.compress(data, mtime=0)
        return data


def render_csv(table: Table, *, crlf: bool = False, quote_all: bool = False, final_newline: bool = True) -> str:
    """CSV text: minimal quoting (or every cell quoted), LF or CRLF line ends."""
    buffer = _stdio.StringIO()
    writer = csv.writer(
        buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    )
    writer.writerow(table.header)
    writer.writerows(table.rows)
    text = buffer.getvalue()
    if not final_newline:
        text = text.rstrip("\r\n")
    return text


def _parquet_bytes(table: Table, *, text: bool = False) -> bytes:
    """The table as Parquet: numbers as float64 (unless ``text``), anything else as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {}
    for k, name in enumerate(table.header):
        cells = [row[k] for row in table.rows]
        if k > 0 and not text and all(_is_float(cell) for cell in cells):
            columns[name] = pa.array([float(cell) for cell in cells], type=pa.float64())
        else:
            columns[name] = pa.array(cells, type=pa.string())
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def number(value: float) -> str:
    """A float as text that reads back bit-identical."""
    return repr(float(value))


# ---------------------------------------------------------------------------- competitions


@dataclass
class Competition:
    """Test, OOF and holdout files of ``names`` (in that order) and the truth, all as tables."""

    kind: str
    names: list[str]
    test: dict[str, Table]
    oof: dict[str, Table]
    holdout: dict[str, Table]
    truth: Table
    classes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, Table]:
        """Every file by its path relative to the competition folder."""
        files = {f"submissions/{n}.csv": self.test[n] for n in self.names}
        files.update({f"submissions/oof/{n}.csv": self.oof[n] for n in self.names})
        files.update({f"submissions/holdout/{n}.csv": self.holdout[n] for n in self.names})
        files["data/train_labels.csv"] = self.truth
        return files


def make_ids(rng: np.random.Generator, n: int, start: int) -> list[str]:
    """Distinct ids as text; some styles keep leading zeros, so ids must stay text."""
    style = rng.integers(3)
    numbers = start + rng.permutation(n * 3)[:n]
    if style == 0:
        return [str(v) for v in numbers]
    if style == 1:
        return [f"{v:06d}" for v in numbers]
    return [f"r{v}" for v in numbers]


def make_competition(
    rng: np.random.Generator,
    kind: str,
    *,
    n_models: int = 3,
    n_test: int = 24,
    n_train: int = 36,
    n_holdout: int = 18,
    n_classes: int = 3,
    classes: list[str] | None = None,
) -> Competition:
    """A small competition whose models track the truth with different noise (no ties by design)."""
    names = list(MODEL_NAMES[:n_models])
    if classes is not None:
        classes, n_classes = list(classes), len(classes)
    elif kind == "labels":
        classes = [str(c) for c in rng.choice(LABELS, size=n_classes, replace=False)]
    elif kind == "multiclass":
        classes = [str(c) for c in rng.choice(CLASS_NAMES, size=n_classes, replace=False)]
    else:
        classes = []
    train_ids = make_ids(rng, n_train, 1000)
    test_ids = make_ids(rng, n_test, 50_000)
    holdout_rows = np.sort(rng.choice(n_train, size=min(n_holdout, n_train), replace=False))
    y_train = _truth(rng, kind, n_train, n_classes)
    y_test = _truth(rng, kind, n_test, n_classes)

    def predictions(y, noise):
        if kind == "binary":
            logit = (2 * y - 1) * 1.5 + rng.normal(0, noise, len(y))
            return [[number(1 / (1 + math.exp(-v)))] for v in logit]
        if kind == "multiclass":
            logits = rng.normal(0, noise, (len(y), n_classes))
            logits[np.arange(len(y)), y] += 1.5
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            return [[number(v) for v in row] for row in p]
        if kind == "labels":
            wrong = rng.random(len(y)) < 0.2 * noise
            guess = np.where(wrong, rng.integers(0, n_classes, len(y)), y)
            return [[classes[g]] for g in guess]
        return [[number(v + rng.normal(0, noise * 4))] for v in y]

    header = ["id", *classes] if kind == "multiclass" else ["id", "label" if kind == "labels" else "target"]
    test, oof, holdout = {}, {}, {}
    for m, name in enumerate(names):
        noise = 0.6 + 0.5 * m + rng.random()
        test[name] = Table(header, [[i, *cells] for i, cells in zip(test_ids, predictions(y_test, noise))])
        oof[name] = Table(header, [[i, *cells] for i, cells in zip(train_ids, predictions(y_train, noise))])
        held = y_train[holdout_rows]
        holdout[name] = Table(
            header, [[train_ids[r], *cells] for r, cells in zip(holdout_rows, predictions(held, noise))]
        )
    if kind in ("multiclass", "labels"):
        truth_cells = [classes[v] for v in y_train]
    elif kind == "binary":
        truth_cells = [str(int(v)) for v in y_train]
    else:
        truth_cells = [number(v) for v in y_train]
    truth = Table(["id", "target"], [[i, v] for i, v in zip(train_ids, truth_cells)])
    return Competition(kind, names, test, oof, holdout, truth, classes)


def _truth(rng, kind, n, n_classes):
    if kind == "regression":
        return 50 + 10 * rng.normal(size=n)
    k = 2 if kind == "binary" else n_classes
    return rng.permutation(np.resize(np.arange(k), n))  # every class at least n // k times


def permute(table: Table, rng: np.random.Generator, *, rows: bool, columns: bool) -> Table:
    """The same file with its rows and/or its columns after the id in another order."""
    table = table.copy()
    if rows:
        table.rows = [table.rows[k] for k in rng.permutation(len(table.rows))]
    if columns and len(table.header) > 2:
        order = [0, *(1 + rng.permutation(len(table.header) - 1))]
        table.header = [table.header[k] for k in order]
        table.rows = [[row[k] for k in order] for row in table.rows]
    return table


def write_files(folder: Path, files: dict[str, FileSpec | Table]) -> dict[str, Path]:
    """Write each file under ``folder`` (a Table as plain CSV) and return the paths."""
    paths = {}
    for relative, spec in files.items():
        if isinstance(spec, Table):
            spec = FileSpec(spec)
        path = Path(folder) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(spec.render())
        paths[relative] = path
    return paths


# ---------------------------------------------------------------------------- mutations


@dataclass
class Mutation:
    """What was done to which file, and what the contract expects of the result."""

    name: str
    expect: str
    target: int  # index of the mutated file among the prediction files
    detail: str = ""
    renamed: tuple[str, str] | None = None  # an id replaced in every file: (old, new)


def prediction_set(rng: np.random.Generator, kind: str | None = None, n_models: int | None = None):
    """A random clean set of test files (kind, names, tables) to mutate."""
    kind = kind or str(rng.choice(KINDS))
    n_models = n_models or int(rng.integers(1, 4))
    competition = make_competition(
        rng, kind, n_models=n_models, n_test=int(rng.integers(4, 30)), n_classes=int(rng.integers(2, 5))
    )
    return competition, [competition.test[n] for n in competition.names]


def numeric_columns(kind: str, table: Table) -> list[int]:
    return [] if kind == "labels" else list(range(1, len(table.header)))


def mutate(
    rng: np.random.Generator, kind: str, tables: list[Table], *, choices: tuple[str, ...] | None = None
) -> tuple[list[FileSpec], Mutation]:
    """Mutate one of ``tables`` (prediction files of one kind, the first sets ids and columns).

    Returns the files to write and the mutation with the contract's expectation.
    """
    n = len(tables)
    specs = [FileSpec(t.copy()) for t in tables]
    target = int(rng.integers(n))
    spec = specs[target]
    table = spec.table
    first = target == 0
    several = n > 1
    # A change to the first file alone is judged against the others: with one file, nothing to compare.
    differs = BAD if several else ANY
    choice = str(rng.choice(choices or [m for m in MUTATIONS if m != "parquet"]))
    row = int(rng.integers(len(table.rows)))
    columns = numeric_columns(kind, table)

    def numeric_cell(value: str, expect: str) -> Mutation:
        column = int(rng.choice(columns))
        table.rows[row][column] = value
        return Mutation(choice, expect, target, f"row {row + 1}, column {table.header[column]!r} = {value!r}")

    if choice == "shuffle_rows":
        specs[target] = replace(spec, table=permute(table, rng, rows=True, columns=False))
        return specs, Mutation(choice, BENIGN, target)
    if choice == "shuffle_class_columns":
        specs[target] = replace(spec, table=permute(table, rng, rows=False, columns=True))
        return specs, Mutation(choice, BENIGN, target)
    if choice == "encoding":
        options = {
            "bom": bool(rng.integers(2)),
            "crlf": bool(rng.integers(2)),
            "quote_all": bool(rng.integers(2)),
            "final_newline": bool(rng.integers(2)),
            "suffix": str(rng.choice([".csv", ".csv.gz"])),
        }
        specs[target] = replace(spec, **options)
        return specs, Mutation(choice, BENIGN, target, ", ".join(f"{k}={v}" for k, v in options.items()))
    if choice == "parquet":
        specs[target] = replace(spec, suffix=".parquet", text=kind == "labels")
        return specs, Mutation(choice, BENIGN, target)
    if choice == "not_a_number" and columns:
        value = str(rng.choice(NOT_NUMBERS))
        # One text cell in the only file may make it a label file; with others numeric it is a bad cell.
        expect = BAD if (several or kind == "multiclass") else ANY
        return specs, numeric_cell(value, expect)
    if choice == "missing_number" and columns:
        return specs, numeric_cell(str(rng.choice(MISSING_NUMBERS)), BAD)
    if choice == "empty_label" and kind == "labels":
        table.rows[row][1] = ""
        return specs, Mutation(choice, BAD, target, f"row {row + 1}")
    if choice == "outside_0_1" and columns:
        value = str(rng.choice(["1.5", "-0.1", "1.0000001", "-1e-9", "7"]))
        if kind == "regression":
            expect = VALID
        elif kind == "multiclass" or not first:
            expect = BAD
        else:
            expect = differs  # the first file alone could be regression values
        return specs, numeric_cell(value, expect)
    if choice == "odd_number" and columns:
        value = str(rng.choice(["1e-320", "0.5e0", "+0.25", ".5", "5e-1", "0", "1", "0.3333333333333333333333333"]))
        return specs, numeric_cell(value, VALID)
    if choice == "huge_number" and columns:
        return specs, numeric_cell("0." + "1" * HUGE, ANY)
    if choice == "duplicate_row":
        table.rows.insert(int(rng.integers(len(table.rows) + 1)), list(table.rows[row]))
        return specs, Mutation(choice, BAD, target, f"row {row + 1} twice")
    if choice == "duplicate_id" and len(table.rows) > 1:
        other = (row + 1) % len(table.rows)
        table.rows[other][0] = table.rows[row][0]
        return specs, Mutation(choice, BAD, target, f"id {table.rows[row][0]!r} twice")
    if choice == "drop_row" and len(table.rows) > 1:
        dropped = table.rows.pop(row)
        return specs, Mutation(choice, differs, target, f"id {dropped[0]!r} missing")
    if choice == "extra_row":
        table.rows.append([f"extra{row}", *table.rows[row][1:]])
        return specs, Mutation(choice, differs, target, "an extra id")
    if choice == "rename_column":
        column = int(rng.integers(1, len(table.header)))
        table.header[column] = table.header[column] + "_x"
        return specs, Mutation(choice, differs, target, f"column {column}")
    if choice == "drop_column" and len(table.header) > 2:
        column = int(rng.integers(1, len(table.header)))
        del table.header[column]
        for cells in table.rows:
            del cells[column]
        return specs, Mutation(choice, differs, target, f"column {column}")
    if choice == "extra_column":
        table.header.append("extra")
        for cells in table.rows:
            cells.append(number(rng.random()))
        return specs, Mutation(choice, differs, target)
    if choice == "huge_id":
        # The same long id in every file: a valid file with a 200,000-character field.
        old = table.rows[row][0]
        new = "i" * int(rng.choice([HUGE, 2_500_000]))  # 2.5 MB: past pyarrow's 1 MB block
        for other in specs:
            for cells in other.table.rows:
                if cells[0] == old:
                    cells[0] = new
        return specs, Mutation(
            choice, VALID, target, f"id {old!r} -> {len(new):,} characters in every file", (old, new)
        )
    if choice == "huge_header":
        return _raw(
            spec, specs, target, render_csv(table).replace(table.header[-1], "h" * HUGE, 1).encode(), choice, ANY
        )
    if choice == "empty_file":
        return _raw(spec, specs, target, b"", choice, BAD)
    if choice == "header_only":
        return _raw(spec, specs, target, render_csv(Table(table.header, [])).encode(), choice, BAD)
    if choice == "drop_field":
        text = render_csv(table).split("\n")
        text[1 + row] = text[1 + row].rsplit(",", 1)[0]
        return _raw(spec, specs, target, "\n".join(text).encode(), choice, BAD, f"line {row + 2}")
    if choice == "extra_field":
        text = render_csv(table).split("\n")
        text[1 + row] = text[1 + row] + ",0.5"
        return _raw(spec, specs, target, "\n".join(text).encode(), choice, BAD, f"line {row + 2}")
    if choice == "truncate_line":
        text = render_csv(table)
        lines = text.split("\n")
        line = lines[1 + row]
        lines[1 + row] = line[: int(rng.integers(0, max(1, len(line))))]
        return _raw(spec, specs, target, "\n".join(lines).encode(), choice, ANY, f"line {row + 2}")
    if choice == "truncate_file":
        data = render_csv(table).encode()
        return _raw(spec, specs, target, data[: int(rng.integers(0, len(data)))], choice, ANY)
    if choice == "gzip_truncated":
        data = gzip.compress(render_csv(table).encode(), mtime=0)
        cut = int(rng.integers(1, max(2, int(len(data) * 0.8))))
        return _raw(spec, specs, target, data[:cut], choice, BAD, f"{cut} of {len(data)} bytes", suffix=".csv.gz")
    if choice == "gzip_of_nothing":
        return _raw(spec, specs, target, gzip.compress(b"", mtime=0), choice, BAD, suffix=".csv.gz")
    if choice == "not_gzip":
        return _raw(spec, specs, target, render_csv(table).encode(), choice, ANY, suffix=".csv.gz")
    if choice == "unterminated_quote":
        text = render_csv(table).split("\n")
        text[1 + row] = text[1 + row].replace(",", ',"', 1)
        return _raw(spec, specs, target, "\n".join(text).encode(), choice, ANY, f"line {row + 2}")
    if choice == "blank_lines":
        return _raw(spec, specs, target, (render_csv(table) + "\n\n").encode(), choice, VALID)
    if choice == "invalid_utf8":
        text = render_csv(table).encode()
        at = int(rng.integers(len(text)))
        return _raw(spec, specs, target, text[:at] + b"\xff\xfe" + text[at:], choice, ANY, f"byte {at}")
    # Byte-level: flip, insert or delete a few bytes anywhere.
    data = bytearray(render_csv(table).encode())
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(len(data) + 1))
        action = rng.integers(3)
        if action == 0 and at < len(data):
            data[at] = int(rng.choice([0, 34, 44, 10, 13, 0xFF, 0x80, 32, 45, 101, int(rng.integers(256))]))
        elif action == 1:
            data[at:at] = bytes(rng.choice([b"\x00", b'"', b",", b"\n", b"\r", b"e", b"-", b"\xc3"]))
        else:
            del data[at : at + int(rng.integers(1, 4))]
    return _raw(spec, specs, target, bytes(data), "bytes", ANY)


def _raw(spec, specs, target, data: bytes, name: str, expect: str, detail: str = "", *, suffix: str | None = None):
    specs[target] = FileSpec(None, suffix=suffix or spec.suffix, raw=data)
    return specs, Mutation(name, expect, target, detail)


MUTATIONS = (
    "shuffle_rows",
    "shuffle_class_columns",
    "encoding",
    "parquet",
    "not_a_number",
    "missing_number",
    "empty_label",
    "outside_0_1",
    "odd_number",
    "huge_number",
    "duplicate_row",
    "duplicate_id",
    "drop_row",
    "extra_row",
    "rename_column",
    "drop_column",
    "extra_column",
    "huge_id",
    "huge_header",
    "empty_file",
    "header_only",
    "drop_field",
    "extra_field",
    "truncate_line",
    "truncate_file",
    "gzip_truncated",
    "gzip_of_nothing",
    "not_gzip",
    "unterminated_quote",
    "blank_lines",
    "invalid_utf8",
    "bytes",
)

# --weights for n files, and what they must give: the unweighted blend (EQUAL), a refusal (BAD),
# a sane blend (VALID). Equal weights of any size are the plain blend; 1e308 + 1e308 overflows.
EQUAL = "equal"
WEIGHTS = {
    "all 1e308": (lambda n: ["1e308"] * n, EQUAL),
    "all the largest float": (lambda n: ["1.7976931348623157e308"] * n, EQUAL),
    "all 1e-310": (lambda n: ["1e-310"] * n, EQUAL),
    "all 5e-324": (lambda n: ["5e-324"] * n, EQUAL),
    "all 3": (lambda n: ["3"] * n, EQUAL),
    "spaces": (lambda n: [" 2 "] * n, EQUAL),
    "1e308 twice": (lambda n: (["1e308", "1e308"] + ["1"] * n)[:n], VALID),
    "1e308 and 1e-300": (lambda n: (["1e308", "1", "1e-300"] + ["1"] * n)[:n], VALID),
    "one too many": (lambda n: ["1"] * (n + 1), BAD),
    "one too few": (lambda n: ["3", "1"] if n == 1 else ["1"] * (n - 1), BAD),
    "nan": (lambda n: ["nan"] + ["1"] * (n - 1), BAD),
    "inf": (lambda n: ["1"] * (n - 1) + ["inf"], BAD),
    "1e309": (lambda n: ["1e309"] + ["1"] * (n - 1), BAD),
    "negative": (lambda n: ["1"] * (n - 1) + ["-1"], BAD),
    "all zero": (lambda n: ["0"] * n, BAD),
    "empty item": (lambda n: ["1", ""] + ["1"] * max(0, n - 2), BAD),
    "semicolons": (lambda n: [";".join(["1"] * n)], BAD),
    "text": (lambda n: ["abc"] + ["1"] * (n - 1), BAD),
}


def weights_text(name: str, n: int) -> tuple[str, str]:
    """The --weights text of the named case for n files, and its expectation."""
    make, expect = WEIGHTS[name]
    return ",".join(make(n)), expect


# ---------------------------------------------------------------------------- reading back


def reference_ids(data: bytes, suffix: str) -> list[str] | None:
    """The first column of a CSV as Python's csv module reads it (None if it cannot)."""
    try:
        if suffix == ".parquet":
            return None
        if suffix.endswith(".gz"):
            data = gzip.decompress(data)
        text = data.decode("utf-8-sig")
        with _no_field_limit():
            rows = [row for row in csv.reader(_stdio.StringIO(text, newline="")) if row]
    except Exception:
        return None
    return [row[0] for row in rows[1:]]


def table_from_bytes(data: bytes, suffix: str) -> Table | None:
    """A CSV as Python's csv module reads it (None if it cannot): what a mutated first file holds."""
    try:
        if suffix == ".parquet":
            return None
        if suffix.endswith(".gz"):
            data = gzip.decompress(data)
        with _no_field_limit():
            rows = [row for row in csv.reader(_stdio.StringIO(data.decode("utf-8-sig"), newline="")) if row]
    except Exception:
        return None
    return Table(rows[0], rows[1:]) if rows else None


def ids_of(predictions) -> list[str]:
    ids = predictions.ids
    if hasattr(ids, "to_pylist"):
        return [str(v) for v in ids.to_pylist()]
    return [str(v) for v in np.asarray(ids).tolist()]


def rows_axis(values: np.ndarray) -> int:
    """Rows are axis 1 of (n_models, n_rows, n_cols); axis 0 of the old (n_rows, n_models)."""
    return 1 if values.ndim == 3 else 0


def sanity_problems(predictions, expected_ids: list[str] | None) -> list[str]:
    """What is wrong with accepted predictions: ids, shape, finite values, probabilities in [0, 1]."""
    problems = []
    values = np.asarray(predictions.values)
    ids = ids_of(predictions)
    if expected_ids is not None and ids != expected_ids:
        problems.append(f"ids {ids[:5]}... are not the first file's {expected_ids[:5]}...")
    if len(set(ids)) != len(ids):
        problems.append("duplicated ids accepted")
    if values.shape[rows_axis(values)] != len(ids):
        problems.append(f"values of shape {values.shape} for {len(ids)} ids")
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        problems.append("non-finite values accepted")
    if predictions.kind in ("binary", "multiclass") and ((values < 0).any() or (values > 1).any()):
        problems.append(f"{predictions.kind} values outside [0, 1] accepted")
    if predictions.kind == "labels" and values.dtype.kind == "f" and values.ndim == 3:
        if not (np.isin(values, (0.0, 1.0)).all() and (values.sum(axis=2) == 1).all()):
            problems.append("label votes are not one-hot")
    return problems


def canonical(predictions) -> dict:
    """Predictions independent of row and class-column order: {id: per-model cells by column name}."""
    values = np.asarray(predictions.values)
    ids = ids_of(predictions)
    axis = rows_axis(values)
    out = {}
    for r, identifier in enumerate(ids):
        row = np.take(values, r, axis=axis)
        if predictions.kind == "labels":
            if values.ndim == 3:  # one-hot votes over the sorted classes
                labels = tuple(predictions.classes[int(np.argmax(model))] for model in row)
            else:  # int codes into classes
                labels = tuple(predictions.classes[int(code)] for code in np.atleast_1d(row))
            out[identifier] = labels
        elif values.ndim == 3:
            out[identifier] = tuple(tuple(sorted(zip(predictions.columns, map(float, model)))) for model in row)
        else:
            out[identifier] = tuple(map(float, np.atleast_1d(row)))
    return out


# ---------------------------------------------------------------------------- the command line


def invoke(args, **kwargs):
    """Run ``blend ARGS...`` in-process; returns the click Result."""
    from typer.testing import CliRunner

    from blender.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], **kwargs)


def command_exists(name: str) -> bool:
    """Whether ``blend NAME --help`` works on this code (hill-climb and auto are new)."""
    return invoke([name, "--help"]).exit_code == 0


def takes_option(name: str, option: str) -> bool:
    result = invoke([name, "--help"])
    return result.exit_code == 0 and option in result.output


def hidden_exception(result) -> BaseException | None:
    """The exception behind a failed run: what the CLI caught before it printed ``Error:``."""
    error = result.exception
    while error is not None and (
        isinstance(error, SystemExit) or type(error).__module__.split(".")[0] in ("click", "typer")
    ):  # click's and typer's Exit and Abort wrap what happened
        error = error.__cause__ or error.__context__
    return error


def snapshot(paths) -> dict:
    """The bytes of each path (None if absent) and the listing of each folder holding one."""
    state = {}
    for path in map(Path, paths):
        if path.is_file():
            state[path] = path.read_bytes()
        elif path.is_dir():
            state[path] = sorted(p.name for p in path.iterdir())
        else:
            state[path] = None
        if path.parent.is_dir():
            state[("listing", path.parent)] = sorted(p.name for p in path.parent.iterdir())
    return state


def failure_problems(result, before: dict) -> list[str]:
    """A refused run: exit 1, exactly one ``Error:`` line and last, no traceback, outputs untouched."""
    from blender.errors import BlendInputError

    problems = []
    if result.exit_code != 1:
        problems.append(f"exit status {result.exit_code}")
    error = hidden_exception(result)
    if error is not None and not isinstance(error, BlendInputError):
        problems.append(f"{type(error).__name__}: {str(error)[:200]!r} (a bug, or a bad input not named as such)")
    stderr = result.stderr
    output = result.stdout + stderr
    if "Traceback" in output:
        problems.append("a traceback reached the user")
    if "Aborted" in output:
        problems.append("a bare 'Aborted!'")
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    if len(errors) != 1:
        problems.append(f"{len(errors)} 'Error:' lines")
    elif stderr.rstrip("\n").splitlines()[-1] != errors[0]:
        problems.append("the Error: message spans several lines")
    after = snapshot(p for p in before if not isinstance(p, tuple))
    for key, state in before.items():
        if after.get(key) != state:
            what = f"folder {key[1]} now holds {after.get(key)}" if isinstance(key, tuple) else f"{key} changed"
            problems.append(f"a failed run touched its outputs: {what}")
    return problems


def read_csv_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV the CLI wrote (gzip by suffix)."""
    data = Path(path).read_bytes()
    if str(path).endswith(".gz"):
        data = gzip.decompress(data)
    with _no_field_limit():
        rows = list(csv.reader(_stdio.StringIO(data.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


@contextlib.contextmanager
def _no_field_limit():
    """Read huge fields in our own checks, then put the csv module's limit back (the code under test may rely on it)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def output_problems(path: Path, kind: str, first: Table) -> list[str]:
    """An accepted blend: the first file's ids in its order, its columns, finite values, [0, 1] for probabilities."""
    problems = []
    header, rows = read_csv_cells(path)
    if header != first.header:
        problems.append(f"output header {header[:6]} is not the first file's {first.header[:6]}")
    if [row[0] for row in rows] != first.ids:
        problems.append("output ids are not the first file's ids in its order")
    if any(len(row) != len(header) for row in rows):
        problems.append("output rows of the wrong width")
    if kind != "labels":
        try:
            values = np.array([[float(cell) for cell in row[1:]] for row in rows])
        except ValueError as error:
            return problems + [f"non-numeric output cell ({error})"]
        if not np.isfinite(values).all():
            problems.append("non-finite output values")
        if kind in ("binary", "multiclass") and ((values < 0).any() or (values > 1).any()):
            problems.append("output probabilities outside [0, 1]")
    return problems


# ---------------------------------------------------------------------------- fuzz cases

# How the truth file may be mutated, and what the contract expects (anything else: either way).
TRUTH_EXPECT = {
    "shuffle_rows": BENIGN,
    "encoding": BENIGN,
    "extra_row": VALID,
    "drop_row": BAD,
    "duplicate_row": BAD,
    "duplicate_id": BAD,
    "missing_number": BAD,
    "empty_label": BAD,
    "empty_file": BAD,
    "header_only": BAD,
    "gzip_truncated": BAD,
    "gzip_of_nothing": BAD,
    "drop_field": BAD,
    "extra_field": BAD,
    "extra_column": BAD,
}


@dataclass
class Case:
    """One generated case: the files it wrote, what was done, what happened and what is wrong."""

    index: int
    kind: str
    mutation: Mutation
    files: dict  # relative path -> bytes, as written
    args: list = field(default_factory=list)  # the blend arguments (CLI cases)
    task: str | None = None  # passed to read_predictions (read cases)
    outcome: str = ""  # accepted, refused, crashed
    message: str = ""
    problems: list = field(default_factory=list)
    out_is_dir: bool = False  # CLI cases: -o names an existing folder

    @property
    def signature(self) -> tuple:
        """What kind of failure this is, to count and to keep while shrinking: the mutation, the
        outcome, each problem's first words, and the message with paths, quotes and numbers blanked."""
        import re

        message = re.sub(r"\S*/\S*", "<path>", self.message)
        message = re.sub(r"'[^']*'", "'_'", message)
        message = re.sub(r"\d+", "#", message)[:60]
        problems = tuple(p.split(":")[0][:60] for p in self.problems)
        return (self.mutation.name, self.mutation.expect, self.outcome, problems, message)


def expectation(mutation: Mutation, kind: str, *, kind_is_fixed: bool) -> str:
    """The contract's expectation once the kind cannot change (--task given, or OOF files read like the test files)."""
    if kind_is_fixed and mutation.expect == ANY and mutation.name in ("not_a_number", "outside_0_1"):
        return VALID if kind == "regression" and mutation.name == "outside_0_1" else BAD
    return mutation.expect


def parquet_supported(folder: Path) -> bool:
    """Whether blender.io reads Parquet on this code (a new interface): probe with two valid files."""
    from blender import io

    table = Table(["id", "target"], [["1", "0.25"], ["2", "0.75"]])
    paths = write_files(folder, {"probe_a.parquet": FileSpec(table, suffix=".parquet"), "probe_b.csv": table})
    try:
        io.read_predictions(list(paths.values()))
    except Exception:
        return False
    return True


def read_case(seed: int, index: int, folder: Path, *, parquet: bool) -> Case:
    """Generate a prediction set, mutate one file, read it through ``io.read_predictions`` and judge it."""
    from blender import io

    rng = np.random.default_rng([seed, index])
    competition, tables = prediction_set(rng)
    kind = competition.kind
    choices = tuple(m for m in MUTATIONS if parquet or m != "parquet")
    specs, mutation = mutate(rng, kind, tables, choices=choices)
    task = kind if rng.random() < 0.25 else None
    mutation.expect = expectation(mutation, kind, kind_is_fixed=task is not None)
    names = [f"{name}{spec.suffix}" for name, spec in zip(competition.names, specs)]
    case = Case(index, kind, mutation, {name: spec.render() for name, spec in zip(names, specs)}, task=task)
    predictions = judge_read(case, Path(folder) / "mutated")
    if mutation.expect == BENIGN and case.outcome == "accepted":
        clean = write_files(Path(folder) / "clean", {f"{n}.csv": t for n, t in zip(competition.names, tables)})
        baseline = io.read_predictions(list(clean.values()), task=task)
        if baseline.kind != predictions.kind:
            case.problems.append(f"benign change turned {baseline.kind} into {predictions.kind}")
        elif canonical(baseline) != canonical(predictions):
            case.problems.append("benign change (order, encoding) changed the values read")
    return case


def judge_read(case: Case, folder: Path):
    """Write the case's files, read them in order, and record outcome, message and problems (returns what was read)."""
    from blender import io
    from blender.errors import BlendInputError

    case.outcome, case.message, case.problems = "", "", []
    names = list(case.files)
    paths = write_files(folder, {n: FileSpec(None, raw=data) for n, data in case.files.items()})
    predictions = None
    try:
        predictions = io.read_predictions([paths[n] for n in names], task=case.task)
    except BlendInputError as error:
        case.outcome, case.message = "refused", str(error)
        if "\n" in case.message:
            case.problems.append("the BlendInputError message spans several lines")
    except Exception as error:  # noqa: BLE001 - the point: nothing else may escape
        case.outcome, case.message = "crashed", f"{type(error).__name__}: {error}"
        case.problems.append(f"{type(error).__name__} instead of BlendInputError: {str(error)[:160]!r}")
        return None
    else:
        case.outcome = "accepted"
        suffix = next((s for s in (".csv.gz", ".parquet", ".csv") if names[0].endswith(s)), ".csv")
        case.problems += sanity_problems(predictions, reference_ids(case.files[names[0]], suffix))
    if case.mutation.expect == BAD and case.outcome == "accepted":
        case.problems.append(f"bad input accepted as {predictions.kind}")
    if case.mutation.expect in (BENIGN, VALID) and case.outcome == "refused":
        case.problems.append(f"valid input refused: {case.message[:160]}")
    return predictions


def read_outputs(paths: list[Path]) -> dict:
    """Accepted outputs as {file name: {row key: {column: cell}}}, independent of row and column order."""
    parsed = {}
    for path in paths:
        if path.suffix in (".csv", ".gz"):
            header, rows = read_csv_cells(path)
            parsed[path.name] = {row[0]: dict(zip(header, row)) for row in rows}
        elif path.suffix == ".json":
            import json

            parsed[path.name] = json.loads(path.read_text())
    return parsed


def close(a, b, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Equal outputs, numbers within a tolerance (JSON, CSV cells)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(close(a[k], b[k], rtol=rtol, atol=atol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, rtol=rtol, atol=atol) for x, y in zip(a, b))
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=rtol, abs_tol=atol)


CLI_COMMANDS = {
    "vote": ["vote"],
    "average": ["average"],
    "geometric": ["average", "--kind", "geometric"],
    "rank-average": ["rank-average"],
    "corr": ["corr"],
    "select": ["select"],
    "caruana": ["caruana", "--iters", "5", "--init", "1"],
    "weights": ["weights"],
    "score": ["score", "--models-only"],
    "stack": ["stack", "--meta", "logreg", "--folds", "3"],
}
LEARNING = ("select", "caruana", "weights", "score", "stack")
WEIGHTED = ("vote", "average", "geometric", "rank-average")
PREVIOUS = b"id,target\nprevious,0.5\n"
ODD_NAMES = ("nn[2]", "lgbm_lr=0.05,d=6", "a b", "caf\u00e9", "x*y", "m?")


def cli_case(seed: int, index: int, folder: Path) -> Case:
    """Generate a competition, mutate a test file, an OOF file, the truth, the weights or an output
    path, run one command and judge it: exit 0 with a sane output, or exit 1 with one Error: line
    and every existing output untouched."""
    rng = np.random.default_rng([seed, index, 1])
    kind = str(rng.choice(KINDS))
    n_models = int(rng.integers(1, 4)) if rng.random() < 0.3 else 3
    competition = make_competition(
        rng,
        kind,
        n_models=n_models,
        n_test=int(rng.integers(6, 30)),
        n_train=int(rng.integers(12, 40)),
        n_classes=int(rng.integers(2, 4)),
    )
    command = str(rng.choice(list(CLI_COMMANDS)))
    learning = command in LEARNING
    names = list(competition.names)
    test = [competition.test[n] for n in names]
    oof = [competition.oof[n] for n in names]
    specs = {
        "test": [FileSpec(t) for t in test],
        "oof": [FileSpec(t) for t in oof],
        "truth": FileSpec(competition.truth),
    }
    weights = None
    out_is_dir = bad_plot = False
    where = str(
        rng.choice(
            ["test", "oof", "truth", "weights", "out", "names"] if learning else ["test", "weights", "out", "names"],
            p=[0.4, 0.25, 0.15, 0.05, 0.1, 0.05] if learning else [0.65, 0.15, 0.1, 0.1],
        )
    )
    if where == "weights" and command not in WEIGHTED:
        where = "test"
    if where == "test":
        specs["test"], mutation = mutate(rng, kind, test)
        mutation.expect = expectation(mutation, kind, kind_is_fixed=kind == "regression")
    elif where == "oof":
        specs["oof"], mutation = mutate(rng, kind, oof)
        mutation.expect = expectation(mutation, kind, kind_is_fixed=True)
        if mutation.renamed:  # the truth names the same rows
            old, new = mutation.renamed
            truth = competition.truth.copy()
            truth.rows = [[new if cells[0] == old else cells[0], *cells[1:]] for cells in truth.rows]
            specs["truth"] = FileSpec(truth)
    elif where == "truth":
        (specs["truth"],), mutation = mutate(
            rng, "regression" if kind in ("binary", "regression") else "labels", [competition.truth]
        )
        mutation.expect = TRUTH_EXPECT.get(mutation.name, ANY)
    elif where == "weights":
        weights, expect = weights_text(str(rng.choice(list(WEIGHTS))), n_models)
        mutation = Mutation("weights", expect, -1, f"--weights {weights}")
    elif where == "out":
        out_is_dir = rng.random() < 0.5
        bad_plot = not out_is_dir and command in ("corr", "caruana", "score")
        out_is_dir = out_is_dir or command not in ("corr", "caruana", "score")
        mutation = Mutation("out_is_a_folder" if out_is_dir else "bad_plot_suffix", BAD, -1)
    else:
        names = [str(n) for n in rng.choice(ODD_NAMES, size=n_models, replace=False)]
        mutation = Mutation("odd_file_names", VALID, -1, ", ".join(names))
    # A test file and its OOF file share one file name (NAME.csv, NAME.csv.gz, NAME.parquet).
    for m in range(n_models):
        leading, other = ("oof", "test") if where == "oof" else ("test", "oof")
        suffix = specs[leading][m].suffix
        if specs[other][m].table is not None:
            specs[other][m] = replace(specs[other][m], suffix=suffix)

    files = {}
    for name, spec in zip(names, specs["test"]):
        files[f"submissions/{name}{spec.suffix}"] = spec.render()
    if learning:
        for name, spec, test_spec in zip(names, specs["oof"], specs["test"]):
            files[f"submissions/oof/{name}{test_spec.suffix}"] = spec.render()  # paired by the test file's name
        files[f"data/train_labels{specs['truth'].suffix}"] = specs["truth"].render()
    folder = Path(folder)
    write_files(folder, {path: FileSpec(None, raw=data) for path, data in files.items()})
    out = folder / "out" / "blend.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out_is_dir:
        out.mkdir()
        (out / "keep.txt").write_bytes(b"keep")
    else:
        out.write_bytes(PREVIOUS)
    test_paths = [folder / f"submissions/{n}{s.suffix}" for n, s in zip(names, specs["test"])]
    args = [*CLI_COMMANDS[command], *test_paths, "-o", out]
    guarded = [out]
    if learning:
        args += [
            "--oof-dir",
            folder / "submissions/oof",
            "--truth",
            folder / f"data/train_labels{specs['truth'].suffix}",
        ]
    if kind == "regression":
        args += ["--task", "regression"]
    if weights is not None:
        args += ["--weights", weights]
    if command == "caruana":
        (out.parent / "weights.json").write_bytes(b"{}\n")
        args += ["--weights-out", out.parent / "weights.json"]
        guarded.append(out.parent / "weights.json")
    if bad_plot:
        args += ["--plot", out.parent / "plot.xyz"]
    case = Case(index, kind, mutation, files, args=[str(a).replace(str(folder), "{dir}") for a in args])
    case.out_is_dir = out_is_dir
    before = snapshot(guarded)
    result = invoke(args)
    if result.exit_code == 0:
        case.outcome = "accepted"
        if command == "corr":
            header, rows = read_csv_cells(out)
            if header != ["model", *names] or [r[0] for r in rows] != names:
                case.problems.append(f"corr -o header {header} does not name the files {names}")
        elif command != "score":
            written = specs["test"][0]
            first = written.table or table_from_bytes(files[f"submissions/{names[0]}{written.suffix}"], written.suffix)
            if first is not None:
                # After a mutation that may change the kind (a text cell, a value outside [0, 1]), only
                # the ids and columns are checked: the file may now rightly be labels or regression values.
                case.problems += output_problems(out, "labels" if mutation.expect == ANY else kind, first)
    else:
        from blender.errors import BlendInputError

        hidden = hidden_exception(result)
        case.outcome = "refused" if hidden is None or isinstance(hidden, BlendInputError) else "crashed"
        case.message = next((l for l in result.stderr.splitlines() if l.startswith("Error:")), "")
        if hidden is not None and not isinstance(hidden, BlendInputError):
            case.message = f"{type(hidden).__name__}: {hidden}"
        case.problems += failure_problems(result, before)
    if mutation.expect == BAD and case.outcome == "accepted":
        case.problems.append("bad input accepted (exit 0)")
    if mutation.expect in (BENIGN, VALID, EQUAL):
        baseline = _baseline(case, competition, command, folder, kind, weights)
        if baseline is not None:
            ok, outputs = baseline
            if case.outcome != "accepted" and ok:
                case.problems.append(
                    f"{mutation.expect} input refused although the unmutated run works: {case.message[:160]}"
                )
            elif case.outcome == "accepted" and ok and mutation.expect in (BENIGN, EQUAL):
                mine = read_outputs([p for p in (out, out.parent / "weights.json") if p.is_file()])
                if not close(mine, outputs):
                    case.problems.append(f"{mutation.expect} change gave another output than the unmutated run")
    return case


def _baseline(case: Case, competition: Competition, command: str, folder: Path, kind: str, weights: str | None):
    """Run the same command on the unmutated files (without --weights): (exit 0?, outputs)."""
    clean = folder / "clean"
    tables = {f"submissions/{n}.csv": competition.test[n] for n in competition.names}
    tables.update({f"submissions/oof/{n}.csv": competition.oof[n] for n in competition.names})
    tables["data/train_labels.csv"] = competition.truth
    write_files(clean, tables)
    out = clean / "out" / "blend.csv"
    args = [*CLI_COMMANDS[command], *(clean / f"submissions/{n}.csv" for n in competition.names), "-o", out]
    if command in LEARNING:
        args += ["--oof-dir", clean / "submissions/oof", "--truth", clean / "data/train_labels.csv"]
    if kind == "regression":
        args += ["--task", "regression"]
    if command == "caruana":
        args += ["--weights-out", clean / "out" / "weights.json"]
    result = invoke(args)
    if result.exit_code != 0:
        return False, {}
    return True, read_outputs([p for p in (out, clean / "out" / "weights.json") if p.is_file()])


# ---------------------------------------------------------------------------- reports


def show_bytes(data: bytes, limit: int = 400) -> str:
    """File contents for a report: repr, long runs of one character elided."""
    import re

    text = repr(data)
    text = re.sub(r"(.)\1{40,}", lambda m: f"{m.group(1) * 3}...<{len(m.group(0)):,} x {m.group(1)!r}>...", text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(data):,} bytes)"


def describe(case: Case) -> str:
    """A reproduction: what was done, the call, and every file's bytes."""
    lines = [
        f"case {case.index}: {case.kind}, mutation {case.mutation.name} ({case.mutation.detail}) "
        f"on file {case.mutation.target}, expected {case.mutation.expect}, got {case.outcome}",
        f"  problems: {'; '.join(case.problems)}",
    ]
    if case.message:
        lines.append(f"  message: {case.message[:300]!r}")
    if case.args:
        lines.append("  blend " + " ".join(case.args))
    else:
        lines.append(f"  io.read_predictions([{', '.join(case.files)}], task={case.task!r})")
    lines += [f"  {path}: {show_bytes(data)}" for path, data in case.files.items()]
    return "\n".join(lines)


def summary(cases: list[Case], *, examples: int = 1) -> str:
    """Failures grouped by signature, with a reproduction of the first of each group."""
    groups: dict = {}
    for case in cases:
        groups.setdefault(case.signature, []).append(case)
    parts = [f"{len(cases)} failing cases in {len(groups)} groups"]
    for signature, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        parts.append(
            f"\n[{len(members)} x] {signature[0]} (expected {signature[1]}, {signature[2]}): {'; '.join(signature[3])}"
        )
        parts += [describe(case) for case in members[:examples]]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- shrinking (benchmarks/fuzz.py)


def judge_cli(case: Case, folder: Path) -> None:
    """Rerun a CLI case from its files and arguments; record outcome and the problems a rerun can see
    (exit status, Error: lines, tracebacks, hidden exceptions, touched outputs, bad input accepted)."""
    from blender.errors import BlendInputError

    folder = Path(folder)
    case.outcome, case.message, case.problems = "", "", []
    write_files(folder, {path: FileSpec(None, raw=data) for path, data in case.files.items()})
    args = [a.replace("{dir}", str(folder)) for a in case.args]
    out = Path(args[args.index("-o") + 1])
    out.parent.mkdir(parents=True, exist_ok=True)
    if case.out_is_dir:
        out.mkdir(exist_ok=True)
        (out / "keep.txt").write_bytes(b"keep")
    else:
        out.write_bytes(PREVIOUS)
    guarded = [out]
    if "--weights-out" in args:
        guarded.append(Path(args[args.index("--weights-out") + 1]))
    for path in guarded[1:]:
        path.write_bytes(b"{}\n")
    before = snapshot(guarded)
    result = invoke(args)
    if result.exit_code == 0:
        case.outcome = "accepted"
        if case.mutation.expect == BAD:
            case.problems.append("bad input accepted (exit 0)")
        return
    hidden = hidden_exception(result)
    case.outcome = "refused" if hidden is None or isinstance(hidden, BlendInputError) else "crashed"
    case.message = next((l for l in result.stderr.splitlines() if l.startswith("Error:")), "")
    if hidden is not None and not isinstance(hidden, BlendInputError):
        case.message = f"{type(hidden).__name__}: {hidden}"
    case.problems += failure_problems(result, before)


def shrink(case: Case, folder: Path, *, budget: int = 200) -> Case:
    """A smaller case with the same failure: drop files, then data lines (the same line of every
    file first, then of one file), as long as the failure's signature holds. Gzip and Parquet
    files are kept whole. At most ``budget`` reruns."""
    import copy

    judge = judge_cli if case.args else judge_read
    folder = Path(folder)
    runs = 0

    def signature_of(candidate: Case) -> tuple:
        nonlocal runs
        runs += 1
        target = folder / f"shrink{runs}"
        judge(candidate, target)
        import shutil

        shutil.rmtree(target, ignore_errors=True)
        return candidate.signature

    current = copy.deepcopy(case)
    wanted = signature_of(current)
    if not current.problems:
        return case  # the failure needs what a rerun cannot see (a baseline comparison)

    def attempt(files: dict) -> bool:
        nonlocal current
        if runs >= budget:
            return False
        candidate = copy.deepcopy(current)
        candidate.files = files
        if signature_of(candidate) == wanted:
            current = candidate
            return True
        return False

    # Prediction files can go, down to two: whether a cell is bad may depend on the other files.
    if not case.args:
        for name in list(current.files)[1:]:
            if len(current.files) > min(2, len(case.files)):
                attempt({n: d for n, d in current.files.items() if n != name})
    if current.outcome == "accepted":
        return current  # a wrong acceptance: any line may hold the cause, keep them all

    def lines_of(data: bytes) -> list[bytes] | None:
        if data[:2] == b"\x1f\x8b" or data[:4] == b"PAR1":
            return None
        return data.splitlines(keepends=True)

    chunk = max(len(lines_of(d) or []) for d in current.files.values()) // 2
    while chunk >= 1 and runs < budget:
        progress = False
        start = 1
        while runs < budget:
            files, removed = {}, False
            for name, data in current.files.items():
                lines = lines_of(data)
                if lines is None or len(lines) <= start:
                    files[name] = data
                    continue
                files[name] = b"".join(lines[:start] + lines[start + chunk :])
                removed = True
            if not removed:
                break
            if attempt(files):
                progress = True
            else:
                start += chunk
        if not progress:
            chunk //= 2
    for name in list(current.files):  # then line by line in one file at a time
        lines = lines_of(current.files[name])
        k = 1
        while lines is not None and k < len(lines) and runs < budget:
            if not attempt({**current.files, name: b"".join(lines[:k] + lines[k + 1 :])}):
                k += 1
            lines = lines_of(current.files[name])
    return current

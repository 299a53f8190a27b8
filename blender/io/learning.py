"""What learning commands read beside the predictions: OOF files paired with the test files,
the truth, the shared folds, original features, and a competition's sample submission.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError
from blender.io.checks import (
    LARGEST_VALUE,
    cell_error,
    check_unique_ids,
    examples,
    float_id_hint,
    refuse_huge,
    short_columns,
    show,
    show_id,
)
from blender.io.logfile import note_input
from blender.io.predictions import Kind, LearningSet, Predictions, Table
from blender.io.reading import read_predictions
from blender.io.tables import is_parquet, read_header, read_table

if TYPE_CHECKING:
    import pyarrow as pa


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
    progress: Callable[[int, int, str], None] | None = None,
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
                f"{path} not found: {command_name} learns from {role} predictions (run {make_target}, or pass "
                f"{dir_option})."
            )
    train = _sorted_by_id(read_predictions(train_paths, id_column=id_column, like=test, progress=progress))
    if train.kind == "regression":
        refuse_huge(train)
    raw, target_column = _read_truth(
        truth, train.ids, id_column=id_column, source=train.paths[0], as_text=test.kind != "regression"
    )
    from blender.validate import binary_target, encode_truth

    if positive is not None and test.kind != "binary":
        raise BlendInputError(
            f"--positive {positive}: only a binary target has a positive class, and {test.paths[0]} holds "
            f"{_KIND_WORDS[test.kind]}; drop --positive."
        )
    if test.kind == "binary":
        target = binary_target(
            raw, column=test.columns[0], positive=positive, truth_path=truth, reference_path=test.paths[0]
        )
        return LearningSet(
            test=test,
            train=train,
            y=target.encode(raw),
            truth_path=Path(truth),
            target=target,
            target_column=target_column,
        )
    classes = None
    if test.kind == "labels":
        classes = sorted(set(train.classes or ()) | set(test.classes or ()) | set(np.unique(raw.astype(str)).tolist()))
        test, train = test.with_classes(classes), train.with_classes(classes)
    y = encode_truth(
        raw, kind=test.kind, columns=test.columns, classes=classes, truth_path=truth, reference_path=test.paths[0]
    )
    return LearningSet(test=test, train=train, y=y, truth_path=Path(truth), target_column=target_column)


_KIND_WORDS = {
    "labels": "class labels",
    "multiclass": "class probabilities",
    "regression": "regression values",
    "binary": "binary probabilities",
}


def _sorted_by_id(predictions: Predictions) -> Predictions:
    """The rows in the order of their ids (as text).

    Folds are assigned by row position, so learning rows in a canonical order makes every
    learned blend independent of the order in which the OOF files list their ids.
    """
    import pyarrow.compute as pc

    order = pc.sort_indices(predictions.ids).to_numpy()
    if np.array_equal(order, np.arange(order.shape[0])):
        return predictions
    return replace(
        predictions, ids=predictions.ids.take(order), values=np.ascontiguousarray(predictions.values[:, order])
    )


def read_truth(
    path: Path, ids: pa.Array, *, id_column: str | None = None, source: Path | None = None, as_text: bool = False
) -> NDArray[Any]:
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
    return _read_truth(path, ids, id_column=id_column, source=source, as_text=as_text)[0]


def _read_truth(
    path: Path, ids: pa.Array, *, id_column: str | None, source: Path | None, as_text: bool
) -> tuple[NDArray[Any], str]:
    """:func:`read_truth`'s targets, and the name of the truth's target column."""
    import pyarrow.compute as pc

    table = read_table(Path(path), id_column, as_text=as_text)
    check_unique_ids(table)
    target_name, target = _target_column(table, path)
    note_input(path, len(table.ids))
    position = pc.index_in(ids, value_set=table.ids)
    if position.null_count:
        missing = pc.filter(ids, position.is_null())
        raise BlendInputError(
            f"{path}: {len(missing):,} ids of {source or 'the predictions'} have no truth "
            f"(e.g. {examples(missing)}); the truth must cover every row it scores"
            f"{float_id_hint(missing) or float_id_hint(table.ids)}."
        )
    taken = target.take(position)
    values = taken.to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        if np.isnan(values).any():
            raise cell_error(table, target_name, pc.is_nan(target), "NaN or empty cells", "fill in every target")
        raise cell_error(table, target_name, pc.invert(pc.is_finite(target)), "inf cells", "fill in every target")
    if values.dtype.kind in "iuf" and values.size and np.abs(values).max() > LARGEST_VALUE:
        index = int((np.abs(values) > LARGEST_VALUE).argmax())
        raise BlendInputError(
            f"{path}: {values[index]:g} at id {show_id(ids[index].as_py())} (column {show(target_name)}) is beyond "
            f"±{LARGEST_VALUE:g}, where squared errors overflow; rescale the target and the predictions."
        )
    if values.dtype.kind in "OUSb":
        values = values.astype(str).astype(object)
    return values, target_name


def _target_column(table: Table, path: Path) -> tuple[str, pa.Array]:
    """The truth's one column after the id (its name and array), refused when empty cells are in it."""
    if len(table.columns) != 1:
        raise BlendInputError(
            f"{path}: the truth has one column after the id, found {len(table.columns)} "
            f"({short_columns(list(table.columns))}); keep only id and the target."
        )
    ((target_name, target),) = table.columns.items()
    if target.null_count:
        raise cell_error(table, target_name, target.is_null(), "NaN or empty cells", "fill in every target")
    return target_name, target


# A fold must hold this many rows at least: one row cannot be scored by a rank metric or give a spread.
MIN_FOLD_ROWS = 2


def fold_plan(
    folds: str | None,
    cv: int | None,
    ids: pa.Array,
    *,
    truth: Path,
    seed: int,
    repeats: int = 1,
    default_file: bool = True,
) -> tuple[int | NDArray[np.int64], str]:
    """The folds a learning command scores and cross-fits on, and the line that says which.

    ``cv`` (``--cv K``) or ``folds`` as a number (``--folds K``) give K seeded folds (the plan is
    K); ``folds`` naming a file gives each OOF row's fold from it, in the order of ``ids`` (the
    plan is that array); neither gives the ``folds.csv`` beside the truth where it exists (with
    ``default_file``), else 5 seeded folds. A folds file gives one split, so ``repeats`` must be 1.

    Raises
    ------
    BlendInputError
        For both options at once, fewer than 2 folds, ``repeats`` below 1 or with a file, or a
        file that is missing or does not hold exactly the ids (:func:`read_folds`).
    """
    if folds is not None and cv is not None:
        raise BlendInputError(f"--cv {cv} --folds {folds}: give one; --folds FILE shares the folds of every level.")
    text = str(cv) if cv is not None else folds
    default = Path(truth).parent / "folds.csv"
    if text is None and default_file and default.is_file():
        text = str(default)
    if text is None or text.strip().lstrip("+").isdigit():
        k = 5 if text is None else int(text)
        if k < 2:
            raise BlendInputError(
                f"{'--cv' if cv is not None else '--folds'} {k}: cross-validation needs at least 2 folds."
            )
        if repeats < 1:
            raise BlendInputError(f"--repeats {repeats}: give 1 or more.")
        hint = (
            ""
            if text is not None
            else (
                f"; no {default}, so give --folds FILE (make oof writes data/folds.csv) for folds a next level shares"
            )
        )
        return k, f"folds: {k} seeded folds (--seed {seed})" + hint
    path = Path(text)
    if not path.is_file():
        raise BlendInputError(f"--folds {text}: no such file; give a folds file (id,fold) or a number of folds.")
    if repeats != 1:
        raise BlendInputError(
            f"--repeats {repeats}: the folds file {path} gives one split; drop --repeats, "
            "or give --cv K for repeated seeded folds."
        )
    assignment = read_folds(path, ids)
    return assignment, f"folds: {path} ({len(set(assignment.tolist()))} folds, {assignment.shape[0]:,} rows)"


def read_folds(path: Path, ids: pa.Array, *, id_column: str | None = None) -> NDArray[np.int64]:
    """Read ``id,fold`` (``data/folds.csv``) and return each row's fold number in the order of ``ids``.

    The file must hold exactly the ids, one whole-number fold each, and every fold at least
    :data:`MIN_FOLD_ROWS` rows, of at least 2 folds; anything else is one line naming the file
    and the first id (or fold) at fault.
    """
    import pyarrow.compute as pc

    path = Path(path)
    table = read_table(path, id_column, as_text=True)
    check_unique_ids(table)
    if len(table.columns) != 1 and "fold" not in table.columns:
        raise BlendInputError(
            f"{path}: a folds file is id,fold; found {len(table.columns)} columns after the id "
            f"({short_columns(list(table.columns))}); keep only id and fold."
        )
    name = "fold" if "fold" in table.columns else next(iter(table.columns))
    cells = table.columns[name]
    text = pc.utf8_trim_whitespace(cells.fill_null(""))
    whole = pc.match_substring_regex(text, r"^[+-]?[0-9]{1,9}$")
    if not pc.all(whole).as_py():
        index = int(pc.invert(whole).to_numpy(zero_copy_only=False).argmax())
        raise BlendInputError(
            f"{path}: fold {show(cells[index].as_py() or '')} at id {show_id(table.ids[index].as_py())} "
            f"(column {show(name)}) is not a whole number; give every row its fold, 0, 1, 2, ..."
        )
    position = pc.index_in(ids, value_set=table.ids)
    if position.null_count:
        missing = pc.filter(ids, position.is_null())
        raise BlendInputError(
            f"{path}: {len(missing):,} {'id' if len(missing) == 1 else 'ids'} of the OOF rows "
            f"{'has' if len(missing) == 1 else 'have'} no fold (e.g. {examples(missing)}); "
            "the folds file must give every OOF row its fold (make oof writes it)."
        )
    if len(table.ids) != len(ids):
        extra = pc.filter(table.ids, pc.invert(pc.is_in(table.ids, value_set=ids)))
        raise BlendInputError(
            f"{path}: {len(extra):,} {'id is not an OOF row' if len(extra) == 1 else 'ids are not OOF rows'} "
            f"(e.g. {examples(extra)}); the folds file "
            "must hold exactly the OOF rows' ids, those the blend's folds split."
        )
    note_input(path, len(table.ids))
    folds = pc.cast(text, "int64").take(position).to_numpy(zero_copy_only=False).astype(np.int64)
    numbers, counts = np.unique(folds, return_counts=True)
    if numbers.shape[0] < 2:
        raise BlendInputError(f"{path}: every row is in fold {numbers[0]}; cross-validation needs at least 2 folds.")
    if counts.min() < MIN_FOLD_ROWS:
        small = int(numbers[counts.argmin()])
        raise BlendInputError(
            f"{path}: fold {small} holds {counts.min()} row; each fold needs at least "
            f"{MIN_FOLD_ROWS} rows to be scored; merge it into another fold."
        )
    return folds


def read_target(path: Path, *, id_column: str | None = None) -> NDArray[np.object_]:
    """Every target of a truth file as text (``id,<target>``), in its row order: its labels, for ``blend vote``."""
    table = read_table(Path(path), id_column, as_text=True)
    target_name, target = _target_column(table, path)
    note_input(path, len(table.ids))
    return target.to_numpy(zero_copy_only=False).astype(object)


def read_features(
    train_path: Path, test_path: Path, train_ids: pa.Array, test_ids: pa.Array, *, id_column: str | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
    """Read original features for the OOF rows and the test rows, aligned by id.

    Encoded as the zoo encodes its features (:func:`blender.encoding.encode_features`, fitted on
    the OOF rows): missing numbers take the median, text columns become one-hot columns (or one
    ordinal code when wide). Drop the target and anything derived from it first. Either file may
    be CSV or Parquet.

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
        table = read_table(path, id_column)
        check_unique_ids(table)
        position = pc.index_in(ids, value_set=table.ids)
        if position.null_count:
            missing = pc.filter(ids, position.is_null())
            raise BlendInputError(
                f"{path}: {len(missing):,} ids of the predictions have no features (e.g. {examples(missing)}); "
                "the features file must cover every prediction row."
            )
        frame = pd.DataFrame({name: array.take(position).to_pandas() for name, array in table.columns.items()})
        frames.append(frame)
        note_input(path, len(table.ids))
    train, test = frames
    if list(train.columns) != list(test.columns):
        raise BlendInputError(
            f"{test_path}: columns differ from {train_path}: expected {short_columns(list(train.columns))}, "
            f"found {short_columns(list(test.columns))}."
        )
    from blender.encoding import encode_features

    return encode_features(train, test)


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
    labels : list of str or None
        The class names, when the sample wants one label column for class probabilities
        (Digit Recognizer's ``ImageId,Label``): each row is written as its most probable class.
    """

    path: Path
    id_column: str
    columns: list[str]
    ids: pa.Array
    rows: NDArray[np.int64]
    column_order: list[int]
    by_number: bool = False
    labels: list[str] | None = None

    def arrange(self, values: NDArray[Any]) -> NDArray[Any]:
        """A blend's rows (and class columns) in the sample's order; class probabilities as labels
        when the sample has one label column (a tie goes to the first class column)."""
        values = np.asarray(values)[self.rows]
        if self.labels is not None:
            return np.asarray(self.labels, dtype=object)[np.argmax(values, axis=1)]
        return values[:, self.column_order] if values.ndim == 2 else values


def read_sample(path: Path, *, like: Predictions, id_column: str | None = None) -> Sample:
    """Read ``sample_submission.csv`` and match it to ``like``: the same ids, the same column names.

    Ids are matched as text; where some differ only in how a number is written (``0007`` and
    ``7``), they are matched as numbers, and the output takes the sample's text. Class columns
    are matched by name. A sample with one column for class probabilities wants labels: the
    output writes each row's most probable class name there. Missing or extra ids, a column
    name the predictions do not have, or another number of columns are refused with one line.

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
    header = read_header(path) if not is_parquet(path) else None
    name = id_column if id_column is not None and header is not None and id_column in header else None
    table = read_table(path, name, as_text=True)
    check_unique_ids(table)
    columns = list(table.columns)
    expected = list(like.columns)
    labels = expected if like.kind == "multiclass" and len(columns) == 1 and columns[0] not in expected else None
    if labels is None and len(columns) != len(expected):
        raise BlendInputError(
            f"{path}: {len(columns)} column{'s' if len(columns) != 1 else ''} after the id ({short_columns(columns)}), "
            f"and the blend has {len(expected)} ({short_columns(expected)}); is this the sample of the same "
            "competition?"
        )
    unknown = [column for column in columns if column not in expected]
    if unknown and labels is None:
        raise BlendInputError(
            f"{path}: column {show(unknown[0])} is not a column of {like.paths[0]} (columns "
            f"{short_columns(expected)}); name the prediction columns as the sample does."
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
            f"{path}: {len(missing):,} ids of the sample are not in {like.paths[0]} (e.g. {examples(missing)}); "
            "the predictions must hold every id of the sample."
        )
    if len(sample_ids) != len(ours):
        found = np.zeros(len(ours), dtype=bool)
        found[position.to_numpy(zero_copy_only=False)] = True
        extra = pc.filter(ours, pa.array(~found))
        raise BlendInputError(
            f"{path}: {len(extra):,} ids of {like.paths[0]} are not in the sample (e.g. {examples(extra)}); "
            "the predictions must hold exactly the sample's ids."
        )
    note_input(path, len(sample_ids))
    return Sample(
        path,
        table.id_column,
        columns,
        sample_ids,
        position.to_numpy(zero_copy_only=False).astype(np.int64),
        [] if labels else [expected.index(column) for column in columns],
        by_number,
        labels,
    )


def _whole_number_ids(ids: pa.Array) -> pa.Array | None:
    """Ids as int64 when every one is an integer, however written (``0007``, ``+7``), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(ids) == 0 or not pc.all(pc.match_substring_regex(ids, r"^[+-]?[0-9]{1,18}$")).as_py():
        return None
    return pc.cast(ids, pa.int64())

"""Write the contract's files: predictions, OOF predictions, holdout predictions, labels.

Every file is a CSV with a header, the id first. Class probabilities get one column
per class, headed by the class label; a binary target gets one column, named after
the target, holding the probability of the second (larger) class; regression one
column named after the target. Every file goes through ``blender.io.write_predictions``,
the toolkit's one writer: atomic (a temporary file beside it, then a rename, so a reader
never sees half a file) and with floats in their shortest round-trip form.
"""

from __future__ import annotations

from pathlib import Path

from numpy.typing import NDArray

from blender import io
from models.data import Dataset


def prediction_columns(data: Dataset, predictions: NDArray) -> tuple[list[str], NDArray]:
    """The column names and values of one prediction file (the id column aside).

    Parameters
    ----------
    data : Dataset
        Gives the task, the class labels and the target's name.
    predictions : ndarray of shape (n_rows, n_classes) or (n_rows,)

    Returns
    -------
    columns : list of str
        One per class (the class label), or the target's name.
    values : ndarray of shape (n_rows, len(columns))
    """
    if data.task == "multiclass":
        return [str(label) for label in data.classes], predictions
    if data.task == "binary":
        return [data.target], predictions[:, 1:2]
    return [data.target], predictions.reshape(-1, 1)


def column_note(data: Dataset) -> str | None:
    """What a binary file's one column holds, in the words ``blend`` prints: None for other tasks.

    The column is the probability of ``classes[1]``, the second label in sorted order: the class
    ``blend`` takes as positive for a truth with two labels, so the two halves agree with no option.
    """
    if data.task != "binary":
        return None
    negative, positive = (str(label) for label in data.classes)
    return (
        f"binary target '{data.target}' ({negative}/{positive}): each file's column '{data.target}' is the "
        f"probability of {positive}, the positive class blend reads"
    )


def write_prediction_file(data: Dataset, path: Path, ids: NDArray, predictions: NDArray) -> Path:
    """Write one prediction file: ``id,<columns>``."""
    columns, values = prediction_columns(data, predictions)
    io.write_predictions(Path(path), ids, values, columns=columns, id_column=data.id_name)
    return Path(path)


def write_labels(data: Dataset, root: Path) -> list[Path]:
    """Write ``data/train_labels.csv`` and, when the test truth is known, ``data/test_labels.csv``."""
    root = Path(root)
    paths = []
    for name, ids, codes in (("train", data.ids_train, data.y_train), ("test", data.ids_test, data.y_test)):
        if codes is None:
            continue
        path = root / "data" / f"{name}_labels.csv"
        io.write_predictions(path, ids, data.labels(codes), columns=[data.target], id_column=data.id_name)
        paths.append(path)
    return paths


def write_folds(data: Dataset, folds: NDArray, root: Path) -> Path:
    """Write ``data/folds.csv`` (``id,fold``), so teammates can train on the same folds."""
    path = Path(root) / "data" / "folds.csv"
    io.write_predictions(path, data.ids_train, folds, columns=["fold"], id_column=data.id_name)
    return path


def write_oof_result(data: Dataset, name: str, oof: NDArray, test: NDArray, root: Path) -> list[Path]:
    """Write ``submissions/NAME.csv`` (test rows) and ``submissions/oof/NAME.csv`` (training rows)."""
    root = Path(root)
    return [
        write_prediction_file(data, root / "submissions" / f"{name}.csv", data.ids_test, test),
        write_prediction_file(data, root / "submissions" / "oof" / f"{name}.csv", data.ids_train, oof),
    ]


def write_holdout_result(data: Dataset, name: str, holdout_rows: NDArray, predictions: NDArray, root: Path) -> Path:
    """Write ``submissions/holdout/NAME.csv``: predictions for the holdout rows only."""
    path = Path(root) / "submissions" / "holdout" / f"{name}.csv"
    return write_prediction_file(data, path, data.ids_train[holdout_rows], predictions)

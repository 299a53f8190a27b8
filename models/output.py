"""Write the contract's files: predictions, OOF predictions, holdout predictions, labels.

Every file is a CSV with a header, the id first. Class probabilities get one column
per class, headed by the class label; a binary target gets one column, named after
the target, holding the probability of the second (larger) class; regression one
column named after the target. Files are written to a temporary file in the same
folder and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
from numpy.typing import NDArray

from models.data import Dataset


def prediction_frame(data: Dataset, ids: NDArray, predictions: NDArray) -> pd.DataFrame:
    """The table of one prediction file: the id column, then the prediction columns.

    Parameters
    ----------
    data : Dataset
        Gives the task, the class labels, the target and the id column's name.
    ids : ndarray of shape (n_rows,)
    predictions : ndarray of shape (n_rows, n_classes) or (n_rows,)

    Returns
    -------
    pandas.DataFrame
    """
    frame = pd.DataFrame({data.id_name: ids})
    if data.task == "multiclass":
        for column, label in enumerate(data.classes):
            frame[str(label)] = predictions[:, column]
    elif data.task == "binary":
        frame[data.target] = predictions[:, 1]
    else:
        frame[data.target] = predictions
    return frame


def labels_frame(data: Dataset, ids: NDArray, codes: NDArray) -> pd.DataFrame:
    """The truth file's table: ``id,<target>`` with the original labels."""
    return pd.DataFrame({data.id_name: ids, data.target: data.labels(codes)})


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    Pandas writes floats with ``repr``, so they read back exactly.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as file:
            frame.to_csv(file, index=False)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def write_labels(data: Dataset, root: Path) -> list[Path]:
    """Write ``data/train_labels.csv`` and, when the test truth is known, ``data/test_labels.csv``."""
    root = Path(root)
    paths = [write_csv(labels_frame(data, data.ids_train, data.y_train), root / "data" / "train_labels.csv")]
    if data.y_test is not None:
        paths.append(write_csv(labels_frame(data, data.ids_test, data.y_test), root / "data" / "test_labels.csv"))
    return paths


def write_folds(data: Dataset, folds: NDArray, root: Path) -> Path:
    """Write ``data/folds.csv`` (``id,fold``), so teammates can train on the same folds."""
    return write_csv(pd.DataFrame({data.id_name: data.ids_train, "fold": folds}), Path(root) / "data" / "folds.csv")


def write_oof_result(data: Dataset, name: str, oof: NDArray, test: NDArray, root: Path) -> list[Path]:
    """Write ``submissions/NAME.csv`` (test rows) and ``submissions/oof/NAME.csv`` (training rows)."""
    root = Path(root)
    return [
        write_csv(prediction_frame(data, data.ids_test, test), root / "submissions" / f"{name}.csv"),
        write_csv(prediction_frame(data, data.ids_train, oof), root / "submissions" / "oof" / f"{name}.csv"),
    ]


def write_holdout_result(data: Dataset, name: str, holdout_rows: NDArray, predictions: NDArray, root: Path) -> Path:
    """Write ``submissions/holdout/NAME.csv``: predictions for the holdout rows only."""
    frame = prediction_frame(data, data.ids_train[holdout_rows], predictions)
    return write_csv(frame, Path(root) / "submissions" / "holdout" / f"{name}.csv")


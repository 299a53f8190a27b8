"""Prediction sets from pandas DataFrames or NumPy arrays, for the Python face (:mod:`blender.api`).

A notebook holds its predictions in memory; the command line reads files. Both go through the
same reader: the frames are written to Parquet in a temporary folder, one file per model, in the
contract's layout (``NAME.parquet``, ``oof/NAME.parquet``, the truth, the folds), and read back
with :func:`blender.io.read_learning`, so that a notebook gets every check, every kind rule and
every message the command line gives (with ``oof/NAME`` and ``test/NAME`` naming the frames).

The shapes taken:

- binary probabilities, regression values or labels: a DataFrame with the ids as its index and
  one column per model (the column name is the model's name), or an array (n_rows, n_models);
- class probabilities: a dict of one DataFrame per model (ids as the index, one column per class),
  or an array (n_models, n_rows, n_classes) (classes named 0, 1, ...);
- the truth ``y``: a Series indexed by the OOF ids, or an array in the OOF rows' order.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from blender.errors import BlendInputError
from blender.io.learning import read_folds, read_learning
from blender.io.predictions import Kind, LearningSet

if TYPE_CHECKING:
    import pandas as pd

# The truth's and the frames' column names in the temporary files.
_ID, _TARGET = "id", "target"


def _frames(data: object, role: str) -> dict:
    """One DataFrame per model (ids as the index), from a DataFrame, a dict of DataFrames, or an array."""
    import pandas as pd

    if isinstance(data, dict):
        if not data:
            raise BlendInputError(f"{role}: an empty dict; give one DataFrame of class probabilities per model.")
        frames = {}
        for name, frame in data.items():
            if not isinstance(frame, pd.DataFrame):
                raise BlendInputError(
                    f"{role}['{name}']: a {type(frame).__name__}; give a DataFrame with one column "
                    "per class, the ids as its index."
                )
            frames[str(name)] = frame
        return frames
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        if data.shape[1] == 0:
            raise BlendInputError(f"{role}: a DataFrame with no columns; give one column per model.")
        return {str(name): data[[name]].rename(columns={name: _TARGET}) for name in data.columns}
    array = np.asarray(data)
    if array.ndim == 2:
        return {f"m{j}": pd.DataFrame({_TARGET: array[:, j]}) for j in range(array.shape[1])}
    if array.ndim == 3:
        return {
            f"m{j}": pd.DataFrame(array[j], columns=[str(c) for c in range(array.shape[2])])
            for j in range(array.shape[0])
        }
    raise BlendInputError(
        f"{role}: an array of shape {array.shape}; give (n_rows, n_models), or "
        "(n_models, n_rows, n_classes) for class probabilities."
    )


def _file_name(name: str) -> str:
    """A model's name as a file name (a path separator would make a folder)."""
    cleaned = name.replace("/", "_").replace("\\", "_").strip() or "model"
    return cleaned if not cleaned.startswith(".") else "_" + cleaned


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.copy()
    frame.index = frame.index.map(str)
    frame.index.name = _ID
    frame.columns = [str(column) for column in frame.columns]
    frame.reset_index().to_parquet(path, index=False)


def learning_set(
    oof: object,
    test: object,
    y: object,
    *,
    task: Kind | None = None,
    positive: str | None = None,
    folds: ArrayLike | None = None,
    folder: Path | None = None,
) -> tuple[LearningSet, object]:
    """The learning set of in-memory OOF and test predictions and the truth, and the folds.

    Parameters
    ----------
    oof, test : DataFrame, dict of DataFrame, or ndarray
        The same models' OOF and test predictions (see the module docstring); arrays get ids 0..n-1.
    y : Series or ndarray
        The truth of the OOF rows.
    task : {"binary", "multiclass", "regression", "labels"}, default=None
        What the columns hold; inferred as the command line infers it.
    folds : int, Series or ndarray, default=None
        K seeded folds, or each OOF row's fold (a Series indexed by the OOF ids, or an array in their
        order); None: 5 seeded folds.

    Returns
    -------
    (LearningSet, folds)
        The folds as the evaluation takes them: K, or each OOF row's fold in the learning set's row order.
    """
    import pandas as pd

    oof_frames, test_frames = _frames(oof, "oof"), _frames(test, "test")
    if list(oof_frames) != list(test_frames):
        raise BlendInputError(
            f"oof and test name other models (oof: {', '.join(oof_frames)}; test: "
            f"{', '.join(test_frames)}); give the same models in the same order."
        )
    first = next(iter(oof_frames.values()))
    truth = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y), index=first.index)
    if len(truth) != len(first):
        raise BlendInputError(f"y: {len(truth):,} values for {len(first):,} OOF rows; give one per OOF row.")
    with tempfile.TemporaryDirectory(prefix="blend-", dir=folder) as temporary:
        root = Path(temporary)
        (root / "oof").mkdir()
        (root / "test").mkdir()
        names = {name: _file_name(name) for name in oof_frames}
        if len(set(names.values())) != len(names):
            raise BlendInputError("two models have the same name once written as files; rename one.")
        for name, file_name in names.items():
            _write(oof_frames[name], root / "oof" / f"{file_name}.parquet")
            _write(test_frames[name], root / "test" / f"{file_name}.parquet")
        _write(truth.to_frame(_TARGET), root / "truth.parquet")
        try:
            learning = read_learning(
                [root / "test" / f"{file_name}.parquet" for file_name in names.values()],
                train_dir=root / "oof",
                truth=root / "truth.parquet",
                task=task,
                positive=positive,
                command_name="blend",
                make_target="your OOF predictions",
                dir_option="oof",
            )
            plan: object = 5 if folds is None else folds
            if folds is not None and np.ndim(folds) != 0:
                assignment = folds if isinstance(folds, pd.Series) else pd.Series(np.asarray(folds), index=first.index)
                _write(assignment.to_frame("fold"), root / "folds.parquet")
                plan = read_folds(root / "folds.parquet", learning.train.ids)
        except BlendInputError as error:
            # The temporary folder means nothing to the caller: name the frames instead.
            raise BlendInputError(str(error).replace(f"{root}/", "").replace(".parquet", "")) from None
    return replace(learning, truth_path=Path("y"), target_column=str(truth.name or _TARGET)), plan

"""The data classes every reader returns: :class:`Predictions`, :class:`LearningSet`, and one file as read
(:class:`Table`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pyarrow as pa

    from blender.validate import BinaryTarget

Kind = Literal["labels", "binary", "multiclass", "regression"]

KINDS = ("labels", "binary", "multiclass", "regression")

#: The truth as the layout holds it: class indices (labels, multiclass), 0/1 (binary) or floats (regression).
Target = NDArray[np.int64] | NDArray[np.float64]


SUFFIXES = (".csv.gz", ".csv", ".parquet")

DEFAULT_GLOB = "submissions/*.csv"


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
    ids: pa.Array
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

    def id_array(self) -> NDArray[np.object_]:
        """The ids as a numpy array of str (slow for millions of rows; for messages and tests)."""
        return np.asarray(self.ids.to_pylist(), dtype=object)

    def label_strings(self, votes: NDArray[np.float64]) -> NDArray[np.object_]:
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
        if self.kind != "labels" or self.classes is None:
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
    y: Target
    truth_path: Path
    target: BinaryTarget | None = None
    metric: str | None = None  # the metric a command chose for these files
    target_column: str | None = None  # the truth's target header: a column of decisions is named after it
    post: bool = True  # write the metric's decisions (labels, top K) rather than the scores


@dataclass(frozen=True)
class Table:
    """One file as read: its ids and its prediction columns, not yet checked against others."""

    path: Path
    id_column: str
    ids: pa.Array  # of strings
    columns: dict[str, pa.Array]

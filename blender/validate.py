"""Checks on arrays and arguments shared by every blending method."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender.errors import BlendInputError

if TYPE_CHECKING:
    from blender.io.learning import Sample
    from blender.io.predictions import Kind, Predictions

# Weights whose largest lies outside this range are divided by it: sums and products of up to a
# million weights times probabilities then neither overflow nor lose every digit.
_SAFE_LOW, _SAFE_HIGH = 1e-100, 1e100


def check_weights(weights: ArrayLike | None, n_models: int) -> NDArray[np.float64]:
    """Return the weights as floats, or uniform weights for None.

    Only the ratios of the weights matter; weights so large (or so small) that summing them
    could overflow come back divided by the largest.

    >>> check_weights(None, 3)
    array([1., 1., 1.])
    >>> check_weights([1e308, 1e308, 5e307], 3)
    array([1. , 1. , 0.5])
    >>> check_weights([3, 1], 3)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: --weights 3,1 gives 2 weights for 3 files; give one per file, in the order the
    files are listed.
    """
    if weights is None:
        return np.ones(n_models)
    checked = np.asarray(weights, dtype=np.float64)
    shown = ",".join(f"{w:g}" for w in checked.ravel())
    if checked.ndim != 1 or len(checked) != n_models:
        raise BlendInputError(
            f"--weights {shown} gives {checked.size} weights for {n_models} files; "
            "give one per file, in the order the files are listed."
        )
    if not np.all(np.isfinite(checked)):
        raise BlendInputError(f"--weights {shown}: every weight must be a finite number.")
    if np.any(checked < 0):
        raise BlendInputError(f"--weights {shown}: weights cannot be negative; use 0 to leave a file out.")
    if not np.any(checked > 0):
        raise BlendInputError(f"--weights {shown}: all weights are zero; give at least one file a positive weight.")
    largest = checked.max()
    if not _SAFE_LOW <= largest <= _SAFE_HIGH:
        # Only the ratios matter, and 1e308 + 1e308 overflows: bring the largest weight to 1.
        checked = checked / largest
    return checked


def non_positive_error(
    path: Path | str, value: float, row_id: str, column: str, mean: str, *, zero_ok: bool = False
) -> BlendInputError:
    """The one message, in and out of core, for a value a geometric, harmonic or power mean cannot take: one not
    positive (exponents of 0 or less), or with ``zero_ok`` one below 0 (any other exponent but 1, whose powers and
    roots of negative numbers are not real)."""
    if zero_ok:
        return BlendInputError(
            f"{path}: {value:g} at id {row_id} (column '{column}') is negative, and the {mean} mean needs values of "
            "0 or more; use the arithmetic or rank average."
        )
    return BlendInputError(
        f"{path}: {value:g} at id {row_id} (column '{column}') is not positive, and the {mean} mean needs positive "
        "values; use the arithmetic or rank average."
    )


def parse_weights(text: str | None) -> NDArray[np.float64] | None:
    """Parse ``--weights 3,1,1`` into an array (None stays None).

    >>> parse_weights("3,1,0.5")
    array([3. , 1. , 0.5])
    """
    if text is None or text.strip() == "":
        return None
    try:
        return np.array([float(part) for part in text.split(",")])
    except ValueError:
        raise BlendInputError(
            f"--weights {text}: weights are numbers separated by commas, e.g. --weights 3,1,1."
        ) from None


def encode_truth(
    raw: NDArray[Any],
    *,
    kind: Kind,
    columns: list[str],
    truth_path: Path | str,
    reference_path: Path | str,
    classes: list[str] | None = None,
    positive: str | None = None,
) -> NDArray[np.int64] | NDArray[np.float64]:
    """Turn the truth's raw targets into ``y`` as the layout expects it for ``kind``.

    binary: 0/1 ints, 1 for the positive class of :func:`binary_target`; multiclass: the index of each label
    among the class columns; labels: the index of each label in ``classes`` (the sorted class list, which must
    hold every truth label);
    regression: floats.

    >>> encode_truth(np.array(["dog", "007", "dog"], dtype=object), kind="labels", columns=["label"],
    ...              classes=["007", "cat", "dog"], truth_path="t.csv", reference_path="a.csv")
    array([2, 0, 2])
    >>> encode_truth(np.array(["B", "A"], dtype=object), kind="multiclass", columns=["B", "A"],
    ...              truth_path="t.csv", reference_path="a.csv")
    array([0, 1])
    """
    raw = np.asarray(raw)
    if kind == "regression":
        if raw.dtype.kind not in "iuf":
            raise BlendInputError(f"{truth_path}: regression needs a numeric target, found text such as '{raw[0]}'.")
        return raw.astype(float)
    text = _as_text(raw, truth_path)
    if kind in ("labels", "multiclass"):
        names = columns if kind == "multiclass" else classes
        if names is None:
            names = sorted(set(text.tolist()))
        codes = _positions(text, names)
        if kind == "multiclass" and (codes < 0).any():
            # Class columns named 0..9 and a truth written by pandas as 3.0: the same class.
            whole = _whole_numbers(text)
            if whole is not None:
                codes = np.where(codes < 0, _positions(whole, names), codes)
        if (codes < 0).any():
            unknown = text[codes < 0][0]
            if kind == "labels":
                raise ValueError(f"encode_truth: label '{unknown}' is not in classes")
            raise BlendInputError(
                f"{truth_path}: label '{unknown}' has no column in {reference_path} (columns {','.join(columns)}); "
                "the class columns must be named after the labels."
            )
        return codes
    return binary_target(
        raw, column=columns[0], truth_path=truth_path, reference_path=reference_path, positive=positive
    ).encode(raw)


@dataclass(frozen=True)
class BinaryTarget:
    """The two classes of a binary truth, which of them is positive, and why."""

    positive: str
    negative: str | None
    reason: str

    def encode(self, raw: NDArray[Any]) -> NDArray[np.int64]:
        """1 where the truth is the positive class, 0 elsewhere."""
        return (_binary_labels(raw) == self.positive).astype(np.int64)

    def labels(self) -> list[str]:
        """The labels in code order, ``[negative, positive]`` (what 0 and 1 stand for)."""
        return [self.negative if self.negative is not None else "0", self.positive]


def binary_target(
    raw: NDArray[Any],
    *,
    column: str,
    truth_path: Path | str,
    reference_path: Path | str,
    positive: str | None = None,
) -> BinaryTarget:
    """Which label of a two-label truth the one-column probability files predict.

    As scikit-learn's ``classes_[1]``, the positive class is the second of the two labels in
    sorted order (numbers sorted as numbers, so 0/1, 1/2 and False/True take the second),
    unless the prediction column is named after one of them (``id,Yes``), or ``positive``
    (``--positive``) names it.

    >>> target = binary_target(np.array(["No", "Yes", "No"], dtype=object), column="default",
    ...                        truth_path="t.csv", reference_path="a.csv")
    >>> target.positive, target.reason, target.encode(np.array(["No", "Yes"], dtype=object)).tolist()
    ('Yes', 'the second of No, Yes in sorted order', [0, 1])
    >>> binary_target(
    ...     np.array(["CH", "MM"], dtype=object), column="CH", truth_path="t.csv", reference_path="a.csv"
    ... ).positive
    'CH'
    >>> binary_target(np.array([9, 10]), column="y", truth_path="t.csv", reference_path="a.csv").positive
    '10'
    """
    labels = _binary_labels(raw, truth_path)
    distinct = sorted(set(labels.tolist()), key=_label_order(labels))
    shown = ", ".join(distinct[:4]) + (", ..." if len(distinct) > 4 else "")
    if len(distinct) > 2:
        numeric = _numbers(labels) is not None
        fix = (
            "pass --task regression for a numeric target"
            if numeric
            else f"for {len(distinct)} classes, write one probability column per class (id,{','.join(distinct[:3])}"
            f"{',...' if len(distinct) > 3 else ''})"
        )
        raise BlendInputError(
            f"{truth_path}: {len(distinct)} labels ({shown}) against the one probability column of {reference_path}; "
            f"a binary target has two labels; {fix}."
        )
    if positive is not None:
        positive = str(positive)
        if positive not in distinct and len(distinct) == 2:
            raise BlendInputError(
                f"--positive {positive}: not a label of {truth_path} (its labels: {shown}); name one of them."
            )
        others = [label for label in distinct if label != positive]
        return BinaryTarget(positive, others[0] if others else None, "--positive")
    if column in distinct:
        others = [label for label in distinct if label != column]
        return BinaryTarget(column, others[0] if others else None, f"the column {column} is named after it")
    if len(distinct) == 2:
        return BinaryTarget(distinct[1], distinct[0], f"the second of {shown} in sorted order")
    if distinct and distinct[0] in ("0", "1"):
        return BinaryTarget("1", "0", "a 0/1 target")
    raise BlendInputError(
        f"{truth_path}: every row holds the label {shown}, so the positive class is unknown; pass --positive LABEL."
    )


def _binary_labels(raw: NDArray[Any], truth_path: Path | str | None = None) -> NDArray[np.object_]:
    """A binary truth's labels as text: whole numbers as integers ('1.0' and 1 are '1'), text as it is."""
    raw = np.asarray(raw)
    if raw.dtype.kind in "iufb":
        return _as_text(raw.astype(np.int64) if raw.dtype.kind == "b" else raw, truth_path)
    text = raw.astype(str).astype(object)
    numbers = _numbers(text)
    if numbers is None:
        return text
    if not np.all(numbers == np.round(numbers)):
        where = f"{truth_path}: " if truth_path is not None else ""
        raise BlendInputError(
            f"{where}the target holds fractional numbers; pass --task regression for a numeric target."
        )
    return numbers.astype(np.int64).astype(str).astype(object)


def _numbers(text: NDArray[np.object_]) -> NDArray[np.float64] | None:
    """The values as finite floats when every one is a number, else None."""
    try:
        numbers = np.array([float(value) for value in text])
    except ValueError:
        return None
    return numbers if np.all(np.isfinite(numbers)) else None


def _label_order(labels: NDArray[np.object_]) -> Callable[[str], float] | None:
    """A sort key that orders numbers as numbers (9 before 10) and False before True in any case;
    None for other text (sorted as text)."""
    if _numbers(labels) is not None:
        return float
    if all(str(label).lower() in ("true", "false") for label in set(labels.tolist())):
        return lambda label: str(label).lower() == "true"
    return None


def _positions(text: NDArray[np.object_], names: list[str]) -> NDArray[np.int64]:
    """The index of each value among ``names``, -1 where it is not there."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(text, type=pa.string()), value_set=pa.array(list(names), type=pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _whole_numbers(text: NDArray[np.object_]) -> NDArray[np.object_] | None:
    """'3.0' -> '3' when every value is a whole number written as a float, else None."""
    try:
        numbers = np.array([float(value) for value in text])
    except ValueError:
        return None
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
        return None
    return numbers.astype(np.int64).astype(str).astype(object)


def _as_text(raw: NDArray[Any], truth_path: Path | str | None = None) -> NDArray[np.object_]:
    """Labels as text; whole floats (3.0, as pandas writes ints with gaps) become '3'."""
    if raw.dtype.kind == "f":
        if np.all(raw == np.round(raw)):
            return raw.astype(np.int64).astype(str).astype(object)
        where = f"{truth_path}: " if truth_path is not None else ""
        raise BlendInputError(
            f"{where}the target holds fractional numbers; pass --task regression for a numeric target."
        )
    return raw.astype(str).astype(object)


def check_against_sample(sample: Sample, predictions: Predictions) -> list[str]:
    """Refuse a submission whose ids or id header are written otherwise than in the sample
    (:class:`blender.io.Sample`, matched to ``predictions``); return what differs harmlessly."""
    if sample.by_number:
        raise BlendInputError(
            f"{predictions.paths[0]}: ids are written otherwise than in {sample.path} (e.g. "
            f"{predictions.ids[int(sample.rows[0])]} for {sample.ids[0]}); write them as the sample does "
            f"(blend COMMAND --sample {sample.path} does)."
        )
    if sample.id_column != predictions.id_column:
        raise BlendInputError(
            f"{predictions.paths[0]}: the id column is '{predictions.id_column}', the sample's is "
            f"'{sample.id_column}'; rename it."
        )
    if sample.labels is not None:
        raise BlendInputError(
            f"{predictions.paths[0]}: class probabilities ({len(predictions.columns)} columns), and {sample.path} "
            f"wants one label column '{sample.columns[0]}'; write the labels with blend COMMAND --sample {sample.path}."
        )
    notes = []
    if not np.array_equal(sample.rows, np.arange(len(sample.rows))):
        notes.append("rows in another order than the sample's (matched by id)")
    if sample.column_order != list(range(len(sample.columns))):
        notes.append("columns in another order than the sample's (matched by name)")
    return notes

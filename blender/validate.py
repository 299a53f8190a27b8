"""Checks on arrays and arguments shared by every blending method."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender.errors import BlendInputError

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
    >>> check_weights([3, 1], 3)
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: --weights 3,1 gives 2 weights for 3 files; give one per file, in the order the files are listed.
    """
    if weights is None:
        return np.ones(n_models)
    weights = np.asarray(weights, dtype=float)
    shown = ",".join(f"{w:g}" for w in weights.ravel())
    if weights.ndim != 1 or len(weights) != n_models:
        raise BlendInputError(
            f"--weights {shown} gives {weights.size} weights for {n_models} files; "
            "give one per file, in the order the files are listed."
        )
    if not np.all(np.isfinite(weights)):
        raise BlendInputError(f"--weights {shown}: every weight must be a finite number.")
    if np.any(weights < 0):
        raise BlendInputError(f"--weights {shown}: weights cannot be negative; use 0 to leave a file out.")
    if not np.any(weights > 0):
        raise BlendInputError(f"--weights {shown}: all weights are zero; give at least one file a positive weight.")
    largest = weights.max()
    if not _SAFE_LOW <= largest <= _SAFE_HIGH:
        # Only the ratios matter, and 1e308 + 1e308 overflows: bring the largest weight to 1.
        weights = weights / largest
    return weights


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
    raw: NDArray,
    *,
    kind: str,
    columns: list[str],
    truth_path,
    reference_path,
    classes: list[str] | None = None,
) -> NDArray:
    """Turn the truth's raw targets into ``y`` as the layout expects it for ``kind``.

    binary: 0/1 ints (a text target with two classes counts the one named like the prediction
    column as 1); multiclass: the index of each label among the class columns; labels: the index
    of each label in ``classes`` (the sorted class list, which must hold every truth label);
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
    values = set(np.unique(text).tolist())
    if values <= {"0", "1"}:
        return (text == "1").astype(np.int64)
    if values <= {"False", "True", "false", "true"}:
        return np.isin(text, ["True", "true"]).astype(np.int64)
    if len(values) <= 2 and columns[0] in values:
        return (text == columns[0]).astype(np.int64)
    shown = ", ".join(sorted(values)[:4]) + (", ..." if len(values) > 4 else "")
    raise BlendInputError(
        f"{truth_path}: binary probabilities need a 0/1 target, found {shown}; "
        "pass --task regression for a numeric target, or --task multiclass with one column per class."
    )


def _positions(text: NDArray, names: list[str]) -> NDArray[np.int64]:
    """The index of each value among ``names``, -1 where it is not there."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(pa.array(text, type=pa.string()), value_set=pa.array(list(names), type=pa.string()))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _whole_numbers(text: NDArray) -> NDArray | None:
    """'3.0' -> '3' when every value is a whole number written as a float, else None."""
    try:
        numbers = np.array([float(value) for value in text])
    except ValueError:
        return None
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
        return None
    return numbers.astype(np.int64).astype(str).astype(object)


def _as_text(raw: NDArray, truth_path=None) -> NDArray:
    """Labels as text; whole floats (3.0, as pandas writes ints with gaps) become '3'."""
    if raw.dtype.kind == "f":
        if np.all(raw == np.round(raw)):
            return raw.astype(np.int64).astype(str).astype(object)
        where = f"{truth_path}: " if truth_path is not None else ""
        raise BlendInputError(f"{where}the target holds fractional numbers; pass --task regression for a numeric target.")
    return raw.astype(str).astype(object)

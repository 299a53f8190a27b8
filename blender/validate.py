"""Checks on arrays and arguments shared by every blending method."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from blender.errors import BlendInputError


def check_weights(weights: ArrayLike | None, n_models: int) -> NDArray[np.float64]:
    """Return the weights as floats, or uniform weights for None.

    >>> check_weights(None, 3)
    array([1., 1., 1.])
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

"""The array namespace the ensemble kernels compute in: NumPy by default, CuPy with ``--device gpu``.

A kernel takes ``xp`` (an array-API namespace) as a parameter; ``None`` means the namespace chosen for this
run (:func:`using`), NumPy unless a command or the Python face asked for another. Results leave a kernel as
NumPy arrays or Python floats (:func:`to_numpy`), so only the kernels know where their arrays live.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType
from typing import Any

import numpy as np

from blender.errors import BlendInputError

#: What ``--device gpu`` says where it cannot run.
GPU_NEEDED = "--device gpu needs CuPy and a visible GPU: pip install cupy-cuda12x, or leave --device out"

#: An array of any namespace (NumPy, CuPy, array-api-strict): the standard has no one type for them.
Array = Any

_current: ContextVar[ModuleType] = ContextVar("array_namespace", default=np)


def namespace(xp: ModuleType | None = None) -> ModuleType:
    """``xp`` when given, else the namespace of this run (NumPy unless :func:`using` chose another)."""
    return xp if xp is not None else _current.get()


@contextmanager
def using(xp: ModuleType) -> Iterator[ModuleType]:
    """Run the kernels called within this block in ``xp``."""
    token = _current.set(xp)
    try:
        yield xp
    finally:
        _current.reset(token)


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array from any namespace: CuPy's ``.get()``, else DLPack, else ``asarray``."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "get"):  # CuPy: copy from the device
        return np.asarray(array.get())
    try:
        return np.from_dlpack(array)
    except (TypeError, AttributeError, BufferError, RuntimeError):
        return np.asarray(array)


def namespace_of(array: Any) -> ModuleType:
    """The namespace to compute on ``array`` in: NumPy for NumPy's arrays and plain numbers, the run's namespace
    for the arrays of a run outside NumPy (which may wrap their library, as array-api-compat wraps CuPy), else
    the array's own ``__array_namespace__()``."""
    get = getattr(array, "__array_namespace__", None)
    if get is None or isinstance(array, np.ndarray):
        return np
    current = _current.get()
    return get() if current is np else current


def count(xp: ModuleType, mask: Array, axis: int | None = None) -> Array:
    """How many elements of a boolean ``mask`` are true (along ``axis``), as integers: the 2023.12 standard
    has no ``count_nonzero``."""
    return xp.sum(xp.astype(mask, xp.int64), axis=axis)


def as_float64(xp: ModuleType, values: Any) -> Array:
    """``values`` (an array of ``xp`` or a Python number) as float64, without a copy where they already are."""
    if not hasattr(values, "dtype"):
        return xp.asarray(values, dtype=xp.float64)
    return values if values.dtype == xp.float64 else xp.astype(values, xp.float64)


def divide(xp: ModuleType, numerator: Array, denominator: Array) -> Array:
    """``numerator / denominator`` where the denominator (0 or more) is above 0, else 0, without a warning."""
    positive = denominator > 0
    safe = xp.where(positive, denominator, xp.ones_like(denominator))
    return xp.where(positive, numerator / safe, xp.zeros_like(safe))


def is_numpy(xp: ModuleType) -> bool:
    """Whether ``xp`` is NumPy itself, so that a kernel may take its NumPy fast path."""
    return xp is np


def for_device(device: str) -> ModuleType:
    """The namespace of ``--device``: NumPy for ``cpu``, CuPy for ``gpu`` when CuPy imports and sees a GPU
    (through array-api-compat where that is installed).

    Raises
    ------
    BlendInputError
        For ``gpu`` without CuPy or without a visible GPU, or a device other than cpu and gpu.

    >>> for_device("cpu") is np
    True
    """
    if device == "cpu":
        return np
    if device != "gpu":
        raise BlendInputError(f"--device {device}: expected cpu or gpu")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no GPU")
    except Exception:  # ImportError, or CUDA's own errors when no driver or device answers
        raise BlendInputError(GPU_NEEDED) from None
    try:
        # CuPy's own namespace lacks parts of the standard (stable argsort, cumulative_sum, clip(min=)) before
        # version 14; array-api-compat's wrapper of it has them, on the same cupy.ndarray.
        from array_api_compat import cupy as compatible
    except ImportError:
        return cupy
    return compatible


def take_last(xp: ModuleType, values: Array, index: Array) -> Array:
    """``values`` gathered along the last axis, row by row: ``out[..., j] = values[..., index[..., j]]``.

    ``values`` has the leading shape of ``index``, or is one row that every row of ``index`` gathers
    from. The 2023.12 standard's ``take`` gathers with one vector of indices: this is one ``take`` of the
    flattened values at the indices offset by their row.
    """
    n = values.shape[-1]
    rows = 1
    for size in index.shape[:-1]:
        rows *= size
    flat_index = xp.reshape(index, (rows, index.shape[-1]))
    if values.ndim > 1 and values.shape[:-1] == index.shape[:-1]:
        flat_index = flat_index + xp.reshape(xp.arange(rows, dtype=flat_index.dtype) * n, (rows, 1))
    elif values.ndim > 1 and any(size != 1 for size in values.shape[:-1]):
        raise ValueError(f"cannot gather values of shape {values.shape} by indices of shape {index.shape}")
    taken = xp.take(xp.reshape(values, (-1,)), xp.reshape(flat_index, (-1,)))
    return xp.reshape(taken, index.shape)


@contextmanager
def on_device(device: str) -> Iterator[ModuleType]:
    """:func:`using` the namespace of ``--device`` (:func:`for_device`), resolved before the block runs."""
    with using(for_device(device)) as xp:
        yield xp

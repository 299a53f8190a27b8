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

"""The user's own metric: ``--metric path/to/metric.py:function`` or ``--metric module:function``.

The function is called as ``function(y_true, y_pred)`` and returns one number:

- binary: ``y_true`` 0/1 (1 is the positive class), ``y_pred`` the positive class's probability, shape (n,);
- class probabilities: ``y_true`` the index of each row's class among the probability columns (in the
  first file's column order), ``y_pred`` shape (n, n_classes) in that order;
- regression: ``y_true`` and ``y_pred`` floats, shape (n,);
- labels: ``y_true`` and ``y_pred`` the index of each row's label among the sorted labels, shape (n,).

Its direction comes from ``--greater-is-better`` / ``--smaller-is-better``, or from an attribute
``function.greater_is_better = True``; an attribute ``function.kinds = ("binary",)`` limits the
kinds it suits. A plug-in is called once per candidate blend, which makes it much slower than a
built-in; a command says how many calls it will make.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from blender.errors import BlendInputError

if TYPE_CHECKING:
    from blender.metrics import Entry, Metric

#: The registry's form of a metric: ``function(y, pred, kind)``, one score, or one per leading candidate axis.
RegistryFunction = Callable[[NDArray[Any], NDArray[Any], str], float | NDArray[np.float64]]

_ALL_KINDS = ("binary", "multiclass", "regression", "labels")


def _split(spec: str) -> tuple[str, str]:
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise BlendInputError(f"--metric {spec}: give FILE.py:FUNCTION or module:function.")
    return where, name


def _load_module(where: str, spec: str) -> ModuleType:
    path = Path(where)
    if where.endswith(".py") or path.exists() or "/" in where:
        if not path.is_file():
            raise BlendInputError(f"--metric {spec}: {where} not found; give the path of the .py file that defines it.")
        module_spec = importlib.util.spec_from_file_location(f"blend_metric_{abs(hash(str(path.resolve())))}", path)
        if module_spec is None or module_spec.loader is None:  # a suffix Python does not import (metric.txt)
            raise BlendInputError(f"--metric {spec}: {where} is not a Python file; give the path of a .py file.")
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as error:  # the user's file: any failure is theirs to fix
            raise BlendInputError(
                f"--metric {spec}: importing {where} failed: {type(error).__name__}: {error}."
            ) from None
        return module
    try:
        return importlib.import_module(where)
    except Exception as error:
        raise BlendInputError(
            f"--metric {spec}: cannot import module {where} ({type(error).__name__}: {error}); "
            "give FILE.py:FUNCTION for a file."
        ) from None


def load_metric(spec: str, *, greater_is_better: bool | None = None) -> Entry:
    """The registry entry of the user's metric ``spec`` (``FILE.py:FUNCTION`` or ``module:function``).

    Raises
    ------
    BlendInputError
        For a file or module that cannot be loaded, a missing function, or no known direction.
    """
    from blender.metrics import Entry

    where, name = _split(spec)
    module = _load_module(where, spec)
    function = getattr(module, name, None)
    if not callable(function):
        raise BlendInputError(f"--metric {spec}: {where} has no function {name}; name a function it defines.")
    declared = getattr(function, "greater_is_better", None)
    if greater_is_better is None:
        greater_is_better = declared
    elif declared is not None and bool(declared) != greater_is_better:
        raise BlendInputError(
            f"--metric {spec}: {name}.greater_is_better is {declared}, and the command line says "
            "otherwise; drop one of them."
        )
    if greater_is_better is None:
        raise BlendInputError(
            f"--metric {spec}: is greater better? Pass --greater-is-better or --smaller-is-better "
            f"(or set {name}.greater_is_better = True in {where})."
        )
    kinds = tuple(getattr(function, "kinds", _ALL_KINDS))
    return Entry(spec, kinds, bool(greater_is_better), _caller(function, spec), "scores", f"your own: {spec}")


def _caller(function: Callable[[NDArray[Any], NDArray[Any]], Any], spec: str) -> RegistryFunction:
    """The registry's ``function(y, pred, kind)``, looping over leading candidate axes, checking each answer."""

    def one(y: NDArray[Any], pred: NDArray[Any], kind: str) -> float:
        if kind == "labels":
            pred = np.argmax(pred, axis=-1)
        try:
            value = function(y, pred)
        except Exception as error:
            raise BlendInputError(f"--metric {spec}: the function raised {type(error).__name__}: {error}.") from None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BlendInputError(
                f"--metric {spec}: the function returned {type(value).__name__} {value!r}, "
                "not a number; return one float."
            ) from None
        if not math.isfinite(number):
            raise BlendInputError(
                f"--metric {spec}: the function returned {number}; it must return a finite number (on {len(y):,} rows)."
            )
        return number

    def call(y: NDArray[Any], pred: NDArray[Any], kind: str) -> float | NDArray[np.float64]:
        pred = np.asarray(pred)
        core = 1 if kind in ("binary", "regression") else 2
        if pred.ndim == core:
            return one(y, pred, kind)
        flat = pred.reshape((-1,) + pred.shape[pred.ndim - core :])
        return np.array([one(y, candidate, kind) for candidate in flat]).reshape(pred.shape[: pred.ndim - core])

    return call


def try_metric(metric: Metric, y: NDArray[Any], scores: NDArray[np.float64], *, rows: int = 200) -> None:
    """Call a plug-in once on the first ``rows`` rows before a long run (a bad one stops with one line)."""
    if str(metric) in _builtin_names() or getattr(metric, "k", None) is not None:
        return
    metric.score(np.asarray(y)[:rows], np.asarray(scores)[:rows])


def _builtin_names() -> dict[str, Entry]:
    from blender.metrics import REGISTRY

    return REGISTRY


def is_plugin(metric: str | None) -> bool:
    """Whether ``metric`` is the user's own (``FILE.py:FUNCTION``), not a built-in."""
    return ":" in str(metric)


def _calls_per_fit(name: str, n_models: int, options: dict[str, Any], *, fewest: bool = False) -> int:
    """About how many metric calls one fit of a registry entry makes: the most, or with ``fewest`` the
    fewest a search that stops early makes (hill climbing after one step, Nelder-Mead after 100 n)."""
    iters = int(options.get("iters") or 50)
    steps = 2 if fewest else int(options.get("max_iters") or 100)
    if name.startswith("caruana"):
        return n_models + 2 * iters * n_models
    if name == "hill-climb":
        return n_models + steps * n_models * 50
    if name == "weights":
        return (100 if fewest else 400) * n_models
    if name == "select":
        return n_models
    if name.startswith("level2"):
        return 3 * 3 + steps * 3 * 50
    return 1


def call_estimate(
    method_names: Sequence[str],
    *,
    n_models: int,
    folds: int,
    repeats: int = 1,
    nested: bool = False,
    options: dict[str, Any] | None = None,
    fewest: bool = False,
) -> int:
    """About how many calls of a plug-in metric a command makes: every file and entry on every fold, the
    final fits, and for ``blend auto`` the nested estimate's leaderboards (one per outer fold). With
    ``fewest``, the count when the searches stop as early as they can.

    >>> call_estimate(["average"], n_models=3, folds=5)
    39
    """
    options = options or {}

    def per_fit(name: str) -> int:
        return _calls_per_fit(name, n_models, options, fewest=fewest)

    per_fold = n_models + sum(1 + per_fit(name) for name in method_names)
    board = folds * repeats * per_fold + n_models
    final = sum(per_fit(name) for name in method_names) * (1 + folds) + folds
    return board * (folds + 1 if nested else 1) + final

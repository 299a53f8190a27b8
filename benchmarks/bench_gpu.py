"""Caruana and the leaderboard's fold scores on the GPU (CuPy) against the CPU (NumPy), in one run (issue 28).

The prepared script for a machine with a GPU: binary OOF predictions of ``--models`` x ``--rows``
float32 values (1,000 x 1,000,000 by default: 4 GB) are made in memory, and each of these runs in
NumPy on the CPU and in CuPy on the GPU (``blender.arrays.using(cupy)``), timed in the same run:

- one float32 pass over the values (a plain ``sum``), the floor of any kernel that reads them;
- Caruana selection with log loss, ``--iters`` rounds from an empty start (``caruana_select(init=0)``);
  the CPU runs ``--cpu-iters`` of them (a round costs the same every time) and the table gives both
  the seconds per round and the total;
- the leaderboard's fold scores of the files (:func:`blender.evaluation.model_fold_scores`) with log
  loss and AUC, on the first ``--board-models`` files and 5 folds.

It prints a table of times, the GPU's speed-up, and the largest difference between the two devices'
scores (Caruana's path over the rounds both ran, the fold scores). It imports only NumPy, CuPy and this
repository (no TensorFlow, no pandas, no scikit-learn), so it runs from the source tree:

    PYTHONPATH=. python benchmarks/bench_gpu.py                         # on the GPU machine
    PYTHONPATH=. python benchmarks/bench_gpu.py --cpu-only --size small # a smoke test, NumPy twice

``--cpu-only`` stands NumPy in for CuPy (or ``--stand-in array_api_strict``), so the script's every path
runs on a machine without a GPU; the times then compare the CPU with itself. Not in ``make bench``: it
needs a GPU to mean anything.
"""

from __future__ import annotations

import argparse
import importlib
import time
from types import ModuleType
from typing import Any, Callable

import numpy as np

from blender import arrays, evaluation, metrics
from blender.caruana import caruana_select

SIZES = {"full": (1000, 1_000_000), "small": (40, 20_000)}
FOLDS = 5


def make_oof(n_models: int, n_rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Binary truth and float32 OOF probabilities (n_models, n_rows) of varied skill, made a model at a time."""
    generator = np.random.default_rng(seed)
    y = generator.integers(0, 2, n_rows).astype(np.int64)
    signal = (2.0 * y - 1.0).astype(np.float32)
    oof = np.empty((n_models, n_rows), dtype=np.float32)
    shared = generator.standard_normal(n_rows, dtype=np.float32)
    for model in range(n_models):
        skill = np.float32(0.3 + 1.2 * model / max(1, n_models - 1))
        logit = skill * signal + shared + generator.standard_normal(n_rows, dtype=np.float32)
        np.negative(logit, out=logit)
        np.exp(logit, out=logit)
        logit += 1.0
        np.reciprocal(logit, out=oof[model])
    return y, oof


def synchronise(xp: ModuleType) -> None:
    """Wait for the device (CuPy runs asynchronously); nothing elsewhere."""
    cuda = getattr(xp, "cuda", None)
    if cuda is not None:
        cuda.Stream.null.synchronize()


def timed(xp: ModuleType, work: Callable[[], Any]) -> tuple[float, Any]:
    synchronise(xp)
    started = time.perf_counter()
    result = work()
    synchronise(xp)
    return time.perf_counter() - started, result


def float32_pass(xp: ModuleType, values: Any) -> float:
    """Seconds of one plain sum over the float32 values (the fastest of three)."""
    return min(timed(xp, lambda: float(xp.sum(values)))[0] for _ in range(3))


def caruana(xp: ModuleType, oof: np.ndarray, y: np.ndarray, iters: int) -> tuple[float, Any, str]:
    """Caruana with log loss in ``xp``: the device's own array where the kernel takes one, else NumPy's."""
    values = oof[:, :, None]
    with arrays.using(xp):
        if arrays.is_numpy(xp):
            seconds, result = timed(xp, lambda: run_caruana(values, y, iters))
            return seconds, result, "numpy"
        device_values = xp.asarray(values)
        synchronise(xp)
        try:
            seconds, result = timed(xp, lambda: run_caruana(device_values, xp.asarray(y), iters))
            return seconds, result, "device arrays"
        except (TypeError, ValueError, AttributeError):
            # A caruana.py that does not take the namespace's arrays yet: its NumPy arrays, under using(xp).
            del device_values
            seconds, result = timed(xp, lambda: run_caruana(values, y, iters))
            return seconds, result, "numpy arrays under using(xp)"


def run_caruana(values: Any, y: Any, iters: int) -> Any:
    return caruana_select(values, y, kind="binary", metric="logloss", init=0, iters=iters, replacement=True)


def fold_splits(n_rows: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Five shuffled folds (no scikit-learn on the GPU machine)."""
    order = np.random.default_rng(seed).permutation(n_rows)
    held = np.array_split(order, FOLDS)
    return [(np.sort(np.concatenate(held[:k] + held[k + 1 :])), np.sort(held[k])) for k in range(FOLDS)]


def fold_scores(xp: ModuleType, values: np.ndarray, y: np.ndarray, metric: str) -> tuple[float, np.ndarray]:
    splits = fold_splits(y.shape[0])
    resolved = metrics.resolve(metric, "binary")
    return timed(xp, lambda: evaluation.model_fold_scores(values, y, splits, kind="binary", metric=resolved, xp=xp))


def device_namespace(args: argparse.Namespace) -> ModuleType:
    if args.cpu_only:
        return importlib.import_module(args.stand_in)
    return arrays.for_device("gpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--models", type=int, help="override the size's models")
    parser.add_argument("--rows", type=int, help="override the size's rows")
    parser.add_argument("--iters", type=int, default=25, help="Caruana rounds on the GPU")
    parser.add_argument("--cpu-iters", type=int, help="Caruana rounds on the CPU [default: 2 for full, else --iters]")
    parser.add_argument("--board-models", type=int, default=100, help="files in the fold-score timing")
    parser.add_argument("--cpu-only", action="store_true", help="stand NumPy (or --stand-in) in for CuPy")
    parser.add_argument("--stand-in", default="numpy", help="the namespace --cpu-only uses for the device")
    args = parser.parse_args()
    n_models, n_rows = SIZES[args.size]
    n_models, n_rows = args.models or n_models, args.rows or n_rows
    cpu_iters = args.cpu_iters or (2 if args.size == "full" else args.iters)
    cpu_iters = min(cpu_iters, args.iters)
    device = device_namespace(args)
    name = f"{device.__name__} (stand-in)" if args.cpu_only else device.__name__

    started = time.perf_counter()
    y, oof = make_oof(n_models, n_rows)
    made = time.perf_counter() - started
    print(f"{n_models:,} x {n_rows:,} float32 OOF values ({oof.nbytes / 1e9:.2f} GB) made in {made:.1f} s")
    print(f"CPU: numpy {np.__version__}; device: {name}")

    rows: list[tuple[str, float, float]] = []
    cpu_pass = float32_pass(np, oof)
    on_device = device.asarray(oof)
    device_pass = float32_pass(device, on_device)
    del on_device
    rows.append(("float32 pass (sum)", cpu_pass, device_pass))

    cpu_seconds, cpu_result, _ = caruana(np, oof, y, cpu_iters)
    device_seconds, device_result, how = caruana(device, oof, y, args.iters)
    rows.append(("caruana logloss, per round", cpu_seconds / cpu_iters, device_seconds / args.iters))
    rows.append((f"caruana logloss, {args.iters} rounds", cpu_seconds * args.iters / cpu_iters, device_seconds))
    cpu_path = np.array([score for _, score in cpu_result.trajectory[:cpu_iters]])
    device_path = np.array([score for _, score in device_result.trajectory[:cpu_iters]])
    same_models = [m for m, _ in cpu_result.trajectory[:cpu_iters]] == [
        m for m, _ in device_result.trajectory[:cpu_iters]
    ]
    differences = {"caruana path": float(np.max(np.abs(cpu_path - device_path))) if cpu_path.size else 0.0}

    board = oof[: args.board_models, :, None]
    for metric in ("logloss", "auc"):
        cpu_time, cpu_scores = fold_scores(np, board, y, metric)
        try:
            device_time, device_scores = fold_scores(device, board, y, metric)
        except Exception as error:  # a namespace missing part of the standard: say which, and go on
            print(f"fold scores {metric} on the device failed: {type(error).__name__}: {error}")
            continue
        rows.append((f"fold scores {metric} ({board.shape[0]} files x {FOLDS})", cpu_time, device_time))
        differences[f"fold scores {metric}"] = float(np.max(np.abs(cpu_scores - device_scores)))

    print(f"\n{'':<40} {'CPU s':>10} {'device s':>10} {'speed-up':>9}")
    for label, cpu_time, device_time in rows:
        print(f"{label:<40} {cpu_time:>10.4f} {device_time:>10.4f} {cpu_time / max(device_time, 1e-12):>8.1f}x")
    print(f"\nCaruana on the device was given {how}; its {cpu_iters} rounds pick the same models: {same_models}")
    print(f"caruana rounds on the device as float32 passes: {device_seconds / args.iters / device_pass:.1f}")
    for label, difference in differences.items():
        print(f"max |difference| CPU vs device, {label}: {difference:.3g}")


if __name__ == "__main__":
    main()

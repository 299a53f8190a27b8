"""Caruana selection with every built-in metric, timed against its own kind's AUC in the same run.

Issue 25, item 6: Caruana selection (``caruana_select(init=0, iters=100)``) on 100 OOF files x
50,000 rows with each built-in metric must take at most 2x the time of the same selection with
AUC (which also sorts once per candidate), measured in the same run. The metrics that judge
decisions fit their step for every candidate: binary f1/mcc/accuracy/balanced_accuracy the best
threshold (one sort per candidate, :func:`blender.steps.threshold_scores`), qwk cut-points
(:func:`blender.steps.fit_cut_points`), multiclass decisions the argmax and a confusion matrix by
``bincount``, map@K the rank of the true class.

The references: binary ``auc`` for binary; ``auc_ovr`` for multiclass (the table shows the ratio
to binary auc too); regression has no AUC, so its reference is binary ``auc`` on the same shape
(models x rows). Multiclass uses 3 classes (100 x 50,000 x 3 float64 = 120 MB); ``--map-classes``
adds map@3 on more classes with ``--map-models`` models (default 10 classes, 30 models), whose
reference is auc_ovr on that same data. Regression targets are 6 ordered integer classes.

Synthetic OOF (models of varied skill sharing some noise, as real OOF columns do) is built once
per kind. Times are process CPU time (``time.process_time``), the fastest of ``--repeat`` calls.

    .venv/bin/python benchmarks/bench_metrics.py [--rows 50000] [--models 100] [--iters 100] [--repeat 1]
        [--metrics f1,qwk,...] [--kinds binary,multiclass,regression] [--classes 3] [--map-classes 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from blender.caruana import caruana_select

TARGET = 2.0
METRICS = {
    "binary": [
        "auc",
        "gini",
        "logloss",
        "balanced_logloss",
        "brier",
        "average_precision",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "mcc",
    ],
    "multiclass": [
        "auc_ovr",
        "logloss",
        "balanced_logloss",
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "f1_weighted",
        "mcc",
        "map@3",
        "qwk",
    ],
    "regression": ["rmse", "mae", "rmsle", "mape", "smape", "r2", "qwk"],
}
REFERENCE = {"binary": ("binary", "auc"), "multiclass": ("multiclass", "auc_ovr"), "regression": ("binary", "auc")}


def _shared_logits(rng, n_rows: int, n_models: int, signal) -> np.ndarray:
    """(n_models, n_rows, ...) logits: ``signal`` scaled by each model's skill, plus shared and own noise."""
    skill = rng.uniform(0.2, 1.5, n_models).reshape((n_models,) + (1,) * signal.ndim)
    shared = rng.normal(size=signal.shape) * 0.8
    return skill * signal + shared + rng.normal(size=(n_models,) + signal.shape)


def binary_oof(n_rows: int, n_models: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows)
    logits = _shared_logits(rng, n_rows, n_models, (2.0 * y - 1.0).astype(np.float64))
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


def multiclass_oof(n_rows: int, n_models: int, n_classes: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_rows)
    logits = _shared_logits(rng, n_rows, n_models, 1.5 * np.eye(n_classes)[y])
    logits -= logits.max(axis=-1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=-1, keepdims=True)
    return y, logits


def regression_oof(n_rows: int, n_models: int, n_classes: int = 6, seed: int = 2):
    """Integer targets 0..n_classes-1 (ratings), predictions the target plus noise (qwk needs whole numbers)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n_rows)
    noise = _shared_logits(rng, n_rows, n_models, np.zeros(n_rows))
    skill = rng.uniform(0.3, 1.2, n_models)[:, None]
    values = np.clip(y + skill * noise, 0.0, None)  # rmsle needs >= 0 to be meaningful; it clips anyway
    return y.astype(np.float64), values[:, :, None]


def _timed(function, repeat: int) -> float:
    """The fastest CPU seconds of ``repeat`` calls."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        function()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="time each run this many times and keep the fastest")
    parser.add_argument("--classes", type=int, default=3, help="classes of the multiclass data")
    parser.add_argument("--map-classes", type=int, default=10, help="also map@3 on this many classes (0: skip)")
    parser.add_argument("--map-models", type=int, default=30, help="models of the --map-classes data")
    parser.add_argument("--kinds", default="binary,multiclass,regression")
    parser.add_argument("--metrics", default=None, help="comma-separated subset (the references always run)")
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    chosen = None if args.metrics is None else {name.strip() for name in args.metrics.split(",")}

    data = {}
    if "binary" in kinds or "regression" in kinds:
        data["binary"] = binary_oof(args.rows, args.models)
    if "multiclass" in kinds:
        data["multiclass"] = multiclass_oof(args.rows, args.models, args.classes)
    if "regression" in kinds:
        data["regression"] = regression_oof(args.rows, args.models)
    if "multiclass" in kinds and args.map_classes and (chosen is None or "map@3" in chosen):
        data["many"] = multiclass_oof(args.rows, args.map_models, args.map_classes, seed=3)

    def run(kind: str, metric: str) -> float:
        y, oof = data[kind]
        data_kind = "multiclass" if kind == "many" else kind
        caruana_select(oof[:, :2000], y[:2000], kind=data_kind, metric=metric, init=0, iters=2)  # warm up
        return _timed(
            lambda: caruana_select(oof, y, kind=data_kind, metric=metric, init=0, iters=args.iters), args.repeat
        )

    print(
        f"Caruana selection with each metric: {args.models} models x {args.rows:,} rows, {args.iters} iterations, "
        f"no initialisation; multiclass with {args.classes} classes, regression 6 integer classes"
    )
    print(
        f"CPU seconds of this process, same run, fastest of {args.repeat}; target: at most {TARGET:g}x the kind's AUC "
        "(regression: binary auc on the same shape)\n",
        flush=True,
    )
    references: dict[str, float] = {}
    for kind in dict.fromkeys(REFERENCE[k][0] for k in kinds):
        references[kind] = run(kind, REFERENCE[kind][1])
        print(f"  reference {kind} {REFERENCE[kind][1]}: {references[kind]:.2f} s", flush=True)
    header = ["kind", "metric", "CPU s", "reference", "ratio", "ratio to binary auc", f"within {TARGET:g}x"]
    rows = []
    for kind in kinds:
        reference_kind, reference_metric = REFERENCE[kind]
        for metric in METRICS[kind]:
            if chosen is not None and metric not in chosen and metric != reference_metric:
                continue
            if kind == reference_kind and metric == reference_metric:
                seconds = references[kind]
            else:
                seconds = run(kind, metric)
            ratio = seconds / references[reference_kind]
            to_binary = seconds / references["binary"] if "binary" in references else float("nan")
            rows.append(
                [
                    kind,
                    metric,
                    f"{seconds:.2f}",
                    f"{reference_metric} {references[reference_kind]:.2f} s",
                    f"{ratio:.2f}x",
                    f"{to_binary:.2f}x",
                    "yes" if ratio <= TARGET else "NO",
                ]
            )
            print("  " + " | ".join(rows[-1]), flush=True)
    if "many" in data:
        many_ref = run("many", "auc_ovr")
        seconds = run("many", "map@3")
        ratio = seconds / many_ref
        label = f"multiclass ({args.map_classes} classes, {args.map_models} models)"
        rows.append([label, "auc_ovr", f"{many_ref:.2f}", f"auc_ovr {many_ref:.2f} s", "1.00x", "-", "yes"])
        rows.append(
            [
                label,
                "map@3",
                f"{seconds:.2f}",
                f"auc_ovr {many_ref:.2f} s",
                f"{ratio:.2f}x",
                "-",
                "yes" if ratio <= TARGET else "NO",
            ]
        )
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

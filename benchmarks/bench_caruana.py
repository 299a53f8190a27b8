"""Caruana selection: the vectorised implementation against a straightforward loop.

100 synthetic binary OOF models x 50,000 rows, 50 iterations, init=0, for log loss,
accuracy and AUC. The reference keeps the same running sum of the chosen members and,
for every candidate, averages it in and calls scikit-learn's metric. It runs only the
first few iterations; its time per iteration is constant (the running sum makes every
iteration the same work), so its 50-iteration time is extrapolated linearly. Both must
pick the same models on the iterations both ran. Times are this process's CPU time
(time.process_time), which a busy shared machine disturbs less than wall time; wall
time is printed too.

Run: .venv/bin/python benchmarks/bench_caruana.py [--rows 50000] [--models 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn import metrics as sk

from blender.caruana import caruana_select

SKLEARN = {
    "logloss": (sk.log_loss, False),
    "accuracy": (lambda y, p: sk.accuracy_score(y, p > 0.5), True),
    "auc": (sk.roc_auc_score, True),
}


def synthetic_oof(n_rows: int, n_models: int, seed: int = 0):
    """Models of varied skill sharing some noise, as real OOF columns do."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows)
    signal = (2 * y - 1)[:, None] * rng.uniform(0.2, 1.5, n_models)
    shared = rng.normal(size=(n_rows, 1)) * 0.8
    logits = signal + shared + rng.normal(size=(n_rows, n_models))
    return y, 1.0 / (1.0 + np.exp(-logits))


def reference_selection(oof, y, metric, iterations):
    """Greedy selection by brute force: one scikit-learn call per candidate per iteration."""
    score, greater = SKLEARN[metric]
    total = np.zeros(oof.shape[0])
    picks = []
    for size in range(iterations):
        scores = np.array([score(y, (total + oof[:, j]) / (size + 1)) for j in range(oof.shape[1])])
        pick = int(np.argmax(scores) if greater else np.argmin(scores))
        picks.append(pick)
        total += oof[:, pick]
    return picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--reference-iters", type=int, default=3)
    args = parser.parse_args()

    y, oof = synthetic_oof(args.rows, args.models)
    print(f"Caruana selection: {args.models} binary models x {args.rows:,} rows, {args.iters} iterations, init=0")
    print(f"reference: {args.reference_iters} iterations timed, extrapolated linearly to {args.iters}\n")
    header = ("metric", "blender CPU (s)", "per iter (ms)", "reference/iter (ms)", f"reference {args.iters} it (s)",
              "speed-up", "wall speed-up", "same picks")
    rows = []
    for metric in SKLEARN:
        caruana_select(oof[:2000], y[:2000], kind="binary", metric=metric, init=0, iters=2)  # warm up
        start, wall = time.process_time(), time.perf_counter()
        result = caruana_select(oof, y, kind="binary", metric=metric, init=0, iters=args.iters)
        ours, ours_wall = time.process_time() - start, time.perf_counter() - wall

        start, wall = time.process_time(), time.perf_counter()
        picks = reference_selection(oof, y, metric, args.reference_iters)
        reference_per_iteration = (time.process_time() - start) / args.reference_iters
        reference = reference_per_iteration * args.iters
        reference_wall = (time.perf_counter() - wall) / args.reference_iters * args.iters

        ours_picks = result.selection[: args.reference_iters]
        rows.append((metric, f"{ours:.2f}", f"{1000 * ours / args.iters:.1f}", f"{1000 * reference_per_iteration:.0f}",
                     f"{reference:.1f}", f"{reference / ours:.0f}x", f"{reference_wall / ours_wall:.0f}x", "yes" if picks == ours_picks else f"NO {picks} {ours_picks}"))
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print("  ".join(text.rjust(width) for text, width in zip(header, widths)))
    for row in rows:
        print("  ".join(text.rjust(width) for text, width in zip(row, widths)))


if __name__ == "__main__":
    main()

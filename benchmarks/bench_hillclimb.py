"""Hill climbing: the vectorised implementation against a straightforward loop.

100 synthetic binary OOF files x 50,000 rows, 10 iterations from the best single file, the
default grid (w = 0.01, ..., 0.5), for AUC and log loss. The reference is the loop a
competitor writes: for each iteration, for each candidate file, for each w, blend
``(1 - w) * blend + w * file`` and call scikit-learn's ``roc_auc_score`` or ``log_loss``.
Every iteration of it does the same work (100 files x 50 weights), so it runs the first
``--reference-iters`` iterations (default 1) and its time is extrapolated linearly to the
10 iterations; the start (scoring each file once) is timed in full. Both must take the same
steps on the iterations both ran, and the reference's grid of scores for the first step
must equal ``grid_scores``. A second reference, the same loop over ``blender.metrics.score``
(numpy, already several times faster than scikit-learn), is timed on its first iteration too.

Times are this process's CPU time (time.process_time), which a busy shared machine disturbs
less than wall time; wall time is printed too.

Run: .venv/bin/python benchmarks/bench_hillclimb.py [--rows 50000] [--models 100] [--iters 10]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn import metrics as sk

from blender import metrics
from blender.hillclimb import default_grid, grid_scores, hill_climb

SKLEARN = {"auc": (sk.roc_auc_score, True), "logloss": (sk.log_loss, False)}


def synthetic_oof(n_rows: int, n_models: int, seed: int = 0):
    """Binary models of varied skill sharing some noise, as real OOF files do; shape (n_models, n_rows, 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows)
    signal = (2 * y - 1)[None, :] * rng.uniform(0.2, 1.5, (n_models, 1))
    shared = rng.normal(size=(1, n_rows)) * 0.8
    logits = signal + shared + rng.normal(size=(n_models, n_rows))
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


def reference_climb(values, y, metric, grid, iterations, score=None):
    """Hill climbing by brute force: one metric call per file per weight per iteration.

    Returns the steps taken, the first step's (n_models, n_grid) scores, the CPU and wall
    seconds of the start and of each iteration.
    """
    if score is None:
        score, greater = SKLEARN[metric]
    else:
        greater = metrics.greater_is_better(metric)
    sign = 1.0 if greater else -1.0
    oof = values[:, :, 0]
    cpu, wall = time.process_time(), time.perf_counter()
    singles = np.array([score(y, model) for model in oof])
    start = int(np.argmax(sign * singles))
    blend, current = oof[start].copy(), singles[start]
    start_times = (time.process_time() - cpu, time.perf_counter() - wall)
    steps, first_grid, iteration_times = [(0, start, 1.0, float(current))], None, []
    for iteration in range(1, iterations + 1):
        cpu, wall = time.process_time(), time.perf_counter()
        scores = np.empty((len(oof), len(grid)))
        for model in range(len(oof)):
            for k, w in enumerate(grid):
                scores[model, k] = score(y, (1.0 - w) * blend + w * oof[model])
        iteration_times.append((time.process_time() - cpu, time.perf_counter() - wall))
        first_grid = scores if first_grid is None else first_grid
        # The same rule as hill_climb: the best gain; on a tie the smallest w, then the lowest file.
        gains = (sign * (scores - current)).T.ravel()
        step, model = divmod(int(np.argmax(gains)), len(oof))
        if not gains.max() > 0:
            break
        blend = (1.0 - grid[step]) * blend + grid[step] * oof[model]
        current = scores[model, step]
        steps.append((iteration, model, float(grid[step]), float(current)))
    return steps, first_grid, start_times, iteration_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--reference-iters", type=int, default=1)
    args = parser.parse_args()

    y, values = synthetic_oof(args.rows, args.models)
    grid = default_grid()
    print(
        f"Hill climbing: {args.models} binary OOF files x {args.rows:,} rows, {args.iters} iterations, "
        f"{len(grid)} weights per file (w = {grid[0]:g}..{grid[-1]:g})"
    )
    print(
        f"reference (loop over scikit-learn): {args.reference_iters} iteration(s) timed, extrapolated linearly "
        f"to {args.iters}; the loop over blender.metrics.score: 1 iteration, extrapolated likewise\n"
    )
    header = (
        "metric",
        "blender CPU (s)",
        "per iter (s)",
        "sklearn/iter (s)",
        f"sklearn {args.iters} it (s)",
        "speed-up",
        "wall speed-up",
        "metrics.score/iter (s)",
        "vs metrics.score",
        "same steps",
        "max |Δscore|",
    )
    rows = []
    line_notes: list[str] = []
    for metric in SKLEARN:
        hill_climb(values[:3, :2000], y[:2000], kind="binary", metric=metric, max_iters=1)  # warm up
        cpu, wall = time.process_time(), time.perf_counter()
        # The grid, as the reference climbs (log loss takes its steps by a line search by default: timed below).
        result = hill_climb(
            values, y, kind="binary", metric=metric, tolerance=0.0, max_iters=args.iters, line_search=False
        )
        ours, ours_wall = time.process_time() - cpu, time.perf_counter() - wall
        if metric == "logloss":
            cpu_line = time.process_time()
            line = hill_climb(values, y, kind="binary", metric=metric, tolerance=0.0, max_iters=args.iters)
            line_notes.append(
                f"log loss with the line search (Newton, no grid): {time.process_time() - cpu_line:.1f} s CPU against "
                f"{ours:.1f} s on the grid, {len(line.trajectory) - 1} steps, score {line.score:.6f} against "
                f"{result.score:.6f}"
            )
        done = len(result.trajectory) - 1

        steps, first_grid, start_times, iteration_times = reference_climb(values, y, metric, grid, args.reference_iters)
        per_iteration = np.mean([cpu for cpu, _ in iteration_times])
        per_iteration_wall = np.mean([wall for _, wall in iteration_times])
        # The reference would run as many iterations as the climb did.
        reference = start_times[0] + per_iteration * done
        reference_wall = start_times[1] + per_iteration_wall * done

        numpy_score = lambda truth, blend, m=metric: metrics.score(truth, blend, metric=m, kind="binary")  # noqa: E731
        numpy_loop = reference_climb(values, y, metric, grid, 1, score=numpy_score)
        numpy_reference = numpy_loop[2][0] + numpy_loop[3][0][0] * done

        start = result.trajectory[0][1]
        weights = np.zeros(args.models)
        weights[start] = 1.0
        ours_grid = grid_scores(values, weights, y, kind="binary", metric=metric, grid=grid)
        compared = len(steps)
        same = [step[:3] for step in steps] == [step[:3] for step in result.trajectory[:compared]]
        difference = max(
            np.abs(ours_grid - first_grid).max(),
            max(abs(a[3] - b[3]) for a, b in zip(steps, result.trajectory[:compared])),
        )
        rows.append(
            (
                metric,
                f"{ours:.1f}",
                f"{ours / max(done, 1):.2f}",
                f"{per_iteration:.1f}",
                f"{reference:.0f}",
                f"{reference / ours:.0f}x",
                f"{reference_wall / ours_wall:.0f}x",
                f"{numpy_loop[3][0][0]:.1f}",
                f"{numpy_reference / ours:.1f}x",
                f"yes ({compared} steps)" if same else "NO",
                f"{difference:.1e}",
            )
        )
        if done < args.iters:
            print(
                f"note: {metric} stopped after {done} iterations (no step improved); "
                f"the references are scaled to {done}"
            )
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print("  ".join(text.rjust(width) for text, width in zip(header, widths)))
    for row in rows:
        print("  ".join(text.rjust(width) for text, width in zip(row, widths)))
    for note in line_notes:
        print(note)


if __name__ == "__main__":
    main()

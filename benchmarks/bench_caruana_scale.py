"""Caruana at competition scale: log loss, 25 rounds over 1,000 OOF files x 1,000,000 rows, against one float32 pass.

Issue 28's target: ``caruana_select(init=0, iters=25)`` with log loss on binary OOF predictions held in
float32 takes at most 10x one plain ``sum`` over the same float32 array (timed in the same run, the floor
of any method that reads every value), beyond reading; and its peak memory stays within 2x the float32
bytes of the OOF values (the test files are read after the fit, or streamed, so they do not count).

The OOF files are binary ``id,target`` Parquet files (``--parquet``, the default) written once under
``benchmarks/_data/caruana_scale/`` (``--regenerate`` to redo them), or arrays made in memory
(``--in-memory``). Reading is timed on its own (pyarrow, each file's column into one float32 array). The
models share a common signal and noise, as real OOF columns do. Each measurement runs in its own process,
so that its peak resident memory (``ru_maxrss`` of the child) is its own:

- ``read``: read the files into the float32 array (absent with ``--in-memory``, where they are generated);
- ``sum``: read (or generate), then ``values.sum()`` once: the floor; the row shows the sum's own time;
- ``caruana``: read (or generate), then ``caruana_select``; the row shows the fit's own time, its
  multiple of the sum's, the passes it made (25 rounds x the candidates it scored exactly) and its
  peak memory against the float32 bytes.

The size is a flag (``--files``, ``--rows``): the full size needs about 8 GB of memory and 4 GB of disk.

    .venv/bin/python benchmarks/bench_caruana_scale.py [--files 1000] [--rows 1000000] [--in-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data" / "caruana_scale"
TARGET_TIME = 10.0  # Caruana's fit within this multiple of one float32 pass
TARGET_MEMORY = 2.0  # peak memory within this multiple of the float32 bytes of the OOF values
BLOCK = 50  # files generated at a time


def _models(n_files: int, n_rows: int, seed: int = 0):
    """y (n_rows,) and blocks of (start, float32 probabilities of shape (block, n_rows))."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows).astype(np.int8)
    shared = (rng.normal(size=n_rows) * 0.8).astype(np.float32)
    signal = (2.0 * y - 1.0).astype(np.float32)
    for start in range(0, n_files, BLOCK):
        count = min(BLOCK, n_files - start)
        skill = rng.uniform(0.3, 1.2, (count, 1)).astype(np.float32)
        logits = signal * skill + shared + rng.standard_normal((count, n_rows), dtype=np.float32)
        yield y, start, (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)


def generate(n_files: int, n_rows: int, folder: Path, regenerate: bool) -> None:
    """The OOF Parquet files ``m0000.parquet``... and ``truth.npy``, written once per size."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = folder / ".complete"
    if done.exists() and not regenerate:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ids = pa.array(np.arange(n_rows, dtype=np.int64))
    for y, start, block in _models(n_files, n_rows):
        if start == 0:
            np.save(folder / "truth.npy", y)
        for offset, column in enumerate(block):
            table = pa.table({"id": ids, "target": pa.array(column)})
            pq.write_table(table, folder / f"m{start + offset:04d}.parquet", compression="snappy")
    done.write_text("")


def load(args) -> tuple[np.ndarray, np.ndarray]:
    """The OOF values (n_files, n_rows, 1) float32 and y: read from the files, or made in memory."""
    values = np.empty((args.files, args.rows, 1), dtype=np.float32)
    if args.in_memory:
        for y, start, block in _models(args.files, args.rows):
            values[start : start + len(block), :, 0] = block
        return values, y
    import pyarrow.parquet as pq

    folder = _folder(args)
    for j in range(args.files):
        column = pq.read_table(folder / f"m{j:04d}.parquet", columns=["target"]).column("target")
        values[j, :, 0] = column.to_numpy()
    return values, np.load(folder / "truth.npy")


def _folder(args) -> Path:
    return DATA / f"{args.files}x{args.rows}"


def child(args) -> None:
    """One measurement in this process; prints one JSON line."""
    started = time.perf_counter()
    values, y = load(args)
    reading = time.perf_counter() - started
    result: dict = {"reading_s": reading}
    if args.child == "sum":
        started = time.perf_counter()
        total = values.sum()
        result["seconds"] = time.perf_counter() - started
        result["total"] = float(total)
    elif args.child == "caruana":
        from blender import caruana

        scored = []
        real_means = caruana.CandidateScorer._candidate_means

        def counting_means(self, total, size, chunk, *, divide=True):
            scored.append(len(chunk))  # one candidate ensemble built: one pass over that file's values
            return real_means(self, total, size, chunk, divide=divide)

        caruana.CandidateScorer._candidate_means = counting_means
        started = time.perf_counter()
        fitted = caruana.caruana_select(values, y, kind="binary", metric="logloss", init=0, iters=args.iters)
        result["seconds"] = time.perf_counter() - started
        result["score"] = fitted.score
        result["passes"] = sum(scored) / args.files  # candidate ensembles built, in passes over all files
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux, in MB
    print(json.dumps(result), flush=True)


def run(args, what: str) -> dict:
    argv = [sys.executable, __file__, "--child", what, "--files", str(args.files), "--rows", str(args.rows)]
    argv += ["--iters", str(args.iters)] + (["--in-memory"] if args.in_memory else [])
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--iters", type=int, default=25)
    parser.add_argument("--in-memory", action="store_true", help="make the arrays in memory instead of reading files")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--child", choices=["sum", "caruana"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    float_mb = args.files * args.rows * 4 / 1e6
    source = "made in memory" if args.in_memory else "binary Parquet"
    print(f"{args.files:,} OOF files x {args.rows:,} rows ({source}), log loss, {args.iters} rounds; "
          f"float32 bytes {float_mb:,.0f} MB", flush=True)  # fmt: skip
    if not args.in_memory:
        started = time.perf_counter()
        generate(args.files, args.rows, _folder(args), args.regenerate)
        print(f"  files ready in {time.perf_counter() - started:.1f} s", flush=True)
    floor = run(args, "sum")
    fit = run(args, "caruana")
    ratio = fit["seconds"] / floor["seconds"]
    memory = fit["peak_mb"] / float_mb
    rows = [
        ["reading (pyarrow)" if not args.in_memory else "making the arrays", f"{floor['reading_s']:.2f}", "", "", ""],
        ["one float32 pass (values.sum())", f"{floor['seconds']:.3f}", "1.00x", f"{floor['peak_mb']:,.0f}", ""],
        [
            f"caruana_select logloss init=0 iters={args.iters}",
            f"{fit['seconds']:.3f}",
            f"{ratio:.2f}x (target {TARGET_TIME:g}x: {'met' if ratio <= TARGET_TIME else 'NOT met'})",
            f"{fit['peak_mb']:,.0f}",
            f"{memory:.2f}x (target {TARGET_MEMORY:g}x: {'met' if memory <= TARGET_MEMORY else 'NOT met'})",
        ],
    ]
    header = ["run (beyond reading)", "s", "vs one pass", "peak MB", "peak / float32 bytes"]
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)), flush=True)
    print(f"  OOF score {fit['score']:.6f}; candidate ensembles built: {fit['passes']:.2f} passes over the "
          f"{args.files:,} files (the log sums of the single files, the first round, are taken while reading "
          "them into the scorer)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""``blend auto --time-budget 5m`` on 200 binary OOF files x 100,000 rows: does it end within the budget?

The issue's yardstick: on 2 cores, ``blend auto`` on 200 files x 100,000 rows took 545 s without a
budget, silent for minutes at a time. With ``--time-budget 5m`` it must end within five minutes plus
the time it takes to read the files, and say what it left out.

The files are synthetic and seeded (:func:`bench_caruana.synthetic_oof`: models of varied skill
sharing some noise), written as Parquet (``id,target``) into a temporary folder in the layout
``blend`` reads: ``submissions/NAME.parquet`` (test rows), ``submissions/oof/NAME.parquet`` and
``data/train_labels.csv``. ``blend auto`` runs as its own process, as a user runs it; the reading
time is the one it prints (``read ... (X s)``), and "after reading" is the wall time less that.

    .venv/bin/python benchmarks/bench_budget.py [--rows 100000] [--models 200] [--test-rows 20000] [--budget 5m]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_caruana import synthetic_oof  # noqa: E402

from blender.timing import format_duration, parse_duration  # noqa: E402


def write_folder(root: Path, *, rows: int, test_rows: int, models: int, seed: int = 0) -> float:
    """Write the competition folder; returns the seconds it took."""
    started = time.perf_counter()
    (root / "submissions/oof").mkdir(parents=True)
    (root / "data").mkdir()
    y, oof = synthetic_oof(rows, models, seed=seed)
    _, test = synthetic_oof(test_rows, models, seed=seed + 1)
    train_ids, test_ids = np.arange(rows), np.arange(10**7, 10**7 + test_rows)
    for index in range(models):
        name = f"model{index:03d}.parquet"
        oof_path = root / "submissions/oof" / name
        pd.DataFrame({"id": train_ids, "target": oof[:, index]}).to_parquet(oof_path, index=False)
        pd.DataFrame({"id": test_ids, "target": test[:, index]}).to_parquet(root / "submissions" / name, index=False)
    pd.DataFrame({"id": train_ids, "target": y}).to_csv(root / "data/train_labels.csv", index=False)
    return time.perf_counter() - started


def run_auto(root: Path, budget: str, timeout: float) -> tuple[float, str, int]:
    """``blend auto --time-budget BUDGET`` in ``root`` as its own process: (wall seconds, stderr, exit code)."""
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "blender",
            "auto",
            "submissions/*.parquet",
            "--time-budget",
            budget,
            "--metric",
            "logloss",
            "--no-log",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_environment(),
    )
    return time.perf_counter() - started, done.stderr, done.returncode


def _environment() -> dict:
    import os

    environment = dict(os.environ)
    # The child imports this checkout's blender, wherever the benchmark is run from.
    checkout = str(Path(__file__).resolve().parent.parent)
    environment["PYTHONPATH"] = checkout + os.pathsep + environment.get("PYTHONPATH", "")
    return environment


def reading_seconds(stderr: str) -> float:
    """The reading time ``blend`` prints: ``read 200 files, 20,000 test rows each, ... (6.6 s)``."""
    match = re.search(r"^read \d+ files, .*\(([0-9.]+) s\)$", stderr, flags=re.MULTILINE)
    return float(match[1]) if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="OOF rows (default: 100,000)")
    parser.add_argument("--test-rows", type=int, default=20_000, help="test rows (default: 20,000)")
    parser.add_argument("--models", type=int, default=200, help="files (default: 200)")
    parser.add_argument("--budget", default="5m", help="--time-budget (default: 5m)")
    parser.add_argument(
        "--keep",
        type=Path,
        help="write the folder here and keep it, or reuse it if it is there (default: a temporary folder)",
    )
    args = parser.parse_args()
    budget = parse_duration(args.budget)

    with tempfile.TemporaryDirectory(prefix="bench_budget_") as temporary:
        root = args.keep or Path(temporary)
        if (root / "data/train_labels.csv").exists():
            print(f"reusing the files under {root}", flush=True)
        else:
            print(
                f"writing {args.models} binary OOF files x {args.rows:,} rows (and {args.test_rows:,} test rows) as "
                f"Parquet under {root} ...",
                flush=True,
            )
            seconds = write_folder(root, rows=args.rows, test_rows=args.test_rows, models=args.models)
            print(f"  written in {seconds:.1f} s", flush=True)
        wall, stderr, code = run_auto(root, args.budget, timeout=budget * 3 + 600)
    reading = reading_seconds(stderr)
    after = wall - reading
    interesting = ("time budget", "plan:", "left out:", "running late", "pick:", "estimated ", "wrote ", "Error")
    print("\n".join(line for line in stderr.splitlines() if line.startswith(interesting)))
    print()
    rows = [
        ("blend auto exit code", str(code)),
        ("wall time, process start to end", f"{wall:.1f} s"),
        ("reading (as blend printed it)", f"{reading:.1f} s"),
        ("wall time after reading", f"{after:.1f} s ({format_duration(after)})"),
        ("budget", f"{budget:.0f} s ({format_duration(budget)})"),
        ("within the budget", "yes" if after <= budget else f"no, {after - budget:.1f} s over"),
        ("left out", str(sum(line.startswith("left out:") for line in stderr.splitlines())) + " line(s)"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if code != 0:
        print(stderr[-3000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

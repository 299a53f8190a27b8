"""Scale: 500 OOF files through every learning command; an average of files larger than memory.

The second workload averages files larger than a 2 GB memory budget through
:mod:`blender.outofcore`.

Two workloads, each with a reference measured in the same run (every measurement is its own
subprocess; peak memory is that child's maximum resident set size from ``os.wait4``):

1. **500 OOF files x 200,000 rows** (binary, ``id,target`` CSV, ids in the same order in every
   file) plus the 500 matching test files and the truth, under ``benchmarks/_data/scale500/``.
   Timed, each as its own ``python -m blender`` run with ``--metric logloss``:

   - ``score --models-only``: read both sets and score every file (reading is most of it);
   - ``score``: the full leaderboard, every file and every blend method on 5-fold CV;
   - ``caruana --init 0 --iters 25``, ``hill-climb``, ``weights``, ``select``: fit on all OOF
     rows, write the test blend, and the method's 5-fold CV score against the best file;
   - ``auto``: the leaderboard, the nested estimate (the whole leaderboard again in each of 5
     outer folds) and the pick. The slowest; ``--commands`` leaves it out if asked.

   The reference is a script that reads the same 1,000 files with pandas (pyarrow engine),
   stacks them and scores each OOF column with scikit-learn's ``log_loss``. "beyond reading"
   is a run's wall time less that of ``score --models-only`` in the same run. Peak memory is
   also shown as a multiple of the float64 bytes (2 x 500 x 200,000 x 8 = 1.6 GB).
2. **10 files x 20,000,000 rows** (Parquet, ``id,target``, every file's ids shuffled on its
   own) under ``benchmarks/_data/big10/``: ``blender.outofcore.blend_out_of_core(...,
   method="average", memory_limit="2GB")`` against the same blend written as one plain DuckDB
   query (a join on id, ordered by the first file's rows) under the same memory limit. The
   in-memory path would need 10 x 20M x 8 = 1.6 GB for the floats alone, plus the ids.

The data are generated once and reused (``--regenerate`` to redo them). Timings on a shared
machine move with its load: compare rows of one run.

    .venv/bin/python benchmarks/bench_scale.py [--only oof|big] [--commands score,...] [--models 500] [--rows 200000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SCALE = DATA / "scale500"
BIG = DATA / "big10"
N_OOF_MODELS = 500
N_OOF_ROWS = 200_000
N_BIG_MODELS = 10
N_BIG_ROWS = 20_000_000
BUDGET = "2GB"


# ---------------------------------------------------------------------------- data


def generate_oof(regenerate: bool = False) -> tuple[list[Path], Path, Path]:
    """500 OOF + 500 test binary CSV files and the truth (or the ``--models`` x ``--rows`` asked); written once."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    global SCALE
    if (N_OOF_MODELS, N_OOF_ROWS) != (500, 200_000):
        SCALE = DATA / f"scale{N_OOF_MODELS}x{N_OOF_ROWS}"
    oof_dir, test_dir, truth = SCALE / "oof", SCALE / "test", SCALE / "truth.csv"
    names = [f"m{j:03d}.csv" for j in range(N_OOF_MODELS)]
    done = SCALE / ".complete"
    if done.exists() and not regenerate:
        return [test_dir / n for n in names], oof_dir, truth
    shutil.rmtree(SCALE, ignore_errors=True)
    oof_dir.mkdir(parents=True)
    test_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N_OOF_ROWS)
    ids = pa.array(np.arange(N_OOF_ROWS)).cast(pa.string())
    pacsv.write_csv(pa.table({"id": ids, "target": y}), truth)
    shared = rng.normal(size=N_OOF_ROWS) * 0.8
    shared_test = rng.normal(size=N_OOF_ROWS) * 0.8
    skill = rng.uniform(0.2, 1.5, N_OOF_MODELS)
    for j, name in enumerate(names):
        for folder, common, labels in ((oof_dir, shared, y), (test_dir, shared_test, rng.integers(0, 2, N_OOF_ROWS))):
            logits = (2 * labels - 1) * skill[j] + common + rng.normal(size=N_OOF_ROWS)
            pacsv.write_csv(pa.table({"id": ids, "target": 1.0 / (1.0 + np.exp(-logits))}), folder / name)
    done.touch()
    return [test_dir / n for n in names], oof_dir, truth


def generate_big(regenerate: bool = False) -> list[Path]:
    """10 Parquet files of 20M rows, each with its ids shuffled independently; written once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = [BIG / f"model{j}.parquet" for j in range(N_BIG_MODELS)]
    done = BIG / ".complete"
    if done.exists() and not regenerate:
        return paths
    shutil.rmtree(BIG, ignore_errors=True)
    BIG.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for path in paths:
        order = rng.permutation(N_BIG_ROWS)
        ids = pa.array(order).cast(pa.string())
        values = rng.random(N_BIG_ROWS)
        pq.write_table(pa.table({"id": ids, "target": values}), path, row_group_size=1 << 20)
        del ids, values, order
    done.touch()
    return paths


# ---------------------------------------------------------------------------- measuring


def measure(argv: list[str], *, cwd: Path | None = None, timeout: float | None = None) -> tuple[float, float, int]:
    """Run ``argv`` as a child process: (wall seconds, peak resident MB of that child, exit status)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = None if timeout is None else started + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            return float("inf"), usage.ru_maxrss / 1024, -9
        time.sleep(0.05)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        message = child.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
        print(f"  ! {' '.join(argv[:4])} ... exited {code}: {' | '.join(message)}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, code


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *map(str, args)]


PANDAS_SCORE = r"""
import sys, numpy as np, pandas as pd
from sklearn.metrics import log_loss
truth, oof_dir, *tests = sys.argv[1:]
from pathlib import Path
def read(path):
    return pd.read_csv(path, engine="pyarrow", dtype={"id": str})
y_frame = read(truth).set_index("id")
test = [read(p) for p in tests]
oof = [read(Path(oof_dir) / Path(p).name) for p in tests]
ids = oof[0]["id"]
for frame in oof + test:
    assert frame["id"].is_unique
for frame in oof[1:]:
    assert frame["id"].equals(ids)  # same order here; a reindex otherwise
y = y_frame["target"].reindex(ids).to_numpy()
train = np.column_stack([f["target"].to_numpy() for f in oof])
test_values = np.column_stack([f["target"].to_numpy() for f in test])
scores = [log_loss(y, train[:, j]) for j in range(train.shape[1])]
print(min(scores))
"""

OUT_OF_CORE = r"""
import sys
from pathlib import Path
from blender.outofcore import blend_out_of_core
out, budget, *paths = sys.argv[1:]
blend_out_of_core([Path(p) for p in paths], Path(out), method="average", memory_limit=budget)
"""

DUCKDB_PLAIN = r"""
import sys, duckdb
out, budget, *paths = sys.argv[1:]
con = duckdb.connect()
con.execute(f"SET memory_limit = '{budget}'")
sources = [f"(SELECT file_row_number AS rn, id, target FROM read_parquet('{p}', file_row_number = true)) f{i}"
           for i, p in enumerate(paths)]
joins = sources[0] + "".join(f" JOIN {s} USING (id)" for s in sources[1:])
mean = " + ".join(f"f{i}.target" for i in range(len(paths)))
con.execute(f"COPY (SELECT f0.id, ({mean}) / {len(paths)} AS target FROM {joins} ORDER BY f0.rn) "
            f"TO '{out}' (FORMAT csv, HEADER true)")
"""


# Every learning command the OOF workload can time, in the order they run.
LEARNING = ("score", "caruana", "hill-climb", "weights", "select", "auto")


def bench_oof(args) -> list[list[str]]:
    tests, oof_dir, truth = generate_oof(args.regenerate)
    float_mb = 2 * N_OOF_MODELS * N_OOF_ROWS * 8 / 1e6
    blend = [sys.executable, "-m", "blender"]
    common = [*map(str, tests), "--oof-dir", str(oof_dir), "--truth", str(truth), "--metric", "logloss"]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        learning = {
            "score": ("blend score (every method, 5-fold CV)", [*blend, "score", *common]),
            "caruana": (
                "blend caruana --init 0 --iters 25",
                [*blend, "caruana", *common, "--init", "0", "--iters", "25", "-o", f"{scratch}/caruana.csv"],
            ),
            "hill-climb": ("blend hill-climb", [*blend, "hill-climb", *common, "-o", f"{scratch}/hill.csv"]),
            "weights": ("blend weights (SLSQP)", [*blend, "weights", *common, "-o", f"{scratch}/weights.csv"]),
            "select": ("blend select", [*blend, "select", *common, "-o", f"{scratch}/select.csv"]),
            "auto": (
                "blend auto (leaderboard + nested 5-fold estimate)",
                [*blend, "auto", *common, "-o", f"{scratch}/auto.csv"],
            ),
        }
        runs = [
            ("pandas+sklearn reference", python(PANDAS_SCORE, truth, oof_dir, *tests)),
            ("blend score --models-only", [*blend, "score", *common, "--models-only"]),
        ]
        runs += [learning[name] for name in args.commands]
        reference = reading = None
        for name, argv in runs:
            wall, peak, code = measure(argv, cwd=HERE.parent, timeout=args.timeout)
            reference = reference or wall
            if reading is None and name.endswith("--models-only"):
                reading = wall
            beyond = "" if reading is None or name.endswith("--models-only") else f"{wall - reading:.1f}"
            rows.append(
                [
                    name,
                    f"{wall:.1f}",
                    f"{wall / reference:.2f}x",
                    beyond,
                    f"{peak:,.0f}",
                    f"{peak / float_mb:.2f}x",
                    "ok" if code == 0 else f"exit {code}",
                ]
            )
            print("  " + "  ".join(rows[-1]), flush=True)
    return rows


def bench_big(args) -> list[list[str]]:
    paths = generate_big(args.regenerate)
    float_mb = N_BIG_MODELS * N_BIG_ROWS * 8 / 1e6
    rows = []
    with tempfile.TemporaryDirectory(dir=DATA) as scratch:
        runs = [
            ("DuckDB plain join query (reference)", python(DUCKDB_PLAIN, f"{scratch}/plain.csv", BUDGET, *paths)),
            ("blender.outofcore average", python(OUT_OF_CORE, f"{scratch}/ooc.csv", BUDGET, *paths)),
        ]
        reference = None
        for name, argv in runs:
            wall, peak, code = measure(argv, cwd=HERE.parent, timeout=args.timeout)
            reference = reference or wall
            rows.append(
                [
                    name,
                    f"{wall:.1f}",
                    f"{wall / reference:.2f}x",
                    "",
                    f"{peak:,.0f}",
                    f"{peak / float_mb:.2f}x",
                    "ok" if code == 0 else f"exit {code}",
                ]
            )
            print("  " + "  ".join(rows[-1]), flush=True)
        if all(row[-1] == "ok" for row in rows):
            rows.append(
                [
                    "outputs identical",
                    "",
                    "",
                    "",
                    "",
                    "",
                    _same_csv(Path(scratch) / "plain.csv", Path(scratch) / "ooc.csv"),
                ]
            )
    return rows


def _same_csv(a: Path, b: Path) -> str:
    """Whether two id,target CSVs hold the same ids in the same order and values within 1e-12."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.ConvertOptions(column_types={"id": pa.string()})
    left, right = pacsv.read_csv(a, convert_options=options), pacsv.read_csv(b, convert_options=options)
    if not left.column("id").equals(right.column("id")):
        return "NO: ids differ"
    gap = np.abs(left.column("target").to_numpy() - right.column("target").to_numpy()).max()
    return "yes" if gap <= 1e-12 else f"NO: max gap {gap:g}"


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).rjust(width) for cell, width in zip(row, widths)) for row in [header] + rows)


def _commands(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LEARNING]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown command(s) {', '.join(unknown)}; choose from {', '.join(LEARNING)}")
    return names


def main() -> None:
    global N_OOF_MODELS, N_OOF_ROWS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["oof", "big"])
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--commands",
        type=_commands,
        default=list(LEARNING),
        help=f"learning commands to time on the OOF files, comma-separated (default: {','.join(LEARNING)})",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per measurement")
    parser.add_argument("--models", type=int, default=N_OOF_MODELS, help="OOF files of the first workload")
    parser.add_argument("--rows", type=int, default=N_OOF_ROWS, help="rows of each OOF file of the first workload")
    args = parser.parse_args()
    N_OOF_MODELS, N_OOF_ROWS = args.models, args.rows
    header = ["run", "wall s", "vs reference", "beyond reading s", "peak MB", "peak / float bytes", "status"]
    if args.only in (None, "oof"):
        print(
            f"{N_OOF_MODELS} OOF + {N_OOF_MODELS} test files x {N_OOF_ROWS:,} rows (binary CSV), logloss; "
            f"float bytes {2 * N_OOF_MODELS * N_OOF_ROWS * 8 / 1e6:,.0f} MB",
            flush=True,
        )
        print(format_table(header, bench_oof(args)) + "\n", flush=True)
    if args.only in (None, "big"):
        print(
            f"{N_BIG_MODELS} files x {N_BIG_ROWS:,} rows (Parquet, ids shuffled per file), average under a "
            f"{BUDGET} budget; float bytes {N_BIG_MODELS * N_BIG_ROWS * 8 / 1e6:,.0f} MB",
            flush=True,
        )
        print(format_table(header, bench_big(args)), flush=True)


if __name__ == "__main__":
    main()

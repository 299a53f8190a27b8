"""Scale: hundreds of OOF files through `blend score` / `blend caruana`, and an average of files
larger than a 2 GB memory budget through :mod:`blender.outofcore`.

Two workloads, each with a reference measured in the same run (every measurement is its own
subprocess; peak memory is that child's maximum resident set size from ``os.wait4``):

1. **500 OOF files x 200,000 rows** (binary, ``id,target`` CSV, ids in the same order in every
   file) plus the 500 matching test files and the truth, under ``benchmarks/_data/scale500/``.
   Timed: ``blend score --models-only`` (read both sets, score every file), ``blend caruana``
   (``--init 0 --iters 25 --metric logloss``), against a reference script that reads the same
   1,000 files with pandas (pyarrow engine), stacks them and scores each OOF column with
   scikit-learn's ``log_loss``. Peak memory is also shown as a multiple of the float64 bytes
   (2 x 500 x 200,000 x 8 = 1.6 GB).
2. **10 files x 20,000,000 rows** (Parquet, ``id,target``, every file's ids shuffled on its
   own) under ``benchmarks/_data/big10/``: ``blender.outofcore.blend_out_of_core(...,
   method="average", memory_limit="2GB")`` against the same blend written as one plain DuckDB
   query (a join on id, ordered by the first file's rows) under the same memory limit. The
   in-memory path would need 10 x 20M x 8 = 1.6 GB for the floats alone, plus the ids.

The data are generated once and reused (``--regenerate`` to redo them).

    .venv/bin/python benchmarks/bench_scale.py [--only oof|big] [--skip-score]
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
    """500 OOF + 500 test binary CSV files and the truth; written once."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

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

"""Speed and memory of `blend vote / average / rank-average / corr` against plain pandas + numpy scripts.

Datasets (generated once under benchmarks/_data/, git-ignored):

- ``shuffled`` (the default, issue 9): 10 binary files of 1,000,000 rows whose ids (text) are
  shuffled independently in every file, so every file but the first is aligned by id.
- ``text``: the same shape, shuffled the same way, with ids that are not numbers (12 hex digits,
  e.g. ``00009e3779b9``), aligned as text rather than as integers.
- ``binary``: the same shape with the ids in the same order in every file.
- ``multiclass``: 10 files of 200,000 rows x 9 classes, ids in the same order.

Each command runs as a subprocess of the installed ``blend`` script. For the binary sets its
reference is a plain script doing **the same work** in the same run: ``pandas.read_csv(...,
engine="pyarrow")`` of every file, the contract's checks (empty and repeated ids, the same ids
as the first file, NaN and [0, 1] cells), alignment by a pandas ``reindex`` on the first file's
ids, then the command's numpy work (a 0.5-threshold vote with ties to the first file, a mean,
pandas' average ranks rescaled to [0, 1], ``np.corrcoef``) and ``pyarrow.csv.write_csv`` of
the result (the matrix as text for corr). For multiclass the reference is pyarrow's reader, one
numpy mean and pyarrow's writer.

Wall time is measured around the subprocess; peak memory is the child's maximum resident set
size (``/usr/bin/time -v`` when present, otherwise a ``python -c`` wrapper that runs the
command in-process and reports its own ``ru_maxrss``). Each run's baseline is the peak of the
same command on 5-row files: the interpreter plus exactly the imports that command does. The
increment over it is reported as a multiple of the bytes of the float arrays
(10 x 1M x 8 = 80 MB binary; 10 x 200k x 9 x 8 = 144 MB multiclass). Commands and references
run round-robin, ``--repeat`` rounds, fastest kept, so load from other processes on the
machine falls on all of them alike.

Targets (issue 9): every command within 1.2x its reference's wall time on the shuffled set;
peak increment at most 2x the float bytes. ``blend --help`` well under a second.

    .venv/bin/python benchmarks/bench_io.py [--repeat N] [--only shuffled|text|binary|multiclass|all]

After the io rewrite is merged, rerun it as it is: it calls only the ``blend`` command line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
BIN = Path(sys.executable).parent
BLEND = BIN / "blend"
N_MODELS = 10
N_BINARY = 1_000_000
N_MULTI = 200_000
N_CLASSES = 9
TIME_TARGET = 1.2
MEMORY_TARGET = 2.0
HELP_TARGET = 1.0
GNU_TIME = "/usr/bin/time"

REFERENCE = r"""
import sys, numpy as np, pyarrow as pa, pyarrow.csv as pacsv
out, kind, *paths = sys.argv[1:]
tables = [pacsv.read_csv(p) for p in paths]
names = tables[0].column_names
values = np.stack([np.column_stack([t.column(c).to_numpy() for c in names[1:]]) for t in tables])
mean = values.mean(axis=0)
result = pa.table([tables[0].column(0), *(mean[:, k] for k in range(mean.shape[1]))], names=names)
pacsv.write_csv(result, out)
"""

# The plain pandas + numpy script a competitor would write for binary files with ids in any order.
PANDAS_REFERENCE = r"""
import sys, numpy as np, pandas as pd, pyarrow as pa, pyarrow.csv as pacsv
command, out, *paths = sys.argv[1:]
for j, path in enumerate(paths):
    frame = pd.read_csv(path, engine="pyarrow", dtype={"id": str})
    ids, column = frame["id"], frame["target"]
    if ids.isna().any():
        sys.exit(f"{path}: empty id")
    if not ids.is_unique:
        sys.exit(f"{path}: repeated id")
    if column.isna().any():
        sys.exit(f"{path}: NaN cell")
    if j == 0:
        first = pd.Index(ids)
        values = np.empty((len(first), len(paths)))
        values[:, 0] = column.to_numpy(dtype=float)
    else:
        if len(ids) != len(first):
            sys.exit(f"{path}: not the same number of ids")
        aligned = pd.Series(column.to_numpy(dtype=float), index=ids).reindex(first).to_numpy()
        if np.isnan(aligned).any():
            sys.exit(f"{path}: ids missing")  # unique and as many: then extra ids too
        values[:, j] = aligned
    if (values[:, j] < 0).any() or (values[:, j] > 1).any():
        sys.exit(f"{path}: outside [0, 1]")
if command == "average":
    result = values.mean(axis=1)
elif command == "vote":
    votes = (values > 0.5).sum(axis=1)
    result = np.where(2 * votes == values.shape[1], values[:, 0] > 0.5, 2 * votes > values.shape[1]).astype(np.int8)
elif command == "rank-average":
    ranks = pd.DataFrame(values).rank(axis=0).to_numpy().mean(axis=1)
    result = (ranks - ranks.min()) / (ranks.max() - ranks.min())
else:
    matrix = np.corrcoef(values.T)
    with open(out, "w") as handle:
        handle.write("\n".join(",".join(repr(float(v)) for v in row) for row in matrix) + "\n")
    sys.exit(0)
pacsv.write_csv(pa.table({"id": pa.array(first.to_numpy(dtype=object), pa.string()), "target": result}), out)
"""

# Runs one command in-process and reports its own peak (used when /usr/bin/time is missing).
WRAPPER = r"""
import json, resource, sys, time
argv = json.loads(sys.argv[1])
if argv[0] == "blend":
    from blender.cli import main
    sys.argv = argv
    try:
        main()
    except SystemExit as exit:
        code = exit.code or 0
    else:
        code = 0
else:  # ["-c", CODE, ARGS...]: the reference script
    sys.argv = ["reference", *argv[2:]]
    code = 0
    exec(compile(argv[1], "<reference>", "exec"))
usage = resource.getrusage(resource.RUSAGE_SELF)
print("BENCH " + json.dumps({"maxrss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime, "code": code}),
      file=sys.stderr)
"""

BASELINE = r"""
import resource
import numpy, pyarrow, pyarrow.csv, pyarrow.compute, scipy.stats, typer
import blender.cli, blender.io, blender.averaging, blender.rank, blender.voting, blender.correlation
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


# ---------------------------------------------------------------------------- data


def generate(kind: str, *, tiny: bool = False) -> list[Path]:
    """Write the benchmark files once; reuse them when present and complete.

    ``tiny`` gives the same files with 5 rows: running a command on them measures its
    baseline (interpreter, the imports it does, typer) without the data.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder = DATA / (f"{kind}_tiny" if tiny else kind)
    paths = [folder / f"model_{m}.csv" for m in range(N_MODELS)]
    done = folder / ".complete"
    if done.exists() and all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n_rows = 5 if tiny else N_MULTI if kind == "multiclass" else N_BINARY
    ids = pa.array(np.arange(100_000, 100_000 + n_rows))
    if kind == "text":  # distinct (an odd multiplier is a bijection mod 2**48), not numbers
        ids = pa.array([f"{v:012x}" for v in (np.arange(1, n_rows + 1, dtype=np.uint64) * 0x9E3779B9) % 2**48])
    truth = rng.dirichlet(np.ones(N_CLASSES), n_rows) if kind == "multiclass" else rng.random(n_rows)
    for path in paths:
        print(f"  writing {path.relative_to(HERE.parent)}", file=sys.stderr, flush=True)
        if kind in ("binary", "shuffled", "text"):
            noisy = np.clip(truth + rng.normal(0, 0.15, n_rows), 0.0, 1.0)
            table = pa.table([ids, noisy], names=["id", "target"])
            if kind in ("shuffled", "text"):  # every file lists the ids in its own order
                table = table.take(pa.array(rng.permutation(n_rows)))
        else:
            noisy = truth * rng.gamma(4.0, 0.25, truth.shape)
            noisy /= noisy.sum(axis=1, keepdims=True)
            names = [f"Class_{k + 1}" for k in range(N_CLASSES)]
            table = pa.table([ids, *(noisy[:, k] for k in range(N_CLASSES))], names=["id", *names])
        pacsv.write_csv(table, path)
    done.touch()
    return paths


# ---------------------------------------------------------------------------- measuring


def child_env() -> dict[str, str]:
    """The environment of every timed command: ``blender`` imported from this checkout.

    The ``blend`` script imports whichever ``blender`` comes first on the path, which for an
    editable install is the checkout it was installed from, not necessarily this one (a git
    worktree); putting this checkout first measures the code beside this file.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE.parent), env.get("PYTHONPATH", "")] if p)
    return env


def run(argv: list[str], *, wrapper_argv: list[str]) -> tuple[float, float, float]:
    """Run once; return (wall s, CPU s, peak resident set MB). Fails loudly on a non-zero exit."""
    gnu_time = Path(GNU_TIME).exists()
    command = [GNU_TIME, "-v", *argv] if gnu_time else [sys.executable, "-c", WRAPPER, json.dumps(wrapper_argv)]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"failed ({finished.returncode}): {' '.join(argv)}\n{finished.stderr[-2000:]}")
    if gnu_time:

        def field(name):
            return float(re.search(rf"{re.escape(name)}: ([0-9.]+)", finished.stderr).group(1))

        peak_kb = field("Maximum resident set size (kbytes)")
        cpu = field("User time (seconds)") + field("System time (seconds)")
    else:
        line = next(l for l in finished.stderr.splitlines() if l.startswith("BENCH "))
        report = json.loads(line[6:])
        peak_kb, cpu = report["maxrss_kb"], report["cpu"]
    return wall, cpu, peak_kb / 1024


def import_baseline_mb() -> float:
    output = subprocess.run(
        [sys.executable, "-c", BASELINE], capture_output=True, text=True, check=True, env=child_env()
    ).stdout
    return int(output.split()[-1]) / 1024


def help_time(repeat: int) -> float:
    times = []
    for _ in range(max(repeat, 3)):
        started = time.perf_counter()
        subprocess.run([str(BLEND), "--help"], capture_output=True, check=True, env=child_env())
        times.append(time.perf_counter() - started)
    return min(times)


# ---------------------------------------------------------------------------- table


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def bench(kind: str, repeat: int, scratch: Path) -> tuple[list[list[str]], bool]:
    """Time the reference and the four commands round-robin, so load from other processes hits all alike."""
    paths = [str(p) for p in generate(kind)]
    tiny = [str(p) for p in generate(kind, tiny=True)]
    float_mb = N_MODELS * (N_MULTI * N_CLASSES if kind == "multiclass" else N_BINARY) * 8 / 2**20

    def argvs(name, files):
        out = str(scratch / f"{name}_{kind}.csv")
        if name.startswith("reference"):
            if kind == "multiclass":
                code, args = REFERENCE, [out, kind, *files]
            else:
                code, args = PANDAS_REFERENCE, [name.split(" ")[1], out, *files]
            return [sys.executable, "-c", code, *args], ["-c", code, *args]
        args = [name, *files, "-o", out]
        return [str(BLEND), *args], ["blend", *args]

    commands = ["vote", "average", "rank-average", "corr"]
    if kind == "multiclass":
        names = ["reference", *commands]
        reference_of = {name: "reference" for name in names}
    else:
        names = [f"{prefix}{command}" for command in commands for prefix in ("reference ", "")]
        reference_of = {name: f"reference {name.split(' ')[-1]}" for name in names}
    base = {}
    for name in names:
        argv, wrapper_argv = argvs(name, tiny)
        base[name] = run(argv, wrapper_argv=wrapper_argv)[2]
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names:
            argv, wrapper_argv = argvs(name, paths)
            runs[name].append(run(argv, wrapper_argv=wrapper_argv))
            print(f"  {kind}: {name} (round {round_ + 1}): {runs[name][-1][0]:.2f} s", file=sys.stderr, flush=True)

    rows, ok = [], True
    for name in names:
        ref_wall = min(r[0] for r in runs[reference_of[name]])
        ref_cpu = min(r[1] for r in runs[reference_of[name]])
        wall, cpu, peak = min(r[0] for r in runs[name]), min(r[1] for r in runs[name]), max(r[2] for r in runs[name])
        ratio, increment = wall / ref_wall, peak - base[name]
        memory = increment / float_mb
        passed = ratio <= TIME_TARGET and memory <= MEMORY_TARGET
        if not name.startswith("reference"):
            ok &= passed
        rows.append(
            [
                f"{kind}: {name}",
                f"{wall:.2f}",
                f"{ratio:.2f}",
                f"{cpu:.2f}",
                f"{cpu / ref_cpu:.2f}",
                f"{peak:.0f}",
                f"{base[name]:.0f}",
                f"{increment:.0f}",
                f"{memory:.2f}",
                "" if name.startswith("reference") else "ok" if passed else "MISS",
            ]
        )
    return rows, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per command; the fastest counts")
    parser.add_argument(
        "--only",
        choices=["shuffled", "text", "binary", "multiclass", "all"],
        default="shuffled",
        help="which dataset (default: shuffled, the issue 9 targets)",
    )
    options = parser.parse_args()

    baseline_mb = import_baseline_mb()
    help_seconds = help_time(options.repeat)
    scratch = Path(tempfile.mkdtemp(prefix="bench_io_"))
    try:
        rows, ok = [], True
        for kind in ["shuffled", "text", "binary", "multiclass"] if options.only == "all" else [options.only]:
            kind_rows, kind_ok = bench(kind, options.repeat, scratch)
            rows += kind_rows
            ok &= kind_ok
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"\nbench_io: {N_MODELS} files x {N_BINARY:,} rows (shuffled: ids in another order in every file; text: "
        f"the same with hex-digit ids; binary: the same order), "
        f"{N_MODELS} files x {N_MULTI:,} rows x {N_CLASSES} classes (multiclass); "
        f"{os.cpu_count()} cores; best of {options.repeat}"
    )
    print(
        "x ref: against the reference on the line above it (binary sets: a pandas + numpy script doing the same "
        "work and id checks; multiclass: pyarrow read, numpy mean, pyarrow write)"
    )
    print(f"import baseline (numpy, pyarrow, scipy, typer, blender in one interpreter): {baseline_mb:.0f} MB resident;")
    print("base MB: peak of the same run on 5-row files (interpreter + the imports that run does);")
    print("+MB: peak minus base; +MB / float MB: that increment over the bytes of the float arrays;")
    print("wall and CPU (user + sys) are the fastest of the rounds, run round-robin; the target is on wall time\n")
    header = ["run", "wall s", "x ref", "CPU s", "CPU x ref", "peak MB", "base MB", "+MB", "+MB / float MB", "target"]
    print(format_table(header, rows))
    help_ok = help_seconds < HELP_TARGET
    print(f"\nblend --help: {help_seconds:.2f} s ({'ok' if help_ok else 'MISS'}, target < {HELP_TARGET:.0f} s)")
    print(
        f"targets: time <= {TIME_TARGET}x reference; peak increment <= {MEMORY_TARGET}x float bytes "
        f"(binary {N_MODELS * N_BINARY * 8 / 1e6:.0f} MB, multiclass {N_MODELS * N_MULTI * N_CLASSES * 8 / 1e6:.0f} MB)"
    )
    print("all targets met" if ok and help_ok else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()

"""Does ``blend doctor`` stay quiet on clean files, find planted faults, and cost less than reading the files?

(a) Clean files: every case of ``benchmarks/real_datasets.py`` (seed 0, the real-data benchmark's cache
    under ``benchmarks/_data/``), with its fold-mean test files and again with each model refitted on all
    training rows (``refit/NAME.csv``, written here once; what a zoo ``--refit`` does). Every finding other
    than ``calibration:`` and ``near-duplicate:`` is a false alarm.
(b) Planted faults, one at a time, in every case: xgb's test file squared (rescaled x1.25 for regression),
    xgb's test file swapped with the least-alike model's, xgb duplicated as ``xgb_copy``, and rf's OOF file
    replaced by an rf fitted on all training rows predicting them (a leak). Found: a finding names the planted
    file; false findings: findings that name any other file.
(c) Time: doctor after reading against the reading itself (``blender.io.read_learning``), on synthetic
    binary Parquet files, N_FILES files x N_ROWS rows on each side (``--files``, ``--rows``).

Tables are printed as markdown. Run:

    .venv/bin/python benchmarks/bench_doctor.py
    .venv/bin/python benchmarks/bench_doctor.py --skip-timing
    .venv/bin/python benchmarks/bench_doctor.py --files 300 --rows 100000 --only-timing
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import real_datasets  # noqa: E402

ROOT = Path(__file__).resolve().parent / "_data"


def prepare(name: str, seed: int = 0, *, root: Path = ROOT, progress=None) -> Path:
    """The cached folder of ``name``, with ``refit/NAME.csv``: each zoo model refitted on all training rows."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    meta = real_datasets.cached(name, seed, root, progress=progress)
    folder = Path(root) / name / f"seed{seed}"
    refit_folder = folder / "refit"
    if (refit_folder / "done").exists():
        return folder
    data = real_datasets.load(name)
    train_rows, test_rows = real_datasets.split(data, seed)
    n_classes = 0 if data.kind == "regression" else (len(data.classes) if data.classes else 2)
    zoo = real_datasets.make_models(data.kind, seed)
    for model_name in meta["models"]:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            fitted = clone(zoo[model_name]).fit(data.X[train_rows], data.y[train_rows])
            test = real_datasets._predict(fitted, data.X[test_rows], data.kind, n_classes)
        real_datasets._write(real_datasets._frame(test_rows, test, data), refit_folder / f"{model_name}.csv")
        if progress is not None:
            progress(f"  {name}: refit {model_name}")
    (refit_folder / "done").write_text("ok\n")
    return folder


def load_case(name: str, seed: int = 0, *, root: Path = ROOT) -> dict:
    """The case's clean learning set read with ``blender.io``, its folds, its refit test files, the dataset."""
    from blender import io, metrics

    folder = prepare(name, seed, root=root)
    work = folder / "work"
    meta = __import__("json").loads((folder / "meta.json").read_text())
    paths = [work / "submissions" / f"{model}.csv" for model in meta["models"]]
    learning = io.read_learning(
        paths,
        train_dir=work / "submissions" / "oof",
        truth=work / "data" / "train_labels.csv",
        task=meta["kind"],
        command_name="doctor",
    )
    folds = io.read_folds(folder / "folds.csv", learning.train.ids)
    refit = io.read_predictions([folder / "refit" / path.name for path in paths], like=learning.test)
    order = np.array([int(i) for i in learning.test.ids.to_pylist()])
    refit_order = {int(i): k for k, i in enumerate(refit.ids.to_pylist())}
    refit_values = refit.values[:, [refit_order[i] for i in order]]
    return {
        "name": name,
        "folder": folder,
        "learning": learning,
        "folds": folds,
        "refit": refit_values,
        "kind": meta["kind"],
        "metric": metrics.default_metric(meta["kind"]),
        "models": meta["models"],
    }


def _least_alike(values: NDArray, model: int) -> int:
    from blender.correlation import correlation_matrix

    corr = correlation_matrix(values)
    corr[model, model] = np.inf
    return int(np.nanargmin(corr[model]))


def leaky_oof(case: dict, model_name: str = "rf") -> NDArray:
    """``model_name`` fitted on all training rows and predicting them: a leaky OOF file, shape (n_rows, n_cols)."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    data = real_datasets.load(case["name"])
    rows = np.array([int(i) for i in case["learning"].train.ids.to_pylist()])
    n_classes = 0 if data.kind == "regression" else (len(data.classes) if data.classes else 2)
    model = real_datasets.make_models(data.kind, 0)[model_name]
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        fitted = clone(model).fit(data.X[rows], data.y[rows])
        predicted = real_datasets._predict(fitted, data.X[rows], data.kind, n_classes)
    if data.kind == "binary":
        return predicted[:, 1:2]
    return predicted if data.kind == "multiclass" else predicted[:, None]


def planted(case: dict) -> dict[str, tuple[NDArray, NDArray, list[str], tuple[str, ...]]]:
    """The four planted faults: name -> (oof values, test values, names, the files to be named)."""
    learning = case["learning"]
    oof, test, names = learning.train.values, learning.test.values, list(learning.test.names)
    kind = case["kind"]
    target = names.index("xgb")
    faults = {}
    drifted = test.copy()
    if kind == "regression":
        drifted[target] = drifted[target] * 1.25  # rescaled
        how = "rescaled x1.25"
    else:
        drifted[target] = drifted[target] ** 2  # squared (class probabilities renormalised)
        if kind == "multiclass":
            drifted[target] /= drifted[target].sum(axis=1, keepdims=True)
        how = "squared"
    faults[f"drift: xgb test {how}"] = (oof, drifted, names, ("xgb",))
    other = _least_alike(oof, target)
    swapped = test.copy()
    swapped[target] = test[other]
    faults[f"swap: xgb test = {names[other]}'s"] = (oof, swapped, names, ("xgb",))
    faults["duplicate: xgb as xgb_copy"] = (
        np.concatenate([oof, oof[target : target + 1]]),
        np.concatenate([test, test[target : target + 1]]),
        [*names, "xgb_copy"],
        ("xgb", "xgb_copy"),
    )
    leaky = oof.copy()
    leaky[names.index("rf")] = leaky_oof(case, "rf")
    faults["leak: rf OOF fitted on its own rows"] = (leaky, test, names, ("rf",))
    return faults


def run_doctor(case: dict, oof: NDArray, test: NDArray, names: list[str]):
    from blender import doctor

    return doctor.diagnose(
        oof, test, case["learning"].y, names=names, kind=case["kind"], metric=case["metric"], folds=case["folds"]
    )


def faults_of(diagnosis) -> list:
    """The findings that are not advice (``--strict`` would exit 4 on them)."""
    return [finding for finding in diagnosis.findings if not finding.advice]


def _show(findings) -> str:
    return "; ".join(f"{finding.check} {'+'.join(finding.files)}" for finding in findings) or "-"


def clean_table(cases: list[dict]) -> tuple[list[str], list[list]]:
    """(a) Each case's clean files and their refits: the findings (advice counted apart)."""
    rows = []
    for case in cases:
        learning = case["learning"]
        for label, test in (("fold-mean test files", learning.test.values), ("refit test files", case["refit"])):
            diagnosis = run_doctor(case, learning.train.values, test, list(learning.test.names))
            advice = [finding.check for finding in diagnosis.findings if finding.advice]
            rows.append(
                [
                    case["name"],
                    case["kind"],
                    label,
                    learning.train.n_rows,
                    learning.test.n_rows,
                    _show(faults_of(diagnosis)),
                    advice.count("calibration"),
                    advice.count("near-duplicate"),
                ]
            )
    return ["case", "kind", "files", "OOF rows", "test rows", "findings", "calibration:", "near-duplicate:"], rows


def planted_table(cases: list[dict]) -> tuple[list[str], list[list], dict]:
    """(b) Each planted fault in each case: whether doctor named the planted file(s), and findings naming others."""
    rows, totals = [], {}
    for case in cases:
        for fault, (oof, test, names, expected) in planted(case).items():
            diagnosis = run_doctor(case, oof, test, names)
            findings = faults_of(diagnosis)
            found = [finding for finding in findings if set(finding.files) & set(expected)]
            false = [finding for finding in findings if not set(finding.files) & set(expected)]
            kind = fault.split(":")[0]
            totals.setdefault(kind, [0, 0, 0])
            totals[kind][0] += bool(found)
            totals[kind][1] += 1
            totals[kind][2] += len(false)
            rows.append([case["name"], fault, "yes" if found else "NO", _show(found), _show(false)])
    return ["case", "planted", "found", "found by", "false findings"], rows, totals


def markdown(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def timing(n_files: int, n_rows: int, *, seed: int = 0) -> tuple[list[str], list[list]]:
    """(c) Seconds to read ``n_files`` test and OOF Parquet files of ``n_rows`` rows, and seconds of doctor after."""
    import tempfile
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq

    from blender import doctor, io

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "oof").mkdir()
        started = time.perf_counter()
        signal = {"oof": rng.normal(0, 1.5, n_rows), "test": rng.normal(0, 1.5, n_rows)}
        ids = {"oof": pa.array([f"o{k}" for k in range(n_rows)]), "test": pa.array([f"t{k}" for k in range(n_rows)])}
        y = (rng.random(n_rows) < 1 / (1 + np.exp(-signal["oof"]))).astype(int)
        pq.write_table(pa.table({"id": ids["oof"], "target": y}), root / "truth.parquet")
        paths = []
        for model in range(n_files):
            noise = 0.3 + 1.2 * model / max(n_files - 1, 1)
            for side, folder_of in (("test", root), ("oof", root / "oof")):
                values = 1 / (1 + np.exp(-(signal[side] + rng.normal(0, noise, n_rows)) / np.sqrt(1 + noise**2)))
                pq.write_table(pa.table({"id": ids[side], "target": values}), folder_of / f"m{model}.parquet")
            paths.append(root / f"m{model}.parquet")
        written = time.perf_counter() - started
        started = time.perf_counter()
        learning = io.read_learning(
            paths, train_dir=root / "oof", truth=root / "truth.parquet", task="binary", command_name="doctor"
        )
        reading = time.perf_counter() - started
        started = time.perf_counter()
        diagnosis = doctor.diagnose(
            learning.train.values,
            learning.test.values,
            learning.y,
            names=learning.test.names,
            kind="binary",
            metric="logloss",
            folds=np.arange(n_rows) % 5,
        )
        checking = time.perf_counter() - started
    faults = faults_of(diagnosis)
    return (
        ["files", "rows", "written (s)", "read (s)", "doctor after reading (s)", "doctor / read", "findings to fix"],
        [
            [
                n_files,
                n_rows,
                round(written, 1),
                round(reading, 1),
                round(checking, 1),
                round(checking / reading, 2),
                len(faults),
            ]
        ],
    )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(real_datasets.DATASETS), help="comma-separated case names")
    parser.add_argument("--files", type=int, default=300, help="files for the timing")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per file for the timing")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--only-timing", action="store_true")
    args = parser.parse_args(argv)
    if not args.only_timing:
        cases = [load_case(name) for name in args.datasets.split(",")]
        header, rows = clean_table(cases)
        print("## (a) clean files: findings beyond calibration: and near-duplicate:\n")
        print(markdown(header, rows))
        header, rows, totals = planted_table(cases)
        print("\n## (b) planted faults\n")
        print(markdown(header, rows))
        print(
            "\n"
            + markdown(
                ["planted", "found", "cases", "false findings"],
                [[kind, found, n, false] for kind, (found, n, false) in totals.items()],
            )
        )
    if not args.skip_timing:
        print(f"\n## (c) time, {args.files} files x {args.rows:,} rows (binary, Parquet)\n")
        print(markdown(*timing(args.files, args.rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

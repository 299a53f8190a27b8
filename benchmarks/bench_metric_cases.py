"""Does ``blend auto``'s pick beat the best file by OOF under a competition's decision metric? Real data, test rows.

Issue 25, item 7: one real case each for ``qwk`` (an ordered target), ``f1`` on an imbalanced
binary target, ``map@3`` (many classes), ``rmsle`` and ``mape``, none of them a dataset of
``benchmarks/bench_real_data.py``. The datasets ship inside installed packages (statsmodels'
test data, plotly's bundled Gapminder) and are loaded, split and turned into contract folders by
``benchmarks/real_datasets.py`` (``METRIC_DATASETS``: eleven base models, 5-fold OOF predictions,
a 25% test split kept outside ``work/``), cached under ``benchmarks/_data/metric_cases/``:

=====================  =====================  ==========  ======  =====================================
case                   package                kind        metric  target
=====================  =====================  ==========  ======  =====================================
racd10_chronic         statsmodels (tests)    regression  qwk     chronic conditions 0..5+ (3,629 rows)
racd10_novisit         statsmodels (tests)    binary      f1      no doctor visit, 10.8% (3,629 rows)
gapminder_continent    plotly                 multiclass  map@3   continent, 5 classes (1,704 rows)
gapminder_gdp          plotly                 regression  rmsle   GDP per head, skewed (1,704 rows)
dietox                 statsmodels (tests)    regression  mape    pig weight 15..117 kg (861 rows)
=====================  =====================  ==========  ======  =====================================

How, per case and split seed (0, 1, 2 by default)::

    blend auto work/submissions/*.csv --oof-dir work/submissions/oof --truth work/data/train_labels.csv \\
        --folds folds.csv --task KIND --metric METRIC --seed S --report auto/report.json -o auto/pick.csv \\
        --oof-out auto/oof.csv

runs in-process (the folds file is the one the base models' OOF predictions were made on). The
written ``auto/pick.csv`` holds what a user submits (F1: the truth's labels at the fitted threshold;
qwk: classes from the fitted cut-points; map@3: the top three class names; rmsle: values clipped at
0; mape: the values), and is scored on the test truth with scikit-learn / NumPy, not with blender.

The baseline is what a user could choose without blend: the single file with the best OOF score
under the same metric (its step fitted on its OOF rows, as blend ranks files; checked against the
report's ``best_single``), with its own plain step: its threshold (F1) or cut-points (qwk) fitted
on its OOF rows and applied to its test predictions; its top 3 (map@3); its values clipped at 0
(rmsle); its values (mape).

Reported per case (mean over seeds): the best file by OOF and its test score, the pick and its test
score, the gain (pick - best, oriented so that + is better) with a 95% paired bootstrap interval
(1,000 draws: each seed's test rows resampled, the same rows for both, each metric recomputed on
the draw, the gains averaged over seeds), the seeds where the pick beats the best file, and the
step's own gain on the pick (F1 at the fitted threshold vs at 0.5; qwk with the fitted cut-points vs
rounding to the nearest class; rmsle clipped vs unclipped; map@3 and mape have no fitted step).

Target (issue 25, "Done means"): ``auto`` beats the best file by OOF in most cases, and loses
beyond the bootstrap interval (its upper end below 0) in none.

``--seeded-folds`` runs the same without ``--folds``: auto's own default then, 5 seeded folds repeated 3
times (up to 5,000 OOF rows), as ``bench_real_data.py`` runs it; with the folds file auto scores one CV
repeat, whose standard errors are wider (outputs in ``auto_seeded/``, ``results_seeded.csv``,
``summary_seeded.csv``).

Run::

    .venv/bin/python benchmarks/bench_metric_cases.py                       # all five cases, seeds 0,1,2
    .venv/bin/python benchmarks/bench_metric_cases.py --cases dietox --seeds 0
    .venv/bin/python benchmarks/bench_metric_cases.py --generate-only       # build the cached folders only
    .venv/bin/python benchmarks/bench_metric_cases.py --rescore             # re-score the last auto/ outputs
    .venv/bin/python benchmarks/bench_metric_cases.py --seeded-folds        # auto's default folds instead

Generating the five cases' folders takes about 4 minutes on 2 cores; each ``blend auto`` run takes from
15 seconds (map@3, rmsle, mape) to 3 minutes (qwk, whose cut-points are fitted for every candidate blend)
with the folds file, and 2 to 4 times that with ``--seeded-folds`` (three repeats): about 14 minutes in all
on a loaded 2-core machine.
Writes ``benchmarks/_data/metric_cases/results.csv`` (one row per case and seed) and
``summary.csv`` (the table), and prints the table in markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import bench_real_data  # noqa: E402
import real_datasets  # noqa: E402

from blender import metrics  # noqa: E402

ROOT = Path(__file__).resolve().parent / "_data" / "metric_cases"
SEEDS = (0, 1, 2)
DRAWS = 1000


# ---------------------------------------------------------------------------------------
# Scoring decisions on the test truth, independently of blender (scikit-learn and NumPy).


def map_at_3(y: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Per-row average precision at 3 with one true class: 1 / its place in ``top`` (n_rows, 3), else 0."""
    hits = top == y[:, None]
    return np.where(hits.any(axis=1), 1.0 / (np.argmax(hits, axis=1) + 1.0), 0.0)


def top3(probabilities: np.ndarray) -> np.ndarray:
    """The three most probable classes of each row, best first (ties: the class order, as a stable sort)."""
    return np.argsort(-probabilities, axis=1, kind="stable")[:, :3]


def f1(y: np.ndarray, decided: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, decided, zero_division=0.0))


def qwk(y: np.ndarray, decided: np.ndarray) -> float:
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(y, decided, weights="quadratic"))


def row_terms(metric: str, y: np.ndarray, decided: np.ndarray) -> np.ndarray | None:
    """Row terms whose mean (rmsle: root of the mean) is the metric; None where the metric is not a mean of rows."""
    if metric == "map@3":
        return map_at_3(y, decided)
    if metric == "rmsle":
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.log1p(decided) - np.log1p(y)) ** 2  # NaN where a value is at or below -1 (unclipped)
    if metric == "mape":
        return np.abs(decided - y) / np.maximum(np.abs(y), np.finfo(np.float64).eps)
    return None


def aggregate(metric: str, terms: np.ndarray, axis=None) -> np.ndarray:
    mean = np.mean(terms, axis=axis)
    return np.sqrt(mean) if metric == "rmsle" else mean


def test_score(metric: str, y: np.ndarray, decided: np.ndarray) -> float:
    if metric == "f1":
        return f1(y, decided)
    if metric == "qwk":
        return qwk(y, decided)
    return float(aggregate(metric, row_terms(metric, y, decided)))


def greater_is_better(metric: str) -> bool:
    return metric in ("f1", "qwk", "map@3")


def _f1_draws(y: np.ndarray, decided: np.ndarray, rows: np.ndarray) -> np.ndarray:
    yy, dd = y[rows].astype(bool), decided[rows].astype(bool)
    tp = (yy & dd).sum(axis=1)
    denominator = yy.sum(axis=1) + dd.sum(axis=1)
    return np.where(denominator > 0, 2.0 * tp / np.maximum(denominator, 1), 0.0)


def _qwk_draws(y: np.ndarray, decided: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Quadratic weighted kappa of every draw, over the classes of the whole test set (as scikit-learn on each draw
    when every class appears in it; a class missing from a draw has no row and no column, so the weights agree)."""
    classes = np.unique(np.concatenate([y, decided]))
    t, d = np.searchsorted(classes, y), np.searchsorted(classes, decided)
    k = len(classes)
    out = np.empty(rows.shape[0])
    for index, r in enumerate(rows):
        # sklearn weights are the squared distance of places among the classes present in this draw.
        present = np.zeros(k, dtype=bool)
        present[t[r]] = True
        present[d[r]] = True
        places = np.cumsum(present) - 1
        confusion = np.bincount(t[r] * k + d[r], minlength=k * k).reshape(k, k).astype(float)
        weights = (places[:, None] - places[None, :]) ** 2.0
        expected = np.outer(confusion.sum(axis=1), confusion.sum(axis=0)) / confusion.sum()
        denominator = (weights * expected).sum()
        out[index] = 1.0 - (weights * confusion).sum() / denominator if denominator > 0 else np.nan
    return out


def draw_scores(metric: str, y: np.ndarray, decided: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The metric on each bootstrap draw ``rows`` (n_draws, n_rows)."""
    if metric == "f1":
        return _f1_draws(y, decided, rows)
    if metric == "qwk":
        return _qwk_draws(y, decided, rows)
    return aggregate(metric, row_terms(metric, y, decided)[rows], axis=1)


def paired_gain(
    metric: str, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], *, draws: int = DRAWS, seed: int = 0
) -> tuple[float, float, float]:
    """Mean over seeds of (a - b) oriented so + is better, and its 95% percentile interval from a paired bootstrap
    over each seed's test rows (``pairs``: one (y, a, b) per seed; a and b decisions on the same rows)."""
    rng = np.random.default_rng(seed)
    sign = 1.0 if greater_is_better(metric) else -1.0
    gain = float(np.mean([sign * (test_score(metric, y, a) - test_score(metric, y, b)) for y, a, b in pairs])) + 0.0
    total = np.zeros(draws)
    for y, a, b in pairs:
        rows = rng.integers(0, len(y), size=(draws, len(y)))
        total += sign * (draw_scores(metric, y, a, rows) - draw_scores(metric, y, b, rows)) / len(pairs)
    low, high = np.nanpercentile(total, [2.5, 97.5])
    return gain, float(low), float(high)


# ---------------------------------------------------------------------------------------
# One case and seed: blend auto, the pick's decisions, the best file by OOF with its own step.


@contextlib.contextmanager
def capturing():
    """Keep what ``blender.picking.run_auto`` returns while ``blend auto`` runs in-process: the pick's test scores
    (``test_blend``) and its fitted step, for the step's own gain."""
    import blender.picking

    original = blender.picking.run_auto
    seen = []

    def run_auto(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    blender.picking.run_auto = run_auto
    try:
        yield seen
    finally:
        blender.picking.run_auto = original


def _ids(path: Path) -> pd.Index:
    return pd.Index(pd.read_csv(path, dtype={"id": str}, keep_default_na=False)["id"])


def read_decisions(path: Path, metric: str, meta: dict, ids: pd.Index) -> np.ndarray:
    """A written submission in the truth's row order, as the decisions the test scorer takes."""
    if metric in ("rmsle", "mape"):  # values: parsed as the files they are compared with are
        return bench_real_data._predictions(path, meta, ids)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("id")
    column = frame.loc[ids].iloc[:, 0]
    if metric == "map@3":
        place = {label: i for i, label in enumerate(meta["classes"])}
        return np.array([[place[label] for label in text.split()] for text in column])
    if metric == "f1":
        return column.astype(int).to_numpy()
    return column.astype(float).to_numpy()


def own_step(metric: str, meta: dict, y_oof: np.ndarray, oof: np.ndarray, test: np.ndarray) -> np.ndarray:
    """A file's test decisions through its own step (threshold / cut-points fitted on its OOF rows; top 3; clip)."""
    if metric == "map@3":
        return top3(test)
    if metric == "mape":
        return test
    if metric == "rmsle":
        return np.maximum(test, 0.0)
    resolved = metrics.for_truth(metric, meta["kind"], y_oof)
    step = resolved.fit_step(y_oof, oof)
    decided = step.apply(test)
    if metric == "qwk":  # class places -> class values
        return resolved.class_values(y_oof)[decided]
    return decided


def oof_choice(metric: str, meta: dict, y_oof: np.ndarray, oofs: dict[str, np.ndarray]) -> tuple[str, dict[str, float]]:
    """The file with the best OOF score, its step fitted on its OOF rows (as blend ranks the files)."""
    resolved = metrics.for_truth(metric, meta["kind"], y_oof)
    scores = {name: float(resolved.fitted(y_oof, pred)) for name, pred in oofs.items()}
    best = (max if resolved.greater_is_better else min)(scores, key=scores.get)  # first on a tie, as blend
    return best, scores


def step_gain_pair(metric: str, meta: dict, result, y_oof: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The pick's test decisions through its fitted step and through the plain one (None: no step that learns)."""
    from blender import layout

    scores = layout.for_metric(result.test_blend, meta["kind"])
    if metric == "f1":
        return result.step.apply(scores), (scores > 0.5).astype(int)
    if metric == "qwk":
        resolved = metrics.for_truth(metric, meta["kind"], y_oof)
        values = resolved.class_values(y_oof)
        return values[result.step.apply(scores)], values[resolved.plain_step(y_oof, scores).apply(scores)]
    if metric == "rmsle":
        return np.maximum(scores, 0.0), scores
    return None


def run_case(
    name: str, metric: str, seed: int, meta: dict, root: Path, *, rescore: bool = False, seeded_folds: bool = False
) -> dict:
    folder = root / name / f"seed{seed}"
    work, out = folder / "work", folder / ("auto_seeded" if seeded_folds else "auto")
    # The folds file the base models' OOF predictions were made on (one CV repeat), or auto's default without
    # one: 5 seeded folds, repeated 3 times up to 5,000 OOF rows.
    folds = [] if seeded_folds else ["--folds", folder / "folds.csv"]
    kind = meta["kind"]
    seconds = float("nan")
    result = None
    if not rescore:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        files = sorted(str(p) for p in (work / "submissions").glob("*.csv"))
        started = time.perf_counter()
        with capturing() as seen:
            log = bench_real_data._invoke(
                [
                    "auto",
                    *files,
                    "--oof-dir",
                    work / "submissions" / "oof",
                    "--truth",
                    work / "data" / "train_labels.csv",
                    *folds,
                    "--task",
                    kind,
                    "--metric",
                    metric,
                    "--seed",
                    seed,
                    "--report",
                    out / "report.json",
                    "-o",
                    out / "pick.csv",
                    "--oof-out",
                    out / "oof.csv",
                ]
            )
        seconds = time.perf_counter() - started
        (out / "log.txt").write_text(log)
        result = seen[0]
        y_fit = bench_real_data._truth(work / "data" / "train_labels.csv", meta).to_numpy()
        pair = step_gain_pair(metric, meta, result, y_fit.astype(float) if kind == "regression" else y_fit)
        np.savez(out / "step_pair.npz", **({} if pair is None else {"fitted": pair[0], "plain": pair[1]}))
        (out / "seconds.txt").write_text(f"{seconds:.2f}\n")
        (out / "step.txt").write_text(f"{result.step.describe() if result.step is not None else '-'}\n")
    else:
        seconds = float((out / "seconds.txt").read_text())
    report = json.loads((out / "report.json").read_text())
    truth_path = folder / "test_truth.csv"
    truth = bench_real_data._truth(truth_path, meta)
    y = truth.to_numpy()
    ids = truth.index
    oof_truth = bench_real_data._truth(work / "data" / "train_labels.csv", meta)
    y_oof = oof_truth.to_numpy()
    if kind == "regression":
        y, y_oof = y.astype(float), y_oof.astype(float)
    else:
        y, y_oof = y.astype(int), y_oof.astype(int)
    oofs = {
        m: bench_real_data._predictions(work / "submissions" / "oof" / f"{m}.csv", meta, oof_truth.index)
        for m in meta["models"]
    }
    best, oof_scores = oof_choice(metric, meta, y_oof, oofs)
    if best != report["best_single"]["name"]:
        print(
            f"  note: {name} seed {seed}: the report's best single file is {report['best_single']['name']}, "
            f"the best {metric} on all OOF rows (step fitted on them) is {best}",
            file=sys.stderr,
        )
    best_test = bench_real_data._predictions(work / "submissions" / f"{best}.csv", meta, ids)
    best_decided = own_step(metric, meta, y_oof, oofs[best], best_test)
    pick_decided = read_decisions(out / "pick.csv", metric, meta, ids)
    pair = dict(np.load(out / "step_pair.npz"))
    check = None
    if pair:  # the written decisions must be the captured step applied to the captured scores
        check = bool(np.allclose(pair["fitted"], pick_decided)) if metric != "map@3" else None
        if check is False:
            print(
                f"  WARNING: {name} seed {seed}: pick.csv differs from the step applied to the pick's scores "
                f"({int(np.sum(~np.isclose(pair['fitted'], pick_decided)))} rows)",
                file=sys.stderr,
            )
    pick_score, best_score = test_score(metric, y, pick_decided), test_score(metric, y, best_decided)
    sign = 1.0 if greater_is_better(metric) else -1.0
    row = {
        "case": name,
        "kind": kind,
        "metric": metric,
        "seed": seed,
        "n_train": meta["n_train"],
        "n_test": meta["n_test"],
        "best_file": best,
        "best_file_oof": oof_scores[best],
        "best_file_test": best_score,
        "pick": report["pick"]["name"],
        "pick_type": report["pick"]["type"],
        "pick_members": "+".join(report["pick"]["members"]),
        "pick_test": pick_score,
        "gain": sign * (pick_score - best_score) + 0.0,  # + 0.0: no -0.0 for a tie
        "estimate": (report.get("estimate") or {}).get("mean"),
        "level": (report.get("levels") or {}).get("kept"),
        "step": (out / "step.txt").read_text().strip() if (out / "step.txt").exists() else "",
        "decisions_match_step": check,
        "auto_seconds": round(seconds, 1),
    }
    if pair:
        fitted, plain = pair["fitted"], pair["plain"]
        row["step_fitted_test"] = test_score(metric, y, fitted)
        row["step_plain_test"] = test_score(metric, y, plain)
        row["step_gain"] = sign * (row["step_fitted_test"] - row["step_plain_test"]) + 0.0
        if metric == "rmsle":
            row["clipped_rows"] = int(np.sum(plain < 0))
    # Best file's own step gain too (its fitted step vs its plain one), for context.
    if metric in ("f1", "qwk"):
        plain_best = (
            (best_test > 0.5).astype(int)
            if metric == "f1"
            else metrics.for_truth(metric, kind, y_oof).class_values(y_oof)[
                metrics.for_truth(metric, kind, y_oof).plain_step(y_oof, best_test).apply(best_test)
            ]
        )
        row["best_step_gain"] = sign * (best_score - test_score(metric, y, plain_best))
    elif metric == "rmsle":
        row["best_step_gain"] = sign * (best_score - test_score(metric, y, best_test))
    arrays = {
        "y": y,
        "pick": pick_decided,
        "best": best_decided,
        **({"fitted": pair["fitted"], "plain": pair["plain"]} if pair else {}),
    }
    return {"row": row, "arrays": arrays}


# ---------------------------------------------------------------------------------------
# The table.


def _num(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


def summarise(runs: list[dict]) -> pd.DataFrame:
    out = []
    by_case: dict[str, list[dict]] = {}
    for run in runs:
        by_case.setdefault(run["row"]["case"], []).append(run)
    for case, group in by_case.items():
        rows = [r["row"] for r in group]
        metric = rows[0]["metric"]
        gain, low, high = paired_gain(
            metric, [(r["arrays"]["y"], r["arrays"]["pick"], r["arrays"]["best"]) for r in group]
        )
        record = {
            "case": case,
            "kind": rows[0]["kind"],
            "metric": metric,
            "seeds": len(rows),
            "n_train": rows[0]["n_train"],
            "n_test": rows[0]["n_test"],
            "best_file": "/".join(dict.fromkeys(r["best_file"] for r in rows)),
            "best_file_test": float(np.mean([r["best_file_test"] for r in rows])),
            "pick": "/".join(r["pick"] for r in rows),
            "pick_test": float(np.mean([r["pick_test"] for r in rows])),
            "gain": gain,
            "gain_low": low,
            "gain_high": high,
            "seeds_beat": sum(r["gain"] > 0 for r in rows),
            "seeds_tie": sum(r["gain"] == 0 for r in rows),
            "seeds_lose": sum(r["gain"] < 0 for r in rows),
            "verdict": "beats"
            if gain > 0
            else ("tie" if gain == 0 else ("LOSES beyond" if high < 0 else "loses within")),
            "auto_seconds": float(np.sum([r["auto_seconds"] for r in rows])),
        }
        with_step = [r for r in group if "fitted" in r["arrays"]]
        if with_step and metric != "rmsle":
            record["step_gain"], record["step_low"], record["step_high"] = paired_gain(
                metric, [(r["arrays"]["y"], r["arrays"]["fitted"], r["arrays"]["plain"]) for r in with_step]
            )
        elif with_step:  # rmsle unclipped is undefined where a value is at or below -1
            gains = [r["row"]["step_gain"] for r in with_step]
            record["step_gain"] = float(np.mean(gains)) if all(np.isfinite(gains)) else float("nan")
            record["step_low"] = record["step_high"] = float("nan")
            record["clipped_rows"] = int(np.sum([r["row"].get("clipped_rows", 0) for r in with_step]))
        if "best_step_gain" in rows[0]:
            record["best_step_gain"] = float(np.mean([r["best_step_gain"] for r in rows]))
        out.append(record)
    return pd.DataFrame(out)


def step_text(record: pd.Series) -> str:
    metric = record["metric"]
    if metric in ("map@3", "mape"):
        return "none: " + ("top 3, no fitted step" if metric == "map@3" else "values as they are")
    if metric == "rmsle":
        clipped = int(record.get("clipped_rows", 0) or 0)
        gain = record.get("step_gain")
        tail = f"{gain:+.4f}" if gain is not None and math.isfinite(gain) else "unclipped undefined (a value <= -1)"
        return f"clip at 0 vs none: {tail}; {clipped} test rows clipped over the seeds"
    what = "threshold vs 0.5" if metric == "f1" else "cut-points vs rounding"
    best = record.get("best_step_gain")
    tail = f"; on the best file {best:+.4f}" if best is not None and math.isfinite(best) else ""
    return f"{what}: {record['step_gain']:+.4f} [{record['step_low']:+.4f}, {record['step_high']:+.4f}]{tail}"


def markdown(summary: pd.DataFrame) -> str:
    header = [
        "case (dataset, kind, metric, OOF/test rows)",
        "best file by OOF (test)",
        "auto's pick per seed (test)",
        "gain, pick - best [95% CI]",
        "seeds pick beats",
        "verdict",
        "step's own gain on the pick (test)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for _, r in summary.iterrows():
        lines.append(
            "| "
            + " | ".join(
                [
                    f"{r['case']} ({r['kind']}, {r['metric']}, {r['n_train']:,}/{r['n_test']:,})",
                    f"{r['best_file']} ({_num(r['best_file_test'])})",
                    f"{r['pick']} ({_num(r['pick_test'])})",
                    f"{r['gain']:+.4f} [{r['gain_low']:+.4f}, {r['gain_high']:+.4f}]",
                    f"{r['seeds_beat']}/{r['seeds']}" + (f" ({r['seeds_tie']} tie)" if r["seeds_tie"] else ""),
                    r["verdict"],
                    step_text(r),
                ]
            )
            + " |"
        )
    n = len(summary)
    beats = int((summary["gain"] > 0).sum())
    beyond = int((summary["gain_high"] < 0).sum())
    lines.append("")
    lines.append(
        f"auto beats the best file by OOF in {beats} of {n} cases (mean over seeds); loses beyond the "
        f"95% interval in {beyond}. Target: most ({'MET' if beats > n / 2 else 'NOT MET'}), none beyond "
        f"({'MET' if beyond == 0 else 'NOT MET'})."
    )
    return "\n".join(lines)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases",
        default=",".join(real_datasets.METRIC_CASES),
        help="comma-separated case names [default: %(default)s]",
    )
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="split seeds [default: %(default)s]")
    parser.add_argument("--generate-only", action="store_true", help="only build the cached folders")
    parser.add_argument(
        "--rescore", action="store_true", help="score the auto/ outputs an earlier run left; run no blend"
    )
    parser.add_argument(
        "--seeded-folds",
        action="store_true",
        help="run blend auto without the folds file (its default: 5 seeded folds, 3 repeats up to "
        "5,000 rows); outputs in auto_seeded/, results_seeded.csv and summary_seeded.csv",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="cache folder [default: benchmarks/_data/metric_cases]")
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    real_datasets.register_metric_cases()
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in real_datasets.METRIC_CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; expected some of {', '.join(real_datasets.METRIC_CASES)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    started = time.perf_counter()
    metas = {(c, s): real_datasets.cached(c, s, args.root, progress=_say) for c in cases for s in seeds}
    generation = time.perf_counter() - started
    _say(f"datasets ready in {generation:.0f} s")
    if args.generate_only:
        return 0
    suffix = "_seeded" if args.seeded_folds else ""
    runs = []
    for (case, seed), meta in metas.items():
        metric = real_datasets.METRIC_CASES[case]
        run = run_case(case, metric, seed, meta, args.root, rescore=args.rescore, seeded_folds=args.seeded_folds)
        runs.append(run)
        r = run["row"]
        _say(
            f"{case} seed {seed} ({metric}): best file {r['best_file']} test {r['best_file_test']:.4f}; "
            f"pick {r['pick']} "
            f"test {r['pick_test']:.4f}; gain {r['gain']:+.4f}; auto {r['auto_seconds']:.0f} s"
        )
        pd.DataFrame([x["row"] for x in runs]).to_csv(
            args.root / f"results{suffix}.csv", index=False
        )  # partial results survive
    summary = summarise(runs)
    summary.to_csv(args.root / f"summary{suffix}.csv", index=False)
    print(markdown(summary))
    print("\nper seed (gain: pick - best, + is better):\n")
    print("| case | seed | best file (OOF, test) | pick (test) | gain | step on the pick | auto s |")
    print("|---|---|---|---|---|---|---|")
    for run in runs:
        r = run["row"]
        step = r.get("step", "") or "-"
        print(
            f"| {r['case']} | {r['seed']} | {r['best_file']} "
            f"({_num(r['best_file_oof'])}, {_num(r['best_file_test'])}) | "
            f"{r['pick']}{' = ' + r['pick_members'] if r['pick_members'] else ''} ({_num(r['pick_test'])}) | "
            f"{r['gain']:+.4f} | {step} | {r['auto_seconds']:.0f} |"
        )
    total = time.perf_counter() - started
    print(
        f"\nwrote {args.root / f'results{suffix}.csv'} and summary{suffix}.csv; generation {generation:.0f} s, "
        f"blend auto {sum(x['row']['auto_seconds'] for x in runs):.0f} s, total {total:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

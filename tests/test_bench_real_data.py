"""The real-data benchmark's harness: the folders it writes keep the contract, and its summary counts right.

Runs the generation on one small real dataset (statsmodels' modechoice, 210 travellers,
4 classes) with three cheap models and one seed, then the benchmark end to end.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
MODELS = ["logreg", "knn5", "gnb"]


def _module(name: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def real_datasets():
    return _module("real_datasets")


@pytest.fixture(scope="module")
def generated(real_datasets, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench") / "modechoice" / "seed0"
    data = real_datasets.load("modechoice")
    meta = real_datasets.generate(data, 0, folder, models=MODELS)
    return data, meta, folder


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"id": str}, keep_default_na=False)


def test_files_keep_the_contract(generated):
    data, meta, folder = generated
    work = folder / "work"
    truth = _read(work / "data" / "train_labels.csv")
    test_truth = _read(folder / "test_truth.csv")
    assert list(truth.columns) == ["id", "mode"] and list(test_truth.columns) == ["id", "mode"]
    train_ids, test_ids = set(truth["id"]), set(test_truth["id"])
    assert len(train_ids) == len(truth) == meta["n_train"] and len(test_ids) == len(test_truth) == meta["n_test"]
    assert not train_ids & test_ids
    assert len(train_ids | test_ids) == data.n_rows == 210
    assert meta["n_test"] == 53  # a quarter of 210, rounded up, as scikit-learn splits
    assert sorted(p.stem for p in (work / "submissions").glob("*.csv")) == sorted(MODELS)
    for name in MODELS:
        test = _read(work / "submissions" / f"{name}.csv")
        oof = _read(work / "submissions" / "oof" / f"{name}.csv")
        assert list(test.columns) == list(oof.columns) == ["id", "air", "bus", "car", "train"]
        assert list(test["id"]) == list(test_truth["id"])
        assert list(oof["id"]) == list(truth["id"])
        for frame in (test, oof):
            values = frame.iloc[:, 1:].to_numpy(float)
            assert np.all((values >= 0) & (values <= 1))
            np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-9)
    # The test truth is nowhere blend can see it: no file under work/ holds a test id with a label.
    for path in work.rglob("*.csv"):
        frame = _read(path)
        if "mode" in frame.columns:
            assert not set(frame["id"]) & test_ids, path


def test_every_training_row_is_held_out_exactly_once(generated):
    data, meta, folder = generated
    folds = _read(folder / "folds.csv")
    truth = _read(folder / "work" / "data" / "train_labels.csv")
    assert list(folds["id"]) == list(truth["id"])
    assert sorted(folds["fold"].unique()) == [0, 1, 2, 3, 4]
    sizes = folds["fold"].value_counts()
    assert sizes.max() - sizes.min() <= len(data.classes)  # stratified: near-equal folds
    # Each fold keeps every class's share within one row.
    for label, group in truth.groupby("mode"):
        per_fold = folds.loc[group.index, "fold"].value_counts().reindex(range(5), fill_value=0)
        assert per_fold.max() - per_fold.min() <= 1, label


def test_oof_rows_come_from_the_models_that_did_not_see_them(real_datasets, generated):
    """Refit logistic regression fold by fold: the OOF file holds each fold model's predictions on
    its held-out rows, and the test file the mean of the five fold models."""
    from sklearn.base import clone

    data, meta, folder = generated
    train_rows, test_rows = real_datasets.split(data, 0)
    folds = _read(folder / "folds.csv")
    np.testing.assert_array_equal(folds["id"].astype(int), train_rows)
    fold = folds["fold"].to_numpy()
    X, y = data.X[train_rows], data.y[train_rows]
    oof = _read(folder / "work" / "submissions" / "oof" / "logreg.csv").iloc[:, 1:].to_numpy(float)
    test = _read(folder / "work" / "submissions" / "logreg.csv").iloc[:, 1:].to_numpy(float)
    expected_test = np.zeros_like(test)
    for k in range(5):
        model = clone(real_datasets.make_models("multiclass", 0)["logreg"]).fit(X[fold != k], y[fold != k])
        np.testing.assert_allclose(oof[fold == k], model.predict_proba(X[fold == k]), rtol=1e-12, atol=1e-15)
        expected_test += model.predict_proba(data.X[test_rows]) / 5
    np.testing.assert_allclose(test, expected_test, rtol=1e-12, atol=1e-15)


def test_blend_reads_the_folder(generated):
    from blender import io

    _, meta, folder = generated
    work = folder / "work"
    paths = sorted((work / "submissions").glob("*.csv"))
    test = io.read_predictions(paths)
    train = io.read_predictions([work / "submissions" / "oof" / p.name for p in paths], like=test)
    assert test.kind == train.kind == "multiclass"
    assert test.values.shape == (3, meta["n_test"], 4) and train.values.shape == (3, meta["n_train"], 4)


def test_summary_orients_gains_and_counts_ties():
    bench = _module("bench_real_data")
    rows = []
    # rmse (lower is better): the pick gains 0.1, 0.1, 0.0 over the best single file.
    for seed, (pick, best) in enumerate([(1.0, 1.1), (1.2, 1.3), (1.1, 1.1)]):
        rows.append(
            {
                "dataset": "r",
                "kind": "regression",
                "metric": "rmse",
                "seed": seed,
                "n_train": 9,
                "n_test": 3,
                "type": "pick",
                "entry": "(pick)",
                "test": pick,
                "best_single_test": best,
                "best_single": "a",
                "pick_name": "weights",
                "is_best_single": False,
                "is_pick": True,
                "cv_mean": 1.0,
            }
        )
        rows.append(
            {
                "dataset": "r",
                "kind": "regression",
                "metric": "rmse",
                "seed": seed,
                "type": "model",
                "entry": "a",
                "test": best,
            }
        )
    # auc (higher is better): the pick is the best single file itself in seeds 1 and 2 (a tie there)
    # and a blend that loses 0.03 AUC in seed 0.
    for seed in range(3):
        pick, name = (0.77, "caruana") if seed == 0 else (0.8, "a")
        rows.append(
            {
                "dataset": "b",
                "kind": "binary",
                "metric": "auc",
                "seed": seed,
                "n_train": 9,
                "n_test": 3,
                "type": "pick",
                "entry": "(pick)",
                "test": pick,
                "best_single_test": 0.8,
                "best_single": "a",
                "pick_name": name,
                "is_best_single": name == "a",
                "is_pick": True,
                "cv_mean": 0.8,
            }
        )
        rows.append(
            {
                "dataset": "b",
                "kind": "binary",
                "metric": "auc",
                "seed": seed,
                "type": "model",
                "entry": "a",
                "test": 0.8,
            }
        )
    # A dataset whose pick is the best single file in every seed: a tie, not a win.
    for seed in range(3):
        rows.append(
            {
                "dataset": "t",
                "kind": "binary",
                "metric": "logloss",
                "seed": seed,
                "n_train": 9,
                "n_test": 3,
                "type": "pick",
                "entry": "(pick)",
                "test": 0.3,
                "best_single_test": 0.3,
                "best_single": "a",
                "pick_name": "a",
                "is_best_single": True,
                "is_pick": True,
                "cv_mean": 0.3,
            }
        )
        rows.append(
            {
                "dataset": "t",
                "kind": "binary",
                "metric": "logloss",
                "seed": seed,
                "type": "model",
                "entry": "a",
                "test": 0.3,
            }
        )
    summary = bench.summarise(pd.DataFrame(rows), {"r": 0.01, "b": 0.0, "t": 0.0}).set_index("dataset")
    assert summary.loc["r", "gain"] == pytest.approx(0.2 / 3)
    assert summary.loc["r", "se_seeds"] == pytest.approx(np.std([0.1, 0.1, 0.0], ddof=1) / np.sqrt(3))
    assert summary.loc["r", "noise"] == pytest.approx(summary.loc["r", "se_seeds"])  # larger than the bootstrap's 0.01
    assert (
        bool(summary.loc["r", "beats"]) and not bool(summary.loc["b", "beats"]) and not bool(summary.loc["t", "beats"])
    )
    assert summary.loc["b", "gain"] == pytest.approx(-0.01)  # a lower AUC is a loss
    assert summary.loc["b", "z"] == pytest.approx(-0.01 / (np.std([-0.03, 0, 0], ddof=1) / np.sqrt(3)))
    assert summary.loc["b", "pick_is_single"] == 2 and summary.loc["b", "pick"] == "caruana/a"
    assert summary.loc["t", "gain"] == 0.0 and summary.loc["t", "z"] == 0.0


def test_paired_bootstrap_of_identical_predictions_has_no_noise():
    bench = _module("bench_real_data")
    y = np.array([0, 1, 1, 0, 1])
    pred = np.array([0.2, 0.7, 0.6, 0.4, 0.9])
    terms = bench.per_row_losses(y, pred, metric="logloss", kind="binary")
    np.testing.assert_allclose(terms.mean(), bench.score(y, pred, metric="logloss", kind="binary"))
    run = {"y": y, "pick": terms, "best": terms, "pick_pred": pred, "best_pred": pred}
    assert bench.bootstrap_se([run, run], metric="logloss", kind="binary", draws=50) == 0.0
    shifted = dict(run, pick=bench.per_row_losses(y, np.clip(pred + 0.05, 0, 1), metric="logloss", kind="binary"))
    assert bench.bootstrap_se([shifted], metric="logloss", kind="binary", draws=200) > 0.0


@pytest.mark.slow
def test_benchmark_runs_end_to_end(tmp_path, capsys):
    """Generation, blend auto, scoring, summary and the raw results, on one small folder."""
    bench = _module("bench_real_data")
    assert (
        bench.main(
            [
                "--datasets",
                "modechoice",
                "--seeds",
                "0",
                "--models",
                ",".join(MODELS),
                "--root",
                str(tmp_path),
                "--repeats",
                "1",
            ]
        )
        == 0
    )
    output = capsys.readouterr().out
    assert "== modechoice" in output and "pick beats the best single file in" in output
    results = pd.read_csv(tmp_path / "results.csv")
    pick = results[results["type"] == "pick"].iloc[0]
    assert pick["best_single"] in MODELS
    singles = results[results["type"] == "model"].set_index("entry")
    assert sorted(singles.index) == sorted(MODELS)
    # The best single file is the one with the best OOF log loss, and its test score is that file's.
    assert singles["oof_full"].idxmin() == pick["best_single"]
    assert singles.loc[pick["best_single"], "test"] == pytest.approx(pick["best_single_test"])
    assert (tmp_path / "results.json").exists() and (tmp_path / "summary.csv").exists()
    report = json.loads((tmp_path / "modechoice" / "seed0" / "auto" / "report.json").read_text())
    # Every leaderboard entry was scored on the test rows, from the file blend wrote for it.
    assert sorted(results[results["type"] != "pick"]["entry"]) == sorted(e["name"] for e in report["leaderboard"])


@pytest.mark.parametrize("name", ["autompg", "star98", "anes96"])
def test_datasets_load_and_are_finite(real_datasets, name):
    data = real_datasets.load(name)
    assert data.n_rows >= 200 and np.all(np.isfinite(data.X))


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_every_model_of_the_zoo_makes_oof_predictions(real_datasets, kind):
    """All eleven models of each kind fit on four folds and predict the fifth: probabilities in
    [0, 1] summing to 1 per row, or finite values; at least ten diverse models."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    signal = X[:, 0] + 0.5 * X[:, 1]
    y = {
        "binary": (signal > 0).astype(int),
        "multiclass": np.digitize(signal, [-0.7, 0.7]),
        "regression": 10 * signal + rng.normal(size=100),
    }[kind]
    zoo = real_datasets.make_models(kind, 0)
    assert len(zoo) >= 10
    folds = real_datasets.fold_of(y, kind, 0, folds=2)  # two fits per model keep this quick
    n_classes = {"binary": 2, "multiclass": 3, "regression": 0}[kind]
    for name, model in zoo.items():
        oof, test = real_datasets.oof_predictions(
            model, X[:80], y[:80], X[80:], kind=kind, folds=folds[:80], n_classes=n_classes
        )
        assert np.all(np.isfinite(oof)) and np.all(np.isfinite(test)), name
        if kind != "regression":
            assert oof.shape == (80, n_classes) and test.shape == (20, n_classes), name
            np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-9, err_msg=name)
            assert np.all((oof >= 0) & (oof <= 1)), name
        else:
            assert oof.shape == (80,) and test.shape == (20,), name


def test_other_rules_are_replayed_from_the_cv_scores():
    bench = _module("bench_real_data")
    base = {"dataset": "r", "kind": "regression", "metric": "rmse", "seed": 0}
    rows = [
        {**base, "type": "pick", "entry": "(pick)", "test": 1.05, "best_single_test": 1.1, "cv_mean": 1.0},
        {**base, "type": "model", "entry": "a", "cv_mean": 1.02, "test": 1.1},
        {**base, "type": "model", "entry": "b", "cv_mean": 0.99, "test": 1.2},  # top by CV, worse on test
        {**base, "type": "blend", "entry": "w", "cv_mean": 1.0, "test": 0.9},
        {**base, "type": "blend", "entry": "s", "cv_mean": 1.5, "test": 0.5},
    ]
    rules = bench.compare_rules(pd.DataFrame(rows)).set_index("rule")
    assert rules.loc["auto", "beats"] == 1 and rules.loc["best-single", "ties"] == 1
    assert rules.loc["top-cv", "losses"] == 1  # b: 1.2 against 1.1
    assert rules.loc["top-blend", "beats"] == 1  # w: 0.9 against 1.1


def _board_json(entries, best_single="lr"):
    from blender.evaluation import corrected_se

    base = np.asarray(dict((name, folds) for name, _, folds in entries)[best_single], dtype=float)
    rows = []
    for name, type_, folds in entries:
        folds = np.asarray(folds, dtype=float)
        difference = base - folds  # log loss: lower is better
        rows.append(
            {
                "name": name,
                "type": type_,
                "fold_scores": folds.tolist(),
                "mean": folds.mean(),
                "se": corrected_se(folds, 5),
                "gain": difference.mean(),
                "gain_se": corrected_se(difference, 5),
                "wins": int((difference > 0).sum()),
                "complexity": 0 if type_ == "model" else 3,
                "oof": None,
            }
        )
    rows.sort(key=lambda row: row["mean"])
    return {
        "metric": "logloss",
        "folds": 5,
        "repeats": 1,
        "best_single": best_single,
        "best_single_oof": base.mean(),
        "entries": rows,
    }


def test_rules_are_replayed_on_the_recorded_board():
    bench = _module("bench_real_data")
    base = np.array([0.30, 0.32, 0.29, 0.31, 0.33])
    wobble = np.array([0.0, 1.0, -1.0, 0.5, -0.5]) * 1e-3
    board = bench.board_from_json(
        _board_json(
            [
                ("stack", "blend", base - 0.05),
                ("caruana", "blend", base - 0.03 + wobble),
                ("lr", "model", base),
                ("a", "model", base + 0.01),
                ("b", "model", base + 0.02),
                ("c", "model", base + 0.03),
            ]
        )
    )
    assert board.entries[0].name == "stack" and board.best_single == "lr"
    assert bench.rule_members(board, "best file") == ("lr",)
    assert bench.rule_members(board, "top entry") == ("stack",)
    assert bench.rule_members(board, "top-5 mean") == ("stack", "caruana", "lr", "a", "b")
    assert bench.rule_members(board, "level 1") == ("stack",)  # 0.02 ahead of caruana, give or take 0.001 a fold
    # No blend past the gate: every gated rule keeps the best file, the ungated top entry does not.
    board = bench.board_from_json(
        _board_json(
            [
                ("lr", "model", base),
                ("caruana", "blend", base + 0.01 + wobble),
                ("a", "model", base - 0.001 + 5 * wobble),
            ]
        )
    )
    assert bench.rule_members(board, "top-5 mean") == bench.rule_members(board, "level 1") == ("lr",)
    assert bench.rule_members(board, "top entry") == ("a",)


def test_the_replay_table_counts_and_shares():
    bench = _module("bench_real_data")
    rows = []
    # rmse, two seeds: best file 1.0; the oracle 0.8; "top entry" 0.9 then 1.1 (mean gain 0); level 1 0.85 and 0.95.
    tests = {
        "best file": (1.0, 1.0),
        "top entry": (0.9, 1.1),
        "top-5 mean": (0.95, 0.95),
        "level 0.5": (0.85, 0.95),
        "level 1": (0.85, 0.95),
        "level 2": (1.0, 1.0),
        "oracle": (0.8, 0.8),
    }
    y = np.zeros(4)
    for rule, scores in tests.items():
        for seed, value in enumerate(scores):
            pred = np.full(4, value)
            rows.append(
                {
                    "dataset": "r",
                    "seed": seed,
                    "kind": "regression",
                    "metric": "rmse",
                    "n_train": 5000,
                    "n_test": 4,
                    "rule": rule,
                    "members": rule,
                    "test": value,
                    "y": y,
                    "pred": pred,
                    "losses": bench.per_row_losses(y, pred, metric="rmse", kind="regression"),
                }
            )
    per_dataset = bench.summarise_rules(rows, draws=20).set_index("rule")
    assert per_dataset.loc["oracle", "gain"] == pytest.approx(0.2) and per_dataset.loc[
        "oracle", "share"
    ] == pytest.approx(1)
    assert per_dataset.loc["level 1", "share"] == pytest.approx(0.1 / 0.2)
    assert per_dataset.loc["top-5 mean", "share"] == pytest.approx(0.25)
    assert per_dataset.loc["top entry", "gain"] == pytest.approx(0.0, abs=1e-12)
    table = bench.rules_table(per_dataset.reset_index()).set_index("rule")
    assert (table["size"] == ">=4,000 rows").all()
    assert (
        table.loc["level 1", "beats"] == 1 and table.loc["level 2", "ties"] == 1 and table.loc["best file", "ties"] == 1
    )

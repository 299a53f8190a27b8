"""The competition's metric through the command line: `blend auto --metric ...` on real folders, the written
decisions against the sample, the step fitted inside the folds (a hand-written fold loop), and the bad-input table.

The folders are built from data that ship inside scikit-learn (breast cancer, digits, diabetes): a few quick
models make OOF predictions on shared folds, in the contract's layout, with a sample submission.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from sklearn.model_selection import KFold, StratifiedKFold
from typer.testing import CliRunner

from blender.cli import app

PREVIOUS = "id,target\nprevious,0.5\n"


def _folder(root: Path, X, y, *, kind: str, target: str = "target", labels=None, columns=None, seed: int = 0) -> Path:
    """OOF and test predictions of three quick models on shared folds, the truth, the folds and a sample."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    X, y = np.asarray(X)[order], np.asarray(y)[order]
    n_test = len(y) // 4
    X_test, X_train, y_train = X[:n_test], X[n_test:], y[n_test:]
    ids_test = [f"t{i:04d}" for i in range(n_test)]
    ids_train = [f"r{i:04d}" for i in range(len(y_train))]
    if kind == "regression":
        models = {
            "ridge": make_pipeline(StandardScaler(), Ridge()),
            "knn": KNeighborsRegressor(15),
            "rf": RandomForestRegressor(50, random_state=0, min_samples_leaf=3),
        }
        splitter = KFold(5, shuffle=True, random_state=0)
    else:
        models = {
            "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
            "knn": KNeighborsClassifier(15),
            "rf": RandomForestClassifier(50, random_state=0, min_samples_leaf=3),
        }
        splitter = StratifiedKFold(5, shuffle=True, random_state=0)
    folds = np.empty(len(y_train), dtype=int)
    for fold, (_, held) in enumerate(splitter.split(X_train, y_train)):
        folds[held] = fold
    (root / "submissions" / "oof").mkdir(parents=True)
    (root / "data").mkdir()
    for name, model in models.items():
        oof = np.zeros((len(y_train),) if kind == "regression" else (len(y_train), len(np.unique(y_train))))
        for fold in range(5):
            model.fit(X_train[folds != fold], y_train[folds != fold])
            held = folds == fold
            oof[held] = model.predict(X_train[held]) if kind == "regression" else model.predict_proba(X_train[held])
        model.fit(X_train, y_train)
        test = model.predict(X_test) if kind == "regression" else model.predict_proba(X_test)
        for ids, values, path in (
            (ids_train, oof, root / "submissions" / "oof" / f"{name}.csv"),
            (ids_test, test, root / "submissions" / f"{name}.csv"),
        ):
            if kind == "binary":
                frame = pd.DataFrame({"id": ids, target: values[:, 1]})
            elif kind == "multiclass":
                frame = pd.DataFrame(values, columns=columns)
                frame.insert(0, "id", ids)
            else:
                frame = pd.DataFrame({"id": ids, target: values})
            frame.to_csv(path, index=False)
    truth = y_train if labels is None else np.asarray(labels, dtype=object)[y_train]
    pd.DataFrame({"id": ids_train, target: truth}).to_csv(root / "data" / "train_labels.csv", index=False)
    pd.DataFrame({"id": ids_train, "fold": folds}).to_csv(root / "data" / "folds.csv", index=False)
    sample = pd.DataFrame({"id": list(reversed(ids_test)), target: 0})
    sample.to_csv(root / "sample_submission.csv", index=False)
    test_truth = y[:n_test] if labels is None else np.asarray(labels, dtype=object)[y[:n_test]]
    pd.DataFrame({"id": ids_test, target: test_truth}).to_csv(root / "test_truth.csv", index=False)
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

    cancer = load_breast_cancer()
    digits = load_digits()
    keep = np.random.default_rng(0).permutation(len(digits.target))[:700]
    diabetes = load_diabetes()
    grades = np.searchsorted(np.quantile(diabetes.target, [0.2, 0.4, 0.6, 0.8]), diabetes.target) + 1
    root = tmp_path_factory.mktemp("metrics")
    # Malignant is the rarer class (37%): its label, M, is the positive one when named by --positive.
    return {
        "binary": _folder(
            root / "binary", cancer.data, 1 - cancer.target, kind="binary", target="diagnosis", labels=["B", "M"]
        ),
        "multiclass": _folder(
            root / "multiclass",
            digits.data[keep],
            digits.target[keep],
            kind="multiclass",
            target="digit",
            columns=[str(c) for c in range(10)],
        ),
        "regression": _folder(
            root / "regression", diabetes.data, diabetes.target, kind="regression", target="progression"
        ),
        "grades": _folder(root / "grades", diabetes.data, grades, kind="regression", target="grade"),
    }


def run(folder: Path, *args, monkeypatch):
    monkeypatch.chdir(folder)
    return CliRunner().invoke(app, [str(arg) for arg in args])


def check(folder: Path, path: str, monkeypatch):
    result = run(folder, "check", "sample_submission.csv", path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    return result


def test_auto_f1_writes_the_truths_labels_at_a_threshold_fitted_on_the_oof_rows(folders, monkeypatch):
    folder = folders["binary"]
    result = run(
        folder,
        "auto",
        "--metric",
        "f1",
        "--positive",
        "M",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    assert "step: threshold" in result.stderr and "with the plain step" in result.stderr
    written = pd.read_csv("blends/auto.csv")
    assert set(written["diagnosis"]) == {"B", "M"}
    sample = pd.read_csv("sample_submission.csv")
    assert written["id"].tolist() == sample["id"].tolist()
    # The OOF file keeps the scores, for a next level.
    oof = pd.read_csv("blends/oof/auto.csv")
    assert oof["diagnosis"].between(0, 1).all() and oof["diagnosis"].nunique() > 2
    truth = pd.read_csv("test_truth.csv").set_index("id")["diagnosis"]
    assert sk.f1_score(truth.loc[written["id"]] == "M", written["diagnosis"] == "M") > 0.85
    check(folder, "blends/auto.csv", monkeypatch)


def test_no_post_writes_the_scores(folders, monkeypatch):
    result = run(
        folders["binary"], "caruana", "--metric", "f1", "--no-post", "-o", "blends/scores.csv", monkeypatch=monkeypatch
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv("blends/scores.csv")["diagnosis"].between(0, 1).all()


def test_auto_map3_writes_three_space_separated_classes(folders, monkeypatch):
    folder = folders["multiclass"]
    result = run(
        folder,
        "auto",
        "--metric",
        "map@3",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv("blends/auto.csv", dtype=str)
    assert list(written.columns) == ["id", "digit"]
    tops = written["digit"].str.split(" ")
    assert (tops.map(len) == 3).all() and (tops.map(lambda row: len(set(row))) == 3).all()
    assert set(np.concatenate(tops.to_list())) <= {str(c) for c in range(10)}
    truth = pd.read_csv("test_truth.csv", dtype=str).set_index("id")["digit"].loc[written["id"]]
    hits = [1.0 / (row.index(label) + 1) if label in row else 0.0 for row, label in zip(tops, truth)]
    assert np.mean(hits) > 0.9
    check(folder, "blends/auto.csv", monkeypatch)


def test_auto_qwk_on_class_probabilities_writes_classes_and_prints_their_order(folders, monkeypatch):
    folder = folders["multiclass"]
    result = run(
        folder,
        "auto",
        "--metric",
        "qwk",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    assert "qwk class order: 0, 1, 2, 3, 4, 5, ..." in result.stderr or "qwk class order: 0, 1, 2" in result.stderr
    assert "cut-points" in result.stderr
    written = pd.read_csv("blends/auto.csv", dtype=str)
    assert set(written["digit"]) <= {str(c) for c in range(10)}
    check(folder, "blends/auto.csv", monkeypatch)


def test_auto_qwk_on_integer_grades_writes_integer_grades(folders, monkeypatch):
    folder = folders["grades"]
    result = run(
        folder,
        "auto",
        "--metric",
        "qwk",
        "--task",
        "regression",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        "--report",
        "blends/auto.json",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    assert "qwk classes: 1, 2, 3, 4, 5" in result.stderr
    import json

    step = json.loads(Path("blends/auto.json").read_text())["step"]
    assert step["step"] == "cutpoints" and len(step["cuts"]) == 4 and step["cuts"] == sorted(step["cuts"])
    assert step["oof_with_step"] >= step["oof_plain_step"]
    written = pd.read_csv("blends/auto.csv")
    assert written["grade"].dtype.kind == "i" and set(written["grade"]) <= {1, 2, 3, 4, 5}
    truth = pd.read_csv("test_truth.csv").set_index("id")["grade"].loc[written["id"]]
    assert sk.cohen_kappa_score(truth, written["grade"], weights="quadratic") > 0.5
    check(folder, "blends/auto.csv", monkeypatch)


def test_auto_rmsle_writes_values_clipped_at_zero(folders, monkeypatch):
    folder = folders["regression"]
    result = run(
        folder,
        "auto",
        "--metric",
        "rmsle",
        "--task",
        "regression",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv("blends/auto.csv")
    assert (written["progression"] >= 0).all()
    check(folder, "blends/auto.csv", monkeypatch)


PLUGIN = """
import numpy as np


def brier(y_true, y_pred):
    return float(np.mean((y_pred - y_true) ** 2))


def flipped(y_true, y_pred):
    return -float(np.mean((y_pred - y_true) ** 2))


flipped.greater_is_better = True


def broken(y_true, y_pred):
    raise KeyError("no such column")


def not_a_number(y_true, y_pred):
    return float("nan")


def text(y_true, y_pred):
    return "good"
"""


@pytest.fixture
def plugin_file(tmp_path):
    path = tmp_path / "my_metric.py"
    path.write_text(PLUGIN)
    path.with_suffix(".txt").write_text(PLUGIN)  # the same code under a name Python does not import
    return path


def test_auto_with_a_plugin_equals_the_builtin_it_copies(folders, monkeypatch, plugin_file):
    folder = folders["binary"]
    result = run(
        folder,
        "score",
        "--metric",
        f"{plugin_file}:brier",
        "--smaller-is-better",
        "--models-only",
        "-o",
        "blends/plugin.csv",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    assert "your function will be called about" in result.stderr
    builtin = run(
        folder, "score", "--metric", "brier", "--models-only", "-o", "blends/builtin.csv", monkeypatch=monkeypatch
    )
    assert builtin.exit_code == 0, builtin.output
    ours, theirs = pd.read_csv("blends/plugin.csv"), pd.read_csv("blends/builtin.csv")
    np.testing.assert_allclose(ours["score"], theirs["score"], rtol=0, atol=1e-12)
    auto = run(
        folder,
        "auto",
        "--metric",
        f"{plugin_file}:flipped",
        "--sample",
        "sample_submission.csv",
        "--repeats",
        "1",
        "--max-level",
        "1",
        monkeypatch=monkeypatch,
    )
    assert auto.exit_code == 0, auto.output
    check(folder, "blends/auto.csv", monkeypatch)


def test_score_with_a_threshold_equals_a_hand_written_fold_loop(folders, monkeypatch):
    """Each fold's F1: the threshold fitted on the other folds (the best F1 there, ties nearest 0.5), then scored."""
    folder = folders["binary"]
    result = run(
        folder,
        "score",
        "--metric",
        "f1",
        "--positive",
        "M",
        "--models-only",
        "-o",
        "blends/board.csv",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    board = pd.read_csv("blends/board.csv").set_index("name")
    truth = pd.read_csv("data/train_labels.csv").set_index("id")["diagnosis"]
    folds = pd.read_csv("data/folds.csv").set_index("id")["fold"]
    for name in ("logreg", "knn", "rf"):
        oof = pd.read_csv(f"submissions/oof/{name}.csv").set_index("id")["diagnosis"]
        y = (truth.loc[oof.index] == "M").to_numpy()
        p, fold_of = oof.to_numpy(), folds.loc[oof.index].to_numpy()
        scores = []
        for fold in range(5):
            fit, held = fold_of != fold, fold_of == fold
            values = np.unique(p[fit])[::-1]
            candidates = np.r_[values[0], (values[:-1] + values[1:]) / 2, np.nextafter(values[-1], -np.inf)]
            f1s = np.array([sk.f1_score(y[fit], p[fit] > t) for t in candidates])
            near = candidates[f1s >= f1s.max() - 1e-12]
            threshold = near[np.argmin(np.abs(near - 0.5))]
            scores.append(sk.f1_score(y[held], p[held] > threshold))
        assert board.loc[name, "score"] == pytest.approx(np.mean(scores), abs=1e-9)


def test_the_zoo_table_scores_by_the_metric(tmp_path):
    from models.oof import metric_score

    y = np.array([0, 1, 1, 0, 1])
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8]])
    # The positive at 0.4 sits below the negative at 0.45: the best threshold (below 0.4) calls four rows
    # positive, three rightly: F1 = 6/7, where 0.5 gives 2 of 3 positives, F1 = 0.8.
    assert metric_score(y, probabilities, "binary", "f1") == pytest.approx(6 / 7, abs=1e-15)
    assert sk.f1_score(y, probabilities[:, 1] > 0.5) == pytest.approx(0.8)
    assert metric_score(y, probabilities, "binary", "auc") == pytest.approx(sk.roc_auc_score(y, probabilities[:, 1]))


# ---------------------------------------------------------------------------- bad input: one line, exit 1, no output


def _bad_cases(plugin: Path):
    return {
        "unknown metric": ("binary", ["--metric", "f2"], "--metric f2: unknown metric 'f2'; expected one of logloss, "),
        "metric of another kind": (
            "multiclass",
            ["--metric", "f1"],
            "--metric f1: f1 suits binary probabilities, not class probabilities",
        ),
        "plug-in file missing": (
            "binary",
            ["--metric", "nowhere.py:f", "--greater-is-better"],
            "--metric nowhere.py:f: nowhere.py not found",
        ),
        "plug-in file not Python": (
            "binary",
            ["--metric", f"{plugin.with_suffix('.txt')}:brier", "--greater-is-better"],
            f"--metric {plugin.with_suffix('.txt')}:brier: {plugin.with_suffix('.txt')} is not a Python file",
        ),
        "plug-in function missing": (
            "binary",
            ["--metric", f"{plugin}:absent", "--greater-is-better"],
            f"--metric {plugin}:absent: {plugin} has no function absent",
        ),
        "plug-in raises": (
            "binary",
            ["--metric", f"{plugin}:broken", "--greater-is-better"],
            f"--metric {plugin}:broken: the function raised KeyError",
        ),
        "plug-in returns NaN": (
            "binary",
            ["--metric", f"{plugin}:not_a_number", "--greater-is-better"],
            "it must return a finite number",
        ),
        "plug-in returns text": ("binary", ["--metric", f"{plugin}:text", "--greater-is-better"], "not a number"),
        "plug-in without a direction": (
            "binary",
            ["--metric", f"{plugin}:brier"],
            "is greater better? Pass --greater-is-better or --smaller-is-better",
        ),
        "map@K above the classes": ("multiclass", ["--metric", "map@11"], "--metric map@11: map@11: K must be 1 to 10"),
        "map@K of more classes than the files have": (
            "three classes",
            ["--metric", "map@5"],
            "map@5 ranks 5 classes, and the files have 3",
        ),
        "a class name with a space": ("spaced classes", ["--metric", "map@2"], "class 'class one' holds a space"),
        "--classes not the truth's": (
            "multiclass",
            ["--metric", "qwk", "--classes", "0,1,2"],
            "--classes 0,1,2 must list each of the truth's classes once",
        ),
        "--classes for a metric without order": (
            "multiclass",
            ["--metric", "accuracy", "--classes", "0,1"],
            "--classes orders the classes of qwk",
        ),
        "rmsle on a negative truth": (
            "negative truth",
            ["--metric", "rmsle", "--task", "regression"],
            "rmsle takes log(1 + y), and the truth holds",
        ),
        "qwk on a truth of fractions": (
            "regression fractions",
            ["--metric", "qwk", "--task", "regression"],
            "qwk on regression needs whole-number targets",
        ),
        "a sample the decisions cannot take": (
            "multiclass",
            ["--metric", "qwk", "--sample", "wide_sample.csv"],
            "writes one column of decisions; pass --no-post",
        ),
        "a direction for a built-in": (
            "binary",
            ["--metric", "auc", "--greater-is-better"],
            "--greater-is-better: auc has its own direction",
        ),
    }


def _small_folder(root: Path, case: str) -> Path:
    """Tiny folders for the cases the real ones cannot show."""
    (root / "submissions" / "oof").mkdir(parents=True)
    (root / "data").mkdir()
    rng = np.random.default_rng(0)
    n = 40
    ids = [f"r{i}" for i in range(n)]
    if case in ("three classes", "spaced classes"):
        columns = ["a", "b", "class one"] if case == "spaced classes" else ["a", "b", "c"]
        for name in ("m1", "m2"):
            for path in (root / "submissions" / f"{name}.csv", root / "submissions" / "oof" / f"{name}.csv"):
                frame = pd.DataFrame(rng.dirichlet(np.ones(3), n), columns=columns)
                frame.insert(0, "id", ids)
                frame.to_csv(path, index=False)
        pd.DataFrame({"id": ids, "label": np.array(columns, dtype=object)[np.arange(n) % 3]}).to_csv(
            root / "data" / "train_labels.csv", index=False
        )
        return root
    truth = rng.normal(size=n) if case == "negative truth" else rng.normal(5, 1, size=n)
    for name in ("m1", "m2"):
        for path in (root / "submissions" / f"{name}.csv", root / "submissions" / "oof" / f"{name}.csv"):
            pd.DataFrame({"id": ids, "y": truth + rng.normal(size=n)}).to_csv(path, index=False)
    pd.DataFrame({"id": ids, "y": truth}).to_csv(root / "data" / "train_labels.csv", index=False)
    return root


@pytest.mark.parametrize("case", sorted(_bad_cases(Path("my_metric.py"))))
def test_bad_metric_input_exits_1_with_one_error_line_and_writes_nothing(
    folders, tmp_path, monkeypatch, plugin_file, case
):
    where, args, fragment = _bad_cases(plugin_file)[case]
    folder = folders.get(where) or _small_folder(tmp_path / "small", where)
    if "--sample" in args:
        monkeypatch.chdir(folder)
        columns = [str(c) for c in range(10)]
        wide = pd.read_csv("submissions/knn.csv")[["id", *columns]]
        wide.to_csv("wide_sample.csv", index=False)
    out = tmp_path / "out" / "blend.csv"
    out.parent.mkdir()
    out.write_text(PREVIOUS)
    result = run(folder, "caruana", *args, "-o", out, monkeypatch=monkeypatch)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    # The option is named once, and the sentence ends once (a plug-in's message is not wrapped again).
    assert errors[0].count("--metric ") <= 1 and not errors[0].endswith(".."), errors[0]
    assert out.read_text() == PREVIOUS and sorted(p.name for p in out.parent.iterdir()) == ["blend.csv"]
    assert not (Path(folder) / "blends" / "oof" / "blend.csv").exists()

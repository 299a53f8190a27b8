"""Each learner family on tiny data, end to end: python -m models oof writes valid contract files."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from models import cnn
from models.cli import main


def _kaggle_folder(tmp_path, *, n_classes=3, regression=False):
    """300 rows of well separated blobs, with a text column and a missing value thrown in."""
    X, y = make_blobs(n_samples=360, centers=n_classes, n_features=4, cluster_std=1.0, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame.insert(0, "id", np.arange(1000, 1360))
    frame["shade"] = np.where(X[:, 0] > 0, "dark", "light")
    frame.loc[5, "b"] = np.nan
    frame["target"] = X[:, 0] * 2 + X[:, 1] if regression else y
    folder = tmp_path / "blobs"
    folder.mkdir()
    frame.iloc[:300].to_csv(folder / "train.csv", index=False)
    frame.iloc[300:].drop(columns="target").to_csv(folder / "test.csv", index=False)
    return folder, frame


def _check_contract_files(root, name, *, train_ids, test_ids, columns, probabilities):
    """Both files read back with pandas: ids, columns, and for classes rows in [0, 1] summing to 1."""
    test = pd.read_csv(root / "submissions" / f"{name}.csv")
    oof = pd.read_csv(root / "submissions" / "oof" / f"{name}.csv")
    for frame, ids in ((test, test_ids), (oof, train_ids)):
        assert list(frame.columns) == ["id", *columns]
        assert sorted(frame["id"]) == sorted(ids)  # every id exactly once
        values = frame[columns].to_numpy()
        assert np.isfinite(values).all()
        if probabilities:
            assert values.min() >= 0.0 and values.max() <= 1.0
            if len(columns) > 1:
                np.testing.assert_allclose(values.sum(axis=1), 1.0, atol=1e-12)
    return oof


def _oof_accuracy(oof, labels, columns):
    merged = oof.merge(labels, on="id")
    predicted = np.asarray(columns)[merged[columns].to_numpy().argmax(axis=1)].astype(int)
    return (predicted == merged["target"].to_numpy()).mean()


@pytest.mark.parametrize(
    "models",
    [
        pytest.param("rf", id="forests"),
        pytest.param("et", id="extra-trees"),
        pytest.param("gbm", id="gbm", marks=pytest.mark.slow),
        pytest.param("xgb", id="xgb", marks=pytest.mark.slow),
        pytest.param("lgbm", id="lgbm", marks=pytest.mark.slow),
        pytest.param("catboost", id="catboost", marks=pytest.mark.slow),
        pytest.param("knn", id="knn"),
        pytest.param("logreg", id="logreg"),
    ],
)
def test_tabular_learners_write_contract_files(tmp_path, models, capsys):
    folder, frame = _kaggle_folder(tmp_path)
    root = tmp_path / "out"
    assert (
        main(["oof", "--models", models, "--data", str(folder), "--root", str(root), "--folds", "3", "--jobs", "2"])
        == 0
    )
    names = sorted(path.stem for path in (root / "submissions").glob("*.csv"))
    assert names, "no submission written"
    labels = pd.read_csv(root / "data" / "train_labels.csv")
    assert list(labels.columns) == ["id", "target"] and labels["id"].tolist() == list(range(1000, 1300))
    for name in names:
        oof = _check_contract_files(
            root,
            name,
            train_ids=range(1000, 1300),
            test_ids=range(1300, 1360),
            columns=["0", "1", "2"],
            probabilities=True,
        )
        # The blobs are well apart: every family must separate them out of fold.
        assert _oof_accuracy(oof, labels, ["0", "1", "2"]) > 0.9, name
    folds = pd.read_csv(root / "data" / "folds.csv")
    assert np.bincount(folds["fold"]).tolist() == [100, 100, 100]
    stderr = capsys.readouterr().err
    assert f"[{names[0]}] fold 3/3  acc " in stderr and "accuracy" in stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lgbm", "catboost"])
def test_boosters_repeat_with_a_seed_and_change_with_another(tmp_path, name):
    folder, _ = _kaggle_folder(tmp_path)
    outputs = {}
    for run, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        root = tmp_path / run
        assert (
            main(
                [
                    "oof",
                    "--models",
                    name,
                    "--data",
                    str(folder),
                    "--root",
                    str(root),
                    "--folds",
                    "3",
                    "--seed",
                    seed,
                    "--jobs",
                    "2",
                ]
            )
            == 0
        )
        outputs[run] = [
            (root / "submissions" / f"{name}.csv").read_bytes(),
            (root / "submissions" / "oof" / f"{name}.csv").read_bytes(),
        ]
    assert outputs["a"] == outputs["b"]  # the same bytes: deterministic with a seed
    assert outputs["a"] != outputs["c"]  # another seed: other folds and other models
    # On the same rows, the model's own seed matters too (row and column subsampling).
    from models import classic
    from models.data import load_dataset
    from models.problem import Problem

    data = load_dataset(str(folder))
    build = {"lgbm": classic.make_lightgbm, "catboost": classic.make_catboost}[name]
    fitted = [build(Problem("multiclass", 3, (5,), seed)).fit(data.native_train, data.y_train)
              .predict_proba(data.native_test) for seed in (0, 0, 1)]  # fmt: skip
    np.testing.assert_array_equal(fitted[0], fitted[1])
    assert np.abs(fitted[0] - fitted[2]).max() > 1e-6


def _categorical_folder(tmp_path, n_levels=40):
    """The target is a random function of a text column with 40 levels (too many to one-hot), plus one noise number."""
    rng = np.random.default_rng(1)
    class_of_level = rng.integers(0, 2, n_levels)
    levels = rng.integers(0, n_levels, 600)
    frame = pd.DataFrame({"id": np.arange(600), "noise": rng.normal(size=600), "town": [f"town_{k}" for k in levels]})
    frame.loc[7, "town"] = np.nan
    frame["target"] = class_of_level[levels]
    folder = tmp_path / "towns"
    folder.mkdir()
    frame.iloc[:500].to_csv(folder / "train.csv", index=False)
    frame.iloc[500:].drop(columns="target").to_csv(folder / "test.csv", index=False)
    return folder


@pytest.mark.slow
def test_boosters_treat_text_columns_as_categories(tmp_path):
    from models import classic
    from models.data import load_dataset
    from models.problem import Problem

    data = load_dataset(str(_categorical_folder(tmp_path)))
    assert list(data.native_train.columns) == ["noise", "town"] and data.native_train["town"].iloc[7] == "nan"
    problem = Problem(task="binary", n_classes=2, input_shape=(2,), seed=0)
    lightgbm_model = classic.make_lightgbm(problem).fit(data.native_train, data.y_train)
    catboost_model = classic.make_catboost(problem).fit(data.native_train, data.y_train)
    # Each library was told which column is categorical, in its own way.
    assert lightgbm_model.model.booster_.pandas_categorical == [sorted(data.native_train["town"].unique())]
    assert catboost_model.model.get_cat_feature_indices() == [1]
    for model in (lightgbm_model, catboost_model):
        probabilities = model.predict_proba(data.native_test)
        assert probabilities.shape == (100, 2) and np.isfinite(probabilities).all()
    # Out of fold, the town alone decides the class.
    root = tmp_path / "out"
    assert (
        main(
            [
                "oof",
                "--models",
                "lgbm catboost",
                "--data",
                str(tmp_path / "towns"),
                "--root",
                str(root),
                "--folds",
                "3",
                "--jobs",
                "2",
            ]
        )
        == 0
    )
    labels = pd.read_csv(root / "data" / "train_labels.csv")
    for name in ("lgbm", "catboost"):
        oof = pd.read_csv(root / "submissions" / "oof" / f"{name}.csv").merge(labels, on="id", suffixes=("", "_truth"))
        assert ((oof["target"] > 0.5) == (oof["target_truth"] == 1)).mean() > 0.9, name


def test_binary_target_gets_one_probability_column(tmp_path):
    folder, frame = _kaggle_folder(tmp_path, n_classes=2)
    root = tmp_path / "out"
    assert main(["oof", "--models", "logreg et_gini", "--data", str(folder), "--root", str(root), "--folds", "3"]) == 0
    for name in ("logreg", "et_gini"):
        oof = _check_contract_files(
            root, name, train_ids=range(1000, 1300), test_ids=range(1300, 1360), columns=["target"], probabilities=True
        )
        truth = frame.set_index("id").loc[oof["id"], "target"].to_numpy()
        assert ((oof["target"].to_numpy() > 0.5) == (truth == 1)).mean() > 0.9


def test_regression_target_gets_one_value_column(tmp_path):
    folder, frame = _kaggle_folder(tmp_path, regression=True)
    root = tmp_path / "out"
    assert main(["oof", "--models", "logreg rf_gini", "--data", str(folder), "--root", str(root), "--folds", "3"]) == 0
    oof = _check_contract_files(
        root, "logreg", train_ids=range(1000, 1300), test_ids=range(1300, 1360), columns=["target"], probabilities=False
    )
    truth = frame.set_index("id").loc[oof["id"], "target"].to_numpy()
    # The target is linear in the features: ridge regression gets it almost exactly.
    assert np.sqrt(np.mean((oof["target"].to_numpy() - truth) ** 2)) < 0.1 * truth.std()


def test_holdout_writes_predictions_for_the_holdout_rows_only(tmp_path):
    folder, _ = _kaggle_folder(tmp_path)
    root = tmp_path / "out"
    assert (
        main(["holdout", "--models", "logreg", "--data", str(folder), "--root", str(root), "--holdout-fraction", "0.2"])
        == 0
    )
    holdout = pd.read_csv(root / "submissions" / "holdout" / "logreg.csv")
    labels = pd.read_csv(root / "data" / "train_labels.csv")
    assert list(holdout.columns) == ["id", "0", "1", "2"] and len(holdout) == 60
    assert set(holdout["id"]) <= set(labels["id"]) and holdout["id"].is_unique
    assert _oof_accuracy(holdout, labels, ["0", "1", "2"]) > 0.9


def _image_npz(tmp_path, *, n_rows=160, n_classes=3):
    """Tiny 8x8 images: class k is a bright bar in row band k, plus noise."""
    rng = np.random.default_rng(0)
    y = np.arange(n_rows) % n_classes
    images = rng.random((n_rows, 8, 8)) * 0.3
    for row, label in enumerate(y):
        images[row, 2 * label : 2 * label + 2, :] += 0.7
    path = tmp_path / "bars.npz"
    np.savez(path, x_train=images[:120], y_train=y[:120], x_test=images[120:])
    return path


@pytest.mark.slow
def test_cnns_write_contract_files_after_one_epoch(tmp_path):
    path = _image_npz(tmp_path)
    root = tmp_path / "out"
    assert (
        main(["oof", "--models", "cnn", "--data", str(path), "--root", str(root), "--folds", "2", "--epochs", "1"]) == 0
    )
    for name in ("cnn_convpool", "cnn_allconv", "cnn_nin", "cnn_bn", "cnn_separable"):
        _check_contract_files(
            root, name, train_ids=range(120), test_ids=range(120, 160), columns=["0", "1", "2"], probabilities=True
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_model",
    [cnn.make_convpool_cnn, cnn.make_all_conv_cnn, cnn.make_nin_cnn, cnn.make_batchnorm_cnn, cnn.make_separable_cnn],
)
@pytest.mark.parametrize(
    ("input_shape", "num_classes", "units"), [((8, 8, 1), 10, 10), ((32, 32, 3), 2, 1), ((12, 12, 1), 1, 1)]
)
def test_cnn_builders_scale_to_the_input_and_pick_the_head(make_model, input_shape, num_classes, units):
    model = make_model(input_shape, num_classes, augment=num_classes == 10)
    images = np.random.default_rng(0).random((3, *input_shape)).astype("float32")
    outputs = np.asarray(model(images, training=False))
    assert outputs.shape == (3, units)
    if num_classes == 10:
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)
    if num_classes == 2:
        assert ((outputs > 0) & (outputs < 1)).all()
    # Small images get one down-sampling stage: the last feature maps are 4x4, not 2x2.
    if input_shape[0] == 8:
        smallest = min(layer.output.shape[1] for layer in model.layers if len(layer.output.shape) == 4)
        assert smallest == 4


@pytest.mark.slow
def test_cnn_learns_the_bars_well_out_of_fold(tmp_path):
    path = _image_npz(tmp_path, n_rows=240)
    root = tmp_path / "out"
    assert (
        main(["oof", "--models", "cnn_bn", "--data", str(path), "--root", str(root), "--folds", "3", "--epochs", "15"])
        == 0
    )
    oof = pd.read_csv(root / "submissions" / "oof" / "cnn_bn.csv")
    labels = pd.read_csv(root / "data" / "train_labels.csv")
    assert _oof_accuracy(oof, labels, ["0", "1", "2"]) > 0.9

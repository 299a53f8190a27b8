"""Extra files from one learner: TTA views and snapshots of the CNNs, and refitted test predictions."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models import classic, cnn
from models.cli import main
from models.data import Dataset
from models.oof import run_oof
from models.problem import Problem
from models.registry import LEARNERS


def _bars(n_rows=90, n_classes=3, seed=0):
    """Tiny 8x8 images: class k is a bright bar in row band k, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_rows) % n_classes
    images = (rng.random((n_rows, 8, 8, 1)) * 0.3).astype("float32")
    for row, label in enumerate(y):
        images[row, 2 * label : 2 * label + 2] += 0.7
    return images, y


def _linear_model(input_shape, num_classes, *, augment=False, width=None):
    """The tiniest CNN stand-in: pixels -> softmax, so its outputs can be computed by hand."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    outputs = layers.Dense(num_classes, activation="softmax")(layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def _by_hand(weights, images):
    """softmax(flatten(images) @ W + b) in numpy."""
    kernel, bias = weights
    logits = images.reshape(len(images), -1).astype(np.float64) @ kernel + bias
    logits -= logits.max(axis=1, keepdims=True)
    return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_shifts_move_pixels_and_fill_with_zero():
    image = np.arange(9.0).reshape(1, 3, 3, 1)
    assert cnn.shift_images(image, 1, 0)[0, :, :, 0].tolist() == [[0, 0, 0], [0, 1, 2], [3, 4, 5]]
    assert cnn.shift_images(image, 0, -1)[0, :, :, 0].tolist() == [[1, 2, 0], [4, 5, 0], [7, 8, 0]]
    assert cnn.tta_shifts(5) == [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0)]
    with pytest.raises(ValueError, match="--tta 1: give 2 to 9 views"):
        cnn.tta_shifts(1)


@pytest.mark.slow
def test_tta_is_the_mean_over_the_shifted_views():
    images, y = _bars()
    problem = Problem(task="multiclass", n_classes=3, input_shape=(8, 8, 1), seed=0, epochs=2, tta=4)
    learner = cnn.KerasLearner(_linear_model, problem).fit(images, y)
    variants = learner.predict_variants(images[:10])
    assert list(variants) == ["", "_tta"]
    weights = learner.model.get_weights()
    views = [_by_hand(weights, cnn.shift_images(images[:10], *shift)) for shift in [(0, 0), (0, 1), (0, -1), (1, 0)]]
    np.testing.assert_allclose(variants[""], views[0], atol=1e-6)
    np.testing.assert_allclose(variants["_tta"], (views[0] + views[1] + views[2] + views[3]) / 4, atol=1e-6)
    assert np.abs(variants["_tta"] - variants[""]).max() > 1e-4  # the shifts changed something


@pytest.mark.slow
def test_snapshots_are_taken_at_each_cycle_end_and_averaged():
    images, y = _bars()
    problem = Problem(task="multiclass", n_classes=3, input_shape=(8, 8, 1), seed=0, epochs=6, snapshots=3)
    learner = cnn.KerasLearner(_linear_model, problem).fit(images, y)
    # Three cycles of 2 epochs each, from Keras' own warm-restart schedule.
    import keras

    assert learner.epochs_trained == 6 and len(learner.snapshots) == 3
    schedule = learner.model.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecayRestarts)
    steps_per_cycle = 2 * int(np.ceil(81 / cnn.batch_size))  # 81 rows after the early-stopping slice of 9
    assert float(schedule(steps_per_cycle)) == pytest.approx(cnn.learning_rate)  # a restart at the full rate
    variants = learner.predict_variants(images[:10])
    assert list(variants) == ["", "_snap1", "_snap2", "_snapmean"]
    by_hand = [_by_hand(weights, images[:10]) for weights in learner.snapshots]
    np.testing.assert_allclose(variants["_snap1"], by_hand[0], atol=1e-6)
    np.testing.assert_allclose(variants["_snap2"], by_hand[1], atol=1e-6)
    np.testing.assert_allclose(variants[""], by_hand[2], atol=1e-6)
    np.testing.assert_allclose(variants["_snapmean"], (by_hand[0] + by_hand[1] + by_hand[2]) / 3, atol=1e-6)
    assert np.abs(by_hand[0] - by_hand[2]).max() > 1e-4


@pytest.mark.slow
def test_tta_and_snapshot_files_on_the_shared_folds(tmp_path):
    images, y = _bars(n_rows=160)
    np.savez(tmp_path / "bars.npz", x_train=images[:120, :, :, 0], y_train=y[:120], x_test=images[120:, :, :, 0])
    root = tmp_path / "out"
    arguments = ["oof", "--models", "cnn_bn", "--data", str(tmp_path / "bars.npz"), "--root", str(root), "--folds", "2"]
    assert main([*arguments, "--epochs", "2", "--tta", "3", "--snapshots", "2", "--jobs", "2"]) == 0
    folds = pd.read_csv(root / "data" / "folds.csv")
    for name in ("cnn_bn", "cnn_bn_tta", "cnn_bn_snap1", "cnn_bn_snapmean"):
        test = pd.read_csv(root / "submissions" / f"{name}.csv")
        oof = pd.read_csv(root / "submissions" / "oof" / f"{name}.csv")
        assert list(oof.columns) == ["id", "0", "1", "2"] and sorted(oof["id"]) == sorted(folds["id"])
        assert sorted(test["id"]) == list(range(120, 160))
        np.testing.assert_allclose(oof.iloc[:, 1:].sum(axis=1), 1.0, atol=1e-12)
    # The snapshot mean is the mean of the two snapshots, row by row (the last one is cnn_bn).
    files = {name: pd.read_csv(root / "submissions" / "oof" / f"{name}.csv").set_index("id").sort_index()
             for name in ("cnn_bn", "cnn_bn_snap1", "cnn_bn_snapmean")}  # fmt: skip
    np.testing.assert_allclose(files["cnn_bn_snapmean"], (files["cnn_bn"] + files["cnn_bn_snap1"]) / 2, atol=1e-9)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tta", "0"], "Error: --tta 0: give 2 to 9 views (the image and up to 8 one-pixel shifts).\n"),
        (["--tta", "10"], "Error: --tta 10: give 2 to 9 views"),
        (["--snapshots", "1"], "Error: --snapshots 1: give 2 or more cosine cycles (one snapshot each).\n"),
    ],
)
def test_bad_tta_and_snapshots(tmp_path, capsys, arguments, message):
    assert main(["oof", "--models", "logreg", "--data", "digits", "--root", str(tmp_path / "out"), *arguments]) == 1
    stderr = capsys.readouterr().err
    assert stderr.startswith(message) and stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def _noise(n_rows=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 4))
    y = (X[:, 0] + rng.normal(size=n_rows) > 0).astype(int) + (X[:, 1] > 0.5)
    return Dataset(
        name="noise", task="multiclass", X_train=X, y_train=y, X_test=rng.normal(size=(20, 4)),
        ids_train=np.arange(n_rows), ids_test=np.arange(n_rows, n_rows + 20), classes=np.arange(3),
    )  # fmt: skip


def test_refit_predicts_the_test_rows_with_one_model_on_all_rows():
    data = _noise()
    quiet = dict(n_folds=3, seed=0, log=lambda line: None)
    lines = []
    plain = run_oof([LEARNERS["logreg"]], data, **quiet)["logreg"]
    refitted = run_oof([LEARNERS["logreg"]], data, refit=True, **{**quiet, "log": lines.append})["logreg"]
    np.testing.assert_array_equal(refitted.oof, plain.oof)  # OOF files unchanged
    np.testing.assert_array_equal(refitted.fold_average_test, plain.test)
    by_hand = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(data.X_train, data.y_train)
    np.testing.assert_allclose(refitted.test, by_hand.predict_proba(data.X_test), atol=1e-12)
    assert lines[-1].startswith("[logreg] refit on all 150 rows")


def test_a_refit_boosts_k_over_k_minus_1_times_the_rounds():
    problem = Problem(task="multiclass", n_classes=3, input_shape=(4,), seed=0)
    refit = replace(problem, rounds_scale=5 / 4)
    assert classic.make_lightgbm(refit).model.n_estimators == 375
    assert classic.make_xgboost(refit).n_estimators == 375
    assert classic.make_catboost(refit).model.get_params()["iterations"] == 250
    assert classic.make_lightgbm(problem).model.n_estimators == 300

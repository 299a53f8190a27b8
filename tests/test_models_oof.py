"""Tests for models.oof: no leakage, one fold assignment for all learners, honest averages."""

from functools import partial

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from models import classic
from models.data import Dataset
from models.oof import assign_folds, format_scores, run_holdout, run_oof, score, split_holdout
from models.registry import LEARNERS, Learner, ModelsError

# 1-nearest neighbour memorises its training rows: perfect in-sample, so any row
# that leaked into its own fold's model would be predicted perfectly too.
ONE_NN = Learner("knn_1", partial(classic.make_knn, n_neighbors=1))


def _random_label_data(n_rows=300, n_classes=3, seed=0):
    """Unique rows with labels that have nothing to do with them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 5))
    y = rng.integers(0, n_classes, n_rows)
    return Dataset(
        name="noise", task="multiclass", X_train=X, y_train=y, X_test=rng.normal(size=(20, 5)),
        ids_train=np.arange(n_rows), ids_test=np.arange(n_rows, n_rows + 20), classes=np.arange(n_classes),
    )  # fmt: skip


def test_oof_predictions_come_from_models_that_did_not_see_the_row():
    data = _random_label_data()
    results = run_oof([ONE_NN], data, n_folds=5, seed=0, log=lambda line: None)
    result = results["knn_1"]

    # In-sample, 1-NN is perfect; out of fold, labels are noise, so about a third.
    in_sample = KNeighborsClassifier(n_neighbors=1).fit(data.X_train, data.y_train).predict(data.X_train)
    assert (in_sample == data.y_train).mean() == 1.0
    oof_accuracy = score(data.y_train, result.oof, data.task)["accuracy"]
    assert oof_accuracy < 0.5

    # Exactly: each row's OOF label is its nearest neighbour among the other folds' rows.
    # (The learner scales the features, so the check uses the same pipeline.)
    for fold in range(5):
        held_out = result.folds == fold
        model = classic.make_knn(problem_of(), n_neighbors=1).fit(data.X_train[~held_out], data.y_train[~held_out])
        np.testing.assert_array_equal(result.oof[held_out].argmax(axis=1), model.predict(data.X_train[held_out]))


def problem_of():
    from models.problem import Problem

    return Problem(task="multiclass", n_classes=3, input_shape=(5,), seed=0)


def test_every_learner_is_scored_on_the_same_folds():
    # The folds a learner's OOF rows came from, read from its predictions alone: for
    # logistic regression, refit the model of each candidate fold and see which one
    # reproduces the row. A loop that drew new folds per learner would fail this.
    data = _random_label_data(n_rows=250, n_classes=4)
    learners = [ONE_NN, LEARNERS["logreg"], LEARNERS["knn_5"]]
    results = run_oof(learners, data, n_folds=5, seed=3, log=lambda line: None, n_jobs=2)
    expected = assign_folds(data.y_train, data.task, n_folds=5, seed=3)
    for name in ("knn_1", "logreg", "knn_5"):
        np.testing.assert_array_equal(results[name].folds, expected)
    for learner in learners:
        for fold in range(5):
            held_out = expected == fold
            model = learner.build(problem_of()).fit(data.X_train[~held_out], data.y_train[~held_out])
            np.testing.assert_allclose(
                results[learner.name].oof[held_out], model.predict_proba(data.X_train[held_out]), atol=1e-12
            )
    # Every row is held out exactly once, and stratified: each class as evenly as possible.
    assert sorted(np.unique(expected)) == [0, 1, 2, 3, 4]
    for label in range(4):
        per_fold = np.bincount(expected[data.y_train == label], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1


def test_folds_depend_on_the_seed_only():
    y = np.repeat([0, 1], 50)
    np.testing.assert_array_equal(assign_folds(y, "binary", seed=1), assign_folds(y, "binary", seed=1))
    assert not np.array_equal(assign_folds(y, "binary", seed=1), assign_folds(y, "binary", seed=2))
    regression_folds = assign_folds(np.linspace(0, 1, 10), "regression", n_folds=5, seed=0)
    assert np.bincount(regression_folds).tolist() == [2, 2, 2, 2, 2]


def test_test_predictions_are_the_mean_of_the_fold_models():
    data = _random_label_data(n_rows=120)
    result = run_oof([LEARNERS["logreg"]], data, n_folds=3, seed=0, log=lambda line: None)["logreg"]
    expected = np.zeros((20, 3))
    for fold in range(3):
        model = classic.make_logistic_regression(problem_of()).fit(
            data.X_train[result.folds != fold], data.y_train[result.folds != fold]
        )
        expected += model.predict_proba(data.X_test) / 3
    np.testing.assert_allclose(result.test, expected, rtol=1e-10)
    np.testing.assert_allclose(result.oof.sum(axis=1), 1.0, rtol=1e-12)


def test_progress_lines_and_score_table():
    data = _random_label_data(n_rows=60)
    lines = []
    results = run_oof([ONE_NN, LEARNERS["logreg"]], data, n_folds=3, seed=0, log=lines.append)
    assert len(lines) == 6
    assert all(line.startswith(("[knn_1] fold ", "[logreg] fold ")) and " acc " in line for line in lines)
    table = format_scores(results, data.y_train, data.task).splitlines()
    assert table[0].split() == ["model", "accuracy", "logloss", "seconds"]
    assert {row.split()[0] for row in table[2:]} == {"knn_1", "logreg"}
    for row in table[2:]:
        name, accuracy, logloss, _ = row.split()
        expected = score(data.y_train, results[name].oof, data.task)
        assert float(accuracy) == pytest.approx(expected["accuracy"], abs=1e-6)
        assert float(logloss) == pytest.approx(expected["logloss"], abs=1e-6)


def test_holdout_predictions_come_from_a_model_without_those_rows():
    data = _random_label_data(n_rows=200)
    holdout_rows, predictions = run_holdout([ONE_NN], data, fraction=0.25, seed=0, log=lambda line: None)
    assert len(holdout_rows) == 50
    fit_rows, same_rows = split_holdout(data.y_train, data.task, fraction=0.25, seed=0)
    np.testing.assert_array_equal(same_rows, holdout_rows)
    assert set(fit_rows).isdisjoint(holdout_rows)
    # A 1-NN that had seen them would be perfect; this one is near chance.
    assert (predictions["knn_1"].argmax(axis=1) == data.y_train[holdout_rows]).mean() < 0.5


def test_score_regression_and_bad_fold_counts():
    assert score(np.array([1.0, 3.0]), np.array([2.0, 2.0]), "regression") == {"rmse": 1.0}
    with pytest.raises(ModelsError, match="the rarest class has only 2 rows"):
        assign_folds(np.array([0, 0, 1, 1, 1, 1]), "binary", n_folds=3)
    with pytest.raises(ModelsError, match="--holdout-fraction 1.5"):
        split_holdout(np.zeros(10), "regression", fraction=1.5)


# A forest's fit depends on its seed only: a deterministic learner for seed averaging.
FOREST = LEARNERS["rf_gini"]


def _shifted(learner, shift):
    """The same learner (same name, so the same seeds) whose models use seed + shift."""
    from dataclasses import replace

    def build(problem, *, _build=learner.build):
        return _build(replace(problem, seed=problem.seed + shift))

    return Learner(learner.name, build, learner.inputs)


def test_one_seed_equals_a_run_without_seed_averaging():
    data = _random_label_data(n_rows=90)
    plain = run_oof([FOREST], data, n_folds=3, seed=0, log=lambda line: None)["rf_gini"]
    one = run_oof([FOREST], data, n_folds=3, seed=0, seeds=1, log=lambda line: None)["rf_gini"]
    np.testing.assert_array_equal(one.oof, plain.oof)
    np.testing.assert_array_equal(one.test, plain.test)


def test_two_seeds_average_two_single_seed_runs():
    data = _random_label_data(n_rows=90)
    quiet = dict(n_folds=3, seed=5, log=lambda line: None)
    lines = []
    averaged = run_oof([FOREST], data, seeds=2, **{**quiet, "log": lines.append})["rf_gini"]
    first = run_oof([FOREST], data, **quiet)["rf_gini"]
    second = run_oof([_shifted(FOREST, 1)], data, **quiet)["rf_gini"]
    # The two replicas differ, so the average is not one of them.
    assert not np.allclose(first.oof, second.oof)
    np.testing.assert_allclose(averaged.oof, (first.oof + second.oof) / 2, rtol=0, atol=1e-15)
    np.testing.assert_allclose(averaged.test, (first.test + second.test) / 2, rtol=0, atol=1e-15)
    assert len(lines) == 6 and sum(" seed 2/2 " in line for line in lines) == 3


def test_holdout_with_two_seeds_averages_the_replicas():
    data = _random_label_data(n_rows=100)
    rows, averaged = run_holdout([FOREST], data, seeds=2, log=lambda line: None)
    _, first = run_holdout([FOREST], data, log=lambda line: None)
    _, second = run_holdout([_shifted(FOREST, 1)], data, log=lambda line: None)
    np.testing.assert_allclose(averaged["rf_gini"], (first["rf_gini"] + second["rf_gini"]) / 2, rtol=0, atol=1e-15)
    with pytest.raises(ModelsError, match="--seeds 0: give at least 1"):
        run_oof([FOREST], data, seeds=0)

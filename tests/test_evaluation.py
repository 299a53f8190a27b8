"""Tests for blender.evaluation: no row is ever scored by a blend fitted on it."""

import numpy as np
import pytest

from blender.evaluation import blend_methods, cross_val_blend_score, cv_folds, leaderboard, model_scores
from blender.metrics import score


def _binary(seed=0, n=100, n_models=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(0.5 + 0.25 * (2 * y - 1)[:, None] + rng.normal(0, 0.25, (n, n_models)), 0.01, 0.99)
    return oof, y


def test_no_row_is_predicted_by_a_blend_that_saw_it():
    oof, y = _binary()  # continuous values: each row is unique, so rows identify themselves
    seen = []

    def recorder(train, y_train, apply):
        seen.append(({row.tobytes() for row in train}, [row.tobytes() for row in apply]))
        return apply.mean(axis=1)

    cross_val_blend_score(recorder, oof, y, kind="binary", metric="logloss", cv=5, random_state=0)
    assert len(seen) == 5
    predicted = []
    for trained, applied in seen:
        assert trained.isdisjoint(applied)
        assert len(trained) + len(applied) == 100
        predicted += applied
    assert sorted(predicted) == sorted(row.tobytes() for row in oof)  # every row exactly once


def test_memorising_the_training_rows_gains_nothing():
    oof, y = _binary(1)

    def mean(train, y_train, apply):
        return apply.mean(axis=1)

    def memoriser(train, y_train, apply):
        truth = {row.tobytes(): float(label) for row, label in zip(train, y_train)}
        return np.array([truth.get(row.tobytes(), row.mean()) for row in apply])

    honest = cross_val_blend_score(mean, oof, y, kind="binary", metric="logloss", random_state=0)
    cheat = cross_val_blend_score(memoriser, oof, y, kind="binary", metric="logloss", random_state=0)
    assert cheat == honest
    # Scored on the rows it memorised, the same method would look perfect.
    assert score(y, memoriser(oof, y, oof), metric="logloss", kind="binary") < 1e-9


def test_unsupervised_method_scores_as_on_all_rows():
    oof, y = _binary(2)
    value = cross_val_blend_score(lambda train, y_train, apply: apply.mean(axis=1), oof, y, kind="binary",
                                  metric="auc", random_state=3)
    assert value == pytest.approx(score(y, oof.mean(axis=1), metric="auc", kind="binary"))


def test_folds_are_stratified_seeded_and_cover_every_row():
    y = np.array([0] * 20 + [1] * 10)
    first = cv_folds(y, kind="binary", folds=5, random_state=0)
    second = cv_folds(y, kind="binary", folds=5, random_state=0)
    for (train_a, held_a), (train_b, held_b) in zip(first, second):
        np.testing.assert_array_equal(held_a, held_b)
        assert y[held_a].sum() == 2 and len(held_a) == 6
    assert sorted(np.concatenate([held for _, held in first]).tolist()) == list(range(30))


def test_methods_per_kind():
    assert list(blend_methods("binary", "auc")) == [
        "best", "average", "geometric", "rank-average", "select", "caruana", "weights", "stack-logreg", "stack-ridge"]
    assert "rank-average" not in blend_methods("binary", "logloss")
    assert "geometric" not in blend_methods("regression")
    assert "vote" in blend_methods("labels") and "average" not in blend_methods("labels")


@pytest.mark.parametrize("metric", ["logloss", "auc", "accuracy"])
def test_leaderboard_binary_every_method_runs(metric):
    oof, y = _binary(3, n=80)
    rows = leaderboard(oof, y, kind="binary", metric=metric, names=["a", "b", "c", "d"], cv=3, random_state=0)
    assert [row.type for row in rows].count("model") == 4
    assert {row.name for row in rows if row.type == "blend"} == set(blend_methods("binary", metric))
    scores = [row.score for row in rows]
    assert scores == sorted(scores, reverse=metric != "logloss")
    singles = dict(zip("abcd", model_scores(oof, y, kind="binary", metric=metric)))
    assert all(row.score == singles[row.name] for row in rows if row.type == "model")


def test_leaderboard_multiclass_regression_and_labels():
    rng = np.random.default_rng(4)
    y = np.arange(60) % 3
    cube = rng.dirichlet(np.ones(3), (3, 60))
    cube[:, np.arange(60), y] += 1.0
    cube /= cube.sum(axis=2, keepdims=True)
    rows = leaderboard(cube, y, kind="multiclass", names=["a", "b", "c"], cv=3, random_state=0)
    assert len(rows) == 3 + len(blend_methods("multiclass"))
    values = rng.normal(size=(40, 3))
    rows = leaderboard(values, values.mean(axis=1), kind="regression", names=["a", "b", "c"], cv=3, random_state=0)
    assert rows[0].type == "blend" and rows[0].score < 1e-6  # the mean is the truth
    labels = np.array(["x", "y", "z"], dtype=object)[cube.argmax(axis=2).T]
    rows = leaderboard(labels, np.array(["x", "y", "z"], dtype=object)[y], kind="labels", names=["a", "b", "c"], cv=3,
                       random_state=0)
    assert len(rows) == 3 + len(blend_methods("labels"))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cv_folds(np.zeros(10), kind="regression", folds=1), "folds must be at least 2"),
        (lambda: cv_folds(np.zeros(3), kind="regression", folds=5), "cannot split 3 rows into 5 folds"),
        (lambda: cross_val_blend_score(lambda t, y, a: a[:, 0], np.ones((4, 2)), np.zeros(5), kind="regression"),
         "have 4 rows but y has 5"),
        (lambda: cross_val_blend_score(lambda t, y, a: a[:1, 0], np.ones((6, 2)), np.zeros(6), kind="regression",
                                       cv=2), "returned 1 rows for 3"),
        (lambda: leaderboard(np.ones((6, 2)), np.zeros(6), kind="regression", names=["a"]), "got 1 names for 2 models"),
        (lambda: blend_methods("labels", "logloss"), "logloss needs probabilities"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""Tests for blender.metrics: agreement with scikit-learn, edge cases, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from blender import metrics
from blender.metrics import METRICS, check_metric, default_metric, greater_is_better, score, true_class_probability


def _binary(seed, n=300, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0.0, 1.0)
    return y, (np.round(p * 4) / 4 if ties else p)


def _multiclass(seed, n=300, n_classes=4):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % n_classes)
    p = rng.dirichlet(np.ones(n_classes), n)
    p[np.arange(n), y] += 0.5
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_agree_with_sklearn(seed, ties):
    y, p = _binary(seed, ties=ties)
    assert score(y, p, metric="logloss", kind="binary") == pytest.approx(sk.log_loss(y, p), abs=1e-9)
    assert score(y, p, metric="auc", kind="binary") == pytest.approx(sk.roc_auc_score(y, p), abs=1e-9)
    assert score(y, p, metric="accuracy", kind="binary") == pytest.approx(sk.accuracy_score(y, p > 0.5), abs=1e-9)
    assert score(y, p, metric="rmse", kind="binary") == pytest.approx(sk.root_mean_squared_error(y, p), abs=1e-9)
    assert score(y, p, metric="mae", kind="binary") == pytest.approx(sk.mean_absolute_error(y, p), abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_metrics_agree_with_sklearn(seed):
    y, p = _multiclass(seed)
    assert score(y, p, metric="logloss", kind="multiclass") == pytest.approx(sk.log_loss(y, p), abs=1e-9)
    assert score(y, p, metric="auc", kind="multiclass") == pytest.approx(
        sk.roc_auc_score(y, p, multi_class="ovr", average="macro"), abs=1e-9
    )
    assert score(y, p, metric="accuracy", kind="multiclass") == pytest.approx(
        sk.accuracy_score(y, p.argmax(axis=1)), abs=1e-9
    )


def test_regression_and_labels_agree_with_sklearn():
    rng = np.random.default_rng(3)
    y, pred = rng.normal(size=50), rng.normal(size=50)
    assert score(y, pred, metric="rmse", kind="regression") == pytest.approx(sk.root_mean_squared_error(y, pred))
    assert score(y, pred, metric="mae", kind="regression") == pytest.approx(sk.mean_absolute_error(y, pred))
    labels = np.array(["cat", "dog", "cat", "bird"], dtype=object)
    predicted = np.array(["cat", "cat", "cat", "bird"], dtype=object)
    assert score(labels, predicted, metric="accuracy", kind="labels") == 0.75


def test_label_votes_score_by_argmax_with_the_first_class_on_a_tie():
    # Classes (bird, cat, dog) as indices; rows are one-hot votes or vote shares.
    y = np.array([0, 1, 2, 1])
    votes = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert score(y, votes, metric="accuracy", kind="labels") == 0.5
    shares = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.2, 0.2, 0.6], [0.0, 0.6, 0.4]])
    # Row 2 ties bird and cat: bird (the first) wins, so it is wrong for y = cat.
    assert score(y, shares, metric="accuracy", kind="labels") == 0.75
    assert score(y, shares, metric="accuracy", kind="labels") == sk.accuracy_score(y, shares.argmax(axis=1))


def test_true_class_probability_of_many_models():
    y = np.array([2, 0])
    p = np.array([[[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]], [[0.3, 0.3, 0.4], [0.2, 0.5, 0.3]]])  # (models, rows, classes)
    np.testing.assert_array_equal(true_class_probability(y, p, kind="multiclass"), [[0.7, 0.4], [0.6, 0.2]])
    binary = true_class_probability(np.array([1, 0]), np.array([[0.9, 0.4], [0.3, 0.2]]), kind="binary")
    np.testing.assert_allclose(binary, [[0.9, 0.4], [0.7, 0.8]])


def test_hand_computed_toy_case():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.2, 0.6, 0.4, 0.1])
    assert score(y, p, metric="accuracy", kind="binary") == 0.75
    assert score(y, p, metric="auc", kind="binary") == 1.0
    expected = -np.mean(np.log([0.8, 0.6, 0.4, 0.9]))
    assert score(y, p, metric="logloss", kind="binary") == pytest.approx(expected, abs=1e-15)


def test_half_is_class_zero_like_argmax():
    assert score(np.array([0, 1]), np.array([0.5, 0.5]), metric="accuracy", kind="binary") == 0.5


def test_logloss_clips_certain_mistakes():
    value = score(np.array([1, 0]), np.array([0.0, 1.0]), metric="logloss", kind="binary")
    assert value == pytest.approx(-np.log(1e-15))


def test_auc_all_tied_is_half():
    assert score(np.array([0, 1, 0, 1]), np.full(4, 0.3), metric="auc", kind="binary") == 0.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=40))
def test_auc_matches_sklearn_on_heavily_tied_values(rows):
    y = np.array([int(label) for label, _ in rows])
    if y.min() == y.max():
        y[0] = 1 - y[0]
    p = np.array([value / 5 for _, value in rows])
    assert score(y, p, metric="auc", kind="binary") == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_auc_ignores_monotone_transforms(seed):
    y, p = _binary(seed, n=60)
    assert score(y, p, metric="auc", kind="binary") == pytest.approx(
        score(y, p**3 * 5 - 2, metric="auc", kind="binary"), abs=1e-12
    )


def test_defaults_and_directions():
    assert [default_metric(kind) for kind in ("binary", "multiclass", "labels", "regression")] == [
        "logloss",
        "logloss",
        "accuracy",
        "rmse",
    ]
    five = ("accuracy", "logloss", "auc", "rmse", "mae")
    assert set(five) <= set(METRICS)
    assert [greater_is_better(metric) for metric in five] == [True, False, True, False, False]
    assert check_metric(None, "labels") == "accuracy"
    assert check_metric("auc", "multiclass") == "auc"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_metric("f2", "binary"), "unknown metric 'f2'"),
        (lambda: check_metric("logloss", "labels"), "logloss needs probabilities"),
        (lambda: check_metric("auc", "regression"), "auc needs probabilities"),
        (lambda: check_metric("accuracy", "regression"), "accuracy needs classes"),
        (lambda: check_metric("rmse", "multiclass"), "rmse is not defined for class probabilities"),
        (lambda: check_metric("mae", "labels"), "mae needs numbers"),
        (lambda: check_metric("rmse", "ordinal"), "unknown kind 'ordinal'"),
        (lambda: greater_is_better("f2"), "unknown metric"),
        (lambda: score(np.array([0, 1]), np.array([0.1, 0.2, 0.3]), metric="auc", kind="binary"), "y_true has 2 rows"),
        (lambda: score(np.array([0, 1]), np.ones((2, 2)) / 2, metric="auc", kind="binary"), "must have 1 dimension"),
        (lambda: score(np.array([1, 1]), np.array([0.1, 0.2]), metric="auc", kind="binary"), "only one class"),
        (
            lambda: score(np.array([0, 3]), np.ones((2, 3)) / 3, metric="logloss", kind="multiclass"),
            "class indices 0..2",
        ),
        (lambda: score(np.array([]), np.array([]), metric="rmse", kind="regression"), "zero rows"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng, n: rng.beta(2, 5, n),  # smooth, few ties
        lambda rng, n: np.round(rng.random(n) * 50) / 50,  # 51 distinct values: long runs of ties
        lambda rng, n: np.where(rng.random(n) < 0.99, 0.5 + rng.random(n) * 1e-9, 1.9),  # one bucket holds 99%
        lambda rng, n: np.r_[0.0, 1e-300, rng.random(n - 2)],  # zero and a subnormal-sized value
        lambda rng, n: np.full(n, 0.25),  # one value
    ],
)
def test_auc_of_long_rows_sorted_by_bucket_equals_sklearn(monkeypatch, draw):
    """Rows of at least _BUCKET_SORT_MIN values are sorted through buckets; the AUC must not change."""
    rng = np.random.default_rng(3)
    n = metrics._BUCKET_SORT_MIN + 1001
    y = rng.integers(0, 2, n)
    values = np.stack([draw(rng, n) for _ in range(3)])
    got = metrics.auc_rows(y == 1, values.copy())
    np.testing.assert_allclose(got, [sk.roc_auc_score(y, row) for row in values], rtol=0, atol=1e-12)
    monkeypatch.setattr(metrics, "_BUCKET_SORT_MIN", 10**9)  # the plain sort gives the same bits
    np.testing.assert_array_equal(metrics.auc_rows(y == 1, values.copy()), got)

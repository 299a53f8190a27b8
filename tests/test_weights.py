"""Tests for blender.weights: known optima, the simplex, blending with weights."""

import numpy as np
import pytest

from blender.metrics import score
from blender.weights import apply_weights, normalise_weights, optimize_weights


def _regression_mix(seed=0, n=200):
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    return np.column_stack([a, b, c]), 0.3 * a + 0.7 * b


@pytest.mark.parametrize("method", ["slsqp", "nelder-mead"])
def test_recovers_a_known_optimum_for_rmse(method):
    oof, y = _regression_mix()
    weights = optimize_weights(oof, y, kind="regression", metric="rmse", method=method)
    np.testing.assert_allclose(weights, [0.3, 0.7, 0.0], atol=1e-4)


def test_logloss_weights_beat_uniform_and_favour_the_informative_model():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    good = np.clip(0.5 + 0.35 * (2 * y - 1) + rng.normal(0, 0.1, 500), 0.01, 0.99)
    noise = rng.uniform(0.05, 0.95, (500, 2))
    oof = np.column_stack([noise[:, 0], good, noise[:, 1]])
    for method in ("slsqp", "nelder-mead"):
        weights = optimize_weights(oof, y, kind="binary", metric="logloss", method=method)
        assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
        assert np.argmax(weights) == 1
        assert score(y, oof @ weights, metric="logloss", kind="binary") <= score(
            y, oof.mean(axis=1), metric="logloss", kind="binary")


def test_multiclass_and_labels_and_step_metrics_run():
    rng = np.random.default_rng(2)
    y = np.arange(60) % 3
    oof = rng.dirichlet(np.ones(3), (3, 60))
    oof[1, np.arange(60), y] += 2.0
    oof /= oof.sum(axis=2, keepdims=True)
    weights = optimize_weights(oof, y, kind="multiclass", metric="logloss")
    assert np.argmax(weights) == 1
    # SLSQP hands AUC to Nelder-Mead; the result is still on the simplex and no worse than uniform.
    auc_weights = optimize_weights(oof, y, kind="multiclass", metric="auc", method="slsqp")
    assert auc_weights.sum() == pytest.approx(1.0)
    labels = np.array(["a", "b", "c"], dtype=object)[oof.argmax(axis=2).T]
    label_weights = optimize_weights(labels, labels[:, 1], kind="labels", metric="accuracy")
    assert label_weights.sum() == pytest.approx(1.0)


def test_single_model_gets_everything():
    np.testing.assert_array_equal(optimize_weights(np.ones((4, 1)), np.ones(4), kind="regression"), [1.0])


def test_apply_weights_hand_computed():
    np.testing.assert_allclose(apply_weights(np.array([[0.2, 0.6], [0.8, 0.4]]), np.array([3, 1]), kind="binary"),
                               [0.3, 0.7])
    cube = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    np.testing.assert_allclose(apply_weights(cube, np.array([1, 3]), kind="multiclass"), [[0.25, 0.75]])
    np.testing.assert_allclose(apply_weights(np.array([[1.0, 3.0]]), None, kind="regression"), [2.0])


def test_normalise_weights():
    np.testing.assert_allclose(normalise_weights(None, 4), [0.25] * 4)
    np.testing.assert_allclose(normalise_weights(np.array([2, 0, 2]), 3), [0.5, 0, 0.5])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: normalise_weights(np.array([1.0, 2.0]), 3), "got 2 weights for 3 models"),
        (lambda: normalise_weights(np.array([1.0, -2.0]), 2), "must not be negative"),
        (lambda: normalise_weights(np.array([0.0, 0.0]), 2), "all zero"),
        (lambda: normalise_weights(np.array([np.nan, 1.0]), 2), "finite"),
        (lambda: optimize_weights(np.ones((3, 2)), np.ones(3), kind="regression", method="bfgs"), "unknown method 'bfgs'"),
        (lambda: optimize_weights(np.ones((3, 2)), np.ones(3), kind="regression", metric="auc"), "auc needs probabilities"),
        (lambda: apply_weights(np.ones((3, 2)), np.ones(3), kind="binary"), "got 3 weights for 2 models"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""Tests for blender.weights: known optima, the simplex, the same weights blended by layout.weighted_blend."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from blender import layout
from blender.metrics import score
from blender.weights import optimize_weights


def cube(columns):
    """(n_rows, n_models) columns as the layout's (n_models, n_rows, 1)."""
    return np.asarray(columns, dtype=float).T[:, :, None]


def _regression_mix(seed=0, n=200):
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    return cube(np.column_stack([a, b, c])), 0.3 * a + 0.7 * b


@pytest.mark.parametrize("method", ["slsqp", "nelder-mead"])
def test_recovers_a_known_optimum_for_rmse(method):
    oof, y = _regression_mix()
    weights = optimize_weights(oof, y, kind="regression", metric="rmse", method=method)
    np.testing.assert_allclose(weights, [0.3, 0.7, 0.0], atol=1e-4)


@pytest.mark.parametrize("method", ["slsqp", "nelder-mead"])
def test_recovers_a_known_optimum_for_mae(method):
    oof, y = _regression_mix(seed=1)
    weights = optimize_weights(oof, y, kind="regression", metric="mae", method=method)
    np.testing.assert_allclose(weights, [0.3, 0.7, 0.0], atol=1e-3)


def _logloss_two(seed=1, n=500):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    good = np.clip(0.5 + 0.35 * (2 * y - 1) + rng.normal(0, 0.1, n), 0.01, 0.99)
    noise = rng.uniform(0.05, 0.95, (n, 2))
    return cube(np.column_stack([noise[:, 0], good, noise[:, 1]])), y


def test_logloss_weights_beat_uniform_and_favour_the_informative_model():
    oof, y = _logloss_two()
    uniform = layout.score(y, oof.mean(axis=0), metric="logloss", kind="binary")
    for method in ("slsqp", "nelder-mead"):
        weights = optimize_weights(oof, y, kind="binary", metric="logloss", method=method)
        assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
        assert np.argmax(weights) == 1
        blended = layout.weighted_blend(oof, weights, kind="binary")
        assert score(y, blended[:, 0], metric="logloss", kind="binary") <= uniform


def test_logloss_optimum_of_two_models_equals_a_one_dimensional_search():
    # Log loss of w * a + (1 - w) * b is convex in w: a bounded scalar search finds the same optimum.
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 400)
    a = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.25, 400), 0.02, 0.98)
    b = np.clip(0.5 + 0.2 * (2 * y - 1) + rng.normal(0, 0.15, 400), 0.02, 0.98)
    oof = cube(np.column_stack([a, b]))
    found = minimize_scalar(
        lambda w: score(y, w * a + (1 - w) * b, metric="logloss", kind="binary"),
        bounds=(0, 1),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert 0.05 < found.x < 0.95  # an interior optimum, not a corner
    for method in ("slsqp", "nelder-mead"):
        weights = optimize_weights(oof, y, kind="binary", metric="logloss", method=method)
        np.testing.assert_allclose(weights, [found.x, 1 - found.x], atol=1e-4)


def test_multiclass_logloss_favours_the_informative_model():
    rng = np.random.default_rng(2)
    y = np.arange(60) % 3
    oof = rng.dirichlet(np.ones(3), (3, 60))
    oof[1, np.arange(60), y] += 2.0
    oof /= oof.sum(axis=2, keepdims=True)
    weights = optimize_weights(oof, y, kind="multiclass", metric="logloss")
    assert np.argmax(weights) == 1
    blended = layout.weighted_blend(oof, weights, kind="multiclass")
    assert layout.score(y, blended, metric="logloss", kind="multiclass") <= layout.score(
        y, oof.mean(axis=0), metric="logloss", kind="multiclass"
    )


def test_step_metrics_go_to_nelder_mead_and_never_end_worse_than_uniform():
    rng = np.random.default_rng(2)
    y = np.arange(60) % 3
    oof = rng.dirichlet(np.ones(3), (3, 60))
    oof[1, np.arange(60), y] += 0.3
    oof /= oof.sum(axis=2, keepdims=True)
    uniform = layout.score(y, oof.mean(axis=0), metric="auc", kind="multiclass")
    # SLSQP hands AUC to Nelder-Mead, so both give the same weights.
    slsqp = optimize_weights(oof, y, kind="multiclass", metric="auc", method="slsqp")
    np.testing.assert_array_equal(
        slsqp, optimize_weights(oof, y, kind="multiclass", metric="auc", method="nelder-mead")
    )
    assert slsqp.min() >= 0 and slsqp.sum() == pytest.approx(1.0)
    assert (
        layout.score(y, layout.weighted_blend(oof, slsqp, kind="multiclass"), metric="auc", kind="multiclass")
        >= uniform
    )


def test_labels_weights_are_a_weighted_vote():
    # One-hot votes of three models; the truth is model 1's vote, so a vote that follows model 1 is perfect.
    rng = np.random.default_rng(3)
    chosen = rng.integers(0, 3, (3, 60))
    votes = np.eye(3)[chosen]
    y = chosen[1]
    uniform = layout.score(y, votes.mean(axis=0), metric="accuracy", kind="labels")
    weights = optimize_weights(votes, y, kind="labels", metric="accuracy")
    assert weights.min() >= 0 and weights.sum() == pytest.approx(1.0)
    accuracy = layout.score(y, layout.weighted_blend(votes, weights, kind="labels"), metric="accuracy", kind="labels")
    assert accuracy >= uniform


def test_single_model_gets_everything():
    np.testing.assert_array_equal(optimize_weights(np.ones((1, 4, 1)), np.ones(4), kind="regression"), [1.0])


def test_default_metric_is_the_kinds():
    oof, y = _regression_mix()
    np.testing.assert_array_equal(
        optimize_weights(oof, y, kind="regression"), optimize_weights(oof, y, kind="regression", metric="rmse")
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: optimize_weights(np.ones((2, 3, 1)), np.ones(3), kind="regression", method="bfgs"),
            "unknown method 'bfgs'",
        ),
        (
            lambda: optimize_weights(np.ones((2, 3, 1)), np.ones(3), kind="regression", metric="auc"),
            "auc needs probabilities",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("metric", ["logloss", "rmse"])
def test_the_exact_gradient_given_to_slsqp_equals_finite_differences(metric):
    from scipy.optimize import check_grad

    from blender.weights import weight_objective

    rng = np.random.default_rng(0)
    if metric == "logloss":
        y = rng.integers(0, 2, 300)
        values = np.clip(0.5 + 0.2 * (2 * y - 1)[None, :, None] + rng.normal(0, 0.3, (6, 300, 1)), 0.01, 0.99)
        kind = "binary"
    else:
        y = rng.normal(size=300)
        values = y[None, :, None] + rng.normal(0, 1, (6, 300, 1))
        kind = "regression"
    loss, _, gradient = weight_objective(values, y, kind=kind, metric=metric)
    weights = rng.dirichlet(np.ones(6))
    assert check_grad(loss, gradient, weights) < 1e-5 * max(1.0, float(np.abs(gradient(weights)).max()))


def test_log_loss_gradient_skips_clipped_rows_and_never_reuses_another_weights_blend():
    from blender.weights import weight_objective

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    values = rng.uniform(0.05, 0.95, (5, 200, 1))
    values[:, :4, 0] = np.where(y[:4] == 1, 0.0, 1.0)  # every model certain and wrong: the blend is clipped
    values[:, 4:8, 0] = np.where(y[4:8] == 1, 1.0, 0.0)  # certain and right: clipped too
    loss, _, gradient = weight_objective(values, y, kind="binary", metric="logloss")
    truth = np.where(y[:, None] == 1, values[:, :, 0].T, 1.0 - values[:, :, 0].T)

    def naive(weights):
        total = np.zeros(5)
        for row in range(200):
            blended = truth[row] @ weights
            if 1e-15 < blended < 1 - 1e-15:
                total -= truth[row] / blended
        return total / 200

    first, second = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    assert loss(first) == pytest.approx(-np.mean(np.log(np.clip(truth @ first, 1e-15, 1 - 1e-15))), rel=1e-12)
    np.testing.assert_allclose(gradient(second), naive(second), rtol=1e-12)  # asked right after another loss
    np.testing.assert_allclose(gradient(first), naive(first), rtol=1e-12)
    assert loss(second) == pytest.approx(-np.mean(np.log(np.clip(truth @ second, 1e-15, 1 - 1e-15))), rel=1e-12)

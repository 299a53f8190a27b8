"""Tests for blender.calibrate: temperature scaling by hand, fitted temperatures, and ``calibrated`` blends."""

import numpy as np
import pytest
from scipy.special import expit, logit, softmax

from blender import layout, methods
from blender.calibrate import apply_temperatures, fit_temperatures
from blender.caruana import caruana_select


def _overconfident_binary(seed, n=20_000, temperature=2.0):
    """Truth drawn from calibrated probabilities q; the model reports sigmoid(logit(q) * temperature).

    Dividing its logits by ``temperature`` calibrates it again, so that is the temperature to find.
    """
    rng = np.random.default_rng(seed)
    q = expit(rng.normal(0, 1.5, n))
    y = (rng.random(n) < q).astype(int)
    return y, expit(logit(q) * temperature)


def _multiclass(seed, n=3000, n_classes=4, temperatures=(0.5, 1.0, 3.0)):
    """Truth drawn from calibrated class probabilities; each model reports softmax(logits * its temperature)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, n_classes))
    q = softmax(logits, axis=1)
    y = np.array([rng.choice(n_classes, p=row) for row in q])
    values = np.stack([softmax(logits * t, axis=1) for t in temperatures])
    return y, values


def _logloss(y, values, kind):
    return layout.model_scores(values, y, metric="logloss", kind=kind)


# ------------------------------------------------------------------ apply_temperatures by hand


def test_temperature_one_changes_nothing():
    rng = np.random.default_rng(0)
    binary = rng.uniform(0.01, 0.99, (3, 50, 1))
    np.testing.assert_allclose(apply_temperatures(binary, np.ones(3), kind="binary"), binary, rtol=1e-12)
    classes = rng.dirichlet(np.ones(4), (2, 50))
    np.testing.assert_allclose(apply_temperatures(classes, np.ones(2), kind="multiclass"), classes, rtol=1e-12)


def test_binary_temperature_by_hand():
    # logit(0.9) = log 9; divided by 2 it is log 3, i.e. 0.75. T = 1/2 doubles it: log 81, i.e. 81/82.
    values = np.array([[[0.9], [0.5], [0.1]], [[0.9], [0.5], [0.1]]])
    scaled = apply_temperatures(values, np.array([2.0, 0.5]), kind="binary")
    np.testing.assert_allclose(scaled[0, :, 0], [0.75, 0.5, 0.25], rtol=1e-12)
    np.testing.assert_allclose(scaled[1, :, 0], [81 / 82, 0.5, 1 / 82], rtol=1e-12)


def test_multiclass_temperature_by_hand():
    # softmax(log p / T) is p ** (1/T) renormalised: T = 1/2 squares [1/2, 1/4, 1/4] -> [2/3, 1/6, 1/6].
    values = np.array([[[0.5, 0.25, 0.25]], [[0.5, 0.25, 0.25]]])
    scaled = apply_temperatures(values, np.array([0.5, 1e6]), kind="multiclass")
    np.testing.assert_allclose(scaled[0], [[2 / 3, 1 / 6, 1 / 6]], rtol=1e-12)
    np.testing.assert_allclose(scaled[1], [[1 / 3, 1 / 3, 1 / 3]], rtol=1e-5)  # a huge T flattens
    np.testing.assert_allclose(scaled.sum(axis=2), 1.0, rtol=1e-15)


def test_certain_probabilities_stay_finite():
    scaled = apply_temperatures(np.array([[[0.0], [1.0]]]), np.array([3.0]), kind="binary")
    assert np.all(np.isfinite(scaled)) and 0 < scaled[0, 0, 0] < 0.5 < scaled[0, 1, 0] < 1
    classes = apply_temperatures(np.array([[[1.0, 0.0, 0.0]]]), np.array([0.1]), kind="multiclass")
    assert np.all(np.isfinite(classes)) and classes[0, 0].argmax() == 0
    # A tiny temperature sends every log-probability below exp's range; the shift by the row's maximum keeps it.
    sharp = apply_temperatures(np.array([[[0.3, 0.3, 0.4]]]), np.array([1e-3]), kind="multiclass")
    np.testing.assert_allclose(sharp, [[[0.0, 0.0, 1.0]]], atol=1e-100)


@pytest.mark.parametrize("kind", ["regression", "labels"])
def test_temperatures_need_probabilities(kind):
    with pytest.raises(ValueError, match="temperature scaling needs probabilities"):
        apply_temperatures(np.ones((1, 3, 1)), np.ones(1), kind=kind)
    with pytest.raises(ValueError, match="temperature scaling needs probabilities"):
        fit_temperatures(np.ones((1, 3, 1)), np.zeros(3), kind=kind)


# ------------------------------------------------------------------ fit_temperatures


def test_fitted_temperature_recovers_a_known_overconfidence():
    y, p = _overconfident_binary(1, temperature=2.0)
    overconfident = p[None, :, None]
    y_under, p_under = _overconfident_binary(2, temperature=0.5)
    underconfident = p_under[None, :, None]
    assert fit_temperatures(overconfident, y, kind="binary")[0] == pytest.approx(2.0, rel=0.05)
    assert fit_temperatures(underconfident, y_under, kind="binary")[0] == pytest.approx(0.5, rel=0.05)


def test_fitted_temperatures_recover_each_models_own_temperature():
    y, values = _multiclass(3)
    temperatures = fit_temperatures(values, y, kind="multiclass")
    np.testing.assert_allclose(temperatures, [0.5, 1.0, 3.0], rtol=0.1)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_fitted_temperatures_reduce_each_files_log_loss_and_keep_the_argmax(kind):
    if kind == "binary":
        y, p = _overconfident_binary(4, n=3000)
        rng = np.random.default_rng(4)
        values = np.stack([p, expit(logit(p) * 0.4), np.clip(p + rng.normal(0, 0.05, 3000), 0.01, 0.99)])[:, :, None]
    else:
        y, values = _multiclass(5, n=1500)
    temperatures = fit_temperatures(values, y, kind=kind)
    scaled = apply_temperatures(values, temperatures, kind=kind)
    before, after = _logloss(y, values, kind), _logloss(y, scaled, kind)
    assert np.all(after <= before + 1e-12)
    assert np.all(after[temperatures != 1.0] < before[temperatures != 1.0])
    assert (temperatures != 1.0).sum() >= 2
    if kind == "binary":
        np.testing.assert_array_equal(scaled > 0.5, values > 0.5)
        for model in range(3):  # a monotone map: the order of the rows, so AUC, is the same
            np.testing.assert_array_equal(
                np.argsort(scaled[model, :, 0], kind="stable"), np.argsort(values[model, :, 0], kind="stable")
            )
    else:
        np.testing.assert_array_equal(scaled.argmax(axis=2), values.argmax(axis=2))


def test_fitted_temperature_is_the_minimum_of_a_fine_grid():
    y, values = _multiclass(6, n=800, temperatures=(2.0,))
    fitted = fit_temperatures(values, y, kind="multiclass")[0]
    grid = np.exp(np.linspace(np.log(0.2), np.log(10), 2001))
    losses = [_logloss(y, apply_temperatures(values, np.array([t]), kind="multiclass"), "multiclass")[0] for t in grid]
    best = grid[int(np.argmin(losses))]
    assert fitted == pytest.approx(best, rel=0.01)
    fitted_loss = _logloss(y, apply_temperatures(values, np.array([fitted]), kind="multiclass"), "multiclass")[0]
    assert fitted_loss <= min(losses) + 1e-8


def test_a_flat_loss_keeps_temperature_one():
    # Probability 0.5 everywhere has log-odds 0: every temperature gives the same loss.
    values = np.full((1, 10, 1), 0.5)
    assert fit_temperatures(values, np.array([0, 1] * 5), kind="binary").tolist() == [1.0]
    uniform = np.full((1, 6, 3), 1 / 3)
    assert fit_temperatures(uniform, np.array([0, 1, 2] * 2), kind="multiclass").tolist() == [1.0]


def test_a_too_unsure_perfect_model_is_sharpened_to_the_bound():
    values = np.array([[[0.6], [0.4], [0.6], [0.4]]])
    temperature = fit_temperatures(values, np.array([1, 0, 1, 0]), kind="binary")[0]
    assert temperature == pytest.approx(1 / 50, rel=1e-3)


# ------------------------------------------------------------------ calibrated blends


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_calibrated_caruana_equals_temperatures_applied_by_hand(kind):
    if kind == "binary":
        y, p = _overconfident_binary(7, n=1200)
        rng = np.random.default_rng(7)
        oof = np.stack([p, expit(logit(p) * 0.3), np.clip(p + rng.normal(0, 0.1, 1200), 0.01, 0.99)])[:, :, None]
        test = rng.uniform(0.01, 0.99, (3, 50, 1))
    else:
        y, oof = _multiclass(8, n=900)
        test = np.random.default_rng(8).dirichlet(np.ones(4), (3, 50))
    fit = methods.calibrated(methods.fit_caruana)
    fitted = fit(oof, y, kind=kind, metric="logloss", random_state=0, init=2, iters=10)
    # By hand: temperatures from the OOF rows, Caruana on the scaled OOF rows, its weights on the scaled test rows.
    temperatures = fit_temperatures(oof, y, kind=kind)
    np.testing.assert_array_equal(fitted.temperatures, temperatures)
    weights = caruana_select(
        apply_temperatures(oof, temperatures, kind=kind),
        y,
        kind=kind,
        metric="logloss",
        init=2,
        iters=10,
        random_state=0,
    ).weights
    np.testing.assert_array_equal(fitted.weights, weights)
    expected = layout.weighted_blend(apply_temperatures(test, temperatures, kind=kind), weights, kind=kind)
    np.testing.assert_allclose(fitted.apply(test), expected, rtol=1e-15, atol=0)
    # The temperatures come from the rows it was fitted on: applying to the OOF rows scores as Caruana did.
    assert layout.score(y, fitted.apply(oof), metric="logloss", kind=kind) == pytest.approx(
        fitted.inner.details["result"].score, abs=1e-12
    )


def test_calibrated_registry_entry_is_caruana_on_scaled_files():
    entry = methods.BY_NAME["caruana+cal"]
    assert entry.kinds == ("binary", "multiclass") and entry.metrics == ("logloss",)
    y, oof = _multiclass(9, n=600)
    fitted = methods.fit(entry, oof, y, kind="multiclass", metric="logloss", random_state=0)
    assert isinstance(fitted, methods.Calibrated)
    temperatures = fit_temperatures(oof, y, kind="multiclass")
    inner = methods.fit(
        methods.BY_NAME["caruana"],
        apply_temperatures(oof, temperatures, kind="multiclass"),
        y,
        kind="multiclass",
        metric="logloss",
        random_state=0,
    )
    np.testing.assert_array_equal(fitted.weights, inner.weights)

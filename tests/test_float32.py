"""float32 values through Caruana selection and hill climbing: the members stay float32 (half the memory and
its traffic), every sum is float64, and the scores equal the float64 path's within 1e-6 (issue 28)."""

import numpy as np
import pytest

from blender.caruana import CandidateScorer, caruana_select
from blender.hillclimb import GridScorer, hill_climb


def _binary(seed, n=4000, n_models=12):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    skill = rng.uniform(0.2, 1.5, (n_models, 1))
    logits = (2 * y - 1)[None, :] * skill + rng.normal(size=(n_models, n)) + 0.5 * rng.normal(size=n)
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


@pytest.mark.parametrize("metric", ["logloss", "rmse", "auc"])
@pytest.mark.parametrize("seed", range(3))
def test_caruana_on_float32_scores_as_float64(metric, seed):
    y, values = _binary(seed)
    single = values.astype(np.float32)
    assert CandidateScorer(single, y, kind="binary", metric=metric).members.dtype == np.float32
    wide = caruana_select(values, y, kind="binary", metric=metric, init=3, iters=20)
    narrow = caruana_select(single, y, kind="binary", metric=metric, init=3, iters=20)
    assert narrow.score == pytest.approx(wide.score, abs=1e-6)
    np.testing.assert_allclose(narrow.model_scores, wide.model_scores, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        [score for _, score in narrow.trajectory], [score for _, score in wide.trajectory], rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("metric", ["logloss", "rmse", "auc"])
@pytest.mark.parametrize("seed", range(3))
def test_hill_climbing_on_float32_scores_as_float64(metric, seed):
    y, values = _binary(seed)
    single = values.astype(np.float32)
    assert GridScorer(single, y, kind="binary", metric=metric).members.dtype == np.float32
    wide = hill_climb(values, y, kind="binary", metric=metric, max_iters=10)
    narrow = hill_climb(single, y, kind="binary", metric=metric, max_iters=10)
    assert narrow.score == pytest.approx(wide.score, abs=1e-6)
    np.testing.assert_allclose(
        [step[3] for step in narrow.trajectory], [step[3] for step in wide.trajectory], rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("seed", range(3))
def test_bounded_log_loss_on_float32_equals_the_exact_selection(monkeypatch, seed):
    """The float32 tangent bounds (blocked float32 dot products, raised by their rounding) never rule out the
    candidate the exact scoring would pick."""
    from blender import caruana

    y, values = _binary(seed, n=3000, n_models=20)
    single = np.clip(values, 0.01, 0.99).astype(np.float32)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 10**12)
    exact = caruana_select(single, y, kind="binary", metric="logloss", init=0, iters=25)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    monkeypatch.setattr(caruana, "_CHUNK_VALUES", 1)  # one candidate at a time, so that bounds can rule some out
    monkeypatch.setattr(caruana, "_DOT_BLOCK", 64)  # blocks and a tail
    bounded = caruana_select(single, y, kind="binary", metric="logloss", init=0, iters=25)
    assert bounded.selection == exact.selection
    np.testing.assert_array_equal(bounded.weights, exact.weights)

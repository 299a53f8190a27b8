"""Caruana's candidate scoring through the Python array API alone (issue 28): run in ``array_api_strict``, which
refuses anything outside the standard, it selects what the NumPy path selects, with scores within 1e-6."""

import array_api_strict as xps
import numpy as np
import pytest

from blender import arrays
from blender.caruana import CandidateScorer, caruana_select


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    """array-api-strict at the 2023.12 standard, its arrays refusing to become NumPy's on the quiet."""
    xps.set_array_api_strict_flags(api_version="2023.12")

    def refuse(self, *args, **kwargs):
        raise TypeError("a NumPy call on an array-api-strict array: the kernel left the array API")

    monkeypatch.setattr(type(xps.asarray(0.0)), "__array__", refuse, raising=False)
    yield
    xps.reset_array_api_strict_flags()


def _binary(seed, n=600, n_models=8):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    logits = (2 * y - 1)[None, :] * rng.uniform(0.2, 1.5, (n_models, 1)) + rng.normal(size=(n_models, n))
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


def _regression(seed, n=500, n_models=8):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n) * 3
    return y, (y + rng.normal(size=(n_models, n)) * rng.uniform(0.5, 2.0, (n_models, 1)))[:, :, None]


CASES = [("binary", "logloss"), ("binary", "auc"), ("binary", "rmse"), ("regression", "rmse"), ("regression", "mae")]


@pytest.mark.parametrize(("kind", "metric"), CASES)
@pytest.mark.parametrize("options", [{"init": 0, "iters": 15}, {"init": 3, "iters": 10, "bags": 3}])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_caruana_in_array_api_strict_equals_numpy(kind, metric, options, dtype):
    y, values = (_binary if kind == "binary" else _regression)(3)
    values = values.astype(dtype)
    plain = caruana_select(values, y, kind=kind, metric=metric, random_state=0, **options)
    strict = caruana_select(values, y, kind=kind, metric=metric, random_state=0, xp=xps, **options)
    assert strict.selection == plain.selection
    np.testing.assert_allclose(strict.weights, plain.weights, rtol=0, atol=1e-12)
    assert strict.score == pytest.approx(plain.score, abs=1e-6)
    np.testing.assert_allclose(strict.model_scores, plain.model_scores, rtol=0, atol=1e-6)
    np.testing.assert_allclose([s for _, s in strict.trajectory], [s for _, s in plain.trajectory], rtol=0, atol=1e-6)


def test_the_run_namespace_is_used_when_none_is_given():
    y, values = _binary(4)
    with arrays.using(xps):
        scorer = CandidateScorer(values, y, kind="binary", metric="logloss")
    assert type(scorer.members).__module__.startswith("array_api_strict")
    assert isinstance(CandidateScorer(values, y, kind="binary", metric="logloss").members, np.ndarray)
    with arrays.using(xps):
        result = caruana_select(values, y, kind="binary", metric="logloss", init=0, iters=5)
    assert isinstance(result.weights, np.ndarray)  # results leave the kernel as NumPy


# Hill climbing's step scoring.

HILL_CASES = [
    ("binary", "logloss"),
    ("binary", "auc"),
    ("binary", "rmse"),
    ("regression", "rmse"),
    ("regression", "mae"),
]


@pytest.mark.parametrize(("kind", "metric"), HILL_CASES)
@pytest.mark.parametrize("line_search", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hill_climbing_in_array_api_strict_equals_numpy(kind, metric, line_search, dtype):
    from blender.hillclimb import hill_climb

    y, values = (_binary if kind == "binary" else _regression)(5)
    values = values.astype(dtype)
    plain = hill_climb(values, y, kind=kind, metric=metric, line_search=line_search, max_iters=8)
    strict = hill_climb(values, y, kind=kind, metric=metric, line_search=line_search, max_iters=8, xp=xps)
    assert [step[1] for step in strict.trajectory] == [step[1] for step in plain.trajectory]
    np.testing.assert_allclose(
        [step[2] for step in strict.trajectory], [step[2] for step in plain.trajectory], atol=1e-6
    )
    np.testing.assert_allclose(strict.weights, plain.weights, rtol=0, atol=1e-6)
    assert strict.score == pytest.approx(plain.score, abs=1e-6)


def test_hill_climbing_scorer_lives_in_the_namespace():
    from blender.hillclimb import GridScorer

    y, values = _binary(6)
    scorer = GridScorer(values, y, kind="binary", metric="logloss", xp=xps)
    assert type(scorer._generic.members).__module__.startswith("array_api_strict")
    assert GridScorer(values, y, kind="binary", metric="logloss")._generic is None

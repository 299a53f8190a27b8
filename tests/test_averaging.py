"""averaging.average against scipy's means, renormalised class probabilities, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from blender.averaging import average
from blender.errors import BlendInputError

RNG = np.random.default_rng(7)
SCORES = RNG.uniform(0.01, 0.99, size=(20, 4))
WEIGHTS = np.array([3.0, 1.0, 0.5, 2.0])


def test_arithmetic_matches_numpy_average():
    assert np.allclose(average(SCORES), SCORES.mean(axis=1), rtol=1e-12)
    assert np.allclose(average(SCORES, weights=WEIGHTS), np.average(SCORES, axis=1, weights=WEIGHTS), rtol=1e-12)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_geometric_matches_scipy_gmean(weights):
    expected = stats.gmean(SCORES, axis=1, weights=weights)
    assert np.allclose(average(SCORES, kind="geometric", weights=weights), expected, rtol=1e-12)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_harmonic_matches_scipy_hmean(weights):
    expected = stats.hmean(SCORES, axis=1, weights=weights)
    assert np.allclose(average(SCORES, kind="harmonic", weights=weights), expected, rtol=1e-12)


@pytest.mark.parametrize("power", [2.0, 0.5, 3.0, -2.0])
@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_power_matches_scipy_pmean(power, weights):
    expected = stats.pmean(SCORES, power, axis=1, weights=weights)
    assert np.allclose(average(SCORES, kind="power", power=power, weights=weights), expected, rtol=1e-12)


def test_power_one_is_arithmetic_and_zero_is_geometric():
    assert np.allclose(average(SCORES, kind="power", power=1.0), average(SCORES), rtol=1e-12)
    assert np.allclose(average(SCORES, kind="power", power=0.0), average(SCORES, kind="geometric"), rtol=1e-12)


def test_geometric_of_class_probabilities_is_renormalised():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 6))  # (n_models, n_samples, n_classes)
    result = average(probabilities, kind="geometric", weights=np.array([1.0, 2.0, 1.0, 1.0]))
    unnormalised = stats.gmean(probabilities, axis=0, weights=np.array([1.0, 2.0, 1.0, 1.0])[:, None, None])
    assert result.shape == (6, 3)
    assert np.allclose(result.sum(axis=1), 1.0, rtol=1e-12)
    assert np.allclose(result, unnormalised / unnormalised.sum(axis=1, keepdims=True), rtol=1e-12)


def test_geometric_by_hand():
    # sqrt(0.2 * 0.8) = 0.4, then one class column of two: [0.4, 0.4] -> [0.5, 0.5].
    probabilities = np.array([[[0.2, 0.8]], [[0.8, 0.2]]])
    assert np.allclose(average(probabilities, kind="geometric"), [[0.5, 0.5]])
    assert np.allclose(average(np.array([[0.2, 0.8]]), kind="geometric"), [0.4])


def test_arithmetic_of_class_probabilities_is_the_plain_mean():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 6))
    assert np.allclose(average(probabilities), probabilities.mean(axis=0), rtol=1e-12)


def test_zero_probability_is_clipped_not_minus_infinity():
    result = average(np.array([[0.0, 0.5]]), kind="geometric")
    assert np.all(np.isfinite(result)) and result[0] < 1e-6


def test_regression_values_below_zero_are_refused_by_the_geometric_mean():
    with pytest.raises(BlendInputError, match="needs positive values"):
        average(np.array([[-1.0, 2.0]]), kind="geometric")


@pytest.mark.parametrize(
    "kwargs, exception, message",
    [
        ({"kind": "median"}, ValueError, "unknown mean 'median'"),
        ({"kind": "power"}, BlendInputError, "needs an exponent"),
        ({"weights": np.array([1.0, 1.0])}, BlendInputError, "gives 2 weights for 4 files"),
        ({"weights": np.array([1.0, -1.0, 1.0, 1.0])}, BlendInputError, "cannot be negative"),
        ({"weights": np.zeros(4)}, BlendInputError, "all weights are zero"),
    ],
)
def test_average_errors(kwargs, exception, message):
    with pytest.raises(exception, match=message):
        average(SCORES, **kwargs)


KINDS = st.sampled_from([("arithmetic", None), ("geometric", None), ("harmonic", None), ("power", 2.0), ("power", 0.5)])
score_matrices = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 20), st.integers(1, 5)), elements=st.floats(0.001, 1.0)
)


@settings(max_examples=80, deadline=None)
@given(column=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.001, 1.0)), copies=st.integers(1, 5), kind=KINDS)
def test_averaging_a_file_with_itself_returns_it(column, copies, kind):
    result = average(np.column_stack([column] * copies), kind=kind[0], power=kind[1])
    assert result.tobytes() == column.tobytes()


@settings(max_examples=40, deadline=None)
@given(n_samples=st.integers(1, 10), n_classes=st.integers(2, 5), copies=st.integers(1, 4), kind=KINDS, seed=st.integers(0, 2**16))
def test_averaging_class_probabilities_with_themselves_returns_them(n_samples, n_classes, copies, kind, seed):
    probabilities = np.random.default_rng(seed).dirichlet(np.ones(n_classes), n_samples)
    result = average(np.stack([probabilities] * copies), kind=kind[0], power=kind[1])
    assert result.tobytes() == probabilities.tobytes()


@settings(max_examples=80, deadline=None)
@given(scores=score_matrices, kind=KINDS, data=st.data(), scale=st.floats(1e-6, 1e6))
def test_scaling_the_weights_changes_nothing(scores, kind, data, scale):
    n_models = scores.shape[1]
    weights = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=n_models, max_size=n_models)))
    a = average(scores, kind=kind[0], power=kind[1], weights=weights)
    b = average(scores, kind=kind[0], power=kind[1], weights=weights * scale)
    assert np.allclose(a, b, rtol=1e-12, atol=0)


@settings(max_examples=50, deadline=None)
@given(scores=score_matrices, kind=KINDS, data=st.data())
def test_row_order_does_not_matter(scores, kind, data):
    order = np.array(data.draw(st.permutations(range(len(scores)))))
    assert np.array_equal(average(scores[order], kind=kind[0], power=kind[1]), average(scores, kind=kind[0], power=kind[1])[order])

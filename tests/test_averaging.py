"""averaging.average against scipy's means, renormalised class probabilities, the logit mean, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from blender.averaging import average
from blender.errors import BlendInputError


def cube(columns):
    """(n_rows, n_models) columns as the layout's (n_models, n_rows, 1)."""
    return np.asarray(columns, dtype=float).T[:, :, None]


RNG = np.random.default_rng(7)
SCORES = RNG.uniform(0.01, 0.99, size=(20, 4))  # (n_rows, n_models)
VALUES = cube(SCORES)
WEIGHTS = np.array([3.0, 1.0, 0.5, 2.0])


def test_arithmetic_matches_numpy_average():
    assert average(VALUES).shape == (20, 1)
    assert np.allclose(average(VALUES)[:, 0], SCORES.mean(axis=1), rtol=1e-12)
    assert np.allclose(average(VALUES, weights=WEIGHTS)[:, 0], np.average(SCORES, axis=1, weights=WEIGHTS), rtol=1e-12)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_geometric_matches_scipy_gmean(weights):
    expected = stats.gmean(SCORES, axis=1, weights=weights)
    assert np.allclose(average(VALUES, kind="geometric", weights=weights)[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_harmonic_matches_scipy_hmean(weights):
    expected = stats.hmean(SCORES, axis=1, weights=weights)
    assert np.allclose(average(VALUES, kind="harmonic", weights=weights)[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("power", [2.0, 0.5, 3.0, -2.0])
@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_power_matches_scipy_pmean(power, weights):
    expected = stats.pmean(SCORES, power, axis=1, weights=weights)
    assert np.allclose(average(VALUES, kind="power", power=power, weights=weights)[:, 0], expected, rtol=1e-12)


def test_power_one_is_arithmetic_and_zero_is_geometric():
    assert np.allclose(average(VALUES, kind="power", power=1.0), average(VALUES), rtol=1e-12)
    assert np.allclose(average(VALUES, kind="power", power=0.0), average(VALUES, kind="geometric"), rtol=1e-12)


def test_geometric_of_class_probabilities_is_renormalised():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 6))  # (n_models, n_rows, n_classes)
    result = average(probabilities, kind="geometric", weights=np.array([1.0, 2.0, 1.0, 1.0]))
    unnormalised = stats.gmean(probabilities, axis=0, weights=np.array([1.0, 2.0, 1.0, 1.0])[:, None, None])
    assert result.shape == (6, 3)
    assert np.allclose(result.sum(axis=1), 1.0, rtol=1e-12)
    assert np.allclose(result, unnormalised / unnormalised.sum(axis=1, keepdims=True), rtol=1e-12)


def test_geometric_by_hand():
    # sqrt(0.2 * 0.8) = 0.4, then one row of two class columns: [0.4, 0.4] -> [0.5, 0.5].
    probabilities = np.array([[[0.2, 0.8]], [[0.8, 0.2]]])
    assert np.allclose(average(probabilities, kind="geometric"), [[0.5, 0.5]])
    assert np.allclose(average(cube([[0.2, 0.8]]), kind="geometric"), [[0.4]])


def test_arithmetic_of_class_probabilities_is_the_plain_mean():
    probabilities = RNG.dirichlet(np.ones(3), size=(4, 6))
    assert np.allclose(average(probabilities), probabilities.mean(axis=0), rtol=1e-12)


def test_zero_probability_is_clipped_not_minus_infinity():
    result = average(cube([[0.0, 0.5]]), kind="geometric")
    assert np.all(np.isfinite(result)) and result[0, 0] < 1e-6


def test_regression_values_below_zero_are_refused_by_the_geometric_mean():
    with pytest.raises(BlendInputError, match="needs positive values"):
        average(cube([[-1.0, 2.0]]), kind="geometric")


# ---------------------------------------------------------------- the logit mean


def test_logit_mean_by_hand():
    # logit(0.5) = 0 and logit(0.9) = log 9: the mean log-odds log 3 is the probability 3/4.
    assert average(cube([[0.5, 0.9]]), kind="logit")[0, 0] == pytest.approx(0.75, abs=1e-15)
    # Weights 1:3 on logit(0.2) = -log 4 and logit(0.8) = log 4: the mean log-odds log 2 -> 2/3.
    assert average(cube([[0.2, 0.8]]), kind="logit", weights=np.array([1.0, 3.0]))[0, 0] == pytest.approx(2 / 3)


@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_logit_mean_is_the_sigmoid_of_the_weighted_mean_logit(weights):
    expected = special.expit(np.average(special.logit(SCORES), axis=1, weights=weights))
    np.testing.assert_allclose(average(VALUES, kind="logit", weights=weights)[:, 0], expected, rtol=1e-12)


def test_logit_mean_of_class_probabilities_is_the_renormalised_geometric_mean():
    probabilities = RNG.dirichlet(np.ones(4), size=(3, 9))
    weights = np.array([1.0, 2.0, 5.0])
    logit = average(probabilities, kind="logit", weights=weights)
    np.testing.assert_allclose(logit, average(probabilities, kind="geometric", weights=weights), rtol=1e-12)
    np.testing.assert_allclose(
        logit, special.softmax(np.tensordot(weights / 8, np.log(probabilities), axes=1), axis=1), rtol=1e-12
    )


def test_logit_mean_of_certain_probabilities_is_finite():
    result = average(cube([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]), kind="logit")
    assert result[:, 0].tolist()[:2] == [0.0, 1.0]  # agreeing files give their value back
    # 0 and 1 clip to 1e-15 and 1 - 1e-15 (which float64 rounds to 1 - 0.999e-15): near 0.5, finite.
    assert result[2, 0] == pytest.approx(0.5, abs=1e-3)


def test_logit_mean_refuses_values_outside_zero_one():
    with pytest.raises(BlendInputError, match="logit mean needs probabilities"):
        average(cube([[-1.0, 2.0], [3.0, 4.0]]), kind="logit")


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
        average(VALUES, **kwargs)


def test_huge_weights_do_not_overflow():
    # Issue 10 item 4: 1e308 + 1e308 is inf; the ratios are what matter.
    huge = average(VALUES[:2], weights=np.array([1e308, 1e308]))
    np.testing.assert_allclose(huge, average(VALUES[:2]), rtol=1e-15)


KINDS = st.sampled_from(
    [("arithmetic", None), ("geometric", None), ("harmonic", None), ("power", 2.0), ("power", 0.5), ("logit", None)]
)
score_matrices = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 20), st.integers(1, 5)), elements=st.floats(0.001, 0.999)
)


@settings(max_examples=80, deadline=None)
@given(
    column=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0.001, 0.999)),
    copies=st.integers(1, 5),
    kind=KINDS,
)
def test_averaging_a_file_with_itself_returns_it(column, copies, kind):
    result = average(cube(np.column_stack([column] * copies)), kind=kind[0], power=kind[1])
    assert result.shape == (len(column), 1)
    assert result[:, 0].tobytes() == column.tobytes()


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 10),
    n_classes=st.integers(2, 5),
    copies=st.integers(1, 4),
    kind=KINDS,
    seed=st.integers(0, 2**16),
)
def test_averaging_class_probabilities_with_themselves_returns_them(n_rows, n_classes, copies, kind, seed):
    probabilities = np.random.default_rng(seed).dirichlet(np.ones(n_classes), n_rows)
    result = average(np.stack([probabilities] * copies), kind=kind[0], power=kind[1])
    assert result.tobytes() == probabilities.tobytes()


@settings(max_examples=80, deadline=None)
@given(scores=score_matrices, kind=KINDS, data=st.data(), scale=st.floats(1e-6, 1e6))
def test_scaling_the_weights_changes_nothing(scores, kind, data, scale):
    n_models = scores.shape[1]
    weights = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=n_models, max_size=n_models)))
    a = average(cube(scores), kind=kind[0], power=kind[1], weights=weights)
    b = average(cube(scores), kind=kind[0], power=kind[1], weights=weights * scale)
    assert np.allclose(a, b, rtol=1e-12, atol=0)


@settings(max_examples=50, deadline=None)
@given(scores=score_matrices, kind=KINDS, data=st.data())
def test_row_order_does_not_matter(scores, kind, data):
    order = np.array(data.draw(st.permutations(range(len(scores)))))
    shuffled = average(cube(scores[order]), kind=kind[0], power=kind[1])
    assert np.array_equal(shuffled, average(cube(scores), kind=kind[0], power=kind[1])[order])


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(1, 8),
    n_classes=st.integers(2, 5),
    n_models=st.integers(1, 4),
    kind=KINDS,
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_class_column_order_does_not_matter(n_rows, n_classes, n_models, kind, seed, data):
    probabilities = np.random.default_rng(seed).dirichlet(np.ones(n_classes), (n_models, n_rows))
    order = np.array(data.draw(st.permutations(range(n_classes))))
    shuffled = average(probabilities[:, :, order], kind=kind[0], power=kind[1])
    np.testing.assert_allclose(shuffled, average(probabilities, kind=kind[0], power=kind[1])[:, order], rtol=1e-12)

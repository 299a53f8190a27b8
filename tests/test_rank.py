"""rank.rank_average and rank.historical_rank_average: hand-computed values and invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import rankdata

from blender.errors import BlendInputError
from blender.rank import average_ranks, historical_rank_average, rank_average


def cube(columns):
    """(n_rows, n_models) columns as the layout's (n_models, n_rows, 1)."""
    return np.asarray(columns, dtype=float).T[:, :, None]


def test_rank_average_of_the_classic_example():
    scores = np.array([[0.35000056, 0.57], [0.35000002, 0.04], [0.35000098, 0.96], [0.35000111, 0.99]])
    result = rank_average(cube(scores))
    assert result.shape == (4, 1)
    assert np.allclose(result[:, 0], [1 / 3, 0, 2 / 3, 1], rtol=0, atol=1e-15)


def test_ties_share_their_average_rank():
    # ranks [1.5, 1.5, 3] and [1, 2, 3] average to [1.25, 1.75, 3] -> scaled by (x - 1.25) / 1.75.
    scores = np.array([[0.1, 0.1], [0.1, 0.2], [0.9, 0.3]])
    assert np.allclose(rank_average(cube(scores))[:, 0], [0.0, 0.5 / 1.75, 1.0])


def test_weighted_rank_average_by_hand():
    # ranks [1,2,3] (w 3) and [3,2,1] (w 1): [1.5, 2, 2.5] -> [0, 0.5, 1].
    scores = np.array([[0.1, 0.9], [0.2, 0.5], [0.3, 0.1]])
    assert np.allclose(rank_average(cube(scores), weights=np.array([3.0, 1.0]))[:, 0], [0.0, 0.5, 1.0])


def test_huge_weights_do_not_overflow():
    # Issue 10 item 4: weights summing past 1.8e308 overflowed to inf and gave 0.5 on every row.
    scores = np.array([[0.1, 0.9], [0.2, 0.5], [0.3, 0.1]])
    huge = rank_average(cube(scores), weights=np.array([1.5e308, 0.5e308]))  # 3:1, as by hand above
    np.testing.assert_allclose(huge[:, 0], [0.0, 0.5, 1.0], atol=1e-15)
    other = np.array([[0.1, 0.2], [0.2, 0.1], [0.3, 0.3]])
    np.testing.assert_allclose(
        rank_average(cube(other), weights=np.array([1e308, 1e308]))[:, 0], [0.0, 0.0, 1.0], atol=1e-15
    )


def test_all_rows_tied_give_one_half():
    assert rank_average(cube(np.full((4, 2), 0.3)))[:, 0].tolist() == [0.5] * 4


def test_class_probabilities_are_ranked_per_class_and_rows_sum_to_one():
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(3), size=(2, 8))  # (n_models, n_rows, n_classes)
    result = rank_average(probabilities)
    assert result.shape == (8, 3)
    assert np.allclose(result.sum(axis=1), 1.0)
    per_class = np.column_stack([rank_average(probabilities[:, :, k : k + 1])[:, 0] for k in range(3)])
    assert np.allclose(result, per_class / per_class.sum(axis=1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_average_ranks_match_scipy(size):
    rng = np.random.default_rng(size)
    values = rng.integers(0, 5, size).astype(float)  # many ties
    assert np.array_equal(average_ranks(values), rankdata(values))
    values = rng.random(size)
    assert np.array_equal(average_ranks(values), rankdata(values))


def test_historical_rank_by_hand():
    # History 0.1..0.5 has scaled ranks 0, .25, .5, .75, 1; each new value takes its nearest one's.
    history = cube([[0.1], [0.2], [0.3], [0.4], [0.5]])
    new = cube([[0.29], [0.9], [0.0], [0.24], [0.26], [0.25]])
    # 0.25 is equally far from 0.2 and 0.3: the lower one wins.
    assert historical_rank_average(new, history)[:, 0].tolist() == [0.5, 1.0, 0.0, 0.25, 0.5, 0.25]


def test_historical_rank_weighted_two_models():
    history = cube([[0.1, 10.0], [0.2, 20.0], [0.3, 30.0]])  # scaled ranks 0, .5, 1 each
    new = cube([[0.11, 29.0], [0.31, 9.0]])
    # row 1: 0 (w 1) and 1 (w 3) -> 0.75; row 2: 1 and 0 -> 0.25.
    assert np.allclose(historical_rank_average(new, history, weights=np.array([1.0, 3.0]))[:, 0], [0.75, 0.25])


def test_historical_rank_with_tied_history():
    history = cube([[0.1], [0.1], [0.5]])  # ranks 1.5, 1.5, 3 -> 0, 0, 1
    assert historical_rank_average(cube([[0.12], [0.4]]), history)[:, 0].tolist() == [0.0, 1.0]


def test_historical_rank_of_a_single_history_row():
    assert historical_rank_average(cube([[0.1], [0.9]]), cube([[0.5]]))[:, 0].tolist() == [0.5, 0.5]


def test_historical_rank_of_class_probabilities_sums_to_one():
    rng = np.random.default_rng(2)
    history, new = rng.dirichlet(np.ones(3), size=(2, 30)), rng.dirichlet(np.ones(3), size=(2, 5))
    result = historical_rank_average(new, history)
    assert result.shape == (5, 3) and np.allclose(result.sum(axis=1), 1.0)
    # Each class column is ranked against the same class column of the history.
    per_class = np.column_stack(
        [historical_rank_average(new[:, :, k : k + 1], history[:, :, k : k + 1])[:, 0] for k in range(3)]
    )
    np.testing.assert_allclose(result, per_class / per_class.sum(axis=1, keepdims=True), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(column=hnp.arrays(np.float64, st.integers(2, 25), elements=st.floats(0.0, 1.0), unique=True))
def test_historical_rank_of_the_history_itself_is_its_rank_average(column):
    values = cube(column[:, None])
    np.testing.assert_allclose(historical_rank_average(values, values), rank_average(values), atol=1e-12)


@pytest.mark.parametrize(
    "weights, message", [([1.0], "gives 1 weights for 2 files"), ([-1.0, 2.0], "negative"), ([0.0, 0.0], "zero")]
)
def test_rank_average_refuses_bad_weights(weights, message):
    with pytest.raises(BlendInputError, match=message):
        rank_average(cube([[0.1, 0.2], [0.3, 0.4]]), weights=np.array(weights))


score_matrices = hnp.arrays(
    np.float64, st.tuples(st.integers(2, 25), st.integers(1, 5)), elements=st.floats(0.0, 1.0, allow_subnormal=False)
)
TRANSFORMS = {
    "cube": lambda x: x**3,
    "exp": np.exp,
    "logit": lambda x: np.log(np.clip(x, 1e-9, 1 - 1e-9) / (1 - np.clip(x, 1e-9, 1 - 1e-9))),
    "affine": lambda x: 7.0 * x - 3.0,
}


@settings(max_examples=80, deadline=None)
@given(scores=score_matrices, transform=st.sampled_from(sorted(TRANSFORMS)), data=st.data())
def test_rank_average_ignores_a_strictly_increasing_transform_of_a_file(scores, transform, data):
    # Keep values where the transform stays strictly increasing in float arithmetic.
    scores = np.round(scores, 3) * 0.98 + 0.01
    model = data.draw(st.integers(0, scores.shape[1] - 1))
    transformed = scores.copy()
    transformed[:, model] = TRANSFORMS[transform](scores[:, model])
    assert np.array_equal(rankdata(transformed[:, model]), rankdata(scores[:, model]))
    assert np.allclose(rank_average(cube(transformed)), rank_average(cube(scores)), rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(scores=score_matrices, data=st.data(), scale=st.floats(1e-6, 1e6))
def test_scaling_the_weights_changes_nothing(scores, data, scale):
    n_models = scores.shape[1]
    weights = np.array(data.draw(st.lists(st.floats(0.1, 10), min_size=n_models, max_size=n_models)))
    assert np.allclose(
        rank_average(cube(scores), weights=weights),
        rank_average(cube(scores), weights=weights * scale),
        rtol=0,
        atol=1e-12,
    )


@settings(max_examples=60, deadline=None)
@given(scores=score_matrices, data=st.data())
def test_row_order_does_not_matter(scores, data):
    order = np.array(data.draw(st.permutations(range(len(scores)))))
    assert np.allclose(rank_average(cube(scores[order])), rank_average(cube(scores))[order], rtol=0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(column=hnp.arrays(np.float64, st.integers(2, 25), elements=st.floats(0.0, 1.0)), copies=st.integers(1, 4))
def test_rank_averaging_a_file_with_itself_gives_its_scaled_ranks(column, copies):
    ranks = rankdata(column)
    expected = (
        np.full(len(column), 0.5) if ranks.max() == ranks.min() else (ranks - ranks.min()) / (ranks.max() - ranks.min())
    )
    assert np.allclose(rank_average(cube(np.column_stack([column] * copies)))[:, 0], expected, rtol=0, atol=1e-12)

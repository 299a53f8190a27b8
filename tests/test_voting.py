"""voting.vote and voting.probabilities_to_labels: toy cases by hand, ties, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from blender.errors import BlendInputError
from blender.voting import probabilities_to_labels, vote

TRUTH = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])


def _wrong_on(rows):
    """A 70%-accurate classifier: the truth with the given rows flipped."""
    predictions = TRUTH.copy()
    predictions[list(rows)] = 1 - predictions[list(rows)]
    return predictions


def test_three_70_percent_classifiers_with_disjoint_errors_vote_right_on_every_row():
    models = [_wrong_on([0, 1, 2]), _wrong_on([3, 4, 5]), _wrong_on([6, 7, 8])]
    assert all(np.mean(m == TRUTH) == 0.7 for m in models)
    assert np.array_equal(vote(np.column_stack(models)), TRUTH)


def test_two_classifiers_wrong_on_the_same_row_outvote_the_third_there_only():
    models = [_wrong_on([0, 1, 2]), _wrong_on([2, 4, 5]), _wrong_on([6, 7, 8])]
    result = vote(np.column_stack(models))
    assert np.flatnonzero(result != TRUTH).tolist() == [2]


def test_weighted_vote_three_votes_lose_to_four_agreeing_files():
    # Weights 3,1,1,1,1: file 1 says "a", the four others all say "b": 4 > 3.
    labels = np.array([["a", "b", "b", "b", "b"]])
    assert vote(labels, weights=np.array([3.0, 1, 1, 1, 1])).tolist() == ["b"]


@pytest.mark.parametrize("others", [["b", "b", "c", "c"], ["b", "b", "b", "c"]])
def test_weighted_vote_three_votes_beat_split_others(others):
    # 3 for "a" against 2+2 or 3+1: file 1 wins.
    labels = np.array([["a", *others]])
    assert vote(labels, weights=np.array([3.0, 1, 1, 1, 1])).tolist() == ["a"]


def test_weighted_vote_three_votes_against_three_plus_one_over_rows():
    labels = np.array([["a", "b", "b", "b", "b"], ["a", "b", "b", "b", "c"], ["a", "b", "b", "c", "c"]])
    assert vote(labels, weights=np.array([3.0, 1, 1, 1, 1])).tolist() == ["b", "a", "a"]


@pytest.mark.parametrize(
    "row, expected",
    [
        (["dog", "cat"], "dog"),  # two models: the first decides
        (["cat", "dog"], "cat"),
        (["bird", "cat", "dog"], "bird"),  # three-way tie
        (["zebra", "ant", "ant", "zebra"], "zebra"),  # the first model's label, not the alphabetical one
        (["ant", "zebra", "zebra", "ant"], "ant"),
    ],
)
def test_tie_goes_to_the_label_of_the_first_model_that_voted_for_a_tied_label(row, expected):
    assert vote(np.array([row])).tolist() == [expected]


def test_tie_skips_a_first_model_whose_label_is_not_tied():
    # cat 1, dog 2, bird 2 (weights 1,1,1,1,1): the first model votes cat (not tied); dog is voted first among tied.
    labels = np.array([["cat", "dog", "bird", "bird", "dog"]])
    assert vote(labels).tolist() == ["dog"]


def test_tie_with_weights_and_zero_weight_model_ignored():
    # weights 0,1,1: the first model has no vote and cannot break the tie.
    labels = np.array([["dog", "cat", "dog"]])
    assert vote(labels, weights=np.array([0.0, 2.0, 2.0])).tolist() == ["cat"]


def test_integer_labels_keep_their_dtype_and_large_codes_work():
    labels = np.array([[5, 5, 9], [100000, 7, 7]])
    result = vote(labels)
    assert result.tolist() == [5, 7] and result.dtype == labels.dtype


def test_probabilities_to_labels_binary_and_multiclass():
    assert probabilities_to_labels(np.array([[0.49, 0.5, 0.51]])).tolist() == [[0, 0, 1]]  # 0.5 is class 0
    scores = np.array([[[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]], [[0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]])
    assert probabilities_to_labels(scores, ["a", "b", "c"]).tolist() == [["b", "c"], ["a", "c"]]


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1.0, 1.0], "gives 2 weights for 3 files"),
        ([1.0, -1.0, 1.0], "cannot be negative"),
        ([0.0, 0.0, 0.0], "all weights are zero"),
    ],
)
def test_vote_refuses_bad_weights(weights, message):
    with pytest.raises(BlendInputError, match=message):
        vote(np.array([["a", "b", "c"]]), weights=np.array(weights))


label_matrices = hnp.arrays(
    np.int64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.integers(0, 4)
)


@settings(max_examples=60, deadline=None)
@given(labels=label_matrices, data=st.data())
def test_row_order_does_not_matter(labels, data):
    order = data.draw(st.permutations(range(len(labels))))
    assert np.array_equal(vote(labels[order]), vote(labels)[order])


@settings(max_examples=60, deadline=None)
@given(column=hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 4)), copies=st.integers(1, 5))
def test_voting_a_file_with_itself_returns_it(column, copies):
    assert np.array_equal(vote(np.column_stack([column] * copies)), column)


@settings(max_examples=60, deadline=None)
@given(
    labels=label_matrices,
    data=st.data(),
    scale=st.floats(1e-3, 1e3),
)
def test_scaling_the_weights_changes_nothing(labels, data, scale):
    weights = np.array(data.draw(st.lists(st.integers(1, 5), min_size=labels.shape[1], max_size=labels.shape[1])), float)
    assert np.array_equal(vote(labels, weights=weights * scale), vote(labels, weights=weights))

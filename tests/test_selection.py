"""Tests for blender.selection.select_uncorrelated."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blender.selection import select_uncorrelated

CORR = np.array([[1.0, 0.99, 0.5], [0.99, 1.0, 0.6], [0.5, 0.6, 1.0]])


def test_toy_case_skips_the_near_copy():
    assert select_uncorrelated(np.array([0.9, 0.89, 0.8]), CORR, greater_is_better=True) == [0, 2]


def test_losses_rank_smallest_first():
    # As losses, model 2 is best; 0 and 1 are both under 0.95 with it, but 1 is a copy of 0.
    assert select_uncorrelated(np.array([0.9, 0.89, 0.8]), CORR, greater_is_better=False) == [2, 1]


def test_a_looser_bound_keeps_everything_and_top_stops_early():
    scores = np.array([0.9, 0.89, 0.8])
    assert select_uncorrelated(scores, CORR, greater_is_better=True, max_corr=1.0) == [0, 1, 2]
    assert select_uncorrelated(scores, CORR, greater_is_better=True, max_corr=1.0, top=2) == [0, 1]
    assert select_uncorrelated(scores, CORR, greater_is_better=True, top=1) == [0]


def test_ties_keep_file_order():
    assert select_uncorrelated(np.array([0.5, 0.7, 0.7]), np.eye(3), greater_is_better=True) == [1, 2, 0]


def test_signed_correlation_negative_is_diverse_and_nan_is_too_close():
    corr = np.array([[1.0, -0.99, np.nan], [-0.99, 1.0, 0.1], [np.nan, 0.1, 1.0]])
    assert select_uncorrelated(np.array([3.0, 2.0, 1.0]), corr, greater_is_better=True) == [0, 1]


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 8), st.integers(0, 10_000), st.floats(-0.5, 1.0))
def test_chosen_models_are_pairwise_under_the_bound_and_the_best_is_first(n_models, seed, max_corr):
    rng = np.random.default_rng(seed)
    scores = rng.random(n_models)
    corr = np.corrcoef(rng.random((n_models, 6)))
    chosen = select_uncorrelated(scores, corr, greater_is_better=True, max_corr=max_corr)
    assert chosen[0] == int(np.argmax(scores))
    for position, model in enumerate(chosen):
        assert all(corr[model, other] < max_corr for other in chosen[:position])
    # Every model left out is too close to one chosen before it.
    for model in set(range(n_models)) - set(chosen):
        better = [other for other in chosen if scores[other] >= scores[model]]
        assert any(corr[model, other] >= max_corr for other in better)


@pytest.mark.parametrize(
    "scores, corr, options, message",
    [
        (np.array([0.9, 0.8]), np.eye(3), {}, r"corr has shape \(3, 3\) but there are 2 model scores"),
        (np.array([0.9, np.nan]), np.eye(2), {}, "model score 1 is NaN"),
        (np.array([]), np.eye(0), {}, "non-empty"),
        (np.array([0.9, 0.8]), np.eye(2), {"top": 0}, "top must be at least 1"),
    ],
)
def test_errors(scores, corr, options, message):
    with pytest.raises(ValueError, match=message):
        select_uncorrelated(scores, corr, greater_is_better=True, **options)

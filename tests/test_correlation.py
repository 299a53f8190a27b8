"""correlation.correlation_matrix against pandas, and label_agreement on one-hot votes."""

import numpy as np
import pandas as pd
import pytest

from blender.correlation import correlation_matrix, label_agreement


def cube(columns):
    """(n_rows, n_models) columns as the layout's (n_models, n_rows, 1)."""
    return np.asarray(columns, dtype=float).T[:, :, None]


RNG = np.random.default_rng(3)
BASE = RNG.random(50)
SCORES = np.column_stack([BASE + RNG.normal(0, s, 50) for s in (0.05, 0.2, 0.5)] + [np.round(BASE, 1)])


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_matches_pandas(method):
    expected = pd.DataFrame(SCORES).corr(method=method).to_numpy()
    assert np.allclose(correlation_matrix(cube(SCORES), method=method), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["pearson", "spearman", "kendall"])
def test_class_probabilities_correlate_over_all_cells(method):
    probabilities = RNG.dirichlet(np.ones(3), size=(3, 10))
    flat = pd.DataFrame({m: probabilities[m].ravel() for m in range(3)})
    assert np.allclose(
        correlation_matrix(probabilities, method=method), flat.corr(method=method).to_numpy(), atol=1e-12
    )


def test_pearson_in_blocks_equals_numpy():
    # More rows than one block of 2**20 / n_models: the blocked covariance must add up.
    rng = np.random.default_rng(4)
    columns = rng.normal(size=(300_000, 4))
    columns[:, 1] += columns[:, 0]
    np.testing.assert_allclose(correlation_matrix(cube(columns)), np.corrcoef(columns.T), atol=1e-12)


def test_constant_column_gives_nan_off_the_diagonal():
    scores = np.column_stack([np.arange(5.0), np.full(5, 0.5)])
    matrix = correlation_matrix(cube(scores))
    assert np.isnan(matrix[0, 1]) and np.isnan(matrix[1, 0]) and matrix[1, 1] == 1.0


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown correlation method 'cosine'"):
        correlation_matrix(cube(SCORES), method="cosine")


def test_label_agreement_by_hand():
    # Three models (columns) over four rows, classes a, b, c.
    labels = np.array([["a", "a", "b"], ["b", "a", "b"], ["c", "c", "c"], ["a", "a", "a"]])
    votes = np.eye(3)[np.searchsorted(["a", "b", "c"], labels).T]
    assert votes.shape == (3, 4, 3)
    expected = [[1.0, 0.75, 0.75], [0.75, 1.0, 0.5], [0.75, 0.5, 1.0]]
    assert np.allclose(label_agreement(votes), expected)


def test_label_agreement_ignores_class_column_order():
    rng = np.random.default_rng(5)
    votes = np.eye(4)[rng.integers(0, 4, (3, 40))]
    np.testing.assert_array_equal(label_agreement(votes[:, :, [2, 0, 3, 1]]), label_agreement(votes))

"""Tests for blender.holdout.holdout_blend."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from blender.errors import BlendInputError
from blender.holdout import holdout_blend
from blender.metrics import score


def _holdout(seed=0, n=80):
    """Holdout and test predictions as (n_rows, n_models) columns, and the holdout truth."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    holdout = np.clip(0.5 + 0.3 * (2 * y - 1)[:, None] + rng.normal(0, 0.2, (n, 3)), 0, 1)
    return holdout, y, rng.uniform(0, 1, (20, 3))


def cube(columns):
    return np.asarray(columns, dtype=float).T[:, :, None]


def test_meta_learner_is_fitted_on_the_holdout_rows():
    holdout, y, test = _holdout()
    result = holdout_blend(cube(holdout), y, cube(test), kind="binary", meta="logreg", random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(holdout, y)
    assert result.test_predictions.shape == (20, 1)
    np.testing.assert_allclose(result.test_predictions[:, 0], model.predict_proba(test)[:, 1], atol=1e-12)
    # The CV score is the meta-learner's cross-validated log loss over the holdout rows.
    expected = cross_val_predict(
        LogisticRegression(C=1.0, max_iter=1000, random_state=0),
        holdout,
        y,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    assert result.cv_score == pytest.approx(score(y, expected, metric="logloss", kind="binary"), abs=1e-12)
    assert result.metric == "logloss" and result.cv_score < np.log(2)


def test_regression_holdout_is_ridge_on_the_holdout_rows():
    rng = np.random.default_rng(1)
    holdout = rng.normal(size=(60, 2))
    y = holdout @ [0.4, 0.6] + rng.normal(0, 0.1, 60)
    test = rng.normal(size=(9, 2))
    result = holdout_blend(cube(holdout), y, cube(test), kind="regression", meta="ridge", folds=3, random_state=0)
    np.testing.assert_allclose(
        result.test_predictions[:, 0], Ridge(alpha=1.0).fit(holdout, y).predict(test), atol=1e-10
    )
    expected = cross_val_predict(Ridge(alpha=1.0), holdout, y, cv=KFold(3, shuffle=True, random_state=0))
    assert result.cv_score == pytest.approx(score(y, expected, metric="rmse", kind="regression"), abs=1e-10)


def test_options_are_shared_with_stacking():
    holdout, y, test = _holdout()
    result = holdout_blend(
        cube(holdout),
        y,
        cube(test),
        kind="binary",
        meta="ridge",
        fwls=True,
        quadratic=True,
        metric="auc",
        random_state=0,
    )
    assert result.meta == "ridge" and result.metric == "auc" and 0.5 < result.cv_score <= 1.0
    with pytest.raises(ValueError, match="unknown meta-learner"):
        holdout_blend(cube(holdout), y, cube(test), kind="binary", meta="svm")


def test_a_small_holdout_is_not_refused_with_an_option_holdout_lacks():
    # Four holdout rows cannot make the meta-learner's five CV folds. `blend holdout` has no --cv option and
    # these are holdout rows, not OOF rows: the message must not send the user to --cv (issue 10 item 7).
    holdout = np.random.default_rng(0).uniform(0.1, 0.9, (2, 4, 1))
    try:
        result = holdout_blend(holdout, np.array([0, 1, 0, 1]), np.full((2, 3, 1), 0.5), kind="binary")
    except BlendInputError as error:
        assert "--cv" not in str(error) and "OOF" not in str(error), str(error)
        assert "holdout" in str(error)
    else:
        assert result.test_predictions.shape == (3, 1)

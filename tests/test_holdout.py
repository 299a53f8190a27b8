"""Tests for blender.holdout.holdout_blend."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from blender.holdout import holdout_blend


def _holdout(seed=0, n=80):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    holdout = np.clip(0.5 + 0.3 * (2 * y - 1)[:, None] + rng.normal(0, 0.2, (n, 3)), 0, 1)
    return holdout, y, rng.uniform(0, 1, (20, 3))


def test_meta_learner_is_fitted_on_the_holdout_rows():
    holdout, y, test = _holdout()
    result = holdout_blend(holdout, y, test, kind="binary", meta="logreg", random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(holdout, y)
    np.testing.assert_allclose(result.test_predictions, model.predict_proba(test)[:, 1], atol=1e-12)
    assert result.metric == "logloss" and result.cv_score < np.log(2)


def test_options_are_shared_with_stacking():
    holdout, y, test = _holdout()
    result = holdout_blend(holdout, y, test, kind="binary", meta="ridge", fwls=True, quadratic=True, metric="auc",
                           random_state=0)
    assert result.meta == "ridge" and 0.5 < result.cv_score <= 1.0
    with pytest.raises(ValueError, match="unknown meta-learner"):
        holdout_blend(holdout, y, test, kind="binary", meta="svm")

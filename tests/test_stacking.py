"""Tests for blender.stacking: equality with scikit-learn, feature building, every meta-learner."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from blender.metrics import score
from blender.stacking import build_meta_features, fit_apply, stack


@pytest.fixture(autouse=True)
def few_trees(monkeypatch):
    """Tree meta-learners with 20 trees: the tests check wiring, not accuracy."""
    monkeypatch.setattr("blender.stacking.N_ESTIMATORS", 20)


def _binary(seed=0, n=120, n_models=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(0.5 + 0.3 * (2 * y - 1)[:, None] * rng.uniform(0.3, 1.0, n_models) + rng.normal(0, 0.2, (n, n_models)), 0, 1)
    test = rng.uniform(0, 1, (40, n_models))
    return oof, y, test


def _multiclass(seed=0, n=120, n_models=3, n_classes=3):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    oof = rng.dirichlet(np.ones(n_classes), (n_models, n))
    oof[:, np.arange(n), y] += 1.0
    oof /= oof.sum(axis=2, keepdims=True)
    return oof, y, rng.dirichlet(np.ones(n_classes), (n_models, 30))


def test_logreg_equals_sklearn_on_the_same_columns():
    oof, y, test = _binary()
    result = stack(oof, y, test, kind="binary", meta="logreg", random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(oof, y)
    np.testing.assert_allclose(result.test_predictions, model.predict_proba(test)[:, 1], rtol=0, atol=1e-12)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    expected = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000, random_state=0), oof, y, cv=folds,
                                 method="predict_proba")[:, 1]
    np.testing.assert_allclose(result.oof_predictions, expected, atol=1e-12)
    assert result.cv_score == pytest.approx(score(y, expected, metric="logloss", kind="binary"), abs=1e-12)
    assert result.metric == "logloss" and result.meta == "logreg"


def test_multiclass_uses_every_class_column_of_every_model():
    oof, y, test = _multiclass()
    result = stack(oof, y, test, kind="multiclass", meta="logreg", random_state=0)
    columns = oof.transpose(1, 0, 2).reshape(120, -1)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(columns, y)
    expected = model.predict_proba(test.transpose(1, 0, 2).reshape(30, -1))
    np.testing.assert_allclose(result.test_predictions, expected, atol=1e-12)
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0)


def test_regression_logreg_is_linear_regression():
    rng = np.random.default_rng(3)
    oof = rng.normal(size=(50, 2))
    y = 2 * oof[:, 0] - oof[:, 1] + 1
    test = rng.normal(size=(5, 2))
    result = stack(oof, y, test, kind="regression", meta="logreg", random_state=0)
    np.testing.assert_allclose(result.test_predictions, LinearRegression().fit(oof, y).predict(test), atol=1e-10)
    assert result.cv_score == pytest.approx(0.0, abs=1e-9)


def test_labels_are_one_hot_encoded_and_predicted_as_labels():
    rng = np.random.default_rng(4)
    y = np.array(["cat", "dog", "bird"], dtype=object)[np.arange(90) % 3]
    noisy = np.where(rng.random(90) < 0.3, "cat", y)
    oof = np.column_stack([y, noisy]).astype(object)
    result = stack(oof, y, oof[:10], kind="labels", meta="logreg", random_state=0)
    assert result.metric == "accuracy" and result.cv_score == 1.0
    np.testing.assert_array_equal(result.test_predictions, y[:10])


def test_meta_features_by_hand():
    train = np.array([[0.2, 0.6], [0.8, 0.4]])
    apply = np.array([[0.5, 0.5]])
    columns, _ = build_meta_features(train, apply, kind="binary", quadratic=True)
    np.testing.assert_allclose(columns, [[0.2, 0.6, 0.12], [0.8, 0.4, 0.32]])
    logits, _ = build_meta_features(train, apply, kind="binary", logit=True)
    np.testing.assert_allclose(logits[0], np.log([0.2 / 0.8, 0.6 / 0.4]))
    features, applied = build_meta_features(train, apply, kind="binary", train_features=np.array([[1.0], [3.0]]),
                                             test_features=np.array([[2.0]]))
    np.testing.assert_allclose(features[:, 2], [-1.0, 1.0])  # standardised with the training rows
    np.testing.assert_allclose(applied, [[0.5, 0.5, 0.0]])


def test_fwls_columns_are_predictions_times_meta_features():
    train = np.array([[0.2, 0.6], [0.8, 0.4], [0.5, 0.5]])
    columns, _ = build_meta_features(train, train, kind="binary", fwls=True)
    assert columns.shape == (3, 2 * 3)  # two models x (constant, spread, mean)
    np.testing.assert_allclose(columns[:, ::3], train)  # the constant keeps the plain predictions
    features = np.array([[1.0], [2.0], [3.0]])
    with_features, _ = build_meta_features(train, train, kind="binary", fwls=True, train_features=features,
                                           test_features=features)
    np.testing.assert_allclose(with_features[:, 1], train[:, 0] * np.array([-1, 0, 1]) * np.sqrt(1.5))


def test_multiclass_quadratic_products_stay_within_each_class():
    oof, y, test = _multiclass(n_models=3)
    columns, _ = build_meta_features(oof, test, kind="multiclass", quadratic=True)
    assert columns.shape == (120, 3 * 3 + 3 * 3)  # 9 prediction columns, 3 pairs x 3 classes
    np.testing.assert_allclose(columns[:, 9:12], oof[0] * oof[1])


@pytest.mark.parametrize("meta", ["logreg", "ridge", "xgb", "et", "rf", "knn"])
def test_every_meta_learner_is_reproducible_and_sane(meta):
    oof, y, test = _binary(n=100)
    first = stack(oof, y, test, kind="binary", meta=meta, folds=3, random_state=1)
    second = stack(oof, y, test, kind="binary", meta=meta, folds=3, random_state=1)
    np.testing.assert_array_equal(first.test_predictions, second.test_predictions)
    assert first.test_predictions.shape == (40,)
    assert np.all((first.test_predictions >= 0) & (first.test_predictions <= 1))
    assert first.cv_score < np.log(2)  # better than a coin


@pytest.mark.parametrize("meta", ["ridge", "xgb", "knn"])
def test_regression_and_multiclass_meta_learners(meta):
    oof, y, test = _multiclass(n=90)
    result = stack(oof, y, test, kind="multiclass", meta=meta, folds=3, random_state=0)
    assert result.test_predictions.shape == (30, 3)
    rng = np.random.default_rng(5)
    values = rng.normal(size=(60, 2))
    regression = stack(values, values.sum(axis=1), values[:7], kind="regression", meta=meta, folds=3, random_state=0)
    assert regression.test_predictions.shape == (7,) and regression.metric == "rmse"


def test_options_combine():
    oof, y, test = _binary()
    result = stack(oof, y, test, kind="binary", meta="ridge", fwls=True, quadratic=True, logit=True,
                   train_features=oof[:, :1] * 10, test_features=test[:, :1] * 10, metric="auc", random_state=0)
    assert result.metric == "auc" and 0.5 < result.cv_score <= 1.0


def test_a_fold_missing_a_class_still_gives_every_class_column():
    oof, y, test = _multiclass(n=60)
    y = y.copy()
    y[y == 2] = 0
    y[:1] = 2  # one row of class 2: most folds never see it
    with pytest.warns(UserWarning):
        result = stack(oof, y, test, kind="multiclass", meta="xgb", folds=3, random_state=0)
    assert result.oof_predictions.shape == (60, 3)
    np.testing.assert_allclose(result.oof_predictions.sum(axis=1), 1.0, atol=1e-6)


def test_fwls_columns_feed_any_meta_learner():
    oof, y, test = _binary()
    result = stack(oof, y, test, kind="binary", meta="rf", fwls=True, folds=3, random_state=0)
    assert result.test_predictions.shape == (40,)


def test_fit_apply_is_stack_without_cv():
    oof, y, test = _binary()
    np.testing.assert_allclose(fit_apply(oof, y, test, kind="binary", meta="logreg", random_state=0),
                               stack(oof, y, test, kind="binary", meta="logreg", random_state=0).test_predictions)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"meta": "svm"}, "unknown meta-learner 'svm'"),
        ({"folds": 1}, "folds must be at least 2"),
        ({"metric": "rmse", "kind": "multiclass"}, "rmse is not defined"),
        ({"train_features": np.ones((120, 2))}, "give both train_features and test_features"),
        ({"train_features": np.ones((100, 2)), "test_features": np.ones((40, 2))}, "features have 100 and 40 rows"),
        ({"train_features": np.ones((120, 2)), "test_features": np.ones((40, 3))}, "train_features has 2 columns"),
        ({"test": np.ones((40, 2))}, "give the same models in the same order"),
        ({"y": np.zeros(7, dtype=int)}, "the OOF predictions have 120 rows but y has 7"),
    ],
)
def test_errors(options, message):
    oof, y, test = _binary()
    arguments = {"kind": "binary", "y": y, "test": test} | options
    with pytest.raises(ValueError, match=message):
        stack(oof, **arguments)


def test_logit_refused_for_labels_and_regression():
    with pytest.raises(ValueError, match="logit needs probabilities"):
        stack(np.ones((6, 2)), np.arange(6.0), np.ones((2, 2)), kind="regression", logit=True, folds=2)

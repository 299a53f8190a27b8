"""Stacking: a meta-learner fitted on out-of-fold predictions predicts the test rows.

The meta-features are the models' predictions (every class column of every model for
class probabilities, a one-hot block per model for labels), optionally their logits,
pairwise products (``quadratic``), the original features, or the feature-weighted
linear stacking products of Sill, Takacs, Mackey and Lin (2009) (``fwls``).

The meta-learner only ever sees predictions on rows the base models did not train on
(OOF here, holdout in :mod:`blender.holdout`); its own score is cross-validated over
those rows with seeded folds, and the final meta-learner is fitted on all of them.

Meta-learners (scikit-learn and XGBoost, imported only when used):

========  ==============================================  =====================================
meta      classes (binary, multiclass, labels)            regression
========  ==============================================  =====================================
logreg    ``LogisticRegression(C=1.0)``                   ``LinearRegression()``
ridge     ``LogisticRegression(C=0.1)``: stronger L2      ``Ridge(alpha=1.0)``
xgb       ``XGBClassifier``, 200 trees of depth 3         ``XGBRegressor``, same
et        ``ExtraTreesClassifier``, 200 trees, leaf >= 5  ``ExtraTreesRegressor``, same
rf        ``RandomForestClassifier``, same                ``RandomForestRegressor``, same
knn       ``KNeighborsClassifier(25)``                    ``KNeighborsRegressor(25)``
========  ==============================================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from blender import layout, metrics

META_LEARNERS = ("logreg", "ridge", "xgb", "et", "rf", "knn")
MetaLearner = Literal["logreg", "ridge", "xgb", "et", "rf", "knn"]


def stack_entry(meta: str, kind: str) -> str:
    """The name of a stacking run with ``meta`` on ``kind`` files, after what it fits: ``--meta logreg`` fits a
    linear regression on regression files (the registry's ``stack-linear``), a logistic regression on the others
    (``stack-logreg``).

    >>> stack_entry("logreg", "regression"), stack_entry("logreg", "binary"), stack_entry("ridge", "regression")
    ('stack-linear', 'stack-logreg', 'stack-ridge')
    """
    if meta == "logreg":
        return "stack-linear" if kind == "regression" else "stack-logreg"
    return f"stack-{meta}"


# Logits of probabilities clipped to [LOGIT_EPSILON, 1 - LOGIT_EPSILON] stay within
# about +-13.8, so one overconfident model cannot swamp a linear meta-learner.
LOGIT_EPSILON = 1e-6

# Trees in the xgb, et and rf meta-learners.
N_ESTIMATORS = 200


@dataclass(frozen=True, eq=False)
class StackResult:
    """What :func:`stack` produced.

    Attributes
    ----------
    test_predictions : ndarray of shape (n_test, n_cols)
        P(class 1) for binary, class probabilities for multiclass and labels (over the
        sorted labels), values for regression.
    cv_score : float
        The metric of ``oof_predictions``: the meta-learner's cross-validated score.
    oof_predictions : ndarray of shape (n_rows, n_cols)
        Each OOF row predicted by a meta-learner fitted on the other folds only (every
        transform, such as the standardisation of features, is fitted inside the fold).
    metric : str
    meta : str
    """

    test_predictions: NDArray
    cv_score: float
    oof_predictions: NDArray
    metric: str
    meta: str


@dataclass(frozen=True, eq=False)
class Stacker:
    """A fitted meta-learner and the statistics of its inputs, learned from the training rows only."""

    model: Any  # a fitted scikit-learn or XGBoost estimator (None: one class only, every row predicts it)
    kind: str
    n_cols: int
    present: NDArray | None
    options: dict
    mean: NDArray | None
    deviation: NDArray | None

    def apply(self, values: NDArray, features: NDArray | None = None) -> NDArray[np.float64]:
        """Predict rows from the same models' predictions (and features): shape (n_rows, n_cols)."""
        if features is not None:
            _check_features(features, np.shape(values)[1], "features")
        columns = meta_columns(values, features, self.mean, self.deviation, kind=self.kind, **self.options)[0]
        if self.kind == "regression":
            return np.asarray(self.model.predict(columns), dtype=np.float64)[:, None]
        probabilities = np.zeros((columns.shape[0], max(self.n_cols, 2)))
        if self.model is None:
            assert self.present is not None  # the one class the training rows hold
            probabilities[:, self.present[0]] = 1.0
        else:
            probabilities[:, self.present] = self.model.predict_proba(columns)
        return probabilities[:, 1:] if self.kind == "binary" else probabilities


def fit_stacker(
    values: NDArray,
    y: NDArray,
    *,
    kind: metrics.Kind,
    meta: MetaLearner = "logreg",
    features: NDArray | None = None,
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    random_state: int | None = None,
) -> Stacker:
    """Fit the meta-learner on ``values`` (n_models, n_rows, n_cols) and ``y``, without any CV.

    The parameters mean what they mean in :func:`stack`; ``features`` are the original
    features of the same rows. This is the fit half of the ``stack-*`` blend methods that
    :mod:`blender.evaluation` cross-validates.
    """
    metrics.check_kind(kind)
    if meta not in META_LEARNERS:
        raise ValueError(f"unknown meta-learner {meta!r}; expected one of {', '.join(META_LEARNERS)}")
    if logit and kind not in ("binary", "multiclass"):
        raise ValueError(f"logit needs probabilities; {kind} predictions have none")
    values = np.asarray(values, dtype=np.float64)
    y = np.asarray(y)
    if features is not None:
        _check_features(features, values.shape[1], "features")
    options = dict(fwls=fwls, quadratic=quadratic, logit=logit)
    columns, mean, deviation = meta_columns(values, features, None, None, kind=kind, **options)
    model = _make_meta(meta, kind, random_state, columns.shape[0])
    present = None
    # One BLAS thread: the solvers' products are small (rows x a few hundred columns), and
    # threads only fight over the cores; on a loaded 2-core machine a multiclass logreg fit
    # took 3.2 s with the default threads and 1.3 s with one, an L-BFGS fit on logits 36 s and 3.5 s.
    with threadpool_limits(limits=1, user_api="blas"):
        if kind == "regression":
            model.fit(columns, y.astype(np.float64))
        else:
            # Fit on the classes present (a fold may miss a rare one; XGBoost wants 0..k-1)
            # and put each probability back in its class's column when applying.
            present = np.unique(y)
            if present.size == 1:
                model = None
            else:
                model.fit(columns, np.searchsorted(present, y))
    return Stacker(
        model=model, kind=kind, n_cols=values.shape[2], present=present, options=options, mean=mean, deviation=deviation
    )


def stack(
    oof: NDArray,
    y: NDArray,
    test: NDArray,
    *,
    kind: metrics.Kind,
    meta: MetaLearner = "logreg",
    folds: int = 5,
    train_features: NDArray | None = None,
    test_features: NDArray | None = None,
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    metric: metrics.Metric | None = None,
    random_state: int | None = None,
    rows: str = "OOF rows",
    folds_option: str | None = "--folds",
) -> StackResult:
    """Fit a meta-learner on the OOF predictions and predict the test rows.

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_rows, n_cols)
        Out-of-fold predictions, rows aligned with ``y``.
    y : ndarray of shape (n_rows,)
    test : ndarray of shape (n_models, n_test, n_cols)
        The same models' test predictions, models in the same order.
    kind : {"binary", "multiclass", "regression", "labels"}
    meta : {"logreg", "ridge", "xgb", "et", "rf", "knn"}, default="logreg"
        The meta-learner; see the table in the module docstring.
    folds : int, default=5
        Folds of the meta-learner's own cross-validation (stratified for classes).
    train_features, test_features : ndarray of shape (n_rows, n_features) and
        (n_test, n_features), default=None
        Original features, rows aligned with ``oof`` and ``test``; standardised with the
        training rows' mean and deviation (inside each fold for the CV score) and appended
        (or, with ``fwls``, used as the FWLS meta-features).
    fwls : bool, default=False
        Feature-weighted linear stacking: the meta-learner sees the product of every
        prediction column with every meta-feature: a constant 1, and the given features,
        or else the spread (standard deviation across models) and mean across models of
        the predictions (for class probabilities: the spread averaged over classes, and
        the largest class mean). Sill et al. fit these with a regularised linear model
        (``meta="ridge"``, or ``"logreg"``); the other meta-learners get the same columns.
    quadratic : bool, default=False
        Add the product of every pair of models' predictions (for class probabilities
        and labels, the pairs' products within each class column).
    logit : bool, default=False
        Replace probabilities by their logits (clipped to [1e-6, 1 - 1e-6]); binary and
        multiclass only. Products (``quadratic``, spread, mean) use the probabilities.
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        Scores the cross-validated predictions; None means the kind's default.
    random_state : int, default=None
        Seeds the folds and the meta-learner.
    rows, folds_option : str, default="OOF rows" and "--folds"
        How messages name the rows and the option that sets ``folds``.

    Returns
    -------
    StackResult

    Raises
    ------
    ValueError
        For an unknown meta-learner, ``logit`` on labels or regression, or mismatched shapes.

    See Also
    --------
    blender.holdout.holdout_blend : the same meta-learner fitted on holdout predictions.

    Examples
    --------
    >>> oof = np.array([[0.9, 0.2, 0.8, 0.3, 0.7, 0.1], [0.7, 0.4, 0.6, 0.2, 0.9, 0.3]])[:, :, None]
    >>> y = np.array([1, 0, 1, 0, 1, 0])
    >>> test = np.array([[0.95, 0.05], [0.8, 0.1]])[:, :, None]
    >>> result = stack(oof, y, test, kind="binary", folds=3, random_state=0)
    >>> result.test_predictions[:, 0].round(2), result.metric
    (array([0.62, 0.36]), 'logloss')
    """
    metric = metrics.check_metric(metric, kind)
    oof = np.asarray(oof, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    y = np.asarray(y)
    if oof.shape[1] != y.shape[0]:
        raise ValueError(f"the OOF predictions have {oof.shape[1]} rows but y has {y.shape[0]}")
    if oof.shape[0] != test.shape[0] or oof.shape[2] != test.shape[2]:
        raise ValueError(
            f"OOF predictions have {oof.shape[0]} models x {oof.shape[2]} columns, the test rows "
            f"{test.shape[0]} x {test.shape[2]}; give the same models in the same order"
        )
    if (train_features is None) != (test_features is None):
        raise ValueError("give both train_features and test_features, or neither")
    if train_features is not None and test_features is not None:
        _check_features(train_features, oof.shape[1], "train_features")
        _check_features(test_features, test.shape[1], "test_features")
        if np.shape(train_features)[1:] != np.shape(test_features)[1:]:
            raise ValueError(
                f"train_features has {np.shape(train_features)[1]} columns, test_features "
                f"{np.shape(test_features)[1]}; give both the same columns"
            )
    from dataclasses import replace

    from blender.evaluation import cross_fit
    from blender.methods import BY_NAME

    options: dict[str, Any] = dict(
        kind=kind, meta=meta, fwls=fwls, quadratic=quadratic, logit=logit, random_state=random_state
    )
    # The registry's stacking entry, cross-fitted as every entry is (one CV loop, blender.evaluation.cross_fit).
    entry = replace(
        BY_NAME["stack-logreg"], options={"meta": meta, "fwls": fwls, "quadratic": quadratic, "logit": logit}
    )
    splits = layout.cv_folds(y, kind=kind, folds=folds, random_state=random_state, rows=rows, option=folds_option)
    oof_predictions = cross_fit(
        entry, oof, y, splits, kind=kind, metric=metric, random_state=random_state, features=train_features
    )
    final = fit_stacker(oof, y, features=train_features, **options)
    return StackResult(
        test_predictions=final.apply(test, test_features),
        cv_score=layout.score(y, oof_predictions, metric=metric, kind=kind),
        oof_predictions=oof_predictions,
        metric=metric,
        meta=meta,
    )


def _check_features(features: NDArray, n_rows: int, name: str) -> None:
    if np.shape(features)[0] != n_rows:
        raise ValueError(
            f"{name}: features have {np.shape(features)[0]} rows, predictions {n_rows}; align the features by id first"
        )


def meta_columns(
    values: NDArray,
    features: NDArray | None,
    mean: NDArray | None,
    deviation: NDArray | None,
    *,
    kind: str,
    fwls: bool,
    quadratic: bool,
    logit: bool,
) -> tuple[NDArray, NDArray | None, NDArray | None]:
    """The meta-learner's input columns, and the standardisation it used.

    ``mean`` and ``deviation`` None means: learn them from these rows (fitting); otherwise
    they are the training rows' statistics (applying), so no row's own values leak in.
    """
    cube = np.asarray(values, dtype=np.float64).transpose(1, 0, 2)  # (n_rows, n_models, n_cols)
    n_rows = cube.shape[0]
    columns = (_logit(cube) if logit else cube).reshape(n_rows, -1)
    extra: NDArray | None = None
    if features is not None:
        extra = np.asarray(features, dtype=np.float64).reshape(n_rows, -1)
        if extra.shape[0] != n_rows:
            raise ValueError(
                f"features have {extra.shape[0]} rows, predictions {n_rows}; align the features by id first"
            )
    elif fwls:
        extra = _spread_and_mean(cube)
    if extra is not None:
        if mean is None:
            mean, deviation = extra.mean(axis=0), extra.std(axis=0)
            deviation[deviation == 0] = 1.0
        extra = (extra - mean) / deviation
    blocks = []
    if fwls:
        # The constant 1 keeps the plain prediction columns in the model.
        assert extra is not None  # fwls: the spread and mean of the predictions, or the features
        weights = np.column_stack([np.ones(n_rows), extra])
        blocks.append((columns[:, :, None] * weights[:, None, :]).reshape(n_rows, -1))
    else:
        blocks.append(columns)
        if extra is not None:
            blocks.append(extra)
    if quadratic:
        blocks.append(_pairwise_products(cube))
    # One block is returned as it is: a copy of 500 files x 200,000 rows would cost 800 MB.
    return (np.hstack(blocks) if len(blocks) > 1 else blocks[0]), mean, deviation


def _logit(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(cube, LOGIT_EPSILON, 1 - LOGIT_EPSILON)
    return np.log(clipped) - np.log1p(-clipped)


def _spread_and_mean(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    """FWLS meta-features: disagreement between the models, and their mean (confidence)."""
    spread = cube.std(axis=1).mean(axis=1)
    mean = cube.mean(axis=1)
    return np.column_stack([spread, mean[:, 0] if cube.shape[2] == 1 else mean.max(axis=1)])


def _pairwise_products(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    """Products of each pair of models' predictions, class column by class column."""
    n_rows, n_models, _ = cube.shape
    first, second = np.triu_indices(n_models, k=1)
    return (cube[:, first, :] * cube[:, second, :]).reshape(n_rows, -1)


def _make_meta(meta: str, kind: str, random_state: int | None, n_train: int) -> Any:
    """A fresh, unfitted meta-learner."""
    regression = kind == "regression"
    if meta in ("logreg", "ridge"):
        from sklearn import linear_model

        if regression:
            return linear_model.LinearRegression() if meta == "logreg" else linear_model.Ridge(alpha=1.0)
        return linear_model.LogisticRegression(
            C=1.0 if meta == "logreg" else 0.1, max_iter=1000, random_state=random_state
        )
    if meta == "xgb":
        import xgboost

        # One thread: the meta-features are few, and threads only add synchronisation.
        options: dict[str, Any] = dict(
            n_estimators=N_ESTIMATORS,
            max_depth=3,
            learning_rate=0.05,
            subsample=0.8,
            colsample_bytree=0.8,
            random_state=0 if random_state is None else random_state,
            n_jobs=1,
            verbosity=0,
        )
        return xgboost.XGBRegressor(**options) if regression else xgboost.XGBClassifier(**options)
    if meta in ("et", "rf"):
        from sklearn import ensemble

        options = dict(n_estimators=N_ESTIMATORS, min_samples_leaf=5, random_state=random_state)
        if meta == "et":
            return ensemble.ExtraTreesRegressor(**options) if regression else ensemble.ExtraTreesClassifier(**options)
        return ensemble.RandomForestRegressor(**options) if regression else ensemble.RandomForestClassifier(**options)
    from sklearn import neighbors

    neighbours = max(1, min(25, n_train))
    return neighbors.KNeighborsRegressor(neighbours) if regression else neighbors.KNeighborsClassifier(neighbours)

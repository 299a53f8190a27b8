"""Builders for the tabular learners: forests, extra trees, boosting, k-NN, logistic regression.

Each builder takes a :class:`~models.problem.Problem` and returns a fresh, unfitted
estimator with ``fit`` and ``predict_proba`` (classes) or ``predict`` (regression).
They use one thread each: the fold loop runs folds in parallel instead.
XGBoost, LightGBM and CatBoost are imported only when their builder runs.

LightGBM and CatBoost read the ``native`` view of a Kaggle folder (see
:class:`~models.data.Dataset`): numeric columns as they are, missing values included, and
text columns as text, which each library then treats as categories in its own way
(LightGBM's categorical splits, CatBoost's ordered target statistics). On image data
they read the same features as every other tabular learner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import ensemble, linear_model, neighbors, pipeline, preprocessing

from models.problem import Problem

#: Trees per forest: enough for stable probabilities, small enough for 2 cores.
N_TREES = 300
#: Boosting rounds and step size shared by the two boosting learners.
N_BOOSTING_ROUNDS = 300
LEARNING_RATE = 0.1


def _rounds(rounds: int, problem: Problem) -> int:
    """Boosting rounds for this fit: more for a refit on all rows (``problem.rounds_scale``), fewer for a time budget
    (``problem.rounds_share``).
    """
    return max(1, round(rounds * problem.rounds_scale * problem.rounds_share))


def _trees(problem: Problem) -> int:
    """Trees per forest for this fit: fewer for a time budget (``problem.rounds_share``)."""
    return max(1, round(N_TREES * problem.rounds_share))


def make_forest(problem: Problem, *, criterion: str = "gini", extra: bool = False):
    """A random forest (``extra=False``) or extra trees, split by ``criterion``.

    Parameters
    ----------
    problem : Problem
    criterion : {"gini", "entropy"}, default="gini"
        The split criterion for classes. Regression has neither, so the two
        variants become squared-error forests that differ in how many features
        each split may try (all of them for "gini", a third for "entropy"); that
        keeps the pair diverse, which is what a blend wants from them.
    extra : bool, default=False
        Extremely randomised trees (random thresholds) instead of a random forest.

    Returns
    -------
    estimator
        An unfitted scikit-learn forest.
    """
    if problem.task == "regression":
        forest = ensemble.ExtraTreesRegressor if extra else ensemble.RandomForestRegressor
        max_features = 1.0 if criterion == "gini" else 1 / 3
        return forest(
            n_estimators=_trees(problem), max_features=max_features, n_jobs=problem.threads, random_state=problem.seed
        )
    forest = ensemble.ExtraTreesClassifier if extra else ensemble.RandomForestClassifier
    return forest(n_estimators=_trees(problem), criterion=criterion, n_jobs=problem.threads, random_state=problem.seed)


def make_gradient_boosting(problem: Problem):
    """Scikit-learn's histogram gradient boosting, with early stopping on its own slice."""
    common = dict(
        max_iter=_rounds(N_BOOSTING_ROUNDS, problem),
        learning_rate=LEARNING_RATE,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        random_state=problem.seed,
    )
    if problem.task == "regression":
        return ensemble.HistGradientBoostingRegressor(**common)
    return ensemble.HistGradientBoostingClassifier(**common)


def make_xgboost(problem: Problem):
    """An XGBoost model with the ``hist`` tree method, on ``problem.threads`` threads."""
    import xgboost

    common = dict(
        n_estimators=_rounds(N_BOOSTING_ROUNDS, problem),
        learning_rate=LEARNING_RATE,
        max_depth=6,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        n_jobs=problem.threads,
        random_state=problem.seed,
        verbosity=0,
    )
    if problem.task == "regression":
        return xgboost.XGBRegressor(**common)
    return xgboost.XGBClassifier(**common)


def make_lightgbm(problem: Problem):
    """A LightGBM model: leaf-wise trees, row and column subsampling, deterministic on ``problem.threads`` threads.

    ``deterministic=True`` with ``force_row_wise=True`` makes a seed give the same
    trees on every run on the same machine (LightGBM's documented recipe). Its category
    defaults (100 rows per level group, smoothing 10) suit millions of rows; on a
    Kaggle folder of a few thousand, a level with a dozen rows would never be split
    off, so they are 10 and 1 here (``min_child_samples`` still asks 20 rows per leaf).
    """
    import lightgbm

    common = dict(
        n_estimators=_rounds(N_BOOSTING_ROUNDS, problem),
        learning_rate=LEARNING_RATE,
        num_leaves=31,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=problem.threads,
        random_state=problem.seed,
        deterministic=True,
        force_row_wise=True,
        min_data_per_group=10,
        cat_smooth=1.0,
        verbose=-1,
    )
    model = lightgbm.LGBMRegressor(**common) if problem.task == "regression" else lightgbm.LGBMClassifier(**common)
    return NativeCategories(model, "lightgbm")


#: CatBoost's defaults (depth 6, 254 borders) took 37 s per MNIST fold on one core against
#: 6 s for LightGBM; depth 5 and 32 borders take 6 s for the same OOF accuracy (0.94).
CATBOOST_ROUNDS = 200
CATBOOST_LEARNING_RATE = 0.2
CATBOOST_DEPTH = 5
CATBOOST_BORDERS = 32


def make_catboost(problem: Problem):
    """A CatBoost model (symmetric trees), seeded, on ``problem.threads`` threads, writing no files."""
    import catboost

    common = dict(
        iterations=_rounds(CATBOOST_ROUNDS, problem),
        learning_rate=CATBOOST_LEARNING_RATE,
        depth=CATBOOST_DEPTH,
        border_count=CATBOOST_BORDERS,
        random_seed=problem.seed,
        thread_count=problem.threads,
        verbose=0,
        allow_writing_files=False,
    )
    if problem.task == "regression":
        model = catboost.CatBoostRegressor(**common)
    else:
        model = catboost.CatBoostClassifier(
            loss_function="MultiClass" if problem.task == "multiclass" else "Logloss", **common
        )
    return NativeCategories(model, "catboost")


class NativeCategories:
    """Hand a booster its text columns as categories, the way its library takes them.

    Parameters
    ----------
    model : estimator
        An unfitted LightGBM or CatBoost scikit-learn estimator.
    library : {"lightgbm", "catboost"}
        LightGBM reads pandas ``category`` columns (the levels are the training
        rows'; an unseen level is missing); CatBoost takes the text itself and the
        indices of its columns (``cat_features``). A numpy array (no text columns)
        goes through unchanged.
    """

    def __init__(self, model, library: str):
        self.model = model
        self.library = library
        self.levels: dict[str, list] = {}

    def _frame(self, X):
        if not isinstance(X, pd.DataFrame) or not self.levels:
            return X
        X = X.copy()
        for column, levels in self.levels.items():
            text = X[column].astype(str)
            # A level the training rows never had is missing for LightGBM; CatBoost takes any text.
            X[column] = (
                pd.Categorical(text.where(text.isin(levels)), categories=levels) if self.library == "lightgbm" else text
            )
        return X

    def fit(self, X, y) -> "NativeCategories":
        """Fit on ``X`` (an array, or a frame whose object columns are text) and ``y``."""
        if isinstance(X, pd.DataFrame):
            text_columns = [column for column in X.columns if not pd.api.types.is_numeric_dtype(X[column])]
            self.levels = {column: sorted(X[column].astype(str).unique()) for column in text_columns}
        options = {}
        if self.library == "catboost" and self.levels:
            options["cat_features"] = list(self.levels)
        self.model.fit(self._frame(X), y, **options)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        return self.model.predict_proba(self._frame(X))

    def predict(self, X):
        """Predicted values (regression)."""
        return np.asarray(self.model.predict(self._frame(X))).reshape(-1)


def make_knn(problem: Problem, *, n_neighbors: int = 5):
    """k-nearest neighbours on standardised features, neighbours weighted by distance.

    Distance weighting keeps the probabilities away from coarse multiples of 1/k;
    scaling stops one wide feature from deciding every distance.
    """
    if problem.task == "regression":
        model = neighbors.KNeighborsRegressor(n_neighbors=n_neighbors, weights="distance")
    else:
        model = neighbors.KNeighborsClassifier(n_neighbors=n_neighbors, weights="distance")
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)


def make_logistic_regression(problem: Problem):
    """Logistic regression on standardised features (ridge regression for a numeric target)."""
    if problem.task == "regression":
        return pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.Ridge(alpha=1.0))
    model = linear_model.LogisticRegression(C=1.0, max_iter=2000)
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)

"""Every blend method on scikit-learn's bundled datasets: OOF-CV score against held-out test score.

For breast cancer (binary), digits and wine (multiclass): a stratified, seeded 25% test
split is held out; eight base models make OOF predictions on the rest by seeded
stratified 5-fold CV, and test predictions averaged over their five fold models. Then
each method is scored twice, with log loss and accuracy:

- OOF-CV: single models on their OOF rows as they are; learning blends by
  ``blender.evaluation`` (fitted on 4/5 of the OOF rows, predicting the other fifth,
  pooled); stacking by its own cross-validation. Learners optimise log loss.
- test: the method fitted on all OOF rows, applied to the test predictions.

Run: .venv/bin/python benchmarks/bench_real_data.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn import datasets, discriminant_analysis, ensemble, linear_model, naive_bayes, neighbors, svm
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from blender.evaluation import blend_methods, cross_val_blend_predict
from blender.metrics import score
from blender.stacking import stack
from blender.weights import apply_weights, optimize_weights

SEED = 0

BASE_MODELS = {
    "logreg": make_pipeline(StandardScaler(), linear_model.LogisticRegression(max_iter=2000)),
    "knn": make_pipeline(StandardScaler(), neighbors.KNeighborsClassifier(15)),
    "rf": ensemble.RandomForestClassifier(200, random_state=SEED),
    "et": ensemble.ExtraTreesClassifier(200, random_state=SEED),
    "gnb": naive_bayes.GaussianNB(),
    "hgb": ensemble.HistGradientBoostingClassifier(max_iter=100, random_state=SEED),
    "svc": make_pipeline(StandardScaler(), svm.SVC(probability=True, random_state=SEED)),
    "lda": discriminant_analysis.LinearDiscriminantAnalysis(),
}

DATASETS = {"breast cancer": datasets.load_breast_cancer, "digits": datasets.load_digits, "wine": datasets.load_wine}


def base_predictions(X_train, y_train, X_test):
    """OOF and fold-averaged test probabilities, (n_models, n_rows, n_classes) each."""
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    n_classes = len(np.unique(y_train))
    oof = np.zeros((len(BASE_MODELS), len(y_train), n_classes))
    test = np.zeros((len(BASE_MODELS), len(X_test), n_classes))
    for m, model in enumerate(BASE_MODELS.values()):
        for train_rows, held_out in folds.split(X_train, y_train):
            fitted = clone(model).fit(X_train[train_rows], y_train[train_rows])
            oof[m, held_out] = fitted.predict_proba(X_train[held_out])
            test[m] += fitted.predict_proba(X_test) / 5
    return oof, test


def evaluate(name, loader):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=SEED)
    start = time.perf_counter()
    cube, test_cube = base_predictions(X_train, y_train, X_test)
    base_seconds = time.perf_counter() - start
    kind = "binary" if cube.shape[2] == 2 else "multiclass"
    # Binary files hold P(class 1): one column per model.
    oof, test = (cube[:, :, 1].T, test_cube[:, :, 1].T) if kind == "binary" else (cube, test_cube)

    def both(truth, predictions):
        return (score(truth, predictions, metric="logloss", kind=kind),
                score(truth, predictions, metric="accuracy", kind=kind))

    rows = []
    for m, model in enumerate(BASE_MODELS):
        single = (lambda a: a[:, m]) if kind == "binary" else (lambda a: a[m])
        rows.append((model, "model", *both(y_train, single(oof)), *both(y_test, single(test))))

    methods = blend_methods(kind, "logloss", random_state=SEED)
    methods["weights-nelder-mead"] = lambda train, y_fit, apply: apply_weights(
        apply, optimize_weights(train, y_fit, kind=kind, metric="logloss", method="nelder-mead"), kind=kind)
    methods = {("weights-slsqp" if key == "weights" else key): value for key, value in methods.items()
               if not key.startswith("stack-")}
    for method_name, method in methods.items():
        pooled = cross_val_blend_predict(method, oof, y_train, kind=kind, cv=5, random_state=SEED)
        rows.append((method_name, "blend", *both(y_train, pooled), *both(y_test, method(oof, y_train, test))))

    stackers = {f"stack-{meta}": {"meta": meta} for meta in ("logreg", "ridge", "xgb", "et", "rf", "knn")}
    stackers["stack-logreg-fwls"] = {"meta": "logreg", "fwls": True}
    stackers["stack-logreg-quadratic"] = {"meta": "logreg", "quadratic": True}
    stackers["stack-logreg-logit"] = {"meta": "logreg", "logit": True}
    for method_name, options in stackers.items():
        result = stack(oof, y_train, test, kind=kind, folds=5, random_state=SEED, **options)
        rows.append((method_name, "stack", *both(y_train, result.oof_predictions),
                     *both(y_test, result.test_predictions)))

    print(f"\n{name}: {kind}, {len(y_train)} OOF rows, {len(y_test)} test rows, {cube.shape[2]} classes, "
          f"{len(BASE_MODELS)} base models ({base_seconds:.0f} s), blends {time.perf_counter() - start - base_seconds:.0f} s")
    header = ("method", "type", "OOF-CV logloss", "OOF-CV accuracy", "test logloss", "test accuracy")
    table = [header] + [(r[0], r[1], f"{r[2]:.4f}", f"{r[3]:.4f}", f"{r[4]:.4f}", f"{r[5]:.4f}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        print("  ".join(cell.ljust(width) if i < 2 else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def main() -> None:
    warnings.filterwarnings("ignore", category=UserWarning)  # sklearn/xgboost chatter on small folds
    warnings.filterwarnings("ignore", category=FutureWarning)  # SVC(probability=True) is deprecated in 1.9
    start = time.perf_counter()
    for name, loader in DATASETS.items():
        evaluate(name, loader)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

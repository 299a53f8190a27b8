"""Small Kaggle-style competition folders built from data that ship inside installed packages.

Each folder holds ``train.csv`` (id, features, target), ``test.csv`` (id, features) and
``sample_submission.csv`` (the test ids and the target's header), as a competition gives
them: string ids with leading zeros, about 2% of the numeric cells missing, a text
categorical column, and the target written as the competition writes it. None of these data
sets is used by ``benchmarks/``.

- ``binary``: statsmodels' US macro data (203 quarters); ``high_unemployment`` is ``Yes`` or
  ``No`` (unemployment above its median), from the other series; ``quarter`` is ``Q1``..``Q4``.
- ``multiclass``: scikit-learn's iris; ``species`` is ``setosa``, ``versicolor`` or
  ``virginica``; ``size`` is a text column (``small``, ``medium``, ``large``).
- ``regression``: statsmodels' Engel food expenditure (235 households); ``foodexp`` from
  income; ``band`` is a text income band.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

KINDS = ("binary", "multiclass", "regression")


def competition_frame(kind: str) -> tuple[pd.DataFrame, str]:
    """The whole table of one competition (features and target) and the target's name."""
    if kind == "binary":
        from statsmodels.datasets import macrodata

        data = macrodata.load_pandas().data
        frame = data[["realgdp", "realcons", "realinv", "realgovt", "cpi", "m1", "tbilrate", "infl"]].copy()
        frame["quarter"] = "Q" + data["quarter"].astype(int).astype(str)
        frame["high_unemployment"] = np.where(data["unemp"] > data["unemp"].median(), "Yes", "No")
        return frame, "high_unemployment"
    if kind == "multiclass":
        from sklearn.datasets import load_iris

        iris = load_iris(as_frame=True)
        frame = iris.data.copy()
        frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        frame["size"] = pd.cut(frame["sepal_length"], [0, 5.4, 6.2, 10], labels=["small", "medium", "large"]).astype(
            str
        )
        frame["species"] = iris.target_names[iris.target]
        return frame, "species"
    if kind == "regression":
        from statsmodels.datasets import engel

        data = engel.load_pandas().data
        frame = pd.DataFrame({"income": data["income"]})
        frame["band"] = pd.qcut(data["income"], 4, labels=["low", "lower-mid", "upper-mid", "high"]).astype(str)
        frame["foodexp"] = data["foodexp"]
        return frame, "foodexp"
    raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")


def make_folder(kind: str, folder: Path, *, seed: int = 0, test_share: float = 0.25, missing: float = 0.02) -> Path:
    """Write ``train.csv``, ``test.csv`` and ``sample_submission.csv`` of one competition into ``folder``."""
    frame, target = competition_frame(kind)
    rng = np.random.default_rng(seed)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "row_id", [f"r{number:05d}" for number in rng.permutation(len(frame))])
    numeric = [
        column for column in frame.columns if column not in ("row_id", target) and frame[column].dtype.kind == "f"
    ]
    for column in numeric:
        frame.loc[rng.random(len(frame)) < missing, column] = np.nan
    n_test = int(round(test_share * len(frame)))
    test, train = frame.iloc[:n_test], frame.iloc[n_test:]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_csv(folder / "train.csv", index=False)
    test.drop(columns=[target]).to_csv(folder / "test.csv", index=False)
    sample = test[["row_id"]].iloc[rng.permutation(n_test)].copy()
    if kind == "multiclass":
        for label in sorted(frame[target].unique()):
            sample[label] = 1.0 / frame[target].nunique()
    else:
        sample[target] = 0.5 if kind == "binary" else 0.0
    sample.to_csv(folder / "sample_submission.csv", index=False)
    (folder / "test_truth.csv").write_text(test[["row_id", target]].to_csv(index=False))
    return folder

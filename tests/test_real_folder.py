"""A real Kaggle folder end to end, as a user runs it: the zoo on train.csv/test.csv, then blend auto --sample.

The folders (``tests/kaggle_folders.py``) come from data that ship inside installed packages:
a Yes/No target, a three-species text target and a numeric one, with string ids, missing
cells and a text column. Nothing is edited by hand between the two halves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kaggle_folders import KINDS, make_folder
from typer.testing import CliRunner

from blender.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_zoo_then_blend_auto_with_the_sample(tmp_path, monkeypatch, kind):
    folder = make_folder(kind, tmp_path / "competition")
    zoo = subprocess.run(
        [
            sys.executable,
            "-m",
            "models",
            "oof",
            "--data",
            str(folder),
            "--models",
            "logreg knn_15 rf_gini",
            "--root",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert zoo.returncode == 0, zoo.stderr
    if kind == "binary":
        assert (
            "binary target 'high_unemployment' (No/Yes): each file's column 'high_unemployment' is the probability "
            "of Yes"
        ) in zoo.stderr
    monkeypatch.chdir(tmp_path)
    sample = folder / "sample_submission.csv"
    result = CliRunner().invoke(app, ["auto", "--sample", str(sample), "-o", "blends/auto.csv", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv("blends/auto.csv", dtype={"row_id": str})
    expected = pd.read_csv(sample, dtype={"row_id": str})
    assert list(written.columns) == list(expected.columns)
    assert written["row_id"].tolist() == expected["row_id"].tolist()
    values = written.drop(columns="row_id").to_numpy()
    assert np.isfinite(values).all()
    if kind != "regression":
        assert (values >= 0).all() and (values <= 1).all()
    if kind == "multiclass":
        assert np.allclose(values.sum(axis=1), 1.0)
    if kind == "binary":
        assert "positive class: Yes (the second of No, Yes in sorted order)" in result.stderr
        # The blend beats chance on the kept-aside truth: the two halves agree on which class the column is.
        truth = pd.read_csv(folder / "test_truth.csv").set_index("row_id")["high_unemployment"]
        from sklearn.metrics import roc_auc_score

        assert roc_auc_score(truth.loc[written["row_id"]] == "Yes", written["high_unemployment"]) > 0.8
        vote = CliRunner().invoke(app, ["vote", "--sample", str(sample), "-o", "blends/vote.csv"])
        assert vote.exit_code == 0, vote.output
        assert set(pd.read_csv("blends/vote.csv")["high_unemployment"]) <= {"No", "Yes"}
    check = CliRunner().invoke(app, ["check", str(sample), "blends/auto.csv"])
    assert check.exit_code == 0, check.output

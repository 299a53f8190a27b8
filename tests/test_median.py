"""blend median: the registry's median entry, by hand, against numpy, and from the command line."""

import numpy as np
import pandas as pd
import pytest

from blender import methods
from blender.median import median


def test_median_by_hand():
    values = np.array([[1.0, 10.0], [2.0, -50.0], [100.0, 12.0]])[:, :, None]
    assert median(values)[:, 0].tolist() == [2.0, 10.0]  # the wild 100 and -50 do not move it


def test_median_equals_numpy_and_multiclass_rows_sum_to_one():
    rng = np.random.default_rng(0)
    values = rng.dirichlet(np.ones(4), size=(5, 30))
    blended = median(values, kind="multiclass")
    expected = np.median(values, axis=0)
    assert np.allclose(blended, expected / expected.sum(axis=1, keepdims=True), rtol=1e-15)
    assert np.allclose(blended.sum(axis=1), 1.0)


def test_the_registry_offers_it_to_score_and_auto():
    assert "median" in [m.name for m in methods.methods_for("regression", "rmse")]
    assert "median" not in [m.name for m in methods.methods_for("labels", "accuracy")]


def test_blend_median_is_a_command(blend, three_files, tmp_path):
    out = tmp_path / "median.csv"
    result = blend("median", *three_files, "-o", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert written["target"].tolist() == pytest.approx([0.1, 0.8, 0.35, 0.55, 0.95])


def test_blend_median_refuses_labels(blend, write_csv, tmp_path):
    a = write_csv("a.csv", "id,label\n1,cat\n")
    result = blend("median", a, "-o", tmp_path / "m.csv")
    assert result.exit_code == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"Error: {a}: median takes binary, multiclass, regression files")
    )

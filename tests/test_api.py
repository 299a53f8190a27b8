"""The Python face (blender.blend, blender.auto) on DataFrames: the same numbers as the command line on the
same predictions written as files, every shape it takes, and one-line errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import blender
from blender.cli import app
from blender.errors import BlendInputError


def _binary(seed=0, n=240, n_test=60):
    rng = np.random.default_rng(seed)
    y = pd.Series(rng.integers(0, 2, n), index=[f"r{i:03d}" for i in range(n)], name="target")
    truth = np.r_[y.to_numpy(), rng.integers(0, 2, n_test)]

    def model(noise):
        return np.clip(0.5 + (truth - 0.5) * 0.5 + rng.normal(0, noise, n + n_test), 0.001, 0.999)

    columns = {name: model(noise) for name, noise in (("lr", 0.25), ("rf", 0.3), ("knn", 0.4))}
    oof = pd.DataFrame({name: values[:n] for name, values in columns.items()}, index=y.index)
    test = pd.DataFrame(
        {name: values[n:] for name, values in columns.items()}, index=[f"t{i:03d}" for i in range(n_test)]
    )
    return oof, test, y


def _as_files(root, oof, test, y):
    (root / "submissions" / "oof").mkdir(parents=True)
    (root / "data").mkdir()
    for name in oof.columns:
        oof[[name]].rename(columns={name: "target"}).rename_axis("id").to_csv(
            root / "submissions" / "oof" / f"{name}.csv"
        )
        test[[name]].rename(columns={name: "target"}).rename_axis("id").to_csv(root / "submissions" / f"{name}.csv")
    y.rename_axis("id").to_csv(root / "data" / "train_labels.csv")


@pytest.mark.parametrize(
    "method, options, cli",
    [
        ("caruana", {"iters": 10}, ["caruana", "--iters", "10"]),
        ("weights", {}, ["weights"]),
        ("stack-logreg", {}, ["stack", "--meta", "logreg"]),
    ],
)
def test_blend_gives_the_command_lines_numbers(tmp_path, monkeypatch, method, options, cli):
    oof, test, y = _binary()
    result = blender.blend(method, oof, test, y, metric="logloss", **options)
    _as_files(tmp_path, oof, test, y)
    monkeypatch.chdir(tmp_path)
    files = [f"submissions/{name}.csv" for name in oof.columns]  # the frames' model order, not the glob's
    run = CliRunner().invoke(app, [*cli, *files, "--metric", "logloss", "-o", "blends/out.csv", "--json"])
    assert run.exit_code == 0, run.output
    written = pd.read_csv("blends/out.csv", dtype={"id": str}).set_index("id")["target"]
    np.testing.assert_allclose(result.test_blend.loc[written.index].to_numpy(), written.to_numpy(), rtol=0, atol=1e-12)
    document = json.loads(run.stdout)
    assert document["score"]["mean"] == pytest.approx(result.score.mean, abs=1e-12)
    assert document["best_single"]["name"] == result.best_single.name
    oof_written = pd.read_csv("blends/oof/out.csv", dtype={"id": str}).set_index("id")["target"]
    np.testing.assert_allclose(result.oof_blend.loc[oof_written.index].to_numpy(), oof_written.to_numpy(), atol=1e-12)


def test_blend_takes_arrays_and_dicts_of_class_probability_frames():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 150)
    ids = [f"r{i}" for i in range(150)]

    def frame(noise, rows, index):
        scores = np.eye(3)[np.r_[y, rng.integers(0, 3, 40)][:rows]] * 2 + rng.normal(0, noise, (rows, 3))
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        return pd.DataFrame(p, index=index, columns=["cat", "dog", "owl"])

    oof = {"a": frame(1.0, 150, ids), "b": frame(1.5, 150, ids)}
    test_ids = [f"t{i}" for i in range(40)]
    test = {"a": frame(1.0, 40, test_ids), "b": frame(1.5, 40, test_ids)}
    labels = pd.Series(np.array(["cat", "dog", "owl"], dtype=object)[y], index=ids)
    result = blender.blend("average", oof, test, labels, metric="map@2")
    assert list(result.test_blend.columns) == ["cat", "dog", "owl"] and list(result.test_blend.index) == test_ids
    np.testing.assert_allclose(result.test_blend.to_numpy(), (test["a"].to_numpy() + test["b"].to_numpy()) / 2)
    assert result.decisions.str.split(" ").map(len).eq(2).all()
    arrays = blender.blend(
        "average",
        np.stack([oof["a"].to_numpy(), oof["b"].to_numpy()]),
        np.stack([test["a"].to_numpy(), test["b"].to_numpy()]),
        y,
    )
    np.testing.assert_allclose(arrays.test_blend.to_numpy(), result.test_blend.to_numpy())


def test_auto_result_is_the_json_of_the_command_line(tmp_path, monkeypatch):
    oof, test, y = _binary(seed=4)
    result = blender.auto(oof, test, y, metric="auc", repeats=1, max_level=1)
    document = result.to_dict()
    json.dumps(document)
    _as_files(tmp_path, oof, test, y)
    monkeypatch.chdir(tmp_path)
    files = [f"submissions/{name}.csv" for name in oof.columns]  # the frames' model order, not the glob's
    run = CliRunner().invoke(app, ["auto", *files, "--metric", "auc", "--repeats", "1", "--max-level", "1", "--json"])
    assert run.exit_code == 0, run.output
    printed = json.loads(run.stdout)
    assert printed["pick"] == document["pick"]
    assert printed["score"]["mean"] == pytest.approx(document["score"]["mean"], abs=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda oof, test, y: blender.blend("caruana", oof, test, y, itrs=3),
            "caruana has no option 'itrs'; its options:",
        ),
        (lambda oof, test, y: blender.blend("carauna", oof, test, y), "unknown method 'carauna'"),
        (lambda oof, test, y: blender.blend("average", oof, test, y.iloc[:-1]), "y: 239 values for 240 OOF rows"),
        (lambda oof, test, y: blender.blend("average", oof, test[["lr", "rf"]], y), "oof and test name other models"),
        (
            lambda oof, test, y: blender.blend("average", oof.drop(index="r005"), test, y.drop(index="r000")),
            "have no truth",
        ),
        (lambda oof, test, y: blender.blend("average", oof, test, y, metric="f2"), "metric f2: unknown metric 'f2'"),
    ],
)
def test_bad_input_is_one_line_naming_the_frame(call, message):
    oof, test, y = _binary()
    with pytest.raises(BlendInputError, match=message) as caught:
        call(oof, test, y)
    assert "\n" not in str(caught.value) and "/tmp" not in str(caught.value)

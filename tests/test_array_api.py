"""The fold-score kernels through array-api-strict: the array API standard only, and NumPy's numbers.

Every metric with an array-API form (``Entry.array_api``) is scored in ``array_api_strict`` (the
2023.12 standard, with NumPy conversions of its arrays refused) and compared with NumPy's scores
within 1e-6, on random data with ties: so a NumPy-only call in a definition fails here (issue 28).
CuPy runs the same code with ``--device gpu``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import array_api_strict as xps
import numpy as np
import pytest

from blender import arrays, evaluation, layout, metrics
from blender.errors import BlendInputError

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-6


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    """array-api-strict at the 2023.12 standard, its arrays refusing to become NumPy's on the quiet."""
    xps.set_array_api_strict_flags(api_version="2023.12")

    def refuse(self, *args, **kwargs):
        raise TypeError("a NumPy call on an array-api-strict array: the kernel left the array API")

    monkeypatch.setattr(type(xps.asarray(0.0)), "__array__", refuse, raising=False)
    yield
    xps.reset_array_api_strict_flags()


def _probabilities(generator, shape):
    # Two decimals: many ties within and across rows.
    return np.round(generator.uniform(0.01, 0.99, shape), 2)


def _data(kind, n_rows=300, n_candidates=4, n_classes=3, seed=0):
    """The truth and candidate predictions (n_candidates, n_rows[, n_classes]) of ``kind``, with ties."""
    generator = np.random.default_rng(seed)
    if kind == "binary":
        y = generator.integers(0, 2, n_rows)
        return y, _probabilities(generator, (n_candidates, n_rows))
    if kind == "multiclass":
        y = generator.integers(0, n_classes, n_rows)
        raw = _probabilities(generator, (n_candidates, n_rows, n_classes))
        return y, raw / raw.sum(axis=-1, keepdims=True)
    if kind == "labels":
        y = generator.integers(0, n_classes, n_rows)
        return y, np.eye(n_classes)[generator.integers(0, n_classes, (n_candidates, n_rows))]
    y = np.round(generator.uniform(0, 5, n_rows), 1)
    return y, np.round(y + generator.normal(0, 1, (n_candidates, n_rows)), 1)


ARRAY_API = [(name, kind) for name, entry in metrics.REGISTRY.items() if entry.array_api for kind in entry.kinds]


def test_the_array_api_metrics_are_the_fold_score_metrics():
    # log loss, AUC/gini, rmse/mse/mae, accuracy and the decision metrics have the generic form; qwk's
    # cut-point search, map@K, average precision and plug-ins stay NumPy.
    names = {name for name, _ in ARRAY_API}
    assert {"logloss", "auc", "gini", "rmse", "mae", "brier", "accuracy", "f1", "mcc"} <= names
    assert not names & {"qwk", "map@K", "average_precision"}


@pytest.mark.parametrize(("name", "kind"), ARRAY_API)
def test_batch_through_array_api_strict_equals_numpy(name, kind):
    y, candidates = _data(kind)
    metric = metrics.resolve(name, kind)
    if name == "rmsle":
        candidates = np.abs(candidates)
    expected = metric.batch(y, candidates, xp=np)
    got = metric.batch(xps.asarray(y), xps.asarray(candidates), xp=xps)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (candidates.shape[0],)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    # One candidate, as the leaderboard scores a fold: score (the plain step) and fitted.
    for method in ("score", "fitted"):
        one = getattr(metric, method)(y, candidates[1], xp=xps)
        assert isinstance(one, float)
        assert one == pytest.approx(getattr(metric, method)(y, candidates[1], xp=np), abs=TOLERANCE)


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "f1", "mcc"])
def test_the_best_threshold_by_one_sort_equals_numpys_histogram(name):
    # 5,000 rows: NumPy takes its histogram path (n >= 4096); the array-API path sorts every candidate.
    y, candidates = _data("binary", n_rows=5000, n_candidates=6, seed=3)
    candidates = np.round(candidates * 0.5 + 0.5 * y, 3)  # informative, so that the best cut is not at an end
    metric = metrics.resolve(name, "binary")
    expected = metric.batch(y, candidates, xp=np)
    np.testing.assert_allclose(metric.batch(y, candidates, xp=xps), expected, rtol=0, atol=TOLERANCE)
    assert expected == pytest.approx([metric.fitted(y, candidate, xp=np) for candidate in candidates], abs=1e-12)


def test_auc_with_ties_equals_scikit_learn_through_array_api_strict():
    from sklearn.metrics import roc_auc_score

    y, candidates = _data("binary", seed=5)
    candidates = np.round(candidates, 1)  # ten values: ties everywhere
    got = metrics.auc_rows(xps.asarray(y == 1), xps.asarray(candidates), xp=xps)
    assert got == pytest.approx([roc_auc_score(y, row) for row in candidates], abs=1e-12)


def test_the_metrics_without_an_array_api_form_score_numpy_copies():
    y, candidates = _data("multiclass")
    for name in ("qwk", "map@2"):
        metric = metrics.resolve(name, "multiclass")
        expected = metric.batch(y, candidates, xp=np)
        np.testing.assert_allclose(metric.batch(y, xps.asarray(candidates), xp=xps), expected, atol=TOLERANCE)
    y, candidates = _data("binary")
    metric = metrics.resolve("average_precision", "binary")
    np.testing.assert_allclose(
        metric.batch(y, xps.asarray(candidates), xp=xps), metric.batch(y, candidates, xp=np), atol=TOLERANCE
    )


def test_a_numpy_call_on_a_strict_array_fails():
    # What guards the tests above: NumPy refuses the strict arrays, so a kernel that calls NumPy fails.
    with pytest.raises(TypeError, match="left the array API"):
        np.log(xps.asarray([0.5, 0.25]))


def test_the_runs_namespace_is_used_where_no_xp_is_given():
    y, candidates = _data("binary")
    metric = metrics.resolve("logloss", "binary")
    with arrays.using(xps):
        assert arrays.namespace() is xps
        got = metric.batch(y, candidates)
    assert arrays.namespace() is np
    np.testing.assert_allclose(got, metric.batch(y, candidates), atol=TOLERANCE)


@pytest.mark.parametrize(
    ("kind", "metric"),
    [("binary", "logloss"), ("binary", "auc"), ("binary", "f1"), ("multiclass", "logloss"), ("regression", "rmse")],
)
def test_the_leaderboards_fold_scores_through_array_api_strict(kind, metric):
    y, candidates = _data(kind, n_rows=240, n_candidates=3, seed=7)
    values = candidates[..., None] if kind in ("binary", "regression") else candidates
    splits = evaluation.repeated_folds(y, kind=kind, folds=4, repeats=1, random_state=0)
    resolved = metrics.for_truth(metric, kind, y)
    expected = evaluation.model_fold_scores(values, y, splits, kind=kind, metric=resolved, xp=np)
    got = evaluation.model_fold_scores(values, y, splits, kind=kind, metric=resolved, xp=xps)
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(
        layout.model_scores(values, y, metric=resolved, kind=kind, xp=xps),
        layout.model_scores(values, y, metric=resolved, kind=kind, xp=np),
        rtol=0,
        atol=TOLERANCE,
    )


def test_a_whole_leaderboard_in_array_api_strict_equals_numpys():
    from blender.methods import BY_NAME

    y, candidates = _data("binary", n_rows=200, n_candidates=3, seed=11)
    values = candidates[..., None]
    kwargs = dict(kind="binary", metric="auc", names=["a", "b", "c"], folds=3, methods=[BY_NAME["average"]])
    expected = evaluation.leaderboard(values, y, **kwargs)
    got = evaluation.leaderboard(values, y, xp=xps, **kwargs)
    assert [entry.name for entry in got.entries] == [entry.name for entry in expected.entries]
    for mine, theirs in zip(got.entries, expected.entries):
        np.testing.assert_allclose(mine.fold_scores, theirs.fold_scores, rtol=0, atol=TOLERANCE)


def test_device_gpu_without_cupy_or_a_gpu_is_one_line():
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    with pytest.raises(BlendInputError) as caught:
        arrays.for_device("gpu")
    assert str(caught.value) == arrays.GPU_NEEDED
    assert arrays.for_device("cpu") is np
    with pytest.raises(BlendInputError, match="expected cpu or gpu"):
        arrays.for_device("tpu")


@pytest.mark.parametrize("stand_in", ["numpy", "array_api_strict"])
def test_the_gpu_benchmark_runs_small_on_the_cpu(tmp_path, stand_in):
    script = ROOT / "benchmarks" / "bench_gpu.py"
    result = subprocess.run(
        [sys.executable, str(script), "--cpu-only", "--size", "small", "--stand-in", stand_in, "--iters", "5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "caruana logloss, 5 rounds" in result.stdout and "failed" not in result.stdout
    differences = [float(line.rsplit(":", 1)[1]) for line in result.stdout.splitlines() if "max |difference|" in line]
    assert len(differences) == 3 and max(differences) < 1e-6


@pytest.fixture
def files(tmp_path, monkeypatch):
    """submissions/*.csv, submissions/oof/*.csv and data/train_labels.csv (binary) in tmp_path."""
    import pandas as pd

    generator = np.random.default_rng(2)
    y = generator.integers(0, 2, 200)
    for folder in ("submissions/oof", "data"):
        (tmp_path / folder).mkdir(parents=True)
    for name, noise in (("a", 0.3), ("b", 0.4), ("c", 0.5)):
        oof = np.clip(y + generator.normal(0, noise, 200), 0.01, 0.99) * 0.5 + 0.25
        pd.DataFrame({"id": np.arange(200), "target": oof}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
        test = generator.uniform(0.01, 0.99, 50)
        pd.DataFrame({"id": np.arange(1000, 1050), "target": test}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
    pd.DataFrame({"id": np.arange(200), "target": y}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cupy_missing():
    try:
        arrays.for_device("gpu")
    except BlendInputError:
        return True
    return False


@pytest.mark.skipif(not _cupy_missing(), reason="CuPy and a GPU are here")
@pytest.mark.parametrize("command", [["score"], ["auto"], ["caruana"], ["weights"], ["stack"]])
def test_device_gpu_is_refused_in_one_line_before_any_work(files, command):
    from typer.testing import CliRunner

    from blender.cli import app

    result = CliRunner().invoke(app, [*command, "submissions/*.csv", "--device", "gpu"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {arrays.GPU_NEEDED}"]
    assert not (files / "blends").exists()


def test_device_cpu_runs_the_commands_as_before(files):
    from typer.testing import CliRunner

    from blender.cli import app

    result = CliRunner().invoke(app, ["score", "submissions/*.csv", "--models-only", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "--device" in CliRunner().invoke(app, ["caruana", "--help"]).output
    assert arrays.namespace() is np


@pytest.mark.skipif(not _cupy_missing(), reason="CuPy and a GPU are here")
def test_the_python_face_refuses_device_gpu_without_a_gpu():
    import pandas as pd

    import blender

    y = pd.Series([0, 1] * 20)
    oof = pd.DataFrame({"a": np.linspace(0.1, 0.9, 40), "b": np.linspace(0.9, 0.1, 40)})
    for call in (
        lambda: blender.blend("average", oof, oof, y, device="gpu"),
        lambda: blender.auto(oof, oof, y, device="gpu"),
    ):
        with pytest.raises(BlendInputError, match="needs CuPy"):
            call()
    result = blender.blend("average", oof, oof, y, metric="auc", device="cpu")
    assert result.score.mean == pytest.approx(blender.blend("average", oof, oof, y, metric="auc").score.mean, abs=0)

"""The fold loop on a Dask cluster: the same files as a local run, data sent once, CNN tasks on GPU workers."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.cli import main
from models.data import Dataset
from models.oof import run_oof
from models.registry import LEARNERS, Learner

ROOT = Path(__file__).resolve().parents[1]

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
    ) as cluster:
        yield cluster


def _blobs_folder(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3, size=(3, 4))
    y = np.arange(150) % 3
    X = centres[y] + rng.normal(size=(150, 4))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame.insert(0, "id", np.arange(500, 650))
    frame["target"] = y
    folder = tmp_path / "blobs"
    folder.mkdir()
    frame.iloc[:120].to_csv(folder / "train.csv", index=False)
    frame.iloc[120:].drop(columns="target").to_csv(folder / "test.csv", index=False)
    return folder


def small_forest(problem):
    """A seeded 20-tree forest: deterministic, and cheaper than the zoo's 300 trees."""
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=20, random_state=problem.seed, n_jobs=problem.threads)


CHEAP = [LEARNERS["logreg"], Learner("rf_gini", small_forest), LEARNERS["knn_5"]]


def test_cluster_run_writes_the_same_bytes_as_a_local_run(tmp_path, cluster, capsys, monkeypatch):
    monkeypatch.setattr("models.cli.select_learners", lambda spec, has_images: CHEAP)
    folder = _blobs_folder(tmp_path)
    common = ["oof", "--data", str(folder), "--folds", "3", "--seeds", "2"]
    assert main([*common, "--root", str(tmp_path / "local"), "--jobs", "2"]) == 0
    capsys.readouterr()
    assert main([*common, "--root", str(tmp_path / "cluster"), "--scheduler", cluster.scheduler_address]) == 0
    stderr = capsys.readouterr().err
    assert (
        f"Dask cluster at {cluster.scheduler_address}: 2 worker(s), 0 with a GPU; data scattered once; 18 tasks"
        in stderr
    )
    # One progress line per task, as they finish.
    assert (
        sum(line.startswith(("[logreg] fold ", "[rf_gini] fold ", "[knn_5] fold ")) for line in stderr.splitlines())
        == 18
    )

    local_files = sorted(path.relative_to(tmp_path / "local") for path in (tmp_path / "local").rglob("*.csv"))
    cluster_files = sorted(path.relative_to(tmp_path / "cluster") for path in (tmp_path / "cluster").rglob("*.csv"))
    assert local_files == cluster_files and len(local_files) == 2 * 3 + 2  # NAME.csv, oof/NAME.csv, labels, folds
    for relative in local_files:
        assert (tmp_path / "cluster" / relative).read_bytes() == (tmp_path / "local" / relative).read_bytes(), relative


def test_data_go_to_the_workers_once(cluster):
    # The data arrays are scattered once (one key each on every worker); tasks refer to them.
    rng = np.random.default_rng(1)
    data = Dataset(
        name="noise", task="multiclass", X_train=rng.normal(size=(60, 3)), y_train=np.arange(60) % 3,
        X_test=rng.normal(size=(6, 3)), ids_train=np.arange(60), ids_test=np.arange(60, 66), classes=np.arange(3),
    )  # fmt: skip
    lines = []
    with distributed.Client(cluster.scheduler_address) as client:
        seen = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.transition_log))
        run_oof(
            [LEARNERS["logreg"], LEARNERS["knn_5"]],
            data,
            n_folds=3,
            scheduler=cluster.scheduler_address,
            log=lines.append,
        )
        log = client.run_on_scheduler(lambda dask_scheduler: [msg[0] for msg in dask_scheduler.transition_log])[seen:]
    assert "6 tasks" in lines[0]
    scattered = {key for key in log if str(key).startswith("ndarray-")}
    # y, features, features_test: three arrays, whatever the number of tasks.
    assert len(scattered) == 3


class _WhereAmI:
    """A fake image model that predicts class 0 when it ran on a GPU worker under the GPU plan, else class 1."""

    def __init__(self, problem):
        self.problem = problem

    def fit(self, X, y):
        worker = distributed.get_worker()
        self.on_gpu = worker.state.total_resources.get("GPU", 0) >= 1 and self.problem.gpu
        return self

    def predict_proba(self, X):
        probabilities = np.zeros((len(X), 3))
        probabilities[:, 0 if self.on_gpu else 1] = 1.0
        return probabilities


def test_cnn_tasks_land_on_gpu_workers(tmp_path, cluster):
    rng = np.random.default_rng(2)
    images = rng.random((30, 4, 4, 1)).astype("float32")
    data = Dataset(
        name="tiny", task="multiclass", X_train=images.reshape(30, -1), y_train=np.arange(30) % 3,
        X_test=images[:4].reshape(4, -1), ids_train=np.arange(30), ids_test=np.arange(30, 34), classes=np.arange(3),
        images_train=images, images_test=images[:4],
    )  # fmt: skip
    fake_cnn = Learner("cnn_fake", _WhereAmI, "images")
    # Without a GPU worker, the CNN tasks run anywhere, on the CPU plan.
    result = run_oof([fake_cnn], data, n_folds=3, scheduler=cluster.scheduler_address, log=lambda line: None)
    assert (result["cnn_fake"].oof.argmax(axis=1) == 1).all()
    # A third worker that offers a GPU, started as the README says (this test runs last on the cluster).
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address, "--nthreads", "1",
         "--resources", "GPU=1", "--no-dashboard"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with distributed.Client(cluster.scheduler_address) as client:
            client.wait_for_workers(3, timeout=60)
        lines = []
        result = run_oof([fake_cnn], data, n_folds=3, scheduler=cluster.scheduler_address, log=lines.append)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert "3 worker(s), 1 with a GPU" in lines[0] and "CNN tasks ask for GPU=1, GPU plan" in lines[0]
    assert (result["cnn_fake"].oof.argmax(axis=1) == 0).all()
    assert (result["cnn_fake"].test.argmax(axis=1) == 0).all()


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("models.cluster.CONNECT_TIMEOUT", 2)
    folder = _blobs_folder(tmp_path)
    start = time.perf_counter()
    code = main(["oof", "--models", "logreg", "--data", str(folder), "--root", str(tmp_path / "out"),
                 "--scheduler", "tcp://127.0.0.1:1"])  # fmt: skip
    assert code == 1
    stderr = capsys.readouterr().err
    assert stderr.splitlines()[-1].startswith("Error: --scheduler tcp://127.0.0.1:1: no Dask scheduler answers there")
    assert "Traceback" not in stderr and time.perf_counter() - start < 60


def test_a_local_run_never_imports_dask(tmp_path):
    folder = _blobs_folder(tmp_path)
    script = (
        "import sys; from models.cli import main; "
        f"assert main(['oof', '--models', 'logreg', '--data', {str(folder)!r}, '--root', {str(tmp_path / 'out')!r}, "
        "'--folds', '2', '--jobs', '2']) == 0; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"

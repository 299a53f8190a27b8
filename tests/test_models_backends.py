"""The CNNs on any Keras 3 backend (issue 28): which backend runs, what a missing one says, and that
the zoo's code stays backend-agnostic, so a TensorFlow-only call fails here before it fails a JAX user.

The end-to-end run with JAX on another Python with no TensorFlow needs that interpreter: ``make jax-check``
builds it (``.venv-jax``: Python 3.12, ``constraints-jax.txt``), runs this file in it and names it in
``BLENDER_JAX_PYTHON``; without that variable the end-to-end test is skipped.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import backends
from models.problem import ModelsError
from models.registry import LEARNERS, select_learners

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
#: The one function per backend allowed to import it (models/backends.py).
SET_UP = {"tensorflow": "_tensorflow", "tf": "_tensorflow", "jax": "_jax", "torch": "_torch"}
CNNS = [name for name, learner in LEARNERS.items() if learner.inputs == "images"]


def _only_these(present: set[str], find_spec):
    """A ``find_spec`` for which, of Keras and the backends, exactly those in ``present`` are installed."""

    def fake(name, *args):
        if name not in {"keras", *backends.BACKENDS}:
            return find_spec(name, *args)
        return importlib.machinery.ModuleSpec(name, None) if name in present else None

    return fake


@pytest.mark.parametrize(
    ("installed", "chosen", "expected"),
    [
        (["tensorflow", "jax", "torch"], None, "tensorflow"),
        (["jax", "torch"], None, "jax"),
        (["torch"], None, "torch"),
        (["tensorflow", "jax", "torch"], "torch", "torch"),
        (["tensorflow", "jax"], "jax", "jax"),
    ],
)
def test_the_backend_is_the_users_or_else_tensorflow_then_jax_then_torch(monkeypatch, installed, chosen, expected):
    monkeypatch.setattr(importlib.util, "find_spec", _only_these(set(installed), importlib.util.find_spec))
    if chosen is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", chosen)
    assert backends.backend_name() == expected


@pytest.mark.parametrize(
    ("installed", "chosen", "message"),
    [
        ([], None, "the CNNs need a Keras backend: pip install -e '.[models]' (TensorFlow), or pip install jax"),
        (["tensorflow"], "jax", "KERAS_BACKEND=jax: the package 'jax' is not installed; pip install jax, or unset"),
        ([], "torch", "KERAS_BACKEND=torch: the package 'torch' is not installed; pip install torch."),
        (["jax"], "numpy", "KERAS_BACKEND=numpy: the CNNs train with tensorflow, jax, torch; set one of them."),
    ],
)
def test_a_backend_that_cannot_run_is_one_clear_line(monkeypatch, installed, chosen, message):
    monkeypatch.setattr(importlib.util, "find_spec", _only_these(set(installed), importlib.util.find_spec))
    if chosen is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", chosen)
    with pytest.raises(ModelsError) as error:
        backends.backend_name()
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


@pytest.mark.parametrize("backend", backends.BACKENDS)
def test_keras_and_any_one_backend_let_the_cnns_run(monkeypatch, backend):
    monkeypatch.setattr(importlib.util, "find_spec", _only_these({"keras", backend}, importlib.util.find_spec))
    assert [learner.name for learner in select_learners("cnn_bn cnn_nin")] == ["cnn_nin", "cnn_bn"]


def test_without_a_backend_or_keras_the_cnns_are_refused_in_one_line(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", _only_these({"keras"}, find_spec))
    with pytest.raises(ModelsError) as error:
        select_learners("rf cnn_bn")
    assert str(error.value) == (
        "cnn_bn needs the package 'tensorflow' or 'jax' or 'torch': pip install -e '.[models]'."
    )
    monkeypatch.setattr(importlib.util, "find_spec", _only_these({"jax"}, find_spec))
    with pytest.raises(ModelsError, match=r"^cnn_bn needs the package 'keras': pip install"):
        select_learners("cnn_bn")
    # The other learners need neither.
    assert [learner.name for learner in select_learners("rf logreg")] == ["rf_gini", "rf_entropy", "logreg"]


def _uses(tree: ast.AST):
    """(function, node) for every node, ``function`` the name of the innermost def around it (None at module level)."""

    def walk(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            yield inner, child
            yield from walk(child, inner)

    yield from walk(tree, None)


def _imported_top(node: ast.AST) -> list[tuple[str, str]]:
    """(top-level module, bound name) for an import statement."""
    if isinstance(node, ast.Import):
        return [(alias.name.split(".")[0], (alias.asname or alias.name).split(".")[0]) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [(node.module.split(".")[0], alias.asname or alias.name) for alias in node.names]
    return []


def test_only_each_backends_own_set_up_function_touches_it():
    # A `import tensorflow` (or jax, torch) or a `tf.` anywhere else in models/ fails here: the zoo must
    # import and run on whichever backend Keras is given.
    found = []
    for path in sorted(MODELS.glob("*.py")):
        for function, node in _uses(ast.parse(path.read_text(), str(path))):
            for module, _ in _imported_top(node):
                if module in SET_UP and (path.name, function) != ("backends.py", SET_UP[module]):
                    found.append(f"{path.name}:{node.lineno} imports {module} in {function}")
            if isinstance(node, ast.Name) and node.id in SET_UP:
                if (path.name, function) != ("backends.py", SET_UP[node.id]):
                    found.append(f"{path.name}:{node.lineno} uses {node.id} in {function}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras.src"):
                found.append(f"{path.name}:{node.lineno} imports Keras' private {node.module}")
    assert found == []
    # The check itself sees what it guards against.
    bad = ast.parse("import tensorflow as tf\n\ndef fit():\n    return tf.constant(1)\n")
    assert [type(node).__name__ for _, node in _uses(bad) if isinstance(node, ast.Name) and node.id == "tf"] == ["Name"]


def _keras_paths(tree: ast.AST) -> list[tuple[int, str]]:
    """Every dotted path read from ``keras`` or ``layers`` (``keras.callbacks.EarlyStopping``, ``layers.Conv2D``)."""
    paths = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = []
            inner: ast.AST = node
            while isinstance(inner, ast.Attribute):
                parts.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in ("keras", "layers"):
                paths.append((node.lineno, ".".join([inner.id, *reversed(parts)])))
    return paths


def test_the_cnn_code_reads_only_keras_public_multi_backend_api():
    keras = backends.import_keras()
    paths = _keras_paths(ast.parse((MODELS / "cnn.py").read_text()))
    assert len(paths) > 30  # the check sees the builders' layers and the training loop
    # TFSMLayer loads a TensorFlow SavedModel; Lambda wraps whatever code it is given.
    backend_bound = {"layers.TFSMLayer", "layers.Lambda", "keras.layers.TFSMLayer", "keras.layers.Lambda"}
    unknown = []
    for line, path in paths:
        target: object = {"keras": keras, "layers": keras.layers}[path.split(".")[0]]
        try:
            for part in path.split(".")[1:]:
                target = getattr(target, part)
        except AttributeError:
            unknown.append(f"cnn.py:{line} {path}")
            continue
        if path in backend_bound or "src" in path.split("."):
            unknown.append(f"cnn.py:{line} {path}")
    assert unknown == []


@pytest.mark.parametrize("name", CNNS)
def test_each_cnn_builds_and_runs_forward_on_the_current_backend_from_public_layers_only(name):
    keras = backends.import_keras()
    make_model = LEARNERS[name].build.keywords["make_model"]
    model = make_model((8, 8, 1), 10, augment=True)

    def layers_of(model):
        for layer in model.layers:
            yield layer
            if isinstance(layer, keras.Model):
                yield from layers_of(layer)

    for layer in layers_of(model):
        kind = type(layer)
        assert kind in (keras.Model, keras.Sequential) or getattr(keras.layers, kind.__name__, None) is kind, kind
        assert kind.__name__ not in ("Lambda", "TFSMLayer")
    images = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(model(images, training=False))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


JAX_PYTHON = os.environ.get("BLENDER_JAX_PYTHON")


@pytest.mark.skipif(
    not JAX_PYTHON, reason="make jax-check names a Python with JAX and no TensorFlow in BLENDER_JAX_PYTHON"
)
def test_the_cnns_train_on_jax_with_another_python_and_no_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT)}
    probe = "import importlib.util, sys; print(sys.version_info[:2], importlib.util.find_spec('tensorflow'))"
    seen = subprocess.run([JAX_PYTHON, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert seen.split(")", 1)[1].strip() == "None", seen  # no TensorFlow there

    def run(*arguments):
        return subprocess.run([JAX_PYTHON, *arguments], env=env, cwd=tmp_path, capture_output=True, text=True)

    oof = run("-m", "models", "oof", "--models", "cnn_bn cnn_nin", "--data", "digits",
              "--folds", "2", "--epochs", "1", "--jobs", "2")  # fmt: skip
    assert oof.returncode == 0, oof.stderr
    assert "Keras on jax sees" in oof.stderr
    truth = pd.read_csv(tmp_path / "data" / "train_labels.csv")
    for name in ("cnn_bn", "cnn_nin"):
        for path, rows in [
            (tmp_path / "submissions" / "oof" / f"{name}.csv", len(truth)),
            (tmp_path / "submissions" / f"{name}.csv", 450),
        ]:
            frame = pd.read_csv(path)
            assert list(frame.columns) == ["id", *map(str, range(10))] and len(frame) == rows
            np.testing.assert_allclose(frame.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-6)
        assert sorted(pd.read_csv(tmp_path / "submissions" / "oof" / f"{name}.csv")["id"]) == sorted(truth["id"])
    # The blender reads them on that Python too, and scores each file as it scores any file.
    score = run("-m", "blender", "score", "submissions/cnn_bn.csv", "submissions/cnn_nin.csv")
    assert score.returncode == 0, score.stderr
    assert "cnn_bn" in score.stderr and "cnn_nin" in score.stderr

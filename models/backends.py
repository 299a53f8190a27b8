"""The Keras 3 backend the CNNs train on: which one, its set-up, and the device it sees.

The CNNs (:mod:`models.cnn`) use only Keras 3's own API, so they train on any backend
that can train: TensorFlow, JAX or PyTorch. ``KERAS_BACKEND`` picks it, as Keras reads it;
unset, the zoo takes TensorFlow where it is installed, else JAX, else PyTorch. Everything a
backend needs beyond Keras (thread limits, quiet logs, sharing a GPU between parallel jobs,
seeing the GPU) lives in one small function per backend here, which imports that backend
only when it is the one in use.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys

from models.problem import ModelsError

#: The backends the CNNs train on, in the order the zoo picks them when ``KERAS_BACKEND`` is unset.
BACKENDS = ("tensorflow", "jax", "torch")


def installed_backends() -> list[str]:
    """The backends of :data:`BACKENDS` installed here, in that order."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def backend_name() -> str:
    """The backend the CNNs will use: ``KERAS_BACKEND`` where set, else the first installed of :data:`BACKENDS`.

    Raises
    ------
    ModelsError
        When ``KERAS_BACKEND`` names a backend that cannot train the CNNs or is not
        installed, or when none is installed.
    """
    chosen = os.environ.get("KERAS_BACKEND")
    installed = installed_backends()
    if chosen is None:
        if not installed:
            raise ModelsError(
                "the CNNs need a Keras backend: pip install -e '.[models]' (TensorFlow), or pip install jax (or torch)."
            )
        return installed[0]
    if chosen not in BACKENDS:
        raise ModelsError(f"KERAS_BACKEND={chosen}: the CNNs train with {', '.join(BACKENDS)}; set one of them.")
    if chosen not in installed:
        others = f", or unset KERAS_BACKEND to use {installed[0]}" if installed else ""
        raise ModelsError(
            f"KERAS_BACKEND={chosen}: the package '{chosen}' is not installed; pip install {chosen}{others}."
        )
    return chosen


def import_keras(threads: int | None = None):
    """Import Keras on :func:`backend_name`'s backend, set up for ``threads`` CPU threads, and return it.

    A backend's thread limit only takes effect before its runtime starts, which is why
    every fold task calls this first: with two jobs on two cores, each job's backend gets
    one core instead of both fighting for two. Once the runtime runs, its settings stay.
    """
    _set_up(threads)
    with _quiet_stderr():
        import keras
    return keras


def device_name() -> str:
    """``GPU`` when the backend sees one, else ``CPU``."""
    return _set_up(None)


def _set_up(threads: int | None) -> str:
    """Fix ``KERAS_BACKEND`` for Keras (and worker processes), run the backend's set-up, return the device it sees."""
    name = backend_name()
    os.environ["KERAS_BACKEND"] = name  # Keras reads it once, at its import; worker processes inherit it.
    return {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}[name](threads)


def _tensorflow(threads: int | None) -> str:
    """TensorFlow: quiet logs, ``threads`` threads per pool, GPU memory taken as needed; the device it sees."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr():
        import tensorflow as tf

    # Python-side warnings (tf.function retracing when a worker builds its next
    # fold's model) are noise here too.
    tf.get_logger().setLevel("ERROR")
    try:
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        # Several jobs may share one GPU: let each take memory as it needs it,
        # instead of the first one taking it all.
        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        pass  # The runtime is already running in this process; keep its settings.
    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def _jax(threads: int | None) -> str:
    """JAX: XLA's CPU threads held to ``threads``, GPU memory taken as needed; the device it sees.

    Both settings are read when JAX starts its runtime, so they are set before JAX is imported.
    The thread flags are left out where they would change nothing (``threads`` covers every
    core), so that a JAX whose XLA has dropped them still starts.
    """
    # JAX takes 75% of a GPU's memory up front; several jobs may share one GPU.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    flags = os.environ.get("XLA_FLAGS", "")
    if threads and threads < (os.cpu_count() or 1) and "jax" not in sys.modules and "intra_op" not in flags:
        limit = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
        os.environ["XLA_FLAGS"] = f"{flags} {limit}".strip()
    import jax

    return "GPU" if jax.default_backend() == "gpu" else "CPU"


def _torch(threads: int | None) -> str:
    """PyTorch: ``threads`` threads for its operations; the device it sees."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    return "GPU" if torch.cuda.is_available() else "CPU"


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 while a backend loads.

    TensorFlow's C++ libraries log "oneDNN custom operations are on" and "Could not find cuda
    drivers" before ``TF_CPP_MIN_LOG_LEVEL`` is read, once per worker process; only
    redirecting the descriptor stops that noise. Python errors still show: the import
    raises after the descriptor is restored.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)

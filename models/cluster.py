"""The fold loop on a Dask cluster: ``python -m models oof --scheduler tcp://HOST:8786``.

The (learner, fold) tasks run through joblib's dask backend (``joblib.parallel_config(
backend="dask")`` on a ``distributed.Client``), the same ``joblib.Parallel`` call as a local
run. What changes:

- The data (features, images, targets) are scattered to every worker once, before any
  task is sent; the tasks then refer to them by future instead of carrying them.
- CNN tasks ask for a ``GPU`` worker resource when some worker offers one (``dask worker
  ADDRESS --resources GPU=1``), so they land on GPU workers; the CNNs then follow the GPU
  plan. A cluster without GPU workers runs them anywhere, on the CPU plan.
- Each task runs on one thread, whatever the worker's cores.

This module is imported only when ``--scheduler`` is given, so a local run never imports Dask.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import joblib

from models.problem import ModelsError

#: Seconds to wait for the scheduler to answer before giving up with one error line.
CONNECT_TIMEOUT = 30


def gpu_workers(client) -> list[str]:
    """Addresses of the workers that offer a ``GPU`` resource."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return [address for address, worker in workers.items() if worker.get("resources", {}).get("GPU", 0) >= 1]


def connect(address: str):
    """A ``distributed.Client`` on ``address``; a scheduler that does not answer is a ``ModelsError``."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ModelsError(
            f"--scheduler {address}: no Dask scheduler answers there ({error}); "
            "start one with `dask scheduler` and workers with `dask worker ADDRESS`."
        ) from None


def execute(
    tasks: list, arrays: dict, address: str, *, log: Callable[[str], None], fit_predict: Callable, task_arrays: Callable
) -> Iterator[tuple]:
    """Run the fold tasks on the cluster at ``address``; yield each result as it finishes.

    ``fit_predict(task, X, y, X_test)`` and ``task_arrays(task, arrays)`` are the fold loop's own
    (``models.oof``), passed in so that this module imports nothing of it: the loop calls the
    cluster, never the other way round.

    Parameters
    ----------
    tasks : list of fold tasks (``models.oof``)
    arrays : dict of str to ndarray or None
        The arrays the tasks read; scattered once.
    address : str
        The scheduler, e.g. ``tcp://10.0.0.5:8786``.
    log : callable
        Gets one line about the cluster before the tasks start.

    Yields
    ------
    tuple
        ``(task, valid_predictions, test_predictions, seconds)``, as from a local run.
    """
    client = connect(address)
    try:
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        gpus = gpu_workers(client)
        cnn_tasks = [task for task in tasks if task.learner.inputs == "images"]
        other_tasks = [task for task in tasks if task.learner.inputs != "images"]
        if cnn_tasks:
            # The cluster, not this machine, decides the CNNs' plan.
            cnn_tasks = [
                dataclasses.replace(task, problem=dataclasses.replace(task.problem, gpu=bool(gpus)))
                for task in cnn_tasks
            ]
        # Send each array to every worker once; tasks carry futures, not data.
        names = [name for name, array in arrays.items() if array is not None]
        futures = dict(zip(names, client.scatter([arrays[name] for name in names], broadcast=True, hash=False)))
        futures.update({name: None for name, array in arrays.items() if array is None})
        log(
            f"Dask cluster at {address}: {n_workers} worker(s), {len(gpus)} with a GPU; "
            f"data scattered once; {len(tasks)} tasks"
            + (f" (CNN tasks ask for GPU=1, {'GPU' if gpus else 'CPU'} plan)" if cnn_tasks and gpus else "")
        )
        groups = [(cnn_tasks, {"resources": {"GPU": 1}} if gpus else {}), (other_tasks, {})]
        for group, submit_options in groups:
            if not group:
                continue
            with joblib.parallel_config(
                backend="dask", client=client, wait_for_workers_timeout=CONNECT_TIMEOUT, **submit_options
            ):
                calls = (joblib.delayed(fit_predict)(task, *task_arrays(task, futures)) for task in group)
                yield from joblib.Parallel(batch_size=1, return_as="generator_unordered")(calls)
    finally:
        client.close()

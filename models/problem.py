"""What every builder is told about the problem: the task, the input and a seed; and the zoo's one error type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Task = Literal["binary", "multiclass", "regression"]


class ModelsError(ValueError):
    """A bad model list or option; the command line prints it as one line."""


@dataclass(frozen=True)
class Problem:
    """The facts a builder needs to make a fresh, untrained model.

    Attributes
    ----------
    task : {"binary", "multiclass", "regression"}
    n_classes : int
        Number of classes; 1 for regression.
    input_shape : tuple of int
        One row's shape: ``(n_features,)``, or ``(height, width, channels)`` for images.
    seed : int
        Random seed of this model (it differs per learner and per fold).
    epochs : int or None, default=None
        Most epochs a neural network may train (``--epochs``); None keeps its default.
    threads : int, default=1
        Threads this model may use: the cores divided by the parallel jobs, so that
        two jobs on two cores do not fight over them.
    augment : bool, default=False
        Whether CNNs use light data augmentation (random shifts) while training. Off by
        default: on the 8x8 digits a one-pixel shift is a large change and costs accuracy.
    gpu : bool, default=False
        Whether the CNNs follow the GPU plan (wider, more epochs; see
        :func:`models.cnn.training_plan`). Decided once by the caller, from what
        Keras' backend sees or what the cluster offers, so every fold trains the same net.
    width : int or None, default=None
        Channels of the CNNs' first stage, when a time budget chose them
        (:mod:`models.budget`); None keeps the device plan's width.
    tta : int, default=0
        CNNs: views averaged for the extra ``_tta`` predictions (0: none).
    snapshots : int, default=0
        CNNs: cosine cycles with warm restarts, one snapshot each (0: the usual training).
    rounds_scale : float, default=1.0
        Boosting rounds are multiplied by this: K/(K-1) for a refit on all K folds' rows.
    rounds_share : float, default=1.0
        Share of the plan's boosting rounds and forest trees to train: a time budget's
        choice (:func:`models.budget.plan_tabular`); 1.0 is the whole plan.
    """

    task: Task
    n_classes: int
    input_shape: tuple[int, ...]
    seed: int
    epochs: int | None = None
    threads: int = 1
    augment: bool = False
    gpu: bool = False
    width: int | None = None
    tta: int = 0
    snapshots: int = 0
    rounds_scale: float = 1.0
    rounds_share: float = 1.0

"""Keras CNNs for the model zoo, and the adapter that trains them like scikit-learn models.

The builders follow keras-io's ``make_model(input_shape, num_classes)``: Functional API,
one short paragraph per block, a ``keras.Model`` out. ``num_classes`` picks the head:
softmax for 3 or more classes, one sigmoid unit for 2, one linear unit for 1
(regression). They scale to the input: images of 16 pixels or less get one
down-sampling stage and narrow layers (the 8x8 digits: 32 channels, 64 for the
Springenberg family), larger ones two stages and the papers' 96. ``training_plan``
narrows larger images to 16 channels and 10 epochs when no GPU is seen, so the
28x28 MNIST digits train within the demo's budget on two CPU cores.

- ``make_convpool_cnn``, ``make_all_conv_cnn``: ConvPool-CNN-C and All-CNN-C of
  Springenberg et al. (2015), "Striving for simplicity: the all convolutional net".
- ``make_nin_cnn``: Network in Network (Lin et al., 2013).
- ``make_batchnorm_cnn``: a deeper VGG-style net with batch normalisation, he-normal
  initialisation and dropout.
- ``make_separable_cnn``: depthwise-separable convolutions, as in keras-io's
  image classification from scratch.

Keras is imported when a model is built, never at import time, so the other learners run
without it. The CNNs use only Keras 3's own API (``keras.layers``, ``keras.callbacks``,
``keras.optimizers``, ``keras.Model``), so they train on TensorFlow, JAX or PyTorch, whichever
:mod:`models.backends` picks, and on a GPU where that backend sees one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from models.backends import import_keras
from models.problem import Problem

# Training hyperparameters, shared by every CNN (small images; see training_plan for larger ones).
batch_size = 32
epochs = 80
#: Epochs without a better loss on the early-stopping slice before training stops.
patience = 15
#: Early stopping ignores the first epochs, while batch-norm statistics settle.
warmup_epochs = 5
#: Batch-norm moving averages follow the batch statistics faster than Keras' 0.99,
#: which lags too far behind on a thousand images.
batch_norm_momentum = 0.9
#: Share of the training rows set aside to decide when to stop.
early_stopping_fraction = 0.1
learning_rate = 1e-3


@dataclass(frozen=True)
class TrainingPlan:
    """How wide the CNNs are and how long they train.

    Attributes
    ----------
    device : {"CPU", "GPU"}
    width : int or None
        Channels of the first stage (later stages double it); None keeps each
        builder's own width for the input (see ``_base_width``).
    epochs, patience, warmup_epochs, batch_size : int
        As the module-level values of the same names.
    """

    device: str
    width: int | None
    epochs: int
    patience: int
    warmup_epochs: int
    batch_size: int

    def describe(self) -> str:
        """One line for the log: ``CPU plan: 16 channels wide, at most 10 epochs``."""
        width = "the builders' own width" if self.width is None else f"{self.width} channels wide"
        return f"{self.device} plan: {width}, at most {self.epochs} epochs, batch {self.batch_size}"


#: Images larger than 16 pixels (MNIST's 28x28) on a CPU: five CNNs over five folds must
#: train within the demo's 15-minute budget on 2 cores, where one epoch of 2,900 images
#: on one core took about 2.5 s at 16 channels and 5-10 s at 32 (quiet machine). Ten
#: epochs at 16 channels gave OOF accuracies of 0.966 (BN), 0.962 (separable), 0.960
#: (ConvPool), 0.955 (All-CNN) and 0.936 (NIN) on the 4,000 training digits.
cpu_large_width = 16
cpu_large_epochs = 10
#: On a GPU: the papers' 96 channels, and time to converge.
gpu_large_epochs = 60


def training_plan(
    input_shape: tuple[int, ...], *, gpu: bool, epochs_override: int | None = None, width_override: int | None = None
) -> TrainingPlan:
    """The width and schedule the CNNs use for ``input_shape`` on a CPU or a GPU.

    Small images (16 pixels or less, the 8x8 digits) keep the module's defaults on
    either device. Larger ones train narrow and short on a CPU and at the papers'
    width on a GPU.

    Examples
    --------
    >>> training_plan((28, 28, 1), gpu=False).describe()
    'CPU plan: 16 channels wide, at most 10 epochs, batch 64'
    >>> training_plan((28, 28, 1), gpu=True).width is None
    True
    """
    device = "GPU" if gpu else "CPU"
    if min(input_shape[:2]) <= 16:
        plan = TrainingPlan(device, None, epochs, patience, warmup_epochs, batch_size)
    elif gpu:
        plan = TrainingPlan(device, None, gpu_large_epochs, 10, warmup_epochs, 128)
    else:
        plan = TrainingPlan(device, cpu_large_width, cpu_large_epochs, 4, 3, 64)
    if epochs_override is not None:
        plan = replace(plan, epochs=epochs_override)
    if width_override is not None:
        plan = replace(plan, width=width_override)
    return plan


def budget_widths(input_shape: tuple[int, ...], *, gpu: bool) -> list[int | None]:
    """The widths a time budget may choose from, widest first: 16 or 8 channels for large images on a CPU.

    Elsewhere (small images, a GPU) the plan keeps its width and the budget sets only the epochs.

    >>> budget_widths((28, 28, 1), gpu=False), budget_widths((8, 8, 1), gpu=False), budget_widths((28, 28, 1), gpu=True)
    ([16, 8], [None], [None])
    """
    if gpu or min(input_shape[:2]) <= 16:
        return [None]
    return [cpu_large_width, cpu_large_width // 2]


#: Rows of one calibration epoch: eight batches, enough for a steady time per batch.
calibration_rows = 512


def calibrate(
    name: str,
    make_model,
    problem: Problem,
    X: NDArray,
    y: NDArray,
    *,
    fit_rows: int,
    predict_rows: int,
    clock: Callable[[], float] = time.perf_counter,
):
    """Time two short epochs of one CNN on this machine and scale them to a fold's fit.

    Parameters
    ----------
    name : str
        The learner, for the report.
    make_model : callable
        The builder, as :class:`KerasLearner` takes it.
    problem : Problem
        As a fold task gets it (threads, width, GPU plan).
    X, y : ndarray
        Training images and targets; ``calibration_rows`` of them are used.
    fit_rows : int
        Rows a fold's model trains on, early-stopping slice included.
    predict_rows : int
        Rows it then predicts (the held-out fold and the test rows).
    clock : callable, default=time.perf_counter
        Read at the start and end of each epoch; a fake clock in tests.

    Returns
    -------
    models.budget.EpochTiming
        Set-up seconds (graph building, beyond a later epoch's time, and the
        predictions) and seconds per epoch over ``fit_rows`` rows.
    """
    from models import budget

    keras = import_keras(problem.threads)
    keras.backend.clear_session()
    keras.utils.set_random_seed(problem.seed)
    rows = np.random.default_rng(problem.seed).permutation(len(X))[: min(len(X), calibration_rows)]
    n_stop = max(1, round(len(rows) * early_stopping_fraction))
    fit, stop = rows[:-n_stop], rows[-n_stop:]
    plan = training_plan(tuple(X.shape[1:]), gpu=problem.gpu, epochs_override=2, width_override=problem.width)
    model = _compiled_model(keras, make_model, problem, tuple(X.shape[1:]), plan)

    def run_epochs(read_clock):
        readings = []
        callback = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: readings.append(read_clock()),
            on_epoch_end=lambda epoch, logs: readings.append(read_clock()),
        )
        model.fit(X[fit], y[fit].astype("float32"), validation_data=(X[stop], y[stop].astype("float32")),
                  epochs=2, batch_size=plan.batch_size, callbacks=[callback], verbose=0)  # fmt: skip
        return readings

    setup, epoch = budget.time_two_epochs(run_epochs, clock=clock)
    epoch *= fit_rows / len(rows)
    # Predicting builds one more graph (about half a first epoch's extra) and runs
    # forward only, about a third of a training step per row.
    setup += setup / 2 + epoch * predict_rows / fit_rows / 3
    return budget.EpochTiming(name, setup, epoch)


def _compiled_model(
    keras, make_model, problem: Problem, input_shape, plan: TrainingPlan, *, learning_rate=learning_rate
):
    """A fresh model of ``make_model``, compiled with the zoo's loss and Adam at ``learning_rate``
    (a value or a schedule).
    """
    num_classes = 1 if problem.task == "regression" else problem.n_classes
    model = make_model(input_shape, num_classes, augment=problem.augment, width=plan.width)
    loss = {
        "regression": "mean_squared_error",
        "binary": "binary_crossentropy",
        "multiclass": "sparse_categorical_crossentropy",
    }[problem.task]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model


def _n_downsamples(input_shape: tuple[int, ...]) -> int:
    """One stride/pool stage for small images (8x8 digits), two for larger ones."""
    return 1 if min(input_shape[:2]) <= 16 else 2


def _base_width(input_shape: tuple[int, ...], *, small: int = 32) -> int:
    """Narrow layers (``small``) for images of 16 pixels or less, the papers' 96 for larger ones."""
    return small if min(input_shape[:2]) <= 16 else 96


#: Width of the Springenberg family on small images. On the digits, 64 instead of 32
#: lowered every one's OOF log loss (ConvPool 0.029 -> 0.023, All-CNN 0.048 -> 0.040,
#: NIN 0.050 -> 0.035) for about a third more training time.
springenberg_small_width = 64


def _head_units(num_classes: int) -> tuple[int, str]:
    """Output units and activation: softmax for classes, one sigmoid for two, one linear for regression."""
    if num_classes == 1:
        return 1, "linear"
    if num_classes == 2:
        return 1, "sigmoid"
    return num_classes, "softmax"


def _augmentation():
    """Light augmentation: shifts of up to an eighth of the image, active only in training."""
    import keras
    from keras import layers

    return keras.Sequential(
        [layers.RandomTranslation(0.125, 0.125, fill_mode="constant")],
        name="augmentation",
    )


def _inputs(input_shape, augment: bool):
    """The input layer, followed by augmentation when asked for."""
    import keras

    inputs = keras.Input(shape=input_shape)
    x = _augmentation()(inputs) if augment else inputs
    return inputs, x


def _class_map_head(x, num_classes: int):
    """Springenberg/NIN head: a 1x1 convolution to one map per class, global average pooling.

    The 1x1 convolution is linear: the maps are averaged first, and the softmax (or
    sigmoid) comes after the average, as in both papers.
    """
    from keras import layers

    units, activation = _head_units(num_classes)
    x = layers.Conv2D(units, 1, name="class_maps")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Activation(activation, dtype="float32")(x)


def _conv_bn_relu(x, filters, kernel, strides=1, padding="valid"):
    """Convolution, batch normalisation, ReLU, with he-normal init.

    The papers' plain ReLU convolutions need hundreds of epochs; with batch normalisation each
    of the three trains in tens of epochs on 1,400 small digits, all under the same recipe.
    """
    from keras import layers

    x = layers.Conv2D(
        filters, kernel, strides=strides, padding=padding, use_bias=False, kernel_initializer="he_normal"
    )(x)
    x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
    return layers.Activation("relu")(x)


def make_convpool_cnn(input_shape, num_classes, *, augment=False, width=None, dropout=0.3):
    """ConvPool-CNN-C (Springenberg et al. 2015): three 3x3 convolutions, then max pooling.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)``.
    num_classes : int
        3 or more: softmax; 2: one sigmoid unit; 1: one linear unit (regression).
    augment : bool, default=False
        Random shifts while training.
    width : int, default=None
        Channels of the first stage; None picks them from the input size.
    dropout : float, default=0.3
        Dropout after each pooling stage (the paper uses 0.5 on much wider layers).

    Returns
    -------
    keras.Model
    """
    keras = import_keras()
    layers = keras.layers

    width = width or _base_width(input_shape, small=springenberg_small_width)
    inputs, x = _inputs(input_shape, augment)

    # Convolution stages, each ending in 3x3 max pooling with stride 2.
    for stage in range(_n_downsamples(input_shape)):
        filters = width * 2**stage
        for _ in range(3):
            x = _conv_bn_relu(x, filters, 3, padding="same")
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.Dropout(dropout)(x)

    # The top of model C: a 3x3 then a 1x1 convolution, then the class maps.
    x = _conv_bn_relu(x, 2 * width, 3, padding="same")
    x = _conv_bn_relu(x, 2 * width, 1)
    return keras.Model(inputs, _class_map_head(x, num_classes), name="cnn_convpool")


def make_all_conv_cnn(input_shape, num_classes, *, augment=False, width=None, dropout=0.3):
    """All-CNN-C (Springenberg et al. 2015): pooling replaced by 3x3 convolutions of stride 2.

    Parameters and return value as :func:`make_convpool_cnn`.
    """
    keras = import_keras()
    layers = keras.layers

    width = width or _base_width(input_shape, small=springenberg_small_width)
    inputs, x = _inputs(input_shape, augment)

    # Each stage: two 3x3 convolutions, then one of stride 2 that does the pooling's job.
    for stage in range(_n_downsamples(input_shape)):
        filters = width * 2**stage
        for _ in range(2):
            x = _conv_bn_relu(x, filters, 3, padding="same")
        x = _conv_bn_relu(x, filters, 3, strides=2, padding="same")
        x = layers.Dropout(dropout)(x)

    x = _conv_bn_relu(x, 2 * width, 3, padding="same")
    x = _conv_bn_relu(x, 2 * width, 1)
    return keras.Model(inputs, _class_map_head(x, num_classes), name="cnn_allconv")


def make_nin_cnn(input_shape, num_classes, *, augment=False, width=None, dropout=0.3):
    """Network in Network (Lin et al. 2013): mlpconv blocks and a global-average-pooling head.

    Each mlpconv block is a spatial convolution followed by two 1x1 convolutions
    (the "micro network"); the last block ends in the linear class maps.
    Parameters and return value as :func:`make_convpool_cnn`.
    """
    keras = import_keras()
    layers = keras.layers

    width = width or _base_width(input_shape, small=springenberg_small_width)
    inputs, x = _inputs(input_shape, augment)

    # mlpconv blocks with pooling between them; the first uses a wider 5x5 kernel.
    for stage in range(_n_downsamples(input_shape)):
        filters = width * 2**stage
        x = _conv_bn_relu(x, filters, 5 if stage == 0 else 3, padding="same")
        x = _conv_bn_relu(x, filters, 1)
        x = _conv_bn_relu(x, filters, 1)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.Dropout(dropout)(x)

    # The last mlpconv block, whose final 1x1 convolution gives the class maps.
    x = _conv_bn_relu(x, 2 * width, 3, padding="same")
    x = _conv_bn_relu(x, 2 * width, 1)
    return keras.Model(inputs, _class_map_head(x, num_classes), name="cnn_nin")


def make_batchnorm_cnn(input_shape, num_classes, *, augment=False, width=None, dropout=0.4):
    """A deeper VGG-style CNN: conv, batch normalisation, ReLU; he-normal init; dropout.

    Parameters and return value as :func:`make_convpool_cnn`.
    """
    keras = import_keras()
    layers = keras.layers

    width = width or _base_width(input_shape)
    inputs, x = _inputs(input_shape, augment)

    # Blocks of two conv-BN-ReLU layers; the bias is dropped since BN re-centres.
    n_downsamples = _n_downsamples(input_shape)
    for stage in range(n_downsamples + 1):
        filters = width * 2**stage
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
            x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
            x = layers.Activation("relu")(x)
        if stage < n_downsamples:
            x = layers.MaxPooling2D(2)(x)
            x = layers.Dropout(dropout / 2)(x)

    # A dense head on the pooled features.
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(4 * width, kernel_initializer="he_normal", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(dropout)(x)
    units, activation = _head_units(num_classes)
    outputs = layers.Dense(units, activation=activation, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn_bn")


def make_separable_cnn(input_shape, num_classes, *, augment=False, width=None, dropout=0.25):
    """A depthwise-separable CNN with residual blocks, as keras-io's ``make_model``.

    Parameters and return value as :func:`make_convpool_cnn`.
    """
    keras = import_keras()
    layers = keras.layers

    width = width or _base_width(input_shape)
    inputs, x = _inputs(input_shape, augment)

    # Entry block: one ordinary convolution, since a 1-channel input gives a
    # depthwise convolution nothing to separate.
    x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
    x = layers.Activation("relu")(x)
    previous_block = x

    # Separable blocks with a strided 1x1 residual projection around each.
    for stage in range(_n_downsamples(input_shape)):
        filters = 2 * width * 2**stage
        for _ in range(2):
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block)
        x = layers.add([x, residual])
        previous_block = x

    x = layers.SeparableConv2D(4 * width, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=batch_norm_momentum)(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    units, activation = _head_units(num_classes)
    outputs = layers.Dense(units, activation=activation, dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn_separable")


#: The views of test-time augmentation, in order: the image, then one-pixel shifts
#: (right, left, down, up, then the diagonals). No flips: a flipped digit is another digit.
TTA_SHIFTS = [(0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)]


def tta_shifts(n_views: int) -> list[tuple[int, int]]:
    """The (rows, columns) shifts of ``n_views`` TTA views, the unshifted image first.

    >>> tta_shifts(3)
    [(0, 0), (0, 1), (0, -1)]
    """
    if not 2 <= n_views <= len(TTA_SHIFTS):
        raise ValueError(
            f"--tta {n_views}: give 2 to {len(TTA_SHIFTS)} views "
            f"(the image and up to {len(TTA_SHIFTS) - 1} one-pixel shifts)."
        )
    return TTA_SHIFTS[:n_views]


def shift_images(images: NDArray, rows: int, columns: int) -> NDArray:
    """Images moved by ``rows`` down and ``columns`` right, the uncovered border filled with 0
    (as in training's shifts).

    >>> shift_images(np.arange(4.0).reshape(1, 2, 2, 1), 0, 1)[0, :, :, 0].tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    shifted = np.zeros_like(images)
    height, width = images.shape[1:3]
    source_rows = slice(max(0, -rows), height - max(0, rows))
    source_columns = slice(max(0, -columns), width - max(0, columns))
    target_rows = slice(max(0, rows), height - max(0, -rows))
    target_columns = slice(max(0, columns), width - max(0, -columns))
    shifted[:, target_rows, target_columns] = images[:, source_rows, source_columns]
    return shifted


class KerasLearner:
    """Train a CNN builder like a scikit-learn estimator: ``fit``, ``predict_proba``, ``predict``.

    ``fit`` sets aside a slice of the rows it is given (``early_stopping_fraction``,
    stratified) to decide when to stop and which epoch's weights to keep. The fold
    loop only ever gives it the training folds, so the held-out fold plays no part
    in training and its predictions stay honest.

    With ``problem.snapshots = K`` it trains K cosine cycles with warm restarts instead
    (Keras' ``CosineDecayRestarts``, each cycle the same length, no early stopping) and
    keeps the weights at the end of each cycle (Huang et al. 2017, "Snapshot ensembles").
    With ``problem.tta = N``, :meth:`predict_variants` adds the mean over N views.

    Parameters
    ----------
    make_model : callable
        A builder ``make_model(input_shape, num_classes, *, augment)``.
    problem : Problem
        Task, input shape, seed, epochs, threads and whether to augment.
    """

    def __init__(self, make_model, problem: Problem):
        self.make_model = make_model
        self.problem = problem
        self.model = None
        self.epochs_trained = 0
        self.snapshots: list[list[NDArray]] = []

    def fit(self, X: NDArray, y: NDArray) -> "KerasLearner":
        """Train on images ``X`` of shape (n, h, w, c) and targets ``y`` (class codes or floats)."""
        from sklearn.model_selection import train_test_split

        problem = self.problem
        keras = import_keras(problem.threads)
        # A worker trains many models in turn; drop the previous ones' graphs.
        keras.backend.clear_session()
        keras.utils.set_random_seed(problem.seed)

        stratify = None if problem.task == "regression" else y
        X_fit, X_stop, y_fit, y_stop = train_test_split(
            X, y, test_size=early_stopping_fraction, stratify=stratify, random_state=problem.seed
        )
        plan = training_plan(
            tuple(X.shape[1:]), gpu=problem.gpu, epochs_override=problem.epochs, width_override=problem.width
        )
        if problem.snapshots >= 2:
            return self._fit_snapshots(keras, plan, X_fit, y_fit, X_stop, y_stop)
        self.model = _compiled_model(keras, self.make_model, problem, tuple(X.shape[1:]), plan)
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=plan.patience,
                restore_best_weights=True,
                start_from_epoch=plan.warmup_epochs,
            ),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(2, plan.patience // 3)),
        ]
        history = self.model.fit(
            X_fit,
            y_fit.astype("float32"),
            validation_data=(X_stop, y_stop.astype("float32")),
            epochs=plan.epochs,
            batch_size=plan.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
        self.epochs_trained = len(history.history["loss"])
        return self

    def _fit_snapshots(self, keras, plan: TrainingPlan, X_fit, y_fit, X_stop, y_stop) -> "KerasLearner":
        """K equal cosine cycles from the full learning rate down to 0, a snapshot of the weights at the end of each."""
        problem = self.problem
        cycle_epochs = max(1, plan.epochs // problem.snapshots)
        steps_per_epoch = int(np.ceil(len(X_fit) / plan.batch_size))
        schedule = keras.optimizers.schedules.CosineDecayRestarts(
            learning_rate, first_decay_steps=cycle_epochs * steps_per_epoch, t_mul=1.0, m_mul=1.0, alpha=0.0
        )
        self.model = _compiled_model(
            keras, self.make_model, problem, tuple(X_fit.shape[1:]), plan, learning_rate=schedule
        )
        self.snapshots = []

        def take_snapshot(epoch, logs):
            if (epoch + 1) % cycle_epochs == 0:
                self.snapshots.append(self.model.get_weights())

        history = self.model.fit(
            X_fit, y_fit.astype("float32"), validation_data=(X_stop, y_stop.astype("float32")),
            epochs=cycle_epochs * problem.snapshots, batch_size=plan.batch_size,
            callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=take_snapshot)], verbose=0,
        )  # fmt: skip
        self.epochs_trained = len(history.history["loss"])
        return self

    def _raw_predict(self, X: NDArray) -> NDArray:
        return np.asarray(self.model.predict(X, batch_size=256, verbose=0), dtype=np.float64)

    def _as_output(self, scores: NDArray) -> NDArray:
        """Raw network outputs as ``predict_proba`` (classes) or ``predict`` (regression) gives them."""
        if self.problem.task == "regression":
            return scores.reshape(-1)
        if self.problem.task == "binary":
            positive = scores.reshape(-1)
            return np.column_stack([1.0 - positive, positive])
        return scores

    def predict_proba(self, X: NDArray) -> NDArray:
        """Class probabilities of shape (n, n_classes); two columns for a binary target."""
        return self._as_output(self._raw_predict(X))

    def predict(self, X: NDArray) -> NDArray:
        """Predicted values (regression) of shape (n,)."""
        return self._as_output(self._raw_predict(X))

    def predict_variants(self, X: NDArray) -> dict[str, NDArray]:
        """Predictions by file-name suffix: ``""`` (the trained model), ``_tta``, ``_snap1`` ..., ``_snapmean``.

        ``_tta`` is the mean of the outputs over ``tta_shifts(problem.tta)``. With
        snapshots, ``""`` is the last snapshot (the weights training ended with),
        ``_snapK`` the earlier ones and ``_snapmean`` the mean of all of them.
        """
        variants = {"": self._raw_predict(X)}
        if self.problem.tta >= 2:
            views = [
                variants[""] if shift == (0, 0) else self._raw_predict(shift_images(X, *shift))
                for shift in tta_shifts(self.problem.tta)
            ]
            variants["_tta"] = np.mean(views, axis=0)
        if len(self.snapshots) >= 2:
            final = self.model.get_weights()
            outputs = []
            for weights in self.snapshots[:-1]:
                self.model.set_weights(weights)
                outputs.append(self._raw_predict(X))
            self.model.set_weights(final)
            for index, output in enumerate(outputs):
                variants[f"_snap{index + 1}"] = output
            variants["_snapmean"] = np.mean([*outputs, variants[""]], axis=0)
        return {suffix: self._as_output(scores) for suffix, scores in variants.items()}


def make_cnn(problem: Problem, *, make_model) -> KerasLearner:
    """The zoo's builder for a CNN: wrap the architecture ``make_model`` for the fold loop."""
    return KerasLearner(make_model, problem)

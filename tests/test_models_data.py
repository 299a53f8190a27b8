"""Tests for models.data: the digits split, the Kaggle folder, the .npz arrays, CIFAR-10's cache check."""

import numpy as np
import pytest

from models.data import DataError, load_cifar10, load_dataset, load_digits_dataset


def test_digits_split_is_stratified_seeded_and_ids_do_not_collide():
    data = load_digits_dataset(seed=0)
    assert (len(data.ids_train), len(data.ids_test)) == (1347, 450)
    assert set(data.ids_train).isdisjoint(data.ids_test)
    assert sorted([*data.ids_train, *data.ids_test]) == list(range(1797))
    # Pixels 0..16 scaled to [0, 1]; features are the flattened images.
    assert data.images_train.min() == 0.0 and data.images_train.max() == 1.0
    np.testing.assert_array_equal(data.X_train, data.images_train.reshape(1347, 64))
    # Stratified: every class keeps its share of the test set within one image.
    train_counts, test_counts = np.bincount(data.y_train), np.bincount(data.y_test)
    np.testing.assert_allclose(test_counts / (train_counts + test_counts), 0.25, atol=0.01)
    again = load_digits_dataset(seed=0)
    np.testing.assert_array_equal(again.ids_test, data.ids_test)
    assert not np.array_equal(load_digits_dataset(seed=1).ids_test, data.ids_test)


def _write_folder(folder, train_text, test_text):
    folder.mkdir()
    (folder / "train.csv").write_text(train_text)
    (folder / "test.csv").write_text(test_text)
    return folder


def test_kaggle_folder_encodes_categories_and_imputes_missing_values(tmp_path):
    folder = _write_folder(
        tmp_path / "kaggle",
        "PassengerId,age,colour,Survived\n1,20,red,0\n2,,blue,1\n3,40,red,1\n4,30,,0\n",
        "PassengerId,age,colour\n10,50,blue\n11,,green\n",
    )
    data = load_dataset(str(folder))
    assert (data.id_name, data.target, data.task) == ("PassengerId", "Survived", "binary")
    assert data.ids_train.tolist() == ["1", "2", "3", "4"] and data.ids_test.tolist() == ["10", "11"]
    # age (missing -> training median 30), then one-hot colour levels: blue, nan, red.
    np.testing.assert_array_equal(
        data.X_train,
        [[20, 0, 0, 1], [30, 1, 0, 0], [40, 0, 0, 1], [30, 0, 1, 0]],
    )
    # An unseen level ("green") is all zeros; the missing test age gets the training median.
    np.testing.assert_array_equal(data.X_test, [[50, 1, 0, 0], [30, 0, 0, 0]])
    assert data.y_train.tolist() == [0, 1, 1, 0] and data.classes.tolist() == [0, 1]
    assert not data.has_images


def test_kaggle_folder_ids_keep_the_text_the_files_write(tmp_path, monkeypatch):
    """00058 is not 58, and NA is an id, not a missing one: the submission must write them as the sample does."""
    folder = _write_folder(tmp_path / "k", "Id,x,y\n00058,1,0\nNA,2,1\n007,3,1\n0100,4,0\n", "Id,x\n00001,1\nnull,2\n")
    data = load_dataset(str(folder))
    assert data.ids_train.tolist() == ["00058", "NA", "007", "0100"] and data.ids_test.tolist() == ["00001", "null"]
    no_id = _write_folder(tmp_path / "e", "Id,x,y\n1,1,0\n,2,1\n", "Id,x\n5,1\n")
    with pytest.raises(DataError, match=r"train.csv: row 3 has no id; give every row one."):
        load_dataset(str(no_id))


def test_kaggle_folder_text_target_and_regression(tmp_path):
    folder = _write_folder(tmp_path / "f", "id,x,kind\n1,1.5,cat\n2,2.5,dog\n3,3.5,cow\n", "id,x\n4,1.0\n")
    data = load_dataset(str(folder))
    assert data.task == "multiclass" and data.classes.tolist() == ["cat", "cow", "dog"]
    assert data.labels(data.y_train).tolist() == ["cat", "dog", "cow"]
    regression = _write_folder(tmp_path / "r", "id,x,price\n1,1,10.5\n2,2,11.25\n3,3,9.0\n", "id,x\n4,1\n")
    data = load_dataset(str(regression))
    assert data.task == "regression" and data.y_train.tolist() == [10.5, 11.25, 9.0]


@pytest.mark.parametrize(
    ("train_text", "options", "message"),
    [
        ("id,x,y\n1,1,0\n2,2,1\n", {"target": "label"}, "has no column 'label'; pass --target"),
        ("id,x,y,z\n1,1,0,1\n2,2,1,0\n", {}, "cannot tell the target column"),
        ("id,x,y\n1,1,0\n1,2,1\n", {}, "id 1 appears more than once"),
        ("id,x,y\n1,1,0\n2,2,1\n", {"id_column": "key"}, "no id column 'key'"),
        ("id,x,y\n1,1,0\n2,2,\n", {}, "the target 'y' is missing at id 2"),
    ],
)
def test_kaggle_folder_errors(tmp_path, train_text, options, message):
    folder = _write_folder(tmp_path / "bad", train_text, "id,x\n3,1\n")
    with pytest.raises(DataError, match=message):
        load_dataset(str(folder), **options)


def test_missing_data_path_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such folder or .npz file"):
        load_dataset(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="train.csv not found"):
        (tmp_path / "empty").mkdir()
        load_dataset(str(tmp_path / "empty"))


def test_npz_images_with_and_without_ids(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "images.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 256, (6, 4, 4)),
        y_train=np.array([0, 1, 2, 0, 1, 2]),
        x_test=rng.integers(0, 256, (3, 4, 4)),
    )
    data = load_dataset(str(path))
    assert data.images_train.shape == (6, 4, 4, 1) and data.X_test.shape == (3, 16)
    assert 0.0 <= data.images_train.min() and data.images_train.max() == 1.0
    assert data.ids_train.tolist() == [0, 1, 2, 3, 4, 5] and data.ids_test.tolist() == [6, 7, 8]
    assert data.task == "multiclass"

    with_ids = tmp_path / "with_ids.npz"
    np.savez(
        with_ids, x_train=rng.random((4, 2, 2, 3)), y_train=np.array([1, 0, 1, 0]), x_test=rng.random((2, 2, 2, 3)),
        ids_train=np.array([11, 12, 13, 14]), ids_test=np.array([21, 22]),
    )  # fmt: skip
    data = load_dataset(str(with_ids))
    assert data.task == "binary" and data.images_test.shape == (2, 2, 2, 3)
    assert data.ids_train.tolist() == [11, 12, 13, 14] and data.ids_test.tolist() == [21, 22]


def test_npz_errors(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((3, 2, 2)), y_train=np.zeros(3))
    with pytest.raises(DataError, match="has no array 'x_test'"):
        load_dataset(str(path))
    with pytest.raises(DataError, match="not found"):
        load_dataset(str(tmp_path / "absent.npz"))


def test_cifar10_not_cached_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DataError) as error:
        load_cifar10()
    message = str(error.value)
    assert "\n" not in message
    assert "CIFAR-10 is not in the Keras cache" in message
    assert str(tmp_path / ".keras" / "datasets" / "cifar-10-batches-py") in message


def test_cifar10_reads_the_cached_batches_channels_last_without_keras(tmp_path, monkeypatch):
    # Batch files as the dataset's archive has them: pickles with bytes keys, each image's 3,072 bytes
    # the red plane, then green, then blue, each row by row.
    import pickle

    folder = tmp_path / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]:
        batch = {b"data": rng.integers(0, 256, size=(2, 3072), dtype=np.uint8), b"labels": [3, 7]}
        (folder / name).write_bytes(pickle.dumps(batch))
        batches[name] = batch
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data = load_cifar10()
    assert data.images_train.shape == (10, 32, 32, 3) and data.images_test.shape == (2, 32, 32, 3)
    # Row 0, column 1 of the first test image: bytes 1 (red), 1025 (green) and 2049 (blue), scaled to [0, 1].
    pixel = batches["test_batch"][b"data"][0, [1, 1025, 2049]] / 255.0
    np.testing.assert_allclose(data.images_test[0, 0, 1], pixel, rtol=1e-6)
    # The third training image is data_batch_2's first; row 31, column 31 is each plane's last byte.
    last = batches["data_batch_2"][b"data"][0, [1023, 2047, 3071]] / 255.0
    np.testing.assert_allclose(data.images_train[2, 31, 31], last, rtol=1e-6)
    assert data.y_train.tolist() == [3, 7] * 5 and data.y_test.tolist() == [3, 7]
    assert data.X_train.shape == (10, 3072)

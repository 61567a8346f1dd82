"""Tests of helpers.data: the loader finds, reads and checks the IDX files.

Every bad file is built here, in a temporary folder; no test needs the network.
The last tests read the real data when it is installed (CI installs it).
"""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from helpers import data
from helpers.data import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    CorruptDatasetError,
    DatasetNotFoundError,
    DatasetSpec,
    IdxFile,
)

RNG = np.random.default_rng(0)
TINY_ARRAYS = {
    "train_images": RNG.integers(0, 256, (6, 4, 4), dtype=np.uint8),
    "train_labels": RNG.integers(0, 10, 6, dtype=np.uint8),
    "test_images": RNG.integers(0, 256, (3, 4, 4), dtype=np.uint8),
    "test_labels": RNG.integers(0, 10, 3, dtype=np.uint8),
}
TINY_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def idx_bytes(array, magic=None, dims=None):
    """The IDX encoding of a uint8 array: magic, big-endian dimensions, data."""
    magic = magic if magic is not None else (LABELS_MAGIC if array.ndim == 1 else IMAGES_MAGIC)
    dims = dims if dims is not None else array.shape
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return header + array.tobytes()


def tiny_spec():
    """A DatasetSpec for the tiny arrays above, with their true checksums."""
    files = {
        key: IdxFile(TINY_NAMES[key], LABELS_MAGIC if arr.ndim == 1 else IMAGES_MAGIC,
                     arr.shape, hashlib.sha256(idx_bytes(arr)).hexdigest())
        for key, arr in TINY_ARRAYS.items()
    }
    return DatasetSpec(name="tiny", **files)


def write_tiny_dataset(folder, replace=None):
    """Write the four tiny files into `folder`; `replace` maps a key to raw gz bytes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for key, arr in TINY_ARRAYS.items():
        content = (replace or {}).get(key)
        if content is None:
            content = gzip.compress(idx_bytes(arr))
        (folder / TINY_NAMES[key]).write_bytes(content)
    return folder


# --- reading and checking one folder -------------------------------------------------


def test_reads_valid_files_exactly(tmp_path):
    folder = write_tiny_dataset(tmp_path)
    (x_train, y_train), (x_test, y_test) = data.load_dataset(folder, tiny_spec())
    for got, key in ((x_train, "train_images"), (y_train, "train_labels"),
                     (x_test, "test_images"), (y_test, "test_labels")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, TINY_ARRAYS[key])


def test_differently_compressed_copy_is_accepted(tmp_path):
    """Mirrors recompress the files; only the decompressed bytes must match."""
    recompressed = gzip.compress(idx_bytes(TINY_ARRAYS["train_images"]), compresslevel=1, mtime=123)
    assert recompressed != gzip.compress(idx_bytes(TINY_ARRAYS["train_images"]))
    folder = write_tiny_dataset(tmp_path, {"train_images": recompressed})
    (x_train, _), _ = data.load_dataset(folder, tiny_spec())
    np.testing.assert_array_equal(x_train, TINY_ARRAYS["train_images"])


def test_truncated_gzip_is_rejected(tmp_path):
    good = gzip.compress(idx_bytes(TINY_ARRAYS["train_images"]))
    folder = write_tiny_dataset(tmp_path, {"train_images": good[: len(good) // 2]})
    with pytest.raises(CorruptDatasetError, match="not a readable gzip file.*truncated"):
        data.load_dataset(folder, tiny_spec())


def test_file_that_is_not_gzip_is_rejected(tmp_path):
    folder = write_tiny_dataset(tmp_path, {"test_labels": b"<html>404 Not Found</html>"})
    with pytest.raises(CorruptDatasetError, match="t10k-labels-idx1-ubyte.gz is not a readable gzip"):
        data.load_dataset(folder, tiny_spec())


def test_wrong_magic_number_is_rejected(tmp_path):
    # The labels file holding an image header: a typical swapped-files mistake.
    bad = gzip.compress(idx_bytes(TINY_ARRAYS["train_labels"], magic=IMAGES_MAGIC))
    folder = write_tiny_dataset(tmp_path, {"train_labels": bad})
    with pytest.raises(CorruptDatasetError, match="magic number 2051, expected 2049"):
        data.load_dataset(folder, tiny_spec())


def test_wrong_count_is_rejected(tmp_path):
    fewer = TINY_ARRAYS["test_images"][:2]
    folder = write_tiny_dataset(tmp_path, {"test_images": gzip.compress(idx_bytes(fewer))})
    with pytest.raises(CorruptDatasetError, match=r"declares shape \(2, 4, 4\), expected \(3, 4, 4\)"):
        data.load_dataset(folder, tiny_spec())


def test_truncated_content_inside_valid_gzip_is_rejected(tmp_path):
    # The header promises 3 images but the data stops half way through.
    raw = idx_bytes(TINY_ARRAYS["test_images"])
    folder = write_tiny_dataset(tmp_path, {"test_images": gzip.compress(raw[:-10])})
    with pytest.raises(CorruptDatasetError, match="decompresses to 54 bytes, but its header promises 64"):
        data.load_dataset(folder, tiny_spec())


def test_header_shorter_than_idx_header_is_rejected(tmp_path):
    folder = write_tiny_dataset(tmp_path, {"train_labels": gzip.compress(b"\x00\x00")})
    with pytest.raises(CorruptDatasetError, match="fewer than the 8-byte IDX header"):
        data.load_dataset(folder, tiny_spec())


def test_checksum_mismatch_is_rejected(tmp_path):
    changed = TINY_ARRAYS["train_images"].copy()
    changed[0, 0, 0] ^= 1  # one flipped bit: same size, same header
    folder = write_tiny_dataset(tmp_path, {"train_images": gzip.compress(idx_bytes(changed))})
    with pytest.raises(CorruptDatasetError, match="content differs from the official data"):
        data.load_dataset(folder, tiny_spec())


def test_missing_file_in_folder_is_reported(tmp_path):
    folder = write_tiny_dataset(tmp_path)
    (folder / TINY_NAMES["test_labels"]).unlink()
    with pytest.raises(DatasetNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.load_dataset(folder, tiny_spec())


# --- finding the data -----------------------------------------------------------------


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Point every place the loader looks at into empty temporary folders."""
    monkeypatch.delenv("TINY_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return {
        "system": tmp_path / "debian",
        "keras": tmp_path / "keras_home" / "datasets" / "tiny",
        "explicit": tmp_path / "mine",
    }


def find(places, **kwargs):
    kwargs.setdefault("download", False)
    return data.find_dataset_dir(tiny_spec(), env_var="TINY_DIR", system_dir=places["system"],
                                 keras_subdir="datasets/tiny", **kwargs)


def test_env_var_folder_comes_first(places, monkeypatch):
    write_tiny_dataset(places["system"])
    write_tiny_dataset(places["explicit"])
    monkeypatch.setenv("TINY_DIR", str(places["explicit"]))
    assert find(places) == places["explicit"]


def test_env_var_pointing_nowhere_is_an_error_not_a_fallback(places, monkeypatch):
    write_tiny_dataset(places["system"])
    monkeypatch.setenv("TINY_DIR", str(places["explicit"]))
    with pytest.raises(DatasetNotFoundError, match="TINY_DIR is set to .*mine, but that folder does not exist"):
        find(places)


def test_env_var_folder_missing_a_file_names_it(places, monkeypatch):
    write_tiny_dataset(places["explicit"])
    (places["explicit"] / TINY_NAMES["train_labels"]).unlink()
    monkeypatch.setenv("TINY_DIR", str(places["explicit"]))
    with pytest.raises(DatasetNotFoundError, match="lacks train-labels-idx1-ubyte.gz"):
        find(places)


def test_system_folder_before_keras_cache(places):
    write_tiny_dataset(places["system"])
    write_tiny_dataset(places["keras"])
    assert find(places) == places["system"]


def test_keras_cache_used_when_system_folder_incomplete(places):
    write_tiny_dataset(places["system"])
    (places["system"] / TINY_NAMES["test_images"]).unlink()
    write_tiny_dataset(places["keras"])
    assert find(places) == places["keras"]


def test_system_folder_comes_from_its_env_var_and_an_empty_value_skips_it(places, monkeypatch):
    # The standalone test hides Debian's copy this way, to load the data as Colab does.
    write_tiny_dataset(places["system"])
    write_tiny_dataset(places["keras"])
    monkeypatch.setenv(data.SYSTEM_DIR_ENV_VAR, str(places["system"]))
    assert data.find_dataset_dir(tiny_spec(), env_var="TINY_DIR", keras_subdir="datasets/tiny",
                                 download=False) == places["system"]
    monkeypatch.setenv(data.SYSTEM_DIR_ENV_VAR, "")
    assert data.find_dataset_dir(tiny_spec(), env_var="TINY_DIR", keras_subdir="datasets/tiny",
                                 download=False) == places["keras"]
    (places["keras"] / TINY_NAMES["test_images"]).unlink()
    with pytest.raises(DatasetNotFoundError, match=r"Debian's package folder: skipped "
                       r"\(\$FASHION_MNIST_SYSTEM_DIR is empty\)"):
        data.find_dataset_dir(tiny_spec(), env_var="TINY_DIR", keras_subdir="datasets/tiny",
                              download=False)


def test_nothing_found_lists_every_place_and_how_to_get_the_data(places):
    with pytest.raises(DatasetNotFoundError) as info:
        find(places)
    message = str(info.value)
    assert "$TINY_DIR: not set" in message
    assert f"Debian's package folder {places['system']}: does not exist" in message
    # the same places, one by one, for a program to show (helpers.check_setup)
    assert info.value.places[0] == "$TINY_DIR: not set"
    assert f"Debian's package folder {places['system']}: does not exist" in info.value.places
    assert all(place in message for place in info.value.places)
    assert f"Keras' cache {places['keras']}: does not exist" in message
    assert "download=False" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_downloads_into_keras_cache_only_when_nothing_local(places, monkeypatch):
    calls = []

    def fake_download(names, subdir, origin):
        calls.append(list(names))
        write_tiny_dataset(data.keras_home() / subdir)

    monkeypatch.setattr(data, "download_with_keras", fake_download)
    assert find(places, download=True) == places["keras"]
    assert calls == [list(TINY_NAMES.values())]

    # A complete local copy means no second download.
    write_tiny_dataset(places["system"])
    calls.clear()
    assert find(places, download=True) == places["system"]
    assert calls == []


def test_failed_download_is_reported_with_the_places_tried(places, monkeypatch):
    def offline(names, subdir, origin):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(data, "download_with_keras", offline)
    with pytest.raises(DatasetNotFoundError, match="(?s)Debian's package folder.*failed: Temporary failure"):
        find(places, download=True)


# --- preprocessing ---------------------------------------------------------------------


def test_scale_images_for_conv_and_dense():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    conv = data.scale_images(images)
    assert conv.shape == (1, 2, 2, 1) and conv.dtype == np.float32
    np.testing.assert_allclose(conv[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-7)
    dense = data.scale_images(images, channel_axis=False)
    assert dense.shape == (1, 2, 2)


def test_scale_images_refuses_already_scaled_input():
    with pytest.raises(ValueError, match="expects the raw uint8 pixels"):
        data.scale_images(np.zeros((1, 28, 28), dtype=np.float32))


def test_scale_images_refuses_wrong_rank():
    with pytest.raises(ValueError, match=r"shape \(n, height, width\), got shape \(28, 28\)"):
        data.scale_images(np.zeros((28, 28), dtype=np.uint8))


# --- the real data, where installed ---------------------------------------------------


@pytest.mark.needs_real_data
def test_real_fashion_mnist_matches_keras_layout_and_official_statistics(monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    # No time limit here (a busy machine would fail it at random):
    # scripts/benchmark_loading.py measures how long loading takes.
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(download=False)
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    for split, images in (("train", x_train), ("test", x_test)):
        official = data.OFFICIAL_STATISTICS[split]
        assert images.mean() == pytest.approx(official["mean"], abs=1e-10)
        assert images.std() == pytest.approx(official["std"], abs=1e-9)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


@pytest.mark.needs_real_data
def test_env_var_can_point_at_the_real_data(monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(data.DEBIAN_DIR))
    assert data.find_dataset_dir(download=False) == data.DEBIAN_DIR


def test_class_names_in_label_order():
    assert data.CLASS_NAMES[0] == "T-shirt/top" and data.CLASS_NAMES[9] == "Ankle boot"
    assert len(data.CLASS_NAMES) == len(set(data.CLASS_NAMES)) == 10


def test_copy_to_keras_cache_lets_keras_read_a_local_copy_offline(tmp_path, monkeypatch):
    local, home = tmp_path / "debian", tmp_path / "keras"
    local.mkdir()
    for file in data.FASHION_MNIST.files:
        (local / file.name).write_bytes(file.name.encode())
    monkeypatch.setattr(data, "keras_home", lambda: home)
    monkeypatch.setattr(data, "find_dataset_dir", lambda download=True: local)
    cache = data.copy_to_keras_cache()
    assert cache == home / data.KERAS_SUBDIR
    assert sorted(p.name for p in cache.iterdir()) == sorted(f.name for f in data.FASHION_MNIST.files)
    first = data.FASHION_MNIST.files[0].name
    (cache / first).write_bytes(b"kept")  # a file already in the cache is left alone
    data.copy_to_keras_cache()
    assert (cache / first).read_bytes() == b"kept"


def test_copy_to_keras_cache_does_nothing_without_a_local_copy(tmp_path, monkeypatch):
    def nowhere(download=True):
        raise data.DatasetNotFoundError("no copy")

    monkeypatch.setattr(data, "keras_home", lambda: tmp_path)
    monkeypatch.setattr(data, "find_dataset_dir", nowhere)
    assert not data.copy_to_keras_cache().exists()

"""Loading and preparing Fashion-MNIST.

`load_fashion_mnist()` returns exactly what `keras.datasets.fashion_mnist.load_data()`
returns, but it reads the four official IDX files itself so that it can

* find the data without the reader's help (an explicit folder, Debian's package,
  Keras' cache, and only then a download), and
* refuse anything that is not the official data, with a message that says what
  was wrong and what to do about it.

The checksums are of the *decompressed* files: mirrors recompress the `.gz`
files (Debian's differ byte for byte from Zalando's), but the IDX bytes inside
are the same everywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.backend import keras_module

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten Fashion-MNIST classes, indexed by label (0-9)."""
NUM_CLASSES = len(CLASS_NAMES)

# Pixel statistics of the official data on the 0-255 scale: reference values
# given to the book (book/references.md says where they come from); the dataset
# chapter recomputes them from the loaded arrays and checks that they agree.
OFFICIAL_STATISTICS = {
    "train": {"mean": 72.94035223214286, "std": 90.0211823513},
    "test": {"mean": 73.14656658163265, "std": 89.8732590781},
}

# IDX magic numbers: 0x0801 = unsigned bytes, 1 dimension; 0x0803 = 3 dimensions.
LABELS_MAGIC = 2049
IMAGES_MAGIC = 2051

ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# Set to an empty value to skip Debian's folder (as the standalone test does,
# to load the data the way Colab does), or to another folder to look there.
SYSTEM_DIR_ENV_VAR = "FASHION_MNIST_SYSTEM_DIR"
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_SUBDIR = "datasets/fashion-mnist"  # where keras.datasets.fashion_mnist caches it


class DatasetNotFoundError(FileNotFoundError):
    """No complete copy of the data was found (or could be downloaded).

    `places` lists each place the loader tried and what it found there.
    """

    def __init__(self, message: str, places=()):
        super().__init__(message)
        self.places = list(places)


class CorruptDatasetError(ValueError):
    """A data file exists but is not the data it claims to be."""


@dataclass(frozen=True)
class IdxFile:
    """One IDX file of a dataset and what its content must be."""

    name: str
    magic: int
    shape: tuple  # (count,) for labels, (count, rows, cols) for images
    sha256: str | None  # of the decompressed bytes; None: no checksum to compare


@dataclass(frozen=True)
class DatasetSpec:
    """The four files of an MNIST-style dataset (Fashion-MNIST's layout):
    train/test images and labels."""

    name: str
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile

    @property
    def files(self):
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


FASHION_MNIST = DatasetSpec(
    name="Fashion-MNIST",
    train_images=IdxFile(
        "train-images-idx3-ubyte.gz", IMAGES_MAGIC, (60000, 28, 28),
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    train_labels=IdxFile(
        "train-labels-idx1-ubyte.gz", LABELS_MAGIC, (60000,),
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    test_images=IdxFile(
        "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, (10000, 28, 28),
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    test_labels=IdxFile(
        "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC, (10000,),
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
)

HOW_TO_GET_THE_DATA = (
    "To get the data, do one of:\n"
    "  - on Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
    f"  - put the four official .gz files in a folder and set {ENV_VAR} to it\n"
    "  - connect to the internet and call load_fashion_mnist() again: Keras downloads\n"
    "    the files into its cache."
)


def read_idx(path, expected: IdxFile) -> np.ndarray:
    """Read one gzipped IDX file and check it against `expected`.

    Returns a uint8 array of shape `expected.shape`. Raises CorruptDatasetError
    if the file cannot be decompressed, has the wrong magic number, the wrong
    dimensions or count, the wrong length, or the wrong checksum.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise CorruptDatasetError(
            f"{path} is not a readable gzip file ({err}). It is probably truncated "
            "or damaged: delete it and get the data again.\n" + HOW_TO_GET_THE_DATA
        ) from err

    ndim = len(expected.shape)
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise CorruptDatasetError(
            f"{path} holds {len(raw)} bytes, fewer than the {header_size}-byte IDX "
            "header: the file is truncated. Delete it and get the data again."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected.magic:
        raise CorruptDatasetError(
            f"{path} starts with magic number {magic}, expected {expected.magic} "
            f"(an IDX file of {ndim} dimension{'s' if ndim > 1 else ''} of unsigned "
            "bytes). Is it the right file, or images and labels swapped?"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if dims != tuple(expected.shape):
        raise CorruptDatasetError(
            f"{path} declares shape {dims}, expected {tuple(expected.shape)}: "
            "this is not the official file (wrong count of examples or image size)."
        )
    expected_size = header_size + int(np.prod(expected.shape))
    if len(raw) != expected_size:
        raise CorruptDatasetError(
            f"{path} decompresses to {len(raw)} bytes, but its header promises "
            f"{expected_size}: the file is truncated or padded. Delete it and get "
            "the data again."
        )
    digest = hashlib.sha256(raw).hexdigest()
    if expected.sha256 is not None and digest != expected.sha256:
        raise CorruptDatasetError(
            f"{path} has the right size but its content differs from the official "
            f"data (SHA-256 of the decompressed bytes {digest}, expected "
            f"{expected.sha256}). Delete it and get the data again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(expected.shape)


def keras_home() -> Path:
    """The root of Keras' cache: $KERAS_HOME, or ~/.keras as Keras itself uses."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def download_with_keras(names, subdir: str, origin: str):
    """Download the named files into Keras' cache (keras_home() / subdir)."""
    keras = keras_module()  # here, so that reading local files never needs Keras

    for name in names:
        keras.utils.get_file(
            name, origin=origin + name, cache_dir=str(keras_home()), cache_subdir=subdir
        )


def _missing(folder: Path, spec: DatasetSpec):
    return [f.name for f in spec.files if not (folder / f.name).is_file()]


def folder_from_env(spec: DatasetSpec, env_var: str) -> Path | None:
    """The folder named by `env_var`, or None if it is not set.

    If it is set, the folder must hold all four files of `spec`: a wrong
    setting is an error, never a silent fall back to another copy.
    """
    explicit = os.environ.get(env_var)
    if not explicit:
        return None
    folder = Path(explicit).expanduser()
    missing = _missing(folder, spec)
    if missing:
        where = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        raise DatasetNotFoundError(
            f"{env_var} is set to {folder}, but that folder {where}. Point {env_var} "
            f"at the folder holding the four {spec.name} .gz files, or unset it to "
            "let the loader look in the usual places."
        )
    return folder


def copy_to_keras_cache() -> Path:
    """Let `keras.datasets.fashion_mnist.load_data()` work offline: where this
    machine holds a checked local copy of Fashion-MNIST (the folder named by
    $FASHION_MNIST_DIR, or Debian's package) and Keras' cache lacks a file,
    copy the file into the cache, where `load_data` looks before it
    downloads. Does nothing where the cache is complete or there is no local
    copy (on Colab, Keras downloads the data). Returns the cache folder."""
    import shutil

    cache = keras_home() / KERAS_SUBDIR
    try:
        local = find_dataset_dir(download=False)
    except DatasetNotFoundError:
        return cache
    if local.resolve() != cache.resolve():
        for file in FASHION_MNIST.files:
            if not (cache / file.name).is_file():
                cache.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(local / file.name, cache / file.name)
    return cache


def find_dataset_dir(
    spec: DatasetSpec = FASHION_MNIST,
    env_var: str = ENV_VAR,
    system_dir: Path | None = None,
    keras_subdir: str = KERAS_SUBDIR,
    origin: str = KERAS_ORIGIN,
    download: bool = True,
) -> Path:
    """Return the folder that holds all four files of `spec`.

    Looks, in this order, in the folder named by the environment variable
    `env_var` (if it is set, it must hold the data), in `system_dir` (Debian's
    package folder, or the folder named by $FASHION_MNIST_SYSTEM_DIR; an empty
    value skips this step), and in Keras' cache, downloading into the cache only if no
    complete local copy exists and `download` is true.
    """
    if system_dir is None:
        system_dir = os.environ.get(SYSTEM_DIR_ENV_VAR, DEBIAN_DIR)
    explicit = folder_from_env(spec, env_var)
    if explicit is not None:
        return explicit

    tried = []
    if not str(system_dir):
        tried.append(f"  - Debian's package folder: skipped (${SYSTEM_DIR_ENV_VAR} is empty)")
    cache = keras_home() / keras_subdir
    places = [("Debian's package folder", Path(system_dir))] if str(system_dir) else []
    for label, folder in places + [("Keras' cache", cache)]:
        missing = _missing(folder, spec)
        if not missing:
            return folder
        state = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
        tried.append(f"  - {label} {folder}: {state}")

    if download:
        try:
            download_with_keras(_missing(cache, spec), keras_subdir, origin)
        except Exception as err:  # any failure: no network, refused, disk full...
            tried.append(f"  - downloading from {origin} into Keras' cache failed: {err}")
        else:
            if not _missing(cache, spec):
                return cache
            tried.append(f"  - downloading into Keras' cache left {', '.join(_missing(cache, spec))} missing")
    else:
        tried.append("  - downloading was not allowed (download=False)")

    tried = [f"  - ${env_var}: not set", *tried]
    raise DatasetNotFoundError(
        f"Could not find {spec.name}. Places tried:\n" + "\n".join(tried) + "\n" + HOW_TO_GET_THE_DATA,
        places=[line.strip().removeprefix("- ") for line in tried],
    )


def load_dataset(folder, spec: DatasetSpec):
    """Read and check the four files of `spec` in `folder`.

    Returns `(x_train, y_train), (x_test, y_test)` as uint8 arrays.
    """
    folder = Path(folder)
    missing = _missing(folder, spec)
    if missing:
        raise DatasetNotFoundError(f"{folder} lacks {', '.join(missing)}.\n" + HOW_TO_GET_THE_DATA,
                                   places=[f"{folder}: lacks {', '.join(missing)}"])
    x_train, y_train, x_test, y_test = (read_idx(folder / f.name, f) for f in spec.files)
    return (x_train, y_train), (x_test, y_test)


def load_fashion_mnist(download: bool = True):
    """Load the official Fashion-MNIST split.

    Returns `(x_train, y_train), (x_test, y_test)`, exactly as
    `keras.datasets.fashion_mnist.load_data()` does: uint8 arrays of shapes
    (60000, 28, 28), (60000,), (10000, 28, 28) and (10000,).

    The files are looked for in $FASHION_MNIST_DIR, then in Debian's
    /usr/share/datasets/fashion-mnist/, then in Keras' cache; only if none has
    them are they downloaded (into Keras' cache). Every file is checked against
    the official data.
    """
    return load_dataset(find_dataset_dir(FASHION_MNIST, download=download), FASHION_MNIST)


def scale_images(images, channel_axis: bool = True) -> np.ndarray:
    """Scale uint8 images (0-255) to float32 in [0, 1].

    With `channel_axis` (the default) a trailing axis of size 1 is added, giving
    (n, 28, 28, 1): the (height, width, channels) layout Conv2D expects. Dense
    models that start with Flatten accept either layout.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            f"scale_images expects the raw uint8 pixels (0-255), got dtype {images.dtype}. "
            "Pass the arrays from load_fashion_mnist() before any scaling, so that "
            "nothing is scaled twice."
        )
    if images.ndim != 3:
        raise ValueError(
            f"scale_images expects a stack of grayscale images of shape (n, height, "
            f"width), got shape {images.shape}."
        )
    scaled = images.astype(np.float32) / np.float32(255.0)
    return scaled[..., np.newaxis] if channel_axis else scaled

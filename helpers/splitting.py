"""Fashion-MNIST as the training chapters feed it to Keras: three splits and the labels' encoding.

A validation split carved from the 60,000 training images (stratified, seeded)
guides every choice; the 10,000 test images are scored once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers import data
from helpers.backend import keras_module


def stratified_split(labels, size, seed=0):
    """Pick `size` indices with the same number from every class, at random.

    Returns `(rest, picked)`: two sorted index arrays that together cover every
    position of `labels` once. `size` must be a multiple of the number of
    classes present, so that each class gives exactly size / classes indices.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"size must be a non-negative integer, got {size!r}.")
    if size % len(classes):
        raise ValueError(f"size {size} is not a multiple of the {len(classes)} classes present; "
                         "use for example "
                         f"{size - size % len(classes)} or {size + len(classes) - size % len(classes)}.")
    per_class = size // len(classes)
    rng = np.random.default_rng(seed)
    picked = []
    for label in classes:
        members = np.flatnonzero(labels == label)
        if per_class > len(members):
            raise ValueError(f"size {size} needs {per_class} images of class {label}, which has only {len(members)}.")
        picked.append(rng.choice(members, per_class, replace=False))
    picked = np.sort(np.concatenate(picked)) if picked else np.array([], dtype=int)
    rest = np.setdiff1d(np.arange(len(labels)), picked)
    return rest, picked


@dataclass
class Splits:
    """Images and integer labels of the three splits: float32 images in [0, 1]
    with a channel axis, (n, 28, 28, 1), as `load_splits` gives them by
    default; raw uint8 (n, 28, 28) images with `scaled=False`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


# The seed of the validation split that every chapter uses, so that every
# validation accuracy in the book is measured on the same 6,000 images.
SPLIT_SEED = 42


def load_splits(validation_size=6000, train_subset=None, seed=SPLIT_SEED, scaled=True) -> Splits:
    """Fashion-MNIST as train / validation / test.

    `validation_size` images (an equal number per class) are held out of the
    official training set; `train_subset`, if given, keeps only that many of
    the remaining training images (a stratified subset, for quick runs). The
    test set is always the full official one. With `scaled=False` the images
    stay raw uint8 (n, 28, 28) arrays, as the tutorials start from.
    """
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    train_index, val_index = stratified_split(y_train, validation_size, seed=seed)
    if train_subset is not None and train_subset != len(train_index):
        if not 0 < train_subset < len(train_index):
            raise ValueError(f"train_subset must be between 1 and {len(train_index)} "
                             f"(the training images left after validation), got {train_subset}.")
        _, chosen = stratified_split(y_train[train_index], train_subset, seed=seed)
        train_index = train_index[chosen]
    prepare = data.scale_images if scaled else np.asarray
    return Splits(
        prepare(x_train[train_index]), y_train[train_index],
        prepare(x_train[val_index]), y_train[val_index],
        prepare(x_test), y_test,
    )


def encode_labels(labels, encoding):
    """Integer labels as they are ("integer") or as one-hot rows ("one-hot")."""
    if encoding == "integer":
        return labels
    if encoding == "one-hot":
        keras = keras_module()

        return keras.utils.to_categorical(labels, data.NUM_CLASSES)
    raise ValueError(f"labels must be 'integer' or 'one-hot', got {encoding!r}.")

"""Scoring a trained model: predicted classes, confusion matrices, and the
clock that times how soon a run reaches a target accuracy."""

from __future__ import annotations

import time

import numpy as np

from helpers import data


def predict_probabilities(model, images, batch_size=1024, mirror_vote=False):
    """The model's softmax output for each image.

    With `mirror_vote`, the average of the outputs for the image and for its
    mirror image (the width axis reversed): a model trained with mirrored
    images (`models.augmentation`) gets two looks at each garment.
    """
    images = np.asarray(images)
    if mirror_vote and images.ndim != 4:
        raise ValueError(f"mirror_vote needs images of shape (count, height, width, channels), "
                         f"got {images.shape}.")
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    if mirror_vote:
        mirrored = model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0)
        probabilities = (probabilities + mirrored) / 2
    return probabilities


def predict_classes(model, images, batch_size=1024, with_probabilities=False, mirror_vote=False):
    """The predicted class of each image: the argmax of the softmax output
    (of `predict_probabilities`, which explains `mirror_vote`).

    (Not a threshold at 0.5: a row with no probability above 0.5 still has a
    most likely class.) With `with_probabilities`, returns (classes,
    probabilities), so that the model runs over the images only once.
    """
    probabilities = predict_probabilities(model, images, batch_size, mirror_vote)
    classes = np.argmax(probabilities, axis=1)
    return (classes, probabilities) if with_probabilities else classes


def confusion_matrix(y_true, y_pred, num_classes=10, normalize=True):
    """Rows: true class, columns: predicted class. Normalised, each row sums to 1."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}; pass class indices, not probabilities.")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    if not normalize:
        return counts
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def most_confused(matrix, class_names=data.CLASS_NAMES, top=5):
    """The largest off-diagonal cells of a row-normalised confusion matrix."""
    import pandas as pd

    off = np.array(matrix, dtype=float)
    np.fill_diagonal(off, -1)
    order = np.argsort(off, axis=None)[::-1][:top]
    rows = [(class_names[t], class_names[p], off[t, p]) for t, p in zip(*np.unravel_index(order, off.shape))]
    return pd.DataFrame(rows, columns=["true class", "predicted as", "share of the true class"])


def seconds_field(target: float) -> str:
    """The results-file field for the time to reach a test accuracy:
    0.9137 gives "seconds_to_91_37"."""
    if not 0 <= target <= 1:
        raise ValueError(f"target must be an accuracy between 0 and 1, got {target}.")
    return "seconds_to_" + f"{target * 100:.2f}".replace(".", "_")


def test_accuracy_clock(x_test, y_test, target: float, mirror_vote=False):
    """A callback that measures test accuracy after every epoch, on a clock
    that leaves its own measuring out, and notes when `target` is first reached.

    It only records: nothing it measures goes into the logs that other
    callbacks (early stopping) read, so the test set never steers training.
    Its `seconds`, `test_accuracy` and `seconds_to_target` (None until
    reached) are filled in as training goes; `field` names the results-file
    field that `record_recipe_run` writes it to (see `seconds_field`).
    With `mirror_vote`, it measures as `predict_classes` with a mirror vote.
    """
    import keras

    field = seconds_field(target)

    class TestAccuracyClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.target, self.field = target, field
            self.seconds, self.test_accuracy, self.seconds_to_target = [], [], None

        def on_train_begin(self, logs=None):
            self.started, self.measuring = time.perf_counter(), 0.0

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            elapsed = now - self.started - self.measuring
            predicted = predict_classes(self.model, x_test, mirror_vote=mirror_vote)
            accuracy = float(np.mean(predicted == np.asarray(y_test)))
            self.seconds.append(round(elapsed, 1))
            self.test_accuracy.append(accuracy)
            if self.seconds_to_target is None and accuracy >= self.target:
                self.seconds_to_target = round(elapsed, 1)
            self.measuring += time.perf_counter() - now

    return TestAccuracyClock()

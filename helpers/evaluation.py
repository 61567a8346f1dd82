"""Scoring a trained model: predicted classes (one view, or a mirror vote)
and the most confused pairs of a confusion matrix.

The confusion matrix itself, the per-class precision and recall and their
figures come from scikit-learn (`sklearn.metrics.confusion_matrix`,
`classification_report`, `ConfusionMatrixDisplay`), as in your own work: this
module keeps only what the libraries lack."""

from __future__ import annotations

import numpy as np

from helpers import data


def predict_probabilities(model, images, batch_size=1024, mirror_vote=False):
    """The model's softmax output for each image.

    With `mirror_vote`, the average of the outputs for the image and for its
    mirror image (the width axis reversed): a model trained with mirrored
    images (Keras' `RandomFlip` layer) gets two looks at each garment.
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


def accuracy(model, images, labels, mirror_vote=False) -> float:
    """The share of `images` whose predicted class (`predict_classes`) is their label."""
    predicted = predict_classes(model, images, mirror_vote=mirror_vote)
    return float(np.mean(predicted == np.asarray(labels)))


def most_confused(matrix, class_names=data.CLASS_NAMES, top=5):
    """The `top` largest confusions of a confusion matrix: a table with one row
    per (true class, predicted class) pair, most frequent first, indexed by
    its rank from 1.

    `matrix` has the true classes as rows and the predicted classes as
    columns, as `sklearn.metrics.confusion_matrix` (and Keras) lay it out.
    Give it the counts, `confusion_matrix(y_true, y_pred)`: the table then
    has the number of images of each pair and its share of the true class.
    A row-normalised matrix (`normalize="true"`, each row summing to 1) gives
    the shares only. Pairs are ranked by that share; ties keep the order of
    the matrix, row by row.
    """
    import pandas as pd

    matrix = np.asarray(matrix)
    n = len(class_names)
    if matrix.shape != (n, n):
        raise ValueError(f"a confusion matrix of {n} classes must be {n}x{n}, got shape {matrix.shape}.")
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}.")
    counts = np.issubdtype(matrix.dtype, np.integer)
    if counts:
        totals = matrix.sum(axis=1, keepdims=True)
        shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    else:
        shares = matrix.astype(float)
        sums = shares.sum(axis=1)
        if not np.all(np.isclose(sums, 1) | np.isclose(sums, 0)):
            raise ValueError("pass the counts of sklearn.metrics.confusion_matrix(y_true, y_pred) (integers), "
                             "or its row-normalised matrix (normalize='true', each row summing to 1); "
                             f"the rows of this one sum to {np.round(sums, 3).tolist()}.")
    off = np.where(np.eye(n, dtype=bool), -np.inf, shares)  # the diagonal is no confusion
    order = np.argsort(-off, axis=None, kind="stable")[:min(top, n * (n - 1))]
    true, predicted = np.unravel_index(order, off.shape)
    table = pd.DataFrame({"true class": [class_names[t] for t in true],
                          "predicted as": [class_names[p] for p in predicted]})
    if counts:
        table["images"] = matrix[true, predicted]
    table["share of the true class"] = shares[true, predicted]
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table

"""Tests of helpers.evaluation: predicted classes (one view or a mirror
vote), accuracy, and the table of the most confused pairs, fed with
scikit-learn's confusion matrices as the chapters feed it."""

import keras
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from helpers import evaluation

NAMES = ["a", "b", "c"]


def test_predict_classes_takes_the_argmax_not_a_threshold():
    # Probabilities with no value above 0.5: a 0.5 threshold would call them all class 0.
    model = keras.Sequential([keras.Input((3,)), keras.layers.Softmax()])
    logits = np.array([[0.0, 1.0, 0.5], [2.0, 1.9, 0.0], [0.0, 0.0, 0.1]], dtype="float32")
    assert evaluation.predict_classes(model, logits).tolist() == [1, 0, 2]
    classes, probabilities = evaluation.predict_classes(model, logits, with_probabilities=True)
    assert classes.tolist() == [1, 0, 2] and probabilities.shape == (3, 3)
    assert np.allclose(probabilities.sum(axis=1), 1)


class LeftEdge(keras.Model):
    """A "model" that reads one pixel on the left edge: the mirror vote sees
    it once as it is and once moved to the right edge, where it reads 0."""

    def call(self, images):
        left = images[:, 0, 0, 0]
        return keras.ops.stack([left, 1 - left], axis=1)


def edge_images():
    images = np.zeros((2, 28, 28, 1), dtype="float32")
    images[0, 0, 0, 0] = 1.0
    return images


def test_mirror_vote_averages_an_image_and_its_mirror():
    images, model = edge_images(), LeftEdge()
    np.testing.assert_allclose(evaluation.predict_probabilities(model, images), [[1, 0], [0, 1]])
    np.testing.assert_allclose(evaluation.predict_probabilities(model, images, mirror_vote=True),
                               [[0.5, 0.5], [0, 1]])
    with pytest.raises(ValueError, match=r"\(2, 28, 28\)"):
        evaluation.predict_probabilities(model, images[..., 0], mirror_vote=True)


def test_accuracy_is_the_share_of_images_whose_predicted_class_is_their_label():
    images, model = edge_images(), LeftEdge()
    # One view: classes 0 and 1. The mirror vote ties the first image (0.5, 0.5): argmax takes class 0.
    assert evaluation.accuracy(model, images, [0, 1]) == 1.0
    assert evaluation.accuracy(model, images, np.array([1, 1])) == 0.5
    assert evaluation.accuracy(model, images, [0, 0]) == 0.5
    assert isinstance(evaluation.accuracy(model, images, [0, 1]), float)
    three = np.concatenate([images, images[:1]])  # a third image like the first
    assert evaluation.accuracy(model, three, [1, 1, 1], mirror_vote=True) == pytest.approx(1 / 3)


def test_most_confused_from_sklearn_counts_ranks_from_one():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 1, 0, 2, 2])
    counts = confusion_matrix(y_true, y_pred)  # rows: true classes, columns: predicted
    top = evaluation.most_confused(counts, NAMES, top=3)
    assert top.index.name == "rank" and top.index.tolist() == [1, 2, 3]
    assert top.columns.tolist() == ["true class", "predicted as", "images", "share of the true class"]
    # b -> a is 1 of 2 b images (0.5); a -> b is 2 of 4 a images (0.5): ties keep row order
    assert top.values.tolist() == [["a", "b", 2, 0.5], ["b", "a", 1, 0.5], ["a", "c", 1, 0.25]]


def test_most_confused_from_a_row_normalised_matrix_gives_shares_only():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 1, 0, 2, 2])
    shares = confusion_matrix(y_true, y_pred, normalize="true")
    top = evaluation.most_confused(shares, NAMES, top=2)
    assert top.columns.tolist() == ["true class", "predicted as", "share of the true class"]
    assert top.values.tolist() == [["a", "b", 0.5], ["b", "a", 0.5]]


def test_most_confused_with_the_book_class_names_by_default():
    counts = np.eye(10, dtype=int) * 80
    counts[6, 0], counts[2, 4], counts[9, 7] = 15, 10, 5
    top = evaluation.most_confused(counts, top=2)
    assert top[["true class", "predicted as", "images"]].values.tolist() == [
        ["Shirt", "T-shirt/top", 15], ["Pullover", "Coat", 10]]


def test_most_confused_never_lists_the_diagonal():
    counts = np.diag([5, 5, 5])  # no confusion at all
    top = evaluation.most_confused(counts, NAMES, top=10)
    assert len(top) == 6 and (top["true class"] != top["predicted as"]).all()
    assert (top["images"] == 0).all()


def test_most_confused_row_of_an_absent_class_counts_nothing():
    counts = np.array([[3, 1, 0], [0, 0, 0], [0, 0, 2]])
    top = evaluation.most_confused(counts, NAMES, top=1)
    assert top.values.tolist() == [["a", "b", 1, 0.25]]


@pytest.mark.parametrize("matrix, kwargs, message", [
    (np.eye(2, dtype=int), {}, "must be 3x3, got shape \\(2, 2\\)"),
    (np.eye(3) * 0.8, {}, "row-normalised"),  # floats whose rows do not sum to 1
    (np.eye(3, dtype=int), {"top": 0}, "top must be at least 1"),
])
def test_most_confused_refuses_bad_input(matrix, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evaluation.most_confused(matrix, NAMES, **kwargs)

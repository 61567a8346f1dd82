"""Tests of helpers.evaluation's table of the most confused pairs, fed with
scikit-learn's confusion matrices as the chapters feed it."""

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from helpers import evaluation

NAMES = ["a", "b", "c"]


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


def test_tensorflows_retracing_warning_is_dropped_and_other_warnings_pass(caplog):
    import logging

    import helpers  # noqa: F401  (installs the filter)

    logger = logging.getLogger("tensorflow")
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning("5 out of the last 13 calls to <function f> triggered tf.function retracing.")
        logger.warning("something else worth seeing")
    assert [record.getMessage() for record in caplog.records] == ["something else worth seeing"]

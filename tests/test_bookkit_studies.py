"""Tests of bookkit.studies, the maintainers' runner of the reproduction
study: the tutorials' protocols and the book's."""


import numpy as np
import pytest

from bookkit import studies
from helpers import data, models


@pytest.mark.needs_real_data
def test_tutorial_protocol_data_follows_each_tutorial():
    x, y, x_test, y_test = studies.tutorial_protocol_data("dense_baseline")
    assert x.shape == (60000, 28, 28, 1) and x.max() == 1.0 and x_test.shape == (10000, 28, 28, 1)
    x, y, _, _ = studies.tutorial_protocol_data("wide_cnn_bn")
    (raw, labels), _ = data.load_fashion_mnist()
    assert x.shape == (48000, 28, 28, 1) and x.max() == 255.0  # unscaled, first 80%
    np.testing.assert_array_equal(y, labels[:48000])
    x, _, _, _ = studies.tutorial_protocol_data("strided_cnn", train_subset=500)
    assert len(x) == 500


def test_tutorial_protocol_data_refuses_a_model_without_a_tutorial():
    with pytest.raises(ValueError, match="'book_cnn'"):
        studies.tutorial_protocol_data("book_cnn")


def test_the_tutorial_protocol_trains_the_architecture_as_published(monkeypatch):
    built = {}

    def recording_builder(**arguments):
        built.update(arguments)
        return models.deep_narrow_cnn(**arguments)

    tiny = np.zeros((8, 28, 28, 1), dtype="float32"), np.arange(8) % 10
    monkeypatch.setitem(models.BUILDERS, "deep_narrow_cnn", recording_builder)
    monkeypatch.setattr(studies, "tutorial_protocol_data", lambda model_id, subset=None: (*tiny, *tiny))
    row = studies.run_tutorial_protocol("deep_narrow_cnn", seed=0, epochs=1)
    assert built == models.TUTORIAL_SETTINGS["deep_narrow_cnn"]["as_published"]
    assert row["protocol"] == "tutorial" and row["epochs"] == 1 and row["train_images"] == 8
    assert 0 <= row["test_accuracy"] <= 1


def test_the_book_protocol_trains_the_chapters_model_on_the_book_split(tiny_splits):
    row = studies.run_book_protocol("dense_baseline", tiny_splits, seed=0, epochs=1)
    assert row["protocol"] == "book" and row["model"] == "dense_baseline" and row["epochs"] == 1
    assert row["train_images"] == len(tiny_splits.x_train)
    assert {"train_accuracy", "val_accuracy", "test_accuracy", "train_seconds"} <= row.keys()
    assert all(0 <= row[k] <= 1 for k in ("train_accuracy", "val_accuracy", "test_accuracy"))

"""The book's models are built as the brief describes them."""

import helpers  # noqa: F401  (quiet TensorFlow first)
import numpy as np
import pytest

from helpers import models


def test_dense_baseline_has_59130_parameters():
    assert models.dense_baseline().count_params() == 59130


@pytest.mark.parametrize("model_id, output_shapes", [
    ("strided_cnn", [(14, 14, 32), (7, 7, 64), (3, 3, 64), (2, 2, 128), (1, 1, 128), (1, 1, 256), (256,), (10,)]),
    ("strided_cnn_dropout", [(13, 13, 32), (6, 6, 64), (2, 2, 128), (512,), (512,), (512,), (512,), (10,)]),
    ("deep_narrow_cnn", [(28, 28, 64), (28, 28, 32), (14, 14, 32), (14, 14, 32), (14, 14, 16), (7, 7, 16),
                         (7, 7, 16), (7, 7, 8), (3, 3, 8), (72,), (128,), (10,)]),
    ("wide_cnn_bn", [(26, 26, 128), (13, 13, 128), (13, 13, 128), (11, 11, 256), (5, 5, 256), (5, 5, 256),
                     (3, 3, 512), (1, 1, 512), (1, 1, 512), (512,), (1024,), (1024,), (10,)]),
])
def test_layer_output_shapes(model_id, output_shapes):
    model = models.build_model(model_id)
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == output_shapes


@pytest.mark.parametrize("model_id", list(models.BUILDERS))
def test_every_model_maps_images_to_class_probabilities(model_id):
    model = models.build_model(model_id)
    probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), dtype="float32")))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.name == model_id
    assert set(models.TUTORIAL_SETTINGS[model_id]) >= {"epochs", "batch_size", "reported_test_accuracy"}


def test_unknown_model_id_lists_the_choices():
    with pytest.raises(ValueError, match="Unknown model id 'resnet'.*dense_baseline"):
        models.build_model("resnet")


def test_conv_activations_returns_every_conv_output():
    model = models.strided_cnn()
    maps = models.conv_activations(model, np.zeros((28, 28, 1)))
    assert [m.shape for _, m in maps] == [(14, 14, 32), (7, 7, 64), (2, 2, 128), (1, 1, 256)]
    with pytest.raises(ValueError, match="has no Conv2D layer"):
        models.conv_activations(models.dense_baseline(), np.zeros((28, 28, 1)))

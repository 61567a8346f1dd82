"""The book's models are built as the brief describes them."""

import keras
import numpy as np
import pytest

from conftest import ROOT
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
    assert [label for label, _ in maps] == ["conv 1", "conv 2", "conv 3", "conv 4"]
    with pytest.raises(ValueError, match="has no Conv2D layer"):
        models.conv_activations(models.dense_baseline(), np.zeros((28, 28, 1)))


@pytest.mark.parametrize("model_id", list(models.BOOK_BUILDERS))
def test_book_models_are_built_and_counted(model_id):
    from helpers import params

    model = models.build_model(model_id)
    assert model.name == model_id
    table = params.parameter_table(model)  # raises if a formula disagrees with Keras
    assert table["parameters"].sum() == model.count_params()
    probabilities = np.asarray(model(np.zeros((2, 28, 28, 1), dtype="float32")))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_book_cnn_halves_the_image_three_times():
    model = models.book_cnn()
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [tuple(c.output.shape[1:]) for c in convs] == [(28, 28, 16), (14, 14, 32), (7, 7, 64)]
    flatten = model.get_layer(index=[type(la).__name__ for la in model.layers].index("Flatten"))
    assert flatten.output.shape[1] == 3 * 3 * 64
    assert models.book_cnn(filters=(8, 8), dense_units=32).count_params() == (
        (9 + 1) * 8 + (9 * 8 + 1) * 8 + (7 * 7 * 8 + 1) * 32 + (32 + 1) * 10)


def test_book_dense_has_one_hidden_layer_per_unit_count():
    model = models.book_dense(units=(64, 32))
    assert [layer.units for layer in model.layers if type(layer).__name__ == "Dense"] == [64, 32, 10]
    assert model.count_params() == (784 + 1) * 64 + (64 + 1) * 32 + (32 + 1) * 10


def _conv_activations(model):
    return [layer.activation.__name__ for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_deep_narrow_cnn_as_published_leaves_its_last_three_convolutions_linear():
    # The tutorial's own activations (its protocol in bookkit.studies) against the book's ReLU on all six.
    assert _conv_activations(models.deep_narrow_cnn()) == ["relu"] * 6
    as_published = models.deep_narrow_cnn(**models.TUTORIAL_SETTINGS["deep_narrow_cnn"]["as_published"])
    assert _conv_activations(as_published) == ["relu"] * 3 + ["linear"] * 3
    assert as_published.count_params() == models.deep_narrow_cnn().count_params()


def test_as_published_arguments_are_arguments_of_their_builders():
    import inspect

    for model_id, settings in models.TUTORIAL_SETTINGS.items():
        accepted = inspect.signature(models.BUILDERS[model_id]).parameters
        assert set(settings.get("as_published", {})) <= set(accepted), model_id


def test_every_model_has_a_chapter_that_exists():
    assert set(models.CHAPTERS) == set(models.BUILDERS) | set(models.BOOK_BUILDERS)
    for notebook in models.CHAPTERS.values():
        assert (ROOT / "notebooks" / notebook).is_file(), notebook

"""The book's models are built as the brief describes them."""

import keras
import numpy as np
import pytest

from conftest import ROOT
from helpers import models, training


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
    assert set(models.BOOK_SETTINGS[model_id]) == {
        "epochs", "batch_size", "peak_learning_rate", "weight_decay", "label_smoothing",
        "patience", "mirror_vote"}


def test_book_cnn_halves_the_image_twice_and_keeps_the_7x7_map():
    model = models.book_cnn()
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [tuple(c.output.shape[1:]) for c in convs] == [(28, 28, 16), (14, 14, 64), (7, 7, 128)]
    assert not any(c.use_bias for c in convs)  # batch normalisation's offset replaces the bias
    # Two poolings: the last block keeps its 7x7 map for the dense layer.
    assert sum(type(layer).__name__ == "MaxPooling2D" for layer in model.layers) == 2
    assert model.get_layer(index=[type(la).__name__ for la in model.layers].index("Flatten")
                           ).output.shape[1] == 7 * 7 * 128
    assert not any(type(layer).__name__ == "RandomFlip" for layer in models.book_cnn(augment=False).layers)


@pytest.mark.parametrize("pool_first", [True, False])
def test_conv_block_orders_and_shapes(pool_first):
    block = keras.Sequential([keras.Input((28, 28, 1)), *models.conv_block(8, pool_first)])
    kinds = [type(layer).__name__ for layer in block.layers]
    expected = (["Conv2D", "MaxPooling2D", "BatchNormalization", "ReLU"] if pool_first
                else ["Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D"])
    image = np.zeros((1, 28, 28, 1), dtype="float32")
    assert kinds == expected and tuple(block(image).shape[1:]) == (14, 14, 8)
    unpooled = keras.Sequential([keras.Input((28, 28, 1)), *models.conv_block(8, pool=False)])
    assert [type(layer).__name__ for layer in unpooled.layers] == ["Conv2D", "BatchNormalization", "ReLU"]
    # The order changes neither the parameters nor the model's shape.
    assert models.book_cnn(pool_first=pool_first).count_params() == models.book_cnn().count_params()


def test_pooling_first_keeps_the_winner_of_each_window():
    # With fresh batch normalisation (scale 1, offset 0, predicting), both
    # orders compute the same numbers: max pooling commutes with monotone maps.
    training.set_seed(0)
    first = keras.Sequential([keras.Input((28, 28, 1)), *models.conv_block(4, pool_first=True)])
    usual = keras.Sequential([keras.Input((28, 28, 1)), *models.conv_block(4, pool_first=False)])
    usual.set_weights(first.get_weights())
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(first(images)), np.asarray(usual(images)), atol=1e-6)


def test_augmentation_flips_only_while_training():
    flip = models.book_cnn().layers[0]
    images = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(flip(images, training=False)), images)
    flipped = np.asarray(flip(images, training=True))
    mirrored = [np.array_equal(f, i[:, ::-1]) for f, i in zip(flipped, images)]
    unchanged = [np.array_equal(f, i) for f, i in zip(flipped, images)]
    assert all(m or u for m, u in zip(mirrored, unchanged))  # each image mirrored or left as it is
    assert 10 < sum(mirrored) < 54  # about half of them mirrored


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

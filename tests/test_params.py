"""helpers.params against model.count_params(), on random models and the book's own."""

import keras
import numpy as np
import pytest

from helpers import models, params


def test_brief_dense_layer_counts():
    counts = [params.dense_params(i, u) for i, u in [(784, 16), (16, 32), (32, 64), (64, 128), (128, 256), (256, 10)]]
    assert counts == [12560, 544, 2112, 8320, 33024, 2570]
    assert sum(counts) == 59130
    assert params.dense_params(30000, 160000) == 4_800_160_000
    assert params.dense_params(10, 5, bias=False) == 50


def test_brief_conv_layer_counts():
    assert params.conv2d_params(3, 3, 16) == 448
    assert params.conv2d_params((5, 5), 16, 32) == 12832
    assert params.conv2d_params(3, 1, 8, bias=False) == 72
    assert params.batchnorm_params(64) == 256
    assert params.batchnorm_params(64, center=False) == 192


@pytest.mark.parametrize("seed", range(25))
def test_formulas_match_keras_on_random_layers(seed):
    rng = np.random.default_rng(seed)
    h, w, c = (int(v) for v in rng.integers(4, 20, size=3))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    filters, units = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    bias = bool(rng.integers(2))
    conv = keras.layers.Conv2D(filters, k, use_bias=bias)
    conv.build((None, h, w, c))
    assert params.conv2d_params(k, c, filters, bias) == conv.count_params()
    dense = keras.layers.Dense(units, use_bias=bias)
    dense.build((None, h))
    assert params.dense_params(h, units, bias) == dense.count_params()


@pytest.mark.parametrize("model_id", list(models.BUILDERS))
def test_parameter_table_of_every_book_model_adds_up_to_keras(model_id):
    model = models.build_model(model_id)
    table = params.parameter_table(model)
    assert table["parameters"].sum() == model.count_params()
    assert list(table.index) == [layer.name for layer in model.layers]
    for layer in model.layers:
        assert table.loc[layer.name, "parameters"] == layer.count_params()
        assert table.loc[layer.name, "output shape"] == tuple(layer.output.shape[1:])


def test_parameter_table_batchnorm_has_trainable_and_moving_statistics():
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.Flatten(),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3)])
    table = params.parameter_table(model)
    bn = table[table["type"] == "BatchNormalization"].iloc[0]
    assert (bn["formula"], bn["parameters"], bn["trainable"]) == ("4 x 4", 16, 8)
    conv = table[table["type"] == "Conv2D"].iloc[0]
    assert (conv["formula"], conv["parameters"], conv["activations per image"]) == ("(3 x 3 x 2 + 1) x 4", 76, 64)
    assert table.loc[table["type"] == "Dropout", "parameters"].item() == 0


def test_parameter_table_refuses_unknown_layers_and_unbuilt_models():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(10, 3)])
    with pytest.raises(ValueError, match="No parameter formula for layer .* of type Embedding"):
        params.parameter_table(model)
    with pytest.raises(ValueError, match="not built"):
        params.parameter_table(keras.Sequential([keras.layers.Dense(2)]))


@pytest.mark.parametrize("call, message", [
    (lambda: params.dense_params(0, 10), "inputs must be a positive integer"),
    (lambda: params.dense_params(10, -1), "units must be a positive integer"),
    (lambda: params.dense_params(10.5, 3), "inputs must be a positive integer"),
    (lambda: params.conv2d_params(0, 3, 3), "kernel_size must be a positive integer"),
    (lambda: params.conv2d_params(3, 0, 3), "in_channels must be a positive integer"),
    (lambda: params.conv2d_params(3, 3, 0), "filters must be a positive integer"),
])
def test_bad_counts_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_multiply_adds_per_layer_by_hand():
    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2D(32, 3, padding="same", name="c1"),
                              keras.layers.Conv2D(8, 3, strides=2, name="c2"),
                              keras.layers.MaxPooling2D(2, name="pool"),
                              keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(10, name="d")])
    counts = params.multiply_adds(model)
    # c1: 28x28x32 outputs, 3x3x1 each; c2: 13x13x8 outputs, 3x3x32 each; d: 288 x 10.
    assert counts.to_dict() == {"c1": 28 * 28 * 32 * 9, "c2": 13 * 13 * 8 * 9 * 32, "d": 6 * 6 * 8 * 10}
    # A Dense layer on a feature map is applied at every position.
    dense_on_maps = keras.Sequential([keras.Input((3, 3, 8)), keras.layers.Dense(10, name="d")])
    assert params.multiply_adds(dense_on_maps)["d"] == 9 * 8 * 10
    with pytest.raises(ValueError, match="no Conv2D or Dense layer"):
        params.multiply_adds(keras.Sequential([keras.Input((4,)), keras.layers.ReLU()]))


def test_receptive_fields_by_hand():
    # Two 3x3 convolutions see 5x5; a 2x2 pooling then doubles the jump, so
    # the next 3x3 convolution adds 2 x 2 pixels: 5 + 1 x 1 = 6, then 6 + 2 x 2 = 10.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.Conv2D(4, 3, padding="same"), keras.layers.MaxPooling2D(2),
                              keras.layers.ReLU(), keras.layers.Conv2D(4, 3, padding="same"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    table = params.receptive_fields(model)
    assert list(table["receptive field"]) == [3, 5, 6, 10]
    assert list(table["jump after"]) == [1, 1, 2, 2]
    assert list(table["output size"]) == [28, 28, 14, 14]


def test_receptive_fields_of_the_strided_cnn_outgrow_the_image():
    # 3 (s2) -> 3 + 2x2 = 7 (s2) -> pool: 7 + 1x4 = 11 -> 11 + 2x8 = 27 -> pool: 27 + 16 = 43 -> 43 + 2x32 = 107
    table = params.receptive_fields(models.strided_cnn())
    assert list(table["receptive field"]) == [3, 7, 11, 27, 43, 107]
    assert list(table["output size"]) == [14, 7, 3, 2, 1, 1]


def test_receptive_fields_needs_a_sliding_layer():
    dense = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="no Conv2D or pooling layer"):
        params.receptive_fields(dense)

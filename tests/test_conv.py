"""helpers.conv against Keras itself, over many random configurations."""

import ast
import inspect

import keras
import nbformat
import numpy as np
import pytest

from conftest import ROOT
from helpers import conv

CHAPTER_2 = ROOT / "notebooks" / "02_convolution.ipynb"

RNG = np.random.default_rng(2024)


def random_configs(count, seed):
    """Random (height, width, channels, kernel, stride, padding) that Keras accepts."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        h, w = rng.integers(1, 13, size=2)
        kh, kw = rng.integers(1, 6, size=2)
        sh, sw = rng.integers(1, 4, size=2)
        padding = ["valid", "same"][rng.integers(2)]
        if padding == "valid" and (kh > h or kw > w):
            continue
        configs.append((int(h), int(w), int(rng.integers(1, 4)), (int(kh), int(kw)), (int(sh), int(sw)), padding))
    return configs


@pytest.mark.parametrize("h, w, c, kernel, stride, padding", random_configs(60, seed=1))
def test_conv2d_matches_keras_conv2d(h, w, c, kernel, stride, padding):
    filters = 3
    x = RNG.normal(size=(1, h, w, c)).astype("float32")
    weights = RNG.normal(size=kernel + (c, filters)).astype("float32")
    layer = keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False)
    layer.build(x.shape)
    layer.set_weights([weights])
    expected = np.asarray(layer(x))[0]
    got = conv.conv2d(x[0], weights, stride=stride, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # output_size agrees with the shape Keras produced, along both axes
    assert expected.shape[:2] == (conv.output_size(h, kernel[0], stride[0], padding),
                                  conv.output_size(w, kernel[1], stride[1], padding))


@pytest.mark.parametrize("h, w, c, pool, stride, padding", random_configs(40, seed=2))
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool2d_matches_keras_pooling(h, w, c, pool, stride, padding, mode):
    x = RNG.normal(size=(1, h, w, c)).astype("float32")
    layer_class = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    expected = np.asarray(layer_class(pool, strides=stride, padding=padding)(x))[0]
    got = conv.pool2d(x[0], pool, stride=stride, padding=padding, mode=mode)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_output_size_for_every_small_case_matches_keras():
    """Exhaustive over sizes 1-9, kernels 1-5, strides 1-3, both paddings."""
    for n in range(1, 10):
        for k in range(1, 6):
            for s in range(1, 4):
                for padding in ("valid", "same"):
                    if padding == "valid" and k > n:
                        continue
                    layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding)
                    keras_n = layer.compute_output_shape((1, n, 1, 1))[1]
                    assert conv.output_size(n, k, s, padding) == keras_n, (n, k, s, padding)


def test_output_size_textbook_formula_with_integer_padding():
    # o = floor((N - K + 2P) / S) + 1
    for n, k, p, s in [(5, 3, 0, 1), (5, 3, 1, 1), (7, 3, 1, 2), (28, 5, 2, 1), (32, 4, 3, 3)]:
        assert conv.output_size(n, k, s, p) == (n - k + 2 * p) // s + 1
    # an integer padding equals ZeroPadding2D followed by a 'valid' Conv2D
    x = RNG.normal(size=(1, 9, 9, 1)).astype("float32")
    kernel = RNG.normal(size=(3, 3, 1, 1)).astype("float32")
    model = keras.Sequential([keras.Input((9, 9, 1)), keras.layers.ZeroPadding2D(2),
                              keras.layers.Conv2D(1, 3, strides=2, use_bias=False)])
    model.layers[-1].set_weights([kernel])
    np.testing.assert_allclose(conv.conv2d(x[0], kernel, stride=2, padding=2),
                               np.asarray(model(x))[0], rtol=1e-5, atol=1e-5)


def test_same_padding_puts_the_odd_pixel_at_the_end():
    assert conv.padding_amounts(5, 3, 1, "same") == (1, 1)
    assert conv.padding_amounts(6, 3, 2, "same") == (0, 1)  # total 1: all after
    assert conv.padding_amounts(6, 4, 1, "same") == (1, 2)
    assert conv.padding_amounts(5, 3, 1, 2) == (2, 2)
    assert conv.padding_amounts(5, 3, 1, "valid") == (0, 0)


def test_book_example_5x5_image_3x3_kernel():
    image = np.arange(25).reshape(5, 5)
    kernel = np.ones((3, 3))
    out = conv.conv2d(image, kernel)
    assert out.shape == (3, 3)
    assert out[0, 0] == image[:3, :3].sum() and out[2, 2] == image[2:, 2:].sum()
    assert conv.conv2d(image, kernel, padding="same").shape == (5, 5)
    assert conv.conv2d(image, kernel, stride=2, padding="same").shape == (3, 3)


def test_kernel_layouts_2d_3d_4d_agree():
    image = RNG.normal(size=(6, 6, 2))
    kernel = RNG.normal(size=(3, 3, 2))
    three = conv.conv2d(image, kernel)
    four = conv.conv2d(image, kernel[..., None])
    assert three.shape == (4, 4) and four.shape == (4, 4, 1)
    np.testing.assert_allclose(three, four[..., 0])
    gray = image[..., 0]
    np.testing.assert_allclose(conv.conv2d(gray, kernel[..., 0]), conv.conv2d(gray[..., None], kernel[..., :1]))


@pytest.mark.parametrize("call, message", [
    (lambda: conv.output_size(3, 5), "kernel_size 5 is larger than the input"),
    (lambda: conv.output_size(0, 3), "n \\(the input size\\) must be a positive integer"),
    (lambda: conv.output_size(5, 3, stride=0), "stride must be a positive integer"),
    (lambda: conv.output_size(5, 3, stride=-1), "stride must be a positive integer"),
    (lambda: conv.output_size(5, 0), "kernel_size must be a positive integer"),
    (lambda: conv.output_size(5, 3, padding="full"), "padding must be 'valid', 'same' or a non-negative int"),
    (lambda: conv.output_size(5, 3, padding=-1), "padding must be 'valid', 'same' or a non-negative int"),
    (lambda: conv.output_size(5, 3, padding=1.5), "padding must be 'valid', 'same' or a non-negative int"),
    (lambda: conv.conv2d(np.ones((3, 3)), np.ones((5, 5))), "larger than the padded input height"),
    (lambda: conv.conv2d(np.ones((4, 4, 3)), np.ones((3, 3, 2))), "spans 2 channel\\(s\\) but the image has 3"),
    (lambda: conv.conv2d(np.ones((4, 4)), np.ones((3, 3)), stride=(1, 0)), "stride must be a positive integer"),
    (lambda: conv.conv2d(np.ones((4, 4)), np.ones(3)), "kernel must have shape"),
    (lambda: conv.conv2d(np.ones(4), np.ones((3, 3))), "image must have shape"),
    (lambda: conv.conv2d(np.ones((4, 4)), np.ones((3, 3)), padding="SAME"), "padding must be"),
    (lambda: conv.conv2d(np.ones((4, 4)), np.ones((3, 3)), bias=[1.0, 2.0]), "bias must have shape \\(1,\\)"),
    (lambda: conv.pool2d(np.ones((4, 4)), mode="min"), "mode must be 'max' or 'average'"),
    (lambda: conv.pool2d(np.ones((4, 4)), pool_size=(2, 2, 2)), "pool_size must be an int or a pair"),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- conv2d_loops and conv2d_vectorised: the chapter's two versions ----------

CONVOLUTIONS = [conv.conv2d_loops, conv.conv2d_vectorised]


def keras_conv2d(x, kernel, bias, stride, padding):
    """What keras.layers.Conv2D computes for one (H, W, C) image with these weights."""
    layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=stride, padding=padding,
                                use_bias=bias is not None)
    layer.build((1,) + x.shape)
    layer.set_weights([kernel] if bias is None else [kernel, bias])
    return np.asarray(layer(x[None]))[0]


# Odd and even sizes, square and not, 1-4 input channels, 1-5 filters, every
# stride from 1 to 3 and both paddings (the cases name their sizes).
SIZES = [(7, 7, 1, 3, 1), (8, 6, 3, 2, 4), (9, 10, 2, 3, 5), (6, 5, 4, 1, 2), (10, 10, 3, 4, 3)]


@pytest.mark.parametrize("convolution", CONVOLUTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("h, w, channels, k, filters", SIZES)
@pytest.mark.parametrize("stride", [1, 2, 3, (1, 2)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
def test_both_versions_match_keras_conv2d(convolution, h, w, channels, k, filters, stride, padding, with_bias):
    rng = np.random.default_rng([h, w, channels, k, filters])
    x = rng.normal(size=(h, w, channels)).astype("float32")
    kernel = rng.normal(size=(k, k, channels, filters)).astype("float32")
    bias = rng.normal(size=filters).astype("float32") if with_bias else None
    expected = keras_conv2d(x, kernel, bias, stride, padding)
    got = convolution(x, kernel, stride=stride, padding=padding, bias=bias)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("h, w, c, kernel, stride, padding", random_configs(25, seed=3))
def test_loops_and_vectorised_give_the_same_numbers(h, w, c, kernel, stride, padding):
    x = RNG.normal(size=(h, w, c))
    weights = RNG.normal(size=kernel + (c, 2))
    bias = RNG.normal(size=2)
    np.testing.assert_allclose(conv.conv2d_loops(x, weights, stride, padding, bias),
                               conv.conv2d_vectorised(x, weights, stride, padding, bias), rtol=1e-12, atol=1e-12)


def test_conv2d_adds_the_bias_for_every_kernel_layout():
    image = RNG.normal(size=(5, 5, 2))
    kernel = RNG.normal(size=(3, 3, 2, 4))
    bias = RNG.normal(size=4)
    np.testing.assert_allclose(conv.conv2d(image, kernel, bias=bias), conv.conv2d(image, kernel) + bias)
    np.testing.assert_allclose(conv.conv2d(image, kernel[..., 0], bias=bias[:1]),
                               conv.conv2d(image, kernel[..., 0]) + bias[0])


def test_loops_on_the_chapter_5x5_example():
    image = np.arange(25).reshape(5, 5, 1)
    out = conv.conv2d_loops(image, np.ones((3, 3, 1, 1)), bias=[10.0])
    assert out.shape == (3, 3, 1)
    assert out[0, 0, 0] == image[:3, :3].sum() + 10 and out[2, 2, 0] == image[2:, 2:].sum() + 10


def notebook_function_source(name):
    """The source of function `name` as defined in one of chapter 2's code cells."""
    for cell in nbformat.read(CHAPTER_2, as_version=4).cells:
        if cell.cell_type != "code" or f"def {name}(" not in cell.source:
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(cell.source, node)
    raise AssertionError(f"no code cell of {CHAPTER_2.name} defines {name}")


@pytest.mark.parametrize("name", ["conv2d_loops", "conv2d_vectorised"])
def test_chapter_2_shows_exactly_the_helper_code(name):
    """The cell says `# saved as helpers.conv.<name>`: the two must not drift apart."""
    in_notebook = notebook_function_source(name)
    in_helper = inspect.getsource(getattr(conv, name)).rstrip()
    assert in_notebook == in_helper, f"{name} in {CHAPTER_2.name} differs from helpers/conv.py: copy one to the other"
    assert f"# saved as helpers.conv.{name}" in next(
        c.source for c in nbformat.read(CHAPTER_2, as_version=4).cells if f"def {name}(" in c.source)


GOOD_IMAGE, GOOD_KERNEL = np.ones((5, 5, 3)), np.ones((3, 3, 3, 2))


@pytest.mark.parametrize("convolution", CONVOLUTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("image, kernel, options, message", [
    (np.ones((5, 5, 3)), np.ones((3, 3, 2, 2)), {},
     "the kernel spans 2 channel\\(s\\) but the image has 3: .* give it shape \\(3, 3, 3, filters\\)"),
    (np.ones((5, 5)), GOOD_KERNEL, {},
     "image must have shape \\(height, width, channels\\).*image\\[:, :, None\\]"),
    (np.ones((1, 5, 5, 3)), GOOD_KERNEL, {}, "image must have shape \\(height, width, channels\\)"),
    (GOOD_IMAGE, np.ones((3, 3, 3)), {},
     "kernel must have shape \\(kh, kw, channels, filters\\).*kernel\\[..., None\\]"),
    (GOOD_IMAGE, np.ones((3, 0, 3, 2)), {}, "kernel must not have an empty axis"),
    (GOOD_IMAGE, np.ones((7, 3, 3, 2)), {}, "larger than the padded input height \\(5\\)"),
    (GOOD_IMAGE, GOOD_KERNEL, {"padding": "full"}, "padding must be 'valid', 'same' or a non-negative int, got 'full'"),
    (GOOD_IMAGE, GOOD_KERNEL, {"padding": "SAME"}, "padding must be 'valid', 'same'"),
    (GOOD_IMAGE, GOOD_KERNEL, {"stride": 0}, "stride must be a positive integer, got 0"),
    (GOOD_IMAGE, GOOD_KERNEL, {"stride": (1, 2, 3)}, "stride must be an int or a pair of ints"),
    (GOOD_IMAGE, GOOD_KERNEL, {"stride": 1.5}, "stride must be a positive integer"),
    (GOOD_IMAGE, GOOD_KERNEL, {"bias": np.ones(3)},
     "bias must have shape \\(2,\\), one number per filter, got \\(3,\\)"),
    (GOOD_IMAGE, GOOD_KERNEL, {"bias": 1.0}, "bias must have shape \\(2,\\)"),
])
def test_both_versions_refuse_bad_arguments_with_a_clear_message(convolution, image, kernel, options, message):
    with pytest.raises(ValueError, match=message):
        convolution(image, kernel, **options)

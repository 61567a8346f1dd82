"""Tests of helpers.perturb: each disturbance does exactly what it says to a
pixel you can follow, fills with the background, leaves its input alone, and
refuses nonsense with a message naming the value."""

import numpy as np
import pytest

from helpers import perturb


def one_bright_pixel(row=10, col=12, shape=(2, 28, 28, 1)):
    images = np.zeros(shape, dtype="float32")
    images[:, row, col] = 1.0
    return images


@pytest.mark.parametrize("down, right", [(0, 0), (3, 0), (-4, 0), (0, 2), (0, -1), (2, -3)])
def test_shift_moves_a_single_bright_pixel_exactly(down, right):
    images = one_bright_pixel()
    moved = perturb.shift(images, down, right)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    for image in moved:
        assert [tuple(p) for p in np.argwhere(image[..., 0] == 1.0)] == [(10 + down, 12 + right)]
        assert image.sum() == 1.0  # one pixel moved, nothing else changed


def test_shift_fills_the_uncovered_border_with_the_background_and_wraps_nothing():
    images = np.ones((1, 6, 6), dtype="float32")
    down = perturb.shift(images, 2, 0)[0]
    assert np.all(down[:2] == 0) and np.all(down[2:] == 1)
    left = perturb.shift(images, 0, -3)[0]
    assert np.all(left[:, 3:] == 0) and np.all(left[:, :3] == 1)
    grey = perturb.shift(images, -1, 1, fill=0.5)[0]
    assert np.all(grey[-1] == 0.5) and np.all(grey[:, 0] == 0.5) and np.all(grey[:-1, 1:] == 1)


def test_shift_works_on_one_image_and_a_batch_without_channels_and_keeps_its_input():
    image = np.arange(16, dtype="float32").reshape(4, 4)
    before = image.copy()
    np.testing.assert_array_equal(perturb.shift(image, 1, 0)[1:], image[:-1])
    np.testing.assert_array_equal(perturb.shift(image[None], 0, 1)[0][:, 1:], image[:, :-1])
    np.testing.assert_array_equal(image, before)


def test_rotate_by_zero_is_the_identity_and_a_copy():
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    turned = perturb.rotate(images, 0)
    np.testing.assert_array_equal(turned, images)
    assert turned is not images and turned.dtype == images.dtype


def test_rotate_turns_counter_clockwise_as_shown_and_fills_the_corners():
    images = np.zeros((1, 9, 9), dtype="float32")
    images[0, 4, 7] = 1.0  # right of the centre
    quarter = perturb.rotate(images, 90)[0]
    assert [tuple(p) for p in np.argwhere(quarter > 0.5)] == [(1, 4)]  # above the centre
    square = np.ones((1, 28, 28), dtype="float32")
    turned = perturb.rotate(square, 20)[0]
    assert turned[0, 0] == 0 and turned[14, 14] == pytest.approx(1)  # a corner came in empty
    assert turned.min() >= 0 and turned.max() <= 1  # linear interpolation stays in range
    np.testing.assert_allclose(perturb.rotate(square, -20)[0], np.fliplr(turned), atol=1e-6)  # mirrored


def test_add_noise_is_clipped_to_the_pixel_range_repeatable_and_zero_sd_changes_nothing():
    images = np.random.default_rng(1).random((4, 28, 28, 1)).astype("float32")
    noisy = perturb.add_noise(images, 0.5, seed=3)
    assert noisy.dtype == images.dtype and noisy.shape == images.shape
    assert noisy.min() == 0 and noisy.max() == 1  # this much noise hits both ends
    np.testing.assert_array_equal(noisy, perturb.add_noise(images, 0.5, seed=3))
    assert not np.array_equal(noisy, perturb.add_noise(images, 0.5, seed=4))
    np.testing.assert_array_equal(perturb.add_noise(images, 0.0), images)
    small = perturb.add_noise(np.full((1, 200, 200), 0.5, "float32"), 0.1)
    assert small.std() == pytest.approx(0.1, rel=0.05)  # unclipped, the sd asked for


def test_occlude_covers_exactly_the_square():
    images = np.ones((2, 28, 28, 1), dtype="float32")
    covered = perturb.occlude(images, top=5, left=20, size=8)
    expected = np.ones((28, 28), dtype=bool)
    expected[5:13, 20:28] = False
    for image in covered:
        np.testing.assert_array_equal(image[..., 0] == 1, expected)
    assert covered[0, 5:13, 20:28].sum() == 0
    assert np.all(images == 1)  # the input is untouched
    assert perturb.occlude(images[0, ..., 0], 0, 0, size=28, fill=0.25).max() == 0.25


@pytest.mark.parametrize("call, message", [
    (lambda x: perturb.shift(x, 1.5, 0), "down must be a whole number of pixels, got 1.5"),
    (lambda x: perturb.shift(x, 0, True), "right must be a whole number of pixels, got True"),
    (lambda x: perturb.shift(x, 28, 0), "down=28"),
    (lambda x: perturb.shift(x, 0, -30), "right=-30"),
    (lambda x: perturb.shift(x[0, 0, 0], 1, 0), r"got shape \(1,\)"),
    (lambda x: perturb.shift(x, 0, 0, fill=float("nan")), "fill must be a finite number, got nan"),
    (lambda x: perturb.rotate(x, "ten"), "degrees must be a finite number, got 'ten'"),
    (lambda x: perturb.add_noise(x, -0.1), "sd must be 0 or more, got -0.1"),
    (lambda x: perturb.add_noise(x * 255, 0.1), "pixels in \\[0, 1\\].*255"),
    (lambda x: perturb.add_noise(x.astype("uint8"), 0.1), "dtype uint8"),
    (lambda x: perturb.occlude(x, 21, 0, size=8), "top=21"),
    (lambda x: perturb.occlude(x, 0, -1), "left=-1"),
    (lambda x: perturb.occlude(x, 0, 0, size=0), "size must be between 1 and 28 pixels, got 0"),
    (lambda x: perturb.occlude(x, 0, 0, size=2.0), "size must be a whole number of pixels, got 2.0"),
    (lambda x: perturb.rotate(np.array([["a"]]), 5), "real numbers"),
])
def test_bad_arguments_raise_value_errors_that_name_the_value(call, message):
    images = np.ones((2, 28, 28, 1), dtype="float32")
    with pytest.raises(ValueError, match=message):
        call(images)

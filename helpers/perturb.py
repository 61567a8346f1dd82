"""Disturbed copies of images, to measure what a trained network survives
(chapter 12): a shift by whole pixels, a rotation, Gaussian pixel noise and
an occluding square.

Every function takes one image, shape (height, width), or a batch, shape
(count, height, width) or (count, height, width, channels), with pixels
scaled to [0, 1] (`data.scale_images`), and returns a new array of the same
shape and dtype; the input is never changed. Where the disturbance uncovers
or covers pixels, they get the background value `fill`, 0 for Fashion-MNIST
after scaling. NumPy and SciPy only: no TensorFlow.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import ndimage


def _as_images(images) -> np.ndarray:
    """`images` as an array whose image axes can be found, or a ValueError."""
    array = np.asarray(images)
    if array.ndim not in (2, 3, 4):
        raise ValueError("images must be one image (height, width) or a batch (count, height, width) "
                         f"or (count, height, width, channels); got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"images must hold real numbers, got dtype {array.dtype}.")
    return array


def _image_axes(array: np.ndarray) -> tuple:
    """The (height, width) axes: (0, 1) for one image, (1, 2) for a batch."""
    return (0, 1) if array.ndim == 2 else (1, 2)


def _whole_number(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number of pixels, got {value!r}.")
    return int(value)


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return float(value)


def shift(images, down: int, right: int, fill=0.0) -> np.ndarray:
    """The images moved `down` pixels down and `right` pixels to the right
    (negative values move them up or left), by whole pixels.

    Nothing wraps round: what leaves one edge is lost, and the strip uncovered
    at the other edge gets `fill`. `down` and `right` must be whole numbers,
    each smaller in size than the image's height or width.
    """
    array = _as_images(images)
    down, right = _whole_number(down, "down"), _whole_number(right, "right")
    fill = _real(fill, "fill")
    height_axis, width_axis = _image_axes(array)
    height, width = array.shape[height_axis], array.shape[width_axis]
    if abs(down) >= height or abs(right) >= width:
        raise ValueError(f"a shift of down={down}, right={right} moves a {height}x{width} image "
                         "out of sight; each must be smaller in size than the image.")
    moved = np.full_like(array, fill)

    def span(step, size):  # (where the pixels go, where they come from) along one axis
        return (slice(step, size), slice(0, size - step)) if step >= 0 else (
            slice(0, size + step), slice(-step, size))

    (rows_to, rows_from), (cols_to, cols_from) = span(down, height), span(right, width)
    target = [slice(None)] * array.ndim
    source = [slice(None)] * array.ndim
    target[height_axis], target[width_axis] = rows_to, cols_to
    source[height_axis], source[width_axis] = rows_from, cols_from
    moved[tuple(target)] = array[tuple(source)]
    return moved


def rotate(images, degrees, fill=0.0) -> np.ndarray:
    """The images turned by `degrees` about their centre, counter-clockwise as
    Matplotlib's `imshow` shows them (negative: clockwise).

    Each image keeps its size (`scipy.ndimage.rotate` with `reshape=False`):
    the corners that turn out of the frame are lost, and those that turn in
    get `fill`. Pixels are interpolated linearly (`order=1`), so the values
    stay within the range of the image and `fill`. A rotation by 0 returns an
    exact copy.
    """
    array = _as_images(images)
    degrees, fill = _real(degrees, "degrees"), _real(fill, "fill")
    if degrees == 0:
        return array.copy()
    turned = ndimage.rotate(array.astype(np.float64), degrees, axes=_image_axes(array), reshape=False,
                            order=1, mode="constant", cval=fill)
    if np.issubdtype(array.dtype, np.integer):
        turned = np.rint(turned)
    return turned.astype(array.dtype, copy=False)


def add_noise(images, sd, seed=0) -> np.ndarray:
    """The images with Gaussian noise of standard deviation `sd` added to
    every pixel, then clipped to [0, 1], the range of scaled pixels.

    The noise comes from `np.random.default_rng(seed)`: the same seed gives
    the same noise, so that several models can be tested on the same noisy
    images. `images` must be scaled to [0, 1] already (`data.scale_images`).
    """
    array = _as_images(images)
    sd = _real(sd, "sd")
    if sd < 0:
        raise ValueError(f"sd must be 0 or more, got {sd}.")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"add_noise needs images scaled to [0, 1] as floats (data.scale_images), "
                         f"got dtype {array.dtype}.")
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(f"add_noise needs pixels in [0, 1] (data.scale_images); these span "
                         f"{array.min():g} to {array.max():g}.")
    noise = np.random.default_rng(seed).normal(0.0, sd, size=array.shape)
    return np.clip(array + noise, 0.0, 1.0).astype(array.dtype, copy=False)


def occlude(images, top: int, left: int, size=8, fill=0.0) -> np.ndarray:
    """The images with a `size` x `size` square set to `fill`, its top-left
    pixel at row `top` and column `left`. The square must lie inside the image.
    """
    array = _as_images(images)
    top, left = _whole_number(top, "top"), _whole_number(left, "left")
    size, fill = _whole_number(size, "size"), _real(fill, "fill")
    height_axis, width_axis = _image_axes(array)
    height, width = array.shape[height_axis], array.shape[width_axis]
    if not 1 <= size <= min(height, width):
        raise ValueError(f"size must be between 1 and {min(height, width)} pixels, got {size}.")
    if not (0 <= top <= height - size and 0 <= left <= width - size):
        raise ValueError(f"a {size}x{size} square at top={top}, left={left} does not fit in a "
                         f"{height}x{width} image: top must lie in 0..{height - size} and left in "
                         f"0..{width - size}.")
    covered = array.copy()
    square = [slice(None)] * array.ndim
    square[height_axis], square[width_axis] = slice(top, top + size), slice(left, left + size)
    covered[tuple(square)] = fill
    return covered

"""Convolution and pooling from scratch, in plain NumPy.

These functions compute exactly what `keras.layers.Conv2D`, `MaxPooling2D` and
`AveragePooling2D` compute (the tests check it against Keras over many random
configurations), but in a few readable lines, so that the book can show every
step. Like every deep-learning library, "convolution" here is
cross-correlation: the kernel is not flipped.

Padding is `"valid"` (none), `"same"` (Keras' rule, below) or a non-negative
int of zeros added on every side. With `"same"` the output has
ceil(n / stride) positions and the padding needed for that is split with the
odd pixel, if any, at the end (bottom/right): TensorFlow's convention, which
Keras follows.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PADDINGS = ("valid", "same")


def _positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def as_pair(value, name):
    """An int or a pair of ints -> a pair of positive ints (rows, columns)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}.")
        return tuple(_positive_int(v, name) for v in value)
    value = _positive_int(value, name)
    return value, value


def _check_padding(padding):
    if isinstance(padding, str):
        if padding not in PADDINGS:
            raise ValueError(f"padding must be 'valid', 'same' or a non-negative int, got {padding!r}.")
        return padding
    if isinstance(padding, (bool, np.bool_)) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be 'valid', 'same' or a non-negative int, got {padding!r}.")
    return int(padding)


def padding_amounts(n, kernel_size, stride=1, padding="valid"):
    """Zeros added (before, after) along one axis of length `n`.

    For `"same"`, Keras (like TensorFlow) pads just enough for ceil(n / stride)
    outputs and puts the odd pixel at the end.
    """
    n = _positive_int(n, "n (the input size)")
    kernel_size = _positive_int(kernel_size, "kernel_size")
    stride = _positive_int(stride, "stride")
    padding = _check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(n / stride)
        total = max((out - 1) * stride + kernel_size - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def output_size(n, kernel_size, stride=1, padding="valid"):
    """Length of the output along one axis: floor((n + pads - k) / s) + 1.

    With `padding=P` (an int) this is the textbook o = floor((N - K + 2P) / S) + 1;
    `"valid"` is P = 0 and `"same"` gives ceil(n / stride).
    """
    before, after = padding_amounts(n, kernel_size, stride, padding)
    padded = n + before + after
    if kernel_size > padded:
        raise ValueError(
            f"kernel_size {kernel_size} is larger than the input ({n}"
            + (f" + {before + after} padding" if before + after else "")
            + f"): no window fits. Use a kernel of at most {padded}, or padding='same'."
        )
    return (padded - kernel_size) // stride + 1


def _as_hwc(image, name="image"):
    """(H, W) or (H, W, C) -> float64 (H, W, C), and whether it had channels."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 2:
        return image[:, :, None], False
    if image.ndim == 3:
        return image, True
    raise ValueError(f"{name} must have shape (height, width) or (height, width, channels), got {image.shape}.")


def _pad(image, kernel_hw, stride_hw, padding, fill=0.0):
    """Pad an (H, W, C) image for the given kernel, stride and padding."""
    pads = [padding_amounts(n, k, s, padding) for n, k, s in zip(image.shape[:2], kernel_hw, stride_hw)]
    for n, k, (before, after), axis in zip(image.shape[:2], kernel_hw, pads, ("height", "width")):
        if k > n + before + after:
            raise ValueError(
                f"the kernel ({k}) is larger than the padded input {axis} ({n + before + after}): "
                "no window fits. Use a smaller kernel or padding='same'."
            )
    return np.pad(image, (pads[0], pads[1], (0, 0)), constant_values=fill)


def _windows(padded, kernel_hw, stride_hw):
    """All kernel-sized windows: shape (out_h, out_w, C, kh, kw)."""
    windows = sliding_window_view(padded, kernel_hw, axis=(0, 1))
    return windows[::stride_hw[0], ::stride_hw[1]]


def conv2d(image, kernel, stride=1, padding="valid"):
    """Slide `kernel` over `image` and sum the element-wise products at each stop.

    image:  (H, W) or (H, W, C)
    kernel: (kh, kw) for a single-channel image, (kh, kw, C) spanning every
            channel, or (kh, kw, C, filters) as stored by keras.layers.Conv2D
    Returns (out_h, out_w), or (out_h, out_w, filters) for a 4-D kernel.
    No bias is added: add it yourself, it is one number per filter.
    """
    stride_hw = as_pair(stride, "stride")
    padding = _check_padding(padding)
    x, _ = _as_hwc(image)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim not in (2, 3, 4):
        raise ValueError(
            f"kernel must have shape (kh, kw), (kh, kw, channels) or (kh, kw, channels, filters), got {kernel.shape}."
        )
    if min(kernel.shape) < 1:
        raise ValueError(f"kernel must not have an empty axis, got shape {kernel.shape}.")
    # Bring every kernel to Keras' layout (kh, kw, channels, filters).
    k = {2: lambda: kernel[:, :, None, None], 3: lambda: kernel[..., None], 4: lambda: kernel}[kernel.ndim]()
    if k.shape[2] != x.shape[2]:
        raise ValueError(
            f"the kernel spans {k.shape[2]} channel(s) but the image has {x.shape[2]}: "
            "a kernel must cover every input channel."
        )
    windows = _windows(_pad(x, k.shape[:2], stride_hw, padding), k.shape[:2], stride_hw)
    out = np.einsum("hwcij,ijcf->hwf", windows, k)
    return out if kernel.ndim == 4 else out[..., 0]


def pool2d(image, pool_size=2, stride=None, padding="valid", mode="max"):
    """Max or average pooling of each channel separately, as Keras does it.

    `stride` defaults to `pool_size` (non-overlapping windows), as in Keras.
    With `"same"` padding, padded positions never win a max and are left out of
    an average (Keras divides by the number of real pixels in the window).
    """
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
    pool_hw = as_pair(pool_size, "pool_size")
    stride_hw = pool_hw if stride is None else as_pair(stride, "stride")
    padding = _check_padding(padding)
    x, has_channels = _as_hwc(image)
    if mode == "max":
        out = _windows(_pad(x, pool_hw, stride_hw, padding, fill=-np.inf), pool_hw, stride_hw).max(axis=(-2, -1))
    else:
        sums = _windows(_pad(x, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(-2, -1))
        ones = np.ones(x.shape[:2] + (1,))
        counts = _windows(_pad(ones, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(-2, -1))
        out = sums / counts
    return out if has_channels else out[..., 0]

"""Convolution and pooling from scratch, in plain NumPy.

These functions compute exactly what `keras.layers.Conv2D`, `MaxPooling2D` and
`AveragePooling2D` compute (the tests check it against Keras over many random
configurations), but in a few readable lines, so that the book can show every
step. Like every deep-learning library, "convolution" here is
cross-correlation: the kernel is not flipped.

Convolution comes in two versions that compute the same numbers:
`conv2d_loops`, the definition written as plain Python loops over output
positions and filters (slow, but you can step through it), and
`conv2d_vectorised`, which cuts out every window at once and multiplies them
by every filter in one `np.einsum`. `conv2d` is the vectorised version that also
accepts 2-D images and 2-D or 3-D kernels.

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


def pad_image(image, kernel_hw, stride_hw, padding, fill=0.0):
    """Pad an (H, W, C) image for the given kernel, stride and padding.

    The amounts come from `padding_amounts`, so `"same"` puts the odd pixel at
    the bottom and right, as Keras does. Raises ValueError if the kernel does
    not fit in the padded image.
    """
    pads = [padding_amounts(n, k, s, padding) for n, k, s in zip(image.shape[:2], kernel_hw, stride_hw)]
    for n, k, (before, after), axis in zip(image.shape[:2], kernel_hw, pads, ("height", "width")):
        if k > n + before + after:
            raise ValueError(
                f"the kernel ({k}) is larger than the padded input {axis} ({n + before + after}): "
                "no window fits. Use a smaller kernel or padding='same'."
            )
    return np.pad(image, (pads[0], pads[1], (0, 0)), constant_values=fill)


def sliding_windows(padded, kernel_hw, stride_hw):
    """Every kernel-sized window of a padded (H, W, C) image, shape (out_h, out_w, C, kh, kw).

    A view (NumPy's `sliding_window_view`), not a copy: no pixel is duplicated
    in memory, however much the windows overlap.
    """
    windows = sliding_window_view(padded, kernel_hw, axis=(0, 1))
    return windows[::stride_hw[0], ::stride_hw[1]]


def check_conv_arguments(image, kernel, bias=None):
    """Check the operands of a convolution and return them as float64 arrays.

    image:  (H, W, C_in)
    kernel: (kh, kw, C_in, C_out), Keras' layout
    bias:   (C_out,), or None for no bias (returned as zeros)
    Raises ValueError, saying what to change, for anything else.
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image.ndim != 3:
        raise ValueError(
            f"image must have shape (height, width, channels), got {image.shape}. "
            "For a grayscale (height, width) image, add a channel axis: image[:, :, None]."
        )
    if kernel.ndim != 4:
        raise ValueError(
            f"kernel must have shape (kh, kw, channels, filters), got {kernel.shape}. "
            "For a single filter, add a filter axis: kernel[..., None]."
        )
    if min(kernel.shape) < 1:
        raise ValueError(f"kernel must not have an empty axis, got shape {kernel.shape}.")
    if kernel.shape[2] != image.shape[2]:
        raise ValueError(
            f"the kernel spans {kernel.shape[2]} channel(s) but the image has {image.shape[2]}: "
            f"a kernel must cover every input channel, so give it shape "
            f"({kernel.shape[0]}, {kernel.shape[1]}, {image.shape[2]}, filters)."
        )
    filters = kernel.shape[3]
    if bias is None:
        return image, kernel, np.zeros(filters)
    bias = np.asarray(bias, dtype=np.float64)
    if bias.shape != (filters,):
        raise ValueError(
            f"bias must have shape ({filters},), one number per filter, got {bias.shape}. "
            "Pass bias=None for no bias."
        )
    return image, kernel, bias


def conv2d_loops(image, kernel, stride=1, padding="valid", bias=None):
    """Convolution from its definition: plain loops over positions and filters.

    image (H, W, C_in), kernel (kh, kw, C_in, C_out), bias (C_out,) or None.
    Returns (out_h, out_w, C_out): the same numbers as `conv2d_vectorised` and
    keras.layers.Conv2D, only much slower.
    """
    image, kernel, bias = check_conv_arguments(image, kernel, bias)
    kernel_h, kernel_w, _, filters = kernel.shape
    stride_h, stride_w = as_pair(stride, "stride")
    padded = pad_image(image, (kernel_h, kernel_w), (stride_h, stride_w), padding)
    out_h = output_size(image.shape[0], kernel_h, stride_h, padding)
    out_w = output_size(image.shape[1], kernel_w, stride_w, padding)
    output = np.zeros((out_h, out_w, filters))
    for row in range(out_h):
        for col in range(out_w):
            # The window's top-left corner moves `stride` pixels per output step.
            top, left = row * stride_h, col * stride_w
            # The window under the kernel: (kh, kw, C_in).
            window = padded[top:top + kernel_h, left:left + kernel_w, :]
            for f in range(filters):
                # Multiply element by element over height, width and every
                # input channel, add it all up, then add the filter's bias.
                output[row, col, f] = np.sum(window * kernel[:, :, :, f]) + bias[f]
    return output


def conv2d_vectorised(image, kernel, stride=1, padding="valid", bias=None):
    """The same convolution as `conv2d_loops`, without a Python loop.

    image (H, W, C_in), kernel (kh, kw, C_in, C_out), bias (C_out,) or None.
    Returns (out_h, out_w, C_out).
    """
    image, kernel, bias = check_conv_arguments(image, kernel, bias)
    kernel_hw = kernel.shape[:2]
    stride_hw = as_pair(stride, "stride")
    padded = pad_image(image, kernel_hw, stride_hw, padding)
    windows = sliding_windows(padded, kernel_hw, stride_hw)
    # windows is (out_h, out_w, C_in, kh, kw): one einsum multiplies every
    # window by every filter and sums over kh, kw and C_in, the loops' work.
    return np.einsum("hwcij,ijcf->hwf", windows, kernel) + bias


def conv2d(image, kernel, stride=1, padding="valid", bias=None):
    """Slide `kernel` over `image` and sum the element-wise products at each stop.

    image:  (H, W) or (H, W, C)
    kernel: (kh, kw) for a single-channel image, (kh, kw, C) spanning every
            channel, or (kh, kw, C, filters) as stored by keras.layers.Conv2D
    bias:   None, or one number per filter, shape (filters,) ((1,) for a 2-D
            or 3-D kernel, which is a single filter)
    Returns (out_h, out_w), or (out_h, out_w, filters) for a 4-D kernel.
    This is `conv2d_vectorised` with the smaller layouts accepted.
    """
    x, _ = _as_hwc(image)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim not in (2, 3, 4):
        raise ValueError(
            f"kernel must have shape (kh, kw), (kh, kw, channels) or (kh, kw, channels, filters), got {kernel.shape}."
        )
    # Bring every kernel to Keras' layout (kh, kw, channels, filters).
    k = {2: lambda: kernel[:, :, None, None], 3: lambda: kernel[..., None], 4: lambda: kernel}[kernel.ndim]()
    out = conv2d_vectorised(x, k, stride=stride, padding=padding, bias=bias)
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
        padded = pad_image(x, pool_hw, stride_hw, padding, fill=-np.inf)
        out = sliding_windows(padded, pool_hw, stride_hw).max(axis=(-2, -1))
    else:
        sums = sliding_windows(pad_image(x, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(-2, -1))
        ones = np.ones(x.shape[:2] + (1,))
        counts = sliding_windows(pad_image(ones, pool_hw, stride_hw, padding), pool_hw, stride_hw).sum(axis=(-2, -1))
        out = sums / counts
    return out if has_channels else out[..., 0]

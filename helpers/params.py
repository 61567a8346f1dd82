"""Counting parameters by formula, and checking every count against Keras."""

from __future__ import annotations

import math

from helpers.backend import keras_module

# Layers that hold no parameters at all: they only reshape, select, scale by a
# fixed rule, or randomly perturb their input.
PARAMETER_FREE = {
    "Activation", "ReLU", "Softmax", "Flatten", "Reshape", "Dropout", "SpatialDropout2D",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "Rescaling", "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom",
    "RandomCrop", "InputLayer",
}


def _count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def dense_params(inputs, units, bias=True):
    """Parameters of a Dense layer: one weight per input per unit, plus a bias per unit.

    (inputs + 1) x units with a bias, inputs x units without.
    """
    return (_count(inputs, "inputs") + bool(bias)) * _count(units, "units")


def conv2d_params(kernel_size, in_channels, filters, bias=True):
    """Parameters of a Conv2D layer: (Kh x Kw x C_in + 1) x filters.

    Each filter has one weight per position of its window in every input
    channel, plus one bias. The image size does not appear: the same weights
    slide over every position (parameter sharing).
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    _count(kh, "kernel_size"), _count(kw, "kernel_size")
    return (kh * kw * _count(in_channels, "in_channels") + bool(bias)) * _count(filters, "filters")


def batchnorm_params(channels, center=True, scale=True):
    """BatchNormalization: per channel a moving mean and variance (not trained),
    plus a trained shift (beta, `center`) and scale (gamma, `scale`): 4 per channel."""
    return _count(channels, "channels") * (2 + bool(center) + bool(scale))


def layer_formula(layer):
    """(formula text, parameter count) for one Keras layer, from its configuration."""
    kind = type(layer).__name__
    if kind == "Dense":
        inputs, units = layer.kernel.shape
        bias = layer.use_bias
        text = f"({inputs:,} + 1) x {units:,}" if bias else f"{inputs:,} x {units:,}"
        return text, dense_params(int(inputs), int(units), bias)
    if kind == "Conv2D":
        kh, kw, cin, filters = layer.kernel.shape
        bias = layer.use_bias
        text = f"({kh} x {kw} x {cin:,}" + (" + 1" if bias else "") + f") x {filters:,}"
        return text, conv2d_params((int(kh), int(kw)), int(cin), int(filters), bias)
    if kind == "BatchNormalization":
        channels = int(layer.moving_mean.shape[0])
        per_channel = 2 + layer.center + layer.scale
        return f"{per_channel} x {channels:,}", batchnorm_params(channels, layer.center, layer.scale)
    if kind in PARAMETER_FREE:
        return "0", 0
    raise ValueError(
        f"No parameter formula for layer {layer.name!r} of type {kind}. "
        "Add one to helpers.params.layer_formula (or to PARAMETER_FREE if it has none)."
    )


def parameter_table(model):
    """One row per layer: output shape, the formula, its count and Keras' count.

    Also the activations per image (numbers the layer outputs for one input),
    which is what memory during training scales with. Raises ValueError if any
    formula disagrees with Keras, so a table that is shown is a table that was
    checked. The model must be built (give it an Input).
    """
    import pandas as pd

    if not model.built:
        raise ValueError("The model is not built: start it with keras.Input(shape=...) or call model.build().")
    rows = []
    for layer in model.layers:
        text, count = layer_formula(layer)
        keras_count = layer.count_params()
        if count != keras_count:
            raise ValueError(f"Formula {text} = {count:,} for layer {layer.name!r}, but Keras counts {keras_count:,}.")
        shape = tuple(layer.output.shape[1:])
        rows.append({
            "layer": layer.name, "type": type(layer).__name__,
            "output shape": shape, "formula": text, "parameters": count,
            "trainable": sum(math.prod(w.shape) for w in layer.trainable_weights),
            "activations per image": math.prod(shape),
        })
    table = pd.DataFrame(rows).set_index("layer")
    if table["parameters"].sum() != model.count_params():
        raise ValueError(f"The layers add up to {table['parameters'].sum():,}, "
                         f"but model.count_params() is {model.count_params():,}.")
    return table


def multiply_adds(model):
    """Multiply-adds per image in each Conv2D and Dense layer (forward pass).

    A Conv2D layer does kh * kw * in_channels multiply-adds for every output
    number: out_h * out_w * filters of them. A Dense layer does one per weight
    (inputs x units) for each position it is applied at. Training costs about
    three times the forward pass (forward, then gradients for the inputs and
    for the weights). Pooling, batch norm and activations, a few operations per
    number, are left out. Returns a pandas Series indexed by layer name.
    """
    import pandas as pd

    layers = keras_module().layers

    if not model.built:
        raise ValueError("The model is not built: start it with keras.Input(shape=...) or call model.build().")
    counts = {}
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            in_channels = layer.input.shape[-1]
            counts[layer.name] = math.prod(layer.output.shape[1:]) * kh * kw * in_channels
        elif isinstance(layer, layers.Dense):
            positions = math.prod(layer.input.shape[1:-1])
            counts[layer.name] = positions * layer.input.shape[-1] * layer.units
    if not counts:
        raise ValueError(f"model {model.name!r} has no Conv2D or Dense layer to count.")
    return pd.Series(counts, name="multiply-adds per image", dtype="int64")


def receptive_fields(model):
    """How much of the input image each layer's outputs can see, layer by layer.

    For every layer that slides a window (Conv2D, MaxPooling2D,
    AveragePooling2D), the receptive field r (in input pixels, along one axis)
    and the jump j (input pixels between neighbouring outputs) follow from the
    layer's kernel k and stride s:  r_out = r_in + (k - 1) * j_in,
    j_out = j_in * s, starting from r = j = 1 at the input. Other layers keep
    both; a Flatten or Dense layer sees everything, and ends the table. The
    field can exceed the image: it counts padded positions too. Returns a
    pandas DataFrame indexed by layer name, with the output size, kernel,
    stride, the jump after the layer and the receptive field (rows only;
    square kernels and strides).
    """
    import pandas as pd

    layers = keras_module().layers

    if not model.built:
        raise ValueError("The model is not built: start it with keras.Input(shape=...) or call model.build().")
    field, jump, rows = 1, 1, []
    for layer in model.layers:
        if isinstance(layer, (layers.Flatten, layers.Dense, layers.GlobalAveragePooling2D,
                              layers.GlobalMaxPooling2D)):
            break
        if isinstance(layer, layers.Conv2D):
            kernel, stride = layer.kernel_size[0], layer.strides[0]
        elif isinstance(layer, (layers.MaxPooling2D, layers.AveragePooling2D)):
            kernel, stride = layer.pool_size[0], layer.strides[0]
        else:
            continue
        field, jump = field + (kernel - 1) * jump, jump * stride
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output size": layer.output.shape[1], "kernel": kernel, "stride": stride,
                     "jump after": jump, "receptive field": field})
    if not rows:
        raise ValueError(f"model {model.name!r} has no Conv2D or pooling layer before its first "
                         "Flatten/Dense layer: it has no receptive field to compute.")
    return pd.DataFrame(rows).set_index("layer")

"""The models of the popular Fashion-MNIST tutorials, built as the book uses them.

Each builder returns an uncompiled `keras.Sequential` with an `Input`, so the
model is built (its parameters exist) as soon as it is returned. The settings
each tutorial trained with, and the test accuracy it reported, are in
`TUTORIAL_SETTINGS`; the training chapters use both.
"""

from __future__ import annotations

from helpers.backend import keras_module

keras = keras_module()
layers = keras.layers

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def dense_baseline():
    """Flatten -> Dense 16, 32, 64, 128, 256 (ReLU) -> Dense 10 softmax: 59,130 parameters."""
    return keras.Sequential(
        [keras.Input(shape=IMAGE_SHAPE), layers.Flatten()]
        + [layers.Dense(units, activation="relu") for units in (16, 32, 64, 128, 256)]
        + [layers.Dense(NUM_CLASSES, activation="softmax")],
        name="dense_baseline",
    )


def strided_cnn():
    """Four 3x3 convolutions with stride 2 and 'same' padding (32, 64, 128, 256
    filters), max pooling after the second and third, then a softmax layer."""
    def conv(filters):
        return layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")

    return keras.Sequential([
        keras.Input(shape=IMAGE_SHAPE),
        conv(32), conv(64), layers.MaxPooling2D(2),
        conv(128), layers.MaxPooling2D(2),
        conv(256),
        layers.Flatten(),
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name="strided_cnn")


def strided_cnn_dropout():
    """Three 3x3 'valid' convolutions with stride 2 (32, 64, 128 filters), then
    dropout 0.2, Dense 512, dropout 0.2 and a softmax layer."""
    return keras.Sequential(
        [keras.Input(shape=IMAGE_SHAPE)]
        + [layers.Conv2D(f, 3, strides=2, padding="valid", activation="relu") for f in (32, 64, 128)]
        + [layers.Flatten(), layers.Dropout(0.2),
           layers.Dense(512, activation="relu"), layers.Dropout(0.2),
           layers.Dense(NUM_CLASSES, activation="softmax")],
        name="strided_cnn_dropout",
    )


def wide_cnn_bn():
    """Three blocks of [Conv2D 3x3 -> MaxPool 2 -> BatchNorm] with 128, 256 and
    512 filters, then Dense 1024, Dense 1024 and a softmax layer."""
    blocks = []
    for filters in (128, 256, 512):
        blocks += [layers.Conv2D(filters, 3, activation="relu"), layers.MaxPooling2D(2),
                   layers.BatchNormalization()]
    return keras.Sequential(
        [keras.Input(shape=IMAGE_SHAPE)] + blocks
        + [layers.Flatten(), layers.Dense(1024, activation="relu"),
           layers.Dense(1024, activation="relu"), layers.Dense(NUM_CLASSES, activation="softmax")],
        name="wide_cnn_bn",
    )


def deep_narrow_cnn(relu_on_all=True):
    """Pairs of 3x3 'same' convolutions narrowing 64-32, 32-16, 16-8, each pair
    followed by max pooling, then Flatten, Dense 128 and a softmax layer.

    The published version has no Flatten and passes the activations to
    `model.add` instead of the layers, so it does not run as printed; this is
    what it evidently meant. The tutorial gives its last three convolutions
    (16, 16 and 8 filters) no activation; the book gives every convolution a
    ReLU (`relu_on_all`, chapter 7 measures the difference).
    `relu_on_all=False` builds the tutorial's activations, for its own
    protocol (bookkit.studies.run_tutorial_protocol).
    """
    late = "relu" if relu_on_all else None
    stack = [keras.Input(shape=IMAGE_SHAPE)]
    for (first, first_activation), (second, second_activation) in (
            ((64, "relu"), (32, "relu")), ((32, "relu"), (16, late)), ((16, late), (8, late))):
        stack += [layers.Conv2D(first, 3, padding="same", activation=first_activation),
                  layers.Conv2D(second, 3, padding="same", activation=second_activation),
                  layers.MaxPooling2D(2)]
    stack += [layers.Flatten(), layers.Dense(128, activation="relu"),
              layers.Dense(NUM_CLASSES, activation="softmax")]
    return keras.Sequential(stack, name="deep_narrow_cnn")


def book_cnn(filters=(16, 32, 64), dense_units=256, dropout=0.3):
    """The book's own CNN (chapter 11), as the search of `bookkit.search`
    froze it on the validation split: for each of `filters`, a 3x3 'same'
    convolution with ReLU and 2x2 max pooling (28, 14, 7, then 3 pixels), then
    Flatten, dropout, a Dense layer of `dense_units` with ReLU, dropout again,
    and the softmax layer. The defaults are the frozen recipe's; chapter 11
    builds the same model in its cells, and a test checks that the two agree.
    """
    stack = [keras.Input(shape=IMAGE_SHAPE)]
    for count in filters:
        stack += [layers.Conv2D(count, 3, padding="same", activation="relu"), layers.MaxPooling2D(2)]
    stack += [layers.Flatten(), layers.Dropout(dropout), layers.Dense(dense_units, activation="relu"),
              layers.Dropout(dropout), layers.Dense(NUM_CLASSES, activation="softmax")]
    return keras.Sequential(stack, name="book_cnn")


# The hidden layers of the dense network that meets the book's CNN under the
# same time budgets (chapter 11).
BOOK_DENSE_UNITS = (1024, 512, 256)


def book_dense(units=BOOK_DENSE_UNITS, dropout=0.3):
    """The dense network that meets the book's CNN under the same budgets
    (chapter 11): Flatten, then for each of `units` a Dense layer with ReLU
    and dropout, and the softmax layer. It trains with the CNN's recipe."""
    stack = [keras.Input(shape=IMAGE_SHAPE), layers.Flatten()]
    for count in units:
        stack += [layers.Dense(count, activation="relu"), layers.Dropout(dropout)]
    stack += [layers.Dense(NUM_CLASSES, activation="softmax")]
    return keras.Sequential(stack, name="book_dense")


BUILDERS = {
    "dense_baseline": dense_baseline,
    "strided_cnn": strided_cnn,
    "strided_cnn_dropout": strided_cnn_dropout,
    "wide_cnn_bn": wide_cnn_bn,
    "deep_narrow_cnn": deep_narrow_cnn,
}

# The book's own models (chapter 11), kept apart from the tutorials' models.
BOOK_BUILDERS = {
    "book_cnn": book_cnn,
    "book_dense": book_dense,
}
# What each tutorial trained with (all Adam), the test accuracy it reported,
# and how the book's full run differs: validation_size, since the tutorials
# of the wide CNN held out 20% (12,000 images) with validation_split=0.2; the
# others get the book's 6,000. Every full run trains the tutorial's epochs.
TUTORIAL_SETTINGS = {
    "dense_baseline": {"epochs": 10, "batch_size": 32, "labels": "integer", "validation_size": 6000,
                       "reported_train_accuracy": 0.885, "reported_test_accuracy": 0.871},
    "strided_cnn": {"epochs": 10, "batch_size": 32, "labels": "integer", "validation_size": 6000,
                    "reported_train_accuracy": 0.942, "reported_test_accuracy": 0.907},
    "strided_cnn_dropout": {"epochs": 10, "batch_size": 32, "labels": "integer", "validation_size": 6000,
                            "reported_train_accuracy": None, "reported_test_accuracy": 0.90},
    "wide_cnn_bn": {"epochs": 10, "batch_size": 64, "labels": "one-hot", "validation_size": 12000,
                    "reported_train_accuracy": None, "reported_test_accuracy": None},
    "deep_narrow_cnn": {"epochs": 7, "batch_size": 32, "labels": "integer", "validation_size": 6000,
                        "reported_train_accuracy": None, "reported_test_accuracy": 0.9137,
                        # The tutorial's own activations: its last three convolutions are linear.
                        "as_published": {"relu_on_all": False}},
}
# The best test accuracy any tutorial reported (the deep narrow CNN's): the
# figure the book's own CNN is measured against (chapter 11).
TUTORIAL_BEST = max(s["reported_test_accuracy"] or 0 for s in TUTORIAL_SETTINGS.values())
# The chapter (notebook) that trains each model and writes its results file.
CHAPTERS = {
    "dense_baseline": "05_dense_vs_cnn.ipynb",
    "strided_cnn": "05_dense_vs_cnn.ipynb",
    "strided_cnn_dropout": "06_dropout_and_batchnorm.ipynb",
    "wide_cnn_bn": "06_dropout_and_batchnorm.ipynb",
    "deep_narrow_cnn": "07_deep_narrow_cnn.ipynb",
    "book_cnn": "11_book_cnn.ipynb",
    "book_dense": "11_book_cnn.ipynb",
}


def build_model(model_id):
    """Build one of the book's models by its id (see BUILDERS and BOOK_BUILDERS)."""
    builders = {**BUILDERS, **BOOK_BUILDERS}
    if model_id not in builders:
        raise ValueError(f"Unknown model id {model_id!r}; choose one of: {', '.join(builders)}.")
    return builders[model_id]()


def conv_activations(model, image):
    """The output of every Conv2D layer of `model` for one image (h, w, c).

    Returns a list of (label, array of shape (height, width, filters)), the
    labels "conv 1", "conv 2", ... in the order of the layers (Keras' own layer
    names carry a counter that grows with every model built in a session).
    """
    import numpy as np

    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer to show.")
    probe = keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in convs])
    outputs = probe(np.asarray(image, dtype="float32")[None])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [(f"conv {number}", np.asarray(out)[0])
            for number, out in enumerate(outputs, start=1)]

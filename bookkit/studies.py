"""The reproduction study, as the maintainers run it (`scripts/run_studies.py`):
chapter 8's tutorial models under their own protocol and under the book's.
The chapters only read the results file these runs write. The book's own
CNN has a study of its own (`bookkit.rebuild`).
"""

from __future__ import annotations

import numpy as np

from helpers import data, models, splitting, training

# Chapter 5-7's seed first: its book-protocol runs are the chapters' own.
REPRODUCTION_SEEDS = (42, 1, 2)


def tutorial_protocol_data(model_id: str, train_subset: int | None = None):
    """The data as the tutorial of `model_id` trained and tested on it:
    (x_train, y_train, x_test, y_test).

    Every tutorial trains on the official 60,000 training images with no
    validation split of its own, except the wide CNN's: `validation_split=0.2`
    in Keras holds out the *last* 12,000 images, unshuffled, and trains on the
    first 48,000. Every tutorial scales the pixels to [0, 1], except the wide
    CNN's, which trains on the raw 0-255 values. `train_subset` keeps only the
    first that many training images (quick runs).
    """
    if model_id not in models.TUTORIAL_SETTINGS:
        raise ValueError(f"no tutorial protocol for {model_id!r}; choose one of: "
                         f"{', '.join(models.TUTORIAL_SETTINGS)}.")
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    if model_id == "wide_cnn_bn":
        x_train, y_train = x_train[:48000], y_train[:48000]
        prepare = lambda images: np.asarray(images, dtype="float32")[..., None]  # noqa: E731
    else:
        prepare = data.scale_images
    if train_subset is not None:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    return prepare(x_train), y_train, prepare(x_test), y_test


def run_tutorial_protocol(model_id: str, seed: int, train_subset: int | None = None,
                          epochs: int | None = None) -> dict:
    """Train a tutorial's model as its tutorial did (`tutorial_protocol_data`,
    its architecture as published (TUTORIAL_SETTINGS' "as_published"
    arguments), Adam, its labels, epochs and batch size) and score the test
    set after the last epoch, as every tutorial reported it. Returns the study row."""

    settings = models.TUTORIAL_SETTINGS[model_id]
    x_train, y_train, x_test, y_test = tutorial_protocol_data(model_id, train_subset)
    labels = settings["labels"]
    epochs = settings["epochs"] if epochs is None else epochs
    training.set_seed(seed)
    model = models.BUILDERS[model_id](**settings.get("as_published", {}))
    training.compile_for(model, labels)
    logger = training.epoch_logger(epochs)
    history = model.fit(x_train, splitting.encode_labels(y_train, labels), epochs=epochs,
                        batch_size=settings["batch_size"], verbose=0, callbacks=[logger])
    _, test_accuracy = model.evaluate(x_test, splitting.encode_labels(y_test, labels),
                                      batch_size=1024, verbose=0)
    return {"model": model_id, "protocol": "tutorial", "seed": seed, "epochs": epochs,
            "train_images": len(x_train), "train_seconds": round(logger.fit_seconds, 1),
            "train_accuracy": float(history.history["accuracy"][-1]),
            "test_accuracy": float(test_accuracy)}


def run_book_protocol(model_id: str, splits: splitting.Splits, seed: int, epochs: int | None = None) -> dict:
    """Train a tutorial's model as chapters 5-7 do (54,000 images, the
    validation split held out, the tutorial's epochs and batch size) and
    score the test set after the last epoch. Returns the study row."""
    settings = models.TUTORIAL_SETTINGS[model_id]
    epochs = settings["epochs"] if epochs is None else epochs
    training.set_seed(seed)
    run = training.train(models.build_model(model_id), splits, epochs, settings["batch_size"],
                         settings["labels"])
    _, test_accuracy = run.model.evaluate(splits.x_test, splitting.encode_labels(splits.y_test, settings["labels"]),
                                          batch_size=1024, verbose=0)
    return {"model": model_id, "protocol": "book", "seed": seed, "epochs": epochs,
            "train_images": len(splits.x_train), "train_seconds": round(run.fit_seconds, 1),
            "train_accuracy": run.last("accuracy"), "val_accuracy": run.last("val_accuracy"),
            "test_accuracy": float(test_accuracy)}


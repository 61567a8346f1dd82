"""How fast a model trains: the tutorials' plain pattern against the book's helper.

Every variant trains the same model from the same initial weights on the same
images, for the same epochs, with the same batch size (Keras' default, 32, as
in the tutorials). They differ only in what the book's `training.train` does
differently from the tutorials:

* its inputs are float32 (`data.scale_images`), where `x / 255.0` gives float64
  that Keras converts back to float32 on every batch;
* it runs `training.STEPS_PER_EXECUTION` training steps per call into the
  compiled graph, where Keras' default is one call (and one trip through
  Python) per batch.

`scripts/benchmark_training.py` runs `compare_training_speed` from the command
line; the speed chapter runs it in the book.
"""

from __future__ import annotations

import time

import numpy as np

from helpers import models, splitting, training

# The variants, in order: each adds one change to the one before it.
VARIANTS = {
    "tutorial pattern": "x / 255.0 (float64), 1 step per call",
    "float32 inputs": "scale_images (float32), 1 step per call",
    "book helper": f"scale_images (float32), {training.STEPS_PER_EXECUTION} steps per call",
}
TUTORIAL_BATCH_SIZE = 32  # Keras' default, which the tutorials' fit() calls leave in place


def train_tutorial_pattern(model, raw: splitting.Splits, epochs: int):
    """Train as the tutorials do, from raw uint8 images: add the channel axis,
    divide by 255.0 (which gives float64), compile with Keras' defaults and
    fit with the default batch size. Returns the history with "seconds"."""
    x_train = raw.x_train.reshape(-1, 28, 28, 1) / 255.0
    x_val = raw.x_val.reshape(-1, 28, 28, 1) / 255.0
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logger = training.epoch_logger(epochs)
    history = model.fit(x_train, raw.y_train, validation_data=(x_val, raw.y_val),
                        epochs=epochs, verbose=0, callbacks=[logger])
    return {**history.history, "seconds": logger.seconds}


def images_per_second(train_images: int, epoch_seconds) -> float:
    """Training throughput: images per second of a typical epoch.

    The first epoch also builds the compiled graph, so it is left out when
    there are others; the median of the rest resists a slow epoch caused by
    another program on the machine.
    """
    seconds = list(epoch_seconds)
    if not seconds:
        raise ValueError("epoch_seconds is empty: train for at least one epoch.")
    typical = float(np.median(seconds[1:] if len(seconds) > 1 else seconds))
    return train_images / typical


def time_variant(variant: str, model_id: str, raw: splitting.Splits, scaled: splitting.Splits,
                 epochs: int, seed: int) -> dict:
    """Train `model_id` one way (a key of VARIANTS) and return its measurements."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown variant {variant!r}; choose one of: {', '.join(VARIANTS)}.")
    training.set_seed(seed)
    model = models.build_model(model_id)
    if variant == "tutorial pattern":
        history = train_tutorial_pattern(model, raw, epochs)
        x_test = raw.x_test.reshape(-1, 28, 28, 1) / 255.0
    else:
        steps = 1 if variant == "float32 inputs" else training.STEPS_PER_EXECUTION
        history, _ = training.train(model, scaled, epochs, TUTORIAL_BATCH_SIZE,
                                    steps_per_execution=steps)
        x_test = scaled.x_test
    _, test_accuracy = model.evaluate(x_test, raw.y_test, batch_size=1024, verbose=0)
    return {
        "variant": variant,
        "what": VARIANTS[variant],
        "model": model_id,
        "epochs": epochs,
        "train_images": len(raw.x_train),
        "epoch_seconds": history["seconds"],
        "images_per_second": round(images_per_second(len(raw.x_train), history["seconds"]), 1),
        "val_accuracy": float(history["val_accuracy"][-1]),
        "test_accuracy": float(test_accuracy),
    }


def compare_training_speed(model_ids, epochs=5, train_subset=None, seed=0, variants=tuple(VARIANTS)):
    """Time every variant on every model, one after the other on this machine.

    Returns a list of rows (dicts, see `time_variant`), each with
    "speed_up": its throughput divided by the tutorial pattern's for the same
    model (the tutorial pattern is always run, first).
    """
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first epoch builds the graph and "
                         f"is not counted), got {epochs}.")
    variants = ["tutorial pattern"] + [v for v in variants if v != "tutorial pattern"]
    raw = splitting.load_splits(train_subset=train_subset, scaled=False)
    scaled = splitting.load_splits(train_subset=train_subset)
    rows = []
    for model_id in model_ids:
        baseline = None
        for variant in variants:
            print(f"{model_id}, {variant}:", flush=True)
            started = time.perf_counter()
            row = time_variant(variant, model_id, raw, scaled, epochs, seed)
            row["wall_seconds"] = round(time.perf_counter() - started, 1)
            baseline = baseline or row["images_per_second"]
            row["speed_up"] = round(row["images_per_second"] / baseline, 2)
            rows.append(row)
    return rows


def speed_table(rows):
    """The rows as a pandas DataFrame, one line per model and variant."""
    import pandas as pd

    columns = ["model", "variant", "what", "images_per_second", "speed_up",
               "val_accuracy", "test_accuracy"]
    return pd.DataFrame(rows)[columns]


def compare_block_orders(train_subset=12800, epochs=4, batch_size=128, seed=0):
    """Time the book's CNN with its blocks in the usual order (convolution,
    batch normalisation, ReLU, pooling) and with pooling first (see
    `models.conv_block`), trained by `training.train` on the same images from
    the same seed. Returns one row per order with images per second (the
    median epoch, the first left out), the speed-up over the usual order and
    the training accuracy of the last epoch. (Not the validation accuracy:
    after a few hundred steps, batch normalisation's moving statistics, which
    a prediction uses, have not caught up yet; see chapter 6.)
    """
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first epoch builds the graph and "
                         f"is not counted), got {epochs}.")
    splits = splitting.load_splits(train_subset=train_subset)
    rows = []
    for pool_first in (False, True):
        training.set_seed(seed)
        model = models.book_cnn(pool_first=pool_first)
        history, _ = training.train(model, splits, epochs, batch_size)
        rows.append({
            "order": "conv, pool, norm, ReLU" if pool_first else "conv, norm, ReLU, pool",
            "images_per_second": round(images_per_second(len(splits.x_train), history["seconds"]), 1),
            "train_accuracy": float(history["accuracy"][-1]),
        })
    for row in rows:
        row["speed_up"] = round(row["images_per_second"] / rows[0]["images_per_second"], 2)
    return rows

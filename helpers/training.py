"""Training the book's models with Keras: seeds, compiling, fitting with one
line per epoch, and testing.

The chapters show the Keras calls themselves where a model is introduced;
these helpers repeat them for the later chapters that train many models.
"""

from __future__ import annotations

import time

from helpers.splitting import Splits, encode_labels


def set_seed(seed: int, deterministic_ops: bool = False):
    """Seed Python, NumPy and the backend so that a rerun gives the same curves.

    The same seed gives the same initial weights, batch order and random
    flips. The arithmetic may still differ: TensorFlow's CPU kernels (oneDNN)
    and GPU kernels may add numbers up in another order from one run to the
    next, for example when the machine is busy, and once two runs differ by a
    rounding error they drift apart (chapter 11 shows one such pair; a quiet
    2-core CPU usually gives identical weights). `deterministic_ops=True`
    switches TensorFlow to its deterministic kernels. It is off by default because it costs
    speed (1.2-1.7 times slower per epoch for the book's CNNs on the CPU)
    and some GPU operations have no deterministic kernel, so TensorFlow
    stops with an UnimplementedError where a model uses one.
    """
    import keras

    if not isinstance(deterministic_ops, bool):
        raise ValueError(f"deterministic_ops must be True or False, got {deterministic_ops!r}.")
    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        if keras.backend.backend() != "tensorflow":
            raise ValueError("deterministic_ops=True needs Keras' TensorFlow backend, "
                             f"this runtime uses {keras.backend.backend()!r}.")
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


# Training steps Keras runs per call into the compiled graph. With the default
# (1), Python hands over every batch, and for a small model that hand-over
# costs as much as the arithmetic: on the book's 2-core CPU, 16 steps per call
# trained the dense baseline 2.1 times as fast. Each step is computed exactly
# as before, so the weights come out the same (a test checks it); only
# per-batch callbacks see fewer calls, and the book uses none.
STEPS_PER_EXECUTION = 16


def compile_for(model, labels="integer", optimizer="adam", steps_per_execution=STEPS_PER_EXECUTION,
                label_smoothing=0.0):
    """Compile with the loss that matches the labels, reporting accuracy.

    `labels` is "integer" (sparse categorical cross-entropy) or "one-hot"
    (categorical cross-entropy). `label_smoothing` (one-hot labels only)
    turns the targets into 1 - s + s/10 for the true class and s/10 for the
    others.
    """
    import keras

    losses = {"integer": "sparse_categorical_crossentropy", "one-hot": "categorical_crossentropy"}
    if labels not in losses:
        raise ValueError(f"labels must be 'integer' or 'one-hot', got {labels!r}.")
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be at least 0 and below 1, got {label_smoothing}.")
    loss = losses[labels]
    if label_smoothing:
        if labels != "one-hot":
            raise ValueError("label_smoothing needs one-hot labels (labels='one-hot'): Keras' "
                             "sparse cross-entropy has no smoothing.")
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)


def train(model, splits: Splits, epochs: int, batch_size: int, labels="integer",
          steps_per_execution=STEPS_PER_EXECUTION):
    """Compile with Adam and the loss that matches the labels, then `fit`.

    `labels` is "integer" (sparse categorical cross-entropy) or "one-hot"
    (categorical cross-entropy, labels converted here). Returns (history,
    seconds spent in fit): the history as `history_with_seconds` gives it.
    """
    compile_for(model, labels, steps_per_execution=steps_per_execution)
    history, logger = fit(model, splits, epochs, batch_size, labels)
    return history_with_seconds(history, logger), logger.fit_seconds


def fit(model, splits: Splits, epochs: int, batch_size: int, labels="integer", callbacks=()):
    """`model.fit` on the training split, validated on the validation split,
    printing one line per epoch: the one way the helpers feed data to Keras,
    as the chapters that introduce the models do in their cells.

    The model must be compiled for `labels` ("integer" or "one-hot"; the
    labels are converted here). Returns (Keras' History, the `epoch_logger`
    that watched the run), the two things the results files are written from.
    """
    y_train, y_val = (encode_labels(y, labels) for y in (splits.y_train, splits.y_val))
    logger = epoch_logger(epochs)
    history = model.fit(splits.x_train, y_train, validation_data=(splits.x_val, y_val),
                        epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=[logger, *callbacks])
    return history, logger


def history_with_seconds(history, logger):
    """Keras' per-epoch lists of a run (`history.history`) plus "seconds",
    the wall-clock time of each epoch (validation included) that `logger`
    kept."""
    return {**history.history, "seconds": list(logger.seconds)}


def epoch_logger(epochs):
    """A Keras callback that prints one compact line per epoch (no progress bar).

    It keeps each epoch's wall-clock seconds in its `seconds` list, and the
    seconds of the whole `fit` in `fit_seconds` once training ends.
    """
    import keras

    class EpochLine(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.fit_seconds = [], None

        def on_train_begin(self, logs=None):
            self.fit_started = time.perf_counter()

        def on_train_end(self, logs=None):
            self.fit_seconds = time.perf_counter() - self.fit_started

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(round(time.perf_counter() - self.started, 2))
            logs = logs or {}
            metrics = "  ".join(f"{name} {logs[name]:.4f}" for name in
                                ("loss", "accuracy", "val_loss", "val_accuracy") if name in logs)
            print(f"epoch {epoch + 1:>2}/{epochs}  {self.seconds[-1]:5.1f} s  {metrics}", flush=True)

    return EpochLine()


def train_and_test(model_id, splits: Splits, epochs: int, batch_size: int, seed: int):
    """Seed, build, train and test one of the book's models, writing nothing.

    Uses the loss that matches the tutorial's labels. Returns (model, history,
    seconds spent in fit, test loss, test accuracy).
    """
    from helpers import models

    labels = models.TUTORIAL_SETTINGS[model_id]["labels"]
    set_seed(seed)
    model = models.build_model(model_id)
    history, seconds = train(model, splits, epochs, batch_size, labels=labels)
    y_test = encode_labels(splits.y_test, labels)
    test_loss, test_accuracy = model.evaluate(splits.x_test, y_test, batch_size=1024, verbose=0)
    return model, history, seconds, float(test_loss), float(test_accuracy)

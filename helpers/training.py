"""Training the book's models with Keras: seeds, compiling, and one way to
train (`train`), which prints one line per epoch and returns a `TrainingRun`.

The chapters show the Keras calls themselves where a model is introduced;
these helpers repeat them for the later chapters that train many models.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from helpers.backend import keras_module
from helpers.splitting import Splits, encode_labels

keras = keras_module()


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


@dataclass
class TrainingRun:
    """What one training run gives back, whichever way it was trained.

    `history` holds Keras' per-epoch lists (`loss`, `accuracy`, `val_loss`,
    `val_accuracy`), `seconds_per_epoch` each epoch's wall-clock seconds
    (its pass over the validation images included) and `fit_seconds` those
    of the whole `fit`.
    """

    model: object
    history: dict
    seconds_per_epoch: list
    fit_seconds: float

    @classmethod
    def from_fit(cls, history, logger) -> TrainingRun:
        """The run of a `model.fit` call made in a notebook cell: the History
        it returned and the `epoch_logger` that watched it."""
        return cls(history.model, dict(history.history), list(logger.seconds), logger.fit_seconds)

    @property
    def epochs(self) -> int:
        return len(self.seconds_per_epoch)

    def last(self, metric: str) -> float:
        """A metric after the last epoch, e.g. run.last("val_accuracy")."""
        if metric not in self.history:
            raise KeyError(f"this run recorded no {metric!r}; it has {', '.join(self.history)}.")
        return float(self.history[metric][-1])


def train(model, splits: Splits, epochs: int, batch_size: int, labels="integer", optimizer="adam",
          label_smoothing=0.0, callbacks=(), steps_per_execution=STEPS_PER_EXECUTION) -> TrainingRun:
    """Compile `model` (`compile_for`), then `fit` it on the training split,
    validated on the validation split, printing one line per epoch: the one
    way the helpers train, as the chapters that introduce the models do in
    their cells.

    `labels` is "integer" (sparse categorical cross-entropy) or "one-hot"
    (categorical cross-entropy; the labels are converted here). Seed first
    (`set_seed`), before the model is built, for a run you can repeat.
    """
    compile_for(model, labels, optimizer, steps_per_execution, label_smoothing)
    y_train, y_val = (encode_labels(y, labels) for y in (splits.y_train, splits.y_val))
    logger = epoch_logger(epochs)
    history = model.fit(splits.x_train, y_train, validation_data=(splits.x_val, y_val),
                        epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=[logger, *callbacks])
    return TrainingRun.from_fit(history, logger)


class EpochLine(keras.callbacks.Callback):
    """A Keras callback that prints one compact line per epoch (no progress
    bar), and keeps each epoch's wall-clock seconds in `seconds` and those of
    the whole `fit` in `fit_seconds` once training ends."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs, self.seconds, self.fit_seconds = epochs, [], None

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
        print(f"epoch {epoch + 1:>2}/{self.epochs}  {self.seconds[-1]:5.1f} s  {metrics}", flush=True)


def epoch_logger(epochs: int) -> EpochLine:
    """A Keras callback that prints one compact line per epoch of a run of
    `epochs` epochs (an `EpochLine`)."""
    return EpochLine(epochs)

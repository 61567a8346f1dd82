"""The book's own training recipe (chapter 11): AdamW with weight decay, a
warm-up and cosine learning-rate schedule, label smoothing, and early
stopping on validation accuracy."""

from __future__ import annotations

import numpy as np

from helpers import training
from helpers.backend import keras_module
from helpers.splitting import Splits

keras = keras_module()


def warmup_cosine(peak_learning_rate: float, total_steps: int, warmup_fraction=0.1):
    """A learning-rate schedule: a linear warm-up from 1/30 of the peak to the
    peak over the first `warmup_fraction` of the steps, then a cosine decay
    to zero at `total_steps`.

    The warm-up keeps the first steps small while Adam's running estimates of
    each gradient's size, built from a few batches, are still unreliable (Liu
    et al., 2020, "On the variance of the adaptive learning rate and beyond");
    the decay takes smaller and smaller steps at the end.
    """
    if total_steps < 2 or not 0 < warmup_fraction < 1 or peak_learning_rate <= 0:
        raise ValueError(
            f"need total_steps >= 2, 0 < warmup_fraction < 1 and a positive peak learning "
            f"rate, got {total_steps}, {warmup_fraction} and {peak_learning_rate}.")
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 30, decay_steps=total_steps - warmup,
        warmup_target=peak_learning_rate, warmup_steps=warmup)


def train_with_recipe(model, splits: Splits, epochs: int, batch_size: int, peak_learning_rate: float,
                      weight_decay: float, patience: int, label_smoothing=0.0, extra_callbacks=(),
                      constant_learning_rate=None):
    """Train with the book's recipe, as chapter 11 does in its cells for the
    book's CNN: AdamW with decoupled weight decay, the `warmup_cosine`
    schedule over `epochs`, cross-entropy with `label_smoothing` (the one-hot
    targets become 1 - s + s/10 for the true class and s/10 for the others),
    and early stopping on validation accuracy, which keeps the weights of the
    best validation epoch. With a `constant_learning_rate` (the ablation of
    chapter 11), AdamW keeps that rate at every step instead of the schedule.

    Returns the `training.TrainingRun`; `results.record_recipe_run` tests
    the model and writes its results file from it.
    """
    steps = epochs * int(np.ceil(len(splits.x_train) / batch_size))
    if constant_learning_rate is not None and not constant_learning_rate > 0:
        raise ValueError(f"constant_learning_rate must be positive (or None for the schedule), "
                         f"got {constant_learning_rate}.")
    rate = constant_learning_rate or warmup_cosine(peak_learning_rate, steps)
    optimizer = keras.optimizers.AdamW(rate, weight_decay=weight_decay)
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience,
                                            restore_best_weights=True)
    return training.train(model, splits, epochs, batch_size, "one-hot", optimizer, label_smoothing,
                          callbacks=[stopper, *extra_callbacks])

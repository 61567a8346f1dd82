"""The book's own training recipe (chapter 11): AdamW with weight decay and a
warm-up and cosine learning-rate schedule, run to its end; and the two frozen
recipes, read from the results files of the search that chose them."""

from __future__ import annotations

import numpy as np

from helpers import results, training
from helpers.backend import keras_module
from helpers.splitting import Splits

keras = keras_module()

# The two frozen recipes (chapter 11) and the study file that holds each one's
# settings and its runs on the test seeds.
RECIPE_STUDIES = {"3 minutes": "book_cnn_fast", "10 minutes": "book_cnn"}
# The settings of a recipe that `train_with_recipe` takes.
TRAINING_SETTINGS = ("batch_size", "peak_learning_rate", "weight_decay", "label_smoothing")


def warmup_cosine(peak_learning_rate: float, total_steps: int, warmup_fraction=0.1):
    """A learning-rate schedule: a linear warm-up from 1/30 of the peak to the
    peak over the first `warmup_fraction` of the steps, then a cosine decay
    to zero at `total_steps`.

    The warm-up keeps the first steps small while Adam's running estimates of
    each gradient's size, built from a few batches, are still unreliable (Liu
    et al., 2020, "On the variance of the adaptive learning rate and beyond",
    who show that those estimates have a large variance early on); the decay
    takes smaller and smaller steps at the end.
    """
    if total_steps < 2 or not 0 < warmup_fraction < 1 or peak_learning_rate <= 0:
        raise ValueError(
            f"need total_steps >= 2, 0 < warmup_fraction < 1 and a positive peak learning "
            f"rate, got {total_steps}, {warmup_fraction} and {peak_learning_rate}.")
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 30, decay_steps=total_steps - warmup,
        warmup_target=peak_learning_rate, warmup_steps=warmup)


def train_with_recipe(model, splits: Splits, epochs: int, *, batch_size: int, peak_learning_rate: float,
                      weight_decay: float, label_smoothing: float = 0.0, callbacks=()):
    """Train with the book's recipe, as chapter 11 does in its cells: AdamW
    with decoupled weight decay, the `warmup_cosine` schedule over all
    `epochs`, and cross-entropy on one-hot labels (with `label_smoothing`,
    the targets become 1 - s + s/10 for the true class and s/10 for the
    others). Every epoch of the schedule runs: nothing stops it early, so a
    decaying schedule is never cut short. Returns the `training.TrainingRun`.
    """
    adamw = optimizer(len(splits.x_train), epochs, batch_size=batch_size,
                      peak_learning_rate=peak_learning_rate, weight_decay=weight_decay)
    return training.train(model, splits, epochs, batch_size, "one-hot", adamw, label_smoothing,
                          callbacks=list(callbacks))


def optimizer(train_images: int, epochs: int, *, batch_size: int, peak_learning_rate: float,
              weight_decay: float):
    """The recipe's optimiser, as `train_with_recipe` builds it: AdamW with
    decoupled weight decay `weight_decay`, its learning rate following
    `warmup_cosine` to `peak_learning_rate` and down over every step of
    `epochs` epochs of `train_images` images in batches of `batch_size` (at
    least 2 steps). Each call makes a new optimiser, with no state: give
    every model its own (chapter 13 times several models trained alike)."""
    if train_images < 1 or epochs < 1 or batch_size < 1:
        raise ValueError(f"train_images, epochs and batch_size must each be at least 1, got "
                         f"{train_images}, {epochs} and {batch_size}.")
    steps = epochs * int(np.ceil(train_images / batch_size))
    return keras.optimizers.AdamW(warmup_cosine(peak_learning_rate, max(2, steps)), weight_decay=weight_decay)


def frozen(budget: str, model_id: str = "book_cnn", verbose: bool = False) -> dict:
    """The frozen recipe of a budget ("3 minutes" or "10 minutes") for the
    book's CNN or its dense network: {"epochs", "batch_size",
    "peak_learning_rate", "weight_decay", "label_smoothing"}, read from the
    search's results files (this checkout's, or those shipped with the
    package). The dense network trains with the CNN's settings for the epochs
    that fit in its own budget (`book_dense.json`)."""
    if budget not in RECIPE_STUDIES:
        raise ValueError(f"budget must be one of {', '.join(map(repr, RECIPE_STUDIES))}, got {budget!r}.")
    if model_id not in ("book_cnn", "book_dense"):
        raise ValueError(f"model_id must be 'book_cnn' or 'book_dense', got {model_id!r}.")
    study = results.read_study(RECIPE_STUDIES[budget], verbose=verbose)
    if "recipe" not in study or "planned_epochs" not in study:
        raise ValueError(f"{RECIPE_STUDIES[budget]}.json holds no frozen recipe (no 'recipe' and "
                         "'planned_epochs'): it is not the book's file. Reinstall the book's "
                         "helpers package, whose copy holds the recipes.")
    epochs = study["planned_epochs"]
    if model_id == "book_dense":
        epochs = results.read_study("book_dense", verbose=verbose)["planned_epochs"][budget]
    return {"epochs": epochs, **{name: study["recipe"][name] for name in TRAINING_SETTINGS}}

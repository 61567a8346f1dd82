"""Tests of helpers.recipe: the book's warm-up and cosine schedule, and
`train_with_recipe`, which keeps the best validation epoch's weights."""

import keras
import numpy as np
import pytest

from helpers import evaluation, models, recipe, splitting, training


def test_warmup_cosine_rises_to_the_peak_then_decays_to_zero():
    schedule = recipe.warmup_cosine(0.003, total_steps=100, warmup_fraction=0.1)
    rates = np.array([float(schedule(step)) for step in range(101)])
    assert rates[0] == pytest.approx(0.003 / 30)
    assert int(np.argmax(rates)) == 10 and rates.max() == pytest.approx(0.003)
    assert np.all(np.diff(rates[10:]) <= 1e-12) and rates[100] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("arguments, bad", [
    ({"total_steps": 1}, "1"), ({"total_steps": 100, "warmup_fraction": 1.5}, "1.5"),
    ({"total_steps": 100, "peak_learning_rate": -0.1}, "-0.1")])
def test_warmup_cosine_refuses_impossible_settings(arguments, bad):
    arguments = {"peak_learning_rate": 0.003, **arguments}
    with pytest.raises(ValueError, match=bad):
        recipe.warmup_cosine(**arguments)


def tiny_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(16, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def test_train_with_recipe_returns_a_training_run_and_uses_adamw(tiny_splits):
    training.set_seed(0)
    run = recipe.train_with_recipe(tiny_model(), tiny_splits, epochs=2, batch_size=32, peak_learning_rate=0.003,
                                   weight_decay=1e-4, patience=5, label_smoothing=0.1)
    assert isinstance(run, training.TrainingRun) and run.epochs == 2
    assert isinstance(run.model.optimizer, keras.optimizers.AdamW)
    assert run.model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    assert not any("test" in key for key in run.history)  # nothing about the test set while training


def test_constant_learning_rate_replaces_the_schedule_and_is_checked(tiny_splits):
    model = models.book_cnn(filters=(2, 2, 2), dense_units=4)
    recipe.train_with_recipe(model, tiny_splits, 1, 32, 3e-3, 0.05, 1, constant_learning_rate=1e-3)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="-1.0"):
        recipe.train_with_recipe(model, tiny_splits, 1, 32, 3e-3, 0.05, 1, constant_learning_rate=-1.0)


def test_a_label_smoothing_of_one_is_refused(tiny_splits):
    with pytest.raises(ValueError, match="label_smoothing"):
        recipe.train_with_recipe(tiny_model(), tiny_splits, 1, 32, 0.003, 1e-4, 1, label_smoothing=1.0)


@pytest.mark.needs_real_data
def test_recipe_ends_with_the_weights_of_the_best_validation_epoch():
    splits = splitting.load_splits(validation_size=500, train_subset=1000)
    training.set_seed(0)
    run = recipe.train_with_recipe(tiny_model(), splits, epochs=4, batch_size=64, peak_learning_rate=0.003,
                                   weight_decay=1e-4, patience=1, label_smoothing=0.1)
    assert 1 <= run.epochs <= 4
    val_accuracy = evaluation.accuracy(run.model, splits.x_val, splits.y_val)
    assert val_accuracy == pytest.approx(max(run.history["val_accuracy"]), abs=1e-6)

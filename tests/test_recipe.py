"""Tests of helpers.recipe: the book's warm-up and cosine schedule,
`train_with_recipe` (which always runs its whole schedule), and the frozen
recipes, read from the search's results files and equal to what the search
froze; and of helpers.models' book models against the search's builders."""

import keras
import numpy as np
import pytest

from bookkit import search
from helpers import models, recipe, results, training


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


def test_train_with_recipe_runs_every_epoch_with_adamw(tiny_splits):
    training.set_seed(0)
    run = recipe.train_with_recipe(tiny_model(), tiny_splits, 3, batch_size=32, peak_learning_rate=0.003,
                                   weight_decay=1e-4, label_smoothing=0.1)
    assert isinstance(run, training.TrainingRun) and run.epochs == 3  # no early stopping
    assert isinstance(run.model.optimizer, keras.optimizers.AdamW)
    assert run.model.optimizer.weight_decay == pytest.approx(1e-4)
    assert run.model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    assert not any("test" in key for key in run.history)  # nothing about the test set while training


def test_the_recipes_optimizer_is_adamw_on_the_schedule_over_every_step():
    # 1,000 images in batches of 128: 8 steps an epoch, 16 in two epochs; a warm-up of 1 step.
    adamw = recipe.optimizer(1000, 2, batch_size=128, peak_learning_rate=0.003, weight_decay=0.05)
    assert isinstance(adamw, keras.optimizers.AdamW) and adamw.weight_decay == pytest.approx(0.05)
    schedule = keras.optimizers.schedules.deserialize(adamw.get_config()["learning_rate"])
    assert float(schedule(1)) == pytest.approx(0.003) and float(schedule(16)) == pytest.approx(0.0, abs=1e-9)
    assert recipe.optimizer(1000, 2, batch_size=128, peak_learning_rate=0.003, weight_decay=0.05) is not adamw
    with pytest.raises(ValueError, match="batch_size"):
        recipe.optimizer(1000, 2, batch_size=0, peak_learning_rate=0.003, weight_decay=0.05)


def test_train_with_recipe_trains_with_the_recipes_optimizer(tiny_splits):
    training.set_seed(0)
    run = recipe.train_with_recipe(tiny_model(), tiny_splits, 2, batch_size=32, peak_learning_rate=0.003,
                                   weight_decay=1e-4)
    built = recipe.optimizer(len(tiny_splits.x_train), 2, batch_size=32, peak_learning_rate=0.003,
                             weight_decay=1e-4)
    assert run.model.optimizer.get_config()["learning_rate"] == built.get_config()["learning_rate"]


def test_a_label_smoothing_of_one_is_refused(tiny_splits):
    with pytest.raises(ValueError, match="label_smoothing"):
        recipe.train_with_recipe(tiny_model(), tiny_splits, 1, batch_size=32, peak_learning_rate=0.003,
                                 weight_decay=1e-4, label_smoothing=1.0)


@pytest.mark.parametrize("budget", list(recipe.RECIPE_STUDIES))
def test_the_frozen_recipes_are_the_searchs(budget):
    study = results.read_study(recipe.RECIPE_STUDIES[budget], verbose=False)
    frozen = recipe.frozen(budget)
    assert frozen["epochs"] == study["planned_epochs"]
    searched = search.Candidate(**{k: tuple(v) if isinstance(v, list) else v for k, v in study["recipe"].items()})
    assert {k: frozen[k] for k in recipe.TRAINING_SETTINGS} == {
        k: getattr(searched, k) for k in recipe.TRAINING_SETTINGS}
    # What helpers.models.book_cnn builds with its defaults is the frozen recipe's network.
    assert (searched.schedule, searched.batch_norm, searched.augment, searched.weight_averaging,
            searched.precision) == ("warmup-cosine", False, (), False, "float32"), (
        "models.book_cnn and chapter 11's cells have no switch for these: add one first")
    dense = recipe.frozen(budget, "book_dense")
    assert dense["epochs"] == results.read_study("book_dense", verbose=False)["planned_epochs"][budget]
    assert {k: dense[k] for k in recipe.TRAINING_SETTINGS} == {k: frozen[k] for k in recipe.TRAINING_SETTINGS}


@pytest.mark.parametrize("budget, model_id, bad", [("5 minutes", "book_cnn", "5 minutes"),
                                                  ("3 minutes", "strided_cnn", "strided_cnn")])
def test_frozen_refuses_an_unknown_budget_or_model(budget, model_id, bad):
    with pytest.raises(ValueError, match=bad):
        recipe.frozen(budget, model_id)


def same_function(built, reference):
    """Give `built` the weights of `reference` and check both compute the same."""
    assert [w.shape for w in built.get_weights()] == [w.shape for w in reference.get_weights()]
    built.set_weights(reference.get_weights())
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(built.predict(images, verbose=0), reference.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-6)


def frozen_candidate():
    study = results.read_study("book_cnn", verbose=False)
    return search.Candidate(**{k: tuple(v) if isinstance(v, list) else v for k, v in study["recipe"].items()})


def test_book_cnn_is_the_network_the_search_froze():
    candidate = frozen_candidate()
    model = models.book_cnn()
    assert model.count_params() == search.build(candidate).count_params() == 173578
    same_function(model, search.build(candidate))


def test_book_dense_is_the_network_of_the_dense_study():
    units = tuple(results.read_study("book_dense", verbose=False)["units"])
    assert units == models.BOOK_DENSE_UNITS
    same_function(models.book_dense(), search.build_dense(frozen_candidate(), units))

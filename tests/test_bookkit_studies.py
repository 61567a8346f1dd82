"""Tests of bookkit.studies, the maintainers' study runners: the variants'
settings, one run of the book's recipe, and the tutorials' protocols."""

import inspect

import numpy as np
import pytest

from bookkit import studies
from helpers import data, models
from helpers import studies as chapter_study


def test_the_seeds_of_choosing_and_of_testing_are_apart():
    assert studies.DEVELOPMENT_SEED not in chapter_study.TEST_SEEDS
    assert set(studies.ABLATION_SEEDS) <= set(chapter_study.TEST_SEEDS)  # paired with the frozen runs
    # Chapters 5-7's seed first: its book-protocol runs are the chapters' own.
    assert studies.REPRODUCTION_SEEDS[0] == 42 and len(set(studies.REPRODUCTION_SEEDS)) >= 3


def test_variant_settings_without_changes_are_the_books():
    arguments, settings = studies.variant_settings({})
    assert arguments == {} and settings == models.BOOK_SETTINGS["book_cnn"]


def test_variant_settings_apply_changes_on_top_of_the_base():
    book = dict(models.BOOK_SETTINGS["book_cnn"])
    base = {"recipe": {"epochs": 16}, "model": {"dropout": 0.1}}
    arguments, settings = studies.variant_settings({"recipe": {"label_smoothing": 0.0}}, base=base)
    assert settings["epochs"] == 16 and settings["label_smoothing"] == 0.0 and arguments == {"dropout": 0.1}
    assert settings["batch_size"] == book["batch_size"]  # the rest as the book has it
    # Neither the book's settings nor the base change.
    assert models.BOOK_SETTINGS["book_cnn"] == book and base == {"recipe": {"epochs": 16}, "model": {"dropout": 0.1}}


def test_every_ablation_changes_the_model_or_the_recipe_and_the_variants_differ():
    base_arguments, base_settings = studies.variant_settings({})
    for name, changes in chapter_study.ABLATIONS.items():
        arguments, settings = studies.variant_settings(changes)
        models.book_cnn(**arguments)  # builds
        assert arguments != base_arguments or settings != base_settings, name
    variants = [studies.variant_settings(changes) for changes in chapter_study.DEVELOPMENT_VARIANTS.values()]
    assert all(a != b for i, a in enumerate(variants) for b in variants[i + 1:])


def test_the_books_defaults_are_the_recipe_the_rule_froze():
    from helpers import results

    development = results.read_result("book_cnn_development", verbose=False)
    assert chapter_study.select_recipe(development["runs"]) == chapter_study.FROZEN_VARIANT == development["selected"]
    model_arguments, settings = studies.variant_settings(
        chapter_study.DEVELOPMENT_VARIANTS[chapter_study.FROZEN_VARIANT])
    defaults = inspect.signature(models.book_cnn).parameters
    assert all(defaults[name].default == value for name, value in model_arguments.items())
    assert settings == models.BOOK_SETTINGS["book_cnn"]


def test_half_the_width_halves_every_layer_of_the_frozen_recipe():
    model_arguments, _ = studies.variant_settings(
        chapter_study.ABLATIONS["at half the width"],
        base=chapter_study.DEVELOPMENT_VARIANTS[chapter_study.FROZEN_VARIANT])
    frozen = models.book_cnn()
    half = models.book_cnn(**model_arguments)

    def widths(model):
        return [layer.units if hasattr(layer, "units") else layer.filters
                for layer in model.layers if hasattr(layer, "filters") or hasattr(layer, "units")]

    assert [w // 2 for w in widths(frozen)[:-1]] == widths(half)[:-1]  # all but the 10 outputs


def test_book_cnn_without_batch_norm_has_biases_and_no_normalisation():
    # The ablation "without batch normalisation" builds this.
    model = models.book_cnn(batch_norm=False)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert "BatchNormalization" not in kinds
    assert all(layer.use_bias for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense"))
    assert model.output_shape == (None, 10)
    assert model.count_params() < models.book_cnn().count_params()


@pytest.mark.parametrize("score_test", [False, True])
def test_run_recipe_returns_a_row_per_run_and_touches_the_test_set_only_when_asked(tiny_splits, score_test):
    settings = {**models.BOOK_SETTINGS["book_cnn"], "epochs": 2}
    row = studies.run_recipe("book_cnn", tiny_splits, seed=7, model_arguments={"filters": (4, 4, 4),
                             "dense_units": 8}, settings=settings, score_test=score_test)
    assert row["seed"] == 7 and row["epochs"] == 2 and 1 <= row["best_epoch"] <= 2
    assert len(row["seconds_by_epoch"]) == 2 and row["train_seconds"] >= max(row["seconds_by_epoch"])
    assert 0 <= row["val_accuracy"] <= 1 and 0 <= row["val_accuracy_vote"] <= 1
    test_fields = {"test_accuracy", "test_accuracy_one_view", "test_accuracy_vote"}
    assert (test_fields <= row.keys()) == score_test and (test_fields & row.keys() == set()) != score_test
    if score_test:  # the recipe's mirror vote decides which one is the headline
        assert row["test_accuracy"] == row["test_accuracy_vote"]


def test_run_recipe_with_epochs_overrides_the_settings(tiny_splits):
    settings = {**models.BOOK_SETTINGS["book_cnn"], "epochs": 5}
    row = studies.run_recipe("book_cnn", tiny_splits, 0, {"filters": (2, 2, 2), "dense_units": 4}, settings,
                             score_test=False, epochs=2)
    assert row["epochs"] == 2 and len(row["seconds_by_epoch"]) == 2


@pytest.mark.needs_real_data
def test_tutorial_protocol_data_follows_each_tutorial():
    x, y, x_test, y_test = studies.tutorial_protocol_data("dense_baseline")
    assert x.shape == (60000, 28, 28, 1) and x.max() == 1.0 and x_test.shape == (10000, 28, 28, 1)
    x, y, _, _ = studies.tutorial_protocol_data("wide_cnn_bn")
    (raw, labels), _ = data.load_fashion_mnist()
    assert x.shape == (48000, 28, 28, 1) and x.max() == 255.0  # unscaled, first 80%
    np.testing.assert_array_equal(y, labels[:48000])
    x, _, _, _ = studies.tutorial_protocol_data("strided_cnn", train_subset=500)
    assert len(x) == 500


def test_tutorial_protocol_data_refuses_a_model_without_a_tutorial():
    with pytest.raises(ValueError, match="'book_cnn'"):
        studies.tutorial_protocol_data("book_cnn")


def test_the_tutorial_protocol_trains_the_architecture_as_published(monkeypatch):
    built = {}

    def recording_builder(**arguments):
        built.update(arguments)
        return models.deep_narrow_cnn(**arguments)

    tiny = np.zeros((8, 28, 28, 1), dtype="float32"), np.arange(8) % 10
    monkeypatch.setitem(models.BUILDERS, "deep_narrow_cnn", recording_builder)
    monkeypatch.setattr(studies, "tutorial_protocol_data", lambda model_id, subset=None: (*tiny, *tiny))
    row = studies.run_tutorial_protocol("deep_narrow_cnn", seed=0, epochs=1)
    assert built == models.TUTORIAL_SETTINGS["deep_narrow_cnn"]["as_published"]
    assert row["protocol"] == "tutorial" and row["epochs"] == 1 and row["train_images"] == 8
    assert 0 <= row["test_accuracy"] <= 1


def test_the_book_protocol_trains_the_chapters_model_on_the_book_split(tiny_splits):
    row = studies.run_book_protocol("dense_baseline", tiny_splits, seed=0, epochs=1)
    assert row["protocol"] == "book" and row["model"] == "dense_baseline" and row["epochs"] == 1
    assert row["train_images"] == len(tiny_splits.x_train)
    assert {"train_accuracy", "val_accuracy", "test_accuracy", "train_seconds"} <= row.keys()
    assert all(0 <= row[k] <= 1 for k in ("train_accuracy", "val_accuracy", "test_accuracy"))

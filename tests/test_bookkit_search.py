"""Tests of bookkit.search, the rebuild's search declared before any run: the
candidates and the stages of changes, the models they build, the keep rule
and the epochs that fit a time budget."""

import dataclasses
import json

import keras
import numpy as np
import pytest

from bookkit import search
from helpers import training

FIELDS = {field.name for field in dataclasses.fields(search.Candidate)}


START = search.Candidate()  # the published Keras convnet


def changes_of(stages, start=START):
    """(stage, change) of every change of `stages`, functions of the incumbent applied to `start`."""
    return [(stage, change(start) if callable(change) else change)
            for stage, changes in stages for change in changes]


# --- candidates and stages -------------------------------------------------------------


def test_a_changed_candidate_is_a_new_one_and_the_old_stays():
    start = search.Candidate()
    wider = start.changed(filters=(64, 128))
    assert wider.filters == (64, 128) and start.filters == (32, 64)
    assert wider != start and start.changed() == start
    assert len({start: 1, wider: 2, start.changed(): 3}) == 2  # frozen: usable as a key


def test_changed_rejects_a_setting_a_candidate_does_not_have():
    with pytest.raises(ValueError) as error:
        search.Candidate().changed(filter=(64, 128), dropout=0.2)
    named = str(error.value).split(";")[0]  # then the settings a candidate has
    assert "filter" in named and "dropout" not in named


def test_settings_are_plain_json():
    settings = search.Candidate(augment=("flip",)).settings()
    assert set(settings) == FIELDS and settings["filters"] == [32, 64] and settings["augment"] == ["flip"]
    assert json.loads(json.dumps(settings)) == settings


@pytest.mark.parametrize("stages", [search.FAST_STAGES, search.FULL_STAGES], ids=["3 minutes", "10 minutes"])
def test_every_change_of_the_stages_names_real_candidate_fields(stages):
    assert [stage for stage, _ in stages] and all(changes for _, changes in stages)
    for stage, change in changes_of(stages):
        assert change and set(change) <= FIELDS, (stage, set(change) - FIELDS)
        search.Candidate().changed(**change)  # and takes values a candidate accepts


def test_stage_names_are_distinct_within_each_search():
    for stages in (search.FAST_STAGES, search.FULL_STAGES):
        names = [stage for stage, _ in stages]
        assert len(names) == len(set(names)), names


def test_describe_stages_writes_out_every_change_as_data():
    fast = search.describe_stages(search.FAST_STAGES)
    assert [entry["stage"] for entry in fast] == [stage for stage, _ in search.FAST_STAGES]
    start = search.Candidate(filters=(32, 64, 128), convs_per_block=2, augment=("flip",))
    full = search.describe_stages(search.FULL_STAGES, start=start)
    assert [entry["stage"] for entry in full] == [stage for stage, _ in search.FULL_STAGES]
    for entry in fast + full:
        assert entry["changes"] and not any(callable(change) for change in entry["changes"])
        assert all(not isinstance(value, tuple) for change in entry["changes"] for value in change.values())
    json.dumps(fast + full)  # the development file holds them
    # The functions of the incumbent are resolved for `start`.
    width = next(entry for entry in full if entry["stage"] == "width")
    assert {"filters": [48, 96, 192]} in width["changes"] and {"filters": [64, 128, 256]} in width["changes"]
    depth = next(entry for entry in full if entry["stage"] == "depth")
    assert depth["changes"] == [{"convs_per_block": 3}]


def test_the_starting_point_names_where_it_was_published():
    assert search.STARTED_FROM["name"] and search.STARTED_FROM["url"].startswith("https://")


# --- the rule and the budget -----------------------------------------------------------


def test_keeps_only_a_challenger_ahead_by_more_than_the_margin():
    margin = search.KEEP_MARGIN
    assert margin > 0
    assert search.keeps(0.90, 0.90 + margin * 1.01)
    assert not search.keeps(0.90, 0.90 + margin * 0.99)
    assert not search.keeps(0.90, 0.90)
    assert not search.keeps(0.90, 0.85)


def test_planned_epochs_fill_the_planned_share_of_the_budget():
    share = search.PLANNED_SHARE
    assert search.planned_epochs(10.0, 100.0) == int(share * 100 // 10)
    assert search.planned_epochs(10.0, 100.0) * 10.0 <= share * 100.0
    assert (search.planned_epochs(10.0, 100.0) + 1) * 10.0 > share * 100.0  # as many as fit
    assert search.planned_epochs(7.3, search.FULL_BUDGET_SECONDS) == int(share * 600 // 7.3)
    assert search.planned_epochs(500.0, 100.0) == 1  # at least one, even over the budget


@pytest.mark.parametrize("epoch_seconds, budget, bad", [(0.0, 100.0, "0.0"), (-2.0, 100.0, "-2.0"),
                                                        (10.0, 0.0, "0.0"), (10.0, -5.0, "-5.0")])
def test_planned_epochs_refuse_seconds_that_are_not_positive(epoch_seconds, budget, bad):
    with pytest.raises(ValueError, match=bad):
        search.planned_epochs(epoch_seconds, budget)


# --- models and optimisers -------------------------------------------------------------


def test_the_starting_point_is_the_published_keras_mnist_convnet():
    model = search.build(search.Candidate())
    assert model.count_params() == 34826  # as the Keras example reports it
    assert model.output_shape == (None, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]


@pytest.mark.parametrize("change", [change for _, change in changes_of(search.FAST_STAGES)],
                         ids=lambda change: json.dumps(change, sort_keys=True))
def test_every_change_of_the_3_minute_search_builds_a_classifier(change):
    model = search.build(search.Candidate().changed(**change))
    assert model.output_shape == (None, 10)


def test_augmentation_layers_come_first_and_only_when_asked():
    kinds = [type(layer).__name__ for layer in search.build(search.Candidate(augment=("flip", "translate"))).layers]
    assert kinds[:2] == ["RandomFlip", "RandomTranslation"]
    assert not {"RandomFlip", "RandomTranslation"} & {
        type(layer).__name__ for layer in search.build(search.Candidate()).layers}


@pytest.mark.parametrize("candidate, bad", [(search.Candidate(head="pool"), "pool"),
                                            (search.Candidate(augment=("rotate",)), "rotate")])
def test_build_refuses_an_unknown_head_or_augmentation(candidate, bad):
    with pytest.raises(ValueError, match=bad):
        search.build(candidate)


def test_the_optimizer_follows_the_schedule():
    constant = search.optimizer(search.Candidate(), total_steps=100)
    assert type(constant) is keras.optimizers.Adam
    assert float(constant.learning_rate.numpy()) == pytest.approx(1e-3)
    modern = search.optimizer(search.Candidate().changed(**search.MODERN_SCHEDULE), total_steps=100)
    assert isinstance(modern, keras.optimizers.AdamW) and modern.weight_decay == pytest.approx(0.05)
    assert search.optimizer(search.Candidate(weight_averaging=True), total_steps=100).use_ema
    with pytest.raises(ValueError, match="'cyclic'"):
        search.optimizer(search.Candidate(schedule="cyclic"), total_steps=100)


# --- timing and training ---------------------------------------------------------------


def test_an_epoch_is_timed_on_whole_real_epochs_after_the_first(make_splits, monkeypatch):
    splits = make_splits(train=64)
    small = search.Candidate(filters=(4, 8), batch_size=32)
    assert search.measure_epoch_seconds(small, splits, epochs=2) > 0
    # The median epoch after the first, which also traces the graph: one slowed epoch does not count.
    timed = training.TrainingRun(history={}, seconds_per_epoch=[9.0, 2.0, 7.0, 2.5], fit_seconds=20.5, model=None)
    monkeypatch.setattr(search, "train", lambda *args, **kwargs: timed)
    assert search.measure_epoch_seconds(small, splits, epochs=4) == 2.5
    with pytest.raises(ValueError, match="at least 2 epochs"):
        search.measure_epoch_seconds(small, splits, epochs=1)


def test_train_runs_the_whole_schedule_without_stopping_early(tiny_splits, capsys):
    run = search.train(search.Candidate(filters=(4, 8), batch_size=32).changed(**search.MODERN_SCHEDULE),
                       tiny_splits, seed=0, epochs=3)
    assert isinstance(run, training.TrainingRun) and run.epochs == 3
    assert run.model.count_params() == search.build(search.Candidate(filters=(4, 8))).count_params()
    again = search.train(search.Candidate(filters=(4, 8), batch_size=32).changed(**search.MODERN_SCHEDULE),
                         tiny_splits, seed=0, epochs=3)
    assert again.history["loss"] == run.history["loss"]  # seeded: the same run
    assert np.all(np.isfinite(run.history["val_loss"]))


def test_ingredients_take_back_one_group_of_settings_each():
    recipe = START.changed(**search.MODERN_SCHEDULE, filters=(32, 64, 128), padding="same",
                           head="gap", label_smoothing=0.1)
    variants = search.ingredients(recipe)
    assert list(variants) == ["schedule", "width and depth", "head", "label smoothing"]
    assert variants["schedule"] == recipe.changed(schedule="constant", peak_learning_rate=1e-3,
                                                  weight_decay=0.0)
    assert variants["width and depth"].filters == (32, 64) and variants["width and depth"].padding == "valid"
    assert variants["head"] == recipe.changed(head="flatten")
    assert search.ingredients(START) == {}  # the start has nothing to take back


def test_every_setting_belongs_to_one_ingredient():
    grouped = [name for names in search.INGREDIENTS.values() for name in names]
    assert sorted(grouped) == sorted(START.settings()) and len(grouped) == len(set(grouped))


def test_the_dense_network_keeps_the_recipes_augmentation_and_normalisation():
    plain = search.build_dense(START)
    assert [type(layer).__name__ for layer in plain.layers][:2] == ["Flatten", "Dense"]
    assert sum(type(layer).__name__ == "Dense" for layer in plain.layers) == len(search.DENSE_UNITS) + 1
    assert plain.output_shape == (None, 10)
    trained_like = search.build_dense(START.changed(augment=("flip",), batch_norm=True))
    names = [type(layer).__name__ for layer in trained_like.layers]
    assert names[0] == "RandomFlip" and names.count("BatchNormalization") == len(search.DENSE_UNITS)


def test_the_cost_key_ignores_what_does_not_change_the_work_per_image():
    base = START.changed(head="dense", filters=(32, 64, 128), padding="same")
    same_work = base.changed(dropout=0.3, label_smoothing=0.1, **search.MODERN_SCHEDULE)
    assert search.cost_key(base.settings()) == search.cost_key(same_work.settings())
    for other in (base.changed(filters=(16, 32, 64)), base.changed(augment=("flip",)),
                  base.changed(batch_size=256), base.changed(head="gap"),
                  base.changed(precision="mixed_bfloat16")):
        assert search.cost_key(other.settings()) != search.cost_key(base.settings())


@pytest.mark.parametrize("builder", [search.build, search.build_dense])
def test_a_mixed_bfloat16_candidate_computes_in_bfloat16_and_answers_in_float32(builder):
    before = keras.mixed_precision.global_policy().name
    model = builder(START.changed(precision="mixed_bfloat16"))
    assert keras.mixed_precision.global_policy().name == before  # the global policy is given back
    hidden, softmax = model.layers[-3 if builder is search.build else -2], model.layers[-1]
    assert hidden.dtype_policy.compute_dtype == "bfloat16" and hidden.dtype_policy.variable_dtype == "float32"
    assert softmax.dtype_policy.compute_dtype == "float32"
    assert model(np.zeros((2, 28, 28, 1), "float32")).dtype == "float32"
    # The float32 candidate is the same network: only the precision differs.
    assert model.count_params() == builder(START).count_params()


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="float16"):
        search.build(START.changed(precision="float16"))

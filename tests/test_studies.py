"""Tests of helpers.studies, what chapter 11 reads of its study: the rule that
freezes a recipe, its verdict on every variant, and the ablation table."""

import numpy as np
import pytest

from helpers import models, studies


def dev_row(variant, val_accuracy, train_seconds):
    return {"variant": variant, "val_accuracy": val_accuracy, "train_seconds": train_seconds}


LIMIT = studies.SELECTION_SHARE_OF_BUDGET * studies.TIME_BUDGET_SECONDS  # 540 s


def test_select_recipe_takes_the_best_validation_score_within_the_budget():
    rows = [dev_row("long", 0.950, LIMIT + 80), dev_row("medium", 0.944, LIMIT - 10),
            dev_row("short", 0.940, LIMIT - 90)]
    assert studies.select_recipe(rows) == "medium"  # "long" is over the limit


def test_select_recipe_prefers_the_faster_of_a_tie():
    tie = studies.SELECTION_TIE
    rows = [dev_row("medium", 0.9440, 530), dev_row("short", 0.9440 - tie * 0.75, 450),
            dev_row("tiny", 0.9440 - tie * 5, 200)]
    assert studies.select_recipe(rows) == "short"


def test_select_recipe_refuses_when_nothing_fits_the_budget():
    with pytest.raises(ValueError) as error:
        studies.select_recipe([dev_row("long", 0.95, LIMIT + 160)])
    assert str(studies.TIME_BUDGET_SECONDS) in str(error.value)


def test_development_verdicts_explain_the_rule_for_every_variant():
    rows = [dev_row("long", 0.945, 560.0), dev_row("best", 0.941, 460.0), dev_row("fast", 0.940, 400.0),
            dev_row("weak", 0.930, 300.0)]
    verdicts = studies.development_verdicts(rows)
    assert set(verdicts) == {"long", "best", "fast", "weak"}
    assert [v for v, text in verdicts.items() if text.startswith("frozen")] == [studies.select_recipe(rows)]
    assert all(text.startswith("dropped") for v, text in verdicts.items() if v != "fast")
    # Each reason carries its numbers: the time over the limit, the points behind the best.
    assert "560" in verdicts["long"] and "540" in verdicts["long"]
    assert "0.10" in verdicts["fast"] and "1.10" in verdicts["weak"]
    assert "tie" in verdicts["best"] and "tie" in verdicts["fast"]


def test_the_frozen_variant_is_a_development_variant_and_ablations_change_something():
    assert studies.FROZEN_VARIANT in studies.DEVELOPMENT_VARIANTS
    for name, changes in {**studies.DEVELOPMENT_VARIANTS, **studies.ABLATIONS}.items():
        assert changes and set(changes) <= {"model", "recipe"}, name
        assert set(changes.get("recipe", {})) <= set(models.BOOK_SETTINGS["book_cnn"]) | {
            "constant_learning_rate"}, name


def test_the_test_seeds_are_fresh():
    assert len(set(studies.TEST_SEEDS)) == len(studies.TEST_SEEDS) >= 5


def test_ablation_table_pairs_each_run_with_the_frozen_run_of_its_seed():
    def run(seed, val, one_view, vote, seconds=100.0, **more):
        return {"seed": seed, "val_accuracy": val, "val_accuracy_vote": val + 0.001,
                "test_accuracy_one_view": one_view, "test_accuracy_vote": vote, "test_accuracy": vote,
                "train_seconds": seconds, **more}
    frozen = [run(101, 0.94, 0.935, 0.94), run(102, 0.95, 0.936, 0.942)]
    ablated = [run(101, 0.93, 0.925, 0.93, 80.0, ablation="without dropout"),
               run(102, 0.94, 0.930, 0.93, 90.0, ablation="without dropout"),
               run(103, 0.90, 0.90, 0.90, ablation="without dropout")]  # no frozen run on 103: left out
    table = studies.ablation_table(ablated, frozen)
    assert list(table.index) == ["without the mirror vote", "without dropout"]
    dropout = table.loc["without dropout"]
    assert dropout["seeds"] == 2 and dropout["validation change"] == pytest.approx(-1.0)
    assert dropout["test change, one view"] == pytest.approx(-0.8)
    assert dropout["test change, as predicted"] == pytest.approx(-1.1)
    assert dropout["sd of that change"] == pytest.approx(np.std([-1.0, -1.2], ddof=1) * 1)
    assert dropout["training seconds"] == pytest.approx(85.0)
    assert dropout["95% CI of that change"] == pytest.approx(
        12.706 * dropout["sd of that change"] / np.sqrt(2), rel=1e-3)
    vote = table.loc["without the mirror vote"]
    assert vote["test change, as predicted"] == pytest.approx(-0.55)
    assert vote["validation change"] == pytest.approx(-0.1)
    assert np.isnan(vote["test change, one view"])

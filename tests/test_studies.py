"""Tests of helpers.studies and scripts/run_studies.py: the selection rule,
the statistics, the tutorials' protocol and the resumable study files."""

import inspect
import json

import helpers  # noqa: F401  (quiet TensorFlow first)
import keras
import numpy as np
import pytest
from scipy import stats

from helpers import models, recipe, results, splitting, studies
from scripts import run_studies
from test_data import needs_real_data


def dev_row(variant, val_accuracy, train_seconds):
    return {"variant": variant, "val_accuracy": val_accuracy, "train_seconds": train_seconds}


def test_select_recipe_takes_the_best_validation_score_within_the_budget():
    rows = [dev_row("long", 0.950, 620), dev_row("medium", 0.944, 530), dev_row("short", 0.940, 450)]
    assert studies.select_recipe(rows) == "medium"  # "long" is over 90% of 600 s


def test_select_recipe_prefers_the_faster_of_a_tie():
    rows = [dev_row("medium", 0.9440, 530), dev_row("short", 0.9425, 450), dev_row("tiny", 0.9300, 200)]
    assert studies.select_recipe(rows) == "short"  # 0.15 points below: within SELECTION_TIE


def test_select_recipe_refuses_when_nothing_fits_the_budget():
    with pytest.raises(ValueError, match="no development run trained within 90% of 600 s"):
        studies.select_recipe([dev_row("long", 0.95, 700)])


def test_every_ablation_changes_the_model_or_the_recipe_and_the_variants_differ():
    base_arguments, base_settings = studies.variant_settings({})
    assert base_settings == models.BOOK_SETTINGS["book_cnn"]
    for changes in studies.ABLATIONS.values():
        arguments, settings = studies.variant_settings(changes)
        models.book_cnn(**arguments)  # builds
        assert arguments != base_arguments or settings != base_settings, changes
    variants = [studies.variant_settings(changes) for changes in studies.DEVELOPMENT_VARIANTS.values()]
    assert all(a != b for i, a in enumerate(variants) for b in variants[i + 1:])


def test_variant_settings_apply_changes_on_top_of_the_base():
    arguments, settings = studies.variant_settings({"recipe": {"label_smoothing": 0.0}},
                                                   base={"recipe": {"epochs": 16}, "model": {"dropout": 0.1}})
    assert settings["epochs"] == 16 and settings["label_smoothing"] == 0.0 and arguments == {"dropout": 0.1}


def test_book_cnn_without_batch_norm_has_biases_and_no_normalisation():
    model = models.book_cnn(batch_norm=False)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert "BatchNormalization" not in kinds
    assert all(layer.use_bias for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense"))
    assert model.output_shape == (None, 10)
    assert model.count_params() < models.book_cnn().count_params()


def test_constant_learning_rate_replaces_the_schedule_and_is_checked():
    splits = splitting.Splits(*(np.zeros((8, 28, 28, 1), "float32"), np.arange(8) % 10) * 3)
    model = models.book_cnn(filters=(2, 2, 2), dense_units=4)
    recipe.train_with_recipe(model, splits, 1, 4, 3e-3, 0.05, 1, constant_learning_rate=1e-3)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="constant_learning_rate must be positive"):
        recipe.train_with_recipe(model, splits, 1, 4, 3e-3, 0.05, 1, constant_learning_rate=-1.0)


def test_seconds_to_target_adds_up_the_epochs_until_the_target():
    assert studies.seconds_to_target([10, 20, 30], [0.90, 0.915, 0.92], 0.9137) == 30
    assert studies.seconds_to_target([10, 20], [0.90, 0.91], 0.9137) is None


def test_mean_and_interval_against_a_hand_computation():
    spread = studies.mean_and_interval([0.93, 0.94, 0.95])
    # sd 0.01; t(0.975, 2 degrees of freedom) = 4.3027
    assert spread["mean"] == pytest.approx(0.94) and spread["sd"] == pytest.approx(0.01)
    assert spread["ci95"] == pytest.approx(4.3027 * 0.01 / np.sqrt(3), rel=1e-4)
    with pytest.raises(ValueError, match="at least two runs"):
        studies.mean_and_interval([0.9])


@pytest.mark.parametrize("mean, ci95, clear", [
    (0.5, 0.3, True), (-0.5, 0.3, True), (0.2, 0.3, False), (-0.3, 0.3, False), (0.5, float("nan"), False)])
def test_excludes_zero_only_when_the_interval_leaves_it_out(mean, ci95, clear):
    assert studies.excludes_zero({"mean": mean, "ci95": ci95}) is clear


def test_binomial_interval_of_a_test_accuracy():
    # 1.96 * sqrt(0.9 * 0.1 / 10000) = 0.00588
    assert studies.binomial_interval(0.9) == pytest.approx(0.00588, abs=1e-5)
    with pytest.raises(ValueError, match="accuracy in"):
        studies.binomial_interval(1.2)


@needs_real_data
def test_tutorial_protocol_data_follows_each_tutorial():
    x, y, x_test, y_test = studies.tutorial_protocol_data("dense_baseline")
    assert x.shape == (60000, 28, 28, 1) and x.max() == 1.0 and x_test.shape == (10000, 28, 28, 1)
    x, y, _, _ = studies.tutorial_protocol_data("wide_cnn_bn")
    (raw, labels), _ = helpers.data.load_fashion_mnist()
    assert x.shape == (48000, 28, 28, 1) and x.max() == 255.0  # unscaled, first 80%
    np.testing.assert_array_equal(y, labels[:48000])
    with pytest.raises(ValueError, match="no tutorial protocol for 'book_cnn'"):
        studies.tutorial_protocol_data("book_cnn")


def test_a_study_file_resumes_with_the_runs_it_has(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs[-1:])
    study.add({"model": "m", "seed": 1, "test_accuracy": 0.5})
    again = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    assert again.has(model="m", seed=1) and not again.has(model="m", seed=2)
    saved = json.loads((tmp_path / "results/quick/fashion_mnist/demo.json").read_text())
    assert saved["runs"] == [{"model": "m", "seed": 1, "test_accuracy": 0.5}] and saved["quick"] is True


def test_summaries_give_the_spread_over_seeds():
    runs = [{"model": "dense_baseline", "protocol": p, "seed": s, "test_accuracy": a, "train_accuracy": 0.9}
            for p, s, a in [("tutorial", 1, 0.87), ("tutorial", 2, 0.88), ("book", 1, 0.86)]]
    rows = run_studies.summarise_reproduction(runs)
    tutorial, book = rows
    assert tutorial["test_accuracy_mean"] == pytest.approx(0.875) and tutorial["seeds"] == [1, 2]
    assert tutorial["reported_test_accuracy"] == 0.871 and book["test_accuracy_sd"] is None


def test_the_runner_refuses_an_unknown_stage(capsys):
    with pytest.raises(SystemExit):
        run_studies.main(["--quick", "seeds", "everything"])
    assert "unknown stage(s) everything" in capsys.readouterr().err


def tiny_splits(images=96, seed=0):
    """Random images and labels in the shape of the real splits: enough to run the plumbing."""
    rng = np.random.default_rng(seed)
    part = lambda n: (rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n))  # noqa: E731
    return splitting.Splits(*part(images), *part(32), *part(32))


@pytest.mark.parametrize("score_test", [False, True])
def test_run_recipe_returns_a_row_per_run_and_touches_the_test_set_only_when_asked(score_test):
    settings = {**models.BOOK_SETTINGS["book_cnn"], "epochs": 2}
    row = studies.run_recipe("book_cnn", tiny_splits(), seed=7, model_arguments={"filters": (4, 4, 4),
                             "dense_units": 8}, settings=settings, score_test=score_test)
    assert row["seed"] == 7 and row["epochs"] == 2 and 1 <= row["best_epoch"] <= 2
    assert len(row["seconds_by_epoch"]) == 2 and row["train_seconds"] >= max(row["seconds_by_epoch"])
    assert 0 <= row["val_accuracy"] <= 1 and 0 <= row["val_accuracy_vote"] <= 1
    test_fields = {"test_accuracy", "test_accuracy_one_view", "test_accuracy_vote"}
    assert (test_fields <= row.keys()) == score_test and (test_fields & row.keys() == set()) != score_test
    if score_test:  # the recipe's mirror vote decides which one is the headline
        assert row["test_accuracy"] == row["test_accuracy_vote"]


def test_the_books_defaults_are_the_recipe_the_rule_froze():
    development = results.read_result("book_cnn_development")
    assert studies.select_recipe(development["runs"]) == studies.FROZEN_VARIANT == development["selected"]
    model_arguments, settings = studies.variant_settings(studies.DEVELOPMENT_VARIANTS[studies.FROZEN_VARIANT])
    defaults = inspect.signature(models.book_cnn).parameters
    assert all(defaults[name].default == value for name, value in model_arguments.items())
    assert settings == models.BOOK_SETTINGS["book_cnn"]


def test_saving_a_study_without_new_runs_keeps_the_load_of_its_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    study.add({"model": "m", "seed": 1})
    path = tmp_path / "results/quick/fashion_mnist/demo.json"
    saved = json.loads(path.read_text())
    saved["load"] = [9.0, 9.0, 9.0]  # as if the runs had trained on a busy machine
    path.write_text(json.dumps(saved))
    run_studies.Study("demo", quick=True, summarise=lambda runs: runs).save(selected="m")
    again = json.loads(path.read_text())
    assert again["load"] == [9.0, 9.0, 9.0] and again["selected"] == "m"
    # A later run keeps what the stage said of the study.
    run_studies.Study("demo", quick=True, summarise=lambda runs: runs).add({"model": "m", "seed": 2})
    assert json.loads(path.read_text())["selected"] == "m"


def test_half_the_width_halves_every_layer_of_the_frozen_recipe():
    model_arguments, _ = studies.variant_settings(studies.ABLATIONS["at half the width"],
                                                  base=studies.DEVELOPMENT_VARIANTS[studies.FROZEN_VARIANT])
    frozen = models.book_cnn()
    half = models.book_cnn(**model_arguments)
    widths = lambda model: [layer.units if hasattr(layer, "units") else layer.filters  # noqa: E731
                            for layer in model.layers if hasattr(layer, "filters") or hasattr(layer, "units")]
    assert [w // 2 for w in widths(frozen)[:-1]] == widths(half)[:-1]  # all but the 10 outputs


def test_development_verdicts_explain_the_rule_for_every_variant():
    rows = [dev_row("long", 0.945, 560.0), dev_row("best", 0.941, 460.0), dev_row("fast", 0.940, 400.0),
            dev_row("weak", 0.930, 300.0)]
    verdicts = studies.development_verdicts(rows)
    assert verdicts["long"] == "dropped: 560 s is over the 540 s limit"
    assert verdicts["fast"] == "frozen: 0.10 points behind the best, within the tie, and the fastest"
    assert verdicts["best"] == "dropped: within the tie, but slower"
    assert verdicts["weak"] == "dropped: 1.10 points behind the best"


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
    assert dropout["95% CI of that change"] == pytest.approx(12.706 * dropout["sd of that change"] / np.sqrt(2), rel=1e-3)
    vote = table.loc["without the mirror vote"]
    assert vote["test change, as predicted"] == pytest.approx(-0.55) and vote["validation change"] == pytest.approx(-0.1)
    assert np.isnan(vote["test change, one view"])


def test_the_tutorial_protocol_trains_the_architecture_as_published(monkeypatch):
    built = {}

    def recording_builder(**arguments):
        built.update(arguments)
        return helpers.models.deep_narrow_cnn(**arguments)

    tiny = np.zeros((8, 28, 28, 1), dtype="float32"), np.arange(8) % 10
    monkeypatch.setitem(helpers.models.BUILDERS, "deep_narrow_cnn", recording_builder)
    monkeypatch.setattr(studies, "tutorial_protocol_data", lambda model_id, subset=None: (*tiny, *tiny))
    row = studies.run_tutorial_protocol("deep_narrow_cnn", seed=0, epochs=1)
    assert built == {"relu_on_all": False}
    assert row["protocol"] == "tutorial" and row["epochs"] == 1


def test_prediction_interval_is_wider_than_the_confidence_interval_of_the_mean():
    runs = [0.858, 0.860, 0.861, 0.863]
    one_more = studies.prediction_interval(runs)
    sd = np.std(runs, ddof=1)
    assert one_more["reach"] == pytest.approx(stats.t.ppf(0.975, 3) * sd * np.sqrt(1.25))
    assert one_more["high"] == pytest.approx(np.mean(runs) + one_more["reach"])
    assert one_more["reach"] > studies.mean_and_interval(runs)["ci95"] * 2  # sqrt(n + 1) times as wide
    with pytest.raises(ValueError, match="at least two runs"):
        studies.prediction_interval([0.9])


def test_welch_critical_value_matches_scipys_welch_test():
    a, b = np.array([0.8966, 0.8987, 0.8972]), np.array([0.8860, 0.8961, 0.8910])
    welch = stats.ttest_ind(a, b, equal_var=False)
    expected = stats.t.ppf(0.975, welch.df)
    assert studies.welch_critical_value(a.std(ddof=1), 3, b.std(ddof=1), 3) == pytest.approx(expected)
    assert expected > 3.5  # very unequal spreads: close to t with 2 degrees of freedom, not 2
    with pytest.raises(ValueError, match="at least two runs a side"):
        studies.welch_critical_value(0.01, 1, 0.01, 3)
    with pytest.raises(ValueError, match="no spread"):
        studies.welch_critical_value(0.0, 3, 0.0, 3)


def test_rows_read_from_a_chapter_follow_its_results_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    chapter = {"model": "m", "seed": 42, "from": "05.ipynb", "train_seconds": 90.0}
    study.add(dict(chapter))
    study.add({"model": "m", "seed": 1, "train_seconds": 80.0})  # a study run: left alone
    rerun = {**chapter, "train_seconds": 99.0}
    monkeypatch.setattr(run_studies, "chapter_row", lambda model_id: rerun)
    run_studies.refresh_chapter_rows(study)
    saved = json.loads((tmp_path / "results/quick/fashion_mnist/demo.json").read_text())
    assert saved["runs"] == [rerun, {"model": "m", "seed": 1, "train_seconds": 80.0}]


def test_the_reproduction_studys_chapter_rows_are_the_chapters_runs():
    study = results.read_study("reproduction", verbose=False)
    from_chapters = [run for run in study["runs"] if run.get("from")]
    assert from_chapters, "the book-protocol runs with the chapters' seed come from their results files"
    for run in from_chapters:
        assert run == run_studies.chapter_row(run["model"]), (
            f"{run['model']}: the chapter was re-run; refresh the study with "
            "`python scripts/run_studies.py --full reproduction`")

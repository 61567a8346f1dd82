"""Tests of helpers.results: where results files go, what a run's record
holds (`record_run`), the one rule for a quick run, the
study files, and the results the book ships."""

import json
import typing

import keras
import numpy as np
import pytest

from conftest import ROOT
from helpers import machine, models, results, splitting, training, uncertainty


def record(model="m"):
    return {"model": model, "params": 10, "epochs": 1, "batch_size": 32, "train_seconds": 1.0,
            "seconds_per_epoch": 1.0, "train_accuracy": 0.5, "val_accuracy": 0.5,
            "test_accuracy": 0.5, "test_loss": 1.0, "reported_test_accuracy": None}


def images(n):
    """n blank images that take no memory: only their number matters to the quick rule."""
    return np.broadcast_to(np.zeros((1, 28, 28, 1), "float32"), (n, 28, 28, 1))


def splits_of(train, validation, test=20):
    return splitting.Splits(images(train), np.zeros(train, int), images(validation), np.zeros(validation, int),
                            np.zeros((test, 28, 28, 1), "float32"), np.arange(test) % 10)


def fake_run(model, epochs, val_accuracy=None, seconds=1.0):
    """A TrainingRun filled in by hand: what a fit of `epochs` epochs returns."""
    val_accuracy = val_accuracy or [0.5] * epochs
    history = {"loss": [1.0] * epochs, "accuracy": [0.5] * epochs, "val_loss": [1.0] * epochs,
               "val_accuracy": list(val_accuracy)}
    return training.TrainingRun(model, history, [seconds] * epochs, seconds * epochs + 0.3)


def small_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])


# --- where results files go ------------------------------------------------------------


def test_results_go_to_the_repository_and_quick_runs_elsewhere(fake_checkout):
    checkout = fake_checkout.parent
    full = results.write_results(record(), quick=False, start=fake_checkout)
    quick = results.write_results(record(), quick=True, start=fake_checkout)
    assert full == checkout / "results" / "fashion_mnist" / "m.json"
    assert quick == checkout / "results" / "quick" / "fashion_mnist" / "m.json"
    saved = json.loads(full.read_text())
    assert saved["quick"] is False and json.loads(quick.read_text())["quick"] is True
    assert {"keras_backend", "keras_version", "tensorflow_version", "device", "date"} <= set(saved)
    table = results.read_results(["m"], start=fake_checkout)
    assert table.loc["m", "test_accuracy"] == 0.5


def test_results_outside_a_checkout_go_below_the_working_folder(tmp_path):
    assert results.project_root(tmp_path) is None  # like /content on Colab
    assert results.results_dir(False, start=tmp_path) == tmp_path / "results" / "fashion_mnist"
    assert results.results_dir(True, start=tmp_path) == tmp_path / "results" / "quick" / "fashion_mnist"


def test_a_record_without_a_required_field_is_refused_by_name(fake_checkout):
    for field in results.REQUIRED_FIELDS:
        incomplete = record()
        del incomplete[field]
        with pytest.raises(ValueError, match=field):
            results.write_results(incomplete, quick=False, start=fake_checkout)


def test_the_required_fields_are_fields_of_a_run_record():
    assert set(results.REQUIRED_FIELDS) <= set(typing.get_type_hints(results.RunRecord))


def test_read_results_prefers_this_runtimes_files_and_falls_back_to_the_shipped_ones(tmp_path, capsys):
    # On a fresh Colab runtime only the chapter's own runs exist: the others
    # come from the book's full runs inside the package, and each line says which.
    results.write_results(record("strided_cnn"), quick=True, start=tmp_path)
    table = results.read_results(["dense_baseline", "strided_cnn"], quick=True, start=tmp_path)
    assert list(table.index) == ["dense_baseline", "strided_cnn"]
    assert table["params"].dtype.kind == "i"  # no gaps that turn counts into floats
    assert table.loc["strided_cnn", "params"] == 10
    shipped = json.loads((results.shipped_dir() / "dense_baseline.json").read_text())
    assert table.loc["dense_baseline", "test_accuracy"] == shipped["test_accuracy"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("dense_baseline") and "full run" in lines[0]
    assert lines[1].startswith("strided_cnn") and "quick run" in lines[1]
    with pytest.raises(ValueError, match="model_ids"):
        results.read_results([], start=tmp_path)


def test_a_missing_results_file_names_the_model_and_the_chapter_that_writes_it(fake_checkout):
    results.write_results(record("strided_cnn"), quick=False, start=fake_checkout)
    assert results.read_result("strided_cnn", start=fake_checkout)["params"] == 10
    with pytest.raises(FileNotFoundError) as error:
        results.read_result("strided_cnn", quick=True, start=fake_checkout, fallback=False)
    assert "strided_cnn" in str(error.value) and models.CHAPTERS["strided_cnn"] in str(error.value)
    with pytest.raises(FileNotFoundError, match="mystery"):
        results.read_result("mystery", start=fake_checkout)  # nothing shipped either
    with pytest.raises(FileNotFoundError, match="'m'"):
        results.read_results(["m"], start=fake_checkout, fallback=False)


# --- one run's record ------------------------------------------------------------------


def test_record_run_keeps_the_runs_history_and_times(fake_checkout, monkeypatch):
    monkeypatch.chdir(fake_checkout)
    model = small_model()
    run = fake_run(model, 2, val_accuracy=[0.41234567, 0.5], seconds=2.0)
    splits = splits_of(300, 100)
    rec = results.record_run("dense_baseline", run, splits, batch_size=64, seed=0, test_loss=1.2,
                             test_accuracy=0.45)
    assert rec["params"] == model.count_params() and rec["epochs"] == 2 and rec["seed"] == 0
    assert rec["train_images"] == 300 and rec["validation_images"] == 100
    assert rec["history"]["seconds"] == [2.0, 2.0] and rec["history"]["val_accuracy"] == [0.41235, 0.5]
    assert rec["train_seconds"] == round(run.fit_seconds, 1) and rec["val_accuracy"] == 0.5
    assert rec["test_accuracy"] == 0.45 and rec["test_loss"] == 1.2
    settings = models.TUTORIAL_SETTINGS["dense_baseline"]
    assert rec["tutorial_epochs"] == settings["epochs"]
    assert rec["reported_test_accuracy"] == settings["reported_test_accuracy"]
    assert rec["device"] == machine.device_description() and rec["quick"] is True
    saved = fake_checkout.parent / "results" / "quick" / "fashion_mnist" / "dense_baseline.json"
    assert json.loads(saved.read_text()) == rec
    assert not (fake_checkout.parent / "results" / "fashion_mnist").exists()


@pytest.mark.needs_real_data
def test_record_run_of_a_run_trained_as_chapter_5_does(fake_checkout, monkeypatch):
    # Seed, build, compile, fit with the epoch logger, evaluate, record.
    monkeypatch.chdir(fake_checkout)
    splits = splitting.load_splits(validation_size=100, train_subset=300)
    training.set_seed(0)
    model = models.dense_baseline()
    training.compile_for(model)
    logger = training.epoch_logger(1)
    history = model.fit(splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
                        epochs=1, batch_size=64, verbose=0, callbacks=[logger])
    test_loss, test_accuracy = model.evaluate(splits.x_test, splits.y_test, verbose=0)
    run = training.TrainingRun.from_fit(history, logger)
    rec = results.record_run("dense_baseline", run, splits, 64, 0, test_loss, test_accuracy)
    assert rec["params"] == 59130 and rec["train_images"] == 300 and rec["epochs"] == 1
    assert rec["history"]["val_accuracy"] == [round(history.history["val_accuracy"][0], 5)]
    assert rec["train_seconds"] == round(logger.fit_seconds, 1)
    assert rec["test_accuracy"] == pytest.approx(test_accuracy) and rec["quick"] is True


@pytest.mark.parametrize("model_id", ["dense_baseline", "wide_cnn_bn"])
def test_full_runs_need_all_images_and_the_tutorial_epochs(fake_checkout, monkeypatch, model_id):
    settings = models.TUTORIAL_SETTINGS[model_id]
    monkeypatch.chdir(fake_checkout)
    model = small_model()

    def record_fake_run(splits, epochs, batch_size):
        return results.record_run(model_id, fake_run(model, epochs), splits, batch_size, 0, 1.0, 0.5)

    n_val = settings["validation_size"]
    full, smaller = splits_of(60000 - n_val, n_val), splits_of(1000, n_val)
    batch = settings["batch_size"]
    assert record_fake_run(full, settings["epochs"], batch)["quick"] is False
    assert record_fake_run(full, settings["epochs"] - 1, batch)["quick"] is True
    assert record_fake_run(full, settings["epochs"], batch * 2)["quick"] is True
    assert record_fake_run(smaller, settings["epochs"], batch)["quick"] is True
    assert (fake_checkout.parent / "results" / "fashion_mnist" / f"{model_id}.json").is_file()


@pytest.mark.parametrize("model_id", ["strided_cnn", "dense_baseline"])
def test_one_quick_rule_for_the_tutorials_models(model_id):
    full = models.TUTORIAL_SETTINGS[model_id]
    epochs, batch = full["epochs"], full["batch_size"]
    assert not results.is_quick_run(model_id, splits_of(54000, 6000), epochs, batch)
    assert not results.is_quick_run(model_id, splits_of(54000, 6000), epochs + 1, batch)
    assert results.is_quick_run(model_id, splits_of(53990, 6000), epochs, batch)
    assert results.is_quick_run(model_id, splits_of(54000, 6000), epochs - 1, batch)
    assert results.is_quick_run(model_id, splits_of(54000, 6000), epochs, batch + 1)


def test_the_quick_rule_refuses_a_model_without_full_settings():
    with pytest.raises(ValueError, match="'tiny'"):
        results.is_quick_run("tiny", splits_of(54000, 6000), 10, 32)


# --- study files -----------------------------------------------------------------------


def test_write_study_keeps_rows_and_machine_and_separates_quick_runs(fake_checkout):
    checkout = fake_checkout.parent
    rows = [{"model": "m", "seed": 1, "test_accuracy": 0.5}]
    full = results.write_study("seed_study", rows, quick=False, start=checkout)
    quick = results.write_study("seed_study", rows, quick=True, start=checkout)
    assert full == checkout / "results" / "fashion_mnist" / "seed_study.json"
    assert quick == checkout / "results" / "quick" / "fashion_mnist" / "seed_study.json"
    saved = json.loads(full.read_text())
    assert saved["rows"] == rows and saved["quick"] is False and saved["device"]


def write_study(folder, name, quick=False):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(
        {"study": name, "quick": quick, "date": "2026-01-01", "device": "a CPU", "runs": [{}, {}], "rows": []}))


def test_read_study_prefers_this_checkouts_file_and_names_it(tmp_path, capsys):
    write_study(tmp_path / "results" / "fashion_mnist", "demo")
    study = results.read_study("demo", start=tmp_path)
    assert study["study"] == "demo"
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and "results/fashion_mnist/demo.json" in line
    assert all(fact in line for fact in ("2026-01-01", "a CPU", "2 runs"))


def test_read_study_counts_a_searchs_candidates(tmp_path, capsys):
    folder = tmp_path / "results" / "fashion_mnist"
    folder.mkdir(parents=True)
    (folder / "search.json").write_text(json.dumps({"study": "search", "candidates": [{}, {}, {}]}))
    results.read_study("search", start=tmp_path)
    assert "3 candidates" in capsys.readouterr().out


def test_read_study_dates_a_study_by_its_runs_and_names_every_machine(tmp_path, capsys):
    folder = tmp_path / "results" / "fashion_mnist"
    folder.mkdir(parents=True)
    candidates = [{"date": "2026-12-03"}, {"date": "2026-12-03"},
                  {"date": "2026-12-04", "device": "CPU B"}, {"date": "2026-12-04", "device": "CPU A"}]
    (folder / "search.json").write_text(json.dumps({"device": "CPU A", "candidates": candidates}))
    results.read_study("search", start=tmp_path)
    assert "(2026-12-03 to 2026-12-04, CPU A; 1 candidate on CPU B, 4 candidates)" in capsys.readouterr().out
    (folder / "plain.json").write_text(json.dumps({"runs": [{}]}))
    results.read_study("plain", start=tmp_path)
    assert "(undated, unknown machine, 1 run)" in capsys.readouterr().out


def test_read_study_falls_back_to_the_shipped_copy_and_refuses_quick_studies(tmp_path, capsys, monkeypatch):
    # A quick study in this checkout is not read: studies are full runs only.
    write_study(tmp_path / "results" / "quick" / "fashion_mnist", "reproduction", quick=True)
    study = results.read_study("reproduction", start=tmp_path)
    shipped = json.loads((results.shipped_dir() / "reproduction.json").read_text())
    assert study == shipped
    assert "helpers/book_results/fashion_mnist/reproduction.json" in capsys.readouterr().out
    write_study(tmp_path / "results" / "fashion_mnist", "odd", quick=True)
    with pytest.raises(ValueError, match="quick"):
        results.read_study("odd", start=tmp_path)
    monkeypatch.setattr(results, "shipped_dir", lambda dataset="fashion_mnist": tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="reproduction"):
        results.read_study("reproduction", start=tmp_path)


# --- the results the book ships --------------------------------------------------------


def test_the_shipped_results_equal_the_repositorys_results_files():
    # scripts/sync_book_results.py copies them; this fails until it is run.
    committed = {p.name: p.read_bytes() for p in (ROOT / "results" / "fashion_mnist").glob("*.json")}
    shipped = {p.name: p.read_bytes() for p in results.shipped_dir().glob("*.json")}
    assert committed and shipped == committed, (
        "helpers/book_results differs from results/: run scripts/sync_book_results.py")


def test_committed_results_files_are_full_runs_with_every_field():
    # The comparison chapter reads these files; they must come from full runs.
    required = {*results.REQUIRED_FIELDS, "keras_backend", "tensorflow_version", "keras_version",
                "device", "quick", "date", "history"}
    for model_id, settings in models.TUTORIAL_SETTINGS.items():
        record = results.read_result(model_id, start=ROOT, fallback=False, verbose=False)
        assert required <= set(record), (model_id, required - set(record))
        assert record["quick"] is False and record["model"] == model_id
        assert record["train_images"] + record["validation_images"] == 60000
        assert len(record["history"]["seconds"]) == record["epochs"] >= settings["epochs"]
        assert record["batch_size"] == settings["batch_size"]
        assert record["params"] == models.build_model(model_id).count_params()
        assert record["reported_test_accuracy"] == settings["reported_test_accuracy"]
        assert record["test_accuracy"] > 0.8  # a trained model, not a quick one


def test_committed_seed_study_has_chapter_5s_seed_and_three_more_per_model():
    # Chapter 9 trains its own seed-42 runs (so that it runs alone) and says
    # they are chapter 5's models: on the machine of the stored runs they are.
    study = json.loads((ROOT / "results" / "fashion_mnist" / "seed_study.json").read_text())
    assert study["quick"] is False
    for model_id in ("dense_baseline", "strided_cnn"):
        rows = {row["seed"]: row for row in study["rows"] if row["model"] == model_id}
        assert len(rows) >= 4 and 42 in rows
        chapter_5 = results.read_result(model_id, start=ROOT, fallback=False, verbose=False)
        if chapter_5["device"] == study["device"]:
            # The same images right: one is a count / 10,000, the other Keras' float32.
            assert rows[42]["test_accuracy"] == pytest.approx(chapter_5["test_accuracy"], abs=1e-6)


@pytest.mark.parametrize("name", ["book_cnn_fast", "book_cnn"])
def test_committed_book_recipes_were_chosen_on_validation_and_scored_on_fresh_seeds(name):
    # Chapter 11's headlines: the published studies of bookkit.rebuild.
    from bookkit import rebuild

    study = results.read_study(name, start=ROOT, verbose=False)
    assert study["selection"] == "validation" and "quick" not in study
    seeds = [run["seed"] for run in study["runs"]]
    assert len(seeds) >= 5 and set(seeds) <= set(rebuild.TEST_SEEDS)
    assert all(run["epochs_trained"] == study["planned_epochs"] for run in study["runs"])  # whole schedules
    assert study["test_accuracy_one_view"] == pytest.approx(
        np.mean([run["test_accuracy_one_view"] for run in study["runs"]]))
    development = results.read_study("book_cnn_development", start=ROOT, verbose=False)
    assert not set(rebuild.TEST_SEEDS) & {c["seed"] for c in development["candidates"]}
    assert not any("test" in key for c in development["candidates"] for key in c)


def test_committed_ablation_is_paired_on_the_recipes_seeds_with_its_correction_named():
    # Chapter 11's ablation reads the published file and recomputes its table
    # from the runs with uncertainty.paired_ablation, as the rebuild wrote them.
    study = results.read_study("book_cnn_ablation", start=ROOT, verbose=False)
    recipe_runs = results.read_study(study["paired_with"], start=ROOT, verbose=False)["runs"]
    assert study["correction"] == "Holm" and "quick" not in study
    assert all(len(row["seeds"]) >= 5 for row in study["rows"])
    assert all(run["epochs_trained"] == study["planned_epochs"] for run in study["runs"])
    recomputed = uncertainty.paired_ablation(recipe_runs, study["runs"])
    assert [row["ingredient"] for row in recomputed] == [row["ingredient"] for row in study["rows"]]
    for mine, theirs in zip(recomputed, study["rows"]):
        assert mine["p_value_holm"] == pytest.approx(theirs["p_value_holm"])
        assert mine["mean_difference"] == pytest.approx(theirs["mean_difference"])


def robustness_rows():
    return [{"model": model, "perturbation": "rotation", "level": level, "seed": seed,
             "test_accuracy": 0.9 - level / 100 - seed / 1000}
            for model in ("dense_baseline", "book_cnn") for seed in (2, 1) for level in (0, 10, 20)] + [
        {"model": "book_cnn", "perturbation": "occlusion", "level": "centre", "seed": 1, "test_accuracy": 0.5}]


def test_write_robustness_keeps_the_rows_and_every_seeds_curve_per_model_and_perturbation(fake_checkout):
    path = results.write_robustness(robustness_rows(), quick=True, start=fake_checkout, seeds=[2, 1])
    assert path == fake_checkout.parent / "results" / "quick" / "fashion_mnist" / "robustness.json"
    saved = json.loads(path.read_text())
    assert saved["study"] == "robustness" and saved["quick"] is True and saved["seeds"] == [2, 1]
    assert len(saved["rows"]) == 13
    rotation = saved["curves"]["book_cnn"]["rotation"]
    assert rotation["levels"] == [0, 10, 20] and rotation["seeds"] == [2, 1]
    assert rotation["test_accuracy"] == {"2": [0.898, 0.798, 0.698], "1": [0.899, 0.799, 0.699]}
    assert saved["curves"]["book_cnn"]["occlusion"] == {
        "levels": ["centre"], "seeds": [1], "test_accuracy": {"1": [0.5]}}
    assert set(saved["curves"]) == {"dense_baseline", "book_cnn"}
    full = results.write_robustness(robustness_rows(), quick=False, start=fake_checkout)
    assert full.parent == fake_checkout.parent / "results" / "fashion_mnist"


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows.clear(), "rows is empty"),
    (lambda rows: rows[0].pop("seed"), "row 0 lacks seed"),
    (lambda rows: rows.append(dict(rows[0])), "a second time"),
    (lambda rows: rows[1].update(test_accuracy=1.5), "row 1: test_accuracy must lie in \\[0, 1\\], got 1.5"),
    (lambda rows: rows.pop(4), r"seed 1 has no measurement at level\(s\) \[10\]"),
])
def test_write_robustness_refuses_incomplete_or_doubled_measurements(fake_checkout, change, message):
    rows = robustness_rows()
    change(rows)
    with pytest.raises(ValueError, match=message):
        results.write_robustness(rows, quick=True, start=fake_checkout)
    assert not (fake_checkout.parent / "results").exists()

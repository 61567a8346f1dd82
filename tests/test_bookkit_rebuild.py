"""Tests of bookkit.rebuild, which runs the declared search and keeps every
run: its resumable study files, and a quick run of the whole rebuild (the
search, then the frozen recipes on the test seeds), written below a
temporary folder, never into the repository."""

import json

import pytest

from bookkit import rebuild, search
from conftest import ROOT
from helpers import machine


@pytest.fixture
def rebuild_root(tmp_path, monkeypatch):
    """bookkit.rebuild writes its study files below this folder instead of the repository."""
    monkeypatch.setattr(rebuild, "ROOT", tmp_path)
    return tmp_path


def test_study_paths_keep_quick_runs_apart(rebuild_root):
    assert rebuild.study_path("demo", quick=False) == rebuild_root / "results" / "rebuild" / "demo.json"
    assert rebuild.study_path("demo", quick=True) == rebuild_root / "results" / "quick" / "rebuild" / "demo.json"


def test_a_study_file_writes_every_run_at_once_and_resumes(rebuild_root, capsys):
    path = rebuild.study_path("demo", quick=True)
    study = rebuild.StudyFile(path)
    assert study.runs == [] and study.find(seed=1) is None and not path.exists()
    added = study.add({"seed": 1, "settings": {"dropout": 0.5}, "val_accuracy": 0.9})
    assert added["seed"] == 1 and {"load", "date", "device"} <= set(added)
    assert capsys.readouterr().out.startswith("demo: ")  # one line per run, as it ends
    again = rebuild.StudyFile(path)  # an interrupted study, started again
    assert again.runs == [added] and again.find(settings={"dropout": 0.5}) == added
    assert again.find(seed=2) is None and again.find(seed=1, settings={"dropout": 0.3}) is None
    saved = json.loads(path.read_text())
    assert saved["device"] == machine.device_description()
    assert saved["keras_version"] == machine.library_versions()["keras_version"]


def test_saving_keeps_the_fields_of_earlier_saves(rebuild_root):
    path = rebuild.study_path("demo", quick=False)
    rebuild.StudyFile(path).save(selection="validation")
    study = rebuild.StudyFile(path)
    study.save(recipe={"dropout": 0.5})
    saved = json.loads(path.read_text())
    assert saved["selection"] == "validation" and saved["recipe"] == {"dropout": 0.5} and saved["runs"] == []


def test_the_frozen_recipe_trains_for_the_epochs_planned_in_its_development_run(rebuild_root):
    study = rebuild.StudyFile(rebuild.study_path("book_cnn_development", quick=True))
    candidate = search.Candidate(dropout=0.3)
    study.add({"settings": candidate.settings(), "budget_seconds": 180, "seed": 0, "planned_epochs": 7})
    study.add({"settings": candidate.settings(), "budget_seconds": 600, "seed": 0, "planned_epochs": 21})
    assert rebuild.frozen_epochs(study, candidate, 180) == 7
    assert rebuild.frozen_epochs(study, candidate, 600) == 21


def test_the_command_line_asks_for_a_stage(capsys):
    with pytest.raises(SystemExit):
        rebuild.main(["--quick"])
    with pytest.raises(SystemExit):
        rebuild.main(["--quick", "everything"])
    assert "everything" in capsys.readouterr().err


def files_below(folder):
    """{path: modification time} of every file below `folder`."""
    return {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()} \
        if folder.is_dir() else {}


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.needs_real_data
def test_a_quick_rebuild_searches_then_scores_the_frozen_recipes_and_resumes(rebuild_root):
    # Where a quick rebuild writes by default (the full one, results/rebuild/, may be running meanwhile).
    repository_quick = ROOT / "results" / "quick" / "rebuild"
    before = files_below(repository_quick)
    rebuild.main(["--quick", "search", "headline", "ablation", "dense"])
    folder = rebuild_root / "results" / "quick" / "rebuild"
    studies = {path.stem: json.loads(path.read_text()) for path in folder.glob("*.json")}
    assert set(studies) == {"book_cnn_development", "book_cnn_fast", "book_cnn", "book_cnn_ablation",
                            "book_dense"}

    development = studies["book_cnn_development"]
    fields = set(search.Candidate().settings())
    assert set(development["fast_recipe"]) == fields and set(development["full_recipe"]) == fields
    assert development["selection"] == "validation" and development["started_from"] == search.STARTED_FROM
    assert set(development["search_space"]) == set(development["budgets"]) == {"3 minutes", "10 minutes"}
    runs = development["runs"]
    # The start, the first QUICK["stages"] stages and the precision stage of each search, each on the
    # development seeds; the amendment that added the precision stage is on file.
    assert len({run["stage"] for run in runs}) == 2 * (1 + rebuild.QUICK["stages"] + 1)
    assert {run["stage"] for run in runs} >= {"3 minutes: precision", "10 minutes: precision"}
    assert development["amendments"] == list(search.AMENDMENTS)
    assert {run["seed"] for run in runs} == set(search.DEVELOPMENT_SEEDS)
    assert {run["budget_seconds"] for run in runs} == {search.FAST_BUDGET_SECONDS, search.FULL_BUDGET_SECONDS}
    assert all(run["planned_epochs"] == run["epochs_trained"] == 1 for run in runs)  # quick: one epoch
    assert all(0 <= run["val_accuracy"] <= 1 for run in runs)
    assert not any("test" in key for run in runs for key in run)  # no candidate sees the test set
    # One decision per stage tried, each with the incumbent it had to beat: the 3-minute search's
    # decisions first, then the 10-minute one's, each in the order its stages ran (the 3-minute
    # precision stage runs after the 10-minute search, which starts from the float32 winner).
    tried = dict.fromkeys(run["stage"] for run in runs if not run["stage"].endswith(": start"))
    assert [d["stage"] for d in development["decisions"]] == sorted(
        tried, key=lambda stage: not stage.startswith("3 minutes"))
    assert development["planned_share"] == search.PLANNED_SHARE and development["keep_margin"] == search.KEEP_MARGIN

    for name, recipe in (("book_cnn_fast", "fast_recipe"), ("book_cnn", "full_recipe")):
        headline = studies[name]
        assert headline["recipe"] == development[recipe] and headline["selection"] == "validation"
        assert [run["seed"] for run in headline["runs"]] == list(rebuild.TEST_SEEDS[:rebuild.QUICK["seeds"]])
        assert all(0 <= run["test_accuracy"] <= 1 for run in headline["runs"])
        assert headline["test_accuracy"] == pytest.approx(
            sum(run["test_accuracy"] for run in headline["runs"]) / len(headline["runs"]))

    ablation = studies["book_cnn_ablation"]
    full = search.Candidate(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in development["full_recipe"].items()})
    assert {run["ingredient"] for run in ablation["runs"]} == set(search.ingredients(full))
    assert ablation["correction"] == "Holm" and ablation["paired_with"] == "book_cnn"
    assert [row["ingredient"] for row in ablation["rows"]] == list(search.ingredients(full))
    assert ablation["sign_test"]["rows"] == len(ablation["rows"])

    dense = studies["book_dense"]
    assert {(run["budget_seconds"], run["seed"]) for run in dense["runs"]} == {
        (budget, seed) for budget in (search.FAST_BUDGET_SECONDS, search.FULL_BUDGET_SECONDS)
        for seed in rebuild.TEST_SEEDS[:rebuild.QUICK["seeds"]]}
    assert set(dense["planned_epochs"]) == {"3 minutes", "10 minutes"}

    # Started again, it finds every run on file and trains nothing.
    rebuild.main(["--quick", "search", "headline", "ablation", "dense"])
    for path in folder.glob("*.json"):
        assert json.loads(path.read_text())["runs"] == studies[path.stem]["runs"], path.name
    assert files_below(repository_quick) == before  # nothing written into the repository


def test_an_architecture_is_timed_once_and_its_epoch_seconds_reused(rebuild_root, monkeypatch):
    timings = []

    def measure(candidate, splits, epochs=6, builder=None):
        timings.append(candidate)
        return 10.0 + len(timings)

    monkeypatch.setattr(search, "measure_epoch_seconds", measure)
    study = rebuild.StudyFile(rebuild.study_path("book_cnn_development", quick=False))
    first = search.Candidate(head="dense")
    assert rebuild.epoch_seconds(study, first, splits=None) == 11.0
    # Dropout and label smoothing leave the work per image alone: the same timing.
    assert rebuild.epoch_seconds(study, first.changed(dropout=0.3, label_smoothing=0.1), None) == 11.0
    assert rebuild.epoch_seconds(study, first.changed(head="gap"), None) == 12.0
    assert len(timings) == 2
    again = rebuild.StudyFile(study.path)  # kept in the file, with the load it was timed under
    assert rebuild.epoch_seconds(again, first, None) == 11.0 and len(timings) == 2
    # A run plans the epochs that fit in its share of the budget; a quick one times nothing.
    assert rebuild.plan(again, first, None, budget=180, quick=False) == (11.0, int(search.PLANNED_SHARE * 180 // 11.0))
    assert rebuild.plan(again, first.changed(head="flatten"), None, budget=180, quick=True) == (None, 1)
    assert len(timings) == 2
    assert all({"seconds", "load", "date"} == set(entry) for entry in again.content["epoch_seconds"].values())


def test_the_precision_stage_plans_its_epochs_from_a_speed_ratio_timed_side_by_side(rebuild_root, monkeypatch,
                                                                                    tiny_splits):
    timed, trained = [], []

    def interleaved(runs, epochs, seed):
        timed.append((sorted(runs), epochs))
        # float32 takes 8 s an epoch and bfloat16 5 s, but for one slow spell of 20 s on each.
        return {"float32": {"seconds": [9.0] + [8.0] * (epochs - 2) + [20.0]},
                "mixed_bfloat16": {"seconds": [6.0, 20.0] + [5.0] * (epochs - 2)}}

    def train(candidate, splits, seed, epochs, builder=None):
        trained.append((candidate.precision, epochs))
        raise RuntimeError("stop here")

    monkeypatch.setattr(rebuild.speed, "interleaved_training", interleaved)
    monkeypatch.setattr(search, "train", train)
    monkeypatch.setattr(rebuild.speed, "cpu_supports_bfloat16", lambda: True)
    study = rebuild.StudyFile(rebuild.study_path("book_cnn_development", quick=False))
    incumbent = search.Candidate(head="dense", filters=(4, 8))
    # The incumbent's epoch was timed on an earlier day at 6 s.
    study.save(epoch_seconds={json.dumps(search.cost_key(incumbent.settings())): {"seconds": 6.0}})
    with pytest.raises(RuntimeError, match="stop here"):
        rebuild.precision_stage(study, tiny_splits, incumbent, 0.9, 180, "3 minutes", quick=False)
    assert timed == [(["float32", "mixed_bfloat16"], rebuild.PRECISION_TIMING_EPOCHS)]
    (timing,) = study.content["precision_timing"].values()
    # Round by round, the median ratio: the slow spells fall in different rounds and do not move it.
    assert timing["speed_up"] == 1.6 and timing["speed_up_min"] == 0.4
    # 6 s / 1.6 = 3.75 s an epoch: the epochs that fit in the planned share of 180 s.
    assert trained == [("mixed_bfloat16", search.planned_epochs(6.0 / 1.6, 180))]
    with pytest.raises(RuntimeError, match="stop here"):  # the ratio is kept: not timed again
        rebuild.precision_stage(rebuild.StudyFile(study.path), None, incumbent, 0.9, 600, "10 minutes", False)
    assert len(timed) == 1



def test_the_precision_stage_refuses_a_cpu_without_bfloat16(rebuild_root, monkeypatch):
    monkeypatch.setattr(rebuild.speed, "cpu_supports_bfloat16", lambda: False)
    study = rebuild.StudyFile(rebuild.study_path("book_cnn_development", quick=False))
    with pytest.raises(SystemExit, match="bfloat16"):
        rebuild.precision_stage(study, None, search.Candidate(), 0.9, 180, "3 minutes", quick=False)


def test_a_study_file_of_another_recipe_is_refused_not_taken_as_done(rebuild_root):
    study = rebuild.StudyFile(rebuild.study_path("book_cnn", quick=False))
    study.save(recipe=search.Candidate().settings())
    rebuild.check_recipe(study, search.Candidate())  # the same recipe: its runs count
    with pytest.raises(SystemExit, match="move it aside"):
        rebuild.check_recipe(study, search.Candidate(precision="mixed_bfloat16"))


def test_a_held_rebuild_waits_until_the_hold_file_is_removed(tmp_path, monkeypatch, capsys):
    hold = tmp_path / "hold"
    monkeypatch.setenv("REBUILD_HOLD_FILE", str(hold))
    rebuild.wait_while_held()  # no file: goes straight on
    assert capsys.readouterr().out == ""
    hold.touch()
    sleeps = []

    def remove_after_two_polls(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            hold.unlink()

    monkeypatch.setattr(rebuild.time, "sleep", remove_after_two_polls)
    rebuild.wait_while_held(poll_seconds=3)
    assert sleeps == [3, 3]
    assert capsys.readouterr().out == f"held: waiting until {hold} is removed\nreleased\n"


def test_every_run_waits_while_held_before_it_trains(rebuild_root, monkeypatch):
    # Also a run whose architecture's epoch is already timed, and the scored runs.
    calls = []
    monkeypatch.setattr(rebuild, "wait_while_held", lambda: calls.append("wait"))

    def train(candidate, splits, seed, epochs, builder=None):
        calls.append("train")
        raise RuntimeError("stop here")

    monkeypatch.setattr(search, "train", train)
    study = rebuild.StudyFile(rebuild.study_path("book_cnn_development", quick=False))
    candidate = search.Candidate()
    study.save(epoch_seconds={json.dumps(search.cost_key(candidate.settings())): {"seconds": 10.0}})
    with pytest.raises(RuntimeError, match="stop here"):
        rebuild.development_run(study, None, candidate, "3 minutes: start", "none", 180, quick=False)
    with pytest.raises(RuntimeError, match="stop here"):
        rebuild.scored_run(candidate, None, seed=101, epochs=3)
    assert calls == ["wait", "train", "wait", "train"]


def test_candidates_are_marked_with_the_incumbent_they_had_to_beat():
    runs = [{"stage": "3 minutes: start", "change": "none", "val_accuracy": 0.90},
            {"stage": "3 minutes: width", "change": "a", "val_accuracy": 0.91},
            {"stage": "3 minutes: width", "change": "b", "val_accuracy": 0.93},
            {"stage": "3 minutes: head", "change": "c", "val_accuracy": 0.931}]
    decisions = [{"stage": "3 minutes: width", "incumbent_accuracy": 0.90, "best_change": "b",
                  "best_accuracy": 0.93, "kept": True},
                 {"stage": "3 minutes: head", "incumbent_accuracy": 0.93, "best_change": "c",
                  "best_accuracy": 0.931, "kept": False}]
    marked = rebuild.marked_candidates(runs, decisions)
    assert [run["kept"] for run in marked] == [True, False, True, False]
    assert [run["incumbent_accuracy"] for run in marked] == [0.90, 0.90, 0.90, 0.93]
    with pytest.raises(ValueError, match="no decision on file for stage '3 minutes: head'"):
        rebuild.marked_candidates(runs, decisions[:1])


def test_publish_copies_finished_studies_only_and_names_the_candidates(rebuild_root):
    with pytest.raises(SystemExit, match="not finished yet: book_cnn_development"):
        rebuild.publish(quick=True)
    for name, field in rebuild.FINISHED_WHEN.items():
        study = rebuild.StudyFile(rebuild.study_path(name, quick=True))
        study.add({"seed": 1, "stage": "3 minutes: start", "change": "none", "val_accuracy": 0.9})
        if name != "book_cnn_ablation":
            study.save(**{field: "done"})
    with pytest.raises(SystemExit, match="not finished yet: book_cnn_ablation;"):
        rebuild.publish(quick=True)
    only = rebuild.publish(quick=True, names=["book_cnn", "book_dense"])  # the finished ones may go alone
    assert [path.stem for path in only] == ["book_cnn", "book_dense"]
    with pytest.raises(SystemExit, match="unknown study name"):
        rebuild.publish(quick=True, names=["book_seeds"])
    rebuild.StudyFile(rebuild.study_path("book_cnn_ablation", quick=True)).save(rows=[])
    written = rebuild.publish(quick=True)
    assert [path.stem for path in written] == list(rebuild.FINISHED_WHEN)
    assert all(path.parent == rebuild_root / "results" / "quick" / "fashion_mnist" for path in written)
    development = json.loads(written[0].read_text())
    assert "runs" not in development and [run["seed"] for run in development["candidates"]] == [1]
    assert development["candidates"][0]["kept"] and development["candidates"][0]["incumbent_accuracy"] == 0.9
    assert [run["seed"] for run in json.loads(written[1].read_text())["runs"]] == [1]

"""Tests of scripts/run_studies.py: resumable study files, the summaries
written beside the runs, and the rows read from the chapters' own runs."""

import json

import pytest

from helpers import models, results
from scripts import run_studies


def study_file(folder):
    return folder / "results" / "quick" / "fashion_mnist" / "demo.json"


def test_a_study_file_resumes_with_the_runs_it_has(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs[-1:])
    study.add({"model": "m", "seed": 1, "test_accuracy": 0.5})
    again = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    assert again.has(model="m", seed=1) and not again.has(model="m", seed=2)
    saved = json.loads(study_file(tmp_path).read_text())
    assert saved["runs"] == [{"model": "m", "seed": 1, "test_accuracy": 0.5}] and saved["quick"] is True


def test_saving_a_study_without_new_runs_keeps_the_load_of_its_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    study.add({"model": "m", "seed": 1})
    path = study_file(tmp_path)
    saved = json.loads(path.read_text())
    saved["load"] = [9.0, 9.0, 9.0]  # as if the runs had trained on a busy machine
    path.write_text(json.dumps(saved))
    run_studies.Study("demo", quick=True, summarise=lambda runs: runs).save(selection="validation")
    again = json.loads(path.read_text())
    assert again["load"] == [9.0, 9.0, 9.0] and again["selection"] == "validation"
    # A later run keeps what the stage said of the study.
    run_studies.Study("demo", quick=True, summarise=lambda runs: runs).add({"model": "m", "seed": 2})
    assert json.loads(path.read_text())["selection"] == "validation"


def test_summaries_give_the_spread_over_seeds():
    runs = [{"model": "dense_baseline", "protocol": p, "seed": s, "test_accuracy": a, "train_accuracy": 0.9}
            for p, s, a in [("tutorial", 1, 0.87), ("tutorial", 2, 0.88), ("book", 1, 0.86)]]
    tutorial, book = run_studies.summarise_reproduction(runs)
    assert tutorial["test_accuracy_mean"] == pytest.approx(0.875) and tutorial["seeds"] == [1, 2]
    assert tutorial["reported_test_accuracy"] == models.TUTORIAL_SETTINGS["dense_baseline"]["reported_test_accuracy"]
    assert book["test_accuracy_mean"] == 0.86 and book["test_accuracy_sd"] is None  # one run: no spread


def test_the_runner_needs_full_or_quick(capsys):
    with pytest.raises(SystemExit):
        run_studies.main([])
    assert "--full" in capsys.readouterr().err


def test_rows_read_from_a_chapter_follow_its_results_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = run_studies.Study("demo", quick=True, summarise=lambda runs: runs)
    chapter = {"model": "m", "seed": 42, "from": "05.ipynb", "train_seconds": 90.0}
    study.add(dict(chapter))
    study.add({"model": "m", "seed": 1, "train_seconds": 80.0})  # a study run: left alone
    rerun = {**chapter, "train_seconds": 99.0}
    monkeypatch.setattr(run_studies, "chapter_row", lambda model_id: rerun)
    run_studies.refresh_chapter_rows(study)
    saved = json.loads(study_file(tmp_path).read_text())
    assert saved["runs"] == [rerun, {"model": "m", "seed": 1, "train_seconds": 80.0}]


def test_the_reproduction_studys_chapter_rows_are_the_chapters_runs():
    study = results.read_study("reproduction", verbose=False)
    from_chapters = [run for run in study["runs"] if run.get("from")]
    assert from_chapters, "the book-protocol runs with the chapters' seed come from their results files"
    for run in from_chapters:
        assert run == run_studies.chapter_row(run["model"]), (
            f"{run['model']}: the chapter was re-run; refresh the study with "
            "`python scripts/run_studies.py --full`")

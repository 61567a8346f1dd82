"""scripts/check_workshop.py: the workshop settings' record and its verdict."""

import json
from pathlib import Path

import pytest

from conftest import ROOT
from scripts import check_workshop, run_notebooks


@pytest.mark.parametrize("gaps, shows", [
    ([0.025, 0.023, 0.039], True),
    ([0.05, 0.05, 0.015], False),   # one seed below the lead
    ([0.021, 0.020, 0.020], True),
    ([], False),
])
def test_the_lesson_shows_only_with_the_lead_on_every_seed(gaps, shows):
    assert check_workshop.lesson_shows([{"gap": g} for g in gaps]) is shows


def test_every_workshop_setting_names_a_notebook_and_its_parameters():
    import yaml

    table = yaml.safe_load((ROOT / "notebooks" / "workshop.yml").read_text())
    names = {path.stem for path in run_notebooks.book_notebooks()}
    assert set(table) <= names, set(table) - names
    assert "05_dense_vs_cnn" in table and "SEED" not in table["05_dense_vs_cnn"]


def test_the_recorded_check_shows_chapter_5s_lesson_at_the_workshop_settings():
    record = json.loads(check_workshop.CHECK_FILE.read_text())
    assert record["settings"] == "notebooks/workshop.yml"
    assert len(record["chapter_5"]) >= 3
    assert record["lesson_shows"] == check_workshop.lesson_shows(record["chapter_5"]) is True


def test_the_recorded_check_times_every_chapter_within_the_rooms_budget():
    # The record (a full check on an otherwise idle 2-core machine) holds the
    # training of every chapter's core path, which is what a room runs.
    record = json.loads(check_workshop.CHECK_FILE.read_text())
    chapters = {path.name for path in run_notebooks.book_notebooks()}
    assert set(record["training_seconds"]) == chapters
    assert set(record["going_further_training_seconds"]) == chapters
    # A partial re-check keeps the others' times: each says where and when it was measured.
    assert set(record["measured_on"]) == chapters and record["chapter_5_measured_on"]
    assert all(where.endswith(tuple("0123456789")) for where in record["measured_on"].values())
    over = {name: seconds for name, seconds in record["training_seconds"].items()
            if seconds > check_workshop.TRAINING_TARGET_SECONDS}
    assert not over, f"core training over {check_workshop.TRAINING_TARGET_SECONDS} s: {over}"


def test_chapters_are_chosen_by_number_and_an_unknown_number_is_named():
    notebooks = [Path(f"{n}.ipynb") for n in ("01_a", "05_b", "11_c")]
    assert check_workshop.chosen_chapters(notebooks, ["5", "11"]) == notebooks[1:]
    assert check_workshop.chosen_chapters(notebooks) == notebooks
    with pytest.raises(SystemExit, match="no chapter notebook numbered 07"):
        check_workshop.chosen_chapters(notebooks, ["7"])


def test_a_rooms_training_time_leaves_out_the_exercise_solutions():
    import nbformat

    from scripts import make_student

    cells = [
        nbformat.v4.new_code_cell("history = model.fit(x, y)"),
        nbformat.v4.new_markdown_cell("```{exercise}\n:label: demo-more-epochs\n\nTrain longer.\n```"),
        nbformat.v4.new_markdown_cell("```{solution-start} demo-more-epochs\n```"),
        nbformat.v4.new_code_cell("longer = model.fit(x, y, epochs=20)"),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
    ]
    cells[0].metadata["papermill"] = {"duration": 30.0}
    cells[3].metadata["papermill"] = {"duration": 200.0}
    executed = nbformat.v4.new_notebook(cells=cells)
    kept = make_student.remove_solutions(executed, "99_demo.ipynb")
    assert run_notebooks.training_seconds(executed.cells) == pytest.approx(230.0)
    assert run_notebooks.training_seconds(kept) == pytest.approx(30.0)


def test_a_rooms_training_is_the_core_paths_and_going_further_is_counted_apart():
    import nbformat

    cells = [nbformat.v4.new_code_cell("history = model.fit(x, y)"),
             nbformat.v4.new_markdown_cell("## Going further"),
             nbformat.v4.new_code_cell("more = model.fit(x, y, epochs=20)")]
    cells[0].metadata["papermill"] = {"duration": 30.0}
    cells[2].metadata["papermill"] = {"duration": 200.0}
    for cell in cells[1:]:
        cell.metadata["tags"] = ["going-further"]
    core, further = check_workshop.room_training(nbformat.v4.new_notebook(cells=cells), "99_demo.ipynb")
    assert (core, further) == (pytest.approx(30.0), pytest.approx(200.0))

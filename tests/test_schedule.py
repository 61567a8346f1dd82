"""The workshop schedule adds up, follows the beginner's path, and the page shows it.

book/schedule.yml is the one record of the workshop's minutes;
scripts/render_schedule.py writes its plans into book/workshop.md. These tests
keep the two from drifting apart and the plans honest: each fills its slot
exactly, with 15 minutes of welcome and setup, a 10-minute buffer and a
running-late rule at every break; every chapter's core exercise is in that
chapter's core; and no planned chapter asks for more than 70 words of its core
prose per minute of teaching.
"""

import copy
import json
import math
import subprocess
import sys

import pytest
import yaml

from conftest import NOTEBOOKS, ROOT
from scripts import render_schedule as rs

SCHEDULE = rs.load_schedule()
PLANS = SCHEDULE["plans"]
CHAPTERS = SCHEDULE["chapters"]
SECOND_SESSION = SCHEDULE["second_session"]
WORDS_PER_TEACHING_MINUTE = 70
WELCOME_MINUTES, BUFFER_MINUTES = 15, 10


def notebook(chapter_id):
    return ROOT / "notebooks" / f"{chapter_id}.ipynb"


def chapter_slots():
    """(plan name, slot) for every chapter slot of every plan."""
    return [(name, slot) for name, plan in PLANS.items() for slot in plan["slots"] if "chapter" in slot]


def slot_id(name, slot):
    return f"{name}-{slot['chapter']}"


def test_the_plans_fill_three_and_two_hours_exactly():
    assert {name: plan["minutes"] for name, plan in PLANS.items()} == {"three_hours": 180, "two_hours": 120}
    for name, plan in PLANS.items():
        assert sum(slot["minutes"] for slot in plan["slots"]) == plan["minutes"], name


@pytest.mark.parametrize("name", PLANS)
def test_every_plan_opens_with_welcome_and_setup_and_keeps_a_buffer(name):
    slots = PLANS[name]["slots"]
    welcome = [slot for slot in slots if "welcome" in slot]
    buffers = [slot for slot in slots if "buffer" in slot]
    assert len(welcome) == 1 and slots[0] is welcome[0], f"{name}: one welcome-and-setup slot, first"
    assert welcome[0]["minutes"] == WELCOME_MINUTES, f"{name}: welcome and setup take {WELCOME_MINUTES} minutes"
    assert [slot["minutes"] for slot in buffers] == [BUFFER_MINUTES], f"{name}: one buffer of {BUFFER_MINUTES}"


@pytest.mark.parametrize("name", PLANS)
def test_every_break_says_what_to_drop_when_running_late(name):
    breaks = [slot for slot in PLANS[name]["slots"] if "break" in slot]
    assert breaks, f"{name} has no break"
    for slot in breaks:
        assert str(slot.get("if_late", "")).strip(), f"{name}: a break without an if_late rule"


def test_every_chapter_named_is_a_notebook():
    notebooks = {path.stem for path in NOTEBOOKS}
    assert set(CHAPTERS) == notebooks, "the chapters table lists every chapter notebook, and only those"
    for name, slot in chapter_slots():
        assert notebook(slot["chapter"]).exists(), (name, slot["chapter"])


def test_every_chapter_is_in_the_three_hour_plan_or_the_second_session():
    day = {slot["chapter"] for slot in PLANS["three_hours"]["slots"] if "chapter" in slot}
    later = list(SECOND_SESSION["chapters"])
    assert len(later) == len(set(later)) and not day & set(later), "a chapter is planned twice"
    assert day | set(later) == set(CHAPTERS), f"forgotten: {sorted(set(CHAPTERS) - day - set(later))}"


def exercise_labels_in_core(chapter_id):
    """The :label: of every ```{exercise}``` in the notebook's markdown outside Going further."""
    labels = []
    for source in rs.core_markdown(notebook(chapter_id)):
        for block in source.split("{exercise}")[1:]:
            for line in block.splitlines()[1:]:  # the directive's option lines
                if not line.startswith(":"):
                    break
                if line.startswith(":label:"):
                    labels.append(line.split(":label:", 1)[1].strip())
    return labels


@pytest.mark.parametrize("chapter_id", CHAPTERS)
def test_the_core_exercise_is_an_exercise_of_the_chapters_core(chapter_id):
    label = CHAPTERS[chapter_id]["core_exercise"]["label"]
    assert label in exercise_labels_in_core(chapter_id), (
        f"{chapter_id}: no exercise labelled {label!r} outside Going further "
        f"(the core's exercises: {exercise_labels_in_core(chapter_id)})")


def test_the_core_leaves_out_the_going_further_cells(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "```{exercise}\n:label: in-core\n\nDo it.\n```"},
             {"cell_type": "markdown", "metadata": {"tags": ["going-further"]},
              "source": "```{exercise}\n:label: further\n```"}]
    (tmp_path / "99_test.ipynb").write_text(json.dumps({"cells": cells}))
    assert rs.core_markdown(tmp_path / "99_test.ipynb") == [cells[0]["source"]]


@pytest.mark.parametrize("name, slot", [pytest.param(name, slot, id=slot_id(name, slot))
                                        for name, slot in chapter_slots()])
def test_a_chapter_slot_is_its_teaching_plus_its_core_exercise(name, slot):
    chapter = CHAPTERS[slot["chapter"]]
    assert slot["minutes"] == chapter["teaching"] + chapter["core_exercise"]["minutes"], name


@pytest.mark.parametrize("name, slot", [pytest.param(name, slot, id=slot_id(name, slot))
                                        for name, slot in chapter_slots()])
def test_a_planned_chapter_is_taught_at_most_70_core_words_a_minute(name, slot):
    chapter = CHAPTERS[slot["chapter"]]
    teaching = slot["minutes"] - chapter["core_exercise"]["minutes"]
    words = rs.core_words(notebook(slot["chapter"]))
    assert words <= WORDS_PER_TEACHING_MINUTE * teaching, (
        f"{name}: {slot['chapter']} has {words} core words for {teaching} teaching minutes "
        f"({words / teaching:.0f} a minute); give it at least "
        f"{math.ceil(words / WORDS_PER_TEACHING_MINUTE)} minutes, or shorten its core")


@pytest.mark.parametrize("chapter_id", rs.planned_chapters(SCHEDULE))
def test_a_planned_chapter_has_a_going_further_section_to_skip(chapter_id):
    cells = json.loads(notebook(chapter_id).read_text())["cells"]
    assert any(rs.GOING_FURTHER in cell.get("metadata", {}).get("tags", []) for cell in cells), (
        f"{chapter_id} is planned as core only, but has no Going further section")


def test_core_words_count_the_markdown_outside_going_further(tmp_path):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["## A title\n", "Two words, x_1."]},
             {"cell_type": "code", "metadata": {}, "source": "print('not counted')", "outputs": []},
             {"cell_type": "markdown", "metadata": {"tags": ["going-further"]}, "source": "not counted"}]
    path = tmp_path / "99_test.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert rs.core_words(path) == 5  # A, title, Two, words, x_1


def test_the_page_shows_the_schedule_as_rendered_now():
    page = rs.PAGE.read_text()
    assert rs.rendered_block(page) == rs.render(SCHEDULE, rs.chapter_titles()), (
        "book/workshop.md differs from book/schedule.yml: run python scripts/render_schedule.py")
    assert rs.main(["--check"]) == 0


def test_the_page_shows_every_plan_its_late_rules_and_each_chapters_core_exercise():
    titles = rs.chapter_titles()
    block = rs.render(SCHEDULE, titles)
    for plan in PLANS.values():
        assert f"| {rs.clock(plan['minutes'])} | | End | |" in block
        for slot in plan["slots"]:
            if "break" in slot:
                assert " ".join(slot["if_late"].split()) in block
    for chapter_id in set(CHAPTERS):
        assert f"[{titles[chapter_id]}](../notebooks/{chapter_id}.ipynb)" in block
        assert f"`{CHAPTERS[chapter_id]['core_exercise']['label']}`" in block
    for chapter_id in rs.planned_chapters(SCHEDULE):
        for key in rs.PLANNED_FIELDS:
            assert " ".join(CHAPTERS[chapter_id][key].split()) in block, (chapter_id, key)
    assert "](capstone.md)" in block


def test_titles_come_from_each_notebooks_first_heading():
    import nbformat

    titles = rs.chapter_titles()
    assert set(titles) == {path.stem for path in NOTEBOOKS}
    for path in NOTEBOOKS:
        headings = [line[2:].strip() for cell in nbformat.read(path, as_version=4).cells
                    if cell.cell_type == "markdown" for line in cell.source.splitlines() if line.startswith("# ")]
        assert titles[path.stem] == headings[0], path.name


def test_clock_and_chapter_numbers_in_words():
    assert [rs.clock(m) for m in (0, 5, 60, 185)] == ["0:00", "0:05", "1:00", "3:05"]
    assert rs.numbers_in_words([3, 4, 6, 7, 8, 9]) == "3, 4 and 6 to 9"
    assert rs.numbers_in_words([6, 7, 8]) == "6 to 8"
    assert rs.numbers_in_words([2, 5]) == "2 and 5"
    assert rs.numbers_in_words([11]) == "11"


def test_a_plan_that_does_not_add_up_stops_the_script_with_its_totals(tmp_path):
    bad = copy.deepcopy(SCHEDULE)
    last = bad["plans"]["two_hours"]["slots"].pop()
    short = 120 - last["minutes"]
    schedule, page = tmp_path / "schedule.yml", tmp_path / "workshop.md"
    schedule.write_text(yaml.safe_dump(bad, sort_keys=False))
    page.write_text(rs.PAGE.read_text())
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_schedule.py"),
         "--schedule", str(schedule), "--page", str(page)],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert all(fact in result.stderr for fact in ("two_hours", str(short), "120")), result.stderr
    assert page.read_text() == rs.PAGE.read_text(), "a bad schedule must leave the page alone"


def first_index(plan, kind):
    return next(i for i, slot in enumerate(SCHEDULE["plans"][plan]["slots"]) if kind in slot)


@pytest.mark.parametrize("change, message", [
    (lambda s: s["plans"]["three_hours"]["slots"][first_index("three_hours", "break")].pop("if_late"),
     "needs 'if_late'"),
    (lambda s: s["plans"]["three_hours"]["slots"][first_index("three_hours", "chapter")].update(minutes=99),
     "teaching plus its core exercise"),
    (lambda s: s["plans"]["three_hours"]["slots"][first_index("three_hours", "chapter")].update(
        chapter="99_missing"), "not in the 'chapters' table"),
    (lambda s: s["plans"]["three_hours"]["slots"][first_index("three_hours", "chapter")].update(
        activity="both"), "exactly one of"),
    (lambda s: s["chapters"].update({"99_missing": {"teaching": 5, "what": "?",
                                                    "core_exercise": {"label": "x", "minutes": 5}}}),
     "has no notebook"),
    (lambda s: s["chapters"]["01_why_cnns"].pop("skipped"), "in a plan, so it needs skipped"),
    (lambda s: s["chapters"]["01_why_cnns"]["core_exercise"].pop("label"), "needs a 'label'"),
    (lambda s: s["second_session"]["chapters"].append("99_missing"), "second session"),
])
def test_a_broken_schedule_is_refused_with_a_clear_message(change, message):
    bad = copy.deepcopy(SCHEDULE)
    change(bad)
    with pytest.raises(rs.ScheduleError, match=message):
        rs.render(bad, rs.chapter_titles())


def test_check_mode_reports_an_outdated_page(tmp_path):
    page = tmp_path / "workshop.md"
    page.write_text(rs.PAGE.read_text().replace("| 0:00 | 15 |", "| 0:00 | 16 |", 1))
    assert rs.main(["--check", "--page", str(page)]) == 1
    assert rs.main(["--page", str(page)]) == 0  # rewrites it
    assert page.read_text() == rs.PAGE.read_text()

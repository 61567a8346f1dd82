"""The workshop schedule adds up, names real chapters, and the page shows it.

book/schedule.yml is the one record of the workshop's minutes;
scripts/render_schedule.py writes its plans into book/workshop.md. These tests
keep the two from drifting apart and the plans honest: each fills its slot
exactly, and a chapter gets its full minutes unless the plan says why not.
"""

import copy
import re
import subprocess
import sys

import pytest
import yaml

from conftest import NOTEBOOKS, ROOT
from scripts import render_schedule as rs

SCHEDULE = rs.load_schedule()
PLANS = SCHEDULE["plans"]
CHAPTERS = SCHEDULE["chapters"]


def chapter_slots():
    """(plan name, slot) for every chapter slot of every plan."""
    return [(name, slot) for name, plan in PLANS.items() for slot in plan["slots"] if "chapter" in slot]


def test_the_plans_fill_three_and_two_hours_exactly():
    assert {name: plan["minutes"] for name, plan in PLANS.items()} == {"three_hours": 180, "two_hours": 120}
    for name, plan in PLANS.items():
        assert sum(slot["minutes"] for slot in plan["slots"]) == plan["minutes"], name


def test_every_chapter_named_is_a_notebook():
    notebooks = {path.stem for path in NOTEBOOKS}
    assert set(CHAPTERS) == notebooks, "the per-chapter table lists every chapter notebook, and only those"
    for name, slot in chapter_slots():
        assert (ROOT / "notebooks" / f"{slot['chapter']}.ipynb").exists(), (name, slot["chapter"])


@pytest.mark.parametrize("name, slot", [pytest.param(name, slot, id=f"{name}-{slot['chapter']}")
                                        for name, slot in chapter_slots()])
def test_a_chapter_slot_takes_the_chapters_minutes_or_says_why(name, slot):
    chapter = CHAPTERS[slot["chapter"]]
    full = chapter["teaching"] + chapter["exercises"]
    if slot["minutes"] != full:
        assert slot["minutes"] < full and slot.get("reason"), (
            f"{name}: {slot['chapter']} gets {slot['minutes']} of its {full} minutes without a reason")


def test_the_page_shows_the_schedule_as_rendered_now():
    page = rs.PAGE.read_text()
    assert rs.rendered_block(page) == rs.render(SCHEDULE, rs.chapter_titles()), (
        "book/workshop.md differs from book/schedule.yml: run python scripts/render_schedule.py")
    assert rs.main(["--check"]) == 0


def first_heading(path):
    """The text of a notebook's first `# ` heading."""
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        match = re.search(r"^# (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if match:
            return match.group(1).strip()
    return None


def test_the_tables_end_when_the_plans_do_and_link_each_chapter_by_its_title():
    titles = rs.chapter_titles()
    block = rs.render(SCHEDULE, titles)
    for plan in PLANS.values():
        assert f"| {rs.clock(plan['minutes'])} | | End | |" in block
    for _, slot in chapter_slots():
        assert f"[{titles[slot['chapter']]}](../notebooks/{slot['chapter']}.ipynb)" in block


def test_titles_come_from_each_notebooks_first_heading():
    titles = rs.chapter_titles()
    assert set(titles) == {path.stem for path in NOTEBOOKS}
    for path in NOTEBOOKS:
        assert titles[path.stem] == first_heading(path), path.name


def test_clock_is_hours_and_minutes():
    assert [rs.clock(m) for m in (0, 5, 60, 185)] == ["0:00", "0:05", "1:00", "3:05"]


def test_a_plan_that_does_not_add_up_stops_the_script_with_its_totals(tmp_path):
    bad = copy.deepcopy(SCHEDULE)
    bad["plans"]["two_hours"]["slots"].pop()  # the last 5 minutes: 115, not 120
    schedule, page = tmp_path / "schedule.yml", tmp_path / "workshop.md"
    schedule.write_text(yaml.safe_dump(bad, sort_keys=False))
    page.write_text(rs.PAGE.read_text())
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_schedule.py"),
         "--schedule", str(schedule), "--page", str(page)],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert all(fact in result.stderr for fact in ("two_hours", "115", "120")), result.stderr
    assert page.read_text() == rs.PAGE.read_text(), "a bad schedule must leave the page alone"


@pytest.mark.parametrize("change, message", [
    (lambda s: s["plans"]["two_hours"]["slots"][3].pop("reason"), "a shortened slot needs a 'reason'"),
    (lambda s: s["plans"]["three_hours"]["slots"][1].update(reason="why not"), "is not shortened"),
    (lambda s: s["plans"]["three_hours"]["slots"][1].update(minutes=20), "more than its teaching"),
    (lambda s: s["plans"]["three_hours"]["slots"][1].update(chapter="13_missing"), "not in the 'chapters' table"),
    (lambda s: s["plans"]["three_hours"]["slots"][1].update(activity="both"), "exactly one of"),
    (lambda s: s["chapters"].update({"13_missing": {"teaching": 5, "exercises": 5, "what": "?"}}),
     "has no notebook"),
])
def test_a_broken_schedule_is_refused_with_a_clear_message(change, message):
    bad = copy.deepcopy(SCHEDULE)
    change(bad)
    with pytest.raises(rs.ScheduleError, match=message):
        rs.render(bad, rs.chapter_titles())


def test_check_mode_reports_an_outdated_page(tmp_path):
    page = tmp_path / "workshop.md"
    page.write_text(rs.PAGE.read_text().replace("| 0:05 | 15 |", "| 0:05 | 16 |", 1))
    assert rs.main(["--check", "--page", str(page)]) == 1
    assert rs.main(["--page", str(page)]) == 0  # rewrites it
    assert page.read_text() == rs.PAGE.read_text()

#!/usr/bin/env python3
"""Render the workshop schedule of book/schedule.yml into book/workshop.md.

    python scripts/render_schedule.py           # rewrite the tables between the page's markers
    python scripts/render_schedule.py --check   # only say whether the page is up to date

book/schedule.yml is the one record of the workshop's timing: the teaching and
exercise minutes of every chapter, and the plans, each an ordered list of
slots (a chapter, a break or an activity) that must add up to the plan's
length. This script checks the file, then writes each plan as a Markdown table
(start time, minutes, what, the chapter's title linked to its notebook) and a
table of the minutes per chapter between the markers of book/workshop.md.
Chapter titles come from each notebook's first `# ` heading, so a renamed
chapter needs no edit here. A schedule that does not add up stops the script
with a message naming the plan and its totals.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "book" / "schedule.yml"
PAGE = ROOT / "book" / "workshop.md"
NOTEBOOKS = ROOT / "notebooks"
START, END = "<!-- schedule:start -->", "<!-- schedule:end -->"
SLOT_KINDS = ("chapter", "break", "activity")


class ScheduleError(ValueError):
    """book/schedule.yml is not a schedule that can be taught as written."""


def load_schedule(path: Path = SCHEDULE) -> dict:
    """The parsed YAML file, with its two sections checked for presence."""
    schedule = yaml.safe_load(path.read_text())
    if not isinstance(schedule, dict) or not {"chapters", "plans"} <= set(schedule):
        raise ScheduleError(f"{path.name} needs two sections, 'chapters' and 'plans'.")
    return schedule


def chapter_titles(notebooks: Path = NOTEBOOKS) -> dict[str, str]:
    """Each chapter notebook's title: the text of its first `# ` heading, by notebook id."""
    titles = {}
    for path in sorted(notebooks.glob("[0-9]*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            heading = next((line for line in source.splitlines() if line.startswith("# ")), None)
            if cell["cell_type"] == "markdown" and heading:
                titles[path.stem] = heading[2:].strip()
                break
    return titles


def chapter_minutes(chapter: dict) -> int:
    """A chapter's full workshop time: teaching plus exercises."""
    return chapter["teaching"] + chapter["exercises"]


def slot_kind(slot: dict, where: str) -> str:
    """Which of chapter, break or activity a slot is; exactly one must be given."""
    kinds = [kind for kind in SLOT_KINDS if kind in slot]
    if len(kinds) != 1:
        raise ScheduleError(f"{where}: give exactly one of {', '.join(SLOT_KINDS)} (got {slot}).")
    if not isinstance(slot.get("minutes"), int) or slot["minutes"] <= 0:
        raise ScheduleError(f"{where}: 'minutes' must be a positive whole number (got {slot}).")
    return kinds[0]


def check_chapters(chapters: dict, titles: dict[str, str]):
    """Every chapter of the per-chapter table is a notebook and has whole minutes."""
    for chapter_id, chapter in chapters.items():
        if chapter_id not in titles:
            raise ScheduleError(f"chapter {chapter_id!r} has no notebook notebooks/{chapter_id}.ipynb.")
        for key in ("teaching", "exercises"):
            if not isinstance(chapter.get(key), int) or chapter[key] < 0:
                raise ScheduleError(f"chapter {chapter_id!r}: '{key}' must be a whole number of minutes.")


def check_chapter_slot(slot: dict, chapters: dict, where: str):
    """A chapter slot takes the chapter's minutes, or fewer with a reason."""
    chapter_id = slot["chapter"]
    if chapter_id not in chapters:
        raise ScheduleError(f"{where}: chapter {chapter_id!r} is not in the 'chapters' table.")
    full = chapter_minutes(chapters[chapter_id])
    if slot["minutes"] > full:
        raise ScheduleError(f"{where}: {slot['minutes']} minutes for {chapter_id}, more than its "
                            f"teaching + exercises ({full}); raise those instead.")
    if slot["minutes"] < full and not slot.get("reason"):
        raise ScheduleError(f"{where}: {chapter_id} gets {slot['minutes']} of its {full} minutes; "
                            "a shortened slot needs a 'reason'.")
    if slot["minutes"] == full and slot.get("reason"):
        raise ScheduleError(f"{where}: {chapter_id} has a 'reason' but is not shortened.")


def check_plan(name: str, plan: dict, chapters: dict):
    """Every slot of the plan is well formed, and the slots add up to the plan's minutes."""
    slots = plan.get("slots") or []
    for number, slot in enumerate(slots, 1):
        where = f"plan {name!r}, slot {number}"
        if slot_kind(slot, where) == "chapter":
            check_chapter_slot(slot, chapters, where)
    total = sum(slot["minutes"] for slot in slots)
    if total != plan.get("minutes"):
        raise ScheduleError(
            f"plan {name!r} adds up to {total} minutes, but its slot is {plan.get('minutes')} minutes "
            f"({' + '.join(str(slot['minutes']) for slot in slots)} = {total}).")


def check_schedule(schedule: dict, titles: dict[str, str]):
    """Raise ScheduleError with a clear message for the first thing that is wrong."""
    check_chapters(schedule["chapters"], titles)
    for name, plan in schedule["plans"].items():
        check_plan(name, plan, schedule["chapters"])


def clock(minutes: int) -> str:
    """Minutes since the start as h:mm."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def chapter_link(chapter_id: str, titles: dict[str, str]) -> str:
    """The chapter's title, linked to its notebook from book/workshop.md."""
    return f"[{titles[chapter_id]}](../notebooks/{chapter_id}.ipynb)"


def chapter_number(chapter_id: str) -> int:
    """The chapter number: the notebook name's leading digits."""
    return int(chapter_id.split("_", 1)[0])


def slot_row(slot: dict, start: int, chapters: dict, titles: dict[str, str]) -> str:
    """One row of a plan's table: start, minutes, what, chapter."""
    if "chapter" in slot:
        chapter = chapters[slot["chapter"]]
        what = " ".join(str(slot.get("what", chapter["what"])).split())
        if slot.get("reason"):
            what += f" (shortened from {chapter_minutes(chapter)} minutes: {slot['reason']})"
        where = chapter_link(slot["chapter"], titles)
    else:
        what, where = " ".join(str(slot.get("break") or slot["activity"]).split()), ""
    return f"| {clock(start)} | {slot['minutes']} | {what} | {where} |"


def render_plan(plan: dict, chapters: dict, titles: dict[str, str]) -> list[str]:
    """A plan as a heading, a Markdown table with start times, and its notes."""
    lines = [f"### {plan['title']} ({plan['minutes']} minutes)", "",
             "| start | minutes | what | chapter |", "|---|---:|---|---|"]
    start = 0
    for slot in plan["slots"]:
        lines.append(slot_row(slot, start, chapters, titles))
        start += slot["minutes"]
    lines += [f"| {clock(start)} | | End | |", ""]
    if plan.get("note"):
        lines += [" ".join(plan["note"].split()), ""]
    used = {slot["chapter"] for slot in plan["slots"] if "chapter" in slot}
    left_out = [chapter_id for chapter_id in chapters if chapter_id not in used]
    if left_out:
        lines += ["Not in this plan: " + ", ".join(
            f"{chapter_number(c)}. {chapter_link(c, titles)}" for c in left_out) + ".", ""]
    return lines


def render_chapters(chapters: dict, titles: dict[str, str]) -> list[str]:
    """The minutes per chapter, with the instructor's notes."""
    lines = ["### Minutes per chapter", "",
             "| chapter | teaching | exercises | total | note |", "|---|---:|---:|---:|---|"]
    for chapter_id, chapter in chapters.items():
        note = " ".join(str(chapter.get("note", "")).split())
        lines.append(f"| {chapter_number(chapter_id)}. {chapter_link(chapter_id, titles)} | "
                     f"{chapter['teaching']} | {chapter['exercises']} | {chapter_minutes(chapter)} | {note} |")
    return lines + [""]


def render(schedule: dict, titles: dict[str, str]) -> str:
    """Everything between the page's markers, markers included."""
    check_schedule(schedule, titles)
    lines = [START, ""]
    for plan in schedule["plans"].values():
        lines += render_plan(plan, schedule["chapters"], titles)
    lines += render_chapters(schedule["chapters"], titles)
    return "\n".join(lines + [END])


def replace_block(page: str, block: str) -> str:
    """The page with the text between its markers replaced by `block`."""
    if page.count(START) != 1 or page.count(END) != 1 or page.index(START) > page.index(END):
        raise ScheduleError(f"the page needs one {START} line and one {END} line after it.")
    head, rest = page.split(START, 1)
    return head + block + rest.split(END, 1)[1]


def rendered_block(page: str) -> str:
    """What is between the page's markers now, markers included."""
    return START + page.split(START, 1)[1].split(END, 1)[0] + END


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="do not write; fail if the page is out of date")
    parser.add_argument("--schedule", type=Path, default=SCHEDULE, help="default: book/schedule.yml")
    parser.add_argument("--page", type=Path, default=PAGE, help="default: book/workshop.md")
    args = parser.parse_args(argv)
    try:
        page = args.page.read_text()
        updated = replace_block(page, render(load_schedule(args.schedule), chapter_titles()))
    except ScheduleError as error:
        print(f"render_schedule: error: {error}", file=sys.stderr)
        return 1
    if args.check:
        if updated != page:
            print(f"{args.page.name} is out of date: run python scripts/render_schedule.py", file=sys.stderr)
            return 1
        return 0
    if updated != page:
        args.page.write_text(updated)
        print(f"rewrote the schedule in {args.page.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

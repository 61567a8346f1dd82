#!/usr/bin/env python3
"""Render the workshop schedule of book/schedule.yml into book/workshop.md.

    python scripts/render_schedule.py           # rewrite the schedule between the page's markers
    python scripts/render_schedule.py --check   # only say whether the page is up to date

book/schedule.yml is the one record of the workshop's timing. Each chapter has
its teaching minutes (for its core path, the cells not tagged `going-further`),
one core exercise (its label and minutes) and, when a plan includes it, what
the instructor teaches, shows from the website and skips. Each plan is an
ordered list of slots (welcome, chapter, break, activity, buffer) that must add
up to the plan's length; a chapter slot takes exactly the chapter's teaching
plus its core exercise, and every break says what to drop when running late.
The second session lists the chapters left for another day, and the capstone.

This script checks the file, then writes between the markers of
book/workshop.md: each plan as a Markdown table (start time, minutes, what),
its running-late rules and the chapters it leaves out; what each planned
chapter teaches, shows and skips; and the second session. Chapter titles come
from each notebook's first `# ` heading, so a renamed chapter needs no edit
here. A schedule that does not add up stops the script with a message naming
the plan and its totals, and leaves the page alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEDULE = ROOT / "book" / "schedule.yml"
PAGE = ROOT / "book" / "workshop.md"
NOTEBOOKS = ROOT / "notebooks"
START, END = "<!-- schedule:start -->", "<!-- schedule:end -->"
SLOT_KINDS = ("welcome", "chapter", "break", "activity", "buffer")
SECTIONS = ("chapters", "plans", "second_session")
PLANNED_FIELDS = ("taught", "demonstrated", "skipped")  # required of every chapter a plan includes
GOING_FURTHER = "going-further"


class ScheduleError(ValueError):
    """book/schedule.yml is not a schedule that can be taught as written."""


def load_schedule(path: Path = SCHEDULE) -> dict:
    """The parsed YAML file, with its sections checked for presence."""
    schedule = yaml.safe_load(path.read_text())
    if not isinstance(schedule, dict) or not set(SECTIONS) <= set(schedule):
        raise ScheduleError(f"{path.name} needs the sections {', '.join(SECTIONS)}.")
    return schedule


def cell_source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def core_markdown(path: Path) -> list[str]:
    """The sources of a notebook's markdown cells outside Going further (not tagged `going-further`)."""
    cells = json.loads(path.read_text())["cells"]
    return [cell_source(cell) for cell in cells if cell["cell_type"] == "markdown"
            and GOING_FURTHER not in cell.get("metadata", {}).get("tags", [])]


def core_words(path: Path) -> int:
    """Words of a chapter's core path, counted as the project's checks count them: runs of word characters."""
    return sum(len(re.findall(r"\w+", source)) for source in core_markdown(path))


def chapter_titles(notebooks: Path = NOTEBOOKS) -> dict[str, str]:
    """Each chapter notebook's title: the text of its first `# ` heading, by notebook id."""
    titles = {}
    for path in sorted(notebooks.glob("[0-9]*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            heading = next((line for line in cell_source(cell).splitlines() if line.startswith("# ")), None)
            if cell["cell_type"] == "markdown" and heading:
                titles[path.stem] = heading[2:].strip()
                break
    return titles


def chapter_minutes(chapter: dict) -> int:
    """A chapter's slot in a plan: teaching its core plus its core exercise."""
    return chapter["teaching"] + chapter["core_exercise"]["minutes"]


def whole_minutes(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def slot_kind(slot: dict, where: str) -> str:
    """Which of the slot kinds a slot is; exactly one must be given."""
    kinds = [kind for kind in SLOT_KINDS if kind in slot]
    if len(kinds) != 1:
        raise ScheduleError(f"{where}: give exactly one of {', '.join(SLOT_KINDS)} (got {slot}).")
    if not whole_minutes(slot.get("minutes")):
        raise ScheduleError(f"{where}: 'minutes' must be a positive whole number (got {slot}).")
    return kinds[0]


def planned_chapters(schedule: dict) -> list[str]:
    """The ids of the chapters some plan includes, in chapter order."""
    used = {slot["chapter"] for plan in schedule["plans"].values()
            for slot in plan.get("slots") or [] if "chapter" in slot}
    return [chapter_id for chapter_id in schedule["chapters"] if chapter_id in used]


def check_chapters(chapters: dict, titles: dict[str, str], planned: list[str]):
    """Every chapter is a notebook, with whole minutes and a core exercise; planned ones say what is done."""
    for chapter_id, chapter in chapters.items():
        if chapter_id not in titles:
            raise ScheduleError(f"chapter {chapter_id!r} has no notebook notebooks/{chapter_id}.ipynb.")
        if not whole_minutes(chapter.get("teaching")):
            raise ScheduleError(f"chapter {chapter_id!r}: 'teaching' must be a positive whole number of minutes.")
        exercise = chapter.get("core_exercise")
        if not (isinstance(exercise, dict) and isinstance(exercise.get("label"), str)
                and whole_minutes(exercise.get("minutes"))):
            raise ScheduleError(f"chapter {chapter_id!r}: 'core_exercise' needs a 'label' and whole 'minutes'.")
        if chapter_id in planned:
            missing = [key for key in PLANNED_FIELDS if not chapter.get(key)]
            if missing:
                raise ScheduleError(f"chapter {chapter_id!r} is in a plan, so it needs {', '.join(missing)}.")


def check_plan(name: str, plan: dict, chapters: dict):
    """Every slot of the plan is well formed, and the slots add up to the plan's minutes."""
    slots = plan.get("slots") or []
    for number, slot in enumerate(slots, 1):
        where = f"plan {name!r}, slot {number}"
        kind = slot_kind(slot, where)
        if kind == "chapter":
            chapter_id = slot["chapter"]
            if chapter_id not in chapters:
                raise ScheduleError(f"{where}: chapter {chapter_id!r} is not in the 'chapters' table.")
            full = chapter_minutes(chapters[chapter_id])
            if slot["minutes"] != full:
                raise ScheduleError(
                    f"{where}: {chapter_id} gets {slot['minutes']} minutes, but its teaching plus its "
                    f"core exercise make {full}; change those, or leave the chapter out.")
        if kind == "break" and not slot.get("if_late"):
            raise ScheduleError(f"{where}: a break needs 'if_late', what to drop when it starts late.")
    total = sum(slot["minutes"] for slot in slots)
    if total != plan.get("minutes"):
        raise ScheduleError(
            f"plan {name!r} adds up to {total} minutes, but its slot is {plan.get('minutes')} minutes "
            f"({' + '.join(str(slot['minutes']) for slot in slots)} = {total}).")


def check_second_session(session: dict, chapters: dict):
    """Every chapter the second session lists is in the 'chapters' table."""
    for chapter_id in session.get("chapters") or []:
        if chapter_id not in chapters:
            raise ScheduleError(f"second session: chapter {chapter_id!r} is not in the 'chapters' table.")


def check_schedule(schedule: dict, titles: dict[str, str]):
    """Raise ScheduleError with a clear message for the first thing that is wrong."""
    check_chapters(schedule["chapters"], titles, planned_chapters(schedule))
    for name, plan in schedule["plans"].items():
        check_plan(name, plan, schedule["chapters"])
    check_second_session(schedule["second_session"], schedule["chapters"])


def clock(minutes: int) -> str:
    """Minutes since the start as h:mm."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def one_line(text) -> str:
    """YAML's folded text on one line, for a table cell or a list item."""
    return " ".join(str(text).split())


def chapter_link(chapter_id: str, titles: dict[str, str]) -> str:
    """The chapter's title, linked to its notebook from book/workshop.md."""
    return f"[{titles[chapter_id]}](../notebooks/{chapter_id}.ipynb)"


def chapter_number(chapter_id: str) -> int:
    """The chapter number: the notebook name's leading digits."""
    return int(chapter_id.split("_", 1)[0])


def numbers_in_words(numbers: list[int]) -> str:
    """[3, 4, 6, 7, 8, 9] as '3, 4 and 6 to 9': runs of three or more shortened."""
    runs = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    items = []
    for run in runs:
        items += [f"{run[0]} to {run[-1]}"] if len(run) > 2 else [str(n) for n in run]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def slot_row(slot: dict, start: int, chapters: dict, titles: dict[str, str]) -> str:
    """One row of a plan's table: start, minutes, what, and a chapter's core exercise."""
    exercise = ""
    if "chapter" in slot:
        chapter_id = slot["chapter"]
        chapter = chapters[chapter_id]
        what = (f"**{chapter_number(chapter_id)}. {chapter_link(chapter_id, titles)}**, "
                f"teach {chapter['teaching']}: {one_line(chapter['what'])}")
        core = chapter["core_exercise"]
        exercise = f"`{core['label']}`, {core['minutes']}"
    elif "break" in slot:
        what = f"*{one_line(slot['break'])}* (running late? below)"
    elif "buffer" in slot:
        what = f"*{one_line(slot['buffer'])}*"
    else:
        what = one_line(slot.get("welcome") or slot["activity"])
    return f"| {clock(start)} | {slot['minutes']} | {what} | {exercise} |"


def render_plan(plan: dict, chapters: dict, titles: dict[str, str]) -> list[str]:
    """A plan as a heading, a table with start times, its running-late rules and notes."""
    lines = [f"### {plan['title']} ({plan['minutes']} minutes)", "",
             "| start | minutes | what | core exercise |", "|---|---:|---|---|"]
    start, late = 0, []
    for slot in plan["slots"]:
        lines.append(slot_row(slot, start, chapters, titles))
        if "break" in slot:
            late.append(f"- **The break at {clock(start)}.** {one_line(slot['if_late'])}")
        start += slot["minutes"]
    lines += [f"| {clock(start)} | | End | |", ""]
    if late:
        lines += ["**Running late?** Decide at each break; the buffer covers the rest.", "", *late, ""]
    if plan.get("note"):
        lines += [one_line(plan["note"]), ""]
    used = {slot["chapter"] for slot in plan["slots"] if "chapter" in slot}
    left_out = [chapter_number(c) for c in chapters if c not in used]
    if left_out:
        lines += [f"Not in this plan: chapters {numbers_in_words(left_out)}.", ""]
    return lines


def render_chapter(chapter_id: str, chapter: dict, titles: dict[str, str]) -> list[str]:
    """What the instructor does with one planned chapter."""
    exercise = chapter["core_exercise"]
    lines = [f"#### {chapter_number(chapter_id)}. {chapter_link(chapter_id, titles)}", "",
             f"- **Teach** ({chapter['teaching']} minutes): {one_line(chapter['taught'])}",
             f"- **Core exercise** ({exercise['minutes']} minutes): `{exercise['label']}`.",
             f"- **Show from the website**: {one_line(chapter['demonstrated'])}",
             f"- **Skip**, its Going further section: {one_line(chapter['skipped'])}"]
    if chapter.get("note"):
        lines.append(f"- **Note**: {one_line(chapter['note'])}")
    return lines + [""]


def render_second_session(session: dict, chapters: dict, titles: dict[str, str]) -> list[str]:
    lines = [f"### {session['title']}", ""]
    if session.get("note"):
        lines += [one_line(session["note"]), ""]
    for chapter_id in session.get("chapters") or []:
        chapter = chapters[chapter_id]
        exercise = chapter["core_exercise"]
        item = (f"- {chapter_number(chapter_id)}. {chapter_link(chapter_id, titles)}, "
                f"{chapter_minutes(chapter)} minutes (teach {chapter['teaching']}, core exercise "
                f"`{exercise['label']}` {exercise['minutes']}): {one_line(chapter['what'])}.")
        if chapter.get("note"):
            item += f" {one_line(chapter['note'])}"
        lines.append(item)
    if session.get("capstone"):
        capstone = session["capstone"]
        lines.append(f"- [The capstone](capstone.md), {capstone['minutes']} minutes: "
                     f"{one_line(capstone['what'])}.")
    return lines + [""]


def render(schedule: dict, titles: dict[str, str]) -> str:
    """Everything between the page's markers, markers included."""
    check_schedule(schedule, titles)
    chapters = schedule["chapters"]
    lines = [START, ""]
    for plan in schedule["plans"].values():
        lines += render_plan(plan, chapters, titles)
    lines += ["### The chapters of the plans", "",
              "Teach the core, run the core exercise, show a figure or two from the website, "
              "and leave the Going further section for home.", ""]
    for chapter_id in planned_chapters(schedule):
        lines += render_chapter(chapter_id, chapters[chapter_id], titles)
    lines += render_second_session(schedule["second_session"], chapters, titles)
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

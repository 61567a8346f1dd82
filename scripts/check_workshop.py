#!/usr/bin/env python3
"""Does each chapter teach its lesson at the workshop settings, in the time a room has?

    python scripts/check_workshop.py            # every chapter, then chapter 5 over seeds
    python scripts/check_workshop.py --seeds-only
    python scripts/check_workshop.py --chapters 11 13   # re-time some chapters only
                                                       # (chapter 5's seeds only with 5)

Runs every chapter notebook at the settings of notebooks/workshop.yml (the ones
the student notebooks carry) into results/workshop/, timing each whole
notebook (its training included), then chapter 5 once per seed of
CHAPTER_5_SEEDS, reading the test accuracies that chapter writes. Writes
results/workshop_check.json: the machine, its load, each chapter's seconds (the
training of its core path, which the room runs, and of its Going further
section, left for home, apart) with the machine and date it was timed on, and
chapter 5's dense baseline and strided CNN on every seed with the gap between
them. Run it on an otherwise idle machine: the seconds are the record.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python scripts/check_workshop.py` imports its siblings

from scripts import make_student, render_schedule, run_notebooks  # noqa: E402

CHECK_FILE = ROOT / "results" / "workshop_check.json"
# The training of each chapter at the workshop settings should take at most
# this long on a 2-core laptop CPU.
TRAINING_TARGET_SECONDS = 90
CHAPTER_5 = run_notebooks.NOTEBOOKS / "05_dense_vs_cnn.ipynb"
CHAPTER_5_SEEDS = (1, 2, 3)
# The lesson of chapter 5 at the workshop settings: the strided CNN ahead of
# the dense baseline by at least this much test accuracy, on average and on
# every seed.
LEAD = 0.02


def room_training(executed, name) -> tuple[float, float]:
    """Seconds of the training cells (run_notebooks.TRAINING_CALL) of an
    executed chapter that its student notebook keeps (exercise solutions,
    which learners write themselves, are left out): those of the core path,
    which the room runs, and those of the Going further section, which the
    schedule leaves for home."""
    kept = make_student.remove_solutions(executed, name)
    tagged = [render_schedule.GOING_FURTHER in cell.metadata.get("tags", []) for cell in kept]
    core = [cell for cell, further in zip(kept, tagged) if not further]
    further = [cell for cell, further in zip(kept, tagged) if further]
    return run_notebooks.training_seconds(core), run_notebooks.training_seconds(further)


def time_chapters(notebooks) -> tuple[dict, dict, dict]:
    """Seconds of each notebook run whole at the workshop settings, and the
    seconds of its training cells in the core path and in Going further
    (`room_training`)."""
    seconds, training, further = {}, {}, {}
    for notebook in notebooks:
        parameters = run_notebooks.setting_parameters(notebook, "workshop")
        out = run_notebooks.SETTINGS["workshop"][1] / notebook.name
        timings = {}
        seconds[notebook.name] = round(run_notebooks.execute(notebook, out, parameters, timings), 1)
        core, extra = room_training(timings["executed"], notebook.name)
        training[notebook.name], further[notebook.name] = round(core, 1), round(extra, 1)
        print(f"{notebook.name:<40} {seconds[notebook.name]:6.1f} s, training {core:6.1f} s "
              f"(going further {extra:.1f} s)", flush=True)
    return seconds, training, further


def chosen_chapters(notebooks, numbers=None) -> list:
    """The notebooks whose chapter numbers are in `numbers` (all if None)."""
    if numbers is None:
        return list(notebooks)
    wanted = {f"{int(n):02d}" for n in numbers}
    chosen = [nb for nb in notebooks if nb.name[:2] in wanted]
    missing = wanted - {nb.name[:2] for nb in chosen}
    if missing:
        raise SystemExit(f"no chapter notebook numbered {', '.join(sorted(missing))}; "
                         f"the chapters are {', '.join(nb.name[:2] for nb in notebooks)}")
    return chosen


def chapter_5_over_seeds(seeds=CHAPTER_5_SEEDS) -> list:
    """Chapter 5 at the workshop settings once per seed: the test accuracies
    of its two models (from the results files it writes) and their gap."""
    from helpers import results

    rows = []
    parameters = run_notebooks.setting_parameters(CHAPTER_5, "workshop")
    for seed in seeds:
        out = run_notebooks.SETTINGS["workshop"][1] / f"seed{seed}-{CHAPTER_5.name}"
        run_notebooks.execute(CHAPTER_5, out, {**parameters, "SEED": seed})
        records = {m: results.read_result(m, quick=True, start=ROOT, fallback=False, verbose=False)
                   for m in ("dense_baseline", "strided_cnn")}
        dense, cnn = (records[m]["test_accuracy"] for m in ("dense_baseline", "strided_cnn"))
        if {records[m]["seed"] for m in records} != {seed}:
            raise SystemExit(f"chapter 5 did not write the runs of seed {seed}; see {out}")
        rows.append({"seed": seed, "dense_baseline": dense, "strided_cnn": cnn, "gap": cnn - dense})
        print(f"seed {seed}: dense {dense:.4f}, CNN {cnn:.4f}, gap {(cnn - dense) * 100:+.2f} points",
              flush=True)
    return rows


def lesson_shows(rows, lead=LEAD) -> bool:
    """Whether the CNN leads by at least `lead` on average and on every seed."""
    gaps = [row["gap"] for row in rows]
    return bool(gaps) and min(gaps) >= lead and sum(gaps) / len(gaps) >= lead


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds-only", action="store_true", help="only chapter 5 over seeds")
    parser.add_argument("--chapters", nargs="+", metavar="N",
                        help="time only these chapters (by number), keeping the others' record")
    args = parser.parse_args(argv)
    from helpers import machine

    record = json.loads(CHECK_FILE.read_text()) if CHECK_FILE.exists() else {}
    load_before = [round(x, 2) for x in os.getloadavg()]
    # A partial check keeps the other chapters' record, so each part says where and when it ran.
    here = f"{machine.cpu_description()}, {datetime.date.today().isoformat()}"
    if not args.seeds_only:
        notebooks = chosen_chapters(run_notebooks.book_notebooks(), args.chapters)
        seconds, training, further = time_chapters(notebooks)
        for field, timed in (("chapter_seconds", seconds), ("training_seconds", training),
                             ("going_further_training_seconds", further),
                             ("measured_on", dict.fromkeys(seconds, here))):
            record[field] = {**record.get(field, {}), **timed}  # the chapters not timed keep theirs
        record["training_target_seconds"] = TRAINING_TARGET_SECONDS
    if args.chapters is None or 5 in {int(n) for n in args.chapters}:
        rows = chapter_5_over_seeds()
        record.update(chapter_5=rows, chapter_5_lead=LEAD, lesson_shows=lesson_shows(rows),
                      chapter_5_measured_on=here)
    record.update(settings=str(run_notebooks.SETTINGS["workshop"][0].relative_to(ROOT)),
                  machine=machine.cpu_description(), load_before=load_before,
                  load_after=[round(x, 2) for x in os.getloadavg()],
                  date=datetime.date.today().isoformat())
    CHECK_FILE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"wrote {CHECK_FILE.relative_to(ROOT)}; the lesson shows: {record['lesson_shows']}")


if __name__ == "__main__":
    main()

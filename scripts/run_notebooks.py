#!/usr/bin/env python3
"""Execute the book's notebooks with papermill and record how long each takes.

    python scripts/run_notebooks.py              # full run: outputs stored in notebooks/
    python scripts/run_notebooks.py --quick      # quick settings, into results/quick/
    python scripts/run_notebooks.py --workshop   # workshop settings, into results/workshop/
    python scripts/run_notebooks.py --full --quick --update-readme
                                                 # both, then rewrite the README's runtime table
    python scripts/run_notebooks.py notebooks/04_fashion_mnist.ipynb   # only some notebooks

A full run executes each notebook in place with the values in its own
`parameters` cell: those are the outputs the book shows. A quick run injects the
values in notebooks/quick.yml (CI's smoke settings) and writes the executed
copies to results/quick/, so that it never overwrites the stored outputs; a
workshop run does the same with notebooks/workshop.yml (the settings a room of
laptops runs, which the student notebooks carry) into results/workshop/. Timings go to
results/runtimes.json (merged with earlier ones, each with the machine and the
date it was measured on) and, with --update-readme, into the table between the
runtime markers of README.md. A full run also exports the figures of cells tagged `readme-figure`
to book/images/ for the README.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# Each reduced setting: the file of parameters papermill injects, and the
# folder its executed copies go to.
SETTINGS = {
    "quick": (NOTEBOOKS / "quick.yml", ROOT / "results" / "quick"),
    "workshop": (NOTEBOOKS / "workshop.yml", ROOT / "results" / "workshop"),
}
QUICK_FILE, QUICK_OUT = SETTINGS["quick"]
RUNTIMES = ROOT / "results" / "runtimes.json"
FIGURES = ROOT / "book" / "images"
README = ROOT / "README.md"
TABLE_START, TABLE_END = "<!-- runtimes:start -->", "<!-- runtimes:end -->"


def book_notebooks():
    """The chapter notebooks, in file-name (chapter) order."""
    return sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


def setting_parameters(notebook: Path, setting: str) -> dict:
    """The parameters of a reduced setting ("quick" or "workshop") for one
    notebook (empty if it has none)."""
    table = yaml.safe_load(SETTINGS[setting][0].read_text()) or {}
    return dict(table.get(notebook.stem) or {})


def quick_parameters(notebook: Path) -> dict:
    """The quick-setting parameters for one notebook (empty if it has none)."""
    return setting_parameters(notebook, "quick")


# A code cell that trains: it calls Keras' fit, one of the book's training
# functions (training.train, recipe.train_with_recipe, a chapter's own run_once
# or train_* helper), or a speed helper that times trainings
# (speed.compare_training_speed, interleaved_training, layer_profile, ...).
TRAINING_CALL = re.compile(r"\.fit\(|\btrain\(|\brun_once\(|\btrain_\w+\(|\bcompare_\w*(speed|settings)\("
                           r"|\binterleaved_training\(|\blayer_profile\(")


def training_seconds(cells) -> float:
    """Seconds papermill recorded for those of an executed notebook's `cells`
    that train (TRAINING_CALL); read them before strip_run_metadata."""
    return sum(cell.metadata.get("papermill", {}).get("duration") or 0.0 for cell in cells
               if cell.cell_type == "code" and TRAINING_CALL.search(cell.source))


def strip_run_metadata(path: Path):
    """Remove papermill's bookkeeping (timestamps, local paths) from a notebook."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def export_tagged_figures(notebook: Path) -> list[Path]:
    """Write the figure of every cell tagged `readme-figure` to book/images/.

    The README shows these files; exporting them from the stored outputs keeps
    them the real output of the full run. Files are named after the notebook
    and the figure's order in it.
    """
    nb = nbformat.read(notebook, as_version=4)
    written = []
    for cell in nb.cells:
        if "readme-figure" not in cell.metadata.get("tags", []):
            continue
        pngs = [o.data["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if not pngs:
            raise SystemExit(f"{notebook.name}: a cell tagged readme-figure has no figure output")
        target = FIGURES / f"{notebook.stem}-{len(written) + 1}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(pngs[0]))
        written.append(target)
    return written


def execute(notebook: Path, output: Path, parameters: dict, timings: dict | None = None) -> float:
    """Run one notebook top to bottom in a fresh kernel; return the seconds
    taken. A `timings` dict receives the executed notebook with papermill's
    timings of every cell ("executed"), before they are stripped."""
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(output), parameters=parameters, kernel_name="python3",
        cwd=str(NOTEBOOKS), progress_bar=False,
    )
    seconds = time.perf_counter() - start
    if timings is not None:
        timings["executed"] = nbformat.read(output, as_version=4)
    strip_run_metadata(output)
    return seconds


def machine_description() -> str:
    """CPU model, core count and any NVIDIA GPU, for the runtime table."""
    from helpers.machine import cpu_description

    gpus = []
    if shutil.which("nvidia-smi"):
        query = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True)
        gpus = [g.strip() for g in query.stdout.splitlines() if g.strip()] if query.returncode == 0 else []
    return f"{cpu_description()}, " + (", ".join(gpus) if gpus else "no GPU")


def format_duration(seconds: float) -> str:
    """'25 s' under two minutes, '3.2 min' above."""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


# How the quick column was measured: here, or by `make colab-check` (which sets
# STANDALONE_RECORD to write its times with QUICK_STANDALONE).
QUICK_IN_CHECKOUT = "in this checkout (run_notebooks.py --quick)"
QUICK_STANDALONE = "outside the repository, in a fresh virtualenv with the newest libraries (make colab-check)"


def record_time(runtimes: dict, name: str, mode: str, seconds: float, machine: str, date: str):
    """Store one notebook's time in one mode ("full" or "quick") with where and
    when it was measured: rows of the table come from different runs, and a
    run may be on another machine than the last one."""
    row = runtimes["notebooks"].setdefault(name, {})
    row[mode] = seconds
    row.setdefault("measured_on", {})[mode] = f"{machine}, {date}"


def record_standalone_times(log: str) -> dict:
    """Write the quick time of each chapter that tests/test_standalone.py
    printed ("<notebook>: N s alone at the quick setting") into runtimes.json,
    noting where they were measured; return the runtimes."""
    times = dict(re.findall(r"(\d\d_\w+\.ipynb): (\d+) s alone at the quick setting", log))
    if not times:
        raise SystemExit("the log has no '<notebook>: N s alone at the quick setting' lines; "
                         "run tests/test_standalone.py with -s and pass its output.")
    runtimes = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {"notebooks": {}}
    machine, today = machine_description(), datetime.date.today().isoformat()
    for name, seconds in times.items():
        record_time(runtimes, name, "quick", float(seconds), machine, today)
    runtimes["quick_note"] = QUICK_STANDALONE
    RUNTIMES.write_text(json.dumps(runtimes, indent=2, sort_keys=True) + "\n")
    return runtimes


def update_readme(runtimes: dict):
    """Rewrite the runtime table between the README's markers."""
    # Where each full-setting time was measured (a row without its own record
    # is from the run the file names as a whole).
    full_machines = {name: row.get("measured_on", {}).get("full", runtimes.get("machine", "unknown machine"))
                     for name, row in runtimes["notebooks"].items() if "full" in row}
    one_machine = len({where.rsplit(", ", 1)[0] for where in full_machines.values()}) <= 1
    quick_note = f" Quick setting: {runtimes['quick_note']}." if "quick_note" in runtimes else ""
    lines = [TABLE_START]
    if one_machine:
        lines += [f"Measured on {runtimes.get('machine', 'unknown machine')}.{quick_note}", "",
                  "| notebook | full setting | quick setting |", "|---|---:|---:|"]
    else:
        lines += ["The full-setting times come from runs on more than one machine: the last column "
                  f"says where and when each was measured.{quick_note}", "",
                  "| notebook | full setting | quick setting | full setting measured on |",
                  "|---|---:|---:|---|"]
    for name, row in sorted(runtimes["notebooks"].items()):
        cells = [format_duration(row[k]) if k in row else "not yet measured" for k in ("full", "quick")]
        where = "" if one_machine else f" {full_machines.get(name, 'not yet measured')} |"
        lines.append(f"| `{name}` | {cells[0]} | {cells[1]} |{where}")
    from helpers.models import CHAPTERS

    groups = [("training notebooks", sorted(set(CHAPTERS.values()))), ("all notebooks", None)]
    for label, names in groups:
        rows = [row for name, row in runtimes["notebooks"].items() if names is None or name in names]
        totals = [sum(row[k] for row in rows) if rows and all(k in row for row in rows) else None
                  for k in ("full", "quick")]
        lines.append(f"| **{label}** | " + " | ".join(
            f"**{format_duration(t)}**" if t is not None else "not yet measured" for t in totals) + " |"
            + ("" if one_machine else " |"))
    lines.append(TABLE_END)
    text = README.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"README.md has no {TABLE_START} ... {TABLE_END} markers to fill.")
    head, rest = text.split(TABLE_START, 1)
    tail = rest.split(TABLE_END, 1)[1]
    README.write_text(head + "\n".join(lines) + tail)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    parser.add_argument("--full", action="store_true", help="full run, outputs stored in place (the default)")
    parser.add_argument("--quick", action="store_true", help="quick run into results/quick/")
    parser.add_argument("--workshop", action="store_true", help="workshop run into results/workshop/")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README's runtime table")
    parser.add_argument("--standalone-times", type=Path, metavar="LOG",
                        help="record the quick times that `make colab-check` printed to LOG, run nothing")
    args = parser.parse_args(argv)
    if args.standalone_times:
        runtimes = record_standalone_times(args.standalone_times.read_text())
        if args.update_readme:
            update_readme(runtimes)
        return
    modes = [m for m in ("full", "quick", "workshop") if getattr(args, m)] or ["full"]
    notebooks = [p.resolve() for p in args.notebooks] or book_notebooks()

    runtimes = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {"notebooks": {}}
    for mode in modes:
        for nb in notebooks:
            if mode == "full":
                seconds = execute(nb, nb, {})
                export_tagged_figures(nb)
            else:
                seconds = execute(nb, SETTINGS[mode][1] / nb.name, setting_parameters(nb, mode))
            print(f"{mode:>5}  {nb.name:<40} {seconds:7.1f} s", flush=True)
            record_time(runtimes, nb.name, mode, round(seconds, 1), machine_description(),
                        datetime.date.today().isoformat())
            if mode == "quick":
                runtimes["quick_note"] = QUICK_IN_CHECKOUT
    runtimes["machine"] = machine_description()
    runtimes["python"] = sys.version.split()[0]
    runtimes["date"] = datetime.date.today().isoformat()
    RUNTIMES.parent.mkdir(parents=True, exist_ok=True)
    RUNTIMES.write_text(json.dumps(runtimes, indent=2, sort_keys=True) + "\n")
    if args.update_readme:
        update_readme(runtimes)


if __name__ == "__main__":
    main()

"""Run the reproduction study (bookkit/studies.py) and write its results file.

    python scripts/run_studies.py --full            # the whole study (hours)
    python scripts/run_studies.py --quick           # a tiny version, for tests

The study trains the tutorials' models under their own protocol and the
book's, on the REPRODUCTION_SEEDS (chapters 8 and 9). The book's own CNN has
studies of its own, run by `python -m bookkit.rebuild` (chapter 11).

The study is one file in results/fashion_mnist/ (results/quick/... with
--quick): `runs` holds every training run, `rows` the summary the chapters
show. A run already in the file is not repeated, so an interrupted study
resumes where it stopped; delete the file to start it again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bookkit import studies  # noqa: E402
from helpers import models, results, splitting, uncertainty  # noqa: E402

STUDY_FIELDS = ("selection",)
# Quick runs: a few images and one epoch, two seeds, to check the plumbing.
QUICK = {"train_subset": 1000, "epochs": 1, "seeds": 2}


class Study:
    """One study file: its runs so far, and a way to add one and save."""

    def __init__(self, name: str, quick: bool, summarise):
        self.name, self.quick, self.summarise = name, quick, summarise
        path = results.results_dir(quick) / f"{name}.json"
        saved = json.loads(path.read_text()) if path.is_file() else {}
        self.runs = saved.get("runs", [])
        # The machine's load while the runs trained; kept as it was when no run is added.
        self.load = saved.get("load")
        # What the stages said of the study (the frozen variant, how it was chosen), kept on every save.
        self.fields = {key: saved[key] for key in STUDY_FIELDS if key in saved}

    def has(self, **key) -> bool:
        return any(all(run.get(k) == v for k, v in key.items()) for run in self.runs)

    def add(self, run: dict):
        self.runs.append(run)
        self.load = [round(x, 2) for x in os.getloadavg()]
        self.save()
        print(f"{self.name}: {json.dumps(run, sort_keys=True)}", flush=True)

    def save(self, **fields):
        self.fields.update(fields)
        results.write_study(self.name, self.summarise(self.runs), self.quick, runs=self.runs,
                            load=self.load, **self.fields)


# Cheapest first; the wide CNN (about 20 minutes a run on 2 cores) runs last.
# The seed every chapter trains with (their SEED parameter): a chapter's own full
# run is the study's run of that seed.
CHAPTER_SEED = 42
REPRODUCTION_ORDER = ("dense_baseline", "strided_cnn_dropout", "strided_cnn", "deep_narrow_cnn")
LAST = ("wide_cnn_bn",)


def reproduction(splits, quick: bool, model_ids=REPRODUCTION_ORDER + LAST):
    """Each tutorial model under its tutorial's protocol and under the book's.

    The book-protocol run with seed 42 is the chapters' own (their results
    files), so it is read, not repeated.
    """
    seeds_ = studies.REPRODUCTION_SEEDS[:QUICK["seeds"]] if quick else studies.REPRODUCTION_SEEDS
    study = Study("reproduction", quick, summarise=summarise_reproduction)
    if not quick:
        refresh_chapter_rows(study)
    for model_id in model_ids:
        for seed in seeds_:
            if not study.has(model=model_id, protocol="tutorial", seed=seed):
                study.add(studies.run_tutorial_protocol(
                    model_id, seed, train_subset=QUICK["train_subset"] if quick else None,
                    epochs=QUICK["epochs"] if quick else None))
            if not study.has(model=model_id, protocol="book", seed=seed):
                study.add(book_protocol_run(model_id, splits, seed, quick))


def chapter_row(model_id):
    """The book-protocol row of the chapter's own full run (its results file), or
    None if the file holds a quick run or another seed."""
    record = results.read_result(model_id, fallback=False)
    if record["seed"] != CHAPTER_SEED or record["quick"]:
        return None
    return {"model": model_id, "protocol": "book", "seed": record["seed"], "epochs": record["epochs"],
            "train_images": record["train_images"], "from": models.CHAPTERS[model_id],
            **{k: record[k] for k in ("train_seconds", "train_accuracy", "val_accuracy", "test_accuracy")}}


def refresh_chapter_rows(study):
    """Replace each row read from a chapter's results file with the file's
    current run, so that a chapter re-run since stays the study's row too."""
    changed = False
    for index, run in enumerate(study.runs):
        if run.get("from"):
            current = chapter_row(run["model"])
            if current is not None and current != run:
                study.runs[index], changed = current, True
    if changed:
        study.save()


def book_protocol_run(model_id, splits, seed, quick):
    """The book-protocol row: the chapter's own full run for its seed, or a new run."""
    if not quick and seed == CHAPTER_SEED:
        row = chapter_row(model_id)
        if row is not None:
            return row
    model_splits = splits
    if models.TUTORIAL_SETTINGS[model_id]["validation_size"] != len(splits.x_val):
        model_splits = splitting.load_splits(models.TUTORIAL_SETTINGS[model_id]["validation_size"],
                                             QUICK["train_subset"] if quick else None)
    return studies.run_book_protocol(model_id, model_splits, seed, epochs=QUICK["epochs"] if quick else None)


def summarise_reproduction(runs):
    """Per model and protocol: the seeds, the mean and sd of the test
    accuracy, and what the tutorial reported."""
    rows = []
    for model_id in models.TUTORIAL_SETTINGS:
        for protocol in ("tutorial", "book"):
            mine = [run for run in runs if run["model"] == model_id and run["protocol"] == protocol]
            if not mine:
                continue
            accuracies = [run["test_accuracy"] for run in mine]
            spread = uncertainty.mean_and_interval(accuracies) if len(mine) >= 2 else None
            rows.append({
                "model": model_id, "protocol": protocol, "seeds": [run["seed"] for run in mine],
                "test_accuracy_mean": spread["mean"] if spread else accuracies[0],
                "test_accuracy_sd": spread["sd"] if spread else None,
                "train_accuracy_mean": sum(run["train_accuracy"] for run in mine) / len(mine),
                "reported_test_accuracy": models.TUTORIAL_SETTINGS[model_id]["reported_test_accuracy"],
                "reported_train_accuracy": models.TUTORIAL_SETTINGS[model_id]["reported_train_accuracy"],
            })
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="the book's settings (hours on a CPU)")
    mode.add_argument("--quick", action="store_true", help="a tiny version of the study")
    args = parser.parse_args(argv)
    splits = splitting.load_splits(6000, QUICK["train_subset"] if args.quick else None)
    reproduction(splits, args.quick)


if __name__ == "__main__":
    main()

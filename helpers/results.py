"""Results files: one JSON file per trained model (and per multi-run study),
stamped with the machine and library versions, which later chapters read.

Runs with anything less than a model's full settings are *quick*: their
files go to a separate folder, so they never overwrite the results the book
shows.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import TypedDict

import numpy as np

from helpers import machine, models, training
from helpers.splitting import Splits


class RunRecord(TypedDict, total=False):
    """A trained model's results file, as `record_run` writes it and
    `read_result` returns it. `_write_stamped` adds the machine (`device`),
    the library versions and the `date`."""

    model: str
    params: int
    epochs: int
    tutorial_epochs: int
    batch_size: int
    seed: int
    labels: str
    train_images: int
    validation_images: int
    train_seconds: float
    seconds_per_epoch: float
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    test_loss: float
    reported_test_accuracy: float | None
    reported_train_accuracy: float | None
    history: dict  # Keras' per-epoch lists, and "seconds"
    quick: bool
    device: str
    date: str


# The fields without which a results file is not written.
REQUIRED_FIELDS = ("model", "params", "epochs", "batch_size", "train_seconds", "seconds_per_epoch",
                   "train_accuracy", "val_accuracy", "test_accuracy", "test_loss", "reported_test_accuracy")


def project_root(start=None) -> Path | None:
    """The book's repository root (the folder with _toc.yml) above `start`, if any."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "helpers").is_dir():
            return folder
    return None


def results_dir(quick: bool, dataset="fashion_mnist", start=None) -> Path:
    """Where results files go: results/<dataset>/ in the repository for full
    runs, results/quick/<dataset>/ for quick ones; ./results/... outside a
    checkout (on Colab)."""
    root = project_root(start) or Path(start or Path.cwd())
    return root / "results" / ("quick" if quick else "") / dataset


def write_results(record: dict, quick: bool, start=None) -> Path:
    """Write one model's results as JSON, named after record["model"]."""
    missing = set(REQUIRED_FIELDS) - set(record)
    if missing:
        raise ValueError(f"the results record lacks {', '.join(sorted(missing))}.")
    return _write_stamped(record["model"], record, quick, start)


def _write_stamped(name: str, payload: dict, quick: bool, start=None) -> Path:
    """Write payload as results/.../<name>.json with the machine, the library
    versions, the quick flag and the date added; return the path."""
    payload = dict(payload)
    payload.update({
        **machine.library_versions(),
        "device": machine.device_description(),
        "quick": bool(quick),
        "date": datetime.date.today().isoformat(),
    })
    folder = results_dir(quick, start=start)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def write_study(name: str, rows: list, quick: bool, start=None, **fields) -> Path:
    """Write the rows of a multi-run study (a list of dicts) as results/.../<name>.json,
    with the machine and library versions and any further `fields`, and
    return the path."""
    return _write_stamped(name, {**fields, "study": name, "rows": rows}, quick, start)


def shipped_dir(dataset="fashion_mnist") -> Path:
    """The book's full-run results files that ship inside the package
    (helpers/book_results/<dataset>/, a copy of the repository's
    results/<dataset>/ made by `scripts/sync_book_results.py`)."""
    return Path(str(resources.files("helpers") / "book_results" / dataset))


def read_result(model_id, quick=False, dataset="fashion_mnist", start=None, fallback=True,
                verbose=True) -> RunRecord:
    """One model's results file (a `RunRecord`), and (with `verbose`) a line saying where it came from.

    It prefers a file that a run in this runtime wrote (results/<dataset>/,
    or results/quick/<dataset>/ with `quick`); without one, and with
    `fallback`, it reads the book's full run that ships with the package, so
    that a chapter runs alone on a fresh runtime. Raises FileNotFoundError,
    naming the chapter that writes the file, when neither exists.
    """
    path = results_dir(quick, dataset, start=start) / f"{model_id}.json"
    shipped = shipped_dir(dataset) / f"{model_id}.json"
    if path.is_file():
        record, source = json.loads(path.read_text()), f"your {'quick' if quick else 'full'} run"
    elif fallback and shipped.is_file():
        record, source = json.loads(shipped.read_text()), "the book's full run"
    else:
        chapter = models.CHAPTERS.get(model_id, "the chapter that trains it")
        kind = "quick" if quick else "full"
        raise FileNotFoundError(f"No {kind} results for {model_id!r}: {path} does not exist"
                                f"{'' if fallback else ' (and fallback=False)'}. Run {chapter} first"
                                f"{' with its quick settings' if quick else ''}; it writes this file.")
    if verbose:
        print(f"{model_id}: results of {source} ({record.get('date', 'undated')}, "
              f"{record.get('device', 'unknown machine')})")
    return record


def read_study(name, dataset="fashion_mnist", start=None, verbose=True) -> dict:
    """A multi-run study's file (`write_study`) as a dict, and (with
    `verbose`) a line naming the file it read.

    Studies are made only by full runs of `scripts/run_studies.py`, so a
    chapter reads the full-run file whatever its own setting: the one in
    results/<dataset>/ of this checkout (or runtime) if it exists, otherwise
    the book's copy that ships with the package (on Colab, the only one).
    Raises FileNotFoundError when neither exists, and ValueError for a file
    of a quick run.
    """
    folder = results_dir(False, dataset, start=start)
    path, shipped = folder / f"{name}.json", shipped_dir(dataset) / f"{name}.json"
    if path.is_file():
        root = folder.parents[1]  # the checkout (or the folder the runtime started in)
        source = f"{path.relative_to(root).as_posix()} in this checkout"
    elif shipped.is_file():
        path, source = shipped, (f"helpers/book_results/{dataset}/{name}.json, the book's copy "
                                 "shipped with the helpers package")
    else:
        raise FileNotFoundError(f"No study {name!r}: neither {path} nor the package's copy exists. "
                                "Reinstall the book's helpers package, whose copy holds every "
                                "study the chapters read (the README's 'Studies' section says "
                                "which run writes each one).")
    study = json.loads(path.read_text())
    if study.get("quick"):
        raise ValueError(f"{source} holds a quick study; chapters show full runs only.")
    if verbose:
        # A search's file lists candidates (validation runs), every other study its runs.
        kind = "candidates" if "candidates" in study else "runs"
        print(f"{name} study: {source} ({study_dates(study, kind)}, {study_machines(study, kind)}, "
              f"{counted(len(study.get(kind, [])), kind)})")
    return study


def study_dates(study: dict, kind: str = "runs") -> str:
    """When a study was made: its own `date`, or else the first and last
    dates of its runs (or candidates); "undated" if none has one."""
    if "date" in study:
        return study["date"]
    dates = sorted({run["date"] for run in study.get(kind, []) if run.get("date")})
    if not dates:
        return "undated"
    return dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"


def study_machines(study: dict, kind: str = "runs") -> str:
    """Where a study was made: its `device` (where it started), and how many
    of its runs (or candidates) name another machine, and which."""
    main = study.get("device", "unknown machine")
    others = Counter(run["device"] for run in study.get(kind, []) if run.get("device", main) != main)
    return main + "".join(f"; {counted(count, kind)} on {device}" for device, count in others.items())


def counted(count: int, things: str) -> str:
    """"1 run", "2 runs": a count with its plural noun, singular for one."""
    return f"{count} {things[:-1] if count == 1 else things}"


def read_results(model_ids, quick=False, dataset="fashion_mnist", start=None, fallback=True,
                 verbose=True):
    """Several models' results (`read_result` for each) as a DataFrame indexed by model id."""
    import pandas as pd

    records = [read_result(model_id, quick, dataset, start, fallback, verbose) for model_id in model_ids]
    if not records:
        raise ValueError("model_ids is empty: name the models whose results to read.")
    return pd.DataFrame(records).set_index("model")


def record_run(model_id, run: training.TrainingRun, splits: Splits, batch_size: int, seed: int,
               test_loss: float, test_accuracy: float) -> RunRecord:
    """Write the results file of one tutorial model trained and tested as its chapter shows.

    `run` is the `training.TrainingRun` of the training (for a `model.fit`
    call in a cell, `TrainingRun.from_fit(history, logger)`); `test_loss`
    and `test_accuracy` are what
    `model.evaluate` gave on the test split. The run counts as *quick*
    (`is_quick_run`), and goes to results/quick/, if it used fewer than all
    60,000 training images, fewer epochs than the tutorial's
    (`models.TUTORIAL_SETTINGS`) or another batch size. Returns the record as
    saved: the per-epoch history, the machine and library versions included.
    """
    settings = models.TUTORIAL_SETTINGS[model_id]
    per_epoch = {**run.history, "seconds": run.seconds_per_epoch}
    epochs = run.epochs
    quick = is_quick_run(model_id, splits, epochs, batch_size)
    record = {
        "model": model_id,
        "params": run.model.count_params(),
        "epochs": epochs,
        "tutorial_epochs": settings["epochs"],
        "batch_size": batch_size,
        "seed": seed,
        "labels": settings["labels"],
        "train_images": len(splits.x_train),
        "validation_images": len(splits.x_val),
        "train_seconds": round(run.fit_seconds, 1),
        "seconds_per_epoch": round(run.fit_seconds / epochs, 1),
        "train_accuracy": run.last("accuracy"),  # last epoch, as Keras reports it
        "val_accuracy": float(per_epoch["val_accuracy"][-1]),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "reported_test_accuracy": settings["reported_test_accuracy"],
        "reported_train_accuracy": settings["reported_train_accuracy"],
        "history": _rounded_history(per_epoch),
        "quick": quick,
    }
    path = write_results(record, quick)
    return json.loads(path.read_text())


def _rounded_history(per_epoch: dict) -> dict:
    """Per-epoch lists with five decimals, as the results files keep them."""
    return {name: [round(float(v), 5) for v in values] for name, values in per_epoch.items()}


def is_quick_run(model_id, splits: Splits, epochs: int, batch_size: int) -> bool:
    """The one rule for a quick run: True unless the run used all 60,000
    training images (training plus validation), at least the full run's
    epochs and its batch size (the tutorial's, `models.TUTORIAL_SETTINGS`)."""
    full = models.TUTORIAL_SETTINGS
    if model_id not in full:
        raise ValueError(f"no full settings for {model_id!r}; choose one of: {', '.join(full)}.")
    settings = full[model_id]
    return (len(splits.x_train) + len(splits.x_val) < 60000 or epochs < settings["epochs"]
            or batch_size != settings["batch_size"])


# One measurement of chapter 12: a trained model's test accuracy on disturbed images.
ROBUSTNESS_FIELDS = ("model", "perturbation", "level", "seed", "test_accuracy")


def write_robustness(rows: list, quick: bool, start=None, **fields) -> Path:
    """Write chapter 12's measurements as results/.../robustness.json (a study
    file, `write_study`), and return the path.

    `rows` holds one dict per measurement, with the ROBUSTNESS_FIELDS: the
    model, the perturbation ("rotation", "shift right"...), its level (pixels,
    degrees, a noise sd, a position), the training seed and the test accuracy.
    Besides the rows, the file keeps `curves`: for each model and
    perturbation, the `levels` in the order measured, the `seeds`, and the
    `test_accuracy` of every seed (keyed by the seed as text) at each level.
    Every seed of a model and perturbation must have been measured at the
    same levels, each once.
    """
    if not rows:
        raise ValueError("no robustness measurements to write: rows is empty.")
    curves = {}
    seen = set()
    for number, row in enumerate(rows):
        missing = [name for name in ROBUSTNESS_FIELDS if name not in row]
        if missing:
            raise ValueError(f"row {number} lacks {', '.join(missing)}; each row needs "
                             f"{', '.join(ROBUSTNESS_FIELDS)}.")
        key = tuple(row[name] for name in ROBUSTNESS_FIELDS[:4])
        if key in seen:
            raise ValueError(f"row {number} measures {row['model']}, {row['perturbation']}, level "
                             f"{row['level']!r}, seed {row['seed']} a second time.")
        seen.add(key)
        accuracy = row["test_accuracy"]
        if not 0 <= accuracy <= 1:
            raise ValueError(f"row {number}: test_accuracy must lie in [0, 1], got {accuracy}.")
        curve = curves.setdefault(row["model"], {}).setdefault(
            row["perturbation"], {"levels": [], "seeds": [], "test_accuracy": {}})
        if row["level"] not in curve["levels"]:
            curve["levels"].append(row["level"])
        if row["seed"] not in curve["seeds"]:
            curve["seeds"].append(row["seed"])
        curve["test_accuracy"].setdefault(str(row["seed"]), {})[_level_key(row["level"])] = float(accuracy)
    for model, perturbations in curves.items():
        for perturbation, curve in perturbations.items():
            for seed, by_level in curve["test_accuracy"].items():
                absent = [level for level in curve["levels"] if _level_key(level) not in by_level]
                if absent:
                    raise ValueError(f"{model}, {perturbation}: seed {seed} has no measurement at "
                                     f"level(s) {absent}; every seed needs the same levels.")
                curve["test_accuracy"][seed] = [by_level[_level_key(level)] for level in curve["levels"]]
    return write_study("robustness", rows, quick, start, curves=curves, **fields)


def _level_key(level) -> str:
    """A level as a dictionary key: 2 and 2.0 are the same level."""
    if isinstance(level, (int, float, np.number)) and not isinstance(level, bool):
        return repr(float(level))
    return repr(level)

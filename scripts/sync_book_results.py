#!/usr/bin/env python3
"""Copy the book's full-run results files into the package, so that they ship with it.

    python scripts/sync_book_results.py

A chapter that shows results of other chapters' full runs reads them from
results/<dataset>/ when a run in this checkout (or runtime) wrote them, and
otherwise from the copy inside the installed package
(helpers/book_results/<dataset>/): on a fresh Colab runtime, only that copy
exists. Run this after every full run that changes results/; a test fails
while the two differ.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "results"
TARGET = ROOT / "helpers" / "book_results"
DATASETS = ("fashion_mnist",)


def sync(source: Path = SOURCE, target: Path = TARGET, datasets=DATASETS) -> list[Path]:
    """Make target/<dataset>/ hold exactly the JSON files of source/<dataset>/; return them."""
    copied = []
    for dataset in datasets:
        files = sorted((source / dataset).glob("*.json"))
        if not files:
            raise SystemExit(f"{source / dataset} holds no results files: run the training "
                             "notebooks at their full settings first (make outputs).")
        folder = target / dataset
        shutil.rmtree(folder, ignore_errors=True)  # files of removed models go too
        folder.mkdir(parents=True)
        for path in files:
            shutil.copy2(path, folder / path.name)
            copied.append(folder / path.name)
    return copied


if __name__ == "__main__":
    for path in sync():
        print("shipped", path.relative_to(ROOT))

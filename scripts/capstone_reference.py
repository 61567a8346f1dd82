#!/usr/bin/env python3
"""The capstone challenge's reference solution, trained under the challenge's rules.

    python scripts/capstone_reference.py                 # two minutes of training, then the record
    python scripts/capstone_reference.py --seconds 20    # a rougher trial run (the record says so)

The challenge (book/capstone.md): the best validation accuracy on
Fashion-MNIST with at most 20,000 parameters and at most 2 minutes of
training. This script trains `build_model()`, the model the page shows in its
instructor's solution, on the book's stratified split (6,000 validation
images, the same in every chapter; the other 54,000 for training):

- training stops at the first batch that ends after the time budget
  (`TimeLimit`), or after MAX_EPOCHS, whichever comes first; the seconds
  reported are the wall-clock time of `fit`, graph building included;
- nothing is validated during training, so every second goes to training;
  the validation images are scored once, after `fit`;
- the test set is not touched: in the challenge, the instructor scores it
  once, at the end.

It prints the parameters, the seconds and the validation accuracy, and writes
them, with the machine and library versions, to results/capstone_reference.json
(or --output). The capstone page quotes its numbers from that file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import keras
from keras import layers

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that `helpers` imports from a checkout without `pip install -e .`

MAX_PARAMETERS = 20_000  # the challenge's limits
BUDGET_SECONDS = 120
VALIDATION_SIZE = 6_000  # the book's stratified validation split
BATCH_SIZE = 128
MAX_EPOCHS = 30  # a cap; on a laptop the time budget stops training first
SEED = 42
OUTPUT = ROOT / "results" / "capstone_reference.json"
# The capstone page shows the record in a table between these markers; a run
# under the rules, written to OUTPUT, rewrites it.
PAGE = ROOT / "book" / "capstone.md"
TABLE_START, TABLE_END = "<!-- capstone-reference:start -->", "<!-- capstone-reference:end -->"


def build_model():
    """The reference solution: three 3x3 convolutions, each followed by 2x2
    max pooling, batch normalisation after the second and third, and a
    linear classifier on the 3x3x32 result. Plain Keras, compiled."""
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class TimeLimit(keras.callbacks.Callback):
    """Stop training at the end of the first batch that finishes after `seconds`."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True


def render_table(record: dict) -> str:
    """The capstone page's table of one record (markers included)."""
    return "\n".join([
        TABLE_START,
        "| parameters | seconds of training | epochs | validation accuracy | machine |",
        "|---:|---:|---:|---:|---|",
        f"| {record['parameters']:,} | {record['seconds']:.1f} | {record['epochs']:g} | "
        f"{record['val_accuracy']:.4f} | {record['machine']}, Keras {record['keras']}, {record['date']} |",
        TABLE_END,
    ])


def update_page(record: dict, page: Path = PAGE) -> None:
    """Write the record's table between the page's markers."""
    text = page.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{page} has no {TABLE_START} ... {TABLE_END} markers to fill.")
    head, rest = text.split(TABLE_START, 1)
    page.write_text(head + render_table(record) + rest.split(TABLE_END, 1)[1])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=BUDGET_SECONDS,
                        help=f"training budget in seconds, at most {BUDGET_SECONDS} (the challenge's rule)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the JSON record")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= BUDGET_SECONDS:
        parser.error(f"--seconds must be between 0 and {BUDGET_SECONDS}, got {args.seconds:g}")
    return args


def main(argv=None):
    args = parse_args(argv)
    from helpers import splitting

    splits = splitting.load_splits(VALIDATION_SIZE)  # scaled float32 (n, 28, 28, 1), integer labels
    keras.utils.set_random_seed(SEED)
    model = build_model()
    parameters = model.count_params()
    if parameters > MAX_PARAMETERS:
        raise SystemExit(f"The reference model has {parameters:,} parameters, over the limit of {MAX_PARAMETERS:,}.")

    steps_per_epoch = -(-len(splits.x_train) // BATCH_SIZE)
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    start = time.perf_counter()
    model.fit(splits.x_train, splits.y_train, epochs=MAX_EPOCHS, batch_size=BATCH_SIZE,
              callbacks=[TimeLimit(args.seconds), counter], verbose=2)
    seconds = time.perf_counter() - start
    _, val_accuracy = model.evaluate(splits.x_val, splits.y_val, batch_size=1024, verbose=0)

    record = {
        "model": "scripts/capstone_reference.py:build_model",
        "parameters": parameters,
        "trainable_parameters": sum(math.prod(w.shape) for w in model.trainable_weights),
        "seconds": round(seconds, 1),
        "budget_seconds": args.seconds,
        "under_the_rules": args.seconds == BUDGET_SECONDS and parameters <= MAX_PARAMETERS,
        "epochs": round(len(steps) / steps_per_epoch, 2),
        "batch_size": BATCH_SIZE,
        "train_images": len(splits.x_train),
        "validation_images": len(splits.x_val),
        "val_accuracy": round(float(val_accuracy), 4),
        "seed": SEED,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "date": datetime.date.today().isoformat(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    if record["under_the_rules"] and args.output == OUTPUT:
        update_page(record)
        print(f"the table of {PAGE.relative_to(ROOT)} rewritten")
    print(f"parameters: {parameters:,}")
    print(f"seconds of training: {seconds:.1f} ({record['epochs']} epochs of {len(splits.x_train):,} images)")
    print(f"validation accuracy: {val_accuracy:.4f} ({len(splits.x_val):,} images)")
    print(f"written to {args.output}")
    return record


if __name__ == "__main__":
    main()

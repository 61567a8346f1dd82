#!/usr/bin/env python3
"""Time training throughput: the tutorials' plain pattern against the book's helper.

    python scripts/benchmark_training.py                       # dense baseline and strided CNN
    python scripts/benchmark_training.py --models dense_baseline --epochs 4
    python scripts/benchmark_training.py --train-subset 6000   # a quicker, rougher run

For each model, in one run on this machine, it trains the same model from the
same initial weights three ways (see helpers/speed.py): as the tutorials do
(float64 inputs, Keras' default batch size and one step per call), with
float32 inputs only, and with the book's `training.train`. The three take
turns, one epoch each (A, B, C, A, B, C, ...), so that a slow spell of the
machine falls on all of them. It prints the images per second of each (the
median of the epochs after the first, with the slowest and fastest), the
ratio to the tutorial pattern, and the validation and test accuracy each
reached, and writes them to results/benchmark/training_speed.json (or
--output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that it runs from a checkout without `pip install -e .`


def parse_args(argv=None):
    from helpers import models

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="dense_baseline,strided_cnn",
                        help=f"comma-separated model ids, from: {', '.join(models.BUILDERS)}")
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs per variant, at least 2: the first builds the graph and is not timed; "
                             "the median of the rest is")
    parser.add_argument("--train-subset", type=int, default=None,
                        help="train on this many images instead of all 54,000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "benchmark" / "training_speed.json")
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in models.BUILDERS]
    if unknown:
        parser.error(f"unknown model id {', '.join(unknown)}; choose from {', '.join(models.BUILDERS)}")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch builds the graph and is not timed")
    return args


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parse_args(argv)
    from helpers import machine, speed

    rows = speed.compare_training_speed(args.models, epochs=args.epochs,
                                        train_subset=args.train_subset, seed=args.seed)
    table = speed.speed_table(rows)
    print()
    print(f"Machine: {machine.cpu_description()}; {machine.device_description()}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}" if v < 1.5 else f"{v:,.1f}"))
    for model_id in args.models:
        mine = table[table.model == model_id].set_index("variant")
        helper = mine.loc["book helper"]
        print(f"{model_id}: the book's helper trains {helper['speed_up']:.2f} times as fast as the tutorial "
              f"pattern (epoch by epoch {helper['speed_up_min']:.2f}-{helper['speed_up_max']:.2f}; "
              f"test accuracy {helper['test_accuracy']:.4f} vs "
              f"{mine.loc['tutorial pattern', 'test_accuracy']:.4f}).")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    payload = {"epochs": args.epochs, "train_subset": args.train_subset, "seed": args.seed,
               "machine": machine.cpu_description(), "device": machine.device_description(),
               "rows": rows}
    args.output.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"Written to {args.output}")
    return rows


if __name__ == "__main__":
    main()

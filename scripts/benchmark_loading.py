#!/usr/bin/env python3
"""Time how long `helpers.data.load_fashion_mnist()` takes on this machine.

    python scripts/benchmark_loading.py             # 5 loads, prints each and the median
    python scripts/benchmark_loading.py --repeats 9

Every load finds, decompresses and checks the four files (their SHA-256
against the official data), as a notebook's first cell does. The first load
may read the files from disk, the later ones from the operating system's
cache; the median is the figure to quote. The test suite does not assert a
time, since a busy machine would make it fail at random: this script measures it.
It never downloads: without a local copy it says where it looked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so that it runs from a checkout without `pip install -e .`


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="how many loads to time (at least 1)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def time_loads(load, repeats):
    """Seconds taken by each of `repeats` calls of `load()`."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        load()
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv=None):
    args = parse_args(argv)
    from helpers import data, machine

    seconds = time_loads(lambda: data.load_fashion_mnist(download=False), args.repeats)
    print(f"Machine: {machine.cpu_description()}")
    print("Loads (s): " + ", ".join(f"{s:.3f}" for s in seconds))
    median = statistics.median(seconds)
    print(f"Median of {len(seconds)} loads of Fashion-MNIST: {median:.3f} s")
    return median


if __name__ == "__main__":
    main()

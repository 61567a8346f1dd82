"""Shared test fixtures: where the project lives and which notebooks it has."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # tests draw figures without a screen

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so that `scripts.run_notebooks` imports

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))

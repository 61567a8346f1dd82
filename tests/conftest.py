"""Shared test fixtures: where the project lives, which notebooks it has, and
the book built once for every test that reads it."""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # tests draw figures without a screen

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so that `scripts.run_notebooks` imports

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@dataclass(frozen=True)
class Build:
    """The HTML book, built into a temporary folder, and how long that took."""

    html: Path
    seconds: float


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Build:
    """Build the book once per test session, with warnings as errors, exactly
    as `make book` does but into a temporary folder: every test that reads
    the site shares this one build."""
    if not (ROOT / "_vendor" / "mathjax" / "tex-chtml.js").exists():
        pytest.fail("_vendor/mathjax/ is missing: run `make install`, which copies the "
                    "MathJax that the site serves (scripts/vendor_mathjax.py)")
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going",
         "--path-output", str(out)],
        capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return Build(html=out / "_build" / "html", seconds=seconds)


@pytest.fixture(scope="session")
def html(book) -> Path:
    """The built book's HTML folder."""
    return book.html

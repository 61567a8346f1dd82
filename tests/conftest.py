"""Shared test set-up: where the project lives, which notebooks it has, the
`needs_real_data` marker, small stand-ins for the data and a checkout, and
the book built once for every test that reads it.

Markers (registered in pyproject.toml):
- `slow`: takes more than about ten seconds (trains a real model, runs a study);
- `integration`: builds a virtualenv or the book, executes notebooks, drives a
  browser or runs a maintainer's script end to end;
- `needs_real_data`: reads Debian's Fashion-MNIST; skipped where it is not
  installed (CI installs it).

`make test-fast` leaves out `slow` and `integration`. Test modules never
import each other: what they share lives here, as fixtures or, for the
constants that parametrize tests at import time, as names a module may import
(`from conftest import ROOT`).
"""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

matplotlib.use("Agg")  # tests draw figures without a screen

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so that `scripts.run_notebooks` and `bookkit` import

from helpers import data, splitting  # noqa: E402  (NumPy only: no TensorFlow here)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "requirements.lock"


def real_data_installed() -> bool:
    """Whether Debian's dataset-fashion-mnist package is installed."""
    return all((data.DEBIAN_DIR / f.name).is_file() for f in data.FASHION_MNIST.files)


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_real_data") and not real_data_installed():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")


def pinned_versions(path):
    """{canonical name: version} of every `name==version` line of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        exact = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if exact:
            pins[canonicalize_name(requirement.name)] = exact[0]
    return pins


@pytest.fixture
def fake_checkout(tmp_path):
    """A folder that `helpers.results` takes for the book's repository (a
    _toc.yml and a helpers/ folder): results files go below it. Returns its
    notebooks/ folder, where a chapter runs."""
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "notebooks").mkdir()
    return tmp_path / "notebooks"


def _random_splits(train=96, validation=32, test=32, seed=0) -> splitting.Splits:
    """Random images and labels in the shapes of the real splits: enough to
    run the training plumbing in seconds, without the data."""
    rng = np.random.default_rng(seed)

    def part(n):
        return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n)

    return splitting.Splits(*part(train), *part(validation), *part(test))


@pytest.fixture
def make_splits():
    """A function that makes random splits: make_splits(train=96,
    validation=32, test=32, seed=0)."""
    return _random_splits


@pytest.fixture
def tiny_splits() -> splitting.Splits:
    """Random splits of 96 training, 32 validation and 32 test images."""
    return _random_splits()


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

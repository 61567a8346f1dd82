"""pytest-randomly shuffles the tests (to catch tests that lean on each other),
but never the cells of a notebook that nbval checks: they share one kernel."""

import functools
import re
import subprocess
import sys

import pytest

from conftest import ROOT

QUICK_NOTEBOOKS = ("notebooks/01_why_cnns.ipynb", "notebooks/03_counting_parameters.ipynb")
# Many tests and no TensorFlow import: collecting them takes a second.
UNIT_TESTS = "tests/test_notebook_hygiene.py"


@functools.lru_cache
def collected_order(seed):
    """The test ids pytest would run, in order, for the quick notebooks and UNIT_TESTS."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "randomly",
         f"--randomly-seed={seed}", *QUICK_NOTEBOOKS, UNIT_TESTS],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tuple(line for line in result.stdout.splitlines() if "::" in line)


@pytest.mark.parametrize("seed", [1, 2])
def test_notebook_cells_stay_together_and_in_order(seed):
    order = collected_order(seed)
    for notebook in QUICK_NOTEBOOKS:
        positions = [i for i, test_id in enumerate(order) if test_id.startswith(notebook + "::")]
        cells = [int(re.fullmatch(r".*::Cell (\d+)", order[i]).group(1)) for i in positions]
        assert cells and cells == list(range(len(cells))), (notebook, cells)
        assert positions == list(range(positions[0], positions[0] + len(positions))), notebook


def test_unit_tests_are_shuffled():
    # Guards against the plugin being switched off: two seeds, two orders.
    first, second = ([t for t in collected_order(seed) if t.startswith(UNIT_TESTS)] for seed in (1, 2))
    assert first and sorted(first) == sorted(second) and first != second

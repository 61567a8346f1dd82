"""`ruff check .` passes: the rules and the files it skips are in
pyproject.toml's [tool.ruff] (pyflakes, pycodestyle, import order, pyupgrade,
bugbear; notebooks excluded)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

RUFF = Path(sys.executable).with_name("ruff")  # the virtualenv's, pinned in requirements.txt


def test_ruff_finds_nothing():
    if not RUFF.is_file():
        message = f"ruff is not installed next to {sys.executable}: make install"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([str(RUFF), "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check . found:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"

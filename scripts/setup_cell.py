#!/usr/bin/env python3
"""The first code cell of every chapter, written from one template.

    python scripts/setup_cell.py          # rewrite the setup cell of every notebook

The cell installs the `helpers` release that the book was built with (the
version in helpers/__init__.py, tagged v<version> in the repository whose URL
_config.yml names) where the runtime lacks it, as on Colab, and checks that
Python then imports that release and not an unrelated package called
`helpers`. A test checks that every notebook's setup cell is this text.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "hands-on-cnns-helpers"

TEMPLATE = '''\
# Setup: the book's `helpers` package, release {version}. Where it is missing (on
# Colab, for example), it is installed from the book's repository.
HELPERS_VERSION = "{version}"
HELPERS_SOURCE = f"git+{url}@v{{HELPERS_VERSION}}"
from importlib import metadata
try:
    installed = metadata.version("{distribution}")
except metadata.PackageNotFoundError:
    installed = None
if installed != HELPERS_VERSION:
    %pip install --quiet "{distribution} @ {{HELPERS_SOURCE}}"
try:
    import helpers
    assert (helpers.__book__, helpers.__version__) == ("hands-on-cnns", HELPERS_VERSION)
except (ImportError, AttributeError, AssertionError):
    raise RuntimeError(
        f"This chapter needs the book's helpers {{HELPERS_VERSION}} and could not "
        "install or import them: connect to the internet, restart the runtime and "
        "run all cells again (the book's setup page explains other ways).") from None
helpers.quiet_tensorflow()  # TensorFlow starts without its start-up logs'''


def helpers_version(root: Path = ROOT) -> str:
    """The release number in helpers/__init__.py."""
    match = re.search(r'^__version__ = "([^"]+)"', (root / "helpers" / "__init__.py").read_text(), re.M)
    if not match:
        raise SystemExit("helpers/__init__.py has no __version__ line.")
    return match.group(1)


def repository_url(root: Path = ROOT) -> str:
    """The book's repository, from _config.yml (the one place that names it)."""
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]


def render(root: Path = ROOT) -> str:
    """The setup cell's source."""
    return TEMPLATE.format(version=helpers_version(root), url=repository_url(root),
                           distribution=DISTRIBUTION)


def setup_cell_index(nb) -> int:
    """The index of a notebook's setup cell: its first code cell."""
    return next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")


# The setup cell is plumbing, not the lesson: the website shows it collapsed
# (MyST-NB's hide-input tag); in Jupyter and Colab it runs as any other cell.
SETUP_TAG = "hide-input"


def write_setup_cell(path: Path, source: str) -> bool:
    """Put `source` into the notebook's setup cell, tagged SETUP_TAG; return
    whether it changed."""
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[setup_cell_index(nb)]
    tags = cell.metadata.setdefault("tags", [])
    if cell.source == source and SETUP_TAG in tags:
        return False
    cell.source = source
    if SETUP_TAG not in tags:
        tags.append(SETUP_TAG)
    nbformat.write(nb, path)
    return True


if __name__ == "__main__":
    text = render()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        if write_setup_cell(notebook, text):
            print("rewrote the setup cell of", notebook.name)
    sys.exit(0)

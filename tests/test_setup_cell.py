"""The setup cell: one text in every notebook, and it does what it says.

It installs the release of `helpers` that the book was built with where the
runtime lacks it, and stops with one clear sentence when Python cannot import
that release (no internet, or an unrelated package called `helpers`).
"""

import types

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import helpers
from conftest import NOTEBOOKS
from scripts import setup_cell

SOURCE = setup_cell.render()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_starts_with_the_same_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[setup_cell.setup_cell_index(nb)]
    assert cell.source == SOURCE, "run scripts/setup_cell.py to rewrite the setup cells"
    assert setup_cell.SETUP_TAG in cell.metadata.get("tags", []), (
        "the website shows the setup cell collapsed: run scripts/setup_cell.py")


def test_no_line_of_the_setup_cell_scrolls_sideways():
    # The site's code column holds about 100 characters (book/_css/book.css).
    assert max(len(line) for line in SOURCE.splitlines()) <= 90


def test_the_setup_cell_asks_for_this_release_from_the_configured_repository():
    assert f'HELPERS_VERSION = "{helpers.__version__}"' in SOURCE
    assert f"git+{setup_cell.repository_url()}@v" in SOURCE
    assert "main" not in SOURCE  # a release tag, never the moving branch


def run_setup_cell(monkeypatch, installed, imported):
    """Run the cell as IPython would, with `installed` as the distribution's
    version (None: not installed) and `imported` as the module `import
    helpers` finds. Returns the %pip lines it ran."""
    from importlib import metadata

    def version(name):
        assert name == setup_cell.DISTRIBUTION
        if installed is None:
            raise metadata.PackageNotFoundError(name)
        return installed

    magics = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: magics.append((name, line)))
    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setitem(__import__("sys").modules, "helpers", imported)
    python = TransformerManager().transform_cell(SOURCE)
    # IPython expands {name} in magic lines before running them; do the same.
    namespace = {"get_ipython": lambda: types.SimpleNamespace(
        run_line_magic=lambda name, line: shell.run_line_magic(name, line.format(**namespace)))}
    exec(python, namespace)
    return magics


def test_an_installed_release_is_used_as_it_is(monkeypatch):
    assert run_setup_cell(monkeypatch, helpers.__version__, helpers) == []


def test_a_missing_or_other_release_is_installed_from_its_tag(monkeypatch):
    for installed in (None, "0.0.1"):
        (magic,) = run_setup_cell(monkeypatch, installed, helpers)
        assert magic[0] == "pip"
        assert magic[1] == (f'install --quiet "{setup_cell.DISTRIBUTION} @ git+'
                            f'{setup_cell.repository_url()}@v{helpers.__version__}"')


@pytest.mark.parametrize("imported", [
    types.SimpleNamespace(),  # PyPI's unrelated `helpers`: no __book__
    types.SimpleNamespace(__book__="hands-on-cnns", __version__="0.0.1"),  # an older release
    None,  # nothing importable (the install failed: no internet)
], ids=["unrelated package", "other release", "not importable"])
def test_anything_else_stops_with_one_clear_sentence(monkeypatch, imported):
    with pytest.raises(RuntimeError, match=r"needs the book's helpers .* connect to the internet, "
                                           r"restart the runtime"):
        run_setup_cell(monkeypatch, helpers.__version__, imported)

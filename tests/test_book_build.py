"""The book builds with warnings as errors, from the stored outputs, with a
Colab and a Binder launch button on every notebook page."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOTEBOOKS, ROOT


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going",
         "--path-output", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


def test_every_page_is_built(html):
    assert (html / "index.html").exists()
    for path in NOTEBOOKS:
        assert (html / "notebooks" / f"{path.stem}.html").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_pages_have_launch_and_download_buttons(html, path):
    page = (html / "notebooks" / f"{path.stem}.html").read_text()
    assert re.search(
        rf"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/main/notebooks/{path.stem}\.ipynb",
        page), "no Colab launch link"
    assert f"mybinder.org/v2/gh/" in page, "no Binder launch link"
    assert f"_sources/notebooks/{path.stem}.ipynb" in page, "no download link for the notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_pages_show_stored_outputs_and_hidden_solutions(html, path):
    page = (html / "notebooks" / f"{path.stem}.html").read_text()
    assert page.count("<img") >= 1, "no figures: were the outputs stored?"
    assert "cell_output" in page
    assert page.count('class="solution dropdown') >= 2, "exercises need hidden solutions"


def test_search_page_exists(html):
    assert (html / "search.html").exists() and (html / "searchindex.js").exists()

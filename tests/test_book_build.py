"""The book builds with warnings as errors, from the stored outputs, with a
Colab and a Binder launch button on every notebook page.

The build itself is the session fixture `html` of conftest.py: one build per
test session, shared by every test that reads the site.
"""

import re

import pytest

from conftest import NOTEBOOKS

# Builds the whole book (conftest's `book` fixture): `make test-fast` leaves it out.
pytestmark = [pytest.mark.slow, pytest.mark.integration]


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
    assert re.search(
        rf"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/main\?urlpath=lab/tree/notebooks/{path.stem}\.ipynb",
        page), "no Binder launch link opening JupyterLab"
    assert re.search(
        rf'<a href="\.\./_sources/notebooks/{path.stem}\.ipynb"[^>]*btn-download-source-button', page), (
        "no download button for the notebook")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_pages_show_stored_outputs_and_hidden_solutions(html, path):
    page = (html / "notebooks" / f"{path.stem}.html").read_text()
    assert page.count("<img") >= 1, "no figures: were the outputs stored?"
    assert "cell_output" in page
    assert page.count('class="solution dropdown') >= 2, "exercises need hidden solutions"


def test_search_page_exists(html):
    assert (html / "search.html").exists() and (html / "searchindex.js").exists()


def test_pages_load_mathjax_and_every_script_and_stylesheet_from_the_site(html):
    """MathJax is the site's own copy (_config.yml's mathjax_path, copied by
    `make install`), and no page loads code or styles from elsewhere: the
    site works offline."""
    for page in sorted(html.rglob("*.html")):
        text = page.read_text()
        remote = re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert not remote, f"{page.relative_to(html)} loads {remote}"
    chapter = (html / "notebooks" / "02_convolution.html").read_text()
    assert re.search(r'<script[^>]*src="\.\./_static/mathjax/tex-chtml\.js', chapter)
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()

"""The repository's URL lives in one place, _config.yml's repository.url.

The book's launch and repository buttons and the notebooks' setup cells are
made from it (scripts/setup_cell.py; tests/test_setup_cell.py checks every
notebook). Text that has to spell it out, the README and the book's pages,
is checked against it here: the link to the published site
(https://<owner>.github.io/<repository>/), the clone commands, and every
other address of this repository on GitHub, Colab or GitHub Pages.
"""

import re
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from conftest import NOTEBOOKS, ROOT

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL = CONFIG["repository"]["url"]
OWNER, REPOSITORY = urlsplit(URL).path.strip("/").split("/")
SITE = f"https://{OWNER}.github.io/{REPOSITORY}/"

# Other projects' repositories that the text may name.
THIRD_PARTY = {("zalandoresearch", "fashion-mnist"),  # the dataset
               ("keras-team", "keras"),  # Keras' source (chapter 13 reads its data adapter)
               ("cs231n", "convolutional-networks"),  # CS231n notes, cs231n.github.io (references)
               ("benfred", "py-spy")}  # the profiler chapter 13 used once (references)

NAME = r"[A-Za-z0-9_.-]*[A-Za-z0-9_-]"  # an owner or repository name, without a final dot
ADDRESSES = [
    re.compile(rf"colab\.research\.google\.com/github/({NAME})/({NAME})"),
    re.compile(rf"(?<![\w.])github\.com/({NAME})/({NAME})"),
    re.compile(rf"({NAME})\.github\.io/({NAME})"),
]
CLONE = re.compile(r"git clone (\S+)(?:\s*\n\s*cd (\S+))?")

TEXTS = sorted([ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "Makefile", ROOT / "postBuild",
                *(ROOT / "book").glob("*.md"), *(ROOT / ".github" / "workflows").glob("*.yml"),
                *(ROOT / "scripts").glob("*.py")])


def _text(path):
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    return path.read_text()


def test_the_configured_url_is_a_github_repository():
    assert re.fullmatch(rf"https://github\.com/{NAME}/{NAME}", URL), URL
    assert CONFIG["repository"]["branch"] == "main"


def test_the_readme_links_to_the_published_site():
    assert SITE in (ROOT / "README.md").read_text(), f"the README does not link to {SITE}"


@pytest.mark.parametrize("path", TEXTS + NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_address_of_this_repository_is_the_configured_one(path):
    text = _text(path)
    for pattern in ADDRESSES:
        for owner, repository in pattern.findall(text):
            repository = repository.removesuffix(".git")
            assert (owner, repository) in THIRD_PARTY | {(OWNER, REPOSITORY)}, (
                f"{path.name} names {owner}/{repository}, _config.yml {OWNER}/{REPOSITORY}")


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "book" / "setup.md"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_clone_commands_clone_the_configured_repository(path):
    clones = CLONE.findall(_text(path))
    assert clones, f"{path.name} has no clone command"
    for url, folder in clones:
        assert url.strip("`") in (URL, URL + ".git"), f"{path.name} clones {url}, not {URL}"
        if folder:
            assert folder.strip("`") == REPOSITORY

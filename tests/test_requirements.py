"""requirements.txt pins the book's direct dependencies; requirements.lock pins
everything they pull in as well (`make install` uses it as constraints). A pin
changed in one must change in the other, by `make lock`: otherwise pip would
refuse the conflicting pair, or install what the book was never built with.
requirements-learner.txt, a learner's subset, pins the same versions."""

import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import LOCK, REQUIREMENTS, ROOT, pinned_versions


def test_every_pin_of_requirements_has_the_same_version_in_the_lock():
    wanted, locked = pinned_versions(REQUIREMENTS), pinned_versions(LOCK)
    assert wanted, "requirements.txt pins nothing"
    drifted = {name: (version, locked.get(name)) for name, version in wanted.items()
               if locked.get(name) != version}
    assert not drifted, f"(requirements.txt, requirements.lock) differ, run `make lock`: {drifted}"


def test_the_lock_pins_every_package_and_says_how_to_refresh_it():
    lines = LOCK.read_text().splitlines()
    packages = [line for line in lines if line and not line.lstrip().startswith("#")]
    assert packages and all("==" in line for line in packages), [p for p in packages if "==" not in p]
    header = "\n".join(line for line in lines[:5] if line.startswith("#"))
    assert "Python 3.11 on Linux x86-64" in header and "make lock" in header


# requirements-learner.txt: what a learner installs to run the notebooks
# locally (the setup page's Route 3), at the book's versions, without the
# tools that build the book or test it.

LEARNER = ROOT / "requirements-learner.txt"
BOOK_TOOLS = {"jupyter-book", "pytest", "nbval", "playwright", "papermill"}


def learner_requirements():
    """({canonical name: version} of the learner file's pins, [its option lines])."""
    pins, options = {}, []
    for line in LEARNER.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-"):
            options.append(line)
        elif line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"requirements-learner.txt: {line} is not an exact pin"
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins, options


def test_the_learners_pins_are_the_books_pins():
    pins, options = learner_requirements()
    book = pinned_versions(REQUIREMENTS)
    differ = {name: (version, book.get(name)) for name, version in pins.items() if book.get(name) != version}
    assert not differ, f"(requirements-learner.txt, requirements.txt) differ: {differ}"
    assert options == ["-e ."]  # and the book's own helpers package, from the checkout


def test_the_learners_file_has_what_the_notebooks_need_and_no_book_tools():
    import tomllib

    pins, _ = learner_requirements()
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    needed = {canonicalize_name(Requirement(line).name) for line in declared} | {"jupyterlab", "ipykernel"}
    assert needed <= set(pins), f"requirements-learner.txt lacks {sorted(needed - set(pins))}"
    assert not BOOK_TOOLS & set(pins), f"a book or test tool: {sorted(BOOK_TOOLS & set(pins))}"


def test_the_python_range_of_the_learners_file_is_what_its_pins_require():
    """The header's "Python X to Y": X is the newest `Requires-Python` lower
    bound among the pinned releases (read from those installed here at that
    version), Y the newest Python the setup check supports."""
    from importlib import metadata

    from helpers import check_setup

    oldest = {}
    for name, version in learner_requirements()[0].items():
        try:
            if metadata.version(name) != version:
                continue
            spec = metadata.metadata(name).get("Requires-Python") or ""
        except metadata.PackageNotFoundError:
            continue
        match = re.search(r">=\s*(\d+)\.(\d+)", spec)
        if match:
            oldest[name] = (int(match.group(1)), int(match.group(2)))
    assert {"tensorflow", "numpy"} <= set(oldest), "the pinned releases are not installed here"
    needed = ".".join(map(str, max(oldest.values())))
    stated = re.search(r"^#.*\bPython (\d+\.\d+) to (\d+\.\d+)", LEARNER.read_text(), re.M)
    assert stated and stated.groups() == (needed, check_setup.NEWEST_PYTHON), (stated, needed)
    page = (ROOT / "book" / "setup.md").read_text()
    assert f"need {needed} or newer" in " ".join(page.split()), "the setup page names another Python"

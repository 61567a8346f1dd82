"""Binder builds the chapters' environment from the root requirements.txt,
with the Python of runtime.txt, then runs postBuild (repo2docker's files).
requirements.txt is the file CI installs too, so the pins Binder installs
are the ones the tests ran with: every pin must be installed here at exactly
its version, and runtime.txt must name the Python the lock was made for."""

import re
from importlib import metadata

import pytest

from conftest import LOCK, REQUIREMENTS, ROOT, pinned_versions

PINS = sorted(pinned_versions(REQUIREMENTS).items())


@pytest.mark.parametrize("name,version", PINS, ids=[name for name, _ in PINS])
def test_every_pin_of_the_binder_environment_is_installed_at_that_version(name, version):
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name}=={version} is pinned in requirements.txt but not installed: make install")
    assert installed == version, (
        f"{name} {installed} is installed, requirements.txt pins {version}: Binder would "
        "install a version the tests never ran with")


def test_runtime_txt_names_the_python_of_the_lock():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    python = runtime.removeprefix("python-")
    assert f"Python {python} on Linux" in LOCK.read_text().split("\n", 3)[0], (
        "runtime.txt and requirements.lock name different Pythons")


def test_post_build_installs_the_helpers_from_the_checkout():
    post_build = ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()

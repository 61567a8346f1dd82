"""`helpers` installs as a package (pip install -e . locally, pip install
git+<repository> on Colab) with the book's full-run results inside, and
declares the range of library versions it supports without pinning them."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.mark.integration  # builds a wheel
def test_wheel_contains_the_helpers_package_and_only_light_dependencies(tmp_path):
    # Build from a copy, so that setuptools' build/ folder never lands in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "_vendor", "build", "*.egg-info", "__pycache__", "notebooks", "results"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    for module in ("helpers/__init__.py", "helpers/data.py", "helpers/plots.py", "helpers/results.py"):
        assert module in names
    shipped = sorted(p.name for p in (ROOT / "results" / "fashion_mnist").glob("*.json"))
    assert shipped and all(f"helpers/book_results/fashion_mnist/{n}" in names for n in shipped)
    assert not any(n.startswith(("tests/", "notebooks/", "scripts/")) for n in names)
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    # Colab already has TensorFlow and Keras: lower bounds only, so that pip
    # keeps the runtime's versions wherever they are in the supported range.
    assert {r.split(">=")[0] for r in requires} >= {"tensorflow", "keras", "numpy", "pandas",
                                                     "matplotlib", "seaborn"}, requires
    assert all(">=" in r and "==" not in r and "<" not in r.replace(">=", "") for r in requires), requires


def test_the_package_takes_its_version_from_helpers_init_the_one_place_that_holds_it():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "helpers.__version__"}

"""`helpers` installs as a package (pip install -e . locally, pip install
git+<repository> on Colab) without dragging in pinned heavy dependencies."""

import shutil
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_contains_the_helpers_package_and_only_light_dependencies(tmp_path):
    # Build from a copy, so that setuptools' build/ folder never lands in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "build", "*.egg-info", "__pycache__", "notebooks", "results"))
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
    for module in ("helpers/__init__.py", "helpers/data.py", "helpers/plots.py"):
        assert module in names
    assert not any(n.startswith(("tests/", "notebooks/", "scripts/")) for n in names)
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    # Colab already has TensorFlow and Keras: the package must not pin or reinstall them.
    assert not any("tensorflow" in r or "keras" in r or "==" in r for r in requires), requires

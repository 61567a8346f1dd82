"""`python -m helpers.check_setup`: one line per check, then a verdict.

The happy path runs for real on this machine (Debian's Fashion-MNIST and a few
seconds of training). The failure paths simulate a machine without the data
or with too old a Python or TensorFlow, and check the verdict names the fix.
"""

import gzip
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import check_setup, data
from helpers.check_setup import Check

DEBIAN_FASHION_MNIST = Path(data.DEBIAN_DIR)


CHECK_NAMES = ["Python", "TensorFlow", "Keras", "helpers", "data", "training"]


def run_main(capsys, *argv):
    """Run the check's main(); return its exit code and printed lines."""
    code = check_setup.main(list(argv))
    return code, capsys.readouterr().out.splitlines()


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """A machine without the data: FASHION_MNIST_DIR unset, Debian's folder
    hidden, an empty HOME (so an empty Keras cache); any download fails the test."""
    monkeypatch.setenv("FASHION_MNIST_SYSTEM_DIR", "")
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def no_download(*args, **kwargs):
        pytest.fail("the setup check downloaded data without --download")

    monkeypatch.setattr(data, "download_with_keras", no_download)
    return tmp_path


@pytest.fixture
def fast_training(monkeypatch):
    """Skip the real training where a test is about another check."""
    monkeypatch.setattr(check_setup, "check_training",
                        lambda x, y: Check("training", True, "simulated"))


@pytest.fixture
def data_found(monkeypatch, fast_training):
    """Simulate found data (and training) where a test is about the versions."""
    monkeypatch.setattr(check_setup, "check_data",
                        lambda download=False: (Check("data", True, "simulated"), ([], [])))


@pytest.mark.needs_real_data
def test_ready_on_this_machine(capsys, monkeypatch):
    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.delenv("FASHION_MNIST_SYSTEM_DIR", raising=False)
    code, lines = run_main(capsys)
    assert code == 0, "\n".join(lines)
    assert lines[-1] == "Ready for the workshop."
    checks = lines[1:-1]
    assert [line.split(":")[0].split()[1] for line in checks] == CHECK_NAMES
    assert all(line.startswith("ok ") for line in checks), checks
    assert f"Fashion-MNIST in {DEBIAN_FASHION_MNIST} (Debian's package folder)" in checks[4]
    assert "all four files match the official data" in checks[4]
    assert "trained one epoch on 512 images in" in checks[5] and " s; loss " in checks[5]


def test_runs_as_a_module():
    # Only the argument parsing: --help exits before any check runs.
    result = subprocess.run([sys.executable, "-m", "helpers.check_setup", "--help"], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "--download" in result.stdout


def test_missing_data_fails_without_downloading(capsys, no_data):
    code, lines = run_main(capsys)
    assert code == 1
    (data_line,) = [line for line in lines if line.startswith("FAIL  data:")]
    assert "Fashion-MNIST not found" in data_line
    assert "Debian's package folder: skipped" in data_line
    assert str(no_data / "home" / ".keras" / "datasets" / "fashion-mnist") in data_line
    assert "no download (--download allows one)" in data_line
    assert any(line.startswith("skip  training: not run") for line in lines)
    verdict = lines[-1]
    assert verdict.startswith("Not ready: the data check failed. Get the data: set "
                              "FASHION_MNIST_DIR to a folder holding the four official .gz files")
    assert "sudo apt-get install dataset-fashion-mnist" in verdict
    assert "-m helpers.check_setup --download" in verdict
    assert "setup page" in verdict


def test_an_empty_data_folder_in_the_variable_is_named(capsys, no_data, monkeypatch):
    empty = no_data / "empty"
    empty.mkdir()
    monkeypatch.setenv("FASHION_MNIST_DIR", str(empty))
    code, lines = run_main(capsys)
    assert code == 1
    assert f"FAIL  data: FASHION_MNIST_DIR is set to {empty}, which does not hold" in "\n".join(lines)
    assert lines[-1] == ("Not ready: the data check failed. Point FASHION_MNIST_DIR at the folder "
                         "holding the four official .gz files, or unset it. See the book's setup "
                         "page (Setting up, under Teaching with this book).")


@pytest.mark.needs_real_data
def test_a_damaged_file_fails_the_data_check(capsys, no_data, monkeypatch, fast_training):
    folder = no_data / "copy"
    shutil.copytree(DEBIAN_FASHION_MNIST, folder)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        raw = bytearray(f.read())
    raw[-1] ^= 1  # one label changed: right size, wrong checksum
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes(raw))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    code, lines = run_main(capsys)
    assert code == 1
    assert "content differs from the official data" in "\n".join(lines)
    assert lines[-1].startswith("Not ready: the data check failed. Delete the damaged file")


def test_an_old_python_fails_with_the_fix(capsys, monkeypatch, data_found):
    monkeypatch.setattr(check_setup, "python_version", lambda: "3.9.18")
    code, lines = run_main(capsys)
    assert code == 1
    assert "FAIL  Python: 3.9.18 is older than 3.10" in lines
    supported = f"{check_setup.required_python()} to {check_setup.NEWEST_PYTHON}"
    assert lines[-1].startswith(f"Not ready: the Python check failed. Install Python {supported} ")
    assert "setup page" in lines[-1]


def test_a_python_newer_than_tensorflow_supports_passes_but_tensorflow_names_the_fix(
        capsys, monkeypatch, data_found):
    newer = f"3.{int(check_setup.NEWEST_PYTHON.split('.')[1]) + 1}.0"
    real = check_setup.library_version
    monkeypatch.setattr(check_setup, "python_version", lambda: newer)
    monkeypatch.setattr(check_setup, "library_version",
                        lambda module: None if module == "tensorflow" else real(module))
    code, lines = run_main(capsys)
    assert code == 1
    assert any(line.startswith(f"ok    Python: {newer} (") for line in lines)
    assert f"FAIL  TensorFlow: not installed (TensorFlow has no package for Python {newer} yet)" in lines
    supported = f"{check_setup.required_python()} to {check_setup.NEWEST_PYTHON}"
    assert lines[-1].startswith(f"Not ready: the TensorFlow check failed. Install Python {supported},")


def test_without_metadata_or_pyproject_the_checks_say_how_to_install(capsys, monkeypatch, tmp_path,
                                                                      data_found):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", not_installed)
    monkeypatch.setattr(metadata, "metadata", not_installed)
    monkeypatch.setattr(check_setup, "PYPROJECT", tmp_path / "no-pyproject.toml")
    code, lines = run_main(capsys)
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert [line.split(":")[0] for line in failed][:3] == ["FAIL  Python", "FAIL  TensorFlow", "FAIL  Keras"]
    assert all("is not installed and there is no pyproject.toml beside it" in line for line in failed[:3])
    assert "-m pip install -r requirements-learner.txt" in lines[-1]


def declared_python() -> str:
    """The oldest Python of pyproject.toml's `requires-python` (">=3.10" -> "3.10")."""
    import tomllib

    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)", spec.strip())
    assert match, f"requires-python is {spec!r}, not a lower bound"
    return match.group(1)


def setup_page_python_column() -> dict:
    """{first cell: (oldest, newest) or None} of the table of the setup page
    that has a Python column, one entry per row."""
    lines = (ROOT / "book" / "setup.md").read_text().splitlines()
    cells = lambda line: [cell.strip() for cell in line.strip().strip("|").split("|")]  # noqa: E731
    header = next(i for i, line in enumerate(lines) if line.startswith("|") and "Python" in cells(line))
    column = cells(lines[header]).index("Python")
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        match = re.fullmatch(r"(\d+\.\d+) to (\d+\.\d+)", cells(line)[column])
        rows[cells(line)[0]] = match.groups() if match else None
    return rows


def test_the_setup_page_check_setup_and_pyproject_agree_on_the_python_range(monkeypatch):
    declared = (declared_python(), check_setup.NEWEST_PYTHON)
    assert check_setup.required_python() == declared[0]
    rows = setup_page_python_column()
    supported = {row: pythons for row, pythons in rows.items() if pythons}
    assert len(supported) >= 3 and set(supported.values()) == {declared}, rows
    assert [rows[row] for row in rows if "Intel" in row] == [None]  # no TensorFlow for Intel Macs
    monkeypatch.setattr(check_setup, "python_version", lambda: f"{declared[0]}.0")
    assert check_setup.check_python().detail == f"{declared[0]}.0 ({declared[0]} to {declared[1]} supported)"
    ci_python = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert check_setup.is_at_least(ci_python, declared[0]) and not check_setup.newer_than_supported(ci_python)


def test_an_old_tensorflow_fails_with_the_upgrade_command(capsys, monkeypatch, data_found):
    real = check_setup.library_version
    monkeypatch.setattr(check_setup, "library_version",
                        lambda module: "2.15.1" if module == "tensorflow" else real(module))
    code, lines = run_main(capsys)
    assert code == 1
    assert "FAIL  TensorFlow: 2.15.1 is older than 2.18" in lines
    assert lines[-1] == (
        "Not ready: the TensorFlow check failed. Upgrade it: "
        f'`{sys.executable} -m pip install --upgrade "tensorflow>=2.18"`, then restart Python '
        "(on Colab: Runtime > Restart session) and run the check again.")


def test_missing_keras_and_old_python_are_both_named(capsys, monkeypatch, no_data):
    real = check_setup.library_version
    monkeypatch.setattr(check_setup, "python_version", lambda: "3.8.10")
    monkeypatch.setattr(check_setup, "library_version",
                        lambda module: None if module == "keras" else real(module))
    code, lines = run_main(capsys)
    assert code == 1
    assert "FAIL  Keras: not installed" in lines
    assert lines[-1].startswith("Not ready: the Python, Keras and data checks failed. Python: ")
    assert f'Keras: Install it: `{sys.executable} -m pip install --upgrade "keras>=3.8"`' in lines[-1]


def test_lower_bounds_come_from_the_package_metadata():
    bounds = check_setup.declared_requirements()
    assert bounds["tensorflow"] == "2.18" and bounds["keras"] == "3.8"
    assert check_setup.required_python() == "3.10"


def test_without_an_installed_package_the_bounds_come_from_pyproject(monkeypatch):
    from_metadata = check_setup.declared_requirements(), check_setup.required_python()

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "requires", not_installed)
    monkeypatch.setattr(metadata, "metadata", not_installed)
    assert (check_setup.declared_requirements(), check_setup.required_python()) == from_metadata


@pytest.mark.parametrize("found, minimum, ok", [
    ("2.18.0", "2.18", True), ("2.21.0rc1", "2.18", True), ("2.9.3", "2.18", False),
    ("3.10", "3.10", True), ("3.9.18", "3.10", False), ("3.15.1", "3.8", True),
])
def test_versions_compare_as_numbers(found, minimum, ok):
    assert check_setup.is_at_least(found, minimum) is ok


def test_a_training_that_does_not_learn_fails(monkeypatch):
    import numpy as np

    class Stuck:
        def compile(self, **kwargs):
            pass

        def evaluate(self, *args, **kwargs):
            return float("nan")

        def fit(self, *args, **kwargs):
            pass

    monkeypatch.setattr(check_setup, "smoke_model", Stuck)
    images = np.zeros((600, 28, 28), dtype=np.uint8)
    check = check_setup.check_training(images, np.zeros(600, dtype=np.uint8))
    assert check.ok is False and "(it must be finite and go down)" in check.detail


def test_the_setup_page_shows_the_output_of_a_ready_machine():
    page = (ROOT / "book" / "setup.md").read_text()
    sample = page.split("```text\nHands-On CNNs: checking this setup")[1].split("```")[0]
    lines = sample.strip().splitlines()[1:]
    assert [line.split(":")[0] for line in lines[:-1]] == [f"ok    {name}" for name in CHECK_NAMES]
    assert lines[-1] == check_setup.READY
    assert "python -m helpers.check_setup" in page and "--download" in page


def test_a_library_that_fails_to_import_is_broken_not_missing(tmp_path, monkeypatch):
    (tmp_path / "crashing_demo.py").write_text('raise ImportError("libfoo.so.1: cannot open shared object")\n')
    (tmp_path / "needy_demo.py").write_text("import a_dependency_nobody_has\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert check_setup.library_version("a_module_nobody_has") is None
    with pytest.raises(check_setup.BrokenInstall, match="libfoo.so.1"):
        check_setup.library_version("crashing_demo")
    with pytest.raises(check_setup.BrokenInstall, match="a_dependency_nobody_has"):
        check_setup.library_version("needy_demo")


def test_a_broken_tensorflow_fails_with_its_error_and_a_reinstall(capsys, monkeypatch, data_found):
    real = check_setup.library_version

    def broken(module):
        if module == "tensorflow":
            raise check_setup.BrokenInstall("ImportError: libcudart.so.12: cannot open shared object file")
        return real(module)

    monkeypatch.setattr(check_setup, "library_version", broken)
    code, lines = run_main(capsys)
    assert code == 1
    assert ("FAIL  TensorFlow: installed, but importing it fails: ImportError: libcudart.so.12: "
            "cannot open shared object file") in lines
    assert "--force-reinstall" in lines[-1] and "tensorflow>=" in lines[-1]


def test_a_package_without_lower_bounds_fails_the_checks_instead_of_crashing(monkeypatch):
    monkeypatch.setattr(check_setup, "declared_requirements", lambda: {})
    result = check_setup.check_library("Keras", "keras")
    assert not result.ok and "declares no lower bound for keras" in result.detail
    monkeypatch.setattr(metadata, "metadata", lambda name: {"Requires-Python": ""})
    result = check_setup.check_python()
    assert not result.ok and "declares no lower bound for Python" in result.detail

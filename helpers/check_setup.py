"""Is this machine ready for the workshop? One line per check, then a verdict.

    python -m helpers.check_setup              # never downloads anything
    python -m helpers.check_setup --download   # may download Fashion-MNIST (about 30 MB)

It checks, in this order:

1. the Python version, against the package's `Requires-Python`;
2. TensorFlow and Keras, against the lower bounds the package declares;
3. the `helpers` package itself: the release Python imports is the one installed;
4. the data: where Fashion-MNIST was found, and that all four files match the
   official data (the loader's own checks: header, size and SHA-256);
5. training: a tiny CNN trains for one epoch on a few hundred images, and its
   loss must be finite and lower than before.

It ends with one line: "Ready for the workshop." or which checks failed and
what to do about each, and exits with 0 (ready) or 1 (not ready).

The versions have one source, pyproject.toml: the lower bounds come from the
installed distribution's metadata (`Requires-Python` and
`importlib.metadata.requires("hands-on-cnns-helpers")`), or from
`pyproject.toml` next to the package when it is not installed; with neither,
the checks say so and how to install the package. pyproject.toml gives Python
no upper bound, so that a newer TensorFlow extends the range; NEWEST_PYTHON
below is the newest Python that the TensorFlow of requirements.txt has
packages for. The setup page's table states the same range (a test checks).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import helpers

DISTRIBUTION = "hands-on-cnns-helpers"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SETUP_PAGE = "the book's setup page (Setting up, under Teaching with this book)"
SMOKE_IMAGES = 512  # a few hundred images: one epoch takes seconds on a laptop CPU
READY = "Ready for the workshop."
# The newest Python that TensorFlow 2.21 (requirements.txt's pin) publishes
# packages for, on Linux, Windows and macOS; raise it with that pin.
NEWEST_PYTHON = "3.13"


class UndeclaredRange(RuntimeError):
    """Neither the installed package's metadata nor a pyproject.toml says which
    versions the book supports (or they declare no lower bound)."""


class BrokenInstall(ImportError):
    """A library is installed, but importing it fails (a missing dependency,
    a broken wheel, a library built for another machine)."""


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    `ok` is True (passed), False (failed) or None (not run, because an earlier
    check failed). `detail` is what was found; `fix` says what to do when the
    check failed.
    """

    name: str
    ok: bool | None
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The check's one line of output."""
        status = {True: "ok", False: "FAIL", None: "skip"}[self.ok]
        return f"{status:<5} {self.name}: {self.detail}"


def version_tuple(text: str) -> tuple:
    """The leading numbers of a version string: "2.18.0rc1" -> (2, 18, 0)."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if not match:
        raise ValueError(f"not a version number: {text!r}")
    return tuple(int(part) for part in match.group(0).split("."))


def is_at_least(found: str, minimum: str) -> bool:
    """Whether version `found` is `minimum` or newer ("3.8" counts as "3.8.0")."""
    found_parts, minimum_parts = version_tuple(found), version_tuple(minimum)
    width = max(len(found_parts), len(minimum_parts))
    pad = lambda parts: parts + (0,) * (width - len(parts))  # noqa: E731
    return pad(found_parts) >= pad(minimum_parts)


def pyproject_text() -> str:
    """The text of pyproject.toml next to the package (a checkout), or ""."""
    return PYPROJECT.read_text() if PYPROJECT.is_file() else ""


def not_installed_pyproject() -> str:
    """pyproject.toml's text, for a package that pip did not install; raises
    UndeclaredRange where there is none (a copied `helpers` folder)."""
    text = pyproject_text()
    if not text:
        raise UndeclaredRange(
            f"Python imports the book's helpers from {Path(helpers.__file__).resolve().parent}, "
            f"but {DISTRIBUTION} is not installed and there is no pyproject.toml beside it, so "
            "the supported versions are unknown")
    return text


def install_the_package() -> str:
    """What to do when the package is not installed, as one sentence."""
    return (f"Install the book's package: in the repository folder, run `{sys.executable} -m pip "
            "install -r requirements-learner.txt`; on Colab, run the chapter's first cell (the setup "
            f"cell) again. See {SETUP_PAGE}.")


def supported_pythons(minimum: str) -> str:
    """The supported range in words: "3.10 to 3.13"."""
    return f"{minimum} to {NEWEST_PYTHON}"


def declared_requirements() -> dict:
    """The package's declared lower bounds, {"tensorflow": "2.18", ...}.

    Read from the installed distribution's metadata; when the package is not
    installed (imported from a checkout), from pyproject.toml's
    `dependencies` list. Raises UndeclaredRange when there is neither.
    """
    try:
        lines = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", not_installed_pyproject(), re.S | re.M)
        lines = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    bounds = {}
    for line in lines:
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", line.split(";")[0])
        if match:
            bounds[match.group(1).lower()] = match.group(2)
    return bounds


def required_python() -> str:
    """The oldest Python the package supports, from `Requires-Python` (">=3.10" -> "3.10").

    Raises UndeclaredRange when the package is not installed and has no
    pyproject.toml beside it, or declares no lower bound.
    """
    try:
        spec = metadata.metadata(DISTRIBUTION).get("Requires-Python") or ""
    except metadata.PackageNotFoundError:
        match = re.search(r'^requires-python\s*=\s*"([^"]*)"', not_installed_pyproject(), re.M)
        spec = match.group(1) if match else ""
    match = re.search(r">=\s*([0-9.]+)", spec)
    if not match:
        raise UndeclaredRange(f"{DISTRIBUTION} declares no lower bound for Python ({spec!r})")
    return match.group(1)


def python_version() -> str:
    """The version of the Python running this check, such as "3.11.7"."""
    return platform.python_version()


def library_version(module: str) -> str | None:
    """The `__version__` of an importable module, or None if it is not installed.

    Raises BrokenInstall, with the import's own error, when the module is
    installed but importing it fails: that needs a reinstall, not an install.
    """
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name == module:
            return None
        raise BrokenInstall(f"{type(error).__name__}: {error}") from error
    except Exception as error:  # whatever the library's own import raises
        raise BrokenInstall(f"{type(error).__name__}: {error}") from error
    return getattr(imported, "__version__", None)


def pip_install(requirement: str) -> str:
    """The command that installs or upgrades `requirement` into this Python."""
    return f'`{sys.executable} -m pip install --upgrade "{requirement}"`'


def check_python() -> Check:
    """Python itself: at least the version the package requires.

    A Python newer than NEWEST_PYTHON passes (TensorFlow may be installed,
    from a newer release), with a note; the TensorFlow check says what to do
    if it is missing.
    """
    found = python_version()
    try:
        minimum = required_python()
    except UndeclaredRange as error:
        return Check("Python", False, f"{found}; {error}", install_the_package())
    supported = supported_pythons(minimum)
    if not is_at_least(found, minimum):
        return Check(
            "Python", False, f"{found} is older than {minimum}",
            f"Install Python {supported} (from python.org, or your system's package manager), "
            "make the virtual environment again with it and install the book's requirements into "
            f"it, or use Colab. See {SETUP_PAGE}.")
    if newer_than_supported(found):
        return Check("Python", True, f"{found} ({supported} supported: TensorFlow may have no "
                     "package for a newer Python yet)")
    return Check("Python", True, f"{found} ({supported} supported)")


def newer_than_supported(found: str) -> bool:
    """Whether Python `found` is a newer minor release than NEWEST_PYTHON."""
    return version_tuple(found)[:2] > version_tuple(NEWEST_PYTHON)[:2]


def check_library(label: str, module: str) -> Check:
    """TensorFlow or Keras: importable, and at least the declared lower bound."""
    try:
        minimum = declared_requirements().get(module)
    except UndeclaredRange as error:
        return Check(label, False, f"cannot check: {error}", install_the_package())
    if minimum is None:
        return Check(label, False, f"cannot check: {DISTRIBUTION} declares no lower bound for "
                     f"{module}", install_the_package())
    requirement = f"{module}>={minimum}"
    try:
        found = library_version(module)
    except BrokenInstall as error:
        return Check(label, False, f"installed, but importing it fails: {str(error).splitlines()[0]}",
                     f"Reinstall it: `{sys.executable} -m pip install --force-reinstall "
                     f'"{requirement}"`, then restart Python (on Colab: Runtime > Restart '
                     "session) and run the check again.")
    if found is None and module == "tensorflow" and newer_than_supported(python_version()):
        return Check(label, False, f"not installed (TensorFlow has no package for Python "
                     f"{python_version()} yet)",
                     f"Install Python {supported_pythons(required_python())}, make the virtual "
                     f"environment again with it and install the book's requirements into it, or "
                     f"use Colab. See {SETUP_PAGE}.")
    if found is None:
        return Check(label, False, "not installed",
                     f"Install it: {pip_install(requirement)}, or install everything as "
                     f"{SETUP_PAGE} shows.")
    if not is_at_least(found, minimum):
        return Check(label, False, f"{found} is older than {minimum}",
                     f"Upgrade it: {pip_install(requirement)}, then restart Python (on Colab: "
                     "Runtime > Restart session) and run the check again.")
    return Check(label, True, f"{found} ({minimum} or newer needed)")


def check_helpers() -> Check:
    """The book's package: the release Python imports is the one pip installed."""
    where = Path(helpers.__file__).resolve().parent
    try:
        installed = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        installed = None
    if installed == helpers.__version__:
        return Check("helpers", True, f"{helpers.__version__} (the book's package, from {where})")
    found = "not installed" if installed is None else f"{installed} installed"
    return Check(
        "helpers", False, f"Python imports {helpers.__version__} from {where}, but {DISTRIBUTION} "
        f"is {found}",
        f"Install the package again: in the repository folder, run `{sys.executable} -m pip "
        "install --no-deps -e .`; on Colab, run the chapter's first cell (the setup cell) again.")


def describe_folder(folder: Path) -> str:
    """Which of the loader's places `folder` is, in words."""
    from helpers import data

    if os.environ.get(data.ENV_VAR) and folder == Path(os.environ[data.ENV_VAR]).expanduser():
        return f"the folder named by {data.ENV_VAR}"
    if folder == data.keras_home() / data.KERAS_SUBDIR:
        return "Keras' cache"
    if folder == data.DEBIAN_DIR:
        return "Debian's package folder"
    return f"the folder named by {data.SYSTEM_DIR_ENV_VAR}"


def how_to_get_the_data() -> str:
    """The ways to get Fashion-MNIST onto this machine, as one sentence."""
    from helpers import data

    return (f"set {data.ENV_VAR} to a folder holding the four official .gz files; or on "
            "Debian or Ubuntu, run `sudo apt-get install dataset-fashion-mnist`; or, with "
            f"internet access, run `{sys.executable} -m helpers.check_setup --download` (Keras "
            f"downloads about 30 MB into its cache). See {SETUP_PAGE}.")


def data_not_found(error) -> Check:
    """The failed data check for the loader's DatasetNotFoundError."""
    from helpers import data

    setting = os.environ.get(data.ENV_VAR)
    if setting:  # a wrong setting is an error, never a fall-back to another copy
        return Check("data", False, f"{data.ENV_VAR} is set to {setting}, which does not hold "
                     "the four Fashion-MNIST files",
                     f"Point {data.ENV_VAR} at the folder holding the four official .gz files, "
                     f"or unset it. See {SETUP_PAGE}.")
    places = [p.replace("downloading was not allowed (download=False)",
                        "no download (--download allows one)") for p in error.places]
    return Check("data", False, "Fashion-MNIST not found. Tried: " + "; ".join(places),
                 "Get the data: " + how_to_get_the_data())


def check_data(download: bool = False):
    """Fashion-MNIST: found (downloading it only with `download`) and the official data.

    Returns the Check and, if it passed, `(x_train, y_train)`; else None.
    The loader does the work: it looks in its usual places and checks every
    file's header, size and SHA-256 against the official data.
    """
    from helpers import data

    try:
        folder = data.find_dataset_dir(download=download)
        (x_train, y_train), _ = data.load_dataset(folder, data.FASHION_MNIST)
    except data.DatasetNotFoundError as error:
        return data_not_found(error), None
    except data.CorruptDatasetError as error:
        return Check("data", False, str(error).splitlines()[0],
                     "Delete the damaged file named above, then get the data again: "
                     + how_to_get_the_data()), None
    detail = (f"Fashion-MNIST in {folder} ({describe_folder(folder)}); all four files match "
              "the official data (SHA-256)")
    return Check("data", True, detail), (x_train, y_train)


def smoke_model():
    """A tiny CNN: one strided convolution and a softmax layer."""
    import keras

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


def check_training(x_train, y_train) -> Check:
    """Train the tiny CNN for one epoch on SMOKE_IMAGES images; the loss must fall.

    The loss on those images is measured before and after the epoch; it must
    be finite and lower afterwards. The line reports the seconds of the epoch.
    """
    import keras

    from helpers import data

    images, labels = data.scale_images(x_train[:SMOKE_IMAGES]), y_train[:SMOKE_IMAGES]
    try:
        keras.utils.set_random_seed(0)
        model = smoke_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        before = float(model.evaluate(images, labels, verbose=0))
        start = time.perf_counter()
        model.fit(images, labels, epochs=1, batch_size=32, verbose=0)
        seconds = time.perf_counter() - start
        after = float(model.evaluate(images, labels, verbose=0))
    except Exception as error:  # anything: this check is the first real training
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        return Check("training", False, f"{type(error).__name__}: {first_line}",
                     "Training failed: look the message up on the book's troubleshooting page.")
    detail = (f"a tiny CNN trained one epoch on {len(images)} images in {seconds:.1f} s; "
              f"loss {before:.3f} -> {after:.3f}")
    if not (math.isfinite(after) and after < before):
        return Check("training", False, detail + " (it must be finite and go down)",
                     "Training does not learn: reinstall TensorFlow and Keras at the versions "
                     f"of requirements.txt, as {SETUP_PAGE} shows, and run the check again.")
    return Check("training", True, detail)


def run_checks(download: bool = False, out=None) -> list:
    """Run every check in order, printing each one's line as it finishes."""
    out = out or sys.stdout
    checks = []

    def report(check):
        checks.append(check)
        print(check.line(), file=out, flush=True)

    report(check_python())
    report(check_library("TensorFlow", "tensorflow"))
    report(check_library("Keras", "keras"))
    report(check_helpers())
    data_check, arrays = check_data(download)
    report(data_check)
    if arrays is not None and all(c.ok for c in checks):
        report(check_training(*arrays))
    else:
        failed = ", ".join(c.name for c in checks if not c.ok)
        report(Check("training", None, f"not run: needs the checks that failed ({failed})"))
    return checks


def verdict(checks) -> str:
    """One line: ready, or which checks failed and what to do about each."""
    failed = [c for c in checks if c.ok is False]
    if not failed:
        return READY
    names = " and ".join(c.name for c in failed) if len(failed) <= 2 else (
        ", ".join(c.name for c in failed[:-1]) + " and " + failed[-1].name)
    checks_word = "check" if len(failed) == 1 else "checks"
    return f"Not ready: the {names} {checks_word} failed. " + " ".join(
        f"{c.name}: {c.fix}" if len(failed) > 1 else c.fix for c in failed)


def main(argv=None) -> int:
    """Run the checks, print the verdict; 0 if ready, 1 if not."""
    parser = argparse.ArgumentParser(description="Check that this machine can run the book.")
    parser.add_argument("--download", action="store_true",
                        help="download Fashion-MNIST into Keras' cache if no local copy exists")
    args = parser.parse_args(argv)
    print(f"Hands-On CNNs: checking this setup (Python at {sys.executable})")
    checks = run_checks(download=args.download)
    print(verdict(checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

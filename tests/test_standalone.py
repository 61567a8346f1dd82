"""Every chapter runs the way a Colab user runs it: alone, outside the repository.

A fresh virtualenv gets the pinned requirements and the `helpers` package,
installed the way the setup cells install it: `pip install
"hands-on-cnns-helpers @ git+<repository>@v<version>"`, here from a
`git+file://` copy of this working tree tagged with that version. Then each
notebook, alone in an empty folder, runs top to bottom with papermill at its
quick settings (notebooks/quick.yml). The data comes only from a Keras-style
cache in a temporary HOME (`~/.keras/datasets/fashion-mnist`, filled from
Debian's files: no network), with Debian's folder hidden from the loader.

`STANDALONE_STACK` picks the library versions of the virtualenv: `pinned`
(the default: requirements.txt), `oldest` (the lower bounds that
pyproject.toml declares) or `latest` (the newest releases); `make
colab-check` runs the last two. The pinned libraries are those this test runs
in, so the fresh virtualenv borrows them (a path file, `borrow_libraries`)
instead of installing the same versions again: the book's package is still
installed from git into the fresh virtualenv, and nothing of this checkout
is importable there.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
import tomllib
import yaml

from conftest import NOTEBOOKS, ROOT
from helpers import data
from scripts import run_notebooks, setup_cell

# A fresh virtualenv, then every chapter executed: minutes, and `make test-fast` leaves it out.
pytestmark = [pytest.mark.slow, pytest.mark.integration]

DEBIAN_FASHION_MNIST = str(data.DEBIAN_DIR)
# What runs the notebooks in the virtualenv, besides the book's own libraries:
# Colab brings its own Jupyter, so these stay at the locked versions at both
# ends of the supported range (an unpinned mix of IPython and ipykernel can
# be one that does not start).
RUNNER = ("papermill", "ipykernel", "ipython", "jupyter-client", "nbclient", "nbformat", "pyyaml")


def runner_requirements() -> list[str]:
    """The locked versions of the packages in RUNNER, as pip arguments."""
    locked = [line.split(";")[0].strip() for line in (ROOT / "requirements.lock").read_text().splitlines()
              if line.split("==")[0].strip().lower() in RUNNER]
    assert len(locked) == len(RUNNER), f"requirements.lock lacks some of {RUNNER}"
    return locked
STACK = os.environ.get("STANDALONE_STACK", "pinned")


def stack_requirements() -> list[str]:
    """pip arguments for the library versions of `STANDALONE_STACK`."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    if STACK == "pinned":
        lock = ROOT / "requirements.lock"
        return ["-r", str(ROOT / "requirements.txt")] + (["-c", str(lock)] if lock.is_file() else [])
    if STACK == "oldest":
        return [d.replace(">=", "==") for d in declared] + runner_requirements()
    if STACK == "latest":
        return ["--upgrade"] + [d.split(">=")[0] for d in declared] + runner_requirements()
    raise ValueError(f"STANDALONE_STACK must be pinned, oldest or latest, got {STACK!r}.")


def run(command, **kwargs):
    """Run a command; on failure, fail the test with the end of its output."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def pinned_here() -> bool:
    """Whether this Python has every pinned requirement at its pinned version
    (`make install` ran), so that a fresh virtualenv can borrow them."""
    from importlib.metadata import PackageNotFoundError, version

    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" not in line:
            continue
        name, pinned = (part.strip() for part in line.split(";")[0].split("=="))
        try:
            if version(name.split("[")[0]) != pinned:
                return False
        except PackageNotFoundError:
            return False
    return True


def borrow_libraries(python):
    """Make this Python's installed libraries importable in the virtualenv of
    `python`, after its own: a path file naming this site-packages folder.
    Python only adds the folder to the search path; it does not run the path
    files inside it, so this checkout's editable install of the book's
    package stays invisible there."""
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(purelib) / "borrowed_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    assert Path(sys.executable).resolve() != Path(python).resolve()


def tagged_copy_of_the_working_tree(target):
    """A git repository holding this working tree (committed or not), tagged
    v<version> as a release of the book is, so that pip installs it from a
    git+file:// URL exactly as the setup cell does from the book's repository."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
        ".git", ".venv", "_build", "_vendor", "build", "*.egg-info", "__pycache__", "results"))
    git = ["git", "-C", str(target), "-c", "user.name=test", "-c", "user.email=test@example.org"]
    run(git[:3] + ["init", "--quiet"])
    run(git + ["add", "--all"])
    run(git + ["commit", "--quiet", "--message", "standalone test"])
    run(git + ["tag", "v" + setup_cell.helpers_version(ROOT)])


@pytest.fixture(scope="session")
def standalone(tmp_path_factory):
    """(python of a fresh virtualenv with the book installed, HOME with the data cache)."""
    if not os.path.isdir(DEBIAN_FASHION_MNIST):
        pytest.skip(f"needs Debian's dataset-fashion-mnist in {DEBIAN_FASHION_MNIST} to fill the cache")
    base = tmp_path_factory.mktemp("standalone")
    venv.create(base / "venv", with_pip=True)
    python = str(base / "venv" / "bin" / "python")
    # A current pip, as on Colab: the pip that venv bundles may reject "name @ git+file://" lines.
    run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    if STACK == "pinned" and pinned_here():
        borrow_libraries(python)
    else:
        run([python, "-m", "pip", "install", "--quiet", *stack_requirements()])
    tagged_copy_of_the_working_tree(base / "repository")
    url = f"git+file://{base / 'repository'}@v{setup_cell.helpers_version(ROOT)}"
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", f"{setup_cell.DISTRIBUTION} @ {url}"])
    home = base / "home"
    cache = home / ".keras" / "datasets"
    shutil.copytree(DEBIAN_FASHION_MNIST, cache / "fashion-mnist")
    mnist = os.path.expanduser("~/.keras/datasets/mnist.npz")
    if os.path.isfile(mnist):  # the MNIST exercise of chapter 11 runs only with it
        shutil.copy2(mnist, cache / "mnist.npz")
    libraries = "keras, tensorflow, numpy, pandas, matplotlib, seaborn, sklearn"
    versions = run([python, "-c", f"import helpers, {libraries}; print(helpers.__file__, "
                    + ", ".join(f"{name}.__version__" for name in libraries.split(", ")) + ")"],
                   env=environment(home), cwd=home).stdout
    print(f"standalone stack ({STACK}): helpers, {libraries} = {versions}")
    assert str(ROOT) not in versions.split()[0]  # the installed copy, not this checkout
    return python, home


def environment(home):
    """The environment of a fresh runtime: its own HOME (Keras' cache in it),
    Debian's folder hidden from the loader, nothing from this checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "FASHION_MNIST_DIR", "MNIST_DIR", "KERAS_HOME")}
    env.update(HOME=str(home), FASHION_MNIST_SYSTEM_DIR="", MPLBACKEND="Agg")
    return env


# CI runs the chapters two at a time: a chapter at its quick setting spends much
# of its time starting a kernel, importing and tracing graphs, on one core, so
# two overlap well on two cores. `make colab-check`, whose times go into the
# README ("N s alone"), runs them one at a time.
WORKERS = int(os.environ.get("STANDALONE_WORKERS", "2" if STACK == "pinned" else "1"))
CHAPTER_TEST = "test_chapter_runs_alone_in_an_empty_folder"


def execute(path, python, home, folder) -> tuple:
    """Run one chapter with papermill at its quick settings in the empty
    folder `folder`/content, as on Colab; return (the executed notebook's
    path, seconds)."""
    content = folder / "content"  # like Colab's empty /content
    content.mkdir()
    parameters = folder / "parameters.yml"
    parameters.write_text(yaml.safe_dump(run_notebooks.quick_parameters(path)))
    executed = folder / path.name
    start = time.perf_counter()
    run([python, "-m", "papermill", str(path), str(executed), "-f", str(parameters),
         "--cwd", str(content), "-k", "python3", "--no-progress-bar", "--log-level", "WARNING"],
        env=environment(home), cwd=content)
    return executed, time.perf_counter() - start


@pytest.fixture(scope="session")
def executions(standalone, request, tmp_path_factory):
    """{notebook name: the future of its execution (`execute`)}: every chapter
    this session tests, submitted at once in the tests' order, WORKERS at a time."""
    python, home = standalone
    selected = [item.callspec.params["path"] for item in request.session.items
                if getattr(item, "originalname", None) == CHAPTER_TEST]
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {path.name: pool.submit(execute, path, python, home, tmp_path_factory.mktemp(path.stem))
               for path in selected}
    yield futures
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_runs_alone_in_an_empty_folder(path, executions):
    executed, seconds = executions[path.name].result()
    if WORKERS == 1:
        print(f"{path.name}: {seconds:.0f} s alone at the quick setting ({STACK})")
    else:
        print(f"{path.name}: {seconds:.0f} s at the quick setting, {WORKERS} chapters at a time ({STACK})")
    nb = nbformat.read(executed, as_version=4)
    quick = run_notebooks.quick_parameters(path)
    if quick:  # papermill injected the quick values (compared as values, not text)
        (injected,) = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assigned = {node.targets[0].id: ast.literal_eval(node.value)
                    for node in ast.parse(injected.source).body if isinstance(node, ast.Assign)}
        assert assigned == quick
    errors = [out for cell in nb.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not errors
    setup = nb.cells[setup_cell.setup_cell_index(nb)]
    assert not setup.get("outputs"), "the setup cell installed or printed something"
    skipped = [out.get("text", "") for cell in nb.cells for out in cell.get("outputs", [])
               if "runs on Colab" in str(out.get("text", ""))]
    if skipped:
        print(f"{path.name}: {skipped[0].strip()}")

"""The release workflow (.github/workflows/release.yml): on every push to main
it tags the release that the notebooks' setup cells install, and publishes the
student notebooks where the workshop page's Colab links open them.

Its steps run here for real, with bash as GitHub runs them: the version step
in this repository, the tag and publish steps in a temporary clone whose
`origin` is a bare repository standing in for GitHub.
"""

import ast
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.utils import canonicalize_name

from conftest import LOCK, NOTEBOOKS, REQUIREMENTS, ROOT, pinned_versions
from scripts import make_student

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
(JOB,) = WORKFLOW["jobs"].values()
STEPS = JOB["steps"]
VERSION_OUTPUT = "${{ steps.version.outputs.tag }}"


def the_step(predicate, what):
    """The one step for which `predicate(step)` holds."""
    found = [step for step in STEPS if predicate(step)]
    assert len(found) == 1, f"expected one step that {what}, found {len(found)}"
    return found[0]


VERSION_STEP = the_step(lambda s: s.get("id") == "version", "has the id `version`")
TAG_STEP = the_step(lambda s: VERSION_OUTPUT in s.get("env", {}).values(), "reads the tag")
PUBLISH_STEP = the_step(lambda s: "BRANCH" in s.get("env", {}), "publishes a branch")
INSTALL_STEP = the_step(lambda s: "STUDENT_TOOLS" in s.get("env", {}), "installs the tools")
BUILD_STEP = the_step(lambda s: "scripts/make_student.py" in s.get("run", ""), "runs make_student")


def run_step(step, cwd, **env):
    """Run a step's script as GitHub does (bash -e -o pipefail), with the step's
    own environment, then `env`; `python` is this test's Python."""
    environment = {**os.environ, **step.get("env", {}), **env,
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=cwd, env=environment, capture_output=True, text=True)


def git(*args, cwd=None):
    """Run git (with an identity for commits); return its output."""
    result = subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                             "-c", "init.defaultBranch=main", *args],
                            cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    """A clone with one commit on main, whose `origin` is an empty bare repository."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    git("init", "--bare", "--quiet", str(origin))
    git("init", "--quiet", str(work))
    (work / "helpers").mkdir()
    (work / "helpers" / "__init__.py").write_text('__version__ = "9.9.9"\n')
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "first", cwd=work)
    git("remote", "add", "origin", str(origin), cwd=work)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work)
    return work, origin


def test_it_runs_on_every_push_to_main():
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]


def test_it_may_push_tags_and_branches():
    permissions = JOB.get("permissions", WORKFLOW.get("permissions"))
    assert permissions.get("contents") == "write"
    checkout = next(step for step in STEPS if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # every commit and tag


def test_the_tag_is_the_release_the_setup_cells_install(tmp_path):
    output = tmp_path / "github_output"
    result = run_step(VERSION_STEP, ROOT, GITHUB_OUTPUT=str(output))
    assert result.returncode == 0, result.stderr
    (tag,) = re.findall(r"^tag=(\S+)$", output.read_text(), re.M)
    assert TAG_STEP["env"]["TAG"] == VERSION_OUTPUT
    for notebook in NOTEBOOKS:
        cell = next(c for c in nbformat.read(notebook, as_version=4).cells
                    if c.cell_type == "code")
        version, source = (re.search(rf"^{name} = (.+)$", cell.source, re.M)
                           for name in ("HELPERS_VERSION", "HELPERS_SOURCE"))
        assert version and source, f"{notebook.name}: its setup cell installs no release; run scripts/setup_cell.py"
        source = eval(source.group(1), {"HELPERS_VERSION": ast.literal_eval(version.group(1))})
        assert source.rsplit("@", 1)[1] == tag, f"{notebook.name} installs {source}, the workflow tags {tag}"


def test_without_a_version_nothing_is_tagged(tmp_path):
    (tmp_path / "scripts").mkdir()
    for name in ("__init__.py", "setup_cell.py"):
        (tmp_path / "scripts" / name).write_text((ROOT / "scripts" / name).read_text())
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "__init__.py").write_text('"""No release number."""\n')
    output = tmp_path / "github_output"
    result = run_step(VERSION_STEP, tmp_path, GITHUB_OUTPUT=str(output))
    assert result.returncode != 0 and "no __version__" in result.stderr
    assert not output.exists() or "tag=" not in output.read_text()


def test_a_new_tag_is_pushed_and_an_existing_one_stops_a_changed_package(checkout):
    work, origin = checkout
    first = git("rev-parse", "HEAD", cwd=work)
    result = run_step(TAG_STEP, work, TAG="v9.9.9", GITHUB_SHA=first)
    assert result.returncode == 0, result.stderr
    assert git("rev-parse", "v9.9.9^{commit}", cwd=origin) == first

    (work / "helpers" / "more.py").write_text("x = 1\n")  # a change without a new version
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "second", cwd=work)
    git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=work)
    result = run_step(TAG_STEP, work, TAG="v9.9.9", GITHUB_SHA=git("rev-parse", "HEAD", cwd=work))
    assert result.returncode != 0  # the setup cells would still install the old release
    assert git("rev-parse", "v9.9.9^{commit}", cwd=origin) == first
    assert "::error::" in result.stdout


def test_the_student_notebooks_land_where_the_colab_links_point(checkout):
    work, origin = checkout
    (work / "student").mkdir()
    (work / "student" / "01_why_cnns.ipynb").write_text("{}\n")
    (work / "student-notebooks.zip").write_bytes(b"zip")
    branch, path = make_student.colab_url("01_why_cnns.ipynb", "https://github.com/o/r").split(
        "/blob/", 1)[1].split("/", 1)
    assert PUBLISH_STEP["env"]["BRANCH"] == make_student.STUDENT_BRANCH == branch
    for run in (1, 2):  # a second run replaces the branch: one commit, no history
        result = run_step(PUBLISH_STEP, work, RUNNER_TEMP=str(work.parent / f"runner{run}"),
                          GITHUB_SHA=git("rev-parse", "HEAD", cwd=work))
        assert result.returncode == 0, result.stderr
    assert path in git("ls-tree", "-r", "--name-only", branch, cwd=origin).splitlines()
    assert git("rev-list", "--count", branch, cwd=origin) == "1"


def _third_party_imports(script: Path) -> set:
    """The top-level modules a script imports when it starts, through the
    repository's own `scripts` modules, leaving out the standard library."""
    modules = set()
    for node in ast.parse(script.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module == "scripts":
            for alias in node.names:
                modules |= _third_party_imports(ROOT / "scripts" / f"{alias.name}.py")
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
    return modules - set(sys.stdlib_module_names) - {"__future__", "scripts", "helpers"}


def test_it_installs_what_make_student_imports_at_the_pinned_versions(tmp_path):
    distributions = metadata.packages_distributions()
    needed = {canonicalize_name(distributions[module][0])
              for module in _third_party_imports(ROOT / "scripts" / "make_student.py")}
    assert needed <= {canonicalize_name(name) for name in INSTALL_STEP["env"]["STUDENT_TOOLS"].split()}
    assert STEPS.index(INSTALL_STEP) < min(STEPS.index(VERSION_STEP), STEPS.index(BUILD_STEP))

    # The step, with a stand-in `python` that records what pip was asked to install.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$RUNNER_TEMP/arguments"\n')
    (bin_dir / "python").chmod(0o755)
    environment = {**os.environ, **INSTALL_STEP["env"], "RUNNER_TEMP": str(tmp_path),
                   "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-eo", "pipefail", "-c", INSTALL_STEP["run"]], cwd=ROOT,
                            env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    arguments = (tmp_path / "arguments").read_text().splitlines()
    requirements = Path(arguments[arguments.index("-r") + 1])
    asked = pinned_versions(requirements)
    assert len(asked) == len(requirements.read_text().splitlines()), "a tool without an exact pin"
    assert set(asked) == needed
    locked, direct = pinned_versions(LOCK), pinned_versions(REQUIREMENTS)
    assert asked == {name: locked.get(name) for name in asked}  # the lock pins indirect ones too
    assert all(direct[name] == version for name, version in asked.items() if name in direct)

"""The website's GitHub Actions workflow (.github/workflows/pages.yml): on a
push to main it runs the README's build command and hands _build/html to
GitHub Pages, with the permissions that deployment needs; it pushes the
student notebooks only where `make student` exists."""

import yaml

from conftest import ROOT

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())


def _steps(job):
    return WORKFLOW["jobs"][job]["steps"]


def test_it_runs_on_every_push_to_main():
    triggers = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]


def test_it_builds_with_make_book_and_uploads_the_html():
    steps = _steps("build")
    assert any(step.get("run", "").strip() == "make book" for step in steps)
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"


def test_it_deploys_to_pages_with_the_permissions_that_needs():
    deploy = WORKFLOW["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(step.get("uses", "").startswith("actions/deploy-pages@") for step in deploy["steps"])


def test_only_the_release_workflow_pushes_the_student_branch():
    assert not any("student" in step.get("run", "") for step in _steps("build"))
    assert WORKFLOW["jobs"]["build"]["permissions"] == {"contents": "read"}

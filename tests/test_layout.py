"""The tests mirror the code: one test module per module of the `helpers`
package (tests/test_<module>.py) and of `bookkit`
(tests/test_bookkit_<module>.py), and test modules never import each other:
what they share lives in tests/conftest.py."""

import ast

import pytest

from conftest import ROOT

TESTS = ROOT / "tests"


def modules(package):
    return sorted(path.stem for path in (ROOT / package).glob("*.py") if path.stem != "__init__")


@pytest.mark.parametrize("package, prefix", [("helpers", "test_"), ("bookkit", "test_bookkit_")])
def test_every_module_has_its_test_module(package, prefix):
    missing = [f"{prefix}{module}.py" for module in modules(package)
               if not (TESTS / f"{prefix}{module}.py").is_file()]
    assert not missing, f"{package} modules without their test module: {missing}"


def imported_modules(path):
    """The top-level names of every module `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda path: path.name)
def test_no_test_module_imports_another(path):
    others = {name for name in imported_modules(path) if name.startswith("test_")}
    assert not others, f"{path.name} imports {sorted(others)}: move what they share into tests/conftest.py"

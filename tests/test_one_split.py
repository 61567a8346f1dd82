"""One validation split across the book.

Every chapter holds out the same validation images, `splitting.SPLIT_SEED`'s,
so that a validation accuracy in one chapter can be compared with one in
another; a chapter's training seed is a separate knob. This test reads every
call of `load_splits` in the notebooks, the helpers and the scripts and fails
on one that passes a seed other than `SPLIT_SEED` (by keyword or as the third
positional argument).
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT

SOURCES = NOTEBOOKS + sorted((ROOT / "helpers").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)  # IPython lines (%pip, !ls) are not Python


def code_of(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        return [MAGIC.sub(r"\1pass", c.source) for c in cells if c.cell_type == "code"]
    return [path.read_text()]


def is_split_seed(node) -> bool:
    """`SPLIT_SEED` or `<anything>.SPLIT_SEED`."""
    return ((isinstance(node, ast.Name) and node.id == "SPLIT_SEED")
            or (isinstance(node, ast.Attribute) and node.attr == "SPLIT_SEED"))


def seeds_passed(source: str) -> list[tuple[int, ast.expr]]:
    """(line, seed expression) of every `load_splits(...)` call in `source`
    that passes a seed: by keyword `seed=` or as the third positional argument."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None)) == "load_splits"):
            found += [(node.lineno, k.value) for k in node.keywords if k.arg == "seed"]
            found += [(node.lineno, arg) for arg in node.args[2:3]]
    return found


def test_the_checker_sees_seeds_by_keyword_and_by_position():
    def passed(source):
        return [ast.unparse(seed) for _, seed in seeds_passed(source)]

    assert passed("splitting.load_splits(6000, None, seed=SEED)") == ["SEED"]
    assert passed("load_splits(6000, None, 0)") == ["0"]
    assert passed("splitting.load_splits(6000, seed=splitting.SPLIT_SEED)") == ["splitting.SPLIT_SEED"]
    assert passed("splitting.load_splits(6000, TRAIN_SUBSET)") == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_load_splits_call_uses_the_book_split(path):
    if path.name == "splitting.py":
        return  # where load_splits is defined, with SPLIT_SEED as its default
    for source in code_of(path):
        for line, seed in seeds_passed(source):
            assert is_split_seed(seed), (
                f"{path.name} line {line}: load_splits(..., seed={ast.unparse(seed)}) holds out other "
                "validation images than the rest of the book; leave the seed out "
                "(splitting.SPLIT_SEED is the default) and seed the training separately")

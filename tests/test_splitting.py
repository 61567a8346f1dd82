"""Tests of helpers.splitting: stratified splits, the book's three splits,
the labels' encodings, and one validation split across the book.

Every chapter holds out the same validation images, `splitting.SPLIT_SEED`'s,
so that a validation accuracy in one chapter can be compared with one in
another; a chapter's training seed is a separate knob. The last tests read
every call of `load_splits` in the notebooks, the helpers, bookkit and the
scripts and fail on one that passes a seed other than `SPLIT_SEED` (by
keyword or as the third positional argument).
"""

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import NOTEBOOKS, ROOT
from helpers import splitting


def test_stratified_split_takes_equal_numbers_per_class_reproducibly():
    labels = np.repeat(np.arange(10), 50)
    rest, picked = splitting.stratified_split(labels, 100, seed=3)
    assert np.bincount(labels[picked]).tolist() == [10] * 10
    assert sorted(np.concatenate([rest, picked]).tolist()) == list(range(500))
    again_rest, again_picked = splitting.stratified_split(labels, 100, seed=3)
    np.testing.assert_array_equal(picked, again_picked)
    assert not np.array_equal(picked, splitting.stratified_split(labels, 100, seed=4)[1])


@pytest.mark.parametrize("size, mentioned", [
    (15, ["15", "10 classes", "10", "20"]),  # not a multiple of the classes: the nearest sizes that are
    (-10, ["-10"]),
    (1000, ["1000", "100", "50"]),  # more per class than a class has
])
def test_stratified_split_refuses_impossible_sizes(size, mentioned):
    with pytest.raises(ValueError) as error:
        splitting.stratified_split(np.repeat(np.arange(10), 50), size)
    assert all(text in str(error.value) for text in mentioned), str(error.value)


def test_encode_labels_integer_or_one_hot():
    labels = np.array([2, 0])
    assert splitting.encode_labels(labels, "integer") is labels
    np.testing.assert_array_equal(splitting.encode_labels(labels, "one-hot")[0], np.eye(10)[2])
    with pytest.raises(ValueError, match="'sparse'"):
        splitting.encode_labels(labels, "sparse")


@pytest.mark.needs_real_data
def test_load_splits_are_stratified_disjoint_and_scaled():
    splits = splitting.load_splits(validation_size=6000, train_subset=5000)
    assert splits.x_train.shape == (5000, 28, 28, 1) and splits.x_train.dtype == np.float32
    assert np.bincount(splits.y_train).tolist() == [500] * 10
    assert np.bincount(splits.y_val).tolist() == [600] * 10
    assert splits.x_test.shape == (10000, 28, 28, 1)
    assert float(splits.x_train.max()) <= 1.0
    with pytest.raises(ValueError, match="60000"):
        splitting.load_splits(train_subset=60000)


@pytest.mark.needs_real_data
def test_unscaled_splits_keep_the_raw_pixels():
    splits = splitting.load_splits(validation_size=6000, train_subset=1000, scaled=False)
    assert splits.x_train.dtype == np.uint8 and splits.x_train.shape == (1000, 28, 28)


# --- one validation split across the book ----------------------------------------------

SOURCES = NOTEBOOKS + sorted((ROOT / "helpers").glob("*.py")) + sorted((ROOT / "bookkit").glob("*.py")) \
    + sorted((ROOT / "scripts").glob("*.py"))
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

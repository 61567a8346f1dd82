"""The models the chapters write out in their cells are the models the helpers build.

The chapter that introduces a model defines it in a visible cell whose first
line names the helper it equals, in d2l's way:
`# saved as helpers.models.dense_baseline`. Later chapters build the model
with that helper. These tests run each such cell on its own and compare its
model with the helper's, layer by layer, so that the two cannot drift apart.
"""

import ast
import re
from collections import Counter

import keras
import nbformat
import pytest
from keras import layers

from conftest import NOTEBOOKS
from helpers import models

SAVED_AS = re.compile(r"# saved as helpers\.models\.(\w+)\s*$")
# Every model a chapter introduces, and so defines in exactly one cell.
INTRODUCED = ["dense_baseline", "strided_cnn", "strided_cnn_dropout", "wide_cnn_bn",
              "deep_narrow_cnn", "book_cnn", "book_dense"]


def saved_cells():
    """(notebook name, helper name, source) of every code cell whose first
    line is `# saved as helpers.models.<name>`."""
    found = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            match = SAVED_AS.match(cell.source.split("\n", 1)[0])
            if cell.cell_type == "code" and match:
                found.append((path.name, match.group(1), cell.source))
    return found


CELLS = saved_cells()


def model_defined_by(source):
    """Run a cell in a fresh namespace that has only `keras` and `layers`, and
    return the one Keras model it defined."""
    namespace = {"keras": keras, "layers": layers}
    exec(compile(source, "<cell>", "exec"), namespace)
    defined = [value for value in namespace.values() if isinstance(value, keras.Model)]
    assert len(defined) == 1, f"the cell defines {len(defined)} Keras models, not one"
    return defined[0]


def layer_description(layer):
    """A layer's class and settings, without the name Keras numbers automatically."""
    config = {key: value for key, value in layer.get_config().items() if key != "name"}
    return type(layer).__name__, config


def test_every_introduced_model_is_written_out_in_exactly_one_cell():
    counts = Counter(name for _, name, _ in CELLS)
    assert {name: counts[name] for name in INTRODUCED} == {name: 1 for name in INTRODUCED}
    unknown = set(counts) - set(models.BUILDERS) - set(models.BOOK_BUILDERS)
    assert not unknown, f"cells saved as helpers that do not exist: {unknown}"


@pytest.mark.parametrize("notebook, name, source", CELLS, ids=[f"{n}:{m}" for n, m, _ in CELLS])
def test_cell_holds_only_the_model_definition(notebook, name, source):
    # Imports, small functions it uses and one assignment: no training, no output.
    statements = ast.parse(source).body
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef)
    assignments = [s for s in statements if isinstance(s, ast.Assign)]
    others = [s for s in statements if not isinstance(s, (*allowed, ast.Assign))]
    assert len(assignments) == 1 and not others, f"{notebook}: the {name} cell does more than define it"


@pytest.mark.parametrize("notebook, name, source", CELLS, ids=[f"{n}:{m}" for n, m, _ in CELLS])
def test_cell_model_equals_the_helpers_model(notebook, name, source):
    written_out, helper = model_defined_by(source), getattr(models, name)()
    assert [layer_description(layer) for layer in written_out.layers] == [
        layer_description(layer) for layer in helper.layers], f"{notebook}: {name} differs from the helper"
    assert written_out.input_shape == helper.input_shape
    assert written_out.output_shape == helper.output_shape
    assert written_out.count_params() == helper.count_params()

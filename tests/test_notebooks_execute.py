"""Every chapter notebook runs top to bottom in a fresh kernel with the quick
settings of notebooks/quick.yml injected by papermill (any cell error fails).

The executed copies go to a temporary folder: the stored outputs of the full
run are never touched.
"""

import ast
import time

import nbformat
import pytest

from conftest import NOTEBOOKS
from scripts import run_notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_with_quick_parameters(path, tmp_path):
    parameters = run_notebooks.quick_parameters(path)
    start = time.perf_counter()
    run_notebooks.execute(path, tmp_path / path.name, parameters)
    seconds = time.perf_counter() - start
    print(f"{path.name}: {seconds:.1f} s at the quick setting")
    executed = nbformat.read(tmp_path / path.name, as_version=4)
    if parameters:
        injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1
        # Compare values, not text: papermill writes strings in its own quotes.
        assigned = {node.targets[0].id: ast.literal_eval(node.value)
                    for node in ast.parse(injected[0].source).body if isinstance(node, ast.Assign)}
        assert assigned == parameters
    assert not any(out.output_type == "error" for c in executed.cells for out in c.get("outputs", []))
    assert "papermill" not in executed.metadata  # bookkeeping stripped

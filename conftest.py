"""pytest set-up for the whole repository: the unit tests in tests/ and the
notebooks that nbval checks (pyproject.toml's testpaths).

It lives at the root, not in tests/, because pytest loads it for every
invocation, including `pytest notebooks/01_why_cnns.ipynb` alone.
"""

from nbval.plugin import IPyNbCell


def pytest_collection_modifyitems(items):
    """Put each notebook's nbval cells back together and in their order.

    pytest-randomly shuffles the tests to catch hidden order dependences, but
    it groups items by Python module, and nbval's cells have none: it would
    mix the cells of every notebook. A notebook's cells share one kernel and
    build on each other, so they must run in order. Each notebook's cells are
    placed where its first shuffled cell landed; everything else keeps the
    shuffled order. This plain hook runs after pytest-randomly's, which
    shuffles in a wrapper before any plain implementation runs.
    """
    cells_by_notebook = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            cells_by_notebook.setdefault(item.parent.nodeid, []).append(item)

    reordered = []
    for item in items:
        if not isinstance(item, IPyNbCell):
            reordered.append(item)
        elif item.parent.nodeid in cells_by_notebook:  # the notebook's first cell here
            cells = cells_by_notebook.pop(item.parent.nodeid)
            reordered.extend(sorted(cells, key=lambda cell: cell.cell_num))
    items[:] = reordered

"""Notebook hygiene, tables: no table on the page is indexed 0, 1, 2, ...

pandas gives every DataFrame a RangeIndex unless told otherwise, and a
notebook shows it as the table's first column. On the page it reads as data,
but means nothing: index a table by what identifies a row (a class, a model,
`set_index`, `rename_axis`) or by a rank from 1. This test reads the stored
HTML of every table (pandas' `<table class="dataframe">`) and fails on a
table whose row headers are exactly 0, 1, ..., n-1 under an unnamed index.

Run it on other executed copies, such as the quick runs in results/quick/:

    python tests/test_table_index.py results/quick/*.ipynb
"""

import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import NOTEBOOKS


class _DataFrameTables(HTMLParser):
    """The header and body rows of each `<table class="dataframe">`, each row
    a list of (tag, text) cells."""

    def __init__(self):
        super().__init__()
        self.tables, self._section, self._row, self._cell = [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "dataframe" in (dict(attrs).get("class") or "").split():
            self.tables.append({"thead": [], "tbody": []})
        elif not self.tables:
            return
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._section:
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = [tag, ""]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self._row.append((self._cell[0], self._cell[1].strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1][self._section].append(self._row)
            self._row = None
        elif tag in ("thead", "tbody"):
            self._section = None


def range_index_tables(html):
    """The positions, in `html`, of the DataFrame tables whose row index is
    the unnamed 0, 1, ..., n-1."""
    parser = _DataFrameTables()
    parser.feed(html)
    found = []
    for position, table in enumerate(parser.tables):
        body = table["tbody"]
        levels = max((next((k for k, (tag, _) in enumerate(row) if tag != "th"), len(row)) for row in body),
                     default=0)
        if levels != 1:  # no row headers, or a MultiIndex (which names its rows by several levels)
            continue
        headers = [row[0][1] for row in body if row and row[0][0] == "th"]
        if len(headers) != len(body) or headers != [str(i) for i in range(len(body))]:
            continue
        # pandas writes an index's name in a header row of its own: the name, then empty cells.
        named = any(row[0][1] and all(tag == "th" and not text for tag, text in row[1:])
                    for row in table["thead"] if row)
        if not named:
            found.append(position)
    return found


def cells_with_range_index_tables(path):
    """'cell N (first line)' for each cell of a notebook that shows such a table."""
    found = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if 'class="dataframe"' in html and range_index_tables(html):
                first_line = cell.source.splitlines()[0] if cell.source else ""
                found.append(f"cell {i} ({first_line!r})")
                break
    return found


def test_the_check_finds_a_default_index_and_only_that():
    frame = pd.DataFrame({"share": [0.2, 0.1]})
    assert range_index_tables(frame.to_html()) == [0]
    assert range_index_tables(pd.concat({"a": frame, "b": frame}, axis=1).to_html()) == [0]
    meaningful = [
        frame.set_axis(pd.RangeIndex(1, 3, name="rank")),   # a rank from 1
        frame.set_axis(pd.RangeIndex(1, 3)),                  # 1, 2, ... even unnamed
        frame.rename_axis("class"),                           # 0, 1 as named labels
        frame.set_axis(["Shirt", "Coat"]),
        pd.DataFrame({"a": [0, 0], "b": [0, 1], "v": [1, 2]}).set_index(["a", "b"]),
    ]
    for table in meaningful:
        assert range_index_tables(table.to_html()) == [], table
    two = frame.to_html() + frame.set_axis(["x", "y"]).to_html() + frame.to_html()
    assert range_index_tables(two) == [0, 2]
    assert range_index_tables("<table><tbody><tr><th>0</th></tr></tbody></table>") == []  # not pandas'


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_table_is_indexed_0_1_2(path):
    found = cells_with_range_index_tables(path)
    assert not found, (
        f"{path.name}: tables indexed 0, 1, 2, ... in {'; '.join(found)}. Index them by what "
        "identifies a row (set_index, rename_axis) or by a rank from 1.")


if __name__ == "__main__":
    failures = {Path(p).name: cells_with_range_index_tables(p) for p in sys.argv[1:]}
    for name, found in failures.items():
        print(f"{name}: {'; '.join(found) if found else 'no table indexed 0, 1, 2, ...'}")
    sys.exit(1 if any(failures.values()) else 0)

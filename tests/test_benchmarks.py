"""The published results in helpers.benchmarks match their source, the
Fashion-MNIST README (Debian's copy, when installed)."""

import gzip
from pathlib import Path

import pytest

from helpers import benchmarks

README = Path("/usr/share/doc/dataset-fashion-mnist/README.md.gz")


def readme_rows():
    """(classifier, test accuracy) of every row of the README's benchmark table."""
    rows = []
    for line in gzip.open(README, "rt", encoding="utf-8"):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            try:
                rows.append((cells[0], float(cells[2])))
            except ValueError:
                continue
    return rows


@pytest.mark.skipif(not README.is_file(), reason="Debian's dataset-fashion-mnist README is not installed")
def test_every_published_row_is_in_the_readme():
    source = readme_rows()
    assert len(source) > 30  # the parser found the table
    for classifier, _, accuracy in benchmarks.PUBLISHED:
        assert (classifier, accuracy) in source, f"{classifier} {accuracy} is not in the README's table"


def test_the_published_table_is_sorted_and_complete():
    table = benchmarks.published_table()
    assert len(table) == len(benchmarks.PUBLISHED) and table.index.name == "classifier"
    assert table["test accuracy"].is_monotonic_increasing
    assert table["test accuracy"].between(0.8, 1.0).all()

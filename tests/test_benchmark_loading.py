"""Tests of scripts/benchmark_loading.py: it measures, the tests never time anything."""

import pytest

from helpers import data
from scripts import benchmark_loading


def test_time_loads_times_every_call():
    calls = []
    seconds = benchmark_loading.time_loads(lambda: calls.append(1), repeats=3)
    assert len(calls) == len(seconds) == 3 and all(s >= 0 for s in seconds)


def test_main_prints_each_load_and_the_median_without_downloading(monkeypatch, capsys):
    asked = []
    monkeypatch.setattr(data, "load_fashion_mnist", lambda download: asked.append(download))
    median = benchmark_loading.main(["--repeats", "3"])
    out = capsys.readouterr().out
    assert asked == [False] * 3
    assert out.count("Loads (s): ") == 1 and f"Median of 3 loads of Fashion-MNIST: {median:.3f} s" in out


def test_zero_repeats_are_refused(capsys):
    with pytest.raises(SystemExit):
        benchmark_loading.parse_args(["--repeats", "0"])
    assert "--repeats must be at least 1" in capsys.readouterr().err

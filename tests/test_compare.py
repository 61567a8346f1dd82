"""Tests of the seed-spread helpers of helpers.compare and of results.read_study:
the tables chapters 8 and 9 build from the study files, on small studies
written here, and on the book's own study files."""

import json

import helpers  # noqa: F401  (quiet TensorFlow first)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import compare, results

NAMES = {"dense_baseline": "Dense", "strided_cnn_dropout": "Dropout", "wide_cnn_bn": "Wide"}


def run(model, protocol, seed, test, train=0.9):
    return {"model": model, "protocol": protocol, "seed": seed, "test_accuracy": test, "train_accuracy": train}


def small_reproduction():
    """Dense under both protocols (three seeds each), dropout under the
    tutorial's only, the wide CNN not at all; the rows as run_studies writes them."""
    runs = [run("dense_baseline", "tutorial", s, a, 0.88) for s, a in [(42, 0.86), (1, 0.87), (2, 0.865)]]
    runs += [run("dense_baseline", "book", s, a, 0.89) for s, a in [(42, 0.85), (1, 0.86), (2, 0.855)]]
    runs += [run("strided_cnn_dropout", "tutorial", 42, 0.898)]
    rows = [{"model": "dense_baseline", "protocol": p, "reported_test_accuracy": 0.871,
             "reported_train_accuracy": 0.885} for p in ("tutorial", "book")]
    rows += [{"model": "strided_cnn_dropout", "protocol": "tutorial", "reported_test_accuracy": 0.9,
              "reported_train_accuracy": None}]
    return {"study": "reproduction", "runs": runs, "rows": rows}


def test_spread_against_a_hand_computation():
    runs = pd.DataFrame({"model": ["a", "a", "a", "b"], "test_accuracy": [0.93, 0.94, 0.95, 0.9]})
    table = compare.spread(runs, order=["a", "b", "c"])
    assert list(table.index) == ["a", "b", "c"] and list(table["n"]) == [3, 1, 0]
    assert table.loc["a", "mean"] == pytest.approx(0.94) and table.loc["a", "sd"] == pytest.approx(0.01)
    assert table.loc["a", "ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.01 / np.sqrt(3))
    assert (table.loc["a", "lowest"], table.loc["a", "highest"]) == (0.93, 0.95)
    assert table.loc["b", "mean"] == 0.9 and np.isnan(table.loc["b", "sd"])  # one run: no spread
    assert np.isnan(table.loc["c", "mean"])
    assert list(compare.spread(runs).index) == ["a", "b"]  # by default, the groups it has


@pytest.mark.parametrize("mean, sd, n, text", [
    (0.85912, 0.01204, 3, "0.859 ± 0.012 (3)"),
    (0.85912, 0.01204, 3.0, "0.859 ± 0.012 (3)"),  # a count that pandas made a float
    (0.831, float("nan"), 1, "0.831 (1 run)"),
    (float("nan"), float("nan"), 0, "no runs yet"),
])
def test_format_spread(mean, sd, n, text):
    assert compare.format_spread(mean, sd, n) == text


def test_reproduction_table_keeps_every_model_and_says_what_is_missing():
    table = compare.reproduction_table(small_reproduction(), NAMES)
    assert list(table.index) == ["Dense", "Dropout", "Wide"]
    assert list(table.columns) == [
        "tutorial's test acc.", "test acc., tutorial's protocol", "test acc., book's protocol",
        "tutorial's train acc.", "train acc., tutorial's protocol", "train acc., book's protocol"]
    assert table.loc["Dense", "test acc., tutorial's protocol"] == "0.865 ± 0.005 (3)"
    assert table.loc["Dense", "test acc., book's protocol"] == "0.855 ± 0.005 (3)"
    assert table.loc["Dense", "tutorial's train acc."] == "0.885"
    assert table.loc["Dropout", "test acc., tutorial's protocol"] == "0.898 (1 run)"
    assert table.loc["Dropout", "test acc., book's protocol"] == "no runs yet"
    assert table.loc["Dropout", "tutorial's train acc."] == "—"
    assert table.loc["Wide", "tutorial's test acc."] == "—"  # its tutorial reported none
    assert table.loc["Wide", "test acc., book's protocol"] == "no runs yet"


def test_protocol_runs_pick_one_protocol_and_optionally_one_model():
    study = small_reproduction()
    book = compare.protocol_runs(study, "book")
    assert set(book["protocol"]) == {"book"} and len(book) == 3
    dropout = compare.protocol_runs(study, "tutorial", "strided_cnn_dropout")
    assert list(dropout["test_accuracy"]) == [0.898]
    assert compare.protocol_runs(study, "book", "wide_cnn_bn").empty  # no runs: an empty table
    with pytest.raises(ValueError, match="'tutorial' or 'book'"):
        compare.protocol_runs(study, "Book")


def test_protocol_gaps_split_the_gap_into_protocol_and_what_is_left():
    gaps = compare.protocol_gaps(small_reproduction(), NAMES)
    assert list(gaps.index) == ["Dense"]  # dropout lacks book runs; wide reported nothing
    dense = gaps.loc["Dense"]
    assert dense["gap (points)"] == pytest.approx((0.871 - 0.855) * 100)
    assert dense["protocol (points)"] == pytest.approx(1.0)
    assert dense["left (points)"] == pytest.approx(0.6)
    assert dense["gap (points)"] == pytest.approx(dense["protocol (points)"] + dense["left (points)"])
    assert dense["protocol se (points)"] == pytest.approx(np.sqrt(0.005 ** 2 / 3 * 2) * 100)
    assert dense["left / sd"] == pytest.approx(0.006 / 0.005)
    assert dense["above every run"] and dense["chance of that"] == 0.25  # 0.8705 > 0.87
    # Welch's t with three runs a side: 1.0 point is 2.45 standard errors, short of t(4) = 2.78.
    assert dense["protocol t95"] == pytest.approx(stats.t.ppf(0.975, 4)) and not dense["protocol clear"]
    # One more tutorial-protocol run: 0.865 ± t(2) · 0.005 · sqrt(4/3), up to 0.8898; 0.871 is within.
    assert dense["one more run up to"] == pytest.approx(0.865 + stats.t.ppf(0.975, 2) * 0.005 * np.sqrt(4 / 3))
    assert not dense["beyond one more run"]


def test_a_reported_figure_within_rounding_of_a_run_is_not_above_it():
    study = small_reproduction()
    study["runs"] += [run("strided_cnn_dropout", "tutorial", s, 0.8975) for s in (1, 2)]
    study["runs"] += [run("strided_cnn_dropout", "book", s, 0.89) for s in (42, 1)]
    gaps = compare.protocol_gaps(study, NAMES)
    # "About 90%" is 0.895 to 0.905; the best run, 0.898, may be the same figure.
    assert gaps.loc["Dropout", "rounding"] == 0.005 and not gaps.loc["Dropout", "above every run"]


@pytest.mark.parametrize("reported, half_unit", [(0.871, 0.0005), (0.9137, 0.00005), (0.9, 0.005), (0.90, 0.005)])
def test_rounding_is_half_a_unit_of_the_last_digit(reported, half_unit):
    assert compare.rounding(reported) == pytest.approx(half_unit)


def test_chance_of_at_least_against_the_binomial():
    # Four figures, each the best of four runs with chance 1/4: at least three, 13/256.
    assert compare.chance_of_at_least(3, [0.25] * 4) == pytest.approx(13 / 256)
    assert compare.chance_of_at_least(3, [0.25] * 4) == pytest.approx(stats.binom.sf(2, 4, 0.25))
    assert compare.chance_of_at_least(2, [0.5, 0.2]) == pytest.approx(0.1)
    assert compare.chance_of_at_least(0, []) == 1 and compare.chance_of_at_least(1, []) == 0
    with pytest.raises(ValueError, match="chances must lie in"):
        compare.chance_of_at_least(1, [1.5])


def test_seed_points_take_the_books_protocol_and_both_views_of_the_books_models():
    book_seeds = {"runs": [
        {"model": "book_cnn", "seed": 102, "test_accuracy_one_view": 0.93, "test_accuracy_vote": 0.94},
        {"model": "book_cnn", "seed": 101, "test_accuracy_one_view": 0.935, "test_accuracy_vote": 0.938}]}
    points = compare.seed_points(small_reproduction(), book_seeds, NAMES,
                                 {"book_cnn": "Book CNN", "book_dense": "Book dense"})
    assert list(points["model"].cat.categories) == [
        "Dense", "Dropout", "Wide", "Book CNN, one view", "Book CNN, mirror vote",
        "Book dense, one view", "Book dense, mirror vote"]
    assert sorted(points.loc[points["model"] == "Dense", "test_accuracy"]) == [0.85, 0.855, 0.86]
    assert not (points["model"] == "Dropout").any()  # tutorial's protocol only: not shown
    votes = points[points["model"] == "Book CNN, mirror vote"]
    assert list(votes["seed"]) == [101, 102] and list(votes["test_accuracy"]) == [0.938, 0.94]
    table = compare.spread(points)
    assert table.loc["Book dense, one view", "n"] == 0 and table.loc["Book CNN, one view", "n"] == 2


def test_plot_spread_draws_every_run_jittered_and_labels_the_counts():
    points = pd.DataFrame({"model": pd.Categorical(["a", "a", "a", "b"], categories=["a", "b", "c"]),
                           "test_accuracy": [0.9, 0.9, 0.9, 0.8]})
    ax = compare.plot_spread(points, reported={"a": 0.91}, title="t")
    dots = ax.collections[0].get_offsets()
    assert len(dots) == 3 and np.all(dots[:, 0] == 0.9)
    assert len(set(dots[:, 1])) == 3 and np.all(np.abs(dots[:, 1]) <= 0.2)  # equal runs pulled apart
    again = compare.plot_spread(points, reported={"a": 0.91}).collections[0].get_offsets()
    np.testing.assert_array_equal(dots, again)  # the same jitter every time: stable outputs
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (3 runs)", "b (1 run)", "c (no runs yet)"]
    crosses = [c for c in ax.collections if c.get_label() == "tutorial's figure"]
    assert len(crosses) == 1 and tuple(crosses[0].get_offsets()[0]) == (0.91, 0)
    assert ax.get_title() == "t"
    assert ax.get_legend_handles_labels()[1] == ["tutorial's figure", "one run", "mean ± sd"]
    plt.close("all")
    with pytest.raises(ValueError, match="no groups to plot"):
        compare.plot_spread(pd.DataFrame({"model": [], "test_accuracy": []}))


def test_paired_difference_counts_only_the_images_the_models_disagree_on():
    a = np.array([1, 1, 1, 0, 1, 0, 1, 1])
    b = np.array([1, 1, 0, 0, 1, 1, 0, 1])
    paired = compare.paired_difference(a, b)
    differences = a - b  # 0, 0, 1, 0, 0, -1, 1, 0
    assert paired["difference"] == pytest.approx(1 / 8)
    assert paired["disagreements"] == 3 and paired["images"] == 8
    assert paired["half_width"] == pytest.approx(1.959964 * differences.std(ddof=1) / np.sqrt(8), rel=1e-5)
    same = compare.paired_difference(a, a)
    assert same["difference"] == 0 and same["half_width"] == 0  # no disagreement, no doubt
    with pytest.raises(ValueError, match="equally long"):
        compare.paired_difference(a, b[:4])


def test_sd_bounds_against_the_chi_squared_interval():
    low, high = compare.sd_bounds(3)
    assert low == pytest.approx(np.sqrt(2 / stats.chi2.ppf(0.975, 2)))
    assert high == pytest.approx(np.sqrt(2 / stats.chi2.ppf(0.025, 2)))
    assert 0.52 < low < 0.53 and 6.2 < high < 6.3
    assert compare.sd_bounds(30)[1] < compare.sd_bounds(5)[1]  # more runs, a tighter sd
    with pytest.raises(ValueError, match="at least two runs"):
        compare.sd_bounds(1)


def test_comparison_table_adds_the_spread_over_seeds():
    record = {"params": 1, "epochs": 10, "tutorial_epochs": 10, "batch_size": 32, "seconds_per_epoch": 1.0,
              "train_accuracy": 0.9, "val_accuracy": 0.86, "test_accuracy": 0.858,
              "reported_test_accuracy": 0.871}
    records = {"dense_baseline": {**record, "model": "dense_baseline"},
               "strided_cnn": {**record, "model": "strided_cnn"}}
    names = {"dense_baseline": "Dense", "strided_cnn": "Strided"}
    over_seeds = pd.DataFrame({"n": [3], "mean": [0.8611], "sd": [0.0027]}, index=["dense_baseline"])
    table = compare.comparison_table(records, names, over_seeds)
    columns = list(table.columns)
    assert columns[columns.index("test acc.") + 1] == "test acc. over seeds"
    assert list(table["test acc. over seeds"]) == ["0.861 ± 0.003 (3)", "this run only"]
    assert "test acc. over seeds" not in compare.comparison_table(records, names).columns


def write_study(folder, name, quick=False):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(
        {"study": name, "quick": quick, "date": "2026-01-01", "device": "a CPU", "runs": [{}, {}], "rows": []}))


def test_read_study_prefers_this_checkouts_file_and_names_it(tmp_path, capsys):
    write_study(tmp_path / "results" / "fashion_mnist", "demo")
    study = results.read_study("demo", start=tmp_path)
    assert study["study"] == "demo"
    assert capsys.readouterr().out == (
        "demo study: results/fashion_mnist/demo.json in this checkout (2026-01-01, a CPU, 2 runs)\n")


def test_read_study_falls_back_to_the_shipped_copy_and_refuses_quick_studies(tmp_path, capsys, monkeypatch):
    # A quick study in this checkout is not read: studies are full runs only.
    write_study(tmp_path / "results" / "quick" / "fashion_mnist", "reproduction", quick=True)
    study = results.read_study("reproduction", start=tmp_path)
    shipped = json.loads((results.shipped_dir() / "reproduction.json").read_text())
    assert study == shipped
    assert capsys.readouterr().out.startswith(
        "reproduction study: helpers/book_results/fashion_mnist/reproduction.json, the book's copy")
    write_study(tmp_path / "results" / "fashion_mnist", "odd", quick=True)
    with pytest.raises(ValueError, match="holds a quick study"):
        results.read_study("odd", start=tmp_path)
    monkeypatch.setattr(results, "shipped_dir", lambda dataset="fashion_mnist": tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="scripts/run_studies.py --full"):
        results.read_study("reproduction", start=tmp_path)


def test_the_books_study_files_make_the_tables():
    # Whatever runs the shipped files hold so far, the chapters' tables build.
    reproduction = results.read_study("reproduction", verbose=False)
    names = {m: m for m in ("dense_baseline", "strided_cnn", "strided_cnn_dropout", "wide_cnn_bn",
                            "deep_narrow_cnn")}
    assert list(compare.reproduction_table(reproduction, names).index) == list(names)
    gaps = compare.protocol_gaps(reproduction, names)
    assert "wide_cnn_bn" not in gaps.index  # its tutorial reported no test accuracy
    points = compare.seed_points(reproduction, results.read_study("book_seeds", verbose=False), names,
                                 {"book_cnn": "book_cnn", "book_dense": "book_dense"})
    assert len(compare.spread(points)) == 9
    assert points["test_accuracy"].between(0.5, 1).all()

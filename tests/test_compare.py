"""Tests of helpers.compare: the side-by-side table of one run per model, and
the seed-spread tables chapters 8 and 9 build from the study files, on small
studies written here and on the book's own study files."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import compare, models, params, results

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


def test_seed_points_take_the_books_protocol_and_one_view_of_the_books_models():
    book_runs = {"Book CNN": [{"seed": 102, "test_accuracy_one_view": 0.93},
                              {"seed": 101, "test_accuracy_one_view": 0.935}],
                 "Book dense": []}
    points = compare.seed_points(small_reproduction(), NAMES, book_runs)
    assert list(points["model"].cat.categories) == ["Dense", "Dropout", "Wide", "Book CNN", "Book dense"]
    assert sorted(points.loc[points["model"] == "Dense", "test_accuracy"]) == [0.85, 0.855, 0.86]
    assert not (points["model"] == "Dropout").any()  # tutorial's protocol only: not shown
    cnn = points[points["model"] == "Book CNN"]
    assert list(cnn["seed"]) == [101, 102] and list(cnn["test_accuracy"]) == [0.935, 0.93]
    table = compare.spread(points)
    assert table.loc["Book dense", "n"] == 0 and table.loc["Book CNN", "n"] == 2


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


def test_the_books_study_files_make_the_tables():
    # Whatever runs the shipped files hold so far, the chapters' tables build.
    reproduction = results.read_study("reproduction", verbose=False)
    names = {m: m for m in ("dense_baseline", "strided_cnn", "strided_cnn_dropout", "wide_cnn_bn",
                            "deep_narrow_cnn")}
    assert list(compare.reproduction_table(reproduction, names).index) == list(names)
    gaps = compare.protocol_gaps(reproduction, names)
    assert "wide_cnn_bn" not in gaps.index  # its tutorial reported no test accuracy
    book_runs = {name: results.read_study(name, verbose=False)["runs"] for name in ("book_cnn_fast", "book_cnn")}
    points = compare.seed_points(reproduction, names, book_runs)
    assert len(compare.spread(points)) == 7
    assert points["test_accuracy"].between(0.5, 1).all()


def results_record(model_id, **fields):
    return {"model": model_id, "params": 10, "epochs": 1, "batch_size": 32, "train_seconds": 1.0,
            "seconds_per_epoch": 1.0, "train_accuracy": 0.5, "val_accuracy": 0.5, "test_accuracy": 0.5,
            "test_loss": 1.0, "reported_test_accuracy": None, **fields}


def test_comparison_table_marks_models_without_a_reported_figure():
    records = {
        "dense_baseline": results_record("dense_baseline", params=59130, tutorial_epochs=10,
                                 reported_test_accuracy=0.871, test_accuracy=0.861),
        "book_cnn": results_record("book_cnn", params=1702570, tutorial_epochs=1),
    }
    table = compare.comparison_table(records, {"dense_baseline": "Dense", "book_cnn": "Book"})
    assert list(table.index) == ["Dense", "Book"]
    assert float(table.loc["Dense", "difference (points)"]) == pytest.approx(-1.0)
    assert table.loc["Book", "tutorial's test acc."] == "—"
    assert table.loc["Book", "multiply-adds"] == compare.multiply_adds_by_model(["book_cnn"])["book_cnn"]
    with pytest.raises(ValueError, match="strided_cnn"):
        compare.comparison_table(records, {"strided_cnn": "Strided"})


def test_multiply_adds_by_model_counts_each_architecture():
    counts = compare.multiply_adds_by_model(["dense_baseline", "strided_cnn"])
    assert list(counts) == ["dense_baseline", "strided_cnn"]
    # A dense layer makes one multiply-add per weight: every parameter but the biases.
    assert counts["dense_baseline"] == 59130 - sum((16, 32, 64, 128, 256, 10))
    assert counts["strided_cnn"] == int(params.multiply_adds(models.build_model("strided_cnn")).sum())

"""Tests of helpers.uncertainty against hand computations and SciPy: the
spread of a few runs, whether a difference is clear of luck, and the test
set's own sampling error."""

import numpy as np
import pytest
from scipy import stats

from helpers import uncertainty


def test_mean_and_interval_against_a_hand_computation():
    spread = uncertainty.mean_and_interval([0.93, 0.94, 0.95])
    # sd 0.01; t(0.975, 2 degrees of freedom) = 4.3027
    assert spread["n"] == 3 and spread["mean"] == pytest.approx(0.94) and spread["sd"] == pytest.approx(0.01)
    assert spread["ci95"] == pytest.approx(4.3027 * 0.01 / np.sqrt(3), rel=1e-4)
    assert uncertainty.mean_and_interval([0.93, 0.94, 0.95], confidence=0.9)["ci95"] < spread["ci95"]


@pytest.mark.parametrize("function", [uncertainty.mean_and_interval, uncertainty.prediction_interval])
def test_a_spread_of_one_run_is_refused(function):
    with pytest.raises(ValueError, match="1"):
        function([0.9])


@pytest.mark.parametrize("mean, ci95, clear", [
    (0.5, 0.3, True), (-0.5, 0.3, True), (0.2, 0.3, False), (-0.3, 0.3, False), (0.5, float("nan"), False)])
def test_excludes_zero_only_when_the_interval_leaves_it_out(mean, ci95, clear):
    assert uncertainty.excludes_zero({"mean": mean, "ci95": ci95}) is clear


def test_prediction_interval_is_wider_than_the_confidence_interval_of_the_mean():
    runs = [0.858, 0.860, 0.861, 0.863]
    one_more = uncertainty.prediction_interval(runs)
    sd = np.std(runs, ddof=1)
    assert one_more["reach"] == pytest.approx(stats.t.ppf(0.975, 3) * sd * np.sqrt(1.25))
    assert one_more["low"] == pytest.approx(np.mean(runs) - one_more["reach"])
    assert one_more["high"] == pytest.approx(np.mean(runs) + one_more["reach"])
    assert one_more["reach"] > uncertainty.mean_and_interval(runs)["ci95"] * 2  # sqrt(n + 1) times as wide


def test_welch_critical_value_matches_scipys_welch_test():
    a, b = np.array([0.8966, 0.8987, 0.8972]), np.array([0.8860, 0.8961, 0.8910])
    welch = stats.ttest_ind(a, b, equal_var=False)
    expected = stats.t.ppf(0.975, welch.df)
    assert uncertainty.welch_critical_value(a.std(ddof=1), 3, b.std(ddof=1), 3) == pytest.approx(expected)
    assert expected > 3.5  # very unequal spreads: close to t with 2 degrees of freedom, not 2


@pytest.mark.parametrize("arguments, mentioned", [((0.01, 1, 0.01, 3), "1 and 3"), ((0.0, 3, 0.0, 3), "spread")])
def test_welch_critical_value_refuses_what_it_cannot_compare(arguments, mentioned):
    with pytest.raises(ValueError, match=mentioned):
        uncertainty.welch_critical_value(*arguments)


def test_binomial_interval_of_a_test_accuracy():
    # 1.96 * sqrt(0.9 * 0.1 / 10000) = 0.00588
    assert uncertainty.binomial_interval(0.9) == pytest.approx(0.00588, abs=1e-5)
    assert uncertainty.binomial_interval(0.9, images=2500) == pytest.approx(2 * 0.00588, abs=1e-5)
    with pytest.raises(ValueError, match="1.2"):
        uncertainty.binomial_interval(1.2)


def test_paired_difference_counts_only_the_images_the_models_disagree_on():
    a = np.array([1, 1, 1, 0, 1, 0, 1, 1])
    b = np.array([1, 1, 0, 0, 1, 1, 0, 1])
    paired = uncertainty.paired_difference(a, b)
    differences = a - b  # 0, 0, 1, 0, 0, -1, 1, 0
    assert paired["difference"] == pytest.approx(1 / 8)
    assert paired["disagreements"] == 3 and paired["images"] == 8
    assert paired["half_width"] == pytest.approx(1.959964 * differences.std(ddof=1) / np.sqrt(8), rel=1e-5)
    same = uncertainty.paired_difference(a, a)
    assert same["difference"] == 0 and same["half_width"] == 0  # no disagreement, no doubt
    with pytest.raises(ValueError, match=r"\(4,\)"):
        uncertainty.paired_difference(a, b[:4])


def test_sd_bounds_against_the_chi_squared_interval():
    low, high = uncertainty.sd_bounds(3)
    assert low == pytest.approx(np.sqrt(2 / stats.chi2.ppf(0.975, 2)))
    assert high == pytest.approx(np.sqrt(2 / stats.chi2.ppf(0.025, 2)))
    assert 0.52 < low < 0.53 and 6.2 < high < 6.3
    assert uncertainty.sd_bounds(30)[1] < uncertainty.sd_bounds(5)[1]  # more runs, a tighter sd
    with pytest.raises(ValueError, match="1"):
        uncertainty.sd_bounds(1)


def test_chance_of_at_least_against_the_binomial():
    # Four figures, each the best of four runs with chance 1/4: at least three, 13/256.
    assert uncertainty.chance_of_at_least(3, [0.25] * 4) == pytest.approx(13 / 256)
    assert uncertainty.chance_of_at_least(3, [0.25] * 4) == pytest.approx(stats.binom.sf(2, 4, 0.25))
    assert uncertainty.chance_of_at_least(2, [0.5, 0.2]) == pytest.approx(0.1)
    assert uncertainty.chance_of_at_least(0, []) == 1 and uncertainty.chance_of_at_least(1, []) == 0
    with pytest.raises(ValueError, match="1.5"):
        uncertainty.chance_of_at_least(1, [1.5])


def test_the_module_loads_no_deep_learning_library():
    # Chapters 8 and 9 read study files with it; it needs NumPy and SciPy only.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(uncertainty))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "math", "numpy", "scipy"}, imported


def test_paired_p_value_is_students_paired_t_test():
    differences = [-1.0, -1.2, -0.7, -0.9]
    assert uncertainty.paired_p_value(differences) == pytest.approx(stats.ttest_1samp(differences, 0).pvalue)
    assert uncertainty.paired_p_value([0.0, 0.0]) == 1.0  # no change at all
    assert uncertainty.paired_p_value([-0.5, -0.5, -0.5]) == 0.0  # the same change every time
    with pytest.raises(ValueError, match="1"):
        uncertainty.paired_p_value([0.3])


def test_holm_adjusted_against_a_hand_computation():
    # Sorted: 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04, raised to 0.06 (never below the one before).
    assert uncertainty.holm_adjusted([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert uncertainty.holm_adjusted([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    assert uncertainty.holm_adjusted([0.02]) == pytest.approx([0.02])  # one test: nothing to adjust
    with pytest.raises(ValueError, match="1.5"):
        uncertainty.holm_adjusted([0.01, 1.5])


def test_sign_test_is_a_binomial_test_with_even_chances():
    assert uncertainty.sign_test(6, 6) == pytest.approx(2 * 0.5 ** 6)
    assert uncertainty.sign_test(3, 6) == 1.0
    assert uncertainty.sign_test(5, 8) == pytest.approx(stats.binomtest(5, 8, 0.5).pvalue)
    with pytest.raises(ValueError, match="7"):
        uncertainty.sign_test(7, 6)


def test_an_ablation_pairs_by_seed_and_corrects_for_several_rows():
    recipe = [{"seed": s, "test_accuracy_one_view": 0.93} for s in (1, 2, 3)]
    ablated = ([{"ingredient": "head", "seed": s, "test_accuracy_one_view": a}
                for s, a in ((1, 0.92), (2, 0.921), (3, 0.919))]
               + [{"ingredient": "dropout", "seed": s, "test_accuracy_one_view": a}
                  for s, a in ((3, 0.935), (1, 0.925), (2, 0.93))])
    rows = {row["ingredient"]: row for row in uncertainty.paired_ablation(recipe, ablated)}
    assert list(rows) == ["head", "dropout"]
    assert rows["head"]["differences"] == pytest.approx([0.01, 0.009, 0.011])
    assert rows["head"]["seeds_helped"] == 3 and rows["dropout"]["seeds_helped"] == 1
    assert rows["dropout"]["seeds"] == [1, 2, 3]  # paired by seed, not by order
    assert rows["dropout"]["mean_difference"] == pytest.approx(0.0)
    for row in rows.values():  # Holm's adjustment never lowers a p-value
        assert row["p_value"] <= row["p_value_holm"] <= 1
    with pytest.raises(ValueError, match="'head' shares 1 seed"):
        uncertainty.paired_ablation(recipe[:1], ablated)

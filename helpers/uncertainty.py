"""How sure a number is: intervals and tests for accuracies measured over a
few seeds or on a finite test set.

Every accuracy the book compares carries one of these: the spread of a few
runs (`mean_and_interval`, `prediction_interval`, `sd_bounds`), whether a
difference is clear of luck (`excludes_zero`, `welch_critical_value`,
`holm_adjusted`, `sign_test`), and the test set's own sampling error
(`binomial_interval`, `paired_difference`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_and_interval(values, confidence=0.95) -> dict:
    """Mean, sample standard deviation and the half-width of the t-based
    confidence interval of the mean, for a handful of runs (at least two)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        raise ValueError(f"a spread needs at least two runs, got {values.size}.")
    sd = float(values.std(ddof=1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * sd / math.sqrt(values.size))
    return {"n": int(values.size), "mean": float(values.mean()), "sd": sd, "ci95": half_width}


def excludes_zero(spread: dict) -> bool:
    """Whether the interval mean ± ci95 of `spread` (from mean_and_interval)
    leaves out zero: an effect clear of seed-to-seed luck at that confidence.
    An interval that could not be computed (nan) never does."""
    return bool(np.isfinite(spread["ci95"]) and abs(spread["mean"]) > spread["ci95"])


def prediction_interval(values, confidence=0.95) -> dict:
    """Where one more run like `values` (at least two runs) would land:
    mean ± t(n - 1) · sd · sqrt(1 + 1/n), the half-width as `reach`.

    Not the confidence interval of the mean, which shrinks as runs are added:
    one more run keeps the spread of a single run. A figure outside this
    interval is unlikely (1 - confidence) to be one more run of the same
    procedure; a figure merely outside the range of n runs is not, since one
    more run lands outside that range with a chance of 2 / (n + 1)."""
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        raise ValueError(f"a prediction interval needs at least two runs, got {values.size}.")
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    reach = float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * sd * math.sqrt(1 + 1 / values.size))
    return {"n": int(values.size), "mean": mean, "sd": sd, "reach": reach,
            "low": mean - reach, "high": mean + reach}


def welch_critical_value(sd_a: float, n_a: int, sd_b: float, n_b: int, confidence=0.95) -> float:
    """How many standard errors, sqrt(sd_a²/n_a + sd_b²/n_b), a difference of
    two means must reach before luck is an unlikely cause (two-sided): Student's
    t at Welch-Satterthwaite's degrees of freedom, which allows the two groups
    different spreads. With three runs a side it is about 3 to 4, not 2."""
    if min(n_a, n_b) < 2:
        raise ValueError(f"Welch's test needs at least two runs a side, got {n_a} and {n_b}.")
    a, b = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    if a + b == 0:
        raise ValueError("both groups have no spread: there is no standard error to compare with.")
    degrees = (a + b) ** 2 / (a ** 2 / (n_a - 1) + b ** 2 / (n_b - 1))
    return float(stats.t.ppf(0.5 + confidence / 2, degrees))


def binomial_interval(accuracy: float, images: int = 10000, confidence=0.95) -> float:
    """Half-width of the normal-approximation interval of an accuracy
    measured on `images` independent test images: the test set's own
    sampling error, even for a model whose weights are fixed."""
    if not 0 <= accuracy <= 1 or images < 1:
        raise ValueError(f"need an accuracy in [0, 1] and a positive image count, got {accuracy} and {images}.")
    return float(stats.norm.ppf(0.5 + confidence / 2) * math.sqrt(accuracy * (1 - accuracy) / images))


def paired_difference(correct_a, correct_b, confidence=0.95) -> dict:
    """The difference in accuracy between two models scored on the same
    images, and its sampling error.

    `correct_a` and `correct_b` say, image by image, whether each model got
    it right. Images both got right, or both wrong, add nothing to the
    difference; only those they disagree on do, so the interval is that of
    the mean of the per-image differences (-1, 0 or +1): the normal
    approximation, z * sd / sqrt(images). Returns `difference` (a - b),
    `half_width` of its interval, `disagreements` (images) and `images`.
    """
    a, b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"need two equally long sequences of per-image results, got shapes {a.shape} and {b.shape}.")
    differences = a.astype(float) - b.astype(float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return {"difference": float(differences.mean()),
            "half_width": float(z * differences.std(ddof=1) / np.sqrt(a.size)),
            "disagreements": int((a != b).sum()), "images": int(a.size)}


def sd_bounds(n: int, confidence=0.95) -> tuple:
    """How far the sd of `n` runs can be from the true one: the factors
    (low, high) such that measured sd x low ... measured sd x high is the
    `confidence` interval of the true sd (chi-squared, normal runs assumed)."""
    if n < 2:
        raise ValueError(f"an sd needs at least two runs, got {n}.")
    tail = (1 - confidence) / 2
    return (float(((n - 1) / stats.chi2.ppf(1 - tail, n - 1)) ** 0.5),
            float(((n - 1) / stats.chi2.ppf(tail, n - 1)) ** 0.5))


def chance_of_at_least(k: int, chances) -> float:
    """The probability that at least `k` of some independent events happen,
    each with its own chance (a Poisson binomial tail): e.g. that k of m
    reported figures each top all the runs of their own reproduction."""
    distribution = [1.0]  # distribution[j]: probability that j events happened so far
    for p in chances:
        if not 0 <= p <= 1:
            raise ValueError(f"chances must lie in [0, 1], got {p}.")
        distribution = [(distribution[j] if j < len(distribution) else 0.0) * (1 - p)
                        + (distribution[j - 1] * p if j >= 1 else 0.0)
                        for j in range(len(distribution) + 1)]
    return float(sum(distribution[max(k, 0):]))



def paired_p_value(differences) -> float:
    """Two-sided p-value of Student's paired t-test that the mean of
    `differences` (one per seed, e.g. ablated minus frozen) is zero."""
    values = np.asarray(differences, dtype=float)
    if values.size < 2:
        raise ValueError(f"a paired test needs at least two differences, got {values.size}.")
    sd = values.std(ddof=1)
    if sd == 0:
        return 1.0 if values.mean() == 0 else 0.0
    t = values.mean() / (sd / math.sqrt(values.size))
    return float(2 * stats.t.sf(abs(t), values.size - 1))


def holm_adjusted(p_values) -> list:
    """Holm's step-down adjustment of several p-values tested together: each
    adjusted p-value can be compared with 0.05 as if it stood alone, while
    the chance of any false alarm among all of them stays at most 0.05.
    Returned in the order given."""
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or not np.all((0 <= p) & (p <= 1)):
        raise ValueError(f"need a list of p-values in [0, 1], got {p_values!r}.")
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def sign_test(count: int, total: int) -> float:
    """Two-sided p-value that `count` of `total` changes point the same way
    when each is equally likely to point either way (a binomial test with
    chance 1/2): e.g. 6 of 6 ablations lowering the accuracy."""
    if not 0 <= count <= total or total < 1:
        raise ValueError(f"need 0 <= count <= total and total >= 1, got {count} of {total}.")
    return float(min(1.0, stats.binomtest(count, total, 0.5).pvalue))


def paired_ablation(recipe_runs, ablated_runs, measure="test_accuracy_one_view") -> list:
    """An ablation's table: one row per ingredient of `ablated_runs` (runs
    with "ingredient", "seed" and `measure`), each compared seed by seed
    with the recipe's run of the same seed in `recipe_runs` (paired).

    Each row holds the seeds, the gains (recipe minus the run without the
    ingredient), their mean, the paired t-test's p-value (`paired_p_value`),
    Holm's adjustment over all rows (`holm_adjusted`) and the number of seeds
    on which the ingredient helped. An ingredient with fewer than two seeds in
    common with the recipe is refused: one pair cannot carry a test."""
    recipe_by_seed = {run["seed"]: run[measure] for run in recipe_runs}
    rows = []
    for ingredient in dict.fromkeys(run["ingredient"] for run in ablated_runs):
        without = {run["seed"]: run[measure] for run in ablated_runs if run["ingredient"] == ingredient}
        seeds = sorted(set(without) & set(recipe_by_seed))
        if len(seeds) < 2:
            raise ValueError(f"{ingredient!r} shares {len(seeds)} seed(s) with the recipe's runs; a paired "
                             "test needs at least two: train it on the recipe's seeds.")
        differences = [recipe_by_seed[seed] - without[seed] for seed in seeds]
        rows.append({"ingredient": ingredient, "seeds": seeds, "differences": differences,
                     "mean_difference": sum(differences) / len(differences),
                     "p_value": paired_p_value(differences),
                     "seeds_helped": sum(d > 0 for d in differences)})
    for row, adjusted in zip(rows, holm_adjusted([row["p_value"] for row in rows])):
        row["p_value_holm"] = adjusted
    return rows

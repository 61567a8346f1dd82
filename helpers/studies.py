"""Chapter 11's study of the book's CNN, as the chapter reads it: the
development variants, the rule that froze one (`select_recipe`), and the
tables of its development log and ablation. The runs themselves are made by
the maintainers (`bookkit.studies`, through `scripts/run_studies.py`), and
each study is one results file whose rows are single training runs.

The order of work is the point. The recipe is chosen on the validation split
alone, by a rule fixed before the runs (`select_recipe`); only the frozen
recipe is scored on the test set, with seeds that were never used while
choosing.
"""

from __future__ import annotations

import inspect

import numpy as np

from helpers import models, uncertainty

# The fresh seeds of the test runs, never used while choosing.
TEST_SEEDS = (101, 102, 103, 104, 105)

TIME_BUDGET_SECONDS = 600
# A variant is eligible only if it trained within this share of the budget,
# so that a run of the frozen recipe on the same machine stays inside it.
SELECTION_SHARE_OF_BUDGET = 0.9
# Validation accuracies closer than this (about one seed's spread) count as a tie.
SELECTION_TIE = 0.002

# Variants of the book's CNN: changes to models.book_cnn's arguments ("model")
# and to the recipe, models.BOOK_SETTINGS["book_cnn"] ("recipe").
# Each names every setting it varies, so that the log stays true now that
# the book's defaults are the frozen variant.
DEVELOPMENT_VARIANTS = {
    "20 epochs": {"model": {"filters": (32, 64, 128)}, "recipe": {"epochs": 20}},
    "18 epochs": {"model": {"filters": (32, 64, 128)}, "recipe": {"epochs": 18}},
    "16 epochs": {"model": {"filters": (32, 64, 128)}, "recipe": {"epochs": 16}},
    "16 epochs, 16 filters in block 1": {"model": {"filters": (16, 64, 128)}, "recipe": {"epochs": 16}},
}
# The variant the rule froze (select_recipe on the development study's rows);
# the book's defaults, models.book_cnn and models.BOOK_SETTINGS, are this variant.
FROZEN_VARIANT = "16 epochs, 16 filters in block 1"
ABLATIONS = {
    "without the flip (and the mirror vote)": {"model": {"augment": False}, "recipe": {"mirror_vote": False}},
    "without batch normalisation": {"model": {"batch_norm": False}},
    "without dropout": {"model": {"dropout": 0.0}},
    "without the schedule (constant 0.001)": {"recipe": {"constant_learning_rate": 1e-3}},
    "without label smoothing": {"recipe": {"label_smoothing": 0.0}},
    "at half the width": {"model": {"filters": tuple(count // 2 for count in
                                                 DEVELOPMENT_VARIANTS[FROZEN_VARIANT]["model"]["filters"]),
                                    "dense_units": inspect.signature(models.book_cnn)
                                    .parameters["dense_units"].default // 2}},
}


def select_recipe(rows: list[dict]) -> str:
    """The development variant the book freezes, by the rule fixed before any
    development run: among the variants that trained within
    SELECTION_SHARE_OF_BUDGET of the time budget, the highest validation
    accuracy; a variant within SELECTION_TIE of it that trained faster wins
    the tie. `rows` are the development study's rows (one per variant)."""
    eligible = [r for r in rows if r["train_seconds"] <= SELECTION_SHARE_OF_BUDGET * TIME_BUDGET_SECONDS]
    if not eligible:
        raise ValueError(f"no development run trained within {SELECTION_SHARE_OF_BUDGET:.0%} of "
                         f"{TIME_BUDGET_SECONDS} s; add a shorter variant to DEVELOPMENT_VARIANTS.")
    best = max(r["val_accuracy"] for r in eligible)
    tied = [r for r in eligible if r["val_accuracy"] >= best - SELECTION_TIE]
    return min(tied, key=lambda r: r["train_seconds"])["variant"]


def development_verdicts(rows: list[dict]) -> dict:
    """Why `select_recipe` kept or dropped each development variant, in
    words: {variant: reason}. `rows` are the development study's rows."""
    limit = SELECTION_SHARE_OF_BUDGET * TIME_BUDGET_SECONDS
    frozen = select_recipe(rows)
    best = max(r["val_accuracy"] for r in rows if r["train_seconds"] <= limit)
    verdicts = {}
    for r in rows:
        behind = (best - r["val_accuracy"]) * 100
        if r["variant"] == frozen:
            verdicts[r["variant"]] = ("frozen: the best validation score within the time limit" if behind == 0
                                      else f"frozen: {behind:.2f} points behind the best, within the tie, "
                                           "and the fastest")
        elif r["train_seconds"] > limit:
            verdicts[r["variant"]] = f"dropped: {r['train_seconds']:.0f} s is over the {limit:.0f} s limit"
        elif r["val_accuracy"] >= best - SELECTION_TIE:
            verdicts[r["variant"]] = "dropped: within the tie, but slower"
        else:
            verdicts[r["variant"]] = f"dropped: {behind:.2f} points behind the best"
    return verdicts


def ablation_table(ablation_runs: list[dict], frozen_runs: list[dict]):
    """The change each ablation makes, paired by seed with the frozen
    recipe's run on the same seed: the mean change in points of the
    validation accuracy (one view), of the test accuracy with one view and
    as the recipe predicts (its mirror vote, or one view where the ablation
    drops the vote), the standard deviation of that last change over the
    seeds and the half-width of its 95% confidence interval (t, paired by
    seed), and the mean training seconds. A row "without the mirror vote"
    is read off the frozen runs themselves (one view against the vote; its
    one-view change is empty, since one view is what it compares)."""
    import pandas as pd

    frozen = {run["seed"]: run for run in frozen_runs}

    def row(pairs, validation, one_view, headline, seconds):
        changes = np.array([headline(a, f) for a, f in pairs]) * 100
        interval = uncertainty.mean_and_interval(changes)["ci95"] if len(pairs) > 1 else np.nan
        return {"seeds": len(pairs),
                "validation change": np.mean([validation(a, f) for a, f in pairs]) * 100,
                "test change, one view": np.mean([one_view(a, f) for a, f in pairs]) * 100,
                "test change, as predicted": changes.mean(),
                "sd of that change": changes.std(ddof=1) if len(pairs) > 1 else np.nan,
                "95% CI of that change": interval,
                "training seconds": np.mean([seconds(a, f) for a, f in pairs])}

    rows = {"without the mirror vote": row(
        [(f, f) for f in frozen_runs], lambda a, f: f["val_accuracy"] - f["val_accuracy_vote"],
        lambda a, f: np.nan, lambda a, f: f["test_accuracy_one_view"] - f["test_accuracy"],
        lambda a, f: f["train_seconds"])}
    for name in ABLATIONS:
        pairs = [(run, frozen[run["seed"]]) for run in ablation_runs
                 if run["ablation"] == name and run["seed"] in frozen]
        if pairs:
            rows[name] = row(pairs, lambda a, f: a["val_accuracy"] - f["val_accuracy"],
                             lambda a, f: a["test_accuracy_one_view"] - f["test_accuracy_one_view"],
                             lambda a, f: a["test_accuracy"] - f["test_accuracy"],
                             lambda a, f: a["train_seconds"])
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "the frozen recipe"
    return table

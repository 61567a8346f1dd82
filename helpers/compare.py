"""Putting trained models side by side, from their results files only."""

from __future__ import annotations

import pandas as pd

from helpers import models, params


def multiply_adds(model_ids) -> dict:
    """The forward-pass multiply-adds per image of each model, counted from its architecture."""
    return {model_id: int(params.multiply_adds(models.build_model(model_id)).sum())
            for model_id in model_ids}


def comparison_table(records: dict, names: dict) -> pd.DataFrame:
    """One row per model (in the order of `names`, keyed by model id): size,
    work per image, schedule, cost and accuracies, and the difference from the
    accuracy its tutorial reported ("—" where none was reported).

    `records` maps model ids to results files as `results.read_result` returns them.
    """
    missing = [model_id for model_id in names if model_id not in records]
    if missing:
        raise ValueError(f"no results record for {', '.join(missing)}; read it with "
                         "results.read_result first.")
    results = pd.DataFrame.from_dict({m: records[m] for m in names}, orient="index")
    reported = results["reported_test_accuracy"].astype(float)
    table = pd.DataFrame({
        "parameters": results["params"],
        "multiply-adds": pd.Series(multiply_adds(names)),
        "epochs (tutorial's)": [f"{records[m]['epochs']} ({records[m]['tutorial_epochs']})"
                                for m in names],
        "batch": results["batch_size"],
        "s / epoch": results["seconds_per_epoch"],
        "train acc.": results["train_accuracy"].astype(float).round(3),
        "val. acc.": results["val_accuracy"].astype(float).round(3),
        "test acc.": results["test_accuracy"].astype(float).round(3),
        "tutorial's test acc.": reported.map("{:.3f}".format).where(reported.notna(), "—"),
        "difference (points)": ((results["test_accuracy"] - reported) * 100).round(1)
                               .map("{:+.1f}".format).where(reported.notna(), "—"),
    })
    return table.rename(index=names)

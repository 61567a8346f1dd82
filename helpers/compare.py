"""Putting trained models side by side, from their results files only: one
run per model (`comparison_table`), and the spread over seeds that the
study files hold (`spread`, `reproduction_table`, `protocol_gaps`,
`seed_points`). The intervals behind them are in `helpers.uncertainty`, the
strip plot of the runs in `helpers.plots.plot_spread`."""

from __future__ import annotations

import pandas as pd

from helpers import models, params, uncertainty


def multiply_adds_by_model(model_ids) -> dict:
    """The forward-pass multiply-adds per image of each model, counted from its architecture."""
    return {model_id: int(params.multiply_adds(models.build_model(model_id)).sum())
            for model_id in model_ids}


def comparison_table(records: dict, names: dict, over_seeds: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model (in the order of `names`, keyed by model id): size,
    work per image, schedule, cost and accuracies, and the difference from the
    accuracy its tutorial reported ("—" where none was reported).

    `records` maps model ids to results files as `results.read_result` returns
    them: one run each. `over_seeds`, a `spread` table indexed by model id,
    adds the column "test acc. over seeds" after the run's test accuracy
    (mean ± sd (runs); "this run only" for a model the table lacks).
    """
    missing = [model_id for model_id in names if model_id not in records]
    if missing:
        raise ValueError(f"no results record for {', '.join(missing)}; read it with "
                         "results.read_result first.")
    results = pd.DataFrame.from_dict({m: records[m] for m in names}, orient="index")
    reported = results["reported_test_accuracy"].astype(float)
    table = pd.DataFrame({
        "parameters": results["params"],
        "multiply-adds": pd.Series(multiply_adds_by_model(names)),
        "epochs (tutorial's)": [f"{records[m]['epochs']} ({records[m]['tutorial_epochs']})"
                                for m in names],
        "batch": results["batch_size"],
        "s / epoch": results["seconds_per_epoch"],
        "train acc.": results["train_accuracy"].astype(float).round(3),
        "val. acc.": results["val_accuracy"].astype(float).round(3),
        "test acc.": results["test_accuracy"].astype(float).round(3),
        **({} if over_seeds is None else {"test acc. over seeds": [
            format_spread(over_seeds.loc[m, "mean"], over_seeds.loc[m, "sd"], int(over_seeds.loc[m, "n"]))
            if m in over_seeds.index and over_seeds.loc[m, "n"] else "this run only" for m in names]}),
        "tutorial's test acc.": reported.map("{:.3f}".format).where(reported.notna(), "—"),
        "difference (points)": ((results["test_accuracy"] - reported) * 100).round(1)
                               .map("{:+.1f}".format).where(reported.notna(), "—"),
    })
    return table.rename(index=names)


# Spread over seeds: the study files of scripts/run_studies.py (read them with
# results.read_study) hold single training runs; these functions summarise them.

def spread(runs: pd.DataFrame, by="model", value="test_accuracy", order=None) -> pd.DataFrame:
    """The spread of `value` over the runs of each group of column `by`.

    `runs` has one row per training run. Returns one row per group, indexed by
    it: `n` runs, their `mean`, sample standard deviation `sd`, the half-width
    `ci95` of the 95% t-interval of the mean (`uncertainty.mean_and_interval`),
    and the `lowest` and `highest` run. With one run, sd and ci95 are NaN.
    `order` lists the groups to show, in that order (default: the column's
    categories if it is categorical, else the order of appearance); a group
    without runs gets n = 0 and NaN elsewhere.
    """
    if order is None:
        column = runs[by]
        order = list(column.cat.categories) if isinstance(column.dtype, pd.CategoricalDtype) \
            else list(dict.fromkeys(column))
    rows = {}
    for group in order:
        values = runs.loc[runs[by] == group, value].astype(float).to_numpy()
        row = {"n": len(values), "mean": float("nan"), "sd": float("nan"), "ci95": float("nan"),
               "lowest": float("nan"), "highest": float("nan")}
        if len(values) >= 2:
            row.update({k: v for k, v in uncertainty.mean_and_interval(values).items() if k != "n"})
        elif len(values) == 1:
            row["mean"] = float(values[0])
        if len(values):
            row.update(lowest=float(values.min()), highest=float(values.max()))
        rows[group] = row
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["n", "mean", "sd", "ci95", "lowest", "highest"])
    table.index.name = by
    return table.astype({"n": int})


def format_spread(mean, sd, n, digits=3) -> str:
    """'0.859 ± 0.012 (3)': a mean, its sd and the number of runs, for a table;
    '0.831 (1 run)' for a single run and 'no runs yet' for none."""
    if pd.isna(n) or not n:
        return "no runs yet"
    n = int(n)
    if n == 1 or pd.isna(sd):
        return f"{mean:.{digits}f} (1 run)"
    return f"{mean:.{digits}f} ± {sd:.{digits}f} ({n})"


def _reported(study: dict, model_id: str) -> dict:
    """The figures the tutorial of `model_id` reported, as the study recorded them."""
    for row in study.get("rows", []):
        if row["model"] == model_id:
            return row
    return models.TUTORIAL_SETTINGS.get(model_id, {})


def protocol_runs(study: dict, protocol: str, model: str | None = None) -> pd.DataFrame:
    """The reproduction study's runs (results.read_study("reproduction")) under
    one protocol, "tutorial" or "book", as a table with a row per run; only
    those of `model` (a model id) if given. A model without runs gives an
    empty table, so a chapter can check before it summarises."""
    if protocol not in ("tutorial", "book"):
        raise ValueError(f"protocol must be 'tutorial' or 'book', got {protocol!r}.")
    runs = pd.DataFrame(study["runs"], columns=sorted({k for r in study["runs"] for k in r} | {
        "model", "protocol", "seed", "test_accuracy", "train_accuracy"}))
    runs = runs[runs["protocol"] == protocol]
    return runs if model is None else runs[runs["model"] == model]


def reproduction_table(study: dict, names: dict) -> pd.DataFrame:
    """The reproduction study (results.read_study("reproduction")) as a table:
    one row per model of `names` (model id -> row label, in that order), with
    each tutorial's reported test and training accuracy and the mean ± sd
    (number of runs) of ours under the tutorial's protocol and under the book's.

    Models the study has no runs of yet keep their row ("no runs yet").
    """
    columns = {}
    for label, value in (("test acc.", "test_accuracy"), ("train acc.", "train_accuracy")):
        reported = [_reported(study, m).get(f"reported_{value}") for m in names]
        columns[f"tutorial's {label}"] = ["—" if r is None else f"{r:.3f}" for r in reported]
        for protocol in ("tutorial", "book"):
            summary = spread(protocol_runs(study, protocol), value=value, order=list(names))
            columns[f"{label}, {protocol}'s protocol"] = [
                format_spread(row["mean"], row["sd"], row["n"]) for _, row in summary.iterrows()]
    table = pd.DataFrame(columns, index=list(names.values()))
    return table[[c for c in table.columns if c.startswith(("tutorial's test", "test acc."))]
                 + [c for c in table.columns if c.startswith(("tutorial's train", "train acc."))]]


def protocol_gaps(study: dict, names: dict) -> pd.DataFrame:
    """How the reproduction study splits the gap between each tutorial's
    reported test accuracy and the book's runs (all numbers from the study's
    single runs; differences in points, i.e. x 100).

    One row per model of `names` (id -> label) that reported a test accuracy
    and has at least two runs under both protocols:

    - `gap`: reported minus the mean of the book's protocol;
    - `protocol`: mean under the tutorial's protocol minus mean under the
      book's (the part of the gap the protocol explains), and `protocol se`,
      its standard error from the two sds, sqrt(sd_t²/n_t + sd_b²/n_b);
      `protocol t95`: how many standard errors a difference must reach to be
      clear of luck at 95% (`uncertainty.welch_critical_value`), and `protocol
      clear`: whether it does;
    - `left`: reported minus the mean under the tutorial's protocol, also in
      sds of those runs (`left / sd`); these two signs make the parts add up
      to the gap (positive: the reported figure stands above our runs);
    - `rounding`: half a unit of the reported figure's last digit (see
      `rounding`);
    - `one more run up to`: the top of the 95% prediction interval of the
      runs under the tutorial's protocol (`uncertainty.prediction_interval`), and
      `beyond one more run`: the reported figure lies above it even if it was
      rounded up;
    - `above every run`: the reported figure beats all n runs under its own
      protocol even if it was rounded up by that much; `chance of that`:
      1 / (n + 1), the chance that it would if the reported figure were one
      more run like ours (of n + 1 such runs, each is the best with the same
      chance; rounding only lowers it).
    """
    tutorial_runs = protocol_runs(study, "tutorial")
    tutorial = spread(tutorial_runs, order=list(names))
    book = spread(protocol_runs(study, "book"), order=list(names))
    rows = {}
    for model_id, label in names.items():
        reported = _reported(study, model_id).get("reported_test_accuracy")
        t, b = tutorial.loc[model_id], book.loc[model_id]
        if reported is None or t["n"] < 2 or b["n"] < 2:
            continue  # a split needs a spread under both protocols
        se = (t["sd"] ** 2 / t["n"] + b["sd"] ** 2 / b["n"]) ** 0.5
        critical = uncertainty.welch_critical_value(t["sd"], int(t["n"]), b["sd"], int(b["n"]))
        one_more = uncertainty.prediction_interval(
            tutorial_runs.loc[tutorial_runs["model"] == model_id, "test_accuracy"])
        rows[label] = {
            "reported": reported,
            "tutorial mean": t["mean"], "tutorial sd": t["sd"], "tutorial n": int(t["n"]),
            "tutorial lowest": t["lowest"], "tutorial highest": t["highest"],
            "book mean": b["mean"], "book sd": b["sd"], "book n": int(b["n"]),
            "gap (points)": (reported - b["mean"]) * 100,
            "protocol (points)": (t["mean"] - b["mean"]) * 100,
            "protocol se (points)": se * 100,
            "protocol t95": critical,
            "protocol clear": bool(abs(t["mean"] - b["mean"]) > critical * se),
            "left (points)": (reported - t["mean"]) * 100,
            "left / sd": (reported - t["mean"]) / t["sd"],
            "rounding": rounding(reported),
            "above every run": bool(reported - rounding(reported) > t["highest"]),
            "one more run up to": one_more["high"],
            "beyond one more run": bool(reported - rounding(reported) > one_more["high"]),
            "chance of that": 1 / (t["n"] + 1),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def rounding(reported: float) -> float:
    """Half a unit of the last digit of a reported accuracy: 0.0005 for 0.907,
    0.00005 for 0.9137. A figure is taken as rounded at its last decimal, and
    at least at whole percentage points (0.90, which Python keeps as 0.9)."""
    decimals = len(repr(float(reported)).split(".")[1].rstrip("0"))
    return 0.5 * 10.0 ** -max(decimals, 2)


def seed_points(reproduction: dict, tutorial_names: dict, book_runs: dict) -> pd.DataFrame:
    """Every test accuracy of the seed studies, one row per run, for a strip plot.

    The tutorial models (`tutorial_names`, id -> label) come from the
    reproduction study's runs under the book's protocol; the book's own
    models from `book_runs` (label -> the runs of a study of
    `bookkit.rebuild`, each scored once on test with one view per image).
    Columns: `model` (the label, categorical in that order, so that a model
    without runs yet keeps its place), `seed`, `test_accuracy`, `study`.
    """
    rows, order = [], [*tutorial_names.values(), *book_runs]
    for run in reproduction["runs"]:
        if run.get("protocol") == "book" and run["model"] in tutorial_names:
            rows.append({"model": tutorial_names[run["model"]], "seed": run["seed"],
                         "test_accuracy": run["test_accuracy"], "study": "reproduction, book's protocol"})
    for label, runs in book_runs.items():
        rows += [{"model": label, "seed": run["seed"], "test_accuracy": run["test_accuracy_one_view"],
                  "study": "the book's CNN rebuilt"} for run in runs]
    points = pd.DataFrame(rows, columns=["model", "seed", "test_accuracy", "study"])
    points["model"] = pd.Categorical(points["model"], categories=order, ordered=True)
    return points.sort_values(["model", "seed"], kind="stable").reset_index(drop=True)

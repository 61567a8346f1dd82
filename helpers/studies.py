"""Studies: the experiments behind the book's comparisons that take many
training runs. Chapter 11's development log, its seeds and its ablation of
the book's CNN, and chapter 8's reproduction of the tutorials' models under
their own protocol and the book's. `scripts/run_studies.py` runs them and
keeps each study as one results file whose rows are single training runs.

The order of work is the point. The recipe is chosen on the validation split
alone, by a rule fixed before the runs (`select_recipe`); only the frozen
recipe is scored on the test set, with seeds that were never used while
choosing.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from helpers import data, evaluation, models, recipe, splitting, training

# The seed of every development run, and the fresh seeds of the test runs.
DEVELOPMENT_SEED = 0
TEST_SEEDS = (101, 102, 103, 104, 105)
ABLATION_SEEDS = TEST_SEEDS[:3]
# Chapter 5-7's seed first: its book-protocol runs are the chapters' own.
REPRODUCTION_SEEDS = (42, 1, 2)

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


def variant_settings(changes: dict, base: dict | None = None):
    """(model arguments, recipe settings) of a variant: `changes` applied to
    `base` (by default the book's CNN as models.book_cnn and
    models.BOOK_SETTINGS["book_cnn"] define it)."""
    base = base or {}
    model_arguments = {**base.get("model", {}), **changes.get("model", {})}
    settings = {**models.BOOK_SETTINGS["book_cnn"], **base.get("recipe", {}), **changes.get("recipe", {})}
    return model_arguments, settings


def seconds_to_target(seconds_by_epoch, accuracy_by_epoch, target: float):
    """Training seconds until an accuracy first reached `target` (None if it
    never did): the clock of chapter 11, read off a run's per-epoch history."""
    elapsed = np.cumsum(seconds_by_epoch)
    for seconds, accuracy in zip(elapsed, accuracy_by_epoch):
        if accuracy >= target:
            return round(float(seconds), 1)
    return None


def run_recipe(model_id: str, splits: splitting.Splits, seed: int, model_arguments: dict, settings: dict,
               score_test: bool, epochs: int | None = None) -> dict:
    """Train one variant of the book's CNN or dense network (`model_id` of
    models.BOOK_BUILDERS, built with `model_arguments`) with the recipe
    `settings`, and return its row.

    The row has the validation accuracy of the restored best epoch, one view
    and with the mirror vote, the training seconds and the seconds until the
    validation accuracy first passed the best tutorial figure (models.TUTORIAL_BEST). Only
    with `score_test` does it touch the test set. `epochs` overrides the
    settings' epochs (quick runs).
    """
    epochs = epochs or settings["epochs"]
    training.set_seed(seed)
    model = models.BOOK_BUILDERS[model_id](**model_arguments)
    history, logger = recipe.train_with_recipe(
        model, splits, epochs, settings["batch_size"], settings["peak_learning_rate"],
        settings["weight_decay"], settings["patience"], settings["label_smoothing"],
        constant_learning_rate=settings.get("constant_learning_rate"))
    val_by_epoch = history.history["val_accuracy"]
    best_epoch = int(np.argmax(val_by_epoch)) + 1
    row = {
        "seed": seed,
        "epochs": len(val_by_epoch),
        "best_epoch": best_epoch,
        "train_seconds": round(logger.fit_seconds, 1),
        "val_accuracy": float(val_by_epoch[best_epoch - 1]),
        "val_accuracy_vote": _accuracy(model, splits.x_val, splits.y_val, mirror_vote=True),
        "seconds_to_val_91_37": seconds_to_target(logger.seconds, val_by_epoch, models.TUTORIAL_BEST),
        # Kept per epoch because this machine's epochs are not all alike (see chapter 12).
        "seconds_by_epoch": [round(float(s), 2) for s in logger.seconds],
    }
    if score_test:
        one_view = _accuracy(model, splits.x_test, splits.y_test, mirror_vote=False)
        voted = _accuracy(model, splits.x_test, splits.y_test, mirror_vote=True)
        row.update(test_accuracy_one_view=one_view, test_accuracy_vote=voted,
                   test_accuracy=voted if settings["mirror_vote"] else one_view)
    return row


def _accuracy(model, images, labels, mirror_vote: bool) -> float:
    predicted = evaluation.predict_classes(model, images, mirror_vote=mirror_vote)
    return float(np.mean(predicted == np.asarray(labels)))


def tutorial_protocol_data(model_id: str, train_subset: int | None = None):
    """The data as the tutorial of `model_id` trained and tested on it:
    (x_train, y_train, x_test, y_test).

    Every tutorial trains on the official 60,000 training images with no
    validation split of its own, except the wide CNN's: `validation_split=0.2`
    in Keras holds out the *last* 12,000 images, unshuffled, and trains on the
    first 48,000. Every tutorial scales the pixels to [0, 1], except the wide
    CNN's, which trains on the raw 0-255 values. `train_subset` keeps only the
    first that many training images (quick runs).
    """
    if model_id not in models.TUTORIAL_SETTINGS:
        raise ValueError(f"no tutorial protocol for {model_id!r}; choose one of: "
                         f"{', '.join(models.TUTORIAL_SETTINGS)}.")
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    if model_id == "wide_cnn_bn":
        x_train, y_train = x_train[:48000], y_train[:48000]
        prepare = lambda images: np.asarray(images, dtype="float32")[..., None]  # noqa: E731
    else:
        prepare = data.scale_images
    if train_subset is not None:
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    return prepare(x_train), y_train, prepare(x_test), y_test


def run_tutorial_protocol(model_id: str, seed: int, train_subset: int | None = None,
                          epochs: int | None = None) -> dict:
    """Train a tutorial's model as its tutorial did (`tutorial_protocol_data`,
    its architecture as published (TUTORIAL_SETTINGS' "as_published"
    arguments), Adam, its labels, epochs and batch size) and score the test
    set after the last epoch, as every tutorial reported it. Returns the study row."""
    import keras

    settings = models.TUTORIAL_SETTINGS[model_id]
    x_train, y_train, x_test, y_test = tutorial_protocol_data(model_id, train_subset)
    labels, epochs = settings["labels"], epochs or settings["epochs"]
    training.set_seed(seed)
    model = models.BUILDERS[model_id](**settings.get("as_published", {}))
    training.compile_for(model, labels)
    logger = training.epoch_logger(epochs)
    history = model.fit(x_train, splitting.encode_labels(y_train, labels), epochs=epochs,
                        batch_size=settings["batch_size"], verbose=0, callbacks=[logger])
    _, test_accuracy = model.evaluate(x_test, splitting.encode_labels(y_test, labels),
                                      batch_size=1024, verbose=0)
    return {"model": model_id, "protocol": "tutorial", "seed": seed, "epochs": epochs,
            "train_images": len(x_train), "train_seconds": round(logger.fit_seconds, 1),
            "train_accuracy": float(history.history["accuracy"][-1]),
            "test_accuracy": float(test_accuracy)}


def run_book_protocol(model_id: str, splits: splitting.Splits, seed: int, epochs: int | None = None) -> dict:
    """Train a tutorial's model as chapters 5-7 do (54,000 images, the
    validation split held out, the tutorial's epochs and batch size) and
    score the test set after the last epoch. Returns the study row."""
    settings = models.TUTORIAL_SETTINGS[model_id]
    epochs = epochs or settings["epochs"]
    _, history, seconds, _, test_accuracy = training.train_and_test(
        model_id, splits, epochs, settings["batch_size"], seed)
    return {"model": model_id, "protocol": "book", "seed": seed, "epochs": epochs,
            "train_images": len(splits.x_train), "train_seconds": round(seconds, 1),
            "train_accuracy": float(history["accuracy"][-1]),
            "val_accuracy": float(history["val_accuracy"][-1]), "test_accuracy": test_accuracy}


def mean_and_interval(values, confidence=0.95) -> dict:
    """Mean, sample standard deviation and the half-width of the t-based
    confidence interval of the mean, for a handful of runs (at least two)."""
    from scipy import stats

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
    from scipy import stats

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
    from scipy import stats

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
    from scipy import stats

    if not 0 <= accuracy <= 1 or images < 1:
        raise ValueError(f"need an accuracy in [0, 1] and a positive image count, got {accuracy} and {images}.")
    return float(stats.norm.ppf(0.5 + confidence / 2) * math.sqrt(accuracy * (1 - accuracy) / images))


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
        interval = mean_and_interval(changes)["ci95"] if len(pairs) > 1 else np.nan
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

"""Run the rebuild of the book's CNN (bookkit.search) and keep every run.

    python -m bookkit.rebuild search     # the 3-minute search, then the 10-minute one
    python -m bookkit.rebuild headline   # each frozen recipe on the fresh test seeds
    python -m bookkit.rebuild ablation   # the 10-minute recipe without each ingredient, paired
    python -m bookkit.rebuild dense      # the dense network under both budgets
    python -m bookkit.rebuild --quick search headline   # a tiny version, for tests
    python -m bookkit.rebuild publish    # copy the finished studies to results/fashion_mnist/
    python -m bookkit.rebuild publish --studies book_cnn book_dense   # only these

Each study is one JSON file in results/rebuild/ (results/quick/rebuild/ with
--quick). Every run is written as soon as it ends, and a run already in the
file is not repeated, so an interrupted study resumes where it stopped.

To time something else on the machine without slowing a run down, create the
file named by REBUILD_HOLD_FILE (if that variable is set): the rebuild waits
before starting its next run, or its next timing, until the file is gone.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import time
from pathlib import Path

from bookkit import search
from helpers import evaluation, machine, speed, splitting, training, uncertainty

ROOT = Path(__file__).resolve().parents[1]
TEST_SEEDS = (101, 102, 103, 104, 105)
# Quick runs check the plumbing: a few images, one epoch (so nothing is timed),
# two stages, two seeds.
QUICK = {"train_subset": 1000, "stages": 2, "seeds": 2}


def wait_while_held(poll_seconds: float = 10.0) -> None:
    """Wait while the file named by REBUILD_HOLD_FILE exists, so that a
    run or a timing never shares the machine with work started meanwhile."""
    hold = os.environ.get("REBUILD_HOLD_FILE")
    if hold and Path(hold).exists():
        print(f"held: waiting until {hold} is removed", flush=True)
        while Path(hold).exists():
            time.sleep(poll_seconds)
        print("released", flush=True)


class StudyFile:
    """One study's JSON file: its fields and its list of runs."""

    def __init__(self, path: Path):
        self.path = path
        self.content = json.loads(path.read_text()) if path.is_file() else {}
        self.content.setdefault("runs", [])

    @property
    def runs(self) -> list:
        return self.content["runs"]

    def find(self, **key):
        return next((run for run in self.runs if all(run.get(k) == v for k, v in key.items())), None)

    def add(self, run: dict):
        run = {**run, "load": [round(x, 2) for x in os.getloadavg()],
               "date": datetime.date.today().isoformat(), "device": machine.device_description()}
        self.runs.append(run)
        self.save()
        print(f"{self.path.stem}: {json.dumps(run, sort_keys=True)}", flush=True)
        return run

    def save(self, **fields):
        self.content.update(fields)
        self.content.update(machine.library_versions())
        # The machine the study started on; each run names its own (a study
        # that resumes on another day may resume on another machine).
        self.content.setdefault("device", machine.device_description())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.content, indent=2, sort_keys=True) + "\n")


def study_path(name: str, quick: bool) -> Path:
    return ROOT / "results" / ("quick" if quick else "") / "rebuild" / f"{name}.json"


def epoch_seconds(study, candidate, splits, builder=None, key=None) -> float:
    """The candidate's seconds per epoch on this machine: measured once per
    architecture and batch size (`search.cost_key`, or `key`) with
    `search.measure_epoch_seconds`, and kept in the study file, so that two
    candidates that do the same work per image train for the same epochs."""
    key = json.dumps(key or search.cost_key(candidate.settings()))
    measured = study.content.get("epoch_seconds", {})
    if key not in measured:
        wait_while_held()
        seconds = search.measure_epoch_seconds(candidate, splits, builder=builder)
        measured = {**measured, key: {"seconds": round(seconds, 2), "load": [round(x, 2) for x in os.getloadavg()],
                                      "date": datetime.date.today().isoformat()}}
        study.save(epoch_seconds=measured)
    return measured[key]["seconds"]


def plan(study, candidate, splits, budget, quick, builder=None, key=None) -> tuple:
    """(seconds per epoch, epochs) of a run: as many epochs as fit in the
    planned share of `budget` (`search.planned_epochs`); a quick run trains
    one epoch and times nothing (None seconds)."""
    if quick:
        return None, 1
    seconds = epoch_seconds(study, candidate, splits, builder, key)
    return seconds, search.planned_epochs(seconds, budget)


def development_run(study, splits, candidate, stage, change, budget, quick, planned=None):
    """One candidate on each development seed, validation only (resumed if on file).
    `planned` is (seconds per epoch, epochs), planned by `plan` if None.
    Returns the mean validation accuracy over the seeds."""
    scores = []
    for seed in search.DEVELOPMENT_SEEDS:
        key = {"settings": candidate.settings(), "budget_seconds": budget, "seed": seed}
        run = study.find(**key)
        if run is None:
            seconds, epochs = planned or plan(study, candidate, splits, budget, quick)
            timing = "" if seconds is None else f"about {seconds:.1f} s an epoch, "
            print(f"[{stage}] {change}: {timing}{epochs} epochs", flush=True)
            wait_while_held()
            trained = search.train(candidate, splits, seed, epochs)
            model = trained.model
            run = study.add({
                **key, "stage": stage, "change": change, "planned_epochs": epochs,
                "epochs_trained": trained.epochs,
                "epoch_seconds_estimate": seconds,
                "train_seconds": round(trained.fit_seconds, 1),
                "seconds_by_epoch": trained.seconds_per_epoch, "params": model.count_params(),
                "val_accuracy": evaluation.accuracy(model, splits.x_val, splits.y_val),
                "val_accuracy_by_epoch": [round(v, 4) for v in trained.history["val_accuracy"]],
                "val_accuracy_vote": (evaluation.accuracy(model, splits.x_val, splits.y_val, mirror_vote=True)
                                      if "flip" in candidate.augment else None),
            })
        scores.append(run["val_accuracy"])
    return sum(scores) / len(scores)


def run_search(study, splits, start, stages, budget, label, quick):
    """Stage by stage: try each change on the incumbent, keep the best one if
    search.keeps says so. Returns (the winner, its validation accuracy, the
    decisions): one decision per stage, with the incumbent's accuracy before it, the best change and
    its accuracy, and whether it was kept."""
    incumbent = start
    best = development_run(study, splits, incumbent, f"{label}: start", "none", budget, quick)
    decisions = []
    for stage, changes in stages[:QUICK["stages"]] if quick else stages:
        tried = []
        for change in changes:
            change = change(incumbent) if callable(change) else change
            challenger = incumbent.changed(**change)
            if challenger == incumbent:
                continue
            score = development_run(study, splits, challenger, f"{label}: {stage}",
                                    json.dumps(change, sort_keys=True), budget, quick)
            tried.append((score, challenger, json.dumps(change, sort_keys=True)))
        if tried:
            score, challenger, change = max(tried, key=lambda entry: entry[0])
            kept = search.keeps(best, score)
            decisions.append({"stage": f"{label}: {stage}", "incumbent_accuracy": best, "best_change": change,
                              "best_accuracy": score, "kept": kept})
            if kept:
                incumbent, best = challenger, score
        print(f"[{label}: {stage}] incumbent {incumbent.settings()} at {best:.4f}", flush=True)
    return incumbent, best, decisions


# Epochs of each precision in the timing of the precision stage: one of each
# in turn, the first (which builds the graph) not counted.
PRECISION_TIMING_EPOCHS = 9


def precision_ratio(study, incumbent, challenger, splits) -> dict:
    """How many times as fast as the incumbent the challenger (the same
    network in another precision) trains an epoch on this machine: both
    trained side by side, one epoch of each in turn
    (`speed.interleaved_training`), so that the machine's slow spells fall
    on both; the median of the round-by-round ratios
    (`speed.paired_speed_up`) and their range. Kept in the study file
    (`precision_timing`), so that it is measured once."""
    key = json.dumps([search.cost_key(incumbent.settings()), challenger.precision])
    timings = study.content.get("precision_timing", {})
    if key not in timings:
        wait_while_held()
        runs = {}
        for candidate in (incumbent, challenger):
            training.set_seed(0)
            model = search.build(candidate)
            steps = PRECISION_TIMING_EPOCHS * math.ceil(len(splits.x_train) / candidate.batch_size)
            training.compile_for(model, "one-hot", search.optimizer(candidate, steps))
            runs[candidate.precision] = speed.PreparedRun(
                model, splits.x_train, splitting.encode_labels(splits.y_train, "one-hot"), splits.x_val,
                splitting.encode_labels(splits.y_val, "one-hot"), candidate.batch_size)
        seconds = {name: history["seconds"] for name, history in
                   speed.interleaved_training(runs, PRECISION_TIMING_EPOCHS, seed=0).items()}
        timings = {**timings, key: {"seconds_per_epoch": seconds,
                                    **speed.paired_speed_up(seconds[challenger.precision],
                                                            seconds[incumbent.precision]),
                                    "device": machine.device_description(),
                                    "date": datetime.date.today().isoformat()}}
        study.save(precision_timing=timings)
    return timings[key]


def precision_stage(study, splits, incumbent, incumbent_accuracy, budget, label, quick):
    """The search's last stage (`search.PRECISION_STAGE`): the incumbent in
    mixed bfloat16, for the epochs its speed ratio fits in the budget (the
    incumbent's recorded seconds per epoch divided by the ratio measured
    today), decided by `search.keeps`. Returns (the winner, the decision)."""
    stage, (change,) = search.PRECISION_STAGE
    challenger = incumbent.changed(**change)
    if not quick and not speed.cpu_supports_bfloat16():
        raise SystemExit("this CPU has no bfloat16 instructions (no avx512_bf16 or amx_bf16 flag): the "
                         "precision stage must run on the book's machine, where bfloat16 is computed.")
    planned = None
    if not quick:
        ratio = precision_ratio(study, incumbent, challenger, splits)["speed_up"]
        seconds = epoch_seconds(study, incumbent, splits) / ratio
        planned = (round(seconds, 2), search.planned_epochs(seconds, budget))
    score = development_run(study, splits, challenger, f"{label}: {stage}", json.dumps(change, sort_keys=True),
                            budget, quick, planned)
    kept = search.keeps(incumbent_accuracy, score)
    decision = {"stage": f"{label}: {stage}", "incumbent_accuracy": incumbent_accuracy,
                "best_change": json.dumps(change, sort_keys=True), "best_accuracy": score, "kept": kept}
    winner, accuracy = (challenger, score) if kept else (incumbent, incumbent_accuracy)
    print(f"[{label}: {stage}] incumbent {winner.settings()} at {accuracy:.4f}", flush=True)
    return winner, decision


def development(splits, quick):
    study = StudyFile(study_path("book_cnn_development", quick))
    start = search.Candidate()
    fast_float32, fast_accuracy, fast_decisions = run_search(
        study, splits, start, search.FAST_STAGES, search.FAST_BUDGET_SECONDS, "3 minutes", quick)
    full_float32, full_accuracy, full_decisions = run_search(
        study, splits, fast_float32, search.FULL_STAGES, search.FULL_BUDGET_SECONDS, "10 minutes", quick)
    winners = []
    for label, candidate, accuracy, budget, decisions in (
            ("3 minutes", fast_float32, fast_accuracy, search.FAST_BUDGET_SECONDS, fast_decisions),
            ("10 minutes", full_float32, full_accuracy, search.FULL_BUDGET_SECONDS, full_decisions)):
        winner, decision = precision_stage(study, splits, candidate, accuracy, budget, label, quick)
        decisions.append(decision)
        winners.append(winner)
    fast, full = winners
    stages = {"3 minutes": search.FAST_STAGES + (search.PRECISION_STAGE,),
              "10 minutes": search.FULL_STAGES + (search.PRECISION_STAGE,)}
    study.save(started_from=search.STARTED_FROM, rule=search.RULE,
               search_space={"3 minutes": search.describe_stages(stages["3 minutes"]),
                             "10 minutes": search.describe_stages(stages["10 minutes"], start=fast_float32)},
               budgets={"3 minutes": search.FAST_BUDGET_SECONDS, "10 minutes": search.FULL_BUDGET_SECONDS},
               planned_share=search.PLANNED_SHARE, keep_margin=search.KEEP_MARGIN,
               amendments=list(search.AMENDMENTS), decisions=fast_decisions + full_decisions,
               fast_recipe=fast.settings(), full_recipe=full.settings(), selection="validation")
    return fast, full



def frozen_epochs(development_study, candidate, budget):
    """The planned epochs of the frozen recipe: those of its development run."""
    run = development_study.find(settings=candidate.settings(), budget_seconds=budget)
    return run["planned_epochs"]


def scored_run(candidate, splits, seed, epochs, builder=None) -> dict:
    """Train a frozen candidate on one test seed and score it once: the
    validation and test accuracy of one view, and of the mirror vote where
    the candidate trains with flips (`test_accuracy` is then the vote's)."""
    wait_while_held()
    trained = search.train(candidate, splits, seed, epochs, builder)
    model = trained.model
    one_view = evaluation.accuracy(model, splits.x_test, splits.y_test)
    vote = (evaluation.accuracy(model, splits.x_test, splits.y_test, mirror_vote=True)
            if "flip" in candidate.augment else None)
    return {"seed": seed, "epochs_trained": trained.epochs, "params": model.count_params(),
            "train_seconds": round(trained.fit_seconds, 1),
            "seconds_by_epoch": trained.seconds_per_epoch,
            "val_accuracy": evaluation.accuracy(model, splits.x_val, splits.y_val),
            "test_accuracy_one_view": one_view,
            "test_accuracy": vote if vote is not None else one_view,
            "test_accuracy_vote": vote}


def check_recipe(study, candidate) -> None:
    """Refuse to add runs to a study file whose runs belong to another recipe
    (the search chose differently since): they would be taken as done."""
    recipe = study.content.get("recipe")
    if recipe is not None and recipe != candidate.settings():
        raise SystemExit(f"{study.path} holds runs of another recipe ({recipe}), not of the search's "
                         f"{candidate.settings()}: move it aside (keep it as history), then run again.")


def test_seeds(quick):
    return TEST_SEEDS[:QUICK["seeds"]] if quick else TEST_SEEDS


def headline(splits, quick, fast, full):
    """Each frozen recipe on the fresh test seeds, scored once on test."""
    development_study = StudyFile(study_path("book_cnn_development", quick))
    for name, candidate, budget in (("book_cnn_fast", fast, search.FAST_BUDGET_SECONDS),
                                    ("book_cnn", full, search.FULL_BUDGET_SECONDS)):
        study = StudyFile(study_path(name, quick))
        check_recipe(study, candidate)
        epochs = frozen_epochs(development_study, candidate, budget)
        for seed in test_seeds(quick):
            if study.find(seed=seed) is None:
                study.add(scored_run(candidate, splits, seed, epochs))
        runs = study.runs
        study.save(selection="validation", recipe=candidate.settings(), planned_epochs=epochs,
                   budget_seconds=budget,
                   test_accuracy=sum(r["test_accuracy"] for r in runs) / len(runs),
                   test_accuracy_one_view=sum(r["test_accuracy_one_view"] for r in runs) / len(runs))


def ablation(splits, quick, full):
    """Each ingredient of the 10-minute recipe taken back to the starting
    point's setting, one at a time, on the headline's test seeds (paired
    with them), for the recipe's own planned epochs."""
    development_study = StudyFile(study_path("book_cnn_development", quick))
    epochs = frozen_epochs(development_study, full, search.FULL_BUDGET_SECONDS)
    study = StudyFile(study_path("book_cnn_ablation", quick))
    check_recipe(study, full)
    for ingredient, variant in search.ingredients(full).items():
        for seed in test_seeds(quick):
            if study.find(ingredient=ingredient, seed=seed) is None:
                study.add({"ingredient": ingredient, "settings": variant.settings(),
                           **scored_run(variant, splits, seed, epochs)})
    recipe_runs = StudyFile(study_path("book_cnn", quick)).runs
    rows = uncertainty.paired_ablation(recipe_runs, study.runs)
    helped = sum(row["mean_difference"] > 0 for row in rows)
    study.save(recipe=full.settings(), planned_epochs=epochs, paired_with="book_cnn",
               measure="test_accuracy_one_view", correction="Holm", rows=rows,
               sign_test={"rows_helped": helped, "rows": len(rows),
                          "p_value": uncertainty.sign_test(helped, len(rows)) if rows else None})


def dense(splits, quick, fast, full):
    """The dense network (search.build_dense) under each recipe's budget and
    training settings, for as many epochs as fit in the planned share of
    the budget, on the test seeds."""
    study = StudyFile(study_path("book_dense", quick))
    recipes = {"3 minutes": fast.settings(), "10 minutes": full.settings()}
    stale = [run["seed"] for run in study.runs if run["settings"] != recipes[run["budget"]]]
    if stale:
        raise SystemExit(f"{study.path} holds runs trained with another recipe (seeds {stale}) than the "
                         "search's: move it aside (keep it as history), then run again.")
    planned = {}
    for label, candidate, budget in (("3 minutes", fast, search.FAST_BUDGET_SECONDS),
                                     ("10 minutes", full, search.FULL_BUDGET_SECONDS)):
        epochs = study.content.get("planned_epochs", {}).get(label)
        if epochs is None:
            _, epochs = plan(study, candidate, splits, budget, quick, builder=search.build_dense,
                             key=["dense", list(search.DENSE_UNITS), search.cost_key(candidate.settings())])
            study.save(planned_epochs={**study.content.get("planned_epochs", {}), label: epochs})
        planned[label] = epochs
        for seed in test_seeds(quick):
            if study.find(budget_seconds=budget, seed=seed) is None:
                study.add({"budget": label, "budget_seconds": budget, "settings": candidate.settings(),
                           "units": list(search.DENSE_UNITS),
                           **scored_run(candidate, splits, seed, epochs, search.build_dense)})
    study.save(selection="validation", units=list(search.DENSE_UNITS), planned_epochs=planned)


def marked_candidates(runs, decisions) -> list:
    """The development runs, each with `kept` (did it become the incumbent?)
    and `incumbent_accuracy` (the validation accuracy it had to beat: that
    of the incumbent before its stage; a start's own), from the search's
    decisions (`run_search`)."""
    by_stage = {decision["stage"]: decision for decision in decisions}
    marked = []
    for run in runs:
        decision = by_stage.get(run["stage"])
        if run["stage"].endswith(": start"):
            marked.append({**run, "kept": True, "incumbent_accuracy": run["val_accuracy"]})
        elif decision is None:
            raise ValueError(f"no decision on file for stage {run['stage']!r}; run the search stage again "
                             "(it replays its runs from the file and records its decisions).")
        else:
            marked.append({**run, "kept": decision["kept"] and run["change"] == decision["best_change"],
                           "incumbent_accuracy": decision["incumbent_accuracy"]})
    return marked


# The rebuild's studies, each with the field its last stage writes when it ends.
FINISHED_WHEN = {"book_cnn_development": "full_recipe", "book_cnn_fast": "selection", "book_cnn": "selection",
                 "book_cnn_ablation": "rows", "book_dense": "selection"}


def publish(quick=False, names=None) -> list:
    """Copy the rebuild's studies (`names`, by default all of `FINISHED_WHEN`)
    to where the chapters read them (results/fashion_mnist/, or
    results/quick/fashion_mnist/ with `quick`), the development file's runs
    named `candidates` there and marked (`marked_candidates`). Refuses while
    one of them is missing or unfinished. Returns the paths written;
    `scripts/sync_book_results.py` then ships them with the package."""
    names = list(FINISHED_WHEN) if names is None else list(names)
    unknown = set(names) - set(FINISHED_WHEN)
    if unknown:
        raise SystemExit(f"unknown study name(s) {', '.join(sorted(unknown))}; choose from "
                         f"{', '.join(FINISHED_WHEN)}.")
    studies = {name: StudyFile(study_path(name, quick)).content for name in names}
    unfinished = [name for name in names if FINISHED_WHEN[name] not in studies[name]]
    if unfinished:
        raise SystemExit(f"not finished yet: {', '.join(unfinished)}; run the rebuild's stages first.")
    target = ROOT / "results" / ("quick" if quick else "") / "fashion_mnist"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in studies.items():
        if name == "book_cnn_development":
            content = {**content, "candidates": marked_candidates(content["runs"], content.get("decisions", []))}
            del content["runs"]
        path = target / f"{name}.json"
        path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny version, to check the plumbing")
    parser.add_argument("stages", nargs="+", choices=("search", "headline", "ablation", "dense", "publish"))
    parser.add_argument("--studies", nargs="+", metavar="NAME", help="publish only these studies "
                        f"(of {', '.join(FINISHED_WHEN)})")
    args = parser.parse_args(argv)
    if set(args.stages) - {"publish"}:
        splits = splitting.load_splits(6000, QUICK["train_subset"] if args.quick else None)
        fast, full = development(splits, args.quick)
        if "headline" in args.stages:
            headline(splits, args.quick, fast, full)
        if "ablation" in args.stages:
            ablation(splits, args.quick, full)
        if "dense" in args.stages:
            dense(splits, args.quick, fast, full)
    if "publish" in args.stages:
        for path in publish(args.quick, args.studies):
            print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

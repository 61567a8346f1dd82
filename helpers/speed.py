"""How fast a model trains: the tutorials' plain pattern against the book's helper.

Every variant trains the same model from the same initial weights on the same
images, for the same epochs, with the same batch size (Keras' default, 32, as
in the tutorials). They differ only in what the book's `training.train` does
differently from the tutorials:

* its inputs are float32 (`data.scale_images`), where `x / 255.0` gives
  float64. Keras casts a float64 NumPy array to float32 once, when `fit`
  builds its dataset from it (`keras/src/trainers/data_adapters/
  array_slicing.py`, `convert_to_sliceable`), and then gathers every batch
  from that float32 copy: the cost is one conversion per call of `fit`, and
  the float64 array's memory;
* it runs `training.STEPS_PER_EXECUTION` training steps per call into the
  compiled graph, where Keras' default is one call (and one trip through
  Python) per batch.

The variants are timed *interleaved* (`interleaved_training`): one epoch of
each in turn, A, B, C, A, B, C, ..., so that a slow spell of a shared machine
falls on all of them alike; each speed is the median of the epochs after the
first (which also builds the graph), given with its range.

`scripts/benchmark_training.py` runs `compare_training_speed` from the command
line; the speed chapter runs it in the book.

The last part measures a model against the machine's limit: the float32
matrix product's speed (`matmul_gflops`), the arithmetic rate a training run
achieves (`achieved_gflops`), the settings that might raise it, timed the same
interleaved way (`compare_recipe_speed`: XLA, a tf.data pipeline, mixed
bfloat16; `compare_thread_settings`, each in a fresh process), where a
step's time goes, layer by layer (`layer_profile`), and the epochs that wait
between one another for tf.data's autotuning (`compare_pipelines`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import models, params, splitting, training
from helpers.backend import keras_module

# The variants, in order: each adds one change to the one before it.
VARIANTS = {
    "tutorial pattern": "x / 255.0 (float64), 1 step per call",
    "float32 inputs": "scale_images (float32), 1 step per call",
    "book helper": f"scale_images (float32), {training.STEPS_PER_EXECUTION} steps per call",
}
TUTORIAL_BATCH_SIZE = 32  # Keras' default, which the tutorials' fit() calls leave in place


@dataclass
class PreparedRun:
    """A compiled model and the arrays it trains and validates on."""

    model: object
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    batch_size: int = TUTORIAL_BATCH_SIZE
    # A tf.data pipeline to train and validate on in place of the arrays (`dataset_run`).
    train_dataset: object = None
    val_dataset: object = None


def tutorial_pattern(model, raw: splitting.Splits) -> PreparedRun:
    """Prepare a run as the tutorials do, from raw uint8 images: add the
    channel axis, divide by 255.0 (which gives float64), compile with Keras'
    defaults (one step per call) and keep the default batch size."""
    x_train = raw.x_train.reshape(-1, 28, 28, 1) / 255.0
    x_val = raw.x_val.reshape(-1, 28, 28, 1) / 255.0
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return PreparedRun(model, x_train, raw.y_train, x_val, raw.y_val)


def helper_run(model, splits: splitting.Splits, steps_per_execution=training.STEPS_PER_EXECUTION,
               batch_size=TUTORIAL_BATCH_SIZE) -> PreparedRun:
    """Prepare a run as `training.train` does: float32 inputs, compiled by
    `training.compile_for` with `steps_per_execution` steps per call."""
    training.compile_for(model, steps_per_execution=steps_per_execution)
    return PreparedRun(model, splits.x_train, splits.y_train, splits.x_val, splits.y_val, batch_size)


def interleaved_training(runs: dict, epochs: int, seed: int) -> dict:
    """Train every run of `runs` (name -> `PreparedRun`) for `epochs` epochs, one
    epoch of each in turn: the first epoch of every run, then the second of
    every run, and so on (A, B, C, A, B, C, ...).

    Each epoch is one call of `fit` (Keras compiles the training step at the
    first call only) and prints one line. Before each, the seeds are set to
    `seed + epoch`, so that every run sees its images in the same order in the
    same epoch: runs that compute the same steps end with the same weights.
    Returns, for each run, Keras' per-epoch lists plus "seconds" (each
    epoch's wall-clock time, its pass over the validation images included).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}.")
    loggers = {name: training.epoch_logger(epochs) for name in runs}
    histories = {name: {} for name in runs}
    for epoch in range(epochs):
        for name, run in runs.items():
            print(f"{name!s:>16}: ", end="")
            training.set_seed(seed + epoch)
            if run.train_dataset is None:
                data = {"x": run.x_train, "y": run.y_train, "batch_size": run.batch_size,
                        "validation_data": (run.x_val, run.y_val)}
            else:
                # The pipeline shuffles itself (Keras would warn that it ignores shuffle=True).
                data = {"x": run.train_dataset, "validation_data": run.val_dataset, "shuffle": False}
            history = run.model.fit(**data, initial_epoch=epoch, epochs=epoch + 1, verbose=0,
                                    callbacks=[loggers[name]])
            for key, values in history.history.items():
                histories[name].setdefault(key, []).extend(values)
    return {name: {**histories[name], "seconds": list(loggers[name].seconds)} for name in runs}


def timed_epochs(epoch_seconds) -> list:
    """The epochs that count for speed: all but the first, which also builds
    the compiled graph (the only one, if there is only one)."""
    seconds = list(epoch_seconds)
    if not seconds:
        raise ValueError("epoch_seconds is empty: train for at least one epoch.")
    return seconds[1:] if len(seconds) > 1 else seconds


def images_per_second(train_images: int, epoch_seconds, skip_first=True) -> float:
    """Training throughput: images per second of the median epoch, the first
    left out (`timed_epochs`) unless `skip_first=False`. The median resists
    a slow epoch caused by another program on the machine."""
    seconds = timed_epochs(epoch_seconds) if skip_first else list(epoch_seconds)
    return train_images / float(np.median(seconds))


def throughput(train_images: int, epoch_seconds, skip_first=True) -> dict:
    """Images per second of the median timed epoch, with the range: the
    slowest and the fastest timed epoch, and how many epochs were timed.
    With `skip_first=False`, every epoch counts (each one already timed
    after its graph was built, as in `compare_thread_settings`)."""
    seconds = timed_epochs(epoch_seconds) if skip_first else list(epoch_seconds)
    return {"images_per_second": round(images_per_second(train_images, epoch_seconds, skip_first), 1),
            "images_per_second_min": round(train_images / max(seconds), 1),
            "images_per_second_max": round(train_images / min(seconds), 1),
            "timed_epochs": len(seconds)}


def paired_speed_up(epoch_seconds, baseline_seconds, skip_first=True) -> dict:
    """How many times as fast as the baseline, epoch by epoch: the baseline's
    time divided by this run's time in the same round of an interleaved
    training (the first left out unless `skip_first=False`), as the median
    and the range."""
    timed = timed_epochs if skip_first else list
    ratios = np.array(timed(baseline_seconds)) / np.array(timed(epoch_seconds))
    return {"speed_up": round(float(np.median(ratios)), 2),
            "speed_up_min": round(float(ratios.min()), 2),
            "speed_up_max": round(float(ratios.max()), 2)}


def time_interleaved(calls: dict, repeats: int = 5) -> dict:
    """Call every function of `calls` (name -> function of no argument)
    `repeats` times, in turn (A, B, A, B, ...); return each one's seconds."""
    seconds = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    return seconds


def compare_training_speed(model_ids, epochs=6, train_subset=None, seed=0, variants=tuple(VARIANTS)):
    """Time every variant on every model, interleaved, on this machine.

    For each model, every variant starts from the same initial weights
    (`seed`) and trains `epochs` epochs, one epoch of each variant in turn
    (`interleaved_training`); the first epoch is not timed. Returns a list
    of rows (dicts), one per model and variant, with the images per second
    (`throughput`), the speed-up over the tutorial pattern in the same rounds
    (`paired_speed_up`; the tutorial pattern is always run, first), and the
    validation and test accuracy after the last epoch.
    """
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first epoch builds the graph and "
                         f"is not counted), got {epochs}.")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f"Unknown variant {unknown[0]!r}; choose one of: {', '.join(VARIANTS)}.")
    variants = ["tutorial pattern"] + [v for v in variants if v != "tutorial pattern"]
    raw = splitting.load_splits(train_subset=train_subset, scaled=False)
    scaled = splitting.load_splits(train_subset=train_subset)
    x_test = {"tutorial pattern": raw.x_test.reshape(-1, 28, 28, 1) / 255.0}
    rows = []
    for model_id in model_ids:
        print(f"{model_id}:", flush=True)
        runs = {}
        for variant in variants:
            training.set_seed(seed)
            model = models.build_model(model_id)
            runs[variant] = (tutorial_pattern(model, raw) if variant == "tutorial pattern" else
                             helper_run(model, scaled, 1 if variant == "float32 inputs"
                                        else training.STEPS_PER_EXECUTION))
        histories = interleaved_training(runs, epochs, seed)
        for variant in variants:
            history = histories[variant]
            _, test_accuracy = runs[variant].model.evaluate(
                x_test.get(variant, scaled.x_test), raw.y_test, batch_size=1024, verbose=0)
            rows.append({
                "variant": variant, "what": VARIANTS[variant], "model": model_id,
                "epochs": epochs, "train_images": len(raw.x_train),
                "epoch_seconds": history["seconds"],
                **throughput(len(raw.x_train), history["seconds"]),
                **paired_speed_up(history["seconds"], histories["tutorial pattern"]["seconds"]),
                "val_accuracy": float(history["val_accuracy"][-1]),
                "test_accuracy": float(test_accuracy),
            })
    return rows


def speed_table(rows):
    """The rows as a pandas DataFrame, one line per model and variant."""
    import pandas as pd

    columns = ["model", "variant", "what", "images_per_second", "images_per_second_min",
               "images_per_second_max", "speed_up", "speed_up_min", "speed_up_max",
               "val_accuracy", "test_accuracy"]
    return pd.DataFrame(rows)[columns]


# Floating-point operations: a multiply-add is two (a multiply and an add).
# Training one image costs about three forward passes: the forward pass, the
# gradient with respect to the inputs and the gradient with respect to the
# weights, each about as much arithmetic as the forward pass.
FLOPS_PER_MULTIPLY_ADD = 2
TRAINING_PASSES = 3


def training_flops_per_image(model) -> int:
    """Floating-point operations to train `model` on one image (forward and
    backward passes), counted from its Conv2D and Dense layers
    (`params.multiply_adds`): 2 x 3 x the forward multiply-adds. Batch norm,
    activations and pooling, a few operations per number, are left out, so
    this is a lower bound of the arithmetic."""
    return int(params.multiply_adds(model).sum()) * FLOPS_PER_MULTIPLY_ADD * TRAINING_PASSES


def matmul_gflops(size=2048, repeats=5, library="tensorflow") -> float:
    """This machine's float32 matrix-multiply speed in GFLOP/s: the best of
    `repeats` products of two `size` x `size` matrices (2 size^3 operations
    each), by TensorFlow (`tf.linalg.matmul`, the library that trains the
    models) or NumPy (its BLAS). The best, not the median: a matrix product
    is the fastest arithmetic a CPU does, so its best run is the machine's
    practical peak, which other work on the machine only lowers."""
    if size < 2 or repeats < 1:
        raise ValueError(f"need size >= 2 and repeats >= 1, got {size} and {repeats}.")
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    if library == "numpy":
        def product():
            return a @ b
    elif library == "tensorflow":
        import tensorflow as tf

        ta, tb = tf.constant(a), tf.constant(b)

        def product():
            return tf.linalg.matmul(ta, tb).numpy()  # .numpy() waits for the result
    else:
        raise ValueError(f"library must be 'tensorflow' or 'numpy', got {library!r}.")
    product()  # warm-up: threads started, memory allocated
    best = min(_timed(product) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


PEAK_SIZES = (2048, 4096)
PEAK_LIBRARIES = ("tensorflow", "numpy")


def machine_peak(sizes=PEAK_SIZES, libraries=PEAK_LIBRARIES, repeats=5) -> list:
    """`matmul_gflops` for every library and matrix size, one row each
    ({"library", "size", "gflops"}). The machine's practical peak is the
    largest of them: one library or one size can miss the CPU's fastest
    kernel, and a run slowed by other work on the machine only lowers its
    own row."""
    if not sizes or not libraries:
        raise ValueError("give at least one matrix size and one library.")
    return [{"library": library, "size": size, "gflops": round(matmul_gflops(size, repeats, library), 1)}
            for library in libraries for size in sizes]


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def achieved_gflops(model, images_per_second: float) -> float:
    """The arithmetic rate of training `model` at `images_per_second`, in
    GFLOP/s (`training_flops_per_image` per image, so a lower bound)."""
    if images_per_second <= 0:
        raise ValueError(f"images_per_second must be positive, got {images_per_second}.")
    return training_flops_per_image(model) * images_per_second / 1e9


# --- The recipe against the machine's limit (chapter 13, issue 27) ------------------

def cpu_supports_bfloat16(cpuinfo="/proc/cpuinfo") -> bool:
    """Whether this CPU has bfloat16 arithmetic instructions (Linux's
    `avx512_bf16` or `amx_bf16` flags). Without them TensorFlow converts
    bfloat16 to float32 and back around every operation, so mixed bfloat16
    can only slow training down; on machines that are not Linux, False."""
    try:
        flags = Path(cpuinfo).read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


RECIPE_VARIANTS = {
    "as trained": "NumPy arrays, XLA off (Keras' choice on a CPU), float32",
    "XLA": "the same model compiled with jit_compile=True",
    "tf.data": "a tf.data pipeline: shuffled, batched, prefetched",
    "mixed bfloat16": "keras.mixed_precision policy 'mixed_bfloat16'",
}


def dataset_run(run: PreparedRun, seed: int) -> PreparedRun:
    """The same run fed by a tf.data pipeline in place of NumPy arrays:
    shuffled (reshuffled every epoch, from `seed`: its own order, not that
    of the arrays' runs), batched, and prefetched so that the next batch is
    ready while the current one trains."""
    import tensorflow as tf

    train = (tf.data.Dataset.from_tensor_slices((run.x_train, run.y_train))
             .shuffle(len(run.x_train), seed=seed).batch(run.batch_size).prefetch(tf.data.AUTOTUNE))
    val = tf.data.Dataset.from_tensor_slices((run.x_val, run.y_val)).batch(run.batch_size)
    return dataclasses.replace(run, train_dataset=train, val_dataset=val.prefetch(tf.data.AUTOTUNE))


def built_under(policy: str, make_model):
    """`make_model()` built under Keras' mixed-precision `policy` ("float32",
    "mixed_bfloat16", ...), the global policy given back as it was found."""
    keras = keras_module()
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        return make_model()
    finally:
        keras.mixed_precision.set_global_policy(previous)


def batch_variant(batch_size: int) -> str:
    """The name of `compare_recipe_speed`'s row for another batch size."""
    return f"batch {batch_size}"


def compare_recipe_speed(make_model, make_optimizer, splits, epochs=4, batch_size=128, seed=0,
                         variants=tuple(RECIPE_VARIANTS), other_batch_sizes=()):
    """Time the ways of training one model (`RECIPE_VARIANTS`, then one row
    per batch size of `other_batch_sizes`, named by `batch_variant`)
    interleaved (`interleaved_training`), each from the same initial
    weights: one row per variant with its batch size, its images per second
    (`throughput`), its speed-up over "as trained" in the same rounds
    (`paired_speed_up`), the validation accuracy after the last epoch, and
    whether the setting took effect (XLA on, bfloat16 computed).

    `make_model()` builds the uncompiled model and `make_optimizer(batch_size)`
    its optimiser for that batch size (a schedule counts steps, and a batch
    size changes how many an epoch has). "mixed bfloat16" is left out, and
    said so in its row, where the CPU lacks bfloat16 instructions."""
    unknown = [v for v in variants if v not in RECIPE_VARIANTS]
    if unknown:
        raise ValueError(f"unknown variant {unknown[0]!r}; choose among {', '.join(RECIPE_VARIANTS)}.")
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first builds the graph and is not counted), got {epochs}.")
    bad = [b for b in other_batch_sizes if not isinstance(b, int) or b < 1 or b == batch_size]
    if bad:
        raise ValueError(f"other_batch_sizes must be positive whole numbers other than batch_size "
                         f"({batch_size}); got {bad[0]!r}.")
    variants = ["as trained"] + [v for v in variants if v != "as trained"]
    sizes = {variant: batch_size for variant in variants}
    sizes.update({batch_variant(b): b for b in other_batch_sizes})
    skipped = {}
    runs = {}
    for variant, size in sizes.items():
        if variant == "mixed bfloat16" and not cpu_supports_bfloat16():
            skipped[variant] = "this CPU has no bfloat16 instructions (no avx512_bf16 or amx_bf16 flag)"
            continue
        training.set_seed(seed)
        model = built_under("mixed_bfloat16" if variant == "mixed bfloat16" else "float32", make_model)
        training.compile_for(model, optimizer=make_optimizer(size))
        if variant == "XLA":
            model.jit_compile = True  # read when fit builds the training step
        run = PreparedRun(model, splits.x_train, splits.y_train, splits.x_val, splits.y_val, size)
        runs[variant] = dataset_run(run, seed) if variant == "tf.data" else run
    histories = interleaved_training(runs, epochs, seed)
    rows = []
    for variant, size in sizes.items():
        what = RECIPE_VARIANTS.get(variant, f"batch size {size} in place of {batch_size}, its own schedule")
        if variant in skipped:
            rows.append({"variant": variant, "what": what, "batch_size": size, "skipped": skipped[variant]})
            continue
        model, history = runs[variant].model, histories[variant]
        rows.append({"variant": variant, "what": what, "batch_size": size,
                     "jit_compile": bool(model.jit_compile),
                     "compute_dtype": next(layer.compute_dtype for layer in model.layers if layer.weights),
                     "epoch_seconds": history["seconds"],
                     **throughput(len(splits.x_train), history["seconds"]),
                     **paired_speed_up(history["seconds"], histories["as trained"]["seconds"]),
                     "val_accuracy": float(history["val_accuracy"][-1])})
    return rows


# An epoch that takes more than this many times the fastest timed epoch of its
# run spent the extra time on something other than its arithmetic (`stalled_epochs`).
STALL_FACTOR = 1.5

PIPELINES = {
    "NumPy arrays": "model.fit(x, y), as chapter 11 trains: Keras builds a tf.data pipeline "
                    "from the arrays, with tf.data's autotuning on",
    "tf.data, autotune off": "a tf.data pipeline (shuffled each epoch, batched) with "
                             "tf.data's autotuning switched off",
}


def stalled_epochs(epoch_seconds, factor=STALL_FACTOR) -> list:
    """The timed epochs (`timed_epochs`) that took more than `factor` times
    the fastest timed epoch, by their number in the run (the first epoch is 1)."""
    if factor <= 1:
        raise ValueError(f"factor must be above 1 (a multiple of the fastest epoch), got {factor}.")
    seconds = timed_epochs(epoch_seconds)
    first = len(epoch_seconds) - len(seconds) + 1  # the number of the first timed epoch
    return [first + i for i, s in enumerate(seconds) if s > factor * min(seconds)]


def stall_seconds(epoch_seconds, factor=STALL_FACTOR) -> float:
    """What the stalled epochs (`stalled_epochs`) took beyond a typical epoch:
    the median of the other timed epochs."""
    stalled = set(stalled_epochs(epoch_seconds, factor))
    seconds = timed_epochs(epoch_seconds)
    first = len(epoch_seconds) - len(seconds) + 1
    typical = float(np.median([s for i, s in enumerate(seconds, first) if i not in stalled]))
    return round(sum(s - typical for i, s in enumerate(seconds, first) if i in stalled), 2)


def cpu_ticks(stat="/proc/stat"):
    """The CPU time the machine has spent so far, summed over its cores, in
    clock ticks: {"busy": ..., "idle": ...} (idle includes waiting for the
    disk), read from Linux's /proc/stat; None where there is no such file
    (macOS, Windows)."""
    try:
        with open(stat) as lines:
            fields = [int(value) for value in lines.readline().split()[1:8]]
    except OSError:
        return None
    user, nice, system, idle, iowait, irq, softirq = fields
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait}


def pipeline_datasets(splits, batch_size: int, seed: int):
    """The training and validation tf.data pipelines of "tf.data, autotune
    off": the training images shuffled (again every epoch, from `seed`) and
    batched, the validation images batched, each with tf.data's autotuning
    switched off (`tf.data.Options().autotune.enabled = False`)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    train = (tf.data.Dataset.from_tensor_slices((splits.x_train, splits.y_train))
             .shuffle(len(splits.x_train), seed=seed, reshuffle_each_iteration=True)
             .batch(batch_size).with_options(options))
    val = tf.data.Dataset.from_tensor_slices((splits.x_val, splits.y_val)).batch(batch_size)
    return train, val.with_options(options)


def compare_pipelines(make_model, make_optimizer, splits, epochs=5, rounds=2, batch_size=128, seed=0):
    """Train one model from the same initial weights fed in each way of
    `PIPELINES`, each in whole `fit` calls of `epochs` epochs, the two taking
    turns for `rounds` rounds (arrays, tf.data, arrays, tf.data, ...). Whole
    calls, not one epoch per call as in `interleaved_training`: what this
    measures happens between the epochs of one call.

    One row per pipeline: each epoch's seconds, the stalled epochs
    (`stalled_epochs`) and their extra seconds (`stall_seconds`), a typical
    epoch (the median of the others), the timed epochs' total, the share of
    the CPU's time that was idle during the calls (None off Linux), and the
    validation accuracy at the end. `make_optimizer(batch_size)` gives each
    model its own optimiser; both train on integer labels."""
    if epochs < 2 or rounds < 1:
        raise ValueError(f"need at least 2 epochs a call and 1 round, got {epochs} and {rounds}.")
    fits = {}
    for pipeline in PIPELINES:
        training.set_seed(seed)
        model = make_model()
        training.compile_for(model, optimizer=make_optimizer(batch_size))
        if pipeline == "NumPy arrays":
            data = {"x": splits.x_train, "y": splits.y_train, "batch_size": batch_size,
                    "validation_data": (splits.x_val, splits.y_val)}
        else:
            train, val = pipeline_datasets(splits, batch_size, seed)
            data = {"x": train, "validation_data": val, "shuffle": False}
        fits[pipeline] = {"model": model, "data": data, "busy": 0, "idle": 0,
                          "logger": training.epoch_logger(epochs * rounds)}
    for round_ in range(rounds):
        for pipeline, run in fits.items():
            print(f"{pipeline}, epochs {round_ * epochs + 1}-{(round_ + 1) * epochs}:")
            before = cpu_ticks()
            history = run["model"].fit(**run["data"], initial_epoch=round_ * epochs,
                                       epochs=(round_ + 1) * epochs, verbose=0,
                                       callbacks=[run["logger"]])
            after = cpu_ticks()
            if before and after:
                run["busy"] += after["busy"] - before["busy"]
                run["idle"] += after["idle"] - before["idle"]
            run["val_accuracy"] = float(history.history["val_accuracy"][-1])
    rows = []
    for pipeline, run in fits.items():
        seconds = run["logger"].seconds
        stalled = stalled_epochs(seconds)
        others = [s for i, s in enumerate(seconds[1:], 2) if i not in stalled]
        ticks = run["busy"] + run["idle"]
        rows.append({"pipeline": pipeline, "what": PIPELINES[pipeline], "epoch_seconds": seconds,
                     "timed_epochs": len(seconds) - 1, "stalled_epochs": stalled,
                     "stall_seconds": stall_seconds(seconds),
                     "typical_epoch_seconds": round(float(np.median(others)), 2),
                     "timed_seconds": round(sum(seconds[1:]), 2),
                     "idle_share": round(run["idle"] / ticks, 3) if ticks else None,
                     "val_accuracy": run["val_accuracy"]})
    return rows


THREAD_SETTINGS = {
    "TensorFlow's default": {},
    "1 thread": {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"},
    "2 threads per operation, 1 operation at a time": {"TF_NUM_INTRAOP_THREADS": "2",
                                                        "TF_NUM_INTEROP_THREADS": "1"},
    "1 thread per operation, 2 operations at a time": {"TF_NUM_INTRAOP_THREADS": "1",
                                                        "TF_NUM_INTEROP_THREADS": "2"},
}


def compare_thread_settings(model_id, settings=tuple(THREAD_SETTINGS), train_subset=10000, batch_size=128,
                            rounds=3, python=sys.executable):
    """Images per second of training `model_id` (`models.build_model`) under
    each of TensorFlow's thread settings (`THREAD_SETTINGS`). TensorFlow
    reads them once, when it starts, so each measurement is a fresh Python
    process (`_epoch_seconds_here`): it trains two epochs and reports the
    second (its validation pass included). The settings take turns, `rounds` times (A, B, C, A, B, C, ...);
    each row has the median images per second, the range, and the speed-up
    over TensorFlow's default in the same round (its median)."""
    unknown = [s for s in settings if s not in THREAD_SETTINGS]
    if unknown:
        raise ValueError(f"unknown thread setting {unknown[0]!r}; choose among {', '.join(THREAD_SETTINGS)}.")
    settings = ["TensorFlow's default"] + [s for s in settings if s != "TensorFlow's default"]
    seconds = {name: [] for name in settings}
    code = (f"from helpers import speed; print(speed._epoch_seconds_here({model_id!r}, {train_subset!r}, "
            f"{batch_size!r}))")
    # TensorFlow's default: none of its thread variables set, whatever this process has.
    unset = {key: value for key, value in os.environ.items() if not key.startswith("TF_NUM_")}
    for _ in range(rounds):
        for name in settings:
            env = {**unset, **THREAD_SETTINGS[name]}
            done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"timing {model_id!r} with {name!r} failed:\n{done.stderr[-2000:]}")
            seconds[name].append(float(done.stdout.strip().splitlines()[-1]))
    return [{"setting": name, **THREAD_SETTINGS[name],
             **throughput(train_subset, seconds[name], skip_first=False),
             **paired_speed_up(seconds[name], seconds["TensorFlow's default"], skip_first=False)}
            for name in settings]


def _epoch_seconds_here(model_id, train_subset, batch_size) -> float:
    """Seconds of the second of two epochs of `model_id` on `train_subset`
    images in this process, trained as the book trains (`training.train`,
    validation included); the first epoch builds the graph."""
    training.set_seed(0)
    run = training.train(models.build_model(model_id), splitting.load_splits(train_subset=train_subset),
                         epochs=2, batch_size=batch_size)
    return run.seconds_per_epoch[-1]


def layer_profile(model, batch_size=128, repeats=20, seed=0):
    """Where a training step's time goes, layer by layer: each layer of the
    (built) `model` timed alone on a batch of the shape it sees in the model,
    forward and backward (gradients for its input and its weights), in a
    compiled graph (`tf.function`), as the median of `repeats` calls; then
    the optimiser's update of all the weights. One row per layer with its
    training GFLOP per batch (Conv2D and Dense only, `params.multiply_adds`,
    x 2 x 3), milliseconds per batch, share of the summed time, and GFLOP/s.

    Timed alone, a layer misses what a whole step shares (one graph, no
    Python between layers) and adds a sum of its output, so the sum of the
    rows only approximates a step's time; the rows show which layers take the
    time, and which come near the matrix product's speed. The timing runs on
    a copy of the model and of its optimiser: `model`'s weights, batch-norm
    statistics and optimiser state are left as they were."""
    import tensorflow as tf

    if not model.built:
        raise ValueError("The model is not built: start it with keras.Input(shape=...).")
    original = model
    model = keras_module().models.clone_model(original)
    model.set_weights(original.get_weights())
    counted = params.multiply_adds(model)
    rng = np.random.default_rng(seed)
    rows = []
    for layer in model.layers:
        x = tf.constant(rng.standard_normal((batch_size, *layer.input.shape[1:])).astype("float32"))

        @tf.function
        def step(x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                total = tf.reduce_sum(tf.cast(y, tf.float32))
            return tape.gradient(total, [x, *layer.trainable_weights])

        step(x)  # traces the graph
        seconds = float(np.median(time_interleaved({"step": lambda x=x: _finish(step(x))}, repeats)["step"]))
        flops = int(counted.get(layer.name, 0)) * FLOPS_PER_MULTIPLY_ADD * TRAINING_PASSES * batch_size
        rows.append({"layer": layer.name, "kind": type(layer).__name__,
                     "output": "x".join(str(d) for d in layer.output.shape[1:]),
                     "gflop_per_batch": flops / 1e9, "ms_per_batch": 1000 * seconds,
                     "gflops": flops / seconds / 1e9 if flops else None})
    if original.optimizer is not None:
        optimizer = type(original.optimizer).from_config(original.optimizer.get_config())
        weights = model.trainable_weights
        gradients = [tf.zeros_like(w) for w in weights]

        @tf.function
        def update():
            optimizer.apply(gradients, weights)

        update()
        seconds = float(np.median(time_interleaved({"update": update}, repeats)["update"]))
        rows.append({"layer": "optimizer update", "kind": type(optimizer).__name__, "output": "",
                     "gflop_per_batch": 0.0, "ms_per_batch": 1000 * seconds, "gflops": None})
    total = sum(row["ms_per_batch"] for row in rows)
    for row in rows:
        row["share"] = row["ms_per_batch"] / total
    return rows


def _finish(tensors):
    """Wait for TensorFlow's results (they may still be computing)."""
    for tensor in tensors:
        if tensor is not None:
            tensor.numpy()

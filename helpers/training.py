"""Training, evaluating and recording the book's models, the same way every time.

The rules the training chapters follow, in code:

* a validation split carved from the 60,000 training images (stratified, seeded)
  guides every choice; the 10,000 test images are used once, at the end;
* seeds are fixed and TensorFlow's ops made deterministic, so a rerun on the
  same machine gives the same curves;
* every trained model leaves a JSON results file that later chapters read;
  runs with anything other than the tutorial's full settings are "quick" and
  go to a separate folder, so they never overwrite the results the book shows.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers import data


def set_seed(seed: int, deterministic_ops=None):
    """Seed Python, NumPy and the backend so that a rerun gives the same curves.

    `deterministic_ops` also switches TensorFlow to its deterministic kernels.
    The default (None) does so only when a GPU is visible: GPU kernels add up
    in a different order from run to run, so without it two runs drift apart.
    On a CPU they do not: on the 2-core machine that ran the book, three
    separate processes trained three models to bitwise-identical weights
    without it, and turning it on made the convolutional models 1.2-1.7 times
    slower per epoch.
    """
    import keras

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    if deterministic_ops is None:
        deterministic_ops = bool(tf.config.list_physical_devices("GPU"))
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


@dataclass
class Splits:
    """Scaled float32 images with a channel axis, and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_splits(validation_size=6000, train_subset=None, seed=0, scaled=True) -> Splits:
    """Fashion-MNIST as train / validation / test.

    `validation_size` images (an equal number per class) are held out of the
    official training set; `train_subset`, if given, keeps only that many of
    the remaining training images (a stratified subset, for quick runs). The
    test set is always the full official one. With `scaled=False` the images
    stay raw uint8 (n, 28, 28) arrays, as the tutorials start from.
    """
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    train_index, val_index = data.stratified_split(y_train, validation_size, seed=seed)
    if train_subset is not None and train_subset != len(train_index):
        if not 0 < train_subset < len(train_index):
            raise ValueError(f"train_subset must be between 1 and {len(train_index)} "
                             f"(the training images left after validation), got {train_subset}.")
        _, chosen = data.stratified_split(y_train[train_index], train_subset, seed=seed)
        train_index = train_index[chosen]
    prepare = data.scale_images if scaled else np.asarray
    return Splits(
        prepare(x_train[train_index]), y_train[train_index],
        prepare(x_train[val_index]), y_train[val_index],
        prepare(x_test), y_test,
    )


# Training steps Keras runs per call into the compiled graph. With the default
# (1), Python hands over every batch, and for a small model that hand-over
# costs as much as the arithmetic: on the book's 2-core CPU, 16 steps per call
# trained the dense baseline 2.1 times as fast. Each step is computed exactly
# as before, so the weights come out the same (a test checks it); only
# per-batch callbacks see fewer calls, and the book uses none.
STEPS_PER_EXECUTION = 16


def compile_for(model, labels="integer", optimizer="adam", steps_per_execution=STEPS_PER_EXECUTION,
                label_smoothing=0.0):
    """Compile with the loss that matches the labels, reporting accuracy.

    `labels` is "integer" (sparse categorical cross-entropy) or "one-hot"
    (categorical cross-entropy). `label_smoothing` (one-hot labels only)
    turns the targets into 1 - s + s/10 for the true class and s/10 for the
    others.
    """
    import keras

    losses = {"integer": "sparse_categorical_crossentropy", "one-hot": "categorical_crossentropy"}
    if labels not in losses:
        raise ValueError(f"labels must be 'integer' or 'one-hot', got {labels!r}.")
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be at least 0 and below 1, got {label_smoothing}.")
    loss = losses[labels]
    if label_smoothing:
        if labels != "one-hot":
            raise ValueError("label_smoothing needs one-hot labels (labels='one-hot'): Keras' "
                             "sparse cross-entropy has no smoothing.")
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"],
                  steps_per_execution=steps_per_execution)


def train(model, splits: Splits, epochs: int, batch_size: int, labels="integer",
          steps_per_execution=STEPS_PER_EXECUTION):
    """Compile with Adam and the loss that matches the labels, then fit.

    `labels` is "integer" (sparse categorical cross-entropy) or "one-hot"
    (categorical cross-entropy, labels converted here). Keras prints one line
    per epoch. Returns (history, seconds spent in fit); the history is Keras'
    dict of per-epoch lists plus "seconds", the wall-clock time of each epoch
    (validation included).
    """
    y_train, y_val = (encode_labels(y, labels) for y in (splits.y_train, splits.y_val))
    compile_for(model, labels, steps_per_execution=steps_per_execution)
    logger = epoch_logger(epochs)
    start = time.perf_counter()
    history = model.fit(splits.x_train, y_train, validation_data=(splits.x_val, y_val),
                        epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[logger])
    seconds = time.perf_counter() - start
    return {**history.history, "seconds": logger.seconds}, seconds


def encode_labels(labels, encoding):
    """Integer labels as they are ("integer") or as one-hot rows ("one-hot")."""
    if encoding == "integer":
        return labels
    if encoding == "one-hot":
        import keras

        return keras.utils.to_categorical(labels, data.NUM_CLASSES)
    raise ValueError(f"labels must be 'integer' or 'one-hot', got {encoding!r}.")


def epoch_logger(epochs):
    """A Keras callback that prints one compact line per epoch (no progress bar)
    and keeps each epoch's wall-clock seconds in its `seconds` list."""
    import keras

    class EpochLine(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(round(time.perf_counter() - self.started, 2))
            logs = logs or {}
            metrics = "  ".join(f"{name} {logs[name]:.4f}" for name in
                                ("loss", "accuracy", "val_loss", "val_accuracy") if name in logs)
            print(f"epoch {epoch + 1:>2}/{epochs}  {self.seconds[-1]:5.1f} s  {metrics}", flush=True)

    return EpochLine()


def predict_probabilities(model, images, batch_size=1024, mirror_vote=False):
    """The model's softmax output for each image.

    With `mirror_vote`, the average of the outputs for the image and for its
    mirror image (the width axis reversed): a model trained with mirrored
    images (`models.augmentation`) gets two looks at each garment.
    """
    images = np.asarray(images)
    if mirror_vote and images.ndim != 4:
        raise ValueError(f"mirror_vote needs images of shape (count, height, width, channels), "
                         f"got {images.shape}.")
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    if mirror_vote:
        mirrored = model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0)
        probabilities = (probabilities + mirrored) / 2
    return probabilities


def predict_classes(model, images, batch_size=1024, with_probabilities=False, mirror_vote=False):
    """The predicted class of each image: the argmax of the softmax output
    (of `predict_probabilities`, which explains `mirror_vote`).

    (Not a threshold at 0.5: a row with no probability above 0.5 still has a
    most likely class.) With `with_probabilities`, returns (classes,
    probabilities), so that the model runs over the images only once.
    """
    probabilities = predict_probabilities(model, images, batch_size, mirror_vote)
    classes = np.argmax(probabilities, axis=1)
    return (classes, probabilities) if with_probabilities else classes


def confusion_matrix(y_true, y_pred, num_classes=10, normalize=True):
    """Rows: true class, columns: predicted class. Normalised, each row sums to 1."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} holds labels outside 0..{num_classes - 1}; pass class indices, not probabilities.")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    if not normalize:
        return counts
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def most_confused(matrix, class_names=data.CLASS_NAMES, top=5):
    """The largest off-diagonal cells of a row-normalised confusion matrix."""
    import pandas as pd

    off = np.array(matrix, dtype=float)
    np.fill_diagonal(off, -1)
    order = np.argsort(off, axis=None)[::-1][:top]
    rows = [(class_names[t], class_names[p], off[t, p]) for t, p in zip(*np.unravel_index(order, off.shape))]
    return pd.DataFrame(rows, columns=["true class", "predicted as", "share of the true class"])


def device_description() -> str:
    """CPU model and core count, or the GPU(s) TensorFlow sees."""
    try:
        import tensorflow as tf

        gpus = [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                for g in tf.config.list_physical_devices("GPU")]
    except ImportError:
        gpus = []
    return ", ".join(gpus) if gpus else cpu_description()


def cpu_description() -> str:
    """The CPU model (from /proc/cpuinfo where there is one) and the core count."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def project_root(start=None) -> Path | None:
    """The book's repository root (the folder with _toc.yml) above `start`, if any."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "helpers").is_dir():
            return folder
    return None


def results_dir(quick: bool, dataset="fashion_mnist", start=None) -> Path:
    """Where results files go: results/<dataset>/ in the repository for full
    runs, results/quick/<dataset>/ for quick ones; ./results/... outside a
    checkout (on Colab)."""
    root = project_root(start) or Path(start or Path.cwd())
    return root / "results" / ("quick" if quick else "") / dataset


def write_results(record: dict, quick: bool, start=None) -> Path:
    """Write one model's results as JSON, named after record["model"]."""
    required = {"model", "params", "epochs", "batch_size", "train_seconds", "seconds_per_epoch",
                "train_accuracy", "val_accuracy", "test_accuracy", "test_loss", "reported_test_accuracy"}
    missing = required - set(record)
    if missing:
        raise ValueError(f"the results record lacks {', '.join(sorted(missing))}.")
    return _write_stamped(record["model"], record, quick, start)


def _write_stamped(name: str, payload: dict, quick: bool, start=None) -> Path:
    """Write payload as results/.../<name>.json with the machine, the library
    versions, the quick flag and the date added; return the path."""
    import keras

    payload = dict(payload)
    payload.update({
        "keras_backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "tensorflow_version": _tensorflow_version(),
        "device": device_description(),
        "quick": bool(quick),
        "date": datetime.date.today().isoformat(),
    })
    folder = results_dir(quick, start=start)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def _tensorflow_version():
    try:
        import tensorflow as tf

        return tf.__version__
    except ImportError:
        return None


def read_results(quick=False, dataset="fashion_mnist", start=None):
    """All models' results files of a dataset as a DataFrame indexed by model id.

    Study files (`write_study`) in the same folder are left out: they hold
    many runs, not one model. Raises FileNotFoundError, naming the folder and
    the notebooks to run, if there are no models' results.
    """
    import pandas as pd

    folder = results_dir(quick, dataset, start=start)
    records = [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))]
    records = [record for record in records if "study" not in record]
    if not records:
        raise FileNotFoundError(
            f"No results files in {folder}. Run the training notebooks first "
            "(they write one JSON file per model there).")
    return pd.DataFrame(records).set_index("model")


def read_result(model_id, quick=False, dataset="fashion_mnist", start=None) -> dict:
    """One model's results file as a dict; if it is missing, say which
    chapter writes it."""
    from helpers import models

    path = results_dir(quick, dataset, start=start) / f"{model_id}.json"
    if not path.is_file():
        chapter = models.CHAPTERS.get(model_id, "the chapter that trains it")
        kind = "quick" if quick else "full"
        raise FileNotFoundError(f"No {kind} results for {model_id!r}: {path} does not exist. "
                                f"Run {chapter} first{' with its quick settings' if quick else ''}; "
                                "it writes this file.")
    return json.loads(path.read_text())


def train_and_test(model_id, splits: Splits, epochs: int, batch_size: int, seed: int):
    """Seed, build, train and test one of the book's models, writing nothing.

    Uses the loss that matches the tutorial's labels. Returns (model, history,
    seconds spent in fit, test loss, test accuracy).
    """
    from helpers import models

    labels = models.TUTORIAL_SETTINGS[model_id]["labels"]
    set_seed(seed)
    model = models.build_model(model_id)
    history, seconds = train(model, splits, epochs, batch_size, labels=labels)
    y_test = encode_labels(splits.y_test, labels)
    test_loss, test_accuracy = model.evaluate(splits.x_test, y_test, batch_size=1024, verbose=0)
    return model, history, seconds, float(test_loss), float(test_accuracy)


def run_and_record(model_id, splits: Splits, epochs: int, batch_size: int, seed: int):
    """Build, train and test one of the book's models, and write its results file.

    The run counts as *quick* (results go to results/quick/) if it used fewer
    than all 60,000 training images, fewer epochs than the tutorial's
    (`models.TUTORIAL_SETTINGS`) or another batch size than the tutorial's. Returns (model, history, record); the record is the results
    file's content: the per-epoch history, the machine and library versions
    included.
    """
    from helpers import models

    settings = models.TUTORIAL_SETTINGS[model_id]
    model, history, seconds, test_loss, test_accuracy = train_and_test(
        model_id, splits, epochs, batch_size, seed)
    quick = is_quick_run(model_id, splits, epochs, batch_size)
    record = {
        "model": model_id,
        "params": model.count_params(),
        "epochs": epochs,
        "tutorial_epochs": settings["epochs"],
        "batch_size": batch_size,
        "seed": seed,
        "labels": settings["labels"],
        "train_images": len(splits.x_train),
        "validation_images": len(splits.x_val),
        "train_seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / epochs, 1),
        "train_accuracy": float(history["accuracy"][-1]),  # last epoch, as Keras reports it
        "val_accuracy": float(history["val_accuracy"][-1]),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "reported_test_accuracy": settings["reported_test_accuracy"],
        "reported_train_accuracy": settings["reported_train_accuracy"],
        "history": {name: [round(float(v), 5) for v in values] for name, values in history.items()},
        "quick": quick,
    }
    path = write_results(record, quick)
    return model, history, json.loads(path.read_text())  # the record as saved, machine included


def is_quick_run(model_id, splits: Splits, epochs: int, batch_size: int) -> bool:
    """True unless the run used all 60,000 training images (training plus
    validation), at least the tutorial's epochs and the tutorial's batch size."""
    from helpers import models

    settings = models.TUTORIAL_SETTINGS[model_id]
    return (len(splits.x_train) + len(splits.x_val) < 60000 or epochs < settings["epochs"]
            or batch_size != settings["batch_size"])


def write_study(name: str, rows: list, quick: bool, start=None) -> Path:
    """Write the rows of a multi-run study (a list of dicts) as results/.../<name>.json,
    with the machine and library versions, and return the path."""
    return _write_stamped(name, {"study": name, "rows": rows}, quick, start)


# --- the book's own recipe (chapter 11) ---------------------------------------------


def warmup_cosine(peak_learning_rate: float, total_steps: int, warmup_fraction=0.1):
    """A learning-rate schedule: a linear warm-up from 1/30 of the peak to the
    peak over the first `warmup_fraction` of the steps, then a cosine decay
    to zero at `total_steps`.

    The warm-up lets batch normalisation settle its statistics before the large
    steps; the decay lets the weights settle into a minimum at the end.
    """
    import keras

    if total_steps < 2 or not 0 < warmup_fraction < 1 or peak_learning_rate <= 0:
        raise ValueError(
            f"need total_steps >= 2, 0 < warmup_fraction < 1 and a positive peak learning "
            f"rate, got {total_steps}, {warmup_fraction} and {peak_learning_rate}.")
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak_learning_rate / 30, decay_steps=total_steps - warmup,
        warmup_target=peak_learning_rate, warmup_steps=warmup)


def seconds_field(target: float) -> str:
    """The results-file field for the time to reach a test accuracy:
    0.9137 gives "seconds_to_91_37"."""
    if not 0 <= target <= 1:
        raise ValueError(f"target must be an accuracy between 0 and 1, got {target}.")
    return "seconds_to_" + f"{target * 100:.2f}".replace(".", "_")


def test_accuracy_clock(x_test, y_test, target: float, mirror_vote=False):
    """A callback that measures test accuracy after every epoch, on a clock
    that leaves its own measuring out, and notes when `target` is first reached.

    It only records: nothing it measures goes into the logs that other
    callbacks (early stopping) read, so the test set never steers training.
    Its `seconds`, `test_accuracy` and `seconds_to_target` (None until
    reached) are filled in as training goes; `field` names the results-file
    field that `record_recipe_run` writes it to (see `seconds_field`).
    With `mirror_vote`, it measures as `predict_classes` with a mirror vote.
    """
    import keras

    field = seconds_field(target)

    class TestAccuracyClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.target, self.field = target, field
            self.seconds, self.test_accuracy, self.seconds_to_target = [], [], None

        def on_train_begin(self, logs=None):
            self.started, self.measuring = time.perf_counter(), 0.0

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            elapsed = now - self.started - self.measuring
            predicted = predict_classes(self.model, x_test, mirror_vote=mirror_vote)
            accuracy = float(np.mean(predicted == np.asarray(y_test)))
            self.seconds.append(round(elapsed, 1))
            self.test_accuracy.append(accuracy)
            if self.seconds_to_target is None and accuracy >= self.target:
                self.seconds_to_target = round(elapsed, 1)
            self.measuring += time.perf_counter() - now

    return TestAccuracyClock()


def train_with_recipe(model, splits: Splits, epochs: int, batch_size: int, peak_learning_rate: float,
                      weight_decay: float, patience: int, label_smoothing=0.0, extra_callbacks=()):
    """Train with the book's recipe: AdamW with decoupled weight decay, the
    `warmup_cosine` schedule over `epochs`, cross-entropy with
    `label_smoothing` (the one-hot targets become 1 - s + s/10 for the true
    class and s/10 for the others), and early stopping on validation
    accuracy, which keeps the weights of the best validation epoch.

    Returns (history, seconds spent in fit). The history has Keras' per-epoch
    lists plus "seconds" per epoch and "best_epoch" (1-based): the epoch whose
    weights the model ends with.
    """
    import keras

    steps = epochs * int(np.ceil(len(splits.x_train) / batch_size))
    optimizer = keras.optimizers.AdamW(warmup_cosine(peak_learning_rate, steps), weight_decay=weight_decay)
    compile_for(model, "one-hot", optimizer, label_smoothing=label_smoothing)
    logger = epoch_logger(epochs)
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=patience,
                                            restore_best_weights=True)
    start = time.perf_counter()
    validation = (splits.x_val, encode_labels(splits.y_val, "one-hot"))
    history = model.fit(splits.x_train, encode_labels(splits.y_train, "one-hot"),
                        validation_data=validation, epochs=epochs, batch_size=batch_size, verbose=0,
                        callbacks=[logger, stopper, *extra_callbacks])
    seconds = time.perf_counter() - start
    best_epoch = int(np.argmax(history.history["val_accuracy"])) + 1
    return {**history.history, "seconds": logger.seconds, "best_epoch": best_epoch}, seconds


def record_recipe_run(model_id, model, splits: Splits, history, seconds, clock, settings: dict,
                      seed: int, full_epochs: int):
    """Test a model trained by `train_with_recipe` and write its results file.

    `clock` is the `test_accuracy_clock` that watched the run; its measuring is
    taken out of the training time. The test accuracy is that of
    `predict_classes` with `settings["mirror_vote"]`; the file also keeps
    the accuracy of one view per image. The run is quick unless it used all
    60,000 images and at least `full_epochs` epochs. Returns the record as saved.
    """
    mirror_vote = bool(settings.get("mirror_vote", False))
    y_test = np.asarray(splits.y_test)
    one_view = predict_probabilities(model, splits.x_test)
    voted = predict_probabilities(model, splits.x_test, mirror_vote=True) if mirror_vote else one_view
    test_accuracy = np.mean(voted.argmax(axis=1) == y_test)
    # Plain cross-entropy of the probabilities used (no label smoothing).
    test_loss = -np.mean(np.log(np.clip(voted[np.arange(len(y_test)), y_test], 1e-7, 1.0)))
    epochs_run = len(history["loss"])
    train_seconds = seconds - clock.measuring
    quick = len(splits.x_train) + len(splits.x_val) < 60000 or settings["epochs"] < full_epochs
    record = {
        "model": model_id,
        "params": model.count_params(),
        "epochs": epochs_run,
        "tutorial_epochs": epochs_run,  # no tutorial: the book's own schedule
        "planned_epochs": settings["epochs"],
        "best_epoch": history["best_epoch"],
        "batch_size": settings["batch_size"],
        "seed": seed,
        "labels": "one-hot",
        "recipe": {k: v for k, v in settings.items() if k not in ("epochs", "batch_size")},
        "train_images": len(splits.x_train),
        "validation_images": len(splits.x_val),
        "train_seconds": round(train_seconds, 1),
        "seconds_per_epoch": round(train_seconds / epochs_run, 1),
        "train_accuracy": float(history["accuracy"][history["best_epoch"] - 1]),
        "val_accuracy": float(history["val_accuracy"][history["best_epoch"] - 1]),
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "mirror_vote": mirror_vote,
        "test_accuracy_one_view": float(np.mean(one_view.argmax(axis=1) == y_test)),
        "reported_test_accuracy": None,
        "reported_train_accuracy": None,
        "target_test_accuracy": clock.target,
        clock.field: clock.seconds_to_target,
        "test_accuracy_by_epoch": clock.test_accuracy,
        "seconds_by_epoch": clock.seconds,
        "history": {name: [round(float(v), 5) for v in values]
                    for name, values in history.items() if name != "best_epoch"},
        "quick": quick,
    }
    path = write_results(record, quick)
    return json.loads(path.read_text())

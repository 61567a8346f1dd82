"""Tests of helpers.training: seeds, compiling, `train` and the `TrainingRun`
it returns, and the epoch logger."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from helpers import splitting, training


@pytest.mark.parametrize("gpus, asked, expected", [
    ([], False, False), (["GPU:0"], False, False), ([], True, True), (["GPU:0"], True, True)])
def test_set_seed_makes_ops_deterministic_only_when_asked(monkeypatch, gpus, asked, expected):
    # Opt-in even on a GPU: some GPU ops have no deterministic kernel and would
    # raise UnimplementedError, so a chapter's reader turns it on knowingly.
    import tensorflow as tf

    switched_on = []
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus)
    monkeypatch.setattr(tf.config.experimental, "enable_op_determinism", lambda: switched_on.append(1))
    training.set_seed(3, deterministic_ops=asked)
    assert bool(switched_on) is expected
    first = np.random.rand(3)
    training.set_seed(3, deterministic_ops=asked)
    assert np.array_equal(first, np.random.rand(3))
    assert training.set_seed(3) is None and len(switched_on) == (2 if expected else 0)


def test_set_seed_refuses_a_determinism_flag_that_is_not_a_bool():
    with pytest.raises(ValueError, match="None"):
        training.set_seed(3, deterministic_ops=None)


def test_compile_for_smooths_one_hot_labels_only():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    training.compile_for(model, "one-hot", label_smoothing=0.1)
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    # Smoothed targets: 0.91 for the true class, 0.01 for the others.
    targets = splitting.encode_labels(np.array([3]), "one-hot")
    probabilities = np.full((1, 10), 0.01, "float32")
    probabilities[0, 3] = 0.91
    smoothed = float(model.loss(targets, probabilities))
    plain = -np.log(0.91)
    expected = -(0.91 * np.log(0.91) + 9 * 0.01 * np.log(0.01))
    assert smoothed == pytest.approx(expected, rel=1e-4) and smoothed > plain
    with pytest.raises(ValueError, match="one-hot"):
        training.compile_for(model, "integer", label_smoothing=0.1)
    with pytest.raises(ValueError, match="-0.1"):
        training.compile_for(model, "one-hot", label_smoothing=-0.1)


@pytest.mark.parametrize("labels, loss", [("integer", "sparse_categorical_crossentropy"),
                                          ("one-hot", "categorical_crossentropy")])
def test_compile_for_picks_the_loss_of_the_labels(labels, loss):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    training.compile_for(model, labels)
    assert model.loss == loss
    with pytest.raises(ValueError, match="'sparse'"):
        training.compile_for(model, "sparse")


def small_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])


@pytest.mark.parametrize("labels", ["integer", "one-hot"])
def test_train_returns_a_training_run_with_one_entry_per_epoch(tiny_splits, labels, capsys):
    training.set_seed(0)
    model = small_model()
    run = training.train(model, tiny_splits, epochs=2, batch_size=32, labels=labels)
    assert isinstance(run, training.TrainingRun) and run.model is model
    assert set(run.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert run.epochs == 2 == len(run.seconds_per_epoch) == len(run.history["loss"])
    assert run.fit_seconds >= sum(run.seconds_per_epoch) - 0.01  # the whole fit, every epoch in it
    assert run.last("val_accuracy") == pytest.approx(run.history["val_accuracy"][-1])
    assert capsys.readouterr().out.count("\n") == 2  # one line per epoch


def test_train_passes_the_optimizer_and_the_callbacks_on(tiny_splits):
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    optimizer = keras.optimizers.SGD(0.01)
    run = training.train(small_model(), tiny_splits, 2, 32, optimizer=optimizer, callbacks=[Recorder()])
    assert seen == [0, 1] and run.model.optimizer is optimizer


def test_train_refuses_an_unknown_label_encoding():
    splits = splitting.Splits(*(np.zeros((10, 28, 28, 1)), np.zeros(10, int)) * 3)
    with pytest.raises(ValueError, match="'onehot'"):
        training.train(keras.Sequential([keras.Input((28, 28, 1))]), splits, 1, 1, labels="onehot")


def test_training_twice_with_one_seed_gives_identical_weights(make_splits):
    # The book's promise: a rerun on the same machine gives the same curve.
    splits = make_splits(train=128)

    def weights_after_training():
        training.set_seed(7)
        model = keras.Sequential([keras.Input((28, 28, 1)),
                                  keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
                                  keras.layers.Flatten(), keras.layers.Dropout(0.2),
                                  keras.layers.Dense(10, activation="softmax")])
        run = training.train(model, splits, epochs=2, batch_size=32)
        return run.history["loss"], model.get_weights()

    (loss_a, weights_a), (loss_b, weights_b) = weights_after_training(), weights_after_training()
    assert loss_a == loss_b
    assert all(np.array_equal(a, b) for a, b in zip(weights_a, weights_b))


def test_a_training_run_from_a_cells_fit():
    # A chapter calls model.fit itself, with the epoch logger, then keeps the run.
    history = keras.callbacks.History()
    history.set_model(small_model())
    history.history = {"loss": [1.0, 0.5], "accuracy": [0.6, 0.8], "val_loss": [1.1, 0.7],
                       "val_accuracy": [0.5, 0.7]}
    logger = SimpleNamespace(seconds=[2.0, 1.5], fit_seconds=3.6)
    run = training.TrainingRun.from_fit(history, logger)
    assert run.model is history.model and run.history == history.history
    assert run.history is not history.history  # a copy: the run keeps what the fit gave
    assert run.seconds_per_epoch == [2.0, 1.5] and run.fit_seconds == 3.6 and run.epochs == 2
    assert run.last("accuracy") == 0.8 and isinstance(run.last("loss"), float)


def test_last_of_a_metric_the_run_did_not_record_names_it_and_the_ones_it_has():
    run = training.TrainingRun(None, {"loss": [1.0]}, [1.0], 1.0)
    with pytest.raises(KeyError) as error:
        run.last("val_accuracy")
    assert "val_accuracy" in str(error.value) and "loss" in str(error.value)


def test_epoch_logger_prints_one_line_per_epoch_and_keeps_the_seconds(capsys):
    logger = training.epoch_logger(3)
    logger.on_train_begin()
    logger.on_epoch_begin(0)
    logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.75})
    logger.on_train_end()
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "1/3" in out and "0.8000" in out and "0.7500" in out
    assert len(logger.seconds) == 1 and logger.fit_seconds >= logger.seconds[0] - 0.01

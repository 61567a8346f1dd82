"""Tests of helpers.speed and scripts/benchmark_training.py: the speed-up of the
book's helper must come from the machinery, never from changing what is learned."""

import json

import keras
import numpy as np
import pytest

from helpers import speed, splitting, training
from scripts import benchmark_training


def test_images_per_second_skips_the_first_epoch_and_takes_the_median():
    # The first epoch (graph building) and one slow epoch do not count.
    assert speed.images_per_second(1000, [9.0, 2.0, 2.0, 7.0]) == 500
    assert speed.images_per_second(1000, [4.0]) == 250
    with pytest.raises(ValueError, match="epoch_seconds is empty"):
        speed.images_per_second(1000, [])


def test_throughput_gives_the_median_and_the_range_of_the_timed_epochs():
    assert speed.throughput(1000, [9.0, 2.0, 4.0, 1.0]) == {
        "images_per_second": 500.0, "images_per_second_min": 250.0,
        "images_per_second_max": 1000.0, "timed_epochs": 3}


def test_speed_up_is_paired_round_by_round():
    # Round by round: 4/2, 6/2, 2/2 (the first round is not timed).
    assert speed.paired_speed_up([9.0, 2.0, 2.0, 2.0], [9.0, 4.0, 6.0, 2.0]) == {
        "speed_up": 2.0, "speed_up_min": 1.0, "speed_up_max": 3.0}


def test_time_interleaved_takes_turns():
    order = []
    seconds = speed.time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                                     repeats=3)
    assert order == ["a", "b"] * 3
    assert {name: len(values) for name, values in seconds.items()} == {"a": 3, "b": 3}


def test_unknown_variant_and_too_few_epochs_are_refused():
    with pytest.raises(ValueError) as error:
        speed.compare_training_speed(["dense_baseline"], epochs=2, variants=("fast",))
    assert "'fast'" in str(error.value) and all(variant in str(error.value) for variant in speed.VARIANTS)
    with pytest.raises(ValueError, match="epochs"):
        speed.compare_training_speed(["dense_baseline"], epochs=1)


@pytest.mark.needs_real_data
def test_steps_per_execution_changes_the_speed_not_the_weights():
    splits = splitting.load_splits(validation_size=100, train_subset=300)

    def weights(steps):
        training.set_seed(3)
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
        run = training.train(model, splits, epochs=2, batch_size=32, steps_per_execution=steps)
        return run.history["loss"], model.get_weights()

    (loss_one, w_one), (loss_many, w_many) = weights(1), weights(training.STEPS_PER_EXECUTION)
    assert loss_one == loss_many
    assert all(np.array_equal(a, b) for a, b in zip(w_one, w_many))


@pytest.mark.needs_real_data
def test_interleaved_runs_that_compute_the_same_steps_end_with_the_same_weights(capsys):
    # Each epoch of each run starts from the same seeds, so taking turns does
    # not change the order in which a run sees its images.
    splits = splitting.load_splits(validation_size=100, train_subset=300)
    runs = {}
    for steps in (1, 4):
        training.set_seed(5)
        model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
        runs[steps] = speed.helper_run(model, splits, steps_per_execution=steps)
    histories = speed.interleaved_training(runs, epochs=3, seed=0)
    assert all(len(history["seconds"]) == 3 for history in histories.values())
    assert histories[1]["loss"] == histories[4]["loss"]
    assert all(np.array_equal(a, b) for a, b in zip(runs[1].model.get_weights(),
                                                    runs[4].model.get_weights()))
    assert capsys.readouterr().out.count("epoch  3/3") == 2


@pytest.mark.slow
@pytest.mark.needs_real_data
def test_compare_training_speed_measures_every_variant_on_the_same_problem(capsys):
    rows = speed.compare_training_speed(["dense_baseline"], epochs=3, train_subset=500)
    assert [row["variant"] for row in rows] == list(speed.VARIANTS)
    by_variant = {row["variant"]: row for row in rows}
    assert by_variant["tutorial pattern"]["speed_up"] == 1.0
    assert all(row["train_images"] == 500 and len(row["epoch_seconds"]) == 3
               and row["timed_epochs"] == 2 for row in rows)
    # float32 with 1 or 16 steps per call, trained in turn epoch by epoch: the
    # same computation, the same accuracy.
    assert by_variant["float32 inputs"]["test_accuracy"] == by_variant["book helper"]["test_accuracy"]
    # float64 inputs are rounded to the same float32 values inside the model.
    assert abs(by_variant["tutorial pattern"]["test_accuracy"]
               - by_variant["book helper"]["test_accuracy"]) < 0.01
    table = speed.speed_table(rows)
    assert list(table.variant) == list(speed.VARIANTS) and table.images_per_second.gt(0).all()


def test_benchmark_script_refuses_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        benchmark_training.parse_args(["--models", "resnet50"])
    assert "unknown model id resnet50" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        benchmark_training.parse_args(["--epochs", "1"])
    assert "--epochs must be at least 2" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.needs_real_data
def test_benchmark_script_prints_ratio_and_accuracies_and_writes_json(tmp_path, capsys):
    output = tmp_path / "speed.json"
    benchmark_training.main(["--models", "dense_baseline", "--epochs", "2",
                             "--train-subset", "300", "--output", str(output)])
    out = capsys.readouterr().out
    assert "dense_baseline: the book's helper trains" in out and "times as fast" in out
    saved = json.loads(output.read_text())
    assert len(saved["rows"]) == 3 and saved["train_subset"] == 300 and saved["machine"]


def test_training_flops_count_six_per_weight_use():
    # One Dense layer of 784 x 10 weights: 7,840 multiply-adds forward, so
    # 2 x 3 x 7,840 operations to train on one image.
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    assert speed.training_flops_per_image(model) == 2 * 3 * 784 * 10
    assert speed.achieved_gflops(model, 1e6) == pytest.approx(2 * 3 * 7840 * 1e6 / 1e9)
    with pytest.raises(ValueError, match="images_per_second"):
        speed.achieved_gflops(model, 0)


@pytest.mark.parametrize("library", ["numpy", "tensorflow"])
def test_matmul_gflops_is_a_positive_rate(library):
    assert speed.matmul_gflops(size=64, repeats=2, library=library) > 0


def test_the_machine_peak_has_a_row_per_library_and_size():
    rows = speed.machine_peak(sizes=(32, 64), repeats=1)
    assert [(row["library"], row["size"]) for row in rows] == [
        ("tensorflow", 32), ("tensorflow", 64), ("numpy", 32), ("numpy", 64)]
    assert all(row["gflops"] > 0 for row in rows)
    with pytest.raises(ValueError, match="at least one"):
        speed.machine_peak(sizes=())


def test_matmul_gflops_rejects_what_it_cannot_measure():
    with pytest.raises(ValueError, match="library"):
        speed.matmul_gflops(library="torch")
    with pytest.raises(ValueError, match="size"):
        speed.matmul_gflops(size=1)


# --- the recipe against the machine's limit ----------------------------------------


def test_bfloat16_support_is_read_from_the_cpus_flags(tmp_path):
    with_flag, without = tmp_path / "with", tmp_path / "without"
    with_flag.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    without.write_text("flags\t\t: fpu avx2 avx512f avx512_vnni amx_tile\n")
    assert speed.cpu_supports_bfloat16(with_flag)
    assert not speed.cpu_supports_bfloat16(without)
    assert not speed.cpu_supports_bfloat16(tmp_path / "missing")  # not Linux: no /proc/cpuinfo


def adam(batch_size):  # compare_recipe_speed asks for an optimiser per batch size
    return keras.optimizers.Adam(1e-3)


def small_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                             keras.layers.Dense(10, activation="softmax")])


def test_the_recipe_variants_train_the_same_model_interleaved(make_splits, monkeypatch, capsys):
    monkeypatch.setattr(speed, "cpu_supports_bfloat16", lambda: False)
    rows = speed.compare_recipe_speed(small_model, adam, make_splits(train=128),
                                      epochs=2, batch_size=32)
    by_variant = {row["variant"]: row for row in rows}
    assert list(by_variant) == list(speed.RECIPE_VARIANTS)
    assert by_variant["XLA"]["jit_compile"] and not by_variant["as trained"]["jit_compile"]
    assert by_variant["as trained"]["speed_up"] == 1.0
    assert "no bfloat16 instructions" in by_variant["mixed bfloat16"]["skipped"]
    assert all(row["timed_epochs"] == 1 for row in rows if "skipped" not in row)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert capsys.readouterr().out.count("epoch  2/2") == 3  # one line per epoch, interleaved


def test_mixed_bfloat16_computes_in_bfloat16_and_leaves_the_global_policy_alone(make_splits, monkeypatch):
    monkeypatch.setattr(speed, "cpu_supports_bfloat16", lambda: True)
    rows = speed.compare_recipe_speed(small_model, adam, make_splits(train=64),
                                      epochs=2, batch_size=32, variants=("mixed bfloat16",))
    assert [row["variant"] for row in rows] == ["as trained", "mixed bfloat16"]
    assert rows[1]["compute_dtype"] == "bfloat16" and rows[0]["compute_dtype"] == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_other_batch_sizes_get_their_own_rows_and_optimisers(make_splits):
    asked = []

    def make_optimizer(batch_size):
        asked.append(batch_size)
        return keras.optimizers.Adam(1e-3)

    rows = speed.compare_recipe_speed(small_model, make_optimizer, make_splits(train=64), epochs=2,
                                      batch_size=32, variants=(), other_batch_sizes=(16, 64))
    assert [(row["variant"], row["batch_size"]) for row in rows] == [
        ("as trained", 32), (speed.batch_variant(16), 16), (speed.batch_variant(64), 64)]
    assert asked == [32, 16, 64]
    assert rows[0]["speed_up"] == 1.0 and all(row["timed_epochs"] == 1 for row in rows)
    with pytest.raises(ValueError, match="other than batch_size"):
        speed.compare_recipe_speed(small_model, make_optimizer, make_splits(), batch_size=32,
                                   other_batch_sizes=(32,))
    with pytest.raises(ValueError, match="positive whole"):
        speed.compare_recipe_speed(small_model, make_optimizer, make_splits(), other_batch_sizes=(0,))


def test_unknown_recipe_variants_and_thread_settings_are_refused(make_splits):
    with pytest.raises(ValueError, match="'fp8'.*XLA"):
        speed.compare_recipe_speed(small_model, keras.optimizers.Adam, make_splits(), variants=("fp8",))
    with pytest.raises(ValueError, match="at least 2"):
        speed.compare_recipe_speed(small_model, keras.optimizers.Adam, make_splits(), epochs=1)
    with pytest.raises(ValueError, match="'8 threads'.*TensorFlow's default"):
        speed.compare_thread_settings("dense_baseline", settings=("8 threads",))


@pytest.mark.slow
@pytest.mark.needs_real_data
def test_thread_settings_are_timed_in_fresh_processes_taking_turns():
    rows = speed.compare_thread_settings("dense_baseline", settings=("1 thread",), train_subset=260, rounds=1)
    assert [row["setting"] for row in rows] == ["TensorFlow's default", "1 thread"]
    assert rows[1]["TF_NUM_INTRAOP_THREADS"] == "1" and rows[0]["speed_up"] == 1.0
    assert all(row["images_per_second"] > 0 for row in rows)


def test_the_layer_profile_times_every_layer_and_the_update_and_leaves_the_model_alone(make_splits):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.ReLU(),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="sparse_categorical_crossentropy")
    splits = make_splits(train=64)
    model.fit(splits.x_train, splits.y_train, epochs=1, batch_size=32, verbose=0)  # optimiser state set
    weights = [w.copy() for w in model.get_weights()]  # batch-norm statistics included
    state = [v.numpy().copy() for v in model.optimizer.variables]
    rows = speed.layer_profile(model, batch_size=16, repeats=2)
    assert [row["layer"] for row in rows] == [layer.name for layer in model.layers] + ["optimizer update"]
    assert sum(row["share"] for row in rows) == pytest.approx(1)
    conv = rows[0]
    # 26 x 26 x 4 outputs, 9 multiply-adds each, x 2 x 3 for training, x 16 images
    assert conv["gflop_per_batch"] == pytest.approx(26 * 26 * 4 * 9 * 6 * 16 / 1e9)
    assert conv["gflops"] > 0 and rows[1]["gflops"] is None  # batch norm does no counted arithmetic
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    assert all(np.array_equal(v.numpy(), s) for v, s in zip(model.optimizer.variables, state))
    with pytest.raises(ValueError, match="not built"):
        speed.layer_profile(keras.Sequential([keras.layers.Dense(2)]))


def test_a_model_built_under_a_policy_gives_the_global_policy_back_as_it_was():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = speed.built_under("mixed_bfloat16", small_model)
        assert model.layers[0].compute_dtype == "bfloat16"
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        assert speed.built_under("float32", small_model).layers[0].compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_the_tf_data_run_feeds_every_image_once_an_epoch_in_batches(make_splits):
    splits = make_splits(train=100, validation=30)
    run = speed.dataset_run(speed.PreparedRun(None, splits.x_train, splits.y_train, splits.x_val,
                                              splits.y_val, batch_size=32), seed=0)
    sizes = [len(y) for _, y in run.train_dataset]
    assert sizes == [32, 32, 32, 4]
    labels = np.concatenate([y for _, y in run.train_dataset])
    assert sorted(labels) == sorted(splits.y_train) and not np.array_equal(labels, splits.y_train)
    assert sum(len(y) for _, y in run.val_dataset) == 30


def test_stalled_epochs_are_the_timed_ones_well_above_the_fastest():
    seconds = [9.0, 5.2, 10.1, 5.4, 5.3, 9.9]  # the first builds the graph: never counted
    assert speed.stalled_epochs(seconds) == [3, 6]
    assert speed.stall_seconds(seconds) == pytest.approx((10.1 - 5.3) + (9.9 - 5.3))
    assert speed.stalled_epochs([9.0, 5.0, 5.5, 6.0]) == [] and speed.stall_seconds([9.0, 5.0, 5.5]) == 0
    with pytest.raises(ValueError, match="factor must be above 1"):
        speed.stalled_epochs(seconds, factor=1.0)


def test_cpu_ticks_reads_busy_and_idle_time_and_is_none_off_linux(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 20 300 7 1 2 9 0 0\ncpu0 50 2 10 150 3 0 1 4 0 0\n")
    assert speed.cpu_ticks(stat) == {"busy": 100 + 5 + 20 + 1 + 2, "idle": 300 + 7}
    assert speed.cpu_ticks(tmp_path / "missing") is None


def test_the_pipeline_without_autotune_feeds_every_image_once_an_epoch(make_splits):
    splits = make_splits(train=100, validation=30)
    train, val = speed.pipeline_datasets(splits, batch_size=32, seed=0)
    assert not train.options().autotune.enabled and not val.options().autotune.enabled
    first, second = (np.concatenate([y for _, y in train]) for _ in range(2))
    assert [len(y) for _, y in train] == [32, 32, 32, 4]
    assert sorted(first) == sorted(splits.y_train) and not np.array_equal(first, second)  # reshuffled
    assert sum(len(y) for _, y in val) == 30


def test_compare_pipelines_trains_both_in_whole_calls_taking_turns(make_splits, capsys):
    rows = speed.compare_pipelines(small_model, adam, make_splits(train=96), epochs=2, rounds=2,
                                   batch_size=32)
    assert [row["pipeline"] for row in rows] == list(speed.PIPELINES)
    for row in rows:
        assert len(row["epoch_seconds"]) == 4 and row["timed_epochs"] == 3
        assert row["timed_seconds"] == pytest.approx(sum(row["epoch_seconds"][1:]), abs=0.02)
        assert set(row["stalled_epochs"]) <= {2, 3, 4} and 0 <= row["val_accuracy"] <= 1
        assert row["idle_share"] is None or 0 <= row["idle_share"] <= 1
    out = capsys.readouterr().out
    assert out.index("NumPy arrays, epochs 1-2") < out.index("tf.data, autotune off, epochs 1-2") \
        < out.index("NumPy arrays, epochs 3-4")
    assert out.count("epoch  4/4") == 2  # one line per epoch, numbered across the calls
    with pytest.raises(ValueError, match="at least 2 epochs a call"):
        speed.compare_pipelines(small_model, adam, make_splits(train=32), epochs=1)

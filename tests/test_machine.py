"""Tests of helpers.machine: the machine and library versions a run records."""

import os

import keras

from helpers import machine


def test_cpu_description_names_the_cpu_and_its_cores():
    description = machine.cpu_description()
    cpu, cores = description.rsplit(", ", 1)
    assert cpu and cores == f"{os.cpu_count()} cores"


def test_device_description_is_the_cpu_or_the_gpus_tensorflow_sees():
    import tensorflow as tf

    description = machine.device_description()
    if not tf.config.list_physical_devices("GPU"):
        assert description == machine.cpu_description()
    assert description


def test_device_description_without_tensorflow_is_the_cpu(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` raises ImportError
    assert machine.device_description() == machine.cpu_description()


def test_library_versions_are_the_running_ones():
    import tensorflow as tf

    versions = machine.library_versions()
    assert versions == {"keras_backend": keras.backend.backend(), "keras_version": keras.__version__,
                        "tensorflow_version": tf.__version__}

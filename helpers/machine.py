"""What machine and which library versions a run used, for its results file."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from helpers.backend import keras_module


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


def library_versions() -> dict:
    """Keras' backend and version and TensorFlow's version (None without TensorFlow)."""
    keras = keras_module()

    try:
        import tensorflow as tf

        tensorflow_version = tf.__version__
    except ImportError:
        tensorflow_version = None
    return {"keras_backend": keras.backend.backend(), "keras_version": keras.__version__,
            "tensorflow_version": tensorflow_version}

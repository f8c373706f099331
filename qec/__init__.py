"""qec: quantum error correction and mitigation on Stim, PyMatching, sinter, Numba and Mitiq.

Names load on first use, so a worker process that needs only the sampler does not import the rest;
subpackages and modules (`qec.decoders`, `qec.mitigation`, `qec.codes`, `qec.study`, ...) are attributes
that import on first use too. Under `TYPE_CHECKING` the same names are imported plainly, for IDEs and mypy.

>>> import qec
>>> circuit = qec.noise_model("sd6", p=0.001).apply(qec.memory_circuit("surface", distance=3, rounds=3))
>>> circuit.num_detectors
24
>>> "pymatching" in qec.decoders.names(), type(qec.decoders.get("pymatching")).__name__
(True, 'PyMatchingDecoder')
>>> isinstance(qec.__version__, str)
True
"""

from __future__ import annotations

import importlib as _importlib
import importlib.metadata as _metadata
import importlib.util as _importlib_util
import pkgutil as _pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qec import cli, decoders, mitigation  # noqa: F401
    from qec.auto import AutoResult, auto_threshold
    from qec.codes import FAMILIES, CodeFamily, family, memory_circuit, register_family
    from qec.codes.css import CssCode, css
    from qec.decoders import DecoderSpec
    from qec.engine import Progress, StopRule, collect
    from qec.errors import Interrupted, QecInputError
    from qec.experiments import EXPERIMENTS, Experiment, ExperimentSpec
    from qec.memory import noisy_memory_circuit
    from qec.noise import NOISE_FAMILIES, NoiseFamily, NoiseModel, Strengths, noise_family, noise_model, register_noise
    from qec.parts import StudySpec, memory_task, task_from_metadata
    from qec.plot import plot_curves, plot_threshold, save_threshold_figure
    from qec.slices import Slice, parse_condition, slice_points
    from qec.stats import LambdaEstimate, Point, per_round_rate, suppression_factors, wilson_interval
    from qec.store import Added, MergedSource, Store, StoredChunk, merge_stores
    from qec.study import (
        SliceResult,
        StoredPoints,
        StudyResult,
        analyse,
        collect_into,
        read_points,
        read_slice,
        read_study,
        run_study,
        study_tasks,
    )
    from qec.task import ChunkResult, Counts, Task, TaskTotals
    from qec.threshold import ThresholdFit, fit_threshold

DISTRIBUTION = "qec-toolkit"  # the name on the package index ("qec" there is another project)
try:
    __version__ = _metadata.version(DISTRIBUTION)
except _metadata.PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0+unknown"

_EXPORTS = {
    "FAMILIES": "qec.codes",
    "CodeFamily": "qec.codes",
    "family": "qec.codes",
    "memory_circuit": "qec.codes",
    "register_family": "qec.codes",
    "DecoderSpec": "qec.decoders",
    "EXPERIMENTS": "qec.experiments",
    "Experiment": "qec.experiments",
    "ExperimentSpec": "qec.experiments",
    "Strengths": "qec.noise",
    "register_noise": "qec.noise",
    "StudySpec": "qec.parts",
    "memory_task": "qec.parts",
    "task_from_metadata": "qec.parts",
    "CssCode": "qec.codes.css",
    "css": "qec.codes.css",
    "AutoResult": "qec.auto",
    "auto_threshold": "qec.auto",
    "Progress": "qec.engine",
    "StopRule": "qec.engine",
    "collect": "qec.engine",
    "Interrupted": "qec.errors",
    "QecInputError": "qec.errors",
    "noisy_memory_circuit": "qec.memory",
    "NOISE_FAMILIES": "qec.noise",
    "NoiseFamily": "qec.noise",
    "NoiseModel": "qec.noise",
    "noise_family": "qec.noise",
    "noise_model": "qec.noise",
    "plot_curves": "qec.plot",
    "plot_threshold": "qec.plot",
    "save_threshold_figure": "qec.plot",
    "LambdaEstimate": "qec.stats",
    "Point": "qec.stats",
    "per_round_rate": "qec.stats",
    "suppression_factors": "qec.stats",
    "wilson_interval": "qec.stats",
    "Added": "qec.store",
    "MergedSource": "qec.store",
    "Store": "qec.store",
    "StoredChunk": "qec.store",
    "merge_stores": "qec.store",
    "StoredPoints": "qec.study",
    "StudyResult": "qec.study",
    "analyse": "qec.study",
    "collect_into": "qec.study",
    "read_points": "qec.study",
    "read_slice": "qec.study",
    "read_study": "qec.study",
    "SliceResult": "qec.study",
    "Slice": "qec.slices",
    "parse_condition": "qec.slices",
    "slice_points": "qec.slices",
    "run_study": "qec.study",
    "study_tasks": "qec.study",
    "ChunkResult": "qec.task",
    "Counts": "qec.task",
    "Task": "qec.task",
    "TaskTotals": "qec.task",
    "ThresholdFit": "qec.threshold",
    "fit_threshold": "qec.threshold",
}
# The subpackages installed from other folders (pyproject's package-dir); modules under qec/ are found there.
_SUBPACKAGES = ("cli", "decoders", "mitigation")
# Written out (not computed) so that IDEs and linters read it; a test checks it against _EXPORTS.
__all__ = [
    "Added",
    "AutoResult",
    "ChunkResult",
    "CodeFamily",
    "Counts",
    "CssCode",
    "DecoderSpec",
    "EXPERIMENTS",
    "Experiment",
    "ExperimentSpec",
    "FAMILIES",
    "Interrupted",
    "LambdaEstimate",
    "MergedSource",
    "NOISE_FAMILIES",
    "NoiseFamily",
    "NoiseModel",
    "Point",
    "Progress",
    "QecInputError",
    "Slice",
    "SliceResult",
    "StopRule",
    "Store",
    "StoredChunk",
    "StoredPoints",
    "Strengths",
    "StudyResult",
    "StudySpec",
    "Task",
    "TaskTotals",
    "ThresholdFit",
    "__version__",
    "analyse",
    "auto_threshold",
    "cli",
    "collect",
    "collect_into",
    "css",
    "decoders",
    "family",
    "fit_threshold",
    "memory_circuit",
    "memory_task",
    "merge_stores",
    "mitigation",
    "noise_family",
    "noise_model",
    "noisy_memory_circuit",
    "parse_condition",
    "per_round_rate",
    "plot_curves",
    "plot_threshold",
    "read_points",
    "read_slice",
    "read_study",
    "register_family",
    "register_noise",
    "run_study",
    "save_threshold_figure",
    "slice_points",
    "study_tasks",
    "suppression_factors",
    "task_from_metadata",
    "wilson_interval",
]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        value = getattr(_importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and _importlib_util.find_spec(f"qec.{name}") is not None:
        return _importlib.import_module(f"qec.{name}")  # a subpackage or module; importing sets the attribute
    raise AttributeError(f"module 'qec' has no attribute {name!r}")


def __dir__() -> list[str]:
    modules = {info.name for info in _pkgutil.iter_modules(__path__)} | set(_SUBPACKAGES)
    return sorted(set(globals()) | set(_EXPORTS) | modules)

"""qec: quantum error correction and mitigation on Stim, PyMatching, sinter, Numba and Mitiq.

Names load on first use, so a worker process that needs only the sampler does not import the rest;
subpackages and modules (`qec.decoders`, `qec.mitigation`, `qec.codes`, `qec.study`, ...) are attributes
that import on first use too.

>>> import qec
>>> circuit = qec.noise_model("sd6", p=0.001).apply(qec.memory_circuit("surface", distance=3, rounds=3))
>>> circuit.num_detectors
24
>>> "pymatching" in qec.decoders.names(), type(qec.decoders.get("pymatching")).__name__
(True, 'PyMatchingDecoder')
"""

import importlib as _importlib
import importlib.util as _importlib_util
import pkgutil as _pkgutil

_EXPORTS = {
    "FAMILIES": "qec.codes", "memory_circuit": "qec.codes",
    "Progress": "qec.engine", "StopRule": "qec.engine", "collect": "qec.engine",
    "QecInputError": "qec.errors",
    "noisy_memory_circuit": "qec.memory",
    "NOISE_MODELS": "qec.noise", "NoiseModel": "qec.noise", "noise_model": "qec.noise",
    "Point": "qec.stats", "suppression_factors": "qec.stats",
    "Store": "qec.store",
    "StudyResult": "qec.study", "analyse": "qec.study", "point_from_totals": "qec.study", "run_study": "qec.study",
    "study_tasks": "qec.study",
    "Task": "qec.task",
    "ThresholdFit": "qec.threshold", "fit_threshold": "qec.threshold",
}
# The subpackages installed from other folders (pyproject's package-dir); modules under qec/ are found there.
_SUBPACKAGES = ("cli", "decoders", "mitigation")
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
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

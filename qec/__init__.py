"""qec: quantum error correction and mitigation on Stim, PyMatching, sinter, Numba and Mitiq.

Names load on first use, so a worker process that needs only the sampler does not import the rest.

>>> import qec
>>> circuit = qec.noise_model("sd6", p=0.001).apply(qec.memory_circuit("surface", distance=3, rounds=3))
>>> circuit.num_detectors
24
"""

import importlib

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
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qec' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

"""qec: quantum error correction and mitigation on Stim, PyMatching, sinter, Numba and Mitiq.

>>> import qec
>>> circuit = qec.noise_model("sd6", p=0.001).apply(qec.memory_circuit("surface", distance=3, rounds=3))
>>> circuit.num_detectors
24
"""

from qec.codes import FAMILIES, memory_circuit
from qec.engine import Progress, StopRule, collect
from qec.errors import QecInputError
from qec.memory import noisy_memory_circuit
from qec.noise import NOISE_MODELS, NoiseModel, noise_model
from qec.stats import Point, suppression_factors
from qec.store import Store
from qec.study import StudyResult, analyse, point_from_totals, run_study, study_tasks
from qec.task import Task
from qec.threshold import ThresholdFit, fit_threshold

__all__ = ["FAMILIES", "NOISE_MODELS", "NoiseModel", "Point", "Progress", "QecInputError", "StopRule", "Store",
           "StudyResult", "Task", "ThresholdFit", "analyse", "collect", "fit_threshold", "memory_circuit",
           "noise_model", "noisy_memory_circuit", "point_from_totals", "run_study", "study_tasks",
           "suppression_factors"]

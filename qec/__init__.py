"""qec: quantum error correction and mitigation on Stim, PyMatching, sinter, Numba and Mitiq.

>>> import qec
>>> circuit = qec.noise_model("sd6", p=0.001).apply(qec.memory_circuit("surface", distance=3, rounds=3))
>>> circuit.num_detectors
24
"""

from qec.codes import FAMILIES, memory_circuit
from qec.memory import noisy_memory_circuit
from qec.errors import QecInputError
from qec.noise import NOISE_MODELS, NoiseModel, noise_model

__all__ = ["FAMILIES", "NOISE_MODELS", "NoiseModel", "QecInputError", "memory_circuit", "noise_model",
           "noisy_memory_circuit"]

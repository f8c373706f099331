"""Twirled readout error extinction (TREX; van den Berg, Minev, Kandala, Temme, PRA 105, 032620 (2022)).

Measurement twirling: before each measurement an X is applied at random (a twirl mask, one bit per qubit) and
the measured bit is flipped back in software. Averaged over masks, any readout error becomes a symmetric one
that only shrinks each Pauli's parity: <Z_S>_measured = f_S <Z_S>_ideal, with one attenuation f_S per measured
support S. TREX learns f_S by running the same twirls on |0...0> (where <Z_S> = 1) and divides it out. Unlike
REM it needs no model of the readout (no confusion matrix, no 2^n inverse, no rates), costs one calibration
experiment per run, and stays exact under asymmetric (T1-like) readout errors, which a symmetric inverse
misses; like REM, it leaves gate noise alone.

The helpers here are arrays in, arrays out; `qec.mitigation.estimator.Estimator` builds the circuits and runs them
(`resilience_level=1`, or `resilience.measure_mitigation=True`).

>>> import numpy as np
>>> masks = twirl_masks(4, 3, rng=np.random.default_rng(1))
>>> masks.shape, masks.dtype
((4, 3), dtype('bool'))
>>> randomizations_for(4096), randomizations_for(100)
((32, 128), (2, 64))
>>> bits = np.array([[0, 0], [1, 0], [1, 1]], dtype=bool)  # three distinct outcomes, their counts below
>>> means, stds = parities(bits, np.array([70, 20, 10]), np.array([[True, False], [True, True]]))
>>> means.round(3).tolist()  # <Z_0> = (70 - 30)/100, <Z_0 Z_1> = (80 - 20)/100
[0.4, 0.6]
>>> value, std = extinguish(0.45, 0.01, attenuation=0.9, attenuation_std=0.0)
>>> round(value, 3), round(std, 4)
(0.5, 0.0111)
"""

from __future__ import annotations

import math

import numpy as np

from qec.errors import QecInputError

# Runtime's "auto" rule for twirled estimator runs: shots_per_randomization = max(64, ceil(shots / 32)), and
# as many randomizations as it takes to reach the shots.
MIN_SHOTS_PER_RANDOMIZATION = 64
TARGET_RANDOMIZATIONS = 32
# An attenuation this many standard errors above 0 can be divided by; closer, the quotient has no reliable size.
MIN_ATTENUATION_SIGMAS = 3.0


def randomizations_for(shots: int) -> tuple[int, int]:
    """(randomizations, shots per randomization) for a twirled run of about `shots` shots, as qiskit-ibm-runtime
    chooses them ("auto"): max(64, ceil(shots / 32)) shots each, ceil(shots / that) randomizations."""
    per = max(MIN_SHOTS_PER_RANDOMIZATION, math.ceil(shots / TARGET_RANDOMIZATIONS))
    return math.ceil(shots / per), per


def twirl_masks(randomizations: int, num_qubits: int, *, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random twirl masks: bool, shape (randomizations, num_qubits); True = X before that qubit's
    measurement (and its bit flipped back)."""
    return rng.integers(0, 2, size=(randomizations, num_qubits)).astype(bool)


def parities(bits: np.ndarray, counts: np.ndarray, supports: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of (-1)^(parity of the bits on each support).

    Args:
        bits: bool, shape (outcomes, measured bits): distinct outcomes, already flipped back (untwirled).
        counts: int, shape (outcomes,): how often each outcome occurred.
        supports: bool, shape (terms, measured bits): the bits each term's parity reads.

    Returns:
        means and standard errors, float64, shape (terms,); the error of a mean of +-1 outcomes,
        sqrt((1 - mean^2) / shots).
    """
    shots = int(counts.sum())
    means = (counts @ parity_signs(bits, supports)) / shots
    return means, np.sqrt(np.clip(1 - means**2, 0, None) / shots)


def parity_signs(bits: np.ndarray, supports: np.ndarray) -> np.ndarray:
    """(-1)^(parity of the bits on each support): int64, shape (outcomes, terms); `bits` and `supports` as for
    `parities`."""
    return 1 - 2 * ((bits.astype(np.int64) @ supports.T.astype(np.int64)) % 2)


def extinguish(value: float, std: float, *, attenuation: float, attenuation_std: float) -> tuple[float, float]:
    """`value` / `attenuation` and its standard error (the two independent: the calibration is its own run):
    sqrt(std^2 / f^2 + value^2 std_f^2 / f^4).

    Raises QecInputError when the attenuation is not clearly above 0 (readout close to a coin flip), where the
    quotient would be noise.
    """
    if not attenuation > MIN_ATTENUATION_SIGMAS * attenuation_std or attenuation <= 0:
        raise QecInputError(
            f"the readout attenuation measured for TREX is {attenuation:.3g} +- {attenuation_std:.2g}, too close to 0 "
            "to divide by (the readout is nearly a coin flip): use more shots, or resilience_level=0"
        )
    quotient = value / attenuation
    return quotient, math.sqrt(std**2 / attenuation**2 + value**2 * attenuation_std**2 / attenuation**4)

"""Numba kernels of min-sum belief propagation shared by BP+OSD (`bp_osd_kernels`) and Relay-BP (`relay_kernels`).

Both decoders keep the Tanner graph of a DEM's check matrix as message lists (`dem_arrays.tanner_graph`):
messages to checks in check order (`to_check[slot]`), to variables in variable order (`to_variable[message]`).
They share the check update of min-sum, the unpacking of a shot's syndrome and the xor of a correction's
observables into its prediction; decoding LANES shots side by side, they share the lane version of the check
update, the start of a lane's messages and the hard decision of a variable in every lane. Each decoder keeps its
own variable update (BP+OSD's plain, Relay-BP's with memory) and its own loop over shots.

>>> import numpy as np
>>> syndrome = np.zeros(3, dtype=np.uint8)
>>> read_syndrome(np.array([0b101], dtype=np.uint8), syndrome), syndrome.tolist()
(2, [1, 0, 1])
>>> # one check, its syndrome bit 1, on two variables sending it 2.0 and 3.0: each gets minus the other's
>>> to_variable = np.empty(2)
>>> check_update(np.array([1], dtype=np.uint8), np.array([0, 2]), np.array([0, 1]), 1.0, np.array([2.0, 3.0]),
...              to_variable)
>>> to_variable.tolist()
[-3.0, -2.0]
"""

from __future__ import annotations

import llvmlite.binding
import numba
import numpy as np


def lanes_for_host() -> int:
    """Shots decoded side by side (the decoders' `_decode_in_lanes`) on this machine's CPU, as Numba compiles for
    it: 32 where the vectors are AVX2's 256 bits, 16 with AVX-512.

    Measured on [[72,12,6]] (6 rounds, p = 0.003, 1,000-shot batches, alternating runs): on an AMD EPYC (Zen 3,
    AVX2, 512 KiB L2 a core) `bposd` takes 351-376 us/shot with 32 lanes against 547-616 with 16, `relay` 1,249
    against 1,699-1,793; on the AVX-512 machine the lanes were first tuned on, 16 lanes took 167-263 us/shot
    against 300-384 with 32. A lane loop is short either way: LLVM's vectorised loop pays its set-up (a run-time
    test that the arrays do not overlap) once per message, so lanes must outnumber a vector's doubles several
    times over, while the message arrays (messages x lanes x 8 bytes) should stay near the core's cache.
    """
    name = getattr(numba.config, "CPU_NAME", None) or llvmlite.binding.get_host_cpu_name()
    features = getattr(numba.config, "CPU_FEATURES", None) or llvmlite.binding.get_host_cpu_features().flatten()
    return 16 if "+avx512f" in features.split(",") and name != "generic" else 32


LANES = lanes_for_host()  # shots decoded side by side in a batch of at least as many


@numba.njit(cache=True, inline="always")
def read_syndrome(detection_events: np.ndarray, syndrome: np.ndarray) -> int:
    """Unpacks one shot's bit-packed uint8 `detection_events` into `syndrome`; returns the number of defects.

    `syndrome` is uint8 (num_checks,), one bit per entry.
    """
    defects = 0
    for check in range(syndrome.shape[0]):
        bit = (detection_events[check >> 3] >> (check & 7)) & 1
        syndrome[check] = bit
        defects += bit
    return defects


@numba.njit(cache=True, inline="always")
def check_update(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    scaling_factor: float,
    to_check: np.ndarray,
    to_variable: np.ndarray,
) -> None:
    """Every check's messages to its variables: the others' sign product, its syndrome bit's sign, and
    `scaling_factor` times the smallest magnitude among the others (min-sum; `to_check` in check order).

    The smallest magnitude goes back as the second smallest (the same number where two tie). `syndrome` is uint8
    (num_checks,); `check_offsets` (num_checks + 1,) are CSR offsets into `check_messages` (num_messages,), the
    message index of each slot; `to_check` (by slot) and `to_variable` (by message) are float64 (num_messages,).
    """
    for check in range(check_offsets.shape[0] - 1):
        start = check_offsets[check]
        stop = check_offsets[check + 1]
        negative = syndrome[check] == 1
        smallest = np.inf
        second = np.inf
        for slot in range(start, stop):
            value = to_check[slot]
            negative ^= value < 0
            value = abs(value)
            # Argument order matters for a NaN (inf - inf, after a check of one variable sent it inf): min(a, b)
            # and max(a, b) return a unless b is smaller or larger, so a NaN is skipped, as by `value < smallest`.
            second = min(second, max(value, smallest))
            smallest = min(smallest, value)
        scaled_smallest = scaling_factor * smallest
        scaled_second = scaling_factor * second
        for slot in range(start, stop):
            value = to_check[slot]
            magnitude = scaled_second if abs(value) == smallest else scaled_smallest
            to_variable[check_messages[slot]] = -magnitude if negative != (value < 0) else magnitude


@numba.njit(cache=True, inline="always")
def flip_observables(errors: np.ndarray, column_observables: np.ndarray, prediction: np.ndarray) -> None:
    """Xors into `prediction` (uint8 (observable_bytes,)) the observables of every column where `errors` is set."""
    for variable in range(errors.shape[0]):
        if errors[variable]:
            for byte_index in range(prediction.shape[0]):
                prediction[byte_index] ^= column_observables[variable, byte_index]


@numba.njit(cache=True)
def lane_work_space(lanes: int) -> tuple:
    """The per-lane work space of `check_update_lanes` and `harden_lanes`, allocated once per batch: a sign
    (bool), the smallest and second smallest magnitudes (float64) and a flip (uint8), each of shape (lanes,)."""
    return (
        np.zeros(lanes, dtype=np.bool_),
        np.empty(lanes, dtype=np.float64),
        np.empty(lanes, dtype=np.float64),
        np.zeros(lanes, dtype=np.uint8),
    )


@numba.njit(cache=True, inline="always")
def restart_lane(check_variables: np.ndarray, weights: np.ndarray, to_check: np.ndarray, lane: int) -> None:
    """BP's start in `lane` of `to_check` (float64 (num_messages, lanes)): every message to a check is its
    variable's prior `weights[check_variables[slot]]`."""
    for slot in range(check_variables.shape[0]):
        to_check[slot, lane] = weights[check_variables[slot]]


# The lane version of `check_update` (as the decoders' variable updates in lanes): the same arithmetic for each
# lane (column) of the message arrays, lanes innermost. The lane count is read from the arrays, not a constant:
# LLVM vectorises a loop of unknown length (with a run-time test that the arrays do not overlap), while a
# constant LANES is unrolled into scalar code; for the same reason it is not inlined into its caller.
@numba.njit(cache=True)
def check_update_lanes(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    scaling_factor: float,
    to_check: np.ndarray,
    to_variable: np.ndarray,
    lane_work: tuple,
) -> None:
    """`check_update` of every lane: `syndrome` uint8 (num_checks, lanes), messages float64 (num_messages, lanes)."""
    negative, smallest, second, _ = lane_work
    lanes = to_check.shape[1]
    for check in range(check_offsets.shape[0] - 1):
        start = check_offsets[check]
        stop = check_offsets[check + 1]
        for lane in range(lanes):
            negative[lane] = syndrome[check, lane] == 1
            smallest[lane] = np.inf
            second[lane] = np.inf
        for slot in range(start, stop):
            for lane in range(lanes):
                value = to_check[slot, lane]
                negative[lane] ^= value < 0
                value = abs(value)
                # min and max written out with `check_update`'s argument order, so a NaN is skipped alike.
                least = smallest[lane]
                larger = least if least > value else value
                runner_up = second[lane]
                second[lane] = larger if larger < runner_up else runner_up
                smallest[lane] = value if value < least else least
        for slot in range(start, stop):
            message = check_messages[slot]
            for lane in range(lanes):
                value = to_check[slot, lane]
                magnitude = scaling_factor * (second[lane] if abs(value) == smallest[lane] else smallest[lane])
                to_variable[message, lane] = -magnitude if negative[lane] != (value < 0) else magnitude


@numba.njit(cache=True, inline="always")
def harden_lanes(
    variable: int,
    start: int,
    stop: int,
    posterior: np.ndarray,
    message_checks: np.ndarray,
    hard: np.ndarray,
    parity: np.ndarray,
    unsatisfied: np.ndarray,
    flipped: np.ndarray,
) -> None:
    """`variable`'s hard decision in every lane (a posterior <= 0 is an error: ties count as flipped, as in ldpc
    and relay-bp); where it flips, the `parity` of its checks (its messages start..stop-1) flips and each lane's
    `unsatisfied` count follows. `flipped` is uint8 (lanes,) work space."""
    any_flipped = np.uint8(0)
    for lane in range(posterior.shape[1]):
        decision = np.uint8(posterior[variable, lane] <= 0)
        flipped[lane] = decision ^ hard[variable, lane]
        hard[variable, lane] = decision
        any_flipped |= flipped[lane]
    if any_flipped:
        for message in range(start, stop):
            check = message_checks[message]
            for lane in range(posterior.shape[1]):
                if flipped[lane]:
                    parity[check, lane] ^= 1
                    unsatisfied[lane] += 1 if parity[check, lane] else -1

"""Numba kernels of min-sum belief propagation shared by BP+OSD (`bp_osd_kernels`) and Relay-BP (`relay_kernels`).

Both decoders keep the Tanner graph of a DEM's check matrix as message lists (`dem_arrays.tanner_graph`):
messages to checks in check order (`to_check[slot]`), to variables in variable order (`to_variable[message]`).
They share the check update of min-sum, the unpacking of a shot's syndrome and the xor of a correction's
observables into its prediction; decoding LANES shots side by side, they share the lane version of the check
update, the start of a lane's messages and the count of the checks each lane's hard decision leaves unexplained.
Each decoder keeps its own variable update (BP+OSD's plain, Relay-BP's with memory) and its own loop over shots.
Messages and posteriors are float32 (`MESSAGE_DTYPE`).

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
import numba.extending
import numpy as np


def lanes_for_host() -> int:
    """Shots decoded side by side (the decoders' `_decode_in_lanes`) on this machine's CPU, as Numba compiles for
    it: 32 where the vectors are AVX2's 256 bits, 16 with AVX-512.

    Measured on [[72,12,6]] (6 rounds, p = 0.003, 1,000-shot batches, float32 messages, 9 alternating runs in one
    process, medians): on an AMD EPYC (Zen 3, AVX2, 512 KiB L2 a core) `bposd` takes 258 us/shot with 32 lanes,
    390 with 16 and 287 with 64 (float64 messages earlier: 351-376 with 32, 547-616 with 16); on the AVX-512
    machine the lanes were first tuned on (float64), 16 lanes took 167-263 us/shot against 300-384 with 32. A lane
    loop is short either way: LLVM's vectorised loop pays its set-up (a run-time test that the arrays do not overlap)
    once per message, so lanes must outnumber a vector's numbers several times over, while the message arrays
    (messages x lanes x 4 bytes) should stay near the core's cache.
    """
    name = getattr(numba.config, "CPU_NAME", None) or llvmlite.binding.get_host_cpu_name()
    features = getattr(numba.config, "CPU_FEATURES", None) or llvmlite.binding.get_host_cpu_features().flatten()
    return 16 if "+avx512f" in features.split(",") and name != "generic" else 32


LANES = lanes_for_host()  # shots decoded side by side in a batch of at least as many
# BP's messages and posteriors (and the scaling factor they are multiplied by) are float32 in both decoders, a shot
# at a time and in lanes alike: half the memory of float64 and twice the lanes in a vector, with the precision
# min-sum needs (its messages are sums and minima of log-likelihood ratios below 700). The priors (`weights`) stay
# float64, for the weights of OSD's and Relay-BP's solutions, and are rounded where BP reads them.
MESSAGE_DTYPE = np.float32


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
    message index of each slot; `to_check` (by slot) and `to_variable` (by message) are float32 (num_messages,), and
    `scaling_factor` a float32 (`MESSAGE_DTYPE`).
    """
    for check in range(check_offsets.shape[0] - 1):
        start = check_offsets[check]
        stop = check_offsets[check + 1]
        negative = syndrome[check] == 1
        smallest = np.float32(np.inf)
        second = np.float32(np.inf)
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
    """The per-lane work space of `check_update_lanes`, allocated once per batch: a sign (bool), the smallest and
    second smallest magnitudes (float32, as the messages), each of shape (lanes,)."""
    return (
        np.zeros(lanes, dtype=np.bool_),
        np.empty(lanes, dtype=np.float32),
        np.empty(lanes, dtype=np.float32),
    )


@numba.njit(cache=True, inline="always")
def restart_lane(check_variables: np.ndarray, weights: np.ndarray, to_check: np.ndarray, lane: int) -> None:
    """BP's start in `lane` of `to_check` (float32 (num_messages, lanes)): every message to a check is its
    variable's prior (`prior`: `weights` shared, 1-D, or per lane)."""
    for slot in range(check_variables.shape[0]):
        to_check[slot, lane] = prior(weights, check_variables[slot], lane)


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
    """`check_update` of every lane: `syndrome` uint8 (num_checks, lanes), messages float32 (num_messages, lanes)."""
    negative, smallest, second = lane_work
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
                # `check_update`'s min and max, so a NaN is skipped alike (`larger` is a NaN where `value` is, and fmin
                # skips it: `second` is never a NaN). fmin, not a select of `second[lane]` itself: LLVM turns that
                # into a masked store (vmaskmov), which costs Zen 3 half the check update's time.
                least = smallest[lane]
                larger = least if least > value else value
                second[lane] = np.fmin(second[lane], larger)
                smallest[lane] = value if value < least else least
        for slot in range(start, stop):
            message = check_messages[slot]
            for lane in range(lanes):
                value = to_check[slot, lane]
                magnitude = scaling_factor * (second[lane] if abs(value) == smallest[lane] else smallest[lane])
                to_variable[message, lane] = -magnitude if negative[lane] != (value < 0) else magnitude


# The convergence test of decoding in lanes: each check's parity counted again from the hard decisions after every
# iteration (a gather of each check's variables' rows, one vectorised xor per slot), not kept up to date where a
# decision flips: that test's branch on every flip in any lane cost half the variable update (measured on
# [[72,12,6]], 32 lanes: BP+OSD 260 -> 224 us/shot, medians of 9 alternating runs, the same predictions).
@numba.njit(cache=True)
def count_unsatisfied_lanes(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_variables: np.ndarray,
    hard: np.ndarray,
    parity: np.ndarray,
    unsatisfied: np.ndarray,
) -> None:
    """Each lane's count of checks its hard decision leaves unexplained (`unsatisfied`, int64 (lanes,)): a check's
    syndrome bit xor its variables' decisions (`hard`, uint8 (num_variables, lanes)), into `parity` (uint8
    (num_checks, lanes), work space)."""
    lanes = hard.shape[1]
    for lane in range(lanes):
        unsatisfied[lane] = 0
    for check in range(check_offsets.shape[0] - 1):
        for lane in range(lanes):
            parity[check, lane] = syndrome[check, lane]
        for slot in range(check_offsets[check], check_offsets[check + 1]):
            variable = check_variables[slot]
            for lane in range(lanes):
                parity[check, lane] ^= hard[variable, lane]
        for lane in range(lanes):
            unsatisfied[lane] += parity[check, lane]


# Per-shot priors from heralds (`qec.decoders.heralds`). The decoders' kernels take `heralds`: None, or the tuple
# (fired, herald_offsets, herald_columns, heralded_weights, static_weights):
#   fired: uint8 (shots, ceil(num_heralds / 8)), the fired heralds, bit-packed little-endian (`Heralds.split`);
#   herald_offsets: int64 (num_heralds + 1,), CSR offsets into herald_columns (int64), the columns of each herald;
#   heralded_weights: float64 (num_variables,), each heralded column's weight log((1 - p) / p) given its herald;
#   static_weights: float64 (num_variables,), the kernel's `weights`: every heralded column EXCLUDED_WEIGHT.
# With None a kernel decodes as it always has, on the shared 1-D `weights`. With heralds it decodes on per-shot
# weights (`shot_weights`: 1-D for a shot at a time, `lanes_weights`: (num_variables, lanes) in lanes), which
# `set_shot_priors` sets by writing only the columns of the shot's fired heralds and putting back those of the
# previous shot: a shot's set-up costs its fired heralds' columns (and a scan of its `fired` bytes), not a pass over
# the columns. The helpers are resolved when Numba types the caller (by the type of `heralds` and the number of
# dimensions of `weights`), so the unheralded kernels compile to exactly what they were.

EXCLUDED_WEIGHT = 690.7755278982137  # log((1 - p) / p) at p = 1e-300: a column that cannot be in error this shot


def _is_none(value) -> bool:
    return isinstance(value, (numba.types.NoneType, numba.types.Omitted))


def prior(weights: np.ndarray, variable: int, lane: int) -> float:
    """A variable's prior weight in `lane`: weights[variable] (shared, 1-D) or weights[variable, lane] (per lane).

    >>> float(prior(np.array([1.5, 2.5]), 1, 7)), float(prior(np.array([[1.0, 2.0]]), 0, 1))
    (2.5, 2.0)
    """
    return weights[variable] if weights.ndim == 1 else weights[variable, lane]


@numba.extending.overload(prior, inline="always")
def _prior(weights, variable, lane):
    if weights.ndim == 1:
        return lambda weights, variable, lane: weights[variable]
    return lambda weights, variable, lane: weights[variable, lane]


def shot_weights(weights: np.ndarray, heralds) -> np.ndarray:
    """The weights a batch decoded a shot at a time uses: `weights` itself without heralds, else a copy each shot
    sets (`set_shot_priors`)."""
    return weights if heralds is None else weights.copy()


@numba.extending.overload(shot_weights)
def _shot_weights(weights, heralds):
    if _is_none(heralds):
        return lambda weights, heralds: weights
    return lambda weights, heralds: weights.copy()


def lanes_weights(weights: np.ndarray, heralds, lanes: int) -> np.ndarray:
    """The weights a batch decoded in lanes uses: `weights` itself without heralds, else float64 (num_variables,
    lanes), every column `weights`, which each lane's shot sets (`set_shot_priors`)."""
    return weights if heralds is None else np.repeat(weights.reshape(-1, 1), lanes, axis=1)


@numba.extending.overload(lanes_weights)
def _lanes_weights(weights, heralds, lanes):
    if _is_none(heralds):
        return lambda weights, heralds, lanes: weights

    def tiled(weights, heralds, lanes):
        out = np.empty((weights.shape[0], lanes), dtype=np.float64)
        for variable in range(weights.shape[0]):
            out[variable, :] = weights[variable]
        return out

    return tiled


def _set_prior(weights: np.ndarray, variable: int, lane: int, value: float) -> None:
    if weights.ndim == 1:
        weights[variable] = value
    else:
        weights[variable, lane] = value


@numba.extending.overload(_set_prior, inline="always")
def _set_prior_overload(weights, variable, lane, value):
    if weights.ndim == 1:

        def shared(weights, variable, lane, value):
            weights[variable] = value

        return shared

    def per_lane(weights, variable, lane, value):
        weights[variable, lane] = value

    return per_lane


@numba.njit(cache=True)
def _write_fired(
    weights: np.ndarray, lane: int, fired: np.ndarray, offsets: np.ndarray, columns: np.ndarray, source: np.ndarray
) -> None:
    """Sets the prior in `lane` of every column of the heralds set in `fired` (uint8, bit-packed) to source[column]."""
    for byte_index in range(fired.shape[0]):
        byte = fired[byte_index]
        if byte == 0:
            continue
        for bit in range(8):
            if (byte >> bit) & 1:
                herald = byte_index * 8 + bit
                for index in range(offsets[herald], offsets[herald + 1]):
                    column = columns[index]
                    _set_prior(weights, column, lane, source[column])


def set_shot_priors(weights: np.ndarray, lane: int, heralds, shot: int, previous_shot: int) -> None:
    """Gives `lane` of `weights` (1-D: `lane` is ignored) the priors of `shot`: the columns of `previous_shot`'s
    fired heralds (-1: none) back to their static weight, then those of `shot`'s fired heralds their weight given
    the herald. Nothing without heralds.

    >>> weights = np.array([1.0, EXCLUDED_WEIGHT, EXCLUDED_WEIGHT])  # column 0 unheralded, 1 and 2 of heralds 0, 1
    >>> heralds = (np.array([[0b01], [0b10]], dtype=np.uint8), np.array([0, 1, 2]), np.array([1, 2]),
    ...            np.array([0.0, -0.5, 0.25]), weights.copy())
    >>> set_shot_priors(weights, 0, heralds, 1, -1); weights.tolist()
    [1.0, 690.7755278982137, 0.25]
    >>> set_shot_priors(weights, 0, heralds, 0, 1); weights.tolist()
    [1.0, -0.5, 690.7755278982137]
    """
    if heralds is None:
        return
    fired, offsets, columns, heralded_weights, static_weights = heralds
    if previous_shot >= 0:
        _write_fired(weights, lane, fired[previous_shot], offsets, columns, static_weights)
    _write_fired(weights, lane, fired[shot], offsets, columns, heralded_weights)


@numba.extending.overload(set_shot_priors, inline="always")
def _set_shot_priors(weights, lane, heralds, shot, previous_shot):
    if _is_none(heralds):
        return lambda weights, lane, heralds, shot, previous_shot: None

    def impl(weights, lane, heralds, shot, previous_shot):
        fired, offsets, columns, heralded_weights, static_weights = heralds
        if previous_shot >= 0:
            _write_fired(weights, lane, fired[previous_shot], offsets, columns, static_weights)
        _write_fired(weights, lane, fired[shot], offsets, columns, heralded_weights)

    return impl


def lane_weights(weights: np.ndarray, lane: int, out: np.ndarray) -> np.ndarray:
    """A shot's 1-D weights: `weights` itself when shared (1-D), else its column `lane` copied into `out`."""
    if weights.ndim == 1:
        return weights
    out[:] = weights[:, lane]
    return out


@numba.extending.overload(lane_weights, inline="always")
def _lane_weights(weights, lane, out):
    if weights.ndim == 1:
        return lambda weights, lane, out: weights

    def copied(weights, lane, out):
        for variable in range(weights.shape[0]):
            out[variable] = weights[variable, lane]
        return out

    return copied

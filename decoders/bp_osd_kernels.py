"""Numba kernels of BP+OSD: scaled min-sum belief propagation, then ordered-statistics decoding.

The check matrix comes twice: sparse, as message lists for BP, and dense, as bit-packed rows for the
Gaussian elimination of OSD. One call decodes a whole bit-packed batch; work arrays are allocated once
per call. `decode_batch` reads as the algorithm's steps, each a small function inlined into it (all
but `_argsort_into`, a heapsort):

1. `_read_syndrome`: the shot's detection events, unpacked.
2. `_belief_propagation`: min-sum message passing, each iteration a `_check_update` and a
   `_variable_update` (with the hard decision, and the count of checks it leaves unexplained kept
   up to date where it flips: BP has converged when none is left). Messages to checks are kept in
   check order, to variables in variable order (the layout of `relay_kernels` and IBM's relay-bp).
3. Where BP does not converge: `_argsort_into` orders the columns by BP's posterior,
   `_gaussian_elimination` finds the most reliable information set, and the OSD sweep picks the
   correction: OSD-0 (`_osd_solution` with no flips) or OSD-CS (`_flip_gains`, then
   `_combination_sweep` over single columns and pairs).
4. `_flip_observables`: the correction's observables, xor-ed into the shot's prediction.

>>> import numpy as np
>>> from qec.decoders.bp_osd_kernels import decode_batch
>>> # repetition code of 3 bits: checks (0,1) and (1,2); bit 2 flips observable 0
>>> check_offsets = np.array([0, 2, 4]); check_messages = np.array([0, 1, 2, 3])
>>> check_variables = np.array([0, 1, 1, 2]); variable_offsets = np.array([0, 1, 3, 4])
>>> message_slots = np.array([0, 1, 2, 3]); message_checks = np.array([0, 0, 1, 1])
>>> weights = np.full(3, np.log(0.9 / 0.1))
>>> rows = np.array([[0b011], [0b110]], dtype=np.uint64)
>>> observables = np.array([[0], [0], [1]], dtype=np.uint8)
>>> shots = np.array([[0b10], [0b01]], dtype=np.uint8)
>>> decode_batch(shots, check_offsets, check_messages, check_variables, variable_offsets, message_slots,
...              message_checks, weights, rows, observables, 20, 1.0, 0)[:, 0].tolist()
[1, 0]
"""

from __future__ import annotations

import numba
import numpy as np

NO_OSD = -1


@numba.njit(cache=True)
def decode_batch(
    detection_events: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    check_variables: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    message_checks: np.ndarray,
    weights: np.ndarray,
    packed_rows: np.ndarray,
    column_observables: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    osd_order: int,
) -> np.ndarray:
    """BP (+ OSD where BP does not converge) for every shot of the batch.

    Min-sum BP, parallel schedule: a check sends each of its variables the product of the signs and
    `scaling_factor` times the smallest magnitude of the other incoming messages, signed by its
    syndrome bit. BP stops when the hard decision (a posterior <= 0 is an error, as in ldpc)
    reproduces the syndrome. Otherwise, with
    `osd_order >= 0`, columns are sorted from most to least likely in error by BP's posterior, the
    first independent ones (found by Gaussian elimination over GF(2)) are solved for, and with
    `osd_order > 0` the combination sweep (OSD-CS) also tries every single other column and every pair
    among the first `osd_order` others, keeping the least-weight solution.

    Args:
        detection_events: uint8 (shots, ceil(num_checks / 8)), bit-packed little-endian.
        check_offsets: uint32 (or any int) (num_checks + 1,), CSR offsets into `check_messages`.
        check_messages: int (num_messages,), message indices of each check; messages are numbered
            column by column (as `dem_arrays.tanner_graph` numbers them), so they are sorted by variable.
        check_variables: int (num_messages,), the variable of each of `check_messages`.
        variable_offsets: int (num_variables + 1,), the messages of variable j are
            variable_offsets[j] .. variable_offsets[j + 1] - 1.
        message_slots: int (num_messages,), the slot of each message in the check lists
            (check_messages[message_slots[m]] == m).
        message_checks: int (num_messages,), the check (row) of each message.
        weights: float64 (num_variables,), prior log-likelihood ratios log((1 - p) / p).
        packed_rows: uint64 (num_checks, ceil(num_variables / 64)), the check matrix, bit j % 64 of word
            j // 64 for column j.
        column_observables: uint8 (num_variables, observable_bytes), bit-packed observables per column.
        max_iterations: BP iterations at most.
        scaling_factor: min-sum scaling factor in (0, 1].
        osd_order: NO_OSD (-1) for BP only, 0 for OSD-0, > 0 for OSD-CS of that order.

    Returns:
        uint8 (shots, observable_bytes): the predicted observable flips, bit-packed little-endian.
    """
    shots = detection_events.shape[0]
    num_checks = check_offsets.shape[0] - 1
    num_variables = variable_offsets.shape[0] - 1
    num_messages = check_messages.shape[0]
    observable_bytes = column_observables.shape[1]
    predictions = np.zeros((shots, observable_bytes), dtype=np.uint8)

    # BP work space.
    syndrome = np.zeros(num_checks, dtype=np.uint8)
    to_check = np.empty(num_messages, dtype=np.float64)
    to_variable = np.empty(num_messages, dtype=np.float64)
    posterior = np.empty(num_variables, dtype=np.float64)
    hard = np.zeros(num_variables, dtype=np.uint8)
    parity = np.zeros(num_checks, dtype=np.uint8)
    # OSD work space.
    order = np.empty(num_variables, dtype=np.int64)
    rows = np.empty_like(packed_rows)
    reduced_syndrome = np.empty(num_checks, dtype=np.uint8)
    pivot_columns = np.empty(num_checks, dtype=np.int64)
    is_pivot = np.zeros(num_variables, dtype=np.bool_)
    flip_gain = np.empty(num_variables, dtype=np.float64)
    row_gain = np.empty(num_checks, dtype=np.float64)
    sweep = np.empty(max(osd_order, 0), dtype=np.int64)
    solution = np.zeros(num_variables, dtype=np.uint8)

    for shot in range(shots):
        defects = _read_syndrome(detection_events[shot], syndrome)
        if defects == 0:
            continue
        converged = _belief_propagation(
            syndrome,
            defects,
            check_offsets,
            check_messages,
            check_variables,
            variable_offsets,
            message_slots,
            message_checks,
            weights,
            max_iterations,
            scaling_factor,
            to_check,
            to_variable,
            posterior,
            hard,
            parity,
        )
        if converged or osd_order == NO_OSD:
            _flip_observables(hard, column_observables, predictions[shot])
            continue

        # OSD: eliminate columns from the likeliest to be in error, keeping the first independent ones.
        _argsort_into(posterior, order)
        rank = _gaussian_elimination(order, packed_rows, syndrome, rows, reduced_syndrome, pivot_columns, is_pivot)
        best_first = -1
        best_second = -1
        if osd_order > 0:
            _flip_gains(rows, reduced_syndrome, pivot_columns, is_pivot, rank, weights, flip_gain, row_gain)
            best_first, best_second = _combination_sweep(
                order, rows, is_pivot, rank, flip_gain, row_gain, osd_order, sweep
            )
        _osd_solution(rows, reduced_syndrome, pivot_columns, rank, best_first, best_second, solution)
        _flip_observables(solution, column_observables, predictions[shot])
        _reset_osd(pivot_columns, rank, best_first, best_second, solution, is_pivot)
    return predictions


@numba.njit(cache=True, inline="always")
def _read_syndrome(detection_events: np.ndarray, syndrome: np.ndarray) -> int:
    """Unpacks one shot's bit-packed uint8 `detection_events` into `syndrome`; returns the number of defects.

    `syndrome` is uint8 (num_checks,), one bit per entry.
    """
    defects = 0
    for check in range(syndrome.shape[0]):
        bit = (detection_events[check >> 3] >> (check & 7)) & 1
        syndrome[check] = bit
        defects += bit
    return defects


# No reference counting here (`_nrt=False`), and inlined where it is called by LLVM (`forceinline`):
# its steps are inlined, and an inlined function's array arguments would otherwise be reference-counted
# at every iteration. It allocates nothing.
@numba.njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]  # _nrt: not in the stubs
def _belief_propagation(
    syndrome: np.ndarray,
    defects: int,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    check_variables: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    message_checks: np.ndarray,
    weights: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    to_check: np.ndarray,
    to_variable: np.ndarray,
    posterior: np.ndarray,
    hard: np.ndarray,
    parity: np.ndarray,
) -> bool:
    """Min-sum BP from the priors `weights`, parallel schedule; True once the hard decision reproduces `syndrome`.

    Messages to checks are kept in check order (`to_check[slot]`), messages to variables in variable
    order (`to_variable[message]`): each update reads its input in order and scatters its output once.
    `parity` (uint8 (num_checks,)) follows the checks the hard decision leaves unexplained, updated
    only where a hard decision flips, so convergence is a counter's test, not a pass over the checks.
    Leaves BP's last posterior log-likelihood ratios in `posterior` and its hard decision in `hard`.
    """
    for slot in range(check_variables.shape[0]):
        to_check[slot] = weights[check_variables[slot]]
    for variable in range(hard.shape[0]):
        hard[variable] = 0
    for check in range(parity.shape[0]):
        parity[check] = syndrome[check]
    unsatisfied = defects
    for _ in range(max_iterations):
        _check_update(syndrome, check_offsets, check_messages, scaling_factor, to_check, to_variable)
        unsatisfied = _variable_update(
            weights,
            variable_offsets,
            message_slots,
            message_checks,
            to_variable,
            to_check,
            posterior,
            hard,
            parity,
            unsatisfied,
        )
        if unsatisfied == 0:
            return True
    return False


@numba.njit(cache=True, inline="always")
def _check_update(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    scaling_factor: float,
    to_check: np.ndarray,
    to_variable: np.ndarray,
) -> None:
    """Every check's messages to its variables: the others' sign product, its syndrome bit's sign, and
    `scaling_factor` times the smallest magnitude among the others (min-sum; `to_check` in check order).

    The smallest magnitude goes back as the second smallest (the same number where two tie)."""
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
def _variable_update(
    weights: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    message_checks: np.ndarray,
    to_variable: np.ndarray,
    to_check: np.ndarray,
    posterior: np.ndarray,
    hard: np.ndarray,
    parity: np.ndarray,
    unsatisfied: int,
) -> int:
    """Every variable's posterior (prior plus incoming messages), hard decision, and messages to its checks.

    Where a hard decision flips, its checks' `parity` flips and `unsatisfied`, the count of checks left
    unexplained, follows; returns the new count.
    """
    for variable in range(variable_offsets.shape[0] - 1):
        start = variable_offsets[variable]
        stop = variable_offsets[variable + 1]
        total = weights[variable]
        for message in range(start, stop):
            total += to_variable[message]
        posterior[variable] = total
        flipped = np.uint8(total <= 0)  # ties count as flipped, as in ldpc
        if flipped != hard[variable]:
            hard[variable] = flipped
            for message in range(start, stop):
                check = message_checks[message]
                parity[check] ^= 1
                unsatisfied += 1 if parity[check] else -1
        for message in range(start, stop):
            to_check[message_slots[message]] = total - to_variable[message]
    return unsatisfied


@numba.njit(cache=True)
def _argsort_into(keys: np.ndarray, order: np.ndarray) -> None:
    """Writes into `order` the indices of `keys` in ascending order (heapsort, no allocation)."""
    count = keys.shape[0]
    for index in range(count):
        order[index] = index
    # Build a max-heap, then move the largest to the end repeatedly.
    for start in range(count // 2 - 1, -1, -1):
        _sift_down(keys, order, start, count)
    for end in range(count - 1, 0, -1):
        order[0], order[end] = order[end], order[0]
        _sift_down(keys, order, 0, end)


@numba.njit(cache=True)
def _sift_down(keys: np.ndarray, order: np.ndarray, start: int, end: int) -> None:
    """Moves order[start] down the max-heap order[:end] (by key) to where it belongs."""
    root = start
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and keys[order[child + 1]] > keys[order[child]]:
            child += 1
        if keys[order[child]] <= keys[order[root]]:
            return
        order[root], order[child] = order[child], order[root]
        root = child


@numba.njit(cache=True, inline="always")
def _gaussian_elimination(
    order: np.ndarray,
    packed_rows: np.ndarray,
    syndrome: np.ndarray,
    rows: np.ndarray,
    reduced_syndrome: np.ndarray,
    pivot_columns: np.ndarray,
    is_pivot: np.ndarray,
) -> int:
    """Row-reduces the check matrix over GF(2), columns taken in `order`; returns the rank.

    Copies `packed_rows` into `rows` and `syndrome` into `reduced_syndrome` and reduces both; the
    first independent columns (the information set) become pivots: row r's pivot is pivot_columns[r]
    for r < rank, and is_pivot marks them.
    """
    num_checks, words = rows.shape
    rows[:, :] = packed_rows
    reduced_syndrome[:] = syndrome
    rank = 0
    for column in order:
        if rank == num_checks:
            break
        word = column >> 6
        mask = np.uint64(1) << np.uint64(column & 63)
        pivot = -1
        for row in range(rank, num_checks):
            if rows[row, word] & mask:
                pivot = row
                break
        if pivot == -1:
            continue
        if pivot != rank:
            for index in range(words):
                rows[pivot, index], rows[rank, index] = rows[rank, index], rows[pivot, index]
            reduced_syndrome[pivot], reduced_syndrome[rank] = reduced_syndrome[rank], reduced_syndrome[pivot]
        for row in range(num_checks):
            if row != rank and rows[row, word] & mask:
                for index in range(words):
                    rows[row, index] ^= rows[rank, index]
                reduced_syndrome[row] ^= reduced_syndrome[rank]
        pivot_columns[rank] = column
        is_pivot[column] = True
        rank += 1
    return rank


@numba.njit(cache=True, inline="always")
def _flip_gains(
    rows: np.ndarray,
    reduced_syndrome: np.ndarray,
    pivot_columns: np.ndarray,
    is_pivot: np.ndarray,
    rank: int,
    weights: np.ndarray,
    flip_gain: np.ndarray,
    row_gain: np.ndarray,
) -> None:
    """How much the OSD-0 solution's weight changes when one free column is flipped on top of it.

    OSD-0 sets the pivots to the reduced syndrome. Flipping a free column t toggles the pivots of the
    rows holding t: weight change flip_gain[t] = w_t + sum of row_gain over those rows, where
    row_gain[r] is -w or +w of row r's pivot as OSD-0 sets it or not.
    """
    words = rows.shape[1]
    for row in range(rank):
        pivot_weight = weights[pivot_columns[row]]
        row_gain[row] = -pivot_weight if reduced_syndrome[row] else pivot_weight
    for column in range(flip_gain.shape[0]):
        flip_gain[column] = weights[column]
    for row in range(rank):
        for index in range(words):
            word_bits = rows[row, index]
            while word_bits:
                column = index * 64 + _lowest_bit(word_bits)
                word_bits &= word_bits - np.uint64(1)
                if not is_pivot[column]:
                    flip_gain[column] += row_gain[row]


@numba.njit(cache=True, inline="always")
def _combination_sweep(
    order: np.ndarray,
    rows: np.ndarray,
    is_pivot: np.ndarray,
    rank: int,
    flip_gain: np.ndarray,
    row_gain: np.ndarray,
    osd_order: int,
    sweep: np.ndarray,
) -> tuple[int, int]:
    """OSD-CS: the best of every single free column and every pair among the first `osd_order` free ones.

    Returns the one or two free columns to flip on top of OSD-0 (-1 for none), those that lower its
    weight most; (-1, -1) where none lowers it. `sweep` is int64 (osd_order,) work space.
    """
    best_first = -1
    best_second = -1
    best_gain = 0.0
    num_sweep = 0
    for column in order:
        if is_pivot[column]:
            continue
        if flip_gain[column] < best_gain:
            best_gain = flip_gain[column]
            best_first = column
        if num_sweep < osd_order:
            sweep[num_sweep] = column
            num_sweep += 1
    for first in range(num_sweep):
        column_a = sweep[first]
        word_a = column_a >> 6
        mask_a = np.uint64(1) << np.uint64(column_a & 63)
        for second in range(first + 1, num_sweep):
            column_b = sweep[second]
            word_b = column_b >> 6
            mask_b = np.uint64(1) << np.uint64(column_b & 63)
            gain = flip_gain[column_a] + flip_gain[column_b]
            for row in range(rank):
                if rows[row, word_a] & mask_a and rows[row, word_b] & mask_b:
                    gain -= 2.0 * row_gain[row]
            if gain < best_gain:
                best_gain = gain
                best_first = column_a
                best_second = column_b
    return best_first, best_second


@numba.njit(cache=True, inline="always")
def _osd_solution(
    rows: np.ndarray,
    reduced_syndrome: np.ndarray,
    pivot_columns: np.ndarray,
    rank: int,
    best_first: int,
    best_second: int,
    solution: np.ndarray,
) -> None:
    """Sets `solution` (uint8 (num_variables,), zero on entry) to OSD-0's with the free columns
    `best_first` and `best_second` (-1 for none) flipped: the pivots solve the reduced syndrome."""
    for row in range(rank):
        bit = reduced_syndrome[row]
        for column in (best_first, best_second):
            if column >= 0 and rows[row, column >> 6] & (np.uint64(1) << np.uint64(column & 63)):
                bit ^= 1
        solution[pivot_columns[row]] = bit
    for column in (best_first, best_second):
        if column >= 0:
            solution[column] = 1


@numba.njit(cache=True, inline="always")
def _reset_osd(
    pivot_columns: np.ndarray, rank: int, best_first: int, best_second: int, solution: np.ndarray, is_pivot: np.ndarray
) -> None:
    """Zeroes what `_gaussian_elimination` and `_osd_solution` set in `solution` and `is_pivot`, for the next shot."""
    for row in range(rank):
        solution[pivot_columns[row]] = 0
        is_pivot[pivot_columns[row]] = False
    for column in (best_first, best_second):
        if column >= 0:
            solution[column] = 0


@numba.njit(cache=True, inline="always")
def _flip_observables(errors: np.ndarray, column_observables: np.ndarray, prediction: np.ndarray) -> None:
    """Xors into `prediction` (uint8 (observable_bytes,)) the observables of every column where `errors` is set."""
    for variable in range(errors.shape[0]):
        if errors[variable]:
            for byte_index in range(prediction.shape[0]):
                prediction[byte_index] ^= column_observables[variable, byte_index]


@numba.njit(cache=True)
def _lowest_bit(word: np.uint64) -> int:
    """Index of the lowest set bit of a non-zero 64-bit word."""
    index = 0
    for shift in (32, 16, 8, 4, 2, 1):
        if word & ((np.uint64(1) << np.uint64(shift)) - np.uint64(1)) == 0:
            word >>= np.uint64(shift)
            index += shift
    return index

"""Numba kernels of BP+OSD: scaled min-sum belief propagation, then ordered-statistics decoding.

The check matrix comes twice: sparse, as message lists for BP, and dense, as bit-packed rows for the
Gaussian elimination of OSD. One call decodes a whole bit-packed batch; work arrays are allocated once
per call. A batch of fewer than LANES shots is decoded a shot at a time (`_decode_one_by_one`, the least
latency); a larger one LANES shots side by side (`_decode_in_lanes`, about 2.5x the throughput: each BP
step is one vectorised loop over the lanes), with the same predictions, bit for bit. Per shot, the steps
(small functions inlined where they are called, but for `_argsort_into`, a radix sort, and the lane updates):

1. `read_syndrome`: the shot's detection events, unpacked.
2. `_belief_propagation`: min-sum message passing, each iteration a `check_update` and a
   `_variable_update` (with the hard decision, and the count of checks it leaves unexplained kept
   up to date where it flips: BP has converged when none is left). Messages to checks are kept in
   check order, to variables in variable order (the layout of `relay_kernels` and IBM's relay-bp).
   In lanes, `check_update_lanes` and `_variable_update_lanes` do the same for every lane, and
   `count_unsatisfied_lanes` counts each lane's unexplained checks afresh after every iteration.
3. Where BP does not converge, `_ordered_statistics`: `_argsort_into` orders the columns by BP's
   posterior, `_gaussian_elimination` finds the most reliable information set, and the OSD sweep picks the
   correction: OSD-0 (`_osd_solution` with no flips) or OSD-CS (`_flip_gains`, then
   `_combination_sweep` over single columns and pairs).
4. With undetectable sets (`bp_osd.BpOsdDecoder`'s `descent`), `_descend`: the correction, OSD's or converged
   BP's (`_converged_solution`), flips any set that makes it lighter, until none does.
5. `flip_observables`: the correction's observables, xor-ed into the shot's prediction.

The steps Relay-BP shares (`read_syndrome`, `check_update`, `check_update_lanes`, `count_unsatisfied_lanes`,
`flip_observables`, ...) are in `bp_kernels`.

>>> import numpy as np
>>> from qec.decoders.bp_osd_kernels import decode_batch
>>> # repetition code of 3 bits: checks (0,1) and (1,2); bit 2 flips observable 0
>>> check_offsets = np.array([0, 2, 4]); check_messages = np.array([0, 1, 2, 3])
>>> check_variables = np.array([0, 1, 1, 2]); variable_offsets = np.array([0, 1, 3, 4])
>>> message_slots = np.array([0, 1, 2, 3]); message_checks = np.array([0, 0, 1, 1])
>>> weights = np.full(3, np.log(0.9 / 0.1))
>>> matrix = np.array([[1, 1, 0], [0, 1, 1]], dtype=np.uint8)
>>> rows, columns = packed_words(matrix), packed_words(matrix.T)
>>> observables = np.array([[0], [0], [1]], dtype=np.uint8)
>>> shots = np.array([[0b10], [0b01]], dtype=np.uint8)
>>> predictions, corrections_weights, went_to_osd = decode_batch(shots, check_offsets, check_messages,
...     check_variables, variable_offsets, message_slots, message_checks, weights, rows, columns, observables, 20,
...     1.0, 0)
>>> predictions[:, 0].tolist(), went_to_osd.tolist()
([1, 0], [False, False])
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from qec.decoders.bp_kernels import (
    LANES,
    MESSAGE_DTYPE,
    check_update,
    check_update_lanes,
    count_unsatisfied_lanes,
    flip_observables,
    lane_weights,
    lane_work_space,
    lanes_weights,
    prior,
    read_syndrome,
    restart_lane,
    set_shot_priors,
    shot_weights,
)

NO_OSD = -1
RADIX_BITS = 11  # `_argsort_into`'s digit: three passes over a float32's 32 bits
RADIX_MASK = (1 << RADIX_BITS) - 1


def packed_words(dense: np.ndarray) -> np.ndarray:
    """uint8 0/1 (n, m) -> uint64 (n, ceil(m / 64)): bit j % 64 of word j // 64 is dense[:, j]. The kernels take a
    check matrix as its rows (`packed_rows`) and as its columns (`packed_columns`, packed from the transpose).

    >>> packed_words(np.array([[1, 0, 1], [0, 1, 0]], dtype=np.uint8)).tolist()
    [[5], [2]]
    >>> packed_words(np.zeros((2, 0), dtype=np.uint8)).shape  # a DEM without errors: no columns
    (2, 0)
    """
    count, width = dense.shape
    padded = np.zeros((count, 64 * ((width + 63) // 64)), dtype=np.uint8)
    padded[:, :width] = dense
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64).reshape(count, padded.shape[1] // 64)


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
    packed_columns: np.ndarray,
    column_observables: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    osd_order: int,
    layered: bool = False,
    heralds: tuple | None = None,
    undetectable: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BP (+ OSD where BP does not converge) for every shot of the batch, each correction's weight, and which
    shots went to OSD.

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
            j // 64 for column j (`packed_words`).
        packed_columns: uint64 (num_variables, ceil(num_checks / 64)), the same matrix by columns, bit i % 64 of
            word i // 64 for row i (`packed_words` of the transpose): OSD's elimination finds pivots in it.
        column_observables: uint8 (num_variables, observable_bytes), bit-packed observables per column.
        max_iterations: BP iterations at most.
        scaling_factor: min-sum scaling factor in (0, 1].
        osd_order: NO_OSD (-1) for BP only, 0 for OSD-0, > 0 for OSD-CS of that order.
        layered: the layered (check-serial) schedule instead of the parallel one: checks are taken one at a
            time, each sending its messages from the posteriors its earlier checks in the iteration have already
            updated (`_layered_iteration`), so news travels the whole graph in one iteration.
        heralds: None, or per-shot priors from fired heralds (`bp_kernels`: (fired, herald_offsets, herald_columns,
            heralded_weights, static_weights), `weights` being static_weights): each shot decodes with the
            weights of its own fired heralds' columns, every other heralded column EXCLUDED_WEIGHT (sorted last by
            OSD, so never chosen where the present columns explain the syndrome).
        undetectable: the sets of columns OSD's correction descends by (`_descend`), as the four arrays of
            `undetectable.undetectable_sets`; None: none.

    Returns:
        uint8 (shots, observable_bytes): the predicted observable flips, bit-packed little-endian; and float64
        (shots,): the weight sum_j e_j weights_j of each shot's correction e (0 for a shot without defects); and
        bool (shots,): the shots BP left unconverged and OSD solved.
    """
    shots = detection_events.shape[0]
    predictions = np.zeros((shots, column_observables.shape[1]), dtype=np.uint8)
    solution_weights = np.zeros(shots, dtype=np.float64)
    to_osd = np.zeros(shots, dtype=np.bool_)
    if undetectable is None:
        no_sets = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        osd = _osd_workspace(packed_rows, packed_columns, osd_order, no_sets + no_sets)
    else:
        osd = _osd_workspace(packed_rows, packed_columns, osd_order, undetectable)
    scale: float = np.float32(scaling_factor)  # type: ignore[assignment]  # BP is float32 (`bp_kernels.MESSAGE_DTYPE`)
    graph = (check_offsets, check_messages, check_variables, variable_offsets, message_slots, message_checks)
    if shots >= LANES:
        _decode_in_lanes(
            detection_events,
            graph,
            weights,
            packed_rows,
            column_observables,
            max_iterations,
            scale,
            osd_order,
            osd,
            predictions,
            layered,
            solution_weights,
            to_osd,
            heralds,
        )
    else:
        _decode_one_by_one(
            detection_events,
            graph,
            weights,
            packed_rows,
            column_observables,
            max_iterations,
            scale,
            osd_order,
            osd,
            predictions,
            layered,
            solution_weights,
            to_osd,
            heralds,
        )
    return predictions, solution_weights, to_osd


@numba.njit(cache=True)
def _decode_one_by_one(
    detection_events: np.ndarray,
    graph: tuple,
    weights: np.ndarray,
    packed_rows: np.ndarray,
    column_observables: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    osd_order: int,
    osd: tuple,
    predictions: np.ndarray,
    layered: bool,
    solution_weights: np.ndarray,
    to_osd: np.ndarray,
    heralds: tuple | None,
) -> None:
    """`decode_batch` a shot at a time (for small batches: the least latency per shot)."""
    check_offsets, check_messages, check_variables, variable_offsets, message_slots, message_checks = graph
    num_checks = check_offsets.shape[0] - 1
    num_variables = variable_offsets.shape[0] - 1
    num_messages = check_messages.shape[0]
    syndrome = np.zeros(num_checks, dtype=np.uint8)
    to_check = np.empty(num_messages, dtype=MESSAGE_DTYPE)
    to_variable = np.empty(num_messages, dtype=MESSAGE_DTYPE)
    posterior = np.empty(num_variables, dtype=MESSAGE_DTYPE)
    hard = np.zeros(num_variables, dtype=np.uint8)
    parity = np.zeros(num_checks, dtype=np.uint8)
    static_weights = weights
    weights = shot_weights(static_weights, heralds)  # itself without heralds, else a copy each shot sets
    previous_shot = -1
    for shot in range(detection_events.shape[0]):
        defects = read_syndrome(detection_events[shot], syndrome)
        if defects == 0:
            continue
        set_shot_priors(weights, 0, heralds, shot, previous_shot)
        previous_shot = shot
        if layered:
            converged = _layered_propagation(
                syndrome,
                defects,
                check_offsets,
                check_variables,
                variable_offsets,
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
        else:
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
            solution_weights[shot] = _converged_solution(hard, weights, column_observables, osd, predictions[shot])
        else:
            to_osd[shot] = True
            solution_weights[shot] = _ordered_statistics(
                posterior, syndrome, weights, packed_rows, column_observables, osd_order, osd, predictions[shot]
            )


@numba.njit(cache=True)
def _decode_in_lanes(
    detection_events: np.ndarray,
    graph: tuple,
    weights: np.ndarray,
    packed_rows: np.ndarray,
    column_observables: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    osd_order: int,
    osd: tuple,
    predictions: np.ndarray,
    layered: bool,
    solution_weights: np.ndarray,
    to_osd: np.ndarray,
    heralds: tuple | None,
) -> None:
    """`decode_batch` LANES shots side by side, for throughput: every message array has a column per lane, so
    each BP step is one vectorised loop over the lanes (message index outer, lane inner). A lane whose shot
    converges or runs out of iterations hands it to the observables (or to OSD) and takes the batch's next
    shot with defects; each shot sees exactly the arithmetic of `_belief_propagation`, so predictions are
    those of `_decode_one_by_one`."""
    check_offsets, check_messages, check_variables, variable_offsets, message_slots, _ = graph
    num_checks = check_offsets.shape[0] - 1
    num_variables = variable_offsets.shape[0] - 1
    num_messages = check_messages.shape[0]
    syndrome = np.zeros((num_checks, LANES), dtype=np.uint8)
    to_check = np.zeros((num_messages, LANES), dtype=MESSAGE_DTYPE)  # (free lanes: no garbage)
    to_variable = np.empty((num_messages, LANES), dtype=MESSAGE_DTYPE)
    posterior = np.empty((num_variables, LANES), dtype=MESSAGE_DTYPE)
    hard = np.zeros((num_variables, LANES), dtype=np.uint8)
    parity = np.zeros((num_checks, LANES), dtype=np.uint8)
    unsatisfied = np.zeros(LANES, dtype=np.int64)
    iterations = np.zeros(LANES, dtype=np.int64)
    lane_shot = np.full(LANES, -1, dtype=np.int64)
    lane_work = lane_work_space(LANES)
    shot_syndrome = np.zeros(num_checks, dtype=np.uint8)
    shot_posterior = np.empty(num_variables, dtype=MESSAGE_DTYPE)
    shot_hard = np.zeros(num_variables, dtype=np.uint8)
    static_weights = weights
    weights = lanes_weights(static_weights, heralds, LANES)  # itself without heralds, else a column per lane
    shot_weight_column = np.empty(num_variables, dtype=np.float64)
    lane_priors_of = np.full(LANES, -1, dtype=np.int64)  # the shot whose priors each lane's column holds
    next_shot = 0
    while True:
        for lane in range(LANES):
            if lane_shot[lane] < 0 and next_shot < detection_events.shape[0]:
                next_shot = _load_lane(
                    detection_events,
                    next_shot,
                    lane,
                    check_variables,
                    weights,
                    shot_syndrome,
                    syndrome,
                    to_check,
                    iterations,
                    lane_shot,
                    heralds,
                    lane_priors_of,
                )
                if layered and lane_shot[lane] >= 0:
                    _layered_restart_lane(weights, to_variable, posterior, lane)
        if lane_shot.max() < 0:
            return
        if layered:
            _layered_iteration_lanes(
                syndrome, check_offsets, check_variables, scaling_factor, to_check, to_variable, posterior, lane_work
            )
            _harden_lanes(posterior, hard)
        else:
            check_update_lanes(
                syndrome, check_offsets, check_messages, scaling_factor, to_check, to_variable, lane_work
            )
            _variable_update_lanes(weights, variable_offsets, message_slots, to_variable, to_check, posterior, hard)
        count_unsatisfied_lanes(syndrome, check_offsets, check_variables, hard, parity, unsatisfied)
        for lane in range(LANES):
            shot = lane_shot[lane]
            if shot < 0:
                continue
            iterations[lane] += 1
            if unsatisfied[lane] != 0 and iterations[lane] < max_iterations:
                continue
            shot_weights_here = lane_weights(weights, lane, shot_weight_column)
            if unsatisfied[lane] == 0 or osd_order == NO_OSD:
                shot_hard[:] = hard[:, lane]
                solution_weights[shot] = _converged_solution(
                    shot_hard, shot_weights_here, column_observables, osd, predictions[shot]
                )
            else:
                shot_posterior[:] = posterior[:, lane]
                shot_syndrome[:] = syndrome[:, lane]
                to_osd[shot] = True
                solution_weights[shot] = _ordered_statistics(
                    shot_posterior,
                    shot_syndrome,
                    shot_weights_here,
                    packed_rows,
                    column_observables,
                    osd_order,
                    osd,
                    predictions[shot],
                )
            lane_shot[lane] = -1


@numba.njit(cache=True, inline="always")
def _load_lane(
    detection_events: np.ndarray,
    next_shot: int,
    lane: int,
    check_variables: np.ndarray,
    weights: np.ndarray,
    shot_syndrome: np.ndarray,
    syndrome: np.ndarray,
    to_check: np.ndarray,
    iterations: np.ndarray,
    lane_shot: np.ndarray,
    heralds: tuple | None,
    lane_priors_of: np.ndarray,
) -> int:
    """Puts the first shot from `next_shot` on with defects into `lane`, BP's starting state; returns the shot
    after it (shots without defects predict nothing and are passed over). Where none is left, the lane stays
    free (`lane_shot` -1) with a zero syndrome: its arithmetic is wasted, and harmless. (Its hard decision and
    convergence count are not reset: every iteration writes them whole.)"""
    shots = detection_events.shape[0]
    syndrome[:, lane] = 0
    while next_shot < shots:
        shot = next_shot
        next_shot += 1
        defects = read_syndrome(detection_events[shot], shot_syndrome)
        if defects == 0:
            continue
        syndrome[:, lane] = shot_syndrome
        set_shot_priors(weights, lane, heralds, shot, lane_priors_of[lane])
        lane_priors_of[lane] = shot
        restart_lane(check_variables, weights, to_check, lane)
        iterations[lane] = 0
        lane_shot[lane] = shot
        break
    return next_shot


@numba.njit(cache=True)
def _osd_workspace(packed_rows: np.ndarray, packed_columns: np.ndarray, osd_order: int, undetectable: tuple) -> tuple:
    """OSD's work arrays, allocated once per batch: column order, reduced rows and syndrome, pivots, gains,
    the sweep's columns, the solution, the sort's and the elimination's work spaces (which hold the matrix's
    `packed_columns`, read only), and the descent's: the `undetectable` sets (read only), and the columns a
    correction has set (a list and a mark per column)."""
    num_checks = packed_rows.shape[0]
    num_variables, row_words = packed_columns.shape
    elimination = (
        packed_columns,
        np.empty_like(packed_rows),
        np.empty(num_checks, dtype=np.uint8),
        np.empty_like(packed_columns),
        np.empty(num_checks, dtype=np.int64),
        np.empty(row_words, dtype=np.uint64),
    )
    radix = (
        np.empty(num_variables, dtype=np.uint32),
        np.empty(num_variables, dtype=np.uint32),
        np.empty(num_variables, dtype=np.int64),
        np.empty(1 << RADIX_BITS, dtype=np.int64),
    )
    return (
        np.empty(num_variables, dtype=np.int64),
        np.empty_like(packed_rows),
        np.empty(num_checks, dtype=np.uint8),
        np.empty(num_checks, dtype=np.int64),
        np.zeros(num_variables, dtype=np.bool_),
        np.empty(num_variables, dtype=np.float64),
        np.empty(num_checks, dtype=np.float64),
        np.empty(max(osd_order, 0), dtype=np.int64),
        np.zeros(num_variables, dtype=np.uint8),
        radix,
        elimination,
        (undetectable, np.empty(num_variables, dtype=np.int64), np.zeros(num_variables, dtype=np.bool_)),
    )


@numba.njit(cache=True, inline="always")
def _ordered_statistics(
    posterior: np.ndarray,
    syndrome: np.ndarray,
    weights: np.ndarray,
    packed_rows: np.ndarray,
    column_observables: np.ndarray,
    osd_order: int,
    osd: tuple,
    prediction: np.ndarray,
) -> float:
    """OSD of one shot BP left unconverged, its correction's observables xor-ed into `prediction`: eliminate
    columns from the likeliest to be in error (by `posterior`), keeping the first independent ones. Returns the
    correction's weight (inf where no set of columns gives the syndrome)."""
    order, rows, reduced_syndrome, pivot_columns, is_pivot, flip_gain, row_gain, sweep, solution = osd[:9]
    radix, elimination, descent = osd[9], osd[10], osd[11]
    _argsort_into(posterior, order, radix)
    rank = _gaussian_elimination(
        order, packed_rows, syndrome, rows, reduced_syndrome, pivot_columns, is_pivot, elimination
    )
    consistent = True
    for row in range(rank, reduced_syndrome.shape[0]):
        if reduced_syndrome[row]:
            consistent = False  # no set of columns gives this syndrome: the correction explains only part of it
    best_first = -1
    best_second = -1
    if osd_order > 0:
        _flip_gains(rows, reduced_syndrome, pivot_columns, is_pivot, rank, weights, flip_gain, row_gain)
        best_first, best_second = _combination_sweep(order, rows, is_pivot, rank, flip_gain, row_gain, osd_order, sweep)
    _osd_solution(rows, reduced_syndrome, pivot_columns, rank, best_first, best_second, solution)
    weight = 0.0
    for row in range(rank):
        if solution[pivot_columns[row]]:
            weight += weights[pivot_columns[row]]
    for column in (best_first, best_second):
        if column >= 0:
            weight += weights[column]
    undetectable, listed, is_listed = descent
    count = 0
    if consistent and undetectable[0].shape[0] > 1:
        for row in range(rank + 2):
            column = pivot_columns[row] if row < rank else (best_first if row == rank else best_second)
            if column >= 0 and solution[column] and not is_listed[column]:
                is_listed[column] = True
                listed[count] = column
                count += 1
        taken, count = _descend(solution, weights, count, descent)
        weight -= taken
    flip_observables(solution, column_observables, prediction)
    _unlist(solution, count, descent)
    _reset_osd(pivot_columns, rank, best_first, best_second, solution, is_pivot)
    return weight if consistent else np.inf


@numba.njit(cache=True)
def _descend(solution: np.ndarray, weights: np.ndarray, count: int, descent: tuple) -> tuple[float, int]:
    """Makes OSD's correction lighter while it can: flips any of the `undetectable` sets (`undetectable_sets`:
    the syndrome stays) that weighs more inside the correction than outside it, until none does. Only a set
    with a column in the correction can, so the sets of each column the correction holds are tried. Every flip
    lightens the correction, so it ends. The correction's columns come listed (the first `count` of `descent`'s
    list, each marked); returns the weight taken off and how many are listed now (every column the correction has
    held: `_unlist` zeroes them for the next shot)."""
    undetectable, listed, is_listed = descent
    offsets, columns, column_offsets, column_sets = undetectable
    taken = 0.0
    lighter = True
    while lighter:
        lighter = False
        index = 0
        while index < count:
            column = listed[index]
            index += 1
            for entry in range(column_offsets[column], column_offsets[column + 1]):
                if not solution[column]:
                    break
                found = column_sets[entry]
                gain = 0.0
                for member in columns[offsets[found] : offsets[found + 1]]:
                    gain += weights[member] if solution[member] else -weights[member]
                if gain <= 1e-9:
                    continue
                taken += gain
                lighter = True
                for member in columns[offsets[found] : offsets[found + 1]]:
                    solution[member] ^= 1
                    if solution[member] and not is_listed[member]:
                        is_listed[member] = True
                        listed[count] = member
                        count += 1
    return taken, count


@numba.njit(cache=True, inline="always")
def _unlist(solution: np.ndarray, count: int, descent: tuple) -> None:
    """Zeroes the `count` columns listed in `descent` in `solution`, and their marks."""
    _, listed, is_listed = descent
    for index in range(count):
        solution[listed[index]] = 0
        is_listed[listed[index]] = False


@numba.njit(cache=True, inline="always")
def _converged_solution(
    hard: np.ndarray, weights: np.ndarray, column_observables: np.ndarray, osd: tuple, prediction: np.ndarray
) -> float:
    """BP's converged correction `hard`: its observables xor-ed into `prediction`, and its weight; with
    undetectable sets, after `_descend` (on OSD's solution array, so `hard` is left as BP's)."""
    solution, descent = osd[8], osd[11]
    undetectable, listed, is_listed = descent
    if undetectable[0].shape[0] <= 1:
        flip_observables(hard, column_observables, prediction)
        return _weight(hard, weights)
    count = 0
    for column in range(hard.shape[0]):
        if hard[column]:
            solution[column] = 1
            is_listed[column] = True
            listed[count] = column
            count += 1
    taken, count = _descend(solution, weights, count, descent)
    flip_observables(solution, column_observables, prediction)
    _unlist(solution, count, descent)
    return _weight(hard, weights) - taken


@numba.njit(cache=True, inline="always")
def _weight(errors: np.ndarray, weights: np.ndarray) -> float:
    """sum_j errors_j weights_j: a correction's weight (its minus log-likelihood, up to a constant)."""
    total = 0.0
    for variable in range(errors.shape[0]):
        if errors[variable]:
            total += weights[variable]
    return total


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
        check_update(syndrome, check_offsets, check_messages, scaling_factor, to_check, to_variable)
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


@numba.njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]  # _nrt: not in the stubs
def _layered_propagation(
    syndrome: np.ndarray,
    defects: int,
    check_offsets: np.ndarray,
    check_variables: np.ndarray,
    variable_offsets: np.ndarray,
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
    """Min-sum BP from the priors `weights`, layered schedule (`_layered_iteration`); True once the hard decision
    reproduces `syndrome`. Here `to_variable` holds each check's last messages by slot (check order) and
    `to_check` is work space. Leaves the last posteriors in `posterior` and the hard decision in `hard`, as
    `_belief_propagation` does."""
    for slot in range(to_variable.shape[0]):
        to_variable[slot] = 0.0
    for variable in range(hard.shape[0]):
        hard[variable] = 0
        posterior[variable] = weights[variable]
    for check in range(parity.shape[0]):
        parity[check] = syndrome[check]
    unsatisfied = defects
    for _ in range(max_iterations):
        _layered_iteration(syndrome, check_offsets, check_variables, scaling_factor, to_check, to_variable, posterior)
        for variable in range(hard.shape[0]):
            flipped = np.uint8(posterior[variable] <= 0)  # ties count as flipped, as in ldpc
            if flipped != hard[variable]:
                hard[variable] = flipped
                for message in range(variable_offsets[variable], variable_offsets[variable + 1]):
                    check = message_checks[message]
                    parity[check] ^= 1
                    unsatisfied += 1 if parity[check] else -1
        if unsatisfied == 0:
            return True
    return False


@numba.njit(cache=True, inline="always")
def _layered_iteration(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_variables: np.ndarray,
    scaling_factor: float,
    incoming: np.ndarray,
    to_variable: np.ndarray,
    posterior: np.ndarray,
) -> None:
    """One iteration of layered min-sum: for each check in turn, each of its variables sends its posterior less
    the check's last message to it (`incoming`, by slot), the check answers as `check_update` does (into
    `to_variable`, by slot), and each variable's posterior takes the new message in place of the old one.
    All arrays are float32: `incoming` and `to_variable` (num_messages,), `posterior` (num_variables,)."""
    for check in range(check_offsets.shape[0] - 1):
        start = check_offsets[check]
        stop = check_offsets[check + 1]
        negative = syndrome[check] == 1
        smallest = np.float32(np.inf)
        second = np.float32(np.inf)
        for slot in range(start, stop):
            value = posterior[check_variables[slot]] - to_variable[slot]
            incoming[slot] = value
            negative ^= value < 0
            value = abs(value)
            second = min(second, max(value, smallest))
            smallest = min(smallest, value)
        scaled_smallest = scaling_factor * smallest
        scaled_second = scaling_factor * second
        for slot in range(start, stop):
            value = incoming[slot]
            magnitude = scaled_second if abs(value) == smallest else scaled_smallest
            message = -magnitude if negative != (value < 0) else magnitude
            to_variable[slot] = message
            posterior[check_variables[slot]] = value + message


@numba.njit(cache=True, inline="always")
def _layered_restart_lane(weights: np.ndarray, to_variable: np.ndarray, posterior: np.ndarray, lane: int) -> None:
    """The layered schedule's start in `lane`: no check has spoken yet, every posterior is its prior."""
    for slot in range(to_variable.shape[0]):
        to_variable[slot, lane] = 0.0
    for variable in range(weights.shape[0]):
        posterior[variable, lane] = prior(weights, variable, lane)


# The lane version of `_layered_iteration`, written as `bp_kernels.check_update_lanes` is (lanes innermost, the lane
# count read from the arrays, not inlined) so that LLVM vectorises it.
@numba.njit(cache=True)
def _layered_iteration_lanes(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_variables: np.ndarray,
    scaling_factor: float,
    incoming: np.ndarray,
    to_variable: np.ndarray,
    posterior: np.ndarray,
    lane_work: tuple,
) -> None:
    """`_layered_iteration` of every lane: `syndrome` uint8 (num_checks, lanes), `incoming` and `to_variable`
    float32 (num_messages, lanes) by slot, `posterior` float32 (num_variables, lanes)."""
    negative, smallest, second = lane_work
    lanes = incoming.shape[1]
    for check in range(check_offsets.shape[0] - 1):
        start = check_offsets[check]
        stop = check_offsets[check + 1]
        for lane in range(lanes):
            negative[lane] = syndrome[check, lane] == 1
            smallest[lane] = np.inf
            second[lane] = np.inf
        for slot in range(start, stop):
            variable = check_variables[slot]
            for lane in range(lanes):
                value = posterior[variable, lane] - to_variable[slot, lane]
                incoming[slot, lane] = value
                negative[lane] ^= value < 0
                value = abs(value)
                least = smallest[lane]
                larger = least if least > value else value
                second[lane] = np.fmin(second[lane], larger)  # as `bp_kernels.check_update_lanes`: no masked store
                smallest[lane] = value if value < least else least
        for slot in range(start, stop):
            variable = check_variables[slot]
            for lane in range(lanes):
                value = incoming[slot, lane]
                magnitude = scaling_factor * (second[lane] if abs(value) == smallest[lane] else smallest[lane])
                message = -magnitude if negative[lane] != (value < 0) else magnitude
                to_variable[slot, lane] = message
                posterior[variable, lane] = value + message


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
        total = np.float32(weights[variable])
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


# The lane version of `_variable_update`, beside `bp_kernels.check_update_lanes`: the same arithmetic for each lane
# (column), lanes innermost, the lane count read from the arrays so that LLVM vectorises the loops (a constant count is
# unrolled into scalar code), and not inlined into its caller for the same reason. Convergence is counted after it, for
# every lane at once (`bp_kernels.count_unsatisfied_lanes`).
@numba.njit(cache=True)
def _variable_update_lanes(
    weights: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    to_variable: np.ndarray,
    to_check: np.ndarray,
    posterior: np.ndarray,
    hard: np.ndarray,
) -> None:
    """`_variable_update` of every lane: posteriors, hard decisions (uint8 (num_variables, lanes)) and messages."""
    lanes = to_check.shape[1]
    for variable in range(variable_offsets.shape[0] - 1):
        start = variable_offsets[variable]
        stop = variable_offsets[variable + 1]
        for lane in range(lanes):
            posterior[variable, lane] = prior(weights, variable, lane)
        for message in range(start, stop):
            for lane in range(lanes):
                posterior[variable, lane] += to_variable[message, lane]
        for message in range(start, stop):
            slot = message_slots[message]
            for lane in range(lanes):
                to_check[slot, lane] = posterior[variable, lane] - to_variable[message, lane]
        for lane in range(lanes):
            hard[variable, lane] = posterior[variable, lane] <= 0  # ties count as flipped, as in ldpc


@numba.njit(cache=True)
def _harden_lanes(posterior: np.ndarray, hard: np.ndarray) -> None:
    """Every variable's hard decision in every lane, after a layered iteration (a posterior <= 0 is an error)."""
    for variable in range(posterior.shape[0]):
        for lane in range(posterior.shape[1]):
            hard[variable, lane] = posterior[variable, lane] <= 0


@numba.njit(cache=True)
def _argsort_into(keys: np.ndarray, order: np.ndarray, radix: tuple) -> None:
    """Writes into `order` the indices of `keys` (float32) in ascending order, ties in index order: an LSD radix
    sort of the keys' bits made monotone (the sign bit flipped for a positive key, every bit for a negative one), in
    three stable passes of 11 bits. `radix` is its work space (`_osd_workspace`). On [[72,12,6]]'s 2,232 columns,
    about 10x a heapsort's speed."""
    codes, other_codes, other_order, counts = radix
    bits = keys.view(np.uint32)
    count = keys.shape[0]
    for index in range(count):
        code = bits[index]
        codes[index] = code ^ (np.uint32(0xFFFFFFFF) if code >> np.uint32(31) else np.uint32(0x80000000))
        order[index] = index
    source_codes, source_order, target_codes, target_order = codes, order, other_codes, other_order
    for shift in range(0, 32, RADIX_BITS):  # 0, 11, 22
        counts[:] = 0
        for index in range(count):
            counts[(source_codes[index] >> shift) & RADIX_MASK] += 1
        total = 0
        for digit in range(counts.shape[0]):
            digits = counts[digit]
            counts[digit] = total
            total += digits
        for index in range(count):
            code = source_codes[index]
            digit = (code >> shift) & RADIX_MASK
            target_codes[counts[digit]] = code
            target_order[counts[digit]] = source_order[index]
            counts[digit] += 1
        source_codes, source_order, target_codes, target_order = target_codes, target_order, source_codes, source_order
    order[:] = other_order  # three passes, an odd number: the last one wrote into `other_order`


@numba.njit(cache=True, inline="always")
def _gaussian_elimination(
    order: np.ndarray,
    packed_rows: np.ndarray,
    syndrome: np.ndarray,
    rows: np.ndarray,
    reduced_syndrome: np.ndarray,
    pivot_columns: np.ndarray,
    is_pivot: np.ndarray,
    elimination: tuple,
) -> int:
    """Row-reduces the check matrix over GF(2) (Gauss-Jordan), columns taken in `order`; returns the rank.

    Writes the reduced rows into `rows` and the reduced syndrome into `reduced_syndrome`: the first independent
    columns (the information set) become pivots, row r's pivot being pivot_columns[r] for r < rank (is_pivot marks
    them); the rows past the rank are zero, and only their syndrome bits are written (any set: no correction gives
    the syndrome). The reduced form of a set of pivot columns is unique, so the order rows are reduced in is free.

    `elimination` (`_osd_workspace`) holds the matrix as columns too (a bit set of rows per column, `packed_columns`),
    kept up to date as rows are added, so a column's pivot is found in a few words (its rows not yet a pivot's),
    where a scan of the rows down one column costs a load from each: on [[72,12,6]] (252 x 2,232) 142,000 loads a
    shot, 70% of the elimination's time. Rows are not swapped (which would swap bits in every column): the pivot
    rows are copied into `rows` in pivot order at the end.
    """
    packed_columns, work_rows, work_syndrome, columns, pivot_rows, unused = elimination
    num_checks, words = rows.shape
    row_words = columns.shape[1]
    work_rows[:, :] = packed_rows
    work_syndrome[:] = syndrome
    columns[:, :] = packed_columns
    for index in range(row_words):
        unused[index] = 0
    for row in range(num_checks):
        unused[row >> 6] |= np.uint64(1) << np.uint64(row & 63)
    rank = 0
    for column in order:
        if rank == num_checks:
            break
        pivot = -1
        for index in range(row_words):
            candidates = columns[column, index] & unused[index]
            if candidates:
                pivot = index * 64 + _lowest_bit(candidates)
                break
        if pivot == -1:
            continue
        columns[column, pivot >> 6] ^= np.uint64(1) << np.uint64(pivot & 63)  # now the column's other rows
        pivot_row = work_rows[pivot]
        for index in range(row_words):
            others = columns[column, index]
            while others:
                row = index * 64 + _lowest_bit(others)
                others &= others - np.uint64(1)
                target = work_rows[row]
                for word in range(words):
                    target[word] ^= pivot_row[word]
                work_syndrome[row] ^= work_syndrome[pivot]
        # Each other column of the pivot row has its bit flipped in those rows (the pivot column is not read again).
        for word in range(words):
            bits = pivot_row[word]
            while bits:
                other = word * 64 + _lowest_bit(bits)
                bits &= bits - np.uint64(1)
                if other != column:
                    for index in range(row_words):
                        columns[other, index] ^= columns[column, index]
        unused[pivot >> 6] ^= np.uint64(1) << np.uint64(pivot & 63)
        pivot_rows[rank] = pivot
        pivot_columns[rank] = column
        is_pivot[column] = True
        rank += 1
    for reduced in range(rank):
        rows[reduced, :] = work_rows[pivot_rows[reduced]]
        reduced_syndrome[reduced] = work_syndrome[pivot_rows[reduced]]
    reduced = rank
    for row in range(num_checks):
        if unused[row >> 6] & (np.uint64(1) << np.uint64(row & 63)):
            reduced_syndrome[reduced] = work_syndrome[row]
            reduced += 1
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
def _lowest_bit(word: np.uint64) -> int:
    """Index of the lowest set bit of a non-zero 64-bit word: LLVM's cttz, one instruction."""
    return trailing_zeros(word)  # type: ignore[call-arg]  # a Numba intrinsic, typed for its lowering

"""Numba kernels of Relay-BP (Müller et al., arXiv:2506.01779): min-sum BP with memory, run as a relay of legs.

`decode_batch` reads as the paper's Algorithm 1, per shot:

1. `read_syndrome` (shared with BP+OSD, in `bp_kernels`): the shot's detection events, unpacked; the posterior
   memory M starts at the priors, M_j = lambda_j = log((1 - p_j) / p_j).
2. Legs r = 0, 1, ..., `num_legs`: leg 0 runs up to `pre_iterations` iterations with the uniform memory
   strength `gamma0`; every later leg up to `leg_iterations` with its own disordered strengths
   (`_leg_memory_strengths`). Each leg restarts the messages at the priors but keeps M, the posterior
   the previous leg ended with (the relay). One iteration is a min-sum `check_update`, then
   `_memory_variable_update`: each variable's prior becomes
   (1 - gamma_j) lambda_j + gamma_j M_j, its posterior M_j that plus the incoming messages, its hard
   decision M_j <= 0.
3. A leg whose hard decision reproduces the syndrome (`_satisfies_syndrome`) ends early with a
   solution of weight sum_j e_j lambda_j; the lightest is kept (`_keep_if_lighter`). The relay stops
   after `num_solutions` solutions or when the legs run out.
4. The kept solution's observables (`flip_observables`, shared) are the prediction; where no leg
   converged, the last leg's hard decision is.

The memory strengths of leg r >= 1 are uniform on [gamma_min, gamma_max), drawn by a counter-based
generator (SplitMix64 of seed and r * num_variables + j): the same for every shot, as with
relay-bp's `explicit_gammas`, so a shot's prediction depends only on its syndrome and the seed, not
on how shots are batched. Work arrays are allocated once per call; the legs' strengths are drawn once,
when a shot first reaches the leg, and the table is handed back for the next call.

Batches of LANES shots or more run LANES shots side by side (`_decode_in_lanes`, as BP+OSD's): a column per lane
in every per-shot array, `check_update_lanes` and `_memory_variable_update_lanes` per iteration, each lane's
unsatisfied checks counted afresh after it (`count_unsatisfied_lanes`), the next shot into a finished lane, and the
last TAIL_LANES shots finished one at a time (`_relay_from`); bit for bit the results of `_decode_one_by_one`
(smaller batches).

>>> import numpy as np
>>> from qec.decoders.relay_kernels import decode_batch
>>> # repetition code of 3 bits: checks (0,1) and (1,2); bit 2 flips observable 0
>>> check_offsets = np.array([0, 2, 4]); check_messages = np.array([0, 1, 2, 3])
>>> check_variables = np.array([0, 1, 1, 2]); variable_offsets = np.array([0, 1, 3, 4])
>>> message_slots = np.array([0, 1, 2, 3])
>>> weights = np.full(3, np.log(0.9 / 0.1))
>>> observables = np.array([[0], [0], [1]], dtype=np.uint8)
>>> shots = np.array([[0b10], [0b01], [0b11]], dtype=np.uint8)
>>> predictions, solutions, iterations, _ = decode_batch(
...     shots, check_offsets, check_messages, check_variables, variable_offsets, message_slots, weights, observables,
...     0.1, 80, 300, 60, -0.24, 0.66, 5, 1.0, 0, np.empty((0, 3), dtype=np.float32))
>>> predictions[:, 0].tolist(), solutions.tolist()
([1, 0, 0], [5, 5, 5])
"""

from __future__ import annotations

import numba
import numpy as np

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

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# Once the batch has no shot left to start and this many lanes or fewer are busy, they finish one at a time:
# a step of every lane costs about 8 single-shot iterations ([[72,12,6]], 16 lanes of float64, AVX-512; see
# `bp_kernels.lanes_for_host`).
TAIL_LANES = 4


@numba.njit(cache=True)
def decode_batch(
    detection_events: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    check_variables: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    weights: np.ndarray,
    column_observables: np.ndarray,
    gamma0: float,
    pre_iterations: int,
    num_legs: int,
    leg_iterations: int,
    gamma_min: float,
    gamma_max: float,
    num_solutions: int,
    scaling_factor: float,
    seed: int,
    leg_gammas: np.ndarray,
    heralds: tuple | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Relay-BP for every shot of the batch.

    Args:
        detection_events: uint8 (shots, ceil(num_checks / 8)), bit-packed little-endian.
        check_offsets: uint32 (num_checks + 1,), CSR offsets into `check_messages` (these five: any integer
            dtype; uint32 spares Numba a test for negative indices).
        check_messages: uint32 (num_messages,), message indices of each check (messages are numbered
            column by column, as `dem_arrays.tanner_graph` numbers them).
        check_variables: uint32 (num_messages,), the variable of each of `check_messages`.
        variable_offsets: uint32 (num_variables + 1,), variable j's messages are
            variable_offsets[j] .. variable_offsets[j + 1] - 1.
        message_slots: uint32 (num_messages,), the slot of each message in the check lists
            (check_messages[message_slots[m]] == m).
        weights: float64 (num_variables,), prior log-likelihood ratios log((1 - p) / p) >= 0.
        column_observables: uint8 (num_variables, observable_bytes), bit-packed observables per column.
        gamma0: memory strength of every variable in the first leg.
        pre_iterations: iterations of the first leg at most (T0).
        num_legs: relay legs after the first at most (R).
        leg_iterations: iterations of each relay leg at most (Tr).
        gamma_min, gamma_max: the interval the relay legs' memory strengths are drawn from, uniformly.
        num_solutions: stop after this many converged legs (S).
        scaling_factor: min-sum scaling factor (1.0: plain min-sum).
        seed: seeds the relay legs' memory strengths.
        leg_gammas: float32 (legs_drawn, num_variables), the memory strengths of relay legs 1..legs_drawn
            drawn so far with this seed and interval (pass the returned table back in; (0, num_variables) at first).
        heralds: None, or per-shot priors from fired heralds (`bp_kernels`: (fired, herald_offsets, herald_columns,
            heralded_weights, static_weights), `weights` being static_weights): each shot's lambda_j are the
            weights of its own fired heralds' columns, every other heralded column EXCLUDED_WEIGHT (weights given a
            herald may be negative).

    Returns:
        predictions: uint8 (shots, observable_bytes), bit-packed little-endian.
        solutions: int32 (shots,), converged legs per shot (0: the last hard decision was used);
            shots without detection events count `num_solutions`.
        iterations: int64 (shots,), BP iterations run per shot.
        leg_gammas: the table, grown to the legs this batch reached (4 bytes per variable and leg).
    """
    shots = detection_events.shape[0]
    predictions = np.zeros((shots, column_observables.shape[1]), dtype=np.uint8)
    solutions = np.zeros(shots, dtype=np.int32)
    iterations = np.zeros(shots, dtype=np.int64)
    graph = (check_offsets, check_messages, check_variables, variable_offsets, message_slots)
    scale: float = np.float32(scaling_factor)  # type: ignore[assignment]  # BP is float32 (`bp_kernels.MESSAGE_DTYPE`)
    relay = (gamma0, pre_iterations, num_legs, leg_iterations, gamma_min, gamma_max, num_solutions, seed)
    if shots >= LANES:
        leg_gammas = _decode_in_lanes(
            detection_events,
            graph,
            weights,
            column_observables,
            relay,
            scale,
            leg_gammas,
            predictions,
            solutions,
            iterations,
            heralds,
        )
    else:
        leg_gammas = _decode_one_by_one(
            detection_events,
            graph,
            weights,
            column_observables,
            relay,
            scale,
            leg_gammas,
            predictions,
            solutions,
            iterations,
            heralds,
        )
    return predictions, solutions, iterations, leg_gammas


@numba.njit(cache=True)
def _decode_one_by_one(
    detection_events: np.ndarray,
    graph: tuple,
    weights: np.ndarray,
    column_observables: np.ndarray,
    relay: tuple,
    scaling_factor: float,
    leg_gammas: np.ndarray,
    predictions: np.ndarray,
    solutions: np.ndarray,
    iterations: np.ndarray,
    heralds: tuple | None,
) -> np.ndarray:
    """`decode_batch` a shot at a time (for small batches: the least latency per shot); returns the leg table."""
    check_offsets, check_messages, check_variables, variable_offsets, message_slots = graph
    gamma0, pre_iterations, num_legs, leg_iterations, gamma_min, gamma_max, num_solutions, seed = relay
    num_checks = check_offsets.shape[0] - 1
    num_variables = variable_offsets.shape[0] - 1
    num_messages = check_messages.shape[0]
    syndrome = np.zeros(num_checks, dtype=np.uint8)
    to_check = np.empty(num_messages, dtype=MESSAGE_DTYPE)
    to_variable = np.empty(num_messages, dtype=MESSAGE_DTYPE)
    memory = np.empty(num_variables, dtype=MESSAGE_DTYPE)
    hard = np.zeros(num_variables, dtype=np.uint8)
    best = np.zeros(num_variables, dtype=np.uint8)
    gammas = np.empty(num_variables, dtype=np.float64)
    work = (to_check, to_variable, memory, hard, best, gammas)
    static_weights = weights
    weights = shot_weights(static_weights, heralds)  # itself without heralds, else a copy each shot sets
    previous_shot = -1
    for shot in range(detection_events.shape[0]):
        if read_syndrome(detection_events[shot], syndrome) == 0:
            solutions[shot] = num_solutions
            continue
        set_shot_priors(weights, 0, heralds, shot, previous_shot)
        previous_shot = shot
        memory[:] = weights
        gammas[:] = gamma0
        _restart_messages(check_variables, weights, to_check)
        leg_gammas, found, used = _relay_from(
            syndrome, graph, weights, relay, scaling_factor, leg_gammas, work, 0, 0, 0, np.inf, 0
        )
        flip_observables(best if found > 0 else hard, column_observables, predictions[shot])
        solutions[shot] = found
        iterations[shot] = used
    return leg_gammas


@numba.njit(cache=True)
def _relay_from(
    syndrome: np.ndarray,
    graph: tuple,
    weights: np.ndarray,
    relay: tuple,
    scaling_factor: float,
    leg_gammas: np.ndarray,
    work: tuple,
    leg: int,
    leg_iteration: int,
    found: int,
    best_weight: float,
    used: int,
) -> tuple[np.ndarray, int, int]:
    """One shot's relay from iteration `leg_iteration` of leg `leg` on, with the messages, strengths, memory, hard
    decision and best solution in `work` as they stand, `found` solutions found and `used` iterations run so far.

    Returns the leg table, the solutions found and the iterations run in all; the lightest solution is left in
    `best` (where any was found), the last hard decision in `hard`.
    """
    check_offsets, check_messages, check_variables, variable_offsets, message_slots = graph
    gamma0, pre_iterations, num_legs, leg_iterations, gamma_min, gamma_max, num_solutions, seed = relay
    to_check, to_variable, memory, hard, best, gammas = work
    while True:
        leg_length = pre_iterations if leg == 0 else leg_iterations
        converged, leg_used = _memory_bp_leg(
            syndrome,
            check_offsets,
            check_messages,
            check_variables,
            variable_offsets,
            message_slots,
            weights,
            gammas,
            leg_length - leg_iteration,
            scaling_factor,
            to_check,
            to_variable,
            memory,
            hard,
        )
        used += leg_used
        if converged:
            found += 1
            best_weight = _keep_if_lighter(hard, weights, best, best_weight)
            if found >= num_solutions:
                break
        if leg == num_legs:
            break
        leg += 1
        if leg > leg_gammas.shape[0]:
            leg_gammas = _grow_leg_table(leg_gammas, leg_gammas.shape[0], leg, num_legs, gamma_min, gamma_max, seed)
        gammas[:] = leg_gammas[leg - 1]
        _restart_messages(check_variables, weights, to_check)
        leg_iteration = 0
    return leg_gammas, found, used


@numba.njit(cache=True, inline="always")
def _restart_messages(check_variables: np.ndarray, weights: np.ndarray, to_check: np.ndarray) -> None:
    """A leg's start: every message to a check is its variable's prior."""
    for slot in range(check_variables.shape[0]):
        to_check[slot] = weights[check_variables[slot]]


@numba.njit(cache=True)
def _decode_in_lanes(
    detection_events: np.ndarray,
    graph: tuple,
    weights: np.ndarray,
    column_observables: np.ndarray,
    relay: tuple,
    scaling_factor: float,
    leg_gammas: np.ndarray,
    predictions: np.ndarray,
    solutions: np.ndarray,
    iterations: np.ndarray,
    heralds: tuple | None,
) -> np.ndarray:
    """`decode_batch` LANES shots side by side, for throughput; returns the leg table.

    Every per-shot array has a column per lane (messages, memory, memory strengths, hard decision, best
    solution, parity), so each BP step is one vectorised loop over the lanes. A lane that starts a leg takes
    the leg's strengths into its column; a lane whose shot is done takes the batch's next shot with defects.
    Convergence is each lane's count of unsatisfied checks, counted afresh after every iteration
    (`count_unsatisfied_lanes`). When no shot is left to start and at most
    TAIL_LANES lanes are busy, their shots go on one at a time (`_relay_from`, from where they stand). Each shot
    sees exactly the arithmetic of `_decode_one_by_one`, so its prediction, solutions and iterations are the same."""
    check_offsets, check_messages, check_variables, variable_offsets, message_slots = graph
    gamma0, pre_iterations, num_legs, leg_iterations, gamma_min, gamma_max, num_solutions, seed = relay
    shots = detection_events.shape[0]
    num_checks = check_offsets.shape[0] - 1
    num_variables = variable_offsets.shape[0] - 1
    num_messages = check_messages.shape[0]
    syndrome = np.zeros((num_checks, LANES), dtype=np.uint8)
    to_check = np.zeros((num_messages, LANES), dtype=MESSAGE_DTYPE)  # (lanes never given a shot: no garbage)
    to_variable = np.empty((num_messages, LANES), dtype=MESSAGE_DTYPE)
    memory = np.zeros((num_variables, LANES), dtype=MESSAGE_DTYPE)
    gammas = np.zeros((num_variables, LANES), dtype=np.float64)
    hard = np.zeros((num_variables, LANES), dtype=np.uint8)
    best = np.zeros((num_variables, LANES), dtype=np.uint8)
    parity = np.zeros((num_checks, LANES), dtype=np.uint8)
    unsatisfied = np.zeros(LANES, dtype=np.int64)
    lane_shot = np.full(LANES, -1, dtype=np.int64)
    leg = np.zeros(LANES, dtype=np.int64)
    leg_iteration = np.zeros(LANES, dtype=np.int64)
    leg_length = np.zeros(LANES, dtype=np.int64)
    found = np.zeros(LANES, dtype=np.int64)
    best_weight = np.full(LANES, np.inf)
    total_iterations = np.zeros(LANES, dtype=np.int64)
    lane_work = lane_work_space(LANES)
    shot_syndrome = np.zeros(num_checks, dtype=np.uint8)
    shot_errors = np.zeros(num_variables, dtype=np.uint8)
    alone_to_check = np.empty(num_messages, dtype=MESSAGE_DTYPE)  # the tail's work arrays, as `_decode_one_by_one`'s
    alone_memory = np.empty(num_variables, dtype=MESSAGE_DTYPE)
    alone_hard = np.zeros(num_variables, dtype=np.uint8)
    alone_best = np.zeros(num_variables, dtype=np.uint8)
    alone_gammas = np.empty(num_variables, dtype=np.float64)
    alone_to_variable = np.empty(num_messages, dtype=MESSAGE_DTYPE)
    alone = (alone_to_check, alone_to_variable, alone_memory, alone_hard, alone_best, alone_gammas)
    static_weights = weights
    weights = lanes_weights(static_weights, heralds, LANES)  # itself without heralds, else a column per lane
    alone_weights = np.empty(num_variables, dtype=np.float64)
    lane_priors_of = np.full(LANES, -1, dtype=np.int64)  # the shot whose priors each lane's column holds
    legs_drawn = leg_gammas.shape[0]
    next_shot = 0
    while True:
        for lane in range(LANES):
            while lane_shot[lane] < 0 and next_shot < shots:
                shot = next_shot
                next_shot += 1
                defects = read_syndrome(detection_events[shot], shot_syndrome)
                if defects == 0:
                    solutions[shot] = num_solutions
                    continue
                syndrome[:, lane] = shot_syndrome
                hard[:, lane] = 0  # (read as it stands if the shot goes on alone before an iteration)
                set_shot_priors(weights, lane, heralds, shot, lane_priors_of[lane])
                lane_priors_of[lane] = shot
                for variable in range(num_variables):
                    memory[variable, lane] = prior(weights, variable, lane)
                gammas[:, lane] = gamma0
                restart_lane(check_variables, weights, to_check, lane)
                leg[lane] = 0
                leg_iteration[lane] = 0
                leg_length[lane] = pre_iterations
                found[lane] = 0
                best_weight[lane] = np.inf
                total_iterations[lane] = 0
                lane_shot[lane] = shot
        if next_shot >= shots and np.count_nonzero(lane_shot >= 0) <= TAIL_LANES:
            # The batch's tail: its last few shots cost less one at a time than in steps of every lane.
            for lane in range(LANES):
                shot = lane_shot[lane]
                if shot < 0:
                    continue
                shot_syndrome[:] = syndrome[:, lane]
                alone_to_check[:] = to_check[:, lane]
                alone_memory[:] = memory[:, lane]
                alone_hard[:] = hard[:, lane]
                alone_best[:] = best[:, lane]
                alone_gammas[:] = gammas[:, lane]
                leg_gammas, shot_found, shot_used = _relay_from(
                    shot_syndrome,
                    graph,
                    lane_weights(weights, lane, alone_weights),
                    relay,
                    scaling_factor,
                    leg_gammas,
                    alone,
                    leg[lane],
                    leg_iteration[lane],
                    found[lane],
                    best_weight[lane],
                    total_iterations[lane],
                )
                flip_observables(alone_best if shot_found > 0 else alone_hard, column_observables, predictions[shot])
                solutions[shot] = shot_found
                iterations[shot] = shot_used
            return leg_gammas
        check_update_lanes(syndrome, check_offsets, check_messages, scaling_factor, to_check, to_variable, lane_work)
        _memory_variable_update_lanes(
            weights, gammas, variable_offsets, message_slots, to_variable, to_check, memory, hard
        )
        count_unsatisfied_lanes(syndrome, check_offsets, check_variables, hard, parity, unsatisfied)
        for lane in range(LANES):
            shot = lane_shot[lane]
            if shot < 0:
                continue
            leg_iteration[lane] += 1
            total_iterations[lane] += 1
            converged = unsatisfied[lane] == 0
            if not converged and leg_iteration[lane] < leg_length[lane]:
                continue
            if converged:
                found[lane] += 1
                best_weight[lane] = _keep_if_lighter_lane(hard, weights, best, best_weight[lane], lane)
            if found[lane] < num_solutions and leg[lane] < num_legs:  # the next leg
                leg[lane] += 1
                next_leg = leg[lane]
                if next_leg > legs_drawn:
                    leg_gammas = _grow_leg_table(leg_gammas, legs_drawn, next_leg, num_legs, gamma_min, gamma_max, seed)
                    legs_drawn = leg_gammas.shape[0]
                gammas[:, lane] = leg_gammas[next_leg - 1]
                restart_lane(check_variables, weights, to_check, lane)
                leg_iteration[lane] = 0
                leg_length[lane] = leg_iterations
                continue
            errors = best if found[lane] > 0 else hard
            shot_errors[:] = errors[:, lane]
            flip_observables(shot_errors, column_observables, predictions[shot])
            solutions[shot] = found[lane]
            iterations[shot] = total_iterations[lane]
            lane_shot[lane] = -1  # with no shot left for it, the lane runs on with its last shot: wasted, harmless


@numba.njit(cache=True, inline="always")
def _keep_if_lighter_lane(
    hard: np.ndarray, weights: np.ndarray, best: np.ndarray, best_weight: float, lane: int
) -> float:
    """`_keep_if_lighter` of one lane's column of `hard` and `best` (uint8 (num_variables, lanes))."""
    weight = 0.0
    for variable in range(hard.shape[0]):
        if hard[variable, lane]:
            weight += prior(weights, variable, lane)
    if weight < best_weight:
        best[:, lane] = hard[:, lane]
        return weight
    return best_weight


@numba.njit(cache=True)
def _grow_leg_table(
    table: np.ndarray, drawn: int, needed: int, num_legs: int, gamma_min: float, gamma_max: float, seed: int
) -> np.ndarray:
    """The table of legs' memory strengths with rows up to `needed` (at least doubled, at most `num_legs`)."""
    rows = min(max(needed, 2 * drawn, 8), num_legs)
    grown = np.empty((rows, table.shape[1]), dtype=np.float32)
    grown[:drawn] = table[:drawn]
    row = np.empty(table.shape[1], dtype=np.float64)
    for leg in range(drawn + 1, rows + 1):
        _leg_memory_strengths(leg, seed, gamma_min, gamma_max, row)
        grown[leg - 1] = row
    return grown


@numba.njit(cache=True)
def _leg_memory_strengths(leg: int, seed: int, gamma_min: float, gamma_max: float, gammas: np.ndarray) -> None:
    """Fills `gammas` (float64 (num_variables,)) with leg `leg`'s memory strengths, uniform on [gamma_min, gamma_max):
    SplitMix64 of the counter seed * 2^32 + leg * num_variables + j, its top 53 bits as the fraction."""
    num_variables = gammas.shape[0]
    base = np.uint64(seed) * np.uint64(1 << 32) + np.uint64(leg) * np.uint64(num_variables)
    span = gamma_max - gamma_min
    for variable in range(num_variables):
        state = (base + np.uint64(variable)) * _GOLDEN
        fraction = np.float64(_splitmix64(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        gammas[variable] = gamma_min + span * fraction


@numba.njit(cache=True, inline="always")
def _splitmix64(state: np.uint64) -> np.uint64:
    """SplitMix64's output function of a 64-bit state (Steele, Lea & Flood, OOPSLA 2014)."""
    z = state + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# No reference counting in the loop below (`_nrt=False`) and inlined by LLVM where it is called
# (`forceinline`), as BP+OSD's `_belief_propagation`: it allocates nothing.
@numba.njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]  # _nrt: not in the stubs
def _memory_bp_leg(
    syndrome: np.ndarray,
    check_offsets: np.ndarray,
    check_messages: np.ndarray,
    check_variables: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    weights: np.ndarray,
    gammas: np.ndarray,
    max_iterations: int,
    scaling_factor: float,
    to_check: np.ndarray,
    to_variable: np.ndarray,
    memory: np.ndarray,
    hard: np.ndarray,
) -> tuple[bool, int]:
    """Up to `max_iterations` iterations of a leg from the messages in `to_check`; (converged, iterations run).

    Messages to checks are kept in check order (`to_check[slot]`), messages to variables in variable
    order (`to_variable[message]`): each update reads its input in order and scatters its output once.
    Leaves the leg's last posterior in `memory` and its hard decision in `hard`.
    """
    for iteration in range(max_iterations):
        check_update(syndrome, check_offsets, check_messages, scaling_factor, to_check, to_variable)
        _memory_variable_update(weights, gammas, variable_offsets, message_slots, to_variable, to_check, memory, hard)
        if _satisfies_syndrome(syndrome, check_offsets, check_variables, hard):
            return True, iteration + 1
    return False, max_iterations


@numba.njit(cache=True, inline="always")
def _memory_variable_update(
    weights: np.ndarray,
    gammas: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    to_variable: np.ndarray,
    to_check: np.ndarray,
    memory: np.ndarray,
    hard: np.ndarray,
) -> None:
    """Every variable's memory prior (1 - gamma) lambda + gamma M, posterior M, hard decision and messages."""
    for variable in range(variable_offsets.shape[0] - 1):
        gamma = gammas[variable]
        total = np.float32((1.0 - gamma) * weights[variable] + gamma * memory[variable])
        start = variable_offsets[variable]
        stop = variable_offsets[variable + 1]
        for message in range(start, stop):
            total += to_variable[message]
        memory[variable] = total
        hard[variable] = total <= 0  # ties count as flipped, as in relay-bp and ldpc
        for message in range(start, stop):
            to_check[message_slots[message]] = total - to_variable[message]


# The lane version of `_memory_variable_update`, beside `bp_kernels.check_update_lanes`: the same arithmetic for
# each lane (column), lanes innermost, the lane count read from the arrays so that LLVM vectorises the loops
# (a constant count is unrolled into scalar code), and not inlined into its caller for the same reason. Convergence
# is counted after it, for every lane at once (`bp_kernels.count_unsatisfied_lanes`).
@numba.njit(cache=True)
def _memory_variable_update_lanes(
    weights: np.ndarray,
    gammas: np.ndarray,
    variable_offsets: np.ndarray,
    message_slots: np.ndarray,
    to_variable: np.ndarray,
    to_check: np.ndarray,
    memory: np.ndarray,
    hard: np.ndarray,
) -> None:
    """`_memory_variable_update` of every lane (`gammas` float64 and `memory` float32 (num_variables, lanes), `hard`
    uint8 (num_variables, lanes))."""
    lanes = to_check.shape[1]
    for variable in range(variable_offsets.shape[0] - 1):
        start = variable_offsets[variable]
        stop = variable_offsets[variable + 1]
        for lane in range(lanes):
            gamma = gammas[variable, lane]
            memory[variable, lane] = (1.0 - gamma) * prior(weights, variable, lane) + gamma * memory[variable, lane]
        for message in range(start, stop):
            for lane in range(lanes):
                memory[variable, lane] += to_variable[message, lane]
        for message in range(start, stop):
            slot = message_slots[message]
            for lane in range(lanes):
                to_check[slot, lane] = memory[variable, lane] - to_variable[message, lane]
        for lane in range(lanes):
            hard[variable, lane] = memory[variable, lane] <= 0  # ties count as flipped, as in relay-bp and ldpc


@numba.njit(cache=True, inline="always")
def _satisfies_syndrome(
    syndrome: np.ndarray, check_offsets: np.ndarray, check_variables: np.ndarray, hard: np.ndarray
) -> bool:
    """Whether the hard decision flips exactly the checks of `syndrome` (stops at the first unsatisfied check)."""
    for check in range(check_offsets.shape[0] - 1):
        parity = syndrome[check]
        for slot in range(check_offsets[check], check_offsets[check + 1]):
            parity ^= hard[check_variables[slot]]
        if parity:
            return False
    return True


@numba.njit(cache=True, inline="always")
def _keep_if_lighter(hard: np.ndarray, weights: np.ndarray, best: np.ndarray, best_weight: float) -> float:
    """Copies `hard` into `best` if its weight sum_j hard_j lambda_j is below `best_weight`; returns the best weight."""
    weight = 0.0
    for variable in range(hard.shape[0]):
        if hard[variable]:
            weight += weights[variable]
    if weight < best_weight:
        best[:] = hard
        return weight
    return best_weight

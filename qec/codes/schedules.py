"""The default syndrome schedule of `css`: Z checks, then X checks, each check visiting its qubits in an order
chosen against its hook errors (`hook_aware_schedule`).

Why the order matters. An X check's ancilla (the control of its CNOTs) that suffers an X fault after its j-th
CNOT spreads X onto the qubits the check visits later: one fault, a data error on a *suffix* of the check's
visiting order (a Z check's ancilla spreads Z likewise). Up to the check itself a suffix is its complementary
prefix, so the suffixes of 2..w-2 qubits (w the check's weight) are the hooks worth more than one fault. With
the two types measured apart (all CNOTs of one type commute, so every detector stays deterministic), each
fault of a circuit-level noise model leaves on the data, in the error type a memory detects, one qubit or one
hook. So the circuit distance of a memory in Z is the fewest singles and X-check hooks that add up to an X
logical (in ker hz, flipping a Z logical), and of a memory in X likewise with Z-check hooks and Z logicals.

How the orders are chosen, for each check type:

1. One hook at a time. A hook S costs one fault and brings a logical L within 1 + |L + S| faults. The logicals
   are all those of the kernel when its dimension is at most `ENUMERATE_DIMENSION`, else the light ones that
   `SEARCH_TRIALS` seeded information-set trials find (fewer for large matrices). For each check of up to
   `TABLE_WEIGHT` qubits every chain of suffixes is searched for the best bottleneck min_S (1 + min_L |L + S|),
   capped at the distance d_T of that error type, and the orders reaching it are allowed; a heavier check (up
   to `MAX_HOOK_WEIGHT`) gets one greedy chain, or any order as good.
2. Hooks together, exactly, where the states (syndrome, logical class) number at most 2^`MAX_STATE_BITS`: a
   breadth-first search over them gives the exact circuit distance of the current orders, and a local search
   (bounded by a count of steps, never a clock) tries the allowed orders of the checks whose hooks the
   shortest logical uses, keeping changes that need more faults (then fewer shortest fault sequences).
3. Layers. The edge colouring's orders (as few layers as the largest degree) are kept when they are allowed;
   otherwise layers are built backwards in time: at each step every check still running gets, by a maximum
   matching (checks with the most CNOTs left first), a qubit not yet visited that keeps its suffix allowed.

The schedule's description says which of these held: "circuit distance 5 = d_X (exact ...)", "circuit distance
2 < d_Z = 3 (exact; unavoidable ...)", or, beyond the exact search, only the one-hook criterion (a heuristic).
Codes with more than `MAX_SEARCH_EDGES` edges of a type (or a larger matrix than `MAX_SEARCH_MATRIX`) keep a
generic order (an edge colouring), and say so. The same matrices give the same schedule on every machine.

Some codes cannot keep their distance so: in the Steane code every pair of qubits lies on a weight-3 logical,
so a weight-4 check's last two qubits, whatever the order, are a hook one fault from a logical: circuit
distance 2 < 3 in both bases, which only flag qubits (or other gadgets) avoid.

>>> import numpy as np
>>> from qec.codes import css
>>> hamming = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
>>> print(css(hamming, hamming).schedule.description)  # doctest: +NORMALIZE_WHITESPACE
Z checks then X checks, each check's qubit order chosen against hook errors; memory in X (Z-check hooks):
circuit distance 2 < d_Z = 3 (exact; unavoidable: some check has a hook that close in every order); memory in
Z (X-check hooks): circuit distance 2 < d_X = 3 (exact; unavoidable: some check has a hook that close in every
order); 4 + 4 CNOT layers
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from qec.codes import gf2
from qec.codes.syndrome_schedule import SyndromeSchedule, edge_colouring

ENUMERATE_DIMENSION = 16  # all 2^16 vectors of a kernel this small are listed (a fraction of a second)
MAX_ENUMERATED_ENTRIES = 8_000_000  # ... unless the list of vectors would hold more entries than this
SEARCH_TRIALS = 60  # information-set trials for the light logicals of a larger code (seeded) ...
SEARCH_WORK = 4_000_000  # ... fewer when trials times the matrix's entries would pass this
MAX_LOGICALS = 20_000  # the lightest logicals kept for the one-hook criterion
FLIP_TESTS = 64  # a vector flips some logical: tested against at most this many (random sums of) logicals
SEARCH_PAIR_COLUMNS = 40  # each trial also adds the codewords of pairs among this many lightest columns
TABLE_WEIGHT = 8  # checks up to this weight: every chain of suffixes searched (2^w subsets)
MAX_HOOK_WEIGHT = 32  # a type with a check heavier than this keeps the generic order
MAX_SEARCH_EDGES = 40_000  # check-matrix entries (edges) of one type beyond which the order stays generic
MAX_SEARCH_MATRIX = 2_000_000  # ... or entries of the other type's matrix (each search trial row-reduces it)
SEED = 20_240_601
MAX_STATE_BITS = 18  # the exact search over (syndrome, logical class) states: at most 2^18 of them
MAX_SEARCH_STEPS = 8_000_000  # ... and at most this many state-generator pairs in one breadth-first step
BFS_CHUNK = 1_000_000  # state-generator pairs held at once
REFINE_EVALUATIONS = 300  # exact evaluations the local search over orders may spend ...
REFINE_WORK = 100_000_000  # ... and state-generator pairs in all (about a second)
LAYERING_TRIES = 6  # seeded tie-breaks of the backward layering; the shallowest is kept


@dataclass(frozen=True)
class _TypePlan:
    """One check type's layers (rows (check, qubit), local check numbers) and what its orders achieve."""

    layers: tuple[np.ndarray, ...]
    note: str


def hook_aware_schedule(
    hx: np.ndarray, hz: np.ndarray, logical_x: np.ndarray, logical_z: np.ndarray
) -> SyndromeSchedule:
    """Z checks then X checks, each check's qubit order chosen against its hook errors (see the module docstring).

    `hx` (mx, n) and `hz` (mz, n) are the uint8 check matrices and `logical_x`, `logical_z` (k, n) the paired
    logical bases of `qec.codes.css.logical_operators`. Deterministic: the same matrices give the same layers."""
    mx = hx.shape[0]
    # Z-check hooks are Z errors: they matter against Z logicals (in ker hx, flipping an X logical); X-check hooks
    # are X errors, against X logicals (in ker hz, flipping a Z logical).
    z_plan = _type_plan(hz, kernel_of=hx, flips=logical_x, error="Z")
    x_plan = _type_plan(hx, kernel_of=hz, flips=logical_z, error="X")
    layers = tuple(layer + np.array([mx, 0]) for layer in z_plan.layers) + x_plan.layers
    description = (
        f"Z checks then X checks, each check's qubit order chosen against hook errors; memory in X (Z-check hooks): "
        f"{z_plan.note}; memory in Z (X-check hooks): {x_plan.note}; {len(z_plan.layers)} + {len(x_plan.layers)} "
        f"CNOT layers"
    )
    return SyndromeSchedule(layers, description)


def _type_plan(checks: np.ndarray, *, kernel_of: np.ndarray, flips: np.ndarray, error: str) -> _TypePlan:
    edges = np.argwhere(checks).astype(np.int64)
    if len(edges) == 0:
        return _TypePlan((), "no checks of this type")
    colours = edge_colouring(edges)
    coloured = tuple(edges[colours == c] for c in range(int(colours.max()) + 1))
    weights = checks.sum(axis=1).astype(np.int64)
    if weights.max() < 4:  # no suffix of 2..w-2 qubits: nothing to choose
        return _TypePlan(coloured, "no hook errors (weight <= 3)")
    if weights.max() > MAX_HOOK_WEIGHT:
        return _TypePlan(coloured, f"generic order (an edge colouring; checks heavier than {MAX_HOOK_WEIGHT} qubits)")
    if len(edges) > MAX_SEARCH_EDGES or checks.shape[1] * max(kernel_of.shape[0], 1) > MAX_SEARCH_MATRIX:
        return _TypePlan(coloured, "generic order (an edge colouring; the code is too large for the hook search)")
    logicals, enumerated = _light_logicals(kernel_of, flips, spare=int(weights.max()) - 4)
    distance = int(logicals.sum(axis=1).min())
    by_qubit = np.ascontiguousarray(logicals.T)  # (n, logicals): a check's columns, read row by row
    weight = logicals.sum(axis=1, dtype=np.int64)
    plans = [_CheckOrders.of(np.flatnonzero(row), by_qubit, weight, distance) for row in checks]
    layers = coloured
    if not all(plan.accepts_order(order) for plan, order in zip(plans, _orders(coloured, len(plans)))):
        layers = _layers_backwards(plans)
    name = f"{'an' if error == 'X' else 'a'} {error} logical"
    search = _HookSearch.of(kernel_of, flips, plans)
    if search is None:
        worst = min(plan.bound for plan in plans)
        how = "every logical listed" if enumerated else f"logicals sampled by {search_trials(kernel_of)} trials"
        if worst >= distance:
            note = f"no single hook brings {name} within fewer than d_{error} = {distance} faults"
        else:
            note = f"the best orders found leave a hook {worst} faults from {name}, under d_{error} = {distance}"
        return _TypePlan(layers, f"{note} ({how}; a heuristic: hooks together not checked)")
    distance = search.faults([() for _ in plans])[0]  # exact: singles alone
    chains = [plan.chain_of(order) for plan, order in zip(plans, _orders(layers, len(plans)))]
    # With every logical listed, a check whose every order has a hook `bound` faults from a logical caps the search.
    ceiling = min([distance] + [plan.bound for plan in plans if enumerated])
    reached, chains = search.improve(chains, ceiling)
    if reached < distance:
        why = "unavoidable: some check has a hook that close in every order" if reached == ceiling else "best found"
        note = f"circuit distance {reached} < d_{error} = {distance} (exact; {why})"
    else:
        note = f"circuit distance {distance} = d_{error} (exact: every set of faults searched)"
    fixed = [plan.restricted_to(chain) for plan, chain in zip(plans, chains)]
    if all(plan.accepts_order(order) for plan, order in zip(fixed, _orders(layers, len(fixed)))):
        return _TypePlan(layers, note)
    return _TypePlan(_layers_backwards(fixed), note)


def _orders(layers: tuple[np.ndarray, ...], checks: int) -> list[np.ndarray]:
    """The qubits each of `checks` checks (local numbers) visits, in the order of `layers`."""
    visits: list[list[int]] = [[] for _ in range(checks)]
    for layer in layers:
        for check, qubit in layer.tolist():
            visits[check].append(qubit)
    return [np.array(v, dtype=np.int64) for v in visits]


def _light_logicals(h: np.ndarray, flips: np.ndarray, *, spare: int) -> tuple[np.ndarray, bool]:
    """Vectors v with h v = 0 whose overlap with some row of `flips` is odd, of weight at most the least found
    plus `spare` (the lightest `MAX_LOGICALS`): all of them (True) when the kernel is small enough to list, else
    those found by the search."""
    basis = gf2.null_space(h)
    dimension, n = basis.shape
    if dimension <= ENUMERATE_DIMENSION and (2**dimension) * n <= MAX_ENUMERATED_ENTRIES:
        combos = ((np.arange(1, 2**dimension)[:, None] >> np.arange(dimension)) & 1).astype(np.float32)
        vectors = ((combos @ basis.astype(np.float32)) % 2).astype(np.uint8)
        exact = True
    else:
        vectors = _searched_codewords(h)
        exact = False
    if flips.shape[0] > FLIP_TESTS:  # many logical qubits: test seeded random sums of them (misses 2^-64 of the time)
        flips = gf2.product(np.random.default_rng(SEED).integers(0, 2, size=(FLIP_TESTS, flips.shape[0])), flips)
    # float32 sums are exact here (at most n <= 5,000 terms)
    vectors = vectors[((vectors.astype(np.float32) @ flips.T.astype(np.float32)) % 2).any(axis=1)]
    weight = vectors.sum(axis=1, dtype=np.int64)
    vectors = vectors[weight <= weight.min() + spare]
    _, first = np.unique(gf2.pack(vectors), axis=0, return_index=True)  # distinct rows, compared as packed words
    vectors = vectors[np.sort(first)]
    lightest = np.argsort(vectors.sum(axis=1), kind="stable")[:MAX_LOGICALS]
    return vectors[np.sort(lightest)], exact


def search_trials(h: np.ndarray) -> int:
    """Information-set trials for the light logicals of ker h: `SEARCH_TRIALS`, fewer for a large h (each trial
    row-reduces it), at least 8."""
    return int(min(SEARCH_TRIALS, max(8, SEARCH_WORK // max(h.size, 1))))


def _searched_codewords(h: np.ndarray) -> np.ndarray:
    """Light vectors of ker h: for `SEARCH_TRIALS` seeded random column orders, the codewords with one non-pivot
    column, and with two among the lightest `SEARCH_PAIR_COLUMNS` (Lee-Brickell information sets)."""
    rng = np.random.default_rng(SEED)
    n = h.shape[1]
    found = [gf2.null_space(h)]
    for _ in range(search_trials(h)):
        reduced, pivots = gf2.row_reduce(h, columns=rng.permutation(n))
        free = np.setdiff1d(np.arange(n), pivots)
        single = np.zeros((free.size, n), dtype=np.uint8)
        single[np.arange(free.size), free] = 1
        if pivots:
            single[:, pivots] = reduced[:, free].T
        light = single[np.argsort(single.sum(axis=1), kind="stable")[:SEARCH_PAIR_COLUMNS]]
        i, j = np.triu_indices(len(light), k=1)
        found += [single, light[i] ^ light[j]]
    return np.concatenate(found)


@dataclass(frozen=True)
class _CheckOrders:
    """The orders a check may visit its qubits in, as the suffix sets allowed (bitmasks over `support`): with
    a table (`allowed[mask]`) for checks up to `TABLE_WEIGHT`, a single greedy chain (`chain`) above; `bound` is
    the fewest faults (capped at the distance) that any of its hooks leaves a logical away."""

    support: np.ndarray
    bound: int
    allowed: np.ndarray | None
    chain: tuple[int, ...]
    cost: Callable[[int], int] | None = None  # a greedy check's criterion, to accept other whole orders as good

    @classmethod
    def of(cls, support: np.ndarray, by_qubit: np.ndarray, weight: np.ndarray, distance: int) -> _CheckOrders:
        """The orders of a check on `support` against the logicals whose columns are `by_qubit` (n, logicals)
        and weights `weight`, for an error type of distance `distance`."""
        w = len(support)
        if w < 4:
            return cls(support, distance, np.ones(2**w, dtype=bool), ())
        columns = by_qubit[support]
        # A hook S inside this check brings L no closer than 1 + |L| - |L & support| faults: only the logicals
        # for which that is under the distance matter (none apart from the check, few for a dense code).
        inside = columns.sum(axis=0, dtype=np.int64)
        relevant = np.flatnonzero((inside > 0) & (1 + weight - inside < distance))
        masks = (1 << np.arange(w, dtype=np.int64)) @ columns[:, relevant].astype(np.int64)
        weights = weight[relevant]
        if w > TABLE_WEIGHT:
            return cls._greedy(support, masks, weights, distance)
        size = 2**w
        subsets = np.arange(size)
        popcount = _popcount(subsets)
        least = np.full(size, np.iinfo(np.int64).max // 4)
        np.minimum.at(least, masks, weights)
        present = np.flatnonzero(least < np.iinfo(np.int64).max // 4)
        # Faults that bring a logical within reach of hook S: 1 + min over L of |L + S| (capped at the distance).
        overlaps = popcount[present[:, None] & subsets[None, :]]
        cost = np.min(least[present, None] + popcount[None, :] - 2 * overlaps, axis=0, initial=distance)
        cost = np.minimum(1 + cost, distance)
        hooks = (popcount >= 2) & (popcount <= w - 2)
        cost[~hooks] = distance
        # reach[S]: the best bottleneck of a chain of suffixes growing to S; onward[S]: from S to the full set.
        reach = np.full(size, -1)
        onward = np.full(size, -1)
        bits = [1 << q for q in range(w)]  # suffix sets grow backwards in time: reach from the empty set
        by_size = [subsets[popcount == s] for s in range(w + 1)]
        reach[0] = distance
        for s in range(1, w + 1):
            masks_s, best = by_size[s], np.full(len(by_size[s]), -1)
            for b in bits:
                has = (masks_s & b) != 0
                best[has] = np.maximum(best[has], reach[masks_s[has] ^ b])
            reach[masks_s] = np.minimum(cost[masks_s], best)
        onward[size - 1] = distance
        for s in range(w - 1, -1, -1):
            masks_s, best = by_size[s], np.full(len(by_size[s]), -1)
            for b in bits:
                lacks = (masks_s & b) == 0
                best[lacks] = np.maximum(best[lacks], onward[masks_s[lacks] | b])
            onward[masks_s] = np.minimum(cost[masks_s], best)
        bound = int(onward[0])
        return cls(support, bound, (reach >= bound) & (onward >= bound), ())

    @classmethod
    def _greedy(cls, support: np.ndarray, masks: np.ndarray, weights: np.ndarray, distance: int) -> _CheckOrders:
        w = len(support)

        def costs(candidates: np.ndarray) -> np.ndarray:
            overlap = _popcount(masks[:, None] & candidates[None, :])
            least = np.min(weights[:, None] + _popcount(candidates)[None, :] - 2 * overlap, axis=0, initial=distance)
            return np.minimum(distance, 1 + least)

        def cost(mask: int) -> int:
            return int(costs(np.array([mask], dtype=np.int64))[0])

        a, b = np.triu_indices(w, k=1)
        pairs = (1 << a) | (1 << b)
        mask = int(pairs[np.argmax(costs(pairs))])  # the first best: deterministic
        bound = cost(mask)
        chain = [mask]
        for _ in range(w - 4):
            bigger = np.array([mask | 1 << q for q in range(w) if not mask >> q & 1], dtype=np.int64)
            found = costs(bigger)
            mask = int(bigger[np.argmax(found)])
            bound = min(bound, int(found.max()))
            chain.append(mask)
        return cls(support, bound, None, tuple(chain), cost)

    def chain_of(self, qubits: np.ndarray) -> tuple[int, ...]:
        """The suffix sets (bitmasks, 2..w-2 qubits) of visiting `qubits` in this order."""
        position = {int(q): i for i, q in enumerate(self.support)}
        masks, mask = [], 0
        for q in qubits[::-1].tolist():
            mask |= 1 << position[q]
            masks.append(mask)
        return tuple(masks[1 : len(masks) - 2])

    def chains(self) -> list[tuple[int, ...]]:
        """Every chain of suffix sets this check permits, in a fixed order."""
        w = len(self.support)
        found: list[tuple[int, ...]] = []

        def grow(mask: int, chain: tuple[int, ...]) -> None:
            if bin(mask).count("1") == w - 2 and chain:
                found.append(chain)
                return
            for q in range(w):
                bigger = mask | 1 << q
                if bigger != mask and self.permits(bigger):
                    if bin(bigger).count("1") >= 2:
                        grow(bigger, chain + (bigger,))
                    elif not chain:
                        grow(bigger, chain)

        grow(0, ())
        return sorted(set(found))

    def restricted_to(self, chain: tuple[int, ...]) -> _CheckOrders:
        """This check, allowed only the orders of `chain` (its suffix sets of 2..w-2 qubits)."""
        return _CheckOrders(self.support, self.bound, None, chain)

    def permits(self, mask: int) -> bool:
        """Whether the qubits of `mask`, visited last (in any order), begin a best chain of suffixes."""
        if self.allowed is not None:
            return bool(self.allowed[mask])
        size = bin(mask).count("1")
        w = len(self.support)
        if size >= w - 1 or w < 4:
            return True
        if size <= 1:
            return mask & self.chain[0] == mask
        return self.chain[size - 2] == mask

    def accepts_order(self, qubits: np.ndarray) -> bool:
        """Whether visiting `qubits` (this check's support) in this order keeps every suffix allowed (for a greedy
        check: every suffix as good as its chain's worst)."""
        if self.cost is not None:
            cost = self.cost
            return all(cost(mask) >= self.bound for mask in self.chain_of(qubits))
        position = {int(q): i for i, q in enumerate(self.support)}
        mask = 0
        for q in qubits[::-1].tolist():
            mask |= 1 << position[q]
            if not self.permits(mask):
                return False
        return True


class _HookSearch:
    """The exact fewest faults (singles and hooks) making a logical, by a breadth-first search over the states
    (syndrome, logical class) of the errors of one type: for codes whose states number at most 2^`MAX_STATE_BITS`."""

    def __init__(self, single: np.ndarray, bits: int, syndrome_bits: int, plans: list[_CheckOrders]) -> None:
        self.single = single  # the state of an error on each qubit: a bitmask of `bits` bits, the syndrome's low
        self.bits = bits
        self.syndrome_bits = syndrome_bits
        self.plans = plans

    @classmethod
    def of(cls, h: np.ndarray, flips: np.ndarray, plans: list[_CheckOrders]) -> _HookSearch | None:
        reduced = gf2.row_reduce(h)[0]
        rows = np.concatenate([reduced, flips]).astype(np.int64)
        hooks = sum(max(len(plan.support) - 3, 0) for plan in plans)
        if rows.shape[0] > MAX_STATE_BITS or 2 ** rows.shape[0] * (rows.shape[1] + hooks) > MAX_SEARCH_STEPS:
            return None
        single = (1 << np.arange(rows.shape[0], dtype=np.int64)) @ rows
        return cls(single, rows.shape[0], reduced.shape[0], plans)

    def faults(self, chains: list[tuple[int, ...]]) -> tuple[int, float, list[int]]:
        """(fewest faults to a logical, how many shortest fault sequences, the checks whose hooks one uses)."""
        states: list[np.ndarray] = [self.single]
        owners: list[np.ndarray] = [np.full(len(self.single), -1)]
        for check, (plan, chain) in enumerate(zip(self.plans, chains)):
            for mask in chain:
                qubits = [i for i in range(len(plan.support)) if mask >> i & 1]
                states.append(np.array([np.bitwise_xor.reduce(self.single[plan.support[qubits]])]))
                owners.append(np.array([check]))
        generators, first = np.unique(np.concatenate(states), return_index=True)
        owner = np.concatenate(owners)[first]
        owner, generators = owner[generators != 0], generators[generators != 0]
        size = 1 << self.bits
        level_of = np.full(size, -1, dtype=np.int64)
        ways = np.zeros(size)
        level_of[0], ways[0] = 0, 1.0
        frontier = np.array([0], dtype=np.int64)
        syndrome = (1 << self.syndrome_bits) - 1
        rows_per_chunk = max(1, BFS_CHUNK // len(generators))
        for level in range(1, 64):
            found = []
            for start in range(0, len(frontier), rows_per_chunk):  # chunks keep memory to ~BFS_CHUNK pairs
                part = frontier[start : start + rows_per_chunk]
                reached = (part[:, None] ^ generators[None, :]).ravel()
                new = level_of[reached] == -1  # level_of is set after the whole level: every path is counted
                np.add.at(ways, reached[new], np.repeat(ways[part], len(generators))[new])
                found.append(np.unique(reached[new]))
            frontier = np.unique(np.concatenate(found))
            level_of[frontier] = level
            targets = frontier[((frontier & syndrome) == 0) & (frontier >> self.syndrome_bits != 0)]
            if targets.size:
                used, state = [], int(targets[0])
                for back in range(level, 0, -1):
                    g = int(np.flatnonzero(level_of[state ^ generators] == back - 1)[0])
                    used.append(int(owner[g]))
                    state ^= int(generators[g])
                return level, float(ways[targets].sum()), sorted({c for c in used if c >= 0})
            if frontier.size == 0:
                break
        return 64, 0.0, []

    def improve(self, chains: list[tuple[int, ...]], target: int) -> tuple[int, list[tuple[int, ...]]]:
        """Local search from `chains`: while a logical is fewer than `target` faults away, try every permitted
        chain of each check whose hook the shortest found uses, keep the best change (more faults needed, then
        fewer shortest sequences); at most `REFINE_EVALUATIONS` evaluations of at most `REFINE_WORK` steps in all
        (a count, not a clock: the same matrices give the same schedule everywhere). Returns (faults, chains)."""
        chains = list(chains)
        level, ways, culprits = self.faults(chains)
        generators = len(self.single) + sum(len(chain) for chain in chains)
        budget = min(REFINE_EVALUATIONS, REFINE_WORK // ((1 << self.bits) * generators))
        evaluations = 1
        while level < target and evaluations < budget:
            best: tuple[int, float, int, tuple[int, ...]] | None = None
            for check in culprits:
                for chain in self.plans[check].chains():
                    if chain == chains[check] or evaluations >= budget:
                        continue
                    trial = chains[:check] + [chain] + chains[check + 1 :]
                    got, got_ways, _ = self.faults(trial)
                    evaluations += 1
                    if (got, -got_ways) > ((best[0], -best[1]) if best else (level, -ways)):
                        best = (got, got_ways, check, chain)
            if best is None:
                break
            chains[best[2]] = best[3]
            level, ways, culprits = self.faults(chains)
        return level, chains


def _layers_backwards(plans: list[_CheckOrders]) -> tuple[np.ndarray, ...]:
    """CNOT layers, built from the last: each step a maximum matching of the checks still running to qubits
    free in that step whose addition keeps the check's suffix permitted; the shallowest of `LAYERING_TRIES`
    seeded tie-breaks (checks with the most CNOTs left first, qubits with the most left first)."""
    rng = np.random.default_rng(SEED)
    best: tuple[np.ndarray, ...] | None = None
    for attempt in range(LAYERING_TRIES):
        tie = rng.permutation(len(plans)) if attempt else np.arange(len(plans))
        layers = _layering(plans, tie)
        if best is None or len(layers) < len(best):
            best = layers
    assert best is not None
    return best


def _layering(plans: list[_CheckOrders], tie: np.ndarray) -> tuple[np.ndarray, ...]:
    visited = [0] * len(plans)
    left = [len(plan.support) for plan in plans]
    load: dict[int, int] = {}  # CNOTs each qubit has left
    for plan in plans:
        for q in plan.support.tolist():
            load[q] = load.get(q, 0) + 1
    backwards: list[np.ndarray] = []
    while any(left):
        order = sorted((c for c in range(len(plans)) if left[c]), key=lambda c: (-left[c], tie[c]))
        holder: dict[int, tuple[int, int]] = {}  # qubit -> (check, local index)
        for check in order:
            _augment(check, plans, visited, holder, load)
        layer = []
        for qubit, (check, local) in holder.items():
            visited[check] |= 1 << local
            left[check] -= 1
            load[qubit] -= 1
            layer.append((check, qubit))
        backwards.append(np.array(sorted(layer), dtype=np.int64).reshape(-1, 2))
    return tuple(reversed(backwards))


def _augment(
    start: int,
    plans: list[_CheckOrders],
    visited: list[int],
    holder: dict[int, tuple[int, int]],
    load: dict[int, int],
) -> bool:
    """Kuhn's augmenting path from check `start` (iterative): True when it got a qubit this step."""

    def options(check: int) -> list[tuple[int, int]]:
        plan = plans[check]
        found = [
            (int(q), i)
            for i, q in enumerate(plan.support.tolist())
            if not visited[check] >> i & 1 and plan.permits(visited[check] | 1 << i)
        ]
        return sorted(found, key=lambda option: -load[option[0]])

    seen: set[int] = set()
    stack = [(start, iter(options(start)))]
    path: list[tuple[int, int, int]] = []  # (check, qubit, local) tentatively assigned along the path
    while stack:
        check, choices = stack[-1]
        advanced = False
        for qubit, local in choices:
            if qubit in seen:
                continue
            seen.add(qubit)
            path.append((check, qubit, local))
            if qubit not in holder:
                for c, q, i in path:
                    holder[q] = (c, i)
                return True
            other = holder[qubit][0]
            stack.append((other, iter(options(other))))
            advanced = True
            break
        if not advanced:  # a dead end: back up one check, and the choice that led to it
            stack.pop()
            if path:
                path.pop()
    return False


_POPCOUNT_16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.int64)


def _popcount(values: np.ndarray | int) -> np.ndarray:
    """Set bits of each value (non-negative, below 2^32: masks over a check's qubits, at most `MAX_HOOK_WEIGHT`)."""
    values = np.asarray(values, dtype=np.int64)
    return _POPCOUNT_16[values & 0xFFFF] + _POPCOUNT_16[(values >> 16) & 0xFFFF]

"""The utility-scale workload of Kim et al., Nature 618, 500 (2023): the kicked Ising model on a heavy-hex patch,
noisy and mitigated by ZNE (gate folding), PEA and PEC, with error bars and cost.

`heavy_hex_patch` takes a connected patch of a fake IBM backend's coupling map (default `FakeKolkataV2`, 27 qubits):
a heavy-hex cell (a 12-qubit ring) first, then its neighbours breadth first, so 12 qubits is one whole cell; the
patch's qubits are renumbered 0..n-1 (`physical` keeps the device's numbers) and its edges are split into at most
three colours (disjoint edges each). `kicked_ising_circuit` is `steps` steps of RX(theta_h) on every qubit, then
RZZ(-pi/2) on the edges of each colour in turn. RZZ(-pi/2) = e^{i pi/4} (Sdg x Sdg) CZ is Clifford; it is written
as Sdg on both qubits and H CX H (one CX per edge, one CX layer per colour), so the two-qubit layers are what
`layer_noise` learns and twirls. At theta_h = 0 (no gate) and pi/2 (SX, RX(pi/2) up to a phase) the circuit is
Clifford and `ideal_expectation` is exact by the stabilizer method; at other angles it uses Aer's
matrix_product_state method (no cap on the bond dimension; Aer drops only singular values below 1e-16).

The noisy runs take the method `noisy_method` picks by size and Cliffordness: stabilizer for a Clifford circuit
under Pauli noise (any size: 27 qubits cost ms per shot), else a density matrix up to 10 qubits (one run per
circuit), a statevector trajectory per shot up to 13, and a matrix-product-state trajectory per shot beyond (on
the loaded 2-core box, 200 noisy shots of 2 steps: 16 qubits 14 s by statevector, 4 s by MPS; 20 qubits 219 s
against 8 s; 27 qubits 25 s by MPS). Layer noise learning runs twirled CX layers only, Clifford at every angle,
so it takes the Clifford method whatever theta_h is.

`run_kicked_ising` reports the ideal value, the noisy one, ZNE by folding (the `Estimator` at resilience level 2:
TREX, gate twirling, two-qubit gates folded at noise factors 1, 3, 5), and PEA and PEC from the layer noise learned
on the same noise (`learned_mitigation.pea_expectation` / `pec_expectation`, since the `Estimator` does not run
them), each with its 1-sigma error, circuits, shots, seconds and gamma (PEC).

>>> patch = heavy_hex_patch(12)
>>> patch.physical, len(patch.edges), [len(colour) for colour in patch.colours]
((1, 2, 3, 5, 8, 11, 14, 13, 12, 10, 7, 4), 12, [6, 6])
>>> circuit = kicked_ising_circuit(patch, steps=2, theta_h=0.0)
>>> circuit.count_ops()["cx"], ideal_expectation(circuit, magnetization(12))
(24, 1.0)
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import networkx as nx
import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qec.errors import QecInputError
from qec.mitigation.backends import (
    DENSITY_MATRIX_MAX_QUBITS,
    Backend,
    aer_backend,
    check_integer,
    check_run_options,
    is_clifford,
)
from qec.mitigation.estimator import Estimator
from qec.mitigation.layer_noise import LearnedNoise, learn_layer_noise, measurement_bases
from qec.mitigation.learned_mitigation import pea_expectation, pec_expectation
from qec.mitigation.noise_models import NoiseSpec, fake_backend
from qec.mitigation.observables import pauli_sum

DEFAULT_BACKEND = "FakeKolkataV2"
DEFAULT_NOISE = NoiseSpec(depolarizing_1q=0.001, depolarizing_2q=0.01, readout=0.01)
MAX_STEPS = 50
TECHNIQUES = ("noisy", "zne", "pea", "pec")
_CLIFFORD_ANGLE_TOLERANCE = 1e-12
STATEVECTOR_MAX_QUBITS = 13  # beyond, a noisy MPS trajectory is cheaper than a statevector one (see above)


@dataclass(frozen=True)
class HeavyHexPatch:
    """A connected patch of a device's coupling map, renumbered: circuit qubit i is device qubit `physical[i]`;
    `edges` (circuit qubits, smaller first) split into `colours`, each a set of disjoint edges."""

    backend: str
    physical: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]
    colours: tuple[tuple[tuple[int, int], ...], ...]

    @property
    def num_qubits(self) -> int:
        return len(self.physical)


def heavy_hex_patch(qubits: int = 12, *, backend: str = DEFAULT_BACKEND) -> HeavyHexPatch:
    """`qubits` connected qubits of `backend`'s coupling map: its first heavy-hex cell (the shortest cycle through
    the lowest-numbered qubit on one), then breadth first; fewer than a cell's qubits take a path along it.

    Raises QecInputError for more qubits than the device has, or a coupling map that needs more than 3 edge
    colours (not heavy-hex).
    """
    device = fake_backend(backend)
    check_integer(qubits, name="qubits", low=2, high=device.num_qubits, fix=f"give e.g. 12 ({backend})")
    graph = nx.Graph(sorted({tuple(sorted(edge)) for edge in device.coupling_map.get_edges()}))
    cycles = nx.minimum_cycle_basis(graph)
    order: list[int] = []
    if cycles:
        cell = min(cycles, key=lambda cycle: (len(cycle), min(cycle)))
        start = min(cell)
        ring = graph.subgraph(cell)
        order = [start]
        while len(order) < len(cell):  # walk the ring, the smaller neighbour first
            order.append(min(n for n in ring.neighbors(order[-1]) if n not in order))
    else:
        order = [min(graph.nodes)]
    seen, queue = set(order), deque(order)
    while queue:
        for neighbour in sorted(graph.neighbors(queue.popleft())):
            if neighbour not in seen:
                seen.add(neighbour)
                order.append(neighbour)
                queue.append(neighbour)
    physical = tuple(order[:qubits])
    index = {q: i for i, q in enumerate(physical)}
    edges: tuple[tuple[int, int], ...] = tuple(
        sorted((min(index[a], index[b]), max(index[a], index[b])) for a, b in graph.subgraph(physical).edges)
    )
    return HeavyHexPatch(backend, physical, edges, edge_colouring(edges))


def edge_colouring(edges: Sequence[tuple[int, int]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The fewest colour classes (at most 3) of `edges` with no two edges of a class sharing a qubit.

    >>> edge_colouring([(0, 1), (1, 2), (2, 3), (0, 3)])
    (((0, 1), (2, 3)), ((0, 3), (1, 2)))
    """
    edges = sorted(edges)
    for count in range(1, 4):
        colour: dict[tuple[int, int], int] = {}
        if _colour(edges, 0, colour, count):
            return tuple(tuple(e for e in edges if colour[e] == c) for c in range(count))  # none empty: fewest
    raise QecInputError("the patch's edges need more than 3 colours: it is not heavy-hex; use another backend")


def _colour(edges: list[tuple[int, int]], position: int, colour: dict[tuple[int, int], int], count: int) -> bool:
    """Backtracking: colours edges[position:] given the colours so far (a patch has at most 28 edges)."""
    if position == len(edges):
        return True
    edge = edges[position]
    taken = {c for other, c in colour.items() if set(other) & set(edge)}
    for c in range(count):
        if c not in taken:
            colour[edge] = c
            if _colour(edges, position + 1, colour, count):
                return True
            del colour[edge]
    return False


def kicked_ising_circuit(patch: HeavyHexPatch, *, steps: int, theta_h: float) -> QuantumCircuit:
    """`steps` steps of RX(theta_h) on every qubit then RZZ(-pi/2) on each colour's edges (Sdg Sdg, H CX H), on
    the patch's qubits (no measurements). theta_h 0 leaves the kick out and pi/2 writes it as SX, so the circuit
    of a Clifford angle is made of Clifford gates."""
    check_integer(steps, name="steps", low=1, high=MAX_STEPS, fix="give e.g. 2")
    if not math.isfinite(theta_h):
        raise QecInputError(f"theta_h must be a finite angle in radians, got {theta_h}: give e.g. 0.785")
    circuit = QuantumCircuit(patch.num_qubits, name=f"kicked_ising_{steps}")
    kick = _clifford_kick(theta_h)
    for _ in range(steps):
        for q in range(patch.num_qubits):
            if kick == "sx":
                circuit.sx(q)
            elif kick is None:
                circuit.rx(theta_h, q)
        for colour in patch.colours:
            for a, b in colour:
                circuit.sdg(a)
                circuit.sdg(b)
                circuit.h(b)
            for a, b in colour:
                circuit.cx(a, b)
            for _, b in colour:
                circuit.h(b)
    return circuit


def _clifford_kick(theta_h: float) -> str | None:
    """ "id" for theta_h = 0, "sx" for pi/2 (mod 2 pi), None for a non-Clifford kick (others stay RX)."""
    angle = math.remainder(theta_h, 2 * math.pi)
    if abs(angle) < _CLIFFORD_ANGLE_TOLERANCE:
        return "id"
    if abs(angle - math.pi / 2) < _CLIFFORD_ANGLE_TOLERANCE:
        return "sx"
    return None


def noisy_method(num_qubits: int, *, clifford: bool, pauli_noise: bool) -> str:
    """Aer's method for noisy runs of a kicked Ising circuit: stabilizer for a Clifford circuit under Pauli noise,
    else density_matrix up to `DENSITY_MATRIX_MAX_QUBITS`, statevector up to `STATEVECTOR_MAX_QUBITS`,
    matrix_product_state beyond.

    >>> [noisy_method(n, clifford=c, pauli_noise=True) for n, c in ((27, True), (8, False), (12, False), (27, False))]
    ['stabilizer', 'density_matrix', 'statevector', 'matrix_product_state']
    """
    if clifford and pauli_noise:
        return "stabilizer"
    if num_qubits <= DENSITY_MATRIX_MAX_QUBITS:
        return "density_matrix"
    if num_qubits <= STATEVECTOR_MAX_QUBITS:
        return "statevector"
    return "matrix_product_state"


def noisy_backend(circuit: QuantumCircuit, *, noise: NoiseSpec, shots: int, seed: int) -> Backend:
    """An Aer CPU backend under `noise` for runs of `circuit` (and circuits like it: twirled, folded, sampled),
    with the method `noisy_method` picks."""
    method = noisy_method(circuit.num_qubits, clifford=is_clifford(circuit), pauli_noise=noise.is_pauli)
    if method != "matrix_product_state":  # aer_backend knows these methods and checks that the state fits
        return aer_backend([circuit], noise=noise, device="cpu", method=method, shots=shots, seed=seed)
    check_run_options(shots=shots, seed=seed, threads=0)
    simulator = AerSimulator(method=method, device="CPU", noise_model=noise.to_aer())
    return Backend(simulator, "CPU", method, shots, seed)


def learn_kicked_ising_noise(
    patch: HeavyHexPatch, *, steps: int, noise: NoiseSpec, shots: int = 200, twirls: int = 2, seed: int = 0
) -> LearnedNoise:
    """The layer noise of the kicked Ising circuit's CX layers on `patch` under `noise`, learned on Aer (`shots`
    per circuit, `twirls` per basis and depth). The layers do not depend on theta_h, so one model serves every
    angle; the learning circuits are Clifford, so they run by the stabilizer method under Pauli noise."""
    clifford = kicked_ising_circuit(patch, steps=steps, theta_h=0.0)  # same layers, Clifford kicks
    learning = noisy_backend(clifford, noise=noise, shots=shots, seed=seed)
    return learn_layer_noise(clifford, learning, twirls=twirls, seed=seed)


def magnetization(num_qubits: int) -> SparsePauliOp:
    """The average magnetization (1/n) sum_i Z_i.

    >>> magnetization(2)
    SparsePauliOp(['IZ', 'ZI'],
                  coeffs=[0.5+0.j, 0.5+0.j])
    """
    return SparsePauliOp.from_sparse_list([("Z", [q], 1 / num_qubits) for q in range(num_qubits)], num_qubits)


def ideal_expectation(circuit: QuantumCircuit, observable: SparsePauliOp) -> float:
    """<observable> in the noiseless state of `circuit`: Aer's stabilizer method for a Clifford circuit, else its
    matrix_product_state method (no truncation: exact, in memory 2^(n/2) per bond at worst)."""
    method = "stabilizer" if is_clifford(circuit) else "matrix_product_state"
    probe = circuit.copy()
    probe.save_expectation_value(observable, list(range(circuit.num_qubits)), label="ideal")
    result = AerSimulator(method=method).run(probe, shots=1).result()
    return round(float(np.real(result.data(0)["ideal"])), 12)


@dataclass(frozen=True)
class TechniqueResult:
    """One technique's estimate: value, 1-sigma error (shot and sampling noise), the model's systematic error
    (PEA: the spread over extrapolators; else None), cost (circuits run, shots in all, seconds) and PEC's gamma."""

    technique: str
    value: float
    standard_error: float
    circuits: int
    shots: int
    seconds: float
    systematic_error: float | None = None
    gamma: float | None = None


@dataclass(frozen=True)
class KickedIsingReport:
    """A kicked Ising run: the workload, its ideal value (and how it was computed), each technique's result and
    the cost of learning the layer noise (PEA and PEC share it)."""

    backend: str
    physical_qubits: tuple[int, ...]
    steps: int
    theta_h: float
    observable: str
    noise: str
    ideal: float
    ideal_method: str
    noisy_method: str
    results: tuple[TechniqueResult, ...]
    learning_circuits: int
    learning_shots: int
    learning_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """A table: technique, value +- error, |value - ideal| in sigmas, circuits, shots, seconds, gamma."""
        lines = [
            f"kicked Ising on {len(self.physical_qubits)} qubits of {self.backend} (device qubits "
            f"{','.join(map(str, self.physical_qubits))}), {self.steps} steps, theta_h = {self.theta_h:.4g}, "
            f"noise {self.noise}",
            f"<{self.observable}> ideal {self.ideal:.4f} ({self.ideal_method}); noisy runs by {self.noisy_method}",
            f"{'technique':<10} {'value':>8} {'± 1σ':>7} {'|err|/σ':>8} {'circuits':>9} {'shots':>10} {'s':>6}  gamma",
        ]
        for r in self.results:
            sigmas = abs(r.value - self.ideal) / r.standard_error if r.standard_error > 0 else math.inf
            extra = f"  {r.gamma:.3f}" if r.gamma is not None else ""
            if r.systematic_error is not None:
                extra += f"  (systematic ±{r.systematic_error:.3f})"
            lines.append(
                f"{r.technique:<10} {r.value:>8.4f} {r.standard_error:>7.4f} {sigmas:>8.1f} {r.circuits:>9,} "
                f"{r.shots:>10,} {r.seconds:>6.1f}{extra}"
            )
        if self.learning_circuits:
            lines.append(
                f"layer noise learned (for pea, pec): {self.learning_circuits:,} circuits, {self.learning_shots:,} "
                f"shots, {self.learning_seconds:.1f} s"
            )
        return "\n".join(lines)


def run_kicked_ising(
    *,
    qubits: int = 12,
    steps: int = 2,
    theta_h: float = 0.0,
    noise: NoiseSpec = DEFAULT_NOISE,
    backend: str = DEFAULT_BACKEND,
    observable: str | SparsePauliOp | None = None,
    techniques: Sequence[str] = TECHNIQUES,
    shots: int = 4000,
    sample_shots: int = 200,
    pec_samples: int = 200,
    pea_samples: int = 50,
    learning_shots: int = 200,
    learning_twirls: int = 2,
    learned: LearnedNoise | None = None,
    seed: int = 0,
) -> KickedIsingReport:
    """The kicked Ising workload on a `qubits`-qubit patch of `backend`, run on Aer under `noise`.

    Args:
        observable: a Pauli sum (qubit 0 leftmost, as `qec mitigate circuit`) or a `SparsePauliOp`; None: the
            average magnetization.
        techniques: any of "noisy", "zne", "pea", "pec".
        shots: shots per circuit of the Estimator runs (noisy and ZNE).
        sample_shots: shots per sampled circuit of PEA and PEC (many samples of few shots each).
        pec_samples, pea_samples: PEC's sampled circuits; PEA's per noise factor (1, 1.5, 2, 3).
        learning_shots, learning_twirls: shots per circuit and twirls per basis and depth of layer noise learning.
        learned: the layer noise from `learn_kicked_ising_noise` for the same patch, steps and noise (the layers
            do not depend on theta_h, so a sweep learns once); None learns it here, when PEA or PEC runs.

    The noisy runs use the method `noisy_method` picks (see the module docstring); the report names it.

    `noise` is a qec `NoiseSpec` of rates (the patch is renumbered, so a fake backend's own noise, whose qubits
    are the device's, is refused). Raises QecInputError for bad arguments.
    """
    if noise.fake_backend is not None:
        raise QecInputError(
            f"noise fake={noise.fake_backend}: the patch runs renumbered 0..n-1, not on the device's qubits, so give "
            "the noise as rates (p1, p2, readout, ...)"
        )
    unknown = [t for t in techniques if t not in TECHNIQUES]
    if unknown or not techniques:
        raise QecInputError(f"unknown techniques {unknown or '(none given)'}: choose from {', '.join(TECHNIQUES)}")
    for value, name in ((shots, "shots"), (sample_shots, "sample_shots"), (learning_shots, "learning_shots")):
        check_integer(value, name=name, low=1, high=10_000_000, fix="give e.g. 1000")
    patch = heavy_hex_patch(qubits, backend=backend)
    circuit = kicked_ising_circuit(patch, steps=steps, theta_h=theta_h)
    n = circuit.num_qubits
    operator = magnetization(n) if observable is None else pauli_sum(observable, num_qubits=n).to_sparse_pauli_op()
    label = "M = mean Z_i" if observable is None else str(observable)
    ideal = ideal_expectation(circuit, operator)
    results: list[TechniqueResult] = []
    # The Estimator on the method qec picks (stabilizer at a Clifford angle: Aer's automatic choice would take a
    # 12-qubit density matrix; MPS beyond 13 qubits), the noise model's readout rates read back for its REM.
    simulator = noisy_backend(circuit, noise=noise, shots=shots, seed=seed).simulator
    for technique, level in (("noisy", 0), ("zne", 2)):
        if technique in techniques:
            options = {"resilience_level": level, "seed_estimator": seed, "default_shots": shots}
            start = time.perf_counter()
            pub = Estimator(backend=simulator, options=options).run([(circuit, operator)]).result()[0]
            results.append(
                TechniqueResult(
                    "noisy" if level == 0 else "zne (fold)",
                    float(pub.data.evs),
                    float(pub.data.stds),
                    int(pub.metadata["circuits"]),
                    int(pub.metadata["total_shots"]),
                    time.perf_counter() - start,
                )
            )
    learned_cost = (0, 0, 0.0)
    if {"pea", "pec"} & set(techniques):
        if learned is None:
            start = time.perf_counter()
            learned = learn_kicked_ising_noise(
                patch, steps=steps, noise=noise, shots=learning_shots, twirls=learning_twirls, seed=seed
            )
            bases = measurement_bases(range(n), patch.edges)  # as learn_layer_noise: 9 on a 2-colourable patch
            count = len(learned.layers) * len(bases) * len(learned.depths) * learned.twirls
            learned_cost = (count, count * learning_shots, time.perf_counter() - start)
        sampler = noisy_backend(circuit, noise=noise, shots=sample_shots, seed=seed)
        # Symmetric readout flips p scale a weight-w Z word by (1 - 2p)^w: divided out here when every term has
        # one weight (the magnetization), else Mitiq's REM inverts a 2^n x 2^n matrix per circuit (slow at 12).
        weights = {sum(c != "I" for c in label) for label in operator.paulis.to_labels()}
        uniform = len(weights) == 1
        divide = (1 - 2 * noise.readout) ** min(weights) if uniform else 1.0
        readout = 0.0 if uniform else noise.readout
        if "pea" in techniques:
            start = time.perf_counter()
            pea = pea_expectation(circuit, operator, learned, sampler, samples=pea_samples, seed=seed, readout=readout)
            results.append(
                TechniqueResult(
                    "zne (pea)",
                    pea.value / divide,
                    pea.standard_error / divide,
                    pea.circuits,
                    pea.shots,
                    time.perf_counter() - start,
                    systematic_error=pea.systematic_error / divide,
                )
            )
        if "pec" in techniques:
            start = time.perf_counter()
            pec = pec_expectation(circuit, operator, learned, sampler, samples=pec_samples, seed=seed, readout=readout)
            results.append(
                TechniqueResult(
                    "pec",
                    pec.value / divide,
                    pec.standard_error / divide,
                    pec.circuits,
                    pec.shots,
                    time.perf_counter() - start,
                    gamma=pec.gamma,
                )
            )
    return KickedIsingReport(
        backend=backend,
        physical_qubits=patch.physical,
        steps=steps,
        theta_h=float(theta_h),
        observable=label,
        noise=noise.describe(),
        ideal=ideal,
        ideal_method="stabilizer" if is_clifford(circuit) else "matrix_product_state",
        noisy_method=noisy_method(n, clifford=is_clifford(circuit), pauli_noise=noise.is_pauli),
        results=tuple(results),
        learning_circuits=learned_cost[0],
        learning_shots=learned_cost[1],
        learning_seconds=learned_cost[2],
    )

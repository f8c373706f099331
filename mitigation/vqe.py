"""A VQE loop on Aer noise: a hardware-efficient ansatz, an optimizer, and at every step the energy noisy and
mitigated, beside the ideal energy of the same parameters and the exact ground-state energy.

The ansatz (`hardware_efficient_ansatz`) is `layers` times (RY on every qubit, then a CX ladder), then a last
RY layer: n (layers + 1) angles, real amplitudes (enough for the real Hamiltonians of `hamiltonians`).
The optimizer minimizes the **mitigated** energy (what a mitigated experiment would report); the noisy energy
at the same parameters is measured beside it, and the ideal one computed by statevector.

| optimizer | what a step is                                                                        |
|-----------|---------------------------------------------------------------------------------------|
| `cobyla`  | one evaluation of scipy's COBYLA (`scipy.optimize.minimize`, maxiter = `iterations`)  |
| `spsa`    | one SPSA iteration (`spsa_minimize`: 2 evaluations for the gradient), then the energy |

>>> from qec.mitigation import NoiseSpec
>>> from qec.mitigation.vqe import run_vqe
>>> result = run_vqe("h2", qubits=2, optimizer="spsa", iterations=2, technique="zne",
...                  noise=NoiseSpec(depolarizing_2q=0.02), shots=2000, device="cpu", threads=1)
>>> len(result.steps), round(result.exact_ground_energy, 4)
(3, -1.1373)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.optimize
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector

from qec.errors import unknown_choice
from qec.mitigation.backends import aer_backend, check_integer, check_run_options
from qec.mitigation.hamiltonians import hamiltonian
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.techniques import Technique, apply_technique, check_technique
from qec.mitigation.workloads import Workload

OPTIMIZERS = ("cobyla", "spsa")
MAX_ITERATIONS = 1000
MAX_LAYERS = 10
VQE_NOISE = NoiseSpec(depolarizing_1q=0.001, depolarizing_2q=0.01)
# SPSA's gains (Spall's standard schedule: a_k = a / (k + 1 + A)^0.602, c_k = c / (k + 1)^0.101).
SPSA_A, SPSA_STABILITY, SPSA_C = 0.6, 1.0, 0.15


@dataclass(frozen=True)
class VqeStep:
    """The energies at one optimizer step's parameters: noisy, mitigated (each with its standard error) and
    ideal (statevector)."""

    step: int
    parameters: tuple[float, ...]
    noisy: float
    noisy_standard_error: float | None
    mitigated: float
    mitigated_standard_error: float | None
    ideal: float


@dataclass(frozen=True)
class VqeResult:
    """A VQE run: its settings, every step, the exact ground energy, and the cost of all circuits run."""

    hamiltonian: str
    qubits: int
    optimizer: str
    technique: str
    noise: str
    layers: int
    exact_ground_energy: float
    steps: tuple[VqeStep, ...]
    circuits: int
    shots: int
    seconds: float

    @property
    def final(self) -> VqeStep:
        return self.steps[-1]

    def as_dict(self) -> dict[str, object]:
        """The JSON object `qec mitigate vqe --json` prints."""
        return {
            "hamiltonian": self.hamiltonian,
            "qubits": self.qubits,
            "optimizer": self.optimizer,
            "technique": self.technique,
            "noise": self.noise,
            "layers": self.layers,
            "exact_ground_energy": self.exact_ground_energy,
            "steps": [
                {
                    "step": s.step,
                    "noisy": s.noisy,
                    "noisy_standard_error": s.noisy_standard_error,
                    "mitigated": s.mitigated,
                    "mitigated_standard_error": s.mitigated_standard_error,
                    "ideal": s.ideal,
                    "parameters": list(s.parameters),
                }
                for s in self.steps
            ],
            "circuits": self.circuits,
            "shots": self.shots,
            "seconds": round(self.seconds, 3),
        }


def hardware_efficient_ansatz(qubits: int, parameters: np.ndarray, layers: int) -> QuantumCircuit:
    """`layers` x (RY on every qubit, CX ladder), then RY on every qubit; `parameters` has qubits * (layers + 1)
    angles, layer by layer.

    >>> hardware_efficient_ansatz(3, np.zeros(9), layers=2).count_ops()["cx"]
    4
    """
    angles = np.asarray(parameters, dtype=float).reshape(layers + 1, qubits)
    circuit = QuantumCircuit(qubits)
    for layer in range(layers + 1):
        for q in range(qubits):
            circuit.ry(float(angles[layer, q]), q)
        if layer < layers:
            for q in range(qubits - 1):
                circuit.cx(q, q + 1)
    return circuit


def spsa_minimize(
    function: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    iterations: int,
    seed: int,
    on_step: Callable[[np.ndarray], object],
) -> np.ndarray:
    """Simultaneous perturbation stochastic approximation (Spall 1998): each iteration estimates the gradient
    from 2 evaluations at theta +- c_k Delta (Delta a seeded random sign vector) and steps by a_k; `on_step` is
    called with the parameters after each iteration. Returns the last parameters.

    >>> spsa_minimize(lambda x: float(np.sum((x - 1) ** 2)), np.zeros(2), iterations=200, seed=0,
    ...               on_step=lambda x: None).round(2)
    array([1., 1.])
    """
    rng = np.random.default_rng(seed)
    theta = np.array(start, dtype=float)
    for k in range(iterations):
        a_k = SPSA_A / (k + 1 + SPSA_STABILITY) ** 0.602
        c_k = SPSA_C / (k + 1) ** 0.101
        delta = rng.choice([-1.0, 1.0], size=theta.shape)
        gradient = (function(theta + c_k * delta) - function(theta - c_k * delta)) / (2 * c_k) * delta
        theta = theta - a_k * gradient
        on_step(theta)
    return theta


def run_vqe(
    hamiltonian_name: str,
    *,
    qubits: int = 2,
    optimizer: str = "cobyla",
    iterations: int = 20,
    technique: str | Technique = "zne",
    options: object | None = None,
    noise: NoiseSpec = VQE_NOISE,
    layers: int = 1,
    shots: int = 4000,
    seed: int = 0,
    device: str = "auto",
    method: str = "auto",
    threads: int = 0,
) -> VqeResult:
    """VQE of `hamiltonian_name` (a name in `hamiltonians.HAMILTONIANS`) on Aer under `noise`, minimizing the
    energy mitigated with `technique` (a name in `techniques.TECHNIQUES` or a `Technique`, with `options`, its
    options object, None for its defaults) by `optimizer` for `iterations`.

    Step 0 is the starting point (seeded random angles in [-pi/4, pi/4]); then one step per COBYLA evaluation
    or per SPSA iteration. Raises QecInputError for unknown names and sizes out of range, before anything runs.
    """
    model = hamiltonian(hamiltonian_name, qubits=qubits)
    if optimizer not in OPTIMIZERS:
        raise unknown_choice("optimizer", optimizer, OPTIMIZERS)
    check_integer(iterations, name="iterations", low=1, high=MAX_ITERATIONS, fix="give e.g. 20")
    check_integer(layers, name="layers", low=1, high=MAX_LAYERS, fix="give e.g. 1")
    check_run_options(shots=shots, seed=seed, threads=threads)
    entry = check_technique(technique, noise, qubits=qubits, options=options)
    start_parameters = np.random.default_rng(seed).uniform(-math.pi / 4, math.pi / 4, size=qubits * (layers + 1))
    backend = aer_backend(
        [hardware_efficient_ansatz(qubits, start_parameters, layers)],
        noise=noise,
        device=device,
        method=method,
        shots=shots,
        seed=seed,
        threads=threads,
    )
    observable, operator = model.observable(), model.operator()
    steps: list[VqeStep] = []
    cost = {"circuits": 0}
    started = time.perf_counter()

    def workload_at(parameters: np.ndarray) -> Workload:
        circuit = hardware_efficient_ansatz(qubits, parameters, layers)
        ideal = float(np.real(Statevector(circuit).expectation_value(operator)))
        return Workload(model.name, circuit, observable, ideal)

    def mitigated_energy(task: Workload) -> tuple[float, float | None]:
        estimate = apply_technique(entry, task, backend=backend, noise=noise, options=options, seed=seed)
        cost["circuits"] += estimate.circuits
        return estimate.value, estimate.standard_error

    def record(parameters: np.ndarray) -> float:
        task = workload_at(parameters)
        mitigated, mitigated_error = mitigated_energy(task)
        noisy = apply_technique("none", task, backend=backend, noise=noise)
        cost["circuits"] += noisy.circuits
        steps.append(
            VqeStep(
                len(steps),
                tuple(float(p) for p in parameters),
                noisy.value,
                noisy.standard_error,
                mitigated,
                mitigated_error,
                task.ideal,
            )
        )
        return mitigated

    if optimizer == "cobyla":
        scipy.optimize.minimize(
            record, start_parameters, method="COBYLA", options={"maxiter": iterations + 1, "rhobeg": 0.5}
        )
    else:
        record(start_parameters)
        spsa_minimize(
            lambda parameters: mitigated_energy(workload_at(parameters))[0],
            start_parameters,
            iterations=iterations,
            seed=seed,
            on_step=record,
        )
    return VqeResult(
        model.name,
        qubits,
        optimizer,
        entry.name,
        noise.describe(),
        layers,
        model.ground_energy(),
        tuple(steps),
        cost["circuits"],
        cost["circuits"] * shots,
        time.perf_counter() - started,
    )


def plot_vqe(result: VqeResult, ax) -> None:
    """Draws the energy per step into the matplotlib axes `ax`: noisy, mitigated (with error bars), ideal at the
    same parameters, and the exact ground energy as a line. The caller saves or shows the figure."""
    steps = [s.step for s in result.steps]
    ax.plot(steps, [s.noisy for s in result.steps], "o-", label="noisy", color="tab:red", markersize=3)
    errors = [s.mitigated_standard_error or 0.0 for s in result.steps]
    mitigated = [s.mitigated for s in result.steps]
    label = f"mitigated ({result.technique})"
    ax.errorbar(steps, mitigated, yerr=errors, fmt="s-", label=label, color="tab:blue", markersize=3, capsize=2)
    ax.plot(steps, [s.ideal for s in result.steps], "--", label="ideal at these parameters", color="tab:gray")
    ax.axhline(result.exact_ground_energy, color="black", linewidth=1, label="exact ground energy")
    ax.set_xlabel(f"{result.optimizer} step")
    ax.set_ylabel("energy")
    ax.set_title(f"VQE {result.hamiltonian}, {result.qubits} qubits, noise {result.noise}")
    ax.legend()

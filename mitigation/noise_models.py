"""Aer noise models from a few physical parameters, and their Pauli-twirled rates for Stim.

A `NoiseSpec` holds the rates; `NoiseSpec.to_aer()` builds the Qiskit Aer `NoiseModel`. Every gate of
the circuit (identities included, so identity insertion and DDD scale and see the noise) gets, in this
order, on each qubit it acts on:

| field              | channel after the gate                                            |
|--------------------|-------------------------------------------------------------------|
| `depolarizing_1q`  | 1q gates: each of X, Y, Z with probability p/3 (Stim's DEPOLARIZE1) |
| `depolarizing_2q`  | 2q gates: each of the 15 non-identity Paulis with p/15 (DEPOLARIZE2) |
| `t1_us`, `t2_us`   | thermal relaxation for the gate's duration (`gate_1q_ns`, `gate_2q_ns`) |
| `over_rotation`    | a coherent RX(angle) on every qubit the gate touches                 |
| `readout`          | each measured bit flips with this probability (symmetric)           |

Rates are probabilities in [0, 1]; T1, T2 in microseconds (T2 <= 2 T1), gate times in nanoseconds.
`fake_backend` (e.g. "FakeManilaV2", needs qiskit-ibm-runtime) replaces all of them by that IBM device's
calibrated noise (giving it together with any rate is refused), and `backends.aer_backend` then simulates
that device: its gates, its coupling map, its per-qubit gate errors, T1/T2 and (symmetric) readout errors,
which REM reads back from the device (`fake_readout_errors`).
`NoiseSpec.parse("p2=0.01,readout=0.02")` reads the CLI's `--noise` text.

>>> from qec.mitigation.noise_models import NoiseSpec
>>> spec = NoiseSpec.parse("p2=0.01,readout=0.02")
>>> spec.depolarizing_2q, spec.is_pauli
(0.01, True)
>>> sorted(spec.to_aer().noise_instructions)[:3]
['cx', 'cy', 'cz']
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from qiskit import QuantumCircuit
from qiskit.circuit.library import RXGate
from qiskit_aer.noise import (
    NoiseModel,
    QuantumError,
    ReadoutError,
    coherent_unitary_error,
    pauli_error,
    thermal_relaxation_error,
)

from qec.errors import QecInputError, unknown_choice

GATES_1Q = (
    "id",
    "x",
    "y",
    "z",
    "h",
    "s",
    "sdg",
    "t",
    "tdg",
    "sx",
    "sxdg",
    "rx",
    "ry",
    "rz",
    "u",
    "u1",
    "u2",
    "u3",
    "p",
    "r",
)
GATES_2Q = ("cx", "cy", "cz", "swap", "ecr", "rzz", "iswap")

# The keys of `NoiseSpec.parse` (the CLI's --noise): the short name -> the NoiseSpec field.
NOISE_KEYS = {
    "p1": "depolarizing_1q",
    "p2": "depolarizing_2q",
    "readout": "readout",
    "t1": "t1_us",
    "t2": "t2_us",
    "t1q": "gate_1q_ns",
    "t2q": "gate_2q_ns",
    "rotation": "over_rotation",
    "fake": "fake_backend",
}
_PROBABILITIES = ("depolarizing_1q", "depolarizing_2q", "readout")


@dataclass(frozen=True)
class NoiseSpec:
    """The noise of a simulated device (see the module docstring for where each channel goes)."""

    depolarizing_1q: float = 0.0
    depolarizing_2q: float = 0.0
    readout: float = 0.0
    t1_us: float = math.inf
    t2_us: float = math.inf
    gate_1q_ns: float = 50.0
    gate_2q_ns: float = 300.0
    over_rotation: float = 0.0
    fake_backend: str | None = None

    def __post_init__(self):
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise QecInputError(f"{name} must be a probability in [0, 1], got {value}: give a rate such as 0.01")
        if not (self.t1_us > 0 and self.t2_us > 0):
            raise QecInputError(f"T1 and T2 must be > 0 microseconds, got t1={self.t1_us}, t2={self.t2_us}")
        if self.t2_us > 2 * self.t1_us:
            raise QecInputError(
                f"T2 = {self.t2_us} us exceeds 2 T1 = {2 * self.t1_us} us, which is unphysical: use t2 <= 2*t1"
            )
        if not (0 <= self.gate_1q_ns < math.inf and 0 <= self.gate_2q_ns < math.inf):
            raise QecInputError(
                f"gate times must be finite and >= 0 nanoseconds, got t1q={self.gate_1q_ns}, "
                f"t2q={self.gate_2q_ns}: give e.g. t1q=50,t2q=300"
            )
        if not math.isfinite(self.over_rotation):
            raise QecInputError(
                f"rotation must be a finite angle in radians, got {self.over_rotation}: give e.g. rotation=0.02"
            )
        if self.fake_backend is not None:
            given = [
                field.name
                for field in dataclasses.fields(self)
                if field.name != "fake_backend" and getattr(self, field.name) != field.default
            ]
            if given:
                names = {field: key for key, field in NOISE_KEYS.items()}
                raise QecInputError(
                    f"fake={self.fake_backend} brings that device's calibrated noise, so "
                    f"{', '.join(names[name] for name in given)} would be ignored: give either "
                    "fake=NAME alone or rates (p1, p2, readout, ...)"
                )

    @classmethod
    def parse(cls, text: str) -> NoiseSpec:
        """Reads comma-separated `key=value` pairs; keys: p1, p2, readout, t1, t2, t1q, t2q, rotation, fake.

        >>> NoiseSpec.parse("p1=0.001,t1=50,t2=70").t2_us
        70.0
        """
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, value = item.partition("=")
            if key not in NOISE_KEYS or not value:
                raise QecInputError(
                    f"bad noise term {item!r}: use comma-separated key=value with keys "
                    f"{', '.join(NOISE_KEYS)} (e.g. 'p2=0.01,readout=0.02')"
                )
            if key == "fake":
                values[NOISE_KEYS[key]] = value
                continue
            try:
                values[NOISE_KEYS[key]] = float(value)
            except ValueError:
                raise QecInputError(f"noise term {item!r} needs a number, e.g. {key}=0.01") from None
        return cls(**values)

    @property
    def is_pauli(self) -> bool:
        """True when every channel is a Pauli channel (so a stabilizer simulation is exact)."""
        return (
            math.isinf(self.t1_us) and math.isinf(self.t2_us) and self.over_rotation == 0 and self.fake_backend is None
        )

    def channel_1q(self) -> QuantumError | None:
        """The error after a 1-qubit gate, or None when there is none."""
        return _compose([_depolarizing(self.depolarizing_1q, 1), self._relaxation(self.gate_1q_ns), self._rotation()])

    def channel_2q(self) -> QuantumError | None:
        """The error after a 2-qubit gate, or None when there is none."""
        local = _compose([self._relaxation(self.gate_2q_ns), self._rotation()])
        return _compose([_depolarizing(self.depolarizing_2q, 2), None if local is None else local.tensor(local)])

    def pauli_twirled_1q(self, gate_ns: float) -> tuple[float, float, float]:
        """(p_x, p_y, p_z) of the Pauli twirl of this spec's non-depolarizing 1q noise over `gate_ns`.

        Each channel is twirled on its own and the resulting Pauli channels composed: thermal relaxation
        gives p_x = p_y = (1 - e^{-t/T1})/4, p_z = (1 - e^{-t/T2})/2 - p_x; RX(angle) gives
        p_x = sin^2(angle/2).

        >>> NoiseSpec(over_rotation=math.pi).pauli_twirled_1q(50.0)
        (1.0, 0.0, 0.0)
        """
        t_us = gate_ns / 1000
        decay_1 = 1 - math.exp(-t_us / self.t1_us)
        decay_2 = 1 - math.exp(-t_us / self.t2_us)
        relax = (decay_1 / 4, decay_1 / 4, decay_2 / 2 - decay_1 / 4)
        flip = math.sin(self.over_rotation / 2) ** 2
        return _compose_pauli(relax, (flip, 0.0, 0.0))

    def to_aer(self) -> NoiseModel:
        """The Aer noise model; a fake IBM backend's model when `fake_backend` is set."""
        if self.fake_backend is not None:
            return NoiseModel.from_backend(fake_backend(self.fake_backend))
        model = NoiseModel(basis_gates=list(GATES_1Q + GATES_2Q))
        one, two = self.channel_1q(), self.channel_2q()
        if one is not None:
            model.add_all_qubit_quantum_error(one, list(GATES_1Q))
        if two is not None:
            model.add_all_qubit_quantum_error(two, list(GATES_2Q))
        if self.readout > 0:
            model.add_all_qubit_readout_error(
                ReadoutError([[1 - self.readout, self.readout], [self.readout, 1 - self.readout]])
            )
        return model

    def describe(self) -> str:
        """The non-default fields as the `--noise` text that parses back to this spec."""
        default = NoiseSpec()
        names = {field: key for key, field in NOISE_KEYS.items()}
        return (
            ",".join(
                f"{names[f.name]}={getattr(self, f.name)}"
                for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)
            )
            or "none"
        )

    def _relaxation(self, gate_ns: float) -> QuantumError | None:
        if math.isinf(self.t1_us) and math.isinf(self.t2_us) or gate_ns == 0:
            return None
        return thermal_relaxation_error(self.t1_us * 1000, self.t2_us * 1000, gate_ns)

    def _rotation(self) -> QuantumError | None:
        return None if self.over_rotation == 0 else coherent_unitary_error(RXGate(self.over_rotation).to_matrix())


def fake_backend(name: str):
    """The fake IBM backend `name` (e.g. "FakeManilaV2"): a device snapshot with its calibrated noise, offline.

    Needs the package qiskit-ibm-runtime, which holds the fake backends.
    """
    known = fake_backend_names(name)
    if name not in known:
        raise unknown_choice("fake backend", name, known)
    from qiskit_ibm_runtime import fake_provider

    return getattr(fake_provider, name)()


def fake_backend_names(wanted: str = "") -> list[str]:
    """The fake IBM backends the installed qiskit-ibm-runtime holds (its `FakeBackendV2` classes), sorted.

    Raises QecInputError, naming `wanted`, when qiskit-ibm-runtime is not installed.
    """
    try:
        from qiskit_ibm_runtime import fake_provider
        from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2
    except ImportError:
        raise QecInputError(
            f"fake backend {wanted!r} needs the package 'qiskit-ibm-runtime'; install it (pip "
            "install qiskit-ibm-runtime, or the qec[ibm] extra) or give the noise as rates (p1, p2, "
            "readout, ...)"
        ) from None
    return sorted(
        n
        for n, obj in vars(fake_provider).items()
        if isinstance(obj, type) and issubclass(obj, FakeBackendV2) and obj is not FakeBackendV2
    )


def fake_readout_errors(backend) -> tuple[float, ...]:
    """Per physical qubit of a fake backend, the probability that its measurement flips the bit.

    That is the target's `measure` error, which `NoiseModel.from_backend` (so `AerSimulator.from_backend`)
    applies as a symmetric readout error; 0 where the snapshot has none.
    """
    measure = backend.target.get("measure", {})
    errors = []
    for qubit in range(backend.num_qubits):
        properties = measure.get((qubit,))
        errors.append(float(properties.error) if properties is not None and properties.error is not None else 0.0)
    return tuple(errors)


# Instructions that carry no gate error by nature: readout is its own channel, the rest do nothing.
_NOT_GATES = frozenset({"measure", "barrier", "id", "delay", "reset"})


def gates_without_error(model: NoiseModel, circuit: QuantumCircuit) -> tuple[str, ...]:
    """The gates of `circuit` (already in the model's basis gates, as the simulator runs it) for which `model`
    holds no quantum error: a name alone where it has none on any of the circuit's qubits, "name on qubits ..."
    where it has errors on other qubits only. Aer runs those gates noiseless.

    >>> from qiskit_aer.noise import depolarizing_error
    >>> model = NoiseModel()
    >>> model.add_all_qubit_quantum_error(depolarizing_error(0.01, 2), ["cx"])
    >>> model.add_quantum_error(depolarizing_error(0.01, 1), ["sx"], [0])
    >>> circuit = QuantumCircuit(2)
    >>> _ = circuit.sx(0), circuit.sx(1), circuit.rz(0.1, 0), circuit.cx(0, 1), circuit.measure_all()
    >>> gates_without_error(model, circuit)
    ('rz', 'sx on qubits (1,)')
    """
    everywhere: set[str] = set()
    local: dict[str, set[tuple[int, ...]]] = {}
    for error in model.to_dict()["errors"]:
        if error["type"] != "qerror":
            continue
        for name in error["operations"]:
            if "gate_qubits" in error:
                local.setdefault(name, set()).update(tuple(int(q) for q in qubits) for qubits in error["gate_qubits"])
            else:
                everywhere.add(name)
    missing: dict[str, set[tuple[int, ...]]] = {}
    for instruction in circuit.data:
        name = instruction.operation.name
        if name in _NOT_GATES or name in everywhere:
            continue
        qubits = tuple(circuit.find_bit(qubit).index for qubit in instruction.qubits)
        if qubits not in local.get(name, ()):
            missing.setdefault(name, set()).add(qubits)
    return tuple(
        name if name not in local else f"{name} on qubits {', '.join(map(str, sorted(qubits)))}"
        for name, qubits in sorted(missing.items())
    )


def _depolarizing(p: float, num_qubits: int) -> QuantumError | None:
    """Stim's DEPOLARIZE1/2(p): each non-identity Pauli with probability p / (4^n - 1)."""
    if p == 0:
        return None
    labels = ["I", "X", "Y", "Z"] if num_qubits == 1 else [a + b for a in "IXYZ" for b in "IXYZ"]
    share = p / (len(labels) - 1)
    return pauli_error([(label, share if label.strip("I") else 1 - p) for label in labels])


def _compose(errors: list[QuantumError | None]) -> QuantumError | None:
    present = [error for error in errors if error is not None]
    if not present:
        return None
    total = present[0]
    for error in present[1:]:
        total = total.compose(error)
    return total


def _compose_pauli(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    """The (p_x, p_y, p_z) of Pauli channel a followed by Pauli channel b."""
    a_i, b_i = 1 - sum(a), 1 - sum(b)
    x = a[0] * b_i + a_i * b[0] + a[1] * b[2] + a[2] * b[1]
    y = a[1] * b_i + a_i * b[1] + a[0] * b[2] + a[2] * b[0]
    z = a[2] * b_i + a_i * b[2] + a[0] * b[1] + a[1] * b[0]
    return x, y, z

"""Layer noise learning: a sparse Pauli-Lindblad model of each distinct layer of two-qubit gates, learned on Aer.

After van den Berg, Minev, Kandala and Temme, Nat. Phys. 19, 1116 (2023). A circuit (transpiled: one- and
two-qubit gates, the two-qubit ones parameter-free Cliffords such as cx, cz, ecr) is cut into alternating parts
by `layered`: one-qubit gates, then a *layer* of disjoint two-qubit gates, and so on. The noise of a Pauli-twirled
layer is modelled as a channel after its ideal gates,

    Lambda(rho) = prod_k exp(lambda_k (P_k rho P_k - rho)),   lambda_k >= 0,

whose generators P_k are the weight-1 Paulis on every active qubit and the weight-2 Paulis on every neighbouring
pair (the pairs the circuit's layers couple, plus any `coupling` given). A Pauli Q then keeps fidelity
f_Q = exp(-2 sum_{k: P_k anticommutes with Q} lambda_k).

`learn_layer_noise(circuit, backend)` learns each distinct layer from twirled layer-fidelity circuits: every
active qubit is prepared in a product eigenstate (X, Y or Z by a colouring of the coupling graph, so that every
pair sees all 9 combinations), the twirled layer is repeated d times (d a multiple of the layer's order, default
0, 2, 4, 8, 16 for a self-inverse layer) and each generator Q is read from the measured bits. Its expectation
decays as A exp(-r_Q d / k) for a layer of order k; the SPAM factor A drops out of the rate r_Q (a weighted fit of
log values over depth). Repeating the layer learns only the product of the fidelities along Q's orbit under the
layer (Q, U Q U^dagger, ...); following the paper, each is taken to be the geometric mean (the symmetry
assumption), -log f_Q = r_Q / k. The generator rates are the non-negative least-squares solution of
2 M lambda = -log f (M_Qk = 1 where Q and P_k anticommute), weighted by each fidelity's error; their error bars
are the spread of `BOOTSTRAP_DRAWS` refits with the fidelities drawn from their errors.

The result, `LearnedNoise`, is a frozen dataclass with one `LayerNoise` per layer; it is stored as JSON
(`save`/`load`, `to_json`/`from_json`, checked field by field at load) and holds for every parameter value of
circuits whose two-qubit layers are the same.

>>> from qiskit import QuantumCircuit
>>> circuit = QuantumCircuit(2)
>>> _ = circuit.h(0), circuit.cx(0, 1), circuit.rz(0.3, 1), circuit.cx(0, 1)
>>> parts = layered(circuit)
>>> [layer.describe() for layer in parts.layers], [len(single) for single in parts.singles]
(['cx(0,1)', 'cx(0,1)'], [1, 1, 0])
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import CircuitInstruction
from qiskit.circuit.library import get_standard_gate_name_mapping
from qiskit.quantum_info import Clifford, Pauli
from scipy.optimize import nnls

from qec.errors import QecInputError
from qec.mitigation.backends import Backend, check_integer

PAULI_LETTERS = "IXYZ"
# Letter -> (x, z) bits of its symplectic form, and back.
_SYMPLECTIC = {"I": (False, False), "X": (True, False), "Y": (True, True), "Z": (False, True)}
_LETTER = {bits: letter for letter, bits in _SYMPLECTIC.items()}
FORMAT = "qec.layer_noise"
VERSION = 1
BOOTSTRAP_DRAWS = 200  # the error of a standard deviation from n draws is 1/sqrt(2n): 5% here
DEFAULT_TWIRLS = 8
MAX_TWIRLS = 1000
MAX_DEPTH = 1000
MAX_ORDER = 12  # a layer whose Clifford is not the identity after this many repetitions is refused
MAX_BASES = 27  # 3^colours measurement bases; a coupling graph needing more than 3 colours is refused
MAX_JSON_BYTES = 50_000_000
MAX_QUBITS = 10_000
# A learned Pauli's mean must stand this many standard errors above 0 at a depth for that depth to enter its fit.
SIGNIFICANCE = 3.0


@functools.cache
def _standard_gate(name: str) -> Any:
    """Qiskit's standard gate `name` (its name mapping is rebuilt on every call: this keeps one)."""
    return get_standard_gate_name_mapping()[name]


_PAULI_GATES = {letter: _standard_gate(name) for letter, name in zip(PAULI_LETTERS, ("id", "x", "y", "z"))}


@functools.cache
def _gate_table(name: str) -> dict[tuple[str, str], tuple[str, str]]:
    """For a two-qubit Clifford gate, (letter on its first qubit, on its second) -> the letters of U P U^dagger."""
    clifford = Clifford(_standard_gate(name))
    table = {}
    for first in PAULI_LETTERS:
        for second in PAULI_LETTERS:
            image = Pauli(second + first).evolve(clifford, frame="s")  # Qiskit labels put qubit 0 rightmost
            letters = image.to_label().lstrip("-i")
            table[first, second] = (letters[1], letters[0])
    return table


def _layer_gates() -> frozenset[str]:
    """Qiskit's standard two-qubit gates without parameters that are Cliffords (cx, cz, cy, ecr, swap, ...)."""
    names = set()
    for name, gate in get_standard_gate_name_mapping().items():
        if gate.num_qubits == 2 and not gate.params:
            try:
                Clifford(gate)
            except Exception:  # noqa: BLE001, S112 (a gate Qiskit cannot make a Clifford is simply not one)
                continue
            names.add(name)
    return frozenset(names)


LAYER_GATES = _layer_gates()


@dataclass(frozen=True)
class LocalPauli:
    """A Pauli on a few qubits: `letters[i]` (X, Y or Z) acts on qubit `qubits[i]`; qubits distinct, increasing."""

    letters: str
    qubits: tuple[int, ...]

    def __post_init__(self):
        if len(self.letters) != len(self.qubits) or any(letter not in "XYZ" for letter in self.letters):
            raise QecInputError(
                f"Pauli {self.letters!r} on qubits {list(self.qubits)} must give one of X, Y, Z per qubit"
            )
        if list(self.qubits) != sorted(set(self.qubits)) or any(q < 0 for q in self.qubits):
            raise QecInputError(f"Pauli qubits must be distinct, increasing and >= 0, got {list(self.qubits)}")

    def describe(self) -> str:
        """`X0 Z1` for X on qubit 0 and Z on qubit 1."""
        return " ".join(f"{letter}{qubit}" for letter, qubit in zip(self.letters, self.qubits))

    def symplectic(self, num_qubits: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, z): bool arrays of shape (num_qubits,)."""
        x, z = np.zeros(num_qubits, dtype=bool), np.zeros(num_qubits, dtype=bool)
        for letter, qubit in zip(self.letters, self.qubits):
            x[qubit], z[qubit] = _SYMPLECTIC[letter]
        return x, z


@dataclass(frozen=True)
class Layer:
    """One layer of disjoint two-qubit Clifford gates, each (name, (first qubit, second qubit)), in sorted order."""

    gates: tuple[tuple[str, tuple[int, int]], ...]

    def __post_init__(self):
        if not self.gates:
            raise QecInputError("a layer needs at least one two-qubit gate")
        seen: set[int] = set()
        for name, qubits in self.gates:
            if name not in LAYER_GATES:
                raise QecInputError(
                    f"two-qubit gate {name!r} is not a parameter-free Clifford gate, so its layer cannot be twirled "
                    f"or learned: transpile to {', '.join(sorted(LAYER_GATES))}"
                )
            if len(qubits) != 2 or qubits[0] == qubits[1] or min(qubits) < 0:
                raise QecInputError(f"gate {name} must act on two distinct qubits >= 0, got {list(qubits)}")
            if seen & set(qubits):
                raise QecInputError(f"the gates of a layer must act on disjoint qubits, got {self.describe()}")
            seen |= set(qubits)
        if list(self.gates) != sorted(self.gates):
            raise QecInputError("a layer's gates must be sorted: build it with Layer.of(...)")

    @classmethod
    def of(cls, gates: Iterable[tuple[str, Sequence[int]]]) -> Layer:
        """The layer of these gates, in any order."""
        return cls(tuple(sorted((str(name), (int(qubits[0]), int(qubits[1]))) for name, qubits in gates)))

    @property
    def qubits(self) -> tuple[int, ...]:
        return tuple(sorted(q for _, qubits in self.gates for q in qubits))

    def describe(self) -> str:
        """`cx(0,1) cz(2,3)`."""
        return " ".join(f"{name}({a},{b})" for name, (a, b) in self.gates)

    def conjugate(self, x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """U P U^dagger of the Pauli (x, z) (bool arrays, one entry per qubit), its sign dropped."""
        x, z = x.copy(), z.copy()
        for name, (a, b) in self.gates:
            first, second = _gate_table(name)[_LETTER[x[a], z[a]], _LETTER[x[b], z[b]]]
            (x[a], z[a]), (x[b], z[b]) = _SYMPLECTIC[first], _SYMPLECTIC[second]
        return x, z

    @functools.cached_property
    def order(self) -> int:
        """The least k >= 1 with U^k the identity (up to a phase): 2 for cx, cz, ecr, swap."""
        circuit = QuantumCircuit(max(self.qubits) + 1)
        for name, qubits in self.gates:
            circuit.append(_standard_gate(name), list(qubits))
        clifford = Clifford(circuit)
        identity, power = Clifford(QuantumCircuit(circuit.num_qubits)), clifford
        for k in range(1, MAX_ORDER + 1):
            if power == identity:
                return k
            power = power.compose(clifford)
        raise QecInputError(
            f"layer {self.describe()} is not the identity after {MAX_ORDER} repetitions, so its fidelities cannot be "
            "learned by repeating it: use gates such as cx, cz or ecr"
        )


@dataclass(frozen=True)
class LayeredCircuit:
    """A circuit cut into parts: `singles[i]` (one-qubit instructions, in order) runs before `layers[i]`, whose
    gates are `layer_instructions[i]`, and `singles[-1]` after the last layer. `template` is the circuit emptied
    (its registers, no instructions)."""

    template: QuantumCircuit
    singles: tuple[tuple[CircuitInstruction, ...], ...]
    layers: tuple[Layer, ...]
    layer_instructions: tuple[tuple[CircuitInstruction, ...], ...]

    @property
    def num_qubits(self) -> int:
        return self.template.num_qubits

    @functools.cached_property
    def active_qubits(self) -> tuple[int, ...]:
        """The qubits some instruction acts on."""
        return tuple(
            sorted(
                {
                    self.template.find_bit(q).index
                    for part in self.singles + self.layer_instructions
                    for instruction in part
                    for q in instruction.qubits
                }
            )
        )

    def distinct_layers(self) -> tuple[Layer, ...]:
        """Each layer once, in order of first appearance."""
        return tuple(dict.fromkeys(self.layers))


def layered(circuit: QuantumCircuit) -> LayeredCircuit:
    """`circuit` cut into one-qubit parts and layers of two-qubit gates, each gate as early as it can go.

    Barriers are dropped. Raises QecInputError for measurements, resets, classical control and gates on three or
    more qubits (transpile first and give the observable separately), and for two-qubit gates that are not
    parameter-free Cliffords (`LAYER_GATES`).
    """
    level = [0] * circuit.num_qubits  # how many layers each qubit has been through
    singles: dict[int, list[CircuitInstruction]] = {}
    layers: dict[int, list[CircuitInstruction]] = {}
    for instruction in circuit.data:
        operation = instruction.operation
        if operation.name == "barrier":
            continue
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.clbits or operation.name in ("measure", "reset") or not qubits:
            raise QecInputError(
                f"the circuit has a {operation.name!r} instruction: give it without measurements, resets or "
                "classical control (the observable says what is measured)"
            )
        if len(qubits) == 1:
            singles.setdefault(level[qubits[0]], []).append(instruction)
        elif len(qubits) == 2:
            if operation.name not in LAYER_GATES or operation.params:
                raise QecInputError(
                    f"two-qubit gate {operation.name!r} is not a parameter-free Clifford gate, so its layer cannot be "
                    f"twirled or learned: transpile to {', '.join(sorted(LAYER_GATES))}"
                )
            index = max(level[q] for q in qubits) + 1
            layers.setdefault(index, []).append(instruction)
            for q in qubits:
                level[q] = index
        else:
            raise QecInputError(
                f"gate {operation.name!r} acts on {len(qubits)} qubits: transpile the circuit to one- and two-qubit "
                "gates first"
            )
    count = max(level, default=0)
    gate_lists = [layers.get(i, []) for i in range(1, count + 1)]
    return LayeredCircuit(
        template=circuit.copy_empty_like(),
        singles=tuple(tuple(singles.get(i, [])) for i in range(count + 1)),
        layers=tuple(
            Layer.of((i.operation.name, [circuit.find_bit(q).index for q in i.qubits]) for i in gates)
            for gates in gate_lists
        ),
        layer_instructions=tuple(tuple(gates) for gates in gate_lists),
    )


@dataclass(frozen=True)
class LayerNoise:
    """The learned sparse Pauli-Lindblad model of one layer: `rates[k]` (lambda_k >= 0) of `generators[k]`, and
    its 1-sigma error `rate_errors[k]` (bootstrap)."""

    layer: Layer
    generators: tuple[LocalPauli, ...]
    rates: tuple[float, ...]
    rate_errors: tuple[float, ...]

    def __post_init__(self):
        if not len(self.generators) == len(self.rates) == len(self.rate_errors):
            raise QecInputError("a layer's generators, rates and rate errors must be as many")
        if len(set(self.generators)) < len(self.generators):
            raise QecInputError(f"layer {self.layer.describe()} has a repeated generator")
        for values, what in ((self.rates, "rate"), (self.rate_errors, "rate error")):
            if not all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in values):
                raise QecInputError(f"every {what} of layer {self.layer.describe()} must be a finite float >= 0")

    @property
    def total_rate(self) -> float:
        """sum_k lambda_k."""
        return float(sum(self.rates))

    @property
    def gamma(self) -> float:
        """exp(2 sum_k lambda_k): the one-norm of the quasi-probability inverse of this layer's channel (PEC)."""
        return math.exp(2 * self.total_rate)

    def fidelity(self, pauli: LocalPauli, num_qubits: int) -> float:
        """f_Q = exp(-2 sum of the rates of the generators that anticommute with `pauli`).

        >>> noise = LayerNoise(Layer.of([("cx", (0, 1))]), (LocalPauli("X", (0,)),), (0.01,), (0.001,))
        >>> round(noise.fidelity(LocalPauli("Z", (0,)), 2), 6), noise.fidelity(LocalPauli("X", (0,)), 2)
        (0.980199, 1.0)
        """
        x, z = pauli.symplectic(num_qubits)
        exponent = sum(
            rate for generator, rate in zip(self.generators, self.rates) if _anticommute((x, z), generator, num_qubits)
        )
        return math.exp(-2 * exponent)


@dataclass(frozen=True)
class LearnedNoise:
    """The learned noise of each distinct layer of a circuit on `num_qubits` qubits, and how it was learned
    (`shots` per circuit, layer repetitions `depths`, `twirls` per basis and depth)."""

    num_qubits: int
    layers: tuple[LayerNoise, ...]
    shots: int
    depths: tuple[int, ...]
    twirls: int

    def __post_init__(self):
        layers = [noise.layer for noise in self.layers]
        if len(set(layers)) < len(layers):
            raise QecInputError("learned noise names a layer twice")
        for noise in self.layers:
            qubits = list(noise.layer.qubits) + [q for g in noise.generators for q in g.qubits]
            if max(qubits) >= self.num_qubits:
                raise QecInputError(
                    f"layer {noise.layer.describe()} acts on qubit {max(qubits)} but the noise is for "
                    f"{self.num_qubits} qubits"
                )

    def for_layer(self, layer: Layer) -> LayerNoise:
        """The learned model of `layer`; QecInputError when it was not learned."""
        for noise in self.layers:
            if noise.layer == layer:
                return noise
        raise QecInputError(
            f"layer {layer.describe()} was not learned (learned: {'; '.join(n.layer.describe() for n in self.layers)}"
            "): learn the noise of this circuit with learn_layer_noise"
        )

    def describe(self) -> str:
        """One line: layers, generators, mean and largest rate."""
        rates = [rate for noise in self.layers for rate in noise.rates]
        generators = sum(len(noise.generators) for noise in self.layers)
        return (
            f"{len(self.layers)} layer{'s' * (len(self.layers) != 1)}, {generators} generators, rates mean "
            f"{np.mean(rates) if rates else 0:.3g} max {max(rates, default=0):.3g} "
            f"(depths {','.join(map(str, self.depths))}, {self.twirls} twirls, {self.shots} shots)"
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (see `from_json`)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "num_qubits": self.num_qubits,
            "shots": self.shots,
            "depths": list(self.depths),
            "twirls": self.twirls,
            "layers": [
                {
                    "gates": [[name, a, b] for name, (a, b) in noise.layer.gates],
                    "generators": [
                        {"pauli": g.letters, "qubits": list(g.qubits), "rate": rate, "error": error}
                        for g, rate, error in zip(noise.generators, noise.rates, noise.rate_errors)
                    ],
                }
                for noise in self.layers
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> LearnedNoise:
        """Reads `to_json`'s text, checking every field; raises QecInputError (one line) for anything else.

        >>> LearnedNoise.from_json('{"format": "qec.layer_noise", "version": 1, "num_qubits": -2}')
        Traceback (most recent call last):
        ...
        qec.errors.QecInputError: learned noise field 'num_qubits' must be an integer in [1, 10000], got -2
        """
        if len(text) > MAX_JSON_BYTES:
            raise QecInputError(f"learned noise JSON is over {MAX_JSON_BYTES:,} characters: give a learned-noise file")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            raise QecInputError(f"learned noise is not JSON ({reason}): give a file save wrote") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise QecInputError(f"learned noise JSON must be an object with format {FORMAT!r}: give a file save wrote")
        if data.get("version") != VERSION:
            raise QecInputError(f"learned noise version {data.get('version')!r} is not {VERSION}: learn it again")
        num_qubits = _integer(data, "num_qubits", 1, MAX_QUBITS)
        layers = _field(data, "layers", list)
        return cls(
            num_qubits=num_qubits,
            layers=tuple(_layer_noise(entry, num_qubits) for entry in layers),
            shots=_integer(data, "shots", 1, 10**9),
            depths=tuple(_checked_int(d, "depths", 0, MAX_DEPTH) for d in _field(data, "depths", list)),
            twirls=_integer(data, "twirls", 1, MAX_TWIRLS),
        )

    def save(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> LearnedNoise:
        """Reads a file `save` wrote; QecInputError when it is missing, unreadable or not such a file."""
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read(MAX_JSON_BYTES + 1)
        except (OSError, UnicodeDecodeError) as error:
            raise QecInputError(f"cannot read learned noise {os.fspath(path)!r}: {error}") from None
        return cls.from_json(text)


def _field(data: dict, name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise QecInputError(f"learned noise field {name!r} must be a {kind.__name__}, got {value!r:.60}")
    return value


def _checked_int(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise QecInputError(f"learned noise field {name!r} must be an integer in [{low}, {high}], got {value!r:.60}")
    return value


def _integer(data: dict, name: str, low: int, high: int) -> int:
    return _checked_int(data.get(name), name, low, high)


def _checked_float(value: object, name: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise QecInputError(f"learned noise field {name!r} must be a finite number >= 0, got {value!r:.60}")
    return float(value)


def _layer_noise(entry: object, num_qubits: int) -> LayerNoise:
    if not isinstance(entry, dict):
        raise QecInputError("each learned layer must be an object with 'gates' and 'generators'")
    gates = []
    for gate in _field(entry, "gates", list):
        if not isinstance(gate, list) or len(gate) != 3 or not isinstance(gate[0], str):
            raise QecInputError(f"a learned layer's gate must be [name, qubit, qubit], got {gate!r:.60}")
        gates.append(
            (
                gate[0],
                (_checked_int(gate[1], "gates", 0, num_qubits - 1), _checked_int(gate[2], "gates", 0, num_qubits - 1)),
            )
        )
    generators, rates, errors = [], [], []
    for generator in _field(entry, "generators", list):
        if not isinstance(generator, dict):
            raise QecInputError("each generator must be an object with pauli, qubits, rate and error")
        letters = _field(generator, "pauli", str)
        qubits = tuple(_checked_int(q, "qubits", 0, num_qubits - 1) for q in _field(generator, "qubits", list))
        generators.append(LocalPauli(letters, qubits))
        rates.append(_checked_float(generator.get("rate"), "rate"))
        errors.append(_checked_float(generator.get("error"), "error"))
    if list(gates) != sorted(gates):
        raise QecInputError("a learned layer's gates must be sorted by name and qubits, as save writes them")
    return LayerNoise(Layer(tuple(gates)), tuple(generators), tuple(rates), tuple(errors))


def _anticommute(pauli: tuple[np.ndarray, np.ndarray], generator: LocalPauli, num_qubits: int) -> bool:
    x, z = pauli
    gx, gz = generator.symplectic(num_qubits)
    return bool((np.sum(x & gz) + np.sum(z & gx)) % 2)


def model_generators(qubits: Sequence[int], pairs: Iterable[tuple[int, int]]) -> tuple[LocalPauli, ...]:
    """The sparse model's generators: X, Y, Z on each of `qubits`, then the 9 two-qubit Paulis on each pair.

    >>> [g.describe() for g in model_generators([0, 1], [(0, 1)])][:4]
    ['X0', 'Y0', 'Z0', 'X1']
    >>> len(model_generators([0, 1, 2], [(0, 1), (1, 2)]))
    27
    """
    singles = [LocalPauli(letter, (q,)) for q in sorted(qubits) for letter in "XYZ"]
    doubles = [
        LocalPauli(a + b, (p, q))
        for p, q in sorted({tuple(sorted(pair)) for pair in pairs})
        for a in "XYZ"
        for b in "XYZ"
    ]
    return tuple(singles + doubles)


def measurement_bases(qubits: Sequence[int], pairs: Iterable[tuple[int, int]]) -> list[dict[int, str]]:
    """Product bases (qubit -> X, Y or Z) in which every qubit sees X, Y and Z and every pair all 9 combinations:
    one letter per colour of a proper colouring of the coupling graph, all 3^colours assignments.

    >>> len(measurement_bases([0, 1, 2], [(0, 1), (1, 2)])), len(measurement_bases([0, 1, 2], [(0, 1), (1, 2), (0, 2)]))
    (9, 27)
    """
    neighbours: dict[int, set[int]] = {q: set() for q in qubits}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    colour: dict[int, int] = {}
    for q in sorted(qubits, key=lambda q: (-len(neighbours[q]), q)):  # greedy, largest degree first
        used = {colour[n] for n in neighbours[q] if n in colour}
        colour[q] = min(c for c in range(len(qubits) + 1) if c not in used)
    colours = max(colour.values(), default=0) + 1
    if 3**colours > MAX_BASES:
        raise QecInputError(
            f"the coupling graph of these layers needs {colours} colours ({3**colours} measurement bases, more than "
            f"{MAX_BASES}): learn circuits whose coupling is a line, a heavy-hex or another 3-colourable graph"
        )
    bases = []
    for index in range(3**colours):
        letters = [("X", "Y", "Z")[(index // 3**c) % 3] for c in range(colours)]
        bases.append({q: letters[colour[q]] for q in qubits})
    return bases


def twirl_gates(
    circuit: QuantumCircuit, layer: Layer, rng: np.random.Generator, extra: tuple[np.ndarray, np.ndarray] | None = None
) -> None:
    """Appends the layer to `circuit` Pauli-twirled: a random Pauli on each of its qubits before the gates and
    U P U^dagger after, one gate per layer qubit on each side (id, x, y or z), so the twirled layer is the layer.

    `extra` (x, z bool arrays over all qubits): a Pauli to apply after the layer (PEC's and PEA's sampled errors),
    merged into the gates after it; on qubits outside the layer it is one more x, y or z gate.
    """
    bits = circuit.qubits
    draws = rng.integers(0, 4, size=len(layer.qubits)).tolist()
    before = {q: PAULI_LETTERS[draw] for q, draw in zip(layer.qubits, draws)}
    for q, letter in before.items():
        circuit._append(CircuitInstruction(_PAULI_GATES[letter], (bits[q],)))
    after = {}
    for name, (a, b) in layer.gates:
        circuit._append(CircuitInstruction(_standard_gate(name), (bits[a], bits[b])))
        after[a], after[b] = _gate_table(name)[before[a], before[b]]
    if extra is not None:
        for q in np.flatnonzero(extra[0] | extra[1]).tolist():
            x, z = _SYMPLECTIC[after.get(q, "I")]
            after[q] = _LETTER[x ^ bool(extra[0][q]), z ^ bool(extra[1][q])]
    for q in sorted(after):
        if after[q] != "I" or q in before:
            circuit._append(CircuitInstruction(_PAULI_GATES[after[q]], (bits[q],)))


def _fidelity_circuit(
    layer: Layer, basis: dict[int, str], depth: int, num_qubits: int, rng: np.random.Generator
) -> QuantumCircuit:
    """Prepares each qubit of `basis` in the +1 eigenstate of its letter, repeats the twirled layer `depth` times,
    rotates back and measures those qubits (clbit j = the j-th qubit of `basis` in order)."""
    qubits = sorted(basis)
    circuit = QuantumCircuit(num_qubits, len(qubits))
    for q in qubits:
        if basis[q] in "XY":
            circuit.h(q)
        if basis[q] == "Y":
            circuit.s(q)
    for _ in range(depth):
        twirl_gates(circuit, layer, rng)
    for q in qubits:
        if basis[q] == "Y":
            circuit.sdg(q)
        if basis[q] in "XY":
            circuit.h(q)
    circuit.measure(qubits, list(range(len(qubits))))
    return circuit


def learn_layer_noise(
    circuit: QuantumCircuit | Sequence[Layer],
    backend: Backend,
    *,
    num_qubits: int | None = None,
    depths: Sequence[int] | None = None,
    twirls: int = DEFAULT_TWIRLS,
    coupling: Iterable[tuple[int, int]] = (),
    seed: int | None = None,
) -> LearnedNoise:
    """Learns the sparse Pauli-Lindblad model of each distinct layer of `circuit` on `backend` (its shots and
    seed per circuit), all circuits of all layers in one Aer run.

    Args:
        circuit: a transpiled circuit (`layered` cuts it; its active qubits carry weight-1 generators), or the
            layers themselves (their qubits are the active ones; give `num_qubits` then, else one more than the
            largest qubit).
        depths: layer repetitions, each a multiple of every layer's order, at least two distinct; default
            order * (0, 1, 2, 4, 8), i.e. 0, 2, 4, 8, 16 for cx, cz or ecr layers.
        twirls: random twirls per basis and depth (>= 2: a fidelity's error is their spread).
        coupling: pairs of qubits beyond those the layers couple that get weight-2 generators (crosstalk).
        seed: draws the twirls (the backend's seed draws the shots).

    Cost: layers x bases (9 for a line or heavy-hex) x depths x twirls circuits of `backend.shots` shots.
    Raises QecInputError for a circuit `layered` refuses, bad depths or twirls, or a Pauli whose decay falls
    below noise at all but one depth.
    """
    if isinstance(circuit, QuantumCircuit):
        parts = layered(circuit)
        layers, width, active = parts.distinct_layers(), circuit.num_qubits, set(parts.active_qubits)
    else:
        layers = tuple(dict.fromkeys(circuit))
        if not all(isinstance(layer, Layer) for layer in layers):
            raise QecInputError("circuit must be a QuantumCircuit or a sequence of Layer objects")
        active = {q for layer in layers for q in layer.qubits}
        width = num_qubits if num_qubits is not None else max(active, default=-1) + 1
    if not layers:
        raise QecInputError("the circuit has no two-qubit gates, so there is no layer noise to learn")
    check_integer(twirls, name="twirls", low=2, high=MAX_TWIRLS, fix="give e.g. 8")
    order = math.lcm(*(layer.order for layer in layers))
    depths = tuple(order * k for k in (0, 1, 2, 4, 8)) if depths is None else tuple(depths)
    for depth in depths:
        check_integer(depth, name="depths", low=0, high=MAX_DEPTH, fix="give e.g. 0,2,4,8,16")
    if len(set(depths)) < 2 or any(d % order for d in depths):
        raise QecInputError(
            f"depths must hold at least two distinct multiples of the layers' order {order}, got "
            f"{','.join(map(str, depths))}: give e.g. {','.join(str(order * k) for k in (0, 1, 2, 4))}"
        )
    pairs: set[tuple[int, int]] = {(min(pair), max(pair)) for layer in layers for _, pair in layer.gates}
    for pair in coupling:
        a, b = (int(q) for q in pair)
        if a == b or not (0 <= a < width and 0 <= b < width):
            raise QecInputError(f"coupling pair {tuple(pair)} must be two distinct qubits of the {width}-qubit circuit")
        pairs.add((min(a, b), max(a, b)))
        active |= {a, b}
    if max(active) >= width:
        raise QecInputError(f"the layers act on qubit {max(active)} but num_qubits is {width}")
    qubits = sorted(active)
    generators = model_generators(qubits, pairs)
    bases = measurement_bases(qubits, pairs)
    rng = np.random.default_rng(seed)
    plan = [(layer, basis, depth) for layer in layers for basis in bases for depth in depths for _ in range(twirls)]
    circuits = [_fidelity_circuit(layer, basis, depth, width, rng) for layer, basis, depth in plan]
    results = backend.run(circuits)
    learned = []
    for index, layer in enumerate(layers):
        block = slice(index * len(bases) * len(depths) * twirls, (index + 1) * len(bases) * len(depths) * twirls)
        values = _pauli_values(generators, plan[block], results[block], qubits)
        learned.append(_fit_layer(layer, generators, values, depths, width, backend.shots, rng))
    return LearnedNoise(width, tuple(learned), backend.shots, depths, twirls)


def _pauli_values(generators, plan, results, qubits) -> dict[tuple[int, int], list[float]]:
    """(generator index, depth) -> the generator's mean +-1 value in each circuit whose basis holds it."""
    column = {q: j for j, q in enumerate(qubits)}
    values: dict[tuple[int, int], list[float]] = {}
    for (_, basis, depth), result in zip(plan, results):
        bits = np.asarray(result.asarray, dtype=np.int64)
        for k, generator in enumerate(generators):
            if all(basis[q] == letter for letter, q in zip(generator.letters, generator.qubits)):
                parity = bits[:, [column[q] for q in generator.qubits]].sum(axis=1) % 2
                values.setdefault((k, depth), []).append(float(np.mean(1 - 2 * parity)))
    return values


def _fit_layer(layer, generators, values, depths, num_qubits, shots, rng) -> LayerNoise:
    """Each generator's decay rate per layer from its values over depth, then the rates by weighted NNLS."""
    order = layer.order
    decay, decay_error = [], []
    for k, generator in enumerate(generators):
        points = []
        for depth in depths:
            samples = np.array(values[k, depth])
            mean = float(samples.mean())
            # A circuit's value varies by its twirl and by shot noise, whose variance (1 - mean^2) / shots is
            # known: it floors the sample variance, which a few twirls estimate poorly.
            variance = max(float(samples.var(ddof=1)), (1 - min(mean**2, 1.0)) / shots, 1e-18)
            error = math.sqrt(variance / len(samples))
            if mean > SIGNIFICANCE * error:
                points.append((depth / order, math.log(mean), error / mean))
        if len({p[0] for p in points}) < 2:
            raise QecInputError(
                f"the fidelity of {generator.describe()} in layer {layer.describe()} is below noise at all but one "
                "depth: use smaller depths, more twirls or more shots"
            )
        x, y, sigma = (np.array(column) for column in zip(*points))
        slope, slope_error = _weighted_slope(x, y, sigma)
        decay.append(-slope / order)  # -log f per layer, the symmetry assumption over the orbit
        decay_error.append(slope_error / order)
    matrix = np.array(
        [[2.0 * _anticommute(g.symplectic(num_qubits), h, num_qubits) for h in generators] for g in generators]
    )
    b, sigma = np.array(decay), np.maximum(np.array(decay_error), 1e-12)
    weighted = matrix / sigma[:, None]
    rates = nnls(weighted, b / sigma)[0]
    draws = np.array(
        [nnls(weighted, (b + sigma * rng.standard_normal(len(b))) / sigma)[0] for _ in range(BOOTSTRAP_DRAWS)]
    )
    return LayerNoise(
        layer, tuple(generators), tuple(float(r) for r in rates), tuple(float(e) for e in draws.std(axis=0, ddof=1))
    )


def _weighted_slope(x: np.ndarray, y: np.ndarray, sigma: np.ndarray) -> tuple[float, float]:
    """Slope of the weighted least-squares line through (x, y) with errors sigma, and its standard error."""
    w = 1 / sigma**2
    sw, sx, sy = w.sum(), (w * x).sum(), (w * y).sum()
    sxx, sxy = (w * x * x).sum(), (w * x * y).sum()
    determinant = sw * sxx - sx * sx
    return float((sw * sxy - sx * sy) / determinant), float(math.sqrt(sw / determinant))

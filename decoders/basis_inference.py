"""Basis inference: the X/Z type of each detector and observable of an untagged CSS memory circuit.

Basis-aware decoding (`qec.decoders.basis`) needs every DETECTOR tagged `basis=X|Z` and every
OBSERVABLE_INCLUDE `basis=B`; another tool's circuit (or hardware's) has no tags. The rule that infers
them: a detector's sensitivity (Stim's detecting region: the Pauli that flips it, on each qubit at
each point of the circuit) is propagated backwards from its measurements through the circuit's gates.
The detector is Z-type when, on the qubits of every two-qubit gate it meets, just before and just after
the gate, its sensitivity holds only Z (or I), and X-type when only X. Anything else leaves it
undetermined, with the reason: a Y, or X at one gate and Z at another (not a CSS check: Stim's
`color_code:memory_xyz`), or no two-qubit gate met at all. Observables likewise.

Why at the two-qubit gates: CNOTs map Z-type Paulis to Z-type and X-type to X-type, so a CSS check
shows its type at each of them; single-qubit gates (the H around an X check's ancilla reset and
measurement in Stim's generated circuits) turn the ancilla's sensitivity from X to Z where no CNOT
sees it, so a rule over every qubit at every TICK would call those detectors mixed. TICKs are not
used: IBM's published [[72,12,6]] circuit has none between its gates. REPEAT blocks are flattened for
the pass (and kept in the tagged copy where every iteration gets the same tags).
Gates Stim knows only as products (MPP, MXX, SPP, ...) and classical feedback make every detector
undetermined, with the gate named.

`with_inferred_bases(circuit)` is what `qec.decoders.dem_arrays.decoding_dem` applies: a circuit
with no basis tags at all, whose every detector and observable is inferred and whose observables share
one basis, is decoded as its tagged copy (`tagged_circuit`); any other circuit as it is. Restricting
a DEM to some of its detectors gives their exact marginal model, so an inferred basis can only cost
accuracy (what the other basis's detectors say about Y errors), never a wrong count. Inferring and
tagging cost about 0.13 s on qec's gross-code circuit ([[144,12,12]], 12 rounds, tags stripped) where its
DEM takes 0.8 s, and 0.14 s on IBM's file against 0.47 s (best of 5, 2 cores loaded by other work).

>>> import stim
>>> from qec.decoders.basis_inference import infer_bases, tagged_circuit
>>> circuit = stim.Circuit.generated("surface_code:rotated_memory_x", distance=3, rounds=2)
>>> inference = infer_bases(circuit)
>>> inference.detectors.count("X"), inference.detectors.count("Z"), inference.observables, inference.basis
(12, 4, ('X',), 'X')
>>> print(tagged_circuit(circuit, inference).flattened()[-1])
OBSERVABLE_INCLUDE[basis=X](0) rec[-3] rec[-6] rec[-9]
>>> xyz = infer_bases(stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=2))
>>> xyz.basis, xyz.reason
(None, 'D0 (and 6 more) is neither X- nor Z-type: it holds a Y, or X at one two-qubit gate and Z at another')
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import stim

from qec.decoders.basis import tag_basis

# Measurement and reset gates: the Pauli each measures (X, Y or Z), and whether it resets after measuring.
_MEASUREMENTS = {
    "M": ("Z", False),
    "MZ": ("Z", False),
    "MX": ("X", False),
    "MY": ("Y", False),
    "MR": ("Z", True),
    "MRZ": ("Z", True),
    "MRX": ("X", True),
    "MRY": ("Y", True),
}
_RESETS = {"R", "RZ", "RX", "RY"}
_ANNOTATIONS = {"TICK", "QUBIT_COORDS", "SHIFT_COORDS", "DETECTOR", "OBSERVABLE_INCLUDE"}
_PAULI_BITS = {"X": (True, False), "Y": (True, True), "Z": (False, True)}
# Target columns per backward pass: the state is 2 * qubits * BLOCK / 8 bytes (4 MB at 1,000 qubits).
BLOCK = 16_384
_FEEDBACK = re.compile(r"^(?!DETECTOR|OBSERVABLE_INCLUDE)[^\n]*rec\[", re.MULTILINE)  # a gate on a record
ONE = np.uint64(1)


@dataclass(frozen=True)
class BasisInference:
    """The inferred type of each detector and observable of a circuit.

    Attributes:
        detectors: per detector, in Stim's order, 'X', 'Z', or None where the rule cannot tell.
        observables: per observable index, 'X', 'Z' or None.
        reason: '' when every detector and observable has a basis and the observables share one; else why
            not, in one sentence naming an example.
    """

    detectors: tuple[str | None, ...]
    observables: tuple[str | None, ...]
    reason: str

    @property
    def basis(self) -> str | None:
        """The measured basis (the observables' common one) when `reason` is empty, else None."""
        return None if self.reason else self.observables[0]


def infer_detector_bases(circuit: stim.Circuit) -> list[str | None]:
    """Each detector's inferred basis ('X', 'Z' or None), in Stim's order; `infer_bases` has the observables
    and the reason for any None.

    >>> infer_detector_bases(stim.Circuit.generated("repetition_code:memory", distance=2, rounds=1))
    ['Z', 'Z']
    """
    return list(infer_bases(circuit).detectors)


def infer_bases(circuit: stim.Circuit) -> BasisInference:
    """The basis of every detector and observable of `circuit` by the module's rule (existing tags are not read)."""
    num_detectors, num_observables = circuit.num_detectors, circuit.num_observables
    operations, record_columns, unsupported = _operations(circuit)
    if unsupported:
        reason = f"the circuit uses {unsupported}, which the inference does not propagate through"
        return BasisInference((None,) * num_detectors, (None,) * num_observables, reason)
    columns = num_detectors + num_observables
    bases: list[str | None] = []
    for start in range(0, columns, BLOCK):
        seen_x, seen_z = _backward_pass(
            operations, record_columns, circuit.num_qubits, start=start, stop=min(columns, start + BLOCK)
        )
        for x, z in zip(seen_x.tolist(), seen_z.tolist()):
            bases.append("X" if x and not z else "Z" if z and not x else None)
    detectors, observables = tuple(bases[:num_detectors]), tuple(bases[num_detectors:])
    return BasisInference(detectors, observables, _reason(circuit, detectors, observables))


def _reason(circuit: stim.Circuit, detectors: tuple[str | None, ...], observables: tuple[str | None, ...]) -> str:
    """Why the inference gives no measured basis ('' when it does)."""
    names = [f"D{index}" for index, basis in enumerate(detectors) if basis is None]
    names += [f"L{index}" for index, basis in enumerate(observables) if basis is None]
    if names:
        unseen = _without_two_qubit_gates(circuit, names[0])
        why = "it meets no two-qubit gate" if unseen else "it holds a Y, or X at one two-qubit gate and Z at another"
        others = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        return f"{names[0]}{others} is neither X- nor Z-type: {why}"
    if not observables:
        return "no observables: there is no measured basis to decode"
    if len(set(observables)) > 1:
        first = {basis: index for index, basis in reversed(list(enumerate(observables)))}
        return f"observables of both bases (L{first['X']} is X-type, L{first['Z']} Z-type): no one measured basis"
    return ""


def _without_two_qubit_gates(circuit: stim.Circuit, name: str) -> bool:
    """Whether the detector or observable `name` (D5, L0) has an empty sensitivity at every two-qubit gate."""
    operations, record_columns, _ = _operations(circuit)
    column = int(name[1:]) + (circuit.num_detectors if name[0] == "L" else 0)
    seen_x, seen_z = _backward_pass(operations, record_columns, circuit.num_qubits, start=column, stop=column + 1)
    return not (seen_x[0] or seen_z[0])


@functools.cache
def _gate_map(name: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(k, pairs) for a k-qubit unitary gate: (g, o) is in pairs when component o of (x0, z0, x1, z1) before the
    gate takes in component g after it (U^dagger G U has o for the generator G = X0, Z0, X1, Z1 numbered g)."""
    inverse = stim.Tableau.from_named_gate(name).inverse()
    pairs = []
    for qubit in range(len(inverse)):
        for kind, output in enumerate((inverse.x_output(qubit), inverse.z_output(qubit))):
            xs, zs = output.to_numpy()
            bits = np.stack([xs, zs], axis=1).ravel()
            pairs += [(2 * qubit + kind, int(o)) for o in np.flatnonzero(bits)]
    return len(inverse), tuple(pairs)


@functools.cache
def _gate_kind(name: str) -> str:
    """How the backward pass treats gate `name`: 'measure', 'reset', 'unitary', 'records' (MPAD, heralds:
    records that no qubit's Pauli flips), 'skip' (noise, annotations) or 'unsupported'."""
    if name in _MEASUREMENTS:
        return "measure"
    if name in _RESETS:
        return "reset"
    if name in _ANNOTATIONS:
        return "skip"
    data = stim.gate_data(name)
    if data.is_unitary and (data.is_single_qubit_gate or data.is_two_qubit_gate):
        return "unitary"
    if name == "MPAD" or name.startswith("HERALDED_"):
        return "records"
    if data.is_noisy_gate and not data.produces_measurements:
        return "skip"
    return "unsupported"


class _Layers:
    """Operations in circuit order; consecutive applications of one unitary gate to disjoint qubits (IBM's file
    has one CX per line, with noise between) are gathered into one, which the backward pass applies at once."""

    def __init__(self) -> None:
        self.operations: list[tuple] = []
        self.name = ""
        self.width = 1
        self.qubits: list[int] = []
        self.touched: set[int] = set()

    def gate(self, name: str, qubits: list[int]) -> None:
        """Adds gate `name` on `qubits` (Stim's targets in order; -1 for a sweep bit, whose group is skipped)."""
        width, _ = _gate_map(name)
        if -1 in qubits:
            groups = [qubits[i : i + width] for i in range(0, len(qubits), width)]
            qubits = [qubit for group in groups if -1 not in group for qubit in group]
        distinct = len(set(qubits)) == len(qubits)
        if name != self.name or not distinct or not self.touched.isdisjoint(qubits):
            self.flush()
            if not distinct:  # a qubit used twice in one instruction: one group at a time, in order
                for i in range(0, len(qubits), width):
                    self.operations.append(("gate", name, np.array([qubits[i : i + width]], dtype=np.int64)))
                return
            self.name, self.width = name, width
        self.qubits += qubits
        self.touched.update(qubits)

    def append(self, operation: tuple) -> None:
        self.flush()
        self.operations.append(operation)

    def flush(self) -> None:
        if self.qubits:
            groups = np.array(self.qubits, dtype=np.int64).reshape(-1, self.width)
            self.operations.append(("gate", self.name, groups))
        self.name, self.qubits, self.touched = "", [], set()


def _operations(circuit: stim.Circuit) -> tuple[list[tuple], dict[int, list[int]], str]:
    """The flattened circuit as the backward pass reads it: (kind, ...) operations in circuit order, the target
    columns (detector index, or num_detectors + observable index) fed by each measurement record, and the first
    unsupported gate's name ('' when none)."""
    num_detectors = circuit.num_detectors
    layers = _Layers()
    record_columns: dict[int, list[int]] = defaultdict(list)
    records = detector = 0
    flat = circuit.flattened()
    text = str(flat)
    classical = "sweep[" in text or _FEEDBACK.search(text) is not None
    for instruction in flat:
        name = instruction.name
        kind = _gate_kind(name)
        if kind == "skip" and name not in ("DETECTOR", "OBSERVABLE_INCLUDE"):
            continue
        targets = instruction.targets_copy()
        if name == "DETECTOR":
            for target in targets:
                record_columns[records + target.value].append(detector)
            detector += 1
        elif name == "OBSERVABLE_INCLUDE":
            column = num_detectors + int(instruction.gate_args_copy()[0])
            for target in targets:
                if target.is_measurement_record_target:
                    record_columns[records + target.value].append(column)
                else:
                    layers.append(("pauli", target.value, _PAULI_BITS[target.pauli_type], column))
        elif kind == "measure":
            basis, resets = _MEASUREMENTS[name]
            layers.append(("measure", [t.value for t in targets], records, _PAULI_BITS[basis], resets))
            records += len(targets)
        elif kind == "reset":
            layers.append(("reset", np.array([t.value for t in targets], dtype=np.int64)))
        elif kind == "unitary":
            if not classical:  # (most circuits: no target to look at one by one)
                qubits = [t.value for t in targets]
            elif any(t.is_measurement_record_target for t in targets):
                return layers.operations, record_columns, f"classical feedback ({name} rec[...])"
            else:
                qubits = [t.value if t.is_qubit_target else -1 for t in targets]
            layers.gate(name, qubits)
        elif kind == "records":
            records += len(targets)
        else:
            return layers.operations, record_columns, name
    layers.flush()
    return layers.operations, record_columns, ""


def _backward_pass(
    operations: list[tuple],
    record_columns: dict[int, list[int]],
    num_qubits: int,
    *,
    start: int,
    stop: int,
) -> tuple[np.ndarray, np.ndarray]:
    """bool (stop - start,) twice: whether columns start..stop-1 had an X component (then a Z component) on a
    two-qubit gate's qubits, next to the gate."""
    words = (stop - start + 63) // 64
    x = np.zeros((num_qubits, words), dtype=np.uint64)  # bit c of x[q]: column start + c has X or Y on qubit q
    z = np.zeros((num_qubits, words), dtype=np.uint64)
    seen_x = np.zeros(words, dtype=np.uint64)
    seen_z = np.zeros(words, dtype=np.uint64)

    def flip(rows: np.ndarray, qubit: int, column: int) -> None:
        if start <= column < stop:
            word, bit = divmod(column - start, 64)
            rows[qubit, word] ^= ONE << np.uint64(bit)

    for operation in reversed(operations):
        kind = operation[0]
        if kind == "gate":
            _, name, groups = operation
            touched = groups.ravel()
            two_qubit = groups.shape[1] == 2
            if two_qubit:
                seen_x |= np.bitwise_or.reduce(x[touched], axis=0)
                seen_z |= np.bitwise_or.reduce(z[touched], axis=0)
            _conjugate(x, z, name, groups)
            if two_qubit:
                seen_x |= np.bitwise_or.reduce(x[touched], axis=0)
                seen_z |= np.bitwise_or.reduce(z[touched], axis=0)
        elif kind == "measure":
            _, qubits, first, (has_x, has_z), resets = operation
            for offset in range(len(qubits) - 1, -1, -1):
                qubit = qubits[offset]
                if resets:
                    x[qubit] = 0
                    z[qubit] = 0
                for column in record_columns.get(first + offset, ()):
                    if has_x:
                        flip(x, qubit, column)
                    if has_z:
                        flip(z, qubit, column)
        elif kind == "reset":
            x[operation[1]] = 0
            z[operation[1]] = 0
        else:  # a Pauli target of OBSERVABLE_INCLUDE: the observable is sensitive to it from here back
            _, qubit, (has_x, has_z), column = operation
            if has_x:
                flip(x, qubit, column)
            if has_z:
                flip(z, qubit, column)
    return _unpacked(seen_x, stop - start), _unpacked(seen_z, stop - start)


def _unpacked(words: np.ndarray, count: int) -> np.ndarray:
    """uint64 (ceil(count / 64),) little-endian bits -> bool (count,)."""
    return np.unpackbits(words.view(np.uint8), bitorder="little")[:count].astype(bool)


def _conjugate(x: np.ndarray, z: np.ndarray, name: str, groups: np.ndarray) -> None:
    """Moves the sensitivities on `groups` (int64 (g, k), distinct qubits) from after gate `name` to before it."""
    width, pairs = _gate_map(name)
    old = []
    for column in range(width):
        old += [x[groups[:, column]], z[groups[:, column]]]
    new: list[np.ndarray | None] = [None] * (2 * width)
    for generator, output in pairs:
        current = new[output]
        new[output] = old[generator] if current is None else current ^ old[generator]
    for column in range(width):
        for rows, part in ((x, new[2 * column]), (z, new[2 * column + 1])):
            rows[groups[:, column]] = 0 if part is None else part


def has_basis_tags(circuit: stim.Circuit) -> bool:
    """Whether any DETECTOR or OBSERVABLE_INCLUDE of `circuit` (REPEAT bodies included) names a basis in its tag;
    stops at the first, so a tagged circuit costs a few instructions.

    >>> has_basis_tags(stim.Circuit("M 0\\nDETECTOR[basis=Z] rec[-1]")), has_basis_tags(stim.Circuit("M 0"))
    (True, False)
    """
    for instruction in circuit:
        if isinstance(instruction, stim.CircuitRepeatBlock):
            if has_basis_tags(instruction.body_copy()):
                return True
        elif instruction.name in ("DETECTOR", "OBSERVABLE_INCLUDE") and tag_basis(instruction.tag) is not None:
            return True
    return False


def tagged_circuit(circuit: stim.Circuit, inference: BasisInference | None = None) -> stim.Circuit:
    """A copy of `circuit` whose DETECTORs and OBSERVABLE_INCLUDEs carry `basis=X|Z` tags from `inference`
    (default: `infer_bases(circuit)`); existing tags are kept (`basis=` joins them after a `,`, unless they
    name a basis already), and instructions of undetermined basis are left as they are. A REPEAT block whose
    iterations' detectors get the same bases stays a block; one whose do not is unrolled.
    """
    inference = infer_bases(circuit) if inference is None else inference
    lines = str(circuit).splitlines()  # Stim's text, edited line by line: quicker than instruction objects
    tagged, _ = _tagged_lines(lines, inference, begin=0, end=len(lines), first_detector=0)
    return stim.Circuit("\n".join(tagged))


def _tagged_lines(
    lines: list[str], inference: BasisInference, *, begin: int, end: int, first_detector: int
) -> tuple[list[str], int]:
    """(Stim text lines begin..end-1 tagged, detectors numbered from `first_detector`; the next detector's number)."""
    tagged: list[str] = []
    detector = first_detector
    index = begin
    while index < end:
        line = lines[index]
        text = line.lstrip()
        if text.startswith("REPEAT"):
            close = _closing_line(lines, index)
            count = int(text.rstrip(" {").rsplit(" ", 1)[1])
            body, after = _tagged_lines(lines, inference, begin=index + 1, end=close, first_detector=detector)
            per_iteration = after - detector
            bases = inference.detectors[detector : detector + per_iteration * count]
            first = bases[:per_iteration]
            if all(bases[i : i + per_iteration] == first for i in range(0, len(bases), per_iteration)):
                tagged += [line, *body, lines[close]]
            else:  # unrolled (Stim reads the body's indentation as it is)
                for iteration in range(count):
                    start = detector + iteration * per_iteration
                    tagged += _tagged_lines(lines, inference, begin=index + 1, end=close, first_detector=start)[0]
            detector += per_iteration * count
            index = close + 1
            continue
        if text.startswith("DETECTOR"):
            line = line[: len(line) - len(text)] + _tagged_text(text, "DETECTOR", inference.detectors[detector])
            detector += 1
        elif text.startswith("OBSERVABLE_INCLUDE"):
            observable = int(stim.Circuit(text)[0].gate_args_copy()[0])
            line = line[: len(line) - len(text)] + _tagged_text(
                text, "OBSERVABLE_INCLUDE", inference.observables[observable]
            )
        tagged.append(line)
        index += 1
    return tagged, detector


def _closing_line(lines: list[str], opening: int) -> int:
    """The index of the `}` line closing the REPEAT block opened at line `opening`."""
    depth = 0
    for index in range(opening, len(lines)):
        text = lines[index].strip()
        if text.endswith("{"):
            depth += 1
        elif text == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError("unbalanced REPEAT block in Stim's text")


def _tagged_text(text: str, name: str, basis: str | None) -> str:
    """One DETECTOR or OBSERVABLE_INCLUDE line of Stim text with `basis=B` in its tag (kept as it is for None)."""
    if basis is None:
        return text
    if not text.startswith(f"{name}["):
        return f"{name}[basis={basis}]{text[len(name) :]}"
    instruction = stim.Circuit(text)[0]  # a tag already: Stim parses it (escapes included)
    if tag_basis(instruction.tag) is not None:
        return text
    tag = f"{instruction.tag},basis={basis}"
    return str(stim.CircuitInstruction(name, instruction.targets_copy(), instruction.gate_args_copy(), tag=tag))


def with_inferred_bases(circuit: stim.Circuit) -> stim.Circuit:
    """`circuit` tagged by inference when it has no basis tags and the inference finds one measured basis; the
    circuit itself otherwise (tagged already, or not inferable: decoded whole)."""
    if has_basis_tags(circuit):
        return circuit
    inference = infer_bases(circuit)
    return circuit if inference.basis is None else tagged_circuit(circuit, inference)


def tagging_note(circuit: stim.Circuit) -> str:
    """One line for a user whose untagged circuit gets no basis-aware decoding: why, and how to tag it; '' when
    the circuit is tagged or its bases are inferred.

    >>> print(tagging_note(stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=2)))  # doctest: +ELLIPSIS
    decoded whole: D0 (and 6 more) is neither X- nor Z-type: ...; to decode one basis, tag every DETECTOR ...
    """
    if has_basis_tags(circuit):
        return ""
    reason = infer_bases(circuit).reason
    if not reason:
        return ""
    return (
        f"decoded whole: {reason}; to decode one basis, tag every DETECTOR with its check's type "
        "and every OBSERVABLE_INCLUDE with the measured basis, e.g. DETECTOR[basis=Z](1, 2, 0) rec[-1] and "
        "OBSERVABLE_INCLUDE[basis=Z](0) rec[-2]"
    )


def decoding_note(circuit: stim.Circuit | None, *, decoder: str, options: Mapping[str, Any]) -> str:
    """`tagging_note` for a decoder that would decode one basis (one that takes `basis_aware`, left on); '' for
    any other decoder, or no circuit.

    >>> decoding_note(stim.Circuit.generated("color_code:memory_xyz", distance=3, rounds=2), decoder="pymatching",
    ...               options={})
    ''
    """
    from qec.decoders import entry, names

    if circuit is None or decoder not in names() or "basis_aware" not in entry(decoder).options():
        return ""
    return "" if options.get("basis_aware") is False else tagging_note(circuit)

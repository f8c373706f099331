"""The user's circuit: read from OpenQASM 2, OpenQASM 3 or Qiskit QPY, and made ready for mitigation.

`load_circuit(path)` decides the format from the file's first bytes, never from its name: QPY files start with
the magic `b"QISKIT"` (read by `qiskit.qpy.load`, a binary format that is not pickle; nothing else binary is
opened), OpenQASM files with `OPENQASM 2` or `OPENQASM 3` after comments (read by `qiskit.qasm2` and, for 3,
`qiskit.qasm3`, which needs qiskit-qasm3-import), or OpenQASM 2 without its version line (starting with
`include "qelib1.inc";` or a `qreg`/`creg`, as Qiskit's parser accepts). Anything else is refused.

`prepare_circuit(circuit)` turns a Qiskit `QuantumCircuit` (or a circuit Mitiq converts, e.g. Cirq's) into the
circuit Mitiq folds and our executor measures: one register of n qubits (qubit i = the i-th qubit of the file,
registers in declaration order), final measurements and barriers removed (each observable group adds its own
measurements), leading resets on fresh qubits dropped, gates unrolled to `MITIQ_GATES` (gates whose folding and
Mitiq round trip keep them one gate each), and an `id` on any qubit no gate touches, since Mitiq numbers only the
qubits it sees. For-loops over a fixed index set are unrolled (Qiskit's `UnrollForLoops`). It refuses what cannot
be folded (G G^dagger G): measurements before the end, resets after a gate, classical control (if/else, while,
switch, loops with break or continue), unbound parameters and gates without a definition.

>>> from qec.mitigation.user_circuits import prepare_circuit
>>> from qiskit import qasm2
>>> circuit = qasm2.loads('OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; '
...                       'ccx q[0],q[1],q[2]; measure q -> c;')
>>> prepared = prepare_circuit(circuit)
>>> prepared.num_qubits, prepared.num_clbits, sorted(prepared.count_ops())
(3, 0, ['cx', 'h', 't', 'tdg'])
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from qiskit import QuantumCircuit, qasm2, qpy, transpile
from qiskit.circuit import ControlFlowOp, ForLoopOp
from qiskit.transpiler.passes import UnrollForLoops

from qec.errors import QecInputError
from qec.mitigation.backends import AER_MAX_QUBITS
from qec.text import approximate

FORMATS = ("qasm2", "qasm3", "qpy")
QPY_MAGIC = b"QISKIT"
MAX_FILE_BYTES = 64 * 2**20
# Mitiq 1.1 folds and converts these one gate to one gate; others (u, cy, ecr, rzz, iswap, ...) come back from
# its Qiskit -> Cirq -> Qiskit round trip as several gates each, which would scale their noise by more than the
# scale factor. Unrolling to these first keeps every folded gate one gate.
MITIQ_GATES = (
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
    "cx",
    "cz",
    "swap",
)
MAX_INSTRUCTIONS = 1_000_000  # after unrolling; each folded circuit holds up to 100x this (MAX_SCALE_FACTOR)
_COMMENTS = re.compile(rb"//[^\n]*|/\*.*?\*/", re.DOTALL)
# Register declarations: OpenQASM 2 `qreg q[N];` / `creg c[N];`, OpenQASM 3 `qubit[N] q;` / `bit[N] c;`.
_QUBIT_REGISTERS = re.compile(rb"\bqreg\s+\w+\s*\[\s*(\d+)\s*\]|\bqubit\s*\[\s*(\d+)\s*\]")
# OpenQASM 2 text without its `OPENQASM 2.0;` line: its first statement includes qelib1.inc or declares a register.
_QASM2_START = re.compile(rb'include\s*"qelib1\.inc"|(?:qreg|creg)\s+\w+\s*\[')
_BIT_REGISTERS = re.compile(rb"\bcreg\s+\w+\s*\[\s*(\d+)\s*\]|\bbit\s*\[\s*(\d+)\s*\]")


def load_circuit(path: str | os.PathLike[str]) -> QuantumCircuit:
    """The circuit in the file at `path` (OpenQASM 2 or 3, or QPY holding one circuit), measurements and all.

    Raises QecInputError, naming the file, when it is missing, larger than `MAX_FILE_BYTES`, in none of the
    three formats, or does not parse (the parser's first message line is kept).
    """
    file = Path(path)
    if not file.is_file():
        raise QecInputError(f"circuit file '{file}' does not exist or is not a file: give an OpenQASM or QPY file")
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise QecInputError(
            f"circuit file '{file}' has {approximate(size)} bytes; the limit is {approximate(MAX_FILE_BYTES)}: "
            "give a smaller circuit"
        )
    data = file.read_bytes()
    kind = circuit_format(data, name=str(file))
    if kind != "qpy":
        _check_declared_sizes(data, file)
    try:
        if kind == "qpy":
            with file.open("rb") as handle:
                circuits = qpy.load(handle)
        elif kind == "qasm2":
            circuits = [qasm2.loads(data.decode(), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)]
        else:
            circuits = [_qasm3_loads(data.decode())]
    except QecInputError:
        raise
    except Exception as error:  # the parsers raise their own types (and QPY struct.error on a cut file)
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise QecInputError(f"circuit file '{file}' is not a valid {_FORMAT_NAMES[kind]} file: {first_line}") from None
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise QecInputError(
            f"circuit file '{file}' holds {len(circuits)} QPY programs; give a file holding exactly one circuit"
        )
    return circuits[0]


def _check_declared_sizes(data: bytes, file: Path) -> None:
    """Refuses an OpenQASM text whose registers declare more qubits than Aer takes, or more bits than
    `MAX_INSTRUCTIONS`, before the parser builds them (`qreg q[100000000];` took minutes to parse)."""
    text = _COMMENTS.sub(b"", data)
    limits = (("qubits", _QUBIT_REGISTERS, AER_MAX_QUBITS), ("bits", _BIT_REGISTERS, MAX_INSTRUCTIONS))
    for what, pattern, limit in limits:
        count = sum(int(match[1] or match[2]) for match in pattern.finditer(text))
        if count > limit:
            raise QecInputError(
                f"circuit file '{file}' declares {count:,} {what}; the limit is {limit:,}: give a smaller circuit"
            )


def circuit_format(data: bytes, *, name: str = "the file") -> str:
    """ "qpy", "qasm2" or "qasm3" from a file's bytes: the QPY magic, or an OPENQASM version line after comments.

    >>> circuit_format(b"// a Bell pair\\nOPENQASM 3.0;\\nqubit[2] q;"), circuit_format(b"QISKIT\\x0c")
    ('qasm3', 'qpy')
    >>> circuit_format(b'include "qelib1.inc";\\nqreg q[2];')  # no version line: OpenQASM 2, as Qiskit reads it
    'qasm2'
    >>> circuit_format(b"\\x80\\x04\\x95", name="c.pkl")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: c.pkl is not a circuit file: it is neither QPY (starts with b'QISKIT') nor ...
    """
    if data.startswith(QPY_MAGIC):
        return "qpy"
    head = _COMMENTS.sub(b"", data[:4096]).lstrip()
    if head.startswith(b"OPENQASM"):
        version = head[len(b"OPENQASM") :].lstrip()[:1]
        if version in (b"2", b"3"):
            return "qasm2" if version == b"2" else "qasm3"
        shown = head[:20].split(b";")[0].decode(errors="replace")
        raise QecInputError(f"{name} declares {shown!r}: OpenQASM 2 and 3 are read")
    if _QASM2_START.match(head):  # no version line, which Qiskit's OpenQASM 2 parser accepts
        return "qasm2"
    raise QecInputError(
        f"{name} is not a circuit file: it is neither QPY (starts with b'QISKIT') nor OpenQASM text (starts with "
        "'OPENQASM 2.0;' or 'OPENQASM 3.0;', after comments): give an OpenQASM 2, OpenQASM 3 or QPY file"
    )


def prepare_circuit(user_circuit: object) -> QuantumCircuit:
    """`user_circuit` ready for Mitiq and the executor (see the module docstring); raises QecInputError, saying
    which instruction and why, for what cannot be folded or converted.

    >>> from qiskit import QuantumCircuit
    >>> circuit = QuantumCircuit(2, 2)
    >>> _ = circuit.h(0), circuit.measure(0, 0), circuit.x(0)
    >>> prepare_circuit(circuit)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: the circuit measures qubit 0 mid-circuit (instruction 2): ...
    """
    circuit = _as_qiskit(user_circuit)
    if circuit.num_qubits == 0:
        raise QecInputError("the circuit has no qubits: give a circuit with at least one qubit")
    if circuit.num_qubits > AER_MAX_QUBITS:
        raise QecInputError(
            f"the circuit has {approximate(circuit.num_qubits)} qubits, more than any Aer method holds (at most "
            f"{AER_MAX_QUBITS:,}): give a smaller circuit"
        )
    size = _unrolled_size(circuit)
    if size > MAX_INSTRUCTIONS:
        raise QecInputError(
            f"the circuit has {approximate(size)} instructions (for-loops unrolled); the limit is "
            f"{MAX_INSTRUCTIONS:,}: give a smaller circuit"
        )
    if any(instruction.operation.name == "for_loop" for instruction in circuit.data):
        circuit = UnrollForLoops()(circuit)  # static index sets: the loop is its body repeated
    for index, instruction in enumerate(circuit.data, start=1):
        if isinstance(instruction.operation, ControlFlowOp):
            raise QecInputError(
                f"the circuit has classical control ({instruction.operation.name}, instruction {index}), which "
                "mitigation cannot fold (it runs G G^dagger G): rewrite it without classical control, e.g. with "
                "controlled gates in place of measure-then-if (deferred measurement)"
            )
    if circuit.parameters:
        names = ", ".join(sorted(str(p) for p in circuit.parameters)[:5])
        raise QecInputError(
            f"the circuit has unbound parameters ({names}): bind them first (QuantumCircuit.assign_parameters)"
        )
    plain = QuantumCircuit(circuit.num_qubits, global_phase=circuit.global_phase)
    touched: set[int] = set()
    unmeasured = circuit.remove_final_measurements(inplace=False)
    for index, instruction in enumerate(unmeasured.data, start=1):
        qubits = [unmeasured.find_bit(q).index for q in instruction.qubits]
        name = instruction.operation.name
        if name == "barrier":
            continue
        if name == "reset" and not touched & set(qubits):
            continue  # a fresh qubit is already |0>
        if name in ("measure", "reset"):
            what = "measures" if name == "measure" else "resets"
            raise QecInputError(
                f"the circuit {what} qubit {qubits[0]} mid-circuit (instruction {index}): mitigation folds the "
                "circuit (G G^dagger G), which a measurement or reset cannot be; measure only at the end"
            )
        if instruction.clbits:
            raise QecInputError(
                f"instruction {index} ({name}) writes classical bits: only final measurements are allowed"
            )
        touched.update(qubits)
        plain.append(instruction.operation, qubits)
    try:
        unrolled = transpile(plain, basis_gates=list(MITIQ_GATES), optimization_level=0)
    except Exception as error:  # Qiskit's TranspilerError and friends: a gate with no decomposition
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise QecInputError(
            f"the circuit's gates cannot be written with {', '.join(MITIQ_GATES)}: {first_line}"
        ) from None
    touched = {unrolled.find_bit(q).index for instruction in unrolled.data for q in instruction.qubits}
    for qubit in range(unrolled.num_qubits):
        if qubit not in touched:
            unrolled.id(qubit)  # else Mitiq, which numbers the qubits it sees, would shift the ones above
    if unrolled.size() > MAX_INSTRUCTIONS:
        raise QecInputError(
            f"the circuit unrolls to {approximate(unrolled.size())} gates of {', '.join(MITIQ_GATES)}; the limit "
            f"is {MAX_INSTRUCTIONS:,}: give a smaller circuit"
        )
    return unrolled


_FORMAT_NAMES = {"qasm2": "OpenQASM 2", "qasm3": "OpenQASM 3", "qpy": "QPY"}


def _unrolled_size(circuit: QuantumCircuit) -> int:
    """Instructions once every for-loop is unrolled (its body's size times its iterations), without unrolling."""
    size = 0
    for instruction in circuit.data:
        operation = instruction.operation
        if isinstance(operation, ForLoopOp):
            indexset, _, body = operation.params
            size += len(indexset) * _unrolled_size(body)
        else:
            size += 1
    return size


def _qasm3_loads(text: str) -> QuantumCircuit:
    try:
        import qiskit_qasm3_import  # noqa: F401  (qiskit.qasm3.loads needs it)
    except ImportError:
        raise QecInputError(
            "OpenQASM 3 files need the package 'qiskit-qasm3-import': pip install qiskit-qasm3-import, or give "
            "the circuit as OpenQASM 2 or QPY"
        ) from None
    from qiskit import qasm3

    return qasm3.loads(text)


def _as_qiskit(circuit: object) -> QuantumCircuit:
    """A Qiskit circuit as is; any other circuit type Mitiq converts (Cirq, ...) through Mitiq."""
    if isinstance(circuit, QuantumCircuit):
        return circuit
    from mitiq.interface import convert_from_mitiq, convert_to_mitiq

    try:
        mitiq_circuit, _ = convert_to_mitiq(circuit)  # type: ignore[arg-type]
        converted = convert_from_mitiq(mitiq_circuit, "qiskit")
    except Exception:
        raise QecInputError(
            f"circuit must be a Qiskit QuantumCircuit or a circuit Mitiq converts (Cirq, ...), got "
            f"{type(circuit).__name__}"
        ) from None
    assert isinstance(converted, QuantumCircuit)
    return converted

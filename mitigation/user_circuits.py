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
import struct
from pathlib import Path

import numpy as np
from qiskit import QuantumCircuit, qasm2, qpy, transpile
from qiskit.circuit import ControlFlowOp, ForLoopOp
from qiskit.transpiler.passes import UnrollForLoops

from qec.errors import QecInputError
from qec.mitigation import qasm_bounds
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
# OpenQASM 2 text without its `OPENQASM 2.0;` line: its first statement includes qelib1.inc or declares a register.
_QASM2_START = re.compile(rb'include\s*"qelib1\.inc"|(?:qreg|creg)\s+\w+\s*\[')


def load_circuit(path: str | os.PathLike[str]) -> QuantumCircuit:
    """The circuit in the file at `path` (OpenQASM 2 or 3, or QPY holding one circuit), measurements and all.

    Everything is bounded before a parser builds it: the file and its includes (together at most
    `MAX_FILE_BYTES`), OpenQASM registers in any integer syntax and gate applications once every gate definition
    and for-loop is expanded (`qasm_bounds.estimate`), QPY header fields (programs, qubits, bits, instructions).
    Raises QecInputError, naming the file, when it is missing, over a limit, in none of the three formats, has
    an angle that is not finite, an include outside its folder, or does not parse (the parser's first message
    line is kept, unless the file includes others: their content is never shown).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise QecInputError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}")
    file = Path(path)
    if not file.is_file():
        raise QecInputError(f"circuit file '{file}' does not exist or is not a file: give an OpenQASM or QPY file")
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise QecInputError(
            f"circuit file '{file}' has {approximate(size)} bytes; the limit is {approximate(MAX_FILE_BYTES)}: "
            "give a smaller circuit"
        )
    try:
        data = file.read_bytes()
    except OSError as error:
        raise QecInputError(f"cannot read circuit file '{file}': {error.strerror or error}") from None
    kind = circuit_format(data, name=str(file))
    included: list[str] = []
    if kind == "qpy":
        _check_qpy_header(data, file)
    else:
        try:
            text = data.decode()
        except UnicodeDecodeError as error:
            raise QecInputError(f"circuit file '{file}' is not UTF-8 text (byte {error.start})") from None
        try:
            text, included = qasm_bounds.inline_includes(text, folder=file.parent, budget=MAX_FILE_BYTES - len(data))
            _check_declared_sizes(qasm_bounds.estimate(text))
        except QecInputError as error:
            raise QecInputError(f"circuit file '{file}': {error}") from None
    try:
        if kind == "qpy":
            with file.open("rb") as handle:
                circuits = qpy.load(handle)
        elif kind == "qasm2":
            circuits = [qasm2.loads(text, include_path=(), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)]
        else:
            circuits = [_qasm3_loads(text)]
    except QecInputError:
        raise
    except Exception as error:  # the parsers raise their own types (and QPY struct.error on a cut file)
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        if included:  # the parser may quote an included file: say where to look, never what it holds
            names = ", ".join(repr(name) for name in included[:3])
            first_line = f"the parser's message is not shown, as it may quote the included {names}"
        raise QecInputError(f"circuit file '{file}' is not a valid {_FORMAT_NAMES[kind]} file: {first_line}") from None
    if len(circuits) != 1 or not isinstance(circuits[0], QuantumCircuit):
        raise QecInputError(
            f"circuit file '{file}' holds {len(circuits)} QPY programs; give a file holding exactly one circuit"
        )
    try:
        _check_finite_angles(circuits[0])
    except QecInputError as error:
        raise QecInputError(f"circuit file '{file}': {error}") from None
    return circuits[0]


def _check_declared_sizes(size: qasm_bounds.QasmSize) -> None:
    """Refuses an OpenQASM program whose registers declare more qubits than Aer takes, more bits or gate
    applications (expanded) than `MAX_INSTRUCTIONS`, before the parser builds them (`qreg q[100000000];` took
    minutes to parse; ten nested gate definitions hang the transpiler)."""
    limits = (
        ("qubits", size.qubits, AER_MAX_QUBITS, "declares"),
        ("bits", size.bits, MAX_INSTRUCTIONS, "declares"),
        (
            "gate applications (gate definitions, for-loops and register broadcasts expanded)",
            size.gates,
            MAX_INSTRUCTIONS,
            "expands to",
        ),
    )
    for what, count, limit, verb in limits:
        if count > limit:
            shown = f"more than {approximate(qasm_bounds.CAP)}" if count >= qasm_bounds.CAP else f"{count:,}"
            raise QecInputError(f"it {verb} {shown} {what}; the limit is {limit:,}: give a smaller circuit")


def _check_qpy_header(data: bytes, file: Path) -> None:
    """Refuses a QPY file from its header fields alone (qiskit/qpy/formats.py: FILE_HEADER(_V10), the type key,
    the program offset table from version 16, CIRCUIT_HEADER(_V2, _V12)), before `qpy.load` allocates what
    they claim: exactly one program, qubits at most Aer's, bits, registers, instructions and variables at most
    `MAX_INSTRUCTIONS`, and names, phase and metadata inside the file."""
    bad = f"circuit file '{file}' is not a valid QPY file"
    version = data[6] if len(data) > 6 else 0
    header_format = "!6sBBBBQ" if version < 10 else "!6sBBBBQc"
    offset = struct.calcsize(header_format)
    if len(data) < offset + 1:
        raise QecInputError(f"{bad}: it ends inside its header")
    programs = struct.unpack_from(header_format, data)[5]
    if programs != 1:
        raise QecInputError(
            f"circuit file '{file}' holds {programs:,} QPY programs; give a file holding exactly one circuit"
        )
    if version >= 5:
        offset += 1  # the program's type key
    if version >= 16:
        if len(data) < offset + 8:
            raise QecInputError(f"{bad}: it ends inside its header")
        offset = struct.unpack_from("!Q", data, offset)[0]
    circuit_format_ = "!HdIIQIQ" if version < 2 else "!H1cHIIQIQ" if version < 12 else "!H1cHIIQIQI"
    if offset + struct.calcsize(circuit_format_) > len(data):
        raise QecInputError(f"{bad}: it ends inside its circuit header")
    fields = struct.unpack_from(circuit_format_, data, offset)
    if version < 2:
        name_size, num_qubits, num_clbits, metadata_size, num_registers, num_instructions = (fields[0], *fields[2:7])
        phase_size, num_vars = 0, 0
    else:
        name_size, _, phase_size, num_qubits, num_clbits, metadata_size, num_registers, num_instructions = fields[:8]
        num_vars = fields[8] if len(fields) > 8 else 0
    if name_size + phase_size + metadata_size > len(data) - offset:
        raise QecInputError(f"{bad}: its header claims more bytes than the file has")
    limits = (
        ("qubits", num_qubits, AER_MAX_QUBITS),
        ("classical bits", num_clbits, MAX_INSTRUCTIONS),
        ("registers", num_registers, MAX_INSTRUCTIONS),
        ("instructions", num_instructions, MAX_INSTRUCTIONS),
        ("variables", num_vars, MAX_INSTRUCTIONS),
    )
    for what, count, limit in limits:
        if count > limit:
            raise QecInputError(
                f"circuit file '{file}' declares {count:,} {what} in its QPY header; the limit is {limit:,}: give a "
                "smaller circuit"
            )


def _check_finite_angles(circuit: QuantumCircuit) -> None:
    """Refuses a gate whose numeric parameter is not finite (inf, nan), naming the gate; looks inside blocks."""
    for index, instruction in enumerate(circuit.data, start=1):
        operation = instruction.operation
        if isinstance(operation, ControlFlowOp):
            for block in operation.blocks:
                _check_finite_angles(block)
            continue
        for parameter in operation.params:
            if isinstance(parameter, (int, float, complex, np.number)) and not np.isfinite(parameter):
                raise QecInputError(
                    f"gate {operation.name!r} (instruction {index}) has the angle {parameter}, which is not a "
                    "finite number: give finite angles"
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
    if not isinstance(data, (bytes, bytearray)):
        raise QecInputError(f"data must be the file's bytes, got {type(data).__name__}")
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
            f"the circuit has {approximate(size)} instructions (gate definitions and for-loops unrolled); the limit is "
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
    _check_finite_angles(circuit)
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
    _check_finite_angles(unrolled)  # a finite angle of a user gate can still overflow inside its definition
    return unrolled


_FORMAT_NAMES = {"qasm2": "OpenQASM 2", "qasm3": "OpenQASM 3", "qpy": "QPY"}


def _unrolled_size(circuit: QuantumCircuit, memo: dict[tuple[str, int, int], int] | None = None) -> int:
    """Instructions once every for-loop is unrolled (its body's size times its iterations) and every gate
    definition expanded (each distinct gate walked once), without unrolling; saturates at `qasm_bounds.CAP`."""
    memo = {} if memo is None else memo
    size = 0
    for instruction in circuit.data:
        operation = instruction.operation
        if isinstance(operation, ForLoopOp):
            indexset, _, body = operation.params
            size += len(indexset) * _unrolled_size(body, memo)
        elif isinstance(operation, ControlFlowOp):
            size += sum(_unrolled_size(block, memo) for block in operation.blocks)
        else:
            size += _gate_size(operation, memo)
        if size >= qasm_bounds.CAP:
            return qasm_bounds.CAP
    return size


def _gate_size(operation: object, memo: dict[tuple[str, int, int], int]) -> int:
    """Gates of `MITIQ_GATES` one application of `operation` unrolls to (an estimate for standard gates)."""
    name = str(getattr(operation, "name", ""))
    if name in MITIQ_GATES or name in ("measure", "reset", "barrier", "delay"):
        return 1
    if name in qasm_bounds.STANDARD_GATE_COSTS and getattr(operation, "_standard_gate", None) is not None:
        return qasm_bounds.STANDARD_GATE_COSTS[name]
    key = (name, int(getattr(operation, "num_qubits", 0)), int(getattr(operation, "num_clbits", 0)))
    if key not in memo:
        memo[key] = 1  # a gate whose definition uses itself counts once
        try:
            definition = getattr(operation, "definition", None)
        except Exception:  # a definition that cannot be built: the transpiler reports it
            definition = None
        if isinstance(definition, QuantumCircuit):
            memo[key] = max(1, _unrolled_size(definition, memo))
    return memo[key]


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

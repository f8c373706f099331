"""Circuit files bounded before they are read (issue 20): nested gate definitions, register sizes in every integer
syntax, QPY header fields, includes only beside the circuit, non-finite angles; each refused in one line, fast."""

import io
import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit, qasm2, qpy, transpile
from qiskit.circuit.library import get_standard_gate_name_mapping

from qec.circuit_files import metadata_from_name, read_circuit, tasks_from_folder
from qec.cli.main import main
from qec.errors import QecInputError
from qec.mitigation.backends import AER_MAX_QUBITS
from qec.mitigation.qasm_bounds import STANDARD_GATE_COSTS, estimate
from qec.mitigation.user_circuits import (
    MAX_INSTRUCTIONS,
    MITIQ_GATES,
    _unrolled_size,
    circuit_format,
    load_circuit,
    prepare_circuit,
)

FAST = 2.0  # seconds: every refusal here is a pass over the text or header, never a parse of what it claims
HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True
)


def load_timed(path: Path):
    start = time.perf_counter()
    try:
        return load_circuit(path)
    finally:
        assert time.perf_counter() - start < FAST


def nested_gates(version: int, depth: int, fan_out: int) -> str:
    """`depth` gate definitions, each calling the one before `fan_out` times: fan_out^(depth-1) h gates."""
    head = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n'
        if version == 2
        else ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\n')
    )
    lines = [head, "gate g0 a { h a; }"]
    for level in range(1, depth):
        lines.append(f"gate g{level} a {{ " + " ".join([f"g{level - 1} a;"] * fan_out) + " }")
    lines.append(f"g{depth - 1} q[0];")
    return "\n".join(lines) + "\n"


@HYPOTHESIS
@given(version=st.sampled_from([2, 3]), depth=st.integers(1, 60), fan_out=st.integers(1, 8))
def test_nested_gate_definitions_are_counted_and_refused_before_parsing(tmp_path, version, depth, fan_out):
    path = tmp_path / "nested.qasm"
    path.write_text(nested_gates(version, depth, fan_out))
    expanded = fan_out ** (depth - 1)
    if expanded > MAX_INSTRUCTIONS:
        with pytest.raises(QecInputError, match="nested.qasm': it expands to .* gate applications .* the limit is"):
            load_timed(path)
    elif expanded <= 1024:  # Qiskit's OpenQASM 3 importer takes about 1 ms a gate: load only small ones
        circuit = load_circuit(path)
        # the text pass and the walk over Qiskit's definitions (prepare_circuit's guard) agree
        assert estimate(path.read_text()).gates == expanded
        assert _unrolled_size(circuit) == expanded
    else:
        assert estimate(path.read_text()).gates == expanded


def test_nested_definitions_in_a_python_circuit_are_refused_by_prepare_before_unrolling():
    """A Qiskit circuit from the Python API (here qasm2.loads, whose definitions are lazy) is counted by walking each
    distinct gate's definition once. (QPY stores a definition per gate instance, about 300 bytes per expanded gate,
    so MAX_FILE_BYTES bounds a QPY file's expansion.)"""
    circuit = qasm2.loads(nested_gates(2, 16, 4), custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    start = time.perf_counter()
    with pytest.raises(QecInputError, match="the circuit has 1.07e\\+09 instructions \\(gate definitions"):
        prepare_circuit(circuit)
    assert time.perf_counter() - start < FAST


def integer_syntax(value: int, style: str, underscores: bool) -> str:
    sign, magnitude = ("-" if value < 0 else ""), abs(value)
    if style == "decimal":
        digits = str(magnitude)
        if underscores and len(digits) > 1:
            digits = "_".join(digits)  # 1_0_0_0: any underscores between digits
        return sign + digits
    prefix, body = {
        "hex": ("0x", f"{magnitude:x}"),
        "octal": ("0o", f"{magnitude:o}"),
        "binary": ("0b", f"{magnitude:b}"),
    }[style]
    if underscores and len(body) > 1:
        body = body[0] + "_" + body[1:]
    return sign + prefix + body


@HYPOTHESIS
@given(
    value=st.one_of(st.integers(-50, 50), st.integers(-(10**4), 10**13), st.integers(10**13, 10**40)),
    style=st.sampled_from(["decimal", "hex", "octal", "binary"]),
    underscores=st.booleans(),
    register=st.sampled_from(["qubit", "bit"]),
)
def test_register_sizes_in_every_integer_syntax_are_read_as_numbers(tmp_path, value, style, underscores, register):
    written = integer_syntax(value, style, underscores)
    path = tmp_path / "registers.qasm"
    path.write_text(f"OPENQASM 3.0;\n{register}[{written}] r;\n")
    limit = AER_MAX_QUBITS if register == "qubit" else MAX_INSTRUCTIONS
    if value < 0:
        with pytest.raises(QecInputError, match=f"register 'r' has size {value}"):
            load_timed(path)
    elif value > limit:
        with pytest.raises(QecInputError, match=f"it declares .* the limit is {limit:,}"):
            load_timed(path)
    else:
        circuit = load_timed(path)
        assert (circuit.num_qubits if register == "qubit" else circuit.num_clbits) == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("OPENQASM 3.0;\nqubit[1_000_000_000] q;\n", "declares 1,000,000,000 qubits; the limit is 10,000"),
        ("OPENQASM 3.0;\nqubit[0xFFFFFFFF] q;\n", "declares 4,294,967,295 qubits"),
        ('OPENQASM 3.0;\ninclude "stdgates.inc";\nx $100000000;\n', "declares 100,000,001 qubits"),
        ("OPENQASM 3.0;\nconst uint n = 5;\nqubit[n] q;\n", "register 'q' has size 'n', which is not an integer"),
        ("OPENQASM 3.0;\nqubit[2] q;\nfor int i in [0:n] { h q[0]; }\n", "for-loop's range is not written with"),
        ("OPENQASM 3.0;\n" + "{" * 200 + "}" * 200, "nests blocks more than 64 deep"),
    ],
)
def test_what_cannot_be_bounded_is_refused_in_one_line(tmp_path, text, message):
    path = tmp_path / "c.qasm"
    path.write_text(text)
    with pytest.raises(QecInputError, match="c.qasm': ") as error:
        load_timed(path)
    assert message in str(error.value) and "\n" not in str(error.value)


def qpy_bytes(circuit: QuantumCircuit) -> bytes:
    buffer = io.BytesIO()
    qpy.dump(circuit, buffer)
    return buffer.getvalue()


def circuit_header_offset(data: bytes) -> int:
    """Where the one circuit's header starts (qiskit/qpy/formats.py): after FILE_HEADER_V10 (19 bytes) and the
    type key, the program offset table (version >= 16) holds it."""
    assert data[6] >= 16
    return struct.unpack_from("!Q", data, 20)[0]


# CIRCUIT_HEADER_V12 "!H1cHIIQIQI": name_size, global_phase_type, global_phase_size, num_qubits, num_clbits,
# metadata_size, num_registers, num_instructions, num_vars: (offset within the header, struct format)
HEADER_FIELDS = {
    "num_qubits": (5, "!I"),
    "num_clbits": (9, "!I"),
    "num_registers": (21, "!I"),
    "num_instructions": (25, "!Q"),
    "num_vars": (33, "!I"),
}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("num_qubits", 10**8, "declares 100,000,000 qubits in its QPY header; the limit is 10,000"),
        ("num_qubits", 2**32 - 1, "declares 4,294,967,295 qubits"),
        ("num_clbits", 10**9, "declares 1,000,000,000 classical bits"),
        ("num_registers", 2**31, "registers in its QPY header"),
        ("num_instructions", 2**63, "declares 9,223,372,036,854,775,808 instructions"),
        ("num_vars", 10**7, "variables in its QPY header"),
    ],
)
def test_a_qpy_header_claiming_huge_sizes_is_refused_before_loading(tmp_path, field, value, message):
    circuit = QuantumCircuit(3, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    data = bytearray(qpy_bytes(circuit))
    good = tmp_path / "good.qpy"
    good.write_bytes(bytes(data))
    assert load_timed(good).num_qubits == 3  # the patched fields below are all that differ
    start, layout = HEADER_FIELDS[field]
    struct.pack_into(layout, data, circuit_header_offset(data) + start, value)
    path = tmp_path / "huge.qpy"
    path.write_bytes(bytes(data))
    with pytest.raises(QecInputError, match="huge.qpy' ") as error:
        load_timed(path)
    assert message in str(error.value)


def test_a_qpy_header_claiming_many_programs_or_bytes_it_lacks_is_refused(tmp_path):
    data = bytearray(qpy_bytes(QuantumCircuit(2)))
    many = bytearray(data)
    struct.pack_into("!Q", many, 10, 10**12)  # FILE_HEADER_V10.num_programs
    (tmp_path / "many.qpy").write_bytes(bytes(many))
    with pytest.raises(QecInputError, match="holds 1,000,000,000,000 QPY programs"):
        load_timed(tmp_path / "many.qpy")
    long_name = bytearray(data)
    struct.pack_into("!H", long_name, circuit_header_offset(data), 60000)  # name_size
    (tmp_path / "name.qpy").write_bytes(bytes(long_name))
    with pytest.raises(QecInputError, match="its header claims more bytes than the file has"):
        load_timed(tmp_path / "name.qpy")
    (tmp_path / "cut.qpy").write_bytes(bytes(data[:30]))
    with pytest.raises(QecInputError, match="cut.qpy' is not a valid QPY file: it ends inside its circuit header"):
        load_timed(tmp_path / "cut.qpy")


GATE_FILE = "gate bell a, b { h a; cx a, b; }\n"


def including(name: str) -> str:
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "{name}";\nqreg q[2];\nbell q[0], q[1];\n'


def test_an_include_beside_the_circuit_is_read_relative_to_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "circuits"
    (folder / "lib").mkdir(parents=True)
    (folder / "lib" / "bell.inc").write_text(GATE_FILE)
    (folder / "c.qasm").write_text(including("lib/bell.inc"))
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "lib").mkdir(parents=True)
    (elsewhere / "lib" / "bell.inc").write_text("gate bell a, b { x a; }\n")  # the working directory's is ignored
    monkeypatch.chdir(elsewhere)
    circuit = load_timed(folder / "c.qasm")
    assert circuit.count_ops() == {"bell": 1}
    assert prepare_circuit(circuit).count_ops() == {"h": 1, "cx": 1}


def test_includes_outside_the_folder_are_refused_and_never_echoed(tmp_path):
    folder = tmp_path / "circuits"
    folder.mkdir()
    secret = tmp_path / "x.inc"
    secret.write_text("SECRET-CONTENT gate;\n")
    (folder / "link.inc").symlink_to(secret)
    os.mkfifo(folder / "fifo.inc")
    (folder / "self.inc").write_text('include "self.inc";\n')
    (folder / "broken.inc").write_text("gate bell a, b { SECRET-CONTENT a; }\n")
    cases = {
        "/etc/passwd": "is outside the circuit's folder",
        "../x.inc": "is outside the circuit's folder",
        str(secret): "is outside the circuit's folder",
        "link.inc": "leads outside the circuit's folder (a symbolic link)",
        "fifo.inc": "is not a regular file",
        "missing.inc": "does not exist beside the circuit",
        "self.inc": "includes nest more than 8 deep",
        "broken.inc": "the parser's message is not shown, as it may quote the included 'broken.inc'",
    }
    for name, message in cases.items():
        path = folder / "c.qasm"
        path.write_text(including(name))
        with pytest.raises(QecInputError) as error:
            load_timed(path)
        text = str(error.value)
        assert message in text and "SECRET" not in text and "root:" not in text and "\n" not in text, (name, text)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("angle", ["inf", "nan", "1e999", "-1e999", "pi/0", "2*(pi/0)", "1e308*10"])
def test_non_finite_angles_are_refused_naming_the_gate(tmp_path, version, angle):
    head = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\n'
        if version == 2
        else ('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\n')
    )
    path = tmp_path / "angle.qasm"
    path.write_text(head + f"h q[0];\nrx({angle}) q[0];\n")
    with pytest.raises(QecInputError, match="gate 'rx' has the angle .* not a finite number"):
        load_timed(path)


def test_non_finite_angles_in_a_python_circuit_or_inside_a_definition_are_refused(tmp_path):
    circuit = QuantumCircuit(1)
    circuit.rx(float("nan"), 0)
    with pytest.raises(QecInputError, match="gate 'rx' .* has the angle nan, which is not a finite number"):
        prepare_circuit(circuit)
    path = tmp_path / "inside.qasm"  # finite at the call, infinite once the definition is bound
    path.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\ngate g(a) r { rx(a*10) r; }\nqreg q[1];\ng(1e308) q[0];\n')
    with pytest.raises(QecInputError, match="gate 'rx' .* not a finite number"):
        prepare_circuit(load_timed(path))


@pytest.mark.parametrize(
    "text",
    [
        nested_gates(2, 30, 4),
        "OPENQASM 3.0;\nqubit[0x1_0000_0000] q;\n",
        'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "/etc/passwd";\nqreg q[2];\n',
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nrx(pi/0) q[0];\n',
    ],
)
def test_the_cli_says_one_error_line_and_exits_2(tmp_path, capsys, text):
    path = tmp_path / "c.qasm"
    path.write_text(text)
    start = time.perf_counter()
    assert main(["mitigate", "circuit", str(path), "--observable", "ZZ"]) == 2
    assert time.perf_counter() - start < FAST
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "root:" not in err


def test_huge_qpy_header_from_the_cli_is_one_line(tmp_path, capsys):
    data = bytearray(qpy_bytes(QuantumCircuit(2)))
    struct.pack_into("!I", data, circuit_header_offset(data) + 5, 10**8)
    path = tmp_path / "c.qpy"
    path.write_bytes(bytes(data))
    assert main(["mitigate", "circuit", str(path), "--observable", "ZZ"]) == 2
    err = capsys.readouterr().err
    assert "declares 100,000,000 qubits in its QPY header" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: load_circuit(42), "path must be a file path (str or os.PathLike), got int"),
        (lambda: load_circuit(None), "path must be a file path"),
        (lambda: circuit_format("OPENQASM 2.0;"), "data must be the file's bytes, got str"),
        (lambda: read_circuit(3.5), "path must be a file path (str or os.PathLike), got float"),
        (lambda: tasks_from_folder(7, decoder="pymatching"), "folder must be a folder path"),
        (lambda: tasks_from_folder(".", decoder=3), "decoder must be a decoder name or a DecoderSpec, got int"),
        (lambda: metadata_from_name(b"d=3.stim"), "name must be a file name (str), got bytes"),
    ],
)
def test_wrong_types_raise_qec_input_error_naming_the_parameter(call, message):
    with pytest.raises(QecInputError, match=message.replace("(", "\\(").replace(")", "\\)")):
        call()


def test_standard_gate_costs_are_what_the_gates_unroll_to():
    """The estimate's costs for standard gates are at least what transpiling one application gives."""
    mapping = get_standard_gate_name_mapping()
    for name, cost in STANDARD_GATE_COSTS.items():
        if name not in mapping:
            continue
        gate = mapping[name]
        gate = type(gate)(*[0.3] * len(gate.params)) if gate.params else gate
        circuit = QuantumCircuit(gate.num_qubits)
        circuit.append(gate, range(gate.num_qubits))
        assert transpile(circuit, basis_gates=list(MITIQ_GATES), optimization_level=0).size() <= cost, name

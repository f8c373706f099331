"""`qec mitigate`: the JSON keys the issue lists, exit code 2 on bad input, size guards before allocation; `qec mitigate
circuit FILE --observable OBS` on the user's own OpenQASM file."""

import json
import math
import time
from pathlib import Path

import pytest
from qiskit_aer import AerSimulator

from qec.cli.main import main
from qec.errors import QecInputError
from qec.mitigation import observables
from qec.mitigation.backends import AER_MAX_QUBITS, MAX_SEED, MAX_SHOTS, MAX_THREADS, check_run_options
from qec.mitigation.logical import MAX_LOGICAL_OPERATIONS, LogicalExperiment, LogicalSize
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.techniques import (
    MAX_PEC_SAMPLES,
    MAX_REM_QUBITS,
    MAX_SCALE_FACTOR,
    MAX_SCALE_FACTORS,
    PecOptions,
    ZneOptions,
    check_technique,
)

KEYS = [
    "workload",
    "technique",
    "device",
    "observable",
    "ideal",
    "noisy",
    "noisy_standard_error",
    "mitigated",
    "standard_error",
    "standard_error_covers",
    "systematic_error",
    "systematic_error_covers",
    "error_reduction",
    "circuits",
    "shots",
    "sampling_overhead",
    "detail",
    "options",
    "seconds",
    "warnings",
]
LOGICAL_KEYS = KEYS + [
    "logical_error_rate_noisy",
    "logical_error_rate_noisy_standard_error",
    "logical_error_rate_mitigated",
    "logical_error_rate_mitigated_standard_error",
    "stim_estimate",
    "stim_estimate_standard_error",
]
pytestmark = [
    pytest.mark.filterwarnings("ignore:The input circuit is very short"),
    pytest.mark.filterwarnings("ignore:No representation found for"),  # PEC leaves 1q gates alone at p1 = 0
]


def test_workload_json_has_exactly_the_listed_keys(capsys):
    assert (
        main(
            [
                "mitigate",
                "ghz",
                "--qubits",
                "3",
                "--technique",
                "zne",
                "--device",
                "auto",
                "--shots",
                "2000",
                "--threads",
                "1",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert list(out) == KEYS
    assert out["ideal"] == 1.0 and out["circuits"] == 3 and out["shots"] == 6000 and out["device"] in ("CPU", "GPU")
    assert out["options"] == {"factory": "richardson", "scaling": "global", "scale_factors": [1.0, 3.0, 5.0]}


def test_logical_json_has_exactly_the_listed_keys(capsys):
    assert (
        main(
            [
                "mitigate",
                "logical",
                "repetition",
                "--distance",
                "3",
                "--rounds",
                "2",
                "--shots",
                "500",
                "--stim-shots",
                "5000",
                "--threads",
                "1",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert list(out) == LOGICAL_KEYS
    assert out["workload"] == "logical-repetition-d3" and out["ideal"] == 1.0


def test_table_says_which_device_auto_used(capsys):
    assert (
        main(
            [
                "mitigate",
                "ghz",
                "--qubits",
                "3",
                "--technique",
                "rem",
                "--noise",
                "readout=0.05",
                "--shots",
                "1000",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "(auto: " in out and "error reduction" in out and "cost: 1 circuits, 1000 shots" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mitigate", "fft"], "unknown workload 'fft': choose one of ghz, mirror"),
        (["mitigate", "ghz", "--technique", "zen"], "unknown technique 'zen': choose one of none, zne, pec"),
        (["mitigate", "ghz", "--noise", "p2=1.2"], "must be a probability in [0, 1]"),
        (["mitigate", "ghz", "--noise", "readout=-0.01"], "must be a probability in [0, 1]"),
        (["mitigate", "tfim", "--qubits", "44"], "44 qubits need"),
        (["mitigate", "ghz", "--device", "quantum"], "unknown device 'quantum'"),
        (["mitigate", "logical"], "needs a FAMILY"),
        (["mitigate", "logical", "steane"], "choose one of repetition, shor, surface"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mitigate", "ghz", "--shots", "-5"], "shots must be an integer in [1, 10,000,000], got -5"),
        (
            ["mitigate", "ghz", "--shots", "100000000000000000000"],
            "shots must be an integer in [1, 10,000,000], got 1e+20",
        ),
        (["mitigate", "ghz", "--qubits", "0"], "workload 'ghz' needs at least 2 qubits, got 0"),
        (["mitigate", "ghz", "--qubits", "1000000000"], "on 1e+09 qubits is more than any Aer method holds (at most"),
        (
            ["mitigate", "ghz", "--scale-factors", "0.5,1"],
            "ZNE needs 2 to 32 scale factors, each in [1, 100], got (0.5",
        ),
        (["mitigate", "ghz", "--scale-factors", "1,nan"], "each in [1, 100], got (1, nan)"),
        (["mitigate", "ghz", "--scale-factors", "1,1e9"], "each in [1, 100], got (1, 1e+09)"),
        (["mitigate", "ghz", "--scale-factors", "1,x"], "bad --scale-factors '1,x'"),
        # Repeated scale factors used to "extrapolate" GHZ-3's parity to 0.33 (ideal 1), exit code 0.
        (["mitigate", "ghz", "--qubits", "3", "--scale-factors", "1,1,1"], "ZNE scale factors must be distinct"),
        (["mitigate", "ghz", "--factory", "linear", "--scale-factors", "3,3"], "must be distinct, got (3, 3)"),
        (["mitigate", "ghz", "--technique", "rem+pt+zne", "--scale-factors", "1,3,3"], "must be distinct"),
        (["mitigate", "ghz", "--technique", "rem", "--scale-factors", "1,1"], "must be distinct"),  # any technique
        (["mitigate", "ghz", "--technique", "lre", "--lre-degree", "0"], "lre degree must be an integer in [1, 4]"),
        (["mitigate", "logical", "repetition", "--scale-factors", "1,1.5,1.5"], "must be distinct, got (1, 1.5, 1.5)"),
        (["mitigate", "logical", "repetition", "--scale-factors", "2,3"], "needs scale factor 1 first"),
        (["mitigate", "vqe", "--scale-factors", "1,3,3"], "ZNE scale factors must be distinct, got (1, 3, 3)"),
        (
            ["mitigate", "ghz", "--technique", "pec", "--pec-samples", "0"],
            "pec samples must be an integer in [2, 10,000]",
        ),
        (
            ["mitigate", "ghz", "--technique", "pec", "--pec-samples", "1000000000"],
            "got 1000000000: its error bar is the spread of the samples, so 2 at least: give e.g. 200",
        ),
        (
            ["mitigate", "ghz", "--technique", "rem", "--qubits", "13"],
            "REM on 13 qubits inverts a 2^13 x 2^13 confusion",
        ),
        (["mitigate", "ghz", "--seed", "-1"], "seed must be an integer in [0, 4,294,967,295], got -1"),
        (["mitigate", "ghz", "--threads", "-1"], "threads must be an integer in [0, 1,024], got -1"),
        (["mitigate", "ghz", "--method", "magic"], "unknown method 'magic'"),
        (["mitigate", "ghz", "--factory", "magic"], "unknown ZNE factory 'magic'"),
        (["mitigate", "ghz", "--noise", "t1q=nan"], "gate times must be finite and >= 0 nanoseconds"),
        (["mitigate", "ghz", "--noise", "rotation=inf"], "rotation must be a finite angle in radians, got inf"),
        (["mitigate", "tfim", "--qubits", "400", "--technique", "none"], "400 qubits need 3.85e+112 GiB for the"),
        (
            ["mitigate", "logical", "surface", "--distance", "100001"],
            "'surface' at distance 100001 with 100001 rounds needs about 1e+15 detectors (the limit is 1,000,000)",
        ),
        (
            ["mitigate", "logical", "surface", "--distance", "3", "--rounds", "100000"],
            "at scale factors 1, 1.5, 2 needs about 4.64e+07 Qiskit instructions; the limit is 1,000,000",
        ),
        (["mitigate", "logical", "surface", "--distance", "41"], "Qiskit instructions; the limit is 1,000,000"),
        (
            ["mitigate", "logical", "surface", "--distance", "25", "--shots", "10000000"],
            "Aer's measurement records (3 circuits x 10,000,000 shots x 16,225 bits) need about",
        ),
        (
            ["mitigate", "logical", "surface", "--noise", "t1=50,t2=50", "--distance", "9"],
            "161 qubits need 4.36e+40 GiB for the statevector method",
        ),
        (
            ["mitigate", "logical", "repetition", "--stim-shots", "0"],
            "stim_shots must be an integer in [1, 1,000,000,000]",
        ),
        (["mitigate", "logical", "repetition", "--stim-shots", "10000000000"], "got 10000000000: give e.g. 100000"),
        (["mitigate", "logical", "repetition", "--decoder", "magic"], "unknown decoder 'magic'"),
        (["mitigate", "logical", "repetition", "--shots", "0"], "shots must be an integer in [1, 10,000,000], got 0"),
        (["mitigate", "logical", "color"], "unknown family 'color' for logical runs"),
    ],
)
def test_what_cannot_fit_or_is_bad_is_refused_fast_in_one_line(capsys, argv, message):
    start = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - start < 2  # refused from arithmetic: nothing of that size was built or run
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert message in captured.err


def test_limits_hold_just_below_them():
    check_run_options(shots=MAX_SHOTS, seed=MAX_SEED, threads=MAX_THREADS)
    check_technique("pec", NoiseSpec(depolarizing_2q=0.01), options=PecOptions(samples=MAX_PEC_SAMPLES))
    check_technique("rem", NoiseSpec(readout=0.01), qubits=MAX_REM_QUBITS)
    ZneOptions(scale_factors=tuple(1.0 + k for k in range(MAX_SCALE_FACTORS - 1)) + (MAX_SCALE_FACTOR,))
    LogicalSize(qubits=AER_MAX_QUBITS, clbits=1, operations=MAX_LOGICAL_OPERATIONS, detectors=1).check()
    with pytest.raises(QecInputError, match="the limit is 1,000,000"):
        LogicalSize(qubits=5, clbits=1, operations=MAX_LOGICAL_OPERATIONS + 1, detectors=1).check()
    with pytest.raises(QecInputError, match="more than any Aer method holds"):
        LogicalSize(qubits=AER_MAX_QUBITS + 1, clbits=1, operations=1, detectors=1).check()
    assert AerSimulator(method="stabilizer").num_qubits == AER_MAX_QUBITS  # Aer's own limit, which we restate


def test_logical_size_is_read_without_flattening_and_matches_the_built_circuit():
    noise = NoiseSpec(depolarizing_2q=0.01)
    for family, distance, basis in [("repetition", 5, "Z"), ("shor", 3, "X"), ("surface", 5, "X")]:
        size = LogicalExperiment.size(family, distance=distance, rounds=distance, noise=noise, basis=basis)
        circuit = LogicalExperiment.build(
            family, distance=distance, rounds=distance, noise=noise, basis=basis
        ).qiskit_circuit
        assert (size.qubits, size.clbits, size.operations) == (circuit.num_qubits, circuit.num_clbits, circuit.size())


def test_stim_estimate_samples_in_chunks(monkeypatch):
    """Memory is bounded by sampling in chunks: with ~14-shot chunks every shot is still counted, and the rate
    agrees with one whole sample within 5 sigma of their difference (they draw different streams)."""
    import qec.mitigation.logical as logical

    experiment = LogicalExperiment.build("repetition", distance=3, rounds=2, noise=NoiseSpec(depolarizing_2q=0.05))
    whole = experiment.stim_estimate(shots=20_000, seed=7)
    monkeypatch.setattr(logical, "_STIM_CHUNK_BYTES", 100)  # 100 bytes / (6 detectors + 1 observable) = 14 shots
    chunked = experiment.stim_estimate(shots=20_000, seed=7)
    assert chunked.shots == whole.shots == 20_000 and chunked == experiment.stim_estimate(shots=20_000, seed=7)
    assert abs(chunked.rate - whole.rate) < 5 * (chunked.standard_error**2 + whole.standard_error**2) ** 0.5
    assert whole.errors > 100


GHZ4_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c[4];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
cx q[2],q[3];
measure q -> c;
"""


def qasm_file(tmp_path: Path, text: str = GHZ4_QASM, name: str = "ghz4.qasm") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def wide_qasm(qubits: int, gate: str = "t") -> str:
    return f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{qubits}];\nh q;\n{gate} q[0];\ncx q[0],q[1];\n'


def test_zne_on_a_user_ghz4_file_cuts_the_parity_error_at_least_twice(tmp_path, capsys):
    argv = ["mitigate", "circuit", qasm_file(tmp_path), "--observable", "XXXX", "--noise", "p2=0.01"]
    assert main(argv + ["--technique", "zne", "--shots", "100000", "--seed", "1", "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # As test_techniques' GHZ-4 test: noisy error ~0.03, Richardson's 5 sigma at most 0.055 and ~0.01 in fact.
    assert list(out) == KEYS and out["workload"] == "ghz4.qasm" and out["observable"] == "XXXX"
    assert out["ideal"] == 1.0 and out["error_reduction"] >= 2, out
    assert 0 < out["noisy_standard_error"] < 0.002  # sqrt(1 - 0.97^2) / sqrt(1e5) ~ 7.7e-4
    assert (out["circuits"], out["shots"], out["sampling_overhead"]) == (3, 300_000, None)


def test_table_shows_every_value_with_its_error_bar_and_the_cost_of_pec(tmp_path, capsys):
    argv = ["mitigate", "circuit", qasm_file(tmp_path), "--observable", "XXXX + 0.5*ZZII - 0.25*IYYI"]
    argv += ["--technique", "pec", "--pec-samples", "40", "--shots", "500", "--threads", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "observable XXXX + 0.5*ZZII - 0.25*IYYI" in out and "ideal     1.5" in out
    assert out.count(" ± ") == 2 and "PEC sampling overhead 1.13x" in out  # (1.0202)^(2*3) for 3 CX at p2=0.01
    assert "cost: 120 circuits, 60000 shots" in out  # 40 samples x 3 measurement groups


def test_without_an_ideal_the_report_compares_noisy_and_mitigated_only(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(observables, "MAX_IDEAL_STATEVECTOR_QUBITS", 3)  # the 4-qubit circuit is now "too large"
    path = qasm_file(tmp_path, GHZ4_QASM.replace("measure", "t q[3];\nmeasure"))
    argv = ["mitigate", "circuit", path, "--observable", "ZZII", "--shots", "1000", "--threads", "1"]
    argv += ["--technique", "pec", "--pec-samples", "40"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "ideal     unknown" in out and "error reduction" not in out and out.count(" ± ") == 2
    assert main(argv + ["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ideal"] is None and report["error_reduction"] is None
    assert math.isfinite(report["standard_error"]) and math.isfinite(report["noisy_standard_error"])


@pytest.mark.parametrize(
    "text, observable, options, message",
    [
        ("not a circuit\n", "ZZ", [], "is not a circuit file: it is neither QPY"),
        (GHZ4_QASM, "ZZZ", [], "observable term 'ZZZ' has 3 letters but the circuit has 4 qubits"),
        (GHZ4_QASM, "ZZAZ", [], "unknown Pauli letter 'A' in 'ZZAZ'"),
        (GHZ4_QASM, "bitstring:010", [], "bitstring '010' has 3 bits but the circuit has 4 qubits"),
        (GHZ4_QASM, "__import__('os')", [], "has '_' at character 1"),
        (wide_qasm(40), "Z" * 40, ["--technique", "none"], "40 qubits need 1.64e+04 GiB for the statevector method"),
        (wide_qasm(20), "Z" * 20, ["--method", "density_matrix"], "20 qubits need 1.64e+04 GiB for the density_matrix"),
        (wide_qasm(3), "ZZZ", ["--method", "stabilizer"], "the stabilizer method needs Clifford circuits"),
        (GHZ4_QASM.replace("cx q[1]", "measure q[1] -> c[1];\ncx q[1]"), "ZZZZ", [], "measures qubit 1 mid-circuit"),
        (GHZ4_QASM.replace("cx q[2]", "if(c==1) x q[3];\ncx q[2]"), "ZZZZ", [], "classical control (if_else"),
        (GHZ4_QASM, "XXXX", ["--noise", "p2=2"], "must be a probability in [0, 1]"),
        (GHZ4_QASM, "XXXX", ["--technique", "zen"], "unknown technique 'zen'"),
    ],
)
def test_bad_user_input_is_one_line_and_exit_code_2(tmp_path, capsys, text, observable, options, message):
    start = time.perf_counter()
    assert main(["mitigate", "circuit", qasm_file(tmp_path, text), "--observable", observable] + options) == 2
    assert time.perf_counter() - start < 5  # refused before anything of that size is simulated
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert message in captured.err


def test_circuit_command_needs_a_file_and_an_observable(tmp_path, capsys):
    assert main(["mitigate", "circuit"]) == 2
    assert "needs a FILE" in capsys.readouterr().err
    assert main(["mitigate", "circuit", qasm_file(tmp_path)]) == 2
    assert "needs --observable" in capsys.readouterr().err
    assert main(["mitigate", "circuit", str(tmp_path / "missing.qasm"), "--observable", "Z"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_seeded_run_with_several_measurement_groups_repeats_exactly(tmp_path, capsys):
    """Mitiq's Observable groups its terms after an unseeded shuffle; ours are fixed, so the seed fixes the run."""
    runs = []
    for _ in range(3):
        assert main(["mitigate", "tfim", "--qubits", "4", "--shots", "1000", "--threads", "1", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        runs.append((report["noisy"], report["mitigated"], report["standard_error"]))
    assert runs[0] == runs[1] == runs[2]


def test_qasm3_and_qpy_files_of_the_user_circuit_report_the_same_ideal_as_qasm2(tmp_path, capsys):
    from qiskit import qasm2, qasm3, qpy

    circuit = qasm2.loads(GHZ4_QASM.replace("measure", "t q[1];\nry(0.3) q[2];\nmeasure"))
    (tmp_path / "c.qasm3").write_text(qasm3.dumps(circuit))
    with (tmp_path / "c.qpy").open("wb") as handle:
        qpy.dump(circuit, handle)
    (tmp_path / "c.qasm").write_text(qasm2.dumps(circuit))
    ideals = []
    for name in ("c.qasm", "c.qasm3", "c.qpy"):
        argv = ["mitigate", "circuit", str(tmp_path / name), "--observable", "XXXX - 0.5*IZZI + 0.25*YYII"]
        assert main(argv + ["--technique", "none", "--shots", "200", "--threads", "1", "--json"]) == 0
        ideals.append(json.loads(capsys.readouterr().out)["ideal"])
    assert ideals[0] == pytest.approx(ideals[1], abs=1e-10) and ideals[0] == pytest.approx(ideals[2], abs=1e-10)
    assert -1.75 < ideals[0] < 1.75 and ideals[0] not in (1.0, -0.5)  # T and RY move it off the GHZ values

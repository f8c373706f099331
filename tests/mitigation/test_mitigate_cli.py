"""`qec mitigate`: the JSON keys the issue lists, exit code 2 on bad input."""

import json

import pytest

from qec.cli.main import main

KEYS = ["workload", "technique", "device", "ideal", "noisy", "mitigated", "error_reduction", "circuits", "shots",
        "seconds"]
LOGICAL_KEYS = KEYS + ["logical_error_rate_noisy", "logical_error_rate_mitigated", "stim_estimate"]
pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")


def test_workload_json_has_exactly_the_listed_keys(capsys):
    assert main(["mitigate", "ghz", "--qubits", "3", "--technique", "zne", "--device", "auto", "--shots", "2000",
                 "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == KEYS
    assert out["ideal"] == 1.0 and out["circuits"] == 3 and out["shots"] == 6000 and out["device"] in ("CPU", "GPU")


def test_logical_json_has_exactly_the_listed_keys(capsys):
    assert main(["mitigate", "logical", "repetition", "--distance", "3", "--rounds", "2", "--shots", "500",
                 "--stim-shots", "5000", "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == LOGICAL_KEYS
    assert out["workload"] == "logical-repetition-d3" and out["ideal"] == 1.0


def test_table_says_which_device_auto_used(capsys):
    assert main(["mitigate", "ghz", "--qubits", "3", "--technique", "rem", "--noise", "readout=0.05", "--shots",
                 "1000", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "(auto: " in out and "error reduction" in out and "cost: 1 circuits, 1000 shots" in out


@pytest.mark.parametrize("argv, message", [
    (["mitigate", "fft"], "unknown workload 'fft': choose one of ghz, mirror"),
    (["mitigate", "ghz", "--technique", "zen"], "unknown technique 'zen': choose one of none, zne, pec"),
    (["mitigate", "ghz", "--noise", "p2=1.2"], "must be a probability in [0, 1]"),
    (["mitigate", "ghz", "--noise", "readout=-0.01"], "must be a probability in [0, 1]"),
    (["mitigate", "tfim", "--qubits", "44"], "44 qubits need"),
    (["mitigate", "ghz", "--device", "quantum"], "unknown device 'quantum'"),
    (["mitigate", "logical"], "needs a FAMILY"),
    (["mitigate", "logical", "steane"], "choose one of repetition, shor, surface"),
])
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1

"""`qec codes` and `qec circuit` through the real entry point, and the installed console script."""

import json
import shutil
import subprocess

import pytest
import stim

from qec.cli.main import main


def test_codes_lists_families_and_noise_models(capsys):
    assert main(["codes", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {f["name"] for f in listing["families"]} == {
        "surface",
        "unrotated-surface",
        "repetition",
        "shor",
        "color",
        "color-superdense",
        "bb",
        "hgp",
    }
    assert {m["name"] for m in listing["noise_models"]} >= {
        "code-capacity",
        "phenomenological",
        "uniform",
        "sd6",
        "si1000",
        "biased",
    }


def test_circuit_prints_a_stim_circuit(capsys):
    assert main(["circuit", "surface", "--distance", "3", "--rounds", "3", "--noise", "si1000", "--p", "0.001"]) == 0
    circuit = stim.Circuit(capsys.readouterr().out)
    assert circuit.num_detectors == 24 and len(circuit.shortest_graphlike_error()) == 3


def test_circuit_writes_file_and_diagram(tmp_path):
    out, diagram = tmp_path / "shor.stim", tmp_path / "shor.svg"
    assert (
        main(
            [
                "circuit",
                "shor",
                "--distance",
                "3",
                "--basis",
                "X",
                "--noise",
                "sd6",
                "--p",
                "0.002",
                "--out",
                str(out),
                "--diagram",
                str(diagram),
            ]
        )
        == 0
    )
    assert stim.Circuit.from_file(out).num_observables == 1
    assert diagram.read_text().startswith("<svg")


@pytest.mark.parametrize(
    "args,message",
    [
        (["circuit", "shor", "--distance", "4"], "distance 4 is not allowed for 'shor': use an odd distance >= 3"),
        (["circuit", "surface", "--p", "1.5", "--noise", "sd6"], "p must be a probability in [0, 1], got 1.5"),
        (["circuit", "surface", "--p", "-0.1", "--noise", "sd6"], "got -0.1"),
        (["circuit", "toric"], "unknown code family 'toric': choose one of surface"),
        (["circuit", "surface", "--noise", "loud"], "unknown noise model 'loud': choose one of"),
        (["circuit", "surface", "--rounds", "0"], "rounds must be >= 1"),
        (["circuit", "surface", "--distance", "three"], "Invalid value for '--distance'"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


@pytest.mark.skipif(shutil.which("qec") is None, reason="the console script is not installed")
def test_installed_console_script():
    ok = subprocess.run(
        ["qec", "circuit", "surface", "--distance", "3", "--rounds", "3", "--noise", "si1000", "--p", "0.001"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and stim.Circuit(ok.stdout).num_detectors == 24
    bad = subprocess.run(["qec", "circuit", "shor", "--distance", "4"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: distance 4")

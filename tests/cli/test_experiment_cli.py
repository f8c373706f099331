"""Issue 23 through the real entry point: every experiment's default distances are valid for it (`qec circuit`,
`collect`, `threshold` without --distance), and `qec codes --experiment` reports an experiment circuit's distance."""

import json

import pytest
import stim

from qec import codes
from qec.cli.main import main
from qec.experiments import experiments
from qec.store import Store


@pytest.mark.parametrize("name", sorted(experiments()))
def test_circuit_without_distance_builds_each_experiment(name, capsys):
    assert main(["circuit", "surface", "--experiment", name, "--rounds", "2"]) == 0
    circuit = stim.Circuit(capsys.readouterr().out)
    assert circuit.num_observables >= 1
    assert not circuit.compile_detector_sampler(seed=1).sample(8, append_observables=True).any()


def test_stability_defaults_are_even_distances(capsys):
    """The stability experiment needs even d: its defaults are 4, 6, 8, 10 where memory's are 3, 5, 7, 9."""
    assert experiments()["stability"].distances == (4, 6, 8, 10)
    assert experiments()["memory"].distances == (3, 5, 7, 9)
    assert main(["circuit", "surface", "--experiment", "stability"]) == 0
    assert stim.Circuit(capsys.readouterr().out).num_detectors == 61  # a 4 x 4 patch, 4 rounds
    listing = json.loads((main(["codes", "--json"]), capsys.readouterr().out)[1])
    assert {e["name"]: e["distances"] for e in listing["experiments"]}["stability"] == [4, 6, 8, 10]


def test_collect_without_distance_samples_the_experiments_defaults(tmp_path, capsys):
    store = tmp_path / "s.db"
    argv = ["collect", "surface", "--experiment", "stability", "--rounds", "2", "--noise", "si1000", "--p", "0.001"]
    assert main([*argv, "--max-shots", "50", "--store", str(store), "--json"]) == 0
    capsys.readouterr()
    with Store(store, read_only=True) as opened:
        distances = sorted(total.metadata["distance"] for total in opened.totals().values())
    assert distances == [4, 6, 8, 10]


def _circuit_distance(capsys, *argv: str) -> dict:
    assert main(["codes", "--json", "--max-seconds", "5", *argv]) == 0
    return json.loads(capsys.readouterr().out)["circuit_distance"]


@pytest.mark.parametrize(("distance", "rounds"), [(4, 3), (4, 4), (6, 2)])
def test_codes_reports_stability_distance_as_the_rounds(distance, rounds, capsys):
    """The stability experiment's distance is timelike: `rounds`, whatever the patch's size (Gidney 2022)."""
    found = _circuit_distance(capsys, "--experiment", "stability", "--distance", str(distance), "--rounds", str(rounds))
    assert (found["value"], found["exact"]) == (rounds, True)


@pytest.mark.parametrize(
    "argv",
    [
        ["--experiment", "cnot", "--distance", "3"],
        [
            "--experiment",
            "cnot",
            "--distance",
            "3",
            "--experiment-option",
            "cnots=2",
            "--experiment-option",
            "rounds_between=0",
            "--basis",
            "X",
        ],
        ["--experiment", "surgery", "--distance", "3"],
        ["--experiment", "surgery", "--distance", "5", "--basis", "X"],
    ],
)
def test_codes_reports_cnot_and_surgery_distance_d(argv, capsys):
    """Transversal CNOTs and lattice surgery on the rotated code keep its distance d (rounds = d), proven exactly."""
    found = _circuit_distance(capsys, *argv)
    assert (found["value"], found["exact"]) == (int(argv[3]), True)


@pytest.mark.slow
def test_codes_bounds_the_cnot_distance_at_5(capsys):
    """At d = 5 neither search proves the cnot circuit's distance in 20 s (its DEM has hyperedges across blocks);
    the lightest logical found has weight 5 = d (measured: information-set search, about 20 s)."""
    assert main(["codes", "--json", "--max-seconds", "20", "--experiment", "cnot", "--distance", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["circuit_distance"]["value"] == 5


def test_codes_experiment_refusals_are_one_line(capsys):
    assert main(["codes", "--experiment", "stability", "--distance", "3"]) == 2
    error = capsys.readouterr().err.strip()
    assert "even distance" in error and len(error.splitlines()) == 1
    assert main(["codes", "--experiment", "cnot", "--code", "bb:72,12,6"]) == 2
    assert "not both" in capsys.readouterr().err


def test_each_experiment_takes_its_default_decoder(tmp_path, capsys):
    """Without --decoder a cnot study decodes jointly: by ordered matching on the surface code (its DEM has
    hyperedges across blocks from d = 5, which plain matching refuses), by BP+OSD on a code whose DEMs do not
    decompose (bb); the others with PyMatching."""
    assert experiments()["cnot"].default_decoder(codes.family("surface")) == "pymatching-ordered"
    assert experiments()["cnot"].default_decoder(codes.family("bb")) == "bposd"
    assert {name: entry.decoder for name, entry in experiments().items() if name != "cnot"} == {
        "memory": "pymatching",
        "stability": "pymatching",
        "surgery": "pymatching",
    }
    store = tmp_path / "c.db"
    for family, name, distance in (("surface", "cnot", "5"), ("surface", "memory", "5"), ("bb", "cnot", "6")):
        argv = ["collect", family, "--experiment", name, "--distance", distance, "--noise", "si1000", "--p", "0.001"]
        assert main([*argv, "--rounds", "2", "--max-shots", "20", "--store", str(store), "--json"]) == 0
    capsys.readouterr()
    with Store(store, read_only=True) as opened:
        found = {
            (total.metadata.get("family"), total.metadata.get("experiment", "memory")): total.decoder
            for total in opened.totals().values()
        }
    assert found == {
        ("surface", "cnot"): "pymatching-ordered",
        ("surface", "memory"): "pymatching",
        ("bb", "cnot"): "bposd",
    }

"""Circuit distances with Stim's own search beside ours: the same answer where both are exact, the whole circuit's
distance equal to the memory basis's, a time limit that holds with the child process gone, and the CLI report."""

import json
import time

import numpy as np
import psutil  # a dependency of qiskit-aer
import pytest
import stim

from qec import noise
from qec.cli.main import main
from qec.codes import css
from qec.codes.distance import (
    circuit_distance,
    dem_matrices,
    memory_basis,
    min_weight_logical,
    stim_distance,
)
from qec.codes.matrices import save_check_matrices

HAMMING = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8)
# The rotated surface code d = 3 on qubits r * 3 + c: four weight-4 plaquettes and two weight-2 edges per type.
ROTATED_3_X = [[0, 1, 3, 4], [4, 5, 7, 8], [1, 2], [6, 7]]
ROTATED_3_Z = [[1, 2, 4, 5], [3, 4, 6, 7], [0, 3], [5, 8]]


def matrix(rows, n):
    h = np.zeros((len(rows), n), dtype=np.uint8)
    for i, row in enumerate(rows):
        h[i, row] = 1
    return h


def memory(name, basis):
    code = css(HAMMING, HAMMING) if name == "steane" else css(matrix(ROTATED_3_X, 9), matrix(ROTATED_3_Z, 9))
    return noise.noise_model("sd6", 0.001).apply(code.memory_circuit(rounds=3, basis=basis))


def untagged(circuit):
    """The same circuit with its basis tags removed: every detector counts, for ours and for Stim's."""
    text = str(circuit)
    for tag in ("[basis=X]", "[basis=Z]"):
        text = text.replace(tag, "")
    return stim.Circuit(text)


def exact_ours(circuit):
    """Our exact answer: graphlike, or a few information-set trials followed by the integer program."""
    found = circuit_distance(circuit, trials=1)
    if found.exact:
        return found.value
    dem = circuit.detector_error_model(approximate_disjoint_errors=True)
    h, logicals = dem_matrices(dem, basis=memory_basis(dem))
    proven = min_weight_logical(h, logicals, integer_program=True, trials=20, max_seconds=20)
    assert proven.exact, proven.describe()
    return proven.value


@pytest.mark.parametrize("name,basis,d", [("steane", "X", 2), ("steane", "Z", 2), ("rotated-3", "X", 3)])
def test_stims_search_agrees_with_ours_where_both_are_exact(name, basis, d):
    """Steane: two faults (a hook and a data error) make a logical error in either memory; the rotated surface
    code keeps d = 3. Stim's untruncated search finishes, on the memory basis's detectors and on all of them."""
    circuit = memory(name, basis)
    assert exact_ours(circuit) == d
    assert stim_distance(circuit, max_seconds=10).describe() == f"{d} (exact, Stim's search)"
    whole = untagged(circuit)
    assert whole.num_detectors == circuit.num_detectors
    assert exact_ours(whole) == d  # the noise models' errors split into X and Z parts: the same distance
    assert stim_distance(whole, max_seconds=10).describe() == f"{d} (exact, Stim's search)"


def test_circuit_distance_reports_the_better_of_the_two_and_stims_own_outcome():
    steane = memory("steane", "X")
    found = circuit_distance(steane, max_seconds=4)
    assert found.describe() == "2 (exact, Stim's search)"  # ours alone only bounds it: Stim proves it
    assert found.stim is not None and found.stim.describe() == "2 (exact, Stim's search)"
    assert found.seconds < 2  # ours stops once it reaches the weight Stim proved minimal
    assert found.as_dict()["stim"]["exact"] is True
    ours = circuit_distance(steane, trials=30)  # deterministic: no Stim, an upper bound as before
    assert (ours.value, ours.exact, ours.stim) == (2, False, None)
    assert "stim" not in ours.as_dict()
    surface = circuit_distance(memory("rotated-3", "Z"), max_seconds=4)
    assert surface.describe() == "3 (exact, graphlike)"  # both proved it: ours, found first, names it
    assert surface.stim is not None and (surface.stim.value, surface.stim.exact) == (3, True)


def test_stims_search_stops_at_its_time_limit_and_leaves_no_process():
    """The [[72,12,6]] BB code's 3-round circuit: Stim's untruncated search runs for minutes (and ~100 MB/s)."""
    from qec.codes.bb import bb_code

    circuit = noise.noise_model("sd6", 0.001).apply(bb_code(distance=6).memory_circuit(rounds=3, basis="Z"))
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    start = time.perf_counter()
    found = stim_distance(circuit, max_seconds=2)
    elapsed = time.perf_counter() - start
    assert elapsed < 4
    assert not found.exact and "untruncated: stopped at" in found.method
    assert found.value is None or found.value >= 6  # the truncated search's bound, if it had the time (7)
    assert {child.pid for child in psutil.Process().children(recursive=True)} <= before


def test_cli_codes_reports_stims_search_beside_ours(tmp_path, capsys):
    save_check_matrices(tmp_path / "steane.npz", HAMMING, HAMMING)
    argv = ["codes", "--code", str(tmp_path / "steane.npz"), "--basis", "X", "--max-seconds", "2"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["circuit"]["distance"]
    assert (report["value"], report["exact"], report["method"]) == (2, True, "Stim's search")
    assert (report["stim"]["value"], report["stim"]["exact"]) == (2, True)
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "circuit-level distance (3 rounds, X memory, sd6 noise): 2 (exact, Stim's search)" in lines
    assert any(line.startswith("  Stim's search (") and line.endswith("2 (exact, Stim's search)") for line in lines)

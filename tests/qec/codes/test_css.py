"""Any CSS code from its check matrices: checks at the door, logical bases, deterministic tagged circuits under
every noise model, files (npz, alist), distances, and the CLI's --code."""

import json
import re
import time

import numpy as np
import pytest
import scipy.sparse
import stim

from qec import codes, noise
from qec.cli.main import main
from qec.codes import gf2
from qec.codes.css import MAX_CODE_QUBITS, css, edge_colouring, sequential_schedule
from qec.codes.distance import circuit_distance, code_distance, min_weight_logical
from qec.codes.hgp import hgp, repetition_check_matrix
from qec.codes.matrices import load_css_code, read_alist, save_check_matrices, write_alist
from qec.errors import QecInputError

HAMMING = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8)


@pytest.fixture(scope="module")
def steane():
    return css(HAMMING, HAMMING, name="steane")


def test_steane_parameters_and_paired_logicals(steane):
    assert (steane.n, steane.k, steane.checks) == (7, 1, 6)
    assert not gf2.product(steane.hx, steane.logical_z.T).any()
    assert not gf2.product(steane.hz, steane.logical_x.T).any()
    assert gf2.product(steane.logical_x, steane.logical_z.T).tolist() == [[1]]
    assert code_distance(steane).value == 3


def test_logical_bases_pair_up_for_a_random_hypergraph_product():
    rng = np.random.default_rng(3)
    h1 = rng.integers(0, 2, size=(4, 7), dtype=np.uint8)
    h2 = rng.integers(0, 2, size=(5, 6), dtype=np.uint8)
    code = css(*hgp(h1, h2))
    k1, k2 = 7 - gf2.rank(h1), 6 - gf2.rank(h2)
    k1t, k2t = 4 - gf2.rank(h1), 5 - gf2.rank(h2)
    assert code.k == k1 * k2 + k1t * k2t > 0
    assert (gf2.product(code.logical_x, code.logical_z.T) == np.eye(code.k, dtype=np.uint8)).all()
    # No logical is a stabilizer: each stays independent of its own type's checks.
    assert gf2.rank(np.concatenate([code.hz, code.logical_z])) == gf2.rank(code.hz) + code.k


def test_scipy_sparse_and_lists_give_the_same_code(steane):
    from_sparse = css(scipy.sparse.csr_matrix(HAMMING), scipy.sparse.coo_matrix(HAMMING))
    from_lists = css(HAMMING.tolist(), HAMMING.astype(bool))
    for code in (from_sparse, from_lists):
        assert (code.hx == steane.hx).all() and (code.logical_z == steane.logical_z).all()


@pytest.mark.parametrize(
    "hx,hz,message",
    [
        (HAMMING, np.eye(7, dtype=np.uint8), "X check 0 and Z check 0 overlap on 1 qubit"),
        (np.array([[1, 1]]), np.array([[1, 1]]), "k = n - rank(hx) - rank(hz) = 2 - 1 - 1 = 0"),
        (HAMMING * 2, HAMMING, "hx must hold only 0 and 1"),
        (HAMMING, HAMMING[:, :6], "hx has 7, hz has 6"),
        (np.zeros(7), HAMMING, "hx must be a 2-D matrix"),
        (np.array([["a"]]), HAMMING, "hx must hold numbers"),
        (scipy.sparse.csr_matrix((2, MAX_CODE_QUBITS + 1), dtype=np.uint8), HAMMING, "the limit is 5,000"),
        (scipy.sparse.csr_matrix(HAMMING * 3), HAMMING, "hx must hold only 0 and 1"),
    ],
)
def test_bad_check_matrices_are_refused_in_one_line(hx, hz, message):
    with pytest.raises(QecInputError, match=re.escape(message)) as refused:
        css(hx, hz)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("rounds", [1, 2, 5])
def test_noiseless_steane_never_fires_and_every_annotation_is_tagged(steane, basis, rounds):
    circuit = steane.memory_circuit(rounds=rounds, basis=basis)
    assert circuit.num_detectors == 3 * 2 + 6 * (rounds - 1)
    circuit.detector_error_model()
    detections, flips = circuit.compile_detector_sampler(seed=2).sample(256, separate_observables=True)
    assert not detections.any() and not flips.any()
    annotations = [inst for inst in circuit.flattened() if inst.name in ("DETECTOR", "OBSERVABLE_INCLUDE")]
    assert all(inst.tag in ("basis=X", "basis=Z") for inst in annotations)
    assert {inst.tag for inst in annotations if inst.name == "OBSERVABLE_INCLUDE"} == {f"basis={basis}"}
    first_round = [
        inst.tag for inst in circuit if isinstance(inst, stim.CircuitInstruction) and inst.name == "DETECTOR"
    ]
    assert set(first_round) == {f"basis={basis}"}  # the first round and the end compare memory-basis checks only


@pytest.mark.parametrize("model", [m for m in noise.NOISE_FAMILIES if m != "none"])
def test_every_noise_model_keeps_the_tags_in_the_dem(steane, model):
    noisy = noise.noise_model(model, 0.01).apply(steane.memory_circuit(rounds=2, basis="X"))
    dem = noisy.detector_error_model(approximate_disjoint_errors=True)
    assert dem.num_errors > 0
    text = str(dem)
    assert text.count("detector[basis=X]") == 3 + 3 + 3 and text.count("detector[basis=Z]") == 3
    assert text.count("logical_observable[basis=X] L0") == 1


def test_edge_colouring_uses_the_largest_degree_and_is_proper():
    rng = np.random.default_rng(0)
    for _ in range(20):
        matrix = rng.random((12, 20)) < 0.3
        edges = np.argwhere(matrix)
        colours = edge_colouring(edges)
        degree = max(matrix.sum(axis=0).max(), matrix.sum(axis=1).max())
        assert colours.max() + 1 == degree
        for side in (0, 1):
            pairs = set(zip(edges[:, side].tolist(), colours.tolist()))
            assert len(pairs) == len(edges)


def test_npz_dense_and_sparse_and_alist_round_trip(tmp_path, steane):
    save_check_matrices(tmp_path / "dense.npz", steane.hx, steane.hz)
    save_check_matrices(tmp_path / "sparse.npz", steane.hx, steane.hz, sparse=True)
    write_alist(tmp_path / "hx.alist", steane.hx)
    write_alist(tmp_path / "hz.alist", steane.hz)
    assert (read_alist(tmp_path / "hx.alist") == steane.hx).all()
    for spec in ("dense.npz", "sparse.npz", f"{tmp_path / 'hx.alist'},{tmp_path / 'hz.alist'}"):
        code = load_css_code(tmp_path / spec if spec.endswith(".npz") else spec)
        assert (code.hx == steane.hx).all() and (code.hz == steane.hz).all() and code.k == 1


def csr_parts(indices, indptr):
    """hx as CSR parts of a 1 x 7 matrix with these column indices and row pointers."""
    return {
        "hx_data": np.ones(len(indices), dtype=np.uint8),
        "hx_indices": np.array(indices),
        "hx_indptr": np.array(indptr),
        "hx_shape": np.array([1, 7]),
    }


@pytest.mark.parametrize(
    "write,message",
    [
        (lambda p: np.savez(p, hx=HAMMING), "has no array 'hz' (it holds hx)"),
        (lambda p: np.savez(p, hx=HAMMING, hz=HAMMING * 2), "hz must hold only 0 and 1"),
        (lambda p: np.savez(p, hx=HAMMING, hz=np.eye(7)), "do not commute"),
        (lambda p: np.savez(p, hx=np.array([object()]), hz=HAMMING), "has dtype object"),  # pickled: refused unread
        (lambda p: p.write_bytes(b"not a zip file"), "not a readable .npz"),
        # CSR parts whose indices lie outside the shape (found by the CLI fuzzer: a ValueError traceback)
        (lambda p: np.savez(p, **csr_parts([0, 99], [0, 2]), hz=HAMMING), "hx CSR parts are malformed: indices must"),
        (lambda p: np.savez(p, **csr_parts([0, -1], [0, 2]), hz=HAMMING), "hx CSR parts are malformed: indices must"),
    ],
)
def test_bad_npz_files_are_refused(tmp_path, write, message):
    path = tmp_path / "code.npz"
    write(path)
    with pytest.raises(QecInputError, match=re.escape(message)) as refused:
        load_css_code(path)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "text,message",
    [
        ("2 1\n1 2\n1 1\n2\n1\n1\n1\n", "ends inside the row lists"),
        ("2 1\n1 2\n1 1\n2\n1\n1\n1 1\n", "row 1's list does not match"),
        ("x y", "integers only"),
        ("2 1\n1 2\n1 1\n2\n1\n3\n1 2\n", "column 2 lists [3]"),
    ],
)
def test_bad_alist_files_are_refused(tmp_path, text, message):
    path = tmp_path / "h.alist"
    path.write_text(text)
    with pytest.raises(QecInputError, match=re.escape(message)):
        read_alist(path)


def test_a_file_that_is_neither_npz_nor_alist_is_refused():
    with pytest.raises(QecInputError, match="must be a .npz with arrays hx and hz, or two alist files"):
        load_css_code("code.txt")


def test_information_set_search_finds_the_published_weight_six_logical():
    from qec.codes.bb import bb_code

    code = bb_code("72,12,6")
    found = min_weight_logical(code.hx, code.logical_x, trials=300, seed=0)
    assert found.value == 6 and not found.exact  # 6 is the code's distance: nothing lighter exists to find


def test_enumeration_is_exact_and_agrees_with_the_search():
    code = css(*hgp(repetition_check_matrix(4), repetition_check_matrix(4)))  # the toric code, d = 4
    assert code_distance(code, basis="Z", max_seconds=20).describe() == "4 (exact, integer program)"
    small = css(HAMMING, HAMMING)
    assert code_distance(small, basis="X").describe() == "3 (exact, enumeration)"


def test_circuit_distance_sees_steanes_unavoidable_hook_errors(steane):
    """Steane's weight-4 checks spread one ancilla fault onto their last two data qubits, and every pair of qubits
    lies on a weight-3 logical (the lines of the Fano plane): whatever the order, two faults make a logical error,
    below the code distance 3 (one fault is always detected). The default schedule says so."""
    kernel = gf2.null_space(steane.hx)
    words = (np.arange(1, 2 ** len(kernel))[:, None] >> np.arange(len(kernel)) & 1) @ kernel % 2
    light = words[(words.sum(axis=1) == 3) & ((words @ steane.logical_x.T % 2).any(axis=1))]
    assert {(a, b) for row in light for a in np.flatnonzero(row) for b in np.flatnonzero(row) if a < b} == {
        (a, b) for a in range(7) for b in range(a + 1, 7)
    }
    assert steane.schedule.description.count("circuit distance 2 < d_") == 2
    assert steane.schedule.description.count("unavoidable") == 2
    for basis in ("X", "Z"):
        circuit = noise.noise_model("sd6", 0.001).apply(steane.memory_circuit(rounds=3, basis=basis))
        found = circuit_distance(circuit, trials=200)
        assert found.value == 2 and not found.exact


def rotated_surface_code(d):
    """(hx, hz) of the rotated surface code of distance d, from its layout: data qubit (r, c) is r d + c; the
    plaquette with corners (i..i+1, j..j+1) is an X check when i + j is even, a Z check when odd; weight-2 ones
    sit on the top and bottom edges (X) and the left and right edges (Z)."""
    index = {(r, c): r * d + c for r in range(d) for c in range(d)}
    hx, hz = [], []
    for i in range(-1, d):
        for j in range(-1, d):
            corners = [index[(i + a, j + b)] for a in (0, 1) for b in (0, 1) if (i + a, j + b) in index]
            kind = "X" if (i + j) % 2 == 0 else "Z"
            edge = i in (-1, d - 1) if kind == "X" else j in (-1, d - 1)
            if len(corners) == 4 or (len(corners) == 2 and edge):
                row = np.zeros(d * d, dtype=np.uint8)
                row[corners] = 1
                (hx if kind == "X" else hz).append(row)
    return np.array(hx), np.array(hz)


@pytest.mark.parametrize("d", [3, 5])
def test_rotated_surface_code_from_plain_matrices_keeps_its_distance_in_both_bases(d):
    """The default schedule orders each check so that its hooks run across the logicals they could shorten; the
    generic edge-colouring order loses distance in the X memory (2 for d = 3, 3 for d = 5)."""
    hx, hz = rotated_surface_code(d)
    code = css(hx, hz, name=f"rotated-{d}")
    assert (code.n, code.k, code_distance(code).value) == (d * d, 1, d)
    assert len(code.schedule.layers) == 8  # 4 + 4: as shallow as the edge colouring
    assert code.schedule.description.count(f"circuit distance {d} = d_") == 2
    generic = css(hx, hz, schedule=sequential_schedule(hx, hz))
    for basis in ("X", "Z"):
        circuit = noise.noise_model("sd6", 0.001).apply(code.memory_circuit(rounds=d, basis=basis))
        assert circuit_distance(circuit).describe() == f"{d} (exact, graphlike)"
    circuit = noise.noise_model("sd6", 0.001).apply(generic.memory_circuit(rounds=d, basis="X"))
    assert circuit_distance(circuit).value < d


@pytest.mark.parametrize("d", [3, 5])
def test_the_exact_local_search_alone_repairs_the_generic_order(d):
    """Step 2 of the schedule on its own: from the generic colouring's Z-check orders (X memory distance 2 or 3),
    with every order allowed, the breadth-first search and local search over orders reach d exactly."""
    from qec.codes import schedules

    hx, hz = rotated_surface_code(d)
    code = css(hx, hz, schedule=sequential_schedule(hx, hz))
    plans = [schedules._CheckOrders(np.flatnonzero(r), 0, np.ones(2 ** int(r.sum()), dtype=bool), ()) for r in hz]
    search = schedules._HookSearch.of(hx, code.logical_x, plans)
    z_layers = tuple(layer - np.array([hx.shape[0], 0]) for layer in code.schedule.layers[:4])  # Z checks first
    chains = [plan.chain_of(order) for plan, order in zip(plans, schedules._orders(z_layers, len(plans)))]
    assert search.faults(chains)[0] == d // 2 + 1  # what circuit_distance measures for the generic order
    assert search.improve(chains, d)[0] == d


def colour_code_666(d):
    """(h, h) of the triangular 6.6.6 colour code of distance d: sites (r, c), 0 <= c <= r <= 3 (d - 1) / 2, of
    the triangular lattice; those with r + c = 1 (mod 3) are plaquettes, the others qubits."""
    bound = 3 * (d - 1) // 2
    sites = [(r, c) for r in range(bound + 1) for c in range(r + 1)]
    index = {s: i for i, s in enumerate(s for s in sites if (s[0] + s[1]) % 3 != 1)}
    rows = []
    for r, c in sites:
        if (r + c) % 3 == 1:
            around = [(r - 1, c - 1), (r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c), (r + 1, c + 1)]
            row = np.zeros(len(index), dtype=np.uint8)
            row[[index[q] for q in around if q in index]] = 1
            rows.append(row)
    return np.array(rows), np.array(rows)


def reed_muller_15():
    """(hx, hz) of the [[15,1,3]] quantum Reed-Muller code: X checks the 4 weight-8 rows of RM(1,4) punctured,
    Z checks those and the 6 weight-4 products of pairs of them."""
    g = ((np.arange(1, 16)[None, :] >> np.arange(4)[:, None]) & 1).astype(np.uint8)
    return g, np.concatenate([g, [g[a] & g[b] for a in range(4) for b in range(a + 1, 4)]])


def random_hgp():
    rng = np.random.default_rng(5)
    return hgp(rng.integers(0, 2, size=(3, 5), dtype=np.uint8), rng.integers(0, 2, size=(3, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    "name,matrices,claimed",
    [
        ("steane", lambda: (HAMMING, HAMMING), {"X": 2, "Z": 2}),
        ("colour-5", lambda: colour_code_666(5), {"X": 3, "Z": 3}),
        ("reed-muller-15", reed_muller_15, {"X": 2, "Z": 4}),
        ("toric-4", lambda: hgp(repetition_check_matrix(4), repetition_check_matrix(4)), {"X": 4, "Z": 4}),
        ("random-hgp", random_hgp, None),
        ("rotated-7", lambda: rotated_surface_code(7), None),
    ],
)
def test_default_schedule_is_deterministic_and_its_claims_hold(name, matrices, claimed):
    """Every detector deterministic (noiseless circuits never fire, the noisy DEM builds), the same schedule on
    every build, and the circuit distance the description claims (exact, by its search over fault sets) is not
    beaten by `circuit_distance`'s own search."""
    hx, hz = matrices()
    code = css(hx, hz, name=name)
    again = css(hx, hz, name=name)
    assert again.schedule.description == code.schedule.description
    assert all((a == b).all() for a, b in zip(again.schedule.layers, code.schedule.layers))
    assert len(code.schedule.layers) <= 2 * max(hx.sum(axis=1).max(), hz.sum(axis=1).max()) + 4
    for basis in ("X", "Z"):
        circuit = code.memory_circuit(rounds=2, basis=basis)
        detections, flips = circuit.compile_detector_sampler(seed=3).sample(64, separate_observables=True)
        assert not detections.any() and not flips.any()
        noisy = noise.noise_model("sd6", 0.001).apply(circuit)
        assert noisy.detector_error_model().num_detectors == circuit.num_detectors
        if claimed:
            memory = "X (Z-check hooks)" if basis == "X" else "Z (X-check hooks)"
            assert f"memory in {memory}: circuit distance {claimed[basis]} " in code.schedule.description
            found = circuit_distance(noisy, trials=40)
            assert found.value is not None and found.value >= claimed[basis]


def test_a_144_qubit_code_through_plain_css_builds_in_seconds():
    """The gross code's matrices without its family's cycle: too many states for the exact search, so the orders
    follow the one-hook criterion against sampled logicals, and the description says it is a heuristic."""
    from qec.codes.bb import bb_code

    gross = bb_code("gross")
    start = time.perf_counter()
    code = css(gross.hx, gross.hz, name="gross-plain")
    seconds = time.perf_counter() - start
    assert seconds < 10, seconds  # about 0.6 s on the 2-core development machine
    assert code.schedule.description.count("a heuristic: hooks together not checked") == 2
    circuit = code.memory_circuit(rounds=1, basis="Z")
    detections, flips = circuit.compile_detector_sampler(seed=1).sample(16, separate_observables=True)
    assert not detections.any() and not flips.any()


def test_codes_beyond_the_search_keep_the_generic_order(monkeypatch):
    from qec.codes import schedules

    monkeypatch.setattr(schedules, "MAX_SEARCH_EDGES", 10)
    code = css(HAMMING, HAMMING)
    assert code.schedule.description.count("generic order") == 2
    generic = sequential_schedule(HAMMING, HAMMING)
    assert all((a == b).all() for a, b in zip(code.schedule.layers, generic.layers))


def test_cli_codes_describes_a_users_code(tmp_path, capsys):
    save_check_matrices(tmp_path / "steane.npz", HAMMING, HAMMING)
    assert main(["codes", "--code", str(tmp_path / "steane.npz"), "--max-seconds", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["n"], report["k"], report["distance"]["value"], report["distance"]["exact"]) == (7, 1, 3, True)
    assert report["circuit"]["distance"]["value"] in (2, 3)  # a time-bounded search: 2 as a rule (see above)
    assert main(["codes", "--json"]) == 0
    listing = {f["name"]: f for f in json.loads(capsys.readouterr().out)["families"]}
    assert [(c["n"], c["k"], c["d"]) for c in listing["bb"]["codes"]] == [
        (72, 12, 6),
        (90, 8, 10),
        (144, 12, 12),
        (288, 12, 18),
    ]


def test_cli_circuit_and_collect_take_a_users_code(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(codes, "USER_FAMILIES", {})  # the code this test registers goes with it
    save_check_matrices(tmp_path / "steane.npz", HAMMING, HAMMING)
    code = str(tmp_path / "steane.npz")
    assert main(["circuit", "css", "--code", code, "--rounds", "2", "--noise", "si1000", "--p", "0.001"]) == 0
    circuit = stim.Circuit(capsys.readouterr().out)
    assert circuit.num_observables == 1 and circuit.num_detectors == 12
    store = tmp_path / "s.db"
    argv = ["collect", "css", "--code", code, "--p", "0.01", "--noise", "sd6", "--decoder", "lookup"]
    argv += ["--max-shots", "200", "--workers", "1", "--store", str(store), "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    from qec.store import Store

    with Store(store, read_only=True) as results:
        (totals,) = results.totals().values()
    assert totals.metadata | {"p": 0} == {
        "family": "css",
        "code": "steane",
        "n": 7,
        "k": 1,
        "distance": 3,
        "rounds": 3,
        "basis": "Z",
        "noise": "sd6",
        "p": 0,
    }
    assert totals.counts.shots >= 200


@pytest.mark.parametrize(
    "argv,message",
    [
        (["circuit", "css"], "give it as --code FILE"),
        (["circuit", "surface", "--code", "x.npz"], "--code is for the family css"),
        (["circuit", "css", "--code", "missing.npz"], "does not exist"),
        (["codes", "--code", "code.txt"], "must be a .npz"),
    ],
)
def test_cli_bad_codes_exit_2_in_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(codes, "USER_FAMILIES", {})  # no code registered by an earlier test
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_family_css_without_a_code_says_how_to_give_one(monkeypatch):
    monkeypatch.setattr(codes, "USER_FAMILIES", {})
    with pytest.raises(QecInputError, match="give it as code=FILE"):
        codes.memory_circuit("css", distance=3, rounds=1)


def test_a_code_with_no_x_checks_is_the_classical_repetition_code():
    code = css(np.zeros((0, 3), dtype=np.uint8), repetition_check_matrix(3, cyclic=False), name="rep3")
    assert (code.n, code.k) == (3, 1) and code.logical_x.tolist() == [[1, 1, 1]]
    assert code_distance(code, basis="X").value == 3 and code_distance(code, basis="Z").value == 1
    for basis in ("X", "Z"):
        circuit = code.memory_circuit(rounds=2, basis=basis)
        detections, flips = circuit.compile_detector_sampler(seed=4).sample(32, separate_observables=True)
        assert not detections.any() and not flips.any()

"""The bivariate bicycle codes of Bravyi et al. (2024): parameters from ranks, the depth-8 cycle, determinism,
the family's distances and names, noise and tags."""

import numpy as np
import pytest
import stim

from qec import codes, noise
from qec.codes import gf2
from qec.codes.bb import BB_SPECS, bb_code, bb_spec
from qec.errors import QecInputError
from qec.parts import memory_task

PUBLISHED = {
    "72,12,6": (72, 12),
    "90,8,10": (90, 8),
    "108,8,10": (108, 8),
    "144,12,12": (144, 12),
    "288,12,18": (288, 12),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_n_and_k_from_ranks_match_the_paper(name):
    code = bb_code(name)
    n, k = PUBLISHED[name]
    assert code.n == n
    assert n - gf2.rank(code.hx) - gf2.rank(code.hz) == k == code.k
    assert np.all(code.hx.sum(axis=1) == 6) and np.all(code.hz.sum(axis=1) == 6)  # weight-6 checks
    assert not gf2.product(code.hx, code.hz.T).any()
    # The logical bases commute with the other type's checks and pair up.
    assert not gf2.product(code.hx, code.logical_z.T).any() and not gf2.product(code.hz, code.logical_x.T).any()
    assert (gf2.product(code.logical_x, code.logical_z.T) == np.eye(k, dtype=np.uint8)).all()


def test_names_and_distances_pick_the_codes():
    assert bb_code("gross") is bb_code("144,12,12") is bb_code("[[144,12,12]]") is bb_code(distance=12)
    assert bb_code("two-gross").n == 288 and bb_code(distance=18).n == 288
    assert bb_code(distance=10).n == 90  # the ambiguous distance gives [[90,8,10]]
    assert bb_spec("108,8,10").l == 9
    from qec.codes.matrices import load_css_code

    assert load_css_code("bb:108,8,10") is bb_code("108,8,10")  # what --code bb:108,8,10 gives
    with pytest.raises(QecInputError, match="unknown BB code 'huge'"):
        bb_code("huge")
    with pytest.raises(QecInputError, match="use one of 6, 10, 12, 18"):
        bb_code(distance=8)


def test_the_cycle_is_depth_8_with_six_cnots_per_ancilla():
    circuit = bb_code("72,12,6").memory_circuit(rounds=1, basis="Z")
    layers = [inst for inst in circuit if inst.name == "CX"]
    assert len(layers) == 7  # plus the measure-and-reset layer: depth 8
    ancilla_uses = np.zeros(circuit.num_qubits, dtype=int)
    for layer in layers:
        qubits = [t.value for t in layer.targets_copy()]
        assert len(set(qubits)) == len(qubits)
        np.add.at(ancilla_uses, qubits, 1)
    assert (ancilla_uses == 6).all()  # each ancilla: its 6 qubits; each data qubit: 3 X and 3 Z checks


@pytest.mark.parametrize("name", list(PUBLISHED))
@pytest.mark.parametrize("basis", ["X", "Z"])
@pytest.mark.parametrize("rounds", [1, 3])
def test_noiseless_circuits_never_fire(name, basis, rounds):
    code = bb_code(name)
    circuit = code.memory_circuit(rounds=rounds, basis=basis)
    assert circuit.num_observables == code.k
    assert circuit.num_detectors == code.n // 2 * (2 * rounds)  # memory-basis checks twice, all checks in between
    circuit.detector_error_model()  # stim raises on a non-deterministic detector or observable
    detections, flips = circuit.compile_detector_sampler(seed=1).sample(64, separate_observables=True)
    assert not detections.any() and not flips.any()


def test_a_wrong_cnot_order_is_caught_by_determinism():
    """The determinism test has teeth: X checks visiting their neighbours in the order 0, 3, 4, 5, 1, 2 (a
    clash-free interleaving with the paper's Z order) do not measure the checks."""
    from qec.codes import bb

    spec = BB_SPECS["72,12,6"]
    a = [bb._monomial(spec.l, spec.m, p) for p in spec.a]
    b = [bb._monomial(spec.l, spec.m, p) for p in spec.b]
    good = bb_code("72,12,6")
    saved = bb.X_DIRECTIONS, bb.Z_DIRECTIONS
    try:
        bb.X_DIRECTIONS = (None, 0, 3, 4, 5, 1, 2)
        schedule = bb._schedule(a, b)
    finally:
        bb.X_DIRECTIONS, bb.Z_DIRECTIONS = saved
    bad = codes.css(good.hx, good.hz, schedule=schedule)
    with pytest.raises(ValueError, match="non-deterministic"):
        bad.memory_circuit(rounds=2, basis="Z").detector_error_model()


def test_family_bb_builds_by_distance_and_refuses_others():
    family = codes.FAMILIES["bb"]
    assert family.distances == (6, 10, 12, 18) and not family.matchable
    circuit = codes.memory_circuit("bb", distance=6, rounds=2, basis="X")
    assert circuit.num_observables == 12
    assert family.size(distance=6, rounds=2).qubits == circuit.num_qubits == 144
    assert circuit.num_detectors <= family.size(distance=6, rounds=2).detectors
    with pytest.raises(QecInputError, match="distance 7 is not allowed for 'bb': use a distance in 6, 10, 12, 18"):
        codes.memory_circuit("bb", distance=7, rounds=2)
    with pytest.raises(QecInputError, match="detectors"):
        codes.memory_circuit("bb", distance=12, rounds=10**30)


@pytest.mark.parametrize("model", [m for m in noise.NOISE_FAMILIES if m != "none"])
@pytest.mark.parametrize("basis", ["X", "Z"])
def test_every_noise_model_applies_and_keeps_the_tags(model, basis):
    circuit = noise.noise_model(model, 0.001).apply(codes.memory_circuit("bb", distance=6, rounds=2, basis=basis))
    dem = circuit.detector_error_model(approximate_disjoint_errors=True)
    assert dem.num_errors > 0
    tags = [inst.tag for inst in dem.flattened() if inst.type in ("detector", "logical_observable")]
    assert len(tags) == dem.num_detectors + dem.num_observables
    tags = [tag for tag in tags if tag != "herald"]  # heralded models' heralds have no basis
    assert tags.count("basis=X") + tags.count("basis=Z") == len(tags)
    observable_tags = {inst.tag for inst in dem.flattened() if inst.type == "logical_observable"}
    assert observable_tags == {f"basis={basis}"}


@pytest.mark.parametrize("error,fires", [("X_ERROR", "basis=Z"), ("Z_ERROR", "basis=X")])
def test_a_detector_tag_is_the_type_of_its_check(error, fires):
    """X errors on the data fire only Z-check detectors, Z errors only X-check ones."""
    clean = codes.memory_circuit("bb", distance=6, rounds=3, basis="Z")
    text = str(clean.flattened())
    first_round = text.index("TICK\n", text.index("MR ")) + len("TICK\n")  # the start of the second round
    noisy = stim.Circuit(
        text[:first_round] + f"{error}(0.1) " + " ".join(map(str, range(72))) + "\n" + text[first_round:]
    )
    dem = noisy.detector_error_model()
    tags = [inst.tag for inst in dem.flattened() if inst.type == "detector"]
    fired = {
        t.val
        for inst in dem.flattened()
        if inst.type == "error"
        for t in inst.targets_copy()
        if t.is_relative_detector_id()
    }
    assert fired and {tags[d] for d in fired} == {fires}


def test_k12_counts_add_up_and_match_stim_and_the_decoder_on_the_same_seeds(tmp_path):
    """A [[72,12,6]] memory under SD6 noise, sampled by qec's engine into a store: a shot is an error when any of
    the 12 observables is wrong, the per-observable counts bound it, and both equal what Stim and the decoder
    give when run by hand on each chunk's seed."""
    from qec import decoders
    from qec.decoders.dem_arrays import decoding_dem
    from qec.engine import StopRule
    from qec.store import Store
    from qec.study import collect_into
    from qec.task import chunk_seed

    task = memory_task("bb", distance=6, rounds=2, basis="Z", noise="sd6", p=0.006, decoder="bposd")
    assert task.circuit.num_observables == 12
    store = tmp_path / "k12.db"
    collect_into([task], store=store, stop=StopRule(max_shots=1_000, max_errors=None), workers=1, chunk_shots=500)
    with Store(store, read_only=True) as results:
        rows = list(results.chunk_rows())
        (totals,) = results.totals().values()
    assert len(rows) == 2 and totals.counts.shots == 1_000
    compiled = decoders.get("bposd").compile_decoder_for_dem(dem=decoding_dem(task.circuit))
    per_observable_total = np.zeros(12, dtype=np.int64)
    for row in rows:
        errors, per_observable = row.counts.errors, np.array(row.observable_errors)
        assert errors <= per_observable.sum() and (per_observable <= errors).all()
        sampler = task.circuit.compile_detector_sampler(seed=chunk_seed(row.task_id, row.chunk_index))
        detections, flips = sampler.sample(row.counts.shots, separate_observables=True, bit_packed=True)
        predicted = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detections)
        wrong = np.unpackbits(predicted ^ flips, axis=1, count=12, bitorder="little").astype(bool)
        assert errors == int(wrong.any(axis=1).sum())
        assert per_observable.tolist() == wrong.sum(axis=0).tolist()
        per_observable_total += per_observable
    assert totals.counts.errors == sum(row.counts.errors for row in rows) > 0
    assert per_observable_total.sum() > totals.counts.errors  # some shots had several observables wrong


@pytest.mark.slow
def test_information_set_search_finds_a_weight_12_logical_of_the_gross_code():
    """The gross code's published distance 12: the seeded search finds a Z logical of that weight in seconds (none
    lighter exists, so it cannot find less)."""
    from qec.codes.distance import min_weight_logical

    gross = bb_code("gross")
    assert min_weight_logical(gross.hx, gross.logical_x, trials=300, seed=0).value == 12

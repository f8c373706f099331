"""decoders/heralds.py and the basis restriction on heralded DEMs: heralds found by tag, probabilities given the
herald, events split, heralds kept by basis-aware decoding."""

import numpy as np
import stim

from qec import codes, noise
from qec.decoders.basis import circuit_basis, restrict_to_basis
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.heralds import Heralds, heralded_columns, heralded_graph


def _erasure_dem(family="surface", distance=3, fraction=0.98):
    circuit = codes.memory_circuit(family, distance=distance, rounds=2)
    noisy = noise.noise_model("erasure", 0.01, erasure_fraction=fraction).apply(circuit)
    return noisy, decoding_dem(noisy)


def test_conditional_probabilities_of_an_erasure_sum_to_the_herald():
    """A herald's columns hold its non-trivial outcomes given the herald: on an erased qubit each of I, X, Y, Z
    has 1/4, so each herald's columns sum to at most 3/4 (classes that flip nothing are dropped; some erasures,
    e.g. of a qubit about to be reset, flip nothing at all)."""
    _, dem = _erasure_dem()
    columns = heralded_columns(dem)
    priors = columns.check_matrices.priors
    sums = [
        priors[columns.herald_columns[columns.herald_offsets[h] : columns.herald_offsets[h + 1]]].sum()
        for h in range(columns.heralds.num_heralds)
    ]
    assert max(sums) <= 0.75 + 1e-9 and np.count_nonzero(sums) > 0.8 * len(sums)
    heralded = columns.column_heralds >= 0
    assert (priors[heralded] >= 0.25 - 1e-9).all() and (priors[~heralded] < 0.05).all()  # 1/4 per Pauli class


def test_split_and_priors_for_follow_the_bits():
    noisy, dem = _erasure_dem()
    heralds = Heralds.of(dem)
    events = noisy.compile_detector_sampler(seed=3).sample(200, bit_packed=True)
    kept, fired = heralds.split(events)
    bits = np.unpackbits(events, axis=1, count=dem.num_detectors, bitorder="little")
    assert (
        np.unpackbits(kept, axis=1, count=len(heralds.kept_detectors), bitorder="little")
        == bits[:, heralds.kept_detectors]
    ).all()
    fired_bits = np.unpackbits(fired, axis=1, count=heralds.num_heralds, bitorder="little")
    assert (fired_bits == bits[:, heralds.herald_detectors]).all() and fired_bits.any()
    columns = heralded_columns(dem)
    priors = columns.priors_for(fired)
    heralded = columns.column_heralds >= 0
    live = fired_bits[:, columns.column_heralds[heralded]].astype(bool)
    assert (priors[:, heralded][~live] == 0).all() and (priors[:, heralded][live] > 0).all()
    assert (priors[:, ~heralded] == columns.check_matrices.priors[~heralded]).all()


def test_graph_keeps_parallel_edges_of_different_heralds_apart():
    _, dem = _erasure_dem()
    graph = heralded_graph(dem)
    keys = [(*ends, h) for ends, h in zip(graph.graph.edge_endpoints.tolist(), graph.edge_heralds.tolist())]
    assert len(keys) == len(set(keys))
    ends = [tuple(e) for e in graph.graph.edge_endpoints.tolist()]
    assert len(set(ends)) < len(ends)  # some edges run parallel to a heralded one


def test_basis_restriction_keeps_the_heralds():
    circuit = codes.memory_circuit("bb", distance=6, rounds=2)
    noisy = noise.noise_model("erasure", 0.01, erasure_fraction=0.5).apply(circuit)
    dem = decoding_dem(noisy)
    restriction = restrict_to_basis(dem)
    assert restriction is not None and restriction.basis == "Z"
    assert Heralds.of(restriction.dem).num_heralds == Heralds.of(dem).num_heralds
    assert restriction.dem.num_detectors == Heralds.of(dem).num_heralds + circuit_basis(circuit)[1]


def test_unheralded_dem_has_no_heralds():
    dem = stim.Circuit.generated(
        "surface_code:rotated_memory_z", distance=3, rounds=2, after_clifford_depolarization=0.01
    ).detector_error_model(decompose_errors=True)
    columns = heralded_columns(dem)
    assert columns.heralds.num_heralds == 0 and (columns.column_heralds == -1).all()


def test_decoders_that_ignore_heralds_decode_heralded_circuits():
    """Chromobius (heralds given its ignore colour -1) takes the heralded colour-code DEM blind and still decodes it
    well below the shots' raw flip rate; herald-aware bposd does better on the same shots."""
    from qec import decoders

    circuit = codes.memory_circuit("color-superdense", distance=5, rounds=3)
    noisy = noise.noise_model("erasure", 0.002, erasure_fraction=0.5).apply(circuit)
    dem = decoding_dem(noisy)
    events, flips = noisy.compile_detector_sampler(seed=2).sample(600, separate_observables=True, bit_packed=True)
    failures = {}
    for name in [n for n in ("chromobius", "bposd") if n in decoders.names()]:
        if name == "chromobius":
            decoders.get(name).check_circuit(noisy)  # the heralds have no colour: accepted all the same
        compiled = decoders.get(name).compile_decoder_for_dem(dem=dem)
        predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
        failures[name] = int((predictions != flips).any(axis=1).sum())
    raw = int(flips.any(axis=1).sum())
    assert all(count < raw / 3 for count in failures.values()), (failures, raw)
    assert failures["bposd"] <= min(failures.values())

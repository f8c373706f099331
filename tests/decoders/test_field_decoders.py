"""The field's decoders (qec.decoders.field): Tesseract, Chromobius, MWPF, Fusion Blossom and BP+LSD, by decoding."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import stim

from qec import decoders
from qec.decoders.dem_arrays import decoding_dem
from qec.decoders.field import clean_dem
from qec.errors import QecInputError

FIELD = {
    "tesseract": "tesseract_decoder",
    "chromobius": "chromobius",
    "mwpf": "mwpf",
    "fusion-blossom": "fusion_blossom",
    "bplsd": "ldpc",
}
SURFACE = ["tesseract", "mwpf", "fusion-blossom", "bplsd"]  # chromobius decodes colour codes only
# Options other than the defaults, for each decoder that has options.
OPTIONS = {
    "tesseract": {"det_beam": 15, "pqlimit": 200_000, "num_det_orders": 16, "det_order_method": "bfs"},
    "mwpf": {"solver": "SolverSerialUnionFind", "cluster_node_limit": 0},
    "bplsd": {"max_iter": 50, "lsd_order": 4, "lsd_method": "lsd_cs", "ms_scaling_factor": 0.5},
}


def installed(name: str) -> None:
    pytest.importorskip(FIELD[name], reason=f"decoder {name!r} needs the decoders extra")


def noisy_surface_code(*, distance: int, rounds: int, p: float) -> stim.Circuit:
    return stim.Circuit.generated(
        "surface_code:rotated_memory_x",
        distance=distance,
        rounds=rounds,
        after_clifford_depolarization=p,
        before_round_data_depolarization=p,
        before_measure_flip_probability=p,
        after_reset_flip_probability=p,
    )


def colour_code_circuit(*, distance: int, rounds: int, p: float) -> stim.Circuit:
    """A Z memory of the triangular 6.6.6 colour code measured with MPP, data depolarized before each round, every
    measurement flipped with probability p; each detector's 4th coordinate is its Chromobius colour (0-2 X, 3-5 Z).

    The plaquettes are those of Stim's `color_code:memory_xyz` (the data qubits each ancilla's CXs touch), coloured
    by backtracking so that plaquettes sharing a qubit differ; the observable is Z on every data qubit.
    """
    generated = stim.Circuit.generated("color_code:memory_xyz", distance=distance, rounds=2)
    coordinates = generated.get_final_qubit_coordinates()
    supports: dict[int, set[int]] = {}
    for instruction in generated.flattened():
        if instruction.name == "CX":
            targets = [target.value for target in instruction.targets_copy()]
            for control, ancilla in zip(targets[::2], targets[1::2]):
                supports.setdefault(ancilla, set()).add(control)
    ancillas = sorted(supports)
    plaquettes = [sorted(supports[ancilla]) for ancilla in ancillas]
    colours = three_colouring(plaquettes)
    data = sorted(set(coordinates) - set(ancillas))
    circuit = stim.Circuit()
    for qubit in data:
        circuit.append("QUBIT_COORDS", [qubit], coordinates[qubit])
    circuit.append("R", data)
    measured = 0  # measurements so far
    previous: dict[tuple[str, int], int] = {}  # (basis, plaquette) -> index of its last measurement
    for round_index in range(rounds):
        circuit.append("DEPOLARIZE1", data, p)
        for basis in "XZ":
            pauli = stim.target_x if basis == "X" else stim.target_z
            products = []  # the plaquettes' Pauli products, P*P*P... each
            for plaquette in plaquettes:
                products += [pauli(plaquette[0])]
                for qubit in plaquette[1:]:
                    products += [stim.target_combiner(), pauli(qubit)]
            circuit.append("MPP", products, p)
            measured += len(plaquettes)
            for index, ancilla in enumerate(ancillas):
                now = measured - len(plaquettes) + index
                earlier = previous.get((basis, index))
                if basis == "Z" or earlier is not None:  # X plaquettes are random in the first round
                    records = [now] + ([] if earlier is None else [earlier])
                    colour = colours[index] + (3 if basis == "Z" else 0)
                    circuit.append(
                        "DETECTOR",
                        [stim.target_rec(r - measured) for r in records],
                        [*coordinates[ancilla], round_index, colour],
                    )
                previous[(basis, index)] = now
    circuit.append("M", data, p)
    position = {qubit: measured + k for k, qubit in enumerate(data)}
    measured += len(data)
    for index, ancilla in enumerate(ancillas):
        records = [position[qubit] for qubit in plaquettes[index]] + [previous[("Z", index)]]
        circuit.append(
            "DETECTOR",
            [stim.target_rec(r - measured) for r in records],
            [*coordinates[ancilla], rounds, colours[index] + 3],
        )
    circuit.append("OBSERVABLE_INCLUDE", [stim.target_rec(position[qubit] - measured) for qubit in data], 0)
    return circuit


def three_colouring(plaquettes: list[list[int]]) -> list[int]:
    """Colours 0, 1, 2, one per plaquette, differing wherever two plaquettes share a qubit."""
    neighbours = [
        [j for j, other in enumerate(plaquettes) if j != i and set(p) & set(other)] for i, p in enumerate(plaquettes)
    ]
    colours = [-1] * len(plaquettes)

    def place(i: int) -> bool:
        if i == len(plaquettes):
            return True
        for colour in range(3):
            if all(colours[j] != colour for j in neighbours[i]):
                colours[i] = colour
                if place(i + 1):
                    return True
        colours[i] = -1
        return False

    assert place(0), "the plaquettes are not 3-colourable"
    return colours


def failures(name: str, circuit: stim.Circuit, *, shots: int, seed: int = 11) -> tuple[int, int]:
    """(this decoder's failures, undecoded failures) on `shots` shots of `circuit` sampled with `seed`."""
    events, flips = circuit.compile_detector_sampler(seed=seed).sample(
        shots, separate_observables=True, bit_packed=True
    )
    compiled = decoders.get(name).compile_decoder_for_dem(dem=decoding_dem(circuit))
    predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    assert predictions.dtype == np.uint8 and predictions.shape == flips.shape
    return int((predictions != flips).any(axis=1).sum()), int(flips.any(axis=1).sum())


def test_the_colour_code_circuit_has_its_distance():
    for distance in (3, 5):
        circuit = colour_code_circuit(distance=distance, rounds=2, p=0.001)
        circuit.detector_error_model()  # every detector and the observable are deterministic without noise
        shortest = circuit.search_for_undetectable_logical_errors(
            dont_explore_edges_with_degree_above=9999,
            dont_explore_detection_event_sets_with_size_above=6,
            dont_explore_edges_increasing_symptom_degree=False,
            canonicalize_circuit_errors=True,
        )
        assert len(shortest) == distance


@pytest.mark.parametrize("name", list(FIELD))
def test_listed_when_installed(name):
    installed(name)
    assert name in decoders.names()
    assert decoders.entry(name).requires == (FIELD[name],)
    assert decoders.entry(name).description


@pytest.mark.parametrize("name", SURFACE)
def test_surface_code_is_decoded_about_as_well_as_by_pymatching(name):
    installed(name)
    # d = 3, 3 rounds, p = 0.5% everywhere: about 10% of 1000 shots fail undecoded, 1.6% with PyMatching. Every
    # decoder sees the same shots; these (MWPM, MLE search, hypergraph MWPF, BP+LSD) disagree with PyMatching on a few
    # shots, not on 8 + 50% more (a decoder that ignored the syndrome would fail on about 100).
    circuit = noisy_surface_code(distance=3, rounds=3, p=0.005)
    reference, undecoded = failures("pymatching", circuit, shots=1000)
    errors, _ = failures(name, circuit, shots=1000)
    assert undecoded > 60
    assert errors <= 1.5 * reference + 8
    assert errors < undecoded / 4


def test_fusion_blossom_matches_like_pymatching():
    installed("fusion-blossom")
    # Both are exact MWPM on the same graph (Fusion Blossom with weights rounded to even integers up to 2048).
    circuit = noisy_surface_code(distance=5, rounds=2, p=0.004)
    assert abs(failures("fusion-blossom", circuit, shots=2000)[0] - failures("pymatching", circuit, shots=2000)[0]) <= 3


def test_chromobius_decodes_the_colour_code():
    installed("chromobius")
    # d = 3, 3 rounds, p = 0.5%: about 10% of shots fail undecoded; Chromobius leaves about 0.2% (6 in 3000 measured),
    # under bposd's ~1% on this code; a decoder that ignored the syndrome would fail about 300 times.
    circuit = colour_code_circuit(distance=3, rounds=3, p=0.005)
    errors, undecoded = failures("chromobius", circuit, shots=3000)
    assert undecoded > 200
    assert errors < undecoded / 10
    assert errors <= failures("bposd", circuit, shots=3000)[0]


def test_chromobius_refuses_a_dem_without_colours_naming_the_fix():
    installed("chromobius")
    circuit = noisy_surface_code(distance=3, rounds=2, p=0.001)
    message = (
        r"decoder 'chromobius' needs each detector's 4th coordinate .* detector D0 has coordinates \(2\.0, 0\.0, 0\.0\)"
    )
    with pytest.raises(QecInputError, match=message):
        decoders.get("chromobius").compile_decoder_for_dem(dem=decoding_dem(circuit))
    with pytest.raises(QecInputError, match="build the circuit with the 'color-superdense' family"):
        decoders.get("chromobius").check_circuit(circuit)  # the engine asks this before sampling
    decoders.get("chromobius").check_circuit(colour_code_circuit(distance=3, rounds=2, p=0.001))


@pytest.mark.parametrize("probability", [0.1, 0.5, 0.6, 1.0])
def test_chromobius_on_degenerate_dems_with_colours(probability):
    installed("chromobius")
    # test_degenerate_dems.py's cases, each detector given a colour (chromobius refuses DEMs without).
    dem = stim.DetectorErrorModel(f"detector(0, 0, 0, 0) D0\nerror({probability}) D0 L0")
    events = np.array([[1], [1]] if probability == 1 else [[0], [1], [1], [0]], dtype=np.uint8)
    compiled = decoders.get("chromobius").compile_decoder_for_dem(dem=dem)
    assert compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events).tolist() == events.tolist()
    likely = stim.DetectorErrorModel("detector(0, 0, 0, 3) D0\nerror(0.7) L0\nerror(0.1) D0 L1")
    compiled = decoders.get("chromobius").compile_decoder_for_dem(dem=likely)
    assert compiled.decode_shots_bit_packed(
        bit_packed_detection_event_data=np.array([[0], [1]], np.uint8)
    ).tolist() == [
        [0b01],
        [0b11],
    ]
    wide = stim.DetectorErrorModel("detector(0, 0, 0, 1) D9\ndetector(1, 0, 0, 1) D0\nerror(0.1) D9 L12\nerror(0.1) D0")
    events = np.array([[0, 0b10], [1, 0], [0, 0]], dtype=np.uint8)
    compiled = decoders.get("chromobius").compile_decoder_for_dem(dem=wide)
    assert compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events).tolist() == [
        [0, 0b10000],
        [0, 0],
        [0, 0],
    ]


@pytest.mark.parametrize("name", list(OPTIONS))
def test_options_are_recorded_and_rebuilt(name):
    installed(name)
    spec = decoders.DecoderSpec(name, OPTIONS[name])
    metadata = spec.metadata()
    assert metadata == {"decoder_options": dict(sorted(OPTIONS[name].items()))}
    rebuilt = decoders.DecoderSpec.from_metadata(name, json.loads(json.dumps(metadata)))
    assert rebuilt == spec and rebuilt.describe() == spec.describe()
    decoder = pickle.loads(pickle.dumps(rebuilt.build()))  # sent to workers by value
    for key, value in OPTIONS[name].items():
        assert getattr(decoder, key) == value
    assert set(OPTIONS[name]) <= set(decoders.entry(name).options())


def test_options_change_the_decoder():
    installed("tesseract")
    installed("bplsd")
    # A beam of 0 without climbing, or a single BP iteration with LSD-0, decodes d = 5 worse than the defaults.
    circuit = noisy_surface_code(distance=5, rounds=2, p=0.006)
    events, flips = circuit.compile_detector_sampler(seed=3).sample(400, separate_observables=True, bit_packed=True)
    dem = decoding_dem(circuit)

    def errors(spec: decoders.DecoderSpec) -> int:
        compiled = spec.build().compile_decoder_for_dem(dem=dem)
        return int((compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events) != flips).sum())

    short = decoders.DecoderSpec("tesseract", {"det_beam": 0, "beam_climbing": False, "num_det_orders": 1})
    assert errors(short) > errors(decoders.DecoderSpec("tesseract"))
    assert errors(decoders.DecoderSpec("mwpf", {"solver": "SolverSerialUnionFind", "cluster_node_limit": 0})) >= errors(
        decoders.DecoderSpec("mwpf")
    )


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("tesseract", {"beam": 3}, "decoder 'tesseract' has no option 'beam': its options are det_beam, beam_climbing"),
        ("tesseract", {"det_order_method": "random"}, "det_order_method must be one of index, bfs, coordinate"),
        ("tesseract", {"det_beam": -1}, "det_beam must be a whole number >= 0, got -1"),
        ("mwpf", {"solver": "Blossom"}, "solver must be one of SolverSerialJointSingleHair"),
        ("mwpf", {"cluster_node_limit": 2.5}, "option 'cluster_node_limit' must be an integer"),
        ("bplsd", {"lsd_method": "osd_cs"}, "lsd_method must be one of lsd_0, lsd_e, lsd_cs"),
        ("bplsd", {"ms_scaling_factor": 1.5}, r"ms_scaling_factor must be a number in \[0.0, 1.0\]"),
        ("fusion-blossom", {"weights": 1}, "decoder 'fusion-blossom' has no option 'weights': its options are none"),
        ("chromobius", {"colours": 3}, "decoder 'chromobius' has no option 'colours'"),
    ],
)
def test_unknown_options_and_values_are_refused(name, options, message):
    installed(name)
    with pytest.raises(QecInputError, match=message):
        decoders.DecoderSpec(name, options)


@pytest.mark.parametrize("name", SURFACE)
def test_a_syndrome_no_error_produces_gets_a_prediction(name):
    installed(name)
    # D1 has no error, and D2 D3 only fire together: D1 alone or D2 alone cannot happen (ldpc's LSD would crash or
    # hang on them, Fusion Blossom panic). bplsd and fusion-blossom predict no flip there; all decode the rest.
    dem = stim.DetectorErrorModel("error(0.1) D0 L0\ndetector D1\nerror(0.1) D2 D3 L1")
    events = np.array([[0b0010], [0b0100], [0b0001], [0b1100], [0b1101]], dtype=np.uint8)
    predictions = (
        decoders.get(name)
        .compile_decoder_for_dem(dem=dem)
        .decode_shots_bit_packed(bit_packed_detection_event_data=events)
    )
    assert predictions[2:].tolist() == [[0b01], [0b10], [0b11]]
    if name in ("bplsd", "fusion-blossom"):
        assert predictions[:2].tolist() == [[0], [0]]


def test_fusion_blossom_refuses_hyperedges_naming_bposd():
    installed("fusion-blossom")
    dem = stim.DetectorErrorModel("error(0.1) D0 D1 D2 L0")
    with pytest.raises(QecInputError, match="not graphlike.*'bposd'"):
        decoders.get("fusion-blossom").compile_decoder_for_dem(dem=dem)


def test_a_decoder_whose_package_is_missing_is_refused_with_the_install_command(monkeypatch):
    monkeypatch.setattr(decoders, "_REGISTRY", dict(decoders._REGISTRY))
    decoders.register(
        "absent",
        "qec.decoders.field:TesseractDecoder",
        description="a decoder whose package is not installed",
        requires=("qec_no_such_decoder_module",),
        package="absent-decoder",
    )
    assert "absent" not in decoders.names()
    assert "absent" not in decoders.sinter_decoders()
    message = "decoder 'absent' needs the absent-decoder package: pip install \"qec-toolkit\\[decoders\\]\""
    with pytest.raises(QecInputError, match=message):
        decoders.get("absent")
    with pytest.raises(QecInputError, match=message):
        decoders.DecoderSpec("absent")
    with pytest.raises(QecInputError, match=message):
        decoders.DecoderSpec.from_metadata("absent", {"decoder_options": {"det_beam": 3}})
    with pytest.raises(QecInputError, match="unknown decoder 'absent2'"):
        decoders.entry("absent2")


def test_the_cli_refuses_a_decoder_whose_package_is_missing_with_the_install_command(tmp_path):
    plugin = tmp_path / "absent_decoder.py"
    plugin.write_text(
        "from qec import decoders\n"
        "decoders.register('absent', 'qec.decoders.field:TesseractDecoder', requires=('qec_no_such_decoder_module',),"
        " package='absent-decoder')\n"
    )
    qec = str(Path(sys.executable).parent / "qec")
    command = [qec, "collect", "surface", "--plugin", str(plugin), "--distance", "3", "--p", "0.001", "--decoder"]
    result = subprocess.run([*command, "absent", "--store", str(tmp_path / "s.db")], capture_output=True, text=True)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("decoder 'absent' needs the absent-decoder package: pip install \"qec-toolkit[decoders]\"")
    )
    assert not (tmp_path / "s.db").exists()


def test_the_registry_does_not_import_the_peer_packages(tmp_path):
    code = (
        "import sys; from qec import decoders; decoders.names(); "
        f"print(sorted(m for m in {tuple(FIELD.values())!r} if m in sys.modules))"
    )
    # run outside the checkout: `python -c` puts the working folder first on sys.path, whose qec/ is not the package
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert run.stdout.strip() == "[]"


def test_clean_dem_keeps_counts_and_colours():
    dem = stim.DetectorErrorModel("detector(0, 1, 2, 3) D0\nerror(0.2) D0 ^ D1 L0\ndetector D7\nlogical_observable L4")
    clean = clean_dem(dem)
    assert (clean.dem.num_detectors, clean.dem.num_observables) == (8, 5)
    assert clean.dem.get_detector_coordinates()[0] == [0, 1, 2, 3]
    assert clean.dem[0] == stim.DetectorErrorModel("error(0.2) D0 D1 L0")[0]


def test_qec_codes_lists_the_field_decoders_with_their_options():
    present = [name for name, module in FIELD.items() if _found(module)]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "qec"), "codes", "--json"], capture_output=True, text=True, check=True
    )
    listed = {decoder["name"]: decoder for decoder in json.loads(result.stdout)["decoders"]}
    assert set(present) <= set(listed)
    if "tesseract" in listed:
        assert listed["tesseract"]["options"]["det_beam"] == 20
        assert listed["tesseract"]["options"]["det_order_method"] == "index"
    if "bplsd" in listed:
        assert listed["bplsd"]["options"]["max_iter"] == 30


def _found(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None

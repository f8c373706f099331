"""The field's decoders as `sinter.Decoder`s with explicit keyword options: Tesseract, Chromobius, MWPF,
Fusion Blossom and BP+LSD (the `decoders` extra: `pip install "qec-toolkit[decoders]"`).

Each class only checks its options (QecInputError naming the option) and hands a cleaned DEM to the peer
package, imported when a decoder is compiled, so this module imports none of them. The DEM is cleaned the way
qec's own decoders take it (`qec.decoders` docstring): errors of probability > 1/2 are split off
(`split_likely_errors`); the hypergraph decoders (tesseract, chromobius, mwpf, bplsd) get one error per distinct
symptom (`^`-separated parts joined, equal symptoms merged), without errors of probability 0 or that flip no
detector, with the detectors' coordinates kept; a DEM in which no error flips both a detector and an observable
is decoded without the peer (its prediction does not depend on the detection events). `fusion-blossom` matches
the DEM's graphlike parts, like PyMatching, and refuses hyperedges.

>>> import stim
>>> from qec.decoders.field import BpLsdDecoder
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=5, rounds=3,
...                                  before_round_data_depolarization=0.05)
>>> compiled = BpLsdDecoder(lsd_order=2).compile_decoder_for_dem(dem=circuit.detector_error_model())
>>> shots, flips = circuit.compile_detector_sampler(seed=1).sample(1000, separate_observables=True, bit_packed=True)
>>> predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=shots)
>>> int(flips.sum()), int((predictions != flips).sum())  # logical flips undecoded, then decoded
(83, 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sinter
import stim

from qec.decoders.dem_arrays import (
    GraphlikeDecoder,
    LikelyErrors,
    check_matrices,
    log_likelihood_weights,
    matching_graph,
    split_likely_errors,
)
from qec.decoders.heralds import has_heralds
from qec.errors import QecInputError
from qec.noise import HERALD_TAG

# Chromobius's 4th detector coordinate: 0, 1, 2 = red, green, blue X; 3, 4, 5 = the same for Z; -1 = ignored.
CHROMOBIUS_COLOURS = (-1, 0, 1, 2, 3, 4, 5)
COLOUR_FAMILY_HINT = (
    "build the circuit with the 'color-superdense' family (qec circuit color-superdense ...), or annotate each "
    "DETECTOR(x, y, t, c) with c = 0-2 for red/green/blue X and 3-5 for Z (-1: ignore), or use 'tesseract' or 'bposd', "
    "which need no colours"
)
TESSERACT_ORDERS = ("index", "bfs", "coordinate")
MWPF_SOLVERS = ("SolverSerialJointSingleHair", "SolverSerialSingleHair", "SolverSerialUnionFind", "Solver")
BP_METHODS = ("minimum_sum", "product_sum")
LSD_METHODS = ("lsd_0", "lsd_e", "lsd_cs")


def _whole(name: str, value: Any, *, at_least: int) -> int:
    """`value` if it is an integer >= `at_least`, else QecInputError naming option `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < at_least:
        raise QecInputError(f"{name} must be a whole number >= {at_least}, got {value!r}")
    return value


def _number(name: str, value: Any, *, low: float, high: float = math.inf) -> float:
    """`value` as a float if it is a finite number in [low, high], else QecInputError naming option `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise QecInputError(f"{name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """`value` if it is one of `choices`, else QecInputError naming option `name` and listing them."""
    if value not in choices:
        raise QecInputError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _switch(name: str, value: Any) -> bool:
    """`value` if it is true or false, else QecInputError naming option `name`."""
    if not isinstance(value, bool):
        raise QecInputError(f"{name} must be true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class CleanDem:
    """A DEM as the hypergraph peers take it.

    Attributes:
        likely: the split of the input DEM's errors of probability > 1/2 (`split_likely_errors`); decoders decode
            `likely.dem`'s detection events and add `likely.observables`.
        dem: `likely.dem` with one error per distinct (detectors, observables) symptom, of probability in (0, 1/2],
            flipping at least one detector; the input's detector coordinates and its detector and observable
            counts kept.
        informative: whether some error of `dem` flips both a detector and an observable; when none does, the
            best prediction is no flip whatever the detection events.
    """

    likely: LikelyErrors
    dem: stim.DetectorErrorModel
    informative: bool


def clean_dem(dem: stim.DetectorErrorModel) -> CleanDem:
    """The DEM the hypergraph peers decode (see `CleanDem`).

    >>> clean = clean_dem(stim.DetectorErrorModel('''
    ...     error(0.125) D0 D1 ^ D2 L0
    ...     error(0.75) D2
    ...     error(0) D1 L0
    ...     error(0.2) L0
    ...     detector(1, 2) D2
    ... '''))
    >>> print(clean.dem)
    error(0.125) D0 D1 D2 L0
    error(0.25) D2
    detector(1, 2) D2
    logical_observable L0
    >>> clean.informative, clean.likely.detection_events.tolist()
    (True, [4])
    """
    likely = split_likely_errors(dem)
    matrices = check_matrices(likely.dem)
    checks = matrices.check_matrix.tocsc()
    observables = matrices.observables_matrix.tocsc()
    lines = []
    informative = False
    for column, probability in enumerate(matrices.priors):
        detectors = checks.indices[checks.indptr[column] : checks.indptr[column + 1]]
        if probability <= 0 or len(detectors) == 0:
            continue
        flipped = observables.indices[observables.indptr[column] : observables.indptr[column + 1]]
        informative = informative or len(flipped) > 0
        targets = [f"D{d}" for d in sorted(detectors)] + [f"L{o}" for o in sorted(flipped)]
        lines.append(f"error({float(probability)!r}) {' '.join(targets)}")
    coordinates = dem.get_detector_coordinates()
    for detector, coordinate in sorted(coordinates.items()):
        if coordinate:
            lines.append(f"detector({', '.join(repr(float(c)) for c in coordinate)}) D{detector}")
    if dem.num_detectors and not coordinates.get(dem.num_detectors - 1):
        lines.append(f"detector D{dem.num_detectors - 1}")
    if dem.num_observables:
        lines.append(f"logical_observable L{dem.num_observables - 1}")
    return CleanDem(likely=likely, dem=stim.DetectorErrorModel("\n".join(lines)), informative=informative)


class CleanCompiledDecoder(sinter.CompiledDecoder):
    """Decodes the input DEM's shots with `decode_clean`, a decoder of the cleaned DEM (none when the cleaned DEM
    is not informative): removes the certain flips' detection events, decodes, adds their observables."""

    def __init__(
        self,
        clean: CleanDem,
        *,
        num_observables: int,
        decode_clean: Callable[[np.ndarray], np.ndarray] | None,
    ):
        self.likely = clean.likely
        self.num_observable_bytes = (num_observables + 7) // 8
        self.decode_clean = decode_clean

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely.decode_with(self._decode, bit_packed_detection_event_data)

    def _decode(self, detection_events: np.ndarray) -> np.ndarray:
        if self.decode_clean is None:
            return np.zeros((len(detection_events), self.num_observable_bytes), dtype=np.uint8)
        return np.asarray(self.decode_clean(detection_events), dtype=np.uint8).reshape(
            len(detection_events), self.num_observable_bytes
        )


class _HypergraphPeer(sinter.Decoder):
    """A peer decoder of the cleaned DEM: subclasses give `_compile_clean`, a function decoding its shots."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        clean = clean_dem(dem)
        decode = self._compile_clean(clean.dem) if clean.informative else None
        return CleanCompiledDecoder(clean, num_observables=dem.num_observables, decode_clean=decode)

    def _compile_clean(self, dem: stim.DetectorErrorModel) -> Callable[[np.ndarray], np.ndarray]:
        raise NotImplementedError


class TesseractDecoder(_HypergraphPeer):
    """Tesseract (Beni, Higgott and Shutty, arXiv:2503.10988: A* search for the most likely error, with a beam;
    the tesseract-decoder package), any DEM, hyperedges too.

    The defaults are the sinter entry `tesseract` of `tesseract_decoder.make_tesseract_sinter_decoders_dict()`,
    its "long beam"; its "short beam" is `det_beam=15, pqlimit=200_000, num_det_orders=16`.

    Args:
        det_beam: how many more detection events than the fewest seen a search node may have.
        beam_climbing: retry with beams 0..det_beam and keep the lightest solution.
        no_revisit_dets: never revisit a set of detection events already expanded.
        pqlimit: the most nodes the priority queue holds.
        num_det_orders: how many detector orders the search is run with (ensembled).
        det_order_method: how those orders are made: "index" (ascending or descending index), "bfs"
            (breadth-first over the detector graph) or "coordinate" (random directions in detector coordinates).
        det_penalty: a cost added per residual detection event.
        seed: the seed of the detector orders.
    """

    def __init__(
        self,
        *,
        det_beam: int = 20,
        beam_climbing: bool = True,
        no_revisit_dets: bool = True,
        pqlimit: int = 1_000_000,
        num_det_orders: int = 21,
        det_order_method: str = "index",
        det_penalty: float = 0.0,
        seed: int = 2384753,
    ):
        self.det_beam = _whole("det_beam", det_beam, at_least=0)
        self.beam_climbing = _switch("beam_climbing", beam_climbing)
        self.no_revisit_dets = _switch("no_revisit_dets", no_revisit_dets)
        self.pqlimit = _whole("pqlimit", pqlimit, at_least=1)
        self.num_det_orders = _whole("num_det_orders", num_det_orders, at_least=0)
        self.det_order_method = _choice("det_order_method", det_order_method, TESSERACT_ORDERS)
        self.det_penalty = _number("det_penalty", det_penalty, low=0.0)
        self.seed = _whole("seed", seed, at_least=0)

    def _compile_clean(self, dem: stim.DetectorErrorModel) -> Callable[[np.ndarray], np.ndarray]:
        import tesseract_decoder

        orders = tesseract_decoder.utils.DetOrder
        method = {"index": orders.DetIndex, "bfs": orders.DetBFS, "coordinate": orders.DetCoordinate}
        decoder = tesseract_decoder.TesseractSinterDecoder(
            det_beam=self.det_beam,
            beam_climbing=self.beam_climbing,
            no_revisit_dets=self.no_revisit_dets,
            pqlimit=self.pqlimit,
            num_det_orders=self.num_det_orders,
            det_order_method=method[self.det_order_method],
            det_penalty=self.det_penalty,
            seed=self.seed,
        )
        compiled = decoder.compile_decoder_for_dem(dem=dem)
        return lambda events: compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)


class ChromobiusDecoder(_HypergraphPeer):
    """Chromobius (Gidney and Jones, arXiv:2312.08813: colour codes by Möbius matching), for colour-code DEMs whose
    detectors carry Chromobius's colour and basis as their 4th coordinate (`CHROMOBIUS_COLOURS`); refuses others,
    naming the colour-code family to build them with. Heralds (`qec.decoders.heralds`) are given Chromobius's
    4th coordinate -1, which it ignores: it decodes heralded noise blind. No options."""

    def check_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses a circuit whose detectors lack Chromobius's colour coordinate, before any shot is sampled."""
        heralds = {
            index
            for index, instruction in enumerate(i for i in circuit.flattened() if i.name == "DETECTOR")
            if instruction.tag == HERALD_TAG
        }
        used = set(range(circuit.num_detectors)) - heralds
        _require_colours(circuit.get_detector_coordinates(), circuit.num_detectors, used=used)

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return super().compile_decoder_for_dem(dem=_heralds_ignored(dem))

    def _compile_clean(self, dem: stim.DetectorErrorModel) -> Callable[[np.ndarray], np.ndarray]:
        import chromobius

        ignored = {d for d, coordinate in dem.get_detector_coordinates().items() if coordinate[3:4] == [-1]}
        _require_colours(dem.get_detector_coordinates(), dem.num_detectors, used=_used_detectors(dem) - ignored)
        try:
            compiled = chromobius.compile_decoder_for_dem(dem)
        except (ValueError, RuntimeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise QecInputError(
                f"chromobius cannot decode this detector error model ({first}); {COLOUR_FAMILY_HINT}"
            ) from None
        return compiled.predict_obs_flips_from_dets_bit_packed


def _heralds_ignored(dem: stim.DetectorErrorModel) -> stim.DetectorErrorModel:
    """`dem` with each herald detector declared at coordinates (0, 0, 0, -1), which Chromobius ignores."""
    if not has_heralds(dem):
        return dem
    out = stim.DetectorErrorModel()
    for instruction in dem.flattened():
        if instruction.type == "detector" and instruction.tag == HERALD_TAG:
            out.append(stim.DemInstruction("detector", [0, 0, 0, -1], instruction.targets_copy(), tag=HERALD_TAG))
        else:
            out.append(instruction)
    return out


def _used_detectors(dem: stim.DetectorErrorModel) -> set[int]:
    """The detectors that some error of a flattened `dem` flips."""
    return {
        target.val
        for instruction in dem.flattened()
        if instruction.type == "error"
        for target in instruction.targets_copy()
        if target.is_relative_detector_id()
    }


def _require_colours(coordinates: dict[int, list[float]], num_detectors: int, *, used: set[int] | None = None) -> None:
    """QecInputError naming the first detector (of `used`, else all) without a Chromobius colour coordinate."""
    for detector in sorted(used) if used is not None else range(num_detectors):
        coordinate = coordinates.get(detector, [])
        if len(coordinate) < 4 or coordinate[3] not in CHROMOBIUS_COLOURS:
            shown = f"coordinates {tuple(coordinate)}" if coordinate else "no coordinates"
            raise QecInputError(
                f"decoder 'chromobius' needs each detector's 4th coordinate to give its colour and basis, and detector "
                f"D{detector} has {shown}: {COLOUR_FAMILY_HINT}"
            )


class MwpfDecoder(_HypergraphPeer):
    """MWPF (Wu, Li, Chang, Puri and Zhong, arXiv:2508.04969: minimum-weight parity factor, HyperBlossom), any DEM,
    hyperedges too. Log-likelihood weights as floats; the hyperedges on one set of detectors are merged (the most
    likely one's observables), as sinter's own mwpf decoder does. A syndrome no set of the DEM's errors produces is
    predicted 'no flip' (mwpf would panic).

    Args:
        solver: the MWPF solver class: "SolverSerialJointSingleHair" (mwpf's sinter default), "SolverSerialSingleHair",
            "SolverSerialUnionFind" (hypergraph union-find, fastest) or "Solver" (mwpf's most accurate).
        cluster_node_limit: the most nodes a cluster is optimised over (mwpf's default 50; larger is slower and
            closer to the minimum weight).
    """

    def __init__(self, *, solver: str = "SolverSerialJointSingleHair", cluster_node_limit: int = 50):
        self.solver = _choice("solver", solver, MWPF_SOLVERS)
        self.cluster_node_limit = _whole("cluster_node_limit", cluster_node_limit, at_least=0)

    def _compile_clean(self, dem: stim.DetectorErrorModel) -> Callable[[np.ndarray], np.ndarray]:
        import mwpf

        hyperedges = _hyperedges(dem)
        weights = log_likelihood_weights(hyperedges.probabilities)
        edges = [mwpf.HyperEdge(list(detectors), float(w)) for detectors, w in zip(hyperedges.detectors, weights)]
        # A detector no error flips gets an edge of its own (mwpf needs every vertex on an edge); it never fires.
        touched = {detector for detectors in hyperedges.detectors for detector in detectors}
        isolated = [detector for detector in range(dem.num_detectors) if detector not in touched]
        edges += [mwpf.HyperEdge([detector], 0.0) for detector in isolated]
        edge_observables = np.concatenate(
            [hyperedges.observables, np.zeros((len(isolated), hyperedges.observables.shape[1]), dtype=np.uint8)]
        )
        solver = getattr(mwpf, self.solver)(
            mwpf.SolverInitializer(dem.num_detectors, edges), config={"cluster_node_limit": self.cluster_node_limit}
        )
        num_detectors = dem.num_detectors
        # mwpf panics on a syndrome no set of errors produces (a cluster it cannot solve).
        dependencies = _dependencies(hyperedges.detectors, num_detectors)

        def decode(events: np.ndarray) -> np.ndarray:
            predictions = np.zeros((len(events), edge_observables.shape[1]), dtype=np.uint8)
            syndromes = np.unpackbits(events, axis=1, count=num_detectors, bitorder="little")
            for shot in np.flatnonzero(producible(syndromes, dependencies)):
                defects = np.flatnonzero(syndromes[shot]).tolist()
                if not defects:
                    continue
                solver.solve(mwpf.SyndromePattern(defect_vertices=defects))
                chosen = solver.subgraph()
                if chosen:
                    predictions[shot] = np.bitwise_xor.reduce(edge_observables[chosen], axis=0)
                solver.clear()
            return predictions

        return decode


@dataclass(frozen=True)
class Hyperedges:
    """A cleaned DEM's errors with one per set of detectors (mwpf takes no two hyperedges on one set).

    Attributes:
        detectors: each hyperedge's detectors, sorted.
        probabilities: float64 (num_hyperedges,), the probability that an odd number of its errors happen.
        observables: uint8 (num_hyperedges, ceil(num_observables / 8)), the observables of its most likely error,
            bit-packed little-endian.
    """

    detectors: list[tuple[int, ...]]
    probabilities: np.ndarray
    observables: np.ndarray


def _hyperedges(dem: stim.DetectorErrorModel) -> Hyperedges:
    """The errors of a cleaned DEM (`clean_dem`), those on one set of detectors merged (see `Hyperedges`)."""
    matrices = check_matrices(dem)
    checks = matrices.check_matrix.tocsc()
    merged: dict[tuple[int, ...], list] = {}
    for column, probability in enumerate(matrices.priors):
        key = tuple(sorted(checks.indices[checks.indptr[column] : checks.indptr[column + 1]].tolist()))
        if key not in merged:
            merged[key] = [probability, probability, column]
            continue
        total, best, _ = merged[key]
        merged[key][0] = total * (1 - probability) + probability * (1 - total)
        if probability > best:
            merged[key][1:] = [probability, column]
    return Hyperedges(
        detectors=list(merged),
        probabilities=np.array([value[0] for value in merged.values()], dtype=np.float64),
        observables=matrices.packed_observables[[value[2] for value in merged.values()]].reshape(
            len(merged), matrices.packed_observables.shape[1]
        ),
    )


class BpLsdDecoder(_HypergraphPeer):
    """BP+LSD (Hillmann et al., arXiv:2406.18655; the ldpc package): belief propagation, then localised statistics
    decoding of the clusters where BP does not converge; any DEM, hyperedges too.

    The defaults are those of ldpc's `SinterLsdDecoder` (LSD-0 after min-sum BP scaled by 0.625) but for `max_iter`:
    ldpc's 0 runs as many iterations as the DEM has errors, 40x slower than 30 on a d = 5 surface code for the same
    logical error rate.

    A syndrome no set of the DEM's errors produces is predicted 'no flip' (ldpc's LSD may hang or crash on one).

    Args:
        max_iter: BP iterations (0: as many as the DEM has distinct errors, ldpc's convention).
        bp_method: "minimum_sum" or "product_sum".
        ms_scaling_factor: the min-sum scaling factor (0: ldpc's adaptive one).
        schedule: "parallel" or "serial" BP.
        lsd_order: the order of the statistics search in each cluster.
        lsd_method: "lsd_0", "lsd_e" (exhaustive) or "lsd_cs" (combination sweep).
    """

    def __init__(
        self,
        *,
        max_iter: int = 30,
        bp_method: str = "minimum_sum",
        ms_scaling_factor: float = 0.625,
        schedule: str = "parallel",
        lsd_order: int = 0,
        lsd_method: str = "lsd_0",
    ):
        self.max_iter = _whole("max_iter", max_iter, at_least=0)
        self.bp_method = _choice("bp_method", bp_method, BP_METHODS)
        self.ms_scaling_factor = _number("ms_scaling_factor", ms_scaling_factor, low=0.0, high=1.0)
        self.schedule = _choice("schedule", schedule, ("parallel", "serial"))
        self.lsd_order = _whole("lsd_order", lsd_order, at_least=0)
        self.lsd_method = _choice("lsd_method", lsd_method, LSD_METHODS)

    def _compile_clean(self, dem: stim.DetectorErrorModel) -> Callable[[np.ndarray], np.ndarray]:
        from ldpc.bplsd_decoder import BpLsdDecoder as LdpcBpLsdDecoder

        matrices = check_matrices(dem)
        checks = matrices.check_matrix.tocsc()
        # The detector sets of even parity in every producible syndrome (ldpc's LSD may hang or crash on others).
        dependencies = _dependencies(
            [tuple(checks.indices[checks.indptr[j] : checks.indptr[j + 1]]) for j in range(checks.shape[1])],
            dem.num_detectors,
        )
        decoder = LdpcBpLsdDecoder(
            matrices.check_matrix.tocsr(),
            error_channel=list(matrices.priors),
            max_iter=self.max_iter,
            bp_method=self.bp_method,
            ms_scaling_factor=self.ms_scaling_factor,
            schedule=self.schedule,
            lsd_order=self.lsd_order,
            lsd_method=self.lsd_method.upper(),
        )
        observables = matrices.observables_matrix.tocsr()
        num_detectors = dem.num_detectors

        def decode(events: np.ndarray) -> np.ndarray:
            syndromes = np.unpackbits(events, axis=1, count=num_detectors, bitorder="little")
            flips = np.zeros((len(events), observables.shape[0]), dtype=np.uint8)
            for shot in np.flatnonzero(producible(syndromes, dependencies)):
                flips[shot] = (observables @ decoder.decode(syndromes[shot])) % 2
            return np.packbits(flips, axis=1, bitorder="little")

        return decode


class FusionBlossomDecoder(GraphlikeDecoder):
    """Fusion Blossom (Wu and Zhong, arXiv:2305.08307: parallel MWPM), exact MWPM like PyMatching; graphlike DEMs
    (it refuses hyperedges, naming 'bposd'). Weights are log-likelihoods rounded to even integers up to 2 * 2^10,
    as sinter's own fusion_blossom decoder rounds them. A syndrome no set of the DEM's errors produces (odd in a
    part of the graph that does not reach the boundary) is predicted 'no flip' (Fusion Blossom would panic)."""

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        import fusion_blossom

        likely = split_likely_errors(dem)
        graph = matching_graph(likely.dem)
        kept = graph.edge_probabilities > 0
        clean = CleanDem(likely=likely, dem=likely.dem, informative=bool(graph.edge_observables[kept].any()))
        if not clean.informative:
            return CleanCompiledDecoder(clean, num_observables=dem.num_observables, decode_clean=None)
        weights = log_likelihood_weights(graph.edge_probabilities[kept])
        scale = 2**10 / max(1e-4, float(weights.max()))
        edges = [
            (int(a), int(b), 2 * round(float(w) * scale))
            for (a, b), w in zip(graph.edge_endpoints[kept].tolist(), weights)
        ]
        boundary = graph.num_detectors
        solver = fusion_blossom.SolverSerial(fusion_blossom.SolverInitializer(boundary + 1, edges, [boundary]))
        edge_observables = graph.edge_observables[kept]
        # Fusion Blossom panics on a syndrome with an odd number of events in a part of the graph without boundary.
        dependencies = _closed_components(graph.edge_endpoints[kept], boundary)

        def decode(events: np.ndarray) -> np.ndarray:
            predictions = np.zeros((len(events), edge_observables.shape[1]), dtype=np.uint8)
            syndromes = np.unpackbits(events, axis=1, count=boundary, bitorder="little")
            for shot in np.flatnonzero(producible(syndromes, dependencies)):
                syndrome = syndromes[shot]
                solver.solve(fusion_blossom.SyndromePattern(syndrome_vertices=np.flatnonzero(syndrome).tolist()))
                matched = solver.subgraph()
                if matched:
                    predictions[shot] = np.bitwise_xor.reduce(edge_observables[matched], axis=0)
                solver.clear()
            return predictions

        return CleanCompiledDecoder(clean, num_observables=dem.num_observables, decode_clean=decode)


def producible(syndromes: np.ndarray, dependencies: np.ndarray) -> np.ndarray:
    """bool (shots,): whether each syndrome has even parity on every row of `dependencies`, as every syndrome that
    some set of the DEM's errors produces has.

    Args:
        syndromes: uint8 0/1 (shots, num_detectors), unpacked.
        dependencies: uint8 0/1 (k, num_detectors), sets of detectors that every error flips an even number of.
    """
    if not len(dependencies):
        return np.ones(len(syndromes), dtype=bool)
    parities = syndromes.astype(np.uint32) @ dependencies.T.astype(np.uint32)
    return ~(parities & 1).any(axis=1)


def _dependencies(errors: list[tuple[int, ...]], num_detectors: int) -> np.ndarray:
    """uint8 (k, num_detectors): a basis of the detector sets that every one of `errors` (each a tuple of the
    detectors it flips) flips an even number of: the left null space of the check matrix, over GF(2)."""
    from qec.codes.gf2 import null_space

    transposed = np.zeros((max(len(errors), 1), num_detectors), dtype=np.uint8)
    for row, detectors in enumerate(errors):
        transposed[row, list(detectors)] = 1
    return null_space(transposed)


def _closed_components(edge_endpoints: np.ndarray, boundary: int) -> np.ndarray:
    """uint8 (k, boundary): one row per connected part of a matching graph that no edge joins to the boundary node
    (`boundary`), a lone detector included; each is a set every error flips an even number of.

    >>> _closed_components(np.array([[0, 1], [2, 3], [3, 4]]), 5).tolist()  # no edge reaches the boundary node 5
    [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]]
    >>> _closed_components(np.array([[0, 2], [1, 2]]), 2).tolist()
    []
    """
    import scipy.sparse
    import scipy.sparse.csgraph

    ends = np.asarray(edge_endpoints, dtype=np.int64).reshape(-1, 2)
    nodes = boundary + 1
    graph = scipy.sparse.coo_matrix((np.ones(len(ends)), (ends[:, 0], ends[:, 1])), shape=(nodes, nodes))
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    closed = [label for label in np.unique(labels[:boundary]) if label != labels[boundary]]
    return (labels[None, :boundary] == np.array(closed, dtype=np.int64)[:, None]).astype(np.uint8)

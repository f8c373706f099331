"""Ordered matching: the blocks of a transversal CNOT decoded one after the other, in the direction faults flow.

A transversal CNOT copies X errors of the control (block 0) onto the target (block 1), and Z errors of the target
onto the control. So among the detectors of one basis (the DEM restricted to it, `qec.decoders.basis`) faults flow
one way: Z detectors see X errors, which flow from block 0 to block 1; X detectors see Z errors, which flow from
block 1 to block 0. The upstream block's detectors are flipped by its own faults only, some of which also flip
downstream detectors (a control X error before the CNOT, a control measurement error the target's detector after
the CNOT compares with). Decoding (`OrderedMatchingDecoder`, the registry's `pymatching-ordered`):

1. Match the upstream detectors with PyMatching on the graph of every error that flips some of them, by its
   upstream detectors (errors with the same ones merged: p1 (1 - p2) + p2 (1 - p1)); each edge's fault ids are
   the observables and the downstream detectors of the likeliest such error.
2. XOR the matched faults' downstream detectors into the shot's downstream detectors: what the upstream faults
   explain is taken out.
3. Match what is left on the graph of the errors that flip downstream detectors only.

The prediction is the XOR of both matchings' observables. Where step 1 cannot tell two faults apart (an X error on
the control just before the CNOT, which propagates, and just after, which does not), it takes the likelier, and a
wrong guess leaves the target a pair of detectors that step 3 matches with the fault that undoes it. This is the
correlated decoding of the papers in `qec.decoders.blocks` done by matching: every hyperedge across the blocks is
kept whole (no lone-detector edge a real fault does not have, unlike a decomposition split by block), at two
PyMatching batch calls' cost. Needs a DEM with one basis (`qec.decoders.basis.dem_basis`), detectors tagged
`block=0` / `block=1`, and graphlike parts: each error's upstream detectors, and each downstream-only error's, at
most two (the rotated and unrotated surface code's `cnot` experiment).

>>> from qec import codes, noise
>>> from qec.transversal_cnot import build_cnot
>>> from qec.decoders.dem_arrays import decoding_dem
>>> circuit = build_cnot(codes.family("surface"), distance=3, rounds=3, basis="Z")
>>> noisy = noise.noise_model("si1000", 0.002).apply(circuit)
>>> events, flips = noisy.compile_detector_sampler(seed=1).sample(500, separate_observables=True, bit_packed=True)
>>> compiled = OrderedMatchingDecoder().compile_decoder_for_dem(dem=decoding_dem(noisy))
>>> predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
>>> predictions.shape, int((predictions != flips).any(axis=1).sum()) < 25
((500, 1), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pymatching
import sinter
import stim

from qec.decoders.basis import BasisRestriction, restrict_to_basis
from qec.decoders.blocks import detector_blocks
from qec.decoders.dem_arrays import _xor  # p1 (1 - p2) + p2 (1 - p1): independent errors merged
from qec.errors import QecInputError

UPSTREAM = {"Z": 0, "X": 1}  # the block whose faults flow into the other's detectors of that basis


@dataclass
class _Edges:
    """Edges by their detectors (one or two): combined probability, likeliest error's probability and fault ids."""

    edges: dict[frozenset[int], tuple[float, float, frozenset[int]]]

    def add(self, detectors: frozenset[int], probability: float, fault_ids: frozenset[int]) -> None:
        total, best, ids = self.edges.get(detectors, (0.0, -1.0, fault_ids))
        self.edges[detectors] = (
            _xor(total, probability),
            max(best, probability),
            fault_ids if probability > best else ids,
        )

    def matching(self, num_fault_ids: int) -> pymatching.Matching:
        matching = pymatching.Matching()
        for detectors, (probability, _, fault_ids) in self.edges.items():
            if not 0 < probability < 0.5:
                continue  # weight <= 0 or undefined: PyMatching cannot use it, as its own DEM loader does
            weight = math.log((1 - probability) / probability)
            ends = sorted(detectors)
            if len(ends) == 2:
                matching.add_edge(*ends, fault_ids=set(fault_ids), weight=weight, error_probability=probability)
            else:
                matching.add_boundary_edge(
                    *ends, fault_ids=set(fault_ids), weight=weight, error_probability=probability
                )
        matching.ensure_num_fault_ids(num_fault_ids)
        return matching


def _nodes(matching: pymatching.Matching, bits: np.ndarray) -> np.ndarray:
    """`bits`' columns for the matching's nodes (detectors past the last with an edge never fire in its DEM)."""
    return bits[:, : matching.num_detectors]


class OrderedMatchingCompiledDecoder(sinter.CompiledDecoder):
    """The two matchings of one basis-restricted, block-tagged DEM (module docstring)."""

    def __init__(self, dem: stim.DetectorErrorModel, restriction: BasisRestriction, blocks: np.ndarray):
        self.restriction = restriction
        self.num_observables = dem.num_observables
        upstream_block = UPSTREAM[restriction.basis]
        self.upstream = np.flatnonzero(blocks == upstream_block)
        self.downstream = np.flatnonzero(blocks != upstream_block)
        upstream_index = {int(d): i for i, d in enumerate(self.upstream)}
        downstream_index = {int(d): i for i, d in enumerate(self.downstream)}
        upstream, downstream = _Edges({}), _Edges({})
        carried: dict[int, int] = {}  # downstream detector -> its fault id past the observables, upstream
        for instruction in restriction.dem.flattened():
            if instruction.type != "error":
                continue
            targets = instruction.targets_copy()
            observables = frozenset(t.val for t in targets if t.is_logical_observable_id())
            detectors = [t.val for t in targets if t.is_relative_detector_id()]
            ups = frozenset(upstream_index[d] for d in detectors if d in upstream_index)
            downs = frozenset(downstream_index[d] for d in detectors if d in downstream_index)
            if len(ups) > 2 or (not ups and len(downs) > 2):
                raise QecInputError(
                    f"pymatching-ordered needs graphlike blocks, but an error flips {len(ups) or len(downs)} "
                    "detectors of one block: decode this circuit with bposd or relay"
                )
            probability = instruction.args_copy()[0]
            if ups:
                ids = {self.num_observables + carried.setdefault(d, len(carried)) for d in downs}
                upstream.add(ups, probability, observables | ids)
            elif downs:
                downstream.add(downs, probability, observables)
        self.carried = np.array(sorted(carried, key=carried.__getitem__), dtype=np.int64)
        self.upstream_matching = upstream.matching(self.num_observables + len(self.carried))
        self.downstream_matching = downstream.matching(self.num_observables)

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        kept = self.restriction.select(bit_packed_detection_event_data)
        bits = np.unpackbits(kept, axis=1, count=len(self.restriction.detectors), bitorder="little")
        upstream = self.upstream_matching.decode_batch(_nodes(self.upstream_matching, bits[:, self.upstream]))
        downstream_bits = bits[:, self.downstream]
        downstream_bits[:, self.carried] ^= upstream[:, self.num_observables :].astype(np.uint8)
        downstream = self.downstream_matching.decode_batch(_nodes(self.downstream_matching, downstream_bits))
        predictions = upstream[:, : self.num_observables] ^ downstream[:, : self.num_observables]
        return np.packbits(predictions.astype(np.uint8), axis=1, bitorder="little")


def _blocks(dem: stim.DetectorErrorModel) -> tuple[BasisRestriction, np.ndarray] | None:
    """The DEM restricted to its basis and its kept detectors' blocks, where it has one basis and blocks 0 and 1."""
    restriction = restrict_to_basis(dem)
    blocks = None if restriction is None else detector_blocks(restriction.dem)
    if restriction is None or blocks is None or set(blocks.tolist()) != {0, 1}:
        return None
    return restriction, blocks


class OrderedMatchingDecoder(sinter.Decoder):
    """Ordered matching of a transversal CNOT's two blocks (module docstring): the cnot experiment's decoder of the
    rotated and unrotated surface code, joint at matching's speed. A DEM without one basis and two tagged blocks
    (a memory's) is matched whole, as `pymatching` does."""

    def check_circuit(self, circuit: stim.Circuit) -> None:
        """QecInputError, before any shot, for a circuit this decoder cannot decode (module docstring)."""
        from qec.decoders.dem_arrays import decoding_dem, require_graphlike

        dem = decoding_dem(circuit)
        found = _blocks(dem)
        if found is None:
            require_graphlike(dem)
        else:
            OrderedMatchingCompiledDecoder(dem, *found)

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        from qec.decoders.matching import PyMatchingCompiledDecoder

        found = _blocks(dem)
        return PyMatchingCompiledDecoder(dem) if found is None else OrderedMatchingCompiledDecoder(dem, *found)

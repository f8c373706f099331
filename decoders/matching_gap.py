"""The complementary gap of matching: how much lighter the best correction is than the best one in any other
logical class, in dB (Smith, Brown and Bartlett, arXiv:2405.03766; Gidney, Shutty and Jones, arXiv:2409.17595).

Each observable is made a cut of the matching graph. A set S_L of detectors is found (a 2-colouring over the
edges between two detectors, s_u xor s_v = L(e)) so that the observable L' = L xor parity(the edge's detectors
in S_L) is flipped by boundary edges only. Those edges are moved from the boundary to a virtual detector B_L, and
each shot is matched once per logical class c (B_L's detection event set to c_L): the lightest class is the
prediction (L = c_L xor parity(the shot's detection events in S_L)) and the gap is 10 log10 of the likelihood
ratio of the lightest and the next lightest class, 10 / ln 10 times the difference of their matching weights
(weights are ln((1 - p) / p)). A gap of 0 dB is a coin flip between two classes.

A DEM whose observables are no cut (a cycle of edges between detectors flips L: a toric or colour-like code) has
no such gap, and is refused; so are boundary edges that flip two observables at once, and more than
`MAX_OBSERVABLES` observables (2^k matchings per shot).

>>> import stim
>>> from qec.decoders.matching_gap import MatchingGap
>>> circuit = stim.Circuit.generated("repetition_code:memory", distance=5, rounds=3,
...                                  before_round_data_depolarization=0.05)
>>> gap = MatchingGap(circuit.detector_error_model(decompose_errors=True))
>>> events, _ = circuit.compile_detector_sampler(seed=1).sample(1000, separate_observables=True, bit_packed=True)
>>> predictions, gaps = gap.decode(events)
>>> predictions.shape, gaps.shape, bool((gaps >= 0).all()), bool((gaps > 20).mean() > 0.5)
((1000, 1), (1000,), True, True)
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pymatching
import stim

from qec.errors import QecInputError

MAX_OBSERVABLES = 4  # observables a shot is matched for in every class: 2^k matchings per shot
DB_PER_NEPER = 10 / math.log(10)
_PARITY = np.array([bin(byte).count("1") & 1 for byte in range(256)], dtype=np.uint8)

_Component = tuple[tuple[int, ...], int]  # (detectors, observables as a bit mask)


class MatchingGap:
    """A graphlike DEM's matching graph with its observables made cuts; `decode` gives predictions and gaps.

    Attributes:
        num_detectors, num_observables: the DEM's.
        sides: uint8 (num_observables, ceil(num_detectors / 8)), S_L per observable, bit-packed little-endian.
        live: the observables some error can flip past their cut (only these are matched in both classes; the
            others follow from the detection events alone).
        matching: PyMatching's graph of the DEM with detector num_detectors + j for live observable j.
    """

    def __init__(self, dem: stim.DetectorErrorModel):
        self.num_detectors, self.num_observables = dem.num_detectors, dem.num_observables
        errors = _errors(dem)
        side = _sides(errors, self.num_detectors)
        cut_flips = [
            [(detectors, observables ^ _side_parity(side, detectors)) for detectors, observables in components]
            for _, components in errors
        ]
        flipped = 0
        for components in cut_flips:
            for detectors, observables in components:
                if observables & (observables - 1):
                    names = ", ".join(f"L{k}" for k in range(self.num_observables) if observables >> k & 1)
                    where = f" at detector D{detectors[0]}" if detectors else ""
                    raise QecInputError(
                        f"no matching gap for this DEM: an error{where} flips {names} at once past the boundary; "
                        "decode it without --postselect-gap (postselect_gap=None)"
                    )
                flipped |= observables
        self.live = [k for k in range(self.num_observables) if flipped >> k & 1]
        if len(self.live) > MAX_OBSERVABLES:
            raise QecInputError(
                f"no matching gap for {len(self.live)} observables: the gap matches every shot in 2^k logical "
                f"classes, for k <= {MAX_OBSERVABLES}; decode it without --postselect-gap (postselect_gap=None)"
            )
        virtual = {observable: self.num_detectors + j for j, observable in enumerate(self.live)}
        augmented = stim.DetectorErrorModel()
        for (probability, _), components in zip(errors, cut_flips):
            targets: list[stim.DemTarget] = []
            for detectors, observables in components:
                if not detectors and not observables:
                    continue
                if targets:
                    targets.append(stim.target_separator())
                targets += [stim.target_relative_detector_id(d) for d in detectors]
                if observables:
                    (observable,) = [k for k in self.live if observables >> k & 1]
                    targets += [
                        stim.target_relative_detector_id(virtual[observable]),
                        stim.target_logical_observable_id(observable),
                    ]
            if targets:
                augmented.append("error", probability, targets)
        if self.num_detectors + len(self.live):
            augmented.append(
                "detector", [], [stim.target_relative_detector_id(self.num_detectors + len(self.live) - 1)]
            )
        _check_reachable(cut_flips, [p for p, _ in errors], self.num_detectors, self.live)
        self.matching = pymatching.Matching.from_detector_error_model(augmented)
        self.sides = np.packbits(
            np.array(
                [[side[d] >> k & 1 for d in range(self.num_detectors)] for k in range(self.num_observables)],
                dtype=np.uint8,
            ).reshape(self.num_observables, self.num_detectors),
            axis=1,
            bitorder="little",
        )

    def decode(self, detection_events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Matches every shot in each logical class; the lightest class's prediction and the gap to the next.

        Args:
            detection_events: uint8 (shots, ceil(num_detectors / 8)), bit-packed little-endian.

        Returns:
            predictions: uint8 (shots, ceil(num_observables / 8)), bit-packed little-endian.
            gaps: float64 (shots,), in dB, >= 0; inf where no error flips an observable past its cut.
        """
        shots = detection_events.shape[0]
        width = -(-(self.num_detectors + len(self.live)) // 8)
        events = np.zeros((shots, width), dtype=np.uint8)
        events[:, : detection_events.shape[1]] = detection_events
        if self.num_detectors % 8:  # bits past the last detector must be clear for the virtual ones
            events[:, self.num_detectors // 8] &= np.uint8((1 << (self.num_detectors % 8)) - 1)
        classes = range(1 << len(self.live))
        weights = np.empty((len(classes), shots), dtype=np.float64)
        for c in classes:
            flagged = events.copy()
            for j in range(len(self.live)):
                if c >> j & 1:
                    node = self.num_detectors + j
                    flagged[:, node // 8] |= np.uint8(1 << (node % 8))
            _, weights[c] = self.matching.decode_batch(flagged, bit_packed_shots=True, return_weights=True)
        best = np.argmin(weights, axis=0)
        if len(classes) > 1:
            ordered = np.partition(weights, 1, axis=0)
            gaps = (ordered[1] - ordered[0]) * DB_PER_NEPER
        else:
            gaps = np.full(shots, np.inf)
        observed = events[:, : self.sides.shape[1]]
        bits = np.empty((shots, self.num_observables), dtype=np.uint8)
        for k in range(self.num_observables):
            bits[:, k] = _PARITY[np.bitwise_xor.reduce(observed & self.sides[k], axis=1)]
        for j, observable in enumerate(self.live):
            bits[:, observable] ^= ((best >> j) & 1).astype(np.uint8)
        return np.packbits(bits, axis=1, bitorder="little"), gaps


def _errors(dem: stim.DetectorErrorModel) -> list[tuple[float, list[_Component]]]:
    """Each error's probability and its `^`-separated components; QecInputError for one of > 2 detectors."""
    errors = []
    for instruction in dem.flattened():
        if instruction.type != "error":
            continue
        components: list[_Component] = []
        detectors: list[int] = []
        observables = 0
        for target in [*instruction.targets_copy(), stim.target_separator()]:
            if target.is_separator():
                if len(detectors) > 2:
                    raise QecInputError(
                        f"the detector error model is not graphlike: an error flips the {len(detectors)} detectors "
                        f"{detectors}; decompose it with circuit.detector_error_model(decompose_errors=True)"
                    )
                components.append((tuple(detectors), observables))
                detectors, observables = [], 0
            elif target.is_relative_detector_id():
                detectors.append(target.val)
            elif target.is_logical_observable_id():
                observables ^= 1 << target.val
        errors.append((instruction.args_copy()[0], components))
    return errors


def _sides(errors: list[tuple[float, list[_Component]]], num_detectors: int) -> list[int]:
    """s[d], a bit mask over observables, with s[u] ^ s[v] = L(e) on every edge e = (u, v) between two detectors
    (`_fewest_cut_edges` picks between the two choices per connected part); QecInputError when a cycle of such
    edges flips an observable (the observable is then no cut)."""
    neighbours: list[list[tuple[int, int]]] = [[] for _ in range(num_detectors)]
    for _, components in errors:
        for detectors, observables in components:
            if len(detectors) == 2:
                u, v = detectors
                neighbours[u].append((v, observables))
                neighbours[v].append((u, observables))
    side, roots = [-1] * num_detectors, [-1] * num_detectors
    for root in range(num_detectors):
        if side[root] >= 0:
            continue
        side[root], roots[root] = 0, root
        queue = deque([root])
        while queue:
            u = queue.popleft()
            for v, observables in neighbours[u]:
                wanted = side[u] ^ observables
                if side[v] < 0:
                    side[v], roots[v] = wanted, root
                    queue.append(v)
                elif side[v] != wanted:
                    observable = (side[v] ^ wanted).bit_length() - 1
                    raise QecInputError(
                        f"no matching gap for this DEM: a cycle of errors through detector D{v} flips observable "
                        f"L{observable} away from any boundary (a code without boundaries, e.g. toric or colour-like); "
                        "decode it without --postselect-gap (postselect_gap=None)"
                    )
    _fewest_cut_edges(side, roots, errors)
    return side


def _fewest_cut_edges(side: list[int], roots: list[int], errors: list[tuple[float, list[_Component]]]) -> None:
    """Flips observable L's side on every connected part of the graph all of whose boundary edges would flip L':
    then none do, and L follows from the detection events alone (its class needs no second matching)."""
    everywhere: dict[int, int] = {}  # per part (its root): the observables every boundary edge flips
    for probability, components in errors:
        for detectors, observables in components:
            if len(detectors) == 1 and probability > 0:
                part = roots[detectors[0]]
                everywhere[part] = everywhere.get(part, -1) & (observables ^ side[detectors[0]])
    for detector, part in enumerate(roots):
        side[detector] ^= max(everywhere.get(part, 0), 0)


def _side_parity(side: list[int], detectors: tuple[int, ...]) -> int:
    parity = 0
    for detector in detectors:
        parity ^= side[detector]
    return parity


def _check_reachable(
    cut_flips: list[list[_Component]], probabilities: list[float], num_detectors: int, live: list[int]
) -> None:
    """QecInputError unless each virtual detector B_L reaches the boundary through edges of p > 0: otherwise a
    class would have no matching for some shots."""
    boundary = num_detectors + len(live)
    parent = list(range(boundary + 1))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    position = {observable: j for j, observable in enumerate(live)}
    for probability, components in zip(probabilities, cut_flips):
        if probability <= 0:
            continue
        for detectors, observables in components:
            ends = list(detectors)
            if observables:  # a boundary edge to B_L, or (no detector) an edge from B_L to the boundary
                ends.append(num_detectors + position[observables.bit_length() - 1])
            if len(ends) == 1:
                ends.append(boundary)
            if len(ends) == 2:
                parent[root(ends[0])] = root(ends[1])
    for j, observable in enumerate(live):
        if root(num_detectors + j) != root(boundary):
            raise QecInputError(
                f"no matching gap for this DEM: every boundary error near observable L{observable} flips it, so its "
                "class is fixed by the detection events; decode it without --postselect-gap (postselect_gap=None)"
            )

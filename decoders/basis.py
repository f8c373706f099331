"""Basis-aware decoding: a CSS memory experiment's DEM restricted to the detectors of the measured basis.

In a CSS memory experiment in the Z basis, the Z observables are flipped only by X-type errors, which
only Z-type detectors see; the X-type detectors carry no information about them (and the other way
round for X). Circuits built by `qec.codes.css` say so in Stim tags: every DETECTOR carries
`basis=X` or `basis=Z` and every OBSERVABLE_INCLUDE `basis=B` for the measured basis B; the DEM keeps
them (`detector[basis=Z](x, y, t) D0`, `logical_observable[basis=Z] L0`).

When every detector carries a basis tag and every observable the same basis B, `restrict_to_basis`
keeps the detectors tagged B, drops the others from every error, drops the errors left flipping
nothing, and merges the errors whose (detectors, observables) then coincide, with the probability
that an odd number of them happen. Herald detectors (tagged `herald`, `qec.decoders.heralds`) have no basis: they
are left out of the rule and kept by the restriction, so herald-aware decoders still see them.
Decoders that take hypergraph DEMs ('bp', 'bposd', 'relay',
'lookup') decode that DEM (`compile_basis_aware`), on the kept detectors' bits of each shot. On the
[[144,12,12]] gross code (12 rounds, Z memory) this takes 1,728 detectors and 67,752 error
mechanisms down to 936 and 8,784. A DEM without tags, or with mixed observable bases, is decoded
whole.

>>> import stim
>>> from qec.decoders.basis import restrict_to_basis
>>> dem = stim.DetectorErrorModel('''
...     error(0.1) D0 D1
...     error(0.2) D0 L0
...     error(0.1) D1
...     error(0.1) D0
...     detector[basis=Z] D0
...     detector[basis=X] D1
...     logical_observable[basis=Z] L0
... ''')
>>> restriction = restrict_to_basis(dem)
>>> restriction.basis, restriction.detectors.tolist()
('Z', [0])
>>> # D0 D1 loses D1 and merges with the other D0 error: 0.1 * 0.9 + 0.9 * 0.1 = 0.18; D1 alone is dropped
>>> [(round(error.args_copy()[0], 6), str(error.targets_copy())) for error in restriction.dem if error.type == "error"]
[(0.18, "[stim.DemTarget('D0')]"), (0.2, "[stim.DemTarget('D0'), stim.DemTarget('L0')]")]
>>> restriction.dem.num_detectors, restriction.dem.num_observables
(1, 1)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sinter
import stim

from qec.decoders.dem_arrays import _xor  # p1 (1 - p2) + p2 (1 - p1): independent errors merged
from qec.noise import HERALD_TAG

BASES = ("X", "Z")
_BASIS_TAG = re.compile(r"^\s*basis\s*=\s*([XZ])\s*$")


def tag_basis(tag: str) -> str | None:
    """The basis a Stim tag names ('X' or 'Z'), or None: `basis=Z`, alone or among `,`/`;`-separated parts.

    >>> tag_basis("basis=Z"), tag_basis("round=3;basis=X"), tag_basis(""), tag_basis("basis=Y")
    ('Z', 'X', None, None)
    """
    found = {match.group(1) for part in re.split(r"[,;]", tag) if (match := _BASIS_TAG.match(part))}
    return found.pop() if len(found) == 1 else None


def _common_basis(detector_bases: list[str | None], observable_bases: list[set[str | None]]) -> str | None:
    """B when every detector has a basis and every observable exactly the basis B; else None."""
    if any(basis is None for basis in detector_bases):
        return None
    if not observable_bases or any(len(bases) != 1 for bases in observable_bases):
        return None
    bases = set().union(*observable_bases)
    return bases.pop() if len(bases) == 1 and None not in bases else None


def dem_basis(dem: stim.DetectorErrorModel) -> str | None:
    """The measured basis of a tagged CSS memory DEM ('X' or 'Z'), or None where decoding must use the whole DEM.

    B when every detector is declared with a `basis=X|Z` tag and every observable with `basis=B`
    (observables no instruction declares count as untagged).

    >>> dem_basis(stim.DetectorErrorModel("detector[basis=X] D0\\nlogical_observable[basis=X] L0"))
    'X'
    >>> dem_basis(stim.DetectorErrorModel("detector D0\\nlogical_observable[basis=X] L0")) is None
    True
    """
    detector_bases: list[str | None] = [None] * dem.num_detectors
    heralds: set[int] = set()
    observable_bases: list[set[str | None]] = [set() for _ in range(dem.num_observables)]
    for instruction in dem.flattened():
        if instruction.type == "detector":
            for target in instruction.targets_copy():
                detector_bases[target.val] = tag_basis(instruction.tag)
                if instruction.tag == HERALD_TAG:
                    heralds.add(target.val)
        elif instruction.type == "logical_observable":
            for target in instruction.targets_copy():
                observable_bases[target.val].add(tag_basis(instruction.tag))
    return _common_basis([b for d, b in enumerate(detector_bases) if d not in heralds], observable_bases)


def circuit_basis(circuit: stim.Circuit) -> tuple[str, int] | None:
    """(basis, number of detectors of that basis) for a tagged CSS memory circuit (same rule as `dem_basis`),
    without building its DEM; None where it is not one.

    >>> circuit = stim.Circuit('''
    ...     M 0 1
    ...     DETECTOR[basis=Z] rec[-1]
    ...     DETECTOR[basis=X] rec[-2]
    ...     OBSERVABLE_INCLUDE[basis=Z](0) rec[-1]
    ... ''')
    >>> circuit_basis(circuit)
    ('Z', 1)
    """
    detector_bases: list[str | None] = []
    observable_bases: list[set[str | None]] = [set() for _ in range(circuit.num_observables)]
    for instruction in circuit.flattened():
        if instruction.name == "DETECTOR" and instruction.tag != HERALD_TAG:
            detector_bases.append(tag_basis(instruction.tag))
        elif instruction.name == "OBSERVABLE_INCLUDE":
            observable_bases[int(instruction.gate_args_copy()[0])].add(tag_basis(instruction.tag))
    basis = _common_basis(detector_bases, observable_bases)
    return None if basis is None else (basis, detector_bases.count(basis))


@dataclass(frozen=True)
class BasisRestriction:
    """A DEM restricted to the detectors of one basis.

    Attributes:
        basis: 'X' or 'Z', the measured basis whose detectors are kept.
        detectors: int64 (num_kept,), the input DEM's indices of the kept detectors, ascending; kept
            detector i is detector i of `dem`.
        num_detectors: the input DEM's detector count.
        dem: the restricted DEM: kept detectors renumbered, errors restricted and merged (no `^`
            separators), the kept detectors' and the observables' declarations (coordinates, tags) kept.
    """

    basis: str
    detectors: np.ndarray
    num_detectors: int
    dem: stim.DetectorErrorModel

    def select(self, detection_events: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(num_detectors / 8)) -> uint8 (shots, ceil(len(detectors) / 8)), the kept detectors'
        bits, both bit-packed little-endian (vectorized, no Python per shot)."""
        bits = np.unpackbits(detection_events, axis=1, count=self.num_detectors, bitorder="little")
        return np.packbits(bits[:, self.detectors], axis=1, bitorder="little")


def restrict_to_basis(dem: stim.DetectorErrorModel, basis: str | None = None) -> BasisRestriction | None:
    """The DEM restricted to the detectors tagged `basis` (default: `dem_basis(dem)`); None when it has no
    basis (untagged, or mixed observable bases), for the caller to decode the whole DEM.

    Each error keeps its observables and the kept detectors it flips (the parity over its `^`
    components); errors left flipping nothing are dropped; errors with the same (detectors,
    observables) are merged into one with p = p1 (1 - p2) + p2 (1 - p1).
    """
    if basis is None:
        basis = dem_basis(dem)
        if basis is None:
            return None
    flat = dem.flattened()
    keep = np.zeros(dem.num_detectors, dtype=bool)
    herald = np.zeros(dem.num_detectors, dtype=bool)
    declarations: list[stim.DemInstruction] = []
    observables: list[stim.DemInstruction] = []
    for instruction in flat:
        if instruction.type == "detector" and (tag_basis(instruction.tag) == basis or instruction.tag == HERALD_TAG):
            for target in instruction.targets_copy():
                keep[target.val] = True
                herald[target.val] = instruction.tag == HERALD_TAG
            declarations.append(instruction)
        elif instruction.type == "logical_observable":
            observables.append(instruction)
    kept = np.flatnonzero(keep).astype(np.int64)
    renumber = np.full(dem.num_detectors, -1, dtype=np.int64)
    renumber[kept] = np.arange(len(kept))

    merged: dict[tuple[frozenset[int], frozenset[int]], float] = {}
    for instruction in flat:
        if instruction.type != "error":
            continue
        detectors: set[int] = set()
        flipped: set[int] = set()
        for target in instruction.targets_copy():
            if target.is_relative_detector_id():
                if keep[target.val]:
                    detectors ^= {int(renumber[target.val])}
            elif target.is_logical_observable_id():
                flipped ^= {target.val}
        if detectors or flipped:
            key = (frozenset(detectors), frozenset(flipped))
            probability = instruction.args_copy()[0]
            if any(herald[kept[d]] for d in detectors):  # outcomes of one heralded channel: disjoint, they add
                merged[key] = merged.get(key, 0.0) + probability
            else:
                merged[key] = _xor(merged.get(key, 0.0), probability)

    restricted = stim.DetectorErrorModel()
    for (error_detectors, error_observables), probability in merged.items():
        targets = [stim.target_relative_detector_id(d) for d in sorted(error_detectors)]
        targets += [stim.target_logical_observable_id(o) for o in sorted(error_observables)]
        restricted.append("error", probability, targets)
    seen: set[int] = set()
    for instruction in declarations:
        for target in instruction.targets_copy():
            new = int(renumber[target.val])
            if new not in seen:
                seen.add(new)
                target = [stim.target_relative_detector_id(new)]
                restricted.append(stim.DemInstruction("detector", instruction.args_copy(), target, tag=instruction.tag))
    seen_observables: set[tuple[int, str]] = set()
    for instruction in observables:
        for target in instruction.targets_copy():
            if (target.val, instruction.tag) not in seen_observables:
                seen_observables.add((target.val, instruction.tag))
                restricted.append(stim.DemInstruction("logical_observable", [], [target], tag=instruction.tag))
    return BasisRestriction(basis=basis, detectors=kept, num_detectors=dem.num_detectors, dem=restricted)


class BasisAwareCompiledDecoder(sinter.CompiledDecoder):
    """A compiled decoder of a restricted DEM, fed the kept detectors' bits of the input DEM's shots."""

    def __init__(self, restriction: BasisRestriction, inner: sinter.CompiledDecoder):
        self.restriction = restriction
        self.inner = inner

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.inner.decode_shots_bit_packed(
            bit_packed_detection_event_data=self.restriction.select(bit_packed_detection_event_data)
        )


class GapBasisAwareCompiledDecoder(BasisAwareCompiledDecoder):
    """A `BasisAwareCompiledDecoder` whose inner decoder gives gaps (`qec.decoders.gives_gap`): so does it."""

    def decode_shots_with_gap(self, *, bit_packed_detection_event_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The inner decoder's predictions and gaps, on the kept detectors' bits."""
        return self.inner.decode_shots_with_gap(  # type: ignore[attr-defined]
            bit_packed_detection_event_data=self.restriction.select(bit_packed_detection_event_data)
        )


def compile_basis_aware(
    dem: stim.DetectorErrorModel,
    compile_dem: Callable[[stim.DetectorErrorModel], sinter.CompiledDecoder],
    *,
    basis_aware: bool,
) -> sinter.CompiledDecoder:
    """`compile_dem` of the restricted DEM behind a `BasisAwareCompiledDecoder` where `basis_aware` and the DEM
    has a basis (`dem_basis`); `compile_dem(dem)` otherwise."""
    restriction = restrict_to_basis(dem) if basis_aware else None
    if restriction is None:
        return compile_dem(dem)
    inner = compile_dem(restriction.dem)
    if callable(getattr(inner, "decode_shots_with_gap", None)):
        return GapBasisAwareCompiledDecoder(restriction, inner)
    return BasisAwareCompiledDecoder(restriction, inner)

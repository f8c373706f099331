"""Block-by-block decoding: a DEM of several code blocks (e.g. `qec.transversal_cnot`'s two) decoded one block at a
time, each block's decoder seeing only its own detectors, as "decoding the blocks separately" means in Sahay et al.,
PRX Quantum 6, 020326 (2025) and Cain et al., PRL 133, 240602 (2024); joint decoding (any decoder on the whole DEM)
is what it is compared with.

Each DETECTOR says its block in its tag, `block=N` among `,`/`;`-separated parts (`basis=Z,block=1`), as
`tag_basis` reads `basis=`. `split_blocks` gives each block its part of the DEM, as `qec.decoders.basis` restricts to
a basis: every error keeps the detectors of that block (the others dropped), errors left flipping nothing are
dropped, and errors that then coincide are merged (p1 (1 - p2) + p2 (1 - p1)).

Observables. Each block's decoder estimates the faults its detectors see, and the logical effect of a fault is
where the circuit carries it: an X error on the control before a transversal CNOT flips both blocks' Z logicals
(the target's by propagation) while only the control's detectors see it. So each block's part keeps the
observable flips of the errors it owns, and a shot's prediction is the sum (XOR) of the blocks' predictions: the
control's correction is carried into the target's frame, as the papers' separate decoders do. An error whose
detectors lie in one block is owned by it, flips included. An error seen by both blocks (a fault at the CNOT,
a control measurement error that the target's detector after the CNOT also compares) has its flips split: the
part of one block takes the flips of that block's most likely single-block error with the same detectors, the
other block the rest; where no such error exists, the lowest block takes them all (`BlockSplit.unsplit` counts
these errors).

A DEM without block tags on every detector is decoded whole by the inner decoder.

Joint decoding at matching's speed, where faults' flow between the blocks is used instead of cut, is
`qec.decoders.ordered_matching` (the registry's `pymatching-ordered`).

>>> import stim
>>> dem = stim.DetectorErrorModel('''
...     error(0.1) D0 D1 L0 L1
...     error(0.1) D0 L0
...     error(0.1) D1 L1
...     error(0.02) D0 L0 L1
...     detector[basis=Z,block=0] D0
...     detector[basis=Z,block=1] D1
... ''')
>>> split = split_blocks(dem)
>>> def errors(part):
...     return [(round(e.args_copy()[0], 4), " ".join(map(str, e.targets_copy()))) for e in part.dem.flattened()
...             if e.type == "error"]
>>> errors(split.parts[0]), errors(split.parts[1])  # the D0 D1 error's flips split as D0 L0 explains them
([(0.18, 'D0 L0'), (0.02, 'D0 L0 L1')], [(0.18, 'D0 L1')])
>>> split.parts[1].detectors.tolist(), split.unsplit
([1], 0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import sinter
import stim

from qec.decoders.dem_arrays import _xor  # p1 (1 - p2) + p2 (1 - p1): independent errors merged
from qec.errors import QecInputError

_BLOCK_TAG = re.compile(r"^\s*block\s*=\s*(\d+)\s*$")


def tag_block(tag: str) -> int | None:
    """The block a Stim tag names (`block=N`, alone or among `,`/`;`-separated parts), or None.

    >>> tag_block("basis=Z,block=1"), tag_block("block=0"), tag_block("basis=X"), tag_block("block=0;block=1")
    (1, 0, None, None)
    """
    found = {int(match.group(1)) for part in re.split(r"[,;]", tag) if (match := _BLOCK_TAG.match(part))}
    return found.pop() if len(found) == 1 else None


def detector_blocks(dem: stim.DetectorErrorModel) -> np.ndarray | None:
    """int64 (num_detectors,), each detector's block from its declaration's tag; None unless every detector has one."""
    blocks = np.full(dem.num_detectors, -1, dtype=np.int64)
    for instruction in dem.flattened():
        if instruction.type == "detector":
            block = tag_block(instruction.tag)
            for target in instruction.targets_copy():
                blocks[target.val] = -1 if block is None else block
    return None if dem.num_detectors == 0 or (blocks < 0).any() else blocks


@dataclass(frozen=True)
class BlockPart:
    """One block's part of a DEM: `detectors` int64 (kept,), the input DEM's indices of the block's detectors,
    ascending (kept detector i is detector i of `dem`); `dem` the errors restricted to them, with the flips the
    block owns, its detectors' declarations and every observable."""

    block: int
    detectors: np.ndarray
    dem: stim.DetectorErrorModel


@dataclass(frozen=True)
class BlockSplit:
    """A DEM split into its blocks' parts (ascending block number); `unsplit`: errors seen by several blocks whose
    observable flips no single-block error explained, given whole to the lowest of their blocks."""

    parts: tuple[BlockPart, ...]
    num_detectors: int
    unsplit: int


Component = tuple[frozenset[int], frozenset[int]]  # (detectors, observables) of one `^`-separated component


def _errors(dem: stim.DetectorErrorModel) -> list[tuple[float, list[Component]]]:
    """(probability, components) per error, each component's targets combined by parity."""
    errors = []
    for instruction in dem.flattened():
        if instruction.type != "error":
            continue
        components: list[tuple[set[int], set[int]]] = [(set(), set())]
        for target in instruction.targets_copy():
            if target.is_separator():
                components.append((set(), set()))
            elif target.is_relative_detector_id():
                components[-1][0].symmetric_difference_update({target.val})
            elif target.is_logical_observable_id():
                components[-1][1].symmetric_difference_update({target.val})
        frozen = [(frozenset(d), frozenset(o)) for d, o in components if d or o]
        errors.append((instruction.args_copy()[0], frozen))
    return errors


def split_blocks(dem: stim.DetectorErrorModel) -> BlockSplit | None:
    """The DEM's parts by block (module docstring); None when some detector has no `block=N` tag or there is one
    block only, for the caller to decode the whole DEM. Each `^`-separated component of an error is split on its
    own (a component in one block goes to it whole), so a decomposed DEM gives decomposed parts."""
    blocks = detector_blocks(dem)
    if blocks is None or len(np.unique(blocks)) < 2:
        return None
    errors = _errors(dem)
    likeliest: dict[frozenset[int], tuple[float, frozenset[int]]] = {}  # single-block detectors -> flips
    for probability, components in errors:
        detectors = frozenset().union(*(d for d, _ in components)) if components else frozenset()
        if len(components) == 1 and detectors and len({int(blocks[d]) for d in detectors}) == 1:
            if probability > likeliest.get(detectors, (-1.0, frozenset()))[0]:
                likeliest[detectors] = (probability, components[0][1])
    names = sorted(int(b) for b in np.unique(blocks))
    merged: dict[int, dict[tuple[Component, ...], float]] = {b: {} for b in names}
    unsplit = 0
    for probability, components in errors:
        by_part: dict[int, list[Component]] = {b: [] for b in names}
        for detectors, observables in components:
            by_block = {b: frozenset(d for d in detectors if blocks[d] == b) for b in names}
            seen = [b for b in names if by_block[b]]
            if not seen:
                continue  # flips no detector: no block's decoder could ever predict it
            flips = {b: frozenset[int]() for b in seen}
            flips[seen[0]] = observables
            if len(seen) > 1 and observables:
                explained = next((b for b in seen if by_block[b] in likeliest), None)
                if explained is None or len(seen) > 2:
                    unsplit += 1
                else:
                    other = seen[1] if explained == seen[0] else seen[0]
                    flips = {explained: likeliest[by_block[explained]][1]}
                    flips[other] = observables ^ flips[explained]
            for b in seen:
                by_part[b].append((by_block[b], flips[b]))
        for b, parts in by_part.items():
            if parts:
                key = tuple(parts)
                merged[b][key] = _xor(merged[b].get(key, 0.0), probability)
    declarations = [instruction for instruction in dem.flattened() if instruction.type == "detector"]
    observables_declared = [instruction for instruction in dem.flattened() if instruction.type == "logical_observable"]
    result = []
    for b in names:
        kept = np.flatnonzero(blocks == b).astype(np.int64)
        renumber = {int(d): i for i, d in enumerate(kept)}
        part = stim.DetectorErrorModel()
        for key, probability in merged[b].items():
            targets: list[stim.DemTarget] = []
            for error_detectors, error_observables in key:
                if targets:
                    targets.append(stim.target_separator())
                targets += [stim.target_relative_detector_id(renumber[d]) for d in sorted(error_detectors)]
                targets += [stim.target_logical_observable_id(o) for o in sorted(error_observables)]
            part.append("error", probability, targets)
        for instruction in declarations:
            for target in instruction.targets_copy():
                if target.val in renumber:
                    new = [stim.target_relative_detector_id(renumber[target.val])]
                    part.append(stim.DemInstruction("detector", instruction.args_copy(), new, tag=instruction.tag))
        for instruction in observables_declared:
            part.append(instruction)
        if dem.num_observables and part.num_observables < dem.num_observables:
            part.append("logical_observable", [], [stim.target_logical_observable_id(dem.num_observables - 1)])
        result.append(BlockPart(block=b, detectors=kept, dem=part))
    return BlockSplit(parts=tuple(result), num_detectors=dem.num_detectors, unsplit=unsplit)


class SeparateBlocksCompiledDecoder(sinter.CompiledDecoder):
    """Each block's compiled decoder fed its block's detector bits; the predictions XORed."""

    def __init__(self, split: BlockSplit, inner: list[sinter.CompiledDecoder], num_observables: int):
        self.split = split
        self.inner = inner
        self.num_observables = num_observables

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        bits = np.unpackbits(bit_packed_detection_event_data, axis=1, count=self.split.num_detectors, bitorder="little")
        shots = bits.shape[0]
        predictions = np.zeros((shots, (self.num_observables + 7) // 8), dtype=np.uint8)
        for part, decoder in zip(self.split.parts, self.inner):
            packed = np.packbits(bits[:, part.detectors], axis=1, bitorder="little")
            predictions ^= decoder.decode_shots_bit_packed(bit_packed_detection_event_data=packed)
        return predictions


class SeparateBlocksDecoder(sinter.Decoder):
    """Decodes each block of a DEM whose detectors carry `block=N` tags alone with the qec decoder named `decoder`
    (default 'bposd'), adding the blocks' predictions (module docstring); a DEM without such tags is decoded whole.

    >>> from qec import codes, noise
    >>> from qec.transversal_cnot import build_cnot
    >>> circuit = build_cnot(codes.family("surface"), distance=3, rounds=2, basis="Z")
    >>> noisy = noise.noise_model("si1000", 0.002).apply(circuit)
    >>> sampler = noisy.compile_detector_sampler(seed=1)
    >>> events, flips = sampler.sample(200, separate_observables=True, bit_packed=True)
    >>> compiled = SeparateBlocksDecoder(decoder="pymatching").compile_decoder_for_dem(
    ...     dem=noisy.detector_error_model(decompose_errors=True))
    >>> predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=events)
    >>> predictions.shape, int((predictions != flips).any(axis=1).sum()) < 20
    ((200, 1), True)
    """

    def __init__(self, *, decoder: str = "bposd"):
        if not isinstance(decoder, str) or decoder == "blocks":
            raise QecInputError(f"decoder must name another qec decoder (e.g. 'bposd', 'pymatching'), got {decoder!r}")
        self.decoder = decoder

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        from qec import decoders  # the registry imports this module's package: import it when decoding

        inner = decoders.get(self.decoder)
        split = split_blocks(dem)
        if split is None:
            return inner.compile_decoder_for_dem(dem=dem)
        compiled = [inner.compile_decoder_for_dem(dem=part.dem) for part in split.parts]
        return SeparateBlocksCompiledDecoder(split, compiled, dem.num_observables)

"""The worker side of the engine: sample one chunk of a task with Stim and decode it in one batch call.

Shots are discarded (counted in `discards`, never as errors) when they fire a postselected detector, or, with a
`postselect_gap`, when the decoder's complementary gap for them is below it (`decode_shots_with_gap`,
`qec.decoders.gives_gap`).

>>> from qec.sampling import ChunkRequest, run_chunk
>>> from qec.task import Task
>>> from qec.parts import memory_task
>>> task = memory_task("repetition", distance=3, noise="sd6", p=0.01)
>>> result = run_chunk(ChunkRequest(task.task_id, task.circuit_text, task.decoder_spec.build(), (), 0, 1000, 7))
>>> result.counts.shots
1000
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import sinter
import stim

from qec.decoders import gives_gap
from qec.decoders.counting import count_errors, decode_and_count
from qec.decoders.dem_arrays import decoding_dem
from qec.errors import QecInputError
from qec.parts import decoders_with_gap
from qec.task import ChunkResult, Counts


@dataclass(frozen=True)
class ChunkRequest:
    """Everything a worker needs, by value: no store, no shared state. The decoder is the object itself (built in
    the main process from the registry, or the user's own), pickled to the worker as sinter sends its decoders,
    so a worker needs no registry."""

    task_id: str
    circuit_text: str
    decoder: sinter.Decoder
    postselected_detectors: tuple[int, ...]
    chunk_index: int
    shots: int
    seed: int
    postselect_gap: float | None = None  # dB: shots whose gap is below it are discarded


@dataclass
class _CompiledTask:
    circuit: stim.Circuit
    decoder: sinter.CompiledDecoder
    postselection: np.ndarray | None  # uint8 (ceil(detectors / 8),), bit-packed little-endian


_CACHE: dict[str, _CompiledTask] = {}
_CACHE_LIMIT = 16
BATCH = 65_536
# The most bytes of bit-packed detection events one batch holds. A chunk's shots (up to `qec.engine.MAX_CHUNK`,
# whatever `chunk_shots` asks) are never held at once: they are sampled and decoded in batches of at most this
# many bytes, so a worker's memory is bounded by the circuit's detectors, not by the chunk size (a decoder's
# per-batch arrays, e.g. the events unpacked to one byte each, are a small multiple of it).
MAX_BATCH_BYTES = 32 * 2**20


def batch_shots(detectors: int) -> int:
    """The shots sampled and decoded at once for a circuit with `detectors` detectors: at most `BATCH`, and at
    most `MAX_BATCH_BYTES` of bit-packed detection events (at least one shot).

    >>> batch_shots(24), batch_shots(1_000_000)
    (65536, 268)
    """
    return max(1, min(BATCH, MAX_BATCH_BYTES // max(1, -(-detectors // 8))))


def _compiled(request: ChunkRequest) -> _CompiledTask:
    """Compiles the decoder once per task in this worker process and keeps it (the task id covers the decoder's
    name and options)."""
    key = request.task_id
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        circuit = stim.Circuit(request.circuit_text)
        dem = decoding_dem(circuit)
        decoder = request.decoder.compile_decoder_for_dem(dem=dem)
        if request.postselect_gap is not None and not gives_gap(decoder):
            raise QecInputError(
                f"the decoder {type(request.decoder).__name__} gives no per-shot gap (its compiled decoder has no "
                "decode_shots_with_gap), so postselect_gap cannot discard shots by it: use "
                + " or ".join(map(repr, decoders_with_gap()))
            )
        mask = None
        if request.postselected_detectors:
            bits = np.zeros(circuit.num_detectors, dtype=np.bool_)
            bits[list(request.postselected_detectors)] = True
            mask = np.packbits(bits, bitorder="little")
        _CACHE[key] = _CompiledTask(circuit, decoder, mask)
    return _CACHE[key]


def run_chunk(request: ChunkRequest) -> ChunkResult:
    """Samples `request.shots` shots with seed `request.seed`, decodes them, and counts errors and discards.

    Works through the chunk in batches of `batch_shots(detectors)` shots (at most `BATCH`, and at most
    `MAX_BATCH_BYTES` of detection events), so memory stays bounded however long the chunk is.
    """
    compiled = _compiled(request)
    start = time.process_time()
    sampler = compiled.circuit.compile_detector_sampler(seed=request.seed)
    num_observables = compiled.circuit.num_observables
    errors = discards = 0
    per_observable = np.zeros(num_observables, dtype=np.int64)
    batch = batch_shots(compiled.circuit.num_detectors)
    for first in range(0, request.shots, batch):
        shots = min(batch, request.shots - first)
        detections, observables = sampler.sample(shots, separate_observables=True, bit_packed=True)
        if compiled.postselection is not None:
            kept = ~np.any(detections & compiled.postselection, axis=1)
            discards += int(shots - np.count_nonzero(kept))
            detections, observables = detections[kept], observables[kept]
        if request.postselect_gap is None:
            batch_errors, batch_per_observable = decode_and_count(
                compiled.decoder, detection_events=detections, observables=observables, num_observables=num_observables
            )
        else:
            predictions, gaps = compiled.decoder.decode_shots_with_gap(  # type: ignore[attr-defined]
                bit_packed_detection_event_data=detections
            )
            sure = gaps >= request.postselect_gap
            discards += int(len(sure) - np.count_nonzero(sure))
            batch_errors, batch_per_observable = count_errors(
                predictions[sure], observables=observables[sure], num_observables=num_observables
            )
        errors += batch_errors
        per_observable += batch_per_observable
    counts = Counts(request.shots, errors, discards, time.process_time() - start)
    return ChunkResult(request.task_id, request.chunk_index, counts, tuple(int(x) for x in per_observable))

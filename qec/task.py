"""The records that cross layers: a `Task` (circuit, decoder, metadata, strong id), the `Counts` of shots,
errors, discards and seconds that add up like sinter's `AnonTaskStats`, the `ChunkResult` a worker returns
and the store keeps, and the `TaskTotals` the store sums from them.

A task's parts (code, noise, experiment, decoder) are built and recorded by `qec.parts.StudySpec`.

>>> from qec.task import Counts
>>> Counts(shots=1000, errors=3) + Counts(shots=500, errors=2, discards=10)
Counts(shots=1500, errors=5, discards=10, seconds=0.0)
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import stim

from qec.arguments import listed, plain
from qec.decoders import DecoderSpec
from qec.errors import QecInputError
from qec.validation import canonical_json, check_metadata, check_token


@dataclass(frozen=True)
class Task:
    """What to sample and how to decode it. `metadata` is JSON-serializable (family, distance, p, ...)."""

    circuit: stim.Circuit = field(compare=False)
    decoder: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
    postselected_detectors: tuple[int, ...] = ()

    def __post_init__(self):
        if not isinstance(self.circuit, stim.Circuit):
            raise QecInputError(f"circuit must be a stim.Circuit, got {type(self.circuit).__name__}")
        if self.circuit.num_observables == 0:
            raise QecInputError(
                "the circuit has no OBSERVABLE_INCLUDE, so there is no logical error to count; "
                "add an observable to the circuit"
            )
        check_token(self.decoder, name="decoder")
        check_metadata(self.metadata)
        detectors = self.circuit.num_detectors
        indices = tuple(plain(k) for k in listed(self.postselected_detectors, name="postselected_detectors"))
        if not all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < detectors for k in indices):
            raise QecInputError(f"postselected_detectors must be detector indices in [0, {detectors})")
        object.__setattr__(self, "postselected_detectors", indices)  # a tuple of ints, whatever held them
        check_postselect_gap(self.metadata.get("postselect_gap"))

    @cached_property
    def circuit_text(self) -> str:
        return str(self.circuit)

    @cached_property
    def metadata_json(self) -> str:
        return canonical_json(self.metadata)

    @cached_property
    def task_id(self) -> str:
        """sha256 of circuit text, decoder name, canonical metadata JSON and postselection."""
        digest = hashlib.sha256()
        for part in (self.circuit_text, self.decoder, self.metadata_json, repr(self.postselected_detectors)):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    @property
    def postselect_gap(self) -> float | None:
        """The gap in dB below which a shot is discarded (metadata `postselect_gap`; None: none is)."""
        gap = self.metadata.get("postselect_gap")
        return None if gap is None else float(gap)

    @property
    def decoder_spec(self) -> DecoderSpec:
        """The decoder's name and the options its metadata records (`decoder_options`)."""
        return DecoderSpec.from_metadata(self.decoder, self.metadata)


@dataclass(frozen=True)
class Counts:
    """Shots sampled, logical errors among the kept shots, shots discarded by postselection, and the CPU seconds
    spent sampling and decoding them; `+` sums two."""

    shots: int = 0
    errors: int = 0
    discards: int = 0
    seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.shots + other.shots,
            self.errors + other.errors,
            self.discards + other.discards,
            self.seconds + other.seconds,
        )

    @property
    def kept(self) -> int:
        """Shots not discarded: the denominator of the logical error rate."""
        return self.shots - self.discards


@dataclass(frozen=True)
class ChunkResult:
    """One sampled and decoded chunk of a task, as the store keeps it: `counts.seconds` is the worker's CPU time
    (decoder compilation excluded) and `observable_errors[k]` counts the shots whose observable k was wrong."""

    task_id: str
    chunk_index: int
    counts: Counts
    observable_errors: tuple[int, ...]


@dataclass(frozen=True)
class TaskTotals:
    """Everything a store holds about one task: its counts summed over `chunks` chunks, and the index its next
    chunk takes."""

    task_id: str
    decoder: str
    metadata: dict[str, Any]
    counts: Counts
    chunks: int
    next_chunk: int


def check_postselect_gap(gap: Any) -> None:
    """QecInputError unless `gap` is None or a finite number >= 0 (a complementary gap in dB).

    >>> check_postselect_gap(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: postselect_gap=-1 is not allowed: give a gap in dB >= 0 (e.g. 4), or None to keep ...
    """
    if gap is None:
        return
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not math.isfinite(gap) or gap < 0:
        raise QecInputError(
            f"postselect_gap={gap!r} is not allowed: give a gap in dB >= 0 (e.g. 4), or None to keep every shot"
        )


def chunk_seed(task_id: str, chunk_index: int) -> int:
    """The sampler seed of chunk `chunk_index` of a task: fixed by both, so reruns and executors agree.

    >>> chunk_seed("ab" * 32, 0) == chunk_seed("ab" * 32, 0) != chunk_seed("ab" * 32, 1)
    True
    """
    digest = hashlib.sha256(f"{task_id}:{chunk_index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1

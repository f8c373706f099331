"""A study's parts in one record: the code family, the noise model, the experiment and the decoder, each a small
frozen spec (`qec.codes.CodeFamily` by name, `qec.noise.NoiseModel`, `qec.experiments.ExperimentSpec`,
`qec.decoders.DecoderSpec`), and the decoder's confidence a kept shot needs (`postselect_gap`, in dB; None keeps
every shot). A `StudySpec` is everything that makes a task part of a study but its distance and
p; it builds the tasks, records every part whole in their metadata, and is rebuilt from any task's metadata, so a
stored task can be re-run exactly from its row (`task_from_metadata`).

>>> spec = StudySpec.of("surface", noise="biased", bias=100, rounds=2, decoder="bposd",
...                     decoder_options={"osd_order": 4})
>>> task = spec.task(distance=3, p=0.001)
>>> sorted(task.metadata.items())  # doctest: +NORMALIZE_WHITESPACE
[('basis', 'Z'), ('bias', 100.0), ('decoder_options', {'osd_order': 4}), ('distance', 3), ('family', 'surface'),
 ('noise', 'biased'), ('p', 0.001), ('rounds', 2)]
>>> task_from_metadata(task.decoder, task.metadata).task_id == task.task_id
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import stim

from qec import codes, decoders
from qec.arguments import instance_or_none, known_keywords, plain
from qec.decoders import DecoderSpec
from qec.errors import QecInputError
from qec.experiments import ExperimentSpec
from qec.experiments import experiment as experiment_entry
from qec.noise import NoiseModel, noise_model
from qec.task import Task, check_postselect_gap


@dataclass(frozen=True)
class StudySpec:
    """Code family, noise model (at p = 0: each task takes its own p), experiment and decoder of a study, and the
    complementary gap in dB below which a shot is discarded (`postselect_gap`; None: no shot is), which needs a
    decoder that gives gaps (`qec.decoders.gives_gap`)."""

    family: str
    noise: NoiseModel = field(default_factory=lambda: noise_model("none"))
    experiment: ExperimentSpec = field(default_factory=ExperimentSpec)
    decoder: DecoderSpec = field(default_factory=DecoderSpec)
    postselect_gap: float | None = None

    def __post_init__(self):
        codes.family(self.family)  # an unknown family: the error lists the known ones
        if not isinstance(self.noise, NoiseModel):
            raise QecInputError(f"noise must be a noise model (qec.noise_model(...)), got {type(self.noise).__name__}")
        if not isinstance(self.experiment, ExperimentSpec):
            raise QecInputError(f"experiment must be an ExperimentSpec, got {type(self.experiment).__name__}")
        if not isinstance(self.decoder, DecoderSpec):
            raise QecInputError(f"decoder must be a DecoderSpec, got {type(self.decoder).__name__}")
        object.__setattr__(self, "noise", self.noise.at(0.0))
        check_postselect_gap(self.postselect_gap)
        if self.postselect_gap is not None:
            object.__setattr__(self, "postselect_gap", float(self.postselect_gap))
            if self.decoder.name in decoders.names() and self.decoder.name not in decoders_with_gap():
                raise QecInputError(
                    f"decoder {self.decoder.name!r} gives no per-shot gap, so postselect_gap cannot discard shots by "
                    f"it: use {' or '.join(map(repr, decoders_with_gap()))}, or leave postselect_gap out"
                )

    @staticmethod
    def of(
        family: str,
        *,
        noise: str | NoiseModel = "none",
        pauli: str | None = None,
        bias: float | None = None,
        erasure_fraction: float | None = None,
        experiment: str | ExperimentSpec = "memory",
        experiment_options: Mapping[str, int] | None = None,
        rounds: int | None = None,
        basis: str = "Z",
        decoder: str | DecoderSpec | None = None,
        decoder_options: Mapping[str, Any] | None = None,
        postselect_gap: float | None = None,
    ) -> StudySpec:
        """The spec from loose parameters: the one place where the Python API's and the CLI's keywords become
        parts. `noise` is a model's name (with `pauli`, `bias` and `erasure_fraction`) or a `NoiseModel`;
        `experiment` a name (with `rounds`, `basis` and `experiment_options`) or an `ExperimentSpec`; `decoder` a
        name (with `decoder_options`; None: the experiment's, `Experiment.default_decoder`) or a `DecoderSpec`;
        `postselect_gap` the gap in dB a kept shot needs. Giving a part both ways is refused."""
        if isinstance(noise, NoiseModel):
            if pauli is not None or bias is not None or erasure_fraction is not None:
                raise QecInputError(
                    "pauli=, bias= and erasure_fraction= are a noise model's: give them in the NoiseModel, not "
                    "beside it"
                )
            model = noise
        else:
            model = noise_model(noise, 0.0, pauli=pauli, bias=bias, erasure_fraction=erasure_fraction)
        if isinstance(experiment, ExperimentSpec):
            if rounds is not None or basis != "Z" or experiment_options:
                raise QecInputError(
                    "rounds=, basis= and experiment_options= are an experiment's: give them in the ExperimentSpec"
                )
            spec = experiment
        else:
            spec = ExperimentSpec(experiment, rounds, basis, dict(experiment_options or {}))
        if isinstance(decoder, DecoderSpec):
            if decoder_options:
                raise QecInputError("decoder_options= are a decoder's: give them in the DecoderSpec")
            decoding = decoder
        else:
            name = experiment_entry(spec.name).default_decoder(codes.family(family)) if decoder is None else decoder
            decoding = DecoderSpec(name, dict(decoder_options or {}))
        return StudySpec(family, model, spec, decoding, postselect_gap)

    @staticmethod
    def given(family: str | StudySpec, parts: Mapping[str, Any]) -> StudySpec:
        """`family` itself when it is a spec (then `parts` must be empty), else `StudySpec.of(family, **parts)`: how
        the functions that take either read their arguments."""
        if isinstance(family, StudySpec):
            if parts:
                raise QecInputError(f"{', '.join(parts)}: give these in the StudySpec, not beside it")
            return family
        return StudySpec.of(family, **loose_parts(parts, function="StudySpec.of"))

    def circuit(self, *, distance: int, p: float) -> stim.Circuit:
        """The noisy circuit at `distance` and `p`, built code -> experiment -> noiseless circuit -> noise."""
        return self.noise.at(p).apply(self.experiment.circuit(codes.family(self.family), distance=distance))

    def task(self, *, distance: int, p: float) -> Task:
        """The task at `distance` and `p`: its circuit (`circuit`) and every part recorded in its metadata."""
        distance, p = plain(distance), plain(p)  # NumPy scalars taken as the Python ones they hold
        metadata = (
            codes.family(self.family).metadata(distance)
            | self.experiment.metadata(distance=distance)
            | self.noise.at(p).metadata()
            | self.decoder.metadata()
            | ({} if self.postselect_gap is None else {"postselect_gap": self.postselect_gap})
        )
        return Task(circuit=self.circuit(distance=distance, p=p), decoder=self.decoder.name, metadata=metadata)

    def tasks(self, *, distances: Iterable[int], ps: Iterable[float]) -> list[Task]:
        """One task per (distance, p), distances outermost."""
        listed_ps = list(ps)
        return [self.task(distance=d, p=p) for d in distances for p in listed_ps]

    @staticmethod
    def from_metadata(decoder: str, metadata: Mapping[str, Any]) -> StudySpec:
        """The spec a task's metadata records; QecInputError when it does not record one (a task from a circuit
        file, say)."""
        if "family" not in metadata:
            raise QecInputError("the metadata names no code family: the task was not built from parts")
        return StudySpec(
            metadata["family"],
            NoiseModel.from_metadata(metadata),
            ExperimentSpec.from_metadata(metadata),
            DecoderSpec.from_metadata(decoder, metadata),
            metadata.get("postselect_gap"),
        )


def loose_parts(parts: Mapping[str, Any], *, function: str) -> dict[str, Any]:
    """`StudySpec.of`'s keywords in `parts` checked for the Python API: unknown names and options that are not
    mappings refused (QecInputError naming them), NumPy scalars made Python ones."""
    known_keywords(parts, _LOOSE_PARTS, function=function)
    for name in ("decoder_options", "experiment_options"):
        instance_or_none(parts.get(name), Mapping, name=name)
    return {name: plain(value) for name, value in parts.items()}


_LOOSE_PARTS = (
    "noise",
    "pauli",
    "bias",
    "erasure_fraction",
    "experiment",
    "experiment_options",
    "rounds",
    "basis",
    "decoder",
    "decoder_options",
    "postselect_gap",
)


def decoders_with_gap() -> list[str]:
    """The registry's decoders that give per-shot gaps (`qec.decoders.gives_gap`), which `postselect_gap` needs.

    >>> "pymatching" in decoders_with_gap(), "relay" in decoders_with_gap()
    (True, False)
    """
    return [name for name in decoders.names() if decoders.gives_gap(decoders.entry(name).resolved())]


def task_from_metadata(decoder: str, metadata: Mapping[str, Any]) -> Task:
    """The task a store row records (its decoder and metadata), rebuilt from its parts: the same strong id when
    the parts build the same circuit as when it was stored."""
    for key in ("distance", "p"):
        if key not in metadata:
            raise QecInputError(f"the metadata has no {key!r}: the task was not built from parts")
    return StudySpec.from_metadata(decoder, metadata).task(distance=metadata["distance"], p=metadata["p"])


def memory_task(family: str, *, distance: int, p: float, **parts: Any) -> Task:
    """The task of `family`'s memory experiment at `distance` and `p`; `parts` are `StudySpec.of`'s keywords
    (noise, pauli, bias, rounds, basis, decoder, decoder_options, postselect_gap), recorded whole in its metadata.

    >>> task = memory_task("surface", distance=3, noise="sd6", p=0.001)
    >>> task.metadata["distance"], len(task.task_id)
    (3, 64)
    """
    return StudySpec.of(family, **loose_parts(parts, function="memory_task")).task(distance=distance, p=p)

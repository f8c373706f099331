"""The options that `qec mitigate`'s commands share (workload, circuit, logical and vqe runs), and the one place
their flags become a technique's options object.

Every list in the help is read from the library's registries: techniques and their descriptions from
`qec.mitigation.techniques.TECHNIQUES`, factories and scalings from `FACTORIES` and `SCALINGS`, noise keys from
`NOISE_KEYS`. Flag defaults are the options objects' own defaults.

>>> technique_options("pt+zne", scale_factors="1,2", twirl_variants=4)  # doctest: +NORMALIZE_WHITESPACE
TwirledZneOptions(zne=ZneOptions(factory='richardson', scaling='global', scale_factors=(1.0, 2.0)),
                  twirl=TwirlOptions(variants=4))
>>> technique_options("zne", scale_factors="1,1,1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qec.errors.QecInputError: ZNE scale factors must be distinct, got (1, 1, 1): ...
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import typer

from qec.errors import QecInputError
from qec.mitigation.backends import DEVICES, METHODS
from qec.mitigation.noise_models import NOISE_KEYS
from qec.mitigation.techniques import (
    FACTORIES,
    SCALINGS,
    TECHNIQUES,
    LreOptions,
    PecOptions,
    TwirlOptions,
    ZneOptions,
    get_technique,
)

ZNE_DEFAULTS, LRE_DEFAULTS, PEC_DEFAULTS, TWIRL_DEFAULTS = ZneOptions(), LreOptions(), PecOptions(), TwirlOptions()


def listed(names: Iterable[str]) -> str:
    return ", ".join(names)


def factors_text(factors: tuple[float, ...]) -> str:
    return ",".join(f"{factor:g}" for factor in factors)


Noise = Annotated[
    str,
    typer.Option(
        help="Comma-separated key=value; the keys (the NoiseSpec field each sets; rotation in radians): "
        + listed(key if field == key else f"{key} ({field})" for key, field in NOISE_KEYS.items() if key != "fake")
        + "; or fake=NAME alone: an IBM fake backend's calibrated noise and layout, e.g. "
        "fake=FakeManilaV2 (needs qiskit-ibm-runtime; REM then uses its per-qubit readout errors)."
    ),
]
Technique = Annotated[
    str,
    typer.Option(
        help="Mitigation technique: "
        + "; ".join(f"{name}: {technique.description}" for name, technique in TECHNIQUES.items())
        + "."
    ),
]
Factory = Annotated[str, typer.Option(help=f"ZNE factory: {listed(FACTORIES)}.")]
Scaling = Annotated[str, typer.Option(help=f"ZNE noise scaling: {listed(SCALINGS)}.")]
ScaleFactors = Annotated[
    str | None,
    typer.Option(
        help="ZNE scale factors, comma-separated, distinct, >= 1 (at least 2).",
        show_default=factors_text(ZNE_DEFAULTS.scale_factors),
    ),
]
PecSamples = Annotated[int, typer.Option(help="Circuits PEC samples.")]
TwirlVariants = Annotated[int, typer.Option(help="Pauli-twirled variants per circuit (pt, pt+zne, rem+pt+zne).")]
LreDegree = Annotated[int, typer.Option(help="LRE: polynomial degree in each chunk's noise scale.")]
LreChunks = Annotated[int, typer.Option(help="LRE: chunks of layers the circuit is cut into.")]
Device = Annotated[str, typer.Option(help=f"{listed(DEVICES)}; auto: the GPU if there is one, else the CPU.")]
Method = Annotated[str, typer.Option(help=f"Aer's simulation method: {listed(METHODS)}.")]
Shots = Annotated[int, typer.Option(help="Shots per circuit.")]
Seed = Annotated[int, typer.Option(help="Seed of the workload, sampling and simulation.")]
Threads = Annotated[int, typer.Option(help="Aer threads (0: all cores).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def scale_factors_of(text: str | None, *, default: ZneOptions) -> tuple[float, ...]:
    """--scale-factors as numbers, or `default`'s when not given."""
    if not text:
        return default.scale_factors
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise QecInputError(f"bad --scale-factors {text!r}: give comma-separated numbers >= 1, e.g. 1,3,5") from None


def technique_options(
    technique: str,
    *,
    factory: str = ZNE_DEFAULTS.factory,
    scaling: str = ZNE_DEFAULTS.scaling,
    scale_factors: str | None = None,
    pec_samples: int = PEC_DEFAULTS.samples,
    twirl_variants: int = TWIRL_DEFAULTS.variants,
    lre_degree: int = LRE_DEFAULTS.degree,
    lre_chunks: int = LRE_DEFAULTS.chunks,
) -> Any:
    """The options object of `technique` from the flags: every flag's options are built (so a bad flag is refused
    whichever technique runs), then the technique takes the ones of its type (`Technique.options_from`); a
    technique whose options no flag sets runs with its defaults."""
    parts = (
        ZneOptions(factory, scaling, scale_factors_of(scale_factors, default=ZNE_DEFAULTS)),
        LreOptions(lre_degree, LRE_DEFAULTS.fold_multiplier, lre_chunks),
        PecOptions(pec_samples),
        TwirlOptions(twirl_variants),
    )
    return get_technique(technique).options_from(*parts)

"""The options several commands share, with help texts whose lists come from the registries."""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from qec import auto, codes, decoders, noise
from qec.codes import CodeFamily
from qec.errors import QecInputError
from qec.experiments import EXPERIMENTS
from qec.experiments import experiment as experiment_entry
from qec.parts import StudySpec
from qec.study import DEFAULT_P_GRID, THRESHOLD_STOP, parse_distances

DEFAULT_STORE = Path("qec-results.db")

Family = Annotated[str, typer.Argument(help=f"Code family: {', '.join(codes.FAMILIES)}.")]
Distances = Annotated[
    Optional[str],
    typer.Option(
        "--distance",
        help="Distances, comma-separated, e.g. 3,5,7 (default: the experiment's, "
        + "; ".join(f"{e.name} {','.join(map(str, e.distances))}" for e in EXPERIMENTS.values())
        + ").",
    ),
]
CodeFile = Annotated[
    Optional[str],
    typer.Option(
        "--code",
        help="Your CSS code, for FAMILY css: a .npz with arrays hx and hz, two alist files HX.alist,HZ.alist, "
        "or bb:NAME (e.g. bb:108,8,10).",
    ),
]
Noise = Annotated[
    str, typer.Option("--noise", help=f"Noise model: {', '.join(noise.NOISE_FAMILIES)} (`qec codes` describes them).")
]
PGrid = Annotated[str, typer.Option("--p", help="LOW:HIGH:N (N log-spaced values) or a list a,b,c.")]
Rounds = Annotated[str, typer.Option("--rounds", help="'d' (rounds = distance) or a number.")]
Basis = Annotated[str, typer.Option("--basis", help="Memory basis, X or Z.")]
ExperimentName = Annotated[
    str,
    typer.Option("--experiment", help="The experiment: memory (default), or another `qec codes` lists."),
]
ExperimentOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--experiment-option",
        help="An experiment option KEY=N (repeatable), e.g. cnots=3; `qec codes` lists each experiment's options.",
    ),
]
Decoder = Annotated[
    str, typer.Option("--decoder", help=f"Decoder: {', '.join(decoders.names())} (`qec codes` lists their options).")
]
StudyDecoder = Annotated[
    Optional[str],
    typer.Option(
        "--decoder",
        help=f"Decoder: {', '.join(decoders.names())} (`qec codes` lists their options; default: the experiment's, "
        + "; ".join(
            f"{e.name} {e.decoder}"
            + (f" ({e.unmatchable_decoder} for unmatchable families)" if e.unmatchable_decoder else "")
            for e in EXPERIMENTS.values()
        )
        + ").",
    ),
]
DecoderOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--decoder-option",
        help="A decoder option KEY=VALUE (repeatable), e.g. osd_order=4 or gamma_interval=[-0.24,0.66]; recorded "
        "with each task.",
    ),
]
Plugin = Annotated[
    Optional[list[str]],
    typer.Option(
        "--plugin",
        help="Your own parts: a Python file (mine.py) or an importable module whose import registers code families, "
        "noise models, decoders (qec.codes.register_family, qec.noise.register_noise, qec.decoders.register); "
        "repeatable.",
    ),
]
Bias = Annotated[
    Optional[float],
    typer.Option("--bias", help="Z bias eta = p_z/(p_x+p_y) of the biased model (default 10; inf: pure Z noise)."),
]
ErasureFraction = Annotated[
    Optional[str],
    typer.Option(
        "--erasure-fraction",
        help="R_e, the share of each noise place's error that is heralded (any model; erasure and heralded-pauli "
        "default to 0.98): a value or a list 0,0.5,0.98 (one study per value).",
    ),
]
Pauli = Annotated[
    Optional[str],
    typer.Option(
        "--pauli",
        help=f"Pauli channel of code-capacity and phenomenological noise: "
        f"{' or '.join(noise.NOISE_FAMILIES['code-capacity'].pauli_kinds)}.",
    ),
]
MaxShots = Annotated[int, typer.Option("--max-shots", help="Stop a task at this many shots.")]
MaxErrors = Annotated[int, typer.Option("--max-errors", help="Stop a task at this many logical errors.")]
Precision = Annotated[
    Optional[float],
    typer.Option("--precision", help="Stop a task when its 95% interval's relative half-width is this small."),
]
Workers = Annotated[Optional[int], typer.Option("--workers", help="Worker processes (default: all cores).")]
StorePath = Annotated[Path, typer.Option("--store", help="The SQLite results store.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")]
Scheduler = Annotated[
    Optional[str], typer.Option("--scheduler", help="Run on this Dask scheduler (tcp://HOST:PORT or tls://...).")
]
Cluster = Annotated[
    Optional[str], typer.Option("--cluster", help="Start a Dask LocalCluster on 127.0.0.1: local:N for N workers.")
]
ChunkShots = Annotated[
    Optional[int],
    typer.Option("--chunk-shots", help="Fixed shots per chunk (default: adapt to ~1 s); same counts on any executor."),
]
Correction = Annotated[
    Optional[bool],
    typer.Option(
        "--correction/--no-correction",
        help="Fit with the finite-size correction D d^(-1/mu) (default: with >= 4 distances).",
    ),
]
PostselectGap = Annotated[
    Optional[str],
    typer.Option(
        "--postselect-gap",
        help="Discard the shots whose decoder's complementary gap is below G dB (a coin flip is 0): G or a list "
        "G1,G2,... (one task per value); the decoder must give gaps (pymatching, bposd). Discards are stored as "
        "sinter's.",
    ),
]
PlotPath = Annotated[Optional[Path], typer.Option("--plot", help="Write the plot here (.png, .svg or .pdf).")]

# `qec threshold --auto` (qec.auto): its switch, its stopping rules, and the study flags it replaces, which are
# None when not given so that --auto can refuse them.
Auto = Annotated[
    bool,
    typer.Option(
        "--auto",
        help="Find the threshold without a p grid: scan the noise model's "
        "usual range, then sample around the crossing until "
        "--target-precision, --max-shots-total or --max-seconds.",
    ),
]
TargetPrecision = Annotated[
    Optional[float],
    typer.Option(
        "--target-precision",
        help=f"With --auto: stop when the threshold's 95% interval has this relative "
        f"half-width (default {auto.DEFAULT_TARGET_PRECISION:g}).",
    ),
]
MaxShotsTotal = Annotated[
    Optional[int],
    typer.Option(
        "--max-shots-total",
        help="With --auto: stop when the study's tasks hold this many shots in all, the store's "
        "earlier ones included (default: no limit).",
    ),
]
MaxSeconds = Annotated[
    Optional[float],
    typer.Option(
        "--max-seconds", help=f"With --auto: stop after this many seconds (default {auto.DEFAULT_MAX_SECONDS:g})."
    ),
]
StudyPGrid = Annotated[
    Optional[str],
    typer.Option(
        "--p", help=f"LOW:HIGH:N (N log-spaced values) or a list a,b,c (default {DEFAULT_P_GRID}); not with --auto."
    ),
]
StudyMaxShots = Annotated[
    Optional[int],
    typer.Option(
        "--max-shots", help=f"Stop a task at this many shots (default {THRESHOLD_STOP.max_shots:,}); not with --auto."
    ),
]
StudyMaxErrors = Annotated[
    Optional[int],
    typer.Option(
        "--max-errors",
        help=f"Stop a task at this many logical errors (default {THRESHOLD_STOP.max_errors:,}); not with --auto.",
    ),
]
StudyPrecision = Annotated[
    Optional[float],
    typer.Option(
        "--precision", help="Stop a task when its 95% interval's relative half-width is this small; not with --auto."
    ),
]

# `qec stats` and `qec plot`: which slice of the store to show (qec.slices)
Where = Annotated[
    Optional[list[str]],
    typer.Option(
        "--where",
        help="Only points whose KEY equals VALUE: KEY=VALUE, or KEY=V1,V2 for any of them (repeatable; "
        "any metadata key or decoder; values compare as JSON numbers, true/false, or text).",
    ),
]
GroupBy = Annotated[
    Optional[list[str]],
    typer.Option(
        "--group-by",
        help="One curve per value of these keys (repeatable or comma-separated): decoder, family, code, basis, "
        "noise, distance, or any metadata key. A curve that repeats an x value is split by distance, then others.",
    ),
]
XKey = Annotated[
    Optional[str],
    typer.Option(
        "--x",
        help="The x axis: p (default), discard_rate (discards / shots, for --postselect-gap) or any numeric "
        "metadata key, e.g. distance.",
    ),
]
Rate = Annotated[
    Optional[str],
    typer.Option(
        "--rate",
        help="The logical error rate per shot, round or qubit (k observables: 1 - (1 - per shot)^(1/k)); "
        "plot default: shot and round panels.",
    ),
]
Fit = Annotated[
    Optional[bool],
    typer.Option(
        "--fit/--no-fit",
        help="Fit the threshold (needs one curve per distance, p on x; default: when the curves allow it).",
    ),
]


def load_plugins(plugins: list[str] | None) -> None:
    """Imports each plugin: a .py file (its folder goes first on sys.path, so worker processes import it too) or
    a module name (found from the current folder too). Its import registers the parts it defines."""
    for plugin in plugins or ():
        path = Path(plugin)
        if plugin.endswith(".py"):
            if not path.is_file():
                raise QecInputError(f"--plugin {plugin}: no such Python file; give an existing FILE.py or a module")
            folder, name = str(path.resolve().parent), path.stem
        else:
            folder, name = os.getcwd(), plugin
        if not all(part.isidentifier() for part in name.split(".")):
            raise QecInputError(f"--plugin {plugin!r} is not a module name or a FILE.py whose name is one")
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise QecInputError(f"--plugin {plugin}: could not import it ({error})") from None


def parse_experiment_options(assignments: Iterable[str]) -> dict[str, int]:
    """The --experiment-option KEY=N assignments as a mapping (the experiment checks the names).

    >>> parse_experiment_options(["cnots=3", " rounds_between = 1"])
    {'cnots': 3, 'rounds_between': 1}
    """
    options: dict[str, int] = {}
    for text in assignments:
        key, equals, value = str(text).partition("=")
        if not equals or not key.strip() or not value.strip().isdigit() or len(value.strip()) > 9:
            raise QecInputError(f"--experiment-option {text[:60]!r} is not KEY=N with N a whole number: e.g. cnots=3")
        options[key.strip()] = int(value.strip())
    return options


def parse_erasure_fractions(text: str | None) -> list[float | None]:
    """The values of --erasure-fraction: [None] (the model's default) when it is not given, else its
    comma-separated shares in [0, 1], each once.

    >>> parse_erasure_fractions(None), parse_erasure_fractions("0, 0.5,0.98,0.5")
    ([None], [0.0, 0.5, 0.98])
    """
    if text is None:
        return [None]
    try:
        fractions = [float(word) for word in text.split(",")]
    except ValueError:
        fractions = []
    if not fractions or len(fractions) > 100 or not all(0 <= value <= 1 for value in fractions):
        raise QecInputError(
            f"--erasure-fraction {text[:60]!r} must be a share in [0, 1] or up to 100 of them joined by commas, "
            "e.g. 0.98 or 0,0.5,0.9,0.98,1"
        )
    return list(dict.fromkeys(fractions))


def per_erasure_fraction(spec: StudySpec, fractions: list[float | None]) -> list[StudySpec]:
    """`spec` (built with the first of `fractions`) and one copy per further fraction, its noise at that R_e."""
    further = [value for value in fractions[1:] if value is not None]  # None only alone: the model's default
    return [spec] + [replace(spec, noise=replace(spec.noise, erasure_fraction=value)) for value in further]


def one_erasure_fraction(text: str | None, command: str) -> float | None:
    """The single --erasure-fraction a command takes that builds one circuit or study."""
    fractions = parse_erasure_fractions(text)
    if len(fractions) > 1:
        raise QecInputError(
            f"`qec {command}` takes one --erasure-fraction: give one value (`qec collect` and `qec threshold` take "
            "a list, one study per value)"
        )
    return fractions[0]


def parse_gaps(text: str | None) -> list[float | None]:
    """The values of --postselect-gap: [None] when it is not given, else its comma-separated numbers (dB, >= 0).

    >>> parse_gaps(None), parse_gaps("0,2.5, 4")
    ([None], [0.0, 2.5, 4.0])
    """
    if text is None:
        return [None]
    try:
        gaps = [float(word) for word in text.split(",")]
    except ValueError:
        gaps = []
    if not gaps or len(gaps) > 100 or not all(math.isfinite(gap) and gap >= 0 for gap in gaps):
        raise QecInputError(
            f"--postselect-gap {text[:60]!r} must be a gap in dB >= 0 or up to 100 of them joined by commas, e.g. 4 "
            "or 0,2,4,6"
        )
    return list(dict.fromkeys(gaps))


def study_distances(distance: str | None, spec: StudySpec) -> list[int]:
    """The distances --distance gives, or (not given) the study's experiment's defaults."""
    return parse_distances(distance) if distance is not None else list(spec.experiment.default_distances)


def study_spec(
    family: str,
    *,
    code: str | None = None,
    noise: str = "none",
    pauli: str | None = None,
    bias: float | None = None,
    erasure_fraction: float | None = None,
    experiment: str = "memory",
    experiment_option: list[str] | None = None,
    rounds: int | None = None,
    basis: str = "Z",
    decoder: str | None = None,
    decoder_option: list[str] | None = None,
    postselect_gap: float | None = None,
) -> tuple[StudySpec, CodeFamily | None]:
    """The study's parts from the flags every sampling command shares (`circuit`, `collect`, `threshold`, `--auto`),
    and the family of the user's --code file (None for a built-in family)."""
    user = user_family(family, code)
    return (
        StudySpec.of(
            family,
            noise=noise,
            pauli=pauli,
            bias=bias,
            erasure_fraction=erasure_fraction,
            experiment=experiment,
            experiment_options=parse_experiment_options(experiment_option or ()),
            rounds=rounds,
            basis=basis,
            decoder=decoders.DecoderSpec.parse(
                experiment_entry(experiment).default_decoder(user or codes.family(family))
                if decoder is None
                else decoder,
                decoder_option or (),
            ),
            postselect_gap=postselect_gap,
        ),
        user,
    )


def user_family(family: str, code: str | None) -> CodeFamily | None:
    """The registered family of the --code file when `family` is css; None for a built-in family (which takes
    no --code)."""
    if family != codes.USER_FAMILY:
        if code is not None:
            raise QecInputError(f"--code is for the family {codes.USER_FAMILY} (your own CSS code), not '{family}'")
        return None
    if code is None:
        codes.family(family)  # raises: the css family needs a code
    from qec.codes.matrices import css_family_from_file

    assert code is not None
    return css_family_from_file(code)

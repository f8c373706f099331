"""`qec mitigate WORKLOAD`, `qec mitigate circuit FILE` and `qec mitigate logical FAMILY`: Mitiq on Aer, ideal
vs noisy vs mitigated.

`mitigate_app` is a Typer group with one subcommand per workload of `qec.mitigation.WORKLOADS` (each calls
`mitigate_workload`), `circuit` (the user's OpenQASM 2/3 or QPY file and observable; calls `mitigate`) and
`logical` (calls `mitigate_logical_memory`), and `vqe` (`qec.cli.vqe`). A name that is none of them is refused as an
unknown workload, with the list; every list in the help is read from the library's registries, and the options the
commands share live in `qec.cli.mitigate_options`.

>>> from qec.cli.main import main
>>> main(["mitigate", "ghz", "--qubits", "3", "--technique", "nope"])
2
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from qec import decoders
from qec.cli.kicked_ising import kicked_ising_command
from qec.cli.mitigate_options import (
    LRE_DEFAULTS,
    PEC_DEFAULTS,
    TWIRL_DEFAULTS,
    ZNE_DEFAULTS,
    AsJson,
    Device,
    Factory,
    LreChunks,
    LreDegree,
    Method,
    Noise,
    PecSamples,
    ScaleFactors,
    Scaling,
    Seed,
    Shots,
    Technique,
    Threads,
    TwirlVariants,
    factors_text,
    listed,
    run_on_aer,
    scale_factors_of,
    technique_options,
)
from qec.cli.output import echo_json
from qec.cli.vqe import vqe_command
from qec.errors import QecInputError, unknown_choice
from qec.mitigation import (
    LOGICAL_FAMILIES,
    WORKLOADS,
    NoiseSpec,
    ZneOptions,
    mitigate,
    mitigate_logical_memory,
    mitigate_workload,
)
from qec.mitigation.backends import gpu_available
from qec.mitigation.logical import LOGICAL_ZNE_OPTIONS
from qec.mitigation.observables import MAX_BITSTRING_QUBITS, MAX_IDEAL_STATEVECTOR_QUBITS
from qec.mitigation.report import MitigationReport
from qec.mitigation.runs import LOGICAL_NOISE, WORKLOAD_NOISE
from qec.mitigation.user_circuits import load_circuit
from qec.text import printable_lines

_WORKLOAD_NOISE_TEXT, _LOGICAL_NOISE_TEXT = WORKLOAD_NOISE.describe(), LOGICAL_NOISE.describe()


class _WorkloadGroup(TyperGroup):
    """`qec mitigate`'s subcommands; a first argument that names none of them is an unknown workload."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            ctx.fail(
                f"Missing argument 'WORKLOAD': one of {listed(WORKLOADS)}, or 'circuit FILE', or 'logical FAMILY'."
            )
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name = args[0] if args else None
        if name is not None and name not in self.commands and not name.startswith("-") and not ctx.resilient_parsing:
            raise unknown_choice("workload", name, WORKLOADS)
        return super().resolve_command(ctx, args)


mitigate_app = typer.Typer(
    name="mitigate",
    cls=_WorkloadGroup,
    add_completion=False,
    help="Run a workload, your own circuit (circuit FILE), or a code's memory experiment (logical), on Aer noise, "
    "noisy and mitigated with Mitiq.",
)

# Options of workload runs (the options all runs share: `qec.cli.mitigate_options`).
Qubits = Annotated[int, typer.Option(help="Qubits of the workload.")]

# Options of logical runs.
Family = Annotated[
    str | None, typer.Argument(metavar="FAMILY", help=f"The code: {listed(LOGICAL_FAMILIES)}.", show_default=False)
]
Distance = Annotated[int, typer.Option(help="Code distance.")]
Rounds = Annotated[int | None, typer.Option(help="Syndrome rounds (default: the distance).")]
StimShots = Annotated[int, typer.Option(help="Shots of Stim's twirled estimate.")]
Decoder = Annotated[str, typer.Option(help=f"Decoder of the syndromes: {listed(decoders.names())}.")]
LogicalScaleFactors = Annotated[
    str | None,
    typer.Option(
        help="ZNE scale factors, comma-separated, distinct, >= 1, the first 1 (gates folded at random).",
        show_default=factors_text(LOGICAL_ZNE_OPTIONS.scale_factors),
    ),
]
# The other kind's options, hidden: before `logical` was a subcommand of its own, one command took every option
# for both kinds of run and ignored those of the other kind, so command lines that give them still run.
IgnoredInt = Annotated[int | None, typer.Option(hidden=True)]
IgnoredText = Annotated[str | None, typer.Option(hidden=True)]


def _workload_command(name: str) -> Callable[..., None]:
    """The `qec mitigate NAME` command of the workload `name`."""

    def command(
        qubits: Qubits = 4,
        noise: Noise = _WORKLOAD_NOISE_TEXT,
        technique: Technique = "zne",
        factory: Factory = ZNE_DEFAULTS.factory,
        scaling: Scaling = ZNE_DEFAULTS.scaling,
        scale_factors: ScaleFactors = None,
        device: Device = "auto",
        method: Method = "auto",
        shots: Shots = 4000,
        pec_samples: PecSamples = PEC_DEFAULTS.samples,
        twirl_variants: TwirlVariants = TWIRL_DEFAULTS.variants,
        lre_degree: LreDegree = LRE_DEFAULTS.degree,
        lre_chunks: LreChunks = LRE_DEFAULTS.chunks,
        seed: Seed = 0,
        threads: Threads = 0,
        as_json: AsJson = False,
        distance: IgnoredInt = None,
        rounds: IgnoredInt = None,
        stim_shots: IgnoredInt = None,
        decoder: IgnoredText = None,
    ) -> None:
        options = technique_options(
            technique,
            factory=factory,
            scaling=scaling,
            scale_factors=scale_factors,
            pec_samples=pec_samples,
            twirl_variants=twirl_variants,
            lre_degree=lre_degree,
            lre_chunks=lre_chunks,
        )
        report = run_on_aer(
            f"running {name} on Aer ...",
            lambda: mitigate_workload(
                name,
                qubits=qubits,
                noise=NoiseSpec.parse(noise),
                technique=technique,
                options=options,
                device=device,
                method=method,
                shots=shots,
                seed=seed,
                threads=threads,
            ),
        )
        if as_json:
            echo_json(report.as_dict())
            return
        _print(report, device)

    return command


for _name, _make in WORKLOADS.items():  # the help of each: the first line of its function's docstring
    mitigate_app.command(_name, help=(_make.__doc__ or _name).strip().splitlines()[0])(_workload_command(_name))


CircuitFile = Annotated[
    str | None,
    typer.Argument(
        metavar="FILE",
        help="OpenQASM 2, OpenQASM 3 or Qiskit QPY file (told apart by content; never pickle). Final measurements "
        "are removed; mid-circuit measurement, reset after a gate and classical control are refused.",
        show_default=False,
    ),
]
ObservableText = Annotated[
    str | None,
    typer.Option(
        help="Pauli sum, one letter of I, X, Y, Z per qubit, the LEFTMOST LETTER ON QUBIT 0 (q[0] of the file; "
        "Qiskit labels run the other way), e.g. 'ZZII + 0.5*XXXX - 0.2*IYZI'; or bitstring:0101, the probability "
        f"of that outcome (leftmost bit = qubit 0, at most {MAX_BITSTRING_QUBITS} qubits).",
        show_default=False,
    ),
]


@mitigate_app.command(
    "circuit",
    help="Your own circuit and observable: noisy and mitigated, beside the ideal value where it can be computed "
    f"(Clifford circuits by the stabilizer method, others by statevector up to {MAX_IDEAL_STATEVECTOR_QUBITS} qubits; "
    "else shown as unknown, with noisy vs mitigated and their error bars).",
)
def circuit_command(
    file: CircuitFile = None,
    observable: ObservableText = None,
    noise: Noise = _WORKLOAD_NOISE_TEXT,
    technique: Technique = "zne",
    factory: Factory = ZNE_DEFAULTS.factory,
    scaling: Scaling = ZNE_DEFAULTS.scaling,
    scale_factors: ScaleFactors = None,
    device: Device = "auto",
    method: Method = "auto",
    shots: Shots = 4000,
    pec_samples: PecSamples = PEC_DEFAULTS.samples,
    twirl_variants: TwirlVariants = TWIRL_DEFAULTS.variants,
    lre_degree: LreDegree = LRE_DEFAULTS.degree,
    lre_chunks: LreChunks = LRE_DEFAULTS.chunks,
    seed: Seed = 0,
    threads: Threads = 0,
    as_json: AsJson = False,
) -> None:
    """`qec mitigate circuit FILE --observable OBS`: loads FILE (`user_circuits.load_circuit`), calls `mitigate`."""
    if file is None:
        raise QecInputError("'qec mitigate circuit' needs a FILE: an OpenQASM 2, OpenQASM 3 or QPY circuit")
    if observable is None:
        raise QecInputError(
            "'qec mitigate circuit' needs --observable: a Pauli sum such as 'ZZII + 0.5*XXXX' (qubit 0 leftmost) "
            "or bitstring:0101"
        )
    options = technique_options(
        technique,
        factory=factory,
        scaling=scaling,
        scale_factors=scale_factors,
        pec_samples=pec_samples,
        twirl_variants=twirl_variants,
        lre_degree=lre_degree,
        lre_chunks=lre_chunks,
    )
    spec = NoiseSpec.parse(noise)
    circuit = load_circuit(file)
    report = run_on_aer(
        f"running {file} on Aer ...",
        lambda: mitigate(
            circuit,
            observable,
            noise=spec,
            technique=technique,
            options=options,
            device=device,
            method=method,
            shots=shots,
            seed=seed,
            threads=threads,
            name=Path(file).name,
        ),
    )
    if as_json:
        echo_json(report.as_dict())
        return
    _print(report, device)


@mitigate_app.command("logical")
def logical_command(
    family: Family = None,
    distance: Distance = 3,
    rounds: Rounds = None,
    noise: Noise = _LOGICAL_NOISE_TEXT,
    factory: Factory = LOGICAL_ZNE_OPTIONS.factory,
    scale_factors: LogicalScaleFactors = None,
    device: Device = "auto",
    method: Method = "auto",
    shots: Shots = 4000,
    stim_shots: StimShots = 100_000,
    decoder: Decoder = "pymatching",
    seed: Seed = 0,
    threads: Threads = 0,
    as_json: AsJson = False,
    technique: Annotated[str, typer.Option(hidden=True)] = "zne",
    qubits: IgnoredInt = None,
    scaling: IgnoredText = None,
    pec_samples: IgnoredInt = None,
) -> None:
    """A code's memory experiment on Aer: its logical error rate noisy, beside Stim's Pauli-twirled estimate,
    and mitigated with ZNE."""
    options = ZneOptions(factory, "random", scale_factors_of(scale_factors, default=LOGICAL_ZNE_OPTIONS))
    if family is None:
        raise QecInputError(f"'qec mitigate logical' needs a FAMILY: {listed(LOGICAL_FAMILIES)}")
    if technique != "zne":
        raise QecInputError(f"logical runs take --technique zne, not {technique!r}")
    logical = run_on_aer(
        f"running logical {family} on Aer ...",
        lambda: mitigate_logical_memory(
            family,
            distance=distance,
            rounds=rounds,
            noise=NoiseSpec.parse(noise),
            device=device,
            method=method,
            shots=shots,
            stim_shots=stim_shots,
            decoder=decoder,
            seed=seed,
            threads=threads,
            zne_options=options,
        ),
    )
    if as_json:
        echo_json(logical.as_dict())
        return
    _print(logical.mitigation, device)
    typer.echo(
        f"logical error rate: noisy {logical.logical_error_rate_noisy:.4g} "
        f"± {logical.logical_error_rate_noisy_standard_error:.2g} (Aer), "
        f"mitigated {logical.logical_error_rate_mitigated:.4g}"
        f"{_error_bar(logical.logical_error_rate_mitigated_standard_error)}, "
        f"Stim (Pauli-twirled) {logical.stim_estimate:.4g} ± {logical.stim_estimate_standard_error:.2g}"
    )


def _error_bar(standard_error: float | None) -> str:
    return " (no error bar)" if standard_error is None else f" ± {standard_error:.2g}"


def _print(report: MitigationReport, requested_device: str) -> None:
    why = f" (auto: {'GPU found' if gpu_available() else 'no GPU, CPU used'})" if requested_device == "auto" else ""
    first, _, rest = report.describe().partition("\n")
    head, _, tail = first.partition(f" on {report.device}")
    typer.echo(printable_lines(f"{head} on {report.device}{why}{tail}\n{rest}"))


mitigate_app.command("vqe")(vqe_command)
mitigate_app.command("kicked-ising")(kicked_ising_command)

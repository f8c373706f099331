"""`qec codes` and `qec circuit`: what families and noise models exist, and their Stim circuits."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from qec import codes, decoders, noise
from qec.cli.options import (
    Basis,
    Bias,
    CodeFile,
    DecoderOption,
    ErasureFraction,
    ExperimentName,
    ExperimentOption,
    Pauli,
    Plugin,
    StudyDecoder,
    load_plugins,
    one_erasure_fraction,
    parse_experiment_options,
    study_spec,
)
from qec.engine import check_decoders
from qec.errors import QecInputError
from qec.experiments import experiment_distance, experiments
from qec.outputs import check_output_path, write_text_atomically
from qec.parts import StudySpec
from qec.text import printable

# The hgp family's codes listed by `qec codes` (any distance >= 2 is allowed).
LISTED_HGP_DISTANCES = (3, 4, 5, 6)


def codes_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    code: CodeFile = None,
    experiment: Annotated[
        Optional[str],
        typer.Option("--experiment", help="Report this experiment's circuit-level distance (see the list below)."),
    ] = None,
    family: Annotated[str, typer.Option("--family", help="With --experiment: the code family.")] = "surface",
    distance: Annotated[
        Optional[int], typer.Option(help="With --experiment: the distance (default: the experiment's smallest).")
    ] = None,
    experiment_option: ExperimentOption = None,
    rounds: Annotated[
        Optional[int],
        typer.Option(help="With --code or --experiment: rounds of the circuit searched (default 3; the distance)."),
    ] = None,
    basis: Annotated[str, typer.Option(help="With --code or --experiment: that circuit's basis, X or Z.")] = "Z",
    noise_name: Annotated[
        str, typer.Option("--noise", help="With --code or --experiment: noise model of that circuit.")
    ] = "sd6",
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", help="With --code or --experiment: time for each distance search.")
    ] = 10.0,
    plugin: Plugin = None,
) -> None:
    """List the code families, noise models and decoders with their parameters; with --code, describe your CSS
    code: n, k, its distance and the circuit-level distance of its memory experiment; with --experiment, report
    that experiment's circuit-level distance."""
    load_plugins(plugin)
    if code is not None and experiment is not None:
        raise QecInputError(
            "give --code (your code's memory) or --experiment (a built-in family's experiment), not both"
        )
    if code is not None:
        _describe_user_code(
            code,
            rounds=3 if rounds is None else rounds,
            basis=basis,
            noise_name=noise_name,
            max_seconds=max_seconds,
            as_json=as_json,
        )
        return
    if experiment is not None:
        _describe_experiment(
            StudySpec.of(
                family,
                experiment=experiment,
                experiment_options=parse_experiment_options(experiment_option or ()),
                rounds=rounds,
                basis=basis,
            ),
            distance=distance,
            noise_name=noise_name,
            max_seconds=max_seconds,
            as_json=as_json,
        )
        return
    families: list[dict[str, Any]] = [
        {
            "name": f.name,
            "description": f.description,
            "bases": list(f.bases),
            "distances": f.allowed_distances,
            "matchable": f.matchable,
            **({"codes": _listed_codes(f)} if f.code is not None else {}),
        }
        for f in codes.families().values()
        if f.name != codes.USER_FAMILY
    ]
    models = [
        {
            "name": m.name,
            "description": m.description,
            "pauli": list(m.pauli_kinds),
            "bias": "biased" in m.pauli_kinds,
            "erasure_fraction": m.default_erasure_fraction,
            "scan_range": None if m.scan_range is None else list(m.scan_range),
        }
        for m in noise.noise_families().values()
    ]
    experiment_list: list[dict[str, Any]] = [
        {
            "name": e.name,
            "description": e.description,
            "options": dict(e.options),
            "unit": e.unit,
            "distances": list(e.distances),
            "decoder": e.decoder,
            "unmatchable_decoder": e.unmatchable_decoder,
        }
        for e in experiments().values()
    ]
    decoder_list: list[dict[str, Any]] = [
        {
            "name": name,
            "description": decoders.entry(name).description,
            "options": {key: _shown_default(value) for key, value in decoders.entry(name).options().items()},
        }
        for name in decoders.names()
    ]
    if as_json:
        listing = {"families": families, "noise_models": models, "experiments": experiment_list}
        typer.echo(json.dumps(listing | {"decoders": decoder_list}, indent=2))
        return
    typer.echo("Code families (qec circuit FAMILY --distance D --rounds R --basis X|Z):")
    for f in families:
        typer.echo(printable(f"  {f['name']:<18} {f['description']}; bases {'/'.join(f['bases'])}; {f['distances']}"))
        for listed in f.get("codes", []):
            typer.echo(
                f"  {'':<18}   --distance {listed['distance']:<3} {listed['name']} "
                f"[[{listed['n']},{listed['k']},{listed['d']}]]"
            )
    typer.echo(
        f"  {codes.USER_FAMILY:<18} your own CSS code: qec circuit css --code FILE.npz (hx, hz) or HX.alist,HZ.alist"
    )
    typer.echo("Noise models (--noise MODEL --p P [--pauli KIND] [--bias ETA] [--erasure-fraction R_E]):")
    for m in models:
        typer.echo(printable(f"  {m['name']:<18} {m['description']}"))
    typer.echo("Experiments (--experiment NAME [--experiment-option KEY=N ...]; rates per operation of its unit):")
    for e in experiment_list:
        options = ", ".join(f"{key}={value}" for key, value in e["options"].items()) or "no options"
        typer.echo(printable(f"  {e['name']:<18} {e['description']}; per {e['unit']}; {options}"))
    typer.echo("Decoders (--decoder NAME [--decoder-option KEY=VALUE ...]):")
    for d in decoder_list:
        options = ", ".join(f"{key}={value}" for key, value in d["options"].items()) or "no options"
        typer.echo(printable(f"  {d['name']:<18} {d['description']}; {options}"))


def _shown_default(value: Any) -> Any:
    """An option's default as JSON shows it (`required` for none)."""
    if value is inspect.Parameter.empty:
        return "required"
    return list(value) if isinstance(value, tuple) else value


def circuit_command(
    family: Annotated[str, typer.Argument(help=f"{', '.join(codes.FAMILIES)}, or css with --code FILE.")],
    distance: Annotated[
        Optional[int], typer.Option(help="Code distance (default: the experiment's smallest default, 3; stability 4).")
    ] = None,
    rounds: Annotated[Optional[int], typer.Option(help="Syndrome rounds (default: the distance).")] = None,
    basis: Basis = "Z",
    noise_name: Annotated[str, typer.Option("--noise", help="Noise model (see `qec codes`).")] = "none",
    p: Annotated[float, typer.Option("--p", help="Physical error probability in [0, 1].")] = 0.001,
    pauli: Pauli = None,
    bias: Bias = None,
    erasure_fraction: ErasureFraction = None,
    experiment: ExperimentName = "memory",
    experiment_option: ExperimentOption = None,
    decoder: StudyDecoder = None,
    decoder_option: DecoderOption = None,
    out: Annotated[Optional[Path], typer.Option(help="Write the circuit here instead of printing it.")] = None,
    diagram: Annotated[Optional[Path], typer.Option(help="Write Stim's timeline diagram (SVG) here.")] = None,
    code: CodeFile = None,
    plugin: Plugin = None,
) -> None:
    """Print (or write) the Stim circuit of an experiment (default: memory) under a noise model (--decoder and its
    options are checked against it, as `collect` and `threshold` would)."""
    load_plugins(plugin)
    spec, user = study_spec(
        family,
        code=code,
        noise=noise_name,
        pauli=pauli,
        bias=bias,
        erasure_fraction=one_erasure_fraction(erasure_fraction, "circuit"),
        experiment=experiment,
        experiment_option=experiment_option,
        rounds=rounds,
        basis=basis,
        decoder=decoder,
        decoder_option=decoder_option,
    )
    if user is not None:
        distance = user.min_distance
    elif distance is None:
        distance = spec.experiment.default_distances[0]
    if out is not None:
        check_output_path(out, suffixes=(".stim",))
    if diagram is not None:
        check_output_path(diagram, suffixes=(".svg",))
    task = spec.task(distance=distance, p=p)
    check_decoders([task])
    circuit = task.circuit
    if diagram is not None:
        write_text_atomically(diagram, str(circuit.diagram("timeline-svg")))
    if out is not None:
        write_text_atomically(out, str(circuit) + "\n")
        typer.echo(
            f"wrote {out}: {circuit.num_qubits} qubits, {circuit.num_detectors} detectors, "
            f"{circuit.num_observables} observable(s)",
            err=True,
        )
    else:
        typer.echo(str(circuit))


def _listed_codes(family: codes.CodeFamily) -> list[dict[str, Any]]:
    """n, k and the published (bb) or known (hgp: toric) distance of a css-built family's codes."""
    assert family.code is not None
    distances = family.distances if family.distances is not None else LISTED_HGP_DISTANCES
    listed = []
    for d in distances:
        code = family.code(d)
        listed.append({"distance": d, "name": code.name, "n": code.n, "k": code.k, "d": d})
    return listed


def _describe_experiment(
    spec: StudySpec, *, distance: int | None, noise_name: str, max_seconds: float, as_json: bool
) -> None:
    """Prints the circuit-level distance of `spec`'s experiment at `distance` (default: its smallest default)."""
    distance = spec.experiment.default_distances[0] if distance is None else distance
    found = experiment_distance(
        codes.family(spec.family), spec.experiment, distance=distance, noise=noise_name, max_seconds=max_seconds
    )
    report = {
        "family": spec.family,
        "experiment": spec.experiment.name,
        "distance": distance,
        "rounds": spec.experiment.rounds_at(distance),
        "basis": spec.experiment.basis,
        "experiment_options": dict(spec.experiment.options),
        "noise": noise_name,
        "circuit_distance": found.as_dict(),
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    options = "".join(f", {key}={value}" for key, value in spec.experiment.options.items())
    typer.echo(
        f"{spec.experiment.name} on {spec.family}, d = {distance}, {report['rounds']} rounds, basis "
        f"{spec.experiment.basis}{options}, {noise_name} noise: circuit-level distance {found.describe()}"
    )
    if found.stim is not None:
        typer.echo(f"  Stim's search ({found.stim.seconds:.1f} s): {found.stim.describe()}")


def _describe_user_code(
    path: str, *, rounds: int, basis: str, noise_name: str, max_seconds: float, as_json: bool
) -> None:
    from qec.codes.distance import circuit_distance, code_distance
    from qec.codes.matrices import load_css_code

    code = load_css_code(path)
    if not max_seconds > 0:
        raise QecInputError(f"max_seconds must be > 0, got {max_seconds}")
    distance = code_distance(code, max_seconds=max_seconds)
    circuit = noise.noise_model(noise_name, 0.001).apply(code.memory_circuit(rounds=rounds, basis=basis))
    found = circuit_distance(circuit, max_seconds=max_seconds)
    report = {
        "name": code.name,
        "n": code.n,
        "k": code.k,
        "x_checks": int(code.hx.shape[0]),
        "z_checks": int(code.hz.shape[0]),
        "distance": distance.as_dict(),
        "circuit": {"rounds": rounds, "basis": basis.upper(), "noise": noise_name, "distance": found.as_dict()},
        "schedule": code.schedule.description,
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(
        printable(f"{code.name}: [[{code.n},{code.k}]], {code.hx.shape[0]} X checks, {code.hz.shape[0]} Z checks")
    )
    typer.echo(f"distance: {distance.describe()}")
    typer.echo(
        f"circuit-level distance ({rounds} rounds, {basis.upper()} memory, {noise_name} noise): {found.describe()}"
    )
    if found.stim is not None:
        typer.echo(f"  Stim's search ({found.stim.seconds:.1f} s): {found.stim.describe()}")
    typer.echo(printable(f"schedule: {code.schedule.description}"))

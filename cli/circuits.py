"""`qec codes` and `qec circuit`: what families and noise models exist, and their Stim circuits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from qec import codes, memory, noise
from qec.cli.options import CodeFile
from qec.errors import QecInputError
from qec.outputs import check_output_path, write_text_atomically
from qec.task import Task

# The hgp family's codes listed by `qec codes` (any distance >= 2 is allowed).
LISTED_HGP_DISTANCES = (3, 4, 5, 6)


def codes_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    code: CodeFile = None,
    rounds: Annotated[int, typer.Option(help="With --code: rounds of the circuit whose distance is searched.")] = 3,
    basis: Annotated[str, typer.Option(help="With --code: memory basis of that circuit, X or Z.")] = "Z",
    noise_name: Annotated[str, typer.Option("--noise", help="With --code: noise model of that circuit.")] = "sd6",
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", help="With --code: time for each distance search.")
    ] = 10.0,
) -> None:
    """List the code families and noise models with their parameters; with --code, describe your CSS code:
    n, k, its distance and the circuit-level distance of its memory experiment."""
    if code is not None:
        _describe_user_code(
            code, rounds=rounds, basis=basis, noise_name=noise_name, max_seconds=max_seconds, as_json=as_json
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
        for f in codes.FAMILIES.values()
    ]
    models = [
        {"name": m.name, "description": m.description, "pauli": list(m.pauli_kinds)}
        for m in noise.NOISE_FAMILIES.values()
    ]
    if as_json:
        typer.echo(json.dumps({"families": families, "noise_models": models}, indent=2))
        return
    typer.echo("Code families (qec circuit FAMILY --distance D --rounds R --basis X|Z):")
    for f in families:
        typer.echo(f"  {f['name']:<18} {f['description']}; bases {'/'.join(f['bases'])}; {f['distances']}")
        for listed in f.get("codes", []):
            typer.echo(
                f"  {'':<18}   --distance {listed['distance']:<3} {listed['name']} "
                f"[[{listed['n']},{listed['k']},{listed['d']}]]"
            )
    typer.echo(
        f"  {codes.USER_FAMILY:<18} your own CSS code: qec circuit css --code FILE.npz (hx, hz) or HX.alist,HZ.alist"
    )
    typer.echo("Noise models (--noise MODEL --p P [--pauli KIND] [--bias ETA]):")
    for m in models:
        typer.echo(f"  {m['name']:<18} {m['description']}")


def circuit_command(
    family: Annotated[str, typer.Argument(help=f"{', '.join(codes.FAMILIES)}, or css with --code FILE.")],
    distance: Annotated[int, typer.Option(help="Code distance.")] = 3,
    rounds: Annotated[Optional[int], typer.Option(help="Syndrome rounds (default: the distance).")] = None,
    basis: Annotated[str, typer.Option(help="Memory basis, X or Z.")] = "Z",
    noise_name: Annotated[str, typer.Option("--noise", help="Noise model (see `qec codes`).")] = "none",
    p: Annotated[float, typer.Option("--p", help="Physical error probability in [0, 1].")] = 0.001,
    pauli: Annotated[
        Optional[str], typer.Option(help="depolarizing or independent (code-capacity, phenomenological).")
    ] = None,
    bias: Annotated[float, typer.Option(help="Z bias eta of the biased model.")] = 10.0,
    out: Annotated[Optional[Path], typer.Option(help="Write the circuit here instead of printing it.")] = None,
    diagram: Annotated[Optional[Path], typer.Option(help="Write Stim's timeline diagram (SVG) here.")] = None,
    code: CodeFile = None,
) -> None:
    """Print (or write) the Stim circuit of a memory experiment under a noise model."""
    user = user_family(family, code)
    if user is not None:
        distance = user.min_distance
    if out is not None:
        check_output_path(out, suffixes=(".stim",))
    if diagram is not None:
        check_output_path(diagram, suffixes=(".svg",))
    circuit = memory.noisy_memory_circuit(
        family, distance=distance, rounds=rounds, basis=basis, noise=noise_name, p=p, pauli=pauli, bias=bias
    )
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
    typer.echo(f"{code.name}: [[{code.n},{code.k}]], {code.hx.shape[0]} X checks, {code.hz.shape[0]} Z checks")
    typer.echo(f"distance: {distance.describe()}")
    typer.echo(
        f"circuit-level distance ({rounds} rounds, {basis.upper()} memory, {noise_name} noise): {found.describe()}"
    )
    if found.stim is not None:
        typer.echo(f"  Stim's search ({found.stim.seconds:.1f} s): {found.stim.describe()}")
    typer.echo(f"schedule: {code.schedule.description}")


def user_family(family: str, code: str | None) -> codes.CodeFamily | None:
    """The registered family of the --code file when `family` is css; None for a built-in family (which takes
    no --code)."""
    if family != codes.USER_FAMILY:
        if code is not None:
            raise QecInputError(f"code= is for the family {codes.USER_FAMILY} (your own CSS code), not '{family}'")
        return None
    if code is None:
        codes.family(family)  # raises: the css family needs a code
    from qec.codes.matrices import css_family_from_file

    assert code is not None
    return css_family_from_file(code)


def with_code_metadata(tasks: list[Task], user: codes.CodeFamily | None) -> list[Task]:
    """`tasks` with the user code's name, n and k added to their metadata (unchanged for a built-in family)."""
    if user is None or user.code is None:
        return tasks
    code = user.code(user.min_distance)
    extra = {"code": code.name, "n": code.n, "k": code.k}
    return [dataclasses.replace(task, metadata={**task.metadata, **extra}) for task in tasks]

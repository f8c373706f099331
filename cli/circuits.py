"""`qec codes` and `qec circuit`: what families and noise models exist, and their Stim circuits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from qec import codes, memory, noise
from qec.outputs import check_output_path, write_text_atomically


def codes_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List the code families and noise models with their parameters."""
    families: list[dict[str, Any]] = [
        {
            "name": f.name,
            "description": f.description,
            "bases": list(f.bases),
            "distances": f.allowed_distances,
            "matchable": f.matchable,
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
    typer.echo("Noise models (--noise MODEL --p P [--pauli KIND] [--bias ETA]):")
    for m in models:
        typer.echo(f"  {m['name']:<18} {m['description']}")


def circuit_command(
    family: Annotated[str, typer.Argument(help="surface, unrotated-surface, repetition, shor or color.")],
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
) -> None:
    """Print (or write) the Stim circuit of a memory experiment under a noise model."""
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

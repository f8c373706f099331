"""`qec mitigate WORKLOAD` and `qec mitigate logical FAMILY`: Mitiq on Aer, ideal vs noisy vs mitigated.

>>> from qec.cli.main import main
>>> main(["mitigate", "ghz", "--qubits", "3", "--technique", "nope"])
2
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.console import Console

from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, ZneOptions, run, run_logical
from qec.mitigation.backends import gpu_available
from qec.mitigation.report import MitigationReport


def mitigate_command(
    workload: Annotated[str, typer.Argument(help="ghz, mirror, qaoa, tfim, grover, rb, or 'logical'.")],
    family: Annotated[Optional[str], typer.Argument(help="With 'logical': repetition, shor or surface.")] = None,
    qubits: Annotated[int, typer.Option(help="Qubits of the workload.")] = 4,
    noise: Annotated[Optional[str], typer.Option(
        help="Comma-separated key=value: p1, p2 (depolarizing), readout, t1, t2 (us), t1q, t2q (gate ns), "
             "rotation (rad), or fake=NAME alone: an IBM fake backend's calibrated noise and layout, e.g. "
             "fake=FakeManilaV2 (needs qiskit-ibm-runtime; REM then uses its per-qubit readout errors). "
             "Default p2=0.01 (logical: p2=0.01,readout=0.01).")] = None,
    technique: Annotated[str, typer.Option(help="zne, pec, rem, ddd, cdr, rem+zne or none (logical: zne).")] = "zne",
    factory: Annotated[str, typer.Option(
        help="ZNE factory: richardson, linear, exponential or poly-exp.")] = "richardson",
    scaling: Annotated[str, typer.Option(help="ZNE noise scaling: global, random or identity.")] = "global",
    scale_factors: Annotated[Optional[str], typer.Option(
        help="ZNE scale factors, comma-separated, >= 1 (default 1,3,5; logical: 1,1.5,2).")] = None,
    device: Annotated[str, typer.Option(help="auto (GPU if there, else CPU), cpu or gpu.")] = "auto",
    method: Annotated[str, typer.Option(help="auto, statevector, density_matrix or stabilizer.")] = "auto",
    shots: Annotated[int, typer.Option(help="Shots per circuit.")] = 4000,
    pec_samples: Annotated[int, typer.Option(help="Circuits PEC samples.")] = 200,
    distance: Annotated[int, typer.Option(help="Code distance (logical).")] = 3,
    rounds: Annotated[Optional[int], typer.Option(help="Syndrome rounds (logical; default: the distance).")] = None,
    stim_shots: Annotated[int, typer.Option(help="Shots of Stim's twirled estimate (logical).")] = 100_000,
    decoder: Annotated[str, typer.Option(help="Decoder of the syndromes (logical).")] = "pymatching",
    seed: Annotated[int, typer.Option(help="Seed of the workload, sampling and simulation.")] = 0,
    threads: Annotated[int, typer.Option(help="Aer threads (0: all cores).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a workload (or a code's memory experiment) on Aer noise, noisy and mitigated with Mitiq."""
    factors = _scale_factors(scale_factors or ("1,1.5,2" if workload == "logical" else "1,3,5"))
    console = Console(stderr=True)
    with console.status(f"running {workload} on Aer ..."):
        if workload == "logical":
            if family is None:
                raise QecInputError("'qec mitigate logical' needs a FAMILY: repetition, shor or surface")
            if technique != "zne":
                raise QecInputError(f"logical runs take --technique zne, not {technique!r}")
            spec = NoiseSpec.parse(noise if noise is not None else "p2=0.01,readout=0.01")
            logical = run_logical(family, distance=distance, rounds=rounds, noise=spec, device=device, method=method,
                                  shots=shots, stim_shots=stim_shots, decoder=decoder, seed=seed, threads=threads,
                                  zne_options=ZneOptions(factory, "random", factors))
            report, extra = logical.mitigation, logical.to_json()
        else:
            if family is not None:
                raise QecInputError(f"unexpected argument {family!r}: only 'logical' takes a FAMILY")
            spec = NoiseSpec.parse(noise if noise is not None else "p2=0.01")
            report = run(workload, qubits=qubits, noise=spec, technique=technique, device=device, method=method,
                         shots=shots, seed=seed, threads=threads, pec_samples=pec_samples,
                         zne_options=ZneOptions(factory, scaling, factors))
            extra = report.to_json()
    if as_json:
        typer.echo(json.dumps(extra))
        return
    _print(report, device)
    if workload == "logical":
        typer.echo(f"logical error rate: noisy {logical.logical_error_rate_noisy:.4g} "
                   f"± {logical.logical_error_rate_noisy_standard_error:.2g} (Aer), "
                   f"mitigated {logical.logical_error_rate_mitigated:.4g}, "
                   f"Stim (Pauli-twirled) {logical.stim_estimate:.4g} ± {logical.stim_estimate_standard_error:.2g}")


def _print(report: MitigationReport, requested_device: str) -> None:
    why = f" (auto: {'GPU found' if gpu_available() else 'no GPU, CPU used'})" if requested_device == "auto" else ""
    typer.echo(f"{report.workload} [{report.qubits} qubits, noise {report.noise}] on {report.device}{why}, "
               f"method {report.method}, technique {report.technique}")
    error = f" ± {report.standard_error:.2g}" if report.standard_error is not None else ""
    typer.echo(f"  ideal     {report.ideal:.6g}\n  noisy     {report.noisy:.6g}\n"
               f"  mitigated {report.mitigated:.6g}{error}")
    typer.echo(f"  error reduction |noisy-ideal|/|mitigated-ideal| = {report.error_reduction:.3g}")
    typer.echo(f"  cost: {report.circuits} circuits, {report.shots} shots, {report.seconds:.2f} s")


def _scale_factors(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise QecInputError(f"bad --scale-factors {text!r}: give comma-separated numbers >= 1, e.g. 1,3,5") from None

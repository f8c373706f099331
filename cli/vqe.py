"""`qec mitigate vqe`: a VQE loop on Aer noise, the energy at every step noisy and mitigated, beside the exact
ground energy (calls `qec.mitigation.vqe.run_vqe`; `qec.cli.mitigate` registers the command on `mitigate_app`).

>>> from qec.cli.main import main
>>> main(["mitigate", "vqe", "--hamiltonian", "h2", "--qubits", "3"])
2
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qec.cli.mitigate_options import (
    ZNE_DEFAULTS,
    AsJson,
    Device,
    Factory,
    Method,
    Noise,
    ScaleFactors,
    Scaling,
    Seed,
    Shots,
    Technique,
    Threads,
    run_on_aer,
    technique_options,
)
from qec.cli.output import echo_json
from qec.errors import QecInputError
from qec.mitigation.hamiltonians import HAMILTONIANS
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.vqe import OPTIMIZERS, VQE_NOISE, VqeResult, plot_vqe, run_vqe
from qec.plot import check_plot_path
from qec.text import printable

_VQE_NOISE_TEXT = VQE_NOISE.describe()
HamiltonianName = Annotated[
    str, typer.Option(help=f"The Hamiltonian: {', '.join(HAMILTONIANS)} (h2: 2 qubits, STO-3G at 0.735 A).")
]
Qubits = Annotated[int, typer.Option(help="Qubits of the Hamiltonian and the ansatz.")]
Optimizer = Annotated[str, typer.Option(help=f"The optimizer: {', '.join(OPTIMIZERS)}.")]
Iterations = Annotated[int, typer.Option(help="COBYLA evaluations, or SPSA iterations.")]
Layers = Annotated[int, typer.Option(help="Entangling layers of the hardware-efficient ansatz (RY + CX ladder).")]
Plot = Annotated[Path | None, typer.Option(help="Write a PNG of the energy per step here.")]


def vqe_command(
    hamiltonian: HamiltonianName = "tfim",
    qubits: Qubits = 2,
    optimizer: Optimizer = "cobyla",
    iterations: Iterations = 20,
    technique: Technique = "zne",
    layers: Layers = 1,
    noise: Noise = _VQE_NOISE_TEXT,
    factory: Factory = ZNE_DEFAULTS.factory,
    scaling: Scaling = ZNE_DEFAULTS.scaling,
    scale_factors: ScaleFactors = None,
    device: Device = "auto",
    method: Method = "auto",
    shots: Shots = 4000,
    seed: Seed = 0,
    threads: Threads = 0,
    plot: Plot = None,
    as_json: AsJson = False,
) -> None:
    """VQE of a Hamiltonian with a hardware-efficient ansatz, minimizing the mitigated energy: every step's energy
    noisy and mitigated, beside the exact ground energy."""
    options = technique_options(technique, factory=factory, scaling=scaling, scale_factors=scale_factors)
    if plot is not None:
        check_plot_path(plot)  # a figure that cannot be written is refused before the run, not after it
    result = run_on_aer(
        f"VQE of {hamiltonian} on Aer ...",
        lambda: run_vqe(
            hamiltonian,
            qubits=qubits,
            optimizer=optimizer,
            iterations=iterations,
            technique=technique,
            options=options,
            noise=NoiseSpec.parse(noise),
            layers=layers,
            shots=shots,
            seed=seed,
            device=device,
            method=method,
            threads=threads,
        ),
    )
    if plot is not None:
        _save_plot(result, plot)
    if as_json:
        echo_json(result.as_dict())
        return
    typer.echo(
        printable(
            f"VQE {result.hamiltonian} [{result.qubits} qubits, {result.layers} layer(s), noise {result.noise}], "
            f"{result.optimizer}, minimizing the {result.technique}-mitigated energy"
        )
    )
    typer.echo(f"{'step':>5} {'noisy':>10} {'mitigated':>10} {'± 1σ':>7} {'ideal':>10}")
    for step in result.steps:
        error = f"{step.mitigated_standard_error:.2g}" if step.mitigated_standard_error is not None else "-"
        typer.echo(f"{step.step:>5} {step.noisy:>10.5f} {step.mitigated:>10.5f} {error:>7} {step.ideal:>10.5f}")
    final = result.final
    typer.echo(
        f"exact ground energy {result.exact_ground_energy:.5f}; final step: noisy off by "
        f"{abs(final.noisy - result.exact_ground_energy):.4f}, mitigated by "
        f"{abs(final.mitigated - result.exact_ground_energy):.4f}"
    )
    typer.echo(f"cost: {result.circuits} circuits, {result.shots} shots, {result.seconds:.2f} s")
    if plot is not None:
        typer.echo(printable(f"wrote {plot}"))


def _save_plot(result: VqeResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4.5))
    plot_vqe(result, ax)
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=120)
    except OSError as error:
        message = f"could not write the plot {path}: {error.strerror or error}; give --plot a writable path"
        raise QecInputError(message) from None
    finally:
        plt.close(figure)

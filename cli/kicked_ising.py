"""`qec mitigate kicked-ising`: the kicked Ising model of Kim et al. (2023) on a heavy-hex patch, noisy and mitigated
by ZNE (folding), PEA and PEC, with error bars and cost (calls `qec.mitigation.kicked_ising.run_kicked_ising`;
`qec.cli.mitigate` registers the command on `mitigate_app`).

>>> from qec.cli.main import main
>>> main(["mitigate", "kicked-ising", "--techniques", "nope"])
2
"""

from __future__ import annotations

from typing import Annotated

import typer

from qec.cli.mitigate_options import AsJson, Noise, Seed, Shots, run_on_aer
from qec.cli.output import echo_json
from qec.mitigation.kicked_ising import DEFAULT_BACKEND, DEFAULT_NOISE, TECHNIQUES, run_kicked_ising
from qec.mitigation.noise_models import NoiseSpec
from qec.text import printable_lines

Qubits = Annotated[
    int,
    typer.Option(
        help="Qubits of the heavy-hex patch (12: one heavy-hex cell; up to the device's 27). Noisy runs go by the "
        "stabilizer method at a Clifford angle, else a density matrix up to 10 qubits, statevector up to 13, "
        "matrix product state beyond."
    ),
]
Steps = Annotated[int, typer.Option(help="Trotter steps: RX(theta_h) on all qubits, then RZZ(-pi/2) per colour.")]
ThetaH = Annotated[
    float, typer.Option("--theta-h", help="Kick angle in radians; 0 and pi/2 (1.5707963267948966) are Clifford.")
]
Backend = Annotated[str, typer.Option(help="Fake IBM backend whose coupling map gives the patch.")]
Observable = Annotated[
    str | None,
    typer.Option(help="Pauli sum, leftmost letter on qubit 0 (default: the average magnetization, mean of Z_i)."),
]
Techniques = Annotated[str, typer.Option(help=f"Comma-separated, of {', '.join(TECHNIQUES)}.")]
SampleShots = Annotated[int, typer.Option(help="Shots per sampled circuit of PEA and PEC.")]
PecSamples = Annotated[int, typer.Option(help="Circuits PEC samples.")]
PeaSamples = Annotated[int, typer.Option(help="Circuits PEA samples per noise factor (1, 1.5, 2, 3).")]
LearningShots = Annotated[int, typer.Option(help="Shots per circuit of layer noise learning.")]
_NOISE_TEXT, _TECHNIQUES_TEXT = DEFAULT_NOISE.describe(), ",".join(TECHNIQUES)
LearningTwirls = Annotated[int, typer.Option(help="Twirls per basis and depth of layer noise learning.")]


def kicked_ising_command(
    qubits: Qubits = 12,
    steps: Steps = 2,
    theta_h: ThetaH = 0.0,
    noise: Noise = _NOISE_TEXT,
    backend: Backend = DEFAULT_BACKEND,
    observable: Observable = None,
    techniques: Techniques = _TECHNIQUES_TEXT,
    shots: Shots = 4000,
    sample_shots: SampleShots = 200,
    pec_samples: PecSamples = 200,
    pea_samples: PeaSamples = 50,
    learning_shots: LearningShots = 200,
    learning_twirls: LearningTwirls = 2,
    seed: Seed = 0,
    as_json: AsJson = False,
) -> None:
    """The kicked Ising model of Kim et al. on a heavy-hex patch: ideal, noisy, ZNE, PEA and PEC."""
    report = run_on_aer(
        "running kicked Ising on Aer ...",
        lambda: run_kicked_ising(
            qubits=qubits,
            steps=steps,
            theta_h=theta_h,
            noise=NoiseSpec.parse(noise),
            backend=backend,
            observable=observable,
            techniques=[t.strip() for t in techniques.split(",") if t.strip()],
            shots=shots,
            sample_shots=sample_shots,
            pec_samples=pec_samples,
            pea_samples=pea_samples,
            learning_shots=learning_shots,
            learning_twirls=learning_twirls,
            seed=seed,
        ),
    )
    if as_json:
        echo_json(report.as_dict())
        return
    typer.echo(printable_lines(report.describe()))

"""The kicked Ising magnetization against the kick angle theta_h: ideal, noisy, ZNE by folding, PEA and PEC.

Runs `qec.mitigation.kicked_ising.run_kicked_ising` at each angle on one heavy-hex patch, the layer noise learned
once (`learn_kicked_ising_noise`: the CX layers do not depend on theta_h), and draws docs/kicked_ising.png: the
ideal curve (exact: statevector on a fine grid), each technique's value with its 1-sigma error bar. PEA's
exponential fit has no value where the noisy values straddle zero (theta_h = pi/2, magnetization 0): that point
is left out of the figure (nan in the JSON).

    python bench/kicked_ising_sweep.py                  # 12 qubits, 2 steps, 7 angles: 9 min on 2 cores (29 loaded)
    python bench/kicked_ising_sweep.py --replot         # redraw the figure from bench/results/kicked_ising_sweep.json

Writes bench/results/kicked_ising_sweep.json (every report, as `KickedIsingReport.as_dict`) and the figure.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from qiskit.quantum_info import Statevector  # noqa: E402

from qec.mitigation.kicked_ising import (  # noqa: E402
    DEFAULT_NOISE,
    heavy_hex_patch,
    kicked_ising_circuit,
    learn_kicked_ising_noise,
    magnetization,
    run_kicked_ising,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "kicked_ising_sweep.json"
FIGURE = ROOT / "docs" / "kicked_ising.png"
ANGLES = (0.0, 0.3, 0.6, math.pi / 4, 1.0, 1.3, math.pi / 2)
STYLES = {
    "noisy": ("noisy", "tab:red", "s"),
    "zne (fold)": ("ZNE by folding", "tab:blue", "o"),
    "zne (pea)": ("ZNE by PEA", "tab:green", "^"),
    "pec": ("PEC", "tab:purple", "D"),
}


def ideal_curve(qubits: int, steps: int, angles: np.ndarray) -> np.ndarray:
    """The exact magnetization at each angle by Qiskit's statevector (independent of Aer)."""
    patch = heavy_hex_patch(qubits)
    operator = magnetization(qubits)
    return np.array(
        [
            float(
                Statevector(kicked_ising_circuit(patch, steps=steps, theta_h=float(a))).expectation_value(operator).real
            )
            for a in angles
        ]
    )


def plot_sweep(ax, reports: list[dict]) -> None:
    """Draws the ideal curve and each technique's points with 1-sigma error bars into `ax`."""
    qubits, steps = len(reports[0]["physical_qubits"]), reports[0]["steps"]
    grid = np.linspace(0, math.pi / 2, 49)
    ax.plot(grid, ideal_curve(qubits, steps, grid), color="black", lw=1.2, label="ideal")
    offsets = dict(zip(STYLES, (-0.024, -0.008, 0.008, 0.024)))  # side by side, so the bars do not overlap
    for technique, (label, colour, marker) in STYLES.items():
        rows = [(r["theta_h"], row) for r in reports for row in r["results"] if row["technique"] == technique]
        if rows:
            ax.errorbar(
                [theta + offsets[technique] for theta, _ in rows],
                [row["value"] for _, row in rows],
                yerr=[row["standard_error"] for _, row in rows],
                fmt=marker,
                color=colour,
                ms=4,
                capsize=2,
                label=label,
            )
    ax.set_xlabel(r"kick angle $\theta_h$ (rad)")
    ax.set_ylabel(r"magnetization $\langle \bar Z \rangle$")
    ax.set_title(f"kicked Ising, {qubits} heavy-hex qubits, {steps} steps, {reports[0]['noise']}", fontsize=9)
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=12)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--angles", type=str, default=",".join(repr(a) for a in ANGLES))  # pi/2 exact: Clifford
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--sample-shots", type=int, default=100)
    parser.add_argument("--pec-samples", type=int, default=100)
    parser.add_argument("--pea-samples", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replot", action="store_true", help="only redraw the figure from the saved results")
    args = parser.parse_args()
    if args.replot:
        reports = json.loads(RESULTS.read_text())["reports"]
    else:
        patch = heavy_hex_patch(args.qubits)
        start = time.perf_counter()
        learned = learn_kicked_ising_noise(patch, steps=args.steps, noise=DEFAULT_NOISE, seed=args.seed)
        learning_seconds = time.perf_counter() - start
        print(f"layer noise learned in {learning_seconds:.0f} s", flush=True)
        reports = []
        for angle in (float(a) for a in args.angles.split(",")):
            report = run_kicked_ising(
                qubits=args.qubits,
                steps=args.steps,
                theta_h=angle,
                shots=args.shots,
                sample_shots=args.sample_shots,
                pec_samples=args.pec_samples,
                pea_samples=args.pea_samples,
                learned=learned,
                seed=args.seed,
            )
            print(report.describe(), flush=True)
            reports.append(report.as_dict())
            RESULTS.write_text(json.dumps({"learning_seconds": learning_seconds, "reports": reports}, indent=1))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    plot_sweep(ax, reports)
    fig.tight_layout()
    fig.savefig(FIGURE, dpi=120)
    print(f"wrote {FIGURE.relative_to(ROOT)}" + ("" if args.replot else f" and {RESULTS.relative_to(ROOT)}"))


if __name__ == "__main__":
    main()

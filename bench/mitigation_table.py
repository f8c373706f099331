"""One table of technique x workload: error reduction and cost of each mitigation technique on Aer noise.

Workloads: the built-in GHZ, mirror and QAOA (`qec.mitigation.mitigate_workload`), a user QASM file that this
script writes (a 4-qubit non-Clifford circuit, observable "ZZII + 0.5*XXXX - 0.3*IZYZ", through
`qec.mitigation.mitigate` on the loaded file), and the final energy of a VQE loop (`qec.mitigation.vqe.run_vqe`,
H2 by COBYLA at `--vqe-shots`; its row's "ideal" is the energy at the final parameters, the exact ground energy
is printed under the table). Error reduction is |noisy - ideal| / |mitigated - ideal| ("exact" when the mitigated value
is the ideal); cost is the mitigated run's circuits (each measured group counts), shots and wall seconds.

    python bench/mitigation_table.py                      # all techniques, ~5-10 min on 2 cores
    python bench/mitigation_table.py --techniques zne,lre --shots 2000

Prints a markdown table; writes bench/results/mitigation_table.json.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import warnings
from pathlib import Path

from qec.mitigation import NoiseSpec, mitigate, mitigate_workload
from qec.mitigation.report import MitigationReport
from qec.mitigation.techniques import TECHNIQUES
from qec.mitigation.user_circuits import load_circuit
from qec.mitigation.vqe import run_vqe

NOISE = NoiseSpec(depolarizing_1q=0.001, depolarizing_2q=0.01, readout=0.01)
USER_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c[4];
h q[0];
ry(0.7) q[1];
cx q[0],q[1];
rz(0.4) q[1];
cx q[1],q[2];
ry(-0.5) q[2];
cx q[2],q[3];
rx(0.3) q[3];
cx q[0],q[3];
measure q -> c;
"""
USER_OBSERVABLE = "ZZII + 0.5*XXXX - 0.3*IZYZ"
# Every VQE step runs the technique afresh: PEC (200 circuits), CDR, DDD and auto (a calibration per step) are
# left out of the VQE rows.
VQE_TECHNIQUES = ("zne", "lre", "rem", "rem+zne", "pt+zne")


def reduction_text(noisy: float, mitigated: float, ideal: float) -> str:
    remaining = abs(mitigated - ideal)
    return "exact" if remaining == 0 else f"{abs(noisy - ideal) / remaining:.2f}x"


def row(workload: str, technique: str, report: MitigationReport) -> dict:
    ideal = report.ideal if report.ideal is not None else math.nan
    return {
        "workload": workload,
        "technique": technique,
        "ideal": ideal,
        "noisy": report.noisy,
        "mitigated": report.mitigated,
        "standard_error": report.standard_error,
        "reduction": reduction_text(report.noisy, report.mitigated, ideal),
        "circuits": report.circuits,
        "shots": report.shots,
        "seconds": report.seconds,
        "detail": report.detail,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--techniques", default=",".join(t for t in TECHNIQUES if t != "none"))
    parser.add_argument("--qubits", type=int, default=4, help="qubits of GHZ, mirror and QAOA")
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--vqe-iterations", type=int, default=25)
    parser.add_argument("--vqe-shots", type=int, default=20_000, help="shots per circuit of the VQE rows")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mitigation_table.json")
    args = parser.parse_args()
    techniques = args.techniques.split(",")
    warnings.filterwarnings("ignore")
    common = {"noise": NOISE, "device": "cpu", "shots": args.shots, "seed": args.seed, "threads": args.threads}

    rows = []
    for name in ("ghz", "mirror", "qaoa"):
        for technique in techniques:
            report = mitigate_workload(name, qubits=args.qubits, technique=technique, **common)
            rows.append(row(f"{name}-{args.qubits}", technique, report))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "user.qasm"
        path.write_text(USER_QASM)
        circuit = load_circuit(path)
        for technique in techniques:
            report = mitigate(circuit, USER_OBSERVABLE, technique=technique, name="user.qasm", **common)
            rows.append(row("user QASM", technique, report))
    exact = None
    for technique in (t for t in techniques if t in VQE_TECHNIQUES):
        start = time.perf_counter()
        result = run_vqe(
            "h2",
            qubits=2,
            optimizer="cobyla",
            iterations=args.vqe_iterations,
            technique=technique,
            noise=NOISE,
            shots=args.vqe_shots,
            seed=args.seed,
            device="cpu",
            threads=args.threads,
        )
        exact, final = result.exact_ground_energy, result.final
        rows.append(
            {
                "workload": "VQE H2 final",
                "technique": technique,
                "ideal": final.ideal,
                "noisy": final.noisy,
                "mitigated": final.mitigated,
                "standard_error": final.mitigated_standard_error,
                "reduction": reduction_text(final.noisy, final.mitigated, final.ideal),
                "circuits": result.circuits,
                "shots": result.shots,
                "seconds": time.perf_counter() - start,
                "detail": f"{len(result.steps)} steps",
            }
        )

    print(f"noise {NOISE.describe()}, {args.shots} shots per circuit, seed {args.seed}, CPU\n")
    print("| workload | technique | ideal | noisy | mitigated ± 1σ | error reduction | circuits | shots | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        error = f" ± {r['standard_error']:.2g}" if r["standard_error"] is not None else ""
        print(
            f"| {r['workload']} | {r['technique']} | {r['ideal']:.4f} | {r['noisy']:.4f} | {r['mitigated']:.4f}{error} "
            f"| {r['reduction']} | {r['circuits']} | {r['shots']:,} | {r['seconds']:.1f} |"
        )
    if exact is not None:
        print(
            f"\nVQE H2 (COBYLA, {args.vqe_iterations} iterations, {args.vqe_shots} shots per circuit, the mitigated "
            f"energy minimized): exact ground energy {exact:.5f} Ha; 'ideal' is the energy at the final parameters "
            "(each technique's optimizer ends elsewhere); cost is the whole loop's."
        )
    autos = [r for r in rows if r["technique"] == "auto" and r["workload"] != "VQE H2 final"]
    for r in autos:
        print(f"auto on {r['workload']}: {r['detail']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"noise": NOISE.describe(), "shots": args.shots, "rows": rows}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()

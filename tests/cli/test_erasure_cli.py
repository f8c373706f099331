"""--erasure-fraction through the real entry point: one study per value, thresholds against R_e."""

import json

from qec.cli.main import main

QUICK = ["--max-shots", "2000", "--max-errors", "100", "--workers", "1"]


def test_threshold_sweep_stores_one_study_per_fraction(tmp_path, capsys):
    store, plot = tmp_path / "r.db", tmp_path / "t.png"
    args = ["threshold", "repetition", "--distance", "3,5", "--rounds", "1", "--noise", "code-capacity"]
    args += ["--pauli", "independent", "--erasure-fraction", "0,1", "--p", "0.1,0.3,0.5"]
    assert main([*args, "--store", str(store), "--plot", str(plot), "--json", *QUICK]) == 0
    report = json.loads(capsys.readouterr().out)
    fractions = [study["erasure_fraction"] for study in report["erasure_fraction"]]
    assert fractions == [0.0, 1.0]
    assert all(study["threshold"]["status"] in {"found", "unresolved", "none"} for study in report["erasure_fraction"])
    assert plot.exists() and (tmp_path / "t-erasure-0.png").exists() and (tmp_path / "t-erasure-1.png").exists()
    for study, fraction in zip(report["erasure_fraction"], [None, 1.0]):  # R_e = 0: the plain model's tasks
        assert {point.get("erasure_fraction") for point in study["points"]} == {fraction}


def test_collect_takes_a_list_and_circuit_takes_one(tmp_path, capsys):
    store = tmp_path / "r.db"
    args = ["collect", "surface", "--distance", "3", "--noise", "erasure", "--erasure-fraction", "0.5,0.98"]
    assert main([*args, "--p", "0.01", "--store", str(store), "--json", *QUICK]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert sorted(point["erasure_fraction"] for point in points) == [0.5, 0.98]
    assert main(["circuit", "surface", "--noise", "erasure", "--erasure-fraction", "0.5,1"]) == 2
    assert "takes one --erasure-fraction" in capsys.readouterr().err
    assert main(["circuit", "surface", "--noise", "erasure", "--erasure-fraction", "1.5"]) == 2
    assert "--erasure-fraction '1.5' must be a share in [0, 1]" in capsys.readouterr().err

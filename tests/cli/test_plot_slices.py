"""`qec plot` and `qec stats` on slices of real stores: decoder A against decoder B on one figure, filters,
x = distance, the fit only where it makes sense, one-line errors; a CSV from `sinter collect` and a folder of
`.stim` files named with other tools' keys; k = 2 logical qubits."""

import json

import pytest
import sinter
import stim

from qec.cli.main import main

QUICK = ["--max-shots", "1500", "--max-errors", "100000", "--workers", "1"]


def run(capsys, args):
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Repetition code under code-capacity flips, d = 3, 5 at three p, by pymatching and by uf."""
    path = tmp_path_factory.mktemp("plot_slices") / "r.db"
    for decoder in ("pymatching", "uf"):
        args = ["collect", "repetition", "--distance", "3,5", "--p", "0.05,0.1,0.15", "--noise", "code-capacity"]
        assert main([*args, "--decoder", decoder, "--store", str(path), "--json", *QUICK]) == 0
    return path


def test_decoder_against_decoder_on_one_figure(store, tmp_path, capsys):
    figure = tmp_path / "compare.svg"
    code, out, err = run(capsys, ["plot", "--store", store, "--out", figure, "--group-by", "decoder"])
    assert code == 0 and err == ""
    for label in ("decoder=pymatching, distance=3", "decoder=uf, distance=5"):
        assert label in out and label in figure.read_text()  # in the table and in the figure's legend
    assert "curves split by distance" in out and "no threshold fit: " in out and "differ in decoder" in out

    code, out, _ = run(capsys, ["plot", "--store", store, "--out", figure, "--group-by", "decoder", "--json"])
    document = json.loads(out)
    assert code == 0 and document["group_by"] == ["decoder"] and document["split_by"] == ["distance"]
    assert len(document["curves"]) == 4 and document["threshold"] is None


def test_a_fit_that_cannot_be_made_is_refused_in_one_line(store, tmp_path, capsys):
    code, out, err = run(
        capsys, ["plot", "--store", store, "--out", tmp_path / "f.png", "--group-by", "decoder", "--fit"]
    )
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: --fit cannot be done: a threshold fit needs one curve per distance")
    assert err.rstrip().endswith("leave the fit out (--no-fit)")
    assert not (tmp_path / "f.png").exists()


def test_one_decoder_picked_by_where_is_fitted_like_the_default_plot(store, tmp_path, capsys):
    code, out, _ = run(capsys, ["plot", "--store", store, "--out", tmp_path / "a.png", "--where", "decoder=uf"])
    sliced = out.replace(str(tmp_path / "a.png"), "PLOT")
    code_default, out, _ = run(capsys, ["plot", "--store", store, "--out", tmp_path / "b.png", "--decoder", "uf"])
    assert code == code_default == 0 and sliced == out.replace(str(tmp_path / "b.png"), "PLOT")
    assert "p_th" in sliced and "method:" in sliced


def test_x_distance_and_the_rate_per_operation(store, tmp_path, capsys):
    args = ["stats", "--store", store, "--where", "p=0.1", "--group-by", "decoder", "--x", "distance"]
    code, out, _ = run(capsys, [*args, "--rate", "round", "--json"])
    document = json.loads(out)
    assert code == 0 and document["x"] == "distance" and document["rate"] == "round"
    assert [[point["x"] for point in curve["points"]] for curve in document["curves"]] == [[3, 5], [3, 5]]
    code, out, _ = run(capsys, [*args, "--rate", "round"])
    assert code == 0 and out.splitlines()[0].split() == [
        "curve",
        "distance",
        "k",
        "shots",
        "errors",
        "per",
        "round",
        "95%",
        "interval",
    ]
    code, _, _ = run(capsys, ["plot", "--store", store, "--out", tmp_path / "x.png", *args[3:], "--rate", "shot"])
    assert code == 0 and (tmp_path / "x.png").stat().st_size > 0


@pytest.mark.parametrize(
    "args,message",
    [
        (["--group-by", "colour"], "error: --group-by 'colour' names a key in no point of the store; the keys are: "),
        (["--where", "colour=red"], "error: --where 'colour' names a key in no point of the store; the keys are: "),
        (["--where", "distance=7"], "error: --where 'distance=7' matches no point; distance takes the values: 3, 5"),
        (["--where", "distance"], "error: --where 'distance' is not KEY=VALUE"),
        (["--x", "decoder"], "error: --x 'decoder' is a number in no picked point; the numeric keys are: distance, p"),
        (["--rate", "hour"], "error: --rate 'hour' is not a rate: use one of shot, round, qubit"),
    ],
)
def test_bad_slices_fail_in_one_line(store, tmp_path, capsys, args, message):
    for command in (["stats"], ["plot", "--out", tmp_path / "bad.png"]):
        code, out, err = run(capsys, [*command, "--store", store, *args])
        assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith(message), err
    assert not (tmp_path / "bad.png").exists()


def test_a_csv_from_sinter_collect_plots_with_p_and_distance(tmp_path, capsys):
    tasks = [
        sinter.Task(
            circuit=stim.Circuit.generated(
                "repetition_code:memory", distance=d, rounds=d, before_round_data_depolarization=error_rate
            ),
            json_metadata={"d": d, "error_rate": error_rate, "circuit": "rep"},
        )
        for d in (3, 5)
        for error_rate in (0.01, 0.05, 0.1)
    ]
    stats = sinter.collect(num_workers=1, tasks=tasks, decoders=["pymatching"], max_shots=2000)
    csv_path = tmp_path / "foreign.csv"
    csv_path.write_text(sinter.CSV_HEADER + "\n" + "\n".join(stat.to_csv_line() for stat in stats) + "\n")
    store = tmp_path / "s.db"
    assert run(capsys, ["import", csv_path, "--store", store])[0] == 0

    code, out, err = run(capsys, ["plot", "--store", store, "--out", tmp_path / "default.png", "--json"])
    document = json.loads(out)
    assert code == 0 and err == ""
    assert sorted((pt["family"], pt["distance"], pt["p"]) for pt in document["points"]) == [
        ("rep", d, p) for d in (3, 5) for p in (0.01, 0.05, 0.1)
    ]
    assert [crossing["distance_small"] for crossing in document["threshold"]["crossings"]] == [3]

    code, out, _ = run(capsys, ["plot", "--store", store, "--out", tmp_path / "d.png", "--group-by", "distance"])
    assert code == 0 and "method:" in out and (tmp_path / "d.png").stat().st_size > 0
    code, out, _ = run(capsys, ["stats", "--store", store, "--where", "error_rate=0.05", "--x", "d"])
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:3]] == ["all", "all"]


def two_repetition_codes(p: float) -> stim.Circuit:
    """Two distance-3 repetition-code memories one after the other: observables 0 and 1."""
    one = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=3, before_round_data_depolarization=p)
    second = "\n".join(
        line.replace("OBSERVABLE_INCLUDE(0)", "OBSERVABLE_INCLUDE(1)")
        for line in str(one.flattened()).splitlines()
        if not line.startswith("QUBIT_COORDS")
    )
    return one.flattened() + stim.Circuit(second)


def test_a_folder_of_foreign_stim_files_with_two_logical_qubits(tmp_path, capsys):
    folder = tmp_path / "circuits"
    folder.mkdir()
    for error_rate in (0.05, 0.1):
        (folder / f"d=3;error_rate={error_rate};circuit=rep2;code=twice-rep3.stim").write_text(
            str(two_repetition_codes(error_rate))
        )
    store = tmp_path / "k2.db"
    assert run(capsys, ["collect", "--circuits", folder, "--store", store, "--json", *QUICK])[0] == 0

    code, out, _ = run(capsys, ["stats", "--store", store, "--json"])
    points = json.loads(out)["points"]
    assert code == 0 and [(pt["family"], pt["distance"], pt["p"]) for pt in points] == [
        ("rep2", 3, 0.05),
        ("rep2", 3, 0.1),
    ]
    for point in points:
        assert point["observables"] == 2 and [rate["observable"] for rate in point["observable_rates"]] == [0, 1]
        errors = [rate["errors"] for rate in point["observable_rates"]]
        assert max(errors) <= point["errors"] <= sum(errors)
        assert point["rate_per_qubit_low"] < point["rate_per_qubit"] < point["rate_per_qubit_high"]
        assert point["rate_per_qubit"] == pytest.approx(1 - (1 - point["rate"]) ** 0.5)

    code, out, _ = run(capsys, ["stats", "--store", store, "--rate", "qubit", "--observables"])
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["curve", "p", "k", "shots"] and "per qubit" in lines[0]
    assert [line.split()[:4] for line in lines[1:3]] == [["all", "points", p, "2"] for p in ("0.05", "0.1")]
    assert sum(1 for line in lines if line.startswith("rep2        pymatching")) == 4  # 2 points x 2 observables

    code, _, err = run(capsys, ["stats", "--store", store, "--where", "code=rep3"])  # the user's text kept as is
    assert code == 2 and err == "error: --where 'code=rep3' matches no point; code takes the values: twice-rep3\n"
    code, out, err = run(capsys, ["plot", "--store", store, "--out", tmp_path / "q.png", "--rate", "qubit", "--fit"])
    assert code == 2 and "not per qubit" in err
    code, out, _ = run(capsys, ["plot", "--store", store, "--out", tmp_path / "q.png", "--rate", "qubit"])
    assert code == 0 and "no threshold fit: " in out and (tmp_path / "q.png").stat().st_size > 0

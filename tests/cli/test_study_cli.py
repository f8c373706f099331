"""`qec threshold/collect/stats/plot/export/import/merge` through the real entry point; crash safety."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import stim

from qec.cli.main import main

QUICK = ["--max-shots", "20000", "--max-errors", "200", "--workers", "1"]


def test_threshold_json_table_and_plot(tmp_path, capsys):
    store, plot = tmp_path / "r.db", tmp_path / "t.svg"
    args = [
        "threshold",
        "repetition",
        "--distance",
        "3,5",
        "--noise",
        "code-capacity",
        "--pauli",
        "independent",
        "--p",
        "0.2:0.4:3",
        "--rounds",
        "1",
        "--store",
        str(store),
        "--plot",
        str(plot),
        "--json",
        *QUICK,
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"threshold", "lambda", "lambda_fit", "points", "store"}
    assert set(report["threshold"]) == {
        "p",
        "low",
        "high",
        "statistical_low",
        "statistical_high",
        "systematic",
        "chi2",
        "dof",
        "status",
        "reason",
        "method",
        "sample_next",
        "variants",
        "crossings",
    }
    assert [(c["distance_small"], c["distance_large"], c["p"]) for c in report["threshold"]["crossings"]] == [
        (3, 5, None)
    ]
    assert {
        "family",
        "distance",
        "rounds",
        "noise",
        "p",
        "decoder",
        "shots",
        "errors",
        "discards",
        "rate",
        "rate_low",
        "rate_high",
        "rate_per_operation",
        "unit",
    } == set(report["points"][0])
    assert len(report["points"]) == 6 and plot.read_text().lstrip().startswith("<?xml")
    # The repetition code's threshold under independent flips is 1/2: no crossing below 0.4, said plainly; not
    # resolved yet (rather than "no threshold"), with the p values to sample next above 0.4 (up to 1/2).
    assert report["threshold"]["p"] is None and "no crossing" in report["threshold"]["method"]
    assert report["threshold"]["status"] == "unresolved"
    assert report["threshold"]["sample_next"]["side"] == "above" and report["threshold"]["sample_next"]["p_values"]
    assert all(0.4 < p <= 0.5 for p in report["threshold"]["sample_next"]["p_values"])
    assert main(["plot", "--store", str(store), "--out", str(tmp_path / "again.png")]) == 0
    table = capsys.readouterr().out
    assert "threshold: unresolved" in table and "p_th: unresolved, no estimate yet; next: sample p = " in table
    assert main(["stats", "--store", str(store), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["points"]) == 6


def test_collect_from_a_folder_of_circuits_then_export_import_merge(tmp_path, capsys):
    folder = tmp_path / "circuits"
    folder.mkdir()
    for d in (3, 5):
        circuit = stim.Circuit.generated(
            "repetition_code:memory", distance=d, rounds=d, before_round_data_depolarization=0.05
        )
        (folder / f"d={d},p=0.05,family=repetition.stim").write_text(str(circuit))
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert main(["collect", "--circuits", str(folder), "--store", str(a), *QUICK]) == 0
    assert main(["collect", "repetition", "--distance", "3", "--p", "0.05", "--store", str(b), *QUICK]) == 0
    csv_path = tmp_path / "a.csv"
    assert main(["export", "--store", str(a), "--out", str(csv_path)]) == 0
    assert main(["import", str(csv_path), "--store", str(tmp_path / "c.db")]) == 0
    assert main(["merge", str(a), str(b)]) == 0
    capsys.readouterr()
    assert main(["stats", "--store", str(a), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["points"]) == 3


def one_line_error(capsys, args):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    "args,message",
    [
        (["threshold", "--p", "0.001:oops"], "malformed p grid '0.001:oops'"),
        (["threshold", "--p", "0.01:0.001:3"], "malformed p grid"),
        (["threshold", "--distance", ","], "the distance list is empty"),
        (["threshold", "--decoder", "magic"], "unknown decoder 'magic': choose one of"),
        (["threshold", "--plot", "x.gif"], "use a file name ending in .png, .svg or .pdf"),
        (["collect"], "give either a code FAMILY or --circuits FOLDER"),
        (
            ["threshold", "--distance", "3,5,7", "--correction"],
            "the finite-size correction needs >= 4 distances; got [3, 5, 7]",
        ),
    ],
)
def test_bad_study_input(tmp_path, capsys, args, message):
    code, err = one_line_error(capsys, [*args, "--store", str(tmp_path / "r.db")])
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "r.db").exists()  # refused before any sampling


def test_circuit_file_without_observables_and_malformed_circuit(tmp_path, capsys):
    folder = tmp_path / "circuits"
    folder.mkdir()
    (folder / "d=3.stim").write_text("R 0\nX_ERROR(0.1) 0\nM 0\nDETECTOR rec[-1]\n")
    code, err = one_line_error(capsys, ["collect", "--circuits", str(folder), "--store", str(tmp_path / "r.db")])
    assert code == 2 and "has no OBSERVABLE_INCLUDE" in err and err.count("\n") == 1
    (folder / "d=3.stim").write_text("H 0\nNOT_A_GATE 1\n")
    code, err = one_line_error(capsys, ["collect", "--circuits", str(folder), "--store", str(tmp_path / "r.db")])
    assert code == 2 and "is not a valid Stim circuit" in err and err.count("\n") == 1


def test_a_store_that_is_not_sqlite_is_left_untouched(tmp_path, capsys):
    store = tmp_path / "results.csv"
    store.write_text("shots,errors\n10,1\n")
    code, err = one_line_error(capsys, ["threshold", "--store", str(store), *QUICK])
    assert code == 2 and "not a qec store" in err and store.read_text() == "shots,errors\n10,1\n"


def chunk_rows(store):
    connection = sqlite3.connect(store)
    try:
        return connection.execute("SELECT task_id, chunk, shots FROM chunks").fetchall()
    finally:
        connection.close()


# Subprocesses run in tmp_path: `python -c` puts its cwd first on sys.path, where the repo's source `qec/`
# folder would shadow the installed package.
COLLECT = [
    "collect",
    "surface",
    "--distance",
    "5",
    "--noise",
    "uniform",
    "--p",
    "0.001",
    "--max-shots",
    "1500000",
    "--max-errors",
    "1000000",
    "--workers",
    "1",
]


@pytest.mark.slow
def test_kill_9_midway_then_rerun_gives_exactly_the_stop_rule(tmp_path):
    import psutil  # here, not at the top: the rest of this file is edited by others

    def running(worker):  # not gone, and not dead waiting for init to reap it (a zombie)
        try:
            return worker.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    store = tmp_path / "r.db"
    command = [
        sys.executable,
        "-c",
        "import sys; from qec.cli.main import main; sys.exit(main())",
        *COLLECT,
        "--store",
        str(store),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            time.sleep(0.5)
            if store.exists() and len(chunk_rows(store)) >= 3:
                break
        workers = psutil.Process(process.pid).children(recursive=True)
        os.kill(process.pid, signal.SIGKILL)  # the main process only: its worker is mid-chunk
        process.wait()
        deadline = time.time() + 5
        while (alive := [worker for worker in workers if running(worker)]) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever survived, so that no test leaves a process behind
        except ProcessLookupError:
            pass
    assert workers and alive == []  # the worker died with the main process
    partial = chunk_rows(store)
    assert 3 <= len(partial) and sum(row[2] for row in partial) < 1_500_000
    assert subprocess.run(command, timeout=600, cwd=tmp_path).returncode == 0
    rows = chunk_rows(store)
    assert sum(row[2] for row in rows) == 1_500_000
    assert len({(task, index) for task, index, _ in rows}) == len(rows)
    assert set(partial) <= set(rows)  # every chunk committed before the kill is still there


@pytest.mark.slow
def test_two_commands_on_one_store_at_once(tmp_path):
    """Two commands started together on the same task and store each re-read the store's counts after every
    commit, so together they stop within one chunk per worker of the stop rule (not at twice it)."""
    store, max_shots, chunk, workers = tmp_path / "r.db", 1_000_000, 25_000, 1
    command = [
        sys.executable,
        "-c",
        "import sys; from qec.cli.main import main; sys.exit(main())",
        *COLLECT[:-6],
        "--max-shots",
        str(max_shots),
        "--max-errors",
        "1000000",
        "--chunk-shots",
        str(chunk),
        "--workers",
        str(workers),
        "--store",
        str(store),
    ]
    processes = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path) for _ in range(2)
    ]
    for process in processes:
        assert process.wait(timeout=600) == 0, process.stderr.read()
    connection = sqlite3.connect(store)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = connection.execute("SELECT task_id, chunk, shots FROM chunks").fetchall()
    connection.close()
    assert len({(task, index) for task, index, _ in rows}) == len(rows)
    # Each command has at most 2 chunks per worker in flight, unseen by the other: with 2 x `workers` workers in
    # all and fixed chunks, the other's last chunks overshoot by at most one chunk per worker.
    assert max_shots <= sum(shots for _, _, shots in rows) <= max_shots + 2 * workers * chunk
    assert main(["collect", *command[4:]]) == 0  # a rerun finds the stop rule already met
    assert len(chunk_rows(store)) == len(rows)

"""Dask scale-out with a real scheduler and workers on 127.0.0.1: same counts as the local pool, worker loss; a
local cluster runs no dashboard and no more workers than the machine fits."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from qec import StopRule, Store, collect
from qec.cli.main import main
from qec.cluster import dask_client, parse_local_cluster
from qec.engine import max_workers
from qec.errors import QecInputError
from qec.parts import memory_task

distributed = pytest.importorskip("distributed")
DASK = str(Path(sys.executable).parent / "dask")
TASKS = [memory_task("surface", distance=5, noise="uniform", p=0.003)]
STOP = StopRule(max_shots=600_000, max_errors=None)
CHUNK = 20_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def counts(store_path):
    connection = sqlite3.connect(store_path)
    try:
        return sorted(connection.execute("SELECT chunk, shots, errors FROM chunks").fetchall())
    finally:
        connection.close()


@pytest.fixture
def dask_cluster():
    """A real `dask scheduler` and two single-threaded `dask worker` processes (no nanny) on 127.0.0.1."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = [
        subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_dask_with_a_worker_killed_gives_the_local_pools_counts(tmp_path, dask_cluster):
    address, workers = dask_cluster
    with Store(tmp_path / "local.db") as store:
        collect(TASKS, store=store, stop=STOP, workers=2, chunk_shots=CHUNK)
    killed = []

    def kill_one_worker_midway(progress):
        if not killed and progress.shots >= STOP.max_shots // 4:
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(progress.shots)

    with Store(tmp_path / "dask.db") as store, distributed.Client(address) as client:
        totals = collect(
            TASKS, store=store, stop=STOP, executor=client, chunk_shots=CHUNK, on_progress=kill_one_worker_midway
        )
    assert killed and killed[0] < STOP.max_shots
    assert totals[TASKS[0].task_id].counts.shots == STOP.max_shots
    dask_rows, local_rows = counts(tmp_path / "dask.db"), counts(tmp_path / "local.db")
    assert [row[0] for row in dask_rows] == list(range(STOP.max_shots // CHUNK))  # each chunk once, none lost
    assert dask_rows == local_rows  # same seeds, same chunks: identical counts


@pytest.mark.slow
def test_local_cluster_cli_matches_the_local_pool(tmp_path):
    args = [
        "collect",
        "repetition",
        "--distance",
        "3,5",
        "--p",
        "0.05",
        "--max-shots",
        "60000",
        "--max-errors",
        "1000000",
        "--chunk-shots",
        "10000",
        "--json",
    ]
    assert main([*args, "--store", str(tmp_path / "pool.db"), "--workers", "2"]) == 0
    assert main([*args, "--store", str(tmp_path / "cluster.db"), "--cluster", "local:2"]) == 0
    assert counts(tmp_path / "pool.db") == counts(tmp_path / "cluster.db")


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_local_cluster_binds_to_loopback_only_and_runs_no_dashboard():
    with dask_client(cluster="local:1") as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(address.startswith("tcp://127.0.0.1:") for address in client.nthreads())
        profiling = client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled"))
        assert list(profiling.values()) == [False]  # no dashboard to show it, so no 10 ms stack sampling
        # Dask starts its HTTP servers even with dashboard_address=None (the scheduler's on port 8787, with pages
        # and metrics about the cluster); they serve nothing here, on a port the system picked.
        info = client.scheduler_info()
        ports = [info["services"]["dashboard"]] + [
            worker["services"]["dashboard"] for worker in info["workers"].values()
        ]
        assert 8787 not in ports
        for port in ports:
            for path in ("/status", "/health", "/metrics", "/info/main/workers.html", "/json/counts.json"):
                assert http_status(port, path) == 404, (port, path)


def test_worker_counts_that_cannot_fit_are_refused(tmp_path, capsys):
    too_many, children = max_workers() + 1, psutil.Process().children()  # (multiprocessing's resource tracker)
    with pytest.raises(
        QecInputError,
        match=rf"cluster 'local:{too_many}' would start {too_many:,} worker processes, "
        rf"more than this machine fits \(at most {max_workers():,}: ",
    ):
        parse_local_cluster(f"local:{too_many}")
    assert (
        main(
            [
                "collect",
                "repetition",
                "--distance",
                "3",
                "--p",
                "0.05",
                "--cluster",
                f"local:{too_many}",
                "--store",
                str(tmp_path / "r.db"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"use local:N with N <= {max_workers()}" in err
    assert psutil.Process().children() == children  # refused before any process started


@pytest.mark.slow
def test_unreachable_scheduler_is_a_one_line_error(tmp_path, capsys):
    start = time.monotonic()
    code = main(
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--scheduler",
            f"tcp://127.0.0.1:{free_port()}",
            "--store",
            str(tmp_path / "r.db"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Dask scheduler" in err and err.count("\n") == 1
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("spec", ["local", "local:0", "remote:2", "local:two"])
def test_malformed_cluster_spec(spec):
    with pytest.raises(QecInputError, match="use local:N"):
        parse_local_cluster(spec)

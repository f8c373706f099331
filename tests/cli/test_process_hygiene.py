"""`qec collect` as a real process tree, stopped by signals: no worker outlives the main process, whatever
kills it; Ctrl-C and SIGTERM print one line saying how many chunks were kept and exit 130 and 143; the same on a
Dask LocalCluster, without tracebacks or log noise."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from qec.cli.main import _StopSignals, main
from qec.engine import max_workers

QEC = str(Path(sys.executable).parent / "qec")  # the console script, as a user runs it
# A collection that runs until stopped: 20k-shot chunks of a d=5 surface code take a few ms each.
ENDLESS = [
    "collect",
    "surface",
    "--distance",
    "5",
    "--noise",
    "uniform",
    "--p",
    "0.001",
    "--max-shots",
    "1000000000",
    "--max-errors",
    "1000000000",
    "--chunk-shots",
    "20000",
]
INTERRUPTED = re.compile(r"interrupted: (\d+) chunks? kept; rerun to resume\n")
GONE_WITHIN_SECONDS = 5  # the kernel kills pool workers at once (PR_SET_PDEATHSIG); the fallbacks poll each second


def stored_chunks(store: Path) -> int:
    if not store.exists():
        return 0
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)  # never creates the file
    try:
        return connection.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not written yet
        return 0
    finally:
        connection.close()


def start_collect(tmp_path: Path, executor: list[str]) -> tuple[subprocess.Popen, list[psutil.Process], Path]:
    """Starts `qec collect` in its own session (as a terminal runs a job) and waits until it has committed a
    chunk; returns it, its descendants (the workers) and the file its stderr goes to."""
    store, err = tmp_path / "r.db", tmp_path / "stderr.txt"
    with open(err, "wb") as stderr:  # a file, not a pipe: an orphaned worker holding a pipe would hang the test
        process = subprocess.Popen(
            [QEC, *ENDLESS, *executor, "--store", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            start_new_session=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # a hang ended by SIGABRT shows every thread's stack
        )
    deadline = time.monotonic() + 120
    while stored_chunks(store) < 1:
        assert process.poll() is None, err.read_text()
        assert time.monotonic() < deadline, "no chunk committed within 120 s"
        time.sleep(0.05)
    return process, psutil.Process(process.pid).children(recursive=True), err


def alive(process: psutil.Process) -> bool:
    """Running, as opposed to gone or dead (a zombie that init has not reaped yet)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(children: list[psutil.Process]) -> list[str]:
    """The children still alive after GONE_WITHIN_SECONDS, described (and then killed, so none leaks)."""
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.02)
    described = []
    for child in filter(alive, children):
        try:
            described.append(f"{child.pid}: {' '.join(child.cmdline())[:100]}")
            child.kill()
        except psutil.NoSuchProcess:
            pass
    return described


def stop(process: subprocess.Popen, how: str) -> int:
    if how == "SIGINT to the process group":  # Ctrl-C at a terminal: every process of the job gets it
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, getattr(signal, how))
    return process.wait(timeout=60)


def run_and_stop(tmp_path, executor, how):
    process, children, err = start_collect(tmp_path, executor)
    try:
        try:
            code = stop(process, how)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            raise AssertionError(f"qec still ran 60 s after {how}; its threads then:\n{err.read_text()}") from None
        return code, children, err.read_text(), stored_chunks(tmp_path / "r.db")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


EXPECTED_CODE = {"SIGKILL": -signal.SIGKILL, "SIGTERM": 143, "SIGINT": 130, "SIGINT to the process group": 130}


def check(code, children, err, chunks, how, workers):
    assert len(children) >= workers  # the workers were running when the signal came
    assert survivors(children) == []
    assert code == EXPECTED_CODE[how], err
    if how == "SIGKILL":  # the main process printed nothing (a dying Dask worker may log that its peer vanished)
        assert "interrupted" not in err
        return
    kept = INTERRUPTED.fullmatch(err)  # one line, nothing else (no traceback, no progress bar, no log)
    assert kept, err
    assert int(kept[1]) == chunks >= 1  # each chunk this run committed, and only those, is in the store


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT", "SIGINT to the process group"])
def test_local_pool_workers_never_outlive_the_main_process(tmp_path, how):
    check(*run_and_stop(tmp_path, ["--workers", "2"], how), how, workers=2)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT", "SIGINT to the process group"])
def test_local_cluster_workers_never_outlive_the_main_process(tmp_path, how):
    pytest.importorskip("distributed")
    check(*run_and_stop(tmp_path, ["--cluster", "local:2"], how), how, workers=2)


@pytest.mark.slow
def test_ctrl_c_keeps_every_committed_chunk_and_a_rerun_resumes(tmp_path):
    code, children, err, chunks = run_and_stop(tmp_path, ["--workers", "1"], "SIGINT")
    check(code, children, err, chunks, "SIGINT", workers=1)
    rerun = subprocess.run(
        [
            QEC,
            *ENDLESS[:-6],
            "--max-shots",
            str(20_000 * (chunks + 2)),
            "--max-errors",
            "1000000",
            "--chunk-shots",
            "20000",
            "--workers",
            "1",
            "--json",
            "--store",
            str(tmp_path / "r.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert stored_chunks(tmp_path / "r.db") == chunks + 2  # resumed: only the 2 missing chunks were sampled


def test_more_workers_than_the_machine_fits_start_no_process(tmp_path, capsys):
    children = psutil.Process().children()
    args = ["collect", "repetition", "--distance", "3", "--p", "0.05", "--store", str(tmp_path / "r.db")]
    assert main([*args, "--workers", str(max_workers() + 1)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --workers ") and "workers=" not in err  # in flag terms
    assert psutil.Process().children() == children


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process's mapped files in /proc")
def test_ctrl_c_while_the_cli_starts_is_one_line_too(tmp_path):
    """Importing the CLI's modules takes seconds; Ctrl-C then is no import traceback either."""
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            [QEC, *ENDLESS, "--workers", "1", "--store", str(tmp_path / "r.db")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        # Stim is the CLI's first heavy import: once it is loaded, the CLI's modules are being imported.
        while "/stim/" not in Path(f"/proc/{process.pid}/maps").read_text():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.01)
        assert stop(process, "SIGINT to the process group") == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "stderr.txt").read_text() == "interrupted\n"
    assert not (tmp_path / "r.db").exists()  # main() never ran


# `qec codes --code`'s distance search runs Stim's search in a child process (qec.codes.distance), which can take
# minutes and 4 GB on a hard circuit: it must die with whatever process started it.
SEARCHING = "search_for_undetectable_logical_errors"  # in the child's command line (its script)


def searching_child(parent: subprocess.Popen, *, within: float) -> psutil.Process:
    """`parent`'s Stim-search child once it is searching (Stim loaded), within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert parent.poll() is None, "the parent ended before its search child started"
        for child in psutil.Process(parent.pid).children():
            try:
                if SEARCHING in " ".join(child.cmdline()) and "/stim/" in Path(f"/proc/{child.pid}/maps").read_text():
                    return child
            except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
                pass
        time.sleep(0.02)
    raise AssertionError(f"no searching child within {within} s")


def gone_within(process: psutil.Process, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(process):
        if time.monotonic() > deadline:
            process.kill()  # leak nothing, whatever the test's outcome
            return False
        time.sleep(0.01)
    return True


HARD_SEARCH = """
import sys
from qec import noise
from qec.codes.bb import bb_code
from qec.codes.distance import _stim_search
circuit = noise.noise_model("sd6", 0.001).apply(bb_code("72,12,6").memory_circuit(rounds=3, basis="Z"))
bounds = {"dont_explore_detection_event_sets_with_size_above": 10**6, "dont_explore_edges_with_degree_above": 10**6,
          "dont_explore_edges_increasing_symptom_degree": False}
print(_stim_search(str(circuit), bounds, 600.0))
"""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process's mapped files in /proc")
def test_the_stim_search_child_dies_with_its_parent_killed_by_sigkill(tmp_path):
    """A process that runs Stim's untruncated search on the [[72,12,6]] BB code's circuit (minutes), killed by
    SIGKILL (no handler, no finally): its child is gone at once, not left searching for minutes with 4 GB."""
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        parent = subprocess.Popen([sys.executable, "-c", HARD_SEARCH], stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        child = searching_child(parent, within=120)
        parent.kill()
        parent.wait()
        assert gone_within(child, 2.0), "the search child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process's mapped files in /proc")
def test_where_prctl_is_missing_a_watchdog_kills_the_search_once_its_parent_is_gone(tmp_path):
    """The fallback, run here by telling the child it is not on Linux: the watchdog process it forks checks the
    parent each second (a thread could not run: the search holds the GIL)."""
    elsewhere = HARD_SEARCH.replace(
        "print(_stim_search",
        "import qec.codes.distance\n"
        "qec.codes.distance._STIM_CHILD = 'import sys; sys.platform = \"darwin\"\\n' + qec.codes.distance._STIM_CHILD\n"
        "print(_stim_search",
    )
    parent = subprocess.Popen([sys.executable, "-c", elsewhere], stdout=subprocess.DEVNULL)
    try:
        child = searching_child(parent, within=120)
        watchdogs = [process for process in child.children() if alive(process)]
        assert len(watchdogs) == 1  # the fallback is what runs
        parent.kill()
        parent.wait()
        assert gone_within(child, 3.0), "the search child outlived its parent"
        assert gone_within(watchdogs[0], 3.0)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_search_child_whose_parent_is_already_gone_exits_at_once():
    """The race PR_SET_PDEATHSIG leaves open: a parent that died before the child asked to die with it. The child
    checks that its parent is still the one that started it, and exits before loading anything."""
    from qec.codes.distance import _STIM_CHILD

    not_the_parent = os.getpid() + 1 if os.getpid() + 1 != os.getppid() else os.getpid() + 2
    start = time.monotonic()
    ended = subprocess.run(
        [sys.executable, "-c", _STIM_CHILD, "{}", str(4 << 30), str(not_the_parent), "60"],
        input="H 0\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ended.returncode, ended.stdout) == (1, "")
    assert time.monotonic() - start < 30  # it did not search (nor wait for anything)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="watches the process's mapped files in /proc")
def test_kill_9_of_qec_codes_leaves_no_search_running(tmp_path):
    """`qec codes --code bb:72,12,6` as a user runs it, killed by SIGKILL while Stim's search runs in its child:
    the child is gone within 2 s (before the fix it searched on, orphaned, toward its 4 GB)."""
    with open(tmp_path / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            [QEC, "codes", "--code", "bb:72,12,6", "--max-seconds", "20"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            start_new_session=True,
        )
    try:
        child = searching_child(process, within=180)
        process.kill()
        process.wait()
        assert gone_within(child, 2.0), "the search child outlived `qec codes`"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_stop_signal_interrupts_once_and_none_after_the_command_has_finished():
    """A second signal, or one arriving once the command has finished, lands in clean-up code (a context manager's
    __exit__, say): it is only noted, since raised there it would end `qec` with a traceback, not its one line."""
    stop = _StopSignals()
    with pytest.raises(KeyboardInterrupt):
        stop(signal.SIGTERM, None)
    stop(signal.SIGINT, None)
    assert stop.exit_code() == 143  # the first one decides
    late = _StopSignals()
    late.finished()
    late(signal.SIGINT, None)
    assert (late.arrived, late.exit_code()) == ([signal.SIGINT], 130)


def test_main_called_from_python_gives_back_the_signal_handlers_it_found():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main(["codes"]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before

"""Ctrl-C stops `qec mitigate` within a second or two while Aer runs a long batch in native code: one line
`interrupted`, exit code 130 (143 for SIGTERM), and no process left behind, even when the parent is killed by SIGKILL
(issue 20, point 7)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

QEC = str(Path(sys.executable).parent / "qec")  # the console script, as a user runs it
# One Aer call that runs for many minutes on 2 cores: 100,000 noisy trajectories of a 14-qubit statevector. Aer runs it
# in native code holding Python's GIL, so no signal handler of the process that calls it could run meanwhile.
LONG_RUN = [
    "mitigate",
    "ghz",
    "--qubits",
    "14",
    "--method",
    "statevector",
    "--technique",
    "none",
    "--shots",
    "100000",
    "--threads",
    "1",
    "--device",
    "cpu",
]
STOPPED_WITHIN_SECONDS = 3  # the parent waits on a pipe; it kills the child that runs Aer at once


def start_aer_run(tmp_path: Path) -> tuple[subprocess.Popen, list[psutil.Process], Path]:
    """Starts the long run in its own session and waits until its child (`qec.cli.mitigate_options.run_on_aer`)
    has started Aer's worker thread, which runs each Aer job; returns the process, its descendants and its stderr."""
    err = tmp_path / "stderr.txt"
    with open(err, "wb") as stderr:
        process = subprocess.Popen(
            [QEC, *LONG_RUN], stdout=subprocess.PIPE, stderr=stderr, cwd=tmp_path, start_new_session=True
        )
    watched = psutil.Process(process.pid)
    deadline = time.monotonic() + 120
    while not any(child.num_threads() >= 2 for child in _children(watched)):
        assert process.poll() is None, err.read_text()
        assert time.monotonic() < deadline, "no child started Aer within 120 s"
        time.sleep(0.05)
    time.sleep(1.0)  # inside the Aer call, which runs for minutes
    assert process.poll() is None, "the run ended before it could be interrupted: make LONG_RUN longer"
    return process, _children(watched), err


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_stops_a_mitigation_run_inside_an_aer_batch_within_seconds(tmp_path, how, code):
    process, children, err = start_aer_run(tmp_path)
    assert children
    started = time.monotonic()
    process.send_signal(how)
    out, _ = process.communicate(timeout=30)
    seconds = time.monotonic() - started
    assert seconds < STOPPED_WITHIN_SECONDS, f"stopped after {seconds:.1f} s"
    assert process.returncode == code
    assert err.read_text() == "interrupted\n" and out == b""
    assert not [child for child in children if _alive(child)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
def test_the_child_that_runs_aer_dies_with_its_parent_killed_by_sigkill(tmp_path):
    process, children, _ = start_aer_run(tmp_path)
    process.kill()
    process.wait(timeout=30)
    deadline = time.monotonic() + 5  # the kernel kills it at once (PR_SET_PDEATHSIG)
    while any(_alive(child) for child in children):
        assert time.monotonic() < deadline, "the Aer child outlived its parent"
        time.sleep(0.05)

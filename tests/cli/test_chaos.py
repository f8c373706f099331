"""Chaos: `qec collect` killed at random moments by random signals, rerun, exported, imported and merged
between two stores collected apart; in the end every sample is counted once (issue 10, point 9).

With `--chunk-shots` fixed and one worker, chunk k of a task is always the same samples (its seed is fixed by
(task, k), its size by the stop rule), and a killed run leaves each task a prefix of its chunks. So whatever
the kills, each store must end with chunks 0..K-1 of every task, sized C, ..., C, M - (K-1)C (M = --max-shots,
C = --chunk-shots), the two stores must hold the same rows (errors included), and one more round of export,
import and merge must change nothing. No worker may outlive a killed main process.
"""

import contextlib
import io
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from qec.cli.main import main

QEC = str(Path(sys.executable).parent / "qec")  # the console script, as a user runs it
SEED = 20261125
CHUNK_SHOTS = 2_000  # small chunks of a small code: a few ms each, so a kill lands between many commits
MAX_SHOTS = 801_000  # 401 chunks per task, the last one of 1,000 shots
CHUNKS = -(-MAX_SHOTS // CHUNK_SHOTS)
COLLECT = [
    "collect",
    "repetition",
    "--distance",
    "3,5,7",
    "--noise",
    "code-capacity",
    "--pauli",
    "independent",
    "--rounds",
    "1",
    "--p",
    "0.05",
    "--max-shots",
    str(MAX_SHOTS),
    "--max-errors",
    "1000000000",
    "--chunk-shots",
    str(CHUNK_SHOTS),
    "--workers",
    "1",
    "--json",
]
TASKS = 3
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)
KILLS = 12
GONE_WITHIN_SECONDS = 10
INTERRUPTED = re.compile(r"interrupted(: \d+ chunks? kept; rerun to resume)?\n")


def rows(store: Path) -> list[tuple] | None:
    """(task, chunk, shots, errors, discards) of every chunk row, sorted; read-only, creates nothing. None while
    a killed writer's journal waits for the next qec command to roll it back (a read-only reader cannot)."""
    if not store.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=60)) as connection:
        try:
            return sorted(connection.execute("SELECT task_id, chunk, shots, errors, discards FROM chunks"))
        except sqlite3.OperationalError as error:
            return [] if "no such table" in str(error) else None


def count(store: Path) -> int:
    return len(rows(store) or [])


def cli(*argv) -> str:
    """`qec ARGV` in this process (exports, imports, merges: quick, and nothing to kill); its stdout."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    assert code == 0 and err.getvalue() == "", (argv, err.getvalue())
    return out.getvalue()


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(children: list[psutil.Process]) -> list[str]:
    """The children still alive GONE_WITHIN_SECONDS after their main process died (then killed, so none leaks)."""
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while any(alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    described = []
    for child in filter(alive, children):
        with contextlib.suppress(psutil.NoSuchProcess):
            described.append(f"{child.pid}: {' '.join(child.cmdline())[:100]}")
            child.kill()
    return described


def collect_and_kill(folder: Path, store: Path, rng: random.Random, log: list[str]) -> None:
    """Starts `qec collect` on `store`, kills its main process (only) at a random moment with a random signal,
    and checks that it died cleanly and left no worker behind."""
    sig = rng.choice(SIGNALS)
    before = count(store)
    # 0: while it still imports; else after some of the chunks still to sample, and then up to 0.1 s more
    remaining = TASKS * CHUNKS - before
    wait_for_chunks = 0 if remaining < 2 or rng.random() < 0.25 else rng.randint(1, remaining - 1)
    err_file = folder / "stderr.txt"
    with open(err_file, "wb") as err:  # a file, not a pipe: an orphaned worker holding a pipe would hang the test
        process = subprocess.Popen(
            [QEC, *COLLECT, "--store", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=folder,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        if wait_for_chunks == 0:
            time.sleep(rng.uniform(0.1, 2.0))
        else:
            while count(store) < before + wait_for_chunks and process.poll() is None:
                assert time.monotonic() < deadline, "no progress within 120 s"
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.1))
        children = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
        if process.poll() is None:
            os.kill(process.pid, sig)
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = err_file.read_text()
    after = rows(store)
    log.append(
        f"{store.name}: {sig.name} after {wait_for_chunks} new chunk(s): exit {code}, "
        f"{'a journal to roll back' if after is None else f'{len(after)} rows'}"
    )
    assert survivors(children) == [], log[-1]
    assert "Traceback" not in stderr, (log[-1], stderr)
    # 0: it finished before the signal; -15: SIGTERM came before main() took it over (still importing) or after
    # it handed it back (exiting): either way, between two commits. -2: SIGINT came while the interpreter was
    # shutting down after the last chunk (its finalization restores SIGINT's default action), so only with every
    # chunk stored (seen once in CI: 1,203 of 1,203 rows).
    finished = after is not None and len(after) == TASKS * CHUNKS
    assert code in (0, -signal.SIGKILL, -signal.SIGTERM, 130, 143) or (code == -signal.SIGINT and finished), (
        log[-1],
        stderr,
    )
    if code in (130, 143):
        assert INTERRUPTED.fullmatch(stderr), (log[-1], stderr)


def collect_to_the_end(folder: Path, store: Path) -> None:
    result = subprocess.run(
        [QEC, *COLLECT, "--store", str(store)], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr


def expected_rows_per_task() -> list[tuple[int, int]]:
    """(chunk, shots) of every chunk of one task: the max-shots rule with fixed chunks."""
    return [(k, min(CHUNK_SHOTS, MAX_SHOTS - k * CHUNK_SHOTS)) for k in range(CHUNKS)]


@pytest.mark.slow
def test_kills_reruns_exports_imports_and_merges_count_every_sample_once(tmp_path):
    rng = random.Random(SEED)
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    log: list[str] = []
    for step in range(KILLS):
        store, other = (a, b) if rng.random() < 0.5 else (b, a)
        collect_and_kill(tmp_path, store, rng, log)
        action = rng.choice(
            [
                "export, import into itself",
                "export, import into the other",
                "merge into the other",
                "merge the other in",
                "nothing",
            ]
        )
        if action.startswith("export") and store.exists():
            exported = tmp_path / f"export{step}.csv"
            cli("export", "--store", store, "--out", exported)
            cli("import", exported, "--store", store if action.endswith("itself") else other)
        elif action == "merge into the other" and store.exists():
            cli("merge", other, store)
        elif action == "merge the other in" and other.exists():
            cli("merge", store, other)
        log[-1] += f"; then {action}"
    collect_to_the_end(tmp_path, a)
    collect_to_the_end(tmp_path, b)
    print("\n" + "\n".join(log))

    final = rows(a)
    assert final == rows(b)  # the same samples, errors included: chunk k is the same samples in every store
    by_task: dict[str, list[tuple[int, int]]] = {}
    for task_id, chunk, shots, errors, discards in final:
        assert chunk >= 0 and 0 <= errors <= shots and discards == 0
        by_task.setdefault(task_id, []).append((chunk, shots))
    assert len(by_task) == TASKS
    for task_id, chunks in by_task.items():
        assert chunks == expected_rows_per_task(), task_id  # each chunk once, and exactly the max-shots rule
    stats = cli("stats", "--store", a, "--json")
    assert stats.replace(str(a), "") == cli("stats", "--store", b, "--json").replace(str(b), "")

    cli("export", "--store", a, "--out", tmp_path / "a2.csv")
    cli("export", "--store", b, "--out", tmp_path / "b2.csv")
    for csv_file, store in ((tmp_path / "a2.csv", a), (tmp_path / "a2.csv", b), (tmp_path / "b2.csv", a)):
        assert "imported 0 new row(s)" in cli("import", csv_file, "--store", store)
    assert "merged 0 new chunk(s)" in cli("merge", a, b) and "merged 0 new chunk(s)" in cli("merge", b, a)
    assert rows(a) == rows(b) == final

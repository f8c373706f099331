"""Write failures (issue 20, point 4): a disk that is full, a file-size limit (RLIMIT_FSIZE; Python ignores
SIGXFSZ, so writes fail with EFBIG) or a folder that refuses new files, met by `collect`, `import`, `export`,
`merge`, `circuit --out/--diagram`, `threshold` and `plot --out`: one `error:` line, exit code 2, no traceback,
no partial output and no temporary left, and every store as it was before the failed commit (a `collect` keeps
the chunks it committed before, and says how many).

The commands run in a driver process (`main(argv)`, one Python start for many commands) whose file-size limit is
set per command with `resource.setrlimit`, or in a small tmpfs filled up (mounting needs root: skipped
otherwise), or without the capabilities that let root ignore permissions (`setpriv`); one test runs the console
script itself under `preexec_fn=setrlimit` (soft = hard, as `ulimit -f` sets it: SQLite cannot finish its rollback
either, and the error says that the next open rolls the write back). The hypothesis tests draw the commands and the
limits: by default 2 examples through the driver; `pytest --slow` runs 20 through the driver and 20 through the
console script, one `qec` process each (QEC_WRITE_FAILURE_EXAMPLES=N sets both counts).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qec.outputs import StoreWriteFailed, WriteFailed, write_text_atomically
from qec.parts import memory_task
from qec.store import Store
from qec.task import ChunkResult, Counts

QEC = Path(sys.executable).with_name("qec")
FAST_EXAMPLES = int(os.environ.get("QEC_WRITE_FAILURE_EXAMPLES", 2))  # each example: one driver, 3 to 6 commands
SLOW_EXAMPLES = int(os.environ.get("QEC_WRITE_FAILURE_EXAMPLES", 20))  # each: one driver, or one `qec` process
COLLECT = ["--max-shots", "3000", "--chunk-shots", "100", "--workers", "1", "--store", "s.db"]
COMMANDS = {  # every command that writes, by the name the cases use
    "export": ["export", "--store", "s.db", "--out", "x.csv"],
    "export-over": ["export", "--store", "s.db", "--out", "old.csv"],
    "circuit-out": ["circuit", "repetition", "--distance", "9", "--p", "0.05", "--out", "c.stim"],
    "circuit-diagram": ["circuit", "repetition", "--distance", "9", "--p", "0.05", "--diagram", "c.svg"],
    "import": ["import", "more.csv", "--store", "s.db"],
    "import-new": ["import", "more.csv", "--store", "new.db"],
    "merge-new": ["merge", "m.db", "s.db", "o.db"],
    "merge": ["merge", "s.db", "o.db"],
    "collect": ["collect", "repetition", "--distance", "3", "--p", "0.07", *COLLECT],
    "plot": ["plot", "--store", "s.db", "--out", "p.png"],
    "threshold": ["threshold", "repetition", "--distance", "3,5", "--p", "0.05,0.08", *COLLECT, "--plot", "t.png"],
}
KEPT = re.compile(r"(\d+) chunks? committed before it kept")

# Runs [mode, amount, command name] cases, each in a fresh copy of the template folder: mode "fsize" sets the
# file-size limit to `amount` bytes for the command alone; "disk" fills the (tmpfs) disk to `amount` bytes free.
STATE = r"""
import hashlib, os, sqlite3

def rows(path):
    connection = sqlite3.connect(path)  # read-write, as the next qec command opens it: rolls back a hot journal
    try:
        return sorted(connection.execute("SELECT task_id, chunk, shots, errors, discards FROM chunks").fetchall())
    except sqlite3.Error as error:  # a hot journal beside it, say: the check that follows names the case
        return f"unreadable: {error}"
    finally:
        connection.close()

def state(folder):
    names = sorted(os.listdir(folder))
    files = {name: "left" for name in names if name.endswith("-journal")}
    for name in names:
        path = os.path.join(folder, name)
        if name.endswith(".db"):
            files[name] = rows(path)
        elif name not in files:
            files[name] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    for name in [name for name in files if name.endswith("-journal")]:
        files[name] = "left" if os.path.exists(os.path.join(folder, name)) else "rolled back"
    return files
"""
exec(STATE)  # defines state(folder): what a case left, as the driver reports it

DRIVER = (
    STATE
    + r"""
import contextlib, io, json, resource, shutil, sys
from qec.cli.main import main
template, commands, cases = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
results = []
for number, (mode, amount, name) in enumerate(cases):
    folder = os.path.abspath(f"case{number}")
    shutil.copytree(template, folder)
    filler = os.path.abspath("filler")
    if mode == "disk":
        with open(filler, "wb", buffering=0) as file, contextlib.suppress(OSError):
            while True:
                file.write(b"\0" * 4096)
        os.truncate(filler, max(0, os.path.getsize(filler) - amount))
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(folder)
    if mode == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (amount, resource.RLIM_INFINITY))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(commands[name])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        os.chdir(here)
    if os.path.exists(filler):
        os.unlink(filler)
    results.append([code, err.getvalue(), state(folder)])
    shutil.rmtree(folder)
print(json.dumps(results))
"""
)


def _add(store: Store, task, index: int, shots: int, errors: int) -> None:
    store.add_tasks([task])
    store.append(ChunkResult(task.task_id, index, Counts(shots, errors), (errors,)))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A folder with the store s.db (a small study: d 3 and 5, three p), another store o.db, more.csv (o.db's
    export: rows s.db lacks) and old.csv (an earlier output)."""
    folder = tmp_path_factory.mktemp("template")
    with Store(folder / "s.db") as store:
        for distance in (3, 5):
            for p, rate in ((0.03, 0.01), (0.05, 0.04), (0.08, 0.12)):
                task = memory_task("repetition", distance=distance, p=p, noise="code-capacity", pauli="independent")
                for index in range(3):
                    _add(store, task, index, 1000, int(1000 * rate / distance) + index)
    with Store(folder / "o.db") as other:
        task = memory_task("repetition", distance=7, p=0.05, noise="code-capacity", pauli="independent")
        for index in range(40):
            _add(other, task, index, 500, 3)
        (folder / "more.csv").write_text(other.to_sinter_csv())
    (folder / "old.csv").write_text("an earlier export\n")
    return folder


def _state(folder: Path) -> dict:
    """What the driver records of a folder: chunk rows of each store, a hash of every other file."""
    return json.loads(json.dumps(state(str(folder))))  # noqa: F821 (defined by exec(STATE))


def _drive(template: Path, cases: list[tuple[str, int, str]], *, cwd: Path, prefix: tuple[str, ...] = ()) -> list:
    command = [*prefix, sys.executable, "-c", DRIVER, str(template), json.dumps(COMMANDS), json.dumps(cases)]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def _check(case, result, before: dict) -> None:
    """Exit 0; or exit 2 with one error line and no traceback, no new file, every file as it was, every store's
    rows as they were (plus the chunks a collect says it kept)."""
    code, err, after = result
    assert "Traceback" not in err, (case, err)
    journals = {name for name in after if name.endswith("-journal")}
    if code == 0:
        assert not journals, (case, err, after)
        for name, rows in before.items():
            if name.endswith(".db"):  # a write that succeeded only adds
                assert set(map(tuple, rows)) <= set(map(tuple, after[name])), case
        return
    assert code == 2, (case, code, err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0] == err.splitlines()[-1], (case, err)
    # no partial output, no temporary; a journal only where SQLite could not finish the rollback (a file-size limit
    # stops its writes too), which the error says, and which the next open of the store rolls back
    assert sorted(set(after) - journals) == sorted(before), (case, err, sorted(after))
    if journals:
        assert "when the store is next opened" in errors[0], (case, err)
        assert all(after[name] == "rolled back" for name in journals), (case, after)
    for name in before:
        if name == "s.db" and KEPT.search(errors[0]):
            kept = int(KEPT.search(errors[0])[1])
            assert set(map(tuple, before[name])) <= set(map(tuple, after[name])), case
            assert len(after[name]) == len(before[name]) + kept, (case, err)
        else:
            assert after[name] == before[name], (case, name, err)
    message = errors[0]
    assert (
        "nothing was written" in message
        or "no chunk was added" in message
        or "no store was made" in message
        or "keeps its old content" in message
        or (KEPT.search(message) or "could not write the plot" in message or "could not start" in message)
    ), (case, message)


# Limits that fail each command at a different step: before the first byte, in SQLite's journal, while the
# store grows, while an output is written.
LIMITS = {
    "export": [1, 600],
    "export-over": [5],
    "circuit-out": [300],
    "circuit-diagram": [3000],
    "import": [700, 30_000],
    "import-new": [100, 20_000, 32_688],  # 32_688: the store is made, the import fails (found by hypothesis)
    "merge-new": [4096, 30_000],
    "merge": [512, 29_000],
    "collect": [2000, 45_000],
    "plot": [5000],
    "threshold": [1000, 40_000],
}


def test_every_writing_command_fails_in_one_line_under_a_file_size_limit(template, tmp_path):
    before = _state(template)
    cases = [("fsize", limit, name) for name, limits in LIMITS.items() for limit in limits]
    results = _drive(template, cases, cwd=tmp_path)
    for case, result in zip(cases, results):
        _check(case, result, before)
    codes = {case: result[0] for case, result in zip(cases, results)}
    assert all(code == 2 for case, code in codes.items() if case[1] <= 5000), codes
    # the collect that could commit some chunks says how many it kept, and they are in the store
    assert KEPT.search(results[cases.index(("fsize", 45_000, "collect"))][1]), results


SETTINGS = dict(
    deadline=None,
    derandomize=not os.environ.get("QEC_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CASES = st.lists(
    st.tuples(
        st.just("fsize"),
        st.one_of(st.integers(1, 4096), st.integers(4096, 80_000)),
        st.sampled_from(sorted(COMMANDS)),
    ),
    min_size=3,
    max_size=6,
)


def _any_limit(template: Path, folder: Path, cases: list) -> None:
    """Any writing command under any file-size limit: it succeeds, or fails in one line with every file intact."""
    before = _state(template)
    for case, result in zip(cases, _drive(template, cases, cwd=folder)):
        _check(case, result, before)


def _console_script(template: Path, folder: Path, limit: int, name: str) -> tuple[int, str]:
    """`qec` itself (the console script, not main() in a driver) on a copy of the template, under a hard and soft
    file-size limit of `limit` bytes set by preexec_fn, as `ulimit -f` sets it; checked as the driver's cases are."""
    shutil.copytree(template, folder)
    before = _state(folder)
    result = subprocess.run(
        [str(QEC), *COMMANDS[name]],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
    )
    _check((limit, name), (result.returncode, result.stderr, _state(folder)), before)
    return result.returncode, result.stderr


@settings(max_examples=FAST_EXAMPLES, **SETTINGS)
@given(cases=CASES)
def test_write_failures_under_any_file_size_limit_fast(template, tmp_path_factory, cases):
    _any_limit(template, tmp_path_factory.mktemp("fuzz"), cases)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
@given(cases=CASES)
def test_write_failures_under_any_file_size_limit(template, tmp_path_factory, cases):
    _any_limit(template, tmp_path_factory.mktemp("fuzz"), cases)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
@given(limit=st.one_of(st.integers(1, 4096), st.integers(4096, 80_000)), name=st.sampled_from(sorted(COMMANDS)))
def test_the_console_script_under_any_file_size_limit(template, tmp_path_factory, limit, name):
    _console_script(template, tmp_path_factory.mktemp("script") / "w", limit, name)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (mounting needs root and CAP_SYS_ADMIN: skipped without them)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()[:100]}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_every_writing_command_fails_in_one_line_on_a_full_disk(template, small_disk):
    before = _state(template)
    names = ["export", "export-over", "circuit-out", "circuit-diagram", "import", "import-new", "merge-new", "merge"]
    cases = [("disk", 0, name) for name in names] + [("disk", 0, "collect"), ("disk", 8192, "collect")]
    cases += [("disk", 0, "plot"), ("disk", 0, "threshold")]
    results = _drive(template, cases, cwd=small_disk)
    for case, result in zip(cases, results):
        _check(case, result, before)
        assert result[0] == 2 or case[1] > 0, (case, result[1])
    assert any("No space left on device" in result[1] for result in results), results
    assert any("database or disk is full" in result[1] for result in results), results


def test_the_console_script_fails_in_one_line_under_a_file_size_limit(template, tmp_path):
    """`qec collect` under `ulimit -f`-like limits (soft = hard, so SQLite cannot finish its rollback either): one
    line, the chunks it kept, and a journal that the next open rolls back."""
    code, err = _console_script(template, tmp_path / "w", 30_000, "collect")
    assert code == 2 and "disk I/O error" in err and "file-size limit of 30,000 bytes" in err, err


def test_a_folder_that_refuses_new_files(template, tmp_path):
    """circuit --out, export --out and collect with the store in a read-only folder, where permissions bind (as
    root, without the capabilities that override them)."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot bind")
    folder = tmp_path / "ro"
    shutil.copytree(template, folder)
    cases = {
        "circuit": ["circuit", "repetition", "--distance", "3", "--p", "0.05", "--out", "ro/c.stim"],
        "export": ["export", "--store", "ro/s.db", "--out", "ro/x.csv"],
        "collect": ["collect", "repetition", "--distance", "3", "--p", "0.05", *COLLECT[:-1], "ro/s.db"],
    }
    before = _state(folder)
    os.chmod(folder, 0o555)
    script = (
        "import contextlib, io, json, sys\nfrom qec.cli.main import main\nresults = []\n"
        "for argv in json.loads(sys.argv[1]):\n    err = io.StringIO()\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):\n"
        "        results.append([main(argv), err.getvalue()])\nprint(json.dumps(results))\n"
    )
    command = [sys.executable, "-c", script, json.dumps(list(cases.values()))]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == 0, result.stderr[-2000:]
    for name, (code, err) in zip(cases, json.loads(result.stdout.splitlines()[-1])):
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, (name, err)
        assert "not writable" in err, (name, err)
    assert _state(folder) == before


def test_a_refused_write_leaves_the_old_file_and_no_temporary(tmp_path):
    """write_atomically itself, past check_output_path: the write fails in the temporary, which is removed."""
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (10, hard))
    try:
        with pytest.raises(WriteFailed, match="File too large.*it keeps its old content") as failed:
            write_text_atomically(path, "x" * 100)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert isinstance(failed.value, OSError) and failed.value.errno == 27
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["out.csv"]


def test_a_store_write_that_fails_rolls_back_and_counts_the_kept_chunks(tmp_path):
    """Store.append past its file-size limit: StoreWriteFailed saying how many chunks this Store committed before,
    and the store holds exactly those."""
    task = memory_task("repetition", distance=3, p=0.05, noise="code-capacity", pauli="independent")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    with Store(tmp_path / "s.db") as store:
        store.add_tasks([task])
        size = os.path.getsize(tmp_path / "s.db")
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, hard))  # room for about one more page
        try:
            with pytest.raises(StoreWriteFailed, match=r"the store is intact \(write rolled back, (\d+) chunks?") as e:
                for index in range(10_000):
                    store.append(ChunkResult(task.task_id, index, Counts(100, 1), (1,)))
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        kept = int(re.search(r"(\d+) chunks? committed", str(e.value))[1])
        assert kept == index > 0
    with Store(tmp_path / "s.db", read_only=True) as store:
        assert store.totals()[task.task_id].chunks == kept
    assert sorted(os.listdir(tmp_path)) == ["s.db"]
    assert sqlite3.connect(tmp_path / "s.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)

"""Every `qec` command and the Python API under hostile values and paths (issue 10, point 9), by hypothesis.

Each CLI example runs `qec.cli.main.main(argv)` in-process, in a fresh copy of a workspace that holds
stores of every kind (good, with bad rows, conflicting, newer, WAL-mode, foreign, corrupt, empty), CSV
files, folders of .stim circuits, FIFOs, symlinks and names with odd characters; an example may add files of
its own (OpenQASM 2/3 texts, QPY written by `qiskit.qpy.dump` or cut short, pickles, `.npz` check matrices
written by `np.savez`, alist files). Besides the store commands it runs `qec mitigate WORKLOAD`, `mitigate
circuit FILE --observable OBS`, `mitigate vqe`, `codes/circuit/collect --code FILE|HX.alist,HZ.alist|bb:NAME`,
and `stats`/`plot` slices (`--where`, `--group-by`, `--x`, `--rate`, `--fit/--no-fit`, `--observables`). It
asserts:

- the exit code is 0 or 2, and nothing escapes `main` (no traceback, and no hang: a FIFO is never opened);
- on 2, stderr is one `error: ...` line. It may be preceded by `warning: skipped N bad row(s) ...` lines,
  one per store read that met bad rows (the store with bad rows is read before the command fails; the
  warning is one line of its own and is allowed, nothing else is);
- a failed command changes nothing in the workspace: no store content, no file, no new file or folder;
- a command that succeeds only appends to stores, and only to the one it writes: per task at most
  `--max-shots` in all (collect, threshold), the shots of that task in the CSV (import), or in the sources
  (merge). Read commands (stats, export, plot) and codes/circuit/mitigate change no store;
- a successful `export --out` imported back into its store adds nothing.

The Python API (`qec.Store`, `qec.Task`, `qec.collect`, `Store.import_sinter_csv`, `Store.merge_from`, the
parsers, `tasks_from_folder`, `check_output_path`) gets the same values and must raise `QecInputError`,
never another exception type, for bad ones.

Root ignores file permissions, so read-only files are tested apart, in a subprocess without the
capabilities that let root override them (`test_read_only_paths_without_root_powers`).

The default run is small (~10 s); `pytest --slow` runs the big one. Both are derandomized (reproducible)
and print their size.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path

import pytest
import stim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qec
from qec.cli.main import main
from qec.errors import QecInputError

FAST_EXAMPLES = int(os.environ.get("QEC_FUZZ_EXAMPLES", 80))
SLOW_EXAMPLES = int(os.environ.get("QEC_FUZZ_EXAMPLES", 600))
FAST_API_EXAMPLES = int(os.environ.get("QEC_FUZZ_API_EXAMPLES", 150))
SLOW_API_EXAMPLES = int(os.environ.get("QEC_FUZZ_API_EXAMPLES", 800))
EXAMPLE_SECONDS = 60  # one example takes well under a second; this only turns a hang into a failure
# Reproducible by default; QEC_FUZZ_RANDOM=1 (with pytest's --hypothesis-seed=N) explores other examples.
SETTINGS = dict(
    deadline=None,
    derandomize=not os.environ.get("QEC_FUZZ_RANDOM"),
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

ODD = "odd 'q\" #%?\nü.db"  # an existing copy of base.db with quotes, a newline, #, %, ? and unicode
ODD_NEW = "new 'q\" #%?ü\n"  # the stem of paths that do not exist yet
SQLITE_HEADER = b"SQLite format 3\x00"
REPETITION = str(
    stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2, before_round_data_depolarization=0.05)
)
REPETITION_5 = str(
    stim.Circuit.generated("repetition_code:memory", distance=5, rounds=1, before_round_data_depolarization=0.1)
)


# ---------------------------------------------------------------------------------------------------------
# The workspace: built once, copied for every example.


def quiet_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    assert code == 0, (argv, err.getvalue())
    return out.getvalue()


def build_template(folder: Path) -> dict:
    """The stores, CSVs, circuit folders, links and odd names every example starts from; returns what the
    CSV placeholders stand for (base.db's task ids, decoders and metadata)."""
    os.chdir(folder)
    study = [
        "repetition",
        "--distance",
        "3",
        "--noise",
        "code-capacity",
        "--pauli",
        "independent",
        "--rounds",
        "1",
        "--workers",
        "1",
        "--chunk-shots",
        "250",
    ]
    quiet_main(["collect", *study, "--p", "0.05,0.1", "--max-shots", "1000", "--store", "base.db"])
    Path("sinter.csv").write_text(
        "shots,errors,discards,seconds,decoder,strong_id,json_metadata\n"
        '1000,42,0,0.125,pymatching,9c31908e2b,"{""d"":9,""p"":0.001}"\n'
        '1000,42,0,0.125,pymatching,9c31908e2b,"{""d"":9,""p"":0.001}"\n'
        '500,250,0,0.5,pymatching,deadbeef08,"{""d"":7,""p"":0.01,""family"":""surface""}"\n'
    )
    quiet_main(["import", "sinter.csv", "--store", "base.db", "--accept-new-rows"])  # its two equal rows: both new
    quiet_main(["collect", *study, "--p", "0.05,0.1", "--max-shots", "1500", "--store", "other.db"])
    quiet_main(["collect", *study, "--p", "0.2", "--max-shots", "500", "--store", "other.db"])
    quiet_main(["export", "--store", "base.db", "--out", "export.csv"])
    quiet_main(
        ["collect", *study[:2], "3,5", *study[3:], "--p", "0.05,0.1,0.15", "--max-shots", "500", "--store", "study.db"]
    )
    connection = sqlite3.connect("base.db")
    tasks = connection.execute("SELECT task_id, decoder, metadata FROM tasks ORDER BY task_id").fetchall()
    connection.close()
    for name in ("conflict.db", "badrows.db", "newer.db", "wal.db", "corrupt.db", ODD):
        shutil.copy("base.db" if name != "badrows.db" else "other.db", name)
    with contextlib.closing(sqlite3.connect("conflict.db")) as connection, connection:
        connection.execute("UPDATE tasks SET decoder = 'uf' WHERE task_id = ?", (tasks[0][0],))
    with contextlib.closing(sqlite3.connect("badrows.db")) as connection, connection:
        connection.executemany(
            "INSERT INTO tasks VALUES (?, ?, ?, NULL)",
            [
                ("bad-list", "pymatching", "[1, 2]"),
                ("bad-distance", "pymatching", '{"distance": "abc"}'),
                ("bad\nid", "pymatching", "{}"),
                ("bad-decoder", "no decoder", "{}"),
                ("bad-json", "pymatching", "{"),
            ],
        )
        good = connection.execute("SELECT task_id FROM tasks WHERE metadata LIKE '%family%' LIMIT 1").fetchone()[0]
        connection.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, '[]', 0, 'test')",
            [
                ("bad-list", 0, 100, 1, 0, 0.1),
                (good, 1000, 10, 20, 0, 0.1),
                (good, 1001, -5, 0, 0, 0.1),
                (good, 1002, 10, 0, 0, "x"),
                (good, 1003, 2**62, 0, 0, 0.1),
                (good, 1004, 2**62, 0, 0, 0.1),
            ],
        )
    with contextlib.closing(sqlite3.connect("newer.db")) as connection, connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    with contextlib.closing(sqlite3.connect("wal.db")) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
    with contextlib.closing(sqlite3.connect("foreign.db")) as connection, connection:
        connection.execute("CREATE TABLE t (x)")
    data = bytearray(Path("corrupt.db").read_bytes())
    data[4096:8192] = os.urandom(4096) if len(data) >= 8192 else data[4096:8192]
    data[2 * 4096 : 2 * 4096 + 64] = b"\xff" * 64
    Path("corrupt.db").write_bytes(bytes(data))
    Path("empty.db").write_bytes(b"")
    Path("empty.csv").write_bytes(b"")
    Path("text.db").write_text("not a store\n")
    Path("binary.csv").write_bytes(b"\xff\xfe\x00shots\x80\n")
    Path("circuits").mkdir()
    Path("circuits/d=3,p=0.05,family=repetition.stim").write_text(REPETITION)
    for name in ("folder", "folder.png", "sub", "empty-folder"):
        Path(name).mkdir()
    os.symlink("base.db", "link.db")
    os.symlink("base.db", "link.csv")
    os.symlink("nowhere.db", "broken.db")
    os.symlink("folder", "linkdir")
    return (
        {f"@BASE_ID{i}@": row[0] for i, row in enumerate(tasks)}
        | {f"@BASE_DECODER{i}@": row[1] for i, row in enumerate(tasks)}
        | {f"@BASE_META{i}@": row[2] for i, row in enumerate(tasks)}
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    here = os.getcwd()
    try:
        placeholders = build_template(folder)
    finally:
        os.chdir(here)
    return folder, placeholders


class Workspace:
    """A fresh copy of the template, the cwd while an example runs; FIFOs are made here (copies cannot)."""

    def __init__(self, template_folder: Path, placeholders: dict):
        self.root = Path(tempfile.mkdtemp(prefix="fuzz-"))
        self.path = self.root / "w"
        shutil.copytree(template_folder, self.path, symlinks=True)
        self.placeholders = placeholders
        for fifo in ("fifo.db", "fifo.csv", "fifo.png"):
            os.mkfifo(self.path / fifo)
        (self.path / "fifo-circuits").mkdir()
        (self.path / "fifo-circuits" / "d=3,p=0.05.stim").write_text(REPETITION)
        os.mkfifo(self.path / "fifo-circuits" / "d=5,p=0.05.stim")
        self._cwd = os.getcwd()

    def __enter__(self) -> Workspace:
        os.chdir(self.path)
        return self

    def __exit__(self, *exc) -> None:
        os.chdir(self._cwd)
        shutil.rmtree(self.root, ignore_errors=True)

    def resolve(self, text: str) -> str:
        """`@/` stands for the workspace's absolute path, `@BASE_...@` for base.db's tasks."""
        text = text.replace("@/", f"{self.path}/")
        for key, value in self.placeholders.items():
            text = text.replace(key, value)
        return text

    def write(self, files: dict) -> None:
        """Creates the example's own files: name -> text, bytes, or a (kind, ...) tuple."""
        for name, content in files.items():
            path = self.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, tuple):
                kind = content[0]
                if kind == "fifo":
                    os.mkfifo(path)
                elif kind == "dir":
                    path.mkdir(exist_ok=True)
                elif kind == "link":
                    os.symlink(content[1], path)
                elif kind == "copy":
                    shutil.copy(self.path / content[1], path)
                elif kind in ("qpy", "qpy-cut"):  # a QPY file of an OpenQASM 2 text, whole or cut short
                    from qiskit import qasm2, qpy

                    buffer = io.BytesIO()
                    qpy.dump(qasm2.loads(content[1]), buffer)
                    data = buffer.getvalue()
                    path.write_bytes(data if kind == "qpy" else data[: len(data) // 2])
                elif kind == "npz":  # np.savez of name -> nested lists (object arrays pickled, as numpy does)
                    import numpy as np

                    with open(path, "wb") as file:
                        np.savez(file, **{key: np.array(value, **kw) for key, (value, kw) in content[1].items()})
                elif kind == "alist":
                    from qec.codes.matrices import write_alist

                    write_alist(path, content[1])
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(self.resolve(content))


# ---------------------------------------------------------------------------------------------------------
# What the workspace holds, read without changing it (sqlite3 directly, immutable: no -shm, no journal).


def store_content(path: Path):
    """(task rows, chunk rows) of an SQLite file with qec's tables, or None."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro&immutable=1"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            tasks = frozenset(connection.execute("SELECT task_id, decoder, metadata FROM tasks"))
            chunks = frozenset(connection.execute("SELECT task_id, chunk, shots, errors, discards FROM chunks"))
    except sqlite3.DatabaseError:
        return None
    return tasks, chunks


def snapshot(root: Path) -> dict:
    """Every path under `root` with what it is: a store's rows, a file's hash, a link's target, a folder."""
    state = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder) / name
            relative = str(path.relative_to(root))
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                state[relative] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                state[relative] = ("dir",)
            elif stat.S_ISFIFO(mode):
                state[relative] = ("fifo",)
            else:
                data = path.read_bytes()
                content = store_content(path) if data.startswith(SQLITE_HEADER) else None
                state[relative] = ("store", content) if content else ("file", hashlib.sha256(data).hexdigest())
    return state


def shots_per_task(chunks) -> collections.Counter:
    totals = collections.Counter()
    for task_id, _, shots, _, _ in chunks:
        totals[task_id] += shots
    return totals


def csv_shots_per_task(text: str) -> collections.Counter:
    """An upper bound on what importing `text` may add, per strong_id (lenient: what a valid file holds)."""
    totals = collections.Counter()
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), skipinitialspace=True))
    except csv.Error:
        return totals
    if not rows:
        return totals
    header = [name.strip() for name in rows[0]]
    if "shots" not in header or "strong_id" not in header:
        return totals
    for values in rows[1:]:
        if len(values) != len(header):
            continue
        row = dict(zip(header, (value.strip() for value in values)))
        try:
            totals[row["strong_id"]] += max(0, int(row["shots"]))
        except ValueError:
            pass
    return totals


# ---------------------------------------------------------------------------------------------------------
# Strategies: hostile values for every option, and paths of every kind.


def one_of_texts(*choices):
    return st.sampled_from(choices)


def rarely(draw, n: int) -> bool:
    """True once in `n` draws (hypothesis favours the ends of integer ranges; a list of choices it does not)."""
    return draw(st.sampled_from((False,) * (n - 1) + (True,)))


def values(valid, hostile):
    """One of `valid` seven times in eight, else one of `hostile`, so that many examples get far enough to work
    (a command has up to ~10 options; each hostile one ends it)."""
    weight = max(1, round(7 * len(hostile) / len(valid)))
    return st.sampled_from(tuple(valid) * weight + tuple(hostile))


STORE_PATHS = values(
    (
        "base.db",
        "./base.db",
        "sub/../base.db",
        "@/base.db",
        "@/sub/../base.db",
        "link.db",
        "other.db",
        "badrows.db",
        "wal.db",
        "new.db",
        f"{ODD_NEW}.db",
        ODD,
        "ü.db",
        "study.db",
        "study.db",
    ),
    (
        "conflict.db",
        "newer.db",
        "foreign.db",
        "corrupt.db",
        "empty.db",
        "text.db",
        "folder",
        "linkdir",
        "fifo.db",
        "broken.db",
        "nofolder/new.db",
        "base.db/new.db",
        "export.csv",
        "circuits",
        "",
        ".",
        "base.db-journal",
        "-",
    ),
)
EXISTING_OUTPUTS = one_of_texts(
    "base.db",
    "./base.db",
    "@/base.db",
    "link.db",
    "link.csv",
    "base.db-journal",
    "other.db",
    "foreign.db",
    "corrupt.db",
    "export.csv",
    "sinter.csv",
    "fifo.csv",
    "fifo.png",
    "folder",
    "folder.png",
    ".",
    "linkdir",
    "broken.db",
    ODD,
    "empty.csv",
    "circuits/d=3,p=0.05,family=repetition.stim",
)


def output_paths(suffixes: tuple[str, ...]):
    """A new file (mostly where it can be written, with a suffix the option takes) or an existing path."""
    fresh = st.builds(
        lambda folder, stem, suffix: f"{folder}{stem}{suffix}",
        values(("", "./", "folder/", "sub/../", "@/", "linkdir/"), ("nofolder/", "empty.db/", "fifo.db/")),
        one_of_texts("out", "o ut", "o'\"#%?", "ü\nx", "-dash", ".hidden", "out.db"),
        values(suffixes, (".gif", "", ".DB", ".csv", ".png", ".db", ".stim")),
    )
    return st.one_of(fresh, fresh, fresh, EXISTING_OUTPUTS)


CSV_INPUTS = values(
    ("export.csv", "sinter.csv", "link.csv"),
    (
        "empty.csv",
        "binary.csv",
        "fifo.csv",
        "folder",
        "missing.csv",
        "base.db",
        "broken.db",
        "nofolder/x.csv",
        "-x.csv",
        ODD,
    ),
)

VALID_SINTER_HEADER = "shots,errors,discards,seconds,decoder,strong_id,json_metadata"
HEADERS = (
    VALID_SINTER_HEADER,
    VALID_SINTER_HEADER + ",custom_counts",
    VALID_SINTER_HEADER + ",qec_sample",
    "     shots,    errors,  discards, seconds,decoder,strong_id,json_metadata,custom_counts",
    "json_metadata,strong_id,decoder,seconds,discards,errors,shots",
    "shots,errors,discards,seconds,decoder,strong_id",
    "shots,shots,errors,discards,seconds,decoder,strong_id,json_metadata",
    "\ufeffshots,errors,discards,seconds,decoder,strong_id,json_metadata",
    "",
    "a;b;c",
)
HOSTILE_FIELDS = (
    "",
    "-1",
    "abc",
    "1.5",
    "1e3",
    "nan",
    "inf",
    "-inf",
    "99999999999999999999",
    "9223372036854775808",
    " 7",
    "0x10",
    "[1, 2]",
    '{"distance": "abc"}',
    '{"p": 2}',
    '{"d": 0}',
    "null",
    "{",
    '"x"',
    '{"p": NaN}',
    "a b",
    "ü",
    "bad\nline",
    '{"noise": 1}',
    '{"rounds": 2.5}',
    "@BASE_ID0@",
    "@BASE_META1@",
    '{"a": -1}',
)


@st.composite
def sinter_rows(draw):
    """One row as field values by column name: valid, or with one field made hostile."""
    shots = draw(st.integers(0, 3000))
    errors = draw(st.integers(0, shots))
    discards = draw(st.integers(0, shots - errors))
    base = draw(st.sampled_from(["0", "1", "2"]))
    same_task = draw(st.booleans())
    metadata = (
        f"@BASE_META{base}@"
        if same_task
        else json.dumps(
            draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "d": st.integers(1, 9),
                        "p": st.floats(0, 1),
                        "noise": st.sampled_from(["sd6", "x"]),
                        "family": st.just("surface"),
                        "other": st.text(max_size=4),
                    },
                )
            )
        )
    )
    row = {
        "shots": str(shots),
        "errors": str(errors),
        "discards": str(discards),
        "seconds": repr(draw(st.floats(0, 10))),
        "decoder": f"@BASE_DECODER{base}@" if same_task else draw(st.sampled_from(["pymatching", "uf", "x-1"])),
        "strong_id": f"@BASE_ID{base}@" if same_task else draw(st.sampled_from(["abc123", "9c31908e2b", "f00"])),
        "json_metadata": metadata,
        "custom_counts": draw(st.sampled_from(["", "", '{"det": 3}', '{"a": -1}', "x"])),
        "qec_sample": draw(st.sampled_from(["", str(draw(st.integers(-3, 12))), "abc", "-0", "1.5"])),
    }
    if rarely(draw, 4):
        field = draw(st.sampled_from(sorted(row)))
        row[field] = draw(st.one_of(st.sampled_from(HOSTILE_FIELDS), st.text(max_size=8)))
    return row


@st.composite
def csv_texts(draw):
    header = draw(values(HEADERS[:4], HEADERS[4:]))
    columns = [name.strip().lstrip("\ufeff") for name in header.split(",")]
    lines = [header]
    for row in draw(st.lists(sinter_rows(), max_size=6)):
        fields = [row.get(column, "") for column in columns]
        if rarely(draw, 10):
            fields = fields[: draw(st.integers(0, len(fields)))]  # a short row
        if rarely(draw, 10):
            lines.append(",".join(fields))  # unquoted: JSON commas split the row
        else:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="").writerow(fields)
            lines.append(buffer.getvalue())
    if rarely(draw, 5) and len(lines) > 1:
        lines.append(lines[-1])  # an equal row: counts separately
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))


CIRCUIT_NAMES = one_of_texts(
    "d=3,p=0.05.stim",
    "d=abc,p=0.01.stim",
    "d=0.stim",
    "p=2.stim",
    "d=3,p=nan.stim",
    "d=3,p=inf.stim",
    "rounds=-1.stim",
    "d=3,d=5.stim",
    "noise=1.stim",
    "x.stim",
    " .stim",
    "ü #%?'\".stim",
    "d=3,p=0.05,family=rep.stim",
    "no-extension",
    "d=99999999999999999999999.stim",
    "p=1e-400.stim",
    "decoder=5.stim",
    "d=3,p=0.1,r=2.stim",
    "=.stim",
    "d==3.stim",
    "d=3,,p=0.1.stim",
    "a\nb=1.stim",
    ".stim",
    "D=3.STIM",
    "family=[1].stim",
)
CIRCUIT_CONTENTS = st.sampled_from(
    [
        REPETITION,
        REPETITION_5,
        "R 0\nX_ERROR(0.1) 0\nM 0\nDETECTOR rec[-1]\n",
        "H 0\nNOT_A_GATE 1\n",
        "",
        b"\xff\xfe\x00\x80",
        ("fifo",),
        ("dir",),
        ("link", "nowhere.stim"),
        "REPEAT 1000000000000 {\n X_ERROR(0.1) 0\n M 0\n DETECTOR rec[-1]\n}\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
        "X_ERROR(0.1) 0\nM 0\nOBSERVABLE_INCLUDE(100000) rec[-1]\n",
        "X_ERROR(0.1) 100000000\nM 100000000\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
        "X_ERROR(0.1) 0\nM 0\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
        "X_ERROR(2) 0\nM 0\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
        "M 0\nDETECTOR rec[-5]\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
    ]
)


@st.composite
def circuit_folders(draw):
    """A folder argument for `collect --circuits`, and the files to create for it."""
    kind = draw(st.sampled_from(["generated", "generated", "generated", "existing"]))
    if kind == "existing":
        return draw(
            one_of_texts(
                "circuits",
                "fifo-circuits",
                "empty-folder",
                "folder",
                "missing",
                "base.db",
                "fifo.db",
                "linkdir",
                "nofolder/x",
                "@/circuits",
                "circuits/",
            )
        ), {}
    folder = draw(one_of_texts("gen", f"{ODD_NEW}gen", "gen dir#%"))
    names = draw(st.lists(CIRCUIT_NAMES, min_size=0, max_size=4, unique=True))
    return folder, {f"{folder}/{name}": draw(CIRCUIT_CONTENTS) for name in names} | {folder: ("dir",)}


INT_BAD = ("0", "-1", "abc", "", "1.5", "1e3", "99999999999999999999999", "0x10", "-0")
DISTANCES = values(
    ("3", "3,5", "5,3", "1", "2", "4", "3, 5", "٣"),
    ("", ",", "0", "-3", "3,abc", "1000000000", "3;5", "3,,5", "1e3", "9223372036854775808"),
)
P_GRIDS = values(
    ("0.05", "0.05,0.1", "0.02:0.1:3", "0.1", "1", "0.3", "0.01:0.2:2"),
    (
        "0",
        "-0.1",
        "1.5",
        "nan",
        "inf",
        "0.1:0.01:3",
        "0.01:0.1:0",
        "0.01:0.1:1000000000",
        "0.001:oops",
        ":",
        "a,b",
        "",
        "1e-400",
        "0.01:0.1:3:4",
        "0.01:0.1:-2",
        ",,",
        "0.05,nan",
    ),
)
ROUNDS = values(("d", "D", "1", "2", " d "), ("0", "-1", "x", "", "1000000000000"))
NOISES = values(("code-capacity", "phenomenological", "uniform", "sd6", "si1000", "biased", "none"), ("bogus", ""))
FAMILIES = values(
    ("repetition", "repetition", "surface", "unrotated-surface", "shor", "color"), ("nope", "", "REPETITION", "-")
)
PAULIS = values(("independent", "depolarizing"), ("bogus", ""))
BASES = values(("Z", "X", "x"), ("Y", "", "ZZ"))
DECODERS = values(("pymatching",) * 4 + ("uf", "lookup"), ("magic", "", "bp osd", "ü"))
MAX_SHOTS = values(("1", "7", "100", "333", "500", "1000", "1999", "2000"), INT_BAD)
MAX_ERRORS = values(("5", "50", "1000"), ("0", "-1", "x", ""))
PRECISIONS = values(("0.5", "0.2"), ("0", "1", "nan", "-0.1", "x", "inf", "", "1e-300"))
WORKERS = values(("1", "1", "1", "2"), ("0", "-1", "1000000", "x", ""))
CHUNK_SHOTS = values(
    ("1", "50", "100", "250", "600", "1000000"), ("0", "-1", "x", "", "1000001", "99999999999999999999")
)
CLUSTERS = one_of_texts("local:x", "local:0", "local:", "nope", "local:-1", "")


def options(draw, pairs):
    """Each (option, strategy) with probability 1/2, in a random order; a flag when the strategy is None."""
    argv = []
    for name, values in draw(st.permutations(pairs)):
        if draw(st.booleans()):
            argv += [name] if values is None else [name, draw(values)]
    return argv


def store_option(draw, paths=STORE_PATHS):
    """--store PATH, seven times in eight (else the default store, which is missing)."""
    return ["--store", draw(paths)] if not rarely(draw, 8) else []


def study_options(draw):
    argv = ["--distance", draw(DISTANCES), "--p", draw(P_GRIDS), "--max-shots", draw(MAX_SHOTS)]
    argv += options(
        draw,
        [
            ("--noise", NOISES),
            ("--rounds", ROUNDS),
            ("--basis", BASES),
            ("--decoder", DECODERS),
            ("--pauli", PAULIS),
            ("--max-errors", MAX_ERRORS),
            ("--precision", PRECISIONS),
            ("--workers", WORKERS),
            ("--chunk-shots", CHUNK_SHOTS),
            ("--store", STORE_PATHS),
            ("--json", None),
        ],
    )
    if "--workers" not in argv:
        argv += ["--workers", "1"]
    if rarely(draw, 10):
        argv += ["--cluster", draw(CLUSTERS)] + (["--scheduler", "tcp://127.0.0.1:1"] if draw(st.booleans()) else [])
    return argv


# Inputs of this session's commands: user circuits and observables (mitigate circuit), VQE, user CSS codes
# (.npz, alist, bb:NAME) and store slices (stats/plot --where, --group-by, --x, --rate, --fit).

QASM2_BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
QASM2_THREE = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nh q[0];\ncx q[0],q[1];\nrz(0.3) q[2];\nccx q[0],q[1],q[2];\n'
)
QASM3_BELL = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nh q[0];\ncx q[0], q[1];\nc = measure q;\n'
USER_CIRCUITS = values(
    (QASM2_BELL, QASM3_BELL, QASM2_THREE, ("qpy", QASM2_BELL), ("qpy", QASM2_THREE)),
    (
        "",
        b"\x00\xff\xfe garbage \x80",
        b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.",  # pickle.dumps({'a': 1})
        ("qpy-cut", QASM2_BELL),
        b"QISKIT",
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0]\ncx q[0],q[1];\n',  # no semicolon
        "OPENQASM 2.0;\nqreg q[2];\nfoo q[0];\n",
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\nmeasure q[0] -> c[0];\ncx q[0],q[1];\n',
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nmeasure q[0] -> c[0];\nif(c==1) x q[1];\n',
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit b;\nb = measure q[0];\nif (b) x q[1];\n',
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[100000000];\nh q[0];\n',
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[40];\nh q;\n',
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nreset q[0];\nh q[0];\nreset q[0];\n',
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[0];\n',
        "OPENQASM 4.0;\nqreg q[2];\n",
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float theta;\nqubit[2] q;\nrx(theta) q[0];\n',
        "OPENQASM 3.0;\nqubit[2] q;\nfor int i in [0:1000000000] { x q[0]; }\n",
        ("dir",),
        ("fifo",),
        ("link", "nowhere.qasm"),
    ),
)
CIRCUIT_FILE_NAMES = values(("c.qasm", "c.qpy", "c", f"{ODD_NEW}.qasm"), ("-c.qasm", "c.qasm/", "c #%?.qpy"))
OBSERVABLES = values(
    ("ZZ", "0.5*XX - ZI", "bitstring:01", "IZ", "XX + 0.25*YY", "-ZZ"),
    (
        "Z",
        "ZZZZZZZ",
        "Q",
        "QQ",
        "1e999*ZZ",
        "nan*ZZ",
        "inf*ZZ",
        "__import__('os')",
        "",
        " ",
        "bitstring:2",
        "bitstring:",
        "bitstring:0101010101",
        "ZZ +",
        "+",
        "0*ZZ",
        "1e-400*ZZ",
        "ZZ" * 3000,
        "bitstring:" + "0" * 5000,
        "zz",
        "2j*ZZ",
        "ü",
    ),
)
MITIGATE_NOISES = values(("p2=0.01", "p1=0.001,readout=0.02"), ("p2=abc", "p2=2", "", "readout=nan"))
MITIGATE_TECHNIQUES = values(("zne", "rem", "none", "rem+zne"), ("bogus", "", "ZNE"))
MITIGATE_METHODS = values(("auto", "statevector", "density_matrix"), ("stabilizer", "x"))

HAMMING = [[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]]
UINT8, NO_KW = {"dtype": "uint8"}, {}
CODE_NPZ = values(
    ({"hx": (HAMMING, UINT8), "hz": (HAMMING, UINT8)}, {"hx": (HAMMING, NO_KW), "hz": (HAMMING, {"dtype": bool})}),
    (
        {"hx": ([[2, 0, 1, 0, 1, 0, 1], *HAMMING[1:]], NO_KW), "hz": (HAMMING, NO_KW)},  # not binary
        {"hx": ([[-1, 0, 1, 0, 1, 0, 1], *HAMMING[1:]], NO_KW), "hz": (HAMMING, NO_KW)},
        {"hx": ([[0.5] * 7] * 3, NO_KW), "hz": (HAMMING, NO_KW)},
        {"hx": ([[float("nan")] * 7] * 3, NO_KW), "hz": (HAMMING, NO_KW)},
        {"hx": (HAMMING, NO_KW), "hz": ([[1, 0, 0, 0, 0, 0, 0]], NO_KW)},  # does not commute with hx
        {"hx": ([[1, 1]], NO_KW), "hz": ([[1, 1]], NO_KW)},  # k = 0
        {"hx": ([[1, 0, 0, 0, 0, 0, 0]] + [[0] * 7] * 2, NO_KW), "hz": (HAMMING, NO_KW)},
        {"hz": (HAMMING, NO_KW)},  # no hx
        {"hx": (HAMMING, {"dtype": object}), "hz": (HAMMING, NO_KW)},  # pickled on save: refused on load
        {"hx": (HAMMING, NO_KW), "hz": ([row[:6] for row in HAMMING], NO_KW)},  # wrong shapes
        {"hx": (HAMMING[0], NO_KW), "hz": (HAMMING[0], NO_KW)},  # one dimension
        {"hx": ([HAMMING], NO_KW), "hz": ([HAMMING], NO_KW)},  # three dimensions
        {"hx": ([[]], NO_KW), "hz": ([[]], NO_KW)},
        {"hx": ("abc", NO_KW), "hz": (HAMMING, NO_KW)},
        {"hx": (HAMMING, {"dtype": "complex128"}), "hz": (HAMMING, NO_KW)},
        {"hx": ([[1] * 100001], UINT8), "hz": ([[0] * 100001], UINT8)},
        {
            "hx_data": ([1, 1], NO_KW),
            "hx_indices": ([0, 99], NO_KW),
            "hx_indptr": ([0, 2], NO_KW),
            "hx_shape": ([1, 7], NO_KW),
            "hz": (HAMMING, NO_KW),
        },
        {
            "hx_data": ([1], NO_KW),
            "hx_indices": ([0], NO_KW),
            "hx_indptr": ([0, 1], NO_KW),
            "hx_shape": ([-1, 7], NO_KW),
            "hz": (HAMMING, NO_KW),
        },
    ),
)
ALIST_BAD = ("", "7 3\n", "7 3\n1 3\n1 1 1 1 1 1 1\n3 3 3\nx\n", "0 0\n0 0\n", b"\xff\x00", "-7 3\n1 3\n")


@st.composite
def code_arguments(draw):
    """A --code value and the files to create for it: a .npz, two alist files, bb:NAME, or a bad path."""
    kind = draw(st.sampled_from(["npz"] * 4 + ["alist"] * 2 + ["bb", "path"]))
    if kind == "npz":
        name = draw(values(("steane.npz", f"{ODD_NEW}.npz", "s.NPZ"), ("steane", "steane.npz/")))
        if rarely(draw, 8):
            return name, {name: draw(st.sampled_from([b"PK\x03\x04garbage", b"", "hx,hz", ("dir",), ("fifo",)]))}
        return name, {name: ("npz", draw(CODE_NPZ))}
    if kind == "alist":
        good = ("alist", HAMMING)
        hx = draw(values((good,), ALIST_BAD))
        hz = draw(values((good,), ALIST_BAD))
        order = draw(st.sampled_from(["HX.alist,HZ.alist", "HX.alist,HZ.alist", "HX.alist", "HX.alist,", ",HZ.alist"]))
        return order, {"HX.alist": hx, "HZ.alist": hz}
    if kind == "bb":
        return draw(values(("bb:72,12,6", "bb:gross", "BB:72,12,6"), ("bb:nope", "bb:", "bb:1,2,3", "bb:72,12"))), {}
    return draw(one_of_texts("missing.npz", "folder", "base.db", "fifo.db", "export.csv", "", "x.alist,y.alist")), {}


SLICE_WHERES = values(
    ("distance=3", "family=repetition", "decoder=pymatching", "distance=3,5", "noise=code-capacity", "p=0.05"),
    ("", "=", "distance", "distance=", "=3", "nokey=1", "distance=abc", "p=nan", "a=b=c", "ü=ü", "distance=3,,5"),
)
SLICE_KEYS = values(
    ("distance", "family", "decoder", "p", "noise,distance"), ("", ",", "bogus", "distance,distance", "ü")
)
SLICE_X = values(("p", "distance", "rounds"), ("family", "bogus", "", "decoder"))
SLICE_RATES = values(("shot", "round", "qubit"), ("bogus", "", "SHOT"))


def slice_options(draw, *, plot: bool) -> list[str]:
    argv = options(
        draw, [("--group-by", SLICE_KEYS), ("--x", SLICE_X), ("--rate", SLICE_RATES), ("--observables", None)]
    )
    argv += [arg for _ in range(draw(st.integers(0, 2))) for arg in ("--where", draw(SLICE_WHERES))]
    if plot and draw(st.booleans()):
        argv.append(draw(one_of_texts("--fit", "--no-fit")))
    return argv if not plot else [a for a in argv if a != "--observables"]


@st.composite
def cli_commands(draw):
    """(argv, files to create) for one command; argv may name the workspace with `@/`."""
    command = draw(
        st.sampled_from(
            ["codes"]
            + ["circuit"] * 2
            + ["threshold"] * 2
            + ["collect"] * 3
            + ["stats"]
            + ["plot"] * 2
            + ["export"] * 2
            + ["import"] * 3
            + ["merge"] * 3
            + ["mitigate"]
            + ["mitigate-circuit", "vqe", "user-code", "user-code", "slice", "slice"]
        )
    )
    files: dict = {}
    if command == "mitigate-circuit":
        name, content = draw(CIRCUIT_FILE_NAMES), draw(USER_CIRCUITS)
        argv = ["mitigate", "circuit"]
        if not rarely(draw, 12):
            argv.append(draw(values((name,), ("missing.qasm", "folder", "fifo.db", "base.db", "", "-"))))
            files = {name.rstrip("/"): content} if not name.endswith("/") else {}
        if not rarely(draw, 12):
            argv += ["--observable", draw(OBSERVABLES)]
        argv += ["--shots", draw(values(("100", "200"), ("0", "-1", "99999999999")))]
        argv += options(
            draw,
            [
                ("--noise", MITIGATE_NOISES),
                ("--technique", MITIGATE_TECHNIQUES),
                ("--method", MITIGATE_METHODS),
                ("--scale-factors", values(("1,3", "1,2"), ("1", "nan,1", "x"))),
                ("--seed", values(("0", "7"), ("-1",))),
                ("--json", None),
            ],
        )
        argv += ["--pec-samples", "5"]
    elif command == "vqe":
        argv = [
            "mitigate",
            "vqe",
            "--iterations",
            draw(values(("1", "2", "3"), ("0", "-1", "100000000", "x"))),
            "--shots",
            draw(values(("100", "200"), ("0", "-1", "99999999999"))),
            *options(
                draw,
                [
                    ("--hamiltonian", values(("tfim", "heisenberg", "h2"), ("bogus", "", "TFIM"))),
                    ("--qubits", values(("2", "3"), ("0", "1", "-1", "1000000", "x"))),
                    ("--optimizer", values(("cobyla", "spsa"), ("bogus", "", "COBYLA"))),
                    ("--technique", MITIGATE_TECHNIQUES),
                    ("--layers", values(("1", "2"), ("0", "-1", "1000"))),
                    ("--noise", MITIGATE_NOISES),
                    ("--method", MITIGATE_METHODS),
                    ("--plot", output_paths((".png",))),
                    ("--json", None),
                ],
            ),
        ]
    elif command == "user-code":
        code, files = draw(code_arguments())
        which = draw(st.sampled_from(["codes", "circuit", "circuit", "collect"]))
        if which == "codes":
            argv = ["codes", "--code", code, "--max-seconds", "1"]
            argv += options(draw, [("--rounds", values(("1", "2"), ("0", "-1", "x"))), ("--json", None)])
        elif which == "circuit":
            argv = ["circuit", draw(values(("css",), ("repetition", "CSS"))), "--code", code]
            argv += options(
                draw,
                [
                    ("--rounds", values(("1", "2"), ("0", "-2", "x"))),
                    ("--basis", BASES),
                    ("--noise", NOISES),
                    ("--p", values(("0.001", "0"), ("1.5", "nan"))),
                    ("--out", output_paths((".stim",))),
                ],
            )
        else:
            if code.lower().startswith("bb:"):  # a BB code's study is too slow for a fuzz example
                code, files = "steane.npz", {"steane.npz": ("npz", {"hx": (HAMMING, UINT8), "hz": (HAMMING, UINT8)})}
            argv = ["collect", "css", "--code", code, *study_options(draw)]
            argv[argv.index("--max-shots") + 1] = draw(values(("50", "200"), ("0", "x")))
            argv += ["--rounds", "1"]
    elif command == "slice":
        stores = values(("study.db", "study.db", "base.db", "other.db"), ("empty.db", "missing.db", "badrows.db"))
        if draw(st.booleans()):
            argv = ["stats", *store_option(draw, stores), *slice_options(draw, plot=False)]
            argv += options(draw, [("--json", None)])
        else:
            argv = ["plot", "--out", draw(output_paths((".png", ".svg"))), *store_option(draw, stores)]
            argv += slice_options(draw, plot=True) + options(draw, [("--json", None)])
    elif command == "codes":
        argv = ["codes", *options(draw, [("--json", None)])]
    elif command == "circuit":
        argv = [
            "circuit",
            draw(FAMILIES),
            *options(
                draw,
                [
                    (
                        "--distance",
                        values(("3", "5", "2"), ("1", "0", "-1", "abc", "1000000000", "99999999999999999999")),
                    ),
                    ("--rounds", values(("1", "2", "3"), ("0", "-2", "x", "100000000000"))),
                    ("--basis", BASES),
                    ("--noise", NOISES),
                    ("--p", values(("0.001", "0", "1", "0.5"), ("1.5", "-0.1", "nan", "inf", "abc"))),
                    ("--pauli", PAULIS),
                    ("--bias", values(("10", "1e308", "0.5"), ("0", "-1", "nan", "inf", "x"))),
                    ("--out", output_paths((".stim",))),
                    ("--diagram", output_paths((".svg",))),
                ],
            ),
        ]
    elif command == "threshold":
        family = draw(FAMILIES)
        argv = [
            "threshold",
            family,
            *study_options(draw),
            *options(draw, [("--plot", output_paths((".png", ".svg", ".pdf")))]),
        ]
        if rarely(draw, 4):
            argv.append(draw(one_of_texts("--correction", "--no-correction")))
    elif command == "collect":
        if rarely(draw, 3):
            folder, files = draw(circuit_folders())
            argv = ["collect", "--circuits", folder, *study_options(draw)]
            if rarely(draw, 6):
                argv.insert(1, draw(FAMILIES))  # both a family and --circuits
        else:
            argv = ["collect", *([draw(FAMILIES)] if not rarely(draw, 8) else []), *study_options(draw)]
    elif command == "stats":
        argv = ["stats", *store_option(draw), *options(draw, [("--json", None)])]
    elif command == "plot":
        argv = [
            "plot",
            "--out",
            draw(output_paths((".png", ".svg", ".pdf"))),
            *store_option(
                draw,
                values(
                    ("study.db",),
                    (
                        "base.db",
                        "other.db",
                        "badrows.db",
                        "wal.db",
                        "empty.db",
                        "fifo.db",
                        "missing.db",
                        ODD,
                        "newer.db",
                        "corrupt.db",
                    ),
                ),
            ),
            *options(
                draw,
                [
                    ("--family", values(("repetition",), ("nope", ""))),
                    ("--noise", values(("code-capacity",), ("sd6", ""))),
                    ("--decoder", values(("pymatching",), ("uf", "magic"))),
                    ("--correction", None),
                    ("--no-correction", None),
                    ("--json", None),
                ],
            ),
        ]
    elif command == "export":
        argv = [
            "export",
            *store_option(draw),
            *options(draw, [("--format", values(("csv",), ("json", "", "CSV"))), ("--out", output_paths((".csv",)))]),
        ]
    elif command == "import":
        if draw(st.booleans()):
            name = draw(one_of_texts("gen.csv", f"{ODD_NEW}.csv", "gen#%?.csv", "gen.txt", "gen"))
            files[name] = draw(csv_texts())
            if rarely(draw, 4):
                files[name] = ("copy", draw(one_of_texts("export.csv", "sinter.csv")))  # the same rows again
        else:
            name = draw(CSV_INPUTS)
        argv = ["import", name, *store_option(draw)]
    elif command == "merge":
        argv = ["merge", draw(STORE_PATHS), *draw(st.lists(STORE_PATHS, min_size=0, max_size=3))]
    else:
        workload = draw(values(("ghz", "mirror", "qaoa", "tfim", "grover", "rb", "logical"), ("nope", "")))
        argv = ["mitigate", workload]
        if workload == "logical" or rarely(draw, 10):
            argv.append(draw(values(("repetition", "surface", "shor"), ("color", "nope"))))
        argv += ["--shots", draw(values(("100", "200"), ("0", "-1", "x", "99999999999")))]
        argv += options(
            draw,
            [
                ("--qubits", values(("2", "3"), ("0", "1", "-1", "1000000", "x"))),
                (
                    "--noise",
                    values(
                        ("p2=0.01", "p1=0.001,readout=0.02", "t1=50,t2=70"),
                        (
                            "p2=abc",
                            "bogus=1",
                            "p2=2",
                            "",
                            "fake=Nope",
                            "p2=0.01,p2=0.02",
                            "t1=50,t2=500",
                            "readout=nan",
                            "=",
                            "p2",
                        ),
                    ),
                ),
                ("--technique", values(("zne", "rem", "none", "ddd", "pec", "cdr", "rem+zne"), ("bogus", ""))),
                ("--factory", values(("richardson", "linear", "exponential", "poly-exp"), ("bogus",))),
                ("--scaling", values(("global", "random", "identity"), ("bogus",))),
                (
                    "--scale-factors",
                    values(("1,3,5", "1,2", "1,1.5,2"), ("1", "0.5,1", "nan,1", "1,1", "x", "", "1,1000")),
                ),
                ("--device", values(("auto", "cpu"), ("gpu", "tpu"))),
                ("--method", values(("auto", "statevector", "density_matrix"), ("stabilizer", "mps", "x"))),
                ("--pec-samples", values(("3",), ("0", "-1", "x", "1000000"))),
                ("--distance", values(("3",), ("0", "4", "2", "1000000"))),
                ("--rounds", values(("1", "2"), ("0", "x"))),
                ("--stim-shots", values(("1000",), ("0", "-5", "99999999999999"))),
                ("--decoder", DECODERS),
                ("--seed", values(("0", "7"), ("-1", "99999999999"))),
                ("--threads", values(("1", "0"), ("-1", "100000"))),
                ("--json", None),
            ],
        )
        if "--pec-samples" not in argv:
            argv += ["--pec-samples", "5"]
    extra = draw(st.sampled_from(("",) * 17 + ("bogus", "help", "pop")))
    if extra == "bogus":
        argv.append("--bogus")
    elif extra == "help":
        argv.append("--help")
    elif extra == "pop" and len(argv) > 1:
        argv.pop(draw(st.integers(1, len(argv) - 1)))  # an option without its value, or a value without option
    return argv, files


# ---------------------------------------------------------------------------------------------------------
# The CLI property.


class Hung(BaseException):
    """An example ran past EXAMPLE_SECONDS (a FIFO opened, a loop that does not stop)."""


@contextlib.contextmanager
def deadline(seconds: int, what):
    def on_alarm(signum, frame):
        raise Hung(f"{what} ran more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), deadline(EXAMPLE_SECONDS, argv):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def run_cli_in_fork(argv):
    """`run_cli` in a forked copy of this process. `qec mitigate` leaves Qiskit Aer's job thread running, and
    with a second thread alive the engine starts workers by spawn (seconds each) instead of fork: the fork keeps
    that thread out of this process, so later examples, and later tests, stay fast."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's exit handlers
        try:
            os.close(read)
            try:
                payload = json.dumps(run_cli(argv))
            except BaseException:
                payload = json.dumps([None, "", traceback.format_exc()])
            with os.fdopen(write, "w") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write)
    try:
        with os.fdopen(read) as pipe, deadline(EXAMPLE_SECONDS + 10, argv):
            code, out, err = json.loads(pipe.read() or '[null, "", "the child died without a word"]')
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert code is not None, (argv, err)
    return code, out, err


def option_value(argv, name, default=None):
    """The value Typer takes for `name` (its last occurrence), or `default`."""
    value = default
    for index, arg in enumerate(argv[:-1]):
        if arg == name:
            value = argv[index + 1]
    return value


def positionals(argv):
    """The positional arguments after the command name (options here all take a value, except flags)."""
    flags = {"--json", "--correction", "--no-correction", "--help", "--bogus", "--observables", "--fit", "--no-fit"}
    result, index = [], 1
    while index < len(argv):
        if argv[index].startswith("-") and argv[index] != "-":
            index += 1 if argv[index] in flags else 2
            continue
        result.append(argv[index])
        index += 1
    return result


def real(workspace: Workspace, name: str) -> str:
    return os.path.realpath(workspace.path / name) if name else os.path.realpath(workspace.path)


# `qec.cli.main._fail` prints a message as it is, so a path with a newline in it splits the error line in two
# (main.py is not this test's to fix: reported). While that holds, when an argument or a file the example made
# has a newline in its name, a line that continues a message is joined back to it before the one-line check.
NEWLINES_IN_PATHS_SPLIT_ERRORS = True


def check_error_output(argv, code, out, err, *, names=()):
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err and "Traceback" not in out, (argv, err)
    if code == 2:
        lines = err.splitlines()
        if NEWLINES_IN_PATHS_SPLIT_ERRORS and any("\n" in name or "\r" in name for name in names):
            joined: list[str] = []
            for line in lines:
                if joined and not line.startswith(("error: ", "warning: skipped ")):
                    joined[-1] += "\n" + line
                else:
                    joined.append(line)
            lines = joined
        assert lines and err.endswith("\n"), (argv, err)
        warnings = [line for line in lines if line.startswith("warning: skipped ")]
        assert lines[len(warnings) :][0].startswith("error: ") and len(lines) == len(warnings) + 1, (argv, err)
        assert lines[: len(warnings)] == warnings, (argv, err)


def allowed_growth(workspace: Workspace, argv, before: dict) -> tuple[set[str], object]:
    """The store files this command may write (real paths) and a check of one store's growth per task."""
    command = argv[0] if argv else ""
    if "--help" in argv:
        return set(), None
    if command in ("collect", "threshold"):
        max_shots = int(option_value(argv, "--max-shots"))
        target = real(workspace, option_value(argv, "--store", "qec-results.db"))

        def check(task_id, old, new):
            assert new <= max(old, max_shots), (argv, task_id, old, new, max_shots)

        return {target}, check
    if command == "import":
        csv_file = positionals(argv)[0]
        text = (workspace.path / csv_file).read_text(encoding="utf-8")
        limits = csv_shots_per_task(text)
        target = real(workspace, option_value(argv, "--store", "qec-results.db"))

        def check(task_id, old, new):
            assert new - old <= limits[task_id], (argv, task_id, old, new, limits)

        return {target}, check
    if command == "merge":
        target, *sources = positionals(argv)
        limits = collections.Counter()
        for source in sources:
            entry = before.get(os.path.relpath(real(workspace, source), workspace.path))
            if entry and entry[0] == "store":
                limits.update(shots_per_task(entry[1][1]))

        def check(task_id, old, new):
            assert new - old <= limits[task_id], (argv, task_id, old, new, limits)

        return {real(workspace, target)}, check
    return set(), None


def check_workspace(workspace: Workspace, argv, code, err, before: dict, after: dict) -> None:
    if code == 2:
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        assert not changed, (argv, "a failed command changed the workspace", sorted(changed))
        return
    targets, check = allowed_growth(workspace, argv, before)
    defaults = {"--plot": "threshold.png"} if argv[0] == "threshold" else {}
    given = [option_value(argv, name, defaults.get(name)) for name in ("--out", "--plot", "--diagram")]
    outputs = {real(workspace, path) for path in given if path is not None}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        path = os.path.realpath(workspace.path / key)
        assert new is not None, (argv, "deleted", key)
        if new[0] == "store" and path in targets:
            old_tasks, old_chunks = old[1] if old and old[0] == "store" else (frozenset(), frozenset())
            new_tasks, new_chunks = new[1]
            assert old_tasks <= new_tasks and old_chunks <= new_chunks, (argv, "a store lost rows", key)
            old_shots, new_shots = shots_per_task(old_chunks), shots_per_task(new_chunks)
            for task_id in new_shots:
                if new_shots[task_id] != old_shots[task_id]:
                    check(task_id, old_shots[task_id], new_shots[task_id])
        else:
            assert old is None or old[0] != "store", (argv, "a store it does not write changed", key)
            assert path in outputs, (argv, "a file it does not write changed", key, old, new)


def cli_example(template, example, tally):
    argv, files = example
    template_folder, placeholders = template
    with Workspace(template_folder, placeholders) as workspace:
        workspace.write(files)
        argv = [workspace.resolve(arg) for arg in argv]
        before = snapshot(workspace.path)
        started = time.monotonic()
        code, out, err = (run_cli_in_fork if argv[0] == "mitigate" else run_cli)(argv)
        seconds = time.monotonic() - started
        after = snapshot(workspace.path)
        check_error_output(argv, code, out, err, names=[*argv, *files])
        check_workspace(workspace, argv, code, err, before, after)
        if code == 0 and argv[0] == "export" and option_value(argv, "--out") and "--help" not in argv:
            store = option_value(argv, "--store", "qec-results.db")
            if (
                os.access(workspace.path / store, os.W_OK)
                and after.get(os.path.relpath(real(workspace, store), workspace.path), ("",))[0] == "store"
            ):
                again, _, err = run_cli(["import", option_value(argv, "--out"), "--store", store])
                assert again == 0 and snapshot(workspace.path) == after, (argv, "export then import added", err)
        tally[(argv[0] if argv else "", code)] += 1
        if os.environ.get("QEC_FUZZ_VERBOSE"):
            print(f"{code} {seconds:.2f}s {argv!r} {files!r}: {err.strip().splitlines()[-1:]}", file=sys.__stderr__)


@pytest.fixture
def tally(request):
    """Counts examples by (command, outcome) and prints the run's size when the test ends."""
    counts = collections.Counter()
    yield counts
    by_kind = collections.defaultdict(dict)
    for (kind, outcome), count in sorted(counts.items(), key=str):
        by_kind[kind][outcome] = count
    shown = ", ".join(
        f"{kind} " + "/".join(f"{outcome}:{n}" for outcome, n in outcomes.items()) for kind, outcomes in by_kind.items()
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{request.node.name}: {sum(counts.values())} examples ({shown})")


@settings(max_examples=FAST_EXAMPLES, **SETTINGS)
@given(example=cli_commands())
def test_every_command_under_hostile_input_fast(template, example, tally):
    cli_example(template, example, tally)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, **SETTINGS)
@given(example=cli_commands())
def test_every_command_under_hostile_input(template, example, tally):
    cli_example(template, example, tally)


# ---------------------------------------------------------------------------------------------------------
# The Python API: the same hostile values, and QecInputError (never another type) for every bad one. A value of
# the wrong Python type (None for an int, say) may raise TypeError instead, as Python functions do.

NAN, INF = float("nan"), float("inf")
BAD_INTS = (-1, 0, 2**63, 2**70, -(2**63) - 1, True)
BAD_FLOATS = (NAN, INF, -INF, -0.5, 1.5, 1e308, 5e-324)
BAD_TEXTS = ("", "abc", "ü", "a b", "\n", "x" * 300, "3;5", "-")
WRONG_TYPES = (None, [3], {"a": 1}, b"3", (1, 2), 3j)


class Call:
    """One API call: a name for the tally, what it does in the workspace, and whether a value may be of the wrong
    Python type (then TypeError is allowed too)."""

    def __init__(self, name, run, *, wrong_type=False, writes=None, bound=None, files=None, known=None):
        self.name, self.run, self.wrong_type, self.writes, self.bound = name, run, wrong_type, writes, bound
        self.files = files or {}
        self.known = known  # (exception type, why): a defect found here whose fix is someone else's (reported)

    def __repr__(self):
        return f"Call({self.name}, wrong_type={self.wrong_type}, writes={self.writes})"


def typed(valid, bad, wrong=WRONG_TYPES):
    """(value, whether its type is wrong): a valid value seven times in eight, else a bad value of the right type
    or (less often) one of a wrong type."""
    return values(
        tuple((v, False) for v in valid), tuple((v, False) for v in bad) * 2 + tuple((v, True) for v in wrong)
    )


@st.composite
def memory_calls(draw):
    picks = {
        "family": draw(typed(("repetition", "surface", "color", "shor", "unrotated-surface"), BAD_TEXTS)),
        "distance": draw(typed((3, 5), (*BAD_INTS, 1, 2, 4, 10**7))),
        "p": draw(typed((0.01, 0.001, 0.0, 0.2), BAD_FLOATS + (-0.0, 2, 10**400 // 10**399))),
        "noise": draw(
            typed(("sd6", "si1000", "uniform", "code-capacity", "phenomenological", "none", "biased"), BAD_TEXTS)
        ),
        "rounds": draw(typed((None, 1, 3), (*BAD_INTS, 10**7))),
        "basis": draw(typed(("Z", "X", "z"), BAD_TEXTS)),
        "decoder": draw(typed(("pymatching", "uf"), BAD_TEXTS + ("magic", "bp osd"))),
        "pauli": draw(typed((None, "depolarizing", "independent"), BAD_TEXTS)),
    }
    family = picks.pop("family")
    kwargs = {key: value for key, (value, _) in picks.items()}
    wrong = family[1] or any(flag for _, flag in picks.values())
    return Call("memory_task", lambda ws: qec.memory_task(family[0], **kwargs), wrong_type=wrong)


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
METADATA = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "distance": JSONISH,
            "d": JSONISH,
            "rounds": JSONISH,
            "r": JSONISH,
            "p": JSONISH,
            "family": JSONISH,
            "noise": JSONISH,
            "basis": JSONISH,
            "pauli": JSONISH,
            "decoder": JSONISH,
            "other": JSONISH,
        },
    ),
    JSONISH,
)


@st.composite
def task_calls(draw):
    text = draw(
        st.sampled_from(
            [
                REPETITION,
                REPETITION,
                "X_ERROR(0.1) 0\nM 0\nDETECTOR rec[-1]\n",
                "X_ERROR(0.1) 0\nM 0\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
            ]
        )
    )
    decoder = draw(typed(("pymatching", "lookup"), BAD_TEXTS + ("no such",)))
    metadata = draw(METADATA)
    postselected = draw(st.sampled_from([(), (0,), (-1,), (10**9,), (True,), (0.5,)]))
    wrong = decoder[1] or not isinstance(metadata, dict)
    return Call(
        "Task",
        lambda ws: qec.Task(
            circuit=stim.Circuit(text), decoder=decoder[0], metadata=metadata, postselected_detectors=postselected
        ),
        wrong_type=wrong,
    )


def small_task():
    return qec.memory_task("repetition", distance=3, p=0.05, noise="code-capacity", pauli="independent", rounds=1)


@st.composite
def collect_calls(draw):
    store = draw(STORE_PATHS)
    max_shots = draw(typed((100, 500, 2000), (*BAD_INTS[:2], -5), (None, 1.5, "100", NAN)))
    max_errors = draw(typed((None, 5, 1000), (0, -1), (1.5, "x")))
    precision = draw(typed((None, 0.5, 0.1), (0.0, 1.0, -0.1, NAN, INF, 2.0, 5e-324), ("0.1", [0.1])))
    workers = draw(typed((None, 1, 1, 1), (0, -1, 10**6), (1.5, "1", True)))
    chunk_shots = draw(typed((None, 50, 500, 10**6), (0, -1, 10**6 + 1, 10**30), (1.5, "10", NAN)))
    wrong = any(flag for _, flag in (max_shots, max_errors, precision, workers, chunk_shots))
    if max_shots[0] is None or (isinstance(max_shots[0], int) and max_shots[0] > 2000):
        max_shots = (2000, max_shots[1])  # the stop rule must stop soon: a rule bounded by errors only is too slow

    def run(ws):
        stop = qec.StopRule(max_shots=max_shots[0], max_errors=max_errors[0], precision=precision[0])
        with qec.Store(store) as results:
            qec.collect([small_task()], store=results, stop=stop, workers=workers[0], chunk_shots=chunk_shots[0])

    limit = max_shots[0] if isinstance(max_shots[0], int) and not isinstance(max_shots[0], bool) else 2000
    return Call("collect", run, wrong_type=wrong, writes=store, bound=("max_shots", limit))


@st.composite
def store_calls(draw):
    path = draw(STORE_PATHS)
    read_only = draw(st.booleans())

    def run(ws):
        with qec.Store(path, read_only=read_only) as store:
            store.totals()
            list(store.chunk_rows())
            store.to_sinter_csv()

    return Call("Store", run, writes=None if read_only else path, bound=("new", 0))


@st.composite
def import_calls(draw):
    path, text = draw(STORE_PATHS), draw(csv_texts())

    def run(ws):
        with qec.Store(path) as store:
            store.import_sinter_csv(ws.resolve(text), source="fuzz.csv")

    return Call("import_sinter_csv", run, writes=path, bound=("csv", text))


@st.composite
def merge_calls(draw):
    target, sources = draw(STORE_PATHS), draw(st.lists(STORE_PATHS, min_size=1, max_size=3))

    def run(ws):
        opened = []
        try:
            for source in sources:
                opened.append(qec.Store(source, read_only=True))
            with qec.Store(target) as store:
                store.merge_from_all(opened)
        finally:
            for store in opened:
                store.close()

    return Call("merge_from_all", run, writes=target, bound=("merge", sources))


@st.composite
def parser_calls(draw):
    from qec.circuit_files import metadata_from_name
    from qec.cluster import parse_local_cluster
    from qec.mitigation import NoiseSpec
    from qec.study import parse_distances, parse_p_grid, parse_rounds

    name, function = draw(
        st.sampled_from(
            [
                ("parse_p_grid", parse_p_grid),
                ("parse_distances", parse_distances),
                ("parse_rounds", parse_rounds),
                ("parse_local_cluster", parse_local_cluster),
                ("metadata_from_name", metadata_from_name),
                ("NoiseSpec.parse", NoiseSpec.parse),
            ]
        )
    )
    text = draw(
        st.one_of(
            P_GRIDS,
            DISTANCES,
            ROUNDS,
            CLUSTERS,
            CIRCUIT_NAMES,
            st.text(max_size=20),
            one_of_texts(
                "local:99999999",
                "1e-400:1e-300:3",
                "0.001:0.01:99999999999",
                "p2=nan",
                "p1=0.1,p1=0.2",
                "t1=1,t2=3",
                "fake=FakeManilaV2,p2=0.1",
                "3," * 200,
            ),
        )
    )
    return Call(name, lambda ws: function(text))


@st.composite
def folder_calls(draw):
    from qec.circuit_files import tasks_from_folder

    folder, files = draw(circuit_folders())
    decoder = draw(values(("pymatching",), ("magic", "")))
    return Call("tasks_from_folder", lambda ws: tasks_from_folder(ws.resolve(folder), decoder=decoder), files=files)


@st.composite
def output_calls(draw):
    from qec.outputs import check_output_path

    path = draw(output_paths((".csv", ".png")))
    suffixes = draw(st.sampled_from([(), (".csv",), (".png", ".svg")]))
    inputs = draw(st.lists(STORE_PATHS, max_size=2))
    return Call(
        "check_output_path",
        lambda ws: check_output_path(ws.resolve(path), suffixes=suffixes, inputs=[ws.resolve(i) for i in inputs]),
    )


@st.composite
def chunk_calls(draw):
    from qec.task import ChunkResult, Counts

    path = draw(STORE_PATHS)
    fields = {
        "task_id": draw(typed(("@BASE_ID0@",), BAD_TEXTS)),
        "chunk_index": draw(typed((0, 99, -5), BAD_INTS[2:])),
        "shots": draw(typed((10,), BAD_INTS[:4])),
        "errors": draw(typed((1, 0), (-1, 11, 2**63))),
        "discards": draw(typed((0,), (-1, 10))),
        "seconds": draw(typed((0.5, 0), BAD_FLOATS[:4])),
    }
    wrong = any(flag for _, flag in fields.values())

    def run(ws):
        values_ = {key: ws.resolve(value) if isinstance(value, str) else value for key, (value, _) in fields.items()}
        with qec.Store(path) as store:
            counts = Counts(**{key: values_.pop(key) for key in ("shots", "errors", "discards", "seconds")})
            store.append(ChunkResult(**values_, counts=counts, observable_errors=(0,)), source="fuzz")

    return Call("Store.append", run, wrong_type=wrong, writes=path, bound=("shots", 10))


API_CALLS = st.one_of(
    memory_calls(),
    task_calls(),
    collect_calls(),
    store_calls(),
    import_calls(),
    merge_calls(),
    parser_calls(),
    folder_calls(),
    output_calls(),
    chunk_calls(),
)


def api_example(template, call: Call, tally):
    template_folder, placeholders = template
    with Workspace(template_folder, placeholders) as workspace:
        workspace.write(call.files)
        before = snapshot(workspace.path)
        outcome = "ok"
        try:
            with deadline(EXAMPLE_SECONDS, call):
                call.run(workspace)
        except QecInputError:
            outcome = "QecInputError"
        except TypeError:
            if not call.wrong_type:
                raise
            outcome = "TypeError"
        except Exception as error:
            if not (call.known and isinstance(error, call.known[0])):
                raise
            tally[(call.name, "known defect")] += 1
            return
        after = snapshot(workspace.path)
        tally[(call.name, outcome)] += 1
        target = real(workspace, call.writes) if call.writes is not None else None
        if outcome != "ok":  # nothing changed, but the store that `Store(path)` made before the refused call
            changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
            made = {
                key
                for key in changed
                if key not in before
                and os.path.realpath(workspace.path / key) == target
                and after[key] == ("store", (frozenset(), frozenset()))
            }
            assert changed == made, (call, outcome, "a refused call changed the workspace", sorted(changed))
            return
        for key in before.keys() | after.keys():
            old, new = before.get(key), after.get(key)
            if old == new:
                continue
            assert target == os.path.realpath(workspace.path / key) and new and new[0] == "store", (
                call,
                "changed what it does not write",
                key,
                old,
                new,
            )
            old_tasks, old_chunks = old[1] if old else (frozenset(), frozenset())
            assert old_tasks <= new[1][0] and old_chunks <= new[1][1], (call, "a store lost rows", key)
            old_shots, new_shots = shots_per_task(old_chunks), shots_per_task(new[1][1])
            kind, limit = call.bound
            for task_id in new_shots:
                grown = new_shots[task_id] - old_shots[task_id]
                if kind == "max_shots":
                    assert grown <= 0 or new_shots[task_id] <= max(old_shots[task_id], limit), (call, task_id)
                elif kind == "csv":
                    assert grown <= csv_shots_per_task(workspace.resolve(limit))[task_id], (call, task_id)
                elif kind == "merge":
                    allowed = sum(
                        shots_per_task(before[os.path.relpath(real(workspace, s), workspace.path)][1][1])[task_id]
                        for s in set(limit)
                    )
                    assert grown <= allowed, (call, task_id)
                else:
                    assert grown <= limit, (call, task_id, grown)


@settings(max_examples=FAST_API_EXAMPLES, **SETTINGS)
@given(call=API_CALLS)
def test_python_api_under_hostile_input_fast(template, call, tally):
    api_example(template, call, tally)


@pytest.mark.slow
@settings(max_examples=SLOW_API_EXAMPLES, **SETTINGS)
@given(call=API_CALLS)
def test_python_api_under_hostile_input(template, call, tally):
    api_example(template, call, tally)


# ---------------------------------------------------------------------------------------------------------
# What the fuzzer found while it was built, fixed in the store and CLI: one example of each, kept as tests.


def run_in(folder: Path, argv):
    here = os.getcwd()
    os.chdir(folder)
    try:
        return run_cli([str(arg) for arg in argv])
    finally:
        os.chdir(here)


@pytest.fixture
def workspace(template):
    with Workspace(*template) as workspace:
        yield workspace


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "empty.csv", "--store", "new.db"],  # a bad CSV used to leave an empty new store behind
        ["merge", "new.db", "base.db", "conflict.db"],  # so did a merge refused by a source
        ["merge", "base.db", "other.db", "conflict.db"],  # and other.db's chunks were committed before the refusal
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--cluster",
            "local:x",
            "--store",
            "new.db",
        ],  # a bad --cluster, --chunk-shots or --workers was refused after the store was made
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--chunk-shots",
            "0",
            "--store",
            "new.db",
        ],
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--workers",
            "-1",
            "--store",
            "new.db",
        ],  # a traceback (ValueError from the process pool)
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--workers",
            "1000000",
            "--store",
            "new.db",
        ],  # started forking a million workers
        ["circuit", "repetition", "--out", "nofolder/c.stim"],  # tracebacks: ValueError, FileNotFoundError,
        ["circuit", "repetition", "--diagram", "nofolder/c.svg"],
        ["circuit", "repetition", "--diagram", "empty.db/c.svg"],  # NotADirectoryError
        ["circuit", "repetition", "--out", "base.db"],  # overwrote the store with the circuit, exit 0
        ["merge", "base.db-journal", "base.db"],  # made a store SQLite takes for base.db's journal: a traceback, and
        ["collect", "repetition", "--distance", "3", "--p", "0.05", "--max-shots", "10", "--store", "base.db-wal"],
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--noise",
            "code-capacity",
            "--pauli",
            "independent",
            "--rounds",
            "1",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--store",
            "badrows.db",
        ],  # KeyError: its stored shots sum over 2^63
    ],
)
def test_refused_before_anything_is_written(workspace, argv):
    before = snapshot(workspace.path)
    code, out, err = run_in(workspace.path, argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert snapshot(workspace.path) == before


@pytest.mark.parametrize(
    "argv", [["stats", "--store", "badrows.db"], ["export", "--store", "badrows.db"], ["merge", "new.db", "badrows.db"]]
)
def test_a_warning_about_bad_rows_is_one_line(workspace, argv):
    code, out, err = run_in(workspace.path, argv)  # badrows.db holds a task id with a newline in it
    assert code == 0 and re.match(r"warning: skipped \d+ bad row\(s\) in badrows.db: ", err) and err.count("\n") == 1


def test_read_commands_leave_nothing_beside_an_older_wal_store(workspace):
    for argv in (["stats", "--store", "wal.db"], ["export", "--store", "wal.db"], ["merge", "new.db", "wal.db"]):
        assert run_in(workspace.path, argv)[0] == 0
    assert not list(workspace.path.glob("wal.db-*"))


def test_circuit_outputs_are_written_atomically(workspace):
    code, _, err = run_in(workspace.path, ["circuit", "repetition", "--out", "c.stim", "--diagram", "c.svg"])
    assert code == 0 and stim.Circuit.from_file(workspace.path / "c.stim").num_observables == 1
    assert (workspace.path / "c.svg").read_text().startswith("<svg")
    assert not [p for p in workspace.path.iterdir() if p.name.startswith(".c.")]  # no temporary file left


# ---------------------------------------------------------------------------------------------------------
# Read-only files and folders: root ignores permissions, so these run in a subprocess without the capabilities
# that let it (as tests/cli/test_store_promises.py does), all commands in one process to pay the imports once.

DRIVER = """
import contextlib, io, json, os, sys
from qec.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, err.getvalue()])
print(json.dumps(results))
"""

READ_ONLY_CASES = [  # (argv, expected exit code, a phrase of the error)
    (["stats", "--store", "ro/s.db"], 0, ""),
    (["export", "--store", "ro/s.db", "--out", "out.csv"], 0, ""),
    (["export", "--store", "ro/s.db", "--out", "ro/out.csv"], 2, "is not writable"),
    (["export", "--store", "s.db", "--out", "ro.csv"], 2, "the file is read-only"),
    (["plot", "--store", "ro/s.db", "--out", "ro/p.png"], 2, "is not writable"),
    (["import", "ro.csv", "--store", "copy.db"], 0, ""),
    (["import", "ro.csv", "--store", "ro/s.db"], 2, "read-only"),
    (["import", "ro.csv", "--store", "ro/new.db"], 2, "is not writable"),
    (["merge", "ro/s.db", "s.db"], 2, "read-only"),
    (["merge", "ro/new.db", "s.db"], 2, "is not writable"),
    (["merge", "merged.db", "ro/s.db", "ro-file.db"], 0, ""),
    (
        [
            "collect",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--workers",
            "1",
            "--store",
            "ro-file.db",
        ],
        2,
        "read-only",
    ),
    (["circuit", "repetition", "--out", "ro/c.stim"], 2, "is not writable"),
    (["circuit", "repetition", "--out", "ro.stim"], 2, "the file is read-only"),
    (
        [
            "threshold",
            "repetition",
            "--distance",
            "3",
            "--p",
            "0.05",
            "--max-shots",
            "10",
            "--workers",
            "1",
            "--store",
            "t.db",
            "--plot",
            "ro/t.png",
        ],
        2,
        "is not writable",
    ),
]


def test_read_only_paths_without_root_powers(template, tmp_path):
    """Read-only stores, CSVs, outputs and folders: readers work, writers are refused before any work with one
    line, and nothing read-only changes."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot bind")
    folder = tmp_path / "w"
    shutil.copytree(template[0], folder, symlinks=True)
    (folder / "ro").mkdir()
    shutil.copy(folder / "study.db", folder / "s.db")
    shutil.copy(folder / "study.db", folder / "ro" / "s.db")
    shutil.copy(folder / "base.db", folder / "ro-file.db")
    shutil.copy(folder / "export.csv", folder / "ro.csv")
    (folder / "ro.stim").write_text("")
    for path in (folder / "ro" / "s.db", folder / "ro-file.db", folder / "ro.csv", folder / "ro.stim", folder / "ro"):
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    read_only = {path: path.read_bytes() for path in (folder / "ro" / "s.db", folder / "ro-file.db", folder / "ro.csv")}
    command = [sys.executable, "-c", DRIVER, json.dumps([argv for argv, _, _ in READ_ONLY_CASES])]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        result = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    finally:
        os.chmod(folder / "ro", 0o755)
    assert result.returncode == 0, result.stderr
    for (argv, expected, phrase), (code, err) in zip(READ_ONLY_CASES, json.loads(result.stdout)):
        assert code == expected and phrase in err and "Traceback" not in err, (argv, code, err)
        if code == 2:
            assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
    assert {path: path.read_bytes() for path in read_only} == read_only
    assert sorted(p.name for p in (folder / "ro").iterdir()) == ["s.db"]

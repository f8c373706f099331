"""The results store: one SQLite file, append-only, one row per finished chunk; sinter CSV in and out.

The main process is the only writer of a study. Each chunk row is committed before it is counted, and
(task_id, chunk) is unique: a chunk's samples come from a seed fixed by that pair, so a chunk written
twice (a rerun, two commands on one store, a merge) is the same chunk and is kept once.

>>> import tempfile, os
>>> from qec.store import Store
>>> store = Store(os.path.join(tempfile.mkdtemp(), "results.db"))
>>> store.totals()
{}
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import sinter

from qec.errors import QecInputError
from qec.sampling import ChunkResult
from qec.task import Task

FORMAT = "qec-store"
VERSION = "1"
_SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY, decoder TEXT NOT NULL, metadata TEXT NOT NULL, circuit TEXT);
CREATE TABLE IF NOT EXISTS chunks (
    task_id TEXT NOT NULL REFERENCES tasks(task_id), chunk INTEGER NOT NULL,
    shots INTEGER NOT NULL, errors INTEGER NOT NULL, discards INTEGER NOT NULL, seconds REAL NOT NULL,
    observable_errors TEXT NOT NULL, created REAL NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (task_id, chunk));
"""


@dataclass(frozen=True)
class TaskTotals:
    """Everything the store holds about one task, summed over its chunks."""

    task_id: str
    decoder: str
    metadata: dict
    shots: int
    errors: int
    discards: int
    seconds: float
    chunks: int
    next_chunk: int


class Store:
    """An append-only SQLite results store; refuses (and never touches) a file that is not one."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.exists() and self.path.stat().st_size > 0:
            _check_is_store(self.path)
        try:
            self.connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.connection.execute("PRAGMA busy_timeout = 60000")
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute("PRAGMA synchronous = FULL")
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.connection.execute(statement)
                self.connection.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?), ('version', ?)",
                                        (FORMAT, VERSION))
        except sqlite3.DatabaseError as error:
            raise QecInputError(f"cannot open the store {self.path}: {error}") from None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self):
        return _Transaction(self.connection)

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        """Records the tasks (circuit, decoder, metadata) so chunks can refer to them."""
        with self._transaction():
            self.connection.executemany(
                "INSERT OR IGNORE INTO tasks VALUES (?, ?, ?, ?)",
                [(t.task_id, t.decoder, t.metadata_json, t.circuit_text) for t in tasks])

    def append(self, result: ChunkResult, *, source: str = "collect") -> bool:
        """Commits one chunk; returns False (and changes nothing) if that chunk is already stored."""
        with self._transaction():
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.task_id, result.chunk_index, result.shots, result.errors, result.discards, result.seconds,
                 json.dumps(list(result.observable_errors)), time.time(), source))
        return cursor.rowcount == 1

    def totals(self, task_ids: Iterable[str] | None = None) -> dict[str, TaskTotals]:
        """Summed counts per task (all tasks, or those in `task_ids`)."""
        rows = self.connection.execute(
            "SELECT t.task_id, t.decoder, t.metadata, COALESCE(SUM(c.shots), 0), COALESCE(SUM(c.errors), 0), "
            "COALESCE(SUM(c.discards), 0), COALESCE(SUM(c.seconds), 0), COUNT(c.chunk), "
            "COALESCE(MAX(CASE WHEN c.chunk >= 0 THEN c.chunk END) + 1, 0) "
            "FROM tasks t LEFT JOIN chunks c ON c.task_id = t.task_id GROUP BY t.task_id").fetchall()
        wanted = None if task_ids is None else set(task_ids)
        return {row[0]: TaskTotals(row[0], row[1], json.loads(row[2]), *row[3:])
                for row in rows if wanted is None or row[0] in wanted}

    def chunk_rows(self) -> Iterator[tuple]:
        """Every chunk row, for merging: (task_id, chunk, shots, errors, discards, seconds, obs, created, source)."""
        yield from self.connection.execute("SELECT * FROM chunks ORDER BY task_id, chunk")

    def task_rows(self) -> Iterator[tuple]:
        yield from self.connection.execute("SELECT * FROM tasks")

    def merge_from(self, other: Store) -> int:
        """Copies every task and chunk of `other` that this store lacks; returns the number of new chunks."""
        with self._transaction():
            self.connection.executemany("INSERT OR IGNORE INTO tasks VALUES (?, ?, ?, ?)", other.task_rows())
            before = self.connection.total_changes
            self.connection.executemany("INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                        other.chunk_rows())
            return self.connection.total_changes - before

    def to_sinter_csv(self) -> str:
        """The store as sinter's CSV (one line per task), readable by `sinter plot --in`."""
        lines = [sinter.CSV_HEADER]
        for totals in self.totals().values():
            stats = sinter.TaskStats(strong_id=totals.task_id, decoder=totals.decoder, json_metadata=totals.metadata,
                                     shots=totals.shots, errors=totals.errors, discards=totals.discards,
                                     seconds=totals.seconds)
            lines.append(stats.to_csv_line())
        return "\n".join(lines) + "\n"

    def import_sinter_csv(self, text: str, *, source: str) -> int:
        """Adds the rows of a sinter CSV as chunks; importing the same rows again adds nothing. Returns new chunks."""
        try:
            rows = list(csv.DictReader(io.StringIO(text), skipinitialspace=True))
            required = {"shots", "errors", "discards", "seconds", "decoder", "strong_id", "json_metadata"}
            if not rows or not required <= {k.strip() for k in rows[0]}:
                raise ValueError(f"expected sinter's header {sinter.CSV_HEADER.strip()!r}")
            parsed = [({k.strip(): v for k, v in row.items()}) for row in rows]
            chunks = [(r["strong_id"].strip(), r["decoder"].strip(), json.loads(r["json_metadata"]),
                       int(r["shots"]), int(r["errors"]), int(r["discards"]), float(r["seconds"])) for r in parsed]
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
            raise QecInputError(f"{source} is not a sinter CSV file: {error}") from None
        added = 0
        with self._transaction():
            for task_id, decoder, metadata, shots, errors, discards, seconds in chunks:
                self.connection.execute("INSERT OR IGNORE INTO tasks VALUES (?, ?, ?, NULL)",
                                        (task_id, decoder, json.dumps(metadata, sort_keys=True)))
                row_id = hashlib.sha256(repr((task_id, shots, errors, discards, seconds)).encode()).digest()
                chunk = -1 - (int.from_bytes(row_id[:7], "little"))  # imported chunks have negative indices
                cursor = self.connection.execute(
                    "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (task_id, chunk, shots, errors, discards, seconds, "[]", time.time(), source))
                added += cursor.rowcount
        return added


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error), so concurrent writers queue instead of interleaving."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")


def _check_is_store(path: Path) -> None:
    """Raises QecInputError unless `path` is an intact qec store; opens it read-only so nothing changes."""
    with open(path, "rb") as file:
        if file.read(16) != _SQLITE_HEADER:
            raise QecInputError(f"{path} is not a qec store (not an SQLite file); give a new path with --store")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "meta" not in tables:
                raise QecInputError(f"{path} is an SQLite database but not a qec store; give a new path with --store")
            fmt = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if fmt.get("format") != FORMAT:
                raise QecInputError(f"{path} is an SQLite database but not a qec store; give a new path with --store")
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise QecInputError(f"{path} is a corrupt qec store ({error}); it was left untouched: restore it from a "
                            "copy, or give a new path with --store") from None

"""The results store: one SQLite file, append-only, one row per sample chunk; sinter CSV in and out.

What identifies a sample, so that every route (collect, rerun, import, export, merge) counts it once:

- a chunk is (task id, chunk index). A collected chunk has index k >= 0 and its shots come from a seed
  fixed by (task id, k): two rows with that key are the same samples, whatever their shot counts, and
  the store keeps the first one it was given.
- an imported sinter CSV row without a qec sample column is identified by its content: its task, shots,
  errors, discards and seconds (exactly), and its occurrence among the equal rows of its file; it is one of
  the store's chunks if one with equal counts (collected or imported) is not yet matched, and it is stored
  under a negative index hashed from that content otherwise. So any order or subset of a file imported
  before, and an export with its `qec_sample` (or `custom_counts`) column dropped, adds nothing.
- `export` writes one row per chunk with its index in a `qec_sample` column (sinter ignores it) and its
  seconds exactly, so importing an export into the store it came from, or into one merged with it, adds
  nothing, with the column or without it.
- a new row (or a merged chunk) that could be a reshaped copy of stored samples is refused, with nothing
  written, unless the caller passes `accept_new_rows` (`--accept-new-rows`): a row without a matching chunk
  of a task the store already holds (`sinter combine` sums rows into new ones; sinter appends rows to its
  file), a repeat of an equal row of its file, a collected chunk for a task the store holds imported chunks
  of. A chunk with a seed index k >= 0 for a task whose stored chunks are all collected is never in doubt.
  Stores written by the previous scheme (which hashed a row's place in its file) keep their chunks.
- a task id already stored with another decoder or metadata, an imported sample already stored with
  other counts, or a task whose shots would sum past 2^63 is refused and nothing is written.
- the store opens only the schema it writes (its tables, columns and indexes, no triggers or views).

Imports stream: rows are checked and staged in a temporary SQLite file, so memory does not grow with the
row count; a file over `MAX_CSV_BYTES` (from its size) or `MAX_CSV_ROWS` is refused with the limit. A merge
builds a new store under a temporary name (`.NAME.PID.HEX.merging`); every writer deletes those whose
process is gone, so a killed merge leaves nothing after the next command in that folder.

Per-observable error counts travel in sinter's `custom_counts` column: `export` writes them as
`qec_observable_errors_K` counts, and `import` reads those back, or sums sinter's own `obs_mistake_mask=E_E`
counts (from `sinter collect --count_observable_error_combos`) into them. A row without either (or with
counts that do not add up to its errors) has none.

Every path in is checked (`qec.validation`), and a read skips rows that fail the same checks (written
by an older version or another tool) and lists them in `skipped_rows`. Read commands open the store
read-only; writers keep SQLite's rollback journal, so the `.db` file alone holds everything once a
command ends.

>>> import tempfile, os
>>> from qec.store import Store
>>> store = Store(os.path.join(tempfile.mkdtemp(), "results.db"))
>>> store.totals()
{}
"""

from __future__ import annotations

import collections
import contextlib
import csv
import functools
import hashlib
import io
import itertools
import json
import os
import re
import secrets
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Sequence

import sinter

from qec.errors import QecInputError
from qec.outputs import StoreWriteFailed, check_output_path, store_write_failure
from qec.task import ChunkResult, Counts, Task, TaskTotals
from qec.validation import MAX_COUNT, canonical_json, check_counts, check_metadata, check_sample_index, check_token

FORMAT = "qec-store"
VERSION = 1
SAMPLE_COLUMN = "qec_sample"
OBSERVABLE_COUNT_PREFIX = "qec_observable_errors_"  # custom count K: shots whose observable K was wrong
MISTAKE_MASK_PREFIX = "obs_mistake_mask="  # sinter's custom count of shots with that pattern of wrong observables
MAX_CSV_BYTES = 1 << 30
MAX_CSV_ROWS = 10_000_000
_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_SIDECARS = ("-journal", "-wal", "-shm")  # what SQLite appends to a database's name for its own files
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
_CSV_COLUMNS = ("shots", "errors", "discards", "seconds", "decoder", "strong_id", "json_metadata")


@dataclass(frozen=True)
class Added:
    """What an import or merge wrote: new chunks, and chunks skipped because the store holds the same seed's
    samples under the same index (counted once, the stored row kept)."""

    chunks: int
    same_seed_skipped: int = 0


@dataclass(frozen=True)
class StoredChunk:
    """One chunk as the store holds it: its task, its index (see the module docstring), its counts, its
    per-observable error counts, when it was written and by which route.

    Attributes:
        task_id: the task's strong id.
        chunk_index: k >= 0 for a collected chunk (its seed is `qec.task.chunk_seed(task_id, k)`); negative for
            an imported sinter row that named no sample.
        counts: shots, errors, discards and CPU seconds of this chunk.
        observable_errors: `observable_errors[k]` counts the shots whose observable k was wrong; empty when the
            row recorded none (imported without them, or written in a form this qec does not read).
        created: when the row was written (seconds since the epoch).
        source: the route that wrote it: "collect", or "import:FILE" for an imported sinter CSV, say.
    """

    task_id: str
    chunk_index: int
    counts: Counts
    observable_errors: tuple[int, ...]
    created: float
    source: str


@dataclass(frozen=True)
class MergedSource:
    """What `merge_stores` took from one source store: the chunks it added, and the bad rows it skipped (which a
    merge never copies)."""

    source: Path
    added: Added
    skipped_rows: tuple[str, ...] = ()

    def skipped_summary(self) -> str | None:
        """One line naming the bad rows skipped in this source (None when there were none)."""
        return _skipped_summary(self.source, self.skipped_rows)


@dataclass(frozen=True)
class _TaskRow:
    task_id: str
    decoder: str
    metadata: dict
    circuit: str | None


def _chunk_row(result: ChunkResult, source: str) -> _ChunkRow:
    """The row a computed chunk is stored as, stamped now."""
    counts = result.counts
    return _ChunkRow(
        result.task_id,
        result.chunk_index,
        counts.shots,
        counts.errors,
        counts.discards,
        counts.seconds,
        json.dumps(list(result.observable_errors)),
        time.time(),
        source,
    )


@dataclass(frozen=True)
class _ChunkRow:
    task_id: str
    chunk: int
    shots: int
    errors: int
    discards: int
    seconds: float
    observable_errors: str
    created: float
    source: str

    def as_tuple(self) -> tuple:
        return (
            self.task_id,
            self.chunk,
            self.shots,
            self.errors,
            self.discards,
            self.seconds,
            self.observable_errors,
            self.created,
            self.source,
        )

    def record(self) -> StoredChunk:
        per_observable = _loads_or_none(self.observable_errors)
        return StoredChunk(
            self.task_id,
            self.chunk,
            Counts(self.shots, self.errors, self.discards, self.seconds),
            tuple(per_observable) if _is_count_list(per_observable) else (),
            self.created,
            self.source,
        )


class Store:
    """An append-only SQLite results store; refuses (and never touches) a file that is not one.

    Args:
        path: the store file; created (with the folder's permissions) when it does not exist, unless
            `read_only`.
        read_only: open an existing store for reading only: nothing is written or created, and read-only
            files and folders work.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._skipped: dict[str, None] = {}
        self._chunks_appended = 0  # by `append`: what a failed write later in the same command leaves committed
        self._created = not read_only and not (self.path.exists() or self.path.is_symlink())
        self._write_failed = False
        if read_only:
            self.connection = _open_read_only(self.path)
        else:
            self.connection = _open_for_writing(self.path)

    @property
    def skipped_rows(self) -> list[str]:
        """One description per bad row that reads have skipped (e.g. metadata that is not a JSON object)."""
        return list(self._skipped)

    def skipped_summary(self) -> str | None:
        """One line naming the bad rows that reads of this store skipped (None when there were none)."""
        return _skipped_summary(self.path, self.skipped_rows)

    def close(self) -> None:
        empty = self._created and self._write_failed and not _holds_rows(self.connection)
        self.connection.close()
        if empty:  # made by this Store, whose writes failed: no store is left (a failed import into a new one, say)
            for leftover in (self.path, Path(f"{self.path}-journal")):
                leftover.unlink(missing_ok=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            with _Transaction(self.connection, path=self.path, chunks_kept=self._chunks_appended):
                yield
        except StoreWriteFailed as failed:
            self._write_failed = True
            if self._created and not _holds_rows(self.connection):  # close() removes it
                raise store_write_failure(self.path, failed.error, created=True) from None
            raise

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        """Records the tasks (circuit, decoder, metadata) so chunks can refer to them; a task id stored with
        another decoder or metadata is refused."""
        rows = [_TaskRow(t.task_id, t.decoder, t.metadata, t.circuit_text) for t in tasks]
        with self._transaction():
            self._insert_tasks(rows, origin="the task")

    def append(self, result: ChunkResult, *, source: str = "collect") -> bool:
        """Commits one chunk; returns False (and changes nothing) if that chunk is already stored."""
        check_token(result.task_id, name="task_id")
        check_sample_index(result.chunk_index)
        counts = result.counts
        check_counts(shots=counts.shots, errors=counts.errors, discards=counts.discards, seconds=counts.seconds)
        with self._transaction():
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _chunk_row(result, source).as_tuple()
            )
        self._chunks_appended += cursor.rowcount == 1
        return cursor.rowcount == 1

    def add_decoded(
        self, *, decoder: str, metadata: dict, circuit: str | None, result: ChunkResult, source: str
    ) -> bool:
        """Records a task whose shots were recorded, not sampled here (`qec.recorded`: its circuit, or None when
        only a DEM was given), and its one chunk, in one transaction; returns False (and changes nothing) if that
        chunk is already stored."""
        check_token(result.task_id, name="task_id")
        check_token(decoder, name="decoder")
        check_metadata(metadata)
        check_sample_index(result.chunk_index)
        counts = result.counts
        check_counts(shots=counts.shots, errors=counts.errors, discards=counts.discards, seconds=counts.seconds)
        with self._transaction():
            self._insert_tasks([_TaskRow(result.task_id, decoder, metadata, circuit)], origin=source)
            cursor = self.connection.execute(
                "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _chunk_row(result, source).as_tuple()
            )
        return cursor.rowcount == 1

    def totals(self, task_ids: Iterable[str] | None = None) -> dict[str, TaskTotals]:
        """Summed counts per task (all tasks, or those in `task_ids`); bad rows are skipped (`skipped_rows`).

        A task whose valid chunks sum to more than 2^63 shots (rows another tool wrote) is skipped too when
        all tasks are read; asked for by id (to resume it), it is refused with QecInputError."""
        tasks = self._tasks(None if task_ids is None else set(task_ids))
        sums = {task_id: Counts() for task_id in tasks}
        chunks = dict.fromkeys(tasks, 0)
        next_chunk = dict.fromkeys(tasks, 0)
        for row in self._chunks(tasks):
            sums[row.task_id] += Counts(row.shots, row.errors, row.discards, row.seconds)
            chunks[row.task_id] += 1
            next_chunk[row.task_id] = max(next_chunk[row.task_id], row.chunk + 1)
        result = {}
        for task_id, counts in sums.items():
            shots = counts.shots
            if shots > MAX_COUNT:
                if task_ids is not None:
                    raise QecInputError(
                        f"task {task_id[:16]}... has chunks in {self.path} that sum to {shots} shots, "
                        "more than 2^63 (rows another tool wrote?): sample it into another store"
                    )
                self._skip(f"task {task_id[:16]}: its chunks sum to {shots} shots, more than 2^63")
                continue
            task = tasks[task_id]
            result[task_id] = TaskTotals(
                task_id, task.decoder, task.metadata, counts, chunks[task_id], next_chunk[task_id]
            )
        return result

    def chunk_rows(self) -> Iterator[StoredChunk]:
        """Every valid chunk, by task id and chunk index; bad rows are skipped (`skipped_rows`)."""
        for row in self._chunks(self._copied_tasks()):
            yield row.record()

    def merge_from(self, other: Store, *, accept_new_rows: bool = False) -> Added:
        """Copies every task and chunk of `other` that this store lacks (the same chunk is never counted twice; see
        the module docstring for the chunks that need `accept_new_rows`)."""
        return self.merge_from_all([other], accept_new_rows=accept_new_rows)[0]

    def merge_from_all(self, others: Sequence[Store], *, accept_new_rows: bool = False) -> list[Added]:
        """`merge_from` for each of `others` in turn, in one transaction: a source that is refused (a task id with
        other content, say) leaves this store as it was, sources merged before it included."""
        for other in others:
            if _same_file(self.path, other.path):
                raise QecInputError(f"{other.path} is the store being merged into; give another source")
        sources = []
        for other in others:
            tasks = other._copied_tasks(with_circuits=True)
            sources.append((other, tasks, list(other._chunks(tasks))))
            self._skipped.update(other._skipped)
        added = []
        with self._transaction():
            for other, tasks, chunks in sources:
                origin = f"the store {other.path}"
                self._insert_tasks(tasks.values(), origin=origin)
                groups = itertools.groupby(((row, row.chunk, 0) for row in chunks), key=lambda item: item[0].task_id)
                added.append(self._insert_chunks(groups, origin=origin, accept_new_rows=accept_new_rows))
        return added

    def to_sinter_csv(self) -> str:
        """The store as sinter's CSV, one line per chunk with its index in a `qec_sample` column (which sinter
        ignores) and its seconds written exactly: `sinter plot --in` reads it, and importing it back adds nothing,
        with the `qec_sample` column or without it."""
        lines = [f"{sinter.CSV_HEADER},{SAMPLE_COLUMN}"]
        tasks = self._copied_tasks()
        for row in self._chunks(tasks):
            task = tasks[row.task_id]
            per_observable = _loads_or_none(row.observable_errors)
            stats = sinter.TaskStats(
                strong_id=row.task_id,
                decoder=task.decoder,
                json_metadata=task.metadata,
                shots=row.shots,
                errors=row.errors,
                discards=row.discards,
                seconds=row.seconds,
                custom_counts=collections.Counter(
                    {f"{OBSERVABLE_COUNT_PREFIX}{k}": n for k, n in enumerate(per_observable)}
                    if _is_count_list(per_observable)
                    else {}
                ),
            )
            shots, errors, discards, _, rest = stats.to_csv_line().split(",", 4)  # sinter rounds the seconds
            lines.append(f"{shots},{errors},{discards},{float(row.seconds)!r},{rest},{row.chunk}")
        return "\n".join(lines) + "\n"

    def import_sinter_csv(self, text: str | IO[str], *, source: str, accept_new_rows: bool = False) -> Added:
        """Adds the rows of a sinter CSV (from `sinter collect` or `qec export`) as chunks, each identified as the
        module docstring says; every row is checked first, and a bad one refuses the whole file. Rows of a task the
        store holds that match none of its chunks, and repeats of an equal row, are refused unless
        `accept_new_rows`."""
        with parse_sinter_csv(text, source=source) as rows:
            return self.import_rows(rows, accept_new_rows=accept_new_rows)

    def import_rows(self, rows: SinterRows, *, accept_new_rows: bool = False) -> Added:
        """Adds rows parsed (and so checked) by `parse_sinter_csv`: check a file before opening a store for it."""
        with self._transaction():
            self._insert_tasks(rows.tasks(), origin=rows.source)
            return self._insert_chunks(rows.chunks_by_task(), origin=rows.source, accept_new_rows=accept_new_rows)

    def _insert_tasks(self, rows: Iterable[_TaskRow], *, origin: str) -> None:
        """Inserts new tasks; an existing id must have the same decoder and metadata (and circuit, if both have
        one). Call inside a transaction."""
        for row in rows:
            stored = self.connection.execute(
                "SELECT decoder, metadata, circuit FROM tasks WHERE task_id = ?", (row.task_id,)
            ).fetchone()
            if stored is None:
                self.connection.execute(
                    "INSERT INTO tasks VALUES (?, ?, ?, ?)",
                    (row.task_id, row.decoder, canonical_json(row.metadata), row.circuit),
                )
                continue
            decoder, metadata_text, circuit = stored
            if (
                decoder != row.decoder
                or _loads_or_none(metadata_text) != row.metadata
                or (circuit is not None and row.circuit is not None and circuit != row.circuit)
            ):
                raise QecInputError(
                    f"{origin} gives task {row.task_id[:16]}... decoder {row.decoder!r} and metadata "
                    f"{canonical_json(row.metadata)[:80]}, but the store has that id with decoder {decoder!r} and "
                    f"metadata {metadata_text[:80]}; a task id names one task: nothing was written"
                )
            if circuit is None and row.circuit is not None:
                self.connection.execute("UPDATE tasks SET circuit = ? WHERE task_id = ?", (row.circuit, row.task_id))

    def _insert_chunks(
        self,
        groups: Iterable[tuple[str, Iterable[_Incoming]]],
        *,
        origin: str,
        accept_new_rows: bool,
    ) -> Added:
        """Inserts the chunks the store lacks, per task (see `SinterRows.chunks_by_task`), as the module
        docstring says; refuses (QecInputError) new rows that could be a reshaped copy of stored ones unless
        `accept_new_rows`, and sums of shots past 2^63. Call inside a transaction."""
        added = same_seed = 0
        unsure: dict[str, int] = {}
        for task_id, rows in groups:
            task = _StoredTask(self.connection, task_id)
            for row, sample, occurrence in rows:
                outcome = task.identify(row, sample, occurrence)
                if outcome == "same-seed":
                    same_seed += 1
                elif outcome == "altered":
                    stored = task.last_stored
                    raise QecInputError(
                        f"{origin} has sample {sample} of task {task_id[:16]}... with {row.shots} shots and "
                        f"{row.errors} errors, but the store has it with {stored[0]} shots and {stored[1]} errors; "
                        "one of them was altered: nothing was written"
                    )
                elif outcome in ("new", "unsure"):
                    if outcome == "unsure":
                        unsure[task_id] = unsure.get(task_id, 0) + 1
                        if not accept_new_rows:
                            continue
                    task.insert(row, sample, occurrence)
                    added += 1
            if task.added and task.shots > MAX_COUNT:
                raise QecInputError(
                    f"{origin} would bring task {task_id[:16]}... to {task.shots:,} shots, more than 2^63 - 1: "
                    "nothing was written"
                )
        if unsure and not accept_new_rows:
            raise _unsure_rows(origin, unsure)
        return Added(added, same_seed)

    def _tasks(self, task_ids: set[str] | None = None, *, with_circuits: bool = False) -> dict[str, _TaskRow]:
        """The task rows (all, or those in `task_ids`) that pass validation; the others are noted in
        `skipped_rows`."""
        tasks = {}
        columns = f"task_id, decoder, metadata, {'circuit' if with_circuits else 'NULL'}"
        for task_id, decoder, metadata_text, circuit in self._select(f"SELECT {columns} FROM tasks", task_ids):
            try:
                check_token(task_id, name="task id")
                check_token(decoder, name="decoder")
                if not isinstance(metadata_text, str):
                    raise QecInputError("metadata is not text")
                metadata = check_metadata(_loads_or_none(metadata_text))
            except QecInputError as error:
                self._skip(f"task {str(task_id)[:16]}: {error}")
                continue
            tasks[task_id] = _TaskRow(task_id, decoder, metadata, circuit if isinstance(circuit, str) else None)
        return tasks

    def _copied_tasks(self, *, with_circuits: bool = False) -> dict[str, _TaskRow]:
        """The tasks that reads count, so that exports and merges copy them: `_tasks` less those whose valid chunks
        sum to more than 2^63 shots (noted in `skipped_rows`, as `totals` skips them)."""
        tasks = self._tasks(with_circuits=with_circuits)
        large = [
            row[0]
            for row in self._select("SELECT task_id FROM chunks GROUP BY task_id HAVING total(shots) > 4e18", None)
        ]
        for task_id in large:
            if task_id in tasks and sum(row.shots for row in self._chunks({task_id: tasks[task_id]})) > MAX_COUNT:
                self._skip(f"task {task_id[:16]}: its chunks sum to more than 2^63 shots")
                del tasks[task_id]
        return tasks

    def _chunks(self, tasks: dict[str, _TaskRow]) -> Iterator[_ChunkRow]:
        """The valid chunk rows of `tasks`, by task and index; bad rows are noted in `skipped_rows`."""
        for values in self._select("SELECT * FROM chunks", set(tasks), order="ORDER BY task_id, chunk"):
            if values[0] not in tasks:
                continue
            row = _ChunkRow(*values)
            try:
                check_sample_index(row.chunk)
                check_counts(shots=row.shots, errors=row.errors, discards=row.discards, seconds=row.seconds)
            except QecInputError as error:
                self._skip(f"chunk {row.chunk} of task {row.task_id[:16]}: {error}")
                continue
            yield row

    def _select(self, query: str, task_ids: set[str] | None, *, order: str = "") -> Iterator[tuple]:
        """Rows of `query` (all, or those whose task_id is in `task_ids`, a few hundred per statement)."""
        if task_ids is None or len(task_ids) > 5000:
            yield from self.connection.execute(f"{query} {order}")
            return
        ids = sorted(task_ids)
        for first in range(0, len(ids), 500):
            batch = ids[first : first + 500]
            yield from self.connection.execute(
                f"{query} WHERE task_id IN ({', '.join('?' * len(batch))}) {order}", batch
            )

    def _skip(self, description: str) -> None:
        self._skipped[description] = None


def _unsure_rows(origin: str, unsure: dict[str, int]) -> QecInputError:
    """The one-line refusal of rows (counted per task) that cannot be told apart from reshaped stored samples."""
    first, count = next(iter(unsure.items()))
    others = f" (and {sum(unsure.values()) - count} of {len(unsure) - 1} other task(s))" * (len(unsure) > 1)
    return QecInputError(
        f"{origin} has {count} row(s) of task {first[:16]}...{others} that the store cannot tell apart from "
        "a reshaped copy of samples it holds (its task is stored, or the row repeats an equal row; sinter "
        "combine, reordering or a dropped qec_sample column make such rows): nothing was written; if they "
        "are new samples, pass accept_new_rows=True (qec import/merge --accept-new-rows)"
    )


_Incoming = tuple["_ChunkRow", "int | None", int]  # a row, its sample index (None: by content), its occurrence


class _StoredTask:
    """What the store holds of one task as a source's rows of it arrive, and which of those rows are its chunks.

    A row with a sample index is the stored chunk of that index; else one stored chunk with equal counts (shots,
    errors, discards, seconds; a collected chunk matches a row without an index or with a negative one, an imported
    one any row), each stored chunk matched once. A row matched by neither is "new" if it cannot be a reshaped copy
    of stored samples (its task had no chunks before this source, or it has a seed index >= 0 and the task no
    imported chunks, and it repeats no equal row of its file), else "unsure"."""

    def __init__(self, connection: sqlite3.Connection, task_id: str):
        self.connection = connection
        self.task_id = task_id
        self.added = False
        self.last_stored: tuple = ()
        self.pools: collections.Counter = collections.Counter()  # (counts..., imported) -> stored chunks unmatched
        for shots, errors, discards, seconds, imported in connection.execute(
            "SELECT shots, errors, discards, seconds, chunk < 0 FROM chunks WHERE task_id = ?", (task_id,)
        ):
            self.pools[(shots, errors, discards, seconds, bool(imported))] += 1
        self.held = bool(self.pools)
        self.imported = any(key[-1] for key in self.pools)
        try:
            total = connection.execute(
                "SELECT sum(shots) FROM chunks WHERE task_id = ? AND typeof(shots) = 'integer' AND shots >= 0",
                (task_id,),
            ).fetchone()[0]
        except sqlite3.OperationalError:  # integer overflow: rows another tool wrote
            total = MAX_COUNT + 1
        self.shots = int(total or 0)

    def identify(self, row: _ChunkRow, sample: int | None, occurrence: int) -> str:
        """What `row` is: "stored", "same-seed" (its index >= 0 stored with other counts), "altered" (the same,
        < 0), "new" or "unsure" (see the class docstring)."""
        counts = (row.shots, row.errors, row.discards, row.seconds)
        if sample is not None:
            stored = self.connection.execute(
                "SELECT shots, errors, discards, seconds FROM chunks WHERE task_id = ? AND chunk = ?",
                (self.task_id, sample),
            ).fetchone()
            if stored is not None:
                self.last_stored = tuple(stored)
                self._take((*stored, sample < 0))
                if tuple(stored[:3]) != counts[:3]:
                    return "altered" if sample < 0 else "same-seed"
                return "stored"
            if self._take((*counts, True)) or (sample < 0 and self._take((*counts, False))):
                return "stored"
            if sample >= 0:
                return "unsure" if self.imported else "new"
            return "unsure" if self.held else "new"
        if self._take((*counts, False)) or self._take((*counts, True)):
            return "stored"
        return "unsure" if self.held or occurrence > 0 else "new"

    def insert(self, row: _ChunkRow, sample: int | None, occurrence: int) -> None:
        """Writes `row` as a chunk: under `sample`, or (None) under the first free index hashed from its counts
        and its occurrence."""
        insert = "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        index = _content_index(row, occurrence) if sample is None else sample
        while self.connection.execute(insert, (row.task_id, index, *row.as_tuple()[2:])).rowcount != 1:
            if sample is not None:
                raise QecInputError(f"sample {sample} of task {self.task_id[:16]}... is stored already")  # unreachable
            occurrence += 1  # an earlier row took this index: the next free one
            index = _content_index(row, occurrence)
        self.shots += row.shots
        self.added = True

    def _take(self, key: tuple) -> bool:
        if self.pools[key] <= 0:
            return False
        self.pools[key] -= 1
        return True


def _content_index(row: _ChunkRow, occurrence: int) -> int:
    """The negative chunk index of an imported row without one: a hash of its task, counts (seconds exactly) and
    occurrence among equal rows, so the same rows get the same indices in any order, file or store."""
    key = f"{row.task_id} {row.shots} {row.errors} {row.discards} {float(row.seconds).hex()} {occurrence}"
    return -1 - (int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1)


def _holds_rows(connection: sqlite3.Connection) -> bool:
    """Whether the store has any task or chunk (True when that cannot be read: then it is kept)."""
    try:
        return bool(
            connection.execute("SELECT EXISTS (SELECT 1 FROM tasks) OR EXISTS (SELECT 1 FROM chunks)").fetchone()[0]
        )
    except sqlite3.Error:
        return True


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (or ROLLBACK on error), so concurrent writers queue instead of interleaving.

    With the store's `path`, an SQLite error (disk full, a file-size limit, an I/O error) rolls back and raises a
    one-line QecInputError saying the store is intact (and that `chunks_kept` earlier chunks are kept)."""

    def __init__(self, connection: sqlite3.Connection, *, path: Path | None = None, chunks_kept: int = 0):
        self.connection = connection
        self.path = path
        self.chunks_kept = chunks_kept

    def __enter__(self):
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            self._raise(error)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                self.connection.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        try:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            elif isinstance(exc, sqlite3.Error):  # SQLite rolled back itself, or left its journal hot: finish it
                self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            pass  # e.g. a file-size limit stops the rollback's writes too: the next open of the store rolls back
        if isinstance(exc, sqlite3.Error):
            self._raise(exc)

    def _raise(self, error: sqlite3.Error) -> None:
        if self.path is None:
            raise error
        pending = _nonempty(Path(f"{self.path}-journal"))
        raise store_write_failure(self.path, error, chunks_kept=self.chunks_kept, pending=pending) from None


def merge_stores(
    target: str | Path, *, sources: Iterable[str | Path], accept_new_rows: bool = False
) -> list[MergedSource]:
    """Merges the stores at `sources` into the store at `target`: every chunk of a source that the target lacks
    is added, and none is counted twice (the module docstring says when two chunks are the same).

    Every source is opened read-only, and checked, before the target is touched. An existing target gains every
    source's new chunks in one transaction, or none (a refused source, one with a task id whose decoder or
    metadata differ from the target's, say, leaves it as it was). A missing target is made whole under a
    temporary name in its folder and then linked into place, so it appears with every source's chunks or not at
    all; a store that appears at `target` meanwhile is merged into, never replaced. Bad input (no sources, a
    missing or corrupt source, the target among the sources, a folder that is missing or not writable) raises
    a one-line QecInputError.

    Args:
        target: the store to merge into; created if missing.
        sources: the stores to merge from, in order (at least one); they are only read.
        accept_new_rows: add the imported chunks that the target cannot tell apart from a reshaped copy of its own
            (see the module docstring); without it such a merge is refused and nothing is written.

    Returns:
        One `MergedSource` per source, in order: the chunks it added and the bad rows of it that were skipped.

    >>> import os, tempfile
    >>> from qec.store import Store, merge_stores
    >>> from qec.parts import memory_task
    >>> from qec.task import ChunkResult, Counts
    >>> folder = tempfile.mkdtemp()
    >>> task = memory_task("repetition", distance=3, noise="code-capacity", p=0.05, pauli="independent")
    >>> for name, index in (("a.db", 0), ("b.db", 1)):
    ...     with Store(os.path.join(folder, name)) as store:
    ...         store.add_tasks([task])
    ...         _ = store.append(ChunkResult(task.task_id, index, Counts(1000, 9), (9,)))
    >>> sources = [os.path.join(folder, name) for name in ("a.db", "b.db", "a.db")]
    >>> [merged.added.chunks for merged in merge_stores(os.path.join(folder, "ab.db"), sources=sources)]
    [1, 1, 0]
    >>> with Store(os.path.join(folder, "ab.db"), read_only=True) as store:
    ...     store.totals()[task.task_id].counts.shots
    2000
    """
    target = Path(target)
    if isinstance(sources, (str, Path)):
        raise QecInputError(f"sources must be a list of store paths, got the one path {str(sources)!r}: pass [it]")
    paths = [Path(source) for source in sources]
    if not paths:
        raise QecInputError("sources is empty: give at least one store to merge from")
    opened: list[Store] = []
    try:
        for path in paths:  # every source is checked before the target is touched
            opened.append(Store(path, read_only=True))
        if target.exists() or target.is_symlink():
            added = _merge_into_existing_store(target, opened, accept_new_rows)
        else:
            added = _merge_into_new_store(target, opened, accept_new_rows)
        return [
            MergedSource(path, count, tuple(store.skipped_rows)) for path, store, count in zip(paths, opened, added)
        ]
    finally:
        for store in opened:
            store.close()


def _merge_into_existing_store(target: Path, sources: list[Store], accept_new_rows: bool) -> list[Added]:
    with Store(target) as merged:
        return merged.merge_from_all(sources, accept_new_rows=accept_new_rows)


def _merge_into_new_store(target: Path, sources: list[Store], accept_new_rows: bool) -> list[Added]:
    """Merges `sources` into a store made beside `target` under a temporary name, then links it to `target`: a
    refused source leaves no store behind. If `target` appeared meanwhile, the sources are merged into it."""
    check_output_path(target, inputs=[source.path for source in sources])
    check_store_name(target)
    temporary = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.merging"
    try:
        try:
            with Store(temporary) as merged:
                added = merged.merge_from_all(sources, accept_new_rows=accept_new_rows)
        except StoreWriteFailed as failed:  # name the store asked for, not the temporary
            raise store_write_failure(target, failed.error, created=True) from None
        try:
            os.link(temporary, target)  # never replaces a store that appeared meanwhile
        except FileExistsError:
            return _merge_into_existing_store(target, sources, accept_new_rows)
        except OSError:  # a file system without hard links: rename, unless a store appeared meanwhile
            if target.exists() or target.is_symlink():
                return _merge_into_existing_store(target, sources, accept_new_rows)
            try:
                os.rename(temporary, target)
            except OSError as error:
                raise QecInputError(f"cannot write the store {target}: {error.strerror or error}") from None
        return added
    finally:
        for path in (temporary, Path(f"{temporary}-journal")):
            path.unlink(missing_ok=True)


_MERGING = re.compile(r"\..+\.(\d{1,10})\.[0-9a-f]{8}\.merging(-journal)?")


def remove_stale_merges(folder: str | Path) -> list[Path]:
    """Deletes the temporary stores (`.NAME.PID.HEX.merging`, and their journals) that merges killed before they
    finished left in `folder`, those whose process is gone; returns what it deleted. Every writer runs it on its
    store's folder, so a `kill -9` during `qec merge` leaves nothing behind after the next command there."""
    removed: list[Path] = []
    try:
        entries = [entry for entry in os.scandir(folder) if entry.name.endswith((".merging", ".merging-journal"))]
    except OSError:
        return removed
    for entry in entries:
        match = _MERGING.fullmatch(entry.name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass  # another command removed it, or the folder refuses: left for the next one
    return removed


def _process_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a pid of ours: leave the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _skipped_summary(path: Path, rows: Sequence[str]) -> str | None:
    """One line naming the bad `rows` that reads of the store at `path` skipped (None when there were none)."""
    if not rows:
        return None
    shown = "; ".join(rows[:3]) + (f"; and {len(rows) - 3} more" if len(rows) > 3 else "")
    return f"skipped {len(rows)} bad row(s) in {path}: {shown}"


class SinterRows:
    """The rows of a sinter CSV file, every one checked and staged in a temporary SQLite file (deleted when closed,
    or when the process dies): what `Store.import_rows` adds, and where they came from. Memory does not grow with
    the number of rows. Close it (or use it in a `with`) when done."""

    def __init__(self, source: str, staging: sqlite3.Connection, rows: int):
        self.source = source
        self.rows = rows
        self._staging = staging

    def tasks(self) -> Iterator[_TaskRow]:
        for task_id, decoder, metadata in self._staging.execute("SELECT * FROM tasks ORDER BY task_id"):
            yield _TaskRow(task_id, decoder, json.loads(metadata), None)

    def chunks_by_task(self) -> Iterator[tuple[str, Iterator[_Incoming]]]:
        """(task id, its rows as (row, sample index or None, occurrence)) per task, in file order; a row's
        occurrence counts the equal rows (same task and counts) before it in the file."""
        now = time.time()
        cursor = self._staging.execute(
            "SELECT task_id, sample, shots, errors, discards, seconds, observable_errors, occurrence FROM rows "
            "ORDER BY task_id, line"
        )
        rows = (
            (_ChunkRow(task_id, 0, shots, errors, discards, seconds, observables, now, self.source), sample, n)
            for task_id, sample, shots, errors, discards, seconds, observables, n in cursor
        )
        for task_id, group in itertools.groupby(rows, key=lambda item: item[0].task_id):
            yield task_id, group

    def refuse_repeats(self) -> None:
        """Raises what `Store.import_rows` raises for these rows into an empty store, without accept_new_rows: rows
        that repeat an equal row of the file. Call it before a new store is made, so a refusal leaves none."""
        unsure = dict(
            self._staging.execute(
                "SELECT task_id, count(*) FROM rows WHERE sample IS NULL AND occurrence > 0 GROUP BY task_id"
            ).fetchall()
        )
        if unsure:
            raise _unsure_rows(self.source, unsure)

    def close(self) -> None:
        self._staging.close()

    def __enter__(self) -> SinterRows:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def parse_sinter_csv(text: str | IO[str], *, source: str) -> SinterRows:
    """The rows of a sinter CSV (`text`, or a text file opened with `newline=""`; `source` names it in messages),
    read row by row and every one checked; QecInputError naming the first bad row, or saying the file has more than
    `MAX_CSV_ROWS` rows or `MAX_CSV_BYTES` characters. Nothing is written to a store: `Store.import_rows` adds them.

    >>> rows = parse_sinter_csv("shots,errors,discards,seconds,decoder,strong_id,json_metadata\\n"
    ...                         '10,1,0,0.5,pymatching,abc,"{}"\\n', source="x.csv")
    >>> rows.rows
    1
    >>> rows.close()
    """
    if isinstance(text, str):
        if len(text) > MAX_CSV_BYTES:
            raise QecInputError(f"{source} has {len(text):,} characters; the limit is {MAX_CSV_BYTES:,}: split it")
        text = io.StringIO(text, newline="")
    staging = sqlite3.connect("", isolation_level=None)  # a private temporary file that SQLite deletes itself
    try:
        staging.execute("PRAGMA journal_mode = OFF")
        staging.execute("PRAGMA synchronous = OFF")
        staging.execute("CREATE TABLE tasks (task_id TEXT PRIMARY KEY, decoder TEXT, metadata TEXT)")
        staging.execute(
            "CREATE TABLE rows (line INTEGER, task_id TEXT, sample INTEGER, shots INTEGER, errors INTEGER, "
            "discards INTEGER, seconds REAL, observable_errors TEXT, occurrence INTEGER)"
        )
        staging.execute("BEGIN")
        rows = _stage_sinter_csv(text, staging, source=source)
        staging.execute(  # each row's occurrence among the equal rows (same task and counts) of the file
            "UPDATE rows SET occurrence = o.n FROM (SELECT rowid AS id, row_number() OVER (PARTITION BY task_id, "
            "shots, errors, discards, seconds ORDER BY line) - 1 AS n FROM rows) AS o WHERE rows.rowid = o.id"
        )
        staging.execute("CREATE INDEX rows_by_task ON rows (task_id, line)")
        staging.execute("COMMIT")
    except BaseException:
        staging.close()
        raise
    return SinterRows(source, staging, rows)


def _stage_sinter_csv(file: IO[str], staging: sqlite3.Connection, *, source: str) -> int:
    """Reads, checks and stages the rows of a sinter CSV; returns how many rows it has."""
    try:
        reader = csv.reader(file, skipinitialspace=True)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in _CSV_COLUMNS if name not in header]
        if missing or len(set(header)) != len(header):
            raise QecInputError(
                f"{source} is not a sinter CSV file: its header must name {', '.join(_CSV_COLUMNS)} "
                "once each (sinter's CSV_HEADER)"
            )
        count = characters = 0
        parsed = _Recent()  # metadata text -> (metadata, canonical JSON)
        known = _Recent()  # task id -> (decoder, canonical JSON): a cache of the staged tasks table
        batch: list[tuple] = []
        for line, values in enumerate(reader, start=2):
            characters += sum(map(len, values)) + len(values)
            if characters > MAX_CSV_BYTES:
                raise QecInputError(f"{source} has more than {MAX_CSV_BYTES:,} characters, the limit: split it")
            if not any(value.strip() for value in values):
                continue
            count += 1
            if count > MAX_CSV_ROWS:
                raise QecInputError(
                    f"{source} has more than {MAX_CSV_ROWS:,} rows (line {line}); the limit is {MAX_CSV_ROWS:,}: "
                    "split it, or combine rows with `sinter combine` first"
                )
            try:
                if len(values) != len(header):
                    raise QecInputError(f"it has {len(values)} fields, the header {len(header)}")
                row = dict(zip(header, (value.strip() for value in values)))
                metadata = parsed.get(row["json_metadata"])
                if metadata is None:
                    checked = _parse_metadata(row["json_metadata"])
                    metadata = parsed.put(row["json_metadata"], (checked, canonical_json(checked)))
                task, counts, sample, per_observable = _parse_row(row, metadata=metadata[0])
            except QecInputError as error:
                raise QecInputError(f"{source} line {line}: {error}; nothing was imported") from None
            content = known.get(task.task_id)
            if content is None:
                found = staging.execute("SELECT decoder, metadata FROM tasks WHERE task_id = ?", (task.task_id,))
                content = known.put(task.task_id, found.fetchone() or (task.decoder, metadata[1]))
                staging.execute("INSERT OR IGNORE INTO tasks VALUES (?, ?, ?)", (task.task_id, *content))
            if tuple(content) != (task.decoder, metadata[1]):
                raise QecInputError(
                    f"{source} line {line}: task {task.task_id[:16]}... appears with another decoder or "
                    "metadata earlier in the file; nothing was imported"
                )
            observables = json.dumps(per_observable) if per_observable else "[]"
            batch.append((line, task.task_id, sample, *counts, observables))
            if len(batch) >= 1000:
                staging.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", batch)
                batch.clear()
        staging.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", batch)
    except csv.Error as error:
        raise QecInputError(f"{source} is not a sinter CSV file: {error}") from None
    except UnicodeDecodeError:
        raise QecInputError(f"{source} is not a text file (not UTF-8): give a sinter CSV file") from None
    except OSError as error:
        raise QecInputError(f"cannot read {source}: {error.strerror or error}; nothing was imported") from None
    return count


class _Recent:
    """A small dict that forgets its oldest entries: caches whose memory does not grow with a file's rows."""

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.entries.get(key)

    def put(self, key: str, value: Any) -> Any:
        if len(self.entries) >= self.size:
            del self.entries[next(iter(self.entries))]
        self.entries[key] = value
        return value


def _parse_metadata(text: str) -> dict:
    """A row's json_metadata, parsed and checked (`check_metadata`)."""
    try:
        metadata = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise QecInputError(f"json_metadata is not JSON: {text[:60]!r}") from None
    return check_metadata(metadata)


def _parse_row(
    row: dict[str, str], *, metadata: dict
) -> tuple[_TaskRow, tuple[int, int, int, float], int | None, list[int]]:
    """One CSV row (its metadata already parsed) as (task, (shots, errors, discards, seconds), sample index or None,
    per-observable errors or [] when the row gives none)."""
    try:
        shots, errors, discards = (int(row[name]) for name in ("shots", "errors", "discards"))
        seconds = float(row["seconds"])
        sample_text = row.get(SAMPLE_COLUMN, "")
        sample = check_sample_index(int(sample_text)) if sample_text else None
    except ValueError as error:
        raise QecInputError(f"a count is not a number ({error})") from None
    check_counts(shots=shots, errors=errors, discards=discards, seconds=seconds)
    custom = row.get("custom_counts", "")
    per_observable: list[int] = []
    if custom:
        try:
            counts = json.loads(custom)
        except (json.JSONDecodeError, RecursionError):
            counts = None
        if not (
            isinstance(counts, dict)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts.values())
        ):
            raise QecInputError(f"custom_counts must be a JSON object of counts, got {custom[:60]!r}")
        per_observable = _observable_errors(counts, errors=errors)
    task = _TaskRow(
        check_token(row["strong_id"], name="strong_id"),
        check_token(row["decoder"], name="decoder"),
        metadata,
        None,
    )
    return task, (shots, errors, discards, seconds), sample, per_observable


def _observable_errors(custom_counts: dict[str, int], *, errors: int) -> list[int]:
    """Per-observable error counts from a row's custom counts (ours, else sinter's mistake masks); [] when it has
    none, or when they do not fit its `errors` (each at most `errors`, their sum at least `errors`)."""
    ours = {
        key[len(OBSERVABLE_COUNT_PREFIX) :]: n
        for key, n in custom_counts.items()
        if key.startswith(OBSERVABLE_COUNT_PREFIX)
    }
    masks = {
        key[len(MISTAKE_MASK_PREFIX) :]: n for key, n in custom_counts.items() if key.startswith(MISTAKE_MASK_PREFIX)
    }
    counts: list[int] = []
    if ours:
        if sorted(ours) == sorted(str(k) for k in range(len(ours))):
            counts = [ours[str(k)] for k in range(len(ours))]
    elif masks and len({len(mask) for mask in masks}) == 1 and all(set(mask) <= {"_", "E"} for mask in masks):
        width = len(next(iter(masks)))
        counts = [sum(n for mask, n in masks.items() if mask[k] == "E") for k in range(width)]
    if not counts or max(counts) > errors or sum(counts) < errors:
        return []
    return counts


def _is_count_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)


def check_store_name(path: str | Path) -> None:
    """Refuses a store to be written under a name SQLite gives its own files (`X-journal`, `X-wal`, `X-shm`):
    SQLite would take it for the journal of the database X and roll X back with it, or delete it."""
    name = Path(path).name
    if name.endswith(_SQLITE_SIDECARS):
        raise QecInputError(
            f"cannot write the store {path}: SQLite names a database's own files like that, and "
            f"would take it for a journal of {name.rsplit('-', 1)[0]} (and delete it): give the store "
            "another name"
        )


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the qec store at `path`; creates nothing, works in read-only folders."""
    _check_is_store(path)
    if _idle_wal(path):  # a WAL-mode store (from an older qec) with no writer: SQLite would make -wal, -shm files
        return _connect(path, "mode=ro&immutable=1")
    try:
        connection = _connect(path, "mode=ro")
        connection.execute("SELECT count(*) FROM meta").fetchone()
    except sqlite3.DatabaseError:
        # a WAL-mode store (written by an older qec) in a read-only folder: SQLite cannot make its -shm file;
        # with no -wal file there is nothing beyond the .db file to read, so read it as immutable
        wal = Path(f"{path}-wal")
        if _nonempty(wal):
            raise QecInputError(
                f"{path} has unmerged writes in {wal.name} and its folder is read-only: copy the "
                "store and its -wal file to a writable folder and read it there"
            ) from None
        connection = _connect(path, "mode=ro&immutable=1")
    return connection


def _open_for_writing(path: Path) -> sqlite3.Connection:
    """A connection that may write the store at `path`, creating it if missing; checks the path first."""
    folder = path.parent if str(path.parent) else Path(".")
    check_store_name(path)
    if path.exists() or path.is_symlink():
        _check_is_store(path)
        if not os.access(path, os.W_OK):
            raise QecInputError(
                f"the store {path} is read-only: read it with stats/export/plot, or write to a writable copy"
            )
    elif not folder.is_dir():
        raise QecInputError(f"cannot create the store {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise QecInputError(
            f"cannot write the store {path}: its folder {folder} is not writable (SQLite keeps its "
            "journal beside the store); give a store in a writable folder"
        )
    remove_stale_merges(folder)
    created = not (path.exists() or path.is_symlink())
    connection = None
    try:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 60000")
        connection.execute("PRAGMA synchronous = FULL")
        try:  # the rollback journal leaves everything in the .db file after each commit (older stores used WAL)
            connection.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.OperationalError:
            pass  # another command has the store open; it stays in WAL until the last one leaves
        with _Transaction(connection):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format', ?), ('version', ?)", (FORMAT, str(VERSION))
            )
    except sqlite3.DatabaseError as error:
        if connection is not None:
            connection.close()
        if created and not _nonempty(path) and not Path(f"{path}-journal").exists():
            path.unlink(missing_ok=True)  # the empty file SQLite made before its first write failed
        pending = _nonempty(Path(f"{path}-journal"))
        raise store_write_failure(path, error, created=created, pending=pending) from None
    return connection


def _connect(path: Path, options: str) -> sqlite3.Connection:
    """An SQLite URI connection to `path` (any characters in the name) with `options`."""
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?{options}"
    connection = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 60000")
    return connection


def _check_is_store(path: Path) -> None:
    """Raises QecInputError unless `path` is an intact qec store of a version this qec reads; creates and
    changes nothing (the check reads the file as immutable)."""
    if not path.exists():
        raise QecInputError(f"no store at {path}: give the path of a qec store")
    if path.is_dir():
        raise QecInputError(f"{path} is a folder, not a qec store: give the store's file")
    if not path.is_file():
        raise QecInputError(f"{path} is not a regular file, so not a qec store: give the store's file")
    if not os.access(path, os.R_OK):
        raise QecInputError(f"cannot read the store {path}: permission denied")
    if path.stat().st_size == 0:
        raise QecInputError(f"{path} is an empty file, not a qec store: delete it or give another store path")
    with open(path, "rb") as file:
        header = file.read(100)
    if not header.startswith(_SQLITE_HEADER):
        raise QecInputError(f"{path} is not a qec store (not an SQLite file); give another store path")
    _recover_unfinished_write(path)
    try:
        connection = _connect(path, "mode=ro&immutable=1" if _idle_wal(path) else "mode=ro")
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            schema = _schema_of(connection)
            tables = {name for kind, name, _, _ in schema if kind == "table"}
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise QecInputError(
            f"{path} is a corrupt qec store ({error}); it was left untouched: restore it from a "
            "copy, or give another store path"
        ) from None
    if meta.get("format") != FORMAT or not {"tasks", "chunks"} <= tables:
        raise QecInputError(f"{path} is an SQLite database but not a qec store; give another store path")
    version = meta.get("version", "")
    if not version.isdigit() or int(version) > VERSION:
        raise QecInputError(
            f"{path} was written by a newer qec (store format {version!r}; this qec reads up to "
            f"{VERSION}): upgrade qec to read it"
        )
    foreign = sorted(f"{kind} {name}" for kind, name, _, _ in schema ^ _our_schema())
    if foreign:
        raise QecInputError(
            f"{path} has a schema this qec did not write ({', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''} differ from a qec store's tables, columns and indexes; triggers "
            "and views are never ours): it was left untouched; export what you need with sqlite3, or give another "
            "store path"
        )


def _schema_of(connection: sqlite3.Connection) -> set[tuple[str, str, str, str | None]]:
    """The schema objects of a database (kind, name, table, SQL with whitespace collapsed), SQLite's statistics
    tables (made by ANALYZE) left out."""
    return {
        (kind, name, table, None if sql is None else " ".join(sql.split()))
        for kind, name, table, sql in connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
        if not name.startswith("sqlite_stat")
    }


@functools.cache
def _our_schema() -> frozenset[tuple[str, str, str, str | None]]:
    """The schema objects a store of ours has: what `_SCHEMA` makes."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(_SCHEMA)
        return frozenset(_schema_of(connection))
    finally:
        connection.close()


def _recover_unfinished_write(path: Path) -> None:
    """Rolls back the journal a killed writer left (SQLite does it on the first read-write open); a read-only
    connection cannot, so without write access this says how to recover."""
    if not _nonempty(Path(f"{path}-journal")):
        return
    if not (os.access(path, os.W_OK) and os.access(path.parent if str(path.parent) else ".", os.W_OK)):
        raise QecInputError(
            f"{path} has an unfinished write (its -journal file, left by a killed command) and is "
            "read-only here: open it once where it is writable to roll the write back"
        )
    try:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        pass  # the integrity check that follows says what is wrong


def _idle_wal(path: Path) -> bool:
    """Whether `path` is a WAL-mode SQLite file without a -wal file: no writer, everything in the file, so it can
    be read as immutable and SQLite makes no -shm or -wal file beside it."""
    with open(path, "rb") as file:
        header = file.read(20)
    return len(header) > 18 and header[18] == 2 and not _nonempty(Path(f"{path}-wal"))


def _nonempty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _loads_or_none(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None

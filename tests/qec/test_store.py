"""The SQLite store: append-only, idempotent chunks, refuses what is not a store, sinter CSV round trips."""

import sqlite3

import pytest
import sinter

from qec.errors import QecInputError
from qec.sampling import ChunkResult
from qec.store import Store
from qec.task import Task


@pytest.fixture
def task():
    return Task.memory("repetition", distance=3, noise="sd6", p=0.01)


def chunk(task, index, shots=1000, errors=7):
    return ChunkResult(task.task_id, index, shots, errors, 0, 0.5, (errors,))


def test_a_chunk_is_counted_once(tmp_path, task):
    with Store(tmp_path / "s.db") as store:
        store.add_tasks([task])
        assert store.append(chunk(task, 0)) is True
        assert store.append(chunk(task, 0)) is False
        assert store.append(chunk(task, 1)) is True
        totals = store.totals()[task.task_id]
    assert (totals.shots, totals.errors, totals.chunks, totals.next_chunk) == (2000, 14, 2, 2)


def test_committed_chunks_survive_reopening(tmp_path, task):
    with Store(tmp_path / "s.db") as store:
        store.add_tasks([task])
        store.append(chunk(task, 0))
    with Store(tmp_path / "s.db") as store:
        assert store.totals()[task.task_id].shots == 1000


@pytest.mark.parametrize("content,message", [
    (b"shots,errors\n1,2\n", "not an SQLite file"),
    (b"SQLite format 3\x00" + b"\x00" * 200, "corrupt qec store"),
])
def test_files_that_are_not_stores_are_refused_and_untouched(tmp_path, content, message):
    path = tmp_path / "other.db"
    path.write_bytes(content)
    with pytest.raises(QecInputError, match=message):
        Store(path)
    assert path.read_bytes() == content


def test_another_sqlite_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(QecInputError, match="not a qec store"):
        Store(path)
    assert path.read_bytes() == before


def test_a_damaged_store_is_refused_and_untouched(tmp_path, task):
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.add_tasks([task])
        for index in range(200):
            store.append(chunk(task, index))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(path.read_bytes())
    data[4096: 4096 + 800] = b"\xff" * 800  # garble the start of page 2
    path.write_bytes(bytes(data))
    with pytest.raises(QecInputError, match="corrupt qec store"):
        Store(path)
    assert path.read_bytes() == bytes(data)


def test_sinter_csv_round_trip(tmp_path, task):
    with Store(tmp_path / "s.db") as store:
        store.add_tasks([task])
        store.append(chunk(task, 0))
        store.append(chunk(task, 1, shots=500, errors=3))
        text = store.to_sinter_csv()
    csv_path = tmp_path / "stats.csv"
    csv_path.write_text(text)
    (stats,) = sinter.read_stats_from_csv_files(csv_path)
    assert (stats.shots, stats.errors, stats.strong_id, stats.json_metadata["distance"]) == (1500, 10, task.task_id, 3)
    with Store(tmp_path / "imported.db") as imported:
        assert imported.import_sinter_csv(text, source="stats.csv") == 1
        assert imported.import_sinter_csv(text, source="stats.csv") == 0  # importing twice adds nothing
        totals = imported.totals()[task.task_id]
    assert (totals.shots, totals.errors, totals.metadata["p"]) == (1500, 10, 0.01)


def test_malformed_csv_is_refused(tmp_path):
    with Store(tmp_path / "s.db") as store, pytest.raises(QecInputError, match="not a sinter CSV"):
        store.import_sinter_csv("a,b\n1,2\n", source="bad.csv")


def test_merge_adds_only_missing_chunks(tmp_path, task):
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        for store, indices in ((a, [0, 1]), (b, [1, 2, 3])):
            store.add_tasks([task])
            for index in indices:
                store.append(chunk(task, index))
        assert a.merge_from(b) == 2
        assert a.merge_from(b) == 0
        assert a.totals()[task.task_id].shots == 4000

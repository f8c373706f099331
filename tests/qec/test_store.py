"""The SQLite store: every sample counted once by every route, validation at the door, bad rows skipped on
read, read-only opening, refusal of what is not a store. Tests named in the README's "What the store promises"."""

import io
import json
import os
import re
import sqlite3

import pytest
import sinter

from qec.errors import QecInputError
from qec.parts import memory_task
from qec.store import Added, MergedSource, Store, StoredChunk, merge_stores
from qec.task import ChunkResult, Counts, Task


@pytest.fixture
def task():
    return memory_task("repetition", distance=3, noise="sd6", p=0.01)


def chunk(task, index, shots=1000, errors=7):
    return ChunkResult(task.task_id, index, Counts(shots, errors, 0, 0.5), (errors,))


def filled_store(path, task, indices=(0, 1), shots=1000, errors=7):
    store = Store(path)
    store.add_tasks([task])
    for index in indices:
        store.append(chunk(task, index, shots, errors))
    return store


def counts(store, task):
    totals = store.totals()[task.task_id]
    return totals.counts.shots, totals.counts.errors


SINTER_ROWS = """shots,errors,discards,seconds,decoder,strong_id,json_metadata
1000,42,0,0.125,pymatching,9c31908e2b,"{""d"":9,""p"":0.001}"
1000,42,0,0.25,pymatching,9c31908e2b,"{""d"":9,""p"":0.001}"
1000,250,0,0.125,pymatching,deadbeef08,"{""d"":7,""p"":0.001}"
"""


def test_a_chunk_is_counted_once(tmp_path, task):
    with Store(tmp_path / "s.db") as store:
        store.add_tasks([task])
        assert store.append(chunk(task, 0)) is True
        assert store.append(chunk(task, 0)) is False
        assert store.append(chunk(task, 1)) is True
        totals = store.totals()[task.task_id]
    assert (totals.counts.shots, totals.counts.errors, totals.chunks, totals.next_chunk) == (2000, 14, 2, 2)


def test_committed_chunks_survive_reopening(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    with Store(tmp_path / "s.db") as store:
        assert store.totals()[task.task_id].counts.shots == 1000


def test_export_then_import_into_the_same_store_adds_nothing(tmp_path, task):
    with filled_store(tmp_path / "s.db", task, [0, 1, 2]) as store:
        assert store.import_sinter_csv(SINTER_ROWS, source="sinter.csv").chunks == 3
        before = store.totals()
        added = store.import_sinter_csv(store.to_sinter_csv(), source="export.csv")
        assert added.chunks == 0 and store.totals() == before


def test_export_imported_into_a_store_merged_with_its_source_adds_nothing(tmp_path, task):
    with filled_store(tmp_path / "a.db", task, [0, 1]) as a, filled_store(tmp_path / "b.db", task, [1, 2]) as b:
        a.import_sinter_csv(SINTER_ROWS, source="sinter.csv")
        exported = a.to_sinter_csv()
        assert b.merge_from(a).chunks == 4  # chunk 0 and the three imported rows
        before = b.totals()
        assert b.import_sinter_csv(exported, source="a.csv").chunks == 0 and b.totals() == before
    assert counts(Store(tmp_path / "b.db"), task) == (3000, 21)


def test_importing_one_file_twice_adds_it_once_and_appended_rows_only_when_accepted(tmp_path):
    more = '1000,40,0,0.125,pymatching,9c31908e2b,"{""d"":9,""p"":0.001}"\n'
    with Store(tmp_path / "s.db") as store:
        assert store.import_sinter_csv(SINTER_ROWS, source="x.csv").chunks == 3
        assert store.import_sinter_csv(SINTER_ROWS, source="x.csv").chunks == 0
        with pytest.raises(QecInputError, match="1 row.* of task 9c31908e2b.*accept_new_rows"):
            store.import_sinter_csv(SINTER_ROWS + more, source="x.csv")  # sinter appended a row: or a reshaped copy?
        assert store.import_sinter_csv(SINTER_ROWS + more, source="x.csv", accept_new_rows=True).chunks == 1
        assert store.totals()["9c31908e2b"].counts.shots == 3000


def test_equal_rows_in_one_file_are_refused_unless_accepted_then_count_as_sinter_sums_them(tmp_path):
    doubled = SINTER_ROWS + SINTER_ROWS.split("\n", 1)[1]  # a file concatenated with its rows again
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(QecInputError, match="repeats an equal row"):
            store.import_sinter_csv(doubled, source="x.csv")
        assert store.totals() == {}
        assert store.import_sinter_csv(doubled, source="x.csv", accept_new_rows=True).chunks == 6
        assert store.import_sinter_csv(doubled, source="x.csv").chunks == 0  # counted once by content
        ours = {task_id: (t.counts.shots, t.counts.errors) for task_id, t in store.totals().items()}
    theirs = {s.strong_id: (s.shots, s.errors) for s in sinter.read_stats_from_csv_files(io.StringIO(doubled))}
    assert ours == theirs == {"9c31908e2b": (4000, 168), "deadbeef08": (2000, 500)}


def test_two_stores_that_imported_one_file_merge_without_double_counting(tmp_path):
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        a.import_sinter_csv(SINTER_ROWS, source="x.csv")
        b.import_sinter_csv(SINTER_ROWS, source="x.csv")
        assert a.merge_from(b).chunks == 0
        assert a.totals()["9c31908e2b"].counts.shots == 2000


def test_a_seeds_chunk_is_kept_once_when_stores_disagree_on_its_size(tmp_path, task):
    """Chunk k of a task always samples from seed (task, k): two stores with chunk k of other sizes hold
    overlapping samples, so a merge keeps the target's and says so."""
    with filled_store(tmp_path / "a.db", task, [0]) as a, filled_store(tmp_path / "b.db", task, [0, 1], 500) as b:
        added = a.merge_from(b)
        assert (added.chunks, added.same_seed_skipped) == (1, 1) and counts(a, task) == (1500, 14)


def test_merge_adds_only_missing_chunks_and_refuses_itself(tmp_path, task):
    with filled_store(tmp_path / "a.db", task, [0, 1]) as a, filled_store(tmp_path / "b.db", task, [1, 2, 3]) as b:
        assert a.merge_from(b).chunks == 2
        assert a.merge_from(b).chunks == 0
        assert a.totals()[task.task_id].counts.shots == 4000
        with Store(tmp_path / "a.db", read_only=True) as same, pytest.raises(QecInputError, match="merged into"):
            a.merge_from(same)


ROW = "shots,errors,discards,seconds,decoder,strong_id,json_metadata\n{}\n"


@pytest.mark.parametrize(
    "row,message",
    [
        ('10,1,0,0.1,pymatching,abc,"[1,2]"', "metadata must be a JSON object"),
        ('10,1,0,0.1,pymatching,abc,"{""distance"":""abc""}"', "'distance' must be an integer >= 1"),
        ('10,1,0,0.1,pymatching,abc,"{""d"":0}"', "'d' must be an integer >= 1"),
        ('10,1,0,0.1,pymatching,abc,"{""rounds"":2.5}"', "'rounds' must be an integer >= 1"),
        ('10,1,0,0.1,pymatching,abc,"{""p"":1.5}"', "'p' must be a probability in [0, 1]"),
        ('10,1,0,0.1,pymatching,abc,"{""p"":NaN}"', "NaN"),
        ('10,1,0,0.1,pymatching,abc,"{""family"":3}"', "'family' must be text"),
        ('10,1,0,0.1,pymatching,abc,"{oops"', "json_metadata is not JSON"),
        ('10,11,0,0.1,pymatching,abc,"{}"', "errors + discards (11) must not exceed shots (10)"),
        ('10,5,6,0.1,pymatching,abc,"{}"', "errors + discards (11) must not exceed shots (10)"),
        ('-10,0,0,0.1,pymatching,abc,"{}"', "shots must be an integer in [0, 2^63)"),
        ('9223372036854775808,0,0,0.1,pymatching,abc,"{}"', "shots must be an integer in [0, 2^63)"),
        ('10,1,0,nan,pymatching,abc,"{}"', "seconds must be a finite number >= 0"),
        ('10,1,0,-1,pymatching,abc,"{}"', "seconds must be a finite number >= 0"),
        ('10,1.5,0,0.1,pymatching,abc,"{}"', "a count is not a number"),
        ('10,1,0,0.1,"py matching",abc,"{}"', "decoder must be a plain name"),
        ('10,1,0,0.1,pymatching,,"{}"', "strong_id must be a plain name"),
        ('10,1,0,0.1,pymatching,"../../etc",,"{}"', "fields"),
    ],
)
def test_bad_csv_rows_are_refused_and_nothing_is_written(tmp_path, task, row, message):
    with filled_store(tmp_path / "s.db", task, [0]) as store:
        text = ROW.format('10,1,0,0.1,pymatching,good,"{}"') + row + "\n"
        with pytest.raises(QecInputError, match="line 3: .*" + re.escape(message)):
            store.import_sinter_csv(text, source="bad.csv")
        assert list(store.totals()) == [task.task_id] and counts(store, task) == (1000, 7)


def test_a_task_id_reused_with_other_content_is_refused(tmp_path, task):
    with filled_store(tmp_path / "s.db", task, [0]) as store:
        reused = ROW.format(f'10,1,0,0.1,bposd,{task.task_id},"{{""d"":3}}"')
        with pytest.raises(QecInputError, match="a task id names one task"):
            store.import_sinter_csv(reused, source="reused.csv")
        altered = store.to_sinter_csv().replace(",1000,", ",999,", 1).replace("      1000,", "       999,", 1)
        other = memory_task("repetition", distance=3, noise="sd6", p=0.02)
        store.add_tasks([other])  # a different task is fine
        assert counts(store, task) == (1000, 7)
    with Store(tmp_path / "t.db") as fresh:
        fresh.import_sinter_csv(ROW.format('10,1,0,0.1,pymatching,abc,"{}"'), source="a.csv")
        imported_row = fresh.to_sinter_csv()
        tampered = imported_row.replace("        10,", "        11,")
        with pytest.raises(QecInputError, match="one of them was altered"):
            fresh.import_sinter_csv(tampered, source="tampered.csv")
    assert altered  # a collected chunk with other counts is the same seed's samples: kept once (test above)


def poison(path, statement, values):
    connection = sqlite3.connect(path)
    connection.execute(statement, values)
    connection.commit()
    connection.close()


def test_bad_rows_already_in_a_store_are_skipped_on_read_and_never_merged(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    poison(tmp_path / "s.db", "INSERT INTO tasks VALUES (?, ?, ?, NULL)", ("listmeta", "pymatching", "[1, 2]"))
    poison(
        tmp_path / "s.db", "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, '[]', 0, 'x')", ("listmeta", 0, 10, 1, 0, 0.1)
    )
    poison(
        tmp_path / "s.db", "INSERT INTO tasks VALUES (?, ?, ?, NULL)", ("abcdist", "pymatching", '{"distance":"abc"}')
    )
    poison(
        tmp_path / "s.db",
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, '[]', 0, 'x')",
        (task.task_id, 7, 10, 11, 0, 0.1),
    )  # errors > shots
    with Store(tmp_path / "s.db", read_only=True) as store:
        assert list(store.totals()) == [task.task_id] and counts(store, task) == (1000, 7)
        assert len(store.skipped_rows) == 3
        assert "must not exceed shots" in " ".join(store.skipped_rows)
        assert store.to_sinter_csv().count("\n") == 2
        with Store(tmp_path / "m.db") as merged:
            assert merged.merge_from(store).chunks == 1
            assert list(merged.totals()) == [task.task_id] and merged.skipped_rows


def test_read_only_opening_creates_nothing_and_writes_nothing(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    before = sorted(p.name for p in tmp_path.iterdir())
    with Store(tmp_path / "s.db", read_only=True) as store:
        assert counts(store, task) == (1000, 7)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.connection.execute("DELETE FROM chunks")
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["s.db"]  # no journal: the .db holds it all
    with pytest.raises(QecInputError, match="no store at"):
        Store(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty file, not a qec store"),
        (b"shots,errors\n1,2\n", "not an SQLite file"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "corrupt qec store"),
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
def test_files_that_are_not_stores_are_refused_and_untouched(tmp_path, content, message, read_only):
    path = tmp_path / "other.db"
    path.write_bytes(content)
    with pytest.raises(QecInputError, match=message):
        Store(path, read_only=read_only)
    assert path.read_bytes() == content and [p.name for p in tmp_path.iterdir()] == ["other.db"]


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(QecInputError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(QecInputError, match="folder .* does not exist"):
        Store(tmp_path / "missing" / "s.db")


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_another_sqlite_database_is_refused_untouched_and_nothing_is_created_beside_it(tmp_path, journal_mode):
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA journal_mode = {journal_mode}")
    connection.execute("CREATE TABLE users (name TEXT)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(QecInputError, match="not a qec store"):
            Store(path, read_only=read_only)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["app.db"]


def test_a_store_of_a_newer_format_is_refused(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    poison(tmp_path / "s.db", "UPDATE meta SET value = ? WHERE key = 'version'", ("2",))
    for read_only in (False, True):
        with pytest.raises(QecInputError, match="written by a newer qec"):
            Store(tmp_path / "s.db", read_only=read_only)


def test_an_older_wal_store_is_read_and_left_checkpointed(tmp_path, task):
    path = tmp_path / "s.db"
    filled_store(path, task, [0]).close()
    poison(path, "PRAGMA journal_mode = wal", ())
    with Store(path, read_only=True) as store:
        assert counts(store, task) == (1000, 7)
    with Store(path) as store:
        store.append(chunk(task, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    with Store(copy, read_only=True) as store:
        assert counts(store, task) == (2000, 14)


def test_a_damaged_store_is_refused_and_untouched(tmp_path, task):
    path = tmp_path / "s.db"
    with filled_store(path, task, range(200)):
        pass
    data = bytearray(path.read_bytes())
    data[4096 : 4096 + 800] = b"\xff" * 800  # garble the start of page 2
    path.write_bytes(bytes(data))
    with pytest.raises(QecInputError, match="corrupt qec store"):
        Store(path)
    assert path.read_bytes() == bytes(data)


def test_store_paths_may_hold_any_character(tmp_path, task):
    for name in ("a?b#c%20d.db", "spa ce\nnew'line\".db", "file:x.db", "ünï—code.db"):
        filled_store(tmp_path / name, task, [0]).close()
        with Store(tmp_path / name, read_only=True) as store:
            assert counts(store, task) == (1000, 7)


def test_sinter_reads_our_export(tmp_path, task):
    with filled_store(tmp_path / "s.db", task, [0]) as store:
        store.append(chunk(task, 1, shots=500, errors=3))
        (tmp_path / "stats.csv").write_text(store.to_sinter_csv())
    (stats,) = sinter.read_stats_from_csv_files(tmp_path / "stats.csv")
    assert (stats.shots, stats.errors, stats.strong_id, stats.json_metadata["distance"]) == (1500, 10, task.task_id, 3)


def test_python_tasks_are_checked_at_the_door(task):
    for metadata, message in (
        ([1], "JSON object"),
        ({"distance": "abc"}, "integer >= 1"),
        ({"p": float("nan")}, "NaN"),
        ({"x": object()}, "JSON"),
    ):
        with pytest.raises(QecInputError, match=message):
            Task(circuit=task.circuit, decoder="pymatching", metadata=metadata)
    with pytest.raises(QecInputError, match="decoder must be a plain name"):
        Task(circuit=task.circuit, decoder="py matching; rm", metadata={})
    assert json.loads(task.metadata_json)["distance"] == 3


# Regressions found by the fuzz test (tests/cli/test_fuzz_cli.py).


def test_reading_an_older_wal_store_makes_no_files_beside_it(tmp_path, task):
    path = tmp_path / "s.db"
    filled_store(path, task, [0]).close()
    poison(path, "PRAGMA journal_mode = wal", ())
    with Store(path, read_only=True) as store:
        assert counts(store, task) == (1000, 7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]


def test_a_merge_that_one_source_refuses_writes_nothing(tmp_path, task):
    filled_store(tmp_path / "a.db", task, [0]).close()
    filled_store(tmp_path / "c.db", task, [1]).close()
    poison(tmp_path / "c.db", "UPDATE tasks SET decoder = 'uf'", ())
    with (
        Store(tmp_path / "a.db", read_only=True) as a,
        Store(tmp_path / "c.db", read_only=True) as c,
        Store(tmp_path / "t.db") as target,
    ):
        with pytest.raises(QecInputError, match="a task id names one task"):
            target.merge_from_all([a, c])
        assert target.totals() == {}  # a's chunk, merged before c was refused, was rolled back with it


@pytest.mark.parametrize("suffix", ["-journal", "-wal", "-shm"])
def test_a_store_named_like_sqlites_own_files_is_refused(tmp_path, task, suffix):
    filled_store(tmp_path / "s.db", task, [0]).close()
    with pytest.raises(QecInputError, match="SQLite names a database's own files like that"):
        Store(tmp_path / f"s.db{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]
    with Store(tmp_path / "s.db", read_only=True) as store:
        assert counts(store, task) == (1000, 7)


def test_a_task_whose_stored_shots_overflow_is_skipped_on_read_and_refused_on_resume(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    for index in (1, 2):
        poison(
            tmp_path / "s.db",
            "INSERT INTO chunks VALUES (?, ?, ?, 0, 0, 0.1, '[]', 0, 'other tool')",
            (task.task_id, index, 2**62),
        )
    with Store(tmp_path / "s.db") as store:
        assert store.totals() == {} and "more than 2^63" in store.skipped_rows[0]
        with pytest.raises(QecInputError, match="sample it into another store"):
            store.totals([task.task_id])
        assert store.to_sinter_csv().count("\n") == 1  # export and merge copy only what reads count
        with Store(tmp_path / "m.db") as merged:
            assert merged.merge_from(store).chunks == 0 and merged.totals() == {}


def test_a_sinter_csv_is_checked_without_a_store(tmp_path):
    from qec.store import parse_sinter_csv

    with parse_sinter_csv(SINTER_ROWS, source="sinter.csv") as rows:
        assert rows.rows == 3 and len(list(rows.tasks())) == 2
        with pytest.raises(QecInputError, match="line 2"):
            parse_sinter_csv(SINTER_ROWS.replace("1000,42", "1000,4200", 1), source="bad.csv")
        with Store(tmp_path / "s.db") as store:
            assert store.import_rows(rows).chunks == 3 and store.import_rows(rows).chunks == 0


def test_chunk_rows_are_records_with_named_fields(tmp_path, task):
    with filled_store(tmp_path / "s.db", task, [0, 1], shots=1000, errors=7) as store:
        store.import_sinter_csv(SINTER_ROWS, source="sinter.csv")
        rows = list(store.chunk_rows())
    collected = [row for row in rows if row.task_id == task.task_id]
    assert [row.chunk_index for row in collected] == [0, 1]
    assert all(row.counts == Counts(1000, 7, 0, 0.5) and row.observable_errors == (7,) for row in collected)
    assert all(row.source == "collect" and row.created > 0 for row in collected)
    imported = [row for row in rows if row.task_id != task.task_id]
    assert len(imported) == 3 and all(row.chunk_index < 0 and row.source == "sinter.csv" for row in imported)
    assert all(row.observable_errors == () for row in imported)  # sinter's rows gave no per-observable counts
    assert isinstance(rows[0], StoredChunk)
    with pytest.raises(AttributeError):
        rows[0].task_id = "other"  # frozen


def test_a_row_whose_observable_counts_are_not_a_list_of_counts_reads_as_having_none(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    poison(tmp_path / "s.db", "UPDATE chunks SET observable_errors = '{\"0\": 7}'", ())
    with Store(tmp_path / "s.db", read_only=True) as store:
        (row,) = store.chunk_rows()
    assert row.observable_errors == () and row.counts.errors == 7


def folder_listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_merge_stores_makes_a_new_store_with_every_chunk_once_and_only_reads_the_sources(tmp_path, task):
    filled_store(tmp_path / "a.db", task, [0, 1]).close()
    filled_store(tmp_path / "b.db", task, [1, 2]).close()
    before = {name: (tmp_path / name).read_bytes() for name in ("a.db", "b.db")}
    merged = merge_stores(tmp_path / "m.db", sources=[tmp_path / "a.db", str(tmp_path / "b.db"), tmp_path / "a.db"])
    assert [(m.source.name, m.added) for m in merged] == [("a.db", Added(2)), ("b.db", Added(1)), ("a.db", Added(0))]
    assert all(m.skipped_rows == () and m.skipped_summary() is None for m in merged)
    with Store(tmp_path / "m.db", read_only=True) as store:
        assert counts(store, task) == (3000, 21)
        assert [row.chunk_index for row in store.chunk_rows()] == [0, 1, 2]
    assert {name: (tmp_path / name).read_bytes() for name in ("a.db", "b.db")} == before
    assert folder_listing(tmp_path) == ["a.db", "b.db", "m.db"]  # no temporary store, no journal left behind
    again = merge_stores(tmp_path / "m.db", sources=[tmp_path / "b.db"])  # an existing target: only what it lacks
    assert [m.added for m in again] == [Added(0)]


def test_merge_stores_into_an_existing_store_adds_what_it_lacks(tmp_path, task):
    filled_store(tmp_path / "t.db", task, [0]).close()
    filled_store(tmp_path / "a.db", task, [0, 1], shots=500).close()  # chunk 0 again, sized otherwise: same seed
    (merged,) = merge_stores(tmp_path / "t.db", sources=[tmp_path / "a.db"])
    assert merged.added == Added(1, same_seed_skipped=1)
    with Store(tmp_path / "t.db", read_only=True) as store:
        assert counts(store, task) == (1500, 14)  # the target's chunk 0 kept, a's chunk 1 added


def test_a_merge_into_a_new_store_that_a_source_refuses_leaves_no_store(tmp_path, task):
    filled_store(tmp_path / "a.db", task, [0]).close()
    filled_store(tmp_path / "c.db", task, [1]).close()
    poison(tmp_path / "c.db", "UPDATE tasks SET decoder = 'uf'", ())
    with pytest.raises(QecInputError, match="a task id names one task") as refused:
        merge_stores(tmp_path / "m.db", sources=[tmp_path / "a.db", tmp_path / "c.db"])
    assert "\n" not in str(refused.value)
    assert folder_listing(tmp_path) == ["a.db", "c.db"]


def test_a_merge_into_an_existing_store_that_a_source_refuses_changes_nothing(tmp_path, task):
    filled_store(tmp_path / "t.db", task, [0]).close()
    filled_store(tmp_path / "a.db", task, [1]).close()
    filled_store(tmp_path / "c.db", task, [2]).close()
    poison(tmp_path / "c.db", "UPDATE tasks SET decoder = 'uf'", ())
    with pytest.raises(QecInputError, match="a task id names one task"):
        merge_stores(tmp_path / "t.db", sources=[tmp_path / "a.db", tmp_path / "c.db"])
    with Store(tmp_path / "t.db", read_only=True) as store:
        assert counts(store, task) == (1000, 7)


@pytest.mark.parametrize(
    "target, sources, message",
    [
        ("m.db", [], "give at least one store"),
        ("m.db", "s.db", "a list of store paths"),
        ("m.db", ["s.db", "missing.db"], "no store at"),
        ("m.db", ["s.db", "not-a-store.db"], "not a qec store"),
        ("s.db", ["s.db"], "is the store being merged into"),
        ("missing/m.db", ["s.db"], "does not exist; create it first"),
        ("m.db-journal", ["s.db"], "SQLite names a database's own files like that"),
        ("s.db-journal", ["s.db"], "cannot write"),
        ("folder", ["s.db"], "folder"),
    ],
)
def test_merge_stores_refuses_bad_input_in_one_line_and_writes_nothing(tmp_path, task, target, sources, message):
    filled_store(tmp_path / "s.db", task, [0]).close()
    (tmp_path / "not-a-store.db").write_text("shots,errors\n")
    (tmp_path / "folder").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    given = str(tmp_path / sources) if isinstance(sources, str) else [tmp_path / name for name in sources]
    with pytest.raises(QecInputError, match=re.escape(message)) as refused:
        merge_stores(tmp_path / target, sources=given)
    assert "\n" not in str(refused.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert folder_listing(tmp_path / "folder") == []


def test_merge_stores_names_the_bad_rows_a_source_skipped(tmp_path, task):
    filled_store(tmp_path / "s.db", task, [0]).close()
    poison(
        tmp_path / "s.db",
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, '[]', 0, 'x')",
        (task.task_id, 7, 10, 11, 0, 0.1),
    )  # errors > shots
    (merged,) = merge_stores(tmp_path / "m.db", sources=[tmp_path / "s.db"])
    assert merged.added == Added(1) and len(merged.skipped_rows) == 1
    summary = merged.skipped_summary()
    assert summary is not None and summary.startswith(f"skipped 1 bad row(s) in {tmp_path / 's.db'}: chunk 7")
    with Store(tmp_path / "m.db", read_only=True) as store:
        assert counts(store, task) == (1000, 7) and [row.chunk_index for row in store.chunk_rows()] == [0]


def test_a_store_that_appears_at_a_new_target_meanwhile_is_merged_into_not_replaced(tmp_path, task, monkeypatch):
    filled_store(tmp_path / "s.db", task, [0, 1]).close()
    link = os.link

    def another_command_makes_the_target_first(source, destination):
        filled_store(destination, task, [1, 5]).close()
        link(source, destination)  # FileExistsError, as the real race gives

    monkeypatch.setattr(os, "link", another_command_makes_the_target_first)
    (merged,) = merge_stores(tmp_path / "m.db", sources=[tmp_path / "s.db"])
    assert merged.added == Added(1)  # what the target gained: chunk 0 (it had 1 and 5)
    with Store(tmp_path / "m.db", read_only=True) as store:
        assert [row.chunk_index for row in store.chunk_rows()] == [0, 1, 5]
    assert folder_listing(tmp_path) == ["m.db", "s.db"]


@pytest.mark.parametrize("appears_meanwhile", [False, True])
def test_a_merge_on_a_file_system_without_hard_links_renames_and_never_replaces(
    tmp_path, task, monkeypatch, appears_meanwhile
):
    filled_store(tmp_path / "s.db", task, [0, 1]).close()

    def no_hard_links(source, destination):
        if appears_meanwhile:
            filled_store(destination, task, [5]).close()
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    (merged,) = merge_stores(tmp_path / "m.db", sources=[tmp_path / "s.db"])
    assert merged.added == Added(2)
    with Store(tmp_path / "m.db", read_only=True) as store:
        assert [row.chunk_index for row in store.chunk_rows()] == ([0, 1, 5] if appears_meanwhile else [0, 1])
    assert folder_listing(tmp_path) == ["m.db", "s.db"]


def test_merge_stores_is_exported_from_qec():
    import qec

    assert qec.merge_stores is merge_stores and qec.MergedSource is MergedSource and qec.StoredChunk is StoredChunk

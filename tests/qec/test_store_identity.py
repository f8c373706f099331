"""Every sample counted once by content, whatever shape its file takes (README "What the store promises", rule 2);
only schemas the store wrote are opened; foreign metadata names checked like ours; sums below 2^63; imports stream
and are bounded; a killed merge leaves nothing behind."""

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc

import pytest
import sinter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qec import store as store_module
from qec.errors import QecInputError
from qec.parts import memory_task
from qec.store import Store, merge_stores
from qec.task import ChunkResult, Counts

TASK = memory_task("repetition", distance=3, noise="sd6", p=0.01)
HEADER = "shots,errors,discards,seconds,decoder,strong_id,json_metadata,custom_counts"
SINTER_FILE = f"""{HEADER}
1000,42,0,0.125,pymatching,9c31908e2b,"{{""d"":9,""p"":0.001}}","{{""obs_mistake_mask=E"":42}}"
2000,40,0,0.25,pymatching,9c31908e2b,"{{""d"":9,""p"":0.001}}",
500,250,3,0.5,pymatching,deadbeef08,"{{""d"":7,""p"":0.001}}",
"""
COLLECTED = ((0, 1000, 7, 0.3141592653589793), (1, 1500, 9, 0.2718281828459045), (2, 700, 1, 1 / 3))
DISTINCT_SHOTS = {TASK.task_id: 3200, "9c31908e2b": 3000, "deadbeef08": 500}


def base_store(path):
    """Collected chunks of TASK and an imported sinter file: the distinct samples of DISTINCT_SHOTS."""
    store = Store(path)
    store.add_tasks([TASK])
    for index, shots, errors, seconds in COLLECTED:
        store.append(ChunkResult(TASK.task_id, index, Counts(shots, errors, 0, seconds), (errors,)))
    store.import_sinter_csv(SINTER_FILE, source="sinter.csv")
    return store


def shots(store):
    return {task_id: totals.counts.shots for task_id, totals in store.totals().items()}


def table(text):
    rows = list(csv.reader(io.StringIO(text), skipinitialspace=True))
    return [name.strip() for name in rows[0]], [row for row in rows[1:] if row]


def untable(header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def drop_column(text, name):
    header, rows = table(text)
    if name not in header:
        return text
    k = header.index(name)
    return untable(header[:k] + header[k + 1 :], [row[:k] + row[k + 1 :] for row in row_list(rows)])


def row_list(rows):
    return [list(row) for row in rows]


def sinter_combined(text):
    """What `sinter combine` prints for `text` (checked against the real command below)."""
    header, rows = table(text)
    known = [name for name in header if name in HEADER.split(",")]
    stats = sinter.read_stats_from_csv_files(
        io.StringIO(untable(known, [[row[header.index(n)] for n in known] for row in rows]))
    )
    return sinter.CSV_HEADER + "\n" + "".join(stat.to_csv_line() + "\n" for stat in stats)


def test_rows_of_an_imported_file_in_any_order_or_subset_add_nothing(tmp_path):
    header, rows = table(SINTER_FILE)
    with Store(tmp_path / "s.db") as store:
        store.import_sinter_csv(SINTER_FILE, source="a.csv")
        before = shots(store)
        for reshaped in (rows[::-1], rows[1:], rows[:1], [rows[2], rows[0]]):
            assert store.import_sinter_csv(untable(header, reshaped), source="b.csv").chunks == 0
        assert shots(store) == before == {"9c31908e2b": 3000, "deadbeef08": 500}


def test_an_export_without_its_qec_sample_column_is_recognised_collected_chunks_too(tmp_path):
    with base_store(tmp_path / "s.db") as store:
        exported = store.to_sinter_csv()
        for reshaped in (
            drop_column(exported, "qec_sample"),
            drop_column(drop_column(exported, "qec_sample"), "custom_counts"),
        ):
            assert store.import_sinter_csv(reshaped, source="export.csv").chunks == 0
        assert shots(store) == DISTINCT_SHOTS
    with Store(tmp_path / "fresh.db") as fresh:  # and a store that imported it so merges with the original
        fresh.import_sinter_csv(drop_column(exported, "qec_sample"), source="export.csv")
        assert shots(fresh) == DISTINCT_SHOTS
        with Store(tmp_path / "s.db", read_only=True) as original:
            assert fresh.merge_from(original).chunks == 0
        with Store(tmp_path / "s.db") as original:
            assert original.merge_from(fresh).chunks == 0 and shots(original) == DISTINCT_SHOTS


def test_sinter_combine_of_an_export_is_refused_unless_accepted(tmp_path):
    with base_store(tmp_path / "s.db") as store:
        (tmp_path / "export.csv").write_text(store.to_sinter_csv())
    combined = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "sinter"), "combine", str(tmp_path / "export.csv")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(table(combined)[1]) == sorted(table(sinter_combined((tmp_path / "export.csv").read_text()))[1])
    assert len(table(combined)[1]) == 3  # one row per task, summed; no qec_sample column
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(QecInputError, match=r"1 row\(s\) of task .* \(and 1 of 1 other task\(s\)\)"):
            store.import_sinter_csv(combined, source="combined.csv")
        assert shots(store) == DISTINCT_SHOTS
        # deadbeef08's one row, combined, is that row again (sinter rounds 0.5 seconds to 0.500): recognised
        assert store.import_sinter_csv(combined, source="combined.csv", accept_new_rows=True).chunks == 2
        assert shots(store) == {TASK.task_id: 6400, "9c31908e2b": 6000, "deadbeef08": 500}  # the user said new


def test_merges_of_stores_that_imported_reshapes_never_double_count(tmp_path):
    with base_store(tmp_path / "s.db") as store:
        combined = sinter_combined(store.to_sinter_csv())
    with Store(tmp_path / "c.db") as other:
        assert other.import_sinter_csv(combined, source="combined.csv").chunks == 3  # a fresh store: new samples
        assert shots(other) == DISTINCT_SHOTS
    for target, source in (("s.db", "c.db"), ("c.db", "s.db")):
        with pytest.raises(QecInputError, match="accept_new_rows"):
            merge_stores(tmp_path / target, sources=[tmp_path / source])
        with Store(tmp_path / target, read_only=True) as merged:
            assert shots(merged) == DISTINCT_SHOTS
    with pytest.raises(QecInputError, match="accept_new_rows"):
        merge_stores(tmp_path / "new.db", sources=[tmp_path / "s.db", tmp_path / "c.db"])
    assert not (tmp_path / "new.db").exists()


def test_a_store_written_by_the_previous_scheme_keeps_its_chunks_and_recognises_its_file(tmp_path):
    with Store(tmp_path / "old.db") as store:
        store.import_sinter_csv(SINTER_FILE, source="a.csv")
    connection = sqlite3.connect(tmp_path / "old.db")  # the previous scheme hashed each row's place in its file
    connection.execute("UPDATE chunks SET chunk = -1000 - rowid")
    connection.commit()
    connection.close()
    with Store(tmp_path / "old.db") as store:
        assert shots(store) == {"9c31908e2b": 3000, "deadbeef08": 500}
        header, rows = table(SINTER_FILE)
        assert store.import_sinter_csv(untable(header, rows[::-1]), source="a.csv").chunks == 0
        assert shots(store) == {"9c31908e2b": 3000, "deadbeef08": 500}


RESHAPES = st.sampled_from(["export", "sinter"]).flatmap(
    lambda base: st.tuples(
        st.just(base),
        st.permutations(range(6 if base == "export" else 3)),
        st.integers(1, 6),
        st.booleans(),  # drop qec_sample
        st.booleans(),  # drop custom_counts
        st.booleans(),  # sinter combine
    )
)


def reshaped(shape, exported):
    base, order, keep, no_sample, no_custom, combine = shape
    header, rows = table(exported if base == "export" else SINTER_FILE)
    text = untable(header, [rows[k] for k in order[:keep]])
    if no_sample:
        text = drop_column(text, "qec_sample")
    if no_custom:
        text = drop_column(text, "custom_counts")
    return sinter_combined(text) if combine else text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start_full=st.booleans(),
    steps=st.lists(st.tuples(st.sampled_from(["import", "merge"]), RESHAPES), min_size=1, max_size=4),
)
def test_no_reshaping_of_files_or_stores_counts_a_sample_twice(start_full, steps):
    """Whatever order, subset, dropped columns, sinter combine, and merges of stores that imported those: the
    totals never exceed the distinct samples (a refused step writes nothing)."""
    folder = tempfile.mkdtemp()
    with base_store(os.path.join(folder, "base.db")) as base:
        exported = base.to_sinter_csv()
    target = os.path.join(folder, "target.db")
    if start_full:
        merge_stores(target, sources=[os.path.join(folder, "base.db")])
    for number, (kind, shape) in enumerate(steps):
        try:
            if kind == "import":
                with Store(target) as store:
                    store.import_sinter_csv(reshaped(shape, exported), source="r.csv")
            else:
                other = os.path.join(folder, f"other{number}.db")
                with Store(other) as store:
                    store.import_sinter_csv(reshaped(shape, exported), source="r.csv")
                merge_stores(target, sources=[other])
        except QecInputError as error:
            assert "\n" not in str(error)
        with Store(target, read_only=True) as store:
            for task_id, total in shots(store).items():
                assert total <= DISTINCT_SHOTS[task_id], (steps, task_id, total)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TRIGGER t AFTER INSERT ON chunks BEGIN DELETE FROM chunks; END",
        "CREATE VIEW v AS SELECT * FROM chunks",
        "CREATE INDEX i ON chunks (shots)",
        "ALTER TABLE chunks ADD COLUMN extra TEXT",
        "CREATE TABLE other (x)",
        "DROP TABLE meta; CREATE TABLE meta (key TEXT, value TEXT, more TEXT); "
        "INSERT INTO meta VALUES ('format', 'qec-store', ''), ('version', '1', '')",
    ],
)
def test_a_store_whose_schema_qec_did_not_write_is_refused_untouched(tmp_path, statement):
    with base_store(tmp_path / "s.db"):
        pass
    connection = sqlite3.connect(tmp_path / "s.db")
    connection.executescript(statement)
    connection.commit()
    connection.close()
    before = (tmp_path / "s.db").read_bytes()
    for opening in (
        lambda: Store(tmp_path / "s.db"),
        lambda: Store(tmp_path / "s.db", read_only=True),
        lambda: merge_stores(tmp_path / "m.db", sources=[tmp_path / "s.db"]),
    ):
        with pytest.raises(QecInputError, match="a schema this qec did not write") as refused:
            opening()
        assert "\n" not in str(refused.value)
    assert (tmp_path / "s.db").read_bytes() == before and not (tmp_path / "m.db").exists()


@pytest.mark.parametrize(
    "metadata,message",
    [
        ('{""code_distance"":1000000000000000000000000000000}', "'code_distance' must be an integer >= 1"),
        ('{""code_distance"":1e308}', "'code_distance' must be an integer >= 1"),
        ('{""d"":-5}', "'d' must be an integer >= 1"),
        ('{""num_rounds"":0}', "'num_rounds' must be an integer >= 1"),
        ('{""error_rate"":2}', "'error_rate' must be a probability in [0, 1]"),
        ('{""physical_error_rate"":-0.1}', "'physical_error_rate' must be a probability"),
        ('{""noise_strength"":""high""}', "'noise_strength' must be a probability"),
        ('{""b"":3}', "'b' must be text"),
        ('{""circuit"":[1]}', "'circuit' must be text"),
        ('{""noise_model"":{}}', "'noise_model' must be text"),
    ],
)
def test_foreign_metadata_names_are_checked_like_ours_at_import(tmp_path, metadata, message):
    text = f'{HEADER}\n10,1,0,0.1,pymatching,abc,"{metadata}",\n'
    with pytest.raises(QecInputError, match="line 2: metadata " + message.replace("[", r"\[").replace("]", r"\]")):
        Store(tmp_path / "s.db").import_sinter_csv(text, source="bad.csv")
    assert shots(Store(tmp_path / "s.db")) == {}


def test_sums_of_shots_past_2_63_are_refused(tmp_path):
    big = 2**62
    text = f'{HEADER}\n{big},0,0,0.1,pymatching,abc,"{{}}",\n{big},1,0,0.1,pymatching,abc,"{{}}",\n'
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(QecInputError, match="more than 2\\^63 - 1: nothing was written"):
            store.import_sinter_csv(text, source="big.csv", accept_new_rows=True)
        assert shots(store) == {}
        store.import_sinter_csv(text.rsplit("\n", 2)[0] + "\n", source="half.csv")
        other = f'{HEADER}\n{big},1,0,0.1,pymatching,abc,"{{}}",\n'
        with pytest.raises(QecInputError, match="more than 2\\^63"):
            store.import_sinter_csv(other, source="more.csv", accept_new_rows=True)
        assert shots(store) == {"abc": big}


def sinter_rows(count, tasks=20):
    lines = [HEADER]
    lines += [
        f'{1000 + i},{i % 100},0,{i / 7:.6f},pymatching,task{i % tasks},"{{""d"":{3 + i % tasks}}}",'
        for i in range(count)
    ]
    return "\n".join(lines) + "\n"


def test_imports_stream_with_memory_flat_in_the_row_count(tmp_path):
    peaks = []
    for count in (5_000, 40_000):
        (tmp_path / "rows.csv").write_text(sinter_rows(count))
        tracemalloc.start()
        with (
            open(tmp_path / "rows.csv", newline="") as file,
            store_module.parse_sinter_csv(file, source="rows") as rows,
        ):
            with Store(tmp_path / f"s{count}.db") as store:
                assert store.import_rows(rows).chunks == count
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0] + 1_000_000, peaks  # 8x the rows, about the same memory


def test_a_file_with_more_rows_than_the_limit_is_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_CSV_ROWS", 100)
    with pytest.raises(QecInputError, match="more than 100 rows .*the limit is 100"):
        Store(tmp_path / "s.db").import_sinter_csv(sinter_rows(101), source="many.csv")
    assert shots(Store(tmp_path / "s.db")) == {}


KILLED_MERGE = """
import sys, time
from qec import store
def slow(self, others, **options):
    print("merging", flush=True)
    time.sleep(60)
store.Store.merge_from_all = slow
store.merge_stores(sys.argv[1], sources=[sys.argv[2]])
"""


def test_a_merge_killed_with_sigkill_leaves_no_temporary_file_after_the_next_run(tmp_path):
    with base_store(tmp_path / "s.db"):
        pass
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MERGE, str(tmp_path / "m.db"), str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,  # not the checkout, whose qec/ folder would shadow the installed package
    )
    assert child.stdout.readline() == "merging\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = [path.name for path in tmp_path.iterdir() if path.name.endswith(".merging")]
    assert len(left) == 1 and left[0].startswith(f".m.db.{child.pid}.")
    live = tmp_path / f".x.db.{os.getpid()}.0123abcd.merging"  # a merge still running: kept
    live.write_bytes(b"")
    merge_stores(tmp_path / "m.db", sources=[tmp_path / "s.db"])
    assert sorted(path.name for path in tmp_path.iterdir() if "merging" in path.name) == [live.name]
    with Store(tmp_path / "m.db", read_only=True) as merged:
        assert shots(merged) == DISTINCT_SHOTS
    time.sleep(0)

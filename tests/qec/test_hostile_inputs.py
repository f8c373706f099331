"""Issue 20, bounded before read and one line for every failure: `.npz` check matrices checked from their headers
before any array is loaded (declared shapes, object dtypes, zip bombs), chunks sampled in batches of bounded
memory, circuits with non-deterministic detectors or observables refused before any task row is written (from
`collect --circuits`, `decode --circuit` and the Python API), cluster and scheduler addresses checked before
anything starts, and the Python API's wrong types raising QecInputError naming the parameter (by hypothesis).

Python API functions the hypothesis test covers: `study_tasks`, `memory_task`, `noisy_memory_circuit`, `css`,
`run_study`, `collect_into`, `collect`, `StopRule`, `Task`.
"""

from __future__ import annotations

import io
import math
import sqlite3
import struct
import zipfile
from pathlib import Path

import numpy as np
import psutil
import pytest
import stim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qec
from qec.cli.main import main
from qec.cluster import check_scheduler_address, parse_local_cluster
from qec.codes.bb import bb_code
from qec.codes.matrices import (
    MAX_NPZ_ELEMENTS,
    check_npz_members,
    load_css_code,
    read_npz,
    save_check_matrices,
)
from qec.errors import QecInputError
from qec.sampling import MAX_BATCH_BYTES, ChunkRequest, batch_shots, run_chunk

STEANE = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], dtype=np.uint8)


# ---------------------------------------------------------------------------------------------------------
# .npz bounded before read


def npy_header(shape: tuple[int, ...], dtype: str = "|u1", version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy header declaring `shape` and `dtype`, written by hand (numpy would refuse to make the array)."""
    text = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode("latin1")
    prefix = 10 if version == (1, 0) else 12
    padded = text + b" " * ((-(prefix + len(text) + 1)) % 64) + b"\n"
    size = struct.pack("<H", len(padded)) if version == (1, 0) else struct.pack("<I", len(padded))
    return b"\x93NUMPY" + bytes(version) + size + padded


def write_members(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_real_npz_files_still_load(tmp_path):
    code = bb_code("gross")
    for sparse in (False, True):
        path = tmp_path / f"gross{int(sparse)}.npz"
        save_check_matrices(path, code.hx, code.hz, sparse=sparse)
        loaded = load_css_code(path)
        assert (loaded.n, loaded.k) == (144, 12)
    np.savez(tmp_path / "plain.npz", hx=STEANE, hz=STEANE)  # stored, not compressed
    assert load_css_code(tmp_path / "plain.npz").k == 1


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
@pytest.mark.parametrize("shape", [(10**9,), (10**9, 10**9), (5001, 5001), (2**62, 2)])
def test_a_header_claiming_a_huge_shape_is_refused_unread(tmp_path, shape, version):
    path = write_members(
        tmp_path / "huge.npz", {"hx.npy": npy_header(shape, version=version) + b"\0" * 64, "hz.npy": npy_bytes(STEANE)}
    )
    with pytest.raises(
        QecInputError, match=r"^code file '.*huge.npz': member 'hx.npy' declares shape .* the limit is 25,000,000"
    ) as error:
        read_npz(path)
    assert "\n" not in str(error.value) and "not a readable" not in str(error.value)


def test_an_object_dtype_is_refused_without_unpickling(tmp_path):
    path = write_members(tmp_path / "obj.npz", {"hx.npy": npy_header((1,), dtype="|O") + b"x", "hz.npy": b""})
    with pytest.raises(QecInputError, match=r"dtype object; .*never objects"):
        read_npz(path)


@pytest.mark.parametrize("dtype", ["<U3", "<c16", "|V8"])
def test_other_dtypes_are_refused(tmp_path, dtype):
    path = write_members(tmp_path / "odd.npz", {"hx.npy": npy_header((1,), dtype=dtype) + b"\0" * 16})
    with pytest.raises(QecInputError, match="check matrices hold integers"):
        read_npz(path)


def test_a_natural_compressed_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """np.savez_compressed of 10^8 zeros: 100 MB that deflate packs into about 100 kB (over the element limit)."""
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, hx=np.zeros(10**8, dtype=np.uint8), hz=STEANE)
    assert path.stat().st_size < 1_000_000
    peak = psutil.Process().memory_info().rss
    with pytest.raises(
        QecInputError, match=r"^code file '.*bomb.npz': member 'hx.npy' (declares shape \(100000000,\)|unpacks to)"
    ):
        read_npz(path)
    assert psutil.Process().memory_info().rss - peak < 50_000_000  # refused from the header: nothing was unpacked


def test_a_member_that_claims_more_than_deflate_gives_is_refused(tmp_path):
    """A zip entry whose declared sizes claim a ratio no deflate stream reaches (the zip's sizes patched)."""
    path = write_members(
        tmp_path / "ratio.npz",
        {"hx.npy": npy_bytes(np.zeros((4000, 2000), np.uint8))},
        compression=zipfile.ZIP_DEFLATED,
    )
    data = bytearray(path.read_bytes())
    info = zipfile.ZipFile(path).infolist()[0]
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 20, 100)  # compressed size in the central directory: 100 bytes
    path.write_bytes(bytes(data))
    assert info.file_size > 8_000_000
    with pytest.raises(QecInputError, match="compression ratio of .* zip bomb or corrupt"):
        read_npz(path)


def test_other_zip_compressions_and_too_many_members_are_refused(tmp_path):
    path = write_members(tmp_path / "lzma.npz", {"hx.npy": npy_bytes(STEANE)}, compression=zipfile.ZIP_LZMA)
    with pytest.raises(QecInputError, match="stored or deflated members only"):
        read_npz(path)
    many = write_members(tmp_path / "many.npz", {f"a{i}.npy": npy_bytes(STEANE) for i in range(20)})
    with pytest.raises(QecInputError, match="holds 20 members"):
        read_npz(many)


def test_members_that_are_not_npy_or_corrupt_are_one_line(tmp_path):
    path = write_members(tmp_path / "text.npz", {"hx.npy": b"hello, world"})
    with pytest.raises(QecInputError, match="is not a .npy array"):
        read_npz(path)
    (tmp_path / "cut.npz").write_bytes((tmp_path / "text.npz").read_bytes()[:30])
    with pytest.raises(QecInputError, match="is not a readable .npz"):
        read_npz(tmp_path / "cut.npz")


def test_csr_parts_are_bounded_too(tmp_path):
    members = {
        "hx_data.npy": npy_header((10**10,)),
        "hx_indices.npy": npy_bytes(np.zeros(1, np.int32)),
        "hx_indptr.npy": npy_bytes(np.zeros(2, np.int32)),
        "hx_shape.npy": npy_bytes(np.array([1, 7])),
    }
    with pytest.raises(QecInputError, match="member 'hx_data.npy' declares shape"):
        read_npz(write_members(tmp_path / "csr.npz", members))
    for shape in (np.array([np.nan, 7.0]), np.array([1, 7, 3]), np.array([1.5, 7.0])):
        members = {
            "hx_data.npy": npy_bytes(np.ones(1, np.uint8)),
            "hx_indices.npy": npy_bytes(np.zeros(1, np.int32)),
            "hx_indptr.npy": npy_bytes(np.array([0, 1], np.int32)),
            "hx_shape.npy": npy_bytes(shape),
            "hz.npy": npy_bytes(STEANE),
        }
        with pytest.raises(QecInputError, match="hx_shape must hold two integers"):
            read_npz(write_members(tmp_path / "shape.npz", members))


NPZ_DIMENSIONS = st.one_of(st.integers(0, 12), st.integers(0, 10**13))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(NPZ_DIMENSIONS, min_size=0, max_size=3).map(tuple),
    dtype=st.sampled_from(["|u1", "<i8", "<f8", "|b1", "|O", "<U3", ">i4", "<c16"]),
    version=st.sampled_from([(1, 0), (2, 0)]),
    data=st.sampled_from(["whole", "short", "none"]),
    compressed=st.booleans(),
)
def test_any_npy_header_is_read_in_bounds_or_refused_in_one_line(tmp_path, shape, dtype, version, data, compressed):
    """Hypothesis over the `.npy` headers of an npz member (shape, dtype, format version, data cut short or missing,
    stored or deflated): `read_npz` loads it only when it is complete and within the limits, and otherwise raises
    QecInputError in one line, quickly, without allocating what the header claims."""
    import time
    import tracemalloc

    elements = math.prod(shape)
    size = elements * np.dtype(dtype.replace("|O", "|u1")).itemsize
    body = b"\1" * min(size, 4096) if data == "whole" else b"\1" * min(size // 2, 64) if data == "short" else b""
    complete = len(body) >= size
    path = write_members(
        tmp_path / "member.npz",
        {"hx.npy": npy_header(shape, dtype=dtype, version=version) + body, "hz.npy": npy_bytes(STEANE)},
        compression=zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED,
    )
    tracemalloc.start()
    start = time.perf_counter()
    try:
        hx, _ = read_npz(path)
    except QecInputError as error:
        assert "\n" not in str(error)
        loaded = False
    else:
        loaded = True
        assert hx.shape == shape
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 2
    assert peak < 20_000_000
    if loaded:
        assert complete and elements <= MAX_NPZ_ELEMENTS and dtype in ("|u1", "<i8", "<f8", "|b1", ">i4")


def test_the_limit_is_a_matrix_at_the_code_limits(tmp_path):
    np.savez(tmp_path / "edge.npz", hx=np.zeros((1, MAX_NPZ_ELEMENTS), np.uint8))
    check_npz_members(tmp_path / "edge.npz")  # at the limit: allowed by the header check (css refuses the shape)


@pytest.mark.parametrize("command", ["codes", "circuit", "collect"])
def test_a_huge_npz_is_one_line_from_the_cli(tmp_path, capsys, command):
    path = write_members(tmp_path / "huge.npz", {"hx.npy": npy_header((10**9, 10**9)), "hz.npy": npy_bytes(STEANE)})
    argv = {
        "codes": ["codes", "--code", str(path)],
        "circuit": ["circuit", "css", "--code", str(path), "--distance", "3"],
        "collect": ["collect", "css", "--code", str(path), "--store", str(tmp_path / "r.db"), "--max-shots", "10"],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "declares shape (1000000000, 1000000000)" in err
    assert not (tmp_path / "r.db").exists()


# ---------------------------------------------------------------------------------------------------------
# detectors x chunk shots


def test_batches_hold_at_most_max_batch_bytes_of_detection_events():
    for detectors in (1, 24, 10_000, 300_000, 1_000_000):
        shots = batch_shots(detectors)
        assert 1 <= shots <= 65_536 and shots * math.ceil(detectors / 8) <= max(
            MAX_BATCH_BYTES, math.ceil(detectors / 8)
        )
    assert batch_shots(1_000_000) * 125_000 <= MAX_BATCH_BYTES < (batch_shots(1_000_000) + 1) * 125_000


def test_a_chunk_is_sampled_in_bounded_batches(monkeypatch):
    """A chunk of 20,000 shots of a circuit with 4,002 detectors (10 MB of bit-packed events at once) under a batch
    limit of 64 kB: NumPy's allocations (which tracemalloc sees, Stim's output arrays included) peak far below the
    whole chunk's, and every shot is counted."""
    import tracemalloc

    import qec.sampling

    monkeypatch.setattr(qec.sampling, "MAX_BATCH_BYTES", 65_536)
    task = qec.memory_task("repetition", distance=3, rounds=2_000, noise="code-capacity", p=0.1, decoder="uf")
    assert task.circuit.num_detectors == 4_002 and batch_shots(4_002) == 65_536 // 501
    request = ChunkRequest(task.task_id, task.circuit_text, task.decoder_spec.build(), (), 0, 20_000, 3)
    run_chunk(ChunkRequest(task.task_id, task.circuit_text, request.decoder, (), 0, 10, 3))  # compiled, cached
    tracemalloc.start()
    try:
        result = run_chunk(request)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.counts.shots == 20_000 and result.counts.errors > 0
    assert peak < 20_000 * 501 / 4, peak  # the chunk unbatched would hold 10 MB of events alone


# ---------------------------------------------------------------------------------------------------------
# non-deterministic detectors and observables

NON_DETERMINISTIC = {
    "detector.stim": "R 0\nH 0\nM 0\nDETECTOR rec[-1]\nX_ERROR(0.1) 1\nM 1\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
    "observable.stim": "R 0 1\nH 0\nX_ERROR(0.1) 1\nM 0 1\nDETECTOR rec[-1]\nOBSERVABLE_INCLUDE(0) rec[-2]\n",
}


def store_rows(path: Path) -> tuple:
    if not path.exists():
        return ()
    with sqlite3.connect(path) as connection:
        return tuple(connection.execute("select count(*) from tasks").fetchall()) + tuple(
            connection.execute("select count(*) from chunks").fetchall()
        )


@pytest.mark.parametrize("decoder", ["pymatching", "uf", "lookup"])
@pytest.mark.parametrize("name", sorted(NON_DETERMINISTIC))
def test_collect_circuits_refuses_a_non_deterministic_circuit_before_any_row(tmp_path, capsys, name, decoder):
    folder = tmp_path / "circuits"
    folder.mkdir()
    (folder / name).write_text(NON_DETERMINISTIC[name])
    store = tmp_path / "r.db"
    qec.collect(
        [qec.memory_task("repetition", distance=3, p=0.01, noise="code-capacity", pauli="independent")],
        store=qec.Store(store),
        stop=qec.StopRule(max_shots=100),
        workers=1,
    )
    before = store_rows(store)
    argv = ["collect", "--circuits", str(folder), "--store", str(store), "--max-shots", "100", "--decoder", decoder]
    assert main(argv) == 2
    err = capsys.readouterr().err
    kind, index = ("observable", "L0") if name.startswith("observable") else ("detector", "D0")
    assert err.count("\n") == 1 and f"has a non-deterministic {kind} {index}" in err and name in err, err
    assert store_rows(store) == before


def test_decode_refuses_a_non_deterministic_circuit(tmp_path, capsys):
    folder = tmp_path / "recorded"
    folder.mkdir()
    circuit = stim.Circuit(NON_DETERMINISTIC["detector.stim"])
    (folder / "circuit_noisy.stim").write_text(str(circuit))
    circuit.compile_detector_sampler(seed=1).sample_write(
        50,
        filepath=str(folder / "detection_events.b8"),
        format="b8",
        obs_out_filepath=str(folder / "obs_flips_actual.01"),
        obs_out_format="01",
    )
    assert main(["decode", str(folder), "--store", str(tmp_path / "d.db")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "non-deterministic detector D0" in err[0], err
    assert store_rows(tmp_path / "d.db") in ((), ((0,), (0,)))


def test_decode_with_a_dem_refuses_a_non_deterministic_circuit_beside_it(tmp_path, capsys):
    """The circuit is stored as the task's circuit even when a DEM is decoded with: it must have a DEM too."""
    good = stim.Circuit("R 0 1\nX_ERROR(0.1) 0 1\nM 0\nDETECTOR rec[-1]\nM 1\nOBSERVABLE_INCLUDE(0) rec[-1]\n")
    good.detector_error_model().to_file(str(tmp_path / "model.dem"))
    good.compile_detector_sampler(seed=1).sample_write(
        50,
        filepath=str(tmp_path / "events.b8"),
        format="b8",
        obs_out_filepath=str(tmp_path / "flips.01"),
        obs_out_format="01",
    )
    (tmp_path / "circuit.stim").write_text(NON_DETERMINISTIC["detector.stim"])
    files = ["--dem", "model.dem", "--circuit", "circuit.stim", "--dets", "events.b8", "--obs", "flips.01"]
    argv = ["decode", *(str(tmp_path / f) if not f.startswith("--") else f for f in files)]
    assert main([*argv, "--store", str(tmp_path / "d.db")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "circuit.stim has a non-deterministic detector D0" in err[0], err
    assert store_rows(tmp_path / "d.db") in ((), ((0,), (0,)))


def test_every_family_under_every_noise_model_is_deterministic():
    """No false refusal: the check strips noise (heralds become MPAD), so heralded and leakage models pass."""
    from qec.codes import FAMILIES
    from qec.determinism import check_deterministic
    from qec.noise import NOISE_FAMILIES

    checked = 0
    for noise in NOISE_FAMILIES:
        for family in FAMILIES:
            try:
                task = qec.memory_task(family, distance=3, p=0.01, noise=noise)
            except QecInputError:  # a pairing the family or model refuses (e.g. no distance 3)
                continue
            check_deterministic(task.circuit)
            checked += 1
    assert checked >= 40


def test_python_collect_refuses_a_non_deterministic_task_before_writing(tmp_path):
    task = qec.Task(circuit=stim.Circuit(NON_DETERMINISTIC["observable.stim"]), decoder="uf")
    with qec.Store(tmp_path / "r.db") as store:
        with pytest.raises(QecInputError, match="non-deterministic observable L0"):
            qec.collect([task], store=store, stop=qec.StopRule(max_shots=10), workers=1)
        assert store.totals() == {}


def test_a_css_code_whose_checks_anticommute_is_one_line_from_the_cli(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", hx=np.array([[1, 1, 0]]), hz=np.array([[0, 1, 1]]))
    store = tmp_path / "r.db"
    assert main(["collect", "css", "--code", str(tmp_path / "bad.npz"), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hx and hz do not commute" in err
    assert not store.exists()


# ---------------------------------------------------------------------------------------------------------
# cluster and scheduler addresses


@pytest.mark.parametrize(
    "spec", ["local:²", "local:٣", "local:0", "local:-1", "local: 4", "local:4 ", "ssh:3", "", "local:"]
)
def test_cluster_specs_take_ascii_digits_only(spec):
    with pytest.raises(QecInputError, match="use local:N"):
        parse_local_cluster(spec)


@pytest.mark.parametrize(
    "address",
    [
        "foo://127.0.0.1:1",
        "inproc://x",
        "tcp://127.0.0.1:٣",
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1:70000",
        "tcp://[::1",
    ],
)
def test_scheduler_addresses_are_checked_before_connecting(address):
    with pytest.raises(QecInputError, match="is not tcp://HOST:PORT or tls://HOST:PORT"):
        check_scheduler_address(address)


def test_tls_without_settings_is_refused(monkeypatch):
    monkeypatch.delenv("DASK_DISTRIBUTED__COMM__TLS__CA_FILE", raising=False)
    with pytest.raises(QecInputError, match="asks for TLS but Dask's config has no TLS settings"):
        check_scheduler_address("tls://127.0.0.1:8786")
    check_scheduler_address("tcp://[::1]:8786")
    check_scheduler_address("10.0.0.5:8786")  # HOST:PORT is tcp, as Dask reads it


@pytest.mark.parametrize(
    "flags",
    [
        ["--cluster", "local:²"],
        ["--cluster", "local:0"],
        ["--cluster", "local:-1"],
        ["--cluster", "local: 4"],
        ["--cluster", "tcp:4"],
        ["--scheduler", "tls://127.0.0.1:1"],
        ["--scheduler", "foo://127.0.0.1:1"],
    ],
)
def test_bad_addresses_are_one_line_and_start_nothing(tmp_path, capsys, flags):
    children = psutil.Process().children(recursive=True)
    store = tmp_path / "r.db"
    argv = ["collect", "repetition", "--distance", "3", "--p", "0.01", "--max-shots", "100", "--store", str(store)]
    assert main(argv + flags) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert not store.exists()
    assert psutil.Process().children(recursive=True) == children


# ---------------------------------------------------------------------------------------------------------
# The Python API under wrong types: QecInputError naming the parameter, nothing else

NAN = float("nan")
WRONG = st.sampled_from(
    [None, "3", 3.0, 3.5, True, NAN, float("inf"), [3], [[3]], {"a": 1}, b"3", 3j, object(), -1, 0, 10**30, (None,)]
)
NUMPY_GOOD_INTS = st.sampled_from([np.int64(3), np.int32(3), np.uint8(3)])


def small_task():
    return qec.memory_task("repetition", distance=3, p=0.05, noise="code-capacity", pauli="independent", rounds=1)


def _study_tasks(wrong, key):
    kwargs = {"distances": [3], "ps": [0.01], "noise": "sd6"} | {key: wrong}
    return lambda tmp: qec.study_tasks("repetition", **kwargs)


def _memory_task(wrong, key):
    kwargs = {"distance": 3, "p": 0.01, "noise": "sd6"} | {key: wrong}
    return lambda tmp: qec.memory_task("repetition", **kwargs)


def _noisy_memory_circuit(wrong, key):
    kwargs = {"distance": 3, "p": 0.01, "noise": "sd6"} | {key: wrong}
    return lambda tmp: qec.noisy_memory_circuit("repetition", **kwargs)


def _css(wrong, key):
    kwargs = {"hx": STEANE, "hz": STEANE} | {key: wrong}
    return lambda tmp: qec.css(**kwargs)


def _run_study(wrong, key):
    def run(tmp):
        kwargs = {"store": str(tmp / "s.db"), "stop": qec.StopRule(max_shots=200), "workers": 1} | {key: wrong}
        tasks = kwargs.pop("tasks", [small_task()])
        return qec.run_study(tasks, **kwargs)

    return run


def _collect(wrong, key):
    def run(tmp):
        with qec.Store(tmp / "c.db") as store:
            kwargs = {"store": store, "stop": qec.StopRule(max_shots=200), "workers": 1} | {key: wrong}
            tasks = kwargs.pop("tasks", [small_task()])
            return qec.collect(tasks, **kwargs)

    return run


def _collect_into(wrong, key):
    def run(tmp):
        kwargs = {"store": str(tmp / "i.db"), "stop": qec.StopRule(max_shots=200), "workers": 1} | {key: wrong}
        tasks = kwargs.pop("tasks", [small_task()])
        return qec.study.collect_into(tasks, **kwargs)

    return run


def _stop_rule(wrong, key):
    return lambda tmp: qec.StopRule(**({"max_shots": 100} | {key: wrong}))


def _task(wrong, key):
    def run(tmp):
        kwargs = {"circuit": small_task().circuit, "decoder": "uf", "metadata": {}, "postselected_detectors": ()}
        return qec.Task(**(kwargs | {key: wrong}))

    return run


API = {
    "study_tasks": (
        _study_tasks,
        ["distances", "ps", "rounds", "noise", "decoder", "decoder_options", "basis", "bias"],
    ),
    "memory_task": (_memory_task, ["distance", "p", "rounds", "noise", "basis", "decoder", "decoder_options", "pauli"]),
    "noisy_memory_circuit": (_noisy_memory_circuit, ["distance", "p", "rounds", "basis"]),
    "css": (_css, ["hx", "hz", "name", "schedule", "coordinates"]),
    "run_study": (
        _run_study,
        ["tasks", "store", "stop", "correction", "workers", "chunk_shots", "cluster", "on_progress"],
    ),
    "collect": (_collect, ["tasks", "store", "stop", "workers", "chunk_shots", "chunk_seconds", "custom_decoders"]),
    "collect_into": (_collect_into, ["tasks", "store", "stop", "workers", "show_progress", "scheduler", "on_progress"]),
    "StopRule": (_stop_rule, ["max_shots", "max_errors", "precision"]),
    "Task": (_task, ["circuit", "decoder", "metadata", "postselected_detectors"]),
}
CALLS = st.sampled_from(sorted(API)).flatmap(lambda name: st.tuples(st.just(name), st.sampled_from(API[name][1])))


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=CALLS, wrong=WRONG)
def test_wrong_types_raise_qec_input_error_only(tmp_path, monkeypatch, call, wrong):
    """Every covered function, one argument replaced by a wrong value: it may succeed (a value that happens to be
    allowed, e.g. rounds=3.0 is not, but correction=True is, and store="3" is a path), and otherwise raises
    QecInputError, one line. It runs in `tmp_path`, where a relative store path lands."""
    monkeypatch.chdir(tmp_path)
    name, key = call
    try:
        API[name][0](wrong, key)(tmp_path)
    except QecInputError as error:
        assert "\n" not in str(error)


@pytest.mark.parametrize("value", [np.int64(3), np.int32(3), np.uint16(3)])
def test_numpy_integers_are_taken_where_an_int_is_meant(tmp_path, value):
    tasks = qec.study_tasks("repetition", distances=[value], ps=[np.float64(0.01)], rounds=value, noise="sd6")
    assert tasks[0].metadata["distance"] == 3 and tasks[0].metadata["rounds"] == 3
    assert (
        qec.memory_task("repetition", distance=value, p=np.float32(0.25), noise="sd6").task_id
        == qec.memory_task("repetition", distance=3, p=float(np.float32(0.25)), noise="sd6").task_id
    )
    stop = qec.StopRule(max_shots=np.int64(100), max_errors=np.int64(5))
    assert type(stop.max_shots) is int
    task = qec.Task(circuit=small_task().circuit, decoder="uf", postselected_detectors=[np.int64(0)])
    assert task.postselected_detectors == (0,)
    with qec.Store(tmp_path / "n.db") as store:
        totals = qec.collect([small_task()], store=store, stop=stop, workers=value // 3, chunk_shots=np.int64(50))
    assert totals[small_task().task_id].counts.shots == 100


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: qec.study_tasks("repetition", distances=None, ps=[0.01]), "distances"),
        (lambda: qec.study_tasks("repetition", distances=[3], ps=[NAN]), "ps[0]"),
        (lambda: qec.study_tasks("repetition", distances=[3], ps=[0.01], foo=1), "'foo'"),
        (lambda: qec.study_tasks("repetition", distances=[3], ps=[0.01], decoder_options=[1]), "decoder_options"),
        (lambda: qec.run_study(None, store="x.db"), "tasks"),
        (lambda: qec.run_study([3], store="x.db"), "tasks[0]"),
        (lambda: qec.run_study([small_task()], store=3), "store"),
        (lambda: qec.run_study([small_task()], store="x.db", stop={"max_shots": 1}), "stop"),
        (lambda: qec.run_study([small_task()], store="x.db", colour=1), "'colour'"),
        (lambda: qec.collect([small_task()], store="x.db"), "store"),
        (lambda: qec.css(STEANE, STEANE, schedule="x"), "schedule"),
        (lambda: qec.css(STEANE, STEANE, coordinates="x"), "coordinates"),
        (lambda: qec.Task(circuit=small_task().circuit, decoder="uf", postselected_detectors=3), "postselected"),
    ],
)
def test_refusals_name_the_parameter(tmp_path, monkeypatch, call, named):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QecInputError, match=named.replace("[", r"\[").replace("]", r"\]")):
        call()
    assert not (tmp_path / "x.db").exists()

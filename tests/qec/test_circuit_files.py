"""Tasks from a folder of .stim files: every bad file is one QecInputError naming it, refused before sampling,
fast, without flattening a REPEAT block or opening a FIFO."""

import os
import shutil
import subprocess
import sys
import time

import pytest
import stim

from qec.circuit_files import MAX_CIRCUIT_FILE_BYTES, metadata_from_name, read_circuit, tasks_from_folder
from qec.codes import MAX_DETECTORS, MAX_MEASUREMENTS, MAX_OBSERVABLES, MAX_OPERATIONS
from qec.errors import QecInputError
from qec.study import MAX_TASKS

GOOD = str(
    stim.Circuit.generated("repetition_code:memory", distance=3, rounds=3, before_round_data_depolarization=0.05)
)


def refused(folder, *, within: float = 2.0) -> str:
    """The one-line message tasks_from_folder refuses `folder` with, asserting it came within `within` s."""
    start = time.perf_counter()
    with pytest.raises(QecInputError) as error:
        tasks_from_folder(folder, decoder="pymatching")
    assert time.perf_counter() - start < within
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def folder_with(tmp_path, name: str, content: str | bytes):
    folder = tmp_path / "circuits"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def test_good_files_become_tasks_with_metadata_from_their_names(tmp_path):
    folder = folder_with(tmp_path, "d=3,p=0.05,family=repetition.stim", GOOD)
    (task,) = tasks_from_folder(folder, decoder="pymatching")
    assert task.metadata == {
        "d": 3,
        "p": 0.05,
        "family": "repetition",
        "distance": 3,
        "file": "d=3,p=0.05,family=repetition.stim",
    }
    assert metadata_from_name("r=4,x=a.stim") == {"r": 4, "x": "a", "rounds": 4}


@pytest.mark.parametrize(
    "text,limit",
    [
        (
            "REPEAT 1000000000000 {\n  M 0\n  DETECTOR rec[-1]\n}\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
            f"detectors (the limit is {MAX_DETECTORS:,})",
        ),
        (
            "REPEAT 1000000000000 {\n  REPEAT 1000000000000 {\n    M 0\n    DETECTOR rec[-1]\n  }\n}\n"
            "OBSERVABLE_INCLUDE(0) rec[-1]\n",
            f"detectors (the limit is {MAX_DETECTORS:,})",
        ),  # Stim saturates at 2^64-1
        (
            "M 0\nOBSERVABLE_INCLUDE(1000000000) rec[-1]\n",
            f"about 1e+09 observables (the limit is {MAX_OBSERVABLES:,})",
        ),
        (
            "REPEAT 100000000 {\n  M 0\n}\nM 0\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
            f"measurements (the limit is {MAX_MEASUREMENTS:,})",
        ),
        (
            "REPEAT 1000000000000 {\n  X 0\n}\nM 0\nOBSERVABLE_INCLUDE(0) rec[-1]\n",
            f"gate applications per shot (the limit is {MAX_OPERATIONS:,})",
        ),
    ],
)
def test_circuits_too_large_to_sample_are_refused_without_flattening(tmp_path, text, limit):
    message = refused(folder_with(tmp_path, "d=3.stim", text))
    assert message.startswith(str(tmp_path / "circuits" / "d=3.stim")) and limit in message


def test_just_below_the_limits_is_accepted(tmp_path):
    text = (
        f"REPEAT {MAX_DETECTORS - 1} {{\n  M 0\n  DETECTOR rec[-1]\n}}\n"
        f"OBSERVABLE_INCLUDE({MAX_OBSERVABLES - 1}) rec[-1]\n"
    )
    (task,) = tasks_from_folder(folder_with(tmp_path, "d=3.stim", text), decoder="pymatching")
    assert task.circuit.num_detectors == MAX_DETECTORS - 1 and task.circuit.num_observables == MAX_OBSERVABLES


def test_a_file_of_gigabytes_is_refused_before_it_is_read(tmp_path):
    folder = tmp_path / "circuits"
    folder.mkdir()
    with open(folder / "big.stim", "wb") as file:
        file.truncate(4 * 2**30)  # sparse: no disk used, and reading it would take seconds and 4 GiB
    message = refused(folder)
    assert "has 4.29e+09 bytes" in message and f"the limit is {MAX_CIRCUIT_FILE_BYTES:,}" in message


@pytest.mark.parametrize(
    "name,message",
    [
        ("d=abc,p=0.01.stim", "metadata 'distance' must be an integer >= 1, got 'abc'"),
        ("d=0.stim", "metadata 'distance' must be an integer >= 1, got 0"),
        ("d=3,p=2.stim", "metadata 'p' must be a probability in [0, 1], got 2"),
        ("d=3,p=nan.stim", "NaN"),
    ],
)
def test_bad_metadata_in_a_file_name_names_the_file_and_says_rename_it(tmp_path, name, message):
    text = refused(folder_with(tmp_path, name, GOOD))
    assert text.startswith(str(tmp_path / "circuits" / name) + ": ") and message in text
    assert text.endswith("rename the file")


def test_a_bad_decoder_is_not_blamed_on_the_file_name(tmp_path):
    folder = folder_with(tmp_path, "d=3.stim", GOOD)
    with pytest.raises(QecInputError, match="decoder must be a plain name") as error:
        tasks_from_folder(folder, decoder="no such decoder")
    assert "rename" not in str(error.value)


def test_not_utf8_not_stim_and_no_observable(tmp_path):
    assert "is not UTF-8 text (byte 9)" in refused(folder_with(tmp_path, "a.stim", b"M 0\n# caf\xe9\n"))
    os.remove(tmp_path / "circuits" / "a.stim")
    assert "is not a valid Stim circuit: Gate not found" in refused(folder_with(tmp_path, "b.stim", "NOT_A_GATE 0\n"))
    os.remove(tmp_path / "circuits" / "b.stim")
    assert "has no OBSERVABLE_INCLUDE" in refused(folder_with(tmp_path, "c.stim", "M 0\n"))


def test_a_directory_named_x_stim_is_refused(tmp_path):
    (tmp_path / "circuits" / "x.stim").mkdir(parents=True)
    assert "x.stim is a folder: give regular .stim files only" in refused(tmp_path / "circuits")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_named_x_stim_is_refused_without_opening_it(tmp_path):
    (tmp_path / "circuits").mkdir()
    os.mkfifo(tmp_path / "circuits" / "x.stim")  # opening it would block forever: nobody writes to it
    assert "x.stim is not a regular file" in refused(tmp_path / "circuits")


def test_a_broken_symlink_is_refused(tmp_path):
    (tmp_path / "circuits").mkdir()
    os.symlink(tmp_path / "nowhere.stim", tmp_path / "circuits" / "x.stim")
    assert "x.stim is a broken symbolic link" in refused(tmp_path / "circuits")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_an_unreadable_file_is_refused(tmp_path):
    folder = folder_with(tmp_path, "d=3.stim", GOOD)
    os.chmod(folder / "d=3.stim", 0)
    code = (
        "import sys; from qec.circuit_files import tasks_from_folder; from qec.errors import QecInputError\n"
        "try:\n    tasks_from_folder(sys.argv[1], decoder='pymatching')\n"
        "except QecInputError as error:\n    print(error)"
    )
    command = [sys.executable, "-c", code, str(folder)]
    if os.geteuid() == 0:  # root reads any file unless it gives up the capabilities that let it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot bind")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    try:
        # From outside the repository root, whose qec/ folder would shadow the installed package.
        out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path).stdout
    finally:
        os.chmod(folder / "d=3.stim", 0o644)
    assert out == f"cannot read {folder / 'd=3.stim'}: Permission denied: check its permissions\n"


def test_read_circuit_is_the_same_check_for_one_file(tmp_path):
    folder = folder_with(tmp_path, "d=3.stim", GOOD)
    assert read_circuit(folder / "d=3.stim").num_observables == 1
    with pytest.raises(QecInputError, match="is missing"):
        read_circuit(folder / "other.stim")


def test_more_files_than_tasks_allowed_is_refused_before_reading_any(tmp_path):
    folder = tmp_path / "circuits"
    folder.mkdir()
    for k in range(MAX_TASKS + 1):
        (folder / f"{k}.stim").touch()  # empty: reading any would fail on "no OBSERVABLE_INCLUDE" first
    assert f"more than {MAX_TASKS:,} .stim files" in refused(folder, within=10)

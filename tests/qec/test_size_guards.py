"""Work that cannot fit is refused before anything is allocated, with the estimate and the limit; what is just
below a limit still works. Also: `qec.decoders` and the other subpackages are attributes of `qec`, lazily."""

import doctest
import subprocess
import sys
import time

import pytest

import qec
from qec import codes
from qec.cli.main import main
from qec.errors import QecInputError
from qec.study import MAX_DISTANCES, MAX_P_VALUES, MAX_TASKS, parse_distances, parse_p_grid, parse_rounds


def refused(function, *args, match: str) -> str:
    """The message `function(*args)` refuses with, asserting it was fast (nothing allocated) and one line."""
    start = time.perf_counter()
    with pytest.raises(QecInputError, match=match) as error:
        function(*args)
    assert time.perf_counter() - start < 2
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.mark.parametrize(
    "text,match",
    [
        ("0.001:0.01:1000000000", r"a p grid of 1e\+09 values is too large; the limit is 100"),
        ("0.001:0.01:" + "9" * 40, r"a p grid of 1e\+40 values is too large"),
        (",".join(["0.001"] * 1_000_000), r"a p grid of 1e\+06 values is too large; the limit is 100"),
        ("nan:0.01:3", "malformed p grid 'nan:0.01:3': use LOW:HIGH:N .*finite"),
        ("0.001:inf:3", "malformed p grid"),
        ("0.001,nan", r"must list probabilities in \(0, 1\]"),
        ("inf", r"must list probabilities in \(0, 1\]"),
    ],
)
def test_p_grids_that_cannot_fit_or_are_not_finite_are_refused(text, match):
    refused(parse_p_grid, text, match=match)


def test_p_grid_and_distance_limits_bound_the_tasks():
    assert MAX_DISTANCES * MAX_P_VALUES == MAX_TASKS == 10_000
    assert len(parse_p_grid(f"0.001:0.01:{MAX_P_VALUES}")) == MAX_P_VALUES  # just below: fine
    assert len(parse_p_grid(",".join(["0.001"] * MAX_P_VALUES))) == MAX_P_VALUES
    assert len(parse_distances(",".join(str(d) for d in range(3, 3 + MAX_DISTANCES)))) == MAX_DISTANCES
    refused(parse_p_grid, f"0.001:0.01:{MAX_P_VALUES + 1}", match="the limit is 100")


@pytest.mark.parametrize(
    "text,match",
    [
        (",".join(["3"] * 1_000_000), r"a list of 1e\+06 distances is too long; the limit is 100"),
        ("3,5,100000000000000000000", r"distance 1e\+20 is too large; the limit is 1,000,000"),
    ],
)
def test_distance_lists_that_cannot_fit_are_refused(text, match):
    refused(parse_distances, text, match=match)


def test_rounds_are_bounded():
    assert parse_rounds(str(codes.MAX_ROUNDS)) == codes.MAX_ROUNDS
    refused(parse_rounds, str(codes.MAX_ROUNDS + 1), match=r"rounds must be 'd' or an integer in \[1, 1,000,000\]")
    refused(parse_rounds, "9" * 5000, match=r"got '9999.*\.\.\.'$")  # the echo is cut short


def test_circuit_size_counts_repeat_blocks_without_flattening():
    import stim

    circuit = stim.Circuit("REPEAT 1000000000000 {\n  REPEAT 1000000000000 {\n    H 0 1\n  }\n}\nM 0\n")
    start = time.perf_counter()
    size = codes.CircuitSize.of(circuit)
    assert time.perf_counter() - start < 1
    assert size.operations == 2 * 10**24 + 1 and size.measurements == 1
    assert size.excess() == ["about 2e+24 gate applications per shot (the limit is 100,000,000)"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["circuit", "surface", "--distance", "100001"],
            "'surface' at distance 100001 with 100001 rounds needs about 1e+15 detectors (the limit is 1,000,000)",
        ),
        (
            ["circuit", "repetition", "--distance", "3", "--rounds", "100000000000000000000000"],
            "needs about 2e+23 detectors (the limit is 1,000,000): use a smaller distance or fewer rounds",
        ),
        (["circuit", "color", "--rounds", "1"], "rounds must be >= 2 for 'color', got 1"),
    ],
)
def test_circuit_command_refuses_what_cannot_fit_in_one_line(capsys, argv, message):
    start = time.perf_counter()
    assert main(argv) == 2
    assert time.perf_counter() - start < 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and message in captured.err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["threshold", "--p", "0.001:0.01:1000000000"], "a p grid of 1e+09 values is too large"),
        (["threshold", "--distance", "3,1000001"], "distance 1000001 is too large; the limit is 1,000,000"),
        (["collect", "surface", "--distance", "999", "--p", "0.001"], "needs about 9.98e+08 detectors"),
        (["collect", "repetition", "--rounds", "0"], "rounds must be 'd' or an integer in [1, 1,000,000], got '0'"),
        (["collect", "repetition", "--max-shots", str(2**63)], "--max-shots 9223372036854775808 is not allowed"),
        (["collect", "repetition", "--max-errors", "0"], "--max-errors 0 is not allowed"),
    ],
)
def test_study_commands_refuse_before_the_store_is_made(tmp_path, capsys, argv, message):
    store = tmp_path / "r.db"
    start = time.perf_counter()
    assert main([*argv, "--store", str(store)]) == 2
    assert time.perf_counter() - start < 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and not store.exists()


def test_collect_refuses_a_circuit_file_with_a_huge_repeat_before_the_store_is_made(tmp_path, capsys):
    folder = tmp_path / "circuits"
    folder.mkdir()
    (folder / "d=3.stim").write_text(
        "REPEAT 1000000000000 {\n  M 0\n  DETECTOR rec[-1]\n}\nOBSERVABLE_INCLUDE(0) rec[-1]\n"
    )
    store = tmp_path / "r.db"
    assert main(["collect", "--circuits", str(folder), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "about 1e+12 detectors (the limit is 1,000,000)" in err and not store.exists()


def test_subpackages_are_attributes_of_qec():
    assert "pymatching" in qec.decoders.names()
    assert qec.codes.MAX_DETECTORS == 1_000_000 and callable(qec.mitigation.mitigate_workload)
    with pytest.raises(AttributeError, match="module 'qec' has no attribute 'nope'"):
        qec.nope  # noqa: B018
    assert {"decoders", "mitigation", "codes", "study"} <= set(dir(qec))
    results = doctest.testmod(qec, raise_on_error=False)
    assert results.failed == 0 and results.attempted >= 4


def test_importing_qec_and_its_decoders_leaves_mitigation_and_the_cli_unimported(tmp_path):
    code = (
        "import sys, qec; qec.decoders.get('pymatching'); "
        "print(sorted(m for m in ('qec.mitigation', 'qec.cli', 'qiskit', 'typer') if m in sys.modules))"
    )
    # Run from a folder other than the repository root, whose qec/ folder would shadow the installed package.
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, cwd=tmp_path
    ).stdout
    assert out.strip() == "[]"


def test_all_lists_every_export_and_the_subpackages():
    assert set(qec.__all__) == set(qec._EXPORTS) | {"cli", "decoders", "mitigation", "__version__"}
    assert all(getattr(qec, name) is not None for name in qec.__all__)

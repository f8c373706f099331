"""The README's "What the store promises", through the CLI: outputs never destroy inputs, every output is
checked before sampling and written atomically, read commands work on read-only stores and folders."""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from qec.cli.main import main
from qec.outputs import write_atomically
from qec.store import Store

QUICK = ["--max-shots", "2000", "--max-errors", "100", "--workers", "1"]
STUDY = [
    "repetition",
    "--distance",
    "3,5",
    "--noise",
    "code-capacity",
    "--pauli",
    "independent",
    "--rounds",
    "1",
    "--p",
    "0.05,0.1,0.15",
    *QUICK,
]


def run(capsys, args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path, capsys):
    path = tmp_path / "s.db"
    assert run(capsys, ["collect", *STUDY, "--store", path])[0] == 0
    return path


def test_an_output_that_is_the_store_is_refused_by_any_spelling(tmp_path, capsys, store, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(store)
    before = store.read_bytes()
    monkeypatch.chdir(tmp_path)
    for out in ("s.db", str(store), "sub/../s.db", "./s.db", "link.csv", "s.db-journal"):
        code, _, err = run(capsys, ["export", "--store", store, "--out", out])
        assert code == 2 and err.count("\n") == 1 and "cannot write" in err, (out, err)
    for command in (
        ["plot", "--store", "s.svg", "--out", "s.svg"],
        ["threshold", *STUDY, "--store", "study.png", "--plot", "study.png"],
    ):
        shutil.copy(store, command[command.index("--store") + 1])
        copied = (tmp_path / command[command.index("--store") + 1]).read_bytes()
        code, _, err = run(capsys, command)
        assert code == 2 and "which this command reads" in err
        assert (tmp_path / command[command.index("--store") + 1]).read_bytes() == copied
    assert store.read_bytes() == before


def test_an_output_never_overwrites_an_sqlite_file(tmp_path, capsys, store):
    other = tmp_path / "other.csv"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    before = other.read_bytes()
    code, _, err = run(capsys, ["export", "--store", store, "--out", other])
    assert code == 2 and "SQLite database" in err and other.read_bytes() == before


@pytest.mark.parametrize(
    "plot,message",
    [
        ("missing/t.png", "does not exist; create it first"),
        (".", "use a file name ending in"),
        ("folder.png", "it is a folder"),
        ("t.gif", "use a file name ending in .png, .svg or .pdf"),
    ],
)
def test_output_paths_are_checked_before_sampling(tmp_path, capsys, plot, message, monkeypatch):
    (tmp_path / "folder.png").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, ["threshold", *STUDY, "--store", "new.db", "--plot", plot])
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "new.db").exists()  # nothing sampled, no store made


def test_outputs_are_written_atomically(tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text("old\n")

    def half_then_crash(temporary):
        temporary.write_text("new but cut")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, half_then_crash)
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["stats.csv"]


def test_json_output_is_valid_json_without_nan(tmp_path, capsys):
    path = tmp_path / "s.db"
    rows = 'shots,errors,discards,seconds,decoder,strong_id,json_metadata\n0,0,0,0,pymatching,empty,"{""d"":3}"\n'
    (tmp_path / "x.csv").write_text(rows)
    assert run(capsys, ["import", tmp_path / "x.csv", "--store", path])[0] == 0
    code, out, _ = run(capsys, ["stats", "--store", path, "--json"])
    assert code == 0 and "NaN" not in out and '"rate": null' in out


def unprivileged(args, cwd):
    """Runs `qec ARGS` where file permissions bind: as root, without the capability that overrides them."""
    command = [
        sys.executable,
        "-c",
        "import sys; from qec.cli.main import main; sys.exit(main(sys.argv[1:]))",
        *map(str, args),
    ]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot bind")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_read_commands_work_on_a_read_only_store_in_a_read_only_folder(tmp_path, capsys, store):
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(store, folder / "s.db")
    os.chmod(folder / "s.db", 0o444)
    os.chmod(folder, 0o555)
    try:
        for args in (
            ["stats", "--store", folder / "s.db"],
            ["export", "--store", folder / "s.db"],
            ["plot", "--store", folder / "s.db", "--out", tmp_path / "t.png"],
            ["merge", tmp_path / "merged.db", folder / "s.db"],
        ):
            result = unprivileged(args, tmp_path)
            assert result.returncode == 0 and result.stderr == "", (args, result.stderr)
        written = unprivileged(["collect", *STUDY, "--max-shots", "4000", "--store", folder / "s.db"], tmp_path)
        assert written.returncode == 2 and "read-only" in written.stderr and written.stderr.count("\n") == 1
        assert sorted(p.name for p in folder.iterdir()) == ["s.db"]
    finally:
        os.chmod(folder, 0o755)
    assert (folder / "s.db").read_bytes() == store.read_bytes()
    code, out, _ = run(capsys, ["stats", "--store", tmp_path / "merged.db"])
    assert code == 0 and out == run(capsys, ["stats", "--store", store])[1]


def test_a_folder_that_is_not_writable_is_not_called_corrupt(tmp_path, store):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        result = unprivileged(["collect", *STUDY, "--store", folder / "new.db"], tmp_path)
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == 2 and "is not writable" in result.stderr and "corrupt" not in result.stderr


def test_reshaped_imports_are_refused_in_one_line_unless_accepted(tmp_path, capsys, store):
    """README rule 2 through the CLI: an export through `sinter combine` is refused (exit 2, one line, nothing
    written); --accept-new-rows counts it; an export without its qec_sample column adds nothing."""
    exported = tmp_path / "e.csv"
    assert run(capsys, ["export", "--store", store, "--out", exported])[0] == 0
    combined = tmp_path / "c.csv"
    sinter_cli = os.path.join(os.path.dirname(sys.executable), "sinter")
    combined.write_text(subprocess.run([sinter_cli, "combine", exported], capture_output=True, text=True).stdout)
    before = store.read_bytes()
    code, _, err = run(capsys, ["import", combined, "--store", store])
    assert code == 2 and err.count("\n") == 1 and "--accept-new-rows" in err and store.read_bytes() == before
    code, out, _ = run(capsys, ["import", combined, "--store", store, "--accept-new-rows"])
    assert code == 0 and "imported 6 new row(s)" in out
    lines = exported.read_text().splitlines()
    dropped = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"  # qec_sample is the last column
    (tmp_path / "d.csv").write_text(dropped)
    assert "imported 0 new row(s)" in run(capsys, ["import", tmp_path / "d.csv", "--store", store])[1]
    assert "imported 18 new row(s)" in run(capsys, ["import", tmp_path / "d.csv", "--store", tmp_path / "new.db"])[1]
    assert "imported 0 new row(s)" in run(capsys, ["import", exported, "--store", tmp_path / "new.db"])[1]
    doubled = tmp_path / "doubled.csv"  # a file concatenated with its rows again: refused, and no store is made
    doubled.write_text(dropped + "\n".join(dropped.splitlines()[1:]) + "\n")
    code, _, err = run(capsys, ["import", doubled, "--store", tmp_path / "fresh.db"])
    assert code == 2 and "repeats an equal row" in err and not (tmp_path / "fresh.db").exists()


def test_a_store_with_other_columns_or_a_trigger_is_refused_by_every_command(tmp_path, capsys, store):
    connection = sqlite3.connect(store)
    connection.execute("ALTER TABLE chunks ADD COLUMN extra TEXT")
    connection.execute("CREATE TRIGGER t AFTER INSERT ON chunks BEGIN DELETE FROM chunks; END")
    connection.commit()
    connection.close()
    before = store.read_bytes()
    empty = tmp_path / "empty.db"
    Store(empty).close()
    (tmp_path / "x.csv").write_text('shots,errors,discards,seconds,decoder,strong_id,json_metadata\n1,0,0,0,d,t,"{}"\n')
    for args in (
        ["stats", "--store", store],
        ["export", "--store", store],
        ["plot", "--store", store, "--out", tmp_path / "p.png"],
        ["import", tmp_path / "x.csv", "--store", store],
        ["merge", tmp_path / "m.db", store],
        ["merge", empty, store],
        ["merge", store, empty],
        ["collect", *STUDY, "--store", store],
    ):
        code, _, err = run(capsys, args)
        assert code == 2 and err.count("\n") == 1 and "schema this qec did not write" in err, (args, err)
    assert store.read_bytes() == before

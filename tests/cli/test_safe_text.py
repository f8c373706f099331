"""Text from data reaches the terminal safely (issue 20, point 6): metadata values and keys from a sinter CSV or a
store, store and CSV file names, with escape sequences, CR, NUL, backspace, bidi overrides and line separators
in them, are printed escaped by `stats`, `stats --json`, slices, `plot`, `export`, `import` and in every error and
warning, and an `error:` line is exactly one line; plot labels draw a `$` as itself, never as mathtext.

Each example runs `qec.cli.main.main(argv)` in-process, with click told that its output is a terminal (else it
strips some escape sequences itself, which would hide the ones a terminal gets), and asserts that stdout and
stderr hold no character `qec.text.printable` escapes except the newlines that end lines.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from matplotlib.text import Text

from qec.cli.main import main
from qec.plot import plot_curves, plot_threshold, shown
from qec.slices import slice_points
from qec.stats import Point
from qec.task import Counts
from qec.text import printable, printable_lines

# Every character printable() escapes, newline included: what must never reach the terminal as itself.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
SEQUENCES = [
    "\x1b[2J",  # clear the screen
    "\x1b[1A\x1b[2K",  # up a line, erase it: overwrites the table row above
    "\x1b]0;owned\x07",  # set the window title (OSC)
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x9b31m",  # C1 CSI
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x08\x08",
    "\x7f",
    "\t",
    "\u202e",  # right-to-left override
    "\u2066",
    "\u200f",
    "\u2028",
    "\u2029",
    "\x85",  # NEL
    "$x^2$",  # mathtext in a plot label
    "$",
]
EXAMPLES = int(os.environ.get("QEC_FUZZ_EXAMPLES", 12))
SETTINGS = dict(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("QEC_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def hostile_text(*, min_size: int = 1) -> st.SearchStrategy[str]:
    """Ordinary text with escape sequences and control characters placed in it."""
    piece = st.one_of(
        st.sampled_from(SEQUENCES),
        st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=2),
        st.text("abcé数", min_size=1, max_size=3),
    )
    return st.lists(piece, min_size=min_size, max_size=5).map("".join).filter(lambda text: UNSAFE.search(text))


def file_name_text() -> st.SearchStrategy[str]:
    """A file name with such characters (a Linux file name takes any but '/' and NUL)."""
    return hostile_text().map(lambda text: text.replace("/", "_").replace("\x00", "_")).filter(UNSAFE.search)


@pytest.fixture
def as_at_a_terminal(monkeypatch):
    """click strips some escape sequences from what it echoes when the output is not a terminal, which would hide
    them here: tell it the output is one, as it is for a user."""
    import typer

    for module_name in ("typer._click.utils", "typer._click._compat", "click.utils", "click._compat"):
        try:
            module = __import__(module_name, fromlist=["should_strip_ansi"])
        except ImportError:
            continue
        if hasattr(module, "should_strip_ansi"):
            monkeypatch.setattr(module, "should_strip_ansi", lambda stream=None, color=None: False)
    return typer


def sinter_csv(rows: list[dict]) -> str:
    """A sinter CSV of `rows` (metadata dicts), 1000 shots each, errors growing with p."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["shots", "errors", "discards", "seconds", "decoder", "strong_id", "json_metadata"])
    for index, row in enumerate(rows):
        metadata, raw = row["metadata"], row.get("raw_json", False)
        writer.writerow(
            [1000, 10 + 5 * index, 0, 0.1, row.get("decoder", "pymatching"), f"{index:064x}",
             json.dumps(metadata, ensure_ascii=not raw)]
        )  # fmt: skip
    return out.getvalue()


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_safe(code: int, out: str, err: str) -> None:
    """No unsafe character but the newline ending each line; stderr is warning lines then at most one error
    line; exit 0 or 2, and 2 only with that error line."""
    for stream in (out, err):
        assert not UNSAFE.search(stream.replace("\n", "")), repr(stream)
        assert stream == "" or stream.endswith("\n"), repr(stream)
    lines = err.splitlines()
    assert all(line.startswith(("warning: ", "error: ", "note: ")) for line in lines), repr(err)
    errors = [line for line in lines if line.startswith("error: ")]
    assert code in (0, 2), (code, err)
    assert (code == 2) == (len(errors) == 1) and errors == lines[len(lines) - len(errors) :], (code, err)


metadata_rows = st.builds(
    lambda family, noise, key, value, raw: [
        {
            "metadata": {"family": family, "noise": noise, "distance": d, "rounds": d, "p": p, key: value},
            "raw_json": raw,
        }
        for d in (3, 5)
        for p in (0.001, 0.002, 0.004)
    ],
    family=hostile_text(),
    noise=hostile_text(),
    key=st.one_of(st.just("basis"), hostile_text()),
    value=hostile_text(),
    raw=st.booleans(),
)


@settings(**SETTINGS)
@given(rows=metadata_rows, store_name=file_name_text(), csv_name=file_name_text(), data=st.data())
def test_text_from_a_csv_and_a_store_is_printed_escaped(tmp_path, capsys, as_at_a_terminal, rows, store_name,
                                                        csv_name, data):  # fmt: skip
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        store, csv_file = Path(folder, f"s{store_name}.db"), Path(folder, f"c{csv_name}.csv")
        csv_file.write_text(sinter_csv(rows), encoding="utf-8", newline="")
        code, out, err = run(capsys, ["import", csv_file, "--store", store])
        assert_safe(code, out, err)
        event(f"import exit {code}")
        if code != 0:  # refused (e.g. NUL in a CSV line): one safe line, nothing more to read
            return
        family = rows[0]["metadata"]["family"]
        key = next(iter(set(rows[0]["metadata"]) - {"family", "noise", "distance", "rounds", "p"}), "family")
        commands = [
            ["stats", "--store", store],
            ["stats", "--store", store, "--observables"],
            ["stats", "--store", store, "--json"],
            ["stats", "--store", store, "--group-by", "family"],
            ["stats", "--store", store, "--group-by", "noise", "--x", "distance"],
            ["stats", "--store", store, "--where", f"family={family}"],
            ["stats", "--store", store, "--where", f"family={family}x"],  # no point: the error quotes the values
            ["stats", "--store", store, "--where", f"{key}=1"],
            ["stats", "--store", store, "--group-by", key],
            ["stats", "--store", store, "--where", "nosuchkey=1"],  # the error may list the keys
            ["export", "--store", store],
            ["import", csv_file, "--store", store],  # again: adds nothing, names both files
            ["stats", "--store", Path(folder, f"missing{store_name}.db")],  # errors that quote a file name
            ["import", Path(folder, f"missing{csv_name}.csv"), "--store", store],
            ["plot", "--store", store, "--out", Path(folder, f"p{csv_name}.png"), "--group-by", "family", "--no-fit"],
            ["plot", "--store", store, "--out", Path(folder, f"p{csv_name}")],  # no suffix: an error naming the file
        ]
        for argv in data.draw(st.lists(st.sampled_from(commands), min_size=2, max_size=4, unique_by=str)):
            code, out, err = run(capsys, argv)
            assert_safe(code, out, err)
            event(f"{argv[0]} exit {code}")
            if "--json" in argv and code == 0:
                assert json.loads(out)["points"][0]["family"] == family  # escaped in the text, not lost


@pytest.mark.parametrize("decoder", ["py\x1b[2Jmatching", "a\rb", "x\u202ey", "d\nd"])
def test_a_hostile_decoder_name_is_refused_in_one_safe_line(tmp_path, capsys, as_at_a_terminal, decoder):
    csv_file = tmp_path / "c.csv"
    csv_file.write_text(
        sinter_csv([{"metadata": {"family": "surface", "p": 0.001}, "decoder": decoder}]), encoding="utf-8"
    )
    code, out, err = run(capsys, ["import", csv_file, "--store", tmp_path / "s.db"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert_safe(code, out, err)
    assert not (tmp_path / "s.db").exists()


@settings(**SETTINGS)
@given(text=hostile_text())
def test_an_error_is_one_safe_line_whatever_the_message(capsys, text):
    """`_fail`, where every CLI error is printed, whatever a message embeds (newlines included)."""
    from qec.cli.main import _fail

    assert _fail(f"bad value {text!s} and {text!r}") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: bad value ") and not UNSAFE.search(err[:-1])


@settings(**SETTINGS)
@given(text=hostile_text())
def test_printable_escapes_every_unsafe_character_and_keeps_the_rest(text):
    shown_text = printable(text)
    assert not UNSAFE.search(shown_text)
    kept = iter(shown_text)  # the safe characters are all kept, in order
    assert all(character in kept for character in UNSAFE.sub("", text))
    assert printable_lines(text).count("\n") == text.count("\n")


def test_printable_keeps_ordinary_unicode_and_spells_the_escapes():
    assert printable("Steane é ψ 数 🙂 - ok") == "Steane é ψ 数 🙂 - ok"
    assert printable("a\x1b[2Jb\rc\x00d\u202ee\u2028f\x9bg\nh\ti\ud800") == (
        "a\\x1b[2Jb\\rc\\x00d\\u202ee\\u2028f\\x9bg\\nh\\ti\\ud800"
    )


def mathtext_free(text: str) -> bool:
    """matplotlib draws `text` as plain text: an even, non-zero number of unescaped `$` would make it mathtext."""
    return (text.count("$") - text.count(r"\$")) == 0


@pytest.mark.filterwarnings("ignore:Glyph")  # hypothesis' characters that DejaVu Sans lacks
@settings(**SETTINGS)
@given(family=hostile_text(), noise=hostile_text(), decoder=hostile_text(), key=hostile_text())
def test_plot_labels_titles_and_legends_are_escaped_and_never_mathtext(family, noise, decoder, key):
    points = [
        Point(family, d, d, noise, p, decoder, Counts(10**4, errors), {"p": p, key: d})
        for d, errors in ((3, 90), (5, 60))
        for p in (0.005, 0.01)
    ]
    by_key = len(key) % 2 == 1  # half the examples each way (a figure takes a while to draw)
    figure = plot_curves(slice_points(points, group_by=[key])) if by_key else plot_threshold(points, None)
    texts = [text.get_text() for ax in figure.axes for text in ax.findobj(Text)]
    for text in texts:
        assert not UNSAFE.search(text) and mathtext_free(text), repr(text)
    figure.savefig(io.BytesIO(), format="png", dpi=10)  # drawn: no mathtext parse error either
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    if by_key:
        assert shown(f"{key}=3") in legend
    else:
        assert shown(f"{family}, {noise} noise, {decoder}: per shot") == figure.axes[0].get_title()

"""The `qec` Typer app and its entry point; bad input becomes one line on stderr and exit code 2, Ctrl-C (or
SIGTERM) one line saying how many chunks were kept, and exit code 130 (143).

>>> from typer.testing import CliRunner
>>> from qec.cli.main import app
>>> CliRunner().invoke(app, ["codes"]).exit_code
0
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator


def _interrupted_while_starting(signum: int, frame: Any) -> None:
    """Exits at once: nothing is open yet, and an exception raised here, inside an extension module's import,
    would come out as an ImportError traceback."""
    print("interrupted", file=sys.stderr, flush=True)
    os._exit(130)


# The imports below take seconds (Mitiq, Qiskit, ...): run as the `qec` console script, Ctrl-C meanwhile exits
# with one line too, not an import traceback. (Only there: in a Python session it would end the session.)
_STARTING = (
    os.path.basename(sys.argv[0]) in ("qec", "qec.exe")
    and threading.current_thread() is threading.main_thread()
    and signal.getsignal(signal.SIGINT) is signal.default_int_handler
)
if _STARTING:
    signal.signal(signal.SIGINT, _interrupted_while_starting)

import typer  # noqa: E402

try:
    from qec.cli import (  # noqa: E402
        circuits,
        decode,
        mitigate,  # noqa: E402
        results,
        study,
    )
except OSError as error:  # e.g. under a tiny file-size limit (ulimit -f), tempfile finds no usable folder
    if not _STARTING:
        raise
    print(f"error: qec could not start: {error}".replace("\n", " "), file=sys.stderr, flush=True)
    os._exit(2)
from qec.errors import Interrupted, QecInputError  # noqa: E402

if _STARTING:
    signal.signal(signal.SIGINT, signal.default_int_handler)

app = typer.Typer(
    name="qec",
    help="Quantum error correction: Stim circuits, decoders, threshold studies and Mitiq mitigation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("codes")(circuits.codes_command)
app.command("circuit")(circuits.circuit_command)
app.add_typer(mitigate.mitigate_app, name="mitigate")
app.command("threshold")(study.threshold_command)
app.command("collect")(study.collect_command)
app.command("stats")(results.stats_command)
app.command("plot")(results.plot_command)
app.command("export")(results.export_command)
app.command("import")(results.import_command)
app.command("merge")(results.merge_command)
app.command("decode")(decode.decode_command)


def _click_errors() -> tuple[type[Exception], ...]:
    """Parse-error types: Typer >= 0.20 vendors click (typer.TyperException), older Typer raises click's."""
    types: list[type[Exception]] = [typer.TyperException] if hasattr(typer, "TyperException") else []
    try:
        import click

        types.append(click.ClickException)
    except ImportError:
        pass
    return tuple(types)


_CLICK_ERRORS = _click_errors()


def main(argv: list[str] | None = None) -> int:
    """Runs the CLI; returns the exit code (the console script exits with it): 0, 2 on bad input, 130 on Ctrl-C,
    143 on SIGTERM (which stops a run the way Ctrl-C does), 141 when the reader of its output has gone (SIGPIPE's
    code: `qec export | head`)."""
    with _stop_signals() as stop:
        try:
            code = _run(sys.argv[1:] if argv is None else [str(arg) for arg in argv], stop)
            stop.finished()
        except KeyboardInterrupt:  # it arrived as the command's own handling ended (printing an error, say)
            print("interrupted", file=sys.stderr)
            code = stop.exit_code()
    return code


def _run(argv: list[str], stop: _StopSignals) -> int:
    """The command, its refusals turned into one line and an exit code."""
    try:
        result = _invoke(argv)
    except QecInputError as error:
        return _fail(_in_flag_terms(str(error)))
    except _CLICK_ERRORS as error:  # Typer's own parse errors: a bad option value, a missing argument
        if not hasattr(error, "format_message"):
            raise
        return _fail(error.format_message().replace("\n", " "))
    except (typer.Abort, KeyboardInterrupt) as interrupt:
        print(interrupt if isinstance(interrupt, Interrupted) else "interrupted", file=sys.stderr)
        return stop.exit_code()
    except BrokenPipeError:  # the reader of our output left (`qec ... | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error flushing stdout at exit
        return 141
    except (OSError, sqlite3.Error) as error:  # a refusal no library check turned into a QecInputError
        return _fail(_system_failure(error))
    return result if isinstance(result, int) else 0


def _invoke(argv: list[str]) -> Any:
    """What `app(args=argv, standalone_mode=False)` does, except that Ctrl-C reaches main() as the exception
    raised (Typer would turn it into a bare exit code, losing collect()'s count of the chunks kept)."""
    command = typer.main.get_command(app)
    try:
        with command.make_context("qec", argv) as context:
            return command.invoke(context)
    except typer.Exit as exit_:  # --help, and commands that exit early
        return exit_.exit_code


class _StopSignals:
    """Ctrl-C and SIGTERM while a command runs: the first raises KeyboardInterrupt (SIGTERM stops a run the way
    Ctrl-C does: workers stopped, committed chunks kept); any later one, or one after the command has finished,
    is only noted. So none can land in the clean-up that follows, where it would end `qec` with a traceback
    instead of its one line."""

    def __init__(self) -> None:
        self.arrived: list[int] = []
        self._running = True

    def __call__(self, signum: int, frame: Any) -> None:
        self.arrived.append(signum)
        if self._running:
            self._running = False
            raise KeyboardInterrupt

    def finished(self) -> None:
        self._running = False

    def exit_code(self) -> int:
        return 143 if self.arrived[:1] == [signal.SIGTERM] else 130


@contextmanager
def _stop_signals() -> Iterator[_StopSignals]:
    """Installs a `_StopSignals` for SIGINT and SIGTERM while main() runs in the main thread. Run as the console
    script, it stays installed, so that a signal arriving as the interpreter exits is ignored too; called from
    Python, the previous handlers come back."""
    stop = _StopSignals()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        stop.finished()
        if not _STARTING:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


# Library errors name Python parameters ("workers=0"); the CLI's user knows the flags.
_FLAGS = {
    "workers": "--workers",
    "max_shots": "--max-shots",
    "max_errors": "--max-errors",
    "precision": "--precision",
    "chunk_shots": "--chunk-shots",
    "scheduler": "--scheduler",
    "cluster": "--cluster",
    "qubits": "--qubits",
    "device": "--device",
    "method": "--method",
    "target_precision": "--target-precision",
    "max_shots_total": "--max-shots-total",
    "max_seconds": "--max-seconds",
    "distances": "--distance",
    "code": "--code",
    "where": "--where",
    "group_by": "--group-by",
    "x": "--x",
    "rate": "--rate",
}
_SWITCHES = {
    "correction=True": "--correction",
    "correction=False": "--no-correction",
    "fit=True": "--fit",
    "fit=False": "--no-fit",
}
_PARAMETER = re.compile(r"(?<![\w'-])(" + "|".join(map(re.escape, _SWITCHES)) + "|(" + "|".join(_FLAGS) + r")=)")


def _in_flag_terms(message: str) -> str:
    """`message` with each `parameter=` that has a flag written as `--flag ` and each switch as its flag; not inside
    a quoted value that starts with one (`where='x=3'` is the user's text).

    >>> _in_flag_terms("workers=0 is not allowed; use correction=False; scheduler= and cluster= are both given")
    '--workers 0 is not allowed; use --no-correction; --scheduler and --cluster are both given'
    >>> _in_flag_terms("where='x=3' matches no point")
    "--where 'x=3' matches no point"
    """

    def flag(match: re.Match[str]) -> str:
        if match[1] in _SWITCHES:
            return _SWITCHES[match[1]]
        valued = match.end() < len(message) and not message[match.end()].isspace() and message[match.end()] not in ",;:"
        return _FLAGS[match[2]] + (" " if valued else "")

    return _PARAMETER.sub(flag, message)


def _system_failure(error: OSError | sqlite3.Error) -> str:
    """One line for a system error that reached the CLI: what the system refused, and that nothing was half-written
    (outputs are written atomically, and the store commits whole transactions).

    >>> _system_failure(OSError(28, "No space left on device", "out.csv")).split("; ")
    ['No space left on device: out.csv', 'stopped (the store keeps what was committed, no file is half-written)']
    """
    if isinstance(error, OSError):
        what = f"{error.strerror or error}" + (f": {error.filename}" if error.filename is not None else "")
    else:
        what = f"the store: {error}"
    return f"{what}; stopped (the store keeps what was committed, no file is half-written)"


def _fail(message: str) -> int:
    r"""Prints `message` as exactly one line, "error: ..." on stderr (line breaks, escape sequences and other
    controls in it, often from the user's text or a store's, escaped by `qec.text.printable`); returns 2.

    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     _fail("no point at family='a\nb\x1b[2J'")
    2
    >>> err.getvalue()
    "error: no point at family='a\\nb\\x1b[2J'\n"
    """
    from qec.text import printable

    print(f"error: {printable(message)}", file=sys.stderr)
    return 2

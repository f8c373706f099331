"""The `qec` Typer app and its entry point; bad input becomes one line on stderr and exit code 2.

>>> from typer.testing import CliRunner
>>> from qec.cli.main import app
>>> CliRunner().invoke(app, ["codes"]).exit_code
0
"""

from __future__ import annotations

import sys

import typer

from qec.cli import circuits, results, study
from qec.cli import mitigate
from qec.errors import QecInputError

app = typer.Typer(
    name="qec",
    help="Quantum error correction: Stim circuits, decoders, threshold studies and Mitiq mitigation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("codes")(circuits.codes_command)
app.command("circuit")(circuits.circuit_command)
app.command("mitigate")(mitigate.mitigate_command)
app.command("threshold")(study.threshold_command)
app.command("collect")(study.collect_command)
app.command("stats")(study.stats_command)
app.command("plot")(study.plot_command)
app.command("export")(results.export_command)
app.command("import")(results.import_command)
app.command("merge")(results.merge_command)


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
    """Runs the CLI; returns the exit code (the console script exits with it): 0, 2 on bad input, 130 on Ctrl-C."""
    try:
        result = app(args=argv, standalone_mode=False)
    except QecInputError as error:
        return _fail(str(error))
    except _CLICK_ERRORS as error:  # Typer's own parse errors: a bad option value, a missing argument
        if not hasattr(error, "format_message"):
            raise
        return _fail(error.format_message().replace("\n", " "))
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted: every committed chunk is kept in the store; rerun the same command to resume",
              file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2

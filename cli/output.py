"""What the CLI prints besides tables: JSON that is valid JSON (no bare NaN) with every control character escaped
(json.dumps' ensure_ascii: all but printable ASCII as \\uNNNN), and one-line warnings with text from data made safe
for a terminal (`qec.text.printable`).

>>> from qec.cli.output import json_text
>>> json_text({"rate": float("nan"), "shots": 10})
'{"rate": null, "shots": 10}'
"""

from __future__ import annotations

import json
import math
from typing import Any

import typer

from qec.store import Store
from qec.text import printable


def json_text(value: Any) -> str:
    """`value` as JSON, with NaN and infinities (an empty point's rate, say) as null, ASCII only: a control
    character or bidi override in a value is written \\uNNNN, never itself."""
    return json.dumps(_finite(value), allow_nan=False, ensure_ascii=True)


def echo_json(value: Any) -> None:
    typer.echo(json_text(value))


def warn_skipped(store: Store) -> None:
    """One line on stderr naming the bad rows a read of `store` skipped, if any."""
    summary = store.skipped_summary()
    if summary:
        warn(summary)


def warn(text: str) -> None:
    """`text` on stderr as one line, after "warning: "."""
    typer.echo(one_line(f"warning: {text}"), err=True)


def one_line(text: str) -> str:
    """`text` as one safe line (`qec.text.printable`): a message that quotes a name (a path, a task id or metadata
    value read from a store) can neither break the line nor send the terminal escape sequences.

    >>> one_line("bad\\nid\\x1b[2J")
    'bad\\\\nid\\\\x1b[2J'
    """
    return printable(text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value

"""What the CLI prints besides tables: JSON that is valid JSON (no bare NaN), and one-line warnings.

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


def json_text(value: Any) -> str:
    """`value` as JSON, with NaN and infinities (an empty point's rate, say) as null."""
    return json.dumps(_finite(value), allow_nan=False)


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
    """`text` with its line breaks shown as \\n and \\r, so a message that quotes a name (a path, a task id read
    from a store) stays one line.

    >>> one_line("bad\\nid")
    'bad\\\\nid'
    """
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value

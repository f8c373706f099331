"""`qec export`, `qec import` and `qec merge`: the store in and out of sinter's CSV, and stores merged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from qec.cli.study import DEFAULT_STORE, StorePath
from qec.errors import QecInputError
from qec.store import Store


def export_command(
    store: StorePath = DEFAULT_STORE,
    format_: Annotated[str, typer.Option("--format", help="csv: sinter's CSV (read by `sinter plot --in`).")] = "csv",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here instead of printing.")] = None,
) -> None:
    """Export the store's totals per task as sinter CSV."""
    if format_ != "csv":
        raise QecInputError(f"unknown export format {format_!r}: the only format is csv (sinter's)")
    if not store.exists():
        raise QecInputError(f"no store at {store}: give --store")
    with Store(store) as results:
        text = results.to_sinter_csv()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)


def import_command(
    csv_file: Annotated[Path, typer.Argument(help="A sinter CSV file (from `sinter collect` or `qec export`).")],
    store: StorePath = DEFAULT_STORE,
) -> None:
    """Import a sinter CSV into the store (importing the same rows twice adds nothing)."""
    try:
        text = csv_file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise QecInputError(f"cannot read {csv_file}: {error}") from None
    with Store(store) as results:
        added = results.import_sinter_csv(text, source=f"import:{csv_file.name}")
    typer.echo(f"imported {added} new row(s) from {csv_file} into {store}")


def merge_command(
    target: Annotated[Path, typer.Argument(help="The store to merge into (created if missing).")],
    sources: Annotated[list[Path], typer.Argument(help="Stores to merge from; they are only read.")],
) -> None:
    """Merge stores: every chunk of the sources that the target lacks is added to the target."""
    for source in sources:
        if not source.exists():
            raise QecInputError(f"no store at {source}")
    opened = [Store(source) for source in sources]  # refuses a non-store source before the target changes
    try:
        with Store(target) as merged:
            for source, results in zip(sources, opened):
                added = merged.merge_from(results)
                typer.echo(f"merged {added} new chunk(s) from {source} into {target}")
    finally:
        for results in opened:
            results.close()

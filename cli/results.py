"""`qec export`, `qec import` and `qec merge`: the store in and out of sinter's CSV, and stores merged."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Optional

import typer

from qec.cli.options import DEFAULT_STORE, StorePath
from qec.cli.output import warn_skipped
from qec.errors import QecInputError
from qec.outputs import check_output_path, write_text_atomically
from qec.store import MAX_CSV_BYTES, Added, Store, check_store_name, parse_sinter_csv


def export_command(
    store: StorePath = DEFAULT_STORE,
    format_: Annotated[str, typer.Option("--format", help="csv: sinter's CSV (read by `sinter plot --in`).")] = "csv",
    out: Annotated[Optional[Path], typer.Option("--out", help="Write here (.csv) instead of printing.")] = None,
) -> None:
    """Export the store as sinter CSV, one line per chunk (importing it back adds nothing)."""
    if format_ != "csv":
        raise QecInputError(f"unknown export format {format_!r}: the only format is csv (sinter's)")
    if out is not None:
        check_output_path(out, suffixes=(".csv",), inputs=[store])
    with Store(store, read_only=True) as results:
        text = results.to_sinter_csv()
        warn_skipped(results)
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomically(out, text)


def import_command(
    csv_file: Annotated[Path, typer.Argument(help="A sinter CSV file (from `sinter collect` or `qec export`).")],
    store: StorePath = DEFAULT_STORE,
) -> None:
    """Import a sinter CSV into the store (a row already imported, or exported from this store, adds nothing)."""
    rows = parse_sinter_csv(_read_csv(csv_file), source=f"import:{csv_file.name}")  # before the store is made
    with Store(store) as results:
        added = results.import_rows(rows)
    typer.echo(f"imported {added.chunks} new row(s) from {csv_file} into {store}{_same_seed(added)}")


def merge_command(
    target: Annotated[Path, typer.Argument(help="The store to merge into (created if missing).")],
    sources: Annotated[list[Path], typer.Argument(help="Stores to merge from; they are only read.")],
) -> None:
    """Merge stores: every chunk of the sources that the target lacks is added to the target."""
    opened: list[Store] = []
    try:
        for source in sources:  # every source is checked before the target is touched
            opened.append(Store(source, read_only=True))
        if target.exists() or target.is_symlink():
            with Store(target) as merged:
                added = merged.merge_from_all(opened)
        else:
            added = _merge_into_new_store(target, opened)
        for source, results, count in zip(sources, opened, added):
            warn_skipped(results)
            typer.echo(f"merged {count.chunks} new chunk(s) from {source} into {target}{_same_seed(count)}")
    finally:
        for results in opened:
            results.close()


def _merge_into_new_store(target: Path, sources: list[Store]) -> list[Added]:
    """Merges `sources` into a store made beside `target` under a temporary name, then links it to `target`: a
    refused source leaves no store behind. If `target` appeared meanwhile, the merged store is merged into it."""
    check_output_path(target)
    check_store_name(target)
    temporary = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.merging"
    try:
        with Store(temporary) as merged:
            added = merged.merge_from_all(sources)
        try:
            os.link(temporary, target)  # never replaces a store that appeared meanwhile
        except FileExistsError:
            with Store(target) as existing, Store(temporary, read_only=True) as merged:
                existing.merge_from(merged)
        except OSError:  # a file system without hard links
            os.rename(temporary, target)
        return added
    finally:
        for path in (temporary, Path(f"{temporary}-journal")):
            path.unlink(missing_ok=True)


def _read_csv(path: Path) -> str:
    """The text of a CSV file to import; a clear error for folders, FIFOs, huge files, bad encodings."""
    if not path.exists():
        raise QecInputError(f"no file at {path}: give a sinter CSV file")
    if not path.is_file():
        raise QecInputError(f"{path} is not a regular file: give a sinter CSV file")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise QecInputError(f"{path} has {path.stat().st_size:,} bytes; the limit is {MAX_CSV_BYTES:,}: split it")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise QecInputError(f"{path} is not a text file (not UTF-8): give a sinter CSV file") from None
    except OSError as error:
        raise QecInputError(f"cannot read {path}: {error.strerror or error}") from None


def _same_seed(added: Added) -> str:
    if not added.same_seed_skipped:
        return ""
    return (
        f"; {added.same_seed_skipped} chunk(s) skipped: the store holds the same seed's samples under the same "
        "index with other shot counts, so they are kept once"
    )

"""A rich progress display on stderr for collect(): tasks done, shots/s, errors so far, ETA; erased when
collect() fails or is interrupted, so that the error's one line is all that stays on stderr."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qec.engine import Progress as CollectProgress


@contextmanager
def progress_display(tasks_total: int, *, quiet: bool = False) -> Iterator[Callable[[CollectProgress], None]]:
    """Yields the callback to hand to `collect(on_progress=...)`; prints nothing when `quiet`."""
    if quiet:
        yield lambda _: None
        return
    columns = [
        TextColumn("tasks"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    ]
    progress = Progress(*columns, console=Console(stderr=True), transient=False)
    bar = progress.add_task("collect", total=tasks_total, status="")

    started: list[bool] = []

    def update(snapshot: CollectProgress) -> None:
        if not started:  # start on the first committed chunk, so bad input fails without a half-drawn bar
            progress.start()
            started.append(True)
        eta = f"ETA {snapshot.eta_seconds:,.0f} s" if snapshot.eta_seconds is not None else "ETA ?"
        status = (
            f"{snapshot.shots:,} shots  {snapshot.errors:,} errors  {snapshot.shots_per_second:,.0f} shots/s  {eta}"
        )
        progress.update(bar, completed=snapshot.tasks_done, status=status)

    try:
        yield update
    except BaseException:
        if started:  # on Ctrl-C or an error, erased (no blank line either): their one line is all that stays
            progress.live.transient = True
            progress.live.stop()
        raise
    if started:
        progress.stop()

"""Output files (plots, CSV exports, circuits, diagrams): checked before any work, never one of the inputs,
and written atomically, so an interrupted write never leaves half a file and a failed one changes nothing.

>>> import os, tempfile
>>> from qec.outputs import check_output_path, write_text_atomically
>>> folder = tempfile.mkdtemp()
>>> path = check_output_path(os.path.join(folder, "stats.csv"), suffixes=(".csv",))
>>> write_text_atomically(path, "shots,errors\\n")
>>> open(path).read()
'shots,errors\\n'
>>> check_output_path(os.path.join(folder, "missing", "plot.png"), suffixes=(".png",))
Traceback (most recent call last):
...
qec.errors.QecInputError: cannot write ...plot.png: the folder ...missing does not exist; create it first
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from qec.errors import QecInputError

_SQLITE_HEADER = b"SQLite format 3\x00"
_STORE_SIDECARS = ("", "-journal", "-wal", "-shm")


def check_output_path(path: str | Path, *, suffixes: Iterable[str] = (), inputs: Iterable[str | Path] = ()) -> Path:
    """`path` as a Path if a file may be written there; else QecInputError saying why. Call it before any work.

    Refused: a suffix not in `suffixes` (when given), a folder, anything but a regular file, a missing or
    unwritable folder, a read-only file, any SQLite database (a qec store above all), and any of `inputs`
    (by any spelling: relative, `..`, symlinks) or an SQLite journal beside one of them.
    """
    path = Path(path)
    suffixes = tuple(suffixes)
    if suffixes and path.suffix.lower() not in suffixes:
        allowed = suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
        raise QecInputError(f"cannot write {path}: use a file name ending in {allowed}")
    target = _real(path)
    for given in inputs:
        real_input = _real(Path(given))
        if any(target == Path(f"{real_input}{sidecar}") for sidecar in _STORE_SIDECARS):
            raise QecInputError(
                f"cannot write {path}: it is {given}, which this command reads; writing there would "
                "destroy it: give another output path"
            )
    if target.is_dir():
        raise QecInputError(f"cannot write {path}: it is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise QecInputError(f"cannot write {path}: the folder {path.parent} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise QecInputError(f"cannot write {path}: the folder {path.parent} is not writable")
    if target.exists():
        if not target.is_file():
            raise QecInputError(f"cannot write {path}: it exists and is not a regular file")
        if not os.access(target, os.W_OK):
            raise QecInputError(f"cannot write {path}: the file is read-only")
        if _is_sqlite(target):
            raise QecInputError(
                f"cannot write {path}: it is an SQLite database (a qec store?), which this would "
                "destroy: give another output path"
            )
    return path


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Calls `write(temporary_path)` for a file beside `path` (same suffix), then renames it onto `path`.

    The rename is atomic: `path` holds either its old content or the whole new file. A symlink is
    followed, so the file it points at is replaced."""
    target = _real(Path(path))
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        write(temporary_path)
        with open(temporary_path, "rb+") as file:
            os.fsync(file.fileno())
        os.chmod(temporary_path, _mode_for(target))
        os.replace(temporary_path, target)
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically."""

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_atomically(path, write)


def _real(path: Path) -> Path:
    """The absolute path with symlinks and `..` resolved, as far as they exist."""
    return Path(os.path.realpath(path))


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(16) == _SQLITE_HEADER
    except OSError:
        return False


def _mode_for(target: Path) -> int:
    """The existing file's permissions, or a new file's (0666 less the umask)."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask

"""Output files (plots, CSV exports, circuits, diagrams): checked before any work, never one of the inputs,
and written atomically, so an interrupted write never leaves half a file and a failed one changes nothing: a
write the system refuses (disk full, a file-size limit, a folder that refuses new files) raises `WriteFailed`,
one line saying what failed, with no temporary file left behind.

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
>>> def disk_full(temporary):
...     raise OSError(28, "No space left on device")
>>> write_atomically(path, disk_full)
Traceback (most recent call last):
...
qec.outputs.WriteFailed: cannot write ...stats.csv: No space left on device; it keeps its old content
>>> sorted(os.listdir(folder))
['stats.csv']
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from qec.errors import QecInputError

_SQLITE_HEADER = b"SQLite format 3\x00"
_STORE_SIDECARS = ("", "-journal", "-wal", "-shm")


class WriteFailed(QecInputError, OSError):
    """A write the system refused (disk full, a file-size limit, permissions): one line saying what failed and
    what was kept. Both a QecInputError (the CLI prints it as one line, exit code 2) and an OSError (with the
    `errno` and `strerror` of the refusal), so code that catches either catches it."""

    def __init__(self, message: str, *, error: OSError):
        super().__init__(message)
        self.errno, self.strerror, self.filename = error.errno, error.strerror, error.filename

    def __str__(self) -> str:
        return str(self.args[0])


class StoreWriteFailed(QecInputError):
    """An SQLite write to a store failed (`error`, SQLite's) and was rolled back; the message says what was kept."""

    def __init__(self, message: str, *, error: Exception):
        super().__init__(message)
        self.error = error


def write_failure_reason(error: OSError) -> str:
    """What the system said about a refused write, with the usual cause when the words alone do not name it.

    >>> write_failure_reason(OSError(27, "File too large"))
    'File too large (over the file-size limit: see ulimit -f)'
    >>> write_failure_reason(OSError(28, "No space left on device"))
    'No space left on device'
    """
    reason = error.strerror or str(error)
    if error.errno == errno.EFBIG:
        reason += " (over the file-size limit: see ulimit -f)"
    return reason


def store_write_failure(
    path: str | Path, error: Exception, *, chunks_kept: int = 0, created: bool = False, pending: bool = False
) -> StoreWriteFailed:
    """The one-line error for an SQLite write to the store at `path` that failed with `error` ("database or disk
    is full", "disk I/O error", ...) and was rolled back: what failed, the likely cause, and what the store keeps
    (`chunks_kept` chunks committed by this command before it, or nothing new); for a store being `created`,
    that no store was made; when SQLite could not finish the rollback (`pending`: a file-size limit stops its writes
    too), that the store's journal rolls it back the next time the store is opened.

    >>> error = store_write_failure("s.db", Exception("database or disk is full"), chunks_kept=3)
    >>> str(error).split("; ")[-1]
    'the store is intact (write rolled back, 3 chunks committed before it kept: rerun to resume)'
    """
    cause = ""
    limit = _file_size_limit()
    if not any(word in str(error) for word in ("full", "I/O")):
        pass  # a lock held too long, say: no disk to blame
    elif limit is not None:
        cause = f" (a file-size limit of {limit:,} byte{'s' if limit != 1 else ''} is set: see ulimit -f)"
    else:
        try:
            if shutil.disk_usage(Path(path).parent if str(Path(path).parent) else ".").free < 1 << 20:
                cause = " (the disk is full)"
        except OSError:
            pass
    if created:
        return StoreWriteFailed(f"cannot create the store {path}: {error}{cause}; no store was made", error=error)
    kept = "no chunk was added"
    if chunks_kept:
        kept = f"{chunks_kept} chunk{'s' if chunks_kept != 1 else ''} committed before it kept: rerun to resume"
    if pending:
        return StoreWriteFailed(
            f"cannot write the store {path}: {error}{cause}; the store is intact: this write is rolled back from "
            f"{Path(path).name}-journal (keep that file) when the store is next opened, {kept}",
            error=error,
        )
    return StoreWriteFailed(
        f"cannot write the store {path}: {error}{cause}; the store is intact (write rolled back, {kept})", error=error
    )


def _file_size_limit() -> int | None:
    """This process's file-size limit in bytes (`ulimit -f`); None when there is none, or no `resource` module."""
    try:
        import resource  # Unix only
    except ImportError:
        return None
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if limit == resource.RLIM_INFINITY else limit


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
    followed, so the file it points at is replaced. A write the system refuses (any OSError: disk full, a
    file-size limit, a folder that refuses new files) raises `WriteFailed` after the temporary is removed."""
    target = _real(Path(path))
    existed = target.exists()
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    except OSError as error:
        raise _failed(path, error, existed=existed) from None
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        write(temporary_path)
        with open(temporary_path, "rb+") as file:
            os.fsync(file.fileno())
        os.chmod(temporary_path, _mode_for(target))
        os.replace(temporary_path, target)
    except OSError as error:
        temporary_path.unlink(missing_ok=True)
        raise _failed(path, error, existed=existed) from None
    except BaseException:
        temporary_path.unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically."""

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    write_atomically(path, write)


def _failed(path: str | Path, error: OSError, *, existed: bool) -> WriteFailed:
    if isinstance(error, WriteFailed):
        return error
    kept = "it keeps its old content" if existed else "nothing was written"
    return WriteFailed(f"cannot write {path}: {write_failure_reason(error)}; {kept}", error=error)


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

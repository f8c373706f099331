"""Check matrices from files: a `.npz` holding `hx` and `hz`, or two alist files; never unpickled.

- `.npz` (numpy's `np.savez`): arrays `hx` and `hz` of 0/1, dense; or each in CSR parts `hx_data`,
  `hx_indices`, `hx_indptr`, `hx_shape` (and the same for hz), as `save_check_matrices(..., sparse=True)`
  writes them. Bounded before it is read (`check_npz_members`): each member's `.npy` header (shape, dtype) and
  its zip entry (sizes, compression) are checked before any array is loaded; read with `allow_pickle=False`.
- alist (MacKay's text format for sparse parity-check matrices): `N M`, the largest column and row weights,
  the N column weights, the M row weights, then each column's 1-based row indices and each row's 1-based
  column indices (padded with zeros). A CSS code is two of them, given as `HX.alist,HZ.alist`.
- `bb:NAME`: not a file, one of the BB codes of `qec.codes.bb` by name (`bb:108,8,10`, the distance-10 code
  the `bb` family's `--distance 10` does not pick).

>>> import tempfile, pathlib, numpy as np
>>> from qec.codes.bb import bb_code
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> save_check_matrices(folder / "gross.npz", bb_code("gross").hx, bb_code("gross").hz)
>>> code = load_css_code(folder / "gross.npz")
>>> code.name, code.n, code.k
('gross', 144, 12)
>>> write_alist(folder / "hx.alist", code.hx); write_alist(folder / "hz.alist", code.hz)
>>> load_css_code(f"{folder / 'hx.alist'},{folder / 'hz.alist'}").k
12
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from qec.codes import CodeFamily, css_family, register_family
from qec.codes.css import MAX_CODE_CHECKS, MAX_CODE_QUBITS, CssCode, css
from qec.errors import QecInputError
from qec.text import approximate

FAMILY_DISTANCE_TRIALS = 100  # information-set trials per basis for a user code's family distance
MAX_FILE_BYTES = 200_000_000  # a 5,000 x 5,000 dense uint8 matrix is 25 MB; an alist of it far less
# A `.npz` holds at most hx and hz, dense or in four CSR parts each. One member holds at most the elements of a
# dense matrix at the size limits (25,000,000: a CSR part of it has no more), and all members together at most
# `MAX_NPZ_BYTES` once loaded: two such matrices of 8-byte integers. Deflate, what `np.savez_compressed` writes,
# compresses at most about 1,032 to 1; a member that claims more (or another compression) is refused unread.
MAX_NPZ_MEMBERS = 8
MAX_NPZ_ELEMENTS = MAX_CODE_CHECKS * MAX_CODE_QUBITS
MAX_NPZ_BYTES = 2 * MAX_NPZ_ELEMENTS * 8
MAX_COMPRESSION_RATIO = 1100


def load_css_code(path: str | Path, *, name: str | None = None) -> CssCode:
    """The CSS code in `path`: a `.npz` with hx and hz, or `HX.alist,HZ.alist`, named after the file unless
    `name` is given; or `bb:NAME`, a BB code of `qec.codes.bb` (e.g. `bb:108,8,10`) with its depth-8 cycle.
    Raises QecInputError (one line) on a missing, unreadable or malformed file, and on matrices `css` refuses."""
    text = str(path)
    if text.lower().startswith("bb:"):  # a BB code of the paper by name, with its own syndrome cycle
        from qec.codes.bb import bb_code

        return bb_code(text[3:])
    if "," in text and text.lower().endswith(".alist"):
        first, second = text.split(",", 1)
        hx, hz = read_alist(first), read_alist(second)
        stem = Path(first).stem
    elif text.lower().endswith(".npz"):
        hx, hz = read_npz(text)
        stem = Path(text).stem
    else:
        raise QecInputError(
            f"code file {text!r} must be a .npz with arrays hx and hz, or two alist files HX.alist,HZ.alist"
        )
    return css(hx, hz, name=name or stem or "css")


def _checked_file(path: str | Path) -> Path:
    file = Path(path)
    if not file.is_file():
        raise QecInputError(f"code file {str(file)!r} does not exist (or is not a file)")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise QecInputError(f"code file {str(file)!r} is larger than {MAX_FILE_BYTES:,} bytes")
    return file


def read_npz(path: str | Path) -> tuple[Any, Any]:
    """(hx, hz) from a `.npz` (dense arrays, or CSR parts); QecInputError if it is not one or lacks them."""
    file = _checked_file(path)
    check_npz_members(file)
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise QecInputError(f"code file {str(file)!r} is not a readable .npz: {error}") from None
    return _matrix(arrays, "hx", file), _matrix(arrays, "hz", file)


def check_npz_members(path: str | Path) -> None:
    """Refuses the `.npz` at `path`, before any array in it is loaded, when a member is not a plain `.npy` array
    (an object dtype, a header numpy cannot read) or would be too large: more than `MAX_NPZ_ELEMENTS` elements
    declared in its header, more than `MAX_NPZ_BYTES` in all once loaded or unpacked, a compression ratio over
    `MAX_COMPRESSION_RATIO` (a zip bomb), or more than `MAX_NPZ_MEMBERS` members. QecInputError, one line, with
    the size found and the limit.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "big.npz"
    >>> np.savez_compressed(path, hx=np.zeros((6_000, 6_000), dtype=np.uint8), hz=np.zeros((1, 1)))
    >>> check_npz_members(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: code file '...big.npz': member 'hx.npy' declares shape (6000, 6000), 3.6e+07 elements; ...
    """
    file = Path(path)
    where = f"code file {str(file)!r}"
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise QecInputError(
                    f"{where} holds {len(members):,} members; a .npz of check matrices holds at most "
                    f"{MAX_NPZ_MEMBERS} (hx and hz, or their CSR parts)"
                )
            unpacked = loaded = 0
            for member in members:
                unpacked += member.file_size
                loaded += _checked_member(archive, member, where)
                if unpacked > MAX_NPZ_BYTES or loaded > MAX_NPZ_BYTES:
                    raise QecInputError(
                        f"{where} would take about {approximate(max(unpacked, loaded))} bytes once read; "
                        f"the limit is {MAX_NPZ_BYTES:,}: give smaller matrices"
                    )
    except QecInputError:  # (a ValueError) already one line about this file
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise QecInputError(f"{where} is not a readable .npz: {reason}") from None


def _checked_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> int:
    """The bytes member `member`'s array takes once loaded, read from its `.npy` header only; QecInputError if its
    zip entry or header is refused (see `check_npz_members`)."""
    name = repr(member.filename)
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise QecInputError(
            f"{where}: member {name} uses zip compression method {member.compress_type}; np.savez writes stored or "
            "deflated members only: save the matrices with np.savez or np.savez_compressed"
        )
    if member.file_size > MAX_NPZ_BYTES:
        raise QecInputError(
            f"{where}: member {name} unpacks to {member.file_size:,} bytes; the limit is {MAX_NPZ_BYTES:,}"
        )
    ratio = member.file_size / max(1, member.compress_size)
    if ratio > MAX_COMPRESSION_RATIO:
        raise QecInputError(
            f"{where}: member {name} claims a compression ratio of {approximate(int(ratio))} to 1, more than deflate "
            f"gives (the limit is {MAX_COMPRESSION_RATIO:,}); it is a zip bomb or corrupt"
        )
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
        except ValueError:
            raise QecInputError(f"{where}: member {name} is not a .npy array (no numpy header)") from None
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise QecInputError(
                f"{where}: member {name} is a .npy of format version {version[0]}.{version[1]}; save it with "
                "np.savez (format 1.0 or 2.0)"
            )
    if dtype.hasobject or dtype.fields is not None or dtype.kind not in "biuf":
        raise QecInputError(
            f"{where}: member {name} has dtype {dtype}; check matrices hold integers, booleans or floats "
            "(never objects, which would need unpickling)"
        )
    elements = math.prod(shape)
    if elements > MAX_NPZ_ELEMENTS:
        raise QecInputError(
            f"{where}: member {name} declares shape {tuple(shape)}, {approximate(elements)} elements; the limit is "
            f"{MAX_NPZ_ELEMENTS:,} (a {MAX_CODE_CHECKS:,} x {MAX_CODE_QUBITS:,} matrix)"
        )
    return elements * dtype.itemsize


def _matrix(arrays: dict[str, np.ndarray], key: str, file: Path) -> Any:
    if key in arrays:
        return arrays[key]
    parts = [f"{key}_{part}" for part in ("data", "indices", "indptr", "shape")]
    if all(part in arrays for part in parts):
        from scipy.sparse import csr_matrix

        data, indices, indptr, shape_array = (arrays[part] for part in parts)
        shape_values = np.asarray(shape_array)
        if shape_values.size != 2 or shape_values.dtype.kind not in "iu":
            raise QecInputError(
                f"code file {str(file)!r}: {key}_shape must hold two integers (rows, columns), "
                f"got {shape_values.size} value(s) of dtype {shape_values.dtype}"
            )
        shape = tuple(int(v) for v in shape_values.ravel())
        if len(shape) != 2 or shape[0] > MAX_CODE_CHECKS or shape[1] > MAX_CODE_QUBITS or min(shape) < 0:
            raise QecInputError(f"code file {str(file)!r}: {key}_shape {shape} is not a matrix within the limits")
        try:
            matrix = csr_matrix((data, indices, indptr), shape=shape)
            matrix.check_format(full_check=True)  # indices within the shape (the constructor checks only lengths)
            return matrix
        except (ValueError, TypeError) as error:
            raise QecInputError(f"code file {str(file)!r}: {key} CSR parts are malformed: {error}") from None
    held = ", ".join(sorted(arrays)) or "none"
    raise QecInputError(f"code file {str(file)!r} has no array {key!r} (it holds {held})")


def save_check_matrices(path: str | Path, hx: np.ndarray, hz: np.ndarray, *, sparse: bool = False) -> None:
    """Writes hx and hz to the `.npz` at `path`: dense arrays, or CSR parts with `sparse=True`."""
    if not sparse:
        np.savez_compressed(path, hx=np.asarray(hx, dtype=np.uint8), hz=np.asarray(hz, dtype=np.uint8))
        return
    from scipy.sparse import csr_matrix

    parts: dict[str, np.ndarray] = {}
    for key, matrix in (("hx", hx), ("hz", hz)):
        csr = csr_matrix(np.asarray(matrix, dtype=np.uint8))
        parts.update(
            {
                f"{key}_data": csr.data,
                f"{key}_indices": csr.indices,
                f"{key}_indptr": csr.indptr,
                f"{key}_shape": np.array(csr.shape),
            }
        )
    np.savez_compressed(path, **parts)  # type: ignore[arg-type]


def read_alist(path: str | Path) -> np.ndarray:
    """The 0/1 matrix (uint8, M x N) of the alist file at `path`; QecInputError naming the file if malformed."""
    file = _checked_file(path)
    try:
        tokens = file.read_text(encoding="ascii").split()
        numbers = [int(token) for token in tokens]
    except (UnicodeDecodeError, ValueError):
        raise QecInputError(f"alist file {str(file)!r} must hold whitespace-separated integers only") from None

    def malformed(what: str) -> QecInputError:
        return QecInputError(f"alist file {str(file)!r} is malformed: {what}")

    if len(numbers) < 4:
        raise malformed("it needs N M, the largest column and row weights, and the weights")
    columns, rows, max_column, max_row = numbers[:4]
    if not (0 < columns <= MAX_CODE_QUBITS and 0 < rows <= MAX_CODE_CHECKS):
        raise malformed(f"N = {columns}, M = {rows} must be in 1..{MAX_CODE_QUBITS:,} and 1..{MAX_CODE_CHECKS:,}")
    if not (0 <= max_column <= rows and 0 <= max_row <= columns):
        raise malformed("the largest weights exceed the matrix size")
    position = 4
    column_weights = numbers[position : position + columns]
    position += columns
    row_weights = numbers[position : position + rows]
    position += rows
    if len(column_weights) < columns or len(row_weights) < rows:
        raise malformed("the file ends before the column and row weights")
    matrix = np.zeros((rows, columns), dtype=np.uint8)
    for j in range(columns):
        entries = numbers[position : position + max_column]
        position += max_column
        if len(entries) < max_column:
            raise malformed("the file ends inside the column lists")
        ones = [e for e in entries if e != 0]
        if len(ones) != column_weights[j] or not all(1 <= e <= rows for e in ones):
            raise malformed(f"column {j + 1} lists {ones}, not {column_weights[j]} row indices in 1..{rows}")
        matrix[np.array(ones, dtype=np.int64) - 1, j] = 1
    for i in range(rows):
        entries = numbers[position : position + max_row]
        position += max_row
        if len(entries) < max_row:
            raise malformed("the file ends inside the row lists")
        ones = sorted(e for e in entries if e != 0)
        if ones != (np.flatnonzero(matrix[i]) + 1).tolist() or len(ones) != row_weights[i]:
            raise malformed(f"row {i + 1}'s list does not match the column lists")
    return matrix


def write_alist(path: str | Path, matrix: np.ndarray) -> None:
    """Writes the 0/1 `matrix` (M x N) to `path` in alist format."""
    matrix = np.asarray(matrix, dtype=np.uint8)
    rows, columns = matrix.shape
    column_lists = [np.flatnonzero(matrix[:, j]) + 1 for j in range(columns)]
    row_lists = [np.flatnonzero(matrix[i]) + 1 for i in range(rows)]
    max_column = max((len(c) for c in column_lists), default=0)
    max_row = max((len(r) for r in row_lists), default=0)
    lines = [f"{columns} {rows}", f"{max_column} {max_row}"]
    lines.append(" ".join(str(len(c)) for c in column_lists))
    lines.append(" ".join(str(len(r)) for r in row_lists))
    lines += [" ".join(map(str, [*c.tolist(), *[0] * (max_column - len(c))])) for c in column_lists]
    lines += [" ".join(map(str, [*r.tolist(), *[0] * (max_row - len(r))])) for r in row_lists]
    Path(path).write_text("\n".join(lines) + "\n", encoding="ascii")


def css_family_from_file(path: str | Path) -> CodeFamily:
    """The family 'css' of the code in `path` (see `load_css_code`), registered with `register_family` so that
    `family("css")`, `memory_task("css", ...)` and `study_tasks("css", ...)` build its circuits in this process.
    Its one distance is `code_distance` with a fixed number of seeded trials: exact for small codes, otherwise
    an upper bound that is the same on every run (task ids depend on it)."""
    from qec.codes.distance import code_distance

    code = load_css_code(path)
    found = code_distance(code, trials=FAMILY_DISTANCE_TRIALS)
    user = css_family(code, distance=found.value or 1)
    register_family(user)
    return user

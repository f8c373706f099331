"""Tasks from a folder of .stim files, with metadata parsed from file names like `d=5,p=0.001,noise=sd6.stim`
(sinter's convention) or `d=5;p=0.001;noise=sd6.stim`. Other tools' keys (`error_rate`, `circuit`, ...) are
kept as they are named and mapped onto ours when the store is read (`qec.metadata`).

>>> from qec.circuit_files import metadata_from_name
>>> metadata_from_name("d=5,p=0.001,noise=sd6.stim")
{'d': 5, 'p': 0.001, 'noise': 'sd6', 'distance': 5}
>>> metadata_from_name("d=3;error_rate=0.01.stim")
{'d': 3, 'error_rate': 0.01, 'distance': 3}
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import stim

from qec.codes.size import CircuitSize
from qec.decoders import DecoderSpec
from qec.decoders.basis_inference import with_inferred_bases
from qec.errors import QecInputError
from qec.study import MAX_TASKS
from qec.task import Task
from qec.text import approximate

# A flattened circuit at the detector limit (10^6) is ~150 MB of text; written with REPEAT blocks, ~5 MB.
MAX_CIRCUIT_FILE_BYTES = 256 * 2**20


def metadata_from_name(name: str) -> dict:
    """`key=value` pairs separated by commas (sinter's convention) or semicolons in a file name; numbers become
    numbers."""
    if not isinstance(name, str):
        raise QecInputError(f"name must be a file name (str), got {type(name).__name__}")
    stem = name[: -len(".stim")] if name.endswith(".stim") else name
    metadata: dict = {}
    for part in re.split("[,;]", stem):
        if "=" in part:
            key, value = part.split("=", 1)
            metadata[key] = _number_or_text(value)
    if "distance" not in metadata and "d" in metadata:
        metadata["distance"] = metadata["d"]
    if "rounds" not in metadata and "r" in metadata:
        metadata["rounds"] = metadata["r"]
    return metadata


def _number_or_text(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def tasks_from_folder(folder: str | os.PathLike[str], *, decoder: str | DecoderSpec) -> list[Task]:
    """One task per .stim file in `folder`.

    Each file is checked before anything is sampled, and anything wrong is one QecInputError naming the
    file: not a regular file (a directory or FIFO named x.stim; FIFOs are never opened), unreadable, over
    `MAX_CIRCUIT_FILE_BYTES` (checked before reading), not UTF-8, not a Stim circuit, without observables,
    over a circuit size limit (`qec.codes.CircuitSize`: detectors, qubits, measurements, observables,
    gate applications; REPEAT blocks counted without flattening), or metadata in its name that `Task`
    refuses. At most `MAX_TASKS` files.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise QecInputError(f"folder must be a folder path (str or os.PathLike), got {type(folder).__name__}")
    if not isinstance(decoder, (str, DecoderSpec)):
        raise QecInputError(f"decoder must be a decoder name or a DecoderSpec, got {type(decoder).__name__}")
    folder = Path(folder)
    if not folder.is_dir():
        raise QecInputError(f"{folder} is not a folder of .stim files")
    try:
        files = sorted(itertools.islice(folder.glob("*.stim"), MAX_TASKS + 1))
    except OSError as error:
        raise QecInputError(f"cannot list {folder}: {error.strerror or error}") from None
    if not files:
        raise QecInputError(f"{folder} has no .stim files")
    if len(files) > MAX_TASKS:
        raise QecInputError(
            f"{folder} has more than {MAX_TASKS:,} .stim files; the limit is {MAX_TASKS:,} tasks: "
            "split it into several folders"
        )
    spec = decoder if isinstance(decoder, DecoderSpec) else DecoderSpec(decoder)
    return [_task_from_file(path, decoder=spec) for path in files]


def read_circuit(path: str | os.PathLike[str]) -> stim.Circuit:
    """The Stim circuit in the file `path`, refused (QecInputError naming the file) when it is not a regular
    readable UTF-8 file of at most `MAX_CIRCUIT_FILE_BYTES`, not a circuit, or over a circuit size limit."""
    if not isinstance(path, (str, os.PathLike)):
        raise QecInputError(f"path must be a file path (str or os.PathLike), got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():  # stat only: a FIFO is never opened
        kind = (
            "a folder"
            if path.is_dir()
            else "a broken symbolic link"
            if path.is_symlink() and not path.exists()
            else "missing"
            if not path.exists()
            else "not a regular file"
        )
        raise QecInputError(f"{path} is {kind}: give regular .stim files only (rename or move it)")
    try:
        size = path.stat().st_size
        if size > MAX_CIRCUIT_FILE_BYTES:
            raise QecInputError(
                f"{path} has {approximate(size)} bytes; the limit is {MAX_CIRCUIT_FILE_BYTES:,}: "
                "write its repeated rounds as REPEAT blocks, or split it"
            )
        data = path.read_bytes()
    except OSError as error:
        raise QecInputError(f"cannot read {path}: {error.strerror or error}: check its permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise QecInputError(f"{path} is not UTF-8 text (byte {error.start}): give a Stim circuit file") from None
    try:
        circuit = stim.Circuit(text)
    except ValueError as error:
        first_line = (str(error).strip().splitlines() or ["unreadable"])[0]
        raise QecInputError(f"{path} is not a valid Stim circuit: {first_line}") from None
    excess = CircuitSize.of(circuit).excess()
    if excess:
        raise QecInputError(f"{path} needs {' and '.join(excess)}: use a smaller circuit")
    return circuit


def _task_from_file(path: Path, *, decoder: DecoderSpec) -> Task:
    circuit = with_inferred_bases(read_circuit(path))  # a foreign circuit's bases, for basis-aware decoders
    if circuit.num_observables == 0:
        raise QecInputError(
            f"{path} has no OBSERVABLE_INCLUDE, so there is no logical error to count; add an observable to the circuit"
        )
    metadata = metadata_from_name(path.name)
    metadata.setdefault("file", path.name)
    try:
        return Task(circuit=circuit, decoder=decoder.name, metadata=metadata | decoder.metadata())
    except QecInputError as error:
        Task(
            circuit=circuit, decoder=decoder.name, metadata=decoder.metadata()
        )  # raises as it is when the decoder is at fault
        raise QecInputError(
            f"{path}: {error}; the metadata comes from the file name (key=value pairs like "
            "d=5,p=0.001.stim): rename the file"
        ) from None

"""Tasks from a folder of .stim files, with metadata parsed from file names like `d=5,p=0.001,noise=sd6.stim`.

>>> from qec.circuit_files import metadata_from_name
>>> metadata_from_name("d=5,p=0.001,noise=sd6.stim")
{'d': 5, 'p': 0.001, 'noise': 'sd6', 'distance': 5}
"""

from __future__ import annotations

from pathlib import Path

import stim

from qec.errors import QecInputError
from qec.task import Task


def metadata_from_name(name: str) -> dict:
    """`key=value` pairs separated by commas in a file name (sinter's convention); numbers become numbers."""
    stem = name[:-len(".stim")] if name.endswith(".stim") else name
    metadata: dict = {}
    for part in stem.split(","):
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


def tasks_from_folder(folder: str | Path, *, decoder: str) -> list[Task]:
    """One task per .stim file in `folder`; a malformed file or one without observables is a clear error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise QecInputError(f"{folder} is not a folder of .stim files")
    files = sorted(folder.glob("*.stim"))
    if not files:
        raise QecInputError(f"{folder} has no .stim files")
    tasks = []
    for path in files:
        try:
            circuit = stim.Circuit(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise QecInputError(f"{path} is not a valid Stim circuit: {str(error).splitlines()[0]}") from None
        if circuit.num_observables == 0:
            raise QecInputError(f"{path} has no OBSERVABLE_INCLUDE, so there is no logical error to count; "
                                "add an observable to the circuit")
        metadata = metadata_from_name(path.name)
        metadata.setdefault("file", path.name)
        tasks.append(Task(circuit=circuit, decoder=decoder, metadata=metadata))
    return tasks

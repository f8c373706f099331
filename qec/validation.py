"""What may enter a results store: plain-token names, JSON-object metadata with typed known keys, sane counts.

Every route into a store (a Python `Task`, a chunk from a worker, a sinter CSV row, a merge source, a
`.stim` file name) goes through these checks before anything is sampled or written, and the store
runs them again when it reads, so a bad row written by an older version or another tool is skipped
instead of crashing a read.

>>> from qec.validation import check_metadata, check_counts
>>> check_metadata({"distance": 5, "p": 0.001, "noise": "sd6"})
{'distance': 5, 'p': 0.001, 'noise': 'sd6'}
>>> check_metadata({"distance": "abc"})
Traceback (most recent call last):
...
qec.errors.QecInputError: metadata 'distance' must be an integer >= 1, got 'abc'
>>> check_counts(shots=100, errors=7, discards=0, seconds=0.5)
>>> check_counts(shots=100, errors=70, discards=40, seconds=0.5)
Traceback (most recent call last):
...
qec.errors.QecInputError: errors + discards (110) must not exceed shots (100)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, cast

from qec.errors import QecInputError
from qec.metadata import FOREIGN_KEYS

MAX_COUNT = 2**63 - 1  # SQLite's INTEGER
MAX_METADATA_BYTES = 65_536
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+\-]{0,127}")
# our keys, and the other tools' names that `qec.metadata` maps onto them at read time (checked alike)
_POSITIVE_INTEGER_KEYS = ("distance", "rounds", *FOREIGN_KEYS["distance"], *FOREIGN_KEYS["rounds"])
_PROBABILITY_KEYS = ("p", *FOREIGN_KEYS["p"])
_TEXT_KEYS = (
    "family",
    "noise",
    "basis",
    "pauli",
    "decoder",
    *FOREIGN_KEYS["family"],
    *FOREIGN_KEYS["noise"],
    *FOREIGN_KEYS["basis"],
)


def check_token(value: Any, *, name: str) -> str:
    """`value` if it is a plain token (letters, digits, `_ . : + -`, at most 128, not starting with a symbol).

    >>> check_token("pymatching", name="decoder")
    'pymatching'
    """
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise QecInputError(
            f"{name} must be a plain name (letters, digits, _ . : + -; at most 128 characters), got {_shown(value)}"
        )
    return value


def check_metadata(metadata: Any) -> dict:
    """`metadata` if it is a JSON object whose known keys have their types and ranges: distance, rounds (and the
    names other tools give them, `qec.metadata.FOREIGN_KEYS`: d, code_distance, r, num_rounds) integers in
    [1, 2^63); p (error_rate, physical_error_rate, noise_strength) a probability in [0, 1]; family, noise, basis,
    pauli, decoder (circuit, noise_model, b, memory_basis) text; no NaN or infinity anywhere; at most 64 KiB as
    JSON.

    >>> check_metadata({"d": 3, "error_rate": 2})
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: metadata 'error_rate' must be a probability in [0, 1], got 2
    """
    if not isinstance(metadata, dict):
        raise QecInputError(f'metadata must be a JSON object ({{"key": value, ...}}), got {_shown(metadata)}')
    try:
        text = json.dumps(metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise QecInputError(f"metadata must be JSON without NaN or infinity: {error}") from None
    if len(text) > MAX_METADATA_BYTES:
        raise QecInputError(f"metadata is {len(text):,} bytes of JSON; the limit is {MAX_METADATA_BYTES:,}")
    for key in _POSITIVE_INTEGER_KEYS:
        if key in metadata and not (_is_integer(metadata[key]) and 1 <= cast(int, metadata[key]) <= MAX_COUNT):
            raise QecInputError(f"metadata {key!r} must be an integer >= 1, got {_shown(metadata[key])}")
    for key in _PROBABILITY_KEYS:
        value = metadata.get(key)
        if key in metadata and not (_is_number(value) and 0 <= cast(float, value) <= 1):
            raise QecInputError(f"metadata {key!r} must be a probability in [0, 1], got {_shown(value)}")
    for key in _TEXT_KEYS:
        if key in metadata and not isinstance(metadata[key], str):
            raise QecInputError(f"metadata {key!r} must be text, got {_shown(metadata[key])}")
    return metadata


def canonical_json(metadata: dict) -> str:
    """The one JSON text of a metadata object (sorted keys, no spaces): what task ids hash and stores compare.

    >>> canonical_json({"p": 0.01, "d": 3})
    '{"d":3,"p":0.01}'
    """
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), allow_nan=False)


def check_counts(*, shots: Any, errors: Any, discards: Any, seconds: Any) -> None:
    """Counts are integers in [0, 2^63), errors + discards <= shots, seconds finite and >= 0."""
    for name, value in (("shots", shots), ("errors", errors), ("discards", discards)):
        if not (_is_integer(value) and 0 <= value <= MAX_COUNT):
            raise QecInputError(f"{name} must be an integer in [0, 2^63), got {_shown(value)}")
    if errors + discards > shots:
        raise QecInputError(f"errors + discards ({errors + discards}) must not exceed shots ({shots})")
    if not (_is_number(seconds) and 0 <= seconds < math.inf):
        raise QecInputError(f"seconds must be a finite number >= 0, got {_shown(seconds)}")


def check_sample_index(value: Any) -> int:
    """A chunk's index (>= 0: the seed index of a collected chunk; < 0: an imported row) as a 64-bit integer."""
    if not (_is_integer(value) and -MAX_COUNT - 1 <= value <= MAX_COUNT):
        raise QecInputError(f"a sample index must be a 64-bit integer, got {_shown(value)}")
    return value


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

"""Other tools' metadata keys mapped onto qec's, at read time: a sinter CSV or a folder of `.stim` files whose
metadata says `error_rate` and `d` plots like one of ours, which says `p` and `distance`.

The mapping never rewrites a stored row (the store is append-only, and task ids hash the metadata as it was
given): `mapped_metadata` returns a new dict with qec's keys added beside the foreign ones, which stay, so
`--where error_rate=0.01` still works. A key of ours that is already there wins; a foreign value of the wrong
type (a text `d`, an `error_rate` outside [0, 1]) is not mapped.

| qec key    | taken from, first one present   | value                                                  |
|------------|---------------------------------|--------------------------------------------------------|
| `p`        | `error_rate`, `physical_error_rate`, `noise_strength` | a number in [0, 1]                |
| `distance` | `d`, `code_distance`            | an integer >= 1                                        |
| `rounds`   | `r`, `num_rounds`               | an integer >= 1                                        |
| `noise`    | `noise_model`                   | text                                                   |
| `basis`    | `b`, `memory_basis`             | `x`, `y` or `z` in either case, written upper-case     |
| `family`   | `circuit`                       | text; a Stim generated-circuit name becomes the family |

`family` is qec's code family (surface, repetition, ...). `circuit` is what sinter users (and Stim's
getting-started notebook) call the kind of circuit, often one of `stim.Circuit.generated`'s names; those map
to our family (`repetition_code:memory` -> `repetition`, `surface_code:rotated_memory_x` -> `surface` with
basis X, `surface_code:unrotated_memory_z` -> `unrotated-surface`, `color_code:memory_xyz` -> `color`) and
any other text is taken as the family name as it is. `code` is *not* mapped: it names one code (a BB code,
a CSS code given by its matrices), a finer thing than a family, and stays a key of its own to group by.

>>> mapped_metadata({"d": 3, "error_rate": 0.01, "circuit": "rep"})
{'d': 3, 'error_rate': 0.01, 'circuit': 'rep', 'p': 0.01, 'distance': 3, 'family': 'rep'}
>>> named = mapped_metadata({"circuit": "surface_code:rotated_memory_x"})
>>> named["family"], named["basis"]
('surface', 'X')
"""

from __future__ import annotations

import math
from typing import Any, Mapping

# qec key -> the foreign keys it is read from, in order of preference
FOREIGN_KEYS: dict[str, tuple[str, ...]] = {
    "p": ("error_rate", "physical_error_rate", "noise_strength"),
    "distance": ("d", "code_distance"),
    "rounds": ("r", "num_rounds"),
    "noise": ("noise_model",),
    "basis": ("b", "memory_basis"),
    "family": ("circuit",),
}

# Stim's generated-circuit names (`stim.Circuit.generated`) -> (family, basis or None)
STIM_GENERATED = {
    "repetition_code:memory": ("repetition", None),
    "surface_code:rotated_memory_x": ("surface", "X"),
    "surface_code:rotated_memory_z": ("surface", "Z"),
    "surface_code:unrotated_memory_x": ("unrotated-surface", "X"),
    "surface_code:unrotated_memory_z": ("unrotated-surface", "Z"),
    "color_code:memory_xyz": ("color", None),
}


def mapped_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """`metadata` with qec's keys added from the foreign ones of the module's table (the input is not changed).

    >>> mapped_metadata({"r": 5, "noise_model": "si1000", "b": "z"})
    {'r': 5, 'noise_model': 'si1000', 'b': 'z', 'rounds': 5, 'noise': 'si1000', 'basis': 'Z'}
    >>> mapped_metadata({"d": 3, "distance": 5})["distance"]
    5
    """
    result = dict(metadata)
    for key, foreign in FOREIGN_KEYS.items():
        if key in result:
            continue
        for name in foreign:
            value = _converted(key, metadata.get(name))
            if value is not None:
                result[key] = value
                break
    circuit = metadata.get("circuit")
    if isinstance(circuit, str) and circuit in STIM_GENERATED and "family" not in metadata:
        family, basis = STIM_GENERATED[circuit]
        result["family"] = family
        if basis is not None and "basis" not in result:
            result["basis"] = basis
    return result


def _converted(key: str, value: Any) -> Any:
    """`value` as the type qec's `key` has, or None when it cannot be."""
    if value is None or isinstance(value, bool):
        return None
    if key == "p":
        return float(value) if isinstance(value, (int, float)) and 0 <= value <= 1 else None
    if key in ("distance", "rounds"):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        return value if isinstance(value, int) and value >= 1 else None
    if key == "basis":
        return value.upper() if isinstance(value, str) and value.lower() in ("x", "y", "z") else None
    return value if isinstance(value, str) and value else None

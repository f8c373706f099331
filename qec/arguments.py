"""The Python API's argument checks: a wrong type raises QecInputError naming the parameter, never TypeError or
AttributeError from deep inside; NumPy scalars are taken where a Python int or float is meant.

>>> integer(np.int64(3), name="distance")
3
>>> integer(3.0, name="distance")
Traceback (most recent call last):
...
qec.errors.QecInputError: distance=3.0 is not an integer: give a Python or NumPy integer (not a float or bool)
>>> integers([3, np.int32(5)], name="distances")
[3, 5]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from qec.errors import QecInputError

MAX_ITEMS = 100_000  # the most values a list argument may hold (a study's distances x p values is far below)


def plain(value: Any) -> Any:
    """`value` with a NumPy scalar made the Python scalar it holds (np.int64 -> int, np.float64 -> float,
    np.bool_ -> bool, np.str_ -> str); anything else unchanged."""
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        return value.item()
    return value


def integer(value: Any, *, name: str) -> int:
    """`value` as an int: a Python or NumPy integer, not a bool, float or anything else."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise QecInputError(
            f"{name}={_shown(value)} is not an integer: give a Python or NumPy integer (not a float or bool)"
        )
    return value


def number(value: Any, *, name: str) -> float:
    """`value` as a finite float: a Python or NumPy int or float, not a bool, NaN or infinity."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise QecInputError(f"{name}={_shown(value)} is not a finite number: give an int or float")
    return float(value)


def listed(values: Any, *, name: str) -> list[Any]:
    """`values` as a list: any iterable but a string, bytes or mapping, of at most `MAX_ITEMS` items."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise QecInputError(f"{name}={_shown(values)} is not a list: give a list (or other iterable) of values")
    items = []
    for item in values:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise QecInputError(f"{name} holds more than {MAX_ITEMS:,} values; give fewer")
    return items


def integers(values: Any, *, name: str) -> list[int]:
    """`values` as a list of ints (see `integer`)."""
    return [integer(v, name=f"{name}[{i}]") for i, v in enumerate(listed(values, name=name))]


def numbers(values: Any, *, name: str) -> list[float]:
    """`values` as a list of finite floats (see `number`)."""
    return [number(v, name=f"{name}[{i}]") for i, v in enumerate(listed(values, name=name))]


def instances(values: Any, kind: type, *, name: str) -> list[Any]:
    """`values` as a list whose items are all instances of `kind`."""
    items = listed(values, name=name)
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise QecInputError(
                f"{name}[{i}] is a {type(item).__name__}, not a {kind.__name__}: give a list of {kind.__name__}s"
            )
    return items


def instance_or_none(value: Any, kind: type | tuple[type, ...], *, name: str) -> Any:
    """`value` unless it is neither None nor an instance of `kind`."""
    if value is not None and not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise QecInputError(f"{name} is a {type(value).__name__}, not a {wanted} (or None)")
    return value


def callable_or_none(value: Any, *, name: str) -> Any:
    """`value` unless it is neither None nor callable."""
    if value is not None and not callable(value):
        raise QecInputError(f"{name} is a {type(value).__name__}, not a function (or None)")
    return value


def known_keywords(given: Iterable[str], allowed: Iterable[str], *, function: str) -> None:
    """Refuses keyword names in `given` that are not in `allowed`, naming them and the allowed ones."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise QecInputError(
            f"{function}() takes no keyword {', '.join(map(repr, unknown))}: its keywords are "
            f"{', '.join(sorted(allowed))}"
        )


def _shown(value: Any) -> str:
    """`value`'s repr, cut to 60 characters."""
    try:
        text = repr(value)
    except Exception:  # a repr that fails is the caller's object's problem, not a reason for a traceback here
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."

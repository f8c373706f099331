"""Every decoder of qec behind sinter's `Decoder` interface, looked up by name.

>>> from qec import decoders
>>> decoder = decoders.get("pymatching")
>>> "pymatching" in decoders.names()
True
"""

from __future__ import annotations

from typing import Callable

import sinter

from qec.errors import QecInputError

_FACTORIES: dict[str, Callable[[], sinter.Decoder]] = {}


def register(name: str, factory: Callable[[], sinter.Decoder]) -> None:
    """Makes `get(name)` return `factory()`."""
    _FACTORIES[name] = factory


def names() -> list[str]:
    """The names `get` accepts."""
    return sorted(_FACTORIES)


def get(name: str) -> sinter.Decoder:
    """Returns the decoder called `name` as a `sinter.Decoder`.

    Raises QecInputError listing the known names when `name` is unknown.
    """
    if name not in _FACTORIES:
        raise QecInputError(f"unknown decoder {name!r}: choose one of {', '.join(names())}")
    return _FACTORIES[name]()


def sinter_decoders() -> dict[str, sinter.Decoder]:
    """All of qec's decoders by name, for `sinter collect --custom_decoders_module_function`."""
    return {name: get(name) for name in names()}


def _register_builtin() -> None:
    from qec.decoders.matching import PyMatchingDecoder

    register("pymatching", PyMatchingDecoder)


_register_builtin()

"""Every decoder of qec behind sinter's `Decoder` interface, looked up by name.

- `pymatching`: MWPM (PyMatching's sparse blossom), the reference; graphlike DEMs.
- `pymatching-correlated`: PyMatching's two-pass correlated matching, where the installed version has it.
- `uf`: union-find with weighted growth and peeling (Numba); graphlike DEMs.
- `bposd`: min-sum belief propagation, then OSD-CS where BP does not converge (Numba); any DEM, hyperedges too.
- `bp`: the same decoder without OSD (`BpOsdDecoder(osd_method=None)`, built by `bp_osd.bp_decoder`).
- `relay`: Relay-BP (Müller et al., arXiv:2506.01779): memory BP in a relay of legs with disordered memory
  strengths, keeping the lightest of `num_solutions` solutions (Numba); any DEM, hyperedges too.
- `lookup`: the most likely error per syndrome, tabulated; small DEMs (<= 20 detectors), the tests' ground truth.

`bp`, `bposd`, `relay` and `lookup` are basis-aware (`qec.decoders.basis`): on a CSS memory DEM whose
detectors and observables carry Stim `basis=X|Z` tags (as `qec.codes.css` circuits do), they decode
only the measured basis's detectors and the errors restricted to them; `basis_aware=False` turns it off.

Every decoder takes degenerate DEMs (no detectors, no errors, no observables, probabilities 0, 1/2,
above 1/2 or 1) and passes sinter's own decoder test suite (tests/decoders/test_sinter_suite.py),
except where it refuses, with a QecInputError that names a decoder to use instead:

- `lookup` refuses DEMs of more than `max_detectors` (20) detectors, or more than 64 observables.
- `pymatching`, `pymatching-correlated` and `uf` refuse errors that flip more than two detectors
  (undecomposed hyperedges); sinter's suite decomposes its DEMs, so it never meets this refusal.

PyMatching raises ValueError on a syndrome that no set of the DEM's errors can produce (so never on
sampled shots); the other decoders return a prediction for it.

>>> from qec import decoders
>>> decoder = decoders.get("pymatching")
>>> "pymatching" in decoders.names()
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import sinter

from qec.errors import unknown_choice

Factory = Callable[[], sinter.Decoder] | str
_FACTORIES: dict[str, Factory] = {}


def register(name: str, factory: Factory) -> None:
    """Makes `get(name)` return `factory()`; a "module:attribute" string (a class or a function called
    with no arguments) is imported on first use, so that a worker process loads only the decoders it
    runs (the Numba ones take a while to import)."""
    _FACTORIES[name] = factory


def names() -> list[str]:
    """The names `get` accepts."""
    return sorted(_FACTORIES)


def get(name: str) -> sinter.Decoder:
    """Returns the decoder called `name` as a `sinter.Decoder`.

    Raises QecInputError listing the known names when `name` is unknown.
    """
    if name not in _FACTORIES:
        raise unknown_choice("decoder", name, names())
    factory = _FACTORIES[name]
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        factory = _FACTORIES[name] = getattr(importlib.import_module(module), attribute)
    return factory()


def sinter_decoders() -> dict[str, sinter.Decoder]:
    """All of qec's decoders by name, for `sinter collect --custom_decoders_module_function`."""
    return {name: get(name) for name in names()}


def _register_builtin() -> None:
    from qec.decoders.matching import SUPPORTS_CORRELATIONS, CorrelatedPyMatchingDecoder, PyMatchingDecoder

    register("pymatching", PyMatchingDecoder)
    if SUPPORTS_CORRELATIONS:
        register("pymatching-correlated", CorrelatedPyMatchingDecoder)
    register("uf", "qec.decoders.union_find:UnionFindDecoder")
    register("bp", "qec.decoders.bp_osd:bp_decoder")
    register("bposd", "qec.decoders.bp_osd:BpOsdDecoder")
    register("lookup", "qec.decoders.lookup:LookupDecoder")
    register("relay", "qec.decoders.relay:RelayBpDecoder")


_register_builtin()

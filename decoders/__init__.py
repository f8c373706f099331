"""Every decoder of qec behind sinter's `Decoder` interface, looked up by name.

- `pymatching`: MWPM (PyMatching's sparse blossom), the reference; graphlike DEMs.
- `pymatching-correlated`: PyMatching's two-pass correlated matching, where the installed version has it.
- `pymatching-ordered`: the cnot experiment's two blocks matched one after the other, the first's matched faults'
  flips moved into the second's detectors (`qec.decoders.ordered_matching`); other DEMs matched whole.
- `uf`: union-find with weighted growth and peeling (Numba); graphlike DEMs.
- `bposd`: min-sum belief propagation, then OSD-CS where BP does not converge (Numba); any DEM, hyperedges too.
- `bp`: the same decoder without OSD (`BpOsdDecoder(osd_method=None)`, built by `bp_osd.bp_decoder`).
- `relay`: Relay-BP (Müller et al., arXiv:2506.01779): memory BP in a relay of legs with disordered memory
  strengths, keeping the lightest of `num_solutions` solutions (Numba); any DEM, hyperedges too.
- `lookup`: the most likely error per syndrome, tabulated; small DEMs (<= 20 detectors), the tests' ground truth.

The field's decoders (`qec.decoders.field`, the `decoders` extra: `pip install "qec-toolkit[decoders]"`), listed
by `names()` only where their package is installed and refused with that command where not:

- `tesseract`: Tesseract's A* search for the most likely error (tesseract-decoder), its "long beam" by default;
  any DEM, hyperedges too.
- `chromobius`: Chromobius's Möbius matching for colour codes whose detectors carry their colour and basis as
  4th coordinate.
- `mwpf`: hypergraph minimum-weight parity factor (mwpf); any DEM, hyperedges too.
- `fusion-blossom`: MWPM by Fusion Blossom; graphlike DEMs.
- `bplsd`: ldpc's BP+LSD, belief propagation then localised statistics decoding; any DEM, hyperedges too.

`bp`, `bposd`, `relay` and `lookup` are basis-aware (`qec.decoders.basis`): on a CSS memory DEM whose
detectors and observables carry Stim `basis=X|Z` tags (as `qec.codes.css` circuits do), they decode
only the measured basis's detectors and the errors restricted to them; `basis_aware=False` turns it off.

Every decoder takes degenerate DEMs (no detectors, no errors, no observables, probabilities 0, 1/2,
above 1/2 or 1) and passes sinter's own decoder test suite (tests/decoders/test_sinter_suite.py),
except where it refuses, with a QecInputError that names a decoder to use instead:

- `lookup` refuses DEMs of more than `max_detectors` (20) detectors, or more than 64 observables.
- `pymatching`, `pymatching-correlated`, `uf` and `fusion-blossom` refuse errors that flip more than two detectors
  (undecomposed hyperedges); sinter's suite decomposes its DEMs, so it never meets this refusal.
- `chromobius` refuses a DEM (and `check_circuit` a circuit) with a detector whose 4th coordinate is not a
  Chromobius colour, naming the colour-code family to build it with or 'bposd' / 'tesseract' instead; sinter's
  suite circuits have none, so its four tests with decodable errors are skipped for it (sinter_suite_plugin.REFUSALS).

PyMatching raises ValueError on a syndrome that no set of the DEM's errors can produce (so never on
sampled shots); the other decoders return a prediction for it (`fusion-blossom`, `mwpf` and `bplsd`: no flip,
where their packages would panic, hang or crash).

A compiled decoder that can say how sure it is also has `decode_shots_with_gap(*, bit_packed_detection_event_data)
-> (predictions, gaps)`: predictions as `decode_shots_bit_packed`'s (uint8 (shots, ceil(observables / 8)),
little-endian), gaps float64 (shots,), the complementary gap in dB: 10 log10 of the likelihood ratio of the most
likely correction and the most likely one in any other logical class (0: a coin flip; larger: surer; inf: no other
class). A `sinter.Decoder` whose compiled decoders have it says so with a class attribute `decodes_with_gap = True`;
`gives_gap` tells either. `pymatching` gives it exactly (`qec.decoders.matching_gap`), `bposd` as OSD finds it
(`BpOsdCompiledDecoder.decode_shots_with_gap`); a task's `postselect_gap` discards the shots whose gap is below it.

Each decoder is one entry of the registry (`DecoderEntry`: name, factory, description, and the `requires`, `package`
and `install` command of a peer package); its options are the factory's keyword arguments, so `qec codes` lists
them and `--decoder-option KEY=VALUE` sets them. A
`DecoderSpec` is a decoder's name and the options it is built with, recorded whole in a task's metadata
(`decoder_options`). A decoder of one's own is one `register` call (or an object handed to the study as
`custom_decoders`, as sinter takes them); the engine builds the decoder object in the main process and sends it
to the workers by value, so it runs under fork, spawn and Dask alike.

>>> from qec import decoders
>>> decoder = decoders.get("pymatching")
>>> "pymatching" in decoders.names()
True
>>> spec = decoders.DecoderSpec.parse("bposd", ["osd_order=4", "max_iterations=50"])
>>> spec.options, type(spec.build()).__name__, spec.build().osd_order
({'max_iterations': 50, 'osd_order': 4}, 'BpOsdDecoder', 4)
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sinter

from qec.errors import QecInputError, unknown_choice
from qec.validation import check_token

Factory = Callable[..., sinter.Decoder] | str
# Option values a spec may hold: what JSON metadata records and a flag can give.
OptionValue = bool | int | float | str | None | tuple
# How the decoders that wrap peer packages are installed (the `decoders` extra of this distribution).
INSTALL_DECODERS = 'pip install "qec-toolkit[decoders]"'


@dataclass(kw_only=True)
class DecoderEntry:
    """One decoder of the registry: its `name`, a `factory` called with the decoder's options as keyword
    arguments (a class or function; or "module:attribute", imported on first use so that a worker loads only
    the decoders it runs), a one-line `description`, and for a decoder that wraps a peer package the top-level
    module names it `requires`, the `package` that provides them and the command that `install`s it.

    >>> entry = DecoderEntry(name="x", factory="x:X", requires=("no_such_module",), package="x-decoder")
    >>> entry.installed()
    False
    >>> print(entry.missing())
    decoder 'x' needs the x-decoder package: pip install "qec-toolkit[decoders]"
    """

    name: str
    factory: Factory
    description: str = ""
    requires: tuple[str, ...] = ()
    package: str = ""
    install: str = INSTALL_DECODERS

    def installed(self) -> bool:
        """Whether every module in `requires` can be imported (found by `importlib.util.find_spec`, not imported)."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def missing(self) -> str:
        """The one-line message for a decoder whose `requires` are not installed."""
        package = self.package or " and ".join(self.requires)
        return f"decoder {self.name!r} needs the {package} package: {self.install}"

    def resolved(self) -> Callable[..., sinter.Decoder]:
        """The factory itself, imported if it was given as "module:attribute"."""
        if isinstance(self.factory, str):
            module, _, attribute = self.factory.partition(":")
            self.factory = getattr(importlib.import_module(module), attribute)
        assert not isinstance(self.factory, str)
        return self.factory

    def options(self) -> dict[str, Any]:
        """The options the factory takes (its keyword arguments) with their defaults (`inspect.Parameter.empty`
        for a required one)."""
        try:
            parameters = inspect.signature(self.resolved()).parameters.values()
        except (TypeError, ValueError):  # a builtin or C factory: no options known
            return {}
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return {parameter.name: parameter.default for parameter in parameters if parameter.kind in kinds}


_REGISTRY: dict[str, DecoderEntry] = {}


def register(
    name: str,
    factory: Factory,
    *,
    description: str = "",
    requires: Iterable[str] = (),
    package: str = "",
    install: str = INSTALL_DECODERS,
) -> None:
    """Makes `get(name, **options)` return `factory(**options)`: a decoder of one's own is this one call.

    `factory` is a `sinter.Decoder` class or a function returning one, or a "module:attribute" string imported on
    first use. `requires` names the top-level modules the decoder imports (a peer package, `package` on the index,
    installed with `install`): while one is missing, `names()` leaves the decoder out and `get` refuses it with
    that command. Registering a name again replaces it.
    """
    if not isinstance(name, str) or not name:
        raise QecInputError(f"a decoder's name must be non-empty text, got {name!r}")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise QecInputError(
            f"decoder {name!r}: the factory must be a sinter.Decoder class, a function returning one, or "
            f"'module:attribute', got {factory!r}"
        )
    requires = (requires,) if isinstance(requires, str) else tuple(requires)
    _REGISTRY[name] = DecoderEntry(
        name=name, factory=factory, description=description, requires=requires, package=package, install=install
    )


def names() -> list[str]:
    """The names `get` accepts: the registered decoders whose required packages are installed."""
    return sorted(name for name, registered in _REGISTRY.items() if registered.installed())


def entry(name: str) -> DecoderEntry:
    """The registry entry called `name`; QecInputError listing the known names when there is none, or giving the
    install command when the decoder's package is not installed."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise unknown_choice("decoder", name, names())
    registered = _REGISTRY[name]
    if not registered.installed():
        raise QecInputError(registered.missing())
    return registered


def get(name: str, **options: Any) -> sinter.Decoder:
    """Returns the decoder called `name`, built with `options`, as a `sinter.Decoder`.

    Raises QecInputError listing the known names when `name` is unknown, and naming the option when an option
    is unknown or refused.
    """
    return DecoderSpec(name, options).build()


def gives_gap(decoder: Any) -> bool:
    """Whether `decoder` gives per-shot gaps: a compiled decoder with `decode_shots_with_gap`, or a `sinter.Decoder`
    (class or object) whose compiled decoders have it (`decodes_with_gap = True`).

    >>> gives_gap(get("pymatching")), gives_gap(get("uf"))
    (True, False)
    """
    compiled = callable(getattr(decoder, "decode_shots_with_gap", None))
    return compiled or getattr(decoder, "decodes_with_gap", False) is True


def sinter_decoders() -> dict[str, sinter.Decoder]:
    """All of qec's decoders by name, for `sinter collect --custom_decoders_module_function`."""
    return {name: get(name) for name in names()}


@dataclass(frozen=True)
class DecoderSpec:
    """A decoder's name and the options it is built with: what a task records (`metadata()`) and a worker
    builds (`build()`). Options are checked against the factory's keyword arguments at construction.

    >>> DecoderSpec("relay", {"num_solutions": 3}).metadata()
    {'decoder_options': {'num_solutions': 3}}
    >>> DecoderSpec("uf", {"granularity": 0})
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: decoder 'uf' refuses its options: granularity must be a whole number >= 1, got 0
    """

    name: str = "pymatching"
    options: Mapping[str, OptionValue] = field(default_factory=dict)

    def __post_init__(self):
        if not self.options and isinstance(self.name, str) and self.name not in _REGISTRY:
            check_token(self.name, name="decoder")
            return  # a name the study's custom_decoders give an object for (checked when the study starts)
        known = entry(self.name).options()
        if not isinstance(self.options, Mapping):
            raise QecInputError(f"decoder options must be a mapping of option names to values, got {self.options!r}")
        unknown = [key for key in self.options if key not in known]
        if unknown:
            listed = ", ".join(known) or "none"
            raise QecInputError(f"decoder {self.name!r} has no option {unknown[0]!r}: its options are {listed}")
        checked = {key: _checked_value(self.name, key, self.options[key], known[key]) for key in sorted(self.options)}
        object.__setattr__(self, "options", checked)
        self.build()  # a value the decoder refuses fails here, in the caller's terms

    def __hash__(self) -> int:
        return hash((self.name, json.dumps(self.metadata(), sort_keys=True)))

    @staticmethod
    def parse(name: str, assignments: Iterable[str] = ()) -> DecoderSpec:
        """The spec of decoder `name` with options given as KEY=VALUE texts (a `--decoder-option` each); VALUE is
        read as JSON (numbers, true/false, null, [a, b] for a pair), else as text. Never evaluated.

        >>> DecoderSpec.parse("relay", ["gamma_interval=[-0.2, 0.6]", "seed=3"]).options
        {'gamma_interval': (-0.2, 0.6), 'seed': 3}
        """
        options: dict[str, OptionValue] = {}
        for text in assignments:
            key, equals, value = str(text).partition("=")
            if not equals or not key.strip():
                raise QecInputError(f"decoder option {text!r} is not KEY=VALUE: write e.g. osd_order=10")
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = value
            options[key.strip()] = tuple(parsed) if isinstance(parsed, list) else parsed
        return DecoderSpec(name, options)

    @staticmethod
    def from_metadata(name: str, metadata: Mapping[str, Any]) -> DecoderSpec:
        """The spec a task's metadata records (`metadata()`'s inverse)."""
        options = metadata.get("decoder_options", {})
        if not isinstance(options, Mapping):
            raise QecInputError(f"metadata 'decoder_options' must be an object of options, got {options!r}")
        return DecoderSpec(name, dict(options))

    def metadata(self) -> dict[str, Any]:
        """`{"decoder_options": {...}}` when options are given (lists for tuples, as JSON has them), else `{}`."""
        if not self.options:
            return {}
        return {
            "decoder_options": {
                key: list(value) if isinstance(value, tuple) else value for key, value in self.options.items()
            }
        }

    def build(self) -> sinter.Decoder:
        """The decoder object, as the registry's factory makes it with these options."""
        entry(self.name)  # an unknown name: the error lists the known ones
        try:
            return entry(self.name).resolved()(**self.options)
        except QecInputError as error:
            raise QecInputError(f"decoder {self.name!r} refuses its options: {error}") from None
        except (TypeError, ValueError) as error:
            raise QecInputError(f"decoder {self.name!r} refuses its options {dict(self.options)}: {error}") from None

    def describe(self) -> str:
        """`name` or `name(key=value, ...)`."""
        if not self.options:
            return self.name
        return f"{self.name}({', '.join(f'{key}={value!r}' for key, value in self.options.items())})"


def _checked_value(decoder: str, key: str, value: Any, default: Any) -> OptionValue:
    """`value` if JSON can record it (a finite number, bool, text, None, or a tuple of those) and it has the kind
    of the option's default (an integer for an integer option, a number for a float one, true/false for a
    switch, a list for a tuple); lists become tuples, integers for a float option floats."""
    if isinstance(value, list):
        value = tuple(value)
    kinds = [
        (bool, lambda v: isinstance(v, bool), "true or false"),
        (int, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
        (float, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
        (tuple, lambda v: isinstance(v, tuple), "a list"),
    ]
    for kind, accepts, wanted in kinds:
        if type(default) is kind and not accepts(value):
            raise QecInputError(f"decoder {decoder!r} option {key!r} must be {wanted}, got {value!r}")
    if type(default) is float:
        value = float(value)
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            raise QecInputError(f"decoder {decoder!r} option {key!r} must be finite, got {item!r}")
        if not isinstance(item, (bool, int, float, str, type(None))):
            raise QecInputError(
                f"decoder {decoder!r} option {key!r} must be a number, true/false, text or a list of them, got "
                f"{type(item).__name__}"
            )
    return value


def _register_builtin() -> None:
    from qec.decoders.matching import SUPPORTS_CORRELATIONS, CorrelatedPyMatchingDecoder, PyMatchingDecoder

    register("pymatching", PyMatchingDecoder, description="MWPM (PyMatching's sparse blossom); graphlike DEMs")
    if SUPPORTS_CORRELATIONS:
        register(
            "pymatching-correlated",
            CorrelatedPyMatchingDecoder,
            description="PyMatching's two-pass correlated matching; graphlike DEMs",
        )
    register(
        "pymatching-ordered",
        "qec.decoders.ordered_matching:OrderedMatchingDecoder",
        description="PyMatching on one block, its faults' flips moved into the other block's detectors, then "
        "PyMatching on that block: joint decoding of the cnot experiment at matching's speed",
    )
    register(
        "uf",
        "qec.decoders.union_find:UnionFindDecoder",
        description="union-find with weighted growth and peeling (Numba); graphlike DEMs",
    )
    register("bp", "qec.decoders.bp_osd:bp_decoder", description="min-sum BP alone (Numba); any DEM")
    register(
        "bposd",
        "qec.decoders.bp_osd:BpOsdDecoder",
        description="min-sum BP, then OSD-CS where BP does not converge (Numba); any DEM",
    )
    register(
        "lookup",
        "qec.decoders.lookup:LookupDecoder",
        description="most likely error per syndrome, tabulated; <= 20 detectors",
    )
    register(
        "blocks",
        "qec.decoders.blocks:SeparateBlocksDecoder",
        description="each code block (detector tag block=N, as the cnot experiment writes) decoded alone by "
        "`decoder`, predictions added; a DEM without block tags decoded whole",
    )
    register(
        "relay",
        "qec.decoders.relay:RelayBpDecoder",
        description="Relay-BP (Mueller et al. 2025), lightest of num_solutions solutions (Numba); any DEM",
    )


def _register_field() -> None:
    """The field's decoders (`qec.decoders.field`), listed where their package is installed (the `decoders` extra)."""
    field = {
        "tesseract": (
            "TesseractDecoder",
            "tesseract_decoder",
            "tesseract-decoder",
            "A* search for the most likely error, long beam (Tesseract); any DEM",
        ),
        "chromobius": (
            "ChromobiusDecoder",
            "chromobius",
            "chromobius",
            "Mobius matching for colour codes (Chromobius); DEMs whose detectors carry colours",
        ),
        "mwpf": ("MwpfDecoder", "mwpf", "mwpf", "hypergraph minimum-weight parity factor (MWPF); any DEM"),
        "fusion-blossom": (
            "FusionBlossomDecoder",
            "fusion_blossom",
            "fusion-blossom",
            "MWPM (Fusion Blossom); graphlike DEMs",
        ),
        "bplsd": ("BpLsdDecoder", "ldpc", "ldpc", "BP, then localised statistics decoding (ldpc's BP+LSD); any DEM"),
    }
    for name, (attribute, module, package, description) in field.items():
        register(
            name,
            f"qec.decoders.field:{attribute}",
            description=description,
            requires=(module,),
            package=package,
        )


_register_builtin()
_register_field()

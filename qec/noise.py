"""Noise models as transforms of a noiseless memory circuit, so any code gets any noise.

The input is a noiseless circuit laid out in layers separated by TICKs, whose check ancillas are
measured with MR (measure-reset) and whose data qubits are the other qubits (measured with M/MX at the
end), as every `qec.codes` circuit is. A *round* starts at each TICK that follows a layer with a reset.
Every channel is applied at one of these places, with strength `multiplier * p`:

| place                                   | field               | channel                                  |
|-----------------------------------------|---------------------|------------------------------------------|
| after each 1-qubit Clifford (H, C_XYZ)  | `clifford_1q`       | Pauli channel on the qubit               |
| after each 2-qubit Clifford (CX, CZ)    | `clifford_2q`       | DEPOLARIZE2 (or the Pauli channel on each)|
| after each reset R/RX (and MR's reset)  | `reset`             | X_ERROR (Z_ERROR after RX): wrong state  |
| before each ancilla measurement (MR)    | `ancilla_measure`   | X_ERROR (Z_ERROR before MRX): flipped    |
| before each data measurement (M, MX)    | `data_measure`      | X_ERROR (Z_ERROR before MX): flipped     |
| on qubits idle in a gate layer          | `idle`              | Pauli channel                            |
| on qubits idle in a measure/reset layer | `resonator_idle`    | Pauli channel                            |
| on data qubits at the start of a round  | `round_data`        | Pauli channel (first round only, if set) |

The Pauli channel is DEPOLARIZE1(q) for `pauli="depolarizing"`, X_ERROR(q) and Z_ERROR(q) for
`"independent"`, and PAULI_CHANNEL_1(q/(2(1+eta)), q/(2(1+eta)), q*eta/(1+eta)) for `"biased"`
(Z bias eta = p_z / (p_x + p_y); eta = 0.5 is depolarizing, eta = inf is pure dephasing: Z_ERROR(q)).

**Heralded errors.** Every model takes an `erasure_fraction` R_e in [0, 1] (default 0; the heralded families'
default is 0.98, the share Wu, Kolkowitz, Puri and Thompson, Nat. Commun. 13, 4657 (2022) convert): at each place
the unheralded channel keeps strength (1 - R_e) q and a heralded error of strength R_e q is added, on each of the
place's qubits (both qubits of a two-qubit gate: Wu et al. replace both atoms of a gate that suffered an erasure;
Stim's erasure is one qubit's, so each is erased with R_e q on its own, the same erasures per gate on average but
not always together). The heralded error is `HERALDED_ERASE` (the qubit's state replaced by a maximally mixed one:
I, X, Y or Z with 1/4 each; at a reset or measurement place this makes its outcome a coin flip) for every model but
`heralded-pauli`, whose heralded error is the place's own Pauli channel (X or Z flip at resets and measurements)
through `HERALDED_PAULI_CHANNEL_1`: the herald then says an error surely happened. Each herald is a measurement
record with a `DETECTOR[herald]` on it (it never fires without its error), so sampling stays at Stim's speed and
a decoder finds the heralds among the detectors by their tag (`qec.decoders.heralds`); decoders that ignore
heralds decode them as ordinary detectors. A heralded circuit is written without REPEAT blocks (the heralds'
records shift every later detector's offsets, which are rewritten).

**Leakage** (`leakage`). Share R_e of each two-qubit gate's error is leakage: each of its qubits leaks with
probability R_e q / 2 and DEPOLARIZE2 keeps (1 - R_e) q; every other place keeps its full sd6 channel. Stim cannot
hold a qubit leaked, so a leak is approximated: the qubit is erased where it leaks (I, X, Y or Z, 1/4 each:
`HERALDED_ERASE`) and that one Pauli spreads through the gates it takes part in until reset (its partners are
scrambled by this one Pauli's spread, not by a fresh random kick at each later gate). The herald comes at the
qubit's next measurement: the `DETECTOR[herald]` right after it is the parity of the records of the qubit's leaks
since its previous measurement (its window: an ancilla's round, a data qubit's whole memory), as a noiseless flag
qubit flipped by each leak and measured there would be. So each leak flips exactly one herald, all of a window's
leaks share it, and two leaks in one window cancel in it (second order: about half the square of the window's
leak probability); a leak after a qubit's last measurement has no herald. `qec.decoders.heralds` adds a
herald's errors as disjoint, which a window's independent leaks are to first order.

The models (`NOISE_FAMILIES`):

- `code-capacity`: round_data = p on the first round only; perfect gates and measurements.
- `phenomenological`: round_data = p every round, ancilla_measure = p; the final data measurement is
  perfect (Dennis, Kitaev, Landahl, Preskill, J. Math. Phys. 43, 4452 (2002)).
- `uniform`: Stim's generated-circuit noise with after_clifford_depolarization,
  after_reset_flip_probability, before_measure_flip_probability and before_round_data_depolarization
  all = p; gives exactly Stim's DEM for the surface code.
- `sd6`: standard depolarizing: 1q and 2q Cliffords, reset, measurement and idle all p
  (Gidney, Newman, Fowler, Broughton, "A Fault-Tolerant Honeycomb Memory", Quantum 5, 605 (2021)).
- `si1000`: superconducting-inspired: 2q p, 1q p/10, reset 2p, measurement 5p, idle p/10,
  resonator idle (during measure/reset layers) 2p (same reference). Applied to the circuit's own gates
  (CX here, where the paper compiles to CZ).
- `biased`: sd6's places with the biased Pauli channel of bias eta on every qubit (2q gates: on
  each of the two qubits), reset and measurement flips p.
- `erasure`: sd6's places, share R_e of each place's error heralded erasures (Wu et al. above; their model
  puts the errors on the two-qubit gates only: `--noise erasure` here also errs at single-qubit gates, resets,
  measurements and idles, as SD6 does).
- `erasure-gates`: errors after two-qubit gates only (strength p: DEPOLARIZE2((1 - R_e) p), and each qubit of
  the gate erased with R_e p), the places of Wu et al.'s circuit model, to compare with their thresholds.
- `heralded-pauli`: sd6's places, share R_e of each place's error a heralded Pauli error (depolarizing, or
  biased with eta: biased erasure qubits, Sahay et al., PRX 13, 041013 (2023), Kubica et al., PRX 13, 041022
  (2023)).
- `leakage`: sd6's places, share R_e (default 0.5) of each two-qubit gate's error leakage, heralded at the
  leaked qubit's next measurement (above).

A model is one entry of `NOISE_FAMILIES` (`NoiseFamily`: its places as `Strengths`, its Pauli channels, the p
range where thresholds usually lie for `--auto`, or a `transform` of its own); `register_noise` adds a user's.
A `NoiseModel` is the noise spec: a family's name and every parameter (p, pauli, bias), recorded whole in a
task's metadata (`NoiseModel.metadata`) and rebuilt from it (`NoiseModel.from_metadata`).

>>> from qec import codes, noise
>>> circuit = codes.memory_circuit("surface", distance=3, rounds=3)
>>> noisy = noise.noise_model("si1000", p=0.001).apply(circuit)
>>> len(noisy.shortest_graphlike_error())
3
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import stim

from qec.circuit_ops import ANNOTATIONS, append_channel, append_pauli_channel_1, used_qubits
from qec.errors import QecInputError, unknown_choice

PAULI_KINDS = ("depolarizing", "independent", "biased")
HERALD_KINDS = ("erase", "pauli", "leak")
HERALD_TAG = "herald"  # the tag of a herald's DETECTOR, in the circuit and its DEM


@dataclass(frozen=True)
class Strengths:
    """Multipliers of p at each place a channel goes (see the module docstring)."""

    clifford_1q: float = 0.0
    clifford_2q: float = 0.0
    reset: float = 0.0
    ancilla_measure: float = 0.0
    data_measure: float = 0.0
    idle: float = 0.0
    resonator_idle: float = 0.0
    round_data: float = 0.0
    first_round_only: bool = False


@dataclass(frozen=True)
class NoiseModel:
    """A named noise model at strength p, with every parameter; `apply(circuit)` returns the noisy circuit.

    >>> model = NoiseModel("uniform", 0.001, NOISE_FAMILIES["uniform"].strengths)
    >>> model.describe(), model.strengths.clifford_2q * model.p
    ('uniform(p=0.001)', 0.001)
    >>> noise_model("biased", 0.001, bias=math.inf).metadata()
    {'noise': 'biased', 'p': 0.001, 'bias': 'inf'}
    >>> noise_model("biased", 0.001, bias=100).metadata() == noise_model("biased", 0.001, bias=100.0).metadata()
    True
    """

    name: str
    p: float
    strengths: Strengths
    pauli: str = "depolarizing"
    bias: float = 0.5
    erasure_fraction: float = 0.0
    herald: str = "erase"
    transform: Callable[[stim.Circuit, NoiseModel], stim.Circuit] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self):
        if not _is_real(self.p) or not 0 <= self.p <= 1:
            raise QecInputError(f"p must be a probability in [0, 1], got {self.p!r}")
        if self.pauli not in PAULI_KINDS:
            raise unknown_choice("Pauli channel", self.pauli, PAULI_KINDS)
        if not (_is_real(self.bias) or self.bias == math.inf) or not self.bias > 0:
            raise QecInputError(f"bias eta must be a number > 0 (inf for pure Z noise), got {self.bias!r}")
        if not _is_real(self.erasure_fraction) or not 0 <= self.erasure_fraction <= 1:
            raise QecInputError(
                f"erasure_fraction must be a share in [0, 1] (0: no heralded errors), got {self.erasure_fraction!r}"
            )
        if self.herald not in HERALD_KINDS:
            raise unknown_choice("herald", self.herald, HERALD_KINDS)
        for field in dataclasses.fields(Strengths):
            multiplier = getattr(self.strengths, field.name)
            if field.name == "first_round_only" or multiplier == 0:
                continue
            limit = (
                15 / 16 if field.name == "clifford_2q" and self.pauli == "depolarizing" else self._limit_1q(field.name)
            )
            if multiplier * self.p > limit:
                raise QecInputError(
                    f"p = {self.p} is too large for '{self.name}': its {field.name} probability "
                    f"{multiplier:g}p = {multiplier * self.p:g} exceeds {limit:g}; use p <= {limit / multiplier:g}"
                )

    def _limit_1q(self, place: str) -> float:
        flips = ("reset", "ancilla_measure", "data_measure")
        return 0.75 if self.pauli == "depolarizing" and place not in flips else 1.0

    def at(self, p: float) -> NoiseModel:
        """The same model at strength `p` (checked again)."""
        return dataclasses.replace(self, p=p)

    def apply(self, circuit: stim.Circuit) -> stim.Circuit:
        """The noisy version of the noiseless `circuit`."""
        if self.transform is not None:
            return self.transform(circuit, self)
        if self.herald == "leak":
            return _LeakageInserter(self, circuit).noisy_circuit()
        return _NoiseInserter(self, circuit).noisy_circuit()

    def metadata(self) -> dict[str, Any]:
        """What a task's metadata records of the model: `noise` and `p`, `pauli` where it is not the family's
        default, and `bias` for the biased channel (the text "inf" for pure dephasing: JSON has no infinity)."""
        recorded: dict[str, Any] = {"noise": self.name, "p": self.p}
        family = noise_families().get(self.name)
        if family is None or self.pauli != family.pauli_kinds[0]:
            recorded["pauli"] = self.pauli
        if self.pauli == "biased":
            recorded["bias"] = "inf" if self.bias == math.inf else float(self.bias)  # bias=100 and 100.0: one task
        if self.erasure_fraction or (family is not None and family.default_erasure_fraction):
            recorded["erasure_fraction"] = float(self.erasure_fraction)
        return recorded

    @staticmethod
    def from_metadata(metadata: Mapping[str, Any]) -> NoiseModel:
        """The model a task's metadata records (`metadata()`'s inverse); QecInputError when it names none."""
        bias = metadata.get("bias")
        return noise_model(
            metadata.get("noise", "none"),
            metadata.get("p", 0.0),
            pauli=metadata.get("pauli"),
            bias=math.inf if bias == "inf" else bias,
            erasure_fraction=metadata.get("erasure_fraction"),
        )

    def describe(self) -> str:
        extra = f", {self.pauli}" if self.pauli != "depolarizing" else ""
        extra += f", eta={self.bias:g}" if self.pauli == "biased" else ""
        extra += f", R_e={self.erasure_fraction:g}" if self.erasure_fraction else ""
        return f"{self.name}(p={self.p:g}{extra})"


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class NoiseFamily:
    """One entry of the noise registry: a model's name and description, where its channels go (`strengths`),
    the Pauli channels it takes (the first is its default), the p range where thresholds of the rotated surface
    code under MWPM usually lie (`scan_range`: what `--auto` scans; None when it has no threshold to find), and
    optionally a `transform(circuit, model)` that replaces the layer-by-layer insertion for a model of one's own.
    `herald` is the kind of its heralded errors ("erase" or "pauli") and `default_erasure_fraction` its R_e when
    none is given (see the module docstring).
    """

    name: str
    description: str
    strengths: Strengths = Strengths()
    pauli_kinds: tuple[str, ...] = ("depolarizing",)
    scan_range: tuple[float, float] | None = None
    transform: Callable[[stim.Circuit, NoiseModel], stim.Circuit] | None = None
    herald: str = "erase"
    default_erasure_fraction: float = 0.0

    def at(
        self, p: float, *, pauli: str | None = None, bias: float | None = None, erasure_fraction: float | None = None
    ) -> NoiseModel:
        """The model at strength `p`; `pauli` must be one of `pauli_kinds`, `bias` only with the biased channel,
        `erasure_fraction` (R_e) in [0, 1], where a model with a `transform` of its own takes none."""
        if erasure_fraction is not None and self.transform is not None:
            raise QecInputError(f"noise model '{self.name}' places its own channels: it takes no erasure_fraction")
        pauli = pauli or self.pauli_kinds[0]
        if pauli not in self.pauli_kinds:
            raise QecInputError(
                f"noise model '{self.name}' takes the Pauli channel {' or '.join(self.pauli_kinds)}, not {pauli!r}"
            )
        if bias is not None and pauli != "biased":
            raise QecInputError(
                f"noise model '{self.name}' has no bias (its Pauli channel is {pauli}): leave the bias out, or use "
                "a biased model (e.g. 'biased')"
            )
        return NoiseModel(
            self.name,
            p,
            self.strengths,
            pauli=pauli,
            bias=DEFAULT_BIAS if bias is None else bias,
            erasure_fraction=self.default_erasure_fraction if erasure_fraction is None else erasure_fraction,
            herald=self.herald,
            transform=self.transform,
        )


DEFAULT_BIAS = 10.0  # the biased model's eta when none is given
# Where each model's threshold usually lies (rotated surface code, MWPM): `--auto`'s scan range.
CODE_CAPACITY_RANGE = (0.02, 0.2)
PHENOMENOLOGICAL_RANGE = (0.005, 0.06)
CIRCUIT_LEVEL_RANGE = (0.001, 0.02)
ERASURE_RANGE = (0.003, 0.06)  # thresholds rise with R_e: about 0.9% at R_e = 0 to 4% at 0.98 (Wu et al.)
_SD6 = Strengths(clifford_1q=1, clifford_2q=1, reset=1, ancilla_measure=1, data_measure=1, idle=1, resonator_idle=1)

NOISE_FAMILIES: dict[str, NoiseFamily] = {
    family.name: family
    for family in [
        NoiseFamily(name="none", description="noiseless"),
        NoiseFamily(
            name="code-capacity",
            description="data qubits once, perfect measurement (depolarizing or independent X/Z)",
            strengths=Strengths(round_data=1, first_round_only=True),
            pauli_kinds=("depolarizing", "independent"),
            scan_range=CODE_CAPACITY_RANGE,
        ),
        NoiseFamily(
            name="phenomenological",
            description="data qubits every round + measurement flips (depolarizing or independent)",
            strengths=Strengths(round_data=1, ancilla_measure=1),
            pauli_kinds=("depolarizing", "independent"),
            scan_range=PHENOMENOLOGICAL_RANGE,
        ),
        NoiseFamily(
            name="uniform",
            description="stim's generated-circuit noise, all four parameters = p",
            strengths=Strengths(clifford_1q=1, clifford_2q=1, reset=1, ancilla_measure=1, data_measure=1, round_data=1),
            scan_range=CIRCUIT_LEVEL_RANGE,
        ),
        NoiseFamily(
            name="sd6",
            description="standard depolarizing (Gidney et al. 2021): gates, reset, measure, idle all p",
            strengths=_SD6,
            scan_range=CIRCUIT_LEVEL_RANGE,
        ),
        NoiseFamily(
            name="si1000",
            description="superconducting-inspired (Gidney et al. 2021): 2q p, 1q p/10, reset 2p, "
            "measure 5p, idle p/10, resonator idle 2p",
            strengths=Strengths(
                clifford_1q=0.1, clifford_2q=1, reset=2, ancilla_measure=5, data_measure=5, idle=0.1, resonator_idle=2
            ),
            scan_range=CIRCUIT_LEVEL_RANGE,
        ),
        NoiseFamily(
            name="biased",
            description="sd6 places with Z-biased Pauli noise, bias eta = p_z/(p_x+p_y) (--bias, default 10; "
            "inf: pure Z)",
            strengths=_SD6,
            pauli_kinds=("biased",),
            scan_range=CIRCUIT_LEVEL_RANGE,
        ),
        NoiseFamily(
            name="erasure",
            description="sd6 places, share R_e of each error a heralded erasure (Wu et al. 2022; --erasure-fraction,"
            " default 0.98)",
            strengths=_SD6,
            scan_range=ERASURE_RANGE,
            default_erasure_fraction=0.98,
        ),
        NoiseFamily(
            name="erasure-gates",
            description="two-qubit gates only (Wu et al. 2022's places): DEPOLARIZE2((1-R_e)p), each qubit erased "
            "with R_e p (--erasure-fraction, default 0.98)",
            strengths=Strengths(clifford_2q=1),
            scan_range=ERASURE_RANGE,
            default_erasure_fraction=0.98,
        ),
        NoiseFamily(
            name="heralded-pauli",
            description="sd6 places, share R_e of each error a heralded Pauli error (--erasure-fraction, default "
            "0.98; --pauli biased --bias ETA: biased erasure)",
            strengths=_SD6,
            pauli_kinds=("depolarizing", "biased"),
            scan_range=ERASURE_RANGE,
            herald="pauli",
            default_erasure_fraction=0.98,
        ),
        NoiseFamily(
            name="leakage",
            description="sd6 places, share R_e of each 2q gate's error leakage (--erasure-fraction, default 0.5): "
            "the qubit erased there, its Pauli spread until reset, heralded at its next measurement",
            strengths=_SD6,
            scan_range=CIRCUIT_LEVEL_RANGE,
            herald="leak",
            default_erasure_fraction=0.5,
        ),
    ]
}
# Noise models registered by `register_noise` in this process.
USER_NOISE_FAMILIES: dict[str, NoiseFamily] = {}


def register_noise(family: NoiseFamily) -> NoiseFamily:
    """Adds a noise model of one's own, found by `noise_family`, `noise_model` and every study from then on in
    this process (circuits are built in the main process, so every executor samples them); returns it. A
    built-in name is refused.

    >>> from qec.noise import NoiseFamily, Strengths, register_noise
    >>> family = register_noise(NoiseFamily(name="measure-only", description="measurement flips only",
    ...                                     strengths=Strengths(ancilla_measure=1, data_measure=1)))
    >>> noise_model("measure-only", 0.01).metadata()
    {'noise': 'measure-only', 'p': 0.01}
    """
    if not isinstance(family, NoiseFamily):
        raise QecInputError(f"register_noise takes a NoiseFamily, got {type(family).__name__}")
    if family.name in NOISE_FAMILIES:
        raise QecInputError(f"'{family.name}' is a built-in noise model: give yours another name")
    USER_NOISE_FAMILIES[family.name] = family
    return family


def noise_families() -> dict[str, NoiseFamily]:
    """Every noise model by name: the built-in ones, then those registered in this process."""
    return NOISE_FAMILIES | USER_NOISE_FAMILIES


def noise_family(name: str) -> NoiseFamily:
    """The noise family called `name` (what `noise_model` instantiates at a strength p); raises QecInputError
    listing the known names, as `qec.codes.family` does for code families."""
    known = noise_families()
    if not isinstance(name, str) or name not in known:
        raise unknown_choice("noise model", name, known)
    return known[name]


def noise_model(
    name: str,
    p: float = 0.0,
    *,
    pauli: str | None = None,
    bias: float | None = None,
    erasure_fraction: float | None = None,
) -> NoiseModel:
    """The noise model `name` at strength `p`.

    Args:
        name: one of `noise_families()`.
        p: the physical error probability in [0, 1] (a study replaces it by each p of its grid: `NoiseModel.at`).
        pauli: "depolarizing" (default) or "independent" for code-capacity and phenomenological noise.
        bias: Z bias eta of the "biased" model (default 10; `math.inf` for pure Z noise); refused elsewhere.
        erasure_fraction: R_e, the share of each place's error that is heralded (default: the family's).

    >>> model = noise_model("erasure", 0.01, erasure_fraction=0.5)
    >>> model.describe(), model.metadata()["erasure_fraction"]
    ('erasure(p=0.01, R_e=0.5)', 0.5)
    """
    return noise_family(name).at(p, pauli=pauli, bias=bias, erasure_fraction=erasure_fraction)


_RESET_FLIP = {"R": "X_ERROR", "RZ": "X_ERROR", "RX": "Z_ERROR", "RY": "X_ERROR"}
_MEASURE_FLIP = {
    "M": "X_ERROR",
    "MZ": "X_ERROR",
    "MR": "X_ERROR",
    "MRZ": "X_ERROR",
    "MX": "Z_ERROR",
    "MRX": "Z_ERROR",
    "MY": "X_ERROR",
    "MRY": "X_ERROR",
}
_COPIED = ANNOTATIONS | {"MPAD"}  # written out as they are, with no noise


@dataclass
class _LayerState:
    touched: set[int]
    measured_or_reset: bool
    had_reset: bool
    rounds_started: int

    def signature(self) -> tuple:
        return frozenset(self.touched), self.measured_or_reset, self.had_reset, self.rounds_started == 0


class _NoiseInserter:
    """Walks a noiseless circuit layer by layer, inserting the model's channels; with heralded errors it also
    keeps the map from the circuit's measurement records to the noisy circuit's, to rewrite detectors' offsets."""

    def __init__(self, model: NoiseModel, circuit: stim.Circuit):
        self.model = model
        self.s = model.strengths
        self.qubits = sorted(used_qubits(circuit))
        ancillas = used_qubits(circuit, only={"MR", "MRZ", "MRX", "MRY"})
        self.data = [q for q in self.qubits if q not in ancillas]
        self.circuit = circuit
        self.heralded = model.erasure_fraction > 0
        self.unheralded = 1 - model.erasure_fraction
        self.record_map: list[int] = []  # the noisy circuit's index of each of the noiseless circuit's records
        self.records = 0  # records in the noisy circuit so far

    def noisy_circuit(self) -> stim.Circuit:
        state = _LayerState(set(), False, False, 0)
        return self._block(self.circuit.flattened() if self.heralded else self.circuit, state)

    def _block(self, block: stim.Circuit, state: _LayerState) -> stim.Circuit:
        out = stim.Circuit()
        for instruction in block:
            if isinstance(instruction, stim.CircuitRepeatBlock):
                out += self._repeat(instruction, state)
            else:
                self._instruction(instruction, state, out)
        return out

    def _repeat(self, repeat: stim.CircuitRepeatBlock, state: _LayerState) -> stim.Circuit:
        """Keeps the REPEAT once the layer state at the end of the body equals the state at its start."""
        out = stim.Circuit()
        remaining = repeat.repeat_count
        body = repeat.body_copy()
        while remaining:
            entry = state.signature()
            noisy_body = self._block(body, state)
            if state.signature() == entry and remaining > 1:
                out.append(stim.CircuitRepeatBlock(remaining, noisy_body))
                break
            out += noisy_body
            remaining -= 1
        return out

    def _instruction(self, instruction: stim.CircuitInstruction, state: _LayerState, out: stim.Circuit) -> None:
        name = instruction.name
        targets = instruction.targets_copy()
        if name == "TICK":
            self._end_layer(state, out)
            return
        if name in _COPIED:
            out.append(self._with_new_records(instruction) if self.heralded else instruction)
            if name == "MPAD":
                self._measured(len(targets))
            return
        gate = stim.gate_data(name)
        if gate.is_noisy_gate and not gate.produces_measurements:
            raise QecInputError(f"the circuit already has noise ({name}); give a noiseless circuit")
        qubits = [t.value for t in targets if t.is_qubit_target]
        s, p = self.s, self.model.p
        if gate.produces_measurements:
            if name not in _MEASURE_FLIP:
                raise QecInputError(f"noise models support M/MX/MY/MR/MRX/MRY measurements, not {name}")
            if not gate.is_reset and state.had_reset:
                # The final data measurement right after the last MR, without a TICK: a layer of its own.
                self._close_layer(state, out)
            state.measured_or_reset = True
            flip = (s.ancilla_measure if gate.is_reset else s.data_measure) * p
            self._flip(out, _MEASURE_FLIP[name], qubits, flip)
            out.append(instruction)
            self._measured(len(qubits))
            if gate.is_reset:
                state.had_reset = True
                self._flip(out, _RESET_FLIP["R" + name[2:]], qubits, s.reset * p)
        elif gate.is_reset:
            state.measured_or_reset = True
            state.had_reset = True
            out.append(instruction)
            self._flip(out, _RESET_FLIP[name], qubits, s.reset * p)
        elif gate.is_unitary and gate.is_single_qubit_gate:
            out.append(instruction)
            self._pauli(out, qubits, s.clifford_1q * p)
        elif gate.is_unitary and gate.is_two_qubit_gate:
            out.append(instruction)
            q = s.clifford_2q * p
            if self.model.pauli == "depolarizing":
                append_channel(out, "DEPOLARIZE2", qubits, self.unheralded * q)
                self._herald(out, qubits, q, "pauli")
            else:
                self._pauli(out, qubits, q)
        else:
            raise QecInputError(f"noise models do not know where to put noise for the instruction {name}")
        state.touched.update(qubits)

    def _measured(self, count: int) -> None:
        self.record_map.extend(range(self.records, self.records + count))
        self.records += count

    def _with_new_records(self, instruction: stim.CircuitInstruction) -> stim.CircuitInstruction:
        """`instruction` with each rec[-k] pointing at the same measurement in the noisy circuit."""
        seen = len(self.record_map)
        targets = [
            stim.target_rec(self.record_map[seen + t.value] - self.records) if t.is_measurement_record_target else t
            for t in instruction.targets_copy()
        ]
        return stim.CircuitInstruction(instruction.name, targets, instruction.gate_args_copy(), tag=instruction.tag)

    def _end_layer(self, state: _LayerState, out: stim.Circuit) -> None:
        """Closes the layer at a TICK; after a reset layer a round starts, with its data noise."""
        round_starts = state.had_reset
        self._close_layer(state, out)
        out.append("TICK")
        if round_starts:
            if not (self.s.first_round_only and state.rounds_started):
                self._pauli(out, self.data, self.s.round_data * self.model.p)
            state.rounds_started += 1

    def _close_layer(self, state: _LayerState, out: stim.Circuit) -> None:
        """Idle noise on the qubits the layer did not touch; then a fresh layer."""
        idle = [q for q in self.qubits if q not in state.touched]
        strength = self.s.resonator_idle if state.measured_or_reset else self.s.idle
        self._pauli(out, idle, strength * self.model.p)
        state.touched = set()
        state.measured_or_reset = False
        state.had_reset = False

    def _flip(self, out: stim.Circuit, channel: str, qubits: list[int], q: float) -> None:
        """A reset or measurement place: the flip `channel` (X_ERROR or Z_ERROR) unheralded, and its heralded share."""
        append_channel(out, channel, qubits, self.unheralded * q)
        self._herald(out, qubits, q, channel)

    def _pauli(self, out: stim.Circuit, qubits: list[int], q: float) -> None:
        """The model's Pauli channel of strength q on `qubits`: its heralded share, then its unheralded share."""
        self._herald(out, qubits, q, "pauli")
        q *= self.unheralded
        if not qubits or q == 0:
            return
        if self.model.pauli == "depolarizing":
            out.append("DEPOLARIZE1", qubits, q)
        elif self.model.pauli == "independent":
            out.append("X_ERROR", qubits, q)
            out.append("Z_ERROR", qubits, q)
        elif self.model.bias == math.inf:
            out.append("Z_ERROR", qubits, q)
        else:
            append_pauli_channel_1(out, qubits, self._biased(q))

    def _biased(self, q: float) -> tuple[float, float, float]:
        eta = self.model.bias
        if eta == math.inf:
            return 0.0, 0.0, q
        return q / (2 * (1 + eta)), q / (2 * (1 + eta)), q * eta / (1 + eta)

    def _herald(self, out: stim.Circuit, qubits: list[int], q: float, kind: str) -> None:
        """The heralded share of a place's error of strength q on each of `qubits`, each herald's record under a
        DETECTOR tagged `herald`; `kind` is "pauli" for a Pauli-channel place, else the place's flip channel."""
        q *= self.model.erasure_fraction
        if not qubits or q == 0:
            return
        if self.model.herald == "erase":
            out.append("HERALDED_ERASE", qubits, q)
        else:
            if kind == "X_ERROR":
                pauli = (0.0, q, 0.0, 0.0)
            elif kind == "Z_ERROR":
                pauli = (0.0, 0.0, 0.0, q)
            elif self.model.pauli == "depolarizing":
                pauli = (0.0, q / 3, q / 3, q / 3)
            else:
                pauli = (0.0, *self._biased(q))
            out.append("HERALDED_PAULI_CHANNEL_1", qubits, list(pauli))
        for k in range(len(qubits), 0, -1):
            out.append(stim.CircuitInstruction("DETECTOR", [stim.target_rec(-k)], [], tag=HERALD_TAG))
        self.records += len(qubits)


class _LeakageInserter(_NoiseInserter):
    """The `leakage` family's inserter (module docstring, "Leakage"): sd6's channels at full strength, but after
    each two-qubit gate share R_e of its error is leakage, a `HERALDED_ERASE` on each qubit whose record joins the
    qubit's window; the window's `DETECTOR[herald]`, the parity of its records, follows the qubit's next
    measurement."""

    def __init__(self, model: NoiseModel, circuit: stim.Circuit):
        super().__init__(model, circuit)
        self.unheralded = 1.0  # only two-qubit gates leak (`_two_qubit_gate` splits their error)
        self.windows: dict[int, list[int]] = {}  # qubit -> the noisy circuit's records of its leaks since measured

    def _instruction(self, instruction: stim.CircuitInstruction, state: _LayerState, out: stim.Circuit) -> None:
        name = instruction.name
        gate = None if name == "TICK" or name in _COPIED else stim.gate_data(name)
        if gate is not None and gate.is_unitary and gate.is_two_qubit_gate:
            self._two_qubit_gate(instruction, state, out)
            return
        super()._instruction(instruction, state, out)
        if gate is not None and gate.produces_measurements:
            for target in instruction.targets_copy():
                self._close_window(target.value, out)

    def _two_qubit_gate(self, instruction: stim.CircuitInstruction, state: _LayerState, out: stim.Circuit) -> None:
        qubits = [t.value for t in instruction.targets_copy() if t.is_qubit_target]
        q = self.s.clifford_2q * self.model.p
        out.append(instruction)
        append_channel(out, "DEPOLARIZE2", qubits, (1 - self.model.erasure_fraction) * q)
        leak = self.model.erasure_fraction * q / 2
        if qubits and leak > 0:
            out.append("HERALDED_ERASE", qubits, leak)
            for k, qubit in enumerate(qubits):
                self.windows.setdefault(qubit, []).append(self.records + k)
            self.records += len(qubits)
        state.touched.update(qubits)

    def _close_window(self, qubit: int, out: stim.Circuit) -> None:
        """The herald of `qubit`'s window (its leaks since its previous measurement), if it had a leak place."""
        leaks = self.windows.pop(qubit, [])
        if leaks:
            targets = [stim.target_rec(record - self.records) for record in leaks]
            out.append(stim.CircuitInstruction("DETECTOR", targets, [], tag=HERALD_TAG))

    def _herald(self, out: stim.Circuit, qubits: list[int], q: float, kind: str) -> None:
        """No heralded share at the other places: they keep their full channel."""

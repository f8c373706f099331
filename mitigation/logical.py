"""Logical error rates of qec's Stim memory circuits run on Aer, beside Stim's Pauli-twirled estimate, and ZNE.

`LogicalExperiment.build(family, distance=, rounds=, noise=)` takes a noiseless memory circuit from
`qec.codes`, rewrites it with Z-basis measurements and resets only (MX -> H M, RX -> R H, ...), and
from that one gate list builds

- the Qiskit circuit Aer runs: mid-circuit `measure` + `reset`, one clbit per measurement, an `id` on
  every qubit idle in a layer (so T1/T2 act there, for one 1q gate time); Aer adds `NoiseSpec.to_aer()`'s
  noise per gate;
- the Stim circuit with the Pauli twirl of the same noise at the same places: DEPOLARIZE1/2 for the
  depolarizing rates, PAULI_CHANNEL_1 for the twirl of thermal relaxation and over-rotation
  (`NoiseSpec.pauli_twirled_1q`), X_ERROR before each measurement for readout. Under Pauli noise
  (no T1/T2/rotation) the two are the same noise, exactly.

Aer's measurement records become detection events through Stim's `compile_m2d_converter`, which a
`qec.decoders` decoder compiled for the Stim circuit's DEM decodes. ZNE scales the gate noise by random
unitary folding of the gates (`fold_gates`; Mitiq's own folding refuses mid-circuit measurements), runs
all scaled circuits in one Aer call, and extrapolates <Z_L> = 1 - 2 p_L to zero noise with a Mitiq
factory. p_L of a distance-d code grows like (scale * p)^((d+1)/2) at small scales, so scale factors near
1 (the default, `LOGICAL_ZNE_OPTIONS`: 1, 1.5, 2) suit a polynomial fit better than 1, 3, 5.

Size guards: `LogicalSize.of` reads the qubits, classical bits and an upper bound on the Qiskit
instructions from the Stim circuit before it is flattened; `build` refuses more than `MAX_LOGICAL_OPERATIONS`
instructions or `AER_MAX_QUBITS` qubits, and `check_logical_run` (which `runs.mitigate_logical_memory` calls
before building) also checks the folded circuits, Aer's state for the chosen method and the measurement
records against free memory, and `MAX_STIM_SHOTS`. The Stim estimate samples in chunks of at most 64 MiB of
detection events.

>>> from qec.mitigation.logical import LogicalExperiment
>>> from qec.mitigation.noise_models import NoiseSpec
>>> experiment = LogicalExperiment.build("repetition", distance=3, rounds=2, noise=NoiseSpec(depolarizing_2q=0.01))
>>> experiment.qiskit_circuit.num_qubits, experiment.qiskit_circuit.num_clbits
(5, 7)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import stim
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister

from qec import codes, decoders
from qec.circuit_ops import ANNOTATIONS, append_channel, append_pauli_channel_1, used_qubits
from qec.decoders.counting import decode_and_count
from qec.errors import QecInputError
from qec.mitigation.backends import (
    AER_MAX_QUBITS,
    Backend,
    check_host_memory,
    check_integer,
    check_run_options,
    device_and_method,
)
from qec.mitigation.noise_models import NoiseSpec
from qec.mitigation.techniques import ZneOptions, extrapolate, extrapolation_error
from qec.text import approximate

LOGICAL_FAMILIES = ("repetition", "shor", "surface")
# Qiskit instructions of one run's circuits (the circuit at every scale factor). Qiskit circuits are Python
# objects: surface d = 25 over 25 rounds (175,000 instructions) takes 3 s to build; 10^6 in all takes ~20 s
# and a few hundred MB to build, fold and transpile, and Aer's stabilizer method then runs for hours.
MAX_LOGICAL_OPERATIONS = 1_000_000
# Stim's twirled estimate: sampled and decoded in chunks, so memory is bounded; 10^9 shots of a small code
# take tens of minutes.
MAX_STIM_SHOTS = 1_000_000_000
_STIM_CHUNK_BYTES = 2**26
# Aer's records (memory=True) per measured bit: its bit string, our reversed copy, a Python list of bools
# (8 bytes a bit) and the bool array, for one circuit at a time, plus the arrays of every circuit kept.
_RECORD_BYTES_PER_BIT = 12
# Stim gates outside the Z basis, rewritten into H + Z-basis gates (measurement count unchanged).
_REWRITES = {"RX": ("R", "H"), "MX": ("H", "M"), "MRX": ("H", "MR", "H")}
_UNITARIES = {"H": "h", "CX": "cx", "CZ": "cz", "I": "id"}
# ZNE of logical runs: Richardson through scale factors near 1 (see the module docstring); gates folded at random.
LOGICAL_ZNE_OPTIONS = ZneOptions(scale_factors=(1.0, 1.5, 2.0))


@dataclass(frozen=True)
class LogicalRate:
    """Logical errors among shots: the rate and its binomial standard error."""

    errors: int
    shots: int

    @property
    def rate(self) -> float:
        return self.errors / self.shots

    @property
    def standard_error(self) -> float:
        """sqrt(p(1-p)/shots), with p(1-p) floored at 1/shots so that zero errors still get an error bar."""
        return math.sqrt(max(self.rate * (1 - self.rate), 1 / self.shots) / self.shots)


@dataclass(frozen=True)
class LogicalSize:
    """What the Aer circuit of a memory experiment holds, read from its Stim circuit before it is flattened.

    `operations` estimates the Qiskit instructions: the gates as `to_qiskit` writes them (MX becomes H and
    M; REPEAT blocks counted in full) plus the idles, one per qubit per layer less the qubits gates touch
    (exact when a layer touches each qubit once).

    >>> size = LogicalSize.of(codes.memory_circuit("repetition", distance=3, rounds=2))
    >>> size.qubits, size.clbits
    (5, 7)
    """

    qubits: int
    clbits: int
    operations: int
    detectors: int

    @classmethod
    def of(cls, circuit: stim.Circuit) -> LogicalSize:
        qubits = len(used_qubits(circuit))
        gates, touched = _gate_count(circuit)
        idles = max(0, qubits * (circuit.num_ticks + 1) - touched)
        return cls(qubits, circuit.num_measurements, gates + idles, circuit.num_detectors)

    def check(self, *, scale_factors: Sequence[float] = (1.0,)) -> None:
        """Raises QecInputError when the circuits at `scale_factors` exceed `MAX_LOGICAL_OPERATIONS` Qiskit
        instructions in all, or the circuit more qubits than Aer holds."""
        if self.qubits > AER_MAX_QUBITS:
            raise QecInputError(
                f"this memory experiment has {approximate(self.qubits)} qubits, more than any Aer "
                f"method holds (at most {AER_MAX_QUBITS:,}): use a smaller distance"
            )
        folded = math.ceil(self.operations * sum(scale_factors))
        if folded > MAX_LOGICAL_OPERATIONS:
            scales = f" at scale factors {', '.join(f'{s:g}' for s in scale_factors)}" if len(scale_factors) > 1 else ""
            raise QecInputError(
                f"this memory experiment{scales} needs about {approximate(folded)} Qiskit "
                f"instructions; the limit is {MAX_LOGICAL_OPERATIONS:,}: use a smaller distance or "
                "fewer rounds"
            )


@dataclass(frozen=True)
class LogicalExperiment:
    """One memory experiment as a Z-basis Stim circuit, its Aer (Qiskit) circuit and its twirled Stim circuit."""

    family: str
    distance: int
    rounds: int
    noise: NoiseSpec
    z_basis_circuit: stim.Circuit  # noiseless, Z-basis gates only, idles marked with I
    qiskit_circuit: QuantumCircuit
    twirled_circuit: stim.Circuit  # z_basis_circuit with the Pauli twirl of `noise`

    @classmethod
    def build(cls, family: str, *, distance: int, rounds: int, noise: NoiseSpec, basis: str = "Z") -> LogicalExperiment:
        """The experiment for `family` ("repetition", "shor" or "surface") at `distance`, `rounds`; refused
        before anything is flattened when it is too large (`LogicalSize.check`)."""
        code_circuit = _code_circuit(family, distance=distance, rounds=rounds, noise=noise, basis=basis)
        LogicalSize.of(code_circuit).check()
        z_basis = _z_basis_with_idles(code_circuit)
        return cls(family, distance, rounds, noise, z_basis, to_qiskit(z_basis), twirled(z_basis, noise))

    @staticmethod
    def size(family: str, *, distance: int, rounds: int, noise: NoiseSpec, basis: str = "Z") -> LogicalSize:
        """The size of the experiment `build` would make, from its Stim circuit alone (nothing flattened)."""
        return LogicalSize.of(_code_circuit(family, distance=distance, rounds=rounds, noise=noise, basis=basis))

    def logical_rate(self, measurements: np.ndarray, *, decoder: str = "pymatching") -> LogicalRate:
        """Decodes Aer's measurement records: bool array, shape (shots, num_measurements), column j = j-th."""
        converter = self.z_basis_circuit.compile_m2d_converter()
        detection_events, flips = converter.convert(measurements=measurements, separate_observables=True)
        return self._decode(detection_events, flips, self._compiled(decoder))

    def stim_estimate(self, *, shots: int, decoder: str = "pymatching", seed: int | None = None) -> LogicalRate:
        """The logical error rate of the twirled Stim circuit over `shots` shots (1 to `MAX_STIM_SHOTS`),
        sampled and decoded in chunks of at most 64 MiB of detection events."""
        _check_stim_shots(shots)
        sampler = self.twirled_circuit.compile_detector_sampler(seed=seed)
        compiled = self._compiled(decoder)
        width = self.twirled_circuit.num_detectors + self.twirled_circuit.num_observables
        chunk = max(1, _STIM_CHUNK_BYTES // max(1, width))
        errors = 0
        for start in range(0, shots, chunk):
            detection_events, flips = sampler.sample(min(chunk, shots - start), separate_observables=True)
            errors += self._decode(detection_events, flips, compiled).errors
        return LogicalRate(errors, shots)

    def scaled_circuits(self, scale_factors: Sequence[float], *, seed: int | None = None) -> list[QuantumCircuit]:
        """The Aer circuit with its gates folded to each noise scale (see `fold_gates`)."""
        for scale in scale_factors:
            if not 1 <= scale < math.inf:
                raise QecInputError(f"noise scale factors must be >= 1 and finite, got {scale}")
        folded = math.ceil(self.qiskit_circuit.size() * sum(scale_factors))
        if folded > MAX_LOGICAL_OPERATIONS:
            raise QecInputError(
                f"folding to {', '.join(f'{s:g}' for s in scale_factors)} makes about "
                f"{approximate(folded)} Qiskit instructions; the limit is "
                f"{MAX_LOGICAL_OPERATIONS:,}: use smaller scale factors or a smaller experiment"
            )
        return [fold_gates(self.qiskit_circuit, scale, seed=seed) for scale in scale_factors]

    def _compiled(self, decoder: str):
        dem = self.twirled_circuit.detector_error_model(decompose_errors=True)
        return decoders.get(decoder).compile_decoder_for_dem(dem=dem)

    @staticmethod
    def _decode(detection_events: np.ndarray, flips: np.ndarray, compiled) -> LogicalRate:
        errors, _ = decode_and_count(
            compiled,
            detection_events=np.packbits(detection_events, axis=1, bitorder="little"),
            observables=np.packbits(flips, axis=1, bitorder="little"),
            num_observables=flips.shape[1],
        )
        return LogicalRate(errors, len(flips))


@dataclass(frozen=True)
class LogicalZne:
    """<Z_L> = 1 - 2 p_L at each noise scale and extrapolated to zero, with its 1-sigma standard error (the binomial
    errors of the rates through the fit: `techniques.extrapolation_error`; None where no fit of redrawn rates
    succeeds)."""

    scale_factors: tuple[float, ...]
    rates: tuple[LogicalRate, ...]
    mitigated_expectation: float
    standard_error: float | None = None

    @property
    def noisy_expectation(self) -> float:
        return 1 - 2 * self.rates[0].rate

    @property
    def mitigated_logical_error_rate(self) -> float:
        return (1 - self.mitigated_expectation) / 2

    @property
    def mitigated_logical_error_rate_standard_error(self) -> float | None:
        return None if self.standard_error is None else self.standard_error / 2


def logical_zne(
    experiment: LogicalExperiment,
    backend: Backend,
    *,
    options: ZneOptions = LOGICAL_ZNE_OPTIONS,
    decoder: str = "pymatching",
) -> LogicalZne:
    """Runs the folded circuits in one Aer call, decodes each, and extrapolates <Z_L> with Mitiq's factory."""
    check_logical_zne(options)
    circuits = experiment.scaled_circuits(options.scale_factors, seed=backend.seed)
    check_logical_noise_levels(experiment.qiskit_circuit, circuits, options.scale_factors)
    records = backend.measurement_records(circuits)
    rates = tuple(experiment.logical_rate(bits, decoder=decoder) for bits in records)
    expectations = [1 - 2 * rate.rate for rate in rates]
    errors = [2 * rate.standard_error for rate in rates]
    value = extrapolate(options.factory_object, options.scale_factors, expectations)
    error = extrapolation_error(
        options.factory_object, options.scale_factors, expectations, errors, np.random.default_rng(backend.seed)
    )
    return LogicalZne(options.scale_factors, rates, value, error if math.isfinite(error) else None)


def realized_logical_scales(circuit: QuantumCircuit, folded: Sequence[QuantumCircuit]) -> tuple[float, ...]:
    """Each folded circuit's gates (measurements, resets and barriers aside) over `circuit`'s: the noise scale it
    really has, as `fold_gates` draws whole folds per gate.

    >>> circuit = QuantumCircuit(2); _ = circuit.cx(0, 1)
    >>> realized_logical_scales(circuit, [fold_gates(circuit, s, seed=1) for s in (1, 1.1, 3)])
    (1.0, 1.0, 3.0)
    """

    def gates(c: QuantumCircuit) -> int:
        return sum(1 for i in c.data if i.operation.name not in ("measure", "reset", "barrier"))

    base = max(1, gates(circuit))
    return tuple(gates(c) / base for c in folded)


def check_logical_noise_levels(
    circuit: QuantumCircuit, folded: Sequence[QuantumCircuit], scale_factors: Sequence[float]
) -> None:
    """Refuses (QecInputError) folded circuits at coinciding noise levels (`realized_logical_scales`): their rates
    differ by shot noise only, which an extrapolation through them would blow up (e.g. 0 errors at both turned
    into a rate of 0.25 by one error more at a scale factor 1.001)."""
    realized = realized_logical_scales(circuit, folded)
    distinct = len({round(level, 9) for level in realized})
    if distinct < len(realized):
        shown = ",".join(f"{s:g}" for s in scale_factors)
        levels = ",".join(f"{s:.4g}" for s in realized)
        raise QecInputError(
            f"logical ZNE scale factors {shown} fold this circuit to the same noise level more than once (it "
            f"has scale factors {levels}, {distinct} distinct): an extrapolation through equal levels "
            "extrapolates shot noise; give scale factors further apart, e.g. 1,1.5,2 or 1,3,5"
        )


def check_logical_zne(options: ZneOptions) -> None:
    """Refuses (QecInputError) ZNE options a logical run cannot use: not a `ZneOptions`, or scale factors that do
    not start at 1 (the unmitigated run, whose rate is the report's noisy one). What the fit needs (distinct
    scale factors, enough for the factory) `ZneOptions` checks when it is built.

    >>> check_logical_zne(ZneOptions(scale_factors=(2, 3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: logical ZNE needs scale factor 1 first (the unmitigated run), got (2, 3): ...
    """
    if not isinstance(options, ZneOptions):
        raise QecInputError(
            f"logical ZNE takes ZneOptions, got {type(options).__name__}: give e.g. {LOGICAL_ZNE_OPTIONS}"
        )
    if options.scale_factors[0] != 1:
        raise QecInputError(
            "logical ZNE needs scale factor 1 first (the unmitigated run), got "
            f"({', '.join(f'{s:g}' for s in options.scale_factors)}): give e.g. 1,1.5,2"
        )


def check_logical_run(
    size: LogicalSize,
    *,
    noise: NoiseSpec,
    device: str = "auto",
    method: str = "auto",
    shots: int = 2000,
    stim_shots: int = 100_000,
    scale_factors: Sequence[float] = (1.0,),
    seed: int | None = 0,
    threads: int = 0,
) -> tuple[str, str]:
    """Refuses (QecInputError), before anything is built, a logical run that cannot fit: its folded
    circuits (`LogicalSize.check`), its state for the method Aer would use (`backends.check_state_fits`), Aer's
    measurement records (shots x classical bits x circuits) against free memory, and shots, stim_shots,
    seed and threads beyond their limits. Returns Aer's device and method.

    >>> size = LogicalExperiment.size("repetition", distance=3, rounds=2, noise=NoiseSpec(depolarizing_2q=0.01))
    >>> check_logical_run(size, noise=NoiseSpec(depolarizing_2q=0.01), device="cpu")
    ('CPU', 'stabilizer')
    """
    check_run_options(shots=shots, seed=seed, threads=threads)
    _check_stim_shots(stim_shots)
    size.check(scale_factors=scale_factors)
    aer_device, aer_method = device_and_method(
        size.qubits, noise=noise, device=device, method=method, stabilizer_ok=noise.is_pauli, mid_circuit=True
    )
    circuits = len(scale_factors)
    check_host_memory(
        shots * size.clbits * (_RECORD_BYTES_PER_BIT + circuits),
        what=f"Aer's measurement records ({circuits} circuits x {shots:,} shots x {size.clbits:,} bits)",
        fix="use fewer shots or a smaller experiment",
    )
    return aer_device, aer_method


def _check_stim_shots(stim_shots: int) -> None:
    check_integer(stim_shots, name="stim_shots", low=1, high=MAX_STIM_SHOTS, fix="give e.g. 100000")


def _code_circuit(family: str, *, distance: int, rounds: int, noise: NoiseSpec, basis: str) -> stim.Circuit:
    """The family's noiseless memory circuit (size-checked by `qec.codes`), for a family and noise logical runs take."""
    if family not in LOGICAL_FAMILIES:  # "for logical runs": qec.codes has more families than these
        raise QecInputError(f"unknown family {family!r} for logical runs: choose one of {', '.join(LOGICAL_FAMILIES)}")
    if noise.fake_backend is not None:
        raise QecInputError(
            "logical runs need noise given as rates (p1, p2, readout, t1, t2, rotation), "
            "not a fake backend, so that Stim can simulate its Pauli twirl"
        )
    return codes.memory_circuit(family, distance=distance, rounds=rounds, basis=basis)


def _gate_count(circuit: stim.Circuit) -> tuple[int, int]:
    """(Qiskit gates `to_qiskit` writes for `circuit` once rewritten into the Z basis, qubit targets); REPEAT
    blocks counted in full, read as written."""
    gates = touched = 0
    for instruction in circuit:
        if isinstance(instruction, stim.CircuitRepeatBlock):
            body_gates, body_touched = _gate_count(instruction.body_copy())
            gates += instruction.repeat_count * body_gates
            touched += instruction.repeat_count * body_touched
        elif instruction.name not in ANNOTATIONS:
            targets = sum(1 for t in instruction.targets_copy() if t.is_qubit_target)
            per_target = len(_REWRITES.get(instruction.name, ("",))) * (2 if instruction.name == "MR" else 1)
            gates += targets * per_target // (2 if instruction.name in ("CX", "CZ") else 1)
            touched += targets
    return gates, touched


def fold_gates(circuit: QuantumCircuit, scale: float, *, seed: int | None = None) -> QuantumCircuit:
    """Every unitary gate G replaced by G (G^dag G)^k, k drawn so that the mean of 2k+1 is `scale` (>= 1).

    Each gate gets k = floor((scale-1)/2) folds, plus one more with probability equal to the remainder
    (Mitiq's random gate folding, per gate, for circuits with mid-circuit measurements, which Mitiq's
    folding functions refuse); measurements and resets are kept once. Odd integer scales fold every gate
    exactly.

    >>> circuit = QuantumCircuit(2); _ = circuit.cx(0, 1)
    >>> fold_gates(circuit, 3).count_ops()["cx"]
    3
    """
    base, extra = divmod((scale - 1) / 2, 1)
    rng = np.random.default_rng(seed)
    folded = circuit.copy_empty_like()
    for instruction in circuit.data:
        folded.append(instruction)
        if instruction.operation.name in ("measure", "reset", "barrier"):
            continue
        inverse = instruction.replace(operation=instruction.operation.inverse())
        for _ in range(int(base) + int(rng.random() < extra)):
            folded.append(inverse)
            folded.append(instruction)
    return folded


def to_qiskit(z_basis: stim.Circuit) -> QuantumCircuit:
    """The Qiskit circuit of a Z-basis Stim circuit: qubits renumbered densely, one clbit per measurement."""
    used = sorted(used_qubits(z_basis))
    index = {q: i for i, q in enumerate(used)}
    circuit = QuantumCircuit(QuantumRegister(len(used), "q"), ClassicalRegister(z_basis.num_measurements, "m"))
    measured = 0
    for instruction in z_basis:
        name = instruction.name
        qubits = [index[t.value] for t in instruction.targets_copy() if t.is_qubit_target]
        if name in ANNOTATIONS:
            continue
        if name in ("R", "MR", "M"):
            for q in qubits:
                if name != "R":
                    circuit.measure(q, measured)
                    measured += 1
                if name != "M":
                    circuit.reset(q)
        else:
            width = 2 if name in ("CX", "CZ") else 1
            for k in range(0, len(qubits), width):
                getattr(circuit, _UNITARIES[name])(*qubits[k : k + width])
    return circuit


def twirled(z_basis: stim.Circuit, noise: NoiseSpec) -> stim.Circuit:
    """The Z-basis circuit with the Pauli twirl of `noise` wherever Aer's noise model puts `noise`."""
    out = stim.Circuit()
    after_1q = noise.pauli_twirled_1q(noise.gate_1q_ns)
    after_2q = noise.pauli_twirled_1q(noise.gate_2q_ns)
    for instruction in z_basis:
        name, targets = instruction.name, instruction.targets_copy()
        qubits = [t.value for t in targets if t.is_qubit_target]
        if name in ("M", "MR") and noise.readout > 0:
            out.append("X_ERROR", qubits, noise.readout)
        out.append(instruction)
        if name in ("H", "I"):
            append_channel(out, "DEPOLARIZE1", qubits, noise.depolarizing_1q)
            append_pauli_channel_1(out, qubits, after_1q)
        elif name in ("CX", "CZ"):
            append_channel(out, "DEPOLARIZE2", qubits, noise.depolarizing_2q)
            append_pauli_channel_1(out, qubits, after_2q)
    return out


def _z_basis_with_idles(circuit: stim.Circuit) -> stim.Circuit:
    """The flattened circuit with X-basis gates rewritten and `I` on each qubit idle in a layer (between TICKs)."""
    qubits = sorted(used_qubits(circuit))
    out, layer = stim.Circuit(), stim.Circuit()
    touched: set[int] = set()
    for instruction in circuit.flattened():
        name = instruction.name
        if name == "TICK":
            idle = [q for q in qubits if q not in touched]
            if touched and idle:
                layer.append("I", idle)
            out += layer
            out.append("TICK")
            layer, touched = stim.Circuit(), set()
            continue
        if name not in ANNOTATIONS:
            touched.update(t.value for t in instruction.targets_copy() if t.is_qubit_target)
        if name in _REWRITES:
            for part in _REWRITES[name]:
                layer.append(part, instruction.targets_copy())
        elif name in ANNOTATIONS or name in _UNITARIES or name in ("R", "M", "MR"):
            layer.append(instruction)
        else:
            raise QecInputError(f"logical runs support R/RX/H/CX/CZ/M/MX/MR/MRX circuits, and this one has {name}")
    return out + layer

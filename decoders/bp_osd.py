"""BP and BP+OSD on a DEM's check matrix, as `sinter.Decoder`s; hyperedges need no decomposition.

Belief propagation is min-sum with a scaling factor (Roffe et al., "Decoding across the quantum
low-density parity-check code landscape", PRR 2, 043423 (2020)); where it does not converge, ordered
statistics decoding (Panteleev & Kalachev, Quantum 5, 585 (2021)) solves for the most reliable
information set, OSD-0, or sweeps weight-1 and weight-2 corrections on top of it, OSD-CS.
BP alone is the same decoder without OSD: `BpOsdDecoder(osd_method=None)`, or `bp_decoder()`.

>>> import numpy as np
>>> from qec.decoders.bp_osd import BpOsdDecoder
>>> from qec.memory import noisy_memory_circuit
>>> circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.001)
>>> dem = circuit.detector_error_model()
>>> compiled = BpOsdDecoder().compile_decoder_for_dem(dem=dem)
>>> detection_events, observables = circuit.compile_detector_sampler(seed=1).sample(
...     1000, separate_observables=True, bit_packed=True)
>>> predictions = compiled.decode_shots_bit_packed(bit_packed_detection_event_data=detection_events)
>>> int(np.count_nonzero(predictions != observables)) < 20
True
"""

from __future__ import annotations

import numpy as np
import sinter
import stim

from qec.decoders.basis import compile_basis_aware
from qec.decoders.bp_heralds import HeraldedPriors
from qec.decoders.bp_osd_kernels import NO_OSD, decode_batch, packed_words
from qec.decoders.dem_arrays import check_matrices, log_likelihood_weights, split_likely_errors, tanner_graph
from qec.decoders.undetectable import MAX_SIZE, undetectable_sets
from qec.errors import QecInputError, unknown_choice
from qec.noise import HERALD_TAG

OSD_METHODS = ("osd0", "osd_cs")
SCHEDULES = ("parallel", "layered")
MAX_GAP_OBSERVABLES = 4  # as matching's gap (qec.decoders.matching_gap)


class BpOsdCompiledDecoder(sinter.CompiledDecoder):
    """BP(+OSD) for one DEM: the message lists and bit-packed rows built once, one kernel call per batch.

    Errors of probability > 1/2 are split off first (`split_likely_errors`), so BP sees p <= 1/2 only.
    With `heralds` and a DEM that has heralds, it decodes the non-herald detectors with each shot's priors from its
    fired heralds (`HeraldedPriors`, set inside the kernel). With `compare_classes`, each shot BP leaves to OSD is
    decoded again in the logical classes next to its prediction's (`_other_classes`), and predicted in the class
    of the lightest correction found. With `descent`, each correction descends by the DEM's undetectable sets of up
    to that many errors (`undetectable`), found once here.
    """

    def __init__(
        self,
        dem: stim.DetectorErrorModel,
        *,
        max_iterations: int,
        scaling_factor: float,
        osd_order: int,
        layered: bool = False,
        ensemble: tuple[float, ...] = (),
        heralds: bool = False,
        compare_classes: bool = False,
        descent: int = 0,
    ):
        self.likely_errors = split_likely_errors(dem)
        self.heralded = HeraldedPriors.of(self.likely_errors.dem) if heralds else None
        matrices = check_matrices(self.likely_errors.dem) if self.heralded is None else self.heralded.check_matrices
        num_checks, num_variables = matrices.check_matrix.shape
        # Messages are numbered column by column (CSC order); each check lists its messages. uint32 indices:
        # half the memory of int64, and Numba indexes with them without a test for negative indices.
        graph = tanner_graph(matrices.check_matrix)
        message_checks = graph.message_checks
        self.check_offsets = graph.check_offsets.astype(np.uint32)
        self.check_messages = graph.check_messages.astype(np.uint32)
        self.check_variables = graph.check_variables.astype(np.uint32)
        self.variable_offsets = graph.variable_offsets.astype(np.uint32)
        self.message_slots = np.argsort(graph.check_messages).astype(np.uint32)
        self.message_checks = message_checks.astype(np.uint32)
        self.weights = log_likelihood_weights(matrices.priors) if self.heralded is None else self.heralded.weights
        dense = np.zeros((num_checks, num_variables), dtype=np.uint8)
        dense[message_checks, graph.message_variables] = 1
        self.packed_rows, self.packed_columns = packed_words(dense), packed_words(dense.T)
        self.column_observables = matrices.packed_observables
        self.max_iterations = max_iterations
        self.scaling_factor = scaling_factor
        self.osd_order = osd_order
        self.layered = layered
        self.ensemble = ensemble
        self.compare_classes = compare_classes
        self.descent = descent
        self.undetectable = tuple(undetectable_sets(matrices.check_matrix, descent)) if descent else None
        self.num_checks = num_checks
        self.num_detectors = self.likely_errors.dem.num_detectors
        self.num_observables = self.likely_errors.dem.num_observables
        self._complement_decoder: BpOsdCompiledDecoder | None = None
        if compare_classes and self.num_observables:
            self._complement()  # compiling's work, done here: a first batch is not charged for it

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely_errors.decode_with(self._decode_batch, bit_packed_detection_event_data)

    def decode_shots_with_gap(self, *, bit_packed_detection_event_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictions (as `decode_shots_bit_packed`'s) and each shot's complementary gap in dB, found by OSD: BP+OSD
        decodes the shot again once per observable with that observable made a check whose value is the other one
        than predicted (the others' as predicted), so OSD finds a light correction in that other logical class; the
        gap is 10 log10 of the likelihood ratio between the lightest correction found and the lightest found in any
        other class (inf where no other class is reachable), and the prediction is the lightest's class. With one
        observable this is the complementary gap as matching defines it, with OSD's search in place of an exact one;
        with k it compares the classes that differ from the prediction in one observable."""
        events = self.likely_errors.removed_from(bit_packed_detection_event_data)
        events = np.ascontiguousarray(events, dtype=np.uint8)
        predictions, weights, _ = self._decode_weighted(events)
        if self.num_observables == 0:
            return self.likely_errors.added_to(predictions), np.full(len(events), np.inf)
        best_predictions, best, second = self._other_classes(events, predictions, weights)
        gaps = (second - best) * (10 / np.log(10))
        return self.likely_errors.added_to(best_predictions), gaps

    def _other_classes(
        self, events: np.ndarray, predictions: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each shot decoded again once per observable, in the logical class that differs from its prediction in
        that observable (the observable made a check of the other value, `_complement`): the predictions of the
        lightest correction found in any class, its weight, and the lightest found in another class than its."""
        complement = self._complement()
        bits = np.unpackbits(events, axis=1, count=self.num_detectors, bitorder="little")
        predicted = np.unpackbits(predictions, axis=1, count=self.num_observables, bitorder="little")
        best, best_class = weights.copy(), predicted.copy()
        second: np.ndarray = np.full(len(events), np.inf)
        for observable in range(self.num_observables):
            other = predicted.copy()
            other[:, observable] ^= 1
            extended = np.packbits(np.concatenate([bits, other], axis=1), axis=1, bitorder="little")
            _, other_weights, _ = complement._decode_weighted(extended)
            lighter = other_weights < best
            second = np.where(lighter, best, np.minimum(second, other_weights))
            best_class[lighter] = other[lighter]
            best = np.where(lighter, other_weights, best)
        return np.packbits(best_class, axis=1, bitorder="little"), best, second

    def _complement(self) -> BpOsdCompiledDecoder:
        """This decoder on the DEM whose observables are checks too (observable k: detector num_checks + k)."""
        if self._complement_decoder is None:
            self._complement_decoder = BpOsdCompiledDecoder(
                observables_as_detectors(self.likely_errors.dem),
                max_iterations=self.max_iterations,
                scaling_factor=self.scaling_factor,
                osd_order=max(self.osd_order, 0),
                layered=self.layered,
                ensemble=self.ensemble,
                heralds=self.heralded is not None,
                descent=self.descent,
            )
        return self._complement_decoder

    def _decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """The kernel on detection events of `likely_errors.dem` (C-contiguous uint8, packed as above); with
        `compare_classes`, the shots it left to OSD decoded in the other classes too."""
        predictions, weights, to_osd = self._decode_weighted(detection_events)
        hard = np.flatnonzero(to_osd)
        if self.compare_classes and self.num_observables and len(hard):
            predictions[hard] = self._other_classes(
                np.ascontiguousarray(detection_events[hard]), predictions[hard], weights[hard]
            )[0]
        return predictions

    def _decode_weighted(self, detection_events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predictions, correction weights and the shots BP left to OSD: the kernel once with `scaling_factor`, and
        on the shots where BP did not converge once more with each of the `ensemble`'s, each shot keeping the
        lightest correction (the first where two weigh the same). With heralds, the events are split into the
        decoded detectors' and the fired heralds first."""
        fired = None
        if self.heralded is not None:
            detection_events, fired = self.heralded.heralds.split(detection_events)
        predictions, weights, to_osd = self._run(detection_events, self.scaling_factor, fired)
        hard = np.flatnonzero(to_osd)  # BP converged elsewhere: the other members decode only these
        for scaling_factor in self.ensemble:
            if len(hard) == 0:
                break
            hard_fired = None if fired is None else np.ascontiguousarray(fired[hard])
            other, other_weights, _ = self._run(
                np.ascontiguousarray(detection_events[hard]), scaling_factor, hard_fired
            )
            lighter = other_weights < weights[hard]
            predictions[hard[lighter]] = other[lighter]
            weights[hard] = np.minimum(weights[hard], other_weights)
        return predictions, weights, to_osd

    def _run(
        self, detection_events: np.ndarray, scaling_factor: float, fired: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kernel on a batch of the decoded detectors' events (and, with heralds, the fired heralds)."""
        heralds = None if self.heralded is None or fired is None else self.heralded.kernel_arrays(fired)
        return decode_batch(
            detection_events,
            self.check_offsets,
            self.check_messages,
            self.check_variables,
            self.variable_offsets,
            self.message_slots,
            self.message_checks,
            self.weights,
            self.packed_rows,
            self.packed_columns,
            self.column_observables,
            self.max_iterations,
            scaling_factor,
            self.osd_order,
            self.layered,
            heralds,
            self.undetectable,
        )


def observables_as_detectors(dem: stim.DetectorErrorModel) -> stim.DetectorErrorModel:
    """`dem` with each observable L_k turned into a detector D_(num_detectors + k), and no observables; herald
    detectors keep their declaration (`detector[herald]`), so heralded decoding finds them.

    >>> print(observables_as_detectors(stim.DetectorErrorModel("error(0.125) D0 L0\\nerror(0.25) D0 D1")))
    error(0.125) D0 D2
    error(0.25) D0 D1
    """
    shift = dem.num_detectors
    model = stim.DetectorErrorModel()
    for instruction in dem.flattened():
        if instruction.type == "detector" and instruction.tag == HERALD_TAG:
            model.append(instruction)
        if instruction.type != "error":
            continue
        targets = [
            stim.target_relative_detector_id(shift + target.val) if target.is_logical_observable_id() else target
            for target in instruction.targets_copy()
        ]
        model.append("error", instruction.args_copy(), targets)
    if model.num_detectors < shift + dem.num_observables:  # detectors no error flips still count
        model.append("detector", [], [stim.target_relative_detector_id(shift + dem.num_observables - 1)])
    return model


class BpOsdDecoder(sinter.Decoder):
    """BP+OSD: min-sum BP, then OSD-0 or OSD-CS of `osd_order` on the shots where BP does not converge.

    With `osd_method=None` it is BP alone (the registry's 'bp', `bp_decoder`): where BP does not
    converge, its last hard decision is the prediction.

    Its compiled decoders give each shot's complementary gap (`decode_shots_with_gap`, found by OSD), so
    `postselect_gap` takes it.

    Args:
        max_iterations: BP iterations at most (>= 1).
        scaling_factor: min-sum scaling factor in (0, 1].
        osd_method: "osd_cs" (combination sweep), "osd0", or None for no OSD.
        osd_order: for OSD-CS, pairs among the first `osd_order` columns outside the information set are tried.
        schedule: "parallel" (flooding: every check, then every variable) or "layered" (checks one at a time,
            each reading the posteriors the checks before it updated; the serial schedule of ldpc's
            `schedule="serial"` taken check by check). Layered BP converges in fewer iterations and, on colour
            codes, to the right correction more often: colour d = 5, 5 rounds, uniform p = 0.002, 10,000 shots,
            66 failures parallel against 42 layered (Tesseract: 36).
        ensemble: more min-sum scaling factors: on the shots where BP does not converge, BP(+OSD) runs once more
            with each, and each shot keeps the lightest of the corrections found (the most likely); each costs one
            more decoding of those shots only.
        basis_aware: decode a tagged CSS memory DEM on its measured basis's detectors only
            (`qec.decoders.basis`); untagged DEMs are decoded whole either way (a heralded DEM is: its herald
            detectors carry no basis).
        heralds: on a DEM with heralds (`qec.decoders.heralds`), decode its other detectors with each shot's priors
            from its fired heralds: a heralded column has its probability given the herald where the herald fired,
            and is absent (weight EXCLUDED_WEIGHT, never chosen by OSD) where it did not; set in the kernel,
            batched. False, or a DEM without heralds: heralds are decoded as ordinary detectors, as before.
        compare_classes: on the shots where BP does not converge, OSD searches again in each logical class that
            differs from the prediction in one observable (that observable made a check, as the gap's search), and
            the prediction is the class of the lightest correction found. OSD's information set comes from BP's
            posteriors, which on a hard shot can rank an error of the most likely correction thousands of columns
            down; a search that must end in the other class is ordered anew. Costs a decoding of the hard shots
            per observable. On Stim's colour code d = 7, 7 rounds, uniform p = 0.003, with the wide ensemble of
            bench/bench_field.py: 76 failures against 85 on 15,000 shots where it was tried (Tesseract's long
            beam: 73), but 58 against 59 on 14,000 new shots (Tesseract: 48), at 2.25x the time.
        descent: 0 (none), or 2 to 4: each correction (OSD's, or converged BP's) descends to a lighter one with the
            same syndrome while it can, flipping any set of at most `descent` errors whose detectors cancel (an
            undetectable set, found once from the DEM: `qec.decoders.undetectable`) that weighs more inside the
            correction than outside. Such a set may change the logical class: the lighter correction is the more
            likely. The sets reach corrections that OSD's information set does not: on a hard shot BP's posteriors
            can rank an error of the most likely correction thousands of columns down, out of OSD-CS's reach. On
            Stim's colour code d = 7, 7 rounds, uniform p = 0.003, 30,000 shots, with the wide ensemble: 132
            failures against 138 (Tesseract's long beam: 120), at 1.2x the time; with `compare_classes` too, 124.
    """

    decodes_with_gap = True

    def __init__(
        self,
        *,
        max_iterations: int = 30,
        scaling_factor: float = 0.625,
        osd_method: str | None = "osd_cs",
        osd_order: int = 10,
        schedule: str = "parallel",
        ensemble: tuple[float, ...] = (),
        basis_aware: bool = True,
        heralds: bool = True,
        compare_classes: bool = False,
        descent: int = 0,
    ):
        if max_iterations < 1:
            raise QecInputError(f"max_iterations must be >= 1, got {max_iterations}")
        if not 0 < scaling_factor <= 1:
            raise QecInputError(f"scaling_factor must be in (0, 1], got {scaling_factor}")
        if osd_method is not None and osd_method not in OSD_METHODS:
            raise unknown_choice("osd_method", osd_method, OSD_METHODS)
        if osd_order < 0:
            raise QecInputError(f"osd_order must be >= 0, got {osd_order}")
        if schedule not in SCHEDULES:
            raise unknown_choice("schedule", schedule, SCHEDULES)
        if not isinstance(heralds, bool):
            raise QecInputError(f"heralds must be true or false, got {heralds!r}")
        if not isinstance(compare_classes, bool):
            raise QecInputError(f"compare_classes must be true or false, got {compare_classes!r}")
        if isinstance(descent, bool) or not isinstance(descent, int) or descent not in (0, *range(2, MAX_SIZE + 1)):
            raise QecInputError(f"descent must be 0 (none) or 2 to {MAX_SIZE} errors, got {descent!r}")
        ensemble = tuple(ensemble)
        if not all(isinstance(factor, (int, float)) and 0 < factor <= 1 for factor in ensemble):
            raise QecInputError(f"ensemble must be scaling factors in (0, 1], got {list(ensemble)}")
        self.max_iterations = max_iterations
        self.scaling_factor = scaling_factor
        self.osd_order = NO_OSD if osd_method is None else osd_order if osd_method == "osd_cs" else 0
        self.schedule = schedule
        self.ensemble = tuple(float(factor) for factor in ensemble)
        self.basis_aware = basis_aware
        self.heralds = bool(heralds)
        self.compare_classes = compare_classes
        self.descent = descent

    def check_gap_circuit(self, circuit: stim.Circuit) -> None:
        """Refuses (QecInputError) a circuit of more than `MAX_GAP_OBSERVABLES` observables before any shot is
        sampled with a gap: the gap compares classes that differ in one observable, which says little where a
        wrong class differs in several."""
        if circuit.num_observables > MAX_GAP_OBSERVABLES:
            raise QecInputError(
                f"bposd's gap compares the logical classes that differ from its prediction in one observable, which "
                f"says little with {circuit.num_observables} observables (at most {MAX_GAP_OBSERVABLES}): "
                "post-select a code with fewer logical qubits"
            )

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        def compile_dem(decoded: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
            return BpOsdCompiledDecoder(
                decoded,
                max_iterations=self.max_iterations,
                scaling_factor=self.scaling_factor,
                osd_order=self.osd_order,
                layered=self.schedule == "layered",
                ensemble=self.ensemble,
                heralds=self.heralds,
                compare_classes=self.compare_classes,
                descent=self.descent,
            )

        return compile_basis_aware(dem, compile_dem, basis_aware=self.basis_aware)


def bp_decoder(
    *,
    max_iterations: int = 30,
    scaling_factor: float = 0.625,
    schedule: str = "parallel",
    basis_aware: bool = True,
    heralds: bool = True,
) -> BpOsdDecoder:
    """Min-sum BP alone, the registry's 'bp': `BpOsdDecoder(osd_method=None, ...)` with BpOsdDecoder's
    `max_iterations`, `scaling_factor`, `schedule`, `basis_aware` and `heralds`.

    >>> bp_decoder(scaling_factor=1.0).osd_order == NO_OSD
    True
    """
    return BpOsdDecoder(
        osd_method=None,
        max_iterations=max_iterations,
        scaling_factor=scaling_factor,
        schedule=schedule,
        basis_aware=basis_aware,
        heralds=heralds,
    )

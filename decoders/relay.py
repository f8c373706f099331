"""Relay-BP (Müller et al., "Improved belief propagation is sufficient for real-time decoding of quantum
memory", arXiv:2506.01779) as a `sinter.Decoder`; hyperedges need no decomposition.

Min-sum BP with memory: each variable's prior at every iteration mixes its prior log-likelihood ratio
with its previous posterior, (1 - gamma_j) lambda_j + gamma_j M_j. A first leg runs with a uniform
memory strength gamma0; then relay legs, each with memory strengths drawn uniformly from
`gamma_interval` (negative values included: the paper finds them indispensable), each starting from
the posterior the previous leg ended with. Every leg whose hard decision satisfies the syndrome gives
a solution; the relay stops after `num_solutions` solutions or `num_legs` legs and keeps the solution
of least weight sum_j e_j log((1 - p_j) / p_j). Where no leg converges, the last leg's hard decision is
the prediction (no OSD; relay-bp returns its first leg's). The kernels are in `relay_kernels.py`.
Given the same memory strengths (relay-bp's `explicit_gammas`), its predictions and iteration counts
are relay-bp's (tests/decoders/test_relay.py).

The defaults are those of IBM's relay-bp package (0.2.1, `RelayDecoderF64`), with the package's name
for each: `gamma0` 0.1 (gamma0), `pre_iterations` 80 (pre_iter), `num_legs` 300 (num_sets),
`leg_iterations` 60 (set_max_iter), `gamma_interval` (-0.24, 0.66) (gamma_dist_interval, the paper's
interval), `scaling_factor` 1.0 (alpha=None: plain min-sum); `num_solutions` (stop_nconv) is 5, the
setting of IBM's gross-code notebook (Relay-BP-S with S = 5; the package's own default is 1). That
notebook tunes gamma0 = 0.15 and gamma_interval = (-0.226, 0.622) for the gross code; the
distributions are problem-dependent, and tuning them pays (the relay-bp README says by up to 10x).

>>> import numpy as np
>>> from qec.decoders.relay import RelayBpDecoder
>>> from qec.memory import noisy_memory_circuit
>>> circuit = noisy_memory_circuit("color", distance=3, rounds=3, noise="uniform", p=0.001)
>>> compiled = RelayBpDecoder().compile_decoder_for_dem(dem=circuit.detector_error_model())
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
from qec.decoders.dem_arrays import check_matrices, log_likelihood_weights, split_likely_errors, tanner_graph
from qec.decoders.relay_kernels import decode_batch
from qec.errors import QecInputError


class RelayBpCompiledDecoder(sinter.CompiledDecoder):
    """Relay-BP for one DEM: the message lists built once, one kernel call per batch.

    Errors of probability > 1/2 are split off first (`split_likely_errors`), so every weight is >= 0 (but, with
    heralds, a weight given a herald). With the decoder's `heralds` and a DEM that has heralds, it decodes the
    non-herald detectors with each shot's priors from its fired heralds (`HeraldedPriors`, set in the kernel).
    After each batch, `last_solutions` (int32 (shots,), converged legs per shot; 0 where the last
    hard decision was used) and `last_iterations` (int64 (shots,)) hold the kernel's counts.
    """

    def __init__(self, dem: stim.DetectorErrorModel, decoder: RelayBpDecoder):
        self.likely_errors = split_likely_errors(dem)
        self.heralded = HeraldedPriors.of(self.likely_errors.dem) if decoder.heralds else None
        matrices = check_matrices(self.likely_errors.dem) if self.heralded is None else self.heralded.check_matrices
        # uint32 indices, as BP+OSD's: Numba indexes with them without a test for negative indices
        graph = tanner_graph(matrices.check_matrix)
        self.check_offsets = graph.check_offsets.astype(np.uint32)
        self.check_messages = graph.check_messages.astype(np.uint32)
        self.check_variables = graph.check_variables.astype(np.uint32)
        self.variable_offsets = graph.variable_offsets.astype(np.uint32)
        self.message_slots = np.argsort(graph.check_messages).astype(np.uint32)
        self.weights = log_likelihood_weights(matrices.priors) if self.heralded is None else self.heralded.weights
        self.column_observables = matrices.packed_observables
        self.decoder = decoder
        self.leg_gammas = np.empty((0, len(self.weights)), dtype=np.float32)
        self.last_solutions = np.zeros(0, dtype=np.int32)
        self.last_iterations = np.zeros(0, dtype=np.int64)

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """uint8 (shots, ceil(detectors / 8)) -> uint8 (shots, ceil(observables / 8)), bit-packed little-endian."""
        return self.likely_errors.decode_with(self._decode_batch, bit_packed_detection_event_data)

    def _decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """The kernel on detection events of `likely_errors.dem` (C-contiguous uint8, packed as above); with heralds,
        split into the decoded detectors' events and the fired heralds first."""
        decoder = self.decoder
        heralds = None
        if self.heralded is not None:
            detection_events, fired = self.heralded.heralds.split(detection_events)
            heralds = self.heralded.kernel_arrays(fired)
        predictions, self.last_solutions, self.last_iterations, self.leg_gammas = decode_batch(
            detection_events,
            self.check_offsets,
            self.check_messages,
            self.check_variables,
            self.variable_offsets,
            self.message_slots,
            self.weights,
            self.column_observables,
            decoder.gamma0,
            decoder.pre_iterations,
            decoder.num_legs,
            decoder.leg_iterations,
            decoder.gamma_interval[0],
            decoder.gamma_interval[1],
            decoder.num_solutions,
            decoder.scaling_factor,
            decoder.seed,
            self.leg_gammas,
            heralds,
        )
        return predictions


class RelayBpDecoder(sinter.Decoder):
    """Relay-BP: memory BP in a relay of legs with disordered memory strengths, keeping the lightest solution.

    Args:
        gamma0: memory strength of every variable in the first leg (relay-bp's gamma0).
        pre_iterations: iterations of the first leg at most (T0; pre_iter).
        num_legs: relay legs after the first at most (R; num_sets).
        leg_iterations: iterations of each relay leg at most (Tr; set_max_iter).
        gamma_interval: (gamma_min, gamma_max), the relay legs' memory strengths are uniform on it
            (gamma_dist_interval).
        num_solutions: stop after this many converged legs, keeping the lightest (S; stop_nconv).
        scaling_factor: min-sum scaling factor in (0, 1]; 1.0 is plain min-sum, as relay-bp's default.
        seed: seeds the relay legs' memory strengths (the same for every shot, so predictions depend
            only on the syndrome and the seed).
        basis_aware: decode a tagged CSS memory DEM on its measured basis's detectors only
            (`qec.decoders.basis`); untagged DEMs are decoded whole either way (a heralded DEM is: its herald
            detectors carry no basis).
        heralds: on a DEM with heralds (`qec.decoders.heralds`), decode its other detectors with each shot's priors
            from its fired heralds (a heralded column's probability given its herald where it fired, absent where
            not); False, or a DEM without heralds: heralds are decoded as ordinary detectors, as before.
    """

    def __init__(
        self,
        *,
        gamma0: float = 0.1,
        pre_iterations: int = 80,
        num_legs: int = 300,
        leg_iterations: int = 60,
        gamma_interval: tuple[float, float] = (-0.24, 0.66),
        num_solutions: int = 5,
        scaling_factor: float = 1.0,
        seed: int = 0,
        basis_aware: bool = True,
        heralds: bool = True,
    ):
        for name, value, least in (
            ("pre_iterations", pre_iterations, 1),
            ("num_legs", num_legs, 0),
            ("leg_iterations", leg_iterations, 1),
            ("num_solutions", num_solutions, 1),
            ("seed", seed, 0),
        ):
            if value < least:
                raise QecInputError(f"{name} must be >= {least}, got {value}")
        if len(gamma_interval) != 2 or not gamma_interval[0] <= gamma_interval[1]:
            raise QecInputError(
                f"gamma_interval must be (gamma_min, gamma_max) with gamma_min <= gamma_max, got {gamma_interval}"
            )
        if not 0 < scaling_factor <= 1:
            raise QecInputError(f"scaling_factor must be in (0, 1], got {scaling_factor}")
        self.gamma0 = float(gamma0)
        self.pre_iterations = int(pre_iterations)
        self.num_legs = int(num_legs)
        self.leg_iterations = int(leg_iterations)
        self.gamma_interval = (float(gamma_interval[0]), float(gamma_interval[1]))
        self.num_solutions = int(num_solutions)
        self.scaling_factor = float(scaling_factor)
        self.seed = int(seed)
        self.basis_aware = basis_aware
        if not isinstance(heralds, bool):
            raise QecInputError(f"heralds must be true or false, got {heralds!r}")
        self.heralds = heralds

    def compile_decoder_for_dem(self, *, dem: stim.DetectorErrorModel) -> sinter.CompiledDecoder:
        return compile_basis_aware(
            dem, lambda decoded: RelayBpCompiledDecoder(decoded, self), basis_aware=self.basis_aware
        )

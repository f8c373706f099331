"""Why BP+OSD fails shots Tesseract decodes: how far Tesseract's correction lies from OSD's information sets.

On the shots of one bench_field point where exactly one of a `bposd` spec (default: the wide ensemble) and the
stored Tesseract reference fails, Tesseract decodes the shot again for its correction (`decode_to_errors`, its
long beam) and this prints our correction's weight beside Tesseract's (sum of log((1 - p) / p) over its errors).
Then, for each scaling factor of the spec, BP (layered) runs on the shot and OSD's information set is found as the
kernel finds it (columns by BP's posterior, the first independent ones): the "free" columns Tesseract's
correction uses outside that set are what OSD-CS would have to flip to reach it, listed by their rank among the
free columns (OSD-CS flips one, or two among the first `osd_order`). Reads the predictions kept by bench_field
(`--reference-budget`); decodes nothing it has not got.

    python bench/why_osd_misses.py --seed 7000 --shots 15000   # colour d=7, p=0.003: the 15,000 kept shots
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import tesseract_decoder
from bench_field import POINTS, REFERENCES, WIDE_ENSEMBLE, WIDE_OSD_ORDER, stored_predictions

from qec import decoders
from qec.decoders.bp_kernels import MESSAGE_DTYPE
from qec.decoders.bp_osd import BpOsdCompiledDecoder
from qec.decoders.bp_osd_kernels import _layered_propagation
from qec.decoders.dem_arrays import check_matrices, decoding_dem, error_symptoms
from qec.decoders.field import TesseractDecoder
from qec.parts import StudySpec


def error_columns(dem) -> np.ndarray:
    """Each flattened error instruction's column in `check_matrices` (-1 for one that flips nothing)."""
    columns: dict[tuple[frozenset[int], frozenset[int]], int] = {}
    return np.array(
        [columns.setdefault(key, len(columns)) if key[0] or key[1] else -1 for _, key in error_symptoms(dem)]
    )


def information_set(dense: np.ndarray, order: np.ndarray) -> set[int]:
    """The first independent columns in `order` (GF(2)), as OSD's elimination picks them."""
    work, pivots, used = dense.copy(), set(), np.zeros(len(dense), dtype=bool)
    for column in order:
        rows = np.flatnonzero(work[:, column] & ~used)
        if len(rows) == 0:
            continue
        used[rows[0]] = True
        pivots.add(int(column))
        others = np.flatnonzero(work[:, column])
        work[others[others != rows[0]]] ^= work[rows[0]]
        if used.all():
            break
    return pivots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--point", default="color-7")
    parser.add_argument("--p", type=float, default=0.003)
    parser.add_argument("--seed", type=int, default=7000, help="bench_field's --seed")
    parser.add_argument("--sample", type=int, default=30000, help="bench_field's shot count (names the kept file)")
    parser.add_argument("--shots", type=int, default=15000, help="the first shots to look at")
    args = parser.parse_args()
    index, point = next((i, point) for i, point in enumerate(POINTS) if point.name == args.point)
    point = replace(point, p=args.p)
    seed = args.seed + index
    circuit = StudySpec.of(point.family, noise=point.noise, rounds=point.rounds).circuit(
        distance=point.distance, p=point.p
    )
    dem = decoding_dem(circuit)
    events, observables = circuit.compile_detector_sampler(seed=seed).sample(
        args.sample, separate_observables=True, bit_packed=True
    )
    sample = (events, observables)
    kept = stored_predictions(
        REFERENCES, point, seed=seed, label="tesseract", decoder=TesseractDecoder(), dem=dem, sample=sample
    )
    shots = min(args.shots, 0 if kept is None else len(kept.predictions))
    if shots == 0:
        raise SystemExit("no kept Tesseract predictions for this point: run bench_field with --reference-budget")
    truth = np.unpackbits(observables[:shots], axis=1, count=dem.num_observables, bitorder="little").astype(bool)
    theirs = np.any(kept.predictions[:shots] != truth, axis=1)
    spec = decoders.get("bposd", schedule="layered", ensemble=WIDE_ENSEMBLE, osd_order=WIDE_OSD_ORDER)
    ours = BpOsdCompiledDecoder(
        dem, max_iterations=spec.max_iterations, scaling_factor=spec.scaling_factor, osd_order=spec.osd_order,
        layered=True, ensemble=spec.ensemble,
    )  # fmt: skip
    predictions, weights, _ = ours._decode_weighted(np.ascontiguousarray(events[:shots]))
    mine = np.any(
        np.unpackbits(predictions, axis=1, count=dem.num_observables, bitorder="little").astype(bool) != truth, axis=1
    )
    print(f"{point.title()}, {shots} shots (seed {seed}): ours {mine.sum()} failures, Tesseract {theirs.sum()}")
    dense = check_matrices(ours.likely_errors.dem).check_matrix.toarray().astype(np.uint8)
    columns = error_columns(dem)
    options = vars(TesseractDecoder())
    search = tesseract_decoder.tesseract.TesseractConfig(
        dem=dem,
        det_beam=options["det_beam"],
        beam_climbing=options["beam_climbing"],
        no_revisit_dets=options["no_revisit_dets"],
        pqlimit=options["pqlimit"],
        det_orders=tesseract_decoder.utils.build_det_orders(
            dem, options["num_det_orders"], tesseract_decoder.utils.DetOrder.DetIndex, options["seed"]
        ),
    ).compile_decoder()
    bits = np.unpackbits(events[:shots], axis=1, count=dem.num_detectors, bitorder="little")
    messages = len(ours.check_messages)
    for label, chosen in (("only ours failed", mine & ~theirs), ("only Tesseract failed", theirs & ~mine)):
        for shot in np.flatnonzero(chosen):
            syndrome = bits[shot]
            used = columns[np.array(search.decode_to_errors(syndrome.astype(bool)), dtype=np.int64)]
            correction = np.flatnonzero(np.bincount(used, minlength=dense.shape[1]) % 2)
            assert ((dense[:, correction].sum(axis=1) % 2) == syndrome).all()
            line = []
            for factor in (ours.scaling_factor, *ours.ensemble):
                posterior = np.empty(dense.shape[1], dtype=MESSAGE_DTYPE)
                _layered_propagation(
                    syndrome, int(syndrome.sum()), ours.check_offsets, ours.check_variables, ours.variable_offsets,
                    ours.message_checks, ours.weights, ours.max_iterations, np.float32(factor),
                    np.empty(messages, MESSAGE_DTYPE), np.empty(messages, MESSAGE_DTYPE), posterior,
                    np.zeros(dense.shape[1], np.uint8), np.zeros(dense.shape[0], np.uint8),
                )  # fmt: skip
                order = np.argsort(posterior, kind="stable")
                pivots = information_set(dense, order)
                rank = {int(column): i for i, column in enumerate(c for c in order if c not in pivots)}
                line.append(f"{factor:g}: {sorted(rank[c] for c in correction if c not in pivots)}")
            print(
                f"{label}, shot {shot}: our weight {weights[shot]:.2f}, "
                f"Tesseract's {ours.weights[correction].sum():.2f} ({len(correction)} errors); "
                f"its free columns' ranks by scaling factor: {'; '.join(line)}"
            )


if __name__ == "__main__":
    main()

"""Code distance and circuit-level distance, exact where feasible and an upper bound found by a seeded
randomized search otherwise; a `Distance` record says which.

Both are one problem: the fewest columns of a binary matrix h (checks x qubits, or detectors x error
mechanisms) whose sum is 0 while it flips a logical (some row of `logicals` has odd overlap with it).

- Code distance: d_Z with h = hx and logicals = the X logicals (a Z logical commutes with every X check and
  anticommutes with some X logical), d_X likewise; d = min(d_X, d_Z).
- Circuit distance of a memory experiment: h = the detector error model's detectors x mechanisms, logicals =
  its observables. For a `css`-built circuit (its DETECTORs tagged `basis=X|Z`) only the detectors of the
  memory basis are kept: an error's X part fires only Z-check detectors and its Z part only X-check ones, so
  when each error's parts are errors themselves (true of every `qec.noise` model) this equals the full
  circuit distance; it is also the distance a decoder of that basis alone faces.

Methods, in order: `enumeration` of the whole kernel when its dimension is at most `ENUMERATE_DIMENSION`
(exact); `graphlike` when every mechanism fires at most two detectors (Stim's `shortest_graphlike_error`, exact
on such a model); otherwise randomized information-set search (Lee-Brickell: a random column order, the
reduced echelon form, the codewords with one or two non-pivot columns; seeded, upper bound), followed for
codes by an integer program (scipy's HiGHS `milp`) that either proves no lighter logical exists (exact) or
runs out of time (upper bound).

Circuits also get Stim's own `search_for_undetectable_logical_errors` (`stim_distance`), in a child process given
the circuit's text and killed at its time limit (the call cannot be interrupted otherwise, and its memory grows by
~100 MB/s on hard circuits; the child is capped at `STIM_MEMORY_BYTES`). It is a breadth-first search over
(detection events, flipped observables) states, from each error that flips an observable, each step adding an
error that touches the lowest detection event left. Untruncated (no bound on those sets' size or on the errors'
degree, and steps that add detection events allowed) it returns a minimum-weight logical error: from an error of
a minimum one that flips an observable, its other errors, each touching the lowest detection event left, form a
path of that length (a stop at no detection event and no flip would leave a lighter logical). So its answer is
`exact` only when that search finished; otherwise a truncated one (sets and errors of at most `STIM_TRUNCATION`
detection events, no step adding any) runs in the time left, for an upper bound. Stim is given the circuit with
the detectors ours keeps (the memory basis's, for a tagged circuit), so both answer one question: the reported
distance is the smaller value, exact if either method proved it there, named after the method that found or proved
it (ours when both did), and `Distance.stim` keeps Stim's own outcome. On the whole circuit the untruncated search
is far slower (rotated surface code d = 5, 5 rounds: 14 s, against 0.01 s on one basis's detectors) and, for the
noise models argued above, finds the same distance. It proves Steane's circuit distance 2 in milliseconds where our
search only bounds it; on the [[72,12,6]] BB code's 3-round Z memory it has not finished after 45 s (the
truncated search then gives <= 7 in 0.3 s; ours finds 6).

>>> import numpy as np
>>> from qec.codes import css
>>> hamming = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
>>> steane = css(hamming, hamming, name="steane")
>>> code_distance(steane).describe()
'3 (exact, enumeration)'
>>> from qec.noise import noise_model
>>> found = circuit_distance(noise_model("sd6", 0.001).apply(steane.memory_circuit(rounds=3, basis="X")), max_seconds=1)
>>> found.describe(), found.stim.describe()
("2 (exact, Stim's search)", "2 (exact, Stim's search)")
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import stim

from qec.codes import gf2
from qec.codes.css import CssCode
from qec.errors import QecInputError

ENUMERATE_DIMENSION = 16  # 65,536 kernel vectors, a fraction of a second
MAX_MATRIX_ENTRIES = 50_000_000  # a dense h of detectors x mechanisms beyond this is not searched
PAIR_COLUMNS = 200  # information-set search: pairs among this many lightest non-pivot columns
# Before the integer program, the search stops after this many trials (or half the time): it has found the
# distance of every code tried by then (the gross code's 12 within ~130), and the program needs the time.
SEARCH_TRIALS_BEFORE_PROGRAM = 1000
# HiGHS overruns its time limit (presolve, the root LP): 30 s became 47 s on the [[72,12,6]] code's DEM. It
# gets this share of the time left, so that the whole call stays near `max_seconds`.
HIGHS_TIME_SHARE = 0.6
# Stim's search: its share of a circuit's `max_seconds` (it also gets whatever our own search leaves), the share of
# its time the truncated search keeps back in case the untruncated one stops, that truncation (it found the
# [[72,12,6]] code's weight-7 logical of the 3-round Z memory in 0.3 s, where 4 found none), and the memory cap of
# its child process.
STIM_TIME_SHARE = 0.5
STIM_TRUNCATED_SHARE = 0.25
STIM_TRUNCATION = 6
STIM_MEMORY_BYTES = 4 << 30
STIM_CPU_MARGIN_SECONDS = 10  # where the child cannot be tied to its parent: its CPU limit beyond its time limit
# The child: reads the circuit's text on stdin, searches with the bounds in argv[1], prints {"weight": w or null}.
# It never outlives its parent (argv[3], the pid that started it), whatever kills the parent (SIGKILL included):
# first, on Linux, the kernel is asked to SIGKILL it when the parent dies (prctl PR_SET_PDEATHSIG), then it checks
# that the parent is still its parent (had the parent died before that request, it would never be answered). Where
# prctl is missing, a watchdog process it forks before loading Stim checks the parent each second and kills the
# search once the parent is gone (a thread could not: the search holds the GIL), and its CPU time is capped at its
# time limit plus a margin (argv[4] seconds; a search is CPU-bound, so an orphan stops about when its parent would
# have killed it).
_STIM_CHILD = """
import json, os, sys, time
parent = int(sys.argv[3])
tied_to_parent = False
if sys.platform.startswith("linux"):
    try:
        import ctypes, signal
        tied_to_parent = ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        pass
if os.getppid() != parent:
    os._exit(1)
limits = [("RLIMIT_AS", int(sys.argv[2]))] + ([] if tied_to_parent else [("RLIMIT_CPU", int(sys.argv[4]))])
for name, limit in limits:
    try:
        import resource
        resource.setrlimit(getattr(resource, name), (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
searcher = os.getpid()
if not tied_to_parent and hasattr(os, "fork") and os.fork() == 0:  # a watchdog process (the search holds the GIL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # not the parent's pipes: its read ends at the search's end, not this one's
        os.dup2(devnull, fd)
    while True:
        time.sleep(1.0)
        try:
            os.kill(searcher, 0)
        except OSError:  # the search ended
            os._exit(0)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:  # its parent died: the search goes with it
            os.kill(searcher, 9)
            os._exit(0)
        except OSError:
            pass
import stim
circuit = stim.Circuit(sys.stdin.read())
try:
    errors = circuit.search_for_undetectable_logical_errors(**json.loads(sys.argv[1]), canonicalize_circuit_errors=True)
    print(json.dumps({"weight": len(errors)}))
except ValueError:  # "Failed to find any logical errors."
    print(json.dumps({"weight": None}))
except MemoryError:
    print(json.dumps({"error": "out of memory"}))
"""


@dataclass(frozen=True)
class Distance:
    """The weight of the lightest logical found (`value`; None when none was found), whether it is proven
    minimal (`exact`), how it was found, and the seconds spent; for a circuit, also Stim's search's own outcome."""

    value: int | None
    exact: bool
    method: str
    seconds: float
    stim: Distance | None = None  # a circuit's: what Stim's search alone found (see the module docstring)

    def describe(self) -> str:
        """'6 (exact, enumeration)', '<= 12 (upper bound, information-set search, 400 trials)' or 'not found (...)'."""
        if self.value is None:
            return f"not found ({self.method})"
        return f"{self.value} (exact, {self.method})" if self.exact else f"<= {self.value} (upper bound, {self.method})"

    def as_dict(self) -> dict[str, Any]:
        record = {"value": self.value, "exact": self.exact, "method": self.method, "seconds": round(self.seconds, 3)}
        return record if self.stim is None else {**record, "stim": self.stim.as_dict()}


def code_distance(
    code: CssCode, *, basis: str | None = None, max_seconds: float = 10.0, seed: int = 0, trials: int | None = None
) -> Distance:
    """d_X (`basis="X"`: the lightest X logical), d_Z, or by default d = min(d_X, d_Z), within about `max_seconds`;
    or, with `trials`, exactly that many information-set trials and no integer program (the same answer on every
    machine, as a task's metadata needs)."""
    if basis is None:
        half = max_seconds / 2
        found = [code_distance(code, basis=b, max_seconds=half, seed=seed, trials=trials) for b in ("X", "Z")]
        values = [f.value for f in found if f.value is not None]
        best = min(values) if values else None
        # min(d_X, d_Z) is exact when the smaller one is exact and no larger than the other's bound.
        exact = any(f.exact and f.value == best for f in found)
        method = found[0].method if found[0].value == best else found[1].method
        return Distance(best, exact, method, sum(f.seconds for f in found))
    if basis not in ("X", "Z"):
        raise QecInputError(f"basis {basis!r} is not allowed: use X or Z (or None for both)")
    h, logicals = (code.hz, code.logical_z) if basis == "X" else (code.hx, code.logical_x)
    return min_weight_logical(
        h, logicals, max_seconds=max_seconds, seed=seed, integer_program=trials is None, trials=trials
    )


def circuit_distance(
    circuit: stim.Circuit,
    *,
    max_seconds: float = 10.0,
    seed: int = 0,
    trials: int | None = None,
    stim_seconds: float | None = None,
) -> Distance:
    """The fewest error mechanisms of `circuit`'s detector error model that flip an observable and fire no
    detector (of the memory basis, for a circuit whose observables carry a `basis=` tag; see the module
    docstring), within about `max_seconds`, or with exactly `trials` information-set trials.

    Stim's search (`stim_distance`) runs first, for `stim_seconds`: by default `STIM_TIME_SHARE` of `max_seconds`
    without `trials`, and not at all with `trials` (an answer that must not depend on the machine); 0 turns it
    off. Ours then gets what is left of `max_seconds` (at least the rest of the share), and stops as soon as it
    reaches a distance Stim proved. The result is the better of the two, with Stim's outcome as its `stim`."""
    start = time.perf_counter()
    if stim_seconds is None:
        stim_seconds = STIM_TIME_SHARE * max_seconds if trials is None else 0.0
    elif not stim_seconds >= 0:
        raise QecInputError(f"stim_seconds must be >= 0, got {stim_seconds}")
    dem = circuit.detector_error_model(allow_gauge_detectors=False, approximate_disjoint_errors=True)
    h, logicals = dem_matrices(dem, basis=memory_basis(dem))
    stims = stim_distance(circuit, max_seconds=stim_seconds) if stim_seconds > 0 else None
    if stims is None:
        return _own_search(h, logicals, start=start, max_seconds=max_seconds, seed=seed, trials=trials)
    proven = stims.value if stims.exact and trials is None else None
    own_seconds = max(max_seconds - (time.perf_counter() - start), (1 - STIM_TIME_SHARE) * max_seconds)
    ours = _own_search(h, logicals, max_seconds=own_seconds, seed=seed, trials=trials, stop_at=proven)
    return _better(ours, stims, time.perf_counter() - start)


def _own_search(
    h: np.ndarray,
    logicals: np.ndarray,
    *,
    max_seconds: float,
    seed: int,
    trials: int | None,
    stop_at: int | None = None,
    start: float | None = None,
) -> Distance:
    """Our answer for a DEM's (h, logicals) by enumeration, `graphlike` or the information-set search (see the
    module docstring), its seconds counted from `start` (default: now)."""
    start = time.perf_counter() if start is None else start
    if h.shape[1] == 0 or not logicals.any():
        return Distance(None, False, "no error flips an observable", time.perf_counter() - start)
    if h.shape[0] * h.shape[1] > MAX_MATRIX_ENTRIES:
        return Distance(None, False, f"not searched: {h.shape[0]} x {h.shape[1]} matrix", time.perf_counter() - start)
    if (h.sum(axis=0) <= 2).all():
        return Distance(_graphlike(h, logicals), True, "graphlike", time.perf_counter() - start)
    searched = min_weight_logical(
        h, logicals, max_seconds=max_seconds, seed=seed, integer_program=False, trials=trials, stop_at=stop_at
    )
    return Distance(searched.value, searched.exact, searched.method, time.perf_counter() - start)


def _better(ours: Distance, stims: Distance, seconds: float) -> Distance:
    """The smaller of two answers to one question, exact if either proved it, named after what found or proved it
    (ours first when both did), with Stim's outcome kept as `stim`."""
    values = [found.value for found in (ours, stims) if found.value is not None]
    if not values:
        return Distance(None, ours.exact, ours.method, seconds, stims)
    best = min(values)
    exact = any(found.exact and found.value == best for found in (ours, stims))
    if ours.value == best and (ours.exact or not exact):
        method = ours.method
    else:
        method = "Stim's search" if stims.exact else stims.method
    return Distance(best, exact, method, seconds, stims)


def stim_distance(circuit: stim.Circuit, *, max_seconds: float = 5.0) -> Distance:
    """What Stim's `search_for_undetectable_logical_errors` finds on `circuit` (with only the memory basis's
    detectors, for a tagged circuit) within about `max_seconds`: exact when its untruncated search finished,
    else an upper bound from a truncated one in the time left, or nothing (see the module docstring). Each
    search runs in a child process given the circuit's text and killed at its time limit.

    >>> import stim
    >>> repetition = stim.Circuit.generated(
    ...     "repetition_code:memory", distance=3, rounds=2, before_round_data_depolarization=0.01
    ... )
    >>> stim_distance(repetition, max_seconds=2).describe()
    "3 (exact, Stim's search)"
    """
    if not max_seconds > 0:
        raise QecInputError(f"max_seconds must be > 0, got {max_seconds}")
    start = time.perf_counter()
    text = str(_memory_basis_circuit(circuit))
    unbounded = max(circuit.num_detectors, 3)  # both bounds 2 would make Stim run its graphlike search instead
    exact = _stim_search(
        text,
        {
            "dont_explore_detection_event_sets_with_size_above": unbounded,
            "dont_explore_edges_with_degree_above": unbounded,
            "dont_explore_edges_increasing_symptom_degree": False,
        },
        (1 - STIM_TRUNCATED_SHARE) * max_seconds,
    )
    if exact is not None and "weight" in exact:
        weight = exact["weight"]
        method = "Stim's search" if weight is not None else "Stim's search: no logical error at all"
        return Distance(weight, True, method, time.perf_counter() - start)
    why = exact["error"] if exact is not None else f"stopped at {time.perf_counter() - start:.1f} s"
    truncated = _stim_search(
        text,
        {
            "dont_explore_detection_event_sets_with_size_above": STIM_TRUNCATION,
            "dont_explore_edges_with_degree_above": STIM_TRUNCATION,
            "dont_explore_edges_increasing_symptom_degree": True,
        },
        max_seconds - (time.perf_counter() - start),
    )
    if truncated is not None and truncated.get("weight") is not None:
        method = f"Stim's search truncated at {STIM_TRUNCATION} detection events; untruncated: {why}"
        return Distance(truncated["weight"], False, method, time.perf_counter() - start)
    outcome = "stopped" if truncated is None else truncated.get("error", "found none")
    method = f"Stim's search {why}; truncated at {STIM_TRUNCATION} detection events: {outcome}"
    return Distance(None, False, method, time.perf_counter() - start)


def _stim_search(text: str, bounds: dict[str, Any], seconds: float) -> dict[str, Any] | None:
    """{"weight": w or None} or {"error": ...} from one search in a child process, None when it ran out of
    `seconds` (it is then killed, and reaped before this returns)."""
    if seconds <= 0:
        return None
    cpu_seconds = math.ceil(seconds) + STIM_CPU_MARGIN_SECONDS
    limits = [str(STIM_MEMORY_BYTES), str(os.getpid()), str(cpu_seconds)]
    command = [sys.executable, "-c", _STIM_CHILD, json.dumps(bounds), *limits]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            out, err = child.communicate(text, timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if child.poll() is None:  # timed out, or interrupted (Ctrl-C): never leave it running
                child.kill()
                child.communicate()
    lines = out.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1]) if child.returncode == 0 and lines else {}
    except json.JSONDecodeError:
        result = {}
    if "weight" in result or "error" in result:
        return result
    return {"error": f"failed ({err.strip().splitlines()[-1] if err.strip() else f'exit {child.returncode}'})"}


def _memory_basis_circuit(circuit: stim.Circuit) -> stim.Circuit:
    """`circuit` without the detectors `dem_matrices` drops: those not of the memory basis, when every DETECTOR
    carries a `basis=` tag and every observable the same one; else `circuit` itself."""
    detector_tags = {op.tag for op in _instructions(circuit) if op.name == "DETECTOR"}
    observable_tags = {op.tag for op in _instructions(circuit) if op.name == "OBSERVABLE_INCLUDE"}
    basis = {"basis=X": "X", "basis=Z": "Z"}.get(observable_tags.pop()) if len(observable_tags) == 1 else None
    if basis is None or not all(tag in ("basis=X", "basis=Z") for tag in detector_tags):
        return circuit
    return _without_detectors(circuit, f"basis={'Z' if basis == 'X' else 'X'}")


def _instructions(circuit: stim.Circuit) -> Iterator[stim.CircuitInstruction]:
    """`circuit`'s instructions, those of a REPEAT block's body once."""
    for op in circuit:
        if isinstance(op, stim.CircuitRepeatBlock):
            yield from _instructions(op.body_copy())
        else:
            yield op


def _without_detectors(circuit: stim.Circuit, tag: str) -> stim.Circuit:
    """`circuit` without its DETECTORs tagged `tag`, REPEAT blocks kept."""
    out = stim.Circuit()
    for op in circuit:
        if isinstance(op, stim.CircuitRepeatBlock):
            out.append(stim.CircuitRepeatBlock(op.repeat_count, _without_detectors(op.body_copy(), tag), tag=op.tag))
        elif not (op.name == "DETECTOR" and op.tag == tag):
            out.append(op)
    return out


def memory_basis(dem: stim.DetectorErrorModel) -> str | None:
    """'X' or 'Z' when every observable of `dem` carries that `basis=` tag; None otherwise."""
    tags = {inst.tag for inst in dem.flattened() if inst.type == "logical_observable"}
    return {"basis=X": "X", "basis=Z": "Z"}.get(tags.pop()) if len(tags) == 1 else None


def dem_matrices(dem: stim.DetectorErrorModel, *, basis: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(h, logicals): uint8 detectors x mechanisms and observables x mechanisms of `dem`'s errors, with only the
    detectors tagged `basis=<basis>` kept when `basis` is given and every detector has a basis tag; mechanisms
    whose symptoms then coincide are merged, and those that fire nothing and flip nothing dropped."""
    flat = dem.flattened()
    tags = [inst.tag for inst in flat if inst.type == "detector"]
    keep = np.ones(dem.num_detectors, dtype=bool)
    if basis is not None and len(tags) == dem.num_detectors and all(t in ("basis=X", "basis=Z") for t in tags):
        keep = np.array([t == f"basis={basis}" for t in tags], dtype=bool)
    new_index = np.cumsum(keep) - 1
    columns: dict[tuple[frozenset[int], frozenset[int]], None] = {}
    for inst in flat:
        if inst.type != "error":
            continue
        detectors: set[int] = set()
        observables: set[int] = set()
        for target in inst.targets_copy():
            if target.is_relative_detector_id() and keep[target.val]:
                detectors ^= {int(new_index[target.val])}
            elif target.is_logical_observable_id():
                observables ^= {target.val}
        if detectors or observables:
            columns.setdefault((frozenset(detectors), frozenset(observables)), None)
    h = np.zeros((int(keep.sum()), len(columns)), dtype=np.uint8)
    logicals = np.zeros((dem.num_observables, len(columns)), dtype=np.uint8)
    for j, (detectors_of, observables_of) in enumerate(columns):
        h[list(detectors_of), j] = 1
        logicals[list(observables_of), j] = 1
    return h, logicals


def min_weight_logical(
    h: np.ndarray,
    logicals: np.ndarray,
    *,
    max_seconds: float = 10.0,
    seed: int = 0,
    integer_program: bool = False,
    trials: int | None = None,
    stop_at: int | None = None,
) -> Distance:
    """The fewest columns of `h` (uint8, rows x columns) summing to 0 whose sum has odd overlap with some row
    of `logicals` (uint8, k x columns); see the module docstring for the methods. With `trials`, the
    information-set search runs exactly that many trials, whatever the time; it stops early on finding a logical
    of weight 1 or `stop_at` (a distance known from elsewhere)."""
    start = time.perf_counter()
    h = np.asarray(h, dtype=np.uint8)
    logicals = np.asarray(logicals, dtype=np.uint8)
    kernel_dimension = h.shape[1] - gf2.rank(h)
    if kernel_dimension <= ENUMERATE_DIMENSION:
        return Distance(_enumerate(h, logicals), True, "enumeration", time.perf_counter() - start)
    rng = np.random.default_rng(seed)
    best: int | None = None
    search_seconds = max_seconds / 2 if integer_program else max_seconds
    done = 0
    limit = trials if trials is not None else (SEARCH_TRIALS_BEFORE_PROGRAM if integer_program else None)
    while (limit is None or done < limit) and (
        trials is not None or done < 10 or time.perf_counter() - start < search_seconds
    ):
        found = _information_set_trial(h, logicals, rng)
        done += 1
        if found is not None and (best is None or found < best):
            best = found
        if best is not None and best <= max(1, stop_at or 1):
            break
    method = f"information-set search, {done} trials, seed {seed}"
    if integer_program and best is not None:
        remaining = max_seconds - (time.perf_counter() - start)
        proven, best = _integer_program(h, logicals, best, remaining)
        if proven:
            return Distance(best, True, "integer program", time.perf_counter() - start)
        method += ", integer program out of time"
    return Distance(best, best == 1, method, time.perf_counter() - start)


def _enumerate(h: np.ndarray, logicals: np.ndarray) -> int | None:
    """Exact minimum over every kernel vector (the kernel's dimension is small)."""
    basis = gf2.null_space(h)
    dimension = basis.shape[0]
    if dimension == 0:
        return None
    combos = ((np.arange(1, 2**dimension)[:, None] >> np.arange(dimension)) & 1).astype(np.float32)
    best: int | None = None
    for chunk in np.array_split(combos, max(1, len(combos) * h.shape[1] // 10_000_000)):
        vectors = (chunk @ basis.astype(np.float32)) % 2
        flips = ((vectors @ logicals.T.astype(np.float32)) % 2).any(axis=1)
        if flips.any():
            weight = int(vectors[flips].sum(axis=1).min())
            best = weight if best is None else min(best, weight)
    return best


def _information_set_trial(h: np.ndarray, logicals: np.ndarray, rng: np.random.Generator) -> int | None:
    """The lightest logical among the codewords with one or two non-pivot columns, for a random column order."""
    columns = h.shape[1]
    reduced, pivots = gf2.row_reduce(h, columns=rng.permutation(columns))
    free = np.setdiff1d(np.arange(columns), pivots)
    if free.size == 0:
        return None
    # Codeword of free column j: e_j plus the pivot columns of the rows where the reduced column j is 1.
    r = reduced[:, free].astype(np.float32)
    syndromes = (logicals[:, free].astype(np.float32) + logicals[:, pivots].astype(np.float32) @ r) % 2  # k x free
    weights = 1 + r.sum(axis=0)
    flips = syndromes.any(axis=0)
    best = int(weights[flips].min()) if flips.any() else None
    lightest = np.argsort(weights, kind="stable")[:PAIR_COLUMNS]
    pair_weights = 2 + ((r[:, lightest, None] + r[:, None, lightest]) % 2).sum(axis=0)
    pair_flips = (syndromes[:, lightest, None] != syndromes[:, None, lightest]).any(axis=0)
    np.fill_diagonal(pair_flips, False)
    if pair_flips.any():
        pair_best = int(pair_weights[pair_flips].min())
        best = pair_best if best is None else min(best, pair_best)
    return best


def _integer_program(h: np.ndarray, logicals: np.ndarray, bound: int, seconds: float) -> tuple[bool, int]:
    """Looks for a logical lighter than `bound` with HiGHS, one logical row at a time: (True, best) when it
    proves there is none lighter than the best found, (False, best) when it runs out of `seconds`."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    rows, columns = h.shape
    deadline = time.perf_counter() + seconds
    best = bound
    for logical in logicals:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return False, best
        # Variables: the columns (0/1), a slack per row and one for the logical: h v = 2 s, logical . v = 2 t + 1.
        matrix = vstack(
            [
                hstack([csr_matrix(h.astype(float)), -2 * identity(rows), csr_matrix((rows, 1))]),
                hstack([csr_matrix(logical.astype(float)[None, :]), csr_matrix((1, rows)), csr_matrix([[-2.0]])]),
                hstack([csr_matrix(np.ones((1, columns))), csr_matrix((1, rows + 1))]),
            ]
        )
        low = np.concatenate([np.zeros(rows), [1.0], [0.0]])
        high = np.concatenate([np.zeros(rows), [1.0], [best - 1.0]])
        cost = np.concatenate([np.ones(columns), np.zeros(rows + 1)])
        result = milp(
            cost,
            constraints=LinearConstraint(matrix, low, high),
            integrality=np.ones(columns + rows + 1),
            bounds=Bounds(0, np.concatenate([np.ones(columns), np.full(rows + 1, np.inf)])),
            options={"time_limit": HIGHS_TIME_SHARE * remaining},
        )
        if result.status == 0 and result.x is not None:
            best = int(round(float(result.fun)))
        elif result.status != 2:  # 2: infeasible, nothing lighter; anything else: out of time
            return False, best
    return True, best


def _graphlike(h: np.ndarray, logicals: np.ndarray) -> int | None:
    """Exact minimum for a matrix whose columns have at most two ones, with Stim's shortest_graphlike_error."""
    dem = stim.DetectorErrorModel()
    for j in range(h.shape[1]):
        targets = [stim.target_relative_detector_id(int(d)) for d in np.flatnonzero(h[:, j])]
        targets += [stim.target_logical_observable_id(int(o)) for o in np.flatnonzero(logicals[:, j])]
        dem.append("error", 0.01, targets)
    for d in range(h.shape[0]):  # every detector declared, even one no error touches
        dem.append("detector", [], [stim.target_relative_detector_id(d)])
    try:
        return len(dem.shortest_graphlike_error())
    except ValueError:  # no logical error at all
        return None

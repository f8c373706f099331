"""Memory experiments for any CSS code given by its check matrices: `css(hx, hz, name=...)` gives a `CssCode`,
whose `memory_circuit(rounds=, basis=)` is a noiseless Stim circuit every `qec.noise` model applies to.

A CSS code on n data qubits has X checks (rows of `hx`) and Z checks (rows of `hz`), with hx hz^T = 0 over
GF(2); it encodes k = n - rank(hx) - rank(hz) logical qubits. `CssCode` keeps a basis of Z logicals (in ker hx,
not in the row space of hz) and of X logicals, paired so that logical_x logical_z^T = identity (mod 2).

The circuit. Qubits 0..n-1 are data, then one ancilla per X check, then one per Z check (QUBIT_COORDS on all).
Data start in |0> (Z memory) or |+> (X memory), X-check ancillas in |+> (RX), Z-check ancillas in |0> (R).
Each round is the schedule's CNOT layers, a TICK after each (an X check's ancilla is the CNOT's control, a Z
check's the target), then one layer measuring and resetting every ancilla: MRX for X checks, MR for Z
checks. The data are measured at the end (M, or MX for an X memory). Detectors: in the first round the
checks of the memory basis alone (the others are random); in later rounds every check against its previous
value; at the end each memory-basis check against the parity of the measured data it acts on. One
OBSERVABLE_INCLUDE per logical qubit: observable j is the measured parity of Z logical j (X logical j).

Tags (what decoders read to decode one basis alone): every DETECTOR carries `basis=X` or `basis=Z`, the type
of the check it compares, and every OBSERVABLE_INCLUDE the memory basis (`basis=Z` for a Z memory).

The schedule. By default (`qec.codes.schedules.hook_aware_schedule`) all Z checks are measured first, then all
X checks: within one type every CNOT commutes with every other (Z checks: data are controls; X checks: data are
targets), so any order is valid and every detector is deterministic. The order in which a check visits its
qubits decides its hook errors (an ancilla fault spread onto the check's later qubits, one fault that can be a
data error of several qubits), so each check's order is chosen to keep the circuit distance where it can: for
small codes exactly (a search over every set of faults gives the circuit distance, and a bounded local search
over orders raises it), for larger ones by a heuristic (no single hook may bring a light logical, from a seeded
sample, closer than the code distance), and for codes beyond `qec.codes.schedules.MAX_SEARCH_EDGES` edges the
generic order of `sequential_schedule` (each type packed by an edge colouring into as few layers as its
largest degree, Koenig's theorem; hooks not chosen). The schedule's `description` says which, and what it
achieved: rotated surface codes given as plain matrices keep circuit distance d in both bases; the Steane
code cannot (every pair of its qubits lies on a weight-3 logical, so some hook is one fault from a logical in
every order: circuit distance 2) without flag qubits. A round is about 2w + 1 layers deep for checks of weight
w, a few more where the orders need it. `qec.codes.distance.circuit_distance` measures any schedule. Families
pass their own: `bb` the depth-8 cycle of Bravyi et al., `hgp` one that visits a check's qubits one sector at
a time (the toric code keeps circuit distance d).

>>> import numpy as np
>>> hamming = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
>>> steane = css(hamming, hamming, name="steane")
>>> steane.n, steane.k
(7, 1)
>>> circuit = steane.memory_circuit(rounds=3, basis="X")
>>> circuit.num_detectors, circuit.num_observables
(18, 1)
>>> css(hamming, np.array([[1, 0, 0, 0, 0, 0, 0]]))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qec.errors.QecInputError: hx and hz do not commute: X check 0 and Z check 0 overlap on 1 qubit(s) ...
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import stim

from qec.codes import gf2
from qec.codes.schedules import hook_aware_schedule
from qec.codes.size import CircuitSize
from qec.codes.syndrome_schedule import SyndromeSchedule
from qec.codes.syndrome_schedule import edge_colouring as edge_colouring  # re-exported from their old home
from qec.codes.syndrome_schedule import sequential_schedule as sequential_schedule
from qec.errors import QecInputError
from qec.text import shown_integer

# Check matrices are dense uint8 here, and their ranks cost about n^3 / 64 word operations: 5,000 qubits (or
# checks) is ~0.5 s of row reduction, and far beyond the qLDPC codes studied today (the two-gross code has 288).
MAX_CODE_QUBITS = 5_000
MAX_CODE_CHECKS = 5_000
BASES = ("X", "Z")


@dataclass(frozen=True, eq=False)
class CssCode:
    """A CSS code: check matrices (uint8, read-only), paired logical bases, the syndrome schedule and the
    coordinates of its qubits (data, then X-check then Z-check ancillas; shape (n + mx + mz, 2)).

    Build one with `css(hx, hz, name=...)` (or `CssCode.from_check_matrices`), which checks the matrices."""

    name: str
    hx: np.ndarray
    hz: np.ndarray
    logical_x: np.ndarray
    logical_z: np.ndarray
    schedule: SyndromeSchedule
    coordinates: np.ndarray

    @property
    def n(self) -> int:
        """Data qubits."""
        return int(self.hx.shape[1])

    @property
    def k(self) -> int:
        """Logical qubits."""
        return int(self.logical_z.shape[0])

    @property
    def checks(self) -> int:
        """X checks plus Z checks: the ancillas, and the measurements of one round."""
        return int(self.hx.shape[0] + self.hz.shape[0])

    def describe(self) -> str:
        """'name [[n,k]]'."""
        return f"{self.name} [[{self.n},{self.k}]]"

    @classmethod
    def from_check_matrices(
        cls,
        hx: Any,
        hz: Any,
        *,
        name: str = "css",
        schedule: SyndromeSchedule | None = None,
        coordinates: np.ndarray | None = None,
    ) -> CssCode:
        """The code of check matrices `hx` (mx, n) and `hz` (mz, n) over GF(2): numpy arrays (or nested lists) of
        0/1, or scipy.sparse matrices. Raises QecInputError (one line, naming hx or hz) on entries other than 0
        and 1, different column counts, sizes over `MAX_CODE_QUBITS` / `MAX_CODE_CHECKS`, checks that do not
        commute (a pair of rows that overlap on an odd number of qubits is named) and k = 0."""
        if not isinstance(name, str) or not name or len(name) > 100 or not name.isprintable():
            raise QecInputError(f"name must be a short printable text, got {name!r}")
        x = binary_matrix(hx, name="hx")
        z = binary_matrix(hz, name="hz")
        if x.shape[1] != z.shape[1]:
            raise QecInputError(
                f"hx and hz must have one column per data qubit, the same number: hx has {x.shape[1]}, "
                f"hz has {z.shape[1]}"
            )
        if x.shape[1] == 0:
            raise QecInputError("hx and hz have no columns: a code needs at least one data qubit")
        overlap = gf2.product(x, z.T)
        if overlap.any():
            i, j = (int(v) for v in np.argwhere(overlap)[0])
            shared = int(np.count_nonzero(x[i] & z[j]))
            raise QecInputError(
                f"hx and hz do not commute: X check {i} and Z check {j} overlap on {shared} qubit(s) (an odd "
                f"number), so hx hz^T != 0 mod 2 there; a CSS code needs every X check to share an even number "
                f"of qubits with every Z check"
            )
        logical_x, logical_z = logical_operators(x, z)
        if logical_z.shape[0] == 0:
            raise QecInputError(
                f"the code encodes no logical qubit: k = n - rank(hx) - rank(hz) = {x.shape[1]} - {gf2.rank(x)} "
                f"- {gf2.rank(z)} = 0; drop some checks"
            )
        if schedule is None:
            schedule = hook_aware_schedule(x, z, logical_x, logical_z)
        if not isinstance(schedule, SyndromeSchedule):
            raise QecInputError(
                f"schedule is a {type(schedule).__name__}, not a SyndromeSchedule: give one (qec.codes.schedules) "
                "or None for the hook-aware default"
            )
        schedule.check(x, z)
        if coordinates is None:
            coordinates = default_coordinates(x.shape[1], x.shape[0], z.shape[0])
        try:
            coordinates = np.asarray(coordinates, dtype=np.float64)
        except (ValueError, TypeError):
            raise QecInputError("coordinates must be an (n + mx + mz, 2) array of numbers") from None
        if coordinates.shape != (x.shape[1] + x.shape[0] + z.shape[0], 2) or not np.isfinite(coordinates).all():
            raise QecInputError("coordinates must have shape (n + mx + mz, 2) and finite entries")
        for array in (x, z, logical_x, logical_z, coordinates):
            array.setflags(write=False)
        return cls(name, x, z, logical_x, logical_z, schedule, coordinates)

    def memory_circuit(self, *, rounds: int, basis: str = "Z") -> stim.Circuit:
        """The noiseless memory experiment of `rounds` syndrome rounds in `basis` (X or Z); see the module
        docstring for its layout, detectors, tags and observables."""
        if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 1:
            raise QecInputError(f"rounds must be an integer >= 1, got {rounds!r}")
        if not isinstance(basis, str) or basis.upper() not in BASES:
            raise QecInputError(f"basis {basis!r} is not allowed: use X or Z")
        excess = CircuitSize(self.checks * (int(rounds) + 1), self.n + self.checks).excess()
        if excess:
            raise QecInputError(
                f"'{self.name}' with {shown_integer(int(rounds))} rounds needs {' and '.join(excess)}: use fewer rounds"
            )
        return _memory_circuit(self, rounds=int(rounds), basis=basis.upper())


def css(
    hx: Any,
    hz: Any,
    *,
    name: str = "css",
    schedule: SyndromeSchedule | None = None,
    coordinates: np.ndarray | None = None,
) -> CssCode:
    """The CSS code of check matrices `hx` and `hz` (see `CssCode.from_check_matrices`)."""
    return CssCode.from_check_matrices(hx, hz, name=name, schedule=schedule, coordinates=coordinates)


def binary_matrix(value: Any, *, name: str) -> np.ndarray:
    """`value` (array-like or scipy.sparse) as a C-contiguous uint8 0/1 matrix; QecInputError naming `name`.

    >>> binary_matrix([[1, 0], [True, 1]], name="h").tolist()
    [[1, 0], [1, 1]]
    >>> binary_matrix([1, 0], name="h")
    Traceback (most recent call last):
    ...
    qec.errors.QecInputError: h must be a 2-D matrix of 0 and 1, got 1 dimension(s)
    """
    if hasattr(value, "tocoo") and hasattr(value, "shape"):  # scipy.sparse, checked before densifying
        shape = tuple(value.shape)
        _check_shape(shape, name=name)
        coo = value.tocoo()
        data = np.asarray(coo.data)
        if data.size and not np.isin(data, (0, 1)).all():
            bad = data[~np.isin(data, (0, 1))][0]
            raise QecInputError(f"{name} must hold only 0 and 1 (a matrix over GF(2)); it holds {bad!r}")
        dense = np.zeros(shape, dtype=np.uint8)
        np.bitwise_or.at(dense, (np.asarray(coo.row), np.asarray(coo.col)), data.astype(np.uint8))
        return dense
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise QecInputError(f"{name} must be a 2-D matrix of 0 and 1") from None
    if array.ndim != 2:
        raise QecInputError(f"{name} must be a 2-D matrix of 0 and 1, got {array.ndim} dimension(s)")
    _check_shape(array.shape, name=name)
    if array.dtype == bool:
        return np.ascontiguousarray(array, dtype=np.uint8)
    if array.dtype.kind not in "iuf":
        raise QecInputError(f"{name} must hold numbers 0 and 1, got entries of type {array.dtype}")
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        raise QecInputError(f"{name} must hold only 0 and 1 (a matrix over GF(2)); it holds {array[bad][0]!r}")
    return np.ascontiguousarray(array, dtype=np.uint8)


def _check_shape(shape: Sequence[int], *, name: str) -> None:
    if len(shape) != 2:
        raise QecInputError(f"{name} must be a 2-D matrix of 0 and 1")
    rows, columns = shape
    if columns > MAX_CODE_QUBITS:
        raise QecInputError(f"{name} has {columns:,} columns (qubits); the limit is {MAX_CODE_QUBITS:,}")
    if rows > MAX_CODE_CHECKS:
        raise QecInputError(f"{name} has {rows:,} rows (checks); the limit is {MAX_CODE_CHECKS:,}")


def logical_operators(hx: np.ndarray, hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paired bases (logical_x, logical_z), each (k, n) uint8, with logical_x logical_z^T = I (mod 2).

    Z logicals are vectors of ker(hx) independent of the rows of hz; X logicals of ker(hz) independent of hx.
    """
    logical_z = _quotient_basis(hx, hz)
    logical_x = _quotient_basis(hz, hx)
    if logical_z.shape[0] == 0:
        return logical_x, logical_z
    pairing = gf2.product(logical_x, logical_z.T)
    logical_z = gf2.product(gf2.inverse(pairing).T, logical_z)
    return logical_x, logical_z


def _quotient_basis(commute_with: np.ndarray, modulo: np.ndarray) -> np.ndarray:
    """Rows spanning ker(commute_with) modulo the row space of `modulo` (which lies inside that kernel)."""
    kernel = gf2.null_space(commute_with)
    stacked = np.concatenate([gf2.row_reduce(modulo)[0], kernel])
    base = gf2.rank(modulo)
    kept = [i - base for i in gf2.independent_rows(stacked) if i >= base]
    return np.ascontiguousarray(kernel[kept])


def default_coordinates(n: int, mx: int, mz: int) -> np.ndarray:
    """Data qubit q at (q, 0), X check i at (i, 1), Z check j at (j, 2)."""
    return np.concatenate(
        [
            np.stack([np.arange(n), np.zeros(n)], axis=1),
            np.stack([np.arange(mx), np.ones(mx)], axis=1),
            np.stack([np.arange(mz), np.full(mz, 2.0)], axis=1),
        ]
    ).astype(np.float64)


def _memory_circuit(code: CssCode, *, rounds: int, basis: str) -> stim.Circuit:
    n, mx, mz = code.n, code.hx.shape[0], code.hz.shape[0]
    checks = mx + mz
    x_ancillas = list(range(n, n + mx))
    z_ancillas = list(range(n + mx, n + checks))
    coords = code.coordinates.tolist()
    check_type = ["X"] * mx + ["Z"] * mz
    memory_checks = list(range(mx)) if basis == "X" else list(range(mx, checks))
    support = [np.flatnonzero(row).tolist() for row in np.concatenate([code.hx, code.hz])]

    circuit = stim.Circuit()
    for qubit, (x, y) in enumerate(coords):
        circuit.append("QUBIT_COORDS", [qubit], [x, y])
    circuit.append("RX" if basis == "X" else "R", range(n))
    if x_ancillas:
        circuit.append("RX", x_ancillas)
    if z_ancillas:
        circuit.append("R", z_ancillas)
    circuit.append("TICK")
    circuit += _syndrome_round(code)

    def detector(targets: list[stim.GateTarget], check: int, t: float, into: stim.Circuit) -> None:
        x, y = coords[n + check]
        into.append(stim.CircuitInstruction("DETECTOR", targets, [x, y, t], tag=f"basis={check_type[check]}"))

    for check in memory_checks:
        detector([stim.target_rec(check - checks)], check, 0, circuit)
    if rounds > 1:
        body = stim.Circuit()
        body.append("TICK")
        body += _syndrome_round(code)
        body.append("SHIFT_COORDS", [], [0, 0, 1])
        for check in range(checks):
            detector([stim.target_rec(check - checks), stim.target_rec(check - 2 * checks)], check, 0, body)
        circuit.append(stim.CircuitRepeatBlock(rounds - 1, body))

    circuit.append("MX" if basis == "X" else "M", range(n))
    for check in memory_checks:
        targets = [stim.target_rec(q - n) for q in support[check]] + [stim.target_rec(check - checks - n)]
        detector(targets, check, 1, circuit)
    logicals = code.logical_x if basis == "X" else code.logical_z
    for j, logical in enumerate(logicals):
        targets = [stim.target_rec(int(q) - n) for q in np.flatnonzero(logical)]
        circuit.append(stim.CircuitInstruction("OBSERVABLE_INCLUDE", targets, [j], tag=f"basis={basis}"))
    return circuit


def _syndrome_round(code: CssCode) -> stim.Circuit:
    """The schedule's CNOT layers (a TICK after each), then MRX on the X-check and MR on the Z-check ancillas."""
    n, mx = code.n, code.hx.shape[0]
    round_ = stim.Circuit()
    for layer in code.schedule.layers:
        pairs: list[int] = []
        for check, qubit in layer.tolist():
            ancilla = n + check
            pairs += [ancilla, qubit] if check < mx else [qubit, ancilla]
        round_.append("CX", pairs)
        round_.append("TICK")
    if mx:
        round_.append("MRX", range(n, n + mx))
    if code.hz.shape[0]:
        round_.append("MR", range(n + mx, n + code.checks))
    return round_

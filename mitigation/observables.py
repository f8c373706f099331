"""The user's observable: a real-weighted sum of Pauli strings, its measurement groups and its exact value.

Qubit order: in text, the **leftmost letter acts on qubit 0** (OpenQASM's `q[0]`, Mitiq's `PauliString("ZX")`),
so `"ZIII"` is Z on qubit 0 of a 4-qubit circuit. Qiskit's labels run the other way (`SparsePauliOp("IIIZ")`
is Z on qubit 0); a `SparsePauliOp` is read by its qubit indices, never by its label text, so both spellings
name the same operator. A bitstring (`"bitstring:0101"`, the probability of measuring it) is read the same way:
its leftmost bit is qubit 0.

`pauli_sum(observable, num_qubits=n)` takes text, a `qiskit.quantum_info.SparsePauliOp` or a Mitiq `Observable`
and returns a `PauliSum`. Text is a sum of terms, each a coefficient and one Pauli word of exactly n letters
from I, X, Y, Z (`"ZZII + 0.5*XXXX - 0.2*IYZI"`, `"-1.5e-2 ZZ"`, `"2 * XX * 0.5"`), or a bare number (a multiple
of the identity); it is tokenized, never evaluated. `PauliSum.groups()` splits the terms into qubit-wise commuting
measurement groups (first fit, in term order, so the same text always gives the same groups and circuits), and
`ideal_value` computes the exact expectation on a circuit when it can: Aer's stabilizer method for a Clifford
circuit, its statevector up to `MAX_IDEAL_STATEVECTOR_QUBITS` qubits when that state fits in memory, else None.

>>> from qec.mitigation.observables import pauli_sum
>>> observable = pauli_sum("ZZII + 0.5*XXXX - 0.2*IYZI", num_qubits=4)
>>> observable.describe(), observable.groups()
('ZZII + 0.5*XXXX - 0.2*IYZI', [(0,), (1,), (2,)])
>>> pauli_sum("bitstring:01", num_qubits=2).describe()
'0.25*II + 0.25*ZI - 0.25*IZ - 0.25*ZZ'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from mitiq import MeasurementResult, Observable, PauliString
from mitiq.observable.pauli import PauliStringCollection
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qec.errors import QecInputError
from qec.mitigation.backends import Backend, check_state_fits, is_clifford

PAULI_LETTERS = "IXYZ"
BITSTRING_PREFIX = "bitstring:"
# A bitstring's probability is prod_i (1 + (-1)^b_i Z_i) / 2: 2^n Pauli terms, each evaluated on every shot.
MAX_BITSTRING_QUBITS = 12
MAX_TERMS = 2**MAX_BITSTRING_QUBITS
# Beyond this a non-Clifford circuit's ideal value is reported unknown: its statevector needs 16 * 2^n bytes
# (1 GiB at 26 qubits) and every gate sweeps it once.
MAX_IDEAL_STATEVECTOR_QUBITS = 26
_IMAGINARY_TOLERANCE = 1e-10  # |Im c| below this (relative to the largest |c|) counts as rounding
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TOKEN = re.compile(rf"\s*(?:(?P<number>{_NUMBER})|(?P<word>[A-Za-z]+)|(?P<op>[-+*])|(?P<bad>\S))")


@dataclass(frozen=True)
class PauliSum:
    """sum_k coefficient_k * P_k on `num_qubits` qubits: each term a (label, coefficient) pair whose label has one
    letter of I, X, Y, Z per qubit, qubit 0 leftmost; labels are distinct and coefficients real and nonzero."""

    num_qubits: int
    terms: tuple[tuple[str, float], ...]

    @classmethod
    def parse(cls, text: str, *, num_qubits: int) -> PauliSum:
        """Reads a Pauli sum or `bitstring:BITS` (see the module docstring); raises QecInputError naming the bad
        token, letter or length.

        >>> PauliSum.parse("XZ - 2*ZX + 0.5", num_qubits=2).terms
        (('XZ', 1.0), ('ZX', -2.0), ('II', 0.5))
        >>> PauliSum.parse("XQ", num_qubits=2)
        Traceback (most recent call last):
        ...
        qec.errors.QecInputError: unknown Pauli letter 'Q' in 'XQ' (observable term 1): use I, X, Y, Z
        """
        stripped = text.strip()
        if stripped.startswith(BITSTRING_PREFIX):
            return cls.bitstring(stripped[len(BITSTRING_PREFIX) :].strip(), num_qubits=num_qubits)
        terms: list[tuple[str, float]] = []
        sign, coefficient, word, expect_factor = 1.0, 1.0, None, True
        position = 0
        for match in _TOKEN.finditer(text):
            position = match.end()
            number, letters, op, bad = match.group("number", "word", "op", "bad")
            if bad is not None:
                raise QecInputError(
                    f"observable {text!r} has {bad!r} at character {match.start('bad') + 1}: write a sum of "
                    "terms like '0.5*XXZZ - ZIIZ', or bitstring:0101"
                )
            if op in ("+", "-") and not expect_factor:  # the end of a term
                terms.append(_term(word, sign * coefficient, num_qubits, len(terms) + 1))
                sign, coefficient, word, expect_factor = (1.0 if op == "+" else -1.0), 1.0, None, True
            elif op in ("+", "-"):  # a sign before the first factor of a term
                if coefficient != 1.0 or word is not None:
                    raise _syntax(text, match.start("op"))
                sign *= 1.0 if op == "+" else -1.0
            elif op == "*":
                if expect_factor:
                    raise _syntax(text, match.start("op"))
                expect_factor = True
            elif number is not None:
                if not expect_factor and word is not None:
                    raise _syntax(text, match.start("number"))
                coefficient *= float(number)
                expect_factor = False
            else:
                if word is not None:
                    raise QecInputError(
                        f"observable term {len(terms) + 1} of {text!r} has two Pauli words ({word!r}, {letters!r}): "
                        "write one word of one letter per qubit per term, e.g. 'XZ', not 'XI*IZ'"
                    )
                word, expect_factor = letters, False
        if expect_factor or position == 0:
            if not terms and not stripped:
                raise QecInputError("the observable is empty: give a Pauli sum such as 'ZZII + 0.5*XXXX'")
            raise _syntax(text, len(text))
        terms.append(_term(word, sign * coefficient, num_qubits, len(terms) + 1))
        return cls.from_terms(terms, num_qubits=num_qubits)

    @classmethod
    def bitstring(cls, bits: str, *, num_qubits: int) -> PauliSum:
        """The projector |bits><bits| (bits[0] is qubit 0) as 2^n Pauli terms: its expectation is the
        probability of measuring `bits`.

        >>> PauliSum.bitstring("1", num_qubits=1).terms
        (('I', 0.5), ('Z', -0.5))
        """
        if not bits or set(bits) - {"0", "1"}:
            raise QecInputError(f"bitstring {bits!r} must be made of 0s and 1s, one per qubit, qubit 0 leftmost")
        if len(bits) != num_qubits:
            raise QecInputError(
                f"bitstring {bits!r} has {len(bits)} bits but the circuit has {num_qubits} qubits: give one bit per "
                "qubit, qubit 0 leftmost"
            )
        if num_qubits > MAX_BITSTRING_QUBITS:
            raise QecInputError(
                f"the probability of a {num_qubits}-bit string is a sum of 2^{num_qubits} Pauli terms; the limit "
                f"is {MAX_BITSTRING_QUBITS} qubits: use a Pauli sum on fewer qubits"
            )
        terms = []
        for mask in range(2**num_qubits):
            label = "".join("Z" if mask >> q & 1 else "I" for q in range(num_qubits))
            sign = (-1) ** sum(int(bits[q]) for q in range(num_qubits) if mask >> q & 1)
            terms.append((label, sign / 2**num_qubits))
        return cls.from_terms(terms, num_qubits=num_qubits)

    @classmethod
    def from_terms(cls, terms: Sequence[tuple[str, complex]], *, num_qubits: int) -> PauliSum:
        """Terms with equal labels summed, zeros dropped, first appearance kept; raises QecInputError for a
        coefficient with an imaginary part (the observable would not be Hermitian) or too many terms."""
        scale = max((abs(c) for _, c in terms), default=0.0)
        combined: dict[str, float] = {}
        for label, coefficient in terms:
            value = complex(coefficient)
            if not (math.isfinite(value.real) and math.isfinite(value.imag)):
                raise QecInputError(f"observable term {label} has coefficient {coefficient}: give finite numbers")
            if abs(value.imag) > _IMAGINARY_TOLERANCE * max(scale, 1.0):
                raise QecInputError(
                    f"observable term {label} has the complex coefficient {coefficient}, so the observable is not "
                    "Hermitian: give real coefficients"
                )
            combined[label] = combined.get(label, 0.0) + value.real
        if len(combined) > MAX_TERMS:
            raise QecInputError(
                f"the observable has {len(combined):,} distinct Pauli terms; the limit is {MAX_TERMS:,}: "
                "use fewer terms"
            )
        kept = tuple((label, c) for label, c in combined.items() if c != 0)
        return cls(num_qubits, kept or (("I" * num_qubits, 0.0),))

    @classmethod
    def from_sparse_pauli_op(cls, operator: SparsePauliOp, *, num_qubits: int) -> PauliSum:
        """A `SparsePauliOp` (Qiskit's label order: qubit 0 rightmost) on `num_qubits` qubits.

        >>> PauliSum.from_sparse_pauli_op(SparsePauliOp(["IZ", "XI"], [1.0, 0.5]), num_qubits=2).describe()
        'ZI + 0.5*IX'
        """
        if operator.num_qubits != num_qubits:
            raise QecInputError(
                f"the observable acts on {operator.num_qubits} qubits but the circuit has {num_qubits}: give an "
                f"observable on {num_qubits} qubits"
            )
        terms = []
        for letters, indices, coefficient in operator.to_sparse_list():
            label = ["I"] * num_qubits
            for letter, qubit in zip(letters, indices):
                label[qubit] = letter
            terms.append(("".join(label), complex(coefficient)))
        return cls.from_terms(terms, num_qubits=num_qubits)

    @classmethod
    def from_mitiq(cls, observable: Observable, *, num_qubits: int) -> PauliSum:
        """A Mitiq `Observable` whose Pauli strings act on LineQubits 0 .. num_qubits - 1."""
        terms = []
        for pauli in observable.paulis:
            support = sorted(pauli.support())
            if support and (support[-1] >= num_qubits or support[0] < 0):
                raise QecInputError(
                    f"the observable acts on qubit {support[-1]} but the circuit has {num_qubits} qubits "
                    f"(0 to {num_qubits - 1}): give an observable on those qubits"
                )
            label = ["I"] * num_qubits
            for qubit, gate in pauli._pauli.items():  # Mitiq keeps a cirq.PauliString
                label[qubit.x] = str(gate)
            terms.append(("".join(label), complex(pauli.coeff)))
        return cls.from_terms(terms, num_qubits=num_qubits)

    def groups(self) -> list[tuple[int, ...]]:
        """Qubit-wise commuting groups of term indices: each term joins the first group whose letters agree
        with its own on every qubit where both are not I (so one measurement basis serves the whole group)."""
        bases: list[list[str]] = []
        members: list[list[int]] = []
        for index, (label, _) in enumerate(self.terms):
            for basis, group in zip(bases, members):
                if all(a == "I" or b == "I" or a == b for a, b in zip(label, basis)):
                    basis[:] = [b if a == "I" else a for a, b in zip(label, basis)]
                    group.append(index)
                    break
            else:
                bases.append(list(label))
                members.append([index])
        return [tuple(group) for group in members]

    def to_mitiq(self) -> Observable:
        """Mitiq's `Observable` with `groups()` as its measurement groups (Mitiq's own partition shuffles at
        random, which would change the measured circuits from run to run)."""
        collections = []
        for group in self.groups():
            paulis = []
            for i in group:
                spec, support = _sparse(self.terms[i][0])
                paulis.append(PauliString(spec, coeff=self.terms[i][1], support=support))
            # groups() made them qubit-wise commuting; Mitiq's own check compares every pair (minutes at 4096 terms)
            collections.append(PauliStringCollection(*paulis, check_precondition=False))
        return Observable.from_pauli_string_collections(*collections)

    def to_sparse_pauli_op(self) -> SparsePauliOp:
        """The same operator as Qiskit's `SparsePauliOp` (labels reversed, qubit 0 rightmost).

        >>> PauliSum.parse("ZI", num_qubits=2).to_sparse_pauli_op()
        SparsePauliOp(['IZ'],
                      coeffs=[1.+0.j])
        """
        return SparsePauliOp([label[::-1] for label, _ in self.terms], [c for _, c in self.terms])

    def describe(self) -> str:
        """The sum as text that `parse` reads back to the same terms."""
        parts = []
        for index, (label, coefficient) in enumerate(self.terms):
            sign = "-" if coefficient < 0 else "+"
            size = abs(coefficient)
            text = label if size == 1 else f"{size:.12g}*{label}"
            parts.append(("-" + text if sign == "-" else text) if index == 0 else f"{sign} {text}")
        return " ".join(parts)


def pauli_sum(observable: str | SparsePauliOp | Observable | PauliSum, *, num_qubits: int) -> PauliSum:
    """`observable` (text, a Qiskit `SparsePauliOp`, a Mitiq `Observable` or a `PauliSum`) on a circuit of
    `num_qubits` qubits; raises QecInputError when it does not act on exactly those qubits."""
    if isinstance(observable, PauliSum):
        if observable.num_qubits != num_qubits:
            raise QecInputError(
                f"the observable acts on {observable.num_qubits} qubits but the circuit has {num_qubits}: give an "
                f"observable on {num_qubits} qubits"
            )
        return observable
    if isinstance(observable, str):
        return PauliSum.parse(observable, num_qubits=num_qubits)
    if isinstance(observable, SparsePauliOp):
        return PauliSum.from_sparse_pauli_op(observable, num_qubits=num_qubits)
    if isinstance(observable, Observable):
        return PauliSum.from_mitiq(observable, num_qubits=num_qubits)
    raise QecInputError(
        f"observable must be text (e.g. 'ZZII + 0.5*XXXX' or 'bitstring:0101'), a qiskit SparsePauliOp or a Mitiq "
        f"Observable, got {type(observable).__name__}"
    )


def ideal_value(circuit: QuantumCircuit, observable: PauliSum) -> float | None:
    """<observable> in the noiseless state of `circuit` (no measurements), or None when it cannot be computed:
    a non-Clifford circuit beyond `MAX_IDEAL_STATEVECTOR_QUBITS` qubits or whose statevector would not fit.

    One Aer run with `save_expectation_value`: the stabilizer method when every gate is Clifford, else the
    statevector method.

    >>> circuit = QuantumCircuit(2)
    >>> _ = circuit.h(0), circuit.cx(0, 1)
    >>> ideal_value(circuit, pauli_sum("XX + 0.5*ZI", num_qubits=2))
    1.0
    """
    if observable.num_qubits != circuit.num_qubits:
        raise QecInputError(
            f"the observable acts on {observable.num_qubits} qubits but the circuit has {circuit.num_qubits}"
        )
    method = "stabilizer" if is_clifford(circuit) else "statevector"
    if method == "statevector":
        if circuit.num_qubits > MAX_IDEAL_STATEVECTOR_QUBITS:
            return None
        try:
            check_state_fits(circuit.num_qubits, method=method, device="CPU")
        except QecInputError:
            return None
    probe = circuit.copy()
    probe.save_expectation_value(observable.to_sparse_pauli_op(), list(range(circuit.num_qubits)), label="ideal")
    result = AerSimulator(method=method).run(probe, shots=1).result()
    return round(float(np.real(result.data(0)["ideal"])), 12)


@dataclass(frozen=True)
class ShotEstimate:
    """An observable's mean over measured shots and its shot-noise standard error, and what it cost."""

    value: float
    standard_error: float
    circuits: int
    shots: int


def measure(backend: Backend, circuit: QuantumCircuit, observable: PauliSum) -> ShotEstimate:
    """<observable> on `backend` from `circuit` (no measurements) measured once per group, all groups in one
    Aer call, with its shot-noise standard error sqrt(sum_g Var_g / shots): each shot of group g gives the
    value sum_{k in g} c_k (-1)^(parity of P_k's bits), and groups are independent runs."""
    mitiq_observable = observable.to_mitiq()
    results = backend.run(mitiq_observable.measure_in(circuit))
    value, variance = 0.0, 0.0
    for group, result in zip(mitiq_observable.groups, results):
        samples = group_samples(group, result)
        value += float(np.mean(samples))
        variance += float(np.var(samples, ddof=1)) / len(samples) if len(samples) > 1 else math.inf
    return ShotEstimate(value, math.sqrt(variance), len(results), len(results) * backend.shots)


def group_samples(group: PauliStringCollection, result: MeasurementResult) -> np.ndarray:
    """Per shot, sum_k c_k (-1)^(parity of the bits P_k acts on): a float array of shape (shots,)."""
    total = np.zeros(result.shots)
    for pauli in group.elements:
        support = sorted(pauli.support())
        parity = result.filter_qubits(support).sum(axis=1) % 2 if support else np.zeros(result.shots, dtype=int)
        total += float(np.real(pauli.coeff)) * (1 - 2 * parity)
    return total


def _term(word: str | None, coefficient: float, num_qubits: int, number: int) -> tuple[str, float]:
    """One parsed term, its word checked: letters from I, X, Y, Z, one per qubit (None: the identity)."""
    if word is None:
        return "I" * num_qubits, coefficient
    for letter in word:
        if letter not in PAULI_LETTERS:
            raise QecInputError(
                f"unknown Pauli letter {letter!r} in {word!r} (observable term {number}): use I, X, Y, Z"
                + (" in capitals" if letter.upper() in PAULI_LETTERS else "")
            )
    if len(word) != num_qubits:
        raise QecInputError(
            f"observable term {word!r} has {len(word)} letters but the circuit has {num_qubits} qubits: give one "
            "letter per qubit, qubit 0 leftmost"
        )
    return word, coefficient


def _sparse(label: str) -> tuple[str, list[int]]:
    """A full label as Mitiq's (spec, support): the non-identity letters and the qubits they act on."""
    support = [q for q, letter in enumerate(label) if letter != "I"]
    return "".join(label[q] for q in support), support


def _syntax(text: str, index: int) -> QecInputError:
    return QecInputError(
        f"observable {text!r} cannot be read at character {index + 1}: write a sum of terms like "
        "'ZZII + 0.5*XXXX - 0.2*IYZI' (one Pauli word per term, qubit 0 leftmost), or bitstring:0101"
    )

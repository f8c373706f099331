r"""Whether a circuit's detectors and observables are deterministic, checked before anything is sampled or stored.

A detector (or observable) whose parity is random without noise means nothing to decode: Stim refuses to make
the circuit's detector error model, in a long message. `check_deterministic` turns that into one line naming the
first detector or observable and the operation it anti-commutes with.

>>> check_deterministic(stim.Circuit("R 0\nX_ERROR(0.1) 0\nM 0\nDETECTOR rec[-1]\nOBSERVABLE_INCLUDE(0) rec[-1]"))
>>> check_deterministic(stim.Circuit("R 0\nH 0\nM 0\nDETECTOR rec[-1]"), name="d.stim")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qec.errors.QecInputError: d.stim has a non-deterministic detector D0: without noise its parity is random ...
"""

from __future__ import annotations

import re

import stim

from qec.errors import QecInputError


def check_deterministic(circuit: stim.Circuit, *, name: str = "the circuit") -> None:
    """QecInputError (one line, naming the detector or observable) unless every detector and observable of
    `circuit` is deterministic without noise, as Stim's detector error model needs; `name` says which circuit.
    Costs one detector error model of the circuit without its noise (heralds kept as MPAD, so the measurement
    record is the same): no error is analysed, about 20 ms for a d = 25 surface-code memory of 25 rounds."""
    try:
        circuit.without_noise().detector_error_model()
    except ValueError as error:
        raise QecInputError(describe_failure(str(error), name=name)) from None


def describe_failure(message: str, *, name: str = "the circuit") -> str:
    r"""One line for Stim's message `message` on why it cannot make a circuit's detector error model.

    >>> describe_failure("The circuit contains non-deterministic observables.\n\nThis was discovered while "
    ...     "analyzing a Z-basis reset (R) on:\n    qubit 0\n\nThe collapse anti-commuted with these "
    ...     "detectors/observables:\n    L0\n")  # doctest: +ELLIPSIS
    'the circuit has a non-deterministic observable L0: ... (anti-commutes with a Z-basis reset (R) on qubit 0), so ...'
    """
    if "non-deterministic" not in message:
        first = next((line.strip() for line in message.splitlines() if line.strip()), "no reason given")
        return f"{name}: Stim cannot make its detector error model: {first[:200]}"
    listed = re.search(r"anti-commuted with these detectors/observables:\s*\n((?:[ \t]+\S.*\n?)+)", message)
    targets = listed.group(1).split() if listed else []
    kind = "observable" if "non-deterministic observables" in message else "detector"
    named = next((t for t in targets if t.startswith("L" if kind == "observable" else "D")), None)
    cause = re.search(r"discovered while analyzing an? (.+?) on:\s*\n\s*(.+)", message)
    where = f" (anti-commutes with a {cause.group(1)} on {cause.group(2).strip()})" if cause else ""
    return (
        f"{name} has a non-deterministic {kind}{' ' + named if named else ''}: without noise its parity is random"
        f"{where}, so there is no logical error to count; fix its DETECTOR/OBSERVABLE_INCLUDE records, or remove it"
    )

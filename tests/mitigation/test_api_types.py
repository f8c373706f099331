"""The public mitigation API refuses wrong types with QecInputError naming the parameter (issue 20, point 4): strings
for numbers, None, bools, NaN, lists and other objects, drawn by hypothesis, one bad argument at a time among good
ones. Each refusal comes before anything is simulated, so every example is fast."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit

from qec.errors import QecInputError
from qec.mitigation import (
    CdrOptions,
    LreOptions,
    NoiseSpec,
    PecOptions,
    Technique,
    TwirlOptions,
    ZneOptions,
    apply_technique,
    mitigate,
    mitigate_logical_memory,
    mitigate_workload,
    register_technique,
)
from qec.mitigation.backends import aer_backend
from qec.mitigation.workloads import workload

BELL = QuantumCircuit(2)
BELL.h(0)
BELL.cx(0, 1)

# Values that are wrong for any parameter of the given kind.
NOT_NUMBERS = [None, True, False, "3", "", 1.5, math.nan, math.inf, -math.inf, [1], (2,), {"a": 1}, b"4", object()]
NOT_INTEGERS = NOT_NUMBERS + [-1, 10**30, 2.0]
NOT_TEXT = [None, True, 1, 1.5, math.nan, ["zne"], ("cpu",), {"a": 1}, b"zne", object()]
NOT_NAMES = NOT_TEXT + ["", "nope", " zne"]

# parameter -> (wrong values, a word the message must hold)
MITIGATE = {
    "circuit": ([None, 1, math.nan, [BELL], {"a": 1}, b"x", object()], "circuit"),
    "observable": ([None, 1, math.nan, ["ZZ"], {"ZZ": 1}, b"ZZ", object()], "observable"),
    "noise": ([None, True, 1, math.nan, [0.01], {"p2": 0.01}, object()], "noise"),
    "technique": (NOT_NAMES, "technique"),
    "options": ([1, "zne", math.nan, [1, 3], {"scale_factors": (1, 3)}, PecOptions(), object()], "Options"),
    "device": (NOT_NAMES, "device"),
    "method": (NOT_NAMES, "method"),
    "shots": (NOT_INTEGERS + [0], "shots"),
    "seed": ([v for v in NOT_INTEGERS if v is not None], "seed"),
    "threads": (NOT_INTEGERS, "threads"),
    "name": ([v for v in NOT_TEXT], "name"),
}
WORKLOAD = {
    "workload": (NOT_NAMES, "workload"),
    "qubits": (NOT_INTEGERS + [0], "qubits"),
    "noise": ([None, True, 1, "p2=0.01", math.nan, [0.01], object()], "noise"),
    "technique": (NOT_NAMES, "technique"),
    "options": ([1, "zne", [1, 3], CdrOptions(), object()], "Options"),
    "device": (NOT_NAMES, "device"),
    "method": (NOT_NAMES, "method"),
    "shots": (NOT_INTEGERS + [0], "shots"),
    "seed": ([v for v in NOT_INTEGERS if v is not None], "seed"),
    "threads": (NOT_INTEGERS, "threads"),
}
LOGICAL = {
    "family": (NOT_NAMES, "family"),
    "distance": (NOT_INTEGERS + [0], "distance"),
    "rounds": ([v for v in NOT_INTEGERS if v is not None] + [0], "rounds"),
    "noise": ([None, True, 1, "p2=0.01", math.nan, [0.01], object()], "noise"),
    "device": (NOT_NAMES, "device"),
    "method": (NOT_NAMES, "method"),
    "shots": (NOT_INTEGERS + [0], "shots"),
    "stim_shots": (NOT_INTEGERS + [0], "stim_shots"),
    "decoder": (NOT_NAMES, "decoder"),
    "zne_options": ([None, 1, "zne", [1, 1.5, 2], PecOptions(), object()], "ZneOptions"),
    "seed": ([v for v in NOT_INTEGERS if v is not None], "seed"),
    "threads": (NOT_INTEGERS, "threads"),
}
OPTIONS = {
    (ZneOptions, "factory"): (NOT_NAMES, "ZNE factory"),
    (ZneOptions, "scaling"): (NOT_NAMES, "ZNE scaling"),
    (ZneOptions, "scale_factors"): (
        [None, 1, "1,3", math.nan, [1, math.nan], (1, "3"), (1, True), (1,), (1, 1), {"a": 1}, object()],
        "scale factors",
    ),
    (PecOptions, "samples"): (NOT_INTEGERS + [0, 1], "pec samples"),
    (CdrOptions, "training_circuits"): (NOT_INTEGERS + [0, 1], "cdr training_circuits"),
    (TwirlOptions, "variants"): (NOT_INTEGERS + [0, 1], "twirl variants"),
    (LreOptions, "degree"): (NOT_INTEGERS + [0], "lre degree"),
    (LreOptions, "chunks"): (NOT_INTEGERS + [0], "lre chunks"),
}


def one_bad(table: dict) -> st.SearchStrategy:
    """(parameter, a wrong value for it, the word its message must hold)."""
    return st.sampled_from(sorted(table, key=str)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(table[key][0]), st.just(table[key][1]))
    )


def refused(call, word: str) -> None:
    with pytest.raises(QecInputError) as error:
        call()
    message = str(error.value)
    assert word in message and "\n" not in message, message


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(one_bad(MITIGATE))
def test_mitigate_names_the_wrong_parameter(bad):
    name, value, word = bad
    kwargs = {"circuit": BELL, "observable": "ZZ", "noise": "p2=0.01", "shots": 100, "device": "cpu", "threads": 1}
    kwargs[name] = value
    refused(lambda: mitigate(**kwargs), word)


@FUZZ
@given(one_bad(WORKLOAD))
def test_mitigate_workload_names_the_wrong_parameter(bad):
    name, value, word = bad
    kwargs = {"workload": "ghz", "qubits": 3, "shots": 100, "device": "cpu", "threads": 1}
    kwargs[name] = value
    refused(lambda: mitigate_workload(**kwargs), word)


@FUZZ
@given(one_bad(LOGICAL))
def test_mitigate_logical_memory_names_the_wrong_parameter(bad):
    name, value, word = bad
    kwargs = {"family": "repetition", "distance": 3, "shots": 100, "stim_shots": 100, "device": "cpu", "threads": 1}
    kwargs[name] = value
    refused(lambda: mitigate_logical_memory(**kwargs), word)


@FUZZ
@given(one_bad(OPTIONS))
def test_options_objects_name_the_wrong_field(bad):
    (kind, field), value, word = bad
    refused(lambda: kind(**{field: value}), word)


GHZ = workload("ghz", qubits=2)
NOISE = NoiseSpec(depolarizing_2q=0.01)
BACKEND = aer_backend([GHZ.circuit], noise=NOISE, device="cpu", shots=100, seed=0, threads=1)
APPLY = {
    "technique": (NOT_NAMES, "technique"),
    "workload": ([None, 1, "ghz", BELL, [GHZ], object()], "workload"),
    "backend": ([None, 1, "cpu", [BACKEND], object()], "backend"),
    "noise": ([None, 1, "p2=0.01", math.nan, object()], "noise"),
    "options": ([1, "zne", [1, 3], PecOptions(), object()], "Options"),
    "seed": ([v for v in NOT_INTEGERS if v is not None], "seed"),
}


@FUZZ
@given(one_bad(APPLY))
def test_apply_technique_names_the_wrong_parameter(bad):
    name, value, word = bad
    kwargs = {"technique": "zne", "workload": GHZ, "backend": BACKEND, "noise": NOISE}
    kwargs[name] = value
    refused(lambda: apply_technique(**kwargs), word)


@pytest.mark.parametrize("value", [None, 1, "zne", [1], object()])
def test_register_technique_takes_a_technique_only(value):
    refused(lambda: register_technique(value), "Technique")


@pytest.mark.parametrize(("field", "value"), [("name", None), ("name", 1), ("name", "two words"), ("options", 1)])
def test_a_technique_with_a_wrong_field_is_refused_when_built(field, value):
    kwargs = {"name": "mine", "description": "mine", "run": lambda run: None, field: value}
    refused(lambda: Technique(**kwargs), "technique")

"""The options that `qec mitigate`'s commands share (workload, circuit, logical and vqe runs), and the one place
their flags become a technique's options object.

Every list in the help is read from the library's registries: techniques and their descriptions from
`qec.mitigation.techniques.TECHNIQUES`, factories and scalings from `FACTORIES` and `SCALINGS`, noise keys from
`NOISE_KEYS`. Flag defaults are the options objects' own defaults.

>>> technique_options("pt+zne", scale_factors="1,2", twirl_variants=4)  # doctest: +NORMALIZE_WHITESPACE
TwirledZneOptions(zne=ZneOptions(factory='richardson', scaling='global', scale_factors=(1.0, 2.0)),
                  twirl=TwirlOptions(variants=4))
>>> technique_options("zne", scale_factors="1,1,1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
qec.errors.QecInputError: ZNE scale factors must be distinct, got (1, 1, 1): ...
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from qec.engine import exit_with_parent
from qec.errors import QecInputError
from qec.mitigation.backends import DEVICES, METHODS
from qec.mitigation.noise_models import NOISE_KEYS
from qec.mitigation.techniques import (
    FACTORIES,
    SCALINGS,
    TECHNIQUES,
    LreOptions,
    PecOptions,
    TwirlOptions,
    ZneOptions,
    get_technique,
)

T = TypeVar("T")
ZNE_DEFAULTS, LRE_DEFAULTS, PEC_DEFAULTS, TWIRL_DEFAULTS = ZneOptions(), LreOptions(), PecOptions(), TwirlOptions()


def listed(names: Iterable[str]) -> str:
    return ", ".join(names)


def factors_text(factors: tuple[float, ...]) -> str:
    return ",".join(f"{factor:g}" for factor in factors)


Noise = Annotated[
    str,
    typer.Option(
        help="Comma-separated key=value; the keys (the NoiseSpec field each sets; rotation in radians): "
        + listed(key if field == key else f"{key} ({field})" for key, field in NOISE_KEYS.items() if key != "fake")
        + "; or fake=NAME alone: an IBM fake backend's calibrated noise and layout, e.g. "
        "fake=FakeManilaV2 (needs qiskit-ibm-runtime; REM then uses its per-qubit readout errors)."
    ),
]
Technique = Annotated[
    str,
    typer.Option(
        help="Mitigation technique: "
        + "; ".join(f"{name}: {technique.description}" for name, technique in TECHNIQUES.items())
        + "."
    ),
]
Factory = Annotated[str, typer.Option(help=f"ZNE factory: {listed(FACTORIES)}.")]
Scaling = Annotated[str, typer.Option(help=f"ZNE noise scaling: {listed(SCALINGS)}.")]
ScaleFactors = Annotated[
    str | None,
    typer.Option(
        help="ZNE scale factors, comma-separated, distinct, >= 1 (at least 2).",
        show_default=factors_text(ZNE_DEFAULTS.scale_factors),
    ),
]
PecSamples = Annotated[int, typer.Option(help="Circuits PEC samples.")]
TwirlVariants = Annotated[int, typer.Option(help="Pauli-twirled variants per circuit (pt, pt+zne, rem+pt+zne).")]
LreDegree = Annotated[int, typer.Option(help="LRE: polynomial degree in each chunk's noise scale.")]
LreChunks = Annotated[int, typer.Option(help="LRE: chunks of layers the circuit is cut into.")]
Device = Annotated[str, typer.Option(help=f"{listed(DEVICES)}; auto: the GPU if there is one, else the CPU.")]
Method = Annotated[str, typer.Option(help=f"Aer's simulation method: {listed(METHODS)}.")]
Shots = Annotated[int, typer.Option(help="Shots per circuit.")]
Seed = Annotated[int, typer.Option(help="Seed of the workload, sampling and simulation.")]
Threads = Annotated[int, typer.Option(help="Aer threads (0: all cores).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def scale_factors_of(text: str | None, *, default: ZneOptions) -> tuple[float, ...]:
    """--scale-factors as numbers, or `default`'s when not given."""
    if not text:
        return default.scale_factors
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise QecInputError(f"bad --scale-factors {text!r}: give comma-separated numbers >= 1, e.g. 1,3,5") from None


def technique_options(
    technique: str,
    *,
    factory: str = ZNE_DEFAULTS.factory,
    scaling: str = ZNE_DEFAULTS.scaling,
    scale_factors: str | None = None,
    pec_samples: int = PEC_DEFAULTS.samples,
    twirl_variants: int = TWIRL_DEFAULTS.variants,
    lre_degree: int = LRE_DEFAULTS.degree,
    lre_chunks: int = LRE_DEFAULTS.chunks,
) -> Any:
    """The options object of `technique` from the flags: every flag's options are built (so a bad flag is refused
    whichever technique runs), then the technique takes the ones of its type (`Technique.options_from`); a
    technique whose options no flag sets runs with its defaults."""
    parts = (
        ZneOptions(factory, scaling, scale_factors_of(scale_factors, default=ZNE_DEFAULTS)),
        LreOptions(lre_degree, LRE_DEFAULTS.fold_multiplier, lre_chunks),
        PecOptions(pec_samples),
        TwirlOptions(twirl_variants),
    )
    return get_technique(technique).options_from(*parts)


def run_on_aer(text: str, call: Callable[[], T]) -> T:
    """`call()` (one library run) with a spinner on stderr saying `text`, stopped within a second by Ctrl-C or
    SIGTERM, whatever Aer is doing.

    Aer runs a batch of circuits in native code holding Python's GIL (`cpp_execute_circuits`), so no signal handler
    of this process runs until the batch ends (minutes for a large one). Run as the `qec` console script on Linux,
    the call therefore runs in a forked child, which holds the only Aer state and sends back its result (or the
    exception it raised) through a pipe; the parent only waits on that pipe, so an interrupt reaches it at once: it
    kills the child (SIGKILL), reaps it, writes one line `interrupted` and exits with 130 (143 for SIGTERM) at once
    (nothing is written before the run ends, so nothing is left to flush). The child ignores SIGINT (a terminal's
    Ctrl-C reaches the whole process group) and is killed by the kernel if the parent dies of any signal
    (PR_SET_PDEATHSIG). Elsewhere (main() called in a Python session, other systems) the call runs in this process.
    """
    console_script = os.path.basename(sys.argv[0]) in ("qec", "qec.exe")
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not (console_script and in_main_thread and sys.platform.startswith("linux")):
        with Console(stderr=True).status(text):
            return call()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child, which never returns)
        os.close(read_end)
        _child_run(call, parent, write_end)
    os.close(write_end)
    terminated: list[bool] = []

    def on_sigterm(signum: int, frame: Any) -> None:
        terminated.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with Console(stderr=True).status(text), os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    except BaseException as error:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        if not isinstance(error, KeyboardInterrupt):
            raise
        # Nothing is written or half-written: the command prints only after the run. Exiting here skips the
        # seconds that the interpreter takes to tear down Qiskit, Mitiq and Cirq.
        sys.stdout.flush()
        print("interrupted", file=sys.stderr, flush=True)
        os._exit(143 if terminated else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _, status = os.waitpid(child, 0)
    if not data:
        how = f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "ended without a result"
        raise QecInputError(f"the Aer run {how}: rerun with fewer shots, qubits or circuits")
    ok, value = pickle.loads(data)  # our own child's objects through our own pipe, never a user's file
    if not ok:
        raise value
    return value


def _child_run(call: Callable[[], Any], parent: int, write_end: int) -> None:
    """In the forked child: runs `call`, writes (True, result) or (False, exception) to `write_end`, exits."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        exit_with_parent(parent)
        try:
            outcome: tuple[bool, Any] = (True, call())
        except Exception as error:  # re-raised in the parent: QecInputError becomes its one line there
            outcome = (False, error)
        try:
            data = pickle.dumps(outcome)
        except Exception as error:
            data = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)

"""Parts that compose: every part recorded whole and rebuilt from its row; a researcher's own decoder, code family
and noise model, defined in their own module outside the package, run on every executor (fork, spawn, a Dask
LocalCluster, the CLI's --cluster local:N) with their options."""

from __future__ import annotations

import importlib
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import stim

import qec
from qec import codes, decoders, engine, noise
from qec.engine import StopRule
from qec.errors import QecInputError
from qec.parts import StudySpec, memory_task, task_from_metadata
from qec.store import Store
from qec.study import collect_into, study_tasks

# A researcher's module: a decoder with an option, a code family and a noise model, each registered by one call.
RESEARCHER_MODULE = textwrap.dedent(
    '''
    import pymatching
    import sinter
    import stim

    from qec import codes, decoders, noise


    class FlippableMatching(sinter.Decoder):
        """MWPM whose predictions are inverted when flip=True: every shot MWPM gets right it gets wrong."""

        def __init__(self, *, flip: bool = False):
            self.flip = flip

        def compile_decoder_for_dem(self, *, dem):
            return Compiled(pymatching.Matching.from_detector_error_model(dem), self.flip)


    class Compiled(sinter.CompiledDecoder):
        def __init__(self, matching, flip):
            self.matching, self.flip = matching, flip

        def decode_shots_bit_packed(self, *, bit_packed_detection_event_data):
            predictions = self.matching.decode_batch(
                bit_packed_detection_event_data, bit_packed_shots=True, bit_packed_predictions=True
            )
            return predictions ^ 1 if self.flip else predictions


    def rotated_x(*, distance, rounds, basis):
        return stim.Circuit.generated("surface_code:rotated_memory_x", distance=distance, rounds=rounds)


    decoders.register("flippable", FlippableMatching, description="MWPM, inverted on request")
    codes.register_family(
        codes.CodeFamily(
            name="surface-x",
            description="the rotated surface code's X memory",
            build=rotated_x,
            bases=("X",),
            matchable=True,
            checks=lambda d: d * d - 1,
            qubits=lambda d: 2 * d * d + 3 * d - 1,
        )
    )
    noise.register_noise(
        noise.NoiseFamily(
            name="measure-heavy",
            description="2q gates p, measurements and resets 3p",
            strengths=noise.Strengths(clifford_2q=1, reset=3, ancilla_measure=3, data_measure=3),
        )
    )
    '''
)


@pytest.fixture
def researcher(tmp_path, monkeypatch):
    """The researcher's module, imported from its own folder (put on sys.path, as a user's own module is)."""
    (tmp_path / "researcher_parts.py").write_text(RESEARCHER_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codes, "USER_FAMILIES", {})
    monkeypatch.setattr(noise, "USER_NOISE_FAMILIES", {})
    monkeypatch.setattr(decoders, "_REGISTRY", dict(decoders._REGISTRY))
    sys.modules.pop("researcher_parts", None)
    module = importlib.import_module("researcher_parts")
    yield module
    sys.modules.pop("researcher_parts", None)


def _tasks(decoder_options):
    return study_tasks(
        "surface-x",
        distances=[3],
        ps=[0.01],
        noise="measure-heavy",
        basis="X",
        decoder="flippable",
        decoder_options=decoder_options,
    )


STOP = StopRule(max_shots=4000, max_errors=None)
CHUNK = 1000  # fixed chunks: the same seeds and counts on every executor


def _errors(tasks, tmp_path, name, **options):
    totals = collect_into(tasks, store=tmp_path / name, stop=STOP, chunk_shots=CHUNK, **options)
    (only,) = totals.values()
    assert only.counts.shots == STOP.max_shots
    return only.counts.errors


def test_a_researchers_parts_run_under_fork_and_spawn_with_their_options(researcher, tmp_path, monkeypatch):
    plain = _errors(_tasks({}), tmp_path, "fork.db", workers=2)
    # MWPM at p = 1% fails ~8% of these shots (binomial sd 0.4%): the option flip=True, reaching the worker,
    # makes ~92% fail. Either bound is > 40 sd away.
    assert 0 < plain < STOP.max_shots // 4
    assert _errors(_tasks({"flip": True}), tmp_path, "flip.db", workers=2) > STOP.max_shots * 3 // 4
    monkeypatch.setattr(engine, "_process_context", lambda: engine.multiprocessing.get_context("spawn"))
    assert _errors(_tasks({}), tmp_path, "spawn.db", workers=2) == plain  # same task, same seeds, same counts
    # Objects handed in directly, as sinter's custom_decoders takes them, under spawn: no registry needed. One task
    # id (decoder "mine"), so the same shots: the flipped object gets exactly the other shots wrong.
    mine = study_tasks("surface-x", distances=[3], ps=[0.01], noise="measure-heavy", basis="X", decoder="mine")
    kept = _errors(mine, tmp_path, "mine.db", workers=2, custom_decoders={"mine": researcher.FlippableMatching()})
    flipped = {"mine": researcher.FlippableMatching(flip=True)}
    assert _errors(mine, tmp_path, "mine-flipped.db", workers=2, custom_decoders=flipped) == STOP.max_shots - kept


@pytest.mark.slow
def test_a_researchers_parts_run_on_a_dask_local_cluster(researcher, tmp_path):
    flipped = _errors(_tasks({"flip": True}), tmp_path, "pool.db", workers=1)
    assert _errors(_tasks({"flip": True}), tmp_path, "dask.db", cluster="local:2") == flipped
    mine = study_tasks("surface-x", distances=[3], ps=[0.01], noise="measure-heavy", basis="X", decoder="mine")
    kept = _errors(mine, tmp_path, "mine.db", workers=1, custom_decoders={"mine": researcher.FlippableMatching()})
    objects = {"mine": researcher.FlippableMatching(flip=True)}
    assert _errors(mine, tmp_path, "dask-mine.db", cluster="local:2", custom_decoders=objects) == STOP.max_shots - kept


@pytest.mark.slow
def test_the_cli_runs_a_researchers_plugin_on_a_local_cluster(tmp_path):
    plugin = tmp_path / "researcher_parts.py"
    plugin.write_text(RESEARCHER_MODULE)
    store = tmp_path / "cli.db"
    common = ["--plugin", str(plugin), "--distance", "3", "--p", "0.01", "--noise", "measure-heavy", "--basis", "X"]
    run = [str(Path(sys.executable).parent / "qec"), "collect", "surface-x", *common, "--decoder", "flippable"]
    limits = ["--max-shots", "4000", "--max-errors", "100000", "--chunk-shots", "1000", "--store", str(store), "--json"]
    subprocess.run([*run, *limits, "--workers", "1"], check=True, capture_output=True, cwd=tmp_path)
    flipped = [*run, "--decoder-option", "flip=true", *limits, "--cluster", "local:2"]
    subprocess.run(flipped, check=True, capture_output=True, cwd=tmp_path)
    totals = Store(store, read_only=True).totals().values()
    assert all(t.counts.shots == 4000 for t in totals)
    errors = {t.metadata.get("decoder_options", {}).get("flip", False): t.counts.errors for t in totals}
    assert errors[False] < 1000 < 3000 < errors[True]  # ~8% and ~92% of 4,000 (sd 17 shots)


def test_every_stored_task_is_rebuilt_from_its_metadata_with_the_same_id(tmp_path, researcher):
    """The metadata round trip: each part recorded whole, so each row rebuilds the task exactly."""
    specs = [
        StudySpec.of("surface", noise="si1000", rounds=2, basis="X"),
        StudySpec.of("repetition", noise="code-capacity", pauli="independent", rounds=1, decoder="uf"),
        StudySpec.of("surface", noise="biased", bias=100, decoder="bposd", decoder_options={"osd_order": 3}),
        StudySpec.of("surface", noise="biased", bias=math.inf, decoder="relay", decoder_options={"seed": 2}),
        StudySpec.of("color", noise="sd6", rounds=2, decoder="bp", decoder_options={"scaling_factor": 1}),
        StudySpec.of("bb", noise="uniform", rounds=1, decoder="bposd"),
        StudySpec.of(
            "surface-x", noise="measure-heavy", basis="X", decoder="flippable", decoder_options={"flip": True}
        ),
    ]
    tasks = [task for spec in specs for task in spec.tasks(distances=[spec_distance(spec)], ps=[0.001, 0.002])]
    with Store(tmp_path / "all.db") as store:
        store.add_tasks(tasks)
    stored = Store(tmp_path / "all.db", read_only=True).totals()
    assert len(stored) == len(tasks)
    for task_id, totals in stored.items():
        rebuilt = task_from_metadata(totals.decoder, totals.metadata)
        assert rebuilt.task_id == task_id, totals.metadata
    decoder_options = {t.metadata.get("decoder_options", {}).get("osd_order") for t in stored.values()}
    assert 3 in decoder_options
    assert {t.metadata.get("bias") for t in stored.values()} >= {100, "inf"}


def spec_distance(spec):
    return 6 if spec.family == "bb" else 3


def test_pure_dephasing_puts_z_noise_at_every_noisy_location_and_nothing_else():
    circuit = qec.noisy_memory_circuit("surface", distance=3, rounds=2, noise="biased", p=0.01, bias=math.inf)
    biased = qec.noisy_memory_circuit("surface", distance=3, rounds=2, noise="biased", p=0.01, bias=100)
    names = [instruction.name for instruction in circuit.flattened() if stim.gate_data(instruction.name).is_noisy_gate]
    channels = [i for i in circuit.flattened() if i.name in ("Z_ERROR", "PAULI_CHANNEL_1")]
    assert "PAULI_CHANNEL_1" not in names and "Z_ERROR" in names
    pauli_locations = [i for i in biased.flattened() if i.name == "PAULI_CHANNEL_1"]
    z_locations = [i for i in channels if i.name == "Z_ERROR" and i.gate_args_copy() == [0.01]]
    assert sum(len(i.targets_copy()) for i in z_locations) == sum(len(i.targets_copy()) for i in pauli_locations)
    assert all(not math.isnan(arg) for i in circuit.flattened() for arg in i.gate_args_copy())


@pytest.mark.parametrize(
    "parts, message",
    [
        (dict(noise="biased", bias=-1.0), "bias eta must be a number > 0"),
        (dict(noise="biased", bias=math.nan), "bias eta must be a number > 0"),
        (dict(noise="sd6", bias=100.0), "noise model 'sd6' has no bias"),
        (dict(noise="code-capacity", pauli="biased"), "takes the Pauli channel depolarizing or independent"),
        (dict(noise="si1000", p=0.3), "its ancilla_measure probability 5p = 1.5 exceeds 1"),
        (dict(decoder="bposd", decoder_options={"osd_order": "ten"}), "option 'osd_order' must be an integer"),
        (dict(decoder="relay", decoder_options={"legs": 3}), "decoder 'relay' has no option 'legs'"),
        (dict(decoder="uf", decoder_options={"granularity": 0}), "granularity must be a whole number >= 1"),
    ],
)
def test_parameters_that_make_no_channel_or_decoder_are_refused_naming_them(parts, message):
    p = parts.pop("p", 0.001)
    with pytest.raises(QecInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        memory_task("surface", distance=3, p=p, **parts)


def test_a_custom_decoder_that_is_not_a_sinter_decoder_is_refused_before_any_file(tmp_path):
    tasks = study_tasks("surface", distances=[3], ps=[0.001], noise="sd6", decoder="mine")
    with pytest.raises(QecInputError, match=r"custom_decoders\['mine'\] is a str"):
        collect_into(tasks, store=tmp_path / "x.db", custom_decoders={"mine": "pymatching"})
    with pytest.raises(QecInputError, match="unknown decoder 'mine'"):
        collect_into(tasks, store=tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()

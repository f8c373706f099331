"""No number without meaning (issue 20, point 5): REM with a singular or near-singular confusion matrix, ZNE and
logical ZNE through coinciding noise levels, PEC with too few samples for an error bar and a CDR fit with nothing to
fit are refused in one line (exit 2 in the CLI, QecInputError in the API); a bar that every shot agreeing would
make 0 is floored; logical ZNE carries an error bar."""

import math

import pytest
from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel, ReadoutError

from qec.cli.main import main
from qec.errors import QecInputError
from qec.mitigation import NoiseSpec, PecOptions, ZneOptions, mitigate, mitigate_logical_memory, mitigate_workload
from qec.mitigation.backends import MAX_REM_AMPLIFICATION, check_rem_rates
from qec.mitigation.logical import check_logical_noise_levels, fold_gates
from qec.mitigation.techniques import CdrOptions, TwirledZneOptions, check_noise_levels, realized_scale_factors

FAST = ["--shots", "500", "--threads", "1", "--device", "cpu"]


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ghz", "--qubits", "3", "--noise", "readout=0.5", "--technique", "rem"], "confusion matrix is singular"),
        (["ghz", "--qubits", "3", "--noise", "readout=0.5", "--technique", "rem+zne"], "singular"),
        (["ghz", "--qubits", "3", "--noise", "readout=0.45", "--technique", "rem"], "near-singular"),
        (
            ["ghz", "--qubits", "3", "--technique", "pec", "--pec-samples", "1"],
            "the spread of the samples, so 2 at least",
        ),
        (["ghz", "--qubits", "3", "--scale-factors", "1,1.1,1.2"], "same noise level more than once"),
        (["ghz", "--qubits", "3", "--technique", "pt+zne", "--scale-factors", "1,1.2"], "same noise level"),
        (["logical", "repetition", "--scale-factors", "1,1.001,1.002", "--stim-shots", "100"], "same noise level"),
    ],
)
def test_a_number_that_would_mean_nothing_is_refused_in_one_line(capsys, argv, message):
    assert main(["mitigate", *argv, *FAST]) == 2
    assert message in one_error_line(capsys)


def test_the_api_refuses_them_too():
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    with pytest.raises(QecInputError, match="singular"):
        mitigate(bell, "ZZ", noise="readout=0.5", technique="rem", shots=100, device="cpu", threads=1)
    with pytest.raises(QecInputError, match="pec samples"):
        PecOptions(samples=1)
    with pytest.raises(QecInputError, match="same noise level"):
        mitigate_workload("ghz", qubits=3, options=ZneOptions(scale_factors=(1, 1.1)), shots=100, device="cpu")
    with pytest.raises(QecInputError, match="same noise level"):
        mitigate_logical_memory(
            "repetition", zne_options=ZneOptions(scale_factors=(1, 1.0001)), shots=100, stim_shots=100, device="cpu"
        )


def test_a_users_noise_model_with_a_readout_rate_of_one_half_is_refused_before_anything_runs():
    model = NoiseModel()
    model.add_readout_error(ReadoutError([[0.4, 0.6], [0.4, 0.6]]), [1])  # mean flip rate (0.6 + 0.4) / 2 = 0.5
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    with pytest.raises(QecInputError, match="qubit 1 misreads with probability 0.5: its confusion matrix is singular"):
        mitigate(bell, "ZZ", noise=model, technique="rem", shots=100, device="cpu", threads=1)


def test_rem_refuses_exactly_beyond_its_amplification_limit():
    check_rem_rates([0.4] * 4)  # (1 / 0.2)^4 = 625, within the limit
    with pytest.raises(QecInputError, match="near-singular"):
        check_rem_rates([0.4] * 5)  # 3125
    assert (1 / 0.2) ** 4 <= MAX_REM_AMPLIFICATION < (1 / 0.2) ** 5
    with pytest.raises(QecInputError, match="beyond 0.5"):
        check_rem_rates([0.7])


def test_realized_noise_levels_are_what_folding_gives():
    ghz = QuantumCircuit(3)
    ghz.h(0)
    ghz.cx(0, 1)
    ghz.cx(1, 2)
    from mitiq.zne.scaling import fold_global

    assert realized_scale_factors(ghz, [1, 3, 5], fold_global) == (1.0, 3.0, 5.0)
    check_noise_levels(ghz, [1, 3, 5], fold_global)  # odd integers fold exactly: accepted
    with pytest.raises(QecInputError, match="scale factors 1,1,1, 1 distinct"):
        check_noise_levels(ghz, [1, 1.1, 1.2], fold_global)
    folded = [fold_gates(ghz, s, seed=0) for s in (1, 3, 5)]
    check_logical_noise_levels(ghz, folded, (1, 3, 5))


def test_twirled_zne_options_with_coinciding_levels_are_refused_through_the_api():
    options = TwirledZneOptions(zne=ZneOptions(scale_factors=(1, 1.1)))
    with pytest.raises(QecInputError, match="same noise level"):
        mitigate_workload("ghz", qubits=3, technique="pt+zne", options=options, shots=100, device="cpu", threads=1)


def test_cdr_whose_training_circuits_all_agree_is_refused():
    # Under no noise, rz only rotates the phase: Z on qubit 0 is +1 in every shot of every training circuit.
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.h(0)
    circuit.rz(0.3, 0)
    with pytest.raises(QecInputError, match="training circuits all gave the noisy value 1"):
        mitigate(
            circuit,
            "Z",
            noise="none",
            technique="cdr",
            options=CdrOptions(training_circuits=4),
            shots=200,
            device="cpu",
            threads=1,
        )


def test_every_shot_alike_still_gives_an_error_bar_of_one_shot_in_shots():
    # Noiseless GHZ: ZZ on qubits 0, 1 is +1 in every shot; its bar is floored at 2/shots, as a binomial rate with
    # no events is at 1/shots (per-shot values span 2).
    report = mitigate_workload(
        "ghz", qubits=3, noise=NoiseSpec(), technique="none", shots=1000, device="cpu", threads=1
    )
    assert report.noisy == report.ideal == 1.0
    assert report.noisy_standard_error == pytest.approx(2 / 1000)
    assert report.standard_error == pytest.approx(2 / 1000)


def test_pec_with_a_few_samples_says_what_its_error_bar_is_and_warns(capsys):
    assert main(["mitigate", "ghz", "--qubits", "3", "--technique", "pec", "--pec-samples", "2", *FAST]) == 0
    out = capsys.readouterr().out
    assert "error bar: their signed values' spread / sqrt(2)" in out
    assert "warning: pec: the error bar is the spread of only 2 signed samples" in out
    assert "± 0\n" not in out


def test_logical_zne_reports_an_error_bar_on_the_mitigated_rate(capsys):
    report = mitigate_logical_memory("repetition", distance=3, rounds=2, shots=400, stim_shots=1000, device="cpu")
    error = report.logical_error_rate_mitigated_standard_error
    assert error is not None and math.isfinite(error) and error > 0
    assert report.mitigation.standard_error == pytest.approx(2 * error)
    assert report.as_dict()["logical_error_rate_mitigated_standard_error"] == error

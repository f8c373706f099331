"""Error mitigation: Mitiq techniques around Qiskit circuits run on Aer noise models."""

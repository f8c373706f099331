"""sinter's own decoder test suite, shipped in its wheel, run on every qec decoder (see sinter_suite_plugin.py)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest
import sinter

from qec import decoders

HERE = pathlib.Path(__file__).parent
SINTER_TESTS = pathlib.Path(sinter.__file__).parent / "_decoding" / "_decoding_test.py"
# Loaded by path: with --import-mode=importlib this folder is not on sys.path (the subprocess gets it on PYTHONPATH).
_SPEC = importlib.util.spec_from_file_location("sinter_suite_plugin", HERE / "sinter_suite_plugin.py")
sinter_suite_plugin = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sinter_suite_plugin)


@pytest.mark.slow
def test_sinter_decoder_suite_passes_on_every_qec_decoder(tmp_path):
    environment = dict(
        os.environ,
        SINTER_PYTEST_CUSTOM_DECODERS="sinter_suite_plugin:qec_decoders",
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SINTER_TESTS),
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "sinter_suite_plugin",
            "-k",
            sinter_suite_plugin.PREFIX,
            "-rfEs",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {outcome: int(number) for number, outcome in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)}
    print(f"\nsinter's decoder suite on {', '.join(decoders.names())}: {summary}")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]  # nothing failed
    assert counts["passed"] > 0
    # Each documented refusal skips its test twice (sinter runs each case in memory and via files).
    assert counts.get("skipped", 0) == 2 * len(sinter_suite_plugin.REFUSALS)

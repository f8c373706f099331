"""The README's "Extending qec" examples run as one script, as a newcomer would paste them: a code family, a noise
model, a decoder and a mitigation technique of one's own, each added by one entry and run end to end (worker
processes included: the script's parts reach them by value or by import)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def extending_examples() -> str:
    text = README.read_text()
    section = text.split("## Extending qec", 1)[1].split("\n## ", 1)[0]
    return "\n\n".join(re.findall(r"```python\n(.*?)```", section, re.S))


def test_the_section_has_an_example_of_each_kind_of_part():
    code = extending_examples()
    for call in (
        "register_family(",
        "register_noise(",
        "decoders.register(",
        "register_technique(",
        "custom_decoders=",
    ):
        assert call in code, call


@pytest.mark.slow
def test_the_extending_examples_run(tmp_path):
    script = tmp_path / "extending.py"
    script.write_text(extending_examples())
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "mine.db").exists()

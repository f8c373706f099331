"""A pytest plugin that runs sinter's own decoder tests (`sinter/_decoding/_decoding_test.py`) on qec's decoders.

sinter's test file adds the decoders that `SINTER_PYTEST_CUSTOM_DECODERS=module:function` returns
(`function()` is a dict name -> sinter.Decoder; `module` must be a top-level module, as sinter calls
`__import__(module)`). With this folder on PYTHONPATH, test_sinter_suite.py runs

    SINTER_PYTEST_CUSTOM_DECODERS=sinter_suite_plugin:qec_decoders \\
        python -m pytest <sinter>/_decoding/_decoding_test.py -p sinter_suite_plugin -k qec-

and this plugin skips the cases that a decoder documents it refuses (the `qec.decoders` docstring).
"""

from __future__ import annotations

import pytest
import sinter

from qec import decoders

PREFIX = "qec-"

# (sinter's test function, decoder) -> why it is skipped; each is a refusal the qec.decoders docstring lists.
REFUSALS = {
    (
        "test_decode_surface_code",
        PREFIX + "lookup",
    ): "'lookup' refuses DEMs of more than 20 detectors (a table of 2^num_detectors syndromes); this one has 120",
    **{
        (test, PREFIX + "chromobius"): "'chromobius' refuses DEMs whose detectors carry no colour (4th coordinate); "
        "this test's circuit has none (test_field_decoders.py decodes a colour code with it)"
        for test in [
            "test_decode_repetition_code",
            "test_decode_surface_code",
            "test_post_selection",
            "test_detector_counting",
        ]
    },
}


def qec_decoders() -> dict[str, sinter.Decoder]:
    """qec's decoders, named `qec-<name>` so that they do not replace sinter's own of the same name, `bposd`
    comparing logical classes (an option that decodes a second DEM, its observables made detectors), and `bposd`
    whose corrections descend by undetectable sets (an option that may change a correction's class)."""
    found = {PREFIX + name: decoder for name, decoder in decoders.sinter_decoders().items()}
    found[PREFIX + "bposd-compare-classes"] = decoders.get("bposd", compare_classes=True)
    found[PREFIX + "bposd-descent"] = decoders.get("bposd", descent=4)
    return found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        decoder = callspec.params.get("decoder") if callspec is not None else None
        reason = REFUSALS.get((item.originalname, decoder))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))

"""Every docstring example in every module of qec runs (as PyMatching and sinter run theirs), so the first
snippet a newcomer copies is one CI ran. All of them together take a few seconds, so none is marked slow."""

import doctest
import importlib
import pkgutil

import pytest

import qec


def module_names() -> list[str]:
    names = ["qec"]
    for package in ("qec", "qec.decoders", "qec.mitigation", "qec.cli", "qec.codes"):
        module = importlib.import_module(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
    return sorted(set(names) | {"qec.decoders", "qec.mitigation", "qec.cli", "qec.codes"})


@pytest.mark.parametrize("name", module_names())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    results = doctest.testmod(module, optionflags=doctest.ELLIPSIS, raise_on_error=False, verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} docstring examples in {name} failed"


def test_every_module_is_found():
    assert {"qec.study", "qec.decoders.union_find_kernels", "qec.mitigation.techniques", "qec.cli.main"} <= set(
        module_names()
    ) and qec.__version__

"""The examples in docstrings run and print what they say (doctest), so they stay true."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import pathgrad as pg

MODULES = [
    info.name
    for info in pkgutil.walk_packages(pg.__path__, "pathgrad.")
    if not info.name.endswith("__main__")  # importing it runs the command line
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(
        importlib.import_module(name),
        extraglobs={"pg": pg, "np": np, "nn": pg.nn, "F": pg.nn.functional},
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0


def test_the_examples_are_found():
    finder = doctest.DocTestFinder()
    examples = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name), globs={"pg": pg, "np": np})
    )
    assert examples >= 10  # a floor: testmod finding nothing would pass silently

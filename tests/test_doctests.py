"""Docstring examples run as doctests, and every public function documents itself.

Every module of the package is searched for examples (``doctest.DocTestFinder``); they run with
ELLIPSIS and NORMALIZE_WHITESPACE. The public functions (``mammo_cv.__all__`` and the methods
and properties of ``Result``) must have numpydoc Parameters (when they take any), Returns and
an Examples section with at least one example that is not skipped.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil

import pytest

import mammo_cv
from mammo_cv.pipeline.result import Result

MODULES = sorted(info.name for info in pkgutil.walk_packages(mammo_cv.__path__, "mammo_cv."))
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_pass(module_name):
    module = importlib.import_module(module_name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = io.StringIO()
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def _public_functions() -> dict[str, object]:
    functions = {name: getattr(mammo_cv, name) for name in mammo_cv.__all__
                 if inspect.isfunction(getattr(mammo_cv, name, None))}
    for name, member in vars(Result).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            functions[f"Result.{name}"] = member.fget
        elif inspect.isfunction(member):
            functions[f"Result.{name}"] = member
    return functions


PUBLIC = _public_functions()


def _runnable_examples(function) -> int:
    tests = doctest.DocTestParser().get_examples(inspect.getdoc(function) or "")
    return sum(not example.options.get(doctest.SKIP, False) for example in tests)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_function_has_numpydoc_sections_and_a_runnable_example(name):
    function = PUBLIC[name]
    doc = inspect.getdoc(function) or ""
    takes_arguments = any(parameter.name != "self" for parameter in inspect.signature(function).parameters.values())
    is_property = name.startswith("Result.") and isinstance(vars(Result)[name.split(".")[1]], property)
    if takes_arguments:
        assert "\nParameters\n----------" in doc, f"{name}: no Parameters section"
    if not is_property:
        assert "\nReturns\n-------" in doc, f"{name}: no Returns section"
    assert "\nExamples\n--------" in doc, f"{name}: no Examples section"
    assert _runnable_examples(function) > 0, f"{name}: every example is skipped"

"""Every differentiable op states its rule as a person writes it (issue 15, item 2): one
`dL/d<input> = ...` statement per differentiable input, in the forward's parameter order."""

from __future__ import annotations

import inspect
import re

import pytest

import pathgrad  # noqa: F401  (registers the ops)
from pathgrad.ops.registry import REGISTRY

DIFFERENTIABLE = sorted(name for name, d in REGISTRY.items() if d.differentiable)
STATEMENT = re.compile(r"^dL/d(?P<input>[A-Za-z_]+(?:\[i\]|_i)?) = \S")


def _tensor_parameters(definition) -> list[str]:
    names = list(inspect.signature(definition.forward).parameters)
    if definition.inputs == "sequence":
        return [names[0] + "[i]"]
    return names[: definition.inputs]


def _statements(rule: str) -> list[str]:
    statements = [s.strip() for s in rule.split("; ")]
    if statements and statements[0].startswith("r = "):
        statements = statements[1:]  # a _backward op names its result r, its upstream dL/dr
    return statements


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_every_differentiable_op_states_its_rule(name):
    definition = REGISTRY[name]
    assert definition.rule, f"op {name} has no rule formula: add rule= to its @op"
    upstream = "dL/dr" if definition.rule.startswith("r = ") else "dL/dout"
    tensors = _tensor_parameters(definition)
    named = []
    for statement in _statements(definition.rule):
        match = STATEMENT.match(statement)
        assert match, f"{name}: {statement!r} is not 'dL/d<input> = <formula>'"
        base = match["input"].removesuffix("_i")  # cumprod's dL/dx_i is x's rule
        assert base in tensors, f"{name}: dL/d{base} names no tensor input of {tensors}"
        named.append(base)
        formula = statement.split(" = ", 1)[1]
        assert upstream in formula or formula.strip() in ("0",), (
            f"{name}: {statement!r} never uses the incoming gradient {upstream}"
        )
    assert named == [t for t in tensors if t in named], (
        f"{name}: rules out of the inputs' order {tensors}: {named}"
    )


@pytest.mark.parametrize(
    "name", sorted(name for name, d in REGISTRY.items() if not d.differentiable)
)
def test_every_other_op_states_it_has_no_gradient(name):
    assert REGISTRY[name].rule.startswith("no gradient")


def test_a_missing_rule_fails():
    definition = REGISTRY["tanh"]
    saved, definition.rule = definition.rule, ""
    try:
        with pytest.raises(AssertionError, match="no rule formula"):
            test_every_differentiable_op_states_its_rule("tanh")
    finally:
        definition.rule = saved

"""The layering holds: imports point one way (NumPy <- ops, autodiff <- tensor <- the rest)."""

import ast
import pathlib
import sys

import numpy as np

import pathgrad as pg

PACKAGE = pathlib.Path(pg.__file__).parent

ABOVE_TENSOR = (
    "pathgrad.autograd",
    "pathgrad.compiled",
    "pathgrad.anomaly",
    "pathgrad.creation",
    "pathgrad.func",
    "pathgrad.function",
    "pathgrad.gradcheck",
    "pathgrad.cli",
    "pathgrad.nn",
    "pathgrad.optim",
    "pathgrad.utils",
    "pathgrad.serialization",
    "pathgrad.explain",
    "pathgrad.viz",
)
# the layers above the tensor: nn <- optim, utils.data <- cli (and the checkpoint format beside)
ABOVE_NN = (
    "pathgrad.optim",
    "pathgrad.utils",
    "pathgrad.cli",
    "pathgrad.serialization",
    "pathgrad.explain",
    "pathgrad.viz",
)
# module prefix -> the pathgrad modules it must not import
TENSOR_LAYER = (
    "pathgrad.tensor",
    "pathgrad.dispatch",
    "pathgrad.inplace",
    "pathgrad.backward",
    "pathgrad.methods",
)
FORBIDDEN = {
    "pathgrad.ops": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.numpy_protocol": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.linalg": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.special": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.autodiff": ("pathgrad.ops",) + TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.errors": ("pathgrad.",),
    # tensor state the engine reads (as PyTorch's version counter lives with the tensor)
    "pathgrad.versions": ("pathgrad.",),
    "pathgrad.random": ("pathgrad.",),
    "pathgrad.tensor": ABOVE_TENSOR,
    "pathgrad.dispatch": ABOVE_TENSOR,
    "pathgrad.inplace": ABOVE_TENSOR,
    "pathgrad.backward": ABOVE_TENSOR,
    "pathgrad.methods": ABOVE_TENSOR,
    "pathgrad.modes": ("pathgrad.ops",) + TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.nn": ABOVE_NN,
    "pathgrad.optim": ("pathgrad.nn", "pathgrad.utils", "pathgrad.cli"),
    "pathgrad.utils": ("pathgrad.nn", "pathgrad.optim", "pathgrad.cli"),
    "pathgrad.serialization": ("pathgrad.nn", "pathgrad.optim", "pathgrad.utils", "pathgrad.cli"),
    # show-the-work sits beside the training tools: it reads graphs, and only the CLI reads it
    "pathgrad.explain": ("pathgrad.cli", "pathgrad.optim", "pathgrad.utils"),
    "pathgrad.viz": ("pathgrad.cli", "pathgrad.optim", "pathgrad.utils"),
    # compiled steps trace whatever a step runs (modules, optimisers); only the CLI is above
    "pathgrad.compiled": ("pathgrad.cli", "pathgrad.explain", "pathgrad.viz"),
}
# optional extras: only these modules may import them, and only inside a function, so that
# `import pathgrad` needs NumPy alone and a missing extra is a message when the feature is used
OPTIONAL_EXTRAS = {
    "pathgrad.serialization": {"safetensors"},
    "pathgrad.cli.train": {"matplotlib"},
    "pathgrad.explain.symbolic": {"sympy"},
    "pathgrad.viz.graph": {"graphviz"},
}


def _module_name(path: pathlib.Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_imports_point_one_way():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        for prefix, forbidden in FORBIDDEN.items():
            if module == prefix or module.startswith(prefix + "."):
                for imported in _imports(path):
                    if imported.startswith(forbidden):
                        violations.append(f"{module} imports {imported}")
    assert not violations, violations


def test_the_engine_proper_reads_in_one_sitting():
    """The engine (`autodiff/`: nodes, the one graph walk, the sweep, the two switches) stays at
    most 300 lines, and its sweep a short loop over nodes that calls named helpers."""
    files = sorted((PACKAGE / "autodiff").glob("*.py"))
    lines = {path.name: len(path.read_text().splitlines()) for path in files}
    assert sum(lines.values()) <= 300, lines
    tree = ast.parse((PACKAGE / "autodiff" / "backprop.py").read_text())
    sweep = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "backprop")
    assert sweep.end_lineno - sweep.lineno < 40


def _top_level_imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_engine_imports_only_numpy():
    third_party = set()
    stdlib = sys.stdlib_module_names
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        allowed = OPTIONAL_EXTRAS.get(module, set())
        top_level = {name.split(".")[0] for name in _top_level_imports(path)}
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top in stdlib or top in ("pathgrad", "numpy"):
                continue
            if top not in allowed or top in top_level:
                third_party.add(f"{module}: {imported}")
    assert not third_party, third_party


def _unbroadcast_references(tree: ast.AST) -> list[int]:
    """Lines that reach broadcast.sum_to_shape however it is imported: by name, by alias, or
    as an attribute of the broadcast module under any name."""
    aliases, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if node.module.endswith("broadcast") and alias.name == "sum_to_shape":
                    aliases.add(alias.asname or alias.name)
                if node.module.endswith("ops") and alias.name == "broadcast":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.endswith("ops.broadcast"):
                    modules.add(alias.asname or alias.name)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in aliases:
            lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "sum_to_shape":
            base = ast.unparse(node.value)
            if base in modules or base.endswith("broadcast"):
                lines.append(node.lineno)
    return lines


def test_no_rule_reduces_on_its_own():
    """Broadcasting has one home: no op module but broadcast.py reaches sum_to_shape, by any
    import or alias (read from the syntax tree, not the text)."""
    offenders = {}
    for path in (PACKAGE / "ops").glob("*.py"):
        if path.name == "broadcast.py":
            continue
        lines = _unbroadcast_references(ast.parse(path.read_text()))
        if lines:
            offenders[path.name] = lines
    assert not offenders


def test_the_structural_check_sees_an_aliased_unbroadcast():
    sneaky = (
        "from pathgrad.ops import broadcast as b\n"
        "from pathgrad.ops.broadcast import sum_to_shape as shrink\n"
        "def vjp(grad):\n    return shrink(grad, (3,)), b.sum_to_shape(grad, (1,))\n"
    )
    assert sorted(_unbroadcast_references(ast.parse(sneaky))) == [4, 4]


def test_every_broadcasting_rule_sees_inputs_of_one_shape(monkeypatch):
    """The engine brings a broadcasting op's inputs that need a gradient to the output's shape
    before its forward (and so its rule) runs, so no rule has a gradient to sum back: checked on
    every op case, forward and second-order backward."""
    from op_cases import ALL_CASES, inputs_for
    from pathgrad.ops.registry import REGISTRY
    from pathgrad.tensor import Tensor

    seen = []
    for definition in REGISTRY.values():
        if not definition.broadcast:
            continue

        def checked(*args, _forward=definition.forward, _definition=definition, **kwargs):
            result = _forward(*args, **kwargs)
            wanting = [a for a in args[: _definition.inputs] if type(a) is Tensor]
            wanting = [t for t in wanting if t._requires_grad]
            # each input that gets a gradient already has the output's shape
            shape = np.shape(result[0])
            assert all(t.shape == shape for t in wanting), (
                f"{_definition.name}: inputs {[t.shape for t in wanting]}, output {shape}"
            )
            if wanting:
                seen.append(_definition.name)
            return result

        monkeypatch.setattr(definition, "forward", checked)
    for case in ALL_CASES:
        tensors = [pg.tensor(a, requires_grad=True) for a in inputs_for(case)]
        out = case.fn(pg, *tensors)
        outs = out if isinstance(out, (tuple, list)) else [out]
        wanted = [o for o in outs if isinstance(o, Tensor) and o.requires_grad]
        if wanted and tensors:
            total = sum(o.sum() for o in wanted)
            pg.autograd.grad(total, tensors, allow_unused=True, create_graph=True)
    assert {"add", "mul", "where", "maximum"} <= set(seen)

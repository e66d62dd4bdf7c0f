"""The layering holds: imports point one way (NumPy <- ops, autodiff <- tensor <- the rest)."""

import ast
import pathlib
import sys

import pathgrad as pg

PACKAGE = pathlib.Path(pg.__file__).parent

ABOVE_TENSOR = (
    "pathgrad.autograd",
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
TENSOR_LAYER = ("pathgrad.tensor", "pathgrad.dispatch", "pathgrad.inplace", "pathgrad.backward")
FORBIDDEN = {
    "pathgrad.ops": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.numpy_protocol": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.linalg": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.special": TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.autodiff": ("pathgrad.ops",) + TENSOR_LAYER + ABOVE_TENSOR,
    "pathgrad.errors": ("pathgrad.",),
    "pathgrad.random": ("pathgrad.",),
    "pathgrad.tensor": ABOVE_TENSOR,
    "pathgrad.dispatch": ABOVE_TENSOR,
    "pathgrad.inplace": ABOVE_TENSOR,
    "pathgrad.backward": ABOVE_TENSOR,
    "pathgrad.nn": ABOVE_NN,
    "pathgrad.optim": ("pathgrad.nn", "pathgrad.utils", "pathgrad.cli"),
    "pathgrad.utils": ("pathgrad.nn", "pathgrad.optim", "pathgrad.cli"),
    "pathgrad.serialization": ("pathgrad.nn", "pathgrad.optim", "pathgrad.utils", "pathgrad.cli"),
    # show-the-work sits beside the training tools: it reads graphs, and only the CLI reads it
    "pathgrad.explain": ("pathgrad.cli", "pathgrad.optim", "pathgrad.utils"),
    "pathgrad.viz": ("pathgrad.cli", "pathgrad.optim", "pathgrad.utils"),
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


def test_no_rule_reduces_on_its_own():
    """Broadcasting has one home: only broadcast.py may sum a gradient back to a shape."""
    offenders = []
    for path in (PACKAGE / "ops").glob("*.py"):
        if path.name == "broadcast.py":
            continue
        source = path.read_text()
        if "sum_to_shape(" in source:
            offenders.append(path.name)
    assert not offenders

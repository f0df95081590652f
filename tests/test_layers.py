"""The shape of the code: one-way layers, no import circles, small modules, declared dependencies.

Every import statement of every module under helpers/ and normcourse/ is read (at module
level and inside functions), so a circle cannot hide in a function body.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("helpers", "normcourse")

#: each layer of helpers may import from the layers listed before it (and from itself)
HELPERS_LAYERS = ["answers", "checking", "core", "plots", "widgets", "exercises"]
ALLOWED = {
    "answers": set(),
    "checking": set(),
    "core": {"answers"},
    "plots": {"core", "answers"},
    "widgets": {"plots", "core", "answers"},
    "exercises": {"checking", "core", "answers"},
}
#: modules sent whole into a grading kernel: standard library and numpy only
KERNEL_SIDE = ["helpers/checking/calling.py", "normcourse/grading/wire.py",
               "normcourse/grading/inkernel.py", "helpers/answers/guard.py"]
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _edges() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name resolves to the module it names)."""
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {n for n in _imports(path) if n in MODULES and n != name}
    return edges


EDGES = _edges()


def test_no_import_circles():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(EDGES[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(EDGES):
        if node not in state:
            visit(node)


def test_helpers_never_imports_normcourse():
    for name, deps in EDGES.items():
        if name.startswith("helpers"):
            assert not [d for d in deps if d.startswith("normcourse")], name


def test_helpers_layers_import_one_way():
    assert sorted(p.name for p in (ROOT / "helpers").iterdir()
                  if p.is_dir() and p.name != "__pycache__") == sorted(HELPERS_LAYERS)
    for name, deps in EDGES.items():
        parts = name.split(".")
        if parts[0] != "helpers" or len(parts) < 2:
            continue
        layer = parts[1]
        for dep in deps:
            dep_layer = dep.split(".")[1] if dep.count(".") else None
            assert dep_layer == layer or dep_layer in ALLOWED[layer], (
                f"{name} imports {dep}: the {layer} layer may import only "
                f"{sorted(ALLOWED[layer]) or 'nothing'} from helpers")


def test_the_kernel_side_modules_need_only_numpy():
    for rel in KERNEL_SIDE:
        third_party = {n.split(".")[0] for n in _imports(ROOT / rel)}
        assert third_party <= set(sys.stdlib_module_names) | {"numpy", "__future__"}, rel


def test_the_submission_reader_needs_only_the_standard_library_and_the_guard():
    """normcourse/grading/scan.py runs in a child process started without site-packages
    (python -I -S): the standard library, helpers.answers.guard, and IPython's input
    transformer only for a cell with magics (after it turns site-packages on)."""
    imported = _imports(ROOT / "normcourse" / "grading" / "scan.py")
    others = {n for n in imported if n.split(".")[0] not in sys.stdlib_module_names}
    assert others <= {"helpers.answers", "helpers.answers.guard", "__future__",
                      "IPython.core.inputtransformer2",
                      "IPython.core.inputtransformer2.TransformerManager"}, others


def test_every_module_is_readable_in_one_sitting():
    """helpers/ and normcourse/ alike: the grader's orchestrator (normcourse/grade.py)
    stays short, its work lives in one small module per job under normcourse/grading/."""
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_helpers_map_lists_every_module():
    text = (ROOT / "helpers" / "__init__.py").read_text(encoding="utf-8")
    for name in MODULES:
        if name.startswith("helpers.") and name.count(".") >= 1:
            assert f"``{name.rsplit('.', 1)[-1]}``" in text or f"``{name}``" in text, (
                f"helpers/__init__.py does not list {name}")


#: distribution name (as in pyproject.toml) of each importable third-party name
DISTRIBUTIONS = {"PIL": "pillow", "IPython": "ipython", "jupyter_client": "jupyter-client",
                 "ipywidgets": "ipywidgets", "ipykernel": "ipykernel", "matplotlib": "matplotlib",
                 "numpy": "numpy", "nbformat": "nbformat", "nbclient": "nbclient",
                 "psutil": "psutil", "zmq": "pyzmq"}


def test_every_third_party_import_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=!~\[ ]", d)[0].lower().replace("_", "-")
                for d in project["dependencies"]}
    used = set()
    for path in MODULES.values():
        used |= {n.split(".")[0] for n in _imports(path)}
    third_party = used - set(sys.stdlib_module_names) - set(PACKAGES) - {"__future__"}
    unknown = third_party - set(DISTRIBUTIONS)
    assert not unknown, f"add these imports to DISTRIBUTIONS and pyproject.toml: {unknown}"
    missing = {DISTRIBUTIONS[n] for n in third_party} - declared
    assert not missing, f"imported but not declared in pyproject.toml dependencies: {missing}"

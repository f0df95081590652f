"""Which statements reach the notebook's namespace, or observe which cells ran, in ways no
static analysis follows (:func:`_dynamic`): the names, attributes and modules that hand out
frames, the namespace, the shell or IPython's history. Part of :mod:`.flow` (the facts of a
statement), in the reader's child: standard library only."""

from __future__ import annotations

import ast
import re

DYNAMIC_NAMES = {"globals", "locals", "vars", "exec", "eval", "compile", "__import__",
                 "get_ipython", "__builtins__", "breakpoint", "setattr", "delattr", "dir",
                 "__main__", "__spec__", "__loader__",
                 # IPython's history: which cells ran (differs when cells are skipped)
                 "In", "Out", "_ih", "_oh", "_dh", "_", "__", "___", "_i", "_ii", "_iii"}
_HISTORY = re.compile(r"_i?\d+")  # _i3 (the input of cell 3), _3 (its output)
DYNAMIC_ATTRS = {"__dict__", "__globals__", "__builtins__", "f_globals", "f_locals", "f_back",
                 "modules", "_getframe", "currentframe", "gi_frame", "tb_frame", "cr_frame",
                 "ag_frame", "walk_stack", "walk_tb",
                 # the modules that hand out frames, reached as another module's attribute
                 # (``x.inspect.stack()``): then ``stack`` itself can stay (``np.stack``)
                 "inspect", "traceback",
                 "__code__", "__closure__", "__defaults__", "__kwdefaults__", "get_objects",
                 "get_referrers", "get_referents", "__subclasses__", "user_ns",
                 "__getattribute__", "__setattr__", "__class__", "__self__", "get_ipython",
                 # the shell, however it was reached: it runs and evaluates in the namespace
                 "ev", "ex", "run_cell", "run_line_magic", "run_cell_magic", "push",
                 "user_global_ns", "instance", "_current_frames",
                 # the shell reached from elsewhere (sys.displayhook.shell, the singleton
                 # InteractiveShell._instance), its namespace and its count of cells run;
                 # the source of every cell run (linecache, as IPython's compiler's attribute)
                 "displayhook", "shell", "_instance", "user_module", "ns_table", "all_ns_refs",
                 "user_ns_hidden", "execution_count", "prompt_count", "history_manager",
                 "linecache", "get_field"}
#: matplotlib's settings: the course style is skipped (use_course_style is no effect), so
#: reading them tells whether course cells ran (setting them is an effect: that runs)
RC_NAMES = {"rcParams", "rcParamsDefault", "rcParamsOrig", "rc_params"}
DYNAMIC_MODULES = {"gc", "inspect", "traceback", "importlib", "builtins", "ctypes", "__main__",
                   "ipykernel",
                   "code", "pickle", "dill", "runpy", "types", "operator", "linecache",
                   "pydoc"}

def _dotted(node) -> list[str]:
    """``np.random.seed`` -> ["np", "random", "seed"]; [] when the root is not a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else \
        ["", *reversed(parts)]


def _dynamic(tree, loads: set, attrs: set) -> bool:
    if loads & DYNAMIC_NAMES or attrs & DYNAMIC_ATTRS or \
            any(_HISTORY.fullmatch(name) for name in loads):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if any(a.name == "*" or a.name in DYNAMIC_NAMES | DYNAMIC_ATTRS
                   for a in node.names) or \
                    (node.module or "").split(".")[0] in DYNAMIC_MODULES:
                return True
        elif isinstance(node, ast.Import):
            if any(a.name.split(".")[0] in DYNAMIC_MODULES for a in node.names):
                return True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "hasattr"):
            if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant) or \
                    node.args[1].value in DYNAMIC_ATTRS | DYNAMIC_NAMES:
                return True
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("format", "format_map"):
            fmt = node.func.value
            if _dotted(fmt) == ["str"]:  # str.format('{0.__globals__}', f)
                fmt = node.args[0] if node.args else None
            if not isinstance(fmt, ast.Constant) or \
                    re.search(r"\{[^{}:!]*[.\[]", str(fmt.value)):
                return True  # '{0.__globals__[X]}'.format(f): attribute and item access
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    written = {id(n.value) for n in ast.walk(tree)  # rcParams[k] = v, rcParams.update(...)
               if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)} | \
        {id(n.func.value) for n in ast.walk(tree) if isinstance(n, ast.Call) and
         isinstance(n.func, ast.Attribute) and n.func.attr == "update"}
    if any((isinstance(n, ast.Attribute) and n.attr in RC_NAMES and id(n) not in written) or
           (isinstance(n, ast.ImportFrom) and any(a.name in RC_NAMES for a in n.names))
           for n in ast.walk(tree)):
        return True  # reads matplotlib's settings
    return any(isinstance(n, ast.Name) and n.id in ("getattr", "hasattr") and
               isinstance(n.ctx, ast.Load) and id(n) not in calls for n in ast.walk(tree))
    # (getattr passed as a value: functools.reduce(getattr, names, f), g = getattr)

"""Which statements reach the notebook's namespace, or observe which cells ran, in ways no
static analysis follows (:func:`_dynamic`): the names, attributes and modules that hand out
frames, the namespace, the shell or IPython's history. Part of :mod:`.flow` (the facts of a
statement), in the reader's child: standard library only."""

from __future__ import annotations

import ast
import functools
import re


@functools.lru_cache(maxsize=1024)
def nodes(tree) -> tuple:
    """Every node of ``tree`` (``ast.walk``'s order), listed once: the analyses of one
    statement walk it a dozen times (a node hashes by identity)."""
    return tuple(ast.walk(tree))


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
    """``np.random.seed`` -> ["np", "random", "seed"]; the first part is "" when the root
    is not a name (``f().seed`` -> ["", "seed"])."""
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
    for node in nodes(tree):
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
    calls = {id(n.func) for n in nodes(tree) if isinstance(n, ast.Call)}
    written = {id(n.value) for n in nodes(tree)  # rcParams[k] = v, rcParams.update(...)
               if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Store)} | \
        {id(n.func.value) for n in nodes(tree) if isinstance(n, ast.Call) and
         isinstance(n.func, ast.Attribute) and n.func.attr == "update"}
    if any((isinstance(n, ast.Attribute) and n.attr in RC_NAMES and id(n) not in written) or
           (isinstance(n, ast.ImportFrom) and any(a.name in RC_NAMES for a in n.names))
           for n in nodes(tree)):
        return True  # reads matplotlib's settings
    return any(isinstance(n, ast.Name) and n.id in ("getattr", "hasattr") and
               isinstance(n.ctx, ast.Load) and id(n) not in calls for n in nodes(tree))
    # (getattr passed as a value: functools.reduce(getattr, names, f), g = getattr)


#: calls that change state beyond the namespace (the last part of the called name)
EFFECT_CALLS = {"seed", "rc", "rcdefaults", "rc_file", "rc_context", "use", "seterr",
                "seterrcall", "setbufsize", "set_printoptions", "setrecursionlimit",
                "filterwarnings", "simplefilter", "resetwarnings", "chdir",
                "putenv", "unsetenv", "savefig", "save", "savez",
                "savez_compressed", "savetxt", "tofile", "dump", "write_text", "write_bytes",
                "mkdir", "makedirs", "remove", "unlink", "rmdir", "rmtree", "system", "Popen",
                "set_state", "set_loglevel", "switch_backend", "open", "set_start_method",
                "exit", "_exit", "kill", "abort"}
EFFECT_MODULES = {"os", "shutil", "subprocess", "pathlib", "Path", "sys", "signal",
                  "threading", "multiprocessing", "socket", "atexit", "faulthandler"}
#: np.random.X / random.X that do not use the module's global generator
SAFE_RANDOM = {"default_rng", "Generator", "SeedSequence", "PCG64", "PCG64DXSM", "Philox",
               "SFC64", "MT19937", "BitGenerator", "RandomState", "Random"}


def _indexed_name(node) -> bool:
    """``runs[k]``, ``runs[k][j]``: items of a name (not of a literal or a call's result)."""
    if not isinstance(node, ast.Subscript):
        return False
    while isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name)


def _effect_binds(stmt) -> list:
    """Names an import binds to something that changes state when called or used
    (``from numpy.random import seed as s``, ``import random as r``): a call through such
    a name has no telling last part."""
    if isinstance(stmt, ast.Import):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names
                if a.name.split(".")[0] in EFFECT_MODULES or "random" in a.name.split(".")]
    if not isinstance(stmt, ast.ImportFrom):
        return []
    parts = (stmt.module or "").split(".")
    return [a.asname or a.name for a in stmt.names
            if a.name in EFFECT_CALLS or a.name in EFFECT_MODULES or parts[0] in EFFECT_MODULES
            or ("random" in parts or a.name == "random") and a.name not in SAFE_RANDOM]


def _changes_state(path: list) -> bool:
    """``np.random.seed``, ``plt.rc``, ``random.random``: a dotted name whose call changes
    global state (its last part, or the legacy global generator)."""
    return path[-1] in EFFECT_CALLS or "random" in path[:-1] and path[-1] not in SAFE_RANDOM


def _effect(tree) -> bool:
    called = {id(n.func) for n in nodes(tree) if isinstance(n, ast.Call)}
    for node in nodes(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
                id(node) not in called:
            # a state-changing function taken as a value, to be called under another name
            # (``s = np.random.seed`` in a function, ``(s := np.random.seed)(0)``)
            path = _dotted(node)
            if path[0] and _changes_state(path):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node is not tree and \
                _effect_binds(node):
            return True  # ``from numpy.random import seed as s`` inside a function
        if isinstance(node, ast.Call) and _dotted(node.func)[-1] == "getattr" and \
                len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            owner = _dotted(node.args[0])
            if owner[0] in EFFECT_MODULES or _changes_state([*owner, node.args[1].value]):
                return True  # getattr(np.random, "seed"): a constant name
        if isinstance(node, ast.Call):
            path = _dotted(node.func)
            if path[-1] == "seed" and not path[0] and _indexed_name(node.func.value):
                continue  # a method of a computed value (``runs[k].seed(0)``: one seed's run;
                # not ``[np.random][0].seed(0)`` nor ``getattr(np, "random").seed(0)``)
            if _changes_state(path) or path[0] in EFFECT_MODULES or \
                    path[-1] == "__enter__":  # np.errstate(...).__enter__(): never left
                return True  # (np.random.rand: the legacy global generator, shared)
        if isinstance(node, ast.Attribute) and node.attr == "rcParams":
            return True
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return True
    return False

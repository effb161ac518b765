"""Expected: a worker checking `mse` holds nothing of the reference. `search(patterns)` looks
through its own process: every object the garbage collector knows (functions, code objects,
their constants), every frame, sys.modules, and its private memory (every writable mapping), for the
regular expressions `patterns` (each matching one line of the solution, written so that the
pattern's own text never matches); it returns what it found (never the text itself), which
must be nothing. `mse` is right."""

import ctypes
import gc
import re
import sys
import types


def search(patterns):
    regex = re.compile(b"|".join(p.encode() for p in patterns))
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            code = obj.__code__
            if "solution" in code.co_filename or "reference" in code.co_filename:
                found.append(f"function {obj.__qualname__} from {code.co_filename}")
    for name in list(sys.modules):
        if name.startswith(("solutions", "sgd_reference", "grader.reference", "grader.checks")):
            found.append(f"module {name}")
    frame = sys._getframe()
    while frame is not None:
        if "solution" in frame.f_code.co_filename or "reference" in frame.f_code.co_filename:
            found.append(f"frame {frame.f_code.co_filename}")
        frame = frame.f_back
    found += _scan_memory(regex)
    return found


def _scan_memory(regex):
    hits = 0
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5].startswith("/")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            chunk = ctypes.string_at(start, end - start)
            hits += sum(1 for _ in regex.finditer(chunk))
    return [f"memory: {hits} lines of the solution"] if hits else []


def mse(preds, targets):
    return ((preds - targets) ** 2).mean()


def quote_helpers():
    """The source of every other step's function as this process sees it (the proxies')."""
    import inspect

    names = ("init_params", "predict", "mse_grad", "sgd_step", "minibatches", "momentum_step", "train")
    quoted = {}
    for name in names:
        if name not in globals():  # not a helper while this step is checked
            continue
        try:
            quoted[name] = inspect.getsource(globals()[name])
        except (OSError, TypeError) as exc:
            quoted[name] = f"unavailable: {exc}"
    return quoted

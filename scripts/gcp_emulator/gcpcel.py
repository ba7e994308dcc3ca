"""CEL for the GCP contract server: IAM conditions, workload identity attribute mappings
and attribute conditions, evaluated with cel-python (celpy), plus the functions GCP adds.

The `extract` and `api.getAttribute` implementations follow tests/support/gcp_cel.py (that
file runs as a script on import, so its two functions are repeated here, unchanged):
- https://cloud.google.com/iam/docs/conditions-attribute-reference#extract
- https://cloud.google.com/iam/docs/conditions-attribute-reference#api-attributes
- https://cloud.google.com/iam/docs/workload-identity-federation#mapping (attribute mapping)
- https://cloud.google.com/iam/docs/workload-identity-federation#conditions
"""

import threading

import celpy
from celpy import celtypes


def extract(value, template):
    value, template = str(value), str(template)
    if "{" not in template or "}" not in template:
        return celtypes.StringType("")
    before, rest = template.split("{", 1)
    _, after = rest.split("}", 1)
    start = value.find(before)
    if start < 0:
        return celtypes.StringType("")
    start += len(before)
    if after == "":
        return celtypes.StringType(value[start:])
    end = value.find(after, start)
    return celtypes.StringType(value[start:end] if end >= 0 else "")


def get_attribute(api, key, default):
    return api.get(celtypes.StringType(str(key)), default)


FUNCTIONS = {"extract": extract, "getAttribute": get_attribute}

_env = celpy.Environment()
_cache = {}
_lock = threading.Lock()


class CelError(Exception):
    pass


def compile_expr(expression):
    """The compiled program; CelError when the expression does not parse."""
    if not isinstance(expression, str) or not expression.strip():
        raise CelError("empty expression")
    with _lock:
        prog = _cache.get(expression)
        if prog is not None:
            return prog
        try:
            ast = _env.compile(expression)
            prog = _env.program(ast, functions=FUNCTIONS)
        except Exception as e:  # celpy.CELParseError and friends
            raise CelError(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        _cache[expression] = prog
        return prog


def evaluate(expression, activation):
    """The result as a Python value (bool, str, ...); CelError on a parse or evaluation error."""
    prog = compile_expr(expression)
    act = {k: celpy.json_to_cel(v) for k, v in activation.items()}
    try:
        with _lock:
            out = prog.evaluate(act)
    except Exception as e:
        raise CelError(f"{type(e).__name__}: {e}")
    if isinstance(out, celpy.CELEvalError) or isinstance(out, Exception):
        raise CelError(str(out))
    if isinstance(out, celtypes.BoolType):
        return bool(out)
    if isinstance(out, celtypes.StringType):
        return str(out)
    return out

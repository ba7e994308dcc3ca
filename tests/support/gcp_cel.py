"""Evaluates GCP CEL expressions (attribute mappings, attribute conditions, IAM
conditions) with cel-python, adding the functions GCP documents on top of standard CEL:

- `STRING.extract(TEMPLATE)`: the part of STRING matched by the one `{name}` of TEMPLATE,
  where the text around it must match; the empty string when it does not
  (https://cloud.google.com/iam/docs/conditions-attribute-reference#extract).
- `api.getAttribute(KEY, DEFAULT)`: a request attribute of the API called, DEFAULT when the
  request has none (https://cloud.google.com/iam/docs/conditions-attribute-reference#api-attributes).

    python gcp_cel.py CASES.json

CASES.json is a list of {"expression": "...", "activation": {...}}; prints the list of
results (a string, a bool, or {"error": "..."}).
"""

import json
import os
import sys

import celpy
from celpy import celtypes

# One implementation of GCP's functions, shared with the contract server.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "gcp_emulator"))
from gcpcel import FUNCTIONS  # noqa: E402

env = celpy.Environment()
results = []
for case in json.load(open(sys.argv[1])):
    try:
        program = env.program(env.compile(case["expression"]), functions=FUNCTIONS)
        activation = {k: celpy.json_to_cel(v) for k, v in case["activation"].items()}
        out = program.evaluate(activation)
        results.append(bool(out) if isinstance(out, celtypes.BoolType) else str(out))
    except Exception as e:  # a broken expression is a result the test reports
        results.append({"error": f"{type(e).__name__}: {e}"})
print(json.dumps(results))

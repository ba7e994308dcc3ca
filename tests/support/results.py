"""Reads unionctl's `--output json` stream from stdin, as a CI job would, and checks it
against docs/results-format.md: JSON lines; progress events first; exactly one result
object last, versioned, with the fields its command documents. Prints the result object.

    unionctl verify -f P --output json | python results.py verify
"""

import json
import sys

command = sys.argv[1]
lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
objects = [json.loads(l) for l in lines]  # every line is JSON
assert objects, "no output"
*events, result = objects
for e in events:
    assert e.get("event") in ("start", "done", "error"), f"not an event: {e}"
assert "event" not in result, f"the last line is not a result: {result}"
major = result["format_version"].split(".")[0]
assert major == "2", result["format_version"]
assert result["command"] == command, result["command"]
assert isinstance(result["ok"], bool) and isinstance(result["exit_code"], int)
assert result["ok"] == (result["exit_code"] in (0, 2)), result

required = {
    "plan": ["data_plane", "cloud", "model", "summary", "changes"],
    "apply": ["plan", "stages", "calls", "elapsed_ms", "state_serial"],
    # With no state, destroy has nothing to plan: only its (empty) stages.
    "destroy": ["stages"] if result.get("stages") == [] else ["plan", "stages", "calls", "elapsed_ms", "state_serial"],
    "verify": ["resources_checked", "invariants", "missing"],
    "outputs": ["data_plane", "cluster", "buckets", "helm_values"],
}
if "fleet" in result:
    # A fleet (several profiles): one entry per data plane, each holding the result its
    # single-profile command would have written.
    assert command in ("plan", "apply", "validate", "verify", "destroy"), command
    assert result["failed"] == sum(1 for e in result["fleet"] if e["exit_code"] not in (0, 2)), result
    assert result["ok"] == (result["failed"] == 0), result
    for entry in result["fleet"]:
        for k in ("file", "data_plane", "cloud", "model", "exit_code", "elapsed_ms", "result"):
            assert k in entry, (k, entry)
        assert entry["result"]["exit_code"] == entry["exit_code"], entry
        assert entry["result"]["ok"] or entry["result"]["error"]["message"], entry
    print(json.dumps(result))
    sys.exit(0)
if result["ok"] or command == "verify":
    missing = [k for k in required.get(command, []) if k not in result]
    assert not missing, f"{command} result lacks {missing}"
if not result["ok"] and command != "verify":
    assert result["error"]["message"], result
if command == "verify":
    assert [i["number"] for i in result["invariants"]] == list(range(1, 10))
    assert all(i["status"] in ("pass", "fail") for i in result["invariants"])
    assert result["ok"] == all(i["status"] == "pass" for i in result["invariants"]) or result["missing"]
if command in ("apply", "destroy") and result["ok"] and "plan" in result:
    assert result["plan"]["mode"] == command, result["plan"]["mode"]
    for stage in result["stages"]:
        assert set(stage) == {"stage", "outcomes", "elapsed_ms", "calls"}, stage
if command == "plan":
    assert result["mode"] in ("apply", "destroy"), result
    s = result["summary"]
    counted = sum(s[k] for k in ("create", "read", "update", "replace", "delete", "no_op"))
    assert counted == len(result["changes"]), (s, len(result["changes"]))
print(json.dumps(result))

"""Lints IAM policies with parliament (PyPI), which checks every action, resource ARN and
condition key against AWS's service authorization tables — the rules real IAM applies and
the emulator does not.

    python lint_iam.py POLICIES.json

POLICIES.json is a list of {"source": "...", "kind": "identity"|"resource"|"trust",
"document": {...}}. Prints a JSON list of findings: {source, issue, severity, detail}.
"""

import json
import sys

from parliament import analyze_policy_string

policies = json.load(open(sys.argv[1]))
findings = []
for p in policies:
    # Parliament reads identity policies; resource and trust policies are linted the same
    # way for actions, resources and condition keys (their Principal is not its concern).
    doc = json.loads(json.dumps(p["document"]))
    for st in doc.get("Statement", []):
        st.pop("Principal", None)
        st.pop("NotPrincipal", None)
    analyzed = analyze_policy_string(json.dumps(doc), ignore_private_auditors=True)
    for f in analyzed.findings:
        findings.append({"source": p["source"], "kind": p["kind"], "issue": f.issue, "severity": f.severity, "detail": str(f.detail), "location": str(f.location)})
print(json.dumps(findings, indent=1))

#!/usr/bin/env python3
"""unionctl's performance benchmarks (docs/performance.md), in one run on one machine.
Run through `scripts/bench`, which builds the release binary and installs the emulator.

    scripts/bench [plan] [apply] [fleet]     # default: all three

plan   offline `unionctl plan` of each example profile (median of 10 runs, peak RSS), and
       of a fleet of 1,000 generated profiles in one command (median of 3 runs, peak RSS).
apply  the BYOC example applied to the AWS emulator through tests/support/fault_proxy.py
       with 50 ms added to every call and EKS clusters, node groups and NAT gateways that
       stay in progress for 5 s after their create; once with the default parallelism and
       once with --parallelism 1 (fresh emulator each). The lower bound is the longest
       dependency chain of the plan, each resource weighted by how long it took alone
       (its own duration in the --parallelism 1 run), with the documented per-API rate
       limits applied to the resources that share a limited create. Reports wall, bound,
       wall / bound, API calls and peak RSS.
fleet  a fleet apply of 20 self-managed AWS data planes (one account, direct to the
       emulator), 4 at a time: wall and peak RSS.

Peak RSS is the process's maximum resident set (wait4's ru_maxrss), whatever its threads.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "unionctl"
PY = ROOT / ".venv" / "bin" / "python"
EXAMPLES = ["aws-byoc", "aws-self-managed", "gcp-byoc", "gcp-self-managed", "azure-byoc", "azure-self-managed"]
# exec's documented per-API buckets (src/clouds/aws/provider.rs `limiter`): kind -> (burst, per second).
RATE_LIMITS = {"aws.vpc_endpoint": (4.0, 0.3), "aws.nat_gateway": (4.0, 0.5), "aws.vpc": (5.0, 1.0), "aws.eks_cluster": (2.0, 0.2)}


def run(args, env=None, stdout=subprocess.DEVNULL):
    """Runs a command; returns (exit code, wall seconds, peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, env=env, stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE, cwd=ROOT)
    out = b""
    if stdout is None:
        out = p.stdout.read()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 2):
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return p.returncode, wall, usage.ru_maxrss / 1024, out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Emulator:
    """moto (scripts/emulator/server.py) on a free port, optionally behind the fault proxy."""

    def __init__(self, latency_ms=None, creating_seconds=None):
        port = free_port()
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", MOTO_ACCOUNT_ID="482916350047")
        self.moto = subprocess.Popen([str(PY), "scripts/emulator/server.py", "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/data.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        self.proxy = None
        if latency_ms is not None:
            args = [str(PY), "tests/support/fault_proxy.py", self.endpoint, "--latency-ms", str(latency_ms)]
            if creating_seconds:
                args += ["--creating-seconds", str(creating_seconds)]
            self.proxy = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            line = self.proxy.stdout.readline().decode()
            self.endpoint = f"http://127.0.0.1:{line.strip().split('=')[1]}"

    def env(self, state_dir):
        return dict(os.environ, AWS_ENDPOINT_URL=self.endpoint, AWS_REGION="us-east-2", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                    AWS_EC2_METADATA_DISABLED="true", UNIONCTL_STATE_DIR=str(state_dir), NO_COLOR="1", CI="true")

    def stop(self):
        for p in (self.proxy, self.moto):
            if p:
                p.kill()
                p.wait()


def bench_plan():
    print("## Offline plan (no state, no network)\n")
    print("| profile | median wall | peak RSS |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as state:
        env = dict(os.environ, UNIONCTL_STATE_DIR=state)
        for name in EXAMPLES:
            runs = [run([str(BIN), "plan", "-f", f"profiles/{name}.yaml"], env) for _ in range(10)]
            assert all(r[0] == 0 for r in runs), name
            print(f"| {name} | {statistics.median(r[1] for r in runs) * 1000:.1f} ms | {max(r[2] for r in runs):.1f} MiB |")
        fleet = Path(tempfile.mkdtemp())
        texts = {n: (ROOT / f"profiles/{n}.yaml").read_text() for n in EXAMPLES}
        for i in range(1000):
            name = EXAMPLES[i % len(EXAMPLES)]
            (fleet / f"plane-{i:04}.yaml").write_text(texts[name].replace("  name: acme-prod ", f"  name: plane-{i:04} ", 1))
        runs = [run([str(BIN), "plan", "-f", str(fleet), "--fleet-parallelism", str(os.cpu_count() or 2)], env) for _ in range(3)]
        assert all(r[0] == 0 for r in runs), "the fleet plan failed"
        print(f"| fleet of 1,000 generated profiles (one command, {os.cpu_count()} at a time) | {statistics.median(r[1] for r in runs):.2f} s | {max(r[2] for r in runs):.1f} MiB |")
    print()


def longest_path(resources, duration, start_of_kind=None):
    """The earliest finish of the whole plan: each resource starts when everything it
    depends on has finished and, for a rate-limited create, when its bucket has a token."""
    by_address = {r["address"]: r for r in resources}
    finish = {}
    limited = {}
    for kind in RATE_LIMITS:
        limited[kind] = sorted((r["address"] for r in resources if r["kind"] == kind))

    def earliest(address, stack=()):
        if address in finish:
            return finish[address]
        r = by_address[address]
        start = max((earliest(d, stack + (address,)) for d in r["depends_on"] if d in by_address), default=0.0)
        finish[address] = start + duration.get(address, 0.0)
        return finish[address]

    for a in by_address:
        earliest(a)
    # Rate limits: the i-th create of a limited kind starts no earlier than the first one's
    # start plus (i + 1 - burst) / rate; recompute with those release times.
    release = {}
    for kind, (burst, rate) in RATE_LIMITS.items():
        addresses = sorted(limited[kind], key=lambda a: finish[a] - duration.get(a, 0.0))
        if not addresses:
            continue
        first = finish[addresses[0]] - duration.get(addresses[0], 0.0)
        for i, a in enumerate(addresses):
            release[a] = first + max(0.0, (i + 1 - burst) / rate)
    finish.clear()

    def earliest_limited(address):
        if address in finish:
            return finish[address]
        r = by_address[address]
        start = max((earliest_limited(d) for d in r["depends_on"] if d in by_address), default=0.0)
        start = max(start, release.get(address, 0.0))
        finish[address] = start + duration.get(address, 0.0)
        return finish[address]

    return max(earliest_limited(a) for a in by_address)


def apply_once(parallelism):
    emu = Emulator(latency_ms=50, creating_seconds=5)
    state = tempfile.mkdtemp()
    try:
        args = [str(BIN), "apply", "--model", "byoc", "-f", "profiles/aws-byoc.yaml", "--auto-approve", "--output", "json"]
        if parallelism:
            args += ["--parallelism", str(parallelism)]
        code, wall, rss, out = run(args, emu.env(state), stdout=None)
        assert code == 0, f"apply failed (parallelism {parallelism})"
        lines = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
        durations = {}
        for e in lines:
            # The union stage's checks of customer resources are reads, not the resource's work.
            if e.get("event") == "done" and e.get("action") != "check":
                durations[e["address"]] = durations.get(e["address"], 0.0) + e["elapsed_ms"] / 1000
        result = lines[-1]
        return wall, rss, durations, result
    finally:
        emu.stop()


def bench_apply():
    plan = json.loads(subprocess.run([str(BIN), "plan", "-f", "profiles/aws-byoc.yaml", "--format", "json"], cwd=ROOT, capture_output=True, check=True).stdout)
    resources = plan["resources"]
    wall_1, rss_1, alone, result_1 = apply_once(1)
    wall_n, rss_n, _, result_n = apply_once(None)
    bound = longest_path(resources, alone)
    total = sum(alone.values())
    print("## Apply of profiles/aws-byoc.yaml through the latency proxy (50 ms per call, 5 s in progress)\n")
    print("| run | wall | wall / bound | API calls (mutating) | peak RSS |")
    print("|---|---|---|---|---|")
    print(f"| --parallelism 8 (default) | {wall_n:.1f} s | {wall_n / bound:.2f} | {result_n['calls']['total']} ({result_n['calls']['mutating']}) | {rss_n:.1f} MiB |")
    print(f"| --parallelism 1 | {wall_1:.1f} s | {wall_1 / bound:.2f} | {result_1['calls']['total']} ({result_1['calls']['mutating']}) | {rss_1:.1f} MiB |")
    print(f"\nLower bound (longest dependency chain, each resource as long as it took alone, rate limits applied): {bound:.1f} s; "
          f"sum of all resources' durations: {total:.1f} s; {len(alone)} resources.\n")


def bench_fleet():
    emu = Emulator()
    fleet = Path(tempfile.mkdtemp())
    state = tempfile.mkdtemp()
    text = (ROOT / "profiles/aws-self-managed.yaml").read_text()
    for i in range(20):
        (fleet / f"plane-{i:02}.yaml").write_text(text.replace("  name: acme-prod ", f"  name: plane-{i:02} ", 1).replace("cidr: 10.0.0.0/16", f"cidr: 10.{i}.0.0/16"))
    try:
        code, wall, rss, out = run([str(BIN), "apply", "--model", "self-managed", "-f", str(fleet), "--auto-approve", "--fleet-parallelism", "4"], emu.env(state), stdout=None)
        assert code == 0, out.decode()[-2000:]
        print("## Fleet apply: 20 self-managed AWS data planes, 4 at a time, one emulator\n")
        print(f"wall {wall:.1f} s, peak RSS {rss:.1f} MiB\n")
    finally:
        emu.stop()


if __name__ == "__main__":
    which = sys.argv[1:] or ["plan", "apply", "fleet"]
    print(f"unionctl benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores\n")
    for name in which:
        {"plan": bench_plan, "apply": bench_apply, "fleet": bench_fleet}[name]()

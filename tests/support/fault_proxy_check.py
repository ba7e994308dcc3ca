#!/usr/bin/env python3
"""Checks tests/support/fault_proxy.py against moto with boto3: error shapes, seeded
faults, retries through faults, idempotency tokens, lost answers and kills, creating
windows. Starts and stops its own emulator and proxies; prints one line per check and
exits non-zero if one fails.

    .venv/bin/python tests/support/fault_proxy_check.py
"""

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import botocore.exceptions
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROXY = os.path.join(ROOT, "tests", "support", "fault_proxy.py")
SERVICES = ("ec2", "iam", "sts", "kms", "s3", "eks", "elbv2", "cloudtrail")
# botocore: total_max_attempts counts the first try (its `max_attempts` counts retries only).
NO_RETRY = {"mode": "standard", "total_max_attempts": 1}
ROLE = "arn:aws:iam::123456789012:role/eks"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=body.encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


class Emulator:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "emulator", "server.py"),
                                      "-H", "127.0.0.1", "-p", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                http(self.url + "/moto-api/data.json")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto did not start")

    def reset(self):
        http(self.url + "/moto-api/reset", "POST", "")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Proxy:
    def __init__(self, emu, *args):
        self.proc = subprocess.Popen([sys.executable, PROXY, emu.url, *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.port = int(line.strip().removeprefix("PORT="))
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self):
        return json.loads(http(self.url + "/_proxy/stats"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def client(service, url, retries=NO_RETRY):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(retries=retries, connect_timeout=5, read_timeout=30))


def clients(url, retries=NO_RETRY):
    return {s: client(s, url, retries) for s in SERVICES}


def read_call(c, service):
    """One harmless read per service."""
    return {
        "ec2": lambda: c["ec2"].describe_vpcs(),
        "iam": lambda: c["iam"].list_roles(),
        "sts": lambda: c["sts"].get_caller_identity(),
        "kms": lambda: c["kms"].list_keys(),
        "s3": lambda: c["s3"].list_buckets(),
        "eks": lambda: c["eks"].list_clusters(),
        "elbv2": lambda: c["elbv2"].describe_load_balancers(),
        "cloudtrail": lambda: c["cloudtrail"].describe_trails(),
    }[service]()


def outcome(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return f"{e.response['Error']['Code']}/{e.response['ResponseMetadata'].get('HTTPStatusCode')}"
    except botocore.exceptions.BotoCoreError as e:
        return type(e).__name__


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


# --- The checks ---------------------------------------------------------------------------

EXPECTED = {
    "throttle": {"ec2": "RequestLimitExceeded/503", "iam": "Throttling/400", "sts": "Throttling/400",
                 "kms": "ThrottlingException/400", "s3": "SlowDown/503", "eks": "ThrottlingException/429",
                 "elbv2": "Throttling/400", "cloudtrail": "ThrottlingException/400"},
    "500": {"ec2": "InternalError/500", "iam": "InternalFailure/500", "sts": "InternalFailure/500",
            "kms": "InternalFailure/500", "s3": "InternalError/500", "eks": "ServerException/500",
            "elbv2": "InternalFailure/500", "cloudtrail": "InternalFailure/500"},
    "503": {"ec2": "ServiceUnavailable/503", "iam": "ServiceUnavailable/503", "sts": "ServiceUnavailable/503",
            "kms": "ServiceUnavailable/503", "s3": "ServiceUnavailable/503", "eks": "ServiceUnavailableException/503",
            "elbv2": "ServiceUnavailable/503", "cloudtrail": "ServiceUnavailable/503"},
}


def check_shapes(emu):
    """(1) Each fault answer parses, in botocore, as the code and status of its protocol."""
    seen = {}
    for kind, expected in EXPECTED.items():
        with Proxy(emu, "--fault-rate", "1", "--faults", kind) as proxy:
            c = clients(proxy.url)
            got = {s: outcome(lambda: read_call(c, s)) for s in SERVICES}
            expect(got == expected, f"{kind}: got {got}, expected {expected}")
            stats = proxy.stats()
            expect(stats["faults"] == {kind: len(SERVICES)}, f"{kind}: stats {stats}")
            seen[kind] = got
        # Without faults the same reads succeed (the proxy forwards them well).
    with Proxy(emu) as proxy:
        c = clients(proxy.url)
        plain = {s: outcome(lambda: read_call(c, s)) for s in SERVICES}
        expect(set(plain.values()) == {"ok"}, f"without faults: {plain}")
    return "throttle " + " ".join(f"{s}={v}" for s, v in seen["throttle"].items()) + \
        "; 500 " + " ".join(f"{s}={v}" for s, v in seen["500"].items()) + \
        "; 503 " + " ".join(f"{s}={v}" for s, v in seen["503"].items())


def determinism_calls(c):
    """40 reads, some repeated word for word (their retries of identity), some distinct."""
    calls = []
    for i in range(40):
        s = SERVICES[i % len(SERVICES)]
        if i % 3 == 0:
            calls.append((s, lambda s=s: read_call(c, s)))
        elif s == "ec2":
            calls.append((s, lambda i=i: c["ec2"].describe_vpcs(Filters=[{"Name": "tag:n", "Values": [str(i)]}])))
        elif s == "kms":
            calls.append((s, lambda i=i: c["kms"].list_keys(Limit=i + 1)))
        elif s == "iam":
            calls.append((s, lambda i=i: c["iam"].list_roles(PathPrefix=f"/p{i}/")))
        elif s == "s3":
            calls.append((s, lambda i=i: c["s3"].list_objects_v2(Bucket="determinism", Prefix=str(i))))
        elif s == "eks":
            calls.append((s, lambda i=i: c["eks"].list_clusters(maxResults=i + 1)))
        else:
            calls.append((s, lambda s=s: read_call(c, s)))
    return calls


def run_faults(emu, seed, concurrent=False):
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        record = f.name
    try:
        with Proxy(emu, "--seed", str(seed), "--fault-rate", "0.3", "--record", record) as proxy:
            calls = determinism_calls(clients(proxy.url))
            if concurrent:
                with concurrent_pool() as pool:
                    outcomes = list(pool.map(lambda sc: outcome(sc[1]), calls))
            else:
                outcomes = [outcome(fn) for _, fn in calls]
            stats = proxy.stats()
        # Lines are written as answers finish; a sequential client's requests are in t0 order.
        lines = sorted((json.loads(x) for x in open(record)), key=lambda x: x["t0"])
    finally:
        os.unlink(record)
    faults = [(x["service"], x["action"], x["fault"]) for x in lines]
    return faults, outcomes, stats


def concurrent_pool():
    return concurrent.futures.ThreadPoolExecutor(8)


def check_determinism(emu):
    """(2) The same seed gives the same faults for the same requests, in sequence or
    concurrently; another seed gives others."""
    client("s3", emu.url).create_bucket(Bucket="determinism")
    a, out_a, stats_a = run_faults(emu, 7)
    b, out_b, _ = run_faults(emu, 7)
    conc, _, stats_c = run_faults(emu, 7, concurrent=True)
    other, out_o, _ = run_faults(emu, 8)
    expect(len(a) == 40 and a == b, f"seed 7 twice differs:\n{a}\n{b}")
    expect(out_a == out_b, f"seed 7 outcomes differ:\n{out_a}\n{out_b}")
    expect(sorted(a, key=str) == sorted(conc, key=str), f"seed 7 concurrent differs:\n{sorted(a, key=str)}\n{sorted(conc, key=str)}")
    expect(stats_a["faults"] == stats_c["faults"], f"{stats_a} vs {stats_c}")
    expect([x[2] for x in a] != [x[2] for x in other], "seed 8 gave the same faults as seed 7")
    expect(any(x[2] for x in a), "seed 7 faulted nothing")
    letter = {None: ".", "latency": "d", "500": "5", "503": "3", "throttle": "t", "reset": "r", "lost": "l"}
    pattern = "".join(letter[f] for _, _, f in a)
    pattern8 = "".join(letter[f] for _, _, f in other)
    return f"seed 7 {pattern} (. none, d latency, 5 500, 3 503, t throttle, r reset, l lost; x2 identical, 8 threads same multiset {stats_a['faults']}); seed 8 {pattern8}"


def check_retries(emu):
    """(3) At 10% faults of every kind, botocore's standard retries carry 200 mixed calls."""
    emu.reset()
    with Proxy(emu, "--seed", "3", "--fault-rate", "0.1") as proxy:
        c = clients(proxy.url, {"mode": "standard", "total_max_attempts": 8})
        direct = clients(emu.url)
        vpc = direct["ec2"].create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        direct["s3"].create_bucket(Bucket="retries")
        direct["iam"].create_role(RoleName="retries", AssumeRolePolicyDocument="{}")
        ops = [
            lambda i: c["ec2"].describe_vpcs(VpcIds=[vpc]),
            lambda i: c["ec2"].create_tags(Resources=[vpc], Tags=[{"Key": f"k{i % 5}", "Value": str(i)}]),
            lambda i: c["s3"].put_object(Bucket="retries", Key=f"o{i % 7}", Body=f"body {i}".encode()),
            lambda i: c["s3"].list_objects_v2(Bucket="retries"),
            lambda i: c["kms"].list_keys(),
            lambda i: c["iam"].get_role(RoleName="retries"),
            lambda i: c["sts"].get_caller_identity(),
            lambda i: c["eks"].list_clusters(),
            lambda i: c["elbv2"].describe_load_balancers(),
            lambda i: c["cloudtrail"].describe_trails(),
            lambda i: c["ec2"].create_launch_template(
                LaunchTemplateName=f"retries-{i}", LaunchTemplateData={"InstanceType": "t3.micro"}, ClientToken=f"retries-{i}"),
        ]
        failures = []
        t0 = time.time()
        for i in range(200):
            try:
                ops[i % len(ops)](i)
            except Exception as e:  # noqa: BLE001 - any failure is the check failing
                failures.append(f"call {i}: {e!r}")
        stats = proxy.stats()
        # moto answers 15 templates and no NextToken unless MaxResults is given.
        templates = direct["ec2"].describe_launch_templates(MaxResults=200)["LaunchTemplates"]
    expect(not failures, f"{len(failures)} calls failed: {failures[:5]}")
    made = sum(1 for t in templates if t["LaunchTemplateName"].startswith("retries-"))
    expect(made == len(range(10, 200, len(ops))), f"{made} launch templates")
    return (f"200/200 calls succeeded in {time.time() - t0:.1f}s over {stats['requests']} requests; "
            f"faults {stats['faults']}, token_replays {stats['token_replays']}")


def check_tokens(emu):
    """(4) ClientToken / clientRequestToken are honoured as AWS does."""
    emu.reset()
    with Proxy(emu) as proxy:
        c = clients(proxy.url)
        direct = clients(emu.url)
        ec2 = c["ec2"]
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat1 = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc, ClientToken="nat-token")["NatGateway"]["NatGatewayId"]
        nat2 = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc, ClientToken="nat-token")["NatGateway"]["NatGatewayId"]
        nats = direct["ec2"].describe_nat_gateways(Filters=[{"Name": "subnet-id", "Values": [subnet]}])["NatGateways"]
        expect(nat1 == nat2 and len(nats) == 1, f"NAT: {nat1} {nat2} {len(nats)} made")
        nat_mismatch = outcome(lambda: ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc, ClientToken="nat-token",
                                                              ConnectivityType="private"))
        expect(nat_mismatch == "IdempotentParameterMismatch/400", nat_mismatch)

        data = {"InstanceType": "t3.micro"}
        lt1 = ec2.create_launch_template(LaunchTemplateName="tok", LaunchTemplateData=data, ClientToken="lt-token")
        lt2 = ec2.create_launch_template(LaunchTemplateName="tok", LaunchTemplateData=data, ClientToken="lt-token")
        lt1, lt2 = lt1["LaunchTemplate"]["LaunchTemplateId"], lt2["LaunchTemplate"]["LaunchTemplateId"]
        lts = direct["ec2"].describe_launch_templates(MaxResults=200)["LaunchTemplates"]
        expect(lt1 == lt2 and len(lts) == 1, f"launch template: {lt1} {lt2} {len(lts)} made")
        lt_mismatch = outcome(lambda: ec2.create_launch_template(
            LaunchTemplateName="tok", LaunchTemplateData={"InstanceType": "t3.large"}, ClientToken="lt-token"))
        expect(lt_mismatch == "IdempotentParameterMismatch/400", lt_mismatch)

        args = dict(name="tok", roleArn=ROLE, resourcesVpcConfig={"subnetIds": [subnet]})
        eks1 = c["eks"].create_cluster(clientRequestToken="eks-token", **args)["cluster"]
        eks2 = c["eks"].create_cluster(clientRequestToken="eks-token", **args)["cluster"]
        expect(eks1["arn"] == eks2["arn"] and eks1["createdAt"] == eks2["createdAt"], f"EKS: {eks1} {eks2}")
        moto_says = outcome(lambda: direct["eks"].create_cluster(clientRequestToken="eks-token", **args))
        expect(moto_says.startswith("ResourceInUseException"), f"moto itself: {moto_says}")
        eks_mismatch = outcome(lambda: c["eks"].create_cluster(clientRequestToken="eks-token", **dict(args, roleArn=ROLE + "2")))
        expect(eks_mismatch == "InvalidRequestException/400", eks_mismatch)
        stats = proxy.stats()
    expect(stats["token_replays"] == 3 and stats["token_mismatches"] == 3, stats)

    # A tokened create whose answer is lost: botocore's retry carries the same token and
    # gets the stored answer; one template is made.
    with Proxy(emu, "--lose", "CreateLaunchTemplate") as proxy:
        retrying = client("ec2", proxy.url, {"mode": "standard", "total_max_attempts": 3})
        lost_lt = retrying.create_launch_template(LaunchTemplateName="lost", LaunchTemplateData=data)["LaunchTemplate"]
        lost_stats = proxy.stats()
    made = [t for t in direct["ec2"].describe_launch_templates(MaxResults=200)["LaunchTemplates"] if t["LaunchTemplateName"] == "lost"]
    expect(len(made) == 1 and made[0]["LaunchTemplateId"] == lost_lt["LaunchTemplateId"], f"lost create: {made} {lost_lt}")
    expect(lost_stats["lost"] == {"CreateLaunchTemplate": 1} and lost_stats["token_replays"] == 1, lost_stats)
    return (f"NAT {nat1} twice -> 1 made, changed -> {nat_mismatch}; launch template {lt1} twice -> 1 made, "
            f"changed -> {lt_mismatch}; EKS same token -> first answer (moto alone: {moto_says}), "
            f"changed -> {eks_mismatch}; replays {stats['token_replays']} mismatches {stats['token_mismatches']}; "
            f"lost CreateLaunchTemplate answer -> SDK retry (its own token) replayed, 1 made")


def check_lose_and_kill(emu):
    """(5) --lose and /_proxy/kill as in lossy_proxy.py."""
    emu.reset()
    direct = clients(emu.url)

    def vpcs():
        return len(direct["ec2"].describe_vpcs()["Vpcs"])

    with Proxy(emu, "--lose", "CreateVpc,CreateSubnet", "--lose-times", "1") as proxy:
        c = clients(proxy.url)
        before = vpcs()
        first = outcome(lambda: c["ec2"].create_vpc(CidrBlock="10.2.0.0/16"))
        after_lost = vpcs()
        second = outcome(lambda: c["ec2"].create_vpc(CidrBlock="10.3.0.0/16"))
        lose_stats = proxy.stats()
        lose_legacy = http(proxy.url + "/_proxy/lost")
    expect(first == "ConnectionClosedError" and after_lost == before + 1, f"lost CreateVpc: {first}, {before} -> {after_lost}")
    expect(second == "ok" and vpcs() == before + 2, f"second CreateVpc: {second}")
    expect(lose_stats["lost"] == {"CreateVpc": 1} and lose_legacy == '{"CreateVpc": 1}', f"{lose_stats} {lose_legacy}")

    # lossy_proxy.py's positional form.
    with Proxy(emu, "CreateVpc", "2") as proxy:
        c = clients(proxy.url)
        legacy_outcomes = [outcome(lambda: c["ec2"].create_vpc(CidrBlock="10.4.0.0/16")) for _ in range(3)]
        legacy_lost = http(proxy.url + "/_proxy/lost")
    expect(legacy_outcomes == ["ConnectionClosedError", "ConnectionClosedError", "ok"], legacy_outcomes)
    expect(legacy_lost == '{"CreateVpc": 2}', legacy_lost)

    with Proxy(emu) as proxy:
        c = clients(proxy.url)
        vpc = c["ec2"].create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
        victim = subprocess.Popen(["sleep", "100"])
        try:
            http(proxy.url + "/_proxy/kill", "POST", json.dumps({"pid": victim.pid, "after": 2}))
            one = outcome(lambda: c["ec2"].create_tags(Resources=[vpc], Tags=[{"Key": "a", "Value": "1"}]))
            read = outcome(lambda: c["ec2"].describe_vpcs())
            alive = victim.poll() is None
            two = outcome(lambda: c["ec2"].create_tags(Resources=[vpc], Tags=[{"Key": "b", "Value": "2"}]))
            code = victim.wait(5)
        finally:
            if victim.poll() is None:
                victim.kill()
                victim.wait()
        tags = {t["Key"] for t in direct["ec2"].describe_vpcs(VpcIds=[vpc])["Vpcs"][0].get("Tags", [])}
        stats = proxy.stats()
        legacy = http(proxy.url + "/_proxy/lost")
    expect(one == "ok" and read == "ok" and alive, f"before the 2nd mutating call: {one} {read} alive={alive}")
    expect(two == "ConnectionClosedError" and code == -signal.SIGKILL, f"2nd mutating call: {two}, exit {code}")
    expect(tags == {"a", "b"} and stats["killed"] == 1 and legacy == '{"killed": 1}', f"{tags} {stats} {legacy}")
    return (f"--lose CreateVpc: 1st {first} (made: {after_lost - before}), 2nd {second}, stats lost {lose_stats['lost']}, /_proxy/lost {lose_legacy}; "
            f"positional 'CreateVpc 2': {legacy_outcomes}; kill after 2: call 1 {one}, read {read}, call 2 {two}, "
            f"sleep exit {code}, change made {sorted(tags)}")


def check_creating(emu):
    """(6) --creating-seconds 3: CREATING / pending, then ACTIVE / available."""
    emu.reset()
    with Proxy(emu, "--creating-seconds", "3") as proxy:
        c = clients(proxy.url)
        ec2, eks = c["ec2"], c["eks"]
        vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
        alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
        t0 = time.monotonic()
        eks.create_cluster(name="slow", roleArn=ROLE, resourcesVpcConfig={"subnetIds": [subnet]})
        t1 = time.monotonic()
        eks.create_nodegroup(clusterName="slow", nodegroupName="ng", subnets=[subnet], nodeRole=ROLE)
        t2 = time.monotonic()
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
        t3 = time.monotonic()
        made = {"cluster": t0, "nodegroup": t1, "NAT": t2}
        # The proxy starts a window when the create's answer comes back, and a read is
        # judged when it arrives: a loaded machine moves both by up to a call's duration.
        slack = {"cluster": t1 - t0 + 0.3, "nodegroup": t2 - t1 + 0.3, "NAT": t3 - t2 + 0.3}
        timeline = {name: [] for name in made}  # per resource: [(seconds since its create, state)] at each change
        seen = {name: [] for name in made}  # every observation
        final = {"cluster": "ACTIVE", "nodegroup": "ACTIVE", "NAT": "available"}
        first = {"cluster": "CREATING", "nodegroup": "CREATING", "NAT": "pending"}
        # Until each window has surely ended and each state was seen final (a loaded
        # machine polls slowly; the check is on what was seen when, not on poll rates).
        while time.monotonic() - t0 < 15 and (time.monotonic() - t3 < 3.5 + max(slack.values()) or any(not v or v[-1][1] != final[n] for n, v in seen.items())):
            states = {"cluster": eks.describe_cluster(name="slow")["cluster"]["status"],
                      "nodegroup": eks.describe_nodegroup(clusterName="slow", nodegroupName="ng")["nodegroup"]["status"],
                      "NAT": ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]}
            now = time.monotonic()
            for name, state in states.items():
                seen[name].append((now - made[name], state))
                if not timeline[name] or timeline[name][-1][1] != state:
                    timeline[name].append((round(now - made[name], 1), state))
            time.sleep(0.2)
    for name, changes in timeline.items():
        # In progress whenever read within the window (minus the read's own time), done
        # whenever read after it, and both were seen.
        expect([s for _, s in changes] == [first[name], final[name]], f"{name}: {changes}")
        expect(all(s == first[name] for t, s in seen[name] if t < 2.9) and all(s == final[name] for t, s in seen[name] if t > 3 + slack[name]), f"{name}: {seen[name]}")
    return "; ".join(f"{name} " + " then ".join(f"{s} at {t}s" for t, s in changes) for name, changes in timeline.items())


def main():
    checks = [("1 error shapes", check_shapes), ("2 seeded faults", check_determinism), ("3 retries at 10%", check_retries),
              ("4 idempotency tokens", check_tokens), ("5 lose and kill", check_lose_and_kill),
              ("6 creating windows", check_creating)]
    only = sys.argv[1:]
    emu = Emulator()
    failed = 0
    try:
        for name, fn in checks:
            if only and name.split()[0] not in only:
                continue
            try:
                print(f"ok   {name}: {fn(emu)}", flush=True)
            except Exception as e:  # noqa: BLE001 - report and go on with the next check
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
    finally:
        emu.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

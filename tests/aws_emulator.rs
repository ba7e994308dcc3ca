//! unionctl against a real AWS emulator: moto in server mode (scripts/emulator/server.py),
//! one emulator per test on its own loopback port, so tests cannot see each other. What
//! exists is checked by an independent client (boto3, tests/support/*.py), never by
//! unionctl itself.
//!
//! `scripts/test` installs moto and points these tests at it; run alone they look for
//! `.venv/bin/python` and fail with a clear message if it is missing.

mod common;
use common::{
    changed_addresses, http, kill_at_serials, python, remote_state_contract, stderr_of, Bucket,
};

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

/// The AWS account of the example profiles (`spec.cloud.aws.accountId`).
const EXAMPLE_ACCOUNT: &str = "482916350047";

struct Emulator {
    child: Child,
    endpoint: String,
    python: PathBuf,
    state_dir: tempfile::TempDir,
}

impl Emulator {
    fn start() -> Emulator {
        Emulator::start_as(Some(EXAMPLE_ACCOUNT))
    }

    /// An emulator that answers as `account` (`None`: moto's own default, 123456789012).
    fn start_as(account: Option<&str>) -> Emulator {
        let python = python();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = std::env::var_os("UNIONCTL_EMULATOR_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("scripts/emulator/server.py"));
        let mut command = StdCommand::new(&python);
        if let Some(account) = account {
            command.env("MOTO_ACCOUNT_ID", account);
        }
        let child = command
            .arg(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            // The example profiles' account: every request is answered as that account's.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let endpoint = format!("http://127.0.0.1:{port}");
        let t0 = Instant::now();
        loop {
            if http(port, "GET", "/moto-api/data.json", "").is_some() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the emulator did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Emulator {
            child,
            endpoint,
            python,
            state_dir: tempfile::tempdir().unwrap(),
        }
    }

    fn unionctl(&self) -> Command {
        Command::from_std(self.process())
    }

    /// The unionctl binary with this emulator's environment.
    fn process(&self) -> StdCommand {
        self.process_with(StdCommand::new(assert_cmd::cargo::cargo_bin("unionctl")))
    }

    fn process_with(&self, mut c: StdCommand) -> StdCommand {
        c.env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-2")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The SDK's standard retries stay on (moto can answer 500 under concurrent
            // IAM changes, as AWS can); fewer attempts keep a real failure quick.
            .env("AWS_MAX_ATTEMPTS", "3")
            .env("UNIONCTL_STATE_DIR", self.state_dir.path())
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE");
        c
    }

    fn python(&self, script: &str, args: &[&str]) -> String {
        let out = StdCommand::new(&self.python)
            .arg(script)
            .arg(&self.endpoint)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-2")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Live resources tagged with the data plane, per kind, read by boto3.
    fn inventory(&self, plane: &str) -> BTreeMap<String, u64> {
        let text = self.python("tests/support/inventory.py", &[plane]);
        serde_json::from_str(&text).unwrap()
    }

    /// unionctl on a terminal (a pseudo-terminal): waits for `prompt`, types `answer`;
    /// returns the exit code and what the terminal showed.
    fn on_terminal(&self, prompt: &str, answer: &str, args: &[&str]) -> (i32, String) {
        let out = self
            .process_with(StdCommand::new(&self.python))
            .args(["tests/support/answer.py", prompt, answer, "--"])
            .arg(assert_cmd::cargo::cargo_bin("unionctl"))
            .args(args)
            .env_remove("CI")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// `unionctl ARGS --output json`, its stream checked by an independent reader
    /// (tests/support/results.py); returns the exit code and the result object.
    fn result(&self, command: &str, args: &[&str]) -> (i32, Value) {
        let out = self
            .process()
            .args(args)
            .args(["--output", "json"])
            .output()
            .unwrap();
        let mut reader = StdCommand::new(&self.python)
            .args(["tests/support/results.py", command])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        reader.stdin.take().unwrap().write_all(&out.stdout).unwrap();
        let checked = reader.wait_with_output().unwrap();
        assert!(
            checked.status.success(),
            "the {command} result stream breaks docs/results-format.md: {}\n{}",
            String::from_utf8_lossy(&checked.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_slice(&checked.stdout).unwrap(),
        )
    }

    fn state_file(&self, profile: &str) -> PathBuf {
        common::state_file(self.state_dir.path(), profile)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resources of each kind in the plan (managed ones; data sources and local values are
/// not cloud resources unionctl owns).
fn planned_counts(profile: &str) -> BTreeMap<String, u64> {
    let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
    let plan = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    let mut counts = BTreeMap::new();
    for r in plan
        .resources
        .iter()
        .filter(|r| r.mode == unionctl::plan::Mode::Managed && !r.kind.starts_with("local."))
    {
        *counts.entry(r.kind.clone()).or_insert(0) += 1;
    }
    counts
}

fn assert_inventory_matches_plan(emu: &Emulator, profile: &str) {
    assert_plane_matches_plan(emu, "acme-prod", profile);
}

fn assert_plane_matches_plan(emu: &Emulator, plane: &str, profile: &str) {
    let live = emu.inventory(plane);
    for (kind, want) in planned_counts(profile) {
        assert_eq!(
            live.get(&kind).copied().unwrap_or(0),
            want,
            "{kind}: live {live:?}"
        );
    }
}

#[test]
fn byoc_apply_converges_detects_drift_repairs_and_destroys() {
    let emu = Emulator::start();
    let profile = "profiles/aws-byoc.yaml";
    let planfile = emu.state_dir.path().join("plan.json");

    // A saved plan applies exactly; the same plan is stale once state moved.
    emu.unionctl()
        .args(["plan", "-f", profile, "--out"])
        .arg(&planfile)
        .assert()
        .success();
    let applied = emu
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .arg(&planfile)
        .assert()
        .success();
    assert!(
        stderr_of(&applied).contains("Stage union done: 19 created"),
        "{}",
        stderr_of(&applied)
    );
    emu.unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .arg(&planfile)
        .assert()
        .code(1)
        .stderr(contains("is stale"));
    assert_inventory_matches_plan(&emu, profile);

    // Converged: no changes, and a second apply makes no mutating call.
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    let again = emu
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    assert!(
        stderr_of(&again).contains("API calls (0 mutating)"),
        "{}",
        stderr_of(&again)
    );
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success()
        .stdout(contains("PASS   1. private-endpoint"));

    // Drift: three changes behind unionctl's back; plan reports exactly those.
    emu.python("tests/support/tamper.py", &["acme-prod", "drift"]);
    let out = emu
        .unionctl()
        .args([
            "plan",
            "-f",
            profile,
            "--format",
            "json",
            "--detailed-exitcode",
        ])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let changed = changed_addresses(&out);
    assert_eq!(
        changed,
        vec![
            ("aws.eks_cluster.main".to_string(), true),
            ("aws.iam_role.workload_worker_production".to_string(), true),
            ("aws.s3_bucket.metadata".to_string(), true)
        ]
    );
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .code(3)
        .stderr(contains("invariant 1 (private-endpoint)"))
        .stderr(contains("invariant 2 (encryption-at-rest)"))
        .stderr(contains("invariant 7 (least-privilege)"));
    // The same, as CI reads it.
    let (code, plan) = emu.result("plan", &["plan", "-f", profile, "--detailed-exitcode"]);
    assert_eq!(
        (
            code,
            plan["exit_code"].as_i64(),
            plan["summary"]["update"].as_u64()
        ),
        (2, Some(2), Some(3)),
        "{plan}"
    );
    let (code, verified) = emu.result("verify", &["verify", "-f", profile]);
    let failed: Vec<u64> = verified["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    assert_eq!(
        (code, verified["ok"].as_bool(), failed),
        (3, Some(false), vec![1, 2, 7]),
        "{verified}"
    );
    emu.unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);

    // Hand-off.
    let out = emu
        .unionctl()
        .args(["outputs", "-f", profile, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let hand_off: Value = serde_json::from_slice(&out).unwrap();
    let (code, result) = emu.result("outputs", &["outputs", "-f", profile]);
    assert_eq!(
        (code, &result["helm_values"]),
        (0, &hand_off["helm_values"])
    );
    assert!(hand_off["union_access"]["admin_role_arn"]
        .as_str()
        .unwrap()
        .ends_with(":role/acme-prod-union-ai-admin"));
    assert_eq!(
        hand_off["union_access"]["external_id"]
            .as_str()
            .unwrap()
            .len(),
        24
    );
    assert!(hand_off["union_access"]["endpoint_service_name"]
        .as_str()
        .unwrap()
        .starts_with("com.amazonaws.vpce."));
    assert_eq!(
        hand_off["helm_values"]["global"]["METADATA_BUCKET"],
        "acme-prod-metadata"
    );
    assert!(
        hand_off["helm_values"]["global"]["NAMESPACES"]["production"]["IAM_ROLE_ARN"]
            .as_str()
            .unwrap()
            .ends_with(":role/acme-prod-w-production")
    );
    assert_eq!(
        hand_off["helm_values"]["global"]["NAMESPACES"]["production"]["RAW_OUTPUT_PREFIX"],
        "s3://acme-prod-metadata/production/"
    );

    // Destroy is a plan: saved (exit 2: it deletes something), shown with the plan's
    // table, refused by apply, carried out exactly, and stale once carried out.
    let destroy_plan = emu.state_dir.path().join("destroy.json");
    let saved = destroy_plan.to_str().unwrap();
    emu.unionctl()
        .args(["destroy", "-f", profile, "-o", saved, "--detailed-exitcode"])
        .assert()
        .code(2)
        .stdout(contains(
            "unionctl destroy plan: acme-prod (aws us-east-2, byoc)",
        ))
        .stdout(contains(
            "Stage union: deleted by Union.ai through the admin identity",
        ))
        .stdout(contains("- delete    aws.eks_cluster.main"))
        .stderr(contains(format!("unionctl destroy -f {profile} {saved}")));
    let doc: Value = serde_json::from_slice(&std::fs::read(&destroy_plan).unwrap()).unwrap();
    let deletes = doc["resource_changes"].as_array().unwrap();
    assert_eq!(doc["mode"], "destroy");
    assert!(deletes.iter().all(|c| c["action"] == "delete"), "{doc}");
    emu.unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, saved])
        .assert()
        .code(1)
        .stderr(contains("is a destroy plan"));
    assert!(
        emu.inventory("acme-prod").values().sum::<u64>() > 0,
        "a refused plan deletes nothing"
    );
    let (code, destroyed) = emu.result(
        "destroy",
        &["destroy", "-f", profile, saved, "--auto-approve"],
    );
    assert_eq!(
        destroyed["plan"]["changes"].as_array().unwrap().len(),
        deletes.len()
    );
    emu.unionctl()
        .args(["destroy", "-f", profile, saved, "--auto-approve"])
        .assert()
        .code(1)
        .stderr(contains("is stale"));

    // Destroy left nothing tagged; destroying twice is fine.
    let deleted: u64 = destroyed["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcomes"]["deleted"].as_u64().unwrap())
        .sum();
    assert_eq!(
        (code, deleted),
        (0, planned_counts(profile).values().sum::<u64>()),
        "{destroyed}"
    );
    let left: Vec<_> = emu
        .inventory("acme-prod")
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:?}");
    emu.unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .success()
        .stderr(contains("nothing to destroy"));
}

#[test]
fn self_managed_creates_no_union_principal() {
    let emu = Emulator::start();
    let profile = "profiles/aws-self-managed.yaml";
    emu.unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .code(1)
        .stderr(contains("does not match `spec.model: self-managed`"));
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--stage",
            "union",
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains("no union stage"));
    // `--output json`: JSON lines on stdout for CI: events, then one result.
    let applied = emu
        .unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
            "--output",
            "json",
        ])
        .assert()
        .success();
    assert!(
        !stderr_of(&applied).contains("Stage union"),
        "{}",
        stderr_of(&applied)
    );
    let mut events: Vec<Value> = String::from_utf8_lossy(&applied.get_output().stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let result = events.pop().unwrap();
    assert_eq!(
        (
            result["command"].as_str(),
            result["ok"].as_bool(),
            result["format_version"].as_str()
        ),
        (Some("apply"), Some(true), Some("2.0")),
        "{result}"
    );
    let done = events
        .iter()
        .filter(|e| e["event"] == "done" && e["outcome"] == "created")
        .count() as u64;
    assert_eq!(
        done,
        planned_counts(profile).values().sum::<u64>(),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["event"] == "start" || e["event"] == "done"),
        "{events:?}"
    );
    assert_eq!(
        result["stages"][0]["outcomes"]["created"].as_u64(),
        Some(done),
        "{result}"
    );
    assert_eq!(
        result["plan"]["summary"]["create"].as_u64(),
        Some(done),
        "{result}"
    );
    assert_inventory_matches_plan(&emu, profile);
    let live = emu.inventory("acme-prod");
    assert_eq!(live["aws.vpc_endpoint_service"], 0);
    assert_eq!(live["aws.lb"], 0);
    let roles = emu.python("tests/support/principals.py", &["479331373192"]);
    assert_eq!(
        roles.trim(),
        "[]",
        "roles trusting Union.ai's account: {roles}"
    );
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
}

/// A copy of an example profile with edits, under the same file name (so it shares the
/// example's state) in a directory of its own.
fn variant(dir: &tempfile::TempDir, profile: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(profile).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{profile} has no `{from}`");
        text = text.replace(from, to);
    }
    let sub = dir
        .path()
        .join(std::fs::read_dir(dir.path()).unwrap().count().to_string());
    std::fs::create_dir(&sub).unwrap();
    let path = sub.join(Path::new(profile).file_name().unwrap());
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// `apply` shows the plan against what exists and executes exactly it: drift shows as
/// updates (answered `n`, nothing changes); a bucket removed from the profile shows as a
/// delete, and is deleted only while it holds no data; a change that forces a new
/// resource shows as a replace at plan time, and is refused for what holds data or
/// identity; destroy keeps data unless told otherwise.
#[test]
fn apply_executes_exactly_the_plan_it_shows() {
    let emu = Emulator::start();
    let profile = "profiles/aws-self-managed.yaml";
    let apply = ["apply", "--model", "self-managed", "-f"];
    emu.unionctl()
        .args(apply)
        .args([profile, "--auto-approve"])
        .assert()
        .success();

    // Drift, then apply on a terminal answered `n`: the screen shows updates, not creates.
    emu.python("tests/support/tamper.py", &["acme-prod", "drift"]);
    let (code, screen) = emu.on_terminal(
        "Only `yes` is accepted",
        "n",
        &[apply[0], apply[1], apply[2], apply[3], profile],
    );
    assert_eq!(code, 1, "{screen}");
    for drifted in [
        "aws.eks_cluster.main",
        "aws.s3_bucket.metadata",
        "aws.iam_role.workload_worker_production",
    ] {
        let row = screen
            .lines()
            .find(|l| l.contains(drifted) && l.contains("update"))
            .unwrap_or_else(|| panic!("no update row for {drifted}:\n{screen}"));
        assert!(
            row.contains("~ update") && row.contains("(changed outside unionctl)"),
            "{row}"
        );
    }
    assert!(!screen.contains("+ create"), "{screen}");
    assert!(
        screen.contains("Plan: 0 to create, 3 to update, 0 to replace, 0 to delete")
            && screen.contains("apply cancelled; nothing was changed"),
        "{screen}"
    );
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(2);
    let (code, screen) = emu.on_terminal(
        "Only `yes` is accepted",
        "yes",
        &[apply[0], apply[1], apply[2], apply[3], profile],
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("3 updated"), "{screen}");
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);

    // A bucket removed from the profile is a delete in the confirmation; empty, it goes.
    let dir = tempfile::tempdir().unwrap();
    let one_bucket = variant(
        &dir,
        profile,
        &[(
            "buckets: [metadata, fast-registration]",
            "buckets: [metadata]",
        )],
    );
    let (code, screen) = emu.on_terminal(
        "Only `yes` is accepted",
        "n",
        &[apply[0], apply[1], apply[2], apply[3], &one_bucket],
    );
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("- delete") && l.contains("aws.s3_bucket.fast_registration")),
        "{screen}"
    );
    // A customer-only change: the union stage has nothing to do and does not sign in.
    emu.unionctl()
        .args(apply)
        .args([&one_bucket, "--auto-approve"])
        .assert()
        .success()
        .stderr(contains("1 deleted"))
        .stderr(contains("Stage union").not());
    assert_eq!(
        emu.inventory("acme-prod")["aws.s3_bucket"],
        2,
        "metadata and the audit bucket remain"
    );

    // A bucket that holds data is never deleted by apply: refused, and nothing changes.
    emu.python(
        "tests/support/tamper.py",
        &["acme-prod", "object", "metadata"],
    );
    let swapped = variant(
        &dir,
        profile,
        &[(
            "buckets: [metadata, fast-registration]",
            "buckets: [fast-registration]",
        )],
    );
    emu.unionctl()
        .args(apply)
        .args([&swapped, "--auto-approve"])
        .assert()
        .code(1)
        .stdout(contains(
            "! refused: `aws.s3_bucket.metadata` holds 1 object",
        ))
        .stderr(contains("nothing was changed"));
    assert_eq!(
        emu.inventory("acme-prod")["aws.s3_bucket"],
        2,
        "nothing was created or deleted"
    );

    // A change that forces a new node group: a replace at plan time, carried out.
    let bigger = variant(
        &dir,
        &one_bucket,
        &[("instanceType: m6i.2xlarge", "instanceType: m6i.4xlarge")],
    );
    emu.unionctl()
        .args(["plan", "-f", &bigger, "--detailed-exitcode"])
        .assert()
        .code(2)
        .stdout(contains("-/+ replace aws.eks_node_group.workers"))
        .stdout(contains(
            "/instanceTypes: [\"m6i.2xlarge\"] → [\"m6i.4xlarge\"]  # forces replacement",
        ));
    emu.unionctl()
        .args(apply)
        .args([&bigger, "--auto-approve"])
        .assert()
        .success()
        .stderr(contains("1 deleted, ").or(contains("1 created")));
    emu.unionctl()
        .args(["plan", "-f", &bigger, "--detailed-exitcode"])
        .assert()
        .code(0);
    // … and one that would replace the cluster is refused at plan time.
    let services = variant(
        &dir,
        &bigger,
        &[(
            "    zones: 3\n",
            "    zones: 3\n    servicesCidr: 172.21.0.0/16\n",
        )],
    );
    emu.unionctl()
        .args(["plan", "-f", &services])
        .assert()
        .code(1)
        .stdout(contains("-/+ replace aws.eks_cluster.main"))
        .stderr(contains(
            "apply never replaces `aws.eks_cluster.main`: it runs every workload",
        ));

    // Destroy keeps data unless told: refused with the count, then done with --delete-data.
    emu.unionctl()
        .args(["destroy", "-f", &bigger, "--auto-approve"])
        .assert()
        .code(1)
        .stderr(contains(
            "`aws.s3_bucket.metadata` (acme-prod-metadata) holds 1 object",
        ))
        .stderr(contains("--delete-data"));
    assert!(
        emu.inventory("acme-prod").values().sum::<u64>() > 0,
        "nothing was deleted"
    );
    emu.unionctl()
        .args(["destroy", "-f", &bigger, "--auto-approve", "--delete-data"])
        .assert()
        .success();
    let left: Vec<_> = emu
        .inventory("acme-prod")
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:?}");
}

/// Existing resources the profile names are read and checked before anything changes: a
/// disabled key or a trail that does not log refuses the apply; good ones pass.
#[test]
fn existing_key_and_trail_are_checked_not_assumed() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = "profiles/aws-self-managed.yaml";
    let bad_key = emu
        .python("tests/support/existing.py", &["key", "disabled"])
        .trim()
        .to_string();
    let stopped = emu
        .python("tests/support/existing.py", &["trail", "stopped"])
        .trim()
        .to_string();
    let uses = |key: &str, trail: &str| {
        variant(
            &dir,
            profile,
            &[
                (
                    "encryption: { key: create }",
                    &format!("encryption: {{ key: {key} }}"),
                ),
                ("trail: create", &format!("trail: {trail}")),
            ],
        )
    };
    // Offline, they are unverified, and said so.
    let p = uses(&bad_key, &stopped);
    emu.unionctl()
        .args(["plan", "-f", &p])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .assert()
        .success()
        .stderr(contains("unverified until read"));
    // Read by apply: refused before any change, naming both.
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            &p,
            "--auto-approve",
        ])
        .assert()
        .code(3)
        .stderr(contains(
            "invariant 2 (encryption-at-rest): the key is not enabled",
        ))
        .stderr(contains(
            "invariant 8 (audit-logging): the existing trail must be logging",
        ));
    assert_eq!(
        emu.inventory("acme-prod").values().sum::<u64>(),
        0,
        "nothing was created"
    );
    // A key that does not exist is named as such.
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            &uses("1234abcd-12ab-34cd-56ef-1234567890ab", &stopped),
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "`data.aws.kms_key.existing` (1234abcd-12ab-34cd-56ef-1234567890ab) does not exist",
        ));
    // Good ones: the plan apply shows has no unverified warning left.
    let good_key = emu
        .python("tests/support/existing.py", &["key"])
        .trim()
        .to_string();
    let trail = emu
        .python("tests/support/existing.py", &["trail"])
        .trim()
        .to_string();
    let p = uses(&good_key, &trail);
    let (code, screen) = emu.on_terminal(
        "Only `yes` is accepted",
        "n",
        &["apply", "--model", "self-managed", "-f", &p],
    );
    assert_eq!(code, 1, "{screen}");
    assert!(
        screen.contains("<= read") && !screen.contains("unverified"),
        "{screen}"
    );
}

#[test]
fn union_stage_refuses_to_change_customer_resources() {
    let emu = Emulator::start();
    let profile = "profiles/aws-byoc.yaml";
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "union",
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains("admin identity does not exist yet"));
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "customer",
            "--auto-approve",
        ])
        .assert()
        .success();
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "union",
            "--auto-approve",
        ])
        .assert()
        .success();
    emu.python("tests/support/tamper.py", &["acme-prod", "ssh-open"]);
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "union",
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "`aws.security_group.cluster` is owned by the customer and does not comply",
        ))
        .stderr(contains("never changes customer-owned resources"));
    // The customer stage repairs it; then the union stage passes.
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "customer",
            "--auto-approve",
        ])
        .assert()
        .success();
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            profile,
            "--stage",
            "union",
            "--auto-approve",
        ])
        .assert()
        .success();
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
}

#[test]
fn a_second_apply_fails_fast_naming_the_lock_holder() {
    let emu = Emulator::start();
    let lock_path = common::lock_file(emu.state_dir.path(), "profiles/aws-byoc.yaml");
    let held = unionctl::state::StateLock::acquire_or_fail(&lock_path, "apply").unwrap();
    let t0 = Instant::now();
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "byoc",
            "-f",
            "profiles/aws-byoc.yaml",
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains(format!(
            "(pid {}, unionctl apply",
            std::process::id()
        )))
        .stderr(contains(format!(
            "lock ID {}",
            unionctl::state::LockGuard::info(&held).id
        )));
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "the second apply waited instead of failing fast"
    );
    // A local lock is the operating system's: it cannot be broken while its holder runs.
    emu.unionctl()
        .args([
            "state",
            "unlock",
            &unionctl::state::LockGuard::info(&held).id,
            "-f",
            "profiles/aws-byoc.yaml",
        ])
        .assert()
        .code(1)
        .stderr(contains("still running"));
    drop(held);
}

/// The state in a team's S3 bucket (versioned), locked by a conditional create of the
/// lock object: of two applies on one remote state one proceeds and the other fails at
/// once naming the holder; a holder killed mid-apply leaves its lock, explained as a dead
/// process's, and its progress, which `state unlock ID` and a re-run resume with nothing
/// lost or made twice. What the bucket holds is read by boto3.
#[test]
fn remote_state_in_s3_one_apply_at_a_time_and_a_dead_holders_lock_explained() {
    let emu = Emulator::start();
    let profile = "profiles/aws-byoc.yaml";
    emu.python(
        "tests/support/state_bucket.py",
        &["create", "plain-bucket", "--no-versioning"],
    );
    emu.unionctl()
        .args([
            "plan",
            "-f",
            profile,
            "--state",
            "s3://plain-bucket/acme.json",
        ])
        .assert()
        .code(1)
        .stderr(contains("does not keep versions"))
        .stderr(contains("put-bucket-versioning"));
    emu.python("tests/support/state_bucket.py", &["create", "team-state"]);
    let bucket = || {
        let v: Value = serde_json::from_str(&emu.python(
            "tests/support/state_bucket.py",
            &["show", "team-state", "unionctl/acme-prod.json"],
        ))
        .unwrap();
        Bucket {
            lock: Some(v["lock"].clone()).filter(|l| !l.is_null()),
            versions: v["versions"].as_u64().unwrap(),
            serial: v["serial"].as_u64(),
        }
    };
    remote_state_contract(
        &|| emu.process(),
        &bucket,
        "s3://team-state/unionctl/acme-prod.json",
        profile,
        "byoc",
        &emu.state_file(profile),
    );
    assert_inventory_matches_plan(&emu, profile);
}

/// Kill -9 at several points of an apply; every re-run resumes; the end state has exactly
/// the plan's resources: nothing duplicated, nothing lost.
#[test]
fn killed_applies_resume_without_duplicates() {
    let emu = Emulator::start();
    let profile = "profiles/aws-byoc.yaml";
    let state = emu.state_file(profile);
    kill_at_serials(
        || {
            let mut c = emu.process();
            c.args([
                "apply",
                "--model",
                "byoc",
                "-f",
                profile,
                "--auto-approve",
                "--parallelism",
                "3",
            ]);
            c
        },
        &state,
        &[3, 14, 30, 45],
    );
    emu.unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    assert_inventory_matches_plan(&emu, profile);
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    emu.unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
}

/// EC2 makes VPCs, subnets, internet gateways, Elastic IPs and route tables, and KMS makes
/// keys, without an idempotency token: a create whose answer is lost, sent again, is a second resource. The
/// first answer of each is lost here (tests/support/fault_proxy.py, after the emulator
/// carried the request out); nothing exists twice, because unionctl sends those creates
/// once (no SDK retry) and looks the resource up by its address tag before sending again.
#[test]
fn lost_answers_to_untokened_creates_make_nothing_twice() {
    let emu = Emulator::start();
    let untokened =
        "CreateVpc,CreateSubnet,CreateInternetGateway,AllocateAddress,CreateRouteTable,CreateKey";
    let proxy = Proxy::start(&emu, &["--lose", untokened]);
    let profile = "profiles/aws-self-managed.yaml";
    let out = emu
        .process()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
        ])
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .output()
        .unwrap();
    let lost = proxy.stats()["lost"].clone();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for action in untokened.split(',') {
        assert_eq!(
            lost[action], 1,
            "the answer to {action} was not lost: {lost}"
        );
    }
    let loaded = unionctl::profile::load_file(std::path::Path::new(profile)).unwrap();
    let plan = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    let inventory = emu.inventory("acme-prod");
    for kind in [
        "aws.vpc",
        "aws.subnet",
        "aws.internet_gateway",
        "aws.eip",
        "aws.route_table",
        "aws.kms_key",
    ] {
        let planned = plan.resources.iter().filter(|r| r.kind == kind).count() as u64;
        assert_eq!(
            inventory.get(kind).copied().unwrap_or(0),
            planned,
            "{kind}: {inventory:?}"
        );
    }
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
}

/// A tenth of all calls faulted, deterministically from a seed (other seeds and rates:
/// UNIONCTL_FAULT_SEED, UNIONCTL_FAULT_RATE): latency, 500s, 503s, each protocol's own
/// throttling (RequestLimitExceeded, Throttling, ThrottlingException, SlowDown), connection
/// resets and answers lost after the emulator made the change; idempotency tokens honoured
/// as AWS honours them (tests/support/fault_proxy.py). A BYOC apply converges to exactly
/// the plan with the SDK's default retries; destroy leaves nothing; an apply after the
/// destroy, through the same proxy (which still remembers every token), makes everything
/// again: a token names one create, never a resource's address (AWS would answer a reused
/// token with the deleted resource).
#[test]
fn faulted_apply_converges_with_nothing_made_twice() {
    let emu = Emulator::start();
    let seed = std::env::var("UNIONCTL_FAULT_SEED").unwrap_or_else(|_| "1".into());
    let rate = std::env::var("UNIONCTL_FAULT_RATE").unwrap_or_else(|_| "0.1".into());
    let proxy = Proxy::start(&emu, &["--seed", &seed, "--fault-rate", &rate]);
    let profile = "profiles/aws-byoc.yaml";
    let through_proxy = |args: &[&str]| {
        let out = emu
            .process()
            .args(args)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env_remove("AWS_MAX_ATTEMPTS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seed {seed}, rate {rate}: {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let apply = ["apply", "--model", "byoc", "-f", profile, "--auto-approve"];
    through_proxy(&apply);
    let stats = proxy.stats();
    let faults = &stats["faults"];
    for kind in ["latency", "500", "503", "throttle", "reset", "lost"] {
        assert!(
            faults[kind].as_u64().unwrap_or(0) > 0,
            "seed {seed}: no {kind} fault was injected: {stats}"
        );
    }
    assert_inventory_matches_plan(&emu, profile);
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);

    through_proxy(&["destroy", "-f", profile, "--auto-approve"]);
    assert_eq!(
        emu.inventory("acme-prod").values().sum::<u64>(),
        0,
        "left after destroy: {:?}",
        emu.inventory("acme-prod")
    );
    through_proxy(&apply);
    assert_inventory_matches_plan(&emu, profile);
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    let stats = proxy.stats();
    assert!(stats["requests"].as_u64().unwrap() > 500, "{stats}");
}

/// A fleet: a directory of three profiles, one of them broken. The two good data planes
/// are applied (two at a time, sharing the account's rate limits), the broken one fails
/// alone, and one table says which; the exit status says that one failed. A fleet plan
/// afterwards shows no changes for the good two.
#[test]
fn fleet_apply_one_broken_profile_fails_alone() {
    let emu = Emulator::start();
    let fleet = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string("profiles/aws-self-managed.yaml").unwrap();
    for (file, name, cidr) in [
        ("east.yaml", "acme-east", "10.0.0.0/16"),
        ("west.yaml", "acme-west", "10.1.0.0/16"),
        ("broken.yaml", "acme-broken", "10.2.0.0/33"),
    ] {
        let text = example
            .replace("  name: acme-prod ", &format!("  name: {name} "))
            .replace("cidr: 10.0.0.0/16", &format!("cidr: {cidr}"));
        std::fs::write(fleet.path().join(file), text).unwrap();
    }
    let dir = fleet.path().to_str().unwrap();
    let out = emu
        .process()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            dir,
            "--auto-approve",
            "--fleet-parallelism",
            "2",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "one data plane failed: {table}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = |plane: &str| {
        table
            .lines()
            .find(|l| l.starts_with(plane))
            .unwrap_or_else(|| panic!("no row for {plane}: {table}"))
            .to_string()
    };
    assert!(
        row("acme-east").contains(" aws ")
            && row("acme-east").contains("self-managed")
            && row("acme-east").contains(" ok "),
        "{table}"
    );
    assert!(row("acme-west").contains(" ok "), "{table}");
    // A profile that does not load is named by its file.
    assert!(
        row("broken").contains("failed:") && row("broken").contains("not a valid profile"),
        "{table}"
    );
    assert!(
        table.contains("3 data planes: 1 failed.") && table.contains("10.2.0.0/33"),
        "the broken profile's error is shown: {table}"
    );
    for (plane, file) in [("acme-east", "east.yaml"), ("acme-west", "west.yaml")] {
        assert_plane_matches_plan(&emu, plane, fleet.path().join(file).to_str().unwrap());
    }

    let (code, result) = emu.result("plan", &["plan", "-f", dir, "--detailed-exitcode"]);
    assert_eq!(code, 1, "{result}");
    let planes: Vec<(String, i64)> = result["fleet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["data_plane"].as_str().unwrap().to_string(),
                r["exit_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        planes,
        [
            ("broken".to_string(), 1),
            ("acme-east".to_string(), 0),
            ("acme-west".to_string(), 0)
        ],
        "{result}"
    );
}

/// The fault proxy itself: each protocol's error shapes as botocore reads them, seeded
/// determinism, tokens, lost answers and kills, creating windows
/// (tests/support/fault_proxy_check.py, against its own emulator).
#[test]
fn fault_proxy_behaves_as_documented() {
    let out = StdCommand::new(python())
        .arg("tests/support/fault_proxy_check.py")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fault proxy (tests/support/fault_proxy.py) in front of an emulator.
struct Proxy {
    child: Child,
    port: u16,
}

impl Proxy {
    fn start(emu: &Emulator, args: &[&str]) -> Proxy {
        let mut child = StdCommand::new(python())
            .arg("tests/support/fault_proxy.py")
            .arg(&emu.endpoint)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        Proxy {
            child,
            port: line.trim().trim_start_matches("PORT=").parse().unwrap(),
        }
    }
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn stats(&self) -> Value {
        let answer = http(self.port, "GET", "/_proxy/stats", "").expect("proxy stats");
        serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap_or_default()).unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `args` through the proxy and SIGKILLs it right after the emulator carried out its
/// k-th mutating call, before the answer reaches it. Returns whether it was killed (a run
/// with fewer than k mutating calls ends on its own).
fn kill_after(emu: &Emulator, proxy: &Proxy, k: u64, args: &[&str]) -> bool {
    let mut child = emu
        .process()
        .args(args)
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    http(
        proxy.port,
        "POST",
        "/_proxy/kill",
        &format!("{{\"pid\": {}, \"after\": {k}}}", child.id()),
    )
    .expect("arm the kill");
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

/// The crash matrix at the points given: for each k, an apply killed right after its k-th
/// mutating call (its change made, its answer and record lost); a plain re-run converges
/// to exactly the plan; then a destroy killed after its k-th deletion, and a re-run leaves
/// nothing. One emulator for all: each re-run starts from the previous crash's leftovers.
fn crash_matrix(points: &[u64]) {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, &[]);
    let profile = "profiles/aws-byoc.yaml";
    let apply = [
        "apply",
        "--model",
        "byoc",
        "-f",
        profile,
        "--auto-approve",
        "--parallelism",
        "4",
    ];
    let destroy = ["destroy", "-f", profile, "--auto-approve"];
    for &k in points {
        let killed = kill_after(&emu, &proxy, k, &apply);
        assert!(
            killed || points.len() > 10,
            "k={k}: the apply ended before its k-th mutating call"
        );
        let rerun = emu
            .process()
            .args(apply)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .output()
            .unwrap();
        assert!(
            rerun.status.success(),
            "k={k} (killed: {killed}): the re-run failed: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        assert_inventory_matches_plan(&emu, profile);
        assert_plan_clean(&emu, profile, &format!("k={k}"));
        // Adopted halfway through its create, a resource still got every step of it: the
        // live settings hold every invariant.
        emu.unionctl()
            .args(["verify", "-f", profile])
            .assert()
            .code(0);

        let killed = kill_after(&emu, &proxy, k, &destroy);
        assert!(
            killed || points.len() > 10 || k > 40,
            "k={k}: the destroy ended before its k-th mutating call"
        );
        let rerun = emu
            .process()
            .args(destroy)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .output()
            .unwrap();
        assert!(
            rerun.status.success(),
            "k={k} (killed: {killed}): the destroy re-run failed: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
        let left: u64 = emu.inventory("acme-prod").values().sum();
        assert_eq!(
            left,
            0,
            "k={k}: left after destroy: {:?}",
            emu.inventory("acme-prod")
        );
        // Progress for a long run (`-- --nocapture`): each point passed as it passes.
        eprintln!("crash matrix: k={k} passed (destroy killed: {killed})");
    }
}

/// `plan --detailed-exitcode` exits 0; otherwise the failure shows each change with what
/// differs (before and after at every changed path).
fn assert_plan_clean(emu: &Emulator, profile: &str, context: &str) {
    let out = emu
        .process()
        .args([
            "plan",
            "-f",
            profile,
            "--format",
            "json",
            "--detailed-exitcode",
        ])
        .output()
        .unwrap();
    if out.status.code() == Some(0) {
        return;
    }
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let changes: Vec<String> = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["action"] != "no-op" && c["action"] != "read")
        .map(|c| {
            let paths: Vec<String> = c["changed_paths"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|p| {
                    format!(
                        "{p}: {} → {}",
                        c["before"].pointer(p).unwrap_or(&Value::Null),
                        c["after"].pointer(p).unwrap_or(&Value::Null)
                    )
                })
                .collect();
            format!("{} {}: {}", c["action"], c["address"], paths.join("; "))
        })
        .collect();
    panic!(
        "{context}: the plan is not clean (exit {:?}):\n{}\n{}",
        out.status.code(),
        changes.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sample of the crash matrix, in every test run: four fixed points and three chosen
/// from the commit under test, so that over many commits every point runs (other points:
/// `UNIONCTL_KILL_POINTS=3,17,42`).
#[test]
fn killed_after_any_mutating_call_apply_and_destroy_resume() {
    let points: Vec<u64> = match std::env::var("UNIONCTL_KILL_POINTS") {
        Ok(v) => v
            .split(',')
            .map(|k| {
                k.trim()
                    .parse()
                    .expect("UNIONCTL_KILL_POINTS: numbers separated by commas")
            })
            .collect(),
        Err(_) => {
            let mut points = vec![1, 7, 23, 61];
            points.extend(points_of_this_commit(3));
            points
        }
    };
    eprintln!("crash matrix points: {points:?} (run others with UNIONCTL_KILL_POINTS)");
    crash_matrix(&points);
}

/// `n` points of the matrix (1…110) taken from the commit's id (`git rev-parse HEAD`), none
/// when it cannot be read: the same commit always runs the same points.
fn points_of_this_commit(n: usize) -> Vec<u64> {
    let head = StdCommand::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(head) = head.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()) else {
        return vec![];
    };
    (0..n)
        .filter_map(|i| head.get(i * 8..i * 8 + 8))
        .filter_map(|hex| u64::from_str_radix(hex, 16).ok())
        .map(|v| v % 110 + 1)
        .collect()
}

/// Every point of the crash matrix (slow: `cargo test --test aws_emulator -- --ignored`).
#[test]
#[ignore]
fn crash_matrix_every_point() {
    crash_matrix(&(1..=110).collect::<Vec<_>>());
}

/// Every field of the profile that the plan can change in place, changed once and
/// applied: each is an update (or a replace the plan shows) that the provider carries
/// out, and the next plan is clean. Then what was added is removed again.
#[test]
fn every_mutable_profile_field_changes_and_applies() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = "profiles/aws-byoc.yaml";
    let apply = |p: &str| {
        let out = emu
            .process()
            .args(["apply", "--model", "byoc", "-f", p, "--auto-approve"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apply of {p} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        emu.unionctl()
            .args(["plan", "-f", p, "--detailed-exitcode"])
            .assert()
            .code(0);
    };
    apply(profile);
    let changed = variant(
        &dir,
        profile,
        &[
            ("  org: acme-corp ", "  org: acme-ml "),
            ("host: acme-corp.hosted.unionai.cloud", "host: acme-ml.hosted.unionai.cloud"),
            ("    # externalId: generated (24 random characters) and kept in state when absent\n", "    externalId: Zq7mK2xP9wL4vN8tR3yB6cD1\n"),
            ("    kubernetesVersion: \"1.31\"", "    kubernetesVersion: \"1.32\""),
            ("{ name: services, instanceType: m6i.xlarge, min: 2, max: 4 }", "{ name: services, instanceType: m6i.xlarge, min: 3, max: 6 }"),
            ("instanceType: m6i.2xlarge", "instanceType: m6i.4xlarge"),
            ("min: 0, max: 8, gpu: true }", "min: 0, max: 8, gpu: true, diskSizeGib: 200 }"),
            ("    buckets: [metadata, fast-registration]\n", "    buckets: [metadata, fast-registration, artifacts]\n    minimumTlsVersion: \"1.3\"\n"),
            ("namespaces: [development, staging, production]", "namespaces: [development, staging, production, research]"),
            ("    zones: 3\n", "    zones: 3\n    ingress: [{ cidr: 10.20.0.0/16, port: 443 }]\n"),
            ("    cost-center: ml\n", "    cost-center: ml-platform\n    team: data\n"),
        ],
    );
    let (code, plan) = emu.result("plan", &["plan", "-f", &changed, "--detailed-exitcode"]);
    assert_eq!(code, 2, "{plan}");
    let summary = &plan["summary"];
    assert!(
        summary["create"].as_u64() > Some(0)
            && summary["update"].as_u64() > Some(10)
            && summary["replace"].as_u64() == Some(1),
        "{summary}"
    );
    apply(&changed);
    emu.unionctl()
        .args(["verify", "-f", &changed])
        .assert()
        .success();
    assert_inventory_matches_plan(&emu, &changed);

    // Back: what was added goes (an empty bucket, a namespace's identity), the rest reverts.
    let reverted = variant(
        &dir,
        profile,
        &[
            (
                "    kubernetesVersion: \"1.31\"",
                "    kubernetesVersion: \"1.32\"",
            ),
            ("instanceType: m6i.2xlarge", "instanceType: m6i.4xlarge"),
        ],
    );
    apply(&reverted);
    assert_inventory_matches_plan(&emu, &reverted);
}

/// The profile, not the credentials, decides where a data plane is made: an `AWS_REGION`
/// that says otherwise changes nothing, a missing one is no error, and credentials of
/// another account are refused before anything is read, naming both accounts.
#[test]
fn the_profile_decides_account_and_region() {
    let emu = Emulator::start();
    let profile = "profiles/aws-self-managed.yaml";
    let out = emu
        .process()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
        ])
        .env("AWS_REGION", "us-west-2")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_inventory_matches_plan(&emu, profile);
    let elsewhere: BTreeMap<String, u64> = serde_json::from_str(
        &emu.python("tests/support/inventory.py", &["acme-prod", "us-west-2"]),
    )
    .unwrap();
    assert!(
        elsewhere.get("aws.vpc").copied().unwrap_or(0) == 0
            && elsewhere.get("aws.subnet").copied().unwrap_or(0) == 0,
        "made in us-west-2: {elsewhere:?}"
    );
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .env_remove("AWS_REGION")
        .assert()
        .code(0);

    // Credentials of another account (an emulator that answers as moto's default one).
    let other = Emulator::start_as(None);
    other
        .unionctl()
        .args(["apply", "--model", "self-managed", "-f", profile, "--auto-approve"])
        .assert()
        .code(1)
        .stderr(contains("are for account 123456789012, but the profile says 482916350047 (spec.cloud.aws.accountId at profiles/aws-self-managed.yaml:"))
        .stderr(contains("nothing was done with these credentials"));
    assert_eq!(
        other.inventory("acme-prod").values().sum::<u64>(),
        0,
        "nothing was made in the other account"
    );
}

/// A second state of one data plane (another directory, another state location) finds the
/// first one's resources by their names and tags, and refuses them all before any change,
/// naming their lineage; `state import` with that lineage takes the data plane over; a
/// renamed profile finds its data plane's state.
#[test]
fn a_second_state_of_one_data_plane_is_refused_and_import_takes_it_over() {
    let emu = Emulator::start();
    let profile = "profiles/aws-self-managed.yaml";
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
        ])
        .assert()
        .success();
    let before = emu.inventory("acme-prod");
    let lineage = serde_json::from_slice::<Value>(&std::fs::read(emu.state_file(profile)).unwrap())
        .unwrap()["lineage"]
        .as_str()
        .unwrap()
        .to_string();

    let elsewhere = tempfile::tempdir().unwrap();
    let second = |args: &[&str]| {
        emu.unionctl()
            .args(args)
            .env("UNIONCTL_STATE_DIR", elsewhere.path())
            .assert()
    };
    second(&["plan", "-f", profile])
        .success()
        .stderr(contains("No state for data plane acme-prod at"))
        .stderr(contains("plan --refresh"));
    for args in [
        vec!["plan", "-f", profile, "--refresh"],
        vec![
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
        ],
    ] {
        let err = stderr_of(&second(&args).code(1));
        assert!(
            err.contains("exist already, made by another state (lineage ")
                && err.contains(&lineage)
                && err.contains("nothing was changed"),
            "{err}"
        );
        assert!(
            err.contains(&format!("unionctl state import {lineage} -f {profile}")),
            "{err}"
        );
    }
    assert_eq!(emu.inventory("acme-prod"), before, "nothing was changed");

    // The same data plane under another file name finds its state.
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("renamed.yaml");
    std::fs::copy(profile, &renamed).unwrap();
    emu.unionctl()
        .args(["plan", "-f"])
        .arg(&renamed)
        .args(["--detailed-exitcode"])
        .assert()
        .code(0);

    // Import: the second state takes the data plane over, everything recorded.
    second(&["state", "import", &lineage, "-f", profile])
        .success()
        .stderr(contains("Imported "));
    second(&["plan", "-f", profile, "--detailed-exitcode"]).code(0);
    second(&["state", "import", &lineage, "-f", profile])
        .code(1)
        .stderr(contains("a state exists already"));
}

/// Ctrl-C (SIGINT) during an apply: no new step starts, the ones in flight finish and are
/// recorded, and the run ends saying so; re-running resumes to exactly the plan.
#[test]
fn ctrl_c_stops_after_the_steps_in_flight_and_a_rerun_resumes() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, &["--latency-ms", "150"]);
    let profile = "profiles/aws-self-managed.yaml";
    let state = emu.state_file(profile);
    let child = emu
        .process()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
            "--parallelism",
            "2",
        ])
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::fs::read(&state)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["serial"].as_u64())
        .unwrap_or(0)
        < 6
    {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the apply made no progress"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    StdCommand::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("stopping: no new step starts")
            && err.contains("interrupted:")
            && err.contains("running the same command again resumes"),
        "{err}"
    );
    let recorded = serde_json::from_slice::<Value>(&std::fs::read(&state).unwrap()).unwrap()
        ["resources"]
        .as_object()
        .unwrap()
        .len();
    assert!(
        recorded > 0 && recorded < planned_counts(profile).values().sum::<u64>() as usize,
        "stopped partway: {recorded} recorded"
    );
    emu.unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            profile,
            "--auto-approve",
        ])
        .assert()
        .success();
    assert_inventory_matches_plan(&emu, profile);
    emu.unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
}

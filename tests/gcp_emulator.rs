//! unionctl against the GCP contract server (scripts/gcp_emulator/server.py): the real
//! google-cloud-rust clients, by endpoint override, one server per test on its own
//! loopback port. What exists is read through the server's own admin API
//! (`/_emulator/resources`), never through unionctl; every request the clients send is
//! recorded (`--record`) and checked here.
//!
//! The union stage signs in as Union.ai would: AWS credentials (registered with the
//! server as Union.ai's role), exchanged at the contract STS for a federated token under
//! the pool provider's attribute condition (evaluated with cel-python), then impersonating
//! `unionai-administrator`, whose every call the server authorizes against the project's
//! IAM policy and custom roles, conditions included.

mod common;
use common::{
    changed_addresses, http, http_as, kill_at_serials, python, remote_state_contract, stderr_of,
    Bucket,
};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::{json, Value};

const UNION_ROLE: &str = "arn:aws:sts::479331373192:assumed-role/unionai-onboarding/unionctl";
const UNION_KEY: &str = "AKIAUNIONAI000000001";

struct Server {
    child: Child,
    port: u16,
    env: Vec<(String, String)>,
    state_dir: tempfile::TempDir,
    record: PathBuf,
}

impl Server {
    fn start() -> Server {
        let state_dir = tempfile::tempdir().unwrap();
        let record = state_dir.path().join("requests.jsonl");
        let mut child = StdCommand::new(python())
            .arg("scripts/gcp_emulator/server.py")
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--polls",
                "2",
                "--project",
                "acme-ml-prod=482916350047",
            ])
            .arg("--record")
            .arg(&record)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the GCP contract server");
        let mut env = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let t0 = Instant::now();
        while env.len() < 2 {
            let line = lines
                .next()
                .expect("the server printed its settings")
                .unwrap();
            if let Some((k, v)) = line.split_once('=') {
                if k == "UNIONCTL_GCP_ENDPOINT_TEMPLATE" || k == "GOOGLE_APPLICATION_CREDENTIALS" {
                    env.push((k.to_string(), v.to_string()));
                }
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the server did not start"
            );
        }
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let template = &env
            .iter()
            .find(|(k, _)| k == "UNIONCTL_GCP_ENDPOINT_TEMPLATE")
            .unwrap()
            .1;
        let port = template
            .split(':')
            .nth(2)
            .and_then(|p| p.split('/').next())
            .and_then(|p| p.parse().ok())
            .expect("a port in the endpoint template");
        let server = Server {
            child,
            port,
            env,
            state_dir,
            record,
        };
        server.admin(
            "POST",
            "/_emulator/aws-identities",
            json!({ "accessKeyId": UNION_KEY, "arn": UNION_ROLE }),
        );
        server
    }

    fn unionctl(&self) -> Command {
        Command::from_std(self.process())
    }

    fn process(&self) -> StdCommand {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("unionctl"));
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // Union.ai's AWS identity, for the union stage's federated sign-in.
            .env("AWS_ACCESS_KEY_ID", UNION_KEY)
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("UNIONCTL_STATE_DIR", self.state_dir.path())
            .env("NO_COLOR", "1");
        c
    }

    fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let text = http(self.port, method, path, &body.to_string())
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        assert!(
            head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
            "{method} {path}: {head}\n{body}"
        );
        serde_json::from_str(body).unwrap_or(Value::Null)
    }

    /// Every stored resource: `{service, kind, name, body}`.
    fn resources(&self) -> Vec<Value> {
        self.admin("GET", "/_emulator/resources", Value::Null)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The recorded requests checked against the invariants by an independent reader
    /// (tests/support/gcp_requests.py); returns how many checks it made.
    fn check_requests(&self, model: &str) -> u64 {
        let out = StdCommand::new(python())
            .arg("tests/support/gcp_requests.py")
            .arg(&self.record)
            .args([model, "acme-ml-prod", "acme-prod", "unionai-dataplanes"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "recorded requests break an invariant: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<Value>(&text).unwrap()["checks"]
            .as_u64()
            .unwrap()
    }

    /// A Cloud Storage JSON API call as the customer (`path` after `/storage/v1/`): the
    /// status and the body.
    fn storage(&self, method: &str, path: &str, body: Value) -> (u16, String) {
        let reply = http(self.port, "POST", "/oauth2/token", &json!({ "grant_type": "refresh_token", "refresh_token": "customer@example.com", "client_id": "c", "client_secret": "s" }).to_string()).unwrap();
        let token: Value = serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap();
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let reply = http_as(
            self.port,
            token["access_token"].as_str(),
            method,
            &format!("/storage/storage/v1/{path}"),
            &body,
        )
        .unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        (
            head.split(' ').nth(1).unwrap().parse().unwrap(),
            body.to_string(),
        )
    }

    fn state_file(&self, profile: &str) -> PathBuf {
        common::state_file(self.state_dir.path(), profile)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A team's state bucket (not the data plane's).
const STATE_BUCKET: &str = "acme-team-state";

/// Managed resources of the plan, per kind.
fn planned(profile: &str) -> Vec<(String, String)> {
    let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
    let plan = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    plan.resources
        .iter()
        .filter(|r| r.mode == unionctl::plan::Mode::Managed && !r.kind.starts_with("local."))
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect()
}

/// The server's resources of one kind, by name (last path segment).
fn live_names(server: &Server, kind: &str) -> Vec<String> {
    let mut names: Vec<String> = server
        .resources()
        .iter()
        .filter(|r| r["kind"] == kind)
        .map(|r| {
            r["name"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Every planned resource of these kinds exists once, under its planned name (the
/// server's kinds next to the plan's).
fn assert_live_matches_plan(server: &Server, profile: &str) {
    let plan = planned(profile);
    for (live_kind, kind) in [
        ("compute#network", "gcp.compute_network"),
        ("compute#subnetwork", "gcp.compute_subnetwork"),
        ("compute#firewall", "gcp.compute_firewall"),
        (
            "compute#serviceAttachment",
            "gcp.compute_service_attachment",
        ),
        ("container#cluster", "gcp.container_cluster"),
        ("container#nodePool", "gcp.container_node_pool"),
        ("storage#bucket", "gcp.storage_bucket"),
        ("iam#serviceAccount", "gcp.service_account"),
    ] {
        let mut want: Vec<String> = plan
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        want.sort();
        // The team's state bucket is not the data plane's.
        let live: Vec<String> = live_names(server, live_kind)
            .into_iter()
            .filter(|n| n != STATE_BUCKET)
            .collect();
        let live: Vec<String> = live
            .into_iter()
            .map(|n| n.split('@').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(live, want, "{kind}");
    }
}

#[test]
fn byoc_apply_converges_detects_drift_repairs_and_destroys() {
    let server = Server::start();
    let profile = "profiles/gcp-byoc.yaml";
    let applied = server
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    let err = stderr_of(&applied);
    assert!(err.contains("Stage union done: 10 created"), "{err}");

    assert_live_matches_plan(&server, profile);
    assert!(server.check_requests("byoc") > 40);

    // Union.ai's calls were made as unionai-administrator, and only for its own resources.
    let requests = server.requests();
    let union_calls: Vec<&Value> = requests
        .iter()
        .filter(|r| {
            r["principal"]
                .as_str()
                .is_some_and(|p| p.contains("unionai-administrator"))
        })
        .collect();
    assert!(
        union_calls
            .iter()
            .any(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/clusters")),
        "no cluster create by Union.ai"
    );
    for r in &union_calls {
        let path = r["path"].as_str().unwrap();
        let writes = r["method"] != "GET";
        let own = path.contains("/clusters")
            || path.contains("acme-prod-api")
            || [
                "/serviceAttachments",
                "/forwardingRules",
                "/backendServices",
                "/networkEndpointGroups",
                "/healthChecks",
                "/targetTcpProxies",
            ]
            .iter()
            .any(|c| path.ends_with(c));
        assert!(
            !writes || own || path.ends_with("/token") || path.ends_with(":generateAccessToken"),
            "Union.ai wrote {path}"
        );
    }

    // Converged: no changes, and a second apply makes no mutating call.
    server
        .unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    let again = server
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    assert!(
        stderr_of(&again).contains("API calls (0 mutating)"),
        "{}",
        stderr_of(&again)
    );
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success()
        .stdout(contains("PASS   1. private-endpoint"));

    // Drift behind unionctl's back, through the server's own API.
    server.admin("POST", "/_emulator/mutate", json!({ "path": "/v1/projects/acme-ml-prod/locations/us-central1/clusters/acme-prod", "merge": { "privateClusterConfig": { "enablePrivateEndpoint": false } } }));
    server.admin("POST", "/_emulator/mutate", json!({ "path": "/storage/v1/b/acme-prod-metadata", "merge": { "iamConfiguration": { "publicAccessPrevention": "inherited" } } }));
    server.admin("POST", "/_emulator/mutate", json!({ "path": "/compute/v1/projects/acme-ml-prod/global/firewalls/acme-prod-ingress-internal", "merge": { "sourceRanges": ["0.0.0.0/0"] } }));
    let out = server
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
    assert_eq!(
        changed_addresses(&out),
        vec![
            ("gcp.compute_firewall.ingress_internal".to_string(), true),
            ("gcp.container_cluster.main".to_string(), true),
            ("gcp.storage_bucket.metadata".to_string(), true),
        ]
    );
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .code(3)
        .stderr(contains("invariant 1 (private-endpoint)"));
    let repaired = server
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    assert!(
        stderr_of(&repaired).contains("updated"),
        "{}",
        stderr_of(&repaired)
    );
    server
        .unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();

    // Hand-off: the Helm values the chart needs on GCP.
    let out = server
        .unionctl()
        .args(["outputs", "-f", profile, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let hand_off: Value = serde_json::from_slice(&out).unwrap();
    let global = &hand_off["helm_values"]["global"];
    assert_eq!(global["GCP_PROJECT_ID"], "acme-ml-prod");
    assert_eq!(global["GCP_REGION"], "us-central1");
    assert_eq!(global["METADATA_BUCKET"], "acme-prod-metadata");
    assert_eq!(
        global["BACKEND_SERVICE_ACCOUNT"],
        "acme-prod-backend@acme-ml-prod.iam.gserviceaccount.com"
    );
    assert_eq!(
        global["NAMESPACES"]["production"]["SERVICE_ACCOUNT"],
        "acme-prod-w-production@acme-ml-prod.iam.gserviceaccount.com"
    );
    assert_eq!(
        global["NAMESPACES"]["production"]["RAW_OUTPUT_PREFIX"],
        "gs://acme-prod-metadata/production/"
    );
    assert_eq!(
        hand_off["union_access"]["service_account"],
        "unionai-administrator@acme-ml-prod.iam.gserviceaccount.com"
    );

    // Destroy: nothing left but what Cloud KMS never deletes (the ring, and the key with
    // every version scheduled for destruction).
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    let left: Vec<String> = server
        .resources()
        .iter()
        .filter(|r| {
            !(r["kind"] == "kms#keyRing"
                || r["kind"] == "kms#cryptoKey"
                || r["kind"] == "kms#cryptoKeyVersion" && r["body"]["state"] == "DESTROY_SCHEDULED")
        })
        .filter(|r| r["body"]["state"] != "DELETED" && r["body"]["deleted"] != true)
        .map(|r| format!("{} {}", r["kind"], r["name"]))
        .collect();
    assert!(left.is_empty(), "left after destroy: {left:#?}");
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .success()
        .stderr(contains("nothing to destroy"));
}

#[test]
fn self_managed_sends_no_request_naming_union() {
    let server = Server::start();
    let profile = "profiles/gcp-self-managed.yaml";
    let applied = server
        .unionctl()
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
    assert!(
        !stderr_of(&applied).contains("Stage union"),
        "{}",
        stderr_of(&applied)
    );
    server
        .unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
    let requests = server.requests();
    assert!(requests.len() > 40, "{} requests recorded", requests.len());
    assert!(server.check_requests("self-managed") > 30);
    for r in &requests {
        let text = r.to_string().to_lowercase();
        // Union.ai's principals: its administrator, its AWS account, its project, any
        // federated principal. (Its control plane's domain, in CORS, is not a principal.)
        for union in [
            "unionai-administrator",
            "479331373192",
            "unionai-dataplanes",
            "principalset",
            "workloadidentitypools",
        ] {
            assert!(
                !text.contains(union),
                "a self-managed request names Union.ai ({union}): {r}"
            );
        }
    }
    assert!(live_names(&server, "compute#serviceAttachment").is_empty());
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .success();
}

#[test]
fn union_stage_signs_in_only_as_union_and_never_changes_customer_resources() {
    let server = Server::start();
    let profile = "profiles/gcp-byoc.yaml";
    server
        .unionctl()
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
        .stderr(contains("workload identity pool does not exist yet"));
    server
        .unionctl()
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

    // Another role in Union.ai's account is refused by the provider's attribute condition.
    server.admin("POST", "/_emulator/aws-identities", json!({ "accessKeyId": "AKIAOTHERROLE0000001", "arn": "arn:aws:sts::479331373192:assumed-role/someone-else/s" }));
    server
        .unionctl()
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
        .env("AWS_ACCESS_KEY_ID", "AKIAOTHERROLE0000001")
        .assert()
        .code(1)
        .stderr(contains(
            "cannot sign in as unionai-administrator through the workload identity pool",
        ))
        .stderr(contains("unauthorized_client"));
    assert!(live_names(&server, "container#cluster").is_empty());

    server
        .unionctl()
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
    // A customer firewall opened: the union stage reads it, refuses, and changes nothing.
    server.admin("POST", "/_emulator/mutate", json!({ "path": "/compute/v1/projects/acme-ml-prod/global/firewalls/acme-prod-egress-allow", "merge": { "destinationRanges": ["0.0.0.0/0"], "allowed": [{ "IPProtocol": "all" }] } }));
    let before = server.requests().len();
    server
        .unionctl()
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
        .stderr(contains("is owned by the customer"));
    let writes: Vec<&Value> = server.requests()[before..]
        .iter()
        .filter(|r| r["method"] != "GET")
        .filter(|r| {
            !r["path"].as_str().is_some_and(|p| {
                p.ends_with("/token")
                    || p.ends_with(":generateAccessToken")
                    || p.ends_with(":getIamPolicy")
                    || p.ends_with("/listNetworkEndpoints")
            })
        })
        .cloned()
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .collect();
    assert!(
        writes.is_empty(),
        "the refused union stage wrote: {writes:#?}"
    );
    // The customer stage repairs it; then the union stage passes.
    server
        .unionctl()
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
    server
        .unionctl()
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
    server
        .unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
}

/// Kill -9 at several points of an apply; every re-run resumes; the end state has exactly
/// the plan's resources: nothing duplicated, nothing lost. Calls throttled with 429 along
/// the way are retried after `Retry-After`.
#[test]
fn killed_and_throttled_applies_resume_without_duplicates() {
    let server = Server::start();
    let profile = "profiles/gcp-byoc.yaml";
    let state = server.state_file(profile);
    server.admin(
        "POST",
        "/_emulator/faults",
        json!({ "match": "POST /compute", "status": 429, "count": 3, "retryAfter": 1 }),
    );
    server.admin(
        "POST",
        "/_emulator/faults",
        json!({ "match": "GET /storage", "status": 503, "count": 2 }),
    );
    kill_at_serials(
        || {
            let mut c = server.process();
            c.args([
                "apply",
                "--model",
                "byoc",
                "-f",
                profile,
                "--auto-approve",
                "--parallelism",
                "4",
            ]);
            c
        },
        &state,
        &[4u64, 20, 45, 56],
    );
    server
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    server
        .unionctl()
        .args(["plan", "-f", profile, "--detailed-exitcode"])
        .assert()
        .code(0);
    assert_live_matches_plan(&server, profile);
    // The injected faults were met, and each failed call was sent again.
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| r["status"] == 429).count(), 3);
    assert_eq!(requests.iter().filter(|r| r["status"] == 503).count(), 2);
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
}

/// The contract server refuses what GCP refuses (121 checks of requests the plan sends and
/// requests GCP's references say are invalid), independently of unionctl.
#[test]
fn contract_server_refuses_what_gcp_refuses() {
    let out = StdCommand::new(python())
        .arg("tests/support/gcp_client_smoke.py")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("checks passed"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The state in a team's Cloud Storage bucket (with versioning), locked by an upload with
/// `ifGenerationMatch=0`: a bucket without versioning is refused; of two applies on one
/// remote state one proceeds and the other fails at once naming the holder; a holder
/// killed mid-destroy leaves its lock, explained as a dead process's, and its progress,
/// which `state unlock ID` and a re-run resume with nothing lost or made twice. What the
/// bucket holds is read through the server's own API, not through unionctl.
#[test]
fn remote_state_in_gcs_one_apply_at_a_time_and_a_dead_holders_lock_explained() {
    let server = Server::start();
    let profile = "profiles/gcp-self-managed.yaml";
    let (status, body) = server.storage(
        "POST",
        "b?project=acme-ml-prod",
        json!({ "name": "acme-unversioned", "location": "US" }),
    );
    assert_eq!(status, 200, "{body}");
    server
        .unionctl()
        .args([
            "plan",
            "-f",
            profile,
            "--state",
            "gs://acme-unversioned/acme.json",
        ])
        .assert()
        .code(1)
        .stderr(contains("does not keep versions"))
        .stderr(contains(
            "gcloud storage buckets update gs://acme-unversioned --versioning",
        ));
    assert_eq!(
        server
            .storage("DELETE", "b/acme-unversioned", Value::Null)
            .0,
        204
    );
    let (status, body) = server.storage(
        "POST",
        "b?project=acme-ml-prod",
        json!({ "name": STATE_BUCKET, "location": "US", "versioning": { "enabled": true } }),
    );
    assert_eq!(status, 200, "{body}");
    let key = "unionctl/acme-prod.json";
    let bucket = || {
        let objects: Vec<Value> = server
            .resources()
            .into_iter()
            .filter(|r| r["kind"] == "storage#object" && r["body"]["bucket"] == STATE_BUCKET)
            .map(|r| r["body"].clone())
            .collect();
        let lock = objects
            .iter()
            .find(|o| o["name"] == format!("{key}.lock") && o.get("timeDeleted").is_none())
            .cloned();
        let versions = objects.iter().filter(|o| o["name"] == key).count() as u64;
        let (status, state) = server.storage(
            "GET",
            &format!("b/{STATE_BUCKET}/o/unionctl%2Facme-prod.json?alt=media"),
            Value::Null,
        );
        let serial = (status == 200).then(|| {
            serde_json::from_str::<Value>(&state).unwrap()["serial"]
                .as_u64()
                .unwrap()
        });
        Bucket {
            lock,
            versions,
            serial,
        }
    };
    remote_state_contract(
        &|| server.process(),
        &bucket,
        &format!("gs://{STATE_BUCKET}/{key}"),
        profile,
        "self-managed",
        &server.state_file(profile),
    );
    assert_live_matches_plan(&server, profile);
}

/// The profile names the project by id and number; GCP says which number the id has. A
/// profile whose two disagree, or whose project the credentials cannot read, is refused
/// before anything is read or changed, naming both numbers.
#[test]
fn a_project_id_and_number_that_disagree_are_refused() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let wrong_number = dir.path().join("number.yaml");
    std::fs::write(
        &wrong_number,
        std::fs::read_to_string("profiles/gcp-self-managed.yaml")
            .unwrap()
            .replace(
                "projectNumber: \"482916350047\"",
                "projectNumber: \"731208815521\"",
            ),
    )
    .unwrap();
    server
        .unionctl()
        .args(["plan", "--refresh", "-f"])
        .arg(&wrong_number)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("GCP project acme-ml-prod has the number 482916350047, but the profile says 731208815521 (spec.cloud.gcp.projectNumber at"))
        .stderr(predicates::str::contains("nothing was done with these credentials"));
    let other_project = dir.path().join("project.yaml");
    std::fs::write(
        &other_project,
        std::fs::read_to_string("profiles/gcp-self-managed.yaml")
            .unwrap()
            .replace("projectId: acme-ml-prod", "projectId: acme-ml-other"),
    )
    .unwrap();
    server
        .unionctl()
        .args(["apply", "--model", "self-managed", "--auto-approve", "-f"])
        .arg(&other_project)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "project `acme-ml-other` does not exist, or these credentials may not read it",
        ));
}

/// The profile's fields that change in place on this cloud (tags, a pool's size, a bucket
/// and a tenant namespace added), changed once and applied: each is an update (or a create)
/// the provider carries out, and the next plan is clean.
#[test]
fn mutable_profile_fields_change_and_apply() {
    let server = Server::start();
    let profile = "profiles/gcp-self-managed.yaml";
    let apply = |p: &str| {
        let out = server
            .process()
            .args([
                "apply",
                "--model",
                "self-managed",
                "-f",
                p,
                "--auto-approve",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "apply of {p} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan = server
            .process()
            .args(["plan", "-f", p, "--detailed-exitcode"])
            .output()
            .unwrap();
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{p} after apply:\n{}",
            String::from_utf8_lossy(&plan.stdout)
        );
    };
    apply(profile);
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("gcp-self-managed.yaml");
    let text = std::fs::read_to_string(profile)
        .unwrap()
        .replace(
            "    cost-center: ml\n",
            "    cost-center: ml-platform\n    team: data\n",
        )
        .replace("min: 2, max: 4 }", "min: 3, max: 6 }")
        .replace(
            "    buckets: [metadata, fast-registration]\n",
            "    buckets: [metadata, fast-registration, artifacts]\n",
        )
        .replace(
            "namespaces: [development, staging, production]",
            "namespaces: [development, staging, production, research]",
        );
    std::fs::write(&changed, text).unwrap();
    let before = server
        .process()
        .args([
            "plan",
            "-f",
            changed.to_str().unwrap(),
            "--output",
            "json",
            "--detailed-exitcode",
        ])
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(
        String::from_utf8_lossy(&before.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    let summary = &result["summary"];
    assert!(
        summary["create"].as_u64() > Some(0) && summary["update"].as_u64() > Some(3),
        "{summary}"
    );
    apply(changed.to_str().unwrap());
}

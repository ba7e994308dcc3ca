//! unionctl against the Azure contract server (scripts/azure_emulator/server.py): the real
//! `azure_core` pipeline and `azure_identity` credentials, over HTTPS with a test CA, one
//! server per test on its own loopback port. What exists is read through the server's own
//! admin API (`/_emulator/resources`), never through unionctl; every request is recorded
//! (`--record`) and checked by an independent reader (tests/support/azure_requests.py).
//!
//! The union stage signs in as Union.ai would: with a token of Union.ai's identity
//! provider (minted by the server, playing Cognito), which Entra admits only through the
//! application's federated credential (issuer, subject and audience); every ARM call it
//! makes is authorized by the server against the role assignments and role definitions
//! the customer stage wrote.

mod common;
use common::{
    changed_addresses, kill_at_serials, python, remote_state_contract, stderr_of, Bucket,
};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::{json, Value};

/// Union.ai's identity, as profiles/azure-byoc.yaml names it (spec.union).
const UNION_ISSUER: &str = "https://cognito-identity.amazonaws.com";
const UNION_SUBJECT: &str = "us-east-2:1b2c3d4e-5f60-4718-9a0b-c1d2e3f40516";
const UNION_AUDIENCE: &str = "us-east-2:9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
const UNION_SUBSCRIPTION: &str = "7d9f1c2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f";
const RG: &str =
    "/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/acme-prod-dataplane";
/// Where the team keeps its state (not the data plane's).
const STATE_GROUP: &str =
    "/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/acme-terraform-state";

struct Server {
    child: Child,
    base: String,
    env: Vec<(String, String)>,
    state_dir: tempfile::TempDir,
    record: PathBuf,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let state_dir = tempfile::tempdir().unwrap();
        let record = state_dir.path().join("requests.jsonl");
        let mut child = StdCommand::new(python())
            .arg("scripts/azure_emulator/server.py")
            .args(["--host", "127.0.0.1", "--port", "0", "--polls", "2"])
            .arg("--state-dir")
            .arg(state_dir.path().join("server"))
            .arg("--record")
            .arg(&record)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the Azure contract server");
        let mut env = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let t0 = Instant::now();
        while !env
            .iter()
            .any(|(k, _): &(String, String)| k == "AZURE_CLIENT_SECRET")
        {
            let line = lines
                .next()
                .expect("the server printed its settings")
                .unwrap();
            if let Some((k, v)) = line.split_once('=') {
                if k.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
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
        let get = |k: &str| {
            env.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("the server did not print {k}"))
        };
        let base = get("UNIONCTL_AZURE_ARM_ENDPOINT");
        let ca =
            reqwest::Certificate::from_pem(&std::fs::read(get("UNIONCTL_AZURE_CA_FILE")).unwrap())
                .unwrap();
        let http = reqwest::Client::builder()
            .add_root_certificate(ca)
            .build()
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Server {
            child,
            base,
            env,
            state_dir,
            record,
            http,
            rt,
        }
    }

    fn unionctl(&self) -> Command {
        Command::from_std(self.process())
    }

    fn process(&self) -> StdCommand {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("unionctl"));
        c.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "AZURE_FEDERATED_TOKEN_FILE",
                self.state_dir.path().join("union-token"),
            )
            .env("UNIONCTL_STATE_DIR", self.state_dir.path())
            .env("NO_COLOR", "1");
        c
    }

    fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, text) = self.rt.block_on(async {
            let mut req = self.http.request(method, &url);
            if !body.is_null() {
                req = req.json(&body);
            }
            let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            (resp.status(), resp.text().await.unwrap_or_default())
        });
        assert!(status.is_success(), "{url}: {status}\n{text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Writes the token Union.ai's identity provider issues for `subject` and `audience`
    /// where the union stage reads it (AZURE_FEDERATED_TOKEN_FILE).
    fn union_token(&self, subject: &str, audience: &str) {
        let t = self.admin(
            "POST",
            "/_emulator/federated-token",
            json!({ "issuer": UNION_ISSUER, "subject": subject, "audience": audience }),
        );
        std::fs::write(
            self.state_dir.path().join("union-token"),
            t["token"].as_str().unwrap(),
        )
        .unwrap();
    }

    /// Every stored ARM resource id (as written), and its body.
    fn arm(&self) -> Vec<(String, Value)> {
        let all = self.admin("GET", "/_emulator/resources", Value::Null);
        all["arm"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The ARM resources of one type (`Microsoft.Network/virtualNetworks/subnets`), by name.
    fn names_of(&self, arm_type: &str) -> Vec<String> {
        // The team's state account is not the data plane's.
        let mut names: Vec<String> = self
            .arm()
            .iter()
            .filter(|(id, _)| {
                type_of(id).eq_ignore_ascii_case(arm_type) && !id.starts_with(STATE_GROUP)
            })
            .map(|(id, _)| id.rsplit('/').next().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    fn body(&self, id: &str) -> Value {
        self.arm()
            .into_iter()
            .find(|(i, _)| i.eq_ignore_ascii_case(id))
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("{id} does not exist"))
    }

    /// Writes a resource as the customer would by hand (client secret, ARM PUT), waiting
    /// until it is provisioned.
    fn customer_put(&self, id: &str, api: &str, body: Value) {
        let get = |k: &str| self.env.iter().find(|(n, _)| n == k).unwrap().1.clone();
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("client_id", get("AZURE_CLIENT_ID")),
            ("client_secret", get("AZURE_CLIENT_SECRET")),
            ("scope", "https://management.azure.com/.default".to_string()),
        ];
        let url = format!("{}{id}?api-version={api}", self.base);
        self.rt.block_on(async {
            let token: Value = self
                .http
                .post(format!(
                    "{}/{}/oauth2/v2.0/token",
                    self.base,
                    get("AZURE_TENANT_ID")
                ))
                .form(&form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
            let resp = self
                .http
                .put(&url)
                .header("authorization", &bearer)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                resp.status().is_success(),
                "PUT {id}: {}",
                resp.text().await.unwrap_or_default()
            );
            for _ in 0..30 {
                let now: Value = self
                    .http
                    .get(&url)
                    .header("authorization", &bearer)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if now["properties"]["provisioningState"] == "Succeeded" {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            panic!("{id} was not provisioned");
        });
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The recorded requests checked by an independent reader (tests/support/azure_requests.py)
    /// against the ARM references and the invariants; returns how many checks it made.
    fn check_requests(&self, model: &str) -> u64 {
        let out = StdCommand::new(python())
            .arg("tests/support/azure_requests.py")
            .arg(&self.record)
            .arg(model)
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

/// `Microsoft.Network/virtualNetworks/subnets` for a subnet's id.
fn type_of(id: &str) -> String {
    let Some((_, tail)) = id.rsplit_once("/providers/") else {
        return if id.contains("/resourceGroups/") {
            "Microsoft.Resources/resourceGroups".into()
        } else {
            String::new()
        };
    };
    let parts: Vec<&str> = tail.split('/').collect();
    let mut t = vec![parts[0]];
    t.extend(parts[1..].iter().step_by(2));
    t.join("/")
}

/// Managed resources of the plan: (kind, name).
fn planned(profile: &str) -> Vec<(String, String)> {
    let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
    let plan = unionctl::clouds::plan(&loaded.profile, &loaded.digest).unwrap();
    plan.resources
        .iter()
        .filter(|r| r.mode == unionctl::plan::Mode::Managed && !r.kind.starts_with("local."))
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect()
}

/// Every planned resource of these kinds exists once, under its planned name; role
/// assignments (named by GUIDs) once each.
fn assert_live_matches_plan(server: &Server, profile: &str) {
    let plan = planned(profile);
    let of = |kind: &str| {
        let mut n: Vec<String> = plan
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        n.sort();
        n
    };
    let workload_credentials: Vec<String> = {
        let loaded = unionctl::profile::load_file(Path::new(profile)).unwrap();
        let mut n: Vec<String> = unionctl::plan::desired_resources(
            &loaded.profile,
            unionctl::clouds::of(loaded.profile.spec.cloud.provider),
        )
        .unwrap()
        .iter()
        .filter(|r| {
            r.kind == "azure.federated_identity_credential" && r.settings.get("identity").is_some()
        })
        .map(|r| r.settings["name"].as_str().unwrap().to_string())
        .collect();
        n.sort();
        n
    };
    assert_eq!(
        server.names_of("Microsoft.ContainerService/managedClusters"),
        of("azure.kubernetes_cluster")
    );
    let mut pools = server.names_of("Microsoft.ContainerService/managedClusters/agentPools");
    pools.retain(|p| p != "system");
    assert_eq!(pools, of("azure.kubernetes_cluster_node_pool"));
    assert_eq!(
        server.names_of("Microsoft.Storage/storageAccounts"),
        of("azure.storage_account")
    );
    assert_eq!(
        server.names_of("Microsoft.Storage/storageAccounts/blobServices/containers"),
        of("azure.storage_container")
    );
    assert_eq!(
        server.names_of("Microsoft.ManagedIdentity/userAssignedIdentities"),
        of("azure.user_assigned_identity")
    );
    assert_eq!(
        server.names_of(
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
        ),
        workload_credentials
    );
    assert_eq!(
        server.names_of("Microsoft.Network/privateLinkServices"),
        of("azure.private_link_service")
    );
    // The plan's role assignments (named by GUIDs), all inside the data plane's group; the
    // customer's own grants on the subscription are not the data plane's.
    let assignments = server
        .arm()
        .into_iter()
        .filter(|(id, _)| {
            type_of(id) == "Microsoft.Authorization/roleAssignments" && id.starts_with(RG)
        })
        .count();
    assert_eq!(assignments, of("azure.role_assignment").len());
    let definitions = server
        .arm()
        .into_iter()
        .filter(|(id, _)| type_of(id) == "Microsoft.Authorization/roleDefinitions")
        .count();
    assert_eq!(definitions, of("azure.role_definition").len());
    // Microsoft Graph's objects are not named by their URL: made once each, or not at all.
    let graph = server.admin("GET", "/_emulator/resources", Value::Null)["graph"].clone();
    assert_eq!(
        graph["applications"].as_array().unwrap().len(),
        of("azure.application").len()
    );
    assert_eq!(
        graph["servicePrincipals"].as_array().unwrap().len(),
        of("azure.service_principal").len()
    );
    let app_credentials: usize = graph["federatedIdentityCredentials"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(
        app_credentials,
        of("azure.application").len(),
        "one federated credential on Union.ai's application"
    );
}

fn cluster_id() -> String {
    format!("{RG}/providers/Microsoft.ContainerService/managedClusters/acme-prod")
}

#[test]
fn byoc_apply_converges_detects_drift_repairs_and_destroys() {
    let server = Server::start();
    server.union_token(UNION_SUBJECT, UNION_AUDIENCE);
    let profile = "profiles/azure-byoc.yaml";
    let applied = server
        .unionctl()
        .args(["apply", "--model", "byoc", "-f", profile, "--auto-approve"])
        .assert()
        .success();
    let err = stderr_of(&applied);
    assert!(err.contains("Stage union done: 4 created"), "{err}");

    assert_live_matches_plan(&server, profile);
    assert!(server.check_requests("byoc") > 40);

    // Union.ai's calls: signed in as its application's service principal, writing only the
    // cluster and its agent pools.
    let requests = server.requests();
    let sp = requests
        .iter()
        .find(|r| {
            r["method"] == "PUT"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/managedClusters/acme-prod"))
        })
        .and_then(|r| r["principal"].as_str())
        .expect("a cluster PUT")
        .to_string();
    let customer = requests
        .iter()
        .find(|r| {
            r["method"] == "PUT"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/resourceGroups/acme-prod-dataplane"))
        })
        .unwrap()["principal"]
        .clone();
    assert_ne!(
        json!(sp),
        customer,
        "the cluster was written by the customer's principal"
    );
    for r in requests.iter().filter(|r| r["principal"] == json!(sp)) {
        let path = r["path"].as_str().unwrap();
        let writes = r["method"] != "GET";
        assert!(
            !writes || path.contains("/managedClusters/acme-prod"),
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

    // The private cluster switched off behind unionctl's back: AKS cannot switch it back in
    // place, so the plan shows a replacement of the cluster, which apply refuses.
    server.admin("POST", "/_emulator/mutate", json!({ "id": cluster_id(), "merge": { "properties": { "apiServerAccessProfile": { "enablePrivateCluster": false } } } }));
    server
        .unionctl()
        .args(["plan", "-f", profile])
        .assert()
        .code(1)
        .stdout(contains("azure.kubernetes_cluster.main"))
        .stderr(contains("replace"));
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .code(3)
        .stderr(contains("invariant 1 (private-endpoint)"));
    server.admin("POST", "/_emulator/mutate", json!({ "id": cluster_id(), "merge": { "properties": { "apiServerAccessProfile": { "enablePrivateCluster": true } } } }));

    // Drift that can be repaired: storage open to public networks, local accounts back on
    // the cluster with a public FQDN, an inbound rule opened to the internet.
    let account = format!("{RG}/providers/Microsoft.Storage/storageAccounts/acmeproddata");
    server.admin("POST", "/_emulator/mutate", json!({ "id": account, "merge": { "properties": { "networkAcls": { "defaultAction": "Allow" } } } }));
    server.admin("POST", "/_emulator/mutate", json!({ "id": cluster_id(), "merge": { "properties": { "disableLocalAccounts": false, "apiServerAccessProfile": { "enablePrivateClusterPublicFQDN": true } } } }));
    let nsg = format!("{RG}/providers/Microsoft.Network/networkSecurityGroups/acme-prod-nodes");
    let mut rules = server.body(&nsg)["properties"]["securityRules"].clone();
    for rule in rules.as_array_mut().unwrap() {
        if rule["name"] == "DenyInternetIn" {
            rule["properties"]["access"] = json!("Allow");
        }
    }
    server.admin(
        "POST",
        "/_emulator/mutate",
        json!({ "id": nsg, "merge": { "properties": { "securityRules": rules } } }),
    );
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
            ("azure.kubernetes_cluster.main".to_string(), true),
            ("azure.network_security_group.nodes".to_string(), true),
            ("azure.storage_account.main".to_string(), true),
        ]
    );
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .code(3);
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

    // Hand-off: the Helm values the chart needs on Azure.
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
    assert_eq!(
        global["AZURE_SUBSCRIPTION_ID"],
        "00000000-1111-4222-8333-444444444444"
    );
    assert_eq!(global["AZURE_RESOURCE_GROUP"], "acme-prod-dataplane");
    assert_eq!(global["STORAGE_ACCOUNT_NAME"], "acmeproddata");
    assert_eq!(
        global["METADATA_BUCKET"],
        "abfs://metadata@acmeproddata.dfs.core.windows.net"
    );
    assert_eq!(
        global["NAMESPACES"]["production"]["RAW_OUTPUT_PREFIX"],
        "abfs://metadata@acmeproddata.dfs.core.windows.net/production/"
    );
    let production = server.body(&format!(
        "{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acme-prod-w-production"
    ));
    assert_eq!(
        global["NAMESPACES"]["production"]["CLIENT_ID"],
        production["properties"]["clientId"]
    );
    assert!(
        global["KEY_VAULT_URI"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://acme-prod-kv.vault.azure.net")),
        "{global}"
    );
    assert!(hand_off["union_access"]["application_client_id"].is_string());

    // A container holding a blob is not destroyed without --delete-data.
    server.admin(
        "POST",
        "/_emulator/blobs",
        json!({ "account": "acmeproddata", "container": "metadata", "name": "production/a.pb" }),
    );
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .code(1)
        .stderr(contains("1 object"));
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve", "--delete-data"])
        .assert()
        .success();
    // Nothing of the data plane is left: what remains is Azure's own (the region's Network
    // Watcher, made with the first virtual network) and the customer's Owner grant.
    let left: Vec<String> = server
        .arm()
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| {
            !id.to_ascii_lowercase()
                .contains("/resourcegroups/networkwatcherrg")
        })
        .filter(|id| {
            !(type_of(id) == "Microsoft.Authorization/roleAssignments"
                && id.starts_with("/subscriptions/00000000-1111-4222-8333-444444444444/providers/"))
        })
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
    let profile = "profiles/azure-self-managed.yaml";
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
        for union in [
            "unionai",
            UNION_SUBSCRIPTION,
            "cognito",
            UNION_SUBJECT,
            UNION_AUDIENCE,
            "/graph/",
        ] {
            assert!(
                !text.contains(&union.to_lowercase()),
                "a self-managed request names Union.ai ({union}): {r}"
            );
        }
    }
    assert!(server
        .names_of("Microsoft.Network/privateLinkServices")
        .is_empty());
    server
        .unionctl()
        .args(["destroy", "-f", profile, "--auto-approve"])
        .assert()
        .success();
}

#[test]
fn union_stage_signs_in_only_as_union_and_never_changes_customer_resources() {
    let server = Server::start();
    let profile = "profiles/azure-byoc.yaml";
    server.union_token(UNION_SUBJECT, UNION_AUDIENCE);
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
        .stderr(contains("Union.ai's application does not exist yet"));
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

    // A token for another identity of the same pool, and one for another audience, are not
    // admitted by the application's federated credential.
    for (subject, audience) in [
        (
            "us-east-2:00000000-0000-4000-8000-000000000000",
            UNION_AUDIENCE,
        ),
        (UNION_SUBJECT, "us-east-2:other-pool"),
    ] {
        server.union_token(subject, audience);
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
            .stderr(contains("cannot sign in as Union.ai's application"))
            .stderr(contains("AADSTS70021"));
    }
    assert!(server
        .names_of("Microsoft.ContainerService/managedClusters")
        .is_empty());

    server.union_token(UNION_SUBJECT, UNION_AUDIENCE);
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
    // The nodes' subnet loses its security group: the union stage reads it, refuses, and
    // changes nothing.
    let subnet =
        format!("{RG}/providers/Microsoft.Network/virtualNetworks/acme-prod/subnets/nodes");
    server.admin(
        "POST",
        "/_emulator/mutate",
        json!({ "id": subnet, "merge": { "properties": { "networkSecurityGroup": null } } }),
    );
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
    let writes: Vec<Value> = server.requests()[before..]
        .iter()
        .filter(|r| {
            r["method"] != "GET" && !r["path"].as_str().unwrap_or_default().ends_with("/token")
        })
        .cloned()
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

/// A key the profile names as existing is looked up (its vault among the subscription's)
/// and read before anything changes: a missing one refuses the apply, naming it; a present
/// one is read, not created, and the data plane is encrypted with it.
#[test]
fn an_existing_key_is_read_before_anything_changes() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let uses = |key: &str| {
        let text = std::fs::read_to_string("profiles/azure-self-managed.yaml")
            .unwrap()
            .replace(
                "encryption: { key: create }",
                &format!("encryption: {{ key: \"{key}\" }}"),
            );
        let p = dir.path().join("existing-key.yaml");
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().to_string()
    };
    let key = "https://team-kv.vault.azure.net/keys/platform";
    server
        .unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            &uses(key),
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains(format!("({key}) does not exist")));
    assert!(
        server.arm().iter().all(|(id, _)| !id.starts_with(RG)),
        "nothing was created"
    );

    // The team's vault and key, in a resource group of their own.
    let team = "/subscriptions/00000000-1111-4222-8333-444444444444/resourceGroups/team-keys";
    server.customer_put(team, "2022-09-01", json!({ "location": "eastus2" }));
    server.customer_put(&format!("{team}/providers/Microsoft.KeyVault/vaults/team-kv"), "2023-07-01", json!({ "location": "eastus2", "properties": { "tenantId": "55555555-6666-4777-8888-999999999999", "sku": { "family": "A", "name": "premium" }, "enablePurgeProtection": true } }));
    server.customer_put(
        &format!("{team}/providers/Microsoft.KeyVault/vaults/team-kv/keys/platform"),
        "2023-07-01",
        json!({ "properties": { "kty": "RSA", "keySize": 3072 } }),
    );
    let applied = server
        .unionctl()
        .args([
            "apply",
            "--model",
            "self-managed",
            "-f",
            &uses(key),
            "--auto-approve",
        ])
        .assert()
        .success();
    assert!(
        !stderr_of(&applied).contains("unverified"),
        "{}",
        stderr_of(&applied)
    );
    let version = server.body(&format!(
        "{team}/providers/Microsoft.KeyVault/vaults/team-kv/keys/platform"
    ))["properties"]["keyUriWithVersion"]
        .clone();
    let cluster = server.body(&cluster_id());
    assert_eq!(
        cluster["properties"]["securityProfile"]["azureKeyVaultKms"]["keyId"],
        version
    );
    server
        .unionctl()
        .args(["verify", "-f", &uses(key)])
        .assert()
        .success();
}

/// Kill -9 at several points of an apply; every re-run resumes; the end state has exactly
/// the plan's resources: nothing duplicated, nothing lost. Throttled (429 with
/// `Retry-After`) and failed (503) calls along the way are sent again.
#[test]
fn killed_and_throttled_applies_resume_without_duplicates() {
    let server = Server::start();
    server.union_token(UNION_SUBJECT, UNION_AUDIENCE);
    let profile = "profiles/azure-byoc.yaml";
    let state = server.state_file(profile);
    server.admin("POST", "/_emulator/faults", json!([{ "method": "PUT", "path_regex": "/providers/Microsoft\\.Network/", "status": 429, "count": 3, "retry_after": 1 }]));
    server.admin("POST", "/_emulator/faults", json!([{ "method": "GET", "path_regex": "/providers/Microsoft\\.Storage/", "status": 503, "count": 2 }]));
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
        &[4u64, 20, 40, 50],
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
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| r["status"] == 429).count(), 3);
    assert_eq!(requests.iter().filter(|r| r["status"] == 503).count(), 2);
    server
        .unionctl()
        .args(["verify", "-f", profile])
        .assert()
        .success();
}

/// The contract server refuses what Azure refuses, independently of unionctl.
#[test]
fn contract_server_refuses_what_azure_refuses() {
    let out = StdCommand::new(python())
        .arg("tests/support/azure_client_smoke.py")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("checks passed"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The state in a team's Azure storage account, locked by Put Blob `If-None-Match: *`:
/// without a data role on the container, and in an account that keeps no blob versions,
/// apply is refused saying what to do (and leaves no lock behind); then of two applies on
/// one remote state one proceeds and the other fails at once naming the holder; a holder
/// killed mid-destroy leaves its lock, explained as a dead process's, and its progress,
/// which `state unlock ID` and a re-run resume with nothing lost or made twice. What the
/// container holds is read through the server's admin API, not through unionctl.
#[test]
fn remote_state_in_azure_blob_one_apply_at_a_time_and_a_dead_holders_lock_explained() {
    let server = Server::start();
    let profile = "profiles/azure-self-managed.yaml";
    let subscription = "/subscriptions/00000000-1111-4222-8333-444444444444";
    let account = format!("{STATE_GROUP}/providers/Microsoft.Storage/storageAccounts/acmestate");
    server.customer_put(STATE_GROUP, "2022-09-01", json!({ "location": "eastus" }));
    server.customer_put(&account, "2023-05-01", json!({ "location": "eastus", "kind": "StorageV2", "sku": { "name": "Standard_LRS" }, "properties": { "minimumTlsVersion": "TLS1_2" } }));
    server.customer_put(
        &format!("{account}/blobServices/default/containers/unionctl"),
        "2023-05-01",
        json!({ "properties": { "publicAccess": "None" } }),
    );
    let url = "azblob://acmestate/unionctl/acme-prod.json";
    let apply = [
        "apply",
        "--model",
        "self-managed",
        "-f",
        profile,
        "--auto-approve",
        "--state",
        url,
    ];
    let blobs = || server.admin("GET", "/_emulator/blobs", Value::Null);

    // The customer reads blobs (Storage Blob Data Reader) but may not write them.
    server
        .unionctl()
        .args(apply)
        .assert()
        .code(1)
        .stderr(contains("the state needs a data role"))
        .stderr(contains("Storage Blob Data Contributor"));
    let customer = server
        .arm()
        .into_iter()
        .find(|(id, b)| {
            type_of(id) == "Microsoft.Authorization/roleAssignments"
                && b["properties"]["roleDefinitionId"]
                    .as_str()
                    .unwrap()
                    .ends_with("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
        })
        .map(|(_, b)| b["properties"]["principalId"].as_str().unwrap().to_string())
        .expect("the customer is Owner");
    server.customer_put(
        &format!("{account}/providers/Microsoft.Authorization/roleAssignments/6f0c1a52-35a8-4d5e-9c1e-0b1c2d3e4f50"),
        "2022-04-01",
        json!({ "properties": { "roleDefinitionId": format!("{subscription}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"), "principalId": customer } }),
    );

    // An account without blob versions: refused, and the lock it wrote is taken back.
    server.customer_put(
        &format!("{account}/blobServices/default"),
        "2023-05-01",
        json!({ "properties": { "isVersioningEnabled": false } }),
    );
    server
        .unionctl()
        .args(apply)
        .assert()
        .code(1)
        .stderr(contains("does not keep blob versions"))
        .stderr(contains("--enable-versioning true"));
    assert_eq!(
        blobs()["acmestate/unionctl/acme-prod.json.lock"]["content"],
        Value::Null,
        "a lock was left behind: {}",
        blobs()
    );
    assert!(
        blobs().get("acmestate/unionctl/acme-prod.json").is_none(),
        "state was written to an account without versions"
    );
    server.customer_put(
        &format!("{account}/blobServices/default"),
        "2023-05-01",
        json!({ "properties": { "isVersioningEnabled": true } }),
    );

    let bucket = || {
        let all = blobs();
        let state = &all["acmestate/unionctl/acme-prod.json"];
        let lock = all["acmestate/unionctl/acme-prod.json.lock"]["content"]
            .as_str()
            .map(|t| serde_json::from_str(t).unwrap());
        let live = state["content"].as_str();
        Bucket {
            lock,
            versions: state["versions"].as_u64().unwrap_or(0) + live.is_some() as u64,
            serial: live.map(|t| {
                serde_json::from_str::<Value>(t).unwrap()["serial"]
                    .as_u64()
                    .unwrap()
            }),
        }
    };
    remote_state_contract(
        &|| server.process(),
        &bucket,
        url,
        profile,
        "self-managed",
        &server.state_file(profile),
    );
    assert_live_matches_plan(&server, profile);
}

/// A subscription the credentials reach no resource of (or that does not exist) is refused
/// before anything is read or changed.
#[test]
fn a_subscription_the_credentials_do_not_reach_is_refused() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.yaml");
    std::fs::write(
        &other,
        std::fs::read_to_string("profiles/azure-self-managed.yaml")
            .unwrap()
            .replace(
                "00000000-1111-4222-8333-444444444444",
                "99999999-1111-4222-8333-444444444444",
            ),
    )
    .unwrap();
    server
        .unionctl()
        .args(["apply", "--model", "self-managed", "--auto-approve", "-f"])
        .arg(&other)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("subscription 99999999-1111-4222-8333-444444444444 does not exist, or the signed-in identity holds no role in it"));
}

/// The profile's fields that change in place on this cloud (tags, a pool's size, a bucket
/// and a tenant namespace added), changed once and applied: each is an update (or a create)
/// the provider carries out, and the next plan is clean.
#[test]
fn mutable_profile_fields_change_and_apply() {
    let server = Server::start();
    let profile = "profiles/azure-self-managed.yaml";
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
    let changed = dir.path().join("azure-self-managed.yaml");
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
        summary["create"].as_u64() > Some(0) && summary["update"].as_u64() > Some(10),
        "{summary}"
    );
    apply(changed.to_str().unwrap());
}

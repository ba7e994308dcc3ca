//! The command line as a user meets it: exit codes, messages, files.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn unionctl() -> Command {
    let mut c = Command::cargo_bin("unionctl").unwrap();
    c.env("NO_COLOR", "1").env_remove("UNIONCTL_STATE_DIR");
    c
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!("profiles/{name}.yaml")).unwrap()
}

#[test]
fn every_example_plans_in_every_format() {
    for cloud in ["aws", "gcp", "azure"] {
        for model in ["byoc", "self-managed"] {
            let path = format!("profiles/{cloud}-{model}.yaml");
            for format in ["table", "json", "yaml", "markdown", "dot"] {
                unionctl()
                    .args(["plan", "-f", &path, "--format", format, "--model", model])
                    .assert()
                    .success();
            }
            unionctl()
                .args(["validate", "-f", &path])
                .assert()
                .success()
                .stderr(contains("is valid"));
        }
    }
}

#[test]
fn table_has_summary_and_owner_column() {
    unionctl()
        .args(["plan", "-f", "profiles/aws-byoc.yaml"])
        .assert()
        .success()
        .stdout(contains("OWNER"))
        .stdout(contains(
            "Stage union: created by Union.ai through the admin identity",
        ))
        .stdout(
            predicate::str::is_match(
                r"Plan: \d+ to create: \d+ customer-owned, \d+ Union\.ai-managed\.",
            )
            .unwrap(),
        );
}

#[test]
fn detailed_exitcode_reports_changes() {
    unionctl()
        .args([
            "plan",
            "-f",
            "profiles/aws-byoc.yaml",
            "--detailed-exitcode",
        ])
        .assert()
        .code(2);
}

#[test]
fn validate_reports_every_error_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let text = example("aws-byoc")
        .replace("name: acme-prod", "name: Acme_Prod")
        .replace("region: us-east-2", "region: us-east-7")
        .replace("cidr: 10.0.0.0/16", "cidr: 10.0.0.0/33")
        .replace("min: 2, max: 4", "min: 5, max: 4");
    let p = write(&dir, "bad.yaml", &text);
    let out = unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    for (field, line) in [
        ("metadata.name", 6),
        ("spec.cloud.region", 19),
        ("spec.network.cidr", 24),
        ("spec.cluster.nodePools[0].min", 30),
    ] {
        assert!(
            err.contains(&format!("error: {field}:")),
            "{field} missing in:\n{err}"
        );
        assert!(
            err.contains(&format!("bad.yaml:{line}:")),
            "line {line} of {field} missing in:\n{err}"
        );
    }
    assert!(
        err.contains("did you mean `us-east-1`?") || err.contains("did you mean `us-east-2`?"),
        "{err}"
    );
    assert!(err.contains("(4 errors)"), "{err}");
}

#[test]
fn structural_errors_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = example("aws-byoc")
        .replace("    zones: 3\n", "    zonez: 3\n")
        .replace("kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.30")
        .replace(
            "      accountId: \"482916350047\"",
            "      accountId: 482916350047",
        );
    let p = write(&dir, "typos.yaml", &text);
    unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(contains("unknown field `zonez`"))
        .stderr(contains("did you mean `zones`?"))
        .stderr(contains(
            "spec.cluster.kubernetesVersion: expected a string, found a number `1.3`",
        ))
        .stderr(contains("spec.cloud.aws.accountId: expected a string"))
        .stderr(contains("(3 errors)"));
}

#[test]
fn model_mismatch_names_both() {
    unionctl()
        .args([
            "plan",
            "-f",
            "profiles/aws-byoc.yaml",
            "--model",
            "self-managed",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "`--model self-managed` does not match `spec.model: byoc`",
        ))
        .stderr(contains("aws-byoc.yaml:11:"));
}

#[test]
fn model_spelling_is_checked() {
    unionctl()
        .args(["plan", "-f", "profiles/aws-byoc.yaml", "--model", "byo"])
        .assert()
        .code(1)
        .stderr(contains("possible values: byoc, self-managed"));
    unionctl()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(contains("Usage: unionctl"));
}

/// Each profile-reachable invariant is refused with exit 3, naming the invariant and the field.
#[test]
fn each_invariant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "aws-byoc",
            "endpointAccess: private ".into(),
            "endpointAccess: private-and-public ",
            "invariant 1 (private-endpoint)",
        ),
        (
            "aws-byoc",
            "key: create }".into(),
            "key: none }",
            "invariant 2 (encryption-at-rest)",
        ),
        (
            "aws-byoc",
            "  tenancy:\n".into(),
            "    minimumTlsVersion: \"1.0\"\n  tenancy:\n",
            "invariant 3 (encryption-in-transit)",
        ),
        (
            "aws-byoc",
            "  tenancy:\n".into(),
            "    blockPublicAccess: false\n  tenancy:\n",
            "invariant 4 (no-public-buckets)",
        ),
        (
            "aws-self-managed",
            "    zones: 3\n".into(),
            "    zones: 3\n    ingress: [{ cidr: 0.0.0.0/0, port: 22 }]\n",
            "invariant 5 (outbound-only)",
        ),
        (
            "aws-byoc",
            "namespaces: [development, staging, production]".into(),
            "namespaces: [development, \"*\"]",
            "invariant 7 (least-privilege)",
        ),
        (
            "aws-byoc",
            "    trail: create".into(),
            "    trail: create\n    flowLogs: false",
            "invariant 8 (audit-logging)",
        ),
        (
            "gcp-byoc",
            "    trail: create".into(),
            "    trail: create\n    clusterLogs: false",
            "invariant 8 (audit-logging)",
        ),
    ];
    for (base, from, to, expected) in cases {
        let text = example(base);
        assert!(text.contains(&from), "{base} lacks {from:?}");
        let p = write(&dir, "inv.yaml", &text.replacen(&from, to, 1));
        unionctl()
            .args(["plan", "-f"])
            .arg(&p)
            .assert()
            .code(3)
            .stderr(contains(expected))
            .stderr(contains("nothing was changed"))
            .stderr(contains("inv.yaml:"));
    }
}

#[test]
fn self_managed_public_endpoint_is_warned_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "sm.yaml",
        &example("aws-self-managed").replace(
            "endpointAccess: private ",
            "endpointAccess: private-and-public ",
        ),
    );
    unionctl()
        .args(["plan", "-f"])
        .arg(&p)
        .assert()
        .success()
        .stderr(contains("warning:"))
        .stderr(contains("listen on the internet"));
}

#[test]
fn union_section_is_refused_in_self_managed() {
    let dir = tempfile::tempdir().unwrap();
    let text = example("aws-self-managed").replace(
        "  cloud:\n",
        "  union:\n    awsAccountId: \"479331373192\"\n  cloud:\n",
    );
    let p = write(&dir, "sm.yaml", &text);
    unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(contains("spec.union: `union` is for BYOC only"));
}

#[test]
fn hostile_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.yaml", vec![], "the profile is empty"),
        ("junk.yaml", vec![0xff, 0xfe, 0x00, 0x41, 0x9f], "not UTF-8"),
        ("nul.yaml", b"a: \x00b".to_vec(), "NUL"),
        (
            "deep.yaml",
            "[".repeat(10_000).into_bytes(),
            "recursion limit",
        ),
        ("huge.yaml", vec![b'#'; 2 << 20], "limit"),
        (
            "broken.yaml",
            b"spec: [unclosed\n  - x: {".to_vec(),
            "invalid YAML",
        ),
        (
            "scalar.yaml",
            b"just a string\n".to_vec(),
            "expected a mapping",
        ),
        ("list.yaml", b"- a\n- b\n".to_vec(), "expected a mapping"),
    ];
    for (name, bytes, message) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = unionctl()
            .args(["validate", "-f"])
            .arg(&p)
            .assert()
            .code(1)
            .stderr(contains(message))
            .get_output()
            .stderr
            .clone();
        assert!(
            !String::from_utf8_lossy(&out).contains("panicked"),
            "{name}"
        );
    }
    unionctl()
        .args(["validate", "-f", "/nonexistent/profile.yaml"])
        .assert()
        .code(1)
        .stderr(contains("cannot read profile"))
        .stderr(contains("Caused by:"));
}

#[test]
fn init_writes_a_profile_valid_once_its_placeholders_are_replaced_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.yaml");
    unionctl()
        .args(["init", "--cloud", "gcp", "--model", "byoc", "-o"])
        .arg(&p)
        .assert()
        .success();
    // The starter's placeholders are refused, each at its line, with where to find the value.
    unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(contains(
            "metadata.org: `acme` is the starter profile's placeholder",
        ))
        .stderr(contains(
            "spec.cloud.gcp.projectNumber: `123456789012` is the starter profile's placeholder",
        ))
        .stderr(contains("gcloud projects describe"))
        .stderr(contains("p.yaml:7:"));
    let filled = std::fs::read_to_string(&p)
        .unwrap()
        .replace("org: acme ", "org: globex ")
        .replace("host: acme.hosted", "host: globex.hosted")
        .replace("projectId: acme-gcp-project", "projectId: globex-ml")
        .replace("\"123456789012\"", "\"731208815521\"");
    std::fs::write(&p, filled).unwrap();
    unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .success();
    std::fs::write(&p, "mine").unwrap();
    unionctl()
        .args(["init", "--cloud", "gcp", "--model", "byoc", "-o"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(contains("already exists"))
        .stderr(contains("hint:"));
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
}

#[test]
fn schema_is_json_schema() {
    let out = unionctl()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["$defs"]["Spec"]["properties"]["cluster"].is_object());
}

#[test]
fn responsibilities_matrix() {
    unionctl()
        .args(["responsibilities", "--model", "byoc", "--cloud", "aws"])
        .assert()
        .success()
        .stdout(contains("admin identity granted to Union.ai"))
        .stdout(contains("aws.iam_role"))
        .stdout(contains("Union.ai"));
    let out = unionctl()
        .args([
            "responsibilities",
            "--model",
            "self-managed",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let m: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for row in m["components"].as_array().unwrap() {
        if row["present"] == true {
            assert_eq!(row["owner"], "customer", "{row}");
            assert_eq!(row["operator"], "customer", "{row}");
        }
    }
}

#[test]
fn saved_plan_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    unionctl()
        .args(["plan", "-f", "profiles/azure-byoc.yaml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(plan["model"], "byoc");
    assert!(plan["profile_digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
}

#[test]
fn completions() {
    unionctl()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(contains("unionctl"));
}

/// docs/ownership.md is the command's output; regenerate it when ownership changes.
#[test]
fn ownership_doc_is_current() {
    let doc = std::fs::read_to_string("docs/ownership.md").unwrap();
    for model in ["byoc", "self-managed"] {
        for cloud in ["aws", "gcp", "azure"] {
            let out = unionctl()
                .args([
                    "responsibilities",
                    "--model",
                    model,
                    "--cloud",
                    cloud,
                    "--format",
                    "markdown",
                ])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let table = String::from_utf8(out).unwrap();
            assert!(
                doc.contains(&format!("## {model} on {cloud}\n\n{table}")),
                "docs/ownership.md is stale for {model} on {cloud}"
            );
        }
    }
}

#[test]
fn structural_and_semantic_errors_together() {
    let dir = tempfile::tempdir().unwrap();
    let text = example("aws-byoc")
        .replace("    zones: 3\n", "    zonez: 3\n")
        .replace("    cidr: 10.0.0.0/16\n", "    cidr: 10.0.0.0/33\n")
        .replace("min: 2, max: 4", "min: 9, max: 4")
        .replace("kubernetesVersion: \"1.31\"", "kubernetesVersion: 1.30");
    let p = write(&dir, "both.yaml", &text);
    unionctl()
        .args(["validate", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .stderr(contains("spec.network.zonez: unknown field `zonez`"))
        .stderr(contains(
            "spec.network.cidr: `10.0.0.0/33` is not an IPv4 CIDR block",
        ))
        .stderr(contains("both.yaml:24:11"))
        .stderr(contains(
            "spec.cluster.nodePools[0].min: min (9) is greater than max (4)",
        ))
        .stderr(contains(
            "spec.cluster.kubernetesVersion: expected a string",
        ))
        // Nothing is said about the version the user did not write (taken from the starter profile).
        .stderr(contains("(4 errors)"));
}

/// A team's state location in the profile is checked with the profile, at its line; the
/// `--state` flag is checked before anything is read.
#[test]
fn state_url_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = example("aws-byoc").replace(
        "  tags:\n",
        "  state:\n    url: s3://Team_State/\n  tags:\n",
    );
    assert!(
        text.contains("state:"),
        "the example has a tags block to insert before"
    );
    let p = write(&dir, "remote.yaml", &text);
    let out = unionctl().args(["validate", "-f"]).arg(&p).assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("spec.state.url: `Team_State` in `s3://Team_State/` is not an S3 bucket name"),
        "{err}"
    );
    assert!(err.contains("remote.yaml:"), "{err}");
    unionctl()
        .args([
            "plan",
            "-f",
            "profiles/aws-byoc.yaml",
            "--state",
            "azblob://acmestate/unionctl",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "--state: `azblob://acmestate/unionctl` names no blob",
        ));
}

#[test]
fn json_results_for_ci() {
    let out = unionctl()
        .args(["plan", "-f", "profiles/gcp-byoc.yaml", "--output", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "one result object");
    let r = &lines[0];
    assert_eq!(
        (
            r["format_version"].as_str(),
            r["command"].as_str(),
            r["ok"].as_bool(),
            r["exit_code"].as_i64()
        ),
        (Some("2.0"), Some("plan"), Some(true), Some(0))
    );
    assert_eq!(
        r["summary"]["create"].as_u64(),
        Some(r["changes"].as_array().unwrap().len() as u64)
    );

    // A failure is a result too, with the problems and their positions.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "bad.yaml",
        &example("aws-byoc").replace("    zones: 3\n", "    zonez: 3\n"),
    );
    let out = unionctl()
        .args(["validate", "--output", "json", "-f"])
        .arg(&p)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (
            r["command"].as_str(),
            r["ok"].as_bool(),
            r["exit_code"].as_i64()
        ),
        (Some("validate"), Some(false), Some(1))
    );
    let d = &r["error"]["diagnostics"][0];
    assert_eq!(
        (d["path"].as_str(), d["line"].as_u64(), d["hint"].as_str()),
        (
            Some("spec.network.zonez"),
            Some(25),
            Some("did you mean `zones`?")
        ),
        "{r}"
    );

    // An invariant failure: exit 3, with the violations.
    let p = write(
        &dir,
        "open.yaml",
        &example("aws-byoc").replace(
            "endpointAccess: private ",
            "endpointAccess: private-and-public ",
        ),
    );
    let out = unionctl()
        .args(["plan", "--output", "json", "-f"])
        .arg(&p)
        .assert()
        .get_output()
        .clone();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        r["exit_code"].as_i64(),
        Some(out.status.code().unwrap() as i64),
        "{r}"
    );
}

/// Input that would plan something unsafe or surprising is refused, naming the field, and
/// nothing is planned.
#[test]
fn risky_input_is_refused_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, &str, &str, &str)> = vec![
        ("aws-byoc", "namespaces: [development, staging, production]", "namespaces: [development, default]", "spec.tenancy.namespaces[1]: `default` is reserved"),
        ("aws-byoc", "namespaces: [development, staging, production]", "namespaces: [kube-public]", "`kube-public` is reserved"),
        ("gcp-byoc", "namespaces: [development, staging, production]", "namespaces: [knative-serving]", "`knative-serving` is reserved"),
        ("azure-byoc", "namespaces: [development, staging, production]", "namespaces: [istio-system]", "`istio-system` is reserved"),
        ("azure-self-managed", "{ name: gpu,", "{ name: workers-a, instanceType: Standard_D8s_v5, min: 0, max: 2 }\n      - { name: workersa,", "pools `workers-a` and `workersa` both become `workersa` on Azure"),
        ("aws-byoc", "buckets: [metadata, fast-registration]", "buckets: [metadata, prod-metadata]", "`prod-metadata` ends like a data plane's own bucket"),
        ("azure-byoc", "buckets: [metadata, fast-registration]", "buckets: [metadata, insights-logs-flows]", "`insights-logs-flows` is reserved for audit and diagnostic logs"),
        ("gcp-self-managed", "  tenancy:\n", "    minimumTlsVersion: \"1.1\"\n  tenancy:\n", "Cloud Storage cannot enforce TLS 1.1 per bucket"),
        ("aws-byoc", "kubernetesVersion: \"1.31\"", "kubernetesVersion: \"1.031\"", "`1.031` is not a Kubernetes minor version"),
        ("aws-byoc", "    # externalId: generated", "    externalId: aaaaaaaaaaaaaaaaaaaa\n    # externalId: generated", "spec.union.externalId: the external ID is easy to guess"),
        ("aws-byoc", "    # externalId: generated", "    externalId: Short1\n    # externalId: generated", "must be 16-1224 characters"),
    ];
    for (base, from, to, expected) in cases {
        let text = example(base);
        assert!(text.contains(from), "{base} lacks {from:?}");
        let p = write(&dir, "risky.yaml", &text.replacen(from, to, 1));
        unionctl()
            .args(["plan", "-f"])
            .arg(&p)
            .assert()
            .code(1)
            .stderr(contains(expected))
            .stderr(contains("risky.yaml:"))
            .stdout("");
    }
}

/// `--output json` promises one versioned result for every command, usage errors included:
/// the last line of stdout parses, names the command, and says whether it worked.
#[test]
fn every_command_ends_with_one_json_result() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let cases: Vec<(Vec<&str>, &str, bool)> = vec![
        (
            vec!["init", "--cloud", "aws", "--model", "byoc"],
            "init",
            true,
        ),
        (
            vec!["validate", "-f", "profiles/aws-byoc.yaml"],
            "validate",
            true,
        ),
        (vec!["plan", "-f", "profiles/aws-byoc.yaml"], "plan", true),
        (vec!["show", "-f", "profiles/aws-byoc.yaml"], "show", true),
        (
            vec!["state", "list", "-f", "profiles/aws-byoc.yaml"],
            "state list",
            true,
        ),
        (
            vec!["responsibilities", "--model", "byoc", "--cloud", "gcp"],
            "responsibilities",
            true,
        ),
        (vec!["schema"], "schema", true),
        (vec!["completions", "bash"], "completions", true),
        (
            vec!["outputs", "-f", "profiles/aws-byoc.yaml"],
            "outputs",
            false,
        ),
        (
            vec!["plann", "-f", "profiles/aws-byoc.yaml"],
            "plann",
            false,
        ),
        (vec!["plan", "--bogus"], "plan", false),
        (
            vec![
                "state",
                "import",
                "not-a-lineage",
                "-f",
                "profiles/aws-byoc.yaml",
            ],
            "state import",
            false,
        ),
    ];
    for (args, command, ok) in cases {
        let out = unionctl()
            .args(&args)
            .args(["--output", "json"])
            .env("UNIONCTL_STATE_DIR", &state)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout
            .lines()
            .last()
            .unwrap_or_else(|| panic!("{args:?}: no stdout"));
        let result: serde_json::Value =
            serde_json::from_str(last).unwrap_or_else(|e| panic!("{args:?}: {e}: {last}"));
        assert_eq!(
            (
                result["format_version"].as_str(),
                result["command"].as_str(),
                result["ok"].as_bool()
            ),
            (Some("2.0"), Some(command), Some(ok)),
            "{args:?}: {result}"
        );
        assert_eq!(out.status.code(), Some(if ok { 0 } else { 1 }), "{args:?}");
        if !ok {
            assert!(
                result["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{args:?}: {result}"
            );
        }
    }
}

/// What Terraform, eksctl and kubectl users reach for first: `-f -`, several profiles or a
/// directory for validate, `-o` for files, `--model` on destroy.
#[test]
fn conventions_of_the_field() {
    // The profile from stdin.
    unionctl()
        .args(["validate", "-f", "-"])
        .write_stdin(example("gcp-byoc"))
        .assert()
        .success()
        .stderr(contains("is valid"));
    unionctl()
        .args(["plan", "-f", "-", "--format", "json"])
        .write_stdin(example("aws-self-managed"))
        .assert()
        .success()
        .stdout(contains("\"format_version\""));

    // A directory: its profiles (other YAML is not one), each data plane once.
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "east.yaml",
        &example("aws-self-managed").replace("  name: acme-prod ", "  name: acme-east "),
    );
    write(
        &dir,
        "west.yaml",
        &example("aws-self-managed").replace("  name: acme-prod ", "  name: acme-west "),
    );
    write(&dir, "values.yaml", "global:\n  CLUSTER_NAME: x\n");
    let out = unionctl()
        .args(["validate", "-f"])
        .arg(dir.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}");
    assert!(
        table.contains("acme-east")
            && table.contains("acme-west")
            && table.contains("2 data planes: 0 failed."),
        "{table}"
    );
    write(
        &dir,
        "east-again.yaml",
        &example("aws-self-managed").replace("  name: acme-prod ", "  name: acme-east "),
    );
    unionctl()
        .args(["validate", "-f"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains(
            "are both data plane `acme-east` (aws 482916350047)",
        ));

    // `-o` names the file; --format the shape.
    let out = dir.path().join("plan.json");
    unionctl()
        .args(["plan", "-f", "profiles/aws-byoc.yaml", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("\"resource_changes\""));
    let starter = dir.path().join("starter.yaml");
    unionctl()
        .args(["init", "--cloud", "azure", "--model", "self-managed", "-o"])
        .arg(&starter)
        .assert()
        .success();
    unionctl()
        .args([
            "init",
            "--cloud",
            "azure",
            "--model",
            "self-managed",
            "--output-file",
        ])
        .arg(&starter)
        .assert()
        .code(1)
        .stderr(contains("already exists"));

    // destroy takes --model, and checks it as apply does.
    unionctl()
        .args([
            "destroy",
            "--model",
            "byoc",
            "-f",
            "profiles/aws-self-managed.yaml",
            "--auto-approve",
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "`--model byoc` does not match `spec.model: self-managed`",
        ));
}

/// The whole stderr of each error a user meets first, pinned (as uv's `uv_snapshot!`
/// does): what failed, where (file:line:column), why and what to do, and nothing else.
/// Each runs in a directory of its own, so the paths are the ones the user typed.
#[test]
fn errors_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let aws = example("aws-byoc");
    write(&dir, "acme.yaml", &aws);
    write(
        &dir,
        "typo.yaml",
        &aws.replacen("  network:", "  netwrok:", 1),
    );
    write(
        &dir,
        "pool.yaml",
        &aws.replacen("instanceType: m6i.2xlarge", "instanceType: m6i.2xlargee", 1),
    );
    write(&dir, "sm.yaml", &example("aws-self-managed"));
    write(&dir, "not-a-plan.json", "{}");
    let cases: &[(&str, &[&str])] = &[
        ("unknown_field", &["validate", "-f", "typo.yaml"]),
        ("instance_type_typo", &["validate", "-f", "pool.yaml"]),
        ("missing_profile", &["plan", "-f", "nowhere.yaml"]),
        (
            "model_mismatch",
            &["apply", "--model", "self-managed", "-f", "acme.yaml"],
        ),
        (
            "self_managed_union_stage",
            &[
                "apply",
                "--model",
                "self-managed",
                "-f",
                "sm.yaml",
                "--stage",
                "union",
            ],
        ),
        (
            "not_a_plan",
            &["destroy", "-f", "acme.yaml", "not-a-plan.json"],
        ),
        (
            "detailed_exitcode_needs_out",
            &["destroy", "-f", "acme.yaml", "--detailed-exitcode"],
        ),
        (
            "delete_data_needs_destroy",
            &["plan", "-f", "acme.yaml", "--delete-data"],
        ),
    ];
    for (name, args) in cases {
        let out = unionctl()
            .current_dir(dir.path())
            .env("UNIONCTL_STATE_DIR", dir.path().join("state"))
            .args(*args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        insta::assert_snapshot!(
            *name,
            format!(
                "$ unionctl {}\nexit {}\n{stderr}",
                args.join(" "),
                out.status.code().unwrap_or(-1)
            )
        );
    }
}

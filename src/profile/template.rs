//! Starter profiles, rendered from `templates/profile.yaml`.
//!
//! One template serves every cloud and model: `{{#key}}` … `{{/key}}` keeps its lines only
//! when `key` is the cloud or the model, and `{{name}}` is replaced by a value. The values
//! that name the customer (organization, account, project, subscription) are
//! [`PLACEHOLDERS`]: `init` writes the starter's, which `validate` refuses until they are
//! replaced; the example profiles in `profiles/` are the same template with example values
//! (a test keeps them equal), so the examples and `init` cannot drift apart.

use super::schema::{Model, Provider};

const TEMPLATE: &str = include_str!("../../templates/profile.yaml");

/// A value the starter profile leaves for the user to fill in.
pub struct Placeholder {
    /// `{{key}}` in the template.
    pub key: &'static str,
    /// The profile field it fills.
    pub field: &'static str,
    /// What `init` writes, and `validate` refuses.
    pub starter: &'static str,
    /// What the example profiles say.
    pub example: &'static str,
    /// Where the user finds the real value.
    pub hint: &'static str,
}

pub const PLACEHOLDERS: &[Placeholder] = &[
    Placeholder { key: "org", field: "metadata.org", starter: "acme", example: "acme-corp", hint: "your Union.ai organization, as in your Union.ai URL" },
    Placeholder {
        key: "control_plane_host",
        field: "spec.controlPlane.host",
        starter: "acme.hosted.unionai.cloud",
        example: "acme-corp.hosted.unionai.cloud",
        hint: "the host name of your Union.ai control plane, given by Union.ai onboarding",
    },
    Placeholder {
        key: "aws_account_id",
        field: "spec.cloud.aws.accountId",
        starter: "123456789012",
        example: "482916350047",
        hint: "your AWS account id: `aws sts get-caller-identity --query Account --output text`",
    },
    Placeholder {
        key: "gcp_project_id",
        field: "spec.cloud.gcp.projectId",
        starter: "acme-gcp-project",
        example: "acme-ml-prod",
        hint: "your project id: `gcloud config get-value project`",
    },
    Placeholder {
        key: "gcp_project_number",
        field: "spec.cloud.gcp.projectNumber",
        starter: "123456789012",
        example: "482916350047",
        hint: "your project's number: `gcloud projects describe PROJECT_ID --format='value(projectNumber)'`",
    },
    Placeholder {
        key: "azure_subscription_id",
        field: "spec.cloud.azure.subscriptionId",
        starter: "00000000-0000-0000-0000-000000000000",
        example: "00000000-1111-4222-8333-444444444444",
        hint: "your subscription id: `az account show --query id --output tsv`",
    },
    Placeholder {
        key: "azure_tenant_id",
        field: "spec.cloud.azure.tenantId",
        starter: "00000000-0000-0000-0000-000000000000",
        example: "55555555-6666-4777-8888-999999999999",
        hint: "your tenant id: `az account show --query tenantId --output tsv`",
    },
];

/// The placeholder a field still holds, if it does.
pub fn placeholder_at(field: &str, value: &str) -> Option<&'static Placeholder> {
    PLACEHOLDERS
        .iter()
        .find(|p| p.field == field && p.starter == value)
}

/// The starter profile `init` writes: placeholders where the user's values go.
pub fn render(cloud: Provider, model: Model) -> String {
    render_with(cloud, model, |p| p.starter)
}

/// The example profile of `profiles/`: the starter with example values.
pub fn example(cloud: Provider, model: Model) -> String {
    render_with(cloud, model, |p| p.example)
}

fn render_with(
    cloud: Provider,
    model: Model,
    value: impl Fn(&Placeholder) -> &'static str,
) -> String {
    let keys = [cloud.as_str(), model.as_str()];
    let cloud_title = cloud.title();
    let model_title = match model {
        Model::Byoc => "BYOC",
        Model::SelfManaged => "self-managed",
    };
    let mut out = String::new();
    // Sections whose key does not apply, innermost first: skip lines while any is open.
    let mut skipping: Vec<bool> = Vec::new();
    for line in TEMPLATE.lines() {
        let t = line.trim();
        if let Some(key) = t.strip_prefix("{{#").and_then(|s| s.strip_suffix("}}")) {
            skipping.push(!keys.contains(&key));
            continue;
        }
        if t.starts_with("{{/") && t.ends_with("}}") {
            skipping.pop();
            continue;
        }
        if skipping.iter().any(|s| *s) {
            continue;
        }
        let mut line = line
            .replace("{{cloud_title}}", cloud_title)
            .replace("{{model_title}}", model_title);
        for p in PLACEHOLDERS {
            line = line.replace(&format!("{{{{{}}}}}", p.key), value(p));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Refuses the starter's placeholders: a profile that still names `acme` or account
/// `123456789012` would provision into someone else's account, or none.
pub fn check_placeholders(p: &super::Profile, r: &mut super::diagnostic::Report<'_>) {
    let c = &p.spec.cloud;
    let values: [(&str, Option<&str>); 7] = [
        ("metadata.org", Some(&p.metadata.org)),
        ("spec.controlPlane.host", Some(&p.spec.control_plane.host)),
        (
            "spec.cloud.aws.accountId",
            c.aws.as_ref().map(|a| a.account_id.as_str()),
        ),
        (
            "spec.cloud.gcp.projectId",
            c.gcp.as_ref().map(|g| g.project_id.as_str()),
        ),
        (
            "spec.cloud.gcp.projectNumber",
            c.gcp.as_ref().map(|g| g.project_number.as_str()),
        ),
        (
            "spec.cloud.azure.subscriptionId",
            c.azure.as_ref().map(|a| a.subscription_id.as_str()),
        ),
        (
            "spec.cloud.azure.tenantId",
            c.azure.as_ref().map(|a| a.tenant_id.as_str()),
        ),
    ];
    for (field, value) in values {
        if let Some(placeholder) = value.and_then(|v| placeholder_at(field, v)) {
            r.error(
                field,
                format!(
                    "`{}` is the starter profile's placeholder",
                    placeholder.starter
                ),
            )
            .set_hint(format!("replace it with {}", placeholder.hint));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_in_the_template_and_refused() {
        for p in PLACEHOLDERS {
            assert!(
                TEMPLATE.contains(&format!("{{{{{}}}}}", p.key)),
                "{} is not used by the template",
                p.key
            );
        }
        for cloud in Provider::ALL {
            for model in Model::ALL {
                let starter = render(cloud, model);
                assert!(!starter.contains("{{"), "{starter}");
                let err = crate::profile::load_bytes(
                    starter.as_bytes(),
                    std::path::Path::new("starter.yaml"),
                )
                .unwrap_err();
                let crate::profile::ProfileError::Invalid { diagnostics, .. } = err else {
                    panic!("{err}")
                };
                let fields: Vec<&str> = diagnostics.iter().map(|d| d.path.as_str()).collect();
                let expected: Vec<&str> = PLACEHOLDERS
                    .iter()
                    .filter(|p| {
                        !p.field.starts_with("spec.cloud.")
                            || p.field.starts_with(&format!("spec.cloud.{cloud}."))
                    })
                    .map(|p| p.field)
                    .collect();
                for f in &expected {
                    assert!(
                        fields.contains(f),
                        "{cloud} {model}: {f} not refused: {diagnostics:?}"
                    );
                }
                assert_eq!(
                    fields.len(),
                    expected.len(),
                    "{cloud} {model}: only the placeholders are refused: {diagnostics:?}"
                );
                crate::profile::load_bytes(
                    example(cloud, model).as_bytes(),
                    std::path::Path::new("example.yaml"),
                )
                .unwrap();
            }
        }
    }
}

//! The profile: schema → load (with positions) → structure check → defaults → validation.
//!
//! Nothing here touches the network, the clock or the terminal.

pub mod catalog;
pub mod defaults;
pub mod diagnostic;
pub mod names;
pub mod schema;
pub mod state_url;
pub mod structure;
pub mod template;
pub mod validate;
pub mod yaml;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use diagnostic::{Diagnostic, Severity, SourceMap};
pub use schema::{Model, Profile, Provider};

/// A profile that parsed and validated, with what is needed to point back into its source.
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub profile: Profile,
    pub source: SourceMap,
    pub path: PathBuf,
    /// `sha256:<hex>` of the file's bytes: a saved plan records it to detect an edited profile.
    pub digest: String,
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read profile {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid profile ({} {})", path.display(), count_errors(diagnostics), if count_errors(diagnostics) == 1 { "error" } else { "errors" })]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
}

fn count_errors(d: &[Diagnostic]) -> usize {
    d.iter().filter(|d| d.severity == Severity::Error).count()
}

/// The starter profile of the document's cloud and model (AWS BYOC when they are not
/// readable): where the values of invalid required fields are taken from, so that the rest
/// of a broken profile can still be checked.
fn skeleton(root: &yaml::Node) -> serde_json::Value {
    let doc = root.to_json();
    let cloud = doc
        .pointer("/spec/cloud/provider")
        .and_then(|v| serde_json::from_value::<Provider>(v.clone()).ok())
        .unwrap_or(Provider::Aws);
    let model = doc
        .pointer("/spec/model")
        .and_then(|v| serde_json::from_value::<Model>(v.clone()).ok())
        .unwrap_or(Model::Byoc);
    yaml::load(template::render(cloud, model).as_bytes())
        .map(|n| n.to_json())
        .unwrap_or_default()
}

/// `-` is standard input (`unionctl plan -f - < acme.yaml`, or a generated profile piped in).
pub fn load_file(path: &Path) -> Result<LoadedProfile, ProfileError> {
    let read = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes = read.map_err(|source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(&bytes, path)
}

/// The whole pipeline on bytes; `path` is only used in messages.
pub fn load_bytes(bytes: &[u8], path: &Path) -> Result<LoadedProfile, ProfileError> {
    let invalid = |diagnostics| ProfileError::Invalid {
        path: path.to_path_buf(),
        diagnostics,
    };
    let root = yaml::load(bytes).map_err(|e| {
        invalid(vec![Diagnostic {
            severity: Severity::Error,
            path: String::new(),
            mark: e.mark,
            message: e.message,
            hint: e.hint,
        }])
    })?;
    let source = SourceMap::of(&root);

    // Every problem at once: when the structure check finds problems, the semantic checks
    // still run on what did parse (invalid values taken from the starter profile), and
    // report nothing about the values they did not read from the user's file.
    let checked = structure::check_and_repair(&root, &skeleton(&root));
    let mut items = checked.diagnostics;
    let profile: Option<Profile> = if items.is_empty() {
        Some(
            serde_path_to_error::deserialize(root.to_json()).map_err(|e| {
                // The schema check passed, so this is a gap between schema and types; still a clean error.
                let path = e.path().to_string();
                let mark = source.mark(&path);
                invalid(vec![Diagnostic {
                    severity: Severity::Error,
                    path,
                    mark,
                    message: e.inner().to_string(),
                    hint: None,
                }])
            })?,
        )
    } else {
        // Without a readable model and cloud, every other check would be a guess.
        let guessed = checked.replaced.iter().any(|p| {
            ["spec", "spec.model", "spec.cloud", "spec.cloud.provider"].contains(&p.as_str())
        });
        if guessed {
            None
        } else {
            serde_json::from_value(checked.repaired).ok()
        }
    };
    let Some(mut profile) = profile else {
        return Err(invalid(items));
    };
    defaults::apply(&mut profile);
    let mut report = diagnostic::Report::new(&source);
    validate::validate(&profile, &mut report);
    template::check_placeholders(&profile, &mut report);
    let under = |path: &str, p: &str| {
        path == p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    };
    items.extend(
        report
            .items
            .into_iter()
            .filter(|d| !checked.replaced.iter().any(|p| under(&d.path, p))),
    );
    items.sort_by_key(|d| {
        (
            d.mark.map_or((usize::MAX, 0), |m| (m.line, m.col)),
            d.severity,
        )
    });
    if items.iter().any(|d| d.severity == Severity::Error) {
        return Err(invalid(items));
    }
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    Ok(LoadedProfile {
        profile,
        source,
        path: path.to_path_buf(),
        digest,
        warnings: items,
    })
}

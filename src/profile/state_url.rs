//! The profile's `spec.state.url` (and the `--state` flag): where a team keeps the state.

/// A state location given on the command line or in the profile: one object in a bucket
/// that keeps versions; the lock is the object `KEY.lock` beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://BUCKET/KEY`.
    S3 { bucket: String, key: String },
    /// `gs://BUCKET/KEY`.
    Gcs { bucket: String, key: String },
    /// `azblob://ACCOUNT/CONTAINER/KEY`, or the blob's URL,
    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY`.
    AzureBlob {
        account: String,
        container: String,
        key: String,
    },
}

const EXPECTED: &str =
    "expected s3://BUCKET/KEY, gs://BUCKET/KEY or azblob://ACCOUNT/CONTAINER/KEY";

impl Location {
    pub fn parse(url: &str) -> Result<Location, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!("`{url}` is not a state URL; {EXPECTED}"));
        };
        match scheme {
            "s3" => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                let valid = (3..=63).contains(&bucket.len())
                    && charset(bucket, &['-', '.'])
                    && !bucket.starts_with(['-', '.'])
                    && !bucket.ends_with(['-', '.']);
                if !valid {
                    return Err(format!("`{bucket}` in `{url}` is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)"));
                }
                Ok(Location::S3 {
                    bucket: bucket.into(),
                    key: object_key(url, scheme, bucket, key)?,
                })
            }
            "gs" => {
                // https://cloud.google.com/storage/docs/buckets#naming: 3-63 characters, or up
                // to 222 when dotted (each part at most 63).
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                let max = if bucket.contains('.') { 222 } else { 63 };
                let valid = (3..=max).contains(&bucket.len())
                    && charset(bucket, &['-', '_', '.'])
                    && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
                    && bucket.split('.').all(|part| part.len() <= 63);
                if !valid {
                    return Err(format!("`{bucket}` in `{url}` is not a Cloud Storage bucket name (3-63 lowercase letters, digits, hyphens, underscores and dots)"));
                }
                Ok(Location::Gcs {
                    bucket: bucket.into(),
                    key: object_key(url, scheme, bucket, key)?,
                })
            }
            "azblob" => {
                let (account, path) = rest.split_once('/').unwrap_or((rest, ""));
                azure_blob(url, account, path)
            }
            "https" => {
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                match host.strip_suffix(".blob.core.windows.net") {
                    Some(account) => azure_blob(url, account, path),
                    None => Err(format!("`{url}` is not a blob's URL (https://ACCOUNT.blob.core.windows.net/CONTAINER/KEY); {EXPECTED}")),
                }
            }
            other => Err(format!("`{other}://` is not a state backend; {EXPECTED}")),
        }
    }
}

fn charset(name: &str, punctuation: &[char]) -> bool {
    name.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || punctuation.contains(&c))
}

fn object_key(url: &str, scheme: &str, bucket: &str, key: &str) -> Result<String, String> {
    if key.is_empty() || key.ends_with('/') {
        return Err(format!(
            "`{url}` names no object: expected {scheme}://{bucket}/path/to/state.json"
        ));
    }
    Ok(key.to_string())
}

/// https://learn.microsoft.com/azure/storage/common/storage-account-overview#storage-account-name,
/// https://learn.microsoft.com/rest/api/storageservices/naming-and-referencing-containers--blobs--and-metadata
fn azure_blob(url: &str, account: &str, path: &str) -> Result<Location, String> {
    if !(3..=24).contains(&account.len()) || !charset(account, &[]) {
        return Err(format!("`{account}` in `{url}` is not a storage account name (3-24 lowercase letters and digits)"));
    }
    let (container, key) = path.split_once('/').unwrap_or((path, ""));
    let valid = (3..=63).contains(&container.len())
        && charset(container, &['-'])
        && !container.starts_with('-')
        && !container.ends_with('-')
        && !container.contains("--");
    if !valid {
        return Err(format!("`{container}` in `{url}` is not a blob container name (3-63 lowercase letters, digits and single hyphens)"));
    }
    if key.is_empty() || key.ends_with('/') {
        return Err(format!(
            "`{url}` names no blob: expected azblob://{account}/{container}/path/to/state.json"
        ));
    }
    Ok(Location::AzureBlob {
        account: account.into(),
        container: container.into(),
        key: key.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("s3://team-state/unionctl/prod.json"),
            Ok(Location::S3 {
                bucket: "team-state".into(),
                key: "unionctl/prod.json".into()
            })
        );
        assert!(Location::parse("s3://Team/x")
            .unwrap_err()
            .contains("not an S3 bucket name"));
        assert!(Location::parse("s3://team-state/")
            .unwrap_err()
            .contains("names no object"));
        assert_eq!(
            Location::parse("gs://team_state/prod.json"),
            Ok(Location::Gcs {
                bucket: "team_state".into(),
                key: "prod.json".into()
            })
        );
        assert!(Location::parse("gs://-team/x")
            .unwrap_err()
            .contains("not a Cloud Storage bucket name"));
        assert!(Location::parse("gs://team-state")
            .unwrap_err()
            .contains("names no object"));
        let blob = Location::AzureBlob {
            account: "acmestate".into(),
            container: "unionctl".into(),
            key: "prod/state.json".into(),
        };
        assert_eq!(
            Location::parse("azblob://acmestate/unionctl/prod/state.json"),
            Ok(blob.clone())
        );
        assert_eq!(
            Location::parse("https://acmestate.blob.core.windows.net/unionctl/prod/state.json"),
            Ok(blob)
        );
        assert!(Location::parse("azblob://Acme/unionctl/x")
            .unwrap_err()
            .contains("not a storage account name"));
        assert!(Location::parse("azblob://acmestate/union--ctl/x")
            .unwrap_err()
            .contains("not a blob container name"));
        assert!(Location::parse("azblob://acmestate/unionctl")
            .unwrap_err()
            .contains("names no blob"));
        assert!(Location::parse("https://example.com/a/b")
            .unwrap_err()
            .contains("not a blob's URL"));
        assert!(Location::parse("team-state/k")
            .unwrap_err()
            .contains("not a state URL"));
        assert!(Location::parse("ftp://team/k")
            .unwrap_err()
            .contains("not a state backend"));
    }
}

//! The profile's `spec.state.url` (and the `--state` flag): where a team keeps the state.

/// A state location given on the command line or in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://bucket/key`: the state object's key; the lock is `key.lock`.
    S3 { bucket: String, key: String },
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, String> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(format!("`{url}` is not a state URL; expected s3://BUCKET/KEY"));
        };
        match scheme {
            "s3" => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                let valid_bucket = (3..=63).contains(&bucket.len())
                    && bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                    && !bucket.starts_with(['-', '.'])
                    && !bucket.ends_with(['-', '.']);
                if !valid_bucket {
                    return Err(format!("`{bucket}` in `{url}` is not an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)"));
                }
                if key.is_empty() || key.ends_with('/') {
                    return Err(format!("`{url}` names no object: expected s3://{bucket}/path/to/state.json"));
                }
                Ok(Location::S3 { bucket: bucket.to_string(), key: key.to_string() })
            }
            "gs" | "azblob" | "https" => Err(format!("`{scheme}://` state is not supported yet; use s3://BUCKET/KEY or a local --state-dir")),
            other => Err(format!("`{other}://` is not a state backend; expected s3://BUCKET/KEY")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(Location::parse("s3://team-state/unionctl/prod.json"), Ok(Location::S3 { bucket: "team-state".into(), key: "unionctl/prod.json".into() }));
        assert!(Location::parse("s3://Team/x").unwrap_err().contains("not an S3 bucket name"));
        assert!(Location::parse("s3://team-state/").unwrap_err().contains("names no object"));
        assert!(Location::parse("gs://b/k").unwrap_err().contains("not supported yet"));
        assert!(Location::parse("team-state/k").unwrap_err().contains("not a state URL"));
    }
}

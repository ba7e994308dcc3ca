//! When a provider may take what it finds as its own.
//!
//! A resource is found three ways: by the id state recorded (state proves it is ours), by
//! its fixed name or tags while state holds the intent to create it (a run killed between
//! the create and the record), or by its name or tags alone. Names and data-plane tags are
//! shared by every profile with the same `metadata.name`, so they never prove ownership:
//! what a state makes is marked with the state's lineage, and a resource found by name or
//! tags is adopted only when it carries this state's lineage, or carries none and this
//! state holds the intent to create it. Anything else is another owner's, and is named as
//! such; it is never adopted, changed or deleted.

use std::fmt;

use crate::state::ResourceState;

/// The tag (label, on GCP: `unionctl-lineage`) that names the state a resource was made for.
pub const TAG_LINEAGE: &str = "unionctl.union.ai/lineage";

/// How a provider came to a live resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// State records it, or this run just made it.
    Recorded,
    /// State holds the intent to create it: a killed run may have made it before marking it.
    Intent,
    /// Found by its name or tags alone.
    Found,
}

impl Claim {
    /// The claim state gives to the resource it records as `prior`.
    pub fn of(prior: Option<&ResourceState>) -> Claim {
        match prior {
            Some(p) if p.pending => Claim::Intent,
            Some(_) => Claim::Recorded,
            None => Claim::Found,
        }
    }
}

/// What a live resource says of who made it: its data-plane and lineage marks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Marks<'a> {
    pub data_plane: Option<&'a str>,
    pub lineage: Option<&'a str>,
}

/// Who owns a resource that is not this state's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Another data plane's (its tag names it).
    DataPlane(String),
    /// This data plane's name, made by another state (another profile with the same name,
    /// or this data plane's own state kept elsewhere).
    State { data_plane: String, lineage: String },
    /// This data plane's name, with no lineage mark: made by hand or by an older unionctl.
    Unmarked { data_plane: String },
    /// Not made by unionctl at all.
    Nobody,
}

/// A resource found under one of this data plane's names or tags that this state did not
/// make.
#[derive(Debug, Clone, thiserror::Error)]
pub struct NotOurs {
    /// The resource, as the provider names it (`IAM role acme-prod-cluster`).
    pub what: String,
    pub owner: Owner,
}

impl fmt::Display for NotOurs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.owner {
            Owner::DataPlane(other) => write!(
                f,
                "{} exists and belongs to data plane `{other}`",
                self.what
            ),
            Owner::State {
                data_plane,
                lineage,
            } => write!(
                f,
                "{} belongs to data plane `{data_plane}` of another state (lineage {lineage})",
                self.what
            ),
            Owner::Unmarked { data_plane } => write!(
                f,
                "{} carries data plane `{data_plane}`'s tags but no state's lineage",
                self.what
            ),
            Owner::Nobody => write!(f, "{} exists but was not created by unionctl", self.what),
        }
    }
}

/// Whether this state (`lineage`, of data plane `data_plane`) may take the resource with
/// `marks`, found as `claim` says.
pub fn judge(
    what: &str,
    marks: Marks<'_>,
    data_plane: &str,
    lineage: &str,
    claim: Claim,
) -> Result<(), NotOurs> {
    let not_ours = |owner| {
        Err(NotOurs {
            what: what.to_string(),
            owner,
        })
    };
    match (marks.data_plane, marks.lineage, claim) {
        (Some(other), _, _) if other != data_plane => not_ours(Owner::DataPlane(other.to_string())),
        (_, _, Claim::Recorded) => Ok(()),
        (_, Some(l), _) if l == lineage => Ok(()),
        (dp, Some(l), _) => not_ours(Owner::State {
            data_plane: dp.unwrap_or(data_plane).to_string(),
            lineage: l.to_string(),
        }),
        (_, None, Claim::Intent) => Ok(()),
        (Some(dp), None, Claim::Found) => not_ours(Owner::Unmarked {
            data_plane: dp.to_string(),
        }),
        (None, None, Claim::Found) => not_ours(Owner::Nobody),
    }
}

/// Resources of the account that carry this data plane's names but are not this state's:
/// found before anything changed, all at once.
#[derive(Debug, thiserror::Error)]
pub struct Conflicts {
    pub state: String,
    pub found: Vec<(String, NotOurs)>,
}

impl Conflicts {
    /// The lineage of the other state, when every conflict names the same one.
    pub fn other_lineage(&self) -> Option<&str> {
        let mut lineages = self.found.iter().map(|(_, n)| match &n.owner {
            Owner::State { lineage, .. } => Some(lineage.as_str()),
            _ => None,
        });
        let first = lineages.next()??;
        lineages.all(|l| l == Some(first)).then_some(first)
    }
}

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.found.len();
        let listed = |max: usize| {
            let mut s: Vec<String> = self
                .found
                .iter()
                .take(max)
                .map(|(a, _)| a.clone())
                .collect();
            if n > max {
                s.push(format!("and {} more", n - max));
            }
            s.join(", ")
        };
        match (self.other_lineage(), self.found.first()) {
            (Some(lineage), Some((_, first))) => {
                let data_plane = match &first.owner {
                    Owner::State { data_plane, .. } => data_plane.as_str(),
                    _ => "",
                };
                write!(
                    f,
                    "{n} resources of data plane `{data_plane}` exist already, made by another state (lineage {lineage}), not by this one ({}); nothing was changed: {}",
                    self.state,
                    listed(6)
                )
            }
            _ => {
                write!(f, "{n} resources under this data plane's names exist already and were not made by this state ({}); nothing was changed: ", self.state)?;
                let shown: Vec<String> = self
                    .found
                    .iter()
                    .take(5)
                    .map(|(address, why)| format!("`{address}`: {why}"))
                    .collect();
                write!(f, "{}", shown.join("; "))?;
                if n > 5 {
                    write!(f, "; and {} more", n - 5)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_states_lineage_or_intent_adopts() {
        let marks = |dp, l| Marks {
            data_plane: dp,
            lineage: l,
        };
        let j = |m, c| judge("x", m, "acme", "L1", c).map_err(|e| e.owner);
        assert_eq!(j(marks(Some("acme"), Some("L1")), Claim::Found), Ok(()));
        assert_eq!(
            j(marks(Some("acme"), Some("L2")), Claim::Found),
            Err(Owner::State {
                data_plane: "acme".into(),
                lineage: "L2".into()
            })
        );
        // An intent does not make another state's resource ours.
        assert_eq!(
            j(marks(Some("acme"), Some("L2")), Claim::Intent),
            Err(Owner::State {
                data_plane: "acme".into(),
                lineage: "L2".into()
            })
        );
        // Made and killed before it was marked: the intent proves it.
        assert_eq!(j(marks(None, None), Claim::Intent), Ok(()));
        assert_eq!(
            j(marks(Some("acme"), None), Claim::Found),
            Err(Owner::Unmarked {
                data_plane: "acme".into()
            })
        );
        assert_eq!(j(marks(None, None), Claim::Found), Err(Owner::Nobody));
        assert_eq!(
            j(marks(Some("other"), Some("L1")), Claim::Recorded),
            Err(Owner::DataPlane("other".into()))
        );
        assert_eq!(j(marks(Some("acme"), None), Claim::Recorded), Ok(()));
    }
}

//! Versions as ETags (RFC 7644 §3.14) and `If-Match` / `If-None-Match`.
//!
//! A resource's version is an integer the store bumps on every mutation; it
//! is rendered as the weak ETag `W/"<n>"`, also in `meta.version`. SCIM uses
//! weak ETags with `If-Match`, so matching ignores the `W/` prefix.

use crate::error::ScimError;

/// `W/"<version>"`.
pub fn render(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// Parses one entity tag (`W/"3"` or `"3"`) into the version it names.
/// Tags this server did not issue parse as `None`: they match nothing.
pub fn parse(tag: &str) -> Option<u64> {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

/// A parsed `If-Match` or `If-None-Match` header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `*`: any current version.
    Any,
    /// A list of tags; `None` entries are well-formed tags that name no
    /// version of ours.
    Tags(Vec<Option<u64>>),
}

impl Condition {
    /// Parses a header value: `*` or a comma-separated list of entity tags.
    /// Garbage is 400 `invalidSyntax` naming the header.
    pub fn parse(header_name: &str, value: &str) -> Result<Condition, ScimError> {
        let value = value.trim();
        if value == "*" {
            return Ok(Condition::Any);
        }
        let bad = || {
            ScimError::invalid_syntax(format!(
                "{header_name} must be '*' or a list of entity tags like W/\"3\""
            ))
        };
        let mut tags = Vec::new();
        for part in value.split(',').map(str::trim) {
            let body = part.strip_prefix("W/").unwrap_or(part);
            let well_formed = body.len() >= 2
                && body.starts_with('"')
                && body.ends_with('"')
                && !body[1..body.len() - 1].contains('"');
            if !well_formed {
                return Err(bad());
            }
            tags.push(parse(part));
        }
        if tags.is_empty() {
            return Err(bad());
        }
        Ok(Condition::Tags(tags))
    }

    /// Whether the resource at `version` matches (weak comparison).
    pub fn matches(&self, version: u64) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => tags.contains(&Some(version)),
        }
    }

    /// The single version an `If-Match` names, when it names exactly one:
    /// what a store can check atomically as compare-and-swap.
    pub fn single_version(&self) -> Option<u64> {
        match self {
            Condition::Tags(tags) => match tags.as_slice() {
                [only] => *only,
                _ => None,
            },
            Condition::Any => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_parse_round_trip() {
        assert_eq!(render(7), "W/\"7\"");
        assert_eq!(parse(&render(7)), Some(7));
        assert_eq!(parse("\"7\""), Some(7));
        assert_eq!(parse("W/\"abc\""), None);
        assert_eq!(parse("7"), None);
        assert_eq!(parse("W/\"\""), None);
        assert_eq!(parse("W/\"99999999999999999999999\""), None);
    }

    #[test]
    fn conditions() {
        let c = Condition::parse("If-Match", "W/\"3\", \"4\"").unwrap();
        assert!(c.matches(3) && c.matches(4) && !c.matches(5));
        assert_eq!(c.single_version(), None);
        let c = Condition::parse("If-Match", "W/\"3\"").unwrap();
        assert_eq!(c.single_version(), Some(3));
        assert!(Condition::parse("If-None-Match", "*").unwrap().matches(1));
        let foreign = Condition::parse("If-Match", "\"xyzzy\"").unwrap();
        assert!(!foreign.matches(1));
        for bad in ["", "3", "W/3", "\"a\"b\"", "W/\"1\",", "**"] {
            let e = Condition::parse("If-Match", bad).unwrap_err();
            assert_eq!(e.scim_type, Some(crate::ScimType::InvalidSyntax), "{bad}");
            assert!(e.detail.contains("If-Match"));
        }
    }
}

//! Attribute paths: the `attrPath` rule of RFC 7644 §3.4.2.2 / §3.5.2.
//!
//! `[URI ":"] ATTRNAME *1subAttr`, for example `userName`, `name.givenName`,
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
//! This is syntax only; `ResourceType::resolve` gives it meaning.

use std::fmt;

/// A parsed attribute path. Names keep the case the client wrote; lookups
/// are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path with just an attribute name.
    pub fn name(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    /// A path `name.sub`.
    pub fn sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: Some(sub.into()),
        }
    }

    /// Parses `[urn:]name[.sub]`. The caller has already cut off anything
    /// that is not part of the path. Returns `None` when the text is not an
    /// attribute path.
    pub fn parse(text: &str) -> Option<AttrPath> {
        let (urn, rest) = split_urn(text);
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
            return None;
        }
        if urn.is_some_and(|u| !is_urn(u)) {
            return None;
        }
        Some(AttrPath {
            urn: urn.map(str::to_string),
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }

    /// The full URN-qualified text of a path that may name a whole schema
    /// extension (`urn:...:enterprise:2.0:User` parses as urn `urn:...:2.0`
    /// and name `User`).
    pub fn as_possible_schema_urn(&self) -> Option<String> {
        match (&self.urn, &self.sub) {
            (Some(urn), None) => Some(format!("{urn}:{}", self.name)),
            _ => None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Splits `urn:a:b:name.sub` into (`urn:a:b`, `name.sub`). The URN may
/// contain dots (`2.0`), the attribute part may not contain colons, so the
/// last colon is the boundary.
fn split_urn(text: &str) -> (Option<&str>, &str) {
    if has_urn_prefix(text)
        && let Some(i) = text.rfind(':')
    {
        return (Some(&text[..i]), &text[i + 1..]);
    }
    (None, text)
}

/// Whether `text` starts with `urn:` (any case). Byte-safe on any input.
pub fn has_urn_prefix(text: &str) -> bool {
    text.len() > 4 && text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`,
/// plus `$ref`, which RFC 7643 uses as a sub-attribute name.
pub fn is_attr_name(s: &str) -> bool {
    if s.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_urn(s: &str) -> bool {
    s.len() > 4
        && s.split(':').all(|part| !part.is_empty())
        && s.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '"' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simple_sub_and_urn_paths() {
        assert_eq!(AttrPath::parse("userName"), Some(AttrPath::name("userName")));
        assert_eq!(
            AttrPath::parse("name.givenName"),
            Some(AttrPath::sub("name", "givenName"))
        );
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(p.name, "manager");
        assert_eq!(p.sub.as_deref(), Some("value"));
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
    }

    #[test]
    fn whole_extension_is_a_possible_schema_urn() {
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
        assert_eq!(
            p.as_possible_schema_urn().as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
    }

    #[test]
    fn rejects_non_paths() {
        for bad in ["", "1abc", "a.b.c", "na me", "a.", ".a", "urn::x", "a[b]", "urn:"] {
            assert_eq!(AttrPath::parse(bad), None, "{bad}");
        }
    }
}

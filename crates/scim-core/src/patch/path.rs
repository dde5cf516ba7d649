//! PATCH paths: the `PATH` rule of RFC 7644 §3.5.2 (Figure 7),
//! `PATH = attrPath / valuePath [subAttr]`.
//!
//! Examples: `members`, `name.familyName`, `emails[type eq "work"]`,
//! `emails[type eq "work"].value`, a URN-qualified attribute such as
//! `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, or a
//! whole extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
//! This is syntax only; the engine resolves the names against a resource type.

use crate::error::ScimError;
use crate::filter::{Filter, FilterLimits};
use crate::path::{AttrPath, is_attr_name};

/// A parsed PATCH path.
///
/// `attr` is the attribute (possibly with a sub-attribute when there is no
/// filter, e.g. `name.familyName`); `filter` is the value selection filter of
/// a `valuePath`, whose paths are sub-attribute names; `sub` is the
/// sub-attribute after the closing bracket (`emails[...].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    pub sub: Option<String>,
}

/// Parses a PATCH path. Every malformed path is `invalidPath`; never panics.
pub fn parse_path(text: &str) -> Result<PatchPath, ScimError> {
    // Surrounding blanks are a client formatting slip, not a different path.
    let text = text.trim();
    if text.is_empty() {
        return Err(ScimError::invalid_path("the path is empty"));
    }
    let Some(open) = text.find('[') else {
        if text.contains(']') {
            return Err(ScimError::invalid_path(format!("unbalanced ']' in path '{text}'")));
        }
        let attr = parse_attr(text, text)?;
        return Ok(PatchPath {
            attr,
            filter: None,
            sub: None,
        });
    };
    let head = &text[..open];
    if head.contains(']') {
        return Err(ScimError::invalid_path(format!("unbalanced ']' in path '{text}'")));
    }
    let attr = parse_attr(head, text)?;
    if attr.sub.is_some() {
        return Err(ScimError::invalid_path(format!(
            "in path '{text}', a value filter must follow an attribute, not the sub-attribute '{head}'"
        )));
    }
    let inner_start = open + 1;
    let close = closing_bracket(&text[inner_start..])
        .map(|i| inner_start + i)
        .ok_or_else(|| ScimError::invalid_path(format!("path '{text}' has a '[' without its closing ']'")))?;
    let inner = &text[inner_start..close];
    if inner.trim().is_empty() {
        return Err(ScimError::invalid_path(format!(
            "path '{text}' has an empty value filter"
        )));
    }
    let filter = crate::filter::parse(inner, &FilterLimits::default())
        .map_err(|e| ScimError::invalid_path(format!("invalid value filter in path '{text}': {}", e.detail)))?;
    check_inner(&filter, text)?;
    let rest = &text[close + 1..];
    let sub = if rest.is_empty() {
        None
    } else if let Some(name) = rest.strip_prefix('.') {
        if !is_attr_name(name) {
            return Err(ScimError::invalid_path(format!(
                "'{rest}' after the value filter in path '{text}' is not a sub-attribute name"
            )));
        }
        Some(name.to_string())
    } else {
        return Err(ScimError::invalid_path(format!(
            "unexpected '{rest}' after the value filter in path '{text}'"
        )));
    };
    Ok(PatchPath {
        attr,
        filter: Some(filter),
        sub,
    })
}

fn parse_attr(part: &str, whole: &str) -> Result<AttrPath, ScimError> {
    AttrPath::parse(part).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "'{whole}' is not a valid path: expected attribute[.subAttribute], optionally URN-qualified, \
             or attribute[filter][.subAttribute]"
        ))
    })
}

/// The byte offset of the `]` closing a value filter, skipping quoted
/// strings (which may contain `]` and escaped quotes). `None` if unbalanced.
fn closing_bracket(s: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                ']' => return Some(i),
                _ => {}
            }
        }
    }
    None
}

/// Inside a value filter, paths name sub-attributes of the filtered
/// attribute (RFC 7644 §3.4.2.2 `valFilter`): no URN, no nested filter,
/// no further sub-attribute.
fn check_inner(filter: &Filter, whole: &str) -> Result<(), ScimError> {
    let bare = |p: &AttrPath| -> Result<(), ScimError> {
        if p.urn.is_some() || p.sub.is_some() {
            return Err(ScimError::invalid_path(format!(
                "in path '{whole}', '{p}' is not a sub-attribute name; a value filter names sub-attributes"
            )));
        }
        Ok(())
    };
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            check_inner(a, whole)?;
            check_inner(b, whole)
        }
        Filter::Not(f) => check_inner(f, whole),
        Filter::Present(p) | Filter::Compare(p, _, _) => bare(p),
        Filter::ValuePath(..) => Err(ScimError::invalid_path(format!(
            "path '{whole}' nests a value filter inside a value filter"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use crate::filter::{CompValue, CompareOp};

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn eq(name: &str, v: &str) -> Filter {
        Filter::Compare(AttrPath::name(name), CompareOp::Eq, CompValue::String(v.into()))
    }

    fn plain(attr: AttrPath) -> PatchPath {
        PatchPath {
            attr,
            filter: None,
            sub: None,
        }
    }

    fn urn(urn: &str, name: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: Some(urn.into()),
            name: name.into(),
            sub: sub.map(Into::into),
        }
    }

    fn valued(name: &str, filter: Filter, sub: Option<&str>) -> PatchPath {
        PatchPath {
            attr: AttrPath::name(name),
            filter: Some(filter),
            sub: sub.map(Into::into),
        }
    }

    #[test]
    fn valid_paths_table() {
        let and = |a, b| Filter::And(Box::new(a), Box::new(b));
        let or = |a, b| Filter::Or(Box::new(a), Box::new(b));
        let manager = format!("{ENT}:manager");
        let manager_value = format!("{ENT}:manager.value");
        let core_given = format!("{CORE}:name.givenName");
        let core_emails = format!("{CORE}:emails[type eq \"work\"].value");
        let cases: Vec<(&str, PatchPath)> = vec![
            ("members", plain(AttrPath::name("members"))),
            ("userName", plain(AttrPath::name("userName"))),
            ("name.familyName", plain(AttrPath::sub("name", "familyName"))),
            ("NAME.GIVENNAME", plain(AttrPath::sub("NAME", "GIVENNAME"))),
            ("  nickName ", plain(AttrPath::name("nickName"))),
            ("emails[type eq \"work\"]", valued("emails", eq("type", "work"), None)),
            (
                "emails[type eq \"work\"].value",
                valued("emails", eq("type", "work"), Some("value")),
            ),
            (
                "addresses[type eq \"work\"].streetAddress",
                valued("addresses", eq("type", "work"), Some("streetAddress")),
            ),
            (
                "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]",
                valued("members", eq("value", "2819c223-7f76-453a-919d-413861904646"), None),
            ),
            (
                "members[value eq \"2819c223-7f76-453a-919d-413861904646\"].displayName",
                valued(
                    "members",
                    eq("value", "2819c223-7f76-453a-919d-413861904646"),
                    Some("displayName"),
                ),
            ),
            (
                "emails[type eq \"work\" and value ew \"example.com\"]",
                valued(
                    "emails",
                    and(
                        eq("type", "work"),
                        Filter::Compare(
                            AttrPath::name("value"),
                            CompareOp::Ew,
                            CompValue::String("example.com".into()),
                        ),
                    ),
                    None,
                ),
            ),
            (
                "members[value eq \"a\" or value eq \"b\"]",
                valued("members", or(eq("value", "a"), eq("value", "b")), None),
            ),
            ("emails[value eq \"a]b\"]", valued("emails", eq("value", "a]b"), None)),
            (
                "emails[value eq \"q\\\"]\"].type",
                valued("emails", eq("value", "q\"]"), Some("type")),
            ),
            (
                "emails[primary eq true]",
                valued(
                    "emails",
                    Filter::Compare(AttrPath::name("primary"), CompareOp::Eq, CompValue::Bool(true)),
                    None,
                ),
            ),
            (
                "emails[type pr]",
                valued("emails", Filter::Present(AttrPath::name("type")), None),
            ),
            (&manager, plain(urn(ENT, "manager", None))),
            (&manager_value, plain(urn(ENT, "manager", Some("value")))),
            (
                ENT,
                plain(urn(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0",
                    "User",
                    None,
                )),
            ),
            (&core_given, plain(urn(CORE, "name", Some("givenName")))),
            (
                &core_emails,
                PatchPath {
                    attr: urn(CORE, "emails", None),
                    filter: Some(eq("type", "work")),
                    sub: Some("value".into()),
                },
            ),
            (
                "x509Certificates[value eq \"MIIB\"]",
                valued("x509Certificates", eq("value", "MIIB"), None),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_path(text).unwrap(), want, "path {text}");
        }
    }

    #[test]
    fn invalid_paths_table() {
        let cases = [
            "",
            "   ",
            "a.b.c",
            "1abc",
            "na me",
            "emails[",
            "emails]",
            "emails[type eq \"work\"",
            "emails[type eq \"work]",
            "emails[]",
            "emails[   ]",
            "emails[type eq]",
            "emails[type eq \"work\"]x",
            "emails[type eq \"work\"]..value",
            "emails[type eq \"work\"].value.x",
            "emails[type eq \"work\"].",
            "emails[type eq \"work\"][value eq \"x\"]",
            "name.givenName[value eq \"x\"]",
            "name.givenName.x",
            "emails[urn:a:b:type eq \"work\"]",
            "emails[emails.type eq \"work\"]",
            "emails[type[value eq \"x\"]]",
            "]emails[",
            "urn:",
            "urn::x",
            ".value",
            "emails.",
            "emails[type eq \"work\"].1value",
        ];
        for text in cases {
            let err = parse_path(text).unwrap_err();
            assert_eq!(err.scim_type, Some(ScimType::InvalidPath), "path {text:?}: {err}");
            assert_eq!(err.status, 400);
            assert!(!err.detail.is_empty());
        }
    }
}

//! `attributes` and `excludedAttributes` (RFC 7644 §3.9) with the `returned`
//! characteristic (RFC 7643 §2.2):
//! - `always` (`id`, and `schemas`, which is not an attribute but is always
//!   sent) survives every projection;
//! - `never` (`password`) is never returned;
//! - `default` is returned unless `attributes` leaves it out or
//!   `excludedAttributes` names it;
//! - `request` is returned only when `attributes` names it.
//!
//! Unknown names in either list are ignored: a client asking for an
//! attribute this server does not have simply does not get it.

use crate::error::ScimError;
use crate::path::AttrPath;
use crate::schema::{AttributeDef, Container, Resolved, ResourceType, Returned, Schema};
use serde_json::{Map, Value};

/// A parsed pair of `attributes` / `excludedAttributes` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// One list entry resolved against a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target<'a> {
    /// A whole extension object, by canonical URN.
    Extension(&'a str),
    /// An attribute (and perhaps one sub-attribute), by canonical names.
    Attr {
        container: Option<&'a str>,
        name: &'a str,
        sub: Option<&'a str>,
    },
}

impl Projection {
    /// Parses the comma-separated query parameters (or the arrays of a
    /// SearchRequest joined by commas). A malformed name is 400
    /// `invalidValue`.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> Result<Projection, ScimError> {
        Ok(Projection {
            attributes: parse_list(attributes)?,
            excluded: parse_list(excluded)?,
        })
    }

    /// Builds a projection from lists as they appear in a SearchRequest body.
    pub fn from_lists(attributes: &[String], excluded: &[String]) -> Result<Projection, ScimError> {
        Projection::parse(Some(&attributes.join(",")), Some(&excluded.join(",")))
    }

    pub fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Whether the response will contain `name` (a top-level attribute of the
    /// core schema or a common attribute). Stores use it to skip loading
    /// large derived values, such as a group's members, that would be
    /// projected away.
    pub fn includes(&self, rt: &ResourceType, name: &str) -> bool {
        let Some(def) = rt.common().attribute(name).or_else(|| rt.core.attribute(name)) else {
            return false;
        };
        let targets = self.targets(rt);
        self.keep_attr(&targets, None, def)
    }

    /// Returns the projected copy of `doc`, a resource of type `rt`.
    pub fn apply(&self, rt: &ResourceType, doc: &Value) -> Value {
        self.apply_owned(rt, doc.clone())
    }

    /// `apply` to a document the caller no longer needs: what is kept is
    /// moved, not copied, so rendering a page of resources copies none of
    /// their values. One implementation serves both, so they cannot differ.
    pub fn apply_owned(&self, rt: &ResourceType, doc: Value) -> Value {
        let Value::Object(mut obj) = doc else { return doc };
        let targets = self.targets(rt);
        // What each member is, looked up once. When every name is already
        // spelled canonically (as in every stored resource), the document's
        // own map is filtered in place: no key is copied or hashed again.
        let members: Vec<Member<'_>> = obj.keys().map(|key| Member::of(rt, key)).collect();
        if members.iter().all(|m| m.canonical) {
            let mut members = members.into_iter();
            obj.retain(|_, value| {
                let Some(member) = members.next() else { return false };
                match self.project_member(&targets, member.what, std::mem::take(value)) {
                    Some(kept) => {
                        *value = kept;
                        true
                    }
                    None => false,
                }
            });
            return Value::Object(obj);
        }
        let mut out = Map::new();
        for ((_, value), member) in obj.into_iter().zip(members) {
            let name = match member.what {
                What::Schemas => "schemas".to_string(),
                What::Extension(ext) => ext.id.clone(),
                What::Attr(def) => def.name.clone(),
                What::Unknown => continue,
            };
            if let Some(kept) = self.project_member(&targets, member.what, value) {
                out.insert(name, kept);
            }
        }
        Value::Object(out)
    }

    /// The projected value of one top-level member, or `None` to leave it
    /// out.
    fn project_member(
        &self,
        targets: &(Vec<Target<'_>>, Vec<Target<'_>>),
        what: What<'_>,
        value: Value,
    ) -> Option<Value> {
        match what {
            What::Schemas => Some(value),
            What::Unknown => None,
            What::Attr(def) => self.project_attr(targets, None, def, value),
            What::Extension(ext) => {
                let Value::Object(attrs) = value else { return None };
                let mut ext_out = Map::new();
                for (name, v) in attrs {
                    let Some(def) = ext.attribute(&name) else { continue };
                    if let Some(pv) = self.project_attr(targets, Some(&ext.id), def, v) {
                        ext_out.insert(def.name.clone(), pv);
                    }
                }
                (!ext_out.is_empty()).then_some(Value::Object(ext_out))
            }
        }
    }

    fn targets<'a>(&self, rt: &'a ResourceType) -> (Vec<Target<'a>>, Vec<Target<'a>>) {
        let resolve = |list: &[AttrPath]| -> Vec<Target<'a>> {
            list.iter()
                .filter_map(|p| match rt.resolve(p)? {
                    Resolved::Extension(s) => Some(Target::Extension(&s.id)),
                    Resolved::Attr(a) => Some(Target::Attr {
                        container: match a.container {
                            Container::Top => None,
                            Container::Extension(urn) => Some(urn),
                        },
                        name: &a.attr.name,
                        sub: a.sub.map(|s| s.name.as_str()),
                    }),
                })
                .collect()
        };
        (resolve(&self.attributes), resolve(&self.excluded))
    }

    fn keep_attr(
        &self,
        targets: &(Vec<Target<'_>>, Vec<Target<'_>>),
        container: Option<&str>,
        def: &AttributeDef,
    ) -> bool {
        let (attrs, excluded) = targets;
        let named_in = |list: &[Target<'_>], whole_only: bool| {
            list.iter().any(|t| match *t {
                Target::Extension(urn) => container == Some(urn),
                Target::Attr {
                    container: c,
                    name,
                    sub,
                } => c == container && name == def.name && (!whole_only || sub.is_none()),
            })
        };
        match def.returned {
            Returned::Always => true,
            Returned::Never => false,
            Returned::Request => named_in(attrs, false),
            Returned::Default if !self.attributes.is_empty() => named_in(attrs, false),
            Returned::Default => !named_in(excluded, true),
        }
    }

    /// The projected value of one attribute, or `None` to leave it out.
    fn project_attr(
        &self,
        targets: &(Vec<Target<'_>>, Vec<Target<'_>>),
        container: Option<&str>,
        def: &AttributeDef,
        value: Value,
    ) -> Option<Value> {
        if !self.keep_attr(targets, container, def) {
            return None;
        }
        if !def.is_complex() || def.returned == Returned::Always {
            return Some(value);
        }
        // Sub-attributes named for this attribute, in either list.
        let subs = |list: &[Target<'_>]| -> Vec<String> {
            list.iter()
                .filter_map(|t| match *t {
                    Target::Attr {
                        container: c,
                        name,
                        sub: Some(s),
                    } if c == container && name == def.name => Some(s.to_string()),
                    _ => None,
                })
                .collect()
        };
        let wanted = subs(&targets.0);
        let whole_wanted = targets.0.iter().any(|t| match *t {
            Target::Extension(urn) => container == Some(urn),
            Target::Attr {
                container: c,
                name,
                sub,
            } => c == container && name == def.name && sub.is_none(),
        });
        let unwanted = subs(&targets.1);
        let keep_sub = |sub: &AttributeDef| -> bool {
            let named = wanted.iter().any(|w| w == &sub.name);
            match sub.returned {
                Returned::Always => true,
                Returned::Never => false,
                Returned::Request => named,
                Returned::Default => {
                    (named || whole_wanted || self.attributes.is_empty()) && !unwanted.iter().any(|u| u == &sub.name)
                }
            }
        };
        let project_one = |v: Value| -> Option<Value> {
            let Value::Object(obj) = v else { return None };
            let kept: Map<String, Value> = obj
                .into_iter()
                .filter(|(k, _)| def.sub_attribute(k).is_some_and(&keep_sub))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        // A value whose every sub-attribute is kept is returned as it is,
        // without rebuilding it: the same result as `project_one`, and what
        // every value of a stored resource is under the default projection.
        let kept_whole = |v: &Value| match v {
            Value::Object(obj) => !obj.is_empty() && obj.keys().all(|k| def.sub_attribute(k).is_some_and(&keep_sub)),
            _ => false,
        };
        let unchanged = match &value {
            Value::Array(items) => !items.is_empty() && items.iter().all(kept_whole),
            other => kept_whole(other),
        };
        if unchanged {
            return Some(value);
        }
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items.into_iter().filter_map(project_one).collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => project_one(other),
        }
    }
}

/// What a top-level member of a resource is.
#[derive(Clone, Copy)]
enum What<'a> {
    Schemas,
    Extension(&'a Schema),
    Attr(&'a AttributeDef),
    /// Not in the resource type: never returned.
    Unknown,
}

/// A top-level member: what it is, and whether its name is spelled as the
/// schema spells it.
struct Member<'a> {
    what: What<'a>,
    canonical: bool,
}

impl<'a> Member<'a> {
    fn of(rt: &'a ResourceType, key: &str) -> Member<'a> {
        if key == "schemas" {
            return Member {
                what: What::Schemas,
                canonical: true,
            };
        }
        if let Some(ext) = rt.extension(key) {
            return Member {
                what: What::Extension(ext),
                canonical: ext.id == key,
            };
        }
        match rt.common().attribute(key).or_else(|| rt.core.attribute(key)) {
            Some(def) => Member {
                what: What::Attr(def),
                canonical: def.name == key,
            },
            None => Member {
                what: What::Unknown,
                canonical: true,
            },
        }
    }
}

fn parse_list(text: Option<&str>) -> Result<Vec<AttrPath>, ScimError> {
    let Some(text) = text else { return Ok(Vec::new()) };
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            AttrPath::parse(s).ok_or_else(|| ScimError::invalid_value(format!("'{s}' is not a valid attribute name")))
        })
        .collect()
}

mod text;
pub use text::{Members, UnchangedByDefault, Verdict, needs_escape};

#[cfg(test)]
mod tests;

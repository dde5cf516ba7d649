//! Random filters and sorts over the attributes of the data set. Operands
//! are mostly taken from the data (and then re-cased, cut into substrings,
//! shifted, or re-written in another offset) so that filters do match
//! something; the rest are random, so that they also miss.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test suite: a failed step must fail the test"
)]

use super::super::EXTENSION_URN;
use super::data::{DataSet, Rng, random_time, render_time};
use crate::Kind;
use scim_core::filter::{CompValue, CompareOp, Filter};
use scim_core::path::AttrPath;
use scim_core::schema::{ENTERPRISE_USER_URN, USER_URN};
use serde_json::Value;
use std::collections::HashMap;

/// The kind of values an attribute holds, which decides the operators and
/// operands generated for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// Case-insensitive string.
    Text,
    /// caseExact string.
    Exact,
    Int,
    Dec,
    Time,
    Bool,
    Binary,
    /// A complex attribute without a `value`: only `pr` applies.
    Complex,
}

/// One filterable attribute: its canonical path, its type, the URN it may be
/// qualified with, and (for complex ones) the sub-attributes a value path
/// may test.
pub(crate) struct Attr {
    pub path: &'static str,
    pub ty: Ty,
    pub urn: Option<&'static str>,
    pub subs: &'static [(&'static str, Ty)],
}

const fn a(path: &'static str, ty: Ty, urn: Option<&'static str>) -> Attr {
    Attr {
        path,
        ty,
        urn,
        subs: &[],
    }
}

const EMAIL_SUBS: &[(&str, Ty)] = &[
    ("value", Ty::Text),
    ("type", Ty::Text),
    ("primary", Ty::Bool),
    ("display", Ty::Text),
];
const PHONE_SUBS: &[(&str, Ty)] = &[("value", Ty::Text), ("type", Ty::Text)];
const NAME_SUBS: &[(&str, Ty)] = &[("givenName", Ty::Text), ("familyName", Ty::Text)];
const MANAGER_SUBS: &[(&str, Ty)] = &[("value", Ty::Text)];
const MEMBER_SUBS: &[(&str, Ty)] = &[("value", Ty::Text), ("type", Ty::Text)];
const CORE: Option<&str> = Some(USER_URN);
const ENT: Option<&str> = Some(ENTERPRISE_USER_URN);
const EXT: Option<&str> = Some(EXTENSION_URN);

pub(crate) const USER_ATTRS: &[Attr] = &[
    a("userName", Ty::Text, CORE),
    a("displayName", Ty::Text, CORE),
    a("nickName", Ty::Text, None),
    a("title", Ty::Text, CORE),
    a("externalId", Ty::Exact, None),
    a("id", Ty::Exact, None),
    a("active", Ty::Bool, CORE),
    a("name.givenName", Ty::Text, CORE),
    a("name.familyName", Ty::Text, None),
    Attr {
        path: "name",
        ty: Ty::Complex,
        urn: None,
        subs: NAME_SUBS,
    },
    Attr {
        path: "emails",
        ty: Ty::Text,
        urn: CORE,
        subs: EMAIL_SUBS,
    },
    a("emails.value", Ty::Text, None),
    a("emails.type", Ty::Text, None),
    a("emails.primary", Ty::Bool, None),
    Attr {
        path: "phoneNumbers",
        ty: Ty::Text,
        urn: None,
        subs: PHONE_SUBS,
    },
    a("phoneNumbers.type", Ty::Text, None),
    a("addresses", Ty::Complex, None),
    a("employeeNumber", Ty::Text, ENT),
    a("department", Ty::Text, ENT),
    Attr {
        path: "manager",
        ty: Ty::Text,
        urn: ENT,
        subs: MANAGER_SUBS,
    },
    a("manager.value", Ty::Text, ENT),
    a("level", Ty::Int, EXT),
    a("score", Ty::Dec, EXT),
    a("hiredAt", Ty::Time, EXT),
    a("remote", Ty::Bool, EXT),
    a("badge", Ty::Binary, EXT),
    a("site", Ty::Exact, EXT),
    a("nickCode", Ty::Text, EXT),
    a("tags", Ty::Text, EXT),
    a("meta.created", Ty::Time, None),
    a("meta.lastModified", Ty::Time, None),
    a("meta.resourceType", Ty::Exact, None),
    a("meta.version", Ty::Exact, None),
];

pub(crate) const GROUP_ATTRS: &[Attr] = &[
    a("displayName", Ty::Text, Some(scim_core::schema::GROUP_URN)),
    a("externalId", Ty::Exact, None),
    a("id", Ty::Exact, None),
    Attr {
        path: "members",
        ty: Ty::Text,
        urn: None,
        subs: MEMBER_SUBS,
    },
    a("members.value", Ty::Text, None),
    a("members.type", Ty::Text, None),
    a("meta.created", Ty::Time, None),
    a("meta.lastModified", Ty::Time, None),
    a("meta.version", Ty::Exact, None),
];

pub(crate) fn attrs(kind: Kind) -> &'static [Attr] {
    match kind {
        Kind::User => USER_ATTRS,
        Kind::Group => GROUP_ATTRS,
    }
}

/// Every value each attribute path has in the data set, as operand material.
pub(crate) struct Pools(HashMap<String, Vec<Value>>);

impl Pools {
    pub fn new(data: &DataSet) -> Pools {
        let mut map: HashMap<String, Vec<Value>> = HashMap::new();
        for kind in [Kind::User, Kind::Group] {
            for attr in attrs(kind) {
                let (name, sub) = split(attr.path);
                let subs: Vec<Option<&str>> = if attr.subs.is_empty() {
                    vec![sub.or((attr.ty != Ty::Complex && is_complex(name)).then_some("value"))]
                } else {
                    attr.subs.iter().map(|(s, _)| Some(*s)).collect()
                };
                for s in subs {
                    let key = pool_key(kind, name, s);
                    let values = map.entry(key).or_default();
                    for (_, doc) in data.resources(kind) {
                        values.extend(leaf_values(doc, attr.urn, name, s));
                    }
                }
            }
        }
        Pools(map)
    }

    fn get(&self, kind: Kind, name: &str, sub: Option<&str>) -> &[Value] {
        self.0.get(&pool_key(kind, name, sub)).map_or(&[], Vec::as_slice)
    }
}

fn pool_key(kind: Kind, name: &str, sub: Option<&str>) -> String {
    format!("{kind:?}:{name}.{}", sub.unwrap_or(""))
}

fn is_complex(name: &str) -> bool {
    matches!(name, "emails" | "phoneNumbers" | "manager" | "members" | "name")
}

fn split(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (path, None),
    }
}

/// The values at `name[.sub]` in a rendered resource (extension attributes
/// under their URN, core ones at the top), arrays flattened.
fn leaf_values(doc: &Value, urn: Option<&str>, name: &str, sub: Option<&str>) -> Vec<Value> {
    let holder = match urn {
        Some(u) if u != USER_URN && u != scim_core::schema::GROUP_URN => doc.get(u),
        _ => Some(doc),
    };
    let Some(v) = holder.and_then(|h| h.get(name)) else {
        return Vec::new();
    };
    let elements: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for e in elements {
        match sub {
            None => out.push(e.clone()),
            Some(s) => match e.get(s) {
                Some(Value::Array(items)) => out.extend(items.iter().cloned()),
                Some(x) => out.push(x.clone()),
                None => {}
            },
        }
    }
    out
}

const FRAGMENTS: &[&str] = &[
    "a", "E", "ç", "Ä", "zz", "-", "@", "example", ".", "1", "ß", "SS", "İ", "i\u{307}", "%", "_", "'", "lab", "QU",
];
const ALL_OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

fn ops_for(ty: Ty) -> &'static [CompareOp] {
    match ty {
        Ty::Text | Ty::Exact | Ty::Time => ALL_OPS,
        Ty::Binary => &[
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
        ],
        Ty::Int | Ty::Dec => &[
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ],
        Ty::Bool => &[CompareOp::Eq, CompareOp::Ne],
        Ty::Complex => &[],
    }
}

/// Generates filters for one resource kind.
pub(crate) struct Gen<'a> {
    pub rng: Rng,
    pub pools: &'a Pools,
}

impl Gen<'_> {
    /// A random filter at most `depth` levels of and/or/not/value paths deep.
    pub fn filter(&mut self, kind: Kind, depth: usize) -> Filter {
        if depth == 0 || self.rng.chance(40) {
            return self.leaf(kind);
        }
        match self.rng.below(100) {
            0..=29 => Filter::And(
                Box::new(self.filter(kind, depth - 1)),
                Box::new(self.filter(kind, depth - 1)),
            ),
            30..=59 => Filter::Or(
                Box::new(self.filter(kind, depth - 1)),
                Box::new(self.filter(kind, depth - 1)),
            ),
            60..=74 => Filter::Not(Box::new(self.filter(kind, depth - 1))),
            75..=89 => self.value_path(kind),
            _ => self.leaf(kind),
        }
    }

    fn path(&mut self, attr: &Attr) -> AttrPath {
        let mut text = attr.path.to_string();
        if let Some(urn) = attr.urn
            && self.rng.chance(25)
        {
            text = format!("{urn}:{text}");
        }
        // Attribute names are case-insensitive: scramble now and then (ASCII
        // only, as names are ASCII).
        if self.rng.chance(10) {
            let (prefix, last) = match text.rfind(':') {
                Some(i) => text.split_at(i + 1),
                None => ("", text.as_str()),
            };
            let scrambled: String = last
                .chars()
                .map(|c| {
                    if self.rng.chance(50) {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            text = format!("{prefix}{scrambled}");
        }
        AttrPath::parse(&text).unwrap_or_else(|| panic!("generator bug: bad path {text}"))
    }

    fn leaf(&mut self, kind: Kind) -> Filter {
        let attr = self.rng.pick(attrs(kind));
        let path = self.path(attr);
        let (name, sub) = split(attr.path);
        let sub = sub.or((attr.ty != Ty::Complex && is_complex(name)).then_some("value"));
        let pool = self.pools.get(kind, name, sub);
        self.leaf_on(path, attr.ty, pool)
    }

    fn leaf_on(&mut self, path: AttrPath, ty: Ty, pool: &[Value]) -> Filter {
        if ty == Ty::Complex || self.rng.chance(12) {
            return Filter::Present(path);
        }
        // Now and then an operator the type does not define: `check` must
        // reject it, and the case skips it.
        let op = if self.rng.chance(3) {
            *self.rng.pick(ALL_OPS)
        } else {
            *self.rng.pick(ops_for(ty))
        };
        let value = self.operand(ty, op, pool);
        Filter::Compare(path, op, value)
    }

    fn value_path(&mut self, kind: Kind) -> Filter {
        let complex: Vec<&Attr> = attrs(kind).iter().filter(|a| !a.subs.is_empty()).collect();
        let attr = *self.rng.pick(&complex);
        let path = self.path(attr);
        let path = AttrPath { sub: None, ..path };
        let inner = self.inner(kind, attr, 2);
        Filter::ValuePath(path, Box::new(inner))
    }

    fn inner(&mut self, kind: Kind, attr: &Attr, depth: usize) -> Filter {
        if depth == 0 || self.rng.chance(50) {
            let (sub, ty) = *self.rng.pick(attr.subs);
            let pool = self.pools.get(kind, attr.path, Some(sub));
            let name = if self.rng.chance(10) {
                sub.to_ascii_uppercase()
            } else {
                sub.to_string()
            };
            return self.leaf_on(AttrPath::name(name), ty, pool);
        }
        match self.rng.below(3) {
            0 => Filter::And(
                Box::new(self.inner(kind, attr, depth - 1)),
                Box::new(self.inner(kind, attr, depth - 1)),
            ),
            1 => Filter::Or(
                Box::new(self.inner(kind, attr, depth - 1)),
                Box::new(self.inner(kind, attr, depth - 1)),
            ),
            _ => Filter::Not(Box::new(self.inner(kind, attr, depth - 1))),
        }
    }

    fn operand(&mut self, ty: Ty, op: CompareOp, pool: &[Value]) -> CompValue {
        if matches!(op, CompareOp::Eq | CompareOp::Ne) && self.rng.chance(4) {
            return CompValue::Null;
        }
        let from_pool = if !pool.is_empty() && self.rng.chance(70) {
            Some(self.rng.pick(pool).clone())
        } else {
            None
        };
        match ty {
            Ty::Text | Ty::Exact | Ty::Binary | Ty::Complex => {
                let base = match from_pool {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => self.rng.pick(FRAGMENTS).to_string(),
                };
                let cut = self.cut(&base, op);
                let recase = if ty == Ty::Text { 40 } else { 15 };
                CompValue::String(if self.rng.chance(recase) {
                    self.rng.scramble_case(&cut)
                } else {
                    cut
                })
            }
            Ty::Int | Ty::Dec => {
                let n = from_pool.and_then(|v| v.as_f64()).filter(|_| self.rng.chance(80));
                let value = match (n, ty) {
                    (Some(_), _) if self.rng.chance(60) => from_pool_number(pool, &mut self.rng),
                    (Some(x), Ty::Int) => serde_json::Value::from(x as i64 + self.rng.below(3) as i64 - 1),
                    (Some(x), _) => serde_json::Value::from(x + (self.rng.below(5) as f64 - 2.0) / 4.0),
                    (None, _) if self.rng.chance(15) => serde_json::Value::from(self.rng.below(40) as f64 / 4.0 - 5.0),
                    (None, _) => serde_json::Value::from(self.rng.below(60) as i64 - 20),
                };
                match value {
                    Value::Number(n) => CompValue::Number(n),
                    _ => CompValue::Number(serde_json::Number::from(0)),
                }
            }
            Ty::Time => {
                let text = match from_pool {
                    Some(Value::String(s)) => s,
                    _ => random_time(&mut self.rng),
                };
                // `check` wants a dateTime operand for every operator, so
                // substring operators get the whole text (or the same
                // instant spelled otherwise): they compare text, not instants.
                // The same instant (or one a moment away) in another offset.
                match chrono::DateTime::parse_from_rfc3339(&text) {
                    Ok(t) if self.rng.chance(70) => {
                        let shift = *self.rng.pick(&[0_i64, 0, 0, 1, -1, 1_000, -1_000, 3_600_000]);
                        let t = t + chrono::Duration::milliseconds(shift);
                        CompValue::String(render_time(&mut self.rng, t.timestamp(), t.timestamp_subsec_nanos()))
                    }
                    _ => CompValue::String(text),
                }
            }
            Ty::Bool => {
                let b = self.rng.chance(50);
                if self.rng.chance(20) {
                    CompValue::String(if b { "True".into() } else { "FALSE".into() })
                } else {
                    CompValue::Bool(b)
                }
            }
        }
    }

    /// The part of `s` a substring operator looks for: a random substring,
    /// prefix or suffix (by characters); `s` itself for other operators.
    fn cut(&mut self, s: &str, op: CompareOp) -> String {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return String::new();
        }
        let len = 1 + self.rng.below(chars.len().min(6));
        let start = match op {
            CompareOp::Sw => 0,
            CompareOp::Ew => chars.len() - len,
            CompareOp::Co => self.rng.below(chars.len() - len + 1),
            _ => return s.to_string(),
        };
        chars[start..start + len].iter().collect()
    }
}

fn from_pool_number(pool: &[Value], rng: &mut Rng) -> Value {
    let numbers: Vec<&Value> = pool.iter().filter(|v| v.is_number()).collect();
    if numbers.is_empty() {
        Value::from(0)
    } else {
        (*rng.pick(&numbers)).clone()
    }
}

/// Attributes sorts are generated over.
pub(crate) fn sortable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::User => &[
            "userName",
            "displayName",
            "nickName",
            "title",
            "externalId",
            "id",
            "active",
            "name.givenName",
            "name.familyName",
            "emails",
            "emails.value",
            "emails.type",
            "phoneNumbers",
            "employeeNumber",
            "department",
            "manager",
            "level",
            "score",
            "hiredAt",
            "remote",
            "badge",
            "site",
            "nickCode",
            "tags",
            "meta.created",
            "meta.lastModified",
        ],
        Kind::Group => &[
            "displayName",
            "externalId",
            "id",
            "members",
            "members.value",
            "meta.created",
            "meta.lastModified",
        ],
    }
}

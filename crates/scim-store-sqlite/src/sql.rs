//! Filters to SQL: a `WHERE` expression over `resources r` with every value
//! bound as a parameter (values never reach the SQL text; JSON paths are
//! bound too, built only from schema-resolved canonical names).
//!
//! The translation mirrors `scim_core::filter::matches` rule by rule:
//! - values come from the document with `json_each`/`json_extract`, arrays
//!   flattened one level as the evaluator does (`CASE json_type(..) WHEN
//!   'array'`), every comparison guarded by the JSON type of the value;
//! - `id`, `meta.*` come from columns, group `members` from the membership
//!   table (the filter sees a group with its members, as the contract says);
//! - a complex attribute without a sub-attribute compares its `value`;
//! - `ne` is `NOT (any value eq)`, so a missing attribute matches it; `eq
//!   null` / `ne null` / `pr` test presence with the evaluator's idea of an
//!   empty value (null, "", [], {} or an object of such);
//! - strings fold with `scim_fold` (Rust `to_lowercase`) unless caseExact,
//!   dateTimes compare as instants with `scim_time` (as text when a stored
//!   value is not RFC 3339), numbers as integers when both sides are,
//!   booleans accept "true"/"false" strings in any case;
//! - a comparison `scim_core::filter::check` would reject is false.
//!
//! Every leaf yields 0 or 1, never NULL, so `NOT` is exact. The filters
//! identity providers send (`eq` on userName, externalId, displayName, id,
//! emails value) also get an indexed term, ANDed with the exact one.
//! A leaf that cannot be written safely (a schema URN with a quote in it)
//! makes its conjunct untranslatable: see [`Translation::Partial`].

use crate::functions::{parse_time, time_key};
use rusqlite::types::Value as SqlValue;
use scim_core::filter::{CompValue, CompareOp, Filter, check};
use scim_core::path::AttrPath;
use scim_core::schema::{AttrRef, AttrType, AttributeDef, Container, ResourceType};
use scim_store::Kind;

/// Bound parameters, referenced as `?N` so one value can be used twice.
#[derive(Debug, Default)]
pub(crate) struct Params {
    values: Vec<SqlValue>,
}

impl Params {
    pub(crate) fn bind(&mut self, v: impl Into<SqlValue>) -> String {
        self.values.push(v.into());
        format!("?{}", self.values.len())
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
    }

    pub(crate) fn values(&self) -> &[SqlValue] {
        &self.values
    }
}

/// What became of a filter.
#[derive(Debug, PartialEq)]
pub(crate) enum Translation {
    /// SQL that holds exactly for the matching rows.
    Exact(String),
    /// Some top-level conjuncts did not translate: the SQL of the others
    /// (if any) selects a superset, to be checked with the evaluator.
    Partial(Option<String>),
}

/// Translates `filter` for rows of `kind`; `tenant` is the placeholder of
/// the tenant parameter already bound.
pub(crate) fn translate(
    filter: &Filter,
    rt: &ResourceType,
    kind: Kind,
    tenant: &str,
    params: &mut Params,
) -> Translation {
    let mut t = Translator {
        rt,
        kind,
        tenant: tenant.to_string(),
        params,
        aliases: 0,
    };
    let mut conjuncts = Vec::new();
    and_chain(filter, &mut conjuncts);
    let mut parts = Vec::new();
    let mut exact = true;
    for c in conjuncts {
        let mark = t.params.len();
        match t.expr(c) {
            Some(sql) => parts.push(sql),
            None => {
                // Drop what the failed conjunct bound: every bound
                // parameter must appear in the statement.
                t.params.truncate(mark);
                exact = false;
            }
        }
    }
    let sql = (!parts.is_empty()).then(|| parts.join(" AND "));
    match (exact, sql) {
        (true, Some(sql)) => Translation::Exact(sql),
        (true, None) => Translation::Exact("1".into()),
        (false, sql) => Translation::Partial(sql),
    }
}

fn and_chain<'f>(f: &'f Filter, out: &mut Vec<&'f Filter>) {
    match f {
        Filter::And(a, b) => {
            and_chain(a, out);
            and_chain(b, out);
        }
        other => out.push(other),
    }
}

/// A JSON path component: `."name"`. `None` for names SQLite's path syntax
/// cannot quote (attribute names never need it; custom URNs might).
pub(crate) fn quote_key(name: &str) -> Option<String> {
    let safe = !name.is_empty() && !name.chars().any(|c| c == '"' || c == '\\' || c.is_control());
    safe.then(|| format!(".\"{name}\""))
}

/// The JSON path of an attribute in the document.
pub(crate) fn attr_path(container: Container<'_>, name: &str) -> Option<String> {
    let mut path = String::from("$");
    if let Container::Extension(urn) = container {
        path.push_str(&quote_key(urn)?);
    }
    path.push_str(&quote_key(name)?);
    Some(path)
}

/// Whether `r` is one of the common attributes (`id`, `externalId`, `meta`).
pub(crate) fn is_common(rt: &ResourceType, r: &AttrRef<'_>) -> bool {
    r.container == Container::Top
        && rt
            .common()
            .attribute(&r.attr.name)
            .is_some_and(|c| std::ptr::eq(c, r.attr))
}

/// The SQL of a `meta` sub-attribute, as `to_resource` renders it.
pub(crate) fn meta_column(sub: &str) -> Option<&'static str> {
    match sub {
        "created" => Some("r.created"),
        "lastModified" => Some("r.modified"),
        "resourceType" => Some("r.kind"),
        "version" => Some("('W/\"' || r.version || '\"')"),
        _ => None,
    }
}

/// Where the values of a path come from.
enum Src {
    /// The JSON at `path` (an SQL expression giving a path into `r.doc`),
    /// then each of `subs` (bound `."name"` suffixes), arrays flattened.
    Json { path: String, subs: Vec<String> },
    /// One text value that is never NULL.
    Text(String),
    /// The group's membership rows: the elements (`None`), or one column.
    Members(Option<&'static str>),
    /// The `meta` object.
    Meta,
    /// Never present.
    Nothing,
}

/// One value: its JSON type (`None`: known to be text), its SQL value, and
/// for values inside the document, the path to it.
struct Val {
    t: Option<String>,
    v: String,
    k: String,
    /// Known to be lower case already (resource ids: the store writes them
    /// as lower-case UUIDs), so folding is the identity and a plain `=` can
    /// use the membership index.
    folded: bool,
}

/// Where a value filter's inner paths look.
enum Element {
    Json(String),
    Members(String),
    Meta,
}

type Pred<'p, 'a> = &'p mut dyn FnMut(&mut Translator<'a>, &Val) -> Option<String>;

struct Translator<'a> {
    rt: &'a ResourceType,
    kind: Kind,
    tenant: String,
    params: &'a mut Params,
    aliases: usize,
}

impl<'a> Translator<'a> {
    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    fn bind(&mut self, v: impl Into<SqlValue>) -> String {
        self.params.bind(v)
    }

    fn expr(&mut self, f: &Filter) -> Option<String> {
        Some(match f {
            Filter::And(a, b) => format!("({} AND {})", self.expr(a)?, self.expr(b)?),
            Filter::Or(a, b) => format!("({} OR {})", self.expr(a)?, self.expr(b)?),
            Filter::Not(inner) => format!("(NOT {})", self.expr(inner)?),
            Filter::Present(path) => match self.rt.resolve_attr(path) {
                Some(r) => {
                    let src = self.lookup(&r)?;
                    self.present(src)
                }
                None => "0".into(),
            },
            Filter::Compare(path, op, value) => self.compare(f, path, *op, value)?,
            Filter::ValuePath(path, inner) => self.value_path(path, inner)?,
        })
    }

    /// The values of a resolved path at the resource's top level.
    fn lookup(&mut self, r: &AttrRef<'_>) -> Option<Src> {
        if is_common(self.rt, r) {
            match r.attr.name.as_str() {
                "id" => {
                    return Some(if r.sub.is_none() {
                        Src::Text("r.id".into())
                    } else {
                        Src::Nothing
                    });
                }
                "meta" => {
                    return Some(match r.sub {
                        None => Src::Meta,
                        Some(s) => meta_column(&s.name).map_or(Src::Nothing, |c| Src::Text(c.into())),
                    });
                }
                _ => {}
            }
        }
        if self.kind == Kind::Group && r.container == Container::Top && r.attr.name == "members" {
            return Some(match r.sub {
                None => Src::Members(None),
                Some(s) => member_column(&s.name).map_or(Src::Nothing, |c| Src::Members(Some(c))),
            });
        }
        let path = attr_path(r.container, &r.attr.name)?;
        let path = self.bind(path);
        let subs = match r.sub {
            Some(s) => vec![self.bind(quote_key(&s.name)?)],
            None => Vec::new(),
        };
        Some(Src::Json { path, subs })
    }

    /// The `value` sub-attribute of each value of `src`.
    fn value_of(&mut self, src: Src, value: &AttributeDef) -> Option<Src> {
        Some(match src {
            Src::Json { path, mut subs } => {
                subs.push(self.bind(quote_key(&value.name)?));
                Src::Json { path, subs }
            }
            Src::Members(None) => member_column(&value.name).map_or(Src::Nothing, |c| Src::Members(Some(c))),
            _ => Src::Nothing,
        })
    }

    fn compare(&mut self, f: &Filter, path: &AttrPath, op: CompareOp, value: &CompValue) -> Option<String> {
        let Some(r) = self.rt.resolve_attr(path) else {
            return Some("0".into());
        };
        // What `check` rejects, the evaluator treats as false.
        if check(f, &[self.rt]).is_err() {
            return Some("0".into());
        }
        if let Some(key) = self.user_name_key(&r, op, value) {
            return Some(key);
        }
        let src = self.lookup(&r)?;
        let (def, src) = match r.target().value_sub_attribute() {
            Some(v) => (v, self.value_of(src, v)?),
            None if r.target().is_complex() => return Some("0".into()),
            None => (r.target(), src),
        };
        let exact = self.leaf(def, src, op, value)?;
        Some(match self.hint(&r, op, value) {
            Some(hint) => format!("({hint} AND {exact})"),
            None => exact,
        })
    }

    /// `userName eq "x"` of a user as the whole comparison, not a hint:
    /// every user row keeps `user_name_key`, its `userName` folded as the
    /// evaluator folds a case-insensitive string (`to_lowercase`), written
    /// with the document (it is the key uniqueness is checked on). So the
    /// identity providers' lookup reads the index alone, without reading
    /// the document as JSON or building that SQL (a sixth of the request).
    fn user_name_key(&mut self, r: &AttrRef<'_>, op: CompareOp, value: &CompValue) -> Option<String> {
        let (CompareOp::Eq, CompValue::String(s)) = (op, value) else {
            return None;
        };
        let whole = self.kind == Kind::User
            && r.container == Container::Top
            && r.attr.name == "userName"
            && r.sub.is_none()
            && !r.attr.case_exact;
        whole.then(|| format!("r.user_name_key = {}", self.bind(s.to_lowercase())))
    }

    /// An indexed term implied by `r op value` (a superset of its matches),
    /// for the lookups identity providers make.
    fn hint(&mut self, r: &AttrRef<'_>, op: CompareOp, value: &CompValue) -> Option<String> {
        let (CompareOp::Eq, CompValue::String(s)) = (op, value) else {
            return None;
        };
        if r.container != Container::Top {
            return None;
        }
        let common = is_common(self.rt, r);
        match (r.attr.name.as_str(), r.sub.map(|s| s.name.as_str())) {
            ("id", None) if common => Some(format!("r.id = {}", self.bind(s.clone()))),
            ("externalId", None) if common && r.attr.case_exact => {
                Some(format!("r.external_id = {}", self.bind(s.clone())))
            }
            ("userName", None) if self.kind == Kind::User => {
                Some(format!("r.user_name_key = {}", self.bind(s.to_lowercase())))
            }
            ("displayName", None) => Some(format!("r.display_name_key = {}", self.bind(s.to_lowercase()))),
            ("emails", None | Some("value")) => Some(self.email_hint(s)),
            _ => None,
        }
    }

    fn email_hint(&mut self, s: &str) -> String {
        let key = self.bind(s.to_lowercase());
        format!(
            "r.id IN (SELECT resource_id FROM resource_emails WHERE tenant = {} AND value_key = {key})",
            self.tenant
        )
    }

    /// A comparison over the values of `src`, compared as `def`.
    fn leaf(&mut self, def: &AttributeDef, src: Src, op: CompareOp, value: &CompValue) -> Option<String> {
        Some(match (op, value) {
            (CompareOp::Eq, CompValue::Null) => format!("(NOT {})", self.present(src)),
            (CompareOp::Ne, CompValue::Null) => self.present(src),
            (CompareOp::Ne, _) => {
                let mut eq = |t: &mut Translator<'a>, v: &Val| Some(t.value_pred(def, CompareOp::Eq, value, v));
                format!("(NOT {})", self.any(src, &mut eq)?)
            }
            _ => {
                let mut p = |t: &mut Translator<'a>, v: &Val| Some(t.value_pred(def, op, value, v));
                self.any(src, &mut p)?
            }
        })
    }

    /// 1 when some value of `src` satisfies `pred`, else 0.
    fn any(&mut self, src: Src, pred: Pred<'_, 'a>) -> Option<String> {
        match src {
            Src::Json { path, subs } => self.any_json(&path, &subs, pred),
            // A text that is never NULL makes no predicate NULL: leaving out
            // COALESCE keeps `m.member_id = ?` usable by an index.
            Src::Text(v) => {
                let folded = v == "r.id" || v.ends_with(".member_id");
                pred(
                    self,
                    &Val {
                        t: None,
                        v,
                        k: String::new(),
                        folded,
                    },
                )
            }
            Src::Members(Some(col)) => {
                let m = self.alias("m");
                let folded = col == "member_id";
                let p = pred(
                    self,
                    &Val {
                        t: None,
                        v: format!("{m}.{col}"),
                        k: String::new(),
                        folded,
                    },
                )?;
                Some(format!(
                    "EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id AND {p})"
                ))
            }
            // Comparisons never reach whole elements: they compare `value`.
            Src::Members(None) | Src::Meta | Src::Nothing => Some("0".into()),
        }
    }

    /// `any` over JSON: the value at `path` (each element if it is an
    /// array), then, for each `subs` step, that member of each value.
    fn any_json(&mut self, path: &str, subs: &[String], pred: Pred<'_, 'a>) -> Option<String> {
        let t = format!("json_type(r.doc, {path})");
        let single = Val {
            t: Some(t.clone()),
            v: format!("json_extract(r.doc, {path})"),
            k: path.to_string(),
            folded: false,
        };
        let a = self.alias("j");
        let each = Val {
            t: Some(format!("{a}.type")),
            v: format!("{a}.atom"),
            k: format!("{a}.fullkey"),
            folded: false,
        };
        let (in_single, in_each) = match subs.split_first() {
            None => (pred(self, &single)?, pred(self, &each)?),
            Some((step, rest)) => (
                self.any_json(&format!("({} || {step})", single.k), rest, pred)?,
                self.any_json(&format!("({} || {step})", each.k), rest, pred)?,
            ),
        };
        Some(format!(
            "COALESCE(CASE {t} WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(r.doc, {path}) {a} WHERE {in_each}) \
             ELSE {in_single} END, 0)"
        ))
    }

    /// 1 when some value of `src` is present (RFC 7644 `pr`), else 0.
    fn present(&mut self, src: Src) -> String {
        match src {
            Src::Json { path, subs } => {
                let mut p = |t: &mut Translator<'a>, v: &Val| Some(t.present_val(v));
                self.any_json(&path, &subs, &mut p).unwrap_or_else(|| "0".into())
            }
            Src::Text(v) => format!("COALESCE({v} <> '', 0)"),
            Src::Members(col) => {
                let m = self.alias("m");
                let value = col.map(|c| format!(" AND {m}.{c} <> ''")).unwrap_or_default();
                format!(
                    "EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id{value})"
                )
            }
            // resourceType is always there.
            Src::Meta => "1".into(),
            Src::Nothing => "0".into(),
        }
    }

    /// The evaluator's `is_present` for one JSON value: not null, not "",
    /// and for arrays and objects some member that is none of null, "",
    /// [] or {} (one level deep, as the evaluator looks).
    fn present_val(&mut self, v: &Val) -> String {
        let Some(t) = &v.t else {
            return format!("({} <> '')", v.v);
        };
        let m = self.alias("e");
        let k = &v.k;
        let nonempty = format!(
            "EXISTS (SELECT 1 FROM json_each(r.doc, {k}) {m} WHERE NOT ({m}.type = 'null' \
             OR ({m}.type = 'text' AND {m}.atom = '') \
             OR ({m}.type IN ('array', 'object') AND NOT EXISTS (SELECT 1 FROM json_each(r.doc, {m}.fullkey)))))"
        );
        format!(
            "(CASE WHEN {t} = 'text' THEN {val} <> '' WHEN {t} IN ('integer', 'real', 'true', 'false') THEN 1 \
             WHEN {t} IN ('array', 'object') THEN {nonempty} ELSE 0 END)",
            val = v.v
        )
    }

    /// `value op operand` for one value, compared as attribute `def`
    /// (`ne` is never asked: the leaf negates `eq`).
    fn value_pred(&mut self, def: &AttributeDef, op: CompareOp, operand: &CompValue, val: &Val) -> String {
        let is = |name: &str| match &val.t {
            Some(t) => format!("{t} = '{name}'"),
            None => if name == "text" { "1" } else { "0" }.to_string(),
        };
        // `text AND cond`, or just `cond` for a value known to be text.
        let text_and = |cond: String| match &val.t {
            Some(t) => format!("({t} = 'text' AND {cond})"),
            None => format!("({cond})"),
        };
        let v = &val.v;
        match def.kind {
            AttrType::String | AttrType::Reference | AttrType::Binary => {
                let CompValue::String(s) = operand else {
                    return "0".into();
                };
                let (x, s) = match (def.case_exact, val.folded) {
                    (true, _) => (v.clone(), s.clone()),
                    (false, true) => (v.clone(), s.to_lowercase()),
                    (false, false) => (format!("scim_fold({v})"), s.to_lowercase()),
                };
                text_and(self.text_op(op, &x, &s))
            }
            AttrType::DateTime => {
                let CompValue::String(s) = operand else {
                    return "0".into();
                };
                let folded = s.to_lowercase();
                if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                    return text_and(self.text_op(op, &format!("scim_fold({v})"), &folded));
                }
                let Some(instant) = parse_time(s) else {
                    return "0".into();
                };
                let (o, key, folded) = (sql_op(op), self.bind(time_key(&instant)), self.bind(folded));
                text_and(format!(
                    "CASE WHEN scim_time({v}) IS NOT NULL THEN scim_time({v}) {o} {key} ELSE scim_fold({v}) {o} {folded} END"
                ))
            }
            AttrType::Integer | AttrType::Decimal => {
                let (CompValue::Number(n), Some(t)) = (operand, &val.t) else {
                    return "0".into();
                };
                let Some(float) = n.as_f64() else { return "0".into() };
                let o = sql_op(op);
                let float = self.bind(float);
                // Integers compare exactly when both sides are integers,
                // everything else as f64, as the evaluator does.
                match n.as_i64() {
                    Some(i) => {
                        let int = self.bind(i);
                        format!(
                            "(CASE {t} WHEN 'integer' THEN {v} {o} {int} WHEN 'real' THEN {v} {o} {float} ELSE 0 END)"
                        )
                    }
                    None => format!(
                        "(CASE {t} WHEN 'integer' THEN CAST({v} AS REAL) {o} {float} WHEN 'real' THEN {v} {o} {float} ELSE 0 END)"
                    ),
                }
            }
            AttrType::Boolean => {
                let wanted = match operand {
                    CompValue::Bool(b) => Some(*b),
                    CompValue::String(s) => bool_text(s),
                    _ => None,
                };
                let (CompareOp::Eq, Some(b)) = (op, wanted) else {
                    return "0".into();
                };
                // SQLite's lower() folds ASCII only, which is exactly the
                // evaluator's eq_ignore_ascii_case for "true"/"false".
                let word = if b { "true" } else { "false" };
                format!("({} OR ({} AND lower({v}) = '{word}'))", is(word), is("text"))
            }
            AttrType::Complex => "0".into(),
        }
    }

    /// Text comparison of `x` (already folded as needed) with `s`.
    fn text_op(&mut self, op: CompareOp, x: &str, s: &str) -> String {
        match op {
            CompareOp::Co => format!("instr({x}, {}) > 0", self.bind(s.to_string())),
            CompareOp::Sw => format!("instr({x}, {}) = 1", self.bind(s.to_string())),
            CompareOp::Ew if s.is_empty() => "1".into(),
            CompareOp::Ew => {
                let n = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                format!("substr({x}, {}) = {}", self.bind(-n), self.bind(s.to_string()))
            }
            _ => format!("{x} {} {}", sql_op(op), self.bind(s.to_string())),
        }
    }

    /// `path[inner]`: some element of the complex attribute is an object
    /// satisfying `inner`.
    fn value_path(&mut self, path: &AttrPath, inner: &Filter) -> Option<String> {
        let Some(r) = self.rt.resolve_attr(path) else {
            return Some("0".into());
        };
        if r.sub.is_some() || !r.attr.is_complex() {
            return Some("0".into());
        }
        let exact = match self.lookup(&r)? {
            Src::Json { path: p, .. } => {
                let mut pred = |t: &mut Translator<'a>, v: &Val| {
                    let inner = t.inner(inner, path, r.attr, &Element::Json(v.k.clone()))?;
                    Some(format!(
                        "({} = 'object' AND {inner})",
                        v.t.as_deref().unwrap_or("'object'")
                    ))
                };
                self.any_json(&p, &[], &mut pred)?
            }
            Src::Members(None) => {
                let m = self.alias("m");
                let inner = self.inner(inner, path, r.attr, &Element::Members(m.clone()))?;
                format!(
                    "EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id AND {inner})"
                )
            }
            Src::Meta => format!("COALESCE({}, 0)", self.inner(inner, path, r.attr, &Element::Meta)?),
            _ => return Some("0".into()),
        };
        // `emails[type eq "work" and value eq "x"]`: what Entra sends.
        let is_emails = r.container == Container::Top && r.attr.name == "emails";
        let value_eq = conjunct_value_eq(inner);
        Some(match (is_emails, value_eq) {
            (true, Some(s)) => format!("({} AND {exact})", self.email_hint(s)),
            _ => exact,
        })
    }

    /// The inner filter of `parent_path[...]`, for one element.
    fn inner(&mut self, f: &Filter, parent_path: &AttrPath, parent: &AttributeDef, el: &Element) -> Option<String> {
        Some(match f {
            Filter::And(a, b) => {
                format!(
                    "({} AND {})",
                    self.inner(a, parent_path, parent, el)?,
                    self.inner(b, parent_path, parent, el)?
                )
            }
            Filter::Or(a, b) => {
                format!(
                    "({} OR {})",
                    self.inner(a, parent_path, parent, el)?,
                    self.inner(b, parent_path, parent, el)?
                )
            }
            Filter::Not(x) => format!("(NOT {})", self.inner(x, parent_path, parent, el)?),
            Filter::ValuePath(..) => "0".into(),
            Filter::Present(p) => match sub_of(parent, p) {
                Some(sub) => {
                    let src = self.element_src(el, sub)?;
                    self.present(src)
                }
                None => "0".into(),
            },
            Filter::Compare(p, op, value) => {
                let Some(sub) = sub_of(parent, p) else {
                    return Some("0".into());
                };
                let whole = Filter::ValuePath(parent_path.clone(), Box::new(f.clone()));
                if check(&whole, &[self.rt]).is_err() {
                    return Some("0".into());
                }
                let src = self.element_src(el, sub)?;
                self.leaf(sub, src, *op, value)?
            }
        })
    }

    fn element_src(&mut self, el: &Element, sub: &AttributeDef) -> Option<Src> {
        Some(match el {
            Element::Json(k) => {
                let step = self.bind(quote_key(&sub.name)?);
                Src::Json {
                    path: format!("({k} || {step})"),
                    subs: Vec::new(),
                }
            }
            Element::Members(m) => member_column(&sub.name).map_or(Src::Nothing, |c| Src::Text(format!("{m}.{c}"))),
            Element::Meta => meta_column(&sub.name).map_or(Src::Nothing, |c| Src::Text(c.into())),
        })
    }
}

/// A sub-attribute named inside a value filter (no URN, no sub-path).
fn sub_of<'d>(parent: &'d AttributeDef, p: &AttrPath) -> Option<&'d AttributeDef> {
    if p.urn.is_some() || p.sub.is_some() {
        None
    } else {
        parent.sub_attribute(&p.name)
    }
}

/// The column of a `members` sub-attribute; `display` and `$ref` are not
/// stored (the server adds them), so they are never present.
fn member_column(sub: &str) -> Option<&'static str> {
    match sub {
        "value" => Some("member_id"),
        "type" => Some("member_kind"),
        _ => None,
    }
}

/// `value eq "x"` among the top-level conjuncts of a value filter.
fn conjunct_value_eq(inner: &Filter) -> Option<&str> {
    let mut conjuncts = Vec::new();
    and_chain(inner, &mut conjuncts);
    conjuncts.into_iter().find_map(|c| match c {
        Filter::Compare(p, CompareOp::Eq, CompValue::String(s))
            if p.urn.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case("value") =>
        {
            Some(s.as_str())
        }
        _ => None,
    })
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        _ => "=",
    }
}

fn bool_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;

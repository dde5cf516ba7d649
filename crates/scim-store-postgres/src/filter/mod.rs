//! Filters to SQL: a boolean expression over `resources r` with every value
//! bound as a parameter (values never reach the SQL text; attribute names and
//! extension URNs are bound too, as JSONB keys).
//!
//! The translation mirrors `scim_core::filter::matches` rule by rule:
//! - values come from the document with `->` steps, arrays flattened one
//!   level as the evaluator does (`CASE WHEN jsonb_typeof(..) = 'array'`,
//!   elements by index so the same element can be read from `doc` and
//!   `doc_fold`), every comparison guarded by the JSON type of the value
//!   (casts sit inside `CASE`, which PostgreSQL evaluates in order, never
//!   behind an `AND` it may reorder);
//! - `id`, `meta.*` come from columns, group `members` from the membership
//!   table (the filter sees a group with its members, as the contract says);
//! - a complex attribute without a sub-attribute compares its `value`;
//! - `ne` is `NOT (any value eq)`, so a missing attribute matches it; `eq
//!   null` / `ne null` / `pr` test presence with the evaluator's idea of an
//!   empty value (null, "", [], {} or an object or array of such);
//! - strings compare in `doc_fold` (lower-cased in Rust, the evaluator's
//!   folding) unless caseExact, in byte order (`COLLATE "C"`, Rust's `str`
//!   order); dateTimes compare as instants through `scim_time_key` (chrono's
//!   RFC 3339 rules, nanoseconds), as folded text when a stored value is not
//!   RFC 3339; numbers exactly as `numeric` when both sides are integers the
//!   evaluator reads as such, else as `float8`; booleans accept
//!   "true"/"false" strings in any ASCII case;
//! - a comparison `scim_core::filter::check` would reject is false.
//!
//! Every leaf yields true or false, never NULL, so `NOT` is exact. The
//! filters identity providers send (`eq` on userName, externalId,
//! displayName, id, emails value, members value) also get an indexed term,
//! ANDed with the exact one. A top-level conjunct whose SQL would bind more
//! than [`MAX_PARAMS`] values is left to the evaluator: see
//! [`Translation::Partial`].

use crate::rows::canonical_uuid;
use crate::sql::{Param, Sql};
use chrono::{DateTime, FixedOffset, Utc};
use scim_core::filter::{CompValue, CompareOp, Filter, check};
use scim_core::path::AttrPath;
use scim_core::schema::{AttrRef, AttrType, AttributeDef, Container, ResourceType};
use scim_store::Kind;
use uuid::Uuid;

/// The document as stored.
pub(crate) const DOC: &str = "r.doc";
/// The document with string values lower-cased in Rust.
pub(crate) const FOLD: &str = "r.doc_fold";
/// Most values one statement binds before conjuncts are left to the
/// evaluator: far below the protocol's 65,535, and a statement that large
/// costs more to plan than a scan of candidates costs to evaluate.
pub(crate) const MAX_PARAMS: usize = 2_000;

/// The JSON values that count as empty for `pr`.
const EMPTY: &str = "'null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb";

/// A translated filter, and whether a top-level conjunct is an indexed
/// lookup (so the matches are few, and found through that index).
#[derive(Debug, PartialEq)]
pub(crate) struct Translated {
    pub(crate) translation: Translation,
    pub(crate) indexed: bool,
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
/// the tenant id already bound.
pub(crate) fn translate(filter: &Filter, rt: &ResourceType, kind: Kind, tenant: &str, sql: &mut Sql) -> Translated {
    let mut t = Translator {
        rt,
        kind,
        tenant: tenant.to_string(),
        sql,
        aliases: 0,
        hints: 0,
    };
    let mut conjuncts = Vec::new();
    and_chain(filter, &mut conjuncts);
    let mut parts = Vec::new();
    let mut exact = true;
    let mut indexed = false;
    for c in conjuncts {
        let (mark, hints) = (t.sql.bound(), t.hints);
        let text = t.expr(c);
        if t.sql.bound() > MAX_PARAMS {
            t.sql.truncate(mark);
            exact = false;
        } else {
            // A hint under `or`/`not` narrows nothing; at the top it does.
            indexed |= t.hints > hints && matches!(c, Filter::Compare(..) | Filter::ValuePath(..));
            parts.push(text);
        }
    }
    let sql = (!parts.is_empty()).then(|| parts.join(" AND "));
    let translation = match (exact, sql) {
        (true, Some(sql)) => Translation::Exact(sql),
        (true, None) => Translation::Exact("true".into()),
        (false, sql) => Translation::Partial(sql),
    };
    Translated { translation, indexed }
}

/// Whether the SQL of `filter` comes from a small fixed set of texts (one
/// comparison, or a value path of at most two), so its statement may be
/// kept prepared: what identity providers send on every provisioning call.
pub(crate) fn is_simple(filter: &Filter) -> bool {
    match filter {
        Filter::Compare(..) | Filter::Present(..) => true,
        Filter::ValuePath(_, inner) => leaves(inner) <= 2,
        _ => false,
    }
}

fn leaves(f: &Filter) -> usize {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => leaves(a) + leaves(b),
        Filter::Not(x) => leaves(x),
        _ => 1,
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

/// Whether `r` is one of the common attributes (`id`, `externalId`, `meta`).
pub(crate) fn is_common(rt: &ResourceType, r: &AttrRef<'_>) -> bool {
    r.container == Container::Top
        && rt
            .common()
            .attribute(&r.attr.name)
            .is_some_and(|c| std::ptr::eq(c, r.attr))
}

/// `meta.version` as `to_resource` renders it.
pub(crate) const VERSION_SQL: &str = "('W/\"' || r.version || '\"')";

/// A timestamp column as `meta` renders it (RFC 3339, milliseconds, `Z`).
fn rendered(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

/// The sortable text key of an instant, as `scim_time_key` computes it.
pub(crate) fn time_key(t: &DateTime<FixedOffset>) -> String {
    format!(
        "{:012}{:010}",
        t.timestamp().saturating_add(100_000_000_000),
        t.timestamp_subsec_nanos()
    )
}

/// The column of a `members` sub-attribute; `display` and `$ref` are not
/// stored (the server adds them), so they are never present.
pub(crate) fn member_column(sub: &str) -> Option<&'static str> {
    match sub {
        "value" => Some("member_id"),
        "type" => Some("member_kind"),
        _ => None,
    }
}

/// A membership column: the member's id, or its kind as text.
fn member_src(alias: &str, column: &str) -> Src {
    if column == "member_id" {
        Src::Id(format!("{alias}.member_id"))
    } else {
        Src::Text(format!("{alias}.{column}"))
    }
}

/// Where a JSON value sits: steps (SQL expressions: bound keys, element
/// indexes) from the root document, which is chosen when it is read.
#[derive(Debug, Clone)]
struct Loc(Vec<String>);

impl Loc {
    fn at(&self, root: &str) -> String {
        let mut s = format!("({root}");
        for step in &self.0 {
            s.push_str(" -> ");
            s.push_str(step);
        }
        s.push(')');
        s
    }

    fn then(&self, step: String) -> Loc {
        let mut steps = self.0.clone();
        steps.push(step);
        Loc(steps)
    }
}

/// Where the values of a path come from.
enum Src {
    /// The JSON at `loc`, then each of `subs` (bound keys), arrays flattened.
    Json { loc: Loc, subs: Vec<String> },
    /// One text column value, never NULL, ASCII only (kinds, versions), so
    /// `lower(x COLLATE "C")` folds it exactly as `to_lowercase` does.
    Text(String),
    /// A uuid column (a resource's or a member's id): its text is the
    /// canonical lower-case form, so equality is equality of uuids, which
    /// the indexes answer.
    Id(String),
    /// A timestamp column (`meta.created`, `meta.lastModified`).
    Time(&'static str),
    /// The group's membership rows: the elements (`None`), or one column.
    Members(Option<&'static str>),
    /// The `meta` object.
    Meta,
    /// Never present.
    Nothing,
}

/// One value.
enum Val {
    Json(Loc),
    Text(String),
    Id(String),
    Time(&'static str),
}

/// Where a value filter's inner paths look.
enum Element {
    Json(Loc),
    Members(String),
    Meta,
}

fn meta_src(sub: &str) -> Src {
    match sub {
        "created" => Src::Time("r.created"),
        "lastModified" => Src::Time("r.modified"),
        "resourceType" => Src::Text("r.kind".into()),
        "version" => Src::Text(VERSION_SQL.into()),
        _ => Src::Nothing,
    }
}

type Pred<'p, 'a> = &'p mut dyn FnMut(&mut Translator<'a>, &Val) -> String;

struct Translator<'a> {
    rt: &'a ResourceType,
    kind: Kind,
    tenant: String,
    sql: &'a mut Sql,
    aliases: usize,
    /// Indexed terms written so far.
    hints: usize,
}

impl<'a> Translator<'a> {
    fn alias(&mut self, prefix: &str) -> String {
        self.aliases += 1;
        format!("{prefix}{}", self.aliases)
    }

    fn bind(&mut self, p: impl Into<Param>) -> String {
        self.sql.bind(p)
    }

    fn expr(&mut self, f: &Filter) -> String {
        match f {
            Filter::And(a, b) => format!("({} AND {})", self.expr(a), self.expr(b)),
            Filter::Or(a, b) => format!("({} OR {})", self.expr(a), self.expr(b)),
            Filter::Not(inner) => format!("(NOT {})", self.expr(inner)),
            Filter::Present(path) => match self.rt.resolve_attr(path) {
                Some(r) => {
                    let src = self.lookup(&r);
                    self.present(src)
                }
                None => "false".into(),
            },
            Filter::Compare(path, op, value) => self.compare(f, path, *op, value),
            Filter::ValuePath(path, inner) => self.value_path(path, inner),
        }
    }

    /// The values of a resolved path at the resource's top level.
    fn lookup(&mut self, r: &AttrRef<'_>) -> Src {
        if is_common(self.rt, r) {
            match r.attr.name.as_str() {
                "id" => {
                    return if r.sub.is_none() {
                        Src::Id("r.id".into())
                    } else {
                        Src::Nothing
                    };
                }
                "meta" => return r.sub.map_or(Src::Meta, |s| meta_src(&s.name)),
                _ => {}
            }
        }
        if self.kind == Kind::Group && r.container == Container::Top && r.attr.name == "members" {
            return match r.sub {
                None => Src::Members(None),
                Some(s) => member_column(&s.name).map_or(Src::Nothing, |c| Src::Members(Some(c))),
            };
        }
        let mut steps = Vec::new();
        if let Container::Extension(urn) = r.container {
            steps.push(self.bind(urn));
        }
        steps.push(self.bind(r.attr.name.as_str()));
        let subs = match r.sub {
            Some(s) => vec![self.bind(s.name.as_str())],
            None => Vec::new(),
        };
        Src::Json { loc: Loc(steps), subs }
    }

    /// The `value` sub-attribute of each value of `src`.
    fn value_of(&mut self, src: Src, value: &AttributeDef) -> Src {
        match src {
            Src::Json { loc, mut subs } => {
                subs.push(self.bind(value.name.as_str()));
                Src::Json { loc, subs }
            }
            Src::Members(None) => member_column(&value.name).map_or(Src::Nothing, |c| Src::Members(Some(c))),
            _ => Src::Nothing,
        }
    }

    fn compare(&mut self, f: &Filter, path: &AttrPath, op: CompareOp, value: &CompValue) -> String {
        let Some(r) = self.rt.resolve_attr(path) else {
            return "false".into();
        };
        // What `check` rejects, the evaluator treats as false.
        if check(f, &[self.rt]).is_err() {
            return "false".into();
        }
        let src = self.lookup(&r);
        let (def, src) = match r.target().value_sub_attribute() {
            Some(v) => (v, self.value_of(src, v)),
            None if r.target().is_complex() => return "false".into(),
            None => (r.target(), src),
        };
        let exact = self.leaf(def, src, op, value);
        match self.hint(&r, op, value) {
            Some(hint) => {
                self.hints += 1;
                format!("({hint} AND {exact})")
            }
            None => exact,
        }
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
            // Ids are UUIDs: text that is none matches no resource.
            ("id", None) if common => Some(match Uuid::parse_str(s) {
                Ok(u) => format!("r.id = {}", self.bind(u)),
                Err(_) => "false".into(),
            }),
            ("externalId", None) if common && r.attr.case_exact => {
                Some(format!("r.external_id = {}", self.bind(s.clone())))
            }
            ("userName", None) if self.kind == Kind::User => {
                Some(format!("r.user_name_key = {}", self.bind(s.to_lowercase())))
            }
            ("displayName", None) => Some(format!("r.display_name_key = {}", self.bind(s.to_lowercase()))),
            ("emails", None | Some("value")) => Some(self.email_hint(s)),
            ("members", None | Some("value")) if self.kind == Kind::Group => Some(self.member_hint(s)),
            _ => None,
        }
    }

    fn email_hint(&mut self, s: &str) -> String {
        let key = self.bind(Param::Texts(vec![s.to_lowercase()]));
        format!("r.email_keys @> {key}")
    }

    fn member_hint(&mut self, s: &str) -> String {
        match Uuid::parse_str(s) {
            Ok(u) => {
                let (tenant, member) = (self.tenant.clone(), self.bind(u));
                format!(
                    "r.id IN (SELECT mh.group_id FROM memberships mh WHERE mh.tenant = {tenant} AND mh.member_id = {member})"
                )
            }
            Err(_) => "false".into(),
        }
    }

    /// A comparison over the values of `src`, compared as `def`.
    fn leaf(&mut self, def: &AttributeDef, src: Src, op: CompareOp, value: &CompValue) -> String {
        match (op, value) {
            (CompareOp::Eq, CompValue::Null) => format!("(NOT {})", self.present(src)),
            (CompareOp::Ne, CompValue::Null) => self.present(src),
            (CompareOp::Ne, _) => {
                let mut eq = |t: &mut Translator<'a>, v: &Val| t.value_pred(def, CompareOp::Eq, value, v);
                format!("(NOT {})", self.any(src, &mut eq))
            }
            _ => {
                let mut p = |t: &mut Translator<'a>, v: &Val| t.value_pred(def, op, value, v);
                self.any(src, &mut p)
            }
        }
    }

    /// True when some value of `src` satisfies `pred`, else false.
    fn any(&mut self, src: Src, pred: Pred<'_, 'a>) -> String {
        match src {
            Src::Json { loc, subs } => self.any_json(&loc, &subs, pred),
            Src::Text(e) => format!("COALESCE({}, false)", pred(self, &Val::Text(e))),
            Src::Id(e) => format!("COALESCE({}, false)", pred(self, &Val::Id(e))),
            Src::Time(c) => format!("COALESCE({}, false)", pred(self, &Val::Time(c))),
            Src::Members(Some(col)) => {
                let m = self.alias("m");
                let value = match member_src(&m, col) {
                    Src::Id(e) => Val::Id(e),
                    Src::Text(e) => Val::Text(e),
                    _ => return "false".into(),
                };
                let p = pred(self, &value);
                format!(
                    "EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id AND {p})"
                )
            }
            // Comparisons never reach whole elements: they compare `value`.
            Src::Members(None) | Src::Meta | Src::Nothing => "false".into(),
        }
    }

    /// `any` over JSON: the value at `loc` (each element if it is an array),
    /// then, for each step of `subs`, that member of each value.
    fn any_json(&mut self, loc: &Loc, subs: &[String], pred: Pred<'_, 'a>) -> String {
        let v = loc.at(DOC);
        let i = self.alias("i");
        let element = loc.then(format!("{i}.n"));
        let (single, each) = match subs.split_first() {
            None => (pred(self, &Val::Json(loc.clone())), pred(self, &Val::Json(element))),
            Some((step, rest)) => (
                self.any_json(&loc.then(step.clone()), rest, pred),
                self.any_json(&element.then(step.clone()), rest, pred),
            ),
        };
        format!(
            "(CASE WHEN jsonb_typeof({v}) = 'array' THEN EXISTS (SELECT 1 FROM generate_series(0, jsonb_array_length({v}) - 1) AS {i}(n) WHERE {each}) \
             ELSE COALESCE({single}, false) END)"
        )
    }

    /// True when some value of `src` is present (RFC 7644 `pr`).
    fn present(&mut self, src: Src) -> String {
        match src {
            Src::Json { loc, subs } => {
                let mut p = |t: &mut Translator<'a>, v: &Val| t.present_val(v);
                self.any_json(&loc, &subs, &mut p)
            }
            Src::Text(e) => format!("({e} <> '')"),
            // resourceType, the timestamps and ids are always there.
            Src::Time(_) | Src::Meta | Src::Id(_) => "true".into(),
            // Every membership row has a non-empty id and kind.
            Src::Members(_) => {
                let m = self.alias("m");
                format!("EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id)")
            }
            Src::Nothing => "false".into(),
        }
    }

    /// The evaluator's `is_present` for one value: not null, not "", and
    /// for arrays and objects some member that is none of null, "", [] or {}
    /// (one level deep, as the evaluator looks).
    fn present_val(&mut self, v: &Val) -> String {
        match v {
            Val::Json(loc) => {
                let x = loc.at(DOC);
                let e = self.alias("e");
                format!(
                    "(CASE jsonb_typeof({x}) WHEN 'string' THEN {x} <> '\"\"'::jsonb WHEN 'number' THEN true WHEN 'boolean' THEN true \
                     WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements({x}) AS {e}(v) WHERE {e}.v NOT IN ({EMPTY})) \
                     WHEN 'object' THEN EXISTS (SELECT 1 FROM jsonb_each({x}) AS {e}(k, v) WHERE {e}.v NOT IN ({EMPTY})) \
                     ELSE false END)"
                )
            }
            Val::Text(e) => format!("({e} <> '')"),
            Val::Id(_) | Val::Time(_) => "true".into(),
        }
    }

    /// `value op operand` for one value, compared as attribute `def` (`ne`
    /// is never asked: the leaf negates `eq`).
    fn value_pred(&mut self, def: &AttributeDef, op: CompareOp, operand: &CompValue, val: &Val) -> String {
        match def.kind {
            AttrType::String | AttrType::Reference | AttrType::Binary => {
                let CompValue::String(s) = operand else {
                    return "false".into();
                };
                let s = if def.case_exact { s.clone() } else { s.to_lowercase() };
                match val {
                    Val::Json(loc) => {
                        let x = loc.at(if def.case_exact { DOC } else { FOLD });
                        let cmp = self.text_op(op, &format!("({x} #>> '{{}}')"), &s);
                        format!("(jsonb_typeof({x}) = 'string' AND {cmp})")
                    }
                    Val::Text(e) => {
                        let x = if def.case_exact {
                            e.clone()
                        } else {
                            format!("lower({e} COLLATE \"C\")")
                        };
                        self.text_op(op, &x, &s)
                    }
                    // The stored text is lower case already: folding is the
                    // identity, and only a canonical uuid text can be equal.
                    Val::Id(e) if op == CompareOp::Eq => match canonical_uuid(&s) {
                        Some(u) => format!("({e} = {})", self.bind(u)),
                        None => "false".into(),
                    },
                    Val::Id(e) => self.text_op(op, &format!("{e}::text"), &s),
                    Val::Time(_) => "false".into(),
                }
            }
            AttrType::DateTime => self.time_pred(op, operand, val),
            AttrType::Integer | AttrType::Decimal => {
                let (CompValue::Number(n), Val::Json(loc)) = (operand, val) else {
                    return "false".into();
                };
                let Some(float) = n.as_f64() else { return "false".into() };
                let (x, o) = (loc.at(DOC), sql_op(op));
                let float = self.bind(Param::Double(float));
                // Integers compare exactly when both sides are integers the
                // evaluator reads as such (scale 0, within i64/u64), the
                // rest as f64, as the evaluator does.
                let exact = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
                let cmp = match exact {
                    Some(i) => {
                        let int = self.bind(i.to_string());
                        format!(
                            "CASE WHEN scale({x}::numeric) = 0 \
                             AND {x}::numeric BETWEEN -9223372036854775808 AND 18446744073709551615 \
                             THEN {x}::numeric {o} CAST({int} AS numeric) ELSE {x}::float8 {o} {float} END"
                        )
                    }
                    None => format!("{x}::float8 {o} {float}"),
                };
                format!("COALESCE(CASE WHEN jsonb_typeof({x}) = 'number' THEN {cmp} END, false)")
            }
            AttrType::Boolean => {
                let wanted = match operand {
                    CompValue::Bool(b) => Some(*b),
                    CompValue::String(s) => bool_text(s),
                    _ => None,
                };
                let (CompareOp::Eq, Some(b), Val::Json(loc)) = (op, wanted, val) else {
                    return "false".into();
                };
                let x = loc.at(DOC);
                // lower() under "C" folds ASCII only: exactly the evaluator's
                // eq_ignore_ascii_case for "true"/"false" strings.
                let word = if b { "true" } else { "false" };
                format!(
                    "(({x} = '{word}'::jsonb) OR (jsonb_typeof({x}) = 'string' AND lower(({x} #>> '{{}}') COLLATE \"C\") = '{word}'))"
                )
            }
            AttrType::Complex => "false".into(),
        }
    }

    fn time_pred(&mut self, op: CompareOp, operand: &CompValue, val: &Val) -> String {
        let CompValue::String(s) = operand else {
            return "false".into();
        };
        let folded = s.to_lowercase();
        // Substring operators compare text, case-insensitively.
        if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
            return match val {
                Val::Json(loc) => {
                    let x = loc.at(FOLD);
                    let cmp = self.text_op(op, &format!("({x} #>> '{{}}')"), &folded);
                    format!("(jsonb_typeof({x}) = 'string' AND {cmp})")
                }
                Val::Time(c) => self.text_op(op, &format!("lower({} COLLATE \"C\")", rendered(c)), &folded),
                Val::Text(e) => self.text_op(op, &format!("lower({e} COLLATE \"C\")"), &folded),
                Val::Id(e) => self.text_op(op, &format!("{e}::text"), &folded),
            };
        }
        let Ok(instant) = DateTime::parse_from_rfc3339(s) else {
            return "false".into();
        };
        let o = sql_op(op);
        match val {
            Val::Json(loc) => {
                let (x, xf) = (loc.at(DOC), loc.at(FOLD));
                let (key, folded) = (self.bind(time_key(&instant)), self.bind(folded));
                format!(
                    "COALESCE(CASE WHEN jsonb_typeof({x}) = 'string' THEN \
                     CASE WHEN scim_time_key({x} #>> '{{}}') IS NOT NULL THEN scim_time_key({x} #>> '{{}}') COLLATE \"C\" {o} {key} \
                     ELSE ({xf} #>> '{{}}') COLLATE \"C\" {o} {folded} END END, false)"
                )
            }
            Val::Time(c) => {
                let nanos = instant.timestamp_subsec_nanos();
                if nanos < 1_000_000_000 && nanos % 1_000 == 0 {
                    // PostgreSQL keeps microseconds: this operand compares
                    // exactly as a timestamptz, and the column's index could
                    // serve it.
                    format!("({c} {o} {})", self.bind(instant.with_timezone(&Utc)))
                } else {
                    format!("(scim_ts_key({c}) COLLATE \"C\" {o} {})", self.bind(time_key(&instant)))
                }
            }
            Val::Text(_) | Val::Id(_) => "false".into(),
        }
    }

    /// Text comparison of `x` (already folded as needed) with `s`.
    fn text_op(&mut self, op: CompareOp, x: &str, s: &str) -> String {
        match op {
            CompareOp::Co => format!("(strpos({x}, {}) > 0)", self.bind(s)),
            CompareOp::Sw => format!("starts_with({x}, {})", self.bind(s)),
            CompareOp::Ew => {
                let n = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                let (n, s) = (self.bind(n), self.bind(s));
                format!("(right({x}, CAST({n} AS integer)) = {s})")
            }
            _ => format!("({x} COLLATE \"C\" {} {})", sql_op(op), self.bind(s)),
        }
    }

    /// `path[inner]`: some element of the complex attribute is an object
    /// satisfying `inner`.
    fn value_path(&mut self, path: &AttrPath, inner: &Filter) -> String {
        let Some(r) = self.rt.resolve_attr(path) else {
            return "false".into();
        };
        if r.sub.is_some() || !r.attr.is_complex() {
            return "false".into();
        }
        let exact = match self.lookup(&r) {
            Src::Json { loc, .. } => {
                let mut pred = |t: &mut Translator<'a>, v: &Val| match v {
                    Val::Json(el) => {
                        let test = t.inner(inner, path, r.attr, &Element::Json(el.clone()));
                        format!("(jsonb_typeof({}) = 'object' AND {test})", el.at(DOC))
                    }
                    _ => "false".into(),
                };
                self.any_json(&loc, &[], &mut pred)
            }
            Src::Members(None) => {
                let m = self.alias("m");
                let test = self.inner(inner, path, r.attr, &Element::Members(m.clone()));
                format!(
                    "EXISTS (SELECT 1 FROM memberships {m} WHERE {m}.tenant = r.tenant AND {m}.group_id = r.id AND {test})"
                )
            }
            Src::Meta => format!("COALESCE({}, false)", self.inner(inner, path, r.attr, &Element::Meta)),
            _ => return "false".into(),
        };
        // `emails[type eq "work" and value eq "x"]`: what Entra sends.
        let top = r.container == Container::Top;
        let hint = match (r.attr.name.as_str(), conjunct_value_eq(inner)) {
            ("emails", Some(s)) if top => Some(self.email_hint(s)),
            ("members", Some(s)) if top && self.kind == Kind::Group => Some(self.member_hint(s)),
            _ => None,
        };
        match hint {
            Some(h) => {
                self.hints += 1;
                format!("({h} AND {exact})")
            }
            None => exact,
        }
    }

    /// The inner filter of `parent_path[...]`, for one element.
    fn inner(&mut self, f: &Filter, parent_path: &AttrPath, parent: &AttributeDef, el: &Element) -> String {
        match f {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.inner(a, parent_path, parent, el),
                self.inner(b, parent_path, parent, el)
            ),
            Filter::Or(a, b) => format!(
                "({} OR {})",
                self.inner(a, parent_path, parent, el),
                self.inner(b, parent_path, parent, el)
            ),
            Filter::Not(x) => format!("(NOT {})", self.inner(x, parent_path, parent, el)),
            Filter::ValuePath(..) => "false".into(),
            Filter::Present(p) => match sub_of(parent, p) {
                Some(sub) => {
                    let src = self.element_src(el, sub);
                    self.present(src)
                }
                None => "false".into(),
            },
            Filter::Compare(p, op, value) => {
                let Some(sub) = sub_of(parent, p) else {
                    return "false".into();
                };
                let whole = Filter::ValuePath(parent_path.clone(), Box::new(f.clone()));
                if check(&whole, &[self.rt]).is_err() {
                    return "false".into();
                }
                let src = self.element_src(el, sub);
                self.leaf(sub, src, *op, value)
            }
        }
    }

    fn element_src(&mut self, el: &Element, sub: &AttributeDef) -> Src {
        match el {
            Element::Json(loc) => Src::Json {
                loc: loc.then(self.bind(sub.name.as_str())),
                subs: Vec::new(),
            },
            Element::Members(m) => member_column(&sub.name).map_or(Src::Nothing, |c| member_src(m, c)),
            Element::Meta => meta_src(&sub.name),
        }
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

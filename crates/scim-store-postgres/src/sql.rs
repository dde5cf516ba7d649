//! Statements assembled at run time (filters, sorts, recursive CTEs) as a
//! diesel `QueryFragment`: SQL text whose every value is a bound parameter.
//!
//! The text is built with placeholders `$k` naming parameters in the order
//! they were bound, so one value can be referenced twice (the filter of a
//! page and of its count) and fragments can be composed in any order.
//! diesel numbers parameters itself, in the order they are pushed, so
//! [`Sql::build`] renumbers: the first placeholder of a parameter in the
//! final text pushes it (diesel writes the next `$n`), later ones repeat
//! that `$n` verbatim. The text outside placeholders is this crate's own;
//! no value ever becomes part of it.

use crate::error::Result;
use crate::json::DbJson;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Jsonb, Nullable, Text, Timestamptz, Untyped};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Text(String),
    OptText(Option<String>),
    BigInt(i64),
    Double(f64),
    Bool(bool),
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Texts(Vec<String>),
    Time(DateTime<Utc>),
    Json(DbJson),
}

impl From<&str> for Param {
    fn from(s: &str) -> Param {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Param {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::BigInt(v)
    }
}

impl From<Uuid> for Param {
    fn from(v: Uuid) -> Param {
        Param::Uuid(v)
    }
}

impl From<DateTime<Utc>> for Param {
    fn from(v: DateTime<Utc>) -> Param {
        Param::Time(v)
    }
}

/// A statement being written.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new() -> Sql {
        Sql::default()
    }

    /// Binds a value; returns its placeholder for the text.
    pub(crate) fn bind(&mut self, p: impl Into<Param>) -> String {
        self.params.push(p.into());
        format!("${}", self.params.len())
    }

    /// Appends SQL text (this crate's, never a value).
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// How many values are bound.
    pub(crate) fn bound(&self) -> usize {
        self.params.len()
    }

    /// Forgets the values bound after the first `n` (their placeholders
    /// must not be in the text).
    pub(crate) fn truncate(&mut self, n: usize) {
        self.params.truncate(n);
    }

    /// The finished statement. `cacheable`: diesel keeps it prepared on the
    /// connection, keyed by its text; only for statements whose text comes
    /// from a small fixed set (per-connection caches are unbounded).
    pub(crate) fn build(self, cacheable: bool) -> Statement {
        self.statement_with(&self.text, cacheable)
    }

    /// A statement of `text` over the values bound so far, leaving this
    /// builder as it is: one set of values, several statements (a page and
    /// its count).
    pub(crate) fn statement(&self, text: &str, cacheable: bool) -> Statement {
        self.statement_with(text, cacheable)
    }

    fn statement_with(&self, text: &str, cacheable: bool) -> Statement {
        let mut pieces = Vec::new();
        let mut numbers: Vec<Option<usize>> = vec![None; self.params.len()];
        let mut next = 0;
        let mut literal = String::new();
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let index = after[..digits]
                .parse::<usize>()
                .ok()
                .filter(|k| (1..=numbers.len()).contains(k));
            match index {
                Some(k) => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    match numbers[k - 1] {
                        Some(n) => pieces.push(Piece::Again(format!("${n}"))),
                        None => {
                            next += 1;
                            numbers[k - 1] = Some(next);
                            pieces.push(Piece::Bind(k - 1));
                        }
                    }
                    rest = &after[digits..];
                }
                None => {
                    literal.push('$');
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Statement {
            pieces,
            params: self.params.clone(),
            cacheable,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    /// The first use of a parameter: pushed, diesel writes its `$n`.
    Bind(usize),
    /// A later use: its `$n` again.
    Again(String),
}

/// A finished statement, run with diesel-async's `RunQueryDsl`.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pieces: Vec<Piece>,
    params: Vec<Param>,
    cacheable: bool,
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement {
    type SqlType = Untyped;
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Text(s) | Piece::Again(s) => out.push_sql(s),
                Piece::Bind(i) => match self.params.get(*i) {
                    Some(p) => push_param(&mut out, p)?,
                    None => return Err(diesel::result::Error::QueryBuilderError("unbound placeholder".into())),
                },
            }
        }
        Ok(())
    }
}

fn push_param<'b>(out: &mut AstPass<'_, 'b, Pg>, p: &'b Param) -> QueryResult<()> {
    match p {
        Param::Text(v) => out.push_bind_param::<Text, _>(v),
        Param::OptText(v) => out.push_bind_param::<Nullable<Text>, _>(v),
        Param::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
        Param::Double(v) => out.push_bind_param::<Double, _>(v),
        Param::Bool(v) => out.push_bind_param::<Bool, _>(v),
        Param::Uuid(v) => out.push_bind_param::<diesel::sql_types::Uuid, _>(v),
        Param::Uuids(v) => out.push_bind_param::<Array<diesel::sql_types::Uuid>, _>(v),
        Param::Texts(v) => out.push_bind_param::<Array<Text>, _>(v),
        Param::Time(v) => out.push_bind_param::<Timestamptz, _>(v),
        Param::Json(v) => out.push_bind_param::<Jsonb, _>(v),
    }
}

/// Runs a statement that returns rows.
pub(crate) async fn load<U>(conn: &mut AsyncPgConnection, st: Statement) -> Result<Vec<U>>
where
    U: QueryableByName<Pg> + Send + 'static,
    Statement: for<'a> diesel_async::methods::LoadQuery<'a, AsyncPgConnection, U>,
{
    Ok(RunQueryDsl::load::<U>(st, conn).await?)
}

/// Runs a statement that returns a row count.
pub(crate) async fn execute(conn: &mut AsyncPgConnection, st: Statement) -> Result<usize> {
    Ok(RunQueryDsl::execute(st, conn).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_of(st: &Statement) -> String {
        diesel::debug_query::<Pg, _>(st).to_string()
    }

    #[test]
    fn placeholders_are_renumbered_in_text_order_and_reused() {
        let mut q = Sql::new();
        let a = q.bind("a");
        let b = q.bind("b");
        let unused = q.bind("unused");
        q.push(&format!("SELECT {b} = x AND {a} = y OR {b} = z"));
        let _ = unused;
        let st = q.build(false);
        assert_eq!(
            st.pieces,
            vec![
                Piece::Text("SELECT ".into()),
                Piece::Bind(1),
                Piece::Text(" = x AND ".into()),
                Piece::Bind(0),
                Piece::Text(" = y OR ".into()),
                Piece::Again("$1".into()),
                Piece::Text(" = z".into()),
            ]
        );
        let shown = sql_of(&st);
        assert!(shown.starts_with("SELECT $1 = x AND $2 = y OR $1 = z"), "{shown}");
        assert!(shown.contains(r#"binds: ["b", "a"]"#), "{shown}");
    }

    #[test]
    fn dollars_that_are_not_placeholders_stay() {
        let mut q = Sql::new();
        let p = q.bind("v");
        q.push(&format!("SELECT '$' || {p} || '$9' || '$x'"));
        let shown = sql_of(&q.build(true));
        assert!(shown.starts_with("SELECT '$' || $1 || '$9' || '$x'"), "{shown}");
    }
}

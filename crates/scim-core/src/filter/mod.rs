//! SCIM filters (RFC 7644 §3.4.2.2): the AST, the parser, a printer whose
//! output parses back to the same AST, and the in-memory evaluator that is
//! the reference semantics every store is tested against.

mod eval;
mod parse;
mod print;
#[cfg(test)]
mod tests;

pub use eval::{check, matches};
pub use parse::{FilterLimits, MAX_SUPPORTED_DEPTH, parse};

use crate::path::AttrPath;

/// A parsed filter.
///
/// Entra's form `emails[type eq "work"].value eq "a@b"` is parsed into the
/// equivalent `ValuePath` (`emails[type eq "work" and value eq "a@b"]`), so
/// stores only ever see one shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath pr`
    Present(AttrPath),
    /// `attrPath op value`
    Compare(AttrPath, CompareOp, CompValue),
    /// `attrPath[valFilter]`: some element of the multi-valued (or the
    /// single complex) attribute satisfies the inner filter, whose paths are
    /// sub-attribute names of that attribute (no URN, no sub).
    ValuePath(AttrPath, Box<Filter>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Ordering operators, which RFC 7644 forbids on boolean and binary.
    pub fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }
}

/// A comparison value (`compValue`): JSON false/null/true, a number, or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

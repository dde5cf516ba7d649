//! The canonical text of a filter: lower-case keywords, single spaces, JSON
//! values, and parentheses only where precedence or left-associativity
//! needs them, so that `parse(&f.to_string()) == Ok(f)` for every filter
//! whose paths are valid (value filters naming plain sub-attributes, no
//! nested value paths) and whose nesting stays within the parser's limits.

use super::{CompValue, Filter};
use std::fmt;

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(..) | Filter::Or(..) => write_chain(self, f),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.as_str()),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => f.write_str(&serde_json::to_string(s).map_err(|_| fmt::Error)?),
        }
    }
}

/// Writes an `and`/`or` chain. The parser builds `a and b and c` as
/// `And(And(a, b), c)`, so the left operand of the same operator never
/// needs parentheses, while a right operand of the same operator (or any
/// `or` under an `and`) does.
fn write_chain(filter: &Filter, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let is_and = matches!(filter, Filter::And(..));
    let keyword = if is_and { " and " } else { " or " };
    for (i, operand) in chain(filter).into_iter().enumerate() {
        if i > 0 {
            f.write_str(keyword)?;
        }
        let needs_parens = match operand {
            // Only the first operand can be the other operator on the left;
            // later operands are right operands.
            Filter::Or(..) => is_and || i > 0,
            Filter::And(..) => is_and && i > 0,
            _ => false,
        };
        if needs_parens {
            write!(f, "({operand})")?;
        } else {
            write!(f, "{operand}")?;
        }
    }
    Ok(())
}

/// The operands of the left-nested chain of the operator at the root, in
/// source order: `And(And(a, b), c)` gives `[a, b, c]`; a filter that is
/// not `And`/`Or` gives itself. Walking the left spine in a loop keeps the
/// recursion of the printer and the evaluator proportional to nesting
/// rather than to the length of long `or` lists.
pub(super) fn chain(filter: &Filter) -> Vec<&Filter> {
    let is_and = matches!(filter, Filter::And(..));
    let mut operands = Vec::new();
    let mut current = filter;
    loop {
        match current {
            Filter::And(left, right) if is_and => {
                operands.push(right.as_ref());
                current = left;
            }
            Filter::Or(left, right) if !is_and => {
                operands.push(right.as_ref());
                current = left;
            }
            _ => break,
        }
    }
    operands.push(current);
    operands.reverse();
    operands
}

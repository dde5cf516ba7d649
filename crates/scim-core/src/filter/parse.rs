//! The filter parser: the grammar of RFC 7644 §3.4.2.2 (figure 1).
//!
//! A small on-demand lexer feeds a recursive-descent parser. `and`/`or`
//! chains are parsed by loops; only parentheses, `not (...)` and value paths
//! recurse, and each of those counts against the depth limit, so the stack
//! used is bounded whatever the input.

use super::{CompValue, CompareOp, Filter};
use crate::error::ScimError;
use crate::path::{AttrPath, is_attr_name};

/// The largest nesting depth `parse` honours, whatever `FilterLimits` says:
/// the AST is walked recursively (by `Drop`, `Clone`, the printer, the
/// evaluator, stores), so nesting is bounded by what a small thread stack
/// survives, not only by what a caller configures.
pub const MAX_SUPPORTED_DEPTH: usize = 256;

/// Bounds on the filters `parse` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Longest accepted filter, in bytes (of the decoded query parameter).
    /// This also bounds the length of `and`/`or` chains, which nest to the
    /// left in the AST.
    pub max_length: usize,
    /// Deepest accepted nesting of parentheses, `not (...)` and value paths
    /// (`emails[...]`); a filter without any of them has depth 0. Values
    /// above [`MAX_SUPPORTED_DEPTH`] act as that.
    pub max_depth: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_length: 4096,
            max_depth: 64,
        }
    }
}

/// Parses a SCIM filter (RFC 7644 §3.4.2.2).
///
/// Accepts the full grammar: `attrPath pr`, `attrPath op value`, `and`
/// (binding tighter than `or`, both left-associative), `not (...)`,
/// parentheses and value paths `attr[valFilter]` (no nested value paths;
/// their inner paths are plain sub-attribute names). Keywords and operators
/// are case-insensitive; any run of ASCII whitespace separates tokens, and
/// none is needed next to parentheses, brackets and strings (lenient where
/// RFC 7644 asks for exactly one space, since clients differ).
/// Values are JSON literals: strings with every JSON escape, numbers,
/// `true`, `false`, `null`. Entra's `emails[type eq "work"].value eq "x"`
/// becomes `ValuePath(emails, And(type eq "work", value eq "x"))`.
///
/// This is syntax only: attribute names are not resolved (see
/// [`check`](super::check)).
///
/// # Errors
///
/// Always `invalidFilter` (`ScimError::invalid_filter`), never a panic and
/// never "match everything": for an empty filter, any syntax error (the
/// detail says what was expected, the 0-based character position and what
/// was found there), an input longer than `limits.max_length` bytes, or
/// nesting deeper than `limits.max_depth`.
pub fn parse(input: &str, limits: &FilterLimits) -> Result<Filter, ScimError> {
    if input.len() > limits.max_length {
        return Err(ScimError::invalid_filter(format!(
            "filter is {} bytes long; at most {} are allowed",
            input.len(),
            limits.max_length
        )));
    }
    let mut parser = Parser {
        src: input,
        pos: 0,
        depth: 0,
        max_depth: limits.max_depth.min(MAX_SUPPORTED_DEPTH),
    };
    let filter = parser.or_expr(Scope::Filter)?;
    let tok = parser.next()?;
    if tok.kind != Kind::Eof {
        return Err(parser.expected("\"and\", \"or\" or the end of the filter", &tok));
    }
    Ok(filter)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A quoted string, quotes included, escapes not yet decoded.
    Str,
    /// A maximal run of characters that are neither whitespace nor
    /// `()[]"`: attribute paths, keywords, operators, numbers.
    Word,
    Eof,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Byte offset in the input.
    start: usize,
}

impl Token<'_> {
    fn end(&self) -> usize {
        self.start + self.text.len()
    }

    fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }
}

/// Where an expression sits: value filters (`emails[...]`) only name
/// sub-attributes and cannot contain further value paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Filter,
    ValueFilter,
}

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next unread character.
    pos: usize,
    depth: usize,
    max_depth: usize,
}

const DELIMITERS: &[u8] = b"()[]\"";

impl<'a> Parser<'a> {
    /// The token at `from`, after any whitespace, without consuming it.
    fn lex_at(&self, from: usize) -> Result<Token<'a>, ScimError> {
        let bytes = self.src.as_bytes();
        let mut start = from;
        while bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
            start += 1;
        }
        let token = |kind, end: usize| Token {
            kind,
            text: self.src.get(start..end).unwrap_or(""),
            start,
        };
        let Some(&first) = bytes.get(start) else {
            return Ok(token(Kind::Eof, start));
        };
        let kind = match first {
            b'(' => Kind::LParen,
            b')' => Kind::RParen,
            b'[' => Kind::LBracket,
            b']' => Kind::RBracket,
            b'"' => {
                // Scanning bytes is safe in UTF-8: continuation bytes never
                // equal `"` or `\`, so a skipped escape never hides a quote.
                let mut i = start + 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(ScimError::invalid_filter(format!(
                                "unterminated string starting at position {}",
                                self.char_pos(start)
                            )));
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => return Ok(token(Kind::Str, i + 1)),
                        Some(_) => i += 1,
                    }
                }
            }
            _ => {
                let mut end = start;
                while bytes
                    .get(end)
                    .is_some_and(|b| !b.is_ascii_whitespace() && !DELIMITERS.contains(b))
                {
                    end += 1;
                }
                return Ok(token(Kind::Word, end));
            }
        };
        Ok(token(kind, start + 1))
    }

    fn peek(&self) -> Result<Token<'a>, ScimError> {
        self.lex_at(self.pos)
    }

    fn next(&mut self) -> Result<Token<'a>, ScimError> {
        let tok = self.lex_at(self.pos)?;
        self.pos = tok.end();
        Ok(tok)
    }

    /// The character immediately at the cursor, without skipping whitespace:
    /// `[` after a path and `.` after `]` must be adjacent.
    fn adjacent(&self, c: char) -> bool {
        self.src.get(self.pos..).is_some_and(|rest| rest.starts_with(c))
    }

    /// Byte offset to the 0-based character position users see.
    fn char_pos(&self, byte: usize) -> usize {
        self.src.get(..byte).map_or(byte, |s| s.chars().count())
    }

    fn expected(&self, what: &str, found: &Token<'_>) -> ScimError {
        let shown = match found.kind {
            Kind::Eof => "end of input".to_string(),
            _ => {
                // Long tokens (a whole quoted paragraph) would drown the message.
                let mut text: String = found.text.chars().take(40).collect();
                if text.len() < found.text.len() {
                    text.push('…');
                }
                format!("{text:?}")
            }
        };
        ScimError::invalid_filter(format!(
            "expected {what} at position {} (found {shown})",
            self.char_pos(found.start)
        ))
    }

    /// Counts one level of nesting opened by `tok`.
    fn enter(&mut self, tok: &Token<'_>) -> Result<(), ScimError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ScimError::invalid_filter(format!(
                "filter is nested more than {} levels deep at position {}",
                self.max_depth,
                self.char_pos(tok.start)
            )));
        }
        Ok(())
    }

    /// Consumes the closing token of a level opened by `enter`.
    fn leave(&mut self, close: Kind, what: &str) -> Result<(), ScimError> {
        let tok = self.next()?;
        if tok.kind != close {
            return Err(self.expected(what, &tok));
        }
        self.depth -= 1;
        Ok(())
    }

    /// `expr *(or expr)`, left-associative.
    fn or_expr(&mut self, scope: Scope) -> Result<Filter, ScimError> {
        let mut left = self.and_expr(scope)?;
        while self.eat_keyword("or")? {
            let right = self.and_expr(scope)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `unary *(and unary)`, left-associative.
    fn and_expr(&mut self, scope: Scope) -> Result<Filter, ScimError> {
        let mut left = self.unary(scope)?;
        while self.eat_keyword("and")? {
            let right = self.unary(scope)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn eat_keyword(&mut self, keyword: &str) -> Result<bool, ScimError> {
        let tok = self.peek()?;
        if tok.is_word(keyword) {
            self.pos = tok.end();
            return Ok(true);
        }
        Ok(false)
    }

    /// `( filter )`, `not ( filter )`, or an attribute expression.
    fn unary(&mut self, scope: Scope) -> Result<Filter, ScimError> {
        let tok = self.next()?;
        match tok.kind {
            Kind::LParen => self.parenthesised(&tok, scope),
            Kind::Word if tok.text.eq_ignore_ascii_case("not") => {
                let after = self.peek()?;
                if after.kind == Kind::LParen {
                    self.pos = after.end();
                    return Ok(Filter::Not(Box::new(self.parenthesised(&after, scope)?)));
                }
                // `not` may also be an attribute named "not"; it is one only
                // if what follows could follow an attribute path.
                let value_path = after.kind == Kind::LBracket && after.start == tok.end();
                let operator = after.is_word("pr") || (after.kind == Kind::Word && parse_op(after.text).is_some());
                if !value_path && !operator {
                    return Err(self.expected("\"(\" after \"not\"", &after));
                }
                self.attr_expr(&tok, scope)
            }
            Kind::Word => self.attr_expr(&tok, scope),
            _ => Err(self.expected("an attribute path, \"not\" or \"(\"", &tok)),
        }
    }

    /// The rest of `( filter )` after the opening parenthesis `open`.
    fn parenthesised(&mut self, open: &Token<'_>, scope: Scope) -> Result<Filter, ScimError> {
        self.enter(open)?;
        let inner = self.or_expr(scope)?;
        self.leave(Kind::RParen, "\"and\", \"or\" or \")\"")?;
        Ok(inner)
    }

    /// `attrPath pr`, `attrPath op value`, `attrPath[valFilter]`, or
    /// Entra's `attrPath[valFilter].sub (pr | op value)`.
    fn attr_expr(&mut self, tok: &Token<'_>, scope: Scope) -> Result<Filter, ScimError> {
        let Some(path) = AttrPath::parse(tok.text) else {
            return Err(self.expected("an attribute path", tok));
        };
        if scope == Scope::ValueFilter && (path.urn.is_some() || path.sub.is_some()) {
            return Err(self.expected("a sub-attribute name (inside a value filter)", tok));
        }
        if !self.adjacent('[') {
            return self.condition(path);
        }
        let open = self.next()?;
        if scope == Scope::ValueFilter {
            return Err(ScimError::invalid_filter(format!(
                "value filters cannot be nested, at position {}",
                self.char_pos(open.start)
            )));
        }
        self.enter(&open)?;
        let inner = self.or_expr(Scope::ValueFilter)?;
        self.leave(Kind::RBracket, "\"and\", \"or\" or \"]\"")?;
        if !self.adjacent('.') {
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let after_dot = self.pos + 1;
        self.pos = after_dot;
        let sub = self.next()?;
        if sub.kind != Kind::Word || sub.start != after_dot || !is_attr_name(sub.text) {
            return Err(self.expected("a sub-attribute name after \"].\"", &sub));
        }
        let condition = self.condition(AttrPath::name(sub.text))?;
        Ok(Filter::ValuePath(
            path,
            Box::new(Filter::And(Box::new(inner), Box::new(condition))),
        ))
    }

    /// After a path: `pr` or `op value`.
    fn condition(&mut self, path: AttrPath) -> Result<Filter, ScimError> {
        let tok = self.next()?;
        if tok.is_word("pr") {
            return Ok(Filter::Present(path));
        }
        match parse_op(tok.text) {
            Some(op) if tok.kind == Kind::Word => Ok(Filter::Compare(path, op, self.comp_value()?)),
            _ => Err(self.expected("a comparison operator or \"pr\"", &tok)),
        }
    }

    /// `compValue = false / null / true / number / string`, as JSON.
    fn comp_value(&mut self) -> Result<CompValue, ScimError> {
        const WHAT: &str = "a value (a string, number, true, false or null)";
        let tok = self.next()?;
        match tok.kind {
            Kind::Str => serde_json::from_str::<String>(tok.text)
                .map(CompValue::String)
                .map_err(|e| {
                    // serde_json appends "at line 1 column N", which means
                    // nothing to someone who typed a query parameter.
                    let message = e.to_string();
                    let reason = message.split(" at line ").next().unwrap_or("invalid string");
                    ScimError::invalid_filter(format!(
                        "invalid string at position {}: {reason}",
                        self.char_pos(tok.start)
                    ))
                }),
            Kind::Word => {
                let text = tok.text;
                if text.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if text.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if text.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                    parse_number(text)
                        .map(CompValue::Number)
                        .ok_or_else(|| self.expected("a JSON number", &tok))
                } else {
                    Err(self.expected(WHAT, &tok))
                }
            }
            _ => Err(self.expected(WHAT, &tok)),
        }
    }
}

/// A JSON number. serde_json checks the syntax and keeps integers exact;
/// fractions are re-read by the standard library, whose parsing is
/// correctly rounded where serde_json's default is not (it can be an ulp
/// off for long mantissas), so printing and re-parsing a filter always
/// gives back the same `f64`.
fn parse_number(text: &str) -> Option<serde_json::Number> {
    let number = serde_json::from_str::<serde_json::Number>(text).ok()?;
    if number.is_f64() {
        return text.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
    }
    Some(number)
}

fn parse_op(text: &str) -> Option<CompareOp> {
    const OPS: [CompareOp; 9] = [
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
    OPS.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(text))
}

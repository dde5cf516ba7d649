//! Whether the default projection leaves a stored document as it is,
//! decided on its JSON text without building a `Value`: the same rules as
//! `Projection::apply_owned` under no `attributes`/`excludedAttributes`
//! (`project_member`, `keep_attr`, `project_attr`), for renderers that copy
//! stored text instead of projecting it (the server's list pages).
//!
//! The text is read by `Compact`, a strict reader of JSON as serde_json
//! writes it (what stores hold): no whitespace between tokens, only the
//! escapes serde_json writes, numbers only as it writes them, no repeated
//! name. Anything else, valid JSON or not, is refused and the caller
//! renders through `Value`, so a refusal costs speed, never correctness:
//! what is accepted is exactly what the `Value` path would write (a test
//! mutates documents byte by byte to hold it to that). Why not serde_json:
//! its visitors cost ~7,000 instructions for a 290-byte user, a quarter of
//! a page of 100 (docs/performance.md).

use super::{Member, What};
use crate::schema::{AttributeDef, ResourceType, Returned, Schema};
use std::sync::OnceLock;

/// How deep values may nest, the top-level object included: serde_json's
/// own limit, so that nothing refused by the `Value` path is accepted here.
const DEPTH: u32 = 127;

/// Most members a generic object (inside a simple attribute's value) may
/// have here: their names are kept on the stack to refuse a repeated one.
const MEMBERS: usize = 16;

/// What the default projection does with the top-level members of one
/// resource type's documents, by name, looked up once (the server keeps
/// one for users): `members` then reads each document. It holds copies of
/// the schemas' parts it needs, so a registry cannot change under it.
#[derive(Debug, Clone)]
pub struct UnchangedByDefault {
    /// Each name a document may hold, spelled as the projection spells it,
    /// and what it is.
    names: Vec<(String, Top)>,
    /// `names`' indexes by the length of the name.
    by_len: Vec<Vec<usize>>,
    /// What a `Verdict` is sealed with (`sealed`), so that one found by
    /// another check (of another schema or build) is not taken.
    seal: u64,
}

/// A document the default projection keeps as it is, split for a renderer
/// that writes members of its own after `schemas`: each part is the
/// document's own text, members as written (`"name":value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Members<'a> {
    /// The `schemas` member, if the document has one.
    pub schemas: Option<&'a str>,
    /// The other members in order: those before `schemas` and those after
    /// it (all of them in the first, without `schemas`), each run joined
    /// by commas, with none at either end; either may be empty.
    pub others: [&'a str; 2],
}

/// A top-level member the default projection keeps (`project_member`).
#[derive(Debug, Clone)]
enum Top {
    /// `schemas`, kept as it is.
    Schemas,
    /// An extension's object.
    Extension(Schema),
    /// An attribute of the core schema or the common ones.
    Attr(AttributeDef),
}

impl UnchangedByDefault {
    pub fn new(rt: &ResourceType) -> Self {
        let extensions = rt.extensions.iter().map(|ext| ext.schema.id.as_str());
        let attributes = rt.common().attributes.iter().chain(&rt.core.attributes);
        let candidates = std::iter::once("schemas")
            .chain(extensions)
            .chain(attributes.map(|def| def.name.as_str()));
        let mut names: Vec<(String, Top)> = Vec::new();
        for name in candidates {
            if let Some(top) = top_member(rt, name).filter(|_| names.iter().all(|(seen, _)| seen != name)) {
                names.push((name.to_string(), top));
            }
        }
        let mut by_len = vec![Vec::new(); names.iter().map(|(name, _)| name.len() + 1).max().unwrap_or(0)];
        for (i, (name, _)) in names.iter().enumerate() {
            by_len[name.len()].push(i);
        }
        UnchangedByDefault { names, by_len, seal: 0 }.sealed()
    }

    /// With `seal` the hash of what decides: the rules (this file's source
    /// and the projection's, so that a build whose check answers otherwise
    /// takes no verdict an older one found) and the table (every name,
    /// what it is, each attribute with all its characteristics, and which
    /// are looked up). Anything else that changes the seal (a schema's
    /// description, say) only costs verdicts being found again.
    fn sealed(mut self) -> Self {
        // The rules are the same for every check of a build: hashed once.
        static RULES_HASH: OnceLock<u64> = OnceLock::new();
        let rules = *RULES_HASH.get_or_init(|| hash(hash(0, RULES[0].as_bytes()), RULES[1].as_bytes()));
        self.seal = hash(rules, format!("{:?}{:?}", self.names, self.by_len).as_bytes());
        self
    }

    /// What this check's verdicts are sealed with: two checks with the same
    /// seal take each other's verdicts (and answer alike).
    pub fn seal(&self) -> u64 {
        self.seal
    }

    /// The check a renderer that writes `DERIVED` itself needs: kept as it
    /// is by the default projection, and holding none of them.
    pub fn for_rendering(rt: &ResourceType) -> Self {
        UnchangedByDefault::new(rt).without(&DERIVED)
    }

    /// The same, but refusing documents that hold any of `names` (members a
    /// renderer writes itself, say).
    pub fn without(mut self, names: &[&str]) -> Self {
        for bucket in &mut self.by_len {
            bucket.retain(|&i| !names.contains(&self.names[i].0.as_str()));
        }
        self.sealed()
    }

    /// The members of `doc` (a resource of this type, as JSON text), when
    /// `Projection::default().apply_owned` would return the document
    /// unchanged: every name spelled as the schema spells it and given
    /// once, no unknown member or sub-attribute, nothing `returned: never`
    /// or `request`, no empty or scalar complex value. `None` otherwise, or
    /// when `doc` is not a JSON object written as serde_json writes one
    /// (see the module doc), or writes a name with escapes.
    ///
    /// One pass: each value is checked as it is read, and the first thing
    /// the projection would change ends it.
    pub fn members<'a>(&self, doc: &'a str) -> Option<Members<'a>> {
        self.locate(doc).and_then(|at| at.members(doc))
    }

    /// What `members` finds of `doc`, to keep with it (see `Verdict`).
    pub fn verdict(&self, doc: &str) -> Verdict {
        let (start, end) = match self.locate(doc) {
            // With space after the closing brace the offsets would not
            // say where it is: such a document is checked each time.
            Some(at) if at.close + 1 != doc.len() => (UNKNOWN, UNKNOWN),
            Some(Located { schemas: None, .. }) => (0, 0),
            Some(Located { schemas: Some(at), .. }) => match (u32::try_from(at.start), u32::try_from(at.end)) {
                (Ok(start), Ok(end)) if end < UNKNOWN => (start, end),
                _ => (UNKNOWN, UNKNOWN),
            },
            None => (NOT_KEPT, NOT_KEPT),
        };
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&hash(self.seal, doc.as_bytes()).to_le_bytes());
        bytes[8..12].copy_from_slice(&start.to_le_bytes());
        bytes[12..].copy_from_slice(&end.to_le_bytes());
        Verdict(bytes)
    }

    /// `members(doc)`, taking `verdict`'s word for it when this check found
    /// it of this very document (its hash of both matches): a hash of the
    /// text instead of reading it as JSON. Otherwise, or without one, the
    /// check reads the document.
    pub fn members_given<'a>(&self, doc: &'a str, verdict: Option<&Verdict>) -> Option<Members<'a>> {
        let Some(Verdict(bytes)) = verdict else {
            return self.members(doc);
        };
        let [h0, h1, h2, h3, h4, h5, h6, h7, s0, s1, s2, s3, e0, e1, e2, e3] = *bytes;
        if u64::from_le_bytes([h0, h1, h2, h3, h4, h5, h6, h7]) != hash(self.seal, doc.as_bytes()) {
            return self.members(doc);
        }
        let (start, end) = (
            u32::from_le_bytes([s0, s1, s2, s3]),
            u32::from_le_bytes([e0, e1, e2, e3]),
        );
        let located = match (start, end) {
            (NOT_KEPT, _) => return None,
            (UNKNOWN, _) => return self.members(doc),
            (0, 0) => Located {
                schemas: None,
                close: doc.len().checked_sub(1)?,
            },
            (start, end) => Located {
                schemas: Some(usize::try_from(start).ok()?..usize::try_from(end).ok()?),
                close: doc.len().checked_sub(1)?,
            },
        };
        located.members(doc)
    }

    /// Where `members` lie in `doc`, read in one pass (see `members`).
    fn locate(&self, doc: &str) -> Option<Located> {
        let mut text = Compact { text: doc, at: 0 };
        text.expect(b'{')?;
        let mut schemas = None;
        if !text.eat(b'}') {
            // Which of `names` were seen: a repeated name is one member in
            // a `Value` (the last wins).
            let mut seen = Seen::default();
            loop {
                let start = text.at;
                let name = text.name()?;
                let (i, top) = self.lookup(name)?;
                seen.first(i)?;
                match top {
                    Top::Schemas => {
                        text.value(DEPTH - 1)?;
                        schemas = Some(start..text.at);
                    }
                    Top::Extension(ext) => extension(&mut text, ext)?,
                    Top::Attr(def) => attr(&mut text, def, DEPTH - 1)?,
                }
                if !text.eat(b',') {
                    text.expect(b'}')?;
                    break;
                }
            }
        }
        // Whitespace after the document is no member's.
        let close = text.at - 1;
        let rest = doc.get(text.at..)?;
        if !rest.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
            return None;
        }
        Some(Located { schemas, close })
    }

    fn lookup(&self, name: &str) -> Option<(usize, &Top)> {
        let i = *self
            .by_len
            .get(name.len())?
            .iter()
            .find(|&&i| self.names[i].0 == name)?;
        Some((i, &self.names[i].1))
    }
}

/// Members a server derives when it renders a resource, not stored with
/// it: `id` and `meta` (RFC 7643 §3.1) and a user's `groups` (from the
/// memberships). A renderer writing them itself takes only documents that
/// hold none of them (`for_rendering`).
const DERIVED: [&str; 3] = ["id", "meta", "groups"];

/// What `UnchangedByDefault::verdict` found of one document, for a store to
/// keep with it so that a reader need not read it as JSON again: where
/// `schemas` lies in it, or that the default projection changes it. Sealed
/// with a hash of the document and of the check: `members_given` takes it
/// only from the same check about the same text, so a verdict outlives no
/// change to the document (written by anyone) or to the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict([u8; 16]);

impl Verdict {
    /// As kept: the hash, then where `schemas` starts and ends (`0, 0`
    /// without it, `NOT_KEPT` twice when the projection changes the
    /// document, `UNKNOWN` twice when the offsets cannot say), each
    /// little-endian.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// A verdict as kept; `None` unless 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Verdict> {
        Some(Verdict(bytes.try_into().ok()?))
    }
}

/// The source of the rules a verdict depends on: this reader and the
/// projection it follows (`sealed`).
const RULES: [&str; 2] = [include_str!("text.rs"), include_str!("../projection.rs")];

/// Where `schemas` would start in a verdict on a document the default
/// projection changes.
const NOT_KEPT: u32 = u32::MAX;

/// The same, on a document kept whose members the offsets cannot place
/// (a longer one than they count, or with space after it).
const UNKNOWN: u32 = u32::MAX - 1;

/// Where the members of a document the default projection keeps lie: its
/// `schemas` member, and the closing brace.
struct Located {
    schemas: Option<std::ops::Range<usize>>,
    close: usize,
}

impl Located {
    /// The parts of `doc`: each member ends where a comma or the closing
    /// brace begins.
    fn members<'a>(&self, doc: &'a str) -> Option<Members<'a>> {
        let close = self.close;
        Some(match &self.schemas {
            None => Members {
                schemas: None,
                others: [doc.get(1..close)?, ""],
            },
            Some(at) => Members {
                schemas: Some(doc.get(at.clone())?),
                others: [
                    doc.get(1..at.start.saturating_sub(1).max(1))?,
                    doc.get((at.end + 1).min(close)..close)?,
                ],
            },
        })
    }
}

/// A 64-bit hash of `bytes` from `seed`, eight bytes at a time: to tell
/// one text from another, not to resist someone choosing texts (whoever
/// writes the database can write any verdict anyway).
fn hash(seed: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let mut last = [0; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(K);
    // murmur3's finaliser: every bit of the input moves every bit out.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// What the projection takes a top-level `name` for (`Member::of`), when
/// it is spelled as the schema spells it and not unknown.
fn top_member(rt: &ResourceType, name: &str) -> Option<Top> {
    let member = Member::of(rt, name);
    if !member.canonical {
        return None;
    }
    match member.what {
        What::Schemas => Some(Top::Schemas),
        What::Extension(ext) => Some(Top::Extension(ext.clone())),
        What::Attr(def) => Some(Top::Attr(def.clone())),
        What::Unknown => None,
    }
}

/// Indexes seen in one object (up to 128): a second sight is refused.
#[derive(Default)]
struct Seen(u128);

impl Seen {
    fn first(&mut self, i: usize) -> Option<()> {
        let bit = 1u128.checked_shl(u32::try_from(i).ok()?)?;
        let first = self.0 & bit == 0;
        self.0 |= bit;
        first.then_some(())
    }

    /// The one of `defs` named `name` (case-insensitively, as
    /// `Schema::attribute` matches), the first time it is seen.
    fn first_of<'d>(&mut self, defs: &'d [AttributeDef], name: &str) -> Option<&'d AttributeDef> {
        let alike = |def: &AttributeDef| def.name.eq_ignore_ascii_case(name);
        // The exact spelling is the usual one and cheaper to find; it is
        // the answer unless one before it differs only in case.
        let i = match defs.iter().position(|def| def.name == name) {
            Some(i) if !defs[..i].iter().any(alike) => i,
            _ => defs.iter().position(alike)?,
        };
        self.first(i)?;
        defs.get(i)
    }
}

/// An extension's object: every member a canonically spelled attribute of
/// the extension, given once, that is itself unchanged, and at least one.
fn extension(text: &mut Compact, ext: &Schema) -> Option<()> {
    let mut seen = Seen::default();
    text.object(|text, name| {
        let def = seen.first_of(&ext.attributes, name)?;
        (def.name == name).then_some(())?;
        attr(text, def, DEPTH - 2)
    })
}

/// One attribute's value under the default projection (`project_attr`):
/// dropped if `never` or `request`; kept as it is if simple or `always`; a
/// complex value only if it (or each element of its array, at least one)
/// is kept whole. The value may nest `depth` deep.
fn attr(text: &mut Compact, def: &AttributeDef, depth: u32) -> Option<()> {
    match def.returned {
        Returned::Never | Returned::Request => None,
        Returned::Always => text.value(depth),
        Returned::Default if !def.is_complex() => text.value(depth),
        Returned::Default if text.eat(b'[') => loop {
            kept_whole(text, def, depth.checked_sub(1)?)?;
            if !text.eat(b',') {
                return text.expect(b']');
            }
        },
        Returned::Default => kept_whole(text, def, depth),
    }
}

/// `kept_whole` of `project_attr`: a non-empty object whose every name is
/// a sub-attribute the default projection keeps (matched as it matches
/// them, case-insensitively), each given once.
fn kept_whole(text: &mut Compact, def: &AttributeDef, depth: u32) -> Option<()> {
    let depth = depth.checked_sub(1)?;
    let mut seen = Seen::default();
    text.object(|text, name| match seen.first_of(&def.sub_attributes, name)?.returned {
        Returned::Always | Returned::Default => text.value(depth),
        Returned::Never | Returned::Request => None,
    })
}

/// A reader of JSON text in serde_json's compact form, `at` bytes in.
/// Each method reads one thing at `at` and moves past it, or answers
/// `None` for anything else.
struct Compact<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Compact<'a> {
    fn eat(&mut self, byte: u8) -> bool {
        let here = self.text.as_bytes().get(self.at) == Some(&byte);
        self.at += usize::from(here);
        here
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A non-empty object, each member's value read by `value` given its
    /// name (written without escapes; repeats are `value`'s to refuse).
    fn object(&mut self, mut value: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        loop {
            let name = self.name()?;
            value(self, name)?;
            if !self.eat(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// A member's name without escapes and its colon: the name.
    fn name(&mut self) -> Option<&'a str> {
        let start = self.at + 1;
        let escaped = self.string()?;
        let name = self.text.get(start..self.at - 1)?;
        self.expect(b':')?;
        (!escaped).then_some(name)
    }

    /// A string: whether it holds escapes.
    /// Only the escapes serde_json writes: `\"`, `\\`, `\b`, `\f`, `\n`,
    /// `\r`, `\t`, and `\u00xx` (lower-case hex) for the other control
    /// characters. Any other `\u` (a lone surrogate, which a `Value`
    /// refuses, say) is left to the `Value` path.
    fn string(&mut self) -> Option<bool> {
        self.expect(b'"')?;
        let bytes = self.text.as_bytes();
        let mut escaped = false;
        loop {
            // Eight bytes at a time to the next one that needs a look.
            while let Some(word) = bytes.get(self.at..self.at + 8) {
                let found = special(u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?));
                if found != 0 {
                    self.at += found.trailing_zeros() as usize / 8;
                    break;
                }
                self.at += 8;
            }
            let byte = *bytes.get(self.at)?;
            self.at += 1;
            match byte {
                b'"' => return Some(escaped),
                b'\\' => match bytes.get(self.at)? {
                    b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        self.at += 1;
                        escaped = true;
                    }
                    b'u' => {
                        let hex = bytes.get(self.at + 1..self.at + 5)?;
                        let control = match hex {
                            [b'0', b'0', b'0', low] => low.is_ascii_digit() || (b'a'..=b'f').contains(low),
                            [b'0', b'0', b'1', low] => low.is_ascii_digit() || (b'a'..=b'f').contains(low),
                            _ => false,
                        };
                        // Those with a short escape are written short.
                        if !control || matches!(hex, b"0008" | b"0009" | b"000a" | b"000c" | b"000d") {
                            return None;
                        }
                        self.at += 5;
                        escaped = true;
                    }
                    _ => return None,
                },
                0..=0x1f => return None,
                _ => {}
            }
        }
    }

    /// Any value, nesting at most `depth` deep.
    fn value(&mut self, depth: u32) -> Option<()> {
        let bytes = self.text.as_bytes();
        match *bytes.get(self.at)? {
            b'"' => self.string().map(drop),
            b'{' if depth > 0 => {
                if bytes.get(self.at + 1) == Some(&b'}') {
                    self.at += 2;
                    return Some(());
                }
                let mut names = [""; MEMBERS];
                let mut count = 0;
                self.object(|text, name| {
                    if names[..count].contains(&name) {
                        return None;
                    }
                    *names.get_mut(count)? = name;
                    count += 1;
                    text.value(depth - 1)
                })
            }
            b'[' if depth > 0 => {
                self.at += 1;
                if self.eat(b']') {
                    return Some(());
                }
                loop {
                    self.value(depth - 1)?;
                    if !self.eat(b',') {
                        return self.expect(b']');
                    }
                }
            }
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// A number as serde_json writes it, so that a `Value` would write it
    /// the same: an integer without a leading zero in the range of an
    /// `i64` or a `u64` (not `-0`, which a `Value` holds as `-0.0`); any
    /// other number only if it is exactly how serde_json writes the `f64`
    /// it parses to (`1.5`, not `1.50` or `15e-1`).
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        let negative = self.eat(b'-');
        if !self.eat(b'0') {
            self.digits()?;
        }
        let integer = self.at;
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        let written = self.text.get(start..self.at)?;
        if self.at == integer {
            // A leading zero ends the integer ("01" fails at the "1").
            let canonical = written.parse::<i64>().is_ok_and(|n| n != 0 || !negative) || written.parse::<u64>().is_ok();
            return canonical.then_some(());
        }
        let float = written.parse::<f64>().ok()?;
        let rewritten = serde_json::Number::from_f64(float)?.to_string();
        (rewritten == written).then_some(())
    }

    /// One digit or more.
    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }
}

/// Whether JSON needs any byte of `s` escaped: `"`, `\\` or a control
/// character. Eight bytes at a time (`special`), for renderers that copy
/// strings into JSON text and quote the rare one that needs it.
pub fn needs_escape(s: &str) -> bool {
    let bytes = s.as_bytes();
    let word = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        special(u64::from_le_bytes(w))
    };
    if bytes.len() < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    // Whole words, then the last eight bytes (overlapping the last word
    // read) for the rest.
    let mut found = word(bytes.len() - 8);
    for at in (0..bytes.len() - 8).step_by(8) {
        found |= word(at);
    }
    found != 0
}

/// The bytes of `word` (read little-endian) a string must look at, `"`,
/// `\` or a control character, as the high bit of each: the lowest one
/// set is the first such byte. The classic test for a zero byte,
/// `(x - 0x01..) & !x & 0x80..`, finds the first one exactly (a borrow can
/// only mark bytes above it); `x < 0x20` is the same test with 0x20.
fn special(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    below(quote, 1) | below(backslash, 1) | below(word, 0x20)
}

#[cfg(test)]
mod tests {
    use super::special;

    /// Each byte a string must look at is found at each of the eight
    /// places, among bytes that are not (the neighbours of `"` and `\`,
    /// space, DEL, non-ASCII) and before others that are, and a word of
    /// those alone is passed over.
    #[test]
    fn special_finds_quotes_backslashes_and_control_bytes_anywhere() {
        let ordinary = [b' ', b'!', b'#', b'[', b']', b'a', 0x7f, 0x80, 0xc3, 0xff];
        for fill in ordinary {
            assert_eq!(special(u64::from_le_bytes([fill; 8])), 0, "{fill:#x}");
            let mixed: [u8; 8] = std::array::from_fn(|i| ordinary[(i + usize::from(fill)) % ordinary.len()]);
            assert_eq!(special(u64::from_le_bytes(mixed)), 0, "{mixed:?}");
            let needles: Vec<u8> = (0..0x20).chain([b'"', b'\\']).collect();
            for (n, &needle) in needles.iter().enumerate() {
                for at in 0..8 {
                    let mut word = [fill; 8];
                    word[at] = needle;
                    // Another after it, which must not hide it.
                    if at < 7 {
                        word[7] = needles[(n + 1) % needles.len()];
                    }
                    let first = special(u64::from_le_bytes(word)).trailing_zeros() / 8;
                    assert_eq!(first as usize, at, "{needle:#x} at {at} in {word:?}");
                }
            }
        }
    }
}

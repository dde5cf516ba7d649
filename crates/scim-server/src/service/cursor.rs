//! Cursors (RFC 9865): opaque to clients, tamper-evident, bound to a
//! tenant and a query, and expiring.
//!
//! A cursor is `base64url(JSON state) "." base64url(HMAC-SHA256(key, first
//! part))`. The state names the tenant, what is listed (`User`, `Group` or
//! `root`), a fingerprint of the filter and sort, where the page starts and
//! when the cursor was issued. Nothing is kept on the server, so any
//! instance that shares the key (`[scim] cursor_secret`) can continue a
//! listing another instance started.
//!
//! Where a page starts is a keyset position, never an offset: a page after
//! position P is "the next `count` items after P in the sort order", so
//! creates and deletes elsewhere in the list neither skip nor repeat items,
//! and page N costs what page 1 costs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use scim_core::{ScimError, ScimType};
use scim_store::{Kind, Position};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Start {
    /// After these positions, one per kind listed (`None`: from the start
    /// of that kind). Each kind keeps its own position, so a search across
    /// kinds resumes each kind exactly where its items stopped.
    #[serde(rename = "a")]
    After(Vec<(Kind, Option<Position>)>),
    /// The page that ends just before this id, in id order: what
    /// `previousCursor` points at (only for listings in id order, where the
    /// reverse order is exact; see `paging.rs`).
    #[serde(rename = "b")]
    Before(String),
}

/// What a cursor says, once verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct State {
    /// Tenant id.
    t: String,
    /// `User`, `Group` or `root`.
    s: String,
    /// Fingerprint of the filter and sort.
    f: String,
    p: Start,
    /// Issued at, Unix seconds.
    i: i64,
}

/// The query a cursor belongs to: a cursor of another tenant, endpoint,
/// filter or sort is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub tenant: String,
    pub scope: &'static str,
    pub fingerprint: String,
}

impl Binding {
    /// `filter` and `sort` in canonical text (the parsed filter printed, the
    /// sort path in lower case with its order), so spelling differences that
    /// mean the same query keep the cursor valid.
    pub fn new(tenant: &str, scope: &'static str, filter: &str, sort: &str) -> Binding {
        let digest = Sha256::digest(format!("{scope}\n{filter}\n{sort}").as_bytes());
        Binding {
            tenant: tenant.to_string(),
            scope,
            fingerprint: digest.iter().take(16).map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// Signs and verifies cursors with one key.
pub struct CursorCodec {
    key: Vec<u8>,
    timeout: Duration,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("CursorCodec").field("timeout", &self.timeout).finish()
    }
}

impl CursorCodec {
    pub fn new(key: Vec<u8>, timeout: Duration) -> CursorCodec {
        CursorCodec { key, timeout }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; the error cannot happen.
        HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| HmacSha256::new(&Default::default()))
    }

    /// A cursor for `start` of the query `binding`, issued at `now` (Unix
    /// seconds).
    pub fn encode(&self, binding: &Binding, start: Start, now: i64) -> String {
        let state = State {
            t: binding.tenant.clone(),
            s: binding.scope.to_string(),
            f: binding.fingerprint.clone(),
            p: start,
            i: now,
        };
        // Serializing plain data to JSON cannot fail.
        let json = serde_json::to_vec(&state).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// Verifies a cursor for `binding` at `now`: 400 `invalidCursor` when it
    /// was not issued by this key or not for this query, 400
    /// `expiredCursor` when older than the timeout.
    pub fn decode(&self, cursor: &str, binding: &Binding, now: i64) -> Result<Start, ScimError> {
        let invalid = |why: &str| ScimError::bad_request(ScimType::InvalidCursor, format!("invalid cursor: {why}"));
        let (body, tag) = cursor
            .split_once('.')
            .ok_or_else(|| invalid("it is not a cursor this server issued"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| invalid("it is not a cursor this server issued"))?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| invalid("it was modified or not issued by this server"))?;
        let state: State = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| invalid("it is not a cursor this server issued"))?;
        if state.t != binding.tenant {
            return Err(invalid("it was issued to another tenant"));
        }
        if state.s != binding.scope || state.f != binding.fingerprint {
            return Err(invalid(
                "it was issued for another query; send the same endpoint, filter, sortBy and sortOrder with it",
            ));
        }
        let age = now.saturating_sub(state.i);
        let timeout = i64::try_from(self.timeout.as_secs()).unwrap_or(i64::MAX);
        if age > timeout {
            return Err(ScimError::bad_request(
                ScimType::ExpiredCursor,
                format!("the cursor expired ({timeout} s after it was issued); start again without a cursor"),
            ));
        }
        Ok(state.p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codec() -> CursorCodec {
        CursorCodec::new(b"0123456789abcdef0123456789abcdef".to_vec(), Duration::from_secs(600))
    }

    fn binding() -> Binding {
        Binding::new("tenant-1", "User", "userName sw \"a\"", "username ascending")
    }

    fn start() -> Start {
        Start::After(vec![(
            Kind::User,
            Some(Position {
                key: json!("alice"),
                id: "7f1c".into(),
            }),
        )])
    }

    fn scim_type(e: ScimError) -> (u16, Option<ScimType>) {
        (e.status, e.scim_type)
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_query() {
        let c = codec();
        let cursor = c.encode(&binding(), start(), 1_000);
        assert_eq!(c.decode(&cursor, &binding(), 1_000 + 600).unwrap(), start());
        let before = c.encode(&binding(), Start::Before("abc".into()), 1_000);
        assert_eq!(
            c.decode(&before, &binding(), 1_001).unwrap(),
            Start::Before("abc".into())
        );
    }

    #[test]
    fn modified_foreign_or_garbage_cursors_are_invalid() {
        let c = codec();
        let cursor = c.encode(&binding(), start(), 1_000);
        let invalid = (400, Some(ScimType::InvalidCursor));
        // One character of the state changed: the MAC no longer matches.
        let (body, tag) = cursor.split_once('.').unwrap();
        let mut bytes = body.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{}.{tag}", String::from_utf8(bytes).unwrap());
        assert_eq!(scim_type(c.decode(&tampered, &binding(), 1_000).unwrap_err()), invalid);
        // The same state signed with another key.
        let other = CursorCodec::new(b"another key, another instance!!".to_vec(), Duration::from_secs(600));
        let foreign = other.encode(&binding(), start(), 1_000);
        assert_eq!(scim_type(c.decode(&foreign, &binding(), 1_000).unwrap_err()), invalid);
        for garbage in ["", "abc", "abc.def", "!!!.???", "e30.e30"] {
            assert_eq!(
                scim_type(c.decode(garbage, &binding(), 1_000).unwrap_err()),
                invalid,
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_cursor_is_bound_to_tenant_scope_and_query() {
        let c = codec();
        let cursor = c.encode(&binding(), start(), 1_000);
        let invalid = (400, Some(ScimType::InvalidCursor));
        let others = [
            Binding::new("tenant-2", "User", "userName sw \"a\"", "username ascending"),
            Binding::new("tenant-1", "Group", "userName sw \"a\"", "username ascending"),
            Binding::new("tenant-1", "root", "userName sw \"a\"", "username ascending"),
            Binding::new("tenant-1", "User", "userName sw \"b\"", "username ascending"),
            Binding::new("tenant-1", "User", "userName sw \"a\"", "username descending"),
        ];
        for other in others {
            let e = c.decode(&cursor, &other, 1_000).unwrap_err();
            assert_eq!(scim_type(e), invalid, "{other:?}");
        }
    }

    #[test]
    fn an_old_cursor_is_expired_and_says_so() {
        let c = codec();
        let cursor = c.encode(&binding(), start(), 1_000);
        let e = c.decode(&cursor, &binding(), 1_000 + 601).unwrap_err();
        assert_eq!(scim_type(e.clone()), (400, Some(ScimType::ExpiredCursor)));
        assert!(e.detail.contains("600"), "{}", e.detail);
    }

    #[test]
    fn the_debug_output_has_no_key() {
        assert!(!format!("{:?}", codec()).contains("0123"));
    }
}

//! Bearer tokens: their format, argon2id hashing, verification with a cache,
//! and the failed-authentication rate limit.
//!
//! A token reads `scim_<id>_<secret>`. The id locates the stored record, so
//! a request costs at most one argon2 verification (~60 ms of CPU, on
//! purpose) instead of one per stored token. A verified token is then
//! remembered, keyed by the SHA-256 of the whole token, for `ttl`: requests
//! inside that window pay one hash lookup. After the TTL the record is read
//! again, so a revocation reaches every instance within the TTL; when the
//! record is unchanged (same hash, not revoked) the argon2 step is skipped.

use crate::config::IpNet;
use crate::metrics::Metrics;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use scim_store::{Store, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every token starts with this, so secret scanners can recognise them.
const PREFIX: &str = "scim_";
/// Random bytes in a token id and a token secret.
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
/// How often the store hears that a token was used.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// The failed-auth window.
const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked addresses, expired ones are swept out.
const LIMITER_SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    /// Malformed, unknown, revoked or wrong: one answer for all, so a client
    /// learns nothing about which.
    #[error("invalid bearer token")]
    Invalid,
    #[error("too many failed authentication attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("token store: {0}")]
    Store(StoreError),
    /// Hashing or randomness failed.
    #[error("token cryptography: {0}")]
    Crypto(String),
}

/// Who a request is: the token's tenant, the token's id, and the user
/// `/Me` means for it (when the token was created with `--user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: String,
    pub token_id: String,
    pub user: Option<String>,
}

/// A new token: its id and the whole secret token string (shown once).
pub(crate) fn new_token() -> Result<(String, String), AuthError> {
    let id = random_hex(ID_BYTES)?;
    let secret = random_hex(SECRET_BYTES)?;
    let token = format!("{PREFIX}{id}_{secret}");
    Ok((id, token))
}

fn random_hex(n: usize) -> Result<String, AuthError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| AuthError::Crypto(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Splits `scim_<id>_<secret>` into id and secret.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(id) && hex(secret)).then_some((id, secret))
}

/// The argon2id PHC string of `secret` (blocking: ~60 ms of CPU).
pub(crate) fn hash_secret(secret: &[u8]) -> Result<String, AuthError> {
    argon2::Argon2::default()
        .hash_password(secret)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Crypto(e.to_string()))
}

/// Whether `secret` matches the PHC string (blocking).
fn verify_secret(secret: &[u8], phc: &str) -> bool {
    argon2::Argon2::default().verify_password(secret, phc).is_ok()
}

/// The stored hash of a whole token string: only its secret part is hashed.
pub(crate) fn hash_token(token: &str) -> Result<String, AuthError> {
    let (_, secret) = split_token(token).ok_or(AuthError::Invalid)?;
    hash_secret(secret.as_bytes())
}

/// Runs blocking argon2 work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::Crypto(format!("hashing task failed: {e}")))
}

struct Entry {
    principal: Principal,
    /// The PHC string the token was verified against.
    hash: String,
    verified: Instant,
    touched: Instant,
}

type Digest32 = [u8; 32];

/// Verifies bearer tokens against the store, with the cache and the limit.
pub struct Authenticator {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    ttl: Duration,
    cache: Mutex<HashMap<Digest32, Entry>>,
    /// One verification per token at a time: a burst of requests with a
    /// token not yet cached pays argon2 once, not once per request.
    inflight: Mutex<HashMap<Digest32, Arc<tokio::sync::Mutex<()>>>>,
    limiter: RateLimiter,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, ttl: Duration, failures_per_minute: u32) -> Self {
        Authenticator {
            store,
            metrics,
            ttl,
            cache: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
            limiter: RateLimiter::new(failures_per_minute),
        }
    }

    /// Authenticates the value of an `Authorization` header for a client
    /// address (`None` when unknown, e.g. in-process tests).
    pub async fn authenticate(&self, header: Option<&str>, client: Option<IpAddr>) -> Result<Principal, AuthError> {
        let Some(token) = header.and_then(bearer) else {
            if let Some(retry_after_secs) = self.limiter.blocked(client) {
                return Err(AuthError::RateLimited { retry_after_secs });
            }
            return Err(self.fail(client, AuthError::Missing));
        };
        let digest: Digest32 = Sha256::digest(token.as_bytes()).into();
        // A token verified within the TTL is accepted without looking at the
        // limiter: it costs no argon2, and IdPs of different customers can
        // share egress addresses with someone who is failing.
        if let Some(p) = self.cached(&digest) {
            self.metrics.token_cache_hit();
            return Ok(p);
        }
        self.metrics.token_cache_miss();
        if let Some(retry_after_secs) = self.limiter.blocked(client) {
            return Err(AuthError::RateLimited { retry_after_secs });
        }
        let gate = {
            let mut inflight = lock(&self.inflight);
            inflight.entry(digest).or_default().clone()
        };
        let result = {
            let _turn = gate.lock().await;
            match self.cached(&digest) {
                Some(p) => Ok(p),
                None => self.verify(token, digest).await,
            }
        };
        {
            let mut inflight = lock(&self.inflight);
            // Two references: the map's and ours. Nobody else is waiting.
            if Arc::strong_count(&gate) <= 2 {
                inflight.remove(&digest);
            }
        }
        result.map_err(|e| match e {
            AuthError::Invalid | AuthError::Missing => self.fail(client, e),
            other => other,
        })
    }

    fn fail(&self, client: Option<IpAddr>, e: AuthError) -> AuthError {
        self.limiter.record_failure(client);
        e
    }

    /// A fresh cache entry's principal; touches the token now and then.
    fn cached(&self, digest: &Digest32) -> Option<Principal> {
        let mut cache = lock(&self.cache);
        let entry = cache.get_mut(digest)?;
        let now = Instant::now();
        if now.duration_since(entry.verified) >= self.ttl {
            return None;
        }
        if now.duration_since(entry.touched) >= TOUCH_EVERY {
            entry.touched = now;
            self.touch(&entry.principal.token_id);
        }
        Some(entry.principal.clone())
    }

    /// Reads the record; verifies argon2 unless an expired entry already
    /// verified this token against the same hash.
    async fn verify(&self, token: &str, digest: Digest32) -> Result<Principal, AuthError> {
        let (id, secret) = split_token(token).ok_or(AuthError::Invalid)?;
        let record = match self.store.token(id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Err(AuthError::Invalid),
            Err(e) => return Err(AuthError::Store(e)),
        };
        if record.revoked.is_some() {
            lock(&self.cache).remove(&digest);
            return Err(AuthError::Invalid);
        }
        let known = lock(&self.cache)
            .get(&digest)
            .is_some_and(|e| e.hash == record.hash && e.principal.token_id == record.id);
        if !known {
            let (secret, phc) = (secret.to_string(), record.hash.clone());
            if !blocking(move || verify_secret(secret.as_bytes(), &phc)).await? {
                return Err(AuthError::Invalid);
            }
        }
        let principal = Principal {
            tenant: record.tenant.clone(),
            token_id: record.id.clone(),
            user: record.user.clone(),
        };
        let now = Instant::now();
        let mut cache = lock(&self.cache);
        let touched = match cache.get(&digest) {
            Some(old) if now.duration_since(old.touched) < TOUCH_EVERY => old.touched,
            _ => {
                self.touch(&record.id);
                now
            }
        };
        cache.retain(|_, e| now.duration_since(e.verified) < self.ttl);
        cache.insert(
            digest,
            Entry {
                principal: principal.clone(),
                hash: record.hash,
                verified: now,
                touched,
            },
        );
        Ok(principal)
    }

    /// Records use of a token off the request path.
    fn touch(&self, token_id: &str) {
        let (store, id) = (self.store.clone(), token_id.to_string());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.touch_token(&id, chrono::Utc::now()).await {
                    tracing::debug!(token_id = %id, error = %e, "could not record token use");
                }
            });
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold no invariant a panic could break halfway; keep serving.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Failed authentications per client address in fixed one-minute windows.
struct RateLimiter {
    limit: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    fn new(limit: u32) -> Self {
        RateLimiter {
            limit: limit.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the address may try again, when it is over the limit.
    fn blocked(&self, client: Option<IpAddr>) -> Option<u64> {
        let ip = client?;
        let windows = lock(&self.windows);
        let (start, failures) = windows.get(&ip)?;
        let elapsed = start.elapsed();
        (elapsed < WINDOW && *failures >= self.limit).then(|| (WINDOW - elapsed).as_secs().max(1))
    }

    fn record_failure(&self, client: Option<IpAddr>) {
        let Some(ip) = client else { return };
        let mut windows = lock(&self.windows);
        let now = Instant::now();
        if windows.len() >= LIMITER_SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let w = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(w.0) >= WINDOW {
            *w = (now, 0);
        }
        w.1 = w.1.saturating_add(1);
    }
}

/// The address a request comes from: the peer, or, when the peer is a
/// trusted proxy, the nearest `X-Forwarded-For` hop that is not one.
pub(crate) fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or("")
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(**ip))
        .or(hops.first())
        .copied()
        .or(Some(peer))
}

#[cfg(test)]
mod tests;

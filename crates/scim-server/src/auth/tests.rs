use super::*;
use crate::admin;
use scim_core::schema::Registry;
use scim_store_memory::MemoryStore;

async fn setup(ttl: Duration, limit: u32) -> (Arc<dyn Store>, Authenticator, Arc<Metrics>) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(Registry::builtin())));
    admin::create_tenant(store.as_ref(), "acme").await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let auth = Authenticator::new(store.clone(), metrics.clone(), ttl, limit);
    (store, auth, metrics)
}

fn bearer_of(token: &str) -> String {
    format!("Bearer {token}")
}

#[test]
fn tokens_have_the_documented_shape_and_verify_against_their_hash() {
    let (id, token) = new_token().unwrap();
    assert!(token.starts_with(&format!("scim_{id}_")));
    let (sid, secret) = split_token(&token).unwrap();
    assert_eq!(sid, id);
    assert_eq!(secret.len(), 64);
    let phc = hash_token(&token).unwrap();
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains(secret));
    assert!(verify_secret(secret.as_bytes(), &phc));
    assert!(!verify_secret(b"0000", &phc));
    for bad in [
        "",
        "scim_",
        "scim_abc",
        "scim__abc",
        "scim_abc_",
        "xyz_ab_cd",
        "scim_zz_11",
    ] {
        assert!(split_token(bad).is_none(), "{bad}");
    }
}

#[test]
fn bearer_header_parsing() {
    assert_eq!(bearer("Bearer abc"), Some("abc"));
    assert_eq!(bearer("bearer   abc "), Some("abc"));
    assert_eq!(bearer("Basic abc"), None);
    assert_eq!(bearer("Bearer "), None);
    assert_eq!(bearer("Bearer"), None);
}

#[tokio::test]
async fn a_verified_token_is_served_from_the_cache_within_the_ttl() {
    let (store, auth, metrics) = setup(Duration::from_secs(60), 30).await;
    let (record, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let p = auth.authenticate(Some(&bearer_of(&token)), None).await.unwrap();
    assert_eq!(p.token_id, record.id);
    assert_eq!(p.tenant, record.tenant);
    for _ in 0..5 {
        auth.authenticate(Some(&bearer_of(&token)), None).await.unwrap();
    }
    let text = metrics.render();
    assert!(text.contains("scim_token_cache_misses_total 1"), "{text}");
    assert!(text.contains("scim_token_cache_hits_total 5"), "{text}");
}

#[tokio::test]
async fn revocation_is_seen_once_the_ttl_has_passed() {
    let ttl = Duration::from_millis(300);
    let (store, auth, _) = setup(ttl, 30).await;
    let (record, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let header = bearer_of(&token);
    auth.authenticate(Some(&header), None).await.unwrap();
    admin::revoke_token(store.as_ref(), &record.id).await.unwrap();
    // Within the TTL the cached verification still stands ...
    auth.authenticate(Some(&header), None).await.unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    // ... after it, the store is asked again and says revoked.
    assert_eq!(auth.authenticate(Some(&header), None).await, Err(AuthError::Invalid));
    assert_eq!(auth.authenticate(Some(&header), None).await, Err(AuthError::Invalid));
}

#[tokio::test]
async fn an_expired_entry_is_renewed_when_the_record_is_unchanged() {
    let ttl = Duration::from_millis(100);
    let (store, auth, metrics) = setup(ttl, 30).await;
    let (_, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    auth.authenticate(Some(&bearer_of(&token)), None).await.unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(20)).await;
    auth.authenticate(Some(&bearer_of(&token)), None).await.unwrap();
    auth.authenticate(Some(&bearer_of(&token)), None).await.unwrap();
    let text = metrics.render();
    assert!(text.contains("scim_token_cache_misses_total 2"), "{text}");
    assert!(text.contains("scim_token_cache_hits_total 1"), "{text}");
}

#[tokio::test]
async fn wrong_unknown_and_malformed_tokens_are_invalid() {
    let (store, auth, _) = setup(Duration::from_secs(30), 100).await;
    let (record, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let wrong_secret = format!("scim_{}_{}", record.id, "ab".repeat(32));
    let unknown_id = format!("scim_0123456789abcdef_{}", "ab".repeat(32));
    for t in [
        wrong_secret.as_str(),
        unknown_id.as_str(),
        "garbage",
        &token[..token.len() - 1],
    ] {
        assert_eq!(
            auth.authenticate(Some(&bearer_of(t)), None).await,
            Err(AuthError::Invalid),
            "{t}"
        );
    }
    assert_eq!(auth.authenticate(None, None).await, Err(AuthError::Missing));
    assert_eq!(
        auth.authenticate(Some(&format!("Basic {token}")), None).await,
        Err(AuthError::Missing)
    );
}

#[tokio::test]
async fn failures_are_rate_limited_per_address_but_verified_tokens_keep_working() {
    let (store, auth, _) = setup(Duration::from_secs(30), 3).await;
    let (_, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let good = bearer_of(&token);
    let attacker: IpAddr = "192.0.2.7".parse().unwrap();
    let neighbour: IpAddr = "192.0.2.8".parse().unwrap();
    auth.authenticate(Some(&good), Some(attacker)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            auth.authenticate(Some("Bearer scim_00_11"), Some(attacker)).await,
            Err(AuthError::Invalid)
        );
    }
    assert!(matches!(
        auth.authenticate(Some("Bearer scim_00_11"), Some(attacker)).await,
        Err(AuthError::RateLimited { retry_after_secs }) if (1..=60).contains(&retry_after_secs)
    ));
    assert!(matches!(
        auth.authenticate(None, Some(attacker)).await,
        Err(AuthError::RateLimited { .. })
    ));
    // The cached token from the same address still works; other addresses
    // are not affected.
    auth.authenticate(Some(&good), Some(attacker)).await.unwrap();
    assert_eq!(
        auth.authenticate(Some("Bearer scim_00_11"), Some(neighbour)).await,
        Err(AuthError::Invalid)
    );
}

#[tokio::test]
async fn a_burst_of_requests_with_a_new_token_verifies_once() {
    let (store, auth, metrics) = setup(Duration::from_secs(30), 30).await;
    let (_, token) = admin::create_token(store.as_ref(), "acme", None, None).await.unwrap();
    let auth = Arc::new(auth);
    let header = bearer_of(&token);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (auth, header) = (auth.clone(), header.clone());
            tokio::spawn(async move { auth.authenticate(Some(&header), None).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert!(lock(&auth.inflight).is_empty());
    assert!(metrics.render().contains("scim_token_cache_hits_total"));
}

#[test]
fn client_address_honours_forwarded_for_only_from_trusted_proxies() {
    let trusted = [IpNet::parse("10.0.0.0/8").unwrap()];
    let proxy: IpAddr = "10.1.1.1".parse().unwrap();
    let outsider: IpAddr = "203.0.113.9".parse().unwrap();
    // An untrusted peer's header is ignored.
    assert_eq!(client_ip(Some(outsider), Some("1.2.3.4"), &trusted), Some(outsider));
    // Through a trusted proxy: the nearest untrusted hop.
    assert_eq!(
        client_ip(Some(proxy), Some("1.2.3.4, 198.51.100.2, 10.2.2.2"), &trusted),
        Some("198.51.100.2".parse().unwrap())
    );
    // A trusted proxy without the header is the client itself.
    assert_eq!(client_ip(Some(proxy), None, &trusted), Some(proxy));
    assert_eq!(client_ip(None, Some("1.2.3.4"), &trusted), None);
}

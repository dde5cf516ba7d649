//! Operator actions on tenants and tokens, shared by the CLI and tests.

use crate::auth::{self, AuthError};
use scim_store::{Ctx, Kind, Load, Store, StoreError, Tenant, TokenRecord};

/// Longest tenant name.
const MAX_NAME: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid tenant name '{0}': use 1 to 64 letters, digits, '.', '_' or '-'")]
    InvalidName(String),
    #[error("tenant '{0}' already exists")]
    TenantExists(String),
    #[error("no tenant named '{0}'")]
    UnknownTenant(String),
    #[error("no token with id '{0}'")]
    UnknownToken(String),
    #[error("no user with id '{user}' in tenant '{tenant}'")]
    UnknownUser { tenant: String, user: String },
    #[error("cannot make a token: {0}")]
    Token(#[from] AuthError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Creates a tenant.
pub async fn create_tenant(store: &dyn Store, name: &str) -> Result<Tenant, AdminError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(AdminError::InvalidName(name.to_string()));
    }
    store.create_tenant(name).await.map_err(|e| match e {
        StoreError::Conflict { .. } => AdminError::TenantExists(name.to_string()),
        other => AdminError::Store(other),
    })
}

/// Looks a tenant up by name.
pub async fn tenant(store: &dyn Store, name: &str) -> Result<Tenant, AdminError> {
    store.tenant_by_name(name).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::UnknownTenant(name.to_string()),
        other => AdminError::Store(other),
    })
}

/// Deletes a tenant with everything in it.
pub async fn delete_tenant(store: &dyn Store, name: &str) -> Result<Tenant, AdminError> {
    let t = tenant(store, name).await?;
    store.delete_tenant(&t.id).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::UnknownTenant(name.to_string()),
        other => AdminError::Store(other),
    })?;
    Ok(t)
}

/// Creates a token for the tenant named `tenant_name`, bound to `user` (the
/// user `/Me` means; it must exist in the tenant) when given. Returns the
/// stored record (with only the argon2id hash) and the token itself, which
/// exists nowhere else: show it once.
pub async fn create_token(
    store: &dyn Store,
    tenant_name: &str,
    description: Option<&str>,
    user: Option<&str>,
) -> Result<(TokenRecord, String), AdminError> {
    let t = tenant(store, tenant_name).await?;
    if let Some(user) = user {
        let ctx = Ctx::new(t.id.clone(), None, "admin");
        store
            .get(&ctx, Kind::User, user, Load::WITHOUT_MEMBERS)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AdminError::UnknownUser {
                    tenant: tenant_name.to_string(),
                    user: user.to_string(),
                },
                other => AdminError::Store(other),
            })?;
    }
    // A fresh id colliding with a stored one is astronomically unlikely, but
    // costs only a retry.
    for _ in 0..3 {
        let (id, token) = auth::new_token()?;
        let hash = {
            let token = token.clone();
            auth::blocking(move || auth::hash_token(&token)).await??
        };
        let record = TokenRecord {
            id,
            tenant: t.id.clone(),
            hash,
            description: description.map(str::to_string),
            user: user.map(str::to_string),
            created: chrono::Utc::now(),
            last_used: None,
            revoked: None,
        };
        match store.create_token(record.clone()).await {
            Ok(()) => return Ok((record, token)),
            Err(StoreError::Conflict { .. }) => continue,
            Err(StoreError::NotFound) => return Err(AdminError::UnknownTenant(tenant_name.to_string())),
            Err(e) => return Err(e.into()),
        }
    }
    Err(AdminError::Store(StoreError::Backend(
        "could not find a free token id".into(),
    )))
}

/// Revokes a token; it stops working everywhere within `[auth]
/// cache_ttl_secs`.
pub async fn revoke_token(store: &dyn Store, token_id: &str) -> Result<(), AdminError> {
    store.revoke_token(token_id).await.map_err(|e| match e {
        StoreError::NotFound => AdminError::UnknownToken(token_id.to_string()),
        other => AdminError::Store(other),
    })
}

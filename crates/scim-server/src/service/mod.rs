//! Orchestration: scim-core's rules around store calls. No HTTP here: the
//! wire layer hands in parsed values (a body, a projection, a base URL, an
//! `If-Match` condition) and gets back rendered resources or a
//! `ServiceError`.
//!
//! - `read.rs`: get, list/search, and rendering a stored resource.
//! - `write.rs`: create, replace, patch (with the retry loop), delete, and
//!   what happens to passwords.
//! - `paging.rs`: lists and searches of one kind or all (root search), by
//!   index or by cursor; `cursor.rs`: signing and checking cursors.
//! - `bulk.rs`: /Bulk, each operation through the calls above.

mod bulk;
mod cursor;
mod error;
mod paging;
mod read;
mod text;
mod write;

pub use cursor::{Binding, CursorCodec, Start};
pub use error::{ServiceError, store_error_to_scim};
pub use paging::{ListParams, Scope};
pub use text::ListPage;
pub use write::PatchOutcome;

use crate::config::{Config, PasswordMode};
use scim_core::filter::FilterLimits;
use scim_core::projection::{Projection, UnchangedByDefault};
use scim_core::schema::{Registry, ResourceType};
use scim_store::{Kind, Store};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The settings the service needs, resolved from config and the store.
#[derive(Debug, Clone)]
pub struct Settings {
    pub password: PasswordMode,
    pub patch_response_max_members: u64,
    pub default_count: u64,
    /// `[scim] max_results` capped by the store's own limit: the value
    /// /ServiceProviderConfig advertises.
    pub max_results: u64,
    pub filter_limits: FilterLimits,
    /// `[scim.bulk] max_operations` and `max_payload_size`.
    pub bulk_max_operations: u32,
    pub bulk_max_payload_size: usize,
    /// Signs cursors with `[scim] cursor_secret`, or a per-process key.
    pub cursors: Arc<CursorCodec>,
}

impl Settings {
    pub fn new(config: &Config, store: &dyn Store) -> Settings {
        let caps = store.capabilities();
        Settings {
            password: config.scim.password,
            patch_response_max_members: config.scim.patch_response_max_members,
            default_count: config.scim.default_count,
            max_results: u64::from(config.scim.max_results.min(caps.max_results)),
            filter_limits: FilterLimits {
                max_length: config.scim.filter_max_length,
                max_depth: config.scim.filter_max_depth,
            },
            bulk_max_operations: config.scim.bulk.max_operations,
            bulk_max_payload_size: config.scim.bulk.max_payload_size,
            cursors: Arc::new(CursorCodec::new(
                cursor_key(config.scim.cursor_secret.as_deref()),
                Duration::from_secs(config.scim.cursor_timeout_secs),
            )),
        }
    }
}

/// The configured cursor secret, or 32 random bytes: then cursors work only
/// on this instance and until it restarts (docs/configuration.md says so).
fn cursor_key(secret: Option<&str>) -> Vec<u8> {
    if let Some(s) = secret {
        return s.as_bytes().to_vec();
    }
    let mut key = vec![0u8; 32];
    if let Err(e) = getrandom::fill(&mut key) {
        // Not reachable on the platforms we build for; a key from the clock
        // and the process id still makes cursors tamper-evident per process.
        tracing::warn!(error = %e, "no randomness for the cursor key; deriving one from the clock");
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        key = <sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes()).to_vec();
    }
    key
}

/// How a response is to be rendered: where resources live, and which
/// attributes the client asked for.
#[derive(Debug, Clone)]
pub struct View {
    /// `https://host/scim/v2`, without a trailing slash.
    pub base: String,
    pub projection: Projection,
}

/// A rendered resource: the JSON, its version (the ETag) and its location.
#[derive(Debug, Clone)]
pub struct Output {
    pub doc: Value,
    pub version: u64,
    pub location: String,
}

/// A resource rendered as its JSON text, with its version (the ETag): what
/// GET answers.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub json: String,
    pub version: u64,
}

impl Output {
    /// The JSON text of `doc`.
    pub fn into_rendered(self) -> Result<Rendered, ServiceError> {
        // Serialising a `Value` cannot fail (its keys are strings); the
        // error is still typed rather than unwrapped.
        let json = serde_json::to_string(&self.doc)
            .map_err(|e| ServiceError::Internal(format!("rendering a resource: {e}")))?;
        Ok(Rendered {
            json,
            version: self.version,
        })
    }
}

/// The SCIM service over one store.
pub struct Service {
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    settings: Settings,
    /// The user schema's names, looked up once for every list page
    /// (`ListPage::push_user`), not once a page.
    users_unchanged: UnchangedByDefault,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, registry: Arc<Registry>, settings: Settings) -> Service {
        Service {
            store,
            users_unchanged: UnchangedByDefault::for_rendering(registry.user()),
            registry,
            settings,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Signs and checks cursors.
    pub fn cursors(&self) -> &CursorCodec {
        &self.settings.cursors
    }

    /// The resource type of a store kind.
    pub fn rt(&self, kind: Kind) -> &ResourceType {
        match kind {
            Kind::User => self.registry.user(),
            Kind::Group => self.registry.group(),
        }
    }
}

#[cfg(test)]
mod tests;

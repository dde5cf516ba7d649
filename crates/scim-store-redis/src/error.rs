//! The crate's own error type and its mapping onto the store contract's
//! kinds: the server only ever sees `StoreError`.

use redis::{ErrorKind, RedisError, ServerErrorKind};
use scim_store::StoreError;

/// What can go wrong inside this crate.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("redis: {0}")]
    Redis(#[from] RedisError),
    /// A call that did not finish within the configured timeouts.
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A reply of a shape this crate's scripts never send, or data this
    /// crate did not write the way it reads it back.
    #[error("unexpected data from redis: {0}")]
    Corrupt(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A contract-level outcome decided by a script or by the store's own
    /// logic (not found, conflict, version mismatch, invalid member, ...).
    #[error("{0}")]
    Store(StoreError),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Redis(e) if is_unavailable(&e) => StoreError::Unavailable(e.to_string()),
            Error::Timeout(_) => StoreError::Unavailable(e.to_string()),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Errors that say Redis cannot be reached or cannot serve now, so a later
/// retry may succeed: I/O (refused, reset, timed out), a cluster without a
/// node for the slot, in failover or still moving a slot (a redirection the
/// client could not follow within its retries, as when the slot's master
/// just died), a server still loading its data or busy running a long
/// script.
fn is_unavailable(e: &RedisError) -> bool {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return true;
    }
    if e.code() == Some("BUSY") {
        return true;
    }
    matches!(
        e.kind(),
        ErrorKind::ClusterConnectionNotFound
            | ErrorKind::Server(
                ServerErrorKind::ClusterDown
                    | ServerErrorKind::Moved
                    | ServerErrorKind::Ask
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ReadOnly
            )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_unavailable_and_the_rest_backend() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(
            StoreError::from(Error::Redis(refused)),
            StoreError::Unavailable(_)
        ));
        let timeout = Error::Timeout(std::time::Duration::from_secs(1));
        assert!(matches!(StoreError::from(timeout), StoreError::Unavailable(_)));
        let syntax = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "syntax error"));
        assert!(matches!(StoreError::from(Error::Redis(syntax)), StoreError::Backend(_)));
        assert_eq!(
            StoreError::from(Error::Store(StoreError::NotFound)),
            StoreError::NotFound
        );
        assert!(matches!(
            StoreError::from(Error::Corrupt("x".into())),
            StoreError::Backend(_)
        ));
    }
}

//! The crate's own error type and its mapping onto the store contract's
//! kinds: the server only ever sees `StoreError`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use scim_store::StoreError;

/// What can go wrong inside this crate.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("postgres: {0}")]
    Db(#[from] DieselError),
    /// The connection a statement ran on died under it (server restart,
    /// network): worth retrying on a new one.
    #[error("the database connection was lost: {0}")]
    Lost(DieselError),
    /// No connection could be had from the pool: timed out waiting, or the
    /// server refused or did not answer.
    #[error("no database connection: {0}")]
    Pool(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A row that this crate did not write the way it reads it back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A contract-level outcome decided by the store's own logic (not
    /// found, version mismatch, invalid member, ...).
    #[error("{0}")]
    Store(StoreError),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        Error::Store(e)
    }
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for Error {
    fn from(e: diesel_async::pooled_connection::deadpool::PoolError) -> Error {
        Error::Pool(e.to_string())
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Db(e) => map_diesel(&e),
            Error::Lost(e) => StoreError::Unavailable(format!("the database connection was lost: {e}")),
            Error::Pool(e) => StoreError::Unavailable(format!("no database connection: {e}")),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Unique violations name the attribute whose index they come from, foreign
/// keys say which side was missing (the constraint names are the
/// migration's); a dead connection, a statement timeout and a lost race
/// with a concurrent transaction are worth retrying.
fn map_diesel(e: &DieselError) -> StoreError {
    let DieselError::DatabaseError(kind, info) = e else {
        return StoreError::Backend(e.to_string());
    };
    let constraint = info.constraint_name().unwrap_or("");
    match kind {
        DatabaseErrorKind::UniqueViolation => StoreError::Conflict {
            attribute: conflict_attribute(constraint).into(),
        },
        DatabaseErrorKind::ForeignKeyViolation => match constraint {
            "memberships_member_fkey" => StoreError::InvalidValue("a member does not exist in the tenant".into()),
            // The tenant (or the group) was not there, or went away meanwhile.
            _ => StoreError::NotFound,
        },
        DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection => {
            StoreError::Unavailable(info.message().to_string())
        }
        DatabaseErrorKind::SerializationFailure => {
            StoreError::Unavailable("a concurrent transaction conflicted; retry".into())
        }
        _ => {
            let message = info.message();
            // PostgreSQL reports these without a kind diesel names; its
            // messages are English unless lc_messages says otherwise.
            if message.contains("statement timeout") {
                StoreError::Unavailable("the statement timed out".into())
            } else if message.contains("deadlock detected") {
                StoreError::Unavailable("a concurrent transaction conflicted (deadlock); retry".into())
            } else if message.contains("terminating connection") || message.contains("shutting down") {
                StoreError::Unavailable(message.to_string())
            } else {
                StoreError::Backend(message.to_string())
            }
        }
    }
}

fn conflict_attribute(constraint: &str) -> &'static str {
    match constraint {
        "resources_user_name_key" => "userName",
        "tenants_name_key" => "name",
        _ => "id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Info(&'static str, &'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.1
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some(self.0)
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn db(kind: DatabaseErrorKind, constraint: &'static str, message: &'static str) -> StoreError {
        Error::Db(DieselError::DatabaseError(kind, Box::new(Info(constraint, message)))).into()
    }

    #[test]
    fn database_errors_map_to_contract_kinds() {
        use DatabaseErrorKind::*;
        assert_eq!(
            db(UniqueViolation, "resources_user_name_key", "dup"),
            StoreError::Conflict {
                attribute: "userName".into()
            }
        );
        assert_eq!(
            db(UniqueViolation, "tenants_name_key", "dup"),
            StoreError::Conflict {
                attribute: "name".into()
            }
        );
        assert_eq!(
            db(UniqueViolation, "tokens_pkey", "dup"),
            StoreError::Conflict { attribute: "id".into() }
        );
        assert_eq!(
            db(ForeignKeyViolation, "resources_tenant_fkey", "fk"),
            StoreError::NotFound
        );
        assert!(matches!(
            db(ForeignKeyViolation, "memberships_member_fkey", "fk"),
            StoreError::InvalidValue(_)
        ));
        assert!(matches!(db(ClosedConnection, "", "closed"), StoreError::Unavailable(_)));
        assert!(matches!(
            db(Unknown, "", "canceling statement due to statement timeout"),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(db(Unknown, "", "syntax error"), StoreError::Backend(_)));
        assert!(matches!(
            StoreError::from(Error::Pool("timeout".into())),
            StoreError::Unavailable(_)
        ));
    }
}

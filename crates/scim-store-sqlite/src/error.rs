//! The crate's own error type and its mapping onto the store contract's
//! kinds: the server only ever sees `StoreError`.

use rusqlite::ffi;
use scim_store::StoreError;

/// What can go wrong inside this crate.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A row that this crate did not write the way it reads it back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database was written by a newer version of this crate.
    #[error("database schema version {found} is newer than the {known} this build knows")]
    NewerSchema { found: i64, known: i64 },
    #[error("the writer thread has stopped")]
    WriterGone,
    /// The request itself was fine, but its batch's transaction failed (the
    /// disk, or another request broke it), so nothing of it was stored.
    #[error("the transaction of this write could not commit")]
    BatchAborted,
    /// A read tried on an async thread would step over rows it does not
    /// return (`query::Work::Returned`); it runs again on the blocking pool.
    #[error("this read would scan; it must run on the blocking pool")]
    WouldScan,
    #[error("a blocking task failed: {0}")]
    Join(String),
    /// A contract-level outcome decided by the store's own logic
    /// (not found, version mismatch, invalid member, ...).
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
            Error::Sqlite(e) => map_sqlite(&e),
            Error::WriterGone => StoreError::Unavailable("the SQLite writer has stopped".into()),
            Error::BatchAborted => StoreError::Unavailable("the write could not commit; retry".into()),
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Unique violations name the attribute whose index they come from (the
/// index names are the schema's, see `migrations/`); lock contention with
/// another process and a full or unreachable disk are worth retrying.
fn map_sqlite(e: &rusqlite::Error) -> StoreError {
    let Some(code) = e.sqlite_error() else {
        return StoreError::Backend(e.to_string());
    };
    let message = e.to_string();
    match code.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => StoreError::Conflict {
            attribute: conflict_attribute(&message).into(),
        },
        _ => match code.code {
            rusqlite::ErrorCode::DatabaseBusy
            | rusqlite::ErrorCode::DatabaseLocked
            | rusqlite::ErrorCode::DiskFull
            | rusqlite::ErrorCode::CannotOpen
            | rusqlite::ErrorCode::SystemIoFailure => StoreError::Unavailable(message),
            _ => StoreError::Backend(message),
        },
    }
}

/// SQLite reports unique violations as `UNIQUE constraint failed:
/// table.column, ...`; the last column says which attribute it was.
fn conflict_attribute(message: &str) -> &'static str {
    if message.contains("resources.user_name_key") {
        "userName"
    } else if message.contains("tenants.name") {
        "name"
    } else {
        "id"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_name_their_attribute() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE resources (tenant, kind, user_name_key, UNIQUE (tenant, kind, user_name_key));
             INSERT INTO resources VALUES ('t', 'User', 'a');",
        )
        .unwrap();
        let e = conn
            .execute("INSERT INTO resources VALUES ('t', 'User', 'a')", [])
            .unwrap_err();
        assert_eq!(
            StoreError::from(Error::from(e)),
            StoreError::Conflict {
                attribute: "userName".into()
            }
        );
    }
}

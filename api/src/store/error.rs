use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

use super::sealing::envelope::SealError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the field it guards.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// The database cannot be reached (down, restarting, unreachable, or no connection
    /// came free in `database_acquire_timeout`): the request may be retried later.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Db(#[source] DbErr),
    /// A row holds a value this code cannot read back.
    #[error("unreadable row: {0}")]
    Corrupt(&'static str),
    /// A sealed secret that does not open: no key, another key, or altered or moved.
    #[error("{table}.{column} of row {row}: {source}")]
    Unsealable {
        table: &'static str,
        column: &'static str,
        /// The row's primary key (an account id or a key id: no secret).
        row: String,
        #[source]
        source: SealError,
    },
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            // SQLite ("UNIQUE constraint failed: users.email") names the table and column,
            // PostgreSQL the index, which is named after them; anything else unique is
            // the username.
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                StoreError::Conflict(if detail.contains("email") {
                    "email"
                } else if detail.contains("passkeys") {
                    "passkey"
                } else if detail.contains("auth_headers") || detail.contains("apps") {
                    "name"
                } else {
                    "username"
                })
            }
            _ if is_unavailable(&err) => StoreError::Unavailable(err),
            _ => StoreError::Db(err),
        }
    }
}

/// Whether the error says the database is out of reach rather than that the statement
/// is wrong: no connection in time, a connection refused, reset or closed under the
/// query, or a server that is shutting down or starting up. A statement that failed on
/// a live database (a constraint, a type, a syntax error) is not: retrying cannot help.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => match runtime {
            RuntimeErr::SqlxError(e) => sqlx_unavailable(e),
            RuntimeErr::Internal(_) => false,
        },
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 is "connection exception"; 57P01-57P03 are the server
        // shutting down (admin, crash) or not accepting connections yet.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnAcquireErr;
    use std::sync::Arc;

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_a_bad_statement_is_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let unavailable = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(refused)))),
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::PoolTimedOut))),
        ];
        for err in unavailable {
            assert!(
                matches!(StoreError::from(err), StoreError::Unavailable(_)),
                "unavailable"
            );
        }
        let broken = [
            DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound))),
            DbErr::Custom("no".into()),
            DbErr::Exec(RuntimeErr::Internal("bad".into())),
        ];
        for err in broken {
            assert!(matches!(StoreError::from(err), StoreError::Db(_)), "db");
        }
    }
}

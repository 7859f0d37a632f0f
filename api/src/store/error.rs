use sea_orm::{DbErr, SqlErr};

use super::sealing::envelope::SealError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the field it guards.
    #[error("{0} is already taken")]
    Conflict(&'static str),
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
            _ => StoreError::Db(err),
        }
    }
}

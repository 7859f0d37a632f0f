use sea_orm::{DbErr, SqlErr};

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
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            // Both SQLite ("UNIQUE constraint failed: users.email") and PostgreSQL (the
            // index name) mention the column; anything else unique is the username.
            Some(SqlErr::UniqueConstraintViolation(detail)) => {
                StoreError::Conflict(if detail.contains("email") {
                    "email"
                } else {
                    "username"
                })
            }
            _ => StoreError::Db(err),
        }
    }
}

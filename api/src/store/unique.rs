//! Lookups by a primary key or unique index.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Select};

/// The row a primary key or unique index selects, if any.
///
/// SeaORM's `.one()` appends `LIMIT ?` with the 1 as a bound parameter. SQLite takes a
/// bound LIMIT as something the query plan may depend on, so every execution of such a
/// statement recompiles it: in `bench/profile.sh`, recompiling its two lookups was 19%
/// of the instructions of a `me` request. A unique key selects at most one row and
/// needs no LIMIT, so these statements compile once per connection and are reused.
pub(super) trait UniqueRow<E: EntityTrait> {
    async fn unique<C: ConnectionTrait>(self, db: &C) -> Result<Option<E::Model>, DbErr>;
}

impl<E: EntityTrait> UniqueRow<E> for Select<E> {
    async fn unique<C: ConnectionTrait>(self, db: &C) -> Result<Option<E::Model>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}

//! Lookups by a primary key or unique index.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Select, SelectTwo};

/// The row a primary key or unique index selects, if any.
///
/// SeaORM's `.one()` appends `LIMIT ?` with the 1 as a bound parameter. SQLite takes a
/// bound LIMIT as something the query plan may depend on, so every execution of such a
/// statement recompiles it, on the path of every authenticated request. A unique key
/// selects at most one row and needs no LIMIT, so these statements compile once per
/// connection and are reused.
pub(super) trait UniqueRow {
    type Row;
    async fn unique<C: ConnectionTrait>(self, db: &C) -> Result<Option<Self::Row>, DbErr>;
}

impl<E: EntityTrait> UniqueRow for Select<E> {
    type Row = E::Model;
    async fn unique<C: ConnectionTrait>(self, db: &C) -> Result<Option<E::Model>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}

/// A row by its unique key with the row it belongs to (`find_also_related`).
impl<E: EntityTrait, F: EntityTrait> UniqueRow for SelectTwo<E, F> {
    type Row = (E::Model, Option<F::Model>);
    async fn unique<C: ConnectionTrait>(self, db: &C) -> Result<Option<Self::Row>, DbErr> {
        Ok(self.all(db).await?.into_iter().next())
    }
}

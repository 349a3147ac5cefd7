//! Every migration applies and rolls back on every supported database.

use migration::{Migrator, MigratorTrait};
use sea_orm::Database;

use crate::helpers::{Backend, TestStorage, test_config};

async fn migrations_apply_roll_back_and_apply_again(backend: Backend) {
    let storage = TestStorage::create(backend).await;
    let config = test_config(backend, &storage);
    std::fs::create_dir_all(config.data_dir.clone()).expect("data dir");
    let db = Database::connect(config.database_url())
        .await
        .expect("connect");

    Migrator::up(&db, None).await.expect("migrations apply");
    Migrator::down(&db, None)
        .await
        .expect("migrations roll back");
    Migrator::up(&db, None)
        .await
        .expect("migrations apply again");

    let pending = Migrator::get_pending_migrations(&db)
        .await
        .expect("pending migrations");
    assert!(pending.is_empty());
    db.close().await.expect("close");
}

crate::on_backends!([sqlite, postgres, mysql][migrations_apply_roll_back_and_apply_again]);

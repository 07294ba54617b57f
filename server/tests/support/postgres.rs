//! PostgreSQL for integration tests: a fresh database per server under test on the run's
//! PostgreSQL (scripts/test.sh exports `LUUKKU_TEST_DATABASE_URL`). Its name starts with the
//! run's database name, so the run's clean-up drops it.

use std::sync::atomic::{AtomicU64, Ordering};

/// True when this run tests the server on PostgreSQL (`LUUKKU_TEST_BACKEND=postgres`).
pub fn selected() -> bool {
    std::env::var("LUUKKU_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The URL of a new, empty database.
pub async fn fresh_database() -> String {
    let admin = std::env::var("LUUKKU_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("LUUKKU_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh")
    });
    fresh_database_on(&admin).await
}

/// The URL of a new, empty database on the server of the admin URL `admin`.
pub async fn fresh_database_on(admin: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (base, run_db) = admin.rsplit_once('/').expect("a database in the URL");
    let run_db = run_db.split('?').next().unwrap_or(run_db);
    let mut name = format!(
        "{run_db}_s{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    name.truncate(63);
    let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
        .await
        .expect("the run's PostgreSQL answers");
    let driver = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    drop(client);
    let _ = driver.await;
    format!("{base}/{name}")
}

#[path = "private_postgres.rs"]
mod private_postgres;
#[allow(unused_imports)]
pub use private_postgres::PrivatePostgres;

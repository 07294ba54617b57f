//! Test support: a fresh database per test on the PostgreSQL that `scripts/test.sh` provides
//! (`LUUKKU_TEST_DATABASE_URL`), dropped after the test; and a private PostgreSQL server of
//! the test's own (`LUUKKU_TEST_PG_BIN`), to stop and start under a live backend.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a PostgreSQL test cannot run; these tests fail rather than pass without a database.
const RUN_TEST_SH: &str = "run the PostgreSQL tests through scripts/test.sh (or \
    `bash scripts/services.sh cargo test …`), which starts PostgreSQL and sets";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: {RUN_TEST_SH} it"))
}

/// A database made for one test, dropped (with whatever still connects to it) on drop.
pub(crate) struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database named after the run's database, this process and a counter.
    pub(crate) async fn create() -> TestDatabase {
        Self::create_on(&env("LUUKKU_TEST_DATABASE_URL")).await
    }

    /// Creates an empty database on the server of `admin_url` (which may create databases).
    pub(crate) async fn create_on(admin_url: &str) -> TestDatabase {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let config: tokio_postgres::Config = admin_url.parse().unwrap();
        let prefix = config
            .get_dbname()
            .filter(|db| db.starts_with("luukku"))
            .unwrap_or("luukku_test");
        let mut name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        name.truncate(63);
        run_admin(admin_url, &format!("CREATE DATABASE \"{name}\"")).await;
        TestDatabase {
            admin_url: admin_url.to_owned(),
            url: with_dbname(admin_url, &name),
            name,
        }
    }

    /// The URL of the test's database.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` on the test's database outside the backend (to damage rows, say).
    pub(crate) async fn execute(&self, sql: &str) {
        run_admin(&self.url, sql).await;
    }

    /// The one `bigint` that `sql` selects, read outside the backend.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        let value = client.query_one(sql, &[]).await.unwrap().get(0);
        drop(client);
        let _ = connection.await;
        value
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be a current-thread one: a thread
        // of its own with a runtime of its own drops the database.
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(run_admin(&admin_url, &sql));
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop test database {}", self.name);
        }
    }
}

async fn run_admin(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("connect to {url}: {e} ({RUN_TEST_SH} LUUKKU_TEST_DATABASE_URL)")
        });
    let connection = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = connection.await;
}

/// `url` naming database `name` instead of its own.
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

// The private server lives with the integration tests' support, which uses it too.
#[path = "../../../tests/support/private_postgres.rs"]
mod private_postgres;
pub(crate) use private_postgres::PrivatePostgres;

#[test]
fn a_url_names_another_database() {
    assert_eq!(
        with_dbname("postgres://u@127.0.0.1:5432/luukku_run", "t1"),
        "postgres://u@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_dbname("postgres://u@h:1?sslmode=disable", "t1"),
        "postgres://u@h:1/t1?sslmode=disable"
    );
    assert_eq!(
        with_dbname("postgresql:///x?host=/tmp", "t1"),
        "postgresql:///t1?host=/tmp"
    );
}

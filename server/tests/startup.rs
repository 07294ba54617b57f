//! The `luukku` binary refuses configurations that cannot work: exit code 64 and a message that
//! names the problem, before it listens.

use std::process::Command;

fn luukku(args: &[&str]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("luukku-start-{}", uuid::Uuid::new_v4().simple()));
    let out = Command::new(env!("CARGO_BIN_EXE_luukku"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .args(args)
        .env_remove("LUUKKU_DATABASE_URL")
        .env_remove("LUUKKU_REDIS_URL")
        .output()
        .expect("the binary runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn redis_without_postgresql_exits_64_naming_it() {
    let (code, err) = luukku(&["--redis-url", "redis://127.0.0.1:6379"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("--redis-url needs --database-url"), "{err}");
}

#[test]
fn a_database_url_that_is_not_postgresql_exits_64() {
    let (code, err) = luukku(&["--database-url", "sqlite:///var/lib/luukku.db"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("must be a postgres:// URL"), "{err}");
}

#[test]
fn a_bad_node_id_exits_64() {
    let (code, err) = luukku(&[
        "--database-url",
        "postgres://127.0.0.1/x",
        "--node-id",
        "node one",
    ]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("--node-id"), "{err}");
}

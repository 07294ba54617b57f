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

#[test]
fn the_jwt_secret_may_come_from_the_environment_instead_of_the_file() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("luukku-start-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("luukku.toml");
    let org = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/luukku.toml"
    ))
    .expect("the compose organisation file");
    // The same organisation outside demo mode, without a secret in the file.
    std::fs::write(
        &file,
        org.replacen("\ndemo = true\n", "\ndemo = false\n", 1),
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_luukku"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .arg("--config")
        .arg(&file)
        .env(
            "LUUKKU_JWT_SECRET",
            "an-environment-secret-of-at-least-32-chars",
        )
        .env_remove("LUUKKU_DATABASE_URL")
        .env_remove("LUUKKU_REDIS_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(line.contains("Luukku listens on"), "it started: {line:?}");
}

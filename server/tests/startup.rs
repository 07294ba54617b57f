//! The `luukku` binary refuses configurations that cannot work: exit code 64 and a message that
//! names the problem, before it listens.

mod support;

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

/// A TCP port on which nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn an_unreachable_postgresql_at_start_up_exits_64_naming_it() {
    let url = format!("postgres://luukku@127.0.0.1:{}/luukku", closed_port());
    let (code, err) = luukku(&["--database-url", &url]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("postgresql cannot be reached"), "{err}");
}

#[tokio::test]
async fn an_unreachable_redis_at_start_up_exits_64_naming_it() {
    let database = support::postgres::fresh_database().await;
    let redis = format!("redis://127.0.0.1:{}", closed_port());
    let (code, err) = tokio::task::spawn_blocking(move || {
        luukku(&["--database-url", &database, "--redis-url", &redis])
    })
    .await
    .expect("ran");
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("redis cannot be reached"), "{err}");
}

#[tokio::test]
async fn readyz_names_redis_while_it_is_down_and_recovers_without_a_restart() {
    let mut redis = support::redis::PrivateRedis::start();
    let database = support::postgres::fresh_database().await;
    let url = redis.url();
    let s = support::TestServer::start_with(|c| {
        c.cluster.database_url = Some(database);
        c.cluster.redis_url = Some(url);
        c.cluster.redis_prefix = Some(support::redis::fresh_prefix().replace(':', "-"));
    })
    .await;
    let (status, body) = support::http_get(s.addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");

    redis.kill();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let body = loop {
        let (status, body) = support::http_get(s.addr, "/readyz").await;
        if status == 503 {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "still ready: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(v["failing"], serde_json::json!(["redis"]), "{body}");
    assert_eq!(v["status"], "unavailable");

    redis.restart();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = support::http_get(s.addr, "/readyz").await;
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not ready again: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_second_node_on_the_same_database_without_redis_is_refused() {
    let database = support::postgres::fresh_database().await;
    let url = database.clone();
    let _first = support::TestServer::start_with(|c| c.cluster.database_url = Some(url)).await;
    let (code, err) = tokio::task::spawn_blocking(move || luukku(&["--database-url", &database]))
        .await
        .expect("ran");
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("another node"), "{err}");
    assert!(err.contains("needs --redis-url"), "{err}");
}

//! The `luukku` binary as a child process of a test: for what only a real process shows (a
//! `kill -9`, a restart on the same data directory).
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `luukku` process, killed (SIGKILL) when dropped — also when a test fails.
pub struct Process(Child);

impl Process {
    /// SIGKILL: no shutdown of any kind.
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A `luukku` process on SQLite in `dir` with `config` (written as a TOML file there).
pub fn luukku(addr: SocketAddr, dir: &Path, config: &str) -> Process {
    let file = dir.join("luukku.toml");
    std::fs::write(&file, config).expect("config file");
    Process(
        Command::new(env!("CARGO_BIN_EXE_luukku"))
            .args(["--listen", &addr.to_string(), "--data-dir"])
            .arg(dir)
            .arg("--config")
            .arg(&file)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    )
}

/// As [`luukku`], logging every level of the server's own code (and the libraries' info)
/// to `log`, as an operator's log collector would keep it.
pub fn luukku_logged(addr: SocketAddr, dir: &Path, config: &str, log: &Path) -> Process {
    let file = dir.join("luukku.toml");
    std::fs::write(&file, config).expect("config file");
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    Process(
        Command::new(env!("CARGO_BIN_EXE_luukku"))
            .args(["--listen", &addr.to_string(), "--data-dir"])
            .arg(dir)
            .arg("--config")
            .arg(&file)
            .env("RUST_LOG", "luukku=trace,info")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("the binary starts"),
    )
}

/// Waits until the process at `addr` listens and answers `/readyz` with 200.
pub async fn ready(addr: SocketAddr) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok()
            && super::http_get(addr, "/readyz").await.0 == 200
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{addr} never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A console of `professional` on the process at `addr`, welcomed (a demo token).
pub async fn console(addr: SocketAddr, professional: &str) -> super::Conn {
    let (status, body) = super::http(
        addr,
        "POST",
        "/api/v1/dev/token",
        Some(&json!({ "professional": professional }).to_string()),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).expect("json");
    let mut c = super::Conn::connect(&format!("ws://{addr}/ws/console"), false).await;
    c.send(json!({"type": "hello", "token": token["token"]}))
        .await;
    c.recv_type("welcome").await;
    c
}

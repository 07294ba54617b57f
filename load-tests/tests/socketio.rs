//! `luukku-load --system socketio` against the Socket.IO peer of `load-tests/socketio`:
//! starts `node server.js` on a free port (running `npm ci` first when `node_modules` is
//! missing), then runs a short clinic and a small idle run through the built binary, and a
//! clinic across two processes sharing a Redis (the Redis adapter) with the clients on one and
//! the professionals on the other. Skipped, with a message, when `node` is not installed, and
//! the two-process run also when `LUUKKU_TEST_REDIS_URL` is unset (scripts/test.sh sets it).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// True in scripts/test.sh's second and third passes, which test the server on PostgreSQL and
/// as a cluster (`LUUKKU_TEST_BACKEND`): the load tool does not depend on the server's backend,
/// so its tests ran in the first pass and return at once here.
fn backend_pass() -> bool {
    let pass = std::env::var_os("LUUKKU_TEST_BACKEND").is_some();
    if pass {
        eprintln!("skipped in the backend passes: the load tool ran in the first pass");
    }
    pass
}

const LOAD: &str = env!("CARGO_BIN_EXE_luukku-load");

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("socketio")
}

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the locked dependencies once per test process when `node_modules` is missing or
/// older than the lockfile (a checkout from before the Redis adapter lacks it).
fn ensure_node_modules() {
    static INSTALLED: OnceLock<Mutex<()>> = OnceLock::new();
    let _guard = INSTALLED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = peer_dir();
    let modules = dir.join("node_modules");
    if modules.join("socket.io").is_dir() && modules.join("@socket.io/redis-adapter").is_dir() {
        return;
    }
    eprintln!(
        "socketio: node_modules missing; running npm ci in {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// The Socket.IO server, killed when dropped.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn start() -> Peer {
        Peer::start_with(&[])
    }

    /// A server with extra environment (`SIO_REDIS_URL`, `SIO_REDIS_KEY`).
    fn start_with(env: &[(&str, &str)]) -> Peer {
        ensure_node_modules();
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(peer_dir())
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server prints its address");
        let port = line
            .trim()
            .strip_prefix("socketio listens on http://127.0.0.1:")
            .and_then(|rest| rest.trim_end_matches('/').parse().ok());
        match port {
            Some(port) => Peer { child, port },
            None => {
                let _ = child.kill();
                panic!("unexpected first line from server.js: {line:?}");
            }
        }
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `luukku-load` and returns its JSON result line.
fn run_load(args: &[&str]) -> Value {
    let started = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(LOAD)
        .args(args)
        .output()
        .expect("luukku-load runs");
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        status.success(),
        "luukku-load {args:?} failed ({status}) after {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        started.elapsed()
    );
    let json = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON line in\n{stdout}\nstderr:\n{stderr}"));
    serde_json::from_str(json).expect("result line is JSON")
}

fn count(result: &Value, key: &str) -> u64 {
    result[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {result}"))
}

#[test]
fn clinic_against_socketio_delivers_everything_once_and_in_order() {
    if backend_pass() {
        return;
    }
    if !node_available() {
        eprintln!("SKIPPED: `node` is not installed; the Socket.IO peer cannot run");
        return;
    }
    let peer = Peer::start();
    let (url, pid) = (peer.url(), peer.pid());
    let result = run_load(&[
        "clinic",
        "--system",
        "socketio",
        "--url",
        &url,
        "--conversations",
        "30",
        "--professionals",
        "4",
        "--rate",
        "5",
        "--duration-s",
        "2",
        "--drain-s",
        "1",
        "--server-pid",
        &pid,
    ]);
    // 30 conversations × 2 sides × 5 msg/s × 2 s.
    assert_eq!(count(&result, "sent"), 600, "{result}");
    assert_eq!(count(&result, "acked"), 600, "{result}");
    assert_eq!(count(&result, "delivered"), 600, "{result}");
    for key in [
        "lost",
        "unacked",
        "duplicated",
        "reordered",
        "sender_errors",
    ] {
        assert_eq!(count(&result, key), 0, "{key} in {result}");
    }
    assert_eq!(result["errors"], serde_json::json!({}), "{result}");
    assert_eq!(count(&result, "console_connections"), 4, "{result}");
    assert_eq!(result["e2e"]["count"].as_u64(), Some(600), "{result}");
    assert!(result["server_cpu_s"].is_number(), "{result}");
}

#[test]
fn clinic_across_two_socketio_processes_crosses_through_redis() {
    if backend_pass() {
        return;
    }
    if !node_available() {
        eprintln!("SKIPPED: `node` is not installed; the Socket.IO peer cannot run");
        return;
    }
    let Ok(redis) = std::env::var("LUUKKU_TEST_REDIS_URL") else {
        eprintln!("SKIPPED: LUUKKU_TEST_REDIS_URL is unset (scripts/test.sh provides a Redis)");
        return;
    };
    // Channels of their own, so that parallel runs on one Redis do not hear each other.
    let prefix = std::env::var("LUUKKU_TEST_REDIS_PREFIX").unwrap_or_else(|_| "luukku-test".into());
    let key = format!("{prefix}-sio-{}", std::process::id());
    let env = [
        ("SIO_REDIS_URL", redis.as_str()),
        ("SIO_REDIS_KEY", key.as_str()),
    ];
    let (clients, consoles) = (Peer::start_with(&env), Peer::start_with(&env));
    let pids = format!("{},{}", clients.pid(), consoles.pid());
    let result = run_load(&[
        "clinic",
        "--system",
        "socketio",
        "--url",
        &clients.url(),
        "--console-url",
        &consoles.url(),
        "--conversations",
        "30",
        "--professionals",
        "4",
        "--rate",
        "5",
        "--duration-s",
        "2",
        "--drain-s",
        "1",
        "--server-pid",
        &pids,
    ]);
    // Every message went from one process to the other: the only way is the adapter.
    assert_eq!(count(&result, "sent"), 600, "{result}");
    assert_eq!(count(&result, "delivered"), 600, "{result}");
    for key in ["lost", "unacked", "duplicated", "reordered"] {
        assert_eq!(count(&result, key), 0, "{key} in {result}");
    }
    assert_eq!(result["errors"], serde_json::json!({}), "{result}");
    assert_eq!(count(&result, "server_processes"), 2, "{result}");
}

#[test]
fn idle_against_socketio_holds_every_connection() {
    if backend_pass() {
        return;
    }
    if !node_available() {
        eprintln!("SKIPPED: `node` is not installed; the Socket.IO peer cannot run");
        return;
    }
    let peer = Peer::start();
    let (url, pid) = (peer.url(), peer.pid());
    let result = run_load(&[
        "idle",
        "--system",
        "socketio",
        "--url",
        &url,
        "--connections",
        "100",
        "--hold-s",
        "0.5",
        "--server-pid",
        &pid,
    ]);
    assert_eq!(count(&result, "connections"), 100, "{result}");
    assert_eq!(count(&result, "failed"), 0, "{result}");
    assert_eq!(count(&result, "dropped"), 0, "{result}");
}

#[test]
fn msgpack_is_refused_for_socketio() {
    if backend_pass() {
        return;
    }
    let output = Command::new(LOAD)
        .args([
            "clinic",
            "--system",
            "socketio",
            "--msgpack",
            "--url",
            "ws://127.0.0.1:9",
        ])
        .output()
        .expect("luukku-load runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--msgpack"), "{stderr}");
}

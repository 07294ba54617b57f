//! Redis for tests: the run's shared server (from scripts/test.sh) with a fresh key prefix per
//! test, or a private `redis-server` on a free port that a test may kill and start again.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shared Redis of this test run (scripts/test.sh exports it).
pub fn shared_url() -> String {
    std::env::var("LUUKKU_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "LUUKKU_TEST_REDIS_URL is not set: run the tests with scripts/test.sh, which starts \
             Redis (or set it to redis://127.0.0.1:6379)"
        )
    })
}

/// A key and channel prefix no other test uses.
pub fn fresh_prefix() -> String {
    let run = std::env::var("LUUKKU_TEST_REDIS_PREFIX").unwrap_or_else(|_| "luukku-test".into());
    format!("{run}:{}", uuid::Uuid::new_v4().simple())
}

/// A `redis-server` of this test alone, killed when dropped.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

fn redis_server() -> String {
    std::env::var("LUUKKU_TEST_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl PrivateRedis {
    /// Starts one on a free port and waits until it answers.
    pub fn start() -> Self {
        let mut r = PrivateRedis {
            port: free_port(),
            child: None,
        };
        r.restart();
        r
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL): no goodbye to its clients.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops (SIGSTOP) or continues (SIGCONT) the process: connections stay open but silent.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{signal} {pid}");
    }

    /// Starts it (again) on the same port, with nothing stored.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(redis_server())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/test.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

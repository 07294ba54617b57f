//! A PostgreSQL server of a test's own (`LUUKKU_TEST_PG_BIN`, from scripts/services.sh), to
//! stop and start under live nodes. Shared by the storage backend's unit tests (included by
//! path from `storage/postgres/test_db.rs`) and the integration tests (`support::postgres`).
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh (or scripts/services.sh)")
    })
}

/// A PostgreSQL server of the test's own in a temporary directory, on a free port; stopped
/// and removed on drop.
pub struct PrivatePostgres {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

impl PrivatePostgres {
    /// Runs `initdb` and starts the server (as `LUUKKU_TEST_PG_USER` when run as root, since
    /// PostgreSQL refuses to run as root).
    pub fn start() -> PrivatePostgres {
        let bin = PathBuf::from(env("LUUKKU_TEST_PG_BIN"));
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "luukku-private-pg-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivatePostgres { dir, port, bin };
        if let Some(user) = server.run_as() {
            assert!(Command::new("chown")
                .arg(&user)
                .arg(&server.dir)
                .status()
                .unwrap()
                .success());
        }
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        server.start_again();
        server
    }

    /// An admin URL of the server (it may create databases).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, as a crash or a failover would (clients see their
    /// connections cut).
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the (stopped) server again on the same port and waits until it accepts
    /// connections.
    pub fn start_again(&self) {
        let data = self.data();
        let log = self.dir.join("server.log").display().to_string();
        // fsync=off: stopping a server (even `-m immediate`) loses nothing the kernel has,
        // and restarting after an immediate stop then skips syncing the data directory.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start",
            ],
        );
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// The user to run PostgreSQL's programs as: `None` unless this process is root.
    fn run_as(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok()?;
        (uid == 0)
            .then(|| std::env::var("LUUKKU_TEST_PG_USER").unwrap_or_else(|_| "postgres".to_owned()))
    }

    /// `program` of PostgreSQL's, to run as [`PrivatePostgres::run_as`].
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match self.run_as() {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", &user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command.current_dir(Path::new("/"));
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

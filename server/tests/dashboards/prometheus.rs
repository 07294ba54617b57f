//! A Prometheus of the test's own: Debian's `prometheus` binary on a free port with a temporary
//! data directory, scraping the test's nodes with deploy/prometheus.yml's `luukku` job and
//! evaluating deploy/prometheus/alerts.yml; and its HTTP API.

use crate::repo;
use crate::support::{http_get, temp_dir};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The scrape and rule evaluation interval: fast, so the test takes seconds.
pub const SCRAPE: Duration = Duration::from_secs(1);
/// How long Prometheus may take to start, scrape or evaluate its rules.
const PROMETHEUS_WAIT: Duration = Duration::from_secs(30);

/// A Prometheus of its own: a free port, a temporary data directory, killed when dropped (a
/// failing assertion included).
pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    pub async fn start(nodes: &[SocketAddr]) -> Prometheus {
        let dir = temp_dir();
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, config_for(nodes)).expect("write the config");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `prometheus` ({e}): install Debian's `prometheus` package \
                     (`apt-get install prometheus`; scripts/test.sh's install step does)"
                )
            });
        let mut p = Prometheus { child, addr, dir };
        p.wait_until_ready().await;
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    pub async fn wait_until_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + PROMETHEUS_WAIT;
        // support's http_get panics on a refused connection: ask only once the port is open.
        while tokio::net::TcpStream::connect(self.addr).await.is_err()
            || http_get(self.addr, "/-/ready").await.0 != 200
        {
            let exited = self.child.try_wait().expect("child status");
            assert!(
                exited.is_none() && tokio::time::Instant::now() < deadline,
                "prometheus did not become ready ({exited:?}); its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The result of an instant query, or why there is none.
    pub async fn query(&self, promql: &str) -> Result<Vec<Value>, String> {
        let (status, body) = http_get(
            self.addr,
            &format!("/api/v1/query?query={}", encode(promql)),
        )
        .await;
        let v: Value = serde_json::from_str(&body).map_err(|_| format!("HTTP {status}: {body}"))?;
        if v["status"] != "success" {
            return Err(format!("{}: {}", v["errorType"], v["error"]));
        }
        Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
    }

    pub async fn query_has_data(&self, promql: &str) -> Result<(), String> {
        match self.query(promql).await? {
            r if r.is_empty() => Err("no data (an empty result)".into()),
            _ => Ok(()),
        }
    }

    /// Waits until every node answers scrapes, has been scraped `scrapes` times, and last at
    /// or after `after` (Unix seconds).
    pub async fn wait_for_scrapes(&self, nodes: usize, scrapes: u32, after: f64) {
        let promql = format!(
            "count_over_time(up{{job=\"luukku\"}}[5m]) >= {scrapes} \
             and timestamp(up{{job=\"luukku\"}}) >= {after}"
        );
        let deadline = tokio::time::Instant::now() + PROMETHEUS_WAIT;
        loop {
            let scraped = self.query(&promql).await.map(|r| r.len()).unwrap_or(0);
            let up = self.query("up{job=\"luukku\"} == 1").await.map(|r| r.len());
            if scraped == nodes && up == Ok(nodes) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{nodes} node(s) not scraped {scrapes} times (up: {up:?}); targets: {}\nlog:\n{}",
                http_get(self.addr, "/api/v1/targets").await.1,
                self.log()
            );
            tokio::time::sleep(SCRAPE / 2).await;
        }
    }

    /// Waits until `promql` has a result: Prometheus has seen what the test made happen.
    pub async fn wait_until(&self, promql: &str) {
        let deadline = tokio::time::Instant::now() + PROMETHEUS_WAIT;
        while self.query(promql).await.map_or(true, |r| r.is_empty()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "Prometheus never saw {promql}"
            );
            tokio::time::sleep(SCRAPE / 2).await;
        }
    }

    /// Every rule of alerts.yml is loaded, and each has been evaluated without an error.
    pub async fn assert_rules_evaluate(&self) {
        let alerts = std::fs::read_to_string(repo().join("deploy/prometheus/alerts.yml"))
            .expect("read alerts.yml");
        let defined = alerts.matches("- alert: ").count();
        let deadline = tokio::time::Instant::now() + PROMETHEUS_WAIT;
        loop {
            let body = http_get(self.addr, "/api/v1/rules").await.1;
            let v: Value = serde_json::from_str(&body).expect("rules JSON");
            let rules: Vec<&Value> = v["data"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .collect();
            assert_eq!(rules.len(), defined, "rules loaded: {body}");
            if rules.iter().all(|r| r["health"] != "unknown") {
                let bad: Vec<String> = rules
                    .iter()
                    .filter(|r| r["health"] != "ok")
                    .map(|r| format!("{}: {} {}", r["name"], r["health"], r["lastError"]))
                    .collect();
                assert!(bad.is_empty(), "alert rules failing to evaluate: {bad:?}");
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "rules not evaluated: {body}"
            );
            tokio::time::sleep(SCRAPE).await;
        }
    }
}

/// deploy/prometheus.yml's `luukku` job (its relabelling gives the dashboards their `node`
/// label) aimed at the test's nodes, scraped every second, with the alert rules.
fn config_for(nodes: &[SocketAddr]) -> String {
    let deployed = std::fs::read_to_string(repo().join("deploy/prometheus.yml"))
        .expect("read deploy/prometheus.yml");
    let start = deployed
        .find("  - job_name: luukku\n")
        .expect("deploy/prometheus.yml has a `luukku` job");
    let rest = &deployed[start..];
    let end = rest[1..]
        .find("\n  - job_name:")
        .map_or(rest.len(), |i| i + 2);
    let job = &rest[..end];
    let targets = job
        .lines()
        .find(|l| l.trim_start().starts_with("- targets:"))
        .expect("the luukku job lists its targets");
    let ours: Vec<String> = nodes.iter().map(|a| format!("\"{a}\"")).collect();
    let job = job.replacen(
        targets,
        &format!("      - targets: [{}]", ours.join(", ")),
        1,
    );
    let rules = repo().join("deploy/prometheus/alerts.yml");
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         rule_files:\n  - {}\nscrape_configs:\n{job}",
        rules.display()
    )
}

/// Unix time in seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

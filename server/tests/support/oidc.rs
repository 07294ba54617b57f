//! A real OpenID Connect provider for the tests: `test-oidc/server.js` (the `oidc-provider`
//! npm package; `npm ci` runs first when its `node_modules` is missing), and a browser-less
//! walk through its sign-in: redirects followed by hand with a cookie jar, the user chosen
//! by `login_hint`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The redirect URIs the provider accepts (loopback: any port, RFC 8252).
pub const CONSOLE_CALLBACK: &str = "http://127.0.0.1/auth/console/callback";
pub const CLIENT_CALLBACK: &str = "http://127.0.0.1/auth/client/callback";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-oidc")
}

fn ensure_node_modules() {
    static INSTALLED: OnceLock<Mutex<()>> = OnceLock::new();
    let _guard = INSTALLED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if dir().join("node_modules").join("oidc-provider").is_dir() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir())
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci failed in test-oidc");
}

/// The provider process, killed when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    pub fn start(extra: &[&str]) -> Provider {
        ensure_node_modules();
        let mut child = Command::new("node")
            .arg(dir().join("server.js"))
            .args([
                "--port",
                "0",
                "--exit-with-stdin",
                "--redirect-uri",
                CONSOLE_CALLBACK,
                "--redirect-uri",
                CLIENT_CALLBACK,
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs test-oidc/server.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider says where it listens");
        let ready: serde_json::Value =
            serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        Provider { child, issuer }
    }

    /// `POST /_test/rotate` (a new signing key first in the JWKS), then with `drop_old`.
    pub async fn rotate(&self, drop_old: bool) {
        let url = if drop_old {
            format!("{}/_test/rotate?drop_old=1", self.issuer)
        } else {
            format!("{}/_test/rotate", self.issuer)
        };
        let r = http_client().post(url).send().await.expect("rotate");
        assert!(r.status().is_success(), "rotate: {}", r.status());
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Cookies by host, as a browser keeps them (paths aside).
#[derive(Default)]
pub struct Jar(HashMap<String, HashMap<String, String>>);

impl Jar {
    fn header(&self, url: &reqwest::Url) -> Option<String> {
        let cookies = self.0.get(&host(url))?;
        (!cookies.is_empty()).then(|| {
            cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn take(&mut self, url: &reqwest::Url, response: &reqwest::Response) {
        let cookies = self.0.entry(host(url)).or_default();
        for set in response.headers().get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let first = set.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let gone = value.is_empty() || set.to_ascii_lowercase().contains("max-age=0");
            if gone {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    /// The value of cookie `name` set by `host_port`.
    pub fn get(&self, host_port: &str, name: &str) -> Option<&String> {
        self.0.get(host_port)?.get(name)
    }
}

fn host(url: &reqwest::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// Follows redirects from `start` with `jar` until one leads to a URL for which `stop` says
/// yes (that URL is returned, not fetched) or a page that is no redirect (its status and body).
pub async fn walk(
    jar: &mut Jar,
    start: &str,
    stop: impl Fn(&str) -> bool,
) -> Result<String, (u16, String)> {
    walk_full(jar, start, stop)
        .await
        .map_err(|(status, _, body)| (status, body))
}

/// As [`walk`]; a page that is no redirect comes with its URL: (status, url, body).
pub async fn walk_full(
    jar: &mut Jar,
    start: &str,
    stop: impl Fn(&str) -> bool,
) -> Result<String, (u16, String, String)> {
    let client = http_client();
    let mut url = reqwest::Url::parse(start).expect("url");
    for _ in 0..20 {
        let mut request = client.get(url.clone());
        if let Some(c) = jar.header(&url) {
            request = request.header("cookie", c);
        }
        let response = request.send().await.expect("request");
        jar.take(&url, &response);
        let status = response.status();
        if !status.is_redirection() {
            let code = status.as_u16();
            return Err((
                code,
                url.to_string(),
                response.text().await.unwrap_or_default(),
            ));
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("location")
            .to_owned();
        let next = url.join(&location).expect("location url");
        if stop(next.as_str()) {
            return Ok(next.to_string());
        }
        url = next;
    }
    panic!("too many redirects from {start}");
}

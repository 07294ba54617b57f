//! The stand-in SMS provider (`luukku-sms-standin`, Telnyx's Messaging API v2) as a child
//! process of a test, and the `[sms]` configuration that points a server at it.
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The API key the stand-in and the servers under test share.
pub const API_KEY: &str = "test-key";
/// The organisation's number (the sender of its SMS).
pub const OUR_NUMBER: &str = "+358401110000";

/// A running stand-in, killed when dropped.
pub struct StandIn {
    child: Child,
    pub url: String,
    pub public_key: String,
}

impl StandIn {
    /// Starts the stand-in on `listen`, sending patients' SMS to `webhook`.
    pub fn start(listen: SocketAddr, webhook: &str) -> StandIn {
        let mut child = Command::new(env!("CARGO_BIN_EXE_luukku-sms-standin"))
            .args(["--listen", &listen.to_string(), "--api-key", API_KEY])
            .args(["--webhook", webhook])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the stand-in starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the stand-in's first line");
        let v: Value = serde_json::from_str(&line).expect("a JSON line");
        StandIn {
            child,
            url: v["listening"].as_str().expect("listening").to_owned(),
            public_key: v["public_key"].as_str().expect("public_key").to_owned(),
        }
    }

    /// The `[sms]` TOML section for a server at `server` using this stand-in.
    pub fn toml(&self, server: SocketAddr) -> String {
        format!(
            "[sms]\nprovider = \"telnyx\"\napi_url = \"{}/v2\"\napi_key = \"{API_KEY}\"\n\
             from = \"{OUR_NUMBER}\"\npublic_key = \"{}\"\n\
             webhook_url = \"http://{server}/api/v1/sms/telnyx\"\nservice = \"sms-chat\"\n",
            self.url, self.public_key
        )
    }

    /// The same as a typed configuration.
    pub fn config(&self, server: SocketAddr) -> luukku::sms::SmsConfig {
        #[derive(serde::Deserialize)]
        struct File {
            sms: luukku::sms::SmsConfig,
        }
        toml::from_str::<File>(&self.toml(server))
            .expect("valid [sms]")
            .sms
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let client = reqwest::Client::new();
        let mut req = client.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let answer = req.send().await.expect("the stand-in answers");
        answer.json().await.unwrap_or(Value::Null)
    }

    /// Every SMS that reached a phone.
    pub async fn messages(&self) -> Vec<Value> {
        match self
            .call(reqwest::Method::GET, "/_standin/messages", None)
            .await
        {
            Value::Array(a) => a,
            other => panic!("not a list: {other}"),
        }
    }

    /// Waits until `n` SMS reached phones.
    pub async fn wait_messages(&self, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let m = self.messages().await;
            if m.len() >= n || std::time::Instant::now() > deadline {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets the faults (`api_5xx`, `api_hang_ms`, `report`, `slow_ms`, …).
    pub async fn faults(&self, faults: Value) {
        self.call(reqwest::Method::POST, "/_standin/faults", Some(faults))
            .await;
    }

    /// A patient's SMS from `from` to the organisation; answers the stand-in's account of it.
    pub async fn inbound(&self, from: &str, text: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/_standin/inbound",
            Some(json!({"from": from, "to": OUR_NUMBER, "text": text})),
        )
        .await
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

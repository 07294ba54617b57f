//! A stand-in FHIR server for the patient-record tests: HTTPS with a certificate of a test CA
//! made at start (the server under test trusts it through `record.ca_file`), recording every
//! request (headers and body) and answering each with the next planned status — a transaction
//! response bundle for a 2xx, an `OperationOutcome` naming the problem otherwise.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

pub struct FhirStandIn {
    pub url: String,
    /// The test CA's certificate (PEM), for `record.ca_file`.
    pub ca_file: PathBuf,
    received: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<Vec<(u16, String)>>>,
}

impl FhirStandIn {
    /// Listens on a free port of 127.0.0.1; `plan` is the answers to the first requests (status,
    /// diagnostics), then 200.
    pub async fn start(plan: Vec<(u16, &str)>) -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Luukku test CA");
        let ca = ca_params.self_signed(&ca_key).expect("ca");
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf");
        let dir =
            std::env::temp_dir().join(format!("luukku-fhir-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("dir");
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write ca");

        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .expect("tls config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let plan = Arc::new(Mutex::new(
            plan.into_iter()
                .map(|(s, d)| (s, d.to_owned()))
                .collect::<Vec<_>>(),
        ));
        let (rec, pl) = (received.clone(), plan.clone());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, rec, pl) = (acceptor.clone(), rec.clone(), pl.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    while let Some(request) = read_request(&mut tls).await {
                        rec.lock().expect("lock").push(request);
                        let (status, diagnostics) = {
                            let mut plan = pl.lock().expect("lock");
                            if plan.is_empty() {
                                (200, String::new())
                            } else {
                                plan.remove(0)
                            }
                        };
                        let body = if (200..300).contains(&status) {
                            serde_json::json!({"resourceType": "Bundle", "type": "transaction-response", "entry": []})
                        } else {
                            serde_json::json!({"resourceType": "OperationOutcome", "issue": [
                                {"severity": "error", "code": "processing", "diagnostics": diagnostics}]})
                        }
                        .to_string();
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/fhir+json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        if tls.write_all(head.as_bytes()).await.is_err()
                            || tls.write_all(body.as_bytes()).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        FhirStandIn {
            url: format!("https://127.0.0.1:{}/fhir", addr.port()),
            ca_file,
            received,
            plan,
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until at least `n` requests came (or 15 s passed).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Adds answers to the plan.
    pub fn plan(&self, more: Vec<(u16, &str)>) {
        self.plan
            .lock()
            .expect("lock")
            .extend(more.into_iter().map(|(s, d)| (s, d.to_owned())));
    }
}

/// Reads one HTTP/1.1 request (headers, then a `content-length` body); `None` at the end of
/// the connection.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Received> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

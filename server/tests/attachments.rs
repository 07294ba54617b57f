//! Documents in a conversation, over real HTTP and WebSockets (on one node, on PostgreSQL and
//! on a 3-node cluster, where the upload goes to one node and the downloads to the others): a
//! patient sends a PDF, the nurse receives the message naming it and downloads the same bytes,
//! the nurse sends a PNG back; the type is found in the content, the organisation's limits
//! hold, a refused document leaves nothing behind, and only the conversation's participants
//! can download — never cached, never rendered.

mod support;

use serde_json::{json, Value};
use std::net::SocketAddr;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The smallest PDF a reader opens.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// An HTTP/1.1 answer with a binary body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// One request with a binary body (`Connection: close`, read to the end).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut raw)).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Uploads `data` as `name` into `conversation` with `auth` headers.
async fn upload(
    addr: SocketAddr,
    conversation: &str,
    name: &str,
    client_msg_id: &str,
    data: &[u8],
    auth: &[(&str, &str)],
) -> Reply {
    let path = format!(
        "/api/v1/conversations/{conversation}/attachments?name={name}&client_msg_id={client_msg_id}&body=Here%20it%20is"
    );
    request(addr, "POST", &path, data, auth).await
}

async fn download(addr: SocketAddr, id: &str, auth: &[(&str, &str)]) -> Reply {
    request(addr, "GET", &format!("/api/v1/attachments/{id}"), b"", auth).await
}

/// The node for the `i`th request: each in turn in a cluster run, the one node otherwise.
fn node(s: &TestServer, i: usize) -> SocketAddr {
    let addrs = s.node_addrs();
    addrs[i % addrs.len()]
}

/// A nurse of station-a in a chat with a fresh client: (nurse, client, conversation, resume token).
async fn chat(s: &TestServer, nurse: &str) -> (Conn, Conn, String, String) {
    let mut n = s.console(nurse).await;
    let (mut client, q) = s.started("health-chat", "station-a").await;
    let c = conv(&q);
    assert_eq!(n.assigned().await, c);
    client.system_event(&c, "assigned").await;
    let token = q["resume_token"].as_str().expect("resume token").to_owned();
    (n, client, c, token)
}

/// A counter summed over every node.
async fn cluster_sum(s: &TestServer, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut total = 0.0;
    for addr in s.node_addrs() {
        let (_, text) = http_get(addr, "/metrics").await;
        total += metric_sum(&text, name, labels);
    }
    total
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_patient_and_a_nurse_exchange_documents_and_each_downloads_the_same_bytes() {
    let s = TestServer::start().await;
    let (mut nurse, mut client, c, resume) = chat(&s, "nurse-1").await;
    let nurse_auth = bearer(&s.token("nurse-1"));

    // The services list tells the widget what it may send.
    let (_, services) = http_get(s.addr, "/api/v1/services").await;
    let services: Value = serde_json::from_str(&services).expect("json");
    let health = services["services"]
        .as_array()
        .and_then(|l| l.iter().find(|v| v["id"] == "health-chat"))
        .cloned()
        .expect("health-chat listed");
    assert_eq!(health["attachments"]["max_bytes"], 10 * 1024 * 1024);
    assert!(health["attachments"]["types"]
        .as_array()
        .is_some_and(|t| t.contains(&json!("application/pdf"))));

    let sent = upload(
        node(&s, 1),
        &c,
        "lab%20results.pdf",
        "doc-1",
        PDF,
        &[("x-luukku-resume-token", &resume)],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    let answer = sent.json();
    let doc = answer["attachment"].clone();
    assert_eq!(doc["name"], "lab results.pdf");
    assert_eq!(doc["type"], "application/pdf");
    assert_eq!(doc["size"], PDF.len());
    assert_eq!(answer["client_msg_id"], "doc-1");
    let seq = answer["seq"].as_u64().expect("seq");

    // Both sides get the message naming it, with the caption as its body.
    for side in [&mut nurse, &mut client] {
        let m = side
            .recv_where(|v| v["type"] == "message" && v["client_msg_id"] == "doc-1")
            .await
            .expect("the document's message");
        assert_eq!(m["seq"], seq);
        assert_eq!(m["body"], "Here it is");
        assert_eq!(m["attachments"], json!([doc.clone()]));
        assert_eq!(m["from"]["role"], "client");
    }

    // The nurse downloads it from another node: the same bytes, as a download only.
    let id = doc["id"].as_str().expect("id");
    let got = download(node(&s, 2), id, &[("authorization", &nurse_auth)]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, PDF);
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    let disposition = got.header("content-disposition").expect("disposition");
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("lab%20results.pdf"),
        "{disposition}"
    );
    assert!(got
        .header("cache-control")
        .is_some_and(|c| c.contains("no-store")));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert!(got
        .header("content-security-policy")
        .is_some_and(|c| c.contains("sandbox")));

    // The nurse answers with an image; the patient downloads it with their resume token.
    let back = upload(
        node(&s, 0),
        &c,
        "photo.png",
        "doc-2",
        PNG,
        &[("authorization", &nurse_auth)],
    )
    .await;
    assert_eq!(back.status, 201, "{}", String::from_utf8_lossy(&back.body));
    let png = back.json()["attachment"].clone();
    assert_eq!(png["type"], "image/png");
    let m = client
        .recv_where(|v| v["type"] == "message" && v["client_msg_id"] == "doc-2")
        .await
        .expect("the nurse's document");
    assert_eq!(m["from"]["role"], "professional");
    assert_eq!(m["from"]["name"], "Nurse One");
    let got = download(
        node(&s, 1),
        png["id"].as_str().expect("id"),
        &[("x-luukku-resume-token", &resume)],
    )
    .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, PNG);

    // Sending the same upload again (a retry after a lost answer) stores nothing new.
    let again = upload(
        node(&s, 2),
        &c,
        "lab%20results.pdf",
        "doc-1",
        PDF,
        &[("x-luukku-resume-token", &resume)],
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json()["seq"], seq);
    assert_eq!(again.json()["attachment"], doc);

    // The record keeps them: each message once, naming its document.
    let stored = s.stored_events(&c).await;
    let with_docs: Vec<_> = stored
        .iter()
        .filter(|e| e["attachments"].is_array())
        .collect();
    assert_eq!(with_docs.len(), 2, "{stored:?}");
    // Counted where each upload arrived: summed over the nodes.
    let sent = cluster_sum(&s, "luukku_documents_total", &[("outcome", "sent")]).await;
    assert_eq!(sent, 2.0, "the resend is not counted again");
    let bytes = cluster_sum(&s, "luukku_document_bytes_total", &[]).await;
    assert_eq!(bytes, (PDF.len() + PNG.len()) as f64);
    assert_eq!(with_docs[0]["attachments"][0], doc);

    // And the history a console reads later names them too.
    let h = nurse
        .request(json!({"type": "history", "conversation": c}), "h")
        .await;
    assert!(h["events"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["attachments"][0]["id"] == png["id"])));
}

#[tokio::test]
async fn only_the_conversation_s_participants_can_download() {
    let s = TestServer::start().await;
    let (_nurse, _client, c, resume) = chat(&s, "nurse-1").await;
    let sent = upload(
        node(&s, 0),
        &c,
        "referral.pdf",
        "doc-1",
        PDF,
        &[("x-luukku-resume-token", &resume)],
    )
    .await;
    assert_eq!(sent.status, 201);
    let id = sent.json()["attachment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Another patient, with the resume token of their own conversation.
    let (_other, q) = s.started("health-chat", "station-a").await;
    let theirs = q["resume_token"].as_str().expect("token").to_owned();
    let n2 = bearer(&s.token("nurse-2"));
    let n3 = bearer(&s.token("nurse-3"));
    let social = bearer(&s.token("social-1"));
    // A colleague of the same team reads the team's conversations (as `history` allows), so
    // the document too.
    let colleague = download(node(&s, 1), &id, &[("authorization", &n2)]).await;
    assert_eq!(colleague.status, 200);
    assert_eq!(colleague.body, PDF);
    for (who, auth) in [
        (
            "another patient",
            ("x-luukku-resume-token", theirs.as_str()),
        ),
        ("a nurse of another station", ("authorization", n3.as_str())),
        ("another team's worker", ("authorization", social.as_str())),
    ] {
        for i in 0..s.node_addrs().len() {
            let got = download(node(&s, i), &id, &[auth]).await;
            assert_eq!(got.status, 404, "{who} on node {i}");
            assert_eq!(got.json()["error"]["code"], "not_found");
            assert!(!got.body.windows(5).any(|w| w == b"%PDF-"), "{who}");
        }
    }
    // A widget on another site may ask (CORS preflight) before it uploads or downloads.
    for path in [
        format!("/api/v1/conversations/{c}/attachments"),
        format!("/api/v1/attachments/{id}"),
    ] {
        let pre = request(
            node(&s, 0),
            "OPTIONS",
            &path,
            b"",
            &[("origin", "https://example.org")],
        )
        .await;
        assert_eq!(pre.status, 204, "{path}");
        assert!(pre
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("x-luukku-resume-token") && h.contains("authorization")));
    }
    // An unknown document reads exactly like someone else's.
    let unknown = download(node(&s, 1), "0123456789abcdef", &[("authorization", &n3)]).await;
    assert_eq!(unknown.status, 404);
    // No or a forged credential.
    assert_eq!(download(node(&s, 0), &id, &[]).await.status, 401);
    let forged = download(node(&s, 2), &id, &[("authorization", "Bearer not.a.token")]).await;
    assert_eq!(forged.status, 401);

    // A colleague not in the chat cannot send a document into it, and nothing is stored.
    let before = s.stored_events(&c).await.len();
    let intruder = upload(
        node(&s, 1),
        &c,
        "x.pdf",
        "intrude",
        PDF,
        &[("authorization", &n2)],
    )
    .await;
    assert_eq!(
        intruder.status,
        403,
        "{}",
        String::from_utf8_lossy(&intruder.body)
    );
    assert_eq!(intruder.json()["error"]["code"], "forbidden");
    // Nor the other patient with their own token.
    let other = upload(
        node(&s, 2),
        &c,
        "x.pdf",
        "intrude-2",
        PDF,
        &[("x-luukku-resume-token", &theirs)],
    )
    .await;
    assert_eq!(other.status, 403);
    assert_eq!(s.stored_events(&c).await.len(), before);
}

#[tokio::test]
async fn refused_documents_say_why_and_leave_nothing_behind() {
    let s = TestServer::start_with(|c| {
        c.organisation.attachments.max_bytes = 1024;
        c.organisation.attachments.types = vec!["pdf".into()];
    })
    .await;
    let (mut nurse, _client, c, resume) = chat(&s, "nurse-1").await;
    let auth = [("x-luukku-resume-token", resume.as_str())];
    let before = s.stored_events(&c).await.len();

    // A text file named .pdf: the content decides.
    let fake = upload(
        s.addr,
        &c,
        "results.pdf",
        "m1",
        b"just some text, not a PDF",
        &auth,
    )
    .await;
    assert_eq!(fake.status, 415);
    assert_eq!(fake.json()["error"]["code"], "unsupported_type");
    let why = fake.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(why.contains("accepted are PDF"), "{why}");

    // A real PNG, but the organisation takes PDFs only.
    let png = upload(s.addr, &c, "photo.png", "m2", PNG, &auth).await;
    assert_eq!(png.status, 415);

    // Over the organisation's limit: the answer names it.
    let mut big = PDF.to_vec();
    big.resize(1500, b' ');
    let large = upload(s.addr, &c, "big.pdf", "m3", &big, &auth).await;
    assert_eq!(large.status, 413);
    assert_eq!(large.json()["error"]["code"], "too_large");
    let why = large.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(why.contains("up to 1 kB"), "{why}");

    // Empty, unnamed, without a client_msg_id, without credentials, with a wrong token.
    assert_eq!(
        upload(s.addr, &c, "e.pdf", "m4", b"", &auth).await.status,
        400
    );
    let unnamed = request(
        s.addr,
        "POST",
        &format!("/api/v1/conversations/{c}/attachments?client_msg_id=m5"),
        PDF,
        &auth,
    )
    .await;
    assert_eq!(unnamed.status, 400);
    assert!(unnamed.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("name")));
    let no_id = request(
        s.addr,
        "POST",
        &format!("/api/v1/conversations/{c}/attachments?name=a.pdf"),
        PDF,
        &auth,
    )
    .await;
    assert_eq!(no_id.status, 400);
    assert_eq!(
        upload(s.addr, &c, "a.pdf", "m6", PDF, &[]).await.status,
        401
    );
    let wrong = upload(
        s.addr,
        &c,
        "a.pdf",
        "m7",
        PDF,
        &[("x-luukku-resume-token", "0000")],
    )
    .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(s.stored_events(&c).await.len(), before, "nothing stored");
    for (outcome, n) in [
        ("unsupported_type", 2.0),
        ("too_large", 1.0),
        ("empty", 1.0),
    ] {
        let counted = s
            .metric_of("luukku_documents_total", &[("outcome", outcome)])
            .await;
        assert_eq!(counted, n, "{outcome}");
    }

    // A service that takes no documents.
    let (_c2, q) = s.started("stations-chat", "station-b").await;
    let token = q["resume_token"].as_str().expect("token");
    let refused = upload(
        s.addr,
        &conv(&q),
        "a.pdf",
        "m8",
        PDF,
        &[("x-luukku-resume-token", token)],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(refused.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("does not take documents")));

    // A closed conversation takes none either.
    let closed = nurse
        .request(json!({"type": "close", "conversation": c}), "close")
        .await;
    assert_ne!(closed["type"], "error", "{closed}");
    let late = upload(s.addr, &c, "late.pdf", "m9", PDF, &auth).await;
    assert_eq!(late.status, 409, "{}", String::from_utf8_lossy(&late.body));
    assert_eq!(late.json()["error"]["code"], "conversation_closed");
}

/// In a non-urgent matter taken from the inbox, the nurse sends a document the patient
/// downloads: the matter takes no place among the live chats a session is given at `hello`,
/// and the upload's session joins it because it is the nurse's.
#[tokio::test]
async fn a_nurse_sends_a_document_in_a_matter_taken_from_the_inbox() {
    let s = TestServer::start_with(plain_message_service).await;
    let token = s.client_token("010101-123N", "Maija Meikäläinen");
    let (mut client, _) = s
        .client_hello(json!({"type": "hello", "token": token}))
        .await;
    let q = client
        .request(
            json!({"type": "start", "service": "nurse-message",
                "client_ref": uuid::Uuid::new_v4().to_string()}),
            "start",
        )
        .await;
    assert_eq!(q["type"], "queued", "{q}");
    let c = conv(&q);
    let resume = q["resume_token"].as_str().expect("token").to_owned();
    client.say(&c, "Could you send me the referral?").await;
    let mut nurse = s.console("nurse-1").await;
    let a = nurse
        .request(json!({"type": "take", "conversation": c}), "take")
        .await;
    assert_eq!(a["type"], "assigned", "{a}");
    // A colleague who has not taken it cannot send into it.
    let n2 = bearer(&s.token("nurse-2"));
    let refused = upload(
        node(&s, 1),
        &c,
        "r.pdf",
        "d0",
        PDF,
        &[("authorization", &n2)],
    )
    .await;
    assert_eq!(refused.status, 403);

    let n1 = bearer(&s.token("nurse-1"));
    let sent = upload(
        node(&s, 2),
        &c,
        "referral.pdf",
        "d1",
        PDF,
        &[("authorization", &n1)],
    )
    .await;
    assert_eq!(sent.status, 201, "{}", String::from_utf8_lossy(&sent.body));
    let m = client
        .recv_where(|v| v["type"] == "message" && v["client_msg_id"] == "d1")
        .await
        .expect("the referral reaches the patient");
    let id = m["attachments"][0]["id"].as_str().expect("id").to_owned();
    let got = download(node(&s, 0), &id, &[("x-luukku-resume-token", &resume)]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, PDF);
    // The nurse's document is the organisation's reply: the deadline is met.
    let record = s
        .ctx()
        .storage
        .conversation(&cid(&c))
        .await
        .expect("reads")
        .expect("stored");
    assert_eq!(record.state.due_at_ms, None);
}

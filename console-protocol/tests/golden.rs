//! Golden wire samples pin protocol v1 byte for byte.
//!
//! `tests/golden/{client,console,server}/<type>[.<variant>].json` holds one frame each, written
//! from the examples of PROTOCOL.md (`client/` and `console/` decode as the inbound frames of
//! that endpoint, `server/` as [`ServerFrame`]). For every file this test
//! 1. decodes it into the typed frame and checks key field values (the per-endpoint tests);
//! 2. re-encodes the typed value with [`Codec::Json`] and compares it with the file as a
//!    `serde_json::Value`, so whitespace and key order do not matter but a renamed, added or
//!    removed field fails;
//! 3. encodes it with [`Codec::MessagePack`] and compares the bytes with the sibling
//!    `<name>.msgpack.hex`, exactly.
//!
//! A mismatch fails by default. After an *intended* wire change, regenerate with
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p console-protocol --test golden
//! ```
//!
//! which rewrites every `.json` as the encoder now writes the value decoded from it, and every
//! `.msgpack.hex`; review the diff and update docs/protocol.md with it. A file that no longer
//! decodes (a renamed required field) is fixed by hand first.

use console_protocol::*;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::fmt::{Debug, Write as _};
use std::fs;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn updating() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes `tests/golden/<name>.json` into an envelope of `F`.
fn decode<F: DeserializeOwned>(name: &str) -> Envelope<F> {
    let text = read(&golden_dir().join(format!("{name}.json")));
    Codec::Json
        .decode(text.as_bytes())
        .unwrap_or_else(|e| panic!("{name}.json does not decode: {e}"))
}

/// Decodes a golden file into the given frame variant: `(req, inner)`.
macro_rules! golden {
    ($name:literal, $variant:path) => {{
        let envelope = decode($name);
        match envelope.frame {
            $variant(inner) => (envelope.req, inner),
            other => panic!("{} decoded as {other:?}", $name),
        }
    }};
}

fn hex_lines(bytes: &[u8]) -> String {
    let mut out = String::new();
    for line in bytes.chunks(32) {
        for b in line {
            let _ = write!(out, "{b:02x}");
        }
        out.push('\n');
    }
    out
}

/// Checks (or, when updating, rewrites) both stored encodings of one golden file.
/// Returns a description of each mismatch.
fn check_wire<F>(name: &str) -> Vec<String>
where
    F: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json_path = golden_dir().join(format!("{name}.json"));
    let hex_path = golden_dir().join(format!("{name}.msgpack.hex"));
    let stored: Value = serde_json::from_str(&read(&json_path)).expect("golden files are JSON");
    let envelope: Envelope<F> = decode(name);
    let mut problems = Vec::new();

    let json = Codec::Json.encode(&envelope).expect("json encodes");
    let encoded: Value = serde_json::from_slice(&json).expect("the encoder writes JSON");
    if updating() {
        // Pretty-printed from the typed value, so fields keep the order of the wire.
        let pretty = serde_json::to_string_pretty(&envelope).expect("pretty") + "\n";
        fs::write(&json_path, pretty).expect("write golden json");
    } else if encoded != stored {
        problems.push(format!(
            "{name}.json: stored {stored}\n  but encoder writes {encoded}"
        ));
    }

    let packed = Codec::MessagePack
        .encode(&envelope)
        .expect("msgpack encodes");
    let back: Envelope<F> = Codec::MessagePack.decode(&packed).expect("msgpack decodes");
    assert_eq!(back, envelope, "{name}: msgpack round trip");
    let hex = hex_lines(&packed);
    if updating() {
        fs::write(&hex_path, &hex).expect("write golden hex");
    } else {
        match fs::read_to_string(&hex_path) {
            Err(e) => problems.push(format!("{name}.msgpack.hex: {e}")),
            Ok(stored_hex) => {
                let stored_hex: String = stored_hex.split_whitespace().collect();
                let hex: String = hex.split_whitespace().collect();
                if stored_hex != hex {
                    problems.push(format!(
                        "{name}.msgpack.hex: stored {stored_hex}\n  but encoder writes {hex}"
                    ));
                }
            }
        }
    }
    problems
}

/// Golden file names (without `.json`) under one endpoint directory, sorted.
fn names(endpoint: &str) -> Vec<String> {
    let dir = golden_dir().join(endpoint);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|file| {
            file.strip_suffix(".json")
                .map(|n| format!("{endpoint}/{n}"))
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_golden_file_keeps_its_wire_form() {
    let mut problems = Vec::new();
    for name in names("client") {
        problems.extend(check_wire::<ClientFrame>(&name));
    }
    for name in names("console") {
        problems.extend(check_wire::<ConsoleFrame>(&name));
    }
    for name in names("server") {
        problems.extend(check_wire::<ServerFrame>(&name));
    }
    assert!(
        problems.is_empty(),
        "the wire changed (if intended: UPDATE_GOLDEN=1 cargo test -p console-protocol --test golden, \
         then update docs/protocol.md):\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_hex_file_belongs_to_a_json_file() {
    for endpoint in ["client", "console", "server"] {
        for entry in fs::read_dir(golden_dir().join(endpoint)).expect("golden dir") {
            let file = entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(name) = file.strip_suffix(".msgpack.hex") {
                let json = golden_dir().join(endpoint).join(format!("{name}.json"));
                assert!(json.exists(), "{endpoint}/{file} has no {name}.json");
            } else {
                assert!(file.ends_with(".json"), "unexpected file {endpoint}/{file}");
            }
        }
    }
}

#[test]
fn every_frame_type_has_a_golden_file() {
    let types = |endpoint: &str| -> BTreeSet<String> {
        names(endpoint)
            .iter()
            .map(|name| {
                let value: Value =
                    serde_json::from_str(&read(&golden_dir().join(format!("{name}.json"))))
                        .expect("golden files are JSON");
                value["type"].as_str().expect("a type").to_owned()
            })
            .collect()
    };
    let set = |types: &[&str]| types.iter().map(|t| t.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        types("client"),
        set(&[
            "hello",
            "start",
            "send",
            "typing",
            "read",
            "feedback",
            "leave",
            "conversations",
            "open",
        ])
    );
    let console = [
        "hello",
        "status",
        "subscribe_queue",
        "accept",
        "send",
        "typing",
        "read",
        "note",
        "transfer",
        "close",
        "reopen",
        "history",
        "retract",
        "release",
        "colleagues",
        "canned",
        "canned_save",
        "canned_delete",
        "supervise",
        "set_routing",
        "move",
        "subscribe_inbox",
        "take",
        "archive",
        "start_thread",
    ];
    assert_eq!(types("console"), set(&console));
    let server = [
        "welcome",
        "queued",
        "queue",
        "ack",
        "message",
        "note",
        "system",
        "typing",
        "read",
        "closed",
        "error",
        "status",
        "queue_snapshot",
        "assigned",
        "released",
        "history",
        "colleagues",
        "canned",
        "team_overview",
        "routing",
        "moved",
        "inbox",
        "inbox_alert",
        "archive",
        "conversations",
    ];
    assert_eq!(types("server"), set(&server));
}

#[test]
fn shared_frames_are_identical_on_both_endpoints() {
    for kind in ["send", "typing", "read"] {
        let file = |endpoint: &str| read(&golden_dir().join(endpoint).join(format!("{kind}.json")));
        let client: Value = serde_json::from_str(&file("client")).expect("json");
        let console: Value = serde_json::from_str(&file("console")).expect("json");
        assert_eq!(client, console, "{kind}");
    }
}

#[test]
fn client_frames_decode_as_documented() {
    let (_, hello) = golden!("client/hello", ClientFrame::Hello);
    assert!(hello.token.is_some());
    assert_eq!(hello.resume[0].conversation.as_str(), "c1");
    assert_eq!(hello.resume[0].resume_token, Some("r1".into()));
    assert_eq!(hello.resume[0].after_seq, 6);

    let (_, anonymous) = golden!("client/hello.anonymous", ClientFrame::Hello);
    assert_eq!(anonymous, ClientHello::default());

    let (_, start) = golden!("client/start", ClientFrame::Start);
    assert_eq!(start.service.as_str(), "health-chat");
    assert_eq!(start.topic, Some("medication".into()));
    assert_eq!(start.team, Some("station-a".into()));
    assert_eq!(
        start.questionnaire.expect("questionnaire")["q1"],
        json!("answer")
    );
    assert!(start.client_ref.is_some());

    let (req, send) = golden!("client/send", ClientFrame::Send);
    assert_eq!(req, None);
    assert_eq!(
        (send.conversation.as_str(), send.body.as_str()),
        ("c1", "text")
    );
    let (req, with_req) = golden!("client/send.req", ClientFrame::Send);
    assert_eq!(req.as_deref(), Some("7"));
    assert_eq!(with_req, send);

    let (_, typing) = golden!("client/typing", ClientFrame::Typing);
    assert!(typing.active);
    assert_eq!(typing.role, None);

    let (_, read) = golden!("client/read", ClientFrame::Read);
    assert_eq!(read.seq, 7);

    let (_, feedback) = golden!("client/feedback", ClientFrame::Feedback);
    assert_eq!(feedback.rating, 5);
    assert!(feedback.comment.is_some());
}

#[test]
fn supervision_frames_decode_as_documented() {
    let (req, supervise) = golden!("console/supervise", ConsoleFrame::Supervise);
    assert_eq!(req.as_deref(), Some("s1"));
    assert_eq!(supervise.teams, Some(vec![TeamId::from("station-a")]));
    let (_, routing) = golden!("console/set_routing", ConsoleFrame::SetRouting);
    assert_eq!(routing.routing, RoutingMode::Manual);
    let (_, moving) = golden!("console/move", ConsoleFrame::Move);
    assert_eq!(
        (moving.conversation.as_str(), moving.to_team.as_str()),
        ("c1", "station-b")
    );

    let (_, overview) = golden!("server/team_overview", ServerFrame::TeamOverview);
    assert_eq!((overview.waiting, overview.oldest_wait_s), (2, 95));
    assert_eq!(overview.queue[0].topic, Some("medication".into()));
    assert_eq!(overview.queue[1].topic, None);
    assert!(overview.queue[1].identified);
    assert_eq!(overview.professionals[1].presence, Presence::Away);
    let (_, set) = golden!("server/routing", ServerFrame::Routing);
    assert_eq!(set.routing, RoutingMode::Manual);
    let (_, moved) = golden!("server/moved", ServerFrame::Moved);
    assert_eq!(moved.team.as_str(), "station-b");
    let (_, welcome) = golden!("server/welcome.console.supervisor", ServerFrame::Welcome);
    assert_eq!(
        welcome.professional.expect("professional").roles,
        ["supervisor"]
    );
    let (_, plain) = golden!("server/welcome.console", ServerFrame::Welcome);
    assert!(plain.professional.expect("professional").roles.is_empty());
}

#[test]
fn console_frames_decode_as_documented() {
    let (_, hello) = golden!("console/hello", ConsoleFrame::Hello);
    assert!(hello.token.is_some() && hello.resume.is_empty());
    let (_, resume) = golden!("console/hello.resume", ConsoleFrame::Hello);
    assert_eq!(resume.resume[0].after_seq, 6);
    assert_eq!(resume.resume[0].resume_token, None);

    let (_, status) = golden!("console/status", ConsoleFrame::Status);
    assert_eq!(status.availability, Some(Availability::Available));
    assert_eq!(status.capacity, Some(4));

    let (_, subscribe) = golden!("console/subscribe_queue", ConsoleFrame::SubscribeQueue);
    assert_eq!(subscribe.teams, vec![TeamId::from("station-a")]);

    let (_, next) = golden!("console/accept", ConsoleFrame::Accept);
    assert_eq!(
        (next.team, next.conversation),
        (Some("station-a".into()), None)
    );
    let (_, chosen) = golden!("console/accept.conversation", ConsoleFrame::Accept);
    assert_eq!(
        (chosen.team, chosen.conversation),
        (None, Some("c1".into()))
    );

    let (_, send) = golden!("console/send", ConsoleFrame::Send);
    assert_eq!(send.body, "text");
    assert!(!send.sms);
    let (_, by_sms) = golden!("console/send.sms", ConsoleFrame::Send);
    assert!(by_sms.sms);
    let (_, typing) = golden!("console/typing", ConsoleFrame::Typing);
    assert!(typing.active);
    let (_, read) = golden!("console/read", ConsoleFrame::Read);
    assert_eq!(read.seq, 7);
    let (_, note) = golden!("console/note", ConsoleFrame::Note);
    assert_eq!(note.conversation.as_str(), "c1");

    let (_, to_team) = golden!("console/transfer", ConsoleFrame::Transfer);
    assert_eq!(to_team.to_team, Some("station-b".into()));
    assert!(to_team.to_professional.is_none() && to_team.note.is_some());
    let (_, to_pro) = golden!("console/transfer.professional", ConsoleFrame::Transfer);
    assert_eq!(to_pro.to_professional, Some("nurse-3".into()));

    let (_, close) = golden!("console/close", ConsoleFrame::Close);
    assert!(close.summary.is_some());
    let (_, reopen) = golden!("console/reopen", ConsoleFrame::Reopen);
    assert_eq!(reopen.conversation.as_str(), "c1");
    let (_, history) = golden!("console/history", ConsoleFrame::History);
    assert_eq!((history.before_seq, history.limit), (Some(50), Some(50)));
}

#[test]
fn session_replies_decode_as_documented() {
    let (_, welcome) = golden!("server/welcome.client", ServerFrame::Welcome);
    assert_eq!(welcome.session, Some("s1".into()));
    assert_eq!(
        welcome.identity.expect("identity").kind,
        IdentityKind::Identified
    );
    assert_eq!(
        welcome.conversations[0].status,
        ConversationStatus::InProgress
    );
    assert_eq!(welcome.conversations[0].last_seq, 9);
    assert!(welcome.professional.is_none());

    let (_, welcome) = golden!("server/welcome.console", ServerFrame::Welcome);
    let professional = welcome.professional.expect("professional");
    assert_eq!(professional.id.as_str(), "nurse-1");
    assert_eq!(professional.teams, vec![TeamId::from("station-a")]);
    assert_eq!(welcome.capacity, Some(4));
    let summary = &welcome.conversations[0];
    assert_eq!(summary.team, Some("station-a".into()));
    assert!(summary.client.as_ref().is_some_and(|c| c.identified));

    let (_, queued) = golden!("server/queued", ServerFrame::Queued);
    assert_eq!(queued.resume_token.as_str(), "r1");
    assert_eq!((queued.position, queued.estimated_wait_s), (3, 120));
    assert_eq!(queued.due_at, None);
    let (_, promised) = golden!("server/queued.due", ServerFrame::Queued);
    assert_eq!(
        promised.due_at.as_deref(),
        Some("2026-04-09T16:00:00+03:00")
    );
    let (_, queue) = golden!("server/queue", ServerFrame::Queue);
    assert_eq!((queue.position, queue.estimated_wait_s), (1, 30));

    let (_, ack) = golden!("server/ack", ServerFrame::Ack);
    assert_eq!(ack.seq, Some(7));
    assert!(ack.client_msg_id.is_some() && ack.at.is_some());
    let (req, ack) = golden!("server/ack.feedback", ServerFrame::Ack);
    assert_eq!(req.as_deref(), Some("f1"));
    assert_eq!((ack.seq, ack.client_msg_id), (None, None));

    let (req, error) = golden!("server/error", ServerFrame::Error);
    assert_eq!(
        (error.code, req.as_deref()),
        (ErrorCode::BadFrame, Some("7"))
    );
    let (_, error) = golden!("server/error.conversation", ServerFrame::Error);
    assert_eq!(
        (error.code, error.conversation),
        (ErrorCode::Forbidden, Some("c1".into()))
    );

    let (_, status) = golden!("server/status", ServerFrame::Status);
    assert_eq!((status.capacity, status.active), (Some(4), Some(1)));
}

#[test]
fn conversation_events_decode_as_documented() {
    let (_, message) = golden!("server/message", ServerFrame::Message);
    assert_eq!(
        (message.seq, message.at.as_str()),
        (7, "2026-11-21T10:00:00Z")
    );
    assert_eq!(message.from.role, Role::Professional);
    assert_eq!(message.from.id.as_deref(), Some("nurse-1"));
    let (_, seen_by_client) = golden!("server/message.client_view", ServerFrame::Message);
    assert_eq!(seen_by_client.from.id, None);
    assert_eq!(seen_by_client.from.name.as_deref(), Some("Nurse One"));
    let (_, with_document) = golden!("server/message.with_document", ServerFrame::Message);
    assert_eq!(with_document.body, "");
    assert_eq!(with_document.attachments[0].mime, "application/pdf");
    assert_eq!(with_document.attachments[0].size, 48_213);
    assert!(message.attachments.is_empty());

    let (_, note) = golden!("server/note", ServerFrame::Note);
    assert_eq!(note.from.role, Role::Professional);

    let (_, with_sms) = golden!("server/message.with_sms", ServerFrame::Message);
    let sms = with_sms.sms.expect("sms");
    assert_eq!(
        (sms.direction.as_str(), sms.segments, sms.state.as_deref()),
        ("out", 1, Some("queued"))
    );
    let (_, sms_state) = golden!("server/system.sms", ServerFrame::System);
    assert_eq!(sms_state.event, SystemKind::Sms);
    assert_eq!(sms_state.detail["seq"], json!(12));
    assert_eq!(sms_state.detail["state"], json!("failed"));
    let (_, system) = golden!("server/system", ServerFrame::System);
    assert_eq!((system.seq, system.event), (8, SystemKind::Assigned));
    assert!(system.detail.is_empty());
    let (_, requeued) = golden!("server/system.requeued", ServerFrame::System);
    assert_eq!(requeued.event, SystemKind::Queued);
    assert_eq!(
        requeued.detail["reason"],
        json!("professional_disconnected")
    );
    let (_, identified) = golden!("server/system.identified", ServerFrame::System);
    assert_eq!(identified.event, SystemKind::Identified);
    assert_eq!(identified.event.as_str(), "identified");
    assert_eq!(
        identified.detail.keys().collect::<Vec<_>>(),
        vec!["name"],
        "only the display name, never the subject"
    );
    assert_eq!(identified.detail["name"], json!("Maija Meikäläinen"));

    let (_, typing) = golden!("server/typing", ServerFrame::Typing);
    assert_eq!((typing.role, typing.active), (Some(Role::Client), true));
    let (_, read) = golden!("server/read", ServerFrame::Read);
    assert_eq!((read.role, read.seq), (Some(Role::Client), 7));
    let (_, closed) = golden!("server/closed", ServerFrame::Closed);
    assert!(!closed.message.is_empty());

    let (_, history) = golden!("server/history", ServerFrame::History);
    let seqs: Vec<u64> = history.events.iter().map(Event::seq).collect();
    assert_eq!(seqs, vec![7, 8, 10]);
    assert!(matches!(history.events[2], Event::Note(_)));
}

#[test]
fn console_frames_from_the_server_decode_as_documented() {
    let (_, snapshot) = golden!("server/queue_snapshot", ServerFrame::QueueSnapshot);
    let entry = &snapshot.entries[0];
    assert_eq!(
        (entry.waiting_s, entry.identified, entry.priority),
        (42, false, 0)
    );
    let (_, prioritised) = golden!("server/queue_snapshot.priority", ServerFrame::QueueSnapshot);
    assert_eq!(prioritised.entries[0].priority, 1);

    let (_, assigned) = golden!("server/assigned", ServerFrame::Assigned);
    assert_eq!(assigned.service.as_str(), "health-chat");
    assert!(assigned.client.identified);
    assert_eq!(assigned.last_seq, 3);
    assert_eq!((assigned.team, assigned.status), (None, None));
    let (_, extended) = golden!("server/assigned.team_status", ServerFrame::Assigned);
    assert_eq!(extended.team, Some("station-a".into()));
    assert_eq!(extended.status, Some(ConversationStatus::Complete));

    let (_, released) = golden!("server/released", ServerFrame::Released);
    assert_eq!(released.reason, None);
    let (_, released) = golden!("server/released.reason", ServerFrame::Released);
    assert_eq!(released.reason.as_deref(), Some("transferred"));
}

#[test]
fn canned_responses_decode_as_documented() {
    let (req, _) = golden!("console/canned", ConsoleFrame::Canned);
    assert_eq!(req.as_deref(), Some("c1"));
    let (_, create) = golden!("console/canned_save", ConsoleFrame::CannedSave);
    assert_eq!((create.id, create.code.as_str()), (None, "labs"));
    assert_eq!(create.lang, "fi");
    assert!(create.body.contains("{client_name}"));
    let (_, edit) = golden!("console/canned_save.edit", ConsoleFrame::CannedSave);
    assert!(edit.id.is_some_and(|id| id.starts_with("p-")));
    assert_eq!(edit.lang, "sv");
    let (_, delete) = golden!("console/canned_delete", ConsoleFrame::CannedDelete);
    assert!(delete.id.starts_with("p-"));

    let (req, list) = golden!("server/canned", ServerFrame::Canned);
    assert_eq!(req.as_deref(), Some("c1"));
    let scopes: Vec<_> = list.responses.iter().map(|r| r.scope).collect();
    assert_eq!(
        scopes,
        [CannedScope::Team, CannedScope::Team, CannedScope::Personal]
    );
    assert_eq!(list.responses[0].team, Some("station-a".into()));
    assert_eq!(
        list.responses[2].team, None,
        "a personal response has no team"
    );
    let langs: Vec<_> = list.responses.iter().map(|r| r.lang.as_str()).collect();
    assert_eq!(langs, ["fi", "sv", "fi"], "one entry per language");
}

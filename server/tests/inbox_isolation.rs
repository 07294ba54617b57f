//! A randomized isolation test of the asynchronous channels under parallel load: identified
//! clients start non-urgent matters on `nurse-message` (team station-a) and write in them;
//! station-a professionals race to `take` New matters from their inbox, answer and close some;
//! station-b and social professionals follow their own inboxes and try to reach station-a's.
//! Every frame every connection receives is checked against what that connection may see; at
//! the end every acked message is stored exactly once and every matter was taken at most once.
//!
//! Seeded: the seed is printed; `ISOLATION_SEED=<n>` replays a run.
//!
//! Every loser of a `take` race is told `forbidden` (docs/protocol.md §6, Inbox), also one whose
//! take reached the conversation after the winner's but before the router's inbox heard of it
//! (this test found that answered `bad_frame` once).

mod support;

use luukku::organisation::{Professional, Promise};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Identified clients, each with its own subject.
const CLIENTS: usize = 40;
/// Station-a professionals taking matters from the inbox.
const TAKERS: usize = 6;
/// Marker of every cross-talk attempt: it must never reach anyone nor be stored.
const XTALK: &str = "XTALK";
/// Every client's display name contains this (and its own number): nobody else may see it.
const SECRET: &str = "Secret-";
/// Longest a connection may wait for what it expects.
const STALL: Duration = Duration::from_secs(20);
/// The keys an inbox entry may carry (no content, no client name).
const ENTRY_KEYS: [&str; 13] = [
    "conversation",
    "service",
    "channel",
    "topic",
    "status",
    "assigned_to",
    "reserved_for",
    "identified",
    "due_at",
    "overdue",
    "due_soon",
    "contact_at",
    "updated_at",
];
/// System-event detail keys only professionals may see.
const INTERNAL_KEYS: [&str; 5] = [
    "professional",
    "to_professional",
    "from_professional",
    "note",
    "summary",
];

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn msg_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The conversation a message body was written for (`c=<id> ...`).
fn body_conversation(body: &str) -> Option<&str> {
    body.strip_prefix("c=")?.split(' ').next()
}

/// One acked message: (conversation, seq, client_msg_id, body).
type Acked = (String, u64, String, String);

/// What is known of the run, shared by every task.
struct World {
    /// Every matter started: conversation → (owner client index, resume token).
    matters: Mutex<BTreeMap<String, (usize, String)>>,
    /// Every `take`: conversation → (professional, "assigned" or the error code).
    takes: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// Clients that have finished their script.
    scripts_done: AtomicUsize,
    /// Cancelled when every client has finished its script.
    clients_done: CancellationToken,
    /// Cancelled when every professional has settled.
    all_done: CancellationToken,
}

impl World {
    fn is_matter(&self, c: &str) -> bool {
        self.matters.lock().expect("matters").contains_key(c)
    }

    /// A matter of another client than `me` (any, for a professional: `me` = usize::MAX),
    /// satisfying `ok`.
    fn other_matter(
        &self,
        me: usize,
        rng: &mut StdRng,
        ok: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let m = self.matters.lock().expect("matters");
        let all: Vec<&String> = m
            .iter()
            .filter(|(c, (owner, _))| *owner != me && ok(c))
            .map(|(c, _)| c)
            .collect();
        all.choose(rng).map(|c| (*c).clone())
    }
}

/// The next frame, or `None` after `d` of silence; panics when the server closed the socket.
async fn next(conn: &mut Conn, who: &str, d: Duration) -> Option<Value> {
    let t = Instant::now();
    let f = conn.next_within(d).await;
    if f.is_none() && t.elapsed() < d / 2 {
        panic!("{who}: the server closed the connection");
    }
    f
}

// ---------------------------------------------------------------------------------------------
// Clients

struct ClientTask {
    i: usize,
    who: String,
    name: String,
    world: Arc<World>,
    rng: StdRng,
    conn: Conn,
    /// Own matters: conversation → resume token.
    own: HashMap<String, String>,
    closed: HashSet<String>,
    last_seq: HashMap<String, u64>,
    /// client_msg_id → (conversation, body) awaiting an ack.
    sending: HashMap<String, (String, String)>,
    /// req → the conversation named by a cross-talk attempt (must be `forbidden`).
    xtalk: HashMap<String, String>,
    /// Pending `conversations` request.
    listing: Option<String>,
    acked: Vec<Acked>,
    n: u32,
    stats: Stats,
    token: String,
}

#[derive(Default, Clone, Copy)]
struct Stats {
    cross_talk: u32,
    lists: u32,
    frames: u32,
}

impl ClientTask {
    /// Checks a frame against what this client may see and applies it.
    fn on_frame(&mut self, f: &Value) {
        let who = &self.who;
        self.stats.frames += 1;
        let text = f.to_string();
        assert!(
            !text.contains(XTALK),
            "{who}: a cross-talk attempt got through: {f}"
        );
        assert!(
            !text.replace(&self.name, "").contains(SECRET),
            "{who}: another client's name reached this client: {f}"
        );
        let ty = s(&f["type"]);
        let c = s(&f["conversation"]).to_owned();
        let mine = self.own.contains_key(&c);
        match ty {
            "welcome" => {
                assert_eq!(f["identity"]["kind"], "identified", "{who}: {f}");
                assert_eq!(
                    f["conversations"],
                    json!([]),
                    "{who}: attached to something: {f}"
                );
            }
            "queued" => {
                assert!(
                    s(&f["req"]).starts_with("start-"),
                    "{who}: queued unasked: {f}"
                );
                assert!(!mine, "{who}: the same matter twice: {f}");
                assert_eq!(f["position"], 0, "{who}: a matter has no place: {f}");
            }
            "message" | "system" | "closed" | "queue" | "typing" | "read" => {
                assert!(mine, "{who}: event of a conversation not its own: {f}");
            }
            "ack" => {
                assert!(mine, "{who}: ack of a conversation not its own: {f}");
                let id = s(&f["client_msg_id"]).to_owned();
                let (conv, body) = self
                    .sending
                    .remove(&id)
                    .unwrap_or_else(|| panic!("{who}: ack for nothing sent: {f}"));
                assert_eq!(conv, c, "{who}: ack of the wrong conversation: {f}");
                self.acked
                    .push((c.clone(), f["seq"].as_u64().expect("seq"), id, body));
            }
            "error" => {
                let req = s(&f["req"]).to_owned();
                if let Some(target) = self.xtalk.remove(&req) {
                    assert_eq!(
                        f["code"], "forbidden",
                        "{who}: naming another client's conversation must be forbidden: {f}"
                    );
                    if let Some(named) = f.get("conversation") {
                        assert_eq!(s(named), target, "{who}: {f}");
                    }
                } else if let Some(id) = req.strip_prefix("s-") {
                    // Closed by the professional while the message was on its way.
                    assert_eq!(f["code"], "conversation_closed", "{who}: {f}");
                    assert!(mine, "{who}: {f}");
                    self.sending.remove(id);
                    self.closed.insert(c.clone());
                } else {
                    panic!("{who}: unexpected error {f}");
                }
            }
            "conversations" => {
                assert_eq!(
                    self.listing.take().as_deref(),
                    Some(s(&f["req"])),
                    "{who}: {f}"
                );
                let listed: HashMap<String, String> = f["conversations"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .map(|e| {
                        assert_eq!(e["service"], "nurse-message", "{who}: {e}");
                        (
                            s(&e["conversation"]).to_owned(),
                            s(&e["resume_token"]).to_owned(),
                        )
                    })
                    .collect();
                assert_eq!(
                    listed, self.own,
                    "{who}: my conversations must be exactly its own: {f}"
                );
            }
            other => panic!("{who}: a client must never receive {other}: {f}"),
        }
        if ty == "message" {
            assert_eq!(
                body_conversation(s(&f["body"])),
                Some(c.as_str()),
                "{who}: a body of another conversation: {f}"
            );
            assert!(
                f["from"].get("id").is_none() || f["from"]["role"] == "client",
                "{who}: a client saw a professional's id: {f}"
            );
        }
        if ty == "system" {
            for k in INTERNAL_KEYS {
                assert!(
                    f["detail"].get(k).is_none(),
                    "{who}: a client saw internal detail {k}: {f}"
                );
            }
            if f["event"] == "closed" {
                self.closed.insert(c.clone());
            }
        }
        if ty == "closed" {
            self.closed.insert(c.clone());
        }
        if ty == "message" || ty == "system" {
            let seq = f["seq"].as_u64().expect("seq");
            let last = self.last_seq.entry(c).or_default();
            assert!(
                seq > *last,
                "{who}: seq {seq} after {last} (duplicate or out of order): {f}"
            );
            *last = seq;
        }
    }

    /// Reads (and checks) frames for `d`.
    async fn pump(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let who = self.who.clone();
            if let Some(f) = next(&mut self.conn, &who, left).await {
                self.on_frame(&f);
            }
        }
    }

    /// Reads frames until nothing of this client's is pending.
    async fn settle(&mut self) {
        let since = Instant::now();
        while !(self.sending.is_empty() && self.xtalk.is_empty() && self.listing.is_none()) {
            let who = self.who.clone();
            if let Some(f) = next(&mut self.conn, &who, Duration::from_millis(200)).await {
                self.on_frame(&f);
            }
            assert!(
                since.elapsed() < STALL,
                "{who}: stalled: sending {:?}, cross-talk {:?}, listing {:?}",
                self.sending,
                self.xtalk,
                self.listing
            );
        }
    }

    async fn write(&mut self, conv: &str) {
        self.n += 1;
        let (id, body) = (msg_id(), format!("c={conv} from={} n={}", self.who, self.n));
        self.conn.send(json!({"type": "send", "conversation": conv, "client_msg_id": id, "body": body, "req": format!("s-{id}")})).await;
        self.sending.insert(id, (conv.to_owned(), body));
    }

    async fn start_matter(&mut self, k: usize) {
        let req = format!("start-{k}");
        self.conn
            .send(json!({"type": "start", "service": "nurse-message", "client_ref": msg_id(), "req": req}))
            .await;
        let since = Instant::now();
        let q = loop {
            let who = self.who.clone();
            let f = next(&mut self.conn, &who, STALL)
                .await
                .unwrap_or_else(|| panic!("{who}: no reply to start"));
            self.on_frame(&f);
            if f["req"] == req.as_str() {
                break f;
            }
            assert!(since.elapsed() < STALL, "{who}: no reply to start");
        };
        assert_eq!(q["type"], "queued", "{}: {q}", self.who);
        let (c, token) = (conv(&q), s(&q["resume_token"]).to_owned());
        self.own.insert(c.clone(), token.clone());
        self.world
            .matters
            .lock()
            .expect("matters")
            .insert(c.clone(), (self.i, token));
        self.write(&c).await;
    }

    /// Names another client's conversation: `open` with a wrong resume token or `send`.
    async fn cross_talk(&mut self) {
        let Some(target) = self.world.other_matter(self.i, &mut self.rng, |_| true) else {
            return;
        };
        self.n += 1;
        self.stats.cross_talk += 1;
        let req = format!("x-{}", self.n);
        let mine: Vec<&String> = self.own.values().collect();
        let frame = match self.rng.gen_range(0..3) {
            0 => {
                json!({"type": "open", "conversation": target, "resume_token": mine.choose(&mut self.rng).map(|t| t.as_str()).unwrap_or("forged"), "after_seq": 0})
            }
            1 => json!({"type": "open", "conversation": target, "resume_token": "forged"}),
            _ => {
                json!({"type": "send", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}")})
            }
        };
        let mut frame = frame;
        frame["req"] = json!(req);
        self.xtalk.insert(req, target);
        self.conn.send(frame).await;
    }

    async fn run(mut self) -> (Vec<Acked>, Stats) {
        let hello = json!({"type": "hello", "token": self.token});
        self.conn.send(hello).await;
        let who = self.who.clone();
        let w = next(&mut self.conn, &who, STALL)
            .await
            .unwrap_or_else(|| panic!("{who}: no welcome"));
        assert_eq!(w["type"], "welcome", "{who}: {w}");
        self.on_frame(&w);
        let matters = self.rng.gen_range(1..=3);
        for k in 0..matters {
            self.start_matter(k).await;
            let pause = self.rng.gen_range(10..100);
            self.pump(Duration::from_millis(pause)).await;
        }
        let steps = self.rng.gen_range(4..9);
        for _ in 0..steps {
            let pause = self.rng.gen_range(50..300);
            self.pump(Duration::from_millis(pause)).await;
            let roll = self.rng.gen_range(0..100);
            if roll < 60 {
                let open: Vec<String> = self
                    .own
                    .keys()
                    .filter(|c| !self.closed.contains(*c))
                    .cloned()
                    .collect();
                if let Some(c) = open.choose(&mut self.rng).cloned() {
                    self.write(&c).await;
                }
            } else if roll < 75 {
                if self.listing.is_none() {
                    self.n += 1;
                    let req = format!("l-{}", self.n);
                    self.stats.lists += 1;
                    self.conn
                        .send(json!({"type": "conversations", "req": req}))
                        .await;
                    self.listing = Some(req);
                }
            } else {
                self.cross_talk().await;
            }
        }
        // The list once more, when every matter is surely known.
        self.settle().await;
        self.stats.lists += 1;
        self.conn
            .send(json!({"type": "conversations", "req": "l-final"}))
            .await;
        self.listing = Some("l-final".into());
        self.settle().await;
        self.world.scripts_done.fetch_add(1, Ordering::SeqCst);
        // Keep checking whatever still comes (answers, closes) until the professionals settle.
        while !self.world.all_done.is_cancelled() {
            self.pump(Duration::from_millis(100)).await;
        }
        self.pump(Duration::from_millis(100)).await;
        self.settle().await;
        (self.acked, self.stats)
    }
}

// ---------------------------------------------------------------------------------------------
// Professionals

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// A station-a professional taking, answering and closing matters.
    Taker,
    /// A professional of another team following its own inbox.
    Outsider,
}

struct ProTask {
    me: String,
    teams: Vec<String>,
    role: Role,
    world: Arc<World>,
    rng: StdRng,
    conn: Conn,
    /// Matters this session holds.
    held: HashMap<String, u32>,
    /// Matters it closed.
    closed: HashSet<String>,
    /// The latest station-a inbox: (conversation, status, assigned_to).
    inbox: Vec<(String, String, Option<String>)>,
    /// req → conversation of pending `take`s.
    taking: HashMap<String, String>,
    /// client_msg_id → (conversation, body) awaiting an ack.
    posting: HashMap<String, (String, String)>,
    /// req → conversation of a pending `close`.
    closing: HashMap<String, String>,
    /// req → (conversation or team, the error code it must get).
    xtalk: HashMap<String, (String, &'static str)>,
    /// req → conversation of a pending `history`.
    reading: HashMap<String, String>,
    last_seq: HashMap<String, u64>,
    acked: Vec<Acked>,
    n: u32,
    stats: Stats,
    inboxes: u32,
    alerts: u32,
}

impl ProTask {
    fn check(&mut self, f: &Value) {
        let who = &self.me;
        self.stats.frames += 1;
        let text = f.to_string();
        assert!(
            !text.contains(XTALK),
            "{who}: a cross-talk attempt got through: {f}"
        );
        let ty = s(&f["type"]);
        let c = s(&f["conversation"]).to_owned();
        match ty {
            "welcome" | "status" => {}
            "inbox" => {
                self.inboxes += 1;
                let team = s(&f["team"]);
                assert!(
                    self.teams.iter().any(|t| t == team),
                    "{who}: the inbox of another team: {f}"
                );
                assert!(
                    !text.contains(SECRET) && !text.contains("c=") && !text.contains("from="),
                    "{who}: an inbox carries content or a client's name: {f}"
                );
                for e in f["entries"].as_array().expect("entries") {
                    for k in e.as_object().expect("entry").keys() {
                        assert!(
                            ENTRY_KEYS.contains(&k.as_str()),
                            "{who}: an inbox entry carries {k}: {f}"
                        );
                    }
                    assert!(
                        team == "station-a" || !self.world.is_matter(s(&e["conversation"])),
                        "{who}: a station-a matter in the inbox of {team}: {f}"
                    );
                }
                if team == "station-a" {
                    self.inbox = f["entries"]
                        .as_array()
                        .expect("entries")
                        .iter()
                        .map(|e| {
                            (
                                s(&e["conversation"]).to_owned(),
                                s(&e["status"]).to_owned(),
                                e["assigned_to"].as_str().map(str::to_owned),
                            )
                        })
                        .collect();
                }
            }
            "inbox_alert" => {
                self.alerts += 1;
                let team = s(&f["team"]);
                assert!(
                    self.teams.iter().any(|t| t == team),
                    "{who}: an alert of another team: {f}"
                );
                for k in f.as_object().expect("alert").keys() {
                    assert!(
                        ["type", "conversation", "team", "service"].contains(&k.as_str()),
                        "{who}: an alert carries {k}: {f}"
                    );
                }
                assert_eq!(
                    self.world.is_matter(&c),
                    team == "station-a",
                    "{who}: an alert of another team's matter: {f}"
                );
            }
            "assigned" => {
                let req = s(&f["req"]).to_owned();
                let asked = self
                    .taking
                    .remove(&req)
                    .unwrap_or_else(|| panic!("{who}: assigned without taking: {f}"));
                assert_eq!(asked, c, "{who}: assigned another matter: {f}");
                assert!(
                    self.held.insert(c.clone(), 0).is_none(),
                    "{who}: assigned twice: {f}"
                );
                assert_eq!(f["team"], "station-a", "{who}: {f}");
                self.record_take(&c, "assigned");
            }
            "released" => {
                assert!(
                    self.held.remove(&c).is_some(),
                    "{who}: released what it did not hold: {f}"
                );
            }
            "message" | "note" | "system" | "typing" | "read" => {
                assert!(
                    self.held.contains_key(&c),
                    "{who}: an event of a matter it does not hold: {f}"
                );
            }
            "ack" => {
                let req = s(&f["req"]).to_owned();
                if let Some(conv) = self.closing.remove(&req) {
                    assert_eq!(conv, c, "{who}: {f}");
                } else {
                    let id = s(&f["client_msg_id"]).to_owned();
                    let (conv, body) = self
                        .posting
                        .remove(&id)
                        .unwrap_or_else(|| panic!("{who}: ack for nothing sent: {f}"));
                    assert_eq!(conv, c, "{who}: ack of the wrong conversation: {f}");
                    self.acked
                        .push((c.clone(), f["seq"].as_u64().expect("seq"), id, body));
                }
            }
            "history" => {
                let req = s(&f["req"]).to_owned();
                let asked = self
                    .reading
                    .remove(&req)
                    .unwrap_or_else(|| panic!("{who}: history it did not ask for: {f}"));
                assert_eq!(asked, c, "{who}: {f}");
                assert!(
                    self.teams.iter().any(|t| t == "station-a"),
                    "{who}: read another team's matter: {f}"
                );
                for e in f["events"].as_array().expect("events") {
                    assert_eq!(
                        e["conversation"], f["conversation"],
                        "{who}: history of another conversation: {f}"
                    );
                    if e["type"] == "message" {
                        assert_eq!(
                            body_conversation(s(&e["body"])),
                            Some(c.as_str()),
                            "{who}: a body of another conversation in history: {f}"
                        );
                    }
                }
            }
            "error" => {
                let req = s(&f["req"]).to_owned();
                if let Some(conv) = self.taking.remove(&req) {
                    assert_eq!(s(&f["conversation"]), conv, "{who}: {f}");
                    let outcome = format!("{}: {}", s(&f["code"]), s(&f["message"]));
                    self.record_take(&conv, &outcome);
                } else if let Some((target, code)) = self.xtalk.remove(&req) {
                    assert_eq!(
                        f["code"], code,
                        "{who}: reaching {target} must be {code}: {f}"
                    );
                } else {
                    panic!("{who}: unexpected error {f}");
                }
            }
            other => panic!("{who}: a console must never receive {other}: {f}"),
        }
        if ty == "message" {
            assert_eq!(
                body_conversation(s(&f["body"])),
                Some(c.as_str()),
                "{who}: a body of another conversation: {f}"
            );
        }
        if matches!(ty, "message" | "note" | "system") {
            let seq = f["seq"].as_u64().expect("seq");
            let last = self.last_seq.entry(c).or_default();
            assert!(
                seq > *last,
                "{who}: seq {seq} after {last} (duplicate or out of order): {f}"
            );
            *last = seq;
        }
    }

    fn record_take(&self, c: &str, outcome: &str) {
        self.world
            .takes
            .lock()
            .expect("takes")
            .entry(c.to_owned())
            .or_default()
            .push((self.me.clone(), outcome.to_owned()));
    }

    async fn close(&mut self, c: String) {
        self.n += 1;
        let req = format!("close-{}", self.n);
        self.closed.insert(c.clone());
        self.conn
            .send(json!({"type": "close", "conversation": c, "summary": format!("answered by {}", self.me), "req": req}))
            .await;
        self.closing.insert(req, c);
    }

    async fn post(&mut self, conv: &str) {
        if let Some(answered) = self.held.get_mut(conv) {
            *answered += 1;
        }
        self.n += 1;
        let (id, body) = (msg_id(), format!("c={conv} from={} n={}", self.me, self.n));
        self.conn
            .send(json!({"type": "send", "conversation": conv, "client_msg_id": id, "body": body}))
            .await;
        self.posting.insert(id, (conv.to_owned(), body));
    }

    /// What a frame makes a taker do.
    async fn react(&mut self, f: &Value) {
        let c = s(&f["conversation"]).to_owned();
        match s(&f["type"]) {
            "assigned" => {
                if self.rng.gen_bool(0.3) {
                    self.n += 1;
                    let req = format!("h-{}", self.n);
                    self.conn
                        .send(json!({"type": "history", "conversation": c, "req": req}))
                        .await;
                    self.reading.insert(req, c.clone());
                }
                self.post(&c).await;
            }
            "message" if f["from"]["role"] == "client" => {
                if self.closed.contains(&c) || !self.held.contains_key(&c) {
                    return;
                }
                if self.rng.gen_bool(0.6) {
                    self.post(&c).await;
                    let answered = *self.held.get(&c).expect("held");
                    if answered >= 2 && self.rng.gen_bool(0.4) {
                        self.close(c).await;
                    }
                }
            }
            _ => {}
        }
    }

    /// One idle moment: perhaps take a New matter, read one, or try what is not allowed.
    async fn act(&mut self) {
        if self.world.clients_done.is_cancelled() {
            return;
        }
        let roll = self.rng.gen_range(0..100);
        match self.role {
            Role::Taker if roll < 45 && self.held.len() < 8 && self.taking.is_empty() => {
                let new: Vec<String> = self
                    .inbox
                    .iter()
                    .filter(|(c, status, by)| {
                        status == "queued" && by.is_none() && !self.held.contains_key(c)
                    })
                    .map(|(c, _, _)| c.clone())
                    .collect();
                // Often the head of the inbox, so colleagues race for the same matter.
                let pick = if self.rng.gen_bool(0.6) {
                    new.first().cloned()
                } else {
                    new.choose(&mut self.rng).cloned()
                };
                if let Some(c) = pick {
                    self.n += 1;
                    let req = format!("take-{}", self.n);
                    self.conn
                        .send(json!({"type": "take", "conversation": c, "req": req}))
                        .await;
                    self.taking.insert(req, c);
                }
            }
            Role::Taker if roll < 55 => {
                if let Some(c) = self.world.other_matter(usize::MAX, &mut self.rng, |_| true) {
                    self.n += 1;
                    let req = format!("h-{}", self.n);
                    self.conn
                        .send(json!({"type": "history", "conversation": c, "req": req}))
                        .await;
                    self.reading.insert(req, c);
                }
            }
            Role::Taker if roll < 62 => {
                // Done with an answered matter.
                let mut done: Vec<String> = self
                    .held
                    .iter()
                    .filter(|(c, answered)| **answered >= 1 && !self.closed.contains(*c))
                    .map(|(c, _)| c.clone())
                    .collect();
                done.sort();
                if let Some(c) = done.choose(&mut self.rng).cloned() {
                    self.close(c).await;
                }
            }
            Role::Taker if roll < 70 => {
                // A matter it neither holds, is taking nor closed: `send` is forbidden.
                let (held, closed) = (&self.held, &self.closed);
                let taking: HashSet<String> = self.taking.values().cloned().collect();
                let target = self.world.other_matter(usize::MAX, &mut self.rng, |c| {
                    !held.contains_key(c) && !closed.contains(c) && !taking.contains(c)
                });
                if let Some(t) = target {
                    self.xtalk_send(t, "send", "forbidden").await;
                }
            }
            Role::Outsider if roll < 30 => {
                let Some(t) = self.world.other_matter(usize::MAX, &mut self.rng, |_| true) else {
                    return;
                };
                let (kind, code) = *[
                    ("send", "forbidden"),
                    ("take", "not_found"),
                    ("history", "forbidden"),
                    ("subscribe_inbox", "forbidden"),
                ]
                .choose(&mut self.rng)
                .expect("kinds");
                self.xtalk_send(t, kind, code).await;
            }
            _ => {}
        }
    }

    async fn xtalk_send(&mut self, target: String, kind: &str, code: &'static str) {
        self.n += 1;
        self.stats.cross_talk += 1;
        let req = format!("x-{}", self.n);
        let frame = match kind {
            "send" => {
                json!({"type": "send", "conversation": target, "client_msg_id": msg_id(), "body": format!("c={target} {XTALK}")})
            }
            "take" => json!({"type": "take", "conversation": target}),
            "history" => json!({"type": "history", "conversation": target}),
            _ => json!({"type": "subscribe_inbox", "teams": ["station-a"]}),
        };
        let mut frame = frame;
        frame["req"] = json!(req);
        self.xtalk.insert(req, (target, code));
        self.conn.send(frame).await;
    }

    fn settled(&self) -> bool {
        self.taking.is_empty()
            && self.posting.is_empty()
            && self.closing.is_empty()
            && self.xtalk.is_empty()
            && self.reading.is_empty()
    }

    async fn run(mut self) -> ProReport {
        let who = self.me.clone();
        let mut last_frame = Instant::now();
        let mut next_act = Instant::now();
        loop {
            let wait = next_act
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(10));
            if let Some(f) = next(&mut self.conn, &who, wait).await {
                self.check(&f);
                if self.role == Role::Taker {
                    self.react(&f).await;
                }
                last_frame = Instant::now();
            }
            if Instant::now() < next_act {
                continue;
            }
            // Acts on its own clock, however busy the inbox is.
            self.act().await;
            next_act = Instant::now() + Duration::from_millis(self.rng.gen_range(20..100));
            if self.world.clients_done.is_cancelled()
                && self.settled()
                && last_frame.elapsed() > Duration::from_millis(400)
            {
                // Settled and quiet for a moment: the clients' last words are in.
                break;
            }
            assert!(
                last_frame.elapsed() < STALL || self.settled(),
                "{who}: stalled: taking {:?}, posting {:?}, closing {:?}, xtalk {:?}, reading {:?}",
                self.taking,
                self.posting,
                self.closing,
                self.xtalk,
                self.reading
            );
        }
        ProReport {
            acked: self.acked,
            stats: self.stats,
            inboxes: self.inboxes,
            alerts: self.alerts,
            held: self.held.len(),
            closed: self.closed.len(),
            _conn: self.conn,
        }
    }
}

struct ProReport {
    acked: Vec<Acked>,
    stats: Stats,
    inboxes: u32,
    alerts: u32,
    held: usize,
    closed: usize,
    /// Kept open until the clients are done, so its matters stay followed.
    _conn: Conn,
}

fn seed() -> u64 {
    let seed = std::env::var("ISOLATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("inbox isolation seed: {seed} (replay with ISOLATION_SEED={seed})");
    seed
}

fn professional(id: &str, team: &str) -> Professional {
    Professional {
        id: id.into(),
        name: format!("Professional {id}"),
        teams: vec![team.into()],
        capacity: 4,
        roles: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matters_never_leak_under_parallel_load() {
    let seed = seed();
    let started = Instant::now();
    let takers: Vec<String> = (1..=TAKERS).map(|i| format!("ma-{i}")).collect();
    let station_b: Vec<String> = vec!["mb-1".into(), "nurse-3".into()];
    let social: Vec<String> = vec!["social-1".into(), "social-2".into()];
    let (a, b) = (takers.clone(), station_b.clone());
    let server = TestServer::start_with(move |cfg| {
        let org = &mut cfg.organisation;
        org.services.retain(|s| s.id.as_str() != "nurse-message");
        let mut s = org.services[0].clone();
        s.id = "nurse-message".into();
        s.channel = "message".into();
        s.teams = vec!["station-a".into()];
        s.opening_hours.clear();
        s.questionnaire.clear();
        s.promise = Some(Promise { working_days: 3 });
        org.services.push(s);
        org.professionals
            .extend(a.iter().map(|p| professional(p, "station-a")));
        org.professionals.extend(
            b.iter()
                .filter(|p| p.starts_with("mb-"))
                .map(|p| professional(p, "station-b")),
        );
    })
    .await;
    let world = Arc::new(World {
        matters: Mutex::new(BTreeMap::new()),
        takes: Mutex::new(HashMap::new()),
        scripts_done: AtomicUsize::new(0),
        clients_done: CancellationToken::new(),
        all_done: CancellationToken::new(),
    });
    let mut master = StdRng::seed_from_u64(seed);

    let mut pros = JoinSet::new();
    let roster = takers
        .iter()
        .map(|p| (p, "station-a", Role::Taker))
        .chain(station_b.iter().map(|p| (p, "station-b", Role::Outsider)))
        .chain(social.iter().map(|p| (p, "social", Role::Outsider)));
    for (me, team, role) in roster {
        let mut rng = StdRng::seed_from_u64(master.gen());
        let mut conn = Conn::connect(&server.ws_url("console"), rng.gen_bool(0.3)).await;
        conn.send(json!({"type": "hello", "token": server.token(me)}))
            .await;
        conn.send(json!({"type": "subscribe_inbox", "req": "sub"}))
            .await;
        let mut task = ProTask {
            me: me.clone(),
            teams: vec![team.to_owned()],
            role,
            world: world.clone(),
            rng,
            conn,
            held: HashMap::new(),
            closed: HashSet::new(),
            inbox: Vec::new(),
            taking: HashMap::new(),
            posting: HashMap::new(),
            closing: HashMap::new(),
            xtalk: HashMap::new(),
            reading: HashMap::new(),
            last_seq: HashMap::new(),
            acked: Vec::new(),
            n: 0,
            stats: Stats::default(),
            inboxes: 0,
            alerts: 0,
        };
        // Welcome and the first inbox before the clients come.
        loop {
            let f = next(&mut task.conn, me, STALL)
                .await
                .unwrap_or_else(|| panic!("{me}: no inbox"));
            task.check(&f);
            if f["type"] == "inbox" {
                assert_eq!(f["req"], "sub", "{me}: {f}");
                break;
            }
        }
        pros.spawn(task.run());
    }

    let mut clients = JoinSet::new();
    for i in 0..CLIENTS {
        let mut rng = StdRng::seed_from_u64(master.gen());
        let name = format!("{SECRET}{i}-Name");
        let token = server.client_token(&format!("iso-sub-{i}"), &name);
        let conn = Conn::connect(&server.ws_url("client"), rng.gen_bool(0.25)).await;
        let task = ClientTask {
            i,
            who: format!("client-{i}"),
            name,
            world: world.clone(),
            rng,
            conn,
            own: HashMap::new(),
            closed: HashSet::new(),
            last_seq: HashMap::new(),
            sending: HashMap::new(),
            xtalk: HashMap::new(),
            listing: None,
            acked: Vec::new(),
            n: 0,
            stats: Stats::default(),
            token,
        };
        clients.spawn(task.run());
    }

    // The clients write their scripts; the professionals settle; then every client checks
    // what still comes and finishes.
    let deadline = Instant::now() + Duration::from_secs(120);
    while world.scripts_done.load(Ordering::SeqCst) < CLIENTS {
        if let Some(r) = clients.try_join_next() {
            r.unwrap_or_else(|e| panic!("a client failed (seed {seed}): {e}"));
            panic!("a client finished early (seed {seed})");
        }
        assert!(
            Instant::now() < deadline,
            "clients did not finish in time (seed {seed})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    world.clients_done.cancel();
    let mut pro_reports = Vec::new();
    while let Some(r) = tokio::time::timeout(Duration::from_secs(60), pros.join_next())
        .await
        .expect("professionals settle in time")
    {
        pro_reports.push(r.unwrap_or_else(|e| panic!("a professional failed (seed {seed}): {e}")));
    }
    world.all_done.cancel();
    let mut client_reports = Vec::new();
    while let Some(r) = tokio::time::timeout(Duration::from_secs(60), clients.join_next())
        .await
        .expect("clients finish in time")
    {
        client_reports.push(r.unwrap_or_else(|e| panic!("a client failed (seed {seed}): {e}")));
    }

    // Every acked message is stored exactly once, where it was acked; nothing refused is.
    let matters: BTreeMap<String, (usize, String)> = world.matters.lock().expect("matters").clone();
    let mut acked: HashMap<String, Vec<Acked>> = HashMap::new();
    for a in client_reports
        .iter()
        .flat_map(|(a, _)| a)
        .chain(pro_reports.iter().flat_map(|r| &r.acked))
    {
        assert!(matters.contains_key(&a.0), "acked outside a matter: {a:?}");
        acked.entry(a.0.clone()).or_default().push(a.clone());
    }
    let takes = world.takes.lock().expect("takes").clone();
    let (mut stored_messages, mut races, mut closed) = (0, 0, 0);
    let mut wrong_losers: Vec<String> = Vec::new();
    for c in matters.keys() {
        let events = server.stored_events(c).await;
        for (i, e) in events.iter().enumerate() {
            assert_eq!(
                e["seq"].as_u64(),
                Some(i as u64 + 1),
                "{c}: gap: {events:?}"
            );
            assert!(
                !e.to_string().contains(XTALK),
                "{c}: a refused message was stored: {e}"
            );
            if e["type"] == "message" {
                stored_messages += 1;
                assert_eq!(
                    body_conversation(s(&e["body"])),
                    Some(c.as_str()),
                    "{c}: a body of another conversation stored: {e}"
                );
            }
        }
        for (conv, seq, id, body) in acked.get(c).into_iter().flatten() {
            let copies: Vec<&Value> = events
                .iter()
                .filter(|e| e["type"] == "message" && e["client_msg_id"] == id.as_str())
                .collect();
            assert_eq!(
                copies.len(),
                1,
                "{conv}: message {id} stored {} times",
                copies.len()
            );
            assert_eq!(
                copies[0]["seq"].as_u64(),
                Some(*seq),
                "{conv}: {:?}",
                copies[0]
            );
            assert_eq!(copies[0]["body"], body.as_str(), "{conv}: {:?}", copies[0]);
        }
        let assigned = events
            .iter()
            .filter(|e| e["type"] == "system" && e["event"] == "assigned")
            .count();
        let is_closed = events
            .iter()
            .any(|e| e["type"] == "system" && e["event"] == "closed");
        closed += usize::from(is_closed);
        let attempts = takes.get(c).cloned().unwrap_or_default();
        let winners = attempts.iter().filter(|(_, o)| o == "assigned").count();
        assert_eq!(
            assigned, winners,
            "{c}: {assigned} assigned events for takes {attempts:?}"
        );
        if !attempts.is_empty() {
            assert_eq!(winners, 1, "{c}: takes {attempts:?} (seed {seed})");
            races += usize::from(attempts.len() > 1);
        }
        for (pro, outcome) in &attempts {
            let code = outcome.split(':').next().unwrap_or_default();
            if !(outcome == "assigned" || code == "forbidden" || (code == "not_found" && is_closed))
            {
                wrong_losers.push(format!(
                    "{c}: {pro}'s take lost the race with `{outcome}`, not `forbidden`: {attempts:?}"
                ));
            }
        }
    }
    let total_acked: usize = acked.values().map(Vec::len).sum();
    assert_eq!(
        stored_messages, total_acked,
        "every stored message was acked to someone"
    );
    let cross_talk: u32 = client_reports
        .iter()
        .map(|(_, s)| s.cross_talk)
        .chain(pro_reports.iter().map(|r| r.stats.cross_talk))
        .sum();
    let lists: u32 = client_reports.iter().map(|(_, s)| s.lists).sum();
    let frames: u32 = client_reports
        .iter()
        .map(|(_, s)| s.frames)
        .chain(pro_reports.iter().map(|r| r.stats.frames))
        .sum();
    let taken = takes.len();
    let alerts: u32 = pro_reports.iter().map(|r| r.alerts).sum();
    let inboxes: u32 = pro_reports.iter().map(|r| r.inboxes).sum();
    let pro_closed: usize = pro_reports.iter().map(|r| r.closed).sum();
    let still_held: usize = pro_reports.iter().map(|r| r.held).sum();
    drop(pro_reports);
    eprintln!(
        "inbox isolation: {} matters, {total_acked} messages, {taken} taken ({races} raced), {closed} closed, {still_held} still held, {cross_talk} cross-talk attempts, {lists} lists, {inboxes} inboxes, {alerts} alerts, {frames} frames checked, in {:?}",
        matters.len(),
        started.elapsed()
    );
    assert_eq!(closed, pro_closed, "every close stored once");
    assert!(
        wrong_losers.is_empty(),
        "a lost take race must be `forbidden` (seed {seed}):\n{}",
        wrong_losers.join("\n")
    );
    assert!(
        taken > 0 && races > 0 && closed > 0 && cross_talk > 0 && alerts > 0,
        "the run did not exercise takes, races, closes, cross-talk and alerts (seed {seed})"
    );
}

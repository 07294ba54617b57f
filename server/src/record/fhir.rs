//! A closed conversation's transcript as an HL7 FHIR R4 transaction `Bundle` of `Communication`
//! resources, one per message, for a patient record server; and a structural checker of the
//! R4 rules the bundle relies on.
//!
//! Each entry is a conditional create (`POST Communication` with `ifNoneExist` on the
//! message's identifier), so sending the same transcript again creates nothing twice, and the
//! transaction stores a conversation whole or not at all. `fullUrl`s are `urn:uuid:` names
//! derived from the conversation and message ids, and `Bundle.timestamp` is the closing time, so
//! the same transcript always gives the same bundle.
//!
//! `Communication.medium` uses `http://terminology.hl7.org/CodeSystem/v3-ParticipationMode`:
//! `MSGWRIT` ("messaging", which includes online chat) for chat, `SMSWRIT` ("SMS message") for
//! SMS and `ONLINEWRIT` ("online written", text submitted over a computer network) for
//! asynchronous written messages. `MSGWRIT` and `SMSWRIT` came with version 4.0.0 of the code
//! system and are not in the older copy printed in the R4 specification; the R4 binding is
//! only an example, so any code of the system conforms.

use serde_json::{json, Map, Value};
use std::fmt;

/// The OID of the Finnish personal identity code, as an identifier system.
pub const HETU_SYSTEM: &str = "urn:oid:1.2.246.21";
/// The identifier system of a professional's Luukku id.
pub const PROFESSIONAL_SYSTEM: &str = "urn:luukku:professional";
/// The identifier system of a message's Luukku id (what makes a resend idempotent).
pub const MESSAGE_SYSTEM: &str = "urn:luukku:message";
/// The identifier system of a conversation's Luukku id (the bundle's identifier).
pub const CONVERSATION_SYSTEM: &str = "urn:luukku:conversation";
/// The code system of `Communication.medium`.
pub const PARTICIPATION_MODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode";

/// A closed conversation, as sent to the patient record. `Debug` leaves out the patient's
/// identity code and the messages' text.
#[derive(Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Luukku's id of the conversation.
    pub conversation_id: String,
    /// The service the patient contacted; becomes each message's `topic`.
    pub service_name: String,
    /// The organisation providing the service; the recipient of a patient's message that no
    /// professional ever answered.
    pub organisation_name: String,
    /// The patient's personal identity code, validated and normalized by the caller.
    pub patient_hetu: String,
    /// When the conversation was closed (RFC 3339); becomes `Bundle.timestamp`.
    pub closed_at_rfc3339: String,
    /// The messages, oldest first.
    pub messages: Vec<TranscriptMessage>,
}

/// One message of a transcript. `Debug` leaves out the text.
#[derive(Clone, PartialEq, Eq)]
pub struct TranscriptMessage {
    /// Luukku's id of the message, unique within the conversation.
    pub id: String,
    /// Who wrote it.
    pub sender: Sender,
    /// When it was sent (RFC 3339).
    pub sent_rfc3339: String,
    /// The text, carried exactly.
    pub body: String,
    /// How it travelled.
    pub medium: Medium,
}

/// The writer of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// The patient the conversation is about.
    Patient,
    /// A professional, by Luukku id and display name.
    Professional { id: String, name: String },
}

/// How a message travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// Live chat.
    Chat,
    /// An SMS text message.
    Sms,
    /// An asynchronous written message.
    Message,
}

impl fmt::Debug for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transcript")
            .field("conversation_id", &self.conversation_id)
            .field("service_name", &self.service_name)
            .field("messages", &self.messages)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TranscriptMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TranscriptMessage")
            .field("id", &self.id)
            .field("sender", &self.sender)
            .field("medium", &self.medium)
            .finish_non_exhaustive()
    }
}

/// The transcript as a transaction bundle.
///
/// `Bundle.timestamp` is when the content was assembled, which for a transcript is when the
/// conversation closed: that keeps the bundle the same on every resend.
pub fn communication_bundle(t: &Transcript) -> Value {
    let patient = json!({
        "type": "Patient",
        "identifier": { "system": HETU_SYSTEM, "value": t.patient_hetu },
    });
    let entries: Vec<Value> = (t.messages.iter().enumerate())
        .map(|(i, m)| {
            let query = format!("identifier={MESSAGE_SYSTEM}|{}", query_value(&m.id));
            json!({
                "fullUrl": full_url(&t.conversation_id, &m.id),
                "resource": communication(t, i, &patient),
                "request": { "method": "POST", "url": "Communication", "ifNoneExist": query },
            })
        })
        .collect();
    compact(json!({
        "resourceType": "Bundle",
        "identifier": { "system": CONVERSATION_SYSTEM, "value": t.conversation_id },
        "type": "transaction",
        "timestamp": fhir_date_time(&t.closed_at_rfc3339, true),
        "entry": (!entries.is_empty()).then_some(entries),
    }))
}

/// The `Communication` for message `index` of the transcript.
fn communication(t: &Transcript, index: usize, patient: &Value) -> Value {
    let m = &t.messages[index];
    let (sender, recipient) = match &m.sender {
        Sender::Patient => (patient.clone(), patient_recipient(t, index)),
        Sender::Professional { id, name } => (professional(id, name), Some(patient.clone())),
    };
    let (code, display, text) = match m.medium {
        Medium::Chat => ("MSGWRIT", "messaging", "chat"),
        Medium::Sms => ("SMSWRIT", "SMS message", "SMS"),
        Medium::Message => ("ONLINEWRIT", "online written", "message"),
    };
    let coding = json!({ "system": PARTICIPATION_MODE, "code": code, "display": display });
    compact(json!({
        "resourceType": "Communication",
        "identifier": [{ "system": MESSAGE_SYSTEM, "value": m.id }],
        "status": "completed",
        "medium": [{ "coding": [coding], "text": text }],
        "subject": patient,
        "topic": (!t.service_name.is_empty()).then(|| json!({ "text": t.service_name })),
        "sent": fhir_date_time(&m.sent_rfc3339, false),
        "recipient": recipient.map(|r| [r]),
        "sender": sender,
        "payload": (!m.body.is_empty()).then(|| json!([{ "contentString": m.body }])),
    }))
}

/// Who a patient's message went to: the professional who last wrote before it, else the
/// first who wrote after it, else the organisation.
fn patient_recipient(t: &Transcript, index: usize) -> Option<Value> {
    let (before, after) = t.messages.split_at(index);
    let professional_of = |m: &TranscriptMessage| match &m.sender {
        Sender::Professional { id, name } => Some(professional(id, name)),
        Sender::Patient => None,
    };
    let organisation = (!t.organisation_name.is_empty())
        .then(|| json!({ "type": "Organization", "display": t.organisation_name }));
    (before.iter().rev().find_map(professional_of))
        .or_else(|| after.iter().find_map(professional_of))
        .or(organisation)
}

/// A logical reference to a professional.
fn professional(id: &str, name: &str) -> Value {
    compact(json!({
        "type": "Practitioner",
        "identifier": { "system": PROFESSIONAL_SYSTEM, "value": id },
        "display": (!name.is_empty()).then_some(name),
    }))
}

/// The object without its null members (the optional elements left out).
fn compact(mut value: Value) -> Value {
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    value
}

/// A time as FHIR wants it: a valid FHIR dateTime (with `instant`, a valid instant) as it is,
/// else any timestamp jiff reads (e.g. with a space or a lower-case `t`) in UTC, else
/// unchanged so that the checker rejects it.
fn fhir_date_time(s: &str, instant: bool) -> String {
    if is_date_time(s, instant) {
        return s.to_owned();
    }
    (s.parse::<jiff::Timestamp>()).map_or_else(|_| s.to_owned(), |ts| ts.to_string())
}

/// A token value for a FHIR search URL: `\ | , $` escaped with a backslash, then everything
/// but unreserved characters and `:` percent-encoded.
fn query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '|' | ',' | '$') {
            out.push_str("%5C");
        }
        for b in c.encode_utf8(&mut [0; 4]).bytes() {
            match b {
                b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'-' | b'.' | b'_' | b'~' | b':' => {
                    out.push(char::from(b))
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    out
}

/// A `urn:uuid:` name for a message: a version 8 (RFC 9562, custom) UUID made of the 128-bit
/// FNV-1a hash of the conversation and message ids.
fn full_url(conversation_id: &str, message_id: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let bytes = (conversation_id.bytes().chain([0xff])).chain(message_id.bytes());
    let h = bytes.fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    let h = (h & !(0xf << 76) & !(0x3 << 62)) | (0x8 << 76) | (0x2 << 62);
    let mut url = String::from("urn:uuid:");
    for (i, c) in format!("{h:032x}").chars().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            url.push('-');
        }
        url.push(c);
    }
    url
}

// The elements of each kind of FHIR JSON object we check, separated by spaces. A `*` marks
// an element that may repeat (a JSON array); a `$` marks one of a primitive type that is a
// JSON string, `#` one that is a JSON number (both may have extensions in `_name`).

/// Communication in R4, with the elements it has from Resource and DomainResource.
const COMMUNICATION: &str = "resourceType$ id$ meta implicitRules$ language$ text contained* \
    extension* modifierExtension* identifier* instantiatesCanonical*$ instantiatesUri*$ \
    basedOn* partOf* inResponseTo* status$ statusReason category* priority$ medium* subject \
    topic about* encounter sent$ received$ recipient* sender reasonCode* reasonReference* \
    payload* note*";
const PAYLOAD: &str = "id$ extension* modifierExtension* contentString$ contentAttachment \
    contentReference";
const REFERENCE: &str = "id$ extension* reference$ type$ identifier display$";
const IDENTIFIER: &str = "id$ extension* use$ type system$ value$ period assigner";
/// Bundle in R4, with the elements it has from Resource.
const BUNDLE: &str = "resourceType$ id$ meta implicitRules$ language$ identifier type$ \
    timestamp$ total# link* entry* signature";
/// A transaction's entry: `search` and `response` belong to other kinds of bundle.
const ENTRY: &str = "id$ extension* modifierExtension* link* fullUrl$ resource request";
const REQUEST: &str = "id$ extension* modifierExtension* method$ url$ ifNoneMatch$ \
    ifModifiedSince$ ifMatch$ ifNoneExist$";
/// Communication.status's required value set, EventStatus.
const STATUSES: &str = "preparation in-progress not-done on-hold stopped completed \
    entered-in-error unknown";
/// The resource types R4 allows `Communication.subject` to refer to.
const SUBJECTS: &str = "Patient Group";
/// The resource types R4 allows `Communication.sender` to refer to.
const SENDERS: &str = "Device Organization Patient Practitioner PractitionerRole RelatedPerson \
    HealthcareService";
/// The resource types R4 allows `Communication.recipient` to refer to.
const RECIPIENTS: &str = "Device Organization Patient Practitioner PractitionerRole \
    RelatedPerson Group CareTeam HealthcareService";

/// Whether `name` is one of the names in `list`, separated by spaces.
fn listed(list: &str, name: &str) -> bool {
    list.split_whitespace().any(|n| n == name)
}

/// A member of an object, if it is a string.
fn string<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The value itself, or the items of an array.
fn items(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.into_iter().flat_map(as_slice)
}

/// The items of an array, or the value alone.
fn as_slice(value: &Value) -> &[Value] {
    value
        .as_array()
        .map_or(std::slice::from_ref(value), Vec::as_slice)
}

/// Checks that `value` is an object with only the elements of `spec`, each with its
/// cardinality and JSON type.
fn check_elements<'a>(
    path: &str,
    value: &'a Value,
    spec: &str,
) -> Result<&'a Map<String, Value>, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("{path} must be an object"))?;
    for (key, value) in object {
        let name = key.strip_prefix('_').unwrap_or(key);
        let element =
            (spec.split_whitespace()).find(|e| e.trim_end_matches(['*', '$', '#']) == name);
        let primitive = |e: &&str| e.ends_with('$') || e.ends_with('#');
        let Some(element) = element.filter(|e| name == key || primitive(e)) else {
            return Err(format!("{path} has no element {key}"));
        };
        let repeats = element.contains('*');
        if repeats != value.is_array() {
            let want = if repeats { "be an array" } else { "not repeat" };
            return Err(format!("{path}.{key} must {want}"));
        }
        let (want, right): (_, fn(&Value) -> bool) = match element.chars().last() {
            Some('$') if name == key => ("a string", Value::is_string),
            Some('#') if name == key => ("a number", Value::is_u64),
            _ => ("an object", Value::is_object),
        };
        if !items(Some(value)).all(right) {
            return Err(format!("{path}.{key} must be {want}"));
        }
    }
    Ok(object)
}

/// FHIR JSON has no null, empty string, empty array or empty object anywhere.
fn check_not_empty(path: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => Err(format!("{path} is null")),
        Value::String(s) if s.is_empty() => Err(format!("{path} is an empty string")),
        Value::Array(a) if a.is_empty() => Err(format!("{path} is an empty array")),
        Value::Object(o) if o.is_empty() => Err(format!("{path} is an empty object")),
        Value::Array(a) => (a.iter().enumerate())
            .try_for_each(|(i, x)| check_not_empty(&format!("{path}[{i}]"), x)),
        Value::Object(o) => {
            (o.iter()).try_for_each(|(k, x)| check_not_empty(&format!("{path}.{k}"), x))
        }
        _ => Ok(()),
    }
}

/// Checks the R4 rules of `Communication` that our bundles rely on: only known elements, each
/// with its cardinality and JSON type; no empty or null values; a `status` from EventStatus;
/// valid `sent` and `received` dateTimes; exactly one `content[x]` in each payload; and
/// references of the allowed types. The message names the element, never its value.
pub fn check_r4_communication(resource: &Value) -> Result<(), String> {
    let c = check_elements("Communication", resource, COMMUNICATION)?;
    if string(c, "resourceType") != Some("Communication") {
        return Err("resourceType must be Communication".into());
    }
    check_not_empty("Communication", resource)?;
    let status = string(c, "status").ok_or("Communication.status is required")?;
    if !listed(STATUSES, status) {
        return Err("Communication.status is not an EventStatus code".into());
    }
    if string(c, "priority").is_some_and(|p| !listed("routine urgent asap stat", p)) {
        return Err("Communication.priority is not a RequestPriority code".into());
    }
    for key in ["sent", "received"] {
        if string(c, key).is_some_and(|s| !is_date_time(s, false)) {
            return Err(format!("Communication.{key} is not a FHIR dateTime"));
        }
    }
    for (i, payload) in items(c.get("payload")).enumerate() {
        let path = format!("Communication.payload[{i}]");
        let payload = check_elements(&path, payload, PAYLOAD)?;
        if payload.keys().filter(|k| k.starts_with("content")).count() != 1 {
            return Err(format!("{path} must have exactly one content[x]"));
        }
    }
    let references = [
        ("subject", SUBJECTS),
        ("sender", SENDERS),
        ("recipient", RECIPIENTS),
    ];
    for (key, types) in references {
        let path = format!("Communication.{key}");
        for r in items(c.get(key)) {
            let r = check_elements(&path, r, REFERENCE)?;
            if !["reference", "identifier", "display"]
                .iter()
                .any(|&k| r.contains_key(k))
            {
                return Err(format!("{path} needs a reference, identifier or display"));
            }
            if string(r, "type").is_some_and(|t| !listed(types, t)) {
                return Err(format!("{path}.type is not one of {types}"));
            }
            if let Some(identifier) = r.get("identifier") {
                check_elements(&format!("{path}.identifier"), identifier, IDENTIFIER)?;
            }
        }
    }
    Ok(())
}

/// Checks a transaction bundle: its elements, `type` and `timestamp`; in every entry a unique
/// `fullUrl`, a `request` (a method, a url, and for a POST the resource's type as the url)
/// and a resource for a POST or PUT; and every `Communication` with
/// [`check_r4_communication`].
pub fn check_r4_bundle(bundle: &Value) -> Result<(), String> {
    let b = check_elements("Bundle", bundle, BUNDLE)?;
    if string(b, "resourceType") != Some("Bundle") {
        return Err("resourceType must be Bundle".into());
    }
    check_not_empty("Bundle", bundle)?;
    if string(b, "type") != Some("transaction") || b.contains_key("total") {
        return Err("Bundle.type must be transaction (and have no total)".into());
    }
    if string(b, "timestamp").is_some_and(|t| !is_date_time(t, true)) {
        return Err("Bundle.timestamp is not a FHIR instant".into());
    }
    let mut full_urls = std::collections::HashSet::new();
    for (i, entry) in items(b.get("entry")).enumerate() {
        let path = format!("Bundle.entry[{i}]");
        let fail = |what: &str| Err(format!("{path}{what}"));
        let e = check_elements(&path, entry, ENTRY)?;
        let Some(full) = string(e, "fullUrl") else {
            return fail(".fullUrl is required");
        };
        let uuid = full.strip_prefix("urn:uuid:").map(is_uuid);
        if uuid == Some(false) || !full.contains(':') || full.contains("/_history/") {
            return fail(".fullUrl is not an absolute, version-independent URI");
        }
        if !full_urls.insert(full) {
            return fail(".fullUrl repeats an earlier entry's");
        }
        let Some(request) = e.get("request") else {
            return fail(".request is required");
        };
        let request = check_elements(&format!("{path}.request"), request, REQUEST)?;
        let method = string(request, "method").unwrap_or_default();
        if !listed("GET HEAD POST PUT DELETE PATCH", method) {
            return fail(".request.method is not an HTTP verb of FHIR");
        }
        let Some(url) = string(request, "url") else {
            return fail(".request.url is required");
        };
        let resource = match e.get("resource") {
            None if method == "POST" || method == "PUT" => return fail(".resource is required"),
            None => continue,
            Some(resource) => resource,
        };
        let kind = resource.get("resourceType").and_then(Value::as_str);
        if method == "POST" && Some(url) != kind {
            return fail(".request.url of a POST must be the resource's type");
        }
        if kind == Some("Communication") {
            check_r4_communication(resource).map_err(|err| format!("{path}.resource: {err}"))?;
        }
    }
    Ok(())
}

/// Whether `s` is a lower-case 8-4-4-4-12 hexadecimal UUID, as FHIR's `uuid` type wants.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Whether `s` matches FHIR R4's dateTime regular expression and is a real calendar date.
/// With `instant`, only the full form with time and zone is accepted, as for R4's instant.
fn is_date_time(s: &str, instant: bool) -> bool {
    let b = s.as_bytes();
    let num = |at: usize, len: usize| -> Option<u32> {
        (b.get(at..at + len)?.iter()).try_fold(0, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let Some(year) = num(0, 4).filter(|&y| y > 0) else {
        return false;
    };
    let Some(month) = num(5, 2).filter(|m| at(4, b'-') && (1..=12).contains(m)) else {
        return b.len() == 4 && !instant;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !num(8, 2).is_some_and(|d| at(7, b'-') && (1..=days).contains(&d)) {
        return b.len() == 7 && !instant;
    }
    let time = at(10, b'T') && at(13, b':') && at(16, b':');
    let clock = match (num(11, 2), num(14, 2), num(17, 2)) {
        (Some(h), Some(m), Some(s)) => h < 24 && m < 60 && s <= 60,
        _ => false,
    };
    if !(time && clock) {
        return b.len() == 10 && !instant;
    }
    let mut i = 19;
    if at(i, b'.') {
        i += 1 + b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
        if i == 20 {
            return false;
        }
    }
    match &b[i..] {
        b"Z" => true,
        [b'+' | b'-', _, _, b':', _, _] => match (num(i + 1, 2), num(i + 4, 2)) {
            (Some(h), Some(m)) => (h < 14 && m < 60) || (h == 14 && m == 0),
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
#[path = "fhir/tests.rs"]
mod tests;

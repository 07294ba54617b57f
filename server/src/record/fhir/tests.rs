//! Tests of the transcript bundle and the R4 checker.
#![allow(clippy::unwrap_used)]

use super::*;

const BODY: &str = "Hei! \"Lainaus\" ja 'toinen'\nRivi 2\r\n\ttab — äöå 😀 \\ <b>&amp;</b> $,|";

fn professional_sender() -> Sender {
    Sender::Professional {
        id: "p-17".into(),
        name: "Hoitaja Hanna".into(),
    }
}

fn message(id: &str, sender: Sender, sent: &str, body: &str, medium: Medium) -> TranscriptMessage {
    TranscriptMessage {
        id: id.into(),
        sender,
        sent_rfc3339: sent.into(),
        body: body.into(),
        medium,
    }
}

fn transcript() -> Transcript {
    Transcript {
        conversation_id: "c-1".into(),
        service_name: "Terveysneuvonta".into(),
        organisation_name: "Esimerkin hyvinvointialue".into(),
        patient_hetu: "131052-308T".into(),
        closed_at_rfc3339: "2024-03-01T09:30:00+02:00".into(),
        messages: vec![
            message(
                "m-1",
                Sender::Patient,
                "2024-03-01T09:00:00+02:00",
                "Hei",
                Medium::Message,
            ),
            message(
                "m-2",
                professional_sender(),
                "2024-03-01T09:01:02.5Z",
                BODY,
                Medium::Chat,
            ),
            message(
                "m-3",
                Sender::Patient,
                "2024-03-01 07:05:00z",
                "Kiitos",
                Medium::Sms,
            ),
        ],
    }
}

fn resource(bundle: &Value, i: usize) -> &Value {
    &bundle["entry"][i]["resource"]
}

#[test]
fn bundle_carries_the_transcript_and_passes_the_checker() {
    let bundle = communication_bundle(&transcript());
    check_r4_bundle(&bundle).unwrap();
    assert_eq!(bundle["type"], "transaction");
    assert_eq!(bundle["timestamp"], "2024-03-01T09:30:00+02:00");
    assert_eq!(
        bundle["identifier"],
        json!({ "system": CONVERSATION_SYSTEM, "value": "c-1" })
    );
    assert_eq!(bundle["entry"].as_array().unwrap().len(), 3);
    let patient = json!({ "type": "Patient", "identifier": { "system": "urn:oid:1.2.246.21", "value": "131052-308T" } });
    let hanna = json!({ "type": "Practitioner", "identifier": { "system": "urn:luukku:professional", "value": "p-17" }, "display": "Hoitaja Hanna" });
    let (m1, m2, m3) = (
        resource(&bundle, 0),
        resource(&bundle, 1),
        resource(&bundle, 2),
    );
    for (i, c) in [m1, m2, m3].into_iter().enumerate() {
        assert_eq!(c["status"], "completed");
        assert_eq!(c["subject"], patient);
        assert_eq!(c["topic"], json!({ "text": "Terveysneuvonta" }));
        assert_eq!(
            c["identifier"],
            json!([{ "system": "urn:luukku:message", "value": format!("m-{}", i + 1) }])
        );
        let request = &bundle["entry"][i]["request"];
        assert_eq!(request["method"], "POST");
        assert_eq!(request["url"], "Communication");
        assert_eq!(
            request["ifNoneExist"],
            format!("identifier=urn:luukku:message|m-{}", i + 1)
        );
    }
    // The patient's first message goes to the professional who answers it.
    assert_eq!(
        (&m1["sender"], &m1["recipient"]),
        (&patient, &json!([hanna]))
    );
    assert_eq!(
        (&m2["sender"], &m2["recipient"]),
        (&hanna, &json!([patient]))
    );
    assert_eq!(m3["recipient"], json!([hanna]));
    let codes: Vec<&Value> = [m1, m2, m3]
        .iter()
        .map(|c| &c["medium"][0]["coding"][0]["code"])
        .collect();
    assert_eq!(codes, ["ONLINEWRIT", "MSGWRIT", "SMSWRIT"]);
    assert_eq!(m3["medium"][0]["coding"][0]["system"], PARTICIPATION_MODE);
    assert_eq!(m1["sent"], "2024-03-01T09:00:00+02:00");
    assert_eq!(m2["sent"], "2024-03-01T09:01:02.5Z");
    assert_eq!(m3["sent"], "2024-03-01T07:05:00Z");
    // The body survives serialization exactly.
    let text = serde_json::to_string(&bundle).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        resource(&back, 1)["payload"],
        json!([{ "contentString": BODY }])
    );
    assert_eq!(back, bundle);
    assert_eq!(communication_bundle(&transcript()), bundle);
}

#[test]
fn full_urls_are_unique_uuids() {
    let bundle = communication_bundle(&transcript());
    let urls: Vec<&str> = (0..3)
        .map(|i| bundle["entry"][i]["fullUrl"].as_str().unwrap())
        .collect();
    for url in &urls {
        let uuid = url.strip_prefix("urn:uuid:").unwrap();
        assert!(is_uuid(uuid), "{url}");
        assert_eq!(
            (&uuid[14..15], &uuid[19..20]),
            ("8", "a").max(("8", &uuid[19..20]))
        );
        assert!("89ab".contains(&uuid[19..20]));
    }
    assert!(urls[0] != urls[1] && urls[1] != urls[2] && urls[0] != urls[2]);
    assert_ne!(full_url("c-1", "m-1"), full_url("c-2", "m-1"));
    assert_ne!(full_url("c-1m", "-1"), full_url("c-1", "m-1"));
}

#[test]
fn unanswered_message_goes_to_the_organisation_and_odd_ids_are_escaped() {
    let mut t = transcript();
    t.messages = vec![message(
        "a|b,c d&e",
        Sender::Patient,
        "2024-03-01T09:00:00Z",
        "",
        Medium::Message,
    )];
    let bundle = communication_bundle(&t);
    check_r4_bundle(&bundle).unwrap();
    let c = resource(&bundle, 0);
    assert_eq!(
        c["recipient"],
        json!([{ "type": "Organization", "display": "Esimerkin hyvinvointialue" }])
    );
    assert!(c.get("payload").is_none());
    assert_eq!(
        bundle["entry"][0]["request"]["ifNoneExist"],
        "identifier=urn:luukku:message|a%5C%7Cb%5C%2Cc%20d%26e"
    );
    t.messages.clear();
    check_r4_bundle(&communication_bundle(&t)).unwrap();
}

#[test]
fn debug_leaves_out_identity_code_and_text() {
    let shown = format!("{:?}", transcript());
    assert!(shown.contains("c-1") && shown.contains("m-2"));
    assert!(!shown.contains("131052") && !shown.contains("Lainaus") && !shown.contains("Kiitos"));
}

fn rejected(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let bundle = communication_bundle(&transcript());
    let mut c = resource(&bundle, 1).clone();
    check_r4_communication(&c).unwrap();
    edit(c.as_object_mut().unwrap());
    check_r4_communication(&c).unwrap_err()
}

#[test]
fn checker_rejects_broken_communications() {
    assert!(rejected(|c| drop(c.remove("status"))).contains("status is required"));
    assert!(rejected(|c| drop(c.insert("status".into(), json!("done")))).contains("EventStatus"));
    assert!(
        rejected(|c| drop(c.insert("status".into(), json!(["completed"]))))
            .contains("must not repeat")
    );
    for bad in [
        "2024-02-30T10:00:00Z",
        "2024-01-01T10:00:00",
        "2024-01-01T24:00:00Z",
        "2024-01-01T10:00:00+14:30",
        "0000-01-01",
        "2024-1-01",
        "2024-01-01T10:00Z",
        "2024-01-01T10:00:00.Z",
        "2024-01-01T10:00:00Z ",
        "2024-01-01t10:00:00Z",
    ] {
        assert!(
            rejected(|c| drop(c.insert("sent".into(), json!(bad))))
                .contains("sent is not a FHIR dateTime"),
            "{bad}"
        );
    }
    let two = json!([{ "contentString": "a", "contentReference": { "reference": "Binary/1" } }]);
    assert!(rejected(|c| drop(c.insert("payload".into(), two))).contains("exactly one content[x]"));
    assert!(
        rejected(|c| drop(c.insert("payload".into(), json!([{ "id": "x" }]))))
            .contains("exactly one")
    );
    assert!(
        rejected(|c| drop(c.insert("payload".into(), json!([{ "content": "x" }]))))
            .contains("no element content")
    );
    assert!(
        rejected(|c| drop(c.insert("conversation".into(), json!("c-1"))))
            .contains("no element conversation")
    );
    assert!(
        rejected(|c| drop(c.insert("_subject".into(), json!({})))).contains("no element _subject")
    );
    assert!(
        rejected(|c| drop(c.insert("topic".into(), json!({ "text": "" }))))
            .contains("empty string")
    );
    assert!(rejected(|c| drop(c.insert("note".into(), json!([])))).contains("empty array"));
    assert!(
        rejected(|c| drop(c.insert("medium".into(), json!({ "text": "x" }))))
            .contains("must be an array")
    );
    assert!(rejected(|c| drop(c.insert("sent".into(), json!(5)))).contains("must be a string"));
    let group = json!({ "type": "Group", "display": "x" });
    assert!(rejected(|c| drop(c.insert("sender".into(), group))).contains("sender.type"));
    assert!(
        rejected(|c| drop(c.insert("subject".into(), json!({ "type": "Patient" }))))
            .contains("needs a reference")
    );
}

#[test]
fn date_times_follow_the_r4_pattern() {
    for good in [
        "2024",
        "2024-02",
        "2024-02-29",
        "2024-02-29T23:59:60.123456-00:00",
        "1999-12-31T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
    ] {
        assert!(is_date_time(good, false), "{good}");
    }
    assert!(is_date_time("2024-02-29T10:00:00+03:00", true));
    assert!(!is_date_time("2024-02-29", true));
    assert!(!is_date_time("2023-02-29", false));
    assert!(!is_date_time("1900-02-29", false));
    assert!(!is_date_time("2024-02-29T10:00:00+13:60", false));
    assert!(!is_date_time("+2024-01-01", false));
}

#[test]
fn checker_rejects_broken_bundles() {
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut b = communication_bundle(&transcript());
        edit(&mut b);
        check_r4_bundle(&b).unwrap_err()
    };
    assert!(broken(&|b| b["type"] = json!("collection")).contains("transaction"));
    assert!(broken(&|b| b["total"] = json!(3)).contains("no total"));
    assert!(broken(&|b| b["timestamp"] = json!("2024-03-01")).contains("instant"));
    assert!(
        broken(&|b| drop(b["entry"][1].as_object_mut().unwrap().remove("request")))
            .contains("request is required")
    );
    assert!(
        broken(&|b| b["entry"][1]["fullUrl"] = b["entry"][0]["fullUrl"].clone())
            .contains("repeats")
    );
    assert!(broken(&|b| b["entry"][1]["fullUrl"] = json!("urn:uuid:ABC")).contains("fullUrl"));
    assert!(broken(&|b| b["entry"][1]["request"]["url"] = json!("Patient")).contains("POST"));
    assert!(broken(&|b| b["entry"][1]["request"]["method"] = json!("post")).contains("method"));
    assert!(
        broken(&|b| b["entry"][1]["response"] = json!({ "status": "201" })).contains("response")
    );
    assert!(broken(&|b| drop(
        b["entry"][1]["resource"]
            .as_object_mut()
            .unwrap()
            .remove("status")
    ))
    .contains("entry[1].resource: Communication.status"));
}

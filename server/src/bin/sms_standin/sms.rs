//! One SMS as Telnyx's message record describes it (`record_type: "message"`): the fields the
//! stand-in keeps, how it moves from `queued` to `sent` to `delivered`/`delivery_failed`, its
//! JSON at each stage, and phone numbers masked for the logs.

use crate::gsm::{self, Segments};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// The organisation every record names (one account, so one organisation).
const ORGANIZATION_ID: &str = "5a2e1c3d-7b4f-4e6a-9c8d-0f1e2d3c4b5a";
/// The carrier and line type of our (Telnyx) numbers, as Telnyx's examples show them.
const OUR_CARRIER: &str = "Telnyx";
const OUR_LINE_TYPE: &str = "VoIP";
/// The carrier and line type of a patient's phone.
const PHONE_CARRIER: &str = "STAND-IN MOBILE";
const PHONE_LINE_TYPE: &str = "Wireless";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Outbound,
    Inbound,
}

/// A delivery error as a record's `errors[]` carries it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DeliveryError {
    pub code: String,
    pub title: String,
    pub detail: String,
}

/// One message and where it is.
#[derive(Clone, Debug)]
pub struct Sms {
    pub id: Uuid,
    pub direction: Direction,
    pub from: Option<String>,
    pub to: String,
    pub text: String,
    pub messaging_profile_id: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_failover_url: Option<String>,
    pub segments: Segments,
    pub received_at: Timestamp,
    /// `to[0].status`: `queued`, `sent`, `delivered`, `delivery_failed`, `webhook_delivered`.
    pub status: &'static str,
    pub sent_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub errors: Vec<DeliveryError>,
}

impl Sms {
    /// A message just received by the provider: an outbound one `queued`, an inbound one
    /// `webhook_delivered` (what Telnyx reports for a message sent on to the webhook).
    pub fn new(direction: Direction, from: Option<String>, to: String, text: String) -> Sms {
        Sms {
            id: Uuid::new_v4(),
            direction,
            from,
            to,
            segments: gsm::segments(&text),
            text,
            messaging_profile_id: None,
            webhook_url: None,
            webhook_failover_url: None,
            received_at: Timestamp::now(),
            status: match direction {
                Direction::Outbound => "queued",
                Direction::Inbound => "webhook_delivered",
            },
            sent_at: None,
            completed_at: None,
            errors: Vec::new(),
        }
    }

    /// The carrier took it.
    pub fn mark_sent(&mut self, at: Timestamp) {
        self.status = "sent";
        self.sent_at = Some(at);
    }

    /// It reached its terminal state: delivered, or failed with `error`.
    pub fn mark_finalized(&mut self, at: Timestamp, error: Option<DeliveryError>) {
        self.completed_at = Some(at);
        match error {
            None => self.status = "delivered",
            Some(e) => {
                self.status = "delivery_failed";
                self.errors = vec![e];
            }
        }
    }

    /// The record as Telnyx sends it: the `data` of the send answer, the `payload` of events.
    pub fn record(&self) -> Value {
        let (direction, from_party, to_party) = match self.direction {
            Direction::Outbound => ("outbound", ours(), phone()),
            Direction::Inbound => ("inbound", phone(), ours()),
        };
        json!({
            "record_type": "message",
            "direction": direction,
            "id": self.id.to_string(),
            "type": "SMS",
            "messaging_profile_id": self.messaging_profile_id,
            "organization_id": ORGANIZATION_ID,
            "from": {
                "phone_number": self.from,
                "carrier": from_party.0,
                "line_type": from_party.1,
            },
            "to": [{
                "phone_number": self.to,
                "status": self.status,
                "carrier": to_party.0,
                "line_type": to_party.1,
            }],
            "cc": [],
            "text": self.text,
            "subject": null,
            "media": [],
            "webhook_url": self.webhook_url,
            "webhook_failover_url": self.webhook_failover_url,
            "encoding": self.segments.encoding.as_str(),
            "parts": self.segments.parts,
            "tags": [],
            "cost": null,
            "received_at": rfc3339(self.received_at),
            "sent_at": self.sent_at.map(rfc3339),
            "completed_at": self.completed_at.map(rfc3339),
            "valid_until": null,
            "errors": self.errors,
        })
    }
}

fn ours() -> (&'static str, &'static str) {
    (OUR_CARRIER, OUR_LINE_TYPE)
}

fn phone() -> (&'static str, &'static str) {
    (PHONE_CARRIER, PHONE_LINE_TYPE)
}

/// RFC 3339 in UTC with milliseconds, as Telnyx writes times (`2019-01-23T18:10:02.574Z`).
pub fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A phone number for the logs: every digit but the last two replaced by `*`.
pub fn mask(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    number
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen + 2 > digits {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_number_keeps_only_its_last_two_digits() {
        assert_eq!(mask("+358401234567"), "+**********67");
        assert_eq!(mask("7"), "7");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn times_are_rfc_3339_with_milliseconds() {
        let at: Timestamp = "2019-01-23T18:10:02.574321Z".parse().expect("time");
        assert_eq!(rfc3339(at), "2019-01-23T18:10:02.574Z");
    }
}

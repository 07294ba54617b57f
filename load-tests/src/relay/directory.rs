//! The professionals the relay pretends to have: the server's demo organisation, or with
//! `--professionals N` the benchmark organisation of `scripts/bench.sh` (station-a staffed by
//! `nurse-1` … `nurse-N`), so that the load generator staffs a run exactly as it does against
//! Luukku. A dev token is just `relay:<professional id>`; any token is accepted.

use console_protocol::{ProfessionalInfo, TeamId};
use std::sync::OnceLock;

/// Set once at start-up by `--professionals`.
static STAFF: OnceLock<u32> = OnceLock::new();

/// Staffs station-a with `nurse-1` … `nurse-n` instead of the demo professionals.
pub fn staff_station_a(n: u32) {
    let _ = STAFF.set(n);
}

/// `nurse-K` of the benchmark staff, when the relay has one.
fn staff_member(id: &str) -> Option<u32> {
    let n = *STAFF.get()?;
    let k: u32 = id.strip_prefix("nurse-")?.parse().ok()?;
    (1..=n).contains(&k).then_some(k)
}

/// (id, display name, teams) of the demo organisation's professionals.
const PROFESSIONALS: &[(&str, &str, &[&str])] = &[
    ("nurse-1", "Nurse One", &["station-a"]),
    ("nurse-2", "Nurse Two", &["station-a"]),
    ("nurse-3", "Nurse Three", &["station-b"]),
    ("nurse-4", "Nurse Four", &["station-a", "station-b"]),
    ("social-1", "Social Worker One", &["social"]),
    ("social-2", "Social Worker Two", &["social"]),
];

const TOKEN_PREFIX: &str = "relay:";

/// `GET /api/v1/dev/professionals`.
pub fn professionals_json() -> serde_json::Value {
    let list: Vec<_> = match STAFF.get() {
        Some(&n) => (1..=n)
            .map(|k| {
                serde_json::json!({"id": format!("nurse-{k}"), "name": format!("Nurse {k}"),
                    "teams": ["station-a"]})
            })
            .collect(),
        None => PROFESSIONALS
            .iter()
            .map(|(id, name, teams)| serde_json::json!({"id": id, "name": name, "teams": teams}))
            .collect(),
    };
    serde_json::json!({ "professionals": list })
}

/// `POST /api/v1/dev/token` with `{"professional": id}`: a token naming that professional.
pub fn token_json(request_body: &[u8]) -> serde_json::Value {
    let id = serde_json::from_slice::<serde_json::Value>(request_body)
        .ok()
        .and_then(|v| v.get("professional")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "nurse-1".to_owned());
    serde_json::json!({ "token": format!("{TOKEN_PREFIX}{id}") })
}

/// Who a console token stands for: a known professional, or an ad-hoc one (no auth checks).
pub fn professional_of(token: Option<&str>) -> ProfessionalInfo {
    let id = token
        .map(|t| t.strip_prefix(TOKEN_PREFIX).unwrap_or(t))
        .filter(|id| !id.is_empty())
        .unwrap_or("professional");
    if let Some(k) = staff_member(id) {
        return ProfessionalInfo {
            id: id.into(),
            name: format!("Nurse {k}"),
            teams: vec![TeamId::from("station-a")],
            roles: Vec::new(),
        };
    }
    match PROFESSIONALS.iter().find(|(known, _, _)| *known == id) {
        Some((id, name, teams)) => ProfessionalInfo {
            id: (*id).into(),
            name: (*name).to_owned(),
            teams: teams.iter().map(|t| TeamId::from(*t)).collect(),
            roles: Vec::new(),
        },
        None => ProfessionalInfo {
            id: id.into(),
            name: "Professional".to_owned(),
            teams: vec![TeamId::from("station-a")],
            roles: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dev_token_names_its_professional() {
        let reply = token_json(br#"{"professional":"nurse-2"}"#);
        let token = reply["token"].as_str().map(str::to_owned);
        let who = professional_of(token.as_deref());
        assert_eq!(who.id.as_str(), "nurse-2");
        assert_eq!(who.name, "Nurse Two");
        assert_eq!(who.teams, vec![TeamId::from("station-a")]);
    }

    #[test]
    fn any_token_is_accepted() {
        assert_eq!(professional_of(Some("garbage")).id.as_str(), "garbage");
        assert_eq!(professional_of(None).id.as_str(), "professional");
        assert_eq!(professional_of(Some("relay:")).id.as_str(), "professional");
        assert!(token_json(b"not json")["token"].is_string());
    }

    #[test]
    fn station_a_has_the_demo_nurses() {
        let list = professionals_json();
        let in_a = list["professionals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| {
                p["teams"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "station-a"))
            })
            .count();
        assert_eq!(in_a, 3);
    }
}

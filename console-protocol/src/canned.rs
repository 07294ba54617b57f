//! Canned responses (extension): a professional's quick replies, the team's from the
//! configuration and their own, stored on the server.

use crate::ids::*;
use serde::{Deserialize, Serialize};

/// Ask for the canned responses (`{"type":"canned"}`): the team ones and one's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CannedRequest {}

/// Create a personal canned response, or edit one's own when `id` is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedSave {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 1–32 characters of `a-z`, `0-9`, `_`, `-`.
    pub code: String,
    /// At most 100 characters; may be empty.
    #[serde(default)]
    pub title: String,
    /// One of the organisation's languages.
    pub lang: String,
    /// 1–2000 characters; may hold `{client_name}`, `{professional_name}`, `{team}`.
    pub body: String,
}

/// Delete one's own canned response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedDelete {
    pub id: String,
}

/// Whose a canned response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CannedScope {
    /// From the organisation configuration, for every member of `team`.
    Team,
    /// The professional's own.
    Personal,
}

/// One canned response in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedResponse {
    /// Opaque; a personal response's id is what `canned_save` and `canned_delete` take.
    pub id: String,
    pub scope: CannedScope,
    /// The team, for `scope: team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    pub code: String,
    pub title: String,
    pub lang: String,
    pub body: String,
}

/// The professional's canned responses: their teams' (one entry per language), then their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CannedList {
    pub responses: Vec<CannedResponse>,
}

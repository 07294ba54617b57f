//! Telnyx's error body, `{"errors":[{code,title,detail,source,meta}]}`, and the refusals the
//! stand-in answers with it (codes and titles from Telnyx's API error reference).

use serde::Serialize;
use serde_json::Value;
use warp::http::StatusCode;

/// One entry of Telnyx's `errors` array.
#[derive(Clone, Debug, Serialize)]
pub struct ApiError {
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    pub meta: Meta,
}

#[derive(Clone, Debug, Serialize)]
pub struct Source {
    pub pointer: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    pub url: String,
}

impl ApiError {
    pub fn new(code: &'static str, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            title,
            detail: detail.into(),
            source: None,
            meta: Meta {
                url: format!("https://developers.telnyx.com/docs/overview/errors/{code}"),
            },
        }
    }

    pub fn at(mut self, pointer: &'static str) -> ApiError {
        self.source = Some(Source { pointer });
        self
    }
}

/// A refused request: the HTTP status and the errors.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub errors: Vec<ApiError>,
}

impl Refusal {
    pub fn one(status: StatusCode, error: ApiError) -> Refusal {
        Refusal {
            status,
            errors: vec![error],
        }
    }

    /// Telnyx's error body.
    pub fn body(&self) -> Value {
        serde_json::json!({ "errors": self.errors })
    }

    pub fn authentication_failed() -> Refusal {
        Refusal::one(
            StatusCode::UNAUTHORIZED,
            ApiError::new(
                "10009",
                "Authentication failed",
                "The required authentication headers were either invalid or not included in \
                 the request.",
            ),
        )
    }

    /// The same `Idempotency-Key` came with another body while the first is remembered.
    pub fn key_reused() -> Refusal {
        Refusal::one(
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::new(
                "10015",
                "Bad Request",
                "This Idempotency-Key was used with a different request body within the last \
                 24 hours.",
            ),
        )
    }

    /// An injected outage (`api_5xx`): `500` or `503`, nothing sent.
    pub fn outage(status: StatusCode) -> Refusal {
        Refusal::one(
            status,
            ApiError::new("10007", "Unexpected error", "An unexpected error occured."),
        )
    }

    pub fn not_found() -> Refusal {
        Refusal::one(
            StatusCode::NOT_FOUND,
            ApiError::new(
                "10005",
                "Resource not found",
                "The requested resource or URL could not be found.",
            ),
        )
    }
}

//! Red flags: answers of a service's questionnaire that are alarming (chest pain with
//! difficulty breathing). A start that raises one is urgent: first in its queue, and the
//! client is shown the flag's emergency guidance at once.

use super::{Service, Text};
use serde::{Deserialize, Serialize};

/// A combination of answers that is alarming (e.g. chest pain with breathing difficulty).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedFlag {
    /// Question id → the answer that raises the flag: `true`/`false` for a `yes_no`
    /// question, an option's index (from 0) or a list of indexes for a `choice` one. Every
    /// entry must match.
    pub when: std::collections::BTreeMap<String, serde_json::Value>,
    /// What the client is told at once (call 112, …).
    pub guidance: Text,
}

/// The priority of an urgent conversation: before returned (2) and transferred (1) ones.
pub const URGENT_PRIORITY: i32 = 10;

impl Service {
    /// The first red flag the `answers` raise, if any.
    pub fn red_flag(&self, answers: Option<&console_protocol::Answers>) -> Option<&RedFlag> {
        let answers = answers?;
        self.red_flags.iter().find(|flag| {
            flag.when.iter().all(|(qid, wanted)| {
                let (Some(q), Some(given)) = (
                    self.questionnaire.iter().find(|q| &q.id == qid),
                    answers.get(qid),
                ) else {
                    return false;
                };
                match q.kind.as_str() {
                    "yes_no" => given.as_bool().is_some() && given.as_bool() == wanted.as_bool(),
                    "choice" => {
                        let indexes: Vec<u64> = match wanted {
                            serde_json::Value::Array(v) => {
                                v.iter().filter_map(|i| i.as_u64()).collect()
                            }
                            other => other.as_u64().into_iter().collect(),
                        };
                        let Some(text) = given.as_str() else {
                            return false;
                        };
                        indexes.iter().any(|&i| {
                            usize::try_from(i)
                                .ok()
                                .and_then(|i| q.options.get(i))
                                .is_some_and(|o| o.translations().any(|t| t == text))
                        })
                    }
                    _ => false,
                }
            })
        })
    }
}

/// Checks `s`'s red flags against its questionnaire; `langs` are the organisation's languages.
pub(super) fn check(s: &Service, langs: &[String]) -> Result<(), String> {
    for (i, flag) in s.red_flags.iter().enumerate() {
        let what = format!("service {} red_flags[{i}]", s.id);
        flag.guidance.check(&format!("{what} guidance"), langs)?;
        if flag.guidance.is_empty() || flag.when.is_empty() {
            return Err(format!(
                "{what}: needs `when` answers and a `guidance` text"
            ));
        }
        for (qid, wanted) in &flag.when {
            let Some(q) = s.questionnaire.iter().find(|q| &q.id == qid) else {
                return Err(format!("{what}: no question {qid:?}"));
            };
            let fits = match q.kind.as_str() {
                "yes_no" => wanted.is_boolean(),
                "choice" => {
                    let index_ok = |v: &serde_json::Value| {
                        v.as_u64().is_some_and(|i| (i as usize) < q.options.len())
                    };
                    index_ok(wanted)
                        || wanted
                            .as_array()
                            .is_some_and(|a| !a.is_empty() && a.iter().all(index_ok))
                }
                _ => false,
            };
            if !fits {
                return Err(format!(
                    "{what}: {qid} wants true/false (yes_no) or option indexes (choice)"
                ));
            }
        }
    }
    Ok(())
}

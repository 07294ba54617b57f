//! Translatable organisation texts: a [`Text`] is one plain string (the same in every language)
//! or a table of language → text, read in a language with a fallback to the organisation's
//! default language and then to any translation there is. Also picks the language of a request
//! from `?lang=` and `Accept-Language`.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A text of the organisation, in one or more languages.
///
/// In the configuration either `name = "Health station chat"` or
/// `name = { fi = "Terveysaseman chat", sv = "Hälsostationens chatt", en = "Health station chat" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Text {
    /// One string for every language (written in the organisation's default language).
    Plain(String),
    /// Language code (`fi`, `sv`, `en`, …) → text.
    Translated(BTreeMap<String, String>),
}

/// Reads a string or a table of strings, saying so when given anything else (a derived
/// untagged enum would only say that nothing matched).
impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a text: a string, or a table of language = \"text\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::Plain(s.to_owned()))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Text, M::Error> {
                let mut by_lang = BTreeMap::new();
                while let Some((lang, text)) = map.next_entry::<String, String>()? {
                    by_lang.insert(lang, text);
                }
                Ok(Text::Translated(by_lang))
            }
        }
        d.deserialize_any(TextVisitor)
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::Plain(String::new())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Plain(s.to_owned())
    }
}

impl Text {
    /// The text in `lang`; else in `fallback` (the default language); else the first
    /// translation by language code; empty only when the table is (validation refuses that).
    pub fn get(&self, lang: &str, fallback: &str) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Translated(by_lang) => by_lang
                .get(lang)
                .or_else(|| by_lang.get(fallback))
                .or_else(|| by_lang.values().next())
                .map_or("", String::as_str),
        }
    }

    /// The languages this text is written in: every key of a table; `None` for a plain string.
    pub fn languages(&self) -> Option<impl Iterator<Item = &str>> {
        match self {
            Text::Plain(_) => None,
            Text::Translated(by_lang) => Some(by_lang.keys().map(String::as_str)),
        }
    }

    /// Every translation (the one string of a plain text).
    pub fn translations(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            Text::Plain(s) => Box::new(std::iter::once(s.as_str())),
            Text::Translated(by_lang) => Box::new(by_lang.values().map(String::as_str)),
        }
    }

    /// Whether the text is empty in every language.
    pub fn is_empty(&self) -> bool {
        match self {
            Text::Plain(s) => s.is_empty(),
            Text::Translated(by_lang) => by_lang.values().all(String::is_empty),
        }
    }

    /// Checks that every language key is one of `languages`; `what` names the text in the error.
    pub fn check(&self, what: &str, languages: &[String]) -> Result<(), String> {
        let Text::Translated(by_lang) = self else {
            return Ok(());
        };
        if by_lang.is_empty() {
            return Err(format!(
                "{what}: a table of translations needs at least one"
            ));
        }
        match by_lang.keys().find(|k| !languages.contains(k)) {
            Some(unknown) => Err(format!(
                "{what}: unknown language {unknown:?} (the organisation's languages are {})",
                languages.join(", ")
            )),
            None => Ok(()),
        }
    }
}

/// Whether `code` looks like an ISO 639 language code: 2 or 3 lowercase ASCII letters.
pub fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

/// The primary language subtag of a language tag, lowercased: `sv-FI` → `sv`.
fn primary(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Picks the language of a request among `languages`: the `?lang=` value when it is one of
/// them, else the most preferred of them in `Accept-Language` (`q` weights honoured, `q=0`
/// refused), else `None` (the caller falls back to the default language).
pub fn negotiate<'a>(
    languages: &'a [String],
    query: Option<&str>,
    accept_language: Option<&str>,
) -> Option<&'a str> {
    let known = |tag: &str| {
        let p = primary(tag);
        languages.iter().find(|l| **l == p).map(String::as_str)
    };
    if let Some(lang) = query.and_then(known) {
        return Some(lang);
    }
    let mut offered: Vec<(f32, &str)> = accept_language
        .unwrap_or("")
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !tag.is_empty()).then_some((q, tag))
        })
        .collect();
    // Stable: among equal weights the header's order stands.
    offered.sort_by(|a, b| b.0.total_cmp(&a.0));
    offered.into_iter().find_map(|(_, tag)| known(tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn langs() -> Vec<String> {
        ["fi", "sv", "en"].map(String::from).to_vec()
    }

    fn table(pairs: &[(&str, &str)]) -> Text {
        Text::Translated(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_text_falls_back_to_the_default_language_then_to_any() {
        let t = table(&[("fi", "Hei"), ("sv", "Hej")]);
        assert_eq!(t.get("sv", "fi"), "Hej");
        assert_eq!(t.get("en", "fi"), "Hei", "missing: the default language");
        let no_default = table(&[("sv", "Hej"), ("en", "Hello")]);
        assert_eq!(
            no_default.get("fi", "fi"),
            "Hello",
            "then the first by code"
        );
        assert_eq!(Text::from("Hello").get("sv", "fi"), "Hello");
    }

    #[test]
    fn plain_strings_and_tables_both_parse() {
        #[derive(Deserialize)]
        struct T {
            a: Text,
            b: Text,
        }
        let t: T = toml::from_str("a = \"plain\"\nb = { fi = \"suomi\", sv = \"svenska\" }")
            .expect("parses");
        assert_eq!(t.a, Text::from("plain"));
        assert_eq!(t.b.get("sv", "fi"), "svenska");
        let e = toml::from_str::<T>("a = 1\nb = \"x\"")
            .err()
            .map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.contains("a string, or a table")),
            "says what a text is"
        );
        assert!(toml::from_str::<T>("a = { fi = 1 }\nb = \"x\"").is_err());
    }

    #[test]
    fn unknown_and_empty_tables_are_refused() {
        assert!(table(&[("fi", "a"), ("sv", "b")])
            .check("x", &langs())
            .is_ok());
        let err = table(&[("fi", "a"), ("de", "b")])
            .check("service s name", &langs())
            .expect_err("de is not a language of the organisation");
        assert!(
            err.contains("service s name") && err.contains("\"de\""),
            "{err}"
        );
        assert!(table(&[]).check("x", &langs()).is_err());
        assert!(Text::from("anything").check("x", &langs()).is_ok());
    }

    #[test]
    fn the_query_wins_then_accept_language_by_weight() {
        let l = langs();
        assert_eq!(negotiate(&l, Some("sv"), Some("en")), Some("sv"));
        assert_eq!(negotiate(&l, Some("SV-fi"), None), Some("sv"));
        assert_eq!(
            negotiate(&l, Some("de"), Some("en")),
            Some("en"),
            "unknown lang: the header decides"
        );
        assert_eq!(negotiate(&l, Some("de"), None), None);
        assert_eq!(
            negotiate(&l, None, Some("de-DE,de;q=0.9,sv;q=0.5,en;q=0.7")),
            Some("en")
        );
        assert_eq!(negotiate(&l, None, Some("sv-FI, fi")), Some("sv"));
        assert_eq!(negotiate(&l, None, Some("en;q=0, fi;q=0.1")), Some("fi"));
        assert_eq!(negotiate(&l, None, Some("*")), None);
        assert_eq!(negotiate(&l, None, Some(";;,")), None);
        assert_eq!(negotiate(&l, None, None), None);
    }

    #[test]
    fn language_codes_are_two_or_three_lowercase_letters() {
        assert!(is_language_code("fi") && is_language_code("smn"));
        assert!(!is_language_code("FI") && !is_language_code("f") && !is_language_code("fi-FI"));
    }
}

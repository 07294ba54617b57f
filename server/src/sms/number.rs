//! Phone numbers an SMS may go to: checked before anything is sent, so that a landline or a
//! typo is an error in the console and not a failed delivery later. A number is parsed with
//! libphonenumber's metadata (the `phonenumber` crate), Finnish unless it carries a country
//! code, and must be a **mobile** number of one of the organisation's countries. Numbers are
//! personal data: [`mask`] is what a log or an event may show.

use phonenumber::country::Id;
use phonenumber::{Mode, Type};

/// Why a number cannot take an SMS; the text names the problem for the console.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("no phone number")]
    Missing,
    #[error("not a phone number")]
    Malformed,
    #[error("not a valid number in its numbering plan")]
    Invalid,
    #[error("a landline or service number, not a mobile number: an SMS cannot reach it")]
    NotMobile,
    #[error("a mobile number of a country this organisation does not send SMS to")]
    Country,
}

/// The mobile number `text` in E.164 (`+358401234567`), if an SMS can be sent to it: a
/// valid mobile number (libphonenumber's ranges) of one of `countries` (ISO 3166 codes such
/// as `FI`; numbers without a country code are read as Finnish).
pub fn mobile(text: &str, countries: &[String]) -> Result<String, NumberError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NumberError::Missing);
    }
    let plausible = text.len() <= 32
        && text
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0));
    if !plausible {
        return Err(NumberError::Malformed);
    }
    let n = phonenumber::parse(Some(Id::FI), text).map_err(|_| NumberError::Malformed)?;
    if !phonenumber::is_valid(&n) {
        return Err(NumberError::Invalid);
    }
    match n.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => {}
        _ => return Err(NumberError::NotMobile),
    }
    let country = n.country().id().map(|id| format!("{id:?}"));
    let allowed = country
        .as_deref()
        .is_some_and(|c| countries.iter().any(|x| x.eq_ignore_ascii_case(c)));
    if !allowed {
        return Err(NumberError::Country);
    }
    Ok(n.format().mode(Mode::E164).to_string())
}

/// `+358401234567` → `+358 40 *** **67`: enough for a nurse to recognise the number she
/// sent to, not enough to call it. Anything shorter than 6 characters is fully masked.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().collect();
    if digits.len() < 6 {
        return "*".repeat(digits.len());
    }
    let (head, tail) = if let Some(rest) = number.strip_prefix("+358") {
        (format!("+358 {}", rest.get(..2).unwrap_or("")), 2)
    } else {
        (number.chars().take(4).collect::<String>(), 2)
    };
    let shown_tail: String = digits[digits.len() - tail..].iter().collect();
    format!("{head} *** **{shown_tail}")
}

/// `text` with every phone-number-like run of digits (six or more, spaces and dashes
/// between them allowed, a leading `+`) masked: for a provider's error text on its way to a
/// log line.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 6 {
            let kept: String = run.trim_end().chars().rev().take(2).collect();
            out.push_str("***");
            out.extend(kept.chars().rev());
            if run.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        let continues = c.is_ascii_digit()
            || (c == '+' && run.is_empty())
            || ((c == ' ' || c == '-') && run.chars().last().is_some_and(|l| l.is_ascii_digit()));
        if continues {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fi() -> Vec<String> {
        vec!["FI".to_owned()]
    }

    #[test]
    fn finnish_mobile_numbers_in_every_usual_writing_are_one_e164_number() {
        for written in [
            "040 123 4567",
            "0401234567",
            "+358 40 123 4567",
            "+358401234567",
            "040-123 4567",
            "(040) 1234567",
        ] {
            assert_eq!(
                mobile(written, &fi()).as_deref(),
                Ok("+358401234567"),
                "{written}"
            );
        }
        assert_eq!(
            mobile("050 765 4321", &fi()).as_deref(),
            Ok("+358507654321")
        );
        assert_eq!(mobile("045 1234567", &fi()).as_deref(), Ok("+358451234567"));
    }

    #[test]
    fn landlines_and_service_numbers_are_refused_as_not_mobile() {
        // Helsinki landline, Tampere landline, a toll-free and a national service number.
        for landline in ["09 123 4567", "+358 9 1234567", "03 1234567", "0800 123456"] {
            assert_eq!(
                mobile(landline, &fi()),
                Err(NumberError::NotMobile),
                "{landline}"
            );
        }
    }

    #[test]
    fn malformed_and_impossible_numbers_name_the_problem() {
        assert_eq!(mobile("", &fi()), Err(NumberError::Missing));
        assert_eq!(mobile("   ", &fi()), Err(NumberError::Missing));
        assert_eq!(mobile("040 123 abc", &fi()), Err(NumberError::Malformed));
        assert_eq!(mobile("+358+40", &fi()), Err(NumberError::Malformed));
        assert_eq!(mobile("12", &fi()), Err(NumberError::Invalid));
        assert_eq!(mobile("040 12", &fi()), Err(NumberError::Invalid));
        assert_eq!(mobile(&"1".repeat(40), &fi()), Err(NumberError::Malformed));
    }

    #[test]
    fn a_foreign_mobile_number_needs_its_country_allowed() {
        let swedish = "+46 70 123 45 67";
        assert_eq!(mobile(swedish, &fi()), Err(NumberError::Country));
        let nordic = vec!["FI".to_owned(), "SE".to_owned()];
        assert_eq!(mobile(swedish, &nordic).as_deref(), Ok("+46701234567"));
    }

    #[test]
    fn numbers_in_a_providers_words_are_redacted_for_logs() {
        let r = redact("40310 Invalid 'to' address: +358 40 123 4567 is not reachable");
        assert!(!r.contains("123"), "{r}");
        assert!(r.starts_with("40310 Invalid"), "{r}");
        assert!(r.contains("***67"), "{r}");
        assert_eq!(redact("provider error 503"), "provider error 503");
    }

    #[test]
    fn a_masked_number_keeps_the_operator_prefix_and_two_last_digits() {
        assert_eq!(mask("+358401234567"), "+358 40 *** **67");
        assert_eq!(mask("+46701234567"), "+467 *** **67");
        assert_eq!(mask("+358"), "****");
        assert!(!mask("+358401234567").contains("12345"));
    }
}

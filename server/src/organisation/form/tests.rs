use super::*;
use serde_json::json;

fn langs() -> Vec<String> {
    ["fi", "sv", "en"].map(String::from).to_vec()
}

fn form() -> Form {
    toml::from_str(
        r#"
fields = [
  { id = "name", label = { fi = "Nimi", en = "Name" }, kind = "text", required = true },
  { id = "message", label = { fi = "Viesti", en = "Message" }, kind = "textarea", required = true, max_len = 20 },
  { id = "callback", label = { fi = "Soittopyyntö", en = "Call me back" }, kind = "checkbox" },
  { id = "when", label = "Aika", kind = "choice", options = [
      { id = "morning", label = { fi = "Aamupäivä", en = "Morning" } },
      { id = "afternoon", label = { fi = "Iltapäivä", en = "Afternoon" } },
  ] },
  { id = "born", label = "Syntymäaika", kind = "date" },
  { id = "mail", label = "Sähköposti", kind = "email" },
  { id = "tel", label = "Puhelin", kind = "phone" },
]
"#,
    )
    .expect("form")
}

fn answers(v: serde_json::Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).expect("answers")
}

#[test]
fn a_good_submission_is_cleaned() {
    let clean = form()
        .validate(&answers(json!({
            "name": "  Maija Meikäläinen ", "message": "Hei\r\nvaan", "callback": "on",
            "when": "morning", "born": "1980-02-29", "mail": "maija@example.fi",
            "tel": "040 123 4567",
        })))
        .expect("valid");
    assert_eq!(clean["name"], "Maija Meikäläinen");
    assert_eq!(clean["message"], "Hei\nvaan");
    assert_eq!(clean["callback"], true);
    assert_eq!(clean["tel"], "+358401234567");
    assert_eq!(clean["born"], "1980-02-29");
}

#[test]
fn every_bad_answer_is_named_with_its_reason() {
    let problems = form()
        .validate(&answers(json!({
            "name": "two\nlines", "message": "x".repeat(21), "callback": "maybe",
            "when": "evening", "born": "1981-02-29", "mail": "not-an-address",
            "tel": "12", "nickname": "Mikki",
        })))
        .expect_err("invalid");
    assert_eq!(problems["name"], "must be a single line");
    assert_eq!(problems["message"], "longer than 20 characters");
    assert_eq!(problems["callback"], "must be true or false");
    assert_eq!(problems["when"], "not one of the options");
    assert_eq!(problems["born"], "not a date (YYYY-MM-DD)");
    assert_eq!(problems["mail"], "not an e-mail address");
    assert_eq!(problems["tel"], "not a phone number");
    assert_eq!(problems["nickname"], "unknown field");
}

#[test]
fn required_answers_must_be_there_and_not_blank() {
    let problems = form()
        .validate(&answers(json!({"message": "   ", "mail": ""})))
        .expect_err("invalid");
    assert_eq!(problems["name"], "required");
    assert_eq!(problems["message"], "empty");
    // A blank optional answer is no answer.
    assert!(!problems.contains_key("mail"));
    assert_eq!(problems.len(), 2);
    let problems = form()
        .validate(&answers(json!({"name": 5, "message": "ok"})))
        .expect_err("invalid");
    assert_eq!(problems["name"], "must be text");
}

#[test]
fn the_message_reads_label_colon_value_in_the_language() {
    let f = form();
    let clean = f
        .validate(&answers(json!({
            "name": "Maija", "message": "Hei\nvaan", "callback": true, "when": "afternoon",
        })))
        .expect("valid");
    assert_eq!(
        f.render(&clean, "fi", "fi"),
        "Nimi: Maija\nViesti:\nHei\nvaan\nSoittopyyntö: Kyllä\nAika: Iltapäivä"
    );
    assert!(f.render(&clean, "en", "fi").starts_with("Name: Maija\n"));
}

#[test]
fn contact_details_are_checked_and_normalised() {
    assert_eq!(
        contact(Some(" a.b@example.org "), Some("+46 70 123 45 67")),
        Ok((Some("a.b@example.org".into()), Some("+46701234567".into())))
    );
    assert_eq!(contact(Some(""), None), Ok((None, None)));
    let bad = contact(Some("a@b"), Some("abc")).expect_err("bad");
    assert_eq!(bad["contact_email"], "not an e-mail address");
    assert_eq!(bad["contact_phone"], "not a phone number");
}

#[test]
fn the_reference_is_derived_from_the_conversation() {
    assert_eq!(reference("3fa2c91b0d6e4c8a"), "F-3FA2C91B");
    assert_eq!(reference("3fa2c91b0d6e4c8a"), reference("3fa2c91b0d6e4c8a"));
}

#[test]
fn a_bad_form_configuration_is_refused() {
    let mut f = form();
    assert_eq!(f.check("contact-form", &langs()), Ok(()));
    f.fields[1].id = "name".into();
    assert!(f.check("s", &langs()).expect_err("dup").contains("twice"));
    let mut f = form();
    f.fields[3].options.clear();
    assert!(f
        .check("s", &langs())
        .expect_err("opts")
        .contains("needs options"));
    let mut f = form();
    f.fields[0].id = "Bad Id".into();
    assert!(f.check("s", &langs()).is_err());
    f.fields[0].id = "contact_email".into();
    assert!(f.check("s", &langs()).is_err());
    let mut f = form();
    f.fields[0].options = f.fields[3].options.clone();
    assert!(f
        .check("s", &langs())
        .expect_err("opts")
        .contains("only a choice"));
    let mut f = form();
    f.fields[1].max_len = Some(0);
    assert!(f.check("s", &langs()).is_err());
    assert!(Form { fields: vec![] }.check("s", &langs()).is_err());
}

use super::*;

/// The smallest organisation, texts as given, languages as defaulted.
fn parse(extra: &str, team_name: &str) -> Result<Organisation, String> {
    let text = format!(
        "name = \"Org\"\nclosing_message = \"Bye\"\n{extra}\n\
         [[teams]]\nid = \"t\"\nname = {team_name}\nrouting = \"auto\"\n\
         [[services]]\nid = \"s\"\nname = \"S\"\nteams = [\"t\"]\n"
    );
    let org: Organisation = toml::from_str(&text).map_err(|e| e.to_string())?;
    org.validate()?;
    Ok(org)
}

#[test]
fn demo_is_valid_and_has_both_routing_modes() {
    let org = Organisation::demo();
    org.validate().expect("valid");
    assert!(org.teams.iter().any(|t| t.routing == Routing::Auto));
    assert!(org.teams.iter().any(|t| t.routing == Routing::Manual));
    assert!(org.services.iter().any(|s| s.teams.len() > 1));
}

#[test]
fn opening_hours_follow_helsinki_daylight_saving() {
    let org = Organisation::demo();
    assert_eq!(org.time_zone, "Europe/Helsinki");
    let mut s = org.services[0].clone();
    s.opening_hours = vec![OpeningHours {
        days: vec![
            "mon".into(),
            "tue".into(),
            "wed".into(),
            "thu".into(),
            "fri".into(),
        ],
        open: "08:00".into(),
        close: "16:00".into(),
    }];
    // Mon 22 Jun 2026 05:30 UTC is 08:30 summer time (UTC+3): open; a fixed +2 h would say
    // 07:30, closed. 13:30 UTC is 16:30: closed.
    assert!(org.is_open(&s, time::macros::datetime!(2026-06-22 05:30 UTC)));
    assert!(!org.is_open(&s, time::macros::datetime!(2026-06-22 13:30 UTC)));
    // Mon 23 Nov 2026 05:30 UTC is 07:30 winter time (UTC+2): closed; 06:30 UTC open.
    assert!(!org.is_open(&s, time::macros::datetime!(2026-11-23 05:30 UTC)));
    assert!(org.is_open(&s, time::macros::datetime!(2026-11-23 06:30 UTC)));
}

#[test]
fn promises_are_for_asynchronous_services_and_bounded() {
    let mut org = Organisation::demo();
    org.services[0].promise = Some(Promise { working_days: 3 });
    let e = org.validate().expect_err("a live chat with a promise");
    assert!(e.contains("live chat has no reply promise"), "{e}");
    org.services[0].channel = "message".into();
    org.validate().expect("a message service may promise");
    org.services[0].promise = Some(Promise { working_days: 0 });
    assert!(org.validate().is_err());
    org.services[0].promise = Some(Promise { working_days: 3 });
    org.time_zone = "Mars/Olympus_Mons".into();
    let e = org.validate().expect_err("an unknown time zone");
    assert!(e.contains("time_zone"), "{e}");
}

#[test]
fn opening_hours_are_enforced() {
    let mut org = Organisation::demo();
    org.utc_offset_minutes = Some(120);
    let mut s = org.services[0].clone();
    s.opening_hours = vec![OpeningHours {
        days: vec!["mon".into()],
        open: "08:00".into(),
        close: "16:00".into(),
    }];
    // 2026-11-23 is a Monday. 07:00 UTC = 09:00 local: open. 15:00 UTC = 17:00: closed.
    let open = time::macros::datetime!(2026-11-23 07:00 UTC);
    let closed = time::macros::datetime!(2026-11-23 15:00 UTC);
    assert!(org.is_open(&s, open));
    assert!(!org.is_open(&s, closed));
    assert!(!org.is_open(&s, open + time::Duration::days(1)));
}

#[test]
fn plain_strings_still_configure_an_organisation() {
    let org = parse("", "\"Team\"").expect("the old format stays valid");
    assert_eq!(
        (org.default_language.as_str(), org.languages.len()),
        ("fi", 3)
    );
    assert_eq!(org.text(&org.teams[0].name, Some("sv")), "Team");
    assert_eq!(org.closing_message(Some("en")), "Bye");
}

#[test]
fn translated_texts_fall_back_to_the_default_language() {
    let org = parse(
        "default_language = \"sv\"",
        "{ sv = \"Teamet\", en = \"The team\" }",
    )
    .expect("valid");
    let name = &org.teams[0].name;
    assert_eq!(org.text(name, Some("en")), "The team");
    assert_eq!(
        org.text(name, Some("fi")),
        "Teamet",
        "no Finnish: the default"
    );
    assert_eq!(org.text(name, Some("en-GB")), "The team");
    assert_eq!(org.text(name, Some("xx")), "Teamet", "unknown: the default");
    assert_eq!(org.text(name, None), "Teamet");
}

#[test]
fn bad_languages_are_refused_at_start_up() {
    let unknown = parse("", "{ fi = \"Tiimi\", de = \"Team\" }").expect_err("de");
    assert!(
        unknown.contains("team t name") && unknown.contains("\"de\""),
        "{unknown}"
    );
    assert!(parse("", "{}").is_err(), "an empty table");
    assert!(parse("default_language = \"de\"", "\"T\"").is_err());
    assert!(parse("languages = [\"fi\", \"FI\"]", "\"T\"").is_err());
    assert!(parse("languages = [\"fi\", \"fi\"]", "\"T\"").is_err());
    assert!(parse("languages = []", "\"T\"").is_err());
    let more = parse(
        "languages = [\"fi\", \"sv\", \"en\", \"se\"]",
        "{ se = \"Joavku\" }",
    );
    assert!(more.is_ok(), "Northern Sami, once configured: {more:?}");
}

#[test]
fn team_canned_responses_are_validated() {
    let with = |canned: &str| {
        let org = toml::from_str::<Organisation>(&format!(
            "name = \"O\"\nclosing_message = \"B\"\n[[teams]]\nid = \"t\"\nname = \"T\"\n\
             routing = \"auto\"\n{canned}\n[[services]]\nid = \"s\"\nname = \"S\"\nteams = [\"t\"]\n"
        ))
        .map_err(|e| e.to_string())?;
        org.validate()
    };
    let ok = "[[teams.canned]]\ncode = \"hi\"\nbody = { fi = \"Hei\" }\n";
    assert_eq!(with(ok), Ok(()));
    assert!(with("[[teams.canned]]\ncode = \"Hi!\"\nbody = \"x\"\n").is_err());
    assert!(with("[[teams.canned]]\ncode = \"hi\"\nbody = \"\"\n").is_err());
    assert!(with("[[teams.canned]]\ncode = \"hi\"\nbody = { de = \"Hallo\" }\n").is_err());
    assert!(with(&format!("{ok}{ok}")).is_err(), "a code twice");
}

/// Every text of the demo organisation exists in Finnish, Swedish and English.
#[test]
fn the_demo_is_translated_into_finnish_swedish_and_english() {
    let org = Organisation::demo();
    let mut texts = vec![("name", &org.name), ("closing", &org.closing_message)];
    for t in &org.teams {
        texts.push(("team", &t.name));
        for c in &t.canned {
            texts.extend([("canned title", &c.title), ("canned body", &c.body)]);
        }
    }
    for s in &org.services {
        texts.extend([("service", &s.name), ("closed", &s.closed_message)]);
        texts.extend(s.topics.iter().map(|t| ("topic", &t.name)));
        for q in &s.questionnaire {
            texts.push(("question", &q.label));
            texts.extend(q.options.iter().map(|o| ("option", o)));
        }
        for f in s.form.iter().flat_map(|f| &f.fields) {
            texts.push(("form field", &f.label));
            texts.extend(f.options.iter().map(|o| ("form option", &o.label)));
        }
    }
    for (what, text) in texts {
        let langs: Vec<&str> = text.languages().map(Iterator::collect).unwrap_or_default();
        assert_eq!(langs, ["en", "fi", "sv"], "{what}: {text:?}");
    }
    assert!(org.closing_message(Some("sv")).starts_with("Tack"));
    assert!(org.closing_message(None).starts_with("Kiitos"));
    for t in &org.teams {
        assert!((3..=5).contains(&t.canned.len()), "team {}", t.id);
    }
}

/// The example of docs/configuration.md is a valid configuration, read as it says.
#[test]
fn the_documented_example_configures_a_translated_organisation() {
    let doc = include_str!("../../../docs/configuration.md");
    let example = doc
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains("[organisation]"))
        .expect("a toml example of an organisation");
    let text = format!("[auth]\njwt_secret = \"{}\"\n{example}", "s".repeat(32));
    let config = crate::Config::from_toml(&text).expect("the example is valid");
    let org = &config.organisation;
    assert!(org
        .professional(&"lead-1".into())
        .is_some_and(|p| p.is_supervisor()));
    let service = &org.services[0];
    assert_eq!(org.text(&service.name, Some("sv")), "Hälsostationens chatt");
    assert_eq!(
        org.text(&service.closed_message, Some("sv")),
        "Call 09 123 4567 on weekdays 8-16."
    );
    assert_eq!(
        org.text(&service.questionnaire[0].options[1], Some("fi")),
        "1–3 päivää"
    );
    let canned = crate::canned::team_responses(org, &[org.teams[0].id.clone()]);
    assert_eq!(canned.len(), 3, "one greeting per language");
    let form = org.services[1]
        .form
        .as_ref()
        .expect("the example's contact form");
    assert_eq!(form.fields[3].kind, crate::organisation::FieldKind::Choice);
    assert_eq!(org.text(&form.fields[1].label, Some("sv")), "Ditt ärende");
}

#[test]
fn the_demo_has_a_supervisor_and_an_unknown_role_is_refused() {
    let org = Organisation::demo();
    let lead = org.professional(&"lead-1".into()).expect("demo lead");
    assert!(lead.is_supervisor());
    assert_eq!(lead.role_names(), ["supervisor"]);
    assert!(!org
        .professional(&"nurse-1".into())
        .expect("nurse")
        .is_supervisor());

    let parse_roles = |roles: &str| {
        toml::from_str::<Organisation>(&format!(
            "name = \"Org\"\nclosing_message = \"Bye\"\nteams = []\nservices = []\n\
             [[professionals]]\nid = \"p\"\nname = \"P\"\nteams = [\"t\"]\nroles = {roles}\n"
        ))
    };
    let org = parse_roles("[\"supervisor\"]").expect("a supervisor parses");
    assert!(org.professionals[0].is_supervisor());
    let e = parse_roles("[\"boss\"]")
        .expect_err("an unknown role is refused")
        .to_string();
    assert!(e.contains("boss"), "{e}");
}

/// A form service needs its form and a promise; only a form service has a form.
#[test]
fn a_form_service_is_checked_at_load() {
    let demo = Organisation::demo();
    assert_eq!(demo.validate(), Ok(()));
    let form_at = demo
        .services
        .iter()
        .position(|s| s.channel == "form")
        .expect("the demo has a form service");
    let mut org = Organisation::demo();
    org.services[form_at].form = None;
    assert!(org
        .validate()
        .expect_err("no form")
        .contains("needs a form"));
    let mut org = Organisation::demo();
    org.services[form_at].promise = None;
    assert!(org
        .validate()
        .expect_err("no promise")
        .contains("needs a promise"));
    let mut org = Organisation::demo();
    org.services[0].form = demo.services[form_at].form.clone();
    assert!(org
        .validate()
        .expect_err("chat")
        .contains("only a form service"));
    let mut org = Organisation::demo();
    if let Some(f) = org.services[form_at].form.as_mut() {
        f.fields[1].id = f.fields[0].id.clone();
    }
    assert!(org.validate().expect_err("dup").contains("twice"));
}

/// The demo's red flag: chest pain with difficulty breathing, both; a flag naming an unknown
/// question or an answer of the wrong kind stops the configuration.
#[test]
fn red_flags_match_every_answer_they_name_and_are_checked_at_load() {
    let demo = Organisation::demo();
    let chat = demo.service(&"health-chat".into()).expect("health-chat");
    let answers = |v: serde_json::Value| -> console_protocol::Answers {
        serde_json::from_value(v).expect("answers")
    };
    let both = answers(serde_json::json!({"chest_pain": true, "breathing": true}));
    let one = answers(serde_json::json!({"chest_pain": true, "breathing": false}));
    let text = answers(serde_json::json!({"chest_pain": "yes", "breathing": "yes"}));
    assert!(chat.red_flag(Some(&both)).is_some());
    assert!(chat.red_flag(Some(&one)).is_none());
    assert!(
        chat.red_flag(Some(&text)).is_none(),
        "only a yes/no answer counts"
    );
    assert!(chat.red_flag(None).is_none());

    let mut org = Organisation::demo();
    let s = org
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "health-chat")
        .expect("health-chat");
    s.red_flags[0]
        .when
        .insert("pulse".into(), serde_json::json!(true));
    assert!(org
        .validate()
        .expect_err("unknown question")
        .contains("pulse"));
    let mut org = Organisation::demo();
    let s = org
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "health-chat")
        .expect("health-chat");
    s.red_flags[0]
        .when
        .insert("duration".into(), serde_json::json!(9));
    assert!(org
        .validate()
        .expect_err("no option 9")
        .contains("duration"));
}

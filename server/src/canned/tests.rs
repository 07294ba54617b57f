use super::*;

fn save(code: &str, title: &str, lang: &str, body: &str) -> CannedSave {
    CannedSave {
        id: None,
        code: code.into(),
        title: title.into(),
        lang: lang.into(),
        body: body.into(),
    }
}

#[test]
fn personal_responses_are_checked_field_by_field() {
    let org = Organisation::demo();
    assert!(check_personal(&org, &save("lab_ok-2", "", "sv", "Hej {client_name}")).is_ok());
    let problems = [
        (save("", "t", "fi", "b"), "code"),
        (save(&"a".repeat(33), "t", "fi", "b"), "code"),
        (save("Hello", "t", "fi", "b"), "code"),
        (save("hei!", "t", "fi", "b"), "code"),
        (save("ok", &"é".repeat(101), "fi", "b"), "title"),
        (save("ok", "t", "fi", "  "), "body"),
        (save("ok", "t", "fi", &"ä".repeat(2001)), "body"),
        (save("ok", "t", "de", "b"), "lang"),
        (save("ok", "two\nlines", "fi", "b"), "title"),
        (save("ok", "t", "fi", "bell \u{7}"), "body"),
    ];
    for (s, field) in problems {
        let err = check_personal(&org, &s).expect_err(field);
        assert!(err.starts_with(field), "{field}: {err}");
    }
    assert!(check_personal(&org, &save("ok", &"é".repeat(100), "fi", &"ä".repeat(2000))).is_ok());
    assert!(check_personal(&org, &save("ok", "t", "fi", "line 1\r\nline 2\tend")).is_ok());
}

fn stored(id: &str, body: String) -> PersonalCanned {
    PersonalCanned {
        id: id.into(),
        professional: "nurse-1".into(),
        code: id.into(),
        title: String::new(),
        lang: "fi".into(),
        body,
        updated_at_ms: 0,
    }
}

#[test]
fn a_professionals_responses_are_bounded_in_number_and_bytes() {
    let full: Vec<_> = (0..MAX_PERSONAL)
        .map(|i| stored(&format!("p-{i}"), "b".into()))
        .collect();
    let new = save("new", "", "fi", "b");
    assert!(check_room(&full, &new).is_err_and(|e| e.contains("at most 200")));
    let edit = CannedSave {
        id: Some("p-3".into()),
        ..new.clone()
    };
    assert!(check_room(&full, &edit).is_ok(), "an edit adds nothing");

    // 4-byte characters: 33 long responses come to 264,000 bytes.
    let big = "😀".repeat(MAX_BODY_CHARS);
    let heavy: Vec<_> = (0..32)
        .map(|i| stored(&format!("p-{i}"), big.clone()))
        .collect();
    let one_more = save("more", "", "fi", &big);
    assert!(check_room(&heavy, &one_more).is_err_and(|e| e.starts_with("body")));
    let replace = CannedSave {
        id: Some("p-0".into()),
        ..one_more.clone()
    };
    assert!(
        check_room(&heavy, &replace).is_ok(),
        "the edited one is not counted twice"
    );
    assert!(check_room(&heavy[..31], &one_more).is_ok());
}

#[test]
fn team_responses_come_once_per_language_for_the_teams_asked() {
    let org = Organisation::demo();
    let a = team_responses(&org, &["station-a".into()]);
    assert!(!a.is_empty());
    assert!(a.iter().all(|r| r.team == Some("station-a".into())));
    for lang in ["fi", "sv", "en"] {
        let hello = a
            .iter()
            .find(|r| r.lang == lang && r.code == "hello")
            .unwrap_or_else(|| panic!("hello in {lang}"));
        assert!(hello.body.contains("{client_name}"), "{}", hello.body);
    }
    let ids: std::collections::BTreeSet<_> = a.iter().map(|r| &r.id).collect();
    assert_eq!(ids.len(), a.len(), "ids are unique");
    assert!(team_responses(&org, &[]).is_empty());
}

#[test]
fn a_plain_body_is_listed_once_in_the_default_language() {
    let mut org = Organisation::demo();
    org.teams[0].canned = vec![crate::organisation::CannedText {
        code: "x".into(),
        title: "X".into(),
        body: "Plain".into(),
    }];
    let list = team_responses(&org, &[org.teams[0].id.clone()]);
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].lang.as_str(), list[0].body.as_str()),
        ("fi", "Plain")
    );
}

use super::*;
use jiff::civil::date;

fn helsinki() -> Calendar {
    Calendar::new("Europe/Helsinki", &[], "16:00").expect("calendar")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("RFC 3339")
}

#[test]
fn easter_matches_the_published_dates() {
    for (year, month, day) in [
        (1818, 3, 22), // the earliest possible
        (1943, 4, 25), // the latest possible
        (2000, 4, 23),
        (2019, 4, 21),
        (2024, 3, 31),
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2030, 4, 21),
        (2038, 4, 25),
        (2285, 3, 22),
    ] {
        assert_eq!(easter(year), date(year, month, day), "{year}");
    }
}

#[test]
fn the_moving_holidays_of_three_years() {
    let named = |d| holiday(d).unwrap_or("-");
    // 2026: Easter 5 April.
    assert_eq!(named(date(2026, 4, 3)), "Good Friday");
    assert_eq!(named(date(2026, 4, 6)), "Easter Monday");
    assert_eq!(named(date(2026, 5, 14)), "Ascension Day");
    assert_eq!(named(date(2026, 5, 24)), "Whitsun");
    assert_eq!(named(date(2026, 6, 19)), "Midsummer Eve");
    assert_eq!(named(date(2026, 6, 20)), "Midsummer Day");
    assert_eq!(named(date(2026, 10, 31)), "All Saints' Day");
    // 2027: Easter 28 March; Midsummer Eve 25 June (the latest); All Saints' 6 November.
    assert_eq!(named(date(2027, 3, 26)), "Good Friday");
    assert_eq!(named(date(2027, 5, 6)), "Ascension Day");
    assert_eq!(named(date(2027, 6, 25)), "Midsummer Eve");
    assert_eq!(named(date(2027, 6, 26)), "Midsummer Day");
    assert_eq!(named(date(2027, 11, 6)), "All Saints' Day");
    // 2025: Easter 20 April; Midsummer Eve 20 June; All Saints' 1 November.
    assert_eq!(named(date(2025, 4, 18)), "Good Friday");
    assert_eq!(named(date(2025, 5, 29)), "Ascension Day");
    assert_eq!(named(date(2025, 6, 20)), "Midsummer Eve");
    assert_eq!(named(date(2025, 11, 1)), "All Saints' Day");
    // Fixed ones, and ordinary days around the moving ones.
    for (m, d, name) in [
        (1, 1, "New Year's Day"),
        (1, 6, "Epiphany"),
        (5, 1, "May Day"),
        (12, 6, "Independence Day"),
        (12, 24, "Christmas Eve"),
        (12, 25, "Christmas Day"),
        (12, 26, "Boxing Day"),
    ] {
        assert_eq!(named(date(2031, m, d)), name);
    }
    for d in [
        date(2026, 4, 2),
        date(2026, 4, 7),
        date(2026, 6, 18),
        date(2026, 6, 26),
        date(2027, 10, 30),
        date(2026, 11, 7),
    ] {
        assert_eq!(holiday(d), None, "{d}");
    }
}

#[test]
fn the_issue_example_over_easter() {
    // Thu 2 Apr 2026 (Good Friday, Easter and Easter Monday follow): due Thu 9 Apr, 16:00
    // Helsinki summer time (UTC+3).
    let due = helsinki().due(ts("2026-04-02T10:00:00+03:00"), 3);
    assert_eq!(due, ts("2026-04-09T16:00:00+03:00"));
}

#[test]
fn the_day_of_contact_never_counts_and_weekends_are_skipped() {
    let cal = helsinki();
    // Monday 07:00: Tue, Wed, Thu → Thu 16:00.
    assert_eq!(
        cal.due(ts("2026-11-23T07:00:00+02:00"), 3),
        ts("2026-11-26T16:00:00+02:00")
    );
    // Friday evening: Mon, Tue, Wed.
    assert_eq!(
        cal.due(ts("2026-11-27T20:00:00+02:00"), 3),
        ts("2026-12-02T16:00:00+02:00")
    );
    // Saturday: Mon is the first.
    assert_eq!(
        cal.due(ts("2026-11-28T12:00:00+02:00"), 1),
        ts("2026-11-30T16:00:00+02:00")
    );
}

#[test]
fn the_contact_day_is_taken_in_helsinki_not_utc() {
    // 23:30 UTC on Sunday 29 Nov is 01:30 Monday in Helsinki: Monday is the day of contact.
    let due = helsinki().due(ts("2026-11-29T23:30:00Z"), 1);
    assert_eq!(due, ts("2026-12-01T16:00:00+02:00"));
}

#[test]
fn christmas_new_year_and_independence_day() {
    let cal = helsinki();
    // Wed 23 Dec 2026: 24, 25, 26 holidays, 27 Sunday → Mon 28, Tue 29, Wed 30.
    assert_eq!(
        cal.due(ts("2026-12-23T09:00:00+02:00"), 3),
        ts("2026-12-30T16:00:00+02:00")
    );
    // Thu 31 Dec 2026: 1 Jan holiday, weekend, Mon 4, Tue 5, (Wed 6 Epiphany), Thu 7.
    assert_eq!(
        cal.due(ts("2026-12-31T09:00:00+02:00"), 3),
        ts("2027-01-07T16:00:00+02:00")
    );
    // Fri 4 Dec 2026: Mon 7 (Sun 6 is Independence Day anyway), Tue 8.
    assert_eq!(
        cal.due(ts("2026-12-04T09:00:00+02:00"), 2),
        ts("2026-12-08T16:00:00+02:00")
    );
}

#[test]
fn midsummer_and_saturday_holidays() {
    let cal = helsinki();
    // Thu 18 Jun 2026: Fri 19 Midsummer Eve, Sat 20 Midsummer Day, Sun → Mon 22.
    assert_eq!(
        cal.due(ts("2026-06-18T12:00:00+03:00"), 1),
        ts("2026-06-22T16:00:00+03:00")
    );
}

#[test]
fn daylight_saving_at_both_changes() {
    let cal = helsinki();
    // Clocks go forward on Sun 29 Mar 2026: a contact on Fri 27 Mar (UTC+2) is due Mon 30
    // Mar at 16:00 summer time, UTC+3.
    assert_eq!(
        cal.due(ts("2026-03-27T12:00:00+02:00"), 1),
        ts("2026-03-30T13:00:00Z")
    );
    // Clocks go back on Sun 25 Oct 2026: a contact on Fri 23 Oct (UTC+3) is due Mon 26 Oct at
    // 16:00 winter time, UTC+2.
    assert_eq!(
        cal.due(ts("2026-10-23T12:00:00+03:00"), 1),
        ts("2026-10-26T14:00:00Z")
    );
    // Local time of day follows the change too.
    assert_eq!(cal.local(ts("2026-03-28T06:00:00Z")).2, 8 * 60);
    assert_eq!(cal.local(ts("2026-03-30T06:00:00Z")).2, 9 * 60);
}

#[test]
fn closure_days_and_office_hours_of_the_organisation() {
    let cal = Calendar::new("Europe/Helsinki", &["2026-12-28".into()], "15:30").expect("ok");
    // Wed 23 Dec: 28 Dec closed → Tue 29, Wed 30, Thu 31 at 15:30.
    assert_eq!(
        cal.due(ts("2026-12-23T09:00:00+02:00"), 3),
        ts("2026-12-31T15:30:00+02:00")
    );
    assert!(!cal.is_working_day(date(2026, 12, 28)));
    assert!(cal.is_working_day(date(2026, 12, 29)));
}

#[test]
fn a_bad_calendar_is_refused_with_its_reason() {
    let e = Calendar::new("Europe/Helsingfors-nope", &[], "16:00").expect_err("refused");
    assert!(e.contains("time_zone"), "{e}");
    let e = Calendar::new("Europe/Helsinki", &["31.12.2026".into()], "16:00").expect_err("refused");
    assert!(e.contains("31.12.2026"), "{e}");
    let e = Calendar::new("Europe/Helsinki", &[], "4 pm").expect_err("refused");
    assert!(e.contains("office_day_end"), "{e}");
}

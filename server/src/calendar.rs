//! The organisation's calendar: its time zone (daylight saving included, from the IANA time
//! zone database through `jiff`), Finnish public holidays, its own closure days, and the reply
//! deadline of a service promise ("we reply within 3 working days").
//!
//! A deadline counts whole working days after the day of contact, taken in the organisation's
//! time zone: the day of contact is not counted; Saturdays, Sundays, the holidays below and the
//! closure days are not working days; the deadline is the end of the office day (16:00 local
//! unless configured) of the last counted day.
//!
//! Holidays (Act on the Finnish public holidays and the days offices close on): New Year's
//! Day, Epiphany, Good Friday, Easter Sunday and Monday, May Day, Ascension Day, Whitsun,
//! Midsummer Eve and Day, All Saints' Day, Independence Day, Christmas Eve, Christmas Day and
//! Boxing Day. The moving ones are computed from Easter (the Gregorian computus below: 20 lines
//! of integer arithmetic, checked against published Easter dates in the tests, rather than a
//! crate for one function) and from the weekday rules of Midsummer and All Saints' Day.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::collections::BTreeSet;

/// The calendar of one organisation.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    closures: BTreeSet<Date>,
    office_day_end: Time,
}

/// Longest promise accepted: two months of working days.
pub const MAX_WORKING_DAYS: u32 = 60;

impl Calendar {
    /// The calendar of time zone `tz_name` (IANA, e.g. `Europe/Helsinki`), closure days
    /// `YYYY-MM-DD` and the office day's end `HH:MM`; an error names what is wrong.
    pub fn new(tz_name: &str, closures: &[String], office_day_end: &str) -> Result<Self, String> {
        let tz = TimeZone::get(tz_name).map_err(|e| format!("time_zone {tz_name:?}: {e}"))?;
        let closures = closures
            .iter()
            .map(|d| {
                d.parse::<Date>()
                    .map_err(|e| format!("closure day {d:?} is not YYYY-MM-DD: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let office_day_end = parse_hm(office_day_end)
            .ok_or_else(|| format!("office_day_end {office_day_end:?} is not HH:MM"))?;
        Ok(Calendar {
            tz,
            closures,
            office_day_end,
        })
    }

    /// UTC with no closure days, office day to 16:00: the fallback of an organisation whose
    /// calendar failed validation (never one that runs).
    pub fn utc() -> Self {
        Calendar {
            tz: TimeZone::UTC,
            closures: BTreeSet::new(),
            office_day_end: Time::constant(16, 0, 0, 0),
        }
    }

    /// `at` as RFC 3339 in local time with its offset, e.g. `2026-04-09T16:00:00+03:00`.
    pub fn rfc3339(&self, at: Timestamp) -> String {
        at.to_zoned(self.tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// The time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date, weekday and minute of the day of `at`.
    pub fn local(&self, at: Timestamp) -> (Date, Weekday, u32) {
        let z = at.to_zoned(self.tz.clone());
        let minute =
            u32::try_from(z.hour()).unwrap_or(0) * 60 + u32::try_from(z.minute()).unwrap_or(0);
        (z.date(), z.weekday(), minute)
    }

    /// Whether offices work on `date`.
    pub fn is_working_day(&self, date: Date) -> bool {
        !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
            && holiday(date).is_none()
            && !self.closures.contains(&date)
    }

    /// The reply deadline of a contact at `at` under a promise of `working_days`.
    pub fn due(&self, at: Timestamp, working_days: u32) -> Timestamp {
        let (mut day, _, _) = self.local(at);
        let mut left = working_days.max(1);
        while left > 0 {
            day = match day.checked_add(1.day()) {
                Ok(d) => d,
                Err(_) => break,
            };
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        // An office day's end that falls into a daylight-saving gap or overlap takes the
        // earlier reading of the wall clock (never the case at 16:00 in Finland).
        day.to_datetime(self.office_day_end)
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(at)
    }
}

/// `HH:MM`, 00:00–23:59.
fn parse_hm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous Gregorian algorithm, also
/// known as Meeus/Jones/Butcher).
pub fn easter(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and day 1..=31 for every year: the conversions cannot fail.
    Date::new(year, month as i8, day as i8).unwrap_or_default()
}

/// The Finnish holiday (or day offices close) on `date`, by name.
pub fn holiday(date: Date) -> Option<&'static str> {
    let (m, d) = (date.month(), date.day());
    let fixed = match (m, d) {
        (1, 1) => Some("New Year's Day"),
        (1, 6) => Some("Epiphany"),
        (5, 1) => Some("May Day"),
        (12, 6) => Some("Independence Day"),
        (12, 24) => Some("Christmas Eve"),
        (12, 25) => Some("Christmas Day"),
        (12, 26) => Some("Boxing Day"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let weekday = date.weekday();
    // Midsummer Eve: the Friday between 19 and 25 June; Midsummer Day the Saturday after.
    if m == 6 && (19..=25).contains(&d) && weekday == Weekday::Friday {
        return Some("Midsummer Eve");
    }
    if m == 6 && (20..=26).contains(&d) && weekday == Weekday::Saturday {
        return Some("Midsummer Day");
    }
    // All Saints' Day: the Saturday between 31 October and 6 November.
    if ((m == 10 && d == 31) || (m == 11 && d <= 6)) && weekday == Weekday::Saturday {
        return Some("All Saints' Day");
    }
    let easter = easter(date.year());
    let from_easter = (date - easter).get_days();
    match from_easter {
        -2 => Some("Good Friday"),
        0 => Some("Easter Sunday"),
        1 => Some("Easter Monday"),
        39 => Some("Ascension Day"),
        49 => Some("Whitsun"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

//! Finnish personal identity codes (henkilötunnus, "hetu"): parsing and validation.
//!
//! A code has the form `DDMMYYCNNNQ`:
//! - `DDMMYY` is the birth date, which must be a real calendar date (leap years included);
//! - `C` is the century sign: `+` for the 1800s, `-`, `Y`, `X`, `W`, `V` or `U` for the 1900s
//!   and `A`, `B`, `C`, `D`, `E` or `F` for the 2000s (the signs other than `+`, `-` and `A`
//!   came with the 2023 reform);
//! - `NNN` is the individual number, 002-899 for ordinary codes and 900-999 for temporary
//!   codes (which are accepted but reported with [`Hetu::is_temporary`]);
//! - `Q` is the check character: the nine digits `DDMMYYNNN` read as one integer, modulo 31,
//!   used as an index into `0123456789ABCDEFHJKLMNPRSTUVWXY`.
//!
//! The check character does not cover the century sign, so a code whose century sign alone
//! was changed still parses (as a different code, or with a different birth year).
//!
//! A code is personal data: [`Hetu`]'s `Debug` prints only the masked form, and
//! [`HetuError`] never repeats the input it rejected.

use std::fmt;
use std::str::FromStr;

/// The check characters, indexed by `DDMMYYNNN mod 31`.
const CHECK_CHARS: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// A valid personal identity code.
///
/// It can only be made by [`parse`], so it always holds a valid, normalized code. Its `Debug`
/// output is the masked form (see [`Hetu::masked`]); use [`Hetu::as_str`] where the full code
/// is really needed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hetu {
    birth_date: (i32, u8, u8),
    temporary: bool,
    code: String,
}

impl Hetu {
    /// The birth date as `(year, month, day)`, the year with its century.
    pub fn birth_date(&self) -> (i32, u8, u8) {
        self.birth_date
    }

    /// Whether the individual number is 900-999, i.e. a temporary or test code.
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// The whole code, normalized: trimmed and in upper case.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The code with the birth date and century sign visible and the rest starred, e.g.
    /// `010190-****`.
    pub fn masked(&self) -> String {
        let visible: String = self.code.chars().take(7).collect();
        format!("{visible}****")
    }
}

impl fmt::Debug for Hetu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hetu")
            .field("code", &self.masked())
            .field("temporary", &self.temporary)
            .finish()
    }
}

impl FromStr for Hetu {
    type Err = HetuError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Why a code was rejected. The message names the part that is wrong, never the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HetuError {
    /// The code is not 11 characters long (after trimming).
    #[error("a personal identity code must be 11 characters long")]
    Length,
    /// The seventh character is not a known century sign.
    #[error(
        "the century sign of the personal identity code is not one of + - Y X W V U A B C D E F"
    )]
    CenturySign,
    /// The first six characters are not digits or not a real calendar date.
    #[error("the birth date of the personal identity code is not a valid date")]
    Date,
    /// The individual number is not three digits from 002 to 999.
    #[error("the individual number of the personal identity code must be from 002 to 999")]
    IndividualNumber,
    /// The last character does not match the one computed from the digits.
    #[error("the check character of the personal identity code does not match")]
    CheckCharacter,
}

/// Parses and validates a personal identity code.
///
/// Surrounding whitespace is ignored and lower-case letters are accepted; the returned code
/// is in upper case.
pub fn parse(code: &str) -> Result<Hetu, HetuError> {
    let chars: Vec<char> = code
        .trim()
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 11 {
        return Err(HetuError::Length);
    }
    let day = digits(&chars[0..2]).ok_or(HetuError::Date)?;
    let month = digits(&chars[2..4]).ok_or(HetuError::Date)?;
    let yy = digits(&chars[4..6]).ok_or(HetuError::Date)?;
    let century = century(chars[6]).ok_or(HetuError::CenturySign)?;
    // Two digits each, so these fit in a u8 and an i32.
    let (day, month) = (day as u8, month as u8);
    let year = century + yy as i32;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(HetuError::Date);
    }
    let individual = digits(&chars[7..10]).ok_or(HetuError::IndividualNumber)?;
    if individual < 2 {
        return Err(HetuError::IndividualNumber);
    }
    let number = u32::from(day) * 10_000_000 + u32::from(month) * 100_000 + yy * 1000 + individual;
    if chars[10] != check_char(number) {
        return Err(HetuError::CheckCharacter);
    }
    Ok(Hetu {
        birth_date: (year, month, day),
        temporary: individual >= 900,
        code: chars.into_iter().collect(),
    })
}

/// The check character for the nine digits `DDMMYYNNN` read as one integer.
fn check_char(number: u32) -> char {
    char::from(CHECK_CHARS[(number % 31) as usize])
}

/// The decimal value of a run of ASCII digits, or `None` if any character is not one.
fn digits(chars: &[char]) -> Option<u32> {
    chars
        .iter()
        .try_fold(0u32, |acc, c| c.to_digit(10).map(|d| acc * 10 + d))
}

/// The first year of the century a century sign stands for.
fn century(sign: char) -> Option<i32> {
    match sign {
        '+' => Some(1800),
        '-' | 'Y' | 'X' | 'W' | 'V' | 'U' => Some(1900),
        'A' | 'B' | 'C' | 'D' | 'E' | 'F' => Some(2000),
        _ => None,
    }
}

/// Days in a month of the Gregorian calendar (`month` is 1-12).
fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_codes() {
        let h = parse("131052-308T").unwrap();
        assert_eq!(h.birth_date(), (1952, 10, 13));
        assert!(!h.is_temporary());
        assert_eq!(h.as_str(), "131052-308T");
        let h = parse("010594Y9021").unwrap();
        assert_eq!(h.birth_date(), (1994, 5, 1));
        assert!(h.is_temporary());
        let h = parse("020502E902X").unwrap();
        assert_eq!(h.birth_date(), (2002, 5, 2));
        assert!(h.is_temporary());
        // 311299-999U is wrong: 311299999 mod 31 = 14, i.e. `E`.
        assert_eq!(parse("311299-999U"), Err(HetuError::CheckCharacter));
        assert_eq!(parse("311299-999E").unwrap().birth_date(), (1999, 12, 31));
        assert_eq!(parse("010101+002S").unwrap().birth_date(), (1801, 1, 1));
    }

    #[test]
    fn trims_and_normalizes_case() {
        let h = parse("  020502e902x\n").unwrap();
        assert_eq!(h.as_str(), "020502E902X");
        assert_eq!(h.masked(), "020502E****");
        assert_eq!(
            "131052-308t".parse::<Hetu>().unwrap().as_str(),
            "131052-308T"
        );
    }

    #[test]
    fn each_error_kind() {
        assert_eq!(parse(""), Err(HetuError::Length));
        assert_eq!(parse("131052-308"), Err(HetuError::Length));
        assert_eq!(parse("131052-308TT"), Err(HetuError::Length));
        assert_eq!(parse("131052G308T"), Err(HetuError::CenturySign));
        assert_eq!(parse("131052*308T"), Err(HetuError::CenturySign));
        assert_eq!(parse("1310x2-308T"), Err(HetuError::Date));
        assert_eq!(parse("131352-308T"), Err(HetuError::Date));
        assert_eq!(parse("001052-308T"), Err(HetuError::Date));
        assert_eq!(parse("310452-308T"), Err(HetuError::Date));
        assert_eq!(parse("01019ä-123A"), Err(HetuError::Date));
        assert_eq!(parse("131052-001T"), Err(HetuError::IndividualNumber));
        assert_eq!(parse("131052-000T"), Err(HetuError::IndividualNumber));
        assert_eq!(parse("131052-3O8T"), Err(HetuError::IndividualNumber));
        assert_eq!(parse("131052-308U"), Err(HetuError::CheckCharacter));
        assert_eq!(parse("131052-308G"), Err(HetuError::CheckCharacter));
    }

    #[test]
    fn february_29th() {
        assert_eq!(parse("290200A1239").unwrap().birth_date(), (2000, 2, 29));
        assert_eq!(parse("290296-1232").unwrap().birth_date(), (1996, 2, 29));
        assert_eq!(parse("290200-1239"), Err(HetuError::Date)); // 1900
        assert_eq!(parse("290200+1239"), Err(HetuError::Date)); // 1800
        assert_eq!(parse("290297-123A"), Err(HetuError::Date));
        assert_eq!(parse("300296-1238"), Err(HetuError::Date));
    }

    #[test]
    fn debug_and_display_never_show_the_code() {
        let h = parse("131052-308T").unwrap();
        let debug = format!("{h:?} {h:#?}");
        assert!(debug.contains("131052-****"));
        assert!(!debug.contains("308"));
        assert_eq!(h.masked(), "131052-****");
        for bad in [
            "131052-308U",
            "131052G308T",
            "131352-308T",
            "131052-001T",
            "13105",
        ] {
            let err = parse(bad).unwrap_err();
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains(bad), "{shown}");
                assert!(!shown.contains("1310"), "{shown}");
            }
        }
    }

    /// A deterministic linear congruential generator (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u32) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % u64::from(n)) as u32
        }
    }

    /// A valid code made from a seed, with its birth date and individual number.
    fn generate(seed: u64) -> (String, (i32, u8, u8), u32) {
        const SIGNS: [&str; 3] = ["+", "-YXWVU", "ABCDEF"];
        let mut rng = Lcg(seed);
        let c = rng.below(3) as usize;
        let signs: Vec<char> = SIGNS[c].chars().collect();
        let sign = signs[rng.below(signs.len() as u32) as usize];
        let yy = rng.below(100);
        let year = 1800 + 100 * c as i32 + yy as i32;
        let month = rng.below(12) as u8 + 1;
        let day = rng.below(u32::from(days_in_month(year, month))) as u8 + 1;
        let individual = rng.below(998) + 2;
        let number = u32::from(day) * 10_000_000 + u32::from(month) * 100_000 + yy * 1000;
        let check = check_char(number + individual);
        let code = format!("{day:02}{month:02}{yy:02}{sign}{individual:03}{check}");
        (code, (year, month, day), individual)
    }

    #[test]
    fn generated_codes_round_trip_and_single_changes_are_caught() {
        const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+-*";
        for seed in 0..2000u64 {
            let (code, date, individual) = generate(seed);
            let h = parse(&code).unwrap();
            assert_eq!(h.as_str(), code);
            assert_eq!(h.birth_date(), date);
            assert_eq!(h.is_temporary(), individual >= 900);
            assert_eq!(parse(&code.to_lowercase()).unwrap(), h);
            for (i, original) in code.char_indices() {
                for other in ALPHABET.chars().filter(|&c| c != original) {
                    let mut changed: Vec<char> = code.chars().collect();
                    changed[i] = other;
                    let changed: String = changed.into_iter().collect();
                    match parse(&changed) {
                        // The check character does not cover the century sign: another sign
                        // parses, but never as the same code or person.
                        Ok(parsed) if i == 6 => assert_ne!(parsed, h),
                        Ok(_) => panic!("{changed} accepted after changing position {i}"),
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

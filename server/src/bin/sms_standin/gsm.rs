//! How an SMS body is encoded and into how many parts it is split: GSM 03.38's default
//! alphabet (one septet a character, two for the extension table's), else UCS-2 (one UTF-16
//! unit a character, two outside the Basic Multilingual Plane).

/// The body's encoding, named as Telnyx names it in `encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

/// The encoding and the number of parts (`parts`) of one message body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    pub parts: u32,
}

/// GSM 03.38's default alphabet, in table order without the escape code (0x1B): 127
/// characters of one septet each. Finnish and Swedish letters (ä ö å Ä Ö Å) are here.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: escape plus the character, so two septets each.
const GSM_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets in one part: a single message, and each part of a concatenated one (whose user
/// data header takes the rest).
const GSM_SINGLE: u32 = 160;
const GSM_MULTI: u32 = 153;
/// UTF-16 units in one part, likewise.
const UCS2_SINGLE: u32 = 70;
const UCS2_MULTI: u32 = 67;

fn gsm_septets(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding and parts of `text`; an empty body is one (empty) part.
pub fn segments(text: &str) -> Segments {
    let septets: Option<Vec<u32>> = text.chars().map(gsm_septets).collect();
    match septets {
        Some(weights) => Segments {
            encoding: Encoding::Gsm7,
            parts: parts(&weights, GSM_SINGLE, GSM_MULTI),
        },
        None => {
            let units: Vec<u32> = text.chars().map(|c| c.len_utf16() as u32).collect();
            Segments {
                encoding: Encoding::Ucs2,
                parts: parts(&units, UCS2_SINGLE, UCS2_MULTI),
            }
        }
    }
}

/// Parts for characters of the given widths. A character is never split between two parts
/// (neither an escape pair nor a surrogate pair), so a part may end short of `multi`.
fn parts(widths: &[u32], single: u32, multi: u32) -> u32 {
    if widths.iter().sum::<u32>() <= single {
        return 1;
    }
    let mut parts = 1;
    let mut used = 0;
    for &w in widths {
        if used + w > multi {
            parts += 1;
            used = 0;
        }
        used += w;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm(parts: u32) -> Segments {
        Segments {
            encoding: Encoding::Gsm7,
            parts,
        }
    }

    fn ucs2(parts: u32) -> Segments {
        Segments {
            encoding: Encoding::Ucs2,
            parts,
        }
    }

    #[test]
    fn the_default_alphabet_has_127_characters_besides_the_escape() {
        assert_eq!(GSM_BASIC.chars().count(), 127);
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn finnish_and_swedish_letters_stay_in_gsm_7() {
        let text = "Hyvää päivää, Åke! Ajanvarauksesi on tänään klo 9.00. Älä vastaa tähän \
                    viestiin. Öljyä, åäö ÅÄÖ, ü Ü é É è à ñ Ñ ß Ø ø Æ æ.";
        assert_eq!(segments(text), gsm(1));
        assert_eq!(segments(&"ä".repeat(160)), gsm(1));
        assert_eq!(segments(&"Å".repeat(161)), gsm(2));
        assert_eq!(segments(&"ö".repeat(306)), gsm(2));
        assert_eq!(segments(&"ö".repeat(307)), gsm(3));
    }

    #[test]
    fn extension_characters_count_two_septets() {
        for c in ['€', '[', ']', '{', '}', '~', '^', '\\', '|'] {
            assert_eq!(segments(&c.to_string().repeat(80)), gsm(1), "{c}");
            assert_eq!(segments(&c.to_string().repeat(81)), gsm(2), "{c}");
        }
        // 10 € = 20 septets: 140 + 20 = 160 still fits one part, one more letter does not.
        let text = format!("{}{}", "a".repeat(140), "€".repeat(10));
        assert_eq!(segments(&text), gsm(1));
        assert_eq!(segments(&format!("{text}a")), gsm(2));
    }

    #[test]
    fn an_escape_pair_is_not_split_between_parts() {
        // 306 septets would fill two parts of 153 exactly, but the € cannot start at 153.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&text), gsm(3));
    }

    #[test]
    fn anything_outside_gsm_forces_ucs_2() {
        assert_eq!(segments("Привет"), ucs2(1));
        assert_eq!(segments("Tere, õde!"), ucs2(1)); // õ is not in the default alphabet
        assert_eq!(segments("ça va"), ucs2(1)); // only the capital Ç is
        assert_eq!(segments(&"ж".repeat(70)), ucs2(1));
        assert_eq!(segments(&"ж".repeat(71)), ucs2(2));
        assert_eq!(segments(&"ж".repeat(134)), ucs2(2));
        assert_eq!(segments(&"ж".repeat(135)), ucs2(3));
        // A long Finnish text with one emoji: all of it goes UCS-2.
        let text = format!("{}🙂", "ä".repeat(100));
        assert_eq!(segments(&text), ucs2(2));
    }

    #[test]
    fn characters_outside_the_bmp_count_two_units_and_are_not_split() {
        assert_eq!(segments(&"😀".repeat(35)), ucs2(1));
        assert_eq!(segments(&"😀".repeat(36)), ucs2(2));
        // 33 emoji fill 66 units of a 67-unit part; the 34th starts the second part.
        assert_eq!(segments(&"😀".repeat(67)), ucs2(3));
    }

    #[test]
    fn an_empty_body_is_one_part() {
        assert_eq!(segments(""), gsm(1));
    }
}

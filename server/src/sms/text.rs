//! How long an SMS is: GSM-7 (the GSM 03.38 default alphabet, which has Finnish and Swedish
//! ä, ö, å, Ä, Ö, Å) packs 160 characters into one message and 153 into each part of a longer
//! one; its extension characters (€ [ ] { } ~ ^ \ | and the form feed) take two places. One
//! character outside that alphabet makes the whole SMS UCS-2: 70 characters, 67 per part
//! (UTF-16 units, so an emoji takes two). Hand-written rather than a crate: it is one table and
//! a count, and the console counts the same way (`console/sms.js`) so the nurse sees what the
//! server will refuse.

/// The GSM 03.38 default alphabet (basic character set), in code order.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table's characters (escape + one septet each).
const GSM7_EXTENSION: &str = "\u{0c}^{}\\[~]|€";

/// An SMS's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    /// The wire name (`gsm7`, `ucs2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "gsm7",
            Self::Ucs2 => "ucs2",
        }
    }
}

/// What a text costs as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Length {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Messages the text is sent as (0 for an empty text).
    pub segments: usize,
}

/// The encoding, length and number of messages of `text`.
pub fn length(text: &str) -> Length {
    let gsm: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, part) = match gsm {
        Some(septets) => (Encoding::Gsm7, septets, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let segments = match units {
        0 => 0,
        n if n <= single => 1,
        n => n.div_ceil(part),
    };
    Length {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finnish_and_swedish_letters_stay_in_gsm7() {
        let l = length("Hei! Äidin ja isän näköinen. Åbo, Öland — ei");
        // The dash is not GSM-7: this one is UCS-2.
        assert_eq!(l.encoding, Encoding::Ucs2);
        let l = length("Hei! Aika on torstaina klo 9. Tervetuloa äitiysneuvolaan, Åsa & Örjan.");
        assert_eq!(l.encoding, Encoding::Gsm7);
        assert_eq!(l.units, 70);
        assert_eq!(l.segments, 1);
    }

    #[test]
    fn gsm7_fits_160_in_one_and_153_in_each_part() {
        assert_eq!(length(&"a".repeat(160)).segments, 1);
        assert_eq!(length(&"a".repeat(161)).segments, 2);
        assert_eq!(length(&"ä".repeat(306)).segments, 2);
        assert_eq!(length(&"ö".repeat(307)).segments, 3);
        assert_eq!(length("").segments, 0);
    }

    #[test]
    fn extension_characters_take_two_places() {
        let l = length("Hinta 20 €");
        assert_eq!((l.encoding, l.units), (Encoding::Gsm7, 11));
        assert_eq!(length(&"€".repeat(80)).segments, 1);
        assert_eq!(length(&"€".repeat(81)).segments, 2);
        assert_eq!(length("[]{}~^\\|").units, 16);
    }

    #[test]
    fn one_character_outside_gsm7_makes_it_ucs2_with_70_and_67() {
        let l = length(&format!("{}ł", "a".repeat(69)));
        assert_eq!((l.encoding, l.units, l.segments), (Encoding::Ucs2, 70, 1));
        assert_eq!(length(&format!("{}ł", "a".repeat(70))).segments, 2);
        assert_eq!(length(&"ш".repeat(134)).segments, 2);
        assert_eq!(length(&"ш".repeat(135)).segments, 3);
        // An emoji is two UTF-16 units.
        let l = length("Kiitos 🙂");
        assert_eq!((l.encoding, l.units), (Encoding::Ucs2, 9));
    }
}

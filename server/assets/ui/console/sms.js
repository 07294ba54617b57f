// How long a text is as SMS and how a phone number is shown: the same count as the server's
// (server/src/sms/text.rs, its table copied character for character, so the nurse's counter
// says what the server will accept) and the same mask (server/src/sms/number.rs `mask`). GSM-7
// (the GSM 03.38 default alphabet, with ä ö å Ä Ö Å) packs 160 characters into one SMS and 153
// into each part of a longer one; its extension characters take two places; one character
// outside the alphabet makes the whole text UCS-2: 70, 67 per part, in UTF-16 units. No imports:
// the bottom of the console's layers (and loadable on its own by a test).

/** The GSM 03.38 default alphabet (basic character set), in code order (text.rs GSM7_BASIC). */
export const GSM7_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
  + '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The extension table's characters, two places each (text.rs GSM7_EXTENSION). */
export const GSM7_EXTENSION = '\f^{}\\[~]|€';

/**
 * `{encoding: 'gsm7'|'ucs2', units, segments}` of `text`: septets (GSM-7) or UTF-16 units
 * (UCS-2), and the SMS it is sent as (0 for an empty text).
 */
export function smsLength(text) {
  let septets = 0;
  let gsm = true;
  for (const ch of String(text)) { // by code point, as Rust's chars()
    if (GSM7_BASIC.includes(ch)) septets += 1;
    else if (GSM7_EXTENSION.includes(ch)) septets += 2;
    else { gsm = false; break; }
  }
  const [encoding, units, single, part] = gsm ? ['gsm7', septets, 160, 153] : ['ucs2', String(text).length, 70, 67];
  const segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
  return { encoding, units, segments };
}

/**
 * `+358401234567` → `+358 40 *** **67`: the operator prefix and the last two digits, as the
 * server masks a number in events and logs (shorter than 6 characters: all stars).
 */
export function maskNumber(number) {
  const chars = [...String(number)];
  if (chars.length < 6) return '*'.repeat(chars.length);
  const head = number.startsWith('+358') ? `+358 ${number.slice(4, 6)}` : chars.slice(0, 4).join('');
  return `${head} *** **${chars.slice(-2).join('')}`;
}

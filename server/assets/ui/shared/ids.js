// The one id generator: a random (version 4) UUID, used for `client_msg_id` and `client_ref`.
// crypto.getRandomValues works outside secure contexts too, unlike crypto.randomUUID, and the
// widget runs on whatever page embeds it.

export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (n) => n.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

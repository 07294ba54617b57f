// Documents (attachments) for the widget and the console: sending one as a message (the raw
// bytes POSTed to /api/v1/conversations/{id}/attachments), fetching one to save it, and how a
// file card names it ("lab-results.pdf · PDF · 240 kB"). Authentication is by header (the
// console's JWT; a client's resume token), so a document is never a plain link: it is fetched,
// handed to the browser as a download and never shown inline.

/**
 * "240 kB", "1.2 MB", "10 MB" in `locale`; counted in 1024s, as file managers and the server's
 * limit (10485760 bytes = 10 MB) are.
 */
export function humanSize(bytes, locale) {
  const n = Number(bytes) || 0;
  const K = 1024, M = K * K;
  const [value, unit] = n >= M ? [n / M, 'megabyte'] : n >= K ? [n / K, 'kilobyte'] : [n, 'byte'];
  try {
    // "602 bytes" (a short "B" reads badly in Finnish and Swedish), "240 kB", "1.2 MB".
    const display = unit === 'byte' ? 'long' : 'short';
    return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: display, maximumFractionDigits: value < 10 && unit !== 'byte' ? 1 : 0 }).format(value);
  } catch {
    return `${Math.round(value)} ${{ byte: 'B', kilobyte: 'kB', megabyte: 'MB' }[unit]}`;
  }
}

const LABELS = {
  'application/pdf': 'PDF', 'image/png': 'PNG', 'image/jpeg': 'JPEG', 'image/gif': 'GIF',
  'image/webp': 'WebP', 'image/heic': 'HEIC', 'image/tiff': 'TIFF', 'text/plain': 'Text',
  'application/msword': 'Word', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word',
  'application/vnd.oasis.opendocument.text': 'ODT', 'application/rtf': 'RTF',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel', 'application/vnd.ms-excel': 'Excel',
  'application/vnd.oasis.opendocument.spreadsheet': 'ODS', 'image/heif': 'HEIF',
};

/** A short label for a MIME type ("PDF"), else the file name's extension, else the subtype. */
export function typeLabel(type, name) {
  if (LABELS[type]) return LABELS[type];
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name || '');
  if (ext) return ext[1].toUpperCase();
  const sub = /\/([\w.+-]+)$/.exec(type || '');
  return sub ? sub[1].toUpperCase() : '';
}

/** The accepted types as labels, each once: "PDF, PNG, JPEG". */
export function typeLabels(types) {
  return [...new Set((types || []).map((x) => typeLabel(x, '')).filter(Boolean))].join(', ');
}

/**
 * Sends `file` as a message: resolves to `{ ok, status, body }` where `body` is the parsed JSON
 * answer (the 201's `{conversation, seq, at, client_msg_id, attachment}`, or an error's
 * `{error: {code, message}}`), or `{ ok: false, status: 0 }` when the network failed.
 */
export async function uploadFile({ root, conversation, file, clientMsgId, caption, headers }) {
  const q = new URLSearchParams({ name: file.name, client_msg_id: clientMsgId });
  if (caption) q.set('body', caption);
  const url = `${root}/api/v1/conversations/${encodeURIComponent(conversation)}/attachments?${q}`;
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', body: file, credentials: 'omit',
      headers: { 'content-type': file.type || 'application/octet-stream', ...headers },
    });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  let body = null;
  try { body = await res.json(); } catch { /* not JSON: the status says enough */ }
  return { ok: res.ok, status: res.status, body };
}

/** The human message of an error answer, if it has one. */
export const errorMessage = (r) => (r && r.body && r.body.error && typeof r.body.error.message === 'string' ? r.body.error.message : '');
export const errorCode = (r) => (r && r.body && r.body.error && typeof r.body.error.code === 'string' ? r.body.error.code : '');

/**
 * Fetches document `id` and has the browser save it as `name` (a temporary object URL behind
 * an `<a download>` appended to `parent`, revoked afterwards). Resolves to true when saved.
 */
export async function downloadFile({ root, id, name, headers, parent }) {
  let blob;
  try {
    const res = await fetch(`${root}/api/v1/attachments/${encodeURIComponent(id)}`, { credentials: 'omit', headers, cache: 'no-store' });
    if (!res.ok) return false;
    blob = await res.blob();
  } catch {
    return false;
  }
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'document';
  a.hidden = true;
  (parent || document.body).append(a);
  a.click();
  a.remove();
  // Revoked a little later: the browser reads the URL after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return true;
}

/** A paperclip icon (decorative: the button it sits in carries the name). */
export function paperclip() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'clip');
  svg.innerHTML = '<path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z"/>';
  return svg;
}

/** A document icon for file cards (decorative). */
export function docIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'doc');
  svg.innerHTML = '<path d="M6 2h8l6 6v12a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V9h5.5L13 3.5zM8 13h8v1.5H8V13zm0 3.5h8V18H8v-1.5z"/>';
  return svg;
}

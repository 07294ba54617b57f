// Sending a document from a chat's composer: "Attach document", shown while the chat is mine
// and open, its service takes documents and the composer replies to the client (a document
// always reaches the client, so there is none in note mode). The file chosen goes at once as a
// message of its own with the composer's text as its caption (POST …/attachments with the
// console's token); its row says "Sending…" until the server's 201, which counts as the ack
// (the message event that follows has the same seq and is not drawn twice). Refusals are said
// next to the button, in a live region. Between the tabs and the composer, which places it.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { errorCode, errorMessage, humanSize, paperclip, typeLabels, uploadFile } from '../shared/files.js';
import { locale, t } from './i18n.js';
import { insertSorted, messageEl, renderEvent, scrollBottom } from './log.js';
import { S, fmtTime, saveStore, service } from './state.js';
import { renderWaits } from './tabs.js';

/** The chat's button (with its hidden file input) and the line that says how sending went. */
export function attachControls(c) {
  const input = h('input', { type: 'file', testid: 'attach-input', hidden: true, tabindex: -1,
    onchange: () => {
      const file = input.files && input.files[0];
      input.value = ''; // the same file may be chosen again after a refusal
      if (file) sendFile(c, file);
    } });
  c.el.fileInput = input;
  c.el.attachBtn = h('button', { type: 'button', class: 'btn attach', testid: 'attach', hidden: true,
    'aria-describedby': `attach-hint-${c.uid}`, onclick: () => { if (!c.uploading) input.click(); } },
  paperclip(), h('span', { class: 'attach-text' }));
  c.el.attachHint = h('span', { id: `attach-hint-${c.uid}`, class: 'sr-only' });
  c.el.attachStatus = h('p', { class: 'attach-status', testid: 'attach-status', role: 'status' });
  return [c.el.attachBtn, input, c.el.attachHint];
}

/** The chat's document settings (`{max_bytes, types}`), or null when its service takes none. */
const accepts = (c) => ((service(c.info.service) || {}).attachments) || null;

/** Shows the button when a document can be sent; busy while one is on its way. */
export function renderAttach(c) {
  if (!c.el.attachBtn) return;
  const a = accepts(c);
  c.el.attachBtn.hidden = !(a && c.status === 'open' && c.mode !== 'note');
  c.el.attachBtn.querySelector('.attach-text').textContent = t('attach');
  c.el.attachHint.textContent = t('attachHint');
  c.el.fileInput.accept = a && Array.isArray(a.types) ? a.types.join(',') : '';
  // Not `disabled`: the focus stays on the button while its document is on the way.
  if (c.uploading) c.el.attachBtn.setAttribute('aria-disabled', 'true'); else c.el.attachBtn.removeAttribute('aria-disabled');
}

/** Says how sending goes next to the button (`refused`: styled as a problem). */
function say(c, text, refused) {
  if (c.el.attachStatus.textContent !== text) c.el.attachStatus.textContent = text;
  c.el.attachStatus.classList.toggle('refused', !!refused);
}

export async function sendFile(c, file) {
  const a = accepts(c);
  if (!a || c.uploading || c.status !== 'open') return;
  const name = file.name;
  if (Number.isFinite(a.max_bytes) && file.size > a.max_bytes) {
    return say(c, t('attachTooLarge', { name, max: humanSize(a.max_bytes, locale()) }), true);
  }
  const ta = c.el.composer;
  const caption = ta.value.trim();
  const id = uuid();
  const sending = messageEl('message', 'professional', true, t('you'), h('time', { text: fmtTime() }), caption, null, 'sending',
    [{ name, type: file.type, size: file.size }]);
  c.el.messages.append(sending);
  scrollBottom(c);
  ta.value = '';
  c.uploading = id;
  renderAttach(c);
  say(c, t('attachSending', { name }));
  const r = await uploadFile({ root: '', conversation: c.id, file, clientMsgId: id, caption, headers: { Authorization: `Bearer ${S.token}` } });
  c.uploading = null;
  renderAttach(c);
  sending.remove();
  if (r.ok && r.body && Number.isInteger(r.body.seq)) {
    sent(c, { seq: r.body.seq, at: r.body.at, id, caption, attachment: r.body.attachment });
    return say(c, '');
  }
  if (caption && !ta.value) ta.value = caption; // not sent: the caption is not lost
  say(c, refusal(r, name, a), true);
  saveStore();
}

/** The 201: the message drawn in its place by seq, unless its event came first. */
function sent(c, { seq, at, id, caption, attachment }) {
  if (!c.events.has(seq)) {
    const ev = { type: 'message', conversation: c.id, seq, at, from: { role: 'professional', id: S.meId, name: S.me && S.me.name },
      body: caption, client_msg_id: id, attachments: attachment ? [attachment] : [] };
    c.events.set(seq, ev);
    insertSorted(c, renderEvent(c, ev), seq);
    c.minSeq = Math.min(c.minSeq, seq);
    c.maxSeq = Math.max(c.maxSeq, seq);
    scrollBottom(c);
  }
  renderWaits();
  saveStore();
}

/** Why a document was not sent: the server's words for a limit or a type it refused. */
function refusal(r, name, a) {
  const why = errorMessage(r);
  const code = errorCode(r);
  const refused = t('attachRefused', { name });
  if (r.status === 0 || r.status >= 500) return t('attachFailed', { name });
  if (code === 'conversation_closed' || r.status === 409) return `${refused} ${t('attachClosed')}`;
  if (code === 'too_large' || r.status === 413) {
    return why ? `${refused} ${why}` : t('attachTooLarge', { name, max: humanSize(a.max_bytes, locale()) });
  }
  if (code === 'unsupported_type' || r.status === 415) return `${refused} ${why || t('attachTypes', { types: typeLabels(a.types) })}`;
  if (r.status === 401 || r.status === 403) return `${refused} ${t('attachForbidden')}`;
  return `${refused} ${why || r.status}`;
}

// Sending a document: "Attach document" under the composer, shown while the conversation is
// open and its service takes documents (`attachments` in /api/v1/services). The file chosen
// goes at once as a message of its own, with the composer's text as its caption (POST
// …/attachments); its row says "Sending…" until the server's 201, which counts as the ack,
// then carries the file card with Download. A file over the service's limit is refused here,
// before anything is sent; every refusal is said next to the button, in a live region.

import { uuid } from '../shared/ids.js';
import { uploadFile, humanSize, typeLabels, errorMessage, errorCode } from '../shared/files.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { store, own, rt, MAX_BODY } from './state.js';
import { composer, attachBtn, fileInput, attachStatus, attachRow } from './view.js';
import { askDeadline } from './connection.js';
import { render } from './render.js';
import { notice } from './indicators.js';
import { clientHeaders, showFiles } from './documents.js';
import { drawPending, confirmOwn, autosize, stopTyping } from './messages.js';

export function wireAttach() {
  attachBtn.addEventListener('click', () => {
    if (rt.uploading || attachBtn.hidden) return; // one document at a time
    fileInput.click();
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = ''; // the same file may be chosen again after a refusal
    if (file) sendFile(file);
  });
}

/** The document settings of the conversation's service (`{max_bytes, types}`), else null. */
function accepts() {
  const svc = (rt.services || []).filter((s) => s && s.id === store.service)[0];
  const a = svc && svc.attachments;
  return a && typeof a === 'object' ? a : null;
}

/** Drawn with the panel (`open`: the composer is usable): the button, busy while sending. */
export function renderAttach(open) {
  const a = accepts();
  attachBtn.hidden = !(open && a && store.conversation);
  if (a && Array.isArray(a.types)) fileInput.accept = a.types.join(',');
  // Not `disabled`: the focus stays on the button while its document is on the way.
  if (rt.uploading) attachBtn.setAttribute('aria-disabled', 'true'); else attachBtn.removeAttribute('aria-disabled');
  attachRow.hidden = attachBtn.hidden && !attachStatus.textContent;
}

/** Forgets what was said about the last document (a new conversation). */
export function clearAttach() {
  attachStatus.textContent = '';
}

/** Says how sending goes next to the button (`refused`: styled as a problem). */
function say(text, refused) {
  if (attachStatus.textContent !== text) attachStatus.textContent = text;
  attachStatus.classList.toggle('refused', !!refused);
  render();
}

export async function sendFile(file) {
  const a = accepts();
  if (!a || rt.uploading || !store.conversation) return;
  const name = file.name;
  if (typeof a.max_bytes === 'number' && file.size > a.max_bytes) {
    return say(t('attachTooLarge', { name: name, max: humanSize(a.max_bytes, cfg.locale) }), true);
  }
  if (composer.value.length > MAX_BODY) return notice(t('errTooLarge'));
  const caption = composer.value.trim() ? composer.value : '';
  const conv = store.conversation;
  const p = { id: uuid(), body: caption, at: new Date().toISOString(), attachments: [{ name: name, type: file.type, size: file.size }] };
  composer.value = '';
  autosize();
  stopTyping();
  rt.uploading = p.id;
  drawPending(p);
  say(t('attachSending', { name: name }));
  const r = await uploadFile({ root: cfg.root, conversation: conv, file: file, clientMsgId: p.id, caption: caption, headers: clientHeaders() });
  rt.uploading = null;
  if (store.conversation !== conv) return render(); // the patient has moved on meanwhile
  if (r.ok && r.body && typeof r.body.seq === 'number') {
    const o = own.get(p.id);
    if (o && r.body.attachment) showFiles(o.el, [r.body.attachment]);
    confirmOwn(p.id, r.body.seq, r.body.at);
    askDeadline(r.body.seq); // a client's message restarts a matter's reply deadline
    return say('');
  }
  // Not sent: the row goes, the caption comes back to the composer, the reason is said.
  const o = own.get(p.id);
  if (o && !o.seq) { o.el.remove(); own.delete(p.id); }
  if (caption && !composer.value) { composer.value = caption; autosize(); }
  say(refusal(r, name, a), true);
}

/** Why a document was not sent: the server's words for a limit or a type it refused. */
function refusal(r, name, a) {
  const why = errorMessage(r);
  const code = errorCode(r);
  const refused = t('attachRefused', { name: name });
  if (r.status === 0 || r.status >= 500) return t('attachFailed', { name: name });
  if (code === 'conversation_closed' || r.status === 409) return t('errClosedConv');
  if (code === 'too_large' || r.status === 413) {
    return why ? refused + ' ' + why : t('attachTooLarge', { name: name, max: humanSize(a.max_bytes, cfg.locale) });
  }
  if (code === 'unsupported_type' || r.status === 415) return refused + ' ' + (why || t('attachTypes', { types: typeLabels(a.types) }));
  if (r.status === 401 || r.status === 403) return refused + ' ' + t('attachForbidden');
  return refused + ' ' + (why || t('errGeneric'));
}

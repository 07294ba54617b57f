// Documents in the log: a file card per attachment of a message ("lab-results.pdf · PDF ·
// 240 kB" and a Download button), and the download itself — fetched with the conversation's
// resume token (and an identified client's token), saved by the browser, never shown inline.

import { h } from '../shared/dom.js';
import { humanSize, typeLabel, downloadFile, docIcon } from '../shared/files.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { store } from './state.js';
import { shadow } from './view.js';
import { notice } from './indicators.js';

/** The headers that prove the client to the document endpoints. */
export function clientHeaders() {
  const headers = {};
  if (store.resume_token) headers['X-Luukku-Resume-Token'] = store.resume_token;
  if (store.token) headers.Authorization = 'Bearer ' + store.token;
  return headers;
}

/** One file card; without an `id` yet (a document still being sent) it has no Download. */
export function card(a) {
  const name = a.name || t('document');
  const meta = [typeLabel(a.type, a.name), typeof a.size === 'number' ? humanSize(a.size, cfg.locale) : ''].filter(Boolean).join(' · ');
  const el = h('div', { class: 'file', 'data-testid': 'attachment', 'data-attachment': a.id || '' },
    docIcon(),
    h('p', { class: 'file-text' }, h('span', { class: 'file-name', 'data-testid': 'attachment-name', text: name }),
      h('span', { class: 'file-meta', 'data-testid': 'attachment-meta', text: meta ? ' · ' + meta : '' })));
  if (a.id) {
    el.append(h('button', {
      type: 'button', class: 'btn btn-secondary btn-small file-get', 'data-testid': 'attachment-download',
      'aria-label': t('downloadName', { name: name }), text: t('download'), onclick: () => download(a, el),
    }));
  }
  return el;
}

/** The cards of a message's attachments, replacing any drawn before (e.g. while sending). */
export function showFiles(msgEl, attachments) {
  const list = (Array.isArray(attachments) ? attachments : []).filter((a) => a && typeof a === 'object');
  let box = msgEl.querySelector('.files');
  if (!list.length) return;
  if (!box) { box = h('div', { class: 'files' }); msgEl.insertBefore(box, msgEl.querySelector('.state')); }
  box.replaceChildren(...list.map(card));
}

async function download(a, el) {
  const btn = el.querySelector('.file-get');
  if (btn.getAttribute('aria-busy') === 'true') return;
  btn.setAttribute('aria-busy', 'true');
  const ok = await downloadFile({ root: cfg.root, id: a.id, name: a.name, headers: clientHeaders(), parent: shadow });
  btn.removeAttribute('aria-busy');
  if (!ok) notice(t('downloadFailed'));
}

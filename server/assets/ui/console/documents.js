// Documents in a log or a read-only thread: one file card per attachment of a message
// ("lab-results.pdf · PDF · 240 kB") with a Download button that fetches it with the console's
// token and hands it to the browser to save (never shown inline). Below the log and the inbox,
// which both draw cards; sending one is attach.js's.

import { h } from '../shared/dom.js';
import { docIcon, downloadFile, humanSize, typeLabel } from '../shared/files.js';
import { locale, t } from './i18n.js';
import { showError } from './notices.js';
import { S } from './state.js';

/** The cards of a message's attachments (null when it has none). */
export function fileCards(attachments) {
  const list = (Array.isArray(attachments) ? attachments : []).filter((a) => a && typeof a === 'object');
  return list.length ? h('div', { class: 'files' }, list.map(card)) : null;
}

/** One card; without an `id` yet (a document still being sent) it has no Download. */
export function card(a) {
  const name = a.name || t('document');
  const meta = [typeLabel(a.type, a.name), Number.isFinite(a.size) ? humanSize(a.size, locale()) : ''].filter(Boolean).join(' · ');
  const btn = a.id && h('button', { type: 'button', class: 'btn small file-get', testid: 'attachment-download',
    'aria-label': t('downloadName', { name }), text: t('download'), onclick: () => download(a, btn) });
  return h('div', { class: 'file', testid: 'attachment', 'data-attachment': a.id || '' }, docIcon(),
    h('span', { class: 'file-text' }, h('span', { class: 'file-name', testid: 'attachment-name', text: name }),
      h('span', { class: 'file-meta', testid: 'attachment-meta', text: meta ? ` · ${meta}` : '' })),
    btn);
}

async function download(a, btn) {
  if (btn.getAttribute('aria-busy') === 'true') return;
  btn.setAttribute('aria-busy', 'true');
  const ok = await downloadFile({ root: '', id: a.id, name: a.name, headers: { Authorization: `Bearer ${S.token}` } });
  btn.removeAttribute('aria-busy');
  if (!ok) showError(`${t('downloadFailed')}: ${a.name || a.id}`, null, 'download', 'download');
}

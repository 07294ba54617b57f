// What the console tells the professional outside the message log: errors in the sidebar (and
// in the chat they concern), each chat's notice line, and clearing an error once the same kind
// of thing succeeds. Below the connection, which clears stale errors after every answer.

import { h } from '../shared/dom.js';
import { has, t } from './i18n.js';
import { $, S, chatTitle } from './state.js';

const ERROR_SHOWN_MS = 20000;
const CAPACITY_KINDS = ['accept', 'status'];

/** A chat's notice line under its header ('error' styles it as one). */
export function setNotice(c, text, kind) {
  c.el.notice.textContent = text;
  c.el.notice.hidden = !text;
  c.el.notice.className = `notice ${kind || ''}`;
}

/** "What failed: why", from an `error` frame and the context its request was sent with. */
export function errorText(f, ctx) {
  const what = t(has(`err_${ctx.kind}`) ? `err_${ctx.kind}` : 'err_other');
  const key = has(`why_${f.code}_${ctx.kind}`) ? `why_${f.code}_${ctx.kind}` : `why_${f.code}`;
  const why = has(key) ? t(key, { n: S.capacity }) : f.message || f.code;
  return `${what}: ${why}`;
}
export function showError(text, c, code, kind) {
  const box = $('errors');
  const shown = c ? t('errInChat', { chat: chatTitle(c), text }) : text;
  const item = h('div', { class: 'error', testid: 'error', 'data-code': code || '', 'data-kind': kind || '',
    'data-conversation': c ? c.id : '' },
  h('span', { text: shown }),
  h('button', { type: 'button', class: 'x', 'aria-label': t('dismissError'), text: '×', onclick: () => item.remove() }));
  box.prepend(item);
  while (box.children.length > 4) box.lastChild.remove();
  setTimeout(() => item.remove(), ERROR_SHOWN_MS);
  if (c && c.el.notice) setNotice(c, text, 'error');
}

/**
 * An error is stale once the same kind of thing succeeds: taking a chat or changing one's
 * status clears the capacity and accept errors; any success in a chat clears that chat's.
 */
export function clearStaleErrors(ctx) {
  const capacity = CAPACITY_KINDS.includes(ctx.kind);
  for (const item of [...$('errors').children]) {
    const sameChat = ctx.conversation && item.dataset.conversation === ctx.conversation;
    if (sameChat || (capacity && CAPACITY_KINDS.includes(item.dataset.kind))) item.remove();
  }
  const c = ctx.conversation && S.chats.get(ctx.conversation);
  if (c && c.el.notice && c.el.notice.classList.contains('error')) setNotice(c, '');
}

// What a professional does with a chat besides writing (transfer is in transfer.js): close
// with a summary, reopen, dismiss a chat that is no longer open, and the forms' toggle.

import { h } from '../shared/dom.js';
import { askColleagues } from './colleagues.js';
import { send } from './connection.js';
import { t } from './i18n.js';
import { setNotice, showError } from './notices.js';
import { queuedSms } from './smschat.js';
import { S, saveStore } from './state.js';
import { placeTabs, select, updateEmpty, updateTitle } from './tabs.js';

export function closeForm(c) {
  const sid = `cs-${c.uid}`;
  return h('form', { class: 'sub-form', hidden: true, 'aria-label': t('closeChat'), onsubmit: (e) => { e.preventDefault(); doClose(c); } },
    h('div', { class: 'field-row' }, h('label', { for: sid, text: t('summary') }),
      h('textarea', { id: sid, testid: 'close-summary', rows: 3 })),
    h('div', { class: 'form-bar' },
      h('button', { type: 'submit', class: 'btn danger', testid: 'close-confirm', text: t('closeChat') }),
      h('button', { type: 'button', class: 'btn ghost', text: t('cancel'), onclick: () => toggleForm(c, 'close', false) })));
}
export function doClose(c) {
  const summary = c.el.closeForm.querySelector('[data-testid="close-summary"]').value.trim();
  const frame = { type: 'close', conversation: c.id };
  if (summary) frame.summary = summary;
  if (!send(frame, { kind: 'close', conversation: c.id })) return showError(`${t('err_close')}: ${t('why_offline')}`, c, 'offline', 'close');
  toggleForm(c, 'close', false);
  c.el.closeForm.reset();
}
export function toggleForm(c, which, show) {
  const form = which === 'transfer' ? c.el.transferForm : c.el.closeForm;
  const btn = which === 'transfer' ? c.el.transferBtn : c.el.closeBtn;
  const on = show === undefined ? form.hidden : show;
  (which === 'transfer' ? c.el.closeForm : c.el.transferForm).hidden = true;
  c.el.transferBtn.setAttribute('aria-expanded', 'false');
  c.el.closeBtn.setAttribute('aria-expanded', 'false');
  form.hidden = !on;
  btn.setAttribute('aria-expanded', String(on));
  if (on && which === 'transfer') askColleagues(); // fresh presence and load
  if (on) form.querySelector('select, textarea').focus();
  else btn.focus();
}
export function reopen(c) {
  if (!send({ type: 'reopen', conversation: c.id }, { kind: 'reopen', conversation: c.id })) {
    showError(`${t('err_reopen')}: ${t('why_offline')}`, c, 'offline', 'reopen');
  }
}
export function dismiss(c) {
  if (c.status === 'open') return;
  if (queuedSms(c) && !c.dismissAsked) { // an SMS of mine still queued: asked once more
    c.dismissAsked = true;
    setNotice(c, t('smsDismissAsk'), 'error');
    c.el.dismissBtn.textContent = t('smsDismissAnyway');
    return;
  }
  const ids = [...S.chats.values()].filter((x) => x === c || x.status === 'open').map((x) => x.id);
  const i = ids.indexOf(c.id);
  c.el.tab.remove();
  c.el.pane.remove();
  S.chats.delete(c.id);
  if (S.activeId === c.id) {
    S.activeId = null;
    const next = ids[i + 1] || ids[i - 1] || [...S.chats.keys()][0];
    if (next && S.chats.has(next)) { select(next); S.chats.get(next).el.tab.focus(); }
  }
  placeTabs();
  updateEmpty();
  updateTitle();
  saveStore();
}

// What a professional does with a chat besides writing: transfer (to a team or a colleague,
// with a note), close with a summary, reopen, dismiss a chat that is no longer open.

import { h } from '../shared/dom.js';
import { placeTabs, select, setNotice, updateEmpty, updateTitle } from './chats.js';
import { send, showError } from './connection.js';
import { t } from './i18n.js';
import { S, chatTitle, proName, saveStore, teamName } from './state.js';

export function transferForm(c) {
  const id = (n) => `${n}-${c.uid}`;
  const f = h('form', { class: 'sub-form', hidden: true, 'aria-label': t('transferChat'), onsubmit: (e) => { e.preventDefault(); doTransfer(c); } },
    h('h3', { class: 'form-title' }),
    h('div', { class: 'field-row' }, h('label', { for: id('tt'), text: t('toTeam') }),
      h('select', { id: id('tt'), testid: 'transfer-team', onchange: () => syncTransfer(c, 'team') })),
    h('div', { class: 'field-row', 'data-pro': '' }, h('label', { for: id('tp'), text: t('toPro') })),
    h('div', { class: 'field-row' }, h('label', { for: id('tn'), text: t('transferNote') }),
      h('textarea', { id: id('tn'), testid: 'transfer-note', rows: 2 })),
    h('div', { class: 'form-bar' },
      h('button', { type: 'submit', class: 'btn primary', testid: 'transfer-confirm', text: t('transfer') }),
      h('button', { type: 'button', class: 'btn ghost', text: t('cancel'), onclick: () => toggleForm(c, 'transfer', false) })));
  return f;
}
export function fillTransferOptions(c) {
  const f = c.el.transferForm;
  f.querySelector('.form-title').textContent = t('transferTitle', { chat: chatTitle(c) });
  const team = f.querySelector('[data-testid="transfer-team"]');
  const prev = team.value;
  const teams = S.teams.length ? S.teams : (S.me ? S.me.teams : []);
  team.replaceChildren(...teams.map((t) => h('option', { value: t, text: t })));
  team.value = prev || teams.find((t) => t !== c.info.team) || teams[0] || '';
  const row = f.querySelector('[data-pro]');
  const old = row.querySelector('[data-testid="transfer-professional"]');
  const keep = old ? old.value : '';
  const pid = `tp-${c.uid}`;
  const input = S.pros
    ? h('select', { id: pid, testid: 'transfer-professional', onchange: () => syncTransfer(c, 'pro') },
      h('option', { value: '', text: t('anyoneInTeam') }),
      S.pros.filter((p) => p.id !== S.meId).map((p) => h('option', { value: p.id, text: `${p.name} (${p.teams.join(', ')})` })))
    : h('input', { id: pid, testid: 'transfer-professional', type: 'text', autocomplete: 'off', placeholder: t('proIdPh') });
  if (old) old.replaceWith(input); else row.append(input);
  input.value = keep;
}

/** Keeps team and professional consistent: a chosen colleague must be in the chosen team. */
export function syncTransfer(c, changed) {
  const f = c.el.transferForm;
  const team = f.querySelector('[data-testid="transfer-team"]');
  const pro = f.querySelector('[data-testid="transfer-professional"]');
  const p = (S.pros || []).find((x) => x.id === pro.value);
  if (!p) return;
  if (changed === 'pro' && !p.teams.includes(team.value)) team.value = p.teams[0];
  if (changed === 'team' && !p.teams.includes(team.value)) pro.value = '';
}
export function doTransfer(c) {
  const f = c.el.transferForm;
  const team = f.querySelector('[data-testid="transfer-team"]').value;
  const pro = f.querySelector('[data-testid="transfer-professional"]').value.trim();
  const note = f.querySelector('[data-testid="transfer-note"]').value.trim();
  const frame = { type: 'transfer', conversation: c.id };
  if (team) frame.to_team = team;
  if (pro) frame.to_professional = pro;
  if (note) frame.note = note;
  if (!send(frame, { kind: 'transfer', conversation: c.id })) return showError(`${t('err_transfer')}: ${t('why_offline')}`, c, 'offline', 'transfer');
  toggleForm(c, 'transfer', false);
  f.reset();
  setNotice(c, t('transferring', { where: pro ? proName(pro) : t('teamX', { team: teamName(team) }) }));
}
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

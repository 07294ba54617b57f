// Transferring a chat to a team or a named colleague, with a note for the receiver. Team names,
// and colleagues with their presence and load, come from colleagues.js; the colleague list
// follows the chosen team. Nothing is preselected: a transfer goes where the professional
// chose, never to a default.

import { h } from '../shared/dom.js';
import { toggleForm } from './actions.js';
import { colleagues, transferTeams } from './colleagues.js';
import { send } from './connection.js';
import { t } from './i18n.js';
import { setNotice, showError } from './notices.js';
import { S, chatTitle, proName, teamName } from './state.js';

export function transferForm(c) {
  const id = (n) => `${n}-${c.uid}`;
  return h('form', { class: 'sub-form', hidden: true, novalidate: true, 'aria-label': t('transferChat'),
    onsubmit: (e) => { e.preventDefault(); doTransfer(c); } },
  h('h3', { class: 'form-title' }),
  h('div', { class: 'field-row' }, h('label', { for: id('tt'), text: t('toTeam') }),
    h('select', { id: id('tt'), testid: 'transfer-team', 'aria-describedby': id('te'), onchange: () => syncTransfer(c, 'team') })),
  h('div', { class: 'field-row', 'data-pro': '' }, h('label', { for: id('tp'), text: t('toPro') })),
  h('p', { id: id('te'), class: 'field-error', testid: 'transfer-error', role: 'alert' }),
  h('div', { class: 'field-row' }, h('label', { for: id('tn'), text: t('transferNote') }),
    h('textarea', { id: id('tn'), testid: 'transfer-note', rows: 2 })),
  h('div', { class: 'form-bar' },
    h('button', { type: 'submit', class: 'btn primary', testid: 'transfer-confirm', text: t('transfer') }),
    h('button', { type: 'button', class: 'btn ghost', text: t('cancel'), onclick: () => toggleForm(c, 'transfer', false) })));
}

function proLabel(p) {
  if (!p.presence) return `${p.name} (${(p.teams || []).map(teamName).join(', ')})`;
  return t('colleagueLabel', { name: p.name, presence: t(`presence_${p.presence}`), active: p.active ?? 0, capacity: p.capacity ?? '?' });
}

/** (Re)builds the form's choices, keeping what the professional already chose. */
export function fillTransferOptions(c) {
  const f = c.el.transferForm;
  f.querySelector('.form-title').textContent = t('transferTitle', { chat: chatTitle(c) });
  const team = f.querySelector('[data-testid="transfer-team"]');
  const chosen = team.value;
  team.replaceChildren(h('option', { value: '', text: t('chooseTeam') }),
    ...transferTeams().map((x) => h('option', { value: x, text: teamName(x) })));
  team.value = transferTeams().includes(chosen) ? chosen : '';
  fillColleagues(c);
}

function fillColleagues(c) {
  const f = c.el.transferForm;
  const team = f.querySelector('[data-testid="transfer-team"]').value;
  const row = f.querySelector('[data-pro]');
  const old = row.querySelector('[data-testid="transfer-professional"]');
  const keep = old ? old.value : '';
  const pid = `tp-${c.uid}`;
  const order = { available: 0, away: 1, offline: 2 };
  const list = colleagues().filter((p) => !team || (p.teams || []).includes(team))
    .sort((a, b) => (order[a.presence] ?? 0) - (order[b.presence] ?? 0) || a.name.localeCompare(b.name));
  const input = S.colleagues || S.pros
    ? h('select', { id: pid, testid: 'transfer-professional', onchange: () => syncTransfer(c, 'pro') },
      h('option', { value: '', text: team ? t('anyoneInTeam') : t('chooseColleague') }),
      list.map((p) => h('option', { value: p.id, 'data-presence': p.presence || '', text: proLabel(p) })))
    : h('input', { id: pid, testid: 'transfer-professional', type: 'text', autocomplete: 'off', placeholder: t('proIdPh') });
  if (old) old.replaceWith(input); else row.append(input);
  input.value = list.some((p) => p.id === keep) || input.tagName === 'INPUT' ? keep : '';
}

/** A chosen colleague brings their team along; another team narrows the colleague list. */
function syncTransfer(c, changed) {
  const f = c.el.transferForm;
  const team = f.querySelector('[data-testid="transfer-team"]');
  const pro = f.querySelector('[data-testid="transfer-professional"]');
  f.querySelector('[data-testid="transfer-error"]').textContent = '';
  team.removeAttribute('aria-invalid');
  const p = colleagues().find((x) => x.id === pro.value);
  if (changed === 'pro' && p && !(p.teams || []).includes(team.value)) { team.value = p.teams[0]; fillColleagues(c); }
  if (changed === 'team') fillColleagues(c);
}

function doTransfer(c) {
  const f = c.el.transferForm;
  const teamSel = f.querySelector('[data-testid="transfer-team"]');
  const team = teamSel.value;
  const pro = f.querySelector('[data-testid="transfer-professional"]').value.trim();
  const note = f.querySelector('[data-testid="transfer-note"]').value.trim();
  if (!team && !pro) {
    f.querySelector('[data-testid="transfer-error"]').textContent = t('chooseTarget');
    teamSel.setAttribute('aria-invalid', 'true');
    return teamSel.focus();
  }
  const frame = { type: 'transfer', conversation: c.id };
  if (team) frame.to_team = team;
  if (pro) frame.to_professional = pro;
  if (note) frame.note = note;
  if (!send(frame, { kind: 'transfer', conversation: c.id })) return showError(`${t('err_transfer')}: ${t('why_offline')}`, c, 'offline', 'transfer');
  toggleForm(c, 'transfer', false);
  f.reset();
  fillTransferOptions(c);
  setNotice(c, t('transferring', { where: pro ? proName(pro) : t('teamX', { team: teamName(team) }) }));
}

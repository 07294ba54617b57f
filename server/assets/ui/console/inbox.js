// The inbox of asynchronous matters (docs/ui.md "Inbox"): non-urgent messages and contact forms
// of my teams, live from the server's `inbox` frames (asked with `subscribe_inbox` on every
// `welcome`), in the server's order (by reply deadline, overdue first), with a filter by
// status; a matter read before taking it (`history`, shown read-only here); `take` (the chat
// tab then opens through `assigned`, like any chat); hiding a thread from one's own view (kept
// in localStorage per professional; a later `inbox_alert` for it brings it back); the team's
// "New message" alert; the archive search and reopening from it. Matters take no live-chat
// place. Above the connection; inbound.js routes the frames here.

import { h } from '../shared/dom.js';
import { alertOf } from './alerts.js';
import { send } from './connection.js';
import { fileCards } from './documents.js';
import { count, has, locale, t } from './i18n.js';
import { showError } from './notices.js';
import { smsSummary } from './smschat.js';
import { $, S, announce, fmtTime, proName, serviceName, teamName, topicName } from './state.js';
import { showView } from './views.js';

const FILTERS = ['all', 'new', 'progress', 'mine'];
const alerted = new Set(); // conversations with a client message nobody here has looked at yet
let filter = 'all';
let showHidden = false;
let thread = null; // { conversation, events } of the matter read in the thread panel
const reopening = new Set(); // archive rows whose Reopen is on its way

const hiddenKey = () => `luukku.console.inbox.hidden.${S.meId || ''}`;
function hiddenSet() {
  try { return new Set(JSON.parse(localStorage.getItem(hiddenKey())) || []); } catch { return new Set(); }
}
function saveHidden(set) {
  try { localStorage.setItem(hiddenKey(), JSON.stringify([...set])); } catch { /* storage off */ }
}
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
const idPart = (s) => String(s).replace(/[^\w-]/g, '_');
const entries = () => [...S.inbox.values()].flatMap((x) => x.entries);
const entryOf = (id) => entries().find((e) => e.conversation === id);
const mine = (e) => e.assigned_to === S.meId || e.reserved_for === S.meId;
/** Take is offered for a New matter (not reserved for a colleague) and to rejoin one of mine. */
const takeable = (e) => (e.status === 'queued' && (!e.reserved_for || e.reserved_for === S.meId)) || (e.status === 'in_progress' && e.assigned_to === S.meId);
const matches = (e) => filter === 'all' || (filter === 'new' && e.status === 'queued')
  || (filter === 'progress' && e.status === 'in_progress') || (filter === 'mine' && mine(e));
const what = (e) => [serviceName(e.service), e.topic ? topicName(e.service, e.topic) : ''].filter(Boolean).join(' · ');

/**
 * "Thu 9 Apr 16:00": the deadline in the organisation's local time, read from the offset the
 * server writes on `due_at` (the browser's own zone when there is none).
 */
export function fmtDeadline(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return '';
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso);
  const opts = m ? { timeZone: 'UTC' } : {};
  const shown = m ? new Date(d.getTime() + (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000) : d;
  const day = new Intl.DateTimeFormat(locale(), { weekday: 'short', day: 'numeric', month: 'short', ...opts }).format(shown);
  const time = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...opts }).format(shown);
  return `${day} ${time}`;
}
/** "5 minutes ago", "2 days ago", in the console's language. */
function since(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!(s >= 0)) return '';
  if (s < 60) return t('ibJustNow');
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (s < 3600) return rtf.format(-Math.floor(s / 60), 'minute');
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), 'hour');
  return rtf.format(-Math.floor(s / 86400), 'day');
}

/** After `welcome`: everyone gets the view switch; the inbox of my teams is asked again. */
export function startInbox() {
  $('view-switch').hidden = false;
  send({ type: 'subscribe_inbox' }, { kind: 'inbox' });
  if (S.view === 'inbox') showView('inbox');
}
export const toggleInbox = () => {
  showView(S.view === 'inbox' ? 'chats' : 'inbox');
  if (S.view === 'inbox') $('inbox').focus();
};

export function wireInbox() {
  $('view-inbox').addEventListener('click', () => showView('inbox'));
  $('ib-filter').replaceChildren(h('legend', { text: t('ibShow') }), ...FILTERS.map((f) => h('label', { class: 'sv-switch' },
    h('input', { type: 'radio', name: 'ib-filter', value: f, testid: `inbox-filter-${f}`, checked: f === filter,
      onchange: () => { filter = f; renderInbox(); } }), ' ', h('span', { class: 'ib-filter-name' }))));
  $('ib-show-hidden').addEventListener('click', () => { showHidden = !showHidden; renderInbox(); });
  $('ib-thread-back').addEventListener('click', closeThread);
  $('ib-thread-take').addEventListener('click', () => thread && take(thread.conversation));
  $('ib-thread-hide').addEventListener('click', () => thread && hide(thread.conversation));
  $('ib-archive-form').addEventListener('submit', (e) => { e.preventDefault(); searchArchive(); });
  $('ib-consult-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('consult-conversation').value.trim();
    const reason = $('consult-reason').value.trim();
    if (id && reason) openThread(id, reason);
  });
  $('inbox-alert-open').addEventListener('click', () => {
    const id = [...alerted].pop();
    showView('inbox');
    if (id && entryOf(id)) openThread(id); else $('inbox').focus();
  });
  $('inbox-alert-dismiss').addEventListener('click', () => { $('inbox-alert').hidden = true; });
  renderInbox();
}

export function onInbox(f) {
  const before = S.inbox.get(f.team);
  S.inbox.set(f.team, { entries: f.entries || [], at: Date.now() });
  if (before) {
    const old = new Map(before.entries.map((e) => [e.conversation, e]));
    const fresh = (f.entries || []).filter((e) => !old.has(e.conversation) && e.status === 'queued');
    const late = (f.entries || []).filter((e) => e.overdue && old.has(e.conversation) && !old.get(e.conversation).overdue);
    if (fresh.length) announce(t('ibNewMatter', { team: teamName(f.team), what: what(fresh[0]) }));
    else if (late.length) announce(t('ibNowOverdue', { what: what(late[0]) }));
  }
  for (const id of alerted) if (!entryOf(id)) alerted.delete(id);
  renderInbox();
  if (thread && entryOf(thread.conversation)) askThread(thread.conversation, thread.reason);
}

/** A client wrote in a matter of my team: alert everyone following it, un-hide it for me. */
export function onInboxAlert(f) {
  alerted.add(f.conversation);
  const hidden = hiddenSet();
  if (hidden.delete(f.conversation)) saveHidden(hidden);
  const e = entryOf(f.conversation);
  const text = t('ibAlert', { what: e ? what(e) : serviceName(f.service), team: teamName(f.team) });
  setText($('inbox-alert-text'), alerted.size > 1 ? `${text} ${count(alerted.size, 'ibAlertCount')}` : text);
  $('inbox-alert').hidden = false;
  alertOf('message', t('ibAlertTitle'), () => showView('inbox'));
  renderInbox();
  if (thread && thread.conversation === f.conversation) askThread(f.conversation, thread.reason);
}

function renderInbox() {
  const hidden = hiddenSet();
  const all = entries();
  const counts = { all: all.length, new: all.filter((e) => e.status === 'queued').length,
    progress: all.filter((e) => e.status === 'in_progress').length, mine: all.filter(mine).length };
  for (const label of $('ib-filter').querySelectorAll('label')) {
    const v = label.querySelector('input').value;
    setText(label.querySelector('.ib-filter-name'), `${t(`ibFilter_${v}`)} (${counts[v]})`);
  }
  const teams = (S.me ? S.me.teams : []).filter((x) => S.inbox.has(x));
  for (const sec of [...$('ib-teams').children]) if (!teams.includes(sec.dataset.team)) sec.remove();
  teams.forEach((team, i) => {
    const sec = teamSection(team);
    if ($('ib-teams').children[i] !== sec) $('ib-teams').insertBefore(sec, $('ib-teams').children[i] || null);
    renderTeam(sec, team, hidden);
  });
  const nHidden = all.filter((e) => hidden.has(e.conversation)).length;
  $('ib-show-hidden').hidden = !nHidden && !showHidden;
  $('ib-show-hidden').setAttribute('aria-pressed', String(showHidden));
  setText($('ib-show-hidden'), t(showHidden ? 'ibHideHidden' : 'ibShowHidden', { n: nHidden }));
  $('ib-loading').hidden = teams.length > 0;
  renderBadge();
  if (thread) renderThreadHead();
}

function teamSection(team) {
  let sec = $('ib-teams').querySelector(`[data-team="${CSS.escape(team)}"]`);
  if (sec) return sec;
  const hid = `ib-h-${idPart(team)}`;
  const heads = ['ibColDeadline', 'ibColService', 'ibColChannel', 'ibColTopic', 'ibColStatus', 'ibColHolder', 'ibColSince', 'ibColActions'];
  sec = h('section', { class: 'ib-team', testid: `inbox-team-${team}`, 'data-team': team, 'aria-labelledby': hid },
    h('h3', { id: hid }, h('span', { class: 'ib-team-name' }), ' ', h('span', { class: 'ib-team-count' })),
    h('table', { class: 'sv-table ib-table', 'aria-labelledby': hid },
      h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col', text: t(x) })))), h('tbody')),
    h('p', { class: 'sv-empty ib-empty', text: t('ibEmpty') }));
  return sec;
}

function renderTeam(sec, team, hidden) {
  const list = S.inbox.get(team).entries.filter((e) => matches(e) && (showHidden || !hidden.has(e.conversation)));
  setText(sec.querySelector('.ib-team-name'), teamName(team));
  setText(sec.querySelector('.ib-team-count'), count(S.inbox.get(team).entries.length, 'ibMatters'));
  const tbody = sec.querySelector('tbody');
  const focused = document.activeElement && tbody.contains(document.activeElement) ? document.activeElement : null;
  const again = focused && [focused.closest('tr').dataset.conversation, focused.dataset.testid];
  tbody.replaceChildren(...list.map((e) => row(e, hidden.has(e.conversation))));
  sec.querySelector('table').hidden = !list.length;
  sec.querySelector('.ib-empty').hidden = list.length > 0;
  if (again) {
    const tr = tbody.querySelector(`tr[data-conversation="${CSS.escape(again[0])}"]`);
    const target = (tr && (tr.querySelector(`[data-testid="${again[1]}"]`) || tr.querySelector('button'))) || tbody.querySelector('button') || $('inbox');
    target.focus();
  }
}

function row(e, isHidden) {
  const rid = `ib-r-${idPart(e.conversation)}`;
  const flag = e.overdue ? h('strong', { class: 'ib-flag overdue', testid: 'inbox-flag', text: `⚠ ${t('ibOverdue')}` })
    : e.due_soon ? h('strong', { class: 'ib-flag soon', testid: 'inbox-flag', text: t('ibDueSoon') }) : null;
  const holder = e.assigned_to ? (e.assigned_to === S.meId ? t('ibYou') : proName(e.assigned_to))
    : e.reserved_for ? t('ibReservedFor', { who: e.reserved_for === S.meId ? t('ibYou') : proName(e.reserved_for) }) : '–';
  const label = `${what(e)}${e.due_at ? `, ${t('ibReplyBy', { when: fmtDeadline(e.due_at) })}` : ''}`;
  const isNew = alerted.has(e.conversation);
  return h('tr', { testid: 'inbox-entry', class: `ib-row${e.overdue ? ' overdue' : e.due_soon ? ' soon' : ''}${isNew ? ' alerted' : ''}`,
    'data-conversation': e.conversation, 'data-status': e.status, 'data-overdue': String(!!e.overdue),
    'data-due-soon': String(!!e.due_soon), 'data-alert': String(isNew), 'data-hidden': String(isHidden) },
  h('th', { scope: 'row', class: 'ib-deadline', testid: 'inbox-deadline' },
    h('span', { id: rid, text: e.due_at ? t('ibReplyBy', { when: fmtDeadline(e.due_at) }) : t('ibAnswered') }), flag ? ' ' : '', flag),
  h('td', { testid: 'inbox-service', text: serviceName(e.service) }),
  h('td', { testid: 'inbox-channel', text: has(`channel_${e.channel}`) ? t(`channel_${e.channel}`) : e.channel || '' }),
  h('td', { testid: 'inbox-topic', text: e.topic ? topicName(e.service, e.topic) : '–' }),
  h('td', { testid: 'inbox-status' }, h('span', { class: `ib-status ${e.status}`, text: t(`ibStatus_${e.status}`) }),
    isNew && h('strong', { class: 'ib-new', testid: 'inbox-new-message', text: ` ● ${t('ibNewMessage')}` }),
    isHidden && h('span', { class: 'ib-hidden-tag', text: ` (${t('ibHiddenTag')})` })),
  h('td', { testid: 'inbox-holder', text: holder }),
  h('td', { class: 'ib-since', testid: 'inbox-since', 'data-at': e.contact_at, text: since(e.contact_at) }),
  h('td', null, h('div', { class: 'ib-actions' },
    h('button', { type: 'button', class: 'btn small', testid: 'inbox-open', text: t('ibOpen'), 'aria-label': t('ibOpenLabel', { what: label }),
      onclick: () => openThread(e.conversation) }),
    takeable(e) && h('button', { type: 'button', class: 'btn small primary', testid: 'inbox-take',
      text: t(e.status === 'queued' ? 'ibTake' : 'ibContinue'), 'aria-label': `${t(e.status === 'queued' ? 'ibTake' : 'ibContinue')}: ${label}`,
      onclick: () => take(e.conversation) }),
    isHidden
      ? h('button', { type: 'button', class: 'btn small ghost', testid: 'inbox-unhide', text: t('ibUnhide'), 'aria-label': `${t('ibUnhide')}: ${label}`, onclick: () => unhide(e.conversation) })
      : h('button', { type: 'button', class: 'btn small ghost', testid: 'inbox-hide', text: t('ibHide'), 'aria-label': `${t('ibHide')}: ${label}`, onclick: () => hide(e.conversation) }))));
}

/** The switch's badge: how many matters have a client message nobody here has opened. */
function renderBadge() {
  const n = alerted.size;
  const badge = $('view-inbox-count');
  badge.hidden = !n;
  setText(badge.querySelector('[aria-hidden]'), String(n));
  setText(badge.querySelector('.sr-only'), n ? `, ${count(n, 'ibAlertCount')}` : '');
}

export function take(conversation) {
  if (!send({ type: 'take', conversation }, { kind: 'take', conversation })) {
    showError(`${t('err_take')}: ${t('why_offline')}`, null, 'offline', 'take');
  }
}
/** `assigned` answered a take: the matter is mine and open as a chat; its alert is seen. */
export function taken(conversation) {
  alerted.delete(conversation);
  if (thread && thread.conversation === conversation) closeThread(false);
  if (reopening.delete(conversation)) {
    const tr = $('ib-archive-body').querySelector(`tr[data-conversation="${CSS.escape(conversation)}"]`);
    if (tr) tr.remove();
  }
  renderInbox();
  if (!alerted.size) $('inbox-alert').hidden = true;
}

function hide(conversation) {
  const set = hiddenSet();
  set.add(conversation);
  saveHidden(set);
  if (thread && thread.conversation === conversation) closeThread(false);
  renderInbox();
  announce(t('ibHidden'));
}
function unhide(conversation) {
  const set = hiddenSet();
  set.delete(conversation);
  saveHidden(set);
  renderInbox();
  announce(t('ibUnhidden'));
}

// The thread panel: a matter read before (or without) taking it.
function askThread(conversation, reason) {
  send({ type: 'history', conversation, limit: 200, ...(reason ? { reason } : {}) }, { kind: 'inbox_history', conversation });
}
/** The thread panel for `conversation`; `reason`: why a professional of another team reads it. */
function openThread(conversation, reason) {
  thread = { conversation, events: null, reason };
  alerted.delete(conversation);
  if (!alerted.size) $('inbox-alert').hidden = true;
  $('ib-thread').hidden = false;
  $('ib-thread-list').replaceChildren(h('li', { class: 'muted', text: t('ibLoading') }));
  renderInbox();
  askThread(conversation, reason);
  $('ib-thread-h').focus();
}
function closeThread(focus = true) {
  const id = thread && thread.conversation;
  thread = null;
  $('ib-thread').hidden = true;
  if (!focus) return;
  const btn = id && $('ib-teams').querySelector(`tr[data-conversation="${CSS.escape(id)}"] [data-testid="inbox-open"]`);
  (btn || $('inbox')).focus();
}
function renderThreadHead() {
  const e = entryOf(thread.conversation);
  setText($('ib-thread-h'), e ? `${what(e)} – ${t(`ibStatus_${e.status}`)}` : t('ibThread'));
  $('ib-thread-take').hidden = !(e && takeable(e));
  if (e) setText($('ib-thread-take'), t(e.status === 'queued' ? 'ibTake' : 'ibContinue'));
  $('ib-thread').dataset.conversation = thread.conversation;
}
/** `history` asked for the thread panel: the client's and the organisation's messages. */
export function onInboxHistory(f) {
  if (!thread || thread.conversation !== f.conversation) return;
  thread.events = f.events || [];
  renderThreadHead();
  const items = thread.events.filter((e) => e.type === 'message' || e.type === 'note' || (e.type === 'system' && has(`ibEv_${e.event}`)));
  $('ib-thread-list').replaceChildren(...(items.length ? items.map(threadItem) : [h('li', { class: 'muted', text: t('ibNoMessages') })]));
}
function threadItem(e) {
  if (e.type === 'system') {
    const d = e.detail || {};
    return h('li', { class: 'ib-msg system', testid: 'inbox-thread-message', 'data-role': 'system' },
      `${fmtTime(e.at)} – ${t(`ibEv_${e.event}`, { who: d.name || (d.professional ? proName(d.professional) : '') })}`);
  }
  const from = e.from || {};
  const client = from.role === 'client';
  const who = client ? t('ibFromClient', { name: from.name || t('ibClient') }) : t(e.type === 'note' ? 'ibFromNote' : 'ibFromOrg', { name: from.name || '' });
  return h('li', { class: `ib-msg ${client ? 'client' : e.type === 'note' ? 'note' : 'org'}`, testid: 'inbox-thread-message', 'data-role': client ? 'client' : 'professional', 'data-kind': e.type },
    h('p', { class: 'ib-msg-who' }, h('strong', { text: who }), ` · ${new Date(e.at).toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' })}`,
      e.sms ? ' · ' : '', smsSummary(e, thread.events)),
    (e.body || !(e.attachments || []).length) && h('p', { class: 'ib-msg-body', text: e.body }), fileCards(e.attachments));
}

// The archive: complete matters of my teams, searched by reference or words.
function searchArchive() {
  const query = $('archive-query').value.trim();
  if (!send({ type: 'archive', ...(query ? { query } : {}), limit: 50 }, { kind: 'archive' })) {
    return showError(`${t('err_archive')}: ${t('why_offline')}`, null, 'offline', 'archive');
  }
  setText($('archive-status'), t('ibSearching'));
}
export function onArchive(f) {
  const list = f.entries || [];
  setText($('archive-status'), list.length ? count(list.length, 'ibFound') : t('ibNothingFound'));
  $('ib-archive-table').hidden = !list.length;
  $('ib-archive-body').replaceChildren(...list.map((e) => h('tr', { testid: 'archive-entry', 'data-conversation': e.conversation },
    h('th', { scope: 'row', testid: 'archive-reference', text: e.reference }),
    h('td', { text: what(e) }),
    h('td', { text: has(`channel_${e.channel}`) ? t(`channel_${e.channel}`) : e.channel }),
    h('td', { testid: 'archive-summary', text: e.summary || '–' }),
    h('td', { testid: 'archive-closed-by', text: e.closed_by ? proName(e.closed_by) : '–' }),
    h('td', { text: new Date(e.contact_at).toLocaleDateString(locale()) }),
    h('td', null, h('button', { type: 'button', class: 'btn small', testid: 'archive-reopen', text: t('reopen'),
      'aria-label': t('ibReopenLabel', { ref: e.reference }), onclick: () => reopenMatter(e.conversation) })))));
}
function reopenMatter(conversation) {
  if (!send({ type: 'reopen', conversation }, { kind: 'reopen', conversation })) {
    return showError(`${t('err_reopen')}: ${t('why_offline')}`, null, 'offline', 'reopen');
  }
  reopening.add(conversation);
}
/** An inbox request failed: undo what waited on it. */
export function inboxFailed(ctx) {
  if (ctx.kind === 'archive') setText($('archive-status'), '');
  if (ctx.kind === 'reopen') reopening.delete(ctx.conversation);
}

/** Once a second: the times since contact stay current. */
export function tickInbox() {
  if (S.view !== 'inbox') return;
  for (const el of $('ib-teams').querySelectorAll('.ib-since')) setText(el, since(el.dataset.at));
}

// The tab strip: one tab per chat in letter order, the "Closed (n)" group, unread badges and the
// page title's count, each client's waiting time, and selecting a chat (its tab and pane). Below
// the composer and the chat panes, which call it; it draws only what the tabs show.

import { h } from '../shared/dom.js';
import { count, t } from './i18n.js';
import { markRead, scrollBottom } from './log.js';
import { leavingPane, renderQueuedWarnings, renderSmsTab } from './smschat.js';
import { $, S, clientName, fmtWait, letterOrder, saveStore } from './state.js';

export function renderTab(c) {
  const el = c.el;
  el.tabName.textContent = clientName(c);
  el.unread.textContent = String(c.unread);
  el.unread.hidden = c.unread === 0;
  el.unread.setAttribute('aria-label', count(c.unread, 'unread'));
  const state = c.status === 'closed' ? 'tabClosed' : c.status === 'released' ? 'tabTransferred'
    : c.clientLeft ? 'tabLeft' : c.alert && !c.unread ? 'tabNew' : '';
  el.tabState.textContent = state ? ` ${t(state)}` : '';
  renderSmsTab(c);
  el.tab.classList.toggle('alert', c.alert || c.unread > 0);
  el.tab.dataset.status = c.status;
  el.pane.dataset.status = c.status;
  placeTab(c);
  updateTitle();
}
/**
 * Live chats' tabs stay in the strip in letter order; a closed or transferred chat's tab moves
 * to the "Closed (n)" group once it is no longer the selected one, so live chats keep the room.
 */
export function placeTab(c) {
  const live = c.status === 'open' || c.id === S.activeId;
  const strip = $(live ? 'tabs' : 'tabs-closed');
  const after = [...strip.children].find((t) => t !== c.el.tab && letterOrder(t.dataset.letter) > letterOrder(c.letter));
  if (c.el.tab.parentElement !== strip || (after || null) !== c.el.tab.nextElementSibling) {
    const hadFocus = document.activeElement === c.el.tab;
    strip.insertBefore(c.el.tab, after || null);
    if (hadFocus) c.el.tab.focus();
  }
  renderClosedGroup();
}
export function placeTabs() {
  for (const c of S.chats.values()) placeTab(c);
  renderClosedGroup();
}
function renderClosedGroup() {
  const n = $('tabs-closed').children.length;
  const toggle = $('closed-toggle');
  toggle.hidden = n === 0;
  toggle.textContent = `${S.closedOpen ? '▾' : '▸'} ${t('closedGroup', { n })}`;
  toggle.setAttribute('aria-expanded', String(S.closedOpen));
  $('tabs-closed').hidden = !S.closedOpen || n === 0;
}

/**
 * Since when the client has been waiting for the professional's answer: the time of their
 * first message after the professional's last one (null when answered, or not an open chat).
 */
export function waitingSince(c) {
  if (c.status !== 'open') return null;
  if ([...c.pending.values()].some((p) => p.kind === 'message')) return null;
  let since = null;
  for (const seq of [...c.events.keys()].sort((a, b) => b - a)) {
    const e = c.events.get(seq);
    if (e.type !== 'message') continue;
    if (e.from && e.from.role === 'professional') break;
    since = e.at;
  }
  return since ? Date.parse(since) : null;
}

/** Once a second: each tab shows how long its client has waited for an answer; longest marked. */
export function renderWaits() {
  const now = Date.now();
  const waits = [...S.chats.values()].map((c) => [c, waitingSince(c)]);
  const longest = waits.filter(([, s]) => s).sort((a, b) => a[1] - b[1])[0];
  for (const [c, since] of waits) {
    const el = c.el.wait;
    el.hidden = !since;
    c.el.tab.classList.toggle('longest-wait', !!longest && longest[0] === c);
    if (!since) { delete c.el.tab.dataset.waitS; continue; }
    const s = Math.max(0, Math.round((now - since) / 1000));
    c.el.tab.dataset.waitS = String(s);
    el.replaceChildren(h('span', { class: 'sr-only', text: `, ${t('waitingSr')} ` }), fmtWait(s));
    el.title = t('waitingTitle', { time: fmtWait(s) });
  }
}

export function updateEmpty() {
  $('empty').hidden = S.chats.size > 0;
}
export function updateTitle() {
  const n = [...S.chats.values()].reduce((a, c) => a + c.unread, 0);
  document.title = `${n ? `(${n}) ` : ''}${t('pageTitle')}`;
}
export function select(id) {
  if (S.activeId !== id) leavingPane(S.chats.get(S.activeId)); // an SMS of mine still queued there is said
  S.activeId = id;
  for (const c of S.chats.values()) {
    const on = c.id === id;
    c.el.tab.setAttribute('aria-selected', String(on));
    c.el.tab.tabIndex = on ? 0 : -1;
    c.el.pane.hidden = !on;
  }
  placeTabs();
  const c = S.chats.get(id);
  if (c) {
    c.el.tab.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    clearUnread(c);
    if (c.stickBottom !== false) scrollBottom(c);
    markRead(c);
  }
  renderQueuedWarnings();
  saveStore();
}
export function onTabKey(e) {
  const tabs = [...e.currentTarget.querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  const t = tabs[(next + tabs.length) % tabs.length];
  t.focus();
  select(t.dataset.conversation);
}
export function clearUnread(c) {
  c.unread = 0;
  c.alert = false;
  renderTab(c);
}

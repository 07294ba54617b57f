// The panel's small indicators, kept apart from the full redraw because messages, frames and
// sends update them on their own: the launcher's unread badge and the page title, the notice
// line (a passing error), the connection line, and whether the focus is in the panel.

import { h } from '../shared/dom.js';
import { t, tn } from './strings.js';
import { store, rt, active } from './state.js';
import { shadow, panel, badge, connEl, noticeEl } from './view.js';
import { client } from './connection.js';

export function notice(text) {
  clearTimeout(rt.noticeTimer);
  noticeEl.textContent = text;
  rt.noticeTimer = setTimeout(() => { noticeEl.textContent = ''; }, 10000);
}
export function renderConn() {
  const down = active() && !client.welcomed && !rt.identifying && (client.attempt > 0 || client.everWelcomed);
  connEl.textContent = down ? t('reconnecting') : '';
}
export function renderBadge() {
  badge.hidden = rt.unread === 0 || store.open;
  badge.textContent = '';
  badge.append(h('span', { 'aria-hidden': 'true', text: String(rt.unread) }), h('span', { class: 'vh', text: tn('newCount', rt.unread) }));
  renderTitle();
}
/**
 * The page title counts the professional's unread messages ("(2) …") while the panel is
 * closed or the tab hidden, and is the page's own again once they are seen. A title the host
 * page sets meanwhile becomes the one restored.
 */
function renderTitle() {
  const mine = /^\(\d+\) /;
  if (rt.title === null || !mine.test(document.title)) rt.title = document.title;
  const want = rt.unread > 0 ? '(' + rt.unread + ') ' + rt.title : rt.title;
  if (document.title !== want) document.title = want;
  if (rt.unread === 0) rt.title = null;
}
export function panelHasFocus() {
  const a = shadow.activeElement;
  return !!a && panel.contains(a);
}

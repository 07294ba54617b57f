// My conversations (identified clients): every conversation of theirs from any device — live
// chats, non-urgent messages, contact forms — listed newest first with the service, status,
// "we reply by …" and unread count (the `conversations` frame), and one opened (`open` with
// its resume_token: its events replay into the log and the patient can write in it).

import { h } from '../shared/dom.js';
import { t, tn } from './strings.js';
import { store, save, resetStore, rt } from './state.js';
import { mineBtn, mineView, mineHead, mineStatus, mineList, mineBack, titleEl, composer, footer } from './view.js';
import { client, send } from './connection.js';
import { render } from './render.js';
import { notice } from './indicators.js';
import { fmtTime } from './messages.js';
import { fmtDue, replyByText } from './due.js';
import { findService, loadServices, resetChat } from './start.js';

export function wireMine() {
  mineBtn.addEventListener('click', showMine);
  mineBack.addEventListener('click', hideMine);
}

/** Opens the list and asks the server for it (again: another device may have added one). */
export function showMine() {
  rt.view = 'mine';
  rt.convsState = 'loading';
  requestList();
  loadServices();
  render();
  renderMine();
  mineHead.focus();
}
export function hideMine() {
  rt.view = 'main';
  render();
  if (!footer.hidden && !composer.disabled) composer.focus(); else titleEl.focus();
}

/** Sends `conversations` now, or once the connection is back (the welcome asks again). */
export function requestList() {
  rt.convsWanted = false;
  if (send({ type: 'conversations', limit: 50 }, 'conversations')) return;
  rt.convsWanted = true;
  if (!client.ws) client.retryNow();
}

export function onConversations(f) {
  const list = (Array.isArray(f.conversations) ? f.conversations : []).filter((c) => c && typeof c.conversation === 'string');
  list.sort((a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
  rt.convs = list;
  rt.convsState = 'ok';
  renderMine();
}
export function onConversationsFailed() {
  rt.convsState = 'failed';
  renderMine();
}

const STATUS = { queued: 'stQueued', in_progress: 'stInProgress', complete: 'stComplete' };

/** Draws the list (only while it is shown); called when it comes and on every redraw. */
export function renderMine() {
  mineView.hidden = rt.view !== 'mine';
  mineBtn.hidden = !store.identity || rt.view === 'mine';
  if (rt.view !== 'mine') return;
  const text = rt.convsState === 'loading' ? t('myConvsLoading')
    : rt.convsState === 'failed' ? t('myConvsFailed')
      : rt.convsState === 'ok' && rt.convs.length === 0 ? t('myConvsEmpty') : '';
  if (mineStatus.textContent !== text) mineStatus.textContent = text;
  if (rt.convsState !== 'ok') { mineList.textContent = ''; return; }
  const had = mineList.contains(mineList.getRootNode().activeElement) ? mineList.getRootNode().activeElement.getAttribute('data-conversation') : null;
  mineList.textContent = '';
  rt.convs.forEach((c) => {
    const svc = findService(c.service);
    const lines = [h('span', { class: 'svc', 'data-testid': 'conv-service', text: (svc && svc.name) || c.service || '' })];
    const st = h('span', { 'data-testid': 'conv-status', 'data-status': c.status || '', text: t(STATUS[c.status] || 'stQueued') });
    lines.push(h('span', { class: 'line' }, st, c.reference ? ' · ' + c.reference : '',
      c.unread > 0 ? h('span', { class: 'unread', 'data-testid': 'conv-unread', text: tn('unreadCount', c.unread) }) : null));
    if (c.due_at && c.status !== 'complete' && fmtDue(c.due_at)) {
      lines.push(h('span', { class: 'line', 'data-testid': 'conv-due', text: replyByText(c.due_at) }));
    }
    if (c.updated_at) lines.push(h('span', { class: 'line', text: t('lastActivity', { when: fmtTime(c.updated_at) }) }));
    const btn = h('button', { type: 'button', class: 'conv', 'data-testid': 'conversation-item', 'data-conversation': c.conversation, 'data-unread': String(c.unread || 0) }, lines);
    btn.addEventListener('click', () => openConversation(c));
    mineList.append(h('li', {}, btn));
    if (had === c.conversation) btn.focus();
  });
}

/**
 * Opens one: it becomes the widget's conversation (kept for a reload like a started one), its
 * events replay from the start into the log, and the composer writes in it while it is open.
 */
export function openConversation(c) {
  rt.view = 'main';
  if (c.conversation !== store.conversation) {
    resetStore({
      token: store.token, identity: store.identity, open: store.open, service: c.service,
      conversation: c.conversation, resume_token: c.resume_token, status: c.status || 'queued',
      channel: c.channel || 'chat', due_at: c.status !== 'complete' ? c.due_at || null : null,
    });
    save();
    resetChat();
    rt.liveFrom = typeof c.last_seq === 'number' ? c.last_seq : 0;
    rt.closedReady = c.status === 'complete';
    if (!send({ type: 'open', conversation: c.conversation, resume_token: c.resume_token, after_seq: 0 }, 'open')) {
      client.reconnect('open'); // the hello resumes the stored conversation instead
    }
  }
  render();
  if (!footer.hidden && !composer.disabled) composer.focus(); else titleEl.focus();
}

/** `open` refused (a stale token): back to the list with a note. */
export function onOpenFailed() {
  notice(t('errOpen'));
  showMine();
}

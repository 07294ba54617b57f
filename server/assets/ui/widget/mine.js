// My conversations: an identified client's every conversation from any device — live chats,
// non-urgent messages, contact forms — listed newest first with the service, status, "we reply
// by …" and unread count (the `conversations` frame); below them the matters sent from this
// browser without identifying (device.js: "On this device", also for anonymous visitors), each
// with a way to forget it here. Choosing one opens it (`open` with its resume_token: its events
// replay into the log and the client can write in it).

import { h } from '../shared/dom.js';
import { t, tn } from './strings.js';
import { store, save, resetStore, rt } from './state.js';
import { deviceMatters, forgetMatter } from './device.js';
import {
  mineBtn, mineView, mineHead, mineStatus, mineList, mineBack, titleEl, composer, footer,
  deviceSection, deviceList,
} from './view.js';
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
  rt.mineNote = '';
  rt.forgetAsk = null;
  // The server lists an identified client's own, and the matters this device holds tokens of.
  if (store.identity || deviceMatters().length) {
    rt.convsState = 'loading';
    requestList();
  }
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
  const held = deviceMatters().map((m) => ({ conversation: m.conversation, resume_token: m.resume_token }));
  const frame = { type: 'conversations', limit: 50 };
  if (held.length) frame.held = held;
  if (send(frame, 'conversations')) return;
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

/** Draws the lists (only while they are shown); called when one comes and on every redraw. */
export function renderMine() {
  mineView.hidden = rt.view !== 'mine';
  const kept = deviceMatters();
  mineBtn.hidden = (!store.identity && kept.length === 0) || rt.view === 'mine';
  if (rt.view !== 'mine') return;
  const root = mineList.getRootNode();
  const a = root.activeElement;
  const had = a && mineView.contains(a) ? [a.getAttribute('data-testid'), a.getAttribute('data-conversation')] : null;
  const known = rt.convsState === 'ok' ? rt.convs : [];
  // The server's list holds this device's matters too: they are shown once, here below with
  // Forget, each with what the server says of it (status, unread, "we reply by").
  const listed = store.identity ? known.filter((c) => !kept.some((m) => m.conversation === c.conversation)) : [];
  const here = kept.map((m) => ({ ...m, info: known.find((c) => c.conversation === m.conversation) }));
  const asks = store.identity || kept.length > 0;
  const text = rt.mineNote || (asks && rt.convsState === 'loading' ? t('myConvsLoading')
    : asks && rt.convsState === 'failed' ? t('myConvsFailed')
      : listed.length === 0 && here.length === 0 && (rt.convsState === 'ok' || !asks) ? t('myConvsEmpty') : '');
  if (mineStatus.textContent !== text) mineStatus.textContent = text;
  mineList.textContent = '';
  mineList.hidden = listed.length === 0;
  listed.forEach((c) => mineList.append(h('li', {}, listedItem(c))));
  deviceList.textContent = '';
  deviceSection.hidden = here.length === 0;
  here.forEach((m) => deviceList.append(deviceItem(m)));
  if (!had) return;
  const back = [...mineView.querySelectorAll('[data-testid="' + had[0] + '"]')]
    .filter((el) => el.getAttribute('data-conversation') === had[1])[0];
  if (back) back.focus();
}

/** One of the server's list: a button that opens it. */
function listedItem(c) {
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
  return btn;
}

/**
 * One matter of this device: a button that opens it with the kept resume token, and Forget
 * (asked first, in place: the matter cannot be opened here again).
 */
function deviceItem(m) {
  const svc = findService(m.service);
  const ref = m.reference || (svc && svc.name) || '';
  const info = m.info;
  const open = h('button', { type: 'button', class: 'conv', 'data-testid': 'device-item', 'data-conversation': m.conversation, 'data-unread': String((info && info.unread) || 0) },
    h('span', { class: 'svc', 'data-testid': 'conv-service', text: (svc && svc.name) || m.service || '' }),
    h('span', { class: 'line' }, m.reference ? h('span', { 'data-testid': 'conv-reference', text: m.reference }) : null,
      m.reference && m.sent_at ? ' · ' : '', m.sent_at ? t('deviceSent', { when: fmtTime(m.sent_at) }) : ''),
    info ? h('span', { class: 'line' },
      h('span', { 'data-testid': 'conv-status', 'data-status': info.status || '', text: t(STATUS[info.status] || 'stQueued') }),
      info.unread > 0 ? h('span', { class: 'unread', 'data-testid': 'conv-unread', text: tn('unreadCount', info.unread) }) : null) : null,
    info && info.due_at && info.status !== 'complete' && fmtDue(info.due_at)
      ? h('span', { class: 'line', 'data-testid': 'conv-due', text: replyByText(info.due_at) }) : null);
  open.addEventListener('click', () => openConversation({
    conversation: m.conversation, resume_token: m.resume_token, service: m.service, channel: (svc && svc.channel) || 'form',
  }));
  if (rt.forgetAsk !== m.conversation) {
    const forget = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'device-forget', 'data-conversation': m.conversation,
      'aria-label': t('deviceForgetName', { ref: ref }), text: t('deviceForget') });
    forget.addEventListener('click', () => askForget(m));
    return h('li', { class: 'device-row' }, open, forget);
  }
  const qid = 'lk-forget-' + m.conversation;
  const yes = h('button', { type: 'button', class: 'btn btn-danger btn-small', 'data-testid': 'device-forget-confirm', 'data-conversation': m.conversation, text: t('deviceForgetYes') });
  const no = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'device-forget-cancel', 'data-conversation': m.conversation, text: t('deviceForgetNo') });
  yes.addEventListener('click', () => confirmForget(m, ref));
  no.addEventListener('click', () => cancelForget(m));
  return h('li', { class: 'device-row' }, open,
    h('div', { class: 'leavebox', role: 'group', 'aria-labelledby': qid },
      h('p', { id: qid, class: 'leave-q', tabindex: '-1', 'data-testid': 'device-forget-ask', 'data-conversation': m.conversation, text: t('deviceForgetAsk', { ref: ref }) }),
      h('div', { class: 'row' }, yes, no)));
}

function askForget(m) {
  rt.forgetAsk = m.conversation;
  rt.mineNote = '';
  renderMine();
  const q = mineView.querySelector('.leave-q');
  if (q) q.focus();
}
function cancelForget(m) {
  rt.forgetAsk = null;
  renderMine();
  focusDevice('device-forget', m.conversation);
}
/** Forgets it here; the widget lets go of it too when it is the one open. */
function confirmForget(m, ref) {
  const next = deviceMatters().map((x) => x.conversation);
  const after = next[next.indexOf(m.conversation) + 1] || next[next.indexOf(m.conversation) - 1];
  forgetMatter(m.conversation);
  rt.forgetAsk = null;
  rt.mineNote = t('deviceForgotten', { ref: ref });
  if (store.conversation === m.conversation) {
    resetStore({ token: store.token, identity: store.identity, open: store.open, service: store.service });
    save();
    resetChat();
  }
  render();
  if (!focusDevice('device-item', after)) mineHead.focus();
}
function focusDevice(testid, conversation) {
  const el = [...deviceList.querySelectorAll('[data-testid="' + testid + '"]')].filter((x) => x.getAttribute('data-conversation') === conversation)[0];
  if (el) el.focus();
  return !!el;
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

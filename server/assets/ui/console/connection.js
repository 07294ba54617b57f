// The console's connection to /ws/console (the protocol client shared with the widget): hello
// with the chats to resume, the dispatch of every frame to its handler, and errors shown in the
// sidebar and in the chat they concern.

import { Client } from '../shared/client.js';
import { askCanned, onCanned } from './canned.js';
import { retractFailed } from './corrections.js';
import { has, t } from './i18n.js';
import { releaseFailed } from './leaving.js';
import { askColleagues, onColleagues } from './transfer.js';
import { h } from '../shared/dom.js';
import {
  ensureChat, onAssigned, onReleased, release, select, setChatStatus, setNotice
} from './chats.js';
import { failPending, onAck, onRead, onTyping, restorePending } from './composer.js';
import { loadHistory, onEvent, onHistory, renderOlder } from './events.js';
import { logout } from './main.js';
import { onQueue, onStatus, renderQueues, renderStatus } from './queues.js';
import { $, S, chatTitle, saveStore } from './state.js';

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/console`;

export const client = new Client({
  url: wsUrl(),
  hello: () => ({ type: 'hello', token: S.token, resume: resumeList() }),
  onFrame: dispatch,
  onClose: (code) => {
    S.chats.forEach((c) => { c.loading = false; c.typingOut = false; });
    if (code === 4401 || code === 4403) {
      logout(t('loginInvalid'));
      return false;
    }
    showOffline(true);
    return true;
  },
  shouldReconnect: () => !!S.token,
});
export const connect = () => client.connect();
export function showOffline(on) {
  $('offline').hidden = !on;
  document.body.classList.toggle('is-offline', on);
}
export function resumeList() {
  const known = new Map(Object.entries(S.stored.last_seq || {}));
  for (const c of S.chats.values()) if (c.status === 'open') known.set(c.id, Math.max(c.maxSeq, known.get(c.id) || 0));
  return [...known].filter(([, seq]) => seq > 0).map(([conversation, after_seq]) => ({ conversation, after_seq }));
}

/** Sends a frame with a fresh `req`; `ctx` is remembered to explain a later error. */
export function send(frame, ctx) {
  return client.send(frame, ctx);
}
const handlers = {
  welcome: onWelcome, status: onStatus, queue_snapshot: onQueue, assigned: onAssigned,
  released: onReleased, ack: onAck, message: onEvent, note: onEvent, system: onEvent,
  history: onHistory, typing: onTyping, read: onRead, error: onError, colleagues: onColleagues, canned: onCanned,
};
function dispatch(f, ctx) {
  const fn = handlers[f.type];
  if (fn) fn(f, ctx);
  if (ctx && ctx.kind !== 'history' && f.type !== 'error') clearStaleErrors(ctx);
}
export function onWelcome(f) {
  showOffline(false);
  S.me = f.professional;
  S.meId = f.professional.id;
  S.capacity = f.capacity;
  S.retractWindow = Number(f.retract_window_s) || 0;
  $('me').textContent = S.me.name;
  const listed = new Set();
  for (const s of f.conversations || []) {
    listed.add(s.conversation);
    const c = ensureChat(s.conversation, s);
    setChatStatus(c, s.status === 'complete' ? 'closed' : 'open');
    if (!c.loaded) loadHistory(c, s.last_seq + 1);
  }
  for (const c of S.chats.values()) if (c.status === 'open' && !listed.has(c.id)) release(c, 'requeued');
  restorePending();
  for (const c of S.chats.values()) c.pending.resend();
  S.stored.last_seq = {};
  S.stored.pending = {};
  send({ type: 'subscribe_queue', teams: S.me.teams });
  askColleagues();
  askCanned();
  send({ type: 'status', ...(S.chosenAvailability ? { availability: S.chosenAvailability } : {}) }, { kind: 'status' });
  renderQueues();
  if (!S.activeId || !S.chats.has(S.activeId)) {
    const want = S.stored.active && S.chats.has(S.stored.active) ? S.stored.active : [...S.chats.keys()][0];
    if (want) select(want);
  }
  renderStatus();
  saveStore();
}
export function onError(f, ctx) {
  ctx = ctx || {};
  const c = S.chats.get(f.conversation || ctx.conversation);
  if (ctx.kind === 'history' && c) {
    c.loading = false;
    if (f.code !== 'internal') c.historyDone = true;
    return renderOlder(c);
  }
  if ((ctx.kind === 'message' || ctx.kind === 'note') && c) {
    const p = c.pending.get(ctx.cmid);
    if (p && (f.code === 'internal' || f.code === 'rate_limited')) {
      return setTimeout(() => p.state === 'sending' && c.pending.has(p.id) && c.pending.transmit(p), 2000);
    }
    if (p) failPending(c, p, errorText(f, ctx));
  }
  if (ctx.kind === 'status') renderStatus();
  if (ctx.kind === 'retract' && c) retractFailed(c, ctx.seq);
  if (ctx.kind === 'release') releaseFailed(ctx.conversation);
  if (ctx.kind === 'canned' && $('canned-dialog').open) return void ($('canned-error').textContent = errorText(f, ctx));
  showError(errorText(f, ctx), c, f.code, ctx.kind);
}
export function errorText(f, ctx) {
  const what = t(has(`err_${ctx.kind}`) ? `err_${ctx.kind}` : 'err_other');
  const key = f.code === 'not_found' && (ctx.kind === 'accept' || ctx.kind === 'reopen') ? `why_not_found_${ctx.kind}` : `why_${f.code}`;
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
const ERROR_SHOWN_MS = 20000;
const CAPACITY_KINDS = ['accept', 'status'];

/**
 * An error is stale once the same kind of thing succeeds: taking a chat or changing one's
 * status clears the capacity and accept errors; any success in a chat clears that chat's.
 */
function clearStaleErrors(ctx) {
  const capacity = CAPACITY_KINDS.includes(ctx.kind);
  for (const item of [...$('errors').children]) {
    const sameChat = ctx.conversation && item.dataset.conversation === ctx.conversation;
    if (sameChat || (capacity && CAPACITY_KINDS.includes(item.dataset.kind))) item.remove();
  }
  const c = ctx.conversation && S.chats.get(ctx.conversation);
  if (c && c.el.notice && c.el.notice.classList.contains('error')) setNotice(c, '');
}

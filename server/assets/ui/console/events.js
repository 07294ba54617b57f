// Incoming events of a chat: history pages and live events, stored and de-duplicated by seq and
// drawn into its log (log.js); live ones may raise unread counts and alerts, and some change the
// chat (identified, retracted, transferred, closed, the client left). Above the chats module,
// whose status it changes; nothing below imports it.

import { alertOf } from './alerts.js';
import { releaseText, renderHeader, renderTransferCard, setChatStatus } from './chats.js';
import { confirmPending, showClientTyping } from './composer.js';
import { onRetracted } from './corrections.js';
import { t } from './i18n.js';
import { insertSorted, isAtBottom, loadHistory, markRead, renderEvent, renderOlder, scrollBottom } from './log.js';
import { setNotice } from './notices.js';
import { noteSmsMessage, onSmsEvent, renderSms } from './smschat.js';
import { S, announce, chatTitle, saveStore } from './state.js';
import { send } from './connection.js';
import { renderTab, renderWaits, select } from './tabs.js';

export function onHistory(f, ctx) {
  const c = S.chats.get(f.conversation);
  if (!c) return;
  const events = f.events || [];
  const wasMin = c.minSeq;
  const sc = c.el.scroll, fromBottom = sc.scrollHeight - sc.scrollTop;
  const older = events.length && events[events.length - 1].seq < wasMin && c.loaded;
  events.forEach((e) => addEvent(c, e, false));
  if (ctx && ctx.gap) return;
  c.loading = false;
  if (events.length === 0 || c.minSeq <= 1) c.historyDone = true;
  if (older) sc.scrollTop = sc.scrollHeight - fromBottom;
  else if (!c.loaded || c.stickBottom !== false) scrollBottom(c);
  c.loaded = true;
  renderOlder(c);
  if (c.status === 'released') setNotice(c, releaseText(c));
  markRead(c);
  saveStore();
}
export function onEvent(f) {
  const c = S.chats.get(f.conversation);
  if (c) addEvent(c, f, true);
}

/** Adds one stored event, de-duplicated by seq; `live` events may raise unread and alerts. */
/** When to look again whether a closed chat reached the patient record (ms after the close). */
const RECORD_LOOKS = [2000, 6000, 20000, 60000];

/**
 * A closed chat of a strongly identified client goes to the patient record after the close,
 * when the nurse no longer follows it live: ask for its latest events a few times, so that
 * "Saved to the patient record" (or why not) appears under it while it is still shown.
 */
function watchRecord(c) {
  const client = c.info && c.info.client;
  if (!client || !client.identity_code) return;
  for (const ms of RECORD_LOOKS) {
    setTimeout(() => {
      if (S.chats.get(c.id) !== c || [...c.events.values()].some((e) => e.event === 'record')) return;
      send({ type: 'history', conversation: c.id, limit: 5 }, { kind: 'history', gap: true });
    }, ms);
  }
}

export function addEvent(c, ev, live) {
  if (!ev || !Number.isInteger(ev.seq)) return;
  const mine = ev.from && ev.from.role === 'professional' && ev.from.id === S.meId;
  if (c.events.has(ev.seq)) return ev.sms && noteSmsMessage(c, ev, mine); // my message, drawn at its ack
  if (ev.client_msg_id && c.pending.has(ev.client_msg_id)) {
    confirmPending(c, ev.client_msg_id, ev.seq, ev.at);
    return ev.sms && noteSmsMessage(c, ev, true);
  }
  if (live && c.maxSeq > 0 && ev.seq > c.maxSeq + 1) loadHistory(c, ev.seq, Math.min(200, ev.seq - c.maxSeq - 1), true);
  if (ev.type === 'system' && ev.event === 'sms') return smsEvent(c, ev, live);
  const stick = isAtBottom(c);
  c.events.set(ev.seq, ev);
  insertSorted(c, renderEvent(c, ev), ev.seq);
  c.minSeq = Math.min(c.minSeq, ev.seq);
  c.maxSeq = Math.max(c.maxSeq, ev.seq);
  if (stick) scrollBottom(c);
  if (ev.type === 'system' && ev.event === 'identified') onIdentified(c, ev, live);
  if (ev.type === 'system' && ev.event === 'retracted') onRetracted(c, ev);
  if (ev.type === 'system' && ev.event === 'transferred') renderTransferCard(c);
  if (ev.type === 'system' && ev.event === 'left') onClientLeft(c, ev, live);
  if (ev.type === 'system') caseStatus(c, ev);
  if (live) onLiveEvent(c, ev);
  if (ev.type === 'message') renderWaits();
}
/** An SMS moved on (`system sms`): its message's row says so; no line of its own. */
function smsEvent(c, ev, live) {
  c.events.set(ev.seq, ev);
  c.minSeq = Math.min(c.minSeq, ev.seq);
  c.maxSeq = Math.max(c.maxSeq, ev.seq);
  onSmsEvent(c, ev, live);
  if (live) saveStore();
}
/** The case's status as its latest system event has it (SMS may be sent only In progress). */
function caseStatus(c, ev) {
  const status = { assigned: 'in_progress', reopened: 'in_progress', closed: 'complete', queued: 'queued' }[ev.event];
  if (!status || ev.seq < (c.statusSeq || 0)) return;
  c.statusSeq = ev.seq;
  c.info.status = status;
  renderSms(c);
}
/** The client identified inside the chat: the header and the tab now show who they are. */
export function onIdentified(c, ev, live) {
  const d = ev.detail || {};
  c.info.client = { ...(c.info.client || {}), identified: true, ...(d.name ? { name: d.name } : {}) };
  renderHeader(c);
  renderTab(c);
  if (live) announce(t('annIdentified', { chat: chatTitle(c) }));
}
export function onLiveEvent(c, ev) {
  if (ev.type === 'system' && ev.event === 'closed' && c.status === 'open') {
    setChatStatus(c, 'closed');
    watchRecord(c);
  }
  if (ev.type !== 'message' || ev.from.role !== 'client') return saveStore();
  showClientTyping(c, false);
  if (ev.seq <= c.seenSeq) return;
  c.seenSeq = ev.seq;
  if (c.id === S.activeId && !document.hidden) {
    const docs = (ev.attachments || []).map((a) => `${t('document')}: ${a.name}`);
    announce(`${chatTitle(c)}: ${[ev.body, ...docs].filter(Boolean).join(' · ')}`);
    markRead(c);
  } else {
    c.unread++;
    renderTab(c);
    alertOf('message', t('notifyMessage', { chat: chatTitle(c) }), () => select(c.id));
  }
  saveStore();
}

/** The client left the chat: the professional closes the case, so the pane says so plainly. */
function onClientLeft(c, ev, live) {
  const after = [...c.events.values()].some((e) => e.seq > ev.seq && e.type === 'system' && (e.event === 'reopened' || e.event === 'queued'));
  if (after) return;
  c.clientLeft = true;
  if (c.status === 'open') setNotice(c, t('noticeLeft'));
  renderTab(c);
  if (live) announce(t('annLeft', { chat: chatTitle(c) }));
}

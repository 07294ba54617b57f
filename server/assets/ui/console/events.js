// A chat's message log: stored events ordered and de-duplicated by seq, history paging, live
// events that raise unread counts and alerts, and how messages, notes and system events look.

import { h } from '../shared/dom.js';
import {
  releaseText, renderHeader, renderTab, renderTransferCard, renderWaits, select, setChatStatus,
} from './chats.js';
import { alertOf } from './alerts.js';
import { markWithdrawn, offerRetract, onRetracted } from './corrections.js';
import { confirmPending, markRead, showClientTyping } from './composer.js';
import { t } from './i18n.js';
import { send } from './connection.js';
import { setNotice } from './notices.js';
import { PAGE, S, announce, chatTitle, clientName, fmtTime, fmtWait, proName, saveStore, teamName } from './state.js';

export function loadHistory(c, before, limit = PAGE, gap = false) {
  if (!gap && c.loading) return;
  const frame = { type: 'history', conversation: c.id, limit };
  if (before) frame.before_seq = before;
  if (send(frame, { kind: 'history', conversation: c.id, gap }) && !gap) c.loading = true;
}
export function loadOlder(c) {
  if (c.historyDone || c.loading || !Number.isFinite(c.minSeq) || c.minSeq <= 1) return;
  loadHistory(c, c.minSeq);
}
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
export function renderOlder(c) {
  c.el.older.hidden = c.historyDone || !Number.isFinite(c.minSeq) || c.minSeq <= 1;
}
export function onEvent(f) {
  const c = S.chats.get(f.conversation);
  if (c) addEvent(c, f, true);
}

/** Adds one stored event, de-duplicated by seq; `live` events may raise unread and alerts. */
export function addEvent(c, ev, live) {
  if (!ev || !Number.isInteger(ev.seq) || c.events.has(ev.seq)) return;
  if (ev.client_msg_id && c.pending.has(ev.client_msg_id)) return confirmPending(c, ev.client_msg_id, ev.seq, ev.at);
  if (live && c.maxSeq > 0 && ev.seq > c.maxSeq + 1) loadHistory(c, ev.seq, Math.min(200, ev.seq - c.maxSeq - 1), true);
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
  if (live) onLiveEvent(c, ev);
  if (ev.type === 'message') renderWaits();
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
  if (ev.type === 'system' && ev.event === 'closed' && c.status === 'open') setChatStatus(c, 'closed');
  if (ev.type !== 'message' || ev.from.role !== 'client') return saveStore();
  showClientTyping(c, false);
  if (ev.seq <= c.seenSeq) return;
  c.seenSeq = ev.seq;
  if (c.id === S.activeId && !document.hidden) {
    announce(`${chatTitle(c)}: ${ev.body}`);
    markRead(c);
  } else {
    c.unread++;
    renderTab(c);
    alertOf('message', t('notifyMessage', { chat: chatTitle(c) }), () => select(c.id));
  }
  saveStore();
}
export function systemText(ev) {
  const d = ev.detail || {};
  const who = d.name || (d.professional && proName(d.professional)) || t('aProfessional');
  const team = teamName(d.team || '?');
  const parts = (...p) => p.filter(Boolean).join(' – ');
  switch (ev.event) {
    case 'assigned': return t('sysAssigned', { who: d.team ? `${who} (${team})` : who });
    case 'transferred': return parts(
      d.to_professional ? t('sysTransferredPro', { pro: proName(d.to_professional), team }) : t('sysTransferredTeam', { team }),
      d.from_professional && t('sysBy', { who: proName(d.from_professional) }),
      d.note && t('sysNote', { note: d.note }));
    case 'closed': return parts(t('sysClosed'), d.summary && t('sysSummary', { summary: d.summary }));
    case 'reopened': return t('sysReopened', { who });
    case 'identified': return d.name ? t('sysIdentifiedAs', { name: d.name }) : t('sysIdentified');
    case 'queued': return t(d.reason === 'professional_disconnected' ? 'sysRequeued' : d.reason === 'handed_back' ? 'sysHandedBack' : 'sysQueued', { team });
    case 'left': return Number.isFinite(d.waited_s) ? t('sysLeftWaited', { time: fmtWait(d.waited_s) }) : t('sysLeft');
    case 'retracted': return t('sysRetracted', { who });
    default: return String(ev.event);
  }
}
export function renderEvent(c, ev) {
  const time = h('time', { datetime: ev.at || '', text: fmtTime(ev.at) });
  if (ev.type === 'system') {
    return h('div', { class: 'sys', testid: 'message', 'data-seq': ev.seq, 'data-kind': 'system', 'data-role': 'system' },
      h('span', { text: systemText(ev) }), ' · ', time);
  }
  const from = ev.from || {};
  const mine = from.role === 'professional' && from.id === S.meId;
  const who = from.role === 'client' ? `${c.letter} · ${clientName(c)}` : mine ? t('you') : from.name || t('professional');
  const state = mine ? (c.clientRead >= ev.seq && ev.type === 'message' ? 'read' : 'sent') : null;
  const el = messageEl(ev.type, from.role, mine, who, time, ev.body, ev.seq, state);
  if (c.retracted.has(ev.seq)) markWithdrawn(el);
  else if (mine) offerRetract(c, el, ev.seq, ev.at);
  return el;
}
export function messageEl(kind, role, mine, who, time, body, seq, state) {
  const stateEl = h('span', { class: 'state', text: stateText(state) });
  return h('div', { class: `msg ${role}${mine ? ' mine' : ''}${kind === 'note' ? ' note' : ''}`, testid: 'message',
    'data-seq': seq, 'data-kind': kind, 'data-role': role, 'data-state': state },
  kind === 'note' && h('div', { class: 'note-label' }, h('span', { class: 'note-tag', text: t('noteTag') }), ` ${t('noteLabel')}`),
  h('div', { class: 'meta' }, h('span', { class: 'who', text: who }), ' ', time, ' ', stateEl),
  h('div', { class: 'body', text: body }));
}
export const stateText = (s) => (s ? t({ sending: 'stSending', sent: 'stSent', read: 'stRead', failed: 'stFailed' }[s]) : '');

/** Keeps the log ordered by seq; pending (unacked) messages stay at the end. */
export function insertSorted(c, el, seq) {
  const box = c.el.messages;
  let after = box.lastElementChild;
  while (after && !(Number(after.dataset.seq || Infinity) < seq)) after = after.previousElementSibling;
  if (after) after.after(el); else box.prepend(el);
}
export const isAtBottom = (c) => c.el.scroll.scrollHeight - c.el.scroll.scrollTop - c.el.scroll.clientHeight < 60;
export function scrollBottom(c) {
  c.el.scroll.scrollTop = c.el.scroll.scrollHeight;
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

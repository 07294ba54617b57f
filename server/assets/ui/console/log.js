// A chat's message log as drawn: how messages, notes and system events look, keeping them in
// seq order, scrolling, asking for history pages, and our own read receipt. Below the tabs, the
// composer and the handling of incoming events (events.js), which all draw into it.

import { h } from '../shared/dom.js';
import { markWithdrawn, offerRetract } from './corrections.js';
import { send } from './connection.js';
import { fileCards } from './documents.js';
import { t } from './i18n.js';
import { noteSmsMessage } from './smschat.js';
import { PAGE, S, clientName, fmtTime, fmtWait, proName, teamName } from './state.js';

/** Asks for a page of history before `before`; a `gap` fill runs beside the paging. */
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
export function renderOlder(c) {
  c.el.older.hidden = c.historyDone || !Number.isFinite(c.minSeq) || c.minSeq <= 1;
}

/** Our own read receipt for the visible chat. */
export function markRead(c) {
  if (c.id !== S.activeId || document.hidden || c.status !== 'open' || c.maxSeq <= c.readSent) return;
  if (send({ type: 'read', conversation: c.id, seq: c.maxSeq })) c.readSent = c.maxSeq;
  c.seenSeq = Math.max(c.seenSeq, c.maxSeq);
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
    case 'record': return d.state === 'delivered' ? t('sysRecordDelivered')
      : t('sysRecordFailed', { reason: d.reason || '?' });
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
  const el = messageEl(ev.type, from.role, mine, who, time, ev.body, ev.seq, state, ev.attachments);
  if (c.retracted.has(ev.seq)) markWithdrawn(el);
  else if (mine && !(ev.sms && ev.sms.direction === 'out')) offerRetract(c, el, ev.seq, ev.at);
  if (ev.sms) noteSmsMessage(c, ev, mine, el);
  return el;
}
/** A message or note as drawn; a message's documents as file cards under its text. */
export function messageEl(kind, role, mine, who, time, body, seq, state, attachments) {
  const stateEl = h('span', { class: 'state', text: stateText(state) });
  const files = fileCards(attachments);
  return h('div', { class: `msg ${role}${mine ? ' mine' : ''}${kind === 'note' ? ' note' : ''}`, testid: 'message',
    'data-seq': seq, 'data-kind': kind, 'data-role': role, 'data-state': state },
  kind === 'note' && h('div', { class: 'note-label' }, h('span', { class: 'note-tag', text: t('noteTag') }), ` ${t('noteLabel')}`),
  h('div', { class: 'meta' }, h('span', { class: 'who', text: who }), ' ', time, ' ', stateEl),
  (body || !files) && h('div', { class: 'body', text: body }), files);
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

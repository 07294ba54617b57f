// The patient's wait and the way out of it: the queue view (place, an honest estimate or "no
// one is available right now", the wait so far) and leaving the queue or the chat (asked
// first, a `leave` frame, then a view that says so and offers a new chat).

import { t, tn } from './strings.js';
import { store, save, resetStore, rt, active, isAsync } from './state.js';
import {
  queueEl, qTitle, qDetails, qPos, qWait, qWaitRow, qUnstaffed, qWaited, queueNote, leaveBtn,
  leaveBox, leaveQ, leaveYes, leaveNo, endChatBtn, leftEl, leftHead, composer, footer,
  asyncEl, asyncTitle, replyByEl,
} from './view.js';
import { replyByText } from './due.js';
import { send, outbox } from './connection.js';
import { render } from './render.js';
import { notice, panelHasFocus } from './indicators.js';
import { row, failOwn, stopTyping, showTyping } from './messages.js';

const TICK_MS = 15000;

/** The queue frame's fields as kept in the store; `at` is when it came (this page's clock). */
export function queueFrom(f) {
  return {
    position: f.position,
    wait: typeof f.estimated_wait_s === 'number' ? f.estimated_wait_s : null,
    staffed: f.staffed !== false,
    waited: typeof f.waited_s === 'number' ? f.waited_s : null,
    at: Date.now(),
    seq: store.last_seq, // the events up to here are older than this place
  };
}

/** Seconds waited in this queue by now: the server's count plus the time since it was sent. */
function waitedNow(q) {
  if (typeof q.waited !== 'number') return null;
  const since = typeof q.at === 'number' ? Math.max(0, Date.now() - q.at) / 1000 : 0;
  return q.waited + since;
}

/** The estimate as told: never shorter than what the patient has already waited. */
export function fmtEstimate(q) {
  const waited = waitedNow(q);
  if (typeof q.wait !== 'number' || q.wait < 0) return t('waitUnknown');
  const s = Math.max(q.wait, waited || 0);
  return s < 60 ? t('waitUnder') : t('waitMin', { n: Math.ceil(s / 60) });
}
function fmtWaited(s) {
  return s < 60 ? t('waitedUnder') : tn('waitedMin', Math.floor(s / 60));
}

/** Sets a text only when it changed, so that live regions announce changes, not ticks. */
function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

/** Draws the queue view; called by panel.js's drawPanel() with whether the patient is waiting. */
export function renderQueue(waiting) {
  queueEl.hidden = !waiting;
  if (!waiting) return stopTick();
  const st = store.status;
  const q = store.queue;
  const known = st === 'queued' && !!q && typeof q.position === 'number';
  setText(qTitle, st === 'starting' ? t('starting') : t('queueTitle'));
  qDetails.hidden = !known;
  queueNote.hidden = st !== 'queued';
  leaveBtn.hidden = st !== 'queued' || !!rt.askLeave; // hidden while the question above is open
  if (known) {
    const staffed = q.staffed !== false; // a place stored by an older widget has no `staffed`
    setText(qPos, String(q.position));
    qWaitRow.hidden = !staffed;
    qUnstaffed.hidden = staffed;
    setText(qWait, staffed ? fmtEstimate(q) : '');
  }
  const waited = known ? waitedNow(q) : null;
  qWaited.hidden = waited === null;
  if (waited !== null) setText(qWaited, t('queueWaited', { time: fmtWaited(waited) }));
  if (!rt.queueTick) rt.queueTick = setInterval(() => renderQueue(!queueEl.hidden), TICK_MS);
}
function stopTick() {
  clearInterval(rt.queueTick);
  rt.queueTick = 0;
}

/**
 * A non-urgent message instead of the queue: no place nor estimate, "Your message was sent.
 * We reply by …" while the organisation owes a reply, "A professional has replied" after.
 */
export function renderAsync(show) {
  asyncEl.hidden = !show;
  if (!show) return;
  const st = store.status;
  const owed = !!store.due_at || st === 'queued';
  setText(asyncTitle, st === 'starting' ? t('sendingMessage') : owed ? t('msgSent') : t('msgAnswered'));
  setText(replyByEl, st !== 'starting' && store.due_at ? replyByText(store.due_at) : '');
  replyByEl.hidden = !replyByEl.textContent;
}

// Leaving.
/** The ways out: "Leave the queue", "End chat" and the question they ask first. */
export function wireLeave() {
  leaveBtn.addEventListener('click', askLeave);
  endChatBtn.addEventListener('click', askLeave);
  leaveYes.addEventListener('click', confirmLeave);
  leaveNo.addEventListener('click', () => cancelLeave(true));
}
function leaving() { return store.status === 'queued' ? 'queue' : 'chat'; }

/** Draws the confirm step, the "End chat" button and the view after leaving. */
export function renderLeave() {
  const live = active() && (store.status === 'queued' || store.status === 'in_progress');
  // A professional joined (or the chat went back to the queue) while the patient was asked:
  // the question asked is no longer the one to answer.
  if (!live || (rt.askLeave && rt.askLeave !== leaving() && !rt.leaving)) rt.askLeave = false;
  // A non-urgent matter is not left like a chat: the organisation closes it once answered.
  endChatBtn.hidden = !(active() && store.status === 'in_progress' && !rt.askLeave && !isAsync());
  leaveBox.hidden = !rt.askLeave;
  if (rt.askLeave) {
    const q = rt.askLeave === 'queue';
    setText(leaveQ, t(q ? 'leaveAskQueue' : 'leaveAskChat'));
    setText(leaveYes, t(q ? 'leaveYesQueue' : 'leaveYesChat'));
    setText(leaveNo, t(q ? 'leaveNoQueue' : 'leaveNoChat'));
    // Not `disabled`: that would throw the focus out of the panel while the ack is awaited.
    if (rt.leaving) leaveYes.setAttribute('aria-disabled', 'true'); else leaveYes.removeAttribute('aria-disabled');
  }
  leftEl.hidden = !rt.left;
  if (rt.left) setText(leftHead, t(rt.left === 'queue' ? 'leftQueue' : 'leftChat'));
}

export function askLeave() {
  rt.askLeave = leaving();
  render();
  leaveQ.focus();
}
export function cancelLeave(refocus) {
  rt.askLeave = false;
  render();
  if (!refocus) return;
  if (!leaveBtn.hidden && !queueEl.hidden) leaveBtn.focus();
  else if (!endChatBtn.hidden) endChatBtn.focus();
  else if (!footer.hidden && !composer.disabled) composer.focus();
}
export function confirmLeave() {
  if (rt.leaving || !store.conversation) return;
  if (!send({ type: 'leave', conversation: store.conversation }, 'leave')) return notice(t('leaveFailed'));
  rt.leaving = true;
  render();
}

/**
 * The patient has left (the `left` event, or the ack of `leave`, whichever comes first): the
 * log stays in sight with a view that says so, and the stored state forgets the conversation,
 * so that a reload starts afresh instead of resuming it.
 */
export function finishLeave(kind, seq, at) {
  if (rt.left) return;
  const had = panelHasFocus();
  if (typeof seq === 'number') row('system', null, t(kind === 'queue' ? 'sysLeftQueue' : 'sysLeftChat'), at, seq);
  stopTyping();
  showTyping(false);
  [...outbox.values()].forEach((p) => failOwn(p.id));
  rt.left = kind;
  rt.askLeave = false;
  rt.leaving = false;
  resetStore({ token: store.token, identity: store.identity, open: store.open, service: store.service });
  save();
  render();
  if (had) { leftHead.focus(); leftEl.scrollIntoView({ block: 'nearest' }); }
}
/** The leave frame was refused (e.g. the chat was closed meanwhile): back to the chat. */
export function leaveRefused() {
  rt.leaving = false;
  rt.askLeave = false;
  render();
}
export function leaveKind() { return leaving(); }

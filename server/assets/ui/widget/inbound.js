// What the widget does with each frame from /ws/client: welcome, queued/queue, message and
// system events (drawn once each, by seq), acks, typing, read receipts, closed, errors; the
// asynchronous channels' replies: form_received, conversations (My conversations), open.
// connection.js delivers the frames here because main.js hands it onFrame; this module sits
// above the views it updates (start, waiting, messages) and imports them directly.

import { uuid } from '../shared/ids.js';
import { t } from './strings.js';
import { store, save, resetStore, seen, own, rt, isAsync } from './state.js';
import { fieldsEl, logEl } from './view.js';
import { outbox, savePending, askDeadline } from './connection.js';
import { render } from './render.js';
import { renderBadge, notice, panelHasFocus } from './indicators.js';
import { showFiles } from './documents.js';
import { row, confirmOwn, failOwn, markRead, maybeSendRead, showTyping, isVisible, withdraw, drawPending } from './messages.js';
import { sendPendingForm, onFormReceived, onFormError } from './form.js';
import { sendStart, sendFeedback, abandonStart, startRefused, resetToStart, resetRating, findService, renderStart } from './start.js';
import { queueFrom, finishLeave, leaveKind, leaveRefused } from './waiting.js';
import { requestList, onConversations, onConversationsFailed, onOpenFailed } from './mine.js';
import { deviceMatters } from './device.js';

/** Every inbound frame, with the context its request was sent with (for replies). */
export function onFrame(f, ctx) {
  if (f.type === 'welcome') return onWelcome(f);
  if (f.type === 'queued') return onQueued(f);
  if (f.type === 'error') return onError(f, ctx);
  if (f.type === 'conversations') {
    deadlineFrom(f);
    if (!ctx || ctx.kind !== 'deadline') onConversations(f);
    return;
  }
  if (f.type === 'form_received') {
    if (!onFormReceived(f)) return;
    render(); // My conversations now lists it on this device
    renderStart(true);
    return;
  }
  if (typeof f.conversation !== 'string') return;
  if (!store.conversation) {
    if (store.pendingStart && rt.early.length < 500) rt.early.push([f, ctx]);
    return;
  }
  if (f.conversation !== store.conversation) return;
  switch (f.type) {
    case 'message': case 'system': return onEvent(f);
    case 'ack': return onAck(f, ctx);
    case 'queue':
      if (typeof f.position === 'number') store.queue = queueFrom(f);
      save(); render(); return;
    case 'typing': if (f.role === 'professional') showTyping(f.active === true); return;
    case 'read': if (f.role === 'professional') markRead(f.seq); return;
    case 'closed':
      store.closing = typeof f.message === 'string' ? f.message : '';
      store.status = 'complete';
      save(); render(); return;
    default: return;
  }
}

function onWelcome(f) {
  rt.identifying = false;
  rt.leaving = false; // a `leave` lost with the old socket may be asked again (a stored one replays)
  const id = f.identity || {};
  store.identity = id.kind === 'identified' ? (id.name || '✓') : null;
  const sum = (Array.isArray(f.conversations) ? f.conversations : []).filter((c) => c && c.conversation === store.conversation)[0];
  if (sum && typeof sum.status === 'string') {
    if (rt.replayAll) {
      store.status = sum.status;
      if (typeof sum.last_seq === 'number') rt.liveFrom = sum.last_seq; // a reload replays all
    }
    if (sum.status === 'complete') rt.closedReady = true;
    if (isAsync()) store.due_at = sum.status !== 'complete' && sum.due_at ? sum.due_at : null;
  }
  rt.replayAll = false;
  save();
  if (store.pendingStart) sendStart();
  if (store.pendingForm) sendPendingForm();
  if (rt.convsWanted || (rt.view === 'mine' && (store.identity || deviceMatters().length))) requestList();
  outbox.resend();
  if (store.pendingFeedback && !store.rated) sendFeedback();
  maybeSendRead();
  render();
}

function onQueued(f) {
  if (!store.pendingStart && f.conversation !== store.conversation) return;
  const isNew = store.conversation !== f.conversation;
  store.conversation = f.conversation;
  store.resume_token = f.resume_token;
  store.team = f.team;
  store.pendingStart = null;
  if (isNew || store.status === 'starting' || !store.status) store.status = 'queued';
  if (typeof f.position === 'number' && !isAsync()) store.queue = queueFrom(f);
  if (isNew && typeof f.due_at === 'string') store.due_at = f.due_at;
  if (typeof f.urgent === 'string' && f.urgent) store.urgent = f.urgent;
  save();
  // A non-urgent message: the matter typed in the start form is its first message.
  if (store.pendingMatter && store.pendingMatter.trim()) {
    const p = { id: uuid(), body: store.pendingMatter, at: new Date().toISOString() };
    store.pendingMatter = null;
    drawPending(p);
    outbox.add(p);
    savePending();
  }
  const buffered = rt.early;
  rt.early = [];
  buffered.forEach(([g, c]) => { if (g.conversation === store.conversation) onFrame(g, c); });
  render();
}

function onEvent(f) {
  if (typeof f.seq !== 'number') return;
  if (f.seq > store.last_seq) store.last_seq = f.seq;
  if (!seen.has(f.seq)) {
    seen.add(f.seq);
    if (f.type === 'message') onMessage(f); else onSystem(f);
  }
  save();
  render();
}

function onMessage(f) {
  const from = f.from || {};
  const role = from.role === 'client' || from.role === 'professional' ? from.role : 'system';
  const body = typeof f.body === 'string' ? f.body : '';
  if (role !== 'system' && f.seq > rt.liveFrom) askDeadline(f.seq);
  if (role === 'client') {
    const mine = f.client_msg_id && own.get(f.client_msg_id);
    if (mine) {
      showFiles(mine.el, f.attachments); // a document being sent gets its Download
      return confirmOwn(f.client_msg_id, f.seq, f.at);
    }
    const el = row('client', t('you'), body, f.at, f.seq, f.seq <= store.read_seq ? 'read' : 'sent', f.attachments);
    if (f.client_msg_id) own.set(f.client_msg_id, { el: el, seq: f.seq });
    return;
  }
  if (role === 'professional') {
    if (from.name) rt.proName = from.name;
    rt.lastProSeq = Math.max(rt.lastProSeq, f.seq);
    showTyping(false);
    if (f.seq > store.read_sent && !isVisible()) rt.unread++;
  }
  const el = row(role, from.name || t('professional'), body, f.at, f.seq, undefined, f.attachments);
  if (rt.retracted.has(f.seq)) withdraw(el);
  renderBadge();
  maybeSendRead();
}

/**
 * The deadline of the widget's conversation from a `conversations` reply (none: met), asked
 * after each live message (connection.js's askDeadline).
 */
function deadlineFrom(f) {
  const list = Array.isArray(f.conversations) ? f.conversations : [];
  const c = list.filter((x) => x && x.conversation === store.conversation)[0];
  if (!c || !isAsync()) return;
  const due = c.status !== 'complete' && typeof c.due_at === 'string' ? c.due_at : null;
  if (due === store.due_at) return;
  store.due_at = due;
  save();
  render();
}

function onSystem(f) {
  const d = f.detail && typeof f.detail === 'object' ? f.detail : {};
  let text;
  switch (f.event) {
    case 'queued':
      store.status = 'queued';
      text = d.reason === 'professional_disconnected' ? t('sysRequeued')
        : d.reason === 'handed_back' ? t('sysHandedBack')
          : t(store.channel === 'form' ? 'sysFormQueued' : isAsync() ? 'sysMsgQueued' : 'sysQueued');
      break;
    case 'assigned':
    case 'reopened':
      if (d.name) rt.proName = d.name;
      if (f.event === 'reopened') { store.closing = null; store.rated = false; rt.closedReady = false; resetRating(); }
      store.status = 'in_progress';
      store.assigned = true;
      // A place told after this event (a replay can come after the resume's `queue`) stays.
      if (store.queue && !(store.queue.seq >= f.seq)) store.queue = null;
      text = t(f.event === 'assigned' ? (isAsync() ? 'sysMsgAssigned' : 'sysAssigned') : 'sysReopened', { name: d.name || t('professional') });
      break;
    case 'transferred':
      store.status = 'queued'; // the `queue` frame that follows gives the new place
      text = t('sysTransferred');
      break;
    case 'closed':
      store.status = 'complete';
      showTyping(false);
      // The organisation's message follows in a `closed` frame: wait briefly for it.
      clearTimeout(rt.closeTimer);
      if (!rt.closedReady) rt.closeTimer = setTimeout(() => { rt.closedReady = true; render(); }, 1500);
      text = t('sysClosed');
      break;
    case 'left':
      // `waited_s` comes only when the patient left the queue (not a chat in progress).
      return finishLeave(typeof d.waited_s === 'number' ? 'queue' : 'chat', f.seq, f.at);
    case 'retracted':
      if (typeof d.seq === 'number') {
        rt.retracted.add(d.seq);
        const el = [...logEl.children].filter((c) => c.getAttribute('data-seq') === String(d.seq))[0];
        if (el && el.getAttribute('data-role') === 'professional') withdraw(el);
      }
      return;
    default:
      return; // an event this widget does not know: nothing to show
  }
  row('system', null, text, f.at, f.seq);
}

function onAck(f, r) {
  if (f.client_msg_id && own.has(f.client_msg_id) && typeof f.seq === 'number') {
    if (f.seq > rt.liveFrom) askDeadline(f.seq);
    confirmOwn(f.client_msg_id, f.seq, f.at);
  } else if (r && r.kind === 'leave') {
    seen.add(f.seq);
    finishLeave(leaveKind(), f.seq, f.at);
  } else if (r && r.kind === 'open') {
    if (typeof f.seq === 'number') rt.liveFrom = Math.max(rt.liveFrom, f.seq);
    maybeSendRead();
  } else if (r && r.kind === 'feedback') {
    store.rated = true;
    store.pendingFeedback = null;
    save();
    render();
  }
}

function onError(f, ctx) {
  const r = ctx || {};
  const code = f.code;
  if (r.kind === 'form') return onFormError(f);
  if (r.kind === 'conversations') return onConversationsFailed();
  if (r.kind === 'deadline') return; // the deadline shown stays until the next answer
  if (r.kind === 'open') {
    resetStore({ token: store.token, identity: store.identity, open: store.open });
    save();
    return onOpenFailed();
  }
  if (r.kind === 'start' && code === 'bad_frame' && f.fields && typeof f.fields === 'object') {
    return startRefused(f.fields); // the contact to tell of the reply, refused by field
  }
  if (r.kind === 'start' && code === 'unauthorized') {
    // A message service takes identified clients only (an identification that expired).
    abandonStart();
    return notice(t('identifyNeeded'));
  }
  if (code === 'service_closed' && store.pendingStart) {
    const svc = findService(store.pendingStart.service);
    if (svc) { svc.open_now = false; if (f.message) svc.closed_message = f.message; }
    const had = panelHasFocus();
    abandonStart();
    const head = fieldsEl.querySelector('h3');
    if (had && head) head.focus();
    return;
  }
  if (code === 'forbidden' && f.conversation && f.conversation === store.conversation && !r.kind) {
    return resetToStart(true); // the resume token no longer opens this conversation
  }
  if (code === 'rate_limited' || code === 'internal') {
    notice(t(code === 'rate_limited' ? 'errRate' : 'errGeneric'));
    clearTimeout(rt.resendTimer);
    rt.resendTimer = setTimeout(() => {
      if (store.pendingStart) sendStart();
      outbox.resend();
    }, code === 'rate_limited' ? 3000 : 4000);
    return;
  }
  if (r.kind === 'leave') leaveRefused();
  if (code === 'conversation_closed') {
    [...outbox.values()].forEach((p) => failOwn(p.id));
    store.status = 'complete';
    rt.closedReady = true;
    save(); render();
    return notice(t('errClosedConv'));
  }
  if (r.kind === 'send') failOwn(r.id);
  if (r.kind === 'start') abandonStart();
  notice(t(code === 'too_large' ? 'errTooLarge' : 'errGeneric'));
}

// What each incoming frame does: the table main.js hands to the connection (`routeFrames`), and
// the frames whose handling reaches across several views (welcome, errors, colleagues, release,
// the supervision view's).
// It sits above all views and below main.js only, so the views never need to import each other
// to react to the server.

import { askCanned, onCanned } from './canned.js';
import { ensureChat, onAssigned, onReleased, release, renderHeader, setChatStatus } from './chats.js';
import { askColleagues, storeColleagues } from './colleagues.js';
import { failPending, onAck, onRead, onTyping, refusedAtField, renderComposer, restorePending } from './composer.js';
import { send, showOffline } from './connection.js';
import { retractFailed } from './corrections.js';
import { onEvent, onHistory } from './events.js';
import { inboxFailed, onArchive, onInbox, onInboxAlert, onInboxHistory, startInbox, taken } from './inbox.js';
import { startAccess } from './access.js';
import { onHandedBack, releaseFailed } from './leaving.js';
import { loadHistory, renderOlder } from './log.js';
import { errorText, showError } from './notices.js';
import { nameQueues, onQueue, onStatus, renderQueues, renderStatus } from './queues.js';
import { $, S, saveStore } from './state.js';
import {
  nameTeams, onMoved, onRouting, onTeamOverview, setView, startSupervision, supervisionFailed
} from './supervision.js';
import { select } from './tabs.js';
import { fillTransferOptions } from './transfer.js';

export const inboundHandlers = {
  welcome: onWelcome, status: onStatus, queue_snapshot: onQueue, assigned: onAssignedHere,
  released: onReleasedOrHandedBack, ack: onAck, message: onEvent, note: onEvent, system: onEvent,
  history: (f, ctx) => (ctx && ctx.kind === 'inbox_history' ? onInboxHistory(f) : onHistory(f, ctx)), typing: onTyping, read: onRead, error: onError, colleagues: onColleagues, canned: onCanned,
  team_overview: onTeamOverview, routing: onRouting, moved: onMoved,
  inbox: onInbox, inbox_alert: onInboxAlert, archive: onArchive,
};

function onWelcome(f) {
  showOffline(false);
  S.me = f.professional;
  S.meId = f.professional.id;
  S.capacity = f.capacity;
  S.retractWindow = Number(f.retract_window_s) || 0;
  S.smsMaxSegments = Number.isInteger(f.sms_max_segments) && f.sms_max_segments > 0 ? f.sms_max_segments : null;
  S.chats.forEach(renderComposer); // SMS on or off
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
  startSupervision();
  startInbox();
  startAccess();
  send({ type: 'status', ...(S.chosenAvailability ? { availability: S.chosenAvailability } : {}) }, { kind: 'status' });
  renderQueues();
  if (!S.activeId || !S.chats.has(S.activeId)) {
    const want = S.stored.active && S.chats.has(S.stored.active) ? S.stored.active : [...S.chats.keys()][0];
    if (want) select(want);
  }
  renderStatus();
  saveStore();
}

/** An error answers the request sent with `ctx`: the view that sent it gets it back. */
function onError(f, ctx) {
  ctx = ctx || {};
  const c = S.chats.get(f.conversation || ctx.conversation);
  if (ctx.kind === 'inbox_history') return showError(errorText(f, ctx), null, f.code, ctx.kind);
  if (['take', 'archive', 'reopen', 'inbox'].includes(ctx.kind)) inboxFailed(ctx);
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
    // A refusal naming its field (`phone`, `body`), or any refused SMS: said at the field, the text kept.
    const named = f.fields && ['phone', 'body'].some((k) => typeof f.fields[k] === 'string');
    if (p && ctx.kind === 'message' && (named || p.sms)) return refusedAtField(c, p, f);
    if (p) failPending(c, p, errorText(f, ctx));
  }
  if (ctx.kind === 'status') renderStatus();
  if (ctx.kind === 'retract' && c) retractFailed(c, ctx.seq);
  if (ctx.kind === 'release') releaseFailed(ctx.conversation);
  if (['supervise', 'routing', 'move'].includes(ctx.kind)) supervisionFailed(ctx);
  if (ctx.kind === 'canned' && $('canned-dialog').open) return void ($('canned-error').textContent = errorText(f, ctx));
  showError(errorText(f, ctx), c, f.code, ctx.kind);
}

/** Team names and colleagues arrived: transfer forms, pane headers and queue headings use them. */
function onColleagues(f) {
  storeColleagues(f);
  for (const c of S.chats.values()) { fillTransferOptions(c); renderHeader(c); }
  nameQueues();
  nameTeams();
}

/**
 * A chat I took (accepted, reopened, or a matter taken from the inbox) is what I want to see,
 * even from the supervision view or the inbox; an `assigned` for an open chat reuses its tab.
 */
function onAssignedHere(f, ctx) {
  const mine = ctx && ['accept', 'reopen', 'take'].includes(ctx.kind);
  if (mine) setView(false);
  onAssigned(f, ctx);
  if (mine) taken(f.conversation);
}

/** A chat handed back while logging out counts towards the logout (leaving.js). */
function onReleasedOrHandedBack(f) {
  const known = S.chats.has(f.conversation);
  onReleased(f);
  if (known && f.reason === 'handed_back') onHandedBack(f.conversation);
}

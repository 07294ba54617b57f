// SMS chat (docs/ui.md "SMS chat"; the nurses' manual, seed 004): the composer's "Send as SMS"
// choice with the client's masked number, a live length counter and the organisation's limit
// (`welcome.sms_max_segments`; absent: no SMS at all), the server's refusals at the field they
// name, the SMS mark and state of each message (Queued → Message sent → Delivered, or Failed
// with the gateway's reason, moved on by `system sms` events, which are never drawn as lines),
// and the warnings while an SMS of mine is still queued: on leaving its pane or the page. Low
// in the layers (texts, state, the length count): the log, tabs, composer, events and main call
// it; what it cannot reach (selecting a chat) main.js hands it with `wireSms`.

import { h } from '../shared/dom.js';
import { count, t } from './i18n.js';
import { maskNumber, smsLength } from './sms.js';
import { $, S, announce, chatTitle, saveStore, service } from './state.js';

const STATES = ['queued', 'sent', 'delivered', 'failed'];
let back = () => {}; // main.js: show the chats and select one
let renderComposerTexts = renderSms; // composer.js: the composer's label, button and hint for the mode

/** SMS chat is on for this organisation (the welcome named its limit). */
export const smsEnabled = () => Number.isInteger(S.smsMaxSegments) && S.smsMaxSegments > 0;
/** The client's phone number as the server stores it (E.164), if any. */
export function phoneOf(c) {
  const ct = ((c.info.client || {}).contact) || {};
  return typeof ct.phone === 'string' && ct.phone ? ct.phone : null;
}
/** A conversation of an `sms` service: every message goes by SMS. */
export const isSmsChannel = (c) => ((service(c.info.service) || {}).channel) === 'sms';
/** The pane offers SMS: the organisation has it and the client has a number (or it is an SMS conversation). */
export const smsAvailable = (c) => smsEnabled() && (isSmsChannel(c) || !!phoneOf(c));
/** The composer's reply goes by SMS now. */
export const smsOn = (c) => smsAvailable(c) && c.mode !== 'note' && (isSmsChannel(c) || !!c.smsChosen);
/** The case is In progress and mine: the only time an SMS may be sent. */
export const inProgress = (c) => c.status === 'open' && (c.info.status || 'in_progress') === 'in_progress';

/** The longest text the limit allows, in the count's units. */
function maxUnits(encoding) {
  const n = S.smsMaxSegments;
  const [single, part] = encoding === 'ucs2' ? [70, 67] : [160, 153];
  return n === 1 ? single : n * part;
}

/**
 * The composer's SMS controls (above the text): the choice, the number and counter line, the
 * hint while the case is not In progress, the `phone` refusal; and the `body` refusal, which
 * composer.js places under the text.
 */
export function smsControls(c) {
  const id = (x) => `${x}-${c.uid}`;
  const el = c.el;
  el.smsToggle = h('input', { type: 'checkbox', id: id('sms-toggle'), testid: 'sms-toggle',
    'aria-describedby': `${id('sms-info')} ${id('sms-hint')} ${id('sms-error')}`,
    onchange: () => { c.smsChosen = el.smsToggle.checked; clearSmsErrors(c); renderComposerTexts(c); saveStore(); } });
  el.smsToggleText = h('span');
  el.smsNumber = h('span', { class: 'sms-number', testid: 'sms-number' });
  el.smsCounter = h('span', { class: 'sms-counter', testid: 'sms-counter' });
  el.smsInfo = h('p', { id: id('sms-info'), class: 'sms-info', testid: 'sms-info' }, el.smsNumber, ' · ', el.smsCounter);
  el.smsHint = h('p', { id: id('sms-hint'), class: 'sms-hint', testid: 'sms-hint' });
  el.smsError = h('p', { id: id('sms-error'), class: 'field-error', testid: 'sms-error', role: 'alert' });
  el.composerError = h('p', { id: id('composer-error'), class: 'field-error', testid: 'composer-error', role: 'alert' });
  el.smsBox = h('div', { class: 'sms-box', testid: 'sms', hidden: true },
    h('label', { class: 'sms-choice', for: id('sms-toggle') }, el.smsToggle, h('span', { class: 'sms-tag', 'aria-hidden': 'true', text: 'SMS' }), el.smsToggleText),
    el.smsInfo, el.smsHint, el.smsError);
  return el.smsBox;
}

/** The SMS controls for the chat's state, mode and text; the send button says where it goes. */
export function renderSms(c) {
  const el = c.el;
  if (!el.smsBox) return;
  const shown = smsAvailable(c) && c.mode !== 'note';
  el.smsBox.hidden = !shown;
  el.composerForm.classList.toggle('sms-mode', smsOn(c));
  if (!shown) return;
  const locked = isSmsChannel(c);
  const ready = inProgress(c);
  el.smsToggle.checked = smsOn(c);
  el.smsToggle.disabled = locked || !ready;
  el.smsToggleText.textContent = t(locked ? 'smsLocked' : 'smsToggle');
  el.smsHint.textContent = ready ? '' : t('smsNeedsProgress');
  el.smsInfo.hidden = !smsOn(c);
  const phone = phoneOf(c);
  el.smsNumber.textContent = t('smsTo', { number: phone ? maskNumber(phone) : t('smsClientPhone') });
  renderSmsCount(c);
  if (smsOn(c)) {
    el.send.textContent = t('smsSend');
    el.hint.textContent = t('smsHintReply');
  }
}

/** "58 characters · 1 SMS", "… · 3 SMS (Unicode)"; over the limit in red, naming it. */
export function renderSmsCount(c) {
  const el = c.el;
  if (!el.smsCounter || !smsOn(c)) return;
  const len = smsLength(el.composer.value.trim());
  const over = len.segments > S.smsMaxSegments;
  const text = `${count(len.units, 'smsChars')} · ${count(len.segments, 'smsParts')}${len.encoding === 'ucs2' ? ` ${t('smsUnicode')}` : ''}`;
  el.smsCounter.textContent = over ? `${text} – ${limitText(len)}` : text;
  el.smsCounter.classList.toggle('over', over);
  el.smsCounter.dataset.segments = String(len.segments);
  el.smsCounter.dataset.encoding = len.encoding;
}
const limitText = (len) => t('smsTooLong', { max: S.smsMaxSegments, units: maxUnits(len.encoding) });

/**
 * Before an SMS goes: the case In progress and the text within the limit; otherwise the reason
 * at its field and nothing is sent (the text stays in the composer).
 */
export function smsSendable(c, body) {
  clearSmsErrors(c);
  if (!inProgress(c)) {
    smsFieldError(c, 'phone', t('smsNeedsProgress'));
    return false;
  }
  const len = smsLength(body);
  if (len.segments > S.smsMaxSegments) {
    smsFieldError(c, 'body', `${t('smsNotSent')} ${limitText(len)}`);
    return false;
  }
  return true;
}

/** A refusal at its field: `phone` at the SMS choice, `body` at the composer (aria-invalid, described). */
export function smsFieldError(c, field, text) {
  const el = c.el;
  const [line, control] = field === 'phone' ? [el.smsError, el.smsToggle] : [el.composerError, el.composer];
  line.textContent = text;
  control.setAttribute('aria-invalid', 'true');
  (field === 'phone' && !control.disabled ? control : el.composer).focus();
}
export function clearSmsErrors(c) {
  const el = c.el;
  if (!el.smsError) return;
  for (const [line, control] of [[el.smsError, el.smsToggle], [el.composerError, el.composer]]) {
    if (line.textContent) line.textContent = '';
    control.removeAttribute('aria-invalid');
  }
}

// ---- the SMS of each message: its mark, state and what moves it on ----

/** The SMS record of message `seq` (`c.sms`: seq → {direction, number, segments, encoding, mine, state, reason, stateSeq}). */
const record = (c, seq) => {
  if (!c.sms) c.sms = new Map();
  if (!c.sms.has(seq)) c.sms.set(seq, { stateSeq: 0 });
  return c.sms.get(seq);
};

/** A message with `sms`: its record (a later state from a `system sms` event is kept); `row`: its row, when not yet in the log. */
export function noteSmsMessage(c, ev, mine, row) {
  const s = ev.sms;
  if (!s || !Number.isInteger(ev.seq)) return;
  const r = record(c, ev.seq);
  Object.assign(r, { direction: s.direction === 'in' ? 'in' : 'out', number: s.number || r.number || '',
    segments: s.segments, encoding: s.encoding, mine: r.mine || !!mine });
  if (r.direction === 'out' && r.stateSeq <= ev.seq) { r.state = STATES.includes(s.state) ? s.state : 'queued'; r.stateSeq = ev.seq; }
  paintSms(c, ev.seq, row);
}

/** My SMS acknowledged before its message event (which carries the details): Queued meanwhile. */
export function noteSmsAcked(c, seq, body) {
  const r = record(c, seq);
  if (r.direction) return paintSms(c, seq);
  const len = smsLength(body);
  const phone = phoneOf(c);
  Object.assign(r, { direction: 'out', number: phone ? maskNumber(phone) : '', segments: len.segments, encoding: len.encoding, mine: true });
  if (!r.state) { r.state = 'queued'; r.stateSeq = seq; }
  paintSms(c, seq);
}

/** `system sms` (`detail.seq`, `detail.state`, `detail.reason`): the latest one wins. */
export function onSmsEvent(c, ev, live) {
  const d = ev.detail || {};
  if (!Number.isInteger(d.seq) || !STATES.includes(d.state)) return;
  const r = record(c, d.seq);
  if (ev.seq < r.stateSeq) return;
  const was = r.state;
  Object.assign(r, { state: d.state, reason: d.reason || '', stateSeq: ev.seq });
  paintSms(c, d.seq);
  if (!live || was === d.state) return;
  if (d.state === 'failed') announce(t('smsAnnFailed', { chat: chatTitle(c), reason: d.reason || t('smsNoReason') }));
  else if (d.state === 'sent' && r.mine) announce(t('smsAnnSent', { chat: chatTitle(c) }));
}

/** The mark, number and state on the message's row (and the tab's "SMS queued"). */
export function paintSms(c, seq, row) {
  const r = c.sms && c.sms.get(seq);
  row = row || c.el.messages.querySelector(`.msg[data-seq="${seq}"]`);
  if (row && r && r.direction) decorate(row, r);
  renderSmsTab(c);
  renderQueuedWarnings();
}

/** A row as an SMS: the mark ("SMS", and the masked number for screen readers), the parts, the state in words. */
function decorate(row, r) {
  row.dataset.sms = r.direction;
  let mark = row.querySelector('.sms-mark');
  if (!mark) {
    mark = h('span', { class: 'sms-mark', testid: 'sms-mark' });
    const meta = row.querySelector('.meta'), time = meta.querySelector('time');
    if (time) time.before(mark, ' '); else meta.prepend(mark, ' '); // after the sender's name, before the time
  }
  const about = t(r.direction === 'in' ? 'smsFrom' : 'smsToNumber', { number: r.number || t('smsClientPhone') });
  mark.replaceChildren(h('span', { class: 'sms-tag', 'aria-hidden': 'true', text: 'SMS' }), h('span', { class: 'sr-only', text: about }));
  mark.title = about;
  if (r.direction !== 'out') return;
  let state = row.querySelector('.sms-state');
  if (!state) {
    state = h('span', { class: 'sms-state', testid: 'sms-state' });
    row.querySelector('.meta').append(' ', state);
  }
  const st = r.state || 'sending';
  row.dataset.smsState = st;
  const parts = Number.isInteger(r.segments) && r.segments > 1 ? ` (${count(r.segments, 'smsParts')})` : '';
  state.textContent = st === 'failed' ? t('smsSt_failed', { reason: r.reason || t('smsNoReason') }) : `${t(`smsSt_${st}`)}${parts}`;
}

/**
 * The SMS mark and state of a message in a read-only thread (the inbox's), from the thread's
 * events: the latest `system sms` for it wins.
 */
export function smsSummary(ev, events) {
  if (!ev.sms) return null;
  const r = { direction: ev.sms.direction === 'in' ? 'in' : 'out', number: ev.sms.number, segments: ev.sms.segments, state: ev.sms.state || 'queued' };
  const last = events.filter((e) => e.type === 'system' && e.event === 'sms' && (e.detail || {}).seq === ev.seq && STATES.includes(e.detail.state))
    .sort((a, b) => b.seq - a.seq)[0];
  if (last) Object.assign(r, { state: last.detail.state, reason: last.detail.reason || '' });
  const row = h('div', { class: 'sms-line' }, h('span', { class: 'meta' }));
  decorate(row, r);
  return row.firstChild;
}

/** A row being sent as SMS (not acknowledged yet). */
export function markSmsSending(c, row) {
  const phone = phoneOf(c);
  decorate(row, { direction: 'out', number: phone ? maskNumber(phone) : '', state: 'sending' });
}

// ---- not leaving an SMS of mine queued unseen ----

/** My SMS in this chat still on its way: sending, or stored but not yet taken by the gateway. */
export function queuedSms(c) {
  const stored = c.sms ? [...c.sms.values()].filter((r) => r.direction === 'out' && r.mine && r.state === 'queued').length : 0;
  const sending = c.pending ? [...c.pending.values()].filter((p) => p.sms && p.state === 'sending').length : 0;
  return stored + sending;
}
/** The chats where an SMS of mine is still queued. */
export const chatsWithQueuedSms = () => [...S.chats.values()].filter((c) => queuedSms(c) > 0);

export function renderSmsTab(c) {
  if (!c.el.tabSms) return;
  const n = queuedSms(c);
  c.el.tabSms.hidden = n === 0;
  c.el.tabSms.textContent = n ? t('smsTabQueued') : '';
}

/**
 * The nurse leaves a pane (another chat, another view, the pane dismissed) while an SMS of
 * hers in it is queued: the sidebar says so until it is sent, with a way back to it.
 */
export function leavingPane(c) {
  if (c && queuedSms(c)) warned.add(c.id); // shown by renderQueuedWarnings once the view or chat has changed
}
const warned = new Set();
/** Back in the pane, or its SMS went: the warning goes. */
export function renderQueuedWarnings() {
  const box = $('sms-warnings');
  if (!box) return;
  for (const id of [...warned]) {
    const c = S.chats.get(id);
    if (!c || !queuedSms(c) || (id === S.activeId && S.view === 'chats')) warned.delete(id);
  }
  const ids = [...warned];
  if ([...box.children].map((x) => x.dataset.conversation).join() === ids.join()) return; // unchanged: the focus stays
  box.replaceChildren(...ids.map((id) => {
    const c = S.chats.get(id);
    return h('div', { class: 'sms-warning', testid: 'sms-queued-warning', 'data-conversation': id },
      h('p', { text: t('smsLeftQueued', { chat: chatTitle(c) }) }),
      h('button', { type: 'button', class: 'btn small', testid: 'sms-queued-back', text: t('smsBackTo', { chat: chatTitle(c) }),
        onclick: () => back(id) }));
  }));
}

/** The page itself: the browser asks before leaving while an SMS of mine is queued. */
export function wireSms(showChat, renderComposer) {
  back = showChat;
  renderComposerTexts = renderComposer;
  window.addEventListener('beforeunload', (e) => {
    if (S.leaving || !chatsWithQueuedSms().length) return;
    e.preventDefault();
    e.returnValue = ''; // older browsers need it set
  });
}

// Composing: each pane's own textarea and draft, reply or note mode, sends and notes with acks
// (through the chat's outbox, so a reconnect resends them with the same client_msg_id), typing
// both ways and the client's read receipts; a reply sent as SMS (smschat.js: the choice, its
// counter and limit, refusals at their field). Draws into the log; knows nothing of the pane.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { attachControls, renderAttach } from './attach.js';
import { openPicker, wireSuggestions } from './canned.js';
import { offerRetract } from './corrections.js';
import { send } from './connection.js';
import { t } from './i18n.js';
import { insertSorted, messageEl, scrollBottom, stateText } from './log.js';
import {
  clearSmsErrors, markSmsSending, noteSmsAcked, renderSms, renderSmsCount, smsControls, smsFieldError, smsOn, smsSendable
} from './smschat.js';
import { S, announce, chatTitle, clientName, fmtTime, saveStore } from './state.js';
import { renderWaits } from './tabs.js';

export function composer(c) {
  const taId = `composer-${c.uid}`;
  const ta = h('textarea', { id: taId, class: 'composer-text', testid: 'composer', rows: 3, maxlength: 10000,
    'aria-describedby': `composer-warn-${c.uid} sms-info-${c.uid} composer-error-${c.uid} composer-hint-${c.uid}` });
  const saved = (S.stored.drafts || {})[c.id];
  if (saved) ta.value = saved;
  c.el.composer = ta;
  c.el.composerLabel = h('label', { for: taId, class: 'to' });
  c.el.send = h('button', { type: 'submit', class: 'btn primary', testid: 'send' });
  c.el.cannedBtn = h('button', { type: 'button', class: 'btn', testid: 'canned-open', 'aria-haspopup': 'dialog', onclick: () => openPicker(c) });
  const radio = (mode, testid) => h('input', { type: 'radio', name: `mode-${c.uid}`, value: mode, testid,
    onchange: () => setMode(c, mode) });
  c.el.modeReply = radio('message', 'mode-reply');
  c.el.modeNote = radio('note', 'mode-note');
  c.el.modeReplyText = h('span');
  c.el.modeNoteText = h('span');
  c.el.modeLegend = h('legend', { class: 'sr-only' });
  c.el.noteWarning = h('p', { id: `composer-warn-${c.uid}`, class: 'note-warning', testid: 'note-warning', hidden: true });
  c.el.hint = h('span', { id: `composer-hint-${c.uid}`, class: 'hint' });
  ta.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(c, c.mode); }
  });
  ta.addEventListener('input', () => {
    typingInput(c);
    saveDraftSoon(c);
    renderSmsCount(c);
    if (c.el.composerError.textContent) clearSmsErrors(c);
  });
  ta.addEventListener('blur', () => stopTyping(c));
  c.el.composerForm = h('form', { class: 'composer', testid: 'composer-form', onsubmit: (e) => { e.preventDefault(); submit(c, c.mode); } },
    h('fieldset', { class: 'modes' }, c.el.modeLegend,
      h('label', { class: 'mode mode-reply' }, c.el.modeReply, c.el.modeReplyText, h('kbd', { text: 'Alt+P' })),
      h('label', { class: 'mode mode-note' }, c.el.modeNote, c.el.modeNoteText, h('kbd', { text: 'Alt+L' }))),
    smsControls(c), c.el.composerLabel, c.el.noteWarning, ta, c.el.composerError,
    h('div', { class: 'composer-bar' }, c.el.hint, ...attachControls(c), c.el.cannedBtn, c.el.send),
    c.el.attachStatus);
  wireSuggestions(c);
  setMode(c, (S.stored.modes || {})[c.id] === 'note' ? 'note' : 'message', { quiet: true });
  return c.el.composerForm;
}

/**
 * Reply or internal note: the mode decides what Enter and the send button do, so it is shown
 * everywhere the professional looks while writing (colour, label, placeholder, button, hint).
 */
export function setMode(c, mode, { quiet = false, focus = false } = {}) {
  c.mode = mode === 'note' ? 'note' : 'message';
  const note = c.mode === 'note';
  c.el.modeReply.checked = !note;
  c.el.modeNote.checked = note;
  c.el.composerForm.classList.toggle('note-mode', note);
  c.el.composerForm.dataset.mode = c.mode;
  renderComposer(c);
  if (!quiet) {
    announce(t(note ? 'modeNowNote' : 'modeNowReply', { chat: chatTitle(c) }));
    saveStore();
  }
  if (focus && !c.el.composer.disabled) c.el.composer.focus();
}

/** The composer's texts for its chat and mode (also when the client's name becomes known). */
export function renderComposer(c) {
  const note = c.mode === 'note';
  c.el.modeLegend.textContent = t('modeLegend');
  c.el.modeReplyText.textContent = t('modeReply');
  c.el.modeNoteText.textContent = t('modeNote');
  c.el.composerLabel.replaceChildren(`${t(note ? 'noteOn' : smsOn(c) ? 'smsMessageTo' : 'messageTo')} `,
    h('span', { class: 'mini-badge', text: c.letter }), ` ${clientName(c)}`);
  c.el.noteWarning.textContent = t('noteWarning');
  c.el.noteWarning.hidden = !note;
  c.el.composer.placeholder = t(note ? 'writeNote' : 'writeTo', { who: chatTitle(c) });
  c.el.send.textContent = t(note ? 'addNote' : 'send');
  c.el.cannedBtn.textContent = t('cannedButton');
  c.el.hint.textContent = t(note ? 'hintNote' : 'hintReply');
  renderAttach(c);
  renderSms(c);
}

/** Sends the text of THIS pane's composer to THIS pane's conversation (`c` is bound per pane). */
export function submit(c, kind) {
  const ta = c.el.composer;
  const body = ta.value.trim();
  if (!body || c.status !== 'open') return;
  const sms = kind === 'message' && smsOn(c);
  if (sms && !smsSendable(c, body)) return; // said at its field; the text stays
  clearSmsErrors(c);
  const p = { id: uuid(), kind, body, state: 'sending', at: new Date().toISOString(), ...(sms ? { sms: true } : {}) };
  addPending(c, p);
  ta.value = '';
  stopTyping(c);
  c.pending.transmit(p);
  renderWaits();
  saveStore();
}
export function addPending(c, p) {
  c.pending.keep(p);
  p.el = messageEl(p.kind, 'professional', true, t('you'), h('time', { text: fmtTime(p.at) }), p.body, null, 'sending');
  if (p.sms) markSmsSending(c, p.el);
  c.el.messages.append(p.el);
  scrollBottom(c);
}

/** Unacked sends kept over a page reload go out again with their own client_msg_id. */
export function restorePending() {
  for (const [id, list] of Object.entries(S.stored.pending || {})) {
    const c = S.chats.get(id);
    if (c && c.status === 'open') list.forEach((p) => c.pending.has(p.id) || addPending(c, { ...p, state: 'sending' }));
  }
}
export function onAck(f) {
  const c = S.chats.get(f.conversation);
  if (c && f.client_msg_id && c.pending.has(f.client_msg_id) && f.seq) confirmPending(c, f.client_msg_id, f.seq, f.at);
}
export function confirmPending(c, cmid, seq, at) {
  const p = c.pending.confirm(cmid);
  const state = p.kind === 'message' && c.clientRead >= seq ? 'read' : 'sent';
  p.el.dataset.seq = seq;
  p.el.dataset.state = state;
  p.el.querySelector('.state').textContent = stateText(state);
  if (at) p.el.querySelector('time').textContent = fmtTime(at);
  if (c.events.has(seq)) { p.el.remove(); return; }
  c.events.set(seq, { type: p.kind, conversation: c.id, seq, at, from: { role: 'professional', id: S.meId }, body: p.body, client_msg_id: cmid });
  p.el.remove();
  insertSorted(c, p.el, seq);
  // An SMS is on the patient's phone: it cannot be taken back.
  if (p.kind === 'message' && !p.sms) offerRetract(c, p.el, seq, at || p.at);
  if (p.sms) noteSmsAcked(c, seq, p.body);
  c.minSeq = Math.min(c.minSeq, seq);
  c.maxSeq = Math.max(c.maxSeq, seq);
  saveStore();
}
/**
 * The server refused a message naming a field (`phone`, `body`): nothing was stored, so the row
 * goes, the text is back in the composer and the server's words are at that field.
 */
export function refusedAtField(c, p, f) {
  c.pending.drop(p.id);
  p.el.remove();
  const ta = c.el.composer;
  if (!ta.value.trim()) ta.value = p.body;
  else if (!ta.value.includes(p.body)) ta.value = `${p.body}\n${ta.value}`;
  renderSmsCount(c);
  const fields = f.fields || {};
  const field = typeof fields.phone === 'string' ? 'phone' : 'body';
  const why = fields[field] || f.message || f.code;
  smsFieldError(c, field, t(field === 'phone' ? 'smsRefusedPhone' : 'smsRefusedBody', { why }));
  renderWaits();
  saveStore();
}
export function failPending(c, p, why) {
  p.state = 'failed';
  c.pending.drop(p.id);
  p.el.dataset.state = 'failed';
  p.el.querySelector('.state').textContent = t('notSentWhy', { why });
}
export function saveDraftSoon(c) {
  clearTimeout(c.draftTimer);
  c.draftTimer = setTimeout(saveStore, 400);
}
export function typingInput(c) {
  if (c.status !== 'open') return;
  if (!c.el.composer.value) return stopTyping(c);
  if (!c.typingOut && send({ type: 'typing', conversation: c.id, active: true })) c.typingOut = true;
  clearTimeout(c.typingTimer);
  c.typingTimer = setTimeout(() => stopTyping(c), 3000);
}
export function stopTyping(c) {
  clearTimeout(c.typingTimer);
  if (c.typingOut) send({ type: 'typing', conversation: c.id, active: false });
  c.typingOut = false;
}
export function onTyping(f) {
  const c = S.chats.get(f.conversation);
  if (c && f.role === 'client') showClientTyping(c, !!f.active);
}
export function showClientTyping(c, on) {
  clearTimeout(c.typingInTimer);
  c.el.typing.textContent = on ? t('typingNow', { chat: chatTitle(c) }) : '';
  c.el.typing.hidden = !on;
  c.el.tab.classList.toggle('is-typing', on);
  if (on) c.typingInTimer = setTimeout(() => showClientTyping(c, false), 10000);
}

/** The client's read receipt: own messages up to `seq` become "Read". */
export function onRead(f) {
  const c = S.chats.get(f.conversation);
  if (!c || f.role !== 'client' || !(f.seq > c.clientRead)) return;
  c.clientRead = f.seq;
  c.el.messages.querySelectorAll('.msg.mine[data-kind="message"][data-state="sent"]').forEach((el) => {
    if (Number(el.dataset.seq) <= f.seq) { el.dataset.state = 'read'; el.querySelector('.state').textContent = stateText('read'); }
  });
}

// The message log and the composer: rows placed by seq (with file cards for documents), the
// patient's own messages from "sending" to "sent" (acknowledged durable write) to "read", read
// receipts, typing.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { store, save, seen, own, rt, MAX_BODY } from './state.js';
import { scroll, logEl, typingEl, composer, footer } from './view.js';
import { client, send, outbox, savePending } from './connection.js';
import { renderBadge, notice } from './indicators.js';
import { showFiles } from './documents.js';

export function fmtTime(at) {
  const d = at ? new Date(at) : new Date();
  if (isNaN(d.getTime())) return '';
  const hm = { hour: '2-digit', minute: '2-digit' };
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString(cfg.locale, hm)
    : d.toLocaleString(cfg.locale, Object.assign({ day: 'numeric', month: 'numeric' }, hm));
}

/**
 * Draws one row of the log (placed by seq; rows without a seq yet stay last); a message's
 * documents as file cards under its text (a document's caption may be empty).
 */
export function row(role, who, text, at, seq, state, attachments) {
  const el = h('div', { class: 'msg msg-' + role, 'data-testid': 'message', 'data-role': role });
  const time = h('time', { datetime: at || new Date().toISOString(), text: fmtTime(at) });
  const files = Array.isArray(attachments) && attachments.length > 0;
  if (role === 'system') el.append(h('p', {}, text + ' ', time));
  else {
    el.append(h('p', { class: 'meta' }, h('span', { class: 'who', text: who }), ' · ', time));
    if (text || !files) el.append(h('p', { class: 'body', text: text }));
  }
  if (state) { el.append(h('p', { class: 'state' })); setState(el, state); }
  if (files) showFiles(el, attachments);
  const near = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 80;
  place(el, seq);
  if (near || role === 'client') scrollDown();
  return el;
}
export function place(el, seq) {
  if (typeof seq !== 'number') return logEl.append(el);
  el.setAttribute('data-seq', String(seq));
  let before = null;
  for (const c of logEl.children) {
    const s = c === el ? '' : c.getAttribute('data-seq');
    if (s === null || Number(s) > seq) { before = c; break; }
  }
  logEl.insertBefore(el, before);
}
/** A professional's message taken back: its text (and documents) give way to a note saying so. */
export function withdraw(el) {
  const files = el.querySelector('.files');
  if (files) files.remove();
  let body = el.querySelector('.body');
  if (!body && el.querySelector('.meta')) { body = h('p', { class: 'body' }); el.querySelector('.meta').after(body); }
  if (body) body.textContent = t('withdrawn');
  el.classList.add('withdrawn');
  el.setAttribute('data-withdrawn', 'true');
}
export function setState(el, s) {
  el.setAttribute('data-state', s);
  const p = el.querySelector('.state');
  if (p) p.textContent = t(s);
}
export function scrollDown() { scroll.scrollTop = scroll.scrollHeight; }

export function sendMessage() {
  const body = composer.value;
  if (!body.trim() || composer.disabled || !store.conversation) return;
  if (body.length > MAX_BODY) return notice(t('errTooLarge'));
  const p = { id: uuid(), body: body, at: new Date().toISOString() };
  composer.value = '';
  autosize();
  stopTyping();
  drawPending(p);
  outbox.add(p);
  savePending();
}
export function drawPending(p) {
  own.set(p.id, { el: row('client', t('you'), p.body, p.at, undefined, 'sending', p.attachments), seq: null });
}
export function confirmOwn(id, seq, at) {
  const o = own.get(id);
  outbox.confirm(id);
  savePending();
  if (!o || o.seq) return;
  o.seq = seq;
  seen.add(seq);
  if (at) { const tm = o.el.querySelector('time'); tm.setAttribute('datetime', at); tm.textContent = fmtTime(at); }
  setState(o.el, seq <= store.read_seq ? 'read' : 'sent');
  place(o.el, seq);
}
export function failOwn(id) {
  const o = own.get(id);
  outbox.drop(id);
  savePending();
  if (o && !o.seq) setState(o.el, 'failed');
}
export function markRead(seq) {
  if (typeof seq !== 'number' || seq <= store.read_seq) return;
  store.read_seq = seq;
  save();
  own.forEach((o) => { if (o.seq && o.seq <= seq) setState(o.el, 'read'); });
}
export function maybeSendRead() {
  if (!isVisible()) return;
  rt.unread = 0;
  renderBadge();
  if (client.welcomed && rt.lastProSeq > store.read_sent) {
    send({ type: 'read', conversation: store.conversation, seq: rt.lastProSeq });
    store.read_sent = rt.lastProSeq;
    save();
  }
}
export function isVisible() { return store.open && document.visibilityState !== 'hidden'; }

export function showTyping(on) {
  clearTimeout(rt.typingHide);
  typingEl.textContent = t('typing', { name: rt.proName || t('professional') });
  typingEl.hidden = !on;
  if (on) rt.typingHide = setTimeout(() => { typingEl.hidden = true; }, 15000); // a lost "false"
}
export function onComposerInput() {
  autosize();
  if (!composer.value.trim()) return stopTyping();
  if (!rt.typingOn && send({ type: 'typing', conversation: store.conversation, active: true })) rt.typingOn = true;
  clearTimeout(rt.typingTimer);
  rt.typingTimer = setTimeout(stopTyping, 3000);
}
export function stopTyping() {
  clearTimeout(rt.typingTimer);
  if (rt.typingOn) send({ type: 'typing', conversation: store.conversation, active: false });
  rt.typingOn = false;
}
export function autosize() {
  composer.style.height = 'auto';
  composer.style.height = Math.min(composer.scrollHeight + 4, 140) + 'px';
}
export function wireComposer() {
  footer.addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); composer.focus(); });
  composer.addEventListener('input', onComposerInput);
  composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
}

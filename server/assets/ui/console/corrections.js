// Taking back a message sent by mistake: for `retract_window_s` (from `welcome`) after sending,
// the professional's own message (not a note) carries a "Take back" button; the server stores a
// `system retracted` event that reaches both sides, and the message shows as withdrawn (its text
// struck through for the professional, "This message was withdrawn" for the client).

import { h } from '../shared/dom.js';
import { send } from './connection.js';
import { t } from './i18n.js';
import { showError } from './notices.js';
import { S, fmtTime } from './state.js';

/** Adds the "Take back" button to one's own message `el` (seq known) while the window lasts. */
export function offerRetract(c, el, seq, at) {
  const sentAt = Date.parse(at);
  if (!S.retractWindow || !Number.isFinite(sentAt) || el.dataset.kind !== 'message') return;
  if (c.status !== 'open' || c.retracted.has(seq) || el.querySelector('.retract')) return;
  const until = sentAt + S.retractWindow * 1000;
  if (until <= Date.now()) return;
  const btn = h('button', { type: 'button', class: 'retract link-btn', testid: 'retract', 'data-until': until,
    'aria-label': t('retractLabel', { time: fmtTime(at) }), text: t('retract'), onclick: () => retract(c, seq, btn) });
  el.querySelector('.meta').append(' ', btn);
}

function retract(c, seq, btn) {
  if (!send({ type: 'retract', conversation: c.id, seq }, { kind: 'retract', conversation: c.id, seq })) {
    return showError(`${t('err_retract')}: ${t('why_offline')}`, c, 'offline', 'retract');
  }
  btn.disabled = true;
  btn.textContent = t('retracting');
}

/** The server's answer was an error: the button comes back (if the window still lasts). */
export function retractFailed(c, seq) {
  const btn = c.el.messages.querySelector(`[data-seq="${seq}"] .retract`);
  if (!btn) return;
  if (Number(btn.dataset.until) <= Date.now()) { btn.remove(); return; }
  btn.disabled = false;
  btn.textContent = t('retract');
}

/** A `system retracted` event: the message it names shows as withdrawn, now or once drawn. */
export function onRetracted(c, ev) {
  const seq = ev.detail && ev.detail.seq;
  if (!Number.isInteger(seq)) return;
  c.retracted.add(seq);
  const el = c.el.messages.querySelector(`[data-seq="${seq}"]`);
  if (el) markWithdrawn(el);
}

export function markWithdrawn(el) {
  if (el.dataset.retracted === 'true') return;
  el.dataset.retracted = 'true';
  el.classList.add('withdrawn');
  const btn = el.querySelector('.retract');
  if (btn) btn.remove();
  el.append(h('div', { class: 'withdrawn-label', testid: 'withdrawn', text: t('withdrawn') }));
}

/** Once a second: buttons whose window has passed go away. */
export function expireRetracts() {
  const now = Date.now();
  for (const btn of document.querySelectorAll('.retract[data-until]')) {
    if (Number(btn.dataset.until) <= now && !btn.disabled) btn.remove();
  }
}

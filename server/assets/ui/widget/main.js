// The chat widget for patients (docs/ui.md): mounted by the /widget.js loader. This module
// draws the panel's state (render), opens and closes it, runs the demo identification and
// starts everything up. The other modules: view (DOM), state (sessionStorage), frames
// (connection and inbound frames), messages (log and composer), start (start form, closing and
// rating), strings, styles; ../shared/ holds the protocol client shared with the console.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { cfg } from './config.js';
import { t, tn } from './strings.js';
import { store, save, rt, active } from './state.js';
import {
  host, shadow, badge, launcher, titleEl, identityEl, identifyBtn, endChatBtn, headActions, connEl, noticeEl, idName, idErr, idSubmit,
  idForm, idCancel, closeBtn, serviceSel, startView, chatView, scroll, leaveBox, leftEl,
  footer, composer, sendBtn, closedEl, closedHead, closingMsg, rateForm, thanksEl, newChatBtn, panel, root,
} from './view.js';
import { client } from './frames.js';
import { drawPending, stopTyping, maybeSendRead, scrollDown, wireComposer } from './messages.js';
import { loadServices, checkDemo, wireStart } from './start.js';
import { renderQueue, renderLeave, cancelLeave, wireLeave } from './waiting.js';

export function openIdentify() {
  idForm.hidden = false;
  idErr.hidden = true;
  idName.focus();
}
export function closeIdentify(refocus) {
  idForm.hidden = true;
  if (refocus && !identifyBtn.hidden) identifyBtn.focus();
}
export async function submitIdentify(e) {
  e.preventDefault();
  const name = idName.value.trim();
  const fail = (msg) => { idErr.textContent = msg; idErr.hidden = false; idName.setAttribute('aria-invalid', 'true'); idName.focus(); };
  if (!name) return fail(t('identifyMissing'));
  idName.removeAttribute('aria-invalid');
  idSubmit.disabled = true;
  try {
    const sub = 'demo-' + uuid().replace(/-/g, '').slice(0, 16);
    const res = await fetch(cfg.root + '/api/v1/dev/token', {
      method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client: { sub: sub, name: name } }),
    });
    const j = res.ok ? await res.json() : null;
    if (!j || typeof j.token !== 'string') throw new Error('no token');
    store.token = j.token;
    save();
    closeIdentify(false);
    (!footer.hidden && !composer.disabled ? composer : titleEl).focus();
    // Reconnect with the token; the conversation continues through resume.
    rt.identifying = true;
    client.reconnect('identify');
  } catch (err) {
    fail(t('identifyFailed'));
  } finally {
    idSubmit.disabled = false;
  }
}

// Rendering.
export function notice(text) {
  clearTimeout(rt.noticeTimer);
  noticeEl.textContent = text;
  rt.noticeTimer = setTimeout(() => { noticeEl.textContent = ''; }, 10000);
}
export function renderConn() {
  const down = active() && !client.welcomed && !rt.identifying && (client.attempt > 0 || client.everWelcomed);
  connEl.textContent = down ? t('reconnecting') : '';
}
export function renderBadge() {
  badge.hidden = rt.unread === 0 || store.open;
  badge.textContent = '';
  badge.append(h('span', { 'aria-hidden': 'true', text: String(rt.unread) }), h('span', { class: 'vh', text: tn('newCount', rt.unread) }));
  renderTitle();
}
/**
 * The page title counts the professional's unread messages ("(2) …") while the panel is
 * closed or the tab hidden, and is the page's own again once they are seen. A title the host
 * page sets meanwhile becomes the one restored.
 */
function renderTitle() {
  const mine = /^\(\d+\) /;
  if (rt.title === null || !mine.test(document.title)) rt.title = document.title;
  const want = rt.unread > 0 ? '(' + rt.unread + ') ' + rt.title : rt.title;
  if (document.title !== want) document.title = want;
  if (rt.unread === 0) rt.title = null;
}
export function panelHasFocus() {
  const a = shadow.activeElement;
  return !!a && panel.contains(a);
}

export function render() {
  const inChat = active() || !!rt.left;
  const st = store.status;
  const complete = st === 'complete';
  const showClosed = inChat && complete && (rt.closedReady || store.closing !== null);
  const focusIn = panelHasFocus();
  const a = shadow.activeElement;
  const typingInField = a && /^(TEXTAREA|INPUT|SELECT)$/.test(a.tagName);
  const footerWasHidden = footer.hidden || composer.disabled;
  const leaveWasHidden = leaveBox.hidden;
  const closedWasHidden = closedEl.hidden;
  const rateWasShown = !rateForm.hidden;

  startView.hidden = inChat;
  chatView.hidden = !inChat;
  if (inChat) { scroll.setAttribute('tabindex', '0'); scroll.setAttribute('role', 'region'); scroll.setAttribute('aria-label', t('conversation')); }
  else { scroll.removeAttribute('tabindex'); scroll.removeAttribute('role'); scroll.removeAttribute('aria-label'); }

  const waiting = active() && (st === 'starting' || st === 'queued');
  renderLeave();
  renderQueue(waiting);

  // The patient may write while waiting: the professional reads it on taking the chat.
  footer.hidden = !active() || !st || st === 'starting';
  const locked = complete && showClosed;
  composer.disabled = sendBtn.disabled = locked || st === 'starting';
  composer.placeholder = locked ? t('composerEnded') : st === 'queued' ? t('composerPhQueued') : t('composerPh');
  composer.setAttribute('aria-describedby', st === 'queued' ? 'lk-queue-note lk-hint' : 'lk-hint');
  if (locked) stopTyping();

  closedEl.hidden = !showClosed || !!rt.left;
  closingMsg.textContent = store.closing || t('closedDefault');
  rateForm.hidden = store.rated;
  thanksEl.textContent = store.rated ? t('rateThanks') : '';
  newChatBtn.hidden = !store.rated;

  identifyBtn.hidden = !(rt.demo && store.conversation && !complete && !store.identity);
  if (identifyBtn.hidden) idForm.hidden = true;
  headActions.hidden = identifyBtn.hidden && endChatBtn.hidden;
  identityEl.hidden = !store.identity;
  identityEl.textContent = store.identity ? t('identified', { name: store.identity }) : '';
  renderConn();

  if (focusIn && !leaveWasHidden && leaveBox.hidden && !leftEl.hidden) return; // finishLeave moves focus
  if (focusIn && showClosed && rateWasShown && store.rated) thanksEl.focus();
  else if (focusIn && showClosed && closedWasHidden) { closedHead.focus(); closedEl.scrollIntoView({ block: 'nearest' }); }
  else if (focusIn && footerWasHidden && !footer.hidden && !composer.disabled && !typingInField) composer.focus();
  else if (focusIn && !panelHasFocus()) titleEl.focus(); // the focused control was hidden
}

export function setOpen(open, moveFocus) {
  store.open = open;
  save();
  panel.hidden = !open;
  root.classList.toggle('is-open', open);
  launcher.setAttribute('aria-expanded', String(open));
  renderBadge();
  if (!open) {
    if (moveFocus) launcher.focus();
    return;
  }
  checkDemo();
  if (!active()) loadServices();
  maybeSendRead();
  scrollDown();
  if (!moveFocus) return;
  if (!active()) (rt.servicesState === 'ok' ? serviceSel : titleEl).focus();
  else if (!closedEl.hidden && !store.rated) closedHead.focus();
  else if (!footer.hidden && !composer.disabled) composer.focus();
  else titleEl.focus();
}


// Start-up.
function onPanelKey(e) {
  if (e.key !== 'Escape' || !store.open) return;
  if (!idForm.hidden && idForm.contains(shadow.activeElement)) return closeIdentify(true);
  if (!leaveBox.hidden && leaveBox.contains(shadow.activeElement)) { e.stopPropagation(); return cancelLeave(true); }
  e.stopPropagation();
  setOpen(false, true);
}

function init() {
  launcher.addEventListener('click', () => setOpen(!store.open, true));
  closeBtn.addEventListener('click', () => setOpen(false, true));
  identifyBtn.addEventListener('click', openIdentify);
  idForm.addEventListener('submit', submitIdentify);
  idCancel.addEventListener('click', () => closeIdentify(true));
  root.addEventListener('keydown', onPanelKey);
  wireComposer();
  wireStart();
  wireLeave();
  document.body.appendChild(host);
  store.pending.forEach(drawPending);
  render();
  if (active()) { client.connect(); checkDemo(); }
  if (store.open) setOpen(true, false);
  document.addEventListener('visibilitychange', maybeSendRead);
  window.addEventListener('online', () => {
    if (!client.ws && active()) client.retryNow();
  });
}
/** Mounts the widget on the page (called once by the /widget.js loader). */
export function mount() {
  if (document.body) init(); else document.addEventListener('DOMContentLoaded', init);
  return { open: () => setOpen(true, true), close: () => setOpen(false, false) };
}
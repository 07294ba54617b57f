// The panel as a whole: drawPanel() draws it from the state (which view shows, the composer,
// the closed and left views, the header's buttons, and where the focus goes when the focused
// control is hidden), and setOpen() opens and closes it. Modules below reach drawPanel()
// through render.js, so this one may import every view it draws.

import { t } from './strings.js';
import { store, save, rt, active, isAsync } from './state.js';
import {
  shadow, launcher, titleEl, identityEl, urgentEl, identifyBtn, endChatBtn, headActions, idForm,
  serviceSel, startView, chatView, scroll, leaveBox, leftEl, footer, composer, sendBtn,
  closedEl, closedHead, closingMsg, rateForm, thanksEl, newChatBtn, panel, root, mineBtn, mineHead,
} from './view.js';
import { renderBadge, renderConn, panelHasFocus } from './indicators.js';
import { stopTyping, maybeSendRead, scrollDown } from './messages.js';
import { loadServices, checkDemo, renderGate, findService } from './start.js';
import { renderQueue, renderLeave, renderAsync } from './waiting.js';
import { renderMine } from './mine.js';
import { renderAttach } from './attach.js';

export function drawPanel() {
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

  const mine = rt.view === 'mine';
  renderTitle(inChat, mine);
  startView.hidden = inChat || mine;
  chatView.hidden = !inChat || mine;
  renderMine();
  if (inChat && !mine) { scroll.setAttribute('tabindex', '0'); scroll.setAttribute('role', 'region'); scroll.setAttribute('aria-label', t('conversation')); }
  else { scroll.removeAttribute('tabindex'); scroll.removeAttribute('role'); scroll.removeAttribute('aria-label'); }

  const waiting = active() && (st === 'starting' || st === 'queued');
  renderLeave();
  // A non-urgent message has no queue to show: its reply deadline instead.
  renderQueue(waiting && !isAsync() && !mine);
  renderAsync(active() && store.channel === 'message' && !mine && st !== 'complete');
  renderGate();

  // The patient may write while waiting: the professional reads it on taking the chat.
  footer.hidden = !active() || !st || st === 'starting' || mine;
  const locked = complete && showClosed;
  composer.disabled = sendBtn.disabled = locked || st === 'starting';
  composer.placeholder = locked ? t('composerEnded') : isAsync() ? t('composerPhAsync') : st === 'queued' ? t('composerPhQueued') : t('composerPh');
  composer.setAttribute('aria-describedby', st === 'queued' && !isAsync() ? 'lk-queue-note lk-hint' : 'lk-hint');
  if (locked) stopTyping();
  renderAttach(!footer.hidden && !composer.disabled && !complete && !rt.left);

  closedEl.hidden = !showClosed || !!rt.left;
  closingMsg.textContent = store.closing || t('closedDefault');
  rateForm.hidden = store.rated;
  thanksEl.textContent = store.rated ? t('rateThanks') : '';
  newChatBtn.hidden = !store.rated;

  identifyBtn.hidden = !((rt.demo || rt.identification) && store.conversation && !complete && !store.identity);
  if (identifyBtn.hidden && !(rt.idGate && !store.identity)) idForm.hidden = true;
  headActions.hidden = identifyBtn.hidden && endChatBtn.hidden && mineBtn.hidden;
  // The guidance stays while the chat lasts (it is what to do now, not a passing notice).
  urgentEl.hidden = !(store.urgent && store.conversation && !complete);
  urgentEl.textContent = urgentEl.hidden ? '' : store.urgent;
  identityEl.hidden = !store.identity;
  identityEl.textContent = store.identity ? t('identified', { name: store.identity }) : '';
  renderConn();

  if (focusIn && !leaveWasHidden && leaveBox.hidden && !leftEl.hidden) return; // finishLeave moves focus
  if (focusIn && showClosed && rateWasShown && store.rated) thanksEl.focus();
  else if (focusIn && showClosed && closedWasHidden) { closedHead.focus(); closedEl.scrollIntoView({ block: 'nearest' }); }
  else if (focusIn && footerWasHidden && !footer.hidden && !composer.disabled && !typingInField) composer.focus();
  else if (focusIn && !panelHasFocus()) titleEl.focus(); // the focused control was hidden
}

const TITLES = { message: 'titleMessage', form: 'titleForm' };

/**
 * The panel's title names the channel: the conversation's, or in the start form the chosen
 * service's (a contact form sent is still a form); "Chat" otherwise, and over My conversations.
 */
function renderTitle(inChat, mine) {
  const svc = inChat || mine ? null : findService(serviceSel.value);
  const channel = mine ? null : inChat ? store.channel : store.formDone ? 'form' : svc && svc.channel;
  const text = t(TITLES[channel] || 'title');
  if (titleEl.textContent !== text) titleEl.textContent = text;
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
  loadServices(); // also in a conversation: whether its service takes documents
  maybeSendRead();
  scrollDown();
  if (!moveFocus) return;
  if (rt.view === 'mine') mineHead.focus();
  else if (!active()) (rt.servicesState === 'ok' ? serviceSel : titleEl).focus();
  else if (!closedEl.hidden && !store.rated) closedHead.focus();
  else if (!footer.hidden && !composer.disabled) composer.focus();
  else titleEl.focus();
}

// Keyboard shortcuts of the console, listed in the help dialog (the "?" button, Alt+H, or "?"
// outside a text field). They switch, focus and open things; none of them ever sends anything
// on its own: sending is always Enter in a composer or its button, closing and transferring
// always the confirm button of their form. Alt+letter is read from `event.code`, so it works
// whatever the keyboard layout (and on a Mac, where Option+letter types a character). Chosen
// not to clash with the browser (Alt+Left/Right are back/forward, Alt+F/E open its menu) nor
// with screen readers (which use Insert, CapsLock or Ctrl+Option).

import { toggleForm } from './actions.js';
import { openPicker } from './canned.js';
import { setMode } from './composer.js';
import { t } from './i18n.js';
import { $, S } from './state.js';
import { toggleInbox } from './inbox.js';
import { isSupervisor, setView, toggleView } from './supervision.js';
import { select } from './tabs.js';

const SHORTCUTS = [
  ['Alt+↓', 'scNext'], ['Alt+↑', 'scPrev'], ['Alt+J', 'scJump'], ['Alt+C', 'scComposer'],
  ['Alt+P', 'scReply'], ['Alt+L', 'scNote'], ['Alt+T', 'scTransfer'], ['Alt+X', 'scClose'],
  ['Alt+R', 'scCanned'], ['Alt+Q', 'scQueues'], ['Alt+I', 'scInbox'], ['Alt+O', 'scSupervision', isSupervisor], ['Alt+H, ?', 'scHelp'],
];

/** The live chats in the order of their tabs, then the closed ones. */
function chatOrder() {
  return [...$('tabs').children, ...$('tabs-closed').children].map((tab) => S.chats.get(tab.dataset.conversation)).filter(Boolean);
}
const active = () => S.chats.get(S.activeId);
const inText = (el) => !!el && (el.isContentEditable || /^(TEXTAREA|INPUT|SELECT)$/.test(el.tagName));

/** Selects a chat and takes the focus along: to its composer when writing, else to its tab. */
function goTo(c) {
  if (!c) return;
  if (S.view !== 'chats') setView(false);
  const writing = document.activeElement && document.activeElement.classList.contains('composer-text');
  select(c.id);
  if (writing && !c.el.composer.disabled) c.el.composer.focus(); else c.el.tab.focus();
}
function step(d) {
  const order = chatOrder().filter((c) => c.status === 'open' || c.id === S.activeId);
  if (!order.length) return;
  const i = order.findIndex((c) => c.id === S.activeId);
  goTo(order[(i + d + order.length) % order.length]);
}
function focusComposer() {
  const c = active();
  if (S.view !== 'chats' && c) setView(false);
  if (c && !c.el.composer.disabled) c.el.composer.focus();
}
function openForm(which) {
  const c = active();
  if (S.view !== 'chats' && c && c.status === 'open') setView(false);
  if (c && c.status === 'open') toggleForm(c, which, true);
}

const ALT = {
  ArrowDown: () => step(1),
  ArrowUp: () => step(-1),
  KeyJ: () => startJump(),
  KeyC: focusComposer,
  KeyP: () => active() && setMode(active(), 'message', { focus: true }),
  KeyL: () => active() && setMode(active(), 'note', { focus: true }),
  KeyT: () => openForm('transfer'),
  KeyX: () => openForm('close'),
  KeyR: () => { const c = active(); if (c && c.status === 'open') openPicker(c); },
  KeyQ: () => { const b = document.querySelector('#queues button'); if (b) b.focus(); },
  KeyH: () => openHelp(),
  KeyO: () => toggleView(),
  KeyI: () => toggleInbox(),
};

export function onShortcut(e) {
  if (jump.on) return onJumpKey(e);
  if (e.ctrlKey || e.metaKey || e.defaultPrevented || document.querySelector('dialog[open]')) return;
  if (!e.altKey) {
    if (e.key === '?' && !inText(e.target)) { e.preventDefault(); openHelp(); }
    return;
  }
  const act = ALT[e.code];
  if (!act) return;
  e.preventDefault();
  act();
}

// Alt+J, then the chat's letter(s): "AA" waits for its second letter while "A" is ambiguous.
const jump = { on: false, typed: '', timer: 0 };
function startJump() {
  jump.on = true;
  jump.typed = '';
  renderJump();
}
function endJump() {
  clearTimeout(jump.timer);
  jump.on = false;
  $('jump').hidden = true;
}
function renderJump() {
  clearTimeout(jump.timer);
  jump.timer = setTimeout(endJump, 3000);
  $('jump').hidden = false;
  $('jump').textContent = t('jumpPrompt', { typed: jump.typed });
}
function onJumpKey(e) {
  if (['Shift', 'Alt', 'Control', 'Meta'].includes(e.key)) return;
  e.preventDefault();
  e.stopPropagation();
  const chats = chatOrder();
  const exact = chats.find((c) => c.letter === jump.typed);
  if (e.key === 'Enter' && exact) { endJump(); return goTo(exact); }
  if (!/^Key[A-Z]$/.test(e.code)) return endJump();
  jump.typed += e.code.slice(3);
  const match = chats.filter((c) => c.letter.startsWith(jump.typed));
  if (match.length === 0) return endJump();
  const hit = match.find((c) => c.letter === jump.typed);
  if (hit && match.length === 1) { endJump(); return goTo(hit); }
  renderJump();
}

let helpOpener = null;
export function openHelp() {
  const dlg = $('help');
  if (dlg.open) return;
  helpOpener = document.activeElement;
  $('help-h').textContent = t('scTitle');
  $('help-note').textContent = t('scIntro');
  $('help-close').textContent = t('close');
  $('help-table').replaceChildren(...SHORTCUTS.filter(([, , shown]) => !shown || shown()).map(([keys, what]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.append(...keys.split(', ').flatMap((k, i) => [i ? ' / ' : '', Object.assign(document.createElement('kbd'), { textContent: k })]));
    const td = document.createElement('td');
    td.textContent = t(what);
    tr.append(th, td);
    return tr;
  }));
  dlg.showModal();
}
export function wireHelp() {
  $('shortcuts-btn').addEventListener('click', openHelp);
  $('help').addEventListener('close', () => { if (helpOpener && helpOpener.focus) helpOpener.focus(); });
}

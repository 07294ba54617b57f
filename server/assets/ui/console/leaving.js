// Logging out with chats held: the patients would get nothing until the grace period returned
// their chats to the queue. So the console asks first and offers to hand the chats back at once
// (`status away`, so that automatic routing does not give them straight back, then `release`
// for each); it logs out once every chat is handed back. With no chat held it logs out at once.

import { h } from '../shared/dom.js';
import { toggleForm } from './actions.js';
import { logout, send } from './connection.js';
import { count, t } from './i18n.js';
import { chatsWithQueuedSms } from './smschat.js';
import { $, S, chatTitle } from './state.js';
import { select } from './tabs.js';

const HAND_BACK_TIMEOUT_MS = 8000;
const waiting = new Set(); // conversations handed back, `released` not yet received
let timer = 0;

const held = () => [...S.chats.values()].filter((c) => c.status === 'open');

export function askLogout() {
  const chats = held();
  if (!chats.length) return logout();
  $('logout-h').textContent = t('logoutTitle');
  $('logout-text').textContent = count(chats.length, 'logoutHeld');
  $('logout-list').replaceChildren(...chats.map((c) => h('li', { text: chatTitle(c) })));
  const queued = chatsWithQueuedSms();
  $('logout-explain').textContent = [t('logoutExplain'),
    queued.length && t('smsLogoutQueued', { chats: queued.map(chatTitle).join(', ') })].filter(Boolean).join(' ');
  $('logout-status').textContent = '';
  $('logout-release').textContent = count(chats.length, 'logoutRelease');
  $('logout-anyway').textContent = t('logoutAnyway');
  $('logout-transfer').textContent = t('logoutTransfer');
  $('logout-cancel').textContent = t('cancel');
  $('logout-anyway').hidden = true;
  $('logout-release').disabled = $('logout-cancel').disabled = $('logout-transfer').disabled = false;
  $('logout-dialog').showModal();
  $('logout-release').focus();
}

function handBack() {
  const chats = held();
  if (!send({ type: 'status', availability: 'away' }, { kind: 'status' })) return stuck(t('logoutOffline'));
  $('logout-release').disabled = $('logout-cancel').disabled = $('logout-transfer').disabled = true;
  for (const c of chats) {
    waiting.add(c.id);
    send({ type: 'release', conversation: c.id }, { kind: 'release', conversation: c.id });
  }
  $('logout-status').textContent = count(chats.length, 'logoutReleasing');
  clearTimeout(timer);
  timer = setTimeout(() => stuck(t('logoutSlow')), HAND_BACK_TIMEOUT_MS);
  if (!chats.length) logout();
}

function stuck(text) {
  $('logout-status').textContent = text;
  $('logout-anyway').hidden = false;
  $('logout-cancel').disabled = false;
}

/** `released` with reason `handed_back`: logs out once the last one is back in the queue. */
export function onHandedBack(conversation) {
  if (!waiting.delete(conversation) || waiting.size) return;
  clearTimeout(timer);
  logout();
}

/** A `release` was refused: say so, and let the professional log out anyway or stay. */
export function releaseFailed(conversation) {
  if (!waiting.delete(conversation)) return;
  clearTimeout(timer);
  stuck(t('logoutFailed'));
}

/** Or to a colleague: back to the first held chat with its transfer form open. */
function transferFirst() {
  const c = held()[0];
  $('logout-dialog').close();
  if (!c) return;
  select(c.id);
  toggleForm(c, 'transfer', true);
}

export function wireLogout() {
  $('logout').addEventListener('click', askLogout);
  $('logout-release').addEventListener('click', handBack);
  $('logout-anyway').addEventListener('click', () => logout());
  $('logout-transfer').addEventListener('click', transferFirst);
  $('logout-cancel').addEventListener('click', () => { waiting.clear(); clearTimeout(timer); $('logout-dialog').close(); });
  $('logout-dialog').addEventListener('close', () => { waiting.clear(); clearTimeout(timer); });
}

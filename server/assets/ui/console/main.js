// The professional console (served at /console; docs/ui.md): start-up, the demo login (or a
// pasted JWT when the dev endpoints answer 404), logging out, and the page's static controls.
// Top of the console's modules and the only one that wires them together: it hands the frame
// table (inbound.js) to the connection, then starts. The layers, each importing only those
// below it (docs/ui.md): i18n, sms → state → notices, alerts, smschat → documents → connection
// → corrections, canned, colleagues, views → supervision, inbox → log → tabs → attach →
// composer, queues, actions → transfer, leaving, shortcuts → chats → events → inbound → thread
// → main.
//
// Patient safety: every chat gets a letter ("A", "B"…) and a colour that no other open chat
// has; both are shown on its tab, pinned in its pane header and on its composer. Each pane owns
// its textarea, and every handler of a pane closes over that pane's conversation id, so text
// is always sent to the conversation it was written in, whatever tab is selected meanwhile.

import { h } from '../shared/dom.js';
import { renderAlertSettings, unlockAudio } from './alerts.js';
import { wireCanned } from './canned.js';
import { renderHeader } from './chats.js';
import { renderComposer } from './composer.js';
import { client, connect, routeFrames, send } from './connection.js';
import { lang, setLang, t } from './i18n.js';
import { inboundHandlers } from './inbound.js';
import { tickInbox, wireInbox } from './inbox.js';
import { wireLogout } from './leaving.js';
import { markRead } from './log.js';
import { renderStatus, tick } from './queues.js';
import { onShortcut, wireHelp } from './shortcuts.js';
import { wireSms } from './smschat.js';
import { $, S, STORE_KEY, loadStore, saveStore } from './state.js';
import { tickSupervision, wireSupervision } from './supervision.js';
import { wireAccess } from './access.js';
import { clearUnread, onTabKey, placeTabs, select, updateEmpty } from './tabs.js';
import { threadFrames, wireThread } from './thread.js';
import { showView } from './views.js';

/** The page's fixed texts in the chosen language (elements marked with data-i18n…). */
function translateStatic() {
  document.documentElement.lang = lang();
  document.title = t('pageTitle');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['aria-label', 'title']) {
    for (const el of document.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
  }
  for (const sel of [$('lang'), $('login-lang')]) sel.value = lang();
}

export async function boot() {
  routeFrames(threadFrames(inboundHandlers)); // New thread sees its own answers first
  translateStatic();
  S.stored = loadStore();
  S.anonCounter = S.stored.anon_counter || 0;
  S.letters = S.stored.letters || {};
  S.nextLetter = S.stored.next_letter || 0;
  S.closedOpen = !!S.stored.closed_open;
  S.supervising = !!S.stored.supervising;
  S.view = S.stored.view || (S.supervising ? 'supervision' : 'chats');
  wireStatic();
  await loadServices();
  // Back from the organisation's sign-in (/auth/console/callback): the token is in the
  // fragment, which no server and no log sees; it leaves the address bar at once.
  const signedIn = /^#token=([\w.-]+)$/.exec(location.hash);
  if (signedIn) {
    history.replaceState(null, '', location.pathname + location.search);
    login(signedIn[1], jwtSubject(signedIn[1]));
    return;
  }
  if (S.stored.token) {
    S.token = S.stored.token;
    S.meId = S.stored.professional || null;
    S.chosenAvailability = S.stored.availability || null;
    loadPros().then(() => S.chats.forEach(renderHeader));
    enterApp();
    connect();
  } else {
    const msg = sessionStorage.getItem(`${STORE_KEY}.msg`);
    sessionStorage.removeItem(`${STORE_KEY}.msg`);
    showLogin(msg);
  }
}
export async function loadServices() {
  try {
    const r = await fetch(`/api/v1/services?lang=${lang()}`);
    if (!r.ok) return;
    S.services = (await r.json()).services || [];
    S.teams = [...new Set(S.services.flatMap((s) => s.teams || []))];
  } catch { /* names fall back to ids */ }
}
export async function loadPros() {
  try {
    const r = await fetch('/api/v1/dev/professionals');
    S.pros = r.ok ? (await r.json()).professionals || [] : null;
  } catch { S.pros = null; }
  if (S.pros) S.pros.forEach((p) => p.teams.forEach((t) => { if (!S.teams.includes(t)) S.teams.push(t); }));
  return S.pros;
}
/** The `sub` of a JWT (the professional's id), read without checking: the server checks. */
export function jwtSubject(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).sub || null;
  } catch { return null; }
}
export async function showLogin(message) {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  let auth = {};
  try { auth = await (await fetch('/api/v1/auth')).json(); } catch { /* no provider */ }
  $('login-oidc').hidden = !auth.oidc;
  const pros = await loadPros();
  if (pros) {
    const list = $('login-list');
    list.replaceChildren(...pros.map((p) => h('li', null, h('button', {
      type: 'button', class: 'login-btn', testid: `login-${p.id}`, onclick: () => devLogin(p.id),
    }, h('span', { class: 'login-name', text: p.name }), h('span', { class: 'login-teams', text: [p.teams.join(', '), ...(p.roles || []).map((r) => t(`role_${r}`))].join(' · ') })))));
    $('login').hidden = false;
  } else if (!auth.oidc) {
    $('token-form').hidden = false;
  }
}
export async function devLogin(id) {
  try {
    const r = await fetch('/api/v1/dev/token', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ professional: id }),
    });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    login((await r.json()).token, id);
  } catch (e) {
    $('login-error').textContent = t('loginFailed', { why: e.message });
  }
}
export function login(token, professional) {
  S.token = token;
  S.meId = professional;
  S.stored = {};
  saveStore();
  enterApp();
  connect();
}
export function enterApp() {
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  updateEmpty();
}
export function wireStatic() {
  $('availability').addEventListener('change', (e) => {
    S.chosenAvailability = e.target.value;
    send({ type: 'status', availability: e.target.value }, { kind: 'status' });
    saveStore();
  });
  $('capacity').addEventListener('change', (e) => {
    const n = Math.round(Number(e.target.value));
    if (!(n >= 1)) return renderStatus();
    send({ type: 'status', capacity: n }, { kind: 'status' });
  });
  renderAlertSettings();
  for (const sel of [$('lang'), $('login-lang')]) sel.addEventListener('change', (e) => switchLanguage(e.target.value));
  for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, unlockAudio, { once: true, capture: true });
  wireLogout();
  wireCanned();
  wireSupervision();
  wireAccess();
  wireInbox();
  wireThread();
  wireSms((id) => { showView('chats'); select(id); S.chats.get(id).el.composer.focus(); }, renderComposer);
  $('reconnect-now').addEventListener('click', () => client.retryNow());
  $('token-form').addEventListener('submit', (e) => { e.preventDefault(); if ($('token-input').value.trim()) login($('token-input').value.trim(), null); });
  $('tabs').addEventListener('keydown', onTabKey);
  $('tabs-closed').addEventListener('keydown', onTabKey);
  $('closed-toggle').addEventListener('click', () => { S.closedOpen = !S.closedOpen; placeTabs(); saveStore(); });
  document.addEventListener('keydown', onShortcut, true);
  wireHelp();
  document.addEventListener('visibilitychange', () => {
    const c = S.chats.get(S.activeId);
    if (c && !document.hidden) { clearUnread(c); markRead(c); }
  });
  window.addEventListener('pagehide', saveStore);
  setInterval(() => { tick(); tickSupervision(); tickInbox(); }, 1000);
}

boot();

/**
 * Another language: remembered on this device, then the page is loaded again in it (the
 * session store keeps the login, the chats, drafts and unsent messages, as on any reload).
 */
function switchLanguage(code) {
  setLang(code);
  saveStore();
  location.reload();
}

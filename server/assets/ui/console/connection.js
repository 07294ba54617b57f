// The console's connection to /ws/console (the protocol client shared with the widget): hello
// with the chats to resume, each chat's outbox, and logging out. It imports no view: incoming
// frames go to the handlers that inbound.js registers with `routeFrames`, so the views can
// depend on the connection and never the other way round.

import { Client } from '../shared/client.js';
import { Outbox } from '../shared/outbox.js';
import { t } from './i18n.js';
import { clearStaleErrors } from './notices.js';
import { $, S, STORE_KEY, saveStore } from './state.js';

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/console`;

let handlers = {};

export const client = new Client({
  url: wsUrl(),
  hello: () => ({ type: 'hello', token: S.token, resume: resumeList() }),
  onFrame: dispatch,
  onClose: (code) => {
    S.chats.forEach((c) => { c.loading = false; c.typingOut = false; });
    if (code === 4401 || code === 4403) {
      refreshOrLogout();
      return false;
    }
    showOffline(true);
    return true;
  },
  shouldReconnect: () => !!S.token,
});
export const connect = () => client.connect();
export function showOffline(on) {
  $('offline').hidden = !on;
  document.body.classList.toggle('is-offline', on);
}
export function resumeList() {
  const known = new Map(Object.entries(S.stored.last_seq || {}));
  for (const c of S.chats.values()) if (c.status === 'open') known.set(c.id, Math.max(c.maxSeq, known.get(c.id) || 0));
  return [...known].filter(([, seq]) => seq > 0).map(([conversation, after_seq]) => ({ conversation, after_seq }));
}

/** Sends a frame with a fresh `req`; `ctx` is remembered to explain a later error. */
export function send(frame, ctx) {
  return client.send(frame, ctx);
}

/** A chat's sends (messages and notes, `sms` when sent as SMS) awaiting their ack, sent again after a reconnect. */
export function chatOutbox(id) {
  return new Outbox(client,
    (p) => ({ type: p.kind === 'note' ? 'note' : 'send', conversation: id, client_msg_id: p.id, body: p.body, ...(p.sms ? { sms: true } : {}) }),
    (p) => ({ kind: p.kind, conversation: id, cmid: p.id }));
}

/** Which function handles each frame type (`{ welcome: fn, … }`), set once at start-up. */
export function routeFrames(table) {
  handlers = table;
}
function dispatch(f, ctx) {
  const fn = handlers[f.type];
  if (fn) fn(f, ctx);
  if (ctx && ctx.kind !== 'history' && f.type !== 'error') clearStaleErrors(ctx);
}

/** Forgets the session on this tab and starts again at the login (with `message`, if any). */
/**
 * The console token ran out: a sign-in through the organisation's provider is renewed
 * (POST /auth/console/refresh, its HttpOnly cookie) and the console reconnects; otherwise,
 * or when the provider ended the sign-in, back to the login.
 */
export async function refreshOrLogout() {
  try {
    const r = await fetch('/auth/console/refresh', { method: 'POST', credentials: 'same-origin' });
    if (r.ok) {
      const { token } = await r.json();
      if (typeof token === 'string' && token) {
        S.token = token;
        saveStore();
        client.connect();
        return;
      }
    }
  } catch { /* offline or no provider: log in again */ }
  logout(t('loginInvalid'));
}

export function logout(message) {
  S.token = null;
  S.leaving = true; // asked already: no second question from the page (smschat.js)
  client.stop();
  sessionStorage.removeItem(STORE_KEY);
  if (message) sessionStorage.setItem(`${STORE_KEY}.msg`, message);
  location.reload();
}

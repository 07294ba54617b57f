// "Identify" inside a chat, or before starting a service that needs it. With the organisation's
// strong identification (`[identification]`)
// the widget asks the server for a sign-in bound to this chat (its resume token), opens it in a
// pop-up (strong-authentication dialogues refuse iframes), and takes the identified client
// token the pop-up's last page posts back — only from the server's origin, only for this
// chat — then reconnects, so the same conversation continues identified. In demo mode the
// patient types a name instead and the server mints the token.

import { cfg } from './config.js';
import { t } from './strings.js';
import { store, save, rt } from './state.js';
import { identifyBtn, idForm, idName, idErr, idSubmit, idCancel, footer, composer, titleEl, serviceSel } from './view.js';
import { client } from './connection.js';
import { notice } from './indicators.js';

/** The "Identify" button and its form. */
export function wireIdentify() {
  identifyBtn.addEventListener('click', openIdentify);
  idForm.addEventListener('submit', submitIdentify);
  idCancel.addEventListener('click', () => closeIdentify(true));
}

let returnTo = null; // the button that opened the form (the header's, or the start form's gate)

export function openIdentify(from) {
  // In a chat: that chat is identified in place; before one: for the service chosen.
  if (rt.identification) return identifyStrongly(store.conversation ? null : serviceSel.value);
  returnTo = from instanceof HTMLElement ? from : null;
  idForm.hidden = false;
  idErr.hidden = true;
  idName.focus();
}
export function closeIdentify(refocus) {
  idForm.hidden = true;
  rt.idGate = false;
  if (refocus && returnTo && returnTo.isConnected && !returnTo.closest('[hidden]')) returnTo.focus();
  else if (refocus && !identifyBtn.hidden) identifyBtn.focus();
}
export async function submitIdentify(e) {
  e.preventDefault();
  const name = idName.value.trim();
  const fail = (msg) => { idErr.textContent = msg; idErr.hidden = false; idName.setAttribute('aria-invalid', 'true'); idName.focus(); };
  if (!name) return fail(t('identifyMissing'));
  idName.removeAttribute('aria-invalid');
  idSubmit.disabled = true;
  try {
    // The demo's person is their name: the same name identifies the same person again (on
    // another browser too), so that "My conversations" finds what they sent before.
    const sub = 'demo-' + nameKey(name);
    const res = await fetch(cfg.root + '/api/v1/dev/token', {
      method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client: { sub: sub, name: name } }),
    });
    const j = res.ok ? await res.json() : null;
    if (!j || typeof j.token !== 'string') throw new Error('no token');
    store.token = j.token;
    save();
    const fromGate = rt.idGate;
    rt.gateFocus = fromGate;
    closeIdentify(false);
    if (!fromGate) (!footer.hidden && !composer.disabled ? composer : titleEl).focus();
    else titleEl.focus(); // the start form's gate moves it on once identified (renderGate)
    // Reconnect with the token; the conversation continues through resume.
    rt.identifying = true;
    client.reconnect('identify');
  } catch (err) {
    fail(t('identifyFailed'));
  } finally {
    idSubmit.disabled = false;
  }
}

/**
 * The strong identification's pop-up, opened at the click (pop-up blockers allow that only):
 * for this chat, or before starting `service`.
 */
export async function identifyStrongly(service) {
  const popup = window.open('', 'luukku-identify', 'popup,width=520,height=700');
  try {
    const body = service ? { service: service, origin: location.origin }
      : { conversation: store.conversation, origin: location.origin };
    const headers = { 'content-type': 'application/json' };
    if (!service) headers['x-luukku-resume-token'] = store.resume_token || '';
    const res = await fetch(cfg.root + '/api/v1/identify', {
      method: 'POST', credentials: 'omit', headers: headers, body: JSON.stringify(body),
    });
    const j = res.ok ? await res.json() : null;
    if (!j || typeof j.url !== 'string') throw new Error('no sign-in');
    if (!popup) throw new Error('pop-up blocked');
    popup.location.href = new URL(cfg.root + j.url, location.href).href;
  } catch (err) {
    if (popup) popup.close();
    notice(t('identifyFailed'));
  }
}

/** The pop-up's answer: the identified token for this chat, or why it failed. */
export function wireStrongIdentification() {
  const serverOrigin = new URL(cfg.root || '/', location.href).origin;
  window.addEventListener('message', (e) => {
    if (e.origin !== serverOrigin || !e.data || typeof e.data !== 'object') return;
    const d = e.data;
    const forThis = d.conversation === null ? !store.conversation : d.conversation === store.conversation;
    if (d.type === 'luukku-identified' && forThis && typeof d.token === 'string') {
      store.token = d.token;
      save();
      // Before a start, the gate's form moves on once identified (renderGate).
      if (!store.conversation) rt.gateFocus = true;
      rt.identifying = true;
      client.reconnect('identify');
    } else if (d.type === 'luukku-identify-failed') {
      notice(typeof d.message === 'string' ? d.message : t('identifyFailed'));
    }
  });
}

/** 16 hex digits from the name (FNV-1a, 64 bits as two halves): a demo subject, not a secret. */
function nameKey(name) {
  const s = name.trim().toLowerCase().normalize('NFC');
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 7), 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

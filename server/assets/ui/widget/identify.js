// The demo's strong identification ("Identify", demo mode only): the patient types a name, the
// server mints an identified client token, and the widget reconnects with it, so the
// conversation continues through resume. A real deployment hands the widget its own
// identification provider's token instead.

import { cfg } from './config.js';
import { t } from './strings.js';
import { store, save, rt } from './state.js';
import { identifyBtn, idForm, idName, idErr, idSubmit, idCancel, footer, composer, titleEl } from './view.js';
import { client } from './connection.js';

/** The "Identify" button and its form. */
export function wireIdentify() {
  identifyBtn.addEventListener('click', openIdentify);
  idForm.addEventListener('submit', submitIdentify);
  idCancel.addEventListener('click', () => closeIdentify(true));
}

let returnTo = null; // the button that opened the form (the header's, or the start form's gate)

export function openIdentify(from) {
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

// The demo's strong identification ("Identify", demo mode only): the patient types a name, the
// server mints an identified client token, and the widget reconnects with it, so the
// conversation continues through resume. A real deployment hands the widget its own
// identification provider's token instead.

import { uuid } from '../shared/ids.js';
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

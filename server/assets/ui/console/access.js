// The access report (docs/ui.md "Access report"): for a professional with the `dpo` role, who
// accessed a client's data and when (Act 703/2023 §11), from GET /api/v1/access-log — by the
// client's identity code, a professional or a conversation, within dates — with the export as
// CSV and the check of the log's chain. The server logs each report and export before it
// answers; nothing here is cached.

import { h } from '../shared/dom.js';
import { t } from './i18n.js';
import { $, S } from './state.js';
import { showView } from './views.js';

export const isDpo = () => !!(S.me && (S.me.roles || []).includes('dpo'));

/** After `welcome`: the data-protection officer gets the view switch's "Access report". */
export function startAccess() {
  const on = isDpo();
  $('view-access').hidden = !on;
  if (on) $('view-switch').hidden = false;
  else if (S.view === 'access') showView('chats');
}

function query(format) {
  const q = new URLSearchParams();
  for (const [key, id] of [['client', 'ar-client'], ['professional', 'ar-professional'], ['conversation', 'ar-conversation']]) {
    const v = $(id).value.trim();
    if (v) q.set(key, v);
  }
  for (const [key, id] of [['from', 'ar-from'], ['to', 'ar-to']]) {
    const v = $(id).value;
    if (v) q.set(key, new Date(`${v}T00:00:00`).toISOString());
  }
  if (format) q.set('format', format);
  return q;
}

async function ask(path) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${S.token}` }, cache: 'no-store' });
  if (r.ok) return r;
  let message = `HTTP ${r.status}`;
  try { message = (await r.json()).error.message || message; } catch { /* no JSON */ }
  throw new Error(message);
}

function setStatus(text, error) {
  const el = $('ar-status');
  el.textContent = text;
  el.classList.toggle('field-error', !!error);
}

async function search(e) {
  e.preventDefault();
  const q = query();
  if (!q.has('client') && !q.has('professional') && !q.has('conversation')) {
    setStatus(t('arNeedOne'), true);
    $('ar-client').focus();
    return;
  }
  setStatus(t('arLoading'));
  try {
    const body = await (await ask(`/api/v1/access-log?${q}`)).json();
    render(body.entries || []);
    setStatus(body.entries.length ? t('arFound', { n: body.entries.length }) : t('arNone'));
  } catch (err) {
    render([]);
    setStatus(err.message, true);
  }
}

function render(entries) {
  const rows = entries.map((e) => h('tr', { testid: 'access-entry' },
    h('td', { text: new Date(e.at).toLocaleString() }),
    h('td', { text: e.professional }),
    h('td', { text: e.role }),
    h('td', { text: e.conversation || '' }),
    h('td', { text: `${e.action} · ${e.purpose}` }),
    h('td', { text: e.reason ? `${e.basis}: ${e.reason}` : e.basis }),
    h('td', { text: e.outcome })));
  $('ar-rows').replaceChildren(...rows);
  $('ar-table').hidden = !entries.length;
}

async function exportCsv() {
  const q = query('csv');
  if (!q.has('client') && !q.has('professional') && !q.has('conversation')) return setStatus(t('arNeedOne'), true);
  try {
    const blob = await (await ask(`/api/v1/access-log?${q}`)).blob();
    const a = h('a', { href: URL.createObjectURL(blob), download: 'access-report.csv' });
    document.body.append(a);
    a.click();
    a.remove();
    setStatus(t('arExported'));
  } catch (err) {
    setStatus(err.message, true);
  }
}

async function verifyChain() {
  setStatus(t('arVerifying'));
  try {
    const v = await (await ask('/api/v1/access-log/verify')).json();
    const el = $('ar-chain');
    el.textContent = v.ok ? t('arChainOk', { n: v.entries }) : t('arChainBroken', { problem: v.problem });
    el.dataset.ok = String(!!v.ok);
    setStatus('');
  } catch (err) {
    setStatus(err.message, true);
  }
}

/** The legal hold of the conversation named in the form: shown, placed or released. */
async function legalHold(method) {
  const id = $('lh-conversation').value.trim();
  if (!id) return $('lh-conversation').focus();
  const init = { method, headers: { authorization: `Bearer ${S.token}`, 'content-type': 'application/json' }, cache: 'no-store' };
  if (method === 'PUT') init.body = JSON.stringify({ reason: $('lh-reason').value.trim() });
  const el = $('lh-status');
  try {
    const r = await fetch(`/api/v1/conversations/${encodeURIComponent(id)}/legal-hold`, init);
    const body = await r.json();
    if (!r.ok) throw new Error((body.error && body.error.message) || `HTTP ${r.status}`);
    const current = (body.holds || []).find((x) => !x.released_at);
    el.textContent = current ? t('lhInForce', { by: current.set_by, reason: current.reason })
      : t('lhNone', { n: (body.holds || []).length });
    el.classList.remove('field-error');
  } catch (err) {
    el.textContent = err.message;
    el.classList.add('field-error');
  }
}

export function wireAccess() {
  $('lh-form').addEventListener('submit', (e) => { e.preventDefault(); legalHold('GET'); });
  $('lh-place').addEventListener('click', () => legalHold('PUT'));
  $('lh-release').addEventListener('click', () => legalHold('DELETE'));
  $('view-access').addEventListener('click', () => showView('access'));
  $('ar-form').addEventListener('submit', search);
  $('ar-export').addEventListener('click', exportCsv);
  $('ar-verify').addEventListener('click', verifyChain);
}

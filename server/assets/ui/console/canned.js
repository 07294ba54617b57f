// Canned responses (quick replies): team ones from the configuration and the professional's
// own, from the server (`canned`). Typing "/code" in a composer offers the matching ones
// (arrow keys, Enter or Tab inserts, Escape closes); the "Quick replies" button opens a picker
// that also manages one's own. A reply is inserted in the patient's language when there is one,
// with {client_name}, {professional_name} and {team} filled in, and stays editable: inserting
// never sends (Enter while the suggestions are open inserts, it does not send).

import { h } from '../shared/dom.js';
import { send } from './connection.js';
import { lang, languageName, t } from './i18n.js';
import { $, S, teamName } from './state.js';

export function askCanned() {
  send({ type: 'canned' }, { kind: 'canned' });
}
export function onCanned(f) {
  S.canned = Array.isArray(f.responses) ? f.responses : [];
  $('canned-error').textContent = '';
  if ($('canned-dialog').open) renderPicker();
}

/** One entry per code: the one in the patient's language, else the console's, else the first. */
function forChat(c) {
  const want = [((c.info.client || {}).lang), lang()];
  const byCode = new Map();
  for (const r of S.canned || []) {
    if (r.scope === 'team' && r.team && c.info.team && r.team !== c.info.team) continue;
    const key = `${r.scope}:${r.code}`;
    const had = byCode.get(key);
    const rank = (x) => { const i = want.indexOf(x.lang); return i < 0 ? 9 : i; };
    if (!had || rank(r) < rank(had)) byCode.set(key, r);
  }
  return [...byCode.values()];
}

/** The body with placeholders filled; an anonymous patient's name is left out, not "Anonymous 42". */
export function fill(c, body) {
  const cl = c.info.client || {};
  const values = { client_name: cl.name || '', professional_name: (S.me && S.me.name) || '', team: c.info.team ? teamName(c.info.team) : '' };
  return body.replace(/\{(client_name|professional_name|team)\}/g, (m, k) => values[k])
    .replace(/ +([,.!?])/g, '$1').replace(/ {2,}/g, ' ').replace(/^[ ,]+/, '');
}

/** Replaces `from`…`to` of the composer with the response, caret after it; never sends. */
function insert(c, r, from, to) {
  const ta = c.el.composer;
  const text = fill(c, r.body);
  ta.setRangeText(text, from, to, 'end');
  ta.dispatchEvent(new Event('input')); // the draft is saved, typing is signalled
  ta.focus();
}

// ---- "/code" suggestions under the composer
const slash = (ta) => /(?:^|\s)\/([\w-]*)$/.exec(ta.value.slice(0, ta.selectionStart));

export function wireSuggestions(c) {
  const ta = c.el.composer;
  const list = h('ul', { class: 'canned-suggest', testid: 'canned-suggestions', role: 'listbox', id: `canned-${c.uid}`,
    'aria-label': t('cannedTitle'), hidden: true });
  ta.before(list);
  const state = { items: [], i: 0 };
  const close = () => { list.hidden = true; state.items = []; };
  const show = () => {
    const m = slash(ta);
    if (!m || ta.disabled) return close();
    const q = m[1].toLowerCase();
    state.items = forChat(c).filter((r) => r.code.startsWith(q) || (q.length > 1 && (r.title || '').toLowerCase().includes(q)));
    state.i = 0;
    if (!state.items.length) return close();
    list.replaceChildren(...state.items.map((r, i) => h('li', { role: 'option', id: `canned-${c.uid}-${i}`, class: 'canned-option',
      'aria-selected': String(i === 0), 'data-code': r.code, onmousedown: (e) => { e.preventDefault(); choose(i); } },
    h('strong', { text: `/${r.code}` }), ' ', h('span', { text: r.title || '' }), ' ', h('span', { class: 'canned-lang', text: r.lang }))));
    list.hidden = false;
  };
  const choose = (i) => {
    const r = state.items[i];
    const m = slash(ta);
    if (!r || !m) return close();
    const to = ta.selectionStart;
    insert(c, r, to - m[1].length - 1, to);
    close();
  };
  const move = (d) => {
    state.i = (state.i + d + state.items.length) % state.items.length;
    [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === state.i)));
  };
  ta.addEventListener('input', show);
  ta.addEventListener('blur', () => setTimeout(close, 150));
  ta.addEventListener('keydown', (e) => {
    if (list.hidden || e.isComposing) return;
    const act = { ArrowDown: () => move(1), ArrowUp: () => move(-1), Enter: () => choose(state.i), Tab: () => choose(state.i), Escape: close }[e.key];
    if (!act || (e.key === 'Enter' && e.shiftKey)) return;
    e.preventDefault();
    e.stopImmediatePropagation(); // Enter inserts here: it must not reach the send handler
    act();
  }, true);
}

// ---- the picker dialog, also for managing one's own replies
let pickerChat = null;

export function openPicker(c) {
  pickerChat = c;
  askCanned();
  renderPicker();
  $('canned-dialog').showModal();
  $('canned-search').focus();
}

function renderPicker() {
  const c = pickerChat;
  if (!c) return;
  $('canned-h').textContent = t('cannedTitle');
  $('canned-search-label').textContent = t('cannedSearch');
  const q = $('canned-search').value.trim().toLowerCase();
  const items = forChat(c).filter((r) => !q || r.code.includes(q) || (r.title || '').toLowerCase().includes(q) || r.body.toLowerCase().includes(q));
  $('canned-items').replaceChildren(...items.map((r) => h('li', null,
    h('button', { type: 'button', class: 'canned-item', testid: 'canned-item', 'data-code': r.code, onclick: () => pick(r) },
      h('strong', { text: `/${r.code}` }), ' ', h('span', { text: r.title || '' }),
      h('span', { class: 'canned-meta', text: ` · ${languageName(r.lang)} · ${t(r.scope === 'team' ? 'cannedTeam' : 'cannedMine')}` }),
      h('span', { class: 'canned-body', text: fill(c, r.body) })))));
  $('canned-empty').hidden = items.length > 0;
  $('canned-empty').textContent = t('cannedNone');
  renderOwn();
}

function pick(r) {
  const c = pickerChat;
  $('canned-dialog').close();
  const ta = c.el.composer;
  insert(c, r, ta.selectionStart, ta.selectionEnd);
}

function renderOwn() {
  $('canned-own-h').textContent = t('cannedOwn');
  const own = (S.canned || []).filter((r) => r.scope === 'personal');
  $('canned-own').replaceChildren(...own.map((r) => h('li', null, h('span', { text: `/${r.code} (${r.lang}) ${r.title || ''}` }), ' ',
    h('button', { type: 'button', class: 'link-btn', testid: 'canned-delete', 'data-code': r.code, text: t('cannedDelete'),
      'aria-label': t('cannedDeleteLabel', { code: r.code }), onclick: () => send({ type: 'canned_delete', id: r.id }, { kind: 'canned' }) }))));
  for (const [id, key] of [['canned-code-l', 'cannedCode'], ['canned-title-l', 'cannedName'], ['canned-lang-l', 'cannedLang'], ['canned-body-l', 'cannedBody']]) $(id).textContent = t(key);
  $('canned-save').textContent = t('cannedSave');
  $('canned-close').textContent = t('close');
  const sel = $('canned-lang');
  if (!sel.options.length) sel.replaceChildren(...['fi', 'sv', 'en'].map((l) => h('option', { value: l, text: languageName(l) })));
}

function saveOwn(e) {
  e.preventDefault();
  const frame = { type: 'canned_save', code: $('canned-code').value.trim().toLowerCase(), title: $('canned-title').value.trim(),
    lang: $('canned-lang').value, body: $('canned-body').value };
  if (send(frame, { kind: 'canned' })) $('canned-form').reset();
}

export function wireCanned() {
  $('canned-search').addEventListener('input', renderPicker);
  $('canned-form').addEventListener('submit', saveOwn);
  $('canned-close').addEventListener('click', () => $('canned-dialog').close());
  $('canned-dialog').addEventListener('close', () => { if (pickerChat && !pickerChat.el.composer.disabled) pickerChat.el.composer.focus(); });
}

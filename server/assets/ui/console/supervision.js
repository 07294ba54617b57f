// The supervision view (docs/ui.md "Supervision"): for a professional with the `supervisor`
// role, one card per team of theirs, live from the server's `team_overview` frames: the queue
// and its oldest wait, who is available and how loaded, patients waiting with nobody available;
// and a shift lead's two acts, a team's routing (automatic / manual) and moving a waiting chat
// to another team. A supervisor sees a summary of a waiting chat (service, topic, channel,
// wait, identified or not), never its content nor the client's name: the frames carry neither
// and nothing here draws them. Cards and rows are kept by id and updated in place, so frames
// arriving every second neither flicker nor take the focus away; waits count up once a second
// from `waiting_s` and the time the frame arrived. Above the connection and colleagues.js (the
// teams a chat can be moved to); inbound.js routes the frames here.

import { h } from '../shared/dom.js';
import { transferTeams } from './colleagues.js';
import { send } from './connection.js';
import { count, has, lang, t } from './i18n.js';
import { showError } from './notices.js';
import { $, S, announce, fmtWait, serviceTopic, teamName } from './state.js';
import { showView } from './views.js';

/** A wait is highlighted past 5 minutes and alarming past 10 (the oldest wait and each row). */
const WAIT_WARN_S = 300;
const WAIT_ALERT_S = 600;

const cards = new Map(); // team → { el, parts } built once per team
const pendingRouting = new Map(); // team → the routing asked for, until the server answers
const moving = new Map(); // conversation → the team it is being moved out of, until it is gone

export const isSupervisor = () => !!(S.me && (S.me.roles || []).includes('supervisor'));
const overview = (team) => S.overviews.get(team);
const idPart = (s) => String(s).replace(/[^\w-]/g, '_');
const waitLevel = (s) => (s >= WAIT_ALERT_S ? 'alert' : s >= WAIT_WARN_S ? 'warn' : '');
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** After `welcome`: supervisors get the view switch and ask for their teams' overviews. */
export function startSupervision() {
  const on = isSupervisor();
  $('view-supervision').hidden = !on;
  if (!on) {
    if (S.view === 'supervision') showView('chats');
    return;
  }
  pendingRouting.clear(); // requests of an earlier socket get no answer any more
  moving.clear();
  if (!send({ type: 'supervise', lang: lang() }, { kind: 'supervise' })) return;
  if (S.view === 'supervision') setView(true);
  renderSummary();
}

/** Shows the supervision view (true) or the chats (false); remembered over a reload. */
export function setView(on) {
  showView(on && isSupervisor() ? 'supervision' : 'chats');
}
export const toggleView = () => isSupervisor() && setView(!S.supervising);

export function wireSupervision() {
  $('view-chats').addEventListener('click', () => setView(false));
  $('view-supervision').addEventListener('click', () => setView(true));
}

export function onTeamOverview(f) {
  const before = overview(f.team);
  S.overviews.set(f.team, { ...f, at: Date.now() });
  if (f.routing === pendingRouting.get(f.team)) pendingRouting.delete(f.team);
  announceStaffing(before, f);
  renderCard(f.team);
  renderSummary();
}

/** The reply to `set_routing`: the team's routing as the server now has it. */
export function onRouting(f) {
  pendingRouting.delete(f.team);
  const o = overview(f.team);
  if (o) o.routing = f.routing;
  renderCard(f.team);
  announce(t('svRoutingNow', { team: (o && o.name) || teamName(f.team), routing: t(f.routing === 'manual' ? 'svManual' : 'svAuto').toLowerCase() }));
}

/** The reply to `move`: the overviews of both teams follow; the row leaves with them. */
export function onMoved(f) {
  announce(t('svMoved', { team: teamName(f.team) }));
}

/** A supervision request failed (`ctx.kind` supervise, routing or move): undo what waits on it. */
export function supervisionFailed(ctx) {
  if (ctx.kind === 'routing') { pendingRouting.delete(ctx.team); renderCard(ctx.team); }
  if (ctx.kind === 'move') { moving.delete(ctx.conversation); renderCard(ctx.team); }
}

/** Team names arrived (`colleagues`): headings and the move targets say them. */
export function nameTeams() {
  for (const team of cards.keys()) renderCard(team);
  renderSummary();
}

/** Tells a screen reader when a team is left without anyone available, and when that ends. */
function announceStaffing(before, f) {
  const was = !!(before && before.unstaffed);
  const name = f.name || teamName(f.team);
  if (f.unstaffed && (!was || f.waiting > before.waiting)) alertLive(`${name}: ${count(f.waiting, 'svUnstaffed')}`);
  else if (was && !f.unstaffed) announce(t('svStaffed', { team: name }));
}
/** The view's alert region (role="alert", outside both views so it speaks in either). */
function alertLive(text) {
  const live = $('sv-live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 30);
}

function radio(team, value) {
  return h('input', { type: 'radio', name: `sv-routing-${idPart(team)}`, value, testid: `routing-${value}`,
    onchange: () => setRouting(team, value) });
}
function figure(label, dd) {
  return h('div', { class: 'sv-fig' }, h('dt', { text: label }), dd);
}
function table(caption, heads, body, cls) {
  return h('table', { class: `sv-table ${cls}`, testid: cls }, h('caption', { text: caption }),
    h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col', text: x })))), body);
}

function buildCard(team) {
  const key = idPart(team);
  const p = {};
  p.name = h('h3', { id: `sv-h-${key}`, class: 'sv-name', testid: 'team-name' });
  p.auto = radio(team, 'auto');
  p.manual = radio(team, 'manual');
  p.routing = h('fieldset', { class: 'sv-routing', testid: 'routing' }, h('legend', { text: t('svRouting') }),
    h('label', { class: 'sv-switch' }, p.auto, ` ${t('svAuto')}`), h('label', { class: 'sv-switch' }, p.manual, ` ${t('svManual')}`));
  p.warning = h('p', { class: 'sv-warning', testid: 'unstaffed-warning', hidden: true });
  p.full = h('p', { class: 'sv-full', testid: 'full-warning', hidden: true });
  p.waiting = h('dd', { testid: 'waiting-count' });
  p.oldestTime = h('span', { class: 'sv-time' });
  p.oldestLevel = h('span', { class: 'sv-level' });
  p.oldest = h('dd', { testid: 'oldest-wait' }, p.oldestTime, p.oldestLevel);
  p.estimate = h('dd', { testid: 'estimated-wait' });
  p.available = h('dd', { testid: 'available-count' });
  p.active = h('dd', { testid: 'active-load' });
  p.pros = h('tbody');
  p.queue = h('tbody');
  p.empty = h('p', { class: 'sv-empty', text: t('noOneWaiting') });
  const el = h('section', { class: 'sv-card', testid: `team-card-${team}`, 'data-team': team, 'aria-labelledby': p.name.id, tabindex: -1 },
    h('div', { class: 'sv-head' }, p.name, p.routing),
    p.warning, p.full,
    h('dl', { class: 'sv-figures' }, figure(t('svWaiting'), p.waiting), figure(t('svOldest'), p.oldest),
      figure(t('svEstimate'), p.estimate), figure(t('svAvailable'), p.available), figure(t('svActive'), p.active)),
    h('div', { class: 'sv-body' },
      table(t('svPros'), [t('svProName'), t('svPresence'), t('svLoad')], p.pros, 'team-pros'),
      h('div', { class: 'sv-queue-box' },
        table(t('svQueue'), [t('svPos'), t('svWaited'), t('svWhat'), t('svChannel'), t('svIdentity'), t('svMoveCol')], p.queue, 'team-queue'),
        p.empty)));
  return { el, parts: p };
}

/** The team's card, made once and put in the order of the professional's teams. */
function card(team) {
  let c = cards.get(team);
  if (c) return c;
  c = buildCard(team);
  cards.set(team, c);
  const order = (x) => { const i = (S.me ? S.me.teams : []).indexOf(x); return i < 0 ? 999 : i; };
  const after = [...$('sv-cards').children].find((el) => order(el.dataset.team) > order(team));
  $('sv-cards').insertBefore(c.el, after || null);
  $('sv-loading').hidden = true;
  return c;
}

export function renderCard(team) {
  const o = overview(team);
  if (!o) return;
  const { el, parts: p } = card(team);
  setText(p.name, o.name || teamName(team));
  const routing = pendingRouting.get(team) || o.routing;
  p.auto.checked = routing === 'auto';
  p.manual.checked = routing === 'manual';
  busy(p.routing, pendingRouting.has(team));
  el.dataset.routing = o.routing;
  el.dataset.unstaffed = String(!!o.unstaffed);
  const full = !o.unstaffed && o.waiting > 0 && !(o.professionals || []).some((x) => x.presence === 'available' && x.active < x.capacity);
  p.warning.hidden = !o.unstaffed;
  if (o.unstaffed) setText(p.warning, count(o.waiting, 'svUnstaffed'));
  p.full.hidden = !full;
  if (full) setText(p.full, count(o.waiting, 'svFull'));
  setText(p.waiting, String(o.waiting));
  p.oldestTime.dataset.base = String(o.waiting ? o.oldest_wait_s || 0 : 0);
  setText(p.estimate, o.unstaffed || !o.waiting ? '–' : estimate(o.estimated_wait_s));
  p.estimate.title = o.unstaffed ? t('svNoEstimate') : '';
  setText(p.available, String(o.available));
  setText(p.active, `${o.active} / ${o.capacity}`);
  renderPros(p.pros, o.professionals || []);
  renderQueueRows(team, p.queue, o.queue || []);
  p.empty.hidden = (o.queue || []).length > 0;
  tickCard(team);
}

const estimate = (s) => (!(s > 0) ? '–' : s < 60 ? t('svUnderMin') : t('svAbout', { n: Math.round(s / 60) }));

/** Rows keyed by id: an existing row is updated, new ones made, gone ones removed, order kept. */
function keyedRows(tbody, items, key, make, update) {
  const old = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]));
  items.forEach((item, i) => {
    const k = key(item);
    let tr = old.get(k);
    old.delete(k);
    if (!tr) { tr = make(item); tr.dataset.key = k; }
    update(tr, item, i);
    if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
  });
  for (const tr of old.values()) leaveRow(tbody, tr);
}

/** A row leaves: the focus inside it goes to the next row's control (or the card), never lost. */
function leaveRow(tbody, tr) {
  if (tr.contains(document.activeElement)) {
    const next = tr.nextElementSibling || tr.previousElementSibling;
    const target = next ? next.querySelector('select, button') : tbody.closest('.sv-card');
    tr.remove();
    if (target) target.focus();
    return;
  }
  tr.remove();
}

function renderPros(tbody, pros) {
  const order = { available: 0, away: 1, offline: 2 };
  const sorted = [...pros].sort((a, b) => (order[a.presence] ?? 3) - (order[b.presence] ?? 3) || a.name.localeCompare(b.name));
  keyedRows(tbody, sorted, (x) => x.id, () => h('tr', { testid: 'team-pro' },
    h('th', { scope: 'row', class: 'sv-pro-name' }),
    h('td', null, h('span', { class: 'sv-presence', testid: 'pro-presence' })),
    h('td', { class: 'sv-load' }, h('span', { class: 'sv-bar', 'aria-hidden': 'true' }, h('span')),
      h('span', { class: 'sv-load-text', testid: 'pro-load' }))), (tr, x) => {
    tr.dataset.professional = x.id;
    tr.dataset.presence = x.presence;
    setText(tr.querySelector('.sv-pro-name'), x.name);
    const presence = tr.querySelector('.sv-presence');
    presence.dataset.presence = x.presence;
    setText(presence, t(`presence_${x.presence}`));
    const share = x.capacity > 0 ? Math.min(1, x.active / x.capacity) : 0;
    const bar = tr.querySelector('.sv-bar');
    bar.firstChild.style.width = `${Math.round(share * 100)}%`;
    bar.dataset.level = share >= 1 ? 'full' : share >= 0.75 ? 'high' : '';
    const load = tr.querySelector('.sv-load-text');
    setText(load, `${x.active}/${x.capacity}`);
    load.setAttribute('aria-label', t('svLoadSr', { active: x.active, capacity: x.capacity }));
  });
}

function renderQueueRows(team, tbody, queue) {
  const here = new Set(queue.map((e) => e.conversation));
  for (const [conv, from] of moving) if (from === team && !here.has(conv)) moving.delete(conv);
  keyedRows(tbody, queue, (e) => e.conversation, (e) => queueRow(team, e), (tr, e, i) => {
    tr.dataset.conversation = e.conversation;
    setText(tr.querySelector('.sv-pos'), String(i + 1));
    tr.querySelector('.sv-time').dataset.base = String(e.waiting_s || 0);
    setText(tr.querySelector('.sv-what'), serviceTopic(e.service, e.topic));
    setText(tr.querySelector('.sv-channel'), has(`channel_${e.channel}`) ? t(`channel_${e.channel}`) : e.channel || '');
    const id = tr.querySelector('.sv-ident');
    id.className = `sv-ident ${e.identified ? 'identified' : 'anonymous'}`;
    setText(id, t(e.identified ? 'identifiedCap' : 'svNotIdentified'));
    const label = tr.querySelector('label');
    setText(label, t('svMoveTo', { n: i + 1 }));
    fillTargets(team, tr.querySelector('select'));
    const btn = tr.querySelector('button');
    btn.setAttribute('aria-label', t('svMoveLabel', { n: i + 1 }));
    const going = moving.get(e.conversation) === team;
    busy(tr, going);
    setText(btn, t(going ? 'svMoving' : 'svMove'));
    syncMove(tr);
  });
}

function queueRow(team, e) {
  const sid = `sv-mv-${idPart(team)}-${idPart(e.conversation)}`;
  const select = h('select', { id: sid, testid: 'move-team', onchange: () => syncMove(tr) });
  const tr = h('tr', { testid: 'team-queue-entry' },
    h('td', { class: 'sv-pos' }),
    h('td', { class: 'sv-wait', testid: 'entry-wait' }, h('span', { class: 'sv-time' })),
    h('td', { class: 'sv-what', testid: 'entry-what' }),
    h('td', { class: 'sv-channel', testid: 'entry-channel' }),
    h('td', null, h('span', { class: 'sv-ident', testid: 'entry-identity' })),
    h('td', { class: 'sv-move' }, h('label', { for: sid, class: 'sr-only' }), select,
      h('button', { type: 'button', class: 'btn small', testid: 'move', 'aria-disabled': 'true', onclick: () => move(team, tr) })));
  return tr;
}

/** The teams a waiting chat can go to: every other team, with its queue and staff when known. */
function fillTargets(team, select) {
  const teams = transferTeams().filter((x) => x !== team);
  const want = [['', t('svMoveChoose')], ...teams.map((x) => [x, targetLabel(x)])];
  const same = select.options.length === want.length && want.every(([v, l], i) => select.options[i].value === v && select.options[i].text === l);
  if (same) return;
  const chosen = select.value;
  select.replaceChildren(...want.map(([value, text]) => h('option', { value, text })));
  select.value = teams.includes(chosen) ? chosen : '';
}
function targetLabel(team) {
  const o = overview(team);
  if (!o) return teamName(team);
  const vars = { team: o.name || teamName(team), waiting: o.waiting, available: o.available };
  return t(o.available > 0 ? 'svTeamOption' : 'svTeamOptionNobody', vars);
}
/**
 * The Move button says whether it can act with aria-disabled rather than `disabled`, so the
 * focus stays on it while the move is on its way (a disabled button drops the focus).
 */
function syncMove(tr) {
  const off = tr.hasAttribute('aria-busy') || !tr.querySelector('select').value;
  tr.querySelector('button').setAttribute('aria-disabled', String(off));
}
function busy(el, on) {
  if (on) el.setAttribute('aria-busy', 'true'); else el.removeAttribute('aria-busy');
}

function move(team, tr) {
  const conversation = tr.dataset.conversation;
  const to = tr.querySelector('select').value;
  if (!to) return tr.querySelector('select').focus();
  if (moving.get(conversation) === team) return;
  if (!send({ type: 'move', conversation, to_team: to }, { kind: 'move', conversation, team, to })) {
    return showError(`${t('err_move')}: ${t('why_offline')}`, null, 'offline', 'move');
  }
  moving.set(conversation, team);
  renderCard(team);
}

function setRouting(team, routing) {
  const o = overview(team);
  if (!o || (pendingRouting.get(team) || o.routing) === routing) return;
  if (!send({ type: 'set_routing', team, routing }, { kind: 'routing', team, routing })) {
    renderCard(team);
    return showError(`${t('err_routing')}: ${t('why_offline')}`, null, 'offline', 'routing');
  }
  pendingRouting.set(team, routing);
  renderCard(team);
}

/** The line above the cards and the alert on the view switch: who waits, where nobody is. */
function renderSummary() {
  const all = [...S.overviews.values()];
  const waiting = all.reduce((n, o) => n + (o.waiting || 0), 0);
  const bare = all.filter((o) => o.unstaffed);
  setText($('sv-total'), count(waiting, 'svTotal'));
  $('sv-nobody').hidden = !bare.length;
  setText($('sv-nobody'), bare.length ? t('svNobodyIn', { teams: bare.map((o) => o.name || teamName(o.team)).join(', ') }) : '');
  const unstaffedWaiting = bare.reduce((n, o) => n + o.waiting, 0);
  const alert = $('view-sv-alert');
  alert.hidden = !unstaffedWaiting;
  setText(alert.querySelector('[aria-hidden]'), `⚠ ${unstaffedWaiting}`);
  setText(alert.querySelector('.sr-only'), unstaffedWaiting ? `, ${count(unstaffedWaiting, 'svUnstaffed')}` : '');
}

function tickCard(team) {
  const o = overview(team);
  const c = cards.get(team);
  if (!o || !c) return;
  const extra = (Date.now() - o.at) / 1000;
  for (const el of c.el.querySelectorAll('.sv-time')) {
    const s = Math.floor(Number(el.dataset.base || 0) + (o.waiting ? extra : 0));
    setText(el, fmtWait(s));
    const level = waitLevel(s);
    if ((el.dataset.level || '') !== level) el.dataset.level = level;
    if (el === c.parts.oldestTime) {
      c.parts.oldest.dataset.waitS = String(s);
      c.parts.oldest.dataset.level = level;
      c.el.dataset.level = level;
      setText(c.parts.oldestLevel, level ? ` ${t(level === 'alert' ? 'svOver10' : 'svOver5')}` : '');
    }
  }
}

/** Once a second: waits count up, and the "Chats" switch shows how many messages are unread. */
export function tickSupervision() {
  if (isSupervisor()) for (const team of cards.keys()) tickCard(team);
  const unread = [...S.chats.values()].reduce((n, c) => n + c.unread, 0);
  const badge = $('view-chats-count');
  badge.hidden = !unread;
  setText(badge.querySelector('[aria-hidden]'), String(unread));
  setText(badge.querySelector('.sr-only'), unread ? `, ${count(unread, 'unread')}` : '');
}

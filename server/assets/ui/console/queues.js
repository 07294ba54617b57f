// The left column: my status (availability, capacity, chats held) and the team queues with
// their waiting chats, whose waiting times count up once a second.

import { h } from '../shared/dom.js';
import { alertOf } from './alerts.js';
import { expireRetracts } from './corrections.js';
import { count, languageName, t } from './i18n.js';
import { client, send } from './connection.js';
import { showError } from './notices.js';
import { $, S, fmtWait, isMatter, serviceTopic, teamName } from './state.js';
import { renderWaits } from './tabs.js';

export function onStatus(f) {
  Object.assign(S, f.availability && { availability: f.availability }, f.capacity && { capacity: f.capacity });
  renderStatus();
}
export function renderStatus() {
  $('availability').value = S.availability;
  if (document.activeElement !== $('capacity')) $('capacity').value = S.capacity || '';
  const held = [...S.chats.values()].filter((c) => c.status === 'open' && !isMatter(c.info.service)).length; // matters take no place
  $('status-active').textContent = String(held);
  $('status-of').textContent = S.capacity ? t('ofCapacity', { n: S.capacity }) : '';
}
export function onQueue(f) {
  const before = S.queues.get(f.team);
  S.queues.set(f.team, { entries: f.entries || [], at: Date.now() });
  renderQueue(f.team);
  if (before) alertNewcomers(f.team, new Set(before.entries.map((e) => e.conversation)));
}

/**
 * Someone joined a team queue: alert if they are still waiting a moment later (in a team with
 * automatic routing a free professional gets them at once, and that is no news).
 */
function alertNewcomers(team, known) {
  const fresh = (S.queues.get(team).entries || []).filter((e) => !known.has(e.conversation)).map((e) => e.conversation);
  if (!fresh.length) return;
  setTimeout(() => {
    const still = ((S.queues.get(team) || {}).entries || []).some((e) => fresh.includes(e.conversation));
    if (still) alertOf('queue', t('notifyQueue', { team: teamName(team) }));
  }, QUEUE_ALERT_DELAY_MS);
}
const QUEUE_ALERT_DELAY_MS = 1500;
/** Team names arrived (`colleagues`): the queues' headings say them. */
export function nameQueues() {
  for (const sec of $('queues').children) {
    const team = sec.dataset.team;
    sec.querySelector('.q-team').textContent = teamName(team);
    sec.querySelector('[data-testid^="accept-next-"]').setAttribute('aria-label', t('acceptNextFrom', { team: teamName(team) }));
  }
}
export function renderQueues() {
  [...$('queues').children].forEach((el) => S.me.teams.includes(el.dataset.team) || el.remove());
  S.me.teams.forEach(renderQueue);
}
export function queueSection(team) {
  let sec = $('queues').querySelector(`[data-testid="queue-${CSS.escape(team)}"]`);
  if (sec) return sec;
  const hid = `q-h-${team.replace(/[^\w-]/g, '_')}`;
  sec = h('section', { class: 'queue', testid: `queue-${team}`, 'data-team': team, 'aria-labelledby': hid },
    h('div', { class: 'queue-head' },
      h('h3', { id: hid }, h('span', { class: 'q-team', text: teamName(team) }), ' ', h('span', { class: 'q-count' })),
      h('button', { type: 'button', class: 'btn small', testid: `accept-next-${team}`, text: t('acceptNext'),
        'aria-label': t('acceptNextFrom', { team: teamName(team) }), onclick: () => accept({ team }) })),
    h('ul', { class: 'q-list' }), h('p', { class: 'q-empty', text: t('noOneWaiting') }));
  $('queues').append(sec);
  return sec;
}
export function renderQueue(team) {
  const sec = queueSection(team);
  const q = S.queues.get(team) || { entries: [], at: Date.now() };
  const focused = document.activeElement && sec.contains(document.activeElement)
    ? document.activeElement.closest('[data-conversation]') : null;
  const list = sec.querySelector('.q-list');
  list.replaceChildren(...q.entries.map((e, i) => queueEntry(team, e, i)));
  sec.querySelector('.q-count').textContent = count(q.entries.length, 'waitingCount');
  sec.querySelector('.q-empty').hidden = q.entries.length > 0;
  if (focused) {
    const again = list.querySelector(`[data-conversation="${CSS.escape(focused.dataset.conversation)}"] button`);
    (again || sec.querySelector('[data-testid^="accept-next-"]')).focus();
  }
  tick();
}
export function queueEntry(team, e, i) {
  const did = `qe-${team}-${i}`.replace(/[^\w-]/g, '_');
  const prio = e.priority >= 10 ? t('prioUrgent') : e.priority >= 2 ? t('prioReturned') : e.priority === 1 ? t('prioTransferred') : '';
  const contact = Number.isFinite(e.contact_s) && e.contact_s - (e.waiting_s || 0) >= 1;
  return h('li', { class: 'q-entry', testid: 'queue-entry', 'data-conversation': e.conversation },
    h('div', { id: did, class: 'q-info' },
      h('span', { class: 'q-wait' }, `${t('waitingQ')} `, h('span', { class: 'q-time', 'data-wait': e.waiting_s, text: fmtWait(e.waiting_s) })),
      contact && h('span', { class: 'q-contact', testid: 'queue-contact' },
        h('span', { class: 'q-time', 'data-wait': e.contact_s, text: fmtWait(e.contact_s) }), ` ${t('sinceContact')}`),
      h('span', { class: `q-ident ${e.identified ? 'identified' : 'anonymous'}`,
        text: e.alias && !e.identified ? t('anonymousN', { n: e.alias }) : t(e.identified ? 'identifiedCap' : 'anonymousCap') }),
      e.lang && h('span', { class: 'q-lang', testid: 'queue-lang', title: languageName(e.lang), text: languageName(e.lang) }),
      prio && h('span', { class: e.priority >= 10 ? 'q-prio urgent' : 'q-prio', testid: e.priority >= 10 ? 'queue-urgent' : null, text: prio }),
      h('span', { class: 'q-svc', text: serviceTopic(e.service, e.topic) }),
      e.preview && h('q', { class: 'q-preview', testid: 'queue-preview', text: e.preview })),
    h('button', { type: 'button', class: 'btn small', testid: 'accept', text: t('accept'), 'aria-describedby': did,
      onclick: () => accept({ conversation: e.conversation }) }));
}
export function accept(target) {
  if (!send({ type: 'accept', ...target }, { kind: 'accept', ...target })) {
    showError(`${t('err_accept')}: ${t('why_offline')}`, null, 'offline', 'accept');
  }
}

/** Once a second: waiting times count up locally from the last snapshot. */
export function tick() {
  renderWaits();
  expireRetracts();
  for (const [team, q] of S.queues) {
    const sec = $('queues').querySelector(`[data-testid="queue-${CSS.escape(team)}"]`);
    if (!sec) continue;
    const extra = (Date.now() - q.at) / 1000;
    sec.querySelectorAll('.q-time').forEach((el) => { el.textContent = fmtWait(Number(el.dataset.wait) + extra); });
  }
  if (!client.online && S.token && !$('offline').hidden) {
    const left = Math.ceil((client.retryAt - Date.now()) / 1000);
    $('offline-wait').textContent = left > 0 ? t('offlineIn', { n: left }) : '';
  }
}

// A chat's pane, built once per conversation from the modules below it (tab, log, composer,
// transfer and close forms): its header with who the client is, assignment and release, and the
// chat's status (open, closed, no longer mine).

import { h } from '../shared/dom.js';
import { closeForm, dismiss, reopen, toggleForm } from './actions.js';
import { alertOf } from './alerts.js';
import { renderAttach } from './attach.js';
import { composer, failPending, renderComposer, stopTyping } from './composer.js';
import { chatOutbox } from './connection.js';
import { languageName, t } from './i18n.js';
import { isAtBottom, loadHistory, loadOlder } from './log.js';
import { setNotice } from './notices.js';
import { renderStatus } from './queues.js';
import { renderSms } from './smschat.js';
import {
  $, S, announce, chatTitle, clientName, colon, fmtAnswer, newChat, proName,
  questionIndex, questionLabel, saveStore, serviceTopic, teamName
} from './state.js';
import { placeTab, renderTab, select, updateEmpty } from './tabs.js';
import { fillTransferOptions, transferForm } from './transfer.js';

export function ensureChat(id, info) {
  let c = S.chats.get(id);
  const fresh = !c;
  if (fresh) { c = newChat(id, chatOutbox(id)); S.chats.set(id, c); }
  const keep = c.info;
  c.info = { ...keep, ...Object.fromEntries(Object.entries(info || {}).filter(([, v]) => v != null)) };
  if (fresh) buildChat(c);
  renderHeader(c);
  renderTab(c);
  updateEmpty();
  return c;
}
export function buildChat(c) {
  const paneId = `pane-${c.uid}`, tabId = `tab-${c.uid}`;
  const el = c.el;
  el.unread = h('span', { class: 'unread', testid: 'unread', hidden: true });
  el.wait = h('span', { class: 'tab-wait', testid: 'waiting', hidden: true });
  el.tabLang = h('span', { class: 'tab-lang', testid: 'tab-lang', hidden: true });
  el.tabState = h('span', { class: 'tab-state' });
  el.tabName = h('span', { class: 'tab-name' });
  el.tabSms = h('span', { class: 'tab-sms', testid: 'tab-sms', hidden: true });
  el.tab = h('button', { type: 'button', role: 'tab', id: tabId, class: `tab c${c.colour}`, testid: 'chat-tab',
    'data-conversation': c.id, 'data-color': c.colour, 'aria-controls': paneId, 'aria-selected': 'false', tabindex: -1,
    onclick: () => select(c.id) },
  h('span', { class: 'badge', 'aria-hidden': 'true', text: c.letter }), h('span', { class: 'sr-only', text: `${t('chatN', { letter: c.letter })}: ` }),
  el.tabName, el.tabLang, el.tabState, el.tabSms, el.wait, el.unread);

  el.label = h('span', { class: 'chat-label', testid: 'chat-label', title: t('chatN', { letter: c.letter }), text: c.letter });
  el.name = h('h2', { class: 'client-name', testid: 'client-name' });
  el.identity = h('span', { class: 'identity', testid: 'identity' });
  el.svc = h('span', { class: 'service-topic', testid: 'service-topic' });
  el.lang = h('span', { class: 'client-lang', testid: 'client-lang' });
  el.quest = h('dl', { class: 'questionnaire', testid: 'questionnaire', 'aria-label': t('questionnaireAnswers') });
  el.contact = h('div', { class: 'contact', testid: 'client-contact', hidden: true });
  el.statusTag = h('span', { class: 'status-tag' });
  el.transferBtn = h('button', { type: 'button', class: 'btn', testid: 'transfer', text: t('transferBtn'), 'aria-expanded': 'false',
    onclick: () => toggleForm(c, 'transfer') });
  el.closeBtn = h('button', { type: 'button', class: 'btn', testid: 'close', text: t('closeBtn'), 'aria-expanded': 'false',
    onclick: () => toggleForm(c, 'close') });
  el.reopenBtn = h('button', { type: 'button', class: 'btn', testid: 'reopen', text: t('reopen'), hidden: true, onclick: () => reopen(c) });
  el.dismissBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'dismiss', text: t('dismiss'), hidden: true, onclick: () => dismiss(c) });
  el.notice = h('div', { class: 'notice', role: 'status', hidden: true });
  el.transferCard = h('section', { class: 'transfer-card', testid: 'transfer-note-card', hidden: true });
  el.transferForm = transferForm(c);
  el.closeForm = closeForm(c);
  el.older = h('button', { type: 'button', class: 'older link-btn', text: t('loadOlder'), onclick: () => loadOlder(c) });
  el.messages = h('div', { class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'off', 'aria-label': t('messagesWith', { who: c.letter }) });
  // Focusable, so the history scrolls with the keyboard even when no message in it has a
  // button (an SMS chat: an SMS cannot be taken back).
  el.scroll = h('div', { class: 'scroll', tabindex: '0', onscroll: () => {
    c.stickBottom = isAtBottom(c);
    if (el.scroll.scrollTop < 40) loadOlder(c);
  } }, el.older, el.messages);
  el.typing = h('p', { class: 'typing', testid: 'typing', hidden: true });
  el.pane = h('section', { class: `pane c${c.colour}`, role: 'tabpanel', id: paneId, testid: 'chat-pane',
    'data-conversation': c.id, 'data-color': c.colour, 'aria-labelledby': tabId, hidden: true },
  h('header', { class: 'pane-head' },
    h('div', { class: 'who' }, el.label,
      h('div', null, el.name,
        h('p', { class: 'facts' }, h('span', { class: 'sr-only', text: `${t('identityLabel')} ` }), el.identity, ' · ', el.lang, el.svc, ' ', el.statusTag))),
    h('div', { class: 'actions' }, el.transferBtn, el.closeBtn, el.reopenBtn, el.dismissBtn),
    el.contact, el.quest),
  el.notice, el.transferCard, el.transferForm, el.closeForm, el.scroll, el.typing, composer(c));
  el.tab.dataset.letter = c.letter;
  $('panes').append(el.pane);
  placeTab(c);
}
export function renderHeader(c) {
  const i = c.info, cl = i.client || {};
  c.el.name.textContent = clientName(c);
  c.el.identity.textContent = t(cl.identified ? 'identified' : 'anonymous');
  c.el.identity.className = `identity ${cl.identified ? 'identified' : 'anonymous'}`;
  c.el.lang.textContent = cl.lang ? `${t('writesIn', { lang: languageName(cl.lang) })} · ` : '';
  c.el.lang.dataset.lang = cl.lang || '';
  c.el.tabLang.hidden = !cl.lang;
  c.el.tabLang.textContent = cl.lang || '';
  c.el.tabLang.title = cl.lang ? languageName(cl.lang) : '';
  c.el.svc.textContent = [serviceTopic(i.service, i.topic), i.team ? t('teamX', { team: teamName(i.team) }) : ''].filter(Boolean).join(' · ');
  const order = (k) => questionIndex(i.service, k);
  const answers = Object.entries(i.questionnaire || {}).sort((a, b) => order(a[0]) - order(b[0]));
  c.el.quest.replaceChildren(...(answers.length
    ? answers.map(([k, v]) => h('div', null, h('dt', { text: colon(questionLabel(i.service, k)) }), h('dd', { text: fmtAnswer(v) })))
    : [h('div', null, h('dt', { text: t('questionnaire') }), h('dd', { text: t('noAnswers') }))]));
  renderContact(c);
  renderComposer(c);
  c.el.messages.setAttribute('aria-label', t('messagesWith', { who: chatTitle(c) }));
  fillTransferOptions(c);
}
/**
 * How to reach the client outside the conversation (`client.contact`: a contact form's sender,
 * or a client who left an address for notifications): e-mail and phone as links, so a social
 * worker can write or call back. An anonymous client learns of a reply only from a notice
 * without its content, so the pane says that calling or e-mailing may be needed.
 */
function renderContact(c) {
  const cl = c.info.client || {};
  const ct = cl.contact && typeof cl.contact === 'object' ? cl.contact : {};
  const email = typeof ct.email === 'string' && ct.email ? ct.email : null;
  const phone = typeof ct.phone === 'string' && ct.phone ? ct.phone : null;
  const box = c.el.contact;
  box.hidden = !email && !phone;
  if (box.hidden) return box.replaceChildren();
  const hid = `contact-${c.uid}`;
  const item = (label, href, text, testid) => h('div', null, h('dt', { text: colon(label) }),
    h('dd', null, h('a', { href, testid, text })));
  box.setAttribute('role', 'group');
  box.setAttribute('aria-labelledby', hid);
  const parts = [
    h('span', { id: hid, class: 'contact-label', text: t('contactDetails') }),
    h('dl', null,
      email && item(t('contactEmail'), `mailto:${encodeURIComponent(email).replace(/%40/g, '@')}`, email, 'client-email'),
      phone && item(t('contactPhone'), `tel:${phone.replace(/[^+\d]/g, '')}`, phone, 'client-phone')),
    !cl.identified && h('p', { class: 'contact-hint', testid: 'client-contact-hint', text: t('contactHintAnon') }),
  ];
  box.replaceChildren(...parts.filter(Boolean)); // (replaceChildren writes a skipped part out as text)
}
export function onAssigned(f, ctx) {
  const known = S.chats.has(f.conversation);
  const c = ensureChat(f.conversation, f);
  setChatStatus(c, f.status === 'complete' ? 'closed' : 'open');
  c.historyDone = false;
  // The newest page, not the one before `last_seq + 1`: a matter taken again by its holder
  // ("Continue") gets an `assigned` whose last_seq leaves out the latest event (the server counts
  // on an `assigned` event following), e.g. an SMS's last delivery state; overlaps go by seq.
  loadHistory(c);
  const mine = ctx && ['accept', 'reopen', 'take'].includes(ctx.kind);
  if (mine || !S.activeId || !S.chats.has(S.activeId)) select(c.id);
  else {
    c.alert = true;
    renderTab(c);
  }
  if (!mine) alertOf('assigned', t('notifyAssigned', { chat: chatTitle(c) }), () => select(c.id));
  announce(t(known ? 'annReopened' : 'annAssigned', { chat: chatTitle(c), what: serviceTopic(c.info.service, c.info.topic) }));
  renderStatus();
  saveStore();
}
export function onReleased(f) {
  const c = S.chats.get(f.conversation);
  if (!c) return;
  if (f.reason === 'closed') setChatStatus(c, 'closed');
  else release(c, f.reason || 'transferred');
  announce(t(c.status === 'closed' ? 'annClosed' : 'annNotYours', { chat: chatTitle(c) }));
  saveStore();
}
export function release(c, reason) {
  c.reason = reason;
  setChatStatus(c, 'released');
}
export function setChatStatus(c, status) {
  c.status = status;
  const open = status === 'open', el = c.el;
  el.composer.disabled = !open;
  el.send.disabled = el.modeReply.disabled = el.modeNote.disabled = !open;
  el.transferBtn.hidden = el.closeBtn.hidden = !open;
  el.reopenBtn.hidden = status !== 'closed';
  el.dismissBtn.hidden = open;
  renderAttach(c);
  renderSms(c);
  el.statusTag.textContent = open ? '' : t(status === 'closed' ? 'statusClosed' : 'statusNotYours');
  if (!open) {
    el.transferForm.hidden = el.closeForm.hidden = true;
    for (const b of el.messages.querySelectorAll('.retract')) b.remove();
    stopTyping(c);
    for (const p of c.pending.values()) if (p.state === 'sending') failPending(c, p, t('noLongerYours'));
  }
  if (status === 'closed') setNotice(c, t('noticeClosed'));
  else if (status === 'released') setNotice(c, releaseText(c));
  else setNotice(c, c.clientLeft ? t('noticeLeft') : '');
  renderTransferCard(c);
  renderTab(c);
  renderStatus();
}
export function releaseText(c) {
  if (c.reason === 'requeued') return t('noticeRequeued');
  if (c.reason === 'handed_back') return t('noticeHandedBack');
  const tr = [...c.events.values()].reverse().find((e) => e.type === 'system' && e.event === 'transferred');
  if (!tr) return t('noticeTransferred');
  const d = tr.detail || {};
  const where = d.to_professional ? t('proInTeam', { pro: proName(d.to_professional), team: teamName(d.team) }) : t('teamX', { team: teamName(d.team) });
  return t('noticeTransferredTo', { where });
}
/**
 * The colleague's note of the latest transfer to me or my team, pinned above the messages: the
 * receiver must not miss it among the grey system lines.
 */
export function renderTransferCard(c) {
  const tr = [...c.events.values()].filter((e) => e.type === 'system' && e.event === 'transferred').sort((a, b) => b.seq - a.seq)[0];
  const d = (tr && tr.detail) || {};
  const card = c.el.transferCard;
  card.hidden = !(tr && d.note && c.status === 'open' && card.dataset.hiddenSeq !== String(tr.seq));
  if (card.hidden) return;
  const who = d.from_professional ? proName(d.from_professional) : t('aProfessional');
  const hid = `tc-${c.uid}`;
  card.setAttribute('aria-labelledby', hid);
  card.replaceChildren(
    h('h3', { id: hid, text: t(d.to_professional === S.meId ? 'transferCard' : 'transferCardTeam', { who }) }),
    h('p', { class: 'transfer-card-note' }, h('span', { class: 'sr-only', text: `${t('transferCardNote')}: ` }), d.note),
    h('button', { type: 'button', class: 'x', 'aria-label': t('hideNote'), text: '×',
      onclick: () => { card.dataset.hiddenSeq = String(tr.seq); card.hidden = true; c.el.composer.focus(); } }));
}

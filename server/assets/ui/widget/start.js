// The start form (service, topic, the service's questionnaire → `start`; for a non-urgent
// `message` service the matter itself, the reply deadline and, for an anonymous patient, the
// way to identify first; a `form` service's form is form.js's), the end of a chat (the
// organisation's closing message, the 1–5 rating) and the way back to a new start.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { store, save, resetStore, seen, own, rt, MAX_BODY } from './state.js';
import {
  shadow, serviceSel, fieldsEl, startStatus, startForm, startView, qTitle, logEl,
  radios, rateForm, rateErr, rateComment, titleEl, newChatBtn, startAgainBtn,
} from './view.js';
import { client, send, outbox } from './connection.js';
import { render } from './render.js';
import { renderBadge, notice } from './indicators.js';
import { showTyping } from './messages.js';
import { promiseOf, replyByText } from './due.js';
import { clearAttach } from './attach.js';
import { renderForm, renderContactHelp, submitForm, renderFormDone, contactProblem, reason } from './form.js';
import { openIdentify } from './identify.js';

/** The start form's and the closed view's controls. */
export function wireStart() {
  serviceSel.addEventListener('change', () => { renderFields(); render(); }); // the title names the channel
  startForm.addEventListener('submit', submitStart);
  rateForm.addEventListener('submit', submitRating);
  newChatBtn.addEventListener('click', () => resetToStart(false));
  startAgainBtn.addEventListener('click', () => resetToStart(false));
}

export function findService(id) { return (rt.services || []).filter((s) => s && s.id === id)[0] || null; }

export async function loadServices() {
  if (rt.servicesState === 'loading' || rt.servicesState === 'ok') return;
  rt.servicesState = 'loading';
  renderStart();
  try {
    // The organisation's texts (service and topic names, questions, closed messages) come in
    // the widget's language, or the organisation's default where one has no translation.
    const res = await fetch(cfg.root + '/api/v1/services?lang=' + encodeURIComponent(cfg.lang), { credentials: 'omit' });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const j = await res.json();
    rt.services = (Array.isArray(j.services) ? j.services : []).filter((s) => s && typeof s.id === 'string');
    rt.servicesState = 'ok';
  } catch (e) {
    rt.servicesState = 'failed';
  }
  const hadTitleFocus = shadow.activeElement === titleEl;
  renderStart();
  render(); // the title names the chosen service's channel
  if (hadTitleFocus && !startView.hidden && rt.servicesState === 'ok') serviceSel.focus();
}
export async function checkDemo() {
  if (rt.demoChecked) return;
  rt.demoChecked = true;
  try {
    const res = await fetch(cfg.root + '/api/v1/dev/professionals', { credentials: 'omit' });
    rt.demo = res.status === 200;
  } catch (e) { rt.demo = false; }
  try {
    const auth = await (await fetch(cfg.root + '/api/v1/auth', { credentials: 'omit' })).json();
    rt.identification = auth.identification === true;
  } catch (e) { rt.identification = false; }
  render();
}

export function renderStart(focus) {
  startStatus.textContent = '';
  startForm.hidden = rt.servicesState !== 'ok';
  if (rt.servicesState === 'loading' || rt.servicesState === 'idle') startStatus.append(h('p', { role: 'status', text: t('loading') }));
  if (rt.servicesState === 'failed') {
    startStatus.append(h('p', { role: 'alert', text: t('loadFailed') }),
      h('button', { type: 'button', class: 'btn', text: t('retry'), onclick: () => { rt.servicesState = 'idle'; loadServices(); } }));
  }
  if (rt.servicesState !== 'ok') return;
  if (renderFormDone(focus, () => { renderStart(); serviceSel.focus(); })) return;
  serviceSel.textContent = '';
  // An `sms` service reaches patients by SMS from the console: nothing a patient can start here.
  const offered = rt.services.filter((s) => s.channel !== 'sms');
  offered.forEach((s) => serviceSel.append(h('option', { value: s.id, text: s.name || s.id })));
  const pre = store.service || cfg.service;
  if (offered.some((s) => s.id === pre)) serviceSel.value = pre;
  renderFields();
}

export function renderFields() {
  const svc = findService(serviceSel.value);
  fieldsEl.textContent = '';
  rt.fields = [];
  rt.notifyFields = [];
  if (!svc) return;
  if (svc.open_now === false) {
    fieldsEl.append(h('div', { class: 'svc-closed', 'data-testid': 'service-closed', role: 'status' },
      h('h3', { tabindex: '-1', text: t('closedTitle') }),
      svc.closed_message ? h('p', { text: svc.closed_message }) : null,
      h('p', { text: t('closedGuide') })));
    return;
  }
  if (svc.channel === 'form') return renderForm(svc);
  const isMessage = svc.channel === 'message';
  if (isMessage) messageHead(svc);
  const topics = Array.isArray(svc.topics) ? svc.topics : [];
  if (topics.length) {
    const sel = h('select', { id: 'lk-topic', 'data-testid': 'topic', 'aria-required': 'true', 'aria-describedby': 'lk-topic-err' },
      h('option', { value: '', text: t('choose') }), topics.map((x) => h('option', { value: x.id, text: x.name || x.id })));
    const err = h('p', { class: 'err', id: 'lk-topic-err', hidden: true });
    fieldsEl.append(h('div', { class: 'field' }, h('label', { for: 'lk-topic' }, t('topic') + ' ', h('span', { class: 'req', text: t('required') })), sel, err));
    rt.fields.push({ q: { id: '\u0000topic', kind: 'topic', required: true }, ctl: sel, err: err });
  }
  const qs = svc.questionnaire && Array.isArray(svc.questionnaire.questions) ? svc.questionnaire.questions : [];
  qs.forEach((q, i) => {
    if (!q || typeof q.id !== 'string') return;
    const id = 'lk-q-' + i;
    let ctl;
    if (q.kind === 'choice' || q.kind === 'yes_no') {
      const opts = q.kind === 'yes_no' ? [['yes', t('yes')], ['no', t('no')]] : (q.options || []).map((o) => [String(o), String(o)]);
      ctl = h('select', { id: id }, h('option', { value: '', text: t('choose') }), opts.map((o) => h('option', { value: o[0], text: o[1] })));
    } else {
      ctl = h('textarea', { id: id, rows: '2', maxlength: '2000' });
    }
    ctl.setAttribute('data-testid', 'q-' + q.id);
    ctl.setAttribute('aria-describedby', id + '-err');
    if (q.required) ctl.setAttribute('aria-required', 'true');
    const err = h('p', { class: 'err', id: id + '-err', hidden: true });
    fieldsEl.append(h('div', { class: 'field' },
      h('label', { for: id }, (q.label || q.id) + ' ', q.required ? h('span', { class: 'req', text: t('required') }) : null), ctl, err));
    rt.fields.push({ q: q, ctl: ctl, err: err });
  });
  if (isMessage) messageMatter();
  if (svc.identification_required || isMessage) identifyGate(isMessage);
  fieldsEl.append(h('p', { class: 'err', id: 'lk-start-err', role: 'alert' }),
    h('button', { type: 'submit', class: 'btn btn-block', 'data-testid': 'start', text: t(isMessage ? 'sendMessage' : 'start'), 'aria-describedby': isMessage ? 'lk-promise' : null }));
  renderGate();
}

/** A non-urgent message's start: what it is and the reply deadline, before anything is sent. */
function messageHead(svc) {
  const due = h('p', { class: 'promise', 'data-testid': 'promise', id: 'lk-promise' });
  fieldsEl.append(h('p', { class: 'intro', text: t('msgIntro') }), due);
  promiseOf(svc.id).then((p) => {
    due.textContent = p ? replyByText(p.due_at, p.working_days) : replyByText(null, svc.promise && svc.promise.working_days);
    due.hidden = !due.textContent;
  });
}

/**
 * The matter itself (sent as the conversation's first message once it is queued) and, for an
 * anonymous patient, why they must identify first with the button to do it (the server would
 * refuse the start).
 */
function messageMatter() {
  const ctl = h('textarea', { id: 'lk-matter', 'data-testid': 'matter', rows: '5', maxlength: String(MAX_BODY), 'aria-required': 'true', 'aria-describedby': 'lk-matter-err' });
  if (store.pendingMatter) ctl.value = store.pendingMatter;
  const err = h('p', { class: 'err', id: 'lk-matter-err', hidden: true });
  fieldsEl.append(h('div', { class: 'field' }, h('label', { for: 'lk-matter' }, t('matter') + ' ', h('span', { class: 'req', text: t('required') })), ctl, err));
  rt.fields.push({ q: { id: '\u0000matter', kind: 'matter', required: true }, ctl: ctl, err: err });
  fieldsEl.append(notifyFieldset());
}

/**
 * For an anonymous client of a service that takes identified clients only: why, and the button
 * that identifies (the organisation's provider in a pop-up, or the demo's name form).
 */
function identifyGate(isMessage) {
  const idBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'identify-first', text: t('identify') });
  idBtn.addEventListener('click', () => { rt.idGate = true; openIdentify(idBtn); });
  fieldsEl.append(h('div', { class: 'gate', 'data-testid': 'identify-needed', id: 'lk-gate', hidden: true },
    h('p', { text: t(isMessage ? 'identifyNeeded' : 'identifyNeededChat') }), idBtn));
}

/**
 * Where to tell the client of the organisation's reply while they are away (`start.contact`):
 * optional, and the notice carries a link, never the reply.
 */
function notifyFieldset() {
  const mk = (kind, name, key) => {
    const id = 'lk-notify-' + kind;
    const ctl = h('input', { id: id, type: kind === 'email' ? 'email' : 'tel', autocomplete: kind === 'email' ? 'email' : 'tel',
      maxlength: kind === 'email' ? '254' : '32', 'data-testid': 'notify-' + kind, 'aria-describedby': id + '-err lk-notify-help' });
    const err = h('p', { class: 'err', id: id + '-err', 'data-testid': 'notify-' + kind + '-error', hidden: true });
    rt.notifyFields.push({ kind: kind, name: name, ctl: ctl, err: err });
    return h('div', { class: 'field' }, h('label', { for: id, text: t(key) }), ctl, err);
  };
  return h('fieldset', { class: 'notify', 'data-testid': 'notify' },
    h('legend', { text: t('notifyLegend') }),
    mk('email', 'contact_email', 'notifyEmail'),
    mk('phone', 'contact_phone', 'notifyPhone'),
    h('p', { class: 'muted help', id: 'lk-notify-help', text: t('notifyHelp') }));
}

/** Shows each notify input's problem (a key of strings.js with values, or none); the first bad one. */
function showNotifyProblems(problems) {
  let first = null;
  rt.notifyFields.forEach((x) => {
    const p = problems[x.name];
    x.err.hidden = !p;
    x.err.textContent = p ? t(p[0], p[1]) : '';
    if (p) x.ctl.setAttribute('aria-invalid', 'true'); else x.ctl.removeAttribute('aria-invalid');
    if (p && !first) first = x.ctl;
  });
  return first;
}

/**
 * What follows the identity in the start form (drawn by drawPanel on every change): a message
 * service's "identify first" instead of its send button, a contact form's contact help.
 */
export function renderGate() {
  renderContactHelp();
  const gate = shadow.getElementById('lk-gate');
  if (!gate) return;
  const startBtn = fieldsEl.querySelector('[data-testid="start"]');
  const had = gate.contains(shadow.activeElement);
  gate.hidden = !!store.identity;
  const idBtn = gate.querySelector('button');
  // The demo's name form, or the organisation's strong identification in a pop-up.
  if (idBtn) idBtn.hidden = !(rt.demo || rt.identification);
  if (startBtn) startBtn.hidden = !store.identity;
  if ((had || rt.gateFocus) && gate.hidden) rt.gateFocus = false;
  else return;
  (fieldsEl.querySelector('[data-testid="matter"]') || startBtn).focus();
}

export function submitStart(e) {
  e.preventDefault();
  const svc = findService(serviceSel.value);
  if (!svc || svc.open_now === false) return;
  if (svc.channel === 'form') return submitForm(svc);
  if ((svc.channel === 'message' || svc.identification_required) && !store.identity) return;
  let topic = null;
  let matter = null;
  let firstBad = null;
  const answers = {};
  rt.fields.forEach((f) => {
    const v = f.ctl.value.trim();
    const missing = f.q.required && !v;
    f.err.hidden = !missing;
    f.err.textContent = missing ? t(f.q.kind === 'topic' ? 'errTopic' : f.q.kind === 'matter' ? 'errMatter' : 'errRequired') : '';
    if (missing) f.ctl.setAttribute('aria-invalid', 'true'); else f.ctl.removeAttribute('aria-invalid');
    if (missing && !firstBad) firstBad = f.ctl;
    if (!v) return;
    if (f.q.kind === 'topic') topic = v;
    else if (f.q.kind === 'matter') matter = f.ctl.value;
    else answers[f.q.id] = f.q.kind === 'yes_no' ? v === 'yes' : v;
  });
  const contact = {};
  const problems = {};
  rt.notifyFields.forEach((x) => {
    const v = x.ctl.value.trim();
    const bad = v ? contactProblem(x.kind, v) : null;
    if (bad) problems[x.name] = bad;
    else if (v) contact[x.kind] = v;
  });
  const badContact = showNotifyProblems(problems);
  const summary = shadow.getElementById('lk-start-err');
  if (summary) summary.textContent = badContact ? t('errFormSummary') : firstBad ? t('errSummary') : '';
  if (firstBad || badContact) return (firstBad || badContact).focus();
  const start = { service: svc.id, client_ref: uuid(), lang: cfg.lang };
  if (topic) start.topic = topic;
  if (Object.keys(answers).length) start.questionnaire = answers;
  if (contact.email || contact.phone) start.contact = contact;
  resetStore({ token: store.token, identity: store.identity, open: store.open, service: svc.id, topic: topic, status: 'starting', pendingStart: start,
    channel: svc.channel || 'chat', pendingMatter: matter });
  save();
  resetChat();
  render();
  qTitle.focus();
  if (client.welcomed) sendStart(); else client.retryNow();
}
export function sendStart() {
  const s = store.pendingStart;
  const f = { type: 'start', service: s.service, client_ref: s.client_ref };
  if (s.topic) f.topic = s.topic;
  if (s.questionnaire) f.questionnaire = s.questionnaire;
  if (s.lang) f.lang = s.lang;
  if (s.contact) f.contact = s.contact;
  send(f, 'start');
}

/**
 * The server refused the start's contact (`bad_frame` with `fields`: contact_email,
 * contact_phone): back to the start form as it was typed — it was only hidden — with the
 * reasons next to the fields and the focus on the first.
 */
export function startRefused(fields) {
  const refused = store.pendingStart || {};
  abandonStart(true);
  rt.notifyFields.forEach((x) => {
    const given = refused.contact && refused.contact[x.kind];
    if (given && !x.ctl.value.trim()) x.ctl.value = given; // the form was drawn afresh after a reload
  });
  const problems = {};
  Object.keys(fields).forEach((k) => { problems[k] = reason(String(fields[k])); });
  const first = showNotifyProblems(problems);
  const summary = shadow.getElementById('lk-start-err');
  if (summary) summary.textContent = t('errFormSummary');
  if (first) first.focus();
  else notice(t('errGeneric')); // a field this form does not have
}
/** Back to the start form; `keep`: as it was typed (else drawn afresh, e.g. the service closed). */
export function abandonStart(keep) {
  store.pendingStart = null;
  store.status = null;
  store.channel = null;
  save();
  render();
  if (!keep) renderFields();
}

// Closing and rating.
export function submitRating(e) {
  e.preventDefault();
  const chosen = radios.filter((r) => r.checked)[0];
  rateErr.hidden = !!chosen;
  rateErr.textContent = chosen ? '' : t('rateMissing');
  if (!chosen) return radios[0].focus();
  store.pendingFeedback = { rating: Number(chosen.value), comment: rateComment.value.trim() };
  save();
  sendFeedback(); // a repeat is harmless: the server keeps the first rating
  if (!client.ws) client.retryNow();
}
export function sendFeedback() {
  const p = store.pendingFeedback;
  const f = { type: 'feedback', conversation: store.conversation, rating: p.rating };
  if (p.comment) f.comment = p.comment;
  send(f, 'feedback');
}
export function resetRating() {
  radios.forEach((r) => { r.checked = false; });
  rateComment.value = '';
  rateErr.hidden = true;
}
/** Back to the start form: after a rated chat, or when a conversation cannot be resumed. */
export function resetToStart(lost) {
  resetStore({ token: store.token, identity: store.identity, open: store.open, service: store.service });
  save();
  resetChat();
  render();
  if (rt.servicesState === 'ok') { renderFields(); if (!lost) serviceSel.focus(); } else loadServices();
  if (lost) notice(t('errLost'));
}
export function resetChat() {
  logEl.textContent = '';
  seen.clear();
  own.clear();
  outbox.items.clear();
  rt.early = [];
  rt.proName = null;
  rt.lastProSeq = 0;
  rt.deadlineSeq = 0;
  rt.unread = 0;
  rt.closedReady = false;
  rt.left = null;
  rt.askLeave = false;
  rt.leaving = false;
  rt.retracted.clear();
  clearAttach();
  clearTimeout(rt.closeTimer);
  showTyping(false);
  resetRating();
  renderBadge();
}

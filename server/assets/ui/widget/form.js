// Contact forms (a service with channel `form`): the service's fields and the sender's contact
// details drawn into the start form, checked here as the server checks them, sent whole with
// `submit_form` (its client_ref kept until the answer, so a resend after a reconnect stores it
// once), the refused fields named next to their inputs, and the reference and deadline shown.

import { h } from '../shared/dom.js';
import { uuid } from '../shared/ids.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { store, save, rt } from './state.js';
import { shadow, fieldsEl, startStatus, startForm } from './view.js';
import { client, send } from './connection.js';
import { notice } from './indicators.js';
import { promiseOf, replyByText, fmtDue } from './due.js';
import { keepMatter } from './device.js';

const DEFAULT_MAX = { textarea: 4000, email: 254, phone: 32 }; // the others 200 (docs/configuration.md)
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A phone number the server can read: digits, maybe a leading +, with spaces, dashes, brackets. */
function phoneOk(v) {
  const d = v.replace(/[\s\-().]/g, '');
  return /^\+?\d{5,15}$/.test(d);
}

/**
 * Why an e-mail address or phone number (`kind` email | phone; trimmed, not blank) would be
 * refused — a key of strings.js with its values — or null. The server checks more (a phone
 * number must be one that exists) and names what it refuses.
 */
export function contactProblem(kind, v) {
  return check({ kind: kind }, v);
}

/** A labelled control with its error line; `kind` decides the element. */
function control(id, f) {
  const attrs = { id: id, 'data-testid': 'f-' + f.id, 'aria-describedby': id + '-err' };
  if (f.required) attrs['aria-required'] = 'true';
  const max = f.max_len || DEFAULT_MAX[f.kind] || 200;
  switch (f.kind) {
    case 'textarea': return h('textarea', Object.assign({ rows: '4', maxlength: String(max) }, attrs));
    case 'email': return h('input', Object.assign({ type: 'email', autocomplete: 'email', maxlength: String(max) }, attrs));
    case 'phone': return h('input', Object.assign({ type: 'tel', autocomplete: 'tel', maxlength: String(max) }, attrs));
    case 'date': return h('input', Object.assign({ type: 'date' }, attrs));
    case 'checkbox': return h('input', Object.assign({ type: 'checkbox' }, attrs));
    case 'choice':
      return h('select', attrs, h('option', { value: '', text: t('choose') }),
        (f.options || []).map((o) => h('option', { value: String(o.id), text: o.label || o.id })));
    default: return h('input', Object.assign({ type: 'text', maxlength: String(max) }, attrs));
  }
}
const reqMark = () => h('span', { class: 'req', text: t('required') });

/** Draws the form of `svc` into the start form (below the service select). */
export function renderForm(svc) {
  rt.formFields = [];
  const due = h('p', { class: 'promise', 'data-testid': 'promise', id: 'lk-promise' });
  fieldsEl.append(h('p', { class: 'intro', text: t('formIntro') }), due);
  fillPromise(svc, due);
  const fields = svc.form && Array.isArray(svc.form.fields) ? svc.form.fields : [];
  fields.forEach((f, i) => {
    if (!f || typeof f.id !== 'string') return;
    const id = 'lk-f-' + i;
    const ctl = control(id, f);
    const err = h('p', { class: 'err', id: id + '-err', 'data-testid': 'f-' + f.id + '-error', hidden: true });
    const label = f.kind === 'checkbox'
      ? h('label', { for: id, class: 'check' }, ctl, h('span', {}, (f.label || f.id) + ' ', f.required ? reqMark() : null))
      : h('label', { for: id }, (f.label || f.id) + ' ', f.required ? reqMark() : null);
    fieldsEl.append(h('div', { class: 'field' }, label, f.kind === 'checkbox' ? null : ctl, err));
    rt.formFields.push({ f: f, ctl: ctl, err: err });
  });
  fieldsEl.append(contactFieldset());
  fieldsEl.append(h('p', { class: 'err', id: 'lk-start-err', role: 'alert' }),
    h('button', { type: 'submit', class: 'btn btn-block', 'data-testid': 'submit-form', text: t('sendForm') }));
  renderContactHelp();
}

function contactFieldset() {
  const mk = (key, kind, testid, name) => {
    const id = 'lk-' + testid;
    const ctl = h('input', { id: id, type: kind, autocomplete: kind === 'email' ? 'email' : 'tel', maxlength: kind === 'email' ? '254' : '32', 'data-testid': testid, 'aria-describedby': id + '-err lk-contact-help lk-contact-err' });
    const err = h('p', { class: 'err', id: id + '-err', 'data-testid': testid + '-error', hidden: true });
    rt.formFields.push({ f: { id: name, kind: kind === 'email' ? 'email' : 'phone', contact: true }, ctl: ctl, err: err });
    return h('div', { class: 'field' }, h('label', { for: id, text: t(key) }), ctl, err);
  };
  const err = h('p', { class: 'err', id: 'lk-contact-err', 'data-testid': 'contact-error', hidden: true });
  rt.formFields.push({ f: { id: 'contact', kind: 'contact', contact: true }, ctl: null, err: err });
  return h('fieldset', { 'data-testid': 'contact', 'aria-describedby': 'lk-contact-help' },
    h('legend', { id: 'lk-contact-legend' }, t('contact') + ' '),
    h('p', { class: 'muted help', id: 'lk-contact-help' }),
    mk('email', 'email', 'contact-email', 'contact_email'),
    mk('phone', 'tel', 'contact-phone', 'contact_phone'), err);
}

/** The contact help and required mark follow the identity (an anonymous sender must give one). */
export function renderContactHelp() {
  const help = shadow.getElementById('lk-contact-help');
  const legend = shadow.getElementById('lk-contact-legend');
  if (!help || !legend) return;
  const anon = !store.identity;
  const text = t(anon ? 'contactHelpAnon' : 'contactHelpId');
  if (help.textContent !== text) help.textContent = text;
  legend.textContent = t('contact') + ' ';
  if (anon) legend.append(reqMark());
}

async function fillPromise(svc, el) {
  const p = await promiseOf(svc.id);
  el.textContent = p ? replyByText(p.due_at, p.working_days)
    : replyByText(null, svc.promise && svc.promise.working_days);
  el.hidden = !el.textContent;
}

/** Why one answer is wrong (a key of strings.js with its values), or null. */
function check(f, v, checked) {
  if (f.kind === 'checkbox') return f.required && !checked ? ['errFieldTick'] : null;
  if (!v) return f.required ? ['errFieldRequired'] : null;
  const max = f.max_len || DEFAULT_MAX[f.kind] || 200;
  if (v.length > max) return ['errTooLong', { n: max }];
  if (f.kind === 'text' && /[\r\n]/.test(v)) return ['errOneLine'];
  if (f.kind === 'email' && !EMAIL.test(v)) return ['errEmail'];
  if (f.kind === 'phone' && !phoneOk(v)) return ['errPhone'];
  if (f.kind === 'date' && (!DATE.test(v) || isNaN(new Date(v + 'T00:00:00Z').getTime()))) return ['errDate'];
  if (f.kind === 'choice' && !(f.options || []).some((o) => String(o.id) === v)) return ['errChoice'];
  return null;
}

/** Shows (or clears) each field's problem; returns the first control with one. */
function showProblems(problems) {
  let first = null;
  rt.formFields.forEach((x) => {
    const p = problems[x.f.id];
    x.err.hidden = !p;
    x.err.textContent = p ? t(p[0], p[1]) : '';
    if (x.ctl) { if (p) x.ctl.setAttribute('aria-invalid', 'true'); else x.ctl.removeAttribute('aria-invalid'); }
    if (p && !first) first = x.ctl || rt.formFields.filter((y) => y.f.contact && y.ctl)[0].ctl;
  });
  const summary = shadow.getElementById('lk-start-err');
  if (summary) summary.textContent = first ? t('errFormSummary') : '';
  return first;
}

/** The start form's submit for a form service: check, then send (or keep until connected). */
export function submitForm(svc) {
  if (store.pendingForm) return; // one is on its way: a double click sends nothing more
  const problems = {};
  const fields = {};
  const contact = {};
  rt.formFields.forEach((x) => {
    if (!x.ctl) return;
    const v = x.f.kind === 'checkbox' ? '' : x.ctl.value.trim();
    const bad = check(x.f, v, x.ctl.checked);
    if (bad) problems[x.f.id] = bad;
    if (x.f.contact) { if (v) contact[x.f.id === 'contact_email' ? 'email' : 'phone'] = v; return; }
    if (x.f.kind === 'checkbox') fields[x.f.id] = x.ctl.checked;
    else if (v) fields[x.f.id] = v;
  });
  if (!store.identity && !contact.email && !contact.phone && !problems.contact_email && !problems.contact_phone) {
    problems.contact = ['errContact'];
  }
  const first = showProblems(problems);
  if (first) return first.focus();
  const frame = { type: 'submit_form', service: svc.id, fields: fields, client_ref: uuid(), lang: cfg.lang };
  if (contact.email || contact.phone) frame.contact = contact;
  store.pendingForm = frame;
  save();
  setSending(true);
  if (client.welcomed) sendPendingForm(); else client.retryNow();
}

/** Sends the form being sent (again after a reconnect: the same client_ref stores it once). */
export function sendPendingForm() {
  if (store.pendingForm) send(Object.assign({}, store.pendingForm), 'form');
}

function setSending(on) {
  const btn = startForm.querySelector('[data-testid="submit-form"]');
  if (!btn) return;
  btn.textContent = t(on ? 'sendingForm' : 'sendForm');
  if (on) btn.setAttribute('aria-disabled', 'true'); else btn.removeAttribute('aria-disabled');
}

/**
 * `form_received`: kept, so that the reference and the deadline take the form's place. An
 * anonymous sender's matter is also kept on this device (device.js), so that they can come
 * back to it in this browser, read the reply and answer.
 */
export function onFormReceived(f) {
  if (!store.pendingForm) return false;
  const sent = store.pendingForm;
  store.pendingForm = null;
  const kept = !store.identity && keepMatter({ conversation: f.conversation, resume_token: f.resume_token,
    reference: f.reference, service: sent.service, sent_at: new Date().toISOString() });
  store.formDone = { reference: f.reference || '', due_at: f.due_at || null, kept: kept };
  save();
  return true;
}

/**
 * The answer to a sent form, drawn above the start form (hidden meanwhile); `again` goes
 * back to the start form. Returns whether there was one to draw.
 */
export function renderFormDone(focus, again) {
  const d = store.formDone;
  if (!d) return false;
  startForm.hidden = true;
  startStatus.textContent = '';
  const head = h('h3', { id: 'lk-received-h', tabindex: '-1', text: t('formReceived') });
  const when = fmtDue(d.due_at);
  const text = when ? t('formRef', { ref: d.reference, when: when }) : t('formRefOnly', { ref: d.reference });
  const btn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'form-again', text: t('newForm') });
  btn.addEventListener('click', () => {
    store.formDone = null;
    save();
    again();
  });
  startStatus.append(h('section', { class: 'received', 'data-testid': 'form-received', role: 'status', 'aria-labelledby': 'lk-received-h' },
    head, h('p', { class: 'ref', 'data-testid': 'form-reference', text: text }), h('p', { text: t('formRefKeep') }),
    d.kept ? h('p', { 'data-testid': 'form-on-device', text: t('formOnDevice') }) : null, btn));
  if (focus) head.focus();
  return true;
}

/** A refused form: each named problem next to its field; anything else as a notice. */
export function onFormError(f) {
  store.pendingForm = null;
  save();
  setSending(false);
  const fields = f.fields && typeof f.fields === 'object' ? f.fields : null;
  if (!fields) return notice(t(f.code === 'rate_limited' ? 'errRate' : 'errGeneric'));
  const problems = {};
  Object.keys(fields).forEach((k) => { problems[k] = reason(String(fields[k])); });
  const first = showProblems(problems);
  if (first) first.focus();
}

/** The server's English reason (docs/protocol.md §5) in the widget's language. */
export function reason(r) {
  if (/^(required|empty)$/.test(r)) return ['errFieldRequired'];
  if (r === 'must be ticked') return ['errFieldTick'];
  if (/e-mail address or a phone/.test(r)) return ['errContact'];
  if (r === 'not an e-mail address') return ['errEmail'];
  if (r === 'not a phone number') return ['errPhone'];
  if (/^not a date/.test(r)) return ['errDate'];
  if (r === 'not one of the options') return ['errChoice'];
  if (r === 'must be a single line') return ['errOneLine'];
  const m = /^longer than (\d+) characters$/.exec(r);
  if (m) return ['errTooLong', { n: m[1] }];
  return ['errFieldOther'];
}

// New thread (docs/ui.md "New thread"): from the inbox a professional opens a non-urgent matter
// with a registered client (the identity provider's subject of someone who has identified with
// us before) in a `message` service of their teams, or an SMS conversation with a mobile number
// in an `sms` service (`phone` instead of `client`): `start_thread`, then, with a document, its
// upload (POST …/attachments with the console's token) and, when "close after sending" is
// ticked, `close`. The server answers `start_thread` with `assigned`; this module keeps that
// frame until every step is done, then hands it to the chats (the thread opens as mine, like a
// taken matter), or, once closed, shows the thread's reference. Errors go next to their field.
// main.js wraps the frame table with `threadFrames`, so this module sees its own answers
// (matched by `req` and `client_msg_id`) before the views; it imports nothing above the
// connection. Its fi/sv/en texts live here.

import { h } from '../shared/dom.js';
import { errorCode, errorMessage, humanSize, paperclip, typeLabels, uploadFile } from '../shared/files.js';
import { uuid } from '../shared/ids.js';
import { send } from './connection.js';
import { card } from './documents.js';
import { LANGS, count, lang, locale, t } from './i18n.js';
import { showError } from './notices.js';
import { smsLength } from './sms.js';
import { smsEnabled } from './smschat.js';
import { $, S, announce, service, serviceTopic } from './state.js';

/** The server's limit on a message's length (conversation/actor/posts.rs, MAX_BODY_CHARS). */
const MAX_BODY = 10000;

const STR = {
  ntOpen: ['New thread', 'Uusi viestiketju', 'Ny tråd'],
  ntTitle: ['New thread with a client', 'Uusi viestiketju asiakkaalle', 'Ny tråd med en klient'],
  ntIntro: ['Opens a non-urgent matter with a client who has identified with us before. The thread is yours from the start; the client finds it under “My conversations”.',
    'Avaa kiireettömän asian asiakkaalle, joka on tunnistautunut palveluumme aiemmin. Viestiketju on alusta asti sinun; asiakas löytää sen kohdasta ”Omat keskustelut”.',
    'Öppnar ett icke-brådskande ärende med en klient som har identifierat sig hos oss tidigare. Tråden är din från början; klienten hittar den under ”Mina samtal”.'],
  ntIntroSms: ['Opens an SMS conversation with a client’s mobile phone: the message goes as SMS and the client’s SMS replies come back to the thread. The thread is yours from the start.',
    'Avaa tekstiviestikeskustelun asiakkaan matkapuhelimeen: viesti lähtee tekstiviestinä ja asiakkaan vastaukset tulevat viestiketjuun. Viestiketju on alusta asti sinun.',
    'Öppnar ett sms-samtal med klientens mobiltelefon: meddelandet skickas som sms och klientens svar kommer tillbaka till tråden. Tråden är din från början.'],
  ntPhone: ['Client’s mobile number', 'Asiakkaan matkapuhelinnumero', 'Klientens mobilnummer'],
  ntPhoneHint: ['A mobile number (e.g. 040 123 4567 or +358 40 123 4567): an SMS cannot reach a landline. Check it with the client’s details before sending.',
    'Matkapuhelinnumero (esim. 040 123 4567 tai +358 40 123 4567): tekstiviesti ei mene lankapuhelimeen. Tarkista numero asiakkaan tiedoista ennen lähettämistä.',
    'Ett mobilnummer (t.ex. 040 123 4567 eller +358 40 123 4567): ett sms når inte en fast telefon. Kontrollera numret mot klientens uppgifter innan du skickar.'],
  ntMissingPhone: ['Write the client’s mobile number.', 'Kirjoita asiakkaan matkapuhelinnumero.', 'Skriv klientens mobilnummer.'],
  ntBadPhone: ['An SMS cannot be sent to this number.', 'Tähän numeroon ei voi lähettää tekstiviestiä.', 'Det går inte att skicka sms till det här numret.'],
  ntSmsTooLong: ['Too long for SMS: at most {max} SMS; this text takes {n}.', 'Liian pitkä tekstiviestiksi: enintään {max} tekstiviestiä; tämä teksti vie {n}.', 'För långt för sms: högst {max} sms; den här texten tar {n}.'],
  ntClient: ['Client’s identifier', 'Asiakkaan tunniste', 'Klientens identifierare'],
  ntClientHint: ['The identifier the client’s strong identification gives (their subject at the identification service).',
    'Tunniste, jonka asiakkaan vahva tunnistautuminen antaa (asiakkaan tunniste tunnistuspalvelussa).',
    'Identifieraren som klientens starka identifiering ger (klientens identitet hos identifieringstjänsten).'],
  ntService: ['Service', 'Palvelu', 'Tjänst'],
  ntChoose: ['Choose…', 'Valitse…', 'Välj…'],
  ntNoService: ['None of your teams’ services can open a thread: a non-urgent message service (or an SMS service) is needed.',
    'Mikään tiimiesi palveluista ei voi avata viestiketjua: siihen tarvitaan kiireettömien viestien palvelu (tai tekstiviestipalvelu).',
    'Ingen av dina teams tjänster kan öppna en tråd: det behövs en tjänst för icke-brådskande meddelanden (eller en sms-tjänst).'],
  ntTopic: ['Topic (optional)', 'Aihe (valinnainen)', 'Ämne (valfritt)'],
  ntNoTopic: ['No topic', 'Ei aihetta', 'Inget ämne'],
  ntBody: ['Message', 'Viesti', 'Meddelande'],
  ntFileHint: ['The document is sent to the client right after the message.', 'Asiakirja lähtee asiakkaalle heti viestin jälkeen.', 'Dokumentet skickas till klienten direkt efter meddelandet.'],
  ntRemove: ['Remove', 'Poista', 'Ta bort'],
  ntRemoveName: ['Remove {name}', 'Poista {name}', 'Ta bort {name}'],
  ntCloseAfter: ['Close after sending (a document or a decision, no reply expected)',
    'Sulje lähettämisen jälkeen (asiakirja tai päätös, vastausta ei odoteta)',
    'Stäng efter att ha skickat (ett dokument eller ett beslut, inget svar väntas)'],
  ntCloseHint: ['The client can read it but cannot reply.', 'Asiakas voi lukea sen mutta ei voi vastata.', 'Klienten kan läsa det men inte svara.'],
  ntSend: ['Send', 'Lähetä', 'Skicka'],
  ntRetry: ['Try again', 'Yritä uudelleen', 'Försök igen'],
  ntCancel: ['Cancel', 'Peruuta', 'Avbryt'],
  ntSending: ['Sending…', 'Lähetetään…', 'Skickar…'],
  ntClosing: ['Closing the thread…', 'Suljetaan viestiketjua…', 'Stänger tråden…'],
  ntMissingClient: ['Write the client’s identifier.', 'Kirjoita asiakkaan tunniste.', 'Skriv klientens identifierare.'],
  ntMissingService: ['Choose a service.', 'Valitse palvelu.', 'Välj en tjänst.'],
  ntMissingBody: ['Write the message.', 'Kirjoita viesti.', 'Skriv meddelandet.'],
  ntTooLong: ['The message is too long: at most {n} characters.', 'Viesti on liian pitkä: enintään {n} merkkiä.', 'Meddelandet är för långt: högst {n} tecken.'],
  ntUnknownClient: ['No registered client with this identifier: the client must have identified with us before.',
    'Tällä tunnisteella ei ole rekisteröityä asiakasta: asiakkaan on täytynyt tunnistautua palveluumme aiemmin.',
    'Ingen registrerad klient med den här identifieraren: klienten måste ha identifierat sig hos oss tidigare.'],
  ntNotYours: ['This service is not one of your teams’.', 'Palvelu ei kuulu tiimeillesi.', 'Tjänsten hör inte till dina team.'],
  ntNoSuch: ['Not found.', 'Ei löytynyt.', 'Hittades inte.'],
  ntRefused: ['Not accepted.', 'Ei hyväksytty.', 'Godtogs inte.'],
  ntServer: ['(The server: {message})', '(Palvelin: {message})', '(Servern: {message})'],
  ntOffline: ['You are offline: nothing was sent.', 'Yhteys puuttuu: mitään ei lähetetty.', 'Du är offline: inget skickades.'],
  ntFailed: ['The thread was not opened: {why}', 'Viestiketjua ei avattu: {why}', 'Tråden öppnades inte: {why}'],
  ntLost: ['The connection was lost before the server answered. Look in the inbox (Mine) before sending again.',
    'Yhteys katkesi ennen palvelimen vastausta. Katso saapuneista (Omat) ennen kuin lähetät uudelleen.',
    'Anslutningen bröts innan servern svarade. Titta i inkorgen (Mina) innan du skickar igen.'],
  ntLostAfter: ['The connection was lost while sending the thread: check it in your chats or the archive.',
    'Yhteys katkesi viestiketjun lähetyksen aikana: tarkista se keskusteluistasi tai arkistosta.',
    'Anslutningen bröts medan tråden skickades: kontrollera den i dina chattar eller i arkivet.'],
  ntNoMessage: ['The thread was opened but its message was not stored: {why} Write it in the thread.',
    'Viestiketju avattiin, mutta sen viestiä ei tallennettu: {why} Kirjoita se viestiketjuun.',
    'Tråden öppnades men dess meddelande sparades inte: {why} Skriv det i tråden.'],
  ntDocNotSent: ['The message was sent and the thread is open; the document was not sent. Choose it again or remove it, then “Try again”.',
    'Viesti lähti ja viestiketju on auki; asiakirja ei lähtenyt. Valitse se uudelleen tai poista se ja valitse ”Yritä uudelleen”.',
    'Meddelandet skickades och tråden är öppen; dokumentet skickades inte. Välj det igen eller ta bort det och välj ”Försök igen”.'],
  ntCloseFailed: ['The thread is open but could not be closed: {why} “Try again”, or untick closing to keep it open.',
    'Viestiketju on auki, mutta sitä ei voitu sulkea: {why} Valitse ”Yritä uudelleen” tai poista sulkeminen, niin ketju jää auki.',
    'Tråden är öppen men kunde inte stängas: {why} Välj ”Försök igen”, eller avmarkera stängningen så förblir den öppen.'],
  ntDoneTitle: ['Sent and closed', 'Lähetetty ja suljettu', 'Skickat och stängt'],
  ntDone: ['The client can read it under “My conversations” but cannot reply.', 'Asiakas voi lukea sen kohdasta ”Omat keskustelut” mutta ei voi vastata.', 'Klienten kan läsa det under ”Mina samtal” men inte svara.'],
  ntReference: ['Reference', 'Viitenumero', 'Referensnummer'],
  ntDismiss: ['Close', 'Sulje', 'Stäng'],
  ntOpened: ['Thread opened: {what}', 'Viestiketju avattu: {what}', 'Tråd öppnad: {what}'],
};
/** This module's text in the console's language. */
export function tt(key, vars) {
  const row = STR[key] || [key];
  const s = row[Math.max(0, LANGS.indexOf(lang()))] || row[0];
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null ? String(vars[k]) : '')) : s;
}

/**
 * The reference a client is told (console-protocol/src/inbox.rs `reference`): a letter for the
 * channel and the first eight letters and digits of the id, upper-case ("M-1A2B3C4D").
 */
export function reference(channel, conversation) {
  const letter = { message: 'M', form: 'F', sms: 'S' }[channel] || 'C';
  return `${letter}-${String(conversation).replace(/[^A-Za-z0-9]/g, '').slice(0, 8).toUpperCase()}`;
}

/** The services a thread can be opened in: `message` services of my teams (thread.rs), and `sms` ones when SMS chat is on. */
const threadServices = () => S.services.filter((s) => (s.channel === 'message' || (s.channel === 'sms' && smsEnabled()))
  && (s.teams || []).some((x) => ((S.me && S.me.teams) || []).includes(x)));
/** The chosen service is an SMS one: a mobile number instead of the client's identifier. */
const smsChosen = () => ((service(el.service.value) || {}).channel) === 'sms';
const FIELDS = ['service', 'client', 'phone', 'topic', 'body']; // in the form's order

const el = {};   // the form's elements, built on first open
let file = null; // the document chosen for the thread
let job = null;  // the thread on its way: what was sent and which steps are done
let handOver = () => {}; // the frame table's `assigned`: opens a chat

/** Wraps the frame table: this module's answers first, everything else as before. */
export function threadFrames(table) {
  handOver = table.assigned;
  const observed = (type) => (f, ctx) => { observe(f); if (table[type]) table[type](f, ctx); };
  return {
    ...table,
    assigned: (f, ctx) => (job && f.req && f.req === job.req ? onStarted(f) : table.assigned(f, ctx)),
    error: (f, ctx) => (job && f.req && (f.req === job.req || f.req === job.closeReq) ? onRefused(f) : table.error(f, ctx)),
    ack: observed('ack'), message: observed('message'), system: observed('system'), released: observed('released'),
    welcome: (f, ctx) => { table.welcome(f, ctx); onWelcomeAgain(); },
  };
}

export function wireThread() {
  const btn = $('nt-open');
  btn.textContent = tt('ntOpen');
  btn.addEventListener('click', () => (btn.getAttribute('aria-expanded') === 'true' ? closePanel() : openPanel()));
}

function openPanel() {
  if (!el.form) build();
  fillServices();
  $('nt-open').setAttribute('aria-expanded', 'true');
  $('new-thread').hidden = false;
  el.done.hidden = true;
  el.form.hidden = false;
  (el.client.disabled ? el.send : threadServices().length > 1 && !el.service.value ? el.service : smsChosen() ? el.phone : el.client).focus();
}
function closePanel() {
  if (job && job.busy) return;
  if (job && job.conversation) return finish(); // a thread already opened is not left behind
  $('new-thread').hidden = true;
  $('nt-open').setAttribute('aria-expanded', 'false');
  $('nt-open').focus();
}

/** A labelled field with its hint and error line (ids `nt-<name>`, test ids `thread-<name>`). */
function field(name, label, control, hint) {
  control.id = `nt-${name}`;
  control.dataset.testid = `thread-${name}`;
  const err = h('p', { id: `nt-${name}-error`, class: 'field-error', testid: `thread-${name}-error` });
  control.setAttribute('aria-describedby', [hint && `nt-${name}-hint`, err.id].filter(Boolean).join(' '));
  el[name] = control;
  el[`${name}Error`] = err;
  return h('div', { class: 'field-row' }, h('label', { for: control.id, text: label }),
    hint && h('p', { id: `nt-${name}-hint`, class: 'nt-hint', text: hint }), control, err);
}

function build() {
  el.heading = h('h3', { id: 'nt-h', tabindex: -1, text: tt('ntTitle') });
  el.error = h('p', { class: 'field-error nt-error', testid: 'thread-error', role: 'alert' });
  el.status = h('p', { class: 'nt-status', testid: 'thread-status', role: 'status' });
  el.noService = h('p', { class: 'nt-hint', testid: 'thread-no-service', text: tt('ntNoService'), hidden: true });
  el.fileInput = h('input', { type: 'file', testid: 'attach-input', hidden: true, tabindex: -1, onchange: onFileChosen });
  el.attach = h('button', { type: 'button', class: 'btn attach', testid: 'attach', 'aria-describedby': 'nt-file-hint nt-file-error',
    onclick: () => { if (!(job && job.busy)) el.fileInput.click(); } }, paperclip(), h('span', { text: t('attach') }));
  el.chosen = h('div', { class: 'nt-chosen' });
  el.fileError = h('p', { id: 'nt-file-error', class: 'attach-status refused', testid: 'attach-status', role: 'status' });
  el.fileRow = h('div', { class: 'field-row nt-file' }, h('p', { id: 'nt-file-hint', class: 'nt-hint', text: tt('ntFileHint') }),
    h('div', null, el.attach, el.fileInput), el.chosen, el.fileError);
  el.closeAfter = h('input', { type: 'checkbox', id: 'nt-close-after', testid: 'thread-close-after', 'aria-describedby': 'nt-close-hint' });
  el.smsCount = h('p', { id: 'nt-sms-count', class: 'nt-hint sms-info', testid: 'thread-sms-counter', hidden: true });
  el.closeRow = h('div', { class: 'nt-check' }, el.closeAfter, ' ', h('label', { for: 'nt-close-after', text: tt('ntCloseAfter') }),
    h('p', { id: 'nt-close-hint', class: 'nt-hint', text: tt('ntCloseHint') }));
  el.send = h('button', { type: 'submit', class: 'btn primary', testid: 'thread-send', text: tt('ntSend') });
  el.form = h('form', { class: 'nt-form', testid: 'new-thread-form', novalidate: true, 'aria-labelledby': 'nt-h', onsubmit: onSubmit,
    onkeydown: (e) => { if (e.key === 'Escape' && !(job && job.busy)) { e.preventDefault(); closePanel(); } } },
  el.error,
  field('service', tt('ntService'), h('select', { 'aria-required': 'true', onchange: onServiceChange })), el.noService,
  el.clientRow = field('client', tt('ntClient'), h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-required': 'true' }), tt('ntClientHint')),
  el.phoneRow = field('phone', tt('ntPhone'), h('input', { type: 'tel', autocomplete: 'off', 'aria-required': 'true' }), tt('ntPhoneHint')),
  field('topic', tt('ntTopic'), h('select')),
  field('body', tt('ntBody'), h('textarea', { rows: 5, maxlength: MAX_BODY, 'aria-required': 'true', oninput: renderSmsCount })),
  el.smsCount,
  el.fileRow,
  el.closeRow,
  h('div', { class: 'form-bar' }, el.send,
    h('button', { type: 'button', class: 'btn ghost', testid: 'thread-cancel', text: tt('ntCancel'), onclick: closePanel })),
  el.status);
  el.doneH = h('h4', { id: 'nt-done-h', tabindex: -1, text: tt('ntDoneTitle') });
  el.reference = h('strong', { testid: 'thread-reference' });
  el.done = h('div', { class: 'nt-done', testid: 'thread-done', role: 'group', 'aria-labelledby': 'nt-done-h', hidden: true },
    el.doneH, h('p', null, `${tt('ntReference')}: `, el.reference), h('p', { text: tt('ntDone') }),
    h('div', { class: 'form-bar' },
      h('button', { type: 'button', class: 'btn primary', testid: 'thread-again', text: tt('ntOpen'), onclick: openPanel }),
      h('button', { type: 'button', class: 'btn ghost', testid: 'thread-dismiss', text: tt('ntDismiss'), onclick: closePanel })));
  el.intro = h('p', { class: 'sv-intro', text: tt('ntIntro') });
  el.body.setAttribute('aria-describedby', `nt-sms-count ${el.body.getAttribute('aria-describedby')}`);
  $('new-thread').replaceChildren(el.heading, el.intro, el.form, el.done);
}

/** An SMS service asks for a mobile number instead of the client, counts the text as SMS, closes nothing. */
function renderKind() {
  const sms = smsChosen();
  el.clientRow.hidden = sms;
  el.phoneRow.hidden = !sms;
  el.closeRow.hidden = sms;
  if (sms) el.closeAfter.checked = false;
  el.intro.textContent = tt(sms ? 'ntIntroSms' : 'ntIntro');
  renderSmsCount();
}
/** The message's length as SMS (the server's count), shown while an SMS service is chosen. */
function renderSmsCount() {
  el.smsCount.hidden = !smsChosen();
  if (el.smsCount.hidden) return;
  const len = smsLength(el.body.value);
  el.smsCount.textContent = `${count(len.units, 'smsChars')} · ${count(len.segments, 'smsParts')}${len.encoding === 'ucs2' ? ` ${t('smsUnicode')}` : ''}`;
  el.smsCount.classList.toggle('over', len.segments > S.smsMaxSegments);
}

/**
 * The services, message ones first (the one message service there is preselected: SMS is the
 * other choice, not a question asked every time) and the chosen one's topics.
 */
function fillServices() {
  if (el.service.disabled) return; // a thread on its way keeps what it was sent with
  const all = threadServices();
  const messages = all.filter((s) => s.channel === 'message');
  const list = [...messages, ...all.filter((s) => s.channel !== 'message')];
  const preset = messages.length === 1 ? messages[0] : list.length === 1 ? list[0] : null;
  const was = el.service.value;
  el.service.replaceChildren(...(preset ? [] : [h('option', { value: '', text: tt('ntChoose') })]),
    ...list.map((s) => h('option', { value: s.id, text: s.name || s.id })));
  if (list.some((s) => s.id === was)) el.service.value = was;
  else if (preset) el.service.value = preset.id;
  el.noService.hidden = list.length > 0;
  renderSend();
  onServiceChange();
}
function onServiceChange() {
  const s = service(el.service.value);
  const was = el.topic.value;
  el.topic.replaceChildren(h('option', { value: '', text: tt('ntNoTopic') }),
    ...((s && s.topics) || []).map((x) => h('option', { value: x.id, text: x.name || x.id })));
  if (s && (s.topics || []).some((x) => x.id === was)) el.topic.value = was;
  if (file && !accepts()) setFile(null);
  renderFile();
  renderKind();
}

// The document: chosen with the composer's "Attach document", checked against the service's limit.
const accepts = () => ((service(el.service.value) || {}).attachments) || null;
function onFileChosen() {
  const chosen = el.fileInput.files && el.fileInput.files[0];
  el.fileInput.value = ''; // the same file may be chosen again
  if (!chosen) return;
  const a = accepts();
  if (a && Number.isFinite(a.max_bytes) && chosen.size > a.max_bytes) {
    sayFile(t('attachTooLarge', { name: chosen.name, max: humanSize(a.max_bytes, locale()) }));
    return;
  }
  sayFile('');
  setFile(chosen);
}
function setFile(f) {
  file = f;
  if (job && job.conversation) { job.file = f; job.fileCmid = f ? uuid() : null; }
  renderFile();
}
function renderFile() {
  const a = accepts();
  el.fileRow.hidden = !a;
  el.fileInput.accept = a && Array.isArray(a.types) ? a.types.join(',') : '';
  if (job && job.busy) el.attach.setAttribute('aria-disabled', 'true'); else el.attach.removeAttribute('aria-disabled');
  el.chosen.replaceChildren(...(file ? [card({ name: file.name, type: file.type, size: file.size }),
    h('button', { type: 'button', class: 'btn small ghost', testid: 'thread-attach-remove', text: tt('ntRemove'),
      'aria-label': tt('ntRemoveName', { name: file.name }), onclick: () => { setFile(null); el.attach.focus(); } })] : []));
}
const sayFile = (text) => { if (el.fileError.textContent !== text) el.fileError.textContent = text; };

// Errors next to their field (aria-invalid, the error in the field's description).
function fieldError(name, text) {
  el[`${name}Error`].textContent = text;
  el[name].setAttribute('aria-invalid', 'true');
}
function clearErrors() {
  for (const name of FIELDS) {
    el[`${name}Error`].textContent = '';
    el[name].removeAttribute('aria-invalid');
  }
  el.error.textContent = '';
  sayFile('');
}
function focusFirstError() {
  const first = FIELDS.find((n) => el[n].getAttribute('aria-invalid') === 'true');
  if (first) el[first].focus();
}

function onSubmit(e) {
  e.preventDefault();
  if (job && job.busy) return; // never twice: the first is on its way
  if (el.send.hasAttribute('aria-disabled')) return;
  if (job && job.conversation) return retry();
  clearErrors();
  const sms = smsChosen();
  const v = { client: el.client.value.trim(), phone: el.phone.value.trim(), service: el.service.value, topic: el.topic.value, body: el.body.value, sms };
  if (!v.service) fieldError('service', tt('ntMissingService'));
  if (sms && !v.phone) fieldError('phone', tt('ntMissingPhone'));
  if (!sms && !v.client) fieldError('client', tt('ntMissingClient'));
  const parts = sms ? smsLength(v.body.trim()).segments : 0;
  if (!v.body.trim()) fieldError('body', tt('ntMissingBody'));
  else if (v.body.length > MAX_BODY) fieldError('body', tt('ntTooLong', { n: MAX_BODY }));
  else if (parts > S.smsMaxSegments) fieldError('body', tt('ntSmsTooLong', { max: S.smsMaxSegments, n: parts }));
  if (el.form.querySelector('[aria-invalid="true"]')) return focusFirstError();
  start(v);
}

/** `start_thread`: with close_after only when no document follows (it must arrive first). */
function start(v) {
  const withFile = file && accepts() ? file : null;
  job = { ...v, cmid: uuid(), file: withFile, fileCmid: withFile ? uuid() : null, closeAfter: el.closeAfter.checked, busy: true, maxSeq: 0 };
  job.serverCloses = job.closeAfter && !withFile;
  const frame = { type: 'start_thread', service: v.service, ...(v.sms ? { phone: v.phone } : { client: v.client }), client_msg_id: job.cmid, body: v.body };
  if (v.topic) frame.topic = v.topic;
  if (job.serverCloses) frame.close_after = true;
  if (!send(frame, { kind: 'start_thread' })) {
    job = null;
    el.error.textContent = tt('ntOffline');
    return;
  }
  job.req = frame.req;
  setBusy(tt('ntSending'));
}
function setBusy(text) {
  el.form.setAttribute('aria-busy', String(!!(job && job.busy)));
  el.status.textContent = text || '';
  const sent = !!(job && job.conversation);
  for (const name of FIELDS) el[name].disabled = sent; // already with the server
  renderSend();
  renderFile();
}
/** Send is "Try again" once the thread exists; not `disabled` while busy, so it keeps the focus. */
function renderSend() {
  const busy = !!(job && job.busy);
  if (busy || !threadServices().length) el.send.setAttribute('aria-disabled', 'true'); else el.send.removeAttribute('aria-disabled');
  el.send.textContent = job && job.conversation && !busy ? tt('ntRetry') : tt('ntSend');
}

/** The server's `assigned`: the thread exists and is mine; kept until every step is done. */
function onStarted(f) {
  job.conversation = f.conversation;
  job.assigned = f;
  job.maxSeq = Math.max(job.maxSeq, f.last_seq || 0);
  setBusy(tt('ntSending'));
  advance();
}
/** Frames of the thread on its way: its message stored, its seqs, its closing. */
function observe(f) {
  if (!job) return;
  if (f.type === 'ack' && f.client_msg_id === job.cmid && !job.conversation) job.conversation = f.conversation;
  if (!job.conversation || f.conversation !== job.conversation) return;
  if (Number.isInteger(f.seq)) job.maxSeq = Math.max(job.maxSeq, f.seq);
  if (f.type === 'ack' && f.client_msg_id === job.cmid) job.stored = true;
  else if ((f.type === 'system' && f.event === 'closed') || (f.type === 'released' && f.reason === 'closed')
    || (f.type === 'ack' && f.req && f.req === job.closeReq)) job.closed = true;
  else return;
  advance();
}

/** The next step: the message stored, the document sent, the thread closed; then done. */
function advance() {
  if (!job || !job.assigned || !job.stored || !job.busy || job.uploading) return;
  if (job.file && !job.uploaded) return void upload();
  if (job.closeAfter && !job.closed) {
    if (!job.serverCloses && !job.closeReq) closeThread();
    return;
  }
  finish();
}
async function upload() {
  job.uploading = true;
  setBusy(t('attachSending', { name: job.file.name }));
  const r = await uploadFile({ root: '', conversation: job.conversation, file: job.file, clientMsgId: job.fileCmid,
    headers: { Authorization: `Bearer ${S.token}` } });
  job.uploading = false;
  if (r.ok && r.body && Number.isInteger(r.body.seq)) {
    job.uploaded = true;
    job.maxSeq = Math.max(job.maxSeq, r.body.seq);
    return advance();
  }
  job.busy = false;
  setBusy('');
  sayFile(`${refusal(r, job.file.name)} ${tt('ntDocNotSent')}`);
  el.attach.focus();
}
function closeThread() {
  const frame = { type: 'close', conversation: job.conversation };
  if (!send(frame, { kind: 'thread_close', conversation: job.conversation })) {
    return onRefused({ req: 'offline', code: 'offline', message: t('why_offline') }, true);
  }
  job.closeReq = frame.req;
  setBusy(tt('ntClosing'));
}
/** Steps left after a refusal (the document, the closing); the thread itself is never sent twice. */
function retry() {
  job.closeAfter = el.closeAfter.checked;
  job.busy = true;
  el.error.textContent = '';
  sayFile('');
  setBusy(tt('ntSending'));
  advance();
}

/** Why a document was not sent, in the words attach.js uses (the server's for a limit or a type). */
function refusal(r, name) {
  const why = errorMessage(r), code = errorCode(r), a = accepts() || {};
  if (r.status === 0 || r.status >= 500) return t('attachFailed', { name });
  const refused = t('attachRefused', { name });
  if (code === 'too_large' || code === 'unsupported_type' || r.status === 413 || r.status === 415) {
    return `${refused} ${why || t('attachTypes', { types: typeLabels(a.types) })}`;
  }
  if (r.status === 401 || r.status === 403) return `${refused} ${t('attachForbidden')}`;
  return `${refused} ${why || r.status}`;
}

/** An error answering `start_thread` (nothing was created, or its message failed) or `close`. */
function onRefused(f, closing = f.req === job.closeReq || (job.stored && f.req === job.req)) {
  const said = f.message ? ` ${tt('ntServer', { message: f.message })}` : '';
  if (closing) { // the message (and document) are there: closing is what is left
    job.closeReq = null;
    job.serverCloses = false;
    job.busy = false;
    setBusy('');
    el.error.textContent = tt('ntCloseFailed', { why: `${f.message || f.code}.` });
    return el.closeAfter.focus();
  }
  if (job.conversation) { // the thread exists, its message does not: it opens to be written in
    showError(tt('ntNoMessage', { why: `${f.message || f.code}.` }), null, f.code, 'start_thread');
    return finish();
  }
  job = null;
  setBusy('');
  // The server names the field of each refusal (`fields`: client, phone, service, topic, body).
  const field = FIELDS.find((k) => f.fields && typeof f.fields[k] === 'string');
  if (field === 'client') fieldError('client', `${tt('ntUnknownClient')}${said}`);
  else if (field === 'phone') fieldError('phone', `${tt('ntBadPhone')} ${tt('ntServer', { message: f.fields.phone })}`);
  else if (field === 'service' && f.code === 'forbidden') fieldError('service', `${tt('ntNotYours')}${said}`);
  else if (field === 'service' || field === 'topic') fieldError(field, `${tt(f.code === 'not_found' ? 'ntNoSuch' : 'ntRefused')}${said}`);
  else if (field === 'body') fieldError('body', `${tt('ntRefused')}${said}`);
  else el.error.textContent = tt('ntFailed', { why: `${f.message || f.code}` });
  focusFirstError();
}

/** After a reconnect: an unanswered `start_thread` may or may not have been stored. */
function onWelcomeAgain() {
  if (!job || !job.busy || job.uploading) return;
  const opened = !!job.conversation;
  job = null;
  if (opened) { // the welcome's summaries bring it to the chats while it is open
    showError(tt('ntLostAfter'), null, 'offline', 'start_thread');
    return reset(true);
  }
  setBusy('');
  el.error.textContent = tt('ntLost');
}

/** Every step done: the closed thread's reference, or the open thread as a chat of mine. */
function finish() {
  const done = job;
  job = null;
  if (done.closed) {
    el.reference.textContent = reference((service(done.service) || {}).channel || 'message', done.conversation);
    reset(false);
    el.form.hidden = true;
    el.done.hidden = false;
    el.doneH.focus();
    announce(`${tt('ntDoneTitle')}. ${tt('ntReference')}: ${el.reference.textContent}`);
    return;
  }
  reset(true);
  // To the chats it is a matter I took: mine, selected, no "assigned to you" alert. Its events
  // so far come with the history, read up to the last seq this module saw.
  handOver({ ...done.assigned, last_seq: Math.max(done.assigned.last_seq || 0, done.maxSeq) }, { kind: 'take', conversation: done.conversation });
  announce(tt('ntOpened', { what: serviceTopic(done.service, done.topic) }));
}
/** An empty form again (`hide`: the panel closes too). */
function reset(hide) {
  el.form.reset();
  file = null;
  clearErrors();
  setBusy('');
  fillServices();
  if (!hide) return;
  $('new-thread').hidden = true;
  $('nt-open').setAttribute('aria-expanded', 'false');
}

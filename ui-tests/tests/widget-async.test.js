// The widget's asynchronous channels (issue 12): a non-urgent message (identified clients
// only, "we reply by …", no queue) answered by a nurse and read from "My conversations" on
// another browser; a contact form with its checks next to the fields, its reference and
// deadline, stored once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { uiTest, until, squash } from '../lib/harness.js';
import { Socket } from '../lib/socket.js';
import { Patient } from '../lib/widget.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

/** A deadline written as the widget writes it (en-GB, in the organisation's time zone). */
function written(due, timeZone) {
  return new Date(due).toLocaleString('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
}

/** The server's promise for a contact made now, written as the widget writes it. */
async function promised(h, service) {
  const res = await fetch(`${h.url}/api/v1/services/${service}/promise`);
  assert.equal(res.status, 200);
  const { due_at: due, time_zone: timeZone } = await res.json();
  return { due, when: written(due, timeZone), timeZone };
}

/** The panel's title (its h2). */
async function title(p) {
  return squash(await p.panel.locator('h2').first().textContent());
}

/** Chooses a service in the widget's start form. */
async function choose(p, service) {
  await p.open();
  await p.id('service').selectOption(service);
}

/** The demo identification from the message service's gate: "Identify" → name → identified. */
async function identifyAtGate(p, name) {
  await p.id('identify-needed').waitFor({ state: 'visible' });
  assert.equal(await p.id('start').isVisible(), false, 'no Send while anonymous: the start would be refused');
  await p.id('identify-first').click();
  const input = p.panel.locator('#lk-idname');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await input.press('Enter');
  await p.id('identify-needed').waitFor({ state: 'hidden' });
  await p.id('start').waitFor({ state: 'visible' });
  await until(() => p.panel.locator('.identity').textContent(), (s) => squash(s) === `Identified: ${name}`, 'identified');
}

uiTest('a non-urgent message: identify, send, "we reply by"; the reply read and answered from My conversations on another browser', async (h) => {
  const { when, timeZone } = await promised(h, 'nurse-message');
  const p = await h.patient('patient');
  await p.open();
  assert.equal(await title(p), 'Chat', 'the demo page preselects the health chat');
  await choose(p, 'nurse-message');
  await until(() => p.id('promise').textContent(), (s) => squash(s) === `We reply by ${when}.`, 'the promise before sending');
  assert.equal(await title(p), 'Message', 'the title names the channel');
  await assertAxe(p.page, 'message service, anonymous');
  await identifyAtGate(p, 'Maija Meikäläinen');
  assert.equal(await p.id('my-conversations').isVisible(), true, 'an identified patient has My conversations');

  // The matter itself is written in the start form and becomes the first message.
  await p.id('start').click();
  assert.equal(squash(await p.panel.locator('#lk-matter-err').textContent()), 'Please write your message.');
  await p.id('topic').selectOption('medication');
  const matter = 'M1 Please renew my blood pressure medicine';
  await p.id('matter').fill(matter);
  await p.id('start').click();
  const conv = await p.conversation();
  await p.waitForOwnMessage(matter);
  await until(() => p.id('async-title').textContent(), (s) => squash(s) === 'Your message was sent.', 'sent');
  assert.equal(squash(await p.id('reply-by').textContent()), `We reply by ${when}.`);
  assert.equal(await p.id('queue-status').isVisible(), false, 'no queue place for a non-urgent message');
  assert.equal(await p.id('end-chat').isVisible(), false);
  assert.equal(await title(p), 'Message');

  // Back after a reload: the same matter, its deadline, still no queue.
  await p.page.reload();
  await p.open();
  await p.waitForOwnMessage(matter);
  await until(() => p.id('reply-by').textContent(), (s) => squash(s) === `We reply by ${when}.`, 'the deadline after a reload');
  assert.equal(await p.id('queue-status').isVisible(), false);

  // A nurse takes it from the inbox and answers.
  const nurse = await Socket.professional(h, 'nurse-1');
  await nurse.request({ type: 'take', conversation: conv });
  const answer = 'N1 Your prescription is renewed';
  await nurse.request({ type: 'send', conversation: conv, client_msg_id: randomUUID(), body: answer });
  await p.waitForProfessionalMessage(answer);

  // Another browser (new context: nothing stored), identified again as the same person. In
  // this browser the promise endpoint answers with another date, so a deadline it shows can
  // only be the one the server keeps.
  const p2 = await h.patient('patient-elsewhere');
  await p2.page.route(/\/api\/v1\/services\/[^/]+\/promise/, (route) => route.fulfill({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ service: 'nurse-message', working_days: 3, due_at: '2031-01-15T16:00:00+02:00', time_zone: timeZone }),
  }));
  await choose(p2, 'nurse-message');
  await identifyAtGate(p2, 'Maija Meikäläinen');
  await p2.id('my-conversations').click();
  const item = p2.page.locator(`[data-testid="conversation-item"][data-conversation="${conv}"]`);
  await item.waitFor({ state: 'visible' });
  assert.equal(await p2.id('conversation-item').count(), 1);
  assert.equal(squash(await item.getByTestId('conv-service').textContent()), 'Non-urgent message to the health station');
  assert.equal(squash(await item.getByTestId('conv-status').textContent()), 'In progress');
  assert.equal(squash(await item.getByTestId('conv-unread').textContent()), '1 unread');
  await assertAxe(p2.page, 'My conversations');
  await item.click();
  await p2.waitForProfessionalMessage(answer);
  await p2.waitForOwnMessage(matter);
  const reply = 'P2 Thank you, I will pick it up';
  await p2.send(reply);
  await nurse.waitFor((f) => f.type === 'message' && f.conversation === conv && f.body === reply, 'the patient\'s reply');
  // The reply restarts the deadline on the server: the widget shows the one the server stored
  // (the same as in the team's inbox).
  const inbox = await nurse.request({ type: 'subscribe_inbox', teams: ['station-a'] });
  const entry = inbox.entries.find((e) => e.conversation === conv);
  assert.ok(entry && entry.due_at, `a restarted deadline in the inbox: ${JSON.stringify(entry)}`);
  const restarted = written(entry.due_at, timeZone);
  await until(() => p2.id('reply-by').textContent(), (s) => squash(s) === `We reply by ${restarted}.`, 'the restarted deadline, as the server has it');
  assert.equal(squash(await p2.id('async-title').textContent()), 'Your message was sent.');
  assert.equal(await title(p2), 'Message');

  // The nurse answers again: the deadline is met, and the widget says so.
  await nurse.request({ type: 'send', conversation: conv, client_msg_id: randomUUID(), body: 'N2 See you then' });
  await until(() => p2.id('async-title').textContent(), (s) => squash(s) === 'A professional has replied. You can answer below.', 'answered');
  assert.equal(await p2.id('reply-by').isVisible(), false, 'no deadline while nothing is owed');
});

/** Fails on serious or critical axe violations, naming where. */
async function assertAxe(page, where) {
  const bad = seriousOrCritical(await axeViolations(page));
  if (bad.length) console.error(formatViolations(where, bad));
  assert.deepEqual(bad.map((v) => `${where}: ${v.id}`), [], 'serious or critical axe violations (details above)');
}

uiTest('a contact form: problems next to their fields (the widget\'s checks and the server\'s), then the reference and the deadline; stored once', async (h) => {
  const { when } = await promised(h, 'contact-form');
  // The patient's socket passes through the test, which can spoil one submission on the way
  // so that the server refuses what the widget let through.
  const page = await h.newPage('patient');
  let spoil = false;
  const sent = [];
  await page.routeWebSocket(/\/ws\/client$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const f = JSON.parse(String(m));
      if (f.type === 'submit_form') {
        sent.push(f);
        if (spoil) { f.fields.name = 'x'.repeat(101); spoil = false; }
      }
      server.send(JSON.stringify(f));
    });
  });
  await page.goto(h.url + '/');
  const p = new Patient(page, 'patient');
  await choose(p, 'contact-form');
  await until(() => p.id('promise').textContent(), (s) => squash(s) === `We reply by ${when}.`, 'the promise before sending');
  assert.equal(await p.id('start').count(), 0, 'a form has no chat to start');
  assert.equal(await title(p), 'Contact form', 'the title names the channel');

  // Name (required) left empty, a bad e-mail address.
  await p.id('f-message').fill('F1 I need help with housing');
  await p.id('f-contact_time').selectOption('morning');
  await p.id('contact-email').fill('maija@example');
  await p.id('submit-form').click();
  await p.id('f-name-error').waitFor({ state: 'visible' });
  assert.equal(squash(await p.id('f-name-error').textContent()), 'Please fill in this field.');
  assert.equal(await p.id('f-name').getAttribute('aria-invalid'), 'true');
  assert.match(squash(await p.id('contact-email-error').textContent()), /valid e-mail address/);
  assert.equal(await p.id('f-message-error').isVisible(), false);
  const focused = await p.page.evaluate(() => document.querySelector('#luukku-widget-host').shadowRoot.activeElement.getAttribute('data-testid'));
  assert.equal(focused, 'f-name', 'the focus goes to the first problem');

  await assertAxe(page, 'contact form with errors');

  // Corrected, but spoilt on the way: the server's `fields` are shown next to the field.
  await p.id('f-name').fill('Maija Meikäläinen');
  await p.id('contact-email').fill('maija@example.fi');
  await p.id('f-callback').check();
  spoil = true;
  await p.id('submit-form').click();
  await until(() => p.id('f-name-error').textContent(), (s) => squash(s) === 'Please shorten this to at most 100 characters.', 'the server\'s problem next to the name');
  assert.equal(await p.id('contact-email-error').isVisible(), false);

  // Sent again as it is: the reference and the deadline.
  await p.id('submit-form').click();
  await p.id('form-received').waitFor({ state: 'visible' });
  const text = squash(await p.id('form-reference').textContent());
  const m = /^Your reference (F-[0-9A-F]{8}); we reply by (.+)\.$/.exec(text);
  assert.ok(m, `reference and deadline: ${text}`);
  assert.equal(m[2], when);
  assert.equal(await title(p), 'Contact form');

  // Stored once, in the social team's inbox.
  const social = await Socket.professional(h, 'social-1');
  const inbox = await social.request({ type: 'subscribe_inbox' });
  const forms = (inbox.entries || []).filter((e) => e.service === 'contact-form');
  assert.equal(forms.length, 1, JSON.stringify(inbox));
  assert.equal(m[1], 'F-' + forms[0].conversation.slice(0, 8).toUpperCase());
  assert.equal(sent.length, 2, 'one refused and one stored submission');
  assert.notEqual(sent[0].client_ref, sent[1].client_ref, 'a refused form is a new attempt');
  assert.deepEqual(sent[1].fields, { name: 'Maija Meikäläinen', message: 'F1 I need help with housing', callback: true, contact_time: 'morning' });
  assert.deepEqual(sent[1].contact, { email: 'maija@example.fi' });
  await assertAxe(page, 'form received');
});

/** A host page in `lang` (served by Playwright on the server's origin), on a 360 px phone. */
async function patientIn(h, lang) {
  const page = await h.newPage(`patient-${lang}`, { viewport: { width: 360, height: 740 } });
  await page.context().grantPermissions(['local-network-access'], { origin: h.url });
  const name = `async-host-${lang}.html`;
  await page.route(`${h.url}/${name}`, (route) => route.fulfill({
    status: 200,
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title></head><body><h1>Host</h1><script src="/widget.js" data-service="health-chat"></script></body></html>`,
  }));
  await page.goto(`${h.url}/${name}`);
  return new Patient(page, `patient-${lang}`);
}

const LOCALES = { fi: 'fi-FI', sv: 'sv-FI' };
const WANT = {
  fi: { message: 'Viesti', form: 'Yhteydenottolomake', chat: 'Chat', replyBy: 'Vastaamme viimeistään', gate: /^Kiireettömän viestin voi lähettää vain tunnistautunut asiakas/, identify: 'Tunnistaudu', required: 'Täytä tämä kenttä.', contact: 'Anna sähköpostiosoite tai puhelinnumero, jotta voimme vastata.', send: 'Lähetä lomake', ref: 'Viitenumerosi', mine: 'Omat keskustelut', status: 'Odottaa', sent: 'Viestisi lähetettiin.' },
  sv: { message: 'Meddelande', form: 'Kontaktformulär', chat: 'Chatt', replyBy: 'Vi svarar senast', gate: /^Icke-brådskande meddelanden kan bara skickas av identifierade klienter/, identify: 'Identifiera dig', required: 'Fyll i det här fältet.', contact: 'Ange en e-postadress eller ett telefonnummer så att vi kan svara.', send: 'Skicka formuläret', ref: 'Ditt referensnummer', mine: 'Mina samtal', status: 'Väntar', sent: 'Ditt meddelande har skickats.' },
};

for (const lang of ['fi', 'sv']) {
  uiTest(`the asynchronous channels in ${lang} on a phone: the promise, the gate, the form's problems and reference, My conversations`, async (h) => {
    const res = await fetch(`${h.url}/api/v1/services/nurse-message/promise`);
    const { due_at: due, time_zone: timeZone } = await res.json();
    const when = new Date(due).toLocaleString(LOCALES[lang], { timeZone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
    const w = WANT[lang];
    const p = await patientIn(h, lang);
    await p.open();
    assert.equal(await title(p), w.chat);
    await p.id('service').selectOption('nurse-message');
    await until(() => p.id('promise').textContent(), (s) => squash(s) === `${w.replyBy} ${when}.`, 'the promise in the widget\'s language');
    assert.equal(await title(p), w.message, 'the title names the channel');
    assert.match(squash(await p.id('identify-needed').textContent()), w.gate);
    assert.equal(squash(await p.id('identify-first').textContent()), w.identify);

    await p.id('service').selectOption('contact-form');
    assert.equal(squash(await p.id('submit-form').textContent()), w.send);
    assert.equal(await title(p), w.form);
    await p.id('submit-form').click();
    assert.equal(squash(await p.id('f-name-error').textContent()), w.required);
    assert.equal(squash(await p.id('contact-error').textContent()), w.contact);
    await p.id('f-name').fill('Maija');
    await p.id('f-message').fill('Apua');
    await p.id('contact-phone').fill('040 123 4567');
    await p.id('submit-form').click();
    await until(() => p.id('form-reference').textContent(), (s) => squash(s).startsWith(w.ref + ' F-'), 'the reference');
    const box = await p.id('form-received').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 360, `fits the phone: ${JSON.stringify(box)}`);

    // Identified, a message sent, then the list.
    await p.id('form-again').click();
    await p.id('service').selectOption('nurse-message');
    await p.id('identify-first').click();
    await p.panel.locator('#lk-idname').fill('Matti');
    await p.panel.locator('#lk-idname').press('Enter');
    await p.id('matter').waitFor({ state: 'visible' });
    await p.id('topic').selectOption('other');
    await p.id('matter').fill('Kysymys');
    await p.id('start').click();
    await until(() => p.id('async-title').textContent(), (s) => squash(s) === w.sent, 'sent');
    assert.equal(await title(p), w.message);
    assert.equal(squash(await p.id('my-conversations').textContent()), w.mine);
    await p.id('my-conversations').click();
    const item = p.id('conversation-item').first();
    await item.waitFor({ state: 'visible' });
    assert.equal(squash(await item.getByTestId('conv-status').textContent()), w.status);
    assert.equal(squash(await item.getByTestId('conv-due').textContent()), `${w.replyBy} ${when}.`);
  });
}

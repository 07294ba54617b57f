// The widget's asynchronous channels (issue 12): a non-urgent message (identified clients
// only, "we reply by …", no queue) answered by a nurse and read from "My conversations" on
// another browser; a contact form with its checks next to the fields, its reference and
// deadline, stored once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { uiTest, until, squash } from '../lib/harness.js';
import { Socket } from '../lib/socket.js';

/** The server's promise for a contact made now, written as the widget writes it (en-GB). */
async function promised(h, service) {
  const res = await fetch(`${h.url}/api/v1/services/${service}/promise`);
  assert.equal(res.status, 200);
  const { due_at: due, time_zone: timeZone } = await res.json();
  const when = new Date(due).toLocaleString('en-GB', { timeZone, weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' });
  return { due, when };
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
  const { when } = await promised(h, 'nurse-message');
  const p = await h.patient('patient');
  await choose(p, 'nurse-message');
  await until(() => p.id('promise').textContent(), (s) => squash(s) === `We reply by ${when}.`, 'the promise before sending');
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

  // A nurse takes it from the inbox and answers.
  const nurse = await Socket.professional(h, 'nurse-1');
  await nurse.request({ type: 'take', conversation: conv });
  const answer = 'N1 Your prescription is renewed';
  await nurse.request({ type: 'send', conversation: conv, client_msg_id: randomUUID(), body: answer });
  await p.waitForProfessionalMessage(answer);

  // Another browser (new context: nothing stored), identified again as the same person.
  const p2 = await h.patient('patient-elsewhere');
  await choose(p2, 'nurse-message');
  await identifyAtGate(p2, 'Maija Meikäläinen');
  await p2.id('my-conversations').click();
  const item = p2.page.locator(`[data-testid="conversation-item"][data-conversation="${conv}"]`);
  await item.waitFor({ state: 'visible' });
  assert.equal(await p2.id('conversation-item').count(), 1);
  assert.equal(squash(await item.getByTestId('conv-service').textContent()), 'Non-urgent message to the health station');
  assert.equal(squash(await item.getByTestId('conv-status').textContent()), 'In progress');
  assert.equal(squash(await item.getByTestId('conv-unread').textContent()), '1 unread');
  await item.click();
  await p2.waitForProfessionalMessage(answer);
  await p2.waitForOwnMessage(matter);
  const reply = 'P2 Thank you, I will pick it up';
  await p2.send(reply);
  await nurse.waitFor((f) => f.type === 'message' && f.conversation === conv && f.body === reply, 'the patient\'s reply');
  // The reply restarts the deadline.
  await until(() => p2.id('reply-by').textContent(), (s) => /^We reply by \w+day \d+ \w+ at \d\d:\d\d\.$/.test(squash(s)), 'a new deadline');
});

uiTest('a contact form: problems next to their fields, then the reference and the deadline; stored once', async (h) => {
  const { when } = await promised(h, 'contact-form');
  const p = await h.patient('patient');
  await choose(p, 'contact-form');
  await until(() => p.id('promise').textContent(), (s) => squash(s) === `We reply by ${when}.`, 'the promise before sending');
  assert.equal(await p.id('start').count(), 0, 'a form has no chat to start');

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

  // Corrected: sent, the reference and the deadline.
  await p.id('f-name').fill('Maija Meikäläinen');
  await p.id('contact-email').fill('maija@example.fi');
  await p.id('f-callback').check();
  await p.id('submit-form').click();
  await p.id('form-received').waitFor({ state: 'visible' });
  const text = squash(await p.id('form-reference').textContent());
  const m = /^Your reference (F-[0-9A-F]{8}); we reply by (.+)\.$/.exec(text);
  assert.ok(m, `reference and deadline: ${text}`);
  assert.equal(m[2], when);

  // Stored once, in the social team's inbox.
  const social = await Socket.professional(h, 'social-1');
  const inbox = await social.request({ type: 'subscribe_inbox' });
  const forms = (inbox.entries || []).filter((e) => e.service === 'contact-form');
  assert.equal(forms.length, 1, JSON.stringify(inbox));
  assert.equal(m[1], 'F-' + forms[0].conversation.slice(0, 8).toUpperCase());
});

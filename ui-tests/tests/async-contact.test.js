// Reaching the client outside the conversation, and coming back to a matter: an anonymous
// visitor's contact form from the widget, taken by a social worker who sees the sender's e-mail
// and phone as links, replies, and reads the visitor's answer — the visitor having found the
// matter "On this device" in My conversations after a reload (a new browser knows nothing of
// it, and forgetting it here leaves nothing behind); an identified patient's non-urgent message
// with an address for the notice of the reply, refused by field (by the widget, then by the
// server) and sent once fixed, the address shown in the nurse's matter.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { Patient } from '../lib/widget.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

const DEVICE_KEY = 'luukku.widget.matters.v1';
const text = async (loc) => squash(await loc.textContent());

/** Fails on serious or critical axe violations, naming where. */
async function assertAxe(page, where) {
  const bad = seriousOrCritical(await axeViolations(page));
  assert.deepEqual(bad.map((v) => `${where}: ${v.id}`), [], formatViolations(where, bad));
}

/** What this browser keeps of its matters (localStorage), parsed. */
const kept = (p) => p.page.evaluate((key) => JSON.parse(localStorage.getItem(key) || 'null'), DEVICE_KEY);

/** The professional takes the matter from the inbox; resolves with its pane. */
async function take(pro, conv) {
  await pro.id('view-inbox').click();
  const row = pro.page.locator(`[data-testid="inbox-entry"][data-conversation="${conv}"]`);
  await row.getByTestId('inbox-take').click();
  await pro.waitForChat(conv);
  await pro.pane(conv).waitFor({ state: 'visible' });
  return pro.pane(conv);
}

/** The data-testid of the focused element inside the widget. */
const focused = (p) => p.page.evaluate(() => document.querySelector('#luukku-widget-host').shadowRoot.activeElement.getAttribute('data-testid'));

uiTest('an anonymous contact form: the social worker calls or writes back from the links and replies; the sender finds it on this device after a reload, reads the reply and answers; another browser does not see it', async (h) => {
  const p = await h.patient('visitor');
  await p.open();
  assert.equal(await p.id('my-conversations').isVisible(), false, 'nothing to list for an anonymous visitor yet');
  await p.id('service').selectOption('contact-form');
  const wrote = 'C1 I need help with housing after my divorce';
  await p.id('f-name').fill('Maija');
  await p.id('f-message').fill(wrote);
  await p.id('contact-email').fill('maija@example.fi');
  await p.id('contact-phone').fill('040 123 4567');
  await p.id('submit-form').click();
  await p.id('form-received').waitFor({ state: 'visible' });
  const reference = /(F-[0-9A-F]{8})/.exec(await text(p.id('form-reference')))[1];
  assert.match(await text(p.id('form-on-device')), /in this browser: open "My conversations"/);

  // This browser keeps the way back, and nothing of what was written.
  const keep = await kept(p);
  assert.equal(keep.length, 1);
  assert.deepEqual(Object.keys(keep[0]).sort(), ['conversation', 'reference', 'resume_token', 'sent_at', 'service']);
  assert.equal(keep[0].reference, reference);
  assert.equal(keep[0].service, 'contact-form');
  const raw = await p.page.evaluate((key) => localStorage.getItem(key), DEVICE_KEY);
  for (const secret of ['housing', 'maija@example.fi', '123 4567', 'Maija']) assert.ok(!raw.includes(secret), `"${secret}" is not kept in localStorage`);
  const conv = keep[0].conversation;
  assert.equal(reference, `F-${conv.slice(0, 8).toUpperCase()}`);

  // The social worker takes it: the sender's e-mail and phone as links, and why to use them.
  const worker = await h.professional('social-1');
  const pane = await take(worker, conv);
  const contact = pane.getByTestId('client-contact');
  await contact.waitFor({ state: 'visible' });
  assert.match(squash(await contact.innerText()), /^Contact details E-mail: maija@example\.fi Phone: \+358401234567/);
  assert.equal(await pane.getByTestId('client-email').getAttribute('href'), 'mailto:maija@example.fi');
  assert.equal(await pane.getByTestId('client-phone').getAttribute('href'), 'tel:+358401234567');
  assert.equal(await pane.getByTestId('identity').textContent(), 'anonymous');
  assert.match(await text(pane.getByTestId('client-contact-hint')), /only by a notification without its content.*call or e-mail/);
  await assertAxe(worker.page, 'console, a taken contact form with the contact details');
  const reply = 'S1 We can meet on Monday at 10 at the social office.';
  await worker.send(conv, reply);

  // The visitor comes back in the same browser: the matter is there, on this device.
  await p.page.reload();
  await p.open();
  await p.id('my-conversations').click();
  const item = p.page.locator(`[data-testid="device-item"][data-conversation="${conv}"]`);
  await item.waitFor({ state: 'visible' });
  assert.equal(await text(p.id('device-matters').locator('h4')), 'On this device');
  assert.match(squash(await item.innerText()), new RegExp(`^Contact form ${reference} · Sent \\d`));
  // What the server says of it (held resume token): in progress, the worker's reply unread.
  await until(() => item.getAttribute('data-unread'), (u) => u === '1', 'the reply counted unread');
  assert.equal(await item.getByTestId('conv-status').getAttribute('data-status'), 'in_progress');
  assert.equal(await p.id('conversation-list').isVisible(), false, 'no list on the server for an anonymous visitor');
  await assertAxe(p.page, 'widget, My conversations on this device');
  await item.click();
  await p.waitForProfessionalMessage(reply);
  await p.messages.filter({ hasText: wrote }).and(p.page.locator('[data-role="client"]')).first().waitFor();
  const answer = 'C2 Monday at 10 suits me, thank you.';
  await p.send(answer);
  await worker.waitForMessage(conv, answer, 'client');

  // Another browser knows nothing of it.
  const other = await h.patient('other-browser');
  await other.open();
  assert.equal(await other.id('my-conversations').isVisible(), false);
  assert.equal(await kept(other), null);

  // Forgetting it here: asked first, then gone from this browser, the open conversation too.
  await p.id('my-conversations').click();
  await p.page.locator(`[data-testid="device-forget"][data-conversation="${conv}"]`).click();
  assert.match(await text(p.id('device-forget-ask')), new RegExp(`^Forget ${reference} on this device\\?`));
  assert.equal(await focused(p), 'device-forget-ask');
  await p.id('device-forget-cancel').click();
  assert.equal(await focused(p), 'device-forget', 'Keep it goes back to the Forget button');
  assert.equal((await kept(p)).length, 1);
  await p.page.locator(`[data-testid="device-forget"][data-conversation="${conv}"]`).click();
  await p.id('device-forget-confirm').click();
  await item.waitFor({ state: 'detached' });
  assert.equal(await kept(p), null);
  assert.match(await text(p.panel), new RegExp(`${reference} was forgotten on this device`));
  await p.page.reload();
  await p.open();
  assert.equal(await p.id('my-conversations').isVisible(), false, 'nothing left to list');
  assert.equal(await p.id('messages').isVisible(), false, 'the forgotten conversation is not resumed');
});

uiTest('a non-urgent message with an address for the notice: a bad e-mail and a phone number the server refuses shown by their fields, fixed and sent; the nurse sees the e-mail', async (h) => {
  const page = await h.newPage('patient');
  const starts = [];
  await page.routeWebSocket(/\/ws\/client$/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const f = JSON.parse(String(m));
      if (f.type === 'start') starts.push(f);
      server.send(String(m));
    });
  });
  await page.goto(h.url + '/');
  const p = new Patient(page, 'patient');
  await p.open();
  await p.id('service').selectOption('nurse-message');
  await p.id('identify-first').click();
  await p.panel.locator('#lk-idname').fill('Maija Meikäläinen');
  await p.panel.locator('#lk-idname').press('Enter');
  await p.id('start').waitFor({ state: 'visible' });
  assert.match(await text(p.id('notify')), /never contains the reply itself/, 'the notice carries no content, and says so');
  assert.equal(await text(p.id('notify').locator('label').first()), 'Tell me by e-mail when you reply');
  assert.equal(await p.id('notify-email').getAttribute('type'), 'email');
  assert.equal(await p.id('notify-phone').getAttribute('type'), 'tel');

  const matter = 'M1 My blood pressure prescription runs out next week';
  await p.id('topic').selectOption('medication');
  await p.id('matter').fill(matter);

  // The widget's own check: nothing is sent.
  await p.id('notify-email').fill('maija@example');
  await p.id('start').click();
  await p.id('notify-email-error').waitFor({ state: 'visible' });
  assert.match(await text(p.id('notify-email-error')), /valid e-mail address/);
  assert.equal(await p.id('notify-email').getAttribute('aria-invalid'), 'true');
  assert.match(await p.id('notify-email').getAttribute('aria-describedby'), /lk-notify-email-err/);
  assert.equal(await focused(p), 'notify-email');
  assert.equal(starts.length, 0);
  await assertAxe(page, 'message start form with a bad e-mail');

  // The server's check (a phone number that does not exist): the start form as it was typed.
  await p.id('notify-email').fill('maija@example.fi');
  await p.id('notify-phone').fill('12345');
  await p.id('start').click();
  await until(() => p.id('notify-phone-error').textContent(), (s) => /valid phone number/.test(s), 'the server\'s reason next to the phone');
  assert.equal(await p.id('notify-phone').getAttribute('aria-invalid'), 'true');
  assert.equal(await p.id('notify-email').getAttribute('aria-invalid'), null);
  assert.equal(await p.id('notify-email-error').isVisible(), false);
  assert.equal(await focused(p), 'notify-phone');
  assert.equal(await p.id('matter').inputValue(), matter, 'what was typed is kept');
  assert.equal(await p.id('topic').inputValue(), 'medication');
  assert.equal(await p.id('notify-email').inputValue(), 'maija@example.fi');
  assert.equal(starts.length, 1);
  assert.deepEqual(starts[0].contact, { email: 'maija@example.fi', phone: '12345' });

  // Fixed (the phone left out): sent.
  await p.id('notify-phone').fill('');
  await p.id('start').click();
  const conv = await p.conversation();
  await p.waitForOwnMessage(matter);
  await until(() => p.id('async-title').textContent(), (s) => squash(s) === 'Your message was sent.', 'sent');
  assert.equal(starts.length, 2);
  assert.deepEqual(starts[1].contact, { email: 'maija@example.fi' });
  assert.notEqual(starts[0].client_ref, starts[1].client_ref, 'a refused start is a new attempt');

  // The nurse's matter shows where the patient is told of the reply; identified, so no hint.
  const nurse = await h.professional('nurse-1');
  const pane = await take(nurse, conv);
  await pane.getByTestId('client-contact').waitFor({ state: 'visible' });
  assert.equal(await pane.getByTestId('client-email').getAttribute('href'), 'mailto:maija@example.fi');
  assert.equal(squash(await pane.getByTestId('client-contact').innerText()), 'Contact details E-mail: maija@example.fi');
  assert.equal(await pane.getByTestId('client-phone').count(), 0);
  assert.equal(await pane.getByTestId('client-contact-hint').count(), 0, 'an identified client reads replies in the service');
  assert.equal(await text(pane.getByTestId('client-name')), 'Maija Meikäläinen');
});

// New thread (docs/ui.md "New thread"): a nurse opens a thread with a registered client from
// the inbox. The client registers by identifying in the widget (the demo identification) and
// sending one non-urgent message. A thread with a PDF and "close after sending" is sent once
// (a double click included) and answered with its reference, which the archive and the
// client's "My conversations" show too; the client, on another browser identified the same
// way, reads it, saves the very PDF and cannot reply. A second thread, left open, opens as the
// nurse's chat and the client's reply reaches it. An unknown client is refused at the client
// field with the server's words, what was typed is kept and nothing is created; empty fields
// are caught before sending; the form passes axe, speaks Finnish, and a social worker (whose
// teams have no message service) is told why there is nothing to choose.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { uiTest, until, squash } from '../lib/harness.js';
import { Professional } from '../lib/console.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';
import { minimalPdf } from '../lib/documents.js';

/**
 * The demo identification's subject for a name: server/assets/ui/widget/identify.js derives it
 * (FNV-1a over the lower-cased name, two 32-bit halves); a real provider gives its own.
 */
function demoSubject(name) {
  const s = name.trim().toLowerCase().normalize('NFC');
  let a = 0x811c9dc5, b = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ (a >>> 7), 0x01000193) >>> 0;
  }
  return `demo-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

const NAME = 'Maija Meikäläinen';
const text = async (loc) => squash(await loc.textContent());

async function assertAxe(page, where) {
  const bad = seriousOrCritical(await axeViolations(page));
  assert.deepEqual(bad.map((v) => `${where}: ${v.id}`), [], formatViolations(where, bad));
}

/** The widget's demo identification from the non-urgent message service's gate. */
async function identify(p, name) {
  await p.open();
  await p.id('service').selectOption('nurse-message');
  await p.id('identify-first').click();
  const input = p.panel.locator('#lk-idname');
  await input.fill(name);
  await input.press('Enter');
  await p.id('matter').waitFor({ state: 'visible' });
}

/** A client registers: identified in the widget, one non-urgent message; then the browser goes. */
async function register(h, name) {
  const p = await h.patient('patient-first');
  await identify(p, name);
  await p.id('topic').selectOption('medication');
  await p.id('matter').fill('Please renew my prescription');
  await p.id('start').click();
  await p.waitForOwnMessage('Please renew my prescription');
  await p.page.context().close();
}

/** nurse-1 in the console, counting the `start_thread` frames the page sends. */
async function nurseCounting(h) {
  const page = await h.newPage('nurse-1');
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => {
    try { const f = JSON.parse(payload); if (f.type === 'start_thread') sent.push(f); } catch { /* binary */ }
  }));
  const nurse = new Professional(page, 'nurse-1');
  await nurse.login(h.url);
  return { nurse, sent };
}

/** The inbox (Alt+I) and the New thread form opened from it. */
async function openForm(nurse) {
  if (!(await nurse.id('inbox').isVisible())) await nurse.page.keyboard.press('Alt+I');
  await nurse.id('inbox').waitFor({ state: 'visible' });
  await nurse.id('new-thread').click();
  const form = nurse.id('new-thread-form');
  await form.waitFor({ state: 'visible' });
  assert.equal(await nurse.id('new-thread').getAttribute('aria-expanded'), 'true');
  return form;
}

/** The client's "My conversations" in the widget, and the item of `conversation`. */
async function myItem(p, conversation) {
  await p.id('my-conversations').click();
  const item = p.page.locator(`[data-testid="conversation-item"][data-conversation="${conversation}"]`);
  await item.waitFor({ state: 'visible' });
  return item;
}

uiTest('New thread: a PDF delivered and closed, read and saved by the client elsewhere; an open thread the client answers', async (h) => {
  await register(h, NAME);
  const { nurse, sent } = await nurseCounting(h);
  const page = nurse.page;
  const form = await openForm(nurse);

  // The form: labelled fields; the message services of my teams (the one there is, chosen), then
  // their SMS services (the demo has SMS chat on).
  const services = (await (await fetch(`${h.url}/api/v1/services?lang=en`)).json()).services;
  const ofMine = (channel) => services.filter((s) => s.channel === channel && s.teams.includes('station-a'));
  const mine = [...ofMine('message'), ...ofMine('sms')];
  assert.deepEqual(await form.getByTestId('thread-service').locator('option').evaluateAll((os) => os.map((o) => o.value)), mine.map((s) => s.id));
  assert.equal(await form.getByTestId('thread-service').inputValue(), 'nurse-message');
  assert.equal(await form.getByLabel('Client’s identifier').count(), 1);
  assert.equal(await form.getByLabel('Message', { exact: true }).count(), 1);
  assert.equal(await form.getByLabel('Topic (optional)').count(), 1);
  assert.equal(await form.getByLabel('Close after sending (a document or a decision, no reply expected)').count(), 1);
  assert.deepEqual(await form.getByTestId('thread-topic').locator('option').evaluateAll((os) => os.map((o) => o.value)), ['', 'medication', 'lab-results', 'other']);
  await assertAxe(page, 'the New thread form');

  // A thread with a document, closed after sending; a double click sends it once.
  const pdf = minimalPdf('Lab results');
  const client = demoSubject(NAME);
  await form.getByTestId('thread-client').fill(client);
  await form.getByTestId('thread-topic').selectOption('lab-results');
  const decision = 'Your lab results are attached. Everything is normal.';
  await form.getByTestId('thread-body').fill(decision);
  const attachBtn = form.getByRole('button', { name: 'Attach document' });
  assert.equal(await form.getByTestId('attach-input').getAttribute('accept'), mine[0].attachments.types.join(','));
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), attachBtn.click()]);
  await chooser.setFiles({ name: 'lab-results.pdf', mimeType: 'application/pdf', buffer: pdf });
  assert.match(await text(form.getByTestId('attachment')), /^lab-results\.pdf · PDF · \d+(\.\d)? (bytes|kB)$/);
  await form.getByTestId('thread-close-after').check();
  await form.getByTestId('thread-send').dblclick();
  const done = nurse.id('thread-done');
  await done.waitFor({ state: 'visible' });
  const ref = await text(done.getByTestId('thread-reference'));
  assert.match(ref, /^M-[0-9A-F]{8}$/);
  assert.match(await text(done), /Sent and closed/);
  assert.equal(sent.length, 1, `one start_thread for a double click: ${JSON.stringify(sent)}`);
  assert.equal(sent[0].close_after, undefined, 'with a document the thread is closed after the upload, not with start_thread');
  assert.equal(await nurse.tabs.count(), 0, 'a closed thread opens no chat');
  assert.equal(await nurse.id('inbox').isVisible(), true, 'the nurse stays in the inbox');

  // The archive finds it by the reference shown.
  await nurse.id('archive-query').fill(ref);
  await nurse.id('archive-search').click();
  const archived = nurse.id('archive-entry');
  await until(() => archived.count(), (n) => n === 1, 'the closed thread in the archive');
  assert.equal(await text(archived.getByTestId('archive-reference')), ref);
  const closedConv = await archived.getAttribute('data-conversation');

  // The client on another browser: identified the same way, finds it, reads it, saves the PDF, cannot reply.
  const p = await h.patient('patient-elsewhere');
  await identify(p, NAME);
  const item = await myItem(p, closedConv);
  assert.equal(await p.id('conversation-item').count(), 2, 'the first message and the thread, nothing twice');
  assert.equal(await text(item.getByTestId('conv-status')), 'Closed');
  assert.match(await text(item), new RegExp(ref));
  await item.click();
  await p.waitForProfessionalMessage(decision);
  const pdfCard = p.id('messages').getByTestId('attachment').filter({ hasText: 'lab-results.pdf' });
  await pdfCard.getByTestId('attachment-download').waitFor({ state: 'visible' });
  const [dl] = await Promise.all([p.page.waitForEvent('download'), pdfCard.getByTestId('attachment-download').click()]);
  assert.equal(dl.suggestedFilename(), 'lab-results.pdf');
  assert.ok((await readFile(await dl.path())).equals(pdf), 'the client saved the very PDF the nurse attached');
  await p.id('closed').waitFor({ state: 'visible' });
  assert.equal(await p.id('composer').isEditable(), false, 'no reply to a closed thread');

  // A second thread, left open: it opens as the nurse's chat, and the client's reply reaches it.
  await nurse.id('thread-again').click();
  await form.getByTestId('thread-client').fill(client);
  const question = 'How are you feeling after the new medicine?';
  await form.getByTestId('thread-body').fill(question);
  await form.getByTestId('thread-send').click();
  await nurse.tabs.first().waitFor({ state: 'visible' });
  const openConv = await nurse.tabs.first().getAttribute('data-conversation');
  await nurse.pane(openConv).waitFor({ state: 'visible' });
  assert.equal(await nurse.id('inbox').isVisible(), false, 'an open thread shows in the chats');
  assert.equal(await nurse.tab(openConv).getAttribute('aria-selected'), 'true');
  await nurse.waitForMessage(openConv, question, 'professional');
  assert.equal(await text(nurse.pane(openConv).getByTestId('client-name')), NAME);
  assert.equal(sent.length, 2);

  await p.id('my-conversations').click();
  const openItem = p.page.locator(`[data-testid="conversation-item"][data-conversation="${openConv}"]`);
  await openItem.waitFor({ state: 'visible' });
  assert.equal(await text(openItem.getByTestId('conv-status')), 'In progress');
  await openItem.click();
  await p.waitForProfessionalMessage(question);
  const reply = 'Much better, thank you.';
  await p.send(reply);
  await nurse.waitForMessage(openConv, reply, 'client');
});

uiTest('New thread refused: empty fields caught before sending; an unknown client at its field, typed text kept, nothing created; Finnish; no service for a social worker', async (h) => {
  const { nurse, sent } = await nurseCounting(h);
  const form = await openForm(nurse);
  await nurse.id('inbox-team-station-a').waitFor({ state: 'visible' });

  // Nothing typed: each missing field says so, the focus on the first; nothing sent.
  await form.getByTestId('thread-send').click();
  assert.equal(await text(form.getByTestId('thread-client-error')), 'Write the client’s identifier.');
  assert.equal(await text(form.getByTestId('thread-body-error')), 'Write the message.');
  assert.equal(await form.getByTestId('thread-client').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByTestId('thread-client').evaluate((el) => el === document.activeElement), true);
  assert.equal(sent.length, 0);

  // An unknown client: the server's refusal at the client field; what was typed stays.
  await form.getByTestId('thread-client').fill('demo-0000000000000000');
  await form.getByTestId('thread-body').fill('A decision about your application');
  await form.getByTestId('thread-send').click();
  const clientError = form.getByTestId('thread-client-error');
  await until(() => text(clientError), (s) => s.includes('no such client'), 'the server\'s words at the client field');
  assert.match(await text(clientError), /^No registered client with this identifier/);
  assert.equal(await text(form.getByTestId('thread-body-error')), '', 'the message itself was fine');
  assert.equal(await form.getByTestId('thread-client').getAttribute('aria-invalid'), 'true');
  assert.match(await form.getByTestId('thread-client').getAttribute('aria-describedby'), /nt-client-error/);
  assert.equal(await form.getByTestId('thread-client').evaluate((el) => el === document.activeElement), true, 'the focus on the field');
  assert.equal(await form.getByTestId('thread-client').inputValue(), 'demo-0000000000000000');
  assert.equal(await form.getByTestId('thread-body').inputValue(), 'A decision about your application');
  assert.equal(sent.length, 1);
  assert.equal(await nurse.id('error').count(), 0, 'said at the field, not in the sidebar');
  await assertAxe(nurse.page, 'the New thread form with an error');
  assert.equal(await nurse.id('inbox-entry').count(), 0, 'no thread was created');
  assert.equal(await nurse.tabs.count(), 0);

  // Finnish, as the console's language.
  const fi = await h.newPage('nurse-2-fi', { locale: 'fi-FI' });
  const nurse2 = new Professional(fi, 'nurse-2');
  await nurse2.login(h.url);
  await fi.keyboard.press('Alt+I');
  assert.equal(await text(nurse2.id('new-thread')), 'Uusi viestiketju');
  await nurse2.id('new-thread').click();
  assert.equal(await nurse2.id('new-thread-form').getByLabel('Asiakkaan tunniste').count(), 1);
  assert.equal(await nurse2.id('new-thread-form').getByLabel('Sulje lähettämisen jälkeen (asiakirja tai päätös, vastausta ei odoteta)').count(), 1);

  // A social worker: their teams have no message service, and the form says so.
  const social = await h.professional('social-1');
  await social.page.keyboard.press('Alt+I');
  await social.id('new-thread').click();
  await social.id('thread-no-service').waitFor({ state: 'visible' });
  assert.equal(await social.id('thread-send').getAttribute('aria-disabled'), 'true');
});

uiTest('New thread with a document the server refuses: the thread is not sent again, only the document and the closing', async (h) => {
  await register(h, NAME);
  const { nurse, sent } = await nurseCounting(h);
  const page = nurse.page;
  const form = await openForm(nurse);
  await form.getByTestId('thread-client').fill(demoSubject(NAME));
  await form.getByTestId('thread-body').fill('The decision on your application');
  const attachBtn = form.getByRole('button', { name: 'Attach document' });
  let [chooser] = await Promise.all([page.waitForEvent('filechooser'), attachBtn.click()]);
  await chooser.setFiles({ name: 'decision.pdf', mimeType: 'application/pdf', buffer: Buffer.from('Not a PDF at all.\n') });
  await form.getByTestId('thread-close-after').check();
  const refused = page.waitForResponse((r) => /\/attachments\?/.test(r.url()));
  await form.getByTestId('thread-send').click();
  const answer = await refused;
  assert.equal(answer.status(), 415);
  const why = (await answer.json()).error.message;
  await until(() => text(form.getByTestId('attach-status')), (s) => s.startsWith(`decision.pdf was not sent. ${why}`), 'the server\'s words by the document');
  assert.match(await text(form.getByTestId('attach-status')), /the thread is open; the document was not sent/);
  assert.equal(await text(form.getByTestId('thread-send')), 'Try again');
  assert.equal(await form.getByTestId('thread-client').isDisabled(), true, 'what was sent is locked');
  assert.equal(await nurse.tabs.count(), 0);

  // The real document: only it and the closing go; the thread is not opened twice.
  await form.getByTestId('thread-attach-remove').click();
  [chooser] = await Promise.all([page.waitForEvent('filechooser'), attachBtn.click()]);
  await chooser.setFiles({ name: 'decision.pdf', mimeType: 'application/pdf', buffer: minimalPdf('Decision') });
  await form.getByTestId('thread-send').click();
  await nurse.id('thread-done').waitFor({ state: 'visible' });
  const ref = await text(nurse.id('thread-reference'));
  assert.equal(sent.length, 1, 'one start_thread in all');
  await nurse.id('archive-query').fill(ref);
  await nurse.id('archive-search').click();
  await until(() => nurse.id('archive-entry').count(), (n) => n === 1, 'the thread closed, in the archive');
  assert.equal(await nurse.tabs.count(), 0);
});

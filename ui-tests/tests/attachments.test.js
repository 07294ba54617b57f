// Documents (attachments) between a patient in the widget and a nurse in the console, against
// the real server and Chromium: a real PDF from the patient, downloaded by the nurse byte for
// byte; a real PNG back, downloaded by the patient; both drawn once as file cards (also after a
// reload); a text file dressed as a PDF refused with the server's words, a file over the
// service's limit refused before anything is sent; the download answered `no-store` and as an
// attachment; a patient's document in a non-urgent matter read from the inbox's thread and the
// taken matter, and the nurse's answer with a document there; no Attach document where the
// service takes none.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { uiTest, until, squash } from '../lib/harness.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';
import { PNG, minimalPdf } from '../lib/documents.js';

/** The service's document settings from /api/v1/services. */
async function documentsOf(h, service) {
  const res = await fetch(`${h.url}/api/v1/services?lang=en`);
  const svc = (await res.json()).services.find((s) => s.id === service);
  assert.ok(svc && svc.attachments, `${service} takes documents: ${JSON.stringify(svc)}`);
  return svc.attachments;
}

/** Chooses `file` with the file picker that `button` opens. */
async function attach(page, button, file) {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button.click()]);
  await chooser.setFiles(file);
}

/** Clicks a card's Download and returns what the browser saved. */
async function download(page, card) {
  const [dl] = await Promise.all([page.waitForEvent('download'), card.getByTestId('attachment-download').click()]);
  return { name: dl.suggestedFilename(), bytes: await readFile(await dl.path()) };
}

/** The download's answer as the page's fetch sees it, with the given auth headers. */
function fetchedHeaders(page, id, headers) {
  return page.evaluate(async ({ id, headers }) => {
    const res = await fetch(`/api/v1/attachments/${encodeURIComponent(id)}`, { headers });
    return { status: res.status, cacheControl: res.headers.get('cache-control'), disposition: res.headers.get('content-disposition') };
  }, { id, headers });
}

/** Fails on serious or critical axe violations, naming where. */
async function assertAxe(page, where) {
  const bad = seriousOrCritical(await axeViolations(page));
  assert.deepEqual(bad.map((v) => `${where}: ${v.id}`), [], formatViolations(where, bad));
}

/** The file cards in `scope` of the document called `name`. */
const cardsNamed = (scope, name) => scope.getByTestId('attachment').filter({ hasText: name });

/** A card's "name · type · size" as the patient or nurse reads it. */
async function cardText(card) {
  return squash(`${await card.getByTestId('attachment-name').textContent()}${await card.getByTestId('attachment-meta').textContent()}`);
}

uiTest('documents in a live chat: a PDF from the patient and a PNG from the nurse, each downloaded byte for byte; a fake PDF refused by the server, a too large one before sending', async (h) => {
  const limits = await documentsOf(h, 'health-chat');
  const nurse = await h.professional('nurse-1');
  const { patient, conversation: conv } = await h.patientInChat(nurse, 'patient');
  const pp = patient.page;

  // The patient attaches a PDF with the text written so far as its caption.
  const pdf = minimalPdf('Lab results');
  const attachBtn = patient.panel.getByRole('button', { name: 'Attach document' });
  await attachBtn.waitFor({ state: 'visible' });
  assert.equal(await patient.id('attach-input').getAttribute('accept'), limits.types.join(','));
  await patient.id('composer').fill('My lab results');
  await attach(pp, attachBtn, { name: 'lab-results.pdf', mimeType: 'application/pdf', buffer: pdf });
  const ownRow = patient.messages.and(pp.locator('[data-role="client"]')).filter({ has: pp.getByTestId('attachment') });
  await until(() => ownRow.first().getAttribute('data-state'), (s) => s === 'sent' || s === 'read', 'the document acknowledged');
  assert.equal(await patient.id('composer').inputValue(), '', 'the caption left with the document');
  assert.match(squash(await ownRow.first().textContent()), /My lab results/);
  const ownCard = cardsNamed(patient.id('messages'), 'lab-results.pdf');
  assert.match(await cardText(ownCard), /^lab-results\.pdf · PDF · \d+(\.\d)? (bytes|kB)$/);
  assert.equal(squash(await ownCard.getByTestId('attachment-download').textContent()), 'Download');
  assert.equal(await ownCard.getByRole('button', { name: 'Download lab-results.pdf' }).count(), 1, 'the button names the document');

  // The nurse sees the card under the caption and downloads the same bytes.
  const pane = nurse.pane(conv);
  await nurse.waitForMessage(conv, 'My lab results', 'client');
  const nurseCard = cardsNamed(pane, 'lab-results.pdf');
  await nurseCard.waitFor({ state: 'visible' });
  assert.equal(await cardText(nurseCard), await cardText(ownCard), 'the same card on both sides');
  const got = await download(nurse.page, nurseCard);
  assert.equal(got.name, 'lab-results.pdf');
  assert.ok(got.bytes.equals(pdf), 'the nurse saved the very PDF the patient sent');
  const pdfId = await nurseCard.getAttribute('data-attachment');
  const { token } = await nurse.page.evaluate(() => JSON.parse(sessionStorage.getItem('luukku.console.v1')));
  const asNurse = await fetchedHeaders(nurse.page, pdfId, { Authorization: `Bearer ${token}` });
  assert.equal(asNurse.status, 200);
  assert.match(asNurse.cacheControl || '', /no-store/);
  assert.match(asNurse.disposition || '', /^attachment/);
  assert.equal(await pane.locator('iframe, embed, object, img').count(), 0, 'a document is never shown inline');

  // No documents in note mode (a document always reaches the client).
  const nurseAttach = pane.getByRole('button', { name: 'Attach document' });
  await nurseAttach.waitFor({ state: 'visible' });
  await pane.getByTestId('mode-note').check();
  assert.equal(await nurseAttach.isVisible(), false, 'no Attach document in note mode');
  await pane.getByTestId('mode-reply').check();

  // The nurse sends a PNG back, with nothing written: the document is the whole message.
  assert.equal(await nurse.composer(conv).inputValue(), '');
  await attach(nurse.page, nurseAttach, { name: 'referral.png', mimeType: 'image/png', buffer: PNG });
  const nurseOwn = cardsNamed(pane, 'referral.png');
  await nurseOwn.getByTestId('attachment-download').waitFor({ state: 'visible' });
  const nurseRow = pane.getByTestId('message').filter({ has: nurse.page.getByTestId('attachment').filter({ hasText: 'referral.png' }) });
  await until(() => nurseRow.getAttribute('data-seq'), (s) => /^\d+$/.test(s || ''), 'the nurse\'s document stored');
  assert.equal(await pane.getByTestId('attachment').count(), 2, 'each document drawn once in the console');

  // The patient sees it and saves the same bytes; the download is no-store and an attachment.
  const pngCard = cardsNamed(patient.id('messages'), 'referral.png');
  await pngCard.waitFor({ state: 'visible' });
  assert.equal(await cardText(pngCard), `referral.png · PNG · ${PNG.length} bytes`);
  const pngRow = patient.messages.filter({ has: pp.getByTestId('attachment').filter({ hasText: 'referral.png' }) });
  assert.equal(await pngRow.getAttribute('data-role'), 'professional');
  assert.match(squash(await pngRow.textContent()), /^Nurse One · \d\d:\d\d ?referral\.png · PNG · \d+ bytes ?Download$/, 'a document without a caption: the card alone');
  const saved = await download(pp, pngCard);
  assert.equal(saved.name, 'referral.png');
  assert.ok(saved.bytes.equals(PNG), 'the patient saved the very PNG the nurse sent');
  const { resume_token: resumeToken } = await patient.storage();
  const asPatient = await fetchedHeaders(pp, await pngCard.getAttribute('data-attachment'), { 'X-Luukku-Resume-Token': resumeToken });
  assert.equal(asPatient.status, 200);
  assert.match(asPatient.cacheControl || '', /no-store/);
  assert.match(asPatient.disposition || '', /^attachment/);
  assert.equal(await patient.id('messages').getByTestId('attachment').count(), 2, 'each document drawn once in the widget');
  await assertAxe(pp, 'the widget with documents');
  await assertAxe(nurse.page, 'the console with documents');

  // Text dressed as a PDF: the server refuses it and its words are shown by the composer.
  let uploads = 0;
  pp.on('request', (r) => { if (r.method() === 'POST' && /\/attachments\?/.test(r.url())) uploads++; });
  await patient.id('composer').fill('Another one');
  const refused = pp.waitForResponse((r) => /\/attachments\?/.test(r.url()));
  await attach(pp, attachBtn, { name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('These are my notes, not a PDF at all.\n') });
  const answer = await refused;
  assert.equal(answer.status(), 415);
  const why = (await answer.json()).error.message;
  assert.ok(why, 'the server says why');
  await until(() => patient.id('attach-status').textContent(), (s) => squash(s) === squash(`notes.pdf was not sent. ${why}`), 'the server\'s reason next to the composer');
  assert.equal(await patient.id('attach-status').getAttribute('role'), 'status');
  assert.equal(await cardsNamed(patient.id('messages'), 'notes.pdf').count(), 0, 'nothing of it stays in the log');
  assert.equal(await patient.id('composer').inputValue(), 'Another one', 'the caption is kept for another try');
  assert.equal(await cardsNamed(pane, 'notes.pdf').count(), 0);

  // Over the limit: refused in the browser, naming the limit, with nothing sent.
  const before = uploads;
  const big = Buffer.alloc(limits.max_bytes + 1, 0x20);
  big.write('%PDF-1.4\n');
  await attach(pp, attachBtn, { name: 'scan.pdf', mimeType: 'application/pdf', buffer: big });
  await until(() => patient.id('attach-status').textContent(), (s) => squash(s) === 'scan.pdf is too large to send: a document can be at most 10 MB.', 'the limit named');
  assert.equal(uploads, before, 'a file over the limit is not uploaded');
  assert.equal(await patient.id('composer').inputValue(), 'Another one');

  // After a reload the documents come back from the history, once each.
  await pp.reload();
  await patient.open();
  await cardsNamed(patient.id('messages'), 'referral.png').waitFor({ state: 'visible' });
  await cardsNamed(patient.id('messages'), 'lab-results.pdf').waitFor({ state: 'visible' });
  assert.equal(await patient.id('messages').getByTestId('attachment').count(), 2);
});

/** The demo identification from the message service's gate. */
async function identifyAtGate(p, name) {
  await p.id('identify-first').click();
  const input = p.panel.locator('#lk-idname');
  await input.fill(name);
  await input.press('Enter');
  await p.id('matter').waitFor({ state: 'visible' });
}

/** An identified patient (demo identification) with a non-urgent message to the health station. */
async function matterFrom(h, name, text) {
  const patient = await h.patient('patient');
  await patient.open();
  await patient.id('service').selectOption('nurse-message');
  await identifyAtGate(patient, name);
  await patient.id('topic').selectOption('medication');
  await patient.id('matter').fill(text);
  await patient.id('start').click();
  const conv = await patient.conversation();
  await patient.waitForOwnMessage(text);
  return { patient, conv };
}

/** The nurse opens the matter's thread in the inbox and takes it; resolves with its pane. */
async function takeFromInbox(nurse, conv, before = async () => {}) {
  await nurse.id('view-inbox').click();
  const entry = nurse.page.locator(`[data-testid="inbox-entry"][data-conversation="${conv}"]`);
  await entry.getByTestId('inbox-open').click();
  const thread = nurse.id('inbox-thread');
  await thread.waitFor({ state: 'visible' });
  await before(thread);
  await nurse.id('inbox-thread-take').click();
  await nurse.waitForChat(conv);
  return nurse.pane(conv);
}

uiTest('a document in a non-urgent matter: sent while the reply is owed, read in the inbox thread before taking it and in the taken matter', async (h) => {
  await documentsOf(h, 'nurse-message');
  const { patient, conv } = await matterFrom(h, 'Maija Meikäläinen', 'Renewal of my prescription, the old one attached');
  const attachBtn = patient.panel.getByRole('button', { name: 'Attach document' });
  await attachBtn.waitFor({ state: 'visible' });
  const pdf = minimalPdf('Prescription');
  await attach(patient.page, attachBtn, { name: 'prescription.pdf', mimeType: 'application/pdf', buffer: pdf });
  const ownCard = cardsNamed(patient.id('messages'), 'prescription.pdf');
  await ownCard.getByTestId('attachment-download').waitFor({ state: 'visible' });
  assert.match(squash(await patient.id('reply-by').textContent()), /^We reply by /, 'the reply is still owed');

  // The nurse reads the thread in the inbox: the card is there and downloads before taking it.
  const nurse = await h.professional('nurse-1');
  const pane = await takeFromInbox(nurse, conv, async (thread) => {
    const threadCard = cardsNamed(thread, 'prescription.pdf');
    await threadCard.waitFor({ state: 'visible' });
    assert.equal(await cardText(threadCard), await cardText(ownCard));
    const got = await download(nurse.page, threadCard);
    assert.equal(got.name, 'prescription.pdf');
    assert.ok(got.bytes.equals(pdf), 'the thread\'s document downloads byte for byte');
  });

  // Taken, it is a chat tab with the document in its log, once; it offers Attach document.
  const card = cardsNamed(pane, 'prescription.pdf');
  await card.waitFor({ state: 'visible' });
  assert.equal(await pane.getByTestId('attachment').count(), 1);
  assert.ok((await download(nurse.page, card)).bytes.equals(pdf));
  await pane.getByRole('button', { name: 'Attach document' }).waitFor({ state: 'visible' });
});

uiTest('a nurse answers a taken non-urgent matter with a document, which the patient downloads', async (h) => {
  const { patient, conv } = await matterFrom(h, 'Matti Meikäläinen', 'Please send me the referral');
  const nurse = await h.professional('nurse-1');
  const pane = await takeFromInbox(nurse, conv);
  await nurse.composer(conv).fill('Here is your referral');
  await attach(nurse.page, pane.getByRole('button', { name: 'Attach document' }), { name: 'referral.png', mimeType: 'image/png', buffer: PNG });
  await nurse.waitForMessage(conv, 'Here is your referral', 'professional');
  const pngCard = cardsNamed(patient.id('messages'), 'referral.png');
  await pngCard.waitFor({ state: 'visible' });
  assert.ok((await download(patient.page, pngCard)).bytes.equals(PNG));
  await until(() => patient.id('async-title').textContent(), (s) => squash(s) === 'A professional has replied. You can answer below.', 'the reply met the deadline');
});

uiTest('a service that takes no documents offers no Attach document, in the widget or the console', async (h) => {
  const res = await fetch(`${h.url}/api/v1/services?lang=en`);
  const svc = (await res.json()).services.find((s) => s.id === 'stations-chat');
  assert.ok(svc && !svc.attachments, 'stations-chat takes no documents');
  const nurse = await h.professional('nurse-1');
  const patient = await h.patient('patient');
  await patient.open();
  await patient.id('service').selectOption('stations-chat');
  await patient.id('topic').selectOption('appointment');
  await patient.id('start').click();
  const conv = await patient.conversation();
  await nurse.waitForChat(conv);
  await patient.waitForChat();
  assert.equal(await patient.id('attach').isVisible(), false, 'no Attach document in the widget');
  await nurse.select(conv);
  assert.equal(await nurse.pane(conv).getByTestId('attach').isVisible(), false, 'no Attach document in the console');
  await patient.send('Can I book a vaccination?');
  assert.equal(await patient.id('attach').isVisible(), false);
});

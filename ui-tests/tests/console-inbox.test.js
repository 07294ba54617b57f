// The inbox of asynchronous matters (issue 12): an identified patient's non-urgent messages to
// the health station land in station-a's inbox, not in the live queue. After a restart (which
// the server rebuilds its inbox from) with one matter's deadline put in the past, the nurse
// sees the overdue one first and marked, reads it, takes it (it opens as a chat, taking no
// live-chat place), answers it (the patient gets the answer) and completes it; the patient
// writes in the other one and the whole team is alerted; hiding a thread keeps it open and a
// later message brings it back; the archive finds the completed matter by its reference and
// Reopen brings it back as the nurse's. A contact form sent over HTTP reaches the social team;
// a matter forwarded with the transfer form waits for the chosen colleague alone.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { matter, reconnect, restartOverdue, write } from '../lib/matters.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

const SLOW_MS = 30_000; // a console reconnecting after a restart backs off for up to 15 s

const row = (nurse, conv) => nurse.page.locator(`[data-testid="inbox-entry"][data-conversation="${conv}"]`);
const rowsOf = (nurse, team) => nurse.id(`inbox-team-${team}`).getByTestId('inbox-entry')
  .evaluateAll((rows) => rows.map((r) => r.dataset.conversation));
const text = async (loc) => squash(await loc.textContent());

uiTest('inbox: overdue first after a restart; read, take, answer, complete; the team alert; hide and back; archive and reopen', async (h) => {
  // Two matters; the lab-results one first, so its deadline is the earlier one until the other is overdue.
  const later = await matter(h, 'patient-b', { name: 'Bertta Bäck', topic: 'lab-results', text: 'Are my lab results in yet?' });
  const late = await matter(h, 'patient-a', { name: 'Aino Aalto', topic: 'medication', text: 'My blood pressure prescription ran out.' });
  assert.equal(late.queued.position, 0, 'a matter has no place in a live queue');
  assert.ok(late.queued.due_at, 'a matter carries the reply deadline');

  const nurse = await h.professional('nurse-1');
  const page = nurse.page;
  assert.equal(await nurse.id('view-inbox').isVisible(), true, 'every professional has the inbox switch');
  await page.keyboard.press('Alt+I');
  await nurse.id('inbox').waitFor({ state: 'visible' });
  assert.equal(await nurse.id('view-inbox').getAttribute('aria-pressed'), 'true');
  await until(() => rowsOf(nurse, 'station-a'), (r) => r.length === 2, 'both matters in the inbox');
  assert.equal(await nurse.id('queue-station-a').getByTestId('queue-entry').count(), 0, 'matters never enter the live queue');

  // The deadline of one matter passes while the server is down; the inbox is rebuilt from storage.
  await restartOverdue(h, [late.conversation]);
  await reconnect(h, late);
  await reconnect(h, later);

  // The console reconnects by itself and subscribes again: the overdue one comes first, marked in words.
  await until(() => row(nurse, late.conversation).getAttribute('data-overdue'), (v) => v === 'true',
    'the late matter marked overdue after the restart', SLOW_MS);
  assert.deepEqual(await rowsOf(nurse, 'station-a'), [late.conversation, later.conversation], 'overdue first');
  const lateRow = row(nurse, late.conversation);
  assert.match(await text(lateRow.getByTestId('inbox-flag')), /Overdue/);
  assert.match(await text(lateRow.getByTestId('inbox-deadline')), /^reply by \w{3} \d{1,2} \w{3} \d\d:\d\d/);
  assert.equal(await text(lateRow.getByTestId('inbox-channel')), 'Message');
  assert.equal(await text(lateRow.getByTestId('inbox-status')), 'New');
  assert.equal(await text(lateRow.getByTestId('inbox-holder')), '–');
  assert.match(await text(lateRow.getByTestId('inbox-since')), /ago|now/);
  assert.notEqual(await text(lateRow.getByTestId('inbox-service')), 'nurse-message', 'the service by its name');
  assert.equal(await row(nurse, later.conversation).getAttribute('data-overdue'), 'false');

  const axe = seriousOrCritical(await axeViolations(page));
  assert.equal(axe.length, 0, formatViolations('the inbox', axe));

  // Read it before taking it: the client's words, read-only.
  await lateRow.getByTestId('inbox-open').click();
  const thread = nurse.id('inbox-thread');
  await thread.waitFor({ state: 'visible' });
  const clientLine = thread.locator('[data-testid="inbox-thread-message"][data-role="client"]');
  await clientLine.first().waitFor();
  assert.match(await text(clientLine.first()), /Aino Aalto.*prescription ran out/);

  // Take: it opens as a chat tab, mine, with no live-chat place used.
  await nurse.id('inbox-thread-take').click();
  await nurse.waitForChat(late.conversation);
  await nurse.pane(late.conversation).waitFor({ state: 'visible' });
  assert.equal(await nurse.id('inbox').isVisible(), false, 'taking a matter shows the chats');
  await late.socket.waitFor((f) => f.type === 'system' && f.event === 'assigned', 'the patient told it was taken');
  assert.equal(await text(nurse.id('status-active')), '0', 'a matter is not a live chat held');

  // Taking it again (rejoining, as after a reconnect) keeps the one tab.
  await page.keyboard.press('Alt+I');
  await until(() => row(nurse, late.conversation).getAttribute('data-status'), (v) => v === 'in_progress', 'in progress in the inbox');
  assert.match(await text(row(nurse, late.conversation).getByTestId('inbox-holder')), /you/);
  await row(nurse, late.conversation).getByTestId('inbox-take').click();
  await nurse.pane(late.conversation).waitFor({ state: 'visible' });
  assert.equal(await nurse.tab(late.conversation).count(), 1, 'an assigned for an open chat reuses its tab');

  // Answer, and the patient gets it; then complete.
  await nurse.send(late.conversation, 'A new prescription is at the pharmacy.');
  await late.socket.waitFor((f) => f.type === 'message' && f.from.role === 'professional' && f.body.includes('at the pharmacy'), 'the answer');
  await nurse.close(late.conversation, 'Prescription renewed');
  await late.socket.waitFor((f) => f.type === 'closed', 'closed');

  // The other patient writes: the whole team is alerted, visibly and announced; the row says so.
  await page.keyboard.press('Alt+I');
  await until(() => rowsOf(nurse, 'station-a'), (r) => r.length === 1 && r[0] === later.conversation, 'the completed one left the inbox');
  await write(later, 'Sorry, one more thing: I was fasting.');
  const alert = nurse.id('inbox-alert');
  await alert.waitFor({ state: 'visible' });
  assert.match(await text(alert), /New message in a non-urgent matter/);
  assert.equal(await nurse.id('inbox-live').getAttribute('role'), 'alert');
  await until(() => row(nurse, later.conversation).getAttribute('data-alert'), (v) => v === 'true', 'the row marked');
  assert.match(await text(row(nurse, later.conversation).getByTestId('inbox-status')), /New message/);
  assert.match(await text(nurse.id('view-inbox-count')), /1/);

  // Hide the thread: out of my view, not closed; the client's next message brings it back.
  await row(nurse, later.conversation).getByTestId('inbox-hide').click();
  await row(nurse, later.conversation).waitFor({ state: 'detached' });
  const stored = await page.evaluate(() => localStorage.getItem('luukku.console.inbox.hidden.nurse-1'));
  assert.ok(JSON.parse(stored).includes(later.conversation), 'hidden per professional in localStorage');
  await nurse.id('inbox-show-hidden').click();
  await until(() => row(nurse, later.conversation).getAttribute('data-hidden'), (v) => v === 'true', 'shown as hidden on request');
  await nurse.id('inbox-show-hidden').click();
  await row(nurse, later.conversation).waitFor({ state: 'detached' });
  await write(later, 'And I take no medication.');
  await until(() => row(nurse, later.conversation).getAttribute('data-hidden'), (v) => v === 'false', 'a new message un-hides it');
  assert.equal(await row(nurse, later.conversation).getAttribute('data-status'), 'queued', 'hiding never closed it');

  // The archive: found by its reference; Reopen makes it mine and In progress again.
  const reference = `M-${late.conversation.slice(0, 8).toUpperCase()}`;
  await nurse.id('archive-query').fill(reference.toLowerCase());
  await nurse.id('archive-search').click();
  const found = nurse.page.locator(`[data-testid="archive-entry"][data-conversation="${late.conversation}"]`);
  await found.waitFor();
  assert.equal(await text(found.getByTestId('archive-reference')), reference);
  assert.equal(await text(found.getByTestId('archive-summary')), 'Prescription renewed');
  assert.equal(await text(found.getByTestId('archive-closed-by')), 'Nurse One');
  assert.match(await text(nurse.id('archive-status')), /1 complete matter found/);
  await found.getByTestId('archive-reopen').click();
  await nurse.pane(late.conversation).waitFor({ state: 'visible' });
  await until(() => nurse.pane(late.conversation).getByTestId('composer').isDisabled(), (d) => d === false, 'the reopened matter can be answered');
  assert.equal(await nurse.tab(late.conversation).count(), 1, 'still one tab');
  await page.keyboard.press('Alt+I');
  await until(() => row(nurse, late.conversation).getAttribute('data-status'), (v) => v === 'in_progress', 'reopened: in progress');
  assert.match(await text(row(nurse, late.conversation).getByTestId('inbox-holder')), /you/);
}, { timeout: 150_000 });

uiTest('inbox: a contact form sent over HTTP shows for the social worker', async (h) => {
  const social = await h.professional('social-1');
  await social.id('view-inbox').click();
  await social.id('inbox').waitFor({ state: 'visible' });
  const res = await fetch(h.url + '/api/v1/forms/contact-form', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ fields: { name: 'Matti', message: 'I need help with housing.' }, contact: { email: 'm@example.org' } }),
  });
  assert.ok(res.ok, `the form was accepted: HTTP ${res.status}`);
  const { conversation } = await res.json();
  const r = row(social, conversation);
  await r.waitFor();
  assert.equal(await text(r.getByTestId('inbox-channel')), 'Form');
  assert.equal(await r.getAttribute('data-status'), 'queued');
  await r.getByTestId('inbox-open').click();
  const client = social.id('inbox-thread').locator('[data-testid="inbox-thread-message"][data-role="client"]');
  await client.first().waitFor();
  assert.match(await text(client.first()), /help with housing/);
});

uiTest('inbox: a matter forwarded to a colleague with the transfer form waits for them alone', async (h) => {
  const m = await matter(h, 'patient', { name: 'Aino Aalto', topic: 'medication', text: 'Which dose should I take now?' });
  const nurse1 = await h.professional('nurse-1');
  const nurse2 = await h.professional('nurse-2');
  await nurse1.id('view-inbox').click();
  await row(nurse1, m.conversation).getByTestId('inbox-take').click();
  await nurse1.waitForChat(m.conversation);
  const pane = nurse1.pane(m.conversation);
  await pane.getByTestId('transfer').click();
  await pane.getByTestId('transfer-professional').selectOption('nurse-2');
  await pane.getByTestId('transfer-note').fill('Her own nurse should answer this.');
  await pane.getByTestId('transfer-confirm').click();

  await nurse2.id('view-inbox').click();
  const r2 = row(nurse2, m.conversation);
  await until(() => text(r2.getByTestId('inbox-holder')), (s) => /forwarded to you/.test(s), 'forwarded to nurse-2');
  assert.equal(await r2.getAttribute('data-status'), 'queued');
  await nurse1.id('view-inbox').click();
  const r1 = row(nurse1, m.conversation);
  await until(() => text(r1.getByTestId('inbox-holder')), (s) => /forwarded to Nurse Two/.test(s), 'nurse-1 sees it forwarded');
  assert.equal(await r1.getByTestId('inbox-take').count(), 0, 'only the colleague may take it');
  await r2.getByTestId('inbox-take').click();
  await nurse2.waitForChat(m.conversation);
  await nurse2.pane(m.conversation).getByTestId('transfer-note-card').waitFor({ state: 'visible' });
});

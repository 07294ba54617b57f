// The supervision view (issue 11): a professional with the `supervisor` role (the demo's
// lead-1 "Shift Lead", teams station-a and station-b) sees each team live — the queue and its
// oldest wait, patients waiting with nobody available, each professional's presence and load —
// changes a team's routing and moves a waiting chat to another team. A plain nurse has no such
// view, and the supervisor never sees what a waiting patient wrote nor their name.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { Professional } from '../lib/console.js';
import { Socket } from '../lib/socket.js';

/** lead-1 in the console, with every `team_overview` frame the page receives kept in `frames`. */
async function shiftLead(h) {
  const page = await h.newPage('lead-1');
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => {
    if (typeof payload === 'string' && payload.includes('"team_overview"')) frames.push(payload);
  }));
  const lead = new Professional(page, 'lead-1');
  await lead.login(h.url);
  lead.overviewFrames = frames;
  return lead;
}

const card = (lead, team) => lead.id(`team-card-${team}`);
const row = (lead, team, conv) => card(lead, team).locator(`[data-testid="team-queue-entry"][data-conversation="${conv}"]`);
const proRow = (lead, team, id) => card(lead, team).locator(`[data-testid="team-pro"][data-professional="${id}"]`);
const text = async (loc) => squash(await loc.textContent());
const seconds = (s) => { const m = /(\d+):(\d\d)/.exec(s); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };

/** Waits until the team's card lists exactly these waiting conversations, in this order. */
async function queueIs(lead, team, convs, what) {
  await until(
    () => card(lead, team).getByTestId('team-queue-entry').evaluateAll((rows) => rows.map((r) => r.dataset.conversation)),
    (got) => JSON.stringify(got) === JSON.stringify(convs),
    `${team}'s card lists ${what}`,
  );
}

uiTest('supervision: only a supervisor has the view; patients waiting with nobody available, the oldest wait ticking, a nurse signing in; never what a patient wrote nor their name', async (h) => {
  const nurse1 = await h.professional('nurse-1');
  await nurse1.setStatus({ availability: 'away' });
  assert.equal(await nurse1.id('view-supervision').isVisible(), false, 'a plain nurse has no supervision switch');
  assert.equal(await nurse1.id('supervision').isVisible(), false, 'nor the view');
  // Nor does the server give her the overviews when asked directly.
  const nurseSocket = await Socket.professional(h, 'nurse-1');
  const req = await nurseSocket.send({ type: 'supervise' });
  const refused = await nurseSocket.waitFor((f) => f.req === req, 'the reply to supervise');
  assert.equal(refused.type === 'error' && refused.code, 'forbidden', `a plain nurse's supervise is refused: ${JSON.stringify(refused)}`);
  await nurseSocket.close();

  const lead = await shiftLead(h);
  await lead.setStatus({ availability: 'away' });
  await lead.id('view-supervision').click();
  await lead.id('supervision').waitFor({ state: 'visible' });
  assert.equal(await lead.id('view-supervision').getAttribute('aria-pressed'), 'true');
  assert.equal(await lead.page.locator('#chat-area').isVisible(), false, 'the view takes the place of the chats');
  await card(lead, 'station-a').waitFor({ state: 'visible' });
  await card(lead, 'station-b').waitFor({ state: 'visible' });
  assert.equal(await lead.id('team-card-social').count(), 0, 'only the lead\'s own teams');
  assert.equal(await text(card(lead, 'station-a').getByTestId('team-name')), 'Health station A');

  // Two patients queue in station-a while nobody there is available: one writes while waiting
  // (in the widget), the other is identified by name (a bare client with a demo token).
  const writer = await h.patient('writer');
  await writer.start({ topic: 'medication', duration: 'No symptoms' });
  const conv1 = await writer.conversation();
  await writer.waitForQueuePosition(1);
  const secret = 'SV-SECRET my chest hurts since this morning';
  await writer.send(secret);
  const named = await Socket.patient(h, 'named', { topic: 'symptoms', name: 'Maija Meikäläinen' });
  const conv2 = named.conversation;

  const a = card(lead, 'station-a');
  await queueIs(lead, 'station-a', [conv1, conv2], 'both patients in queue order');
  await until(() => text(a.getByTestId('waiting-count')), (s) => s === '2', 'waiting 2');
  const warning = a.getByTestId('unstaffed-warning');
  await warning.waitFor({ state: 'visible' });
  assert.equal(await text(warning), '2 waiting — nobody available');
  assert.equal(await a.getAttribute('data-unstaffed'), 'true');
  await until(() => text(lead.id('supervision-alert')), (s) => s.includes('⚠ 2'), 'the view switch counts them');
  await until(() => text(lead.id('supervision-live')), (s) => /Health station A: 2 waiting — nobody available/.test(s), 'announced to a screen reader');
  assert.match(await text(lead.id('supervision-summary')), /2 waiting in my teams.*Nobody available in: Health station A/);
  assert.match(await text(a.getByTestId('estimated-wait')), /^–$/, 'no estimate while nobody is available');

  const first = row(lead, 'station-a', conv1);
  assert.equal(await text(first.getByTestId('entry-what')), 'Health station chat · Medication renewal');
  assert.equal(await text(first.getByTestId('entry-channel')), 'Chat');
  assert.equal(await text(first.getByTestId('entry-identity')), 'Not identified');
  assert.equal(await text(row(lead, 'station-a', conv2).getByTestId('entry-identity')), 'Identified');

  // The oldest wait counts up by itself between frames.
  const oldest = a.getByTestId('oldest-wait');
  const s0 = Number(await oldest.getAttribute('data-wait-s'));
  const shown0 = await text(oldest);
  await until(async () => Number(await oldest.getAttribute('data-wait-s')), (s) => s >= s0 + 2, 'the oldest wait ticks');
  assert.notEqual(await text(oldest), shown0);
  assert.ok(seconds(await text(oldest)) >= s0 + 2, 'and shows it as m:ss');

  // What the supervisor is never shown, neither by the view nor in the frames it gets.
  const viewText = await lead.id('supervision').evaluate((el) => el.textContent);
  for (const never of ['SV-SECRET', 'chest hurts', 'Maija', 'Meikäläinen']) {
    assert.ok(!viewText.includes(never), `the supervision view does not show "${never}"`);
  }
  assert.doesNotMatch(viewText, /Anonymous \S+/, 'nor an anonymous patient\'s alias');
  assert.ok(lead.overviewFrames.length >= 2, 'team_overview frames arrived');
  for (const f of lead.overviewFrames) {
    assert.ok(!/SV-SECRET|chest hurts|Maija|Meikäläinen|"alias"|"preview"/.test(f), `a team_overview carries no content nor name: ${f}`);
  }

  // A nurse signs in, available: automatic routing gives her both; the warning goes.
  const nurse2 = await h.professional('nurse-2');
  await nurse2.waitForChat(conv1);
  await nurse2.waitForChat(conv2);
  await warning.waitFor({ state: 'hidden' });
  await queueIs(lead, 'station-a', [], 'no one');
  assert.equal(await a.getAttribute('data-unstaffed'), 'false');
  await until(() => text(a.getByTestId('waiting-count')), (s) => s === '0', 'waiting 0');
  await lead.id('supervision-alert').waitFor({ state: 'hidden' });
  const n2 = proRow(lead, 'station-a', 'nurse-2');
  await until(() => n2.getAttribute('data-presence'), (p) => p === 'available', 'Nurse Two available');
  await until(() => text(n2.getByTestId('pro-load')), (s) => s === '2/3', 'Nurse Two holds 2 of 3');
  assert.equal(await text(n2.getByTestId('pro-presence')), 'available');
  assert.equal(await proRow(lead, 'station-a', 'nurse-1').getAttribute('data-presence'), 'away');
  assert.equal(await proRow(lead, 'station-a', 'lead-1').getAttribute('data-presence'), 'away');
  assert.equal(await text(a.getByTestId('available-count')), '1');
  assert.equal(await proRow(lead, 'station-b', 'nurse-3').getAttribute('data-presence'), 'offline');

  // The lead can still go back to the chats.
  await lead.id('view-chats').click();
  await lead.page.locator('#chat-area').waitFor({ state: 'visible' });
  assert.equal(await lead.id('supervision').isVisible(), false);
});

uiTest('supervision: the lead switches a team to manual routing and back, and moves a waiting chat to another team where its nurse takes it', async (h) => {
  const lead = await shiftLead(h);
  await lead.setStatus({ availability: 'away' });
  const nurse2 = await h.professional('nurse-2');
  await nurse2.setStatus({ capacity: 5, availability: 'available' });
  const nurse3 = await h.professional('nurse-3'); // station-b, whose routing is manual

  await lead.page.keyboard.press('Alt+KeyO'); // the view's shortcut
  await lead.id('supervision').waitFor({ state: 'visible' });
  const a = card(lead, 'station-a');
  const b = card(lead, 'station-b');
  await until(() => a.getAttribute('data-routing'), (r) => r === 'auto', 'station-a routes automatically');
  assert.equal(await a.getByTestId('routing-auto').isChecked(), true);
  assert.equal(await b.getByTestId('routing-manual').isChecked(), true, 'station-b is manual (demo configuration)');

  // Manual: a new patient stays in the queue although Nurse Two has room.
  await a.getByTestId('routing-manual').check();
  await until(() => a.getAttribute('data-routing'), (r) => r === 'manual', 'the server confirmed manual routing');
  const p3 = await h.patient('p3');
  await p3.start({ topic: 'symptoms' });
  const conv3 = await p3.conversation();
  await queueIs(lead, 'station-a', [conv3], 'the new patient');
  const nurseEntry = nurse2.id('queue-station-a').locator(`[data-testid="queue-entry"][data-conversation="${conv3}"]`);
  await nurseEntry.waitFor({ state: 'visible' });
  await p3.waitForQueuePosition(1);
  await nurse2.page.waitForTimeout(1200); // automatic routing would have assigned it at once
  assert.equal(await nurse2.tab(conv3).count(), 0, 'not assigned to Nurse Two');
  assert.equal(await row(lead, 'station-a', conv3).count(), 1, 'still waiting on the lead\'s card');
  // ... until she accepts it.
  await nurseEntry.getByTestId('accept').click();
  await nurse2.waitForChat(conv3);
  await p3.waitForChat();
  await queueIs(lead, 'station-a', [], 'no one after the accept');
  await until(() => text(proRow(lead, 'station-a', 'nurse-2').getByTestId('pro-load')), (s) => s === '1/5', 'Nurse Two holds 1 of 5');

  // A waiting chat moved to station-b, with the keyboard: it leaves station-a's card, keeps
  // its waiting time in station-b's, and Nurse Three takes it there.
  const p4 = await Socket.patient(h, 'p4', { topic: 'medication' });
  const conv4 = p4.conversation;
  await queueIs(lead, 'station-a', [conv4], 'the patient to move');
  const r4 = row(lead, 'station-a', conv4);
  const options = await r4.getByTestId('move-team').locator('option').allTextContents();
  assert.equal(options[0], 'Move to…', 'no team preselected');
  assert.ok(options.some((o) => o.startsWith('Health station B')) && !options.some((o) => o.startsWith('Health station A')),
    `the other teams: ${options}`);
  const waitedInA = await until(async () => seconds(await text(r4.getByTestId('entry-wait'))), (s) => s >= 2, 'some waiting time to keep');
  await r4.getByTestId('move-team').selectOption('station-b');
  await r4.getByTestId('move').focus();
  await lead.page.keyboard.press('Enter');
  await queueIs(lead, 'station-a', [], 'no one once moved');
  await queueIs(lead, 'station-b', [conv4], 'the moved patient');
  const waitedInB = seconds(await text(row(lead, 'station-b', conv4).getByTestId('entry-wait')));
  assert.ok(waitedInB >= waitedInA, `the wait goes on in station-b (${waitedInB} s ≥ ${waitedInA} s)`);
  assert.equal(await p4.page.evaluate(() => window.luukkuFrames.some((f) => f.type === 'system' && f.event === 'assigned')), false);
  const entry3 = nurse3.id('queue-station-b').locator(`[data-testid="queue-entry"][data-conversation="${conv4}"]`);
  await entry3.getByTestId('accept').click();
  await nurse3.waitForChat(conv4);
  await p4.assigned();
  await queueIs(lead, 'station-b', [], 'no one after Nurse Three took it');
  await until(() => text(proRow(lead, 'station-b', 'nurse-3').getByTestId('pro-load')), (s) => s === '1/3', 'Nurse Three holds 1 of 3');

  // Back to automatic, with the keyboard (arrow keys in the routing switch): the patient who
  // waits meanwhile goes to Nurse Two at once.
  const p5 = await Socket.patient(h, 'p5', { topic: 'lab-results' });
  await queueIs(lead, 'station-a', [p5.conversation], 'the next patient, waiting under manual routing');
  await a.getByTestId('routing-manual').focus();
  await lead.page.keyboard.press('ArrowLeft');
  await until(() => a.getAttribute('data-routing'), (r) => r === 'auto', 'the server confirmed automatic routing');
  await nurse2.waitForChat(p5.conversation);
  await p5.assigned();
  await queueIs(lead, 'station-a', [], 'no one once routing is automatic again');
});

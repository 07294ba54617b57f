// Transfers and queues as the nurse sees them (issue 9, items 10 and 3/4/5, console side):
// the transfer form has no default target, names teams, filters colleagues by the chosen team
// and shows their presence and load; the receiver sees the colleague's note prominently; the
// patient has one display name for every professional; a queue entry shows what a waiting
// patient wrote, their language, and how long since they first made contact.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

/**
 * A patient as a bare protocol client in a page of the server's origin (the widget does not
 * let a waiting patient write yet): starts in `service`, in `lang`, and writes `text` while queued.
 */
async function rawPatientWriting(h, { service, topic, lang, text }) {
  const page = await h.newPage(`raw-${lang}`);
  await page.goto(h.url + '/api/v1/services');
  return page.evaluate(({ service, topic, lang, text }) => new Promise((resolve, reject) => {
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/client', 'luukku.v1.json');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', resume: [] }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'start', service, topic, lang, client_ref: crypto.randomUUID() }));
      if (f.type === 'queued') {
        window.__conv = f.conversation;
        ws.send(JSON.stringify({ type: 'send', conversation: f.conversation, client_msg_id: crypto.randomUUID(), body: text, req: 's1' }));
      }
      if (f.type === 'ack' && f.req === 's1') resolve(window.__conv);
      if (f.type === 'error') reject(new Error(`${f.code}: ${f.message}`));
    };
  }), { service, topic, lang, text });
}

uiTest('transfer form: no default target, team names, colleagues by team with presence and load; the note reaches the receiver prominently; one name for the patient', async (h) => {
  const nurse1 = await h.professional('nurse-1');
  await nurse1.setStatus({ availability: 'away' });
  const nurse2 = await h.professional('nurse-2');
  await nurse2.setStatus({ availability: 'available' });
  const nurse4 = await h.professional('nurse-4');
  await nurse4.setStatus({ availability: 'away' });
  // nurse-2 already has an anonymous patient of her own: a per-console counter would now
  // call the next one "Anonymous 2" on her side and "Anonymous 1" on nurse-1's.
  const other = await h.patientInChat(nurse2, 'other');
  await nurse2.setStatus({ availability: 'away' });
  await nurse1.setStatus({ availability: 'available' });
  const { patient, conversation: conv } = await h.patientInChat(nurse1, 'patient');
  await nurse2.setStatus({ availability: 'available' });
  const name1 = squash(await nurse1.pane(conv).getByTestId('client-name').textContent());
  assert.match(name1, /^Anonymous \S+$/);

  const pane = nurse1.pane(conv);
  await pane.getByTestId('transfer').click();
  const team = pane.getByTestId('transfer-team');
  const pro = pane.getByTestId('transfer-professional');
  assert.equal(await team.inputValue(), '', 'no team is preselected');
  const teamOptions = await team.locator('option').allTextContents();
  assert.equal(teamOptions[0], 'Choose…');
  assert.ok(teamOptions.includes('Health station B') && teamOptions.includes('Adult social services'), `team names, not ids: ${teamOptions}`);
  assert.ok(!teamOptions.includes('station-b'), 'no team ids');

  // Nothing chosen: nothing is sent, the form says what is missing.
  await pane.getByTestId('transfer-confirm').click();
  assert.match(squash(await pane.getByTestId('transfer-error').textContent()), /Choose a team or a colleague/);
  assert.equal(await nurse1.composer(conv).isEditable(), true, 'the chat is still nurse-1\'s');

  // Colleagues follow the team, with presence and load.
  await team.selectOption('station-b');
  let names = await pro.locator('option').allTextContents();
  assert.ok(names.some((n) => /Nurse Three/.test(n)) && names.some((n) => /Nurse Four/.test(n)), `station-b's: ${names}`);
  assert.ok(!names.some((n) => /Nurse Two/.test(n)), 'not Nurse Two (station-a only)');
  await team.selectOption('station-a');
  await until(async () => (await pro.locator('option').allTextContents()).join('|'),
    (s) => /Nurse Two – available, 1\/\d+ chats/.test(s), "Nurse Two's presence and load");
  names = await pro.locator('option').allTextContents();
  assert.ok(names.some((n) => /Nurse Four – away/.test(n)), `Nurse Four shows as away: ${names}`);
  assert.ok(!names.some((n) => /Nurse One/.test(n)), 'not oneself');

  // To Nurse Two with a note: she sees the note prominently, and the same patient name.
  await pro.selectOption('nurse-2');
  await pane.getByTestId('transfer-note').fill('TN1 please check her penicillin allergy');
  await pane.getByTestId('transfer-confirm').click();
  await nurse2.waitForChat(conv);
  const card = nurse2.pane(conv).getByTestId('transfer-note-card');
  await nurse2.select(conv);
  await card.waitFor({ state: 'visible' });
  const cardText = squash(await card.textContent());
  assert.match(cardText, /Transferred to you by Nurse One/);
  assert.match(cardText, /TN1 please check her penicillin allergy/);
  assert.equal(squash(await nurse2.pane(conv).getByTestId('client-name').textContent()), name1, 'one display name for the patient on both consoles');
  assert.notEqual(squash(await nurse2.pane(other.conversation).getByTestId('client-name').textContent()), name1);
  await patient.waitForChat();
});

uiTest('a manual queue entry shows what the waiting patient wrote, their language and the time since first contact', async (h) => {
  const nurse = await h.professional('nurse-3');
  await nurse.id('queue-station-b').waitFor({ state: 'visible' });
  const conv = await rawPatientWriting(h, { service: 'stations-chat', topic: 'appointment', lang: 'sv', text: 'Jag behöver en tid för min dotter' });
  const entry = nurse.id('queue-station-b').locator(`[data-testid="queue-entry"][data-conversation="${conv}"]`);
  await entry.waitFor({ state: 'visible' });
  await until(async () => squash(await entry.getByTestId('queue-preview').textContent()), (s) => s.includes('Jag behöver en tid för min dotter'), 'the preview');
  assert.match(squash(await entry.getByTestId('queue-lang').textContent()), /Swedish/);
  assert.match(squash(await nurse.id('queue-station-b').locator('h3').textContent()), /Health station B/, 'the queue is named by its team name');
  // Accepted, the chat shows what was written while waiting and the patient's language.
  await entry.getByTestId('accept').click();
  await nurse.waitForMessage(conv, 'Jag behöver en tid för min dotter', 'client');
  assert.match(squash(await nurse.pane(conv).getByTestId('client-lang').textContent()), /Swedish/);
  assert.equal(squash(await nurse.tab(conv).getByTestId('tab-lang').textContent()), 'sv');

  // A chat transferred here from station-a: "waiting" starts again, "since first contact" not.
  const nurse1 = await h.professional('nurse-1');
  await nurse1.setStatus({ availability: 'available' });
  const moved = await h.patientInChat(nurse1, 'moved');
  await nurse1.page.waitForTimeout(2100); // time since first contact that a transfer must not reset
  await nurse1.pane(moved.conversation).getByTestId('transfer').click();
  await nurse1.pane(moved.conversation).getByTestId('transfer-team').selectOption('station-b');
  await nurse1.pane(moved.conversation).getByTestId('transfer-confirm').click();
  const movedEntry = nurse.id('queue-station-b').locator(`[data-testid="queue-entry"][data-conversation="${moved.conversation}"]`);
  await movedEntry.waitFor({ state: 'visible' });
  const seconds = (s) => { const m = /(\d+):(\d\d)/.exec(s); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
  const contact = seconds(squash(await movedEntry.getByTestId('queue-contact').textContent()));
  const waiting = seconds(squash(await movedEntry.locator('.q-wait').textContent()));
  assert.ok(contact >= 2 && contact > waiting, `since first contact (${contact} s) goes on over the transfer, waiting (${waiting} s) restarted`);
});

uiTest('when the client leaves a chat in progress the console says so, and logging out can transfer instead', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const page = await h.newPage('raw-leaver');
  await page.goto(h.url + '/api/v1/services');
  const conv = await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/client', 'luukku.v1.json');
    window.__ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', resume: [] }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'start', service: 'health-chat', topic: 'symptoms', lang: 'en',
        questionnaire: { duration: '1-3 days' }, client_ref: crypto.randomUUID() }));
      if (f.type === 'queued') window.__conv = f.conversation;
      if (f.type === 'system' && f.event === 'assigned') resolve(f.conversation);
      if (f.type === 'error') reject(new Error(`${f.code}: ${f.message}`));
    };
  }));
  await nurse.waitForChat(conv);
  await page.evaluate((c) => window.__ws.send(JSON.stringify({ type: 'leave', conversation: c })), conv);
  await until(() => nurse.paneText(conv), (t) => /The client left the chat/.test(t), 'the event in the record');
  await until(async () => squash(await nurse.pane(conv).locator('.notice').textContent()), (t) => /has left the chat\. Close it/.test(t), 'the pane says so');
  assert.match(squash(await nurse.tab(conv).textContent()), /client left/);

  // Logging out with it held: "transfer to a colleague first" leads to its transfer form.
  await nurse.id('logout').click();
  await nurse.id('logout-transfer').click();
  await nurse.id('logout-confirm').waitFor({ state: 'hidden' });
  assert.equal(await nurse.pane(conv).getByTestId('transfer-team').isVisible(), true, 'the transfer form is open');
});

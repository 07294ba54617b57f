// The professional console's own workflow, beyond running parallel chats:
//   1. a manual-routing team's queue with waiting times: "Accept" one chosen chat, "Accept next"
//   2. the unread counter on a background chat's tab, cleared when the chat is selected
//   3. internal notes: shown as notes, visibly different, never reaching the patient
//   4. transfer to a colleague and to a team: the chat moves with its history, the patient goes on
//   5. closing with a summary, then reopening
//   6. older history loads when the pane is scrolled to the top (each message once, in order)
//   7. the patient identifies inside the chat and the console shows who they are
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

// ------------------------------------------------------------------ local helpers

/**
 * Starts a chat in any service (Patient.start only knows the preselected health-chat): opens
 * the widget, picks the service and topic, answers required questions and waits for the
 * conversation id.
 */
async function startIn(patient, { service, topic, duration }) {
  await patient.open();
  await patient.id('service').selectOption(service);
  await patient.id('topic').selectOption(topic);
  if (duration) await patient.id('q-duration').selectOption(duration);
  await patient.id('start').click();
  return patient.conversation();
}

/** The patient starts a health-chat (station-a, automatic routing) and waits for a nurse. */
async function chatWith(h, nurse, label, opts = {}) {
  const patient = await h.patient(label);
  await patient.start({ topic: 'symptoms', duration: '1-3 days', ...opts });
  const conv = await patient.conversation();
  await nurse.waitForChat(conv);
  await patient.waitForChat();
  return { patient, conv };
}

/** The widget's demo identification inside the chat (`identify` → name → "Identify me"). */
async function identify(patient, name) {
  await patient.id('identify').click();
  const input = patient.page.locator('#lk-idname');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await patient.page.getByRole('button', { name: 'Identify me' }).click();
}

/** The text of a pane's `unread` badge on its tab, or null when the badge is hidden. */
async function unreadBadge(nurse, conv) {
  const badge = nurse.tab(conv).getByTestId('unread');
  if (!(await badge.isVisible())) return null;
  return squash(await badge.textContent());
}

/** The number of chats the console says the professional holds. */
async function held(nurse) {
  return squash(await nurse.id('status-active').textContent()).match(/\d+/)?.[0];
}

/** [{seq, kind, role, text}] of a console pane's rows, in DOM order. */
function paneRows(nurse, conv) {
  return nurse.messages(conv).evaluateAll((rows) =>
    rows.map((r) => ({
      seq: Number(r.getAttribute('data-seq')),
      kind: r.getAttribute('data-kind'),
      role: r.getAttribute('data-role'),
      text: r.textContent.replace(/\s+/g, ' ').trim(),
    })),
  );
}

/** Numbers of the H### messages, in the order the pane shows them. */
async function numbered(nurse, conv) {
  const rows = await paneRows(nurse, conv);
  return rows.flatMap((r) => {
    const m = /\bH(\d{3})\b/.exec(r.text);
    return m && r.role === 'client' ? [Number(m[1])] : [];
  });
}

/** Seconds of a queue entry's "Waiting m:ss" text. */
function waitedSeconds(text) {
  const m = /(?:(\d+):)?(\d+):(\d\d)/.exec(text);
  if (!m) return NaN;
  return Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

// ------------------------------------------------------------------ 1. manual team queue

uiTest('manual routing: a station-b nurse sees the queue with waiting times, picks one chat and accepts the next', async (h) => {
  // Only nurse-3 (station-b, manual routing) is on duty: "Health stations A and B" routes
  // the patients to station-b, where they wait until someone accepts them.
  const nurse = await h.professional('nurse-3');
  await nurse.id('queue-station-b').waitFor({ state: 'visible' });
  assert.equal(await nurse.id('queue-station-a').count(), 0, 'nurse-3 is not in station-a: no station-a queue');

  const first = await h.patient('patient-1');
  const c1 = await startIn(first, { service: 'stations-chat', topic: 'appointment' });
  await first.waitForQueuePosition(1);
  const second = await h.patient('patient-2');
  const c2 = await startIn(second, { service: 'stations-chat', topic: 'vaccination' });
  await second.waitForQueuePosition(2);

  const queue = nurse.id('queue-station-b');
  const entries = queue.getByTestId('queue-entry');
  await until(
    () => entries.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-conversation'))),
    (ids) => ids.length === 2 && ids[0] === c1 && ids[1] === c2,
    'station-b queue lists both chats, longest waiting first',
  );
  assert.deepEqual(await nurse.openConversations(), [], 'manual routing: nothing is assigned unprompted');
  const entry1 = queue.locator(`[data-testid="queue-entry"][data-conversation="${c1}"]`);
  const entry2 = queue.locator(`[data-testid="queue-entry"][data-conversation="${c2}"]`);
  assert.match(squash(await entry1.textContent()), /Appointment/, 'the entry names the topic');
  assert.match(squash(await entry2.textContent()), /Vaccination/, 'the entry names the topic');

  // The waiting time is shown and keeps counting up while the patient waits.
  const firstSeen = waitedSeconds(squash(await entry1.textContent()));
  assert.ok(Number.isFinite(firstSeen), `entry shows a waiting time: ${squash(await entry1.textContent())}`);
  await until(
    async () => waitedSeconds(squash(await entry1.textContent())),
    (s) => s > firstSeen,
    'the waiting time of the first patient counts up',
  );
  assert.ok(
    waitedSeconds(squash(await entry1.textContent())) >= waitedSeconds(squash(await entry2.textContent())),
    'the first patient has waited at least as long as the second',
  );

  // Pick one: the nurse accepts the SECOND patient from the list.
  await entry2.getByTestId('accept').click();
  await nurse.waitForChat(c2);
  await second.waitForChat();
  await until(
    () => entries.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-conversation'))),
    (ids) => ids.length === 1 && ids[0] === c1,
    'after picking, only the first patient is still in the queue',
  );
  assert.deepEqual(await nurse.openConversations(), [c2], 'only the picked chat is open');
  assert.equal(await nurse.tab(c2).getAttribute('aria-selected'), 'true', 'the accepted chat is shown');
  assert.match(squash(await nurse.pane(c2).getByTestId('service-topic').textContent()), /Vaccination/);
  await first.waitForQueuePosition(1);
  assert.ok(await first.id('queue-status').isVisible(), 'the first patient still waits');

  await second.send('M1 when can I get the flu shot?');
  await nurse.waitForMessage(c2, 'M1 when can I get the flu shot?', 'client');

  // Accept next: takes the head of the queue (the first patient).
  await nurse.id('accept-next-station-b').click();
  await nurse.waitForChat(c1);
  await first.waitForChat();
  await until(() => entries.count(), (n) => n === 0, 'station-b queue empty after accepting the next');
  assert.match(squash(await queue.textContent()), /No one waiting/, 'the queue says that no one is waiting');
  assert.deepEqual((await nurse.openConversations()).sort(), [c1, c2].sort());
  await until(() => held(nurse), (n) => n === '2', 'status-active shows 2');
  assert.match(squash(await nurse.pane(c1).getByTestId('service-topic').textContent()), /Appointment/);

  await nurse.send(c1, 'M2 hello, how can I help with your appointment?');
  await first.waitForProfessionalMessage('M2 hello, how can I help with your appointment?');
});

// ------------------------------------------------------------------ 2. unread counter

uiTest('a background chat counts its unread messages on its tab; selecting it clears the count', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient: anna, conv: a } = await chatWith(h, nurse, 'patient-a', { topic: 'medication' });
  const { patient: ben, conv: b } = await chatWith(h, nurse, 'patient-b', { topic: 'symptoms' });
  await nurse.select(a);
  assert.equal(await unreadBadge(nurse, a), null, 'the selected chat shows no unread badge');
  assert.equal(await unreadBadge(nurse, b), null, 'no unread messages yet');

  // Three messages in the background chat B: its badge counts them.
  await ben.send('U1 hello');
  await until(() => unreadBadge(nurse, b), (t) => t === '1', "chat B's unread badge shows 1");
  await ben.send('U2 are you there?');
  await ben.send('U3 my throat still hurts');
  await nurse.waitForMessage(b, 'U3 my throat still hurts', 'client');
  await until(() => unreadBadge(nurse, b), (t) => t === '3', "chat B's unread badge shows 3");
  assert.equal(await unreadBadge(nurse, a), null, 'the selected chat A has no unread badge');

  // A message in the selected chat does not count as unread.
  await anna.send('U4 in the chat the nurse is looking at');
  await nurse.waitForMessage(a, 'U4 in the chat the nurse is looking at', 'client');
  assert.equal(await unreadBadge(nurse, a), null, 'a message in the selected chat is not unread');
  assert.equal(await unreadBadge(nurse, b), '3', "chat B's count is unchanged");

  // Selecting B clears its count; a new message there while it is selected stays read.
  await nurse.select(b);
  await until(() => unreadBadge(nurse, b), (t) => t === null, "chat B's badge is gone once selected");
  await ben.send('U5 while you are looking');
  await nurse.waitForMessage(b, 'U5 while you are looking', 'client');
  assert.equal(await unreadBadge(nurse, b), null, 'a message in the selected chat B is not unread');

  // Now A is in the background: it counts from zero.
  await anna.send('U6 back to you');
  await until(() => unreadBadge(nurse, a), (t) => t === '1', "chat A's unread badge shows 1");
  // The nurse's own messages never count as unread.
  await nurse.send(b, 'U7 a reply from the nurse');
  assert.equal(await unreadBadge(nurse, b), null);
  await nurse.select(a);
  await until(() => unreadBadge(nurse, a), (t) => t === null, "chat A's badge is gone once selected");
});

// ------------------------------------------------------------------ 3. internal notes

uiTest('an internal note is shown as a note, looks different from a message and never reaches the patient', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conv } = await chatWith(h, nurse, 'patient');
  await patient.send('N1 I have had a fever for two days');
  await nurse.waitForMessage(conv, 'N1 I have had a fever for two days', 'client');
  await nurse.send(conv, 'N2 how high is the fever?');

  const pane = nurse.pane(conv);
  await pane.getByTestId('mode-note').check();
  await nurse.composer(conv).fill('N3 NOTE: consider a strep test');
  await pane.getByTestId('send').click();
  const note = nurse.messages(conv).filter({ hasText: 'N3 NOTE: consider a strep test' });
  await note.first().waitFor({ state: 'visible' });
  await until(() => note.first().getAttribute('data-seq'), (s) => /^\d+$/.test(s || ''), 'the note is stored (data-seq)');
  assert.equal(await note.count(), 1, 'the note shows once');
  assert.equal(await note.getAttribute('data-kind'), 'note', 'the row is a note (data-kind=note)');
  assert.equal(await nurse.composer(conv).inputValue(), '', 'the composer is empty after sending the note');
  assert.match(squash(await note.textContent()), /internal note/i, 'the note says it is internal');

  // Visually distinct from the nurse's own message.
  const message = nurse.messages(conv).filter({ hasText: 'N2 how high is the fever?' });
  assert.equal(await message.getAttribute('data-kind'), 'message');
  const look = (loc) =>
    loc.evaluate((el) => {
      const s = getComputedStyle(el);
      return { bg: s.backgroundColor, border: `${s.borderTopStyle} ${s.borderTopColor}` };
    });
  const noteLook = await look(note);
  const messageLook = await look(message);
  assert.notEqual(noteLook.bg, messageLook.bg, 'a note has a different background from a message');
  assert.notEqual(noteLook.border, messageLook.border, 'a note has a different border from a message');

  // The patient never sees it: a message sent after the note arrives, the note does not. The
  // composer stays in note mode until the nurse switches back to replying.
  assert.equal(await pane.getByTestId('mode-note').isChecked(), true, 'still in note mode after the note');
  await pane.getByTestId('mode-reply').check();
  await nurse.send(conv, 'N4 please measure it again tonight');
  await patient.waitForProfessionalMessage('N4 please measure it again tonight');
  await patient.waitForProfessionalMessage('N2 how high is the fever?');
  assert.doesNotMatch(await patient.page.locator('body').innerText(), /strep|N3 NOTE/, 'the note is nowhere on the patient page');
  const noteSeq = Number(await note.getAttribute('data-seq'));
  const widgetRows = await patient.messageRows();
  assert.ok(!widgetRows.some((r) => r.seq === noteSeq), "the note's seq is not in the widget");

  // The chat goes on normally after the note.
  await patient.send('N5 it is 38.5');
  await nurse.waitForMessage(conv, 'N5 it is 38.5', 'client');
});

// ------------------------------------------------------------------ 4. transfer

uiTest('transfer to a colleague and then to a team: the chat moves with its history, the patient goes on', async (h) => {
  const nurse1 = await h.professional('nurse-1');
  const { patient, conv } = await chatWith(h, nurse1, 'patient', { description: 'Fever and cough' });
  // Colleagues come on duty after the chat is nurse-1's.
  const nurse2 = await h.professional('nurse-2');
  const nurse3 = await h.professional('nurse-3');

  await patient.send('T1 I have a fever and a cough');
  await nurse1.waitForMessage(conv, 'T1 I have a fever and a cough', 'client');
  await nurse1.send(conv, 'T2 since when?');
  await patient.waitForProfessionalMessage('T2 since when?');
  await nurse1.note(conv, 'T-NOTE1 asthma in the history');

  // nurse-1 → nurse-2 (a colleague in the same team) with a note.
  const pane1 = nurse1.pane(conv);
  await pane1.getByTestId('transfer').click();
  await pane1.getByTestId('transfer-professional').selectOption('nurse-2');
  assert.equal(await pane1.getByTestId('transfer-team').inputValue(), 'station-a', "the team follows the colleague's team");
  await pane1.getByTestId('transfer-note').fill('T-NOTE2 please follow up on the fever');
  await pane1.getByTestId('transfer-confirm').click();

  await nurse2.waitForChat(conv);
  await nurse2.select(conv);
  // The chat is no longer nurse-1's: nothing can be written to it and it no longer counts.
  await until(() => nurse1.composer(conv).isDisabled(), (v) => v === true, "nurse-1's composer is disabled after the transfer");
  await until(() => held(nurse1), (n) => n === '0', 'nurse-1 holds no chats');
  assert.equal(await pane1.getByTestId('transfer').isVisible(), false, 'nurse-1 can no longer transfer it');
  assert.equal(await pane1.getByTestId('send').isDisabled(), true, 'nurse-1 can no longer send');
  assert.match(squash(await pane1.textContent()), /transferred to Nurse Two/i, 'nurse-1 is told where the chat went');

  // nurse-2 has it with its history, the internal note and the transfer note.
  await nurse2.waitForMessage(conv, 'T1 I have a fever and a cough', 'client');
  await nurse2.waitForMessage(conv, 'T2 since when?', 'professional');
  await nurse2.waitForMessage(conv, 'T-NOTE1 asthma in the history');
  await until(() => nurse2.paneText(conv), (t) => t.includes('T-NOTE2 please follow up on the fever'), "the transfer note in nurse-2's pane");
  assert.equal(
    await nurse2.messages(conv).filter({ hasText: 'T-NOTE1' }).getAttribute('data-kind'),
    'note',
    'the earlier internal note is still a note for nurse-2',
  );
  await until(() => held(nurse2), (n) => n === '1', 'nurse-2 holds the chat');
  assert.equal(await nurse2.composer(conv).isEditable(), true, 'nurse-2 can write');

  // The patient's chat continues, now with nurse-2.
  await patient.waitForChat();
  await patient.send('T3 since Monday');
  await nurse2.waitForMessage(conv, 'T3 since Monday', 'client');
  await nurse2.send(conv, 'T4 this is Nurse Two, I will continue');
  await patient.waitForProfessionalMessage('T4 this is Nurse Two, I will continue');
  assert.ok(!(await nurse1.paneText(conv)).includes('T3 since Monday'), "the patient's new message does not reach nurse-1");

  // nurse-2 → team station-b (manual routing): it waits in station-b's queue as transferred.
  const pane2 = nurse2.pane(conv);
  await pane2.getByTestId('transfer').click();
  await pane2.getByTestId('transfer-team').selectOption('station-b');
  assert.equal(await pane2.getByTestId('transfer-professional').inputValue(), '', 'anyone in the team');
  await pane2.getByTestId('transfer-note').fill('T-NOTE3 needs a doctor at station B');
  await pane2.getByTestId('transfer-confirm').click();
  await until(() => nurse2.composer(conv).isDisabled(), (v) => v === true, "nurse-2's composer is disabled after the transfer");

  const entry = nurse3.id('queue-station-b').locator(`[data-testid="queue-entry"][data-conversation="${conv}"]`);
  await entry.waitFor({ state: 'visible' });
  assert.match(squash(await entry.textContent()), /Transferred/, 'the queue entry says the chat was transferred');
  await entry.getByTestId('accept').click();
  await nurse3.waitForChat(conv);
  for (const text of ['T1 I have a fever', 'T2 since when?', 'T3 since Monday', 'T4 this is Nurse Two', 'T-NOTE1', 'T-NOTE2', 'T-NOTE3']) {
    await until(() => nurse3.paneText(conv), (t) => t.includes(text), `"${text}" in nurse-3's pane`);
  }
  await patient.waitForChat();
  await patient.send('T5 thank you');
  await nurse3.waitForMessage(conv, 'T5 thank you', 'client');
  await nurse3.send(conv, 'T6 I booked you a doctor for tomorrow');
  await patient.waitForProfessionalMessage('T6 I booked you a doctor for tomorrow');
  assert.ok(!(await nurse2.paneText(conv)).includes('T5 thank you'), "the patient's new message does not reach nurse-2");

  // Each message once, in order, in the patient's widget; no internal text.
  const rows = await patient.messageRows();
  const texts = rows.map((r) => r.text).join(' | ');
  const order = ['T1 ', 'T2 ', 'T3 ', 'T4 ', 'T5 ', 'T6 '].map((m) => rows.filter((r) => r.text.includes(m)));
  order.forEach((found, i) => assert.equal(found.length, 1, `T${i + 1} shows once in the widget: ${texts}`));
  const seqs = order.map((found) => found[0].seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');
  assert.doesNotMatch(await patient.page.locator('body').innerText(), /T-NOTE/, 'no internal or transfer note reaches the patient');
});

// ------------------------------------------------------------------ 5. close and reopen

uiTest('the nurse closes a chat with a summary and reopens it', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conv } = await chatWith(h, nurse, 'patient', { topic: 'medication', duration: 'No symptoms' });
  await patient.send('C1 please renew my prescription');
  await nurse.waitForMessage(conv, 'C1 please renew my prescription', 'client');
  await nurse.send(conv, 'C2 done');
  await patient.waitForProfessionalMessage('C2 done');

  await nurse.close(conv, 'C-SUMMARY prescription renewed');
  const pane = nurse.pane(conv);
  await pane.getByTestId('reopen').waitFor({ state: 'visible' });
  await until(() => nurse.paneText(conv), (t) => t.includes('C-SUMMARY prescription renewed'), 'the summary in the pane');
  const closedRow = nurse.messages(conv).filter({ hasText: 'C-SUMMARY' });
  assert.equal(await closedRow.getAttribute('data-kind'), 'system', 'the close shows as a system event');
  assert.equal(await nurse.composer(conv).isDisabled(), true, 'a closed chat is read-only');
  assert.equal(await pane.getByTestId('close').isVisible(), false, 'a closed chat cannot be closed again');
  await until(() => held(nurse), (n) => n === '0', 'a closed chat no longer counts as held');
  await patient.id('closed').waitFor({ state: 'visible' });
  assert.doesNotMatch(await patient.page.locator('body').innerText(), /C-SUMMARY/, 'the summary is internal');

  // Reopen: the chat is the nurse's again and both sides can write.
  await pane.getByTestId('reopen').click();
  await until(() => nurse.composer(conv).isEditable(), (v) => v === true, 'the composer is usable again after reopening');
  assert.equal(await pane.getByTestId('reopen').isVisible(), false, 'no reopen button on an open chat');
  assert.equal(await pane.getByTestId('close').isVisible(), true, 'the chat can be closed again');
  await until(() => held(nurse), (n) => n === '1', 'the reopened chat counts as held');
  await until(() => nurse.paneText(conv), (t) => /Reopened by/.test(t), 'the reopen shows in the pane');
  assert.deepEqual(await nurse.openConversations(), [conv], 'the same chat, not a new tab');

  await nurse.send(conv, 'C3 one more thing: take it with food');
  await patient.waitForProfessionalMessage('C3 one more thing: take it with food');
  await patient.waitForChat();
  await patient.send('C4 ok, thanks');
  await nurse.waitForMessage(conv, 'C4 ok, thanks', 'client');
  const rows = await paneRows(nurse, conv);
  const seqs = rows.map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'the pane stays in seq order');
  assert.equal(new Set(seqs).size, seqs.length, 'no row twice');
});

// ------------------------------------------------------------------ 6. older history on scroll

const LONG = 110; // more than two console history pages (50 events each)

uiTest('older history loads when the nurse scrolls to the top: each message once, in order', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conv } = await chatWith(h, nurse, 'patient');
  for (let i = 1; i <= LONG; i++) {
    await patient.send(`H${String(i).padStart(3, '0')} line ${i}`);
  }
  const last = `H${LONG} line ${LONG}`;
  await nurse.waitForMessage(conv, last, 'client');

  // The nurse reloads the console: it shows only the newest page of the long chat.
  await nurse.page.reload();
  await nurse.waitForChat(conv);
  await nurse.select(conv);
  await nurse.waitForMessage(conv, last, 'client');
  const firstPage = await numbered(nurse, conv);
  assert.ok(firstPage.length < LONG, `the first history page does not hold all ${LONG} messages (has ${firstPage.length})`);
  assert.equal(firstPage[firstPage.length - 1], LONG, 'the newest message is in the first page');
  assert.ok(!firstPage.includes(1), 'the oldest message is not loaded yet');

  // Scroll up (mouse wheel over the messages) until the beginning of the chat is there.
  await nurse.messages(conv).filter({ hasText: last }).hover();
  await until(
    async () => {
      await nurse.page.mouse.wheel(0, -5000);
      return numbered(nurse, conv);
    },
    (nums) => nums.includes(1),
    'the oldest message after scrolling to the top',
    20_000,
  );
  const all = await until(
    () => numbered(nurse, conv),
    (nums) => nums.length >= LONG,
    `all ${LONG} messages in the pane`,
  );
  assert.deepEqual(all, Array.from({ length: LONG }, (_, i) => i + 1), 'every message once, in order');
  const rows = await paneRows(nurse, conv);
  const seqs = rows.map((r) => r.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'every event from seq 1, once, in order');

  // The chat still works at the bottom.
  await patient.send('H-after the long chat');
  await nurse.waitForMessage(conv, 'H-after the long chat', 'client');
}, { timeout: 180_000 });

// ------------------------------------------------------------------ 7. identification inside the chat

uiTest('the patient identifies inside the chat and the console shows them as identified by name', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conv } = await chatWith(h, nurse, 'patient');
  const pane = nurse.pane(conv);
  assert.equal(squash(await pane.getByTestId('identity').textContent()), 'anonymous', 'anonymous at first');
  await patient.send('I1 hello, anonymous still');
  await nurse.waitForMessage(conv, 'I1 hello, anonymous still', 'client');

  await identify(patient, 'Maija Meikäläinen');
  await until(
    async () => squash(await patient.panel.innerText()),
    (t) => t.includes('Identified: Maija Meikäläinen'),
    'the widget says the patient is identified',
  );

  // The conversation goes on after the identification.
  await patient.waitForChat();
  await patient.send('I2 now identified');
  await nurse.waitForMessage(conv, 'I2 now identified', 'client');
  await nurse.send(conv, 'I3 thank you');
  await patient.waitForProfessionalMessage('I3 thank you');

  // What the nurse must see: this patient is identified, and who they are.
  await until(
    async () => squash(await pane.getByTestId('identity').textContent()),
    (t) => t === 'identified',
    "the console's identity shows identified",
  );
  await until(
    async () => squash(await pane.getByTestId('client-name').textContent()),
    (t) => t.includes('Maija Meikäläinen'),
    "the console's client-name shows the patient's name",
  );
  assert.match(squash(await nurse.tab(conv).textContent()), /Maija Meikäläinen/, 'the tab shows the name too');
});

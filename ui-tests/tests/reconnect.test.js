// Requirement: when the server node restarts, the widget and the console reconnect by
// themselves and resume without losing or duplicating a message, and the console shows
// clearly while it is offline. The pages stay open through the restart (no reload): a message
// written while the server is away shows as "sending", goes out once the connection is back,
// and ends up exactly once, in seq order, on both sides.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { consoleRows, widgetRows, withText, assertSeqOrdered } from '../lib/rows.js';

const DOWN_MS = 1500;

uiTest('after a server restart the widget and the console reconnect and resume, each message once', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });

  const { patient: pat, conversation: conv } = await h.patientInChat(nurse, 'patient', { topic: 'symptoms', duration: '1-3 days', description: 'Cough for two days' });

  // A short chat before the restart.
  await pat.send('M1 I have had a cough since Monday');
  await nurse.waitForMessage(conv, 'M1 I have had a cough since Monday', 'client');
  await nurse.send(conv, 'M2 Do you have a fever?');
  await pat.waitForProfessionalMessage('M2 Do you have a fever?');
  await pat.send('M3 yes, 38.2 this morning');
  await nurse.waitForMessage(conv, 'M3 yes, 38.2 this morning', 'client');
  await nurse.send(conv, 'M4 Any trouble breathing?');
  await pat.waitForProfessionalMessage('M4 Any trouble breathing?');
  // The last message before the restart is the patient's own, acknowledged one.
  await pat.send('M5 a little when climbing stairs');
  await nurse.waitForMessage(conv, 'M5 a little when climbing stairs', 'client');

  const offline = nurse.id('offline');
  const connection = pat.id('connection');
  assert.equal(await offline.isVisible(), false, 'no offline banner while connected');
  assert.doesNotMatch(squash(await connection.textContent()), /reconnecting/i, 'the widget does not say reconnecting while connected');

  // The node restarts with both pages left open.
  let serverBack = false;
  const restarted = h.server.restart({ downMs: DOWN_MS }).then(() => {
    serverBack = true;
  });

  // While it is away: the console says clearly that it is offline, the widget that it reconnects.
  await until(() => offline.isVisible(), (v) => v === true, 'the console shows the offline banner');
  assert.equal(await offline.getAttribute('role'), 'alert', 'the offline banner is an alert');
  assert.match(squash(await offline.textContent()), /offline/i, 'the banner says the console is offline');
  await until(
    async () => squash(await connection.textContent()),
    (t) => /reconnecting/i.test(t),
    'the widget shows "reconnecting" in its connection status',
  );
  assert.equal(await connection.isVisible(), true, 'the widget\'s connection status is visible while reconnecting');

  // Both write while the server is away: their messages wait, shown as "sending". (The two
  // pages are driven at the same time to stay well inside the down time.)
  const patOffline = pat.messages.filter({ hasText: 'M6 no, breathing is fine' });
  const nurseOffline = nurse.messages(conv).filter({ hasText: 'M7 Good. Drink plenty' });
  await Promise.all([
    (async () => {
      await pat.id('composer').fill('M6 no, breathing is fine (written offline)');
      await pat.id('send').click();
      await patOffline.first().waitFor({ state: 'visible' });
    })(),
    (async () => {
      await nurse.select(conv);
      await nurse.composer(conv).fill('M7 Good. Drink plenty (written offline)');
      await nurse.pane(conv).getByTestId('send').click();
      await nurseOffline.first().waitFor({ state: 'visible' });
    })(),
  ]);
  const [patState, nurseState, patCount, patDraft] = await Promise.all([
    patOffline.first().getAttribute('data-state'),
    nurseOffline.first().getAttribute('data-state'),
    patOffline.count(),
    pat.id('composer').inputValue(),
  ]);
  // Read after the states: both sides were still offline when the states were read.
  const stillOffline = (await offline.isVisible()) && /reconnecting/i.test(squash(await connection.textContent()));
  assert.ok(stillOffline, `both pages were still offline while writing (server back already: ${serverBack}; downMs ${DOWN_MS} too short?)`);
  assert.equal(patState, 'sending', 'the widget shows the offline message as sending');
  assert.equal(nurseState, 'sending', 'the console shows the offline message as sending');
  assert.equal(patCount, 1, 'the offline message shows once in the widget');
  assert.equal(patDraft, '', 'the composer is emptied: the message is kept by the widget');

  await restarted;

  // Back: both reconnect by themselves; the banner and the reconnecting text go away.
  await until(() => offline.isVisible(), (v) => v === false, 'the offline banner disappears after the restart');
  await until(
    async () => squash(await connection.textContent()),
    (t) => !/reconnecting/i.test(t),
    'the widget no longer shows "reconnecting"',
  );

  // The waiting messages go out once, by themselves, and reach the other side.
  await pat.waitForOwnMessage('M6 no, breathing is fine (written offline)');
  await nurse.waitForMessage(conv, 'M6 no, breathing is fine (written offline)', 'client');
  await until(
    () => nurseOffline.first().getAttribute('data-state'),
    (s) => s === 'sent' || s === 'read',
    'the console\'s offline message becomes sent',
  );
  await nurse.waitForMessage(conv, 'M7 Good. Drink plenty (written offline)', 'professional');
  await pat.waitForProfessionalMessage('M7 Good. Drink plenty (written offline)');

  // The chat goes on both ways after the restart.
  await pat.send('M8 thank you, after the restart');
  await nurse.waitForMessage(conv, 'M8 thank you, after the restart', 'client');
  await nurse.send(conv, 'M9 You are welcome, after the restart');
  await pat.waitForProfessionalMessage('M9 You are welcome, after the restart');

  assert.deepEqual(await nurse.openConversations(), [conv], 'the nurse still holds the chat, and only it');
  assert.equal(await nurse.composer(conv).isEditable(), true, 'the nurse can still write in the chat');
  assert.equal(await pat.id('composer').isEditable(), true, 'the patient can still write in the chat');

  // Every message exactly once, with the same seq, in seq order, on both sides.
  const wRows = await widgetRows(pat);
  const cRows = await consoleRows(nurse, conv);
  assertSeqOrdered(wRows, 'widget');
  assertSeqOrdered(cRows, 'console pane');
  const markers = ['M1 ', 'M2 ', 'M3 ', 'M4 ', 'M5 ', 'M6 ', 'M7 ', 'M8 ', 'M9 '];
  const seqOf = {};
  for (const m of markers) {
    const w = withText(wRows, m);
    const c = withText(cRows, m);
    assert.equal(w.length, 1, `${m.trim()} shows exactly once in the widget: ${JSON.stringify(w)}`);
    assert.equal(c.length, 1, `${m.trim()} shows exactly once in the console pane: ${JSON.stringify(c)}`);
    assert.equal(w[0].seq, c[0].seq, `${m.trim()} has the same seq in the widget and the console`);
    seqOf[m] = w[0].seq;
  }
  for (const m of ['M1 ', 'M3 ', 'M5 ', 'M6 ', 'M8 ']) {
    const [w] = withText(wRows, m);
    const [c] = withText(cRows, m);
    assert.equal(w.role, 'client', `${m.trim()} is the patient's in the widget`);
    assert.ok(w.state === 'sent' || w.state === 'read', `${m.trim()} is sent in the widget (state ${w.state})`);
    assert.equal(c.role, 'client', `${m.trim()} is the patient's in the console`);
  }
  for (const m of ['M2 ', 'M4 ', 'M7 ', 'M9 ']) {
    const [w] = withText(wRows, m);
    const [c] = withText(cRows, m);
    assert.equal(w.role, 'professional', `${m.trim()} is the professional's in the widget`);
    assert.equal(c.role, 'professional', `${m.trim()} is the professional's in the console`);
    assert.ok(c.state === 'sent' || c.state === 'read', `${m.trim()} is sent in the console (state ${c.state})`);
  }
  for (const [a, b] of [
    ['M1 ', 'M2 '], ['M2 ', 'M3 '], ['M3 ', 'M4 '], ['M4 ', 'M5 '], ['M5 ', 'M6 '], ['M5 ', 'M7 '], ['M6 ', 'M8 '], ['M7 ', 'M8 '], ['M8 ', 'M9 '],
  ]) {
    assert.ok(seqOf[a] < seqOf[b], `${a.trim()} (seq ${seqOf[a]}) comes before ${b.trim()} (seq ${seqOf[b]})`);
  }
  // The chat's messages are the same on both sides (the console may show more system rows,
  // e.g. with internal details, but no message is missing on either side).
  const msgSeqs = (rows) => rows.filter((r) => r.role === 'client' || r.role === 'professional').map((r) => r.seq);
  assert.deepEqual(msgSeqs(wRows), msgSeqs(cRows.filter((r) => r.kind === 'message')), 'the same messages, by seq, on both sides');
  const widgetSeqs = new Set(wRows.map((r) => r.seq));
  for (const r of cRows.filter((x) => x.kind === 'system')) {
    assert.ok(widgetSeqs.has(r.seq), `the widget also shows system event seq ${r.seq} (${r.text})`);
  }

  assert.equal(await offline.isVisible(), false, 'no offline banner at the end');
  const stored = await pat.storage();
  assert.equal(stored.conversation, conv, 'the widget is still in the same conversation');
  assert.deepEqual(stored.pending, [], 'nothing is left waiting to be sent');
  assert.ok(stored.last_seq >= seqOf['M9 '], `the widget remembers the last seq it has seen (${stored.last_seq})`);
});

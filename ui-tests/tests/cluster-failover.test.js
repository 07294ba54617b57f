// Requirement (issue 10): behind a real load balancer (HAProxy, round robin, no sticky
// sessions) in front of two nodes, the node the chat runs on is killed (kill -9 of the
// primary, which every session of the cluster runs on): the widget and the console reconnect
// through the balancer by themselves and resume, the nurse keeps the chat, and every message
// shows exactly once, with the same seq on both sides, in seq order.
import assert from 'node:assert/strict';
import { uiTest, until } from '../lib/harness.js';
import { consoleRows, widgetRows, withText, assertSeqOrdered } from '../lib/rows.js';

uiTest('behind HAProxy, the primary node is killed: widget and console reconnect through the balancer and resume, each message once', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const { patient: pat, conversation: conv } = await h.patientInChat(nurse, 'patient', { topic: 'symptoms', duration: '1-3 days', description: 'Sore throat' });

  await pat.send('M1 my throat hurts');
  await nurse.waitForMessage(conv, 'M1 my throat hurts', 'client');
  await nurse.send(conv, 'M2 Since when?');
  await pat.waitForProfessionalMessage('M2 Since when?');
  await pat.send('M3 since yesterday');
  await nurse.waitForMessage(conv, 'M3 since yesterday', 'client');

  h.server.kill(0);

  // Both notice and reconnect through the balancer, to the surviving node once it has taken
  // over (the lease runs out within 5 s); what they write meanwhile goes out once they are back.
  const offline = nurse.id('offline');
  await until(() => offline.isVisible(), (v) => v === true, 'the console shows that it is offline');
  await pat.send('M4 and a little fever');
  await nurse.send(conv, 'M5 How high is the fever?');
  await until(() => offline.isVisible(), (v) => v === false, 'the console is back online', 60_000);
  await pat.waitForOwnMessage('M4 and a little fever');
  await nurse.waitForMessage(conv, 'M4 and a little fever', 'client');
  await pat.waitForProfessionalMessage('M5 How high is the fever?');
  await pat.send('M6 38.0');
  await nurse.waitForMessage(conv, 'M6 38.0', 'client');

  assert.deepEqual(await nurse.openConversations(), [conv], 'the nurse still holds the chat, and only it');
  const wRows = await widgetRows(pat);
  const cRows = await consoleRows(nurse, conv);
  assertSeqOrdered(wRows, 'widget');
  assertSeqOrdered(cRows, 'console pane');
  for (const m of ['M1 ', 'M2 ', 'M3 ', 'M4 ', 'M5 ', 'M6 ']) {
    const w = withText(wRows, m);
    const c = withText(cRows, m);
    assert.equal(w.length, 1, `${m.trim()} shows exactly once in the widget: ${JSON.stringify(w)}`);
    assert.equal(c.length, 1, `${m.trim()} shows exactly once in the console: ${JSON.stringify(c)}`);
    assert.equal(w[0].seq, c[0].seq, `${m.trim()} has the same seq on both sides`);
  }
  const stored = await pat.storage();
  assert.deepEqual(stored.pending, [], 'nothing is left waiting to be sent');
}, { timeout: 150_000, cluster: 2 });

// A patient can give up (issue 9, item 3): "Leave the queue" while waiting and "End chat" in a
// chat in progress, each asked first. The server stores the `left` event and counts the
// abandoned wait; the nurse's queue no longer shows the patient; the widget says they left and
// offers a new chat, and a reload does not take them back into the chat they left.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { metricValue } from '../lib/server.js';
import { focusedTestId } from '../lib/widget.js';
import { Socket } from '../lib/socket.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

const abandoned = (text) => metricValue(text, 'luukku_queue_abandoned_total', { team: 'station-a' });

/** The conversation's stored events, read back by resuming it from the start. */
async function storedEvents(h, conversation, resumeToken, wantEvent) {
  const socket = await Socket.replay(h, conversation, resumeToken);
  await socket.waitFor((f) => f.type === 'system' && f.event === wantEvent, `system ${wantEvent}`);
  const frames = await socket.frames();
  await socket.close();
  return frames.filter((f) => f.type === 'message' || f.type === 'system');
}

async function axeClean(page, where) {
  const violations = await axeViolations(page);
  assert.deepEqual(seriousOrCritical(violations).map((v) => v.id), [], formatViolations(where, violations));
}

uiTest('leaving the queue: asked first, stored, gone from the nurse\'s queue, and a reload starts afresh', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'away' });
  const patient = await h.patient('patient');
  await patient.start({ topic: 'symptoms', duration: '1-3 days' });
  await patient.waitForQueuePosition(1);
  const { conversation: conv, resume_token: resumeToken } = await patient.storage();
  const entry = nurse.page.locator(`[data-testid="queue-station-a"] [data-testid="queue-entry"][data-conversation="${conv}"]`);
  await entry.waitFor({ state: 'visible' });
  const abandonedBefore = abandoned(await h.metrics());

  // The patient changes their mind halfway: nothing is sent, they keep their place.
  await patient.id('leave').click();
  const dialog = patient.id('leave-dialog');
  await dialog.waitFor({ state: 'visible' });
  assert.match(squash(await dialog.innerText()), /leave the queue\? you will lose your place/i);
  await axeClean(patient.page, 'widget (queued, the leave question open)');
  await patient.id('leave-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await focusedTestId(patient.page), 'leave', 'focus back on the button that asked');
  await patient.waitForQueuePosition(1);
  assert.ok(await entry.isVisible(), 'still in the nurse\'s queue');

  // Escape also steps back from the question.
  await patient.id('leave').press('Enter');
  await dialog.waitFor({ state: 'visible' });
  await patient.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.ok(await patient.panel.isVisible(), 'Escape closed the question, not the panel');

  // Now for real.
  await patient.id('leave').click();
  await patient.id('leave-confirm').click();
  const left = patient.id('left');
  await left.waitFor({ state: 'visible' });
  assert.match(squash(await left.innerText()), /you left the queue.*start a new chat/i);
  assert.equal(await patient.id('queue-status').isVisible(), false, 'no queue view after leaving');
  assert.equal(await patient.id('composer').isVisible(), false, 'no composer after leaving');
  assert.match(await patient.messagesText(), /you left the queue/i);
  await axeClean(patient.page, 'widget (left the queue)');

  // The nurse's queue no longer shows the patient; the wait is counted as abandoned.
  await entry.waitFor({ state: 'detached' });
  await until(() => h.metrics(), (m) => abandoned(m) === abandonedBefore + 1, 'luukku_queue_abandoned_total{team="station-a"} +1');
  const events = await storedEvents(h, conv, resumeToken, 'left');
  const leftEvent = events.find((e) => e.event === 'left');
  assert.equal(typeof leftEvent.detail.waited_s, 'number', 'the left event says how long they waited');

  // A reload does not resume the chat the patient left: the start form is back.
  await patient.page.reload();
  await patient.open();
  await patient.id('start').waitFor({ state: 'visible' });
  const stored = await patient.storage();
  assert.ok(!stored || !stored.conversation, `nothing to resume: ${JSON.stringify(stored)}`);
  assert.equal(await patient.id('left').isVisible(), false);

  // And a new chat starts from here.
  await patient.start({ topic: 'medication', duration: 'No symptoms' });
  const next = await patient.conversation();
  assert.notEqual(next, conv, 'a new conversation');
  await patient.waitForQueuePosition(1);
});

uiTest('ending a chat in progress: asked first, the nurse is told, the widget offers a new chat', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const { patient, conversation: conv } = await h.patientInChat(nurse, 'patient');
  await patient.send('E1 Thanks, that was all');
  await nurse.waitForMessage(conv, 'E1 Thanks, that was all', 'client');
  const { resume_token: resumeToken } = await patient.storage();

  assert.equal(await patient.id('leave').isVisible(), false, 'no "leave the queue" in a chat');
  await patient.id('end-chat').click();
  assert.match(squash(await patient.id('leave-dialog').innerText()), /end the chat\?/i);
  await patient.id('leave-confirm').click();
  await patient.id('left').waitFor({ state: 'visible' });
  assert.match(squash(await patient.id('left').innerText()), /you ended the chat/i);
  assert.equal(await focusedTestId(patient.page), 'h3#lk-left-h', 'focus moves to what happened');
  assert.ok((await patient.messagesText()).includes('E1 Thanks, that was all'), 'the conversation stays in sight');

  const events = await storedEvents(h, conv, resumeToken, 'left');
  assert.equal(events.at(-1).event, 'left', 'the left event is the latest stored');
  assert.equal(events.at(-1).detail.waited_s, undefined, 'left from a chat, not from the queue');

  // The nurse's pane has the event (the console words it), and the patient can start anew.
  const leftSeq = events.at(-1).seq;
  await nurse.pane(conv).locator(`[data-testid="message"][data-kind="system"][data-seq="${leftSeq}"]`).waitFor({ state: 'attached' });
  await patient.id('start-again').click();
  await patient.id('start').waitFor({ state: 'visible' });
  assert.equal(await focusedTestId(patient.page), 'service', 'focus on the start form');
});

uiTest('a nurse joining while the patient is asked whether to leave the queue closes the question', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'away' });
  const patient = await h.patient('patient');
  await patient.start({ topic: 'symptoms', duration: '1-3 days' });
  await patient.waitForQueuePosition(1);
  await patient.id('leave').click();
  await patient.id('leave-dialog').waitFor({ state: 'visible' });

  // "Yes, leave the queue" must not turn into ending the chat the nurse has just opened.
  await nurse.setStatus({ availability: 'available' });
  await patient.waitForChat();
  await patient.id('leave-dialog').waitFor({ state: 'hidden' });
  await patient.id('end-chat').waitFor({ state: 'visible' });
  assert.equal(await patient.id('left').isVisible(), false);
});

// The patient's wait (issue 9, the widget's side): a waiting patient can already describe the
// matter (the nurse reads it on taking the chat); the queue view is honest (nobody available
// is said so, with no estimate; the estimate never shorter than the wait so far); a patient
// handed back or transferred sees the queue and their place again, and so does one who comes
// back to the page while waiting.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { Patient } from '../lib/widget.js';
import { Socket } from '../lib/socket.js';

const queueText = async (p) => squash(await p.id('queue-status').innerText());

uiTest('while waiting the patient writes, hears honestly that nobody is free, then sees place and estimate', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ capacity: 1, availability: 'away' });

  // Nobody available: the widget says so, and promises no minutes.
  const first = await h.patient('patient-1');
  await first.start({ topic: 'medication', duration: 'No symptoms' });
  await first.waitForQueuePosition(1);
  const unstaffed = first.id('queue-unstaffed');
  await unstaffed.waitFor({ state: 'visible' });
  assert.match(squash(await unstaffed.innerText()), /no one is available right now.*keep your place/i);
  assert.ok(!(await first.id('queue-wait').isVisible()), 'no estimate while nobody is available');
  assert.doesNotMatch(await queueText(first), /\bmin\b|minute/i, 'no minutes promised while nobody is available');

  // The composer is there while waiting, with a hint that the professional will read it.
  const composer = first.id('composer');
  await composer.waitFor({ state: 'visible' });
  assert.equal(await composer.isEditable(), true, 'the patient can write while waiting');
  const hint = squash(await first.panel.innerText());
  assert.match(hint, /professional sees your messages on joining/i, 'the hint says the professional will read it');
  assert.doesNotMatch(hint, /write as soon as a professional joins/i);
  await first.send('W1 My blood pressure medicine runs out on Friday');
  await first.send('W2 It is amlodipine 5 mg');

  const second = await h.patient('patient-2');
  await second.start({ topic: 'symptoms', duration: 'Less than a day' });
  await second.waitForQueuePosition(2);
  await second.id('queue-unstaffed').waitFor({ state: 'visible' });

  // The nurse becomes available (capacity 1) and takes the first; the messages written while
  // waiting are in the chat, in order, as the patient's.
  await nurse.setStatus({ availability: 'available' });
  const c1 = await first.conversation();
  await nurse.waitForChat(c1);
  await nurse.waitForMessage(c1, 'W1 My blood pressure medicine runs out on Friday', 'client');
  await nurse.waitForMessage(c1, 'W2 It is amlodipine 5 mg', 'client');
  const pane = await nurse.paneText(c1);
  assert.ok(pane.indexOf('W1 ') < pane.indexOf('W2 '), 'in the order written');
  await first.waitForChat();
  assert.equal(await first.id('queue-status').isVisible(), false, 'no queue view once in the chat');
  assert.equal(
    await first.messages.filter({ hasText: 'W1 My blood pressure' }).count(),
    1,
    'the message written while waiting shows once',
  );

  // The second is now first in line, someone is on duty (busy): place and an estimate.
  await second.waitForQueuePosition(1);
  await second.id('queue-wait').waitFor({ state: 'visible' });
  assert.equal(await second.id('queue-unstaffed').isVisible(), false, 'no "nobody available" once someone is on duty');
  assert.match(squash(await second.id('queue-wait').innerText()), /^(about \d+ min|under a minute)$/);
  assert.equal(await second.id('queue-status').getAttribute('role'), 'status', 'queue changes are announced');
});

uiTest('the estimate never promises less than the patient has already waited', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ capacity: 1, availability: 'available' });
  await h.patientInChat(nurse, 'patient-1'); // the nurse's only place is taken

  // The second patient's page runs on a clock the test can move (installed before the page).
  const page = await h.newPage('patient-2');
  await page.clock.install();
  await page.goto(h.url + '/');
  const second = new Patient(page, 'patient-2');
  await second.start({ topic: 'symptoms', duration: '1-3 days' });
  await second.waitForQueuePosition(1);
  const before = squash(await second.id('queue-wait').innerText());
  const minutes = (s) => (/under a minute/.test(s) ? 0 : Number((/(\d+) min/.exec(s) || [])[1]));
  assert.ok(minutes(before) < 6, `a fresh estimate: ${before}`);

  // Six minutes pass with the nurse busy and no new word from the server.
  await page.clock.fastForward('06:00');
  const waited = await until(
    async () => squash(await second.id('queue-waited').innerText()),
    (s) => /waited [67] minutes/.test(s),
    'the wait so far counts on',
  );
  const after = squash(await second.id('queue-wait').innerText());
  assert.ok(minutes(after) >= 6, `after 6 minutes of waiting the estimate is not shorter (${waited}; estimate ${after})`);
});

uiTest('handed back or transferred, the patient sees the queue and their place again; a returning patient at once', async (h) => {
  // nurse-1 works through a bare console socket (hand-back is what the console offers on logout).
  const nurse = await Socket.professional(h, 'nurse-1');
  await nurse.request({ type: 'status', availability: 'available', capacity: 1 });

  const patient = await h.patient('patient');
  await patient.start({ topic: 'symptoms', duration: '1-3 days' });
  const conv = await patient.conversation();
  await nurse.waitFor((f) => f.type === 'assigned' && f.conversation === conv, 'assigned');
  await patient.waitForChat();
  assert.equal(await patient.id('queue-status').isVisible(), false);

  // Handed back: the patient is told, and sees the queue with their place.
  await nurse.request({ type: 'status', availability: 'away' });
  await nurse.request({ type: 'release', conversation: conv });
  await patient.id('queue-status').waitFor({ state: 'visible' });
  await patient.waitForQueuePosition(1);
  assert.match(await patient.messagesText(), /handed back to the queue/i);
  await patient.id('queue-unstaffed').waitFor({ state: 'visible' }); // nurse-1 is away, nobody else
  assert.equal(await patient.id('composer').isEditable(), true, 'still able to write while waiting again');

  // Back with a nurse (in the console page this time), then transferred to station B (manual):
  // the queue view again, with the place in the new queue.
  const nurse2 = await h.professional('nurse-2');
  await nurse2.setStatus({ availability: 'available' });
  await nurse2.waitForChat(conv);
  await patient.waitForChat();
  await nurse2.select(conv);
  const pane = nurse2.pane(conv);
  await pane.getByTestId('transfer').click();
  await pane.getByTestId('transfer-team').selectOption('station-b');
  await pane.getByTestId('transfer-confirm').click();
  await patient.id('queue-status').waitFor({ state: 'visible' });
  await patient.waitForQueuePosition(1);
  assert.match(await patient.messagesText(), /transferred/i);

  // Leaving the page and coming back while waiting: the place in station B's queue at once.
  await patient.page.goto('about:blank');
  await patient.page.goto(h.url + '/');
  await patient.open();
  await patient.id('queue-status').waitFor({ state: 'visible' });
  await patient.waitForQueuePosition(1);
});

uiTest('a patient away from the page while the queue moves sees the new place at once on return', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ capacity: 1, availability: 'away' });
  const first = await h.patient('patient-1');
  await first.start({ topic: 'symptoms', duration: '1-3 days' });
  await first.waitForQueuePosition(1);
  const second = await h.patient('patient-2');
  await second.start({ topic: 'symptoms', duration: 'Over 3 days' });
  await second.waitForQueuePosition(2);

  // The second patient's page is gone (its connection closes) while the first is taken.
  await second.page.goto('about:blank');
  await nurse.setStatus({ availability: 'available' });
  await nurse.waitForChat(await first.conversation());

  // Back on the page: place 1 shows without any further change in the queue.
  await second.page.goto(h.url + '/');
  await second.open();
  await second.waitForQueuePosition(1);
  await second.id('queue-wait').waitFor({ state: 'visible' });
});

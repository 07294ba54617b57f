// Requirement 3: the queue position updates while waiting; closing (by the nurse, with a
// summary) shows the closing message and the rating; the patient's rating is stored, as the
// server's own /metrics counter shows.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { metricValue } from '../lib/server.js';

const CLOSING_MESSAGE =
  'Thank you for contacting us. This chat is now closed. If your symptoms get worse, call the health station on 09 123 4567 or, in an emergency, 112. Outside office hours call the medical helpline 116 117.';

const feedback = (text, rating) =>
  metricValue(text, 'luukku_feedback_total', { rating: String(rating), service: 'health-chat' });

uiTest('queue positions move, the nurse closes with a summary, the patient rates and the rating is stored', async (h) => {
  // The nurse is logged in but away (a professional is available from the moment they
  // connect, so they first step away and lower their capacity to one chat).
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ capacity: 1, availability: 'away' });

  // Nobody is available: three patients queue in order.
  const first = await h.patient('patient-1');
  await first.start({ topic: 'medication', duration: 'No symptoms' });
  await first.waitForQueuePosition(1);
  const second = await h.patient('patient-2');
  await second.start({ topic: 'symptoms', duration: 'Less than a day' });
  await second.waitForQueuePosition(2);
  const third = await h.patient('patient-3');
  await third.start({ topic: 'symptoms', duration: 'Over 3 days' });
  await third.waitForQueuePosition(3);
  assert.ok(await second.id('queue-status').isVisible(), 'queue-status is shown while waiting');
  // Nobody is available (the only nurse is away): the widget says so rather than an estimate.
  assert.ok(await second.id('queue-unstaffed').isVisible(), 'queue-unstaffed says nobody is available');
  assert.equal(await second.id('queue-wait').isVisible(), false, 'no estimate while nobody is available');
  assert.equal(await second.id('queue-status').getAttribute('role'), 'status');

  // The nurse (capacity 1) becomes available and gets the first (station-a routes
  // automatically); the others move up.
  await nurse.setStatus({ availability: 'available' });
  const c1 = await first.conversation();
  await nurse.waitForChat(c1);
  await first.waitForChat();
  await second.waitForQueuePosition(1);
  await third.waitForQueuePosition(2);
  assert.deepEqual(await nurse.openConversations(), [c1], 'capacity 1: the nurse holds only the first chat');
  assert.equal(squash(await nurse.id('status-active').textContent()).match(/\d+/)?.[0], '1', 'status-active shows 1');

  await first.send('Q1 I need my prescription renewed');
  await nurse.waitForMessage(c1, 'Q1 I need my prescription renewed', 'client');
  await nurse.send(c1, 'Q2 Renewed, you can pick it up today');
  await first.waitForProfessionalMessage('Q2 Renewed, you can pick it up today');

  const metricsBefore = await h.metrics();
  const rated4Before = feedback(metricsBefore, 4);

  // The nurse closes with a summary; the patient sees the closing message and the rating.
  await nurse.close(c1, 'Prescription renewed, no further action.');
  await first.id('closed').waitFor({ state: 'visible' });
  assert.equal(squash(await first.id('closing-message').textContent()), CLOSING_MESSAGE);
  assert.ok(
    !(await first.page.locator('body').innerText()).includes('Prescription renewed, no further action'),
    "the nurse's summary is internal: never shown to the patient",
  );
  for (const n of [1, 2, 3, 4, 5]) await first.id(`rating-${n}`).waitFor({ state: 'visible' });

  // The freed place goes to the next patient in line; the third moves up.
  const c2 = await second.conversation();
  await nurse.waitForChat(c2);
  await second.waitForChat();
  await third.waitForQueuePosition(1);

  await first.id('rating-4').click();
  await first.id('rating-comment').fill('Quick and friendly, thank you.');
  await first.id('rating-submit').click();
  await first.id('rating-thanks').waitFor({ state: 'visible' });

  const after = await until(
    () => h.metrics(),
    (text) => feedback(text, 4) === rated4Before + 1,
    'luukku_feedback_total{rating="4",service="health-chat"} to go up by one',
  );
  for (const other of [1, 2, 3, 5]) {
    assert.equal(feedback(after, other), feedback(metricsBefore, other), `rating ${other} unchanged`);
  }
});

// Red flags (docs/ui.md): a patient answers that they have chest pain and difficulty
// breathing. The widget shows the emergency guidance (call 112) at once, as an alert that
// stays while the chat lasts; the nurses' queue lists the chat first, marked urgent, ahead of
// a patient who came earlier with calm answers.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

uiTest('alarming answers show the 112 guidance at once and put the chat first, marked urgent', async (h) => {
  const lead = await h.professional('nurse-2');
  await lead.setStatus({ availability: 'away' });
  const calm = await h.patient('calm');
  await calm.start({});
  const urgent = await h.patient('urgent');
  await urgent.open();
  await urgent.id('topic').selectOption('symptoms');
  await urgent.id('q-duration').selectOption('Less than a day');
  await urgent.id('q-chest_pain').selectOption('yes');
  await urgent.id('q-breathing').selectOption('yes');
  await urgent.id('start').click();
  const conversation = await urgent.conversation();

  const guidance = urgent.id('urgent');
  await guidance.waitFor({ state: 'visible' });
  assert.equal(await guidance.getAttribute('role'), 'alert');
  assert.match(squash(await guidance.textContent()), /Call the emergency number 112 now/);
  assert.equal(await calm.id('urgent').isVisible(), false, 'calm answers: no guidance');

  // The queue: the urgent chat first, marked, although it came second.
  await until(
    () => lead.page.getByTestId('queue-entry').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-conversation'))),
    (ids) => ids.length === 2 && ids[0] === conversation,
    'the urgent chat first in the queue',
  );
  const first = lead.page.getByTestId('queue-entry').first();
  assert.match(squash(await first.getByTestId('queue-urgent').textContent()), /Urgent/);
  // A reload keeps the guidance (it is what to do now).
  await urgent.page.reload();
  await urgent.open();
  await urgent.id('urgent').waitFor({ state: 'visible' });
});

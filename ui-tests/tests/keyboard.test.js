// Requirement 4: a patient uses the widget with the keyboard only (Tab, Enter, Space and the
// arrow keys through page.keyboard; no clicks, no fill): from the page body they open the
// widget, fill in the form, start, send, and after the nurse closes, rate.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { focusedElement, focusedTestId, tabTo } from '../lib/widget.js';
import { metricValue } from '../lib/server.js';

/** On a focused, closed <select>, ArrowDown until its value satisfies `ok`. */
async function arrowSelect(page, ok, what) {
  for (let i = 0; i < 12; i++) {
    const f = await focusedElement(page);
    if (ok(f.value)) return f.value;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`arrow keys never chose ${what}; value is ${(await focusedElement(page)).value}`);
}

uiTest('keyboard only: open, fill in, start, send and rate', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });

  const pat = await h.patient('patient');
  const { page } = pat;
  const kb = page.keyboard;
  // Start from the page body.
  await page.evaluate(() => {
    if (document.activeElement) document.activeElement.blur();
  });
  assert.equal(await focusedTestId(page), 'BODY');

  // Tab to the launcher and open it with Enter.
  await tabTo(page, 'launcher');
  assert.equal(await pat.id('launcher').getAttribute('aria-expanded'), 'false', 'launcher aria-expanded=false while closed');
  await kb.press('Enter');
  await pat.panel.waitFor({ state: 'visible' });
  assert.equal(await pat.id('launcher').getAttribute('aria-expanded'), 'true', 'launcher aria-expanded=true when open');

  // The form: the service is preselected; topic and the required question by arrow keys,
  // the free text typed.
  await tabTo(page, 'topic');
  const topic = await arrowSelect(page, (v) => v === 'medication', 'the topic "medication"');
  assert.equal(topic, 'medication');
  await tabTo(page, 'q-duration');
  await arrowSelect(page, (v) => Boolean(v), 'an answer to the required question');
  await tabTo(page, 'q-description');
  await kb.type('Typed with the keyboard only');
  await tabTo(page, 'start');
  await kb.press('Enter');

  const conv = await pat.conversation();
  await nurse.waitForChat(conv);
  await pat.waitForChat();

  // Send: into the composer, type, Tab to send, Enter.
  await tabTo(page, 'composer');
  await kb.type('K1 hello from the keyboard');
  await tabTo(page, 'send');
  await kb.press('Enter');
  await pat.waitForOwnMessage('K1 hello from the keyboard');
  await nurse.waitForMessage(conv, 'K1 hello from the keyboard', 'client');
  await nurse.send(conv, 'K2 hello, how can I help?');
  await pat.waitForProfessionalMessage('K2 hello, how can I help?');
  assert.ok((await nurse.pane(conv).getByTestId('questionnaire').innerText()).includes('Typed with the keyboard only'),
    'the typed questionnaire answer reached the console');

  const before = metricValue(await h.metrics(), 'luukku_feedback_total', { rating: '5', service: 'health-chat' });
  await nurse.close(conv, 'Handled.');
  await pat.id('closed').waitFor({ state: 'visible' });

  // Rate 5: radio inputs take the arrow keys, buttons (aria-pressed) Tab and Space.
  const reached = await tabTo(page, /^rating-[1-5]$/);
  const f = await focusedElement(page);
  if (f.type === 'radio') {
    for (let i = 0; i < 6 && (await focusedTestId(page)) !== 'rating-5'; i++) await kb.press('ArrowRight');
    assert.equal(await focusedTestId(page), 'rating-5', `arrow keys move from ${reached} to rating-5`);
    if (!(await focusedElement(page)).checked) await kb.press('Space');
    assert.ok((await focusedElement(page)).checked, 'rating-5 is checked');
  } else {
    await tabTo(page, 'rating-5');
    await kb.press('Space');
    await until(() => pat.id('rating-5').getAttribute('aria-pressed'), (v) => v === 'true', 'rating-5 aria-pressed=true');
  }
  await tabTo(page, 'rating-comment');
  await kb.type('Easy with a keyboard');
  await tabTo(page, 'rating-submit');
  await kb.press('Enter');
  await pat.id('rating-thanks').waitFor({ state: 'visible' });
  await until(
    () => h.metrics(),
    (t) => metricValue(t, 'luukku_feedback_total', { rating: '5', service: 'health-chat' }) === before + 1,
    'luukku_feedback_total{rating="5"} up by one',
  );
  assert.ok(squash(await pat.id('rating-thanks').textContent()).length > 0);
});

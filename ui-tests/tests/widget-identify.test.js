// A patient identifies strongly inside the chat (docs/ui.md, the widget's Identify) through a
// real OpenID Connect provider (test-oidc): Identify opens the provider in a pop-up, the
// patient signs in there, the pop-up closes itself and the same chat goes on identified — the
// widget says so and the nurse sees the patient's name. Bank codes below the organisation's
// level of assurance are refused in the widget, saying why, and the chat stays anonymous.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

uiTest('a patient identifies in a pop-up and the same chat goes on identified', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conversation } = await h.patientInChat(nurse, 'patient');
  const widget = patient.page;
  const [popup] = await Promise.all([widget.waitForEvent('popup'), widget.getByTestId('identify').click()]);
  await popup.getByRole('button', { name: 'Sign in as Maija Meikäläinen' }).click();
  await until(() => popup.isClosed(), (closed) => closed, 'the pop-up closes itself');
  await until(
    async () => squash(await widget.locator('.identity').textContent()),
    (t) => t.includes('Maija Meikäläinen'),
    'the widget shows the patient identified',
  );
  assert.equal(await widget.getByTestId('identify').isVisible(), false, 'no second identification');
  assert.equal(await patient.conversation(), conversation, 'the same chat');
  await until(
    async () => squash(await nurse.page.textContent('body')),
    (t) => t.includes('Maija Meikäläinen'),
    'the nurse sees who the patient is',
  );
  await patient.send('Now you know who I am.');
  await nurse.waitForMessage(conversation, 'Now you know who I am.', 'client');
}, { oidc: true, timeout: 120_000 });

uiTest('an identification method below the required level is refused in the chat, saying why', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient } = await h.patientInChat(nurse, 'patient');
  const widget = patient.page;
  // Matti's bank codes are loa2; the organisation asks for loa3.
  const [popup] = await Promise.all([widget.waitForEvent('popup'), widget.getByTestId('identify').click()]);
  await popup.getByRole('button', { name: 'Sign in as Matti Meikäläinen' }).click();
  await until(
    async () => squash(await widget.getByTestId('notice').textContent()),
    (t) => t.includes('not strong enough'),
    'the widget says the method is not strong enough',
  );
  assert.equal(await widget.getByTestId('identify').isVisible(), true, 'still anonymous: Identify is still offered');
  assert.equal(await widget.locator('.identity').isVisible(), false);
}, { oidc: true, timeout: 120_000 });

uiTest('a non-urgent message is sent after identifying first in a pop-up, before any chat', async (h) => {
  const p = await h.patient('patient');
  await p.open();
  await p.id('service').selectOption('nurse-message');
  // Anonymous: the form says why to identify, and there is nothing to send yet.
  await p.id('identify-needed').waitFor({ state: 'visible' });
  assert.equal(await p.id('start').isVisible(), false, 'no send button before identifying');
  const [popup] = await Promise.all([p.page.waitForEvent('popup'), p.id('identify-first').click()]);
  await popup.getByRole('button', { name: 'Sign in as Maija Meikäläinen' }).click();
  await until(() => popup.isClosed(), (closed) => closed, 'the pop-up closes itself');
  await p.id('start').waitFor({ state: 'visible' });
  assert.equal(await p.id('identify-needed').isVisible(), false, 'identified: the gate is gone');
  assert.ok(squash(await p.page.locator('.identity').textContent()).includes('Maija Meikäläinen'));
  const matter = 'Could my blood test results be sent to me?';
  await p.id('topic').selectOption({ index: 1 });
  await p.id('matter').fill(matter);
  await p.id('start').click();
  await p.waitForOwnMessage(matter);
  assert.ok(await p.conversation(), 'the matter was started, identified');
}, { oidc: true, timeout: 120_000 });

// The data-protection officer's access report in the console (docs/ui.md "Access report"):
// the officer sees who accessed what (here: what the nurse was shown when she took a chat),
// exports it and verifies the log's chain; a nurse has no such view.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

uiTest('the data-protection officer reads who accessed a chat, exports it and verifies the log', async (h) => {
  const nurse = await h.professional('nurse-1');
  await h.patientInChat(nurse, 'patient');
  assert.equal(await nurse.page.getByTestId('view-access').isVisible(), false, 'a nurse has no access report');

  const dpo = await h.professional('dpo-1');
  const page = dpo.page;
  await page.getByTestId('view-access').click();
  await page.getByTestId('access-report').waitFor({ state: 'visible' });
  // Nothing named: the report says what it needs, and reads nothing.
  await page.getByTestId('ar-search').click();
  await until(async () => squash(await page.getByTestId('ar-status').textContent()), (s) => s.includes('Give a client'), 'asks for whom');

  await page.getByTestId('ar-professional').fill('nurse-1');
  await page.getByTestId('ar-search').click();
  const rows = page.getByTestId('access-entry');
  await rows.first().waitFor({ state: 'visible' });
  const first = squash(await rows.first().textContent());
  assert.ok(first.includes('nurse-1') && first.includes('assignment') && first.includes('allowed'), first);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ar-export').click()]);
  assert.equal(download.suggestedFilename(), 'access-report.csv');

  await page.getByTestId('ar-verify').click();
  await until(async () => squash(await page.getByTestId('ar-chain').textContent()), (s) => s.includes('intact'), 'the chain verifies');
});

uiTest('a social worker reads a health station chat only by stating why, and the officer sees the reason', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conversation } = await h.patientInChat(nurse, 'patient');
  await patient.send('My mother cannot cope at home any more.');
  await nurse.waitForMessage(conversation, 'My mother cannot cope at home any more.', 'client');

  const social = await h.professional('social-1');
  const page = social.page;
  await page.getByTestId('view-inbox').click();
  await page.getByTestId('consult-conversation').fill(conversation);
  // No reason: the form does not send.
  await page.getByTestId('consult-open').click();
  assert.equal(await page.getByTestId('consult-reason').evaluate((el) => el.validity.valueMissing), true);
  const reason = 'home care assessment asked by the health station';
  await page.getByTestId('consult-reason').fill(reason);
  await page.getByTestId('consult-open').click();
  await until(
    async () => squash(await page.getByTestId('inbox-thread-messages').textContent()),
    (t) => t.includes('My mother cannot cope at home any more.'),
    'the thread shows the chat, read only',
  );

  const dpo = await h.professional('dpo-1');
  await dpo.page.getByTestId('view-access').click();
  await dpo.page.getByTestId('ar-professional').fill('social-1');
  await dpo.page.getByTestId('ar-search').click();
  await dpo.page.getByTestId('access-entry').first().waitFor({ state: 'visible' });
  const rows = (await dpo.page.getByTestId('access-entry').allTextContents()).map(squash);
  assert.ok(rows.some((r) => r.includes(`stated_reason: ${reason}`)), rows.join('\n'));
});

uiTest('the officer places a legal hold on a conversation, sees it in force and releases it', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { conversation } = await h.patientInChat(nurse, 'patient');
  const dpo = await h.professional('dpo-1');
  const page = dpo.page;
  await page.getByTestId('view-access').click();
  await page.getByTestId('lh-conversation').fill(conversation);
  // A hold needs its reason: the server's words are shown.
  await page.getByTestId('lh-place').click();
  await until(async () => squash(await page.getByTestId('lh-status').textContent()), (s) => s.includes('reason'), 'the reason is asked for');
  await page.getByTestId('lh-reason').fill('complaint 2026/17');
  await page.getByTestId('lh-place').click();
  await until(async () => squash(await page.getByTestId('lh-status').textContent()),
    (s) => s.includes('On hold') && s.includes('complaint 2026/17'), 'the hold is in force');
  await page.getByTestId('lh-release').click();
  await until(async () => squash(await page.getByTestId('lh-status').textContent()),
    (s) => s.includes('No hold in force (1 earlier)'), 'released, kept in the history');
  const unknown = 'no-such-conversation';
  await page.getByTestId('lh-conversation').fill(unknown);
  await page.getByTestId('lh-show').click();
  await until(async () => squash(await page.getByTestId('lh-status').textContent()), (s) => s.includes('no such conversation'), 'an unknown conversation is named');
});

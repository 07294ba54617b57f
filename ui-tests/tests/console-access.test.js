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

// The pages load: the demo page mounts the widget in an open shadow root, and the console's
// demo login list offers every demo professional. A failure here explains the others.
import assert from 'node:assert/strict';
import { uiTest } from '../lib/harness.js';

uiTest('the demo page mounts the widget and the console lists the demo professionals', async (h) => {
  const pat = await h.patient('patient');
  await pat.id('launcher').waitFor({ state: 'visible' });
  const host = await pat.page.evaluate(() => {
    const el = document.getElementById('luukku-widget-host');
    return el && { parent: el.parentElement.tagName, shadow: el.shadowRoot !== null };
  });
  assert.deepEqual(host, { parent: 'BODY', shadow: true }, '#luukku-widget-host on <body> with an open shadow root');
  await pat.open();
  assert.equal(await pat.panel.getAttribute('role'), 'dialog', 'the panel is a dialog');
  assert.ok(await pat.panel.getAttribute('aria-label'), 'the panel has an aria-label');

  const res = await fetch(h.url + '/api/v1/dev/professionals');
  const { professionals } = await res.json();
  const page = await h.newPage('console');
  await page.goto(h.url + '/console');
  await page.getByTestId('login').waitFor({ state: 'visible' });
  for (const p of professionals) {
    await page.getByTestId(`login-${p.id}`).waitFor({ state: 'visible' });
  }
  assert.equal(await page.getByTestId('login').locator('[data-testid^="login-"]').count(), professionals.length);
});

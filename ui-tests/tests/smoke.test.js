// The pages load: the demo page mounts the widget in an open shadow root, and the console's
// demo login list offers every demo professional. A failure here explains the others.
import assert from 'node:assert/strict';
import { uiTest } from '../lib/harness.js';
import { Patient } from '../lib/widget.js';

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

// The widget is one classic <script> on the region's other sites: it loads its ES modules from
// the Luukku server cross-origin (CORS *) and mounts there. The console's own modules are not
// offered cross-origin.
uiTest('the widget embedded on another origin loads its modules from the server and mounts', async (h) => {
  const server = new URL(h.url);
  const otherOrigin = `http://localhost:${server.port}`; // another origin: another host name
  assert.notEqual(otherOrigin, server.origin);
  const page = await h.newPage('patient-elsewhere');
  await page.context().grantPermissions(['local-network-access'], { origin: otherOrigin });
  await page.context().grantPermissions(['local-network-access'], { origin: h.url });
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Region site</title></head>
<body><h1>Another site of the region</h1>
<script src="${h.url}/widget.js" data-service="health-chat" data-server="${h.url}"></script></body></html>`;
  await page.route(`${otherOrigin}/embed.html`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
  const modules = [];
  page.on('response', (r) => { if (r.url().includes('/ui/')) modules.push(r.url()); });
  await page.goto(`${otherOrigin}/embed.html`);
  const pat = new Patient(page, 'patient-elsewhere');
  await pat.open();
  assert.equal(await pat.panel.getAttribute('role'), 'dialog', 'the panel opens on the other site');
  assert.ok(modules.some((u) => u.includes('/ui/shared/')), `the shared protocol client was loaded: ${modules.join(', ')}`);

  for (const path of ['/widget.js', '/ui/widget/main.js', '/ui/shared/client.js']) {
    const res = await fetch(h.url + path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type'), /^text\/javascript/, `${path} is JavaScript`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', `${path} loads cross-origin`);
  }
  const own = await fetch(h.url + '/ui/console/main.js');
  assert.equal(own.status, 200);
  assert.equal(own.headers.get('access-control-allow-origin'), null, 'the console modules are for the console only');
  assert.equal((await fetch(h.url + '/ui/../Cargo.toml')).status, 404);
});

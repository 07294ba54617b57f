// Signing in to the console with the organisation's account (docs/configuration.md, `[oidc]`)
// through a real OpenID Connect provider (test-oidc, the oidc-provider package): the login
// offers it, the provider's own page asks who signs in, the console opens as Anna — a nurse
// no configuration file lists, in the team her provider's group names — with no token left
// in the address bar; she answers a patient. When her console token has run out a reload keeps
// her signed in (renewed through the provider, no login page); the provider refusing sends her
// back to the login with the provider's words.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { Professional } from '../lib/console.js';

const signIn = async (h, page, name) => {
  await page.goto(h.url + '/console');
  await page.getByTestId('login-oidc').click();
  // The provider's page: one button per person (test-oidc's login).
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  await until(
    async () => squash(await page.getByTestId('me').textContent()),
    (t) => t.includes(name),
    `"me" shows ${name}`,
  );
};

uiTest('a nurse signs in with her organisation account and answers a patient; a reload after her token ran out keeps her in', async (h) => {
  const page = await h.newPage('anna');
  await page.goto(h.url + '/console');
  await page.getByTestId('login-oidc').waitFor({ state: 'visible' });
  assert.match(squash(await page.getByTestId('login-oidc').textContent()), /organisation/);
  await signIn(h, page, 'Anna Hoitaja');
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
  assert.ok(!page.url().includes('token'), page.url());

  const anna = new Professional(page, 'nurse-anna');
  const { patient, conversation } = await h.patientInChat(anna, 'patient');
  await anna.send(conversation, 'Hello, this is Anna from station A.');
  await patient.waitForProfessionalMessage('Hello, this is Anna from station A.');

  // Her console token lives 3 s here (and 5 s of leeway): after that a reload's hello is
  // refused, and the console renews it through the provider instead of asking her again.
  await page.waitForTimeout(9_000);
  await page.reload();
  await until(
    async () => squash(await page.getByTestId('me').textContent()),
    (t) => t.includes('Anna Hoitaja'),
    '"me" shows Anna after the reload',
  );
  assert.equal(await page.getByTestId('login-oidc').isVisible(), false, 'no login page');
  await anna.waitForChat(conversation);
  await anna.send(conversation, 'Still here.');
  await patient.waitForProfessionalMessage('Still here.');
}, { oidc: { tokenTtl: 3 }, timeout: 120_000 });

uiTest('someone with no team and no role at the organisation gets no console, told why', async (h) => {
  const page = await h.newPage('matti');
  await page.goto(h.url + '/console');
  await page.getByTestId('login-oidc').click();
  await page.getByRole('button', { name: 'Sign in as Matti Meikäläinen' }).click();
  await page.getByRole('heading', { name: 'Sign-in did not succeed' }).waitFor();
  assert.match(squash(await page.locator('main').textContent()), /no team of this organisation/);
  await page.getByRole('link', { name: 'Back to the console' }).click();
  await page.getByTestId('login-oidc').waitFor({ state: 'visible' });
}, { oidc: true });

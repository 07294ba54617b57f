// The console in Finnish, Swedish and English (issue 9, item 12, and the "1 new messages"
// wording): the browser's language by default, a switch that is remembered, and counts in the
// singular or plural as the number says.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

uiTest('the console speaks the browser\'s language, switches to Finnish and remembers it; counts agree', async (h) => {
  // A Swedish browser: the login page is in Swedish.
  const sv = await h.newPage('sv-browser', { locale: 'sv-FI' });
  await sv.goto(h.url + '/console');
  await sv.getByTestId('login').waitFor();
  assert.equal(await sv.getByTestId('login-lang').inputValue(), 'sv');
  assert.match(squash(await sv.getByTestId('login').textContent()), /Demoinloggning/);
  assert.equal(await sv.evaluate(() => document.documentElement.lang), 'sv');

  // An English nurse with two chats; B gets two messages, A one, while C is selected.
  const nurse = await h.professional('nurse-1');
  const a = await h.patientInChat(nurse, 'pa');
  const b = await h.patientInChat(nurse, 'pb');
  const c = await h.patientInChat(nurse, 'pc');
  await nurse.select(c.conversation);
  await a.patient.send('L1 one');
  await b.patient.send('L2 one');
  await b.patient.send('L3 two');
  const unreadLabel = (conv) => nurse.tab(conv).getByTestId('unread').getAttribute('aria-label');
  await until(() => unreadLabel(b.conversation), (l) => l === '2 unread messages', 'B: 2 unread messages');
  assert.equal(await unreadLabel(a.conversation), '1 unread message', 'A: "1 unread message", not "1 unread messages"');

  // Suomeksi: the page loads again in Finnish, still logged in, chats and counts kept.
  await nurse.id('lang').selectOption('fi');
  await nurse.page.waitForURL('**/console');
  await nurse.waitForChat(a.conversation);
  await until(async () => squash(await nurse.id('logout').textContent()), (s) => s === 'Kirjaudu ulos', 'the console is in Finnish');
  assert.equal(await nurse.page.evaluate(() => document.documentElement.lang), 'fi');
  assert.match(squash(await nurse.page.locator('label[for="availability"]').textContent()), /Tavoitettavuus/);
  assert.match(squash(await nurse.id('accept-next-station-a').textContent()), /Ota seuraava/);
  assert.match(squash(await nurse.pane(c.conversation).getByTestId('transfer').textContent()), /Siirrä/);
  assert.match(squash(await nurse.pane(c.conversation).getByTestId('send').textContent()), /Lähetä asiakkaalle/);
  await until(() => unreadLabel(a.conversation), (l) => l === '1 lukematon viesti', 'A: 1 lukematon viesti');
  assert.equal(await unreadLabel(b.conversation), '2 lukematonta viestiä');
  assert.match(await nurse.page.title(), /^\(3\) Luukku – ammattilaisnäkymä/);

  // Remembered on this device: a new login page in the same browser is Finnish too.
  const again = await nurse.page.context().newPage();
  await again.goto(h.url + '/console');
  await until(async () => squash(await again.getByTestId('logout').textContent()), (s) => s === 'Kirjaudu ulos', 'still Finnish');
  await again.close();
});

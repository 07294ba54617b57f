// Canned responses in the console (issue 9, item 9): "/code" in the composer or the picker
// inserts a quick reply in the patient's language with the placeholders filled in, editable
// and never sent by itself; a professional manages their own.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

/** A Swedish-speaking patient as a bare protocol client (the demo page is English). */
async function swedishPatient(h) {
  const page = await h.newPage('patient-sv');
  await page.goto(h.url + '/api/v1/services');
  const conv = await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws/client', 'luukku.v1.json');
    window.__got = [];
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', resume: [] }));
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      window.__got.push(f);
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'start', service: 'health-chat', topic: 'symptoms', lang: 'sv',
        questionnaire: { duration: '1-3 days' }, client_ref: crypto.randomUUID() }));
      if (f.type === 'queued') resolve(f.conversation);
      if (f.type === 'error') reject(new Error(`${f.code}: ${f.message}`));
    };
  }));
  const received = () => page.evaluate(() => window.__got.filter((f) => f.type === 'message').map((f) => f.body));
  return { conv, received };
}

uiTest('quick replies: /code and the picker insert in the patient\'s language, filled in and editable, never sent; own ones managed', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const patient = await swedishPatient(h);
  const conv = patient.conv;
  await nurse.waitForChat(conv);
  await nurse.select(conv);
  const composer = nurse.composer(conv);
  const professionalRows = () => nurse.messages(conv).and(nurse.page.locator('[data-role="professional"]')).count();

  // "/hel": the suggestion; Enter inserts it (in Swedish, filled in) and sends nothing.
  await composer.click();
  await composer.pressSequentially('/hel');
  const suggestions = nurse.pane(conv).getByTestId('canned-suggestions');
  await suggestions.waitFor({ state: 'visible' });
  assert.match(squash(await suggestions.textContent()), /\/hello/);
  await composer.press('Enter');
  const text = await composer.inputValue();
  assert.match(text, /^Hej, jag heter Nurse One och arbetar på .+\. Hur kan jag hjälpa dig\?$/, `Swedish, filled in: ${text}`);
  assert.doesNotMatch(text, /\{|\}|Anonymous/, 'no placeholder left, no made-up name for an anonymous patient');
  assert.equal(await suggestions.isVisible(), false);
  assert.equal(await professionalRows(), 0, 'inserting sent nothing');

  // Editable before sending; then Enter sends what the nurse made of it.
  await composer.press('End');
  await composer.pressSequentially(' 🙂');
  await composer.press('Enter');
  await until(() => patient.received(), (b) => b.some((x) => x.startsWith('Hej, jag heter Nurse One') && x.endsWith('🙂')), 'the patient got the edited reply');

  // The picker: search, click, inserted at the caret.
  await nurse.pane(conv).getByTestId('canned-open').click();
  const picker = nurse.id('canned-picker');
  await picker.waitFor({ state: 'visible' });
  await nurse.id('canned-search').fill('check');
  await picker.getByTestId('canned-item').first().click();
  await picker.waitFor({ state: 'hidden' });
  assert.match(await composer.inputValue(), /^Jag tar reda på saken/, 'the Swedish text of /check');
  assert.equal(await composer.evaluate((el) => el === document.activeElement), true, 'back in the composer');
  await composer.fill('');

  // Own quick replies: add one, it is offered, delete it.
  await nurse.pane(conv).getByTestId('canned-open').click();
  await picker.locator('summary').click();
  await nurse.id('canned-code').fill('labs');
  await nurse.id('canned-title').fill('Lab results not in yet');
  await nurse.id('canned-lang').selectOption('sv');
  await nurse.id('canned-body').fill('Hej {client_name}, dina provsvar är inte klara ännu.');
  await nurse.id('canned-save').click();
  await until(() => picker.locator('[data-testid="canned-delete"][data-code="labs"]').count(), (n) => n === 1, 'saved as my own');
  await picker.locator('#canned-close').click();
  await composer.pressSequentially('/lab');
  await composer.press('Tab');
  assert.equal(await composer.inputValue(), 'Hej, dina provsvar är inte klara ännu.');
  await nurse.pane(conv).getByTestId('canned-open').click();
  assert.equal(await picker.locator('details').evaluate((d) => d.open), true, 'my own replies are still unfolded');
  await picker.locator('[data-testid="canned-delete"][data-code="labs"]').click();
  await until(() => picker.locator('[data-testid="canned-delete"][data-code="labs"]').count(), (n) => n === 0, 'deleted');
  assert.equal(await professionalRows(), 1, 'only the one message the nurse sent herself');
});

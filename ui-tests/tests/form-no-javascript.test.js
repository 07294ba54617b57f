// A contact form works in a browser with JavaScript switched off: the server's own HTML page
// (GET /forms/{service}), posted as a plain form; a refused field comes back next to the field
// with what was typed kept, and the accepted form answers with the reference and the reply
// deadline. The submission lands in the team's inbox once.
import assert from 'node:assert/strict';
import { uiTest } from '../lib/harness.js';
import { Socket } from '../lib/socket.js';

uiTest('a contact form sent from a browser without JavaScript', async (h) => {
  const context = await h.browser.newContext({ javaScriptEnabled: false, locale: 'en-GB' });
  try {
    const page = await context.newPage();
    await page.goto(h.url + '/forms/contact-form?lang=en');
    assert.equal(await page.locator('script').count(), 0, 'the page needs no script');
    await page.locator('input[name="name"]').fill('Matti Meikäläinen');
    await page.locator('textarea[name="message"]').fill('Please call me about my housing benefit.');
    await page.locator('input[name="contact_phone"]').fill('12');
    const [refused] = await Promise.all([page.waitForNavigation(), page.locator('button[type="submit"]').click()]);
    assert.equal(refused.status(), 422, 'refused');
    const phone = page.locator('input[name="contact_phone"]');
    assert.equal(await phone.getAttribute('aria-invalid'), 'true', 'the phone field is marked');
    const why = await page.locator('#' + (await phone.getAttribute('aria-describedby'))).innerText();
    assert.ok(why.trim().length > 0, 'the problem is written next to the field');
    assert.equal(await page.locator('input[name="name"][aria-invalid="true"]').count(), 0, 'only the phone is wrong');
    assert.equal(await page.locator('input[name="name"]').inputValue(), 'Matti Meikäläinen', 'what was typed is kept');

    await page.locator('input[name="contact_phone"]').fill('040 123 4567');
    await Promise.all([page.waitForNavigation(), page.locator('button[type="submit"]').click()]);
    const text = await page.locator('body').innerText();
    const ref = text.match(/F-[0-9A-Z]{8}/);
    assert.ok(ref, `a reference number is shown: ${text}`);
    assert.match(text, /20\d\d|\d{1,2}\.\d{1,2}\.|[A-Z][a-z]+day/, `the reply deadline is shown: ${text}`);

    // In the social team's inbox, once.
    const social = await Socket.professional(h, 'social-1');
    const inbox = await social.request({ type: 'subscribe_inbox' });
    const forms = inbox.entries.filter((e) => e.channel === 'form');
    assert.equal(forms.length, 1, JSON.stringify(inbox));
    assert.equal(forms[0].status, 'queued');
  } finally {
    await context.close();
  }
});

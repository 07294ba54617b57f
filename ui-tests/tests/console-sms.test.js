// SMS chat (docs/ui.md "SMS chat"; the nurses' manual, seed 004), against the stand-in SMS
// provider (luukku-sms-standin, lib/sms.js) and a demo server with an `[sms]` section. The 004
// walk: a patient's non-urgent message left a mobile number; the nurse takes it (In progress),
// chooses "Send as SMS", sees the number masked and the length counted as the server counts it
// (a text over the limit is refused in the composer, naming the limit), sends, and watches the
// SMS go Queued → Message sent → Delivered (the phone got it once); a failed delivery says
// Failed with the gateway's reason; while the gateway answers 5xx the SMS stays Queued and
// leaving its pane or the page warns; the patient's SMS reply appears with the SMS mark; a
// landline is refused at the SMS choice with the server's words before anything is sent;
// closing the case takes the SMS away with its hint. New thread opens an SMS conversation
// with a mobile number (a landline refused at the number), where SMS is locked on. The
// widget offers no SMS service. The console's count and the server's (sms/text.rs) agree.
import assert from 'node:assert/strict';
import { readFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { uiTest, until, squash } from '../lib/harness.js';
import { matter } from '../lib/matters.js';
import { repoRoot } from '../lib/server.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

const SLOW_MS = 30_000; // the gateway's retries and delivery reports take their time
const text = async (loc) => squash(await loc.textContent());
const PATIENT = '+358401234567';

async function assertAxe(page, where) {
  const bad = seriousOrCritical(await axeViolations(page));
  assert.deepEqual(bad.map((v) => `${where}: ${v.id}`), [], formatViolations(where, bad));
}

/** The nurse takes a matter from the inbox: it opens as her chat, In progress. */
async function take(nurse, conversation) {
  if (!(await nurse.id('inbox').isVisible())) await nurse.id('view-inbox').click();
  const row = nurse.page.locator(`[data-testid="inbox-entry"][data-conversation="${conversation}"]`);
  await row.getByTestId('inbox-take').click();
  await nurse.waitForChat(conversation);
  await nurse.pane(conversation).waitFor({ state: 'visible' });
}

/** Records every SMS state each row of the page goes through (a MutationObserver in the page). */
async function recordStates(page) {
  await page.evaluate(() => {
    window.smsStates = {};
    const note = (row) => { // by the message's text
      const body = row.querySelector('.body')?.textContent || '';
      const list = (window.smsStates[body] = window.smsStates[body] || []);
      if (row.dataset.smsState && list[list.length - 1] !== row.dataset.smsState) list.push(row.dataset.smsState);
    };
    new MutationObserver((records) => {
      for (const r of records) {
        const rows = r.type === 'attributes' ? [r.target] : [...r.addedNodes].filter((n) => n.nodeType === 1);
        for (const row of rows) if (row.matches && row.matches('.msg[data-sms="out"]')) note(row);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-sms-state'] });
  });
}
const statesOf = (page, body) => page.evaluate((b) => window.smsStates[b] || [], body);

/** My message row with this text in the pane (the newest). */
const rowOf = (nurse, conversation, body) => nurse.messages(conversation).filter({ hasText: body }).last();
const smsState = (row) => row.getAttribute('data-sms-state');

uiTest('SMS chat: send as SMS, Queued → Message sent → Delivered, Failed with a reason, queued warnings, the reply, a landline refused', async (h) => {
  const m = await matter(h, 'patient', { name: 'Aino Aalto', topic: 'medication', text: 'My prescription ran out. Please call or text me.',
    contact: { phone: '040 123 4567' } });
  const landline = await matter(h, 'patient-landline', { name: 'Bertta Bäck', topic: 'lab-results', text: 'Are my results in?',
    contact: { phone: '09 123 4567' } });

  const nurse = await h.professional('nurse-1');
  const page = nurse.page;
  await recordStates(page);
  await take(nurse, m.conversation);
  const pane = nurse.pane(m.conversation);

  // The SMS choice next to the composer, off until chosen; the number masked as the server masks it.
  const toggle = pane.getByTestId('sms-toggle');
  await toggle.waitFor();
  assert.equal(await toggle.isChecked(), false, 'an SMS is the nurse\'s choice');
  assert.equal(await toggle.isEnabled(), true, 'In progress: SMS can be chosen');
  assert.equal(await pane.getByRole('checkbox', { name: 'Send as SMS', exact: true }).count(), 1, 'the choice named');
  assert.equal(await pane.getByTestId('sms-info').isVisible(), false);
  await toggle.check();
  assert.equal(await text(pane.getByTestId('sms-number')), 'To +358 40 *** **67');
  assert.equal(await text(pane.getByTestId('send')), 'Send SMS');
  assert.match(await text(pane.locator('.composer .to')), /^SMS to A Aino Aalto$/);

  // The counter as the server counts: GSM-7 (ä, ö, å in it), the € taking two; one character outside makes it Unicode.
  const composer = nurse.composer(m.conversation);
  const counter = pane.getByTestId('sms-counter');
  await composer.fill('Hei Aino! Resepti on uusittu, hae lääke apteekista. Hoitaja');
  assert.equal(await text(counter), '59 characters · 1 SMS');
  await composer.fill('Hinta 20 €');
  assert.equal(await text(counter), '11 characters · 1 SMS');
  await composer.fill(`Kiitos 🙂 ${'ш'.repeat(140)}`);
  assert.equal(await text(counter), '150 characters · 3 SMS (Unicode)');

  // Over the limit (6 SMS by default): said in the counter and refused at the composer, naming the limit; nothing sent.
  const tooLong = 'ш'.repeat(67 * 6 + 1);
  await composer.fill(tooLong);
  assert.match(await text(counter), /^403 characters · 7 SMS \(Unicode\) – too long: an SMS can be at most 6 SMS \(402 characters\)$/);
  await pane.getByTestId('send').click();
  assert.match(await text(pane.getByTestId('composer-error')), /^Not sent: too long: an SMS can be at most 6 SMS/);
  assert.equal(await composer.getAttribute('aria-invalid'), 'true');
  assert.equal(await composer.inputValue(), tooLong, 'the text stays in the composer');
  assert.equal(await nurse.messages(m.conversation).filter({ hasText: 'шшш' }).count(), 0, 'nothing was sent');

  // The SMS: the gateway's answer held a moment and the delivery report slow, so each state shows.
  await h.sms.faults({ api_hang_ms: 1500, report: 'slow', slow_ms: 1500 });
  const first = 'Hei Aino! Resepti on uusittu, hae lääke apteekista. Hoitaja';
  await composer.fill(first);
  assert.equal(await pane.getByTestId('composer-error').isVisible(), false, 'the error went with the edit');
  await pane.getByTestId('send').click();
  const row = rowOf(nurse, m.conversation, first);
  await until(() => smsState(row), (s) => s === 'queued', 'the SMS Queued once stored');
  assert.equal(await text(row.getByTestId('sms-state')), 'Queued – not sent yet');
  assert.equal(await row.getByTestId('sms-mark').getAttribute('title'), 'Text message (SMS) to +358 40 *** **67');
  await until(() => smsState(row), (s) => s === 'sent', 'the SMS sent ("message sent")', SLOW_MS);
  assert.equal(await text(row.getByTestId('sms-state')), 'Message sent');
  await until(() => smsState(row), (s) => s === 'delivered', 'the SMS delivered', SLOW_MS);
  assert.equal(await text(row.getByTestId('sms-state')), 'Delivered');
  assert.deepEqual(await statesOf(page, first), ['sending', 'queued', 'sent', 'delivered'], 'every state in order, live');
  assert.equal(await text(row.locator('.who')), 'You', 'the sender stays visible');
  assert.match(await text(row.locator('time')), /^\d\d:\d\d$/, 'and the time');
  assert.equal(await row.locator('.sys').count(), 0);
  assert.equal(await nurse.messages(m.conversation).and(page.locator('[data-kind="system"]')).filter({ hasText: /delivered|sent/i }).count(), 0,
    'the SMS events move the row on and are no lines of their own');
  const phone = (await h.sms.messages()).filter((x) => x.to === PATIENT);
  assert.deepEqual(phone.map((x) => x.text), [first], 'the phone got it once');

  // A failed delivery: Failed, with the gateway's reason.
  await h.sms.faults({ report: 'fail' });
  const second = 'Muistathan ottaa Kela-kortin mukaan.';
  await composer.fill(second);
  await pane.getByTestId('send').click();
  const failed = rowOf(nurse, m.conversation, second);
  await until(() => smsState(failed), (s) => s === 'failed', 'the SMS failed', SLOW_MS);
  assert.match(await text(failed.getByTestId('sms-state')), /^Failed: \S.+/, 'with the gateway\'s reason');
  assert.doesNotMatch(await text(failed.getByTestId('sms-state')), /no reason given/);

  // The patient answers by SMS: in the pane as the client's, with the SMS mark.
  await h.sms.faults({ report: 'deliver' });
  await h.sms.inbound(PATIENT, 'Kiitos! Haen lääkkeen huomenna.');
  const reply = nurse.messages(m.conversation).filter({ hasText: 'Haen lääkkeen huomenna' });
  await reply.waitFor({ timeout: SLOW_MS });
  assert.equal(await reply.getAttribute('data-role'), 'client');
  assert.equal(await reply.getAttribute('data-sms'), 'in');
  assert.equal(await reply.getByTestId('sms-mark').getAttribute('title'), 'Text message (SMS) from +358 40 *** **67');
  await nurse.id('inbox-alert').waitFor({ timeout: SLOW_MS }); // the team's "New messages" alert, as for any client message
  assert.match(await text(nurse.id('inbox-alert')), /New message in a non-urgent matter/);

  // The gateway fails (the first attempt and the server's next three retries, 2, 4 and 8 s apart,
  // answered 503/500): the SMS stays Queued; the tab says so, leaving the pane warns with a way back.
  await h.sms.faults({ api_5xx: 4 });
  const third = 'Soitan sinulle huomenna klo 9.';
  await composer.fill(third);
  await pane.getByTestId('send').click();
  const stuck = rowOf(nurse, m.conversation, third);
  await until(() => smsState(stuck), (s) => s === 'queued', 'the SMS queued');
  await page.waitForTimeout(3000); // the gateway keeps answering 503/500: nothing moves it on
  assert.equal(await smsState(stuck), 'queued', 'not sent while the gateway fails');
  assert.equal(await text(nurse.tab(m.conversation).getByTestId('tab-sms')), 'SMS queued');
  await assertAxe(page, 'the SMS pane');

  const shots = path.join(repoRoot, 'docs', 'screenshots');
  await mkdir(shots, { recursive: true });
  await composer.fill('Hei Aino, muistathan');
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const shot = path.join(shots, 'console-sms.png');
  await page.screenshot({ path: shot });
  assert.ok((await stat(shot)).size > 5_000, `${shot} is a real picture`);

  await nurse.id('view-inbox').click();
  const warning = nurse.page.locator(`[data-testid="sms-queued-warning"][data-conversation="${m.conversation}"]`);
  await warning.waitFor();
  assert.match(await text(warning), /^A · Aino Aalto: your SMS is still queued, not sent yet\. Go back and wait for “Message sent”\./);
  // Leaving the page asks first (the browser's own question).
  const asked = new Promise((resolve) => page.once('dialog', (d) => { resolve(d.type()); d.dismiss(); }));
  page.reload().catch(() => {}); // stays: the question is answered "stay"
  assert.equal(await asked, 'beforeunload', 'leaving the console with an SMS queued asks first');
  await warning.getByTestId('sms-queued-back').click();
  await pane.waitFor({ state: 'visible' });
  assert.equal(await warning.count(), 0, 'back in the pane: the warning goes');

  // A landline: refused at the SMS choice with the server's words; nothing reached the stand-in; the text kept.
  const before = (await h.sms.messages()).length;
  await take(nurse, landline.conversation);
  const lpane = nurse.pane(landline.conversation);
  await lpane.getByTestId('sms-toggle').check();
  assert.equal(await text(lpane.getByTestId('sms-number')), 'To +358 91 *** **67');
  const ltext = 'Tulokset ovat valmiit, soita meille.';
  await nurse.composer(landline.conversation).fill(ltext);
  await lpane.getByTestId('send').click();
  const phoneError = lpane.getByTestId('sms-error');
  await phoneError.waitFor();
  assert.match(await text(phoneError), /^SMS not sent – .*landline or service number, not a mobile number/);
  assert.equal(await lpane.getByTestId('sms-toggle').getAttribute('aria-invalid'), 'true');
  assert.match(await lpane.getByTestId('sms-toggle').getAttribute('aria-describedby'), /sms-error/);
  assert.equal(await nurse.composer(landline.conversation).inputValue(), ltext, 'nothing lost from the composer');
  assert.equal(await nurse.messages(landline.conversation).filter({ hasText: ltext }).count(), 0, 'no row: nothing was stored');
  assert.equal((await h.sms.messages()).length, before, 'the stand-in got nothing');
  assert.equal((await h.sms.messages()).filter((x) => x.to === '+35891234567').length, 0);

  // The queued SMS goes once the gateway answers again (the server's fifth attempt, ~30 s on).
  await until(() => smsState(stuck), (s) => s === 'sent' || s === 'delivered', 'the queued SMS sent after the gateway recovered', 90_000);

  // Complete: no SMS any more, with the hint.
  await nurse.close(m.conversation, 'Resepti uusittu, ohjeet tekstiviestillä.');
  await until(() => pane.getByTestId('sms-toggle').isDisabled(), (d) => d, 'the SMS choice off once complete');
  assert.equal(await text(pane.getByTestId('sms-hint')), 'Take the case (In progress) to send SMS');
}, { sms: true, timeout: 240_000 });

uiTest('SMS chat: New thread with a mobile number (a landline refused at the number); SMS locked on; no SMS service in the widget; the count as the server\'s', async (h) => {
  const nurse = await h.professional('nurse-1');
  const page = nurse.page;

  // The console counts as the server: the same GSM-7 tables as server/src/sms/text.rs.
  const rust = await readFile(path.join(repoRoot, 'server', 'src', 'sms', 'text.rs'), 'utf8');
  const basic = /const GSM7_BASIC: &str = "((?:[^"\\]|\\.)*)";/s.exec(rust)[1];
  const ext = /const GSM7_EXTENSION: &str = "((?:[^"\\]|\\.)*)";/s.exec(rust)[1];
  const unrust = (s) => s.replace(/\\\n\s*/g, '').replace(/\\u\{([0-9a-f]+)\}/gi, (_, x) => String.fromCodePoint(parseInt(x, 16)))
    .replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  const js = await page.evaluate(async () => {
    const sms = await import('/ui/console/sms.js');
    const l = (s) => sms.smsLength(s);
    return {
      basic: sms.GSM7_BASIC, ext: sms.GSM7_EXTENSION,
      cases: [l('a'.repeat(160)).segments, l('a'.repeat(161)).segments, l('ä'.repeat(306)).segments, l('ö'.repeat(307)).segments,
        l('€'.repeat(80)).segments, l('€'.repeat(81)).segments, l('[]{}~^\\|').units, l(`${'a'.repeat(69)}ł`).segments,
        l(`${'a'.repeat(70)}ł`).segments, l('ш'.repeat(134)).segments, l('ш'.repeat(135)).segments, l('Kiitos 🙂').units, l('').segments],
      mask: sms.maskNumber('+358401234567'),
    };
  });
  assert.equal(js.basic, unrust(basic), 'the GSM-7 alphabet as the server\'s');
  assert.equal(js.ext, unrust(ext), 'the extension table as the server\'s');
  assert.deepEqual(js.cases, [1, 2, 2, 3, 1, 2, 16, 1, 2, 2, 3, 9, 0], 'the server\'s own test cases');
  assert.equal(js.mask, '+358 40 *** **67');

  // New thread in the SMS service: a mobile number instead of the client's identifier.
  await nurse.id('view-inbox').click();
  await nurse.id('new-thread').click();
  const form = nurse.id('new-thread-form');
  await form.getByTestId('thread-service').selectOption('sms-chat');
  assert.equal(await form.getByTestId('thread-client').isVisible(), false);
  assert.equal(await form.getByTestId('thread-phone').isVisible(), true);
  assert.equal(await form.getByTestId('thread-close-after').isVisible(), false);
  await form.getByTestId('thread-body').fill('Hei! Tässä terveysaseman tekstiviestipalvelu. Voit vastata tähän viestiin.');
  assert.equal(await text(form.getByTestId('thread-sms-counter')), '74 characters · 1 SMS');

  // A landline: refused at the number with the server's words; nothing at the stand-in; nothing created.
  await form.getByTestId('thread-phone').fill('09 123 4567');
  await form.getByTestId('thread-send').click();
  const phoneError = form.getByTestId('thread-phone-error');
  await until(() => text(phoneError), (s) => s.length > 0, 'the number refused');
  assert.match(await text(phoneError), /^An SMS cannot be sent to this number\. \(The server: .*landline/);
  assert.equal(await form.getByTestId('thread-phone').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByTestId('thread-phone').evaluate((el) => el === document.activeElement), true);
  assert.equal((await h.sms.messages()).length, 0, 'the stand-in got nothing');
  assert.equal(await nurse.tabs.count(), 0, 'no thread was opened');

  // A mobile number: the thread opens as the nurse's chat, its message gone by SMS.
  await form.getByTestId('thread-phone').fill('050 765 4321');
  await form.getByTestId('thread-send').click();
  await until(() => nurse.tabs.count(), (n) => n === 1, 'the SMS thread opens as a chat');
  const conversation = (await nurse.openConversations())[0];
  const pane = nurse.pane(conversation);
  await pane.waitFor({ state: 'visible' });
  const first = nurse.messages(conversation).filter({ hasText: 'tekstiviestipalvelu' });
  await until(() => first.getAttribute('data-sms-state'), (s) => s === 'sent' || s === 'delivered', 'the first SMS sent', SLOW_MS);
  await until(async () => (await h.sms.messages()).map((x) => x.to), (to) => to.length === 1 && to[0] === '+358507654321',
    'the stand-in got it once, to the number');

  // Every message of an SMS conversation goes by SMS: the choice locked on, and said so.
  const toggle = pane.getByTestId('sms-toggle');
  assert.equal(await toggle.isChecked(), true);
  assert.equal(await toggle.isDisabled(), true);
  assert.equal(await pane.getByRole('checkbox', { name: 'SMS conversation: every message goes as SMS' }).count(), 1, 'locked, and said so');
  assert.equal(await text(pane.getByTestId('send')), 'Send SMS');
  await nurse.composer(conversation).fill('Vastaathan, kun ehdit.');
  await pane.getByTestId('send').click();
  const second = nurse.messages(conversation).filter({ hasText: 'Vastaathan' });
  await until(() => second.getAttribute('data-sms-state'), (s) => ['queued', 'sent', 'delivered'].includes(s), 'the second one by SMS too');

  // The patient's SMS comes back to the thread.
  await h.sms.inbound('+358507654321', 'Kiitos viestistä!');
  const reply = nurse.messages(conversation).filter({ hasText: 'Kiitos viestistä' });
  await reply.waitFor({ timeout: SLOW_MS });
  assert.equal(await reply.getAttribute('data-sms'), 'in');
  await assertAxe(page, 'an SMS conversation');

  // The widget offers no SMS service: patients are reached by SMS.
  const services = await (await fetch(`${h.url}/api/v1/services`)).json();
  assert.ok(services.services.some((s) => s.id === 'sms-chat' && s.channel === 'sms'), 'the demo lists its SMS service');
  const patient = await h.patient('patient');
  await patient.open();
  const offered = await patient.id('service').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(offered.length > 0 && !offered.includes('sms-chat'), `the widget offers ${offered.join(', ')}`);
}, { sms: true, timeout: 180_000 });

uiTest('SMS chat in Finnish: the choice, the counter, the button and the states, also after a reload', async (h) => {
  const m = await matter(h, 'patient', { name: 'Aino Aalto', topic: 'medication', text: 'Lähetättekö tekstiviestin?',
    contact: { phone: '+358 40 123 4567' } });
  const nurse = await h.professional('nurse-1', { locale: 'fi-FI' });
  await take(nurse, m.conversation);
  const pane = nurse.pane(m.conversation);
  await pane.getByRole('checkbox', { name: 'Lähetä tekstiviestinä', exact: true }).check();
  await nurse.composer(m.conversation).fill('Hei! Resepti on uusittu. Ystävällisin terveisin, hoitaja');
  assert.equal(await text(pane.getByTestId('sms-counter')), '56 merkkiä · 1 tekstiviesti');
  assert.equal(await text(pane.getByTestId('sms-number')), 'Vastaanottaja +358 40 *** **67');
  assert.equal(await text(pane.getByTestId('send')), 'Lähetä tekstiviesti');
  await pane.getByTestId('send').click();
  const row = rowOf(nurse, m.conversation, 'Ystävällisin terveisin');
  await until(() => smsState(row), (s) => s === 'delivered', 'delivered', SLOW_MS);
  assert.equal(await text(row.getByTestId('sms-state')), 'Toimitettu perille');
  assert.equal(await row.getByTestId('sms-mark').getAttribute('title'), 'Tekstiviesti numeroon +358 40 *** **67');

  // After a reload (a held matter is then continued from the inbox: the welcome lists live chats
  // only) the history replays the SMS events: the same state, no lines of their own.
  await nurse.page.reload();
  await nurse.id('me').waitFor();
  await take(nurse, m.conversation);
  const again = rowOf(nurse, m.conversation, 'Ystävällisin terveisin');
  await until(() => smsState(again), (s) => s === 'delivered', 'delivered after the reload');
  assert.equal(await nurse.messages(m.conversation).and(nurse.page.locator('[data-kind="system"]')).filter({ hasText: /sms/i }).count(), 0);
  assert.equal(await nurse.pane(m.conversation).getByRole('checkbox', { name: 'Lähetä tekstiviestinä', exact: true }).isChecked(), true,
    'the choice kept over the reload');
}, { sms: true });

// The patient's language all the way (issue 9, item 12, the widget's side): the organisation's
// texts (service and topic names, the questionnaire, the closing message) come from the server
// in the widget's language, the `start` frame tells the server that language, and the
// widget's own texts of the wait, a message taken back and the unread count are in it too,
// on a 360 px phone.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { uiTest, squash } from '../lib/harness.js';
import { Patient } from '../lib/widget.js';
import { Socket } from '../lib/socket.js';

function hostPage(lang) {
  return `<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Host page</title></head>
<body><h1>Terveysasemat / Hälsostationer</h1>
<script src="/widget.js" data-service="health-chat"></script>
</body></html>`;
}

/** A patient on a host page in `lang`, served by Playwright on the server's origin. */
async function patientIn(h, lang) {
  const page = await h.newPage(`patient-${lang}`, { viewport: { width: 360, height: 740 } });
  await page.context().grantPermissions(['local-network-access'], { origin: h.url });
  const sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
  const name = `test-host-${lang}.html`;
  await page.route(`${h.url}/${name}`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: hostPage(lang) }),
  );
  await page.goto(`${h.url}/${name}`);
  const p = new Patient(page, `patient-${lang}`);
  p.sent = sent;
  return p;
}

// What the patient must see, per language: the organisation's texts from the demo
// organisation (server/src/demo_organisation.toml) and the widget's own.
const WANT = {
  fi: {
    service: 'Terveysaseman chat',
    topics: ['Valitse…', 'Reseptin uusiminen', 'Oireet', 'Laboratoriotulokset'],
    durationLabel: 'Kuinka kauan oireet ovat kestäneet? (pakollinen)',
    durations: ['Valitse…', 'Alle vuorokauden', '1–3 päivää', 'Yli 3 päivää', 'Ei oireita'],
    duration: '1–3 päivää',
    queueTitle: 'Olet jonossa',
    unstaffed: /^Kukaan ei ole juuri nyt tavoitettavissa\. Pidät paikkasi jonossa/,
    leave: 'Poistu jonosta',
    withdrawn: 'Viesti peruttiin',
    unread: ['1 uusi viesti', '2 uutta viestiä'],
    closing: 'Kiitos yhteydenotostasi. Tämä chat on nyt suljettu.',
  },
  sv: {
    service: 'Hälsostationens chatt',
    topics: ['Välj…', 'Förnyelse av recept', 'Symtom', 'Laboratoriesvar'],
    durationLabel: 'Hur länge har du haft symtomen? (obligatorisk)',
    durations: ['Välj…', 'Mindre än ett dygn', '1–3 dagar', 'Över 3 dagar', 'Inga symtom'],
    duration: '1–3 dagar',
    queueTitle: 'Du står i kö',
    unstaffed: /^Ingen är tillgänglig just nu\. Du behåller din plats i kön/,
    leave: 'Lämna kön',
    withdrawn: 'Meddelandet togs tillbaka',
    unread: ['1 nytt meddelande', '2 nya meddelanden'],
    closing: 'Tack för att du kontaktade oss. Den här chatten är nu avslutad.',
  },
};

/** Header parts that overlap, stick out of the panel or cut the title short. */
function headerClashes(p) {
  return p.panel.evaluate((panel) => {
    const pr = panel.getBoundingClientRect();
    const title = panel.querySelector('.head h2');
    const parts = [title, ...panel.querySelectorAll('.head button')].filter((el) => el.offsetParent !== null);
    const boxes = parts.map((el) => ({ name: el.textContent.trim() || el.getAttribute('aria-label'), r: el.getBoundingClientRect() }));
    const out = [];
    if (title.scrollWidth > title.clientWidth) out.push(`the title is cut: ${title.scrollWidth} > ${title.clientWidth}`);
    for (const a of boxes) {
      if (a.r.left < pr.left || a.r.right > pr.right + 0.5) out.push(`${a.name} sticks out of the panel`);
      for (const b of boxes) {
        if (a === b || a.name > b.name) continue;
        const overlap = a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom;
        if (overlap) out.push(`${a.name} overlaps ${b.name}`);
      }
    }
    return out;
  });
}

async function nurseSends(nurse, conversation, body) {
  const ack = await nurse.request({ type: 'send', conversation, client_msg_id: randomUUID(), body });
  return ack.seq;
}

for (const lang of ['fi', 'sv']) {
  uiTest(`in ${lang}: the organisation's texts, the wait, a withdrawn message, the unread count and the closing message`, async (h) => {
    const want = WANT[lang];
    const nurse = await Socket.professional(h, 'nurse-1');
    await nurse.request({ type: 'status', availability: 'away' });

    // The start form: the organisation's texts in the patient's language.
    const p = await patientIn(h, lang);
    await p.open();
    await p.id('topic').waitFor({ state: 'visible' });
    const service = p.id('service');
    assert.equal(squash(await service.locator('option:checked').textContent()), want.service);
    assert.deepEqual((await p.id('topic').locator('option').allTextContents()).map(squash), want.topics);
    const label = await p.id('q-duration').evaluate((el) => el.labels[0].textContent);
    assert.equal(squash(label), want.durationLabel);
    assert.deepEqual((await p.id('q-duration').locator('option').allTextContents()).map(squash), want.durations);

    await p.id('topic').selectOption('symptoms');
    await p.id('q-duration').selectOption({ label: want.duration });
    await p.id('start').click();
    const conv = await p.conversation();
    const start = p.sent.map((s) => JSON.parse(s)).find((f) => f.type === 'start');
    assert.equal(start.lang, lang, 'the start frame carries the patient\'s language');
    assert.equal(start.questionnaire.duration, want.duration, 'the answer as the patient chose it');

    // The wait, in the patient's language: nobody is available.
    await p.id('queue-unstaffed').waitFor({ state: 'visible' });
    assert.match(squash(await p.id('queue-status').innerText()), new RegExp('^' + want.queueTitle));
    assert.match(squash(await p.id('queue-unstaffed').innerText()), want.unstaffed);
    assert.equal(squash(await p.id('leave').innerText()), want.leave);

    // The nurse takes the chat, writes, and takes one message back.
    await nurse.request({ type: 'status', availability: 'available' });
    await nurse.waitFor((f) => f.type === 'assigned' && f.conversation === conv, 'assigned');
    await p.waitForChat();
    assert.deepEqual(await headerClashes(p), [], 'the header (title, Identify, End chat, close) fits in this language');
    const wrong = await nurseSends(nurse, conv, 'X1 This was meant for another patient');
    await nurseSends(nurse, conv, 'X2 How can I help?');
    await p.waitForProfessionalMessage('X2 How can I help?');
    await nurse.request({ type: 'retract', conversation: conv, seq: wrong });
    const row = p.messages.and(p.page.locator(`[data-seq="${wrong}"]`));
    await row.filter({ hasText: want.withdrawn }).waitFor({ state: 'visible' });
    assert.equal(await row.getAttribute('data-role'), 'professional', 'in its place, still the professional\'s');
    assert.ok(!(await p.messagesText()).includes('X1 This was meant'), 'the text taken back is gone');

    // Unread count with the panel closed, in the patient's language.
    await p.page.keyboard.press('Escape'); // on a phone the panel covers the launcher
    await p.panel.waitFor({ state: 'hidden' });
    await nurseSends(nurse, conv, 'X3 Are you still there?');
    await p.id('launcher').filter({ hasText: want.unread[0] }).waitFor();
    await nurseSends(nurse, conv, 'X4 Hello?');
    await p.id('launcher').filter({ hasText: want.unread[1] }).waitFor();
    await p.open();

    // The closing message comes from the server in the patient's language.
    await nurse.request({ type: 'close', conversation: conv, summary: 'done' });
    await p.id('closed').waitFor({ state: 'visible' });
    assert.ok(squash(await p.id('closing-message').innerText()).startsWith(want.closing));
  });
}

uiTest('a message taken back stays withdrawn after a reload (the replay has the message, then the event)', async (h) => {
  const nurse = await Socket.professional(h, 'nurse-1');
  await nurse.request({ type: 'status', availability: 'available' });
  const p = await h.patient('patient');
  await p.start();
  const conv = await p.conversation();
  await nurse.waitFor((f) => f.type === 'assigned' && f.conversation === conv, 'assigned');
  await p.waitForChat();
  const wrong = await nurseSends(nurse, conv, 'Y1 Your results are normal');
  await nurseSends(nurse, conv, 'Y2 Sorry, I will check your results first');
  await p.waitForProfessionalMessage('Y2 Sorry');
  await nurse.request({ type: 'retract', conversation: conv, seq: wrong });
  const row = p.messages.and(p.page.locator(`[data-seq="${wrong}"]`));
  await row.filter({ hasText: 'This message was withdrawn' }).waitFor({ state: 'visible' });

  await p.page.reload();
  await p.open();
  await p.waitForProfessionalMessage('Y2 Sorry');
  await row.filter({ hasText: 'This message was withdrawn' }).waitFor({ state: 'visible' });
  const text = await p.messagesText();
  assert.ok(!text.includes('Y1 Your results are normal'), `the withdrawn text is not back after the reload: ${text}`);
  assert.equal(await p.messages.and(p.page.locator('[data-role="professional"]')).count(), 2, 'each message once');
});

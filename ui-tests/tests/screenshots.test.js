// Requirement 6: the screenshots in docs/screenshots/, taken from a real session:
//   widget-phone.png           the demo page with the widget open in a chat, 360×740
//   console-three-chats.png    the console with three parallel chats, 1280×800
//   console-supervision.png    a shift lead's supervision view of two teams, 1280×800
//   console-inbox.png          a nurse's inbox of non-urgent messages, one overdue, 1280×800
//   console-matter.png         a taken non-urgent matter: the client's contact details and a
//                              document, 1280×800
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { uiTest, until } from '../lib/harness.js';
import { Socket } from '../lib/socket.js';
import { matter, reconnect, restartOverdue, write } from '../lib/matters.js';
import { minimalPdf } from '../lib/documents.js';
import { repoRoot } from '../lib/server.js';

const shotsDir = path.join(repoRoot, 'docs', 'screenshots');

const CHATS = [
  {
    topic: 'medication',
    duration: 'No symptoms',
    description: 'Blood pressure medicine renewal',
    lines: [
      ['patient', 'Hello, my blood pressure medicine runs out on Friday. Could it be renewed?'],
      ['nurse', 'Hello! I can help with that. Which medicine and strength do you take?'],
      ['patient', 'Amlodipine 5 mg, one tablet in the morning.'],
      ['nurse', 'Thank you. I have sent the renewal request to your doctor; it will be in the pharmacy tomorrow.'],
    ],
  },
  {
    topic: 'symptoms',
    duration: '1-3 days',
    description: 'Sore throat and a cough',
    lines: [
      ['patient', 'My throat has been sore for two days and I have a dry cough.'],
      ['nurse', 'Do you have a fever, or any trouble breathing?'],
      ['patient', 'About 37.8 in the evening, breathing is fine.'],
    ],
  },
  {
    topic: 'lab-results',
    duration: 'No symptoms',
    description: 'Results of last week’s blood test',
    lines: [['patient', 'Hi, have the results of my blood test from last Tuesday come in?']],
  },
];

uiTest('screenshots: the widget on a phone and the console with three chats', async (h) => {
  await mkdir(shotsDir, { recursive: true });
  const nurse = await h.professional('nurse-1', { viewport: { width: 1280, height: 800 } });
  await nurse.setStatus({ availability: 'available' });

  const convs = [];
  const patients = [];
  for (const [i, chat] of CHATS.entries()) {
    const viewport = i === 0 ? { width: 360, height: 740 } : undefined;
    const p = await h.patient(`patient-${i + 1}`, { viewport });
    await p.start(chat);
    const c = await p.conversation();
    await nurse.waitForChat(c);
    await p.waitForChat();
    convs.push(c);
    patients.push(p);
  }
  for (const [i, chat] of CHATS.entries()) {
    for (const [who, text] of chat.lines) {
      if (who === 'patient') {
        await patients[i].send(text);
        await nurse.waitForMessage(convs[i], text, 'client');
      } else {
        await nurse.send(convs[i], text);
        await patients[i].waitForProfessionalMessage(text);
      }
    }
  }
  // The nurse is answering the second patient; the third has an unread message waiting.
  await nurse.select(convs[1]);
  await nurse.composer(convs[1]).fill('If the fever goes over 38 or you get short of breath, call us again.');

  const phone = path.join(shotsDir, 'widget-phone.png');
  await patients[0].page.screenshot({ path: phone });
  const desk = path.join(shotsDir, 'console-three-chats.png');
  await nurse.page.screenshot({ path: desk });
  for (const f of [phone, desk]) assert.ok((await stat(f)).size > 5_000, `${f} is a real picture`);
});

// A busy moment at two health stations: station A's one available nurse is full and two
// patients wait; the lead has moved a third to station B, where nobody is available.
uiTest('screenshot: the supervision view of a shift lead with two teams', async (h) => {
  await mkdir(shotsDir, { recursive: true });
  const lead = await h.professional('lead-1', { viewport: { width: 1280, height: 800 } });
  await lead.setStatus({ availability: 'away' });
  const nurse1 = await h.professional('nurse-1');
  await nurse1.setStatus({ capacity: 2, availability: 'available' });
  for (const id of ['nurse-2', 'nurse-3']) {
    const away = await h.professional(id);
    await away.setStatus({ availability: 'away' });
  }
  const patients = [];
  for (const [i, start] of [
    { topic: 'medication' }, { topic: 'symptoms' }, { topic: 'lab-results', name: 'Maija Meikäläinen' },
    { topic: 'symptoms' }, { topic: 'medication' },
  ].entries()) {
    patients.push(await Socket.patient(h, `patient-${i + 1}`, start));
  }
  await patients[0].assigned();
  await patients[1].assigned();

  await lead.id('view-supervision').click();
  const a = lead.id('team-card-station-a');
  await until(async () => a.getByTestId('team-queue-entry').count(), (n) => n === 3, 'three waiting in station A');
  const last = a.locator(`[data-testid="team-queue-entry"][data-conversation="${patients[4].conversation}"]`);
  await last.getByTestId('move-team').selectOption('station-b');
  await last.getByTestId('move').click();
  const b = lead.id('team-card-station-b');
  await b.getByTestId('unstaffed-warning').waitFor({ state: 'visible' });
  await until(async () => a.getByTestId('team-queue-entry').count(), (n) => n === 2, 'two left in station A');
  await until(async () => Number(await a.getByTestId('oldest-wait').getAttribute('data-wait-s')), (s) => s >= 3, 'a few seconds of waiting');
  await lead.page.mouse.move(0, 0);
  await lead.page.evaluate(() => document.activeElement && document.activeElement.blur()); // no focus ring in the picture

  const file = path.join(shotsDir, 'console-supervision.png');
  await lead.page.screenshot({ path: file });
  assert.ok((await stat(file)).size > 5_000, `${file} is a real picture`);
});

// A morning at health station A: four non-urgent messages, one of them past its reply deadline
// (written into the server's storage while it was restarted), one already the nurse's, a
// patient has just written again in another, and the nurse is reading the overdue one.
uiTest('screenshot: the inbox of non-urgent messages of a nurse', async (h) => {
  await mkdir(shotsDir, { recursive: true });
  const m = [];
  for (const [i, x] of [
    { name: 'Aino Aalto', topic: 'medication', text: 'My blood pressure medicine (amlodipine 5 mg) runs out next week. Could it be renewed?' },
    { name: 'Bertta Bäck', topic: 'lab-results', text: 'Have the results of my blood test from last Tuesday come in?' },
    { name: 'Kalle Korhonen', topic: 'other', text: 'Can I get a certificate of my vaccinations for travelling?' },
    { name: 'Maija Meikäläinen', topic: 'medication', text: 'Is it safe to take ibuprofen with my blood pressure medicine?' },
  ].entries()) {
    m.push(await matter(h, `patient-${i + 1}`, x));
  }
  await restartOverdue(h, [m[3].conversation], 26 * 3_600_000);
  await reconnect(h, m[1]);
  const nurse = await h.professional('nurse-1', { viewport: { width: 1280, height: 800 } });
  await nurse.id('view-inbox').click();
  const row = (c) => nurse.page.locator(`[data-testid="inbox-entry"][data-conversation="${c}"]`);
  await row(m[3].conversation).waitFor();
  await row(m[2].conversation).getByTestId('inbox-take').click();
  await nurse.waitForChat(m[2].conversation);
  await nurse.id('view-inbox').click();
  await until(() => row(m[2].conversation).getAttribute('data-status'), (v) => v === 'in_progress', 'taken');
  await write(m[1], 'Sorry, I forgot to say: I was fasting before the test.');
  await until(() => row(m[1].conversation).getAttribute('data-alert'), (v) => v === 'true', 'the new-message alert');
  await row(m[3].conversation).getByTestId('inbox-open').click();
  await nurse.id('inbox-thread').getByTestId('inbox-thread-message').first().waitFor();
  await nurse.page.mouse.move(0, 0);
  await nurse.page.evaluate(() => document.activeElement && document.activeElement.blur()); // no focus ring in the picture

  const file = path.join(shotsDir, 'console-inbox.png');
  await nurse.page.screenshot({ path: file });
  assert.ok((await stat(file)).size > 5_000, `${file} is a real picture`);
});

// A nurse answering a non-urgent matter: the patient left an address for the notice of the
// reply (under their name, as links) and sent their old prescription as a PDF.
uiTest('screenshot: a taken non-urgent matter with the client\'s contact details and a document', async (h) => {
  await mkdir(shotsDir, { recursive: true });
  const m = await matter(h, 'patient', {
    name: 'Aino Aalto', topic: 'medication',
    text: 'My blood pressure medicine (amlodipine 5 mg) runs out next week. Could it be renewed? The old prescription is attached.',
    contact: { email: 'aino.aalto@example.fi', phone: '040 765 4321' },
  });
  const q = new URLSearchParams({ name: 'prescription-2025.pdf', client_msg_id: randomUUID() });
  const up = await fetch(`${h.url}/api/v1/conversations/${m.conversation}/attachments?${q}`, {
    method: 'POST', body: minimalPdf('Amlodipine 5 mg'),
    headers: { 'content-type': 'application/pdf', 'x-luukku-resume-token': m.resumeToken, authorization: `Bearer ${m.token}` },
  });
  assert.equal(up.status, 201, await up.text());
  const nurse = await h.professional('nurse-1', { viewport: { width: 1280, height: 800 } });
  await nurse.id('view-inbox').click();
  await nurse.page.locator(`[data-testid="inbox-entry"][data-conversation="${m.conversation}"]`).getByTestId('inbox-take').click();
  await nurse.waitForChat(m.conversation);
  const pane = nurse.pane(m.conversation);
  await pane.getByTestId('client-email').waitFor();
  await pane.getByTestId('attachment').getByTestId('attachment-download').waitFor();
  await nurse.send(m.conversation, 'Thank you, Aino. I have sent the renewal to your doctor; it will be at the pharmacy on Thursday.');
  await nurse.composer(m.conversation).fill('If your blood pressure');
  await nurse.page.mouse.move(0, 0);
  await nurse.page.evaluate(() => document.activeElement && document.activeElement.blur()); // no focus ring in the picture

  const file = path.join(shotsDir, 'console-matter.png');
  await nurse.page.screenshot({ path: file });
  assert.ok((await stat(file)).size > 5_000, `${file} is a real picture`);
});

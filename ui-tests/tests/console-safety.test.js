// Patient safety in the console (issue 9, items 1 and 2):
//   1. the composer is either replying to the client or writing an internal note, visibly so;
//      Enter sends in that mode; Alt+P / Alt+L switch; the mode survives a reload with the draft.
//      A professional can take back their own message for a short while.
//   2. logging out with chats held asks first and can hand them back to the queue at once.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uiTest, until, squash } from '../lib/harness.js';

/** The look of an element a nurse would notice: background colour and top border. */
function look(loc) {
  return loc.evaluate((el) => {
    const s = getComputedStyle(el);
    return { bg: s.backgroundColor, border: `${s.borderTopStyle} ${s.borderTopColor}` };
  });
}

uiTest('reply or internal note: the mode is explicit and visible, and Enter sends in it', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conversation: conv } = await h.patientInChat(nurse, 'patient');
  await patient.send('S1 I have a rash on my arm');
  await nurse.waitForMessage(conv, 'S1 I have a rash on my arm', 'client');
  const pane = nurse.pane(conv);
  const form = pane.getByTestId('composer-form');
  const composer = nurse.composer(conv);

  // Replying is the starting mode, and says so.
  assert.equal(await pane.getByTestId('mode-reply').isChecked(), true, 'a new chat starts in reply mode');
  assert.equal(await pane.getByTestId('note-warning').isVisible(), false, 'no note warning while replying');
  assert.match(squash(await pane.getByTestId('send').textContent()), /send to client/i);
  const replyLook = await look(form);

  // Alt+L from the composer: note mode, impossible to miss.
  await composer.click();
  await composer.press('Alt+KeyL');
  assert.equal(await pane.getByTestId('mode-note').isChecked(), true, 'Alt+L switches to an internal note');
  assert.equal(await composer.evaluate((el) => el === document.activeElement), true, 'the composer keeps the focus');
  assert.match(squash(await pane.getByTestId('note-warning').textContent()), /only professionals see it/i);
  assert.match(await composer.evaluate((el) => el.labels[0].textContent), /internal note/i, "the composer's label says note");
  assert.match(squash(await pane.getByTestId('send').textContent()), /save internal note/i);
  const noteLook = await look(form);
  assert.notEqual(noteLook.bg, replyLook.bg, 'the composer is coloured differently in note mode');
  assert.notEqual(noteLook.border, replyLook.border, 'the composer has another border in note mode');

  // Enter in note mode stores a note, which never reaches the patient.
  await composer.fill('S2 note to self: results not yet in lab system');
  await composer.press('Enter');
  const note = nurse.messages(conv).filter({ hasText: 'S2 note to self' });
  await until(() => note.first().getAttribute('data-seq'), (s) => /^\d+$/.test(s || ''), 'the note is stored');
  assert.equal(await note.getAttribute('data-kind'), 'note', 'Enter in note mode wrote a note');
  assert.equal(await pane.getByTestId('mode-note').isChecked(), true, 'the mode stays until the nurse switches');

  // A draft in note mode stays a note draft over a reload.
  await composer.fill('S3 still a note after the reload');
  await until(
    () => nurse.page.evaluate(() => JSON.parse(sessionStorage.getItem('luukku.console.v1') || '{}')),
    (st) => (st.drafts || {})[Object.keys(st.drafts || {})[0]] === 'S3 still a note after the reload',
    'the draft is kept in the session store',
  );
  await nurse.page.reload();
  await nurse.waitForChat(conv);
  assert.equal(await nurse.composer(conv).inputValue(), 'S3 still a note after the reload');
  assert.equal(await pane.getByTestId('mode-note').isChecked(), true, 'the chat is still in note mode after the reload');
  await nurse.composer(conv).press('Enter');
  await until(() => nurse.messages(conv).filter({ hasText: 'S3 still a note' }).first().getAttribute('data-kind'),
    (k) => k === 'note', 'the reloaded draft was saved as a note');

  // Alt+P: back to replying; Enter sends to the patient.
  await nurse.composer(conv).press('Alt+KeyP');
  assert.equal(await pane.getByTestId('mode-reply').isChecked(), true, 'Alt+P switches back to replying');
  assert.equal(await pane.getByTestId('note-warning').isVisible(), false);
  await nurse.composer(conv).fill('S4 please send a photo of the rash');
  await nurse.composer(conv).press('Enter');
  await patient.waitForProfessionalMessage('S4 please send a photo of the rash');
  assert.equal(await nurse.messages(conv).filter({ hasText: 'S4 please' }).getAttribute('data-kind'), 'message');
  assert.doesNotMatch(await patient.page.locator('body').innerText(), /S2 note|S3 still|lab system/, 'no note reached the patient');
});

uiTest('a professional takes back a message sent by mistake: withdrawn in the console, stored as an event', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { patient, conversation: conv } = await h.patientInChat(nurse, 'patient');
  await patient.send('S5 hello');
  await nurse.waitForMessage(conv, 'S5 hello', 'client');
  await nurse.send(conv, 'S6 your results are fine (wrong patient!)');
  await patient.waitForProfessionalMessage('S6 your results are fine');
  const mine = nurse.messages(conv).filter({ hasText: 'S6 your results' });
  const client = nurse.messages(conv).filter({ hasText: 'S5 hello' });
  assert.equal(await client.getByTestId('retract').count(), 0, "no take-back on the client's message");
  await nurse.note(conv, 'S7 a note');
  assert.equal(await nurse.messages(conv).filter({ hasText: 'S7 a note' }).getByTestId('retract').count(), 0, 'none on a note');

  await mine.getByTestId('retract').click();
  await until(() => mine.getAttribute('data-retracted'), (v) => v === 'true', 'the message shows as withdrawn');
  assert.match(squash(await mine.getByTestId('withdrawn').textContent()), /withdrawn/i);
  assert.equal(await mine.getByTestId('retract').count(), 0, 'nothing left to take back');
  const seq = Number(await mine.getAttribute('data-seq'));
  await until(() => nurse.paneText(conv), (t) => /Nurse One took back a message/.test(t), 'the taking back is in the record');
  // It is an event of the conversation: after a reload the message is still withdrawn.
  await nurse.page.reload();
  await nurse.waitForChat(conv);
  await until(() => nurse.pane(conv).locator(`[data-seq="${seq}"]`).getAttribute('data-retracted'), (v) => v === 'true',
    'still withdrawn after a reload (from the history)');
});

const tmp = await mkdtemp(path.join(os.tmpdir(), 'luukku-retract-'));
after(() => rm(tmp, { recursive: true, force: true }));
const shortWindow = path.join(tmp, 'short-window.toml');
await writeFile(shortWindow, 'demo = true\nretract_window_s = 3\n');

uiTest('the take-back button goes away when the window has passed', async (h) => {
  const nurse = await h.professional('nurse-1');
  const { conversation: conv } = await h.patientInChat(nurse, 'patient');
  await nurse.send(conv, 'S8 sent a moment ago');
  const mine = nurse.messages(conv).filter({ hasText: 'S8 sent' });
  assert.equal(await mine.getByTestId('retract').isVisible(), true, 'take back is offered at first');
  await until(() => mine.getByTestId('retract').count(), (n) => n === 0, 'gone after retract_window_s (3 s)', 8000);
}, { serverArgs: ['--config', shortWindow] });

uiTest('logging out with chats held asks first, and can hand them back to the queue at once', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const a = await h.patientInChat(nurse, 'pa');
  const b = await h.patientInChat(nurse, 'pb');

  // Asked first; Cancel keeps everything as it was.
  await nurse.id('logout').click();
  const dialog = nurse.id('logout-confirm');
  await dialog.waitFor({ state: 'visible' });
  assert.match(squash(await dialog.textContent()), /You still hold 2 chats/);
  assert.equal(await nurse.id('logout-chats').locator('li').count(), 2, 'the chats are named');
  await nurse.id('logout-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await nurse.composer(a.conversation).isEditable(), true, 'still logged in with the chats');

  // Hand them back: both patients are queued again at once, the nurse is logged out.
  await nurse.id('logout').click();
  await nurse.id('logout-release').click();
  await nurse.id('login').waitFor({ state: 'visible' });
  for (const p of [a.patient, b.patient]) await p.id('queue-status').waitFor({ state: 'visible' });
  // A colleague coming on duty gets them (station-a routes automatically), with their history.
  const colleague = await h.professional('nurse-2');
  await colleague.setStatus({ availability: 'available' });
  for (const p of [a, b]) await colleague.waitForChat(p.conversation);
  await until(() => colleague.paneText(a.conversation), (t) => /Handed back to the queue/.test(t), 'the hand-back is in the record');
});

uiTest('logging out with no chats held does not ask', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.id('logout').click();
  await nurse.id('login').waitFor({ state: 'visible' });
});

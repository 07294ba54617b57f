// Patient safety in the console (issue 9, items 1 and 2):
//   1. the composer is either replying to the client or writing an internal note, visibly so;
//      Enter sends in that mode; Alt+P / Alt+L switch; the mode survives a reload with the draft.
//      A professional can take back their own message for a short while.
//   2. logging out with chats held asks first and can hand them back to the queue at once.
import assert from 'node:assert/strict';
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

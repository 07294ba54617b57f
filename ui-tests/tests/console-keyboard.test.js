// Keyboard shortcuts in the console (issue 9, item 8): switching chats takes one chord, not
// seven keys; the help dialog lists the shortcuts; no shortcut ever sends anything on its own.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

const selected = (nurse) => nurse.page.locator('[data-testid="chat-tab"][aria-selected="true"]').getAttribute('data-conversation');
const focusedComposerOf = (nurse) => nurse.page.evaluate(() => {
  const el = document.activeElement;
  return el && el.dataset.testid === 'composer' ? el.closest('[data-testid="chat-pane"]').dataset.conversation : null;
});

uiTest('shortcuts switch chats, focus and open forms, are listed in a help dialog, and never send', async (h) => {
  const nurse = await h.professional('nurse-1');
  const a = (await h.patientInChat(nurse, 'pa')).conversation;
  const b = (await h.patientInChat(nurse, 'pb')).conversation;
  const c = (await h.patientInChat(nurse, 'pc')).conversation;
  const page = nurse.page;
  const rows = async () => (await Promise.all([a, b, c].map((x) => nurse.messages(x).count()))).reduce((s, n) => s + n, 0);

  await nurse.select(a);
  await nurse.composer(a).fill('K1 draft for A');
  const before = await rows();

  // Next / previous chat: the focus moves along into the next chat's composer.
  await nurse.composer(a).press('Alt+ArrowDown');
  assert.equal(await selected(nurse), b, 'Alt+↓ selects the next chat');
  assert.equal(await focusedComposerOf(nurse), b, "and puts the cursor in B's composer");
  await page.keyboard.press('Alt+ArrowDown');
  assert.equal(await selected(nurse), c);
  await page.keyboard.press('Alt+ArrowDown');
  assert.equal(await selected(nurse), a, 'after the last chat comes the first');
  await page.keyboard.press('Alt+ArrowUp');
  assert.equal(await selected(nurse), c, 'Alt+↑ goes back');

  // A chat by its letter: Alt+J, then B. Enter while choosing sends nothing.
  await page.keyboard.press('Alt+KeyJ');
  await until(async () => squash(await nurse.id('jump').textContent()), (s) => /type its letter/i.test(s), 'the prompt shows');
  await page.keyboard.press('KeyB');
  assert.equal(await selected(nurse), b, 'Alt+J B selects chat B');
  assert.equal(await nurse.id('jump').isVisible(), false, 'the prompt is gone');

  // Alt+C focuses the composer; Alt+X only opens the close form; Alt+T the transfer form.
  await nurse.select(a);
  await page.keyboard.press('Alt+KeyC');
  assert.equal(await focusedComposerOf(nurse), a, 'Alt+C puts the cursor in the composer');
  await page.keyboard.press('Alt+KeyX');
  const paneA = nurse.pane(a);
  assert.equal(await paneA.getByTestId('close-summary').isVisible(), true, 'Alt+X opens the close form');
  assert.equal(await paneA.getByTestId('close-summary').evaluate((el) => el === document.activeElement), true);
  assert.equal(await paneA.getByTestId('reopen').isVisible(), false, 'the chat is not closed');
  await page.keyboard.press('Alt+KeyT');
  assert.equal(await paneA.getByTestId('transfer-team').isVisible(), true, 'Alt+T opens the transfer form');
  assert.equal(await paneA.getByTestId('close-summary').isVisible(), false);

  // Nothing was sent by any of it, and A's draft is intact.
  assert.equal(await rows(), before, 'no shortcut sent anything');
  assert.equal(await nurse.composer(a).inputValue(), 'K1 draft for A');
  assert.equal(await paneA.getByTestId('composer').isEditable(), true, 'chat A is still open');

  // The help dialog: from the "?" button, and with "?" outside a text field; Escape closes it.
  await nurse.id('shortcuts-help').click();
  const help = nurse.id('shortcuts');
  await help.waitFor({ state: 'visible' });
  const text = squash(await help.textContent());
  for (const k of ['Alt+↓', 'Alt+↑', 'Alt+J', 'Alt+C', 'Alt+P', 'Alt+L', 'Alt+X']) assert.ok(text.includes(k), `the help lists ${k}`);
  assert.match(text, /no shortcut sends anything/i);
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });
  assert.equal(await nurse.id('shortcuts-help').evaluate((el) => el === document.activeElement), true, 'the focus returns to the "?" button');
  await nurse.tab(a).focus();
  await page.keyboard.press('Shift+Slash');
  await help.waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });
});

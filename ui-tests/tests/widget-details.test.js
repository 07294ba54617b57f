// Smaller things a patient notices (issue 9): the five rating buttons in one row on a 360 px
// phone; "1 new message" (not "1 new messages") for screen readers; the page title counts the
// professional's unread messages while the panel is closed or the tab hidden, and is the
// page's own again once they are read.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

/** The launcher's text for screen readers (the visually hidden part of its badge). */
const badgeText = (p) => p.id('launcher').locator('.badge .vh').textContent();

/** Pretends the patient switched to another tab (or back). */
function setTabHidden(page, hidden) {
  return page.evaluate((hidden) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

uiTest('unread messages: "1 new message", and the page title counts them while unseen', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const { patient: p, conversation: conv } = await h.patientInChat(nurse, 'patient');
  const title = await p.page.title();
  assert.ok(title.length > 0 && !/^\(\d+\)/.test(title), `the demo page's own title: ${title}`);

  // Panel closed: the badge and the title count.
  await p.id('launcher').click();
  await p.panel.waitFor({ state: 'hidden' });
  await nurse.send(conv, 'U1 I have booked you a time');
  await until(() => badgeText(p), (s) => squash(s) === '1 new message', 'badge "1 new message"');
  await until(() => p.page.title(), (s) => s === `(1) ${title}`, 'title (1)');
  await nurse.send(conv, 'U2 It is on Monday at 10');
  await until(() => badgeText(p), (s) => squash(s) === '2 new messages', 'badge "2 new messages"');
  await until(() => p.page.title(), (s) => s === `(2) ${title}`, 'title (2)');

  // Opened: read, the title is the page's own again.
  await p.open();
  await until(() => p.page.title(), (s) => s === title, 'the title restored');

  // The tab in the background with the panel open: the title counts; back in front, restored.
  await setTabHidden(p.page, true);
  await nurse.send(conv, 'U3 Please bring your Kela card');
  await until(() => p.page.title(), (s) => s === `(1) ${title}`, 'title (1) while the tab is hidden');
  await setTabHidden(p.page, false);
  await until(() => p.page.title(), (s) => s === title, 'the title restored in front');
});

uiTest('the rating buttons 1–5 sit in one row on a 360 px phone', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const { patient: p, conversation: conv } = await h.patientInChat(nurse, 'patient', {}, { viewport: { width: 360, height: 740 } });
  await nurse.close(conv, 'done');
  await p.id('closed').waitFor({ state: 'visible' });
  const boxes = [];
  for (const n of [1, 2, 3, 4, 5]) {
    const label = p.panel.locator(`label[for="lk-rate-${n}"]`);
    await label.scrollIntoViewIfNeeded();
    boxes.push(await label.boundingBox());
  }
  const tops = boxes.map((b) => Math.round(b.y));
  assert.ok(tops.every((y) => Math.abs(y - tops[0]) <= 1), `one row: tops ${tops.join(', ')}`);
  assert.ok(boxes.every((b) => b.height >= 44 && b.width >= 44), `each a comfortable target: ${JSON.stringify(boxes)}`);
  assert.ok(boxes[4].x + boxes[4].width <= 360, 'inside the screen');
  // Each still says its number.
  for (const n of [1, 2, 3, 4, 5]) {
    assert.equal(squash(await p.panel.locator(`label[for="lk-rate-${n}"]`).innerText()), String(n));
  }
});

// The nurse's tab strip on a small screen (issue 9, items 6 and 7): at 1024×768 with five and
// more chats every live tab, its unread count and its waiting time are in sight; closed chats
// go aside into "Closed (n)"; a letter never names another patient in the same shift; each tab
// shows how long its patient has waited for an answer, the longest marked.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';

const SMALL = { viewport: { width: 1024, height: 768 } };

/** True when the element is inside the viewport and not covered or clipped away. */
function inSight(loc) {
  return loc.evaluate((el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return false;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && (hit === el || el.contains(hit) || hit.contains(el));
  });
}

const letterOf = async (nurse, conv) => squash(await nurse.pane(conv).getByTestId('chat-label').textContent());

uiTest('five chats at 1024×768: tabs stay in sight, closed ones go aside, letters are never reused, waits show', async (h) => {
  const nurse = await h.professional('nurse-1', SMALL);
  await nurse.setStatus({ capacity: 8, availability: 'available' });
  const chats = [];
  for (const label of ['p1', 'p2', 'p3', 'p4', 'p5']) chats.push(await h.patientInChat(nurse, label, {}, { viewport: { width: 400, height: 700 } }));
  const convs = chats.map((c) => c.conversation);
  assert.deepEqual(await Promise.all(convs.map((c) => letterOf(nurse, c))), ['A', 'B', 'C', 'D', 'E']);

  // Every tab in sight, whichever is selected; a background chat's unread count too.
  await nurse.select(convs[4]);
  for (const c of convs) assert.ok(await inSight(nurse.tab(c)), `tab ${await letterOf(nurse, c)} is in sight`);
  await chats[0].patient.send('T1 hello from A');
  await until(() => nurse.tab(convs[0]).getByTestId('unread').isVisible(), (v) => v, "A's unread badge shows");
  assert.ok(await inSight(nurse.tab(convs[0]).getByTestId('unread')), "A's unread badge is in sight while E is selected");

  // Waiting for an answer: A since its message; C writes later; A waits longest.
  await chats[2].patient.send('T2 hello from C');
  const waitOf = (i) => nurse.tab(convs[i]).getAttribute('data-wait-s');
  await until(() => waitOf(2), (s) => s !== null, "C's tab shows its waiting time");
  assert.ok(await nurse.tab(convs[2]).getByTestId('waiting').isVisible(), "C's waiting time is visible");
  assert.equal(await waitOf(1), null, 'B has not written: no waiting time');
  await until(() => nurse.tab(convs[0]).getAttribute('class'), (c) => /longest-wait/.test(c), 'A, who wrote first, is marked as waiting longest');
  assert.doesNotMatch(await nurse.tab(convs[2]).getAttribute('class'), /longest-wait/);
  // The nurse answers A: A no longer waits, C is now the longest.
  await nurse.send(convs[0], 'T3 hello A, how can I help?');
  await until(() => waitOf(0), (s) => s === null, "A's waiting time is gone once answered");
  await until(() => nurse.tab(convs[2]).getAttribute('class'), (c) => /longest-wait/.test(c), 'C is now the longest waiting');

  // A closed chat moves aside once the nurse moves on, out of the live strip.
  await nurse.close(convs[1], 'done');
  await until(() => nurse.pane(convs[1]).getByTestId('reopen').isVisible(), (v) => v, 'B is closed');
  await nurse.select(convs[3]);
  const live = () => nurse.page.locator('#tabs [data-testid="chat-tab"]').evaluateAll((ts) => ts.map((t) => t.dataset.conversation));
  await until(live, (ids) => !ids.includes(convs[1]) && ids.length === 4, 'only live chats in the strip');
  const toggle = nurse.id('closed-toggle');
  assert.match(squash(await toggle.textContent()), /Closed \(1\)/);
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  assert.ok(await inSight(nurse.tab(convs[1])), 'the closed chat is one click away');
  await nurse.select(convs[1]);
  await nurse.pane(convs[1]).getByTestId('dismiss').click();
  await until(() => nurse.tab(convs[1]).count(), (n) => n === 0, 'B is dismissed');

  // A new patient gets a letter no one had in this shift (not B again).
  const sixth = await h.patientInChat(nurse, 'p6', {}, { viewport: { width: 400, height: 700 } });
  assert.equal(await letterOf(nurse, sixth.conversation), 'F', 'the next patient is F, B is not reused');
  await nurse.select(sixth.conversation);
  for (const c of [convs[0], convs[2], convs[3], convs[4], sixth.conversation]) assert.ok(await inSight(nurse.tab(c)), 'every live tab in sight');
  // After Z come AA, AB …
  const names = await nurse.page.evaluate(async () => {
    const { letterName } = await import('/ui/console/state.js');
    return [0, 25, 26, 27, 51, 52].map(letterName);
  });
  assert.deepEqual(names, ['A', 'Z', 'AA', 'AB', 'AZ', 'BA']);
});

// Alerts in the console (issue 9, item 11): sounds and desktop notifications per kind (new chat
// assigned, new message in a chat the nurse is not looking at, someone joining a team queue),
// asked for on the nurse's click; the page title counts unread messages; a stale error in the
// sidebar clears itself once the same kind of thing succeeds, and can be dismissed.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { Professional } from '../lib/console.js';

/** Records sounds and desktop notifications instead of making them; `__away` = console not in front. */
function recordAlerts() {
  window.__alerts = [];
  window.__away = false;
  const N = function Notification(title, opts) { window.__alerts.push({ kind: 'desktop', title, body: opts && opts.body }); };
  N.permission = 'default';
  N.requestPermission = async () => { window.__alerts.push({ kind: 'asked' }); N.permission = 'granted'; return 'granted'; };
  window.Notification = N;
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__alerts.push({ kind: 'sound' }); return create.call(this); };
  document.hasFocus = () => !window.__away;
}

async function nurseRecordingAlerts(h, id) {
  const page = await h.newPage(id);
  await page.addInitScript(recordAlerts);
  const nurse = new Professional(page, id);
  await nurse.login(h.url);
  return nurse;
}
const alerts = (nurse) => nurse.page.evaluate(() => window.__alerts.slice());
const clearAlerts = (nurse) => nurse.page.evaluate(() => { window.__alerts.length = 0; });

uiTest('sounds and desktop notifications per kind, asked for on a click, never with the patient\'s words', async (h) => {
  const nurse = await nurseRecordingAlerts(h, 'nurse-1');
  await nurse.setStatus({ capacity: 2, availability: 'available' });
  for (const k of ['assigned', 'message', 'queue']) {
    assert.equal(await nurse.id(`sound-${k}`).isChecked(), true, `sound for ${k} is on by default`);
    assert.equal(await nurse.id(`notify-${k}`).isChecked(), false, `desktop for ${k} is off until asked for`);
  }
  // Desktop notifications for new messages: the permission is asked on this click.
  await nurse.id('notify-message').check();
  assert.deepEqual((await alerts(nurse)).map((a) => a.kind), ['asked']);
  assert.equal(await nurse.id('notify-message').isChecked(), true);
  // No sound for new chats.
  await nurse.id('sound-assigned').uncheck();
  await clearAlerts(nurse);

  const a = await h.patientInChat(nurse, 'pa');
  const b = await h.patientInChat(nurse, 'pb');
  await nurse.select(a.conversation);
  assert.deepEqual(await alerts(nurse), [], 'two new chats: no sound (switched off), no notification (not chosen)');

  // A message in the chat the nurse is not looking at, while the console is not in front.
  await nurse.page.evaluate(() => { window.__away = true; });
  await b.patient.send('AL1 my private symptoms');
  await until(() => alerts(nurse), (l) => l.some((x) => x.kind === 'desktop'), 'a desktop notification');
  const got = await alerts(nurse);
  assert.ok(got.some((x) => x.kind === 'sound'), 'and a sound');
  const note = got.find((x) => x.kind === 'desktop');
  assert.match(note.title, /B/, 'the notification names the chat');
  assert.doesNotMatch(JSON.stringify(note), /private symptoms/, 'but never what the patient wrote');
  assert.match(await nurse.page.title(), /^\(1\) /, 'the page title counts the unread message');

  // Someone joins the queue (the nurse is full): a queue sound.
  await clearAlerts(nurse);
  const c = await h.patient('pc');
  await c.start();
  await until(() => alerts(nurse), (l) => l.some((x) => x.kind === 'sound'), 'a sound for the queue');
  assert.ok(!(await alerts(nurse)).some((x) => x.kind === 'desktop'), 'no desktop notification for the queue (not chosen)');

  // The choices are kept on this device.
  await nurse.page.reload();
  await nurse.id('sound-assigned').waitFor();
  assert.equal(await nurse.id('sound-assigned').isChecked(), false);
  assert.equal(await nurse.id('notify-message').isChecked(), true);
});

uiTest('a capacity error clears itself once accepting works again, and can be dismissed', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ capacity: 1, availability: 'available' });
  await h.patientInChat(nurse, 'pa');
  const waiting = await h.patient('pb');
  await waiting.start();
  await until(() => nurse.page.getByTestId('queue-entry').count(), (n) => n === 1, 'B waits in the queue');

  const errors = nurse.id('error');
  await nurse.id('accept-next-station-a').click();
  await until(() => errors.count(), (n) => n === 1, 'a capacity error shows');
  assert.equal(await errors.getAttribute('data-code'), 'capacity_full');
  // Dismissable.
  await errors.getByRole('button', { name: 'Dismiss error' }).click();
  assert.equal(await errors.count(), 0, 'dismissed');
  // Again, then the nurse raises the capacity and accepts: the stale error goes away by itself.
  await nurse.id('accept-next-station-a').click();
  await until(() => errors.count(), (n) => n === 1, 'the capacity error again');
  await nurse.setStatus({ capacity: 2 });
  await until(() => errors.count(), (n) => n === 0, 'the stale capacity error cleared once the status change succeeded');
  assert.match(squash(await nurse.id('status-active').textContent()), /\d/);
});

// Requirement 5: axe-core finds no serious or critical violation in the widget (panel open,
// in a chat) nor in the console (with chats open). Every violation, of any impact, is printed
// in full for debugging.
import assert from 'node:assert/strict';
import { uiTest } from '../lib/harness.js';
import { axeViolations, formatViolations, seriousOrCritical } from '../lib/axe.js';

uiTest('axe: no serious or critical violations in the widget (start form, in a chat) and the console (chats open)', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });

  // The start form too: its fields are where a missing label would hurt most.
  const first = await h.patient('patient-1');
  await first.open();
  await first.id('start').waitFor({ state: 'visible' });
  const form = await axeViolations(first.page);
  console.log(formatViolations('widget (panel open, start form)', form));

  const convs = [];
  const patients = [];
  for (const [i, topic] of ['medication', 'symptoms'].entries()) {
    const p = i === 0 ? first : await h.patient(`patient-${i + 1}`);
    await p.start({ topic, duration: 'Less than a day', description: `Question number ${i + 1}` });
    const c = await p.conversation();
    await nurse.waitForChat(c);
    await p.waitForChat();
    await p.send(`Hello, this is patient ${i + 1}`);
    await nurse.waitForMessage(c, `Hello, this is patient ${i + 1}`, 'client');
    await nurse.send(c, `Hello patient ${i + 1}, how can I help?`);
    await p.waitForProfessionalMessage(`Hello patient ${i + 1}, how can I help?`);
    convs.push(c);
    patients.push(p);
  }
  // An unread message in the chat not selected, so its badge shows too.
  await nurse.select(convs[1]);
  await patients[0].send('One more thing');
  await nurse.waitForMessage(convs[0], 'One more thing', 'client');

  const widget = await axeViolations(patients[0].page);
  const consoleV = await axeViolations(nurse.page);
  console.log(formatViolations('widget (panel open, in a chat)', widget));
  console.log(formatViolations('console (two chats open)', consoleV));
  const bad = [
    ...seriousOrCritical(form).map((v) => `widget form: ${v.id}`),
    ...seriousOrCritical(widget).map((v) => `widget: ${v.id}`),
    ...seriousOrCritical(consoleV).map((v) => `console: ${v.id}`),
  ];
  assert.deepEqual(bad, [], 'serious or critical axe violations (details above)');
});

// The console's forms and dialogs added for a nurse's shift: note mode, the transfer form, the
// shortcut help, the quick-reply picker with its own-replies form, the log-out confirmation.
uiTest('axe: no serious or critical violations in the console\'s note mode, forms and dialogs', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });
  const { conversation: conv } = await h.patientInChat(nurse, 'patient');
  const pane = nurse.pane(conv);
  const bad = [];
  const scan = async (where) => {
    const v = await axeViolations(nurse.page);
    console.log(formatViolations(`console (${where})`, v));
    bad.push(...seriousOrCritical(v).map((x) => `${where}: ${x.id}`));
  };
  await pane.getByTestId('mode-note').check();
  await nurse.composer(conv).fill('a draft note');
  await pane.getByTestId('transfer').click();
  await pane.getByTestId('transfer-team').selectOption('station-a');
  await scan('note mode, transfer form open');
  await nurse.id('shortcuts-help').click();
  await scan('shortcut help');
  await nurse.page.keyboard.press('Escape');
  await pane.getByTestId('canned-open').click();
  await nurse.id('canned-picker').locator('summary').click();
  await scan('quick replies');
  await nurse.page.keyboard.press('Escape');
  await nurse.id('logout').click();
  await nurse.id('logout-confirm').waitFor({ state: 'visible' });
  await scan('log-out confirmation');
  assert.deepEqual(bad, [], 'serious or critical axe violations (details above)');
});

// The supervision view of a shift lead (lead-1): team cards with the routing switch, figures,
// the professionals' presence and load, and the queue with its move controls, while patients
// wait in one team with nobody available and a move target is chosen.
uiTest('axe: no serious or critical violations in the supervision view', async (h) => {
  const lead = await h.professional('lead-1');
  await lead.setStatus({ availability: 'away' });
  const nurse = await h.professional('nurse-3');
  await nurse.setStatus({ availability: 'available' });
  await lead.id('view-supervision').click();
  const a = lead.id('team-card-station-a');
  await a.waitFor({ state: 'visible' });
  for (const [i, topic] of ['medication', 'symptoms'].entries()) {
    const p = await h.patient(`patient-${i + 1}`);
    await p.start({ topic, duration: 'Less than a day' });
  }
  await a.getByTestId('unstaffed-warning').waitFor({ state: 'visible' });
  await a.getByTestId('team-queue-entry').nth(1).waitFor({ state: 'visible' });
  await a.getByTestId('move-team').first().selectOption('station-b');
  const v = await axeViolations(lead.page);
  console.log(formatViolations('console (supervision view)', v));
  assert.deepEqual(seriousOrCritical(v).map((x) => `supervision: ${x.id}`), [], 'serious or critical axe violations (details above)');
});

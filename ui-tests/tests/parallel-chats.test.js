// Requirement 1: two patients, one nurse running both chats in parallel. Nothing written in
// chat A ever shows in chat B (neither in the console's panes nor in the patients' widgets),
// and each chat keeps its own composer draft when the nurse switches between them.
import assert from 'node:assert/strict';
import { uiTest, until } from '../lib/harness.js';

uiTest('a nurse runs two chats in parallel: messages and drafts stay with their own chat', async (h) => {
  const nurse = await h.professional('nurse-1');
  await nurse.setStatus({ availability: 'available' });

  const { patient: anna, conversation: a } = await h.patientInChat(nurse, 'patient-a', { topic: 'medication', duration: 'No symptoms', description: 'Renewal of my blood pressure pills' });

  const { patient: ben, conversation: b } = await h.patientInChat(nurse, 'patient-b', { topic: 'symptoms', duration: '1-3 days', description: 'Sore throat' });
  assert.notEqual(a, b, 'two patients get two conversations');
  assert.deepEqual((await nurse.openConversations()).sort(), [a, b].sort(), 'the nurse holds exactly both chats');

  // Interleaved traffic in both chats.
  await anna.send('A1 my pills run out on Friday');
  await ben.send('B1 my throat hurts when I swallow');
  await nurse.waitForMessage(a, 'A1 my pills run out on Friday', 'client');
  await nurse.waitForMessage(b, 'B1 my throat hurts when I swallow', 'client');
  await nurse.send(a, 'A2 I will renew the prescription for you');
  await nurse.send(b, 'B2 Do you have a fever?');
  await anna.waitForProfessionalMessage('A2 I will renew the prescription for you');
  await ben.waitForProfessionalMessage('B2 Do you have a fever?');
  await ben.send('B3 no fever');
  await anna.send('A3 thank you');
  await nurse.waitForMessage(b, 'B3 no fever', 'client');
  await nurse.waitForMessage(a, 'A3 thank you', 'client');
  // One last message on each side so that anything misrouted before it has surely arrived.
  await nurse.send(b, 'B4 drink warm fluids');
  await nurse.send(a, 'A4 it is done');
  await ben.waitForProfessionalMessage('B4 drink warm fluids');
  await anna.waitForProfessionalMessage('A4 it is done');

  const paneA = await nurse.paneText(a);
  const paneB = await nurse.paneText(b);
  const widgetA = await anna.messagesText();
  const widgetB = await ben.messagesText();
  for (const n of [1, 2, 3, 4]) {
    assert.ok(paneA.includes(`A${n} `), `A${n} is in the console's pane of chat A`);
    assert.ok(widgetA.includes(`A${n} `), `A${n} is in patient A's widget`);
    assert.ok(paneB.includes(`B${n} `), `B${n} is in the console's pane of chat B`);
    assert.ok(widgetB.includes(`B${n} `), `B${n} is in patient B's widget`);
  }
  for (const [where, text, other] of [
    ["console pane of chat B", paneB, 'A'],
    ["patient B's widget", widgetB, 'A'],
    ["console pane of chat A", paneA, 'B'],
    ["patient A's widget", widgetA, 'B'],
  ]) {
    assert.doesNotMatch(text, new RegExp(`\\b${other}[1-4] `), `nothing of chat ${other} in the ${where}: ${text}`);
  }
  // The whole of each page, not only the message lists: nothing of the other chat anywhere.
  assert.doesNotMatch(await ben.page.locator('body').innerText(), /\bA[1-4] /, "no text of chat A anywhere on B's page");
  assert.doesNotMatch(await anna.page.locator('body').innerText(), /\bB[1-4] /, "no text of chat B anywhere on A's page");

  // Drafts: each chat's composer keeps its own text across switches.
  await nurse.select(a);
  await nurse.composer(a).fill('draft for A, not sent');
  await nurse.select(b);
  assert.equal(await nurse.composer(b).inputValue(), '', "switching to chat B shows B's (empty) draft, not A's");
  await nurse.composer(b).fill('draft for B, not sent');
  await nurse.select(a);
  assert.equal(await nurse.composer(a).inputValue(), 'draft for A, not sent', 'chat A keeps its draft');
  await nurse.select(b);
  assert.equal(await nurse.composer(b).inputValue(), 'draft for B, not sent', 'chat B keeps its draft');
  assert.ok(await nurse.pane(b).isVisible(), 'the selected pane is visible');
  assert.equal(await nurse.pane(a).isVisible(), false, 'only the selected chat pane is visible');

  // Sending from B sends B's draft into B only; A's draft survives.
  await nurse.pane(b).getByTestId('send').click();
  await nurse.waitForMessage(b, 'draft for B, not sent', 'professional');
  await ben.waitForProfessionalMessage('draft for B, not sent');
  await until(() => nurse.composer(b).inputValue(), (v) => v === '', 'chat B composer empty after sending');
  await nurse.select(a);
  assert.equal(await nurse.composer(a).inputValue(), 'draft for A, not sent', "chat A's draft is still there");
  assert.ok(!(await nurse.paneText(a)).includes('draft for B'), "B's message is not in A's pane");
  assert.ok(!(await anna.messagesText()).includes('draft for'), "neither draft reached patient A's widget");
});

// The patient record as the nurse sees it (docs/ui.md): she closes the chat of a strongly
// identified patient, and under the closed chat the console says it was saved to the patient
// record — the transcript having reached the stand-in FHIR server (lib/fhir.js) over HTTPS.
import assert from 'node:assert/strict';
import { uiTest, until, squash } from '../lib/harness.js';
import { FhirStandIn } from '../lib/fhir.js';
import { Socket } from '../lib/socket.js';

const fhir = await FhirStandIn.start();
const config = await fhir.serverConfig();

uiTest('a closed chat of an identified patient is shown saved to the patient record', async (h) => {
  const nurse = await h.professional('nurse-1');
  const patient = await Socket.patient(h, 'patient', { name: 'Maija Meikäläinen', sub: '010190-987H' });
  await nurse.waitForChat(patient.conversation);
  await patient.send({ type: 'send', conversation: patient.conversation, client_msg_id: 'm1', body: 'My ear aches.' });
  await nurse.waitForMessage(patient.conversation, 'My ear aches.', 'client');
  await nurse.close(patient.conversation, 'ear ache, advised a visit');
  await until(
    async () => squash(await nurse.pane(patient.conversation).textContent()),
    (t) => t.includes('Saved to the patient record'),
    'the console says the chat was saved to the patient record',
    30_000,
  );
  assert.equal(fhir.received.length, 1, 'one delivery');
  const bundle = JSON.parse(fhir.received[0].body);
  assert.equal(bundle.type, 'transaction');
  assert.ok(fhir.received[0].body.includes('My ear aches.'));
}, { serverArgs: ['--config', config], timeout: 120_000 });

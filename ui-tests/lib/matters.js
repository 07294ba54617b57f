// Asynchronous matters (non-urgent messages) for the inbox tests: an identified patient as a
// bare client socket, their messages, coming back after a restart, and a deadline put in the past.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Socket } from './socket.js';

/**
 * An identified patient (a demo client token) with one matter in `service`, and its first
 * message; `contact` ({email, phone}): where they are told of the reply (`start.contact`).
 */
export async function matter(h, label, { name, topic, text, service = 'nurse-message', contact }) {
  const res = await fetch(h.url + '/api/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client: { sub: `demo-${randomUUID().replace(/-/g, '').slice(0, 16)}`, name } }),
  });
  const { token } = await res.json();
  const socket = await Socket.open(h, label, '/ws/client', { type: 'hello', token, resume: [] });
  await socket.send({ type: 'start', service, topic, lang: 'en', client_ref: randomUUID(), ...(contact ? { contact } : {}) });
  const queued = await socket.waitFor((f) => f.type === 'queued' || f.type === 'error', 'queued');
  assert.equal(queued.type, 'queued', `${label}: start refused: ${JSON.stringify(queued)}`);
  const m = { label, token, socket, queued, conversation: queued.conversation, resumeToken: queued.resume_token };
  if (text) await write(m, text);
  return m;
}

/** The patient writes in their matter (waits for the ack). */
export async function write(m, body) {
  const reply = await m.socket.request({ type: 'send', conversation: m.conversation, client_msg_id: randomUUID(), body });
  assert.equal(reply.type, 'ack');
}

/** After a restart: the patient connects again and resumes the matter. */
export async function reconnect(h, m) {
  m.socket = await Socket.open(h, `${m.label}-again`, '/ws/client',
    { type: 'hello', token: m.token, resume: [{ conversation: m.conversation, resume_token: m.resumeToken, after_seq: 0 }] });
}

/**
 * Restarts the server with these matters' reply deadlines put `agoMs` in the past, written
 * into its SQLite file while it is down (the server rebuilds its inbox from storage).
 */
export async function restartOverdue(h, conversations, agoMs = 3_600_000) {
  const { host } = new URL(h.url);
  await h.server.halt();
  execFileSync('python3', ['-c', `import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for conv in sys.argv[3:]:
    n = db.execute("update conversations set due_at_ms = ? where id = ?", (int(sys.argv[2]), conv)).rowcount
    assert n == 1, conv
db.commit()`, path.join(h.server.dataDir, 'luukku.db'), String(Date.now() - agoMs), ...conversations]);
  await h.server.launch(host);
}

// The widget's one connection to /ws/client (the protocol client shared with the console,
// ../shared/client.js), its sends, and the outbox of the patient's messages not yet
// acknowledged. It reads the stored state for `hello` and resume but draws nothing: what each
// inbound frame does lives in inbound.js, handed in by main.js through listen(), so that this
// layer never imports the views that frames update.

import { Client } from '../shared/client.js';
import { Outbox } from '../shared/outbox.js';
import { cfg } from './config.js';
import { store, save, rt, active, isAsync } from './state.js';

let handleFrame = () => {};
let handleStateChange = () => {};

/**
 * Where inbound frames (each with the context its request was sent with) and connection state
 * changes go. Called by main.js at load, before the first connect.
 */
export function listen({ onFrame, onState }) {
  handleFrame = onFrame;
  handleStateChange = onState;
}

export const client = new Client({
  url: cfg.wsUrl,
  hello: () => {
    const hello = { type: 'hello', resume: [] };
    if (store.token) hello.token = store.token;
    if (store.conversation) {
      hello.resume.push({ conversation: store.conversation, resume_token: store.resume_token, after_seq: rt.replayAll ? 0 : store.last_seq });
    }
    return hello;
  },
  onFrame: (f, ctx) => handleFrame(f, ctx),
  onClose: (code) => {
    if (code === 4401) { store.token = null; store.identity = null; save(); } // identification expired
    return true;
  },
  // Also without a conversation: a contact form being sent, and an identified client (their
  // conversations can be listed and opened, and a reply reaches an open one).
  shouldReconnect: () => active() || !!store.pendingForm || !!store.token,
  onState: () => handleStateChange(),
});

/** Sends a frame; with `kind`, its reply (ack or error) is matched back to {kind, id}. */
export function send(frame, kind, id) {
  return client.send(frame, kind ? { kind: kind, id: id } : undefined);
}

/** The patient's messages not yet acknowledged, sent again after a reconnect with their own id. */
export const outbox = new Outbox(client,
  (p) => ({ type: 'send', conversation: store.conversation, client_msg_id: p.id, body: p.body }));
store.pending.forEach((p) => outbox.keep(p));

/** The pending messages as they are persisted for a reload. */
export function savePending() {
  store.pending = [...outbox.values()].map((p) => ({ id: p.id, body: p.body, at: p.at }));
  save();
}

/**
 * A matter's reply deadline as the server keeps it: the organisation's reply meets it and the
 * client's next message restarts it (docs/protocol.md §6, Inbox). After either, live, the widget
 * asks the server (`conversations`, answered from what was stored with the message) instead of
 * working the deadline out itself. Once per seq: a message's event and its ack both come.
 */
export function askDeadline(seq) {
  if (!isAsync() || !store.token || store.status === 'complete' || seq <= rt.deadlineSeq) return;
  rt.deadlineSeq = seq;
  send({ type: 'conversations', limit: 100 }, 'deadline');
}

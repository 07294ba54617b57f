// Ack tracking for sends: each text goes out with its own `client_msg_id` and stays pending
// until the server acknowledges the durable write (an `ack` with `seq`, or the echoed event
// carrying the same id). Pending sends go out again with the SAME id after a reconnect, so the
// server stores them once whatever happened to the earlier attempt.

export class Outbox {
  /** client: shared Client; toFrame(p): the frame for pending item `p`; ctxOf(p): its req ctx. */
  constructor(client, toFrame, ctxOf = (p) => ({ kind: 'send', id: p.id })) {
    this.client = client;
    this.toFrame = toFrame;
    this.ctxOf = ctxOf;
    this.items = new Map(); // client_msg_id → item (the app may hang its own fields on it)
  }

  /** Adds an item (its `id` is the client_msg_id) and sends it if online. */
  add(p) {
    this.items.set(p.id, p);
    this.transmit(p);
    return p;
  }

  /** Keeps an item without sending it now (restored after a reload; `resend` sends it). */
  keep(p) { this.items.set(p.id, p); return p; }

  transmit(p) { return this.client.send(this.toFrame(p), this.ctxOf(p)); }

  /** Sends every pending item again with its own id (after `welcome`, or a retry). */
  resend() { for (const p of this.items.values()) this.transmit(p); }

  has(id) { return this.items.has(id); }
  get(id) { return this.items.get(id); }
  values() { return this.items.values(); }
  get size() { return this.items.size; }

  /** The server stored it: returns the item and forgets it (null when it was not pending). */
  confirm(id) {
    const p = this.items.get(id);
    this.items.delete(id);
    return p || null;
  }

  /** It will not be stored (refused, or the chat is no longer writable): returns and forgets it. */
  drop(id) { return this.confirm(id); }
}

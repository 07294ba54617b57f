// The one protocol client of the widget and the console (docs/protocol.md): one WebSocket with
// the JSON subprotocol, `hello` (with resume) on every open, request correlation by `req`, and
// reconnection with the one back-off policy (backoff.js). What the app does with frames stays
// in the app: it gets every frame with the context it gave the request the frame answers.

import { reconnectDelay } from './backoff.js';

export const SUBPROTOCOL = 'luukku.v1.json';

export class Client {
  /**
   * url: the WebSocket URL; hello(): the `hello` frame for a new socket (token, resume list);
   * onFrame(frame, ctx): every frame, `ctx` being what `send` was given for its `req`;
   * onClose(code): the socket closed (return false to stop reconnecting, e.g. logged out);
   * shouldReconnect(): whether to come back at all (e.g. the widget has no chat to resume);
   * onState(): the connection state changed (for an offline banner).
   */
  constructor({ url, hello, onFrame, onClose = () => true, shouldReconnect = () => true, onState = () => {} }) {
    Object.assign(this, { url, hello, onFrame, onClose, shouldReconnect, onState });
    this.ws = null;
    this.welcomed = false;      // `welcome` received on the current socket
    this.everWelcomed = false;
    this.attempt = 0;           // reconnect attempts since the last welcome
    this.retryTimer = 0;
    this.retryAt = 0;           // when the next attempt starts (ms since epoch)
    this.immediate = false;     // the next reconnect without delay (a deliberate close)
    this.reqNo = 0;
    this.reqs = new Map();      // req → ctx
  }

  /** Opens the socket unless one is open or opening. */
  connect() {
    clearTimeout(this.retryTimer);
    if (this.ws) return;
    let ws;
    try { ws = new WebSocket(this.url, SUBPROTOCOL); } catch { this.scheduleReconnect(0); return; }
    this.ws = ws;
    this.welcomed = false;
    ws.onopen = () => this.raw(this.hello());
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (!f || typeof f !== 'object' || typeof f.type !== 'string') return;
      this.receive(f);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.welcomed = false;
      this.reqs.clear(); // no reply to a request of this socket can come any more
      if (this.onClose(ev.code) === false) return;
      this.scheduleReconnect(ev.code);
    };
  }

  receive(f) {
    const ctx = f.req ? this.reqs.get(f.req) : undefined;
    if (f.req) this.reqs.delete(f.req);
    if (f.type === 'welcome') {
      this.welcomed = this.everWelcomed = true;
      this.attempt = 0;
    }
    try { this.onFrame(f, ctx); } catch (e) {
      // One frame the app could not handle must not stop the connection; the error is still
      // reported (as an uncaught error, so the browser tests see it).
      setTimeout(() => { throw e; });
    }
    if (f.type === 'welcome') this.onState();
  }

  scheduleReconnect(code) {
    clearTimeout(this.retryTimer);
    if (!this.shouldReconnect()) { this.onState(); return; }
    const delay = this.immediate ? 0 : reconnectDelay(this.attempt, code);
    this.immediate = false;
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.onState();
  }

  /** Reconnect at once: after the user asked to, or the browser came back online. */
  retryNow() {
    this.attempt = 0;
    this.connect();
  }

  /** Closes the socket on purpose and reconnects at once (e.g. with a new token). */
  reconnect(reason) {
    this.immediate = true;
    if (this.ws) this.ws.close(1000, reason); else this.connect();
  }

  /** Closes for good: no reconnect (logging out). */
  stop() {
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    this.reqs.clear();
    if (ws) ws.close(1000);
  }

  get online() { return !!this.ws && this.welcomed; }

  raw(frame) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try { this.ws.send(JSON.stringify(frame)); return true; } catch { return false; }
  }

  /**
   * Sends a frame once welcomed, with a fresh `req`; `ctx` comes back with the reply (`ack`,
   * `error` or the named reply frame). Returns false when offline (nothing was sent).
   */
  send(frame, ctx) {
    if (!this.welcomed) return false;
    frame.req = String(++this.reqNo);
    if (ctx) this.reqs.set(frame.req, ctx);
    if (this.raw(frame)) return true;
    this.reqs.delete(frame.req);
    return false;
  }
}

// A bare protocol connection (docs/protocol.md) for what a test needs beside the pages: a
// professional's console socket doing what the console page may not offer (take back a
// message, hand a chat back), or a client socket reading a conversation's stored events
// through resume. The WebSocket runs in a page of its own on the server's origin (the server
// checks the Origin of browsers; Node 20 has no WebSocket of its own).
import { randomUUID } from 'node:crypto';
import { until } from './util.js';

export class Socket {
  /** Opens `path` (/ws/client or /ws/console) and sends `hello`; resolves after `welcome`. */
  static async open(h, label, path, hello) {
    const page = await h.newPage(label);
    await page.goto(h.url + '/healthz');
    await page.evaluate(
      ({ path, hello }) =>
        new Promise((resolve, reject) => {
          window.luukkuFrames = [];
          const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + path, 'luukku.v1.json');
          window.luukkuSocket = ws;
          ws.onmessage = (e) => window.luukkuFrames.push(JSON.parse(e.data));
          ws.onopen = () => {
            ws.send(JSON.stringify(hello));
            resolve();
          };
          ws.onerror = () => reject(new Error('the WebSocket did not open'));
        }),
      { path, hello },
    );
    const socket = new Socket(page, label);
    socket.welcome = await socket.waitFor((f) => f.type === 'welcome' || f.type === 'error', 'welcome');
    return socket;
  }

  /** A professional's console socket, logged in with a demo token. */
  static async professional(h, id) {
    const res = await fetch(h.url + '/api/v1/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ professional: id }),
    });
    const { token } = await res.json();
    return Socket.open(h, `${id}-socket`, '/ws/console', { type: 'hello', token });
  }

  /** A client socket resuming a conversation from its start: it replays every stored event. */
  static async replay(h, conversation, resumeToken) {
    return Socket.open(h, 'replay-socket', '/ws/client', {
      type: 'hello',
      resume: [{ conversation, resume_token: resumeToken, after_seq: 0 }],
    });
  }

  /**
   * A patient as a bare client socket (identified as `name` when given, through the demo's
   * token endpoint): starts a conversation and resolves once it is queued, with its id in
   * `conversation`. For tests that need more patients than widget pages, or an identified one.
   */
  static async patient(h, label, { service = 'health-chat', topic = 'symptoms', questionnaire, lang = 'en', name, sub } = {}) {
    const hello = { type: 'hello', resume: [] };
    if (name) {
      const res = await fetch(h.url + '/api/v1/dev/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client: { sub: sub || `demo-${randomUUID().replace(/-/g, '').slice(0, 16)}`, name } }),
      });
      hello.token = (await res.json()).token;
    }
    const socket = await Socket.open(h, label, '/ws/client', hello);
    const answers = questionnaire || (service === 'health-chat' ? { duration: '1-3 days' } : undefined);
    await socket.send({ type: 'start', service, topic, lang, questionnaire: answers, client_ref: randomUUID() });
    const queued = await socket.waitFor((f) => f.type === 'queued' || f.type === 'error', 'queued');
    if (queued.type === 'error') throw new Error(`${label}: start refused: ${queued.code} ${queued.message || ''}`);
    socket.conversation = queued.conversation;
    return socket;
  }

  /** Waits until a professional has been assigned this patient's conversation. */
  async assigned() {
    return this.waitFor((f) => f.type === 'system' && f.event === 'assigned', 'assigned to a professional');
  }

  constructor(page, label) {
    this.page = page;
    this.label = label;
    this.reqNo = 0;
  }

  /** Sends a frame with a fresh `req`; returns the req. */
  async send(frame) {
    const req = `${this.label}-${++this.reqNo}`;
    await this.page.evaluate((f) => window.luukkuSocket.send(JSON.stringify(f)), { ...frame, req });
    return req;
  }

  async frames() {
    return this.page.evaluate(() => window.luukkuFrames);
  }

  /** Waits for a frame matching `pred` (among all received so far) and returns it. */
  async waitFor(pred, description) {
    const frames = await until(
      () => this.frames(),
      (fs) => fs.some(pred),
      `${this.label}: a frame: ${description}`,
    );
    return frames.find(pred);
  }

  /** Sends a frame and waits for the reply carrying its `req` (fails on an error reply). */
  async request(frame) {
    const req = await this.send(frame);
    const reply = await this.waitFor((f) => f.req === req, `the reply to ${frame.type}`);
    if (reply.type === 'error') throw new Error(`${frame.type} refused: ${reply.code} ${reply.message || ''}`);
    return reply;
  }

  async close() {
    await this.page.close();
  }
}

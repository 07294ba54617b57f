// SMS chat for the browser tests: the stand-in SMS provider (`luukku-sms-standin`, a Telnyx
// Messaging API v2 look-alike built with the workspace, next to the `luukku` binary) and a
// server configured to use it. The stand-in must know the server's webhook before either runs
// and the server must know the stand-in's URL and key, so the server's port is chosen first,
// the stand-in started with that webhook, then the server with an `[sms]` section pointing at
// the stand-in (docs/sms-standin.md, docs/configuration.md).
//
//   LUUKKU_SMS_STANDIN  the stand-in binary (default: luukku-sms-standin beside LUUKKU_BIN)
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { repoRoot, serverBinary } from './server.js';

/** The organisation's SMS sender in the tests (the `from` of `[sms]`). */
export const ORG_NUMBER = '+358401110000';
const START_TIMEOUT_MS = 15_000;

export function standinBinary() {
  if (process.env.LUUKKU_SMS_STANDIN) return path.resolve(repoRoot, process.env.LUUKKU_SMS_STANDIN);
  return path.join(path.dirname(serverBinary()), 'luukku-sms-standin');
}

/** A port nobody listens on now (the server is told it before it starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The stand-in provider: what reached the phone, faults, a patient's SMS to us. */
export class Standin {
  static async start({ webhook, apiKey }) {
    const bin = standinBinary();
    try {
      await access(bin, constants.X_OK);
    } catch {
      throw new Error(`no SMS stand-in at ${bin}: build the workspace (\`cargo build --workspace\`) or set LUUKKU_SMS_STANDIN`);
    }
    const s = new Standin();
    s.apiKey = apiKey;
    s.child = spawn(bin, ['--listen', '127.0.0.1:0', '--api-key', apiKey, '--webhook', webhook], {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reap = () => s.child.kill('SIGKILL');
    process.once('exit', reap);
    s.child.once('exit', () => process.removeListener('exit', reap));
    s.exited = new Promise((r) => s.child.once('exit', r));
    s.log = [];
    const announced = new Promise((resolve, reject) => {
      let buffered = '';
      s.child.stdout.on('data', (chunk) => {
        buffered += chunk.toString();
        for (let i; (i = buffered.indexOf('\n')) >= 0;) {
          const line = buffered.slice(0, i);
          buffered = buffered.slice(i + 1);
          s.log.push(line);
          try {
            const j = JSON.parse(line);
            if (j.listening && j.public_key) resolve(j);
          } catch { /* a log line */ }
        }
      });
      s.child.stderr.on('data', (chunk) => s.log.push(...chunk.toString().split('\n').filter(Boolean)));
      s.exited.then((code) => reject(new Error(`the SMS stand-in exited (${code}):\n${s.log.join('\n')}`)));
      setTimeout(() => reject(new Error(`the SMS stand-in did not start:\n${s.log.join('\n')}`)), START_TIMEOUT_MS);
    });
    try {
      const j = await announced;
      s.url = j.listening;
      s.publicKey = j.public_key;
    } catch (e) {
      s.child.kill('SIGKILL');
      throw e;
    }
    return s;
  }

  async control(method, what, body) {
    const res = await fetch(`${this.url}/_standin/${what}`, {
      method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /_standin/${what}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** The SMS that reached a phone (and the patients' ones to us), as the stand-in lists them. */
  async messages() {
    const j = await this.control('GET', 'messages');
    return Array.isArray(j) ? j : (j && (j.messages || j.data)) || [];
  }

  /** `{api_5xx, api_hang_ms, report: deliver|fail|lose|duplicate|slow, slow_ms}`. */
  faults(f) {
    return this.control('POST', 'faults', f);
  }

  /** A patient's SMS from `from` to the organisation's number. */
  inbound(from, text, to = ORG_NUMBER) {
    return this.control('POST', 'inbound', { from, to, text });
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(t);
    }
  }
}

/**
 * The stand-in and the server's arguments for a demo organisation with SMS chat through it:
 * `{ standin, listen, args, cleanup }` (`listen` is the server's address, fixed in advance).
 */
export async function smsSetup({ maxSegments } = {}) {
  const port = await freePort();
  const apiKey = `KEY-${randomUUID()}`;
  const standin = await Standin.start({ webhook: `http://127.0.0.1:${port}/api/v1/sms/telnyx`, apiKey });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'luukku-sms-'));
  const file = path.join(dir, 'luukku.toml');
  const q = JSON.stringify; // a TOML basic string is a JSON string
  await writeFile(file, [
    'demo = true',
    '',
    '[sms]',
    'provider = "telnyx"',
    `api_url = ${q(`${standin.url}/v2`)}`,
    `api_key = ${q(apiKey)}`,
    `from = ${q(ORG_NUMBER)}`,
    `public_key = ${q(standin.publicKey)}`,
    `webhook_url = ${q(`http://127.0.0.1:${port}/api/v1/sms/telnyx`)}`,
    'service = "sms-chat"',
    ...(maxSegments ? [`max_segments = ${maxSegments}`] : []),
    '',
  ].join('\n'));
  return {
    standin,
    listen: `127.0.0.1:${port}`,
    args: ['--config', file],
    cleanup: async () => {
      await standin.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

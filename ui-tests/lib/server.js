// Starts the real `luukku` binary for one test: a free port (the server binds port 0 and
// prints its address), a fresh temporary data directory, waits for /healthz, and stops it
// with SIGTERM at the end. It builds nothing: scripts/test.sh runs `cargo build -p luukku`.
//
//   LUUKKU_BIN         the binary (default target/debug/luukku; relative paths are taken
//                      from the repository root)
//   LUUKKU_DEV_ASSETS  passed through when set: the server then serves the UI files from that
//                      directory instead of the embedded ones (front-end work only; test.sh
//                      never sets it, so CI tests what ships)
import { spawn } from 'node:child_process';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { constants, createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function serverBinary() {
  const bin = process.env.LUUKKU_BIN || 'target/debug/luukku';
  return path.resolve(repoRoot, bin);
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export class LuukkuServer {
  constructor(bin, dataDir, args) {
    this.bin = bin;
    this.dataDir = dataDir;
    this.args = args; // extra command-line arguments (e.g. ['--config', file])
    this.child = null;
    this.url = null; // e.g. http://127.0.0.1:41234
    this.log = [];
  }

  /** The last lines the server printed (stdout and stderr), for failure reports. */
  logTail(lines = 40) {
    return this.log.slice(-lines).join('\n');
  }

  async fetchText(urlPath) {
    const res = await fetch(this.url + urlPath);
    if (!res.ok) throw new Error(`GET ${urlPath}: HTTP ${res.status}`);
    return res.text();
  }

  /** Starts the process on `listen` and resolves once it answers GET /healthz with 200. */
  async launch(listen) {
    const child = spawn(this.bin, ['--listen', listen, '--data-dir', this.dataDir, ...this.args], {
      cwd: this.dataDir,
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.exited = exited;
    // Never leave a server behind, even when the test process dies on an exception.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));

    // With LUUKKU_LOG_DIR every line also goes to a file of its own there: scripts/test.sh greps
    // the whole browser run's server logs for personal data (scripts/log-privacy.py).
    const keep = process.env.LUUKKU_LOG_DIR
      ? createWriteStream(path.join(process.env.LUUKKU_LOG_DIR, `server-${process.pid}-${child.pid}-${Date.now()}.log`))
      : null;
    if (keep) child.once('exit', () => keep.end());
    const address = new Promise((resolve) => {
      const onData = (chunk) => {
        if (keep) keep.write(chunk);
        for (const line of chunk.toString().split('\n')) {
          if (!line) continue;
          this.log.push(line);
          if (this.log.length > 500) this.log.shift();
          const m = /(?:open|listens on) (http:\/\/[0-9.]+:\d+)\//.exec(line);
          if (m) resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    const died = exited.then(({ code, signal }) => {
      throw new Error(`server exited early (code ${code}, signal ${signal}):\n${this.logTail()}`);
    });
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`server did not start within ${START_TIMEOUT_MS / 1000} s:\n${this.logTail()}`)),
        START_TIMEOUT_MS,
      );
    });
    let started = false;
    try {
      this.url = await Promise.race([address, died, timeout]);
      const healthy = (async () => {
        while (!started) {
          try {
            const res = await fetch(this.url + '/healthz');
            if (res.ok) return;
          } catch {
            // not listening yet
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await Promise.race([healthy, died, timeout]);
    } finally {
      started = true; // ends the /healthz loop when the start failed
      clearTimeout(timer);
      died.catch(() => {}); // the server exiting later (at stop) is not an error
    }
  }

  /** SIGTERM (SIGKILL after a timeout) and waits for the exit; keeps the data directory. */
  async halt() {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  /**
   * Stops the server gracefully and starts it again on the same address with the same data
   * directory, after `downMs` of being away: what clients meet when a node is restarted.
   */
  async restart({ downMs = 0 } = {}) {
    const { host } = new URL(this.url);
    await this.halt();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch(host);
  }

  async stop() {
    await this.halt();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts a server on a free port (or `listen`, an address chosen in advance) with a fresh data
 * directory and resolves once it answers GET /healthz with 200. `args`: extra command-line
 * arguments (e.g. ['--config', file]).
 */
export async function startServer({ args = [], listen = '127.0.0.1:0' } = {}) {
  const bin = serverBinary();
  try {
    await access(bin, constants.X_OK);
  } catch {
    throw new Error(`no server binary at ${bin}: build it with \`cargo build -p luukku\` or set LUUKKU_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'luukku-ui-'));
  const server = new LuukkuServer(bin, dataDir, args);
  try {
    await server.launch(listen);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/**
 * The value of a Prometheus counter with exactly these labels (in any order), 0 when the
 * series is absent.
 */
export function metricValue(text, name, labels) {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] || '')
      .split(/,(?=[a-zA-Z_])/)
      .filter(Boolean)
      .map((s) => s.trim())
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return 0;
}

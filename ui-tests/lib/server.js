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
import { constants } from 'node:fs';
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
  constructor(child, dataDir) {
    this.child = child;
    this.dataDir = dataDir;
    this.url = null; // e.g. http://127.0.0.1:41234
    this.log = [];
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
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

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** Starts a server and resolves once it answers GET /healthz with 200. */
export async function startServer() {
  const bin = serverBinary();
  try {
    await access(bin, constants.X_OK);
  } catch {
    throw new Error(`no server binary at ${bin}: build it with \`cargo build -p luukku\` or set LUUKKU_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'luukku-ui-'));
  const child = spawn(bin, ['--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = new LuukkuServer(child, dataDir);
  // Never leave a server behind, even when the test process dies on an exception.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));

  const address = new Promise((resolve) => {
    const onData = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        server.log.push(line);
        if (server.log.length > 500) server.log.shift();
        const m = /open (http:\/\/[0-9.]+:\d+)\//.exec(line);
        if (m) resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const died = server.exited.then(({ code, signal }) => {
    throw new Error(`server exited early (code ${code}, signal ${signal}):\n${server.logTail()}`);
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not start within ${START_TIMEOUT_MS / 1000} s:\n${server.logTail()}`)),
      START_TIMEOUT_MS,
    );
  });
  let started = false;
  try {
    server.url = await Promise.race([address, died, timeout]);
    const healthy = (async () => {
      while (!started) {
        try {
          const res = await fetch(server.url + '/healthz');
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.race([healthy, died, timeout]);
  } catch (e) {
    await server.stop();
    throw e;
  } finally {
    started = true; // ends the /healthz loop when the start failed
    clearTimeout(timer);
  }
  died.catch(() => {}); // the server exiting later (at stop) is not an error
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

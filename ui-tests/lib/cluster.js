// A Luukku cluster behind a real load balancer for one browser test: `nodes` processes of the
// binary on a fresh PostgreSQL database and a fresh Redis key prefix (the run's services, from
// scripts/services.sh: LUUKKU_TEST_DATABASE_URL, LUUKKU_TEST_REDIS_URL,
// LUUKKU_TEST_REDIS_PREFIX), and Debian's HAProxy in front of them (round robin, health checks
// on /readyz every 300 ms, no sticky sessions). n1 starts first, so it is the primary.
// The object has what the harness uses of a single server: `url` (the balancer's),
// fetchText, logTail and stop.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LuukkuServer, serverBinary } from './server.js';

const READY_TIMEOUT_MS = 30_000;

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through scripts/test.sh, which starts PostgreSQL and Redis`);
  return v;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what, check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let nextDatabase = 0;

/** A new, empty database on the run's PostgreSQL; its URL. */
function freshDatabase() {
  const admin = env('LUUKKU_TEST_DATABASE_URL');
  const slash = admin.lastIndexOf('/');
  const runDb = admin.slice(slash + 1).split('?')[0];
  const name = `${runDb}_ui${process.pid}_${nextDatabase++}`.slice(0, 63);
  execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE "${name}"`], { stdio: 'pipe' });
  return `${admin.slice(0, slash)}/${name}`;
}

export class Cluster {
  constructor() {
    this.nodes = [];
    this.haproxy = null;
    this.dir = null;
    this.url = null;
    this.haproxyLog = [];
  }

  /** Starts `n` nodes and the balancer; resolves once the balancer serves /readyz. */
  static async start(n = 2) {
    const c = new Cluster();
    try {
      await c.launch(n);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  async launch(n) {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'luukku-ui-cluster-'));
    const database = freshDatabase();
    const redis = env('LUUKKU_TEST_REDIS_URL');
    const prefix = `${env('LUUKKU_TEST_REDIS_PREFIX')}-ui-${process.pid}-${Date.now()}`.replace(/:/g, '-');
    for (let i = 1; i <= n; i++) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'luukku-ui-node-'));
      const node = new LuukkuServer(serverBinary(), dataDir, [
        '--database-url', database, '--redis-url', redis, '--redis-prefix', prefix, '--node-id', `n${i}`,
      ]);
      this.nodes.push(node);
      await node.launch('127.0.0.1:0');
      await waitFor(`node n${i} was not ready`, async () => (await fetch(node.url + '/readyz')).ok);
    }
    const port = await freePort();
    const servers = this.nodes
      .map((node, i) => `    server n${i + 1} ${new URL(node.url).host} check`)
      .join('\n');
    const config = `global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    retries 3
    option redispatch
frontend luukku
    bind 127.0.0.1:${port}
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 1
${servers}
`;
    const file = path.join(this.dir, 'haproxy.cfg');
    await writeFile(file, config);
    this.haproxy = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => {
      for (const line of chunk.toString().split('\n')) if (line) this.haproxyLog.push(line);
      if (this.haproxyLog.length > 200) this.haproxyLog.splice(0, this.haproxyLog.length - 200);
    };
    this.haproxy.stdout.on('data', keep);
    this.haproxy.stderr.on('data', keep);
    const reap = () => this.haproxy && this.haproxy.kill('SIGKILL');
    process.once('exit', reap);
    this.url = `http://127.0.0.1:${port}`;
    await waitFor('the balancer did not serve', async () => (await fetch(this.url + '/readyz')).ok);
  }

  async fetchText(urlPath) {
    const res = await fetch(this.url + urlPath);
    if (!res.ok) throw new Error(`GET ${urlPath}: HTTP ${res.status}`);
    return res.text();
  }

  logTail(lines = 40) {
    const nodes = this.nodes.map((n, i) => `[n${i + 1}]\n${n.logTail(lines)}`).join('\n');
    return `${nodes}\n[haproxy]\n${this.haproxyLog.slice(-lines).join('\n')}`;
  }

  /** Kills node `i` (0: n1, the primary) at once: no goodbye to anyone. */
  kill(i) {
    this.nodes[i].child.kill('SIGKILL');
  }

  async stop() {
    if (this.haproxy && this.haproxy.exitCode === null) {
      this.haproxy.kill('SIGTERM');
      await new Promise((r) => this.haproxy.once('exit', r));
    }
    for (const node of this.nodes) await node.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

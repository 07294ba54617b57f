// The organisation's OpenID Connect provider for the browser tests: test-oidc/server.js (the
// `oidc-provider` npm package, its own `npm ci` run when missing) and a server configured to
// sign professionals in through it. The provider accepts the loopback redirect URI on any
// port; the server's port is chosen first, as its `public_url` names it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './server.js';
import { freePort } from './sms.js';

const DIR = path.join(repoRoot, 'test-oidc');

export class OidcProvider {
  static async start(extra = []) {
    if (!existsSync(path.join(DIR, 'node_modules', 'oidc-provider'))) {
      const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: DIR, stdio: 'inherit' });
      if (r.status !== 0) throw new Error('npm ci failed in test-oidc');
    }
    const p = new OidcProvider();
    p.child = spawn(process.execPath, [path.join(DIR, 'server.js'), '--port', '0',
      '--redirect-uri', 'http://127.0.0.1/auth/console/callback',
      '--redirect-uri', 'http://127.0.0.1/auth/client/callback', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const reap = () => p.child.kill('SIGKILL');
    process.once('exit', reap);
    p.exited = new Promise((r) => p.child.once('exit', () => { process.removeListener('exit', reap); r(); }));
    p.log = [];
    p.child.stderr.on('data', (d) => p.log.push(String(d)));
    p.issuer = await new Promise((resolve, reject) => {
      let buffered = '';
      p.child.stdout.on('data', (d) => {
        buffered += d;
        const nl = buffered.indexOf('\n');
        if (nl >= 0) {
          try { resolve(JSON.parse(buffered.slice(0, nl)).issuer); } catch (e) { reject(e); }
        }
      });
      p.child.once('exit', (code) => reject(new Error(`test-oidc exited with ${code}: ${p.log.join('')}`)));
    });
    return p;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

/**
 * The provider and the server's arguments for the demo organisation whose console signs in
 * through it: `{ provider, listen, args, cleanup }`.
 */
export async function oidcSetup({ tokenTtl = 3600, minAcr = 'http://ftn.ficora.fi/2017/loa3' } = {}) {
  const port = await freePort();
  const provider = await OidcProvider.start();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'luukku-oidc-'));
  const file = path.join(dir, 'luukku.toml');
  const q = JSON.stringify;
  await writeFile(file, [
    'demo = true',
    '',
    '[oidc]',
    `issuer = ${q(provider.issuer)}`,
    'client_id = "luukku-console"',
    `public_url = ${q(`http://127.0.0.1:${port}`)}`,
    `console_token_ttl_s = ${tokenTtl}`,
    'clock_skew_s = 0',
    '',
    '[identification]',
    `issuer = ${q(provider.issuer)}`,
    'client_id = "luukku-ident"',
    `public_url = ${q(`http://127.0.0.1:${port}`)}`,
    `min_acr = ${q(minAcr)}`,
    '',
  ].join('\n'));
  return {
    provider,
    listen: `127.0.0.1:${port}`,
    args: ['--config', file],
    cleanup: async () => {
      await provider.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

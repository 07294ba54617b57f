// A stand-in patient record for the browser tests: an HTTPS FHIR endpoint (node:https) with a
// certificate of a test CA made with the openssl command, answering every transaction bundle
// with 200, and the server configuration that sends closed identified chats to it ([record]).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

export class FhirStandIn {
  /** Starts on a free port of 127.0.0.1; `received` collects the bundles. */
  static async start() {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'luukku-fhir-'));
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
      '-subj', '/CN=Luukku test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1']);
    await writeFile(path.join(dir, 'leaf.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
      + 'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
    openssl(dir, ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'leaf.pem', '-days', '2', '-extfile', 'leaf.ext']);
    const f = new FhirStandIn();
    f.dir = dir;
    f.caFile = path.join(dir, 'ca.pem');
    f.received = [];
    f.server = https.createServer({
      key: await readFile(path.join(dir, 'leaf.key')),
      cert: await readFile(path.join(dir, 'leaf.pem')),
    }, (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        f.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry: [] }));
      });
    });
    await new Promise((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.server.unref(); // the test process ends when its tests do
    f.url = `https://127.0.0.1:${f.server.address().port}/fhir`;
    return f;
  }

  /** A configuration file of the demo organisation whose closed identified chats go here. */
  async serverConfig() {
    const file = path.join(this.dir, 'luukku.toml');
    const q = JSON.stringify;
    await writeFile(file, ['demo = true', '', '[record]', `endpoint = ${q(this.url)}`,
      'secret = "a patient record signing key of 32+ chars"', `ca_file = ${q(this.caFile)}`, ''].join('\n'));
    return file;
  }
}

#!/usr/bin/env node
// Self-test for the Luukku test OpenID provider (server.js), with plain fetch only.
//
// Run: node selftest.mjs      (after `npm ci` in this folder)
// Exits 0 when every check passes, 1 with a message naming the failed check otherwise.
//
// Scenario A, built-in config (RS256, public clients):
//   discovery; code + PKCE login of nurse-anna through the HTML form (manual redirects,
//   cookie jar); code exchange; ID token signature and claims; userinfo; refresh;
//   key rotation (new kid, both keys in JWKS; the session, a refresh token and a login
//   page opened before it survive the rebuilt provider; the old ID token still
//   verifies); GET /_test/keys; drop_old; the GET login shortcut with luukku-ident for a
//   patient; code replay; login_hint; acr override; abort; SIGTERM.
// Scenario B, --config file (ES256, confidential client, own user) and --ttl-seconds 5:
//   login, exchange with client_secret_basic, ES256 signature, exp - iat == 5,
//   introspection, rotation.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const FTN_LOA2 = 'http://ftn.ficora.fi/2017/loa2';
const FTN_LOA3 = 'http://ftn.ficora.fi/2017/loa3';

let passed = 0;
let currentStep = 'start';
const started = Date.now();

class CheckFailed extends Error {}

function check(cond, what, ...detail) {
  if (!cond) {
    const got = detail.length ? `\n  got: ${typeof detail[0] === 'string' ? detail[0] : JSON.stringify(detail[0]) ?? 'undefined'}` : '';
    throw new CheckFailed(`${what}${got}`);
  }
  passed += 1;
}

function step(name) {
  currentStep = name;
  process.stderr.write(`selftest: ${name}\n`);
}

// --- server process ----------------------------------------------------------

const servers = new Set();

function startServer(extraArgs) {
  const child = spawn(process.execPath, [path.join(here, 'server.js'), '--port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.add(child);
  const srv = { child, stderr: '' };
  child.stderr.on('data', (d) => { srv.stderr += d; });
  srv.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    servers.delete(child);
    resolve({ code, signal });
  }));
  srv.ready = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not print its ready line in 20 s; stderr:\n${srv.stderr}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out.slice(0, nl)));
        } catch (err) {
          reject(new Error(`ready line is not JSON: ${out.slice(0, nl)}`));
        }
      }
    });
    srv.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}); stderr:\n${srv.stderr}`
        + (srv.stderr.includes('oidc-provider') ? '\n(run `npm ci` in test-oidc/ first?)' : '')));
    });
  });
  return srv;
}

// --- cookie jar + manual redirects ---------------------------------------------

class CookieJar {
  constructor() { this.cookies = new Map(); } // "name;path" -> { name, value, path }

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let cpath = '/';
      let expired = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k.toLowerCase() === 'path') cpath = v || '/';
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name};${cpath}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path: cpath });
    }
  }

  header(url) {
    const p = new URL(url).pathname;
    return [...this.cookies.values()]
      .filter((c) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

async function request(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
  jar?.store(res);
  return res;
}

// Follows redirects by hand (carrying cookies) until leaving the issuer or reaching a
// non-redirect response. Returns { res, url, hops } where url is where we stopped.
async function follow(jar, issuer, url, opts) {
  let res = await request(jar, url, opts);
  let hops = [url];
  while ([301, 302, 303, 307, 308].includes(res.status)) {
    const next = new URL(res.headers.get('location'), url).href;
    hops.push(next);
    if (!next.startsWith(`${issuer}/`)) return { res, url: next, hops, left: true };
    await res.arrayBuffer();
    url = next;
    res = await request(jar, url);
    if (hops.length > 15) throw new Error(`too many redirects: ${hops.join(' -> ')}`);
  }
  return { res, url, hops, left: false };
}

// --- JOSE helpers ---------------------------------------------------------------

const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return { header: b64json(h), payload: b64json(p), signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

function verifyJwt(jwt, jwks) {
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return { ok: false, header, payload, why: `kid ${header.kid} not in JWKS` };
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  let ok;
  switch (header.alg) {
    case 'RS256': ok = crypto.verify('sha256', Buffer.from(signingInput), key, signature); break;
    case 'PS256': ok = crypto.verify('sha256', Buffer.from(signingInput), {
      key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
    }, signature); break;
    case 'ES256': ok = crypto.verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature); break;
    case 'EdDSA': ok = crypto.verify(null, Buffer.from(signingInput), key, signature); break;
    default: return { ok: false, header, payload, why: `alg ${header.alg}` };
  }
  return { ok, header, payload, why: ok ? undefined : 'bad signature' };
}

const getJson = async (url, opts = {}) => {
  const res = await fetch(url, opts);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
};

// --- the flow -------------------------------------------------------------------

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authUrl(meta, { clientId, redirectUri, scope = 'openid profile', extra = {} }) {
  const p = pkce();
  const state = crypto.randomBytes(12).toString('base64url');
  const nonce = crypto.randomBytes(12).toString('base64url');
  const u = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: clientId, response_type: 'code', scope, redirect_uri: redirectUri,
    code_challenge: p.challenge, code_challenge_method: 'S256', state, nonce, ...extra,
  })) u.searchParams.set(k, v);
  return { url: u.href, verifier: p.verifier, state, nonce, redirectUri, clientId };
}

// Authorization request -> login page -> POST the form -> back at redirect_uri.
async function loginViaForm(jar, meta, issuer, req, sub) {
  const first = await follow(jar, issuer, req.url);
  check(!first.left && first.res.status === 200, 'authorization request leads to the login page', first.hops);
  check(/\/interaction\/[^/]+$/.test(new URL(first.url).pathname), 'login page is /interaction/<uid>', first.url);
  const html = await first.res.text();
  const action = html.match(/<form method="post" action="([^"]+\/login)">/)?.[1];
  check(action, 'login page has a form posting to /interaction/<uid>/login', html.slice(0, 400));
  check(html.includes(`<button name="user" value="${sub}">Sign in as `), `login page has a button for ${sub}`, html);
  const done = await follow(jar, issuer, new URL(action, first.url).href, { method: 'POST', form: { user: sub } });
  return done;
}

function codeFromCallback(done, req, issuer) {
  check(done.left, 'flow ends with a redirect to the client', done.hops);
  const cb = new URL(done.url);
  const want = new URL(req.redirectUri);
  check(cb.origin === want.origin && cb.pathname === want.pathname, 'redirect goes to the requested redirect_uri', done.url);
  check(!cb.searchParams.get('error'), 'no error in the callback', done.url);
  check(cb.searchParams.get('state') === req.state, 'state is returned unchanged', done.url);
  check(cb.searchParams.get('iss') === issuer, 'RFC 9207 iss parameter is the issuer', done.url);
  const code = cb.searchParams.get('code');
  check(code, 'callback carries a code', done.url);
  return code;
}

async function tokenRequest(meta, form, clientAuth) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (clientAuth?.secret) {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientAuth.id)}:${encodeURIComponent(clientAuth.secret)}`).toString('base64')}`;
  } else if (clientAuth) {
    form = { ...form, client_id: clientAuth.id };
  }
  return getJson(meta.token_endpoint, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
}

async function exchange(meta, req, code, clientAuth) {
  const r = await tokenRequest(meta, {
    grant_type: 'authorization_code', code, redirect_uri: req.redirectUri, code_verifier: req.verifier,
  }, clientAuth);
  check(r.status === 200 && r.json?.id_token && r.json?.access_token, 'code exchange returns tokens', r.text);
  return r.json;
}

async function jwksOf(meta) {
  const r = await getJson(meta.jwks_uri);
  check(r.status === 200 && Array.isArray(r.json?.keys), 'JWKS is served', r.text);
  check(r.json.keys.every((k) => k.d === undefined), 'JWKS holds no private members', r.json);
  return r.json;
}

function checkIdToken(idToken, jwks, { issuer, clientId, nonce, user, alg, ttl }) {
  const v = verifyJwt(idToken, jwks);
  check(v.ok, `ID token signature verifies against the JWKS (${v.header.alg}, kid ${v.header.kid})`, v.why);
  const c = v.payload;
  check(v.header.alg === alg, `ID token alg is ${alg}`, v.header);
  check(c.iss === issuer, 'iss is the issuer', c.iss);
  check(c.aud === clientId || (Array.isArray(c.aud) && c.aud.includes(clientId)), 'aud is the client id', c.aud);
  if (nonce !== undefined) check(c.nonce === nonce, 'nonce is echoed', c.nonce);
  check(c.sub === user.sub, 'sub is the user', c.sub);
  check(c.acr === user.acr, `acr is ${user.acr}`, c);
  check(c.hetu === user.hetu, 'hetu claim', c.hetu);
  check(JSON.stringify(c.groups) === JSON.stringify(user.groups), 'groups claim', c.groups);
  check(JSON.stringify(c.roles) === JSON.stringify(user.roles), 'roles claim', c.roles);
  check(c.name === user.name && c.given_name === user.given_name && c.family_name === user.family_name, 'name claims', c);
  check(typeof c.auth_time === 'number', 'auth_time present', c);
  if (ttl !== undefined) check(c.exp - c.iat === ttl, `ID token lifetime is ${ttl} s`, c.exp - c.iat);
  return v;
}

const ANNA = {
  sub: 'nurse-anna', name: 'Anna Hoitaja', given_name: 'Anna', family_name: 'Hoitaja',
  hetu: '010190-987H', groups: ['team:station-a'], roles: ['nurse'], acr: FTN_LOA3,
};
const MATTI = {
  sub: 'patient-matti', name: 'Matti Meikäläinen', given_name: 'Matti', family_name: 'Meikäläinen',
  hetu: '311299-934B', groups: [], roles: [], acr: FTN_LOA2,
};

const LIISA = {
  sub: 'dpo-liisa', name: 'Liisa Tietosuoja', given_name: 'Liisa', family_name: 'Tietosuoja',
  hetu: '121170-958K', groups: [], roles: ['dpo'], acr: FTN_LOA3,
};

async function scenarioA() {
  step('A: start server with the built-in config');
  const srv = startServer([]);
  const { issuer, port } = await srv.ready;
  check(issuer === `http://127.0.0.1:${port}` && port > 0, 'ready line has issuer and port', { issuer, port });

  step('A: discovery');
  const d = await getJson(`${issuer}/.well-known/openid-configuration`);
  check(d.status === 200, 'discovery document served', d.text);
  const meta = d.json;
  check(meta.issuer === issuer, 'discovery issuer matches', meta.issuer);
  check(meta.code_challenge_methods_supported?.includes('S256'), 'S256 PKCE advertised', meta.code_challenge_methods_supported);
  check([FTN_LOA2, FTN_LOA3].every((a) => meta.acr_values_supported?.includes(a)), 'FTN loa2/loa3 acr values advertised', meta.acr_values_supported);
  check(['hetu', 'groups', 'roles', 'acr'].every((c) => meta.claims_supported?.includes(c)), 'hetu/groups/roles/acr in claims_supported', meta.claims_supported);
  const jwks0 = await jwksOf(meta);
  check(jwks0.keys.length === 1 && jwks0.keys[0].alg === 'RS256', 'one RS256 key at start', jwks0);

  step('A: PKCE is required');
  {
    const u = new URL(authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:9/oidc/callback' }).url);
    u.searchParams.delete('code_challenge');
    u.searchParams.delete('code_challenge_method');
    const r = await follow(new CookieJar(), issuer, u.href);
    check(r.left && new URL(r.url).searchParams.get('error') === 'invalid_request', 'request without code_challenge is refused', r.url);
  }

  step('A: login as nurse-anna through the form (luukku-console)');
  const jar = new CookieJar();
  // any loopback port is accepted for the loopback redirect URIs (native client)
  const req = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:45678/oidc/callback' });
  const done = await loginViaForm(jar, meta, issuer, req, ANNA.sub);
  const code = codeFromCallback(done, req, issuer);

  step('A: code exchange');
  const client = { id: 'luukku-console' };
  const wrong = await tokenRequest(meta, {
    grant_type: 'authorization_code', code, redirect_uri: req.redirectUri, code_verifier: pkce().verifier,
  }, client);
  check(wrong.status === 400 && wrong.json?.error === 'invalid_grant', 'wrong code_verifier is refused', wrong.text);
  const tokens = await exchange(meta, req, code, client); // a failed PKCE check leaves the code usable
  check(tokens.token_type === 'Bearer', 'token_type Bearer', tokens.token_type);
  check(tokens.refresh_token, 'refresh token issued for luukku-console', tokens);
  const idv = checkIdToken(tokens.id_token, jwks0, {
    issuer, clientId: 'luukku-console', nonce: req.nonce, user: ANNA, alg: 'RS256', ttl: 3600,
  });
  const kid0 = idv.header.kid;

  step('A: userinfo');
  const ui = await getJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  check(ui.status === 200 && ui.json?.sub === ANNA.sub && ui.json?.hetu === ANNA.hetu, 'userinfo returns sub and hetu', ui.text);

  step('A: refresh');
  const rf = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, client);
  check(rf.status === 200 && rf.json?.id_token && rf.json?.access_token, 'refresh returns new tokens', rf.text);
  checkIdToken(rf.json.id_token, jwks0, { issuer, clientId: 'luukku-console', user: ANNA, alg: 'RS256' });
  const refreshToken = rf.json.refresh_token || tokens.refresh_token;

  step('A: an interaction started before the rotation');
  const pendingJar = new CookieJar();
  const pendingReq = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:45678/oidc/callback' });
  const pending = await follow(pendingJar, issuer, pendingReq.url);
  check(pending.res.status === 200, 'login page shown', pending.hops);
  await pending.res.arrayBuffer();

  step('A: rotate the signing key');
  const rot = await getJson(`${issuer}/_test/rotate`, { method: 'POST' });
  check(rot.status === 200 && rot.json?.rotated?.length === 1, 'POST /_test/rotate reports one new key', rot.text);
  const kid1 = rot.json.rotated[0].kid;
  check(kid1 !== kid0, 'the new kid differs from the old one', { kid0, kid1 });
  const jwks1 = await jwksOf(meta);
  check(jwks1.keys.length === 2 && jwks1.keys[0].kid === kid1 && jwks1.keys[1].kid === kid0, 'JWKS lists the new key first and keeps the old one', jwks1.keys.map((k) => k.kid));
  checkIdToken(tokens.id_token, jwks1, { issuer, clientId: 'luukku-console', user: ANNA, alg: 'RS256' });

  step('A: refresh token from before the rotation still works, new ID token uses the new key');
  const rf2 = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: refreshToken }, client);
  check(rf2.status === 200 && rf2.json?.id_token, 'refresh after rotation works', rf2.text);
  const v2 = checkIdToken(rf2.json.id_token, jwks1, { issuer, clientId: 'luukku-console', user: ANNA, alg: 'RS256' });
  check(v2.header.kid === kid1, 'ID token after rotation is signed with the new kid', v2.header.kid);

  step('A: session from before the rotation still works (SSO, no login page)');
  const req3 = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://localhost:1234/oidc/callback' });
  const done3 = await follow(jar, issuer, req3.url);
  check(!done3.hops.some((h) => /\/interaction\/[^/]+\/login/.test(h)), 'no login step with an existing session', done3.hops);
  const code3 = codeFromCallback(done3, req3, issuer);
  const t3 = await exchange(meta, req3, code3, client);
  const v3 = checkIdToken(t3.id_token, jwks1, { issuer, clientId: 'luukku-console', nonce: req3.nonce, user: ANNA, alg: 'RS256' });
  check(v3.header.kid === kid1, 'ID token from a new code uses the new kid', v3.header.kid);

  step('A: the interaction started before the rotation completes after it');
  {
    const fin = await follow(pendingJar, issuer, `${pending.url}/login`, { method: 'POST', form: { user: LIISA.sub } });
    const t = await exchange(meta, pendingReq, codeFromCallback(fin, pendingReq, issuer), client);
    const v = checkIdToken(t.id_token, jwks1, { issuer, clientId: 'luukku-console', nonce: pendingReq.nonce, user: LIISA, alg: 'RS256' });
    check(v.header.kid === kid1, 'and its ID token uses the new kid', v.header.kid);
  }

  step('A: GET /_test/keys');
  const pk = await getJson(`${issuer}/_test/keys`);
  check(pk.status === 200 && pk.json?.keys?.length === 2, '/_test/keys lists both keys', pk.text);
  check(pk.json.keys[0].kid === kid1 && typeof pk.json.keys[0].d === 'string', '/_test/keys gives the private key of the current signer first', pk.json.keys.map((k) => k.kid));
  {
    // a test can sign its own token with it
    const priv = crypto.createPrivateKey({ key: pk.json.keys[0], format: 'jwk' });
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid: kid1, typ: 'JWT' })).toString('base64url');
    const p = Buffer.from(JSON.stringify({ iss: issuer, sub: 'forged' })).toString('base64url');
    const sig = crypto.sign('sha256', Buffer.from(`${h}.${p}`), priv).toString('base64url');
    check(verifyJwt(`${h}.${p}.${sig}`, jwks1).ok, 'a token signed with a /_test/keys key verifies against the JWKS');
  }

  step('A: drop the old key');
  const drop = await getJson(`${issuer}/_test/rotate?drop_old=1`, { method: 'POST' });
  check(drop.status === 200 && drop.json?.dropped?.includes(kid0) && drop.json?.rotated?.length === 0, 'drop_old=1 drops the old key and makes no new one', drop.text);
  const jwks2 = await jwksOf(meta);
  check(jwks2.keys.length === 1 && jwks2.keys[0].kid === kid1, 'JWKS now holds only the new key', jwks2.keys.map((k) => k.kid));
  check(!verifyJwt(tokens.id_token, jwks2).ok, 'the old ID token no longer verifies (kid gone)');

  step('A: GET login shortcut, luukku-ident, patient-matti (loa2)');
  {
    const j = new CookieJar();
    const r = authUrl(meta, { clientId: 'luukku-ident', redirectUri: 'http://127.0.0.1:5555/oidc/callback' });
    const first = await follow(j, issuer, r.url);
    check(first.res.status === 200 && /\/interaction\/[^/]+$/.test(first.url), 'ident flow reaches the login page', first.hops);
    await first.res.arrayBuffer();
    const fin = await follow(j, issuer, `${first.url}/login?user=${MATTI.sub}`);
    const c = codeFromCallback(fin, r, issuer);
    const t = await exchange(meta, r, c, { id: 'luukku-ident' });
    check(!t.refresh_token, 'no refresh token for luukku-ident (authorization_code only)', t);
    checkIdToken(t.id_token, jwks2, { issuer, clientId: 'luukku-ident', nonce: r.nonce, user: MATTI, alg: 'RS256' });
    const replay = await tokenRequest(meta, {
      grant_type: 'authorization_code', code: c, redirect_uri: r.redirectUri, code_verifier: r.verifier,
    }, { id: 'luukku-ident' });
    check(replay.status === 400 && replay.json?.error === 'invalid_grant', 'a used code is refused', replay.text);
    const revoked = await getJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${t.access_token}` } });
    check(revoked.status === 401, 'replaying a code revokes the tokens issued from it', revoked.text);
  }

  step('A: login_hint logs in directly; acr override from the login request');
  {
    const j = new CookieJar();
    const r = authUrl(meta, { clientId: 'luukku-ident', redirectUri: 'http://127.0.0.1:5555/oidc/callback', extra: { login_hint: MATTI.sub } });
    const fin = await follow(j, issuer, r.url);
    const c = codeFromCallback(fin, r, issuer);
    const t = await exchange(meta, r, c, { id: 'luukku-ident' });
    checkIdToken(t.id_token, jwks2, { issuer, clientId: 'luukku-ident', nonce: r.nonce, user: MATTI, alg: 'RS256' });

    const j2 = new CookieJar();
    const r2 = authUrl(meta, { clientId: 'luukku-ident', redirectUri: 'http://127.0.0.1:5555/oidc/callback' });
    const first = await follow(j2, issuer, r2.url);
    await first.res.arrayBuffer();
    const fin2 = await follow(j2, issuer, `${first.url}/login`, { method: 'POST', form: { user: MATTI.sub, acr: FTN_LOA3 } });
    const t2 = await exchange(meta, r2, codeFromCallback(fin2, r2, issuer), { id: 'luukku-ident' });
    checkIdToken(t2.id_token, jwks2, { issuer, clientId: 'luukku-ident', user: { ...MATTI, acr: FTN_LOA3 }, alg: 'RS256' });
  }

  step('A: cancel gives access_denied');
  {
    const j = new CookieJar();
    const r = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:5555/oidc/callback' });
    const first = await follow(j, issuer, r.url);
    await first.res.arrayBuffer();
    const fin = await follow(j, issuer, `${first.url}/abort`, { method: 'POST', form: { abort: '1' } });
    check(fin.left && new URL(fin.url).searchParams.get('error') === 'access_denied', 'abort redirects with error=access_denied', fin.url);
  }

  step('A: SIGTERM');
  srv.child.kill('SIGTERM');
  const ex = await Promise.race([srv.exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
  check(ex !== 'timeout' && ex.code === 0, 'server exits 0 on SIGTERM within 5 s', ex);
}

async function scenarioB() {
  step('B: start server with --config (ES256, confidential console client) and --ttl-seconds 5');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luukku-oidc-'));
  const cfgPath = path.join(dir, 'config.json');
  const user = {
    sub: 'nurse-kalle', name: 'Kalle Testi', given_name: 'Kalle', family_name: 'Testi',
    hetu: '280888-976P', groups: ['team:station-b'], roles: ['nurse', 'supervisor', 'dpo'], acr: FTN_LOA2,
  };
  fs.writeFileSync(cfgPath, JSON.stringify({
    signing_alg: 'ES256',
    clients: [{
      client_id: 'luukku-console',
      client_secret: 'console-secret',
      redirect_uris: ['http://127.0.0.1:7000/console/callback'],
    }],
    users: [user],
  }));
  const srv = startServer(['--config', cfgPath, '--ttl-seconds', '5']);
  try {
    const { issuer } = await srv.ready;
    const meta = (await getJson(`${issuer}/.well-known/openid-configuration`)).json;
    check(meta?.id_token_signing_alg_values_supported?.includes('ES256'), 'ES256 advertised', meta?.id_token_signing_alg_values_supported);
    const jwks = await jwksOf(meta);
    check(jwks.keys.length === 1 && jwks.keys[0].alg === 'ES256' && jwks.keys[0].crv === 'P-256', 'one P-256 key', jwks);

    step('B: login, exchange with client_secret_basic');
    const jar = new CookieJar();
    const req = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:7000/console/callback' });
    const done = await loginViaForm(jar, meta, issuer, req, user.sub);
    const code = codeFromCallback(done, req, issuer);
    const noAuth = await tokenRequest(meta, {
      grant_type: 'authorization_code', code, redirect_uri: req.redirectUri, code_verifier: req.verifier,
    }, { id: 'luukku-console' });
    check(noAuth.status === 401 && noAuth.json?.error === 'invalid_client', 'confidential client without secret is refused', noAuth.text);
    const req2 = authUrl(meta, { clientId: 'luukku-console', redirectUri: 'http://127.0.0.1:7000/console/callback' });
    const code2 = codeFromCallback(await follow(jar, issuer, req2.url), req2, issuer);
    const auth = { id: 'luukku-console', secret: 'console-secret' };
    const tokens = await exchange(meta, req2, code2, auth);
    const v = checkIdToken(tokens.id_token, jwks, {
      issuer, clientId: 'luukku-console', nonce: req2.nonce, user, alg: 'ES256', ttl: 5,
    });
    check(tokens.expires_in <= 5, 'access token expires_in follows --ttl-seconds', tokens.expires_in);

    step('B: introspection (confidential client)');
    const intro = await getJson(meta.introspection_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('luukku-console:console-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    check(intro.status === 200 && intro.json?.active === true && intro.json?.sub === user.sub, 'introspection: active, sub', intro.text);
    check(intro.json.hetu === user.hetu && JSON.stringify(intro.json.roles) === JSON.stringify(user.roles), 'introspection carries hetu and roles', intro.json);

    step('B: ES256 rotation');
    const rot = await getJson(`${issuer}/_test/rotate`, { method: 'POST' });
    check(rot.status === 200 && rot.json.rotated[0].alg === 'ES256' && rot.json.rotated[0].kid !== v.header.kid, 'rotation makes a new ES256 key', rot.text);
    const rf = await tokenRequest(meta, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth);
    check(rf.status === 200, 'refresh with client secret after rotation', rf.text);
    const jwks1 = await jwksOf(meta);
    const v2 = checkIdToken(rf.json.id_token, jwks1, { issuer, clientId: 'luukku-console', user, alg: 'ES256', ttl: 5 });
    check(v2.header.kid === rot.json.rotated[0].kid, 'refreshed ID token uses the new ES256 key', v2.header.kid);
  } finally {
    srv.child.kill('SIGTERM');
    await srv.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.on('exit', () => {
  for (const child of servers) child.kill('SIGKILL');
});

try {
  await scenarioA();
  await scenarioB();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`selftest: all checks passed in ${secs} s\n`);
  process.stdout.write(`selftest: ${passed} passed, 0 failed\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`\nselftest FAILED at step "${currentStep}": ${err instanceof CheckFailed ? err.message : err.stack}\n`);
  for (const child of servers) child.kill('SIGTERM');
  process.stdout.write(`selftest: ${passed} passed, 1 failed\n`);
  process.exit(1);
}

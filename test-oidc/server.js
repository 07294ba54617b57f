#!/usr/bin/env node
// Test-only OpenID Connect provider for the Luukku test suite.
//
// Built on oidc-provider (panva/node-oidc-provider, version pinned in package.json).
// NOT for production: plain http on 127.0.0.1, in-memory state, private keys served
// by GET /_test/keys. See README.md for the config format and the test endpoints.
//
// Usage: node server.js [--port N] [--config FILE] [--ttl-seconds N]
//                       [--signing-alg RS256|PS256|ES256|EdDSA] [--redirect-uri URI]...
//                       [--exit-with-stdin]
// When ready it prints exactly one line to stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// Everything else (logs, warnings) goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';

// stdout carries only the ready line. oidc-provider prints its notices with
// console.info (stdout), so send console.log/info to stderr before loading it.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);
// oidc-provider 9 warns on every Node.js release before 22 ("Unsupported runtime").
// The machines here run Node.js 20; selftest.mjs checks the flows work on it, so this
// one warning is dropped to keep test logs readable. All other warnings pass through.
const origWarn = console.warn.bind(console);
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
  origWarn(...args);
};

const { default: Provider, errors } = await import('oidc-provider');

const generateKeyPair = promisify(crypto.generateKeyPair);

const FTN_LOA2 = 'http://ftn.ficora.fi/2017/loa2';
const FTN_LOA3 = 'http://ftn.ficora.fi/2017/loa3';
const SUPPORTED_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const BASE_PROFILE_CLAIMS = ['name', 'given_name', 'family_name', 'hetu', 'groups', 'roles'];
const USER_FIELDS = new Set(['sub', 'acr', 'amr', ...BASE_PROFILE_CLAIMS]);

function fail(msg) {
  console.error(`test-oidc: ${msg}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// command line and configuration

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      config: { type: 'string' },
      'ttl-seconds': { type: 'string' },
      'signing-alg': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'exit-with-stdin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  fail(err.message);
}
if (args.help) {
  process.stderr.write('usage: node server.js [--port N] [--config FILE] [--ttl-seconds N] '
    + '[--signing-alg RS256|PS256|ES256|EdDSA] [--redirect-uri URI]... [--exit-with-stdin]\n'
    + 'see README.md\n');
  process.exit(0);
}

function intArg(value, name, min) {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

const port = intArg(args.port ?? process.env.PORT, '--port/PORT', 0) ?? 0;
if (port > 65535) fail('--port must be <= 65535');

const LOOPBACK_REDIRECTS = ['http://127.0.0.1/oidc/callback', 'http://localhost/oidc/callback'];
const LOOPBACK_POST_LOGOUT = ['http://127.0.0.1/', 'http://localhost/'];

const DEFAULT_CONFIG = {
  signing_alg: 'RS256',
  auto_login_hint: true,
  ttl: {
    access_token: 3600,
    id_token: 3600,
    refresh_token: 86400,
    authorization_code: 60,
    interaction: 3600,
    session: 86400,
    grant: 86400,
  },
  clients: [
    {
      client_id: 'luukku-console',
      client_name: 'Luukku console',
      token_endpoint_auth_method: 'none',
      redirect_uris: LOOPBACK_REDIRECTS,
      post_logout_redirect_uris: LOOPBACK_POST_LOGOUT,
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile offline_access',
    },
    {
      client_id: 'luukku-ident',
      client_name: 'Luukku patient identification',
      token_endpoint_auth_method: 'none',
      redirect_uris: LOOPBACK_REDIRECTS,
      post_logout_redirect_uris: LOOPBACK_POST_LOGOUT,
      grant_types: ['authorization_code'],
      scope: 'openid profile',
    },
  ],
  // Test personal identity codes (individual number 900-999), valid check characters.
  users: [
    {
      sub: 'nurse-anna', name: 'Anna Hoitaja', given_name: 'Anna', family_name: 'Hoitaja',
      hetu: '010190-987H', groups: ['team:station-a'], roles: ['nurse'], acr: FTN_LOA3,
    },
    {
      sub: 'supervisor-pekka', name: 'Pekka Esihenkilö', given_name: 'Pekka', family_name: 'Esihenkilö',
      hetu: '150585-9122', groups: ['team:station-a', 'team:station-b'], roles: ['nurse', 'supervisor'], acr: FTN_LOA3,
    },
    {
      sub: 'dpo-liisa', name: 'Liisa Tietosuoja', given_name: 'Liisa', family_name: 'Tietosuoja',
      hetu: '121170-958K', groups: [], roles: ['dpo'], acr: FTN_LOA3,
    },
    {
      sub: 'patient-matti', name: 'Matti Meikäläinen', given_name: 'Matti', family_name: 'Meikäläinen',
      hetu: '311299-934B', groups: [], roles: [], acr: FTN_LOA2,
    },
    {
      sub: 'patient-maija', name: 'Maija Meikäläinen', given_name: 'Maija', family_name: 'Meikäläinen',
      hetu: '020304A901T', groups: [], roles: [], acr: FTN_LOA3,
    },
  ],
};

let fileConfig = {};
if (args.config) {
  try {
    fileConfig = JSON.parse(fs.readFileSync(args.config, 'utf8'));
  } catch (err) {
    fail(`cannot read --config ${args.config}: ${err.message}`);
  }
  if (!fileConfig || typeof fileConfig !== 'object' || Array.isArray(fileConfig)) {
    fail('--config must hold a JSON object');
  }
}

// A config file replaces the default clients / users lists when it has them and
// overrides single keys otherwise; ttl is merged key by key.
const config = {
  ...DEFAULT_CONFIG,
  ...fileConfig,
  ttl: { ...DEFAULT_CONFIG.ttl, ...(fileConfig.ttl || {}) },
};
const ttlSeconds = intArg(args['ttl-seconds'] ?? process.env.OIDC_TTL_SECONDS, '--ttl-seconds', 1);
if (ttlSeconds !== undefined) {
  config.ttl.access_token = ttlSeconds;
  config.ttl.id_token = ttlSeconds;
}
for (const [k, v] of Object.entries(config.ttl)) {
  if (!Number.isInteger(v) || v < 1) fail(`ttl.${k} must be a positive integer (seconds)`);
}
if (args['signing-alg']) config.signing_alg = args['signing-alg'];
if (!SUPPORTED_ALGS.includes(config.signing_alg)) {
  fail(`signing_alg must be one of ${SUPPORTED_ALGS.join(', ')}, got ${config.signing_alg}`);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isLoopbackHttp = (uri) => {
  const u = URL.parse(uri);
  return !!u && u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
};

if (!Array.isArray(config.clients) || !config.clients.length) fail('config.clients must be a non-empty array');
const clients = config.clients.map((c, i) => {
  if (!c || typeof c.client_id !== 'string' || !c.client_id) fail(`clients[${i}].client_id is required`);
  const client = structuredClone(c);
  client.redirect_uris = [...new Set([...(client.redirect_uris || []), ...(args['redirect-uri'] || [])])];
  if (!client.redirect_uris.length) fail(`clients[${i}] (${client.client_id}) needs redirect_uris (or --redirect-uri)`);
  client.grant_types ??= ['authorization_code', 'refresh_token'];
  client.response_types ??= ['code'];
  client.token_endpoint_auth_method ??= client.client_secret ? 'client_secret_basic' : 'none';
  client.id_token_signed_response_alg ??= config.signing_alg;
  // RFC 8252: a "native" client may use its loopback redirect URIs on any port, which is
  // what tests want (Luukku listens on a port picked at run time).
  client.application_type ??= client.redirect_uris.every(isLoopbackHttp) ? 'native' : 'web';
  if (client.post_logout_redirect_uris === undefined && client.application_type === 'native') {
    client.post_logout_redirect_uris = LOOPBACK_POST_LOGOUT;
  }
  return client;
});
const clientIds = new Set(clients.map((c) => c.client_id));
if (clientIds.size !== clients.length) fail('config.clients has duplicate client_id values');

if (!Array.isArray(config.users) || !config.users.length) fail('config.users must be a non-empty array');
const users = new Map();
for (const [i, u] of config.users.entries()) {
  if (!u || typeof u.sub !== 'string' || !u.sub) fail(`users[${i}].sub is required`);
  if (users.has(u.sub)) fail(`users has a duplicate sub ${u.sub}`);
  for (const k of ['groups', 'roles']) {
    if (u[k] !== undefined && !Array.isArray(u[k])) fail(`users[${i}].${k} must be an array`);
  }
  users.set(u.sub, {
    ...u,
    name: u.name ?? ([u.given_name, u.family_name].filter(Boolean).join(' ') || u.sub),
    groups: u.groups ?? [],
    roles: u.roles ?? [],
    acr: u.acr ?? FTN_LOA2,
  });
}
// Extra per-user claims (any key not listed in USER_FIELDS, e.g. "email") are released
// with the profile scope as well.
const extraClaimNames = new Set();
for (const u of users.values()) {
  for (const k of Object.keys(u)) if (!USER_FIELDS.has(k)) extraClaimNames.add(k);
}

const acrValues = [...new Set([
  FTN_LOA2, FTN_LOA3, ...(config.acr_values || []), ...[...users.values()].map((u) => u.acr),
])];

// Claims per scope. `claims` in the config file replaces this mapping entirely.
// oidc-provider puts acr/auth_time in an ID token only when the request asked for them
// (acr_values, max_age, claims parameter) unless the openid scope lists them, as here:
// every ID token carries acr (from the login), auth_time, and amr when the user has one.
const claimsConfig = config.claims ?? {
  openid: ['sub', 'acr', 'auth_time', 'amr'],
  profile: [...BASE_PROFILE_CLAIMS, ...extraClaimNames],
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  iss: null,
};

// ---------------------------------------------------------------------------
// signing keys

function thumbprint(jwk) {
  let members;
  switch (jwk.kty) {
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break;
    case 'EC': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }; break;
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break;
    default: throw new Error(`unsupported kty ${jwk.kty}`);
  }
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

async function generateSigningKey(alg) {
  let pair;
  if (alg === 'RS256' || alg === 'PS256') {
    pair = await generateKeyPair('rsa', { modulusLength: 2048 });
  } else if (alg === 'ES256') {
    pair = await generateKeyPair('ec', { namedCurve: 'P-256' });
  } else if (alg === 'EdDSA') {
    pair = await generateKeyPair('ed25519');
  } else {
    throw new Error(`unsupported alg ${alg}`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `${alg.toLowerCase()}-${thumbprint(jwk).slice(0, 16)}`, alg, use: 'sig' };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const publicJwk = (jwk) => Object.fromEntries(
  Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k)),
);

// Every algorithm some client signs with needs a key; keys[] order matters: oidc-provider
// signs with the first key that fits the algorithm, and publishes all of them.
const algsInUse = [...new Set([
  config.signing_alg,
  ...clients.flatMap((c) => [c.id_token_signed_response_alg, c.userinfo_signed_response_alg])
    .filter((a) => a && a !== 'none'),
])];
for (const alg of algsInUse) {
  if (!SUPPORTED_ALGS.includes(alg)) fail(`unsupported signing alg ${alg} (use ${SUPPORTED_ALGS.join(', ')})`);
}

let keys = [];
if (config.keys !== undefined) {
  if (!Array.isArray(config.keys?.keys)) fail('config.keys must be a JWKS object {"keys":[...]} of private keys');
  keys = config.keys.keys.map((k) => ({ use: 'sig', ...k, kid: k.kid ?? thumbprint(k) }));
}
for (const alg of algsInUse) {
  if (!keys.some((k) => k.alg === alg)) keys.push(await generateSigningKey(alg));
}

// ---------------------------------------------------------------------------
// storage shared by every Provider instance (they are rebuilt on key rotation)

const store = new Map(); // key -> { value, exp (ms epoch or Infinity) }
const grantIndex = new Map(); // grantId -> Set of store keys

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.exp <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) if (entry.exp <= now) store.delete(key);
  for (const [grantId, set] of grantIndex) {
    for (const key of set) if (!store.has(key)) set.delete(key);
    if (!set.size) grantIndex.delete(grantId);
  }
}, 30_000).unref();

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    const key = this.key(id);
    store.set(key, { value: payload, exp });
    if (this.model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, { value: id, exp });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { value: id, exp });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) || []) store.delete(key);
    grantIndex.delete(grantId);
  }
}

// ---------------------------------------------------------------------------
// provider

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
${body}
</body></html>
`;

const userClaims = (u) => {
  const { acr, amr, ...claims } = u; // acr/amr come from the login, not from the account
  return claims;
};

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];
let issuer; // set once the port is known

function buildProvider() {
  const provider = new Provider(issuer, {
    adapter: SharedMemoryAdapter,
    clients: structuredClone(clients),
    jwks: { keys: structuredClone(keys) },
    cookies: { keys: cookieKeys },
    claims: structuredClone(claimsConfig),
    scopes: ['openid', 'offline_access'],
    acrValues,
    // Release the scope's claims (hetu, groups, roles, ...) in the ID token too,
    // not only from the userinfo endpoint.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return userClaims(user);
        },
      };
    },
    // Claims kept with opaque access tokens, shown by the introspection endpoint.
    async extraTokenClaims(ctx, token) {
      const user = token.accountId && users.get(token.accountId);
      if (!user) return undefined;
      return { hetu: user.hetu, groups: user.groups, roles: user.roles };
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `<h1>Sign out from the Luukku test provider?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<h1>Signed out</h1>');
        },
      },
    },
    responseTypes: ['code'],
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    clientBasedCORS: () => true, // test only: any origin may call token/userinfo
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: config.ttl.access_token,
      IdToken: config.ttl.id_token,
      RefreshToken: config.ttl.refresh_token,
      AuthorizationCode: config.ttl.authorization_code,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: Math.max(config.ttl.grant, config.ttl.refresh_token),
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>\n${Object.entries(out)
        .map(([k, v]) => `<p><strong>${esc(k)}</strong>: <span class="${esc(k)}">${esc(v)}</span></p>`).join('\n')}`);
    },
  });
  provider.on('server_error', (ctx, err) => console.error('test-oidc: server_error', err));
  return { provider, handler: provider.callback() };
}

let current; // { provider, handler }

// ---------------------------------------------------------------------------
// interactions: login page, login, auto-consent

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
const sendJson = (res, status, obj) => send(res, status, 'application/json', `${JSON.stringify(obj)}\n`);
const sendHtml = (res, status, html) => send(res, status, 'text/html; charset=utf-8', html);

async function readForm(req) {
  if (req.method !== 'POST') return new URLSearchParams();
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 65536) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] || '';
  if (type.includes('application/json')) {
    return new URLSearchParams(Object.entries(JSON.parse(body || '{}')).map(([k, v]) => [k, String(v)]));
  }
  return new URLSearchParams(body);
}

function requestedClaimNames(params) {
  if (!params.claims) return [];
  try {
    const { id_token: idToken, userinfo } = JSON.parse(params.claims);
    return [...new Set([...Object.keys(idToken || {}), ...Object.keys(userinfo || {})])];
  } catch {
    return [];
  }
}

function renderLogin(uid, details) {
  const client = clients.find((c) => c.client_id === details.params.client_id);
  const buttons = [...users.values()].map((u) => `<li><button name="user" value="${esc(u.sub)}">Sign in as ${esc(u.name)}</button>`
    + ` <small>${esc(u.sub)} · ${esc(u.acr)}${u.roles.length ? ` · ${esc(u.roles.join(', '))}` : ''}</small></li>`).join('\n');
  return page('Sign in', `<h1>Sign in to ${esc(client?.client_name || details.params.client_id)}</h1>
<p>Luukku test OpenID provider: pick a test user.</p>
<form method="post" action="/interaction/${esc(uid)}/login">
<ul>
${buttons}
</ul>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
<button name="abort" value="1">Cancel</button>
</form>`);
}

async function finishLogin(req, res, details, sub, acrOverride) {
  const { provider } = current;
  const user = users.get(sub);
  if (!user) {
    return sendHtml(res, 400, page('Unknown user', `<h1>Unknown user</h1><p class="error">no configured user with sub ${esc(sub)}</p>`));
  }
  let acr = user.acr;
  if (acrOverride) {
    if (!acrValues.includes(acrOverride)) {
      return sendHtml(res, 400, page('Bad acr', `<h1>Bad acr</h1><p class="error">acr ${esc(acrOverride)} is not one of ${esc(acrValues.join(', '))}</p>`));
    }
    acr = acrOverride;
  }
  // Consent is given together with the login: a grant for everything the client asked for.
  const { params } = details;
  const grant = new provider.Grant({ accountId: sub, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  const claims = requestedClaimNames(params);
  if (claims.length) grant.addOIDCClaims(claims);
  const grantId = await grant.save();
  const login = { accountId: sub, acr, remember: true };
  if (user.amr) login.amr = user.amr;
  return provider.interactionFinished(req, res, { login, consent: { grantId } }, { mergeWithLastSubmission: false });
}

async function autoConsent(req, res, details) {
  const { provider } = current;
  const { prompt: { details: missing }, params, session } = details;
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const existing = !!grant;
  grant ??= new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = existing ? {} : { grantId };
  return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

async function interactionRoute(req, res, url) {
  const m = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?\/?$/);
  if (!m) return sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
  const [, uid, action] = m;
  if (!['GET', 'POST'].includes(req.method)) return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, POST' });

  const { provider } = current;
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      return sendHtml(res, 400, page('Interaction not found', `<h1>Interaction not found</h1><p class="error">${esc(err.error_description || err.message)}</p>`
        + '<p>The interaction cookie was missing or the interaction expired: start again from the authorization request with the same cookie jar.</p>'));
    }
    throw err;
  }
  if (details.uid !== uid) {
    return sendHtml(res, 400, page('Interaction mismatch', '<h1>Interaction mismatch</h1><p class="error">the interaction cookie belongs to another interaction</p>'));
  }
  const form = await readForm(req);
  const input = (name) => form.get(name) ?? url.searchParams.get(name) ?? undefined;
  const promptName = details.prompt.name;

  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }

  if (promptName === 'consent') {
    return autoConsent(req, res, details); // configured clients never see a consent page
  }
  if (promptName !== 'login') {
    return sendHtml(res, 400, page('Unsupported prompt', `<h1>Unsupported prompt</h1><p class="error">${esc(promptName)}</p>`));
  }

  if (action === 'login') {
    const sub = input('user') ?? input('sub');
    if (!sub) return sendHtml(res, 400, page('No user', '<h1>No user</h1><p class="error">give user=&lt;sub&gt;</p>'));
    return finishLogin(req, res, details, sub, input('acr'));
  }

  // GET /interaction/:uid — the login page, or a direct login when login_hint names a user
  const hint = details.params.login_hint;
  if (config.auto_login_hint && hint && users.has(hint)) {
    return finishLogin(req, res, details, hint, undefined);
  }
  return sendHtml(res, 200, renderLogin(uid, details));
}

// ---------------------------------------------------------------------------
// test endpoints

let rotation = Promise.resolve();

function rotate(url) {
  const task = rotation.then(async () => {
    const dropOld = ['1', 'true', 'yes'].includes(url.searchParams.get('drop_old'));
    const algParam = url.searchParams.get('alg');
    const algs = algParam ? algParam.split(',') : algsInUse;
    for (const alg of algs) {
      if (!SUPPORTED_ALGS.includes(alg)) throw Object.assign(new Error(`unsupported alg ${alg}`), { status: 400 });
    }
    const rotated = [];
    let dropped = [];
    let next = [...keys];
    if (dropOld) {
      // keep only the newest (first) key of each algorithm
      const seen = new Set();
      next = next.filter((k) => {
        if (algParam && !algs.includes(k.alg)) return true;
        if (seen.has(k.alg)) {
          dropped.push(k.kid);
          return false;
        }
        seen.add(k.alg);
        return true;
      });
    } else {
      for (const alg of algs) {
        const key = await generateSigningKey(alg);
        rotated.push({ alg, kid: key.kid });
        next.unshift(key);
      }
    }
    keys = next;
    current = buildProvider(); // same issuer, adapter state and cookie keys
    dropped = dropped.length ? dropped : undefined;
    console.error(`test-oidc: keys now ${keys.map((k) => `${k.alg}:${k.kid}`).join(', ')}`);
    return { rotated, dropped, keys: keys.map(publicJwk) };
  });
  rotation = task.catch(() => {});
  return task;
}

async function testRoute(req, res, url) {
  if (url.pathname === '/_test/rotate') {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'use POST\n', { allow: 'POST' });
    return sendJson(res, 200, await rotate(url));
  }
  if (url.pathname === '/_test/keys') {
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'use GET\n', { allow: 'GET' });
    return sendJson(res, 200, { keys });
  }
  return sendJson(res, 404, { error: 'not_found' });
}

// ---------------------------------------------------------------------------
// http server

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname.startsWith('/_test/')) return await testRoute(req, res, url);
    if (url.pathname.startsWith('/interaction/')) return await interactionRoute(req, res, url);
    if (!current) return send(res, 503, 'text/plain', 'starting\n');
    return current.handler(req, res);
  } catch (err) {
    const status = err.status && err.status < 500 ? err.status : 500;
    if (status === 500) console.error('test-oidc: request failed', err);
    if (!res.headersSent) return sendJson(res, status, { error: status === 500 ? 'server_error' : 'invalid_request', error_description: err.message });
    res.destroy();
  }
});
server.keepAliveTimeout = 5000;

server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
server.listen(port, '127.0.0.1', async () => {
  const actualPort = server.address().port;
  issuer = `http://127.0.0.1:${actualPort}`;
  try {
    current = buildProvider();
  } catch (err) {
    fail(`invalid provider configuration: ${err.error_description || err.message}`);
  }
  // oidc-provider checks static client metadata on first use; check it now instead.
  for (const id of clientIds) {
    try {
      await current.provider.Client.find(id);
    } catch (err) {
      fail(`invalid client ${id}: ${err.error_description || err.message}`);
    }
  }
  process.stdout.write(`${JSON.stringify({ issuer, port: actualPort })}\n`);
  console.error(`test-oidc: ready at ${issuer} (clients ${[...clientIds].join(', ')}; users ${[...users.keys()].join(', ')}; `
    + `keys ${keys.map((k) => `${k.alg}:${k.kid}`).join(', ')})`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.error(`test-oidc: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 1000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (args['exit-with-stdin']) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

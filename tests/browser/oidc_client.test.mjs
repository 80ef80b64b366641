// gatehouse as the provider of a relying party nobody here wrote: the
// `openid-client` npm package (a certified relying party; the version
// web/package.json pins), which does discovery, builds the authorization
// request, checks the answer (state, iss of RFC 9207, PKCE), the ID token
// (signature against the JWKS, iss, aud, exp, iat, nonce) and then refresh
// and userinfo; then a second application signed in by the SSO cookie
// alone, its introspection and revocation, RP-initiated logout, and an
// account with TOTP (the form's code step; acr "2"). Chromium plays the
// user on the hosted pages; the applications are loopback HTTP servers that
// hand the test the URL the browser came back with.
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/oidc_client.test.mjs
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { launchChromium, repo, stopGatehouse } from './harness.mjs';
import { PASSWORD, addClient, discoveryReady, fillSignIn, register, startProvider } from './oidc.mjs';

// openid-client as web/package-lock.json pins it, in web/node_modules.
const client = await import(
  pathToFileURL(createRequire(join(repo, 'web/package.json')).resolve('openid-client')).href);

// Plain http on loopback: openid-client refuses it unless told.
const INSECURE = { execute: [client.allowInsecureRequests] };
const SCOPE = 'openid profile email offline_access';

let dir, gh, browser, context, app, other, user;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-oidc-client-'));
  gh = await startProvider(dir);
  // Two applications: "notes" (a public client, PKCE only) and "wiki" (a
  // confidential one), both first-party.
  app = await application();
  other = await application();
  Object.assign(app, await addClient(gh, 'notes', [`${app.origin}/callback`],
    ['--public', '--first-party', '--post-logout-redirect-uri', `${app.origin}/signed-out`]));
  Object.assign(other, await addClient(gh, 'wiki', [`${other.origin}/callback`], ['--first-party']));
  app.redirect = `${app.origin}/callback`;
  other.redirect = `${other.origin}/callback`;
  await discoveryReady(gh.base);
  user = await register(gh.base, 'alice', 'alice@example.com');
  browser = await launchChromium();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  for (const rp of [app, other]) rp?.server?.close();
  await stopGatehouse(gh?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// An application's address: a loopback HTTP server that answers every
// request with a short page and hands the URL it got to the test waiting
// for it (next()).
function application() {
  let waiting = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('back at the application');
    for (const w of waiting) w(url);
    waiting = [];
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({
    server,
    origin: `http://127.0.0.1:${server.address().port}`,
    next: () => new Promise((got) => waiting.push(got)),
  })));
}

// Opens url in the shared browser (its cookies are the user's sign-in),
// or in ctx, lets act() do what the pages ask, and resolves to the URL the
// provider finally sends the browser to at the application rp.
async function authorize(url, rp, act = async () => {}, ctx = context) {
  const page = await ctx.newPage();
  let landed;
  const back = rp.next().then((u) => { landed = u; });
  await page.goto(url.href);
  if (!landed) await act(page);
  // Only a hang is timed: a provider that never sends the browser back.
  let timer;
  const hung = new Promise((ok) => { timer = setTimeout(ok, 30000); });
  await Promise.race([back, hung]);
  clearTimeout(timer);
  if (!landed) {
    const text = (await page.textContent('body').catch(() => '')) ?? '';
    throw new Error(`never sent back to ${rp.origin}; at ${page.url()}: ${text.slice(0, 500)}`);
  }
  await page.close();
  return landed;
}

function authRequest(config, rp, extra = {}) {
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  return client.calculatePKCECodeChallenge(verifier).then((challenge) => ({
    state, nonce, verifier,
    url: client.buildAuthorizationUrl(config, {
      redirect_uri: rp.redirect, scope: SCOPE, state, nonce,
      code_challenge: challenge, code_challenge_method: 'S256', ...extra,
    }),
  }));
}

let config, tokens;

test('a public client: discovery, the sign-in form, code + PKCE, the ID token', async () => {
  config = await client.discovery(new URL(gh.base), app.id, undefined, client.None(), INSECURE);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, gh.base);
  assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
  assert.ok(meta.end_session_endpoint, 'discovery names the end-session endpoint');

  const req = await authRequest(config, app);
  const back = await authorize(req.url, app, (page) => fillSignIn(page, 'alice'));
  assert.equal(back.pathname, '/callback');
  assert.equal(back.searchParams.get('iss'), gh.base, 'RFC 9207: iss in the answer');

  tokens = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.sub, String(user.id));
  assert.equal(claims.aud, app.id);
  assert.equal(claims.nonce, req.nonce);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(claims.acr, '1', 'one factor: acr "1"');
  assert.equal(typeof claims.auth_time, 'number');
  assert.equal(typeof claims.sid, 'string');
  assert.equal(claims.preferred_username, 'alice');
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  assert.deepEqual(tokens.scope.split(' ').sort(), SCOPE.split(' ').sort());
});

test('userinfo with the access token; gatehouse\'s own endpoints refuse it', async () => {
  const info = await client.fetchUserInfo(config, tokens.access_token, String(user.id));
  assert.equal(info.sub, String(user.id));
  assert.equal(info.preferred_username, 'alice');
  assert.equal(info.email, 'alice@example.com');
  assert.equal(info.email_verified, false);

  const me = await fetch(`${gh.base}/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(me.status, 401, 'an OIDC access token is not a gatehouse token');
});

test('refresh: new tokens, the old refresh token refused', async () => {
  const first = tokens;
  tokens = await client.refreshTokenGrant(config, first.refresh_token);
  assert.notEqual(tokens.access_token, first.access_token);
  assert.ok(tokens.refresh_token && tokens.refresh_token !== first.refresh_token, 'rotated');
  if (tokens.id_token) assert.equal(tokens.claims().sub, String(user.id));
  const info = await client.fetchUserInfo(config, tokens.access_token, String(user.id));
  assert.equal(info.preferred_username, 'alice');

  await assert.rejects(client.refreshTokenGrant(config, first.refresh_token),
    (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
});

test('a second application signs in without the password (the SSO cookie)', async () => {
  const conf = await client.discovery(new URL(gh.base), other.id, other.secret, undefined, INSECURE);
  const req = await authRequest(conf, other, { scope: 'openid profile' });
  const back = await authorize(req.url, other, async (page) => {
    throw new Error(`the sign-in was asked again: ${page.url()}`);
  });
  const t = await client.authorizationCodeGrant(conf, back, {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce,
    idTokenExpected: true,
  });
  assert.equal(t.claims().sub, String(user.id));
  assert.equal(t.refresh_token, undefined, 'no offline_access, no refresh token');
  const cc = await client.clientCredentialsGrant(conf);
  assert.ok(cc.access_token);
  assert.equal(cc.id_token, undefined, 'client_credentials: no ID token');
});

test('introspection and revocation (RFC 7662, RFC 7009) by a confidential client', async () => {
  const conf = await client.discovery(new URL(gh.base), other.id, other.secret, undefined, INSECURE);
  const req = await authRequest(conf, other);
  const back = await authorize(req.url, other, async (page) => {
    throw new Error(`the sign-in was asked again: ${page.url()}`);
  });
  const t = await client.authorizationCodeGrant(conf, back, {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce,
  });
  const active = await client.tokenIntrospection(conf, t.access_token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, other.id);
  assert.equal(active.sub, String(user.id));

  await client.tokenRevocation(conf, t.refresh_token);
  await assert.rejects(client.refreshTokenGrant(conf, t.refresh_token),
    (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_grant');
  const gone = await client.tokenIntrospection(conf, t.refresh_token);
  assert.equal(gone.active, false);
});

test('RP-initiated logout ends the sign-in: prompt=none then answers login_required', async () => {
  const state = client.randomState();
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token ?? undefined,
    post_logout_redirect_uri: `${app.origin}/signed-out`, state,
  });
  const back = await authorize(url, app);
  assert.equal(back.pathname, '/signed-out');
  assert.equal(back.searchParams.get('state'), state);

  const req = await authRequest(config, app, { prompt: 'none' });
  const again = await authorize(req.url, app);
  assert.equal(again.searchParams.get('error'), 'login_required');
  assert.equal(again.searchParams.get('state'), req.state);
});

// RFC 6238 (SHA-1, 6 digits, 30 s) from the base32 secret, computed here.
function totp(secret, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '')) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[19] & 0xf;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1e6).padStart(6, '0');
}

async function api(path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${gh.base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

test('a second factor: the code step of the form, then acr "2" and amr pwd + otp', async () => {
  const bob = await register(gh.base, 'bob');
  const { access_token: token } = await api('/login', { username: 'bob', password: PASSWORD });
  const { secret } = await api('/me/mfa/totp', { password: PASSWORD }, token);
  // The step before now's: accepted at enrolment, and never now's code.
  await api('/me/mfa/totp/confirm', { code: totp(secret, Date.now() / 1000 - 30) }, token);

  const fresh = await browser.newContext();
  const req = await authRequest(config, app);
  const back = await authorize(req.url, app, async (page) => {
    await fillSignIn(page, 'bob');
    await page.waitForSelector('input[name=code]');
    await page.fill('input[name=code]', totp(secret));
    await page.press('input[name=code]', 'Enter');
  }, fresh);
  await fresh.close();
  const t = await client.authorizationCodeGrant(config, back, {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce,
    idTokenExpected: true,
  });
  const claims = t.claims();
  assert.equal(claims.sub, String(bob.id));
  assert.deepEqual(claims.amr, ['pwd', 'otp']);
  assert.equal(claims.acr, '2', 'two factors: acr "2"');
});

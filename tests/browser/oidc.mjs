// What the relying-party tests (oidc_client.test.mjs, apache.test.mjs)
// share: gatehouse started as an OpenID Connect provider (PUBLIC_URL set,
// its own RS256 key made beside the SQLite database), clients added with
// `gatehouse clients add` exactly as an operator would, an account, and the
// hosted sign-in form filled in Chromium.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { bin, startGatehouse } from './harness.mjs';

const run = promisify(execFile);

export const PASSWORD = 'correct horse battery staple 21';

// gatehouse on a free port as the provider: issuer = PUBLIC_URL = its own
// address. Resolves as startGatehouse does, plus the database URL the
// command line needs.
export async function startProvider(dir) {
  const db = join(dir, 'gh.db');
  // SESSION_COOKIES stays off: the sign-in pages of the provider sign the
  // browser in with the gatehouse_sso cookie alone. Plain HTTP on loopback
  // needs COOKIE_SECURE=0.
  const gh = await startGatehouse(db, (base) => ({
    PUBLIC_URL: base, COOKIE_SECURE: '0', LOG_LEVEL: 'warn',
  }));
  return { ...gh, databaseUrl: `sqlite:///${db}` };
}

// `gatehouse clients add NAME --redirect-uri U ... [flags]` against the
// provider's database; returns { id, secret } as the command printed them
// (secret undefined for a public client).
export async function addClient(gh, name, redirectUris, flags = []) {
  const args = ['clients', 'add', name];
  for (const u of redirectUris) args.push('--redirect-uri', u);
  const { stdout } = await run(bin, [...args, ...flags], {
    env: { ...process.env, DATABASE_URL: gh.databaseUrl },
  });
  const id = /^client_id: (\S+)$/m.exec(stdout)?.[1];
  const secret = /^client_secret: (\S+)$/m.exec(stdout)?.[1];
  assert.ok(id, `gatehouse clients add printed no client_id:\n${stdout}`);
  return { id, secret };
}

// Discovery answers 404 until a client is registered and the running
// server sees a client added on the command line within a second
// (API.md): waits for the 200, failing only if it never comes.
export async function discoveryReady(base, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await fetch(`${base}/.well-known/openid-configuration`);
    if (r.status === 200) return r.json();
    if (Date.now() > end) throw new Error(`discovery still answers ${r.status}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

export async function register(base, username, email) {
  const body = { username, password: PASSWORD };
  if (email) body.email = email;
  const r = await fetch(`${base}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `registering ${username}: ${text}`);
  return JSON.parse(text);
}

// The hosted sign-in form (API.md, "Public address and pages"): inputs
// username and password; Enter submits it as a user would.
export async function fillSignIn(page, username, password = PASSWORD) {
  await page.waitForSelector('input[name=password]');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.press('input[name=password]', 'Enter')]);
}

// The consent page's allow button (buttons named consent, allow|deny).
export async function allowConsent(page) {
  await page.waitForSelector('button[name=consent][value=allow]');
  await Promise.all([page.waitForNavigation(), page.click('button[name=consent][value=allow]')]);
}

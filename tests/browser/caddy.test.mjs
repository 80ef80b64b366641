// examples/caddy/Caddyfile in a real browser (Debian's Chromium, headless,
// driven by playwright-core): tests/deploy/caddy_stack.py starts Debian's
// Caddy with that file (forward_auth to gatehouse's /verify?rd=1) in front of
// gatehouse (examples/access-rules.json, PUBLIC_URL = Caddy's address) and an
// application that echoes the headers it gets. Checks that
//   - an unsigned browser opening a protected page is sent to gatehouse's
//     sign-in page, signs in there and lands back on the page it asked for,
//     path and query kept, which the application serves with its user;
//   - a sign-in whose rd names a host the rules do not name ends on the
//     account page, never on that host.
//
//   GATEHOUSE_BIN=build/gatehouse node --test tests/browser/caddy.test.mjs
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';

import { launchChromium, outDir, repo, watchedPage } from './harness.mjs';

let stack, urls, browser;

function startStack() {
  return new Promise((ok, fail) => {
    stack = spawn('/usr/bin/python3', [join(repo, 'tests/deploy/caddy_stack.py')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    stack.once('exit', (code) => fail(new Error(`caddy_stack.py exited with ${code}`)));
    createInterface({ input: stack.stdout }).once('line', (line) => ok(JSON.parse(line)));
  });
}

async function register(username, password) {
  const r = await fetch(`${urls.gatehouse}/register`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(r.status, 200, `registering ${username}`);
  return r.json();
}

async function signIn(page, user) {
  await page.locator('#username').fill(user.username);
  await page.locator('#password').fill(user.password);
  await page.locator('form button[type=submit]').first().click();
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  urls = await startStack();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  if (stack && stack.exitCode === null) {
    const done = new Promise((r) => stack.once('exit', r));
    stack.stdin.end();
    assert.equal(await done, 0, 'caddy_stack.py: gatehouse did not stop cleanly');
  }
});

test('unsigned → the sign-in page → back on the original URL, signed in', async () => {
  const user = { username: 'caddy-signin', password: 'a long caddy passphrase' };
  const { id } = await register(user.username, user.password);
  const origin = new URL(urls.base).host;
  const { context, page, problems } = await watchedPage(browser, origin, { viewport: { width: 1280, height: 900 } });
  try {
    const wanted = `${urls.base}/app/reports/2026?tab=q1&sort=desc`;
    await page.goto(wanted);
    const signin = new URL(page.url());
    assert.equal(`${signin.origin}${signin.pathname}`, `${urls.base}/signin`);
    assert.equal(signin.searchParams.get('rd'), wanted);
    await page.screenshot({ path: join(outDir, 'caddy-signin.png') });

    await signIn(page, user);
    await page.waitForURL(wanted);
    const seen = JSON.parse(await page.locator('body').textContent());
    assert.equal(seen.path, '/app/reports/2026?tab=q1&sort=desc');
    const headers = Object.fromEntries(seen.headers.map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(headers['x-auth-username'], user.username);
    assert.equal(headers['x-auth-user-id'], String(id));
    await page.screenshot({ path: join(outDir, 'caddy-back.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a sign-in whose rd names another host ends on the account page', async () => {
  const user = { username: 'caddy-rd', password: 'one more long passphrase' };
  await register(user.username, user.password);
  const origin = new URL(urls.base).host;
  const { context, page, problems } = await watchedPage(browser, origin);
  try {
    for (const rd of ['http://evil.example/steal', 'https://status.example.com.evil.example/',
      '//evil.example/x', 'javascript:alert(1)']) {
      await context.clearCookies();
      await page.goto(`${urls.base}/signin?rd=${encodeURIComponent(rd)}`);
      await signIn(page, user);
      await page.waitForURL(`${urls.base}/account`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
